// The end user (customer) on the data plane, as LiteLLM checks it for every request that names one
// (the body's `user`, or x-litellm-end-user-id / x-litellm-customer-id), with a virtual key or the
// master key: a customer's max_budget (the call that crosses it succeeds, the next is 429
// "ExceededBudget: End User=..."), /customer/block (400 "User blocked from making LLM API Calls"),
// its budget row's rpm_limit (the "end_user" descriptor) and max_parallel_requests (beyond LiteLLM's
// v3, which applies it to keys only), and an end user with no row (no checks).
// On SQLite and on a real PostgreSQL.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { deployment, refused, sleep, SLOW, waitFor } from './lib/harness.mjs';
import { describeBackends } from './lib/backends.mjs';

const T = { timeout: 20000 * SLOW };
const TINY = 0.000001;
const chat = (user) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], user });

const config = (ctx) => ({
  model_list: [
    deployment(ctx, 'gpt-4o-mini', 'mock-gpt-4o-mini', {
      model_info: { id: 'dep-mini', input_cost_per_token: 0.001, output_cost_per_token: 0.002 },
    }),
  ],
  // the budget row of end users without one (created by the last test)
  litellm_settings: { num_retries: 0, max_end_user_budget_id: 'eu-default-budget' },
  general_settings: { master_key: ctx.masterKey, proxy_batch_write_at: 0.2 },
});

describeBackends('end users', { config }, (ctx) => {
  const client = (key) =>
    new OpenAI({ apiKey: key, baseURL: `${ctx.s.url}/v1`, maxRetries: 0, timeout: 20000 * SLOW });
  async function post(p, body) {
    const r = await ctx.s.post(p, body);
    assert.equal(r.status, 200, `POST ${p}: ${r.status} ${r.text.slice(0, 500)}`);
    return r.json;
  }
  const id = (name) => `${name}-${ctx.backend}`;

  test('a customer\'s max_budget: the second call is 429 "ExceededBudget: End User=..."', T, async () => {
    const eu = id('eu-tiny');
    await post('/customer/new', { user_id: eu, max_budget: TINY });
    const { key } = await post('/key/generate', {});
    await client(key).chat.completions.create(chat(eu));
    const over = new RegExp(`^ExceededBudget: End User=${eu} over budget\\. Spend=[0-9.e-]+, Budget=1e-06$`);
    await refused(client(key).chat.completions.create(chat(eu)), OpenAI.RateLimitError, 'budget_exceeded', over);
    // as LiteLLM: the master key is checked too
    await refused(client(ctx.s.masterKey).chat.completions.create(chat(eu)), OpenAI.RateLimitError, 'budget_exceeded', over);
    // the same key for another end user, or none, is not affected
    await client(key).chat.completions.create(chat(id('eu-other')));
    await client(key).chat.completions.create(chat(undefined));
    // the spend reached the row
    await waitFor(async () => {
      const r = await ctx.s.request(`/customer/info?end_user_id=${eu}`);
      return r.status === 200 && r.json.spend > 0;
    }, { timeout: 5000 * SLOW, what: 'the end user\'s spend in the database' });
    // raising the budget lifts the refusal at once
    await post('/customer/update', { user_id: eu, max_budget: 100 });
    await client(key).chat.completions.create(chat(eu));
  });

  test('/customer/block refuses the end user; /customer/unblock lets it in again', T, async () => {
    const eu = id('eu-blocked');
    await post('/customer/new', { user_id: eu });
    const { key } = await post('/key/generate', {});
    await client(key).chat.completions.create(chat(eu)); // cached as allowed
    await post('/customer/block', { user_ids: [eu] });
    const msg = new RegExp(`^User blocked from making LLM API Calls\\. User=${eu}$`);
    await refused(client(key).chat.completions.create(chat(eu)), OpenAI.BadRequestError, 'invalid_request_error', msg);
    await refused(client(ctx.s.masterKey).chat.completions.create(chat(eu)), OpenAI.BadRequestError, 'invalid_request_error', msg);
    // the end-user headers name it too
    const r = await ctx.s.post('/v1/chat/completions', chat(undefined), {
      headers: { authorization: `Bearer ${key}`, 'x-litellm-end-user-id': eu },
    });
    assert.equal(r.status, 400, r.text);
    // blocking an end user unknown until now creates it blocked (LiteLLM)
    const fresh = id('eu-blocked-fresh');
    await post('/customer/block', { user_ids: [fresh] });
    await refused(client(key).chat.completions.create(chat(fresh)), OpenAI.BadRequestError, 'invalid_request_error', /User blocked/);
    await post('/customer/unblock', { user_ids: [eu] });
    await client(key).chat.completions.create(chat(eu));
  });

  test('a customer\'s rpm_limit: the "end_user" descriptor\'s 429', T, async () => {
    const eu = id('eu-rpm');
    await post('/customer/new', { user_id: eu, rpm_limit: 2 });
    const { key } = await post('/key/generate', {});
    await client(key).chat.completions.create(chat(eu));
    await client(ctx.s.masterKey).chat.completions.create(chat(eu));
    await refused(
      client(key).chat.completions.create(chat(eu)),
      OpenAI.RateLimitError,
      'throttling_error',
      new RegExp(`^Rate limit exceeded for end_user: ${eu}\\. Limit type: requests\\. Current limit: 2, Remaining: 0\\.`),
    );
    await client(key).chat.completions.create(chat(id('eu-rpm-other')));
  });

  test('a customer\'s max_parallel_requests 1 (beyond LiteLLM v3): the second concurrent call is 429', T, async () => {
    const eu = id('eu-par');
    await post('/customer/new', { user_id: eu, max_parallel_requests: 1 });
    const { key } = await post('/key/generate', {});
    const slow = { ...chat(eu), mock: { 'latency-ms': 1500 * SLOW } };
    const first = ctx.s.post('/v1/chat/completions', slow, { headers: { authorization: `Bearer ${key}` } });
    await sleep(300 * SLOW); // in flight at the mock, holding the end user's slot
    const limited = new RegExp(
      `^Rate limit exceeded for end_user: ${eu}\\. Limit type: max_parallel_requests\\. Current limit: 1, Remaining: 0\\.`,
    );
    await refused(client(key).chat.completions.create(chat(eu)), OpenAI.RateLimitError, 'throttling_error', limited);
    // the master key is held to the end user's limits too; another end user is not affected
    await refused(client(ctx.s.masterKey).chat.completions.create(chat(eu)), OpenAI.RateLimitError, 'throttling_error', limited);
    await client(key).chat.completions.create(chat(id('eu-par-other')));
    const done = await first;
    assert.equal(done.status, 200, done.text);
    // the slot comes back when the first request ends, just after its answer is written
    // (http_req_t.on_end runs in req_finish): on a loaded machine the next call can get in before
    // that (docs/limits.md "Not done"), hence the short wait
    await waitFor(async () => (await client(key).chat.completions.create(chat(eu))).id, {
      timeout: 2000 * SLOW,
      what: 'the end user\'s slot back',
    });
    await client(ctx.s.masterKey).chat.completions.create(chat(eu));
  });

  test('an end user with no row is not checked', T, async () => {
    const eu = id('eu-unknown');
    const { key } = await post('/key/generate', {});
    for (let i = 0; i < 5; i++) await client(key).chat.completions.create(chat(eu));
    const r = await ctx.s.post('/v1/chat/completions', chat(undefined), {
      headers: { authorization: `Bearer ${key}`, 'x-litellm-customer-id': id('eu-unknown-header') },
    });
    assert.equal(r.status, 200, r.text);
  });

  test('max_end_user_budget_id: an end user with a row but no budget gets the default budget\'s', T, async () => {
    await post('/budget/new', { budget_id: 'eu-default-budget', max_budget: TINY });
    const plain = id('eu-default');
    await post('/customer/new', { user_id: plain }); // a row, no budget row of its own
    const own = id('eu-own-budget');
    await post('/customer/new', { user_id: own, max_budget: 100 });
    const { key } = await post('/key/generate', {});
    await client(key).chat.completions.create(chat(plain)); // spend 0: not over yet
    const over = new RegExp(`^ExceededBudget: End User=${plain} over budget\\. Spend=[0-9.e-]+, Budget=1e-06$`);
    await refused(client(key).chat.completions.create(chat(plain)), OpenAI.RateLimitError, 'budget_exceeded', over);
    await refused(client(ctx.s.masterKey).chat.completions.create(chat(plain)), OpenAI.RateLimitError, 'budget_exceeded', over);
    // its own budget wins; an end user with no row at all is not checked (as LiteLLM). Only its
    // first call: recording that call's spend creates its row, and once the store has written it
    // (and the cached "no row" is refreshed) the default budget applies to it too, as in LiteLLM
    for (let i = 0; i < 3; i++) await client(key).chat.completions.create(chat(own));
    await client(key).chat.completions.create(chat(id('eu-default-norow')));
  });
});
