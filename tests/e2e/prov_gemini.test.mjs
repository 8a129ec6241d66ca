// Native providers gemini (AI Studio) and vertex_ai (service-account OAuth2) through sluice, driven
// with the official openai client: JSON, streams, tool calls, embeddings and errors, and what
// sluice-mock received (path, auth header, the translated Gemini body) via /mock/stats.
// Mock controls cannot ride in the body here (sluice rebuilds it for Gemini), so the error
// deployments carry them as extra_headers.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { errorOf, freePort, headerOf, httpRequest, makeTempDir, SLOW, startStack, waitFor } from './lib/harness.mjs';
import { assertSchema } from './lib/schema.mjs';

const GEMINI_KEY = 'gk-e2e-gemini-key-1234';
const MODEL = 'gemini-2.0-flash';
const T = { timeout: 20000 * SLOW };
const messages = [{ role: 'user', content: 'hi' }];

let s;
let client;
let deadTokenPort;
let credDir; // service account files
/** A service account JSON with a fresh RSA key, written into the stack's temp dir. */
function serviceAccount(dir, name, tokenUri) {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify({
    type: 'service_account',
    project_id: 'proj-from-creds',
    private_key_id: 'e2e-key-1',
    private_key: privateKey,
    client_email: 'sluice-e2e@proj-e2e.iam.gserviceaccount.com',
    client_id: '1234567890',
    token_uri: tokenUri,
  }));
  return file;
}

function config(ctx) {
  const sa = serviceAccount(credDir, 'sa.json', `${ctx.mockUrl}/token`);
  const saDead = serviceAccount(credDir, 'sa-dead.json', `http://127.0.0.1:${deadTokenPort}/token`);
  const gemini = (name, model, extra = {}) => ({
    model_name: name,
    litellm_params: { model: `gemini/${model}`, api_base: ctx.mockUrl, api_key: GEMINI_KEY, ...extra },
  });
  const vertex = (name, model, extra = {}) => ({
    model_name: name,
    litellm_params: {
      model: `vertex_ai/${model}`,
      api_base: ctx.mockUrl,
      vertex_project: 'proj-e2e',
      vertex_location: 'us-central1',
      vertex_credentials: sa,
      ...extra,
    },
  });
  return {
    model_list: [
      { ...gemini('gemini-flash', MODEL), model_info: { id: 'dep-gemini' } },
      { ...vertex('vertex-flash', MODEL), model_info: { id: 'dep-vertex' } },
      { ...gemini('gemini-embed', 'text-embedding-004'), model_info: { mode: 'embedding' } },
      { ...vertex('vertex-embed', 'text-embedding-004'), model_info: { mode: 'embedding' } },
      gemini('gemini-429', MODEL, { extra_headers: { 'x-mock-status': '429' } }),
      gemini('gemini-400', MODEL, { extra_headers: { 'x-mock-status': '400' } }),
      gemini('gemini-slow', MODEL, { extra_headers: { 'x-mock-chunk-delay-ms': '20', 'x-mock-tokens': '6' } }),
      gemini('gemini-drop', MODEL, { extra_headers: { 'x-mock-fault': 'drop-mid-stream' } }),
      vertex('vertex-503', MODEL, { extra_headers: { 'x-mock-status': '503' } }),
      { model_name: 'gemini-nokey', litellm_params: { model: `gemini/${MODEL}`, api_base: ctx.mockUrl } },
      vertex('vertex-notoken', MODEL, { vertex_credentials: saDead }),
    ],
    litellm_settings: { num_retries: 0 },
    router_settings: { num_retries: 0, disable_cooldowns: true },
    general_settings: { master_key: ctx.masterKey },
  };
}

before(async () => {
  deadTokenPort = await freePort(); // nothing listens: that credential never gets a token
  credDir = makeTempDir('sluice-gemini-');
  s = await startStack({
    config, // runs once the mock is up, so token_uri can name it
    env: { GEMINI_API_KEY: '', GOOGLE_API_KEY: '', GOOGLE_APPLICATION_CREDENTIALS: '' },
  });
  client = s.openai();
  // the refresher fetches the first token in the background: wait until vertex answers
  await waitFor(async () => {
    const r = await s.post('/v1/chat/completions', { model: 'vertex-flash', messages });
    return r.status === 200;
  }, { timeout: 10000 * SLOW, what: 'a vertex_ai access token' });
}, { timeout: 40000 * SLOW });
after(async () => {
  await s?.stop();
  if (credDir) rmSync(credDir, { recursive: true, force: true });
}, { timeout: 30000 * SLOW });

async function lastRequest() {
  const st = await s.mockStats();
  assert.ok(st.last_request, 'the mock saw a request');
  return { ...st.last_request, json: JSON.parse(st.last_request.body) };
}

const ANSWER = `mock answer to ${MODEL}: w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12`;

test('gemini: JSON answer, translated request, x-goog-api-key', T, async () => {
  const { data: r, response } = await client.chat.completions
    .create({
      model: 'gemini-flash',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'Weather in Oslo?' },
      ],
      temperature: 0.3,
      max_tokens: 64,
      stop: ['END'],
    })
    .withResponse();
  assertSchema('CreateChatCompletionResponse', JSON.parse(JSON.stringify(r)));
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, ANSWER);
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.usage.completion_tokens, 16);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 16);
  assert.equal(response.headers.get('x-litellm-model-id'), 'dep-gemini');

  const last = await lastRequest();
  assert.equal(last.method, 'POST');
  assert.equal(last.path, `/v1beta/models/${MODEL}:generateContent`);
  assert.equal(headerOf(last.headers, 'x-goog-api-key'), GEMINI_KEY);
  assert.equal(headerOf(last.headers, 'authorization'), undefined, 'no OpenAI-style auth upstream');
  assert.deepEqual(last.json.systemInstruction, { parts: [{ text: 'Be terse.' }] });
  assert.deepEqual(last.json.contents, [{ role: 'user', parts: [{ text: 'Weather in Oslo?' }] }]);
  assert.deepEqual(last.json.generationConfig, { temperature: 0.3, maxOutputTokens: 64, stopSequences: ['END'] });
  assert.equal(last.json.model, undefined);
  // usage comes from Gemini's usageMetadata: the mock counts its body bytes / 4
  assert.equal(r.usage.prompt_tokens, Math.ceil(Buffer.byteLength(last.body) / 4));
});

test('vertex_ai: JSON answer with a Bearer token from the service-account JWT flow', T, async () => {
  const r = await client.chat.completions.create({ model: 'vertex-flash', messages });
  assert.equal(r.choices[0].message.content, ANSWER);
  const last = await lastRequest();
  assert.equal(last.path, `/v1/projects/proj-e2e/locations/us-central1/publishers/google/models/${MODEL}:generateContent`);
  const auth = headerOf(last.headers, 'authorization');
  assert.match(auth, /^Bearer ya29\.mock-[A-Za-z0-9]{24}\.[0-9a-f]{16}$/, 'a token the mock issued at /token');
  assert.equal(headerOf(last.headers, 'x-goog-api-key'), undefined);
});

test('the token endpoint: a real JWT assertion gets a token, a forged one does not', T, async () => {
  // the refresher already went through it; here the mock's checks are pinned directly
  const bad = await httpRequest(`${s.mock.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=e30.e30.c2ln',
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'invalid_grant');
  const wrongGrant = await httpRequest(`${s.mock.url}/token`, { method: 'POST', body: 'grant_type=password' });
  assert.equal(wrongGrant.json.error, 'unsupported_grant_type');
  // a vertex path with a token the mock never issued is refused
  const forged = await httpRequest(
    `${s.mock.url}/v1/projects/p/locations/l/publishers/google/models/${MODEL}:generateContent`,
    { method: 'POST', headers: { authorization: 'Bearer ya29.mock-AAAAAAAAAAAAAAAAAAAAAAAA.0000000000000000' }, body: '{"contents":[{"parts":[{"text":"x"}]}]}' },
  );
  assert.equal(forged.status, 401);
  assert.equal(forged.json.error.status, 'UNAUTHENTICATED');
});

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

for (const model of ['gemini-flash', 'vertex-flash']) {
  test(`${model}: stream of content deltas, finish_reason, usage`, T, async () => {
    const chunks = await collect(await client.chat.completions.create({
      model, messages, stream: true, stream_options: { include_usage: true },
    }));
    for (const c of chunks) {
      assertSchema('CreateChatCompletionStreamResponse', JSON.parse(JSON.stringify(c)));
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.id, chunks[0].id, 'one id for the whole stream');
    }
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, ANSWER);
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
    assert.equal(finish.length, 1);
    assert.equal(finish[0].choices[0].finish_reason, 'stop');
    const usage = chunks.find((c) => c.usage)?.usage;
    assert.ok(usage, 'usage reported');
    assert.equal(usage.completion_tokens, 16);
    const last = await lastRequest();
    assert.match(last.path, /:streamGenerateContent$/);
    assert.equal(last.query, 'alt=sse');
  });
}

test('a slow stream arrives chunk by chunk', T, async () => {
  const stream = await client.chat.completions.create({ model: 'gemini-slow', messages, stream: true });
  const times = [];
  let text = '';
  for await (const c of stream) {
    times.push(Date.now());
    text += c.choices[0]?.delta?.content ?? '';
  }
  assert.equal(text, `mock answer to ${MODEL}: w1 w2`);
  assert.ok(times.at(-1) - times[0] >= 60, `spread over the chunk delays (${times.at(-1) - times[0]} ms)`);
});

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: {
      type: 'object',
      additionalProperties: false,
      properties: { city: { type: 'string' }, unit: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
      required: ['city'],
    },
  },
};

test('tool call: functionDeclarations out, tool_calls back', T, async () => {
  const r = await client.chat.completions.create({
    model: 'gemini-flash',
    messages,
    tools: [weatherTool, { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } }],
    tool_choice: { type: 'function', function: { name: 'get_time' } },
  });
  assertSchema('CreateChatCompletionResponse', JSON.parse(JSON.stringify(r)));
  const msg = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.equal(msg.content, null);
  assert.equal(msg.tool_calls.length, 1);
  assert.match(msg.tool_calls[0].id, /^call_[A-Za-z0-9]{24}$/);
  assert.equal(msg.tool_calls[0].type, 'function');
  assert.equal(msg.tool_calls[0].function.name, 'get_time');
  assert.equal(msg.tool_calls[0].function.arguments, '{}');

  const last = await lastRequest();
  const decls = last.json.tools[0].functionDeclarations;
  assert.deepEqual(decls[0], {
    name: 'get_weather',
    description: 'Current weather',
    parameters: { type: 'object', required: ['city'], properties: { city: { type: 'string' }, unit: { type: 'string', nullable: true } } },
  }, 'JSON-schema keys Gemini rejects are dropped');
  assert.deepEqual(decls[1], { name: 'get_time' }, 'an empty object schema is left out');
  assert.deepEqual(last.json.toolConfig, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_time'] } });
});

test('tool call streamed: one complete tool-call delta, then finish_reason tool_calls', T, async () => {
  const chunks = await collect(await client.chat.completions.create({
    model: 'vertex-flash', messages, tools: [weatherTool], stream: true,
  }));
  const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].index, 0);
  assert.match(calls[0].id, /^call_/);
  assert.equal(calls[0].function.name, 'get_weather');
  assert.equal(calls[0].function.arguments, '{}');
  assert.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'tool_calls');
});

test('tool results go back as functionResponse parts named after the call', T, async () => {
  const r = await client.chat.completions.create({
    model: 'gemini-flash',
    tools: [weatherTool],
    tool_choice: 'none',
    messages: [
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_abc', content: '{"temp_c":21}' },
    ],
  });
  assert.equal(r.choices[0].message.content, ANSWER, 'tool_choice none: a text answer');
  const last = await lastRequest();
  assert.deepEqual(last.json.contents.slice(1), [
    { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Oslo' } } }] },
    { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp_c: 21 } } }] },
  ]);
  assert.deepEqual(last.json.toolConfig, { functionCallingConfig: { mode: 'NONE' } });
});

test('images: data URLs inline, gs:// and typed https URLs by reference', T, async () => {
  await client.chat.completions.create({
    model: 'gemini-flash',
    messages: [{
      role: 'user',
      content: [
        { type: 'text', text: 'What is this?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        { type: 'image_url', image_url: { url: 'gs://bucket/cat.jpg' } },
      ],
    }],
  });
  const last = await lastRequest();
  assert.deepEqual(last.json.contents[0].parts.slice(1), [
    { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
    { fileData: { mimeType: 'image/jpeg', fileUri: 'gs://bucket/cat.jpg' } },
  ]);
  // an http URL whose type cannot be told is refused before any upstream call
  await assert.rejects(client.chat.completions.create({
    model: 'gemini-flash',
    messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/pic' } }] }],
  }), (err) => err.status === 400 && /format/.test(err.message));
});

async function mockEmbedding(input, dimensions) {
  const r = await httpRequest(`${s.mock.url}/v1/embeddings`, {
    method: 'POST',
    headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'x', input, dimensions }),
  });
  return r.json.data.map((d) => d.embedding);
}

for (const [model, pathRe] of [
  ['gemini-embed', /^\/v1beta\/models\/text-embedding-004:batchEmbedContents$/],
  ['vertex-embed', /^\/v1\/projects\/proj-e2e\/locations\/us-central1\/publishers\/google\/models\/text-embedding-004:predict$/],
]) {
  test(`${model}: embeddings (float), dimensions mapped, one vector per input`, T, async () => {
    const r = await client.embeddings.create({ model, input: ['alpha', 'beta'], dimensions: 4, encoding_format: 'float' });
    assertSchema('CreateEmbeddingResponse', JSON.parse(JSON.stringify(r)));
    assert.equal(r.object, 'list');
    assert.equal(r.data.length, 2);
    assert.deepEqual(r.data.map((d) => d.index), [0, 1]);
    const last = await lastRequest();
    // the mock's vectors are deterministic per text, the same on every route
    assert.deepEqual(r.data.map((d) => d.embedding), await mockEmbedding(['alpha', 'beta'], 4));
    assert.match(last.path, pathRe);
    if (model === 'gemini-embed') {
      assert.deepEqual(last.json.requests[0], {
        model: 'models/text-embedding-004', content: { parts: [{ text: 'alpha' }] }, outputDimensionality: 4,
      });
    } else {
      assert.deepEqual(last.json, { instances: [{ content: 'alpha' }, { content: 'beta' }], parameters: { outputDimensionality: 4 } });
      assert.ok(r.usage.prompt_tokens > 0, 'Vertex reports token counts');
    }
  });
}

test('embeddings in the client\'s default base64 encoding (packed by the gateway)', T, async () => {
  const r = await client.embeddings.create({ model: 'gemini-embed', input: 'alpha', dimensions: 4 });
  assert.deepEqual(Array.from(r.data[0].embedding), (await mockEmbedding('alpha', 4))[0].map(Math.fround));
});

test('upstream errors keep their status; Google\'s message reaches the client', T, async () => {
  await assert.rejects(client.chat.completions.create({ model: 'gemini-429', messages }), (err) => {
    assert.ok(err instanceof OpenAI.RateLimitError, err.constructor.name);
    assert.equal(err.status, 429);
    assert.match(err.message, /mock error 429/);
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: 'gemini-400', messages }), (err) => err.status === 400);
  await assert.rejects(client.chat.completions.create({ model: 'vertex-503', messages }), (err) => err.status === 503);
  const raw = await s.post('/v1/chat/completions', { model: 'gemini-429', messages, stream: true });
  assert.equal(raw.status, 429, 'an error before the stream started is a plain JSON error');
  errorOf(raw);
});

test('a missing API key reaches Gemini as no key (403); a credential without a token is a 503', T, async () => {
  await assert.rejects(client.chat.completions.create({ model: 'gemini-nokey', messages }), (err) => {
    assert.equal(err.status, 403);
    assert.match(err.message, /unregistered callers/);
    return true;
  });
  const before = (await s.mockStats()).requests;
  await assert.rejects(client.chat.completions.create({ model: 'vertex-notoken', messages }), (err) => {
    assert.equal(err.status, 503);
    assert.match(err.message, /no access token yet/);
    return true;
  });
  assert.equal((await s.mockStats()).requests, before, 'nothing was sent upstream');
});

test('unsupported OpenAI parameters: 400 naming them, nothing sent upstream', T, async () => {
  const before = (await s.mockStats()).requests;
  const r = await s.post('/v1/chat/completions', { model: 'gemini-flash', messages, logit_bias: { 50256: -100 } });
  assert.equal(r.status, 400, r.text);
  assert.match(errorOf(r).message, /logit_bias/);
  assert.equal((await s.mockStats()).requests, before);
});

test('a stream the upstream cuts short ends with an error, not a clean finish', T, async () => {
  const r = await s.post('/v1/chat/completions', { model: 'gemini-drop', messages, stream: true });
  assert.equal(r.status, 200);
  assert.doesNotMatch(r.text, /"finish_reason":"stop"/);
  assert.match(r.text, /error/);
});
