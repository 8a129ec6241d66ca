/* SPDX-License-Identifier: MIT
 * store_svc: the store thread, against SQLite and a real PostgreSQL (pg_harness.c). Batches
 * submitted from two threads, the early flush at batch_max, key lookups answered into a real key
 * cache (key, team and user rows; a missing key), the cache expired by another connection's commit
 * (data_version) or a NOTIFY, budget resets, spend settled only for this process's records, and
 * the outage: records spooled while the database is away and replayed exactly once when it is
 * back. The PostgreSQL outage goes through a small TCP proxy the test starts and kills, so the
 * shared server keeps running for the other tests. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "auth/keys.h"
#include "pg_harness.h"
#include "store/service.h"
#include "store/store.h"

/* ---- fixtures -------------------------------------------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sluice-svc-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
}

TestSuite(store_svc, .init = make_tmpdir, .fini = remove_tmpdir, .timeout = 30);

static const char *tmp_path(const char *name)
{
    static char path[4][160];
    static int slot;
    char *p = path[slot++ % 4];
    snprintf(p, 160, "%s/%s", tmpdir, name);
    return p;
}

static long long mono_ms(void)
{
    return (long long)(uv_hrtime() / 1000000);
}

static void sleep_ms(int ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

/* Polls cond every 10 ms for up to ms; cond is evaluated once per round (it may consume
 * something, as a lookup that returns HIT_REFRESH does). */
#define WAIT_UNTIL(cond, ms)                                                                       \
    do {                                                                                           \
        long long wait_end_ = mono_ms() + (ms);                                                    \
        bool wait_ok_;                                                                             \
        while (!(wait_ok_ = (cond)) && mono_ms() < wait_end_)                                      \
            sleep_ms(10);                                                                          \
        cr_assert(wait_ok_, "timed out waiting for %s", #cond);                                    \
    } while (0)

/* ---- the key cache's answers ---------------------------------------------------------------- */

static pthread_mutex_t answer_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t answer_cv = PTHREAD_COND_INITIALIZER;
static int answers;

static void on_answer(void *arg, const auth_hash_t *hash, uint64_t waiters)
{
    pthread_mutex_lock(&answer_mu);
    answers++;
    pthread_cond_broadcast(&answer_cv);
    pthread_mutex_unlock(&answer_mu);
}

static int answers_now(void)
{
    pthread_mutex_lock(&answer_mu);
    int n = answers;
    pthread_mutex_unlock(&answer_mu);
    return n;
}

/* Waits until on_answer ran more than `seen` times. */
static void wait_answer(int seen)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&answer_mu);
    while (answers <= seen && pthread_cond_timedwait(&answer_cv, &answer_mu, &until) == 0)
        ;
    int n = answers;
    pthread_mutex_unlock(&answer_mu);
    cr_assert_gt(n, seen, "the store did not answer the lookup");
}

static auth_cache_t *new_cache(void)
{
    return auth_cache_new(&(auth_cache_opts_t){.on_answer = on_answer});
}

/* What a worker does: a miss asks the store and parks; woken, it looks again. */
static auth_lookup_t ask(store_svc_t *svc, auth_cache_t *c, auth_reader_t *r, const auth_hash_t *h,
                         const auth_key_t **rec)
{
    auth_lookup_t res = auth_lookup(c, r, h, (uint64_t)mono_ms(), rec);
    if (res != AUTH_LOOKUP_MISS_STARTED && res != AUTH_LOOKUP_HIT_REFRESH)
        return res;
    int seen = answers_now();
    store_svc_lookup_key(svc, h);
    if (res == AUTH_LOOKUP_HIT_REFRESH) {
        /* nobody parks on a refresh: wait for the new entry instead */
        const auth_key_t *old = *rec;
        auth_reader_quiescent(r);
        (void)old;
        WAIT_UNTIL(auth_lookup(c, r, h, (uint64_t)mono_ms(), rec) == AUTH_LOOKUP_HIT, 5000);
        return AUTH_LOOKUP_HIT;
    }
    wait_answer(seen);
    return auth_lookup(c, r, h, (uint64_t)mono_ms(), rec);
}

/* ask() for an end user (store_svc_lookup_end_user): its record under auth_end_user_hash. */
static auth_lookup_t ask_end_user(store_svc_t *svc, auth_cache_t *c, auth_reader_t *r,
                                  const char *id, const auth_key_t **rec)
{
    auth_hash_t h;
    cr_assert_eq(auth_end_user_hash(id, &h), 0);
    auth_lookup_t res = auth_lookup(c, r, &h, (uint64_t)mono_ms(), rec);
    if (res != AUTH_LOOKUP_MISS_STARTED)
        return res;
    int seen = answers_now();
    store_svc_lookup_end_user(svc, &h, id);
    wait_answer(seen);
    return auth_lookup(c, r, &h, (uint64_t)mono_ms(), rec);
}

/* ---- records ------------------------------------------------------------------------------- */

#define KEY "sk-store-svc-test-key"

static char key_hex[65];
static auth_hash_t key_hash;

static void key_init(void)
{
    cr_assert_eq(auth_key_hash(str_cstr(KEY), &key_hash), 0);
    auth_hash_hex(&key_hash, key_hex);
}

static void make_log(store_spend_log_t *l, const char *request_id, double spend)
{
    store_spend_log_init(l);
    l->request_id = request_id;
    l->call_type = "acompletion";
    l->api_key = key_hex;
    l->spend = spend;
    l->prompt_tokens = 10;
    l->completion_tokens = 5;
    l->total_tokens = 15;
    l->start_time = 1764259200000LL; /* 2025-11-27 16:00:00 UTC */
    l->end_time = l->start_time + 100;
    l->model = "gpt-4o";
    l->custom_llm_provider = "openai";
    l->user = "u1";
    l->team_id = "t1";
    l->status = "success";
    l->endpoint = "/v1/chat/completions";
}

typedef struct {
    store_svc_t *svc;
    const char *prefix;
    int n;
    double spend;
} submitter_t;

static void *submit_many(void *arg)
{
    submitter_t *s = arg;
    for (int i = 0; i < s->n; i++) {
        char id[64]; /* the service copies the record: stack strings are fine */
        snprintf(id, sizeof id, "%s-%d", s->prefix, i);
        store_spend_log_t l;
        make_log(&l, id, s->spend);
        store_svc_submit(s->svc, &l);
    }
    return NULL;
}

static void submit_from_two_threads(store_svc_t *svc, int per_thread, double spend)
{
    submitter_t a = {svc, "thread-a", per_thread, spend}, b = {svc, "thread-b", per_thread, spend};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, submit_many, &a);
    pthread_create(&tb, NULL, submit_many, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
}

static store_svc_stats_t stats(store_svc_t *svc)
{
    store_svc_stats_t st;
    store_svc_stats(svc, &st);
    return st;
}

/* ---- SQLite helpers -------------------------------------------------------------------------- */

static void lite_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *err = NULL;
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &err), SQLITE_OK, "%s: %s", sql, err);
    sqlite3_close(db);
}

/* The first column of the first row as text ("" for none); static buffer. */
static const char *lite1(const char *path, const char *sql)
{
    static char out[256];
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static double lite_double(const char *path, const char *sql)
{
    return strtod(lite1(path, sql), NULL);
}

/* A database with the test key (spend 0), user u1 and team t1. */
static void lite_seed(const char *path)
{
    char *err = NULL;
    store_sqlite_t *db = store_sqlite_open(path, &err);
    cr_assert_not_null(db, "%s", err);
    store_key_t k;
    store_key_init(&k);
    k.token = key_hex;
    k.user_id = "u1";
    k.team_id = "t1";
    cr_assert_eq(store_sqlite_key_insert(db, &k), 0, "%s", store_sqlite_errmsg(db));
    store_sqlite_close(db);
    lite_exec(path, "INSERT INTO \"LiteLLM_UserTable\" (user_id, spend) VALUES ('u1', 0);"
                    "INSERT INTO \"LiteLLM_TeamTable\" (team_id, spend) VALUES ('t1', 0);");
}

static store_svc_t *start_sqlite(const char *db, const char *spool, auth_cache_t *c, double seconds,
                                 size_t batch_max)
{
    store_svc_opts_t o = {.sqlite_path = db,
                          .spool_path = spool,
                          .batch_seconds = seconds,
                          .batch_max = batch_max,
                          .write_logs = true,
                          .cache = c};
    char *err = NULL;
    store_svc_t *svc = store_svc_start(&o, &err);
    cr_assert_not_null(svc, "%s", err);
    return svc;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* ---- SQLite tests ---------------------------------------------------------------------------- */

Test(store_svc, sqlite_batches_from_two_threads)
{
    key_init();
    const char *db = tmp_path("two.db"), *spool = tmp_path("two.spool");
    lite_seed(db);
    auth_cache_t *c = new_cache();
    auth_reader_t *r = auth_reader_register(c);
    store_svc_t *svc = start_sqlite(db, spool, c, 10, 64);
    cr_assert_str_eq(stats(svc).backend, "sqlite");

    /* the key is cached and this process spends on it before the records are written */
    const auth_key_t *rec;
    cr_assert_eq(ask(svc, c, r, &key_hash, &rec), AUTH_LOOKUP_HIT);
    auth_counter_t *key = rec->key_counter, *team = rec->team_counter, *user = rec->user_counter;
    auth_spend_add(rec, NULL, 600 * 0.25);
    auth_reader_quiescent(r);
    cr_assert_float_eq(auth_counter_spend(key), 150, 1e-9);

    submit_from_two_threads(svc, 300, 0.25);
    store_svc_stop(svc, 5000);

    cr_assert_str_eq(lite1(db, "SELECT count(*) FROM \"LiteLLM_SpendLogs\""), "600");
    cr_assert_float_eq(lite_double(db, "SELECT spend FROM \"LiteLLM_VerificationToken\""), 150,
                       1e-9);
    cr_assert_float_eq(lite_double(db, "SELECT spend FROM \"LiteLLM_UserTable\""), 150, 1e-9);
    cr_assert_float_eq(lite_double(db, "SELECT spend FROM \"LiteLLM_TeamTable\""), 150, 1e-9);
    cr_assert_str_eq(lite1(db, "SELECT sum(api_requests) FROM \"LiteLLM_DailyUserSpend\""), "600");
    cr_assert_eq(file_size(spool), 0, "nothing was spooled");
    /* settled: what was written moved from the counters' delta to their base, nothing lost */
    cr_assert_float_eq(auth_counter_spend(key), 150, 1e-9);
    cr_assert_float_eq(auth_counter_spend(team), 150, 1e-9);
    cr_assert_float_eq(auth_counter_spend(user), 150, 1e-9);
    auth_reader_unregister(r);
    auth_cache_free(c);
}

/* The database slower than the traffic: past queue_max, records go through the spool (in order)
 * and are written as the database catches up; memory stays bounded and every record is written
 * exactly once. */
Test(store_svc, sqlite_queue_over_max_goes_through_the_spool)
{
    key_init();
    const char *db = tmp_path("overflow.db"), *spool = tmp_path("overflow.spool");
    lite_seed(db);
    auth_cache_t *c = new_cache();
    store_svc_opts_t o = {.sqlite_path = db,
                          .spool_path = spool,
                          .batch_seconds = 0.05,
                          .batch_max = 50,
                          .write_logs = true,
                          .cache = c,
                          .queue_max = 100};
    char *err = NULL;
    store_svc_t *svc = store_svc_start(&o, &err);
    cr_assert_not_null(svc, "%s", err);
    submit_from_two_threads(svc, 4000, 0.25);
    /* everything written, the spool drained (replay is not done while stopping) */
    for (int i = 0; i < 2000; i++) {
        store_svc_stats_t st = stats(svc);
        if (st.written >= 8000 && st.spooled == 0 && st.queued == 0)
            break;
        usleep(10000);
    }
    store_svc_stats_t st = stats(svc);
    cr_expect_eq(st.written, 8000, "written %llu", (unsigned long long)st.written);
    cr_expect_gt(st.overflowed, 0, "some records went through the spool");
    fprintf(stderr, "queue over max: %llu of 8000 records went through the spool\n",
            (unsigned long long)st.overflowed);
    store_svc_stop(svc, 5000);
    cr_assert_str_eq(lite1(db, "SELECT count(*) FROM \"LiteLLM_SpendLogs\""), "8000");
    cr_assert_str_eq(lite1(db, "SELECT count(DISTINCT request_id) FROM \"LiteLLM_SpendLogs\""),
                     "8000");
    cr_assert_float_eq(lite_double(db, "SELECT spend FROM \"LiteLLM_VerificationToken\""), 2000,
                       1e-6);
    cr_assert_eq(file_size(spool), 0, "the spool was drained and truncated");
    auth_cache_free(c);
}

Test(store_svc, sqlite_model_spend_written_and_settled)
{
    key_init();
    const char *db = tmp_path("model.db"), *spool = tmp_path("model.spool");
    lite_seed(db);
    lite_exec(db, "UPDATE \"LiteLLM_VerificationToken\" SET model_max_budget = '{\"gpt-4o\": "
                  "{\"budget_limit\": 100, \"time_period\": \"30d\"}}'");
    auth_cache_t *c = new_cache();
    auth_reader_t *r = auth_reader_register(c);
    store_svc_t *svc = start_sqlite(db, spool, c, 0.1, 100);
    const auth_key_t *rec;
    cr_assert_eq(ask(svc, c, r, &key_hash, &rec), AUTH_LOOKUP_HIT);
    cr_assert_eq(rec->n_model_budgets, 1);
    auth_counter_t *model = rec->model_counters[0];
    auth_spend_add(rec, "gpt-4o", 3 * 0.5); /* what the three calls below cost */
    auth_reader_quiescent(r);

    for (int i = 0; i < 4; i++) {
        char id[32];
        snprintf(id, sizeof id, "model-%d", i);
        store_spend_log_t l;
        make_log(&l, id, i < 3 ? 0.5 : 2);
        l.model_group = i < 3 ? "gpt-4o" : "gpt-4o-mini"; /* the last has no budget, no counter */
        store_svc_submit(svc, &l);
    }
    WAIT_UNTIL(stats(svc).written == 4, 3000);
    cr_assert_float_eq(lite_double(db, "SELECT json_extract(model_spend, '$.\"gpt-4o\"') FROM "
                                       "\"LiteLLM_VerificationToken\""),
                       1.5, 1e-12);
    cr_assert_float_eq(lite_double(db, "SELECT json_extract(model_spend, '$.\"gpt-4o-mini\"') "
                                       "FROM \"LiteLLM_VerificationToken\""),
                       2, 1e-12);
    cr_assert_float_eq(auth_counter_spend(model), 1.5, 1e-12, "settled: the total stays");
    /* the row read again holds the 1.5 as the base: the delta was taken off, not counted twice */
    auth_cache_invalidate(c, &key_hash);
    cr_assert_eq(ask(svc, c, r, &key_hash, &rec), AUTH_LOOKUP_HIT);
    cr_assert_float_eq(rec->model_budgets[0].spend, 1.5, 1e-12);
    cr_assert_eq(rec->model_counters[0], model);
    cr_assert_float_eq(auth_counter_spend(model), 1.5, 1e-12);
    auth_reader_quiescent(r);
    store_svc_stop(svc, 5000);
    auth_reader_unregister(r);
    auth_cache_free(c);
}

/* A team member's budget (max_budget_in_team): the membership's spend and its budget row's
 * max_budget are read with the key, the member's counter is refused at the budget as LiteLLM's
 * _check_team_member_budget, and a batch's increment of the membership row is settled. */
Test(store_svc, sqlite_team_member_budget_read_checked_and_settled)
{
    key_init();
    const char *db = tmp_path("member.db"), *spool = tmp_path("member.spool");
    lite_seed(db);
    lite_exec(db, "INSERT INTO \"LiteLLM_BudgetTable\" (budget_id, max_budget, created_by, "
                  "updated_by) VALUES ('mb', 1, 'x', 'x');"
                  "INSERT INTO \"LiteLLM_TeamMembership\" (user_id, team_id, spend, budget_id) "
                  "VALUES ('u1', 't1', 0.25, 'mb');");
    auth_cache_t *c = new_cache();
    auth_reader_t *r = auth_reader_register(c);
    store_svc_t *svc = start_sqlite(db, spool, c, 0.1, 100);
    const auth_key_t *rec;
    cr_assert_eq(ask(svc, c, r, &key_hash, &rec), AUTH_LOOKUP_HIT);
    cr_assert(rec->has_member_budget);
    cr_assert_float_eq(rec->member_spend, 0.25, 1e-12);
    cr_assert_float_eq(rec->member_max_budget, 1, 1e-12);
    cr_assert_eq(rec->member_limits.rpm, AUTH_NO_LIMIT, "a budget row without limits");
    auth_counter_t *member = rec->member_counter;
    cr_assert_not_null(member);
    cr_assert_float_eq(auth_counter_spend(member), 0.25, 1e-12);
    auth_request_t req = {.model = "gpt-4o", .now = time(NULL)};
    auth_error_t err;
    cr_assert_eq(auth_check_key(rec, &req, &err), 0);
    auth_spend_add(rec, "gpt-4o", 0.75); /* what the call below cost: 1.0, at the budget */
    cr_assert_eq(auth_check_key(rec, &req, &err), -1);
    cr_assert_eq(err.status, 429);
    cr_assert_str_eq(err.type, "budget_exceeded");
    cr_assert_str_eq(err.message, "Budget has been exceeded! User=u1 in Team=t1 Current cost: "
                                  "1.0, Max budget: 1.0");
    auth_reader_quiescent(r);

    store_spend_log_t l;
    make_log(&l, "member-1", 0.75);
    store_svc_submit(svc, &l);
    WAIT_UNTIL(stats(svc).written == 1, 3000);
    cr_assert_float_eq(lite_double(db, "SELECT spend FROM \"LiteLLM_TeamMembership\""), 1, 1e-12);
    cr_assert_float_eq(auth_counter_spend(member), 1, 1e-12, "settled: the total stays");
    auth_cache_invalidate(c, &key_hash);
    cr_assert_eq(ask(svc, c, r, &key_hash, &rec), AUTH_LOOKUP_HIT);
    cr_assert_float_eq(rec->member_spend, 1, 1e-12);
    cr_assert_eq(rec->member_counter, member);
    cr_assert_float_eq(auth_counter_spend(member), 1, 1e-12, "not counted twice");
    auth_reader_quiescent(r);

    /* a budget row without a max_budget limits nothing (LiteLLM skips the check) */
    lite_exec(db, "UPDATE \"LiteLLM_BudgetTable\" SET max_budget = NULL, rpm_limit = 7");
    auth_cache_invalidate(c, &key_hash);
    cr_assert_eq(ask(svc, c, r, &key_hash, &rec), AUTH_LOOKUP_HIT);
    cr_assert_not(rec->has_member_budget);
    cr_assert_null(rec->member_counter);
    cr_assert_eq(rec->member_limits.rpm, 7);
    cr_assert_eq(auth_check_key(rec, &req, &err), 0);
    auth_reader_quiescent(r);
    store_svc_stop(svc, 5000);
    auth_reader_unregister(r);
    auth_cache_free(c);
}

Test(store_svc, sqlite_batch_max_flushes_early)
{
    key_init();
    const char *db = tmp_path("early.db"), *spool = tmp_path("early.spool");
    lite_seed(db);
    auth_cache_t *c = new_cache();
    store_svc_t *svc = start_sqlite(db, spool, c, 60, 5);
    long long t0 = mono_ms();
    for (int i = 0; i < 4; i++) {
        char id[32];
        snprintf(id, sizeof id, "early-%d", i);
        store_spend_log_t l;
        make_log(&l, id, 1);
        store_svc_submit(svc, &l);
    }
    sleep_ms(300);
    cr_assert_eq(stats(svc).written, 0, "4 < batch_max: they wait for the timer");
    cr_assert_eq(stats(svc).queued, 4);
    store_spend_log_t l;
    make_log(&l, "early-4", 1);
    store_svc_submit(svc, &l);
    WAIT_UNTIL(stats(svc).written == 5, 3000);
    cr_assert_lt(mono_ms() - t0, 5000, "written long before batch_seconds (60 s)");
    cr_assert_str_eq(lite1(db, "SELECT count(*) FROM \"LiteLLM_SpendLogs\""), "5");
    cr_assert(stats(svc).connected);
    cr_assert_eq(stats(svc).queued, 0);
    store_svc_stop(svc, 5000);
    auth_cache_free(c);
}

Test(store_svc, sqlite_key_lookup_with_team_and_user)
{
    key_init();
    const char *db = tmp_path("lookup.db"), *spool = tmp_path("lookup.spool");
    char *err = NULL;
    store_sqlite_t *s = store_sqlite_open(db, &err);
    cr_assert_not_null(s, "%s", err);
    store_key_t k;
    store_key_init(&k);
    k.token = key_hex;
    k.key_name = "sk-...-key";
    k.key_alias = "svc-key";
    k.user_id = "u1";
    k.team_id = "t1";
    k.organization_id = "o1";
    k.max_budget = 10;
    k.rpm_limit = 60;
    k.expires = 1893553445678LL; /* 2030-01-02 03:04:05.678 */
    k.aliases = "{\"my-gpt\": \"gpt-4o\"}";
    k.metadata =
        "{\"tags\": [\"prod\", \"team-a\"], \"x\": 1, \"model_rpm_limit\": {\"gpt-4o\": 4, "
        "\"claude\": \"6\"}, \"model_tpm_limit\": {\"gpt-4o\": 400, \"other\": 9}}";
    k.model_max_budget = "{\"gpt-4o\": {\"budget_limit\": \"2.5\", \"time_period\": \"30d\"}, "
                         "\"claude\": 7}";
    k.model_spend = "{\"gpt-4o\": 1.25}";
    k.budget_duration = "30d";
    k.budget_reset_at = 1893553445678LL;
    char *models[] = {"gpt-4o", "claude"};
    k.models = (store_strlist_t){models, 2};
    cr_assert_eq(store_sqlite_key_insert(s, &k), 0, "%s", store_sqlite_errmsg(s));
    store_sqlite_close(s);
    lite_exec(db, "INSERT INTO \"LiteLLM_TeamTable\" (team_id, blocked, models, spend, max_budget, "
                  "budget_reset_at, rpm_limit, tpm_limit, max_parallel_requests) VALUES ('t1', 1, "
                  "'[\"gpt-4o\"]', 3.5, 100, '2030-01-02 03:04:05.678', 30, 3000, 2);"
                  "INSERT INTO \"LiteLLM_UserTable\" (user_id, spend, max_budget, rpm_limit, "
                  "max_parallel_requests) VALUES ('u1', 1.5, 20, 20, 5);"
                  "INSERT INTO \"LiteLLM_BudgetTable\" (budget_id, rpm_limit, "
                  "max_parallel_requests, created_by, updated_by) VALUES ('b1', 3, 4, 'x', 'x');"
                  "INSERT INTO \"LiteLLM_TeamMembership\" (user_id, team_id, budget_id) VALUES "
                  "('u1', 't1', 'b1');"
                  "INSERT INTO \"LiteLLM_EndUserTable\" (user_id, budget_id) VALUES ('cust', "
                  "'b1');");

    auth_cache_t *c = new_cache();
    auth_reader_t *r = auth_reader_register(c);
    store_svc_t *svc = start_sqlite(db, spool, c, 10, 100);
    const auth_key_t *rec;
    cr_assert_eq(ask(svc, c, r, &key_hash, &rec), AUTH_LOOKUP_HIT);
    cr_assert_str_eq(rec->key_alias, "svc-key");
    cr_assert_str_eq(rec->key_name, "sk-...-key");
    cr_assert_str_eq(rec->user_id, "u1");
    cr_assert_str_eq(rec->team_id, "t1");
    cr_assert_str_eq(rec->org_id, "o1");
    cr_assert_eq(rec->n_models, 2);
    cr_assert_str_eq(rec->models[1], "claude");
    cr_assert_eq(rec->n_aliases, 1);
    cr_assert_str_eq(rec->aliases[0].from, "my-gpt");
    cr_assert_str_eq(rec->aliases[0].to, "gpt-4o");
    cr_assert_eq(rec->n_tags, 2);
    cr_assert_str_eq(rec->tags[1], "team-a");
    cr_assert_not_null(strstr(rec->metadata_json, "\"x\""));
    cr_assert_not(rec->blocked);
    cr_assert_eq(rec->expires, 1893553445);
    cr_assert_float_eq(rec->max_budget, 10, 1e-12);
    cr_assert_str_eq(rec->budget_duration, "30d");
    cr_assert_eq(rec->budget_reset_at, 1893553445);
    cr_assert_eq(rec->rpm_limit, 60);
    cr_assert_eq(rec->tpm_limit, AUTH_NO_LIMIT);
    cr_assert_eq(rec->max_parallel_requests, AUTH_NO_LIMIT);
    cr_assert(rec->team_blocked);
    cr_assert_eq(rec->n_team_models, 1);
    cr_assert_str_eq(rec->team_models[0], "gpt-4o");
    cr_assert_float_eq(rec->team_spend, 3.5, 1e-12);
    cr_assert_float_eq(rec->team_max_budget, 100, 1e-12);
    cr_assert_eq(rec->team_budget_reset_at, 1893553445);
    cr_assert_float_eq(rec->user_spend, 1.5, 1e-12);
    cr_assert_float_eq(rec->user_max_budget, 20, 1e-12);
    cr_assert_eq(rec->user_budget_reset_at, 0);
    cr_assert_eq(rec->n_model_budgets, 2);
    cr_assert_str_eq(rec->model_budgets[0].model, "gpt-4o");
    cr_assert_float_eq(rec->model_budgets[0].max_budget, 2.5, 1e-12);
    cr_assert_str_eq(rec->model_budgets[0].time_period, "30d");
    cr_assert_float_eq(rec->model_budgets[0].spend, 1.25, 1e-12);
    cr_assert_str_eq(rec->model_budgets[1].model, "claude");
    cr_assert_float_eq(rec->model_budgets[1].max_budget, 7, 1e-12);
    cr_assert_null(rec->model_budgets[1].time_period);
    cr_assert_float_eq(auth_counter_spend(rec->team_counter), 3.5, 1e-12);
    /* rate limits of the team, the user, the user in the team, and per model */
    cr_assert_eq(rec->team_limits.rpm, 30);
    cr_assert_eq(rec->team_limits.tpm, 3000);
    cr_assert_eq(rec->team_limits.max_parallel, 2);
    cr_assert_eq(rec->user_limits.rpm, 20);
    cr_assert_eq(rec->user_limits.tpm, AUTH_NO_LIMIT);
    cr_assert_eq(rec->user_limits.max_parallel, 5);
    cr_assert_eq(rec->member_limits.rpm, 3);
    cr_assert_eq(rec->member_limits.tpm, AUTH_NO_LIMIT);
    cr_assert_eq(rec->member_limits.max_parallel, 4);
    cr_assert_not(rec->has_member_budget, "b1 has limits, no max_budget");
    cr_assert_null(rec->member_counter);
    cr_assert_eq(rec->n_model_limits, 3);
    cr_assert_str_eq(rec->model_limits[0].model, "gpt-4o");
    cr_assert_eq(rec->model_limits[0].rpm, 4);
    cr_assert_eq(rec->model_limits[0].tpm, 400);
    cr_assert_str_eq(rec->model_limits[1].model, "claude");
    cr_assert_eq(rec->model_limits[1].rpm, 6, "a number in a string, as pydantic takes it");
    cr_assert_eq(rec->model_limits[1].tpm, AUTH_NO_LIMIT);
    cr_assert_str_eq(rec->model_limits[2].model, "other");
    cr_assert_eq(rec->model_limits[2].rpm, AUTH_NO_LIMIT);
    cr_assert_eq(rec->model_limits[2].tpm, 9);
    auth_reader_quiescent(r);

    /* an unknown key: "no such key" is cached */
    auth_hash_t unknown;
    cr_assert_eq(auth_key_hash(STR_LIT("sk-nobody"), &unknown), 0);
    cr_assert_eq(ask(svc, c, r, &unknown, &rec), AUTH_LOOKUP_NOT_FOUND);

    /* an end user: its budget row's limits, max_parallel_requests included */
    cr_assert_eq(ask_end_user(svc, c, r, "cust", &rec), AUTH_LOOKUP_HIT);
    cr_expect_eq(rec->rpm_limit, 3);
    cr_expect_eq(rec->tpm_limit, AUTH_NO_LIMIT);
    cr_expect_eq(rec->max_parallel_requests, 4);
    auth_reader_quiescent(r);

    /* two lookups of one hash while the store is busy are one question, one answer */
    auth_hash_t twice;
    cr_assert_eq(auth_key_hash(STR_LIT("sk-twice"), &twice), 0);
    store_svc_lookup_key(svc, &twice);
    store_svc_lookup_key(svc, &twice);
    WAIT_UNTIL(auth_lookup(c, r, &twice, (uint64_t)mono_ms(), &rec) == AUTH_LOOKUP_NOT_FOUND, 3000);
    store_svc_stop(svc, 5000);
    auth_reader_unregister(r);
    auth_cache_free(c);
}

/* LiteLLM's BudgetConfig in model_max_budget: max_budget / budget_duration as well as
 * budget_limit / time_period, and rpm_limit / tpm_limit as the key's per-model limits when the
 * key's metadata has no model_rpm_limit / model_tpm_limit map (get_key_model_rpm_limit). */
Test(store_svc, sqlite_model_max_budget_limits)
{
    key_init();
    const char *db = tmp_path("mmb.db"), *spool = tmp_path("mmb.spool");
    char *err = NULL;
    store_sqlite_t *s = store_sqlite_open(db, &err);
    cr_assert_not_null(s, "%s", err);
    store_key_t k;
    store_key_init(&k);
    k.token = key_hex;
    k.key_name = "sk-...-key";
    k.metadata = "{\"model_tpm_limit\": {\"gpt-4o\": 400}}";
    k.model_max_budget =
        "{\"gpt-4o\": {\"max_budget\": 1.5, \"budget_duration\": \"1d\", \"rpm_limit\": 2, "
        "\"tpm_limit\": 50}, \"claude\": {\"budget_limit\": 3, \"rpm_limit\": \"5\"}, "
        "\"mini\": {\"tpm_limit\": 7}}";
    cr_assert_eq(store_sqlite_key_insert(s, &k), 0, "%s", store_sqlite_errmsg(s));
    store_sqlite_close(s);

    auth_cache_t *c = new_cache();
    auth_reader_t *r = auth_reader_register(c);
    store_svc_t *svc = start_sqlite(db, spool, c, 10, 100);
    const auth_key_t *rec;
    cr_assert_eq(ask(svc, c, r, &key_hash, &rec), AUTH_LOOKUP_HIT);
    cr_assert_eq(rec->n_model_budgets, 2, "mini has limits and no budget");
    cr_assert_str_eq(rec->model_budgets[0].model, "gpt-4o");
    cr_assert_float_eq(rec->model_budgets[0].max_budget, 1.5, 1e-12);
    cr_assert_str_eq(rec->model_budgets[0].time_period, "1d");
    cr_assert_str_eq(rec->model_budgets[1].model, "claude");
    cr_assert_float_eq(rec->model_budgets[1].max_budget, 3, 1e-12);
    /* rpm from model_max_budget (the metadata has no rpm map); tpm from the metadata's map,
     * which wins whole: claude and mini have no tpm limit */
    cr_assert_eq(rec->n_model_limits, 2);
    cr_assert_str_eq(rec->model_limits[0].model, "gpt-4o");
    cr_assert_eq(rec->model_limits[0].rpm, 2);
    cr_assert_eq(rec->model_limits[0].tpm, 400);
    cr_assert_str_eq(rec->model_limits[1].model, "claude");
    cr_assert_eq(rec->model_limits[1].rpm, 5);
    cr_assert_eq(rec->model_limits[1].tpm, AUTH_NO_LIMIT);
    auth_reader_quiescent(r);
    store_svc_stop(svc, 5000);
    auth_reader_unregister(r);
    auth_cache_free(c);
}

Test(store_svc, sqlite_other_connection_expires_cache)
{
    key_init();
    const char *db = tmp_path("dv.db"), *spool = tmp_path("dv.spool");
    lite_seed(db);
    auth_cache_t *c = new_cache();
    auth_reader_t *r = auth_reader_register(c);
    store_svc_t *svc = start_sqlite(db, spool, c, 10, 100);
    const auth_key_t *rec;
    cr_assert_eq(ask(svc, c, r, &key_hash, &rec), AUTH_LOOKUP_HIT);
    cr_assert_not(rec->blocked);
    auth_reader_quiescent(r);
    sleep_ms(600); /* a few data_version polls: nothing changed, nothing expires */
    cr_assert_eq(auth_lookup(c, r, &key_hash, (uint64_t)mono_ms(), &rec), AUTH_LOOKUP_HIT);
    auth_reader_quiescent(r);

    /* the control plane (another connection) blocks the key */
    lite_exec(db, "UPDATE \"LiteLLM_VerificationToken\" SET blocked = 1");
    WAIT_UNTIL(auth_lookup(c, r, &key_hash, (uint64_t)mono_ms(), &rec) == AUTH_LOOKUP_HIT_REFRESH,
               2000);
    cr_assert_not(rec->blocked, "the stale record serves until the refresh arrives");
    auth_reader_quiescent(r);
    store_svc_lookup_key(svc, &key_hash); /* what the worker that got HIT_REFRESH does */
    WAIT_UNTIL(auth_lookup(c, r, &key_hash, (uint64_t)mono_ms(), &rec) == AUTH_LOOKUP_HIT &&
                   rec->blocked,
               3000);
    auth_reader_quiescent(r);
    store_svc_stop(svc, 5000);
    auth_reader_unregister(r);
    auth_cache_free(c);
}

Test(store_svc, sqlite_budget_reset)
{
    key_init();
    const char *db = tmp_path("reset.db"), *spool = tmp_path("reset.spool");
    lite_seed(db);
    lite_exec(db, "UPDATE \"LiteLLM_VerificationToken\" SET spend = 5, budget_duration = '1d', "
                  "budget_reset_at = '2020-01-01 00:00:00.000';"
                  "UPDATE \"LiteLLM_UserTable\" SET spend = 6, budget_duration = '1h', "
                  "budget_reset_at = '2020-01-01 00:00:00.000';"
                  "UPDATE \"LiteLLM_TeamTable\" SET spend = 7, budget_duration = '2030d', "
                  "budget_reset_at = '2999-01-01 00:00:00.000';"
                  "INSERT INTO \"LiteLLM_TeamTable\" (team_id, spend, budget_duration, "
                  "budget_reset_at) VALUES ('t-bad', 8, 'soon', '2020-01-01 00:00:00.000');");
    auth_cache_t *c = new_cache();
    store_svc_t *svc = start_sqlite(db, spool, c, 10, 100);
    /* the reset runs once at start */
    WAIT_UNTIL(lite_double(db, "SELECT spend FROM \"LiteLLM_UserTable\"") == 0, 3000);
    cr_assert_float_eq(lite_double(db, "SELECT spend FROM \"LiteLLM_VerificationToken\""), 0,
                       1e-12);
    /* 1d: the next midnight (UTC) after now */
    long long now = time(NULL);
    char want[32];
    time_t midnight = (time_t)((now / 86400 + 1) * 86400);
    struct tm tm;
    gmtime_r(&midnight, &tm);
    strftime(want, sizeof want, "%Y-%m-%d 00:00:00.000", &tm);
    cr_assert_str_eq(lite1(db, "SELECT budget_reset_at FROM \"LiteLLM_VerificationToken\""), want);
    /* not due yet, or a duration that is not one: left alone */
    cr_assert_float_eq(
        lite_double(db, "SELECT spend FROM \"LiteLLM_TeamTable\" WHERE team_id = 't1'"), 7, 1e-12);
    cr_assert_float_eq(
        lite_double(db, "SELECT spend FROM \"LiteLLM_TeamTable\" WHERE team_id = 't-bad'"), 8,
        1e-12);
    store_svc_stop(svc, 5000);
    auth_cache_free(c);
}

Test(store_svc, sqlite_outage_spools_then_replays_and_settles_only_ours)
{
    key_init();
    /* the database directory appears only later: opening fails until then */
    const char *staging = tmp_path("staging");
    char staged_db[256], later[160], db[256];
    snprintf(staged_db, sizeof staged_db, "%s/spend.db", staging);
    snprintf(later, sizeof later, "%s", tmp_path("later"));
    snprintf(db, sizeof db, "%s/spend.db", later);
    cr_assert_eq(mkdir(staging, 0700), 0);
    lite_seed(staged_db);
    const char *spool = tmp_path("outage.spool");

    /* a spool left by an earlier process: replayed, but not this process's spend to settle */
    store_spool_t *sp = store_spool_open(spool);
    cr_assert_not_null(sp);
    store_spend_log_t old;
    make_log(&old, "earlier-process-1", 5);
    cr_assert_eq(store_spool_append(sp, &old, 1), 0);
    store_spool_close(sp);
    long long old_size = file_size(spool);

    auth_cache_t *c = new_cache();
    auth_reader_t *r = auth_reader_register(c);
    /* the key as cached before the outage (spend 0), and what this process spent since */
    auth_key_t k;
    memset(&k, 0, sizeof k);
    k.hash = key_hash;
    k.user_id = "u1";
    k.team_id = "t1";
    k.max_budget = k.team_max_budget = k.user_max_budget = -1;
    cr_assert_eq(auth_cache_put(c, &k, (uint64_t)mono_ms()), 0);
    const auth_key_t *rec;
    cr_assert_eq(auth_lookup(c, r, &key_hash, (uint64_t)mono_ms(), &rec), AUTH_LOOKUP_HIT);
    auth_counter_t *key = rec->key_counter;
    auth_spend_add(rec, NULL, 3);
    auth_reader_quiescent(r);

    store_svc_t *svc = start_sqlite(db, spool, c, 0.1, 100);
    for (int i = 0; i < 3; i++) {
        char id[32];
        snprintf(id, sizeof id, "ours-%d", i);
        store_spend_log_t l;
        make_log(&l, id, 1);
        store_svc_submit(svc, &l);
    }
    WAIT_UNTIL(stats(svc).spooled > (unsigned long long)old_size, 3000);
    cr_assert_gt(file_size(spool), old_size);
    cr_assert_not(stats(svc).connected);
    cr_assert_eq(stats(svc).written, 0);

    cr_assert_eq(rename(staging, later), 0); /* the database is back */
    WAIT_UNTIL(stats(svc).written == 4 && stats(svc).spooled == 0, 5000);
    cr_assert(stats(svc).connected);
    cr_assert_eq(file_size(spool), 0, "truncated once replayed");
    cr_assert_float_eq(lite_double(db, "SELECT spend FROM \"LiteLLM_VerificationToken\""), 8,
                       1e-12);
    /* ours moved from delta to base (3); the earlier process's 5 was never in our delta */
    cr_assert_float_eq(auth_counter_spend(key), 3, 1e-12);
    /* reading the row again gives the database's 8, plus a delta of exactly 0 */
    auth_cache_invalidate(c, &key_hash);
    cr_assert_eq(ask(svc, c, r, &key_hash, &rec), AUTH_LOOKUP_HIT);
    cr_assert_float_eq(auth_counter_spend(rec->key_counter), 8, 1e-12);
    auth_reader_quiescent(r);

    /* more after the replay go straight to the database; stop writes them */
    store_spend_log_t l;
    make_log(&l, "ours-after", 1);
    store_svc_submit(svc, &l);
    store_svc_stop(svc, 5000);
    cr_assert_str_eq(lite1(db, "SELECT count(*) FROM \"LiteLLM_SpendLogs\""), "5");
    cr_assert_str_eq(lite1(db, "SELECT count(DISTINCT request_id) FROM \"LiteLLM_SpendLogs\""),
                     "5");
    cr_assert_float_eq(lite_double(db, "SELECT spend FROM \"LiteLLM_VerificationToken\""), 9,
                       1e-12);
    auth_reader_unregister(r);
    auth_cache_free(c);
}

Test(store_svc, stop_spools_what_the_database_cannot_take)
{
    key_init();
    const char *spool = tmp_path("stop.spool");
    auth_cache_t *c = new_cache();
    /* a database that cannot be opened at all */
    store_svc_t *svc = start_sqlite(tmp_path("missing-dir/x.db"), spool, c, 60, 1000);
    submit_from_two_threads(svc, 50, 0.5);
    store_svc_stop(svc, 200);
    store_spool_t *sp = store_spool_open(spool);
    cr_assert_not_null(sp);
    store_spool_batch_t b;
    cr_assert_eq(store_spool_peek(sp, 1000, &b), 0);
    cr_assert_eq(b.n, 100, "every submitted record is in the spool");
    store_spool_batch_free(&b);
    store_spool_close(sp);
    auth_cache_free(c);
}

/* ---- PostgreSQL ------------------------------------------------------------------------------ */

/* A TCP relay from a loopback port to the server, which the test starts and kills (RST) to play
 * an outage without stopping the server the other tests share. */
typedef struct {
    int port, target, lfd, wake[2];
    pthread_t th;
} proxy_t;

static void hard_close(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
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

static bool relay(int from, int to)
{
    char buf[16384];
    ssize_t n = read(from, buf, sizeof buf);
    if (n <= 0)
        return false;
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w <= 0)
            return false;
        off += w;
    }
    return true;
}

static void *proxy_main(void *arg)
{
    proxy_t *p = arg;
    int a[16], b[16], n = 0;
    for (;;) {
        struct pollfd fds[2 + 32] = {{.fd = p->wake[0], .events = POLLIN},
                                     {.fd = p->lfd, .events = POLLIN}};
        for (int i = 0; i < n; i++) {
            fds[2 + 2 * i] = (struct pollfd){.fd = a[i], .events = POLLIN};
            fds[3 + 2 * i] = (struct pollfd){.fd = b[i], .events = POLLIN};
        }
        if (poll(fds, (nfds_t)(2 + 2 * n), -1) < 0 && errno != EINTR)
            break;
        if (fds[0].revents)
            break;
        for (int i = n - 1; i >= 0; i--) {
            bool ok = true;
            if (fds[2 + 2 * i].revents)
                ok = relay(a[i], b[i]);
            if (ok && fds[3 + 2 * i].revents)
                ok = relay(b[i], a[i]);
            if (!ok) {
                hard_close(a[i]);
                hard_close(b[i]);
                a[i] = a[n - 1];
                b[i] = b[n - 1];
                n--;
            }
        }
        if (fds[1].revents & POLLIN) {
            int cfd = accept(p->lfd, NULL, NULL), tfd = connect_port(p->target);
            if (cfd >= 0 && tfd >= 0 && n < 16) {
                a[n] = cfd;
                b[n++] = tfd;
            } else {
                if (cfd >= 0)
                    hard_close(cfd);
                if (tfd >= 0)
                    close(tfd);
            }
        }
    }
    for (int i = 0; i < n; i++) {
        hard_close(a[i]);
        hard_close(b[i]);
    }
    close(p->lfd);
    return NULL;
}

static proxy_t *proxy_start(int port, int target)
{
    proxy_t *p = calloc(1, sizeof *p);
    p->port = port;
    p->target = target;
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(p->lfd, (struct sockaddr *)&a, sizeof a), 0, "%s", strerror(errno));
    cr_assert_eq(listen(p->lfd, 16), 0);
    cr_assert_eq(pipe(p->wake), 0);
    pthread_create(&p->th, NULL, proxy_main, p);
    return p;
}

/* Kills every relayed connection (RST) and stops listening. */
static void proxy_stop(proxy_t *p)
{
    cr_assert_eq(write(p->wake[1], "x", 1), 1);
    pthread_join(p->th, NULL);
    close(p->wake[0]);
    close(p->wake[1]);
    free(p);
}

static store_svc_t *start_pg(const char *conninfo, const char *spool, auth_cache_t *c,
                             double seconds, size_t batch_max)
{
    store_svc_opts_t o = {.pg_conninfo = conninfo,
                          .spool_path = spool,
                          .batch_seconds = seconds,
                          .batch_max = batch_max,
                          .write_logs = true,
                          .cache = c};
    char *err = NULL;
    store_svc_t *svc = store_svc_start(&o, &err);
    cr_assert_not_null(svc, "%s", err);
    cr_assert_str_eq(stats(svc).backend, "postgresql");
    return svc;
}

/* A fresh database with the service's schema (the service creates it) and the test's rows. */
static PGconn *pg_seed(const char *name)
{
    PGconn *c;
    c = pg_harness_fresh_db(name);
    /* the tables come from the service's own ensure_schema: run it once through store_pg */
    char ci[256];
    pg_harness_conninfo(name, ci, sizeof ci);
    store_pg_t *pg = store_pg_new();
    cr_assert_eq(store_pg_connect(pg, ci, NULL, NULL), 0);
    cr_assert_eq(store_pg_wait(pg, 10000), 0, "%s", store_pg_errmsg(pg));
    cr_assert_eq(store_pg_ensure_schema(pg, NULL, NULL), 0);
    cr_assert_eq(store_pg_wait(pg, 10000), 0, "%s", store_pg_errmsg(pg));
    store_pg_free(pg);
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO \"LiteLLM_VerificationToken\" (token, user_id, team_id) VALUES ('%s', "
             "'u1', 't1'); INSERT INTO \"LiteLLM_UserTable\" (user_id) VALUES ('u1'); INSERT INTO "
             "\"LiteLLM_TeamTable\" (team_id) VALUES ('t1')",
             key_hex);
    pg_harness_exec(c, sql);
    return c;
}

static double pg_double(PGconn *c, const char *sql)
{
    return strtod(pg_harness_query1(c, sql), NULL);
}

Test(store_svc, pg_batches_from_two_threads)
{
    key_init();
    PGconn *c = pg_seed("svc_batch");
    char ci[256];
    pg_harness_conninfo("svc_batch", ci, sizeof ci);
    auth_cache_t *cache = new_cache();
    auth_reader_t *r = auth_reader_register(cache);
    store_svc_t *svc = start_pg(ci, tmp_path("pg.spool"), cache, 10, 50);
    const auth_key_t *rec;
    WAIT_UNTIL(stats(svc).connected, 5000);
    cr_assert_eq(ask(svc, cache, r, &key_hash, &rec), AUTH_LOOKUP_HIT);
    auth_counter_t *key = rec->key_counter;
    auth_spend_add(rec, NULL, 400 * 0.5);
    auth_reader_quiescent(r);

    submit_from_two_threads(svc, 200, 0.5);
    /* 400 records at batch_max 50: written without waiting for the 10 s timer */
    WAIT_UNTIL(stats(svc).written == 400, 5000);
    store_svc_stop(svc, 5000);
    cr_assert_str_eq(pg_harness_query1(c, "SELECT count(*) FROM \"LiteLLM_SpendLogs\""), "400");
    cr_assert_float_eq(pg_double(c, "SELECT spend FROM \"LiteLLM_VerificationToken\""), 200, 1e-9);
    cr_assert_float_eq(pg_double(c, "SELECT spend FROM \"LiteLLM_TeamTable\""), 200, 1e-9);
    cr_assert_float_eq(pg_double(c, "SELECT spend FROM \"LiteLLM_UserTable\""), 200, 1e-9);
    cr_assert_float_eq(auth_counter_spend(key), 200, 1e-9);
    auth_reader_unregister(r);
    auth_cache_free(cache);
    PQfinish(c);
}

static void submit_range(store_svc_t *svc, const char *prefix, int from, int to)
{
    for (int i = from; i < to; i++) {
        char id[32];
        snprintf(id, sizeof id, "%s-%d", prefix, i);
        store_spend_log_t l;
        make_log(&l, id, 1);
        store_svc_submit(svc, &l);
    }
}

Test(store_svc, pg_outage_spools_and_replays_exactly_once)
{
    key_init();
    PGconn *c = pg_seed("svc_outage");
    int relay_port = pg_harness_free_port();
    cr_assert_gt(relay_port, 0);
    char ci[256];
    snprintf(ci, sizeof ci, "host=127.0.0.1 port=%d user=postgres dbname=svc_outage", relay_port);
    const char *spool = tmp_path("outage-pg.spool");
    auth_cache_t *cache = new_cache();
    store_svc_t *svc = start_pg(ci, spool, cache, 0.1, 100);

    /* nothing listens: the records go to the spool */
    submit_range(svc, "down", 0, 30);
    WAIT_UNTIL(stats(svc).spooled > 0 && stats(svc).queued == 0, 3000);
    cr_assert_not(stats(svc).connected);
    cr_assert_gt(file_size(spool), 0);
    cr_assert_str_eq(pg_harness_query1(c, "SELECT count(*) FROM \"LiteLLM_SpendLogs\""), "0");

    /* the server is back: the spool is replayed, then truncated */
    proxy_t *p = proxy_start(relay_port, pg_harness_port());
    WAIT_UNTIL(stats(svc).written == 30 && stats(svc).spooled == 0, 8000);
    cr_assert(stats(svc).connected);
    cr_assert_eq(file_size(spool), 0);
    submit_range(svc, "up", 0, 10);
    WAIT_UNTIL(stats(svc).written == 40, 3000);

    /* the connection dies under the service: spooled again, replayed again */
    proxy_stop(p);
    submit_range(svc, "cut", 0, 20);
    WAIT_UNTIL(stats(svc).spooled > 0 && stats(svc).queued == 0, 3000);
    cr_assert_not(stats(svc).connected);
    p = proxy_start(relay_port, pg_harness_port());
    WAIT_UNTIL(stats(svc).written == 60 && stats(svc).spooled == 0, 8000);
    submit_range(svc, "last", 0, 5);
    store_svc_stop(svc, 5000);
    proxy_stop(p);

    cr_assert_str_eq(pg_harness_query1(c, "SELECT count(*) FROM \"LiteLLM_SpendLogs\""), "65");
    cr_assert_str_eq(
        pg_harness_query1(c, "SELECT count(DISTINCT request_id) FROM \"LiteLLM_SpendLogs\""), "65");
    cr_assert_float_eq(pg_double(c, "SELECT spend FROM \"LiteLLM_VerificationToken\""), 65, 1e-9);
    cr_assert_float_eq(pg_double(c, "SELECT spend FROM \"LiteLLM_TeamTable\""), 65, 1e-9);
    cr_assert_str_eq(
        pg_harness_query1(c, "SELECT sum(api_requests) FROM \"LiteLLM_DailyUserSpend\""), "65");
    cr_assert_eq(file_size(spool), 0);
    auth_cache_free(cache);
    PQfinish(c);
}

Test(store_svc, pg_lookup_notify_and_budget_reset)
{
    key_init();
    PGconn *c = pg_seed("svc_notify");
    pg_harness_exec(c, "UPDATE \"LiteLLM_TeamTable\" SET models = ARRAY['gpt-4o'], spend = 2, "
                       "max_budget = 50, budget_duration = '1d', budget_reset_at = '2020-01-01'");
    pg_harness_exec(c,
                    "UPDATE \"LiteLLM_UserTable\" SET spend = 4, max_budget = 40, tpm_limit = 44");
    pg_harness_exec(c,
                    "UPDATE \"LiteLLM_TeamTable\" SET rpm_limit = 11, max_parallel_requests = 6");
    pg_harness_exec(c, "INSERT INTO \"LiteLLM_BudgetTable\" (budget_id, tpm_limit, "
                       "max_parallel_requests, max_budget, created_by, updated_by) VALUES ('b1', "
                       "77, 9, 2.5, 'x', 'x'); INSERT INTO \"LiteLLM_TeamMembership\" (user_id, "
                       "team_id, spend, budget_id) VALUES ('u1', 't1', 0.5, 'b1')");
    pg_harness_exec(c, "UPDATE \"LiteLLM_VerificationToken\" SET key_alias = 'pg-key', "
                       "max_budget = 9, models = ARRAY['a', 'b'], aliases = '{\"x\": \"a\"}'");
    char ci[256];
    pg_harness_conninfo("svc_notify", ci, sizeof ci);
    auth_cache_t *cache = new_cache();
    auth_reader_t *r = auth_reader_register(cache);
    store_svc_t *svc = start_pg(ci, tmp_path("notify.spool"), cache, 10, 100);

    /* the team's window ended: reset at connect */
    WAIT_UNTIL(pg_double(c, "SELECT spend FROM \"LiteLLM_TeamTable\"") == 0, 5000);
    long long now = time(NULL);
    time_t midnight = (time_t)((now / 86400 + 1) * 86400);
    struct tm tm;
    char want[32];
    gmtime_r(&midnight, &tm);
    strftime(want, sizeof want, "%Y-%m-%d 00:00:00", &tm);
    cr_assert_str_eq(
        pg_harness_query1(c, "SELECT budget_reset_at::text FROM \"LiteLLM_TeamTable\""), want);

    const auth_key_t *rec;
    cr_assert_eq(ask(svc, cache, r, &key_hash, &rec), AUTH_LOOKUP_HIT);
    cr_assert_str_eq(rec->key_alias, "pg-key");
    cr_assert_eq(rec->n_models, 2);
    cr_assert_eq(rec->n_aliases, 1);
    cr_assert_float_eq(rec->max_budget, 9, 1e-12);
    cr_assert_eq(rec->n_team_models, 1);
    cr_assert_str_eq(rec->team_models[0], "gpt-4o");
    cr_assert_float_eq(rec->team_spend, 0, 1e-12);
    cr_assert_float_eq(rec->team_max_budget, 50, 1e-12);
    cr_assert_gt(rec->team_budget_reset_at, now);
    cr_assert_float_eq(rec->user_spend, 4, 1e-12);
    cr_assert_float_eq(rec->user_max_budget, 40, 1e-12);
    cr_assert_eq(rec->team_limits.rpm, 11);
    cr_assert_eq(rec->team_limits.tpm, AUTH_NO_LIMIT);
    cr_assert_eq(rec->team_limits.max_parallel, 6);
    cr_assert_eq(rec->user_limits.tpm, 44);
    cr_assert_eq(rec->user_limits.max_parallel, AUTH_NO_LIMIT);
    cr_assert_eq(rec->member_limits.rpm, AUTH_NO_LIMIT);
    cr_assert_eq(rec->member_limits.tpm, 77);
    cr_assert_eq(rec->member_limits.max_parallel, 9);
    cr_assert(rec->has_member_budget);
    cr_assert_float_eq(rec->member_spend, 0.5, 1e-12);
    cr_assert_float_eq(rec->member_max_budget, 2.5, 1e-12);
    cr_assert_float_eq(auth_counter_spend(rec->member_counter), 0.5, 1e-12);
    auth_reader_quiescent(r);
    auth_hash_t unknown;
    cr_assert_eq(auth_key_hash(STR_LIT("sk-nobody-pg"), &unknown), 0);
    cr_assert_eq(ask(svc, cache, r, &unknown, &rec), AUTH_LOOKUP_NOT_FOUND);

    /* another instance changed the key: NOTIFY with its hash drops it here */
    char sql[256];
    snprintf(sql, sizeof sql, "NOTIFY sluice_key_events, '%s'", key_hex);
    pg_harness_exec(c, "UPDATE \"LiteLLM_VerificationToken\" SET key_alias = 'renamed'");
    pg_harness_exec(c, sql);
    WAIT_UNTIL(auth_cache_count(cache) == 1, 3000); /* only the negative entry is left */
    cr_assert_eq(ask(svc, cache, r, &key_hash, &rec), AUTH_LOOKUP_HIT);
    cr_assert_str_eq(rec->key_alias, "renamed");
    auth_reader_quiescent(r);

    /* "*": everything is stale, the cached key serves and refreshes */
    pg_harness_exec(c, "UPDATE \"LiteLLM_VerificationToken\" SET key_alias = 'again'");
    pg_harness_exec(c, "NOTIFY sluice_key_events, '*'");
    WAIT_UNTIL(auth_lookup(cache, r, &key_hash, (uint64_t)mono_ms(), &rec) ==
                   AUTH_LOOKUP_HIT_REFRESH,
               3000);
    cr_assert_str_eq(rec->key_alias, "renamed");
    auth_reader_quiescent(r);
    store_svc_lookup_key(svc, &key_hash);
    WAIT_UNTIL(auth_lookup(cache, r, &key_hash, (uint64_t)mono_ms(), &rec) == AUTH_LOOKUP_HIT &&
                   strcmp(rec->key_alias, "again") == 0,
               3000);
    auth_reader_quiescent(r);
    store_svc_stop(svc, 5000);
    auth_reader_unregister(r);
    auth_cache_free(cache);
    PQfinish(c);
}

/* An end user's limits from its budget row, or from litellm_settings.max_end_user_budget_id's
 * when it has none: rpm, tpm and max_parallel_requests, read on PostgreSQL. */
Test(store_svc, pg_end_user_limits_and_default_budget)
{
    key_init();
    PGconn *c = pg_seed("svc_end_user");
    pg_harness_exec(c, "INSERT INTO \"LiteLLM_BudgetTable\" (budget_id, rpm_limit, "
                       "max_parallel_requests, created_by, updated_by) VALUES ('own', 5, 2, 'x', "
                       "'x'), ('dflt', NULL, 1, 'x', 'x'); INSERT INTO \"LiteLLM_EndUserTable\" "
                       "(user_id, budget_id) VALUES ('cust-own', 'own'), ('cust-plain', NULL)");
    char ci[256];
    pg_harness_conninfo("svc_end_user", ci, sizeof ci);
    auth_cache_t *cache = new_cache();
    auth_reader_t *r = auth_reader_register(cache);
    store_svc_opts_t o = {.pg_conninfo = ci,
                          .spool_path = tmp_path("eu.spool"),
                          .batch_seconds = 10,
                          .batch_max = 100,
                          .write_logs = true,
                          .cache = cache,
                          .max_end_user_budget_id = "dflt"};
    char *err = NULL;
    store_svc_t *svc = store_svc_start(&o, &err);
    cr_assert_not_null(svc, "%s", err);
    const auth_key_t *rec;
    cr_assert_eq(ask_end_user(svc, cache, r, "cust-own", &rec), AUTH_LOOKUP_HIT);
    cr_expect_str_eq(rec->key_alias, "cust-own");
    cr_expect_eq(rec->rpm_limit, 5);
    cr_expect_eq(rec->tpm_limit, AUTH_NO_LIMIT);
    cr_expect_eq(rec->max_parallel_requests, 2);
    auth_reader_quiescent(r);
    cr_assert_eq(ask_end_user(svc, cache, r, "cust-plain", &rec), AUTH_LOOKUP_HIT);
    cr_expect_eq(rec->rpm_limit, AUTH_NO_LIMIT);
    cr_expect_eq(rec->max_parallel_requests, 1, "the default budget's");
    auth_reader_quiescent(r);
    cr_expect_eq(ask_end_user(svc, cache, r, "cust-nobody", &rec), AUTH_LOOKUP_NOT_FOUND);
    store_svc_stop(svc, 5000);
    auth_reader_unregister(r);
    auth_cache_free(cache);
    PQfinish(c);
}

Test(store_svc, pg_refused_record_is_set_aside)
{
    key_init();
    PGconn *c = pg_seed("svc_poison");
    char ci[256];
    pg_harness_conninfo("svc_poison", ci, sizeof ci);
    const char *spool = tmp_path("poison.spool");
    auth_cache_t *cache = new_cache();
    store_svc_t *svc = start_pg(ci, spool, cache, 0.1, 100);
    WAIT_UNTIL(stats(svc).connected, 5000);
    for (int i = 0; i < 5; i++) {
        char id[32];
        snprintf(id, sizeof id, "poison-%d", i);
        store_spend_log_t l;
        make_log(&l, id, 1);
        if (i == 2)
            l.metadata = "not json"; /* the jsonb column refuses it: a data error, for good */
        store_svc_submit(svc, &l);
    }
    /* the batch fails, goes to the spool, and the replay isolates the bad record */
    WAIT_UNTIL(stats(svc).written == 4 && stats(svc).spooled == 0, 5000);
    cr_assert(stats(svc).connected);
    store_svc_stop(svc, 5000);
    cr_assert_str_eq(pg_harness_query1(c, "SELECT count(*) FROM \"LiteLLM_SpendLogs\""), "4");
    cr_assert_float_eq(pg_double(c, "SELECT spend FROM \"LiteLLM_VerificationToken\""), 4, 1e-9);
    char rejected[256];
    snprintf(rejected, sizeof rejected, "%s.rejected", spool);
    store_spool_t *sp = store_spool_open(rejected);
    cr_assert_not_null(sp);
    store_spool_batch_t b;
    cr_assert_eq(store_spool_peek(sp, 10, &b), 0);
    cr_assert_eq(b.n, 1);
    cr_assert_str_eq(b.logs[0].request_id, "poison-2");
    cr_assert_str_eq(b.logs[0].metadata, "not json");
    store_spool_batch_free(&b);
    store_spool_close(sp);
    auth_cache_free(cache);
    PQfinish(c);
}
