/* SPDX-License-Identifier: MIT
 * The counter table and the request path: lock-free lookup by name (open addressing over atomic
 * slots, QSBR for memory), window counters whose every admission is one CAS, in-flight gauges, and
 * reclamation of idle counters. What a worker does here is a few atomic operations on the
 * counter's own cache line; it never takes a lock once the counter exists, never allocates, never
 * makes a syscall. Not here: Redis (sync.c), which limits apply to a request (the data plane). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/common.h"
#include "core/log.h"
#include "limits/internal.h"

/* ---- names ---------------------------------------------------------------------------------- */

static inline uint64_t mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Seeded multiply-fold hash (wyhash's mixing step), 8 bytes per round. */
static uint64_t name_hash(uint64_t seed, const char *p, size_t n)
{
    const uint64_t k1 = 0xa0761d6478bd642full, k2 = 0xe7037ed1a0b428dbull;
    uint64_t h = seed ^ (n * k1);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = mix(v ^ k1, h ^ k2);
        p += 8;
        n -= 8;
    }
    uint64_t v = 0;
    memcpy(&v, p, n);
    h = mix(v ^ k1 ^ ((uint64_t)n << 56), h ^ k2);
    return mix(h ^ k1, seed ^ k2);
}

/* ---- the table ------------------------------------------------------------------------------ */

static lim_slots_t *slots_new(size_t cap)
{
    lim_slots_t *s = xcalloc(1, sizeof *s + cap * sizeof s->slot[0]);
    s->cap = cap;
    return s;
}

lim_table_t *lim_table_new(const lim_opts_t *opts)
{
    lim_table_t *t = xcalloc(1, sizeof *t);
    for (size_t i = 0; i < LIM_SHARDS; i++)
        atomic_init(&t->shard[i].slots, slots_new(16));
    atomic_init(&t->shared, 0);
    atomic_init(&t->instances, 1);
    atomic_init(&t->dirty, NULL);
    atomic_init(&t->reclaimed, 0);
    pthread_mutex_init(&t->lock, NULL);
    t->qsbr = qsbr_new();
    t->window_ms = opts && opts->window_ms > 0 ? opts->window_ms : LIM_WINDOW_MS;
    if (getrandom(&t->seed, sizeof t->seed, GRND_NONBLOCK) != sizeof t->seed)
        t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ull;
    if (opts && opts->redis)
        t->sync = lim__sync_start(t, opts);
    return t;
}

void lim_table_free(lim_table_t *t)
{
    if (!t)
        return;
    if (t->sync)
        lim__sync_stop(t->sync);
    for (size_t i = 0; i < LIM_SHARDS; i++) {
        lim_slots_t *s = atomic_load(&t->shard[i].slots);
        for (size_t j = 0; j < s->cap; j++)
            free(atomic_load(&s->slot[j]));
        free(s);
    }
    qsbr_free(t->qsbr);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

lim_reader_t *lim_reader_register(lim_table_t *t)
{
    return (lim_reader_t *)qsbr_reader_register(t->qsbr);
}

void lim_reader_unregister(lim_reader_t *r)
{
    qsbr_reader_unregister((qsbr_reader_t *)r);
}

void lim_reader_quiescent(lim_reader_t *r)
{
    qsbr_quiescent((qsbr_reader_t *)r);
}

void lim_reader_offline(lim_reader_t *r)
{
    qsbr_offline((qsbr_reader_t *)r);
}

void lim_reader_online(lim_reader_t *r)
{
    qsbr_online((qsbr_reader_t *)r);
}

/* -- lookup and creation -- */

static inline unsigned shard_of(uint64_t h)
{
    return (unsigned)(h >> 60) % LIM_SHARDS;
}

/* The slot holding the counter, or the empty slot where it would go. */
static _Atomic(lim_counter_t *) *slots_find(lim_slots_t *s, uint64_t h, const char *p, size_t n)
{
    size_t mask = s->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        lim_counter_t *c = atomic_load_explicit(&s->slot[i], memory_order_acquire);
        if (!c || (c->hash == h && c->name_len == n && memcmp(c->name, p, n) == 0))
            return &s->slot[i];
    }
}

static lim_counter_t *counter_new(uint64_t h, str_t name, int kind)
{
    lim_counter_t *c = aligned_alloc(LIM_CACHE_LINE, (sizeof *c + name.n + 1 + LIM_CACHE_LINE - 1) /
                                                         LIM_CACHE_LINE * LIM_CACHE_LINE);
    if (!c)
        abort();
    memset(c, 0, sizeof *c);
    atomic_init(&c->window, lim__tag(LIM_GEN_NONE, 0));
    atomic_init(&c->used, 0);
    atomic_init(&c->extra, 0);
    atomic_init(&c->allow, 0);
    atomic_init(&c->touched_ms, 0);
    atomic_init(&c->limit, -1);
    atomic_init(&c->denied, 0);
    atomic_init(&c->leasable, false);
    atomic_init(&c->dirty, false);
    atomic_init(&c->pushed, 0);
    atomic_init(&c->g_count, 0);
    atomic_init(&c->g_end, 0);
    atomic_init(&c->g_base, 0);
    atomic_init(&c->g_peers, 0);
    c->s.gauge_pushed = -1;
    c->hash = h;
    c->kind = kind;
    c->name_len = (uint32_t)name.n;
    memcpy(c->name, name.p, name.n);
    c->name[name.n] = '\0';
    return c;
}

/* Inserts c into shard `si` (lock held): one release store into a free slot, or a new slots array
 * twice the size when the shard would be more than half full. */
static void shard_insert(lim_table_t *t, unsigned si, lim_counter_t *c)
{
    lim_slots_t *s = atomic_load_explicit(&t->shard[si].slots, memory_order_relaxed);
    if ((s->used + 1) * 2 > s->cap) {
        lim_slots_t *n = slots_new(s->cap * 2);
        for (size_t i = 0; i < s->cap; i++) {
            lim_counter_t *e = atomic_load_explicit(&s->slot[i], memory_order_relaxed);
            if (e)
                atomic_store_explicit(slots_find(n, e->hash, e->name, e->name_len), e,
                                      memory_order_relaxed);
        }
        n->used = s->used;
        atomic_store_explicit(&t->shard[si].slots, n, memory_order_release);
        qsbr_retire(t->qsbr, s, free);
        s = n;
    }
    atomic_store_explicit(slots_find(s, c->hash, c->name, c->name_len), c, memory_order_release);
    s->used++;
    t->num_counters++;
}

static void log_kind_clash(str_t name)
{
    static atomic_flag logged = ATOMIC_FLAG_INIT;
    if (!atomic_flag_test_and_set(&logged))
        log_error("limits: counter %.*s is used both as a rate and as a gauge; the second use is "
                  "not limited (names must differ)",
                  STR_FMT(name));
}

/* The counter named `name`, created when `create`. NULL: none (or the name is unusable). The
 * pointer is valid until the caller's next quiescent point. */
static lim_counter_t *counter_get(lim_table_t *t, str_t name, int kind, bool create)
{
    if (!name.n || name.n > LIM_NAME_MAX)
        return NULL;
    uint64_t h = name_hash(t->seed, name.p, name.n);
    unsigned si = shard_of(h);
    lim_slots_t *s = atomic_load_explicit(&t->shard[si].slots, memory_order_acquire);
    lim_counter_t *c = atomic_load_explicit(slots_find(s, h, name.p, name.n), memory_order_acquire);
    if (c && c->kind != kind) {
        log_kind_clash(name);
        return NULL;
    }
    if (c || !create)
        return c;
    pthread_mutex_lock(&t->lock);
    s = atomic_load_explicit(&t->shard[si].slots, memory_order_relaxed);
    c = atomic_load_explicit(slots_find(s, h, name.p, name.n), memory_order_relaxed);
    if (!c) {
        c = counter_new(h, name, kind);
        shard_insert(t, si, c);
    }
    pthread_mutex_unlock(&t->lock);
    if (c->kind != kind) {
        log_kind_clash(name);
        return NULL;
    }
    return c;
}

/* A reclaimed counter was met: wait for the reclaimer to finish unlinking it (it holds the lock
 * while it marks and unlinks), so the next lookup cannot find it again. */
static void wait_reclaimer(lim_table_t *t)
{
    pthread_mutex_lock(&t->lock);
    pthread_mutex_unlock(&t->lock);
}

static inline void touch(lim_counter_t *c, int64_t now, int64_t limit)
{
    int64_t d = now - atomic_load_explicit(&c->touched_ms, memory_order_relaxed);
    if (d >= 1000 || d < 0)
        atomic_store_explicit(&c->touched_ms, now, memory_order_relaxed);
    if (atomic_load_explicit(&c->limit, memory_order_relaxed) != limit)
        atomic_store_explicit(&c->limit, limit, memory_order_relaxed);
}

/* Tells the sync thread that c changed: pushed on the dirty stack once per tick. */
static inline void mark_dirty(lim_table_t *t, lim_counter_t *c)
{
    if (!t->sync || atomic_load_explicit(&c->dirty, memory_order_relaxed))
        return;
    if (atomic_exchange_explicit(&c->dirty, true, memory_order_acquire))
        return;
    lim_counter_t *head = atomic_load_explicit(&t->dirty, memory_order_relaxed);
    do
        c->dirty_next = head;
    while (!atomic_compare_exchange_weak_explicit(&t->dirty, &head, c, memory_order_release,
                                                  memory_order_relaxed));
}

void lim__dirty_drain(lim_table_t *t, void (*fn)(void *arg, lim_counter_t *c), void *arg)
{
    lim_counter_t *c = atomic_exchange_explicit(&t->dirty, NULL, memory_order_acquire);
    while (c) {
        /* read the link before clearing the flag: a worker may push c again right after */
        lim_counter_t *next = c->dirty_next;
        atomic_store_explicit(&c->dirty, false, memory_order_release);
        fn(arg, c);
        c = next;
    }
}

/* ---- windows -------------------------------------------------------------------------------- */

typedef struct {
    uint32_t gen;
    int64_t start; /* Unix ms */
    bool live;     /* false: the last window ended (or none began) */
} win_t;

static inline uint32_t next_gen(uint32_t g)
{
    g = (g + 1) & 0xFFFFFFu;
    return g == LIM_GEN_NONE || g == LIM_GEN_DEAD ? 1 : g;
}

/* The current window of c. When the last one ended and `roll`, starts one at `now` (LiteLLM's
 * window is anchored at the first request after the previous one ended). false: c is dead. */
static bool window_get(lim_table_t *t, lim_counter_t *c, int64_t now, bool roll, win_t *out)
{
    uint64_t w = atomic_load_explicit(&c->window, memory_order_acquire);
    for (;;) {
        uint32_t gen = lim__gen(w);
        if (gen == LIM_GEN_DEAD)
            return false;
        int64_t el = lim__elapsed(w, now);
        if (gen != LIM_GEN_NONE && el < t->window_ms) {
            *out = (win_t){gen, now - el, true};
            return true;
        }
        if (!roll) {
            *out = (win_t){gen, now, false};
            return true;
        }
        uint64_t nw = lim__tag(next_gen(gen), (uint64_t)now);
        if (atomic_compare_exchange_weak_explicit(&c->window, &w, nw, memory_order_acq_rel,
                                                  memory_order_acquire))
            w = nw;
    }
}

/* Adds `amount` to a tagged word for window `gen` when the result stays <= cap. 1 added (*after:
 * the new value), 0 over cap (*after: the value), -1 the word already belongs to a newer window
 * (the caller starts over). Words from older windows count from 0. */
static int tag_add(_Atomic uint64_t *word, _Atomic uint64_t *window, uint32_t gen, uint64_t amount,
                   uint64_t cap, uint64_t *after)
{
    uint64_t cur = atomic_load_explicit(word, memory_order_relaxed);
    for (;;) {
        uint64_t base;
        if (lim__gen(cur) == gen)
            base = lim__val(cur);
        else if (lim__gen(atomic_load_explicit(window, memory_order_acquire)) == gen)
            base = 0;
        else
            return -1;
        if (base + amount > cap) {
            *after = base;
            return 0;
        }
        uint64_t v = base + amount > LIM_VAL_MASK ? LIM_VAL_MASK : base + amount;
        if (atomic_compare_exchange_weak_explicit(word, &cur, lim__tag(gen, v),
                                                  memory_order_acq_rel, memory_order_relaxed)) {
            *after = v;
            return 1;
        }
    }
}

/* Spends `amount` of this window's lease. */
static bool lease_take(lim_counter_t *c, uint32_t gen, uint64_t amount)
{
    uint64_t cur = atomic_load_explicit(&c->allow, memory_order_relaxed);
    while (lim__gen(cur) == gen && lim__val(cur) >= amount)
        if (atomic_compare_exchange_weak_explicit(&c->allow, &cur,
                                                  lim__tag(gen, lim__val(cur) - amount),
                                                  memory_order_acq_rel, memory_order_relaxed))
            return true;
    return false;
}

/* The window's usage across instances as known here (shared mode): the global count at the last
 * answer (everyone's uses and leases) minus this instance's unspent lease, plus what it counted
 * outside leases and has not pushed yet. Before any answer for a live global window: the local
 * count. *known says which. */
static int64_t rate_estimate(lim_counter_t *c, const win_t *w, int64_t now, bool *known)
{
    int64_t end = atomic_load_explicit(&c->g_end, memory_order_acquire);
    *known = now < end;
    int64_t mine =
        w->live ? (int64_t)lim__read(atomic_load_explicit(&c->used, memory_order_relaxed), w->gen)
                : 0;
    if (!*known)
        return mine;
    int64_t g = atomic_load_explicit(&c->g_count, memory_order_relaxed);
    if (!w->live)
        return g;
    uint64_t ex = lim__read(atomic_load_explicit(&c->extra, memory_order_relaxed), w->gen);
    uint64_t pu = lim__read(atomic_load_explicit(&c->pushed, memory_order_relaxed), w->gen);
    uint64_t al = lim__read(atomic_load_explicit(&c->allow, memory_order_relaxed), w->gen);
    int64_t est = g + (ex > pu ? (int64_t)(ex - pu) : 0) - (int64_t)al;
    return est > mine ? est : mine;
}

static void fill_info(lim_info_t *info, int64_t limit, int64_t used, int64_t reset_ms)
{
    if (!info)
        return;
    info->limit = limit;
    info->used = used;
    info->remaining = limit < 0 ? -1 : (used >= limit ? 0 : limit - used);
    info->reset_ms = reset_ms;
}

static int64_t reset_of(lim_table_t *t, lim_counter_t *c, const win_t *w, int64_t now)
{
    if (w->live)
        return w->start + t->window_ms;
    int64_t end = c ? atomic_load_explicit(&c->g_end, memory_order_relaxed) : 0;
    return now < end ? end : now + t->window_ms;
}

/* Outside a lease (shared mode): allowed early in a window, while what Redis knows leaves room
 * for every instance to do the same. The cap bounds the overshoot when an instance starts a
 * window knowing nothing (docs/limits.md, "Exactness"). 1 admitted, 0 refused, -1 start over. */
static int admit_unleased(lim_table_t *t, lim_counter_t *c, const win_t *w, int64_t limit,
                          uint64_t amount, int64_t now, int64_t *used_after)
{
    uint64_t n = atomic_load_explicit(&t->instances, memory_order_relaxed);
    n = n ? n : 1;
    uint64_t cur = atomic_load_explicit(&c->extra, memory_order_relaxed);
    for (;;) {
        uint64_t ex;
        if (lim__gen(cur) == w->gen)
            ex = lim__val(cur);
        else if (lim__gen(atomic_load_explicit(&c->window, memory_order_acquire)) == w->gen)
            ex = 0;
        else
            return -1;
        bool known;
        int64_t est = rate_estimate(c, w, now, &known);
        /* rate_estimate read `extra` itself; use this loop's value for the unpushed part */
        uint64_t cap;
        if (known) {
            int64_t g = atomic_load_explicit(&c->g_count, memory_order_relaxed);
            cap = g < limit ? (uint64_t)(limit - g) / (2 * n) : 0;
        } else {
            cap = (uint64_t)lim__cold_share(limit, (unsigned)n);
        }
        if (ex + amount > cap || est + (int64_t)amount > limit) {
            *used_after = est;
            return 0;
        }
        if (atomic_compare_exchange_weak_explicit(&c->extra, &cur, lim__tag(w->gen, ex + amount),
                                                  memory_order_acq_rel, memory_order_relaxed)) {
            *used_after = est + (int64_t)amount;
            return 1;
        }
    }
}

/* One admission attempt on c. 1 admitted, 0 refused, -1 c was reclaimed. */
static int rate_admit(lim_table_t *t, lim_counter_t *c, int64_t limit, uint64_t amount, int64_t now,
                      lim_info_t *info)
{
    for (;;) {
        win_t w;
        if (!window_get(t, c, now, true, &w))
            return -1;
        uint64_t after;
        int64_t used;
        int r;
        if (!atomic_load_explicit(&t->shared, memory_order_acquire)) {
            /* this instance alone: exact, one CAS */
            r = tag_add(&c->used, &c->window, w.gen, amount, (uint64_t)limit, &after);
            if (r < 0)
                continue;
            if (r && t->sync) /* pushed to Redis once it answers again */
                tag_add(&c->extra, &c->window, w.gen, amount, UINT64_MAX, &after);
            used = (int64_t)after;
        } else if (lease_take(c, w.gen, amount)) {
            tag_add(&c->used, &c->window, w.gen, amount, UINT64_MAX, &after);
            bool known;
            used = rate_estimate(c, &w, now, &known);
            r = 1;
        } else {
            r = admit_unleased(t, c, &w, limit, amount, now, &used);
            if (r < 0)
                continue;
            if (r)
                tag_add(&c->used, &c->window, w.gen, amount, UINT64_MAX, &after);
        }
        if (!r)
            atomic_fetch_add_explicit(&c->denied, 1, memory_order_relaxed);
        mark_dirty(t, c);
        fill_info(info, limit, used, w.start + t->window_ms);
        return r;
    }
}

/* The window's usage on c (NULL: none). A dead counter reads as unused: its window ended long
 * ago. */
static void rate_peek(lim_table_t *t, lim_counter_t *c, int64_t limit, int64_t now_ms,
                      lim_info_t *info)
{
    win_t w = {0, now_ms, false};
    if (!c || !window_get(t, c, now_ms, false, &w)) {
        fill_info(info, limit, 0, now_ms + t->window_ms);
        return;
    }
    int64_t used;
    if (atomic_load_explicit(&t->shared, memory_order_acquire)) {
        bool known;
        used = rate_estimate(c, &w, now_ms, &known);
    } else {
        used = w.live
                   ? (int64_t)lim__read(atomic_load_explicit(&c->used, memory_order_relaxed), w.gen)
                   : 0;
    }
    fill_info(info, limit, used, reset_of(t, c, &w, now_ms));
}

void lim_rate_peek(lim_table_t *t, str_t name, int64_t limit, int64_t now_ms, lim_info_t *info)
{
    if (info)
        rate_peek(t, counter_get(t, name, LIM_RATE, false), limit, now_ms, info);
}

void lim_rate_watch(lim_table_t *t, str_t name, int64_t now_ms, lim_info_t *info)
{
    lim_counter_t *c = counter_get(t, name, LIM_RATE, t->sync != NULL);
    if (c && t->sync) {
        int64_t d = now_ms - atomic_load_explicit(&c->touched_ms, memory_order_relaxed);
        if (d >= 1000 || d < 0)
            atomic_store_explicit(&c->touched_ms, now_ms, memory_order_relaxed);
        mark_dirty(t, c);
    }
    lim_info_t tmp;
    rate_peek(t, c, -1, now_ms, info ? info : &tmp);
}

bool lim_rate_check_add(lim_table_t *t, str_t name, int64_t limit, int64_t amount, int64_t now_ms,
                        lim_info_t *info)
{
    if (limit < 0) { /* no limit: count, always admit */
        lim_rate_add(t, name, amount, now_ms);
        lim_rate_peek(t, name, limit, now_ms, info);
        return true;
    }
    if (amount <= 0) { /* LiteLLM's tpm check: the window is still under the limit */
        lim_counter_t *c = counter_get(t, name, LIM_RATE, true);
        if (c) { /* so that the sync thread reads its global usage from now on */
            touch(c, now_ms, limit);
            mark_dirty(t, c);
        }
        lim_info_t tmp;
        rate_peek(t, c, limit, now_ms, &tmp);
        if (info)
            *info = tmp;
        return tmp.used < limit;
    }
    for (;;) {
        lim_counter_t *c = counter_get(t, name, LIM_RATE, true);
        if (!c) {
            fill_info(info, limit, 0, now_ms + t->window_ms);
            return true;
        }
        touch(c, now_ms, limit);
        if (!atomic_load_explicit(&c->leasable, memory_order_relaxed))
            atomic_store_explicit(&c->leasable, true, memory_order_relaxed);
        int r = rate_admit(t, c, limit, (uint64_t)amount, now_ms, info);
        if (r >= 0)
            return r == 1;
        wait_reclaimer(t);
    }
}

void lim_rate_add(lim_table_t *t, str_t name, int64_t amount, int64_t now_ms)
{
    if (amount <= 0)
        return;
    for (;;) {
        lim_counter_t *c = counter_get(t, name, LIM_RATE, true);
        if (!c)
            return;
        touch(c, now_ms, atomic_load_explicit(&c->limit, memory_order_relaxed));
        win_t w;
        uint64_t after;
        if (!window_get(t, c, now_ms, true, &w)) {
            wait_reclaimer(t);
            continue;
        }
        if (tag_add(&c->used, &c->window, w.gen, (uint64_t)amount, UINT64_MAX, &after) < 0)
            continue;
        if (t->sync)
            tag_add(&c->extra, &c->window, w.gen, (uint64_t)amount, UINT64_MAX, &after);
        mark_dirty(t, c);
        return;
    }
}

/* ---- gauges --------------------------------------------------------------------------------- */

bool lim_gauge_inc(lim_table_t *t, str_t name, int64_t limit, int64_t now_ms, lim_info_t *info)
{
    for (;;) {
        lim_counter_t *c = counter_get(t, name, LIM_GAUGE, true);
        if (!c) {
            fill_info(info, limit, 0, 0);
            return true;
        }
        touch(c, now_ms, limit);
        uint64_t cur = atomic_load_explicit(&c->used, memory_order_relaxed);
        while (cur != LIM_GAUGE_DEAD) {
            int64_t v = (int64_t)cur, others = 0;
            bool shared = atomic_load_explicit(&t->shared, memory_order_acquire);
            if (shared)
                others = atomic_load_explicit(&c->g_count, memory_order_relaxed);
            bool ok = limit < 0 || others + v + 1 <= limit;
            if (ok && shared && limit >= 0) {
                /* until the next sync, grow by at most a share of what was free at the last one,
                 * split with the instances that hold slots too, so that they do not all take the
                 * same free slots */
                int64_t base = atomic_load_explicit(&c->g_base, memory_order_relaxed);
                int64_t n = 1 + atomic_load_explicit(&c->g_peers, memory_order_relaxed);
                int64_t free_slots = limit - others - base;
                int64_t grow = free_slots > 0 ? (free_slots + n - 1) / n : 0;
                ok = v + 1 - base <= grow;
            }
            if (!ok) {
                atomic_fetch_add_explicit(&c->denied, 1, memory_order_relaxed);
                mark_dirty(t, c); /* keeps what others hold fresh while refusing */
                fill_info(info, limit, others + v, 0);
                return false;
            }
            if (atomic_compare_exchange_weak_explicit(&c->used, &cur, cur + 1, memory_order_acq_rel,
                                                      memory_order_relaxed)) {
                mark_dirty(t, c);
                fill_info(info, limit, others + v + 1, 0);
                return true;
            }
        }
        wait_reclaimer(t);
    }
}

void lim_gauge_dec(lim_table_t *t, str_t name, int64_t now_ms)
{
    lim_counter_t *c = counter_get(t, name, LIM_GAUGE, false);
    if (!c)
        return;
    touch(c, now_ms, atomic_load_explicit(&c->limit, memory_order_relaxed));
    uint64_t cur = atomic_load_explicit(&c->used, memory_order_relaxed);
    /* a held slot keeps the gauge alive, so a matched dec never meets a dead one */
    while (cur != 0 && cur != LIM_GAUGE_DEAD)
        if (atomic_compare_exchange_weak_explicit(&c->used, &cur, cur - 1, memory_order_acq_rel,
                                                  memory_order_relaxed)) {
            mark_dirty(t, c);
            return;
        }
}

int64_t lim_gauge_peek(lim_table_t *t, str_t name)
{
    lim_counter_t *c = counter_get(t, name, LIM_GAUGE, false);
    if (!c)
        return 0;
    uint64_t v = atomic_load_explicit(&c->used, memory_order_relaxed);
    if (v == LIM_GAUGE_DEAD)
        return 0;
    int64_t others = atomic_load_explicit(&t->shared, memory_order_acquire)
                         ? atomic_load_explicit(&c->g_count, memory_order_relaxed)
                         : 0;
    return (int64_t)v + others;
}

/* ---- marks ---------------------------------------------------------------------------------- */

void lim_mark_set(lim_table_t *t, str_t name, int64_t until_ms, int64_t now_ms)
{
    if (until_ms <= 0)
        return;
    for (;;) {
        lim_counter_t *c = counter_get(t, name, LIM_MARK, true);
        if (!c)
            return;
        touch(c, now_ms, -1);
        uint64_t cur = atomic_load_explicit(&c->used, memory_order_relaxed);
        while (cur != LIM_GAUGE_DEAD && cur < (uint64_t)until_ms)
            if (atomic_compare_exchange_weak_explicit(&c->used, &cur, (uint64_t)until_ms,
                                                      memory_order_acq_rel, memory_order_relaxed))
                break;
        if (cur == LIM_GAUGE_DEAD) {
            wait_reclaimer(t);
            continue;
        }
        mark_dirty(t, c);
        return;
    }
}

int64_t lim_mark_get(lim_table_t *t, str_t name, int64_t now_ms)
{
    (void)now_ms;
    lim_counter_t *c = counter_get(t, name, LIM_MARK, false);
    if (!c)
        return 0;
    uint64_t mine = atomic_load_explicit(&c->used, memory_order_relaxed);
    int64_t theirs = atomic_load_explicit(&c->g_count, memory_order_relaxed);
    int64_t v = mine == LIM_GAUGE_DEAD ? 0 : (int64_t)mine;
    return theirs > v ? theirs : v;
}

void lim__mark_learn(lim_table_t *t, str_t name, int64_t until_ms, int64_t now_ms)
{
    lim_counter_t *c = counter_get(t, name, LIM_MARK, true);
    if (!c || atomic_load_explicit(&c->used, memory_order_relaxed) == LIM_GAUGE_DEAD)
        return; /* reclaimed meanwhile: the next read creates it again */
    touch(c, now_ms, -1);
    if (atomic_load_explicit(&c->g_count, memory_order_relaxed) != until_ms)
        atomic_store_explicit(&c->g_count, until_ms, memory_order_relaxed);
}

/* ---- reclamation ---------------------------------------------------------------------------- */

/* Marks c dead if it has been idle for two windows: one CAS that fails if a worker moved it
 * meanwhile (every change to an idle rate counter starts a window; every change to an idle gauge
 * moves it off 0). */
static bool try_kill(lim_table_t *t, lim_counter_t *c, int64_t now)
{
    if (c->s.active)
        return false; /* the sync thread still has work for it */
    int64_t idle = now - atomic_load_explicit(&c->touched_ms, memory_order_relaxed);
    if (idle < 2 * t->window_ms) /* (a negative idle time: a caller's clock is ahead) */
        return false;
    if (c->kind == LIM_GAUGE) {
        uint64_t zero = 0;
        return atomic_compare_exchange_strong(&c->used, &zero, LIM_GAUGE_DEAD);
    }
    if (c->kind == LIM_MARK) { /* idle, and its times long past (a set moves `used`) */
        uint64_t v = atomic_load(&c->used);
        return v != LIM_GAUGE_DEAD && (int64_t)v < now && atomic_load(&c->g_count) < now &&
               atomic_compare_exchange_strong(&c->used, &v, LIM_GAUGE_DEAD);
    }
    uint64_t w = atomic_load(&c->window);
    if (lim__gen(w) != LIM_GEN_NONE && lim__elapsed(w, now) < 2 * t->window_ms)
        return false;
    return atomic_compare_exchange_strong(&c->window, &w, lim__tag(LIM_GEN_DEAD, 0));
}

static void reclaim_shard(lim_table_t *t, unsigned si, int64_t now)
{
    lim_slots_t *s = atomic_load_explicit(&t->shard[si].slots, memory_order_relaxed);
    size_t dead = 0;
    for (size_t i = 0; i < s->cap; i++) {
        lim_counter_t *c = atomic_load_explicit(&s->slot[i], memory_order_relaxed);
        if (c && try_kill(t, c, now))
            dead++;
    }
    if (!dead)
        return;
    /* open addressing cannot drop an entry in place without breaking probe chains under readers:
     * publish a new slots array without the dead, retire the old one with them */
    size_t live = s->used - dead, cap = 16;
    while (cap < live * 4)
        cap *= 2;
    lim_slots_t *n = slots_new(cap);
    for (size_t i = 0; i < s->cap; i++) {
        lim_counter_t *c = atomic_load_explicit(&s->slot[i], memory_order_relaxed);
        if (!c)
            continue;
        bool is_dead = c->kind != LIM_RATE ? atomic_load(&c->used) == LIM_GAUGE_DEAD
                                           : lim__gen(atomic_load(&c->window)) == LIM_GEN_DEAD;
        if (is_dead)
            qsbr_retire(t->qsbr, c, free);
        else
            atomic_store_explicit(slots_find(n, c->hash, c->name, c->name_len), c,
                                  memory_order_relaxed);
    }
    n->used = live;
    atomic_store_explicit(&t->shard[si].slots, n, memory_order_release);
    qsbr_retire(t->qsbr, s, free);
    t->num_counters -= dead;
    atomic_fetch_add_explicit(&t->reclaimed, dead, memory_order_relaxed);
}

void lim__reclaim(lim_table_t *t, int64_t now_ms)
{
    pthread_mutex_lock(&t->lock);
    for (unsigned i = 0; i < LIM_SHARDS; i++)
        reclaim_shard(t, i, now_ms);
    pthread_mutex_unlock(&t->lock);
    qsbr_reclaim(t->qsbr);
}

void lim_table_maintain(lim_table_t *t, int64_t now_ms)
{
    if (t->sync) /* the sync thread reclaims (it knows which counters it still needs) */
        qsbr_reclaim(t->qsbr);
    else
        lim__reclaim(t, now_ms);
}

void lim_table_stats(lim_table_t *t, lim_stats_t *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&t->lock);
    out->counters = t->num_counters;
    pthread_mutex_unlock(&t->lock);
    out->reclaimed = atomic_load(&t->reclaimed);
    out->instances = atomic_load(&t->instances);
    out->shared = atomic_load(&t->shared);
    if (t->sync)
        lim__sync_stats(t->sync, out);
}
