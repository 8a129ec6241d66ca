/* SPDX-License-Identifier: MIT
 * sdb: the control plane's blocking database handle. SQLite through one connection of its own,
 * PostgreSQL through libpq's synchronous calls (PQexecParams), both behind one query API with
 * $1..$n placeholders and results as text in one storage form per column type. The schema
 * description drives the few dialect differences (JSON, String[], DateTime, Boolean). Opening
 * creates the absent tables exactly as the store's back ends do (the same shared code). */
#include "store/sdb.h"

#include <libpq-fe.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "store/internal.h"

#define PG_BOOLOID 16

struct sdb {
    store_dialect_t dialect;
    sqlite3 *lite;
    PGconn *pg;
    bool in_txn; /* PostgreSQL: a broken connection inside a transaction is not retried */
    char err[512];
};

struct sdb_res {
    PGresult *pg;  /* PostgreSQL: libpq's result, read in place */
    bool *is_bool; /* PostgreSQL: per column, a BOOLEAN whose t/f reads as 1/0 */
    int ncols;
    size_t nrows, cap;
    char **names; /* SQLite: the column names */
    char **cells; /* SQLite: nrows * ncols texts, NULL for SQL NULL */
};

const char *sdb_errmsg(const sdb_t *db)
{
    return db->err;
}

store_dialect_t sdb_dialect(const sdb_t *db)
{
    return db->dialect;
}

/* "what: message", one line (libpq ends its messages with a newline). */
static void set_err(sdb_t *db, const char *what, const char *msg)
{
    snprintf(db->err, sizeof db->err, "%s: %s", what, msg && *msg ? msg : "unknown error");
    size_t n = strlen(db->err);
    while (n && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
        db->err[--n] = '\0';
}

/* ---- open, close ----------------------------------------------------------------------------- */

sdb_t *sdb_open_sqlite(const char *path, char **err)
{
    sdb_t *db = calloc(1, sizeof *db);
    if (!db) {
        if (err)
            *err = strdup("out of memory");
        return NULL;
    }
    db->dialect = STORE_DIALECT_SQLITE;
    if (store_sqlite_connect(path, &db->lite, db->err, sizeof db->err) < 0) {
        if (err)
            *err = strdup(db->err);
        free(db);
        return NULL;
    }
    return db;
}

/* CREATE ... IF NOT EXISTS answers "already exists, skipping" with a NOTICE; libpq would print
 * it on stderr. */
static void pg_notice(void *arg, const char *msg)
{
    (void)arg;
    log_debug("sdb: %s", msg);
}

/* The schema check of store_pg_ensure_schema, synchronously: the absent tables are created in
 * one transaction, and only on a database without LiteLLM_VerificationToken. */
static int pg_ensure_schema(sdb_t *db)
{
    bool *exists = calloc(store_schema_num_tables, sizeof *exists);
    buf_t ddl = {0};
    int rc = -1;
    PGresult *r = PQexec(db->pg, store_pg_relations_sql);
    if (!exists) {
        snprintf(db->err, sizeof db->err, "out of memory");
        goto out;
    }
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        set_err(db, "schema", r ? PQresultErrorMessage(r) : PQerrorMessage(db->pg));
        goto out;
    }
    for (int row = 0; row < PQntuples(r); row++)
        for (size_t i = 0; i < store_schema_num_tables; i++)
            if (strcmp(PQgetvalue(r, row, 0), store_schema_tables[i]->name) == 0)
                exists[i] = true;
    int absent = store_pg_schema_ddl(exists, &ddl);
    if (absent < 0 || buf_append_cstr(&ddl, "COMMIT;\n") < 0 || !buf_cstr(&ddl)) {
        snprintf(db->err, sizeof db->err, "out of memory");
        goto out;
    }
    rc = 0;
    if (absent == 0)
        goto out;
    log_info("sdb: creating %d absent table(s) in PostgreSQL", absent);
    PQclear(r);
    r = PQexec(db->pg, "BEGIN;" STORE_PG_SCHEMA_LOCK ";");
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        PQclear(r);
        r = PQexec(db->pg, ddl.p); /* one simple query: every statement, then COMMIT */
    }
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        set_err(db, "schema", r ? PQresultErrorMessage(r) : PQerrorMessage(db->pg));
        PQclear(PQexec(db->pg, "ROLLBACK"));
        rc = -1;
    }
out:
    PQclear(r);
    buf_free(&ddl);
    free(exists);
    return rc;
}

sdb_t *sdb_open_pg(const char *conninfo, char **err)
{
    sdb_t *db = calloc(1, sizeof *db);
    if (!db) {
        if (err)
            *err = strdup("out of memory");
        return NULL;
    }
    db->dialect = STORE_DIALECT_POSTGRES;
    db->pg = PQconnectdb(conninfo);
    if (!db->pg) {
        snprintf(db->err, sizeof db->err, "connect: out of memory");
        goto fail;
    }
    if (PQstatus(db->pg) != CONNECTION_OK) {
        set_err(db, "connect", PQerrorMessage(db->pg));
        goto fail;
    }
    PQsetNoticeProcessor(db->pg, pg_notice, NULL);
    if (pg_ensure_schema(db) < 0)
        goto fail;
    return db;
fail:
    if (err)
        *err = strdup(db->err);
    sdb_close(db);
    return NULL;
}

void sdb_close(sdb_t *db)
{
    if (!db)
        return;
    if (db->lite)
        sqlite3_close(db->lite);
    if (db->pg)
        PQfinish(db->pg);
    free(db);
}

/* ---- results --------------------------------------------------------------------------------- */

void sdb_res_free(sdb_res_t *r)
{
    if (!r)
        return;
    if (r->pg)
        PQclear(r->pg);
    for (size_t i = 0; r->cells && i < r->nrows * (size_t)r->ncols; i++)
        free(r->cells[i]);
    for (int i = 0; r->names && i < r->ncols; i++)
        free(r->names[i]);
    free(r->cells);
    free(r->names);
    free(r->is_bool);
    free(r);
}

size_t sdb_res_rows(const sdb_res_t *r)
{
    return r->nrows;
}

int sdb_res_cols(const sdb_res_t *r)
{
    return r->ncols;
}

const char *sdb_res_name(const sdb_res_t *r, int col)
{
    if (col < 0 || col >= r->ncols)
        return NULL;
    return r->pg ? PQfname(r->pg, col) : r->names[col];
}

const char *sdb_res_get(const sdb_res_t *r, size_t row, int col)
{
    if (row >= r->nrows || col < 0 || col >= r->ncols)
        return NULL;
    if (!r->pg)
        return r->cells[row * (size_t)r->ncols + (size_t)col];
    if (PQgetisnull(r->pg, (int)row, col))
        return NULL;
    const char *v = PQgetvalue(r->pg, (int)row, col);
    if (r->is_bool[col])
        return v[0] == 't' ? "1" : "0";
    return v;
}

int sdb_res_col(const sdb_res_t *r, const char *name)
{
    for (int i = 0; i < r->ncols; i++)
        if (strcmp(sdb_res_name(r, i), name) == 0)
            return i;
    return -1;
}

/* The shortest "%.Ng" that reads back as the same double. */
static void format_double(double v, char out[32])
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

/* ---- SQLite ---------------------------------------------------------------------------------- */

static int lite_add_row(sdb_res_t *r, sqlite3_stmt *s)
{
    if (r->nrows == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        char **cells = realloc(r->cells, cap * (size_t)r->ncols * sizeof *cells);
        if (!cells)
            return -1;
        r->cells = cells;
        r->cap = cap;
    }
    char **row = r->cells + r->nrows * (size_t)r->ncols;
    for (int c = 0; c < r->ncols; c++)
        row[c] = NULL;
    r->nrows++; /* counted at once, so sdb_res_free frees a half-filled row */
    for (int c = 0; c < r->ncols; c++) {
        int type = sqlite3_column_type(s, c);
        if (type == SQLITE_NULL)
            continue;
        if (type == SQLITE_FLOAT) {
            char num[32];
            format_double(sqlite3_column_double(s, c), num);
            row[c] = strdup(num);
        } else {
            const unsigned char *t = sqlite3_column_text(s, c);
            row[c] = strdup(t ? (const char *)t : "");
        }
        if (!row[c])
            return -1;
    }
    return 0;
}

/* Runs sql with params bound by name ($1 may appear more than once). Returns the result (NULL
 * on error) and, in *changes, the rows an INSERT / UPDATE / DELETE changed. */
static sdb_res_t *lite_run(sdb_t *db, const char *sql, const char *const *params, int n,
                           long *changes)
{
    sqlite3_stmt *s = NULL;
    sdb_res_t *r = NULL;
    if (sqlite3_prepare_v2(db->lite, sql, -1, &s, NULL) != SQLITE_OK) {
        set_err(db, "prepare", sqlite3_errmsg(db->lite));
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        int idx = sqlite3_bind_parameter_index(s, name);
        if (idx <= 0)
            continue;
        int rc = params[i] ? sqlite3_bind_text(s, idx, params[i], -1, SQLITE_TRANSIENT)
                           : sqlite3_bind_null(s, idx);
        if (rc != SQLITE_OK) {
            set_err(db, "bind", sqlite3_errmsg(db->lite));
            goto fail;
        }
    }
    r = calloc(1, sizeof *r);
    if (!r)
        goto oom;
    r->ncols = sqlite3_column_count(s);
    r->names = calloc((size_t)r->ncols + 1, sizeof *r->names);
    if (!r->names)
        goto oom;
    for (int c = 0; c < r->ncols; c++) {
        const char *name = sqlite3_column_name(s, c);
        if (!(r->names[c] = strdup(name ? name : "")))
            goto oom;
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (lite_add_row(r, s) < 0)
            goto oom;
    if (rc != SQLITE_DONE) {
        set_err(db, "query", sqlite3_errmsg(db->lite));
        goto fail;
    }
    if (changes)
        *changes = sqlite3_stmt_readonly(s) ? 0 : sqlite3_changes(db->lite);
    sqlite3_finalize(s);
    return r;
oom:
    snprintf(db->err, sizeof db->err, "out of memory");
fail:
    sqlite3_finalize(s);
    sdb_res_free(r);
    return NULL;
}

/* ---- PostgreSQL ------------------------------------------------------------------------------ */

/* Runs one statement; a connection found broken (server restart, idle kill) is re-established
 * once and the statement sent again, unless a transaction was open on it (that is lost). */
static PGresult *pg_run(sdb_t *db, const char *sql, const char *const *params, int n)
{
    for (int attempt = 0;; attempt++) {
        if (PQstatus(db->pg) == CONNECTION_BAD && !db->in_txn) {
            PQreset(db->pg);
            if (PQstatus(db->pg) != CONNECTION_OK) {
                set_err(db, "reconnect", PQerrorMessage(db->pg));
                return NULL;
            }
            log_info("sdb: reconnected to PostgreSQL");
        }
        PGresult *r = PQexecParams(db->pg, sql, n, NULL, params, NULL, NULL, 0);
        ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
            return r;
        set_err(db, "query", r ? PQresultErrorMessage(r) : PQerrorMessage(db->pg));
        PQclear(r);
        if (attempt > 0 || db->in_txn || PQstatus(db->pg) != CONNECTION_BAD)
            return NULL;
    }
}

static sdb_res_t *pg_result(sdb_t *db, PGresult *pr)
{
    sdb_res_t *r = calloc(1, sizeof *r);
    int ncols = PQnfields(pr);
    bool *is_bool = calloc((size_t)ncols + 1, sizeof *is_bool);
    if (!r || !is_bool) {
        free(r);
        free(is_bool);
        PQclear(pr);
        snprintf(db->err, sizeof db->err, "out of memory");
        return NULL;
    }
    for (int c = 0; c < ncols; c++)
        is_bool[c] = PQftype(pr, c) == PG_BOOLOID;
    r->pg = pr;
    r->is_bool = is_bool;
    r->ncols = ncols;
    r->nrows = (size_t)PQntuples(pr);
    return r;
}

/* ---- statements ------------------------------------------------------------------------------ */

sdb_res_t *sdb_query(sdb_t *db, const char *sql, const char *const *params, int n)
{
    db->err[0] = '\0';
    if (db->dialect == STORE_DIALECT_SQLITE)
        return lite_run(db, sql, params, n, NULL);
    PGresult *r = pg_run(db, sql, params, n);
    return r ? pg_result(db, r) : NULL;
}

long sdb_exec(sdb_t *db, const char *sql, const char *const *params, int n)
{
    db->err[0] = '\0';
    if (db->dialect == STORE_DIALECT_SQLITE) {
        long changes = 0;
        sdb_res_t *r = lite_run(db, sql, params, n, &changes);
        if (!r)
            return -1;
        sdb_res_free(r);
        return changes;
    }
    PGresult *r = pg_run(db, sql, params, n);
    if (!r)
        return -1;
    long changes = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return changes;
}

int sdb_begin(sdb_t *db)
{
    const char *sql = db->dialect == STORE_DIALECT_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN";
    if (sdb_exec(db, sql, NULL, 0) < 0)
        return -1;
    db->in_txn = true;
    return 0;
}

int sdb_commit(sdb_t *db)
{
    long rc = sdb_exec(db, "COMMIT", NULL, 0);
    if (rc < 0) {
        sdb_rollback(db);
        return -1;
    }
    db->in_txn = false;
    return 0;
}

void sdb_rollback(sdb_t *db)
{
    db->in_txn = false;
    if (db->dialect == STORE_DIALECT_SQLITE) {
        if (!sqlite3_get_autocommit(db->lite))
            sqlite3_exec(db->lite, "ROLLBACK", NULL, NULL, NULL);
        return;
    }
    if (PQstatus(db->pg) == CONNECTION_OK && PQtransactionStatus(db->pg) != PQTRANS_IDLE)
        PQclear(PQexec(db->pg, "ROLLBACK"));
}

/* ---- times ----------------------------------------------------------------------------------- */

void sdb_time_format(long long ms, char out[24])
{
    store_time_format(ms, out);
}

void sdb_time_iso(long long ms, char out[40])
{
    long long s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    char tmp[128]; /* the compiler cannot bound struct tm's fields */
    int n =
        snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03d000+00:00", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms - s * 1000));
    size_t len = n < 0 ? 0 : (size_t)n < 39 ? (size_t)n : 39;
    memcpy(out, tmp, len);
    out[len] = '\0';
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

int sdb_time_parse(const char *s, long long *ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p = s;
    int frac_ms = 0, off_h = 0, off_m = 0, sign = 0;
    if (!s || digits(&p, 4, &tm.tm_year) < 0 || *p++ != '-' || digits(&p, 2, &tm.tm_mon) < 0 ||
        *p++ != '-' || digits(&p, 2, &tm.tm_mday) < 0)
        return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &tm.tm_hour) < 0 || *p++ != ':' || digits(&p, 2, &tm.tm_min) < 0)
            return -1;
        if (*p == ':' && (p++, digits(&p, 2, &tm.tm_sec) < 0))
            return -1;
        if (*p == '.' || *p == ',') {
            int scale = 100;
            for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
                frac_ms += (*p - '0') * scale;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            sign = *p++ == '-' ? -1 : 1;
            if (digits(&p, 2, &off_h) < 0)
                return -1;
            if (*p == ':')
                p++;
            if (*p && digits(&p, 2, &off_m) < 0)
                return -1;
        }
    }
    if (*p || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    long long t = (long long)timegm(&tm) - sign * (off_h * 3600LL + off_m * 60LL);
    *ms = t * 1000 + frac_ms;
    return 0;
}

/* ---- the dialect differences ----------------------------------------------------------------- */

static void append_column(const store_column_t *c, const char *prefix, buf_t *out)
{
    if (prefix)
        buf_append_cstr(out, prefix);
    store_schema_quote(out, c->name);
}

void sdb_select_column(const sdb_t *db, const store_column_t *c, const char *prefix, buf_t *out)
{
    bool pg = db->dialect == STORE_DIALECT_POSTGRES;
    const char *open = NULL, *close = NULL;
    switch (c->type) {
    case STORE_TYPE_TIME:
        /* SQLite's CURRENT_TIMESTAMP default has no milliseconds: normalise both dialects */
        open = pg ? "to_char(" : "strftime('%Y-%m-%d %H:%M:%f', ";
        close = pg ? ", 'YYYY-MM-DD HH24:MI:SS.MS')" : ")";
        break;
    case STORE_TYPE_TEXT_LIST:
        open = pg ? "array_to_json(" : NULL;
        close = pg ? ")::text" : NULL;
        break;
    case STORE_TYPE_JSON:
        open = pg ? "(" : NULL;
        close = pg ? ")::text" : NULL;
        break;
    default:
        break;
    }
    if (open)
        buf_append_cstr(out, open);
    append_column(c, prefix, out);
    if (close)
        buf_append_cstr(out, close);
    if (open || prefix) {
        buf_append_cstr(out, " AS ");
        store_schema_quote(out, c->name);
    }
}

void sdb_select_all(const sdb_t *db, const store_table_t *t, const char *prefix, buf_t *out)
{
    for (size_t i = 0; i < t->num_columns; i++) {
        if (i)
            buf_append_cstr(out, ", ");
        sdb_select_column(db, &t->columns[i], prefix, out);
    }
}

void sdb_param(const sdb_t *db, const store_column_t *c, int n, buf_t *out)
{
    if (db->dialect == STORE_DIALECT_SQLITE) {
        buf_printf(out, "$%d", n);
        return;
    }
    switch (c->type) {
    case STORE_TYPE_TEXT:
        buf_printf(out, "$%d::text", n);
        return;
    case STORE_TYPE_FLOAT:
        buf_printf(out, "$%d::double precision", n);
        return;
    case STORE_TYPE_INT:
        buf_printf(out, "$%d::integer", n);
        return;
    case STORE_TYPE_BIGINT:
        buf_printf(out, "$%d::bigint", n);
        return;
    case STORE_TYPE_BOOL:
        buf_printf(out, "$%d::boolean", n);
        return;
    case STORE_TYPE_JSON:
        buf_printf(out, "$%d::jsonb", n);
        return;
    case STORE_TYPE_TIME:
        buf_printf(out, "$%d::timestamp(3)", n);
        return;
    case STORE_TYPE_TEXT_LIST:
        /* NULL stays NULL; [] is an empty array */
        buf_printf(out,
                   "CASE WHEN $%d::jsonb IS NULL THEN NULL ELSE "
                   "ARRAY(SELECT jsonb_array_elements_text($%d::jsonb)) END",
                   n, n);
        return;
    }
}

void sdb_list_has(const sdb_t *db, const store_column_t *c, const char *prefix, int n, buf_t *out)
{
    if (db->dialect == STORE_DIALECT_POSTGRES) {
        buf_printf(out, "$%d::text = ANY(", n);
        append_column(c, prefix, out);
        buf_append_cstr(out, ")");
        return;
    }
    buf_append_cstr(out, "EXISTS (SELECT 1 FROM json_each(");
    append_column(c, prefix, out);
    buf_printf(out, ") WHERE json_each.value = $%d)", n);
}

/* ---- rows as LiteLLM's API shows them -------------------------------------------------------- */

static cJSON *cell_json(const store_column_t *c, const char *v)
{
    if (!v)
        return cJSON_CreateNull();
    switch (c->type) {
    case STORE_TYPE_TEXT:
        return cJSON_CreateString(v);
    case STORE_TYPE_FLOAT:
        return cJSON_CreateNumber(strtod(v, NULL));
    case STORE_TYPE_INT:
    case STORE_TYPE_BIGINT:
        return cJSON_CreateNumber((double)strtoll(v, NULL, 10));
    case STORE_TYPE_BOOL:
        return cJSON_CreateBool(v[0] == '1' || v[0] == 't' || v[0] == 'T');
    case STORE_TYPE_JSON: {
        cJSON *j = cJSON_Parse(v);
        return j ? j : cJSON_CreateString(v);
    }
    case STORE_TYPE_TIME: {
        long long ms;
        char iso[40];
        if (sdb_time_parse(v, &ms) < 0)
            return cJSON_CreateString(v);
        sdb_time_iso(ms, iso);
        return cJSON_CreateString(iso);
    }
    case STORE_TYPE_TEXT_LIST: {
        cJSON *j = cJSON_Parse(v);
        if (cJSON_IsArray(j))
            return j;
        cJSON_Delete(j);
        return cJSON_CreateArray();
    }
    }
    return cJSON_CreateNull();
}

cJSON *sdb_row_json(const store_table_t *t, const sdb_res_t *r, size_t row)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    for (size_t i = 0; i < t->num_columns; i++) {
        const store_column_t *c = &t->columns[i];
        int col = sdb_res_col(r, c->name);
        if (col < 0)
            continue;
        cJSON *v = cell_json(c, sdb_res_get(r, row, col));
        if (!v || !cJSON_AddItemToObject(o, c->name, v)) {
            cJSON_Delete(v);
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

char *sdb_value_text(const store_column_t *c, const cJSON *v, bool *bad)
{
    char num[40];
    *bad = false;
    if (!v || cJSON_IsNull(v))
        return NULL;
    switch (c->type) {
    case STORE_TYPE_TEXT:
        if (!cJSON_IsString(v))
            break;
        return strdup(v->valuestring);
    case STORE_TYPE_FLOAT:
        if (!cJSON_IsNumber(v))
            break;
        snprintf(num, sizeof num, "%.17g", v->valuedouble);
        return strdup(num);
    case STORE_TYPE_INT:
    case STORE_TYPE_BIGINT:
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
            fabs(v->valuedouble) > 9.2e18 ||
            (c->type == STORE_TYPE_INT && fabs(v->valuedouble) > 2147483647.0))
            break;
        snprintf(num, sizeof num, "%lld", (long long)v->valuedouble);
        return strdup(num);
    case STORE_TYPE_BOOL:
        if (!cJSON_IsBool(v))
            break;
        return strdup(cJSON_IsTrue(v) ? "1" : "0");
    case STORE_TYPE_JSON:
        return cJSON_PrintUnformatted(v);
    case STORE_TYPE_TIME: {
        long long ms;
        if (!cJSON_IsString(v) || sdb_time_parse(v->valuestring, &ms) < 0)
            break;
        store_time_format(ms, num);
        return strdup(num);
    }
    case STORE_TYPE_TEXT_LIST: {
        if (!cJSON_IsArray(v))
            break;
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            if (!cJSON_IsString(it)) {
                *bad = true;
                return NULL;
            }
        }
        return cJSON_PrintUnformatted(v);
    }
    }
    *bad = true;
    return NULL;
}
