/* SPDX-License-Identifier: MIT
 * Private to src/admin: what keys_api.c and teams_api.c share on top of rows.h. Request fields
 * checked against a table of kinds, rows read and written as JSON objects in LiteLLM's shape, the
 * key cache entries a change makes stale, and key creation, which /user/new shares with
 * /key/generate. Implemented in fields.c and keys_api.c. */
#ifndef SLUICE_ADMIN_INTERNAL_H
#define SLUICE_ADMIN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "admin/admin.h"
#include "admin/rows.h"

#define ADMIN_KEYS "LiteLLM_VerificationToken"
#define ADMIN_TEAMS "LiteLLM_TeamTable"
#define ADMIN_USERS "LiteLLM_UserTable"
#define ADMIN_MEMBERSHIPS "LiteLLM_TeamMembership"
#define ADMIN_BUDGETS "LiteLLM_BudgetTable"

/* ---- requests -------------------------------------------------------------------------------- */

/* A 400 with msg (the message of a check), or a 500 when msg is "" (no memory). */
void admin_check_error(admin_result_t *res, const char *param, const char *msg);
/* Sets member `name` of o to the API form of a time ("2026-01-02T03:04:05.678000+00:00"). */
bool admin_add_time(cJSON *o, const char *name, long long ms);

/* How a request field must look. Lists are lists of strings; a null list becomes [] (LiteLLM's
 * request models default lists to []), other nulls stay null (the column's default, or NULL). */
typedef enum {
    ADMIN_F_STR,
    ADMIN_F_LIST,
    ADMIN_F_OBJ,  /* a JSON object */
    ADMIN_F_JSON, /* any JSON value */
    ADMIN_F_INT,
    ADMIN_F_NUM,
    ADMIN_F_BOOL,
} admin_kind_t;

typedef struct {
    const char *name;
    admin_kind_t kind;
} admin_field_t;

/* Copies the fields of req that fields[] lists (present ones only) into out, checking each one's
 * kind. NULL, or the 400 message with *param the field ("" on no memory). The message lives in
 * thread-local storage until the next call. */
const char *admin_take_fields(const cJSON *req, const admin_field_t *fields, size_t n, cJSON *out,
                              const char **param);
/* A budget_duration member of req ("30d"): sets budget_duration and budget_reset_at (the next
 * reset, as LiteLLM standardises it) in out; null clears both. NULL, or the 400 message ("" on
 * no memory). */
const char *admin_take_budget_duration(const cJSON *req, long long now_ms, cJSON *out);

/* ---- rows as JSON objects -------------------------------------------------------------------- */

/* The row of `table` whose column `col` is id, as LiteLLM shows it: 0 (*out the caller's), 1
 * none, -1 database error. */
int admin_row_by(admin_t *a, const char *table, const char *col, const char *id, cJSON **out);
/* admin_row_by for a row the call needs: 0 (*out the caller's), or -1 with res set: a 404
 * not_found_error with param and the message when there is none, else a database error. */
int admin_row_load(admin_t *a, const char *table, const char *col, const char *id, cJSON **out,
                   admin_result_t *res, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
/* Moves every member of from into to, replacing members of the same name. */
void admin_json_merge(cJSON *to, cJSON *from);
/* Writes the members of values that are columns of `table` (others are skipped): an INSERT, or
 * with key_col an UPDATE of the row whose key_col is key. A null member writes the column's
 * default (NULL without one). Returns the rows written, or < 0 with res set: -2 a value of the
 * wrong type (400), -1 a database error or no memory (500). */
long admin_json_write(admin_t *a, const char *table, const cJSON *values, const char *key_col,
                      const char *key, admin_result_t *res);

/* Pushes the token hashes of the keys whose `col` is id (team_id, user_id) onto
 * res->invalidated, skipping ones already there. 0, or -1 (database error, sdb_errmsg). */
int admin_invalidate_keys(admin_t *a, const char *col, const char *id, admin_result_t *res);

/* ---- keys (keys_api.c) ----------------------------------------------------------------------- */

/* /key/generate's work: checks req's key fields, picks the key (req's custom "key" or a new
 * one), inserts the row and reads it back. Runs in the caller's transaction, if any. 0 with *row
 * (the stored row) and *plain (the key, malloc'd), both the caller's; else res is set. */
int admin_key_create(admin_t *a, const cJSON *req, cJSON **row, char **plain, admin_result_t *res);
/* GenerateKeyResponse: req echoed, the row over it, the plaintext key, token_id, duration,
 * key_type, litellm_budget_table. NULL on no memory. */
cJSON *admin_key_response(const cJSON *row, const char *plain, const cJSON *req);

#endif
