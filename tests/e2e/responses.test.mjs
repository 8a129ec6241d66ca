// /v1/responses through the official openai client (responses.create / .stream / .retrieve /
// .delete / .inputItems.list): pass-through to an openai/ deployment (the mock's Responses API,
// responses stored there), and translation to an anthropic/ deployment (the mock's Messages API):
// output_text, the event sequence ending with response.completed, function calls both ways.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { errorOf, freePort, headerOf, SLOW, startStack, UPSTREAM_KEY } from './lib/harness.mjs';
import { assertSchema } from './lib/schema.mjs';

let s;
let client;
before(async () => {
  const deadPort = await freePort(); // nothing listens there: a provider that refuses connections
  s = await startStack({
    config: (ctx) => ({
      model_list: [
        {
          model_name: 'gpt-resp',
          litellm_params: { model: 'openai/mock-gpt-resp', api_base: ctx.mockBase, api_key: UPSTREAM_KEY },
          model_info: { id: 'dep-gpt-resp' },
        },
        {
          model_name: 'claude-resp',
          litellm_params: { model: 'anthropic/claude-mock-3', api_base: ctx.mockUrl, api_key: UPSTREAM_KEY },
          model_info: { id: 'dep-claude-resp' },
        },
        {
          model_name: 'claude-dead',
          litellm_params: { model: 'anthropic/gone', api_base: `http://127.0.0.1:${deadPort}`, api_key: UPSTREAM_KEY },
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
const fnTools = [
  {
    type: 'function',
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    strict: false,
  },
];
// the mock's answer: "mock answer to <model>: w1 w2 ..."
const mockText = (model, tokens) =>
  ['mock', ' answer', ' to', ` ${model}:`, ...Array.from({ length: Math.max(0, tokens - 4) }, (_, i) => ` w${i + 1}`)]
    .slice(0, tokens)
    .join('');

const textOf = (r) =>
  r.output
    .filter((o) => o.type === 'message')
    .flatMap((o) => o.content)
    .filter((c) => c.type === 'output_text')
    .map((c) => c.text)
    .join('');

const EVENT_SCHEMA = {
  'response.created': 'ResponseCreatedEvent',
  'response.in_progress': 'ResponseInProgressEvent',
  'response.output_item.added': 'ResponseOutputItemAddedEvent',
  'response.output_item.done': 'ResponseOutputItemDoneEvent',
  'response.content_part.added': 'ResponseContentPartAddedEvent',
  'response.content_part.done': 'ResponseContentPartDoneEvent',
  'response.output_text.delta': 'ResponseTextDeltaEvent',
  'response.output_text.done': 'ResponseTextDoneEvent',
  'response.function_call_arguments.delta': 'ResponseFunctionCallArgumentsDeltaEvent',
  'response.function_call_arguments.done': 'ResponseFunctionCallArgumentsDoneEvent',
  'response.completed': 'ResponseCompletedEvent',
};

/** Checks what every Responses stream must hold: created first, completed last, sequence
 * numbers 0, 1, 2, ..., every event known to the schema and valid. Returns the types. */
function checkEvents(events) {
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'response.created', types.join(','));
  assert.equal(types.at(-1), 'response.completed', types.join(','));
  assert.equal(types.filter((t) => t === 'response.completed').length, 1);
  events.forEach((e, i) => assert.equal(e.sequence_number, i, `sequence_number of event ${i} (${e.type})`));
  for (const e of events) {
    const schema = EVENT_SCHEMA[e.type];
    if (!schema) continue; // other event types exist; these are the ones a text/call answer uses
    // the live API's (and the schemas' gap): usage is null in the in-progress snapshots
    const v = e.response && e.response.usage === null ? { ...e, response: { ...e.response, usage: undefined } } : e;
    assertSchema(schema, JSON.parse(JSON.stringify(v)), e.type);
  }
  // the item and content bookkeeping of the text events is consistent
  const added = events.filter((e) => e.type === 'response.output_item.added');
  const done = events.filter((e) => e.type === 'response.output_item.done');
  assert.equal(added.length, done.length);
  added.forEach((a, i) => {
    assert.equal(done[i].output_index, a.output_index);
    assert.equal(done[i].item.id, a.item.id);
  });
  for (const d of events.filter((e) => e.type === 'response.output_text.delta')) {
    assert.ok(added.some((a) => a.item.id === d.item_id), `delta for unknown item ${d.item_id}`);
  }
  return types;
}

async function collect(stream) {
  const events = [];
  for await (const e of stream) events.push(e);
  return events;
}

/** Raw SSE framing of the Responses API: `event: <type>` + `data: {"type": <type>}`, no [DONE]. */
function checkRawFraming(text) {
  const frames = text.split(/\r?\n\r?\n/).filter((f) => f.trim());
  assert.ok(frames.length >= 3, text);
  for (const f of frames) {
    const ev = f.match(/^event: (.+)$/m);
    const data = f.match(/^data: (.+)$/m);
    assert.ok(ev && data, `frame without event:/data: ${JSON.stringify(f.slice(0, 200))}`);
    assert.equal(JSON.parse(data[1]).type, ev[1]);
  }
  assert.ok(!text.includes('[DONE]'), 'the Responses API sends no [DONE]');
}

// ---- pass-through: openai/ deployment ---------------------------------------------------------

test('pass-through JSON: a completed Response from the provider, model rewritten, schema-valid', T, async () => {
  const { data: r, response } = await client.responses
    .create({ model: 'gpt-resp', input: 'Say hello', instructions: 'Be brief.', mock: { tokens: 6, id: 'resp-json' } })
    .withResponse();
  assert.equal(r.object, 'response');
  assert.match(r.id, /^resp_/);
  assert.equal(r.status, 'completed');
  assert.equal(r.model, 'mock-gpt-resp', 'the mock echoes the model sluice sent upstream');
  assert.equal(r.instructions, 'Be brief.');
  assert.equal(r.output_text, mockText('mock-gpt-resp', 6));
  assert.equal(r.output[0].type, 'message');
  assert.equal(r.output[0].role, 'assistant');
  assert.equal(r.usage.output_tokens, 6);
  assert.ok(r.usage.input_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);
  assert.equal(r.usage.input_tokens_details.cached_tokens, 0);
  assert.equal(r.usage.output_tokens_details.reasoning_tokens, 0);
  assert.equal(response.headers.get('x-litellm-model-id'), 'dep-gpt-resp');
  assert.equal(response.headers.get('x-litellm-model-group'), 'gpt-resp');

  const st = await s.mockStats();
  assert.equal(st.by_id['resp-json']?.requests, 1);
  assert.equal(st.last_request.path, '/v1/responses');
  assert.equal(headerOf(st.last_request.headers, 'authorization'), `Bearer ${UPSTREAM_KEY}`);
  const sent = JSON.parse(st.last_request.body);
  assert.equal(sent.model, 'mock-gpt-resp');
  assert.equal(sent.input, 'Say hello');

  const raw = await s.post('/v1/responses', { model: 'gpt-resp', input: [{ role: 'user', content: 'hi' }] });
  assert.equal(raw.status, 200, raw.text);
  assertSchema('Response', raw.json);
  const noV1 = await s.post('/responses', { model: 'gpt-resp', input: 'hi' });
  assert.equal(noV1.status, 200, noV1.text);
  assert.equal(noV1.json.object, 'response');
});

test('pass-through stream: created ... completed, one delta per token, final text equals JSON', T, async () => {
  const stream = client.responses.stream({ model: 'gpt-resp', input: 'Say hello', mock: { tokens: 7 } });
  const events = await collect(stream);
  const final = await stream.finalResponse();
  const types = checkEvents(events);
  assert.deepEqual(types, [
    'response.created',
    'response.in_progress',
    'response.output_item.added',
    'response.content_part.added',
    ...Array(7).fill('response.output_text.delta'),
    'response.output_text.done',
    'response.content_part.done',
    'response.output_item.done',
    'response.completed',
  ]);
  const deltas = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
  assert.equal(deltas, mockText('mock-gpt-resp', 7));
  assert.equal(events.find((e) => e.type === 'response.output_text.done').text, deltas);
  assert.equal(textOf(final), deltas);
  assert.equal(final.status, 'completed');
  assert.equal(final.usage.output_tokens, 7);

  const created = events[0].response;
  assert.equal(created.status, 'in_progress');
  assert.equal(created.id, final.id);

  // create({stream: true}) and the raw wire
  const events2 = await collect(await client.responses.create({ model: 'gpt-resp', input: 'x', stream: true, mock: { tokens: 2 } }));
  checkEvents(events2);
  const r = await s.post('/v1/responses', { model: 'gpt-resp', input: 'x', stream: true, mock: { tokens: 2 } });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'] || '', /^text\/event-stream/);
  assert.equal(r.headers['x-litellm-model-group'], 'gpt-resp');
  checkRawFraming(r.text);
});

test('pass-through retrieve, input items and delete by id (stored at the provider)', T, async () => {
  const r = await client.responses.create({ model: 'gpt-resp', input: 'Remember me', mock: { tokens: 4 } });
  const got = await client.responses.retrieve(r.id);
  assert.equal(got.id, r.id);
  assert.equal(got.object, 'response');
  assert.equal(got.status, 'completed');
  assert.equal(got.output_text, r.output_text);
  let st = await s.mockStats();
  assert.equal(st.last_request.method, 'GET');
  assert.equal(st.last_request.path, `/v1/responses/${r.id}`);
  assert.equal(headerOf(st.last_request.headers, 'authorization'), `Bearer ${UPSTREAM_KEY}`);

  const items = await client.responses.inputItems.list(r.id);
  assert.equal(items.data.length, 1);
  assert.equal(items.data[0].type, 'message');
  assert.equal(items.data[0].role, 'user');
  assert.equal(items.data[0].content[0].text, 'Remember me');
  st = await s.mockStats();
  assert.equal(st.last_request.path, `/v1/responses/${r.id}/input_items`);

  const del = await s.request(`/v1/responses/${r.id}`, { method: 'DELETE' });
  assert.equal(del.status, 200, del.text);
  assert.deepEqual(del.json, { id: r.id, object: 'response.deleted', deleted: true });
  await assert.rejects(client.responses.retrieve(r.id), (e) => {
    assert.ok(e instanceof OpenAI.NotFoundError, `got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.status, 404);
    return true;
  });

  // the SDK's delete, and a second delete of the same id
  const r2 = await client.responses.create({ model: 'gpt-resp', input: 'Forget me' });
  await client.responses.delete(r2.id);
  await assert.rejects(client.responses.delete(r2.id), (e) => e.status === 404);
  // store: false keeps nothing
  const r3 = await client.responses.create({ model: 'gpt-resp', input: 'x', store: false });
  assert.equal(r3.store, false);
  await assert.rejects(client.responses.retrieve(r3.id), (e) => e.status === 404);
});

test('pass-through function call (JSON and streamed)', T, async () => {
  const r = await client.responses.create({ model: 'gpt-resp', input: 'Weather in Oslo?', tools: fnTools });
  assert.equal(r.output.length, 1);
  const fc = r.output[0];
  assert.equal(fc.type, 'function_call');
  assert.equal(fc.name, 'get_weather');
  assert.match(fc.call_id, /^call_/);
  assert.deepEqual(JSON.parse(fc.arguments), {});

  const stream = client.responses.stream({ model: 'gpt-resp', input: 'Weather in Oslo?', tools: fnTools });
  const events = await collect(stream);
  const types = checkEvents(events);
  assert.ok(types.includes('response.function_call_arguments.delta'));
  const argsDone = events.find((e) => e.type === 'response.function_call_arguments.done');
  assert.equal(argsDone.name, 'get_weather');
  assert.equal(argsDone.arguments, '{}');
  const final = await stream.finalResponse();
  assert.equal(final.output[0].type, 'function_call');
  assert.equal(final.output[0].arguments, '{}');
});

test('pass-through errors: provider 429 -> RateLimitError; unknown model 400; no key 401 (OpenAI envelope)', T, async () => {
  await assert.rejects(client.responses.create({ model: 'gpt-resp', input: 'x', mock: { status: 429 } }), (e) => {
    assert.ok(e instanceof OpenAI.RateLimitError, `got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.status, 429);
    return true;
  });
  await assert.rejects(client.responses.create({ model: 'no-such-model', input: 'x' }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError, `got ${e?.constructor?.name}: ${e?.message}`);
    assert.match(e.message, /no-such-model/);
    return true;
  });
  const r = await s.post('/v1/responses', { model: 'gpt-resp', input: 'x' }, { auth: false });
  assert.equal(r.status, 401, r.text);
  errorOf(r);
  const g = await s.request('/v1/responses/resp_whatever', { auth: false });
  assert.equal(g.status, 401, g.text);
  errorOf(g);
  const missing = await s.request('/v1/responses/resp_doesnotexist');
  assert.equal(missing.status, 404, missing.text);
  errorOf(missing);
});

// ---- translated: anthropic/ deployment --------------------------------------------------------

test('translated JSON: a Response with output_text from an Anthropic provider, schema-valid', T, async () => {
  const { data: r, response } = await client.responses
    .create({ model: 'claude-resp', input: 'Say hello', instructions: 'Be brief.', max_output_tokens: 64 })
    .withResponse();
  assert.equal(r.object, 'response');
  assert.match(r.id, /^resp_/);
  assert.equal(r.status, 'completed');
  assert.equal(typeof r.output_text, 'string');
  assert.ok(r.output_text.length > 0);
  const msg = r.output.find((o) => o.type === 'message');
  assert.ok(msg, JSON.stringify(r.output));
  assert.equal(msg.role, 'assistant');
  assert.equal(msg.content[0].type, 'output_text');
  assert.ok(r.usage.input_tokens > 0, JSON.stringify(r.usage));
  assert.ok(r.usage.output_tokens > 0, JSON.stringify(r.usage));
  assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);
  assert.equal(response.headers.get('x-litellm-model-id'), 'dep-claude-resp');

  const st = await s.mockStats();
  assert.equal(st.last_request.path, '/v1/messages', 'the anthropic adapter calls the Messages API');
  assert.equal(headerOf(st.last_request.headers, 'x-api-key'), UPSTREAM_KEY);
  const sent = JSON.parse(st.last_request.body);
  assert.equal(sent.model, 'claude-mock-3');
  assert.equal(sent.max_tokens, 64);
  const sys = typeof sent.system === 'string' ? sent.system : (sent.system || []).map((b) => b.text).join('');
  assert.equal(sys, 'Be brief.');

  const raw = await s.post('/v1/responses', { model: 'claude-resp', input: [{ role: 'user', content: 'hi' }] });
  assert.equal(raw.status, 200, raw.text);
  assertSchema('Response', raw.json);
});

test('translated stream: events from response.created to response.completed, text deltas = final text', T, async () => {
  const stream = client.responses.stream({ model: 'claude-resp', input: 'Say hello' });
  const events = await collect(stream);
  const final = await stream.finalResponse();
  const types = checkEvents(events);
  for (const t of ['response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done']) {
    assert.ok(types.includes(t), `${t} missing: ${types.join(',')}`);
  }
  const deltas = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
  assert.ok(deltas.length > 0);
  assert.equal(events.find((e) => e.type === 'response.output_text.done').text, deltas);
  assert.equal(textOf(final), deltas);
  assert.equal(final.status, 'completed');
  assert.ok(final.usage.output_tokens > 0, JSON.stringify(final.usage));
  assert.equal(final.id, events[0].response.id);

  // the same prompt without streaming gives the same text (the mock is deterministic)
  const json = await client.responses.create({ model: 'claude-resp', input: 'Say hello' });
  assert.equal(json.output_text, deltas);

  const r = await s.post('/v1/responses', { model: 'claude-resp', input: 'x', stream: true });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'] || '', /^text\/event-stream/);
  checkRawFraming(r.text);
});

test('translated function calls: function_call out, function_call_output back as tool_result', T, async () => {
  const first = await client.responses.create({ model: 'claude-resp', input: 'Weather in Oslo?', tools: fnTools });
  assert.equal(first.status, 'completed');
  const fc = first.output.find((o) => o.type === 'function_call');
  assert.ok(fc, JSON.stringify(first.output));
  assert.equal(fc.name, 'get_weather');
  assert.ok(fc.call_id);
  assert.equal(typeof JSON.parse(fc.arguments), 'object');
  let sent = JSON.parse((await s.mockStats()).last_request.body);
  assert.equal(sent.tools[0].name, 'get_weather');
  assert.deepEqual(sent.tools[0].input_schema, fnTools[0].parameters);

  const second = await client.responses.create({
    model: 'claude-resp',
    tools: fnTools,
    tool_choice: 'none',
    input: [
      { role: 'user', content: 'Weather in Oslo?' },
      fc,
      { type: 'function_call_output', call_id: fc.call_id, output: '{"sky":"sunny"}' },
    ],
  });
  assert.equal(second.status, 'completed');
  assert.ok(second.output_text.length > 0, JSON.stringify(second.output));
  sent = JSON.parse((await s.mockStats()).last_request.body);
  const blocks = sent.messages.flatMap((m) => (Array.isArray(m.content) ? m.content.map((b) => ({ role: m.role, ...b })) : []));
  const use = blocks.find((b) => b.type === 'tool_use');
  const result = blocks.find((b) => b.type === 'tool_result');
  assert.ok(use && result, JSON.stringify(sent.messages));
  assert.equal(use.role, 'assistant');
  assert.equal(use.id, fc.call_id);
  assert.equal(use.name, 'get_weather');
  assert.equal(result.role, 'user');
  assert.equal(result.tool_use_id, fc.call_id);
  const resultText = typeof result.content === 'string' ? result.content : result.content.map((b) => b.text).join('');
  assert.equal(resultText, '{"sky":"sunny"}');

  // streamed
  const stream = client.responses.stream({ model: 'claude-resp', input: 'Weather in Oslo?', tools: fnTools });
  const events = await collect(stream);
  const types = checkEvents(events);
  assert.ok(types.includes('response.function_call_arguments.done'), types.join(','));
  const final = await stream.finalResponse();
  const sfc = final.output.find((o) => o.type === 'function_call');
  assert.equal(sfc.name, 'get_weather');
  assert.equal(typeof JSON.parse(sfc.arguments), 'object');
});

test('translated call to a provider that refuses connections: 500 in OpenAI\'s envelope', T, async () => {
  for (const stream of [false, true]) {
    await assert.rejects(client.responses.create({ model: 'claude-dead', input: 'x', stream }), (e) => {
      assert.ok(e instanceof OpenAI.InternalServerError, `got ${e?.constructor?.name}: ${e?.message}`);
      assert.equal(e.status, 500);
      assert.match(e.message, /APIConnectionError/);
      return true;
    });
  }
  const r = await s.post('/v1/responses', { model: 'claude-dead', input: 'x' });
  assert.equal(r.status, 500, r.text);
  errorOf(r);
});
