// bedrock/ deployments on the mock's Bedrock runtime (Converse, ConverseStream, InvokeModel),
// driven by the official openai client: SigV4-signed JSON and streamed chat, tool calls and a
// tool round trip, stop reasons, Titan and Cohere embeddings, and errors, including a deployment
// whose secret is wrong (the mock recomputes the signature and answers 403, which sluice keeps).
// /mock/stats' last_request shows what sluice sent (path, signed headers, Converse body).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { headerOf, httpRequest, SLOW, sseData, startStack } from './lib/harness.mjs';

const AKID = 'AKIDEXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const MODEL_ID = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const MODEL_PATH = `/model/${encodeURIComponent(MODEL_ID)}`; // ':' travels as %3A

let s;
let client;
before(async () => {
  s = await startStack({
    config: (ctx) => {
      const aws = (extra = {}) => ({
        aws_access_key_id: AKID,
        aws_secret_access_key: SECRET,
        aws_region_name: 'us-east-1',
        aws_bedrock_runtime_endpoint: ctx.mockUrl,
        ...extra,
      });
      return {
        model_list: [
          {
            model_name: 'claude',
            litellm_params: { model: `bedrock/${MODEL_ID}`, ...aws() },
            model_info: { id: 'dep-bedrock' },
          },
          {
            model_name: 'claude-wrong-secret',
            litellm_params: { model: `bedrock/${MODEL_ID}`, ...aws({ aws_secret_access_key: 'not-the-secret' }) },
            model_info: { id: 'dep-bedrock-bad' },
          },
          {
            model_name: 'claude-wrong-key-id',
            litellm_params: { model: `bedrock/${MODEL_ID}`, ...aws({ aws_access_key_id: 'AKIDUNKNOWN' }) },
          },
          {
            model_name: 'claude-session',
            litellm_params: { model: `bedrock/${MODEL_ID}`, ...aws({ aws_session_token: 'session-token-e2e' }) },
          },
          {
            model_name: 'claude-api-key',
            litellm_params: {
              model: `bedrock/${MODEL_ID}`,
              api_key: 'bedrock-api-key-e2e',
              aws_region_name: 'us-east-1',
              aws_bedrock_runtime_endpoint: ctx.mockUrl,
            },
          },
          {
            model_name: 'haiku-converse',
            litellm_params: { model: 'bedrock/converse/anthropic.claude-3-haiku-20240307-v1:0', ...aws() },
          },
          {
            model_name: 'titan-embed',
            litellm_params: { model: 'bedrock/amazon.titan-embed-text-v2:0', ...aws() },
            model_info: { id: 'dep-titan', mode: 'embedding' },
          },
          {
            model_name: 'cohere-embed',
            litellm_params: { model: 'bedrock/cohere.embed-english-v3', ...aws() },
            model_info: { mode: 'embedding' },
          },
        ],
        litellm_settings: { num_retries: 0 },
        router_settings: { num_retries: 0 },
        general_settings: { master_key: ctx.masterKey },
      };
    },
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
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
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

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

function assertSigned(req, { token } = {}) {
  const auth = headerOf(req.headers, 'authorization');
  assert.match(
    auth,
    /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date(;x-amz-security-token)?, Signature=[0-9a-f]{64}$/,
  );
  assert.match(headerOf(req.headers, 'x-amz-date'), /^\d{8}T\d{6}Z$/);
  assert.match(headerOf(req.headers, 'x-amz-content-sha256'), /^[0-9a-f]{64}$/);
  if (token) {
    assert.equal(headerOf(req.headers, 'x-amz-security-token'), token);
    assert.match(auth, /;x-amz-security-token, /);
  }
}

test('JSON chat: a signed Converse request, an OpenAI answer', T, async () => {
  const { data: r, response } = await client.chat.completions
    .create({ model: 'claude', messages, temperature: 0.3, top_p: 0.8, max_tokens: 100, stop: ['END'] })
    .withResponse();
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, chatText(MODEL_ID));
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.usage.completion_tokens, 16);
  assert.ok(r.usage.prompt_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 16);
  assert.equal(response.headers.get('x-litellm-model-id'), 'dep-bedrock');

  const req = await lastRequest();
  assert.equal(req.method, 'POST');
  assert.equal(req.path, `${MODEL_PATH}/converse`);
  assertSigned(req);
  assert.equal(headerOf(req.headers, 'content-type'), 'application/json');
  assert.deepEqual(req.json, {
    messages: [{ role: 'user', content: [{ text: 'Say hello' }] }],
    system: [{ text: 'Be brief.' }],
    inferenceConfig: { maxTokens: 100, temperature: 0.3, topP: 0.8, stopSequences: ['END'] },
  });
});

test('streamed chat: event-stream frames become OpenAI chunks', T, async () => {
  const tokens = 6;
  const { data: stream, response } = await client.chat.completions
    .create({
      model: 'claude',
      messages,
      stream: true,
      stream_options: { include_usage: true },
      mock: { tokens, 'chunk-delay-ms': 5 },
    })
    .withResponse();
  assert.match(response.headers.get('content-type') || '', /text\/event-stream/);
  const chunks = await collect(stream);
  for (const c of chunks) {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.id, chunks[0].id, 'one id across the stream');
  }
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const withChoice = chunks.filter((c) => c.choices.length);
  const deltas = withChoice.filter((c) => c.choices[0].delta.content);
  assert.equal(deltas.length, tokens, 'one delta per token');
  assert.equal(withChoice.map((c) => c.choices[0].delta.content || '').join(''), chatText(MODEL_ID, tokens));
  const finish = withChoice.filter((c) => c.choices[0].finish_reason);
  assert.equal(finish.length, 1);
  assert.equal(finish[0].choices[0].finish_reason, 'stop');
  const usage = chunks.filter((c) => c.usage);
  assert.ok(usage.length >= 1, 'usage is reported');
  assert.equal(usage.at(-1).usage.completion_tokens, tokens);
  assert.ok(usage.at(-1).usage.prompt_tokens > 0);

  const req = await lastRequest();
  assert.equal(req.path, `${MODEL_PATH}/converse-stream`);
  assert.equal(headerOf(req.headers, 'accept'), 'application/vnd.amazon.eventstream');
  assertSigned(req);
  assert.equal(headerOf(req.headers, 'x-mock-tokens'), String(tokens), 'controls ride as x-mock-* headers');
  assert.equal(req.json.mock, undefined, 'the mock object is not in the Converse body');
});

test('raw SSE: data lines and [DONE]', T, async () => {
  const r = await s.post('/v1/chat/completions', { model: 'claude', messages, stream: true, mock: { tokens: 3 } });
  assert.equal(r.status, 200, r.text);
  const data = sseData(r.text);
  assert.equal(data.at(-1), '[DONE]');
  const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content || '').join(''), chatText(MODEL_ID, 3));
  assert.ok(chunks.every((c) => !c.usage), 'no usage without stream_options.include_usage');
});

test('tool call (JSON): toolConfig sent, toolUse answered as tool_calls', T, async () => {
  const r = await client.chat.completions.create({ model: 'claude', messages, tools, tool_choice: 'auto' });
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  const calls = r.choices[0].message.tool_calls;
  assert.equal(calls.length, 1);
  assert.match(calls[0].id, /^tooluse_/);
  assert.equal(calls[0].type, 'function');
  assert.equal(calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(calls[0].function.arguments), {});
  const req = await lastRequest();
  assert.deepEqual(req.json.toolConfig, {
    tools: [
      {
        toolSpec: {
          name: 'get_weather',
          description: 'Weather for a city',
          inputSchema: { json: tools[0].function.parameters },
        },
      },
      { toolSpec: { name: 'get_time', description: 'get_time', inputSchema: { json: { type: 'object', properties: {} } } } },
    ],
    toolChoice: { auto: {} },
  });

  const named = await client.chat.completions.create({
    model: 'claude',
    messages,
    tools,
    tool_choice: { type: 'function', function: { name: 'get_time' } },
  });
  assert.equal(named.choices[0].message.tool_calls[0].function.name, 'get_time');
  assert.deepEqual((await lastRequest()).json.toolConfig.toolChoice, { tool: { name: 'get_time' } });
});

test('tool round trip: the call and its result go back as toolUse / toolResult', T, async () => {
  const first = await client.chat.completions.create({ model: 'claude', messages, tools });
  const call = first.choices[0].message.tool_calls[0];
  const second = await client.chat.completions.create({
    model: 'claude',
    tools,
    messages: [
      ...messages,
      first.choices[0].message,
      { role: 'tool', tool_call_id: call.id, content: '4C and rain' },
    ],
  });
  assert.equal(second.choices[0].finish_reason, 'stop');
  assert.equal(second.choices[0].message.content, chatText(MODEL_ID));
  const req = await lastRequest();
  assert.deepEqual(req.json.messages, [
    { role: 'user', content: [{ text: 'Say hello' }] },
    { role: 'assistant', content: [{ toolUse: { toolUseId: call.id, name: 'get_weather', input: {} } }] },
    { role: 'user', content: [{ toolResult: { toolUseId: call.id, content: [{ text: '4C and rain' }] } }] },
  ]);
});

test('streamed tool call: start and input deltas rebuild the call', T, async () => {
  const chunks = await collect(
    await client.chat.completions.create({ model: 'claude', messages, tools, tool_choice: 'required', stream: true }),
  );
  const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls || []);
  assert.ok(calls.length >= 2);
  assert.match(calls[0].id, /^tooluse_/);
  assert.equal(calls[0].function.name, 'get_weather');
  assert.ok(calls.every((c) => c.index === 0));
  assert.equal(calls.map((c) => c.function.arguments || '').join(''), '{}');
  assert.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'tool_calls');
  assert.deepEqual((await lastRequest()).json.toolConfig.toolChoice, { any: {} });
});

test('max_tokens below the answer: stopReason max_tokens is finish_reason length', T, async () => {
  const r = await client.chat.completions.create({ model: 'claude', messages, max_tokens: 5 });
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.choices[0].message.content, chatText(MODEL_ID, 5));
  assert.equal(r.usage.completion_tokens, 5);
});

test('bedrock/converse/<id>: the route prefix is not part of the model id', T, async () => {
  const r = await client.chat.completions.create({ model: 'haiku-converse', messages, mock: { tokens: 4 } });
  assert.equal(r.choices[0].message.content, chatText('anthropic.claude-3-haiku-20240307-v1:0', 4));
  assert.equal((await lastRequest()).path, `/model/${encodeURIComponent('anthropic.claude-3-haiku-20240307-v1:0')}/converse`);
});

test('temporary credentials: the session token is sent and signed', T, async () => {
  const r = await client.chat.completions.create({ model: 'claude-session', messages, mock: { tokens: 2 } });
  assert.equal(r.choices[0].message.content, chatText(MODEL_ID, 2));
  assertSigned(await lastRequest(), { token: 'session-token-e2e' });
});

test('a Bedrock API key is sent as Bearer instead of a signature', T, async () => {
  const r = await client.chat.completions.create({ model: 'claude-api-key', messages, mock: { tokens: 2 } });
  assert.equal(r.choices[0].message.content, chatText(MODEL_ID, 2));
  const req = await lastRequest();
  assert.equal(headerOf(req.headers, 'authorization'), 'Bearer bedrock-api-key-e2e');
  assert.equal(headerOf(req.headers, 'x-amz-date'), undefined);
});

test('Titan embeddings through InvokeModel', T, async () => {
  const r = await client.embeddings.create({ model: 'titan-embed', input: 'hello bedrock', encoding_format: 'float' });
  assert.equal(r.object, 'list');
  assert.equal(r.data.length, 1);
  assert.equal(r.data[0].object, 'embedding');
  assert.equal(r.data[0].index, 0);
  assert.equal(r.data[0].embedding.length, 1024, "Titan v2's default size");
  assert.ok(r.data[0].embedding.every((x) => typeof x === 'number' && Number.isFinite(x)));
  assert.equal(r.model, 'amazon.titan-embed-text-v2:0');
  assert.ok(r.usage.prompt_tokens > 0);
  const req = await lastRequest();
  assert.equal(req.path, `/model/${encodeURIComponent('amazon.titan-embed-text-v2:0')}/invoke`);
  assertSigned(req);
  assert.deepEqual(req.json, { inputText: 'hello bedrock' });

  const again = await client.embeddings.create({ model: 'titan-embed', input: ['hello bedrock'], encoding_format: 'float' });
  assert.deepEqual(again.data[0].embedding, r.data[0].embedding, 'same text, same vector');
  const small = await client.embeddings.create({ model: 'titan-embed', input: 'x', dimensions: 256, encoding_format: 'float' });
  assert.equal(small.data[0].embedding.length, 256);
  assert.deepEqual((await lastRequest()).json, { inputText: 'x', dimensions: 256 });
});

test('Titan embeddings: several inputs are refused with a 400 that names the limit', T, async () => {
  const r = await s.post('/v1/embeddings', { model: 'titan-embed', input: ['a', 'b'], encoding_format: 'float' });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error.message, /one input per request/);
});

test('Cohere embeddings through InvokeModel: a batch', T, async () => {
  const r = await client.embeddings.create({ model: 'cohere-embed', input: ['alpha', 'beta', 'alpha'], encoding_format: 'float' });
  assert.equal(r.data.length, 3);
  r.data.forEach((d, i) => assert.equal(d.index, i));
  assert.deepEqual(r.data[0].embedding, r.data[2].embedding);
  assert.notDeepEqual(r.data[0].embedding, r.data[1].embedding);
  assert.deepEqual((await lastRequest()).json, { texts: ['alpha', 'beta', 'alpha'], input_type: 'search_document' });
});

test('embeddings with the client default (base64) decode to the float vector', T, async () => {
  const f = await client.embeddings.create({ model: 'titan-embed', input: 'delta', encoding_format: 'float' });
  const b = await client.embeddings.create({ model: 'titan-embed', input: 'delta' });
  assert.equal(b.data[0].embedding.length, f.data[0].embedding.length);
  b.data[0].embedding.forEach((x, i) => assert.ok(Math.abs(x - f.data[0].embedding[i]) < 1e-6));
});

test('a wrong secret: the mock rejects the signature with 403 and sluice keeps it', T, async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'claude-wrong-secret', messages }),
    (e) => {
      assert.equal(e.status, 403);
      assert.equal(e.constructor.name, 'PermissionDeniedError');
      assert.match(e.message, /The request signature we calculated does not match/);
      return true;
    },
  );
  const r = await s.post('/v1/chat/completions', { model: 'claude-wrong-secret', messages, stream: true });
  assert.equal(r.status, 403, 'also for a stream');
  assert.match(r.json.error.message, /signature we calculated does not match/);
  const st = await s.mockStats();
  assert.equal(headerOf(st.last_request.headers, 'authorization').includes('Credential=AKIDEXAMPLE/'), true);
});

test('an unknown access key id: 403 from the mock', T, async () => {
  const r = await s.post('/v1/chat/completions', { model: 'claude-wrong-key-id', messages });
  assert.equal(r.status, 403, r.text);
  assert.match(r.json.error.message, /security token included in the request is invalid/);
});

test('provider errors keep their status: throttling, validation, server', T, async () => {
  for (const [status, cls, type] of [
    [429, 'RateLimitError', 'ThrottlingException'],
    [400, 'BadRequestError', 'ValidationException'],
    [503, 'InternalServerError', 'ServiceUnavailableException'],
  ]) {
    await assert.rejects(client.chat.completions.create({ model: 'claude', messages, mock: { status } }), (e) => {
      assert.equal(e.status, status);
      assert.equal(e.constructor.name, cls);
      assert.match(e.message, new RegExp(`mock error ${status}`));
      return true;
    });
    assert.ok(type); // the mock's x-amzn-ErrorType; sluice reports the status and message
  }
});

test('sluice refuses what Converse cannot take', T, async () => {
  const r = await s.post('/v1/chat/completions', { model: 'claude', messages, logit_bias: { 1: 2 } });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error.message, /logit_bias/);
  const img = await s.post('/v1/chat/completions', {
    model: 'claude',
    messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }],
  });
  assert.equal(img.status, 400, img.text);
  assert.match(img.json.error.message, /data: URL/);
});

test('a stream the provider breaks ends in an error for the client', T, async () => {
  for (const fault of ['malformed', 'drop-mid-stream']) {
    await assert.rejects(
      (async () => {
        const chunks = await collect(
          await client.chat.completions.create({ model: 'claude', messages, stream: true, mock: { fault, tokens: 6 } }),
        );
        // a stream that ends without an error event must at least not claim to be complete
        if (!chunks.some((c) => c.choices[0]?.finish_reason)) throw new Error('incomplete stream');
      })(),
      fault,
    );
  }
});

test('the mock itself: unsigned, badly signed and invalid requests get Bedrock errors', T, async () => {
  const url = `${s.mock.url}${MODEL_PATH}/converse`;
  const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
  const unsigned = await httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(unsigned.status, 403);
  assert.match(unsigned.headers['x-amzn-errortype'], /^MissingAuthenticationTokenException:/);
  assert.equal(unsigned.json.message, 'Missing Authentication Token');
  assert.ok(unsigned.headers['x-amzn-requestid']);

  const forged = await httpRequest(url, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-amz-date': new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, ''),
      authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20200101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    },
  });
  assert.equal(forged.status, 403);
  assert.match(forged.headers['x-amzn-errortype'], /^IncompleteSignatureException:/, 'date not the credential\'s');

  const bearer = { 'content-type': 'application/json', authorization: 'Bearer k' };
  const alternate = await httpRequest(url, {
    method: 'POST',
    headers: bearer,
    body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'a' }] }, { role: 'user', content: [{ text: 'b' }] }] }),
  });
  assert.equal(alternate.status, 400);
  assert.match(alternate.headers['x-amzn-errortype'], /^ValidationException:/);
  assert.match(alternate.json.message, /must alternate between user and assistant/);
  const extra = await httpRequest(url, { method: 'POST', headers: bearer, body: JSON.stringify({ messages: [], model: 'x' }) });
  assert.equal(extra.status, 400);
  assert.match(extra.json.message, /extraneous key \[model\]/);
  const stream = await httpRequest(`${s.mock.url}${MODEL_PATH}/converse-stream`, { method: 'POST', headers: bearer, body });
  assert.equal(stream.status, 200);
  assert.equal(stream.headers['content-type'], 'application/vnd.amazon.eventstream');
  const unknown = await httpRequest(`${s.mock.url}${MODEL_PATH}/chat`, { method: 'POST', headers: bearer, body });
  assert.equal(unknown.status, 404);
});
