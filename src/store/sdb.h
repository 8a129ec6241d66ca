/* SPDX-License-Identifier: MIT
 * sdb: the control plane's database handle. One blocking connection (SQLite file, or PostgreSQL
 * through libpq's synchronous API) used only by the control-plane thread, where waiting on the
 * database can slow management calls but never a completion. SQL is written once with $1..$n
 * placeholders; the helpers below render the few places where the two dialects differ (JSON,
 * String[] and DateTime columns), driven by the schema description in store/schema.h.
 * The data plane's writes (spend) go through the store thread instead (store/service.h). */
#ifndef SLUICE_STORE_SDB_H
#define SLUICE_STORE_SDB_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "store/schema.h"

typedef struct sdb sdb_t;
typedef struct sdb_res sdb_res_t;

/* Opens the SQLite file (creating it and every absent LiteLLM table, as store_sqlite_open does),
 * WAL mode, busy timeout 5 s. NULL on failure; *err (if given) gets a malloc'd message. */
sdb_t *sdb_open_sqlite(const char *path, char **err);
/* Connects to PostgreSQL (conninfo: a libpq URI or key=value string) and runs the schema check of
 * store_pg_ensure_schema (tables created only on a database without LiteLLM_VerificationToken).
 * A connection that fails later is re-established on the next call. NULL when the first connect
 * fails; *err gets the message. */
sdb_t *sdb_open_pg(const char *conninfo, char **err);
void sdb_close(sdb_t *db);
store_dialect_t sdb_dialect(const sdb_t *db);
/* The last error's text, "" if none. Owned by db. */
const char *sdb_errmsg(const sdb_t *db);

/* Runs one statement. params[i] is the text of $i+1 (NULL: SQL NULL); the same $n may appear
 * more than once. On PostgreSQL every $1..$n must appear (an unused one has no type), and a $n
 * whose type nothing around it decides needs a cast: CAST($1 AS TEXT) IS NULL (valid in both).
 * Returns the result (free with sdb_res_free), or NULL on error (sdb_errmsg). */
sdb_res_t *sdb_query(sdb_t *db, const char *sql, const char *const *params, int n);
/* Runs one statement for its effect: rows changed, or -1 on error. */
long sdb_exec(sdb_t *db, const char *sql, const char *const *params, int n);
/* Transactions: 0, or -1. */
int sdb_begin(sdb_t *db);
int sdb_commit(sdb_t *db);
void sdb_rollback(sdb_t *db);

size_t sdb_res_rows(const sdb_res_t *r);
int sdb_res_cols(const sdb_res_t *r);
const char *sdb_res_name(const sdb_res_t *r, int col);
/* The cell's text (in the storage forms below), or NULL for SQL NULL. Owned by r. */
const char *sdb_res_get(const sdb_res_t *r, size_t row, int col);
/* Column index by name, or -1. */
int sdb_res_col(const sdb_res_t *r, const char *name);
void sdb_res_free(sdb_res_t *r);

/* ---- the dialect differences, from the schema ------------------------------------------------
 * Storage forms every cell is read and written in, whatever the dialect:
 *   TEXT as is; FLOAT "%.17g"; INT/BIGINT decimal; BOOL "1"/"0" (PostgreSQL's t/f are mapped);
 *   JSON as JSON text; TIME "YYYY-MM-DD HH:MM:SS.mmm" UTC; TEXT_LIST a JSON array of strings.
 * Reading gives these forms for columns selected through sdb_select_column / sdb_select_all
 * (a bare TEXT[] column reads as PostgreSQL's array literal); FLOAT reads as the shortest text
 * that gives the same double. */

/* Appends the expression that reads column c of the current FROM in storage form, aliased to the
 * column's own name: "models" on SQLite, array_to_json("models")::text AS "models" on PostgreSQL.
 * prefix (may be NULL) qualifies the column: "t." */
void sdb_select_column(const sdb_t *db, const store_column_t *c, const char *prefix, buf_t *out);
/* Every column of t, comma-separated, as above. */
void sdb_select_all(const sdb_t *db, const store_table_t *t, const char *prefix, buf_t *out);
/* Appends the placeholder for writing storage-form text into column c: "$n" on SQLite;
 * "$n::jsonb", "ARRAY(SELECT jsonb_array_elements_text($n::jsonb))", "$n::timestamp", ... on
 * PostgreSQL. */
void sdb_param(const sdb_t *db, const store_column_t *c, int n, buf_t *out);

/* Appends a condition true when TEXT_LIST column c (qualified by prefix, may be NULL) holds the
 * text of $n: "$n::text = ANY(c)" on PostgreSQL, an EXISTS over json_each(c) on SQLite. */
void sdb_list_has(const sdb_t *db, const store_column_t *c, const char *prefix, int n, buf_t *out);

/* Times. ms since the epoch as the TIME storage form "YYYY-MM-DD HH:MM:SS.mmm" (UTC). */
void sdb_time_format(long long ms, char out[24]);
/* ms since the epoch as the API shows times: "2026-01-02T03:04:05.678000+00:00". */
void sdb_time_iso(long long ms, char out[40]);
/* Parses ISO 8601 ("2026-01-02", "2026-01-02T03:04[:05[.678]]" with "Z" or "+hh:mm" or no zone:
 * UTC) and the storage form into ms since the epoch. 0, or -1 when s is not one. */
int sdb_time_parse(const char *s, long long *ms);

/* A row as LiteLLM's API shows it: each column of t present in r becomes a member of the right
 * JSON type (numbers, true/false, parsed JSON, arrays of strings, times as Python isoformat of
 * an aware UTC datetime "2026-01-02T03:04:05.678000+00:00", null). NULL on no memory. */
cJSON *sdb_row_json(const store_table_t *t, const sdb_res_t *r, size_t row);
/* The storage-form text for writing JSON value v into column c (malloc'd), or NULL with
 * *bad = true when v has the wrong type (a string for a FLOAT column, ...). A JSON null gives
 * NULL with *bad = false (SQL NULL). Accepts ISO 8601 strings for TIME columns. */
char *sdb_value_text(const store_column_t *c, const cJSON *v, bool *bad);

#endif
