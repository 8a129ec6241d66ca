/* SPDX-License-Identifier: MIT
 * limits: LiteLLM's rate limits (rpm, tpm: fixed windows anchored at the first request) and
 * max_parallel_requests gauges, as named counters that every worker thread shares through atomics.
 * With Redis configured, a sync thread (limits/sync.c) shares them across instances in pipelined
 * batches every few milliseconds. The request path never touches the Redis connection: it never
 * waits, makes no syscall and, once a counter exists, allocates nothing. A slow or dead Redis trips
 * a circuit breaker, and each instance then enforces every limit on its own until Redis answers.
 * Not here: which limits apply to a request, the 429 body and headers (the data plane).
 * Design: docs/limits.md. */
#ifndef SLUICE_LIMITS_LIMITS_H
#define SLUICE_LIMITS_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/str.h"

#define LIM_WINDOW_MS 60000 /* LiteLLM's LITELLM_RATE_LIMIT_WINDOW_SIZE (60 s) */
#define LIM_NAME_MAX 512    /* longest counter name */

typedef struct lim_table lim_table_t;
typedef struct lim_reader lim_reader_t;

/* ---- where Redis is ------------------------------------------------------------------------- */

typedef struct {
    char *host;
    int port;
    char *username;  /* NULL: AUTH with the password alone */
    char *password;  /* NULL: no AUTH */
    int db;          /* SELECT db when > 0 */
    char source[64]; /* where the settings came from, for the log ("REDIS_URL", ...) */
} lim_redis_conf_t;

/* Finds the Redis server the way LiteLLM does: litellm_settings.cache_params (type: redis), else
 * router_settings.redis_*, else the environment alone. REDIS_HOST, REDIS_PORT, REDIS_PASSWORD,
 * REDIS_USERNAME, REDIS_DB and REDIS_URL fill what the chosen section leaves unset, and a URL (the
 * section's or REDIS_URL) wins over host/port/password/db, as in LiteLLM. `env` looks up a
 * variable (NULL: getenv). Returns 1 with *out filled (free with lim_redis_conf_dispose), 0 when
 * no Redis is configured, -1 when it is but cannot be used (err says why: TLS, a bad URL). */
int lim_redis_conf_find(const cfg_t *cfg, const char *(*env)(const char *name),
                        lim_redis_conf_t *out, char *err, size_t err_size);
/* Parses redis://[[user]:password@]host[:port][/db] (percent-escapes decoded). 0, or -1 (err). */
int lim_redis_url_parse(const char *url, lim_redis_conf_t *out, char *err, size_t err_size);
void lim_redis_conf_dispose(lim_redis_conf_t *c);
/* Drives a hiredis async context from a libuv loop (the packaged adapter, with socket errors
 * handed to hiredis; redis_uv.c). REDIS_OK or REDIS_ERR. Also used by the response cache. */
struct redisAsyncContext;
struct uv_loop_s;
int lim_redis_uv_attach(struct redisAsyncContext *ac, struct uv_loop_s *loop);

/* ---- the table ------------------------------------------------------------------------------ */

typedef struct {
    int64_t window_ms;             /* 0: LIM_WINDOW_MS */
    const lim_redis_conf_t *redis; /* NULL: this instance only, and no thread. Copied */
    unsigned sync_interval_ms;     /* 0: 5. How often local counts are pushed and pulled */
    unsigned redis_timeout_ms;     /* 0: 50. A command unanswered this long trips the breaker */
    unsigned probe_interval_ms;    /* 0: 1000. PING period while the breaker is open */
    unsigned probe_timeout_ms;     /* 0: 500 */
    const char *instance_id;       /* NULL: "<hostname>:<pid>:<random>" */
} lim_opts_t;

/* Creates the table (opts may be NULL) and, with Redis, starts its sync thread, which connects in
 * the background: until the first batch is answered, limits are local. Never fails (aborts on
 * OOM at start-up). */
lim_table_t *lim_table_new(const lim_opts_t *opts);
/* Stops the sync thread (without waiting on Redis) and frees everything. No reader may be using
 * the table. Accepts NULL. */
void lim_table_free(lim_table_t *t);

/* Every thread that calls the functions below registers once as a reader of the table and
 * declares quiescent points (docs/limits.md, "Memory"): a counter is freed only after every
 * online reader passed one since it was unlinked. NULL when 128 readers are registered. */
lim_reader_t *lim_reader_register(lim_table_t *t);
void lim_reader_unregister(lim_reader_t *r);
/* This thread holds nothing from the table now: once per loop turn. */
void lim_reader_quiescent(lim_reader_t *r);
/* Around blocking in poll, so an idle worker holds no memory back. */
void lim_reader_offline(lim_reader_t *r);
void lim_reader_online(lim_reader_t *r);

/* ---- the request path ----------------------------------------------------------------------
 * `name` identifies a counter ("api_key:<token>:rpm", "deployment:<model_id>:tpm", docs/limits.md
 * lists the names the data plane uses); it is looked up without a lock and created (under a
 * mutex, with one allocation) the first time. `now_ms` is the Unix time in milliseconds (windows
 * are compared across instances). A `limit` < 0 means none: the call counts and always admits.
 * `info` may be NULL. */

typedef struct {
    int64_t limit;     /* as passed */
    int64_t used;      /* usage in this window across instances, as known here, after the call */
    int64_t remaining; /* max(0, limit - used): x-ratelimit-remaining-* */
    int64_t reset_ms;  /* Unix ms when the window ends: x-ratelimit-reset-*, "Limit resets at" */
} lim_info_t;

/* Counts `amount` (>= 1) in the window counter `name` if that keeps it within `limit`; false, and
 * nothing counted, otherwise. With amount 0 it only asks whether the window is still under the
 * limit (LiteLLM's tpm check before a call: usage < limit). A few atomic operations. */
bool lim_rate_check_add(lim_table_t *t, str_t name, int64_t limit, int64_t amount, int64_t now_ms,
                        lim_info_t *info);
/* Counts `amount` whatever the limit (the tokens of a finished call, LiteLLM's post-call add). */
void lim_rate_add(lim_table_t *t, str_t name, int64_t amount, int64_t now_ms);
/* The window's usage without counting (router usage, response headers). Creates nothing. */
void lim_rate_peek(lim_table_t *t, str_t name, int64_t limit, int64_t now_ms, lim_info_t *info);

/* lim_rate_peek that also creates the counter and keeps the sync thread reading it back while it
 * is watched: usage-based routing weighs deployments by every instance's tokens, including
 * deployments this instance has not called yet. */
void lim_rate_watch(lim_table_t *t, str_t name, int64_t now_ms, lim_info_t *info);

/* Takes one slot of the in-flight gauge `name` if fewer than `limit` are taken across instances;
 * false otherwise. Every true must be matched by one lim_gauge_dec (the gauge is never reclaimed
 * while a slot is held, so the call may come from a later loop turn). */
bool lim_gauge_inc(lim_table_t *t, str_t name, int64_t limit, int64_t now_ms, lim_info_t *info);
void lim_gauge_dec(lim_table_t *t, str_t name, int64_t now_ms);

/* The slots of gauge `name` held across instances (this one's plus, while shared, the others'
 * at the last sync): least-busy's in-flight count. Creates nothing; 0 for an unknown gauge. */
int64_t lim_gauge_peek(lim_table_t *t, str_t name);

/* Marks: a time shared by every instance, the router's cooldowns ("deployment:<id>:cooldown").
 * lim_mark_set raises mark `name` to `until_ms` (Unix ms; a lower value changes nothing) and,
 * with Redis, publishes it with the next batch; the sync thread reads every instance's marks
 * back every 50 ms. lim_mark_get returns the latest time known here, 0 when none: a lookup and
 * two loads, nothing created or written. */
void lim_mark_set(lim_table_t *t, str_t name, int64_t until_ms, int64_t now_ms);
int64_t lim_mark_get(lim_table_t *t, str_t name, int64_t now_ms);

/* ---- upkeep and state ----------------------------------------------------------------------- */

/* Reclaims counters idle for two windows and frees memory whose grace period ended. The sync
 * thread does this itself; a table without Redis needs a call about once a second from any
 * thread (a store-thread timer). */
void lim_table_maintain(lim_table_t *t, int64_t now_ms);

typedef struct {
    bool redis;              /* Redis configured */
    bool shared;             /* breaker closed and synced: limits hold across instances now */
    unsigned instances;      /* live instances seen in Redis (1 without Redis) */
    uint64_t trips;          /* breaker trips since start */
    int64_t last_trip_ms;    /* Unix ms of the last trip, 0 if none */
    uint64_t batches;        /* batches Redis answered */
    size_t counters;         /* counters in the table */
    unsigned long reclaimed; /* counters reclaimed since start */
} lim_stats_t;

void lim_table_stats(lim_table_t *t, lim_stats_t *out);

#endif
