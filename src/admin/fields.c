/* SPDX-License-Identifier: MIT
 * What the key, team and user handlers share on top of rows.h (internal.h): request fields
 * checked against a table of kinds and copied into a JSON object in LiteLLM's shape, that object
 * written as a row (nulls meaning the column's default, as when Prisma leaves a column out), rows
 * read back as JSON, and the token hashes of the keys a team or user change makes stale. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/internal.h"
#include "auth/keys.h"

void admin_check_error(admin_result_t *res, const char *param, const char *msg)
{
    if (*msg)
        admin_bad_request(res, param, "%s", msg);
    else
        admin_oom(res);
}

bool admin_add_time(cJSON *o, const char *name, long long ms)
{
    char iso[40];
    sdb_time_iso(ms, iso);
    cJSON_DeleteItemFromObjectCaseSensitive(o, name);
    return cJSON_AddStringToObject(o, name, iso) != NULL;
}

static const char *type_error(const char *field, const char *want)
{
    static _Thread_local char msg[256];
    snprintf(msg, sizeof msg, "Invalid value for '%s': expected %s", field, want);
    return msg;
}

/* NULL when v has the kind, else what it should have been. */
static const char *kind_mismatch(admin_kind_t kind, const cJSON *v)
{
    switch (kind) {
    case ADMIN_F_STR:
        return cJSON_IsString(v) ? NULL : "a string";
    case ADMIN_F_LIST:
        return admin_json_is_strings(v) ? NULL : "a list of strings";
    case ADMIN_F_OBJ:
        return cJSON_IsObject(v) ? NULL : "an object";
    case ADMIN_F_JSON:
        return NULL;
    case ADMIN_F_INT:
        return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
                       fabs(v->valuedouble) < 9.2e18
                   ? NULL
                   : "an integer";
    case ADMIN_F_NUM:
        return cJSON_IsNumber(v) ? NULL : "a number";
    case ADMIN_F_BOOL:
        return cJSON_IsBool(v) ? NULL : "a boolean";
    }
    return "another type";
}

const char *admin_take_fields(const cJSON *req, const admin_field_t *fields, size_t n, cJSON *out,
                              const char **param)
{
    for (size_t i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, fields[i].name);
        if (!v)
            continue;
        *param = fields[i].name;
        const char *want = cJSON_IsNull(v) ? NULL : kind_mismatch(fields[i].kind, v);
        if (want)
            return type_error(fields[i].name, want);
        cJSON *copy = cJSON_IsNull(v) && fields[i].kind == ADMIN_F_LIST ? cJSON_CreateArray()
                                                                        : cJSON_Duplicate(v, true);
        cJSON_DeleteItemFromObjectCaseSensitive(out, fields[i].name);
        if (!copy || !cJSON_AddItemToObject(out, fields[i].name, copy)) {
            cJSON_Delete(copy);
            return "";
        }
    }
    *param = NULL;
    return NULL;
}

const char *admin_take_budget_duration(const cJSON *req, long long now_ms, cJSON *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "budget_duration");
    if (!v)
        return NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(out, "budget_duration");
    cJSON_DeleteItemFromObjectCaseSensitive(out, "budget_reset_at");
    if (cJSON_IsNull(v))
        return cJSON_AddNullToObject(out, "budget_duration") &&
                       cJSON_AddNullToObject(out, "budget_reset_at")
                   ? NULL
                   : "";
    auth_duration_t d;
    if (!cJSON_IsString(v) || auth_duration_parse(str_cstr(v->valuestring), &d) < 0)
        return "Invalid budget_duration: use a number and a unit: 30s, 30m, 30h, 30d or 1mo";
    if (!cJSON_AddStringToObject(out, "budget_duration", v->valuestring) ||
        !admin_add_time(out, "budget_reset_at", auth_budget_next_reset(&d, now_ms / 1000) * 1000))
        return "";
    return NULL;
}

/* ---- rows as JSON objects -------------------------------------------------------------------- */

int admin_row_by(admin_t *a, const char *table, const char *col, const char *id, cJSON **out)
{
    const store_table_t *t = store_schema_table(table);
    *out = NULL;
    sdb_res_t *r = admin_rows_select(a->db, t, col, id, NULL);
    if (!r)
        return -1;
    int rc = sdb_res_rows(r) ? 0 : 1;
    if (rc == 0 && !(*out = sdb_row_json(t, r, 0)))
        rc = -1;
    sdb_res_free(r);
    return rc;
}

int admin_row_load(admin_t *a, const char *table, const char *col, const char *id, cJSON **out,
                   admin_result_t *res, const char *param, const char *fmt, ...)
{
    int rc = admin_row_by(a, table, col, id, out);
    if (rc < 0)
        admin_set_db_error(res, a);
    if (rc != 1)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    admin_set_errorv(res, 404, "not_found_error", param, fmt, ap);
    va_end(ap);
    return -1;
}

void admin_json_merge(cJSON *to, cJSON *from)
{
    cJSON *f = from ? from->child : NULL;
    while (f) {
        cJSON *next = f->next;
        cJSON_DetachItemViaPointer(from, f);
        cJSON_DeleteItemFromObjectCaseSensitive(to, f->string);
        cJSON_AddItemToObject(to, f->string, f);
        f = next;
    }
}

/* What the database would store had the column been left out (as Prisma leaves it out). */
static const char *default_text(const store_column_t *c, char now[24])
{
    switch (c->def) {
    case STORE_DEF_ZERO:
    case STORE_DEF_FALSE:
        return "0";
    case STORE_DEF_TRUE:
        return "1";
    case STORE_DEF_EMPTY_TEXT:
        return "";
    case STORE_DEF_JSON_OBJECT:
        return "{}";
    case STORE_DEF_JSON_ARRAY:
    case STORE_DEF_EMPTY_LIST:
        return "[]";
    case STORE_DEF_NOW:
        admin_now_text(now);
        return now;
    case STORE_DEF_NONE:
        break;
    }
    return NULL;
}

long admin_json_write(admin_t *a, const char *table, const cJSON *values, const char *key_col,
                      const char *key, admin_result_t *res)
{
    admin_row_t row;
    admin_row_init(&row, store_schema_table(table));
    long rc = -1;
    const cJSON *it;
    cJSON_ArrayForEach(it, values)
    {
        const store_column_t *c = it->string ? store_schema_column(row.table, it->string) : NULL;
        if (!c)
            continue;
        bool bad;
        char *text = sdb_value_text(c, it, &bad), now[24];
        if (bad) {
            admin_bad_field(res, row.table, c->name);
            rc = -2;
            goto out;
        }
        const char *set = text ? text : cJSON_IsNull(it) ? default_text(c, now) : NULL;
        int st = !text && !cJSON_IsNull(it) ? -1 : admin_row_set(&row, c->name, set);
        free(text);
        if (st < 0) {
            admin_oom(res);
            goto out;
        }
    }
    sdb_res_t *r =
        key_col ? admin_row_update(a->db, &row, key_col, key) : admin_row_insert(a->db, &row);
    if (!r) {
        admin_set_db_error(res, a);
        goto out;
    }
    rc = (long)sdb_res_rows(r);
    sdb_res_free(r);
out:
    admin_row_free(&row);
    return rc;
}

/* ---- stale keys ------------------------------------------------------------------------------ */

int admin_invalidate_keys(admin_t *a, const char *col, const char *id, admin_result_t *res)
{
    buf_t sql = {0};
    buf_append_cstr(&sql, "SELECT \"token\" FROM \"" ADMIN_KEYS "\" WHERE ");
    store_schema_quote(&sql, col);
    buf_append_cstr(&sql, " = $1");
    int rc = buf_cstr(&sql)
                 ? admin_tokens_add(a->db, sql.p, (const char *[]){id}, 1, &res->invalidated)
                 : -1;
    buf_free(&sql);
    return rc < 0 ? -1 : 0;
}
