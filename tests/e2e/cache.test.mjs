// The response cache (litellm_settings.cache: true, cache_params.type: local) through the
// official openai client: a repeated call is answered without the provider, with LiteLLM's
// x-litellm-cache-key (the sha256 of LiteLLM's key text), cost 0 and a SpendLogs row with
// cache_hit "True" and a request_id suffixed _cache_hit<time>; different parameters miss; the
// per-request controls no-cache, no-store, ttl and s-maxage; a stream is stored as the completion it
// adds up to and a repeated stream is replayed from it as chunks. With
// cache_params.type redis (a real redis-server on a free loopback port; skipped without one),
// two instances share entries, the value is LiteLLM's {timestamp, response}, and a Redis that
// is gone turns lookups into misses, never errors.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { deployment, freePort, makeTempDir, sleep, SLOW, startSluice, startStack, waitFor } from './lib/harness.mjs';

let s;
let client;
before(async () => {
  s = await startStack({
    config: (ctx) => ({
      model_list: [
        deployment(ctx, 'gpt-4o-mini', 'mock-gpt-4o-mini', {
          model_info: { id: 'dep-mini', input_cost_per_token: 0.001, output_cost_per_token: 0.002 },
        }),
        deployment(ctx, 'text-embedding-3-small', 'mock-embedding-small', {
          model_info: { id: 'dep-embed', mode: 'embedding' },
        }),
        {
          model_name: 'claude-cached',
          litellm_params: {
            model: 'anthropic/claude-x',
            api_base: ctx.mockUrl,
            api_key: 'sk-ant-e2e',
            extra_headers: { 'x-mock-id': 'claude-cache' },
          },
          model_info: { id: 'dep-claude' },
        },
      ],
      litellm_settings: { num_retries: 0, cache: true, cache_params: { type: 'local', ttl: 600 } },
      general_settings: { master_key: ctx.masterKey, proxy_batch_write_at: 0.2 },
    }),
  });
  client = s.openai();
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 20000 * SLOW };

async function upstreamCalls(id) {
  const st = await s.mockStats();
  return st.by_id[id]?.requests ?? 0;
}

function chat(content, id, extra = {}) {
  return client.chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], mock: { id }, ...extra })
    .withResponse();
}

test('a second identical call is a hit: one provider call, same body, LiteLLM\'s key and headers', T, async () => {
  const a = await chat('cache me', 'hit-1');
  const b = await chat('cache me', 'hit-1');
  assert.equal(await upstreamCalls('hit-1'), 1);
  assert.deepEqual(b.data, a.data);
  // LiteLLM: sha256 of "<param>: <str(value)>" joined, model as the model group
  const text = "model: gpt-4o-minimessages: [{'role': 'user', 'content': 'cache me'}]";
  const key = createHash('sha256').update(text).digest('hex');
  assert.equal(b.response.headers.get('x-litellm-cache-key'), key);
  assert.equal(a.response.headers.get('x-litellm-cache-key'), null, 'a miss has no cache-key header');
  assert.equal(Number(b.response.headers.get('x-litellm-response-cost')), 0);
  assert.ok(Number(a.response.headers.get('x-litellm-response-cost')) > 0);
  assert.equal(b.response.headers.get('x-litellm-model-group'), 'gpt-4o-mini');
  assert.ok(b.response.headers.get('x-litellm-call-id'));
  assert.notEqual(b.response.headers.get('x-litellm-call-id'), a.response.headers.get('x-litellm-call-id'));

  // SpendLogs: the miss with the key and its cost, the hit with cache_hit "True" and zero spend
  const aId = a.response.headers.get('x-litellm-call-id');
  const bId = b.response.headers.get('x-litellm-call-id');
  const rows = await waitFor(async () => {
    const r = await s.request('/spend/logs');
    if (r.status !== 200 || !Array.isArray(r.json)) return null;
    const miss = r.json.find((l) => l.request_id === aId);
    const hit = r.json.find((l) => l.request_id.startsWith(`${bId}_cache_hit`));
    return miss && hit ? { miss, hit } : null;
  }, { timeout: 5000 * SLOW, what: 'the miss and hit spend log rows' });
  assert.equal(rows.miss.cache_hit, 'False');
  assert.equal(rows.miss.cache_key, key);
  assert.ok(rows.miss.spend > 0);
  assert.equal(rows.hit.cache_hit, 'True');
  assert.equal(rows.hit.cache_key, key);
  assert.equal(rows.hit.spend, 0);
  assert.match(rows.hit.request_id, /_cache_hit\d+\.\d+$/);
  assert.equal(rows.hit.status, 'success');
  assert.equal(rows.hit.model_group, 'gpt-4o-mini');
});

test('different parameters miss; unknown members (metadata) do not change the key', T, async () => {
  await chat('params', 'params-1');
  await chat('params', 'params-1', { temperature: 0.5 });
  await chat('params', 'params-1', { max_tokens: 7 });
  await chat('params other', 'params-1');
  assert.equal(await upstreamCalls('params-1'), 4);
  const r = await chat('params', 'params-1', { metadata: { tags: ['x'] } });
  assert.equal(await upstreamCalls('params-1'), 4);
  assert.ok(r.response.headers.get('x-litellm-cache-key'));
});

test('cache controls: no-cache skips the read, no-store the write, and the provider never sees them', T, async () => {
  await chat('controls', 'ctl-1');
  const r = await chat('controls', 'ctl-1', { cache: { 'no-cache': true } });
  assert.equal(await upstreamCalls('ctl-1'), 2);
  assert.equal(r.response.headers.get('x-litellm-cache-key'), null);
  const st = await s.mockStats();
  const sent = typeof st.last_request.body === 'string' ? JSON.parse(st.last_request.body) : st.last_request.body;
  assert.equal(sent.cache, undefined, 'the cache member is not sent upstream');
  assert.deepEqual(sent.mock, { id: 'ctl-1' });

  await chat('nostore', 'ctl-2', { cache: { 'no-store': true } });
  await chat('nostore', 'ctl-2');
  assert.equal(await upstreamCalls('ctl-2'), 2, 'no-store: nothing was stored');
  await chat('nostore', 'ctl-2');
  assert.equal(await upstreamCalls('ctl-2'), 2, 'the plain call stored it');
});

test('cache controls: ttl and s-maxage', T, async () => {
  await chat('short ttl', 'ttl-1', { cache: { ttl: 0.3 } });
  await chat('short ttl', 'ttl-1');
  assert.equal(await upstreamCalls('ttl-1'), 1);
  await sleep(500);
  await chat('short ttl', 'ttl-1');
  assert.equal(await upstreamCalls('ttl-1'), 2, 'expired after its ttl');

  await chat('maxage', 'age-1');
  await sleep(300);
  await chat('maxage', 'age-1', { cache: { 's-maxage': 0.1 } });
  assert.equal(await upstreamCalls('age-1'), 2, 'older than s-maxage: a miss');
  await chat('maxage', 'age-1', { cache: { 's-maxage': 60 } });
  assert.equal(await upstreamCalls('age-1'), 2, 'young enough: a hit');
});

test('a stream is cached: the same stream again is a hit, replayed as chunks (LiteLLM\'s key holds stream)', T, async () => {
  const streamed = async () => {
    const { data: stream, response } = await client.chat.completions
      .create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'stream me' }],
        stream: true,
        mock: { id: 'stream-1', tokens: 4 },
      })
      .withResponse();
    let text = '';
    let finish = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    return { text, finish, chunks, response };
  };
  const a = await streamed();
  assert.match(a.text, /^mock answer to/);
  assert.equal(a.response.headers.get('x-litellm-cache-key'), null, 'a miss has no cache-key header');
  const b = await streamed(); // stored before the first stream's end reached the client
  assert.equal(await upstreamCalls('stream-1'), 1, 'the second stream came from the cache');
  assert.equal(b.text, a.text, 'the same content, streamed');
  assert.equal(b.finish, a.finish);
  assert.match(b.response.headers.get('content-type'), /^text\/event-stream/);
  const text = "model: gpt-4o-minimessages: [{'role': 'user', 'content': 'stream me'}]stream: True";
  const key = createHash('sha256').update(text).digest('hex');
  assert.equal(b.response.headers.get('x-litellm-cache-key'), key);
  assert.equal(Number(b.response.headers.get('x-litellm-response-cost')), 0);

  const bId = b.response.headers.get('x-litellm-call-id');
  const hit = await waitFor(async () => {
    const r = await s.request('/spend/logs');
    if (r.status !== 200 || !Array.isArray(r.json)) return null;
    return r.json.find((l) => l.request_id.startsWith(`${bId}_cache_hit`)) ?? null;
  }, { timeout: 5000 * SLOW, what: 'the stream hit spend log row' });
  assert.equal(hit.cache_hit, 'True');
  assert.equal(hit.cache_key, key);
  assert.equal(hit.spend, 0);

  // the key holds stream: True, so the same call without stream is its own entry (a miss)
  const c = await client.chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'stream me' }], mock: { id: 'stream-1', tokens: 4 } })
    .withResponse();
  assert.equal(c.data.object, 'chat.completion');
  assert.equal(c.response.headers.get('x-litellm-cache-key'), null);
  assert.equal(await upstreamCalls('stream-1'), 2);
});

test('no-store on a stream: nothing is kept', T, async () => {
  for (let i = 0; i < 2; i++) {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'stream nostore' }],
      stream: true,
      mock: { id: 'stream-2', tokens: 3 },
      cache: { 'no-store': true },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.match(text, /^mock answer to/);
  }
  assert.equal(await upstreamCalls('stream-2'), 2);
});

test('the translated path (a native provider) is cached the same way', T, async () => {
  const body = { model: 'claude-cached', messages: [{ role: 'user', content: 'native' }], max_tokens: 20, cache: { ttl: 60 } };
  const a = await client.chat.completions.create(body).withResponse();
  const st = await s.mockStats();
  assert.equal(st.by_id['claude-cache'].requests, 1);
  assert.equal(JSON.parse(st.last_request.body).cache, undefined, 'the cache member is not sent upstream');
  const b = await client.chat.completions.create(body).withResponse();
  assert.deepEqual(b.data, a.data);
  assert.equal((await s.mockStats()).by_id['claude-cache'].requests, 1);
  const text = "model: claude-cachedmessages: [{'role': 'user', 'content': 'native'}]max_tokens: 20";
  assert.equal(b.response.headers.get('x-litellm-cache-key'), createHash('sha256').update(text).digest('hex'));
});

test('the translated path: a stream is stored and replayed the same way', T, async () => {
  const body = { model: 'claude-cached', messages: [{ role: 'user', content: 'native stream' }], max_tokens: 20, stream: true };
  const before = (await s.mockStats()).by_id['claude-cache'].requests;
  const read = async () => {
    const { data: stream, response } = await client.chat.completions.create(body).withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    return { text, response };
  };
  const a = await read();
  const b = await read();
  assert.ok(a.text.length > 0);
  assert.equal(b.text, a.text);
  assert.equal((await s.mockStats()).by_id['claude-cache'].requests, before + 1);
  const text = "model: claude-cachedmessages: [{'role': 'user', 'content': 'native stream'}]max_tokens: 20stream: True";
  assert.equal(b.response.headers.get('x-litellm-cache-key'), createHash('sha256').update(text).digest('hex'));
});

test('embeddings are cached too', T, async () => {
  const body = { model: 'text-embedding-3-small', input: ['a', 'b'], mock: { id: 'emb-1' } };
  const a = await client.embeddings.create(body);
  const b = await client.embeddings.create(body);
  assert.deepEqual(b, a);
  assert.equal(await upstreamCalls('emb-1'), 1);
});

// ---- type: redis ------------------------------------------------------------------------------

const REDIS_BIN = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

function waitPort(port, timeout = 10000) {
  const end = Date.now() + timeout;
  return new Promise((resolve, reject) => {
    const tryOnce = () => {
      const sock = net.connect({ port, host: '127.0.0.1' });
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > end) reject(new Error(`redis-server did not listen on ${port}`));
        else setTimeout(tryOnce, 50);
      });
    };
    tryOnce();
  });
}

/** One RESP command; resolves the bulk string (null for a nil). */
function redisCommand(port, args) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const text = buf.toString('utf8');
      const nl = text.indexOf('\r\n');
      if (nl < 0) return;
      if (text[0] === '$') {
        const n = Number(text.slice(1, nl));
        if (n < 0) return sock.end(), resolve(null);
        if (buf.length < nl + 2 + n + 2) return;
        sock.end();
        resolve(buf.subarray(nl + 2, nl + 2 + n).toString('utf8'));
      } else {
        sock.end();
        resolve(text.slice(0, nl));
      }
    });
    sock.on('error', reject);
    sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

describe('type redis', { skip: !REDIS_BIN && 'no redis-server' }, () => {
  let r, b, redis, redisPort, dir;
  let clientA, clientB;
  before(async () => {
    dir = makeTempDir('sluice-cache-redis-');
    mkdirSync(path.join(dir, 'redis'));
    redisPort = await freePort();
    redis = spawn(REDIS_BIN, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', path.join(dir, 'redis')], {
      stdio: 'ignore',
    });
    process.on('exit', () => redis.kill('SIGKILL'));
    await waitPort(redisPort);
    r = await startStack({
      config: (ctx) => ({
        model_list: [deployment(ctx, 'gpt-4o-mini', 'mock-gpt-4o-mini', { model_info: { id: 'dep-mini' } })],
        litellm_settings: {
          num_retries: 0,
          cache: true,
          cache_params: { type: 'redis', host: '127.0.0.1', port: redisPort, ttl: 60, socket_timeout: 0.5 },
        },
        general_settings: { master_key: ctx.masterKey },
      }),
    });
    b = await startSluice({ configText: r.configText, configPath: path.join(dir, 'b.yaml'), logDir: dir });
    await r.sluice.waitForLog(/response cache: Redis .* connected/, 10000 * SLOW);
    await b.waitForLog(/response cache: Redis .* connected/, 10000 * SLOW);
    clientA = r.openai();
    clientB = new OpenAI({ apiKey: r.masterKey, baseURL: `${b.url}/v1`, maxRetries: 0 });
  }, { timeout: 60000 * SLOW });
  after(async () => {
    const problems = [];
    if (b) {
      await b.stop().catch((e) => problems.push(e.message));
      problems.push(...b.problems());
    }
    await r?.stop();
    redis?.kill('SIGKILL');
    if (problems.length) throw new Error(`teardown: ${problems.join('; ')}\n${b.describe()}`);
  }, { timeout: 30000 * SLOW });

  const call = (client, content, id) =>
    client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], mock: { id } }).withResponse();

  test('a call stored by one instance is a hit on the other; the value is LiteLLM\'s', T, async () => {
    const a = await call(clientA, 'shared', 'redis-1');
    const key = createHash('sha256').update("model: gpt-4o-minimessages: [{'role': 'user', 'content': 'shared'}]").digest('hex');
    const stored = await waitFor(() => redisCommand(redisPort, ['GET', key]), { timeout: 3000 * SLOW, what: 'the key in Redis' });
    const v = JSON.parse(stored);
    assert.ok(Math.abs(v.timestamp - Date.now() / 1000) < 60, `timestamp ${v.timestamp}`);
    assert.deepEqual(JSON.parse(v.response), a.data);
    const ttl = Number(await redisCommand(redisPort, ['PTTL', key]).then((x) => x.replace(':', '')));
    assert.ok(ttl > 0 && ttl <= 60000, `PTTL ${ttl}`);
    const hit = await call(clientB, 'shared', 'redis-1');
    assert.deepEqual(hit.data, a.data);
    assert.equal(hit.response.headers.get('x-litellm-cache-key'), key);
    assert.equal((await r.mockStats()).by_id['redis-1'].requests, 1);
  });

  test('a stream stored by one instance (LiteLLM\'s value: the chat.completion) is replayed by the other', T, async () => {
    const read = async (c) => {
      const { data: stream, response } = await c.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'shared stream' }], stream: true, mock: { id: 'redis-s' } })
        .withResponse();
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      return { text, response };
    };
    const a = await read(clientA);
    const key = createHash('sha256')
      .update("model: gpt-4o-minimessages: [{'role': 'user', 'content': 'shared stream'}]stream: True")
      .digest('hex');
    const stored = await waitFor(() => redisCommand(redisPort, ['GET', key]), { timeout: 3000 * SLOW, what: 'the stream key in Redis' });
    const v = JSON.parse(JSON.parse(stored).response);
    assert.equal(v.object, 'chat.completion');
    assert.equal(v.choices[0].message.content, a.text);
    const b = await read(clientB);
    assert.equal(b.text, a.text);
    assert.equal(b.response.headers.get('x-litellm-cache-key'), key);
    assert.equal((await r.mockStats()).by_id['redis-s'].requests, 1);
  });

  test('Redis gone: lookups are misses, calls still succeed', T, async () => {
    redis.kill('SIGKILL');
    await new Promise((res) => redis.once('exit', res));
    for (let i = 0; i < 3; i++) {
      const x = await call(clientA, 'shared', 'redis-down');
      assert.equal(x.data.object, 'chat.completion');
      assert.equal(x.response.headers.get('x-litellm-cache-key'), null);
    }
    assert.equal((await r.mockStats()).by_id['redis-down'].requests, 3);
  });
});
