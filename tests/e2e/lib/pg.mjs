// A real PostgreSQL 15 for end-to-end tests: initdb in a temp dir, a server on a free loopback
// port (socket in the same dir), stop and start again on the same port for outage tests, and a
// psql helper for counting rows. As root, the server's commands run as the postgres user
// (initdb refuses root). Everything is removed by stop(); the server is killed if the test
// process dies first.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './harness.mjs';

const BIN = '/usr/lib/postgresql/15/bin';
const asRoot = process.getuid && process.getuid() === 0;

export const HAVE_PG = existsSync(`${BIN}/initdb`) && existsSync(`${BIN}/pg_ctl`);

function run(cmd, args, opts = {}) {
  const [c, a] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return execFileSync(c, a, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000, ...opts }).toString();
}

export class Postgres {
  constructor(dir, port) {
    this.dir = dir;
    this.port = port;
    this.url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    this.running = false;
  }

  start() {
    run(`${BIN}/pg_ctl`, [
      '-D', `${this.dir}/data`, '-l', `${this.dir}/server.log`, '-w', '-t', '20',
      '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start',
    ]);
    this.running = true;
  }

  /** Stops the server (fast: sessions are cut, as in an outage). */
  stopServer(mode = 'immediate') {
    if (!this.running) return;
    run(`${BIN}/pg_ctl`, ['-D', `${this.dir}/data`, '-m', mode, '-w', 'stop']);
    this.running = false;
  }

  /** Runs SQL with psql and returns the trimmed, unaligned output. */
  sql(text) {
    return run('psql', ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-d', 'postgres',
      '-At', '-c', text]).trim();
  }

  stop() {
    try {
      this.stopServer();
    } catch {
      /* already down */
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** initdb + start on a free port. */
export async function startPostgres() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-e2e-pg-'));
  chmodSync(dir, 0o777);
  run(`${BIN}/initdb`, ['-D', `${dir}/data`, '-A', 'trust', '-U', 'postgres', '-N']);
  const pg = new Postgres(dir, await freePort());
  pg.start();
  process.on('exit', () => {
    try {
      if (pg.running) run(`${BIN}/pg_ctl`, ['-D', `${dir}/data`, '-m', 'immediate', 'stop']);
    } catch {
      /* best effort */
    }
  });
  return pg;
}
