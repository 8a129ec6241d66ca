/* SPDX-License-Identifier: MIT
 * admin rows: the generic layer under the management handlers of the tables store/schema.h
 * describes. A request body's members become a row's cells (typed through sdb_value_text, so a
 * string for a FLOAT column is refused before any SQL runs); a row becomes INSERT / UPDATE ...
 * RETURNING in either dialect; SELECT / DELETE by one column; rows become LiteLLM's JSON through
 * sdb_row_json. Also the small values every handler needs: ids, times, the parsed body, list
 * members, Python's repr of a list for messages that quote one; and what every handler does
 * around its rows: the error answers, required body and query members, existence checks, list
 * pages, the call's transaction. Private to src/admin. */
#ifndef SLUICE_ADMIN_ROWS_H
#define SLUICE_ADMIN_ROWS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "admin/admin.h"
#include "core/buf.h"
#include "store/schema.h"
#include "store/sdb.h"

/* LiteLLM's created_by / updated_by when the caller is the master key (litellm_proxy_admin_name).
 */
#define ADMIN_PROXY_ADMIN_NAME "default_user_id"

typedef struct {
    const store_column_t *col;
    char *text; /* storage form (sdb.h), malloc'd; NULL writes SQL NULL */
} admin_cell_t;

/* Column values for one INSERT or UPDATE of `table`, in the order they were set. */
typedef struct {
    const store_table_t *table;
    admin_cell_t *cells;
    size_t n, cap;
} admin_row_t;

void admin_row_init(admin_row_t *r, const store_table_t *t);
void admin_row_free(admin_row_t *r);
/* Sets column `name` to a copy of text (NULL: SQL NULL), replacing an earlier value.
 * 0; -1 on no memory or when the table has no such column. */
int admin_row_set(admin_row_t *r, const char *name, const char *text);
/* The cell of column `name`, or NULL when it was not set. */
const admin_cell_t *admin_row_get(const admin_row_t *r, const char *name);
/* Drops the cell of column `name`, if set. */
void admin_row_unset(admin_row_t *r, const char *name);

/* Copies the members of obj named in fields (NULL-terminated; member name = column name) that
 * are present, converted to storage text. A JSON null becomes SQL NULL, or is left out when
 * skip_null. 0; -1 when a value has the wrong type for its column (*bad: the field's name);
 * -2 on no memory. */
int admin_row_from_json(admin_row_t *r, const cJSON *obj, const char *const *fields, bool skip_null,
                        const char **bad);

/* INSERT INTO table (cells) VALUES (...) RETURNING every column of the table. NULL on error
 * (sdb_errmsg). The result is the caller's (sdb_res_free). */
sdb_res_t *admin_row_insert(sdb_t *db, const admin_row_t *r);
/* UPDATE table SET cells WHERE key_col = key RETURNING every column; no row when none matched.
 * With no cells it is a SELECT of that row. */
sdb_res_t *admin_row_update(sdb_t *db, const admin_row_t *r, const char *key_col, const char *key);
/* INSERT ... ON CONFLICT (conflict_col) DO UPDATE SET every other cell = excluded value,
 * RETURNING every column. */
sdb_res_t *admin_row_upsert(sdb_t *db, const admin_row_t *r, const char *conflict_col);
/* SELECT every column FROM t [WHERE col = value] [ORDER BY order_by, a quoted column list]. */
sdb_res_t *admin_rows_select(sdb_t *db, const store_table_t *t, const char *col, const char *value,
                             const char *order_by);
/* DELETE FROM t WHERE col = value RETURNING every column. */
sdb_res_t *admin_rows_delete(sdb_t *db, const store_table_t *t, const char *col, const char *value);

/* Every row of r as LiteLLM shows it (sdb_row_json), in a JSON array. NULL on no memory. */
cJSON *admin_rows_json(const store_table_t *t, const sdb_res_t *r);
/* Row `row` of r, or JSON null when r has no such row. Never NULL unless out of memory. */
cJSON *admin_row_json_or_null(const store_table_t *t, const sdb_res_t *r, size_t row);
/* Removes every null member, recursively (pydantic's model_dump(exclude_none=True)). */
void admin_json_drop_nulls(cJSON *v);

/* The text of cell (row, name) of r, or NULL (SQL NULL or no such column). */
const char *admin_res_text(const sdb_res_t *r, size_t row, const char *name);

/* Rows of a result ordered by one column's text, to find rows by that value without a scan:
 * joins done in C (budgets of customers, teams of organizations) where a SQL join would give
 * two columns the same name. */
typedef struct {
    const sdb_res_t *r;
    int col;
    size_t *order; /* row numbers sorted by the column (NULLs first) */
    size_t n;
} admin_res_index_t;

/* 0, or -1 on no memory or when r has no column `name`. */
int admin_res_index(admin_res_index_t *ix, const sdb_res_t *r, const char *name);
/* The rows whose column is key: *first is a position in ix->order, the return value the count. */
size_t admin_res_index_find(const admin_res_index_t *ix, const char *key, size_t *first);
void admin_res_index_free(admin_res_index_t *ix);

/* ---- values ---------------------------------------------------------------------------------- */

/* Now, as the storage text of a TIME column: "YYYY-MM-DD HH:MM:SS.mmm" UTC. */
void admin_now_text(char out[24]);
/* Milliseconds since the epoch as the storage text of a TIME column. */
void admin_time_text(long long ms, char out[24]);
/* The current time in milliseconds since the epoch. */
long long admin_now_ms(void);
/* A random (v4) UUID, as Prisma's uuid() makes them. 0, or -1 when the OS random source fails. */
int admin_uuid(char out[37]);

/* Parses the call's body as a JSON object. NULL with a 400 set in res when it is not one. */
cJSON *admin_body_object(const admin_call_t *call, admin_result_t *res);
/* The strings of a JSON array of strings, appended to out. 0; -1 when v is not such an array;
 * -2 on no memory. */
int admin_json_strings(const cJSON *v, store_strlist_t *out);
/* Python's repr of a list of str: ['a', "it's"], the way LiteLLM's messages quote lists. */
int admin_py_repr_list(const store_strlist_t *l, buf_t *out);

/* The stored token (sha256 hex) a client's key reference names: an "sk-" key is hashed, anything
 * else is taken as the token itself, as LiteLLM does. 0; -1 when hashing fails (out holds ref). */
#define ADMIN_TOKEN_LEN 64
int admin_key_token(const char *ref, char out[ADMIN_TOKEN_LEN + 1]);
/* Pushes s onto the list unless it holds it already. 0, or -1 on no memory. */
int admin_strlist_add(store_strlist_t *l, const char *s);
/* Appends the first cell of every row of sql's result (token hashes) to out, skipping NULLs and
 * ones out holds. 0; -1 on a database error (sdb_errmsg); -2 on no memory. */
int admin_tokens_add(sdb_t *db, const char *sql, const char *const *params, int n,
                     store_strlist_t *out);

/* ---- JSON ------------------------------------------------------------------------------------ */

/* Whether v is an array of strings only. */
bool admin_json_is_strings(const cJSON *v);
/* A JSON string of s, or JSON null when s is NULL. NULL on no memory. */
cJSON *admin_json_text(const char *s);
/* Replaces member `name` of o with v (consumed, may be NULL). false on no memory. */
bool admin_json_put(cJSON *o, const char *name, cJSON *v);
/* Appends item (consumed, may be NULL) to the array. false on no memory. */
bool admin_json_append(cJSON *array, cJSON *item);

/* ---- answers --------------------------------------------------------------------------------- */

/* admin_set_error with a va_list. */
void admin_set_errorv(admin_result_t *res, int status, const char *type, const char *param,
                      const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
/* 400 bad_request_error with the message. */
void admin_bad_request(admin_result_t *res, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 400 naming a member whose type is wrong for its column. */
void admin_bad_field(admin_result_t *res, const store_table_t *t, const char *field);
/* 500 internal_server_error "out of memory". */
void admin_oom(admin_result_t *res);
/* admin_oom after a step that fails both on no memory and (with res set) for other reasons:
 * keeps the error res holds. */
void admin_oom_unless_set(admin_result_t *res);
/* 200 with doc (consumed). A NULL doc keeps the error res holds, else sets a 500 (no memory). */
void admin_answer(admin_result_t *res, cJSON *doc);

/* ---- requests -------------------------------------------------------------------------------- */

/* A positive integer query parameter: dflt when absent, -1 when it is not a whole number >= 1. */
long long admin_query_int(const admin_call_t *call, const char *name, long long dflt);
/* ?page= (1) and ?<size_name>= (size_default, at most size_max) of a list. 0, or -1 with a 400. */
int admin_query_page(const admin_call_t *call, const char *size_name, long long size_default,
                     long long size_max, long long *page, long long *size, admin_result_t *res);
/* Member `name` of body, a string (nonempty: not ""), else NULL with a 400 (param name, msg). */
const char *admin_body_string(const cJSON *body, const char *name, bool nonempty, const char *msg,
                              admin_result_t *res);
/* Member `name` of body as a list of strings, appended to out. 0; -1 with res set: a 400 with
 * not_list when it is not a list of strings, or with empty (unless NULL) when the list is empty;
 * a 500 on no memory. */
int admin_body_strings(const cJSON *body, const char *name, store_strlist_t *out,
                       const char *not_list, const char *empty, admin_result_t *res);
/* Copies obj's members named in fields into r as admin_row_from_json does. 0; -1 with res set (a
 * 400 naming the member of the wrong type, or a 500). */
int admin_row_take(admin_row_t *r, const cJSON *obj, const char *const *fields, bool skip_null,
                   admin_result_t *res);
/* Sets r's audit columns as LiteLLM does for the master key: updated_at (now) and updated_by, and
 * when created created_at and created_by too; a *_by already set is kept. 0, or -1 on no memory. */
int admin_row_stamp(admin_row_t *r, bool created);

/* ---- reads and the call's transaction -------------------------------------------------------- */

/* 1 when some row of t has col = value, 0 when none, -1 on a database error. */
int admin_row_exists(sdb_t *db, const store_table_t *t, const char *col, const char *value);
/* The rows of t whose col is value (admin_rows_select), at least one. None: NULL with a 404 of
 * `type` (LiteLLM's: "not_found_error", or "not_found" for customers), param and the message in
 * res; a database error: NULL with a 500. */
sdb_res_t *admin_rows_find(admin_t *a, const store_table_t *t, const char *col, const char *value,
                           admin_result_t *res, const char *type, const char *param,
                           const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* Whether every id names a row of t (col = id): 0; else -1 with res set, for the first one missing
 * a 404 not_found_error with param and fmt's message (fmt takes the id), or a database error. */
int admin_rows_all_exist(admin_t *a, const store_table_t *t, const char *col,
                         const store_strlist_t *ids, admin_result_t *res, const char *param,
                         const char *fmt) __attribute__((format(printf, 7, 0)));
/* The opposite check, for a row about to be created: 0 when no row of t has col = value; else -1
 * with res set, the error (status, type, param, message) when there is one, or a database
 * error. */
int admin_row_absent(admin_t *a, const store_table_t *t, const char *col, const char *value,
                     admin_result_t *res, int status, const char *type, const char *param,
                     const char *fmt, ...) __attribute__((format(printf, 9, 10)));
/* admin_rows_find for a GET of one row: the value is the query parameter `name`, which must be
 * there (a 400 "<name> is required"); fmt may take it. */
sdb_res_t *admin_rows_find_query(admin_t *a, const admin_call_t *call, const char *name,
                                 const store_table_t *t, const char *col, admin_result_t *res,
                                 const char *type, const char *fmt)
    __attribute__((format(printf, 8, 0)));
/* admin_rows_select's rows as JSON (admin_rows_json). NULL with res set. */
cJSON *admin_rows_json_of(admin_t *a, const store_table_t *t, const char *col, const char *value,
                          const char *order_by, admin_result_t *res);
/* Appends tail (unless NULL) to the statement built in sql and runs it. NULL with res set: a 500
 * for no memory, or the database's error. The result is the caller's; sql stays the caller's. */
sdb_res_t *admin_query_sql(admin_t *a, buf_t *sql, const char *tail, const char *const *params,
                           int n, admin_result_t *res);
/* The total of a list page whose rows carry COUNT(*) OVER () as "total_count"; an empty page past
 * the first counts again with count_sql (its one cell) and params. 0, or -1 on a database error. */
int admin_list_total(sdb_t *db, const sdb_res_t *r, long long page, const char *count_sql,
                     const char *const *params, int n, long long *total);

/* A mutating call runs in one transaction, so a failure changes nothing. Begin and commit: 0, or
 * -1 with a 500 (the database's message) in res; *open says whether the transaction is open.
 * admin_tx_end, on every way out of the handler: an open transaction (the call failed) is rolled
 * back, and the key hashes res was to invalidate are dropped with it. */
int admin_tx_begin(admin_t *a, bool *open, admin_result_t *res);
int admin_tx_commit(admin_t *a, bool *open, admin_result_t *res);
void admin_tx_end(admin_t *a, bool open, admin_result_t *res);

#endif
