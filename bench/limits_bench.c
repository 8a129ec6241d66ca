/* SPDX-License-Identifier: MIT
 * Micro-benchmark of the limits request path (src/limits): nanoseconds per call of each function
 * a worker calls, alone, with two threads on one counter and on separate counters, and, with
 * --redis HOST:PORT, in shared mode (leases). --churn N also runs N rounds of workers racing the
 * reclaimer (the ThreadSanitizer build runs this). Build: make build/limits-bench.
 *   build/limits-bench [--redis 127.0.0.1:6379] [--churn 200] */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "limits/limits.h"

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef enum { OP_ADMIT, OP_REFUSE, OP_ADD, OP_CHECK0, OP_PEEK, OP_GAUGE } op_t;
static const char *const op_names[] = {
    "rate_check_add (admitted)",
    "rate_check_add (refused)",
    "rate_add (tokens)",
    "rate_check_add amount 0",
    "rate_peek",
    "gauge_inc + gauge_dec",
};

typedef struct {
    lim_table_t *t;
    op_t op;
    const char *name;
    long iters;
    atomic_int *go;
    double ns;
} run_t;

static void *run(void *arg)
{
    run_t *r = arg;
    lim_reader_t *rd = lim_reader_register(r->t);
    str_t name = str_cstr(r->name);
    int64_t now = wall_ms();
    int64_t limit = r->op == OP_REFUSE ? 0 : (int64_t)1 << 40;
    lim_info_t info;
    while (r->go && !atomic_load(r->go))
        ;
    double t0 = mono_ns();
    for (long i = 0; i < r->iters; i++) {
        switch (r->op) {
        case OP_ADMIT:
        case OP_REFUSE:
            lim_rate_check_add(r->t, name, limit, 1, now, &info);
            break;
        case OP_ADD:
            lim_rate_add(r->t, name, 17, now);
            break;
        case OP_CHECK0:
            lim_rate_check_add(r->t, name, limit, 0, now, &info);
            break;
        case OP_PEEK:
            lim_rate_peek(r->t, name, limit, now, &info);
            break;
        case OP_GAUGE:
            if (lim_gauge_inc(r->t, name, limit, now, &info))
                lim_gauge_dec(r->t, name, now);
            break;
        }
        if ((i & 1023) == 0) {
            lim_reader_quiescent(rd);
            now = wall_ms();
        }
    }
    r->ns = (mono_ns() - t0) / (double)r->iters;
    lim_reader_unregister(rd);
    return NULL;
}

static void measure(lim_table_t *t, const char *label, long iters)
{
    printf("%s\n  %-28s %10s %16s %16s\n", label, "call", "1 thread", "2 thr, 1 counter",
           "2 thr, 2 counters");
    for (op_t op = OP_ADMIT; op <= OP_GAUGE; op++) {
        /* names as the data plane builds them: a key's SHA-256 in hex (76 bytes in all) */
        static const char hash[] =
            "d5fb789e1c0c3f6a2b4e8d7f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b";
        char n0[128], n1[128];
        snprintf(n0, sizeof n0, "api_key:%s:%s%d:rpm", hash, label, (int)op);
        snprintf(n1, sizeof n1, "api_key:%s:%s%d:tpm", hash, label, (int)op);
        run_t one = {t, op, n0, iters, NULL, 0};
        run(&one); /* warm: the counter exists */
        run(&one);
        double res[3] = {one.ns, 0, 0};
        for (int shared = 1; shared >= 0; shared--) {
            atomic_int go = 0;
            run_t r[2] = {{t, op, n0, iters, &go, 0}, {t, op, shared ? n0 : n1, iters, &go, 0}};
            pthread_t th[2];
            for (int i = 0; i < 2; i++)
                pthread_create(&th[i], NULL, run, &r[i]);
            atomic_store(&go, 1);
            for (int i = 0; i < 2; i++)
                pthread_join(th[i], NULL);
            res[shared ? 1 : 2] = (r[0].ns + r[1].ns) / 2;
        }
        printf("  %-28s %8.1f ns %14.1f ns %14.1f ns\n", op_names[op], res[0], res[1], res[2]);
    }
}

typedef struct {
    lim_table_t *t;
    _Atomic int64_t *now;
    atomic_int *stop;
} churn_t;

static void *churn_worker(void *arg)
{
    churn_t *c = arg;
    lim_reader_t *r = lim_reader_register(c->t);
    char name[32];
    for (long i = 0; !atomic_load(c->stop); i++) {
        int64_t now = atomic_load(c->now);
        snprintf(name, sizeof name, "n%ld", i % 64);
        lim_rate_check_add(c->t, str_cstr(name), 5, 1, now, NULL);
        lim_rate_add(c->t, str_cstr(name), 3, now);
        if (lim_gauge_inc(c->t, str_cstr("g"), 100, now, NULL))
            lim_gauge_dec(c->t, str_cstr("g"), now);
        if ((i & 15) == 0)
            lim_reader_quiescent(r);
    }
    lim_reader_unregister(r);
    return NULL;
}

static void churn(int rounds)
{
    lim_table_t *t = lim_table_new(&(lim_opts_t){.window_ms = 10});
    _Atomic int64_t now = 1000;
    atomic_int stop = 0;
    churn_t c = {t, &now, &stop};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, churn_worker, &c);
    for (int i = 0; i < rounds; i++) {
        atomic_fetch_add(&now, 25);
        lim_table_maintain(t, atomic_load(&now) + 25);
        usleep(1000);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    lim_stats_t st;
    lim_table_stats(t, &st);
    printf("churn: %d rounds, %lu counters reclaimed under 3 workers\n", rounds, st.reclaimed);
    lim_table_free(t);
}

int main(int argc, char **argv)
{
    const char *redis = NULL;
    int rounds = 0;
    long iters = 2000000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--redis") == 0 && i + 1 < argc)
            redis = argv[++i];
        else if (strcmp(argv[i], "--churn") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc)
            iters = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--redis HOST:PORT] [--churn ROUNDS] [--iters N]\n",
                    argv[0]);
            return 2;
        }
    }
    lim_table_t *t = lim_table_new(NULL);
    measure(t, "local", iters);
    lim_table_free(t);
    if (redis) {
        char host[256];
        snprintf(host, sizeof host, "%s", redis);
        char *colon = strrchr(host, ':');
        lim_redis_conf_t conf = {.host = host, .port = 6379};
        if (colon) {
            *colon = '\0';
            conf.port = atoi(colon + 1);
        }
        snprintf(conf.source, sizeof conf.source, "--redis");
        t = lim_table_new(&(lim_opts_t){.redis = &conf});
        lim_stats_t st = {0};
        for (int i = 0; i < 400 && !st.shared; i++) {
            usleep(5000);
            lim_table_stats(t, &st);
        }
        if (!st.shared)
            fprintf(stderr, "Redis at %s did not answer: measuring local mode again\n", redis);
        measure(t, st.shared ? "shared" : "local-fallback", iters);
        lim_table_stats(t, &st);
        printf("shared: %s, batches %llu, trips %llu\n", st.shared ? "yes" : "no",
               (unsigned long long)st.batches, (unsigned long long)st.trips);
        lim_table_free(t);
    }
    if (rounds)
        churn(rounds);
    return 0;
}
