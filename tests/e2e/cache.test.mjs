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
import { createHash } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { deployment, makeTempDir, sleep, SLOW, startSluice, startStack, waitFor } from './lib/harness.mjs';
import { REDIS_BIN, redisCommand, startRedis } from './lib/redis.mjs';

let s;
let client;
let anthropic;
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
          // /v1/messages passes through to the mock's Messages API
          model_name: 'claude-msgs',
          litellm_params: { model: 'anthropic/claude-mock-3', api_base: ctx.mockUrl, api_key: 'sk-ant-e2e' },
          model_info: { id: 'dep-claude-msgs' },
        },
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
  anthropic = new Anthropic({ apiKey: s.masterKey, baseURL: s.url, maxRetries: 0, timeout: 20000 * SLOW });
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

const sha = (text) => createHash('sha256').update(text).digest('hex');

test('a /completions stream is stored as the text_completion it adds up to and replayed', T, async () => {
  const read = async () => {
    const { data: stream, response } = await client.completions
      .create({ model: 'gpt-4o-mini', prompt: 'text stream', stream: true, mock: { id: 'text-s', tokens: 5 } })
      .withResponse();
    let text = '';
    let finish = null;
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'text_completion');
      text += chunk.choices[0]?.text ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    return { text, finish, response };
  };
  const a = await read();
  assert.ok(a.text.length > 0);
  assert.equal(a.response.headers.get('x-litellm-cache-key'), null);
  const b = await read();
  assert.equal(await upstreamCalls('text-s'), 1, 'the second stream came from the cache');
  assert.equal(b.text, a.text);
  assert.equal(b.finish, a.finish);
  assert.match(b.response.headers.get('content-type'), /^text\/event-stream/);
  assert.equal(b.response.headers.get('x-litellm-cache-key'), sha('model: gpt-4o-miniprompt: text streamstream: True'));
  // the same prompt without stream is its own entry
  const c = await client.completions.create({ model: 'gpt-4o-mini', prompt: 'text stream', mock: { id: 'text-s', tokens: 5 } });
  assert.equal(c.object, 'text_completion');
  assert.equal(await upstreamCalls('text-s'), 2);
});

test('/v1/messages (Anthropic SDK): a repeated message is a hit; `system` is part of the key', T, async () => {
  const ask = (system) =>
    anthropic.messages
      .create({ model: 'claude-msgs', max_tokens: 20, system, messages: [{ role: 'user', content: 'cache msgs' }], mock: { id: 'msgs-1' } })
      .withResponse();
  const a = await ask('be brief');
  assert.equal(a.data.type, 'message');
  assert.equal(a.response.headers.get('x-litellm-cache-key'), null);
  const b = await ask('be brief');
  assert.deepEqual(b.data, a.data);
  assert.equal(await upstreamCalls('msgs-1'), 1);
  const text = "model: claude-msgsmessages: [{'role': 'user', 'content': 'cache msgs'}]max_tokens: 20system: be brief";
  assert.equal(b.response.headers.get('x-litellm-cache-key'), sha(text));
  assert.equal(Number(b.response.headers.get('x-litellm-response-cost')), 0);
  await ask('be long');
  assert.equal(await upstreamCalls('msgs-1'), 2, 'another system prompt: a miss');
  const st = await s.mockStats();
  const sent = typeof st.last_request.body === 'string' ? JSON.parse(st.last_request.body) : st.last_request.body;
  assert.equal(sent.cache, undefined);
});

test('/v1/messages streams: stored as LiteLLM stores them (the events) and replayed as they were sent', T, async () => {
  const read = async () => {
    const { data: stream, response } = await anthropic.messages
      .create({ model: 'claude-msgs', max_tokens: 20, messages: [{ role: 'user', content: 'stream msgs' }], stream: true, mock: { id: 'msgs-s' } })
      .withResponse();
    const events = [];
    for await (const e of stream) events.push(e);
    return { events, response };
  };
  const a = await read();
  assert.equal(a.events[0].type, 'message_start');
  assert.equal(a.events.at(-1).type, 'message_stop');
  const b = await read();
  assert.equal(await upstreamCalls('msgs-s'), 1, 'the second stream came from the cache');
  assert.deepEqual(b.events, a.events, 'the same events, message id included');
  assert.match(b.response.headers.get('content-type'), /^text\/event-stream/);
  const text = "model: claude-msgsmessages: [{'role': 'user', 'content': 'stream msgs'}]max_tokens: 20stream: True";
  assert.equal(b.response.headers.get('x-litellm-cache-key'), sha(text));
});

test('/v1/responses: a repeated response is a hit, instructions are keyed, a stream is not replayed', T, async () => {
  const ask = (instructions) =>
    client.responses.create({ model: 'gpt-4o-mini', input: 'cache resp', instructions, mock: { id: 'resp-1' } }).withResponse();
  const a = await ask('short');
  assert.equal(a.data.object, 'response');
  const b = await ask('short');
  assert.deepEqual(b.data, a.data);
  assert.equal(await upstreamCalls('resp-1'), 1);
  assert.equal(b.response.headers.get('x-litellm-cache-key'), sha('model: gpt-4o-miniinput: cache respinstructions: short'));
  await ask('long');
  assert.equal(await upstreamCalls('resp-1'), 2, 'other instructions: a miss');
  for (let i = 0; i < 2; i++) {
    const stream = await client.responses.create({ model: 'gpt-4o-mini', input: 'cache resp', stream: true, mock: { id: 'resp-s' } });
    const types = [];
    for await (const e of stream) types.push(e.type);
    assert.equal(types.at(-1), 'response.completed');
  }
  assert.equal(await upstreamCalls('resp-s'), 2, 'Responses streams are not answered from the cache');
});

test('allowed_cache_controls: a key may send only the controls it lists (LiteLLM\'s 403)', T, async () => {
  const made = await s.post('/key/generate', { allowed_cache_controls: ['no-cache'] });
  assert.equal(made.status, 200, made.text);
  const limited = new OpenAI({ apiKey: made.json.key, baseURL: `${s.url}/v1`, maxRetries: 0 });
  const body = (cache) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'acc' }], mock: { id: 'acc-1' }, cache });
  const err = await limited.chat.completions.create(body({ 'no-cache': true, ttl: 5 })).catch((e) => e);
  assert.equal(err.status, 403);
  assert.equal(err.error.message, 'Not allowed to set ttl as a cache control. Contact admin to change permissions.');
  assert.equal(await upstreamCalls('acc-1'), 0, 'refused before the provider');
  const ok = await limited.chat.completions.create(body({ 'no-cache': true }));
  assert.equal(ok.object, 'chat.completion');
  const plain = await limited.chat.completions.create(body(undefined));
  assert.equal(plain.object, 'chat.completion');
  // /v1/messages: the same check, in Anthropic's envelope
  const a = new Anthropic({ apiKey: made.json.key, baseURL: s.url, maxRetries: 0 });
  const aerr = await a.messages
    .create({ model: 'claude-msgs', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], cache: { 's-maxage': 1 } })
    .catch((e) => e);
  assert.equal(aerr.status, 403);
  assert.match(aerr.error.error.message, /^Not allowed to set s-maxage as a cache control/);
  // a key without the list may send any control
  const free = await s.post('/key/generate', {});
  const other = new OpenAI({ apiKey: free.json.key, baseURL: `${s.url}/v1`, maxRetries: 0 });
  const r = await other.chat.completions.create(body({ ttl: 5, 'no-store': true }));
  assert.equal(r.object, 'chat.completion');
});

test('/cache/ping, /cache/delete, /cache/flushall on the local cache (master key only)', T, async () => {
  const ping = await s.request('/cache/ping');
  assert.equal(ping.status, 200);
  assert.equal(ping.json.status, 'healthy');
  assert.equal(ping.json.cache_type, 'local');
  assert.equal(ping.json.ping_response, null);
  const params = JSON.parse(ping.json.litellm_cache_params);
  assert.equal(params.type, 'local');
  assert.equal(params.ttl, 600);
  assert.equal(params.mode, 'default_on');
  const del = await s.post('/cache/delete', { keys: ['x'] });
  assert.equal(del.status, 500);
  assert.equal(del.json.detail, 'Cache Delete Failed(500: Cache type local does not support deleting a key. only `redis` is supported)');
  const flush = await s.post('/cache/flushall', {});
  assert.equal(flush.status, 503);
  assert.equal(flush.json.detail, 'Service Unhealthy (500: Cache type local does not support flushing)');
  const k = await s.post('/key/generate', {});
  const denied = await s.request('/cache/ping', { headers: { authorization: `Bearer ${k.json.key}` } });
  assert.equal(denied.status, 401);
  assert.equal(denied.json.error.type, 'auth_error');
  assert.equal((await s.request('/cache/ping', { auth: false })).status, 401);
  const ready = await s.request('/health/readiness', { auth: false });
  assert.equal(ready.json.cache, 'local', 'readiness names the cache type, as LiteLLM');
});

test('no cache configured: /cache/ping is LiteLLM\'s 503, delete a 500, flushall a 503', T, async () => {
  const n = await startStack({
    config: (ctx) => ({
      model_list: [deployment(ctx, 'gpt-4o-mini', 'mock-gpt-4o-mini')],
      general_settings: { master_key: ctx.masterKey },
    }),
  });
  try {
    const ping = await n.request('/cache/ping');
    assert.equal(ping.status, 503);
    assert.equal(ping.json.error.type, 'cache_ping_error');
    assert.equal(ping.json.error.param, 'cache_ping');
    assert.equal(JSON.parse(ping.json.error.message).message, 'Service Unhealthy (503: Cache not initialized. litellm.cache is None)');
    const del = await n.post('/cache/delete', { keys: ['x'] });
    assert.equal(del.status, 500);
    assert.equal(del.json.detail, 'Cache Delete Failed(503: Cache not initialized. litellm.cache is None)');
    const flush = await n.post('/cache/flushall', {});
    assert.equal(flush.status, 503);
    assert.equal(flush.json.detail, 'Service Unhealthy (503: Cache not initialized. litellm.cache is None)');
  } finally {
    await n.stop();
  }
});

test('mode default_off: only cache: {"use-cache": true} uses the cache; supported_call_types limits the routes', T, async () => {
  const o = await startStack({
    config: (ctx) => ({
      model_list: [
        deployment(ctx, 'gpt-4o-mini', 'mock-gpt-4o-mini'),
        deployment(ctx, 'text-embedding-3-small', 'mock-embedding-small', { model_info: { mode: 'embedding' } }),
      ],
      litellm_settings: {
        num_retries: 0,
        cache: true,
        cache_params: { type: 'local', mode: 'default_off', supported_call_types: ['acompletion', 'atext_completion'] },
      },
      general_settings: { master_key: ctx.masterKey },
    }),
  });
  try {
    const c = o.openai();
    const calls = async (id) => (await o.mockStats()).by_id[id]?.requests ?? 0;
    const ask = (id, cache) =>
      c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'opt in' }], mock: { id }, cache }).withResponse();
    await ask('off-1');
    const second = await ask('off-1');
    assert.equal(await calls('off-1'), 2, 'not opted in: never read nor written');
    assert.equal(second.response.headers.get('x-litellm-cache-key'), null);
    await ask('off-2', { 'use-cache': 'true' });
    await ask('off-2', { 'use-cache': 'true' });
    assert.equal(await calls('off-2'), 2, 'only JSON true opts in');
    await ask('off-3', { 'use-cache': true });
    const hit = await ask('off-3', { 'use-cache': true });
    assert.equal(await calls('off-3'), 1, 'opted in: the second call is a hit');
    assert.ok(hit.response.headers.get('x-litellm-cache-key'));
    await ask('off-3');
    assert.equal(await calls('off-3'), 2, 'the entry is there, but this request did not opt in');
    await c.completions.create({ model: 'gpt-4o-mini', prompt: 'p', mock: { id: 'off-t' }, cache: { 'use-cache': true } });
    await c.completions.create({ model: 'gpt-4o-mini', prompt: 'p', mock: { id: 'off-t' }, cache: { 'use-cache': true } });
    assert.equal(await calls('off-t'), 1, 'atext_completion is listed');
    const e = { model: 'text-embedding-3-small', input: 'e', mock: { id: 'off-e' }, cache: { 'use-cache': true } };
    await c.embeddings.create(e);
    await c.embeddings.create(e);
    assert.equal(await calls('off-e'), 2, 'aembedding is not listed: not cached');
    const ping = await o.request('/cache/ping');
    const params = JSON.parse(ping.json.litellm_cache_params);
    assert.equal(params.mode, 'default_off');
    assert.deepEqual(params.supported_call_types, ['acompletion', 'atext_completion']);
  } finally {
    await o.stop();
  }
});

// ---- type: redis ------------------------------------------------------------------------------

describe('type redis', { skip: !REDIS_BIN && 'no redis-server' }, () => {
  let r, b, redis, redisPort, dir;
  let clientA, clientB;
  before(async () => {
    dir = makeTempDir('sluice-cache-redis-');
    redis = await startRedis(dir);
    redisPort = redis.port;
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

  test('/cache/ping writes LiteLLM\'s test entry; /cache/delete removes keys; /cache/flushall empties Redis', T, async () => {
    const ping = await r.request('/cache/ping');
    assert.equal(ping.status, 200, ping.text);
    assert.equal(ping.json.status, 'healthy');
    assert.equal(ping.json.cache_type, 'redis');
    assert.equal((await r.request('/health/readiness', { auth: false })).json.cache, 'redis');
    assert.equal(ping.json.ping_response, true);
    assert.equal(ping.json.set_cache_response, 'success');
    assert.equal(ping.json.health_check_cache_params.host, '127.0.0.1');
    assert.equal(ping.json.health_check_cache_params.port, redisPort);
    assert.equal(JSON.parse(ping.json.litellm_cache_params).type, 'redis');
    const testKey = createHash('sha256').update("model: test-modelmessages: [{'role': 'user', 'content': 'test from litellm'}]").digest('hex');
    const v = JSON.parse(await redisCommand(redisPort, ['GET', testKey]));
    assert.equal(v.response, 'test_key');

    const a = await call(clientA, 'to delete', 'redis-del');
    const key = createHash('sha256').update("model: gpt-4o-minimessages: [{'role': 'user', 'content': 'to delete'}]").digest('hex');
    await waitFor(() => redisCommand(redisPort, ['GET', key]), { timeout: 3000 * SLOW, what: 'the key in Redis' });
    const del = await r.post('/cache/delete', { keys: [key, 'not-there'] });
    assert.equal(del.status, 200);
    assert.deepEqual(del.json, { status: 'success' });
    assert.equal(await redisCommand(redisPort, ['GET', key]), null);
    const again = await call(clientA, 'to delete', 'redis-del');
    assert.equal(again.data.object, a.data.object);
    assert.equal((await r.mockStats()).by_id['redis-del'].requests, 2, 'deleted: a miss');
    const bad = await r.post('/cache/delete', { keys: [] });
    assert.equal(bad.status, 500);
    assert.match(bad.json.detail, /^Cache Delete Failed\(/);

    const k = await r.post('/key/generate', {});
    if (k.status === 200) {
      const denied = await r.post('/cache/flushall', {}, { headers: { authorization: `Bearer ${k.json.key}` } });
      assert.equal(denied.status, 401);
    }
    const flush = await r.post('/cache/flushall', {});
    assert.equal(flush.status, 200);
    assert.deepEqual(flush.json, { status: 'success' });
    assert.equal(await redisCommand(redisPort, ['DBSIZE']), ':0');
  });

  test('Redis gone: lookups are misses, calls still succeed', T, async () => {
    await redis.kill();
    for (let i = 0; i < 3; i++) {
      const x = await call(clientA, 'shared', 'redis-down');
      assert.equal(x.data.object, 'chat.completion');
      assert.equal(x.response.headers.get('x-litellm-cache-key'), null);
    }
    assert.equal((await r.mockStats()).by_id['redis-down'].requests, 3);
    const ping = await r.request('/cache/ping');
    assert.equal(ping.status, 503);
    assert.equal(ping.json.error.type, 'cache_ping_error');
    assert.match(JSON.parse(ping.json.error.message).message, /^Service Unhealthy \(/);
    const del = await r.post('/cache/delete', { keys: ['x'] });
    assert.equal(del.status, 500);
    assert.match(del.json.detail, /^Cache Delete Failed\(/);
  });
});
