/* SPDX-License-Identifier: MIT
 * Virtual keys: generation, the lock-free key cache (QSBR) and LiteLLM's key checks.
 * Readers (worker threads) never take a lock and never write shared memory on a hit; writers (the
 * store thread, a worker starting a miss) take a per-shard mutex and publish new immutable entries
 * with one atomic store. Retired memory is freed once every online reader has passed a quiescent
 * point. Not here: talking to the store, HTTP, rate limits. */
#include "auth/keys.h"

#include <math.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/common.h"

/* ---- keys and hashes ------------------------------------------------------------------------ */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int auth_key_generate(char out[AUTH_KEY_LEN + 1])
{
    unsigned char raw[18] = {
        0}; /* 16 random bytes; two zero bytes so the loop reads whole triples */
    size_t got = 0;
    while (got < 16) {
        ssize_t n = getrandom(raw + got, 16 - got, 0);
        if (n < 0)
            return -1;
        got += (size_t)n;
    }
    /* Python's token_urlsafe(16): base64url of 16 bytes without padding = 22 characters */
    char enc[24];
    for (size_t i = 0, o = 0; i < 18; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        enc[o++] = b64url[(v >> 18) & 63];
        enc[o++] = b64url[(v >> 12) & 63];
        enc[o++] = b64url[(v >> 6) & 63];
        enc[o++] = b64url[v & 63];
    }
    memcpy(out, "sk-", 3);
    memcpy(out + 3, enc, AUTH_KEY_LEN - 3); /* the last 2 chars encode the zero padding */
    out[AUTH_KEY_LEN] = '\0';
    return 0;
}

int auth_key_hash(str_t key, auth_hash_t *out)
{
    unsigned int len = 0;
    if (!EVP_Digest(key.p ? key.p : "", key.n, out->b, &len, EVP_sha256(), NULL) ||
        len != AUTH_HASH_LEN)
        return -1;
    return 0;
}

void auth_hash_hex(const auth_hash_t *h, char out[2 * AUTH_HASH_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < AUTH_HASH_LEN; i++) {
        out[2 * i] = hex[h->b[i] >> 4];
        out[2 * i + 1] = hex[h->b[i] & 15];
    }
    out[2 * AUTH_HASH_LEN] = '\0';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int auth_hash_from_hex(str_t hex, auth_hash_t *out)
{
    if (hex.n != 2 * AUTH_HASH_LEN)
        return -1;
    for (size_t i = 0; i < AUTH_HASH_LEN; i++) {
        int hi = hex_digit(hex.p[2 * i]), lo = hex_digit(hex.p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out->b[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void auth_key_name(str_t key, char out[AUTH_KEY_NAME_MAX])
{
    /* LiteLLM's abbreviate_api_key: f"sk-...{api_key[-4:]}" */
    size_t tail = key.n < 4 ? key.n : 4;
    snprintf(out, AUTH_KEY_NAME_MAX, "sk-...%.*s", (int)tail, key.p + key.n - tail);
}

bool auth_key_is_raw_hash(str_t key)
{
    auth_hash_t h;
    return auth_hash_from_hex(key, &h) == 0;
}

bool auth_key_acceptable(str_t key)
{
    return key.n > 3 && str_has_prefix(key, STR_LIT("sk-")) && !auth_key_is_raw_hash(key);
}

/* ---- spend counters ------------------------------------------------------------------------- */

/* C11 has no fetch_add for atomic doubles: a CAS loop on a counter nobody else hammers. */
static void atomic_add_double(_Atomic double *a, double v)
{
    double old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, old + v, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

struct auth_counter {
    _Atomic double base;  /* the store's value at the last put */
    _Atomic double delta; /* spent here since, not yet settled */
    auth_counter_t *next; /* chain in the counter table (writers only) */
    char id[];            /* "k:<hex>", "t:<team>", "u:<user>", "m:<hex>:<model>" */
};

double auth_counter_spend(const auth_counter_t *k)
{
    return atomic_load_explicit(&k->base, memory_order_relaxed) +
           atomic_load_explicit(&k->delta, memory_order_relaxed);
}

/* ---- the cache ------------------------------------------------------------------------------ */

#define SHARDS 64 /* writers on different shards never meet; readers never lock at all */
#define COUNTER_BUCKETS 4096
#define CACHE_LINE 64

enum { ENTRY_POSITIVE, ENTRY_NEGATIVE, ENTRY_PENDING };

typedef struct {
    auth_hash_t hash;
    int state;
    uint64_t expires_ms;               /* TTL end; for PENDING, when the miss may be retried */
    uint64_t generation;               /* the cache's expire generation when it was stored */
    _Atomic uint64_t refresh_after_ms; /* POSITIVE, once stale: when a refresh may be started */
    _Atomic uint64_t waiters;          /* PENDING: reader bits parked on it */
    auth_key_t rec;                    /* POSITIVE: deep copy; its memory follows the entry */
} auth_entry_t;

/* Immutable except for its slots: a slot goes NULL -> entry (insert) or entry -> entry (replace)
 * under the shard lock. Removal builds a new table, so probe chains never break under a reader. */
typedef struct {
    size_t cap; /* power of two */
    size_t used;
    _Atomic(auth_entry_t *) slot[];
} auth_table_t;

typedef struct {
    alignas(CACHE_LINE) _Atomic(auth_table_t *) table;
    pthread_mutex_t lock; /* writers only */
} auth_shard_t;

typedef struct retired {
    struct retired *next;
    void *p;
    uint64_t epoch;
} retired_t;

struct auth_reader {
    alignas(CACHE_LINE) _Atomic uint64_t ctr; /* 0 offline, else the epoch seen at the last QS */
    auth_cache_t *cache;
    unsigned id;
    bool used;
};

struct auth_cache {
    auth_shard_t shard[SHARDS];
    struct auth_reader reader[AUTH_MAX_READERS];
    alignas(CACHE_LINE) _Atomic uint64_t epoch; /* grace-period counter, starts at 1 */
    /* Bumped by auth_cache_expire_all: an answer stored under an older generation is stale.
     * Its own cache line: readers load it on every hit, and it is written rarely. */
    alignas(CACHE_LINE) _Atomic uint64_t generation;
    pthread_mutex_t retire_lock; /* retire list and reader registration */
    retired_t *retired;
    pthread_mutex_t counter_lock;
    auth_counter_t *counter[COUNTER_BUCKETS];
    auth_cache_opts_t opts;
};

static size_t hash_slot(const auth_hash_t *h)
{
    /* the key is already a uniform hash: its bytes are the index */
    uint64_t v;
    memcpy(&v, h->b + 8, sizeof v);
    return (size_t)v;
}

static unsigned hash_shard(const auth_hash_t *h)
{
    return h->b[0] % SHARDS;
}

static auth_table_t *table_new(size_t cap)
{
    auth_table_t *t = xcalloc(1, sizeof *t + cap * sizeof t->slot[0]);
    t->cap = cap;
    return t;
}

auth_cache_t *auth_cache_new(const auth_cache_opts_t *opts)
{
    auth_cache_t *c = xcalloc(1, sizeof *c);
    if (opts)
        c->opts = *opts;
    if (!c->opts.ttl_ms)
        c->opts.ttl_ms = 60000;
    if (!c->opts.pending_timeout_ms)
        c->opts.pending_timeout_ms = 10000;
    for (size_t i = 0; i < SHARDS; i++) {
        atomic_init(&c->shard[i].table, table_new(16));
        pthread_mutex_init(&c->shard[i].lock, NULL);
    }
    for (unsigned i = 0; i < AUTH_MAX_READERS; i++) {
        atomic_init(&c->reader[i].ctr, 0);
        c->reader[i].cache = c;
        c->reader[i].id = i;
    }
    atomic_init(&c->epoch, 1);
    atomic_init(&c->generation, 0);
    pthread_mutex_init(&c->retire_lock, NULL);
    pthread_mutex_init(&c->counter_lock, NULL);
    return c;
}

void auth_cache_free(auth_cache_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < SHARDS; i++) {
        auth_table_t *t = atomic_load(&c->shard[i].table);
        for (size_t j = 0; j < t->cap; j++)
            free(atomic_load(&t->slot[j]));
        free(t);
        pthread_mutex_destroy(&c->shard[i].lock);
    }
    for (retired_t *r = c->retired, *next; r; r = next) {
        next = r->next;
        free(r->p);
        free(r);
    }
    for (size_t i = 0; i < COUNTER_BUCKETS; i++)
        for (auth_counter_t *k = c->counter[i], *next; k; k = next) {
            next = k->next;
            free(k);
        }
    pthread_mutex_destroy(&c->retire_lock);
    pthread_mutex_destroy(&c->counter_lock);
    free(c);
}

/* -- readers (QSBR) -- */

auth_reader_t *auth_reader_register(auth_cache_t *c)
{
    auth_reader_t *r = NULL;
    pthread_mutex_lock(&c->retire_lock);
    for (unsigned i = 0; i < AUTH_MAX_READERS; i++)
        if (!c->reader[i].used) {
            r = &c->reader[i];
            r->used = true;
            break;
        }
    pthread_mutex_unlock(&c->retire_lock);
    if (r)
        auth_reader_online(r);
    return r;
}

void auth_reader_unregister(auth_reader_t *r)
{
    if (!r)
        return;
    auth_reader_offline(r);
    pthread_mutex_lock(&r->cache->retire_lock);
    r->used = false;
    pthread_mutex_unlock(&r->cache->retire_lock);
}

unsigned auth_reader_id(const auth_reader_t *r)
{
    return r->id;
}

void auth_reader_quiescent(auth_reader_t *r)
{
    /* release: every read of old entries happens before the writer sees the new epoch here */
    uint64_t e = atomic_load_explicit(&r->cache->epoch, memory_order_acquire);
    atomic_store_explicit(&r->ctr, e, memory_order_release);
}

void auth_reader_offline(auth_reader_t *r)
{
    atomic_store_explicit(&r->ctr, 0, memory_order_release);
}

void auth_reader_online(auth_reader_t *r)
{
    /* Dekker with the writer's fence in auth_cache_reclaim: either the writer sees us online, or
     * we see its unpublished slots. */
    atomic_store_explicit(&r->ctr, atomic_load(&r->cache->epoch), memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
}

/* Adds p to a caller's list of memory to retire; the list is committed after the caller has
 * unpublished everything on it. */
static void retire_later(retired_t **list, void *p)
{
    if (!p)
        return;
    retired_t *r = xmalloc(sizeof *r);
    r->p = p;
    r->epoch = 0;
    r->next = *list;
    *list = r;
}

/* Queues a list for freeing once every reader has passed a quiescent point. Everything on it must
 * already be unreachable from published tables: the epoch taken here is what readers must pass. */
static void retire_commit(auth_cache_t *c, retired_t *list)
{
    if (!list)
        return;
    /* the increment orders the unpublishing stores before any reader's later epoch load */
    uint64_t epoch = atomic_fetch_add(&c->epoch, 1) + 1;
    retired_t *last = list;
    for (retired_t *r = list; r; r = r->next) {
        r->epoch = epoch;
        last = r;
    }
    pthread_mutex_lock(&c->retire_lock);
    last->next = c->retired;
    c->retired = list;
    pthread_mutex_unlock(&c->retire_lock);
}

static void retire(auth_cache_t *c, void *p)
{
    retired_t *list = NULL;
    retire_later(&list, p);
    retire_commit(c, list);
}

void auth_cache_reclaim(auth_cache_t *c)
{
    atomic_thread_fence(memory_order_seq_cst);
    pthread_mutex_lock(&c->retire_lock);
    uint64_t safe = UINT64_MAX; /* everything retired at an epoch <= safe can go */
    for (unsigned i = 0; i < AUTH_MAX_READERS; i++) {
        uint64_t v = atomic_load_explicit(&c->reader[i].ctr, memory_order_acquire);
        if (v && v < safe)
            safe = v;
    }
    retired_t *keep = NULL, *done = NULL;
    for (retired_t *r = c->retired, *next; r; r = next) {
        next = r->next;
        if (r->epoch <= safe) {
            r->next = done;
            done = r;
        } else {
            r->next = keep;
            keep = r;
        }
    }
    c->retired = keep;
    pthread_mutex_unlock(&c->retire_lock);
    for (retired_t *r = done, *next; r; r = next) {
        next = r->next;
        free(r->p);
        free(r);
    }
}

/* -- table access -- */

/* The slot holding hash, or the empty slot where it would go. */
static _Atomic(auth_entry_t *) *table_find(auth_table_t *t, const auth_hash_t *hash)
{
    size_t mask = t->cap - 1;
    for (size_t i = hash_slot(hash) & mask;; i = (i + 1) & mask) {
        auth_entry_t *e = atomic_load_explicit(&t->slot[i], memory_order_acquire);
        if (!e || memcmp(e->hash.b, hash->b, AUTH_HASH_LEN) == 0)
            return &t->slot[i];
    }
}

static auth_entry_t *entry_get(auth_cache_t *c, const auth_hash_t *hash)
{
    auth_table_t *t = atomic_load_explicit(&c->shard[hash_shard(hash)].table, memory_order_acquire);
    return atomic_load_explicit(table_find(t, hash), memory_order_acquire);
}

static bool entry_dead(const auth_entry_t *e, uint64_t now_ms)
{
    /* negative entries past their TTL carry nothing worth keeping; positive ones still serve
     * while the store is away, so they live until invalidated */
    return e->state == ENTRY_NEGATIVE && now_ms >= e->expires_ms;
}

/* Copies t into a new table of `cap` slots without `drop` and dead entries. Under the lock. */
static auth_table_t *table_rebuild(const auth_table_t *t, size_t cap, const auth_hash_t *drop,
                                   uint64_t now_ms, retired_t **dropped)
{
    auth_table_t *n = table_new(cap);
    for (size_t i = 0; i < t->cap; i++) {
        auth_entry_t *e = atomic_load_explicit(&t->slot[i], memory_order_relaxed);
        if (!e)
            continue;
        if ((drop && memcmp(e->hash.b, drop->b, AUTH_HASH_LEN) == 0) || entry_dead(e, now_ms)) {
            retire_later(dropped, e); /* still reachable from t: retired once n is published */
            continue;
        }
        atomic_store_explicit(table_find(n, &e->hash), e, memory_order_relaxed);
        n->used++;
    }
    return n;
}

/* Publishes e for its hash, returning the entry it replaced (NULL: none). Under the shard lock.
 * The caller retires the returned entry after reading what it needs from it. */
static auth_entry_t *shard_set(auth_cache_t *c, auth_shard_t *s, auth_entry_t *e, uint64_t now_ms)
{
    auth_table_t *t = atomic_load_explicit(&s->table, memory_order_relaxed);
    _Atomic(auth_entry_t *) *slot = table_find(t, &e->hash);
    auth_entry_t *old = atomic_load_explicit(slot, memory_order_relaxed);
    if (old) {
        atomic_store_explicit(slot, e, memory_order_seq_cst);
        return old;
    }
    if ((t->used + 1) * 2 > t->cap) {
        size_t live = 0;
        for (size_t i = 0; i < t->cap; i++) {
            auth_entry_t *x = atomic_load_explicit(&t->slot[i], memory_order_relaxed);
            live += x && !entry_dead(x, now_ms);
        }
        size_t cap = t->cap;
        while ((live + 1) * 2 > cap)
            cap *= 2;
        while (cap > 16 && (live + 1) * 8 < cap)
            cap /= 2;
        retired_t *dropped = NULL;
        auth_table_t *n = table_rebuild(t, cap, NULL, now_ms, &dropped);
        atomic_store_explicit(table_find(n, &e->hash), e, memory_order_relaxed);
        n->used++;
        atomic_store_explicit(&s->table, n, memory_order_seq_cst);
        retire_later(&dropped, t);
        retire_commit(c, dropped);
        return NULL;
    }
    t->used++;
    atomic_store_explicit(slot, e, memory_order_seq_cst);
    return NULL;
}

static auth_entry_t *entry_pending(const auth_hash_t *hash, uint64_t deadline, uint64_t waiters)
{
    auth_entry_t *e = xcalloc(1, sizeof *e);
    e->hash = *hash;
    e->state = ENTRY_PENDING;
    e->expires_ms = deadline;
    atomic_init(&e->waiters, waiters);
    return e;
}

#define RETRY_LOOKUP ((auth_lookup_t)-1)

/* True when the store's answer in e no longer counts: its TTL ran out, or the cache was expired
 * (auth_cache_expire_all) after it was stored. */
static bool answer_stale(auth_cache_t *c, const auth_entry_t *e, uint64_t now_ms)
{
    return now_ms >= e->expires_ms ||
           e->generation != atomic_load_explicit(&c->generation, memory_order_acquire);
}

/* A "no such key" that must be asked again. */
static bool negative_stale(auth_cache_t *c, const auth_entry_t *e, uint64_t now_ms)
{
    return e->state == ENTRY_NEGATIVE && answer_stale(c, e, now_ms);
}

/* Slow path of a lookup: nothing usable is cached. Installs a pending entry unless another
 * caller did first. */
static auth_lookup_t start_miss(auth_cache_t *c, auth_reader_t *r, const auth_hash_t *hash,
                                uint64_t now_ms)
{
    auth_shard_t *s = &c->shard[hash_shard(hash)];
    pthread_mutex_lock(&s->lock);
    auth_table_t *t = atomic_load_explicit(&s->table, memory_order_relaxed);
    auth_entry_t *cur = atomic_load_explicit(table_find(t, hash), memory_order_relaxed);
    auth_lookup_t res = AUTH_LOOKUP_MISS_STARTED;
    if (cur && cur->state == ENTRY_PENDING && now_ms < cur->expires_ms) {
        atomic_fetch_or(&cur->waiters, (uint64_t)1 << r->id);
        res = AUTH_LOOKUP_PENDING;
    } else if (cur && cur->state != ENTRY_PENDING && !negative_stale(c, cur, now_ms)) {
        res = RETRY_LOOKUP; /* answered meanwhile: read it the lock-free way */
    } else {
        /* absent, a timed-out miss (its parked readers stay parked on the new one), or an
         * expired "no such key" */
        uint64_t w = cur && cur->state == ENTRY_PENDING ? atomic_load(&cur->waiters) : 0;
        w |= (uint64_t)1 << r->id; /* the starter parks too */
        auth_entry_t *old =
            shard_set(c, s, entry_pending(hash, now_ms + c->opts.pending_timeout_ms, w), now_ms);
        retire(c, old);
    }
    pthread_mutex_unlock(&s->lock);
    return res;
}

auth_lookup_t auth_lookup(auth_cache_t *c, auth_reader_t *r, const auth_hash_t *hash,
                          uint64_t now_ms, const auth_key_t **out)
{
    *out = NULL;
    /* Loops only when a writer changed this key between two reads: lock-free, not wait-free, on
     * the miss path; a hit returns on the first pass. */
    for (;;) {
        auth_entry_t *e = entry_get(c, hash);
        auth_lookup_t res;
        if (!e || negative_stale(c, e, now_ms) ||
            (e->state == ENTRY_PENDING && now_ms >= e->expires_ms)) {
            res = start_miss(c, r, hash, now_ms);
            if (res == RETRY_LOOKUP)
                continue;
            return res;
        }
        switch (e->state) {
        case ENTRY_POSITIVE: {
            *out = &e->rec;
            if (LIKELY(!answer_stale(c, e, now_ms)))
                return AUTH_LOOKUP_HIT;
            /* stale (TTL or expire_all): serve it, and let exactly one caller per pending
             * timeout ask for a refresh */
            uint64_t after = atomic_load_explicit(&e->refresh_after_ms, memory_order_relaxed);
            if (now_ms >= after &&
                atomic_compare_exchange_strong(&e->refresh_after_ms, &after,
                                               now_ms + c->opts.pending_timeout_ms))
                return AUTH_LOOKUP_HIT_REFRESH;
            return AUTH_LOOKUP_HIT;
        }
        case ENTRY_NEGATIVE:
            return AUTH_LOOKUP_NOT_FOUND;
        default: /* ENTRY_PENDING */
            atomic_fetch_or(&e->waiters, (uint64_t)1 << r->id);
            /* Dekker with the answering writer (publish, then read waiters): if the answer was
             * published before our bit landed, we see it now instead of parking forever. */
            if (entry_get(c, hash) == e)
                return AUTH_LOOKUP_PENDING;
            break;
        }
    }
}

/* -- counters -- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Finds or creates the counter for id, setting its base. Never freed before the cache. */
static auth_counter_t *counter_get(auth_cache_t *c, const char *id, bool set_base, double base)
{
    size_t b = fnv1a(id) % COUNTER_BUCKETS;
    pthread_mutex_lock(&c->counter_lock);
    auth_counter_t *k = c->counter[b];
    while (k && strcmp(k->id, id) != 0)
        k = k->next;
    if (!k) {
        size_t n = strlen(id);
        k = xcalloc(1, sizeof *k + n + 1);
        memcpy(k->id, id, n + 1);
        atomic_init(&k->base, 0.0);
        atomic_init(&k->delta, 0.0);
        k->next = c->counter[b];
        c->counter[b] = k;
    }
    if (set_base)
        atomic_store_explicit(&k->base, base, memory_order_relaxed);
    pthread_mutex_unlock(&c->counter_lock);
    return k;
}

static auth_counter_t *counter_find(auth_cache_t *c, const char *id)
{
    size_t b = fnv1a(id) % COUNTER_BUCKETS;
    pthread_mutex_lock(&c->counter_lock);
    auth_counter_t *k = c->counter[b];
    while (k && strcmp(k->id, id) != 0)
        k = k->next;
    pthread_mutex_unlock(&c->counter_lock);
    return k;
}

void auth_spend_add(const auth_key_t *rec, const char *model, double cost)
{
    if (rec->key_counter)
        atomic_add_double(&rec->key_counter->delta, cost);
    if (rec->team_counter)
        atomic_add_double(&rec->team_counter->delta, cost);
    if (rec->user_counter)
        atomic_add_double(&rec->user_counter->delta, cost);
    if (rec->member_counter)
        atomic_add_double(&rec->member_counter->delta, cost);
    if (model && rec->model_counters)
        for (size_t i = 0; i < rec->n_model_budgets; i++)
            if (strcmp(rec->model_budgets[i].model, model) == 0)
                atomic_add_double(&rec->model_counters[i]->delta, cost);
}

void auth_member_id(const char *team_id, const char *user_id, char out[AUTH_MEMBER_ID_MAX])
{
    snprintf(out, AUTH_MEMBER_ID_MAX, "%zu:%s:%s", strlen(team_id), team_id, user_id);
}

void auth_counter_add(auth_counter_t *k, double amount)
{
    if (k)
        atomic_add_double(&k->delta, amount);
}

void auth_spend_settle(auth_cache_t *c, auth_scope_t scope, const char *id, double amount)
{
    if (scope == AUTH_SCOPE_END_USER) { /* the counter of its record: k:<hash hex> */
        auth_hash_t h;
        char hex[2 * AUTH_HASH_LEN + 1];
        if (auth_end_user_hash(id, &h) != 0)
            return;
        auth_hash_hex(&h, hex);
        auth_spend_settle(c, AUTH_SCOPE_KEY, hex, amount);
        return;
    }
    static const char prefix[] = {[AUTH_SCOPE_KEY] = 'k',
                                  [AUTH_SCOPE_TEAM] = 't',
                                  [AUTH_SCOPE_USER] = 'u',
                                  [AUTH_SCOPE_KEY_MODEL] = 'm',
                                  [AUTH_SCOPE_TEAM_MEMBER] = 'p'};
    if ((unsigned)scope >= sizeof prefix || !prefix[scope])
        return;
    char buf[512]; /* cut as auth_cache_put cuts the counter's id, so long names still match */
    snprintf(buf, sizeof buf, "%c:%s", prefix[scope], id);
    auth_counter_t *k = counter_find(c, buf);
    if (!k)
        return;
    /* Moved, not dropped: the database holds it now, and the next put's base will too (the
     * store thread puts and settles in order). Base first, so a reader in between sees the
     * amount twice (refusing) rather than not at all (overspending). */
    atomic_add_double(&k->base, amount);
    atomic_add_double(&k->delta, -amount);
}

/* -- writers -- */

/* Bump allocator over one block sized by a first pass, so an entry is one malloc and one free. */
typedef struct {
    char *p;
    size_t used, cap;
} block_t;

static void *block_take(block_t *b, size_t n, size_t align)
{
    size_t at = (b->used + align - 1) & ~(align - 1);
    b->used = at + n;
    return b->p ? b->p + at : NULL;
}

static const char *block_str(block_t *b, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = block_take(b, n, 1);
    if (d)
        memcpy(d, s, n);
    return d;
}

static const char *const *block_strs(block_t *b, const char *const *v, size_t n)
{
    if (!n)
        return NULL;
    const char **d = block_take(b, n * sizeof *d, alignof(const char *));
    for (size_t i = 0; i < n; i++) {
        const char *s = block_str(b, v[i] ? v[i] : "");
        if (d)
            d[i] = s;
    }
    return d;
}

/* Copies src into b's storage as dst; run once with b->p NULL to size, once to copy. */
static void record_copy(block_t *b, const auth_key_t *src, auth_key_t *dst)
{
    *dst = *src;
    dst->key_name = block_str(b, src->key_name);
    dst->key_alias = block_str(b, src->key_alias);
    dst->user_id = block_str(b, src->user_id);
    dst->team_id = block_str(b, src->team_id);
    dst->org_id = block_str(b, src->org_id);
    dst->metadata_json = block_str(b, src->metadata_json);
    dst->budget_duration = block_str(b, src->budget_duration);
    dst->models = block_strs(b, src->models, src->n_models);
    dst->tags = block_strs(b, src->tags, src->n_tags);
    dst->team_models = block_strs(b, src->team_models, src->n_team_models);
    dst->allowed_cache_controls =
        block_strs(b, src->allowed_cache_controls, src->n_allowed_cache_controls);
    auth_alias_t *al =
        src->n_aliases ? block_take(b, src->n_aliases * sizeof *al, alignof(auth_alias_t)) : NULL;
    for (size_t i = 0; i < src->n_aliases; i++) {
        const char *f = block_str(b, src->aliases[i].from ? src->aliases[i].from : "");
        const char *t = block_str(b, src->aliases[i].to ? src->aliases[i].to : "");
        if (al)
            al[i] = (auth_alias_t){f, t};
    }
    dst->aliases = al;
    auth_model_budget_t *mb =
        src->n_model_budgets
            ? block_take(b, src->n_model_budgets * sizeof *mb, alignof(auth_model_budget_t))
            : NULL;
    auth_counter_t **mc = src->n_model_budgets ? block_take(b, src->n_model_budgets * sizeof *mc,
                                                            alignof(auth_counter_t *))
                                               : NULL;
    for (size_t i = 0; i < src->n_model_budgets; i++) {
        const char *m =
            block_str(b, src->model_budgets[i].model ? src->model_budgets[i].model : "");
        const char *tp = block_str(b, src->model_budgets[i].time_period);
        if (mb) {
            mb[i] = src->model_budgets[i];
            mb[i].model = m;
            mb[i].time_period = tp;
        }
    }
    dst->model_budgets = mb;
    dst->model_counters = mc;
    auth_model_limit_t *ml = src->n_model_limits ? block_take(b, src->n_model_limits * sizeof *ml,
                                                              alignof(auth_model_limit_t))
                                                 : NULL;
    for (size_t i = 0; i < src->n_model_limits; i++) {
        const char *m = block_str(b, src->model_limits[i].model ? src->model_limits[i].model : "");
        if (ml) {
            ml[i] = src->model_limits[i];
            ml[i].model = m;
        }
    }
    dst->model_limits = ml;
}

/* Publishes e, retires what it replaced and wakes readers parked on a pending miss. */
static void publish(auth_cache_t *c, auth_entry_t *e, uint64_t now_ms)
{
    auth_shard_t *s = &c->shard[hash_shard(&e->hash)];
    pthread_mutex_lock(&s->lock);
    auth_entry_t *old = shard_set(c, s, e, now_ms);
    /* seq_cst exchange after the seq_cst publish: pairs with the reader's fetch_or + re-check */
    uint64_t waiters = old && old->state == ENTRY_PENDING ? atomic_exchange(&old->waiters, 0) : 0;
    retire(c, old);
    pthread_mutex_unlock(&s->lock);
    if (waiters && c->opts.on_answer)
        c->opts.on_answer(c->opts.on_answer_arg, &e->hash, waiters);
    auth_cache_reclaim(c);
}

int auth_cache_put(auth_cache_t *c, const auth_key_t *rec, uint64_t now_ms)
{
    block_t b = {0};
    auth_key_t tmp;
    record_copy(&b, rec, &tmp); /* sizing pass */
    size_t head = (sizeof(auth_entry_t) + 15) & ~(size_t)15;
    char *mem = calloc(1, head + b.used);
    if (!mem)
        return -1;
    auth_entry_t *e = (auth_entry_t *)mem;
    b = (block_t){mem + head, 0, b.used};
    record_copy(&b, rec, &e->rec);
    e->hash = rec->hash;
    e->state = ENTRY_POSITIVE;
    e->expires_ms = now_ms + c->opts.ttl_ms;
    e->generation = atomic_load(&c->generation);
    atomic_init(&e->refresh_after_ms, 0); /* consulted only once stale: the first may refresh */
    atomic_init(&e->waiters, 0);

    /* live counters: the store's values become their base */
    char hex[2 * AUTH_HASH_LEN + 1], id[512];
    auth_hash_hex(&rec->hash, hex);
    snprintf(id, sizeof id, "k:%s", hex);
    e->rec.key_counter = counter_get(c, id, true, rec->spend);
    e->rec.team_counter = NULL;
    e->rec.user_counter = NULL;
    if (rec->team_id) {
        snprintf(id, sizeof id, "t:%s", rec->team_id);
        e->rec.team_counter = counter_get(c, id, true, rec->team_spend);
    }
    if (rec->user_id) {
        snprintf(id, sizeof id, "u:%s", rec->user_id);
        e->rec.user_counter = counter_get(c, id, true, rec->user_spend);
    }
    e->rec.member_counter = NULL;
    e->rec.has_member_budget = rec->has_member_budget && rec->team_id && rec->user_id;
    if (e->rec.has_member_budget) {
        /* "p:" + auth_member_id(), cut at the same length as auth_spend_settle cuts it */
        snprintf(id, sizeof id, "p:%zu:%s:%s", strlen(rec->team_id), rec->team_id, rec->user_id);
        e->rec.member_counter = counter_get(c, id, true, rec->member_spend);
    }
    auth_counter_t **mc = (auth_counter_t **)e->rec.model_counters;
    for (size_t i = 0; i < rec->n_model_budgets; i++) {
        snprintf(id, sizeof id, "m:%s:%s", hex, e->rec.model_budgets[i].model);
        mc[i] = counter_get(c, id, true, rec->model_budgets[i].spend);
    }
    publish(c, e, now_ms);
    return 0;
}

int auth_cache_put_missing(auth_cache_t *c, const auth_hash_t *hash, uint64_t now_ms)
{
    auth_entry_t *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    e->hash = *hash;
    e->state = ENTRY_NEGATIVE;
    e->expires_ms = now_ms + c->opts.ttl_ms;
    e->generation = atomic_load(&c->generation);
    atomic_init(&e->refresh_after_ms, 0);
    atomic_init(&e->waiters, 0);
    publish(c, e, now_ms);
    return 0;
}

void auth_cache_invalidate(auth_cache_t *c, const auth_hash_t *hash)
{
    auth_shard_t *s = &c->shard[hash_shard(hash)];
    uint64_t waiters = 0;
    pthread_mutex_lock(&s->lock);
    auth_table_t *t = atomic_load_explicit(&s->table, memory_order_relaxed);
    auth_entry_t *cur = atomic_load_explicit(table_find(t, hash), memory_order_relaxed);
    if (cur) {
        if (cur->state == ENTRY_PENDING)
            waiters = atomic_exchange(&cur->waiters, 0);
        /* keep negative entries that are still valid; dead ones go with the rebuild anyway */
        retired_t *dropped = NULL;
        auth_table_t *n = table_rebuild(t, t->cap, hash, 0, &dropped);
        atomic_store_explicit(&s->table, n, memory_order_seq_cst);
        retire_later(&dropped, t);
        retire_commit(c, dropped);
    }
    pthread_mutex_unlock(&s->lock);
    if (waiters && c->opts.on_answer)
        c->opts.on_answer(c->opts.on_answer_arg, hash, waiters);
    auth_cache_reclaim(c);
}

void auth_cache_expire_all(auth_cache_t *c)
{
    /* one store: every entry stored before it now compares stale; nothing is freed or moved */
    atomic_fetch_add(&c->generation, 1);
}

size_t auth_cache_count(auth_cache_t *c)
{
    size_t n = 0;
    for (size_t i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&c->shard[i].lock);
        auth_table_t *t = atomic_load_explicit(&c->shard[i].table, memory_order_relaxed);
        for (size_t j = 0; j < t->cap; j++)
            n += atomic_load_explicit(&t->slot[j], memory_order_relaxed) != NULL;
        pthread_mutex_unlock(&c->shard[i].lock);
    }
    return n;
}

/* ---- checks ------------------------------------------------------------------------------------
 */

/* Python's repr(float): the shortest digits that read back as v, fixed notation for exponents
 * -4..15, else d.ddde[+-]XX. */
void auth_format_float(double v, char *out, size_t size)
{
    if (isnan(v)) {
        snprintf(out, size, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(out, size, v < 0 ? "-inf" : "inf");
        return;
    }
    char tmp[40];
    for (int p = 0; p < 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* tmp: [-]d[.ddd]e[+-]XX */
    const char *s = tmp;
    bool neg = *s == '-';
    if (neg)
        s++;
    char digits[24];
    size_t nd = 0;
    for (; *s && *s != 'e'; s++)
        if (*s != '.')
            digits[nd++] = *s;
    int exp = atoi(s + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    if (v == 0)
        exp = 0;
    char res[64];
    size_t o = 0;
    if (neg)
        res[o++] = '-';
    if (exp >= -5 + 1 && exp < 16) {
        int decpt = exp + 1;
        if (decpt <= 0) {
            res[o++] = '0';
            res[o++] = '.';
            for (int i = 0; i < -decpt; i++)
                res[o++] = '0';
            memcpy(res + o, digits, nd);
            o += nd;
        } else if ((size_t)decpt >= nd) {
            memcpy(res + o, digits, nd);
            o += nd;
            for (size_t i = nd; i < (size_t)decpt; i++)
                res[o++] = '0';
            res[o++] = '.';
            res[o++] = '0';
        } else {
            memcpy(res + o, digits, (size_t)decpt);
            o += (size_t)decpt;
            res[o++] = '.';
            memcpy(res + o, digits + decpt, nd - (size_t)decpt);
            o += nd - (size_t)decpt;
        }
        res[o] = '\0';
    } else {
        res[o++] = digits[0];
        if (nd > 1) {
            res[o++] = '.';
            memcpy(res + o, digits + 1, nd - 1);
            o += nd - 1;
        }
        snprintf(res + o, sizeof res - o, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
    snprintf(out, size, "%s", res);
}

static int fail(auth_error_t *err, int status, const char *type, const char *param, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));

static int fail(auth_error_t *err, int status, const char *type, const char *param, const char *fmt,
                ...)
{
    err->status = status;
    err->type = type;
    err->param = param;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

int auth_check_blocked(const auth_key_t *rec, auth_error_t *err)
{
    if (rec->blocked)
        return fail(err, 401, "auth_error", "None",
                    "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an "
                    "admin.");
    if (rec->team_blocked && rec->team_id)
        return fail(err, 401, "auth_error", "None",
                    "Authentication Error, Team=%s is blocked. Update via `/team/unblock` if "
                    "you're an admin.",
                    rec->team_id);
    return 0;
}

/* Python's str(datetime) of an aware UTC time: "2026-01-31 12:00:00+00:00". */
static void format_utc(int64_t t, char out[40])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 40, "%Y-%m-%d %H:%M:%S+00:00", &tm);
}

int auth_check_expired(const auth_key_t *rec, int64_t now, auth_error_t *err)
{
    if (rec->expires && rec->expires < now) {
        char e[40], n[40];
        format_utc(rec->expires, e);
        format_utc(now, n);
        return fail(err, 401, "expired_key", "None",
                    "Authentication Error - Expired Key. Key Expiry time %s and current time %s", e,
                    n);
    }
    return 0;
}

/* Glob with '*' matching any run of characters, as LiteLLM's wildcard model patterns. */
static bool glob_match(const char *pat, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat == *s) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

static bool list_allows_one(const char *const *models, size_t n, const char *model,
                            const auth_access_group_t *groups, size_t n_groups)
{
    for (size_t i = 0; i < n; i++) {
        const char *m = models[i];
        /* "all-proxy-models" is LiteLLM's spelled-out "*"; "all-team-models" defers to the team */
        if (strcmp(m, "*") == 0 || strcmp(m, "all-proxy-models") == 0 ||
            strcmp(m, "all-team-models") == 0 || strcmp(m, model) == 0)
            return true;
        if (strchr(m, '*') && glob_match(m, model))
            return true;
        for (size_t g = 0; g < n_groups; g++)
            if (strcmp(groups[g].name, m) == 0)
                for (size_t j = 0; j < groups[g].n_models; j++)
                    if (strcmp(groups[g].models[j], model) == 0 ||
                        (strchr(groups[g].models[j], '*') &&
                         glob_match(groups[g].models[j], model)))
                        return true;
    }
    return false;
}

bool auth_models_allow(const char *const *models, size_t n_models, const char *model,
                       const auth_alias_t *aliases, size_t n_aliases,
                       const auth_access_group_t *groups, size_t n_groups)
{
    if (n_models == 0 || !model)
        return true;
    if (list_allows_one(models, n_models, model, groups, n_groups))
        return true;
    for (size_t i = 0; i < n_aliases; i++)
        if (strcmp(aliases[i].from, model) == 0 &&
            list_allows_one(models, n_models, aliases[i].to, groups, n_groups))
            return true;
    return false;
}

/* Python's repr of a list of str: ['a', 'b'] (double quotes around a value holding a '). */
static void format_list(const char *const *v, size_t n, char *out, size_t size)
{
    size_t o = 0;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (o + 1 < size)                                                                          \
            out[o++] = (ch);                                                                       \
    } while (0)
    PUT('[');
    for (size_t i = 0; i < n; i++) {
        if (i) {
            PUT(',');
            PUT(' ');
        }
        char q = strchr(v[i], '\'') && !strchr(v[i], '"') ? '"' : '\'';
        PUT(q);
        for (const char *s = v[i]; *s; s++) {
            if (*s == '\\' || *s == q)
                PUT('\\');
            PUT(*s);
        }
        PUT(q);
    }
    PUT(']');
#undef PUT
    out[o < size ? o : size - 1] = '\0';
}

int auth_check_model_access(const auth_key_t *rec, const auth_request_t *req, auth_error_t *err)
{
    if (!req->model)
        return 0;
    char list[AUTH_MESSAGE_MAX / 2];
    if (!auth_models_allow(rec->models, rec->n_models, req->model, rec->aliases, rec->n_aliases,
                           req->groups, req->n_groups)) {
        format_list(rec->models, rec->n_models, list, sizeof list);
        return fail(err, 403, "key_model_access_denied", "model",
                    "key not allowed to access model. This key can only access models=%s. Tried "
                    "to access %s",
                    list, req->model);
    }
    if (rec->team_id &&
        !auth_models_allow(rec->team_models, rec->n_team_models, req->model, rec->aliases,
                           rec->n_aliases, req->groups, req->n_groups)) {
        format_list(rec->team_models, rec->n_team_models, list, sizeof list);
        return fail(err, 403, "team_model_access_denied", "model",
                    "team not allowed to access model. This team can only access models=%s. Tried "
                    "to access %s",
                    list, req->model);
    }
    return 0;
}

/* Spend in the current window: 0 once the window's reset time has passed (the store's reset job
 * zeroes the row; until its answer arrives the new window has spent nothing we know of). */
static double window_spend(const auth_counter_t *k, double stored, int64_t reset_at, int64_t now)
{
    if (reset_at && now >= reset_at)
        return 0;
    return k ? auth_counter_spend(k) : stored;
}

int auth_check_budgets(const auth_key_t *rec, const auth_request_t *req, auth_error_t *err)
{
    if (req->zero_cost)
        return 0;
    char cur[40], max[40];
    if (rec->max_budget >= 0) {
        double spend = window_spend(rec->key_counter, rec->spend, rec->budget_reset_at, req->now);
        if (spend >= rec->max_budget) {
            auth_format_float(spend, cur, sizeof cur);
            auth_format_float(rec->max_budget, max, sizeof max);
            const char *name = rec->key_name ? rec->key_name : "None";
            if (rec->key_alias)
                return fail(
                    err, 429, "budget_exceeded", NULL,
                    "Budget has been exceeded! Key=%s (%s) Current cost: %s, Max budget: %s",
                    rec->key_alias, name, cur, max);
            return fail(err, 429, "budget_exceeded", NULL,
                        "Budget has been exceeded! Key=%s Current cost: %s, Max budget: %s", name,
                        cur, max);
        }
    }
    if (rec->team_id && rec->team_max_budget >= 0) {
        double spend =
            window_spend(rec->team_counter, rec->team_spend, rec->team_budget_reset_at, req->now);
        if (spend >= rec->team_max_budget) {
            auth_format_float(spend, cur, sizeof cur);
            auth_format_float(rec->team_max_budget, max, sizeof max);
            return fail(err, 429, "budget_exceeded", NULL,
                        "Budget has been exceeded! Team=%s Current cost: %s, Max budget: %s",
                        rec->team_id, cur, max);
        }
    }
    /* a key in a team spends the team's budget, not its owner's personal one */
    if (!rec->team_id && rec->user_id && rec->user_max_budget >= 0) {
        double spend =
            window_spend(rec->user_counter, rec->user_spend, rec->user_budget_reset_at, req->now);
        if (spend >= rec->user_max_budget) {
            auth_format_float(spend, cur, sizeof cur);
            auth_format_float(rec->user_max_budget, max, sizeof max);
            return fail(err, 429, "budget_exceeded", NULL,
                        "ExceededBudget: User=%s over budget. Spend=%s, Budget=%s", rec->user_id,
                        cur, max);
        }
    }
    /* LiteLLM's _check_team_member_budget: the membership's spend against its budget row's
     * max_budget (max_budget_in_team), '>=' as the key and team checks */
    if (rec->has_member_budget && rec->team_id && rec->user_id) {
        double spend =
            rec->member_counter ? auth_counter_spend(rec->member_counter) : rec->member_spend;
        if (spend >= rec->member_max_budget) {
            auth_format_float(spend, cur, sizeof cur);
            auth_format_float(rec->member_max_budget, max, sizeof max);
            return fail(err, 429, "budget_exceeded", NULL,
                        "Budget has been exceeded! User=%s in Team=%s Current cost: %s, Max "
                        "budget: %s",
                        rec->user_id, rec->team_id, cur, max);
        }
    }
    if (req->model)
        for (size_t i = 0; i < rec->n_model_budgets; i++) {
            const auth_model_budget_t *mb = &rec->model_budgets[i];
            if (strcmp(mb->model, req->model) != 0)
                continue;
            double spend =
                rec->model_counters ? auth_counter_spend(rec->model_counters[i]) : mb->spend;
            /* LiteLLM's per-model limiter compares with '>' where the others use '>=' */
            if (spend > mb->max_budget) {
                char hex[2 * AUTH_HASH_LEN + 1];
                auth_hash_hex(&rec->hash, hex);
                return fail(err, 429, "budget_exceeded", NULL,
                            "LiteLLM Virtual Key: %s, key_alias: %s, exceeded budget for model=%s",
                            hex, rec->key_alias ? rec->key_alias : "None", req->model);
            }
        }
    return 0;
}

int auth_check_key(const auth_key_t *rec, const auth_request_t *req, auth_error_t *err)
{
    if (auth_check_blocked(rec, err) || auth_check_expired(rec, req->now, err) ||
        auth_check_model_access(rec, req, err) || auth_check_budgets(rec, req, err))
        return -1;
    return 0;
}

/* ---- budget durations
 * ---------------------------------------------------------------------------- */

int auth_duration_parse(str_t s, auth_duration_t *out)
{
    size_t i = 0;
    long long v = 0;
    while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9') {
        if (v > 100000000)
            return -1;
        v = v * 10 + (s.p[i++] - '0');
    }
    if (i == 0 || v <= 0)
        return -1;
    str_t u = str_skip(s, i);
    if (str_eq(u, STR_LIT("s")))
        out->unit = AUTH_DUR_SECOND;
    else if (str_eq(u, STR_LIT("m")))
        out->unit = AUTH_DUR_MINUTE;
    else if (str_eq(u, STR_LIT("h")))
        out->unit = AUTH_DUR_HOUR;
    else if (str_eq(u, STR_LIT("d")))
        out->unit = AUTH_DUR_DAY;
    else if (str_eq(u, STR_LIT("mo")))
        out->unit = AUTH_DUR_MONTH;
    else
        return -1;
    out->value = v;
    return 0;
}

static int days_in_month(int year, int month0)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month0 == 1 && leap ? 29 : d[month0];
}

/* tm (UTC, normalised) back to Unix seconds. */
static int64_t utc_seconds(struct tm *tm)
{
    return (int64_t)timegm(tm);
}

int64_t auth_duration_add(const auth_duration_t *d, int64_t now)
{
    switch (d->unit) {
    case AUTH_DUR_SECOND:
        return now + d->value;
    case AUTH_DUR_MINUTE:
        return now + d->value * 60;
    case AUTH_DUR_HOUR:
        return now + d->value * 3600;
    case AUTH_DUR_DAY:
        return now + d->value * 86400;
    case AUTH_DUR_MONTH:
    default: {
        time_t t = (time_t)now;
        struct tm tm;
        gmtime_r(&t, &tm);
        long long months = (long long)tm.tm_year * 12 + tm.tm_mon + d->value;
        tm.tm_year = (int)(months / 12);
        tm.tm_mon = (int)(months % 12);
        int last = days_in_month(tm.tm_year + 1900, tm.tm_mon);
        if (tm.tm_mday > last)
            tm.tm_mday = last;
        return utc_seconds(&tm);
    }
    }
}

int64_t auth_budget_next_reset(const auth_duration_t *d, int64_t now)
{
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    int64_t midnight = now - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
    int64_t unit = d->unit == AUTH_DUR_SECOND ? 1 : d->unit == AUTH_DUR_MINUTE ? 60 : 3600;
    switch (d->unit) {
    case AUTH_DUR_SECOND:
    case AUTH_DUR_MINUTE:
    case AUTH_DUR_HOUR: {
        int64_t step = unit * d->value, since = now - midnight;
        int64_t next = midnight + (since / step + 1) * step;
        return next < midnight + 86400 ? next : midnight + 86400;
    }
    case AUTH_DUR_DAY:
        return midnight + 86400 * d->value;
    case AUTH_DUR_MONTH:
    default: {
        long long months = (long long)tm.tm_year * 12 + tm.tm_mon + d->value;
        struct tm r = {0};
        r.tm_year = (int)(months / 12);
        r.tm_mon = (int)(months % 12);
        r.tm_mday = 1;
        return utc_seconds(&r);
    }
    }
}

/* ---- end users ------------------------------------------------------------------------------ */

int auth_end_user_hash(const char *id, auth_hash_t *out)
{
    static const char prefix[] = "enduser:";
    size_t n = strlen(id);
    char stack[256];
    char *buf = n + sizeof prefix <= sizeof stack ? stack : malloc(n + sizeof prefix);
    if (!buf)
        return -1;
    memcpy(buf, prefix, sizeof prefix - 1);
    memcpy(buf + sizeof prefix - 1, id, n);
    int rc = auth_key_hash(str_make(buf, sizeof prefix - 1 + n), out);
    if (buf != stack)
        free(buf);
    return rc;
}

void auth_end_user_record(auth_key_t *k, const auth_hash_t *hash, const char *id, bool blocked,
                          double spend, double max_budget, long long rpm, long long tpm,
                          long long max_parallel)
{
    memset(k, 0, sizeof *k);
    k->hash = *hash;
    k->key_alias = id;
    k->blocked = blocked;
    k->spend = spend;
    k->max_budget = max_budget;
    k->team_max_budget = k->user_max_budget = -1;
    k->rpm_limit = rpm;
    k->tpm_limit = tpm;
    k->max_parallel_requests = max_parallel;
    k->team_limits = k->user_limits = k->member_limits =
        (auth_limits_t){AUTH_NO_LIMIT, AUTH_NO_LIMIT, AUTH_NO_LIMIT};
}

int auth_check_end_user(const auth_key_t *rec, bool zero_cost, auth_error_t *err)
{
    const char *id = rec->key_alias ? rec->key_alias : "";
    if (rec->blocked)
        return fail(err, 400, "invalid_request_error", NULL,
                    "User blocked from making LLM API Calls. User=%s", id);
    if (zero_cost || rec->max_budget < 0)
        return 0;
    double spend = rec->key_counter ? auth_counter_spend(rec->key_counter) : rec->spend;
    if (spend > rec->max_budget) {
        char cur[64], max[64];
        auth_format_float(spend, cur, sizeof cur);
        auth_format_float(rec->max_budget, max, sizeof max);
        return fail(err, 429, "budget_exceeded", NULL,
                    "ExceededBudget: End User=%s over budget. Spend=%s, Budget=%s", id, cur, max);
    }
    return 0;
}
