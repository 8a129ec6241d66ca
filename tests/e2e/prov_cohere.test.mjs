// cohere/ and cohere_chat/ deployments on the mock's Cohere v2 API, driven by the official openai
// client: JSON and streamed chat, parameter mapping, tool calls (JSON and streamed), embeddings,
// and errors; /mock/stats' last_request shows what sluice sent (path, Bearer key, body).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { headerOf, httpRequest, SLOW, sseData, startStack, UPSTREAM_KEY } from './lib/harness.mjs';

let s;
let client;
before(async () => {
  s = await startStack({
    config: (ctx) => ({
      model_list: [
        {
          model_name: 'command-r-plus',
          litellm_params: { model: 'cohere/command-r-plus', api_base: ctx.mockUrl, api_key: UPSTREAM_KEY },
          model_info: { id: 'dep-cohere' },
        },
        {
          model_name: 'cohere-chat',
          litellm_params: { model: 'cohere_chat/command-r', api_base: ctx.mockUrl, api_key: UPSTREAM_KEY },
          model_info: { id: 'dep-cohere-chat' },
        },
        {
          model_name: 'cohere-embed',
          litellm_params: { model: 'cohere/embed-english-v3.0', api_base: ctx.mockUrl, api_key: UPSTREAM_KEY },
          model_info: { id: 'dep-cohere-embed', mode: 'embedding' },
        },
      ],
      litellm_settings: { num_retries: 0 },
      router_settings: { num_retries: 0 },
      general_settings: { master_key: ctx.masterKey },
    }),
  });
  client = s.openai();
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 20000 * SLOW };
const messages = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];
const tools = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];
// the mock's answer: "mock answer to <model>: w1 w2 ..." (16 tokens by default)
const chatText = (model, tokens = 16) =>
  ['mock', ' answer', ' to', ` ${model}:`, ...Array.from({ length: Math.max(0, tokens - 4) }, (_, i) => ` w${i + 1}`)]
    .slice(0, tokens)
    .join('');

async function lastRequest() {
  const st = await s.mockStats();
  assert.ok(st.last_request, 'the mock saw a request');
  return { ...st.last_request, json: JSON.parse(st.last_request.body) };
}

test('JSON chat: Cohere v2 request (Bearer, /v2/chat, mapped parameters), OpenAI answer', T, async () => {
  const r = await client.chat.completions.create({
    model: 'command-r-plus',
    messages,
    temperature: 0.2,
    top_p: 0.9,
    max_tokens: 64,
    stop: ['END'],
    seed: 3,
  });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, chatText('command-r-plus'));
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.usage.completion_tokens, 16);
  assert.ok(r.usage.prompt_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 16);

  const lr = await lastRequest();
  assert.equal(lr.method, 'POST');
  assert.equal(lr.path, '/v2/chat');
  assert.equal(headerOf(lr.headers, 'authorization'), `Bearer ${UPSTREAM_KEY}`);
  assert.deepEqual(lr.json.messages, messages);
  assert.equal(lr.json.model, 'command-r-plus');
  assert.equal(lr.json.temperature, 0.2);
  assert.equal(lr.json.p, 0.9);
  assert.equal(lr.json.max_tokens, 64);
  assert.deepEqual(lr.json.stop_sequences, ['END']);
  assert.equal(lr.json.seed, 3);
  assert.equal(lr.json.stream, undefined, 'no stream member on a JSON call');
  for (const k of ['top_p', 'stop']) assert.equal(lr.json[k], undefined, `${k} is renamed`);
});

test('cohere_chat/ deployments speak the same v2 API', T, async () => {
  const r = await client.chat.completions.create({ model: 'cohere-chat', messages });
  assert.equal(r.choices[0].message.content, chatText('command-r'));
  const lr = await lastRequest();
  assert.equal(lr.path, '/v2/chat');
  assert.equal(lr.json.model, 'command-r');
});

test('streaming: Cohere SSE events become OpenAI chunks, usage at the end', T, async () => {
  const stream = await client.chat.completions.create({
    model: 'command-r-plus',
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let finish = null;
  let usage = null;
  let first = true;
  const ids = new Set();
  for await (const chunk of stream) {
    ids.add(chunk.id);
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    const c = chunk.choices[0];
    if (!c) continue;
    if (first) {
      assert.equal(c.delta.role, 'assistant');
      first = false;
    }
    if (c.delta.content) text += c.delta.content;
    if (c.finish_reason) finish = c.finish_reason;
  }
  assert.equal(text, chatText('command-r-plus'));
  assert.equal(finish, 'stop');
  assert.ok(usage, 'a usage chunk');
  assert.equal(usage.completion_tokens, 16);
  assert.equal(ids.size, 1, 'every chunk has the same id');
  const lr = await lastRequest();
  assert.equal(lr.json.stream, true);
});

test('tool calls (JSON): tools mapped, "required" -> REQUIRED, the call comes back', T, async () => {
  const r = await client.chat.completions.create({
    model: 'command-r-plus',
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
    tools,
    tool_choice: 'required',
  });
  const m = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.equal(m.tool_calls.length, 1);
  assert.equal(m.tool_calls[0].type, 'function');
  assert.equal(m.tool_calls[0].function.name, 'get_weather');
  assert.equal(m.tool_calls[0].function.arguments, '{}');
  assert.match(m.tool_calls[0].id, /^get_weather_/);
  const lr = await lastRequest();
  assert.equal(lr.json.tool_choice, 'REQUIRED');
  assert.deepEqual(lr.json.tools, [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Weather for a city',
        parameters: tools[0].function.parameters,
      },
    },
  ]);

  // the round trip: the assistant's call and the tool's result go back in Cohere's shape
  const again = await client.chat.completions.create({
    model: 'command-r-plus',
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      m,
      { role: 'tool', tool_call_id: m.tool_calls[0].id, content: '18C' },
    ],
  });
  assert.equal(again.choices[0].finish_reason, 'stop');
  const lr2 = await lastRequest();
  assert.deepEqual(lr2.json.messages[1].tool_calls, [
    { id: m.tool_calls[0].id, type: 'function', function: { name: 'get_weather', arguments: '{}' } },
  ]);
  assert.deepEqual(lr2.json.messages[2], { role: 'tool', tool_call_id: m.tool_calls[0].id, content: '18C' });
});

test('tool calls (streamed): one call assembled from its deltas', T, async () => {
  const stream = await client.chat.completions.create({
    model: 'command-r-plus',
    messages: [{ role: 'user', content: 'Weather?' }],
    tools,
    stream: true,
  });
  const calls = [];
  let finish = null;
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (!c) continue;
    for (const tc of c.delta.tool_calls || []) {
      calls[tc.index] ??= { id: '', name: '', arguments: '' };
      if (tc.id) calls[tc.index].id = tc.id;
      if (tc.function?.name) calls[tc.index].name += tc.function.name;
      if (tc.function?.arguments) calls[tc.index].arguments += tc.function.arguments;
    }
    if (c.finish_reason) finish = c.finish_reason;
  }
  assert.equal(finish, 'tool_calls');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].name, 'get_weather');
  assert.equal(calls[0].arguments, '{}');
  assert.match(calls[0].id, /^get_weather_/);
});

test('embeddings: /v2/embed with texts, input_type and float vectors', T, async () => {
  const r = await client.embeddings.create({ model: 'cohere-embed', input: ['alpha', 'beta', 'alpha'], encoding_format: 'float' });
  assert.equal(r.object, 'list');
  assert.equal(r.data.length, 3);
  r.data.forEach((d, i) => {
    assert.equal(d.object, 'embedding');
    assert.equal(d.index, i);
    assert.equal(d.embedding.length, 8);
  });
  assert.deepEqual(r.data[0].embedding, r.data[2].embedding);
  assert.notDeepEqual(r.data[0].embedding, r.data[1].embedding);
  assert.ok(r.usage.prompt_tokens > 0);
  const lr = await lastRequest();
  assert.equal(lr.path, '/v2/embed');
  assert.equal(headerOf(lr.headers, 'authorization'), `Bearer ${UPSTREAM_KEY}`);
  assert.deepEqual(lr.json.texts, ['alpha', 'beta', 'alpha']);
  assert.equal(lr.json.input_type, 'search_document');
  assert.deepEqual(lr.json.embedding_types, ['float']);
  assert.equal(lr.json.model, 'embed-english-v3.0');
});

test('embeddings: the client\'s default base64 decodes to the float vector', T, async () => {
  const f = await client.embeddings.create({ model: 'cohere-embed', input: 'gamma', encoding_format: 'float' });
  const b = await client.embeddings.create({ model: 'cohere-embed', input: 'gamma' });
  assert.equal(b.data[0].embedding.length, f.data[0].embedding.length);
  b.data[0].embedding.forEach((x, i) => assert.ok(Math.abs(x - f.data[0].embedding[i]) < 1e-6));
});

test('errors: the provider\'s status and Cohere\'s message reach the client', T, async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'command-r-plus', messages, mock: { status: 429 } }),
    (e) => {
      assert.equal(e.status, 429);
      assert.match(e.message, /mock error 429/);
      return true;
    },
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'command-r-plus', messages, mock: { status: 500 } }),
    (e) => e.status === 500 && /mock error 500/.test(e.message),
  );
  // a stream that fails before it starts is an HTTP error too
  await assert.rejects(
    client.chat.completions.create({ model: 'command-r-plus', messages, stream: true, mock: { status: 401 } }),
    (e) => e.status === 401 && /mock error 401/.test(e.message),
  );
});

test('errors: an unsupported parameter is a 400 naming it, unless drop_params', T, async () => {
  const r = await s.post('/v1/chat/completions', { model: 'command-r-plus', messages, logprobs: true });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error.message, /logprobs/);
});

test('a stream cut by the provider ends with an error, not a clean finish', T, async () => {
  const stream = await client.chat.completions.create({
    model: 'command-r-plus',
    messages,
    stream: true,
    mock: { fault: 'drop-mid-stream' },
  });
  let finish = null;
  await assert.rejects(async () => {
    for await (const chunk of stream) if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
  });
  assert.equal(finish, null);
});

test('a malformed provider answer is a server error, not a crash', T, async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'command-r-plus', messages, mock: { fault: 'malformed' } }),
    (e) => e.status >= 500,
  );
});

test('the mock\'s /v2 routes themselves: Bearer required, Cohere\'s SSE framing and envelope', T, async () => {
  const url = `${s.mock.url}/v2/chat`;
  const body = JSON.stringify({ model: 'command-r', messages: [{ role: 'user', content: 'hi' }], stream: true });
  const noauth = await httpRequest(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  assert.equal(noauth.status, 401);
  assert.equal(typeof noauth.json.id, 'string');
  assert.equal(noauth.json.message, 'no api key supplied');

  const r = await httpRequest(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', authorization: 'Bearer k', 'x-mock-tokens': '3' },
  });
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/event-stream/);
  const types = sseData(r.text).map((d) => JSON.parse(d).type);
  assert.deepEqual(types, ['message-start', 'content-start', 'content-delta', 'content-delta', 'content-delta', 'content-end', 'message-end']);
  assert.ok(/^event: message-start\n/m.test(r.text), 'events are named');

  const err = await httpRequest(url, { method: 'POST', body, headers: { authorization: 'Bearer k', 'x-mock-status': '503' } });
  assert.equal(err.status, 503);
  assert.equal(err.json.message, 'mock error 503');

  const emb = await httpRequest(`${s.mock.url}/v2/embed`, {
    method: 'POST',
    body: JSON.stringify({ model: 'embed-v4.0', texts: ['a'] }),
    headers: { authorization: 'Bearer k' },
  });
  assert.equal(emb.status, 400, 'input_type is required');
});
