// Upstream TLS: sluice's own client verifies the provider's certificate against the CA store
// (SSL_CERT_FILE here), checks the host name or IP, and reuses the TLS connection.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { makeTempDir, SLOW, startStack } from './lib/harness.mjs';

let dir, server, port, connections = 0, requests = [];
const stacks = [];

function openssl(...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCa(name) {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`);
}

before(async () => {
  dir = makeTempDir('sluice-tls-');
  makeCa('ca');
  makeCa('other-ca');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=localhost');
  writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'srv.pem', '-days', '2', '-extfile', 'ext.cnf');
  server = https.createServer({
    key: readFileSync(path.join(dir, 'srv.key')),
    cert: readFileSync(path.join(dir, 'srv.pem')),
  }, (req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const json = JSON.parse(body);
      requests.push({ path: req.url, auth: req.headers.authorization, host: req.headers.host, json });
      if (json.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (delta, finish) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: json.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        res.write(chunk({ role: 'assistant', content: '' }, null));
        res.write(chunk({ content: 'over ' }, null));
        res.write(chunk({ content: 'tls' }, null));
        res.end(chunk({}, 'stop') + 'data: [DONE]\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        id: 'c1', object: 'chat.completion', created: 1, model: json.model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'over tls' }, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
      }));
    });
  });
  server.on('secureConnection', () => { connections++; });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
}, { timeout: 30000 * SLOW });

after(async () => {
  for (const s of stacks) await s.stop();
  server?.close();
}, { timeout: 30000 * SLOW });

async function stackWith(caFile, host) {
  const s = await startStack({
    workers: 1,
    env: { SSL_CERT_FILE: path.join(dir, caFile) },
    config: (ctx) => ({
      model_list: [{
        model_name: 'tls-model',
        litellm_params: { model: 'openai/upstream-tls', api_base: `https://${host}:${port}/v1`, api_key: 'sk-tls-upstream' },
        model_info: { id: 'dep-tls' },
      }],
      litellm_settings: { num_retries: 0 },
      general_settings: { master_key: ctx.masterKey },
    }),
  });
  stacks.push(s);
  return s;
}

const T = { timeout: 20000 * SLOW };
const messages = [{ role: 'user', content: 'hi' }];

test('chat over verified TLS, JSON and streaming, on one reused connection', T, async () => {
  const s = await stackWith('ca.pem', 'localhost');
  const before = connections;
  const c = s.openai();
  for (let i = 0; i < 4; i++) {
    const r = await c.chat.completions.create({ model: 'tls-model', messages });
    assert.equal(r.choices[0].message.content, 'over tls');
    assert.equal(r.model, 'upstream-tls');
  }
  let text = '';
  for await (const ch of await c.chat.completions.create({ model: 'tls-model', messages, stream: true }))
    text += ch.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'over tls');
  assert.equal(connections - before, 1, 'the TLS connection to the provider was not reused');
  const last = requests.at(-1);
  assert.equal(last.path, '/v1/chat/completions');
  assert.equal(last.auth, 'Bearer sk-tls-upstream');
  assert.equal(last.host, `localhost:${port}`);
});

test('an IP address in api_base is checked against the IP SAN', T, async () => {
  const s = await stackWith('ca.pem', '127.0.0.1');
  const r = await s.openai().chat.completions.create({ model: 'tls-model', messages });
  assert.equal(r.choices[0].message.content, 'over tls');
});

test('a certificate from an unknown CA is refused with a clear 500, key not leaked', T, async () => {
  const s = await stackWith('other-ca.pem', 'localhost');
  const seen = requests.length;
  const r = await s.post('/v1/chat/completions', { model: 'tls-model', messages });
  assert.equal(r.status, 500, r.text);
  assert.match(r.json.error.message, /certificate verification failed/);
  assert.match(r.json.error.message, /dep-tls/);
  assert.doesNotMatch(r.text, /sk-tls-upstream/);
  assert.equal(requests.length, seen, 'a request reached the provider over an unverified connection');
});
