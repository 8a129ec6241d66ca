/* SPDX-License-Identifier: MIT
 * store: the public face of the database layer. Plain records for a spend log and a virtual key,
 * the SQLite back end (blocking: only the store thread calls it), and the outage spool that keeps
 * spend records on local disk while the database is unreachable.
 *
 * The PostgreSQL back end (pg.c, libpq non-blocking, driven from a loop) is declared at the end.
 * The store thread that drives all of this (queue, batching, reconnect) is store/service.h.
 * The SQLite functions are synchronous; no handle is thread-safe. */
#ifndef SLUICE_STORE_STORE_H
#define SLUICE_STORE_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/schema.h"

/* Timestamps are milliseconds since the Unix epoch, UTC (LiteLLM stores naive UTC). */
#define STORE_TIME_NULL LLONG_MIN
/* An absent optional integer (tpm_limit, request_duration_ms, ...). */
#define STORE_INT_NULL LLONG_MIN

/* One request's record, filled as LiteLLM fills a LiteLLM_SpendLogs row. The pointers belong to
 * the caller; NULL means "not given" and writes the column's default ('' / '{}' / NULL). Fields
 * marked "daily" feed the Daily*Spend aggregates and are not SpendLogs columns. */
typedef struct {
    const char *request_id; /* primary key; the idempotency key of replays */
    const char *call_type;  /* "acompletion", "aembedding", ... */
    const char *api_key;    /* sha256 hex of the virtual key, "" without one */
    double spend;           /* USD */
    long long total_tokens;
    long long prompt_tokens;
    long long completion_tokens;
    long long cache_read_input_tokens;     /* daily */
    long long cache_creation_input_tokens; /* daily */
    long long start_time;                  /* "startTime" */
    long long end_time;                    /* "endTime" */
    long long completion_start_time;       /* "completionStartTime"; STORE_TIME_NULL if none */
    long long request_duration_ms;         /* STORE_INT_NULL if none */
    const char *model;
    const char *model_id;
    const char *model_group;
    const char *custom_llm_provider;
    const char *api_base;
    const char *user; /* the key owner's user_id */
    const char *team_id;
    const char *organization_id;
    const char *end_user; /* customer id from the request's `user` or headers */
    const char *agent_id;
    const char *session_id;
    const char *metadata;     /* JSON object text */
    const char *cache_hit;    /* "True" / "False" */
    const char *cache_key;    /* "Cache OFF" without a cache */
    const char *request_tags; /* JSON array of strings; each tag gets a DailyTagSpend row */
    const char *requester_ip_address;
    const char *status; /* "success" / "failure" */
    const char *mcp_namespaced_tool_name;
    const char *endpoint; /* daily: the route, e.g. "/v1/chat/completions" */
} store_spend_log_t;

/* A log with every field at "not given" (times and optional integers NULL, numbers 0). */
void store_spend_log_init(store_spend_log_t *log);

typedef struct {
    char **v; /* malloc'd strings */
    size_t n;
} store_strlist_t;

/* A LiteLLM_VerificationToken row: every column the auth path and the key API need. Strings are
 * malloc'd and owned by the record (store_key_free); NULL is SQL NULL, or the column default
 * ('{}' for JSON columns) when written. */
typedef struct {
    char *token; /* sha256 hex of the full "sk-..." key */
    char *key_name;
    char *key_alias;
    double spend;      /* read only: writes never overwrite it (increments race with them) */
    double max_budget; /* NAN: none */
    bool soft_budget_cooldown;
    int blocked;       /* -1 NULL, 0, 1 */
    long long expires; /* STORE_TIME_NULL: never */
    store_strlist_t models;
    char *aliases; /* JSON text */
    char *config;  /* JSON text */
    char *router_settings;
    char *permissions;
    char *metadata;
    char *model_spend;
    char *model_max_budget;
    char *budget_limits;
    char *user_id;
    char *team_id;
    char *organization_id;
    char *budget_id;
    char *project_id;
    char *agent_id;
    char *object_permission_id;
    long long max_parallel_requests; /* STORE_INT_NULL: none */
    long long tpm_limit;
    long long rpm_limit;
    char *budget_duration; /* "30d", "1h", ... */
    long long budget_reset_at;
    store_strlist_t allowed_cache_controls;
    store_strlist_t allowed_routes;
    store_strlist_t policies;
    store_strlist_t access_group_ids;
    long long created_at; /* STORE_TIME_NULL on insert: now */
    char *created_by;
    long long updated_at; /* STORE_TIME_NULL on insert/update: now */
    char *updated_by;
    long long last_active;
} store_key_t;

/* A key with nothing set (NULLs, NAN budget, blocked -1). */
void store_key_init(store_key_t *k);
/* Frees what the record owns and re-initialises it. */
void store_key_free(store_key_t *k);

/* The LiteLLM_TeamTable columns a key check reads. Strings malloc'd, owned by the record. */
typedef struct {
    char *team_id;
    bool blocked;
    store_strlist_t models; /* empty: the team does not restrict */
    double spend;
    double max_budget; /* NAN: none */
    char *budget_duration;
    long long budget_reset_at; /* STORE_TIME_NULL: none */
    long long rpm_limit;       /* STORE_INT_NULL: none */
    long long tpm_limit;
    long long max_parallel_requests;
} store_team_t;

/* The LiteLLM_UserTable columns a key check reads. */
typedef struct {
    char *user_id;
    double spend;
    double max_budget; /* NAN: none */
    char *budget_duration;
    long long budget_reset_at;
    long long rpm_limit; /* STORE_INT_NULL: none */
    long long tpm_limit;
    long long max_parallel_requests;
} store_user_t;

/* A team member's budget: the limits and max_budget of its LiteLLM_BudgetTable row, with the
 * LiteLLM_TeamMembership row's spend. */
typedef struct {
    long long rpm_limit; /* STORE_INT_NULL: none */
    long long tpm_limit;
    long long max_parallel_requests;
    double spend;      /* LiteLLM_TeamMembership.spend */
    double max_budget; /* NAN: none */
} store_limits_t;

/* What the auth cache needs for one key: its row, its team's and user's rows when the key names
 * them and they exist, and the budget of the key's user in its team (LiteLLM_TeamMembership's
 * spend, its budget_id -> LiteLLM_BudgetTable's limits and max_budget) when that membership has a
 * budget row. */
typedef struct {
    store_key_t key;
    bool has_team, has_user, has_member;
    store_team_t team;
    store_user_t user;
    store_limits_t member;
} store_auth_row_t;

/* An end user (LiteLLM_EndUserTable) with its budget row's limits (budget_id ->
 * LiteLLM_BudgetTable), what the data plane checks for a request's `user`. */
typedef struct {
    char *user_id;
    double spend;
    bool blocked;
    double max_budget;   /* NAN: none (no budget row, or its max_budget is NULL) */
    long long rpm_limit; /* STORE_INT_NULL: none */
    long long tpm_limit;
    long long max_parallel_requests;
} store_end_user_t;

void store_end_user_init(store_end_user_t *e);
void store_end_user_free(store_end_user_t *e);

void store_team_init(store_team_t *t);
void store_team_free(store_team_t *t);
void store_user_init(store_user_t *u);
void store_user_free(store_user_t *u);
void store_auth_row_init(store_auth_row_t *r);
void store_auth_row_free(store_auth_row_t *r);

/* Computes the next budget_reset_at (ms) of a row whose window ended, from its budget_duration
 * ("30d", "1h", ...) and now (ms); STORE_TIME_NULL when the duration is not understood (the row
 * is then left alone). The store does not know LiteLLM's calendar rules: the caller does. */
typedef long long (*store_next_reset_fn)(const char *budget_duration, long long now_ms);

/* The PostgreSQL channel sluice LISTENs on for key changes: payload = a token hash (hex) that
 * changed, or "*" for "anything may have changed". */
#define STORE_KEY_CHANNEL "sluice_key_events"
/* Appends a malloc'd copy of s to the list. 0, or -1 on no memory. */
int store_strlist_push(store_strlist_t *l, const char *s);
void store_strlist_free(store_strlist_t *l);

/* ---- SQLite back end ------------------------------------------------------------------------ */

typedef struct store_sqlite store_sqlite_t;

/* Opens (creating if needed) the database file in WAL mode with a busy timeout, and creates
 * every LiteLLM table that is absent, with its indexes. A table that exists is left exactly as
 * it is. NULL on failure; *err (if given) gets a malloc'd message the caller frees. */
store_sqlite_t *store_sqlite_open(const char *path, char **err);
void store_sqlite_close(store_sqlite_t *db);
/* The last error's text (valid until the next call on db). */
const char *store_sqlite_errmsg(store_sqlite_t *db);
/* True when the last failure came from the data (a constraint, a type, a value too big), so the
 * same statement would fail again; false for the passing kind (busy, locked, disk full, I/O). */
bool store_sqlite_error_is_data(store_sqlite_t *db);
/* PRAGMA data_version: changes whenever another connection (another process, the control plane)
 * commits to the file; this connection's own commits leave it. -1 on error. */
long long store_sqlite_data_version(store_sqlite_t *db);

/* Explicit transactions (BEGIN IMMEDIATE, so the write lock is taken up front). 0, or -1. */
int store_sqlite_begin(store_sqlite_t *db);
int store_sqlite_commit(store_sqlite_t *db);
void store_sqlite_rollback(store_sqlite_t *db);

/* Inserts spend-log rows; a request_id already present is skipped (INSERT ... ON CONFLICT DO
 * NOTHING). inserted[i] (if given) says whether row i was new. Returns how many were new, or -1.
 * Runs in the caller's transaction, if any. */
int store_sqlite_insert_spend_logs(store_sqlite_t *db, const store_spend_log_t *logs, size_t n,
                                   bool *inserted);

/* Entities whose spend column is incremented. */
typedef enum {
    STORE_ENTITY_KEY,         /* LiteLLM_VerificationToken.token */
    STORE_ENTITY_USER,        /* LiteLLM_UserTable.user_id */
    STORE_ENTITY_TEAM,        /* LiteLLM_TeamTable.team_id */
    STORE_ENTITY_ORG,         /* LiteLLM_OrganizationTable.organization_id */
    STORE_ENTITY_END_USER,    /* LiteLLM_EndUserTable.user_id; the row is created when absent */
    STORE_ENTITY_TEAM_MEMBER, /* LiteLLM_TeamMembership (id = user_id, id2 = team_id) */
    STORE_ENTITY_KEY_MODEL,   /* LiteLLM_VerificationToken.model_spend[id2] (id = token) */
} store_entity_t;

/* spend = spend + amount on the entity's row (LiteLLM writes increments, never absolute values);
 * team members also get total_spend += amount; a key's model adds to model_spend's number under
 * the model's name (created at amount; a model_spend that is not a JSON object starts as {}).
 * Returns rows changed (0 when the row does not exist, except end users, who are created as
 * LiteLLM does), or -1. */
int store_sqlite_add_spend(store_sqlite_t *db, store_entity_t entity, const char *id,
                           const char *id2, double amount);

/* The Daily*Spend tables. */
typedef enum {
    STORE_DAILY_USER,
    STORE_DAILY_TEAM,
    STORE_DAILY_ORG,
    STORE_DAILY_END_USER,
    STORE_DAILY_AGENT,
    STORE_DAILY_TAG,
} store_daily_t;

/* One increment of a daily aggregate row. The row's identity is (entity_id, date, api_key, model,
 * custom_llm_provider, mcp_namespaced_tool_name, endpoint); NULL parts other than entity_id are
 * written as "" as LiteLLM does, so the unique key matches its rows. */
typedef struct {
    const char *entity_id; /* user_id / team_id / organization_id / end_user_id / agent_id / tag */
    const char *date;      /* "YYYY-MM-DD" (UTC) */
    const char *api_key;
    const char *model;
    const char *model_group;
    const char *custom_llm_provider;
    const char *mcp_namespaced_tool_name;
    const char *endpoint;
    long long prompt_tokens;
    long long completion_tokens;
    long long cache_read_input_tokens;
    long long cache_creation_input_tokens;
    double spend;
    long long api_requests;
    long long successful_requests;
    long long failed_requests;
} store_daily_delta_t;

/* Adds the delta to its row, creating the row (new uuid id, created_at/updated_at now) when
 * absent: INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x. A NULL entity_id never
 * conflicts in a unique index, so that row is found with IS NULL first. 0, or -1. */
int store_sqlite_upsert_daily(store_sqlite_t *db, store_daily_t table,
                              const store_daily_delta_t *d);

/* What a batch did. */
typedef struct {
    size_t inserted;   /* new SpendLogs rows */
    size_t duplicates; /* request_ids already stored: their spend was not applied again */
} store_batch_result_t;

/* The spend pipeline's unit of work, in ONE transaction: inserts the logs, then for the new ones
 * only, aggregates and applies the spend increments (key, user, team, team member, org, end user)
 * and the Daily* upserts (user, team, org, end user, agent, tag). Replaying a batch that was
 * already committed therefore changes nothing: exactly once, keyed by request_id.
 * write_logs false (disable_spend_logs) skips the SpendLogs rows and their idempotency (every log
 * then counts as new). inserted[i] (if given, n entries) says whether log i was new; it is filled
 * only on success. 0 committed, -1 rolled back (nothing written). */
int store_sqlite_write_batch(store_sqlite_t *db, const store_spend_log_t *logs, size_t n,
                             bool write_logs, store_batch_result_t *res, bool *inserted);

/* Reads the key row whose token is token_hash. 0 found (*out filled; free with store_key_free),
 * 1 no such key, -1 error. */
int store_sqlite_key_get(store_sqlite_t *db, const char *token_hash, store_key_t *out);
/* Inserts a key row (spend starts at k->spend). 0, 1 when the token exists, -1 error. */
int store_sqlite_key_insert(store_sqlite_t *db, const store_key_t *k);
/* Rewrites every column of the row but token, spend, created_at and created_by.
 * 0, 1 when there is no such key, -1 error. */
int store_sqlite_key_update(store_sqlite_t *db, const store_key_t *k);
/* 0 deleted, 1 no such key, -1 error. */
int store_sqlite_key_delete(store_sqlite_t *db, const char *token_hash);

/* Reads a team / user row: 0 found (*out filled; free it), 1 no such row, -1 error. */
int store_sqlite_team_get(store_sqlite_t *db, const char *team_id, store_team_t *out);
int store_sqlite_user_get(store_sqlite_t *db, const char *user_id, store_user_t *out);
/* Reads the key row and, when it names them, its team and user rows and its user's limits in its
 * team. 0 found (free *out with store_auth_row_free), 1 no such key, -1 error. */
int store_sqlite_auth_get(store_sqlite_t *db, const char *token_hash, store_auth_row_t *out);
/* Reads an end user and its budget row's limits (the row of default_budget_id, which may be
 * NULL, when it has none: litellm_settings.max_end_user_budget_id): 0 found (free *out), 1 no
 * such end user, -1. */
int store_sqlite_end_user_get(store_sqlite_t *db, const char *user_id,
                              const char *default_budget_id, store_end_user_t *out);

/* LiteLLM's reset_budget job, in one transaction: every key, user and team whose budget_reset_at
 * is at or before now_ms and that has a budget_duration gets spend = 0 and budget_reset_at =
 * next(duration, now_ms). Returns the rows reset, or -1. */
int store_sqlite_reset_budgets(store_sqlite_t *db, long long now_ms, store_next_reset_fn next);

/* ---- outage spool ---------------------------------------------------------------------------- */

typedef struct store_spool store_spool_t;

/* Opens (creating) the spool file at path and its cursor file "<path>.cursor". A torn or corrupt
 * tail (a crash mid-append) is cut off here, so later appends follow the last whole record.
 * NULL on failure (errno set). */
store_spool_t *store_spool_open(const char *path);
void store_spool_close(store_spool_t *sp);

/* Appends the records as one batch and fsyncs before returning. 0, or -1 (errno set). */
int store_spool_append(store_spool_t *sp, const store_spend_log_t *logs, size_t n);

/* Called with up to batch_max records in spool order; the pointers are valid during the call.
 * Return 0 once the records are committed, anything else to stop the replay. */
typedef int (*store_spool_replay_cb)(void *arg, const store_spend_log_t *logs, size_t n);

/* Feeds every record after the cursor to cb, in order, and moves the cursor past each batch cb
 * committed (the cursor file is replaced atomically and fsynced). A crash between cb's commit
 * and the cursor update replays that batch once more: cb must be idempotent, as
 * store_sqlite_write_batch is. Returns the records committed, or -1 when reading fails or cb
 * stopped (the cursor stays at the first uncommitted batch). */
long store_spool_replay(store_spool_t *sp, size_t batch_max, store_spool_replay_cb cb, void *arg);

/* Bytes appended but not yet replayed. */
unsigned long long store_spool_pending(const store_spool_t *sp);

/* Empties the spool and resets the cursor (after a full replay). 0, or -1. */
int store_spool_truncate(store_spool_t *sp);

/* End of the last whole record: a record at an offset >= this value at open time was appended
 * by this process (until the next truncate, after which every record is). */
unsigned long long store_spool_end(const store_spool_t *sp);

/* One batch read ahead of the cursor, for a consumer whose write completes later (the
 * PostgreSQL back end): peek, write, and commit once the write committed. */
typedef struct {
    store_spend_log_t *logs;     /* n records; strings point into the batch */
    unsigned long long *offsets; /* where each record starts in the spool */
    size_t n;
    unsigned long long next; /* offset just past the records read */
    void *docs;              /* private: the parsed payloads */
} store_spool_batch_t;

/* Reads up to max records after the cursor without moving it (n = 0 and next = the cursor when
 * nothing is pending; n = 0 with next past the cursor when every record read was unusable and
 * skipped). 0, or -1 when a record cannot be read (errno) or on no memory. Free b afterwards. */
int store_spool_peek(store_spool_t *sp, size_t max, store_spool_batch_t *b);
/* Moves the cursor past b (durably, as store_spool_replay does) once its records are committed;
 * b must be the last batch peeked, with no truncate since. 0, or -1. */
int store_spool_commit(store_spool_t *sp, const store_spool_batch_t *b);
void store_spool_batch_free(store_spool_batch_t *b);

/* ---- PostgreSQL back end --------------------------------------------------------------------- */

/* One libpq connection driven without blocking: the owner watches store_pg_fd() for the events
 * store_pg_events() asks for and calls store_pg_on_readable / store_pg_on_writable. Operations
 * run one at a time (pipelined inside) and complete through their callback, from within an
 * on_readable / on_writable call. Not thread-safe; one owner (the store thread). */
typedef struct store_pg store_pg_t;

typedef enum {
    STORE_PG_CONNECTING, /* PQconnectPoll in progress */
    STORE_PG_READY,      /* connected, no operation running */
    STORE_PG_BUSY,       /* an operation's queries are in flight */
    STORE_PG_BROKEN,     /* never connected, or the connection failed: connect again */
} store_pg_state_t;

#define STORE_PG_READABLE 1
#define STORE_PG_WRITABLE 2

/* Completion of an operation: rc 0 done (key_get: found), 1 key_get found no key, -1 failed
 * (err says why; the transaction, if any, was rolled back). The callback may start the next
 * operation but must not free pg. */
typedef void (*store_pg_cb)(store_pg_t *pg, void *arg, int rc, const char *err);

/* A connection object in the BROKEN state (nothing connected yet). NULL on no memory. */
store_pg_t *store_pg_new(void);
/* Closes the connection, without calling a pending callback. */
void store_pg_free(store_pg_t *pg);
/* Starts connecting (PQconnectStart; conninfo is a libpq URI or key=value string, dropping any
 * earlier connection). 0: cb follows, rc 0 once READY or -1 and BROKEN. -1: failed at once (bad
 * conninfo, no memory; BROKEN, no callback, store_pg_errmsg says why). No timeout of its own: the
 * owner arms a timer and frees or reconnects when it fires. */
int store_pg_connect(store_pg_t *pg, const char *conninfo, store_pg_cb cb, void *arg);
store_pg_state_t store_pg_state(const store_pg_t *pg);
/* The socket to watch, or -1 when BROKEN. It can change while connecting (libpq tries each
 * address in turn): read it again after every on_readable / on_writable call. */
int store_pg_fd(const store_pg_t *pg);
/* STORE_PG_READABLE | STORE_PG_WRITABLE: the events to watch now (0 when BROKEN). */
int store_pg_events(const store_pg_t *pg);
void store_pg_on_readable(store_pg_t *pg);
void store_pg_on_writable(store_pg_t *pg);
/* The last error, "" if none. Owned by pg. */
const char *store_pg_errmsg(const store_pg_t *pg);

/* Each operation returns 0 when started (cb follows) or -1 when refused at once (not READY,
 * no memory; no callback, store_pg_errmsg says why). */

/* Creates the absent tables with the schema's PostgreSQL DDL (CREATE ... IF NOT EXISTS, never
 * ALTER), in one transaction, only when LiteLLM_VerificationToken is absent: a database LiteLLM
 * or an earlier run set up belongs to its migrations and is left alone. */
int store_pg_ensure_schema(store_pg_t *pg, store_pg_cb cb, void *arg);
/* store_sqlite_write_batch's unit on PostgreSQL, in one transaction and two pipelines: BEGIN and
 * the SpendLogs inserts (ON CONFLICT (request_id) DO NOTHING), then the increments and Daily*
 * upserts of the new rows only and COMMIT. logs (and what they point to), res and inserted (n
 * entries, may be NULL) must stay valid until cb; they are filled when rc is 0. */
int store_pg_write_batch(store_pg_t *pg, const store_spend_log_t *logs, size_t n, bool write_logs,
                         store_batch_result_t *res, bool *inserted, store_pg_cb cb, void *arg);
/* Reads the key row whose token is token_hash into *out (valid until cb; on rc 0 the caller
 * frees it with store_key_free). */
int store_pg_key_get(store_pg_t *pg, const char *token_hash, store_key_t *out, store_pg_cb cb,
                     void *arg);
/* store_sqlite_auth_get on PostgreSQL: the key, team and user rows and the member limits in one
 * pipeline (the others found through the key's columns). rc 0 found, 1 no such key, -1 error; free
 * *out with store_auth_row_free whatever rc is. */
int store_pg_auth_get(store_pg_t *pg, const char *token_hash, store_auth_row_t *out, store_pg_cb cb,
                      void *arg);
/* store_sqlite_end_user_get on PostgreSQL: rc 0 found, 1 none, -1 error; free *out with
 * store_end_user_free whatever rc is. */
int store_pg_end_user_get(store_pg_t *pg, const char *user_id, const char *default_budget_id,
                          store_end_user_t *out, store_pg_cb cb, void *arg);
/* store_sqlite_reset_budgets on PostgreSQL: one query finds the rows due, one transaction resets
 * them (each UPDATE again requires budget_reset_at <= now, so two instances never reset one
 * window twice) and, when any was reset, NOTIFYs STORE_KEY_CHANNEL with "*". *count (valid until
 * cb) gets the rows reset. */
int store_pg_reset_budgets(store_pg_t *pg, long long now_ms, store_next_reset_fn next, long *count,
                           store_pg_cb cb, void *arg);
/* LISTEN on a channel (an identifier; quoted here). Notifications go to the notify callback. */
int store_pg_listen(store_pg_t *pg, const char *channel, store_pg_cb cb, void *arg);

/* Called for each notification that arrives (from inside on_readable, between operations or
 * during one): channel and payload are valid during the call. Must not free pg. */
typedef void (*store_pg_notify_cb)(store_pg_t *pg, void *arg, const char *channel,
                                   const char *payload);
/* Sets (or with NULL clears) the notification callback; without one they are dropped. */
void store_pg_set_notify(store_pg_t *pg, store_pg_notify_cb cb, void *arg);
/* True when the last operation failed because of the data (SQLSTATE class 22 data exception or
 * 23 integrity constraint) on a connection that is still usable: retrying it cannot succeed. */
bool store_pg_error_is_data(const store_pg_t *pg);

/* Blocking helper for tests and tools: drives the state machine with poll() until the running
 * operation (or connect) completes. 0, or -1 when BROKEN or after timeout_ms (the operation is
 * then still running). Never on the store thread's loop. */
int store_pg_wait(store_pg_t *pg, int timeout_ms);

#endif
