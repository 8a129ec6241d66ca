// Router state shared through Redis (LiteLLM keeps cooldowns and deployment usage in its shared
// cache): two sluice processes on one real redis-server. A deployment one instance cools down is
// skipped by the other, and usage-based routing weighs deployments by the tokens of both.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeTempDir, MASTER_KEY, renderConfig, sleep, SLOW, startMock, startSluice, UPSTREAM_KEY } from './lib/harness.mjs';
import { REDIS_BIN, startRedis } from './lib/redis.mjs';

const T = { timeout: 30000 * SLOW };

const dep = (ctx, group, id, { headers = {}, ...lp } = {}) => ({
  model_name: group,
  litellm_params: {
    model: 'openai/mock-shared',
    api_base: ctx.mockBase,
    api_key: UPSTREAM_KEY,
    extra_headers: { 'x-mock-id': id, ...headers },
    ...lp,
  },
  model_info: { id },
});

const config = (ctx) => ({
  model_list: [
    dep(ctx, 'shared-cool', 'sc-bad', { headers: { 'x-mock-status': '429' }, cooldown_time: 30 }),
    dep(ctx, 'shared-cool', 'sc-good', { cooldown_time: 30 }),
    dep(ctx, 'usage', 'u1'),
    dep(ctx, 'usage', 'u2'),
  ],
  router_settings: { routing_strategy: 'usage-based-routing-v2' },
  litellm_settings: { num_retries: 0 },
  general_settings: { master_key: ctx.masterKey },
});

describe('two instances share cooldowns and deployment usage through Redis', { skip: !REDIS_BIN && 'no redis-server' }, () => {
  let dir, mock, redis, a, b;

  before(async () => {
    dir = makeTempDir('sluice-shared-router-');
    redis = await startRedis(dir);
    mock = await startMock({ logDir: dir });
    const ctx = { mockPort: mock.port, mockUrl: mock.url, mockBase: `${mock.url}/v1`, masterKey: MASTER_KEY };
    const text = renderConfig(config, ctx);
    const env = { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redis.port) };
    const start = (name) =>
      startSluice({ configText: text, configPath: path.join(dir, `${name}.yaml`), env, logDir: dir });
    a = await start('a');
    b = await start('b');
    for (const p of [a, b]) await p.waitForLog(/answers: limits are shared/, 10000 * SLOW);
  }, { timeout: 60000 * SLOW });

  after(async () => {
    const problems = [];
    for (const p of [a, b, mock].filter(Boolean)) {
      try {
        await p.stop();
      } catch (e) {
        problems.push(e.message);
      }
      problems.push(...p.problems());
    }
    redis?.kill();
    if (problems.length) throw new Error(`teardown: ${problems.join('; ')}\nlogs kept in ${dir}`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, { timeout: 60000 * SLOW });

  const chat = (p, model, content = 'hi') =>
    fetch(`${p.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}` },
      body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
    }).then(async (r) => ({ status: r.status, id: r.headers.get('x-litellm-model-id'), text: await r.text() }));
  const hits = async (id) => ((await mock.stats()).by_id[id] || { requests: 0 }).requests;

  test('a deployment cooled down on one instance is skipped by the other', T, async () => {
    // usage-based: the failing deployment never gains tokens, so each instance would pick it
    // first on its own; instance a meets its 429 and cools it for 30 s
    for (let i = 0; i < 10 && (await hits('sc-bad')) === 0; i++) await chat(a, 'shared-cool');
    assert.equal(await hits('sc-bad'), 1);
    await sleep(150); // a publishes with its next batch (5 ms); b reads marks every 50 ms
    for (let i = 0; i < 10; i++) {
      const r = await chat(b, 'shared-cool');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.id, 'sc-good');
    }
    assert.equal(await hits('sc-bad'), 1, 'instance b never called the deployment a cooled down');
  });

  test('usage-based routing weighs deployments by the tokens of every instance', T, async () => {
    // b looks at the group first (so it watches both deployments' counters), then a spends ~1,000
    // tokens on one of them: b's small calls all go to the other
    assert.equal((await chat(b, 'usage')).status, 200);
    await sleep(200);
    const big = await chat(a, 'usage', 'x'.repeat(4000));
    assert.equal(big.status, 200, big.text);
    await sleep(200);
    const other = big.id === 'u1' ? 'u2' : 'u1';
    const seen = [];
    for (let i = 0; i < 6; i++) {
      const r = await chat(b, 'usage');
      assert.equal(r.status, 200, r.text);
      seen.push(r.id);
    }
    assert.deepEqual(seen, Array(6).fill(other), `b's calls went to ${seen} after a used ${big.id}`);
  });
});
