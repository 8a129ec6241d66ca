// Every simulated provider through sluice with every client API: the official openai client
// (chat completions, and the Responses API) and the official @anthropic-ai/sdk (/v1/messages),
// JSON and streaming, tool calls included. One stack, one deployment per provider.
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { makeTempDir, SLOW, startStack, waitFor } from './lib/harness.mjs';

const AKID = 'AKIDEXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
let s, dir;

function serviceAccount(tokenUri) {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const file = path.join(dir, 'sa.json');
  writeFileSync(file, JSON.stringify({
    type: 'service_account', project_id: 'proj-m', private_key_id: 'k1', private_key: privateKey,
    client_email: 'm@proj-m.iam.gserviceaccount.com', client_id: '1', token_uri: tokenUri,
  }));
  return file;
}

const providers = {
  openai: (ctx) => ({ model: 'openai/gpt-m', api_base: ctx.mockBase, api_key: 'sk-up' }),
  anthropic: (ctx) => ({ model: 'anthropic/claude-m', api_base: ctx.mockUrl, api_key: 'sk-ant-up' }),
  gemini: (ctx) => ({ model: 'gemini/gemini-m', api_base: ctx.mockUrl, api_key: 'g-up' }),
  vertex_ai: (ctx) => ({
    model: 'vertex_ai/gemini-m', api_base: ctx.mockUrl, vertex_project: 'proj-m',
    vertex_location: 'us-central1', vertex_credentials: serviceAccount(`${ctx.mockUrl}/token`),
  }),
  bedrock: (ctx) => ({
    model: 'bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0', aws_access_key_id: AKID,
    aws_secret_access_key: SECRET, aws_region_name: 'us-east-1', aws_bedrock_runtime_endpoint: ctx.mockUrl,
  }),
  azure: (ctx) => ({ model: 'azure/dep-m', api_base: ctx.mockUrl, api_key: 'az-up', api_version: '2024-10-21' }),
  cohere: (ctx) => ({ model: 'cohere/command-m', api_base: ctx.mockUrl, api_key: 'co-up' }),
  ollama_chat: (ctx) => ({ model: 'ollama_chat/llama-m', api_base: ctx.mockUrl }),
};

before(async () => {
  dir = makeTempDir('sluice-matrix-');
  s = await startStack({
    config: (ctx) => ({
      model_list: Object.entries(providers).map(([name, lp]) => ({ model_name: `m-${name}`, litellm_params: lp(ctx) })),
      litellm_settings: { num_retries: 0, drop_params: true },
      general_settings: { master_key: ctx.masterKey },
    }),
  });
  // vertex's first token is fetched in the background
  await waitFor(async () => (await s.post('/v1/chat/completions', {
    model: 'm-vertex_ai', messages: [{ role: 'user', content: 'hi' }],
  })).status === 200, { timeout: 15000 * SLOW, what: 'a vertex_ai token' });
}, { timeout: 60000 * SLOW });
after(async () => {
  await s?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, { timeout: 30000 * SLOW });

const T = { timeout: 20000 * SLOW };
const weather = { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

for (const name of Object.keys(providers)) {
  const model = `m-${name}`;

  test(`${name}: openai chat JSON, stream and tool call`, T, async () => {
    const c = s.openai();
    const r = await c.chat.completions.create({ model, messages: [{ role: 'user', content: 'Say hi' }] });
    assert.ok(r.choices[0].message.content.length > 0, JSON.stringify(r));
    assert.equal(r.object, 'chat.completion');
    let text = '', finish = null;
    for await (const ch of await c.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true })) {
      text += ch.choices[0]?.delta?.content ?? '';
      finish = ch.choices[0]?.finish_reason ?? finish;
    }
    assert.ok(text.length > 0);
    assert.equal(finish, 'stop');
    const t = await c.chat.completions.create({
      model, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [{ type: 'function', function: weather }],
    });
    assert.equal(t.choices[0].finish_reason, 'tool_calls', JSON.stringify(t));
    assert.equal(t.choices[0].message.tool_calls[0].function.name, 'get_weather');
  });

  test(`${name}: anthropic SDK messages JSON, stream and tool use`, T, async () => {
    const a = new Anthropic({ apiKey: s.masterKey, baseURL: s.url, maxRetries: 0 });
    const m = await a.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: 'Say hi' }] });
    assert.equal(m.type, 'message');
    assert.equal(m.content[0].type, 'text');
    assert.ok(m.content[0].text.length > 0);
    const types = [];
    let text = '';
    for await (const ev of await a.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true })) {
      types.push(ev.type);
      if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
    }
    assert.equal(types[0], 'message_start');
    assert.equal(types.at(-1), 'message_stop');
    assert.ok(text.length > 0);
    const t = await a.messages.create({
      model, max_tokens: 64, messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ name: weather.name, description: weather.description, input_schema: weather.parameters }],
    });
    assert.equal(t.stop_reason, 'tool_use', JSON.stringify(t));
    assert.equal(t.content.find((b) => b.type === 'tool_use').name, 'get_weather');
  });

  test(`${name}: openai Responses API JSON and stream`, T, async () => {
    const c = s.openai();
    const r = await c.responses.create({ model, input: 'Say hi' });
    assert.equal(r.object, 'response');
    assert.ok(r.output_text.length > 0, JSON.stringify(r));
    const types = [];
    for await (const ev of await c.responses.create({ model, input: 'hi', stream: true })) types.push(ev.type);
    assert.equal(types[0], 'response.created');
    assert.equal(types.at(-1), 'response.completed');
    assert.ok(types.includes('response.output_text.delta'));
  });
}
