/* SPDX-License-Identifier: MIT
 * The local response cache: 64 shards, each a chained hash table with its own LRU list, mutex
 * and share of the caps. A lookup holds its shard's lock only to find the entry, check its age
 * and take a reference (no copy, no allocation, no syscall): the body is written to the client
 * after the lock is gone, and the last holder of an evicted entry frees it. With 64 shards and
 * a handful of workers two lookups rarely meet on a lock, and when they do the wait is a few
 * dozen instructions; a lock-free table (the key cache's QSBR scheme) would save little and
 * needs every worker to report quiescent points to one more domain. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"

#define CACHE_SHARDS 64
#define CACHE_BUCKETS 256 /* per shard; chains stay short under the default caps */

struct cache_entry {
    struct cache_entry *chain;       /* next in the bucket */
    struct cache_entry *prev, *next; /* LRU list, most recent first */
    atomic_uint refs;                /* the table's reference plus one per holder */
    uint64_t hash;
    int64_t created_ms, expires_ms;
    size_t size; /* what it counts against the byte cap */
    char content_type[64];
    size_t body_n;
    char *body; /* points after the key */
    char key[];
};

typedef struct {
    pthread_mutex_t lock;
    cache_entry_t *buckets[CACHE_BUCKETS];
    cache_entry_t *lru_head, *lru_tail;
    size_t entries, bytes;
    uint64_t hits, misses, evictions;
} cache_shard_t;

struct cache {
    size_t max_entries, max_bytes; /* per shard */
    cache_shard_t shards[CACHE_SHARDS];
};

static uint64_t key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

cache_t *cache_new(size_t max_entries, size_t max_bytes)
{
    cache_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->max_entries = max_entries / CACHE_SHARDS ? max_entries / CACHE_SHARDS : 1;
    c->max_bytes = max_bytes / CACHE_SHARDS ? max_bytes / CACHE_SHARDS : 1;
    for (int i = 0; i < CACHE_SHARDS; i++)
        pthread_mutex_init(&c->shards[i].lock, NULL);
    return c;
}

void cache_entry_release(cache_entry_t *e)
{
    if (e && atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        free(e);
}

/* Takes e out of its shard (lock held); the table's reference is dropped. */
static void shard_unlink(cache_shard_t *s, cache_entry_t *e)
{
    cache_entry_t **pp = &s->buckets[e->hash % CACHE_BUCKETS];
    while (*pp && *pp != e)
        pp = &(*pp)->chain;
    if (*pp)
        *pp = e->chain;
    if (e->prev)
        e->prev->next = e->next;
    else
        s->lru_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        s->lru_tail = e->prev;
    s->entries--;
    s->bytes -= e->size;
    cache_entry_release(e);
}

void cache_free(cache_t *c)
{
    if (!c)
        return;
    for (int i = 0; i < CACHE_SHARDS; i++) {
        cache_shard_t *s = &c->shards[i];
        while (s->lru_head)
            shard_unlink(s, s->lru_head);
        pthread_mutex_destroy(&s->lock);
    }
    free(c);
}

static cache_entry_t *shard_find(cache_shard_t *s, const char *key, uint64_t h)
{
    for (cache_entry_t *e = s->buckets[h % CACHE_BUCKETS]; e; e = e->chain)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

cache_entry_t *cache_get(cache_t *c, const char *key, int64_t now_ms, int64_t max_age_ms)
{
    uint64_t h = key_hash(key);
    cache_shard_t *s = &c->shards[(h >> 32) % CACHE_SHARDS];
    pthread_mutex_lock(&s->lock);
    cache_entry_t *e = shard_find(s, key, h);
    if (e && e->expires_ms <= now_ms) {
        shard_unlink(s, e);
        e = NULL;
    }
    if (e && max_age_ms >= 0 && now_ms - e->created_ms > max_age_ms)
        e = NULL; /* too old for this caller, still fine for others */
    if (e) {
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
        if (e != s->lru_head) { /* move to the front */
            e->prev->next = e->next;
            if (e->next)
                e->next->prev = e->prev;
            else
                s->lru_tail = e->prev;
            e->prev = NULL;
            e->next = s->lru_head;
            s->lru_head->prev = e;
            s->lru_head = e;
        }
        s->hits++;
    } else {
        s->misses++;
    }
    pthread_mutex_unlock(&s->lock);
    return e;
}

str_t cache_entry_body(const cache_entry_t *e)
{
    return str_make(e->body, e->body_n);
}

const char *cache_entry_content_type(const cache_entry_t *e)
{
    return e->content_type;
}

int cache_put(cache_t *c, const char *key, const char *content_type, const char *body, size_t n,
              int64_t now_ms, int64_t ttl_ms)
{
    size_t key_n = strlen(key);
    size_t size = sizeof(cache_entry_t) + key_n + 1 + n;
    if (size > c->max_bytes || ttl_ms <= 0)
        return -1;
    /* built outside the lock: the copy is the slow part */
    cache_entry_t *e = malloc(size);
    if (!e)
        return -1;
    memset(e, 0, sizeof *e);
    atomic_init(&e->refs, 1);
    e->hash = key_hash(key);
    e->created_ms = now_ms;
    e->expires_ms = now_ms + ttl_ms;
    e->size = size;
    snprintf(e->content_type, sizeof e->content_type, "%s",
             content_type ? content_type : "application/json");
    memcpy(e->key, key, key_n + 1);
    e->body = e->key + key_n + 1;
    memcpy(e->body, body, n);
    e->body_n = n;
    cache_shard_t *s = &c->shards[(e->hash >> 32) % CACHE_SHARDS];
    pthread_mutex_lock(&s->lock);
    cache_entry_t *old = shard_find(s, key, e->hash);
    if (old)
        shard_unlink(s, old);
    while (s->lru_tail && (s->entries + 1 > c->max_entries || s->bytes + size > c->max_bytes)) {
        shard_unlink(s, s->lru_tail);
        s->evictions++;
    }
    cache_entry_t **bucket = &s->buckets[e->hash % CACHE_BUCKETS];
    e->chain = *bucket;
    *bucket = e;
    e->next = s->lru_head;
    if (s->lru_head)
        s->lru_head->prev = e;
    s->lru_head = e;
    if (!s->lru_tail)
        s->lru_tail = e;
    s->entries++;
    s->bytes += size;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

void cache_stats(cache_t *c, cache_stats_t *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < CACHE_SHARDS; i++) {
        cache_shard_t *s = &c->shards[i];
        pthread_mutex_lock(&s->lock);
        out->entries += s->entries;
        out->bytes += s->bytes;
        out->hits += s->hits;
        out->misses += s->misses;
        out->evictions += s->evictions;
        pthread_mutex_unlock(&s->lock);
    }
}
