/* SPDX-License-Identifier: MIT
 * /customer/... (alias /end_user/...): LiteLLM_EndUserTable rows, the "end users" a request names
 * in its `user` field. A customer's limits live in a LiteLLM_BudgetTable row linked by budget_id,
 * created here when the request carries budget fields, as LiteLLM does. End users are not keys:
 * nothing here makes a cached key stale, so res->invalidated stays empty. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/misc.h"
#include "auth/keys.h"

static const store_table_t *end_user_table(void)
{
    return store_schema_table("LiteLLM_EndUserTable");
}

/* NewCustomerRequest members that are EndUser columns. */
static const char *const new_fields[] = {
    "user_id",       "alias",     "blocked", "spend", "allowed_model_region",
    "default_model", "budget_id", NULL};
/* NewCustomerRequest's BudgetNewRequest members (budget_id links, it does not create). */
static const char *const budget_fields[] = {
    "max_budget",      "soft_budget",      "max_parallel_requests", "tpm_limit", "rpm_limit",
    "budget_duration", "model_max_budget", "budget_reset_at",       NULL};

/* The customer as LiteLLM returns it: the row, its budget row (litellm_budget_table) and
 * object_permission (object permissions are not stored by sluice: null). */
static cJSON *customer_json(admin_t *a, const sdb_res_t *r, size_t row, admin_result_t *res)
{
    cJSON *budget = admin_budget_json(a, admin_res_text(r, row, "budget_id"), res);
    if (!budget)
        return NULL;
    cJSON *o = sdb_row_json(end_user_table(), r, row);
    if (!o || !cJSON_AddItemToObject(o, "litellm_budget_table", budget)) {
        cJSON_Delete(budget);
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddNullToObject(o, "object_permission");
    return o;
}

static void set_customer_body(admin_t *a, admin_result_t *res, const sdb_res_t *r, bool drop_nulls)
{
    cJSON *o = customer_json(a, r, 0, res);
    if (!o) {
        if (!res->body)
            admin_set_error(res, 500, "internal_server_error", NULL, "out of memory");
        return;
    }
    if (drop_nulls)
        admin_json_drop_nulls(o);
    admin_set_body(res, 200, o);
}

/* user_id as a non-empty string, else a 400. */
static const char *required_user_id(const cJSON *body, admin_result_t *res)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "user_id");
    if (!cJSON_IsString(v) || !v->valuestring[0]) {
        admin_bad_request(res, "user_id", "user_id is required (a non-empty string)");
        return NULL;
    }
    return v->valuestring;
}

static bool region_ok(const cJSON *body, admin_result_t *res)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "allowed_model_region");
    if (!v || cJSON_IsNull(v) ||
        (cJSON_IsString(v) && (!strcmp(v->valuestring, "eu") || !strcmp(v->valuestring, "us"))))
        return true;
    admin_bad_request(res, "allowed_model_region", "allowed_model_region must be 'eu' or 'us'");
    return false;
}

/* Whether some deployment (config or LiteLLM_ProxyModelTable) is named `model`. -1 on a db error.
 */
static int model_known(admin_t *a, const char *model)
{
    for (size_t i = 0; a->cfg && i < a->cfg->num_deployments; i++)
        if (strcmp(a->cfg->deployments[i].model_name, model) == 0)
            return 1;
    const char *params[] = {model};
    sdb_res_t *r = sdb_query(
        a->db, "SELECT 1 FROM \"LiteLLM_ProxyModelTable\" WHERE \"model_name\" = $1", params, 1);
    if (!r)
        return -1;
    int found = sdb_res_rows(r) > 0;
    sdb_res_free(r);
    return found;
}

/* LiteLLM checks default_model against the router's model names (422 there, 400 here). */
static bool default_model_ok(admin_t *a, const cJSON *body, admin_result_t *res)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "default_model");
    if (!v || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsString(v)) {
        admin_bad_field(res, end_user_table(), "default_model");
        return false;
    }
    int known = model_known(a, v->valuestring);
    if (known < 0) {
        admin_set_db_error(res, a);
        return false;
    }
    if (known)
        return true;
    if (!a->cfg || a->cfg->num_deployments == 0) {
        admin_bad_request(res, "default_model", "No models configured on proxy");
        return false;
    }
    store_strlist_t names = {0};
    buf_t set = {0};
    for (size_t i = 0; i < a->cfg->num_deployments; i++) {
        bool dup = false;
        for (size_t j = 0; j < names.n && !dup; j++)
            dup = strcmp(names.v[j], a->cfg->deployments[i].model_name) == 0;
        if (!dup)
            store_strlist_push(&names, a->cfg->deployments[i].model_name);
    }
    admin_py_repr_list(&names, &set);
    if (set.n >= 2) { /* a Python set prints with braces */
        set.p[0] = '{';
        set.p[set.n - 1] = '}';
    }
    admin_bad_request(res, "default_model",
                      "Default Model not on proxy. Configure via `/model/new` or config.yaml. "
                      "Default_model=%s, proxy_model_names=%s",
                      v->valuestring, buf_cstr(&set) ? set.p : "{}");
    buf_free(&set);
    store_strlist_free(&names);
    return false;
}

/* 1 when the budget row exists, 0 when not, -1 on a database error. */
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

/* A budget_id given to link: must name a row (a foreign key on LiteLLM's database). */
static bool linked_budget_ok(admin_t *a, const char *budget_id, admin_result_t *res)
{
    int e = budget_exists(a, budget_id);
    if (e < 0)
        admin_set_db_error(res, a);
    else if (e == 0)
        admin_bad_request(res, "budget_id", "Budget with id=%s does not exist in db", budget_id);
    return e == 1;
}

/* Inserts the budget row of the cells in *b (completing ids and audit columns); its id into
 * id_out. false with res set on failure. */
static bool insert_budget(admin_t *a, admin_row_t *b, char id_out[128], admin_result_t *res)
{
    if (admin_budget_complete_new(b) < 0) {
        admin_set_error(res, 500, "internal_server_error", NULL, "cannot create a budget id");
        return false;
    }
    sdb_res_t *r = admin_row_insert(a->db, b);
    if (!r) {
        admin_set_db_error(res, a);
        return false;
    }
    snprintf(id_out, 128, "%s", admin_res_text(r, 0, "budget_id"));
    sdb_res_free(r);
    return true;
}

ADMIN_HANDLER(admin_customer_new)
{
    admin_row_t row, budget;
    admin_row_init(&row, end_user_table());
    admin_row_init(&budget, admin_budget_table());
    sdb_res_t *r = NULL;
    bool in_tx = false;
    const char *bad = NULL;
    cJSON *body = admin_body_object(call, res);
    if (!body)
        goto done;
    const char *user_id = required_user_id(body, res);
    if (!user_id)
        goto done;
    const cJSON *max_budget = cJSON_GetObjectItemCaseSensitive(body, "max_budget");
    const cJSON *budget_id = cJSON_GetObjectItemCaseSensitive(body, "budget_id");
    if (max_budget && !cJSON_IsNull(max_budget) && budget_id && !cJSON_IsNull(budget_id)) {
        admin_bad_request(res, "max_budget", "Set either 'max_budget' or 'budget_id', not both.");
        goto done;
    }
    if (!region_ok(body, res))
        goto done;
    const store_table_t *bad_table = row.table;
    int rc = admin_row_from_json(&row, body, new_fields, true, &bad);
    if (rc == 0) {
        bad_table = budget.table;
        rc = admin_row_from_json(&budget, body, budget_fields, true, &bad);
    }
    if (rc == -1) {
        admin_bad_field(res, bad_table, bad);
        goto done;
    }
    if (rc < 0)
        goto oom;
    const admin_cell_t *dur = admin_row_get(&budget, "budget_duration");
    if (dur && !admin_row_get(&budget, "budget_reset_at")) {
        char at[24];
        if (admin_budget_reset_text(dur->text, false, at) < 0) {
            admin_bad_request(res, "budget_duration", "Invalid budget_duration: %s", dur->text);
            goto done;
        }
        if (admin_row_set(&budget, "budget_reset_at", at) < 0)
            goto oom;
    }
    if (!default_model_ok(a, body, res))
        goto done;

    if (sdb_begin(a->db) < 0)
        goto db_error;
    in_tx = true;
    sdb_res_t *old = admin_rows_select(a->db, row.table, "user_id", user_id, NULL);
    if (!old)
        goto db_error;
    size_t found = sdb_res_rows(old);
    sdb_res_free(old);
    if (found) {
        admin_set_error(res, 400, "bad_request", "user_id",
                        "Customer already exists, passed user_id=%s. Please pass a new user_id.",
                        user_id);
        goto done;
    }
    /* budget fields make a new budget row (a budget_id beside them is ignored, as in LiteLLM);
     * else a budget_id links an existing one */
    const admin_cell_t *link = admin_row_get(&row, "budget_id");
    if (budget.n) {
        char id[128];
        if (!insert_budget(a, &budget, id, res) || admin_row_set(&row, "budget_id", id) < 0)
            goto done;
    } else if (link && link->text && !linked_budget_ok(a, link->text, res)) {
        goto done;
    }
    if (!(r = admin_row_insert(a->db, &row)) || sdb_commit(a->db) < 0)
        goto db_error;
    in_tx = false;
    set_customer_body(a, res, r, false);
    goto done;
oom:
    admin_set_error(res, 500, "internal_server_error", NULL, "out of memory");
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    if (in_tx)
        sdb_rollback(a->db);
    sdb_res_free(r);
    admin_row_free(&row);
    admin_row_free(&budget);
    cJSON_Delete(body);
}

ADMIN_HANDLER(admin_customer_info)
{
    char *id = admin_query_get(call->query, call->query_len, "end_user_id");
    if (!id) {
        admin_bad_request(res, "end_user_id", "end_user_id is required");
        return;
    }
    sdb_res_t *r = admin_rows_select(a->db, end_user_table(), "user_id", id, NULL);
    if (!r)
        admin_set_db_error(res, a);
    else if (sdb_res_rows(r) == 0)
        admin_set_error(res, 404, "not_found", "end_user_id", "End User Id=%s does not exist in db",
                        id);
    else
        set_customer_body(a, res, r, true);
    sdb_res_free(r);
    free(id);
}

/* UpdateCustomerRequest's members, and LiteLLM's filter on them: None, [], {} and 0 are "not
 * given" (so 0 cannot be set); booleans count even when false (LiteLLM PR #34696). */
static const char *const update_fields[] = {
    "alias", "blocked", "budget_id", "allowed_model_region", "default_model", NULL};

static bool given(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return false;
    if (cJSON_IsBool(v))
        return true;
    if (cJSON_IsNumber(v))
        return v->valuedouble != 0;
    if (cJSON_IsArray(v) || cJSON_IsObject(v))
        return v->child != NULL;
    return true;
}

ADMIN_HANDLER(admin_customer_update)
{
    admin_row_t row, budget;
    admin_row_init(&row, end_user_table());
    admin_row_init(&budget, admin_budget_table());
    sdb_res_t *old = NULL, *r = NULL;
    bool in_tx = false;
    cJSON *body = admin_body_object(call, res), *given_only = NULL;
    if (!body)
        goto done;
    const char *user_id = required_user_id(body, res);
    if (!user_id || !region_ok(body, res))
        goto done;
    if (!(given_only = cJSON_CreateObject()))
        goto oom;
    for (size_t i = 0; update_fields[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, update_fields[i]);
        if (given(v) &&
            !cJSON_AddItemToObject(given_only, update_fields[i], cJSON_Duplicate(v, true)))
            goto oom;
    }
    const char *bad = NULL;
    int rc = admin_row_from_json(&row, given_only, update_fields, true, &bad);
    const cJSON *max_budget = cJSON_GetObjectItemCaseSensitive(body, "max_budget");
    if (rc == 0 && given(max_budget)) {
        static const char *const mb[] = {"max_budget", NULL};
        if ((rc = admin_row_from_json(&budget, body, mb, true, &bad)) == -1) {
            admin_bad_field(res, budget.table, bad);
            goto done;
        }
    }
    if (rc == -1) {
        admin_bad_field(res, row.table, bad);
        goto done;
    }
    if (rc < 0)
        goto oom;

    if (sdb_begin(a->db) < 0)
        goto db_error;
    in_tx = true;
    if (!(old = admin_rows_select(a->db, row.table, "user_id", user_id, NULL)))
        goto db_error;
    if (sdb_res_rows(old) == 0) {
        admin_set_error(res, 404, "not_found", "user_id", "End User Id=%s does not exist in db",
                        user_id);
        goto done;
    }
    const admin_cell_t *link = admin_row_get(&row, "budget_id");
    if (link && link->text && !linked_budget_ok(a, link->text, res))
        goto done;
    if (budget.n) {
        /* the customer's current budget row gets the new max_budget; none: a new row */
        const char *current = admin_res_text(old, 0, "budget_id");
        int exists = current ? budget_exists(a, current) : 0;
        if (exists < 0)
            goto db_error;
        if (exists) {
            char now[24];
            admin_now_text(now);
            if (admin_row_set(&budget, "updated_at", now) < 0 ||
                admin_row_set(&budget, "updated_by", ADMIN_PROXY_ADMIN_NAME) < 0)
                goto oom;
            sdb_res_t *u = admin_row_update(a->db, &budget, "budget_id", current);
            if (!u)
                goto db_error;
            sdb_res_free(u);
        } else {
            char id[128];
            if (!insert_budget(a, &budget, id, res))
                goto done;
            if (admin_row_set(&row, "budget_id", id) < 0)
                goto oom;
        }
    }
    if (!(r = admin_row_update(a->db, &row, "user_id", user_id)) || sdb_commit(a->db) < 0)
        goto db_error;
    in_tx = false;
    set_customer_body(a, res, r, false);
    goto done;
oom:
    admin_set_error(res, 500, "internal_server_error", NULL, "out of memory");
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    if (in_tx)
        sdb_rollback(a->db);
    sdb_res_free(old);
    sdb_res_free(r);
    admin_row_free(&row);
    admin_row_free(&budget);
    cJSON_Delete(given_only);
    cJSON_Delete(body);
}

/* {"user_ids": [...]}: a non-empty list of strings into ids, else a 400. */
static bool user_ids(const cJSON *body, store_strlist_t *ids, admin_result_t *res)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "user_ids");
    int rc = admin_json_strings(v, ids);
    if (rc == -2) {
        admin_set_error(res, 500, "internal_server_error", NULL, "out of memory");
        return false;
    }
    if (rc < 0) {
        admin_bad_request(res, "user_ids", "user_ids must be a list of strings");
        return false;
    }
    if (ids->n == 0) {
        admin_bad_request(res, "user_ids", "user_id is required, passed user_id = []");
        return false;
    }
    return true;
}

ADMIN_HANDLER(admin_customer_delete)
{
    store_strlist_t ids = {0}, missing = {0};
    buf_t msg = {0};
    bool in_tx = false;
    cJSON *body = admin_body_object(call, res);
    if (!body || !user_ids(body, &ids, res))
        goto done;
    if (sdb_begin(a->db) < 0)
        goto db_error;
    in_tx = true;
    for (size_t i = 0; i < ids.n; i++) {
        sdb_res_t *r = admin_rows_select(a->db, end_user_table(), "user_id", ids.v[i], NULL);
        if (!r)
            goto db_error;
        if (sdb_res_rows(r) == 0 && store_strlist_push(&missing, ids.v[i]) < 0) {
            sdb_res_free(r);
            goto oom;
        }
        sdb_res_free(r);
    }
    if (missing.n) {
        for (size_t i = 0; i < missing.n; i++)
            if ((i && buf_append_cstr(&msg, ", ") < 0) || buf_append_cstr(&msg, missing.v[i]) < 0)
                goto oom;
        admin_set_error(res, 404, "not_found", "user_ids", "End User Id(s)=%s do not exist in db",
                        buf_cstr(&msg));
        goto done;
    }
    long deleted = 0;
    for (size_t i = 0; i < ids.n; i++) {
        const char *params[] = {ids.v[i]};
        long n = sdb_exec(a->db, "DELETE FROM \"LiteLLM_EndUserTable\" WHERE \"user_id\" = $1",
                          params, 1);
        if (n < 0)
            goto db_error;
        deleted += n;
    }
    if (sdb_commit(a->db) < 0)
        goto db_error;
    in_tx = false;
    buf_free(&msg);
    if (buf_append_cstr(&msg, "Successfully deleted customers with ids: ") < 0 ||
        admin_py_repr_list(&ids, &msg) < 0 || !buf_cstr(&msg))
        goto oom;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "deleted_customers", (double)deleted);
    cJSON_AddStringToObject(doc, "message", msg.p);
    admin_set_body(res, 200, doc);
    goto done;
oom:
    admin_set_error(res, 500, "internal_server_error", NULL, "out of memory");
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    if (in_tx)
        sdb_rollback(a->db);
    store_strlist_free(&ids);
    store_strlist_free(&missing);
    buf_free(&msg);
    cJSON_Delete(body);
}

/* block: upsert blocked = true (LiteLLM creates unknown customers blocked); unblock: blocked =
 * false on the rows that exist (LiteLLM's /customer/unblock only edits an in-memory list: see
 * docs/admin.md). Both answer {"blocked_users": [rows]}. */
static void set_blocked(admin_t *a, const admin_call_t *call, admin_result_t *res, bool blocked)
{
    store_strlist_t ids = {0};
    bool in_tx = false;
    cJSON *list = NULL;
    cJSON *body = admin_body_object(call, res);
    if (!body || !user_ids(body, &ids, res))
        goto done;
    if (!(list = cJSON_CreateArray()))
        goto oom;
    if (sdb_begin(a->db) < 0)
        goto db_error;
    in_tx = true;
    for (size_t i = 0; i < ids.n; i++) {
        admin_row_t row;
        admin_row_init(&row, end_user_table());
        sdb_res_t *r = NULL;
        if (blocked) {
            if (admin_row_set(&row, "user_id", ids.v[i]) == 0 &&
                admin_row_set(&row, "blocked", "1") == 0)
                r = admin_row_upsert(a->db, &row, "user_id");
        } else if (admin_row_set(&row, "blocked", "0") == 0) {
            r = admin_row_update(a->db, &row, "user_id", ids.v[i]);
        }
        admin_row_free(&row);
        if (!r)
            goto db_error;
        for (size_t j = 0; j < sdb_res_rows(r); j++) {
            cJSON *o = sdb_row_json(end_user_table(), r, j);
            if (!o || !cJSON_AddItemToArray(list, o)) {
                cJSON_Delete(o);
                sdb_res_free(r);
                goto oom;
            }
        }
        sdb_res_free(r);
    }
    if (sdb_commit(a->db) < 0)
        goto db_error;
    in_tx = false;
    cJSON *doc = cJSON_CreateObject();
    if (!doc || !cJSON_AddItemToObject(doc, "blocked_users", list)) {
        cJSON_Delete(doc);
        goto oom;
    }
    list = NULL;
    admin_set_body(res, 200, doc);
    goto done;
oom:
    admin_set_error(res, 500, "internal_server_error", NULL, "out of memory");
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    if (in_tx)
        sdb_rollback(a->db);
    cJSON_Delete(list);
    store_strlist_free(&ids);
    cJSON_Delete(body);
}

ADMIN_HANDLER(admin_customer_block)
{
    set_blocked(a, call, res, true);
}

ADMIN_HANDLER(admin_customer_unblock)
{
    set_blocked(a, call, res, false);
}

/* Every customer with its budget: two queries joined in C (a SQL join would return two
 * budget_id columns under one name). */
ADMIN_HANDLER(admin_customer_list)
{
    admin_res_index_t ix = {0};
    sdb_res_t *budgets = NULL;
    cJSON *list = NULL;
    buf_t sql = {0};
    sdb_res_t *r = admin_rows_select(a->db, end_user_table(), NULL, NULL, "\"user_id\"");
    if (!r)
        goto db_error;
    if (buf_append_cstr(&sql, "SELECT ") < 0)
        goto oom;
    sdb_select_all(a->db, admin_budget_table(), NULL, &sql);
    if (buf_append_cstr(&sql, " FROM \"LiteLLM_BudgetTable\" WHERE \"budget_id\" IN (SELECT "
                              "\"budget_id\" FROM \"LiteLLM_EndUserTable\")") < 0 ||
        !buf_cstr(&sql))
        goto oom;
    if (!(budgets = sdb_query(a->db, sql.p, NULL, 0)))
        goto db_error;
    if (admin_res_index(&ix, budgets, "budget_id") < 0 || !(list = cJSON_CreateArray()))
        goto oom;
    for (size_t i = 0; i < sdb_res_rows(r); i++) {
        cJSON *o = sdb_row_json(end_user_table(), r, i);
        size_t first;
        cJSON *b = admin_res_index_find(&ix, admin_res_text(r, i, "budget_id"), &first)
                       ? sdb_row_json(admin_budget_table(), budgets, ix.order[first])
                       : cJSON_CreateNull();
        if (!o || !b || !cJSON_AddItemToObject(o, "litellm_budget_table", b)) {
            cJSON_Delete(b);
            cJSON_Delete(o);
            goto oom;
        }
        cJSON_AddNullToObject(o, "object_permission");
        if (!cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            goto oom;
        }
    }
    admin_set_body(res, 200, list);
    list = NULL;
    goto done;
oom:
    admin_set_error(res, 500, "internal_server_error", NULL, "out of memory");
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    cJSON_Delete(list);
    admin_res_index_free(&ix);
    sdb_res_free(budgets);
    sdb_res_free(r);
    buf_free(&sql);
}
