/* SPDX-License-Identifier: MIT
 * The Redis sync thread: one libuv loop and one hiredis async connection. Every tick (5 ms) it
 * sends, as one pipelined batch, what the workers counted since the last one (a Lua script per
 * counter: increments, lease requests and returns), reads back the global counts, and heartbeats
 * the instance set. hiredis 0.14 has no command timeout: the tick checks the batch's age, and an
 * unanswered batch trips the circuit breaker (the connection is dropped, workers admit from local
 * counts) until a probe is answered. Workers never see the connection: they read what this thread
 * stores into their counters. Design: docs/limits.md. Not here: the request path (table.c). */
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "core/common.h"
#include "core/log.h"
#include "limits/internal.h"

#define TICK_MS 5              /* default sync_interval_ms */
#define TIMEOUT_MS 50          /* default redis_timeout_ms */
#define PROBE_INTERVAL_MS 1000 /* default probe_interval_ms */
#define PROBE_TIMEOUT_MS 500   /* default probe_timeout_ms */
#define SHUTDOWN_WAIT_MS 200   /* at exit, how long the instance's goodbye may take */
#define HEARTBEAT_MS 250       /* instance set refresh */
#define INSTANCE_TTL_MS 3000   /* an instance silent this long no longer counts */
#define GAUGE_STALE_MS 3000    /* nor do its gauge slots */
#define REFRESH_MS 50          /* a rate counter in use is read back at least this often */
#define GAUGE_REFRESH_MS 500   /* a gauge in use is pushed (its stamp renewed) this often */
#define ACTIVE_KEEP_MS 2000    /* untouched this long: the counter leaves the active set */
#define LEASE_IDLE_MS 1000     /* untouched this long: its lease is given back */
#define LEASE_OF_DEMAND 4      /* a lease covers this many ticks of demand */
#define BATCH_MAX 1024         /* commands in one batch; the rest wait for the next tick */
#define MAINTAIN_MS 1000       /* reclaim period */
#define COLD_MS 1000           /* a window's first second: cold shares are reserved (below) */
#define KEY_PREFIX "sluice:"
#define INSTANCES_KEY KEY_PREFIX "instances"
#define MARKS_KEY KEY_PREFIX "marks"

/* KEYS[1]: the counter, a hash {s: window start (Unix ms), c: uses + leases, np: instances that
 * reported in this window, p:<instance>: 1 once it did}. ARGV: now, window, this instance's
 * window start, delta (uses outside leases minus leases given back), lease wanted, limit, live
 * instances, instance, cold share (what an instance may admit before it knows anything), cold
 * period. Starts a window (anchored at the first pusher's first request) when none is live;
 * ignores amounts from a window that ended before it. A lease is at most a share of what is free,
 * and during the cold period what is free excludes the cold share of every live instance that has
 * not reported yet: it may have admitted that much already. Returns {window start, count, grant};
 * {0, 0, 0} when there is no window. */
static const char RATE_SCRIPT[] =
    "local k = KEYS[1]\n"
    "local now, w, start = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local delta, want = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local limit, n = tonumber(ARGV[6]), tonumber(ARGV[7])\n"
    "local id, cold, cold_ms = ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10])\n"
    "local s = tonumber(redis.call('HGET', k, 's') or 0)\n"
    "local c, np = 0, 0\n"
    "if s > 0 and now < s + w then\n"
    "  c = tonumber(redis.call('HGET', k, 'c') or 0)\n"
    "  np = tonumber(redis.call('HGET', k, 'np') or 0)\n"
    "else\n"
    "  if delta <= 0 and want <= 0 then return {0, 0, 0} end\n"
    "  local ns = start\n"
    "  if s > 0 and ns < s + w then ns = s + w end\n"
    "  if ns > now then ns = now end\n"
    "  if start + w <= ns or ns + w <= now then return {0, 0, 0} end\n"
    "  s = ns\n"
    "  redis.call('DEL', k)\n"
    "end\n"
    "if start + w <= s then return {s, c, 0} end\n"
    "if (delta ~= 0 or want > 0) and redis.call('HSETNX', k, 'p:' .. id, 1) == 1 then\n"
    "  np = np + 1\n"
    "end\n"
    "c = c + delta\n"
    "if c < 0 then c = 0 end\n"
    "local grant = 0\n"
    "local free = limit - c\n"
    "if now < s + cold_ms and n > np then free = free - (n - np) * cold end\n"
    "if want > 0 and free > 0 then\n"
    "  grant = math.min(want, math.ceil(free / n))\n"
    "  c = c + grant\n"
    "end\n"
    "redis.call('HSET', k, 's', s, 'c', c, 'np', np)\n"
    "redis.call('PEXPIREAT', k, s + w + 1000)\n"
    "return {s, c, grant}\n";

/* KEYS[1]: the gauge, a hash {<instance>: slots held, <instance>:t: when (Unix ms)}. ARGV: this
 * instance, its slots, now, staleness. Returns {slots held by the other live instances, how many
 * of them hold some} and drops the stale ones. */
static const char GAUGE_SCRIPT[] =
    "local k, id = KEYS[1], ARGV[1]\n"
    "local v, now, stale = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "if v > 0 then\n"
    "  redis.call('HSET', k, id, v, id .. ':t', now)\n"
    "else\n"
    "  redis.call('HDEL', k, id, id .. ':t')\n"
    "end\n"
    "local all = redis.call('HGETALL', k)\n"
    "local h = {}\n"
    "for i = 1, #all, 2 do h[all[i]] = all[i + 1] end\n"
    "local others, peers = 0, 0\n"
    "for f, val in pairs(h) do\n"
    "  if f ~= id and string.sub(f, -2) ~= ':t' then\n"
    "    if tonumber(h[f .. ':t'] or 0) + stale >= now then\n"
    "      others, peers = others + tonumber(val), peers + 1\n"
    "    else\n"
    "      redis.call('HDEL', k, f, f .. ':t')\n"
    "    end\n"
    "  end\n"
    "end\n"
    "redis.call('PEXPIRE', k, 60000)\n"
    "return {others, peers}\n";

/* KEYS[1]: the marks, a hash {<name>: time (Unix ms)}. ARGV: a mark, the time this instance set,
 * now. Keeps the later of the two, drops marks whose time has passed, and lets the hash expire a
 * second after its latest mark. Returns the mark's time. */
static const char MARK_SCRIPT[] = "local k, f = KEYS[1], ARGV[1]\n"
                                  "local v, now = tonumber(ARGV[2]), tonumber(ARGV[3])\n"
                                  "local all = redis.call('HGETALL', k)\n"
                                  "local cur, last = 0, 0\n"
                                  "for i = 1, #all, 2 do\n"
                                  "  local t = tonumber(all[i + 1]) or 0\n"
                                  "  if t <= now then\n"
                                  "    redis.call('HDEL', k, all[i])\n"
                                  "  else\n"
                                  "    if all[i] == f then cur = t end\n"
                                  "    if t > last then last = t end\n"
                                  "  end\n"
                                  "end\n"
                                  "if v > cur and v > now then\n"
                                  "  redis.call('HSET', k, f, v)\n"
                                  "  cur = v\n"
                                  "end\n"
                                  "if cur > last then last = cur end\n"
                                  "if last > 0 then redis.call('PEXPIREAT', k, last + 1000) end\n"
                                  "return cur\n";

typedef enum {
    E_AUTH,
    E_SELECT,
    E_LOAD_RATE,
    E_LOAD_GAUGE,
    E_LOAD_MARK,
    E_PING,
    E_ZADD,
    E_ZTRIM,
    E_ZCARD,
    E_RATE,
    E_GAUGE,
    E_MARK,
    E_MARKS, /* HGETALL of every live mark */
} entry_kind_t;

/* One command of the batch in flight, and what to do with its answer. */
typedef struct {
    entry_kind_t kind;
    bool done;
    lim_counter_t *c;
    uint32_t gen;      /* rate: the window the push belongs to */
    bool live;         /* rate: that window was still open */
    int64_t start;     /* rate: its start (Unix ms) */
    uint64_t extra;    /* rate: `extra` when the push was built */
    uint64_t returned; /* rate: lease given back by this command */
    int64_t value;     /* gauge: slots pushed; mark: the time pushed (0: a read) */
} entry_t;

typedef enum { ST_DOWN, ST_PROBING, ST_UP } state_t;

struct lim_sync {
    lim_table_t *t;
    lim_redis_conf_t conf;
    char id[160];
    unsigned tick_ms, timeout_ms, probe_interval_ms, probe_timeout_ms;
    uv_loop_t loop;
    uv_timer_t timer;
    uv_async_t wake;
    uv_thread_t thread;
    _Atomic bool stopping;
    bool closing; /* the loop's handles are being closed */
    qsbr_reader_t *reader;

    redisAsyncContext *ac; /* NULL when there is no connection */
    state_t state;
    bool ever_up;
    bool logged_unreachable;
    bool logged_error;
    bool resync;       /* the next data batch is the first since (re)connecting */
    bool scripts_lost; /* NOSCRIPT: load them again at the head of the next batch */
    char rate_sha[41], gauge_sha[41], mark_sha[41];

    entry_t *batch; /* the round in flight (a probe or a data batch) */
    size_t n_batch, cap_batch, n_answered;
    bool inflight;
    uint64_t sent_mono; /* uv_now when it was sent */
    uint64_t next_probe, next_heartbeat, next_maintain, next_marks;

    lim_counter_t **act; /* the active set: counters changed recently */
    size_t n_act, cap_act, cursor;

    _Atomic uint64_t trips, batches;
    _Atomic int64_t last_trip_ms;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- commands ------------------------------------------------------------------------------- */

static void on_reply(redisAsyncContext *ac, void *r, void *priv);

static entry_t *entry_add(lim_sync_t *s, entry_kind_t kind)
{
    if (s->n_batch == s->cap_batch) {
        s->cap_batch = s->cap_batch ? s->cap_batch * 2 : 64;
        s->batch = xrealloc(s->batch, s->cap_batch * sizeof *s->batch);
    }
    entry_t *e = &s->batch[s->n_batch];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    return e;
}

/* Queues the command for the last entry added (hiredis copies the arguments). false: the
 * connection no longer takes commands. */
static bool entry_send(lim_sync_t *s, int argc, const char **argv, const size_t *lens)
{
    size_t i = s->n_batch++;
    if (redisAsyncCommandArgv(s->ac, on_reply, (void *)(uintptr_t)i, argc, argv, lens) !=
        REDIS_OK) {
        s->n_batch--;
        return false;
    }
    return true;
}

/* A command from NUL-terminated strings. */
static bool send_strs(lim_sync_t *s, int argc, const char **argv)
{
    size_t lens[12];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    return entry_send(s, argc, argv, lens);
}

/* ---- the active set ------------------------------------------------------------------------- */

static void activate(void *arg, lim_counter_t *c)
{
    lim_sync_t *s = arg;
    if (c->s.active)
        return;
    if (s->n_act == s->cap_act) {
        s->cap_act = s->cap_act ? s->cap_act * 2 : 256;
        s->act = xrealloc(s->act, s->cap_act * sizeof *s->act);
    }
    c->s.active = true;
    s->act[s->n_act++] = c;
}

/* ---- planning a batch ----------------------------------------------------------------------- */

static void lease_give(lim_counter_t *c, uint32_t gen, uint64_t grant)
{
    uint64_t cur = atomic_load_explicit(&c->allow, memory_order_relaxed);
    for (;;) {
        uint64_t base;
        if (lim__gen(cur) == gen)
            base = lim__val(cur);
        else if (lim__gen(atomic_load_explicit(&c->window, memory_order_acquire)) == gen)
            base = 0;
        else
            return; /* the window ended: Redis dropped the lease with it */
        if (atomic_compare_exchange_weak_explicit(&c->allow, &cur, lim__tag(gen, base + grant),
                                                  memory_order_acq_rel, memory_order_relaxed))
            return;
    }
}

static size_t key_of(const lim_counter_t *c, char *buf, size_t size)
{
    int n = snprintf(buf, size, KEY_PREFIX "%s", c->name);
    return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

/* Decides what a rate counter needs from Redis and queues it. false: drop it from the set. */
static bool plan_rate(lim_sync_t *s, lim_counter_t *c, int64_t now)
{
    lim_table_t *t = s->t;
    lim_sync_state_t *st = &c->s;
    uint64_t w = atomic_load_explicit(&c->window, memory_order_acquire);
    uint32_t gen = lim__gen(w);
    if (gen == LIM_GEN_DEAD)
        return false;
    int64_t el = lim__elapsed(w, now);
    bool live = gen != LIM_GEN_NONE && el < t->window_ms;
    int64_t start = now - el;
    if (gen != st->gen) { /* a new local window */
        st->gen = gen;
        st->pushed = 0;
        st->last_used = 0;
        st->returning = 0;
    }
    uint64_t ex = lim__read(atomic_load_explicit(&c->extra, memory_order_acquire), gen);
    uint64_t used = lim__read(atomic_load_explicit(&c->used, memory_order_relaxed), gen);
    if (s->resync)
        /* the first batch after Redis came back: what was used while it was away is not this
         * tick's demand, and must not size a lease that would starve the other instances */
        st->last_used = used;
    uint64_t demand = (used > st->last_used ? used - st->last_used : 0) +
                      atomic_exchange_explicit(&c->denied, 0, memory_order_relaxed);
    st->last_used = used;
    uint64_t decayed = st->rate - st->rate / 8;
    st->rate = demand > decayed ? demand : decayed;
    int64_t idle = now - atomic_load_explicit(&c->touched_ms, memory_order_relaxed);
    int64_t limit = atomic_load_explicit(&c->limit, memory_order_relaxed);
    /* what a window that has ended counted no longer matters to anyone */
    uint64_t delta = live && ex > st->pushed ? ex - st->pushed : 0;
    uint64_t want = 0, returned = 0, lease = 0;

    if (live && limit > 0 && atomic_load_explicit(&c->leasable, memory_order_relaxed)) {
        /* Keep a lease of a few ticks' demand, so admissions rarely go without one; hand back
         * what an idle instance holds, so others can use it. */
        uint64_t a = atomic_load_explicit(&c->allow, memory_order_relaxed);
        lease = lim__read(a, gen);
        uint64_t target = 0;
        if (idle < LEASE_IDLE_MS) {
            target = st->rate * LEASE_OF_DEMAND;
            if (target < 1)
                target = 1;
            if (target > (uint64_t)limit)
                target = (uint64_t)limit;
        }
        if (lease * 2 < target || (lease == 0 && target > 0)) {
            want = target - lease;
        } else if (lease > 2 * target || (target == 0 && lease > 0)) {
            if (atomic_compare_exchange_strong(&c->allow, &a, lim__tag(gen, target))) {
                returned = lease - target;
                lease = target;
            }
        }
    }
    if (live) {
        returned += st->returning;
    }
    st->returning = 0;
    /* counters in use are read back, even those only checked here (a tpm check before any
     * tokens were added on this instance) */
    bool refresh = idle < ACTIVE_KEEP_MS && (s->resync || now - st->synced_ms >= REFRESH_MS);
    if (!delta && !want && !returned && !refresh)
        return !(idle >= ACTIVE_KEEP_MS && lease == 0); /* nothing to say */

    char key[LIM_NAME_MAX + 16], a_now[24], a_w[24], a_start[24], a_delta[24], a_want[24],
        a_limit[24], a_n[16], a_cold[24], a_cold_ms[16];
    unsigned n = atomic_load_explicit(&t->instances, memory_order_relaxed);
    snprintf(a_now, sizeof a_now, "%" PRId64, now);
    snprintf(a_w, sizeof a_w, "%" PRId64, t->window_ms);
    snprintf(a_start, sizeof a_start, "%" PRId64, live ? start : now);
    snprintf(a_delta, sizeof a_delta, "%" PRId64, (int64_t)delta - (int64_t)returned);
    snprintf(a_want, sizeof a_want, "%" PRIu64, want);
    snprintf(a_limit, sizeof a_limit, "%" PRId64, limit);
    snprintf(a_n, sizeof a_n, "%u", n);
    snprintf(a_cold, sizeof a_cold, "%" PRId64, lim__cold_share(limit, n));
    snprintf(a_cold_ms, sizeof a_cold_ms, "%d", COLD_MS);
    const char *argv[] = {"EVALSHA", s->rate_sha, "1",     key, a_now, a_w,    a_start,
                          a_delta,   a_want,      a_limit, a_n, s->id, a_cold, a_cold_ms};
    size_t lens[COUNTOF(argv)];
    for (size_t i = 0; i < COUNTOF(argv); i++)
        lens[i] = i == 3 ? key_of(c, key, sizeof key) : strlen(argv[i]);
    entry_t *e = entry_add(s, E_RATE);
    e->c = c;
    e->gen = gen;
    e->live = live;
    e->start = live ? start : now;
    e->extra = ex;
    e->returned = returned;
    if (!entry_send(s, (int)COUNTOF(argv), argv, lens))
        st->returning = returned;
    return true;
}

static bool plan_gauge(lim_sync_t *s, lim_counter_t *c, int64_t now)
{
    lim_sync_state_t *st = &c->s;
    uint64_t v = atomic_load_explicit(&c->used, memory_order_relaxed);
    if (v == LIM_GAUGE_DEAD)
        return false;
    int64_t idle = now - atomic_load_explicit(&c->touched_ms, memory_order_relaxed);
    bool changed = (int64_t)v != st->gauge_pushed;
    /* refusals here: learn soon when slots free up elsewhere */
    int64_t every = atomic_exchange_explicit(&c->denied, 0, memory_order_relaxed)
                        ? REFRESH_MS
                        : GAUGE_REFRESH_MS;
    bool refresh = s->resync || (now - st->synced_ms >= every && (v > 0 || idle < ACTIVE_KEEP_MS));
    if (!changed && !refresh)
        return !(v == 0 && idle >= ACTIVE_KEEP_MS);
    char key[LIM_NAME_MAX + 16], a_v[24], a_now[24], a_stale[16];
    snprintf(a_v, sizeof a_v, "%" PRIu64, v);
    snprintf(a_now, sizeof a_now, "%" PRId64, now);
    snprintf(a_stale, sizeof a_stale, "%d", GAUGE_STALE_MS);
    const char *argv[] = {"EVALSHA", s->gauge_sha, "1", key, s->id, a_v, a_now, a_stale};
    size_t lens[COUNTOF(argv)];
    for (size_t i = 0; i < COUNTOF(argv); i++)
        lens[i] = i == 3 ? key_of(c, key, sizeof key) : strlen(argv[i]);
    entry_t *e = entry_add(s, E_GAUGE);
    e->c = c;
    e->value = (int64_t)v;
    entry_send(s, (int)COUNTOF(argv), argv, lens);
    return true;
}

/* A mark set here later than what Redis holds from this instance: pushed. Every instance reads
 * all marks back every REFRESH_MS (send_batch), whether it ever looked at them or not, so a
 * cooldown is known everywhere before anyone asks. false: nothing to push, drop it from the set. */
static bool plan_mark(lim_sync_t *s, lim_counter_t *c, int64_t now)
{
    uint64_t v = atomic_load_explicit(&c->used, memory_order_relaxed);
    if (v == LIM_GAUGE_DEAD || (int64_t)v <= c->s.gauge_pushed || (int64_t)v <= now)
        return false;
    char a_v[24], a_now[24];
    snprintf(a_v, sizeof a_v, "%" PRId64, (int64_t)v);
    snprintf(a_now, sizeof a_now, "%" PRId64, now);
    const char *argv[] = {"EVALSHA", s->mark_sha, "1", MARKS_KEY, c->name, a_v, a_now};
    size_t lens[COUNTOF(argv)];
    for (size_t i = 0; i < COUNTOF(argv); i++)
        lens[i] = i == 4 ? c->name_len : strlen(argv[i]);
    entry_t *e = entry_add(s, E_MARK);
    e->c = c;
    e->value = (int64_t)v;
    entry_send(s, (int)COUNTOF(argv), argv, lens);
    return true;
}

static void add_heartbeat(lim_sync_t *s, int64_t now)
{
    char a_now[24], a_old[24];
    snprintf(a_now, sizeof a_now, "%" PRId64, now);
    snprintf(a_old, sizeof a_old, "%" PRId64, now - INSTANCE_TTL_MS);
    entry_add(s, E_ZADD);
    send_strs(s, 4, (const char *[]){"ZADD", INSTANCES_KEY, a_now, s->id});
    entry_add(s, E_ZTRIM);
    send_strs(s, 4, (const char *[]){"ZREMRANGEBYSCORE", INSTANCES_KEY, "-inf", a_old});
    entry_add(s, E_ZCARD);
    send_strs(s, 2, (const char *[]){"ZCARD", INSTANCES_KEY});
}

static void add_script_loads(lim_sync_t *s)
{
    entry_add(s, E_LOAD_RATE);
    send_strs(s, 3, (const char *[]){"SCRIPT", "LOAD", RATE_SCRIPT});
    entry_add(s, E_LOAD_GAUGE);
    send_strs(s, 3, (const char *[]){"SCRIPT", "LOAD", GAUGE_SCRIPT});
    entry_add(s, E_LOAD_MARK);
    send_strs(s, 3, (const char *[]){"SCRIPT", "LOAD", MARK_SCRIPT});
}

static void send_batch(lim_sync_t *s, int64_t now, uint64_t mono)
{
    s->n_batch = s->n_answered = 0;
    if (s->scripts_lost) {
        add_script_loads(s);
        s->scripts_lost = false;
    }
    if (s->resync || mono >= s->next_heartbeat) {
        add_heartbeat(s, now);
        s->next_heartbeat = mono + HEARTBEAT_MS;
    }
    if (s->resync || mono >= s->next_marks) {
        entry_add(s, E_MARKS);
        send_strs(s, 2, (const char *[]){"HGETALL", MARKS_KEY});
        s->next_marks = mono + REFRESH_MS;
    }
    size_t visited = 0, i = s->cursor;
    while (visited < s->n_act && s->n_batch < BATCH_MAX) {
        if (i >= s->n_act)
            i = 0;
        lim_counter_t *c = s->act[i];
        bool keep = c->kind == LIM_RATE    ? plan_rate(s, c, now)
                    : c->kind == LIM_GAUGE ? plan_gauge(s, c, now)
                                           : plan_mark(s, c, now);
        visited++;
        if (!keep) {
            c->s.active = false;
            s->act[i] = s->act[--s->n_act];
            continue;
        }
        i++;
    }
    s->cursor = i;
    if (!s->n_batch)
        return;
    s->inflight = true;
    s->sent_mono = mono;
}

/* While the breaker is open: drop counters nothing is left to do for. */
static void prune_active(lim_sync_t *s, int64_t now)
{
    for (size_t i = 0; i < s->n_act;) {
        lim_counter_t *c = s->act[i];
        int64_t idle = now - atomic_load_explicit(&c->touched_ms, memory_order_relaxed);
        bool keep;
        if (c->kind == LIM_GAUGE) {
            uint64_t v = atomic_load(&c->used);
            keep = v != LIM_GAUGE_DEAD && (v > 0 || idle < ACTIVE_KEEP_MS);
        } else if (c->kind == LIM_MARK) {
            /* a time set here during the outage is pushed once Redis answers */
            uint64_t v = atomic_load(&c->used);
            keep = v != LIM_GAUGE_DEAD && (int64_t)v > now;
        } else {
            uint64_t w = atomic_load(&c->window);
            keep = lim__gen(w) != LIM_GEN_DEAD && lim__gen(w) != LIM_GEN_NONE &&
                   lim__elapsed(w, now) < s->t->window_ms;
        }
        if (keep) {
            i++;
            continue;
        }
        c->s.active = false;
        s->act[i] = s->act[--s->n_act];
    }
}

/* ---- the breaker ---------------------------------------------------------------------------- */

/* Entries not answered may or may not have run. Their increments are sent again (`pushed` did
 * not move): at worst counted twice, which refuses more, never admits more. Their lease returns
 * are dropped: returned twice they would let Redis grant more than the limit; dropped, Redis
 * keeps counting them until the window ends. */
static void forget_unanswered(lim_sync_t *s)
{
    for (size_t i = 0; i < s->n_batch; i++)
        s->batch[i].done = true;
    s->inflight = false;
}

/* Opens the breaker: drops the connection (if any is left), makes workers admit from local counts,
 * takes leases back (Redis still counts them; they are given back once it answers) and forgets
 * what Redis said, which may be stale by the time it answers again. */
static void trip(lim_sync_t *s, const char *why)
{
    redisAsyncContext *ac = s->ac;
    s->ac = NULL;
    bool was_up = s->state == ST_UP;
    forget_unanswered(s);
    s->state = ST_DOWN;
    s->next_probe = uv_now(&s->loop) + s->probe_interval_ms;
    atomic_store(&s->t->shared, 0);
    for (size_t i = 0; i < s->n_act; i++) {
        lim_counter_t *c = s->act[i];
        if (c->kind == LIM_RATE) {
            uint64_t a = atomic_exchange(&c->allow, lim__tag(LIM_GEN_NONE, 0));
            if (lim__gen(a) == c->s.gen && lim__gen(a) != LIM_GEN_NONE)
                c->s.returning += lim__val(a);
            atomic_store(&c->g_end, 0);
        } else if (c->kind == LIM_MARK) {
            c->s.gauge_pushed = -1; /* what Redis holds is unknown now: push again */
        } else {
            atomic_store(&c->g_peers, 0);
            c->s.gauge_pushed = -1;
        }
    }
    if (was_up) {
        atomic_fetch_add(&s->trips, 1);
        atomic_store(&s->last_trip_ms, wall_ms());
        log_warn("limits: Redis at %s:%d %s: circuit breaker open, every limit is enforced by "
                 "this instance alone; probing every %u ms",
                 s->conf.host, s->conf.port, why, s->probe_interval_ms);
    }
    if (ac)
        redisAsyncFree(ac); /* callbacks still pending see s->ac != ac and do nothing */
}

static void probe_failed(lim_sync_t *s, const char *why)
{
    redisAsyncContext *ac = s->ac;
    s->ac = NULL;
    s->inflight = false;
    s->state = ST_DOWN;
    s->next_probe = uv_now(&s->loop) + s->probe_interval_ms;
    if (!s->ever_up && !s->logged_unreachable) {
        s->logged_unreachable = true;
        log_warn("limits: cannot use Redis at %s:%d (%s, from %s): limits are enforced by this "
                 "instance alone until it answers",
                 s->conf.host, s->conf.port, why, s->conf.source);
    }
    if (ac)
        redisAsyncFree(ac);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    lim_sync_t *s = ac->data;
    if (ac != s->ac || status == REDIS_OK)
        return;
    /* hiredis frees the context when this returns */
    s->ac = NULL;
    probe_failed(s, ac->errstr[0] ? ac->errstr : "connection failed");
}

static void finish_shutdown(lim_sync_t *s);

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    lim_sync_t *s = ac->data;
    if (ac != s->ac)
        return;   /* one we dropped ourselves */
    s->ac = NULL; /* hiredis frees it when this returns */
    if (atomic_load(&s->stopping)) {
        finish_shutdown(s);
        return;
    }
    char why[160];
    snprintf(why, sizeof why, "closed the connection%s%s", status == REDIS_OK ? "" : ": ",
             status == REDIS_OK ? "" : ac->errstr);
    if (s->state == ST_UP)
        trip(s, why);
    else
        probe_failed(s, why);
}

static void probe_start(lim_sync_t *s)
{
    redisAsyncContext *ac = redisAsyncConnect(s->conf.host, s->conf.port);
    if (!ac || ac->err) {
        char why[160];
        snprintf(why, sizeof why, "%s", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        probe_failed(s, why);
        return;
    }
    ac->data = s;
    if (lim__redis_uv_attach(ac, &s->loop) != REDIS_OK) {
        redisAsyncFree(ac);
        probe_failed(s, "cannot watch its socket");
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    s->ac = ac;
    s->state = ST_PROBING;
    s->n_batch = s->n_answered = 0;
    if (s->conf.password) {
        entry_add(s, E_AUTH);
        if (s->conf.username)
            send_strs(s, 3, (const char *[]){"AUTH", s->conf.username, s->conf.password});
        else
            send_strs(s, 2, (const char *[]){"AUTH", s->conf.password});
    }
    if (s->conf.db > 0) {
        char db[16];
        snprintf(db, sizeof db, "%d", s->conf.db);
        entry_add(s, E_SELECT);
        send_strs(s, 2, (const char *[]){"SELECT", db});
    }
    add_script_loads(s);
    entry_add(s, E_PING);
    send_strs(s, 1, (const char *[]){"PING"});
    s->inflight = true;
    s->sent_mono = uv_now(&s->loop);
}

/* ---- answers -------------------------------------------------------------------------------- */

static void apply_rate(lim_sync_t *s, entry_t *e, redisReply *r, int64_t now)
{
    lim_counter_t *c = e->c;
    lim_sync_state_t *st = &c->s;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER ||
        r->element[2]->type != REDIS_REPLY_INTEGER) {
        if (st->gen == e->gen)
            st->returning += e->returned;
        return;
    }
    int64_t gs = r->element[0]->integer, count = r->element[1]->integer;
    int64_t grant = r->element[2]->integer, wms = s->t->window_ms;
    st->synced_ms = now;
    if (st->gen == e->gen) {
        if (e->extra > st->pushed)
            st->pushed = e->extra;
        atomic_store_explicit(&c->pushed, lim__tag(e->gen, st->pushed), memory_order_release);
    }
    if (gs == 0) { /* no live window anywhere: nothing counted yet */
        atomic_store_explicit(&c->g_count, 0, memory_order_relaxed);
        atomic_store_explicit(&c->g_end, e->live ? e->start + wms : 0, memory_order_release);
        return;
    }
    /* adopt the global window's start, so that every instance rolls over at the same moment */
    uint64_t w = atomic_load_explicit(&c->window, memory_order_acquire);
    if (e->live && lim__gen(w) == e->gen && gs != e->start && gs <= now && gs + wms > now &&
        lim__val(w) == ((uint64_t)e->start & LIM_VAL_MASK))
        atomic_compare_exchange_strong(&c->window, &w, lim__tag(e->gen, (uint64_t)gs));
    if (grant > 0)
        lease_give(c, e->gen, (uint64_t)grant);
    atomic_store_explicit(&c->g_count, count, memory_order_relaxed);
    atomic_store_explicit(&c->g_end, gs + wms, memory_order_release);
}

static bool reply_is(const redisReply *r, int type, const char *text)
{
    return r->type == type && (!text || strcasecmp(r->str, text) == 0);
}

static void batch_done(lim_sync_t *s)
{
    s->inflight = false;
    if (s->state == ST_PROBING) {
        s->state = ST_UP;
        s->resync = true;
        s->next_heartbeat = 0;
        if (!s->ever_up)
            log_info("limits: Redis at %s:%d (from %s) answers: limits are shared across "
                     "instances",
                     s->conf.host, s->conf.port, s->conf.source);
        else
            log_info("limits: Redis at %s:%d answers again: circuit breaker closed, limits are "
                     "shared across instances",
                     s->conf.host, s->conf.port);
        s->ever_up = true;
        return;
    }
    atomic_fetch_add(&s->batches, 1);
    if (s->resync) {
        s->resync = false;
        atomic_store(&s->t->shared, 1);
    }
}

static void on_reply(redisAsyncContext *ac, void *r, void *priv)
{
    lim_sync_t *s = ac->data;
    redisReply *reply = r;
    if (ac != s->ac || !reply)
        return; /* a dropped connection, or this one going away (on_disconnect trips) */
    size_t i = (uintptr_t)priv;
    if (i >= s->n_batch)
        return;
    entry_t *e = &s->batch[i];
    e->done = true;
    s->n_answered++;
    int64_t now = wall_ms();
    bool err = reply->type == REDIS_REPLY_ERROR;
    switch (e->kind) {
    case E_AUTH:
    case E_SELECT:
        if (!reply_is(reply, REDIS_REPLY_STATUS, "OK")) {
            char why[200];
            snprintf(why, sizeof why, "%s: %s", e->kind == E_AUTH ? "AUTH" : "SELECT",
                     err ? reply->str : "unexpected answer");
            probe_failed(s, why);
            return;
        }
        break;
    case E_LOAD_RATE:
    case E_LOAD_GAUGE:
    case E_LOAD_MARK:
        if (reply->type != REDIS_REPLY_STRING || reply->len != 40) {
            char why[200];
            snprintf(why, sizeof why, "SCRIPT LOAD: %s", err ? reply->str : "unexpected answer");
            if (s->state == ST_PROBING)
                probe_failed(s, why);
            else
                trip(s, why);
            return;
        }
        memcpy(e->kind == E_LOAD_RATE    ? s->rate_sha
               : e->kind == E_LOAD_GAUGE ? s->gauge_sha
                                         : s->mark_sha,
               reply->str, 40);
        break;
    case E_PING:
        if (!reply_is(reply, REDIS_REPLY_STATUS, "PONG")) {
            probe_failed(s, err ? reply->str : "PING: unexpected answer");
            return;
        }
        break;
    case E_ZCARD:
        if (reply->type == REDIS_REPLY_INTEGER)
            atomic_store(&s->t->instances, reply->integer > 0 ? (unsigned)reply->integer : 1u);
        break;
    case E_ZADD:
    case E_ZTRIM:
        break;
    case E_MARKS:
        if (reply->type == REDIS_REPLY_ARRAY)
            for (size_t k = 0; k + 1 < reply->elements; k += 2) {
                redisReply *f = reply->element[k], *v = reply->element[k + 1];
                if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
                    continue;
                long long until = strtoll(v->str, NULL, 10);
                if (until > now)
                    lim__mark_learn(s->t, str_make(f->str, f->len), until, now);
            }
        break;
    case E_RATE:
    case E_GAUGE:
    case E_MARK:
        if (err) {
            if (strncmp(reply->str, "NOSCRIPT", 8) == 0)
                s->scripts_lost = true;
            else if (!s->logged_error) {
                s->logged_error = true;
                log_warn("limits: Redis at %s:%d refused a counter update: %s", s->conf.host,
                         s->conf.port, reply->str);
            }
            if (e->kind == E_RATE && e->c->s.gen == e->gen)
                e->c->s.returning += e->returned;
            break;
        }
        if (e->kind == E_RATE) {
            apply_rate(s, e, reply, now);
        } else if (e->kind == E_MARK) {
            if (reply->type == REDIS_REPLY_INTEGER) {
                if (reply->integer > atomic_load_explicit(&e->c->g_count, memory_order_relaxed))
                    atomic_store_explicit(&e->c->g_count, reply->integer, memory_order_relaxed);
                if (e->value > e->c->s.gauge_pushed)
                    e->c->s.gauge_pushed = e->value;
            }
        } else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
                   reply->element[0]->type == REDIS_REPLY_INTEGER &&
                   reply->element[1]->type == REDIS_REPLY_INTEGER) {
            atomic_store_explicit(&e->c->g_count, reply->element[0]->integer, memory_order_relaxed);
            atomic_store_explicit(&e->c->g_peers, reply->element[1]->integer, memory_order_relaxed);
            atomic_store_explicit(&e->c->g_base, e->value, memory_order_relaxed);
            e->c->s.gauge_pushed = e->value;
            e->c->s.synced_ms = now;
        }
        break;
    }
    if (s->n_answered == s->n_batch)
        batch_done(s);
}

/* ---- the loop ------------------------------------------------------------------------------- */

static void on_tick(uv_timer_t *h)
{
    lim_sync_t *s = h->data;
    uint64_t mono = uv_now(&s->loop);
    int64_t now = wall_ms();
    lim__dirty_drain(s->t, activate, s);
    switch (s->state) {
    case ST_UP:
        if (s->inflight && mono - s->sent_mono >= s->timeout_ms && s->ac)
            /* timers run before the loop polls: a reply already in the socket (this thread was
             * off the CPU) is read now, not mistaken for a silent Redis */
            redisAsyncHandleRead(s->ac);
        if (s->state != ST_UP)
            break; /* that read found the connection closed and tripped the breaker */
        if (s->inflight) {
            if (mono - s->sent_mono >= s->timeout_ms) {
                char why[64];
                snprintf(why, sizeof why, "did not answer within %u ms", s->timeout_ms);
                trip(s, why);
            }
        } else {
            send_batch(s, now, mono);
        }
        break;
    case ST_PROBING:
        if (mono - s->sent_mono >= s->probe_timeout_ms) {
            char why[64];
            snprintf(why, sizeof why, "no answer within %u ms", s->probe_timeout_ms);
            probe_failed(s, why);
        }
        break;
    case ST_DOWN:
        prune_active(s, now);
        if (mono >= s->next_probe)
            probe_start(s);
        break;
    }
    if (!s->inflight) {
        if (mono >= s->next_maintain) {
            lim__reclaim(s->t, now);
            s->next_maintain = mono + MAINTAIN_MS;
        }
        /* no counter pointer is held between ticks unless a batch is in flight */
        qsbr_quiescent(s->reader);
    }
}

static void on_handle_closed(uv_handle_t *h)
{
    (void)h;
}

static void finish_shutdown(lim_sync_t *s)
{
    if (s->closing)
        return;
    s->closing = true;
    uv_close((uv_handle_t *)&s->timer, on_handle_closed);
    uv_close((uv_handle_t *)&s->wake, on_handle_closed);
}

static void on_shutdown_timeout(uv_timer_t *h)
{
    lim_sync_t *s = h->data;
    if (s->ac) {
        redisAsyncContext *ac = s->ac;
        s->ac = NULL;
        redisAsyncFree(ac);
    }
    finish_shutdown(s);
}

static void on_wake(uv_async_t *h)
{
    lim_sync_t *s = h->data;
    if (!atomic_load(&s->stopping) || s->closing)
        return;
    uv_timer_stop(&s->timer);
    if (s->ac && s->state == ST_UP) {
        /* say goodbye, without waiting long: the instance no longer counts in shares */
        const char *argv[] = {"ZREM", INSTANCES_KEY, s->id};
        size_t lens[] = {4, strlen(INSTANCES_KEY), strlen(s->id)};
        redisAsyncCommandArgv(s->ac, NULL, NULL, 3, argv, lens);
        redisAsyncDisconnect(s->ac); /* after the pending replies; on_disconnect finishes */
        uv_timer_start(&s->timer, on_shutdown_timeout, SHUTDOWN_WAIT_MS, 0);
        return;
    }
    if (s->ac) {
        redisAsyncContext *ac = s->ac;
        s->ac = NULL;
        redisAsyncFree(ac);
    }
    finish_shutdown(s);
}

static void thread_main(void *arg)
{
    thread_name("sluice-limits"); /* not niced: its timeouts are tens of ms */
    lim_sync_t *s = arg;
    /* hiredis writes with write(2): a reset connection must be an error here, not a signal */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    s->reader = qsbr_reader_register(s->t->qsbr);
    probe_start(s);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    qsbr_reader_unregister(s->reader);
}

lim_sync_t *lim__sync_start(lim_table_t *t, const lim_opts_t *o)
{
    lim_sync_t *s = xcalloc(1, sizeof *s);
    s->t = t;
    s->conf = *o->redis;
    s->conf.host = xstrdup(o->redis->host ? o->redis->host : "127.0.0.1");
    s->conf.username = o->redis->username ? xstrdup(o->redis->username) : NULL;
    s->conf.password = o->redis->password ? xstrdup(o->redis->password) : NULL;
    if (!s->conf.port)
        s->conf.port = 6379;
    s->tick_ms = o->sync_interval_ms ? o->sync_interval_ms : TICK_MS;
    s->timeout_ms = o->redis_timeout_ms ? o->redis_timeout_ms : TIMEOUT_MS;
    s->probe_interval_ms = o->probe_interval_ms ? o->probe_interval_ms : PROBE_INTERVAL_MS;
    s->probe_timeout_ms = o->probe_timeout_ms ? o->probe_timeout_ms : PROBE_TIMEOUT_MS;
    if (o->instance_id) {
        snprintf(s->id, sizeof s->id, "%s", o->instance_id);
    } else {
        char host[64] = "host";
        uint32_t rnd = 0;
        gethostname(host, sizeof host - 1);
        if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd)
            rnd = (uint32_t)wall_ms();
        snprintf(s->id, sizeof s->id, "%s:%d:%08x", host, (int)getpid(), rnd);
    }
    atomic_init(&s->stopping, false);
    atomic_init(&s->trips, 0);
    atomic_init(&s->batches, 0);
    atomic_init(&s->last_trip_ms, 0);
    int rc = uv_loop_init(&s->loop);
    if (rc == 0) {
        uv_timer_init(&s->loop, &s->timer);
        uv_async_init(&s->loop, &s->wake, on_wake);
        s->timer.data = s->wake.data = s;
        uv_timer_start(&s->timer, on_tick, s->tick_ms, s->tick_ms);
        if ((rc = uv_thread_create(&s->thread, thread_main, s)) != 0) {
            uv_close((uv_handle_t *)&s->timer, NULL);
            uv_close((uv_handle_t *)&s->wake, NULL);
            uv_run(&s->loop, UV_RUN_DEFAULT);
            uv_loop_close(&s->loop);
        }
    }
    if (rc != 0) {
        log_error("limits: cannot start the Redis sync thread (%s): limits are enforced by this "
                  "instance alone",
                  uv_strerror(rc));
        lim_redis_conf_dispose(&s->conf);
        free(s);
        return NULL;
    }
    return s;
}

void lim__sync_stop(lim_sync_t *s)
{
    atomic_store(&s->stopping, true);
    uv_async_send(&s->wake);
    uv_thread_join(&s->thread);
    uv_loop_close(&s->loop);
    lim_redis_conf_dispose(&s->conf);
    free(s->batch);
    free(s->act);
    free(s);
}

void lim__sync_stats(lim_sync_t *s, lim_stats_t *out)
{
    out->redis = true;
    out->trips = atomic_load(&s->trips);
    out->last_trip_ms = atomic_load(&s->last_trip_ms);
    out->batches = atomic_load(&s->batches);
}
