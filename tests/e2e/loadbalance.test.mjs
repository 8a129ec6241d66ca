// simple-shuffle load balancing inside a model group: weights, and rpm when no weight is set.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deployment, SLOW, startStack } from './lib/harness.mjs';

let s;
before(async () => {
  s = await startStack({
    config: (ctx) => ({
      model_list: [
        deployment(ctx, 'lb-weighted', 'up-heavy', { litellm_params: { weight: 3 }, model_info: { id: 'lb-heavy' } }),
        deployment(ctx, 'lb-weighted', 'up-light', { litellm_params: { weight: 1 }, model_info: { id: 'lb-light' } }),
        deployment(ctx, 'lb-even', 'up-even-a', { model_info: { id: 'even-a' } }),
        deployment(ctx, 'lb-even', 'up-even-b', { model_info: { id: 'even-b' } }),
      ],
      router_settings: { routing_strategy: 'simple-shuffle', num_retries: 0 },
      general_settings: { master_key: ctx.masterKey },
    }),
  });
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

async function spread(model, n) {
  const agent = s.agent({ maxSockets: 8 });
  const counts = {};
  const models = {};
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const r = await s.post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'lb' }], mock: { tokens: 1 } }, { agent });
      assert.equal(r.status, 200, r.text);
      const id = r.headers['x-litellm-model-id'];
      counts[id] = (counts[id] || 0) + 1;
      models[id] = r.json.model;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { counts, models };
}

test('weights 3:1 send about three quarters of 200 requests to the heavy deployment', { timeout: 60000 * SLOW }, async () => {
  const n = 200;
  const { counts, models } = await spread('lb-weighted', n);
  assert.deepEqual(Object.keys(counts).sort(), ['lb-heavy', 'lb-light'], JSON.stringify(counts));
  assert.equal(counts['lb-heavy'] + counts['lb-light'], n);
  // binomial(200, 0.75): sd 6.1; allow 4 sd either way
  assert.ok(counts['lb-heavy'] >= 125 && counts['lb-heavy'] <= 175, `heavy got ${counts['lb-heavy']} of ${n}`);
  // the model id header and the upstream model agree
  assert.equal(models['lb-heavy'], 'up-heavy');
  assert.equal(models['lb-light'], 'up-light');
});

test('no weights: both deployments get traffic, about evenly', { timeout: 60000 * SLOW }, async () => {
  const n = 100;
  const { counts } = await spread('lb-even', n);
  assert.deepEqual(Object.keys(counts).sort(), ['even-a', 'even-b'], JSON.stringify(counts));
  // binomial(100, 0.5): sd 5; allow 4 sd
  assert.ok(counts['even-a'] >= 30 && counts['even-a'] <= 70, JSON.stringify(counts));
});
