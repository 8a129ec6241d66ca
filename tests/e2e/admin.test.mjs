// The management API through sluice's HTTP port with the master key, on the SQLite default and on
// a real PostgreSQL (the same bodies, lib/backends.mjs): teams and their keys and members, users
// and the keys /user/new makes, customers, organizations, budgets, DB models (secrets masked),
// spend logs and reports whose sums equal the x-litellm-response-cost headers of the calls made,
// and LiteLLM's statuses and error envelope (400, 404, 405, 401).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { deployment, errorOf, SLOW, waitFor } from './lib/harness.mjs';
import { describeBackends } from './lib/backends.mjs';

const IN_PRICE = 0.001;
const OUT_PRICE = 0.002;
const T = { timeout: 20000 * SLOW };
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello admin' }] };
const near = (a, b) => Math.abs(a - b) < 1e-9;

const config = (ctx) => ({
  model_list: [
    deployment(ctx, 'gpt-4o-mini', 'mock-gpt-4o-mini', {
      model_info: { id: 'dep-mini', input_cost_per_token: IN_PRICE, output_cost_per_token: OUT_PRICE },
    }),
    deployment(ctx, 'gpt-4o', 'mock-gpt-4o', {
      model_info: { id: 'dep-4o', input_cost_per_token: 2 * IN_PRICE, output_cost_per_token: 2 * OUT_PRICE },
    }),
  ],
  litellm_settings: { num_retries: 0 },
  general_settings: { master_key: ctx.masterKey, proxy_batch_write_at: 0.2 },
});

/** YYYY-MM-DD of today + days, UTC (the dates sluice's spend routes take). */
function day(days = 0) {
  return new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);
}

describeBackends('management API', { config }, (ctx) => {
  // every chat call goes through call(), so the stack's total spend is known exactly
  let ledger = 0;

  function client(key) {
    return new OpenAI({ apiKey: key, baseURL: `${ctx.s.url}/v1`, maxRetries: 0, timeout: 20000 * SLOW });
  }

  async function call(key, body = chat) {
    const { data, response } = await client(key).chat.completions.create(body).withResponse();
    const cost = Number(response.headers.get('x-litellm-response-cost'));
    assert.ok(cost > 0, `cost header ${response.headers.get('x-litellm-response-cost')}`);
    const u = data.usage;
    const price = body.model === 'gpt-4o' ? 2 : 1;
    assert.ok(near(cost, price * (u.prompt_tokens * IN_PRICE + u.completion_tokens * OUT_PRICE)), `cost ${cost}`);
    ledger += cost;
    return { data, cost, id: response.headers.get('x-litellm-call-id') };
  }

  async function ok(p, what) {
    const r = await p;
    assert.equal(r.status, 200, `${what}: ${r.status} ${r.text.slice(0, 500)}`);
    return r.json;
  }
  const post = (p, body) => ok(ctx.s.post(p, body), `POST ${p}`);
  const get = (p) => ok(ctx.s.request(p), `GET ${p}`);

  test('/team/new, /key/generate with team_id, /team/info lists the key, /team/member_add', T, async () => {
    const team = await post('/team/new', { team_alias: `team-${ctx.backend}`, models: ['gpt-4o-mini'], max_budget: 10 });
    assert.match(team.team_id, /^[0-9a-f-]{36}$/);
    assert.equal(team.team_alias, `team-${ctx.backend}`);
    assert.deepEqual(team.models, ['gpt-4o-mini']);
    assert.equal(team.max_budget, 10);
    assert.equal(team.blocked, false);
    const k = await post('/key/generate', { team_id: team.team_id, key_alias: `team-key-${ctx.backend}` });
    assert.equal(k.team_id, team.team_id);
    const info = await get(`/team/info?team_id=${team.team_id}`);
    assert.equal(info.team_id, team.team_id);
    assert.equal(info.team_info.team_alias, `team-${ctx.backend}`);
    assert.deepEqual(info.keys.map((x) => x.token), [k.token]);
    assert.equal(info.keys[0].key_alias, `team-key-${ctx.backend}`);
    await call(k.key);

    const added = await post('/team/member_add', {
      team_id: team.team_id,
      member: { role: 'user', user_id: `member-${ctx.backend}` },
      max_budget_in_team: 2,
    });
    assert.deepEqual(added.members_with_roles, [{ role: 'user', user_id: `member-${ctx.backend}`, user_email: null }]);
    assert.deepEqual(added.updated_users.map((u) => u.user_id), [`member-${ctx.backend}`]);
    assert.deepEqual(added.updated_users[0].teams, [team.team_id]);
    assert.equal(added.updated_team_memberships[0].litellm_budget_table.max_budget, 2);
    const again = await ctx.s.post('/team/member_add', { team_id: team.team_id, member: { role: 'user', user_id: `member-${ctx.backend}` } });
    assert.equal(again.status, 400, again.text);
    assert.match(errorOf(again).message, /already in team/);
    const after = await get(`/team/info?team_id=${team.team_id}`);
    assert.deepEqual(after.team_info.members_with_roles.map((m) => m.user_id), [`member-${ctx.backend}`]);
    assert.deepEqual(after.team_memberships.map((m) => m.user_id), [`member-${ctx.backend}`]);
    const list = await get('/team/list');
    assert.ok(list.some((t) => t.team_id === team.team_id && t.keys.length === 1));
  });

  test('/user/new returns a key that works with the openai client; /user/info shows both', T, async () => {
    const uid = `user-${ctx.backend}`;
    const u = await post('/user/new', { user_id: uid, user_email: `${uid}@example.com`, max_budget: 50, user_role: 'internal_user' });
    assert.equal(u.user_id, uid);
    assert.equal(u.max_budget, 50);
    assert.match(u.key, /^sk-[A-Za-z0-9_-]{22}$/);
    const { data } = await call(u.key);
    assert.ok(data.choices[0].message.content);
    const info = await get(`/user/info?user_id=${uid}`);
    assert.equal(info.user_id, uid);
    assert.equal(info.user_info.user_email, `${uid}@example.com`);
    assert.equal(info.user_info.user_role, 'internal_user');
    assert.equal(info.keys.length, 1);
    assert.equal(info.keys[0].user_id, uid);
    assert.equal(info.keys[0].key_name, `sk-...${u.key.slice(-4)}`);
    const dup = await ctx.s.post('/user/new', { user_id: uid });
    assert.equal(dup.status, 409, dup.text);
    assert.match(errorOf(dup).message, /already exists/);
  });

  test('/customer/new, /customer/info, /customer/block', T, async () => {
    const cid = `customer-${ctx.backend}`;
    const c = await post('/customer/new', { user_id: cid, alias: 'Acme', max_budget: 5 });
    assert.equal(c.user_id, cid);
    assert.equal(c.alias, 'Acme');
    assert.equal(c.blocked, false);
    assert.equal(c.litellm_budget_table.max_budget, 5);
    assert.equal(c.budget_id, c.litellm_budget_table.budget_id);
    const info = await get(`/customer/info?end_user_id=${cid}`);
    assert.equal(info.user_id, cid);
    assert.equal(info.litellm_budget_table.max_budget, 5);
    const blocked = await post('/customer/block', { user_ids: [cid] });
    assert.deepEqual(blocked.blocked_users.map((b) => [b.user_id, b.blocked]), [[cid, true]]);
    assert.equal((await get(`/customer/info?end_user_id=${cid}`)).blocked, true);
    const dup = await ctx.s.post('/customer/new', { user_id: cid });
    assert.equal(dup.status, 400, dup.text);
    assert.match(errorOf(dup).message, /Customer already exists/);
  });

  test('/organization/new and /organization/info', T, async () => {
    const o = await post('/organization/new', { organization_alias: `org-${ctx.backend}`, models: ['gpt-4o'], max_budget: 7 });
    assert.match(o.organization_id, /^[0-9a-f-]{36}$/);
    assert.equal(o.litellm_budget_table.max_budget, 7);
    const team = await post('/team/new', { team_alias: 'in-org', organization_id: o.organization_id });
    const info = await get(`/organization/info?organization_id=${o.organization_id}`);
    assert.equal(info.organization_alias, `org-${ctx.backend}`);
    assert.deepEqual(info.models, ['gpt-4o']);
    assert.equal(info.litellm_budget_table.max_budget, 7);
    assert.deepEqual(info.teams.map((t) => t.team_id), [team.team_id]);
    const missing = await ctx.s.post('/organization/new', { models: [] });
    assert.equal(missing.status, 400, missing.text);
    assert.match(errorOf(missing).message, /organization_alias is required/);
  });

  test('/budget/new and /budget/info', T, async () => {
    const b = await post('/budget/new', { budget_id: `budget-${ctx.backend}`, max_budget: 3, tpm_limit: 1000, budget_duration: '30d' });
    assert.equal(b.budget_id, `budget-${ctx.backend}`);
    assert.equal(b.max_budget, 3);
    assert.equal(b.tpm_limit, 1000);
    assert.ok(Date.parse(b.budget_reset_at) > Date.now());
    const info = await post('/budget/info', { budgets: [`budget-${ctx.backend}`] });
    assert.deepEqual(info.map((x) => [x.budget_id, x.max_budget]), [[`budget-${ctx.backend}`, 3]]);
    const dup = await ctx.s.post('/budget/new', { budget_id: `budget-${ctx.backend}` });
    assert.equal(dup.status, 400, dup.text);
    assert.match(errorOf(dup).message, /already exists/);
  });

  test('/model/new stores encrypted params, /model/info masks secrets, /model/delete', T, async () => {
    const secret = 'sk-db-model-secret-0123456789';
    const token = 'Bearer abcdefghijklmnopqrstuvwxyz';
    const m = await post('/model/new', {
      model_name: `db-model-${ctx.backend}`,
      litellm_params: { model: 'openai/db-upstream', api_key: secret, api_base: 'http://127.0.0.1:9/v1', extra_headers: { Authorization: token } },
    });
    assert.match(m.model_id, /^[0-9a-f-]{36}$/);
    for (const v of [m.litellm_params.model, m.litellm_params.api_key, m.litellm_params.api_base]) assert.match(v, /^v3:gcm:/);
    if (ctx.pg) {
      // as LiteLLM's encrypt_value_helper: string values encrypted, objects stored as they are
      const stored = ctx.pg.sql(`SELECT litellm_params::text FROM "LiteLLM_ProxyModelTable" WHERE model_id = '${m.model_id}'`);
      assert.ok(!stored.includes(secret) && !stored.includes('db-upstream'), stored);
    }
    const all = await get('/model/info');
    assert.deepEqual(all.data.slice(0, 2).map((d) => d.model_info.id), ['dep-mini', 'dep-4o']);
    assert.equal(all.data[0].model_info.input_cost_per_token, IN_PRICE);
    const r = await ctx.s.request(`/model/info?litellm_model_id=${m.model_id}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(!r.text.includes(secret) && !r.text.includes('abcdefghijklmnop'), r.text);
    assert.equal(r.json.data.length, 1);
    const d = r.json.data[0];
    assert.equal(d.model_name, `db-model-${ctx.backend}`);
    assert.equal(d.litellm_params.model, 'openai/db-upstream');
    assert.equal(d.litellm_params.api_base, 'http://127.0.0.1:9/v1');
    assert.equal(d.litellm_params.api_key, undefined);
    // LiteLLM's _mask_value: the first and last 4 characters, '*' for each one between
    assert.equal(d.litellm_params.extra_headers.Authorization, `Bear${'*'.repeat(token.length - 8)}wxyz`);
    assert.equal(d.model_info.db_model, true);
    // config deployments: the upstream key never shows
    assert.ok(!JSON.stringify(all).includes('upstream-secret'));
    assert.equal((await get('/v1/model/info')).data.length, all.data.length);

    const del = await post('/model/delete', { id: m.model_id });
    assert.equal(del.message, `Model: ${m.model_id} deleted successfully`);
    assert.ok(!(await get('/model/info')).data.some((x) => x.model_info.id === m.model_id));
    const again = await ctx.s.post('/model/delete', { id: m.model_id });
    assert.equal(again.status, 400, again.text);
    assert.match(errorOf(again).message, /not found/);
  });

  test('/spend/logs, /global/spend and /global/spend/report add up to the response-cost headers', T, async () => {
    const team = await post('/team/new', { team_alias: `spenders-${ctx.backend}` });
    const k = await post('/key/generate', { team_id: team.team_id, user_id: `spender-${ctx.backend}` });
    const customer = `end-user-${ctx.backend}`;
    const calls = [];
    for (const model of ['gpt-4o-mini', 'gpt-4o', 'gpt-4o-mini']) {
      calls.push(await call(k.key, { ...chat, model, user: customer }));
    }
    const total = calls.reduce((a, c) => a + c.cost, 0);

    // rows: one per call, request_id = x-litellm-call-id
    const rows = await waitFor(async () => {
      const r = await ctx.s.request(`/spend/logs?api_key=${k.key}`);
      return r.status === 200 && r.json.length === calls.length ? r.json : null;
    }, { timeout: 5000 * SLOW, what: 'the spend rows of three calls' });
    assert.deepEqual(rows.map((x) => x.request_id).sort(), calls.map((c) => c.id).sort());
    for (const row of rows) {
      const c = calls.find((x) => x.id === row.request_id);
      assert.ok(near(row.spend, c.cost), `${row.spend} vs ${c.cost}`);
      assert.equal(row.api_key, k.token);
      assert.equal(row.team_id, team.team_id);
      assert.equal(row.user, `spender-${ctx.backend}`);
      assert.equal(row.end_user, customer);
    }
    const one = await get(`/spend/logs?request_id=${calls[1].id}`);
    assert.deepEqual(one.map((x) => [x.request_id, x.model_group]), [[calls[1].id, 'gpt-4o']]);

    // the whole stack: every successful call of this file went through call()
    await waitFor(async () => near((await get('/global/spend')).spend, ledger),
      { timeout: 5000 * SLOW, what: `/global/spend to reach ${ledger}` });

    const range = `start_date=${day(0)}&end_date=${day(1)}`;
    const summary = await get(`/spend/logs?${range}`);
    const today = summary.find((x) => x.startTime === day(0));
    assert.ok(today, JSON.stringify(summary));
    assert.ok(near(today.spend, ledger), `${today.spend} vs ${ledger}`);
    assert.ok(near(today[k.token], total));
    assert.ok(near(today.users[`spender-${ctx.backend}`], total));

    const byTeam = await get(`/global/spend/report?${range}&group_by=team`);
    const teamRows = byTeam.flatMap((d) => d.teams).filter((t) => t.team_name === `spenders-${ctx.backend}`);
    assert.ok(near(teamRows.reduce((a, t) => a + t.total_spend, 0), total), JSON.stringify(byTeam));
    const meta = teamRows.flatMap((t) => t.metadata);
    assert.ok(near(meta.reduce((a, m) => a + m.spend, 0), total));
    assert.deepEqual([...new Set(meta.map((m) => m.model))].sort(), ['mock-gpt-4o', 'mock-gpt-4o-mini']);

    const byCustomer = await get(`/global/spend/report?${range}&group_by=customer`);
    const custRows = byCustomer.flatMap((d) => d.customers).filter((c) => c.customer === customer);
    assert.ok(near(custRows.reduce((a, c) => a + c.total_spend, 0), total), JSON.stringify(byCustomer));

    const byKey = await get(`/global/spend/report?${range}&group_by=api_key&api_key=${k.token}`);
    assert.equal(byKey.length, 1, JSON.stringify(byKey));
    assert.equal(byKey[0].api_key, k.token);
    assert.ok(near(byKey[0].total_cost, total));
    assert.ok(near(byKey[0].model_details.reduce((a, m) => a + m.total_cost, 0), total));
    const tokens = calls.reduce((a, c) => a + c.data.usage.prompt_tokens, 0);
    assert.equal(byKey[0].total_input_tokens, tokens);

    // spend increments on the key and team rows
    await waitFor(async () => near((await get(`/key/info?key=${k.key}`)).info.spend, total),
      { timeout: 5000 * SLOW, what: 'the key spend' });
    await waitFor(async () => near((await get(`/team/info?team_id=${team.team_id}`)).team_info.spend, total),
      { timeout: 5000 * SLOW, what: 'the team spend' });
  });

  test('errors: LiteLLM\'s envelope for a bad body (400) and an unknown id (404)', T, async () => {
    for (const [p, body] of [
      ['/key/generate', '{"max_budget": '],
      ['/team/new', '[1, 2]'],
      ['/key/generate', { max_budget: 'a lot' }],
      ['/team/new', { team_alias: 'x', members_with_roles: [{ role: 'owner', user_id: 'x' }] }],
    ]) {
      const r = await ctx.s.post(p, body);
      assert.equal(r.status, 400, `${p} ${JSON.stringify(body)}: ${r.text}`);
      const e = errorOf(r);
      assert.equal(e.code, '400');
      assert.equal(e.type, 'bad_request_error');
      assert.ok('param' in e);
    }
    for (const [p, type, param] of [
      ['/team/info?team_id=no-such-team', 'not_found_error', 'team_id'],
      ['/key/info?key=sk-no-such-key-000000000', 'not_found_error', 'key'],
      ['/user/info?user_id=no-such-user', 'not_found_error', 'user_id'],
      ['/organization/info?organization_id=no-such-org', 'not_found_error', 'organization_id'],
      // LiteLLM's customer routes raise ProxyException(type="not_found")
      ['/customer/info?end_user_id=no-such-customer', 'not_found', 'end_user_id'],
    ]) {
      const r = await ctx.s.request(p);
      assert.equal(r.status, 404, `${p}: ${r.text}`);
      const e = errorOf(r);
      assert.deepEqual([e.code, e.type, e.param], ['404', type, param], p);
    }
    const upd = await ctx.s.post('/team/update', { team_id: 'no-such-team', max_budget: 1 });
    assert.equal(upd.status, 404, upd.text);
    assert.equal(errorOf(upd).message, 'Team not found, passed team_id=no-such-team');
  });

  test('405 for a wrong method on a management path', T, async () => {
    for (const [method, p] of [['GET', '/team/new'], ['POST', '/team/info'], ['GET', '/key/generate'], ['PUT', '/user/new']]) {
      const r = await ctx.s.request(p, { method });
      assert.equal(r.status, 405, `${method} ${p}: ${r.text}`);
      assert.deepEqual(r.json, { detail: 'Method Not Allowed' });
    }
  });

  test('401 without the master key', T, async () => {
    const k = await post('/key/generate', {});
    for (const headers of [{}, { authorization: `Bearer ${k.key}` }, { authorization: 'Bearer sk-wrong-master-key' }]) {
      for (const [method, p] of [['POST', '/team/new'], ['GET', '/global/spend'], ['GET', '/model/info'], ['POST', '/user/new']]) {
        const r = await ctx.s.request(p, {
          method,
          auth: false,
          headers: { ...headers, 'content-type': 'application/json' },
          body: method === 'POST' ? '{}' : undefined,
        });
        assert.equal(r.status, 401, `${method} ${p} ${JSON.stringify(headers)}: ${r.text}`);
        const e = errorOf(r);
        assert.equal(e.type, 'auth_error');
        assert.equal(e.code, '401');
      }
    }
  });
});
