// Runs the same test bodies against sluice on each database back end: the SQLite file it uses by
// default, and a real PostgreSQL 15 (lib/pg.mjs) started for the suite. Each back end gets its own
// describe block ("<title> (sqlite)", "<title> (postgres)"), its own stack, and is torn down after
// its tests; the PostgreSQL block is skipped when PostgreSQL 15 is not installed.
import { after, before, describe } from 'node:test';
import { SLOW, startStack } from './harness.mjs';
import { HAVE_PG, startPostgres } from './pg.mjs';

export const BACKENDS = ['sqlite', 'postgres'];

/**
 * describe(`${title} (${backend})`) for each back end. `stackOpts` are startStack's options
 * (DATABASE_URL is added for PostgreSQL). `body(ctx)` declares the tests; ctx.s (the stack),
 * ctx.pg (the Postgres, or null) and ctx.backend are set by the time a test runs.
 */
export function describeBackends(title, stackOpts, body) {
  for (const backend of BACKENDS) {
    const skip = backend === 'postgres' && !HAVE_PG ? 'PostgreSQL 15 is not installed' : false;
    describe(`${title} (${backend})`, { skip }, () => {
      const ctx = { backend, s: null, pg: null };
      before(async () => {
        if (backend === 'postgres') ctx.pg = await startPostgres();
        const env = ctx.pg ? { ...(stackOpts.env || {}), DATABASE_URL: ctx.pg.url } : stackOpts.env;
        ctx.s = await startStack({ ...stackOpts, env });
      }, { timeout: 60000 * SLOW });
      after(async () => {
        try {
          await ctx.s?.stop();
        } finally {
          ctx.pg?.stop();
        }
      }, { timeout: 60000 * SLOW });
      body(ctx);
    });
  }
}
