// Streaming chat and text completions: SSE framing, deltas, finish_reason, include_usage,
// incremental delivery, streamed tool calls, and a client hanging up mid-stream.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SLOW, sseData, startStack, waitFor } from './lib/harness.mjs';
import { assertSchema } from './lib/schema.mjs';

let s;
let client;
before(async () => {
  s = await startStack();
  client = s.openai();
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 20000 * SLOW };
const messages = [{ role: 'user', content: 'Stream please' }];

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

test('streamed chat: role first, one delta per token, finish_reason stop, usage last', T, async () => {
  const tokens = 7;
  const { data: stream, response } = await client.chat.completions
    .create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
      mock: { tokens },
    })
    .withResponse();
  assert.match(response.headers.get('content-type') || '', /text\/event-stream/);
  assert.equal(response.headers.get('x-litellm-model-id'), 'dep-mini');
  assert.equal(response.headers.get('x-litellm-model-group'), 'gpt-4o-mini');
  assert.ok(response.headers.get('x-litellm-call-id'));
  const chunks = await collect(stream);
  assert.ok(chunks.length >= tokens + 2, `only ${chunks.length} chunks`);
  for (const c of chunks) {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.model, 'mock-gpt-4o-mini');
    assert.equal(c.id, chunks[0].id, 'one id across the stream');
  }
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const withChoice = chunks.filter((c) => c.choices.length);
  const contentDeltas = withChoice.filter((c) => c.choices[0].delta.content);
  assert.equal(contentDeltas.length, tokens, 'one content delta per token');
  const finish = withChoice.filter((c) => c.choices[0].finish_reason);
  assert.equal(finish.length, 1);
  assert.equal(finish[0].choices[0].finish_reason, 'stop');
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage.completion_tokens, tokens);
  assert.ok(last.usage.prompt_tokens > 0);

  // the same request without streaming gives the same text (the mock is deterministic)
  const json = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, mock: { tokens } });
  const text = withChoice.map((c) => c.choices[0].delta.content || '').join('');
  assert.equal(text, json.choices[0].message.content);
});

test('without include_usage no usage-only chunk is sent', T, async () => {
  const chunks = await collect(
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, mock: { tokens: 3 } }),
  );
  assert.ok(chunks.every((c) => c.choices.length === 1), 'every chunk has a choice');
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
});

test('raw SSE framing: data: lines, blank-line separated, ends with [DONE]; frames match the schema', T, async () => {
  const r = await s.post('/v1/chat/completions', {
    model: 'gpt-4o-mini',
    messages,
    stream: true,
    stream_options: { include_usage: true },
    mock: { tokens: 4 },
  });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'] || '', /^text\/event-stream/);
  assert.ok(r.text.endsWith('data: [DONE]\n\n'), `stream ends with ${JSON.stringify(r.text.slice(-40))}`);
  const frames = sseData(r.text);
  assert.equal(frames.at(-1), '[DONE]');
  const objs = frames.slice(0, -1).map((f) => JSON.parse(f));
  objs.forEach((o, i) => assertSchema('CreateChatCompletionStreamResponse', o, `frame ${i}`));
});

test('chunks arrive as they are produced, not all at the end', T, async () => {
  const tokens = 6;
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages,
    stream: true,
    mock: { tokens, 'ttft-ms': 100, 'chunk-delay-ms': 150 },
  });
  const t0 = Date.now();
  const times = [];
  for await (const c of stream) if (c.choices[0]?.delta?.content) times.push(Date.now() - t0);
  assert.equal(times.length, tokens);
  // 5 gaps of 150 ms: a buffering gateway would deliver them all at once
  const spread = times.at(-1) - times[0];
  assert.ok(spread >= 500, `content deltas spread over ${spread} ms only: ${times.join(',')}`);
  // and the first one comes well before the last
  assert.ok(times[0] < times.at(-1) - 400, `first delta at ${times[0]} ms, last at ${times.at(-1)} ms`);
});

test('streamed tool call: id, name, arguments deltas, finish_reason tool_calls', T, async () => {
  const tools = [
    { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } },
  ];
  const chunks = await collect(
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools, stream: true }),
  );
  const calls = {};
  let finish = null;
  for (const c of chunks) {
    const ch = c.choices[0];
    if (!ch) continue;
    for (const tc of ch.delta.tool_calls || []) {
      const cur = (calls[tc.index] ||= { id: '', name: '', args: '' });
      if (tc.id) cur.id = tc.id;
      if (tc.function?.name) cur.name += tc.function.name;
      if (tc.function?.arguments) cur.args += tc.function.arguments;
    }
    if (ch.finish_reason) finish = ch.finish_reason;
  }
  assert.equal(finish, 'tool_calls');
  assert.deepEqual(Object.keys(calls), ['0']);
  assert.match(calls[0].id, /^call_/);
  assert.equal(calls[0].name, 'lookup');
  assert.deepEqual(JSON.parse(calls[0].args), {});
});

test('streamed text completion', T, async () => {
  const chunks = await collect(
    await client.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Once upon',
      stream: true,
      stream_options: { include_usage: true },
      mock: { tokens: 5 },
    }),
  );
  const withChoice = chunks.filter((c) => c.choices?.length);
  for (const c of chunks) assert.equal(c.object, 'text_completion');
  const text = withChoice.map((c) => c.choices[0].text).join('');
  assert.ok(text.length > 0);
  assert.equal(withChoice.filter((c) => c.choices[0].finish_reason).at(-1).choices[0].finish_reason, 'stop');
  assert.equal(chunks.at(-1).usage?.completion_tokens, 5);
});

test('a client hanging up mid-stream cancels the upstream stream', T, async () => {
  const id = 'hangup-1';
  const before = await s.mockStats();
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages,
    stream: true,
    mock: { id, tokens: 200, 'chunk-delay-ms': 50 },
  });
  let n = 0;
  for await (const c of stream) {
    if (c.choices[0]?.delta?.content) {
      n++;
      break; // leaving the loop aborts the request and closes the connection
    }
  }
  assert.equal(n, 1);
  const aborted = await waitFor(
    async () => {
      const st = await s.mockStats();
      return st.streams_aborted > before.streams_aborted && st.by_id[id]?.aborted === 1 && st;
    },
    { timeout: 1000 * SLOW, what: 'the mock to see its stream aborted' },
  );
  assert.equal(aborted.by_id[id].completed ?? 0, 0);
  // and sluice is fine afterwards
  const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
  assert.equal(r.choices[0].finish_reason, 'stop');
});

test('a raw socket closed mid-stream also cancels upstream', T, async () => {
  const id = 'hangup-raw';
  const { default: http } = await import('node:http');
  await new Promise((resolve, reject) => {
    const req = http.request(`${s.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.masterKey}`, 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (e) => (e.code === 'ECONNRESET' ? resolve() : reject(e)));
    req.end(JSON.stringify({ model: 'gpt-4o-mini', messages, stream: true, mock: { id, tokens: 200, 'chunk-delay-ms': 50 } }));
  });
  await waitFor(async () => (await s.mockStats()).by_id[id]?.aborted === 1, {
    timeout: 1000 * SLOW,
    what: 'the mock to see its stream aborted',
  });
});

test('40 concurrent streams all complete with their own content', T, async () => {
  const n = 40;
  const results = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const tokens = 5 + (i % 7);
      const stream = await client.chat.completions.create({
        model: i % 2 ? 'gpt-4o' : 'gpt-4o-mini',
        messages,
        stream: true,
        mock: { tokens, 'chunk-delay-ms': 5, id: `many-${i}` },
      });
      let deltas = 0;
      let model = null;
      for await (const c of stream) {
        if (c.choices[0]?.delta?.content) deltas++;
        model = c.model;
      }
      return { tokens, deltas, model, i };
    }),
  );
  for (const r of results) {
    assert.equal(r.deltas, r.tokens, `stream ${r.i}`);
    assert.equal(r.model, r.i % 2 ? 'mock-gpt-4o' : 'mock-gpt-4o-mini');
  }
});

test('a long stream (3000 deltas) arrives whole and in order', T, async () => {
  const tokens = 3000;
  const r = await s.post('/v1/chat/completions', { model: 'gpt-4o-mini', messages, stream: true, mock: { tokens } });
  assert.equal(r.status, 200);
  const frames = sseData(r.text);
  assert.equal(frames.at(-1), '[DONE]');
  const objs = frames.slice(0, -1).map((f) => JSON.parse(f));
  const content = objs.filter((o) => o.choices[0]?.delta?.content).map((o) => o.choices[0].delta.content);
  assert.equal(content.length, tokens);
  const json = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, mock: { tokens } });
  assert.equal(content.join(''), json.choices[0].message.content);
});

test('a client hanging up while waiting for a JSON answer cancels the upstream call', T, async () => {
  const id = 'hangup-json';
  const { default: http } = await import('node:http');
  const req = http.request(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.masterKey}`, 'content-type': 'application/json' },
  });
  req.on('error', () => {});
  req.end(JSON.stringify({ model: 'gpt-4o-mini', messages, mock: { id, 'latency-ms': 5000 } }));
  await waitFor(async () => (await s.mockStats()).by_id[id]?.requests === 1, { timeout: 5000 * SLOW, what: 'the request to reach the mock' });
  req.destroy();
  await waitFor(async () => (await s.mockStats()).by_id[id]?.aborted === 1, {
    timeout: 1000 * SLOW,
    what: 'the mock to see the upstream call cancelled',
  });
});
