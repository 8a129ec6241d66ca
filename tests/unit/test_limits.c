/* SPDX-License-Identifier: MIT
 * limits: window semantics (anchor, reset, amounts, tpm checks), exactness under threads, gauges,
 * reclamation, Redis settings as LiteLLM finds them; and with a real redis-server started here on
 * a free loopback port: two tables (two "instances", each with its own sync thread) sharing one
 * limit, Redis killed and restarted, and a relay that stops answering (the breaker trips, calls
 * never block, sync resumes). Redis tests skip when redis-server is not installed. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "limits/internal.h"
#include "limits/limits.h"

#define W LIM_WINDOW_MS
#define S(lit) STR_LIT(lit)

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* ---- windows, amounts, limits (one instance) ---- */

Test(limits, window_anchored_at_first_request_and_reset)
{
    lim_table_t *t = lim_table_new(NULL);
    lim_reader_t *r = lim_reader_register(t);
    const int64_t t0 = 1000000;
    lim_info_t info;
    cr_assert(lim_rate_check_add(t, S("api_key:k:rpm"), 3, 1, t0, &info));
    cr_expect_eq(info.reset_ms, t0 + W);
    cr_expect_eq(info.used, 1);
    cr_expect_eq(info.remaining, 2);
    cr_assert(lim_rate_check_add(t, S("api_key:k:rpm"), 3, 1, t0 + 10000, &info));
    cr_assert(lim_rate_check_add(t, S("api_key:k:rpm"), 3, 1, t0 + 20000, &info));
    cr_expect_eq(info.remaining, 0);
    cr_assert_not(lim_rate_check_add(t, S("api_key:k:rpm"), 3, 1, t0 + 59999, &info));
    cr_expect_eq(info.used, 3);
    cr_expect_eq(info.remaining, 0);
    cr_expect_eq(info.reset_ms, t0 + W, "the refusal says when the window resets");
    /* the window ends 60 s after its first request; the next one starts at the next request */
    cr_assert(lim_rate_check_add(t, S("api_key:k:rpm"), 3, 1, t0 + 75000, &info));
    cr_expect_eq(info.reset_ms, t0 + 75000 + W);
    cr_expect_eq(info.used, 1);
    lim_rate_peek(t, S("api_key:k:rpm"), 3, t0 + 80000, &info);
    cr_expect_eq(info.used, 1);
    lim_rate_peek(t, S("api_key:k:rpm"), 3, t0 + 75000 + W, &info);
    cr_expect_eq(info.used, 0, "nothing counted once the window is over");
    lim_rate_peek(t, S("api_key:unknown:rpm"), 3, t0, &info);
    cr_expect_eq(info.used, 0);
    cr_expect_eq(info.remaining, 3);
    /* counters are independent */
    cr_assert(lim_rate_check_add(t, S("team:t:rpm"), 1, 1, t0, NULL));
    cr_assert_not(lim_rate_check_add(t, S("team:t:rpm"), 1, 1, t0, NULL));
    lim_stats_t st;
    lim_table_stats(t, &st);
    cr_expect_not(st.redis);
    cr_expect_not(st.shared);
    cr_expect_eq(st.instances, 1);
    cr_expect_eq(st.counters, 2);
    lim_reader_unregister(r);
    lim_table_free(t);
}

Test(limits, amounts_tokens_and_no_limit)
{
    lim_table_t *t = lim_table_new(&(lim_opts_t){.window_ms = 1000});
    lim_reader_t *r = lim_reader_register(t);
    lim_info_t info;
    /* amounts: admitted only when the whole amount fits */
    cr_assert(lim_rate_check_add(t, S("a"), 12, 5, 100, NULL));
    cr_assert(lim_rate_check_add(t, S("a"), 12, 5, 100, NULL));
    cr_assert_not(lim_rate_check_add(t, S("a"), 12, 5, 100, &info));
    cr_expect_eq(info.used, 10);
    cr_assert(lim_rate_check_add(t, S("a"), 12, 2, 100, &info));
    cr_expect_eq(info.used, 12);
    /* tpm: LiteLLM checks usage < limit before the call and adds the tokens after it */
    cr_assert(lim_rate_check_add(t, S("tpm"), 100, 0, 100, &info));
    cr_expect_eq(info.used, 0);
    lim_rate_add(t, S("tpm"), 99, 100);
    cr_assert(lim_rate_check_add(t, S("tpm"), 100, 0, 200, &info));
    lim_rate_add(t, S("tpm"), 500, 200); /* a call may overshoot; the next one is refused */
    cr_assert_not(lim_rate_check_add(t, S("tpm"), 100, 0, 300, &info));
    cr_expect_eq(info.used, 599);
    cr_expect_eq(info.remaining, 0);
    cr_assert(lim_rate_check_add(t, S("tpm"), 100, 0, 1100, &info), "window over");
    /* no limit: always admitted, still counted */
    for (int i = 0; i < 5; i++)
        cr_assert(lim_rate_check_add(t, S("free"), -1, 1, 2000, NULL));
    lim_rate_peek(t, S("free"), -1, 2000, &info);
    cr_expect_eq(info.used, 5);
    /* a name used both ways is not limited the second way (and logged once) */
    cr_assert(lim_gauge_inc(t, S("a"), 0, 2000, NULL));
    cr_assert(lim_rate_check_add(t, S(""), 0, 1, 2000, NULL), "unusable names are not limited");
    lim_reader_unregister(r);
    lim_table_free(t);
}

typedef struct {
    lim_table_t *t;
    str_t name;
    int64_t limit, now;
    atomic_int *go;
    long admitted;
} hammer_t;

static void *hammer_local(void *arg)
{
    hammer_t *h = arg;
    lim_reader_t *r = lim_reader_register(h->t);
    while (!atomic_load(h->go))
        ;
    long refused = 0;
    for (long i = 0; refused < 20000; i++) {
        /* now 0: the real clock at each call, as workers do (threads race on the start) */
        int64_t now = h->now ? h->now : wall_ms();
        if (lim_rate_check_add(h->t, h->name, h->limit, 1, now, NULL))
            h->admitted++;
        else
            refused++;
        if ((i & 63) == 0)
            lim_reader_quiescent(r);
    }
    lim_reader_unregister(r);
    return NULL;
}

Test(limits, exact_under_threads)
{
    lim_table_t *t = lim_table_new(NULL);
    for (int run = 0; run < 4; run++) {
        int threads = run & 1 ? 4 : 2;
        int64_t fixed_now = run < 2 ? 5000000 : 0;
        atomic_int go = 0;
        hammer_t h[4];
        pthread_t th[4];
        char name[32];
        snprintf(name, sizeof name, "api_key:hot%d:rpm", run);
        for (int i = 0; i < threads; i++) {
            h[i] = (hammer_t){t, str_cstr(name), 50000, fixed_now, &go, 0};
            pthread_create(&th[i], NULL, hammer_local, &h[i]);
        }
        atomic_store(&go, 1);
        long total = 0;
        for (int i = 0; i < threads; i++) {
            pthread_join(th[i], NULL);
            total += h[i].admitted;
        }
        cr_expect_eq(total, 50000, "%d threads admitted %ld of 50000 (%s clock)", threads, total,
                     fixed_now ? "fixed" : "real");
    }
    lim_table_free(t);
}

typedef struct {
    lim_table_t *t;
    atomic_int *inside, *max_inside, *go;
    long taken;
} gauge_worker_t;

static void *gauge_worker(void *arg)
{
    gauge_worker_t *g = arg;
    lim_reader_t *r = lim_reader_register(g->t);
    while (!atomic_load(g->go))
        ;
    for (int i = 0; i < 100000; i++) {
        if (!lim_gauge_inc(g->t, S("api_key:k:parallel"), 8, 1000, NULL))
            continue;
        int now_inside = atomic_fetch_add(g->inside, 1) + 1;
        int m = atomic_load(g->max_inside);
        while (now_inside > m && !atomic_compare_exchange_weak(g->max_inside, &m, now_inside))
            ;
        g->taken++;
        atomic_fetch_sub(g->inside, 1);
        lim_gauge_dec(g->t, S("api_key:k:parallel"), 1000);
        if ((i & 63) == 0)
            lim_reader_quiescent(r);
    }
    lim_reader_unregister(r);
    return NULL;
}

Test(limits, gauges)
{
    lim_table_t *t = lim_table_new(NULL);
    lim_reader_t *r = lim_reader_register(t);
    lim_info_t info;
    for (int i = 0; i < 3; i++)
        cr_assert(lim_gauge_inc(t, S("g"), 3, 0, &info));
    cr_expect_eq(info.used, 3);
    cr_assert_not(lim_gauge_inc(t, S("g"), 3, 0, &info));
    cr_expect_eq(info.remaining, 0);
    lim_gauge_dec(t, S("g"), 0);
    cr_assert(lim_gauge_inc(t, S("g"), 3, 0, NULL));
    for (int i = 0; i < 5; i++) /* more decs than incs: ignored, never negative */
        lim_gauge_dec(t, S("g"), 0);
    lim_gauge_dec(t, S("never"), 0);
    cr_assert(lim_gauge_inc(t, S("g"), 1, 0, NULL));
    cr_assert_not(lim_gauge_inc(t, S("g"), 1, 0, NULL));
    lim_gauge_dec(t, S("g"), 0);
    cr_assert(lim_gauge_inc(t, S("g"), -1, 0, NULL), "no limit");

    /* threads: never more than the limit inside at once */
    atomic_int inside = 0, max_inside = 0, go = 0;
    gauge_worker_t g[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        g[i] = (gauge_worker_t){t, &inside, &max_inside, &go, 0};
        pthread_create(&th[i], NULL, gauge_worker, &g[i]);
    }
    atomic_store(&go, 1);
    long taken = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        taken += g[i].taken;
    }
    cr_expect_leq(atomic_load(&max_inside), 8);
    cr_expect_gt(taken, 0);
    lim_gauge_inc(t, S("api_key:k:parallel"), 8, 1000, &info);
    cr_expect_eq(info.used, 1, "every slot was given back");
    lim_reader_unregister(r);
    lim_table_free(t);
}

Test(limits, idle_counters_are_reclaimed)
{
    lim_table_t *t = lim_table_new(NULL);
    lim_reader_t *r = lim_reader_register(t);
    const int64_t t0 = 10000000;
    char name[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "end_user:u%d:rpm", i);
        cr_assert(lim_rate_check_add(t, str_cstr(name), 1, 1, t0, NULL));
    }
    cr_assert(lim_gauge_inc(t, S("held"), 5, t0, NULL));
    cr_assert(lim_gauge_inc(t, S("free"), 5, t0, NULL));
    lim_gauge_dec(t, S("free"), t0);
    lim_stats_t st;
    lim_table_maintain(t, t0 + 2 * W - 1);
    lim_table_stats(t, &st);
    cr_expect_eq(st.counters, 1002, "idle for less than two windows: kept");
    /* this reader still may hold pointers: memory waits for its quiescent point */
    lim_table_maintain(t, t0 + 2 * W + 1000);
    lim_table_stats(t, &st);
    cr_expect_eq(st.counters, 1, "only the gauge with a slot held is left");
    cr_expect_eq(st.reclaimed, 1001);
    lim_reader_quiescent(r);
    lim_table_maintain(t, t0 + 2 * W + 2000);
    /* a reclaimed name starts afresh */
    cr_assert(lim_rate_check_add(t, S("end_user:u1:rpm"), 1, 1, t0 + 3 * W, NULL));
    cr_assert_not(lim_rate_check_add(t, S("end_user:u1:rpm"), 1, 1, t0 + 3 * W, NULL));
    lim_info_t info;
    cr_assert(lim_gauge_inc(t, S("held"), 5, t0 + 3 * W, &info));
    cr_expect_eq(info.used, 2, "the held gauge kept its count");
    lim_reader_unregister(r);
    lim_table_free(t);
}

typedef struct {
    lim_table_t *t;
    _Atomic int64_t *now;
    atomic_int *stop;
    long calls;
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
        if (lim_gauge_inc(c->t, S("gauge"), 100, now, NULL))
            lim_gauge_dec(c->t, S("gauge"), now);
        c->calls++;
        if ((i & 15) == 0)
            lim_reader_quiescent(r);
    }
    lim_reader_unregister(r);
    return NULL;
}

/* Workers keep using names while the maintainer reclaims them: every path that meets a dead
 * counter looks it up again, and memory is freed only after readers move on (ASan checks). */
Test(limits, reclamation_races_workers, .timeout = 20)
{
    lim_table_t *t = lim_table_new(&(lim_opts_t){.window_ms = 10});
    _Atomic int64_t now = 1000;
    atomic_int stop = 0;
    churn_t c[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        c[i] = (churn_t){t, &now, &stop, 0};
        pthread_create(&th[i], NULL, churn_worker, &c[i]);
    }
    for (int round = 0; round < 400; round++) {
        atomic_fetch_add(&now, 25); /* every counter idle for two windows at each round */
        lim_table_maintain(t, atomic_load(&now) + 25);
        sleep_ms(1);
    }
    atomic_store(&stop, 1);
    long calls = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        calls += c[i].calls;
    }
    lim_stats_t st;
    lim_table_stats(t, &st);
    cr_expect_gt(st.reclaimed, 0);
    cr_expect_gt(calls, 0);
    lim_table_free(t);
}

/* ---- Redis settings ---- */

typedef struct {
    const char *name, *value;
} env_kv_t;
static const env_kv_t *fake_env;

static const char *env_get(const char *name)
{
    for (const env_kv_t *e = fake_env; e && e->name; e++)
        if (strcmp(e->name, name) == 0)
            return e->value;
    return NULL;
}

static int find(const char *yaml, const env_kv_t *env, lim_redis_conf_t *out, char *err)
{
    cfg_t *cfg = NULL;
    if (yaml) {
        cfg_diag_t d;
        cfg = cfg_load_string("t.yaml", yaml, strlen(yaml), &d);
        cr_assert_not_null(cfg, "%s", d.num_errors ? d.errors[0] : "");
        cr_expect_eq(d.num_warnings, 0, "%s", d.num_warnings ? d.warnings[0] : "");
        cfg_diag_free(&d);
    }
    fake_env = env;
    err[0] = '\0';
    int rc = lim_redis_conf_find(cfg, env_get, out, err, 200);
    cfg_free(cfg);
    return rc;
}

Test(limits, redis_settings_as_litellm)
{
    lim_redis_conf_t c;
    char err[200];
    cr_expect_eq(find(NULL, NULL, &c, err), 0);
    cr_expect_eq(find("model_list: []\n", (env_kv_t[]){{"REDIS_PORT", "1"}, {0}}, &c, err), 0,
                 "a port alone names no server");

    cr_assert_eq(
        find(
            NULL,
            (env_kv_t[]){{"REDIS_HOST", "h"}, {"REDIS_PORT", "6380"}, {"REDIS_PASSWORD", "p"}, {0}},
            &c, err),
        1, "%s", err);
    cr_expect_str_eq(c.host, "h");
    cr_expect_eq(c.port, 6380);
    cr_expect_str_eq(c.password, "p");
    cr_expect_null(c.username);
    cr_expect_str_eq(c.source, "REDIS_HOST");
    lim_redis_conf_dispose(&c);

    cr_assert_eq(
        find(NULL, (env_kv_t[]){{"REDIS_URL", "redis://u:p%40ss@h2:6390/3"}, {0}}, &c, err), 1,
        "%s", err);
    cr_expect_str_eq(c.host, "h2");
    cr_expect_eq(c.port, 6390);
    cr_expect_eq(c.db, 3);
    cr_expect_str_eq(c.username, "u");
    cr_expect_str_eq(c.password, "p@ss");
    cr_expect_str_eq(c.source, "REDIS_URL");
    lim_redis_conf_dispose(&c);

    /* cache_params (type redis) wins over router_settings; the environment fills the gaps */
    const char *both = "litellm_settings:\n"
                       "  cache_params:\n"
                       "    type: redis\n"
                       "    host: cache-host\n"
                       "    port: 7000\n"
                       "    ttl: 600\n"
                       "    namespace: litellm.caching\n"
                       "    supported_call_types: [acompletion]\n"
                       "router_settings:\n"
                       "  redis_host: router-host\n"
                       "  redis_port: 7001\n"
                       "  redis_password: router-pw\n"
                       "  redis_db: 2\n";
    cr_assert_eq(
        find(both, (env_kv_t[]){{"REDIS_PORT", "1"}, {"REDIS_PASSWORD", "env-pw"}, {0}}, &c, err),
        1, "%s", err);
    cr_expect_str_eq(c.host, "cache-host");
    cr_expect_eq(c.port, 7000);
    cr_expect_str_eq(c.password, "env-pw");
    cr_expect_eq(c.db, 0);
    cr_expect_str_eq(c.source, "litellm_settings.cache_params");
    lim_redis_conf_dispose(&c);

    /* a local cache is no Redis: router_settings then */
    const char *local = "litellm_settings:\n"
                        "  cache_params: {type: local}\n"
                        "router_settings:\n"
                        "  redis_host: router-host\n"
                        "  redis_port: \"7001\"\n"
                        "  redis_password: router-pw\n"
                        "  redis_db: 2\n";
    cr_assert_eq(find(local, NULL, &c, err), 1, "%s", err);
    cr_expect_str_eq(c.host, "router-host");
    cr_expect_eq(c.port, 7001);
    cr_expect_str_eq(c.password, "router-pw");
    cr_expect_eq(c.db, 2);
    cr_expect_str_eq(c.source, "router_settings");
    lim_redis_conf_dispose(&c);

    /* LiteLLM: a URL, even REDIS_URL from the environment, wins over a section's host */
    cr_assert_eq(find(both, (env_kv_t[]){{"REDIS_URL", "redis://url-host:6399"}, {0}}, &c, err), 1,
                 "%s", err);
    cr_expect_str_eq(c.host, "url-host");
    cr_expect_eq(c.port, 6399);
    cr_expect_str_eq(c.source, "REDIS_URL, over litellm_settings.cache_params");
    lim_redis_conf_dispose(&c);
    cr_assert_eq(find("router_settings: {redis_url: \"redis://:pw@r:1234/5\"}\n", NULL, &c, err), 1,
                 "%s", err);
    cr_expect_str_eq(c.host, "r");
    cr_expect_eq(c.port, 1234);
    cr_expect_eq(c.db, 5);
    cr_expect_str_eq(c.password, "pw");
    cr_expect_null(c.username);
    cr_expect_str_eq(c.source, "router_settings url");
    lim_redis_conf_dispose(&c);

    /* what this build cannot do, said plainly */
    cr_expect_eq(find(NULL, (env_kv_t[]){{"REDIS_URL", "rediss://h:6380"}, {0}}, &c, err), -1);
    cr_expect(strstr(err, "TLS") != NULL, "%s", err);
    cr_expect_eq(find("litellm_settings: {cache_params: {type: redis, host: h, ssl: true}}\n", NULL,
                      &c, err),
                 -1);
    cr_expect(strstr(err, "TLS") != NULL, "%s", err);
    cr_expect_eq(find(NULL, (env_kv_t[]){{"REDIS_HOST", "h"}, {"REDIS_PORT", "x"}, {0}}, &c, err),
                 -1);
    cr_expect(strstr(err, "REDIS_PORT") != NULL, "%s", err);
    cr_expect_eq(find("litellm_settings: {cache_params: {type: redis}}\n", NULL, &c, err), -1);
    cr_expect(strstr(err, "cache_params") != NULL, "%s", err);
}

Test(limits, redis_urls)
{
    lim_redis_conf_t c;
    char err[200];
    cr_assert_eq(lim_redis_url_parse("redis://localhost", &c, err, sizeof err), 0);
    cr_expect_str_eq(c.host, "localhost");
    cr_expect_eq(c.port, 6379);
    cr_expect_eq(c.db, 0);
    cr_expect_null(c.password);
    lim_redis_conf_dispose(&c);
    cr_assert_eq(lim_redis_url_parse("redis://secret@h", &c, err, sizeof err), 0);
    cr_expect_str_eq(c.password, "secret", "a lone credential is the password");
    lim_redis_conf_dispose(&c);
    cr_assert_eq(lim_redis_url_parse("redis://[::1]:7000?db=4", &c, err, sizeof err), 0);
    cr_expect_str_eq(c.host, "::1");
    cr_expect_eq(c.port, 7000);
    cr_expect_eq(c.db, 4);
    lim_redis_conf_dispose(&c);
    cr_assert_eq(lim_redis_url_parse("redis://a:b@c@h:1/", &c, err, sizeof err), 0);
    cr_expect_str_eq(c.password, "b@c", "the last @ ends the credentials");
    lim_redis_conf_dispose(&c);
    cr_expect_eq(lim_redis_url_parse("http://h", &c, err, sizeof err), -1);
    cr_expect_eq(lim_redis_url_parse("redis://h:99999", &c, err, sizeof err), -1);
    cr_expect_eq(lim_redis_url_parse("redis://h/x", &c, err, sizeof err), -1);
    cr_expect_eq(lim_redis_url_parse("redis://u:%zz@h", &c, err, sizeof err), -1);
}

/* ---- a real Redis ---- */

typedef struct {
    pid_t pid;
    int port;
    char dir[64];
} redis_srv_t;

static redis_srv_t srv;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

static bool redis_pings(int port)
{
    int fd = connect_port(port);
    if (fd < 0)
        return false;
    char buf[16] = "";
    bool ok = write(fd, "PING\r\n", 6) == 6 && read(fd, buf, sizeof buf - 1) >= 5 &&
              strncmp(buf, "+PONG", 5) == 0;
    close(fd);
    return ok;
}

static bool redis_installed(void)
{
    return system("command -v redis-server >/dev/null 2>&1") == 0;
}

/* Starts redis-server on `port` (0: a free one); it dies with this process whatever happens. */
static void redis_start(redis_srv_t *s, int port)
{
    if (!s->dir[0]) {
        snprintf(s->dir, sizeof s->dir, "/tmp/sluice-redis-XXXXXX");
        cr_assert_not_null(mkdtemp(s->dir));
    }
    s->port = port ? port : free_port();
    cr_assert_gt(s->port, 0);
    pid_t parent = getpid();
    s->pid = fork();
    cr_assert_geq(s->pid, 0);
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        char p[16], log[128];
        snprintf(p, sizeof p, "%d", s->port);
        snprintf(log, sizeof log, "%s/redis.log", s->dir);
        FILE *f = freopen(log, "a", stdout);
        (void)f;
        dup2(1, 2);
        execlp("redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", s->dir, "--daemonize", "no", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500 && !redis_pings(s->port); i++)
        sleep_ms(10);
    cr_assert(redis_pings(s->port), "redis-server did not start (see %s/redis.log)", s->dir);
}

static void redis_kill(redis_srv_t *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

/* A TCP relay in front of Redis that can stop passing bytes (a Redis that never answers). */
typedef struct {
    int listen_fd, port, upstream;
    atomic_int hold, stop;
    pthread_t thread;
    bool running;
} relay_t;

static relay_t relay;

#define RELAY_MAX 32

static void *relay_main(void *arg)
{
    relay_t *r = arg;
    int cfd[RELAY_MAX], ufd[RELAY_MAX];
    bool held[RELAY_MAX];
    int n = 0;
    char buf[65536];
    while (!atomic_load(&r->stop)) {
        struct pollfd p[1 + 2 * RELAY_MAX];
        p[0] = (struct pollfd){r->listen_fd, POLLIN, 0};
        for (int i = 0; i < n; i++) {
            p[1 + 2 * i] = (struct pollfd){cfd[i], POLLIN, 0};
            p[2 + 2 * i] = (struct pollfd){ufd[i], POLLIN, 0};
        }
        if (poll(p, (nfds_t)(1 + 2 * n), 10) <= 0)
            continue;
        bool hold = atomic_load(&r->hold);
        for (int i = 0; i < n; i++) {
            held[i] = held[i] || hold;
            for (int side = 0; side < 2; side++) {
                if (!(p[1 + 2 * i + side].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                int from = side ? ufd[i] : cfd[i], to = side ? cfd[i] : ufd[i];
                ssize_t got = read(from, buf, sizeof buf);
                if (got <= 0) {
                    close(cfd[i]);
                    close(ufd[i]);
                    cfd[i] = ufd[i] = -1;
                    break;
                }
                if (!held[i] && write(to, buf, (size_t)got) != got) {
                    close(cfd[i]);
                    close(ufd[i]);
                    cfd[i] = ufd[i] = -1;
                    break;
                }
            }
        }
        for (int i = 0; i < n;) /* drop closed pairs (poll indices are rebuilt next round) */
            if (cfd[i] < 0) {
                cfd[i] = cfd[n - 1];
                ufd[i] = ufd[n - 1];
                held[i] = held[n - 1];
                n--;
            } else {
                i++;
            }
        if ((p[0].revents & POLLIN) && n < RELAY_MAX) {
            int c = accept(r->listen_fd, NULL, NULL);
            int u = c >= 0 ? connect_port(r->upstream) : -1;
            if (c >= 0 && u >= 0) {
                cfd[n] = c;
                ufd[n] = u;
                held[n] = hold;
                n++;
            } else {
                if (c >= 0)
                    close(c);
                if (u >= 0)
                    close(u);
            }
        }
    }
    for (int i = 0; i < n; i++) {
        close(cfd[i]);
        close(ufd[i]);
    }
    return NULL;
}

static void relay_start(relay_t *r, int upstream)
{
    r->upstream = upstream;
    r->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int one = 1;
    setsockopt(r->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    cr_assert_eq(bind(r->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(r->listen_fd, 16), 0);
    getsockname(r->listen_fd, (struct sockaddr *)&a, &len);
    r->port = ntohs(a.sin_port);
    atomic_store(&r->hold, 0);
    atomic_store(&r->stop, 0);
    pthread_create(&r->thread, NULL, relay_main, r);
    r->running = true;
}

static void relay_stop(relay_t *r)
{
    if (!r->running)
        return;
    atomic_store(&r->stop, 1);
    pthread_join(r->thread, NULL);
    close(r->listen_fd);
    r->running = false;
}

static void redis_setup(void)
{
    signal(SIGPIPE, SIG_IGN);
}

/* Runs whatever happened in the test: no redis-server or temp dir outlives it. */
static void redis_teardown(void)
{
    relay_stop(&relay);
    redis_kill(&srv);
    if (srv.dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", srv.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", srv.dir);
    }
}

static lim_table_t *instance(int port, const char *id)
{
    lim_redis_conf_t conf = {.host = "127.0.0.1", .port = port};
    snprintf(conf.source, sizeof conf.source, "the test");
    return lim_table_new(&(lim_opts_t){
        .redis = &conf, .instance_id = id, .probe_interval_ms = 200, .probe_timeout_ms = 300});
}

/* Waits until every table shares its limits and sees `instances` instances. */
static void wait_shared(lim_table_t **t, int n, unsigned instances, int timeout_ms)
{
    for (int waited = 0;; waited += 5) {
        bool all = true;
        for (int i = 0; i < n; i++) {
            lim_stats_t st;
            lim_table_stats(t[i], &st);
            all = all && st.shared && st.instances >= instances;
        }
        if (all)
            return;
        cr_assert_lt(waited, timeout_ms, "the tables did not get in sync with Redis in time");
        sleep_ms(5);
    }
}

typedef struct {
    lim_table_t *t;
    str_t name;
    int64_t limit;
    int duration_ms;
    atomic_int *go;
    long admitted, calls;
    int64_t max_call_us;
} shared_hammer_t;

static void *hammer_shared(void *arg)
{
    shared_hammer_t *h = arg;
    lim_reader_t *r = lim_reader_register(h->t);
    while (!atomic_load(h->go))
        ;
    int64_t end = mono_us() + h->duration_ms * 1000;
    for (long i = 0;; i++) {
        int64_t t0 = mono_us();
        if (t0 >= end)
            break;
        if (lim_rate_check_add(h->t, h->name, h->limit, 1, wall_ms(), NULL))
            h->admitted++;
        int64_t d = mono_us() - t0;
        if (d > h->max_call_us)
            h->max_call_us = d;
        h->calls++;
        if ((i & 63) == 0)
            lim_reader_quiescent(r);
    }
    lim_reader_unregister(r);
    return NULL;
}

/* Two instances hammering one key at once, one thread each. *trips: breaker trips meanwhile
 * (a starved machine can delay Redis past the timeout; then each instance enforces alone). */
static long hammer_both(lim_table_t *a, lim_table_t *b, const char *name, int64_t limit,
                        int duration_ms, int64_t *max_call_us, int *trips)
{
    lim_stats_t before[2], after[2];
    lim_table_stats(a, &before[0]);
    lim_table_stats(b, &before[1]);
    atomic_int go = 0;
    shared_hammer_t h[2] = {{a, str_cstr(name), limit, duration_ms, &go, 0, 0, 0},
                            {b, str_cstr(name), limit, duration_ms, &go, 0, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, hammer_shared, &h[i]);
    atomic_store(&go, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    if (max_call_us)
        *max_call_us = h[0].max_call_us > h[1].max_call_us ? h[0].max_call_us : h[1].max_call_us;
    lim_table_stats(a, &after[0]);
    lim_table_stats(b, &after[1]);
    int n = (int)(after[0].trips - before[0].trips + after[1].trips - before[1].trips);
    if (trips)
        *trips = n;
    if (n)
        fprintf(stderr, "hammer %s: %ld + %ld admitted, breaker trips meanwhile: %d\n", name,
                h[0].admitted, h[1].admitted, n);
    return h[0].admitted + h[1].admitted;
}

/* 60 +- 2 across both, unless the breaker tripped meanwhile: then each enforces 60 alone. */
static void expect_shared_limit(long total, int trips, const char *what)
{
    if (trips)
        cr_expect(total >= 58 && total <= 122, "%s: admitted %ld of 60 (with %d trips)", what,
                  total, trips);
    else
        cr_expect(total >= 58 && total <= 62, "%s: admitted %ld of 60 across two instances", what,
                  total);
}

Test(limits_redis, two_instances_share_one_limit, .init = redis_setup, .fini = redis_teardown,
     .timeout = 30)
{
    if (!redis_installed())
        cr_skip_test("redis-server is not installed");
    redis_start(&srv, 0);
    lim_table_t *t[2] = {instance(srv.port, "a"), instance(srv.port, "b")};
    wait_shared(t, 2, 2, 5000);

    /* concurrently: one thread per instance, as fast as they go */
    int64_t max_us;
    int trips;
    long total = hammer_both(t[0], t[1], "api_key:concurrent:rpm", 60, 400, &max_us, &trips);
    expect_shared_limit(total, trips, "concurrently");
    fprintf(stderr, "two instances, concurrent: %ld admitted of 60, slowest call %lld us\n", total,
            (long long)max_us);

    /* alternately, from one thread, with the syncs interleaved */
    lim_reader_t *r[2] = {lim_reader_register(t[0]), lim_reader_register(t[1])};
    lim_stats_t st, st1;
    lim_table_stats(t[0], &st);
    lim_table_stats(t[1], &st1);
    uint64_t trips_before = st.trips + st1.trips;
    long alt = 0;
    int64_t end = mono_us() + 500000;
    for (int i = 0; mono_us() < end; i++) {
        alt += lim_rate_check_add(t[i & 1], S("api_key:alternate:rpm"), 60, 1, wall_ms(), NULL);
        if ((i & 15) == 0) {
            lim_reader_quiescent(r[0]);
            lim_reader_quiescent(r[1]);
            usleep(100);
        }
    }
    lim_table_stats(t[0], &st);
    lim_table_stats(t[1], &st1);
    expect_shared_limit(alt, (int)(st.trips + st1.trips - trips_before), "alternately");
    fprintf(stderr, "two instances, alternate: %ld admitted of 60\n", alt);

    /* each instance sees the other's usage (after a resync if a starved Redis tripped it) */
    lim_info_t info = {0};
    for (int i = 0; i < 400 && info.used < 58; i++) {
        sleep_ms(5);
        lim_rate_peek(t[1], S("api_key:concurrent:rpm"), 60, wall_ms(), &info);
    }
    cr_expect_geq(info.used, 58);
    cr_expect_eq(info.remaining, info.used >= 60 ? 0 : 60 - info.used);

    /* tokens added on one instance refuse the next call on the other */
    lim_rate_add(t[0], S("api_key:k:tpm"), 1000, wall_ms());
    cr_expect(lim_rate_check_add(t[1], S("api_key:k:tpm"), 500, 0, wall_ms(), NULL),
              "(the first look at a counter knows only local usage)");
    bool refused = false;
    for (int i = 0; i < 200 && !refused; i++) {
        sleep_ms(5);
        refused = !lim_rate_check_add(t[1], S("api_key:k:tpm"), 500, 0, wall_ms(), &info);
    }
    cr_expect(refused, "the other instance's tokens count");
    cr_expect_eq(info.used, 1000);

    /* gauges: slots held on one instance count on the other */
    for (int i = 0; i < 3; i++)
        cr_assert(lim_gauge_inc(t[0], S("api_key:k:parallel"), 4, wall_ms(), NULL));
    sleep_ms(50);
    cr_assert(lim_gauge_inc(t[1], S("api_key:k:parallel"), 4, wall_ms(), NULL));
    bool full = false;
    for (int i = 0; i < 200 && !full; i++) {
        sleep_ms(5);
        full = !lim_gauge_inc(t[1], S("api_key:k:parallel"), 4, wall_ms(), &info);
        if (!full)
            lim_gauge_dec(t[1], S("api_key:k:parallel"), wall_ms());
    }
    cr_expect(full, "3 held elsewhere + 1 here = the limit of 4");
    lim_gauge_dec(t[0], S("api_key:k:parallel"), wall_ms());
    bool again = false;
    for (int i = 0; i < 200 && !again; i++) {
        sleep_ms(5);
        again = lim_gauge_inc(t[1], S("api_key:k:parallel"), 4, wall_ms(), NULL);
    }
    cr_expect(again, "a slot released elsewhere is free here");

    lim_table_stats(t[0], &st);
    cr_expect(st.redis);
    cr_expect_gt(st.batches, 0);
    lim_reader_unregister(r[0]);
    lim_reader_unregister(r[1]);
    lim_table_free(t[0]);
    lim_table_free(t[1]);
}

/* The router's shared state: a cooldown (mark) set on one instance is seen by the other, a later
 * time wins, an earlier one changes nothing; busy gauges (no limit) count every instance. */
Test(limits_redis, marks_and_busy_gauges_are_shared, .init = redis_setup, .fini = redis_teardown,
     .timeout = 30)
{
    if (!redis_installed())
        cr_skip_test("redis-server is not installed");
    redis_start(&srv, 0);
    lim_table_t *t[2] = {instance(srv.port, "a"), instance(srv.port, "b")};
    wait_shared(t, 2, 2, 5000);
    lim_reader_t *r[2] = {lim_reader_register(t[0]), lim_reader_register(t[1])};
    int64_t now = wall_ms();
    cr_expect_eq(lim_mark_get(t[1], S("deployment:d1:cooldown"), now), 0, "nothing set yet");
    lim_mark_set(t[0], S("deployment:d1:cooldown"), now + 5000, now);
    cr_expect_eq(lim_mark_get(t[0], S("deployment:d1:cooldown"), now), now + 5000);
    int64_t seen = 0;
    for (int i = 0; i < 200 && seen != now + 5000; i++) {
        sleep_ms(5);
        seen = lim_mark_get(t[1], S("deployment:d1:cooldown"), wall_ms());
    }
    cr_expect_eq(seen, now + 5000, "the other instance sees the cooldown (got %lld)",
                 (long long)seen);
    /* an earlier time from b does not shorten it; a later one lengthens it for a */
    lim_mark_set(t[1], S("deployment:d1:cooldown"), now + 1000, wall_ms());
    cr_expect_eq(lim_mark_get(t[1], S("deployment:d1:cooldown"), wall_ms()), now + 5000);
    lim_mark_set(t[1], S("deployment:d1:cooldown"), now + 9000, wall_ms());
    for (int i = 0; i < 200 && seen != now + 9000; i++) {
        sleep_ms(5);
        seen = lim_mark_get(t[0], S("deployment:d1:cooldown"), wall_ms());
    }
    cr_expect_eq(seen, now + 9000, "the later time wins everywhere");

    /* busy gauges without a limit: peek counts both instances' slots */
    cr_expect_eq(lim_gauge_peek(t[1], S("deployment:d1:busy")), 0);
    for (int i = 0; i < 3; i++)
        cr_assert(lim_gauge_inc(t[0], S("deployment:d1:busy"), -1, wall_ms(), NULL));
    cr_assert(lim_gauge_inc(t[1], S("deployment:d1:busy"), -1, wall_ms(), NULL));
    int64_t busy = 0;
    for (int i = 0; i < 200 && busy != 4; i++) {
        sleep_ms(5);
        busy = lim_gauge_peek(t[1], S("deployment:d1:busy"));
    }
    cr_expect_eq(busy, 4, "3 calls under way there + 1 here");
    for (int i = 0; i < 3; i++)
        lim_gauge_dec(t[0], S("deployment:d1:busy"), wall_ms());
    for (int i = 0; i < 200 && busy != 1; i++) {
        sleep_ms(5);
        busy = lim_gauge_peek(t[1], S("deployment:d1:busy"));
    }
    cr_expect_eq(busy, 1, "the other's calls ended");
    lim_gauge_dec(t[1], S("deployment:d1:busy"), wall_ms());
    lim_reader_unregister(r[0]);
    lim_reader_unregister(r[1]);
    lim_table_free(t[0]);
    lim_table_free(t[1]);
}

/* Without Redis a mark is this process's alone, and a get of an unknown one creates nothing. */
Test(limits, marks_local)
{
    lim_table_t *t = lim_table_new(NULL);
    lim_reader_t *r = lim_reader_register(t);
    cr_expect_eq(lim_mark_get(t, S("deployment:x:cooldown"), 1000), 0);
    lim_stats_t st;
    lim_table_stats(t, &st);
    cr_expect_eq(st.counters, 0, "a get creates nothing");
    lim_mark_set(t, S("deployment:x:cooldown"), 5000, 1000);
    lim_mark_set(t, S("deployment:x:cooldown"), 3000, 1000);
    cr_expect_eq(lim_mark_get(t, S("deployment:x:cooldown"), 1000), 5000, "the later time stays");
    /* idle for two windows and long past: reclaimed */
    lim_table_maintain(t, 1000 + 3 * LIM_WINDOW_MS);
    lim_reader_quiescent(r);
    lim_table_maintain(t, 1000 + 3 * LIM_WINDOW_MS);
    lim_table_stats(t, &st);
    cr_expect_eq(st.counters, 0, "an expired, idle mark is reclaimed");
    cr_expect_eq(lim_mark_get(t, S("deployment:x:cooldown"), 1000 + 3 * LIM_WINDOW_MS), 0);
    lim_reader_unregister(r);
    lim_table_free(t);
}

Test(limits_redis, redis_killed_and_back, .init = redis_setup, .fini = redis_teardown,
     .timeout = 30)
{
    if (!redis_installed())
        cr_skip_test("redis-server is not installed");
    redis_start(&srv, 0);
    lim_table_t *t[2] = {instance(srv.port, "a"), instance(srv.port, "b")};
    wait_shared(t, 2, 2, 5000);
    int trips;
    long total = hammer_both(t[0], t[1], "api_key:before:rpm", 60, 300, NULL, &trips);
    expect_shared_limit(total, trips, "before the kill");
    lim_stats_t st[2];
    lim_table_stats(t[0], &st[0]);
    lim_table_stats(t[1], &st[1]);
    uint64_t trips0[2] = {st[0].trips, st[1].trips};

    int64_t killed = wall_ms();
    redis_kill(&srv);
    for (int waited = 0;; waited += 2) {
        lim_table_stats(t[0], &st[0]);
        lim_table_stats(t[1], &st[1]);
        if (st[0].trips > trips0[0] && st[1].trips > trips0[1])
            break;
        cr_assert_lt(waited, 2000, "the breaker did not trip");
        sleep_ms(2);
    }
    fprintf(stderr, "Redis killed: breakers tripped after %lld and %lld ms\n",
            (long long)(st[0].last_trip_ms - killed), (long long)(st[1].last_trip_ms - killed));
    cr_expect_leq(st[0].last_trip_ms - killed, 100);
    cr_expect_leq(st[1].last_trip_ms - killed, 100);
    cr_expect_not(st[0].shared);

    /* each instance now enforces the whole limit alone, as LiteLLM without Redis */
    int64_t max_us;
    total = hammer_both(t[0], t[1], "api_key:during:rpm", 60, 200, &max_us, NULL);
    cr_expect_eq(total, 120, "each instance admits the limit alone: %ld", total);
    fprintf(stderr, "Redis down: %ld admitted (60 each), slowest call %lld us\n", total,
            (long long)max_us);
    lim_reader_t *r[2] = {lim_reader_register(t[0]), lim_reader_register(t[1])};
    lim_rate_add(t[0], S("api_key:outage:tpm"), 10, wall_ms()); /* counted while down */

    redis_start(&srv, srv.port); /* back, empty */
    wait_shared(t, 2, 2, 5000);
    /* what was counted during the outage reaches the other instance */
    lim_info_t info = {0};
    cr_assert(lim_rate_check_add(t[1], S("api_key:outage:tpm"), 100, 0, wall_ms(), NULL));
    for (int i = 0; i < 200 && info.used < 10; i++) {
        sleep_ms(5);
        lim_rate_peek(t[1], S("api_key:outage:tpm"), 100, wall_ms(), &info);
    }
    cr_expect_eq(info.used, 10, "local counts are pushed once Redis answers again");
    total = hammer_both(t[0], t[1], "api_key:after:rpm", 60, 300, NULL, &trips);
    expect_shared_limit(total, trips, "after recovery");
    lim_table_stats(t[0], &st[0]);
    cr_expect_geq(st[0].trips, 1);
    lim_reader_unregister(r[0]);
    lim_reader_unregister(r[1]);
    lim_table_free(t[0]);
    lim_table_free(t[1]);
}

typedef struct {
    lim_table_t *t;
    atomic_int *stop, *measure;
    long calls, admitted;
    int64_t max_call_us;
    long waits; /* voluntary context switches while measured: a call that blocked */
} busy_t;

static long voluntary_switches(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_nvcsw;
}

static void *busy_worker(void *arg)
{
    busy_t *b = arg;
    lim_reader_t *r = lim_reader_register(b->t);
    char name[32];
    long switches = -1;
    for (long i = 0; !atomic_load(b->stop); i++) {
        if (switches < 0 && atomic_load(b->measure))
            switches = voluntary_switches(); /* every counter exists by now */
        snprintf(name, sizeof name, "api_key:k%ld:rpm", i % 50);
        int64_t t0 = mono_us();
        b->admitted += lim_rate_check_add(b->t, str_cstr(name), 1000000, 1, wall_ms(), NULL);
        lim_rate_add(b->t, S("api_key:k:tpm"), 10, wall_ms());
        if (lim_gauge_inc(b->t, S("api_key:k:parallel"), 1000, wall_ms(), NULL))
            lim_gauge_dec(b->t, S("api_key:k:parallel"), wall_ms());
        int64_t d = mono_us() - t0;
        if (d > b->max_call_us)
            b->max_call_us = d;
        b->calls++;
        if ((i & 63) == 0)
            lim_reader_quiescent(r);
    }
    b->waits = switches < 0 ? -1 : voluntary_switches() - switches;
    lim_reader_unregister(r);
    return NULL;
}

Test(limits_redis, redis_that_stops_answering_trips_the_breaker, .init = redis_setup,
     .fini = redis_teardown, .timeout = 30)
{
    if (!redis_installed())
        cr_skip_test("redis-server is not installed");
    redis_start(&srv, 0);
    relay_start(&relay, srv.port);
    lim_table_t *t = instance(relay.port, "slow");
    wait_shared(&t, 1, 1, 5000);

    atomic_int stop = 0, measure = 0;
    busy_t b[2] = {{t, &stop, &measure, 0, 0, 0, 0}, {t, &stop, &measure, 0, 0, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, busy_worker, &b[i]);
    sleep_ms(100);
    atomic_store(&measure, 1);
    sleep_ms(10);

    int64_t held = wall_ms();
    atomic_store(&relay.hold, 1); /* accepts, reads, never answers */
    lim_stats_t st;
    for (int waited = 0;; waited += 2) {
        lim_table_stats(t, &st);
        if (st.trips)
            break;
        cr_assert_lt(waited, 3000, "the breaker did not trip");
        sleep_ms(2);
    }
    /* the first unanswered batch goes out within a tick of `held`, times out 50 ms later */
    int64_t after = st.last_trip_ms - held;
    fprintf(stderr, "Redis silent: breaker tripped %lld ms after the relay stopped answering\n",
            (long long)after);
    cr_expect_leq(after, 50 + 100, "tripped %lld ms after Redis went silent", (long long)after);
    cr_expect_not(st.shared);
    sleep_ms(700); /* probes through the silent relay time out; workers carry on locally */
    lim_table_stats(t, &st);
    cr_expect_not(st.shared);
    cr_expect_eq(st.trips, 1);
    long calls_before = b[0].calls + b[1].calls;

    atomic_store(&relay.hold, 0);
    wait_shared(&t, 1, 1, 5000);
    uint64_t batches = st.batches;
    sleep_ms(50);
    lim_table_stats(t, &st);
    cr_expect_gt(st.batches, batches, "sync resumed");
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    int64_t max_us = b[0].max_call_us > b[1].max_call_us ? b[0].max_call_us : b[1].max_call_us;
    fprintf(stderr,
            "Redis silent: %ld calls, slowest %lld us (wall clock, preemption included), "
            "voluntary context switches in the workers: %ld and %ld\n",
            b[0].calls + b[1].calls, (long long)max_us, b[0].waits, b[1].waits);
    cr_expect_gt(b[0].calls + b[1].calls, calls_before, "workers carried on");
    /* A call that waited (on a lock, a socket, a futex) gives up its CPU: a voluntary switch.
     * Being preempted on a busy machine is involuntary and does not count. */
    cr_expect_eq(b[0].waits, 0, "the request path blocked %ld times", b[0].waits);
    cr_expect_eq(b[1].waits, 0, "the request path blocked %ld times", b[1].waits);
    /* and none took anywhere near the silent Redis's 20 s */
    cr_expect_lt(max_us, 1000000, "a request-path call took %lld us", (long long)max_us);
    lim_table_free(t);
}

Test(limits_redis, unreachable_redis_is_local_from_the_start, .init = redis_setup,
     .fini = redis_teardown, .timeout = 30)
{
    int port = free_port(); /* nothing listens: connection refused */
    lim_table_t *t = instance(port, "lonely");
    lim_reader_t *r = lim_reader_register(t);
    long admitted = 0;
    for (int i = 0; i < 100; i++)
        admitted += lim_rate_check_add(t, S("api_key:k:rpm"), 60, 1, wall_ms(), NULL);
    cr_expect_eq(admitted, 60);
    sleep_ms(300);
    lim_stats_t st;
    lim_table_stats(t, &st);
    cr_expect(st.redis && !st.shared);
    cr_expect_eq(st.trips, 0, "never up, so never tripped");
    lim_reader_unregister(r);
    lim_table_free(t);
}
