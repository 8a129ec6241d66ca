// LiteLLM's split deployment with --role: a data process serves only LLM routes, a control process
// only management and health routes; two such processes on one SQLite file see each other's
// changes (a key made or blocked on the control process, spend written by the data process) within
// a second. And SIGTERM loses no spend: records still queued when sluice stops are written before
// it exits, so a new sluice on the same database finds every call.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import {
  defaultConfig,
  errorOf,
  httpRequest,
  makeTempDir,
  MASTER_KEY,
  renderConfig,
  SLOW,
  startMock,
  startSluice,
  startStack,
  waitFor,
} from './lib/harness.mjs';

const T = { timeout: 30000 * SLOW };
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'which role?' }] };

const pricedConfig = (batchWriteAt) => (ctx) => {
  const c = defaultConfig(ctx);
  c.model_list[0].model_info = { id: 'dep-mini', input_cost_per_token: 0.001, output_cost_per_token: 0.002 };
  c.general_settings = { master_key: ctx.masterKey, proxy_batch_write_at: batchWriteAt };
  return c;
};

function client(url, key) {
  return new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0, timeout: 20000 * SLOW });
}

function request(url, p, { method = 'GET', key = MASTER_KEY, body } = {}) {
  const headers = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return httpRequest(`${url}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Processes this file starts outside a stack: stopped (and checked) in after(). */
const started = [];
async function stopAll() {
  const problems = [];
  for (const p of started.splice(0).reverse()) {
    const mine = [];
    try {
      await p.stop();
    } catch (e) {
      mine.push(e.message);
    }
    mine.push(...p.problems());
    if (mine.length) problems.push(...mine, p.describe());
  }
  if (problems.length) throw new Error(problems.join('\n'));
}

describe('one role per process', () => {
  let s;
  before(async () => {
    s = await startStack({ sluiceArgs: ['--role', 'data'] });
  }, T);
  after(() => s?.stop(), T);

  test('--role data: management routes 404, chat and health work', T, async () => {
    for (const [method, p] of [['POST', '/key/generate'], ['GET', '/key/list'], ['POST', '/team/new'],
      ['GET', '/global/spend'], ['GET', '/model/info'], ['GET', '/spend/logs']]) {
      const r = await s.request(p, { method, body: method === 'POST' ? '{}' : undefined });
      assert.equal(r.status, 404, `${method} ${p}: ${r.text}`);
      assert.deepEqual(r.json, { detail: 'Not Found' });
    }
    const out = await s.openai().chat.completions.create(chat);
    assert.ok(out.choices[0].message.content);
    assert.equal((await s.request('/health/liveliness', { auth: false })).status, 200);
    assert.equal((await s.request('/v1/models')).status, 200);
  });
});

describe('control role and two processes on one SQLite file', () => {
  let dir;
  let mock;
  let control;
  let data;
  before(async () => {
    dir = makeTempDir();
    mock = await startMock({ logDir: dir });
    started.push(mock);
    const ctx = { mockPort: mock.port, mockUrl: mock.url, mockBase: `${mock.url}/v1`, masterKey: MASTER_KEY };
    const configText = renderConfig(pricedConfig(0.2), ctx);
    const db = path.join(dir, 'shared.db');
    control = await startSluice({
      configText,
      configPath: path.join(dir, 'control.yaml'),
      args: ['--role', 'control', '--db', db, '--spool', path.join(dir, 'control.spool')],
      logDir: dir,
    });
    started.push(control);
    data = await startSluice({
      configText,
      configPath: path.join(dir, 'data.yaml'),
      args: ['--role', 'data', '--db', db, '--spool', path.join(dir, 'data.spool')],
      logDir: dir,
    });
    started.push(data);
  }, T);
  after(async () => {
    await stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, T);

  test('--role control: LLM routes 404, management and health work', T, async () => {
    for (const [method, p] of [['POST', '/v1/chat/completions'], ['POST', '/chat/completions'],
      ['POST', '/v1/embeddings'], ['GET', '/v1/models'], ['POST', '/v1/messages']]) {
      const r = await request(control.url, p, { method, body: method === 'POST' ? chat : undefined });
      assert.equal(r.status, 404, `${method} ${p}: ${r.text}`);
      assert.deepEqual(r.json, { detail: 'Not Found' });
    }
    const k = await request(control.url, '/key/generate', { method: 'POST', body: { key_alias: 'from-control' } });
    assert.equal(k.status, 200, k.text);
    assert.match(k.json.key, /^sk-/);
    const live = await httpRequest(`${control.url}/health/liveliness`);
    assert.equal(live.status, 200);
    assert.equal(live.json, "I'm alive!");
    const ready = await httpRequest(`${control.url}/health/readiness`);
    assert.equal(ready.status, 200);
    assert.equal(ready.json.status, 'healthy');
    assert.equal(ready.json.db, 'connected', 'the control process reports its own database');
  });

  test('a key made on the control process works on the data process; its spend shows on the control process', T, async () => {
    const k = (await request(control.url, '/key/generate', { method: 'POST', body: { user_id: 'split-user' } })).json;
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const { response } = await client(data.url, k.key).chat.completions.create(chat).withResponse();
      ids.push(response.headers.get('x-litellm-call-id'));
    }
    const rows = await waitFor(async () => {
      const r = await request(control.url, `/spend/logs?api_key=${k.token}`);
      return r.status === 200 && r.json.length === 3 ? r.json : null;
    }, { timeout: 5000 * SLOW, what: 'the data process\'s spend rows on the control process' });
    assert.deepEqual(rows.map((r) => r.request_id).sort(), ids.sort());
    assert.ok(rows.every((r) => r.user === 'split-user' && r.spend > 0));
  });

  test('a key blocked on the control process is refused by the data process within a second', T, async () => {
    const k = (await request(control.url, '/key/generate', { method: 'POST', body: {} })).json;
    await client(data.url, k.key).chat.completions.create(chat); // cached on the data process
    const blocked = await request(control.url, '/key/block', { method: 'POST', body: { key: k.key } });
    assert.equal(blocked.status, 200, blocked.text);
    const t0 = Date.now();
    const refused = await waitFor(async () => {
      const r = await request(data.url, '/v1/chat/completions', { method: 'POST', key: k.key, body: chat });
      return r.status === 401 ? r : null;
    }, { timeout: 3000 * SLOW, interval: 25, what: 'the data process to refuse the blocked key' });
    assert.ok(Date.now() - t0 < 1000 * SLOW, `took ${Date.now() - t0} ms`);
    assert.match(errorOf(refused).message, /Key is blocked/);

    // and unblocked again; a team blocked there is felt here too
    await request(control.url, '/key/unblock', { method: 'POST', body: { key: k.key } });
    await waitFor(async () => (await request(data.url, '/v1/chat/completions', { method: 'POST', key: k.key, body: chat })).status === 200,
      { timeout: 3000 * SLOW, interval: 25, what: 'the unblocked key to work on the data process' });
    const team = (await request(control.url, '/team/new', { method: 'POST', body: { team_alias: 'split' } })).json;
    const tk = (await request(control.url, '/key/generate', { method: 'POST', body: { team_id: team.team_id } })).json;
    await client(data.url, tk.key).chat.completions.create(chat);
    await request(control.url, '/team/block', { method: 'POST', body: { team_id: team.team_id } });
    const t1 = Date.now();
    await waitFor(async () => (await request(data.url, '/v1/chat/completions', { method: 'POST', key: tk.key, body: chat })).status === 401,
      { timeout: 3000 * SLOW, interval: 25, what: 'the data process to refuse the blocked team\'s key' });
    assert.ok(Date.now() - t1 < 1000 * SLOW, `took ${Date.now() - t1} ms`);
  });

  test('a key deleted on the control process is refused by the data process within a second', T, async () => {
    const k = (await request(control.url, '/key/generate', { method: 'POST', body: {} })).json;
    await client(data.url, k.key).chat.completions.create(chat);
    const del = await request(control.url, '/key/delete', { method: 'POST', body: { keys: [k.key] } });
    assert.equal(del.status, 200, del.text);
    const t0 = Date.now();
    await waitFor(async () => (await request(data.url, '/v1/chat/completions', { method: 'POST', key: k.key, body: chat })).status === 401,
      { timeout: 3000 * SLOW, interval: 25, what: 'the data process to refuse the deleted key' });
    assert.ok(Date.now() - t0 < 1000 * SLOW, `took ${Date.now() - t0} ms`);
  });
});

describe('SIGTERM loses nothing', () => {
  test('records queued at SIGTERM are written: a new sluice on the same --db finds every call', T, async () => {
    const dbDir = makeTempDir();
    const db = path.join(dbDir, 'spend.db');
    // proxy_batch_write_at 60: nothing is written before the stop
    const s = await startStack({ config: pricedConfig(60), sluiceArgs: ['--db', db] });
    let second;
    try {
      const k = (await s.post('/key/generate', { max_budget: 1000 })).json;
      const c = client(s.url, k.key);
      const N = 12;
      const costs = new Map(); // request id -> x-litellm-response-cost (JSON answers only)
      const calls = [];
      for (let i = 0; i < N; i++) {
        const stream = i % 4 === 0;
        const body = stream ? { ...chat, stream, stream_options: { include_usage: true } } : chat;
        calls.push(c.chat.completions.create(body).withResponse());
      }
      for (const { data, response } of await Promise.all(calls)) {
        if (typeof data[Symbol.asyncIterator] === 'function') for await (const _ of data);
        const cost = response.headers.get('x-litellm-response-cost');
        costs.set(response.headers.get('x-litellm-call-id'), cost === null ? null : Number(cost));
      }
      assert.equal(costs.size, N);
      // a team whose tiny budget one call used up: the spend must survive the restart too
      const team = (await s.post('/team/new', { max_budget: 0.000001 })).json;
      const tk = (await s.post('/key/generate', { team_id: team.team_id })).json;
      await client(s.url, tk.key).chat.completions.create(chat);
      const none = await s.request(`/spend/logs?api_key=${k.token}`);
      assert.deepEqual(none.json, [], 'rows were written before the stop: the test proves nothing');

      const exit = await s.sluice.stop();
      assert.deepEqual(exit, { code: 0, signal: null });

      second = await startSluice({ configText: s.configText, configPath: s.configPath, args: ['--db', db], logDir: s.dir });
      const r = await request(second.url, `/spend/logs?api_key=${k.token}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.map((x) => x.request_id).sort(), [...costs.keys()].sort());
      for (const row of r.json) {
        const cost = costs.get(row.request_id);
        assert.ok(row.spend > 0, JSON.stringify(row));
        if (cost !== null) assert.ok(Math.abs(row.spend - cost) < 1e-12, `${row.spend} vs ${cost}`);
      }
      const logged = r.json.reduce((a, x) => a + x.spend, 0);
      const info = await request(second.url, `/key/info?key=${k.key}`);
      assert.ok(Math.abs(info.json.info.spend - logged) < 1e-9, `${info.json.info.spend} vs ${logged}`);
      const over = await request(second.url, '/v1/chat/completions', { method: 'POST', key: tk.key, body: chat });
      assert.equal(over.status, 429, over.text);
      assert.match(errorOf(over).message, new RegExp(`^Budget has been exceeded! Team=${team.team_id} `));
    } finally {
      let problems = [];
      if (second) {
        await second.stop().catch((e) => problems.push(e.message));
        problems = [...problems, ...second.problems()];
        if (problems.length) problems.push(second.describe());
      }
      await s.stop();
      rmSync(dbDir, { recursive: true, force: true });
      if (problems.length) throw new Error(problems.join('\n'));
    }
  });
});
