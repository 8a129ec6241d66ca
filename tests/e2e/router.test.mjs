// Router: cooldowns (LiteLLM's triggers, the all-cooling 429) and the 429 back-off between
// retries. Faults come from the mock, set per deployment through extra_headers (x-mock-*).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { deployment, errorOf, SLOW, sleep, startStack, UPSTREAM_KEY, waitFor, withStack } from './lib/harness.mjs';

let s;
// A provider whose errors say what LiteLLM maps to ContextWindowExceededError and
// ContentPolicyViolationError (the mock's errors say only "mock error <status>"); it records bodies.
const seen = [];
const words = {
  '/ctx/v1/chat/completions': [400, { message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' }],
  '/policy/v1/chat/completions': [400, { message: 'The response was filtered due to the prompt triggering content management policy.', type: 'invalid_request_error', param: 'prompt', code: 'content_filter' }],
};
const provider = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    seen.push({ url: req.url, body: JSON.parse(body || '{}') });
    const [status, error] = words[req.url] || [200, null];
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(error ? { error } : {
      id: 'chatcmpl-x', object: 'chat.completion', created: 1, model: 'x',
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    }));
  });
});
const faulty = (ctx, group, id, headers, lp = {}) =>
  deployment(ctx, group, `up-${id}`, {
    litellm_params: { extra_headers: { 'x-mock-id': id, ...headers }, ...lp },
    model_info: { id },
  });
// An anthropic/ deployment on the mock's Messages API (pass-through on /v1/messages).
const claude = (ctx, group, id, headers = {}) => ({
  model_name: group,
  litellm_params: { model: 'anthropic/claude-mock-3', api_base: ctx.mockUrl, api_key: UPSTREAM_KEY, extra_headers: { 'x-mock-id': id, ...headers } },
  model_info: { id },
});

before(async () => {
  await new Promise((r) => provider.listen(0, '127.0.0.1', r));
  const at = (path) => `http://127.0.0.1:${provider.address().port}/${path}/v1`;
  s = await startStack({
    config: (ctx) => ({
      model_list: [
        faulty(ctx, 'cool-429', 'c429-bad', { 'x-mock-status': '429' }),
        faulty(ctx, 'cool-429', 'c429-good', {}),
        faulty(ctx, 'cool-all', 'call-a', { 'x-mock-status': '429' }),
        faulty(ctx, 'cool-all', 'call-b', { 'x-mock-status': '429' }),
        faulty(ctx, 'cool-500', 'c500-bad', { 'x-mock-status': '500' }),
        faulty(ctx, 'cool-500', 'c500-good', {}),
        faulty(ctx, 'cool-400', 'c400-bad', { 'x-mock-status': '400' }),
        faulty(ctx, 'cool-400', 'c400-good', {}),
        deployment(ctx, 'backoff', 'up-backoff', { model_info: { id: 'backoff' } }),
        deployment(ctx, 'instant', 'up-instant', { model_info: { id: 'instant' } }),
        faulty(ctx, 'fb-broken', 'fb-broken', { 'x-mock-status': '500' }),
        faulty(ctx, 'fb-nofb', 'fb-nofb', { 'x-mock-status': '503' }),
        faulty(ctx, 'fb-bad400', 'fb-bad400', { 'x-mock-status': '400' }),
        faulty(ctx, 'fb-ok', 'fb-ok', {}),
        faulty(ctx, 'fb-ok2', 'fb-ok2', {}),
        deployment(ctx, 'fb-ctx', 'small', { litellm_params: { api_base: at('ctx') }, model_info: { id: 'fb-ctx' } }),
        deployment(ctx, 'fb-policy', 'strict', { litellm_params: { api_base: at('policy') }, model_info: { id: 'fb-policy' } }),
        deployment(ctx, 'tiers', 'up-t1', { litellm_params: { order: 1 }, model_info: { id: 't1' } }),
        deployment(ctx, 'tiers', 'up-t2', { litellm_params: { order: 2 }, model_info: { id: 't2' } }),
        deployment(ctx, 'tiers', 'up-t1b', { litellm_params: { order: 1 }, model_info: { id: 't1b' } }),
        faulty(ctx, 'tiers-down', 'td1', { 'x-mock-status': '429' }, { order: 1 }),
        faulty(ctx, 'tiers-down', 'td2', {}, { order: 2 }),
        deployment(ctx, 'fb-big', 'big', { litellm_params: { api_base: at('big') }, model_info: { id: 'fb-big' } }),
        claude(ctx, 'claude-broken', 'cl-broken', { 'x-mock-status': '500' }),
        claude(ctx, 'claude-ok', 'cl-ok'),
        faulty(ctx, 'resp-broken', 'resp-broken', { 'x-mock-status': '503' }),
      ],
      router_settings: {
        num_retries: 2, cooldown_time: 2,
        fallbacks: [{ 'fb-broken': ['fb-missing', 'fb-ok'] }, { 'fb-bad400': ['fb-ok'] }, { 'fb-ctx': ['fb-ok2'] }, { 'claude-broken': ['fb-ok', 'claude-ok'] }],
        context_window_fallbacks: [{ 'fb-ctx': ['fb-big'] }],
        content_policy_fallbacks: [{ 'fb-policy': ['fb-ok2'] }],
        model_group_alias: { 'fast-alias': 'instant', 'hidden-alias': { model: 'instant', hidden: true } },
      },
      litellm_settings: { default_fallbacks: ['fb-ok2'] },
      general_settings: { master_key: ctx.masterKey },
    }),
  });
}, { timeout: 30000 * SLOW });
after(async () => {
  await s?.stop();
  provider.close();
}, { timeout: 30000 * SLOW });

const T = { timeout: 30000 * SLOW };
const messages = [{ role: 'user', content: 'route me' }];
const chat = (model, extra = {}) => s.post('/v1/chat/completions', { model, messages, ...extra });
const hits = async (id) => ((await s.mockStats()).by_id[id] || { requests: 0 }).requests;

test('a 429 cools the deployment at once: the next requests go to the other one', T, async () => {
  for (let i = 0; i < 20; i++) {
    const r = await chat('cool-429');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-litellm-model-id'], 'c429-good');
  }
  // 20 picks without cooldowns would reach the bad one about 10 times
  assert.equal(await hits('c429-bad'), 1);
  // cooldown_time 2 s: afterwards it is tried again (and cools again)
  await sleep(2200);
  for (let i = 0; i < 20 && (await hits('c429-bad')) < 2; i++) await chat('cool-429');
  assert.equal(await hits('c429-bad'), 2);
});

test('every deployment cooling: LiteLLM\'s 429 with the cooldown list and retry-after', T, async () => {
  // a key that may not use default_fallbacks' fb-ok2: nothing to fall back to
  const key = (await s.post('/key/generate', { models: ['cool-all'] })).json.key;
  const chat = (model) => s.post('/v1/chat/completions', { model, messages }, { headers: { authorization: `Bearer ${key}` } });
  // attempt 1 cools one, the retry cools the other, the second retry finds none
  const r = await chat('cool-all');
  assert.equal(r.status, 429, r.text);
  const msg = errorOf(r).message;
  assert.match(msg, /^No deployments available for selected model, Try again in [12] seconds\. Passed model=cool-all\. pre-call-checks=False, cooldown_list=\[/);
  assert.match(msg, /'call-a'/);
  assert.match(msg, /'call-b'/);
  assert.ok(Number(r.headers['retry-after']) >= 1, JSON.stringify(r.headers));
  assert.equal(r.headers['x-litellm-attempted-retries'], undefined); // none reached a provider
  assert.equal((await hits('call-a')) + (await hits('call-b')), 2);
  const again = await chat('cool-all');
  assert.equal(again.status, 429);
  assert.equal((await hits('call-a')) + (await hits('call-b')), 2, 'no provider call while cooling');
  // a caller who may use it: no deployment can be picked, so the fallbacks serve it (LiteLLM)
  const fb = await s.post('/v1/chat/completions', { model: 'cool-all', messages });
  assert.equal(fb.status, 200, fb.text);
  assert.equal(fb.headers['x-litellm-model-group'], 'fb-ok2');
  assert.equal(fb.headers['x-litellm-attempted-fallbacks'], '1');
  assert.equal(fb.headers['retry-after'], undefined, 'the 429\'s header does not stay');
  assert.equal((await hits('call-a')) + (await hits('call-b')), 2, 'no provider call while cooling');
});

test('5xx cool a deployment when more than half of at least 5 calls in the minute failed', T, async () => {
  // the retry goes to the good one, so every call answers; the bad one fails each time it is picked
  let n = 0;
  while ((await hits('c500-bad')) < 4 && n++ < 200) assert.equal((await chat('cool-500')).status, 200);
  assert.equal(await hits('c500-bad'), 4, 'four failures of four calls: too few calls to judge');
  while ((await hits('c500-bad')) < 5 && n++ < 200) assert.equal((await chat('cool-500')).status, 200);
  // the fifth failure (5 of 5) cooled it for cooldown_time (2 s): no call reaches it meanwhile
  for (let i = 0; i < 15; i++) {
    const r = await chat('cool-500');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-litellm-model-id'], 'c500-good');
  }
  assert.equal(await hits('c500-bad'), 5);
});

test('allowed_fails (other than LiteLLM\'s 3) and allowed_fails_policy count failures per class instead', { timeout: 60000 * SLOW }, async () => {
  await withStack({
    config: (ctx) => ({
      model_list: [
        faulty(ctx, 'af-500', 'af500-bad', { 'x-mock-status': '500' }),
        faulty(ctx, 'af-500', 'af500-good', {}),
        faulty(ctx, 'af-429', 'af429-bad', { 'x-mock-status': '429' }),
        faulty(ctx, 'af-429', 'af429-good', {}),
      ],
      router_settings: {
        num_retries: 1, cooldown_time: 5, allowed_fails: 1,
        allowed_fails_policy: { RateLimitErrorAllowedFails: 2 },
      },
      general_settings: { master_key: ctx.masterKey },
    }),
  }, async (st) => {
    const hit = async (id) => ((await st.mockStats()).by_id[id] || { requests: 0 }).requests;
    const ask = (model) => st.post('/v1/chat/completions', { model, messages });
    // 5xx: the policy has no InternalServerError entry, so allowed_fails 1: the second cools
    for (let i = 0; i < 30; i++) assert.equal((await ask('af-500')).status, 200);
    assert.equal(await hit('af500-bad'), 2);
    // 429: RateLimitErrorAllowedFails 2 (not cooled at once as without a policy): the third cools
    for (let i = 0; i < 40; i++) assert.equal((await ask('af-429')).status, 200);
    assert.equal(await hit('af429-bad'), 3);
  });
});

test('a 400 is the request\'s fault: no cooldown', T, async () => {
  let bad = 0;
  for (let i = 0; i < 30; i++) {
    const r = await chat('cool-400');
    if (r.status === 400) bad++;
    else assert.equal(r.status, 200, r.text);
  }
  assert.ok(bad >= 5, `the 400 deployment kept being picked: ${bad} of 30`);
  assert.equal(await hits('c400-bad'), bad);
});

test('429 retries back off exponentially (0.5 s, then 1 s, less jitter)', T, async () => {
  const t0 = Date.now();
  const r = await chat('backoff', { mock: { 'fail-first': 2, status: 429, id: 'bo-1' } });
  const took = Date.now() - t0;
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers['x-litellm-attempted-retries'], '2');
  assert.equal(await hits('bo-1'), 3);
  assert.ok(took >= 1125, `two back-offs of at least 375 + 750 ms, took ${took} ms`);
  assert.ok(took < 1500 + 1000 * SLOW, `took ${took} ms`);
});

test('5xx retries do not wait', T, async () => {
  const t0 = Date.now();
  const r = await chat('instant', { mock: { 'fail-first': 2, status: 503, id: 'in-1' } });
  const took = Date.now() - t0;
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers['x-litellm-attempted-retries'], '2');
  assert.ok(took < 400 * SLOW, `took ${took} ms`);
});

test('a client that leaves during a back-off cancels the retry', T, async () => {
  const ac = new AbortController();
  const p = s.openai().chat.completions
    .create({ model: 'backoff', messages, mock: { 'fail-first': 1, status: 429, id: 'bo-gone' } }, { signal: ac.signal, maxRetries: 0 })
    .catch((e) => e);
  await waitFor(async () => (await hits('bo-gone')) === 1, { timeout: 5000 * SLOW, what: 'the first attempt' });
  ac.abort(); // the back-off (375-500 ms) has just begun
  await p;
  await sleep(800 * SLOW);
  assert.equal(await hits('bo-gone'), 1, 'no attempt after the client left');
});

test('fallbacks: after the group\'s retries the next group answers (unknown names skipped)', T, async () => {
  const r = await chat('fb-broken');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers['x-litellm-model-group'], 'fb-ok');
  assert.equal(r.headers['x-litellm-model-id'], 'fb-ok');
  assert.equal(r.headers['x-litellm-attempted-fallbacks'], '1');
  assert.equal(r.headers['x-litellm-attempted-retries'], '0');
  assert.equal(await hits('fb-broken'), 3, '1 + num_retries 2 before falling back');
  const plain = await chat('instant');
  assert.equal(plain.headers['x-litellm-attempted-fallbacks'], '0');
});

test('default_fallbacks serve a group without its own list', T, async () => {
  const r = await chat('fb-nofb');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers['x-litellm-model-group'], 'fb-ok2');
  assert.equal(r.headers['x-litellm-attempted-fallbacks'], '1');
});

test('per request "fallbacks": tried in order, and not sent upstream', T, async () => {
  const r = await chat('fb-bad400', { fallbacks: ['fb-big'] });
  // a plain 400 is the request's fault: no fallback, not even the request's
  assert.equal(r.status, 400, r.text);
  const n = seen.length;
  const ok = await chat('fb-nofb', { fallbacks: ['nope', { model: 'fb-big' }] });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.headers['x-litellm-model-group'], 'fb-big');
  assert.equal(seen.length, n + 1);
  assert.equal(seen[n].body.fallbacks, undefined, 'fallbacks left the body');
  assert.equal(seen[n].body.model, 'big');
  const bad = await chat('fb-nofb', { fallbacks: 'fb-big' });
  assert.equal(bad.status, 400);
  assert.equal(errorOf(bad).param, 'fallbacks');
});

test('context-window errors go to context_window_fallbacks, content-policy errors to content_policy_fallbacks', T, async () => {
  const r = await chat('fb-ctx');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers['x-litellm-model-group'], 'fb-big', 'not the generic fallbacks (fb-ok2)');
  const p = await chat('fb-policy');
  assert.equal(p.status, 200, p.text);
  assert.equal(p.headers['x-litellm-model-group'], 'fb-ok2');
  assert.equal(p.headers['x-litellm-attempted-fallbacks'], '1');
});

test('/v1/messages pass-through falls back to a group that needs translation', T, async () => {
  const before = await hits('fb-ok');
  const r = await s.post('/v1/messages', { model: 'claude-broken', max_tokens: 16, messages }, { headers: { 'anthropic-version': '2023-06-01' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.type, 'message', 'Anthropic\'s shape, translated from the OpenAI answer');
  assert.equal(r.json.role, 'assistant');
  assert.ok(r.json.content[0].text.length > 0, r.text);
  assert.equal(r.headers['x-litellm-model-group'], 'fb-ok', 'the first fallback, an OpenAI group');
  assert.equal(r.headers['x-litellm-model-id'], 'fb-ok');
  assert.equal(r.headers['x-litellm-attempted-fallbacks'], '1');
  assert.equal(await hits('cl-broken'), 3, '1 + num_retries 2 before falling back');
  assert.equal(await hits('fb-ok'), before + 1);
  // streamed: Anthropic's events from the translated group
  const st = await s.post('/v1/messages', { model: 'claude-broken', max_tokens: 16, messages, stream: true }, { headers: { 'anthropic-version': '2023-06-01' } });
  assert.equal(st.status, 200, st.text);
  assert.match(st.text, /event: message_start/);
  assert.match(st.text, /event: message_stop/);
  assert.equal(st.headers['x-litellm-model-group'], 'fb-ok');
  // a group the splice serves is still spliced: claude-ok after the request's own list
  const own = await s.post('/v1/messages', { model: 'claude-broken', max_tokens: 16, messages, fallbacks: ['claude-ok'] }, { headers: { 'anthropic-version': '2023-06-01' } });
  assert.equal(own.status, 200, own.text);
  assert.equal(own.headers['x-litellm-model-id'], 'cl-ok');
});

test('/v1/responses pass-through takes the request\'s "fallbacks" out of the body and falls back, translating when needed', T, async () => {
  const r = await s.post('/v1/responses', { model: 'resp-broken', input: 'hi', fallbacks: ['claude-ok', 'fb-ok2'] });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.object, 'response');
  assert.equal(r.headers['x-litellm-model-group'], 'claude-ok', 'an Anthropic group, called through translation');
  assert.equal(r.headers['x-litellm-model-id'], 'cl-ok');
  assert.equal(r.headers['x-litellm-attempted-fallbacks'], '1');
  const spliced = await s.post('/v1/responses', { model: 'resp-broken', input: 'hi', fallbacks: ['fb-ok2'] });
  assert.equal(spliced.status, 200, spliced.text);
  assert.equal(spliced.headers['x-litellm-model-group'], 'fb-ok2');
  const bad = await s.post('/v1/messages', { model: 'claude-ok', max_tokens: 16, messages, fallbacks: 'x' }, { headers: { 'anthropic-version': '2023-06-01' } });
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.json.type, 'error', 'Anthropic\'s envelope');
});

test('a streamed request falls back before its first byte', T, async () => {
  const stream = await s.openai().chat.completions.create({ model: 'fb-broken', messages, stream: true });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta?.content || '';
  assert.ok(text.length > 0);
});

test('model_group_alias: an alias calls its group; hidden aliases are not listed', T, async () => {
  for (const model of ['fast-alias', 'hidden-alias']) {
    const r = await chat(model);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-litellm-model-group'], 'instant');
    assert.equal(r.headers['x-litellm-model-id'], 'instant');
  }
  const list = (await s.openai().models.list()).data.map((m) => m.id);
  assert.ok(list.includes('fast-alias'), JSON.stringify(list));
  assert.ok(!list.includes('hidden-alias'), JSON.stringify(list));
});

test('order: the lowest tier takes the traffic; the next only when it has no usable deployment', T, async () => {
  const ids = new Set();
  for (let i = 0; i < 20; i++) {
    const r = await chat('tiers');
    assert.equal(r.status, 200, r.text);
    ids.add(r.headers['x-litellm-model-id']);
  }
  assert.deepEqual([...ids].sort(), ['t1', 't1b']);
  // tier 1 answers 429: it cools down, the retry and later calls go to tier 2
  for (let i = 0; i < 5; i++) {
    const r = await chat('tiers-down');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-litellm-model-id'], 'td2');
  }
  assert.equal(await hits('td1'), 1);
});

const strategyStack = (strategy, list) => ({
  config: (ctx) => ({
    model_list: list(ctx),
    router_settings: { routing_strategy: strategy, num_retries: 0, routing_strategy_args: { ttl: 4 } },
    general_settings: { master_key: ctx.masterKey },
  }),
});

test('least-busy: a deployment with a call under way is passed over', { timeout: 60000 * SLOW }, async () => {
  await withStack(strategyStack('least-busy', (ctx) => [
    deployment(ctx, 'busy', 'up-b1', { model_info: { id: 'b1' } }),
    deployment(ctx, 'busy', 'up-b2', { model_info: { id: 'b2' } }),
  ]), async (st) => {
    const post = (mock) => st.post('/v1/chat/completions', { model: 'busy', messages, mock });
    const slow = post({ 'latency-ms': 1500 * SLOW });
    await sleep(300 * SLOW);
    const quick = [];
    for (let i = 0; i < 6; i++) quick.push((await post({})).headers['x-litellm-model-id']);
    const slowId = (await slow).headers['x-litellm-model-id'];
    assert.ok(quick.every((id) => id !== slowId), `slow on ${slowId}, quick on ${quick}`);
    // nothing under way: both are idle again and both get calls
    const ids = new Set();
    for (let i = 0; i < 30; i++) ids.add((await post({})).headers['x-litellm-model-id']);
    assert.equal(ids.size, 2, [...ids].join());
  });
});

test('latency-based-routing: the faster deployment takes the traffic once both are measured', { timeout: 60000 * SLOW }, async () => {
  await withStack(strategyStack('latency-based-routing', (ctx) => [
    deployment(ctx, 'lat', 'up-slow', { litellm_params: { extra_headers: { 'x-mock-ttft-ms': '300', 'x-mock-latency-ms': '300' } }, model_info: { id: 'lat-slow' } }),
    deployment(ctx, 'lat', 'up-fast', { model_info: { id: 'lat-fast' } }),
  ]), async (st) => {
    const ids = [];
    for (let i = 0; i < 12; i++) {
      const r = await st.post('/v1/chat/completions', { model: 'lat', messages });
      assert.equal(r.status, 200, r.text);
      ids.push(r.headers['x-litellm-model-id']);
    }
    // the first calls measure each (unmeasured ones go first); then only the fast one
    assert.ok(ids.slice(0, 3).includes('lat-slow'), ids.join());
    assert.deepEqual(ids.slice(4), Array(8).fill('lat-fast'), ids.join());
    // routing_strategy_args.ttl 4 s: once the slow one's samples are older, it is unmeasured
    // again and gets one of the next two calls
    await sleep(5000);
    const again = [];
    for (let i = 0; i < 2; i++) again.push((await st.post('/v1/chat/completions', { model: 'lat', messages })).headers['x-litellm-model-id']);
    assert.ok(again.includes('lat-slow'), again.join());
  });
});

test('fallbacks only to groups the caller\'s key may use', T, async () => {
  const key = async (models) => (await s.post('/key/generate', { models })).json.key;
  const narrow = await key(['fb-broken']);
  const wide = await key(['fb-broken', 'fb-ok']);
  const as = (k) => s.post('/v1/chat/completions', { model: 'fb-broken', messages }, { headers: { authorization: `Bearer ${k}` } });
  const denied = await as(narrow);
  assert.equal(denied.status, 500, denied.text);
  assert.equal(denied.headers['x-litellm-attempted-fallbacks'], '0');
  const allowed = await as(wide);
  assert.equal(allowed.status, 200, allowed.text);
  assert.equal(allowed.headers['x-litellm-model-group'], 'fb-ok');
});

test('enable_pre_call_checks: a prompt larger than a deployment\'s max_input_tokens skips it', { timeout: 60000 * SLOW }, async () => {
  await withStack({
    config: (ctx) => ({
      model_list: [
        deployment(ctx, 'ctxw', 'up-small', { model_info: { id: 'w-small', max_input_tokens: 100 } }),
        deployment(ctx, 'ctxw', 'up-large', { model_info: { id: 'w-large', max_input_tokens: 100000 } }),
        deployment(ctx, 'tiny', 'up-tiny', { model_info: { id: 'w-tiny', max_input_tokens: 100 } }),
        deployment(ctx, 'tiny-fb', 'up-tiny', { model_info: { id: 'w-tiny-fb', max_input_tokens: 100 } }),
        faulty(ctx, 'hot', 'hot-a', { 'x-mock-status': '429' }),
        faulty(ctx, 'hot', 'hot-b', { 'x-mock-status': '429' }),
      ],
      router_settings: { enable_pre_call_checks: true, num_retries: 0, fallbacks: [{ 'tiny-fb': ['tiny', 'ctxw'] }] },
      general_settings: { master_key: ctx.masterKey },
    }),
  }, async (st) => {
    const ask = (model, content) => st.post('/v1/chat/completions', { model, messages: [{ role: 'user', content }] });
    const long = 'x'.repeat(2000); // about 500 tokens by chars/4
    for (let i = 0; i < 10; i++) {
      const r = await ask('ctxw', long);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-litellm-model-id'], 'w-large');
    }
    const ids = new Set();
    for (let i = 0; i < 30; i++) ids.add((await ask('ctxw', 'hi')).headers['x-litellm-model-id']);
    assert.equal(ids.size, 2, 'a short prompt fits both');
    const none = await ask('tiny', long);
    assert.equal(none.status, 429, none.text);
    assert.match(errorOf(none).message, /No deployments available for selected model.*Passed model=tiny\. pre-call-checks=True/);
    // no deployment fits: the fallbacks are tried (tiny fits neither), ctxw answers
    const fb = await ask('tiny-fb', long);
    assert.equal(fb.status, 200, fb.text);
    assert.equal(fb.headers['x-litellm-model-id'], 'w-large');
    assert.equal(fb.headers['x-litellm-attempted-fallbacks'], '2', 'tiny was tried too');
    // every deployment cooling, with pre-call checks on: LiteLLM's message says so
    for (let i = 0; i < 2; i++) assert.equal((await ask('hot', 'hi')).status, 429);
    const cool = await ask('hot', 'hi');
    assert.equal(cool.status, 429, cool.text);
    assert.match(errorOf(cool).message, /^No deployments available for selected model, Try again in \d+ seconds\. Passed model=hot\. pre-call-checks=True, cooldown_list=\[/);
  });
});

test('cost-based-routing: the cheapest deployment by the price table; unknown prices count $1', { timeout: 60000 * SLOW }, async () => {
  await withStack(strategyStack('cost-based-routing', (ctx) => [
    deployment(ctx, 'cost', 'up-unknown', { model_info: { id: 'c-unknown' } }),
    deployment(ctx, 'cost', 'up-dear', { model_info: { id: 'c-dear', input_cost_per_token: 0.00001, output_cost_per_token: 0.00003 } }),
    deployment(ctx, 'cost', 'up-cheap', { model_info: { id: 'c-cheap', input_cost_per_token: 0.0000001, output_cost_per_token: 0.0000004 } }),
  ]), async (st) => {
    for (let i = 0; i < 10; i++) {
      const r = await st.post('/v1/chat/completions', { model: 'cost', messages });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-litellm-model-id'], 'c-cheap');
    }
  });
});

test('usage-based-routing-v2: the deployment with the fewest tokens this minute', { timeout: 60000 * SLOW }, async () => {
  await withStack(strategyStack('usage-based-routing-v2', (ctx) => [
    deployment(ctx, 'usage', 'up-u1', { model_info: { id: 'u1' } }),
    deployment(ctx, 'usage', 'up-u2', { model_info: { id: 'u2' } }),
  ]), async (st) => {
    const ask = (tokens) => st.post('/v1/chat/completions', { model: 'usage', messages, mock: { tokens } });
    const big = await ask(400);
    assert.equal(big.status, 200, big.text);
    const first = big.headers['x-litellm-model-id'];
    for (let i = 0; i < 5; i++) {
      const r = await ask(1);
      assert.notEqual(r.headers['x-litellm-model-id'], first, 'the other one has used fewer tokens');
    }
  });
});
