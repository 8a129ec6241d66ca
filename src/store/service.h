/* SPDX-License-Identifier: MIT
 * The store thread: owns the data plane's database connection (SQLite, or PostgreSQL driven
 * without blocking) and the outage spool. Workers talk to it by message only, never waiting:
 * they submit spend records and ask for key rows; the answers go into the key cache.
 *
 * Spend records are batched, one transaction per batch (store_*_write_batch), every
 * batch_seconds or once batch_max records wait. A batch the database cannot take goes to the
 * spool, and the connection is re-established with backoff; once it is back the spool is
 * replayed, in order and exactly once, before any new batch. When the database is slower than
 * the traffic, records beyond queue_max go through the spool too, so memory stays bounded.
 * Stopping flushes what is queued, or spools it. docs/store.md. */
#ifndef SLUICE_STORE_SERVICE_H
#define SLUICE_STORE_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/keys.h"
#include "store/store.h"

typedef struct store_svc store_svc_t;

typedef struct {
    const char *sqlite_path; /* used when pg_conninfo is NULL */
    const char *pg_conninfo; /* DATABASE_URL; NULL: SQLite */
    const char *spool_path;  /* outage spool file */
    double batch_seconds;    /* proxy_batch_write_at; 0: 10 */
    size_t batch_max;        /* flush once this many records wait; 0: 100 */
    bool write_logs;         /* false: disable_spend_logs (increments only) */
    auth_cache_t *cache;     /* key lookups are answered into it; spend written is settled */
    /* litellm_settings.max_end_user_budget_id: the budget row of end users without one; NULL */
    const char *max_end_user_budget_id;
    /* records kept in memory while the database falls behind; beyond, they go through the spool
     * (in order, written as the database catches up). 0: 50,000 */
    size_t queue_max;
} store_svc_opts_t;

/* Starts the thread. It connects in the background: a database that is down at start-up is
 * retried with backoff while the gateway serves. NULL only when the spool cannot be opened or
 * the thread cannot start (*err gets a malloc'd message). */
store_svc_t *store_svc_start(const store_svc_opts_t *opts, char **err);
/* Writes (or spools) every queued record, closes the connection and joins the thread. Waits at
 * most timeout_ms for the database before spooling the rest. */
void store_svc_stop(store_svc_t *s, uint64_t timeout_ms);

/* Queues a copy of the record (one allocation; strings copied). Thread-safe, lock-free, never
 * blocks. */
void store_svc_submit(store_svc_t *s, const store_spend_log_t *log);
/* Asks for the key whose token is hash (with its team's and user's budget fields). The answer
 * goes to the cache: auth_cache_put, or auth_cache_put_missing when there is no such key. On a
 * database error nothing is put: the cache's pending timeout lets a later request ask again.
 * Thread-safe, never blocks. */
void store_svc_lookup_key(store_svc_t *s, const auth_hash_t *hash);
/* Asks for an end user (LiteLLM_EndUserTable joined with its budget row); hash is
 * auth_end_user_hash(end_user). The answer goes to the cache as a record (auth_end_user_record),
 * or auth_cache_put_missing when there is no such end user. Thread-safe, never blocks. */
void store_svc_lookup_end_user(store_svc_t *s, const auth_hash_t *hash, const char *end_user);

typedef struct {
    bool connected;             /* the database answered the last operation */
    const char *backend;        /* "sqlite" / "postgresql" */
    size_t queued;              /* records waiting for a batch */
    unsigned long long spooled; /* spool bytes not yet replayed */
    uint64_t written;           /* records committed since start (replays included) */
    uint64_t overflowed;        /* records spooled while the database was up but behind */
} store_svc_stats_t;

/* A snapshot, for /health/readiness and tests. Thread-safe. */
void store_svc_stats(store_svc_t *s, store_svc_stats_t *out);

#endif
