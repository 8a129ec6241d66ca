/* SPDX-License-Identifier: MIT
 * /customer/... (alias /end_user/...): LiteLLM_EndUserTable rows, the "end users" a request names
 * in its `user` field. A customer's limits live in a LiteLLM_BudgetTable row linked by budget_id,
 * created here when the request carries budget fields, as LiteLLM does. The data plane caches
 * end users in the key cache under auth_end_user_hash(user_id): every write here puts that hash
 * in res->invalidated, so this instance and (NOTIFY) the others read the row again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/misc.h"
#include "auth/keys.h"
#include "core/log.h"

#define NOT_FOUND "End User Id=%s does not exist in db"

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

/* The customer as LiteLLM returns it: row `row` of r, its budget row (litellm_budget_table) and
 * object_permission (object permissions are not stored by sluice: null). NULL with res set. */
static cJSON *customer_json(admin_t *a, const sdb_res_t *r, size_t row, admin_result_t *res)
{
    cJSON *o = sdb_row_json(end_user_table(), r, row);
    if (!admin_budget_attach(a, o, admin_res_text(r, row, "budget_id"), res)) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddNullToObject(o, "object_permission");
    return o;
}

static void set_customer_body(admin_t *a, admin_result_t *res, const sdb_res_t *r, bool drop_nulls)
{
    cJSON *o = customer_json(a, r, 0, res);
    if (drop_nulls)
        admin_json_drop_nulls(o);
    admin_answer(res, o);
}

/* The end user's cache entry goes stale once the write commits. */
static void invalidate_end_user(admin_result_t *res, const char *user_id)
{
    auth_hash_t h;
    char hex[2 * AUTH_HASH_LEN + 1];
    if (!user_id || auth_end_user_hash(user_id, &h) != 0)
        return;
    auth_hash_hex(&h, hex);
    if (store_strlist_push(&res->invalidated, hex) < 0)
        log_warn("customers: out of memory: end user '%s' stays cached until its TTL", user_id);
}

/* The end of a customer write: r, the row written (NULL: a database error), answered once the
 * transaction commits. */
static void commit_customer(admin_t *a, admin_result_t *res, bool *in_tx, const sdb_res_t *r)
{
    if (!r)
        admin_set_db_error(res, a);
    else if (admin_tx_commit(a, in_tx, res) == 0) {
        set_customer_body(a, res, r, false);
        invalidate_end_user(res, admin_res_text(r, 0, "user_id"));
    }
}

/* user_id as a non-empty string, else a 400. */
static const char *required_user_id(const cJSON *body, admin_result_t *res)
{
    return admin_body_string(body, "user_id", true, "user_id is required (a non-empty string)",
                             res);
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
    return admin_row_exists(a->db, store_schema_table("LiteLLM_ProxyModelTable"), "model_name",
                            model);
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

ADMIN_HANDLER(admin_customer_new)
{
    admin_row_t row, budget;
    admin_row_init(&row, end_user_table());
    admin_row_init(&budget, admin_budget_table());
    sdb_res_t *r = NULL;
    bool in_tx = false;
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
    if (!region_ok(body, res) || admin_row_take(&row, body, new_fields, true, res) < 0 ||
        admin_row_take(&budget, body, budget_fields, true, res) < 0)
        goto done;
    int rc = admin_budget_set_reset(&budget, false);
    if (rc == -1)
        admin_bad_request(res, "budget_duration", "Invalid budget_duration: %s",
                          admin_row_get(&budget, "budget_duration")->text);
    else if (rc < 0)
        admin_oom(res);
    if (rc < 0 || !default_model_ok(a, body, res) || admin_tx_begin(a, &in_tx, res) < 0 ||
        admin_row_absent(a, row.table, "user_id", user_id, res, 400, "bad_request", "user_id",
                         "Customer already exists, passed user_id=%s. Please pass a new user_id.",
                         user_id) < 0)
        goto done;
    /* budget fields make a new budget row (a budget_id beside them is ignored, as in LiteLLM);
     * else a budget_id links an existing one */
    const admin_cell_t *link = admin_row_get(&row, "budget_id");
    if (budget.n ? admin_budget_link_new(a, &budget, &row, res) < 0
                 : link && link->text && !admin_budget_link_ok(a, link->text, res))
        goto done;
    r = admin_row_insert(a->db, &row);
    commit_customer(a, res, &in_tx, r);
done:
    admin_tx_end(a, in_tx, res);
    sdb_res_free(r);
    admin_row_free(&row);
    admin_row_free(&budget);
    cJSON_Delete(body);
}

ADMIN_HANDLER(admin_customer_info)
{
    sdb_res_t *r = admin_rows_find_query(a, call, "end_user_id", end_user_table(), "user_id", res,
                                         "not_found", NOT_FOUND);
    if (r)
        set_customer_body(a, res, r, true);
    sdb_res_free(r);
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
    static const char *const max_budget_field[] = {"max_budget", NULL};
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
    if (admin_row_take(&row, given_only, update_fields, true, res) < 0 ||
        (given(cJSON_GetObjectItemCaseSensitive(body, "max_budget")) &&
         admin_row_take(&budget, body, max_budget_field, true, res) < 0))
        goto done;

    if (admin_tx_begin(a, &in_tx, res) < 0 ||
        !(old = admin_rows_find(a, row.table, "user_id", user_id, res, "not_found", "user_id",
                                NOT_FOUND, user_id)))
        goto done;
    const admin_cell_t *link = admin_row_get(&row, "budget_id");
    if (link && link->text && !admin_budget_link_ok(a, link->text, res))
        goto done;
    if (budget.n) {
        /* the customer's current budget row gets the new max_budget; none: a new row */
        const char *current = admin_res_text(old, 0, "budget_id");
        int exists = current ? admin_row_exists(a->db, budget.table, "budget_id", current) : 0;
        if (exists < 0) {
            admin_set_db_error(res, a);
            goto done;
        }
        if (exists ? admin_budget_write(a, &budget, current, res) < 0
                   : admin_budget_link_new(a, &budget, &row, res) < 0)
            goto done;
    }
    r = admin_row_update(a->db, &row, "user_id", user_id);
    commit_customer(a, res, &in_tx, r);
    goto done;
oom:
    admin_oom(res);
done:
    admin_tx_end(a, in_tx, res);
    sdb_res_free(old);
    sdb_res_free(r);
    admin_row_free(&row);
    admin_row_free(&budget);
    cJSON_Delete(given_only);
    cJSON_Delete(body);
}

/* {"user_ids": [...]}: a non-empty list of strings into ids. 0, or -1 with res set. */
static int user_ids(const cJSON *body, store_strlist_t *ids, admin_result_t *res)
{
    return admin_body_strings(body, "user_ids", ids, "user_ids must be a list of strings",
                              "user_id is required, passed user_id = []", res);
}

ADMIN_HANDLER(admin_customer_delete)
{
    store_strlist_t ids = {0}, missing = {0};
    buf_t msg = {0};
    bool in_tx = false;
    long deleted = 0;
    cJSON *body = admin_body_object(call, res);
    if (!body || user_ids(body, &ids, res) < 0 || admin_tx_begin(a, &in_tx, res) < 0)
        goto done;
    for (size_t i = 0; i < ids.n; i++) {
        int found = admin_row_exists(a->db, end_user_table(), "user_id", ids.v[i]);
        if (found < 0)
            goto db_error;
        if (!found && store_strlist_push(&missing, ids.v[i]) < 0)
            goto oom;
    }
    if (missing.n) {
        for (size_t i = 0; i < missing.n; i++)
            if ((i && buf_append_cstr(&msg, ", ") < 0) || buf_append_cstr(&msg, missing.v[i]) < 0)
                goto oom;
        admin_set_error(res, 404, "not_found", "user_ids", "End User Id(s)=%s do not exist in db",
                        buf_cstr(&msg));
        goto done;
    }
    for (size_t i = 0; i < ids.n; i++) {
        const char *params[] = {ids.v[i]};
        long n = sdb_exec(a->db, "DELETE FROM \"LiteLLM_EndUserTable\" WHERE \"user_id\" = $1",
                          params, 1);
        if (n < 0)
            goto db_error;
        deleted += n;
    }
    if (admin_tx_commit(a, &in_tx, res) < 0)
        goto done;
    for (size_t i = 0; i < ids.n; i++)
        invalidate_end_user(res, ids.v[i]);
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
    admin_oom(res);
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    admin_tx_end(a, in_tx, res);
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
    if (!body || user_ids(body, &ids, res) < 0)
        goto done;
    if (!(list = cJSON_CreateArray()))
        goto oom;
    if (admin_tx_begin(a, &in_tx, res) < 0)
        goto done;
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
        if (!r) {
            admin_set_db_error(res, a);
            goto done;
        }
        for (size_t j = 0; j < sdb_res_rows(r); j++)
            if (!admin_json_append(list, sdb_row_json(end_user_table(), r, j))) {
                sdb_res_free(r);
                goto oom;
            }
        sdb_res_free(r);
    }
    if (admin_tx_commit(a, &in_tx, res) < 0)
        goto done;
    for (size_t i = 0; i < ids.n; i++)
        invalidate_end_user(res, ids.v[i]);
    cJSON *doc = cJSON_CreateObject();
    if (!doc || !cJSON_AddItemToObject(doc, "blocked_users", list)) {
        cJSON_Delete(doc);
        goto oom;
    }
    list = NULL;
    admin_set_body(res, 200, doc);
    goto done;
oom:
    admin_oom(res);
done:
    admin_tx_end(a, in_tx, res);
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

/* The customers of r, each with its budget row out of budgets (found through ix) and
 * object_permission, as customer_json shows one. NULL on no memory. */
static cJSON *customers_json(const sdb_res_t *r, const sdb_res_t *budgets,
                             const admin_res_index_t *ix)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; list && i < sdb_res_rows(r); i++) {
        cJSON *o = sdb_row_json(end_user_table(), r, i);
        size_t first;
        cJSON *b = admin_res_index_find(ix, admin_res_text(r, i, "budget_id"), &first)
                       ? sdb_row_json(admin_budget_table(), budgets, ix->order[first])
                       : cJSON_CreateNull();
        if (!admin_json_put(o, "litellm_budget_table", b)) {
            cJSON_Delete(o);
            o = NULL;
        }
        cJSON_AddNullToObject(o, "object_permission");
        if (!admin_json_append(list, o)) {
            cJSON_Delete(list);
            list = NULL;
        }
    }
    return list;
}

/* Every customer with its budget: two queries joined in C (a SQL join would return two
 * budget_id columns under one name). */
ADMIN_HANDLER(admin_customer_list)
{
    admin_res_index_t ix = {0};
    sdb_res_t *budgets = NULL;
    buf_t sql = {0};
    sdb_res_t *r = admin_rows_select(a->db, end_user_table(), NULL, NULL, "\"user_id\"");
    if (!r) {
        admin_set_db_error(res, a);
        goto done;
    }
    buf_append_cstr(&sql, "SELECT ");
    sdb_select_all(a->db, admin_budget_table(), NULL, &sql);
    if (!(budgets = admin_query_sql(a, &sql,
                                    " FROM \"LiteLLM_BudgetTable\" WHERE \"budget_id\" IN (SELECT "
                                    "\"budget_id\" FROM \"LiteLLM_EndUserTable\")",
                                    NULL, 0, res)))
        goto done;
    if (admin_res_index(&ix, budgets, "budget_id") < 0)
        admin_oom(res);
    else
        admin_answer(res, customers_json(r, budgets, &ix));
done:
    admin_res_index_free(&ix);
    sdb_res_free(budgets);
    sdb_res_free(r);
    buf_free(&sql);
}
