// The anthropic provider end to end: the official openai client talks to sluice, sluice talks
// Anthropic's Messages API to sluice-mock. JSON and streamed answers, tool calls both ways, the
// system prompt, images, upstream errors (status kept, Anthropic's message), and what the mock
// received (path, x-api-key, anthropic-version, the translated body).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { errorOf, SLOW, startStack, UPSTREAM_KEY } from './lib/harness.mjs';

/** One model_list entry: an anthropic/ deployment on the mock (api_base without /v1). */
function claude(ctx, name, mockHeaders = {}) {
  return {
    model_name: name,
    litellm_params: {
      model: 'anthropic/claude-x',
      api_base: ctx.mockUrl,
      api_key: UPSTREAM_KEY,
      ...(Object.keys(mockHeaders).length ? { extra_headers: mockHeaders } : {}),
    },
    model_info: { id: `dep-${name}` },
  };
}

let s;
let client;
before(async () => {
  s = await startStack({
    config: (ctx) => ({
      model_list: [
        claude(ctx, 'claude'),
        claude(ctx, 'claude-short', { 'x-mock-tokens': '5' }),
        claude(ctx, 'claude-400', { 'x-mock-status': '400' }),
        claude(ctx, 'claude-429', { 'x-mock-status': '429' }),
        claude(ctx, 'claude-529', { 'x-mock-status': '529' }),
        claude(ctx, 'claude-cut', { 'x-mock-fault': 'drop-mid-stream', 'x-mock-tokens': '6' }),
        claude(ctx, 'claude-garbled', { 'x-mock-fault': 'malformed' }),
        claude(ctx, 'claude-slow', { 'x-mock-tokens': '3', 'x-mock-chunk-delay-ms': String(300 * SLOW) }),
      ],
      litellm_settings: { num_retries: 0 },
      router_settings: { num_retries: 0, disable_cooldowns: true },
      general_settings: { master_key: ctx.masterKey },
    }),
  });
  client = s.openai();
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 20000 * SLOW };
const SIXTEEN = 'mock answer to claude-x: w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12';
const FIVE = 'mock answer to claude-x: w1';
const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

/** What the mock received last: {path, headers, body (parsed)}. */
async function upstreamRequest() {
  const st = await s.mockStats();
  const last = st.last_request;
  assert.ok(last, 'the mock saw no request');
  return { ...last, raw: last.body, body: JSON.parse(last.body) };
}

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

test('JSON: the answer in OpenAI shape; the mock got /v1/messages with Anthropic headers and body', T, async () => {
  const r = await client.chat.completions.create({
    model: 'claude',
    messages: [{ role: 'user', content: 'Hello' }],
  });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^msg_/);
  assert.equal(r.model, 'claude-x');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, SIXTEEN);
  assert.equal(r.choices[0].finish_reason, 'stop');

  const up = await upstreamRequest();
  assert.equal(up.method, 'POST');
  assert.equal(up.path, '/v1/messages');
  assert.equal(up.headers['x-api-key'], UPSTREAM_KEY);
  assert.equal(up.headers['anthropic-version'], '2023-06-01');
  assert.match(up.headers['content-type'], /^application\/json/);
  assert.equal(up.headers.authorization, undefined, 'no OpenAI-style auth upstream');
  assert.deepEqual(up.body, {
    model: 'claude-x',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
    max_tokens: 4096,
  });
  // usage: Anthropic's input_tokens (the mock counts body bytes / 4) and output_tokens
  assert.equal(r.usage.prompt_tokens, Math.ceil(Buffer.byteLength(up.raw) / 4));
  assert.equal(r.usage.completion_tokens, 16);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 16);
});

test('system prompt and parameters are translated', T, async () => {
  const r = await client.chat.completions.create({
    model: 'claude-short',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'One' },
      { role: 'assistant', content: 'Yes.' },
      { role: 'user', content: 'Two' },
    ],
    max_tokens: 50,
    temperature: 0.3,
    top_p: 0.8,
    stop: ['STOP'],
    user: 'user-42',
  });
  assert.equal(r.choices[0].message.content, FIVE);
  const { body } = await upstreamRequest();
  assert.deepEqual(body.system, [{ type: 'text', text: 'You are terse.' }]);
  assert.deepEqual(body.messages, [
    { role: 'user', content: [{ type: 'text', text: 'One' }] },
    { role: 'assistant', content: [{ type: 'text', text: 'Yes.' }] },
    { role: 'user', content: [{ type: 'text', text: 'Two' }] },
  ]);
  assert.equal(body.max_tokens, 50);
  assert.equal(body.temperature, 0.3);
  assert.equal(body.top_p, 0.8);
  assert.deepEqual(body.stop_sequences, ['STOP']);
  assert.deepEqual(body.metadata, { user_id: 'user-42' });
  assert.equal(body.stream, undefined);
});

test('max_tokens below the answer: finish_reason length', T, async () => {
  const r = await client.chat.completions.create({
    model: 'claude',
    messages: [{ role: 'user', content: 'Long story' }],
    max_completion_tokens: 3,
  });
  assert.equal(r.choices[0].message.content, 'mock answer to');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 3);
  assert.equal((await upstreamRequest()).body.max_tokens, 3);
});

test('images: a data: URL goes up as a base64 source, an https URL as a url source', T, async () => {
  await client.chat.completions.create({
    model: 'claude-short',
    messages: [{
      role: 'user',
      content: [
        { type: 'text', text: 'Compare' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        { type: 'image_url', image_url: { url: 'https://example.com/b.jpg' } },
      ],
    }],
  });
  const { body } = await upstreamRequest();
  assert.deepEqual(body.messages[0].content, [
    { type: 'text', text: 'Compare' },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
    { type: 'image', source: { type: 'url', url: 'https://example.com/b.jpg' } },
  ]);
});

test('streamed: role first, one content delta per token, finish_reason stop, usage', T, async () => {
  const { data: stream, response } = await client.chat.completions
    .create({
      model: 'claude',
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    .withResponse();
  assert.match(response.headers.get('content-type') || '', /text\/event-stream/);
  const chunks = await collect(stream);
  for (const c of chunks) {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.id, chunks[0].id, 'one id across the stream');
    assert.equal(c.model, 'claude-x');
  }
  const withChoice = chunks.filter((c) => c.choices.length);
  assert.equal(withChoice[0].choices[0].delta.role, 'assistant');
  const deltas = withChoice.filter((c) => c.choices[0].delta.content);
  assert.equal(deltas.length, 16, 'one content delta per token');
  assert.equal(deltas.map((c) => c.choices[0].delta.content).join(''), SIXTEEN);
  const finish = withChoice.filter((c) => c.choices[0].finish_reason);
  assert.equal(finish.length, 1);
  assert.equal(finish[0].choices[0].finish_reason, 'stop');
  const usage = chunks.find((c) => c.usage)?.usage;
  assert.ok(usage, 'a chunk carries usage');
  assert.equal(usage.completion_tokens, 16);

  const up = await upstreamRequest();
  assert.equal(up.path, '/v1/messages');
  assert.equal(up.body.stream, true);
  assert.equal(up.body.stream_options, undefined, 'OpenAI-only members stay home');
  assert.equal(usage.prompt_tokens, Math.ceil(Buffer.byteLength(up.raw) / 4));
});

test('tool call, JSON: tool_use comes back as tool_calls; tools and tool_choice translated', T, async () => {
  const r = await client.chat.completions.create({
    model: 'claude',
    messages: [{ role: 'user', content: 'Weather in Oslo?' }],
    tools: [weatherTool],
    tool_choice: 'required',
  });
  const msg = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.equal(msg.content, null);
  assert.equal(msg.tool_calls.length, 1);
  assert.match(msg.tool_calls[0].id, /^toolu_/);
  assert.equal(msg.tool_calls[0].type, 'function');
  assert.equal(msg.tool_calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(msg.tool_calls[0].function.arguments), {});

  const { body } = await upstreamRequest();
  assert.deepEqual(body.tools, [{
    name: 'get_weather',
    description: 'Current weather',
    input_schema: weatherTool.function.parameters,
  }]);
  assert.deepEqual(body.tool_choice, { type: 'any' });
});

test('tool call round trip: tool_calls and tool results go up as tool_use / tool_result', T, async () => {
  const r = await client.chat.completions.create({
    model: 'claude-short',
    messages: [
      { role: 'user', content: 'Weather in Oslo and Bergen?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'toolu_A', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
          { id: 'toolu_B', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Bergen"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_A', content: '4C rain' },
      { role: 'tool', tool_call_id: 'toolu_B', content: '7C sun' },
    ],
    tools: [weatherTool],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
  });
  assert.equal(r.choices[0].message.tool_calls[0].function.name, 'get_weather');
  const { body } = await upstreamRequest();
  assert.deepEqual(body.messages.slice(1), [
    {
      role: 'assistant',
      content: [
        { type: 'tool_use', id: 'toolu_A', name: 'get_weather', input: { city: 'Oslo' } },
        { type: 'tool_use', id: 'toolu_B', name: 'get_weather', input: { city: 'Bergen' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_A', content: '4C rain' },
        { type: 'tool_result', tool_use_id: 'toolu_B', content: '7C sun' },
      ],
    },
  ]);
  assert.deepEqual(body.tool_choice, { type: 'tool', name: 'get_weather' });
});

test('tool call, streamed: the call head, argument deltas, finish_reason tool_calls', T, async () => {
  const stream = await client.chat.completions.create({
    model: 'claude',
    messages: [{ role: 'user', content: 'Weather?' }],
    tools: [weatherTool],
    stream: true,
  });
  const chunks = await collect(stream);
  const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls || []);
  assert.ok(calls.length >= 2, `tool call deltas: ${JSON.stringify(calls)}`);
  assert.equal(calls[0].index, 0);
  assert.match(calls[0].id, /^toolu_/);
  assert.equal(calls[0].function.name, 'get_weather');
  for (const c of calls) assert.equal(c.index, 0);
  const args = calls.map((c) => c.function?.arguments || '').join('');
  assert.deepEqual(JSON.parse(args), {});
  const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
  assert.equal(finish.length, 1);
  assert.equal(finish[0].choices[0].finish_reason, 'tool_calls');
  assert.equal((await upstreamRequest()).body.stream, true);
});

for (const status of [400, 429, 529]) {
  test(`upstream ${status}: the status is kept and the message is Anthropic's`, T, async () => {
    const r = await s.post('/v1/chat/completions', {
      model: `claude-${status}`,
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.equal(r.status, status, r.text);
    const e = errorOf(r);
    assert.match(e.message, new RegExp(`mock error ${status}`));
    assert.doesNotMatch(e.message, /"type":"error"/, 'the message, not the raw envelope');
    assert.ok(!r.text.includes(UPSTREAM_KEY), 'the upstream key does not leak');
    // the openai client maps it by status
    await assert.rejects(
      client.chat.completions.create({ model: `claude-${status}`, messages: [{ role: 'user', content: 'x' }] }),
      (err) => {
        assert.ok(err instanceof OpenAI.APIError, String(err));
        assert.equal(err.status, status);
        if (status === 429) assert.ok(err instanceof OpenAI.RateLimitError);
        if (status === 400) assert.ok(err instanceof OpenAI.BadRequestError);
        return true;
      },
    );
    const up = await upstreamRequest();
    assert.equal(up.path, '/v1/messages');
  });
}

test('upstream error on a streamed request: a JSON error with the status, before any stream', T, async () => {
  const r = await s.post('/v1/chat/completions', {
    model: 'claude-529',
    messages: [{ role: 'user', content: 'x' }],
    stream: true,
  });
  assert.equal(r.status, 529, r.text);
  assert.match(errorOf(r).message, /mock error 529/);
});

test('unsupported OpenAI parameter without drop_params: 400 naming it, nothing sent upstream', T, async () => {
  await s.mockReset();
  const r = await s.post('/v1/chat/completions', {
    model: 'claude',
    messages: [{ role: 'user', content: 'x' }],
    seed: 42,
  });
  assert.equal(r.status, 400, r.text);
  assert.match(errorOf(r).message, /seed/);
  assert.equal((await s.mockStats()).requests, 0);
});

test('streamed deltas arrive as the upstream sends them, not at the end', T, async () => {
  const start = Date.now();
  const stream = await client.chat.completions.create({
    model: 'claude-slow',
    messages: [{ role: 'user', content: 'slowly' }],
    stream: true,
  });
  const seen = [];
  for await (const c of stream) {
    if (c.choices[0]?.delta?.content) seen.push([c.choices[0].delta.content, Date.now() - start]);
  }
  assert.deepEqual(seen.map(([t]) => t), ['mock', ' answer', ' to']);
  const [first, last] = [seen[0][1], seen.at(-1)[1]];
  assert.ok(last - first >= 500 * SLOW, `deltas ${first} ms and ${last} ms apart too little`);
});

test('a stream the upstream cuts before message_delta ends in an error, not a clean finish', T, async () => {
  const stream = await client.chat.completions.create({
    model: 'claude-cut',
    messages: [{ role: 'user', content: 'x' }],
    stream: true,
  });
  const got = [];
  await assert.rejects(
    (async () => {
      for await (const c of stream) got.push(c);
    })(),
    (err) => err instanceof Error,
  );
  const text = got.map((c) => c.choices[0]?.delta?.content || '').join('');
  assert.equal(text, 'mock answer to', 'the first half of the deltas arrived');
  assert.ok(!got.some((c) => c.choices[0]?.finish_reason), 'no finish_reason for a cut stream');
});

test('malformed upstream answers: JSON gives a 5xx, a stream ends in an error', T, async () => {
  const r = await s.post('/v1/chat/completions', { model: 'claude-garbled', messages: [{ role: 'user', content: 'x' }] });
  assert.ok(r.status >= 500, `${r.status} ${r.text}`);
  errorOf(r);
  const stream = await client.chat.completions.create({
    model: 'claude-garbled',
    messages: [{ role: 'user', content: 'x' }],
    stream: true,
  });
  await assert.rejects(
    (async () => {
      for await (const c of stream) assert.ok(!c.choices[0]?.finish_reason);
    })(),
    (err) => err instanceof Error,
  );
});
