// Wildcard model groups: "mock/*" fills the deployment's "openai/*"; a catch-all "*" takes the
// provider and its credentials from the client's "provider/model" and the environment.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SLOW, startStack, UPSTREAM_KEY } from './lib/harness.mjs';

let s;
before(async () => {
  s = await startStack({
    env: (ctx) => ({ OPENAI_API_BASE: ctx.mockBase, OPENAI_API_KEY: 'sk-from-env', GROQ_API_BASE: ctx.mockBase, GROQ_API_KEY: 'gsk-from-env' }),
    config: (ctx) => ({
      model_list: [
        { model_name: 'exact-model', litellm_params: { model: 'openai/the-exact-one', api_base: ctx.mockBase, api_key: UPSTREAM_KEY } },
        { model_name: 'mock/*', litellm_params: { model: 'openai/*', api_base: ctx.mockBase, api_key: UPSTREAM_KEY }, model_info: { id: 'dep-mock-star' } },
        { model_name: 'team-*-fast', litellm_params: { model: 'openai/fast-*', api_base: ctx.mockBase, api_key: UPSTREAM_KEY } },
        { model_name: '*', litellm_params: { model: '*' }, model_info: { id: 'dep-catch-all' } },
      ],
      litellm_settings: { num_retries: 0 },
      general_settings: { master_key: ctx.masterKey },
    }),
  });
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 15000 * SLOW };
const messages = [{ role: 'user', content: 'hi' }];

async function call(model) {
  const { data, response } = await s.openai().chat.completions.create({ model, messages }).withResponse();
  const stats = await s.mockStats();
  return { model: data.model, id: response.headers.get('x-litellm-model-id'), group: response.headers.get('x-litellm-model-group'), auth: stats.last_request.headers.authorization };
}

test('provider/* pattern: the star is carried into the upstream model', T, async () => {
  const r = await call('mock/gpt-something');
  assert.equal(r.model, 'gpt-something');
  assert.equal(r.id, 'dep-mock-star');
  assert.equal(r.group, 'mock/gpt-something');
  assert.equal(r.auth, `Bearer ${UPSTREAM_KEY}`);
});

test('a star in the middle of a pattern', T, async () => {
  const r = await call('team-blue-fast');
  assert.equal(r.model, 'fast-blue');
});

test('exact names win over the catch-all', T, async () => {
  const r = await call('exact-model');
  assert.equal(r.model, 'the-exact-one');
});

test('catch-all "*": provider and key from the environment', T, async () => {
  let r = await call('groq/llama-x');
  assert.equal(r.model, 'llama-x');
  assert.equal(r.id, 'dep-catch-all');
  assert.equal(r.auth, 'Bearer gsk-from-env');
  r = await call('plain-name');
  assert.equal(r.model, 'plain-name');
  assert.equal(r.auth, 'Bearer sk-from-env');
});

test('wildcard groups are not listed in /v1/models', T, async () => {
  const ids = [];
  for await (const m of s.openai().models.list()) ids.push(m.id);
  assert.deepEqual(ids, ['exact-model']);
});
