/* SPDX-License-Identifier: MIT
 * The SQLite back end: one connection, owned by the store thread (every call blocks on disk).
 * Statements are built from the schema and field tables once and kept prepared. Spend is written
 * as LiteLLM writes it: SpendLogs rows, increments of the entities' spend, Daily* upserts, one
 * transaction per batch; the batch is idempotent by request_id so spool replays never double. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/common.h"
#include "core/log.h"
#include "store/internal.h"
#include "store/store.h"

#define BUSY_TIMEOUT_MS 5000

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_LOG_INSERT,
    ST_ADD_KEY,
    ST_ADD_USER,
    ST_ADD_TEAM,
    ST_ADD_ORG,
    ST_ADD_END_USER,
    ST_ADD_TEAM_MEMBER,
    ST_ADD_KEY_MODEL,
    ST_KEY_GET,
    ST_KEY_INSERT,
    ST_KEY_UPDATE,
    ST_KEY_DELETE,
    ST_TEAM_GET,
    ST_USER_GET,
    ST_MEMBER_LIMITS,
    ST_END_USER_GET,
    ST_DAILY_UPSERT,                            /* + store_daily_t */
    ST_DAILY_UPDATE_NULL = ST_DAILY_UPSERT + 6, /* + store_daily_t */
    ST_COUNT = ST_DAILY_UPDATE_NULL + 6,
};

struct store_sqlite {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    char err[512];
    int errcode; /* SQLite's primary result code of the last failure; 0: not SQLite's */
};

static const char *const daily_tables[] = {
    "LiteLLM_DailyUserSpend",    "LiteLLM_DailyTeamSpend",  "LiteLLM_DailyOrganizationSpend",
    "LiteLLM_DailyEndUserSpend", "LiteLLM_DailyAgentSpend", "LiteLLM_DailyTagSpend",
};
static const char *const daily_entity_columns[] = {
    "user_id", "team_id", "organization_id", "end_user_id", "agent_id", "tag",
};
/* The increments a daily upsert adds, in bind order after the key columns. */
static const char *const daily_counters[] = {
    "prompt_tokens", "completion_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
    "spend",         "api_requests",      "successful_requests",     "failed_requests",
};

static int fail_db(store_sqlite_t *db, const char *what)
{
    db->errcode = sqlite3_errcode(db->db) & 0xff;
    snprintf(db->err, sizeof db->err, "%s: %s", what, sqlite3_errmsg(db->db));
    return -1;
}

const char *store_sqlite_errmsg(store_sqlite_t *db)
{
    return db->err;
}

bool store_sqlite_error_is_data(store_sqlite_t *db)
{
    switch (db->errcode) {
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
        return true;
    default:
        return false;
    }
}

/* ---- statement building ---------------------------------------------------------------------- */

/* The identity of a daily row, in parameter order ?2..?9 (model_group is not part of it). */
static const char *const daily_keys[] = {
    NULL,
    "date",
    "api_key",
    "model",
    "model_group",
    "custom_llm_provider",
    "mcp_namespaced_tool_name",
    "endpoint",
};

static int build_daily_upsert(buf_t *b, store_daily_t t)
{
    const char *tbl = daily_tables[t], *ent = daily_entity_columns[t];
    int rc = store_sqlf(b, "INSERT INTO %q (\"id\", %q", tbl, ent);
    for (size_t i = 1; i < COUNTOF(daily_keys); i++)
        rc |= store_sqlf(b, ", %q", daily_keys[i]);
    for (size_t i = 0; i < COUNTOF(daily_counters); i++)
        rc |= store_sqlf(b, ", %q", daily_counters[i]);
    rc |= store_sqlf(b, ", \"created_at\", \"updated_at\") VALUES (?1");
    size_t nparams = 1 + COUNTOF(daily_keys) + COUNTOF(daily_counters) + 2;
    for (size_t i = 2; i <= nparams; i++)
        rc |= store_sqlf(b, ", ?%u", i);
    rc |= store_sqlf(b, ") ON CONFLICT (%q", ent);
    for (size_t i = 1; i < COUNTOF(daily_keys); i++)
        if (strcmp(daily_keys[i], "model_group") != 0)
            rc |= store_sqlf(b, ", %q", daily_keys[i]);
    rc |= store_sqlf(b, ") DO UPDATE SET ");
    for (size_t i = 0; i < COUNTOF(daily_counters); i++)
        rc |= store_sqlf(b, "%q = %q.%q + excluded.%q, ", daily_counters[i], tbl, daily_counters[i],
                         daily_counters[i]);
    rc |= store_sqlf(b, "\"updated_at\" = excluded.\"updated_at\"");
    return rc ? -1 : 0;
}

/* For a NULL entity: UPDATE ... WHERE entity IS NULL AND the other key columns = ?. Parameters
 * are numbered as in the upsert, so one binding serves both. */
static int build_daily_update_null(buf_t *b, store_daily_t t)
{
    int rc = store_sqlf(b, "UPDATE %q SET ", daily_tables[t]);
    for (size_t i = 0; i < COUNTOF(daily_counters); i++)
        rc |= store_sqlf(b, "%q = %q + ?%u, ", daily_counters[i], daily_counters[i], i + 10);
    rc |= store_sqlf(b, "\"updated_at\" = ?19 WHERE %q IS NULL", daily_entity_columns[t]);
    for (size_t i = 1; i < COUNTOF(daily_keys); i++)
        if (strcmp(daily_keys[i], "model_group") != 0)
            rc |= store_sqlf(b, " AND %q = ?%u", daily_keys[i], i + 2);
    return rc ? -1 : 0;
}

static int build_insert(buf_t *b, const char *table, const store_field_t *f, size_t nf,
                        const char *tail)
{
    int rc = store_sqlf(b, "INSERT INTO %q (", table);
    size_t n = 0;
    for (size_t i = 0; i < nf; i++)
        if (!(f[i].flags & STORE_FIELD_NO_COLUMN))
            rc |= store_sqlf(b, n++ ? ", %q" : "%q", f[i].name);
    rc |= store_sqlf(b, ") VALUES (");
    for (size_t i = 1; i <= n; i++)
        rc |= store_sqlf(b, i > 1 ? ", ?%u" : "?%u", i);
    rc |= store_sqlf(b, ")%s", tail);
    return rc ? -1 : 0;
}

/* SELECT every field FROM table WHERE key = ?1. */
static int build_select(buf_t *b, const char *table, const store_field_t *f, size_t nf,
                        const char *key)
{
    int rc = store_sqlf(b, "SELECT ");
    for (size_t i = 0; i < nf; i++)
        rc |= store_sqlf(b, i ? ", %q" : "%q", f[i].name);
    rc |= store_sqlf(b, " FROM %q WHERE %q = ?1", table, key);
    return rc ? -1 : 0;
}

static int build_key_update(buf_t *b)
{
    int rc = store_sqlf(b, "UPDATE \"LiteLLM_VerificationToken\" SET ");
    size_t n = 0;
    for (size_t i = 0; i < store_key_num_fields; i++) {
        if (store_key_fields[i].flags & STORE_FIELD_NO_UPDATE)
            continue;
        n++;
        rc |= store_sqlf(b, n > 1 ? ", %q = ?%u" : "%q = ?%u", store_key_fields[i].name, n);
    }
    rc |= store_sqlf(b, " WHERE \"token\" = ?%u", n + 1);
    return rc ? -1 : 0;
}

/* model_spend[?3] += ?1 on key ?2. A JSON path cannot name every model (SQLite ends a quoted
 * path label at the first '"', and model names may hold one), so the old value is found with
 * json_each and the new one merged in with json_patch, both of which take the name as a value.
 * The sum is printed with 17 digits: json_object would print a REAL with 15 and lose the last
 * bits of an exact spend. */
#define KEY_MODEL_SPEND_OBJECT                                                                     \
    "CASE WHEN NOT json_valid(\"model_spend\") THEN '{}' WHEN json_type(\"model_spend\") = "       \
    "'object' THEN \"model_spend\" ELSE '{}' END"
static const char key_model_add_sql[] =
    "UPDATE \"LiteLLM_VerificationToken\" SET \"model_spend\" = json_patch(" KEY_MODEL_SPEND_OBJECT
    ", json_object(?3, json(printf('%!.17g', ?1 + coalesce((SELECT \"value\" FROM "
    "json_each(" KEY_MODEL_SPEND_OBJECT
    ") WHERE \"key\" = ?3 AND \"type\" IN ('integer', 'real')), 0))))) WHERE \"token\" = ?2";

static int build_sql(int which, buf_t *b)
{
    switch (which) {
    case ST_BEGIN:
        return buf_append_cstr(b, "BEGIN IMMEDIATE");
    case ST_COMMIT:
        return buf_append_cstr(b, "COMMIT");
    case ST_ROLLBACK:
        return buf_append_cstr(b, "ROLLBACK");
    case ST_LOG_INSERT:
        return build_insert(b, "LiteLLM_SpendLogs", store_spend_log_fields,
                            store_spend_log_num_fields, " ON CONFLICT (\"request_id\") DO NOTHING");
    case ST_ADD_KEY:
        return buf_append_cstr(b, "UPDATE \"LiteLLM_VerificationToken\" SET \"spend\" = "
                                  "\"spend\" + ?1 WHERE \"token\" = ?2");
    case ST_ADD_USER:
        return buf_append_cstr(b, "UPDATE \"LiteLLM_UserTable\" SET \"spend\" = \"spend\" + ?1 "
                                  "WHERE \"user_id\" = ?2");
    case ST_ADD_TEAM:
        return buf_append_cstr(b, "UPDATE \"LiteLLM_TeamTable\" SET \"spend\" = \"spend\" + ?1 "
                                  "WHERE \"team_id\" = ?2");
    case ST_ADD_ORG:
        return buf_append_cstr(b, "UPDATE \"LiteLLM_OrganizationTable\" SET \"spend\" = "
                                  "\"spend\" + ?1 WHERE \"organization_id\" = ?2");
    case ST_ADD_END_USER:
        return buf_append_cstr(b, "INSERT INTO \"LiteLLM_EndUserTable\" (\"user_id\", \"spend\", "
                                  "\"blocked\") VALUES (?2, ?1, 0) ON CONFLICT (\"user_id\") DO "
                                  "UPDATE SET \"spend\" = \"LiteLLM_EndUserTable\".\"spend\" + "
                                  "excluded.\"spend\"");
    case ST_ADD_TEAM_MEMBER:
        return buf_append_cstr(b, "UPDATE \"LiteLLM_TeamMembership\" SET \"spend\" = \"spend\" + "
                                  "?1, \"total_spend\" = \"total_spend\" + ?1 WHERE \"user_id\" = "
                                  "?2 AND \"team_id\" = ?3");
    case ST_ADD_KEY_MODEL:
        return buf_append_cstr(b, key_model_add_sql);
    case ST_KEY_GET:
        return build_select(b, "LiteLLM_VerificationToken", store_key_fields, store_key_num_fields,
                            "token");
    case ST_TEAM_GET:
        return build_select(b, "LiteLLM_TeamTable", store_team_fields, store_team_num_fields,
                            "team_id");
    case ST_USER_GET:
        return build_select(b, "LiteLLM_UserTable", store_user_fields, store_user_num_fields,
                            "user_id");
    case ST_MEMBER_LIMITS:
        return store_member_limits_sql(b, "?1");
    case ST_END_USER_GET:
        return store_end_user_sql(b, "?1", "?2");
    case ST_KEY_INSERT:
        return build_insert(b, "LiteLLM_VerificationToken", store_key_fields, store_key_num_fields,
                            "");
    case ST_KEY_UPDATE:
        return build_key_update(b);
    case ST_KEY_DELETE:
        return buf_append_cstr(b, "DELETE FROM \"LiteLLM_VerificationToken\" WHERE \"token\" = ?1");
    default:
        if (which >= ST_DAILY_UPSERT && which < ST_DAILY_UPSERT + 6)
            return build_daily_upsert(b, (store_daily_t)(which - ST_DAILY_UPSERT));
        return build_daily_update_null(b, (store_daily_t)(which - ST_DAILY_UPDATE_NULL));
    }
}

/* The prepared statement, reset and unbound, ready for binding; NULL on error. */
static sqlite3_stmt *stmt(store_sqlite_t *db, int which)
{
    sqlite3_stmt *s = db->st[which];
    if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return s;
    }
    buf_t sql = {0};
    if (build_sql(which, &sql) < 0 || !buf_cstr(&sql)) {
        buf_free(&sql);
        snprintf(db->err, sizeof db->err, "out of memory");
        return NULL;
    }
    if (sqlite3_prepare_v3(db->db, sql.p, (int)sql.n, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
        SQLITE_OK) {
        fail_db(db, "prepare");
        log_error("store: cannot prepare %s: %s", sql.p, sqlite3_errmsg(db->db));
        buf_free(&sql);
        return NULL;
    }
    buf_free(&sql);
    db->st[which] = s;
    return s;
}

/* Steps a statement that returns no rows. 0, or -1. */
static int run(store_sqlite_t *db, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fail_db(db, what);
        sqlite3_reset(s);
        return -1;
    }
    sqlite3_reset(s);
    return 0;
}

/* ---- binding records ------------------------------------------------------------------------- */

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
    return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
}

static int bind_time(sqlite3_stmt *s, int i, long long ms)
{
    if (ms == STORE_TIME_NULL)
        return sqlite3_bind_null(s, i);
    char t[24];
    store_time_format(ms, t);
    return sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
}

/* The value a NULL takes for a column with a default: what the database would put there had the
 * column been left out of the INSERT (LiteLLM's Prisma client leaves it out). */
static int bind_default(sqlite3_stmt *s, int i, const store_column_t *c, long long now)
{
    switch (c ? c->def : STORE_DEF_NONE) {
    case STORE_DEF_ZERO:
    case STORE_DEF_FALSE:
        return sqlite3_bind_int(s, i, 0);
    case STORE_DEF_TRUE:
        return sqlite3_bind_int(s, i, 1);
    case STORE_DEF_EMPTY_TEXT:
        return sqlite3_bind_text(s, i, "", 0, SQLITE_STATIC);
    case STORE_DEF_JSON_OBJECT:
        return sqlite3_bind_text(s, i, "{}", 2, SQLITE_STATIC);
    case STORE_DEF_JSON_ARRAY:
    case STORE_DEF_EMPTY_LIST:
        return sqlite3_bind_text(s, i, "[]", 2, SQLITE_STATIC);
    case STORE_DEF_NOW:
        return bind_time(s, i, now);
    default:
        return sqlite3_bind_null(s, i);
    }
}

static int bind_field(sqlite3_stmt *s, int i, const store_field_t *f, const void *rec,
                      const store_table_t *t, long long now)
{
    const char *base = (const char *)rec + f->offset;
    const store_column_t *c = store_schema_column(t, f->name);
    switch (f->kind) {
    case STORE_F_STR:
    case STORE_F_JSON: {
        const char *v = *(const char *const *)base;
        return v ? bind_text(s, i, v) : bind_default(s, i, c, now);
    }
    case STORE_F_LIST: {
        const store_strlist_t *l = (const store_strlist_t *)base;
        buf_t j = {0};
        if (store_strlist_to_json(l, &j) < 0) {
            buf_free(&j);
            return SQLITE_NOMEM;
        }
        int rc = sqlite3_bind_text(s, i, j.p, (int)j.n, SQLITE_TRANSIENT);
        buf_free(&j);
        return rc;
    }
    case STORE_F_F64:
        return sqlite3_bind_double(s, i, *(const double *)base);
    case STORE_F_F64_OPT: {
        double v = *(const double *)base;
        return isnan(v) ? bind_default(s, i, c, now) : sqlite3_bind_double(s, i, v);
    }
    case STORE_F_I64:
        return sqlite3_bind_int64(s, i, *(const long long *)base);
    case STORE_F_I64_OPT: {
        long long v = *(const long long *)base;
        return v == STORE_INT_NULL ? bind_default(s, i, c, now) : sqlite3_bind_int64(s, i, v);
    }
    case STORE_F_TIME: {
        long long v = *(const long long *)base;
        return v == STORE_TIME_NULL ? bind_default(s, i, c, now) : bind_time(s, i, v);
    }
    case STORE_F_BOOL:
        return sqlite3_bind_int(s, i, *(const bool *)base ? 1 : 0);
    case STORE_F_BOOL_OPT: {
        int v = *(const int *)base;
        return v < 0 ? bind_default(s, i, c, now) : sqlite3_bind_int(s, i, v ? 1 : 0);
    }
    }
    return SQLITE_MISUSE;
}

/* Binds every field that is a column (and, with skip_no_update, can be updated) from ?1 on.
 * Returns the next parameter number, or -1. */
static int bind_record(sqlite3_stmt *s, const store_field_t *f, size_t nf, const void *rec,
                       const store_table_t *t, bool skip_no_update)
{
    long long now = store_now_ms();
    int i = 1;
    for (size_t k = 0; k < nf; k++) {
        if (f[k].flags & STORE_FIELD_NO_COLUMN)
            continue;
        if (skip_no_update && (f[k].flags & STORE_FIELD_NO_UPDATE))
            continue;
        if (bind_field(s, i++, &f[k], rec, t, now) != SQLITE_OK)
            return -1;
    }
    return i;
}

static int read_field(sqlite3_stmt *s, int col, const store_field_t *f, void *rec)
{
    char *base = (char *)rec + f->offset;
    bool null = sqlite3_column_type(s, col) == SQLITE_NULL;
    const char *text = (const char *)sqlite3_column_text(s, col);
    switch (f->kind) {
    case STORE_F_STR:
    case STORE_F_JSON:
        if (!null && !(*(char **)base = strdup(text ? text : "")))
            return -1;
        return 0;
    case STORE_F_LIST:
        if (!null && text && store_strlist_from_json((store_strlist_t *)base, text) < 0)
            log_warn("store: column %s holds no JSON array: %s", f->name, text);
        return 0;
    case STORE_F_F64:
        *(double *)base = sqlite3_column_double(s, col);
        return 0;
    case STORE_F_F64_OPT:
        *(double *)base = null ? NAN : sqlite3_column_double(s, col);
        return 0;
    case STORE_F_I64:
        *(long long *)base = sqlite3_column_int64(s, col);
        return 0;
    case STORE_F_I64_OPT:
        *(long long *)base = null ? STORE_INT_NULL : sqlite3_column_int64(s, col);
        return 0;
    case STORE_F_TIME:
        *(long long *)base = null ? STORE_TIME_NULL : store_time_parse(text);
        return 0;
    case STORE_F_BOOL:
        *(bool *)base = sqlite3_column_int(s, col) != 0;
        return 0;
    case STORE_F_BOOL_OPT:
        *(int *)base = null ? -1 : sqlite3_column_int(s, col) != 0;
        return 0;
    }
    return -1;
}

/* ---- open, close, transactions --------------------------------------------------------------- */

static int exec_raw(struct sqlite3 *db, const char *sql, char *err, size_t errsz)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errsz, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int table_exists(struct sqlite3 *db, const char *name, char *err, size_t errsz)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1,
                           &s, NULL) != SQLITE_OK) {
        snprintf(err, errsz, "sqlite_master: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        snprintf(err, errsz, "sqlite_master: %s", sqlite3_errmsg(db));
        return -1;
    }
    return rc == SQLITE_ROW;
}

/* Creates the absent tables (and only their indexes) in one transaction. */
static int create_tables(struct sqlite3 *db, char *err, size_t errsz)
{
    if (exec_raw(db, "BEGIN IMMEDIATE", err, errsz) < 0)
        return -1;
    buf_t ddl = {0};
    bool *exists = calloc(store_schema_num_tables, sizeof *exists);
    int created = -1;
    if (!exists) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < store_schema_num_tables; i++) {
        int rc = table_exists(db, store_schema_tables[i]->name, err, errsz);
        if (rc < 0)
            goto fail;
        exists[i] = rc == 1;
    }
    created = store_schema_absent_ddl(STORE_DIALECT_SQLITE, exists, &ddl);
    if (created < 0) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    if (ddl.n && (!buf_cstr(&ddl) || exec_raw(db, ddl.p, err, errsz) < 0))
        goto fail;
    buf_free(&ddl);
    free(exists);
    if (exec_raw(db, "COMMIT", err, errsz) < 0)
        return -1;
    if (created)
        log_info("store: created %d LiteLLM table(s)", created);
    return 0;
fail:
    buf_free(&ddl);
    free(exists);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int store_sqlite_connect(const char *path, struct sqlite3 **out, char *err, size_t errsz)
{
    sqlite3 *db = NULL;
    char why[400];
    int rc = sqlite3_open_v2(
        path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errsz, "%.200s: %.300s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    /* WAL lets control-plane readers (another connection) run beside the writer; synchronous
     * FULL makes a committed spend batch survive power loss, at one fsync per batch. */
    if (exec_raw(db, "PRAGMA journal_mode = WAL", why, sizeof why) < 0 ||
        exec_raw(db, "PRAGMA synchronous = FULL", why, sizeof why) < 0 ||
        /* appends and point reads: a small page cache keeps the process small */
        exec_raw(db, "PRAGMA cache_size = -512", why, sizeof why) < 0 ||
        create_tables(db, why, sizeof why) < 0) {
        snprintf(err, errsz, "%.200s: %.300s", path, why);
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

store_sqlite_t *store_sqlite_open(const char *path, char **err)
{
    store_sqlite_t *db = calloc(1, sizeof *db);
    if (!db) {
        if (err)
            *err = strdup("out of memory");
        return NULL;
    }
    if (store_sqlite_connect(path, &db->db, db->err, sizeof db->err) < 0) {
        if (err)
            *err = strdup(db->err);
        free(db);
        return NULL;
    }
    return db;
}

void store_sqlite_close(store_sqlite_t *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(db->st[i]);
    sqlite3_close(db->db);
    free(db);
}

int store_sqlite_begin(store_sqlite_t *db)
{
    sqlite3_stmt *s = stmt(db, ST_BEGIN);
    return s ? run(db, s, "begin") : -1;
}

int store_sqlite_commit(store_sqlite_t *db)
{
    sqlite3_stmt *s = stmt(db, ST_COMMIT);
    return s ? run(db, s, "commit") : -1;
}

void store_sqlite_rollback(store_sqlite_t *db)
{
    if (sqlite3_get_autocommit(db->db))
        return; /* SQLite already rolled back (e.g. after SQLITE_FULL) */
    sqlite3_stmt *s = stmt(db, ST_ROLLBACK);
    if (s)
        run(db, s, "rollback");
}

/* ---- spend ----------------------------------------------------------------------------------- */

int store_sqlite_insert_spend_logs(store_sqlite_t *db, const store_spend_log_t *logs, size_t n,
                                   bool *inserted)
{
    const store_table_t *t = store_schema_table("LiteLLM_SpendLogs");
    int added = 0;
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *s = stmt(db, ST_LOG_INSERT);
        if (!s)
            return -1;
        if (bind_record(s, store_spend_log_fields, store_spend_log_num_fields, &logs[i], t, false) <
            0)
            return fail_db(db, "bind spend log");
        if (run(db, s, "insert spend log") < 0)
            return -1;
        bool is_new = sqlite3_changes(db->db) > 0;
        if (inserted)
            inserted[i] = is_new;
        added += is_new;
    }
    return added;
}

int store_sqlite_add_spend(store_sqlite_t *db, store_entity_t entity, const char *id,
                           const char *id2, double amount)
{
    static const int which[] = {ST_ADD_KEY,      ST_ADD_USER,        ST_ADD_TEAM,     ST_ADD_ORG,
                                ST_ADD_END_USER, ST_ADD_TEAM_MEMBER, ST_ADD_KEY_MODEL};
    bool has_id2 = entity == STORE_ENTITY_TEAM_MEMBER || entity == STORE_ENTITY_KEY_MODEL;
    if ((unsigned)entity >= COUNTOF(which) || !id || (has_id2 && !id2)) {
        snprintf(db->err, sizeof db->err, "add_spend: bad entity or id");
        return -1;
    }
    sqlite3_stmt *s = stmt(db, which[entity]);
    if (!s)
        return -1;
    sqlite3_bind_double(s, 1, amount);
    sqlite3_bind_text(s, 2, id, -1, SQLITE_TRANSIENT);
    if (has_id2)
        sqlite3_bind_text(s, 3, id2, -1, SQLITE_TRANSIENT);
    if (run(db, s, "add spend") < 0)
        return -1;
    return sqlite3_changes(db->db);
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static int bind_daily(sqlite3_stmt *s, const store_daily_delta_t *d, const char *id, long long now)
{
    const char *keys[] = {d->entity_id,
                          d->date,
                          or_empty(d->api_key),
                          or_empty(d->model),
                          d->model_group,
                          or_empty(d->custom_llm_provider),
                          or_empty(d->mcp_namespaced_tool_name),
                          or_empty(d->endpoint)};
    int rc = bind_text(s, 1, id);
    for (int i = 0; i < (int)COUNTOF(keys); i++)
        rc |= bind_text(s, 2 + i, keys[i]);
    long long counters[] = {d->prompt_tokens, d->completion_tokens, d->cache_read_input_tokens,
                            d->cache_creation_input_tokens};
    for (int i = 0; i < 4; i++)
        rc |= sqlite3_bind_int64(s, 10 + i, counters[i]);
    rc |= sqlite3_bind_double(s, 14, d->spend);
    rc |= sqlite3_bind_int64(s, 15, d->api_requests);
    rc |= sqlite3_bind_int64(s, 16, d->successful_requests);
    rc |= sqlite3_bind_int64(s, 17, d->failed_requests);
    rc |= bind_time(s, 18, now);
    rc |= bind_time(s, 19, now);
    return rc == SQLITE_OK ? 0 : -1;
}

int store_sqlite_upsert_daily(store_sqlite_t *db, store_daily_t table, const store_daily_delta_t *d)
{
    if ((unsigned)table >= COUNTOF(daily_tables) || !d->date) {
        snprintf(db->err, sizeof db->err, "upsert_daily: bad table or no date");
        return -1;
    }
    long long now = store_now_ms();
    char id[37];
    store_uuid(id);
    if (!d->entity_id) {
        /* NULLs are distinct in a unique index, so ON CONFLICT never fires: update first. The
         * update-null statement only uses the parameters it names; bind them all the same way. */
        sqlite3_stmt *u = stmt(db, ST_DAILY_UPDATE_NULL + (int)table);
        if (!u)
            return -1;
        if (bind_daily(u, d, id, now) < 0)
            return fail_db(db, "bind daily");
        if (run(db, u, "daily update") < 0)
            return -1;
        if (sqlite3_changes(db->db) > 0)
            return 0;
    }
    sqlite3_stmt *s = stmt(db, ST_DAILY_UPSERT + (int)table);
    if (!s)
        return -1;
    if (bind_daily(s, d, id, now) < 0)
        return fail_db(db, "bind daily");
    return run(db, s, "daily upsert");
}

/* Sums the increments and applies one statement per distinct row. */
static int apply(store_sqlite_t *db, store_batch_acc_t *a)
{
    store_batch_merge(a);
    for (size_t i = 0; i < a->nspend; i++) {
        const store_spend_item_t *s = &a->spend[i];
        if (store_sqlite_add_spend(db, s->entity, s->id, s->id2, s->amount) < 0)
            return -1;
    }
    for (size_t i = 0; i < a->ndaily; i++)
        if (store_sqlite_upsert_daily(db, a->daily[i].table, &a->daily[i].d) < 0)
            return -1;
    return 0;
}

int store_sqlite_write_batch(store_sqlite_t *db, const store_spend_log_t *logs, size_t n,
                             bool write_logs, store_batch_result_t *res, bool *inserted)
{
    store_batch_result_t r = {0, 0};
    db->errcode = 0;
    bool *fresh = calloc(n ? n : 1, sizeof *fresh);
    char(*dates)[11] = calloc(n ? n : 1, sizeof *dates);
    cJSON **tags = calloc(n ? n : 1, sizeof *tags);
    store_batch_acc_t acc = {0};
    bool began = false;
    if (!fresh || !dates || !tags) {
        snprintf(db->err, sizeof db->err, "out of memory");
        goto fail;
    }
    if (store_sqlite_begin(db) < 0)
        goto fail;
    began = true;
    if (write_logs) {
        if (store_sqlite_insert_spend_logs(db, logs, n, fresh) < 0)
            goto fail;
    } else {
        for (size_t i = 0; i < n; i++)
            fresh[i] = true;
    }
    for (size_t i = 0; i < n; i++) {
        if (!fresh[i]) {
            r.duplicates++;
            continue;
        }
        r.inserted += write_logs;
        store_date_format(
            logs[i].start_time != STORE_TIME_NULL ? logs[i].start_time : store_now_ms(), dates[i]);
        if (store_batch_collect(&acc, &logs[i], dates[i], &tags[i]) < 0) {
            snprintf(db->err, sizeof db->err, "out of memory");
            goto fail;
        }
    }
    if (apply(db, &acc) < 0 || store_sqlite_commit(db) < 0)
        goto fail;
    if (r.duplicates)
        log_info("store: %zu spend record(s) were already stored; not counted again", r.duplicates);
    if (res)
        *res = r;
    if (inserted)
        memcpy(inserted, fresh, n * sizeof *fresh);
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(tags[i]);
    free(tags);
    free(dates);
    free(fresh);
    free(acc.spend);
    free(acc.daily);
    return 0;
fail:
    if (began)
        store_sqlite_rollback(db);
    for (size_t i = 0; tags && i < n; i++)
        cJSON_Delete(tags[i]);
    free(tags);
    free(dates);
    free(fresh);
    free(acc.spend);
    free(acc.daily);
    return -1;
}

/* ---- keys ------------------------------------------------------------------------------------ */

/* Runs a one-row select by primary key into rec (initialised by the caller). 0 found, 1 none,
 * -1 error (what the record got so far is the caller's to free). */
/* Steps a bound statement into rec: 0 a row, 1 none, -1 error. */
static int read_row(store_sqlite_t *db, sqlite3_stmt *s, const store_field_t *f, size_t nf,
                    void *rec, const char *what)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(s);
        return 1;
    }
    if (rc != SQLITE_ROW) {
        fail_db(db, what);
        sqlite3_reset(s);
        return -1;
    }
    for (size_t i = 0; i < nf; i++)
        if (read_field(s, (int)i, &f[i], rec) < 0) {
            sqlite3_reset(s);
            snprintf(db->err, sizeof db->err, "out of memory");
            return -1;
        }
    sqlite3_reset(s);
    return 0;
}

static int get_row(store_sqlite_t *db, int which, const char *id, const store_field_t *f, size_t nf,
                   void *rec, const char *what)
{
    sqlite3_stmt *s = stmt(db, which);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
    return read_row(db, s, f, nf, rec, what);
}

int store_sqlite_key_get(store_sqlite_t *db, const char *token_hash, store_key_t *out)
{
    store_key_init(out);
    int rc = get_row(db, ST_KEY_GET, token_hash, store_key_fields, store_key_num_fields, out,
                     "read key");
    if (rc < 0)
        store_key_free(out);
    return rc;
}

int store_sqlite_team_get(store_sqlite_t *db, const char *team_id, store_team_t *out)
{
    store_team_init(out);
    int rc = get_row(db, ST_TEAM_GET, team_id, store_team_fields, store_team_num_fields, out,
                     "read team");
    if (rc < 0)
        store_team_free(out);
    return rc;
}

int store_sqlite_user_get(store_sqlite_t *db, const char *user_id, store_user_t *out)
{
    store_user_init(out);
    int rc = get_row(db, ST_USER_GET, user_id, store_user_fields, store_user_num_fields, out,
                     "read user");
    if (rc < 0)
        store_user_free(out);
    return rc;
}

int store_sqlite_end_user_get(store_sqlite_t *db, const char *user_id,
                              const char *default_budget_id, store_end_user_t *out)
{
    store_end_user_init(out);
    sqlite3_stmt *s = stmt(db, ST_END_USER_GET);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_TRANSIENT);
    if (default_budget_id) /* unbound, ?2 is NULL: no default */
        sqlite3_bind_text(s, 2, default_budget_id, -1, SQLITE_TRANSIENT);
    int rc =
        read_row(db, s, store_end_user_fields, store_end_user_num_fields, out, "read end user");
    if (rc != 0)
        store_end_user_free(out);
    return rc;
}

int store_sqlite_auth_get(store_sqlite_t *db, const char *token_hash, store_auth_row_t *out)
{
    store_auth_row_init(out);
    int rc = store_sqlite_key_get(db, token_hash, &out->key);
    if (rc != 0)
        return rc;
    if (out->key.team_id) {
        int t = store_sqlite_team_get(db, out->key.team_id, &out->team);
        if (t < 0)
            goto fail;
        out->has_team = t == 0;
    }
    if (out->key.user_id) {
        int u = store_sqlite_user_get(db, out->key.user_id, &out->user);
        if (u < 0)
            goto fail;
        out->has_user = u == 0;
    }
    if (out->key.team_id && out->key.user_id) {
        int m = get_row(db, ST_MEMBER_LIMITS, token_hash, store_limits_fields,
                        store_limits_num_fields, &out->member, "read team member limits");
        if (m < 0)
            goto fail;
        out->has_member = m == 0;
    }
    return 0;
fail:
    store_auth_row_free(out);
    return -1;
}

long long store_sqlite_data_version(store_sqlite_t *db)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db->db, "PRAGMA data_version", -1, &s, NULL) != SQLITE_OK)
        return fail_db(db, "data_version");
    long long v = -1;
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    else
        fail_db(db, "data_version");
    sqlite3_finalize(s);
    return v;
}

/* ---- budget resets --------------------------------------------------------------------------- */

static const struct {
    const char *table, *key;
} budget_tables[] = {
    {"LiteLLM_VerificationToken", "token"},
    {"LiteLLM_UserTable", "user_id"},
    {"LiteLLM_TeamTable", "team_id"},
};

/* Resets the due rows of one table. Returns the rows reset, or -1. */
static long reset_table(store_sqlite_t *db, size_t t, long long now_ms, store_next_reset_fn next)
{
    buf_t q = {0}, u = {0};
    sqlite3_stmt *sel = NULL, *upd = NULL;
    store_strlist_t ids = {0}, durations = {0};
    long done = -1;
    char now[24];
    store_time_format(now_ms, now);
    if (store_sqlf(&q,
                   "SELECT %q, \"budget_duration\" FROM %q WHERE \"budget_reset_at\" IS NOT NULL "
                   "AND \"budget_reset_at\" <= ?1 AND \"budget_duration\" IS NOT NULL",
                   budget_tables[t].key, budget_tables[t].table) < 0 ||
        store_sqlf(&u,
                   "UPDATE %q SET \"spend\" = 0, \"budget_reset_at\" = ?2 WHERE %q = ?1 AND "
                   "\"budget_reset_at\" <= ?3",
                   budget_tables[t].table, budget_tables[t].key) < 0 ||
        !buf_cstr(&q) || !buf_cstr(&u)) {
        snprintf(db->err, sizeof db->err, "out of memory");
        goto out;
    }
    if (sqlite3_prepare_v2(db->db, q.p, -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db->db, u.p, -1, &upd, NULL) != SQLITE_OK) {
        fail_db(db, "reset budgets");
        goto out;
    }
    sqlite3_bind_text(sel, 1, now, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(sel, 0);
        const char *dur = (const char *)sqlite3_column_text(sel, 1);
        if (store_strlist_push(&ids, id ? id : "") < 0 ||
            store_strlist_push(&durations, dur ? dur : "") < 0) {
            snprintf(db->err, sizeof db->err, "out of memory");
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        fail_db(db, "reset budgets");
        goto out;
    }
    done = 0;
    for (size_t i = 0; i < ids.n; i++) {
        long long at = next(durations.v[i], now_ms);
        if (at == STORE_TIME_NULL) {
            log_warn("store: %s %s: budget_duration '%s' is not a duration; budget not reset",
                     budget_tables[t].table, ids.v[i], durations.v[i]);
            continue;
        }
        char next_at[24];
        store_time_format(at, next_at);
        sqlite3_reset(upd);
        sqlite3_bind_text(upd, 1, ids.v[i], -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(upd, 2, next_at, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(upd, 3, now, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(upd) != SQLITE_DONE) {
            fail_db(db, "reset budget");
            done = -1;
            goto out;
        }
        done += sqlite3_changes(db->db);
    }
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    buf_free(&q);
    buf_free(&u);
    store_strlist_free(&ids);
    store_strlist_free(&durations);
    return done;
}

int store_sqlite_reset_budgets(store_sqlite_t *db, long long now_ms, store_next_reset_fn next)
{
    if (store_sqlite_begin(db) < 0)
        return -1;
    long total = 0;
    for (size_t t = 0; t < COUNTOF(budget_tables); t++) {
        long n = reset_table(db, t, now_ms, next);
        if (n < 0) {
            store_sqlite_rollback(db);
            return -1;
        }
        total += n;
    }
    if (store_sqlite_commit(db) < 0) {
        store_sqlite_rollback(db);
        return -1;
    }
    if (total)
        log_info("store: reset the budget window of %ld key(s), user(s) and team(s)", total);
    return (int)total;
}

int store_sqlite_key_insert(store_sqlite_t *db, const store_key_t *k)
{
    const store_table_t *t = store_schema_table("LiteLLM_VerificationToken");
    sqlite3_stmt *s = stmt(db, ST_KEY_INSERT);
    if (!s)
        return -1;
    if (!k->token) {
        snprintf(db->err, sizeof db->err, "key insert: no token");
        return -1;
    }
    if (bind_record(s, store_key_fields, store_key_num_fields, k, t, false) < 0)
        return fail_db(db, "bind key");
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return 0;
    if (sqlite3_extended_errcode(db->db) == SQLITE_CONSTRAINT_PRIMARYKEY) {
        snprintf(db->err, sizeof db->err, "key exists");
        return 1;
    }
    return fail_db(db, "insert key");
}

int store_sqlite_key_update(store_sqlite_t *db, const store_key_t *k)
{
    const store_table_t *t = store_schema_table("LiteLLM_VerificationToken");
    sqlite3_stmt *s = stmt(db, ST_KEY_UPDATE);
    if (!s)
        return -1;
    int next = bind_record(s, store_key_fields, store_key_num_fields, k, t, true);
    if (next < 0 || bind_text(s, next, k->token) != SQLITE_OK)
        return fail_db(db, "bind key");
    if (run(db, s, "update key") < 0)
        return -1;
    return sqlite3_changes(db->db) > 0 ? 0 : 1;
}

int store_sqlite_key_delete(store_sqlite_t *db, const char *token_hash)
{
    sqlite3_stmt *s = stmt(db, ST_KEY_DELETE);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, token_hash, -1, SQLITE_TRANSIENT);
    if (run(db, s, "delete key") < 0)
        return -1;
    return sqlite3_changes(db->db) > 0 ? 0 : 1;
}
