// A real redis-server for a test: on a free loopback port, in a temporary directory, killed when
// the test process exits whatever happens.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from './harness.mjs';

export const REDIS_BIN = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

/** Resolves once something accepts connections on 127.0.0.1:port. */
export function waitPort(port, timeout = 10000) {
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
        if (Date.now() > end) reject(new Error(`nothing listens on ${port}`));
        else setTimeout(tryOnce, 50);
      });
    };
    tryOnce();
  });
}

/** Starts redis-server (no persistence) with its files under dir/redis: {port, proc, kill()};
 * kill() sends SIGKILL and resolves once the process is gone. */
export async function startRedis(dir, port) {
  const where = path.join(dir, 'redis');
  mkdirSync(where, { recursive: true });
  port ??= await freePort();
  const proc = spawn(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', where], {
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const kill = () => {
    proc.kill('SIGKILL');
    return exited;
  };
  process.on('exit', () => proc.kill('SIGKILL'));
  await waitPort(port);
  return { port, proc, kill };
}

/** One RESP command; resolves the bulk string (null for a nil). */
export function redisCommand(port, args) {
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
