// Rate limits on the data plane, as LiteLLM's parallel_request_limiter_v3 enforces them: a key's
// rpm_limit, tpm_limit and max_parallel_requests (slots given back when a call ends, also when the
// client goes away), a team's and a user's rpm, a team's max_parallel_requests (beyond LiteLLM's v3,
// which applies it to keys only), a team member's rpm (its membership's budget row), a
// key's model_rpm_limit in its metadata, and a deployment's litellm_params rpm (the router skips a
// deployment at its limit; when all are, 429 "No deployments available"). The 429 is LiteLLM's:
// throttling_error, "Rate limit exceeded for <descriptor>: <value>. ...", retry-after: 60,
// rate_limit_type, reset_at. The master key is never limited. Then the cross-instance test: two
// sluice processes on one real PostgreSQL and one real redis-server share a key's rpm_limit (60
// in total, not 120), and traffic goes on with local limits once Redis is killed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import {
  deployment,
  errorOf,
  makeTempDir,
  MASTER_KEY,
  renderConfig,
  sleep,
  SLOW,
  startMock,
  startSluice,
  startStack,
  waitFor,
} from './lib/harness.mjs';
import { HAVE_PG, startPostgres } from './lib/pg.mjs';
import { REDIS_BIN, startRedis } from './lib/redis.mjs';

const T = { timeout: 30000 * SLOW };
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] };
const LIMIT_RE = (descriptor, value, type, limit) =>
  new RegExp(
    `^Rate limit exceeded for ${descriptor}: ${value}\\. Limit type: ${type}\\. Current limit: ${limit}, ` +
      'Remaining: 0\\. Limit resets at: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC$',
  );

const config = (ctx) => ({
  model_list: [
    deployment(ctx, 'gpt-4o-mini', 'mock-gpt-4o-mini', { model_info: { id: 'dep-mini' } }),
    deployment(ctx, 'gpt-4o', 'mock-gpt-4o', { model_info: { id: 'dep-4o' } }),
    deployment(ctx, 'claude-via-openai', 'mock-claude', { model_info: { id: 'dep-claude' } }),
    deployment(ctx, 'team/chat', 'mock-team-chat', { model_info: { id: 'dep-team-chat' } }),
    deployment(ctx, 'limited', 'mock-limited-a', { litellm_params: { rpm: 3 }, model_info: { id: 'dep-lim-a' } }),
    deployment(ctx, 'limited', 'mock-limited-b', { litellm_params: { rpm: 3 }, model_info: { id: 'dep-lim-b' } }),
    deployment(ctx, 'tpm-limited', 'mock-tpm', { litellm_params: { tpm: 50 }, model_info: { id: 'dep-tpm' } }),
    deployment(ctx, 'par', 'mock-par-a', { litellm_params: { max_parallel_requests: 1 }, model_info: { id: 'dep-par-a' } }),
    deployment(ctx, 'par', 'mock-par-b', { litellm_params: { max_parallel_requests: 1 }, model_info: { id: 'dep-par-b' } }),
  ],
  litellm_settings: { num_retries: 0 },
  general_settings: { master_key: ctx.masterKey, proxy_batch_write_at: 0.2 },
});

let s;
before(async () => {
  s = await startStack({ config });
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

async function post(p, body) {
  const r = await s.post(p, body);
  assert.equal(r.status, 200, `POST ${p}: ${r.status} ${r.text.slice(0, 500)}`);
  return r.json;
}

function client(key) {
  return new OpenAI({ apiKey: key, baseURL: `${s.url}/v1`, maxRetries: 0, timeout: 20000 * SLOW });
}

/** A raw chat call: {status, headers, error}. */
async function rawChat(key, body = chat, { stack = s } = {}) {
  const r = await stack.post('/v1/chat/completions', body, { headers: { authorization: `Bearer ${key}` } });
  return { status: r.status, headers: r.headers, error: r.status === 200 ? null : errorOf(r) };
}

/** Asserts that `p` rejects with a RateLimitError whose LiteLLM message matches `re`. */
async function throttled(p, re, type) {
  await assert.rejects(p, (err) => {
    assert.ok(err instanceof OpenAI.RateLimitError, `RateLimitError expected, got ${err}`);
    assert.equal(err.status, 429);
    assert.equal(err.error?.type, 'throttling_error', JSON.stringify(err.error));
    assert.equal(err.error.code, '429');
    assert.match(err.error.message, re);
    assert.equal(err.headers.get('retry-after'), '60');
    assert.equal(err.headers.get('rate_limit_type'), type);
    assert.match(err.headers.get('reset_at'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    return true;
  });
}

test('rpm_limit 5: five calls succeed with x-ratelimit-* headers, the sixth is 429 throttling_error', T, async () => {
  const k = await post('/key/generate', { rpm_limit: 5 });
  const c = client(k.key);
  for (let i = 0; i < 5; i++) {
    const { response } = await c.chat.completions.create(chat).withResponse();
    const h = (n) => response.headers.get(n);
    assert.equal(h('x-ratelimit-limit-requests'), '5');
    assert.equal(h('x-ratelimit-remaining-requests'), String(4 - i));
    assert.match(h('x-ratelimit-reset-requests'), /^(\d|[1-5]\d)s$|^1m0s$/);
    assert.equal(h('x-ratelimit-api_key-limit-requests'), '5');
    assert.equal(h('x-ratelimit-api_key-remaining-requests'), String(4 - i));
    assert.equal(h('x-litellm-key-rpm-limit'), '5');
    assert.equal(h('x-ratelimit-limit-tokens'), null, 'no tpm_limit: no token headers');
  }
  await throttled(c.chat.completions.create(chat), LIMIT_RE('api_key', k.token, 'requests', 5), 'requests');
  // a refused call is not counted, and other keys are not affected
  await throttled(c.chat.completions.create(chat), LIMIT_RE('api_key', k.token, 'requests', 5), 'requests');
  const other = await post('/key/generate', {});
  await client(other.key).chat.completions.create(chat);
});

test('tpm_limit: the call that crosses it succeeds, the next is 429 "Limit type: tokens"', T, async () => {
  const k = await post('/key/generate', { tpm_limit: 100 });
  const c = client(k.key);
  const body = { ...chat, mock: { tokens: 60 } }; // 60 completion tokens + the prompt's
  const first = await c.chat.completions.create(body).withResponse();
  assert.equal(first.response.headers.get('x-ratelimit-limit-tokens'), '100');
  assert.equal(first.response.headers.get('x-ratelimit-remaining-tokens'), '100');
  assert.ok(first.data.usage.total_tokens < 100, `one call stays under: ${first.data.usage.total_tokens}`);
  const second = await c.chat.completions.create(body).withResponse();
  const left = 100 - first.data.usage.total_tokens;
  assert.equal(second.response.headers.get('x-ratelimit-remaining-tokens'), String(left));
  await throttled(c.chat.completions.create(body), LIMIT_RE('api_key', k.token, 'tokens', 100), 'tokens');
});

test('max_parallel_requests 2: the third concurrent call is 429; slots come back when calls end or are abandoned', T, async () => {
  const k = await post('/key/generate', { max_parallel_requests: 2 });
  const slow = { ...chat, mock: { 'latency-ms': 1500 * SLOW } };
  const t0 = Date.now();
  const calls = [rawChat(k.key, slow), rawChat(k.key, slow)];
  await sleep(300 * SLOW); // both are in flight at the mock
  const third = await rawChat(k.key);
  assert.equal(third.status, 429, JSON.stringify(third.error));
  assert.equal(third.error.type, 'throttling_error');
  assert.match(third.error.message, LIMIT_RE('api_key', k.token, 'max_parallel_requests', 2));
  assert.equal(third.headers['rate_limit_type'], 'max_parallel_requests');
  assert.ok(Date.now() - t0 < 1500 * SLOW, 'refused at once, without waiting for the slow calls');
  for (const r of await Promise.all(calls)) assert.equal(r.status, 200, JSON.stringify(r.error));
  // the slots are free again
  const ok = await rawChat(k.key);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['x-ratelimit-api_key-limit-max_parallel_requests'], '2');

  // clients that hang up mid-call give their slots back too (http_req_t.on_end)
  const c = client(k.key);
  for (let round = 0; round < 3; round++) {
    const aborts = [new AbortController(), new AbortController()];
    const gone = aborts.map((a) => c.chat.completions.create(slow, { signal: a.signal }).catch((e) => e));
    await sleep(200 * SLOW);
    for (const a of aborts) a.abort();
    for (const e of await Promise.all(gone)) assert.ok(e instanceof Error);
  }
  const streams = [0, 1].map(async () => {
    const st = await c.chat.completions.create({ ...chat, stream: true, mock: { 'chunk-delay-ms': 5 } });
    let n = 0;
    for await (const chunk of st) n += chunk.choices.length;
    return n;
  });
  for (const n of await Promise.all(streams)) assert.ok(n > 0);
  await waitFor(async () => (await rawChat(k.key)).status === 200, { timeout: 3000 * SLOW, what: 'a free slot' });
});

test('a team\'s rpm_limit holds across its keys: 429 "Rate limit exceeded for team: <team_id>"', T, async () => {
  const team = await post('/team/new', { team_alias: 'rpm-team', rpm_limit: 3 });
  const a = await post('/key/generate', { team_id: team.team_id });
  const b = await post('/key/generate', { team_id: team.team_id });
  await client(a.key).chat.completions.create(chat);
  await client(b.key).chat.completions.create(chat);
  const r = await client(a.key).chat.completions.create(chat).withResponse();
  assert.equal(r.response.headers.get('x-ratelimit-team-remaining-requests'), '0');
  assert.equal(r.response.headers.get('x-ratelimit-limit-requests'), null, 'the key itself has no limit');
  await throttled(client(b.key).chat.completions.create(chat), LIMIT_RE('team', team.team_id, 'requests', 3), 'requests');
});

test('a team\'s max_parallel_requests 1 holds across its keys (beyond LiteLLM v3): 429 "team: <team_id>. Limit type: max_parallel_requests"', T, async () => {
  const team = await post('/team/new', { team_alias: 'par-team', max_parallel_requests: 1 });
  const a = await post('/key/generate', { team_id: team.team_id });
  const b = await post('/key/generate', { team_id: team.team_id });
  const slow = { ...chat, mock: { 'latency-ms': 1500 * SLOW } };
  const t0 = Date.now();
  const first = rawChat(a.key, slow);
  await sleep(300 * SLOW); // in flight at the mock, holding the team's slot
  const second = await rawChat(b.key);
  assert.equal(second.status, 429, JSON.stringify(second.error));
  assert.equal(second.error.type, 'throttling_error');
  assert.match(second.error.message, LIMIT_RE('team', team.team_id, 'max_parallel_requests', 1));
  assert.equal(second.headers['rate_limit_type'], 'max_parallel_requests');
  assert.equal(second.headers['retry-after'], '60');
  assert.ok(Date.now() - t0 < 1500 * SLOW, 'refused at once, without waiting for the slow call');
  const done = await first;
  assert.equal(done.status, 200, JSON.stringify(done.error));
  assert.equal(done.headers['x-ratelimit-team-limit-max_parallel_requests'], '1');
  assert.equal(done.headers['x-ratelimit-team-remaining-max_parallel_requests'], '0');
  // the slot comes back when the first request ends, just after its answer is written
  // (http_req_t.on_end runs in req_finish): on a loaded machine the next call can get in before that
  // (docs/limits.md "Not done"), hence the short wait; the refused call took none
  await waitFor(async () => (await rawChat(b.key)).status === 200, { timeout: 2000 * SLOW, what: 'the team\'s slot back' });
  assert.equal((await rawChat(a.key)).status, 200);
});

test('a user\'s rpm_limit: 429 "Rate limit exceeded for user: <user_id>"', T, async () => {
  const uid = `rpm-user-${Date.now()}`;
  await post('/user/new', { user_id: uid, rpm_limit: 2 });
  const k = await post('/key/generate', { user_id: uid });
  const c = client(k.key);
  await c.chat.completions.create(chat);
  await c.chat.completions.create(chat);
  await throttled(c.chat.completions.create(chat), LIMIT_RE('user', uid, 'requests', 2), 'requests');
});

const HAVE_SQLITE3 = (() => {
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

test('a team member\'s rpm_limit (membership budget row): 429 "team_member: <team>:<user>"', { ...T, skip: !HAVE_SQLITE3 && 'no sqlite3 CLI' }, async () => {
  const uid = `member-${Date.now()}`;
  const team = await post('/team/new', { team_alias: 'member-team' });
  await post('/team/member_add', { team_id: team.team_id, member: { role: 'user', user_id: uid } });
  const budget = await post('/budget/new', { budget_id: `b-${uid}`, rpm_limit: 2 });
  // the management API sets a member's max_budget_in_team only: link the budget row directly
  // (waits for the store thread's write lock rather than failing with "database is locked")
  execFileSync('sqlite3', [
    '-cmd',
    '.timeout 5000',
    path.join(s.dir, 'sluice.db'),
    `UPDATE "LiteLLM_TeamMembership" SET budget_id = '${budget.budget_id}' WHERE user_id = '${uid}' AND team_id = '${team.team_id}'`,
  ]);
  const k = await post('/key/generate', { team_id: team.team_id, user_id: uid });
  const c = client(k.key);
  await c.chat.completions.create(chat);
  await c.chat.completions.create(chat);
  await throttled(c.chat.completions.create(chat), LIMIT_RE('team_member', `${team.team_id}:${uid}`, 'requests', 2), 'requests');
});

test('model_rpm_limit in key metadata limits that model only', T, async () => {
  const k = await post('/key/generate', { metadata: { model_rpm_limit: { 'gpt-4o-mini': 2, 'team/chat': 5 } } });
  const c = client(k.key);
  const r = await c.chat.completions.create(chat).withResponse();
  assert.equal(r.response.headers.get('x-litellm-key-remaining-requests-gpt-4o-mini'), '1');
  // a model name with characters a header name cannot hold: they become '-'
  const slash = await c.chat.completions.create({ ...chat, model: 'team/chat' }).withResponse();
  assert.equal(slash.response.headers.get('x-litellm-key-remaining-requests-team-chat'), '4');
  await c.chat.completions.create(chat);
  await throttled(c.chat.completions.create(chat), LIMIT_RE('model_per_key', `${k.token}:gpt-4o-mini`, 'requests', 2), 'requests');
  for (let i = 0; i < 4; i++) await c.chat.completions.create({ ...chat, model: 'gpt-4o' });
});

test('deployment rpm: two deployments of rpm 3 take 6 calls, 3 each; the 7th is 429 "No deployments available"', T, async () => {
  const c = s.openai();
  const by = {};
  for (let i = 0; i < 6; i++) {
    const { response } = await c.chat.completions.create({ ...chat, model: 'limited' }).withResponse();
    const id = response.headers.get('x-litellm-model-id');
    by[id] = (by[id] || 0) + 1;
  }
  assert.deepEqual(by, { 'dep-lim-a': 3, 'dep-lim-b': 3 });
  const r = await s.post('/v1/chat/completions', { ...chat, model: 'limited' });
  assert.equal(r.status, 429, r.text);
  assert.match(errorOf(r).message, /^No deployments available for selected model, Try again in \d+ seconds\. Passed model=limited\./);
  assert.match(r.headers['retry-after'], /^\d+$/);
  // other groups are not affected
  await c.chat.completions.create(chat);
});

test('deployment tpm: the call that crosses it succeeds, then the group has no deployment left', T, async () => {
  const c = s.openai();
  const body = { ...chat, model: 'tpm-limited', mock: { tokens: 60 } };
  await c.chat.completions.create(body);
  const r = await s.post('/v1/chat/completions', body);
  assert.equal(r.status, 429, r.text);
  assert.match(errorOf(r).message, /^No deployments available for selected model, Try again in \d+ seconds\. Passed model=tpm-limited\./);
});

test('deployment max_parallel_requests 1, two deployments: two slow calls take one each, the third is 429 at once; slots come back', T, async () => {
  const slow = { ...chat, model: 'par', mock: { 'latency-ms': 1500 * SLOW } };
  const t0 = Date.now();
  const calls = [s.post('/v1/chat/completions', slow), s.post('/v1/chat/completions', slow)];
  await sleep(300 * SLOW); // both are in flight at the mock
  const third = await s.post('/v1/chat/completions', { ...chat, model: 'par' });
  assert.equal(third.status, 429, third.text);
  assert.match(errorOf(third).message, /^No deployments available for selected model, Try again in \d+ seconds\. Passed model=par\./);
  assert.ok(Date.now() - t0 < 1500 * SLOW, 'refused at once: no call waits for a slot');
  const ids = (await Promise.all(calls)).map((r) => {
    assert.equal(r.status, 200, r.text);
    return r.headers['x-litellm-model-id'];
  });
  assert.deepEqual(ids.sort(), ['dep-par-a', 'dep-par-b'], 'one slot each');
  // ended calls gave their slots back, whatever the key (the master key here)
  for (let i = 0; i < 4; i++) assert.equal((await s.post('/v1/chat/completions', { ...chat, model: 'par' })).status, 200);
  // a client that hangs up mid-call gives its slot back too
  const c = s.openai();
  for (let round = 0; round < 3; round++) {
    const aborts = [new AbortController(), new AbortController()];
    const gone = aborts.map((a) => c.chat.completions.create(slow, { signal: a.signal }).catch((e) => e));
    await sleep(200 * SLOW);
    for (const a of aborts) a.abort();
    for (const e of await Promise.all(gone)) assert.ok(e instanceof Error);
  }
  await waitFor(async () => {
    const both = await Promise.all([0, 1].map(() => s.post('/v1/chat/completions', { ...chat, model: 'par', mock: { 'latency-ms': 200 } })));
    return both.every((r) => r.status === 200);
  }, { timeout: 5000 * SLOW, what: 'both slots free again' });
});

test('model_max_budget rpm_limit: a per-key-per-model limit (the model_per_key descriptor)', T, async () => {
  const k = await post('/key/generate', {
    model_max_budget: { 'gpt-4o-mini': { max_budget: 100, budget_duration: '30d', rpm_limit: 2 } },
  });
  const c = client(k.key);
  const r = await c.chat.completions.create(chat).withResponse();
  assert.equal(r.response.headers.get('x-litellm-key-remaining-requests-gpt-4o-mini'), '1');
  await c.chat.completions.create(chat);
  await throttled(c.chat.completions.create(chat), LIMIT_RE('model_per_key', `${k.token}:gpt-4o-mini`, 'requests', 2), 'requests');
  for (let i = 0; i < 3; i++) await c.chat.completions.create({ ...chat, model: 'gpt-4o' }); // no limit there
});

test('the master key is never limited, and gets no x-ratelimit headers', T, async () => {
  const c = s.openai();
  for (let i = 0; i < 20; i++) {
    const { response } = await c.chat.completions.create(chat).withResponse();
    assert.equal(response.headers.get('x-ratelimit-limit-requests'), null);
  }
});

test('/v1/messages: the 429 comes in Anthropic\'s envelope', T, async () => {
  const k = await post('/key/generate', { rpm_limit: 1 });
  const a = new Anthropic({ apiKey: k.key, baseURL: s.url, maxRetries: 0 });
  const msg = { model: 'claude-via-openai', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] };
  await a.messages.create(msg);
  await assert.rejects(a.messages.create(msg), (err) => {
    assert.ok(err instanceof Anthropic.RateLimitError, String(err));
    assert.equal(err.error?.type, 'error');
    assert.match(err.error.error.message, LIMIT_RE('api_key', k.token, 'requests', 1));
    assert.equal(err.headers['retry-after'] ?? err.headers.get?.('retry-after'), '60');
    return true;
  });
});

// ---- two instances, one Redis, one PostgreSQL ------------------------------------------------

const SHARED_SKIP = (!HAVE_PG && 'PostgreSQL 15 is not installed') || (!REDIS_BIN && 'no redis-server');

describe('two instances on one PostgreSQL share limits through Redis', { skip: SHARED_SKIP }, () => {
  let dir, mock, redis, pg, a, b;
  const procs = () => [a, b].filter(Boolean);

  before(async () => {
    pg = await startPostgres();
    dir = makeTempDir('sluice-limits-');
    redis = await startRedis(dir);
    const redisPort = redis.port;
    mock = await startMock({ logDir: dir });
    const ctx = { mockPort: mock.port, mockUrl: mock.url, mockBase: `${mock.url}/v1`, masterKey: MASTER_KEY };
    const text = renderConfig(config, ctx);
    // both read keys from the one PostgreSQL (DATABASE_URL), each with its own spool
    const env = { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redisPort), DATABASE_URL: pg.url };
    const start = (name) =>
      startSluice({
        configText: text,
        configPath: path.join(dir, `${name}.yaml`),
        args: ['--spool', path.join(dir, `${name}.spool`)],
        env,
        logDir: dir,
      });
    a = await start('a');
    b = await start('b');
    for (const p of procs()) await p.waitForLog(/answers: limits are shared/, 10000 * SLOW);
  }, { timeout: 60000 * SLOW });

  after(async () => {
    const problems = [];
    try {
      for (const p of [...procs(), mock].filter(Boolean)) {
        try {
          await p.stop();
        } catch (e) {
          problems.push(e.message);
        }
        problems.push(...p.problems());
      }
      redis?.kill('SIGKILL');
    } finally {
      pg?.stop(); // whatever happened above
    }
    if (problems.length) {
      const logs = [...procs(), mock].filter(Boolean).map((p) => p.describe()).join('\n');
      throw new Error(`teardown: ${problems.join('; ')}\nlogs kept in ${dir}\n${logs}`);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, { timeout: 60000 * SLOW });

  const call = (p, key, body = chat) =>
    p.url &&
    fetch(`${p.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, text: await r.text() }));

  /** `total` calls spread over both instances, `conc` at a time: the count of each status, and
   * of successes per instance (a, b). */
  async function hammer(key, total, conc = 8) {
    const counts = { a: 0, b: 0 };
    let next = 0;
    const lane = async (i) => {
      while (next < total) {
        next++;
        const r = await call(i % 2 ? b : a, key);
        counts[r.status] = (counts[r.status] || 0) + 1;
        if (r.status === 200) counts[i % 2 ? 'b' : 'a']++;
        if (r.status !== 200 && r.status !== 429) throw new Error(`unexpected ${r.status}: ${r.text}`);
      }
    };
    await Promise.all(Array.from({ length: conc }, (_, i) => lane(i)));
    return counts;
  }

  test('a key with rpm_limit 60 gets 60 (±2) successes across both instances, not 120', { timeout: 60000 * SLOW }, async () => {
    const r = await fetch(`${a.url}/key/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}` },
      body: JSON.stringify({ rpm_limit: 60 }),
    });
    const k = await r.json();
    assert.equal(r.status, 200, JSON.stringify(k));
    const counts = await hammer(k.key, 240);
    const ok = counts[200] || 0;
    assert.ok(ok >= 58 && ok <= 62, `successes across two instances: ${ok} (${JSON.stringify(counts)})`);
    assert.equal(ok + (counts[429] || 0), 240);
    assert.ok(counts.a >= 10 && counts.b >= 10, `both instances admitted some: ${JSON.stringify(counts)}`);
    if (process.env.SLUICE_E2E_VERBOSE === '1') console.log('rpm 60 over two instances:', counts);
  });

  test('Redis killed mid-test: traffic goes on, each instance enforcing the limits alone', { timeout: 60000 * SLOW }, async () => {
    const gen = async (body) => {
      const r = await fetch(`${a.url}/key/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}` },
        body: JSON.stringify(body),
      });
      assert.equal(r.status, 200);
      return r.json();
    };
    const busy = await gen({ rpm_limit: 100000 });
    const small = await gen({ rpm_limit: 5 });
    // traffic is running when Redis dies
    const before = hammer(busy.key, 200, 4);
    await sleep(50);
    redis.kill('SIGKILL');
    const counts = await before;
    assert.equal(counts[200], 200, JSON.stringify(counts));
    for (const p of procs()) await p.waitForLog(/limits are enforced by this instance alone|circuit breaker open/, 5000 * SLOW);
    // with the breaker open, calls do not wait on Redis
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) assert.equal((await call(i % 2 ? b : a, busy.key)).status, 200);
    assert.ok(Date.now() - t0 < 5000 * SLOW, `20 calls took ${Date.now() - t0} ms`);
    // local limits: each instance admits the whole limit on its own
    const perInstance = [];
    for (const p of procs()) {
      let ok = 0;
      for (let i = 0; i < 8; i++) if ((await call(p, small.key)).status === 200) ok++;
      perInstance.push(ok);
    }
    assert.deepEqual(perInstance, [5, 5]);
  });
});

// ---- process-wide settings: their own stack ---------------------------------------------------

describe('token_rate_limit_type, default_max_parallel_requests, global_max_parallel_requests', () => {
  let g;
  const gconfig = (ctx) => ({
    model_list: [
      deployment(ctx, 'dflt', 'mock-dflt', { model_info: { id: 'dep-dflt' } }),
      deployment(ctx, 'wide', 'mock-wide', { litellm_params: { max_parallel_requests: 50 }, model_info: { id: 'dep-wide' } }),
    ],
    litellm_settings: { num_retries: 0 },
    router_settings: { default_max_parallel_requests: 1 },
    general_settings: {
      master_key: ctx.masterKey,
      token_rate_limit_type: 'output',
      global_max_parallel_requests: 3,
    },
  });
  before(async () => {
    g = await startStack({ config: gconfig });
  }, { timeout: 30000 * SLOW });
  after(() => g?.stop(), { timeout: 30000 * SLOW });

  test('token_rate_limit_type output: a tpm counter adds completion tokens only', T, async () => {
    const r = await g.post('/key/generate', { tpm_limit: 1000 });
    assert.equal(r.status, 200, r.text);
    const c = new OpenAI({ apiKey: r.json.key, baseURL: `${g.url}/v1`, maxRetries: 0 });
    const body = { ...chat, model: 'wide', messages: [{ role: 'user', content: 'a long prompt '.repeat(80) }], mock: { tokens: 7 } };
    const first = await c.chat.completions.create(body).withResponse();
    assert.ok(first.data.usage.prompt_tokens > 100, `prompt tokens ${first.data.usage.prompt_tokens}`);
    assert.equal(first.data.usage.completion_tokens, 7);
    const second = await c.chat.completions.create(body).withResponse();
    assert.equal(second.response.headers.get('x-ratelimit-remaining-tokens'), String(1000 - 7));
  });

  test('router_settings.default_max_parallel_requests 1: a deployment with no rpm/tpm takes one call at a time', T, async () => {
    const slow = { ...chat, model: 'dflt', mock: { 'latency-ms': 1500 * SLOW } };
    const first = g.post('/v1/chat/completions', slow);
    await sleep(300 * SLOW);
    const second = await g.post('/v1/chat/completions', { ...chat, model: 'dflt' });
    assert.equal(second.status, 429, second.text);
    assert.match(errorOf(second).message, /^No deployments available for selected model, Try again in \d+ seconds\. Passed model=dflt\./);
    assert.equal((await first).status, 200);
    assert.equal((await g.post('/v1/chat/completions', { ...chat, model: 'dflt' })).status, 200);
  });

  test('global_max_parallel_requests 3: the fourth call in flight is 429 "Max parallel request limit reached Hit Global Limit"', T, async () => {
    const slow = { ...chat, model: 'wide', mock: { 'latency-ms': 1500 * SLOW } };
    const t0 = Date.now();
    const calls = [0, 1, 2].map(() => g.post('/v1/chat/completions', slow));
    await sleep(300 * SLOW);
    const fourth = await g.post('/v1/chat/completions', { ...chat, model: 'wide' });
    assert.equal(fourth.status, 429, fourth.text);
    assert.equal(errorOf(fourth).message, 'Max parallel request limit reached Hit Global Limit: Limit=3, current: 3');
    assert.match(fourth.headers['retry-after'], /^\d+$/);
    assert.ok(Date.now() - t0 < 1500 * SLOW, 'refused at once');
    for (const r of await Promise.all(calls)) assert.equal(r.status, 200, r.text);
    // every slot came back (virtual keys count as the master key does)
    const k = (await g.post('/key/generate', {})).json;
    const again = await Promise.all([0, 1, 2].map(() =>
      g.post('/v1/chat/completions', { ...chat, model: 'wide', mock: { 'latency-ms': 300 } }, { headers: { authorization: `Bearer ${k.key}` } })));
    for (const r of again) assert.equal(r.status, 200, r.text);
  });
});
