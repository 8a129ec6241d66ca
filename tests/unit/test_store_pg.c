/* SPDX-License-Identifier: MIT
 * store_pg: the PostgreSQL back end against the real server of pg_harness (skipped when the
 * PostgreSQL binaries are absent):
 * schema creation, an existing table left alone, batch sums, exactly-once replay, key reads and a
 * refused connection. */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_harness.h"
#include "store/store.h"

#define WAIT_MS 10000

static void need_server(void)
{
    (void)pg_harness_port(); /* skips without a server */
}

TestSuite(store_pg, .init = need_server, .timeout = 30);

/* ---- helpers --------------------------------------------------------------------------------- */

typedef struct {
    int calls, rc;
    char err[256];
} done_t;

static void on_done(store_pg_t *pg, void *arg, int rc, const char *err)
{
    done_t *d = arg;
    d->calls++;
    d->rc = rc;
    snprintf(d->err, sizeof d->err, "%s", err ? err : "");
}

static store_pg_t *connect_db(const char *name)
{
    char ci[256];
    pg_harness_conninfo(name, ci, sizeof ci);
    store_pg_t *pg = store_pg_new();
    cr_assert_not_null(pg);
    done_t d = {0};
    cr_assert_eq(store_pg_connect(pg, ci, on_done, &d), 0, "%s", store_pg_errmsg(pg));
    cr_assert_eq(store_pg_wait(pg, WAIT_MS), 0, "%s", store_pg_errmsg(pg));
    cr_assert_eq(d.calls, 1);
    cr_assert_eq(d.rc, 0, "%s", d.err);
    cr_assert_eq(store_pg_state(pg), STORE_PG_READY);
    return pg;
}

static void ensure_schema(store_pg_t *pg)
{
    done_t d = {0};
    cr_assert_eq(store_pg_ensure_schema(pg, on_done, &d), 0, "%s", store_pg_errmsg(pg));
    cr_assert_eq(store_pg_wait(pg, WAIT_MS), 0, "%s", store_pg_errmsg(pg));
    cr_assert_eq(d.calls, 1);
    cr_assert_eq(d.rc, 0, "%s", d.err);
}

static int write_batch(store_pg_t *pg, const store_spend_log_t *logs, size_t n,
                       store_batch_result_t *res)
{
    done_t d = {0};
    cr_assert_eq(store_pg_write_batch(pg, logs, n, true, res, NULL, on_done, &d), 0, "%s",
                 store_pg_errmsg(pg));
    cr_assert_eq(store_pg_wait(pg, WAIT_MS), 0, "%s", store_pg_errmsg(pg));
    cr_assert_eq(d.calls, 1);
    cr_assert_eq(store_pg_state(pg), STORE_PG_READY);
    return d.rc;
}

/* ---- tests ----------------------------------------------------------------------------------- */

Test(store_pg, schema_created_twice)
{
    PGconn *c = pg_harness_fresh_db("pg_schema");
    store_pg_t *pg = connect_db("pg_schema");
    ensure_schema(pg);
    cr_assert_str_eq(
        pg_harness_query1(c, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND "
                             "tablename LIKE 'LiteLLM_%'"),
        "15");
    const char *idx =
        pg_harness_query1(c, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'");
    cr_assert_gt(atoi(idx), 15);
    char before[32];
    snprintf(before, sizeof before, "%s", idx);
    ensure_schema(pg);
    cr_assert_str_eq(
        pg_harness_query1(c, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'"),
        before);
    store_pg_free(pg);
    PQfinish(c);
}

Test(store_pg, existing_table_left_untouched)
{
    PGconn *c = pg_harness_fresh_db("pg_existing");
    pg_harness_exec(
        c, "CREATE TABLE \"LiteLLM_SpendLogs\" (request_id TEXT PRIMARY KEY, extra INTEGER)");
    store_pg_t *pg = connect_db("pg_existing");
    ensure_schema(pg);
    cr_assert_str_eq(pg_harness_query1(c, "SELECT count(*) FROM information_schema.columns WHERE "
                                          "table_name = 'LiteLLM_SpendLogs'"),
                     "2");
    cr_assert_str_eq(pg_harness_query1(c, "SELECT count(*) FROM pg_indexes WHERE tablename = "
                                          "'LiteLLM_SpendLogs'"),
                     "1"); /* its own primary key only: no index added */
    cr_assert_str_eq(pg_harness_query1(c, "SELECT count(*) FROM pg_tables WHERE tablename = "
                                          "'LiteLLM_VerificationToken'"),
                     "1");
    store_pg_free(pg);
    PQfinish(c);
}

static void fill_logs(store_spend_log_t logs[3])
{
    static const char *ids[] = {"req-1", "req-2", "req-3"};
    static const double spend[] = {0.25, 0.5, 1.0};
    for (int i = 0; i < 3; i++) {
        store_spend_log_init(&logs[i]);
        logs[i].request_id = ids[i];
        logs[i].call_type = "acompletion";
        logs[i].api_key = "hash-a";
        logs[i].spend = spend[i];
        logs[i].prompt_tokens = 10;
        logs[i].completion_tokens = 5;
        logs[i].total_tokens = 15;
        logs[i].start_time = 1764259200000LL + i; /* 2025-11-27 16:00:00 UTC */
        logs[i].end_time = logs[i].start_time + 100;
        logs[i].model = "gpt-4o";
        logs[i].custom_llm_provider = "openai";
        logs[i].user = "u1";
        logs[i].team_id = "t1";
        logs[i].end_user = "cust";
        logs[i].request_tags = "[\"tag-a\"]";
        logs[i].status = i == 2 ? "failure" : "success";
        logs[i].endpoint = "/v1/chat/completions";
    }
}

Test(store_pg, batch_sums_and_replay_exactly_once)
{
    PGconn *c = pg_harness_fresh_db("pg_batch");
    store_pg_t *pg = connect_db("pg_batch");
    ensure_schema(pg);
    pg_harness_exec(
        c, "INSERT INTO \"LiteLLM_VerificationToken\" (token, spend) VALUES ('hash-a', 1)");
    pg_harness_exec(c, "INSERT INTO \"LiteLLM_UserTable\" (user_id) VALUES ('u1')");
    pg_harness_exec(c, "INSERT INTO \"LiteLLM_TeamTable\" (team_id) VALUES ('t1')");
    pg_harness_exec(
        c, "INSERT INTO \"LiteLLM_TeamMembership\" (user_id, team_id) VALUES ('u1', 't1')");
    store_spend_log_t logs[3];
    fill_logs(logs);
    store_batch_result_t res = {9, 9};
    cr_assert_eq(write_batch(pg, logs, 3, &res), 0);
    cr_assert_eq(res.inserted, 3);
    cr_assert_eq(res.duplicates, 0);
    static const char *const checks[][2] = {
        {"SELECT count(*) FROM \"LiteLLM_SpendLogs\"", "3"},
        {"SELECT spend FROM \"LiteLLM_VerificationToken\" WHERE token = 'hash-a'", "2.75"},
        {"SELECT spend FROM \"LiteLLM_UserTable\" WHERE user_id = 'u1'", "1.75"},
        {"SELECT spend FROM \"LiteLLM_TeamTable\" WHERE team_id = 't1'", "1.75"},
        {"SELECT total_spend FROM \"LiteLLM_TeamMembership\" WHERE user_id = 'u1'", "1.75"},
        {"SELECT spend FROM \"LiteLLM_EndUserTable\" WHERE user_id = 'cust'", "1.75"},
        {"SELECT spend || '/' || api_requests || '/' || successful_requests || '/' || "
         "failed_requests || '/' || prompt_tokens || '/' || date FROM \"LiteLLM_DailyUserSpend\"",
         "1.75/3/2/1/30/2025-11-27"},
        {"SELECT count(*) || '/' || sum(spend) FROM \"LiteLLM_DailyTeamSpend\"", "1/1.75"},
        {"SELECT tag || '/' || spend FROM \"LiteLLM_DailyTagSpend\"", "tag-a/1.75"},
        {"SELECT to_char(\"startTime\", 'YYYY-MM-DD HH24:MI:SS.MS') FROM \"LiteLLM_SpendLogs\" "
         "WHERE request_id = 'req-2'",
         "2025-11-27 16:00:00.001"},
        {"SELECT metadata::text FROM \"LiteLLM_SpendLogs\" WHERE request_id = 'req-1'", "{}"},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        cr_expect_str_eq(pg_harness_query1(c, checks[i][0]), checks[i][1], "%s", checks[i][0]);

    /* the same batch again (a spool replay after a crash): nothing changes */
    cr_assert_eq(write_batch(pg, logs, 3, &res), 0);
    cr_assert_eq(res.inserted, 0);
    cr_assert_eq(res.duplicates, 3);
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        cr_expect_str_eq(pg_harness_query1(c, checks[i][0]), checks[i][1], "replay: %s",
                         checks[i][0]);

    /* a request without a user: the daily row with a NULL user is found and added to */
    store_spend_log_t anon[2];
    for (int i = 0; i < 2; i++) {
        store_spend_log_init(&anon[i]);
        anon[i].request_id = i ? "anon-2" : "anon-1";
        anon[i].call_type = "acompletion";
        anon[i].spend = 1;
        anon[i].start_time = 1764259200000LL;
        anon[i].end_time = anon[i].start_time;
        cr_assert_eq(write_batch(pg, &anon[i], 1, &res), 0, "%s", store_pg_errmsg(pg));
    }
    cr_expect_str_eq(pg_harness_query1(c, "SELECT count(*) || '/' || sum(spend) FROM "
                                          "\"LiteLLM_DailyUserSpend\" WHERE user_id IS NULL"),
                     "1/2");
    store_pg_free(pg);
    PQfinish(c);
}

#define ODD_MODEL "openai/gpt-4.1 \"mini\"" /* a dot, a slash and quotes */

Test(store_pg, batch_adds_model_spend_once)
{
    PGconn *c = pg_harness_fresh_db("pg_model_spend");
    store_pg_t *pg = connect_db("pg_model_spend");
    ensure_schema(pg);
    pg_harness_exec(c, "INSERT INTO \"LiteLLM_VerificationToken\" (token, model_spend) VALUES "
                       "('hash-a', '{\"gpt-4o\": 1.5, \"x\": \"text\"}'), ('hash-b', '[1]')");
    store_spend_log_t logs[3];
    fill_logs(logs); /* hash-a: 0.25, 0.5, 1.0 */
    for (int i = 0; i < 3; i++)
        logs[i].model_group = "gpt-4o";
    logs[0].spend = 0.1;
    logs[1].spend = 0.2;
    logs[2].model_group = ODD_MODEL;
    store_spend_log_t more[3];
    fill_logs(more);
    more[0].request_id = "req-b1";
    more[0].api_key = "hash-b";
    more[0].model_group = "gpt-4o";
    more[1].request_id = "req-b2";
    more[1].api_key = "hash-b";
    more[1].model_group = "free-model";
    more[1].spend = 0; /* costs nothing: no entry */
    store_batch_result_t res;
    cr_assert_eq(write_batch(pg, logs, 3, &res), 0, "%s", store_pg_errmsg(pg));
    cr_assert_eq(write_batch(pg, more, 2, &res), 0, "%s", store_pg_errmsg(pg));
    const char *const checks[][2] = {
        /* summed per (key, model) in the batch, then added to the row's value, to the last bit */
        {"SELECT (model_spend ->> 'gpt-4o')::double precision = 1.5 + (0.1::float8 + 0.2::float8) "
         "FROM \"LiteLLM_VerificationToken\" WHERE token = 'hash-a'",
         "t"},
        {"SELECT model_spend -> '" ODD_MODEL "' FROM \"LiteLLM_VerificationToken\" WHERE token = "
         "'hash-a'",
         "1"},
        {"SELECT model_spend ->> 'x' FROM \"LiteLLM_VerificationToken\" WHERE token = 'hash-a'",
         "text"},
        /* not an object: starts again from {} */
        {"SELECT model_spend::text FROM \"LiteLLM_VerificationToken\" WHERE token = 'hash-b'",
         "{\"gpt-4o\": 0.25}"},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        cr_expect_str_eq(pg_harness_query1(c, checks[i][0]), checks[i][1], "%s", checks[i][0]);

    /* replayed: nothing doubles */
    cr_assert_eq(write_batch(pg, logs, 3, &res), 0);
    cr_assert_eq(res.duplicates, 3);
    cr_assert_eq(write_batch(pg, more, 2, &res), 0);
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        cr_expect_str_eq(pg_harness_query1(c, checks[i][0]), checks[i][1], "replay: %s",
                         checks[i][0]);
    store_pg_free(pg);
    PQfinish(c);
}

Test(store_pg, failed_batch_rolls_back)
{
    PGconn *c = pg_harness_fresh_db("pg_fail");
    store_pg_t *pg = connect_db("pg_fail");
    ensure_schema(pg);
    store_spend_log_t logs[3];
    fill_logs(logs);
    logs[1].metadata = "not json"; /* rejected by the jsonb column */
    store_batch_result_t res;
    cr_assert_eq(write_batch(pg, logs, 2, &res), -1);
    cr_assert(strstr(store_pg_errmsg(pg), "json") != NULL, "%s", store_pg_errmsg(pg));
    cr_assert_str_eq(pg_harness_query1(c, "SELECT count(*) FROM \"LiteLLM_SpendLogs\""), "0");
    /* the connection is usable afterwards */
    logs[1].metadata = NULL;
    cr_assert_eq(write_batch(pg, logs, 2, &res), 0);
    cr_assert_eq(res.inserted, 2);
    store_pg_free(pg);
    PQfinish(c);
}

Test(store_pg, key_get)
{
    PGconn *c = pg_harness_fresh_db("pg_key");
    store_pg_t *pg = connect_db("pg_key");
    ensure_schema(pg);
    pg_harness_exec(
        c, "INSERT INTO \"LiteLLM_VerificationToken\" (token, key_alias, spend, max_budget, "
           "models, metadata, blocked, expires, tpm_limit, user_id) VALUES ('hash-k', "
           "'alias', 1.5, 10, ARRAY['gpt-4o', 'claude \"x\"'], '{\"a\": 1}', true, "
           "'2030-01-02 03:04:05.678', 100, 'u1')");
    store_key_t k;
    done_t d = {0};
    cr_assert_eq(store_pg_key_get(pg, "hash-k", &k, on_done, &d), 0);
    cr_assert_eq(store_pg_wait(pg, WAIT_MS), 0);
    cr_assert_eq(d.rc, 0, "%s", d.err);
    cr_assert_str_eq(k.token, "hash-k");
    cr_assert_str_eq(k.key_alias, "alias");
    cr_assert_float_eq(k.spend, 1.5, 1e-12);
    cr_assert_float_eq(k.max_budget, 10, 1e-12);
    cr_assert_eq(k.models.n, 2);
    cr_assert_str_eq(k.models.v[1], "claude \"x\"");
    cr_assert_str_eq(k.metadata, "{\"a\": 1}");
    cr_assert_eq(k.blocked, 1);
    cr_assert_eq(k.expires, 1893553445678LL);
    cr_assert_eq(k.tpm_limit, 100);
    cr_assert_eq(k.rpm_limit, STORE_INT_NULL);
    cr_assert_str_eq(k.user_id, "u1");
    cr_assert_null(k.team_id);
    cr_assert_str_eq(k.aliases, "{}");
    store_key_free(&k);

    d = (done_t){0};
    cr_assert_eq(store_pg_key_get(pg, "no-such", &k, on_done, &d), 0);
    cr_assert_eq(store_pg_wait(pg, WAIT_MS), 0);
    cr_assert_eq(d.calls, 1);
    cr_assert_eq(d.rc, 1);
    store_key_free(&k);
    store_pg_free(pg);
    PQfinish(c);
}

Test(store_pg, refused_connection_fails_cleanly)
{
    int dead = pg_harness_free_port();
    cr_assert_gt(dead, 0);
    char ci[128];
    snprintf(ci, sizeof ci, "host=127.0.0.1 port=%d user=postgres connect_timeout=5", dead);
    store_pg_t *pg = store_pg_new();
    done_t d = {0};
    cr_assert_eq(store_pg_connect(pg, ci, on_done, &d), 0);
    cr_assert_eq(store_pg_wait(pg, WAIT_MS), -1);
    cr_assert_eq(d.calls, 1);
    cr_assert_eq(d.rc, -1);
    cr_assert(strstr(d.err, "connect") != NULL, "%s", d.err);
    cr_assert_eq(store_pg_state(pg), STORE_PG_BROKEN);
    cr_assert_eq(store_pg_fd(pg), -1);
    /* operations on a broken connection are refused at once, without a callback */
    store_batch_result_t res;
    cr_assert_eq(store_pg_write_batch(pg, NULL, 0, true, &res, NULL, on_done, &d), -1);
    cr_assert_eq(d.calls, 1);
    store_pg_free(pg);

    /* a conninfo libpq cannot parse fails at once */
    pg = store_pg_new();
    cr_assert_eq(store_pg_connect(pg, "host=", on_done, &d) == 0 ? 0 : -1, -1);
    store_pg_free(pg);
}
