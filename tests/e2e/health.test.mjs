// Health routes: answered without a key, LiteLLM's bodies.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SLOW, startStack } from './lib/harness.mjs';

let s;
before(async () => {
  s = await startStack();
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

for (const route of ['/health/liveliness', '/health/liveness']) {
  test(`GET ${route} answers "I'm alive!" as a JSON string, without a key`, { timeout: 10000 * SLOW }, async () => {
    const r = await s.request(route, { auth: false });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers['content-type'] || '', /application\/json/);
    assert.equal(r.json, "I'm alive!", `body was ${JSON.stringify(r.text)}`);
  });
}

test('GET /health/liveliness with a wrong key still answers (public route)', { timeout: 10000 * SLOW }, async () => {
  const r = await s.request('/health/liveliness', { headers: { authorization: 'Bearer sk-wrong' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json, "I'm alive!");
});

test('GET /health/readiness answers a JSON object with a status, without a key', { timeout: 10000 * SLOW }, async () => {
  const r = await s.request('/health/readiness', { auth: false });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'] || '', /application\/json/);
  assert.equal(typeof r.json, 'object', r.text);
  assert.ok(r.json && !Array.isArray(r.json), r.text);
  assert.equal(typeof r.json.status, 'string', `readiness body has no string "status": ${r.text}`);
  assert.equal(r.json.cache, null, 'no response cache configured: "cache": null, as LiteLLM');
});

test('liveness stays fast while upstream requests are slow', { timeout: 15000 * SLOW }, async () => {
  // a slow provider call in flight must not slow the liveness answer
  const client = s.openai();
  const slow = client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'slow' }],
    mock: { 'latency-ms': 1500 },
  });
  const t0 = Date.now();
  const r = await s.request('/health/liveliness', { auth: false });
  const took = Date.now() - t0;
  assert.equal(r.status, 200);
  assert.ok(took < 500 * SLOW, `liveliness took ${took} ms while a slow request was in flight`);
  const done = await slow;
  assert.equal(done.choices[0].finish_reason, 'stop');
});
