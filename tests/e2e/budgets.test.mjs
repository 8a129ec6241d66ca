// Budgets and restrictions that reach a key through its team or its user, as LiteLLM enforces
// them on the data plane, on the SQLite default and on a real PostgreSQL: a team's, a user's or a
// team member's (max_budget_in_team) max_budget (the call that crosses it succeeds, the next is 429
// budget_exceeded), a team blocked or its models narrowed through the management API (the team's
// keys feel it at once), and the limits lifted again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { deployment, errorOf, refused, SLOW, waitFor } from './lib/harness.mjs';
import { describeBackends } from './lib/backends.mjs';

const T = { timeout: 20000 * SLOW };
const TINY = 0.000001;
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'spend a little' }] };

const config = (ctx) => ({
  model_list: [
    deployment(ctx, 'gpt-4o-mini', 'mock-gpt-4o-mini', {
      model_info: { id: 'dep-mini', input_cost_per_token: 0.001, output_cost_per_token: 0.002 },
    }),
    deployment(ctx, 'gpt-4o', 'mock-gpt-4o', {
      model_info: { id: 'dep-4o', input_cost_per_token: 0.001, output_cost_per_token: 0.002 },
    }),
  ],
  litellm_settings: { num_retries: 0 },
  general_settings: { master_key: ctx.masterKey, proxy_batch_write_at: 0.2 },
});

describeBackends('budgets through teams and users', { config }, (ctx) => {
  function client(key) {
    return new OpenAI({ apiKey: key, baseURL: `${ctx.s.url}/v1`, maxRetries: 0, timeout: 20000 * SLOW });
  }

  async function ok(p, what) {
    const r = await p;
    assert.equal(r.status, 200, `${what}: ${r.status} ${r.text.slice(0, 500)}`);
    return r.json;
  }
  const post = (p, body) => ok(ctx.s.post(p, body), `POST ${p}`);

  /** A raw chat call with `key`: {status, error}. */
  async function rawChat(key, body = chat) {
    const r = await ctx.s.post('/v1/chat/completions', body, { headers: { authorization: `Bearer ${key}` } });
    return { status: r.status, error: r.status === 200 ? null : errorOf(r) };
  }

  test('a team\'s max_budget: the first call succeeds, the next is 429 "Budget has been exceeded! Team=..."', T, async () => {
    const team = await post('/team/new', { team_alias: 'tiny-team', max_budget: TINY });
    const a = await post('/key/generate', { team_id: team.team_id });
    const b = await post('/key/generate', { team_id: team.team_id });
    await client(a.key).chat.completions.create(chat);
    const over = new RegExp(
      `^Budget has been exceeded! Team=${team.team_id} Current cost: [0-9.e-]+, Max budget: 1e-06$`,
    );
    await refused(client(a.key).chat.completions.create(chat), OpenAI.RateLimitError, 'budget_exceeded', over);
    // the team's spend is shared: the team's other key is over budget too, before any call of its own
    await refused(client(b.key).chat.completions.create(chat), OpenAI.RateLimitError, 'budget_exceeded', over);
    const r = await rawChat(a.key);
    assert.equal(r.status, 429);
    assert.equal(r.error.code, '429');

    // raising the budget through /team/update lifts the refusal at once
    await post('/team/update', { team_id: team.team_id, max_budget: 100 });
    await client(a.key).chat.completions.create(chat);
    await client(b.key).chat.completions.create(chat);
  });

  test('a user\'s max_budget on a key without a team: 429 "ExceededBudget: User=... over budget"', T, async () => {
    const uid = `tiny-user-${ctx.backend}`;
    const u = await post('/user/new', { user_id: uid, max_budget: TINY });
    assert.equal(u.team_id, null);
    await client(u.key).chat.completions.create(chat);
    const over = new RegExp(`^ExceededBudget: User=${uid} over budget\\. Spend=[0-9.e-]+, Budget=1e-06$`);
    await refused(client(u.key).chat.completions.create(chat), OpenAI.RateLimitError, 'budget_exceeded', over);
    // another key of the same user, made by /key/generate, shares the user's spend
    const k2 = await post('/key/generate', { user_id: uid });
    await refused(client(k2.key).chat.completions.create(chat), OpenAI.RateLimitError, 'budget_exceeded', over);
    // a key of the user inside a team spends the team's budget, not the user's (LiteLLM)
    const team = await post('/team/new', { team_alias: 'roomy-team', max_budget: 100 });
    const inTeam = await post('/key/generate', { user_id: uid, team_id: team.team_id });
    await client(inTeam.key).chat.completions.create(chat);

    await post('/user/update', { user_id: uid, max_budget: 100 });
    await client(u.key).chat.completions.create(chat);
    await client(k2.key).chat.completions.create(chat);
  });

  test('a team member\'s max_budget_in_team: 429 "Budget has been exceeded! User=... in Team=..."', T, async () => {
    const uid = `tiny-member-${ctx.backend}`;
    const team = await post('/team/new', { team_alias: 'member-budget', max_budget: 100 });
    const added = await post('/team/member_add', {
      team_id: team.team_id,
      member: { role: 'user', user_id: uid },
      max_budget_in_team: TINY,
    });
    const budgetId = added.updated_team_memberships.find((m) => m.user_id === uid).budget_id;
    assert.ok(budgetId, JSON.stringify(added.updated_team_memberships));
    const other = `roomy-member-${ctx.backend}`;
    await post('/team/member_add', { team_id: team.team_id, member: { role: 'user', user_id: other } });
    const k = await post('/key/generate', { user_id: uid, team_id: team.team_id });
    await client(k.key).chat.completions.create(chat);
    const over = new RegExp(
      `^Budget has been exceeded! User=${uid} in Team=${team.team_id} Current cost: [0-9.e-]+, Max budget: 1e-06$`,
    );
    await refused(client(k.key).chat.completions.create(chat), OpenAI.RateLimitError, 'budget_exceeded', over);
    const r = await rawChat(k.key);
    assert.equal(r.status, 429);
    assert.equal(r.error.code, '429');

    // the batch writes the membership's spend (proxy_batch_write_at); a key made after it reads the
    // stored spend and is refused too
    const info = await waitFor(async () => {
      const i = await ok(ctx.s.request(`/team/info?team_id=${team.team_id}`), 'GET /team/info');
      const m = i.team_memberships.find((x) => x.user_id === uid);
      return m && m.spend > 0 ? m : null;
    }, { timeout: 5000 * SLOW, what: 'the membership spend written' });
    assert.ok(info.spend >= TINY, JSON.stringify(info));
    const k2 = await post('/key/generate', { user_id: uid, team_id: team.team_id });
    await refused(client(k2.key).chat.completions.create(chat), OpenAI.RateLimitError, 'budget_exceeded', over);

    // the budget is the member's: another member of the team, and the team itself, are not over
    const ko = await post('/key/generate', { user_id: other, team_id: team.team_id });
    await client(ko.key).chat.completions.create(chat);
    const kt = await post('/key/generate', { team_id: team.team_id });
    await client(kt.key).chat.completions.create(chat);
    // the same user outside the team has no member budget there
    const solo = await post('/key/generate', { user_id: uid });
    await client(solo.key).chat.completions.create(chat);

    // raising the member's budget row through /budget/update lifts the refusal at once
    await post('/budget/update', { budget_id: budgetId, max_budget: 100 });
    await client(k.key).chat.completions.create(chat);
    await client(k2.key).chat.completions.create(chat);
  });

  test('a budget lowered below the spend through /team/update or /user/update refuses at once', T, async () => {
    const team = await post('/team/new', { team_alias: 'lowered' });
    const tk = await post('/key/generate', { team_id: team.team_id });
    const uid = `lowered-user-${ctx.backend}`;
    const uk = (await post('/user/new', { user_id: uid })).key;
    await client(tk.key).chat.completions.create(chat); // both keys cached, with some spend
    await client(uk).chat.completions.create(chat);
    await post('/team/update', { team_id: team.team_id, max_budget: TINY });
    await post('/user/update', { user_id: uid, max_budget: TINY });
    await refused(client(tk.key).chat.completions.create(chat), OpenAI.RateLimitError, 'budget_exceeded',
      new RegExp(`^Budget has been exceeded! Team=${team.team_id} `));
    await refused(client(uk).chat.completions.create(chat), OpenAI.RateLimitError, 'budget_exceeded',
      new RegExp(`^ExceededBudget: User=${uid} over budget`));
  });

  test('/team/delete and /user/delete: their keys get 401 at once', T, async () => {
    const team = await post('/team/new', { team_alias: 'doomed' });
    const tk = await post('/key/generate', { team_id: team.team_id });
    const uid = `doomed-user-${ctx.backend}`;
    const uk = (await post('/user/new', { user_id: uid })).key;
    await client(tk.key).chat.completions.create(chat);
    await client(uk).chat.completions.create(chat);
    await post('/team/delete', { team_ids: [team.team_id] });
    await post('/user/delete', { user_ids: [uid] });
    for (const key of [tk.key, uk]) {
      const r = await rawChat(key);
      assert.equal(r.status, 401, JSON.stringify(r.error));
      assert.equal(r.error.type, 'auth_error');
    }
  });

  test('/team/block: the team\'s keys get 401 within a second; /team/unblock lets them back', T, async () => {
    const team = await post('/team/new', { team_alias: 'to-block' });
    const k = await post('/key/generate', { team_id: team.team_id });
    await client(k.key).chat.completions.create(chat); // cached from now on
    const blocked = await post('/team/block', { team_id: team.team_id });
    assert.equal(blocked.blocked, true);
    const t0 = Date.now();
    const r = await waitFor(async () => {
      const x = await rawChat(k.key);
      return x.status === 401 ? x : null;
    }, { timeout: 3000 * SLOW, interval: 20, what: 'the blocked team\'s key to be refused' });
    assert.ok(Date.now() - t0 < 1000 * SLOW, `took ${Date.now() - t0} ms`);
    assert.equal(r.error.type, 'auth_error');
    assert.equal(
      r.error.message,
      `Authentication Error, Team=${team.team_id} is blocked. Update via \`/team/unblock\` if you're an admin.`,
    );
    await refused(client(k.key).chat.completions.create(chat), OpenAI.AuthenticationError, 'auth_error', /is blocked/);
    // a key made for the team while it is blocked is refused too
    const late = await post('/key/generate', { team_id: team.team_id });
    assert.equal((await rawChat(late.key)).status, 401);

    await post('/team/unblock', { team_id: team.team_id });
    await waitFor(async () => (await rawChat(k.key)).status === 200,
      { timeout: 3000 * SLOW, what: 'the unblocked team\'s key to work' });
    await client(late.key).chat.completions.create(chat);
  });

  test('/team/update models: other models get 403 team_model_access_denied', T, async () => {
    const team = await post('/team/new', { team_alias: 'narrowed' });
    const k = await post('/key/generate', { team_id: team.team_id });
    const c = client(k.key);
    await c.chat.completions.create({ ...chat, model: 'gpt-4o' });
    await post('/team/update', { team_id: team.team_id, models: ['gpt-4o-mini'] });
    await refused(c.chat.completions.create({ ...chat, model: 'gpt-4o' }), OpenAI.PermissionDeniedError,
      'team_model_access_denied',
      /^team not allowed to access model\. This team can only access models=\['gpt-4o-mini'\]\. Tried to access gpt-4o$/);
    const r = await rawChat(k.key, { ...chat, model: 'gpt-4o' });
    assert.equal(r.status, 403);
    assert.equal(r.error.param, 'model');
    await c.chat.completions.create(chat);
    const list = await c.models.list();
    assert.deepEqual(list.data.map((m) => m.id), ['gpt-4o-mini']);
  });
});
