// A client that reads slower than the provider writes: sluice holds the provider back instead of
// buffering the whole stream, and the stream still arrives whole when the client catches up.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { sleep, SLOW, startStack } from './lib/harness.mjs';

let s;
before(async () => { s = await startStack({ workers: 1 }); }, { timeout: 30000 * SLOW });
after(() => s?.stop(), { timeout: 30000 * SLOW });

function rssKb(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]);
}

test('a stalled reader pauses the provider; memory stays bounded; nothing is lost', { timeout: 60000 * SLOW }, async () => {
  const tokens = 200000; // ~30 MB of SSE
  const body = JSON.stringify({
    model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }],
    mock: { tokens, id: 'slow-reader' },
  });
  const pid = s.sluice.child.pid;
  const before = rssKb(pid);
  const sock = net.connect(s.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.masterKey}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  sock.pause(); // read nothing for a while
  await sleep(1500 * SLOW);
  const grown = rssKb(pid) - before;
  assert.ok(grown < 16 * 1024, `sluice grew by ${grown} kB while the client did not read`);
  let received = 0, tail = '';
  const done = new Promise((resolve, reject) => {
    sock.on('data', (d) => {
      received += d.length;
      tail = (tail + d.toString('latin1')).slice(-64);
      if (tail.includes('data: [DONE]')) resolve();
    });
    sock.on('error', reject);
    sock.on('close', () => reject(new Error(`closed after ${received} bytes`)));
  });
  sock.resume();
  await done;
  sock.destroy();
  assert.ok(received > tokens * 100, `only ${received} bytes arrived`);
});
