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

/* ---- budgets: shared ------------------------------------------------------------------------- */

int admin_budget_complete_new(admin_row_t *row)
{
    char id[37];
    const admin_cell_t *given = admin_row_get(row, "budget_id");
    if ((!given || !given->text) && (admin_uuid(id) < 0 || admin_row_set(row, "budget_id", id) < 0))
        return -1;
    return admin_row_stamp(row, true);
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

int admin_budget_insert(admin_t *a, admin_row_t *b, char id[ADMIN_BUDGET_ID_MAX],
                        admin_result_t *res)
{
    if (admin_budget_complete_new(b) < 0) {
        admin_set_error(res, 500, "internal_server_error", NULL, "cannot create a budget id");
        return -1;
    }
    sdb_res_t *r = admin_row_insert(a->db, b);
    if (!r) {
        admin_set_db_error(res, a);
        return -1;
    }
    snprintf(id, ADMIN_BUDGET_ID_MAX, "%s", admin_res_text(r, 0, "budget_id"));
    sdb_res_free(r);
    return 0;
}

int admin_budget_link_new(admin_t *a, admin_row_t *b, admin_row_t *row, admin_result_t *res)
{
    char id[ADMIN_BUDGET_ID_MAX];
    if (admin_budget_insert(a, b, id, res) < 0)
        return -1;
    if (admin_row_set(row, "budget_id", id) < 0) {
        admin_oom(res);
        return -1;
    }
    return 0;
}

int admin_budget_set_reset(admin_row_t *b, bool standardized)
{
    const admin_cell_t *dur = admin_row_get(b, "budget_duration");
    char at[24];
    if (!dur || admin_row_get(b, "budget_reset_at"))
        return 0;
    if (admin_budget_reset_text(dur->text, standardized, at) < 0)
        return -1;
    return admin_row_set(b, "budget_reset_at", at) < 0 ? -2 : 0;
}

bool admin_budget_link_ok(admin_t *a, const char *budget_id, admin_result_t *res)
{
    int found = admin_row_exists(a->db, admin_budget_table(), "budget_id", budget_id);
    if (found < 0)
        admin_set_db_error(res, a);
    else if (!found)
        admin_bad_request(res, "budget_id", "Budget with id=%s does not exist in db", budget_id);
    return found == 1;
}

bool admin_budget_attach(admin_t *a, cJSON *o, const char *budget_id, admin_result_t *res)
{
    if (admin_json_put(o, "litellm_budget_table", admin_budget_json(a, budget_id, res)))
        return true;
    admin_oom_unless_set(res);
    return false;
}

int admin_budget_write(admin_t *a, admin_row_t *b, const char *budget_id, admin_result_t *res)
{
    if (admin_row_stamp(b, false) < 0) {
        admin_oom(res);
        return -1;
    }
    sdb_res_t *r = admin_row_update(a->db, b, "budget_id", budget_id);
    if (!r) {
        admin_set_db_error(res, a);
        return -1;
    }
    sdb_res_free(r);
    return 0;
}

int admin_keys_of_budget(admin_t *a, const char *budget_id, store_strlist_t *out)
{
    const char *params[] = {budget_id};
    /* the keys whose own budget it is, and those of a user in a team whose membership's it is
     * (their record carries the member's limits and max_budget) */
    return admin_tokens_add(
               a->db,
               "SELECT k.\"token\" FROM \"LiteLLM_VerificationToken\" k WHERE k.\"budget_id\" = $1 "
               "OR EXISTS (SELECT 1 FROM \"LiteLLM_TeamMembership\" m WHERE m.\"budget_id\" = $1 "
               "AND m.\"user_id\" = k.\"user_id\" AND m.\"team_id\" = k.\"team_id\")",
               params, 1, out) < 0
               ? -1
               : 0;
}

/* The keys of an organization: its own, and those of its teams (their cached team data). */
static int keys_of_org(admin_t *a, const char *org_id, store_strlist_t *out)
{
    const char *params[] = {org_id};
    return admin_tokens_add(a->db,
                            "SELECT \"token\" FROM \"LiteLLM_VerificationToken\" WHERE "
                            "\"organization_id\" = $1 OR \"team_id\" IN (SELECT \"team_id\" FROM "
                            "\"LiteLLM_TeamTable\" WHERE \"organization_id\" = $1)",
                            params, 1, out) < 0
               ? -1
               : 0;
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

/* The budget members of a /budget request, or of an /organization request (row: the organization
 * row, which takes row_fields first), into budget, checked as LiteLLM checks them: amounts,
 * model_max_budget, types, budget_duration. skip_null: a null is not given (else it clears).
 * 0, or -1 with res set. */
static int budget_take(const cJSON *body, admin_row_t *row, const char *const *row_fields,
                       admin_row_t *budget, const char *const *budget_fields, bool skip_null,
                       admin_result_t *res)
{
    return budget_amounts_ok(body, row != NULL, res) && model_max_budget_ok(body, res) &&
                   (!row || admin_row_take(row, body, row_fields, true, res) == 0) &&
                   admin_row_take(budget, body, budget_fields, skip_null, res) == 0 &&
                   duration_ok(budget, res)
               ? 0
               : -1;
}

ADMIN_HANDLER(admin_budget_new)
{
    admin_row_t row;
    admin_row_init(&row, admin_budget_table());
    sdb_res_t *r = NULL;
    bool in_tx = false;
    cJSON *body = admin_body_object(call, res);
    if (!body || budget_take(body, NULL, NULL, &row, budget_request_fields, true, res) < 0)
        goto done;
    if (admin_budget_set_reset(&row, true) < 0 || admin_budget_complete_new(&row) < 0) {
        admin_oom(res);
        goto done;
    }
    const char *id = admin_row_get(&row, "budget_id")->text;
    if (admin_tx_begin(a, &in_tx, res) < 0 ||
        admin_row_absent(a, row.table, "budget_id", id, res, 400, "bad_request_error", "budget_id",
                         "Budget with id '%s' already exists.", id) < 0)
        goto done;
    if (!(r = admin_row_insert(a->db, &row)))
        admin_set_db_error(res, a);
    else if (admin_tx_commit(a, &in_tx, res) == 0)
        admin_set_body(res, 200, admin_row_json_or_null(row.table, r, 0));
done:
    admin_tx_end(a, in_tx, res);
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
    cJSON *body = admin_body_object(call, res);
    if (!body)
        goto done;
    const char *id = admin_body_string(body, "budget_id", false, "budget_id is required", res);
    /* LiteLLM writes the members that were sent (exclude_unset): a null clears */
    if (!id || budget_take(body, NULL, NULL, &row, budget_request_fields, false, res) < 0)
        goto done;
    admin_row_unset(&row, "budget_id");
    if (admin_row_stamp(&row, false) < 0) {
        admin_oom(res);
        goto done;
    }
    if (admin_tx_begin(a, &in_tx, res) < 0)
        goto done;
    if (!(r = admin_row_update(a->db, &row, "budget_id", id)))
        goto db_error;
    if (sdb_res_rows(r) == 0) {
        admin_set_error(res, 404, "not_found_error", "budget_id", "Budget with id '%s' not found.",
                        id);
        goto done;
    }
    if (admin_keys_of_budget(a, id, &res->invalidated) < 0)
        goto db_error;
    if (admin_tx_commit(a, &in_tx, res) == 0)
        admin_set_body(res, 200, admin_row_json_or_null(row.table, r, 0));
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    admin_tx_end(a, in_tx, res);
    sdb_res_free(r);
    admin_row_free(&row);
    cJSON_Delete(body);
}

/* The rows of t whose col is one of ids, as row_json shows them; ids without a row are left out.
 * NULL with res set. */
static cJSON *rows_of(admin_t *a, const store_strlist_t *ids, const store_table_t *t,
                      const char *col,
                      cJSON *(*row_json)(admin_t *, const sdb_res_t *, admin_result_t *),
                      admin_result_t *res)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; list && i < ids->n; i++) {
        sdb_res_t *r = admin_rows_select(a->db, t, col, ids->v[i], NULL);
        if (!r)
            admin_set_db_error(res, a);
        cJSON *o = r && sdb_res_rows(r) ? row_json(a, r, res) : NULL;
        sdb_res_free(r);
        if (res->body || (o && !admin_json_append(list, o))) {
            cJSON_Delete(list);
            list = NULL;
        }
    }
    return list;
}

/* The deprecated lookups by a list of ids ({"budgets": [...]}, {"organizations": [...]}): the
 * rows of t whose col is one of them (rows_of). */
static void answer_rows_of(admin_t *a, const admin_call_t *call, admin_result_t *res,
                           const char *member, const char *not_list, const char *empty,
                           const store_table_t *t, const char *col,
                           cJSON *(*row_json)(admin_t *, const sdb_res_t *, admin_result_t *))
{
    store_strlist_t ids = {0};
    cJSON *body = admin_body_object(call, res);
    if (body && admin_body_strings(body, member, &ids, not_list, empty, res) == 0)
        admin_answer(res, rows_of(a, &ids, t, col, row_json, res));
    store_strlist_free(&ids);
    cJSON_Delete(body);
}

static cJSON *budget_row_json(admin_t *a, const sdb_res_t *r, admin_result_t *res)
{
    return sdb_row_json(admin_budget_table(), r, 0);
}

ADMIN_HANDLER(admin_budget_info)
{
    answer_rows_of(a, call, res, "budgets", "budgets must be a list of budget ids",
                   "Specify list of budget id's to query. Passed in=[]", admin_budget_table(),
                   "budget_id", budget_row_json);
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
    const char *id =
        admin_body_string(body, "id", false, "id is required (the budget_id to delete)", res);
    const char *params[] = {id};
    if (!id || admin_tx_begin(a, &in_tx, res) < 0)
        goto done;
    int exists = admin_row_exists(a->db, admin_budget_table(), "budget_id", id);
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
    if (!(r = admin_rows_delete(a->db, admin_budget_table(), "budget_id", id)))
        goto db_error;
    if (admin_tx_commit(a, &in_tx, res) == 0)
        admin_set_body(res, 200, admin_row_json_or_null(admin_budget_table(), r, 0));
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    admin_tx_end(a, in_tx, res);
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
 * sluice's schema: []) and teams. teams/members only when with_members. NULL with res set. */
static cJSON *org_json(admin_t *a, const sdb_res_t *r, size_t row, bool with_members,
                       admin_result_t *res)
{
    cJSON *o = sdb_row_json(org_table(), r, row);
    if (!admin_budget_attach(a, o, admin_res_text(r, row, "budget_id"), res))
        goto fail;
    if (with_members) {
        const char *id = admin_res_text(r, row, "organization_id");
        if (!admin_json_put(o, "teams",
                            admin_rows_json_of(a, store_schema_table("LiteLLM_TeamTable"),
                                               "organization_id", id, "\"team_id\"", res))) {
            admin_oom_unless_set(res);
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

/* The end of an organization write: r, the row written (NULL: a database error), answered as
 * org_json shows it; the transaction commits once the answer is ready. */
static void commit_org(admin_t *a, admin_result_t *res, bool *in_tx, const sdb_res_t *r,
                       bool with_members)
{
    if (!r) {
        admin_set_db_error(res, a);
        return;
    }
    admin_answer(res, org_json(a, r, 0, with_members, res));
    if (res->status == 200)
        admin_tx_commit(a, in_tx, res);
}

/* org_json for answer_rows_of: the organization without its members. */
static cJSON *org_row_json(admin_t *a, const sdb_res_t *r, admin_result_t *res)
{
    return org_json(a, r, 0, false, res);
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
    char id[37];
    cJSON *body = admin_body_object(call, res);
    if (!body)
        goto done;
    if (!admin_body_string(body, "organization_alias", false, "organization_alias is required",
                           res) ||
        budget_take(body, &row, org_fields, &budget, org_budget_fields, true, res) < 0)
        goto done;
    meta = merged_metadata(body, NULL, &bad_meta);
    if (bad_meta) {
        admin_bad_field(res, row.table, "metadata");
        goto done;
    }
    if (meta && set_metadata(&row, meta) < 0)
        goto oom;
    if (!admin_row_get(&row, "organization_id") &&
        (admin_uuid(id) < 0 || admin_row_set(&row, "organization_id", id) < 0))
        goto oom;
    if (!admin_row_get(&row, "models") && admin_row_set(&row, "models", "[]") < 0)
        goto oom;
    if (admin_row_stamp(&row, true) < 0)
        goto oom;
    const char *org_id = admin_row_get(&row, "organization_id")->text;

    if (admin_tx_begin(a, &in_tx, res) < 0 ||
        admin_row_absent(a, row.table, "organization_id", org_id, res, 400, "bad_request_error",
                         "organization_id", "Organization with id=%s already exists.", org_id) < 0)
        goto done;
    const admin_cell_t *link = admin_row_get(&row, "budget_id");
    if (link) {
        if (!admin_budget_link_ok(a, link->text, res))
            goto done;
    } else {
        /* every organization needs a budget row: one from the request's budget fields */
        if (admin_budget_set_reset(&budget, true) < 0)
            goto oom;
        if (admin_budget_link_new(a, &budget, &row, res) < 0)
            goto done;
    }
    r = admin_row_insert(a->db, &row);
    commit_org(a, res, &in_tx, r, false);
    goto done;
oom:
    admin_oom(res);
done:
    admin_tx_end(a, in_tx, res);
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
    const char *org_id =
        admin_body_string(body, "organization_id", false, "organization_id is required", res);
    if (!org_id || budget_take(body, &row, org_fields, &budget, org_budget_fields, true, res) < 0 ||
        admin_tx_begin(a, &in_tx, res) < 0 ||
        !(old = admin_rows_find(a, org_table(), "organization_id", org_id, res, "not_found_error",
                                "organization_id", "Organization not found for organization_id=%s",
                                org_id)))
        goto done;
    meta = merged_metadata(body, admin_res_text(old, 0, "metadata"), &bad_meta);
    if (bad_meta) {
        admin_bad_field(res, row.table, "metadata");
        goto done;
    }
    if (meta && set_metadata(&row, meta) < 0)
        goto oom;
    const admin_cell_t *link = admin_row_get(&row, "budget_id");
    if (link && !admin_budget_link_ok(a, link->text, res))
        goto done;
    const char *budget_id = admin_res_text(old, 0, "budget_id");
    if (budget.n && budget_id) {
        /* budget fields change the organization's (current) budget row */
        if (admin_budget_write(a, &budget, budget_id, res) < 0)
            goto done;
        if (admin_keys_of_budget(a, budget_id, &res->invalidated) < 0)
            goto db_error;
    }
    if ((budget.n || admin_row_get(&row, "models") || link) &&
        keys_of_org(a, org_id, &res->invalidated) < 0)
        goto db_error;
    if (admin_row_stamp(&row, false) < 0)
        goto oom;
    r = admin_row_update(a->db, &row, "organization_id", org_id);
    commit_org(a, res, &in_tx, r, true);
    goto done;
oom:
    admin_oom(res);
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    admin_tx_end(a, in_tx, res);
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
    static const char *const ids_required =
        "organization_ids is required (a non-empty list of organization ids)";
    store_strlist_t ids = {0};
    cJSON *list = NULL;
    bool in_tx = false;
    cJSON *body = admin_body_object(call, res);
    if (!body ||
        admin_body_strings(body, "organization_ids", &ids, ids_required, ids_required, res) < 0)
        goto done;
    if (!(list = cJSON_CreateArray())) {
        admin_oom(res);
        goto done;
    }
    if (admin_tx_begin(a, &in_tx, res) < 0 ||
        admin_rows_all_exist(a, org_table(), "organization_id", &ids, res, "organization_ids",
                             "Organization=%s not found") < 0)
        goto done;
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
        if (!admin_json_append(list, o)) {
            admin_oom_unless_set(res);
            goto done;
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
    if (admin_tx_commit(a, &in_tx, res) == 0) {
        admin_set_body(res, 200, list);
        list = NULL;
    }
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    admin_tx_end(a, in_tx, res);
    cJSON_Delete(list);
    store_strlist_free(&ids);
    cJSON_Delete(body);
}

ADMIN_HANDLER(admin_org_info)
{
    sdb_res_t *r = admin_rows_find_query(a, call, "organization_id", org_table(), "organization_id",
                                         res, "not_found_error", "Organization not found");
    if (r)
        admin_answer(res, org_json(a, r, 0, true, res));
    sdb_res_free(r);
}

/* The deprecated POST form: {"organizations": [ids]} -> the rows found, with their budgets. */
ADMIN_HANDLER(admin_org_info_post)
{
    static const char *const empty = "Specify list of organization id's to query. Passed in=[]";
    answer_rows_of(a, call, res, "organizations", empty, empty, org_table(), "organization_id",
                   org_row_json);
}

/* The organizations of r, each as org_json shows it with its members. NULL with res set. */
static cJSON *orgs_json(admin_t *a, const sdb_res_t *r, admin_result_t *res)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; list && i < sdb_res_rows(r); i++)
        if (!admin_json_append(list, org_json(a, r, i, true, res))) {
            cJSON_Delete(list);
            list = NULL;
        }
    return list;
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
    if ((r = admin_query_sql(a, &sql, " ORDER BY \"created_at\", \"organization_id\"", params, n,
                             res)))
        admin_answer(res, orgs_json(a, r, res));
    goto done;
oom:
    admin_oom(res);
done:
    sdb_res_free(r);
    buf_free(&sql);
    free(org_id);
    free(alias);
}
