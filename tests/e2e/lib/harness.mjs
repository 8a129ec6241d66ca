// End-to-end harness: starts the real sluice-mock and sluice binaries from $SLUICE_BUILD
// (default "build"; the ASan+UBSan build is "build/san") on 127.0.0.1, writes their config into
// a temp dir, waits for their "listening" line, captures stderr, and at teardown stops them with
// SIGTERM and fails the test when a process exits badly or logged a sanitizer report or an alert.
// Every process started here is killed when the test process ends, whatever happened.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BUILD = path.resolve(ROOT, process.env.SLUICE_BUILD || 'build');
export const SLUICE_BIN = path.join(BUILD, 'sluice');
export const MOCK_BIN = path.join(BUILD, 'sluice-mock');
/** true for the sanitizer build: slower, so waits are stretched by SLOW. */
export const IS_SAN = path.basename(BUILD) === 'san' || process.env.SLUICE_SAN === '1';
export const SLOW = IS_SAN ? 3 : 1;

export const MASTER_KEY = 'sk-e2e-master-1234';
export const UPSTREAM_KEY = 'sk-e2e-upstream-secret-5678';

/** Lines that fail a test when any process logs them. */
export const BAD_LOG_PATTERNS = [
  'ERROR: AddressSanitizer',
  'runtime error:',
  'LeakSanitizer',
  '[alert]',
];

const KEEP = process.env.SLUICE_E2E_KEEP === '1'; // keep temp dirs and logs
const VERBOSE = process.env.SLUICE_E2E_VERBOSE === '1'; // echo child stderr live
const MAX_LOG = 4 << 20;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` (sync or async) until it returns a truthy value, which is returned. */
export async function waitFor(fn, { timeout = 5000, interval = 20, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${why}`);
    }
    await sleep(interval);
  }
}

/** Races a promise against a timer. */
export function withTimeout(promise, ms, what = 'operation') {
  let t;
  const timer = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timer]).finally(() => clearTimeout(t));
}

// ---- ports ------------------------------------------------------------------------------------

const handedOut = new Set();

function probePort(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * A loopback port nothing listens on now, picked at random in 20000-29999 (below Linux's
 * ephemeral range, so outgoing connections do not take it). A bind without SO_REUSEPORT fails
 * on a port a sluice holds, so the probe also avoids ports other test files are using.
 */
export async function freePort() {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    if (handedOut.has(port)) continue;
    if (await probePort(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port found in 20000-29999');
}

// ---- processes --------------------------------------------------------------------------------

const live = new Set();

function killAll() {
  for (const p of live) {
    try {
      p.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    killAll();
    process.exit(128 + os.constants.signals[sig]);
  });
}

/** Finds sanitizer reports and alerts in a log; returns the matching patterns. */
export function badLogLines(text) {
  return BAD_LOG_PATTERNS.filter((p) => text.includes(p));
}

function tail(text, n = 12000) {
  return text.length > n ? `[... ${text.length - n} bytes cut ...]\n${text.slice(-n)}` : text;
}

/** A child process with captured output, a readiness wait and a checked stop. */
export class Proc {
  constructor(name, bin, args, { env = {}, cwd = ROOT, logDir } = {}) {
    this.name = name;
    this.bin = bin;
    this.args = args;
    this.stderr = '';
    this.stdout = '';
    this.logFile = logDir ? path.join(logDir, `${name}.log`) : null;
    this.exit = null; // {code, signal} once exited
    this.child = spawn(bin, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.stderr += `\n[harness] spawn error: ${err.message}\n`;
        this.exit = { code: null, signal: null, error: err };
        live.delete(this);
        resolve(this.exit);
      });
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        live.delete(this);
        this.flushLog();
        resolve(this.exit);
      });
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.on('data', (d) => {
      if (this.stderr.length < MAX_LOG) this.stderr += d;
      if (VERBOSE) process.stderr.write(`[${name}] ${d}`);
      this.child.emit('sluice-log');
    });
    this.child.stdout.on('data', (d) => {
      if (this.stdout.length < MAX_LOG) this.stdout += d;
    });
  }

  get pid() {
    return this.child.pid;
  }

  flushLog() {
    if (!this.logFile) return;
    try {
      writeFileSync(this.logFile, `$ ${this.bin} ${this.args.join(' ')}\n${this.stderr}`);
    } catch {
      /* temp dir gone */
    }
  }

  /** Resolves with the regex match once stderr matches `re`; rejects on exit or timeout. */
  waitForLog(re, timeout = 10000 * SLOW) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.stderr.match(re);
        if (m) return done(null, m);
        if (this.exit) return done(new Error(`${this.name} exited (${fmtExit(this.exit)}) before logging ${re}`));
        return undefined;
      };
      const done = (err, m) => {
        clearTimeout(timer);
        this.child.off('sluice-log', check);
        this.child.off('close', check);
        if (err) reject(Object.assign(err, { log: this.stderr }));
        else resolve(m);
      };
      const timer = setTimeout(
        () => done(new Error(`${this.name} did not log ${re} within ${timeout} ms`)),
        timeout,
      );
      this.child.on('sluice-log', check);
      this.child.on('close', check);
      check();
    });
  }

  kill(signal = 'SIGTERM') {
    if (!this.exit) this.child.kill(signal);
  }

  /** Waits for exit; SIGKILLs and throws after `timeout`. */
  async waitExit(timeout = 15000 * SLOW) {
    try {
      return await withTimeout(this.exited, timeout, `${this.name} exit`);
    } catch (e) {
      this.kill('SIGKILL');
      await this.exited;
      throw e;
    }
  }

  /** SIGTERM, wait for exit; returns {code, signal}. */
  async stop({ signal = 'SIGTERM', timeout } = {}) {
    this.kill(signal);
    return this.waitExit(timeout);
  }

  /** Problems with how this process ended or what it logged (empty when fine). */
  problems({ expectCode = 0 } = {}) {
    const out = [];
    if (this.exit && expectCode !== undefined && this.exit.code !== expectCode) {
      out.push(`${this.name} exited ${fmtExit(this.exit)}, expected code ${expectCode}`);
    }
    const bad = badLogLines(this.stderr + this.stdout);
    if (bad.length) out.push(`${this.name} logged ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
    return out;
  }

  describe() {
    return `---- ${this.name} (pid ${this.pid}) ${this.bin} ${this.args.join(' ')}\n${tail(this.stderr)}`;
  }
}

function fmtExit(e) {
  if (!e) return 'still running';
  if (e.error) return `spawn error ${e.error.code || e.error.message}`;
  return e.signal ? `signal ${e.signal}` : `code ${e.code}`;
}

const LISTEN_RE = /listening on http:\/\/(\[[^\]]+\]|[^\s:/]+):(\d+)/;

/** Runs a binary to completion (for --check, --version ...): {code, signal, stdout, stderr}. */
export async function runBinary(bin, args, { env = {}, timeout = 10000 * SLOW } = {}) {
  const p = new Proc(path.basename(bin), bin, args, { env });
  const exit = await p.waitExit(timeout);
  return { ...exit, stdout: p.stdout, stderr: p.stderr, proc: p };
}

export function makeTempDir(prefix = 'sluice-e2e-') {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

// ---- config -----------------------------------------------------------------------------------

// written unquoted (as users do, URLs included) when YAML reads it back as the same string
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./*:@-]*$/;
const YAML_WORDS = /^(true|false|yes|no|on|off|null|y|n|~)$/i;

function yamlScalar(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  const s = String(v);
  if (PLAIN.test(s) && !s.endsWith(':') && !YAML_WORDS.test(s)) return s;
  return JSON.stringify(s); // a JSON string is a valid YAML double-quoted scalar
}

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isEmpty = (v) => (Array.isArray(v) ? v.length === 0 : isObj(v) && Object.keys(v).length === 0);

/** Serializes a JS value as block-style YAML, the way users write config.yaml. */
export function toYaml(value, indent = 0) {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    return value
      .map((item) => {
        if ((isObj(item) || Array.isArray(item)) && !isEmpty(item)) {
          return `${pad}- ${toYaml(item, indent + 2).slice(indent + 2)}`;
        }
        return `${pad}- ${isEmpty(item) ? (Array.isArray(item) ? '[]' : '{}') : yamlScalar(item)}`;
      })
      .join('\n');
  }
  if (isObj(value)) {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => {
        if (isEmpty(v)) return `${pad}${yamlScalar(k)}: ${Array.isArray(v) ? '[]' : '{}'}`;
        if (isObj(v) || Array.isArray(v)) return `${pad}${yamlScalar(k)}:\n${toYaml(v, indent + 2)}`;
        return `${pad}${yamlScalar(k)}: ${yamlScalar(v)}`;
      })
      .join('\n');
  }
  return pad + yamlScalar(value);
}

/** One model_list entry for an OpenAI-compatible deployment on the mock. */
export function deployment(ctx, modelName, upstreamModel, extra = {}) {
  const { litellm_params: lp = {}, model_info: mi, ...rest } = extra;
  return {
    model_name: modelName,
    litellm_params: {
      model: `openai/${upstreamModel}`,
      api_base: ctx.mockBase,
      api_key: UPSTREAM_KEY,
      ...lp,
    },
    ...(mi ? { model_info: mi } : {}),
    ...rest,
  };
}

/** The config most tests use: chat, instruct and embedding groups on the mock. */
export function defaultConfig(ctx) {
  return {
    model_list: [
      deployment(ctx, 'gpt-4o-mini', 'mock-gpt-4o-mini', { model_info: { id: 'dep-mini' } }),
      deployment(ctx, 'gpt-4o', 'mock-gpt-4o', { model_info: { id: 'dep-4o' } }),
      deployment(ctx, 'gpt-3.5-turbo-instruct', 'gpt-3.5-turbo-instruct', {
        model_info: { id: 'dep-instruct', mode: 'completion' },
      }),
      deployment(ctx, 'text-embedding-3-small', 'mock-embedding-small', {
        model_info: { id: 'dep-embed', mode: 'embedding' },
      }),
    ],
    litellm_settings: { num_retries: 0 },
    router_settings: { num_retries: 0 },
    general_settings: { master_key: ctx.masterKey },
  };
}

/** Renders a config given as an object, a function of ctx, or a template string with
 * {{MOCK_BASE}}, {{MOCK_URL}}, {{MOCK_PORT}}, {{MASTER_KEY}}, {{UPSTREAM_KEY}} placeholders. */
export function renderConfig(config, ctx) {
  let c = typeof config === 'function' ? config(ctx) : config;
  if (c === undefined) c = defaultConfig(ctx);
  if (typeof c !== 'string') return `${toYaml(c)}\n`;
  return c.replace(/\{\{(\w+)\}\}/g, (m, k) => {
    const map = {
      MOCK_BASE: ctx.mockBase,
      MOCK_URL: ctx.mockUrl,
      MOCK_PORT: ctx.mockPort,
      MASTER_KEY: ctx.masterKey,
      UPSTREAM_KEY,
    };
    if (!(k in map)) throw new Error(`unknown config placeholder ${m}`);
    return String(map[k]);
  });
}

// ---- starting servers -------------------------------------------------------------------------

async function startListening(name, bin, makeArgs, { env, logDir, timeout }) {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const p = new Proc(name, bin, makeArgs(port), { env, logDir });
    try {
      const m = await p.waitForLog(LISTEN_RE, timeout);
      p.port = Number(m[2]);
      p.url = `http://127.0.0.1:${p.port}`;
      return p;
    } catch (e) {
      p.kill('SIGKILL');
      await p.exited;
      // someone took the port between the probe and the bind: try another
      if (attempt < 3 && /address already in use|EADDRINUSE/i.test(p.stderr)) continue;
      e.message += `\n${p.describe()}`;
      throw e;
    }
  }
}

/** Starts sluice-mock on a free loopback port. */
export async function startMock({ args = [], env = {}, logDir, timeout = 10000 * SLOW } = {}) {
  const mock = await startListening(
    'sluice-mock',
    MOCK_BIN,
    (port) => ['--host', '127.0.0.1', '--port', String(port), ...args],
    { env, logDir, timeout },
  );
  mock.stats = () => getJson(`${mock.url}/mock/stats`);
  mock.reset = async () => {
    const r = await httpRequest(`${mock.url}/mock/reset`, { method: 'POST' });
    if (r.status !== 200) throw new Error(`POST /mock/reset: ${r.status} ${r.text}`);
  };
  return mock;
}

/** Starts sluice on a free loopback port with `configText` written to `configPath`. */
export async function startSluice({
  configText,
  configPath,
  args = [],
  env = {},
  workers = 2,
  logDir,
  timeout = 10000 * SLOW,
} = {}) {
  writeFileSync(configPath, configText);
  const extra = workers ? ['--num_workers', String(workers)] : [];
  return startListening(
    'sluice',
    SLUICE_BIN,
    (port) => ['--config', configPath, '--host', '127.0.0.1', '--port', String(port), ...extra, ...args],
    { env, logDir, timeout },
  );
}

/**
 * Starts a mock and a sluice whose config points at it. `config` is an object, a function of
 * ctx ({mockBase, mockUrl, mockPort, masterKey}) returning an object or YAML text, or a template
 * string; the default is defaultConfig. `env` (object or function of ctx) is added to sluice's
 * environment. Returns a stack with helpers; call stack.stop() in after().
 */
export async function startStack({
  config,
  sluiceArgs = [],
  mockArgs = [],
  env = {},
  workers = 2,
  masterKey = MASTER_KEY,
} = {}) {
  const dir = makeTempDir();
  const stack = new Stack(dir);
  try {
    stack.mock = await startMock({ args: mockArgs, logDir: dir });
    const ctx = {
      mockPort: stack.mock.port,
      mockUrl: stack.mock.url,
      mockBase: `${stack.mock.url}/v1`,
      masterKey,
    };
    stack.ctx = ctx;
    stack.configPath = path.join(dir, 'config.yaml');
    stack.configText = renderConfig(config, ctx);
    stack.masterKey = masterKey;
    stack.sluice = await startSluice({
      configText: stack.configText,
      configPath: stack.configPath,
      args: sluiceArgs,
      env: typeof env === 'function' ? env(ctx) : env,
      workers,
      logDir: dir,
    });
    stack.url = stack.sluice.url;
    stack.port = stack.sluice.port;
    return stack;
  } catch (e) {
    await stack.stop({ quiet: true }).catch(() => {});
    throw e;
  }
}

/**
 * Runs fn(stack) on a fresh stack and always stops it. If both the body and the teardown fail,
 * the body's error is thrown with the teardown's appended (neither is lost).
 */
export async function withStack(opts, fn) {
  const stack = await startStack(opts);
  let bodyError = null;
  try {
    return await fn(stack);
  } catch (e) {
    bodyError = e;
    throw e;
  } finally {
    try {
      await stack.stop();
    } catch (stopError) {
      if (!bodyError) throw stopError;
      bodyError.message += `\n(and then) ${stopError.message}`;
    }
  }
}

export class Stack {
  constructor(dir) {
    this.dir = dir;
    this.mock = null;
    this.sluice = null;
    this.agents = [];
    this.stopped = false;
  }

  /** An openai client pointed at this sluice with the master key, no client-side retries. */
  openai(opts = {}) {
    return new OpenAI({
      apiKey: this.masterKey,
      baseURL: `${this.url}/v1`,
      maxRetries: 0,
      timeout: 20000 * SLOW,
      ...opts,
    });
  }

  /** Raw HTTP request to sluice; path relative to its URL. Adds the master key unless
   * `auth: false` (or headers carry their own). */
  request(p, { auth = true, headers = {}, ...opts } = {}) {
    const h = { ...headers };
    if (auth && !Object.keys(h).some((k) => k.toLowerCase() === 'authorization')) {
      h.authorization = `Bearer ${this.masterKey}`;
    }
    return httpRequest(`${this.url}${p}`, { headers: h, ...opts });
  }

  /** POST JSON (object or raw string) to sluice. */
  post(p, body, opts = {}) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return this.request(p, {
      method: 'POST',
      body: text,
      ...opts,
      headers: { 'content-type': 'application/json', ...(opts.headers || {}) },
    });
  }

  mockStats() {
    return this.mock.stats();
  }

  mockReset() {
    return this.mock.reset();
  }

  /** A keep-alive agent destroyed at stop(). */
  agent(opts = {}) {
    const a = new http.Agent({ keepAlive: true, ...opts });
    this.agents.push(a);
    return a;
  }

  /**
   * Stops sluice then the mock with SIGTERM, waits for both, and throws (printing their logs)
   * if either did not exit 0 or logged a sanitizer report or an alert. Idempotent.
   * `sluiceCode` overrides the exit code expected of sluice (undefined: not checked).
   */
  async stop({ quiet = false, sluiceCode = 0 } = {}) {
    if (this.stopped) return;
    this.stopped = true;
    for (const a of this.agents) a.destroy();
    const problems = [];
    for (const p of [this.sluice, this.mock]) {
      if (!p) continue;
      try {
        await p.stop();
      } catch (e) {
        problems.push(e.message);
      }
      problems.push(...p.problems({ expectCode: p === this.sluice ? sluiceCode : 0 }));
    }
    if (problems.length && !quiet) {
      const logs = [this.sluice, this.mock].filter(Boolean).map((p) => p.describe()).join('\n');
      // the reporter prints the error, logs included; they are also kept in this.dir
      throw new Error(`teardown: ${problems.join('; ')}\nlogs kept in ${this.dir}\n${logs}`);
    }
    if (!KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---- HTTP helpers -----------------------------------------------------------------------------

/**
 * A plain node http request. Resolves {status, headers, text, json, socket, reused} (json is
 * undefined when the body is not JSON). `agent: false` (default) uses a fresh connection.
 */
export function httpRequest(url, { method = 'GET', headers = {}, body, agent = false, timeout = 20000 * SLOW } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json, socket: req.socket, reused: req.reusedSocket });
      });
    });
    req.setTimeout(timeout, () => req.destroy(new Error(`${method} ${url} timed out after ${timeout} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

export async function getJson(url) {
  const r = await httpRequest(url);
  if (r.status !== 200 || r.json === undefined) throw new Error(`GET ${url}: ${r.status} ${r.text.slice(0, 500)}`);
  return r.json;
}

/** Case-insensitive header lookup in a plain object (as /mock/stats reports them). */
export function headerOf(headers, name) {
  if (!headers) return undefined;
  const n = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === n) return v;
  return undefined;
}

/** The `data:` payloads of an SSE body, in order (comments and other fields skipped). */
export function sseData(text) {
  const out = [];
  for (const event of text.split(/\r?\n\r?\n/)) {
    const lines = event.split(/\r?\n/).filter((l) => l.startsWith('data:'));
    if (lines.length) out.push(lines.map((l) => l.slice(5).replace(/^ /, '')).join('\n'));
  }
  return out;
}

/**
 * Opens one TCP connection, writes `data` (string or Buffer, possibly several pipelined
 * requests), and parses `count` HTTP/1.1 responses off it in order. Resolves
 * {responses: [{status, headers, body}], closed}. With `waitClose` it also waits for the server
 * to close the connection after the last response (closed is then true, or it times out).
 */
export function rawExchange(port, data, { count = 1, waitClose = false, timeout = 20000 * SLOW, host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host });
    let buf = Buffer.alloc(0);
    const responses = [];
    let closed = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`rawExchange: ${responses.length}/${count} responses within ${timeout} ms; have ${JSON.stringify(buf.toString('latin1').slice(0, 300))}`));
    }, timeout);
    const finish = () => {
      clearTimeout(timer);
      resolve({ responses, closed, socket: sock });
    };
    const parse = () => {
      for (;;) {
        const r = parseResponse(buf, closed);
        if (!r) return;
        responses.push(r.response);
        buf = buf.subarray(r.used);
        if (responses.length === count) {
          if (waitClose && !closed) return; // 'end' finishes
          sock.destroy();
          finish();
          return;
        }
      }
    };
    sock.on('connect', () => sock.write(data));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      parse();
    });
    sock.on('end', () => {
      closed = true;
      if (responses.length === count) {
        sock.destroy();
        finish();
        return;
      }
      parse();
      if (responses.length === count) return;
      if (responses.length < count) {
        clearTimeout(timer);
        reject(new Error(`rawExchange: server closed after ${responses.length}/${count} responses; rest ${JSON.stringify(buf.toString('latin1').slice(0, 300))}`));
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      if (responses.length < count) reject(e);
    });
  });
}

/** Parses one HTTP/1.x response from buf; null when incomplete. */
export function parseResponse(buf, eof = false) {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const m = lines[0].match(/^HTTP\/1\.([01]) (\d{3})/);
  if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
  }
  const status = Number(m[2]);
  let pos = headEnd + 4;
  let body;
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    body = Buffer.alloc(0);
  } else if (/chunked/i.test(headers['transfer-encoding'] || '')) {
    const parts = [];
    for (;;) {
      const le = buf.indexOf('\r\n', pos);
      if (le < 0) return null;
      const size = parseInt(buf.subarray(pos, le).toString('latin1'), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size');
      pos = le + 2;
      if (size === 0) {
        // trailers until an empty line
        for (;;) {
          const te = buf.indexOf('\r\n', pos);
          if (te < 0) return null;
          const empty = te === pos;
          pos = te + 2;
          if (empty) break;
        }
        break;
      }
      if (buf.length < pos + size + 2) return null;
      parts.push(buf.subarray(pos, pos + size));
      pos += size + 2;
    }
    body = Buffer.concat(parts);
  } else if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (buf.length < pos + n) return null;
    body = buf.subarray(pos, pos + n);
    pos += n;
  } else {
    if (!eof) return null; // read until close
    body = buf.subarray(pos);
    pos = buf.length;
  }
  return { response: { status, headers, body: body.toString('utf8') }, used: pos };
}

/** Resolves true when a TCP connect to port is refused (nothing listening), false if accepted. */
export function connectRefused(port, host = '127.0.0.1', timeout = 2000) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host });
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error('connect timed out'));
    }, timeout);
    s.on('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(false);
    });
    s.on('error', (e) => {
      clearTimeout(t);
      if (e.code === 'ECONNREFUSED') resolve(true);
      else reject(e);
    });
  });
}

/** Asserts an OpenAI/LiteLLM error envelope and returns its `error` member. */
export function errorOf(r) {
  if (!r.json || typeof r.json !== 'object' || !r.json.error || typeof r.json.error !== 'object') {
    throw new Error(`expected an {"error": {...}} JSON body, got ${r.status} ${JSON.stringify(r.text.slice(0, 500))}`);
  }
  const e = r.json.error;
  if (typeof e.message !== 'string' || !e.message) throw new Error(`error.message missing: ${r.text}`);
  return e;
}

/** Asserts that `p` rejects with the openai client's error class `Klass`, LiteLLM's error `type`
 * and a message matching `message`. */
export async function refused(p, Klass, type, message) {
  await assert.rejects(p, (err) => {
    assert.ok(err instanceof Klass, `${Klass.name} expected, got ${err}`);
    assert.equal(err.error?.type, type, JSON.stringify(err.error));
    assert.match(err.error.message, message);
    return true;
  });
}
