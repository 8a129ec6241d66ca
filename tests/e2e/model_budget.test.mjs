// A key's model_max_budget, on the SQLite default and on a real PostgreSQL: the spend on the
// budgeted model is written to the key row's model_spend (under the model the client asked for)
// and read back by a restarted sluice, so the budget holds across restarts and instances. Two
// calls fit under the limit, the third is refused with 429 budget_exceeded; after a restart on the
// same database the key is still refused for that model and still works for another.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import OpenAI from 'openai';
import { deployment, errorOf, httpRequest, SLOW, startSluice, waitFor } from './lib/harness.mjs';
import { describeBackends } from './lib/backends.mjs';

const T = { timeout: 30000 * SLOW };
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'count my model spend' }] };
const priced = { input_cost_per_token: 0.001, output_cost_per_token: 0.002 };

const config = (ctx) => ({
  model_list: [
    deployment(ctx, 'gpt-4o-mini', 'mock-gpt-4o-mini', { model_info: { id: 'dep-mini', ...priced } }),
    deployment(ctx, 'gpt-4o', 'mock-gpt-4o', { model_info: { id: 'dep-4o', ...priced } }),
  ],
  litellm_settings: { num_retries: 0 },
  general_settings: { master_key: ctx.masterKey, proxy_batch_write_at: 0.2 },
});

describeBackends('model_max_budget', { config }, (ctx) => {
  const client = (url, key) =>
    new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0, timeout: 20000 * SLOW });

  /** One call's cost, from x-litellm-response-cost. */
  async function callCost(url, key, body = chat) {
    const { response } = await client(url, key).chat.completions.create(body).withResponse();
    const cost = Number(response.headers.get('x-litellm-response-cost'));
    assert.ok(cost > 0, `cost ${cost}`);
    return cost;
  }

  function post(url, key, body) {
    return httpRequest(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  test('BudgetConfig\'s other names: max_budget and budget_duration; rpm_limit limits the model', T, async () => {
    const s = ctx.s;
    const r = await s.post('/key/generate', {
      key_alias: 'model-budget-config',
      model_max_budget: {
        'gpt-4o-mini': { max_budget: 0.0000001, budget_duration: '30d' },
        'gpt-4o': { max_budget: 100, budget_duration: '1d', rpm_limit: 2 },
      },
    });
    assert.equal(r.status, 200, r.text);
    const k = r.json;
    await callCost(s.url, k.key); // spend 0 is not over the budget yet
    const over = await post(s.url, k.key, chat);
    assert.equal(over.status, 429, over.text);
    assert.equal(errorOf(over).type, 'budget_exceeded');
    assert.match(errorOf(over).message, /key_alias: model-budget-config, exceeded budget for model=gpt-4o-mini$/);
    const g4o = { ...chat, model: 'gpt-4o' };
    await callCost(s.url, k.key, g4o);
    await callCost(s.url, k.key, g4o);
    const third = await post(s.url, k.key, g4o);
    assert.equal(third.status, 429, third.text);
    assert.equal(errorOf(third).type, 'throttling_error');
    assert.match(errorOf(third).message, new RegExp(`^Rate limit exceeded for model_per_key: ${k.token}:gpt-4o\\. Limit type: requests\\. Current limit: 2, Remaining: 0\\.`));
  });

  test('the third call is refused; a restarted sluice still refuses that model only', T, async () => {
    const s = ctx.s;
    // the mock's usage is the same for the same prompt: one call with another key prices it
    const probe = (await s.post('/key/generate', {})).json;
    const cost = await callCost(s.url, probe.key);
    const limit = cost * 1.5; // one call fits, two go over (LiteLLM compares with '>')
    const r = await s.post('/key/generate', {
      key_alias: 'model-budget',
      model_max_budget: { 'gpt-4o-mini': { budget_limit: limit, time_period: '30d' } },
    });
    assert.equal(r.status, 200, r.text);
    const k = r.json;

    assert.equal(await callCost(s.url, k.key), cost);
    assert.equal(await callCost(s.url, k.key), cost);
    const over = await post(s.url, k.key, chat);
    assert.equal(over.status, 429, over.text);
    assert.equal(errorOf(over).type, 'budget_exceeded');
    assert.match(errorOf(over).message, /^LiteLLM Virtual Key: [0-9a-f]{64}, key_alias: model-budget, exceeded budget for model=gpt-4o-mini$/);
    const other = await callCost(s.url, k.key, { ...chat, model: 'gpt-4o' }); // no budget on it

    // the batch writer puts both models' spend in the key row
    const info = await waitFor(async () => {
      const i = await s.request(`/key/info?key=${k.key}`);
      const ms = i.json?.info?.model_spend;
      return ms && Math.abs(ms['gpt-4o-mini'] - 2 * cost) < 1e-12 && ms['gpt-4o'] > 0 ? i.json.info : null;
    }, { timeout: 5000 * SLOW, what: 'model_spend in the key row' });
    assert.ok(Math.abs(info.model_spend['gpt-4o'] - other) < 1e-12, JSON.stringify(info.model_spend));

    // a new sluice on the same database starts with nothing in memory: the row is all it has
    const first = s.sluice;
    assert.deepEqual(await first.stop(), { code: 0, signal: null });
    assert.deepEqual(first.problems(), []);
    const db = ctx.pg ? [] : ['--db', path.join(s.dir, 'sluice.db')]; // the first one's default
    const second = await startSluice({
      configText: s.configText,
      configPath: s.configPath,
      args: db,
      env: ctx.pg ? { DATABASE_URL: ctx.pg.url } : {},
      logDir: s.dir,
    });
    s.sluice = second; // the stack's teardown stops and checks it
    s.url = second.url;
    s.port = second.port;

    const again = await post(second.url, k.key, chat);
    assert.equal(again.status, 429, again.text);
    assert.match(errorOf(again).message, /exceeded budget for model=gpt-4o-mini$/);
    await callCost(second.url, k.key, { ...chat, model: 'gpt-4o' });
    // a key without the budget is not affected
    await callCost(second.url, probe.key);
  });
});
