/* SPDX-License-Identifier: MIT
 * admin rows: the generic layer under the management handlers of the tables store/schema.h
 * describes. A request body's members become a row's cells (typed through sdb_value_text, so a
 * string for a FLOAT column is refused before any SQL runs); a row becomes INSERT / UPDATE ...
 * RETURNING in either dialect; SELECT / DELETE by one column; rows become LiteLLM's JSON through
 * sdb_row_json. Also the small values every handler needs: ids, times, the parsed body, list
 * members, Python's repr of a list for messages that quote one. Private to src/admin. */
#ifndef SLUICE_ADMIN_ROWS_H
#define SLUICE_ADMIN_ROWS_H

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

/* 400 bad_request_error with the message. */
void admin_bad_request(admin_result_t *res, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 400 naming a member whose type is wrong for its column. */
void admin_bad_field(admin_result_t *res, const store_table_t *t, const char *field);

#endif
