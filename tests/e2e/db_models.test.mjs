// store_model_in_db end to end, on the SQLite default and on a real PostgreSQL: a model added with
// /model/new is routed at once (the call that adds it returns after the router has it), listed by
// /v1/models and /model/info, reachable by keys through its access group, gone after /model/delete
// (LiteLLM's 400 "Invalid model name"), and routed again by a restarted sluice; config models keep
// working throughout, also while models are added and deleted under load. A --role data process
// routes the models another process stored.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import OpenAI from 'openai';
import { describeBackends } from './lib/backends.mjs';
import {
  defaultConfig,
  errorOf,
  headerOf,
  MASTER_KEY,
  SLOW,
  startSluice,
  waitFor,
} from './lib/harness.mjs';

const T = { timeout: 30000 * SLOW };
const DB_KEY = 'sk-db-model-upstream-key-4242';
const hello = (model) => ({ model, messages: [{ role: 'user', content: 'hello db' }] });

const config = (ctx) => {
  const c = defaultConfig(ctx);
  c.general_settings = { master_key: ctx.masterKey, store_model_in_db: true };
  return c;
};

describeBackends('DB models', { config }, (ctx) => {
  const s = () => ctx.s;
  let dbId;

  async function ok(p, what) {
    const r = await p;
    assert.equal(r.status, 200, `${what}: ${r.status} ${r.text.slice(0, 500)}`);
    return r.json;
  }

  function addDbModel(name, extra = {}) {
    return ok(s().post('/model/new', {
      model_name: name,
      litellm_params: { model: 'openai/mock-x', api_base: s().ctx.mockBase, api_key: DB_KEY },
      ...extra,
    }), `/model/new ${name}`);
  }

  const chatStatus = (model) => s().post('/v1/chat/completions', hello(model));

  async function listed() {
    return (await s().openai().models.list()).data.map((m) => m.id);
  }

  test('before /model/new the name is unknown', T, async () => {
    const r = await chatStatus('db-model');
    assert.equal(r.status, 400, r.text);
    assert.match(errorOf(r).message, /Invalid model name passed in model=db-model/);
    assert.ok(!(await listed()).includes('db-model'));
  });

  test('/model/new: routed within a second with the decrypted key, listed by /v1/models', T, async () => {
    const row = await addDbModel('db-model', { model_info: { access_groups: ['db-group'] } });
    dbId = row.model_id;
    assert.match(row.litellm_params.api_key, /^v3:gcm:/); // stored encrypted
    const { data, response } = await waitFor(async () => {
      try {
        return await s().openai().chat.completions.create(hello('db-model')).withResponse();
      } catch {
        return null;
      }
    }, { timeout: 1000 * SLOW, what: 'db-model to be routed' });
    assert.equal(data.model, 'mock-x'); // the mock echoes the upstream model
    assert.ok(data.choices[0].message.content);
    assert.equal(response.headers.get('x-litellm-model-id'), dbId);
    const last = (await s().mockStats()).last_request;
    assert.equal(headerOf(last.headers, 'authorization'), `Bearer ${DB_KEY}`);
    const names = await listed();
    assert.ok(names.includes('db-model'), names.join());
    assert.ok(names.includes('gpt-4o-mini'), names.join());
    // streaming goes the same way
    const stream = await s().openai().chat.completions.create({ ...hello('db-model'), stream: true });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content || '';
    assert.ok(text.length > 0);
    // and a config model still works
    assert.ok((await s().openai().chat.completions.create(hello('gpt-4o-mini'))).choices[0].message.content);
  });

  test('/model/info lists it with db_model true and no key', T, async () => {
    const info = await ok(s().request(`/model/info?litellm_model_id=${dbId}`), '/model/info');
    assert.equal(info.data.length, 1);
    assert.equal(info.data[0].model_name, 'db-model');
    assert.equal(info.data[0].model_info.db_model, true);
    assert.equal(info.data[0].litellm_params.api_key, undefined);
  });

  test('a key whose models name the DB model\'s access group may call it', T, async () => {
    const k = await ok(s().post('/key/generate', { models: ['db-group'] }), '/key/generate');
    const c = new OpenAI({ apiKey: k.key, baseURL: `${s().url}/v1`, maxRetries: 0, timeout: 20000 * SLOW });
    assert.equal((await c.chat.completions.create(hello('db-model'))).model, 'mock-x');
    await assert.rejects(c.chat.completions.create(hello('gpt-4o-mini')), OpenAI.PermissionDeniedError);
    assert.deepEqual((await c.models.list()).data.map((m) => m.id), ['db-model']);
  });

  test('a restarted sluice routes the stored model', T, async () => {
    const old = s().sluice;
    await old.stop();
    assert.deepEqual(old.problems(), []);
    const env = ctx.pg ? { DATABASE_URL: ctx.pg.url } : {};
    const next = await startSluice({
      configText: s().configText,
      configPath: s().configPath,
      env,
      logDir: s().dir,
    });
    s().sluice = next;
    s().url = next.url;
    s().port = next.port;
    const out = await waitFor(async () => {
      try {
        return await s().openai().chat.completions.create(hello('db-model'));
      } catch {
        return null;
      }
    }, { timeout: 5000 * SLOW, what: 'db-model after the restart' });
    assert.equal(out.model, 'mock-x');
    assert.ok((await listed()).includes('db-model'));
    assert.ok((await s().openai().chat.completions.create(hello('gpt-4o-mini'))).choices[0].message.content);
  });

  test('/model/delete: 400 "Invalid model name" afterwards, config models unaffected', T, async () => {
    await ok(s().post('/model/delete', { id: dbId }), '/model/delete');
    const r = await chatStatus('db-model');
    assert.equal(r.status, 400, r.text);
    assert.equal(errorOf(r).type, 'invalid_request_error');
    assert.match(errorOf(r).message, /Invalid model name passed in model=db-model/);
    assert.ok(!(await listed()).includes('db-model'));
    assert.ok((await s().openai().chat.completions.create(hello('gpt-4o-mini'))).choices[0].message.content);
  });

  test('models added and deleted while calls run: every call to a config model succeeds', T, async () => {
    let stop = false;
    let calls = 0;
    const failures = [];
    const load = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const r = await chatStatus('gpt-4o-mini');
        calls++;
        if (r.status !== 200) failures.push(`${r.status} ${r.text.slice(0, 200)}`);
      }
    });
    try {
      for (let i = 0; i < 8; i++) {
        const row = await addDbModel(`churn-${i}`);
        const r = await chatStatus(`churn-${i}`);
        assert.equal(r.status, 200, r.text);
        await ok(s().post('/model/delete', { id: row.model_id }), '/model/delete');
      }
    } finally {
      stop = true;
      await Promise.all(load);
    }
    assert.deepEqual(failures, []);
    assert.ok(calls > 8, `only ${calls} calls ran`);
    assert.match(s().sluice.stderr, /models: generation \d+ in use/);
  });

  test('a --role data process routes the models stored by another', T, async () => {
    const row = await addDbModel('db-shared');
    const env = ctx.pg ? { DATABASE_URL: ctx.pg.url } : {};
    const args = ['--role', 'data', '--spool', path.join(s().dir, 'data.spool')];
    if (!ctx.pg) args.push('--db', path.join(s().dir, 'sluice.db'));
    const data = await startSluice({
      configText: s().configText,
      configPath: path.join(s().dir, 'data.yaml'),
      args,
      env,
      logDir: s().dir,
    });
    try {
      const c = new OpenAI({ apiKey: MASTER_KEY, baseURL: `${data.url}/v1`, maxRetries: 0, timeout: 20000 * SLOW });
      const out = await waitFor(async () => {
        try {
          return await c.chat.completions.create(hello('db-shared'));
        } catch {
          return null;
        }
      }, { timeout: 5000 * SLOW, what: 'db-shared on the data process' });
      assert.equal(out.model, 'mock-x');
    } finally {
      await data.stop();
      assert.deepEqual(data.problems(), []);
      await ok(s().post('/model/delete', { id: row.model_id }), '/model/delete');
    }
  });
});
