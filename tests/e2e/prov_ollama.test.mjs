// ollama_chat/ (/api/chat) and ollama/ (/api/generate) deployments on the mock's native Ollama
// API, driven by the official openai client: JSON and NDJSON-streamed chat, options mapping,
// the generate prompt, tool calls with minted ids, images, embeddings (/api/embed), errors;
// /mock/stats' last_request shows what sluice sent.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { getJson, headerOf, httpRequest, SLOW, startStack } from './lib/harness.mjs';

let s;
let client;
before(async () => {
  s = await startStack({
    config: (ctx) => ({
      model_list: [
        {
          model_name: 'llama3-chat',
          litellm_params: { model: 'ollama_chat/llama3', api_base: ctx.mockUrl },
          model_info: { id: 'dep-ollama-chat' },
        },
        {
          model_name: 'llama3-generate',
          litellm_params: { model: 'ollama/llama3', api_base: ctx.mockUrl },
          model_info: { id: 'dep-ollama' },
        },
        {
          model_name: 'ollama-embed',
          litellm_params: { model: 'ollama/nomic-embed-text', api_base: ctx.mockUrl },
          model_info: { id: 'dep-ollama-embed', mode: 'embedding' },
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
const chatText = (model, tokens = 16) =>
  ['mock', ' answer', ' to', ` ${model}:`, ...Array.from({ length: Math.max(0, tokens - 4) }, (_, i) => ` w${i + 1}`)]
    .slice(0, tokens)
    .join('');

async function lastRequest() {
  const st = await s.mockStats();
  assert.ok(st.last_request, 'the mock saw a request');
  return { ...st.last_request, json: JSON.parse(st.last_request.body) };
}

/** Reads a stream into {text, finish, usage, calls, roleFirst, ids}. */
async function drain(stream) {
  const out = { text: '', finish: null, usage: null, calls: [], roleFirst: false, ids: new Set() };
  let first = true;
  for await (const chunk of stream) {
    out.ids.add(chunk.id);
    if (chunk.usage) out.usage = chunk.usage;
    const c = chunk.choices[0];
    if (!c) continue;
    if (first) out.roleFirst = c.delta.role === 'assistant';
    first = false;
    if (c.delta.content) out.text += c.delta.content;
    for (const tc of c.delta.tool_calls || []) {
      out.calls[tc.index] ??= { id: '', name: '', arguments: '' };
      if (tc.id) out.calls[tc.index].id = tc.id;
      if (tc.function?.name) out.calls[tc.index].name += tc.function.name;
      if (tc.function?.arguments) out.calls[tc.index].arguments += tc.function.arguments;
    }
    if (c.finish_reason) out.finish = c.finish_reason;
  }
  return out;
}

test('ollama_chat JSON: /api/chat with messages, options and stream:false', T, async () => {
  const r = await client.chat.completions.create({
    model: 'llama3-chat',
    messages,
    temperature: 0.1,
    top_p: 0.5,
    max_tokens: 40,
    stop: 'END',
    seed: 9,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.content, chatText('llama3'));
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.usage.completion_tokens, 16);
  assert.ok(r.usage.prompt_tokens > 0);
  const lr = await lastRequest();
  assert.equal(lr.path, '/api/chat');
  assert.equal(headerOf(lr.headers, 'authorization'), undefined, 'no key configured, none sent');
  assert.equal(lr.json.model, 'llama3');
  assert.equal(lr.json.stream, false, 'stream is sent explicitly');
  assert.deepEqual(lr.json.messages, messages);
  assert.deepEqual(lr.json.options, { temperature: 0.1, top_p: 0.5, num_predict: 40, stop: ['END'], seed: 9 });
});

test('ollama_chat streaming: NDJSON lines become OpenAI chunks with usage', T, async () => {
  const out = await drain(
    await client.chat.completions.create({
      model: 'llama3-chat',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    }),
  );
  assert.ok(out.roleFirst);
  assert.equal(out.text, chatText('llama3'));
  assert.equal(out.finish, 'stop');
  assert.equal(out.usage?.completion_tokens, 16);
  assert.equal(out.ids.size, 1);
  const lr = await lastRequest();
  assert.equal(lr.json.stream, true);
});

test('ollama (generate): the prompt is built from the messages as LiteLLM does', T, async () => {
  const r = await client.chat.completions.create({
    model: 'llama3-generate',
    messages: [...messages, { role: 'assistant', content: 'Hello.' }, { role: 'user', content: 'Again' }],
  });
  assert.equal(r.choices[0].message.content, chatText('llama3'));
  const lr = await lastRequest();
  assert.equal(lr.path, '/api/generate');
  assert.equal(
    lr.json.prompt,
    '### System:\nBe brief.\n\n### User:\nSay hello\n\n### Assistant:\nHello.\n\n### User:\nAgain\n\n',
  );
  assert.equal(lr.json.stream, false);
  assert.equal(lr.json.messages, undefined);

  const out = await drain(await client.chat.completions.create({ model: 'llama3-generate', messages, stream: true }));
  assert.equal(out.text, chatText('llama3'));
  assert.equal(out.finish, 'stop');
});

test('ollama_chat tool calls: ids minted, arguments as JSON text, finish tool_calls', T, async () => {
  const r = await client.chat.completions.create({
    model: 'llama3-chat',
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
    tools,
  });
  const m = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.equal(m.tool_calls.length, 1);
  assert.match(m.tool_calls[0].id, /^call_[A-Za-z0-9]{24}$/);
  assert.equal(m.tool_calls[0].function.name, 'get_weather');
  assert.equal(m.tool_calls[0].function.arguments, '{}');
  const lr = await lastRequest();
  assert.deepEqual(lr.json.tools, [
    { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: tools[0].function.parameters } },
  ]);

  // round trip: arguments go back as an object, the tool result names its tool
  await client.chat.completions.create({
    model: 'llama3-chat',
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ ...m.tool_calls[0], function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: m.tool_calls[0].id, content: '18C' },
    ],
  });
  const lr2 = await lastRequest();
  assert.deepEqual(lr2.json.messages[1].tool_calls, [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }]);
  assert.deepEqual(lr2.json.messages[2], { role: 'tool', content: '18C', tool_name: 'get_weather' });

  const out = await drain(await client.chat.completions.create({ model: 'llama3-chat', messages, tools, stream: true }));
  assert.equal(out.finish, 'tool_calls');
  assert.equal(out.calls.length, 1);
  assert.equal(out.calls[0].name, 'get_weather');
  assert.equal(out.calls[0].arguments, '{}');
  assert.match(out.calls[0].id, /^call_/);
});

test('ollama_chat images: data: URLs become base64 in message.images; json_object -> format', T, async () => {
  await client.chat.completions.create({
    model: 'llama3-chat',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      },
    ],
    response_format: { type: 'json_object' },
  });
  const lr = await lastRequest();
  assert.deepEqual(lr.json.messages, [{ role: 'user', content: 'What is this?', images: ['iVBORw0KGgo='] }]);
  assert.equal(lr.json.format, 'json');

  const r = await s.post('/v1/chat/completions', {
    model: 'llama3-chat',
    messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }],
  });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error.message, /data: URL/);
});

test('embeddings: /api/embed with input, OpenAI list back', T, async () => {
  const r = await client.embeddings.create({ model: 'ollama-embed', input: ['alpha', 'beta'], encoding_format: 'float' });
  assert.equal(r.data.length, 2);
  assert.equal(r.data[0].embedding.length, 8);
  assert.equal(r.data[1].index, 1);
  assert.ok(r.usage.prompt_tokens > 0);
  const lr = await lastRequest();
  assert.equal(lr.path, '/api/embed');
  assert.deepEqual(lr.json.input, ['alpha', 'beta']);
  assert.equal(lr.json.model, 'nomic-embed-text');
});

test('errors: Ollama\'s {"error"} message and status reach the client', T, async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'llama3-chat', messages, mock: { status: 404 } }),
    (e) => e.status === 404 && /mock error 404/.test(e.message),
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'llama3-generate', messages, stream: true, mock: { status: 503 } }),
    (e) => e.status === 503 && /mock error 503/.test(e.message),
  );
});

test('a stream cut before its done line ends with an error', T, async () => {
  const stream = await client.chat.completions.create({
    model: 'llama3-chat',
    messages,
    stream: true,
    mock: { fault: 'drop-mid-stream' },
  });
  await assert.rejects(drain(stream));
});

test('the mock\'s /api routes themselves: NDJSON by default, tags, Ollama\'s error envelope', T, async () => {
  const r = await httpRequest(`${s.mock.url}/api/chat`, {
    method: 'POST',
    body: JSON.stringify({ model: 'llama3', messages: [{ role: 'user', content: 'hi' }], mock: { tokens: 2 } }),
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/x-ndjson');
  const lines = r.text.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.message.content), ['mock', ' answer', '']);
  assert.deepEqual(lines.map((l) => l.done), [false, false, true]);
  assert.equal(lines[2].done_reason, 'stop');
  assert.equal(lines[2].eval_count, 2);

  const tags = await getJson(`${s.mock.url}/api/tags`);
  assert.ok(tags.models.some((m) => m.name === 'llama3:latest'));

  const bad = await httpRequest(`${s.mock.url}/api/generate`, { method: 'POST', body: '{"prompt":"x"}' });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.json, { error: 'model is required' });
});

test('a malformed provider answer is a server error, not a crash', T, async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'llama3-chat', messages, mock: { fault: 'malformed' } }),
    (e) => e.status >= 500,
  );
});
