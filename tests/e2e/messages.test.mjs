// /v1/messages through the official @anthropic-ai/sdk: pass-through to an anthropic/ deployment
// on the mock's Messages API (JSON, streams, tool use, count_tokens, errors in Anthropic's
// envelope), and translation to an openai/ deployment (the mock's chat completions): text, the
// event sequence, a tool_use / tool_result round trip, usage.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { freePort, headerOf, SLOW, startStack, UPSTREAM_KEY } from './lib/harness.mjs';

let s;
let client;
before(async () => {
  const deadPort = await freePort(); // nothing listens there: a provider that refuses connections
  s = await startStack({
    config: (ctx) => ({
      model_list: [
        {
          model_name: 'claude-pass',
          // Anthropic's base has no /v1: sluice appends /v1/messages
          litellm_params: { model: 'anthropic/claude-mock-3', api_base: ctx.mockUrl, api_key: UPSTREAM_KEY },
          model_info: { id: 'dep-claude' },
        },
        {
          model_name: 'gpt-translated',
          litellm_params: { model: 'openai/mock-gpt-tr', api_base: ctx.mockBase, api_key: UPSTREAM_KEY },
          model_info: { id: 'dep-gpt-tr' },
        },
        {
          model_name: 'gpt-dead',
          litellm_params: { model: 'openai/gone', api_base: `http://127.0.0.1:${deadPort}/v1`, api_key: UPSTREAM_KEY },
          model_info: { id: 'dep-gpt-dead' },
        },
      ],
      litellm_settings: { num_retries: 0 },
      router_settings: { num_retries: 0 },
      general_settings: { master_key: ctx.masterKey },
    }),
  });
  // the SDK takes the gateway's root: it appends /v1/messages itself
  client = new Anthropic({ apiKey: s.masterKey, baseURL: s.url, maxRetries: 0, timeout: 20000 * SLOW });
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 20000 * SLOW };
const messages = [{ role: 'user', content: 'Say hello' }];
const tools = [
  {
    name: 'get_weather',
    description: 'Weather for a city',
    input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
  { name: 'other_tool', input_schema: { type: 'object', properties: {} } },
];
// the mock's chat answer: "mock answer to <model>: w1 w2 ..." (16 tokens by default)
const chatText = (model, tokens = 16) =>
  ['mock', ' answer', ' to', ` ${model}:`, ...Array.from({ length: Math.max(0, tokens - 4) }, (_, i) => ` w${i + 1}`)]
    .slice(0, tokens)
    .join('');

/** Anthropic's error envelope: {type: "error", error: {type, message}}; returns error. */
function anthropicError(body, what = 'body') {
  assert.ok(body && typeof body === 'object', `${what}: not a JSON object: ${JSON.stringify(body)}`);
  assert.equal(body.type, 'error', `${what}: ${JSON.stringify(body)}`);
  assert.ok(body.error && typeof body.error === 'object', `${what}: ${JSON.stringify(body)}`);
  assert.equal(typeof body.error.type, 'string', `${what}: ${JSON.stringify(body)}`);
  assert.equal(typeof body.error.message, 'string', `${what}: ${JSON.stringify(body)}`);
  assert.ok(body.error.message.length > 0);
  return body.error;
}

async function collect(stream) {
  const events = [];
  for await (const e of stream) events.push(e);
  return events;
}

/** The streamed message rebuilt from raw events: text, tool uses, stop reason, usage. */
function rebuild(events) {
  const blocks = [];
  let stop = null;
  let usage = null;
  for (const e of events) {
    if (e.type === 'content_block_start') blocks[e.index] = { ...e.content_block, json: '' };
    if (e.type === 'content_block_delta') {
      const b = blocks[e.index];
      assert.ok(b, `delta for block ${e.index} before its start`);
      if (e.delta.type === 'text_delta') b.text += e.delta.text;
      if (e.delta.type === 'input_json_delta') b.json += e.delta.partial_json;
    }
    if (e.type === 'message_delta') {
      stop = e.delta.stop_reason;
      usage = e.usage;
    }
  }
  const text = blocks.filter((b) => b?.type === 'text').map((b) => b.text).join('');
  const toolUses = blocks.filter((b) => b?.type === 'tool_use');
  return { blocks, text, toolUses, stop, usage };
}

// One text or tool_use block after another, each opened, filled and closed, in the order
// message_start ... message_delta, message_stop (pings are filtered by the SDK).
const EVENT_ORDER = /^message_start,(content_block_start,(content_block_delta,)*content_block_stop,)+message_delta,message_stop$/;

// ---- pass-through: anthropic/ deployment ------------------------------------------------------

test('pass-through JSON: a Messages answer with the upstream model, usage; the mock sees the deployment key', T, async () => {
  const { data: m, response } = await client.messages
    .create({ model: 'claude-pass', max_tokens: 64, messages, mock: { tokens: 5, id: 'msg-json' } })
    .withResponse();
  assert.equal(m.type, 'message');
  assert.equal(m.role, 'assistant');
  assert.match(m.id, /^msg_/);
  assert.equal(m.model, 'claude-mock-3', 'the model sluice sent upstream, echoed by the mock');
  assert.equal(m.stop_reason, 'end_turn');
  assert.ok(m.content.length >= 1);
  assert.equal(m.content[0].type, 'text');
  assert.ok(m.content[0].text.length > 0);
  assert.ok(m.usage.input_tokens > 0, JSON.stringify(m.usage));
  assert.equal(m.usage.output_tokens, 5);
  assert.equal(response.headers.get('x-litellm-model-id'), 'dep-claude');
  assert.equal(response.headers.get('x-litellm-model-group'), 'claude-pass');
  assert.ok(response.headers.get('x-litellm-call-id'));

  const st = await s.mockStats();
  assert.equal(st.by_id['msg-json']?.requests, 1);
  assert.equal(st.last_request.path, '/v1/messages');
  assert.equal(headerOf(st.last_request.headers, 'x-api-key'), UPSTREAM_KEY, 'the deployment key, as x-api-key');
  assert.ok(!String(headerOf(st.last_request.headers, 'authorization') || '').includes(s.masterKey), 'the master key never goes upstream');
  assert.ok(headerOf(st.last_request.headers, 'anthropic-version'), 'anthropic-version forwarded');
  const sent = JSON.parse(st.last_request.body);
  assert.equal(sent.model, 'claude-mock-3');
  assert.deepEqual(sent.messages, messages, 'the body passes through');
});

test('pass-through: the body reaches the provider byte for byte except the model value', T, async () => {
  const body =
    '{ "max_tokens" : 32, "messages":[{"role":"user","content":"h\\u00e9llo \\"q\\""}],\n' +
    '  "metadata": {"user_id": "u-1"}, "x_custom": [1, {"a": null}], "model" : "claude-pass", "mock": {"id": "msg-bytes"}}';
  const r = await s.post('/v1/messages', body, { headers: { 'anthropic-version': '2023-06-01' } });
  assert.equal(r.status, 200, r.text);
  const st = await s.mockStats();
  assert.equal(st.by_id['msg-bytes']?.requests, 1);
  assert.equal(st.last_request.body, body.replace('"claude-pass"', '"claude-mock-3"'));
});

test('pass-through stream (messages.stream): event order, text deltas, final message equals the JSON answer', T, async () => {
  const params = { model: 'claude-pass', max_tokens: 64, messages, mock: { tokens: 6 } };
  const stream = client.messages.stream(params);
  const events = await collect(stream);
  const final = await stream.finalMessage();
  const types = events.map((e) => e.type);
  assert.match(types.join(','), EVENT_ORDER);
  assert.equal(events[0].message.role, 'assistant');
  const got = rebuild(events);
  assert.equal(got.stop, 'end_turn');
  assert.equal(got.usage.output_tokens, 6);
  assert.ok(got.text.length > 0);
  assert.equal(final.content[0].text, got.text);
  const json = await client.messages.create(params);
  assert.equal(got.text, json.content[0].text, 'the mock is deterministic: streamed text = JSON text');
});

test('pass-through stream (create stream:true), raw SSE: every event named, data.type matching, no [DONE]', T, async () => {
  const r = await s.post('/v1/messages', { model: 'claude-pass', max_tokens: 64, messages, stream: true, mock: { tokens: 3 } });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'] || '', /^text\/event-stream/);
  assert.equal(r.headers['x-litellm-model-group'], 'claude-pass');
  const frames = r.text.split(/\r?\n\r?\n/).filter((f) => f.trim());
  assert.ok(frames.length >= 6, r.text);
  for (const f of frames) {
    const ev = f.match(/^event: (.+)$/m);
    const data = f.match(/^data: (.+)$/m);
    assert.ok(ev && data, `frame without event: or data: line: ${JSON.stringify(f)}`);
    assert.equal(JSON.parse(data[1]).type, ev[1]);
  }
  assert.ok(!r.text.includes('[DONE]'));

  // create({stream: true}) yields the raw events (messages.stream() fills message_start's
  // message in place as its snapshot)
  const events = await collect(
    await client.messages.create({ model: 'claude-pass', max_tokens: 64, messages, stream: true, mock: { tokens: 3 } }),
  );
  assert.match(events.map((e) => e.type).join(','), EVENT_ORDER);
  assert.deepEqual(events[0].message.content, []);
  assert.equal(events[0].message.stop_reason, null);
});

test('pass-through tool use (JSON and streamed): a tool_use block for the first tool, stop_reason tool_use', T, async () => {
  const m = await client.messages.create({ model: 'claude-pass', max_tokens: 64, messages, tools });
  assert.equal(m.stop_reason, 'tool_use');
  const tu = m.content.find((b) => b.type === 'tool_use');
  assert.ok(tu, JSON.stringify(m.content));
  assert.match(tu.id, /^toolu_/);
  assert.equal(tu.name, 'get_weather');
  assert.equal(typeof tu.input, 'object');

  const stream = client.messages.stream({ model: 'claude-pass', max_tokens: 64, messages, tools });
  const events = await collect(stream);
  assert.match(events.map((e) => e.type).join(','), EVENT_ORDER);
  const got = rebuild(events);
  assert.equal(got.stop, 'tool_use');
  assert.equal(got.toolUses.length, 1);
  assert.match(got.toolUses[0].id, /^toolu_/);
  assert.equal(got.toolUses[0].name, 'get_weather');
  assert.equal(typeof JSON.parse(got.toolUses[0].json || '{}'), 'object');
  const final = await stream.finalMessage();
  assert.equal(final.content.find((b) => b.type === 'tool_use').name, 'get_weather');
});

test('pass-through count_tokens: {input_tokens} from the provider', T, async () => {
  const r = await client.messages.countTokens({ model: 'claude-pass', messages, mock: { id: 'msg-count' } });
  assert.equal(typeof r.input_tokens, 'number');
  assert.ok(r.input_tokens > 0);
  const st = await s.mockStats();
  assert.equal(st.by_id['msg-count']?.requests, 1, 'count_tokens goes to the provider');
  assert.equal(st.last_request.path, '/v1/messages/count_tokens');
  assert.equal(JSON.parse(st.last_request.body).model, 'claude-mock-3');
});

test('pass-through error: provider 429 -> 429 in Anthropic\'s envelope, the SDK raises RateLimitError', T, async () => {
  await assert.rejects(
    client.messages.create({ model: 'claude-pass', max_tokens: 64, messages, mock: { status: 429 } }),
    (e) => {
      assert.ok(e instanceof Anthropic.RateLimitError, `got ${e?.constructor?.name}: ${e?.message}`);
      assert.equal(e.status, 429);
      assert.equal(anthropicError(e.error, 'SDK error body').type, 'rate_limit_error');
      return true;
    },
  );
  const r = await s.post('/v1/messages', { model: 'claude-pass', max_tokens: 64, messages, mock: { status: 429 } });
  assert.equal(r.status, 429, r.text);
  assert.equal(anthropicError(r.json, r.text).type, 'rate_limit_error');
  // and a streamed request whose provider fails before the stream starts
  const rs = await s.post('/v1/messages', { model: 'claude-pass', max_tokens: 64, messages, stream: true, mock: { status: 529 } });
  assert.equal(rs.status, 529, rs.text);
  assert.equal(anthropicError(rs.json, rs.text).type, 'overloaded_error');
});

test('unknown model -> 400 in Anthropic\'s envelope (BadRequestError)', T, async () => {
  await assert.rejects(client.messages.create({ model: 'no-such-model', max_tokens: 8, messages }), (e) => {
    assert.ok(e instanceof Anthropic.BadRequestError, `got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.status, 400);
    const err = anthropicError(e.error, 'SDK error body');
    assert.equal(err.type, 'invalid_request_error');
    assert.match(err.message, /no-such-model/);
    return true;
  });
});

test('no key / a wrong key -> 401 in Anthropic\'s envelope (AuthenticationError); x-api-key is accepted', T, async () => {
  const r = await s.post('/v1/messages', { model: 'claude-pass', max_tokens: 8, messages }, { auth: false });
  assert.equal(r.status, 401, r.text);
  assert.equal(anthropicError(r.json, r.text).type, 'authentication_error');
  const rc = await s.post('/v1/messages/count_tokens', { model: 'claude-pass', messages }, { auth: false });
  assert.equal(rc.status, 401, rc.text);
  assert.equal(anthropicError(rc.json, rc.text).type, 'authentication_error');

  const wrong = new Anthropic({ apiKey: 'sk-wrong', baseURL: s.url, maxRetries: 0 });
  await assert.rejects(wrong.messages.create({ model: 'claude-pass', max_tokens: 8, messages }), (e) => {
    assert.ok(e instanceof Anthropic.AuthenticationError, `got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(anthropicError(e.error, 'SDK error body').type, 'authentication_error');
    return true;
  });

  // the SDK sends Authorization: Bearer; Anthropic's own header works as well
  const ok = await s.post('/v1/messages', { model: 'claude-pass', max_tokens: 8, messages }, {
    auth: false,
    headers: { 'x-api-key': s.masterKey, 'anthropic-version': '2023-06-01' },
  });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.type, 'message');
});

// ---- translated: openai/ deployment -----------------------------------------------------------

test('translated JSON: the chat answer as a Messages answer, usage mapped; upstream gets a chat request', T, async () => {
  const { data: m, response } = await client.messages
    .create({ model: 'gpt-translated', max_tokens: 64, system: 'Be brief.', messages })
    .withResponse();
  assert.equal(m.type, 'message');
  assert.equal(m.role, 'assistant');
  assert.match(m.id, /^msg_/);
  assert.equal(typeof m.model, 'string');
  assert.equal(m.stop_reason, 'end_turn');
  assert.equal(m.stop_sequence, null);
  assert.equal(m.content.length, 1);
  assert.equal(m.content[0].type, 'text');
  assert.equal(m.content[0].text, chatText('mock-gpt-tr'));
  assert.ok(m.usage.input_tokens > 0, JSON.stringify(m.usage));
  assert.equal(m.usage.output_tokens, 16);
  assert.equal(response.headers.get('x-litellm-model-id'), 'dep-gpt-tr');
  assert.equal(response.headers.get('x-litellm-model-group'), 'gpt-translated');

  const st = await s.mockStats();
  assert.equal(st.last_request.path, '/v1/chat/completions');
  assert.equal(headerOf(st.last_request.headers, 'authorization'), `Bearer ${UPSTREAM_KEY}`);
  const sent = JSON.parse(st.last_request.body);
  assert.equal(sent.model, 'mock-gpt-tr');
  assert.equal(sent.max_tokens, 64);
  assert.deepEqual(
    sent.messages.map((x) => [x.role, typeof x.content === 'string' ? x.content : x.content.map((p) => p.text).join('')]),
    [['system', 'Be brief.'], ['user', 'Say hello']],
  );
});

test('translated stream: message_start ... message_stop with text deltas and usage; upstream asked for include_usage', T, async () => {
  const stream = client.messages.stream({ model: 'gpt-translated', max_tokens: 64, messages });
  const events = await collect(stream);
  const final = await stream.finalMessage();
  const types = events.map((e) => e.type);
  assert.match(types.join(','), EVENT_ORDER);
  assert.equal(types.filter((t) => t === 'content_block_start').length, 1);
  assert.equal(events[0].message.role, 'assistant');
  assert.equal(typeof events[0].message.usage.input_tokens, 'number');
  const got = rebuild(events);
  assert.equal(got.blocks[0].type, 'text');
  assert.ok(events.filter((e) => e.type === 'content_block_delta').every((e) => e.delta.type === 'text_delta'));
  assert.equal(got.text, chatText('mock-gpt-tr'));
  assert.equal(got.stop, 'end_turn');
  assert.equal(got.usage.output_tokens, 16);
  assert.equal(final.content[0].text, got.text);
  assert.equal(final.usage.output_tokens, 16);

  const st = await s.mockStats();
  const sent = JSON.parse(st.last_request.body);
  assert.equal(sent.stream, true);
  assert.equal(sent.stream_options?.include_usage, true);

  // raw framing: named events, no [DONE]
  const r = await s.post('/v1/messages', { model: 'gpt-translated', max_tokens: 64, messages, stream: true });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'] || '', /^text\/event-stream/);
  for (const f of r.text.split(/\r?\n\r?\n/).filter((x) => x.trim())) {
    const ev = f.match(/^event: (.+)$/m);
    const data = f.match(/^data: (.+)$/m);
    assert.ok(ev && data, `frame ${JSON.stringify(f)}`);
    assert.equal(JSON.parse(data[1]).type, ev[1]);
  }
  assert.ok(!r.text.includes('[DONE]'));
  const raw = await collect(await client.messages.create({ model: 'gpt-translated', max_tokens: 64, messages, stream: true }));
  assert.equal(raw[0].type, 'message_start');
  assert.deepEqual(raw[0].message.content, []);
  assert.equal(raw[0].message.stop_reason, null);
});

test('translated tool use round trip: tool_use out, tool_result back as an OpenAI tool message', T, async () => {
  const first = await client.messages.create({ model: 'gpt-translated', max_tokens: 64, messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools });
  assert.equal(first.stop_reason, 'tool_use');
  const tu = first.content.find((b) => b.type === 'tool_use');
  assert.ok(tu, JSON.stringify(first.content));
  assert.ok(tu.id, 'the call id');
  assert.equal(tu.name, 'get_weather');
  assert.deepEqual(tu.input, {});
  let sent = JSON.parse((await s.mockStats()).last_request.body);
  assert.equal(sent.tools.length, 2);
  assert.equal(sent.tools[0].type, 'function');
  assert.equal(sent.tools[0].function.name, 'get_weather');
  assert.deepEqual(sent.tools[0].function.parameters, tools[0].input_schema);

  // second turn: the assistant's tool_use goes back with the result; tool_choice none gets text
  const second = await client.messages.create({
    model: 'gpt-translated',
    max_tokens: 64,
    tools,
    tool_choice: { type: 'none' },
    messages: [
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: tu.id, content: 'sunny, 21 C' }] },
    ],
  });
  assert.equal(second.stop_reason, 'end_turn');
  assert.equal(second.content[0].type, 'text');
  assert.equal(second.content[0].text, chatText('mock-gpt-tr'));
  assert.ok(second.usage.input_tokens > 0);
  sent = JSON.parse((await s.mockStats()).last_request.body);
  assert.equal(sent.tool_choice, 'none');
  const asst = sent.messages.find((x) => x.role === 'assistant');
  assert.ok(asst, JSON.stringify(sent.messages));
  assert.equal(asst.tool_calls.length, 1);
  assert.equal(asst.tool_calls[0].id, tu.id);
  assert.equal(asst.tool_calls[0].type, 'function');
  assert.equal(asst.tool_calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(asst.tool_calls[0].function.arguments), {});
  const toolMsg = sent.messages.find((x) => x.role === 'tool');
  assert.ok(toolMsg, JSON.stringify(sent.messages));
  assert.equal(toolMsg.tool_call_id, tu.id);
  const content = typeof toolMsg.content === 'string' ? toolMsg.content : toolMsg.content.map((p) => p.text).join('');
  assert.equal(content, 'sunny, 21 C');
  assert.ok(sent.messages.indexOf(asst) < sent.messages.indexOf(toolMsg));
});

test('translated streamed tool use: a tool_use block with input_json_delta, stop_reason tool_use', T, async () => {
  const stream = client.messages.stream({ model: 'gpt-translated', max_tokens: 64, messages, tools });
  const events = await collect(stream);
  assert.match(events.map((e) => e.type).join(','), EVENT_ORDER);
  const got = rebuild(events);
  assert.equal(got.stop, 'tool_use');
  assert.equal(got.toolUses.length, 1);
  assert.equal(got.toolUses[0].name, 'get_weather');
  assert.ok(got.toolUses[0].id);
  assert.deepEqual(JSON.parse(got.toolUses[0].json), {});
  const final = await stream.finalMessage();
  const tu = final.content.find((b) => b.type === 'tool_use');
  assert.deepEqual(tu.input, {});
  assert.ok(final.usage.output_tokens > 0);
});

test('translated count_tokens is answered by sluice (estimate), without a provider call', T, async () => {
  await s.mockReset();
  const r = await client.messages.countTokens({ model: 'gpt-translated', system: 'Be brief.', messages });
  assert.equal(typeof r.input_tokens, 'number');
  assert.ok(r.input_tokens > 0);
  assert.equal((await s.mockStats()).requests, 0);
});

test('translated call to a provider that refuses connections: 500 in Anthropic\'s envelope (InternalServerError)', T, async () => {
  for (const stream of [false, true]) {
    await assert.rejects(client.messages.create({ model: 'gpt-dead', max_tokens: 8, messages, stream }), (e) => {
      assert.ok(e instanceof Anthropic.InternalServerError, `got ${e?.constructor?.name}: ${e?.message}`);
      assert.equal(e.status, 500);
      const err = anthropicError(e.error, 'SDK error body');
      assert.equal(err.type, 'api_error');
      assert.match(err.message, /APIConnectionError/);
      assert.ok(!err.message.includes(UPSTREAM_KEY), 'no key in the message');
      return true;
    });
  }
});

// A pass-through stream that fails after it started ends with Anthropic's `event: error`
// (the SDK ignores SSE events without an `event:` line, so a data-only frame would be lost).
test('pass-through stream cut by the provider ends with Anthropic\'s `event: error`', T, async () => {
  const body = { model: 'claude-pass', max_tokens: 64, messages, stream: true, mock: { fault: 'drop-mid-stream', tokens: 6 } };
  const r = await s.post('/v1/messages', body);
  assert.equal(r.status, 200);
  const last = r.text.split(/\r?\n\r?\n/).filter((f) => f.trim()).at(-1);
  assert.match(last, /^event: error$/m, `last frame: ${last}`);
  anthropicError(JSON.parse(last.match(/^data: (.+)$/m)[1]), 'error event');
  await assert.rejects(collect(client.messages.stream(body)), (e) => {
    assert.ok(e instanceof Anthropic.APIError, `got ${e?.constructor?.name}: ${e?.message}`);
    return true;
  });
});
