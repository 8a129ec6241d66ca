// The command line: --version, --help, --check (file:line:col on errors), unknown keys warned
// but not fatal, missing config, a port already taken.
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  badLogLines, defaultConfig, freePort, makeTempDir, renderConfig, runBinary, SLOW, SLUICE_BIN, withStack,
} from './lib/harness.mjs';

const dir = makeTempDir('sluice-e2e-cli-');
after(() => rmSync(dir, { recursive: true, force: true }));
const T = { timeout: 20000 * SLOW };

function writeConfig(name, text) {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function run(args, opts) {
  const r = await runBinary(SLUICE_BIN, args, opts);
  assert.deepEqual(badLogLines(r.stderr + r.stdout), [], `sluice ${args.join(' ')} logged:\n${r.stderr}`);
  return { ...r, out: r.stdout + r.stderr };
}

const ctx = { mockBase: 'http://127.0.0.1:9/v1', mockUrl: 'http://127.0.0.1:9', mockPort: 9, masterKey: 'sk-1234' };

test('--version prints the version and exits 0', T, async () => {
  const r = await run(['--version']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /sluice \d+\.\d+\.\d+/);
});

test('--help describes the options and exits 0', T, async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0, r.out);
  for (const opt of ['--config', '--port', '--host', '--num_workers', '--check']) assert.ok(r.out.includes(opt), `--help does not mention ${opt}:\n${r.out}`);
});

test('--check on a good config exits 0', T, async () => {
  const p = writeConfig('good.yaml', renderConfig(defaultConfig, ctx));
  const r = await run(['--check', p]);
  assert.equal(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /good\.yaml:\d+:\d+/, 'a good config has no problems to report');
});

test('--check on broken YAML exits non-zero with file:line:col', T, async () => {
  const p = writeConfig('syntax.yaml', [
    'model_list:',
    '  - model_name: a',
    '    litellm_params:',
    '      model: openai/x',
    '     api_base: [unclosed',
    'general_settings:',
    '  master_key: sk-1',
    '',
  ].join('\n'));
  const r = await run(['--check', p]);
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.out, /syntax\.yaml:\d+:\d+/, r.out);
});

test('--check on a model_list entry without litellm_params.model points at the entry', T, async () => {
  const p = writeConfig('nomodel.yaml', [
    'model_list:', //                       1
    '  - model_name: good', //              2
    '    litellm_params:', //               3
    '      model: openai/gpt-4o', //        4
    '  - model_name: broken', //            5
    '    litellm_params:', //               6
    '      api_key: sk-abc', //             7
    'general_settings:', //                 8
    '  master_key: sk-1', //                9
    '',
  ].join('\n'));
  const r = await run(['--check', p]);
  assert.notEqual(r.code, 0, r.out);
  const m = r.out.match(/nomodel\.yaml:(\d+):(\d+)/);
  assert.ok(m, `no file:line:col in:\n${r.out}`);
  assert.ok([5, 6, 7].includes(Number(m[1])), `error at line ${m[1]}, the entry is lines 5-7:\n${r.out}`);
  assert.match(r.out, /model/);
});

test('--check on a wrongly typed value names its line', T, async () => {
  const p = writeConfig('type.yaml', [
    'model_list:',
    '  - model_name: good',
    '    litellm_params:',
    '      model: openai/gpt-4o',
    'litellm_settings:',
    '  num_retries: lots',
    '',
  ].join('\n'));
  const r = await run(['--check', p]);
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.out, /type\.yaml:6:\d+/, r.out);
});

test('--check on a missing file exits non-zero', T, async () => {
  const r = await run(['--check', path.join(dir, 'does-not-exist.yaml')]);
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.out, /does-not-exist\.yaml/);
});

test('--check warns about unknown keys and still exits 0', T, async () => {
  const p = writeConfig('unknown.yaml', [
    'model_list:',
    '  - model_name: good',
    '    litellm_params:',
    '      model: openai/gpt-4o',
    '      api_key: sk-x',
    'general_settings:',
    '  master_key: sk-1',
    '  totally_unknown_setting: 5',
    '',
  ].join('\n'));
  const r = await run(['--check', p]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /totally_unknown_setting/);
});

test('start-up with unknown keys warns about them and serves', T, async () => {
  await withStack({
    config: (c) => {
      const cfg = defaultConfig(c);
      cfg.general_settings.some_future_setting = true;
      cfg.litellm_settings.made_up_option = 'x';
      cfg.not_a_section = { a: 1 };
      return cfg;
    },
    workers: 1,
  }, async (s) => {
    for (const k of ['some_future_setting', 'made_up_option', 'not_a_section']) assert.ok(s.sluice.stderr.includes(k), `no warning names ${k}:\n${s.sluice.stderr}`);
    const r = await s.post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(r.status, 200, r.text);
  });
});

test('start-up with a bad config exits non-zero without listening', T, async () => {
  const p = writeConfig('bad-start.yaml', 'model_list:\n  - model_name: x\n    litellm_params: {}\n');
  const port = await freePort();
  const r = await run(['--config', p, '--host', '127.0.0.1', '--port', String(port)]);
  assert.notEqual(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /listening on/);
  assert.match(r.out, /bad-start\.yaml:\d+:\d+/);
});

test('start-up on a port that is taken fails with a message, not a hang', T, async () => {
  const port = await freePort();
  const blocker = net.createServer();
  await new Promise((resolve) => blocker.listen({ port, host: '127.0.0.1', exclusive: true }, resolve));
  try {
    const p = writeConfig('port.yaml', renderConfig(defaultConfig, ctx));
    const r = await run(['--config', p, '--host', '127.0.0.1', '--port', String(port), '--num_workers', '1']);
    assert.notEqual(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /listening on/);
    assert.match(r.out, new RegExp(`${port}|in use`, 'i'));
  } finally {
    blocker.close();
  }
});

test('--detailed_debug starts and serves', T, async () => {
  await withStack({ sluiceArgs: ['--detailed_debug'], workers: 1 }, async (s) => {
    const r = await s.post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(r.status, 200, r.text);
  });
});

test('an unknown option is rejected', T, async () => {
  const r = await run(['--no-such-option']);
  assert.notEqual(r.code, 0, r.out);
});
