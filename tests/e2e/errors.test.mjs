// Errors: gateway-made (bad JSON, unknown model, oversize body, unknown route) and upstream
// ones (status kept, OpenAI error shape; a dead upstream gives 5xx without leaking its key).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { deployment, errorOf, freePort, SLOW, startStack, waitFor } from './lib/harness.mjs';
import { assertSchema } from './lib/schema.mjs';

const DEAD_KEY = 'sk-dead-upstream-key-must-not-leak-9f8e7d';
let s;
let client;
before(async () => {
  const deadPort = await freePort(); // nothing listens there
  s = await startStack({
    config: (ctx) => ({
      model_list: [
        deployment(ctx, 'gpt-4o-mini', 'mock-gpt-4o-mini', { model_info: { id: 'dep-mini' } }),
        deployment(ctx, 'err-429', 'mock-429'),
        deployment(ctx, 'err-400', 'mock-400'),
        deployment(ctx, 'err-500', 'mock-500'),
        deployment(ctx, 'slow-model', 'mock-slow', { litellm_params: { timeout: 1 } }),
        deployment(ctx, 'dead-model', 'dead-upstream-model', {
          litellm_params: { api_base: `http://127.0.0.1:${deadPort}/v1`, api_key: DEAD_KEY },
          model_info: { id: 'dep-dead' },
        }),
      ],
      litellm_settings: { num_retries: 0 },
      router_settings: { num_retries: 0, disable_cooldowns: true },
      general_settings: { master_key: ctx.masterKey, max_request_size_mb: 0.05 },
    }),
  });
  client = s.openai();
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 15000 * SLOW };
const messages = [{ role: 'user', content: 'hi' }];

test('body that is not JSON: 400 in the error envelope', T, async () => {
  const r = await s.post('/v1/chat/completions', '{"model": "gpt-4o-mini", "messages": [');
  assert.equal(r.status, 400, r.text);
  assert.match(r.headers['content-type'] || '', /application\/json/);
  errorOf(r);
});

test('unknown model: 400 with LiteLLM\'s "Invalid model name passed in model=" message', T, async () => {
  const r = await s.post('/v1/chat/completions', { model: 'no-such-model', messages });
  assert.equal(r.status, 400, r.text);
  const e = errorOf(r);
  assert.match(e.message, /Invalid model name passed in model=no-such-model/);
  assert.equal(e.code, '400');
  // and the openai client maps it to BadRequestError
  await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages }), (err) => {
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.status, 400);
    return true;
  });
});

test('unknown model on embeddings: 400 too', T, async () => {
  const r = await s.post('/v1/embeddings', { model: 'no-such-embedder', input: 'x' });
  assert.equal(r.status, 400, r.text);
  assert.match(errorOf(r).message, /Invalid model name passed in model=no-such-embedder/);
});

test('body over max_request_size_mb: 413', T, async () => {
  const big = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(120 * 1024) }] });
  const r = await s.post('/v1/chat/completions', big);
  assert.equal(r.status, 413, r.text.slice(0, 300));
  if (r.json) errorOf(r);
  // a body under the limit is fine
  const ok = await s.post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(20 * 1024) }] });
  assert.equal(ok.status, 200, ok.text);
});

test('unknown route: 404 with a JSON body', T, async () => {
  for (const p of ['/v1/nope', '/does/not/exist']) {
    const r = await s.request(p);
    assert.equal(r.status, 404, `${p}: ${r.text}`);
    assert.notEqual(r.json, undefined, `${p}: body is not JSON: ${r.text}`);
  }
});

test('upstream 429 keeps its status in OpenAI\'s error shape', T, async () => {
  const r = await s.post('/v1/chat/completions', { model: 'err-429', messages, mock: { status: 429 } });
  assert.equal(r.status, 429, r.text);
  const e = errorOf(r);
  assert.equal(typeof e.type, 'string');
  await assert.rejects(client.chat.completions.create({ model: 'err-429', messages, mock: { status: 429 } }), (err) => {
    assert.ok(err instanceof OpenAI.RateLimitError, String(err));
    return true;
  });
});

test('upstream 400 keeps its status', T, async () => {
  const r = await s.post('/v1/chat/completions', { model: 'err-400', messages, mock: { status: 400 } });
  assert.equal(r.status, 400, r.text);
  errorOf(r);
});

test('upstream 500 keeps a 5xx status (no retries configured)', T, async () => {
  const r = await s.post('/v1/chat/completions', { model: 'err-500', messages, mock: { status: 500, id: 'e500' } });
  assert.ok(r.status >= 500 && r.status < 600, `${r.status} ${r.text}`);
  errorOf(r);
  assert.equal((await s.mockStats()).by_id.e500.requests, 1);
});

test('upstream error while streaming (before any byte): status kept', T, async () => {
  const r = await s.post('/v1/chat/completions', { model: 'err-429', messages, stream: true, mock: { status: 429 } });
  assert.equal(r.status, 429, r.text);
  errorOf(r);
});

test('upstream refusing connections: 5xx naming the model, never the api_key', T, async () => {
  const r = await s.post('/v1/chat/completions', { model: 'dead-model', messages });
  assert.ok(r.status >= 500 && r.status < 600, `${r.status} ${r.text}`);
  const e = errorOf(r);
  assert.ok(
    ['dead-model', 'dead-upstream-model', 'dep-dead'].some((n) => e.message.includes(n)),
    `message does not name the deployment: ${e.message}`,
  );
  assert.ok(!r.text.includes(DEAD_KEY), `the response leaks the api_key: ${r.text}`);
  assert.ok(!JSON.stringify(r.headers).includes(DEAD_KEY), 'a header leaks the api_key');
});

test('an upstream slower than litellm_params.timeout: an error after ~1 s, upstream call cancelled', T, async () => {
  const t0 = Date.now();
  const r = await s.post('/v1/chat/completions', { model: 'slow-model', messages, mock: { 'latency-ms': 5000, id: 'slow-1' } });
  const took = Date.now() - t0;
  assert.ok(r.status >= 400, `${r.status} ${r.text}`);
  errorOf(r);
  assert.ok(took >= 900 && took < 4000 * SLOW, `answered after ${took} ms with timeout: 1`);
  await waitFor(async () => (await s.mockStats()).by_id['slow-1']?.aborted === 1, {
    timeout: 1000 * SLOW,
    what: 'the timed-out upstream call to be cancelled',
  });
});

test('a timeout is 408, as LiteLLM maps its Timeout error', T, async () => {
  const r = await s.post('/v1/chat/completions', { model: 'slow-model', messages, mock: { 'latency-ms': 5000 } });
  assert.equal(r.status, 408, r.text);
  assert.equal(errorOf(r).code, '408');
});

test('error bodies match OpenAI\'s ErrorResponse schema', T, async () => {
  const r1 = await s.post('/v1/chat/completions', { model: 'no-such-model', messages });
  assertSchema('ErrorResponse', r1.json, 'unknown-model error');
  const r2 = await s.post('/v1/chat/completions', { model: 'err-429', messages, mock: { status: 429 } });
  assertSchema('ErrorResponse', r2.json, 'upstream 429 error');
});

test('secrets stay out of sluice\'s log', T, async () => {
  // by now every request above has been logged; neither key may appear
  assert.ok(!s.sluice.stderr.includes(DEAD_KEY), 'the log contains an upstream api_key');
  assert.ok(!s.sluice.stderr.includes(s.masterKey), 'the log contains the master key');
});

test('sluice still serves normally after all those errors', T, async () => {
  const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
  assert.equal(r.choices[0].finish_reason, 'stop');
});
