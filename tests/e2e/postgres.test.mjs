// sluice on a real PostgreSQL: keys and spend in LiteLLM's tables, two instances sharing one
// database (a key blocked on one stops working on the other within a second), and outages: the
// database stopped mid-traffic and restarted (cached keys keep working, liveness stays fast, every
// spend record made meanwhile reaches LiteLLM_SpendLogs exactly once), and a database that is down
// when sluice starts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { defaultConfig, httpRequest, sleep, SLOW, startSluice, startStack, waitFor } from './lib/harness.mjs';
import { HAVE_PG, startPostgres } from './lib/pg.mjs';

const skip = HAVE_PG ? false : 'PostgreSQL 15 is not installed';
const T = { timeout: 60000 * SLOW, skip };
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

let pg;
let s;
before(async () => {
  if (skip) return;
  pg = await startPostgres();
  s = await startStack({
    config: (ctx) => ({
      ...defaultConfig(ctx),
      general_settings: { master_key: ctx.masterKey, proxy_batch_write_at: 0.2 },
    }),
    env: { DATABASE_URL: pg.url },
  });
}, { timeout: 60000 * SLOW });
after(async () => {
  await s?.stop();
  pg?.stop();
}, { timeout: 60000 * SLOW });

function client(url, key) {
  return new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0, timeout: 20000 * SLOW });
}

// The liveness prober: GET the URL every 10 ms on a fresh connection, print "<status> <ms>" lines
// until SIGTERM.
const PROBE = `
const http = require('node:http');
let stop = false;
process.on('SIGTERM', () => { stop = true; });
(async function loop() {
  while (!stop) {
    const t = process.hrtime.bigint();
    const status = await new Promise((resolve) => {
      http.get(process.argv[1], { agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); })
        .on('error', () => resolve(0));
    });
    process.stdout.write(status + ' ' + Number(process.hrtime.bigint() - t) / 1e6 + '\\n');
    await new Promise((r) => setTimeout(r, 10));
  }
  process.exit(0);
})();
`;

const count = (token) => Number(pg.sql(`SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE api_key = '${token}'`));

test('keys and spend live in LiteLLM\'s tables', T, async () => {
  const r = await s.post('/key/generate', { key_alias: 'pg-e2e', max_budget: 100 });
  assert.equal(r.status, 200, r.text);
  const k = r.json;
  assert.equal(pg.sql(`SELECT key_alias FROM "LiteLLM_VerificationToken" WHERE token = '${k.token}'`), 'pg-e2e');
  const c = client(s.url, k.key);
  for (let i = 0; i < 5; i++) await c.chat.completions.create(chat);
  await waitFor(() => count(k.token) === 5, { timeout: 10000 * SLOW, what: '5 SpendLogs rows' });
  const spend = Number(pg.sql(`SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = '${k.token}'`));
  const logged = Number(pg.sql(`SELECT sum(spend) FROM "LiteLLM_SpendLogs" WHERE api_key = '${k.token}'`));
  assert.ok(Math.abs(spend - logged) < 1e-9, `${spend} vs ${logged}`);
});

test('a key blocked through one instance stops working on another within a second', T, async () => {
  const other = await startSluice({
    configText: s.configText,
    configPath: `${s.dir}/config-b.yaml`,
    args: ['--spool', `${s.dir}/b.spool`],
    env: { DATABASE_URL: pg.url },
    logDir: s.dir,
  });
  try {
    const k = (await s.post('/key/generate', {})).json;
    const b = client(other.url, k.key);
    await b.chat.completions.create(chat); // cached on instance B
    const blocked = await s.post('/key/block', { key: k.key });
    assert.equal(blocked.status, 200, blocked.text);
    const t0 = Date.now();
    await waitFor(async () => {
      const r = await httpRequest(`${other.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${k.key}`, 'content-type': 'application/json' },
        body: JSON.stringify(chat),
      });
      return r.status === 401;
    }, { timeout: 3000 * SLOW, interval: 50, what: 'instance B to refuse the blocked key' });
    assert.ok(Date.now() - t0 < 1000 * SLOW, `took ${Date.now() - t0} ms`);
  } finally {
    await other.stop();
  }
});

test('PostgreSQL stopped mid-traffic and restarted: nothing lost, liveness stays fast', T, async () => {
  const k = (await s.post('/key/generate', {})).json;
  const c = client(s.url, k.key);
  await c.chat.completions.create(chat); // the key is cached from now on
  let ok = 1;
  let failed = 0;
  let running = true;
  const liveness = [];
  const traffic = (async () => {
    while (running) {
      try {
        await c.chat.completions.create(chat);
        ok++;
      } catch {
        failed++;
      }
    }
  })();
  // liveness is probed from its own process, so the traffic loop above cannot delay the probe
  const prober = spawn(process.execPath, ['-e', PROBE, `${s.url}/health/liveliness`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let probeOut = '';
  prober.stdout.on('data', (d) => { probeOut += d; });
  const probe = new Promise((resolve) => prober.on('exit', resolve));
  await sleep(700);
  pg.stopServer();
  await sleep(2500);
  pg.start();
  await sleep(1000);
  running = false;
  prober.kill('SIGTERM');
  await Promise.all([traffic, probe]);
  for (const line of probeOut.trim().split('\n')) {
    const [status, ms] = line.split(' ');
    assert.equal(status, '200', 'liveness answered something else than 200');
    liveness.push(Number(ms));
  }
  assert.equal(failed, 0, 'requests with a cached key failed during the outage');
  assert.ok(ok > 20, `only ${ok} requests`);
  await waitFor(() => count(k.token) === ok, { timeout: 20000 * SLOW, interval: 200, what: `${ok} SpendLogs rows (have ${count(k.token)})` });
  assert.ok(liveness.length > 100, `only ${liveness.length} liveness probes`);
  liveness.sort((a, b) => a - b);
  const p99 = liveness[Math.floor(liveness.length * 0.99)];
  assert.ok(p99 < 50 * SLOW, `liveness p99 ${p99} ms`);
  await sleep(500);
  assert.equal(count(k.token), ok, 'a record was written twice');
});

test('a database that is down at start-up: the master key is served, spend arrives later', T, async () => {
  pg.stopServer();
  const other = await startSluice({
    configText: s.configText,
    configPath: `${s.dir}/config-c.yaml`,
    args: ['--spool', `${s.dir}/c.spool`],
    env: { DATABASE_URL: pg.url },
    logDir: s.dir,
  });
  try {
    const c = client(other.url, s.masterKey);
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const { response } = await c.chat.completions.create(chat).withResponse();
      ids.push(response.headers.get('x-litellm-call-id'));
    }
    pg.start();
    const list = ids.map((id) => `'${id}'`).join(',');
    await waitFor(() => Number(pg.sql(`SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE request_id IN (${list})`)) === 3,
      { timeout: 20000 * SLOW, interval: 200, what: 'the start-up records' });
  } finally {
    if (!pg.running) pg.start();
    await other.stop();
  }
});
