// azure/ and azure_ai/ deployments on the mock, driven by the official openai client. Bodies pass
// through (only `model` is rewritten); what changes is where they go and how they authenticate:
// azure -> {api_base}/openai/deployments/<deployment>/<path>?api-version=V with `api-key`;
// azure_ai -> {api_base}/<path> with Bearer (a non-Azure host). /mock/stats' last_request shows
// the path, query, auth headers and body sluice sent.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { headerOf, SLOW, startStack, UPSTREAM_KEY } from './lib/harness.mjs';

const AD_TOKEN = 'eyJ0eXAiOiJKV1QifQ.e2e-entra-token';

let s;
let client;
before(async () => {
  s = await startStack({
    config: (ctx) => ({
      model_list: [
        {
          model_name: 'azure-gpt',
          litellm_params: { model: 'azure/my-gpt4o', api_base: ctx.mockUrl, api_version: '2024-10-21', api_key: UPSTREAM_KEY },
          model_info: { id: 'dep-azure' },
        },
        {
          model_name: 'azure-default-version',
          litellm_params: { model: 'azure/other-deployment', api_base: `${ctx.mockUrl}/`, api_key: UPSTREAM_KEY },
          model_info: { id: 'dep-azure-default' },
        },
        {
          model_name: 'azure-embed',
          litellm_params: { model: 'azure/my-embedding', api_base: ctx.mockUrl, api_version: '2024-10-21', api_key: UPSTREAM_KEY },
          model_info: { id: 'dep-azure-embed', mode: 'embedding' },
        },
        {
          model_name: 'azure-entra',
          litellm_params: { model: 'azure/entra-deployment', api_base: ctx.mockUrl, api_version: '2024-10-21', azure_ad_token: AD_TOKEN },
          model_info: { id: 'dep-azure-entra' },
        },
        {
          model_name: 'azure-ai',
          litellm_params: { model: 'azure_ai/mistral-large', api_base: ctx.mockUrl, api_key: UPSTREAM_KEY },
          model_info: { id: 'dep-azure-ai' },
        },
        {
          model_name: 'azure-ai-v1',
          litellm_params: { model: 'azure_ai/cohere-embed', api_base: `${ctx.mockUrl}/v1`, api_key: UPSTREAM_KEY },
          model_info: { id: 'dep-azure-ai-embed', mode: 'embedding' },
        },
      ],
      litellm_settings: { num_retries: 0 },
      router_settings: { num_retries: 0 },
      general_settings: { master_key: ctx.masterKey },
    }),
    env: { AZURE_API_VERSION: '', AZURE_AD_TOKEN: '' },
  });
  client = s.openai();
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 20000 * SLOW };
const messages = [{ role: 'user', content: 'Say hello' }];
const chatText = (model, tokens = 16) =>
  ['mock', ' answer', ' to', ` ${model}:`, ...Array.from({ length: Math.max(0, tokens - 4) }, (_, i) => ` w${i + 1}`)]
    .slice(0, tokens)
    .join('');

async function lastRequest() {
  const st = await s.mockStats();
  assert.ok(st.last_request, 'the mock saw a request');
  return { ...st.last_request, json: JSON.parse(st.last_request.body) };
}

test('azure chat: deployment URL, api-version, api-key header, body spliced', T, async () => {
  const r = await client.chat.completions.create({ model: 'azure-gpt', messages, temperature: 0.3 });
  assert.equal(r.choices[0].message.content, chatText('my-gpt4o'));
  assert.equal(r.choices[0].finish_reason, 'stop');
  const lr = await lastRequest();
  assert.equal(lr.path, '/openai/deployments/my-gpt4o/chat/completions');
  assert.equal(lr.query, 'api-version=2024-10-21');
  assert.equal(headerOf(lr.headers, 'api-key'), UPSTREAM_KEY);
  assert.equal(headerOf(lr.headers, 'authorization'), undefined, 'no Bearer next to api-key');
  assert.deepEqual(lr.json, { model: 'my-gpt4o', messages, temperature: 0.3 });
});

test('azure: without api_version the default is LiteLLM\'s (2025-02-01-preview); a trailing / in api_base is fine', T, async () => {
  await client.chat.completions.create({ model: 'azure-default-version', messages });
  const lr = await lastRequest();
  assert.equal(lr.path, '/openai/deployments/other-deployment/chat/completions');
  assert.equal(lr.query, 'api-version=2025-02-01-preview');
});

test('azure streaming with usage, and tool calls, pass through', T, async () => {
  const stream = await client.chat.completions.create({
    model: 'azure-gpt',
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    text += chunk.choices[0]?.delta?.content || '';
  }
  assert.equal(text, chatText('my-gpt4o'));
  assert.equal(usage?.completion_tokens, 16);
  const lr = await lastRequest();
  assert.equal(lr.path, '/openai/deployments/my-gpt4o/chat/completions');
  assert.equal(lr.json.stream, true);

  const t = await client.chat.completions.create({
    model: 'azure-gpt',
    messages,
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }],
  });
  assert.equal(t.choices[0].finish_reason, 'tool_calls');
  assert.equal(t.choices[0].message.tool_calls[0].function.name, 'get_weather');
});

test('azure embeddings: /openai/deployments/<d>/embeddings, base64 as the client asks', T, async () => {
  const f = await client.embeddings.create({ model: 'azure-embed', input: ['a', 'b'], encoding_format: 'float' });
  assert.equal(f.data.length, 2);
  let lr = await lastRequest();
  assert.equal(lr.path, '/openai/deployments/my-embedding/embeddings');
  assert.equal(lr.query, 'api-version=2024-10-21');
  assert.equal(headerOf(lr.headers, 'api-key'), UPSTREAM_KEY);
  const b = await client.embeddings.create({ model: 'azure-embed', input: ['a', 'b'] });
  b.data[0].embedding.forEach((x, i) => assert.ok(Math.abs(x - f.data[0].embedding[i]) < 1e-6));
  lr = await lastRequest();
  assert.equal(lr.json.encoding_format, 'base64');
});

test('azure errors: the status and message reach the client', T, async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'azure-gpt', messages, mock: { status: 429 } }),
    (e) => e.status === 429 && /mock error 429/.test(e.message),
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'azure-gpt', messages, mock: { status: 401 } }),
    (e) => e.status === 401,
  );
});

test('azure with azure_ad_token: Authorization: Bearer <token> instead of api-key', T, async () => {
  await client.chat.completions.create({ model: 'azure-entra', messages });
  const lr = await lastRequest();
  assert.equal(lr.path, '/openai/deployments/entra-deployment/chat/completions');
  assert.equal(headerOf(lr.headers, 'authorization'), `Bearer ${AD_TOKEN}`);
  assert.equal(headerOf(lr.headers, 'api-key'), undefined);
});

test('azure_ai chat: {api_base}/chat/completions with Bearer (not an Azure host)', T, async () => {
  const r = await client.chat.completions.create({ model: 'azure-ai', messages });
  assert.equal(r.choices[0].message.content, chatText('mistral-large'));
  const lr = await lastRequest();
  assert.equal(lr.path, '/chat/completions');
  assert.equal(lr.query, '', 'no api-version unless configured');
  assert.equal(headerOf(lr.headers, 'authorization'), `Bearer ${UPSTREAM_KEY}`);
  assert.equal(lr.json.model, 'mistral-large');
});

test('azure_ai embeddings: a base ending in /v1 keeps it', T, async () => {
  const r = await client.embeddings.create({ model: 'azure-ai-v1', input: 'x', encoding_format: 'float' });
  assert.equal(r.data.length, 1);
  const lr = await lastRequest();
  assert.equal(lr.path, '/v1/embeddings');
  assert.equal(lr.json.model, 'cohere-embed');
});
