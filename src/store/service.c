/* SPDX-License-Identifier: MIT
 * The store thread: one libuv loop that owns the data plane's database connection (SQLite,
 * blocking on this thread only, or PostgreSQL driven without blocking from a uv_poll) and the
 * outage spool. Workers reach it through two lock-free MPSC queues (spend records, key lookups)
 * and a uv_async; answers go into the key cache. Not here: SQL (sqlite.c, pg.c), the spool's file
 * format (spool.c), the cache (auth/keys.c). docs/store.md, "The store thread". */
#include "store/service.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/common.h"
#include "core/log.h"
#include "store/internal.h"

#define BATCH_CAP 2000    /* most records in one transaction: under load, batches grow to it */
#define QUEUE_MAX 50000   /* default queue_max: about 50 MB of records */
#define REPLAY_BEHIND 500 /* spool records replayed per step while new ones keep coming */
#define OVERFLOW_QUIET_MS 10000 /* "caught up" is said once the spool stayed drained this long */
#define CONNECT_TIMEOUT_MS 5000 /* connect + schema + LISTEN */
#define OP_TIMEOUT_MS 30000     /* a PostgreSQL operation that hangs: drop the connection */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define TICK_MS 250             /* data_version poll; every 4th tick reclaims cache memory */
#define RESET_INTERVAL_MS 60000 /* LiteLLM's reset_budget job */
#define KICK_STEPS 32           /* synchronous steps before letting the loop breathe */
#define LOOKUPS_PER_STEP 64     /* SQLite key reads per step */
#define MAX_LOG_FIELDS 64

/* ---- the queues: Vyukov's intrusive MPSC ------------------------------------------------------
 * Producers: one atomic exchange and one store, never a lock, never a syscall. The consumer (this
 * thread) pops without atomics read-modify-write except when the queue runs dry. */

typedef struct mpsc_node {
    _Atomic(struct mpsc_node *) next;
} mpsc_node_t;

typedef struct {
    alignas(64) _Atomic(mpsc_node_t *) head; /* producers swap themselves in here */
    alignas(64) mpsc_node_t *tail;           /* the consumer's end */
    mpsc_node_t stub;
} mpsc_t;

static void mpsc_init(mpsc_t *q)
{
    atomic_init(&q->stub.next, NULL);
    atomic_init(&q->head, &q->stub);
    q->tail = &q->stub;
}

static void mpsc_push(mpsc_t *q, mpsc_node_t *n)
{
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    mpsc_node_t *prev = atomic_exchange_explicit(&q->head, n, memory_order_acq_rel);
    atomic_store_explicit(&prev->next, n, memory_order_release);
}

/* The oldest node, or NULL when empty. A producer between its exchange and its link makes the
 * queue look empty for a moment: with `wait` we spin it out (stop), without we leave the node for
 * the next pop. */
static mpsc_node_t *mpsc_pop(mpsc_t *q, bool wait)
{
    for (;;) {
        mpsc_node_t *tail = q->tail;
        mpsc_node_t *next = atomic_load_explicit(&tail->next, memory_order_acquire);
        if (tail == &q->stub) {
            if (!next) {
                if (atomic_load_explicit(&q->head, memory_order_acquire) == tail || !wait)
                    return NULL;
                sched_yield();
                continue;
            }
            q->tail = next;
            tail = next;
            next = atomic_load_explicit(&tail->next, memory_order_acquire);
        }
        if (next) {
            q->tail = next;
            return tail;
        }
        if (atomic_load_explicit(&q->head, memory_order_acquire) == tail) {
            mpsc_push(q, &q->stub);
            next = atomic_load_explicit(&tail->next, memory_order_acquire);
            if (next) {
                q->tail = next;
                return tail;
            }
        }
        if (!wait)
            return NULL;
        sched_yield();
    }
}

/* A submitted record: the node, the record, then its strings, in one allocation. */
typedef struct {
    mpsc_node_t link;
    store_spend_log_t log;
    char text[];
} rec_node_t;

typedef struct {
    mpsc_node_t link;
    auth_hash_t hash;
    bool end_user; /* an end user's lookup: id holds its user_id */
    char id[];
} lookup_node_t;

/* A lookup waiting for the connection: a key (end_user NULL) or an end user (malloc'd id). */
typedef struct {
    auth_hash_t hash;
    char *end_user;
} want_t;

/* ---- the service ----------------------------------------------------------------------------- */

enum { LINK_DOWN, LINK_CONNECTING, LINK_SETUP, LINK_UP };
enum { OP_IDLE, OP_SETUP, OP_WRITE, OP_REPLAY, OP_LOOKUP, OP_RESET };

struct store_svc {
    /* written by workers */
    mpsc_t records;
    mpsc_t lookups;
    alignas(64) _Atomic long queued; /* records submitted and not yet taken; may run ahead */
    _Atomic uint64_t dropped;        /* submits that found no memory */
    /* written by this thread, read by anyone */
    alignas(64) _Atomic bool connected;
    _Atomic unsigned long long spooled;
    _Atomic uint64_t written;
    _Atomic uint64_t overflowed; /* records spooled while the database was up but behind */
    uint64_t written_at_trim;    /* `written` when the heap was last trimmed */
    _Atomic bool stop_requested;
    uint64_t stop_timeout_ms; /* set before stop_requested */

    /* configuration (owned copies) */
    char *sqlite_path, *pg_conninfo, *spool_path;
    char *end_user_budget_id; /* litellm_settings.max_end_user_budget_id; NULL: none */
    bool is_pg, write_logs;
    uint64_t batch_ms;
    size_t batch_max, chunk, queue_max;
    auth_cache_t *cache;

    /* everything below belongs to the store thread */
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t wake;
    uv_timer_t batch_timer, tick_timer, reset_timer, retry_timer, connect_timer, op_timer,
        stop_timer;
    uv_poll_t *poll; /* PostgreSQL's socket; replaced whenever libpq's socket may have changed */
    int poll_fd;

    store_sqlite_t *db;
    store_pg_t *pg;
    store_spool_t *spool;
    store_spool_t *rejected;        /* "<spool>.rejected": records the database refuses for good */
    unsigned long long ours_from;   /* spool offsets from here on were appended by this process */
    unsigned long long isolate_end; /* replay one record at a time up to here (a data error) */

    int link, op;
    uint64_t backoff_ms;
    bool write_hold; /* a write failed: nothing goes to the database until the retry timer */
    bool spool_hold; /* the spool refused an append: wait for the retry timer */
    bool flush_due, reset_due, stopping, closed;
    bool spooled_last;       /* behind the database: the last step spooled, the next one replays */
    bool overflow_logged;    /* "the database is behind" said; "caught up" not yet */
    uint64_t overflow_since; /* uv_now of the last overflow */
    bool in_kick, kick_again;
    unsigned ticks;
    long long data_version;

    /* the records being written or spooled (taken from the queue, in order) */
    store_spend_log_t *cur_logs;
    rec_node_t **cur_nodes;
    size_t cur_n;
    bool *inserted; /* chunk entries: which logs of the batch were new */
    store_batch_result_t res;
    store_spool_batch_t replay; /* the spool batch being replayed */

    /* key lookups waiting for the connection, oldest first, without duplicates */
    want_t *want;
    size_t want_head, want_n, want_cap;
    want_t lookup; /* the one in flight (PostgreSQL) */
    store_auth_row_t row;
    store_end_user_t eu_row;
    long reset_count;
};

static void kick(store_svc_t *s);
static void pg_watch(store_svc_t *s);

/* The cache's clock: monotonic ms, as the workers' uv loops use. */
static uint64_t cache_now_ms(void)
{
    return uv_hrtime() / 1000000;
}

static uint64_t next_backoff(store_svc_t *s)
{
    uint64_t ms = s->backoff_ms;
    s->backoff_ms = MIN(ms * 2, (uint64_t)BACKOFF_MAX_MS);
    return ms;
}

static void on_retry(uv_timer_t *t);

static void schedule_retry(store_svc_t *s, uint64_t ms)
{
    if (!s->closed)
        uv_timer_start(&s->retry_timer, on_retry, ms, 0);
}

static void note_spool(store_svc_t *s)
{
    atomic_store_explicit(&s->spooled, store_spool_pending(s->spool), memory_order_relaxed);
}

static unsigned long long spool_cursor(const store_svc_t *s)
{
    return store_spool_end(s->spool) - store_spool_pending(s->spool);
}

/* ---- settling the cache's spend counters ------------------------------------------------------
 */

typedef struct {
    auth_scope_t scope;
    const char *id;
    /* AUTH_SCOPE_KEY_MODEL: the model (id is the key's hex); AUTH_SCOPE_TEAM_MEMBER: the user
     * (id is the team); else NULL */
    const char *model;
    double amount;
} settle_t;

static int cmp_settle(const void *pa, const void *pb)
{
    const settle_t *a = pa, *b = pb;
    if (a->scope != b->scope)
        return (int)a->scope - (int)b->scope;
    int c = strcmp(a->id, b->id);
    if (c || !a->model || !b->model)
        return c;
    return strcmp(a->model, b->model);
}

/* Takes what this process spent and the batch just committed off the in-memory deltas: the logs
 * that were new and, for a spool replay, that this process appended (offsets >= ours_from). */
static void settle(store_svc_t *s, const store_spend_log_t *logs, size_t n,
                   const unsigned long long *offsets)
{
    settle_t *v = malloc(6 * n * sizeof *v + 1);
    if (!v)
        return; /* the deltas stay: errors on the side of refusing */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const store_spend_log_t *l = &logs[i];
        if (!s->inserted[i] || l->spend == 0 || (offsets && offsets[i] < s->ours_from))
            continue;
        if (l->api_key && *l->api_key)
            v[k++] = (settle_t){AUTH_SCOPE_KEY, l->api_key, NULL, l->spend};
        if (l->user && *l->user)
            v[k++] = (settle_t){AUTH_SCOPE_USER, l->user, NULL, l->spend};
        if (l->team_id && *l->team_id)
            v[k++] = (settle_t){AUTH_SCOPE_TEAM, l->team_id, NULL, l->spend};
        /* the membership row store_batch_collect adds to */
        if (l->user && *l->user && l->team_id && *l->team_id)
            v[k++] = (settle_t){AUTH_SCOPE_TEAM_MEMBER, l->team_id, l->user, l->spend};
        if (l->end_user && *l->end_user)
            v[k++] = (settle_t){AUTH_SCOPE_END_USER, l->end_user, NULL, l->spend};
        /* what the batch added to model_spend (store_batch_collect), under the same name */
        if (l->api_key && *l->api_key && l->model_group && *l->model_group)
            v[k++] = (settle_t){AUTH_SCOPE_KEY_MODEL, l->api_key, l->model_group, l->spend};
    }
    if (k)
        qsort(v, k, sizeof *v, cmp_settle);
    for (size_t i = 0; i < k;) {
        settle_t sum = v[i++];
        while (i < k && cmp_settle(&sum, &v[i]) == 0)
            sum.amount += v[i++].amount;
        if (sum.scope == AUTH_SCOPE_TEAM_MEMBER) {
            char id[AUTH_MEMBER_ID_MAX];
            auth_member_id(sum.id, sum.model, id);
            auth_spend_settle(s->cache, sum.scope, id, sum.amount);
        } else if (sum.model) {
            char id[512]; /* the counter's id is cut at the same length */
            snprintf(id, sizeof id, "%s:%s", sum.id, sum.model);
            auth_spend_settle(s->cache, sum.scope, id, sum.amount);
        } else {
            auth_spend_settle(s->cache, sum.scope, sum.id, sum.amount);
        }
    }
    free(v);
}

/* ---- key lookups -------------------------------------------------------------------------------
 */

/* The arrays an auth_key_t points to while it is built; freed after auth_cache_put copied it. */
typedef struct {
    const char **models, **team_models, **tags, **cache_controls;
    auth_alias_t *aliases;
    auth_model_budget_t *budgets;
    auth_model_limit_t *model_limits;
    cJSON *aliases_doc, *metadata_doc, *budgets_doc, *model_spend_doc;
} conv_t;

static void conv_free(conv_t *cv)
{
    free(cv->models);
    free(cv->team_models);
    free(cv->tags);
    free(cv->cache_controls);
    free(cv->aliases);
    free(cv->budgets);
    free(cv->model_limits);
    cJSON_Delete(cv->aliases_doc);
    cJSON_Delete(cv->metadata_doc);
    cJSON_Delete(cv->budgets_doc);
    cJSON_Delete(cv->model_spend_doc);
}

static int64_t to_seconds(long long ms)
{
    return ms == STORE_TIME_NULL ? 0 : (int64_t)(ms / 1000);
}

static double to_budget(double v)
{
    return isnan(v) ? -1 : v;
}

static long long to_limit(long long v)
{
    return v == STORE_INT_NULL ? AUTH_NO_LIMIT : v;
}

static const char **list_view(const store_strlist_t *l)
{
    if (!l->n)
        return NULL;
    const char **v = malloc(l->n * sizeof *v);
    if (v)
        for (size_t i = 0; i < l->n; i++)
            v[i] = l->v[i];
    return v;
}

/* A number, or a string holding one (LiteLLM's pydantic takes "0.5" for a float). */
static bool json_number(const cJSON *j, double *out)
{
    if (cJSON_IsNumber(j)) {
        *out = j->valuedouble;
        return true;
    }
    if (cJSON_IsString(j) && *j->valuestring) {
        char *end;
        double v = strtod(j->valuestring, &end);
        if (*end == '\0') {
            *out = v;
            return true;
        }
    }
    return false;
}

/* model_max_budget {"gpt-4o": {"budget_limit": 5, "time_period": "30d"}} (or {"gpt-4o": 5});
 * LiteLLM's BudgetConfig also takes max_budget and budget_duration for the same two fields.
 * The spend comes from model_spend {"gpt-4o": 1.2}. */
static int convert_model_budgets(conv_t *cv, const store_key_t *key, auth_key_t *k)
{
    if (!key->model_max_budget || !(cv->budgets_doc = cJSON_Parse(key->model_max_budget)) ||
        !cJSON_IsObject(cv->budgets_doc))
        return 0;
    int n = cJSON_GetArraySize(cv->budgets_doc);
    if (n <= 0)
        return 0;
    if (!(cv->budgets = calloc((size_t)n, sizeof *cv->budgets)))
        return -1;
    if (key->model_spend)
        cv->model_spend_doc = cJSON_Parse(key->model_spend);
    const cJSON *m;
    cJSON_ArrayForEach(m, cv->budgets_doc)
    {
        double limit;
        const cJSON *period = NULL;
        if (cJSON_IsObject(m)) {
            if (!json_number(cJSON_GetObjectItemCaseSensitive(m, "budget_limit"), &limit) &&
                !json_number(cJSON_GetObjectItemCaseSensitive(m, "max_budget"), &limit))
                continue;
            period = cJSON_GetObjectItemCaseSensitive(m, "time_period");
            if (!cJSON_IsString(period))
                period = cJSON_GetObjectItemCaseSensitive(m, "budget_duration");
        } else if (!json_number(m, &limit)) {
            continue;
        }
        auth_model_budget_t *b = &cv->budgets[k->n_model_budgets++];
        b->model = m->string;
        b->max_budget = limit;
        b->time_period = cJSON_IsString(period) ? period->valuestring : NULL;
        double spent = 0;
        if (cJSON_IsObject(cv->model_spend_doc))
            json_number(cJSON_GetObjectItemCaseSensitive(cv->model_spend_doc, m->string), &spent);
        b->spend = spent;
    }
    k->model_budgets = cv->budgets;
    return 0;
}

/* Where a key's per-model rpm (or tpm) limits come from: a map model -> limit, or, with
 * `field`, model_max_budget's map model -> {field: limit}. */
typedef struct {
    const cJSON *map;
    const char *field; /* NULL: the map's values are the limits */
} limit_src_t;

/* A limit of `model` in src, AUTH_NO_LIMIT when absent or not a number. */
static long long model_limit_of(limit_src_t src, const char *model)
{
    double v;
    const cJSON *e =
        cJSON_IsObject(src.map) ? cJSON_GetObjectItemCaseSensitive(src.map, model) : NULL;
    if (src.field)
        e = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, src.field) : NULL;
    if (!json_number(e, &v) || v < 0 || v > 1e15)
        return AUTH_NO_LIMIT;
    return (long long)v;
}

/* LiteLLM's get_key_model_rpm_limit (and _tpm_): the key's metadata "model_rpm_limit" map when
 * it has entries, else the "rpm_limit" of its model_max_budget entries. */
static limit_src_t model_limit_source(const conv_t *cv, const char *meta_key, const char *field)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(cv->metadata_doc, meta_key);
    if (cJSON_IsObject(meta) && meta->child)
        return (limit_src_t){meta, NULL};
    const cJSON *m, *budgets = cJSON_IsObject(cv->budgets_doc) ? cv->budgets_doc : NULL;
    cJSON_ArrayForEach(m, budgets)
    {
        limit_src_t src = {cv->budgets_doc, field};
        if (model_limit_of(src, m->string) != AUTH_NO_LIMIT)
            return src;
    }
    return (limit_src_t){NULL, NULL};
}

/* One entry per model with an rpm or tpm limit (the model_per_key descriptor): metadata
 * {"model_rpm_limit": {"gpt-4o": 10}, "model_tpm_limit": {...}}, or model_max_budget
 * {"gpt-4o": {"budget_limit": 5, "rpm_limit": 10, "tpm_limit": 1000}}. */
static int convert_model_limits(conv_t *cv, auth_key_t *k)
{
    limit_src_t srcs[2] = {model_limit_source(cv, "model_rpm_limit", "rpm_limit"),
                           model_limit_source(cv, "model_tpm_limit", "tpm_limit")};
    int n = 0;
    for (int s = 0; s < 2; s++)
        n += cJSON_IsObject(srcs[s].map) ? cJSON_GetArraySize(srcs[s].map) : 0;
    if (n <= 0)
        return 0;
    if (!(cv->model_limits = calloc((size_t)n, sizeof *cv->model_limits)))
        return -1;
    for (int s = 0; s < 2; s++) {
        const cJSON *e, *map = cJSON_IsObject(srcs[s].map) ? srcs[s].map : NULL;
        cJSON_ArrayForEach(e, map)
        {
            bool seen = false;
            for (size_t i = 0; i < k->n_model_limits && !seen; i++)
                seen = strcmp(cv->model_limits[i].model, e->string) == 0;
            long long rpm = model_limit_of(srcs[0], e->string),
                      tpm = model_limit_of(srcs[1], e->string);
            if (seen || (rpm == AUTH_NO_LIMIT && tpm == AUTH_NO_LIMIT))
                continue;
            cv->model_limits[k->n_model_limits++] = (auth_model_limit_t){e->string, rpm, tpm};
        }
    }
    k->model_limits = cv->model_limits;
    return 0;
}

/* Builds the cache's record from the rows. Pointers go into row and cv. 0, or -1 on no memory. */
static int convert_key(const auth_hash_t *hash, const store_auth_row_t *row, auth_key_t *k,
                       conv_t *cv)
{
    const store_key_t *key = &row->key;
    memset(k, 0, sizeof *k);
    memset(cv, 0, sizeof *cv);
    k->hash = *hash;
    k->key_name = key->key_name;
    k->key_alias = key->key_alias;
    k->user_id = key->user_id;
    k->team_id = key->team_id;
    k->org_id = key->organization_id;
    if (key->models.n && !(cv->models = list_view(&key->models)))
        return -1;
    k->models = cv->models;
    k->n_models = key->models.n;
    if (key->allowed_cache_controls.n &&
        !(cv->cache_controls = list_view(&key->allowed_cache_controls)))
        return -1;
    k->allowed_cache_controls = cv->cache_controls;
    k->n_allowed_cache_controls = key->allowed_cache_controls.n;

    if (key->aliases && (cv->aliases_doc = cJSON_Parse(key->aliases)) &&
        cJSON_IsObject(cv->aliases_doc)) {
        int n = cJSON_GetArraySize(cv->aliases_doc);
        if (n > 0 && !(cv->aliases = calloc((size_t)n, sizeof *cv->aliases)))
            return -1;
        const cJSON *a;
        cJSON_ArrayForEach(a, cv->aliases_doc)
        {
            if (cJSON_IsString(a))
                cv->aliases[k->n_aliases++] = (auth_alias_t){a->string, a->valuestring};
        }
        k->aliases = cv->aliases;
    }

    k->metadata_json = key->metadata;
    if (key->metadata && (cv->metadata_doc = cJSON_Parse(key->metadata))) {
        const cJSON *tags = cJSON_GetObjectItemCaseSensitive(cv->metadata_doc, "tags");
        int n = cJSON_IsArray(tags) ? cJSON_GetArraySize(tags) : 0;
        if (n > 0) {
            if (!(cv->tags = calloc((size_t)n, sizeof *cv->tags)))
                return -1;
            const cJSON *t;
            cJSON_ArrayForEach(t, tags)
            {
                if (cJSON_IsString(t))
                    cv->tags[k->n_tags++] = t->valuestring;
            }
        }
        k->tags = cv->tags;
    }

    k->blocked = key->blocked == 1;
    k->expires = to_seconds(key->expires);
    k->spend = key->spend;
    k->max_budget = to_budget(key->max_budget);
    k->budget_duration = key->budget_duration;
    k->budget_reset_at = to_seconds(key->budget_reset_at);

    k->team_max_budget = -1;
    k->team_limits = k->user_limits = k->member_limits =
        (auth_limits_t){AUTH_NO_LIMIT, AUTH_NO_LIMIT, AUTH_NO_LIMIT};
    if (key->team_id && row->has_team) {
        const store_team_t *t = &row->team;
        k->team_blocked = t->blocked;
        if (t->models.n && !(cv->team_models = list_view(&t->models)))
            return -1;
        k->team_models = cv->team_models;
        k->n_team_models = t->models.n;
        k->team_spend = t->spend;
        k->team_max_budget = to_budget(t->max_budget);
        k->team_budget_reset_at = to_seconds(t->budget_reset_at);
        k->team_limits = (auth_limits_t){to_limit(t->rpm_limit), to_limit(t->tpm_limit),
                                         to_limit(t->max_parallel_requests)};
    }
    k->user_max_budget = -1;
    if (key->user_id && row->has_user) {
        k->user_spend = row->user.spend;
        k->user_max_budget = to_budget(row->user.max_budget);
        k->user_budget_reset_at = to_seconds(row->user.budget_reset_at);
        k->user_limits =
            (auth_limits_t){to_limit(row->user.rpm_limit), to_limit(row->user.tpm_limit),
                            to_limit(row->user.max_parallel_requests)};
    }
    if (row->has_member) {
        k->member_limits =
            (auth_limits_t){to_limit(row->member.rpm_limit), to_limit(row->member.tpm_limit),
                            to_limit(row->member.max_parallel_requests)};
        /* a budget row without a max_budget limits rates only, as LiteLLM skips the check */
        k->has_member_budget = !isnan(row->member.max_budget);
        k->member_spend = row->member.spend;
        k->member_max_budget = row->member.max_budget;
    }
    if (convert_model_budgets(cv, key, k) < 0 || convert_model_limits(cv, k) < 0)
        return -1;
    k->rpm_limit = to_limit(key->rpm_limit);
    k->tpm_limit = to_limit(key->tpm_limit);
    k->max_parallel_requests = to_limit(key->max_parallel_requests);
    return 0;
}

/* Puts the store's answer into the cache: the key, "no such key", or nothing on an error. */
static void answer_lookup(store_svc_t *s, const auth_hash_t *hash, int rc,
                          const store_auth_row_t *row, const char *err)
{
    if (rc < 0) {
        log_warn("store: key lookup failed: %s", err ? err : "");
        return;
    }
    if (rc == 1) {
        auth_cache_put_missing(s->cache, hash, cache_now_ms());
        return;
    }
    auth_key_t k;
    conv_t cv;
    if (convert_key(hash, row, &k, &cv) < 0 || auth_cache_put(s->cache, &k, cache_now_ms()) < 0)
        log_error("store: key lookup: out of memory");
    conv_free(&cv);
}

/* An end user's answer: its row as a record under its hash (auth_end_user_record), or "no such
 * end user" (then the data plane checks nothing, as LiteLLM). */
static void answer_end_user(store_svc_t *s, const auth_hash_t *hash, const char *id, int rc,
                            const store_end_user_t *row, const char *err)
{
    if (rc < 0) {
        log_warn("store: end user lookup failed: %s", err ? err : "");
        return;
    }
    if (rc == 1) {
        auth_cache_put_missing(s->cache, hash, cache_now_ms());
        return;
    }
    auth_key_t k;
    auth_end_user_record(&k, hash, id, row->blocked, row->spend, to_budget(row->max_budget),
                         to_limit(row->rpm_limit), to_limit(row->tpm_limit),
                         to_limit(row->max_parallel_requests));
    if (auth_cache_put(s->cache, &k, cache_now_ms()) < 0)
        log_error("store: end user lookup: out of memory");
}

static bool want_has(const store_svc_t *s, const auth_hash_t *h)
{
    for (size_t i = s->want_head; i < s->want_n; i++)
        if (memcmp(s->want[i].hash.b, h->b, AUTH_HASH_LEN) == 0)
            return true;
    return s->op == OP_LOOKUP && memcmp(s->lookup.hash.b, h->b, AUTH_HASH_LEN) == 0;
}

/* Moves the queued lookups to the want list, dropping the ones already asked. */
static void take_lookups(store_svc_t *s)
{
    mpsc_node_t *n;
    while ((n = mpsc_pop(&s->lookups, false))) {
        lookup_node_t *l = CONTAINER_OF(n, lookup_node_t, link);
        if (!want_has(s, &l->hash)) {
            if (s->want_head && s->want_head == s->want_n)
                s->want_head = s->want_n = 0;
            if (s->want_n == s->want_cap) {
                size_t cap = s->want_cap ? 2 * s->want_cap : 16;
                want_t *w = realloc(s->want, cap * sizeof *w);
                if (!w) {
                    free(l);
                    continue; /* the cache's pending timeout asks again */
                }
                s->want = w;
                s->want_cap = cap;
            }
            char *id = l->end_user ? strdup(l->id) : NULL;
            if (l->end_user && !id) {
                free(l);
                continue;
            }
            s->want[s->want_n++] = (want_t){l->hash, id};
        }
        free(l);
    }
}

static void drop_lookups(store_svc_t *s)
{
    for (size_t i = s->want_head; i < s->want_n; i++)
        free(s->want[i].end_user);
    s->want_head = s->want_n = 0;
}

static void on_pg_lookup(store_pg_t *pg, void *arg, int rc, const char *err)
{
    store_svc_t *s = arg;
    uv_timer_stop(&s->op_timer);
    s->op = OP_IDLE;
    if (s->lookup.end_user)
        answer_end_user(s, &s->lookup.hash, s->lookup.end_user, rc, &s->eu_row, err);
    else
        answer_lookup(s, &s->lookup.hash, rc, &s->row, err);
    store_auth_row_free(&s->row);
    store_end_user_free(&s->eu_row);
    free(s->lookup.end_user);
    s->lookup.end_user = NULL;
    kick(s);
}

static void on_op_timeout(uv_timer_t *t);

static void arm_op_timer(store_svc_t *s)
{
    uv_timer_start(&s->op_timer, on_op_timeout, OP_TIMEOUT_MS, 0);
}

/* Answers the oldest lookups: SQLite a few at once, PostgreSQL one operation. */
static bool serve_lookups(store_svc_t *s)
{
    char hex[2 * AUTH_HASH_LEN + 1];
    if (!s->is_pg) {
        for (int i = 0; i < LOOKUPS_PER_STEP && s->want_head < s->want_n; i++) {
            want_t *wt = &s->want[s->want_head++];
            const auth_hash_t *h = &wt->hash;
            if (wt->end_user) {
                store_end_user_t eu;
                int rc = store_sqlite_end_user_get(s->db, wt->end_user, s->end_user_budget_id, &eu);
                answer_end_user(s, h, wt->end_user, rc, &eu, store_sqlite_errmsg(s->db));
                store_end_user_free(&eu);
                free(wt->end_user);
                wt->end_user = NULL;
                continue;
            }
            auth_hash_hex(h, hex);
            store_auth_row_t row;
            int rc = store_sqlite_auth_get(s->db, hex, &row);
            answer_lookup(s, h, rc, &row, store_sqlite_errmsg(s->db));
            store_auth_row_free(&row);
        }
        return true;
    }
    s->lookup = s->want[s->want_head++];
    auth_hash_hex(&s->lookup.hash, hex);
    s->op = OP_LOOKUP;
    int sent = s->lookup.end_user
                   ? store_pg_end_user_get(s->pg, s->lookup.end_user, s->end_user_budget_id,
                                           &s->eu_row, on_pg_lookup, s)
                   : store_pg_auth_get(s->pg, hex, &s->row, on_pg_lookup, s);
    if (sent < 0) {
        s->op = OP_IDLE;
        log_warn("store: key lookup not sent: %s", store_pg_errmsg(s->pg));
        store_auth_row_free(&s->row);
        store_end_user_free(&s->eu_row);
        free(s->lookup.end_user);
        s->lookup.end_user = NULL;
    } else if (s->op == OP_LOOKUP) {
        arm_op_timer(s);
    }
    return true;
}

/* ---- notifications and polling ----------------------------------------------------------------
 */

static void on_notify(store_pg_t *pg, void *arg, const char *channel, const char *payload)
{
    store_svc_t *s = arg;
    if (strcmp(channel, STORE_KEY_CHANNEL) != 0)
        return;
    if (strcmp(payload, "*") == 0) {
        auth_cache_expire_all(s->cache);
        return;
    }
    auth_hash_t h;
    if (auth_hash_from_hex(str_cstr(payload), &h) == 0)
        auth_cache_invalidate(s->cache, &h);
    else
        log_warn("store: %s: ignoring payload '%.80s' (neither a token hash nor '*')",
                 STORE_KEY_CHANNEL, payload);
}

static void check_data_version(store_svc_t *s)
{
    long long v = store_sqlite_data_version(s->db);
    if (v < 0)
        return;
    if (s->data_version >= 0 && v != s->data_version)
        auth_cache_expire_all(s->cache); /* another connection committed: anything may differ */
    s->data_version = v;
}

/* ---- budget resets ----------------------------------------------------------------------------
 */

static long long next_reset(const char *duration, long long now_ms)
{
    auth_duration_t d;
    if (!duration || auth_duration_parse(str_cstr(duration), &d) < 0)
        return STORE_TIME_NULL;
    return (long long)auth_budget_next_reset(&d, (int64_t)(now_ms / 1000)) * 1000;
}

static void reset_done(store_svc_t *s, long n, const char *err)
{
    if (n < 0)
        log_warn("store: budget reset failed: %s", err ? err : "");
    else if (n > 0)
        auth_cache_expire_all(s->cache); /* spend and windows changed under cached keys */
}

static void on_pg_reset(store_pg_t *pg, void *arg, int rc, const char *err)
{
    store_svc_t *s = arg;
    uv_timer_stop(&s->op_timer);
    s->op = OP_IDLE;
    reset_done(s, rc < 0 ? -1 : s->reset_count, err);
    kick(s);
}

static bool run_reset(store_svc_t *s)
{
    s->reset_due = false;
    long long now = store_now_ms();
    if (!s->is_pg) {
        int n = store_sqlite_reset_budgets(s->db, now, next_reset);
        reset_done(s, n, store_sqlite_errmsg(s->db));
        return true;
    }
    s->reset_count = 0;
    s->op = OP_RESET;
    if (store_pg_reset_budgets(s->pg, now, next_reset, &s->reset_count, on_pg_reset, s) < 0) {
        s->op = OP_IDLE;
        reset_done(s, -1, store_pg_errmsg(s->pg));
    } else if (s->op == OP_RESET) {
        arm_op_timer(s);
    }
    return true;
}

/* ---- records: queue, spool, database ----------------------------------------------------------
 */

static void free_cur(store_svc_t *s)
{
    for (size_t i = 0; i < s->cur_n; i++)
        free(s->cur_nodes[i]);
    s->cur_n = 0;
}

/* Takes up to a chunk of records off the queue, unless a batch is still unplaced. */
static size_t collect(store_svc_t *s)
{
    while (s->cur_n < s->chunk) {
        mpsc_node_t *n = mpsc_pop(&s->records, s->stopping);
        if (!n)
            break;
        rec_node_t *r = CONTAINER_OF(n, rec_node_t, link);
        atomic_fetch_sub_explicit(&s->queued, 1, memory_order_relaxed);
        s->cur_nodes[s->cur_n] = r;
        s->cur_logs[s->cur_n] = r->log;
        s->cur_n++;
    }
    if (!s->cur_n)
        s->flush_due = false;
    return s->cur_n;
}

static bool records_ready(store_svc_t *s)
{
    long q = atomic_load_explicit(&s->queued, memory_order_relaxed);
    return s->cur_n > 0 || s->stopping || (q > 0 && (s->flush_due || (size_t)q >= s->batch_max));
}

/* Appends the current records to the spool. 0, or -1 (they stay, and the spool is retried). */
static int spool_cur(store_svc_t *s)
{
    if (store_spool_append(s->spool, s->cur_logs, s->cur_n) < 0) {
        int e = errno;
        if (s->stopping) {
            log_alert("store: the spool %s refuses records (%s) and the service stops: %zu "
                      "spend record(s) are lost",
                      s->spool_path, strerror(e), s->cur_n);
            free_cur(s);
            return -1;
        }
        log_alert("store: cannot append %zu spend record(s) to the spool %s: %s; holding them "
                  "in memory",
                  s->cur_n, s->spool_path, strerror(e));
        s->spool_hold = true;
        schedule_retry(s, next_backoff(s));
        return -1;
    }
    free_cur(s);
    note_spool(s);
    return 0;
}

/* After a failed write: the connection is gone (reconnect) or it refused (hold, then retry). */
static void link_down(store_svc_t *s);

static void failure_hold(store_svc_t *s, bool data_error)
{
    atomic_store(&s->connected, false);
    if (s->is_pg && store_pg_state(s->pg) == STORE_PG_BROKEN) {
        link_down(s);
        return;
    }
    s->write_hold = true;
    /* a data error is no reason to wait: the replay isolates the record at once */
    schedule_retry(s, data_error ? 0 : next_backoff(s));
}

static void write_done(store_svc_t *s, int rc, const char *err, bool data_error)
{
    s->op = OP_IDLE;
    if (rc == 0) {
        settle(s, s->cur_logs, s->cur_n, NULL);
        atomic_fetch_add(&s->written, s->cur_n);
        atomic_store(&s->connected, true);
        s->backoff_ms = BACKOFF_MIN_MS;
        free_cur(s);
        return;
    }
    log_warn("store: a batch of %zu spend record(s) failed (%s); spooling it", s->cur_n,
             err && *err ? err : "unknown error");
    spool_cur(s);
    failure_hold(s, data_error);
}

static void on_pg_write(store_pg_t *pg, void *arg, int rc, const char *err)
{
    store_svc_t *s = arg;
    uv_timer_stop(&s->op_timer);
    write_done(s, rc, err, rc < 0 && store_pg_error_is_data(pg));
    kick(s);
}

static bool write_cur(store_svc_t *s)
{
    if (!s->is_pg) {
        int rc = store_sqlite_write_batch(s->db, s->cur_logs, s->cur_n, s->write_logs, &s->res,
                                          s->inserted);
        write_done(s, rc, store_sqlite_errmsg(s->db), rc < 0 && store_sqlite_error_is_data(s->db));
        return true;
    }
    s->op = OP_WRITE;
    if (store_pg_write_batch(s->pg, s->cur_logs, s->cur_n, s->write_logs, &s->res, s->inserted,
                             on_pg_write, s) < 0)
        write_done(s, -1, store_pg_errmsg(s->pg), false);
    else if (s->op == OP_WRITE)
        arm_op_timer(s);
    return true;
}

/* ---- spool replay -----------------------------------------------------------------------------
 */

/* A record the database refuses for what it holds: kept aside in "<spool>.rejected" (same
 * format) so the spool can move on. 0, or -1 (nothing moved). */
static int reject_record(store_svc_t *s, const char *err)
{
    if (!s->rejected) {
        size_t n = strlen(s->spool_path);
        char *path = malloc(n + sizeof ".rejected");
        if (path) {
            memcpy(path, s->spool_path, n);
            memcpy(path + n, ".rejected", sizeof ".rejected");
            s->rejected = store_spool_open(path);
            free(path);
        }
        if (!s->rejected)
            return -1;
    }
    if (store_spool_append(s->rejected, s->replay.logs, 1) < 0)
        return -1;
    log_alert("store: the database refuses spend record %s (%s); moved to %s.rejected",
              s->replay.logs[0].request_id ? s->replay.logs[0].request_id : "(no request_id)",
              err && *err ? err : "unknown error", s->spool_path);
    return store_spool_commit(s->spool, &s->replay);
}

static void spool_drained(store_svc_t *s)
{
    if (store_spool_pending(s->spool) != 0)
        return;
    if (store_spool_truncate(s->spool) < 0) {
        log_error("store: cannot truncate the spool %s: %s", s->spool_path, strerror(errno));
        return;
    }
    s->ours_from = 0; /* every record from now on is this process's */
    s->isolate_end = 0;
    if (!s->overflow_logged) /* falling behind is said once per episode (on_tick), not per drain */
        log_info("store: the spool is replayed; writing to the database again");
}

static void replay_done(store_svc_t *s, int rc, const char *err, bool data_error)
{
    s->op = OP_IDLE;
    if (rc == 0) {
        settle(s, s->replay.logs, s->replay.n, s->replay.offsets);
        atomic_fetch_add(&s->written, s->replay.n);
        atomic_store(&s->connected, true);
        s->backoff_ms = BACKOFF_MIN_MS;
        if (store_spool_commit(s->spool, &s->replay) < 0) {
            /* committed but the cursor did not move: the batch comes again, as duplicates */
            store_spool_batch_free(&s->replay);
            failure_hold(s, false);
            return;
        }
        store_spool_batch_free(&s->replay);
        note_spool(s);
        spool_drained(s);
        return;
    }
    if (data_error && s->replay.n > 1) {
        /* one of them is bad: go through this stretch one record at a time */
        s->isolate_end = s->replay.next;
        store_spool_batch_free(&s->replay);
        return;
    }
    if (data_error && reject_record(s, err) == 0) {
        store_spool_batch_free(&s->replay);
        note_spool(s);
        spool_drained(s);
        return;
    }
    log_warn("store: spool replay failed (%s); retrying", err && *err ? err : "unknown error");
    store_spool_batch_free(&s->replay);
    failure_hold(s, false);
}

static void on_pg_replay(store_pg_t *pg, void *arg, int rc, const char *err)
{
    store_svc_t *s = arg;
    uv_timer_stop(&s->op_timer);
    replay_done(s, rc, err, rc < 0 && store_pg_error_is_data(pg));
    kick(s);
}

static bool replay_next(store_svc_t *s)
{
    /* with new records waiting (behind the traffic), smaller chunks: the records queued while one
     * is written are what memory holds */
    size_t max = s->isolate_end > spool_cursor(s)                             ? 1
                 : atomic_load_explicit(&s->queued, memory_order_relaxed) > 0 ? REPLAY_BEHIND
                                                                              : s->chunk;
    if (store_spool_peek(s->spool, max, &s->replay) < 0) {
        log_alert("store: cannot read the spool %s: %s", s->spool_path, strerror(errno));
        failure_hold(s, false);
        return true;
    }
    if (s->replay.n == 0) { /* nothing usable: step over what was skipped */
        if (store_spool_commit(s->spool, &s->replay) < 0)
            failure_hold(s, false);
        store_spool_batch_free(&s->replay);
        note_spool(s);
        spool_drained(s);
        return true;
    }
    if (!s->is_pg) {
        int rc = store_sqlite_write_batch(s->db, s->replay.logs, s->replay.n, s->write_logs,
                                          &s->res, s->inserted);
        replay_done(s, rc, store_sqlite_errmsg(s->db), rc < 0 && store_sqlite_error_is_data(s->db));
        return true;
    }
    s->op = OP_REPLAY;
    if (store_pg_write_batch(s->pg, s->replay.logs, s->replay.n, s->write_logs, &s->res,
                             s->inserted, on_pg_replay, s) < 0)
        replay_done(s, -1, store_pg_errmsg(s->pg), false);
    else if (s->op == OP_REPLAY)
        arm_op_timer(s);
    return true;
}

/* ---- the scheduler ----------------------------------------------------------------------------
 */

/* A connection can die while idle (the server restarts): libpq notices inside on_readable, with no
 * operation to call back. */
static void check_broken(store_svc_t *s)
{
    if (s->is_pg && s->pg && s->link == LINK_UP && s->op == OP_IDLE &&
        store_pg_state(s->pg) == STORE_PG_BROKEN) {
        log_warn("store: lost the PostgreSQL connection: %s", store_pg_errmsg(s->pg));
        link_down(s);
    }
}

/* Starts the next piece of work. true when something was done or started (call again while the
 * connection is idle), false when there is nothing to do now. */
static bool step(store_svc_t *s)
{
    check_broken(s);
    take_lookups(s);
    if (s->stopping || s->link == LINK_DOWN)
        drop_lookups(s); /* nothing is put: the cache's pending timeout asks again */
    bool up = s->link == LINK_UP;
    if (up && s->want_head < s->want_n)
        return serve_lookups(s);
    if (up && s->reset_due && !s->stopping)
        return run_reset(s);
    bool can_replay = up && !s->write_hold && !s->stopping;
    /* the database is slower than the traffic: what does not fit in memory goes through the
     * spool, which keeps the order, and is written as the database catches up */
    long queued = atomic_load_explicit(&s->queued, memory_order_relaxed);
    bool overflow = can_replay && queued > 0 && (size_t)queued > s->queue_max;
    bool behind = s->write_hold || !up || store_spool_pending(s->spool) > 0 || overflow;
    if (overflow) {
        s->overflow_since = uv_now(&s->loop);
        if (!s->overflow_logged) {
            s->overflow_logged = true;
            log_warn("store: the database is behind the traffic (%ld spend records waiting): "
                     "records go through the spool %s and are written as it catches up",
                     queued, s->spool_path);
        }
    }
    if (records_ready(s) && collect(s) > 0) {
        if (!behind)
            return write_cur(s);
        if (can_replay && s->spooled_last && store_spool_pending(s->spool) > 0) {
            /* every other step feeds the database, or new records would starve the replay */
            s->spooled_last = false;
            return replay_next(s);
        }
        size_t n = s->cur_n;
        if (!s->spool_hold && spool_cur(s) == 0) {
            s->spooled_last = true;
            if (can_replay)
                atomic_fetch_add_explicit(&s->overflowed, n, memory_order_relaxed);
            return true;
        }
        if (s->stopping)
            return true; /* spool_cur gave them up */
    }
    if (up && !s->write_hold && !s->stopping && store_spool_pending(s->spool) > 0)
        return replay_next(s);
    return false;
}

static void shutdown_thread(store_svc_t *s);

static void kick(store_svc_t *s)
{
    if (s->closed)
        return;
    if (s->in_kick) {
        s->kick_again = true;
        return;
    }
    s->in_kick = true;
    int steps = 0;
    bool more = false;
    do {
        s->kick_again = false;
        while (s->op == OP_IDLE && !s->closed) {
            if (++steps > KICK_STEPS) {
                more = true; /* let timers and stop requests in, then go on */
                break;
            }
            if (!step(s))
                break;
        }
    } while (s->kick_again && !more);
    s->in_kick = false;
    if (more)
        uv_async_send(&s->wake);
    else if (s->stopping && s->op == OP_IDLE && s->cur_n == 0)
        shutdown_thread(s);
    if (!s->closed && s->is_pg)
        pg_watch(s);
}

/* ---- the connection ---------------------------------------------------------------------------
 */

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void poll_close(store_svc_t *s)
{
    if (!s->poll)
        return;
    uv_close((uv_handle_t *)s->poll, free_handle);
    s->poll = NULL;
    s->poll_fd = -1;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    store_svc_t *s = h->data;
    if (!s->pg || h != s->poll)
        return;
    /* callbacks run from inside these calls; their kicks wait for the end */
    s->in_kick = true;
    if (status < 0 || (events & (UV_READABLE | UV_DISCONNECT)))
        store_pg_on_readable(s->pg);
    if ((events & UV_WRITABLE) && store_pg_state(s->pg) != STORE_PG_BROKEN)
        store_pg_on_writable(s->pg);
    s->in_kick = false;
    kick(s);
}

/* Watches libpq's socket for what it wants now. Re-registered from scratch every time: libpq may
 * have closed its socket and opened another under the same number (the next address), and an
 * epoll registration does not survive that. */
static void pg_watch(store_svc_t *s)
{
    if (!s->pg) {
        poll_close(s);
        return;
    }
    check_broken(s);
    int fd = store_pg_fd(s->pg), ev = store_pg_events(s->pg);
    if (fd < 0 || !ev) {
        poll_close(s);
        return;
    }
    if (s->poll && s->poll_fd != fd)
        poll_close(s);
    if (!s->poll) {
        uv_poll_t *p = malloc(sizeof *p);
        if (!p || uv_poll_init_socket(&s->loop, p, fd) != 0) {
            free(p);
            log_error("store: cannot watch the PostgreSQL socket");
            return; /* the connect or operation timer gives the connection up */
        }
        p->data = s;
        s->poll = p;
        s->poll_fd = fd;
    } else {
        uv_poll_stop(s->poll);
    }
    uv_poll_start(s->poll,
                  (ev & STORE_PG_READABLE ? UV_READABLE : 0) |
                      (ev & STORE_PG_WRITABLE ? UV_WRITABLE : 0),
                  on_poll);
}

static void link_down(store_svc_t *s)
{
    if (s->link != LINK_DOWN && s->link != LINK_CONNECTING)
        log_warn("store: database unavailable; spend records go to the spool %s", s->spool_path);
    s->link = LINK_DOWN;
    atomic_store(&s->connected, false);
    drop_lookups(s);
    uv_timer_stop(&s->connect_timer);
    uv_timer_stop(&s->op_timer);
    if (!s->stopping)
        schedule_retry(s, next_backoff(s));
}

/* Gives the connection up from a timer (never from a libpq callback): the operation in flight is
 * dropped without its callback. Records being written stay in cur and go to the spool. */
static void abandon_pg(store_svc_t *s)
{
    if (s->op == OP_REPLAY)
        store_spool_batch_free(&s->replay); /* still in the spool: replayed later */
    if (s->op == OP_LOOKUP) {
        store_auth_row_free(&s->row);
        store_end_user_free(&s->eu_row);
        free(s->lookup.end_user);
        s->lookup.end_user = NULL;
    }
    s->op = OP_IDLE;
    poll_close(s);
    store_pg_free(s->pg);
    s->pg = NULL;
}

static void on_pg_listen(store_pg_t *pg, void *arg, int rc, const char *err)
{
    store_svc_t *s = arg;
    s->op = OP_IDLE;
    if (rc < 0) {
        log_warn("store: LISTEN %s failed: %s", STORE_KEY_CHANNEL, err ? err : "");
        link_down(s);
        kick(s);
        return;
    }
    uv_timer_stop(&s->connect_timer);
    s->link = LINK_UP;
    s->backoff_ms = BACKOFF_MIN_MS;
    atomic_store(&s->connected, true);
    /* notifications sent while we were away are lost: whatever is cached may be stale */
    auth_cache_expire_all(s->cache);
    s->reset_due = true;
    log_info("store: connected to PostgreSQL");
    kick(s);
}

static void on_pg_schema(store_pg_t *pg, void *arg, int rc, const char *err)
{
    store_svc_t *s = arg;
    if (rc < 0) {
        s->op = OP_IDLE;
        log_warn("store: PostgreSQL schema check failed: %s", err ? err : "");
        link_down(s);
        kick(s);
        return;
    }
    if (store_pg_listen(pg, STORE_KEY_CHANNEL, on_pg_listen, s) < 0)
        on_pg_listen(pg, s, -1, store_pg_errmsg(pg));
}

static void on_pg_connected(store_pg_t *pg, void *arg, int rc, const char *err)
{
    store_svc_t *s = arg;
    if (rc < 0) {
        s->op = OP_IDLE;
        log_warn("store: cannot connect to PostgreSQL: %s", err ? err : "");
        link_down(s);
        kick(s);
        return;
    }
    s->link = LINK_SETUP;
    if (store_pg_ensure_schema(pg, on_pg_schema, s) < 0)
        on_pg_schema(pg, s, -1, store_pg_errmsg(pg));
}

static void on_connect_timeout(uv_timer_t *t)
{
    store_svc_t *s = t->data;
    if (s->link != LINK_CONNECTING && s->link != LINK_SETUP)
        return;
    log_warn("store: PostgreSQL did not answer within %d ms", CONNECT_TIMEOUT_MS);
    abandon_pg(s);
    link_down(s);
    kick(s);
}

static void on_op_timeout(uv_timer_t *t)
{
    store_svc_t *s = t->data;
    if (s->op == OP_IDLE || !s->pg)
        return;
    log_warn("store: a PostgreSQL operation took over %d ms; dropping the connection",
             OP_TIMEOUT_MS);
    abandon_pg(s);
    link_down(s);
    kick(s);
}

static void pg_connect(store_svc_t *s)
{
    poll_close(s); /* the old socket goes away inside store_pg_connect */
    if (!s->pg && !(s->pg = store_pg_new())) {
        link_down(s);
        return;
    }
    store_pg_set_notify(s->pg, on_notify, s);
    s->link = LINK_CONNECTING;
    s->op = OP_SETUP; /* connect, schema and LISTEN run before anything else */
    if (store_pg_connect(s->pg, s->pg_conninfo, on_pg_connected, s) < 0) {
        s->op = OP_IDLE;
        log_error("store: cannot connect to PostgreSQL: %s", store_pg_errmsg(s->pg));
        link_down(s);
        return;
    }
    uv_timer_start(&s->connect_timer, on_connect_timeout, CONNECT_TIMEOUT_MS, 0);
}

static void sqlite_open(store_svc_t *s)
{
    char *err = NULL;
    s->db = store_sqlite_open(s->sqlite_path, &err);
    if (!s->db) {
        log_error("store: cannot open %s", err ? err : s->sqlite_path);
        free(err);
        link_down(s);
        return;
    }
    s->link = LINK_UP;
    s->data_version = store_sqlite_data_version(s->db);
    atomic_store(&s->connected, true);
    s->reset_due = true;
}

/* ---- timers and the wake-up --------------------------------------------------------------------
 */

static void on_retry(uv_timer_t *t)
{
    store_svc_t *s = t->data;
    s->write_hold = false;
    s->spool_hold = false;
    if (s->link == LINK_DOWN && !s->stopping) {
        if (s->is_pg)
            pg_connect(s);
        else
            sqlite_open(s);
    }
    kick(s);
}

static void on_batch_timer(uv_timer_t *t)
{
    store_svc_t *s = t->data;
    if (atomic_load_explicit(&s->queued, memory_order_relaxed) > 0 || s->cur_n)
        s->flush_due = true;
    kick(s);
}

static void on_reset_timer(uv_timer_t *t)
{
    store_svc_t *s = t->data;
    s->reset_due = true;
    kick(s);
}

static void on_tick(uv_timer_t *t)
{
    store_svc_t *s = t->data;
    if (s->overflow_logged && store_spool_pending(s->spool) == 0 &&
        uv_now(&s->loop) - s->overflow_since >= OVERFLOW_QUIET_MS) {
        log_info("store: the database caught up with the traffic; writing to it directly again");
        s->overflow_logged = false;
    }
    if (!s->is_pg && s->db && s->link == LINK_UP)
        check_data_version(s);
    if (++s->ticks % 4 == 0) {
        auth_cache_reclaim(s->cache);
        uint64_t w = atomic_load(&s->written);
        if (w != s->written_at_trim) {
            /* records and batches were freed on this thread: give its heap back */
            s->written_at_trim = w;
            malloc_trim(0);
        }
    }
}

static void on_stop_timeout(uv_timer_t *t)
{
    store_svc_t *s = t->data;
    if (s->closed)
        return;
    log_warn("store: the database did not finish within the stop timeout; spooling the rest");
    if (s->is_pg && s->pg) {
        abandon_pg(s);
        s->link = LINK_DOWN;
    } else {
        s->write_hold = true;
    }
    kick(s);
}

static void begin_stop(store_svc_t *s)
{
    s->stopping = true;
    uv_timer_stop(&s->retry_timer);
    uv_timer_stop(&s->batch_timer);
    uv_timer_stop(&s->reset_timer);
    uv_timer_start(&s->stop_timer, on_stop_timeout, s->stop_timeout_ms, 0);
    if (s->is_pg && s->link != LINK_UP && s->pg) {
        /* not connected now: do not wait for it, spool */
        uv_timer_stop(&s->connect_timer);
        abandon_pg(s);
        s->link = LINK_DOWN;
    }
}

static void on_wake(uv_async_t *h)
{
    store_svc_t *s = h->data;
    if (atomic_load(&s->stop_requested) && !s->stopping)
        begin_stop(s);
    kick(s);
}

static void shutdown_thread(store_svc_t *s)
{
    s->closed = true;
    drop_lookups(s);
    mpsc_node_t *n;
    while ((n = mpsc_pop(&s->lookups, true)))
        free(CONTAINER_OF(n, lookup_node_t, link));
    poll_close(s);
    store_pg_free(s->pg);
    s->pg = NULL;
    store_sqlite_close(s->db);
    s->db = NULL;
    note_spool(s);
    store_spool_close(s->spool);
    s->spool = NULL;
    store_spool_close(s->rejected);
    s->rejected = NULL;
    atomic_store(&s->connected, false);
    uv_timer_t *timers[] = {&s->batch_timer,   &s->tick_timer, &s->reset_timer, &s->retry_timer,
                            &s->connect_timer, &s->op_timer,   &s->stop_timer};
    for (size_t i = 0; i < COUNTOF(timers); i++)
        uv_close((uv_handle_t *)timers[i], NULL);
    uv_close((uv_handle_t *)&s->wake, NULL);
}

static void thread_main(void *arg)
{
    thread_background("sluice-store");
    store_svc_t *s = arg;
    uv_timer_start(&s->batch_timer, on_batch_timer, s->batch_ms, s->batch_ms);
    uv_timer_start(&s->tick_timer, on_tick, TICK_MS, TICK_MS);
    uv_timer_start(&s->reset_timer, on_reset_timer, RESET_INTERVAL_MS, RESET_INTERVAL_MS);
    if (s->is_pg)
        pg_connect(s);
    else
        sqlite_open(s);
    kick(s);
    uv_run(&s->loop, UV_RUN_DEFAULT);
}

/* ---- the public side ------------------------------------------------------------------------- */

static void svc_free(store_svc_t *s)
{
    free(s->sqlite_path);
    free(s->pg_conninfo);
    free(s->spool_path);
    free(s->end_user_budget_id);
    free(s->cur_logs);
    free(s->cur_nodes);
    free(s->inserted);
    free(s->want);
    store_spool_close(s->spool);
    free(s);
}

static char *dup_or_null(const char *v, bool *ok)
{
    if (!v)
        return NULL;
    char *d = strdup(v);
    if (!d)
        *ok = false;
    return d;
}

static void set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(char **err, const char *fmt, ...)
{
    if (!err)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    *err = strdup(msg);
}

store_svc_t *store_svc_start(const store_svc_opts_t *opts, char **err)
{
    if (err)
        *err = NULL;
    if (!opts->spool_path || (!opts->pg_conninfo && !opts->sqlite_path) || !opts->cache ||
        store_spend_log_num_fields > MAX_LOG_FIELDS) {
        set_err(err, "store: a spool path, a database and a key cache are required");
        return NULL;
    }
    /* cache-line aligned members (the producers' counters apart from the consumer's fields):
     * calloc only promises 16 bytes */
    store_svc_t *s = aligned_alloc(alignof(store_svc_t), sizeof *s);
    if (s)
        memset(s, 0, sizeof *s);
    if (!s) {
        set_err(err, "store: out of memory");
        return NULL;
    }
    bool ok = true;
    s->sqlite_path = dup_or_null(opts->sqlite_path, &ok);
    s->pg_conninfo = dup_or_null(opts->pg_conninfo, &ok);
    s->spool_path = dup_or_null(opts->spool_path, &ok);
    s->end_user_budget_id = dup_or_null(opts->max_end_user_budget_id, &ok);
    s->is_pg = opts->pg_conninfo != NULL;
    s->write_logs = opts->write_logs;
    s->cache = opts->cache;
    double secs = opts->batch_seconds > 0 ? opts->batch_seconds : 10;
    s->batch_ms = secs * 1000 < 1 ? 1 : (uint64_t)(secs * 1000);
    s->batch_max = opts->batch_max ? opts->batch_max : 100;
    s->chunk = BATCH_CAP; /* batch_max only decides when to write; a busy queue goes in one */
    s->queue_max = opts->queue_max ? opts->queue_max : QUEUE_MAX;
    s->backoff_ms = BACKOFF_MIN_MS;
    s->data_version = -1;
    s->poll_fd = -1;
    s->cur_logs = calloc(s->chunk, sizeof *s->cur_logs);
    s->cur_nodes = calloc(s->chunk, sizeof *s->cur_nodes);
    s->inserted = calloc(s->chunk, sizeof *s->inserted);
    if (!ok || !s->cur_logs || !s->cur_nodes || !s->inserted) {
        set_err(err, "store: out of memory");
        svc_free(s);
        return NULL;
    }
    if (!(s->spool = store_spool_open(s->spool_path))) {
        set_err(err, "store: cannot open the spool %s: %s", s->spool_path, strerror(errno));
        svc_free(s);
        return NULL;
    }
    /* records already in the spool were written by an earlier process: replayed, not settled */
    s->ours_from = store_spool_end(s->spool);
    note_spool(s);
    store_auth_row_init(&s->row);
    store_end_user_init(&s->eu_row);
    mpsc_init(&s->records);
    mpsc_init(&s->lookups);
    atomic_init(&s->queued, 0);
    atomic_init(&s->dropped, 0);
    atomic_init(&s->connected, false);
    atomic_init(&s->written, 0);
    atomic_init(&s->overflowed, 0);
    atomic_init(&s->stop_requested, false);

    int rc = uv_loop_init(&s->loop);
    if (rc == 0 && (rc = uv_async_init(&s->loop, &s->wake, on_wake)) != 0)
        uv_loop_close(&s->loop);
    if (rc != 0) {
        set_err(err, "store: cannot start the loop: %s", uv_strerror(rc));
        svc_free(s);
        return NULL;
    }
    s->wake.data = s;
    uv_timer_t *timers[] = {&s->batch_timer,   &s->tick_timer, &s->reset_timer, &s->retry_timer,
                            &s->connect_timer, &s->op_timer,   &s->stop_timer};
    for (size_t i = 0; i < COUNTOF(timers); i++) {
        uv_timer_init(&s->loop, timers[i]);
        timers[i]->data = s;
    }
    log_info("store: %s, spool %s (%llu byte(s) to replay)",
             s->is_pg ? "PostgreSQL" : s->sqlite_path, s->spool_path,
             store_spool_pending(s->spool));
    if ((rc = uv_thread_create(&s->thread, thread_main, s)) != 0) {
        for (size_t i = 0; i < COUNTOF(timers); i++)
            uv_close((uv_handle_t *)timers[i], NULL);
        uv_close((uv_handle_t *)&s->wake, NULL);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        uv_loop_close(&s->loop);
        set_err(err, "store: cannot start the thread: %s", uv_strerror(rc));
        svc_free(s);
        return NULL;
    }
    return s;
}

void store_svc_stop(store_svc_t *s, uint64_t timeout_ms)
{
    if (!s)
        return;
    s->stop_timeout_ms = timeout_ms;
    atomic_store(&s->stop_requested, true);
    uv_async_send(&s->wake);
    uv_thread_join(&s->thread);
    if (uv_loop_close(&s->loop) != 0)
        log_error("store: the loop still had handles at stop");
    uint64_t dropped = atomic_load(&s->dropped);
    if (dropped)
        log_alert("store: %llu spend record(s) were dropped for want of memory",
                  (unsigned long long)dropped);
    svc_free(s);
}

void store_svc_submit(store_svc_t *s, const store_spend_log_t *log)
{
    size_t len[MAX_LOG_FIELDS], total = 0;
    for (size_t i = 0; i < store_spend_log_num_fields; i++) {
        const store_field_t *f = &store_spend_log_fields[i];
        len[i] = 0;
        if (f->kind != STORE_F_STR && f->kind != STORE_F_JSON)
            continue;
        const char *v = *(const char *const *)((const char *)log + f->offset);
        if (v)
            total += len[i] = strlen(v) + 1;
    }
    rec_node_t *n = malloc(sizeof *n + total);
    if (!n) {
        atomic_fetch_add_explicit(&s->dropped, 1, memory_order_relaxed);
        return;
    }
    n->log = *log;
    char *w = n->text;
    for (size_t i = 0; i < store_spend_log_num_fields; i++) {
        if (!len[i])
            continue;
        const char **slot = (const char **)((char *)&n->log + store_spend_log_fields[i].offset);
        memcpy(w, *slot, len[i]);
        *slot = w;
        w += len[i];
    }
    /* counted before it is visible: the count may run ahead of the queue, never behind */
    long q = atomic_fetch_add_explicit(&s->queued, 1, memory_order_relaxed) + 1;
    mpsc_push(&s->records, &n->link);
    if ((size_t)q % s->batch_max == 0)
        uv_async_send(&s->wake);
}

void store_svc_lookup_key(store_svc_t *s, const auth_hash_t *hash)
{
    lookup_node_t *n = malloc(sizeof *n);
    if (!n)
        return; /* the cache's pending timeout asks again */
    n->hash = *hash;
    n->end_user = false;
    mpsc_push(&s->lookups, &n->link);
    uv_async_send(&s->wake);
}

void store_svc_lookup_end_user(store_svc_t *s, const auth_hash_t *hash, const char *end_user)
{
    size_t n = strlen(end_user) + 1;
    lookup_node_t *l = malloc(sizeof *l + n);
    if (!l)
        return; /* the cache's pending timeout asks again */
    l->hash = *hash;
    l->end_user = true;
    memcpy(l->id, end_user, n);
    mpsc_push(&s->lookups, &l->link);
    uv_async_send(&s->wake);
}

void store_svc_stats(store_svc_t *s, store_svc_stats_t *out)
{
    long q = atomic_load_explicit(&s->queued, memory_order_relaxed);
    out->connected = atomic_load_explicit(&s->connected, memory_order_relaxed);
    out->backend = s->is_pg ? "postgresql" : "sqlite";
    out->queued = q > 0 ? (size_t)q : 0;
    out->spooled = atomic_load_explicit(&s->spooled, memory_order_relaxed);
    out->written = atomic_load_explicit(&s->written, memory_order_relaxed);
    out->overflowed = atomic_load_explicit(&s->overflowed, memory_order_relaxed);
}
