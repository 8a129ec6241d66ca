/* SPDX-License-Identifier: MIT
 * Virtual keys in memory: generation and hashing as LiteLLM does them, the key cache every worker
 * reads without locks (QSBR: immutable entries behind atomically swapped pointers), and the checks
 * (blocked, expired, model access, budgets) with LiteLLM's status, type and message. Nothing here
 * talks to the store: the store thread answers misses with auth_cache_put / auth_cache_put_missing.
 * Design and check order: docs/keys.md. */
#ifndef SLUICE_AUTH_KEYS_H
#define SLUICE_AUTH_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

/* ---- keys and hashes ------------------------------------------------------------------------ */

#define AUTH_HASH_LEN 32
#define AUTH_KEY_LEN 25      /* "sk-" + 22 URL-safe base64 characters */
#define AUTH_KEY_NAME_MAX 16 /* "sk-...XXXX" + NUL, with room to spare */

typedef struct {
    uint8_t b[AUTH_HASH_LEN];
} auth_hash_t;

/* Writes a new key "sk-" + 22 URL-safe base64 chars of 16 bytes from getrandom, NUL-terminated
 * (out needs AUTH_KEY_LEN + 1 bytes). 0, or -1 when the OS random source fails. */
int auth_key_generate(char out[AUTH_KEY_LEN + 1]);

/* SHA-256 of the full key string (prefix included), as LiteLLM stores it. 0, or -1. */
int auth_key_hash(str_t key, auth_hash_t *out);

/* Lowercase hex of a hash (65 bytes with the NUL), the `token` column's text. */
void auth_hash_hex(const auth_hash_t *h, char out[2 * AUTH_HASH_LEN + 1]);

/* Parses 64 hex digits (either case) into a hash. 0, or -1 when hex is not one. */
int auth_hash_from_hex(str_t hex, auth_hash_t *out);

/* LiteLLM's key_name: "sk-..." + the key's last 4 characters (out: AUTH_KEY_NAME_MAX bytes). */
void auth_key_name(str_t key, char out[AUTH_KEY_NAME_MAX]);

/* True when the value looks like a stored token (64 hex digits) rather than a key: LiteLLM
 * refuses those, so a leaked database row cannot be used as a credential. */
bool auth_key_is_raw_hash(str_t key);

/* True when `key` may be looked up as a virtual key: starts with "sk-" and is not a raw hash. */
bool auth_key_acceptable(str_t key);

/* ---- the key record ------------------------------------------------------------------------- */

#define AUTH_NO_LIMIT (-1) /* rpm/tpm/max_parallel unset */

typedef struct {
    const char *from; /* the model the client asks for */
    const char *to;   /* the model group it means */
} auth_alias_t;

typedef struct {
    const char *model;
    double max_budget;       /* budget_limit */
    const char *time_period; /* "30d" etc.; NULL when none */
    double spend;            /* the key's spend on this model in the current window */
} auth_model_budget_t;

/* rpm / tpm / max_parallel_requests limits of one scope (LiteLLM's team_rpm_limit,
 * user_tpm_limit, the row's max_parallel_requests, ...). */
typedef struct {
    long long rpm, tpm, max_parallel; /* AUTH_NO_LIMIT when unset */
} auth_limits_t;

/* A key's limits on one model: metadata {"model_rpm_limit": {"gpt-4o": 10}, "model_tpm_limit":
 * {...}}, LiteLLM's model_per_key descriptor. */
typedef struct {
    const char *model;
    long long rpm, tpm; /* AUTH_NO_LIMIT when unset */
} auth_model_limit_t;

/* Spend counter shared by every version of a key's (or team's, user's) cache entry: the value the
 * store last read plus what this instance spent since (atomics). Lives as long as the cache. */
typedef struct auth_counter auth_counter_t;

/* One virtual key as the store reads it (VerificationToken joined with team and user). Budgets
 * are < 0 when unset; times are Unix seconds, 0 when unset. Strings and arrays you pass to
 * auth_cache_put are copied; in a record returned by auth_lookup they belong to the cache. */
typedef struct {
    auth_hash_t hash;
    const char *key_name;  /* "sk-...XXXX" */
    const char *key_alias; /* NULL: none */
    const char *user_id, *team_id, *org_id;
    const char *const *models; /* allowlist; empty: all models */
    size_t n_models;
    const auth_alias_t *aliases;
    size_t n_aliases;
    const char *const *tags; /* metadata.tags */
    size_t n_tags;
    const char *metadata_json; /* the metadata column as text, NULL when none */
    bool blocked;
    int64_t expires; /* 0: never */
    double spend, max_budget;
    const char *budget_duration; /* "30d"; NULL: none */
    int64_t budget_reset_at;
    /* the key's team */
    bool team_blocked;
    const char *const *team_models; /* empty: team does not restrict */
    size_t n_team_models;
    double team_spend, team_max_budget;
    int64_t team_budget_reset_at;
    /* the key's user (checked only when the key has no team, as LiteLLM) */
    double user_spend, user_max_budget;
    int64_t user_budget_reset_at;
    /* the key's user in its team: LiteLLM_TeamMembership.spend and its budget row's max_budget
     * (max_budget_in_team). Checked only when has_member_budget, which the store sets for a key
     * with a team_id and a user_id whose membership's budget row has a max_budget. */
    bool has_member_budget;
    double member_spend, member_max_budget;
    const auth_model_budget_t *model_budgets; /* model_max_budget */
    size_t n_model_budgets;
    long long rpm_limit, tpm_limit, max_parallel_requests; /* AUTH_NO_LIMIT when unset */
    /* the rate limits of the key's team, its user, and its user in that team (the membership's
     * budget row), max_parallel_requests included; AUTH_NO_LIMIT when unset (a record built by
     * hand must say so, every field: 0 is a limit) */
    auth_limits_t team_limits, user_limits, member_limits;
    const auth_model_limit_t *model_limits; /* metadata model_rpm_limit / model_tpm_limit */
    size_t n_model_limits;
    /* the `cache` controls a request may send (allowed_cache_controls); empty: any */
    const char *const *allowed_cache_controls;
    size_t n_allowed_cache_controls;
    /* Filled by the cache (NULL in a record you build): live spend, stable for the cache's life,
     * so a request may keep these pointers after its record pointer expires. */
    auth_counter_t *key_counter, *team_counter, *user_counter;
    auth_counter_t *member_counter;        /* NULL unless has_member_budget */
    auth_counter_t *const *model_counters; /* one per model_budgets entry */
} auth_key_t;

/* ---- the cache ------------------------------------------------------------------------------ */

typedef struct auth_cache auth_cache_t;
typedef struct auth_reader auth_reader_t;

#define AUTH_MAX_READERS 64 /* reader ids are bits of the waiters mask */

typedef struct {
    uint64_t ttl_ms; /* user_api_key_cache_ttl; 0: 60 s */
    uint64_t
        pending_timeout_ms; /* a miss or refresh not answered in this time is retried; 0: 10 s */
    /* Called by the thread that answers a pending miss (put / put_missing / invalidate), after
     * the answer is visible, with the ids (bits) of readers that parked on it. Must not block:
     * typically a uv_async_send per worker. May be NULL. */
    void (*on_answer)(void *arg, const auth_hash_t *hash, uint64_t waiters);
    void *on_answer_arg;
} auth_cache_opts_t;

typedef enum {
    AUTH_LOOKUP_HIT = 0,      /* *out is the record */
    AUTH_LOOKUP_HIT_REFRESH,  /* as HIT, and its TTL ran out: this caller (only) must ask the
                                 store to refresh it; the stale record serves meanwhile */
    AUTH_LOOKUP_MISS_STARTED, /* nothing known: this caller must ask the store, then park */
    AUTH_LOOKUP_PENDING,      /* another caller asked already: park; on_answer wakes this reader */
    AUTH_LOOKUP_NOT_FOUND,    /* the store said "no such key" less than a TTL ago */
} auth_lookup_t;

/* Creates an empty cache (opts may be NULL). Never fails (aborts on OOM at start-up). */
auth_cache_t *auth_cache_new(const auth_cache_opts_t *opts);
/* Frees the cache and everything in it. No reader may be using it. */
void auth_cache_free(auth_cache_t *c);

/* Registers the calling thread as a reader (one per worker thread; at most AUTH_MAX_READERS).
 * The reader starts online. NULL when every slot is taken. */
auth_reader_t *auth_reader_register(auth_cache_t *c);
void auth_reader_unregister(auth_reader_t *r);
/* The reader's id, its bit in on_answer's waiters mask. */
unsigned auth_reader_id(const auth_reader_t *r);
/* Declares that this thread holds no record pointer from the cache. Once per loop turn. */
void auth_reader_quiescent(auth_reader_t *r);
/* Offline: the thread will not read (e.g. before blocking in poll), so writers need not wait for
 * it. Online again before the next lookup. */
void auth_reader_offline(auth_reader_t *r);
void auth_reader_online(auth_reader_t *r);

/* Looks up a key by hash, wait-free on a hit. On HIT / HIT_REFRESH *out points to the cached
 * record, valid until this reader's next quiescent or offline call. now_ms: any monotonic clock,
 * the same for every call on this cache. */
auth_lookup_t auth_lookup(auth_cache_t *c, auth_reader_t *r, const auth_hash_t *hash,
                          uint64_t now_ms, const auth_key_t **out);

/* Stores the store's answer for rec->hash (deep copy), replacing what was there, and wakes the
 * readers parked on it. The record's spend values become the counters' base. 0, or -1 on OOM. */
int auth_cache_put(auth_cache_t *c, const auth_key_t *rec, uint64_t now_ms);
/* Stores "no such key" for a TTL, waking parked readers. 0, or -1 on OOM. */
int auth_cache_put_missing(auth_cache_t *c, const auth_hash_t *hash, uint64_t now_ms);
/* Forgets a key (updated, blocked or deleted elsewhere): the next lookup is a miss. */
void auth_cache_invalidate(auth_cache_t *c, const auth_hash_t *hash);
/* Makes every answer stored so far stale, at once and without touching the entries (anything
 * may have changed: missed notifications, another process wrote the database): a cached key
 * keeps serving and its next lookup returns HIT_REFRESH (one caller per pending timeout), a "no
 * such key" is asked again (MISS_STARTED). Pending misses are left as they are. Lock-free
 * readers stay lock-free: one more load of a rarely written word. */
void auth_cache_expire_all(auth_cache_t *c);
/* Frees retired entries no reader can still see. Writers call it themselves; a periodic call
 * from the store thread keeps memory low when writes stop. */
void auth_cache_reclaim(auth_cache_t *c);
/* Entries in the cache (positive, negative and pending), for stats and tests. */
size_t auth_cache_count(auth_cache_t *c);

/* ---- spend between store syncs -----------------------------------------------------------------
 */

typedef enum {
    AUTH_SCOPE_KEY,
    AUTH_SCOPE_TEAM,
    AUTH_SCOPE_USER,
    AUTH_SCOPE_KEY_MODEL,   /* a key's spend on one model (model_max_budget): id "<hex>:<model>" */
    AUTH_SCOPE_END_USER,    /* an end user: id is its user_id (the counter of its record's hash) */
    AUTH_SCOPE_TEAM_MEMBER, /* a user in a team: id is auth_member_id(team_id, user_id) */
} auth_scope_t;

#define AUTH_MEMBER_ID_MAX 512 /* longer ids are cut, the same way everywhere */

/* The id of a team membership for AUTH_SCOPE_TEAM_MEMBER: the team's length, the team and the
 * user, joined by ':' ("6:team-a:u1"), so no two pairs share one whatever the ids hold. */
void auth_member_id(const char *team_id, const char *user_id, char out[AUTH_MEMBER_ID_MAX]);

/* Current spend of a counter: the store's value plus this instance's unsynced increments. */
double auth_counter_spend(const auth_counter_t *k);
/* Adds to one counter (NULL: nothing), for a request that kept the counter pointers after its
 * record pointer expired. */
void auth_counter_add(auth_counter_t *k, double amount);
/* Adds a request's cost to the key, its team, user and team membership (when it has a budget),
 * and the model's budget if it has one. */
void auth_spend_add(const auth_key_t *rec, const char *model, double cost);
/* The store committed `amount` of this instance's increments for (scope, id) to the database:
 * moves it from the counter's delta to its base (what the database holds, until the next put
 * reads the row again). The total stays; a put read after the commit and applied before the
 * settle counts it twice until the next put (refusing, never overspending). For AUTH_SCOPE_KEY
 * the id is the hash's hex, for AUTH_SCOPE_KEY_MODEL "<hex>:<model>". Unknown ids (a model without
 * a budget has no counter) are ignored. */
void auth_spend_settle(auth_cache_t *c, auth_scope_t scope, const char *id, double amount);

/* ---- checks ------------------------------------------------------------------------------------
 */

#define AUTH_MESSAGE_MAX 1024

typedef struct {
    int status;        /* HTTP status: 401, 403, 429 */
    const char *type;  /* LiteLLM's error type: "auth_error", "expired_key", ... */
    const char *param; /* "None" for auth errors (LiteLLM sends the string), "model", or NULL */
    char message[AUTH_MESSAGE_MAX]; /* truncated when longer */
} auth_error_t;

/* An access group: a name a key's models list may hold, standing for these model names. */
typedef struct {
    const char *name;
    const char *const *models;
    size_t n_models;
} auth_access_group_t;

typedef struct {
    const char *model; /* the model the request names; NULL: a route without a model */
    const auth_access_group_t *groups;
    size_t n_groups;
    bool zero_cost; /* the model's input and output costs are both 0: no budget applies */
    int64_t now;    /* Unix seconds */
} auth_request_t;

/* Runs every check in LiteLLM's order (docs/keys.md). 0 when the request may go on, else -1 with
 * *err filled. Pure: reads rec, its counters and req only. */
int auth_check_key(const auth_key_t *rec, const auth_request_t *req, auth_error_t *err);

/* ---- end users (customers) -----------------------------------------------------------------
 * An end user lives in the same cache as the keys, under SHA-256("enduser:" + id): a record whose
 * key_alias is the id, blocked / spend (key_counter) / max_budget / rpm_limit / tpm_limit /
 * max_parallel_requests are the EndUserTable row's and its budget row's. Its hash never equals a
 * key's (different preimages). */

/* The cache hash of an end user. 0, or -1. */
int auth_end_user_hash(const char *id, auth_hash_t *out);
/* Fills *k (strings borrowed) as the record of an end user; max_budget < 0 and AUTH_NO_LIMIT:
 * none. The budget row's max_parallel_requests goes to k->max_parallel_requests. */
void auth_end_user_record(auth_key_t *k, const auth_hash_t *hash, const char *id, bool blocked,
                          double spend, double max_budget, long long rpm, long long tpm,
                          long long max_parallel);
/* LiteLLM's end-user checks: blocked (400 "User blocked from making LLM API Calls. User=<id>",
 * the blocked-user hook /customer/block relies on), then budget (spend > max_budget, as
 * _check_end_user_budget: 429 budget_exceeded "ExceededBudget: End User=<id> over budget.
 * Spend=<x>, Budget=<y>"), skipped for a zero-cost model. 0, or -1 with *err. */
int auth_check_end_user(const auth_key_t *rec, bool zero_cost, auth_error_t *err);

/* The single checks, each 0 or -1 with *err filled, for callers that need one. */
int auth_check_blocked(const auth_key_t *rec, auth_error_t *err);
int auth_check_expired(const auth_key_t *rec, int64_t now, auth_error_t *err);
int auth_check_model_access(const auth_key_t *rec, const auth_request_t *req, auth_error_t *err);
int auth_check_budgets(const auth_key_t *rec, const auth_request_t *req, auth_error_t *err);

/* True when `model` is allowed by the list (empty: all; "*"; glob patterns such as
 * "openai/<any>"; access group names; `aliases` map the requested name to the one checked too). */
bool auth_models_allow(const char *const *models, size_t n_models, const char *model,
                       const auth_alias_t *aliases, size_t n_aliases,
                       const auth_access_group_t *groups, size_t n_groups);

/* ---- budget durations
 * ---------------------------------------------------------------------------- */

typedef enum {
    AUTH_DUR_SECOND,
    AUTH_DUR_MINUTE,
    AUTH_DUR_HOUR,
    AUTH_DUR_DAY,
    AUTH_DUR_MONTH
} auth_dur_unit_t;

typedef struct {
    long long value; /* > 0 */
    auth_dur_unit_t unit;
} auth_duration_t;

/* Parses "Ns", "Nm", "Nh", "Nd", "Nmo" (N a positive integer). 0, or -1 when s is not one. */
int auth_duration_parse(str_t s, auth_duration_t *out);
/* now + the duration (months are calendar months, the day clamped to the month's last day), as
 * LiteLLM's duration_in_seconds: a key's `expires` from /key/generate's `duration`. */
int64_t auth_duration_add(const auth_duration_t *d, int64_t now);
/* The next budget reset after now, UTC, as LiteLLM's standardized reset times: "1d" next midnight,
 * "Nd" midnight N days on, "Nh"/"Nm"/"Ns" the next multiple of N units since midnight (at most
 * the next midnight), "Nmo" midnight on the 1st N months on. */
int64_t auth_budget_next_reset(const auth_duration_t *d, int64_t now);

/* Formats a double as Python's repr does ("0.0", "1e-07", "10000.701821100023"), the way
 * LiteLLM's messages print costs. */
void auth_format_float(double v, char *out, size_t size);

#endif
