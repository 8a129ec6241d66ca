// Embeddings: deterministic vectors, dimensions, batches, base64 (the openai client's default).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SLOW, startStack } from './lib/harness.mjs';
import { assertSchema } from './lib/schema.mjs';

let s;
let client;
before(async () => {
  s = await startStack();
  client = s.openai();
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 15000 * SLOW };
const model = 'text-embedding-3-small';

function close(a, b) {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= 1e-6 * Math.max(1, Math.abs(x)), `component ${i}: ${x} vs ${b[i]}`));
}

test('a batch of inputs: one vector per input, in order; same text gives the same vector', T, async () => {
  const { data: r, response } = await client.embeddings
    .create({ model, input: ['alpha', 'beta', 'alpha'], encoding_format: 'float' })
    .withResponse();
  assert.equal(r.object, 'list');
  assert.equal(r.model, 'mock-embedding-small');
  assert.equal(r.data.length, 3);
  r.data.forEach((d, i) => {
    assert.equal(d.object, 'embedding');
    assert.equal(d.index, i);
    assert.equal(d.embedding.length, 8, 'default dimensions');
    assert.ok(d.embedding.every((x) => typeof x === 'number' && Number.isFinite(x)));
  });
  assert.deepEqual(r.data[0].embedding, r.data[2].embedding);
  assert.notDeepEqual(r.data[0].embedding, r.data[1].embedding);
  assert.ok(r.usage.prompt_tokens > 0);
  assert.equal(response.headers.get('x-litellm-model-id'), 'dep-embed');
  assert.equal(response.headers.get('x-litellm-model-group'), model);

  const again = await client.embeddings.create({ model, input: 'beta', encoding_format: 'float' });
  assert.deepEqual(again.data[0].embedding, r.data[1].embedding, 'deterministic across requests');
});

test('dimensions is honoured', T, async () => {
  const r = await client.embeddings.create({ model, input: 'gamma', dimensions: 32, encoding_format: 'float' });
  assert.equal(r.data[0].embedding.length, 32);
});

test('base64 encoding (the client\'s default) decodes to the float vector', T, async () => {
  const f = await client.embeddings.create({ model, input: 'delta', encoding_format: 'float' });
  const b = await client.embeddings.create({ model, input: 'delta' }); // client asks base64, decodes
  close(b.data[0].embedding, f.data[0].embedding);
  const raw = await s.post('/v1/embeddings', { model, input: 'delta', encoding_format: 'base64' });
  assert.equal(raw.status, 200, raw.text);
  assert.equal(typeof raw.json.data[0].embedding, 'string');
  const buf = Buffer.from(raw.json.data[0].embedding, 'base64');
  assert.equal(buf.length, 8 * 4);
  const floats = Array.from({ length: 8 }, (_, i) => buf.readFloatLE(i * 4));
  close(floats, f.data[0].embedding);
});

test('/embeddings (no /v1) matches OpenAI\'s CreateEmbeddingResponse schema', T, async () => {
  const r = await s.post('/embeddings', { model, input: ['x', 'y'], encoding_format: 'float' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.data.length, 2);
  assertSchema('CreateEmbeddingResponse', r.json);
});

test('token-array input', T, async () => {
  const r = await client.embeddings.create({ model, input: [[1, 2, 3], [4, 5]], encoding_format: 'float' });
  assert.equal(r.data.length, 2);
});
