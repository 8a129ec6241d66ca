/* SPDX-License-Identifier: MIT
 * Private to src/limits: the counter and table layout shared by table.c (the request path,
 * creation, reclamation) and sync.c (the Redis thread). Tests may include it. */
#ifndef SLUICE_LIMITS_INTERNAL_H
#define SLUICE_LIMITS_INTERNAL_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/qsbr.h"
#include "limits/limits.h"

#define LIM_CACHE_LINE 64
#define LIM_SHARDS 16 /* a reclaim or a growth rebuilds one shard's slots, not the table's */

/* Gen-tagged words: the window generation (24 bits) above a 40-bit value. A value tagged with an
 * older generation than the counter's window reads as 0, so rolling a window over is one CAS on
 * the window word and the other words reset lazily. 2^40 is 34 years of milliseconds (window
 * starts are kept modulo that) and a trillion requests or tokens per window and instance. */
#define LIM_VAL_BITS 40
#define LIM_VAL_MASK ((UINT64_C(1) << LIM_VAL_BITS) - 1)
#define LIM_GEN_NONE 0u           /* no window started yet */
#define LIM_GEN_DEAD 0xFFFFFFu    /* the counter was reclaimed: look it up again */
#define LIM_GAUGE_DEAD UINT64_MAX /* a reclaimed gauge's `used` */

static inline uint64_t lim__tag(uint32_t gen, uint64_t v)
{
    return (uint64_t)gen << LIM_VAL_BITS | (v & LIM_VAL_MASK);
}
static inline uint32_t lim__gen(uint64_t w)
{
    return (uint32_t)(w >> LIM_VAL_BITS);
}
static inline uint64_t lim__val(uint64_t w)
{
    return w & LIM_VAL_MASK;
}
/* The value of a tagged word in window `gen`: 0 when it was written in another window. */
static inline uint64_t lim__read(uint64_t w, uint32_t gen)
{
    return lim__gen(w) == gen ? lim__val(w) : 0;
}
/* Milliseconds since the window start held in `w` (start kept modulo 2^40), signed: a caller
 * that read the clock just before another thread started the window (and was then preempted)
 * passes a `now` slightly before the start, and that window is still its window. */
static inline int64_t lim__elapsed(uint64_t w, int64_t now_ms)
{
    uint64_t d = ((uint64_t)now_ms - lim__val(w)) & LIM_VAL_MASK;
    return d & (UINT64_C(1) << (LIM_VAL_BITS - 1)) ? (int64_t)d - (int64_t)(LIM_VAL_MASK + 1)
                                                   : (int64_t)d;
}

/* What an instance may admit in a window before Redis has told it anything about that window
 * (its "cold share"); Redis reserves it for every instance that has not reported yet. */
static inline int64_t lim__cold_share(int64_t limit, unsigned instances)
{
    int64_t share = limit / (2 * (int64_t)(instances ? instances : 1));
    return share > 0 ? share : 1;
}

enum { LIM_RATE = 1, LIM_GAUGE = 2, LIM_MARK = 3 };

typedef struct lim_counter lim_counter_t;
typedef struct lim_sync lim_sync_t;

/* What only the sync thread reads and writes. */
typedef struct {
    bool active;          /* in the sync thread's active set */
    bool in_batch;        /* a command for it is in flight */
    uint32_t gen;         /* rate: the window generation the fields below refer to */
    uint64_t pushed;      /* rate: how much of `extra` Redis holds, for gen */
    uint64_t last_used;   /* rate: `used` at the previous look (demand) */
    uint64_t rate;        /* rate: demand per tick, decaying */
    uint64_t returning;   /* rate: lease taken back, still to be given back to Redis */
    int64_t gauge_pushed; /* gauge: the value Redis holds for this instance; -1 none;
                             mark: the time last pushed */
    int64_t synced_ms;    /* when Redis last answered for it */
} lim_sync_state_t;

struct lim_counter {
    /* Written by workers: one cache line. */
    alignas(LIM_CACHE_LINE) _Atomic uint64_t window; /* rate: gen | window start (Unix ms) */
    _Atomic uint64_t used;  /* rate: gen | counted here this window; gauge: slots held here;
                               mark: the time set here (Unix ms), LIM_GAUGE_DEAD once reclaimed */
    _Atomic uint64_t extra; /* rate: gen | counted outside a lease: Redis gets it as increments */
    _Atomic uint64_t allow; /* rate: gen | lease left (Redis counted it already) */
    _Atomic int64_t touched_ms; /* last call, to the second */
    _Atomic int64_t limit;      /* the last limit a caller passed: leases are sized with it */
    _Atomic uint32_t denied;    /* refusals since the sync thread last looked */
    _Atomic bool leasable;      /* admitted with an amount: takes leases */
    _Atomic bool dirty;         /* on the table's dirty stack */
    lim_counter_t *dirty_next;
    /* Written by the sync thread, read by workers. */
    alignas(LIM_CACHE_LINE) _Atomic uint64_t pushed; /* rate: gen | part of `extra` in Redis */
    _Atomic int64_t g_count; /* rate: global count (leases included) at the last answer;
                                gauge: slots held by other instances; mark: Redis's time */
    _Atomic int64_t g_end;   /* rate: Unix ms when that global window ends; 0 unknown */
    _Atomic int64_t g_base;  /* gauge: slots held here when last pushed */
    _Atomic int64_t g_peers; /* gauge: other instances holding slots */
    alignas(LIM_CACHE_LINE) lim_sync_state_t s;
    /* Immutable. */
    uint64_t hash;
    int kind;
    uint32_t name_len;
    char name[]; /* NUL-terminated */
};

typedef struct {
    size_t cap; /* power of two; at most half full */
    size_t used;
    _Atomic(lim_counter_t *) slot[];
} lim_slots_t;

struct lim_table {
    struct {
        alignas(LIM_CACHE_LINE) _Atomic(lim_slots_t *) slots;
    } shard[LIM_SHARDS];
    alignas(LIM_CACHE_LINE) _Atomic int shared;             /* 1: admit from the global counts */
    _Atomic unsigned instances;                             /* live instances (>= 1) */
    alignas(LIM_CACHE_LINE) _Atomic(lim_counter_t *) dirty; /* counters changed since the last
                                                               tick (Treiber stack) */
    alignas(LIM_CACHE_LINE) pthread_mutex_t lock;           /* creating and reclaiming counters */
    size_t num_counters;
    _Atomic unsigned long reclaimed;
    qsbr_t *qsbr;
    uint64_t seed; /* of the name hash: names come from clients (end users) */
    int64_t window_ms;
    lim_sync_t *sync; /* NULL without Redis */
};

/* table.c, for sync.c */
/* Calls fn for every counter changed since the last call, clearing its dirty mark first. */
void lim__dirty_drain(lim_table_t *t, void (*fn)(void *arg, lim_counter_t *c), void *arg);
/* Unlinks counters idle for two windows (skipping those the sync thread holds) and frees what
 * readers no longer see. */
void lim__reclaim(lim_table_t *t, int64_t now_ms);

/* Another instance's mark (read from Redis): created here if need be, so that lookups find it. */
void lim__mark_learn(lim_table_t *t, str_t name, int64_t until_ms, int64_t now_ms);

/* redis_uv.c, for sync.c: drives a hiredis async context from a libuv loop (REDIS_OK/ERR). */
struct redisAsyncContext;
struct uv_loop_s;
int lim__redis_uv_attach(struct redisAsyncContext *ac, struct uv_loop_s *loop);

/* sync.c, for table.c */
lim_sync_t *lim__sync_start(lim_table_t *t, const lim_opts_t *opts);
void lim__sync_stop(lim_sync_t *s);
void lim__sync_stats(lim_sync_t *s, lim_stats_t *out);

#endif
