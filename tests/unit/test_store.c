/* SPDX-License-Identifier: MIT
 * store: the LiteLLM schema in both dialects, the SQLite back end (tables, spend batches, daily
 * upserts, key rows) and the outage spool (exactly-once replay, peek and commit, torn tails,
 * crashes). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "store/internal.h"
#include "store/schema.h"
#include "store/store.h"

/* ---- helpers --------------------------------------------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sluice-store-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
}

TestSuite(store, .init = make_tmpdir, .fini = remove_tmpdir);

static const char *tmp_path(const char *name)
{
    static char path[4][128];
    static int slot;
    char *p = path[slot++ % 4];
    snprintf(p, 128, "%s/%s", tmpdir, name);
    return p;
}

static char *ddl(store_dialect_t d)
{
    buf_t b = {0};
    cr_assert_eq(store_schema_ddl(d, &b), 0);
    cr_assert_not_null(buf_cstr(&b));
    return b.p; /* owned by the test; freed with free() */
}

static void expect_has(const char *text, const char *needle)
{
    cr_expect_not_null(strstr(text, needle), "missing: %s", needle);
}

/* A second connection to read what the store wrote. */
static sqlite3 *peek_open(const char *path)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    return db;
}

static double peek_double(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    int rc = sqlite3_step(s);
    double v = rc == SQLITE_ROW ? sqlite3_column_double(s, 0) : NAN;
    sqlite3_finalize(s);
    return v;
}

static long long peek_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    int rc = sqlite3_step(s);
    long long v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -999;
    sqlite3_finalize(s);
    return v;
}

static void peek_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &err), SQLITE_OK, "%s: %s", sql, err ? err : "");
}

static store_sqlite_t *open_db(const char *path)
{
    char *err = NULL;
    store_sqlite_t *db = store_sqlite_open(path, &err);
    cr_assert_not_null(db, "open: %s", err ? err : "?");
    return db;
}

#define T0 1767225600000LL /* 2026-01-01 00:00:00.000 UTC */

static store_spend_log_t mklog(const char *id, const char *key, const char *user, const char *team,
                               double spend, long long prompt, long long completion)
{
    store_spend_log_t l;
    store_spend_log_init(&l);
    l.request_id = id;
    l.call_type = "acompletion";
    l.api_key = key;
    l.user = user;
    l.team_id = team;
    l.spend = spend;
    l.prompt_tokens = prompt;
    l.completion_tokens = completion;
    l.total_tokens = prompt + completion;
    l.start_time = T0 + 1000;
    l.end_time = T0 + 1500;
    l.model = "gpt-4o";
    l.model_group = "gpt-4o";
    l.custom_llm_provider = "openai";
    l.status = "success";
    l.endpoint = "/v1/chat/completions";
    return l;
}

/* ---- schema ---------------------------------------------------------------------------------- */

static const char *const required_tables[] = {
    "LiteLLM_VerificationToken",
    "LiteLLM_UserTable",
    "LiteLLM_TeamTable",
    "LiteLLM_TeamMembership",
    "LiteLLM_OrganizationTable",
    "LiteLLM_BudgetTable",
    "LiteLLM_EndUserTable",
    "LiteLLM_SpendLogs",
    "LiteLLM_DailyUserSpend",
    "LiteLLM_DailyTeamSpend",
    "LiteLLM_DailyOrganizationSpend",
    "LiteLLM_DailyEndUserSpend",
    "LiteLLM_DailyTagSpend",
    "LiteLLM_DailyAgentSpend",
    "LiteLLM_ProxyModelTable",
};

Test(store, ddl_has_every_table_in_both_dialects)
{
    for (int d = 0; d < 2; d++) {
        char *s = ddl((store_dialect_t)d);
        for (size_t i = 0; i < sizeof required_tables / sizeof *required_tables; i++) {
            char want[128];
            snprintf(want, sizeof want, "CREATE TABLE IF NOT EXISTS \"%s\" (", required_tables[i]);
            expect_has(s, want);
            cr_expect_not_null(store_schema_table(required_tables[i]));
        }
        cr_expect_null(strstr(s, "ALTER"), "never ALTER");
        cr_expect_null(strstr(s, "DROP"), "never DROP");
        free(s);
    }
}

Test(store, ddl_postgres_matches_prisma)
{
    char *s = ddl(STORE_DIALECT_POSTGRES);
    const char *want[] = {
        /* keys */
        "\"token\" TEXT NOT NULL,",
        "\"key_name\" TEXT,",
        "\"key_alias\" TEXT,",
        "\"soft_budget_cooldown\" BOOLEAN NOT NULL DEFAULT false,",
        "\"spend\" DOUBLE PRECISION NOT NULL DEFAULT 0.0,",
        "\"expires\" TIMESTAMP(3),",
        "\"models\" TEXT[],",
        "\"aliases\" JSONB NOT NULL DEFAULT '{}',",
        "\"router_settings\" JSONB DEFAULT '{}',",
        "\"max_parallel_requests\" INTEGER,",
        "\"blocked\" BOOLEAN,",
        "\"tpm_limit\" BIGINT,",
        "\"rpm_limit\" BIGINT,",
        "\"max_budget\" DOUBLE PRECISION,",
        "\"budget_duration\" TEXT,",
        "\"budget_reset_at\" TIMESTAMP(3),",
        "\"allowed_cache_controls\" TEXT[] DEFAULT ARRAY[]::TEXT[],",
        "\"model_max_budget\" JSONB NOT NULL DEFAULT '{}',",
        "\"created_at\" TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP,",
        "\"rotation_count\" INTEGER DEFAULT 0,",
        "CONSTRAINT \"LiteLLM_VerificationToken_pkey\" PRIMARY KEY (\"token\")",
        "CREATE INDEX IF NOT EXISTS \"LiteLLM_VerificationToken_user_id_team_id_idx\" ON "
        "\"LiteLLM_VerificationToken\"(\"user_id\", \"team_id\");",
        "CREATE INDEX IF NOT EXISTS \"LiteLLM_VerificationToken_budget_reset_at_expires_idx\"",
        /* spend logs */
        "\"request_id\" TEXT NOT NULL,",
        "\"call_type\" TEXT NOT NULL,",
        "\"api_key\" TEXT NOT NULL DEFAULT '',",
        "\"total_tokens\" INTEGER NOT NULL DEFAULT 0,",
        "\"startTime\" TIMESTAMP(3) NOT NULL,",
        "\"endTime\" TIMESTAMP(3) NOT NULL,",
        "\"completionStartTime\" TIMESTAMP(3),",
        "\"request_duration_ms\" INTEGER,",
        "\"model\" TEXT NOT NULL DEFAULT '',",
        "\"model_id\" TEXT DEFAULT '',",
        "\"user\" TEXT DEFAULT '',",
        "\"metadata\" JSONB DEFAULT '{}',",
        "\"cache_hit\" TEXT DEFAULT '',",
        "\"request_tags\" JSONB DEFAULT '[]',",
        "\"end_user\" TEXT,",
        "\"mcp_namespaced_tool_name\" TEXT,",
        "\"proxy_server_request\" JSONB DEFAULT '{}'",
        "CONSTRAINT \"LiteLLM_SpendLogs_pkey\" PRIMARY KEY (\"request_id\")",
        "CREATE INDEX IF NOT EXISTS \"LiteLLM_SpendLogs_startTime_idx\" ON "
        "\"LiteLLM_SpendLogs\"(\"startTime\");",
        "\"LiteLLM_SpendLogs_startTime_request_id_idx\"",
        "\"LiteLLM_SpendLogs_api_key_startTime_idx\"",
        /* daily aggregates: Prisma's truncated unique-key names */
        "CREATE UNIQUE INDEX IF NOT EXISTS "
        "\"LiteLLM_DailyUserSpend_user_id_date_api_key_model_custom_ll_key\" ON "
        "\"LiteLLM_DailyUserSpend\"(\"user_id\", \"date\", \"api_key\", \"model\", "
        "\"custom_llm_provider\", \"mcp_namespaced_tool_name\", \"endpoint\");",
        "\"LiteLLM_DailyTeamSpend_team_id_date_api_key_model_custom_ll_key\"",
        "\"cache_creation_input_tokens\" BIGINT NOT NULL DEFAULT 0,",
        "\"successful_requests\" BIGINT NOT NULL DEFAULT 0,",
        "\"updated_at\" TIMESTAMP(3) NOT NULL,\n    CONSTRAINT \"LiteLLM_DailyUserSpend_pkey\"",
        "\"end_user_id\" TEXT,",
        "\"tag\" TEXT,",
        /* others */
        "CONSTRAINT \"LiteLLM_TeamMembership_pkey\" PRIMARY KEY (\"user_id\", \"team_id\")",
        "\"total_spend\" DOUBLE PRECISION NOT NULL DEFAULT 0.0,",
        "\"members_with_roles\" JSONB NOT NULL DEFAULT '{}',",
        "\"litellm_params\" JSONB NOT NULL,",
        "\"organization_alias\" TEXT NOT NULL,",
        "\"allowed_models\" TEXT[] DEFAULT ARRAY[]::TEXT[],",
        "\"allowed_model_region\" TEXT,",
        "CREATE UNIQUE INDEX IF NOT EXISTS \"LiteLLM_UserTable_sso_user_id_key\"",
        "CREATE UNIQUE INDEX IF NOT EXISTS \"LiteLLM_TeamTable_model_id_key\"",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        expect_has(s, want[i]);
    free(s);
}

Test(store, ddl_sqlite_types)
{
    char *s = ddl(STORE_DIALECT_SQLITE);
    const char *want[] = {
        "\"spend\" REAL NOT NULL DEFAULT 0.0,",
        "\"startTime\" TEXT NOT NULL,",
        "\"models\" TEXT,",
        "\"allowed_cache_controls\" TEXT DEFAULT '[]',",
        "\"blocked\" INTEGER NOT NULL DEFAULT 0,",
        "\"metadata\" TEXT NOT NULL DEFAULT '{}',",
        "\"tpm_limit\" INTEGER,",
        "\"created_at\" TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,",
        "PRIMARY KEY (\"request_id\")",
        "PRIMARY KEY (\"user_id\", \"team_id\")",
        "\"LiteLLM_DailyOrganizationSpend_organization_id_date_api_key_key\"",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        expect_has(s, want[i]);
    cr_expect_null(strstr(s, "JSONB"));
    cr_expect_null(strstr(s, "CONSTRAINT"));
    /* names stay within PostgreSQL's 63 bytes in both dialects */
    for (const char *p = s; (p = strstr(p, "INDEX IF NOT EXISTS \"")); p++) {
        const char *name = p + strlen("INDEX IF NOT EXISTS \"");
        cr_expect_leq((size_t)(strchr(name, '"') - name), 63u);
    }
    free(s);
}

Test(store, ddl_sqlite_script_runs_twice)
{
    char *s = ddl(STORE_DIALECT_SQLITE);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    peek_exec(db, s);
    peek_exec(db, s);
    cr_expect_eq(peek_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"),
                 (long long)store_schema_num_tables);
    sqlite3_close(db);
    free(s);
}

/* ---- SQLite: tables -------------------------------------------------------------------------- */

Test(store, open_creates_tables_and_reopens)
{
    const char *path = tmp_path("a.db");
    store_sqlite_close(open_db(path));
    store_sqlite_close(open_db(path)); /* second time: nothing to create, no error */
    sqlite3 *p = peek_open(path);
    for (size_t i = 0; i < sizeof required_tables / sizeof *required_tables; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE name = '%s'",
                 required_tables[i]);
        cr_expect_eq(peek_int(p, sql), 1, "%s", required_tables[i]);
    }
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM sqlite_master WHERE name = "
                             "'LiteLLM_DailyTagSpend_tag_date_api_key_model_custom_llm_pro_key'"),
                 1);
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(p, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    cr_expect_str_eq((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    sqlite3_close(p);
}

Test(store, existing_table_is_left_untouched)
{
    const char *path = tmp_path("b.db");
    const char *mine = "CREATE TABLE \"LiteLLM_TeamTable\" (team_id TEXT PRIMARY KEY, spend REAL, "
                       "my_extra_column TEXT)";
    sqlite3 *p = peek_open(path);
    peek_exec(p, mine);
    peek_exec(p, "INSERT INTO \"LiteLLM_TeamTable\" VALUES ('t1', 1.5, 'keep me')");
    sqlite3_close(p);

    store_sqlite_close(open_db(path));
    store_sqlite_close(open_db(path));

    p = peek_open(path);
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(p,
                                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND "
                                    "name = 'LiteLLM_TeamTable'",
                                    -1, &s, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    cr_expect_str_eq((const char *)sqlite3_column_text(s, 0), mine);
    sqlite3_finalize(s);
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                             "tbl_name = 'LiteLLM_TeamTable' AND sql IS NOT NULL"),
                 0, "no index added to an existing table");
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_TeamTable\" WHERE "
                             "my_extra_column = 'keep me' AND spend = 1.5"),
                 1);
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM sqlite_master WHERE name = "
                             "'LiteLLM_VerificationToken'"),
                 1, "absent tables are still created");
    sqlite3_close(p);
}

/* ---- SQLite: spend --------------------------------------------------------------------------- */

static void seed_entities(const char *path)
{
    sqlite3 *p = peek_open(path);
    peek_exec(p, "INSERT INTO \"LiteLLM_VerificationToken\" (token, spend) VALUES ('k1', 1.0), "
                 "('k2', 0)");
    peek_exec(p, "INSERT INTO \"LiteLLM_UserTable\" (user_id, spend) VALUES ('u1', 0), ('u2', 0)");
    peek_exec(p, "INSERT INTO \"LiteLLM_TeamTable\" (team_id, spend) VALUES ('t1', 10)");
    peek_exec(p, "INSERT INTO \"LiteLLM_TeamMembership\" (user_id, team_id) VALUES ('u1', 't1')");
    peek_exec(p, "INSERT INTO \"LiteLLM_OrganizationTable\" (organization_id, organization_alias,"
                 " budget_id, created_by, updated_by) VALUES ('o1', 'org', 'b1', 'x', 'x')");
    sqlite3_close(p);
}

Test(store, batch_spend_increments_and_daily_upserts)
{
    const char *path = tmp_path("c.db");
    store_sqlite_t *db = open_db(path);
    seed_entities(path);

    store_spend_log_t logs[5] = {
        mklog("r1", "k1", "u1", "t1", 0.25, 100, 10), mklog("r2", "k1", "u1", "t1", 0.50, 200, 20),
        mklog("r3", "k2", "u2", NULL, 1.00, 300, 30), mklog("r4", "k2", "u2", NULL, 2.00, 400, 40),
        mklog("r5", "k1", "u1", "t1", 4.00, 500, 50),
    };
    logs[0].organization_id = "o1";
    logs[1].organization_id = "o1";
    logs[2].end_user = "cust-9";
    logs[3].end_user = "cust-9";
    logs[3].status = "failure";
    logs[0].request_tags = "[\"prod\",\"team-a\"]";
    logs[1].request_tags = "[\"prod\"]";
    logs[4].model = "gpt-4o-mini"; /* another daily row */
    logs[4].cache_read_input_tokens = 7;

    store_batch_result_t r;
    cr_assert_eq(store_sqlite_write_batch(db, logs, 5, true, &r, NULL), 0, "%s",
                 store_sqlite_errmsg(db));
    cr_expect_eq(r.inserted, 5);
    cr_expect_eq(r.duplicates, 0);

    sqlite3 *p = peek_open(path);
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_SpendLogs\""), 5);
    cr_expect_float_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_VerificationToken\" WHERE "
                                      "token = 'k1'"),
                       1.0 + 0.25 + 0.5 + 4.0, 1e-9);
    cr_expect_float_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_VerificationToken\" WHERE "
                                      "token = 'k2'"),
                       3.0, 1e-9);
    cr_expect_float_eq(
        peek_double(p, "SELECT spend FROM \"LiteLLM_UserTable\" WHERE user_id = 'u1'"), 4.75, 1e-9);
    cr_expect_float_eq(
        peek_double(p, "SELECT spend FROM \"LiteLLM_UserTable\" WHERE user_id = 'u2'"), 3.0, 1e-9);
    cr_expect_float_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_TeamTable\""), 14.75, 1e-9);
    cr_expect_float_eq(peek_double(p, "SELECT spend + total_spend FROM \"LiteLLM_TeamMembership\""),
                       9.5, 1e-9);
    cr_expect_float_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_OrganizationTable\""), 0.75,
                       1e-9);
    cr_expect_float_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_EndUserTable\" WHERE user_id "
                                      "= 'cust-9'"),
                       3.0, 1e-9);

    /* daily: u1 has two model rows; u2 one row with a failure counted */
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_DailyUserSpend\""), 3);
    cr_expect_eq(peek_int(p, "SELECT prompt_tokens FROM \"LiteLLM_DailyUserSpend\" WHERE user_id "
                             "= 'u1' AND model = 'gpt-4o' AND date = '2026-01-01'"),
                 300);
    cr_expect_eq(peek_int(p, "SELECT api_requests * 100 + successful_requests * 10 + "
                             "failed_requests FROM \"LiteLLM_DailyUserSpend\" WHERE user_id = "
                             "'u2'"),
                 211);
    cr_expect_eq(peek_int(p, "SELECT cache_read_input_tokens FROM \"LiteLLM_DailyUserSpend\" "
                             "WHERE model = 'gpt-4o-mini'"),
                 7);
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_DailyUserSpend\" WHERE "
                             "endpoint = '/v1/chat/completions' AND custom_llm_provider = "
                             "'openai' AND mcp_namespaced_tool_name = '' AND id LIKE "
                             "'________-____-4___-____-____________' AND updated_at IS NOT NULL"),
                 3);
    cr_expect_float_eq(peek_double(p, "SELECT sum(spend) FROM \"LiteLLM_DailyTeamSpend\""), 4.75,
                       1e-9);
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_DailyTeamSpend\""), 2);
    cr_expect_float_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_DailyOrganizationSpend\""), 0.75,
                       1e-9);
    cr_expect_float_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_DailyEndUserSpend\" WHERE "
                                      "end_user_id = 'cust-9'"),
                       3.0, 1e-9);
    cr_expect_float_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_DailyTagSpend\" WHERE tag = "
                                      "'prod'"),
                       0.75, 1e-9);
    cr_expect_eq(peek_int(p, "SELECT api_requests FROM \"LiteLLM_DailyTagSpend\" WHERE tag = "
                             "'team-a'"),
                 1);

    /* a second batch adds to the same rows */
    store_spend_log_t more[1] = {mklog("r6", "k1", "u1", "t1", 1.0, 1, 1)};
    cr_assert_eq(store_sqlite_write_batch(db, more, 1, true, &r, NULL), 0);
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_DailyUserSpend\""), 3);
    cr_expect_eq(peek_int(p, "SELECT prompt_tokens FROM \"LiteLLM_DailyUserSpend\" WHERE user_id "
                             "= 'u1' AND model = 'gpt-4o'"),
                 301);
    cr_expect_float_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_VerificationToken\" WHERE "
                                      "token = 'k1'"),
                       6.75, 1e-9);

    /* the SpendLogs row as LiteLLM fills it */
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_SpendLogs\" WHERE request_id = 'r1' "
                             "AND \"startTime\" = '2026-01-01 00:00:01.000' AND \"endTime\" = "
                             "'2026-01-01 00:00:01.500' AND metadata = '{}' AND model_id = '' "
                             "AND cache_hit = '' AND request_tags = '[\"prod\",\"team-a\"]' AND "
                             "\"user\" = 'u1' AND \"completionStartTime\" IS NULL AND total_tokens "
                             "= 110"),
                 1);
    sqlite3_close(p);
    store_sqlite_close(db);
}

Test(store, batch_replayed_is_not_counted_twice)
{
    const char *path = tmp_path("d.db");
    store_sqlite_t *db = open_db(path);
    seed_entities(path);
    store_spend_log_t logs[2] = {mklog("r1", "k1", "u1", "t1", 1.0, 1, 1),
                                 mklog("r2", "k1", "u1", "t1", 2.0, 1, 1)};
    store_batch_result_t r;
    cr_assert_eq(store_sqlite_write_batch(db, logs, 2, true, &r, NULL), 0);
    cr_assert_eq(store_sqlite_write_batch(db, logs, 2, true, &r, NULL), 0);
    cr_expect_eq(r.inserted, 0);
    cr_expect_eq(r.duplicates, 2);
    /* a batch that overlaps: only the new record counts */
    store_spend_log_t mixed[2] = {logs[1], mklog("r3", "k1", "u1", "t1", 4.0, 1, 1)};
    cr_assert_eq(store_sqlite_write_batch(db, mixed, 2, true, &r, NULL), 0);
    cr_expect_eq(r.inserted, 1);
    cr_expect_eq(r.duplicates, 1);
    sqlite3 *p = peek_open(path);
    cr_expect_float_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_VerificationToken\" WHERE "
                                      "token = 'k1'"),
                       8.0, 1e-9);
    cr_expect_eq(peek_int(p, "SELECT api_requests FROM \"LiteLLM_DailyUserSpend\""), 3);
    sqlite3_close(p);
    store_sqlite_close(db);
}

/* model_spend[model] of key `token` as a REAL (NAN when absent); json_each, because a JSON path
 * cannot name a model holding a '"'. */
static double peek_model_spend(sqlite3 *p, const char *token, const char *model)
{
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(p,
                                    "SELECT e.value FROM \"LiteLLM_VerificationToken\" k, "
                                    "json_each(k.model_spend) e WHERE k.token = ?1 AND e.key = ?2",
                                    -1, &s, NULL),
                 SQLITE_OK);
    sqlite3_bind_text(s, 1, token, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, model, -1, SQLITE_STATIC);
    double v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_double(s, 0) : NAN;
    sqlite3_finalize(s);
    return v;
}

#define ODD_MODEL "openai/gpt-4.1 \"mini\"" /* a dot, a slash and quotes */

Test(store, batch_adds_model_spend_once)
{
    const char *path = tmp_path("ms.db");
    store_sqlite_t *db = open_db(path);
    seed_entities(path);
    sqlite3 *p = peek_open(path);
    peek_exec(p, "UPDATE \"LiteLLM_VerificationToken\" SET model_spend = '{\"gpt-4o\": 1.5, "
                 "\"x\": \"text\"}' WHERE token = 'k1'");
    peek_exec(p, "UPDATE \"LiteLLM_VerificationToken\" SET model_spend = 'not json' WHERE token = "
                 "'k2'");

    store_spend_log_t logs[6] = {
        mklog("m1", "k1", "u1", "t1", 0.1, 1, 1),  mklog("m2", "k1", "u1", "t1", 0.2, 1, 1),
        mklog("m3", "k1", "u1", "t1", 0.25, 1, 1), mklog("m4", "k2", "u2", NULL, 2.0, 1, 1),
        mklog("m5", "k2", "u2", NULL, 0, 1, 1),    mklog("m6", "k2", "u2", NULL, 4.0, 1, 1),
    };
    logs[2].model_group = ODD_MODEL;
    logs[4].model_group = "free-model"; /* costs nothing: no entry */
    logs[5].model_group = NULL;         /* routed nowhere: no model to charge */
    store_batch_result_t r;
    cr_assert_eq(store_sqlite_write_batch(db, logs, 6, true, &r, NULL), 0, "%s",
                 store_sqlite_errmsg(db));
    /* summed per (key, model) in the batch, added to what the row held, to the last bit */
    cr_expect_eq(peek_model_spend(p, "k1", "gpt-4o"), 1.5 + (0.1 + 0.2));
    cr_expect_eq(peek_model_spend(p, "k1", ODD_MODEL), 0.25);
    cr_expect_eq(peek_int(p, "SELECT json_extract(model_spend, '$.x') = 'text' FROM "
                             "\"LiteLLM_VerificationToken\" WHERE token = 'k1'"),
                 1, "the other entries are kept");
    /* a model_spend that is not JSON starts again from {} */
    cr_expect_eq(peek_model_spend(p, "k2", "gpt-4o"), 2.0);
    cr_expect(isnan(peek_model_spend(p, "k2", "free-model")));
    cr_expect_eq(peek_int(p, "SELECT json_type(model_spend) = 'object' AND "
                             "(SELECT count(*) FROM json_each(model_spend)) = 1 FROM "
                             "\"LiteLLM_VerificationToken\" WHERE token = 'k2'"),
                 1);

    /* replayed (a spool after a crash): nothing doubles; overlapping: only the new one counts */
    cr_assert_eq(store_sqlite_write_batch(db, logs, 6, true, &r, NULL), 0);
    cr_expect_eq(r.duplicates, 6);
    store_spend_log_t mixed[2] = {logs[2], mklog("m7", "k1", "u1", "t1", 0.5, 1, 1)};
    mixed[1].model_group = ODD_MODEL;
    cr_assert_eq(store_sqlite_write_batch(db, mixed, 2, true, &r, NULL), 0);
    cr_expect_eq(r.inserted, 1);
    cr_expect_eq(peek_model_spend(p, "k1", "gpt-4o"), 1.5 + (0.1 + 0.2));
    cr_expect_eq(peek_model_spend(p, "k1", ODD_MODEL), 0.75);
    cr_expect_eq(peek_model_spend(p, "k2", "gpt-4o"), 2.0);

    /* the statement on its own: a key that does not exist changes nothing */
    cr_expect_eq(store_sqlite_add_spend(db, STORE_ENTITY_KEY_MODEL, "nope", "gpt-4o", 1), 0);
    cr_expect_eq(store_sqlite_add_spend(db, STORE_ENTITY_KEY_MODEL, "k2", NULL, 1), -1, "no model");
    sqlite3_close(p);
    store_sqlite_close(db);
}

Test(store, batch_without_spend_logs)
{
    const char *path = tmp_path("e.db");
    store_sqlite_t *db = open_db(path);
    seed_entities(path);
    store_spend_log_t logs[1] = {mklog("r1", "k2", NULL, NULL, 1.5, 1, 1)};
    cr_assert_eq(store_sqlite_write_batch(db, logs, 1, false, NULL, NULL), 0);
    sqlite3 *p = peek_open(path);
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_SpendLogs\""), 0);
    cr_expect_float_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_VerificationToken\" WHERE "
                                      "token = 'k2'"),
                       1.5, 1e-9);
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_DailyUserSpend\" WHERE user_id IS "
                             "NULL"),
                 1);
    sqlite3_close(p);
    store_sqlite_close(db);
}

Test(store, daily_upsert_conflict_and_null_entity)
{
    const char *path = tmp_path("f.db");
    store_sqlite_t *db = open_db(path);
    store_daily_delta_t d = {.entity_id = "u1",
                             .date = "2026-01-02",
                             .api_key = "k1",
                             .model = "m",
                             .spend = 0.5,
                             .prompt_tokens = 3,
                             .api_requests = 1,
                             .successful_requests = 1};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(store_sqlite_upsert_daily(db, STORE_DAILY_USER, &d), 0, "%s",
                     store_sqlite_errmsg(db));
    d.entity_id = NULL;
    for (int i = 0; i < 2; i++)
        cr_assert_eq(store_sqlite_upsert_daily(db, STORE_DAILY_USER, &d), 0);
    d.entity_id = "t1";
    cr_assert_eq(store_sqlite_upsert_daily(db, STORE_DAILY_TEAM, &d), 0);
    sqlite3 *p = peek_open(path);
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_DailyUserSpend\""), 2);
    cr_expect_eq(peek_int(p, "SELECT prompt_tokens FROM \"LiteLLM_DailyUserSpend\" WHERE user_id "
                             "= 'u1'"),
                 9);
    cr_expect_float_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_DailyUserSpend\" WHERE user_id "
                                      "IS NULL"),
                       1.0, 1e-9);
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_DailyTeamSpend\""), 1);
    sqlite3_close(p);
    /* spend on a missing row changes nothing; a missing end user is created */
    cr_expect_eq(store_sqlite_add_spend(db, STORE_ENTITY_TEAM, "nope", NULL, 1.0), 0);
    cr_expect_eq(store_sqlite_add_spend(db, STORE_ENTITY_END_USER, "c1", NULL, 1.0), 1);
    cr_expect_eq(store_sqlite_add_spend(db, STORE_ENTITY_END_USER, "c1", NULL, 1.0), 1);
    p = peek_open(path);
    cr_expect_float_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_EndUserTable\""), 2.0, 1e-9);
    sqlite3_close(p);
    store_sqlite_close(db);
}

/* ---- SQLite: keys ---------------------------------------------------------------------------- */

Test(store, key_row_round_trip)
{
    store_sqlite_t *db = open_db(tmp_path("g.db"));
    store_key_t k;
    store_key_init(&k);
    k.token = strdup("d5fb789e0000000000000000000000000000000000000000000000000000cdefc5");
    k.key_name = strdup("sk-...1RA");
    k.key_alias = strdup("ci key");
    k.spend = 0.5;
    k.max_budget = 10.0;
    k.expires = T0 + 86400000;
    store_strlist_push(&k.models, "gpt-4o");
    store_strlist_push(&k.models, "anthropic/*");
    k.metadata = strdup("{\"env\":\"ci\"}");
    k.model_max_budget = strdup("{\"gpt-4o\":{\"budget_limit\":1}}");
    k.user_id = strdup("u1");
    k.team_id = strdup("t1");
    k.blocked = 0;
    k.budget_duration = strdup("30d");
    k.budget_reset_at = T0 + 30LL * 86400000;
    k.tpm_limit = 1000;
    k.rpm_limit = 60;
    k.max_parallel_requests = 4;
    cr_assert_eq(store_sqlite_key_insert(db, &k), 0, "%s", store_sqlite_errmsg(db));
    cr_expect_eq(store_sqlite_key_insert(db, &k), 1, "duplicate token");

    store_key_t got;
    cr_assert_eq(store_sqlite_key_get(db, k.token, &got), 0, "%s", store_sqlite_errmsg(db));
    cr_expect_str_eq(got.token, k.token);
    cr_expect_str_eq(got.key_name, "sk-...1RA");
    cr_expect_str_eq(got.key_alias, "ci key");
    cr_expect_float_eq(got.spend, 0.5, 1e-12);
    cr_expect_float_eq(got.max_budget, 10.0, 1e-12);
    cr_expect_eq(got.expires, k.expires);
    cr_assert_eq(got.models.n, 2);
    cr_expect_str_eq(got.models.v[1], "anthropic/*");
    cr_expect_str_eq(got.metadata, "{\"env\":\"ci\"}");
    cr_expect_str_eq(got.model_max_budget, "{\"gpt-4o\":{\"budget_limit\":1}}");
    cr_expect_str_eq(got.aliases, "{}", "NOT NULL JSON gets its default");
    cr_expect_str_eq(got.user_id, "u1");
    cr_expect_str_eq(got.team_id, "t1");
    cr_expect_eq(got.blocked, 0);
    cr_expect_str_eq(got.budget_duration, "30d");
    cr_expect_eq(got.budget_reset_at, k.budget_reset_at);
    cr_expect_eq(got.tpm_limit, 1000);
    cr_expect_eq(got.rpm_limit, 60);
    cr_expect_eq(got.max_parallel_requests, 4);
    cr_expect_null(got.organization_id);
    cr_expect_eq(got.last_active, STORE_TIME_NULL);
    cr_expect_neq(got.created_at, STORE_TIME_NULL, "created_at defaults to now");
    cr_expect_eq(got.allowed_routes.n, 0);
    store_key_free(&got);

    /* update: spend and model_spend are never overwritten, NULLs clear */
    cr_assert_eq(store_sqlite_add_spend(db, STORE_ENTITY_KEY, k.token, NULL, 2.0), 1);
    cr_assert_eq(store_sqlite_add_spend(db, STORE_ENTITY_KEY_MODEL, k.token, "gpt-4o", 0.5), 1);
    free(k.key_alias);
    k.key_alias = strdup("renamed");
    k.blocked = 1;
    k.max_budget = NAN;
    k.tpm_limit = STORE_INT_NULL;
    k.spend = 999;
    store_strlist_free(&k.models);
    cr_assert_eq(store_sqlite_key_update(db, &k), 0, "%s", store_sqlite_errmsg(db));
    cr_assert_eq(store_sqlite_key_get(db, k.token, &got), 0);
    cr_expect_str_eq(got.key_alias, "renamed");
    cr_expect_eq(got.blocked, 1);
    cr_expect(isnan(got.max_budget));
    cr_expect_eq(got.tpm_limit, STORE_INT_NULL);
    cr_expect_float_eq(got.spend, 2.5, 1e-12);
    cr_expect_str_eq(got.model_spend, "{\"gpt-4o\":0.5}");
    cr_expect_eq(got.models.n, 0);
    store_key_free(&got);

    cr_expect_eq(store_sqlite_key_delete(db, k.token), 0);
    cr_expect_eq(store_sqlite_key_delete(db, k.token), 1);
    cr_expect_eq(store_sqlite_key_get(db, k.token, &got), 1);
    cr_expect_eq(store_sqlite_key_update(db, &k), 1);
    store_key_free(&k);
    store_sqlite_close(db);
}

Test(store, time_format_and_parse)
{
    char t[24];
    store_time_format(T0 + 1234, t);
    cr_expect_str_eq(t, "2026-01-01 00:00:01.234");
    cr_expect_eq(store_time_parse(t), T0 + 1234);
    cr_expect_eq(store_time_parse("2026-01-01T00:00:01.5Z"), T0 + 1500);
    cr_expect_eq(store_time_parse("2026-01-01 00:00:01"), T0 + 1000);
    cr_expect_eq(store_time_parse("yesterday"), STORE_TIME_NULL);
    char d[11];
    store_date_format(T0 - 1, d);
    cr_expect_str_eq(d, "2025-12-31");
    cr_expect_eq(store_crc32(0, "123456789", 9), 0xCBF43926u);
}

/* ---- spool ----------------------------------------------------------------------------------- */

typedef struct {
    store_sqlite_t *db;
    size_t calls, records;
    char ids[64][16];
    int crash_after_commit; /* _exit(0) after committing, before the cursor moves */
} replay_t;

static int replay_into_db(void *arg, const store_spend_log_t *logs, size_t n)
{
    replay_t *r = arg;
    for (size_t i = 0; i < n && r->records < 64; i++)
        snprintf(r->ids[r->records + i], 16, "%s", logs[i].request_id);
    if (store_sqlite_write_batch(r->db, logs, n, true, NULL, NULL) < 0)
        return -1;
    r->calls++;
    r->records += n;
    if (r->crash_after_commit)
        _exit(0);
    return 0;
}

static void spool_n(store_spool_t *sp, int from, int n)
{
    store_spend_log_t logs[16];
    char ids[16][16];
    for (int i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "s%d", from + i);
        logs[i] = mklog(ids[i], "k1", "u1", NULL, 1.0, 10, 1);
    }
    cr_assert_eq(store_spool_append(sp, logs, (size_t)n), 0);
}

Test(store, spool_record_round_trip)
{
    store_spool_t *sp = store_spool_open(tmp_path("rt.spool"));
    cr_assert_not_null(sp);
    store_spend_log_t l = mklog("req-\"quoted\"", "k1", "u1", "t1", 0.1 + 0.2, 7, 8);
    l.metadata = "{\"a\":[1,2]}";
    l.completion_start_time = T0 + 1200;
    l.cache_creation_input_tokens = 9;
    cr_assert_eq(store_spool_append(sp, &l, 1), 0);
    store_sqlite_t *db = open_db(tmp_path("rt.db"));
    replay_t r = {.db = db};
    cr_assert_eq(store_spool_replay(sp, 10, replay_into_db, &r), 1);
    sqlite3 *p = peek_open(tmp_path("rt.db"));
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_SpendLogs\" WHERE request_id = "
                             "'req-\"quoted\"' AND metadata = '{\"a\":[1,2]}' AND "
                             "\"completionStartTime\" = '2026-01-01 00:00:01.200' AND team_id = "
                             "'t1' AND prompt_tokens = 7 AND request_duration_ms IS NULL"),
                 1);
    cr_expect_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_SpendLogs\""), 0.1 + 0.2,
                 "doubles survive the spool exactly");
    cr_expect_eq(peek_int(p, "SELECT cache_creation_input_tokens FROM "
                             "\"LiteLLM_DailyUserSpend\""),
                 9);
    sqlite3_close(p);
    store_sqlite_close(db);
    store_spool_close(sp);
}

Test(store, spool_peek_and_commit)
{
    const char *path = tmp_path("peek.spool");
    store_spool_t *sp = store_spool_open(path);
    cr_assert_not_null(sp);
    store_spool_batch_t b;
    cr_assert_eq(store_spool_peek(sp, 10, &b), 0);
    cr_assert_eq(b.n, 0, "nothing pending");
    store_spool_batch_free(&b);
    store_spend_log_t logs[3] = {mklog("p1", "k", "u", "t", 1, 1, 1),
                                 mklog("p2", "k", "u", "t", 2, 1, 1),
                                 mklog("p3", "k", "u", "t", 3, 1, 1)};
    cr_assert_eq(store_spool_append(sp, logs, 3), 0);
    unsigned long long end = store_spool_end(sp);
    /* a peek does not move the cursor: the same records come again */
    cr_assert_eq(store_spool_peek(sp, 2, &b), 0);
    cr_assert_eq(b.n, 2);
    cr_assert_str_eq(b.logs[1].request_id, "p2");
    cr_assert_eq(b.offsets[0], 0);
    cr_assert_gt(b.offsets[1], 0);
    store_spool_batch_free(&b);
    cr_assert_eq(store_spool_peek(sp, 2, &b), 0);
    cr_assert_str_eq(b.logs[0].request_id, "p1");
    cr_assert_eq(store_spool_pending(sp), end);
    /* a commit does, durably: a reopened spool starts after it */
    cr_assert_eq(store_spool_commit(sp, &b), 0);
    cr_assert_lt(store_spool_pending(sp), end);
    store_spool_batch_free(&b);
    store_spool_close(sp);
    sp = store_spool_open(path);
    cr_assert_eq(store_spool_peek(sp, 10, &b), 0);
    cr_assert_eq(b.n, 1);
    cr_assert_str_eq(b.logs[0].request_id, "p3");
    cr_assert_float_eq(b.logs[0].spend, 3, 1e-12);
    cr_assert_eq(b.next, end);
    cr_assert_eq(store_spool_commit(sp, &b), 0);
    store_spool_batch_free(&b);
    cr_assert_eq(store_spool_pending(sp), 0);
    store_spool_close(sp);
}

Test(store, spool_replays_in_order_exactly_once)
{
    const char *path = tmp_path("x.spool");
    store_spool_t *sp = store_spool_open(path);
    cr_assert_not_null(sp);
    spool_n(sp, 0, 3);
    spool_n(sp, 3, 4);
    cr_expect_gt(store_spool_pending(sp), 0);
    store_sqlite_t *db = open_db(tmp_path("x.db"));
    seed_entities(tmp_path("x.db"));
    replay_t r = {.db = db};
    cr_assert_eq(store_spool_replay(sp, 3, replay_into_db, &r), 7);
    cr_expect_eq(r.calls, 3, "batches of 3, 3, 1");
    for (int i = 0; i < 7; i++) {
        char want[16];
        snprintf(want, sizeof want, "s%d", i);
        cr_expect_str_eq(r.ids[i], want);
    }
    cr_expect_eq(store_spool_pending(sp), 0);
    cr_expect_eq(store_spool_replay(sp, 3, replay_into_db, &r), 0, "nothing twice");
    store_spool_close(sp);
    /* reopened: the cursor persisted */
    sp = store_spool_open(path);
    cr_assert_not_null(sp);
    cr_expect_eq(store_spool_replay(sp, 3, replay_into_db, &r), 0);
    spool_n(sp, 7, 1);
    cr_expect_eq(store_spool_replay(sp, 3, replay_into_db, &r), 1);
    cr_expect_str_eq(r.ids[7], "s7");
    cr_assert_eq(store_spool_truncate(sp), 0);
    cr_expect_eq(store_spool_pending(sp), 0);
    spool_n(sp, 8, 2);
    cr_expect_eq(store_spool_replay(sp, 3, replay_into_db, &r), 2);
    store_spool_close(sp);
    sqlite3 *p = peek_open(tmp_path("x.db"));
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_SpendLogs\""), 10);
    cr_expect_float_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_VerificationToken\" WHERE "
                                      "token = 'k1'"),
                       11.0, 1e-9);
    sqlite3_close(p);
    store_sqlite_close(db);
}

static void append_bytes(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, p, n), (ssize_t)n);
    close(fd);
}

Test(store, spool_ignores_torn_tail)
{
    const char *path = tmp_path("t.spool");
    store_spool_t *sp = store_spool_open(path);
    cr_assert_not_null(sp);
    spool_n(sp, 0, 3);
    store_spool_close(sp);
    /* a crash mid-append: a header announcing 200 bytes, and 5 of them */
    unsigned char torn[] = {'S', 'P', 'L', '1', 200, 0, 0, 0, 1, 2, 3, 4, '{', '"', 'r', 'e', 'q'};
    append_bytes(path, torn, sizeof torn);

    sp = store_spool_open(path);
    cr_assert_not_null(sp);
    store_sqlite_t *db = open_db(tmp_path("t.db"));
    replay_t r = {.db = db};
    cr_expect_eq(store_spool_replay(sp, 10, replay_into_db, &r), 3);
    /* appends after the cut tail are found */
    spool_n(sp, 3, 2);
    cr_expect_eq(store_spool_replay(sp, 10, replay_into_db, &r), 2);
    store_spool_close(sp);

    /* a whole-length record whose checksum fails is a torn tail too */
    sp = store_spool_open(path);
    spool_n(sp, 5, 1);
    store_spool_close(sp);
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    fseek(f, -3, SEEK_END);
    fputc('X', f);
    fclose(f);
    sp = store_spool_open(path);
    cr_expect_eq(store_spool_pending(sp), 0);
    cr_expect_eq(store_spool_replay(sp, 10, replay_into_db, &r), 0);
    store_spool_close(sp);
    sqlite3 *p = peek_open(tmp_path("t.db"));
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_SpendLogs\""), 5);
    sqlite3_close(p);
    store_sqlite_close(db);
}

Test(store, spool_crash_between_commit_and_cursor)
{
    const char *spool = tmp_path("c.spool");
    const char *dbpath = tmp_path("c.db");
    store_sqlite_close(open_db(dbpath));
    seed_entities(dbpath);
    store_spool_t *sp = store_spool_open(spool);
    cr_assert_not_null(sp);
    spool_n(sp, 0, 4);
    store_spool_close(sp);

    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) { /* commits the first batch, then dies before the cursor moves */
        store_spool_t *csp = store_spool_open(spool);
        replay_t cr = {.db = open_db(dbpath), .crash_after_commit = 1};
        store_spool_replay(csp, 2, replay_into_db, &cr);
        _exit(3); /* not reached */
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    sqlite3 *p = peek_open(dbpath);
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_SpendLogs\""), 2, "batch 1 committed");

    sp = store_spool_open(spool);
    cr_assert_not_null(sp);
    cr_expect_gt(store_spool_pending(sp), 0);
    store_sqlite_t *db = open_db(dbpath);
    replay_t r = {.db = db};
    cr_expect_eq(store_spool_replay(sp, 2, replay_into_db, &r), 4, "batch 1 is offered again");
    cr_expect_eq(peek_int(p, "SELECT count(*) FROM \"LiteLLM_SpendLogs\""), 4);
    cr_expect_float_eq(peek_double(p, "SELECT spend FROM \"LiteLLM_VerificationToken\" WHERE "
                                      "token = 'k1'"),
                       1.0 + 4.0, 1e-9, "each record's spend counted once");
    cr_expect_eq(peek_int(p, "SELECT api_requests FROM \"LiteLLM_DailyUserSpend\""), 4);
    sqlite3_close(p);
    store_sqlite_close(db);
    store_spool_close(sp);
}

static int refuse_second(void *arg, const store_spend_log_t *logs, size_t n)
{
    replay_t *r = arg;
    if (r->calls == 1)
        return -1; /* the database went away again */
    return replay_into_db(arg, logs, n);
}

Test(store, spool_stops_when_the_database_refuses)
{
    store_spool_t *sp = store_spool_open(tmp_path("s.spool"));
    cr_assert_not_null(sp);
    spool_n(sp, 0, 5);
    unsigned long long all = store_spool_pending(sp);
    store_sqlite_t *db = open_db(tmp_path("s.db"));
    replay_t r = {.db = db};
    cr_expect_eq(store_spool_replay(sp, 2, refuse_second, &r), -1);
    cr_expect_eq(r.records, 2);
    cr_expect(store_spool_pending(sp) > 0 && store_spool_pending(sp) < all);
    cr_expect_eq(store_spool_replay(sp, 2, replay_into_db, &r), 3);
    cr_expect_str_eq(r.ids[2], "s2");
    cr_expect_str_eq(r.ids[4], "s4");
    store_spool_close(sp);
    store_sqlite_close(db);
}

Test(store, end_user_with_its_budget_row)
{
    const char *path = tmp_path("eu.db");
    store_sqlite_t *db = open_db(path);
    sqlite3 *p = peek_open(path);
    peek_exec(p, "INSERT INTO \"LiteLLM_BudgetTable\" (\"budget_id\", \"max_budget\", "
                 "\"rpm_limit\", \"max_parallel_requests\", \"created_by\", \"updated_by\") "
                 "VALUES ('b1', 2.5, 7, 2, 'x', 'x')");
    peek_exec(p, "INSERT INTO \"LiteLLM_EndUserTable\" (\"user_id\", \"spend\", \"budget_id\", "
                 "\"blocked\") VALUES ('cust', 0.25, 'b1', 1)");
    peek_exec(p, "INSERT INTO \"LiteLLM_EndUserTable\" (\"user_id\") VALUES ('plain')");
    sqlite3_close(p);
    store_end_user_t e;
    cr_assert_eq(store_sqlite_end_user_get(db, "cust", NULL, &e), 0, "%s", store_sqlite_errmsg(db));
    cr_expect_str_eq(e.user_id, "cust");
    cr_expect_float_eq(e.spend, 0.25, 1e-12);
    cr_expect(e.blocked);
    cr_expect_float_eq(e.max_budget, 2.5, 1e-12);
    cr_expect_eq(e.rpm_limit, 7);
    cr_expect_eq(e.tpm_limit, STORE_INT_NULL);
    cr_expect_eq(e.max_parallel_requests, 2);
    store_end_user_free(&e);
    cr_assert_eq(store_sqlite_end_user_get(db, "plain", NULL, &e), 0);
    cr_expect(!e.blocked);
    cr_expect(isnan(e.max_budget), "no budget row");
    cr_expect_eq(e.rpm_limit, STORE_INT_NULL);
    cr_expect_eq(e.max_parallel_requests, STORE_INT_NULL);
    store_end_user_free(&e);
    cr_expect_eq(store_sqlite_end_user_get(db, "nobody", NULL, &e), 1);
    store_end_user_free(&e);
    store_sqlite_close(db);
}

/* litellm_settings.max_end_user_budget_id: end users without a budget row of their own get the
 * default's; one with its own keeps it; an unknown default budget changes nothing. */
Test(store, end_user_default_budget)
{
    const char *path = tmp_path("eud.db");
    store_sqlite_t *db = open_db(path);
    sqlite3 *p = peek_open(path);
    peek_exec(p,
              "INSERT INTO \"LiteLLM_BudgetTable\" (\"budget_id\", \"max_budget\", "
              "\"rpm_limit\", \"tpm_limit\", \"max_parallel_requests\", \"created_by\", "
              "\"updated_by\") VALUES ('own', 2.5, 7, NULL, NULL, 'x', 'x'), ('dflt', 0.5, 3, 99, "
              "1, 'x', 'x')");
    peek_exec(p, "INSERT INTO \"LiteLLM_EndUserTable\" (\"user_id\", \"budget_id\") VALUES "
                 "('cust', 'own'), ('plain', NULL), ('dangling', 'gone')");
    sqlite3_close(p);
    store_end_user_t e;
    cr_assert_eq(store_sqlite_end_user_get(db, "plain", "dflt", &e), 0, "%s",
                 store_sqlite_errmsg(db));
    cr_expect_float_eq(e.max_budget, 0.5, 1e-12);
    cr_expect_eq(e.rpm_limit, 3);
    cr_expect_eq(e.tpm_limit, 99);
    cr_expect_eq(e.max_parallel_requests, 1);
    store_end_user_free(&e);
    cr_assert_eq(store_sqlite_end_user_get(db, "dangling", "dflt", &e), 0);
    cr_expect_float_eq(e.max_budget, 0.5, 1e-12, "a budget_id naming no row: the default");
    store_end_user_free(&e);
    cr_assert_eq(store_sqlite_end_user_get(db, "cust", "dflt", &e), 0);
    cr_expect_float_eq(e.max_budget, 2.5, 1e-12, "its own row wins");
    cr_expect_eq(e.rpm_limit, 7);
    cr_expect_eq(e.tpm_limit, STORE_INT_NULL, "no field of the default leaks into its own row");
    cr_expect_eq(e.max_parallel_requests, STORE_INT_NULL);
    store_end_user_free(&e);
    cr_assert_eq(store_sqlite_end_user_get(db, "plain", "missing", &e), 0);
    cr_expect(isnan(e.max_budget));
    store_end_user_free(&e);
    cr_assert_eq(store_sqlite_end_user_get(db, "plain", NULL, &e), 0);
    cr_expect(isnan(e.max_budget), "no default configured");
    store_end_user_free(&e);
    cr_expect_eq(store_sqlite_end_user_get(db, "nobody", "dflt", &e), 1,
                 "an end user not in the table has no budget, as LiteLLM");
    store_end_user_free(&e);
    store_sqlite_close(db);
}
