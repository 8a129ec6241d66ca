// Client-side timeouts of the server: a head that never completes, a body that stalls, and an idle
// keep-alive connection are all closed when their time runs out (shortened here via environment).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { SLOW, startStack } from './lib/harness.mjs';

let s;
before(async () => {
  s = await startStack({
    env: {
      SLUICE_HEADER_TIMEOUT_MS: String(300 * SLOW),
      SLUICE_BODY_TIMEOUT_MS: String(300 * SLOW),
      SLUICE_KEEPALIVE_TIMEOUT_MS: String(300 * SLOW),
    },
  });
}, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

const T = { timeout: 10000 * SLOW };

/** Opens a socket, writes `data`, and resolves with {ms, received} when the server closes it. */
function closedAfter(data) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    let received = '';
    const sock = net.connect(s.port, '127.0.0.1', () => data && sock.write(data));
    sock.on('data', (d) => { received += d; });
    sock.on('close', () => resolve({ ms: Date.now() - t0, received }));
    sock.on('error', () => {});
    setTimeout(() => { sock.destroy(); reject(new Error('the server never closed the connection')); }, 8000 * SLOW);
  });
}

test('a head that never completes is closed after the header timeout', T, async () => {
  const r = await closedAfter('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n');
  assert.ok(r.ms >= 250 * SLOW && r.ms < 3000 * SLOW, `closed after ${r.ms} ms`);
  assert.equal(r.received, '');
});

test('a body that stalls is closed after the body timeout', T, async () => {
  const r = await closedAfter(
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.masterKey}\r\n` +
    'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model":');
  assert.ok(r.ms >= 250 * SLOW && r.ms < 3000 * SLOW, `closed after ${r.ms} ms`);
});

test('an idle keep-alive connection is closed after the keep-alive timeout, not before', T, async () => {
  const t0 = Date.now();
  const r = await closedAfter('GET /health/liveliness HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(r.received, /^HTTP\/1\.1 200 /);
  assert.match(r.received, /I'm alive!/);
  assert.ok(Date.now() - t0 >= 250 * SLOW, 'closed before the keep-alive timeout');
});

test('a connection that sends nothing is closed after the keep-alive timeout', T, async () => {
  const r = await closedAfter('');
  assert.ok(r.ms >= 250 * SLOW && r.ms < 3000 * SLOW, `closed after ${r.ms} ms`);
});
