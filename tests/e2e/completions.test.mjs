// Legacy text completions (/v1/completions and /completions).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SLOW, startStack } from './lib/harness.mjs';
import { assertSchema } from './lib/schema.mjs';

let s;
let client;
before(async () => {
  s = await startStack();
  client = s.openai();
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 15000 * SLOW };

test('text completion via the openai client', T, async () => {
  const { data: r, response } = await client.completions
    .create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say this is a test', mock: { tokens: 4 } })
    .withResponse();
  assert.equal(r.object, 'text_completion');
  assert.equal(r.model, 'gpt-3.5-turbo-instruct');
  assert.equal(r.choices.length, 1);
  assert.equal(typeof r.choices[0].text, 'string');
  assert.ok(r.choices[0].text.length > 0);
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.usage.completion_tokens, 4);
  assert.equal(response.headers.get('x-litellm-model-id'), 'dep-instruct');
  assert.equal(response.headers.get('x-litellm-model-group'), 'gpt-3.5-turbo-instruct');
});

test('text completion reaches the provider\'s /completions route', T, async () => {
  await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'x', mock: { id: 'cmpl-path' } });
  const st = await s.mockStats();
  assert.equal(st.by_id['cmpl-path'].requests, 1);
  assert.match(st.last_request.path, /\/completions$/);
  assert.doesNotMatch(st.last_request.path, /chat/);
});

test('/completions (no /v1) answers the same shape, matching OpenAI\'s schema', T, async () => {
  const r = await s.post('/completions', { model: 'gpt-3.5-turbo-instruct', prompt: ['a', 'b'].join(' ') });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.object, 'text_completion');
  assertSchema('CreateCompletionResponse', r.json);
});
