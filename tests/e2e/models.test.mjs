// /v1/models and /models list the config's model groups.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deployment, SLOW, startStack } from './lib/harness.mjs';
import { assertSchema } from './lib/schema.mjs';

const groups = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small', 'claude-ish'];
let s;
before(async () => {
  s = await startStack({
    config: (ctx) => ({
      model_list: [
        deployment(ctx, 'gpt-4o-mini', 'up-mini-a'),
        deployment(ctx, 'gpt-4o-mini', 'up-mini-b'), // two deployments, one group
        deployment(ctx, 'gpt-4o', 'up-4o'),
        deployment(ctx, 'text-embedding-3-small', 'up-embed', { model_info: { mode: 'embedding' } }),
        deployment(ctx, 'claude-ish', 'up-claude'),
      ],
      general_settings: { master_key: ctx.masterKey },
    }),
  });
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 15000 * SLOW };

test('client.models.list() lists each model_name once', T, async () => {
  const ids = [];
  for await (const m of s.openai().models.list()) {
    assert.equal(m.object, 'model');
    ids.push(m.id);
  }
  assert.deepEqual([...ids].sort(), [...groups].sort());
});

for (const route of ['/v1/models', '/models']) {
  test(`GET ${route} is an OpenAI model list`, T, async () => {
    const r = await s.request(route);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'list');
    assert.deepEqual(r.json.data.map((m) => m.id).sort(), [...groups].sort());
    assertSchema('ListModelsResponse', r.json);
  });
}

test('GET /v1/models needs a key', T, async () => {
  const r = await s.request('/v1/models', { auth: false });
  assert.equal(r.status, 401, r.text);
});
