/* SPDX-License-Identifier: MIT
 * /organization/... and /budget/...: LiteLLM_OrganizationTable and LiteLLM_BudgetTable rows, and
 * the route table of every handler in misc.h (admin_misc_routes). Every organization has a budget
 * row (LiteLLM creates one from the request's budget fields when no budget_id is given); budget
 * rows also carry the limits of customers, keys and team members. A change to a budget makes the
 * keys linked to it stale; deleting an organization deletes its teams and keys, as LiteLLM does. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/misc.h"
#include "auth/keys.h"

const admin_route_t admin_misc_routes[] = {
    {"POST", "/customer/new", admin_customer_new},
    {"POST", "/customer/update", admin_customer_update},
    {"POST", "/customer/delete", admin_customer_delete},
    {"GET", "/customer/info", admin_customer_info},
    {"GET", "/customer/list", admin_customer_list},
    {"POST", "/customer/block", admin_customer_block},
    {"POST", "/customer/unblock", admin_customer_unblock},
    /* LiteLLM keeps the old names */
    {"POST", "/end_user/new", admin_customer_new},
    {"POST", "/end_user/update", admin_customer_update},
    {"POST", "/end_user/delete", admin_customer_delete},
    {"GET", "/end_user/info", admin_customer_info},
    {"GET", "/end_user/list", admin_customer_list},
    {"POST", "/end_user/block", admin_customer_block},
    {"POST", "/end_user/unblock", admin_customer_unblock},

    {"POST", "/organization/new", admin_org_new},
    {"PATCH", "/organization/update", admin_org_update}, /* LiteLLM's method */
    {"POST", "/organization/update", admin_org_update},
    {"DELETE", "/organization/delete", admin_org_delete}, /* LiteLLM's method */
    {"POST", "/organization/delete", admin_org_delete},
    {"GET", "/organization/info", admin_org_info},
    {"POST", "/organization/info", admin_org_info_post}, /* deprecated in LiteLLM */
    {"GET", "/organization/list", admin_org_list},

    {"POST", "/budget/new", admin_budget_new},
    {"POST", "/budget/update", admin_budget_update},
    {"POST", "/budget/delete", admin_budget_delete},
    {"POST", "/budget/info", admin_budget_info},
    {"GET", "/budget/list", admin_budget_list},

    {"GET", "/spend/logs", admin_spend_logs},
    {"GET", "/global/spend", admin_global_spend},
    {"GET", "/global/spend/report", admin_global_spend_report},

    {"POST", "/model/new", admin_model_new},
    {"POST", "/model/delete", admin_model_delete},
    {"GET", "/model/info", admin_model_info},
    {"GET", "/v1/model/info", admin_model_info},
    {NULL, NULL, NULL},
};

static const store_table_t *org_table(void)
{
    return store_schema_table("LiteLLM_OrganizationTable");
}

const store_table_t *admin_budget_table(void)
{
    return store_schema_table("LiteLLM_BudgetTable");
}

static void set_oom(admin_result_t *res)
{
    admin_set_error(res, 500, "internal_server_error", NULL, "out of memory");
}

/* ---- budgets: shared ------------------------------------------------------------------------- */

int admin_budget_complete_new(admin_row_t *row)
{
    char id[37], now[24];
    const admin_cell_t *given = admin_row_get(row, "budget_id");
    if (!given || !given->text) {
        if (admin_uuid(id) < 0 || admin_row_set(row, "budget_id", id) < 0)
            return -1;
    }
    admin_now_text(now);
    if (admin_row_set(row, "created_at", now) < 0 || admin_row_set(row, "updated_at", now) < 0 ||
        admin_row_set(row, "created_by", ADMIN_PROXY_ADMIN_NAME) < 0 ||
        admin_row_set(row, "updated_by", ADMIN_PROXY_ADMIN_NAME) < 0)
        return -1;
    return 0;
}

int admin_budget_reset_text(const char *duration, bool standardized, char out[24])
{
    auth_duration_t d;
    if (!duration || auth_duration_parse(str_cstr(duration), &d) < 0)
        return -1;
    int64_t now = admin_now_ms() / 1000;
    int64_t at = standardized ? auth_budget_next_reset(&d, now) : auth_duration_add(&d, now);
    admin_time_text((long long)at * 1000, out);
    return 0;
}

cJSON *admin_budget_json(admin_t *a, const char *budget_id, admin_result_t *res)
{
    if (!budget_id)
        return cJSON_CreateNull();
    sdb_res_t *r = admin_rows_select(a->db, admin_budget_table(), "budget_id", budget_id, NULL);
    if (!r) {
        admin_set_db_error(res, a);
        return NULL;
    }
    cJSON *j = admin_row_json_or_null(admin_budget_table(), r, 0);
    sdb_res_free(r);
    return j;
}

/* Appends the first column of every row of sql's result (token hashes) to out. 0, or -1. */
static int collect_tokens(admin_t *a, const char *sql, const char *const *params, int n,
                          store_strlist_t *out)
{
    sdb_res_t *r = sdb_query(a->db, sql, params, n);
    if (!r)
        return -1;
    for (size_t i = 0; i < sdb_res_rows(r); i++) {
        const char *t = sdb_res_get(r, i, 0);
        bool dup = false;
        for (size_t j = 0; t && j < out->n && !dup; j++)
            dup = strcmp(out->v[j], t) == 0;
        if (t && !dup && store_strlist_push(out, t) < 0) {
            sdb_res_free(r);
            return -1;
        }
    }
    sdb_res_free(r);
    return 0;
}

int admin_keys_of_budget(admin_t *a, const char *budget_id, store_strlist_t *out)
{
    const char *params[] = {budget_id};
    return collect_tokens(
        a, "SELECT \"token\" FROM \"LiteLLM_VerificationToken\" WHERE \"budget_id\" = $1", params,
        1, out);
}

/* The keys of an organization: its own, and those of its teams (their cached team data). */
static int keys_of_org(admin_t *a, const char *org_id, store_strlist_t *out)
{
    const char *params[] = {org_id};
    return collect_tokens(a,
                          "SELECT \"token\" FROM \"LiteLLM_VerificationToken\" WHERE "
                          "\"organization_id\" = $1 OR \"team_id\" IN (SELECT \"team_id\" FROM "
                          "\"LiteLLM_TeamTable\" WHERE \"organization_id\" = $1)",
                          params, 1, out);
}

/* 1 when budget_id names a budget row, 0 when not, -1 on a database error. */
static int budget_exists(admin_t *a, const char *budget_id)
{
    const char *params[] = {budget_id};
    sdb_res_t *r = sdb_query(
        a->db, "SELECT 1 FROM \"LiteLLM_BudgetTable\" WHERE \"budget_id\" = $1", params, 1);
    if (!r)
        return -1;
    int n = sdb_res_rows(r) > 0;
    sdb_res_free(r);
    return n;
}

/* max_budget / soft_budget must be non-negative finite numbers; LiteLLM's two wordings. */
static bool budget_amounts_ok(const cJSON *body, bool org_wording, admin_result_t *res)
{
    static const char *const names[] = {"max_budget", "soft_budget"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, names[i]);
        if (!cJSON_IsNumber(v) || (v->valuedouble >= 0 && isfinite(v->valuedouble)))
            continue;
        char num[40];
        auth_format_float(v->valuedouble, num, sizeof num);
        if (org_wording && v->valuedouble < 0)
            admin_bad_request(res, names[i], "%s cannot be negative. Received: %s", names[i], num);
        else
            admin_bad_request(res, names[i],
                              "%s must be a non-negative finite number. Received: %s", names[i],
                              num);
        return false;
    }
    return true;
}

/* budget_duration, when given, must be one LiteLLM parses ("30s", "1h", "7d", "1mo"). */
static bool duration_ok(const admin_row_t *row, admin_result_t *res)
{
    const admin_cell_t *d = admin_row_get(row, "budget_duration");
    auth_duration_t dur;
    if (!d || !d->text || auth_duration_parse(str_cstr(d->text), &dur) == 0)
        return true;
    admin_bad_request(res, "budget_duration",
                      "Invalid budget_duration: %s (use e.g. \"30s\", \"30m\", \"30h\", \"30d\", "
                      "\"1mo\")",
                      d->text);
    return false;
}

/* ---- /budget --------------------------------------------------------------------------------- */

/* BudgetNewRequest's members (plus allowed_models, a column LiteLLM_BudgetTable exposes). */
static const char *const budget_request_fields[] = {
    "budget_id", "max_budget",      "soft_budget",      "max_parallel_requests", "tpm_limit",
    "rpm_limit", "budget_duration", "model_max_budget", "budget_reset_at",       "allowed_models",
    NULL};

static bool model_max_budget_ok(const cJSON *body, admin_result_t *res)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "model_max_budget");
    if (!v || cJSON_IsNull(v) || cJSON_IsObject(v))
        return true;
    admin_bad_request(res, "model_max_budget",
                      "model_max_budget must be an object: {\"model\": {\"budget_limit\": ..., "
                      "\"time_period\": ...}}");
    return false;
}

ADMIN_HANDLER(admin_budget_new)
{
    admin_row_t row;
    admin_row_init(&row, admin_budget_table());
    sdb_res_t *r = NULL;
    bool in_tx = false;
    const char *bad = NULL;
    cJSON *body = admin_body_object(call, res);
    if (!body || !budget_amounts_ok(body, false, res) || !model_max_budget_ok(body, res))
        goto done;
    int rc = admin_row_from_json(&row, body, budget_request_fields, true, &bad);
    if (rc == -1) {
        admin_bad_field(res, row.table, bad);
        goto done;
    }
    if (rc < 0)
        goto oom;
    if (!duration_ok(&row, res))
        goto done;
    const admin_cell_t *dur = admin_row_get(&row, "budget_duration");
    if (dur && !admin_row_get(&row, "budget_reset_at")) {
        char at[24];
        if (admin_budget_reset_text(dur->text, true, at) < 0 ||
            admin_row_set(&row, "budget_reset_at", at) < 0)
            goto oom;
    }
    if (admin_budget_complete_new(&row) < 0)
        goto oom;
    const char *id = admin_row_get(&row, "budget_id")->text;
    if (sdb_begin(a->db) < 0)
        goto db_error;
    in_tx = true;
    int exists = budget_exists(a, id);
    if (exists < 0)
        goto db_error;
    if (exists) {
        admin_bad_request(res, "budget_id", "Budget with id '%s' already exists.", id);
        goto done;
    }
    if (!(r = admin_row_insert(a->db, &row)) || sdb_commit(a->db) < 0)
        goto db_error;
    in_tx = false;
    admin_set_body(res, 200, admin_row_json_or_null(row.table, r, 0));
    goto done;
oom:
    set_oom(res);
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    if (in_tx)
        sdb_rollback(a->db);
    sdb_res_free(r);
    admin_row_free(&row);
    cJSON_Delete(body);
}

ADMIN_HANDLER(admin_budget_update)
{
    admin_row_t row;
    admin_row_init(&row, admin_budget_table());
    sdb_res_t *r = NULL;
    bool in_tx = false;
    const char *bad = NULL;
    char now[24];
    cJSON *body = admin_body_object(call, res);
    if (!body)
        goto done;
    const cJSON *idv = cJSON_GetObjectItemCaseSensitive(body, "budget_id");
    if (!cJSON_IsString(idv)) {
        admin_bad_request(res, "budget_id", "budget_id is required");
        goto done;
    }
    if (!budget_amounts_ok(body, false, res) || !model_max_budget_ok(body, res))
        goto done;
    /* LiteLLM writes the members that were sent (exclude_unset): a null clears */
    int rc = admin_row_from_json(&row, body, budget_request_fields, false, &bad);
    if (rc == -1) {
        admin_bad_field(res, row.table, bad);
        goto done;
    }
    if (rc < 0)
        goto oom;
    if (!duration_ok(&row, res))
        goto done;
    admin_row_unset(&row, "budget_id");
    admin_now_text(now);
    if (admin_row_set(&row, "updated_at", now) < 0 ||
        admin_row_set(&row, "updated_by", ADMIN_PROXY_ADMIN_NAME) < 0)
        goto oom;
    if (sdb_begin(a->db) < 0)
        goto db_error;
    in_tx = true;
    if (!(r = admin_row_update(a->db, &row, "budget_id", idv->valuestring)))
        goto db_error;
    if (sdb_res_rows(r) == 0) {
        admin_set_error(res, 404, "not_found_error", "budget_id", "Budget with id '%s' not found.",
                        idv->valuestring);
        goto done;
    }
    if (admin_keys_of_budget(a, idv->valuestring, &res->invalidated) < 0 || sdb_commit(a->db) < 0)
        goto db_error;
    in_tx = false;
    admin_set_body(res, 200, admin_row_json_or_null(row.table, r, 0));
    goto done;
oom:
    set_oom(res);
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    if (in_tx)
        sdb_rollback(a->db);
    sdb_res_free(r);
    admin_row_free(&row);
    cJSON_Delete(body);
}

ADMIN_HANDLER(admin_budget_info)
{
    store_strlist_t ids = {0};
    cJSON *list = NULL;
    cJSON *body = admin_body_object(call, res);
    if (!body)
        goto done;
    int rc = admin_json_strings(cJSON_GetObjectItemCaseSensitive(body, "budgets"), &ids);
    if (rc == -2)
        goto oom;
    if (rc < 0) {
        admin_bad_request(res, "budgets", "budgets must be a list of budget ids");
        goto done;
    }
    if (ids.n == 0) {
        admin_bad_request(res, "budgets", "Specify list of budget id's to query. Passed in=[]");
        goto done;
    }
    if (!(list = cJSON_CreateArray()))
        goto oom;
    for (size_t i = 0; i < ids.n; i++) {
        sdb_res_t *r = admin_rows_select(a->db, admin_budget_table(), "budget_id", ids.v[i], NULL);
        if (!r) {
            admin_set_db_error(res, a);
            goto done;
        }
        cJSON *o = sdb_res_rows(r) ? sdb_row_json(admin_budget_table(), r, 0) : NULL;
        sdb_res_free(r);
        if (o && !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            goto oom;
        }
    }
    admin_set_body(res, 200, list);
    list = NULL;
    goto done;
oom:
    set_oom(res);
done:
    cJSON_Delete(list);
    store_strlist_free(&ids);
    cJSON_Delete(body);
}

ADMIN_HANDLER(admin_budget_list)
{
    sdb_res_t *r =
        admin_rows_select(a->db, admin_budget_table(), NULL, NULL, "\"created_at\", \"budget_id\"");
    if (!r) {
        admin_set_db_error(res, a);
        return;
    }
    admin_set_body(res, 200, admin_rows_json(admin_budget_table(), r));
    sdb_res_free(r);
}

/* Deleting a budget: organizations must keep one (LiteLLM's foreign key refuses), customers, keys
 * and team members lose the link (their foreign keys are ON DELETE SET NULL). */
ADMIN_HANDLER(admin_budget_delete)
{
    sdb_res_t *r = NULL, *orgs = NULL;
    bool in_tx = false;
    cJSON *body = admin_body_object(call, res);
    if (!body)
        goto done;
    const cJSON *idv = cJSON_GetObjectItemCaseSensitive(body, "id");
    if (!cJSON_IsString(idv)) {
        admin_bad_request(res, "id", "id is required (the budget_id to delete)");
        goto done;
    }
    const char *id = idv->valuestring;
    const char *params[] = {id};
    if (sdb_begin(a->db) < 0)
        goto db_error;
    in_tx = true;
    int exists = budget_exists(a, id);
    if (exists < 0)
        goto db_error;
    if (!exists) {
        admin_set_error(res, 404, "not_found_error", "id", "Budget with id '%s' not found.", id);
        goto done;
    }
    if (!(orgs = sdb_query(a->db,
                           "SELECT \"organization_id\" FROM \"LiteLLM_OrganizationTable\" WHERE "
                           "\"budget_id\" = $1 ORDER BY \"organization_id\"",
                           params, 1)))
        goto db_error;
    if (sdb_res_rows(orgs)) {
        admin_bad_request(res, "id",
                          "Budget with id '%s' is the budget of organization %s; give the "
                          "organization another budget_id first.",
                          id, sdb_res_get(orgs, 0, 0));
        goto done;
    }
    if (admin_keys_of_budget(a, id, &res->invalidated) < 0)
        goto db_error;
    static const char *const unlink[] = {
        "UPDATE \"LiteLLM_EndUserTable\" SET \"budget_id\" = NULL WHERE \"budget_id\" = $1",
        "UPDATE \"LiteLLM_VerificationToken\" SET \"budget_id\" = NULL WHERE \"budget_id\" = $1",
        "UPDATE \"LiteLLM_TeamMembership\" SET \"budget_id\" = NULL WHERE \"budget_id\" = $1",
    };
    for (size_t i = 0; i < sizeof unlink / sizeof unlink[0]; i++)
        if (sdb_exec(a->db, unlink[i], params, 1) < 0)
            goto db_error;
    if (!(r = admin_rows_delete(a->db, admin_budget_table(), "budget_id", id)) ||
        sdb_commit(a->db) < 0)
        goto db_error;
    in_tx = false;
    admin_set_body(res, 200, admin_row_json_or_null(admin_budget_table(), r, 0));
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    if (in_tx) {
        sdb_rollback(a->db);
        store_strlist_free(&res->invalidated);
    }
    sdb_res_free(r);
    sdb_res_free(orgs);
    cJSON_Delete(body);
}

/* ---- /organization --------------------------------------------------------------------------- */

/* LiteLLM_BudgetTable's members, which an organization request carries for its budget row. */
static const char *const org_budget_fields[] = {
    "max_budget",       "soft_budget",     "max_parallel_requests", "tpm_limit", "rpm_limit",
    "model_max_budget", "budget_duration", "allowed_models",        NULL};
/* Request members LiteLLM keeps in the organization's metadata. */
static const char *const org_metadata_fields[] = {"model_rpm_limit", "model_tpm_limit", "tags",
                                                  "guardrails", NULL};

/* The organization with its budget row, members (LiteLLM_OrganizationMembership is not in
 * sluice's schema: []) and teams. teams/members only when with_members. */
static cJSON *org_json(admin_t *a, const sdb_res_t *r, size_t row, bool with_members,
                       admin_result_t *res)
{
    cJSON *o = sdb_row_json(org_table(), r, row);
    cJSON *budget = admin_budget_json(a, admin_res_text(r, row, "budget_id"), res);
    if (!o || !budget || !cJSON_AddItemToObject(o, "litellm_budget_table", budget)) {
        cJSON_Delete(budget);
        goto fail;
    }
    if (with_members) {
        const char *id = admin_res_text(r, row, "organization_id");
        sdb_res_t *teams = admin_rows_select(a->db, store_schema_table("LiteLLM_TeamTable"),
                                             "organization_id", id, "\"team_id\"");
        if (!teams) {
            admin_set_db_error(res, a);
            goto fail;
        }
        cJSON *t = admin_rows_json(store_schema_table("LiteLLM_TeamTable"), teams);
        sdb_res_free(teams);
        if (!t || !cJSON_AddItemToObject(o, "teams", t)) {
            cJSON_Delete(t);
            goto fail;
        }
        cJSON_AddItemToObject(o, "members", cJSON_CreateArray());
    }
    cJSON_AddNullToObject(o, "object_permission");
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

static void set_org_body(admin_t *a, admin_result_t *res, const sdb_res_t *r, bool with_members)
{
    cJSON *o = org_json(a, r, 0, with_members, res);
    if (o)
        admin_set_body(res, 200, o);
    else if (!res->body)
        set_oom(res);
}

/* metadata from the request, with the members LiteLLM files under metadata merged in, onto
 * `base` (the stored metadata on update; merged shallowly, as LiteLLM's _update_dictionary).
 * Returns the new metadata (caller frees), or NULL when the request changes nothing in it; *bad
 * set when metadata is not an object. */
static cJSON *merged_metadata(const cJSON *body, const char *base, bool *bad)
{
    *bad = false;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "metadata");
    bool any = m && !cJSON_IsNull(m);
    if (any && !cJSON_IsObject(m)) {
        *bad = true;
        return NULL;
    }
    for (size_t i = 0; org_metadata_fields[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, org_metadata_fields[i]);
        any |= v && !cJSON_IsNull(v);
    }
    if (!any)
        return NULL;
    cJSON *out = base ? cJSON_Parse(base) : NULL;
    if (!cJSON_IsObject(out)) {
        cJSON_Delete(out);
        out = cJSON_CreateObject();
    }
    const cJSON *it;
    if (cJSON_IsObject(m))
        cJSON_ArrayForEach(it, m)
        {
            cJSON_DeleteItemFromObjectCaseSensitive(out, it->string);
            cJSON_AddItemToObject(out, it->string, cJSON_Duplicate(it, true));
        }
    for (size_t i = 0; org_metadata_fields[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, org_metadata_fields[i]);
        if (!v || cJSON_IsNull(v))
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(out, org_metadata_fields[i]);
        cJSON_AddItemToObject(out, org_metadata_fields[i], cJSON_Duplicate(v, true));
    }
    return out;
}

static int set_metadata(admin_row_t *row, cJSON *meta)
{
    char *text = cJSON_PrintUnformatted(meta);
    int rc = text ? admin_row_set(row, "metadata", text) : -1;
    free(text);
    return rc;
}

/* 1 when organization_id exists, 0 when not, -1 on a database error. */
static int org_exists(admin_t *a, const char *id)
{
    const char *params[] = {id};
    sdb_res_t *r = sdb_query(
        a->db, "SELECT 1 FROM \"LiteLLM_OrganizationTable\" WHERE \"organization_id\" = $1", params,
        1);
    if (!r)
        return -1;
    int n = sdb_res_rows(r) > 0;
    sdb_res_free(r);
    return n;
}

ADMIN_HANDLER(admin_org_new)
{
    static const char *const org_fields[] = {"organization_id", "organization_alias", "budget_id",
                                             "models", NULL};
    admin_row_t row, budget;
    admin_row_init(&row, org_table());
    admin_row_init(&budget, admin_budget_table());
    sdb_res_t *r = NULL;
    cJSON *meta = NULL;
    bool in_tx = false, bad_meta;
    const char *bad = NULL;
    char id[37], now[24];
    cJSON *body = admin_body_object(call, res);
    if (!body)
        goto done;
    const cJSON *alias = cJSON_GetObjectItemCaseSensitive(body, "organization_alias");
    if (!cJSON_IsString(alias)) {
        admin_bad_request(res, "organization_alias", "organization_alias is required");
        goto done;
    }
    if (!budget_amounts_ok(body, true, res) || !model_max_budget_ok(body, res))
        goto done;
    const store_table_t *bad_table = row.table;
    int rc = admin_row_from_json(&row, body, org_fields, true, &bad);
    if (rc == 0) {
        bad_table = budget.table;
        rc = admin_row_from_json(&budget, body, org_budget_fields, true, &bad);
    }
    if (rc == -1) {
        admin_bad_field(res, bad_table, bad);
        goto done;
    }
    if (rc < 0)
        goto oom;
    if (!duration_ok(&budget, res))
        goto done;
    meta = merged_metadata(body, NULL, &bad_meta);
    if (bad_meta) {
        admin_bad_field(res, row.table, "metadata");
        goto done;
    }
    if (meta && set_metadata(&row, meta) < 0)
        goto oom;
    if (!admin_row_get(&row, "organization_id")) {
        if (admin_uuid(id) < 0 || admin_row_set(&row, "organization_id", id) < 0)
            goto oom;
    }
    if (!admin_row_get(&row, "models") && admin_row_set(&row, "models", "[]") < 0)
        goto oom;
    admin_now_text(now);
    if (admin_row_set(&row, "created_at", now) < 0 || admin_row_set(&row, "updated_at", now) < 0 ||
        admin_row_set(&row, "created_by", ADMIN_PROXY_ADMIN_NAME) < 0 ||
        admin_row_set(&row, "updated_by", ADMIN_PROXY_ADMIN_NAME) < 0)
        goto oom;
    const char *org_id = admin_row_get(&row, "organization_id")->text;

    if (sdb_begin(a->db) < 0)
        goto db_error;
    in_tx = true;
    int exists = org_exists(a, org_id);
    if (exists < 0)
        goto db_error;
    if (exists) {
        admin_bad_request(res, "organization_id", "Organization with id=%s already exists.",
                          org_id);
        goto done;
    }
    const admin_cell_t *link = admin_row_get(&row, "budget_id");
    if (link) {
        int b = budget_exists(a, link->text);
        if (b < 0)
            goto db_error;
        if (!b) {
            admin_bad_request(res, "budget_id", "Budget with id=%s does not exist in db",
                              link->text);
            goto done;
        }
    } else {
        /* every organization needs a budget row: one from the request's budget fields */
        const admin_cell_t *dur = admin_row_get(&budget, "budget_duration");
        char at[24];
        if (dur && (admin_budget_reset_text(dur->text, true, at) < 0 ||
                    admin_row_set(&budget, "budget_reset_at", at) < 0))
            goto oom;
        if (admin_budget_complete_new(&budget) < 0)
            goto oom;
        sdb_res_t *b = admin_row_insert(a->db, &budget);
        if (!b)
            goto db_error;
        rc = admin_row_set(&row, "budget_id", admin_res_text(b, 0, "budget_id"));
        sdb_res_free(b);
        if (rc < 0)
            goto oom;
    }
    if (!(r = admin_row_insert(a->db, &row)))
        goto db_error;
    set_org_body(a, res, r, false);
    if (res->status != 200)
        goto done;
    if (sdb_commit(a->db) < 0)
        goto db_error;
    in_tx = false;
    goto done;
oom:
    set_oom(res);
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    if (in_tx)
        sdb_rollback(a->db);
    sdb_res_free(r);
    cJSON_Delete(meta);
    admin_row_free(&row);
    admin_row_free(&budget);
    cJSON_Delete(body);
}

ADMIN_HANDLER(admin_org_update)
{
    static const char *const org_fields[] = {"organization_alias", "budget_id", "spend", "models",
                                             "updated_by",         NULL};
    admin_row_t row, budget;
    admin_row_init(&row, org_table());
    admin_row_init(&budget, admin_budget_table());
    sdb_res_t *old = NULL, *r = NULL;
    cJSON *meta = NULL;
    bool in_tx = false, bad_meta;
    const char *bad = NULL;
    char now[24];
    cJSON *body = admin_body_object(call, res);
    if (!body)
        goto done;
    /* the Admin UI nests the budget fields in litellm_budget_table: flatten them (non-null) */
    cJSON *nested = cJSON_DetachItemFromObjectCaseSensitive(body, "litellm_budget_table");
    if (cJSON_IsObject(nested))
        for (size_t i = 0; org_budget_fields[i]; i++) {
            cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(nested, org_budget_fields[i]);
            if (v && !cJSON_IsNull(v)) {
                cJSON_DeleteItemFromObjectCaseSensitive(body, org_budget_fields[i]);
                cJSON_AddItemToObject(body, org_budget_fields[i], v);
            } else {
                cJSON_Delete(v);
            }
        }
    cJSON_Delete(nested);
    const cJSON *idv = cJSON_GetObjectItemCaseSensitive(body, "organization_id");
    if (!cJSON_IsString(idv)) {
        admin_bad_request(res, "organization_id", "organization_id is required");
        goto done;
    }
    const char *org_id = idv->valuestring;
    if (!budget_amounts_ok(body, true, res) || !model_max_budget_ok(body, res))
        goto done;
    const store_table_t *bad_table = row.table;
    int rc = admin_row_from_json(&row, body, org_fields, true, &bad);
    if (rc == 0) {
        bad_table = budget.table;
        rc = admin_row_from_json(&budget, body, org_budget_fields, true, &bad);
    }
    if (rc == -1) {
        admin_bad_field(res, bad_table, bad);
        goto done;
    }
    if (rc < 0)
        goto oom;
    if (!duration_ok(&budget, res))
        goto done;

    if (sdb_begin(a->db) < 0)
        goto db_error;
    in_tx = true;
    if (!(old = admin_rows_select(a->db, org_table(), "organization_id", org_id, NULL)))
        goto db_error;
    if (sdb_res_rows(old) == 0) {
        admin_set_error(res, 404, "not_found_error", "organization_id",
                        "Organization not found for organization_id=%s", org_id);
        goto done;
    }
    meta = merged_metadata(body, admin_res_text(old, 0, "metadata"), &bad_meta);
    if (bad_meta) {
        admin_bad_field(res, row.table, "metadata");
        goto done;
    }
    if (meta && set_metadata(&row, meta) < 0)
        goto oom;
    const admin_cell_t *link = admin_row_get(&row, "budget_id");
    if (link) {
        int b = budget_exists(a, link->text);
        if (b < 0)
            goto db_error;
        if (!b) {
            admin_bad_request(res, "budget_id", "Budget with id=%s does not exist in db",
                              link->text);
            goto done;
        }
    }
    admin_now_text(now);
    const char *budget_id = admin_res_text(old, 0, "budget_id");
    if (budget.n && budget_id) {
        /* budget fields change the organization's (current) budget row */
        if (admin_row_set(&budget, "updated_at", now) < 0 ||
            admin_row_set(&budget, "updated_by", ADMIN_PROXY_ADMIN_NAME) < 0)
            goto oom;
        sdb_res_t *b = admin_row_update(a->db, &budget, "budget_id", budget_id);
        if (!b)
            goto db_error;
        sdb_res_free(b);
        if (admin_keys_of_budget(a, budget_id, &res->invalidated) < 0)
            goto db_error;
    }
    if ((budget.n || admin_row_get(&row, "models") || link) &&
        keys_of_org(a, org_id, &res->invalidated) < 0)
        goto db_error;
    if (!admin_row_get(&row, "updated_by") &&
        admin_row_set(&row, "updated_by", ADMIN_PROXY_ADMIN_NAME) < 0)
        goto oom;
    if (admin_row_set(&row, "updated_at", now) < 0)
        goto oom;
    if (!(r = admin_row_update(a->db, &row, "organization_id", org_id)))
        goto db_error;
    set_org_body(a, res, r, true);
    if (res->status != 200)
        goto done;
    if (sdb_commit(a->db) < 0)
        goto db_error;
    in_tx = false;
    goto done;
oom:
    set_oom(res);
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    if (in_tx) {
        sdb_rollback(a->db);
        store_strlist_free(&res->invalidated);
    }
    sdb_res_free(old);
    sdb_res_free(r);
    cJSON_Delete(meta);
    admin_row_free(&row);
    admin_row_free(&budget);
    cJSON_Delete(body);
}

/* Whether LiteLLM_OrganizationMembership exists (it is not in sluice's schema, but it is on a
 * database LiteLLM migrated, with a foreign key to the organization). -1 on a database error. */
static int membership_table_exists(admin_t *a)
{
    const char *sql = sdb_dialect(a->db) == STORE_DIALECT_POSTGRES
                          ? "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = "
                            "current_schema() AND tablename = 'LiteLLM_OrganizationMembership'"
                          : "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                            "'LiteLLM_OrganizationMembership'";
    sdb_res_t *r = sdb_query(a->db, sql, NULL, 0);
    if (!r)
        return -1;
    int n = sdb_res_rows(r) > 0;
    sdb_res_free(r);
    return n;
}

/* Deletes organizations with their teams, memberships and keys, as LiteLLM does; unlike LiteLLM
 * (one organization after another), all or nothing: an unknown id deletes nothing. */
ADMIN_HANDLER(admin_org_delete)
{
    store_strlist_t ids = {0};
    cJSON *list = NULL;
    bool in_tx = false;
    cJSON *body = admin_body_object(call, res);
    if (!body)
        goto done;
    int rc = admin_json_strings(cJSON_GetObjectItemCaseSensitive(body, "organization_ids"), &ids);
    if (rc == -2)
        goto oom;
    if (rc < 0 || ids.n == 0) {
        admin_bad_request(res, "organization_ids",
                          "organization_ids is required (a non-empty list of organization ids)");
        goto done;
    }
    if (!(list = cJSON_CreateArray()))
        goto oom;
    if (sdb_begin(a->db) < 0)
        goto db_error;
    in_tx = true;
    for (size_t i = 0; i < ids.n; i++) {
        int e = org_exists(a, ids.v[i]);
        if (e < 0)
            goto db_error;
        if (!e) {
            admin_set_error(res, 404, "not_found_error", "organization_ids",
                            "Organization=%s not found", ids.v[i]);
            goto done;
        }
    }
    int memberships = membership_table_exists(a);
    if (memberships < 0)
        goto db_error;
    for (size_t i = 0; i < ids.n; i++) {
        const char *params[] = {ids.v[i]};
        sdb_res_t *org = admin_rows_select(a->db, org_table(), "organization_id", ids.v[i], NULL);
        if (!org)
            goto db_error;
        if (sdb_res_rows(org) == 0) { /* listed twice */
            sdb_res_free(org);
            continue;
        }
        cJSON *o = org_json(a, org, 0, true, res);
        sdb_res_free(org);
        if (!o || !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            if (res->body)
                goto done;
            goto oom;
        }
        if (keys_of_org(a, ids.v[i], &res->invalidated) < 0 ||
            sdb_exec(a->db, "DELETE FROM \"LiteLLM_TeamTable\" WHERE \"organization_id\" = $1",
                     params, 1) < 0 ||
            (memberships && sdb_exec(a->db,
                                     "DELETE FROM \"LiteLLM_OrganizationMembership\" WHERE "
                                     "\"organization_id\" = $1",
                                     params, 1) < 0) ||
            sdb_exec(a->db,
                     "DELETE FROM \"LiteLLM_VerificationToken\" WHERE \"organization_id\" = $1",
                     params, 1) < 0 ||
            sdb_exec(a->db,
                     "DELETE FROM \"LiteLLM_OrganizationTable\" WHERE \"organization_id\" = $1",
                     params, 1) < 0)
            goto db_error;
    }
    if (sdb_commit(a->db) < 0)
        goto db_error;
    in_tx = false;
    admin_set_body(res, 200, list);
    list = NULL;
    goto done;
oom:
    set_oom(res);
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    if (in_tx) {
        sdb_rollback(a->db);
        store_strlist_free(&res->invalidated);
    }
    cJSON_Delete(list);
    store_strlist_free(&ids);
    cJSON_Delete(body);
}

ADMIN_HANDLER(admin_org_info)
{
    char *id = admin_query_get(call->query, call->query_len, "organization_id");
    if (!id) {
        admin_bad_request(res, "organization_id", "organization_id is required");
        return;
    }
    sdb_res_t *r = admin_rows_select(a->db, org_table(), "organization_id", id, NULL);
    if (!r)
        admin_set_db_error(res, a);
    else if (sdb_res_rows(r) == 0)
        admin_set_error(res, 404, "not_found_error", "organization_id", "Organization not found");
    else
        set_org_body(a, res, r, true);
    sdb_res_free(r);
    free(id);
}

/* The deprecated POST form: {"organizations": [ids]} -> the rows found, with their budgets. */
ADMIN_HANDLER(admin_org_info_post)
{
    store_strlist_t ids = {0};
    cJSON *list = NULL;
    cJSON *body = admin_body_object(call, res);
    if (!body)
        goto done;
    int rc = admin_json_strings(cJSON_GetObjectItemCaseSensitive(body, "organizations"), &ids);
    if (rc == -2)
        goto oom;
    if (rc < 0 || ids.n == 0) {
        admin_bad_request(res, "organizations",
                          "Specify list of organization id's to query. Passed in=[]");
        goto done;
    }
    if (!(list = cJSON_CreateArray()))
        goto oom;
    for (size_t i = 0; i < ids.n; i++) {
        sdb_res_t *r = admin_rows_select(a->db, org_table(), "organization_id", ids.v[i], NULL);
        if (!r) {
            admin_set_db_error(res, a);
            goto done;
        }
        cJSON *o = sdb_res_rows(r) ? org_json(a, r, 0, false, res) : NULL;
        sdb_res_free(r);
        if (res->body)
            goto done;
        if (o && !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            goto oom;
        }
    }
    admin_set_body(res, 200, list);
    list = NULL;
    goto done;
oom:
    set_oom(res);
done:
    cJSON_Delete(list);
    store_strlist_free(&ids);
    cJSON_Delete(body);
}

/* ?org_id= (exact) and ?org_alias= (case-insensitive substring), as LiteLLM filters. */
ADMIN_HANDLER(admin_org_list)
{
    char *org_id = admin_query_get(call->query, call->query_len, "org_id");
    char *alias = admin_query_get(call->query, call->query_len, "org_alias");
    const char *params[2];
    int n = 0;
    buf_t sql = {0};
    sdb_res_t *r = NULL;
    cJSON *list = NULL;
    bool pg = sdb_dialect(a->db) == STORE_DIALECT_POSTGRES;
    if (buf_append_cstr(&sql, "SELECT ") < 0)
        goto oom;
    sdb_select_all(a->db, org_table(), NULL, &sql);
    if (buf_append_cstr(&sql, " FROM \"LiteLLM_OrganizationTable\" WHERE 1 = 1") < 0)
        goto oom;
    if (org_id && org_id[0]) {
        params[n++] = org_id;
        if (buf_printf(&sql, " AND \"organization_id\" = $%d", n) < 0)
            goto oom;
    }
    if (alias && alias[0]) {
        params[n++] = alias;
        if (buf_printf(&sql, " AND %s(lower(\"organization_alias\"), lower($%d)) > 0",
                       pg ? "strpos" : "instr", n) < 0)
            goto oom;
    }
    if (buf_append_cstr(&sql, " ORDER BY \"created_at\", \"organization_id\"") < 0 ||
        !buf_cstr(&sql))
        goto oom;
    if (!(r = sdb_query(a->db, sql.p, params, n))) {
        admin_set_db_error(res, a);
        goto done;
    }
    if (!(list = cJSON_CreateArray()))
        goto oom;
    for (size_t i = 0; i < sdb_res_rows(r); i++) {
        cJSON *o = org_json(a, r, i, true, res);
        if (!o && res->body)
            goto done;
        if (!o || !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            goto oom;
        }
    }
    admin_set_body(res, 200, list);
    list = NULL;
    goto done;
oom:
    set_oom(res);
done:
    cJSON_Delete(list);
    sdb_res_free(r);
    buf_free(&sql);
    free(org_id);
    free(alias);
}
