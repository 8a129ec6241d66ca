/* SPDX-License-Identifier: MIT
 * keys: virtual-key generation and hashing, the key cache (hit, miss, negative, TTL, pending,
 * invalidate, expire-all, readers racing a writer), spend counters, and LiteLLM's key checks and
 * messages. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/keys.h"

static auth_hash_t hash_of(const char *key)
{
    auth_hash_t h;
    cr_assert_eq(auth_key_hash(str_cstr(key), &h), 0);
    return h;
}

/* ---- generation and hashing ---- */

Test(keys, generate_format)
{
    char prev[AUTH_KEY_LEN + 1] = "";
    for (int i = 0; i < 200; i++) {
        char k[AUTH_KEY_LEN + 1];
        cr_assert_eq(auth_key_generate(k), 0);
        cr_assert_eq(strlen(k), 25);
        cr_assert(strncmp(k, "sk-", 3) == 0);
        for (size_t j = 3; j < 25; j++)
            cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                             k[j]) != NULL,
                      "%s", k);
        /* 16 bytes: the last char carries 2 bits, so it is one of A, Q, g, w */
        cr_assert(strchr("AQgw", k[24]) != NULL, "%s", k);
        cr_assert_str_neq(k, prev);
        memcpy(prev, k, sizeof k);
        cr_assert(auth_key_acceptable(str_cstr(k)));
    }
}

Test(keys, sha256_vectors)
{
    char hex[65];
    auth_hash_t h = hash_of("abc");
    auth_hash_hex(&h, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    h = hash_of("");
    auth_hash_hex(&h, hex);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* LiteLLM's own example (reference §4.1): token = sha256 of the full key, prefix included */
    h = hash_of("sk-iq3LAOD-XDxZj-gSvOY1RA");
    auth_hash_hex(&h, hex);
    cr_assert(strncmp(hex, "d5fb789e", 8) == 0, "%s", hex);
    cr_assert_str_eq(hex + 58, "cdefc5");
    auth_hash_t back;
    cr_assert_eq(auth_hash_from_hex(str_cstr(hex), &back), 0);
    cr_assert(memcmp(back.b, h.b, 32) == 0);
    cr_assert_eq(auth_hash_from_hex(STR_LIT("xyz"), &back), -1);
}

Test(keys, key_name_and_raw_hash)
{
    char name[AUTH_KEY_NAME_MAX];
    auth_key_name(STR_LIT("sk-iq3LAOD-XDxZj-gSvOY1RA"), name);
    cr_assert_str_eq(name, "sk-...Y1RA");
    auth_key_name(STR_LIT("sk-"), name);
    cr_assert_str_eq(name, "sk-...sk-");
    str_t raw = STR_LIT("d5fb789e00000000000000000000000000000000000000000000000000cdefc5");
    cr_assert(auth_key_is_raw_hash(raw));
    cr_assert_not(auth_key_acceptable(raw));
    cr_assert_not(auth_key_acceptable(STR_LIT("abc")));
    cr_assert_not(auth_key_acceptable(STR_LIT("sk-")));
    cr_assert(auth_key_acceptable(STR_LIT("sk-1234")));
}

/* ---- the cache ---- */

typedef struct {
    int calls;
    uint64_t waiters;
    auth_hash_t hash;
} wake_log_t;

static void on_answer(void *arg, const auth_hash_t *hash, uint64_t waiters)
{
    wake_log_t *w = arg;
    w->calls++;
    w->waiters |= waiters;
    w->hash = *hash;
}

static auth_key_t sample_record(const char *key)
{
    static const char *models[] = {"gpt-4o", "anthropic/*"};
    auth_key_t k;
    memset(&k, 0, sizeof k);
    k.hash = hash_of(key);
    k.key_name = "sk-...1234";
    k.key_alias = "my-key";
    k.team_id = "team-1";
    k.user_id = "user-1";
    k.models = models;
    k.n_models = 2;
    k.spend = 1.5;
    k.max_budget = 10;
    k.team_spend = 3;
    k.team_max_budget = 100;
    k.user_max_budget = -1;
    k.rpm_limit = 60;
    k.tpm_limit = AUTH_NO_LIMIT;
    k.max_parallel_requests = AUTH_NO_LIMIT;
    return k;
}

Test(keys, miss_pending_put_hit)
{
    wake_log_t log = {0};
    auth_cache_opts_t o = {.on_answer = on_answer, .on_answer_arg = &log};
    auth_cache_t *c = auth_cache_new(&o);
    auth_reader_t *r1 = auth_reader_register(c), *r2 = auth_reader_register(c);
    cr_assert(r1 && r2);
    auth_hash_t h = hash_of("sk-1234");
    const auth_key_t *rec;
    cr_assert_eq(auth_lookup(c, r1, &h, 1000, &rec), AUTH_LOOKUP_MISS_STARTED);
    cr_assert_null(rec);
    cr_assert_eq(auth_lookup(c, r2, &h, 1001, &rec), AUTH_LOOKUP_PENDING);
    cr_assert_eq(auth_lookup(c, r1, &h, 1002, &rec), AUTH_LOOKUP_PENDING);
    cr_assert_eq(log.calls, 0);

    auth_key_t k = sample_record("sk-1234");
    char alias[] = "my-key";
    k.key_alias = alias;
    cr_assert_eq(auth_cache_put(c, &k, 1003), 0);
    alias[0] = 'X'; /* the cache holds its own copy */
    cr_assert_eq(log.calls, 1);
    cr_assert_eq(log.waiters, (1u << auth_reader_id(r1)) | (1u << auth_reader_id(r2)));
    cr_assert(memcmp(log.hash.b, h.b, 32) == 0);

    cr_assert_eq(auth_lookup(c, r2, &h, 1004, &rec), AUTH_LOOKUP_HIT);
    cr_assert_str_eq(rec->key_alias, "my-key");
    cr_assert_str_eq(rec->models[1], "anthropic/*");
    cr_assert_eq(rec->n_models, 2);
    cr_assert_eq(rec->rpm_limit, 60);
    cr_assert_float_eq(auth_counter_spend(rec->key_counter), 1.5, 1e-12);
    cr_assert_eq(auth_cache_count(c), 1);
    auth_reader_quiescent(r1);
    auth_reader_quiescent(r2);
    auth_reader_unregister(r1);
    auth_reader_unregister(r2);
    auth_cache_free(c);
}

Test(keys, negative_entry_and_ttl)
{
    auth_cache_t *c = auth_cache_new(&(auth_cache_opts_t){.ttl_ms = 60000});
    auth_reader_t *r = auth_reader_register(c);
    auth_hash_t h = hash_of("sk-nope");
    const auth_key_t *rec;
    cr_assert_eq(auth_lookup(c, r, &h, 0, &rec), AUTH_LOOKUP_MISS_STARTED);
    cr_assert_eq(auth_cache_put_missing(c, &h, 10), 0);
    cr_assert_eq(auth_lookup(c, r, &h, 20, &rec), AUTH_LOOKUP_NOT_FOUND);
    cr_assert_eq(auth_lookup(c, r, &h, 60009, &rec), AUTH_LOOKUP_NOT_FOUND);
    /* the TTL ran out: ask the store again */
    cr_assert_eq(auth_lookup(c, r, &h, 60010, &rec), AUTH_LOOKUP_MISS_STARTED);
    cr_assert_eq(auth_lookup(c, r, &h, 60011, &rec), AUTH_LOOKUP_PENDING);
    auth_reader_unregister(r);
    auth_cache_free(c);
}

Test(keys, stale_positive_refreshes_once)
{
    auth_cache_t *c =
        auth_cache_new(&(auth_cache_opts_t){.ttl_ms = 1000, .pending_timeout_ms = 500});
    auth_reader_t *r = auth_reader_register(c);
    auth_key_t k = sample_record("sk-a");
    cr_assert_eq(auth_cache_put(c, &k, 0), 0);
    const auth_key_t *rec;
    cr_assert_eq(auth_lookup(c, r, &k.hash, 999, &rec), AUTH_LOOKUP_HIT);
    /* stale: the record still serves (the store may be down); one caller refreshes */
    cr_assert_eq(auth_lookup(c, r, &k.hash, 1000, &rec), AUTH_LOOKUP_HIT_REFRESH);
    cr_assert_not_null(rec);
    cr_assert_eq(auth_lookup(c, r, &k.hash, 1001, &rec), AUTH_LOOKUP_HIT);
    cr_assert_eq(auth_lookup(c, r, &k.hash, 1499, &rec), AUTH_LOOKUP_HIT);
    /* no answer within the pending timeout: the next caller asks again */
    cr_assert_eq(auth_lookup(c, r, &k.hash, 1500, &rec), AUTH_LOOKUP_HIT_REFRESH);
    /* the refresh arrives: fresh again */
    k.spend = 2;
    cr_assert_eq(auth_cache_put(c, &k, 1600), 0);
    cr_assert_eq(auth_lookup(c, r, &k.hash, 1700, &rec), AUTH_LOOKUP_HIT);
    cr_assert_float_eq(auth_counter_spend(rec->key_counter), 2, 1e-12);
    auth_reader_unregister(r);
    auth_cache_free(c);
}

Test(keys, pending_times_out)
{
    wake_log_t log = {0};
    auth_cache_t *c = auth_cache_new(&(auth_cache_opts_t){
        .pending_timeout_ms = 100, .on_answer = on_answer, .on_answer_arg = &log});
    auth_reader_t *r1 = auth_reader_register(c), *r2 = auth_reader_register(c);
    auth_hash_t h = hash_of("sk-slow");
    const auth_key_t *rec;
    cr_assert_eq(auth_lookup(c, r1, &h, 0, &rec), AUTH_LOOKUP_MISS_STARTED);
    cr_assert_eq(auth_lookup(c, r2, &h, 50, &rec), AUTH_LOOKUP_PENDING);
    cr_assert_eq(auth_lookup(c, r2, &h, 100, &rec), AUTH_LOOKUP_MISS_STARTED);
    cr_assert_eq(auth_lookup(c, r1, &h, 101, &rec), AUTH_LOOKUP_PENDING);
    cr_assert_eq(auth_cache_put_missing(c, &h, 120), 0);
    /* readers parked on the timed-out miss are carried over and woken too */
    cr_assert_eq(log.calls, 1);
    cr_assert_eq(log.waiters, 3);
    auth_reader_unregister(r1);
    auth_reader_unregister(r2);
    auth_cache_free(c);
}

Test(keys, invalidate)
{
    wake_log_t log = {0};
    auth_cache_t *c =
        auth_cache_new(&(auth_cache_opts_t){.on_answer = on_answer, .on_answer_arg = &log});
    auth_reader_t *r = auth_reader_register(c);
    auth_key_t k = sample_record("sk-inv");
    auth_key_t other = sample_record("sk-other");
    cr_assert_eq(auth_cache_put(c, &k, 0), 0);
    cr_assert_eq(auth_cache_put(c, &other, 0), 0);
    const auth_key_t *rec;
    cr_assert_eq(auth_lookup(c, r, &k.hash, 1, &rec), AUTH_LOOKUP_HIT);
    auth_cache_invalidate(c, &k.hash);
    auth_reader_quiescent(r);
    cr_assert_eq(auth_lookup(c, r, &k.hash, 2, &rec), AUTH_LOOKUP_MISS_STARTED);
    cr_assert_eq(auth_lookup(c, r, &other.hash, 2, &rec), AUTH_LOOKUP_HIT);
    /* invalidating a pending miss wakes its parked readers, who then start a new one */
    auth_cache_invalidate(c, &k.hash);
    cr_assert_eq(log.calls, 1);
    cr_assert_eq(log.waiters, 1u << auth_reader_id(r));
    cr_assert_eq(auth_lookup(c, r, &k.hash, 3, &rec), AUTH_LOOKUP_MISS_STARTED);
    auth_cache_invalidate(c, &(auth_hash_t){{0}}); /* unknown: nothing happens */
    cr_assert_eq(auth_cache_count(c), 2);
    auth_reader_unregister(r);
    auth_cache_free(c);
}

Test(keys, expire_all_refreshes_positive_and_reasks_negative)
{
    wake_log_t log = {0};
    auth_cache_t *c = auth_cache_new(&(auth_cache_opts_t){
        .ttl_ms = 60000, .pending_timeout_ms = 500, .on_answer = on_answer, .on_answer_arg = &log});
    auth_reader_t *r = auth_reader_register(c), *r2 = auth_reader_register(c);
    auth_key_t k = sample_record("sk-exp");
    auth_hash_t missing = hash_of("sk-exp-missing"), pending = hash_of("sk-exp-pending");
    const auth_key_t *rec;
    cr_assert_eq(auth_cache_put(c, &k, 0), 0);
    cr_assert_eq(auth_lookup(c, r, &missing, 0, &rec), AUTH_LOOKUP_MISS_STARTED);
    cr_assert_eq(auth_cache_put_missing(c, &missing, 1), 0);
    cr_assert_eq(auth_lookup(c, r, &pending, 1, &rec), AUTH_LOOKUP_MISS_STARTED);
    cr_assert_eq(auth_lookup(c, r, &k.hash, 2, &rec), AUTH_LOOKUP_HIT);
    cr_assert_eq(auth_lookup(c, r, &missing, 2, &rec), AUTH_LOOKUP_NOT_FOUND);
    size_t count = auth_cache_count(c);

    auth_cache_expire_all(c);
    cr_assert_eq(auth_cache_count(c), count, "nothing is removed");
    /* well within the TTL: the stale record still serves, exactly one caller refreshes */
    cr_assert_eq(auth_lookup(c, r, &k.hash, 3, &rec), AUTH_LOOKUP_HIT_REFRESH);
    cr_assert_not_null(rec);
    cr_assert_str_eq(rec->key_alias, "my-key");
    cr_assert_eq(auth_lookup(c, r2, &k.hash, 4, &rec), AUTH_LOOKUP_HIT);
    cr_assert_eq(auth_lookup(c, r, &k.hash, 499, &rec), AUTH_LOOKUP_HIT);
    /* the refresh was not answered within the pending timeout: the next caller asks again */
    cr_assert_eq(auth_lookup(c, r, &k.hash, 503, &rec), AUTH_LOOKUP_HIT_REFRESH);
    /* "no such key" is asked again, and readers park on the new miss */
    cr_assert_eq(auth_lookup(c, r, &missing, 5, &rec), AUTH_LOOKUP_MISS_STARTED);
    cr_assert_null(rec);
    cr_assert_eq(auth_lookup(c, r2, &missing, 6, &rec), AUTH_LOOKUP_PENDING);
    /* a pending miss is left alone: its answer is still to come */
    cr_assert_eq(auth_lookup(c, r2, &pending, 7, &rec), AUTH_LOOKUP_PENDING);
    auth_reader_quiescent(r);
    auth_reader_quiescent(r2);

    /* answers stored after the expiry are fresh again */
    k.spend = 4;
    cr_assert_eq(auth_cache_put(c, &k, 10), 0);
    cr_assert_eq(auth_lookup(c, r, &k.hash, 11, &rec), AUTH_LOOKUP_HIT);
    cr_assert_float_eq(auth_counter_spend(rec->key_counter), 4, 1e-12);
    log.calls = 0;
    cr_assert_eq(auth_cache_put_missing(c, &missing, 12), 0);
    cr_assert_eq(log.calls, 1, "the readers parked on the re-asked miss are woken");
    cr_assert_eq(auth_lookup(c, r, &missing, 13, &rec), AUTH_LOOKUP_NOT_FOUND);
    cr_assert_eq(auth_cache_put_missing(c, &pending, 14), 0);
    cr_assert_eq(auth_lookup(c, r, &pending, 15, &rec), AUTH_LOOKUP_NOT_FOUND);

    /* a second expiry works the same way */
    auth_cache_expire_all(c);
    cr_assert_eq(auth_lookup(c, r, &k.hash, 16, &rec), AUTH_LOOKUP_HIT_REFRESH);
    cr_assert_eq(auth_lookup(c, r, &pending, 16, &rec), AUTH_LOOKUP_MISS_STARTED);
    auth_reader_unregister(r);
    auth_reader_unregister(r2);
    auth_cache_free(c);
}

/* Readers looking up while another thread expires the cache over and over: every lookup of a
 * cached key returns a record (HIT or HIT_REFRESH), never a miss, and nothing is torn. */
typedef struct {
    auth_cache_t *c;
    auth_hash_t hash;
    atomic_bool stop;
    atomic_int bad, refreshes;
} expire_race_t;

static void *expire_reader(void *arg)
{
    expire_race_t *x = arg;
    auth_reader_t *r = auth_reader_register(x->c);
    while (!atomic_load(&x->stop)) {
        const auth_key_t *rec;
        auth_lookup_t res = auth_lookup(x->c, r, &x->hash, 1000, &rec);
        if ((res != AUTH_LOOKUP_HIT && res != AUTH_LOOKUP_HIT_REFRESH) || !rec ||
            strcmp(rec->key_alias, "my-key") != 0)
            atomic_fetch_add(&x->bad, 1);
        if (res == AUTH_LOOKUP_HIT_REFRESH)
            atomic_fetch_add(&x->refreshes, 1);
        auth_reader_quiescent(r);
    }
    auth_reader_unregister(r);
    return NULL;
}

Test(keys, expire_all_races_readers, .timeout = 20)
{
    /* a TTL that never runs out: only the expiries make the record stale */
    auth_cache_t *c = auth_cache_new(&(auth_cache_opts_t){.ttl_ms = 1000000});
    expire_race_t x = {.c = c};
    auth_key_t k = sample_record("sk-race-expire");
    x.hash = k.hash;
    atomic_init(&x.stop, false);
    atomic_init(&x.bad, 0);
    atomic_init(&x.refreshes, 0);
    cr_assert_eq(auth_cache_put(c, &k, 0), 0);
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, expire_reader, &x);
    /* until the readers saw a good number of expiries (or 5 s) */
    for (int i = 0; atomic_load(&x.refreshes) < 200 && i < 500000; i++) {
        auth_cache_expire_all(c);
        if (i % 10 == 0)
            cr_assert_eq(auth_cache_put(c, &k, 0), 0);
        auth_cache_reclaim(c);
        nanosleep(&(struct timespec){0, 10000}, NULL);
    }
    atomic_store(&x.stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(atomic_load(&x.bad), 0);
    cr_assert_geq(atomic_load(&x.refreshes), 200);
    auth_cache_free(c);
}

Test(keys, many_keys_grow_and_shrink)
{
    auth_cache_t *c = auth_cache_new(NULL);
    auth_reader_t *r = auth_reader_register(c);
    enum { N = 5000 };
    char key[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "sk-%d", i);
        auth_key_t k = sample_record(key);
        if (i % 2)
            cr_assert_eq(auth_cache_put(c, &k, 0), 0);
        else
            cr_assert_eq(auth_cache_put_missing(c, &k.hash, 0), 0);
    }
    cr_assert_eq(auth_cache_count(c), N);
    const auth_key_t *rec;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "sk-%d", i);
        auth_hash_t h = hash_of(key);
        cr_assert_eq(auth_lookup(c, r, &h, 1, &rec),
                     i % 2 ? AUTH_LOOKUP_HIT : AUTH_LOOKUP_NOT_FOUND, "%s", key);
    }
    auth_reader_quiescent(r);
    /* expired negatives are dropped when tables are rebuilt */
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "sk-new-%d", i);
        auth_key_t k = sample_record(key);
        cr_assert_eq(auth_cache_put(c, &k, 120000), 0);
    }
    cr_assert_lt(auth_cache_count(c), 2 * N);
    for (int i = 1; i < N; i += 2) {
        snprintf(key, sizeof key, "sk-%d", i);
        auth_hash_t h = hash_of(key);
        cr_assert_eq(auth_lookup(c, r, &h, 120001, &rec), AUTH_LOOKUP_HIT_REFRESH);
    }
    auth_reader_unregister(r);
    auth_cache_free(c);
}

/* Readers race a writer that republishes records whose fields all derive from one version number:
 * any mix of two versions in what a reader sees is a torn record. */
typedef struct {
    auth_cache_t *c;
    auth_hash_t hash;
    atomic_bool stop;
    atomic_long reads, torn;
} race_t;

static void *race_reader(void *arg)
{
    race_t *t = arg;
    auth_reader_t *r = auth_reader_register(t->c);
    long reads = 0, torn = 0;
    while (!atomic_load(&t->stop)) {
        const auth_key_t *rec;
        for (int i = 0; i < 64; i++) {
            if (auth_lookup(t->c, r, &t->hash, 0, &rec) != AUTH_LOOKUP_HIT)
                continue;
            long v = (long)rec->max_budget;
            char want[32];
            snprintf(want, sizeof want, "alias-%ld", v);
            if (strcmp(rec->key_alias, want) != 0 || rec->rpm_limit != v ||
                rec->n_models != (size_t)(v % 3 + 1) || strcmp(rec->models[0], want) != 0)
                torn++;
            reads++;
        }
        auth_reader_quiescent(r);
        if (reads % 4096 == 0) { /* sometimes go offline as a worker does before poll */
            auth_reader_offline(r);
            auth_reader_online(r);
        }
    }
    auth_reader_unregister(r);
    atomic_fetch_add(&t->reads, reads);
    atomic_fetch_add(&t->torn, torn);
    return NULL;
}

Test(keys, readers_race_writer, .timeout = 20)
{
    race_t t = {.c = auth_cache_new(NULL), .hash = hash_of("sk-race")};
    atomic_init(&t.stop, false);
    atomic_init(&t.reads, 0);
    atomic_init(&t.torn, 0);
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, race_reader, &t);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long v = 0;
    do {
        char alias[32];
        snprintf(alias, sizeof alias, "alias-%ld", v);
        const char *models[3] = {alias, "b", "c"};
        auth_key_t k;
        memset(&k, 0, sizeof k);
        k.hash = t.hash;
        k.key_alias = alias;
        k.max_budget = (double)v;
        k.rpm_limit = v;
        k.models = models;
        k.n_models = (size_t)(v % 3 + 1);
        cr_assert_eq(auth_cache_put(t.c, &k, 0), 0);
        if (v % 97 == 0) /* also swap whole tables under the readers */
            auth_cache_invalidate(t.c, &t.hash);
        v++;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < 300);
    atomic_store(&t.stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    cr_assert_gt(atomic_load(&t.reads), 0);
    cr_assert_eq(atomic_load(&t.torn), 0);
    cr_assert_gt(v, 10);
    auth_cache_free(t.c);
}

Test(keys, spend_counters)
{
    auth_cache_t *c = auth_cache_new(NULL);
    auth_reader_t *r = auth_reader_register(c);
    auth_model_budget_t mb[] = {{"gpt-4o", 5.0, "1d", 0.5}};
    auth_key_t k = sample_record("sk-spend");
    k.model_budgets = mb;
    k.n_model_budgets = 1;
    k.user_spend = 7;
    cr_assert_eq(auth_cache_put(c, &k, 0), 0);
    const auth_key_t *rec;
    cr_assert_eq(auth_lookup(c, r, &k.hash, 1, &rec), AUTH_LOOKUP_HIT);
    auth_counter_t *key = rec->key_counter, *team = rec->team_counter;
    auth_counter_t *model = rec->model_counters[0];
    auth_spend_add(rec, "gpt-4o", 0.25);
    auth_spend_add(rec, "other", 0.25);
    cr_assert_float_eq(auth_counter_spend(key), 2.0, 1e-12);
    cr_assert_float_eq(auth_counter_spend(team), 3.5, 1e-12);
    cr_assert_float_eq(auth_counter_spend(rec->user_counter), 7.5, 1e-12);
    cr_assert_float_eq(auth_counter_spend(rec->model_counters[0]), 0.75, 1e-12);
    /* another key of the same team shares the team counter */
    auth_key_t k2 = sample_record("sk-spend-2");
    k2.team_spend = 3;
    cr_assert_eq(auth_cache_put(c, &k2, 0), 0);
    const auth_key_t *rec2;
    cr_assert_eq(auth_lookup(c, r, &k2.hash, 1, &rec2), AUTH_LOOKUP_HIT);
    cr_assert_eq(rec2->team_counter, team);
    auth_spend_add(rec2, NULL, 1);
    cr_assert_float_eq(auth_counter_spend(team), 4.5, 1e-12);
    /* the store commits 0.5 of the key's spend and settles it: the total stays (moved from
     * delta to base), so nothing is forgotten before the row is read again */
    auth_reader_quiescent(r);
    auth_spend_settle(c, AUTH_SCOPE_KEY, "nope", 1); /* unknown id: ignored */
    char hex[65];
    auth_hash_hex(&k.hash, hex);
    auth_spend_settle(c, AUTH_SCOPE_KEY, hex, 0.5);
    cr_assert_float_eq(auth_counter_spend(key), 2.0, 1e-12);
    auth_spend_settle(c, AUTH_SCOPE_TEAM, "team-1", 1.5);
    cr_assert_float_eq(auth_counter_spend(team), 4.5, 1e-12);
    /* a key's model: id "<hex>:<model>"; a model without a budget has no counter */
    char model_id[80];
    snprintf(model_id, sizeof model_id, "%s:gpt-4o", hex);
    auth_spend_settle(c, AUTH_SCOPE_KEY_MODEL, model_id, 0.25);
    cr_assert_float_eq(auth_counter_spend(model), 0.75, 1e-12);
    snprintf(model_id, sizeof model_id, "%s:other", hex);
    auth_spend_settle(c, AUTH_SCOPE_KEY_MODEL, model_id, 0.25);
    auth_spend_settle(c, AUTH_SCOPE_KEY_MODEL, hex, 0.25); /* no model: matches nothing */
    cr_assert_float_eq(auth_counter_spend(model), 0.75, 1e-12);
    cr_assert_float_eq(auth_counter_spend(key), 2.0, 1e-12);
    /* then reads the rows back: the database's values, nothing counted twice */
    k.spend = 2.0;
    mb[0].spend = 0.75;
    cr_assert_eq(auth_cache_put(c, &k, 2), 0);
    cr_assert_float_eq(auth_counter_spend(key), 2.0, 1e-12);
    cr_assert_float_eq(auth_counter_spend(model), 0.75, 1e-12);
    k2.team_spend = 4.5;
    cr_assert_eq(auth_cache_put(c, &k2, 2), 0);
    cr_assert_float_eq(auth_counter_spend(team), 4.5, 1e-12);
    cr_assert_eq(auth_lookup(c, r, &k.hash, 3, &rec), AUTH_LOOKUP_HIT);
    cr_assert_eq(rec->key_counter, key, "counters survive a new version of the entry");
    auth_reader_unregister(r);
    auth_cache_free(c);
}

/* ---- checks ---- */

static auth_key_t plain_key(void)
{
    auth_key_t k;
    memset(&k, 0, sizeof k);
    k.hash = hash_of("sk-iq3LAOD-XDxZj-gSvOY1RA");
    k.key_name = "sk-...Y1RA";
    k.max_budget = k.team_max_budget = k.user_max_budget = -1;
    k.rpm_limit = k.tpm_limit = k.max_parallel_requests = AUTH_NO_LIMIT;
    return k;
}

static auth_request_t req_for(const char *model)
{
    return (auth_request_t){.model = model, .now = 1767225600 /* 2026-01-01 00:00:00 UTC */};
}

Test(keys, check_ok)
{
    auth_key_t k = plain_key();
    auth_request_t q = req_for("gpt-4o");
    auth_error_t e;
    cr_assert_eq(auth_check_key(&k, &q, &e), 0);
}

Test(keys, check_blocked)
{
    auth_key_t k = plain_key();
    k.blocked = true;
    auth_request_t q = req_for("gpt-4o");
    auth_error_t e;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert_eq(e.status, 401);
    cr_assert_str_eq(e.type, "auth_error");
    cr_assert_str_eq(e.param, "None");
    cr_assert_str_eq(e.message, "Authentication Error, Key is blocked. Update via `/key/unblock` "
                                "if you're an admin.");
    k.blocked = false;
    k.team_id = "t1";
    k.team_blocked = true;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert_eq(e.status, 401);
    cr_assert_str_eq(e.message, "Authentication Error, Team=t1 is blocked. Update via "
                                "`/team/unblock` if you're an admin.");
}

Test(keys, check_expired)
{
    auth_key_t k = plain_key();
    auth_request_t q = req_for(NULL);
    auth_error_t e;
    k.expires = q.now; /* expiring exactly now is not yet expired */
    cr_assert_eq(auth_check_key(&k, &q, &e), 0);
    k.expires = q.now - 3600;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert_eq(e.status, 401);
    cr_assert_str_eq(e.type, "expired_key");
    cr_assert_str_eq(e.message, "Authentication Error - Expired Key. Key Expiry time 2025-12-31 "
                                "23:00:00+00:00 and current time 2026-01-01 00:00:00+00:00");
    /* blocked comes first */
    k.blocked = true;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert_str_eq(e.type, "auth_error");
}

Test(keys, check_model_access_message)
{
    static const char *models[] = {"gpt-4o-mini"};
    auth_key_t k = plain_key();
    k.models = models;
    k.n_models = 1;
    auth_request_t q = req_for("gpt-4o");
    auth_error_t e;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert_eq(e.status, 403);
    cr_assert_str_eq(e.type, "key_model_access_denied");
    cr_assert_str_eq(e.param, "model");
    cr_assert_str_eq(e.message, "key not allowed to access model. This key can only access "
                                "models=['gpt-4o-mini']. Tried to access gpt-4o");
    static const char *two[] = {"a", "it's"};
    k.models = two;
    k.n_models = 2;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert_str_eq(e.message, "key not allowed to access model. This key can only access "
                                "models=['a', \"it's\"]. Tried to access gpt-4o");
    /* the team's list applies after the key's */
    static const char *team[] = {"claude-3"};
    k.models = NULL;
    k.n_models = 0;
    k.team_id = "t1";
    k.team_models = team;
    k.n_team_models = 1;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert_str_eq(e.type, "team_model_access_denied");
    cr_assert_str_eq(e.message, "team not allowed to access model. This team can only access "
                                "models=['claude-3']. Tried to access gpt-4o");
}

Test(keys, allowlist_semantics)
{
    static const char *beta[] = {"gpt-5", "o9"};
    static const char *wild[] = {"mistral/*"};
    auth_access_group_t groups[] = {{"beta-models", beta, 2}, {"mistral", wild, 1}};
    static const char *empty_list[] = {NULL};
    cr_assert(auth_models_allow(empty_list, 0, "anything", NULL, 0, NULL, 0));

    static const char *star[] = {"*"};
    cr_assert(auth_models_allow(star, 1, "any/model", NULL, 0, NULL, 0));
    static const char *all[] = {"all-proxy-models"};
    cr_assert(auth_models_allow(all, 1, "x", NULL, 0, NULL, 0));

    static const char *prov[] = {"openai/*", "claude-3*"};
    cr_assert(auth_models_allow(prov, 2, "openai/gpt-4o", NULL, 0, NULL, 0));
    cr_assert(auth_models_allow(prov, 2, "claude-3-opus", NULL, 0, NULL, 0));
    cr_assert_not(auth_models_allow(prov, 2, "gpt-4o", NULL, 0, NULL, 0));
    cr_assert_not(auth_models_allow(prov, 2, "anthropic/claude-3", NULL, 0, NULL, 0));
    cr_assert_not(auth_models_allow(prov, 2, "openai", NULL, 0, NULL, 0));

    static const char *grp[] = {"beta-models", "mistral"};
    cr_assert(auth_models_allow(grp, 2, "gpt-5", NULL, 0, groups, 2));
    cr_assert(auth_models_allow(grp, 2, "o9", NULL, 0, groups, 2));
    cr_assert(auth_models_allow(grp, 2, "mistral/large", NULL, 0, groups, 2));
    cr_assert_not(auth_models_allow(grp, 2, "gpt-4o", NULL, 0, groups, 2));
    cr_assert_not(auth_models_allow(grp, 2, "beta-models-x", NULL, 0, groups, 2));

    static const char *exact[] = {"gpt-4o"};
    auth_alias_t aliases[] = {{"my-gpt", "gpt-4o"}, {"bad", "gpt-5"}};
    cr_assert(auth_models_allow(exact, 1, "my-gpt", aliases, 2, NULL, 0));
    cr_assert_not(auth_models_allow(exact, 1, "bad", aliases, 2, NULL, 0));
    cr_assert_not(auth_models_allow(exact, 1, "gpt-4o-mini", aliases, 2, NULL, 0));

    /* through the check, with groups passed in the request */
    auth_key_t k = plain_key();
    k.models = grp;
    k.n_models = 2;
    auth_request_t q = req_for("o9");
    q.groups = groups;
    q.n_groups = 2;
    auth_error_t e;
    cr_assert_eq(auth_check_key(&k, &q, &e), 0);
}

Test(keys, check_key_budget)
{
    auth_key_t k = plain_key();
    k.key_alias = "dotoryeee-budget-key";
    k.key_name = "sk-...yC7w";
    k.spend = 0.000126;
    k.max_budget = 0.0001;
    auth_request_t q = req_for("gpt-4o");
    auth_error_t e;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert_eq(e.status, 429);
    cr_assert_str_eq(e.type, "budget_exceeded");
    cr_assert_null(e.param);
    cr_assert_str_eq(e.message, "Budget has been exceeded! Key=dotoryeee-budget-key (sk-...yC7w) "
                                "Current cost: 0.000126, Max budget: 0.0001");
    /* spend == budget is over, as LiteLLM (0.0 of 0.0 is refused) */
    k.spend = 0;
    k.max_budget = 0;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert_str_eq(e.message, "Budget has been exceeded! Key=dotoryeee-budget-key (sk-...yC7w) "
                                "Current cost: 0.0, Max budget: 0.0");
    k.key_alias = NULL;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert_str_eq(e.message,
                     "Budget has been exceeded! Key=sk-...yC7w Current cost: 0.0, Max budget: 0.0");
    /* a free model skips every budget */
    q.zero_cost = true;
    cr_assert_eq(auth_check_key(&k, &q, &e), 0);
    /* under budget */
    q.zero_cost = false;
    k.max_budget = 10;
    k.spend = 9.99;
    cr_assert_eq(auth_check_key(&k, &q, &e), 0);
}

Test(keys, check_budget_window_reset)
{
    auth_key_t k = plain_key();
    k.spend = 20;
    k.max_budget = 10;
    auth_request_t q = req_for("gpt-4o");
    auth_error_t e;
    k.budget_reset_at = q.now + 1;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    /* the window's reset time passed: the old spend no longer counts */
    k.budget_reset_at = q.now;
    cr_assert_eq(auth_check_key(&k, &q, &e), 0);
}

Test(keys, check_team_and_user_budgets)
{
    auth_key_t k = plain_key();
    k.team_id = "team-a";
    k.team_spend = 50.5;
    k.team_max_budget = 50;
    k.user_id = "u1";
    k.user_spend = 99;
    k.user_max_budget = 1;
    auth_request_t q = req_for("gpt-4o");
    auth_error_t e;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert_eq(e.status, 429);
    cr_assert_str_eq(e.type, "budget_exceeded");
    cr_assert_str_eq(e.message,
                     "Budget has been exceeded! Team=team-a Current cost: 50.5, Max budget: 50.0");
    /* in a team, the owner's personal budget does not apply */
    k.team_max_budget = 100;
    cr_assert_eq(auth_check_key(&k, &q, &e), 0);
    k.team_id = NULL;
    k.user_spend = 3.7e-05;
    k.user_max_budget = 0;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert_str_eq(e.message, "ExceededBudget: User=u1 over budget. Spend=3.7e-05, Budget=0.0");
    k.user_spend = 15;
    k.user_max_budget = 15;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert_str_eq(e.message, "ExceededBudget: User=u1 over budget. Spend=15.0, Budget=15.0");
}

/* LiteLLM's _check_team_member_budget: max_budget_in_team, '>=', after the team and user checks,
 * skipped for a free model; a cached record's member counter carries the spend between syncs. */
Test(keys, check_team_member_budget)
{
    auth_key_t k = plain_key();
    k.team_id = "team-a";
    k.user_id = "u1";
    k.team_max_budget = 100;
    k.member_spend = 0.5;
    k.member_max_budget = 0.5;
    auth_request_t q = req_for("gpt-4o");
    auth_error_t e;
    cr_assert_eq(auth_check_key(&k, &q, &e), 0, "has_member_budget unset: no member budget");
    k.has_member_budget = true;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1, "at the budget is over it");
    cr_assert_eq(e.status, 429);
    cr_assert_str_eq(e.type, "budget_exceeded");
    cr_assert_null(e.param);
    cr_assert_str_eq(e.message, "Budget has been exceeded! User=u1 in Team=team-a Current cost: "
                                "0.5, Max budget: 0.5");
    k.team_spend = 0.2;
    k.team_max_budget = 0.1;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert_str_eq(e.message,
                     "Budget has been exceeded! Team=team-a Current cost: 0.2, Max budget: 0.1",
                     "the team's budget is checked first");
    k.team_spend = 0;
    k.team_max_budget = 100;
    q.zero_cost = true;
    cr_assert_eq(auth_check_key(&k, &q, &e), 0, "a free model skips budgets");
    q.zero_cost = false;
    k.member_spend = 0.25;
    cr_assert_eq(auth_check_key(&k, &q, &e), 0);

    /* through the cache: the member's counter, shared by the user's keys in that team */
    auth_cache_t *c = auth_cache_new(NULL);
    auth_reader_t *r = auth_reader_register(c);
    cr_assert_eq(auth_cache_put(c, &k, 1), 0);
    auth_key_t k2 = k;
    k2.hash = hash_of("sk-another-key-of-u1-in-team-a");
    cr_assert_eq(auth_cache_put(c, &k2, 1), 0);
    const auth_key_t *rec, *rec2;
    cr_assert_eq(auth_lookup(c, r, &k.hash, 1, &rec), AUTH_LOOKUP_HIT);
    cr_assert_eq(auth_lookup(c, r, &k2.hash, 1, &rec2), AUTH_LOOKUP_HIT);
    cr_assert_not_null(rec->member_counter);
    cr_assert_eq(rec->member_counter, rec2->member_counter);
    auth_spend_add(rec, "gpt-4o", 0.25);
    cr_assert_eq(auth_check_key(rec2, &q, &e), -1);
    cr_assert_str_eq(e.message, "Budget has been exceeded! User=u1 in Team=team-a Current cost: "
                                "0.5, Max budget: 0.5");
    char id[AUTH_MEMBER_ID_MAX];
    auth_member_id("team-a", "u1", id);
    cr_assert_str_eq(id, "6:team-a:u1");
    auth_spend_settle(c, AUTH_SCOPE_TEAM_MEMBER, id, 0.25);
    cr_assert_float_eq(auth_counter_spend(rec->member_counter), 0.5, 1e-12);
    /* a key of the same user in no team, or with no member budget, has no member counter */
    auth_key_t solo = k;
    solo.hash = hash_of("sk-solo-key-of-u1");
    solo.team_id = NULL;
    cr_assert_eq(auth_cache_put(c, &solo, 1), 0);
    cr_assert_eq(auth_lookup(c, r, &solo.hash, 1, &rec), AUTH_LOOKUP_HIT);
    cr_assert_null(rec->member_counter);
    cr_assert_not(rec->has_member_budget);
    cr_assert_eq(auth_check_key(rec, &q, &e), 0);
    auth_reader_quiescent(r);
    auth_reader_unregister(r);
    auth_cache_free(c);
}

Test(keys, check_model_max_budget)
{
    auth_model_budget_t mb[] = {{"gpt-4o", 1.0, "30d", 1.0}};
    auth_key_t k = plain_key();
    k.model_budgets = mb;
    k.n_model_budgets = 1;
    auth_request_t q = req_for("gpt-4o");
    auth_error_t e;
    cr_assert_eq(auth_check_key(&k, &q, &e), 0, "equal is still allowed for model budgets");
    mb[0].spend = 1.01;
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert_eq(e.status, 429);
    cr_assert_str_eq(e.type, "budget_exceeded");
    char hex[65], want[256];
    auth_hash_hex(&k.hash, hex);
    snprintf(want, sizeof want,
             "LiteLLM Virtual Key: %s, key_alias: None, exceeded budget for model=gpt-4o", hex);
    cr_assert_str_eq(e.message, want);
    k.key_alias = "team-bot";
    cr_assert_eq(auth_check_key(&k, &q, &e), -1);
    cr_assert(strstr(e.message, ", key_alias: team-bot, exceeded budget for model=gpt-4o"));
    /* other models are not limited by it */
    q.model = "gpt-4o-mini";
    cr_assert_eq(auth_check_key(&k, &q, &e), 0);
}

/* ---- durations and numbers ---- */

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    return (int64_t)timegm(&tm);
}

Test(keys, duration_parse)
{
    auth_duration_t d;
    struct {
        const char *s;
        long long v;
        auth_dur_unit_t u;
    } ok[] = {{"30s", 30, AUTH_DUR_SECOND}, {"30m", 30, AUTH_DUR_MINUTE},
              {"30h", 30, AUTH_DUR_HOUR},   {"30d", 30, AUTH_DUR_DAY},
              {"1mo", 1, AUTH_DUR_MONTH},   {"12mo", 12, AUTH_DUR_MONTH}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cr_assert_eq(auth_duration_parse(str_cstr(ok[i].s), &d), 0, "%s", ok[i].s);
        cr_assert_eq(d.value, ok[i].v);
        cr_assert_eq(d.unit, ok[i].u);
    }
    const char *bad[] = {"", "d", "0d", "-1d", "1w", "1 d", "1mon", "1.5h", "99999999999d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(auth_duration_parse(str_cstr(bad[i]), &d), -1, "%s", bad[i]);
}

Test(keys, duration_add)
{
    auth_duration_t d;
    int64_t now = utc(2026, 1, 31, 10, 0, 0);
    auth_duration_parse(STR_LIT("30s"), &d);
    cr_assert_eq(auth_duration_add(&d, now), now + 30);
    auth_duration_parse(STR_LIT("2h"), &d);
    cr_assert_eq(auth_duration_add(&d, now), now + 7200);
    auth_duration_parse(STR_LIT("7d"), &d);
    cr_assert_eq(auth_duration_add(&d, now), now + 7 * 86400);
    /* months are calendar months, the day clamped: Jan 31 + 1mo = Feb 28 */
    auth_duration_parse(STR_LIT("1mo"), &d);
    cr_assert_eq(auth_duration_add(&d, now), utc(2026, 2, 28, 10, 0, 0));
    auth_duration_parse(STR_LIT("13mo"), &d);
    cr_assert_eq(auth_duration_add(&d, now), utc(2027, 2, 28, 10, 0, 0));
    cr_assert_eq(auth_duration_add(&d, utc(2027, 1, 31, 0, 0, 0)), utc(2028, 2, 29, 0, 0, 0));
}

Test(keys, budget_next_reset)
{
    auth_duration_t d;
    int64_t now = utc(2026, 3, 14, 13, 47, 12);
    auth_duration_parse(STR_LIT("1d"), &d);
    cr_assert_eq(auth_budget_next_reset(&d, now), utc(2026, 3, 15, 0, 0, 0));
    auth_duration_parse(STR_LIT("7d"), &d);
    cr_assert_eq(auth_budget_next_reset(&d, now), utc(2026, 3, 21, 0, 0, 0));
    auth_duration_parse(STR_LIT("1h"), &d);
    cr_assert_eq(auth_budget_next_reset(&d, now), utc(2026, 3, 14, 14, 0, 0));
    auth_duration_parse(STR_LIT("5h"), &d);
    cr_assert_eq(auth_budget_next_reset(&d, now), utc(2026, 3, 14, 15, 0, 0));
    auth_duration_parse(STR_LIT("7h"), &d); /* multiples of 7 h since midnight: 14:00 */
    cr_assert_eq(auth_budget_next_reset(&d, now), utc(2026, 3, 14, 14, 0, 0));
    auth_duration_parse(STR_LIT("15m"), &d);
    cr_assert_eq(auth_budget_next_reset(&d, now), utc(2026, 3, 14, 14, 0, 0));
    auth_duration_parse(STR_LIT("30s"), &d);
    cr_assert_eq(auth_budget_next_reset(&d, now), utc(2026, 3, 14, 13, 47, 30));
    auth_duration_parse(STR_LIT("10h"), &d); /* 20:00 then capped at midnight */
    cr_assert_eq(auth_budget_next_reset(&d, utc(2026, 3, 14, 21, 0, 0)), utc(2026, 3, 15, 0, 0, 0));
    auth_duration_parse(STR_LIT("1mo"), &d);
    cr_assert_eq(auth_budget_next_reset(&d, now), utc(2026, 4, 1, 0, 0, 0));
    cr_assert_eq(auth_budget_next_reset(&d, utc(2026, 12, 31, 23, 0, 0)), utc(2027, 1, 1, 0, 0, 0));
    auth_duration_parse(STR_LIT("3mo"), &d);
    cr_assert_eq(auth_budget_next_reset(&d, now), utc(2026, 6, 1, 0, 0, 0));
}

Test(keys, python_float_repr)
{
    struct {
        double v;
        const char *s;
    } cases[] = {{0, "0.0"},
                 {-0.0, "-0.0"},
                 {10, "10.0"},
                 {0.1, "0.1"},
                 {0.0001, "0.0001"},
                 {0.00001, "1e-05"},
                 {1e-07, "1e-07"},
                 {3.7e-05, "3.7e-05"},
                 {0.000126, "0.000126"},
                 {1.5, "1.5"},
                 {10000.701821100023, "10000.701821100023"},
                 {1e15, "1000000000000000.0"},
                 {1e16, "1e+16"},
                 {1.25e17, "1.25e+17"},
                 {0.1 + 0.2, "0.30000000000000004"},
                 {-2.5, "-2.5"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[40];
        auth_format_float(cases[i].v, out, sizeof out);
        cr_assert_str_eq(out, cases[i].s, "%.17g", cases[i].v);
    }
}

/* ---- end users ---------------------------------------------------------------------------- */

Test(keys, end_user_hash_is_its_own)
{
    auth_hash_t a, b, k;
    cr_assert_eq(auth_end_user_hash("alice", &a), 0);
    cr_assert_eq(auth_end_user_hash("alice", &b), 0);
    cr_assert_eq(auth_key_hash(str_cstr("enduser:alice"), &k), 0);
    cr_expect_eq(memcmp(a.b, b.b, AUTH_HASH_LEN), 0);
    cr_expect_eq(memcmp(a.b, k.b, AUTH_HASH_LEN), 0, "SHA-256 of \"enduser:\" + id");
    cr_assert_eq(auth_key_hash(str_cstr("alice"), &k), 0);
    cr_expect_neq(memcmp(a.b, k.b, AUTH_HASH_LEN), 0);
    char longid[600];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = 0;
    cr_expect_eq(auth_end_user_hash(longid, &a), 0);
}

Test(keys, end_user_checks_blocked_then_budget)
{
    auth_hash_t h;
    auth_end_user_hash("cust-1", &h);
    auth_key_t k;
    auth_error_t err;
    auth_end_user_record(&k, &h, "cust-1", false, 0.5, -1, AUTH_NO_LIMIT, AUTH_NO_LIMIT,
                         AUTH_NO_LIMIT);
    cr_expect_eq(auth_check_end_user(&k, false, &err), 0, "no budget");
    k.max_budget = 0.5;
    cr_expect_eq(auth_check_end_user(&k, false, &err), 0, "spend == budget passes (LiteLLM: >)");
    k.spend = 0.75;
    cr_assert_eq(auth_check_end_user(&k, false, &err), -1);
    cr_expect_eq(err.status, 429);
    cr_expect_str_eq(err.type, "budget_exceeded");
    cr_expect_str_eq(err.message,
                     "ExceededBudget: End User=cust-1 over budget. Spend=0.75, Budget=0.5");
    cr_expect_eq(auth_check_end_user(&k, true, &err), 0, "a zero-cost model skips budgets");
    k.blocked = true;
    cr_assert_eq(auth_check_end_user(&k, true, &err), -1, "blocked even for a free model");
    cr_expect_eq(err.status, 400);
    cr_expect_str_eq(err.type, "invalid_request_error");
    cr_expect_str_eq(err.message, "User blocked from making LLM API Calls. User=cust-1");
}

Test(keys, end_user_in_the_cache_spends_and_settles)
{
    auth_cache_t *c = auth_cache_new(NULL);
    auth_reader_t *r = auth_reader_register(c);
    auth_hash_t h;
    auth_end_user_hash("cust-2", &h);
    const auth_key_t *rec;
    cr_assert_eq(auth_lookup(c, r, &h, 0, &rec), AUTH_LOOKUP_MISS_STARTED);
    auth_key_t k;
    auth_end_user_record(&k, &h, "cust-2", false, 1.0, 2.0, 10, AUTH_NO_LIMIT, 3);
    cr_assert_eq(auth_cache_put(c, &k, 1), 0);
    cr_assert_eq(auth_lookup(c, r, &h, 2, &rec), AUTH_LOOKUP_HIT);
    cr_expect_str_eq(rec->key_alias, "cust-2");
    cr_expect_eq(rec->rpm_limit, 10);
    cr_expect_eq(rec->tpm_limit, AUTH_NO_LIMIT);
    cr_expect_eq(rec->max_parallel_requests, 3, "the budget row's max_parallel_requests");
    cr_expect_eq(rec->team_limits.max_parallel, AUTH_NO_LIMIT);
    cr_expect_null(rec->user_counter, "an end user is not an internal user");
    auth_counter_t *spend = rec->key_counter;
    auth_counter_add(spend, 1.5);
    auth_error_t err;
    cr_expect_eq(auth_check_end_user(rec, false, &err), -1, "2.5 > 2.0");
    auth_spend_settle(c, AUTH_SCOPE_END_USER, "cust-2", 1.5);
    cr_expect_float_eq(auth_counter_spend(spend), 2.5, 1e-12, "settled: the total stays");
    auth_reader_unregister(r);
    auth_cache_free(c);
}
