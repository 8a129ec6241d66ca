// Authentication with the master key: every header LiteLLM reads it from; 401 otherwise, with
// LiteLLM's body. The master key may also come from LITELLM_MASTER_KEY.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { defaultConfig, errorOf, headerOf, SLOW, startStack, withStack } from './lib/harness.mjs';

let s;
before(async () => {
  s = await startStack();
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 15000 * SLOW };
const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

function assertAuthError(r) {
  assert.equal(r.status, 401, r.text);
  const e = errorOf(r);
  assert.equal(e.type, 'auth_error');
  assert.equal(e.code, '401');
  assert.equal(e.param, 'None');
}

test('no key: 401 auth_error', T, async () => {
  assertAuthError(await s.post('/v1/chat/completions', body, { auth: false }));
});

test('wrong key: 401 auth_error', T, async () => {
  assertAuthError(await s.post('/v1/chat/completions', body, { headers: { authorization: 'Bearer sk-not-the-key' } }));
  assertAuthError(await s.post('/v1/chat/completions', body, { headers: { authorization: `Bearer ${s.masterKey}x` } }));
  assertAuthError(await s.post('/v1/chat/completions', body, { headers: { authorization: s.masterKey.slice(0, -1) } }));
});

test('the openai client with a wrong key gets AuthenticationError', T, async () => {
  const c = s.openai({ apiKey: 'sk-wrong' });
  await assert.rejects(c.chat.completions.create(body), (err) => {
    assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
    return true;
  });
});

for (const [name, value] of [
  ['authorization', (k) => `Bearer ${k}`],
  ['x-api-key', (k) => k],
  ['api-key', (k) => k],
  ['x-litellm-api-key', (k) => k],
  ['x-litellm-api-key', (k) => `Bearer ${k}`],
]) {
  test(`master key in ${name}: ${value('KEY')}`, T, async () => {
    const r = await s.post('/v1/chat/completions', body, { auth: false, headers: { [name]: value(s.masterKey) } });
    assert.equal(r.status, 200, r.text);
  });
}

test('header names are case-insensitive', T, async () => {
  const r = await s.post('/v1/chat/completions', body, { auth: false, headers: { AUTHORIZATION: `Bearer ${s.masterKey}` } });
  assert.equal(r.status, 200, r.text);
  const r2 = await s.post('/v1/chat/completions', body, { auth: false, headers: { 'X-Api-Key': s.masterKey } });
  assert.equal(r2.status, 200, r2.text);
});

test('embeddings and completions need a key too', T, async () => {
  assertAuthError(await s.post('/v1/embeddings', { model: 'text-embedding-3-small', input: 'x' }, { auth: false }));
  assertAuthError(await s.post('/v1/completions', { model: 'gpt-3.5-turbo-instruct', prompt: 'x' }, { auth: false }));
});

test('master key from LITELLM_MASTER_KEY when the config has none', { timeout: 30000 * SLOW }, async () => {
  const envKey = 'sk-from-env-4242';
  await withStack({
    config: (ctx) => {
      const c = defaultConfig(ctx);
      delete c.general_settings;
      return c;
    },
    env: { LITELLM_MASTER_KEY: envKey },
    workers: 1,
  }, async (s2) => {
    assertAuthError(await s2.post('/v1/chat/completions', body, { headers: { authorization: `Bearer ${s.masterKey}` } }));
    const r = await s2.post('/v1/chat/completions', body, { headers: { authorization: `Bearer ${envKey}` } });
    assert.equal(r.status, 200, r.text);
  });
});

test('os.environ/ references resolve in litellm_params and general_settings', { timeout: 30000 * SLOW }, async () => {
  await withStack({
    config: `model_list:
  - model_name: env-model
    litellm_params:
      model: openai/env-upstream
      api_base: os.environ/E2E_MOCK_BASE
      api_key: os.environ/E2E_UPSTREAM_KEY
general_settings:
  master_key: os.environ/E2E_MASTER
`,
    env: (ctx) => ({ E2E_MASTER: 'sk-master-via-env-ref', E2E_UPSTREAM_KEY: 'sk-upstream-via-env-ref', E2E_MOCK_BASE: ctx.mockBase }),
    workers: 1,
  }, async (s2) => {
    const r = await s2.post('/v1/chat/completions', { ...body, model: 'env-model', mock: { id: 'envref' } }, {
      headers: { authorization: 'Bearer sk-master-via-env-ref' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.model, 'env-upstream');
    const st = await s2.mockStats();
    assert.equal(st.by_id.envref.requests, 1);
    assert.equal(headerOf(st.last_request.headers, 'authorization'), 'Bearer sk-upstream-via-env-ref');
  });
});
