// Virtual keys end to end on the embedded SQLite store: keys made through /key/generate work
// with the official openai and Anthropic clients, carry LiteLLM's key headers and the response
// cost, are refused as LiteLLM refuses them (unknown, blocked, deleted, expired, wrong model,
// over budget), and every call lands as a LiteLLM_SpendLogs row with the key's spend updated.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { deployment, errorOf, headerOf, sleep, SLOW, startStack, waitFor } from './lib/harness.mjs';

const IN_PRICE = 0.001;
const OUT_PRICE = 0.002;

let s;
before(async () => {
  s = await startStack({
    config: (ctx) => ({
      model_list: [
        deployment(ctx, 'gpt-4o-mini', 'mock-gpt-4o-mini', {
          model_info: { id: 'dep-mini', input_cost_per_token: IN_PRICE, output_cost_per_token: OUT_PRICE },
        }),
        deployment(ctx, 'gpt-4o', 'mock-gpt-4o', { model_info: { id: 'dep-4o', access_groups: ['beta-models'] } }),
        deployment(ctx, 'claude-via-openai', 'mock-claude', {
          model_info: { id: 'dep-claude', input_cost_per_token: IN_PRICE, output_cost_per_token: OUT_PRICE },
        }),
      ],
      litellm_settings: { num_retries: 0 },
      general_settings: { master_key: ctx.masterKey, proxy_batch_write_at: 0.2 },
    }),
  });
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 20000 * SLOW };
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] };

async function generate(body = {}) {
  const r = await s.post('/key/generate', body);
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.key, /^sk-[A-Za-z0-9_-]{22}$/);
  return r.json;
}

function client(key) {
  return new OpenAI({ apiKey: key, baseURL: `${s.url}/v1`, maxRetries: 0, timeout: 20000 * SLOW });
}

test('a generated key calls chat with the openai client and gets the key headers', T, async () => {
  const k = await generate({ key_alias: 'e2e-basic' });
  const { data, response } = await client(k.key).chat.completions.create(chat).withResponse();
  assert.ok(data.choices[0].message.content);
  assert.equal(response.headers.get('x-litellm-key-rpm-limit'), 'None');
  assert.equal(response.headers.get('x-litellm-key-tpm-limit'), 'None');
  assert.equal(response.headers.get('x-litellm-key-max-budget'), 'None');
  assert.ok(response.headers.get('x-litellm-key-spend') !== null);
  const cost = Number(response.headers.get('x-litellm-response-cost'));
  const u = data.usage;
  const want = u.prompt_tokens * IN_PRICE + u.completion_tokens * OUT_PRICE;
  assert.ok(Math.abs(cost - want) < 1e-12, `cost ${cost} want ${want}`);
});

test('streams and embeddings work with a virtual key', T, async () => {
  const k = await generate();
  const stream = await client(k.key).chat.completions.create({ ...chat, stream: true });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta?.content || '';
  assert.ok(text.length > 0);
});

test('unknown, malformed and raw-hash keys get 401 auth_error', T, async () => {
  for (const key of ['sk-doesnotexist000000000', 'a'.repeat(64)]) {
    const r = await s.post('/v1/chat/completions', chat, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(r.status, 401, r.text);
    assert.equal(errorOf(r).type, 'auth_error');
  }
  await assert.rejects(client('sk-unknown-key-123456').chat.completions.create(chat), OpenAI.AuthenticationError);
});

test('models allowlist: 403 key_model_access_denied for other models, /v1/models filtered', T, async () => {
  const k = await generate({ models: ['gpt-4o-mini'] });
  const c = client(k.key);
  await c.chat.completions.create(chat);
  await assert.rejects(c.chat.completions.create({ ...chat, model: 'gpt-4o' }), (err) => {
    assert.ok(err instanceof OpenAI.PermissionDeniedError, String(err));
    assert.equal(err.error.type, 'key_model_access_denied');
    assert.match(err.error.message, /key not allowed to access model/);
    return true;
  });
  const list = await c.models.list();
  assert.deepEqual(list.data.map((m) => m.id), ['gpt-4o-mini']);
});

test('access groups: a key whose models name a group may call that group\'s models only', T, async () => {
  const k = await generate({ models: ['beta-models'] });
  const c = client(k.key);
  await c.chat.completions.create({ ...chat, model: 'gpt-4o' });
  await assert.rejects(c.chat.completions.create(chat), OpenAI.PermissionDeniedError);
  assert.deepEqual((await c.models.list()).data.map((m) => m.id), ['gpt-4o']);
});

test('blocked, unblocked and deleted keys take effect at once', T, async () => {
  const k = await generate();
  const c = client(k.key);
  await c.chat.completions.create(chat);
  assert.equal((await s.post('/key/block', { key: k.key })).status, 200);
  const r = await s.post('/v1/chat/completions', chat, { headers: { authorization: `Bearer ${k.key}` } });
  assert.equal(r.status, 401, r.text);
  assert.match(errorOf(r).message, /Key is blocked/);
  assert.equal((await s.post('/key/unblock', { key: k.key })).status, 200);
  await c.chat.completions.create(chat);
  assert.equal((await s.post('/key/delete', { keys: [k.key] })).status, 200);
  await assert.rejects(c.chat.completions.create(chat), OpenAI.AuthenticationError);
});

test('an expired key gets 401 expired_key', T, async () => {
  const k = await generate({ duration: '1s' });
  await sleep(2100); // expiry is checked in whole seconds
  const r = await s.post('/v1/chat/completions', chat, { headers: { authorization: `Bearer ${k.key}` } });
  assert.equal(r.status, 401, r.text);
  assert.equal(errorOf(r).type, 'expired_key');
});

test('max_budget: the call that crosses it succeeds, the next gets 429 budget_exceeded', T, async () => {
  const k = await generate({ max_budget: 0.000001 });
  const c = client(k.key);
  await c.chat.completions.create(chat);
  await assert.rejects(c.chat.completions.create(chat), (err) => {
    assert.ok(err instanceof OpenAI.RateLimitError, String(err));
    assert.equal(err.error.type, 'budget_exceeded');
    assert.match(err.error.message, /Budget has been exceeded!/);
    return true;
  });
});

test('the Anthropic client works with a virtual key; a bad key gets Anthropic\'s envelope', T, async () => {
  const k = await generate();
  const a = new Anthropic({ apiKey: k.key, baseURL: s.url, maxRetries: 0 });
  const msg = await a.messages.create({
    model: 'claude-via-openai',
    max_tokens: 50,
    messages: [{ role: 'user', content: 'hi' }],
  });
  assert.equal(msg.type, 'message');
  const bad = new Anthropic({ apiKey: 'sk-nope-nope-nope-nope', baseURL: s.url, maxRetries: 0 });
  await assert.rejects(
    bad.messages.create({ model: 'claude-via-openai', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    (err) => {
      assert.ok(err instanceof Anthropic.AuthenticationError, String(err));
      assert.equal(err.error.type, 'error');
      return true;
    },
  );
});

test('every call becomes a SpendLogs row and the key spend grows', T, async () => {
  const k = await generate({ user_id: 'e2e-user' });
  const c = client(k.key);
  let total = 0;
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const { data, response } = await c.chat.completions.create(chat).withResponse();
    total += Number(response.headers.get('x-litellm-response-cost'));
    ids.push(response.headers.get('x-litellm-call-id'));
    assert.ok(data.id);
  }
  const logs = await waitFor(async () => {
    const r = await s.request(`/spend/logs?api_key=${k.token}`);
    return r.status === 200 && Array.isArray(r.json) && r.json.length === 3 ? r.json : null;
  }, { timeout: 5000 * SLOW, what: 'three spend log rows' });
  assert.deepEqual(logs.map((l) => l.request_id).sort(), ids.sort());
  for (const l of logs) {
    assert.equal(l.api_key, k.token);
    assert.equal(l.user, 'e2e-user');
    assert.equal(l.model_group, 'gpt-4o-mini');
    assert.equal(l.status, 'success');
    assert.ok(l.prompt_tokens > 0);
  }
  const spent = logs.reduce((a, l) => a + l.spend, 0);
  assert.ok(Math.abs(spent - total) < 1e-9, `${spent} vs ${total}`);
  const info = await waitFor(async () => {
    const r = await s.request(`/key/info?key=${k.key}`);
    return r.status === 200 && Math.abs(r.json.info.spend - total) < 1e-9 ? r.json : null;
  }, { timeout: 5000 * SLOW, what: 'key spend in /key/info' });
  assert.equal(info.info.user_id, 'e2e-user');
  const head = await s.post('/v1/chat/completions', chat, { headers: { authorization: `Bearer ${k.key}` } });
  assert.ok(Number(headerOf(head.headers, 'x-litellm-key-spend')) >= total - 1e-12);
});

test('management routes need the master key', T, async () => {
  const k = await generate();
  const r = await s.post('/key/generate', {}, { headers: { authorization: `Bearer ${k.key}` } });
  assert.equal(r.status, 401, r.text);
  const r2 = await s.request('/key/list', { auth: false });
  assert.equal(r2.status, 401, r2.text);
});
