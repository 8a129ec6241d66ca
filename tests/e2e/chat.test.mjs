// Chat completions (JSON) through the official openai client: content, usage, the model
// rewrite, x-litellm-* headers, the byte-for-byte body pass-through, tool calls.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { headerOf, SLOW, startStack, UPSTREAM_KEY } from './lib/harness.mjs';
import { assertSchema } from './lib/schema.mjs';

let s;
let client;
before(async () => {
  s = await startStack();
  client = s.openai();
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 15000 * SLOW };
const messages = [{ role: 'user', content: 'Say hello' }];

test('chat completion: content, usage, finish_reason; model is the deployment\'s upstream name', T, async () => {
  const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, mock: { tokens: 5 } });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'mock-gpt-4o-mini', 'the mock echoes the model sluice sent upstream');
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.equal(c.index, 0);
  assert.equal(c.finish_reason, 'stop');
  assert.equal(c.message.role, 'assistant');
  assert.equal(typeof c.message.content, 'string');
  assert.ok(c.message.content.length > 0);
  assert.equal(r.usage.completion_tokens, 5);
  assert.ok(r.usage.prompt_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

test('chat completion response matches OpenAI\'s CreateChatCompletionResponse schema', T, async () => {
  const r = await s.post('/v1/chat/completions', { model: 'gpt-4o-mini', messages });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'] || '', /application\/json/);
  assertSchema('CreateChatCompletionResponse', r.json);
});

test('each model group goes to its own deployment', T, async () => {
  const r = await client.chat.completions.create({ model: 'gpt-4o', messages });
  assert.equal(r.model, 'mock-gpt-4o');
});

test('x-litellm-* response headers are present', T, async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'gpt-4o-mini', messages })
    .withResponse();
  assert.equal(data.choices[0].finish_reason, 'stop');
  const h = (n) => response.headers.get(n);
  assert.ok(h('x-litellm-call-id'), 'x-litellm-call-id');
  assert.equal(h('x-litellm-model-id'), 'dep-mini');
  assert.equal(h('x-litellm-model-group'), 'gpt-4o-mini');
  for (const n of ['x-litellm-overhead-duration-ms', 'x-litellm-response-duration-ms']) {
    assert.ok(h(n) !== null, `${n} missing`);
    assert.ok(Number.isFinite(Number(h(n))) && Number(h(n)) >= 0, `${n}: ${h(n)}`);
  }
  // a call id per request
  const again = await client.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
  assert.notEqual(again.response.headers.get('x-litellm-call-id'), h('x-litellm-call-id'));
});

test('upstream sees the deployment\'s api_key, not the client\'s master key', T, async () => {
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages, mock: { id: 'auth-upstream' } });
  const st = await s.mockStats();
  assert.equal(st.by_id['auth-upstream'].requests, 1);
  const auth = headerOf(st.last_request.headers, 'authorization');
  assert.equal(auth, `Bearer ${UPSTREAM_KEY}`);
  assert.match(st.last_request.path, /\/chat\/completions$/);
});

test('the body reaches the provider byte for byte except the model value', T, async () => {
  // odd spacing, key order, unicode escapes, unknown members and big integers must survive
  const sent =
    '{ "messages" : [ {"role":"user","content":"h\\u00e9llo \\"q\\" \u00e9\\n"} ],\n' +
    '  "seed": 12345678901234567890, "temperature":0.50, "x_custom": {"a":[1,2,{"b":null}]},\n' +
    '  "model" :  "gpt-4o-mini" , "mock": {"id": "bytes-1"}, "user": "u1"}';
  const r = await s.post('/v1/chat/completions', sent);
  assert.equal(r.status, 200, r.text);
  const st = await s.mockStats();
  assert.equal(st.by_id['bytes-1'].requests, 1);
  const got = st.last_request.body;
  const want = sent.replace('"gpt-4o-mini"', '"mock-gpt-4o-mini"');
  if (typeof got === 'string') assert.equal(got, want);
  else assert.deepEqual(got, JSON.parse(want)); // the mock reports bodies parsed
});

test('/chat/completions (no /v1) works too', T, async () => {
  const r = await s.post('/chat/completions', { model: 'gpt-4o-mini', messages });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.object, 'chat.completion');
  assert.equal(r.json.model, 'mock-gpt-4o-mini');
});

const tools = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
  { type: 'function', function: { name: 'other_tool', parameters: { type: 'object', properties: {} } } },
];

test('tool call (JSON): finish_reason tool_calls, call to the first tool', T, async () => {
  const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools });
  const c = r.choices[0];
  assert.equal(c.finish_reason, 'tool_calls');
  assert.equal(c.message.role, 'assistant');
  assert.equal(c.message.tool_calls.length, 1);
  const call = c.message.tool_calls[0];
  assert.match(call.id, /^call_/);
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), {});
});

test('tool_choice "none" gives a plain answer', T, async () => {
  const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools, tool_choice: 'none' });
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(!r.choices[0].message.tool_calls?.length);
});

test('concurrent requests all succeed with their own answers', T, async () => {
  const ids = Array.from({ length: 16 }, (_, i) => `conc-${i}`);
  const rs = await Promise.all(
    ids.map((id, i) =>
      client.chat.completions.create({
        model: i % 2 ? 'gpt-4o' : 'gpt-4o-mini',
        messages,
        mock: { id, tokens: 3 + (i % 4), 'latency-ms': 50 },
      }),
    ),
  );
  rs.forEach((r, i) => {
    assert.equal(r.model, i % 2 ? 'mock-gpt-4o' : 'mock-gpt-4o-mini');
    assert.equal(r.usage.completion_tokens, 3 + (i % 4));
  });
  const st = await s.mockStats();
  for (const id of ids) assert.equal(st.by_id[id]?.requests, 1, id);
});

test('a 2 MB request body is forwarded whole', T, async () => {
  const content = 'lorem ipsum '.repeat(175000); // ~2.1 MB
  const r = await s.post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content }], mock: { id: 'big-body' } });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  // the mock counts prompt tokens as about bytes / 4 of what it received
  assert.ok(r.json.usage.prompt_tokens >= (content.length / 4) * 0.9, `prompt_tokens ${r.json.usage.prompt_tokens}`);
  assert.equal((await s.mockStats()).by_id['big-body'].requests, 1);
});
