/* SPDX-License-Identifier: MIT
 * The PostgreSQL back end: one libpq connection driven without blocking, so the store thread can
 * watch its socket with a uv_poll handle. A small state machine (connecting, ready, busy, broken)
 * advances on store_pg_on_readable / store_pg_on_writable; every operation is a pipeline of
 * queries ending in a sync and completes through a callback. Spend is written as the SQLite back
 * end writes it: idempotent by request_id, increments only for new rows, one transaction. */
#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/common.h"
#include "core/log.h"
#include "store/internal.h"
#include "store/store.h"

typedef enum {
    OP_NONE,
    OP_CONNECT,
    OP_SCHEMA,
    OP_BATCH,
    OP_KEY_GET,
    OP_AUTH_GET,
    OP_END_USER_GET,
    OP_RESET,
    OP_LISTEN,
} op_t;

/* Steps of an operation; each is one pipeline closed by a sync. */
enum {
    STEP_FIRST,    /* schema: list tables; batch: BEGIN + inserts; key: the select; reset: due */
    STEP_SECOND,   /* schema: DDL; batch: increments + COMMIT; reset: updates + COMMIT */
    STEP_ROLLBACK, /* after a failed step inside a transaction */
};

enum {
    SQL_LOG_INSERT,
    SQL_ADD_KEY,
    SQL_ADD_USER,
    SQL_ADD_TEAM,
    SQL_ADD_ORG,
    SQL_ADD_END_USER,
    SQL_ADD_TEAM_MEMBER,
    SQL_ADD_KEY_MODEL,
    SQL_KEY_GET,
    SQL_TEAM_BY_KEY,
    SQL_USER_BY_KEY,
    SQL_MEMBER_LIMITS_BY_KEY,
    SQL_END_USER_GET,
    SQL_BUDGETS_DUE,
    SQL_DAILY_UPSERT,                             /* + store_daily_t */
    SQL_DAILY_NULL_ENTITY = SQL_DAILY_UPSERT + 6, /* + store_daily_t */
    SQL_COUNT = SQL_DAILY_NULL_ENTITY + 6,
};

/* Parameters of the widest statement (a spend log row). */
#define MAX_PARAMS 48

struct store_pg {
    PGconn *conn;
    store_pg_state_t state;
    bool want_read, want_write;
    char err[512];
    char *sql[SQL_COUNT]; /* statement texts, built on first use */

    op_t op;
    int step;
    size_t nsent, nres; /* queries sent in this step, queries whose results ended */
    bool step_failed;
    store_pg_cb cb;
    void *arg;

    bool *exists; /* schema: per store_schema_tables[i] */

    const store_spend_log_t *logs; /* batch: the caller's, valid until cb */
    size_t nlogs;
    bool write_logs;
    bool *fresh;
    store_batch_result_t result;
    store_batch_result_t *res_out;

    store_key_t *key_out; /* key_get */
    int key_rc;
    store_auth_row_t *auth_out;     /* auth_get */
    store_end_user_t *end_user_out; /* end_user_get */

    /* reset: the rows found due, then the count of rows reset */
    store_strlist_t due_ids, due_durations;
    int *due_table;
    size_t ndue;
    long long reset_now;
    store_next_reset_fn reset_next;
    long reset_count;
    long *reset_out;

    bool *inserted_out; /* batch */
    char sqlstate[6];   /* of the failed query */
    store_pg_notify_cb notify;
    void *notify_arg;
};

/* The tables of a budget reset, by index; the same order as the due query's first column. */
static const struct {
    const char *table, *key;
} budget_tables[] = {
    {"LiteLLM_VerificationToken", "token"},
    {"LiteLLM_UserTable", "user_id"},
    {"LiteLLM_TeamTable", "team_id"},
};

static const char *const daily_tables[] = {
    "LiteLLM_DailyUserSpend",    "LiteLLM_DailyTeamSpend",  "LiteLLM_DailyOrganizationSpend",
    "LiteLLM_DailyEndUserSpend", "LiteLLM_DailyAgentSpend", "LiteLLM_DailyTagSpend",
};
static const char *const daily_entity_columns[] = {
    "user_id", "team_id", "organization_id", "end_user_id", "agent_id", "tag",
};
/* The increments, parameters $10..$17 after the identity. */
static const char *const daily_counters[] = {
    "prompt_tokens", "completion_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
    "spend",         "api_requests",      "successful_requests",     "failed_requests",
};
static const char *const daily_counter_casts[] = {
    "bigint", "bigint", "bigint", "bigint", "double precision", "bigint", "bigint", "bigint",
};
/* Parameters $3..$9 (model_group, $6, is not part of the row's identity). */
static const char *const daily_keys[] = {
    "date",
    "api_key",
    "model",
    "model_group",
    "custom_llm_provider",
    "mcp_namespaced_tool_name",
    "endpoint",
};

const char *store_pg_errmsg(const store_pg_t *pg)
{
    return pg->err;
}

store_pg_state_t store_pg_state(const store_pg_t *pg)
{
    return pg->state;
}

/* Copies libpq's message (one line, trailing newline dropped) behind what. */
static void set_err(store_pg_t *pg, const char *what, const char *msg)
{
    snprintf(pg->err, sizeof pg->err, "%s: %s", what, msg && *msg ? msg : "unknown error");
    size_t n = strlen(pg->err);
    while (n && (pg->err[n - 1] == '\n' || pg->err[n - 1] == ' '))
        pg->err[--n] = '\0';
}

/* ---- statement building ---------------------------------------------------------------------- */

static int build_daily_upsert(buf_t *b, store_daily_t t)
{
    const char *tbl = daily_tables[t], *ent = daily_entity_columns[t];
    int rc = store_sqlf(b, "INSERT INTO %q (\"id\", %q", tbl, ent);
    for (size_t i = 0; i < COUNTOF(daily_keys); i++)
        rc |= store_sqlf(b, ", %q", daily_keys[i]);
    for (size_t i = 0; i < COUNTOF(daily_counters); i++)
        rc |= store_sqlf(b, ", %q", daily_counters[i]);
    rc |= store_sqlf(b, ", \"created_at\", \"updated_at\") VALUES ($1");
    for (size_t i = 2; i <= 19; i++)
        rc |= store_sqlf(b, ", $%u", i);
    rc |= store_sqlf(b, ") ON CONFLICT (%q", ent);
    for (size_t i = 0; i < COUNTOF(daily_keys); i++)
        if (strcmp(daily_keys[i], "model_group") != 0)
            rc |= store_sqlf(b, ", %q", daily_keys[i]);
    rc |= store_sqlf(b, ") DO UPDATE SET ");
    for (size_t i = 0; i < COUNTOF(daily_counters); i++)
        rc |= store_sqlf(b, "%q = %q.%q + excluded.%q, ", daily_counters[i], tbl, daily_counters[i],
                         daily_counters[i]);
    rc |= store_sqlf(b, "\"updated_at\" = excluded.\"updated_at\"");
    return rc ? -1 : 0;
}

/* A NULL entity never conflicts in a unique index: update the row found with IS NULL, and insert
 * only when there was none, in one statement with the upsert's parameters. */
static int build_daily_null_entity(buf_t *b, store_daily_t t)
{
    const char *tbl = daily_tables[t], *ent = daily_entity_columns[t];
    int rc = store_sqlf(b, "WITH u AS (UPDATE %q SET ", tbl);
    for (size_t i = 0; i < COUNTOF(daily_counters); i++)
        rc |= store_sqlf(b, "%q = %q + $%u::%s, ", daily_counters[i], daily_counters[i], i + 10,
                         daily_counter_casts[i]);
    rc |= store_sqlf(b, "\"updated_at\" = $19::timestamp(3) WHERE %q IS NULL", ent);
    for (size_t i = 0; i < COUNTOF(daily_keys); i++)
        if (strcmp(daily_keys[i], "model_group") != 0)
            rc |= store_sqlf(b, " AND %q = $%u::text", daily_keys[i], i + 3);
    rc |= store_sqlf(b, " RETURNING 1) INSERT INTO %q (\"id\", %q", tbl, ent);
    for (size_t i = 0; i < COUNTOF(daily_keys); i++)
        rc |= store_sqlf(b, ", %q", daily_keys[i]);
    for (size_t i = 0; i < COUNTOF(daily_counters); i++)
        rc |= store_sqlf(b, ", %q", daily_counters[i]);
    rc |= store_sqlf(b, ", \"created_at\", \"updated_at\") SELECT $1::text");
    for (size_t i = 2; i <= 9; i++)
        rc |= store_sqlf(b, ", $%u::text", i);
    for (size_t i = 0; i < COUNTOF(daily_counters); i++)
        rc |= store_sqlf(b, ", $%u::%s", i + 10, daily_counter_casts[i]);
    rc |=
        store_sqlf(b, ", $18::timestamp(3), $19::timestamp(3) WHERE NOT EXISTS (SELECT 1 FROM u)");
    return rc ? -1 : 0;
}

static int build_log_insert(buf_t *b)
{
    int rc = store_sqlf(b, "INSERT INTO \"LiteLLM_SpendLogs\" (");
    size_t n = 0;
    for (size_t i = 0; i < store_spend_log_num_fields; i++)
        if (!(store_spend_log_fields[i].flags & STORE_FIELD_NO_COLUMN))
            rc |= store_sqlf(b, n++ ? ", %q" : "%q", store_spend_log_fields[i].name);
    rc |= store_sqlf(b, ") VALUES (");
    for (size_t i = 1; i <= n; i++)
        rc |= store_sqlf(b, i > 1 ? ", $%u" : "$%u", i);
    rc |= store_sqlf(b, ") ON CONFLICT (\"request_id\") DO NOTHING");
    return rc ? -1 : 0;
}

/* SELECT every field FROM table, then `where`. Times come back as our own text format and lists
 * as JSON, whatever the session's DateStyle. */
static int build_select(buf_t *b, const char *table, const store_field_t *fields, size_t nf,
                        const char *where)
{
    int rc = store_sqlf(b, "SELECT ");
    for (size_t i = 0; i < nf; i++) {
        const store_field_t *f = &fields[i];
        if (i)
            rc |= store_sqlf(b, ", ");
        if (f->kind == STORE_F_TIME)
            rc |= store_sqlf(b, "to_char(%q, 'YYYY-MM-DD HH24:MI:SS.MS')", f->name);
        else if (f->kind == STORE_F_LIST)
            rc |= store_sqlf(b, "array_to_json(%q)::text", f->name);
        else if (f->kind == STORE_F_JSON)
            rc |= store_sqlf(b, "%q::text", f->name);
        else
            rc |= store_sqlf(b, "%q", f->name);
    }
    rc |= store_sqlf(b, " FROM %q WHERE %s", table, where);
    return rc ? -1 : 0;
}

/* The rows whose budget window ended: (table index, key, budget_duration). */
static int build_budgets_due(buf_t *b)
{
    int rc = 0;
    for (size_t i = 0; i < COUNTOF(budget_tables); i++)
        rc |= store_sqlf(b,
                         "%sSELECT %u, %q, \"budget_duration\" FROM %q WHERE \"budget_reset_at\" "
                         "<= $1 AND \"budget_duration\" IS NOT NULL",
                         i ? " UNION ALL " : "", i, budget_tables[i].key, budget_tables[i].table);
    return rc ? -1 : 0;
}

static int build_sql(int which, buf_t *b)
{
    switch (which) {
    case SQL_LOG_INSERT:
        return build_log_insert(b);
    case SQL_ADD_KEY:
        return buf_append_cstr(b, "UPDATE \"LiteLLM_VerificationToken\" SET \"spend\" = "
                                  "\"spend\" + $1 WHERE \"token\" = $2");
    case SQL_ADD_USER:
        return buf_append_cstr(b, "UPDATE \"LiteLLM_UserTable\" SET \"spend\" = \"spend\" + $1 "
                                  "WHERE \"user_id\" = $2");
    case SQL_ADD_TEAM:
        return buf_append_cstr(b, "UPDATE \"LiteLLM_TeamTable\" SET \"spend\" = \"spend\" + $1 "
                                  "WHERE \"team_id\" = $2");
    case SQL_ADD_ORG:
        return buf_append_cstr(b, "UPDATE \"LiteLLM_OrganizationTable\" SET \"spend\" = "
                                  "\"spend\" + $1 WHERE \"organization_id\" = $2");
    case SQL_ADD_END_USER:
        return buf_append_cstr(b, "INSERT INTO \"LiteLLM_EndUserTable\" (\"user_id\", \"spend\", "
                                  "\"blocked\") VALUES ($2, $1, false) ON CONFLICT (\"user_id\") "
                                  "DO UPDATE SET \"spend\" = \"LiteLLM_EndUserTable\".\"spend\" + "
                                  "excluded.\"spend\"");
    case SQL_ADD_TEAM_MEMBER:
        return buf_append_cstr(b, "UPDATE \"LiteLLM_TeamMembership\" SET \"spend\" = \"spend\" + "
                                  "$1::double precision, \"total_spend\" = \"total_spend\" + "
                                  "$1::double precision WHERE \"user_id\" = $2 AND \"team_id\" = "
                                  "$3");
    case SQL_ADD_KEY_MODEL:
        /* model_spend[$3] += $1 on key $2: an ARRAY path takes the name as a value, whatever it
         * holds (dots, slashes, quotes); NULL or a non-object starts from {} */
        return buf_append_cstr(
            b,
            "UPDATE \"LiteLLM_VerificationToken\" SET \"model_spend\" = jsonb_set(CASE WHEN "
            "jsonb_typeof(\"model_spend\") = 'object' THEN \"model_spend\" ELSE '{}'::jsonb END, "
            "ARRAY[$3::text], to_jsonb($1::double precision + coalesce(CASE WHEN "
            "jsonb_typeof(\"model_spend\" -> $3::text) = 'number' THEN (\"model_spend\" ->> "
            "$3::text)::double precision END, 0))) WHERE \"token\" = $2");
    case SQL_KEY_GET:
        return build_select(b, "LiteLLM_VerificationToken", store_key_fields, store_key_num_fields,
                            "\"token\" = $1");
    case SQL_TEAM_BY_KEY:
        return build_select(b, "LiteLLM_TeamTable", store_team_fields, store_team_num_fields,
                            "\"team_id\" = (SELECT \"team_id\" FROM "
                            "\"LiteLLM_VerificationToken\" WHERE \"token\" = $1)");
    case SQL_USER_BY_KEY:
        return build_select(b, "LiteLLM_UserTable", store_user_fields, store_user_num_fields,
                            "\"user_id\" = (SELECT \"user_id\" FROM "
                            "\"LiteLLM_VerificationToken\" WHERE \"token\" = $1)");
    case SQL_MEMBER_LIMITS_BY_KEY:
        return store_member_limits_sql(b, "$1");
    case SQL_END_USER_GET:
        return store_end_user_sql(b, "$1", "$2");
    case SQL_BUDGETS_DUE:
        return build_budgets_due(b);
    default:
        if (which >= SQL_DAILY_UPSERT && which < SQL_DAILY_UPSERT + 6)
            return build_daily_upsert(b, (store_daily_t)(which - SQL_DAILY_UPSERT));
        return build_daily_null_entity(b, (store_daily_t)(which - SQL_DAILY_NULL_ENTITY));
    }
}

/* The statement's text, built once per connection object; NULL on no memory. */
static const char *sql_text(store_pg_t *pg, int which)
{
    if (pg->sql[which])
        return pg->sql[which];
    buf_t b = {0};
    if (build_sql(which, &b) < 0 || !buf_cstr(&b)) {
        buf_free(&b);
        snprintf(pg->err, sizeof pg->err, "out of memory");
        return NULL;
    }
    pg->sql[which] = b.p; /* buf_cstr NUL-terminated it; the buffer is ours now */
    return pg->sql[which];
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* ---- parameters ------------------------------------------------------------------------------ */

/* Parameter text of a column's default, for a field the record leaves "not given" (what the
 * database would store had the INSERT left the column out, as Prisma does). */
static const char *default_param(const store_column_t *c, long long now, char tmp[32])
{
    switch (c ? c->def : STORE_DEF_NONE) {
    case STORE_DEF_ZERO:
        return "0";
    case STORE_DEF_FALSE:
        return "f";
    case STORE_DEF_TRUE:
        return "t";
    case STORE_DEF_EMPTY_TEXT:
        return "";
    case STORE_DEF_JSON_OBJECT:
        return "{}";
    case STORE_DEF_JSON_ARRAY:
        return "[]";
    case STORE_DEF_EMPTY_LIST:
        return "{}";
    case STORE_DEF_NOW:
        store_time_format(now, tmp);
        return tmp;
    default:
        return NULL;
    }
}

/* The text of one field as a parameter, into *out (NULL is SQL NULL). tmp holds numbers. 0, or -1
 * for a kind spend logs do not have (lists). */
static int field_param(const store_field_t *f, const void *rec, const store_table_t *t,
                       long long now, char tmp[32], const char **out)
{
    const char *base = (const char *)rec + f->offset;
    const store_column_t *c = store_schema_column(t, f->name);
    switch (f->kind) {
    case STORE_F_STR:
    case STORE_F_JSON: {
        const char *v = *(const char *const *)base;
        *out = v ? v : default_param(c, now, tmp);
        return 0;
    }
    case STORE_F_F64:
        snprintf(tmp, 32, "%.17g", *(const double *)base);
        *out = tmp;
        return 0;
    case STORE_F_F64_OPT: {
        double v = *(const double *)base;
        if (isnan(v)) {
            *out = default_param(c, now, tmp);
            return 0;
        }
        snprintf(tmp, 32, "%.17g", v);
        *out = tmp;
        return 0;
    }
    case STORE_F_I64:
    case STORE_F_I64_OPT: {
        long long v = *(const long long *)base;
        if (f->kind == STORE_F_I64_OPT && v == STORE_INT_NULL) {
            *out = default_param(c, now, tmp);
            return 0;
        }
        snprintf(tmp, 32, "%lld", v);
        *out = tmp;
        return 0;
    }
    case STORE_F_TIME: {
        long long v = *(const long long *)base;
        if (v == STORE_TIME_NULL) {
            *out = default_param(c, now, tmp);
            return 0;
        }
        store_time_format(v, tmp);
        *out = tmp;
        return 0;
    }
    case STORE_F_BOOL:
        *out = *(const bool *)base ? "t" : "f";
        return 0;
    case STORE_F_BOOL_OPT: {
        int v = *(const int *)base;
        *out = v < 0 ? default_param(c, now, tmp) : v ? "t" : "f";
        return 0;
    }
    case STORE_F_LIST:
        break;
    }
    return -1;
}

static int read_field(const PGresult *r, int col, const store_field_t *f, void *rec)
{
    char *base = (char *)rec + f->offset;
    bool null = PQgetisnull(r, 0, col);
    const char *text = PQgetvalue(r, 0, col);
    switch (f->kind) {
    case STORE_F_STR:
    case STORE_F_JSON:
        if (!null && !(*(char **)base = strdup(text)))
            return -1;
        return 0;
    case STORE_F_LIST:
        if (!null && store_strlist_from_json((store_strlist_t *)base, text) < 0)
            log_warn("store: column %s holds no array: %s", f->name, text);
        return 0;
    case STORE_F_F64:
        *(double *)base = null ? 0 : strtod(text, NULL);
        return 0;
    case STORE_F_F64_OPT:
        *(double *)base = null ? NAN : strtod(text, NULL);
        return 0;
    case STORE_F_I64:
        *(long long *)base = null ? 0 : strtoll(text, NULL, 10);
        return 0;
    case STORE_F_I64_OPT:
        *(long long *)base = null ? STORE_INT_NULL : strtoll(text, NULL, 10);
        return 0;
    case STORE_F_TIME:
        *(long long *)base = null ? STORE_TIME_NULL : store_time_parse(text);
        return 0;
    case STORE_F_BOOL:
        *(bool *)base = !null && text[0] == 't';
        return 0;
    case STORE_F_BOOL_OPT:
        *(int *)base = null ? -1 : text[0] == 't';
        return 0;
    }
    return -1;
}

/* ---- the engine ------------------------------------------------------------------------------ */

static void update_want_write(store_pg_t *pg);

static void begin_step(store_pg_t *pg, int step)
{
    pg->step = step;
    pg->nsent = pg->nres = 0;
    pg->step_failed = false;
}

/* Queues one query of the current step. 0, or -1 (err set). */
static int send_query(store_pg_t *pg, const char *sql, int nparams, const char *const *values)
{
    if (!sql)
        return -1;
    if (!PQsendQueryParams(pg->conn, sql, nparams, NULL, values, NULL, NULL, 0)) {
        set_err(pg, "send", PQerrorMessage(pg->conn));
        return -1;
    }
    pg->nsent++;
    return 0;
}

/* Closes the step's pipeline with a sync and starts flushing. 0, or -1. */
static int send_sync(store_pg_t *pg)
{
    if (!PQpipelineSync(pg->conn)) {
        set_err(pg, "sync", PQerrorMessage(pg->conn));
        return -1;
    }
    update_want_write(pg);
    return pg->state == STORE_PG_BROKEN ? -1 : 0;
}

static void free_op(store_pg_t *pg)
{
    free(pg->exists);
    pg->exists = NULL;
    free(pg->fresh);
    pg->fresh = NULL;
    pg->logs = NULL;
    pg->key_out = NULL;
    pg->auth_out = NULL;
    pg->end_user_out = NULL;
    pg->inserted_out = NULL;
    store_strlist_free(&pg->due_ids);
    store_strlist_free(&pg->due_durations);
    free(pg->due_table);
    pg->due_table = NULL;
    pg->ndue = 0;
    pg->reset_out = NULL;
}

/* Ends the current operation and calls its callback (which may start the next one). */
static void finish(store_pg_t *pg, int rc)
{
    store_pg_cb cb = pg->cb;
    void *arg = pg->arg;
    if (pg->op == OP_BATCH && rc == 0 && pg->res_out)
        *pg->res_out = pg->result;
    if (pg->op == OP_BATCH && rc == 0 && pg->inserted_out)
        memcpy(pg->inserted_out, pg->fresh, pg->nlogs * sizeof *pg->fresh);
    if (pg->op == OP_RESET && rc == 0 && pg->reset_out)
        *pg->reset_out = pg->reset_count;
    if (pg->op == OP_KEY_GET && rc < 0 && pg->key_out)
        store_key_free(pg->key_out);
    free_op(pg);
    pg->op = OP_NONE;
    pg->cb = NULL;
    if (pg->state != STORE_PG_BROKEN)
        pg->state = STORE_PG_READY;
    if (cb)
        cb(pg, arg, rc, rc < 0 ? pg->err : NULL);
}

static void go_broken(store_pg_t *pg, const char *what)
{
    if (!pg->err[0] || pg->state != STORE_PG_BROKEN)
        set_err(pg, what, PQerrorMessage(pg->conn));
    pg->state = STORE_PG_BROKEN;
    pg->want_read = pg->want_write = false;
    if (pg->op != OP_NONE)
        finish(pg, -1);
}

static void update_want_write(store_pg_t *pg)
{
    int rc = PQflush(pg->conn);
    if (rc < 0)
        go_broken(pg, "write");
    else
        pg->want_write = rc == 1;
}

/* Sends the cleanup ROLLBACK when a failed step left a transaction open; otherwise finishes. */
static void fail_step(store_pg_t *pg)
{
    PGTransactionStatusType ts = PQtransactionStatus(pg->conn);
    if (pg->step != STEP_ROLLBACK && (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)) {
        begin_step(pg, STEP_ROLLBACK);
        if (send_query(pg, "ROLLBACK", 0, NULL) == 0 && send_sync(pg) == 0)
            return;
        go_broken(pg, "rollback");
        return;
    }
    finish(pg, -1);
}

/* ---- schema ---------------------------------------------------------------------------------- */

static void schema_result(store_pg_t *pg, const PGresult *r)
{
    if (pg->step != STEP_FIRST)
        return;
    for (int row = 0; row < PQntuples(r); row++)
        for (size_t i = 0; i < store_schema_num_tables; i++)
            if (strcmp(PQgetvalue(r, row, 0), store_schema_tables[i]->name) == 0)
                pg->exists[i] = true;
}

const char store_pg_relations_sql[] =
    "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = "
    "c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')";

int store_pg_schema_ddl(const bool *exists, buf_t *out)
{
    for (size_t i = 0; i < store_schema_num_tables; i++)
        if (exists[i] && strcmp(store_schema_tables[i]->name, "LiteLLM_VerificationToken") == 0)
            return 0; /* LiteLLM (or an earlier sluice) set it up: its migrations own the schema */
    return store_schema_absent_ddl(STORE_DIALECT_POSTGRES, exists, out);
}

/* Queues BEGIN, the DDL of every absent table (statement by statement: a pipeline takes one
 * statement per query) and COMMIT. 1 when there is nothing to create, 0 queued, -1 error. */
static int schema_send_ddl(store_pg_t *pg)
{
    buf_t ddl = {0};
    int absent = store_pg_schema_ddl(pg->exists, &ddl);
    if (absent == 0) {
        buf_free(&ddl);
        return 1;
    }
    if (absent < 0 || !buf_cstr(&ddl)) {
        buf_free(&ddl);
        snprintf(pg->err, sizeof pg->err, "out of memory");
        return -1;
    }
    log_info("store: creating %d absent table(s) in PostgreSQL", absent);
    begin_step(pg, STEP_SECOND);
    int rc = send_query(pg, "BEGIN", 0, NULL);
    if (rc == 0)
        rc = send_query(pg, STORE_PG_SCHEMA_LOCK, 0, NULL);
    /* every statement of the script ends in ";\n", and no literal in it holds one */
    for (char *p = ddl.p, *end; rc == 0 && (end = strstr(p, ";\n")); p = end + 2) {
        *end = '\0';
        rc = send_query(pg, p, 0, NULL);
    }
    if (rc == 0)
        rc = send_query(pg, "COMMIT", 0, NULL);
    if (rc == 0)
        rc = send_sync(pg);
    buf_free(&ddl);
    return rc;
}

static void schema_step_done(store_pg_t *pg)
{
    if (pg->step == STEP_SECOND) {
        finish(pg, 0);
        return;
    }
    int rc = schema_send_ddl(pg);
    if (rc == 1)
        finish(pg, 0);
    else if (rc < 0)
        fail_step(pg);
}

/* ---- batch ----------------------------------------------------------------------------------- */

static void batch_result(store_pg_t *pg, const PGresult *r)
{
    /* query 0 of the first step is BEGIN; query i + 1 inserts log i */
    if (pg->step != STEP_FIRST || !pg->write_logs || pg->nres == 0 || pg->nres > pg->nlogs)
        return;
    pg->fresh[pg->nres - 1] = strtoll(PQcmdTuples((PGresult *)r), NULL, 10) > 0;
}

static int send_add_spend(store_pg_t *pg, const store_spend_item_t *s)
{
    static const int which[] = {SQL_ADD_KEY,      SQL_ADD_USER,     SQL_ADD_TEAM,
                                SQL_ADD_ORG,      SQL_ADD_END_USER, SQL_ADD_TEAM_MEMBER,
                                SQL_ADD_KEY_MODEL};
    char amount[32];
    snprintf(amount, sizeof amount, "%.17g", s->amount);
    const char *v[] = {amount, s->id, s->id2};
    bool has_id2 = s->entity == STORE_ENTITY_TEAM_MEMBER || s->entity == STORE_ENTITY_KEY_MODEL;
    return send_query(pg, sql_text(pg, which[s->entity]), has_id2 ? 3 : 2, v);
}

static int send_daily(store_pg_t *pg, const store_daily_item_t *it, long long now)
{
    const store_daily_delta_t *d = &it->d;
    char id[37], ts[24], num[8][32];
    store_uuid(id);
    store_time_format(now, ts);
    long long counters[] = {d->prompt_tokens,
                            d->completion_tokens,
                            d->cache_read_input_tokens,
                            d->cache_creation_input_tokens,
                            0,
                            d->api_requests,
                            d->successful_requests,
                            d->failed_requests};
    for (int i = 0; i < 8; i++)
        snprintf(num[i], sizeof num[i], "%lld", counters[i]);
    snprintf(num[4], sizeof num[4], "%.17g", d->spend);
    const char *v[19] = {id,
                         d->entity_id,
                         d->date,
                         or_empty(d->api_key),
                         or_empty(d->model),
                         d->model_group,
                         or_empty(d->custom_llm_provider),
                         or_empty(d->mcp_namespaced_tool_name),
                         or_empty(d->endpoint)};
    for (int i = 0; i < 8; i++)
        v[9 + i] = num[i];
    v[17] = ts;
    v[18] = ts;
    int which = (d->entity_id ? SQL_DAILY_UPSERT : SQL_DAILY_NULL_ENTITY) + (int)it->table;
    return send_query(pg, sql_text(pg, which), 19, v);
}

/* Second step: the increments of the new rows, summed per row, then COMMIT. */
static int batch_send_apply(store_pg_t *pg)
{
    size_t n = pg->nlogs;
    char(*dates)[11] = calloc(n ? n : 1, sizeof *dates);
    cJSON **tags = calloc(n ? n : 1, sizeof *tags);
    store_batch_acc_t a = {0};
    int rc = -1;
    begin_step(pg, STEP_SECOND);
    if (!dates || !tags)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const store_spend_log_t *l = &pg->logs[i];
        if (!pg->fresh[i]) {
            pg->result.duplicates++;
            continue;
        }
        pg->result.inserted += pg->write_logs;
        store_date_format(l->start_time != STORE_TIME_NULL ? l->start_time : store_now_ms(),
                          dates[i]);
        if (store_batch_collect(&a, l, dates[i], &tags[i]) < 0)
            goto out;
    }
    store_batch_merge(&a);
    for (size_t i = 0; i < a.nspend; i++)
        if (send_add_spend(pg, &a.spend[i]) < 0)
            goto sent;
    long long now = store_now_ms();
    for (size_t i = 0; i < a.ndaily; i++)
        if (send_daily(pg, &a.daily[i], now) < 0)
            goto sent;
    if (send_query(pg, "COMMIT", 0, NULL) == 0 && send_sync(pg) == 0)
        rc = 0;
sent: /* libpq copied the queued statements: the strings may go now */
out:
    if (rc < 0 && !pg->err[0])
        snprintf(pg->err, sizeof pg->err, "out of memory");
    for (size_t i = 0; tags && i < n; i++)
        cJSON_Delete(tags[i]);
    free(tags);
    free(dates);
    free(a.spend);
    free(a.daily);
    return rc;
}

static void batch_step_done(store_pg_t *pg)
{
    if (pg->step == STEP_FIRST) {
        if (batch_send_apply(pg) < 0) {
            /* queries already queued must still be closed by a sync before the rollback */
            if (pg->state != STORE_PG_BROKEN && PQpipelineSync(pg->conn)) {
                pg->step_failed = true;
                update_want_write(pg);
            } else {
                go_broken(pg, "batch");
            }
        }
        return;
    }
    if (pg->result.duplicates)
        log_info("store: %zu spend record(s) were already stored; not counted again",
                 pg->result.duplicates);
    finish(pg, 0);
}

/* ---- key ------------------------------------------------------------------------------------- */

/* Reads row 0 of r into rec. 0, or -1 on no memory (err set). */
static int read_row(store_pg_t *pg, const PGresult *r, const store_field_t *f, size_t nf, void *rec)
{
    for (size_t i = 0; i < nf; i++)
        if (read_field(r, (int)i, &f[i], rec) < 0) {
            snprintf(pg->err, sizeof pg->err, "out of memory");
            return -1;
        }
    return 0;
}

static void key_result(store_pg_t *pg, const PGresult *r)
{
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return;
    if (PQntuples(r) == 0)
        pg->key_rc = 1;
    else
        pg->key_rc = read_row(pg, r, store_key_fields, store_key_num_fields, pg->key_out);
}

static void end_user_result(store_pg_t *pg, const PGresult *r)
{
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return;
    if (PQntuples(r) == 0)
        pg->key_rc = 1;
    else
        pg->key_rc =
            read_row(pg, r, store_end_user_fields, store_end_user_num_fields, pg->end_user_out);
}

/* Query 0 is the key, 1 its team, 2 its user, 3 the limits of its user in its team. */
static void auth_result(store_pg_t *pg, const PGresult *r)
{
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return;
    store_auth_row_t *a = pg->auth_out;
    bool found = PQntuples(r) > 0;
    switch (pg->nres) {
    case 0:
        if (!found)
            pg->key_rc = 1;
        else
            pg->key_rc = read_row(pg, r, store_key_fields, store_key_num_fields, &a->key);
        return;
    case 1:
        if (found && read_row(pg, r, store_team_fields, store_team_num_fields, &a->team) < 0)
            pg->key_rc = -1;
        a->has_team = found;
        return;
    case 2:
        if (found && read_row(pg, r, store_user_fields, store_user_num_fields, &a->user) < 0)
            pg->key_rc = -1;
        a->has_user = found;
        return;
    case 3:
        if (found && read_row(pg, r, store_limits_fields, store_limits_num_fields, &a->member) < 0)
            pg->key_rc = -1;
        a->has_member = found;
        return;
    default:
        return;
    }
}

/* ---- budget resets --------------------------------------------------------------------------- */

static void reset_result(store_pg_t *pg, const PGresult *r)
{
    if (pg->step == STEP_SECOND) {
        if (strncmp(PQcmdStatus((PGresult *)r), "UPDATE", 6) == 0)
            pg->reset_count += strtol(PQcmdTuples((PGresult *)r), NULL, 10);
        return;
    }
    int n = PQntuples(r);
    if (n <= 0)
        return;
    pg->due_table = calloc((size_t)n, sizeof *pg->due_table);
    if (!pg->due_table) {
        snprintf(pg->err, sizeof pg->err, "out of memory");
        pg->step_failed = true;
        return;
    }
    for (int row = 0; row < n; row++) {
        int t = atoi(PQgetvalue(r, row, 0));
        if (t < 0 || t >= (int)COUNTOF(budget_tables))
            continue;
        if (store_strlist_push(&pg->due_ids, PQgetvalue(r, row, 1)) < 0 ||
            store_strlist_push(&pg->due_durations, PQgetvalue(r, row, 2)) < 0) {
            snprintf(pg->err, sizeof pg->err, "out of memory");
            pg->step_failed = true;
            return;
        }
        pg->due_table[pg->ndue++] = t;
    }
}

/* Second step: one guarded UPDATE per due row, a NOTIFY and COMMIT. 1 when nothing is due. */
static int reset_send_updates(store_pg_t *pg)
{
    char now[24];
    store_time_format(pg->reset_now, now);
    size_t sent = 0;
    begin_step(pg, STEP_SECOND);
    for (size_t i = 0; i < pg->ndue; i++) {
        long long at = pg->reset_next(pg->due_durations.v[i], pg->reset_now);
        if (at == STORE_TIME_NULL) {
            log_warn("store: %s %s: budget_duration '%s' is not a duration; budget not reset",
                     budget_tables[pg->due_table[i]].table, pg->due_ids.v[i],
                     pg->due_durations.v[i]);
            continue;
        }
        buf_t sql = {0};
        if (store_sqlf(&sql,
                       "UPDATE %q SET \"spend\" = 0, \"budget_reset_at\" = $2 WHERE %q = $1 AND "
                       "\"budget_reset_at\" <= $3",
                       budget_tables[pg->due_table[i]].table,
                       budget_tables[pg->due_table[i]].key) < 0 ||
            !buf_cstr(&sql)) {
            buf_free(&sql);
            snprintf(pg->err, sizeof pg->err, "out of memory");
            return -1;
        }
        char next[24];
        store_time_format(at, next);
        const char *v[] = {pg->due_ids.v[i], next, now};
        int rc =
            (sent++ == 0 ? send_query(pg, "BEGIN", 0, NULL) : 0) || send_query(pg, sql.p, 3, v);
        buf_free(&sql);
        if (rc)
            return -1;
    }
    if (!sent)
        return 1;
    /* other instances drop their cached copies; delivered at COMMIT */
    const char *ch[] = {STORE_KEY_CHANNEL};
    if (send_query(pg, "SELECT pg_notify($1, '*')", 1, ch) < 0 ||
        send_query(pg, "COMMIT", 0, NULL) < 0 || send_sync(pg) < 0)
        return -1;
    return 0;
}

static void reset_step_done(store_pg_t *pg)
{
    if (pg->step == STEP_SECOND) {
        if (pg->reset_count)
            log_info("store: reset the budget window of %ld key(s), user(s) and team(s)",
                     pg->reset_count);
        finish(pg, 0);
        return;
    }
    int rc = reset_send_updates(pg);
    if (rc == 1) {
        finish(pg, 0);
    } else if (rc < 0) {
        /* what was queued must be closed by a sync before the rollback */
        if (pg->state != STORE_PG_BROKEN && PQpipelineSync(pg->conn)) {
            pg->step_failed = true;
            update_want_write(pg);
        } else {
            go_broken(pg, "reset");
        }
    }
}

/* ---- results --------------------------------------------------------------------------------- */

static void step_done(store_pg_t *pg)
{
    if (pg->step_failed) {
        fail_step(pg);
        return;
    }
    if (pg->step == STEP_ROLLBACK) {
        finish(pg, -1);
        return;
    }
    switch (pg->op) {
    case OP_SCHEMA:
        schema_step_done(pg);
        break;
    case OP_BATCH:
        batch_step_done(pg);
        break;
    case OP_KEY_GET:
    case OP_AUTH_GET:
    case OP_END_USER_GET:
        finish(pg, pg->key_rc);
        break;
    case OP_RESET:
        reset_step_done(pg);
        break;
    case OP_LISTEN:
        finish(pg, 0);
        break;
    default:
        break;
    }
}

static void on_result(store_pg_t *pg, PGresult *r)
{
    switch (PQresultStatus(r)) {
    case PGRES_PIPELINE_SYNC:
        step_done(pg);
        return;
    case PGRES_PIPELINE_ABORTED:
        pg->step_failed = true;
        return;
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
        if (pg->step_failed || pg->step == STEP_ROLLBACK)
            return;
        if (pg->op == OP_SCHEMA)
            schema_result(pg, r);
        else if (pg->op == OP_BATCH)
            batch_result(pg, r);
        else if (pg->op == OP_KEY_GET)
            key_result(pg, r);
        else if (pg->op == OP_AUTH_GET)
            auth_result(pg, r);
        else if (pg->op == OP_END_USER_GET)
            end_user_result(pg, r);
        else if (pg->op == OP_RESET)
            reset_result(pg, r);
        return;
    default:
        if (!pg->step_failed && pg->step != STEP_ROLLBACK) {
            set_err(pg, "query", PQresultErrorMessage(r));
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            snprintf(pg->sqlstate, sizeof pg->sqlstate, "%s", state ? state : "");
        }
        pg->step_failed = true;
        return;
    }
}

/* Takes every result libpq has whole, without waiting for more. */
static void drain(store_pg_t *pg)
{
    while (pg->op != OP_NONE && pg->state == STORE_PG_BUSY && !PQisBusy(pg->conn)) {
        PGresult *r = PQgetResult(pg->conn);
        if (!r) {
            if (++pg->nres > pg->nsent + 1)
                break; /* nothing pending: never spin */
            continue;
        }
        on_result(pg, r);
        PQclear(r);
    }
    PGnotify *n;
    while (pg->state != STORE_PG_BROKEN && (n = PQnotifies(pg->conn))) {
        if (pg->notify)
            pg->notify(pg, pg->notify_arg, n->relname, n->extra ? n->extra : "");
        PQfreemem(n);
    }
}

void store_pg_set_notify(store_pg_t *pg, store_pg_notify_cb cb, void *arg)
{
    pg->notify = cb;
    pg->notify_arg = arg;
}

bool store_pg_error_is_data(const store_pg_t *pg)
{
    return pg->state != STORE_PG_BROKEN &&
           (strncmp(pg->sqlstate, "22", 2) == 0 || strncmp(pg->sqlstate, "23", 2) == 0);
}

/* ---- connection ------------------------------------------------------------------------------ */

store_pg_t *store_pg_new(void)
{
    store_pg_t *pg = calloc(1, sizeof *pg);
    if (pg)
        pg->state = STORE_PG_BROKEN;
    return pg;
}

void store_pg_free(store_pg_t *pg)
{
    if (!pg)
        return;
    if (pg->conn)
        PQfinish(pg->conn);
    free_op(pg);
    for (int i = 0; i < SQL_COUNT; i++)
        free(pg->sql[i]);
    free(pg);
}

static void connect_poll(store_pg_t *pg)
{
    switch (PQconnectPoll(pg->conn)) {
    case PGRES_POLLING_READING:
        pg->want_read = true;
        pg->want_write = false;
        return;
    case PGRES_POLLING_WRITING:
        pg->want_read = false;
        pg->want_write = true;
        return;
    case PGRES_POLLING_OK:
        if (PQsetnonblocking(pg->conn, 1) != 0 || !PQenterPipelineMode(pg->conn)) {
            go_broken(pg, "connect");
            return;
        }
        pg->want_read = true;
        pg->want_write = false;
        pg->state = STORE_PG_READY;
        pg->err[0] = '\0';
        finish(pg, 0);
        return;
    default:
        go_broken(pg, "connect");
        return;
    }
}

int store_pg_connect(store_pg_t *pg, const char *conninfo, store_pg_cb cb, void *arg)
{
    if (pg->op != OP_NONE) {
        snprintf(pg->err, sizeof pg->err, "connect: an operation is in progress");
        return -1;
    }
    if (pg->conn)
        PQfinish(pg->conn);
    pg->err[0] = '\0';
    pg->conn = PQconnectStart(conninfo);
    if (!pg->conn) {
        snprintf(pg->err, sizeof pg->err, "connect: out of memory");
        pg->state = STORE_PG_BROKEN;
        return -1;
    }
    if (PQstatus(pg->conn) == CONNECTION_BAD) {
        set_err(pg, "connect", PQerrorMessage(pg->conn));
        pg->state = STORE_PG_BROKEN;
        return -1;
    }
    pg->state = STORE_PG_CONNECTING;
    pg->op = OP_CONNECT;
    pg->cb = cb;
    pg->arg = arg;
    /* libpq: after PQconnectStart, act as if PQconnectPoll had asked to wait for writing */
    pg->want_read = false;
    pg->want_write = true;
    return 0;
}

int store_pg_fd(const store_pg_t *pg)
{
    return pg->conn && pg->state != STORE_PG_BROKEN ? PQsocket(pg->conn) : -1;
}

int store_pg_events(const store_pg_t *pg)
{
    if (pg->state == STORE_PG_BROKEN || !pg->conn)
        return 0;
    return (pg->want_read ? STORE_PG_READABLE : 0) | (pg->want_write ? STORE_PG_WRITABLE : 0);
}

void store_pg_on_readable(store_pg_t *pg)
{
    switch (pg->state) {
    case STORE_PG_CONNECTING:
        connect_poll(pg);
        return;
    case STORE_PG_READY:
    case STORE_PG_BUSY:
        if (!PQconsumeInput(pg->conn)) {
            go_broken(pg, "read");
            return;
        }
        drain(pg);
        return;
    case STORE_PG_BROKEN:
        return;
    }
}

void store_pg_on_writable(store_pg_t *pg)
{
    switch (pg->state) {
    case STORE_PG_CONNECTING:
        connect_poll(pg);
        return;
    case STORE_PG_READY:
    case STORE_PG_BUSY:
        update_want_write(pg);
        return;
    case STORE_PG_BROKEN:
        return;
    }
}

/* ---- operations ------------------------------------------------------------------------------ */

static int start_op(store_pg_t *pg, op_t op, store_pg_cb cb, void *arg)
{
    if (pg->state != STORE_PG_READY || pg->op != OP_NONE) {
        snprintf(pg->err, sizeof pg->err, "%s",
                 pg->state == STORE_PG_BROKEN ? "not connected" : "connection busy");
        return -1;
    }
    pg->err[0] = '\0';
    pg->sqlstate[0] = '\0';
    pg->op = op;
    pg->cb = cb;
    pg->arg = arg;
    pg->state = STORE_PG_BUSY;
    begin_step(pg, STEP_FIRST);
    return 0;
}

/* A start that failed after some queries were queued: close the pipeline so the failure arrives
 * as the step's result (and the callback runs), or give up the connection. Always 0: the
 * callback reports the outcome. */
static int abort_start(store_pg_t *pg)
{
    pg->step_failed = true;
    if (PQpipelineSync(pg->conn))
        update_want_write(pg);
    else
        go_broken(pg, "sync");
    return 0;
}

int store_pg_ensure_schema(store_pg_t *pg, store_pg_cb cb, void *arg)
{
    if (start_op(pg, OP_SCHEMA, cb, arg) < 0)
        return -1;
    pg->exists = calloc(store_schema_num_tables, sizeof *pg->exists);
    if (!pg->exists) {
        snprintf(pg->err, sizeof pg->err, "out of memory");
        pg->op = OP_NONE;
        pg->state = STORE_PG_READY;
        return -1;
    }
    if (send_query(pg, store_pg_relations_sql, 0, NULL) < 0 || send_sync(pg) < 0)
        return abort_start(pg);
    return 0;
}

int store_pg_write_batch(store_pg_t *pg, const store_spend_log_t *logs, size_t n, bool write_logs,
                         store_batch_result_t *res, bool *inserted, store_pg_cb cb, void *arg)
{
    if (start_op(pg, OP_BATCH, cb, arg) < 0)
        return -1;
    pg->logs = logs;
    pg->nlogs = n;
    pg->write_logs = write_logs;
    pg->res_out = res;
    pg->inserted_out = inserted;
    pg->result = (store_batch_result_t){0, 0};
    pg->fresh = calloc(n ? n : 1, sizeof *pg->fresh);
    if (!pg->fresh) {
        snprintf(pg->err, sizeof pg->err, "out of memory");
        pg->op = OP_NONE;
        pg->state = STORE_PG_READY;
        return -1;
    }
    if (send_query(pg, "BEGIN", 0, NULL) < 0)
        return abort_start(pg);
    if (!write_logs) {
        for (size_t i = 0; i < n; i++)
            pg->fresh[i] = true;
    } else {
        const store_table_t *t = store_schema_table("LiteLLM_SpendLogs");
        const char *sql = sql_text(pg, SQL_LOG_INSERT);
        long long now = store_now_ms();
        for (size_t i = 0; i < n; i++) {
            const char *v[MAX_PARAMS];
            char tmp[MAX_PARAMS][32];
            int np = 0;
            for (size_t k = 0; k < store_spend_log_num_fields; k++) {
                const store_field_t *f = &store_spend_log_fields[k];
                if (f->flags & STORE_FIELD_NO_COLUMN)
                    continue;
                if (np == MAX_PARAMS || field_param(f, &logs[i], t, now, tmp[np], &v[np]) < 0) {
                    snprintf(pg->err, sizeof pg->err, "spend log: field %s", f->name);
                    return abort_start(pg);
                }
                np++;
            }
            if (send_query(pg, sql, np, v) < 0)
                return abort_start(pg);
        }
    }
    if (send_sync(pg) < 0)
        return pg->state == STORE_PG_BROKEN ? 0 : abort_start(pg);
    return 0;
}

int store_pg_key_get(store_pg_t *pg, const char *token_hash, store_key_t *out, store_pg_cb cb,
                     void *arg)
{
    store_key_init(out); /* freeable whatever happens */
    if (start_op(pg, OP_KEY_GET, cb, arg) < 0)
        return -1;
    pg->key_out = out;
    pg->key_rc = -1;
    const char *v[] = {token_hash};
    if (send_query(pg, sql_text(pg, SQL_KEY_GET), 1, v) < 0 || send_sync(pg) < 0)
        return pg->state == STORE_PG_BROKEN ? 0 : abort_start(pg);
    return 0;
}

int store_pg_auth_get(store_pg_t *pg, const char *token_hash, store_auth_row_t *out, store_pg_cb cb,
                      void *arg)
{
    store_auth_row_init(out); /* freeable whatever happens */
    if (start_op(pg, OP_AUTH_GET, cb, arg) < 0)
        return -1;
    pg->auth_out = out;
    pg->key_rc = -1;
    const char *v[] = {token_hash};
    if (send_query(pg, sql_text(pg, SQL_KEY_GET), 1, v) < 0 ||
        send_query(pg, sql_text(pg, SQL_TEAM_BY_KEY), 1, v) < 0 ||
        send_query(pg, sql_text(pg, SQL_USER_BY_KEY), 1, v) < 0 ||
        send_query(pg, sql_text(pg, SQL_MEMBER_LIMITS_BY_KEY), 1, v) < 0 || send_sync(pg) < 0)
        return pg->state == STORE_PG_BROKEN ? 0 : abort_start(pg);
    return 0;
}

int store_pg_end_user_get(store_pg_t *pg, const char *user_id, const char *default_budget_id,
                          store_end_user_t *out, store_pg_cb cb, void *arg)
{
    store_end_user_init(out); /* freeable whatever happens */
    if (start_op(pg, OP_END_USER_GET, cb, arg) < 0)
        return -1;
    pg->end_user_out = out;
    pg->key_rc = -1;
    const char *v[] = {user_id, default_budget_id};
    if (send_query(pg, sql_text(pg, SQL_END_USER_GET), 2, v) < 0 || send_sync(pg) < 0)
        return pg->state == STORE_PG_BROKEN ? 0 : abort_start(pg);
    return 0;
}

int store_pg_reset_budgets(store_pg_t *pg, long long now_ms, store_next_reset_fn next, long *count,
                           store_pg_cb cb, void *arg)
{
    if (start_op(pg, OP_RESET, cb, arg) < 0)
        return -1;
    pg->reset_now = now_ms;
    pg->reset_next = next;
    pg->reset_count = 0;
    pg->reset_out = count;
    char now[24];
    store_time_format(now_ms, now);
    const char *v[] = {now};
    if (send_query(pg, sql_text(pg, SQL_BUDGETS_DUE), 1, v) < 0 || send_sync(pg) < 0)
        return pg->state == STORE_PG_BROKEN ? 0 : abort_start(pg);
    return 0;
}

int store_pg_listen(store_pg_t *pg, const char *channel, store_pg_cb cb, void *arg)
{
    buf_t sql = {0};
    if (store_sqlf(&sql, "LISTEN %q", channel) < 0 || !buf_cstr(&sql)) {
        buf_free(&sql);
        snprintf(pg->err, sizeof pg->err, "out of memory");
        return -1;
    }
    if (start_op(pg, OP_LISTEN, cb, arg) < 0) {
        buf_free(&sql);
        return -1;
    }
    int rc = send_query(pg, sql.p, 0, NULL) < 0 || send_sync(pg) < 0;
    buf_free(&sql);
    if (rc)
        return pg->state == STORE_PG_BROKEN ? 0 : abort_start(pg);
    return 0;
}

/* ---- blocking helper (tests, tools) ---------------------------------------------------------- */

int store_pg_wait(store_pg_t *pg, int timeout_ms)
{
    long long deadline = store_now_ms() + timeout_ms;
    while (pg->op != OP_NONE) {
        int fd = store_pg_fd(pg), ev = store_pg_events(pg);
        if (fd < 0 || !ev)
            break;
        long long left = deadline - store_now_ms();
        if (left <= 0) {
            snprintf(pg->err, sizeof pg->err, "timed out after %d ms", timeout_ms);
            return -1;
        }
        struct pollfd p = {.fd = fd,
                           .events = (short)((ev & STORE_PG_READABLE ? POLLIN : 0) |
                                             (ev & STORE_PG_WRITABLE ? POLLOUT : 0))};
        int rc = poll(&p, 1, (int)left);
        if (rc < 0)
            continue; /* EINTR */
        if (rc == 0)
            continue;
        if (p.revents & (POLLIN | POLLERR | POLLHUP))
            store_pg_on_readable(pg);
        else if (p.revents & POLLOUT)
            store_pg_on_writable(pg);
    }
    return pg->state == STORE_PG_BROKEN ? -1 : 0;
}
