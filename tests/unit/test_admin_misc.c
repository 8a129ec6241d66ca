/* SPDX-License-Identifier: MIT
 * admin: the routes of admin_misc_routes (customers, organizations, budgets, spend reports,
 * models) on a temporary SQLite file (suite admin_misc) and on the PostgreSQL of pg_harness
 * (admin_misc_pg), the same bodies on both: each route's happy path and its errors, the budget
 * rows LiteLLM links, the key hashes a change makes stale, spend sums over rows inserted by SQL
 * (and, on SQLite, by the spend pipeline's store_sqlite_write_batch), and the at-rest cipher of
 * litellm_params checked against ciphertexts made by LiteLLM's own code. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "admin/admin.h"
#include "admin/misc.h"
#include "admin/rows.h"
#include "admin_test_util.h"
#include "auth/keys.h"

static cfg_t *cfg;

static const char config_yaml[] =
    "model_list:\n"
    "  - model_name: gpt-4o\n"
    "    litellm_params:\n"
    "      model: openai/gpt-4o\n"
    "      api_key: sk-provider-secret-123456\n"
    "      api_base: https://api.openai.com/v1\n"
    "      rpm: 100\n"
    "      extra_headers: {Authorization: \"Bearer abcdefghijkl\", X-Tenant: blue}\n"
    "    model_info:\n"
    "      id: cfg-gpt4o\n"
    "general_settings:\n"
    "  master_key: sk-master-key-1234\n";

static void load_config(void)
{
    unsetenv("LITELLM_SALT_KEY"); /* the master key encrypts */
    cfg_diag_t diag = {0};
    cfg = cfg_load_string("misc.yaml", config_yaml, sizeof config_yaml - 1, &diag);
    cr_assert_not_null(cfg, "%s", diag.num_errors ? diag.errors[0] : "");
    cfg_diag_free(&diag);
    adm.cfg = cfg;
}

static void setup_sqlite(void)
{
    admin_test_open_sqlite("/tmp/sluice-misc");
    load_config();
}

static void teardown(void)
{
    cfg_free(cfg);
    cfg = NULL;
}

static void teardown_sqlite(void)
{
    admin_test_close_sqlite();
    teardown();
}

static void setup_pg(void)
{
    admin_test_open_pg();
    load_config();
}

static void teardown_pg(void)
{
    admin_test_close_pg();
    teardown();
}

TestSuite(admin_misc, .init = setup_sqlite, .fini = teardown_sqlite);
TestSuite(admin_misc_pg, .init = setup_pg, .fini = teardown_pg, .timeout = 30);

/* The same body on SQLite (admin_misc) and PostgreSQL (admin_misc_pg). */
#define BOTH(name) ADMIN_TEST_BOTH(admin_misc, name)

/* Runs (method, path) through admin_route_find with `in` as the body, or the query string of a
 * GET; checks the status; returns the parsed body (caller frees). *inv gets the invalidated
 * hashes when given, else they must be none. */
static cJSON *call(const char *method, const char *path, const char *in, int status,
                   store_strlist_t *inv)
{
    /* a customer write makes its end user's cache entry stale (docs/keys.md, "End users") */
    bool customer = strncmp(path, "/customer/", 10) == 0;
    return admin_test_call(method, path, in, status, inv,
                           customer ? ADMIN_TEST_STALE_NONE_ON_ERROR : ADMIN_TEST_STALE_NONE);
}

/* call() for a request that must fail with LiteLLM's error of `type` whose message holds needle. */
static void expect_call_error(const char *method, const char *path, const char *in, int status,
                              const char *type, const char *needle)
{
    admin_test_call_error(method, path, in, status, ADMIN_TEST_STALE_NONE, type, needle);
}

/* The first cell of a query on the handle, as text ("(null)" for NULL, "(none)" without a
 * row); static buffer. */
static const char *cell(const char *sql, const char *param)
{
    return admin_test_cell(sql, param, NULL, false);
}

/* Inserts a row into table from (column, storage text) pairs, through rows.h. */
static void insert(const char *table, const char *const *pairs)
{
    admin_row_t row;
    admin_row_init(&row, store_schema_table(table));
    for (size_t i = 0; pairs[i]; i += 2)
        cr_assert_eq(admin_row_set(&row, pairs[i], pairs[i + 1]), 0, "%s.%s", table, pairs[i]);
    sdb_res_t *r = admin_row_insert(adm.db, &row);
    cr_assert_not_null(r, "%s: %s", table, sdb_errmsg(adm.db));
    sdb_res_free(r);
    admin_row_free(&row);
}

static void add_key(const char *token, const char *org, const char *team, const char *budget)
{
    insert("LiteLLM_VerificationToken",
           (const char *[]){"token", token, "organization_id", org, "team_id", team, "budget_id",
                            budget, NULL});
}

/* ---- routes ---------------------------------------------------------------------------------- */

Test(admin_misc, route_table)
{
    static const char *const routes[][2] = {
        {"POST", "/customer/new"},        {"POST", "/customer/update"},
        {"POST", "/customer/delete"},     {"GET", "/customer/info"},
        {"GET", "/customer/list"},        {"POST", "/customer/block"},
        {"POST", "/customer/unblock"},    {"POST", "/end_user/new"},
        {"POST", "/organization/new"},    {"PATCH", "/organization/update"},
        {"POST", "/organization/update"}, {"DELETE", "/organization/delete"},
        {"POST", "/organization/delete"}, {"GET", "/organization/info"},
        {"GET", "/organization/list"},    {"POST", "/budget/new"},
        {"POST", "/budget/update"},       {"POST", "/budget/delete"},
        {"POST", "/budget/info"},         {"GET", "/budget/list"},
        {"GET", "/spend/logs"},           {"GET", "/global/spend"},
        {"GET", "/global/spend/report"},  {"POST", "/model/new"},
        {"POST", "/model/delete"},        {"GET", "/model/info"},
        {"GET", "/v1/model/info"},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        bool known;
        const char *m = routes[i][0], *p = routes[i][1];
        cr_expect_not_null(admin_route_find(m, strlen(m), p, strlen(p), &known), "%s %s", m, p);
    }
    bool known;
    cr_expect_null(admin_route_find("GET", 3, "/customer/new", 13, &known));
    cr_expect(known, "wrong method on a known path: 405, not 404");
    size_t n = 0;
    while (admin_misc_routes[n].path)
        n++;
    cr_expect_gt(n, 30);
}

/* ---- customers ------------------------------------------------------------------------------- */

BOTH(customer_lifecycle)
{
    cJSON *r = call("POST", "/customer/new",
                    "{\"user_id\":\"cust-1\",\"alias\":\"Acme\",\"max_budget\":10.5,"
                    "\"budget_duration\":\"30d\",\"allowed_model_region\":\"eu\","
                    "\"default_model\":\"gpt-4o\"}",
                    200, NULL);
    cr_expect_str_eq(str_of(r, "user_id"), "cust-1");
    cr_expect_str_eq(str_of(r, "alias"), "Acme");
    cr_expect(cJSON_IsFalse(member(r, "blocked")));
    cr_expect_eq(num_of(r, "spend"), 0);
    cr_expect_str_eq(str_of(r, "allowed_model_region"), "eu");
    cr_expect_str_eq(str_of(r, "default_model"), "gpt-4o");
    char budget_id[64];
    snprintf(budget_id, sizeof budget_id, "%s", str_of(r, "budget_id"));
    const cJSON *b = member(r, "litellm_budget_table");
    cr_expect_str_eq(str_of(b, "budget_id"), budget_id);
    cr_expect_eq(num_of(b, "max_budget"), 10.5);
    cr_expect_str_eq(str_of(b, "budget_duration"), "30d");
    cr_expect(cJSON_IsString(member(b, "budget_reset_at")));
    cr_expect_str_eq(str_of(b, "created_by"), "default_user_id");
    cr_expect(is_null(r, "object_permission"));
    cJSON_Delete(r);

    /* info: exclude_none */
    r = call("GET", "/customer/info", "end_user_id=cust-1", 200, NULL);
    cr_expect_str_eq(str_of(r, "alias"), "Acme");
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(r, "object_permission"));
    cr_expect_null(
        cJSON_GetObjectItemCaseSensitive(member(r, "litellm_budget_table"), "soft_budget"));
    cJSON_Delete(r);

    /* update: fields, blocked, max_budget on the customer's existing budget row */
    r = call("POST", "/customer/update",
             "{\"user_id\":\"cust-1\",\"alias\":\"Acme Inc\",\"max_budget\":20,\"blocked\":true}",
             200, NULL);
    cr_expect_str_eq(str_of(r, "alias"), "Acme Inc");
    cr_expect(cJSON_IsTrue(member(r, "blocked")));
    cr_expect_str_eq(str_of(r, "budget_id"), budget_id);
    cr_expect_eq(num_of(member(r, "litellm_budget_table"), "max_budget"), 20);
    cJSON_Delete(r);
    /* false counts (LiteLLM #34696); 0 and null do not */
    r = call("POST", "/customer/update",
             "{\"user_id\":\"cust-1\",\"blocked\":false,\"max_budget\":0,\"alias\":null}", 200,
             NULL);
    cr_expect(cJSON_IsFalse(member(r, "blocked")));
    cr_expect_str_eq(str_of(r, "alias"), "Acme Inc");
    cr_expect_eq(num_of(member(r, "litellm_budget_table"), "max_budget"), 20);
    cJSON_Delete(r);
    cr_expect_str_eq(cell("SELECT COUNT(*) FROM \"LiteLLM_BudgetTable\"", NULL), "1");

    /* a customer without budget fields has no budget row */
    r = call("POST", "/customer/new", "{\"user_id\":\"cust-2\"}", 200, NULL);
    cr_expect(is_null(r, "budget_id"));
    cr_expect(is_null(r, "litellm_budget_table"));
    cJSON_Delete(r);
    /* update with max_budget creates and links one */
    r = call("POST", "/customer/update", "{\"user_id\":\"cust-2\",\"max_budget\":3}", 200, NULL);
    cr_expect(cJSON_IsString(member(r, "budget_id")));
    cr_expect_eq(num_of(member(r, "litellm_budget_table"), "max_budget"), 3);
    cJSON_Delete(r);

    r = call("GET", "/customer/list", "", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(r), 2);
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(r, 0), "user_id"), "cust-1");
    cr_expect_eq(num_of(member(cJSON_GetArrayItem(r, 0), "litellm_budget_table"), "max_budget"),
                 20);
    cr_expect_eq(num_of(member(cJSON_GetArrayItem(r, 1), "litellm_budget_table"), "max_budget"), 3);
    cJSON_Delete(r);

    /* block upserts (cust-3 is created blocked); unblock only touches rows that exist */
    store_strlist_t inv = {0};
    r = call("POST", "/customer/block", "{\"user_ids\":[\"cust-2\",\"cust-3\"]}", 200, &inv);
    cr_assert_eq(inv.n, 2, "both end users' cache entries");
    for (size_t i = 0; i < 2; i++) {
        auth_hash_t h;
        char hex[2 * AUTH_HASH_LEN + 1];
        auth_end_user_hash(i ? "cust-3" : "cust-2", &h);
        auth_hash_hex(&h, hex);
        cr_expect_str_eq(inv.v[i], hex);
    }
    store_strlist_free(&inv);
    const cJSON *users = member(r, "blocked_users");
    cr_assert_eq(cJSON_GetArraySize(users), 2);
    cr_expect(cJSON_IsTrue(member(cJSON_GetArrayItem(users, 0), "blocked")));
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(users, 1), "user_id"), "cust-3");
    cr_expect(cJSON_IsTrue(member(cJSON_GetArrayItem(users, 1), "blocked")));
    cJSON_Delete(r);
    cr_expect_str_eq(
        cell("SELECT \"blocked\" FROM \"LiteLLM_EndUserTable\" WHERE \"user_id\" = $1", "cust-3"),
        "1");
    r = call("POST", "/customer/unblock", "{\"user_ids\":[\"cust-3\",\"nobody\"]}", 200, NULL);
    users = member(r, "blocked_users");
    cr_assert_eq(cJSON_GetArraySize(users), 1);
    cr_expect(cJSON_IsFalse(member(cJSON_GetArrayItem(users, 0), "blocked")));
    cJSON_Delete(r);
    cr_expect_str_eq(
        cell("SELECT COUNT(*) FROM \"LiteLLM_EndUserTable\" WHERE \"user_id\" = $1", "nobody"),
        "0");

    r = call("POST", "/customer/delete", "{\"user_ids\":[\"cust-1\",\"cust-2\"]}", 200, NULL);
    cr_expect_eq(num_of(r, "deleted_customers"), 2);
    cr_expect_str_eq(str_of(r, "message"),
                     "Successfully deleted customers with ids: ['cust-1', 'cust-2']");
    cJSON_Delete(r);
    cJSON_Delete(call("GET", "/customer/info", "end_user_id=cust-1", 404, NULL));
    /* the budget rows stay, as in LiteLLM */
    cr_expect_str_eq(cell("SELECT COUNT(*) FROM \"LiteLLM_BudgetTable\"", NULL), "2");
}

BOTH(customer_errors)
{
    cJSON_Delete(call("POST", "/customer/new", "{\"user_id\":\"cust-1\"}", 200, NULL));
    cJSON *r = call("POST", "/customer/new", "{\"user_id\":\"cust-1\"}", 400, NULL);
    expect_error(r, "bad_request",
                 "Customer already exists, passed user_id=cust-1. Please pass a new user_id.");
    cJSON_Delete(r);
    r = call("POST", "/customer/new", "{\"user_id\":\"x\",\"max_budget\":1,\"budget_id\":\"b\"}",
             400, NULL);
    expect_error(r, "bad_request_error", "Set either 'max_budget' or 'budget_id', not both.");
    cJSON_Delete(r);
    cJSON_Delete(call("POST", "/customer/new",
                      "{\"user_id\":\"x\",\"allowed_model_region\":\"asia\"}", 400, NULL));
    expect_call_error("POST", "/customer/new", "{\"user_id\":\"x\",\"default_model\":\"nope\"}",
                      400, "bad_request_error",
                      "Default Model not on proxy. Configure via `/model/new` or config.yaml. "
                      "Default_model=nope, proxy_model_names={'gpt-4o'}");
    expect_call_error("POST", "/customer/new", "{\"user_id\":\"x\",\"max_budget\":\"ten\"}", 400,
                      "bad_request_error", "Invalid value for 'max_budget': expected a number");
    cJSON_Delete(
        call("POST", "/customer/new", "{\"user_id\":\"x\",\"budget_duration\":\"3x\"}", 400, NULL));
    cJSON_Delete(call("POST", "/customer/new", "{\"alias\":\"no id\"}", 400, NULL));
    cJSON_Delete(call("POST", "/customer/new", "not json", 400, NULL));
    cJSON_Delete(
        call("POST", "/customer/new", "{\"user_id\":\"x\",\"budget_id\":\"nope\"}", 400, NULL));
    cr_expect_str_eq(cell("SELECT COUNT(*) FROM \"LiteLLM_EndUserTable\"", NULL), "1");
    cr_expect_str_eq(cell("SELECT COUNT(*) FROM \"LiteLLM_BudgetTable\"", NULL), "0");

    cJSON_Delete(call("GET", "/customer/info", "", 400, NULL));
    expect_call_error("GET", "/customer/info", "end_user_id=zzz", 404, "not_found",
                      "End User Id=zzz does not exist in db");
    expect_call_error("POST", "/customer/update", "{\"user_id\":\"zzz\",\"alias\":\"a\"}", 404,
                      "not_found", "End User Id=zzz does not exist in db");
    cJSON_Delete(call("POST", "/customer/update", "{\"user_id\":\"cust-1\",\"budget_id\":\"no\"}",
                      400, NULL));
    expect_call_error("POST", "/customer/delete", "{\"user_ids\":[\"cust-1\",\"a\",\"b\"]}", 404,
                      "not_found", "End User Id(s)=a, b do not exist in db");
    cr_expect_str_eq(cell("SELECT COUNT(*) FROM \"LiteLLM_EndUserTable\"", NULL), "1");
    cJSON_Delete(call("POST", "/customer/delete", "{\"user_ids\":[]}", 400, NULL));
    cJSON_Delete(call("POST", "/customer/block", "{\"user_ids\":\"cust-1\"}", 400, NULL));
}

/* ---- organizations --------------------------------------------------------------------------- */

BOTH(organization_lifecycle)
{
    cJSON *r = call("POST", "/organization/new",
                    "{\"organization_alias\":\"Org One\",\"models\":[\"gpt-4o\"],"
                    "\"max_budget\":100,\"budget_duration\":\"1d\",\"metadata\":{\"a\":1},"
                    "\"model_rpm_limit\":{\"gpt-4o\":5}}",
                    200, NULL);
    char org[64], budget[64];
    snprintf(org, sizeof org, "%s", str_of(r, "organization_id"));
    snprintf(budget, sizeof budget, "%s", str_of(r, "budget_id"));
    cr_expect_eq(strlen(org), 36);
    cr_expect_str_eq(str_of(r, "organization_alias"), "Org One");
    cr_expect_str_eq(cJSON_GetArrayItem(member(r, "models"), 0)->valuestring, "gpt-4o");
    cr_expect_eq(num_of(member(r, "metadata"), "a"), 1);
    cr_expect_eq(num_of(member(member(r, "metadata"), "model_rpm_limit"), "gpt-4o"), 5);
    cr_expect_eq(num_of(r, "spend"), 0);
    cr_expect_str_eq(str_of(r, "created_by"), "default_user_id");
    const cJSON *b = member(r, "litellm_budget_table");
    cr_expect_eq(num_of(b, "max_budget"), 100);
    cr_expect(cJSON_IsString(member(b, "budget_reset_at")));
    cJSON_Delete(r);

    insert("LiteLLM_TeamTable", (const char *[]){"team_id", "team-1", "team_alias", "Team One",
                                                 "organization_id", org, NULL});
    add_key("k-org", org, NULL, NULL);
    add_key("k-team", NULL, "team-1", NULL);
    add_key("k-budget", NULL, NULL, budget);
    add_key("k-other", NULL, NULL, NULL);

    char q[128];
    snprintf(q, sizeof q, "organization_id=%s", org);
    r = call("GET", "/organization/info", q, 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(member(r, "teams")), 1);
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(member(r, "teams"), 0), "team_id"), "team-1");
    cr_expect_eq(cJSON_GetArraySize(member(r, "members")), 0);
    cr_expect_eq(num_of(member(r, "litellm_budget_table"), "max_budget"), 100);
    cJSON_Delete(r);

    cJSON_Delete(
        call("POST", "/organization/new", "{\"organization_alias\":\"Second\"}", 200, NULL));
    r = call("GET", "/organization/list", "org_alias=one", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(r), 1);
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(r, 0), "organization_id"), org);
    cJSON_Delete(r);
    r = call("GET", "/organization/list", "", 200, NULL);
    cr_expect_eq(cJSON_GetArraySize(r), 2);
    cJSON_Delete(r);
    r = call("GET", "/organization/list", "org_alias=zzz", 200, NULL);
    cr_expect_eq(cJSON_GetArraySize(r), 0);
    cJSON_Delete(r);

    /* update: alias, metadata merged, budget fields on the organization's budget row */
    char body[512];
    snprintf(body, sizeof body,
             "{\"organization_id\":\"%s\",\"organization_alias\":\"Org 1\",\"max_budget\":200,"
             "\"metadata\":{\"b\":2}}",
             org);
    store_strlist_t inv;
    r = call("PATCH", "/organization/update", body, 200, &inv);
    cr_expect_str_eq(str_of(r, "organization_alias"), "Org 1");
    cr_expect_eq(num_of(member(r, "metadata"), "a"), 1);
    cr_expect_eq(num_of(member(r, "metadata"), "b"), 2);
    cr_expect_not_null(cJSON_GetObjectItemCaseSensitive(member(r, "metadata"), "model_rpm_limit"));
    cr_expect_eq(num_of(member(r, "litellm_budget_table"), "max_budget"), 200);
    cr_expect_str_eq(str_of(r, "budget_id"), budget);
    cr_expect(inv_has(&inv, "k-org") && inv_has(&inv, "k-team") && inv_has(&inv, "k-budget"));
    cr_expect(!inv_has(&inv, "k-other"));
    store_strlist_free(&inv);
    cJSON_Delete(r);
    /* the Admin UI's nested form */
    snprintf(body, sizeof body,
             "{\"organization_id\":\"%s\",\"litellm_budget_table\":{\"max_budget\":300}}", org);
    r = call("POST", "/organization/update", body, 200, &inv);
    cr_expect_eq(num_of(member(r, "litellm_budget_table"), "max_budget"), 300);
    store_strlist_free(&inv);
    cJSON_Delete(r);

    /* delete: teams and the organization's keys go, their hashes are stale */
    snprintf(body, sizeof body, "{\"organization_ids\":[\"%s\"]}", org);
    r = call("DELETE", "/organization/delete", body, 200, &inv);
    cr_assert_eq(cJSON_GetArraySize(r), 1);
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(r, 0), "organization_alias"), "Org 1");
    cr_expect_eq(cJSON_GetArraySize(member(cJSON_GetArrayItem(r, 0), "teams")), 1);
    cr_expect(inv_has(&inv, "k-org") && inv_has(&inv, "k-team"));
    cr_expect(!inv_has(&inv, "k-other"));
    store_strlist_free(&inv);
    cJSON_Delete(r);
    cr_expect_str_eq(cell("SELECT COUNT(*) FROM \"LiteLLM_TeamTable\"", NULL), "0");
    cr_expect_str_eq(
        cell("SELECT COUNT(*) FROM \"LiteLLM_VerificationToken\" WHERE \"token\" = $1", "k-org"),
        "0");
    cr_expect_str_eq(cell("SELECT COUNT(*) FROM \"LiteLLM_VerificationToken\"", NULL), "3");
    cJSON_Delete(call("GET", "/organization/info", q, 404, NULL));
}

BOTH(organization_errors)
{
    cJSON *r = call("POST", "/organization/new", "{\"models\":[]}", 400, NULL);
    expect_error(r, "bad_request_error", "organization_alias is required");
    cJSON_Delete(r);
    r = call("POST", "/organization/new", "{\"organization_alias\":\"o\",\"max_budget\":-1}", 400,
             NULL);
    expect_error(r, "bad_request_error", "max_budget cannot be negative. Received: -1.0");
    cJSON_Delete(r);
    cJSON_Delete(call("POST", "/organization/new",
                      "{\"organization_alias\":\"o\",\"budget_id\":\"nope\"}", 400, NULL));
    cJSON_Delete(call("POST", "/organization/new",
                      "{\"organization_alias\":\"o\",\"models\":\"gpt-4o\"}", 400, NULL));
    cJSON_Delete(call("POST", "/organization/new",
                      "{\"organization_alias\":\"o\",\"organization_id\":\"org-a\"}", 200, NULL));
    expect_call_error("POST", "/organization/new",
                      "{\"organization_alias\":\"o\",\"organization_id\":\"org-a\"}", 400,
                      "bad_request_error", "already exists");
    cr_expect_str_eq(cell("SELECT COUNT(*) FROM \"LiteLLM_BudgetTable\"", NULL), "1");

    expect_call_error("POST", "/organization/update", "{\"organization_id\":\"nope\"}", 404,
                      "not_found_error", "Organization not found for organization_id=nope");
    cJSON_Delete(call("POST", "/organization/update", "{\"organization_alias\":\"x\"}", 400, NULL));
    r = call("DELETE", "/organization/delete", "{\"organization_ids\":[\"org-a\",\"nope\"]}", 404,
             NULL);
    expect_error(r, "not_found_error", "Organization=nope not found");
    cJSON_Delete(r);
    cr_expect_str_eq(cell("SELECT COUNT(*) FROM \"LiteLLM_OrganizationTable\"", NULL), "1");
    cJSON_Delete(call("DELETE", "/organization/delete", "{\"organization_ids\":[]}", 400, NULL));
    expect_call_error("GET", "/organization/info", "organization_id=nope", 404, "not_found_error",
                      "Organization not found");
    cJSON_Delete(call("GET", "/organization/info", "", 400, NULL));
    cJSON_Delete(call("POST", "/organization/info", "{\"organizations\":[]}", 400, NULL));
    r = call("POST", "/organization/info", "{\"organizations\":[\"org-a\",\"nope\"]}", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(r), 1);
    cr_expect(cJSON_IsObject(member(cJSON_GetArrayItem(r, 0), "litellm_budget_table")));
    cJSON_Delete(r);
}

/* ---- budgets --------------------------------------------------------------------------------- */

BOTH(budget_lifecycle)
{
    cJSON *r = call("POST", "/budget/new",
                    "{\"budget_id\":\"basic\",\"max_budget\":5,\"budget_duration\":\"1d\","
                    "\"tpm_limit\":1000,\"model_max_budget\":{\"gpt-4o\":{\"budget_limit\":1,"
                    "\"time_period\":\"1d\"}}}",
                    200, NULL);
    cr_expect_str_eq(str_of(r, "budget_id"), "basic");
    cr_expect_eq(num_of(r, "max_budget"), 5);
    cr_expect_eq(num_of(r, "tpm_limit"), 1000);
    cr_expect(cJSON_IsString(member(r, "budget_reset_at")));
    cr_expect(cJSON_IsObject(member(r, "model_max_budget")));
    cr_expect_str_eq(str_of(r, "created_by"), "default_user_id");
    cJSON_Delete(r);
    expect_call_error("POST", "/budget/new", "{\"budget_id\":\"basic\"}", 400, "bad_request_error",
                      "Budget with id 'basic' already exists.");
    r = call("POST", "/budget/new", "{\"max_budget\":1}", 200, NULL);
    cr_expect_eq(strlen(str_of(r, "budget_id")), 36);
    cr_expect(is_null(r, "budget_reset_at"));
    cJSON_Delete(r);

    add_key("k-b", NULL, NULL, "basic");
    add_key("k-other", NULL, NULL, NULL);
    cJSON_Delete(
        call("POST", "/customer/new", "{\"user_id\":\"c\",\"budget_id\":\"basic\"}", 200, NULL));

    store_strlist_t inv;
    r = call("POST", "/budget/update",
             "{\"budget_id\":\"basic\",\"max_budget\":7,\"tpm_limit\":null}", 200, &inv);
    cr_expect_eq(num_of(r, "max_budget"), 7);
    cr_expect(is_null(r, "tpm_limit"));
    cr_expect_str_eq(str_of(r, "budget_duration"), "1d");
    cr_expect_eq(inv.n, 1);
    cr_expect(inv_has(&inv, "k-b"));
    store_strlist_free(&inv);
    cJSON_Delete(r);

    r = call("POST", "/budget/info", "{\"budgets\":[\"basic\",\"nope\"]}", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(r), 1);
    cr_expect_eq(num_of(cJSON_GetArrayItem(r, 0), "max_budget"), 7);
    cJSON_Delete(r);
    r = call("GET", "/budget/list", "", 200, NULL);
    cr_expect_eq(cJSON_GetArraySize(r), 2);
    cJSON_Delete(r);

    r = call("POST", "/budget/delete", "{\"id\":\"basic\"}", 200, &inv);
    cr_expect_str_eq(str_of(r, "budget_id"), "basic");
    cr_expect(inv_has(&inv, "k-b") && inv.n == 1);
    store_strlist_free(&inv);
    cJSON_Delete(r);
    cr_expect_str_eq(
        cell("SELECT \"budget_id\" FROM \"LiteLLM_VerificationToken\" WHERE \"token\" = $1", "k-b"),
        "(null)");
    cr_expect_str_eq(
        cell("SELECT \"budget_id\" FROM \"LiteLLM_EndUserTable\" WHERE \"user_id\" = $1", "c"),
        "(null)");
    cr_expect_str_eq(cell("SELECT COUNT(*) FROM \"LiteLLM_BudgetTable\"", NULL), "1");
}

BOTH(budget_errors)
{
    cJSON *r = call("POST", "/budget/new", "{\"max_budget\":-2}", 400, NULL);
    expect_error(r, "bad_request_error",
                 "max_budget must be a non-negative finite number. Received: -2.0");
    cJSON_Delete(r);
    cJSON_Delete(call("POST", "/budget/new", "{\"soft_budget\":-0.5}", 400, NULL));
    cJSON_Delete(call("POST", "/budget/new", "{\"budget_duration\":\"soon\"}", 400, NULL));
    cJSON_Delete(call("POST", "/budget/new", "{\"model_max_budget\":[1]}", 400, NULL));
    cJSON_Delete(call("POST", "/budget/new", "{\"tpm_limit\":1.5}", 400, NULL));
    expect_call_error("POST", "/budget/update", "{\"max_budget\":1}", 400, "bad_request_error",
                      "budget_id is required");
    expect_call_error("POST", "/budget/update", "{\"budget_id\":\"nope\",\"max_budget\":1}", 404,
                      "not_found_error", "Budget with id 'nope' not found.");
    cJSON_Delete(call("POST", "/budget/delete", "{\"id\":\"nope\"}", 404, NULL));
    cJSON_Delete(call("POST", "/budget/delete", "{}", 400, NULL));
    cJSON_Delete(call("POST", "/budget/info", "{\"budgets\":[]}", 400, NULL));
    /* an organization's budget cannot go (LiteLLM's foreign key is RESTRICT) */
    r = call("POST", "/organization/new", "{\"organization_alias\":\"o\"}", 200, NULL);
    char body[128];
    snprintf(body, sizeof body, "{\"id\":\"%s\"}", str_of(r, "budget_id"));
    cJSON_Delete(r);
    expect_call_error("POST", "/budget/delete", body, 400, "bad_request_error",
                      "is the budget of organization");
    cr_expect_str_eq(cell("SELECT COUNT(*) FROM \"LiteLLM_BudgetTable\"", NULL), "1");
}

/* ---- spend ----------------------------------------------------------------------------------- */

static char alpha[65], beta[65];

static void add_log(const char *id, const char *key, const char *user, const char *team,
                    const char *end_user, const char *model, const char *spend, const char *prompt,
                    const char *completion, const char *start)
{
    insert("LiteLLM_SpendLogs", (const char *[]){"request_id",
                                                 id,
                                                 "call_type",
                                                 "acompletion",
                                                 "api_key",
                                                 key,
                                                 "spend",
                                                 spend,
                                                 "prompt_tokens",
                                                 prompt,
                                                 "completion_tokens",
                                                 completion,
                                                 "total_tokens",
                                                 "30",
                                                 "startTime",
                                                 start,
                                                 "endTime",
                                                 start,
                                                 "model",
                                                 model,
                                                 "user",
                                                 user,
                                                 "team_id",
                                                 team,
                                                 "end_user",
                                                 end_user,
                                                 NULL});
}

/* Five requests over four days; r4 at midnight of 2026-03-04 exactly. */
static void spend_rows(void)
{
    hash_of("sk-alpha-key-0001", alpha);
    hash_of("sk-beta-key-00002", beta);
    add_log("r1", alpha, "u1", "t1", "c1", "m-a", "1", "10", "20", "2026-03-01 10:00:00.000");
    add_log("r2", alpha, "u1", "t1", "c1", "m-b", "2", "10", "20", "2026-03-01 12:00:00.000");
    add_log("r3", beta, "u2", NULL, "c2", "m-a", "4", "10", "20", "2026-03-02 09:00:00.000");
    add_log("r4", beta, "u2", NULL, NULL, "m-a", "8", "10", "20", "2026-03-04 00:00:00.000");
    add_log("r5", alpha, "u1", "t1", "c1", "m-a", "16", "10", "20", "2026-03-04 10:00:00.000");
    insert("LiteLLM_TeamTable", (const char *[]){"team_id", "t1", "team_alias", "Team One", NULL});
}

/* The request_ids of a list of rows, comma-separated; static buffer. */
static const char *ids_of(const cJSON *rows)
{
    static char out[256];
    out[0] = '\0';
    const cJSON *it;
    cJSON_ArrayForEach(it, rows)
    {
        if (out[0])
            strcat(out, ",");
        strcat(out, str_of(it, "request_id"));
    }
    return out;
}

BOTH(spend_logs_rows)
{
    spend_rows();
    cJSON *r = call("GET", "/spend/logs", "request_id=r3", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(r), 1);
    const cJSON *row = cJSON_GetArrayItem(r, 0);
    cr_expect_eq(num_of(row, "spend"), 4);
    cr_expect_str_eq(str_of(row, "api_key"), beta);
    cr_expect_str_eq(str_of(row, "startTime"), "2026-03-02T09:00:00.000000+00:00");
    cr_expect(cJSON_IsObject(member(row, "metadata")));
    cJSON_Delete(r);
    r = call("GET", "/spend/logs", "request_id=nope", 200, NULL);
    cr_expect_eq(cJSON_GetArraySize(r), 0);
    cJSON_Delete(r);

    /* a key as sent (hashed here) or as stored; newest first */
    r = call("GET", "/spend/logs", "api_key=sk-alpha-key-0001", 200, NULL);
    cr_expect_str_eq(ids_of(r), "r5,r2,r1");
    cJSON_Delete(r);
    char q[128];
    snprintf(q, sizeof q, "api_key=%s", beta);
    r = call("GET", "/spend/logs", q, 200, NULL);
    cr_expect_str_eq(ids_of(r), "r4,r3");
    cJSON_Delete(r);
    r = call("GET", "/spend/logs", "user_id=u2", 200, NULL);
    cr_expect_str_eq(ids_of(r), "r4,r3");
    cJSON_Delete(r);

    r = call("GET", "/spend/logs", "", 200, NULL);
    cr_expect_str_eq(ids_of(r), "r5,r4,r3,r2,r1");
    cJSON_Delete(r);
    r = call("GET", "/spend/logs", "page_size=2", 200, NULL);
    cr_expect_str_eq(ids_of(r), "r5,r4");
    cJSON_Delete(r);
    r = call("GET", "/spend/logs", "page_size=2&page=2", 200, NULL);
    cr_expect_str_eq(ids_of(r), "r3,r2");
    cJSON_Delete(r);
    r = call("GET", "/spend/logs", "page_size=2&page=3", 200, NULL);
    cr_expect_str_eq(ids_of(r), "r1");
    cJSON_Delete(r);

    /* unsummarized range: end_date is midnight, so 2026-03-02 09:00 is outside */
    r = call("GET", "/spend/logs", "start_date=2026-03-01&end_date=2026-03-02&summarize=false", 200,
             NULL);
    cr_expect_str_eq(ids_of(r), "r2,r1");
    cJSON_Delete(r);
    r = call("GET", "/spend/logs",
             "start_date=2026-03-01&end_date=2026-03-05&summarize=false&user_id=u2", 200, NULL);
    cr_expect_str_eq(ids_of(r), "r4,r3");
    cJSON_Delete(r);

    cJSON_Delete(call("GET", "/spend/logs", "page=0", 400, NULL));
    cJSON_Delete(call("GET", "/spend/logs", "page_size=100000", 400, NULL));
    cJSON_Delete(
        call("GET", "/spend/logs", "start_date=2026-02-30&end_date=2026-03-01", 400, NULL));
    cJSON_Delete(call("GET", "/spend/logs", "start_date=yesterday&end_date=2026-03-01", 400, NULL));
}

BOTH(spend_logs_summary)
{
    spend_rows();
    cJSON *r = call("GET", "/spend/logs", "start_date=2026-03-01&end_date=2026-03-05", 200, NULL);
    /* days with spend, then zero days after the last one up to end_date (LiteLLM's shape) */
    cr_assert_eq(cJSON_GetArraySize(r), 4, "%s", cJSON_PrintUnformatted(r));
    const cJSON *d1 = cJSON_GetArrayItem(r, 0), *d2 = cJSON_GetArrayItem(r, 1);
    const cJSON *d4 = cJSON_GetArrayItem(r, 2), *d5 = cJSON_GetArrayItem(r, 3);
    cr_expect_str_eq(str_of(d1, "startTime"), "2026-03-01");
    cr_expect_eq(num_of(d1, "spend"), 3);
    cr_expect_eq(num_of(d1, alpha), 3);
    cr_expect_eq(num_of(member(d1, "users"), "u1"), 3);
    cr_expect_eq(num_of(member(d1, "models"), "m-a"), 1);
    cr_expect_eq(num_of(member(d1, "models"), "m-b"), 2);
    cr_expect_str_eq(str_of(d2, "startTime"), "2026-03-02");
    cr_expect_eq(num_of(d2, "spend"), 4);
    cr_expect_eq(num_of(d2, beta), 4);
    cr_expect_str_eq(str_of(d4, "startTime"), "2026-03-04");
    cr_expect_eq(num_of(d4, "spend"), 24);
    cr_expect_eq(num_of(member(d4, "users"), "u2"), 8);
    cr_expect_eq(num_of(member(d4, "users"), "u1"), 16);
    cr_expect_str_eq(str_of(d5, "startTime"), "2026-03-05");
    cr_expect_eq(num_of(d5, "spend"), 0);
    cr_expect_eq(cJSON_GetArraySize(member(d5, "users")), 0);
    cJSON_Delete(r);

    /* end_date counts from its midnight only: r4 (00:00) in, r5 (10:00) out */
    r = call("GET", "/spend/logs", "start_date=2026-03-01&end_date=2026-03-04", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(r), 3);
    cr_expect_eq(num_of(cJSON_GetArrayItem(r, 2), "spend"), 8);
    cJSON_Delete(r);
    /* one filter: the key */
    r = call("GET", "/spend/logs",
             "start_date=2026-03-01&end_date=2026-03-04&api_key=sk-alpha-key-0001", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(r), 4); /* 03-01, then zero days 03-02..03-04 */
    cr_expect_eq(num_of(cJSON_GetArrayItem(r, 0), "spend"), 3);
    cr_expect_eq(num_of(cJSON_GetArrayItem(r, 1), "spend"), 0);
    cJSON_Delete(r);
    r = call("GET", "/spend/logs", "start_date=2027-01-01&end_date=2027-01-05", 200, NULL);
    cr_expect_eq(cJSON_GetArraySize(r), 0);
    cJSON_Delete(r);
}

BOTH(global_spend)
{
    cJSON *r = call("GET", "/global/spend", "", 200, NULL);
    cr_expect_eq(num_of(r, "spend"), 0);
    cr_expect_eq(num_of(r, "max_budget"), 0);
    cJSON_Delete(r);
    char recent[24], old[24];
    admin_time_text(admin_now_ms() - 86400000LL, recent);
    admin_time_text(admin_now_ms() - 40 * 86400000LL, old);
    add_log("g1", "k", "u", NULL, NULL, "m", "1.25", "1", "1", recent);
    add_log("g2", "k", "u", NULL, NULL, "m", "0.5", "1", "1", recent);
    add_log("g3", "k", "u", NULL, NULL, "m", "100", "1", "1", old);
    r = call("GET", "/global/spend", "", 200, NULL);
    cr_expect_eq(num_of(r, "spend"), 1.75, "only the last 30 days count");
    cJSON_Delete(r);
}

BOTH(global_spend_report)
{
    spend_rows();
    cJSON *r = call("GET", "/global/spend/report",
                    "start_date=2026-03-01&end_date=2026-03-05&group_by=team", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(r), 3, "%s", cJSON_PrintUnformatted(r));
    const cJSON *d1 = cJSON_GetArrayItem(r, 0);
    cr_expect_str_eq(str_of(d1, "group_by_day"), "2026-03-01T00:00:00+00:00");
    const cJSON *teams = member(d1, "teams");
    cr_assert_eq(cJSON_GetArraySize(teams), 1);
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(teams, 0), "team_name"), "Team One");
    cr_expect_eq(num_of(cJSON_GetArrayItem(teams, 0), "total_spend"), 3);
    const cJSON *meta = member(cJSON_GetArrayItem(teams, 0), "metadata");
    cr_assert_eq(cJSON_GetArraySize(meta), 2);
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(meta, 0), "api_key"), alpha);
    cr_expect_eq(num_of(cJSON_GetArrayItem(meta, 0), "total_tokens"), 30);
    /* 2026-03-04: the team-less request under "Unassigned Team" */
    teams = member(cJSON_GetArrayItem(r, 2), "teams");
    cr_assert_eq(cJSON_GetArraySize(teams), 2);
    double unassigned = 0, team_one = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, teams)
    {
        if (strcmp(str_of(it, "team_name"), "Unassigned Team") == 0)
            unassigned = num_of(it, "total_spend");
        else
            team_one = num_of(it, "total_spend");
    }
    cr_expect_eq(unassigned, 8);
    cr_expect_eq(team_one, 16);
    cJSON_Delete(r);

    r = call("GET", "/global/spend/report",
             "start_date=2026-03-01&end_date=2026-03-05&group_by=customer", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(r), 3);
    const cJSON *customers = member(cJSON_GetArrayItem(r, 0), "customers");
    cr_assert_eq(cJSON_GetArraySize(customers), 1);
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(customers, 0), "customer"), "c1");
    cr_expect_eq(num_of(cJSON_GetArrayItem(customers, 0), "total_spend"), 3);
    customers = member(cJSON_GetArrayItem(r, 2), "customers");
    cr_expect_eq(cJSON_GetArraySize(customers), 2); /* c1, and null (r4 has no end_user) */
    cJSON_Delete(r);

    /* per key, most expensive first; end_date's midnight bound excludes nothing here */
    r = call("GET", "/global/spend/report",
             "start_date=2026-03-01&end_date=2026-03-05&group_by=api_key", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(r), 2);
    const cJSON *k1 = cJSON_GetArrayItem(r, 0), *k2 = cJSON_GetArrayItem(r, 1);
    cr_expect_str_eq(str_of(k1, "api_key"), alpha);
    cr_expect_eq(num_of(k1, "total_cost"), 19);
    cr_expect_eq(num_of(k1, "total_input_tokens"), 30);
    cr_expect_eq(num_of(k1, "total_output_tokens"), 60);
    cr_expect_eq(cJSON_GetArraySize(member(k1, "model_details")), 2);
    cr_expect_str_eq(str_of(k2, "api_key"), beta);
    cr_expect_eq(num_of(k2, "total_cost"), 12);
    const cJSON *md = cJSON_GetArrayItem(member(k2, "model_details"), 0);
    cr_expect_str_eq(str_of(md, "model"), "m-a");
    cr_expect_eq(num_of(md, "total_cost"), 12);
    cJSON_Delete(r);

    r = call("GET", "/global/spend/report",
             "start_date=2026-03-01&end_date=2026-03-05&api_key=sk-beta-key-00002", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(r), 1);
    cr_expect_eq(num_of(cJSON_GetArrayItem(r, 0), "total_cost"), 12);
    cJSON_Delete(r);
    r = call("GET", "/global/spend/report",
             "start_date=2026-03-01&end_date=2026-03-05&internal_user_id=u1", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(r), 1);
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(r, 0), "api_key"), alpha);
    cJSON_Delete(r);
    r = call("GET", "/global/spend/report", "start_date=2027-01-01&end_date=2027-01-02", 200, NULL);
    cr_expect_eq(cJSON_GetArraySize(r), 0);
    cJSON_Delete(r);

    expect_call_error("GET", "/global/spend/report", "start_date=2026-03-01", 400,
                      "bad_request_error", "Please provide start_date and end_date");
    cJSON_Delete(call("GET", "/global/spend/report",
                      "start_date=2026-03-01&end_date=2026-03-05&group_by=model", 400, NULL));
    cJSON_Delete(call("GET", "/global/spend/report", "start_date=2026-13-01&end_date=2026-03-05",
                      400, NULL));
}

/* The spend pipeline's own writer (SQLite): what /spend/logs and the report sum is what the
 * batch wrote, once, even when a batch is replayed. */
Test(admin_misc, spend_from_write_batch)
{
    char *err = NULL;
    store_sqlite_t *st = store_sqlite_open(admin_test_dbpath, &err);
    cr_assert_not_null(st, "%s", err ? err : "");
    hash_of("sk-alpha-key-0001", alpha);
    store_spend_log_t logs[3];
    static const char *const ids[] = {"b1", "b2", "b3"};
    static const double spend[] = {0.25, 0.5, 1.0};
    long long day = 1772323200000LL; /* 2026-03-01 00:00:00 UTC */
    for (int i = 0; i < 3; i++) {
        store_spend_log_init(&logs[i]);
        logs[i].request_id = ids[i];
        logs[i].call_type = "acompletion";
        logs[i].api_key = alpha;
        logs[i].spend = spend[i];
        logs[i].prompt_tokens = 100;
        logs[i].completion_tokens = 10;
        logs[i].total_tokens = 110;
        logs[i].start_time = logs[i].end_time = day + (i + 1) * 3600000LL;
        logs[i].model = i == 2 ? "m-b" : "m-a";
        logs[i].user = "u1";
    }
    store_batch_result_t res;
    cr_assert_eq(store_sqlite_write_batch(st, logs, 3, true, &res, NULL), 0, "%s",
                 store_sqlite_errmsg(st));
    cr_assert_eq(store_sqlite_write_batch(st, logs, 3, true, &res, NULL), 0);
    cr_expect_eq(res.duplicates, 3);
    store_sqlite_close(st);

    cJSON *r = call("GET", "/spend/logs", "start_date=2026-03-01&end_date=2026-03-02", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(r), 2);
    cr_expect_eq(num_of(cJSON_GetArrayItem(r, 0), "spend"), 1.75);
    cr_expect_eq(num_of(member(cJSON_GetArrayItem(r, 0), "models"), "m-a"), 0.75);
    cJSON_Delete(r);
    r = call("GET", "/global/spend/report",
             "start_date=2026-03-01&end_date=2026-03-02&group_by=api_key", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(r), 1);
    cr_expect_eq(num_of(cJSON_GetArrayItem(r, 0), "total_cost"), 1.75);
    cr_expect_eq(num_of(cJSON_GetArrayItem(r, 0), "total_input_tokens"), 300);
    cJSON_Delete(r);
    r = call("GET", "/spend/logs", "api_key=sk-alpha-key-0001", 200, NULL);
    cr_expect_str_eq(ids_of(r), "b3,b2,b1");
    cJSON_Delete(r);
}

/* ---- models ---------------------------------------------------------------------------------- */

/* Ciphertexts made by LiteLLM's encrypt_decrypt_utils (Python's cryptography) under the salt key
 * "sk-salt-for-tests" with nonce 00..0b. */
Test(admin_misc, cipher_matches_litellm)
{
    char *p = admin_model_decrypt(
        "sk-salt-for-tests",
        "v3:gcm:AAECAwQFBgcICQoLGHy1DxRgtwgKSsh7Y0T8m_5Ql-pp12k4NcWtSZuouNGSZh99Hw==");
    cr_assert_not_null(p);
    cr_expect_str_eq(p, "sk-provider-secret-42");
    free(p);
    p = admin_model_decrypt("sk-salt-for-tests",
                            "v2:gcm:AAECAwQFBgcICQoLp24og1bc-Ng4UtS4kaAlKVUGIkc0AqON1BycMlQ=");
    cr_assert_not_null(p);
    cr_expect_str_eq(p, "openai/gpt-4o");
    free(p);
    cr_expect_null(admin_model_decrypt(
        "another-key",
        "v3:gcm:AAECAwQFBgcICQoLGHy1DxRgtwgKSsh7Y0T8m_5Ql-pp12k4NcWtSZuouNGSZh99Hw=="));
    cr_expect_null(admin_model_decrypt("sk-salt-for-tests", "plain text"));
    char *e = admin_model_encrypt("k", "hello");
    cr_assert_not_null(e);
    cr_expect_eq(strncmp(e, "v3:gcm:", 7), 0);
    p = admin_model_decrypt("k", e);
    cr_expect_str_eq(p, "hello");
    free(p);
    free(e);
}

BOTH(model_lifecycle)
{
    cJSON *r = call("POST", "/model/new",
                    "{\"model_name\":\"db-model\",\"litellm_params\":{\"model\":\"openai/gpt-4o-"
                    "mini\",\"api_key\":\"sk-db-secret-abcdef\",\"api_base\":\"https://example."
                    "com/v1\",\"rpm\":7,\"aws_secret_access_key\":\"zzz\",\"vertex_credentials\":"
                    "\"{}\",\"input_cost_per_token\":0.5,\"my_token\":\"short\",\"timeout\":null},"
                    "\"model_info\":{\"note\":\"x\"}}",
                    200, NULL);
    char id[64];
    snprintf(id, sizeof id, "%s", str_of(r, "model_id"));
    cr_expect_eq(strlen(id), 36);
    cr_expect_str_eq(str_of(r, "model_name"), "db-model");
    const cJSON *lp = member(r, "litellm_params");
    /* stored as LiteLLM stores them: strings encrypted, numbers as they are, nulls left out */
    cr_expect_eq(strncmp(str_of(lp, "model"), "v3:gcm:", 7), 0);
    cr_expect_eq(strncmp(str_of(lp, "api_key"), "v3:gcm:", 7), 0);
    cr_expect_eq(num_of(lp, "rpm"), 7);
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(lp, "timeout"));
    char *plain = admin_model_decrypt("sk-master-key-1234", str_of(lp, "api_key"));
    cr_expect_str_eq(plain, "sk-db-secret-abcdef");
    free(plain);
    const cJSON *mi = member(r, "model_info");
    cr_expect_str_eq(str_of(mi, "id"), id);
    cr_expect(cJSON_IsFalse(member(mi, "db_model")));
    cr_expect_str_eq(str_of(mi, "note"), "x");
    cr_expect_str_eq(str_of(r, "created_by"), "default_user_id");
    cJSON_Delete(r);

    r = call("GET", "/model/info", "", 200, NULL);
    const cJSON *data = member(r, "data");
    cr_assert_eq(cJSON_GetArraySize(data), 2);
    /* the config deployment: api_key removed, secrets in headers masked, numbers typed */
    const cJSON *c = cJSON_GetArrayItem(data, 0);
    cr_expect_str_eq(str_of(c, "model_name"), "gpt-4o");
    lp = member(c, "litellm_params");
    cr_expect_str_eq(str_of(lp, "model"), "openai/gpt-4o");
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(lp, "api_key"));
    cr_expect_str_eq(str_of(lp, "api_base"), "https://api.openai.com/v1");
    cr_expect_eq(num_of(lp, "rpm"), 100);
    cr_expect_str_eq(str_of(member(lp, "extra_headers"), "Authorization"), "Bear***********ijkl");
    cr_expect_str_eq(str_of(member(lp, "extra_headers"), "X-Tenant"), "blue");
    cr_expect_str_eq(str_of(member(c, "model_info"), "id"), "cfg-gpt4o");
    cr_expect(cJSON_IsFalse(member(member(c, "model_info"), "db_model")));
    /* the DB model: decrypted, then stripped and masked */
    const cJSON *d = cJSON_GetArrayItem(data, 1);
    cr_expect_str_eq(str_of(d, "model_name"), "db-model");
    lp = member(d, "litellm_params");
    cr_expect_str_eq(str_of(lp, "model"), "openai/gpt-4o-mini");
    cr_expect_str_eq(str_of(lp, "api_base"), "https://example.com/v1");
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(lp, "api_key"));
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(lp, "aws_secret_access_key"));
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(lp, "vertex_credentials"));
    cr_expect_eq(num_of(lp, "input_cost_per_token"), 0.5);
    cr_expect_str_eq(str_of(lp, "my_token"), "*****");
    cr_expect_str_eq(str_of(member(d, "model_info"), "id"), id);
    cr_expect(cJSON_IsTrue(member(member(d, "model_info"), "db_model")));
    cJSON_Delete(r);

    char q[128];
    snprintf(q, sizeof q, "litellm_model_id=%s", id);
    r = call("GET", "/v1/model/info", q, 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(member(r, "data")), 1);
    cr_expect_str_eq(str_of(cJSON_GetArrayItem(member(r, "data"), 0), "model_name"), "db-model");
    cJSON_Delete(r);
    r = call("GET", "/model/info", "litellm_model_id=cfg-gpt4o", 200, NULL);
    cr_assert_eq(cJSON_GetArraySize(member(r, "data")), 1);
    cJSON_Delete(r);

    char body[128];
    snprintf(body, sizeof body, "{\"id\":\"%s\"}", id);
    r = call("POST", "/model/delete", body, 200, NULL);
    char want[128];
    snprintf(want, sizeof want, "Model: %s deleted successfully", id);
    cr_expect_str_eq(str_of(r, "message"), want);
    cJSON_Delete(r);
    r = call("POST", "/model/delete", body, 400, NULL);
    snprintf(want, sizeof want, "Model with id=%s not found in db", id);
    expect_error(r, "auth_error", want);
    cJSON_Delete(r);
    cr_expect_str_eq(cell("SELECT COUNT(*) FROM \"LiteLLM_ProxyModelTable\"", NULL), "0");
}

BOTH(model_errors)
{
    cJSON *r =
        call("POST", "/model/new", "{\"litellm_params\":{\"model\":\"openai/x\"}}", 400, NULL);
    expect_error(r, "bad_request_error", "model_name is required");
    cJSON_Delete(r);
    cJSON_Delete(
        call("POST", "/model/new", "{\"model_name\":\"m\",\"litellm_params\":{}}", 400, NULL));
    r = call("POST", "/model/new",
             "{\"model_name\":\"m\",\"litellm_params\":{\"model\":\"openai/x\"},\"model_info\":"
             "{\"id\":\"cfg-gpt4o\"}}",
             400, NULL);
    expect_error(r, "validation_error",
                 "model_info.id=cfg-gpt4o already belongs to an existing deployment");
    cJSON_Delete(r);
    cJSON_Delete(call("POST", "/model/new",
                      "{\"model_name\":\"m\",\"litellm_params\":{\"model\":\"openai/x\"},"
                      "\"model_info\":{\"id\":\"fixed\"}}",
                      200, NULL));
    cJSON_Delete(call("POST", "/model/new",
                      "{\"model_name\":\"m\",\"litellm_params\":{\"model\":\"openai/x\"},"
                      "\"model_info\":{\"id\":\"fixed\"}}",
                      400, NULL));
    cJSON_Delete(call("POST", "/model/delete", "{}", 400, NULL));
    expect_call_error("POST", "/model/delete", "{\"id\":\"cfg-gpt4o\"}", 400, "auth_error",
                      "Model with id=cfg-gpt4o not found in db");
    /* no salt key and no master key: nothing to encrypt with */
    const cfg_t *saved = adm.cfg;
    adm.cfg = NULL;
    cJSON_Delete(call("POST", "/model/new",
                      "{\"model_name\":\"m2\",\"litellm_params\":{\"model\":\"openai/x\"}}", 500,
                      NULL));
    adm.cfg = saved;
}

/* Runs a call like call() and says whether it reported LiteLLM_ProxyModelTable changed. */
static bool changes_models(const char *method, const char *path, const char *in, int status)
{
    admin_result_t r = admin_test_run(method, path, in);
    cr_assert_eq(r.status, status, "%s %s: %d %s", method, path, r.status, r.body);
    bool changed = r.models_changed;
    admin_result_free(&r);
    return changed;
}

/* store_model_in_db: the rows as the router reads them, and the calls that change them */
BOTH(models_load_for_the_router)
{
    char *err = NULL;
    cJSON *m = admin_models_load(&adm, &err);
    cr_assert_not_null(m, "%s", err ? err : "");
    cr_expect_eq(cJSON_GetArraySize(m), 0);
    cJSON_Delete(m);

    cr_expect(changes_models("POST", "/model/new",
                             "{\"model_name\":\"db-a\",\"litellm_params\":{\"model\":\"openai/a\","
                             "\"api_key\":\"sk-db-secret\",\"rpm\":3,\"timeout\":null},"
                             "\"model_info\":{\"id\":\"row-a\",\"team_public_model_name\":\"pub\","
                             "\"access_groups\":[\"g\"]}}",
                             200));
    cr_expect(
        !changes_models("POST", "/model/new",
                        "{\"model_name\":\"db-a\",\"litellm_params\":{\"model\":\"openai/a\"},"
                        "\"model_info\":{\"id\":\"row-a\"}}",
                        400));
    cr_expect(!changes_models("GET", "/model/info", "", 200));
    /* a row written elsewhere in plain text (not encrypted): used as stored */
    cr_assert_geq(sdb_exec(adm.db,
                           "INSERT INTO \"LiteLLM_ProxyModelTable\" (\"model_id\", \"model_name\", "
                           "\"litellm_params\", \"created_at\", \"created_by\", \"updated_at\", "
                           "\"updated_by\") VALUES ('row-b', 'db-b', $1, $2, 'x', $2, 'x')",
                           (const char *[]){"{\"model\": \"openai/b\", \"api_key\": \"plain\"}",
                                            "2030-01-01 00:00:00.000"},
                           2),
                  0, "%s", sdb_errmsg(adm.db));

    m = admin_models_load(&adm, &err);
    cr_assert_not_null(m, "%s", err ? err : "");
    cr_assert_eq(cJSON_GetArraySize(m), 2);
    const cJSON *a = cJSON_GetArrayItem(m, 0);
    cr_expect_str_eq(str_of(a, "model_name"), "db-a"); /* the stored name, not the public one */
    const cJSON *lp = member(a, "litellm_params");
    cr_expect_str_eq(str_of(lp, "model"), "openai/a");
    cr_expect_str_eq(str_of(lp, "api_key"), "sk-db-secret"); /* decrypted, not stripped */
    cr_expect_eq(num_of(lp, "rpm"), 3);
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(lp, "timeout"));
    const cJSON *mi = member(a, "model_info");
    cr_expect_str_eq(str_of(mi, "id"), "row-a");
    cr_expect(cJSON_IsTrue(member(mi, "db_model")));
    cr_expect_str_eq(str_of(mi, "team_public_model_name"), "pub");
    cr_expect_str_eq(cJSON_GetArrayItem(member(mi, "access_groups"), 0)->valuestring, "g");
    const cJSON *b = cJSON_GetArrayItem(m, 1);
    cr_expect_str_eq(str_of(b, "model_name"), "db-b");
    cr_expect_str_eq(str_of(member(b, "litellm_params"), "api_key"), "plain");
    cr_expect_str_eq(str_of(member(b, "model_info"), "id"), "row-b");

    /* what the router makes of them: the config's deployment, then the two rows */
    cfg_diag_t d;
    cfg_t *all = cfg_with_models(cfg, m, &d);
    cr_assert_not_null(all);
    cr_expect_eq(d.num_errors, 0);
    cr_assert_eq(all->num_deployments, 3);
    cr_expect_str_eq(all->deployments[1].api_key, "sk-db-secret");
    cr_expect_str_eq(all->deployments[2].id, "row-b");
    cfg_diag_free(&d);
    cfg_free(all);
    cJSON_Delete(m);

    cr_expect(changes_models("POST", "/model/delete", "{\"id\":\"row-a\"}", 200));
    cr_expect(!changes_models("POST", "/model/delete", "{\"id\":\"row-a\"}", 400));
    m = admin_models_load(&adm, &err);
    cr_assert_not_null(m);
    cr_expect_eq(cJSON_GetArraySize(m), 1);
    cJSON_Delete(m);
}
