/* SPDX-License-Identifier: MIT
 * sdb: the control plane's blocking database handle, on a temporary SQLite file (suite sdb) and
 * on the real PostgreSQL of pg_harness (suite sdb_pg), with the same test bodies: tables created
 * on open, $n placeholders (repeated, NULL), rows changed, transactions, the storage forms of
 * every column type written through sdb_param / sdb_value_text and read back through
 * sdb_select_all / sdb_row_json, list membership, errors; on PostgreSQL also the schema left alone
 * on a LiteLLM database and the reconnect after the server dropped the connection. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "pg_harness.h"
#include "store/sdb.h"

static char tmpdir[64];
static sdb_t *db;
static PGconn *pgc; /* PostgreSQL suites: a superuser connection to the test's database */
static char pgname[64];

static void open_sqlite(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sluice-sdb-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    char path[128], *err = NULL;
    snprintf(path, sizeof path, "%s/db.sqlite", tmpdir);
    db = sdb_open_sqlite(path, &err);
    cr_assert_not_null(db, "%s", err ? err : "");
}

static void close_sqlite(void)
{
    sdb_close(db);
    db = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
}

static void open_pg(void)
{
    pgc = pg_harness_test_db(pgname);
    char ci[256], *err = NULL;
    pg_harness_conninfo(pgname, ci, sizeof ci);
    db = sdb_open_pg(ci, &err);
    cr_assert_not_null(db, "%s", err ? err : "");
}

static void close_pg(void)
{
    sdb_close(db);
    db = NULL;
    if (pgc)
        PQfinish(pgc);
    pgc = NULL;
}

TestSuite(sdb, .init = open_sqlite, .fini = close_sqlite);
TestSuite(sdb_pg, .init = open_pg, .fini = close_pg, .timeout = 30);

/* Runs a body on both back ends. */
#define BOTH(name)                                                                                 \
    static void body_##name(void);                                                                 \
    Test(sdb, name)                                                                                \
    {                                                                                              \
        body_##name();                                                                             \
    }                                                                                              \
    Test(sdb_pg, name)                                                                             \
    {                                                                                              \
        body_##name();                                                                             \
    }                                                                                              \
    static void body_##name(void)

/* The first cell of a one-row query (asserting), copied into a static buffer; "(null)" for NULL. */
static const char *cell(const char *sql, const char *const *params, int n)
{
    static char out[512];
    sdb_res_t *r = sdb_query(db, sql, params, n);
    cr_assert_not_null(r, "%s: %s", sql, sdb_errmsg(db));
    cr_assert_eq(sdb_res_rows(r), 1, "%s", sql);
    const char *v = sdb_res_get(r, 0, 0);
    snprintf(out, sizeof out, "%s", v ? v : "(null)");
    sdb_res_free(r);
    return out;
}

BOTH(tables_created)
{
    const char *sql = sdb_dialect(db) == STORE_DIALECT_SQLITE
                          ? "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name "
                            "LIKE 'LiteLLM_%'"
                          : "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND "
                            "tablename LIKE 'LiteLLM_%'";
    cr_expect_str_eq(cell(sql, NULL, 0), "15");
}

BOTH(placeholders_repeat_and_null)
{
    const char *p[] = {"a", "b"}, *none[] = {NULL};
    cr_expect_str_eq(cell("SELECT CAST($1 AS TEXT) || CAST($2 AS TEXT) || CAST($1 AS TEXT)", p, 2),
                     "aba");
    cr_expect_str_eq(cell("SELECT CAST($1 AS TEXT)", none, 1), "(null)");
    /* a result's columns by name */
    sdb_res_t *r = sdb_query(db, "SELECT 1 AS one, CAST($1 AS TEXT) AS \"Two\"", p, 1);
    cr_assert_not_null(r, "%s", sdb_errmsg(db));
    cr_expect_eq(sdb_res_cols(r), 2);
    cr_expect_eq(sdb_res_col(r, "Two"), 1);
    cr_expect_eq(sdb_res_col(r, "two"), -1);
    cr_expect_str_eq(sdb_res_name(r, 0), "one");
    cr_expect_str_eq(sdb_res_get(r, 0, 1), "a");
    cr_expect_null(sdb_res_get(r, 1, 0));
    sdb_res_free(r);
}

BOTH(exec_counts_and_transactions)
{
    const char *ins = "INSERT INTO \"LiteLLM_EndUserTable\" (user_id, spend, blocked) VALUES "
                      "($1, 0, $2)";
    const char *p1[] = {"c1", "0"}, *p2[] = {"c2", "1"};
    cr_assert_eq(sdb_exec(db, ins, p1, 2), 1, "%s", sdb_errmsg(db));
    cr_assert_eq(sdb_begin(db), 0, "%s", sdb_errmsg(db));
    cr_assert_eq(sdb_exec(db, ins, p2, 2), 1, "%s", sdb_errmsg(db));
    sdb_rollback(db);
    cr_expect_str_eq(cell("SELECT count(*) FROM \"LiteLLM_EndUserTable\"", NULL, 0), "1");
    cr_assert_eq(sdb_begin(db), 0);
    cr_assert_eq(sdb_exec(db, ins, p2, 2), 1);
    cr_assert_eq(sdb_commit(db), 0, "%s", sdb_errmsg(db));
    const char *up = "UPDATE \"LiteLLM_EndUserTable\" SET spend = spend + $1";
    const char *amt[] = {"0.25"};
    cr_expect_eq(sdb_exec(db, up, amt, 1), 2);
    cr_expect_eq(sdb_exec(db, "DELETE FROM \"LiteLLM_EndUserTable\" WHERE user_id = $1",
                          (const char *[]){"nope"}, 1),
                 0);
    /* booleans read as 1/0 in both dialects */
    cr_expect_str_eq(
        cell("SELECT blocked FROM \"LiteLLM_EndUserTable\" WHERE user_id = 'c2'", NULL, 0), "1");
    cr_expect_str_eq(
        cell("SELECT spend FROM \"LiteLLM_EndUserTable\" WHERE user_id = 'c2'", NULL, 0), "0.25");
}

BOTH(errors)
{
    cr_expect_null(sdb_query(db, "SELECT * FROM no_such_table", NULL, 0));
    cr_expect_neq(sdb_errmsg(db)[0], '\0');
    cr_expect_not_null(strstr(sdb_errmsg(db), "no_such_table"), "%s", sdb_errmsg(db));
    cr_expect_eq(sdb_exec(db, "INSERT INTO \"LiteLLM_TeamTable\" (team_id) VALUES (NULL)", NULL, 0),
                 -1);
    /* still usable */
    cr_expect_str_eq(cell("SELECT 1", NULL, 0), "1");
    cr_expect_str_eq(sdb_errmsg(db), "");
}

/* Writes every type of column through the schema helpers and reads it back. */
BOTH(storage_forms_round_trip)
{
    const store_table_t *t = store_schema_table("LiteLLM_VerificationToken");
    cJSON *in = cJSON_Parse("{\"token\":\"tok-1\",\"key_alias\":\"a\\\"b\",\"spend\":1.25,"
                            "\"max_budget\":0.1,\"tpm_limit\":4294967296000,"
                            "\"max_parallel_requests\":7,\"blocked\":true,"
                            "\"soft_budget_cooldown\":false,"
                            "\"expires\":\"2030-01-02T05:04:05.678+02:00\","
                            "\"models\":[\"gpt-4o\",\"claude \\\"x\\\"\"],"
                            "\"metadata\":{\"k\":[1,{\"n\":null}]},\"aliases\":{},"
                            "\"allowed_routes\":[],\"budget_reset_at\":null}");
    cr_assert_not_null(in);
    buf_t sql = {0}, vals = {0};
    const char *params[32];
    char *owned[32];
    int n = 0;
    buf_append_cstr(&sql, "INSERT INTO \"LiteLLM_VerificationToken\" (");
    const cJSON *it;
    cJSON_ArrayForEach(it, in)
    {
        const store_column_t *c = store_schema_column(t, it->string);
        cr_assert_not_null(c, "%s", it->string);
        bool bad = true;
        owned[n] = sdb_value_text(c, it, &bad);
        cr_assert(!bad, "%s", it->string);
        params[n] = owned[n];
        buf_printf(&sql, "%s\"%s\"", n ? ", " : "", c->name);
        if (n)
            buf_append_cstr(&vals, ", ");
        sdb_param(db, c, ++n, &vals);
    }
    buf_printf(&sql, ") VALUES (%.*s)", (int)vals.n, vals.p);
    cr_assert_not_null(buf_cstr(&sql));
    cr_assert_eq(sdb_exec(db, sql.p, params, n), 1, "%s: %s", sql.p, sdb_errmsg(db));
    for (int i = 0; i < n; i++)
        free(owned[i]);
    buf_free(&sql);
    buf_free(&vals);
    cJSON_Delete(in);

    buf_t sel = {0};
    buf_append_cstr(&sel, "SELECT ");
    sdb_select_all(db, t, "t.", &sel);
    buf_append_cstr(&sel, " FROM \"LiteLLM_VerificationToken\" t WHERE t.token = $1");
    cr_assert_not_null(buf_cstr(&sel));
    sdb_res_t *r = sdb_query(db, sel.p, (const char *[]){"tok-1"}, 1);
    buf_free(&sel);
    cr_assert_not_null(r, "%s", sdb_errmsg(db));
    cr_assert_eq(sdb_res_rows(r), 1);
    cr_assert_eq(sdb_res_cols(r), (int)t->num_columns);
    /* the storage forms, whatever the dialect */
    static const char *const forms[][2] = {
        {"key_alias", "a\"b"},          {"spend", "1.25"},
        {"max_budget", "0.1"},          {"tpm_limit", "4294967296000"},
        {"max_parallel_requests", "7"}, {"blocked", "1"},
        {"soft_budget_cooldown", "0"},  {"expires", "2030-01-02 03:04:05.678"},
        {"allowed_routes", "[]"},       {"config", "{}"}, /* the column default */
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        int col = sdb_res_col(r, forms[i][0]);
        cr_assert_geq(col, 0, "%s", forms[i][0]);
        const char *v = sdb_res_get(r, 0, col);
        cr_expect_str_eq(v ? v : "(null)", forms[i][1], "%s", forms[i][0]);
    }
    cr_expect_null(sdb_res_get(r, 0, sdb_res_col(r, "budget_reset_at")));
    cr_expect_null(sdb_res_get(r, 0, sdb_res_col(r, "team_id")));
    /* created_at took the database default; it reads in the storage form too */
    const char *created = sdb_res_get(r, 0, sdb_res_col(r, "created_at"));
    cr_assert_not_null(created);
    cr_expect_eq(strlen(created), 23, "%s", created);
    long long ms;
    cr_expect_eq(sdb_time_parse(created, &ms), 0);

    /* the row as the API shows it */
    cJSON *o = sdb_row_json(t, r, 0);
    cr_assert_not_null(o);
    cJSON *want = cJSON_Parse("{\"token\":\"tok-1\",\"key_alias\":\"a\\\"b\",\"spend\":1.25,"
                              "\"max_budget\":0.1,\"max_parallel_requests\":7,\"blocked\":true,"
                              "\"soft_budget_cooldown\":false,"
                              "\"expires\":\"2030-01-02T03:04:05.678000+00:00\","
                              "\"models\":[\"gpt-4o\",\"claude \\\"x\\\"\"],"
                              "\"metadata\":{\"k\":[1,{\"n\":null}]},\"aliases\":{},"
                              "\"allowed_routes\":[],\"budget_reset_at\":null,\"team_id\":null,"
                              "\"config\":{}}");
    cJSON_ArrayForEach(it, want)
    {
        const cJSON *got = cJSON_GetObjectItemCaseSensitive(o, it->string);
        char *g = got ? cJSON_PrintUnformatted(got) : NULL, *w = cJSON_PrintUnformatted(it);
        cr_expect(got && cJSON_Compare(got, it, true), "%s: got %s, want %s", it->string,
                  g ? g : "(absent)", w);
        free(g);
        free(w);
    }
    cr_expect_eq(cJSON_GetArraySize(o), (int)t->num_columns);
    cr_expect(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "tpm_limit")));
    cJSON_Delete(want);
    cJSON_Delete(o);
    sdb_res_free(r);

    /* a list column holds its values */
    buf_t q = {0};
    buf_append_cstr(&q, "SELECT count(*) FROM \"LiteLLM_VerificationToken\" WHERE ");
    sdb_list_has(db, store_schema_column(t, "models"), NULL, 1, &q);
    cr_assert_not_null(buf_cstr(&q));
    cr_expect_str_eq(cell(q.p, (const char *[]){"claude \"x\""}, 1), "1");
    cr_expect_str_eq(cell(q.p, (const char *[]){"claude"}, 1), "0");
    buf_free(&q);

    /* NULL and [] stay apart in a list column */
    buf_t up = {0};
    buf_append_cstr(&up, "UPDATE \"LiteLLM_VerificationToken\" SET models = ");
    sdb_param(db, store_schema_column(t, "models"), 1, &up);
    buf_append_cstr(&up, ", allowed_routes = ");
    sdb_param(db, store_schema_column(t, "allowed_routes"), 2, &up);
    cr_assert_not_null(buf_cstr(&up));
    cr_assert_eq(sdb_exec(db, up.p, (const char *[]){NULL, "[\"/x\"]"}, 2), 1, "%s",
                 sdb_errmsg(db));
    buf_free(&up);
    buf_t rd = {0};
    buf_append_cstr(&rd, "SELECT ");
    sdb_select_column(db, store_schema_column(t, "models"), NULL, &rd);
    buf_append_cstr(&rd, ", ");
    sdb_select_column(db, store_schema_column(t, "allowed_routes"), NULL, &rd);
    buf_append_cstr(&rd, " FROM \"LiteLLM_VerificationToken\"");
    cr_assert_not_null(buf_cstr(&rd));
    r = sdb_query(db, rd.p, NULL, 0);
    buf_free(&rd);
    cr_assert_not_null(r, "%s", sdb_errmsg(db));
    cr_expect_null(sdb_res_get(r, 0, 0));
    cr_expect_str_eq(sdb_res_get(r, 0, 1), "[\"/x\"]");
    sdb_res_free(r);
}

BOTH(value_text_types)
{
    const store_table_t *t = store_schema_table("LiteLLM_TeamTable");
    static const struct {
        const char *col, *json, *want; /* want NULL: rejected */
    } cases[] = {
        {"team_alias", "\"x\"", "x"},
        {"team_alias", "5", NULL},
        {"max_budget", "2.5", "2.5"},
        {"max_budget", "\"2.5\"", NULL},
        {"tpm_limit", "100", "100"},
        {"tpm_limit", "1.5", NULL},
        {"max_parallel_requests", "3000000000", NULL}, /* INTEGER overflows */
        {"blocked", "true", "1"},
        {"blocked", "0", NULL},
        {"metadata", "{\"a\":1}", "{\"a\":1}"},
        {"models", "[\"a\",\"b\"]", "[\"a\",\"b\"]"},
        {"models", "[\"a\",1]", NULL},
        {"models", "\"a\"", NULL},
        {"budget_reset_at", "\"2026-01-02T03:04:05Z\"", "2026-01-02 03:04:05.000"},
        {"budget_reset_at", "\"2026-01-02\"", "2026-01-02 00:00:00.000"},
        {"budget_reset_at", "\"2026-01-02T03:04:05.5-01:30\"", "2026-01-02 04:34:05.500"},
        {"budget_reset_at", "\"tomorrow\"", NULL},
        {"budget_reset_at", "1767225600", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *v = cJSON_Parse(cases[i].json);
        bool bad = false;
        char *s = sdb_value_text(store_schema_column(t, cases[i].col), v, &bad);
        if (cases[i].want) {
            cr_expect(!bad, "%s %s", cases[i].col, cases[i].json);
            cr_expect_str_eq(s ? s : "(null)", cases[i].want, "%s %s", cases[i].col, cases[i].json);
        } else {
            cr_expect(bad, "%s %s accepted", cases[i].col, cases[i].json);
            cr_expect_null(s);
        }
        free(s);
        cJSON_Delete(v);
    }
    cJSON *null = cJSON_CreateNull();
    bool bad = true;
    cr_expect_null(sdb_value_text(store_schema_column(t, "models"), null, &bad));
    cr_expect(!bad);
    cJSON_Delete(null);
}

Test(sdb, times)
{
    long long ms;
    char out[40], st[24];
    cr_assert_eq(sdb_time_parse("2026-01-02T03:04:05.678000+00:00", &ms), 0);
    sdb_time_iso(ms, out);
    cr_expect_str_eq(out, "2026-01-02T03:04:05.678000+00:00");
    sdb_time_format(ms, st);
    cr_expect_str_eq(st, "2026-01-02 03:04:05.678");
    cr_assert_eq(sdb_time_parse("2026-01-02 03:04:05.678", &ms), 0);
    sdb_time_iso(ms, out);
    cr_expect_str_eq(out, "2026-01-02T03:04:05.678000+00:00");
    cr_assert_eq(sdb_time_parse("2026-01-02T00:30+01:00", &ms), 0);
    sdb_time_iso(ms, out);
    cr_expect_str_eq(out, "2026-01-01T23:30:00.000000+00:00");
    static const char *const bad[] = {
        "", "2026-1-02", "2026-01-02T", "2026-01-02T03:04:05x", "2026-13-01", "2026-01-02T03:04+0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(sdb_time_parse(bad[i], &ms), -1, "%s", bad[i]);
}

Test(sdb, reopen_keeps_rows)
{
    cr_assert_eq(sdb_exec(db, "INSERT INTO \"LiteLLM_UserTable\" (user_id) VALUES ($1)",
                          (const char *[]){"u1"}, 1),
                 1);
    sdb_close(db);
    char path[128], *err = NULL;
    snprintf(path, sizeof path, "%s/db.sqlite", tmpdir);
    db = sdb_open_sqlite(path, &err);
    cr_assert_not_null(db, "%s", err ? err : "");
    cr_expect_str_eq(cell("SELECT user_id FROM \"LiteLLM_UserTable\"", NULL, 0), "u1");
    cr_expect_null(sdb_open_sqlite("/nonexistent-dir/x/db.sqlite", &err));
    cr_expect_not_null(err);
    free(err);
}

Test(sdb_pg, reconnects_after_the_server_drops_it)
{
    char pid[32], sql[96];
    snprintf(pid, sizeof pid, "%s", cell("SELECT pg_backend_pid()", NULL, 0));
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%s)", pid);
    pg_harness_exec(pgc, sql);
    usleep(50 * 1000);
    cr_expect_str_eq(cell("SELECT 41 + 1", NULL, 0), "42");
    cr_expect_str_neq(cell("SELECT pg_backend_pid()", NULL, 0), pid);
}

Test(sdb_pg, litellm_database_left_alone)
{
    /* a database with LiteLLM_VerificationToken belongs to LiteLLM's migrations */
    sdb_close(db);
    db = NULL;
    PQfinish(pgc);
    pgc = pg_harness_fresh_db("t_sdb_pg_litellm_db");
    pg_harness_exec(pgc, "CREATE TABLE \"LiteLLM_VerificationToken\" (token TEXT PRIMARY KEY)");
    char ci[256], *err = NULL;
    pg_harness_conninfo("t_sdb_pg_litellm_db", ci, sizeof ci);
    db = sdb_open_pg(ci, &err);
    cr_assert_not_null(db, "%s", err ? err : "");
    cr_expect_str_eq(pg_harness_query1(pgc, "SELECT count(*) FROM pg_tables WHERE schemaname = "
                                            "'public'"),
                     "1");
}

Test(sdb_pg, refused_connection)
{
    char ci[128], *err = NULL;
    snprintf(ci, sizeof ci, "host=127.0.0.1 port=%d user=postgres connect_timeout=5",
             pg_harness_free_port());
    cr_expect_null(sdb_open_pg(ci, &err));
    cr_assert_not_null(err);
    cr_expect_not_null(strstr(err, "connect"), "%s", err);
    free(err);
}
