/* SPDX-License-Identifier: MIT
 * admin: the /key/... handlers (admin_key_routes) on a temporary SQLite file (suite admin_keys)
 * and on the real PostgreSQL of pg_harness (admin_keys_pg), the same bodies on both: the life of a
 * key (generate, info, update, block, unblock, regenerate, delete), listing, custom keys, expiry,
 * bad input, and the hashes each mutation hands to the key cache. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "admin/admin.h"
#include "admin_test_util.h"
#include "auth/keys.h"

static void setup_sqlite(void)
{
    admin_test_open_sqlite("/tmp/sluice-admin");
}

TestSuite(admin_keys, .init = setup_sqlite, .fini = admin_test_close_sqlite);
TestSuite(admin_keys_pg, .init = admin_test_open_pg, .fini = admin_test_close_pg, .timeout = 30);

/* The same body on SQLite (admin_keys) and PostgreSQL (admin_keys_pg). */
#define BOTH(name) ADMIN_TEST_BOTH(admin_keys, name)

/* Runs the route (method, path) with `in` as the body (POST) or the query string (GET), checks
 * the status, returns the parsed body (caller frees); *inv gets the invalidated hashes when
 * given. */
static cJSON *call(const char *method, const char *path, const char *in, int status,
                   store_strlist_t *inv)
{
    return admin_test_call(method, path, in, status, inv, ADMIN_TEST_STALE_ANY);
}

/* call() for a request that must fail with LiteLLM's error of `type` whose message holds needle. */
static void expect_call_error(const char *method, const char *path, const char *in, int status,
                              const char *type, const char *needle)
{
    admin_test_call_error(method, path, in, status, ADMIN_TEST_STALE_ANY, type, needle);
}

#define GENERATE "POST", "/key/generate"
#define UPDATE "POST", "/key/update"
#define DELETE "POST", "/key/delete"
#define BLOCK "POST", "/key/block"
#define UNBLOCK "POST", "/key/unblock"
#define REGENERATE "POST", "/key/regenerate"
#define INFO "GET", "/key/info"
#define LIST "GET", "/key/list"

/* The first cell of a query on the handle, as text ("(null)" for NULL); static buffer. */
static const char *cell(const char *sql, const char *param)
{
    return admin_test_cell(sql, param, NULL, true);
}

/* Generates a key from body and returns its plaintext (malloc'd). */
static char *gen(const char *body)
{
    cJSON *r = call(GENERATE, body, 200, NULL);
    char *key = strdup(str_of(r, "key"));
    cJSON_Delete(r);
    return key;
}

BOTH(generate_response_fields)
{
    store_strlist_t inv;
    cJSON *r =
        call(GENERATE,
             "{\"models\":[\"gpt-4o\",\"openai/*\"],\"max_budget\":10.5,"
             "\"budget_duration\":\"30d\",\"key_alias\":\"ci\",\"metadata\":{\"env\":\"ci\"},"
             "\"team_id\":\"t1\",\"user_id\":\"u1\",\"tpm_limit\":1000,\"rpm_limit\":10,"
             "\"max_parallel_requests\":2,\"model_max_budget\":{\"gpt-4o\":{\"budget_limit\":"
             "1,\"time_period\":\"1d\"}},\"aliases\":{\"fast\":\"gpt-4o\"}}",
             200, &inv);
    const char *key = str_of(r, "key");
    char hex[65];
    hash_of(key, hex);
    cr_expect_eq(strlen(key), AUTH_KEY_LEN);
    cr_expect_eq(strncmp(key, "sk-", 3), 0);
    cr_expect_str_eq(str_of(r, "token"), hex);
    cr_expect_str_eq(str_of(r, "token_id"), hex);
    char name[AUTH_KEY_NAME_MAX];
    auth_key_name(str_cstr(key), name);
    cr_expect_str_eq(str_of(r, "key_name"), name);
    cr_expect(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "expires")));
    cr_expect_str_eq(str_of(r, "key_alias"), "ci");
    cr_expect_str_eq(str_of(r, "team_id"), "t1");
    cr_expect_str_eq(str_of(r, "user_id"), "u1");
    cr_expect_str_eq(str_of(r, "budget_duration"), "30d");
    cr_expect(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r, "budget_reset_at")));
    cr_expect_eq(num_of(r, "max_budget"), 10.5);
    cr_expect_eq(num_of(r, "tpm_limit"), 1000);
    cr_expect_eq(num_of(r, "rpm_limit"), 10);
    cr_expect_eq(num_of(r, "max_parallel_requests"), 2);
    cr_expect_eq(num_of(r, "spend"), 0);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "models")), 2);
    cr_expect_str_eq(str_of(cJSON_GetObjectItemCaseSensitive(r, "metadata"), "env"), "ci");
    cr_expect_str_eq(str_of(cJSON_GetObjectItemCaseSensitive(r, "aliases"), "fast"), "gpt-4o");
    cr_expect(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r, "model_max_budget"), "gpt-4o")));
    static const char *const present[] = {
        "duration", "created_at", "updated_at",          "created_by",
        "blocked",  "key_type",   "litellm_budget_table"};
    for (size_t i = 0; i < sizeof present / sizeof present[0]; i++)
        cr_expect_not_null(cJSON_GetObjectItemCaseSensitive(r, present[i]), "%s", present[i]);
    /* a negative cache entry for the new hash must go */
    cr_expect_eq(inv.n, 1);
    cr_expect_str_eq(inv.v[0], hex);
    store_strlist_free(&inv);

    /* the row is in the database */
    cr_expect_str_eq(
        cell("SELECT key_alias FROM \"LiteLLM_VerificationToken\" WHERE token = $1", hex), "ci");
    cr_expect_str_eq(
        cell("SELECT tpm_limit FROM \"LiteLLM_VerificationToken\" WHERE token = $1", hex), "1000");
    cr_expect_str_eq(
        cell("SELECT count(*) FROM \"LiteLLM_VerificationToken\" WHERE token = $1", hex), "1");
    cJSON_Delete(r);
}

BOTH(lifecycle)
{
    char *key = gen("{\"key_alias\":\"life\",\"max_budget\":5}");
    char hex[65], body[256];
    hash_of(key, hex);
    store_strlist_t inv;

    /* info by key and by hash; the token is not echoed */
    snprintf(body, sizeof body, "key=%s", key);
    cJSON *r = call(INFO, body, 200, NULL);
    cr_expect_str_eq(str_of(r, "key"), key);
    cJSON *info = cJSON_GetObjectItemCaseSensitive(r, "info");
    cr_expect_str_eq(str_of(info, "key_alias"), "life");
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(info, "token"));
    cJSON_Delete(r);
    snprintf(body, sizeof body, "key=%s", hex);
    cJSON_Delete(call(INFO, body, 200, NULL));

    /* update */
    snprintf(body, sizeof body, "{\"key\":\"%s\",\"max_budget\":7,\"models\":[\"m\"]}", key);
    r = call(UPDATE, body, 200, &inv);
    cr_expect_eq(num_of(r, "max_budget"), 7);
    cr_expect_str_eq(str_of(r, "key"), key);
    cr_expect_str_eq(str_of(r, "key_alias"), "life");
    cr_expect_eq(inv.n, 1);
    cr_expect_str_eq(inv.v[0], hex);
    store_strlist_free(&inv);
    cJSON_Delete(r);
    /* update by alias */
    r = call(UPDATE, "{\"key_alias\":\"life\",\"rpm_limit\":3}", 200, NULL);
    cr_expect_eq(num_of(r, "rpm_limit"), 3);
    cr_expect_eq(num_of(r, "max_budget"), 7);
    cJSON_Delete(r);

    /* block / unblock */
    snprintf(body, sizeof body, "{\"key\":\"%s\"}", key);
    r = call(BLOCK, body, 200, &inv);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "blocked")));
    cr_expect_eq(inv.n, 1);
    store_strlist_free(&inv);
    cJSON_Delete(r);
    r = call(UNBLOCK, body, 200, NULL);
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "blocked")));
    cJSON_Delete(r);

    /* regenerate: new plaintext, old hash gone, settings kept */
    cr_assert_eq(sdb_exec(adm.db,
                          "UPDATE \"LiteLLM_VerificationToken\" SET spend = spend + 1.25 WHERE "
                          "token = $1",
                          (const char *[]){hex}, 1),
                 1);
    r = call(REGENERATE, body, 200, &inv);
    char *key2 = strdup(str_of(r, "key")), hex2[65];
    hash_of(key2, hex2);
    cr_expect_str_neq(key2, key);
    cr_expect_str_eq(str_of(r, "token"), hex2);
    cr_expect_eq(num_of(r, "max_budget"), 7);
    cr_expect_eq(num_of(r, "spend"), 1.25);
    cr_expect_str_eq(str_of(r, "key_alias"), "life");
    cr_expect_eq(inv.n, 2);
    cr_expect_str_eq(inv.v[0], hex);
    cr_expect_str_eq(inv.v[1], hex2);
    store_strlist_free(&inv);
    cJSON_Delete(r);
    snprintf(body, sizeof body, "key=%s", key);
    cJSON_Delete(call(INFO, body, 404, NULL));

    /* delete */
    snprintf(body, sizeof body, "{\"keys\":[\"%s\"]}", key2);
    r = call(DELETE, body, 200, &inv);
    cJSON *del = cJSON_GetObjectItemCaseSensitive(r, "deleted_keys");
    cr_expect_eq(cJSON_GetArraySize(del), 1);
    cr_expect_str_eq(cJSON_GetArrayItem(del, 0)->valuestring, key2);
    cr_expect_eq(inv.n, 1);
    cr_expect_str_eq(inv.v[0], hex2);
    store_strlist_free(&inv);
    cJSON_Delete(r);
    snprintf(body, sizeof body, "key=%s", key2);
    expect_call_error(INFO, body, 404, "not_found_error", "Key not found");
    free(key);
    free(key2);
}

BOTH(delete_by_alias_and_unknown)
{
    char *k1 = gen("{\"key_alias\":\"a1\"}");
    char *k2 = gen("{\"key_alias\":\"a2\"}");
    char body[256];
    /* one unknown key: nothing deleted */
    snprintf(body, sizeof body, "{\"keys\":[\"%s\",\"sk-doesnotexist0000000\"]}", k1);
    cJSON *r = call(DELETE, body, 404, NULL);
    expect_error(r, "not_found_error", "sk-doesnotexist");
    cJSON_Delete(r);
    snprintf(body, sizeof body, "key=%s", k1);
    cJSON_Delete(call(INFO, body, 200, NULL));

    store_strlist_t inv;
    r = call(DELETE, "{\"key_aliases\":[\"a1\",\"a2\"]}", 200, &inv);
    cr_expect_eq(inv.n, 2);
    store_strlist_free(&inv);
    cJSON_Delete(r);
    snprintf(body, sizeof body, "key=%s", k2);
    cJSON_Delete(call(INFO, body, 404, NULL));
    cJSON_Delete(call(DELETE, "{}", 400, NULL));
    cJSON_Delete(call(DELETE, "{\"keys\":[]}", 400, NULL));
    free(k1);
    free(k2);
}

BOTH(custom_keys)
{
    cJSON *r = call(GENERATE, "{\"key\":\"sk-my-custom-key-0001\"}", 200, NULL);
    cr_expect_str_eq(str_of(r, "key"), "sk-my-custom-key-0001");
    cr_expect_str_eq(str_of(r, "key_name"), "sk-...0001");
    cJSON_Delete(r);
    /* the same again: exists */
    cJSON_Delete(call(GENERATE, "{\"key\":\"sk-my-custom-key-0001\"}", 400, NULL));
    /* too short, wrong prefix, wrong type */
    expect_call_error(GENERATE, "{\"key\":\"sk-short\"}", 400, "bad_request_error", "at least 16");
    expect_call_error(GENERATE, "{\"key\":\"my-custom-key-000000002\"}", 400, "bad_request_error",
                      "sk-");
    cJSON_Delete(call(GENERATE, "{\"key\":5}", 400, NULL));
    /* regenerate to a custom value */
    r = call(REGENERATE,
             "{\"key\":\"sk-my-custom-key-0001\",\"new_key\":\"sk-my-custom-key-0002\"}", 200,
             NULL);
    cr_expect_str_eq(str_of(r, "key"), "sk-my-custom-key-0002");
    cJSON_Delete(r);
}

BOTH(expiry_from_duration)
{
    long long before = (long long)time(NULL);
    cJSON *r = call(GENERATE, "{\"duration\":\"2h\"}", 200, NULL);
    const char *exp = str_of(r, "expires");
    struct tm tm = {0};
    cr_assert_not_null(strptime(exp, "%Y-%m-%dT%H:%M:%S", &tm), "%s", exp);
    long long t = (long long)timegm(&tm);
    cr_expect(t >= before + 7200 && t <= before + 7202, "expires %s", exp);
    cr_expect_not_null(strstr(exp, "+00:00"));
    cr_expect_str_eq(str_of(r, "duration"), "2h");
    char *key = strdup(str_of(r, "key"));
    cJSON_Delete(r);

    /* update with "-1": never expires */
    char body[128];
    snprintf(body, sizeof body, "{\"key\":\"%s\",\"duration\":\"-1\"}", key);
    r = call(UPDATE, body, 200, NULL);
    cr_expect(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "expires")));
    cJSON_Delete(r);
    expect_call_error(GENERATE, "{\"duration\":\"2 hours\"}", 400, "bad_request_error", "duration");
    free(key);
}

BOTH(bad_inputs)
{
    static const char *const bad[] = {
        "not json",
        "[1,2]",
        "{\"models\":\"gpt-4o\"}",
        "{\"models\":[1]}",
        "{\"max_budget\":\"ten\"}",
        "{\"tpm_limit\":1.5}",
        "{\"metadata\":[]}",
        "{\"blocked\":\"yes\"}",
        "{\"budget_duration\":\"monthly\"}",
        "{\"user_id\":7}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *r = call(GENERATE, bad[i], 400, NULL);
        expect_error(r, "bad_request_error", "");
        cJSON_Delete(r);
    }
    /* alias unique */
    cJSON_Delete(call(GENERATE, "{\"key_alias\":\"dup\"}", 200, NULL));
    cJSON *r = call(GENERATE, "{\"key_alias\":\"dup\"}", 400, NULL);
    expect_error(r, "bad_request_error", "already exists");
    cJSON_Delete(r);
    /* update/block need a key; unknown keys are 404 */
    cJSON_Delete(call(UPDATE, "{\"max_budget\":1}", 400, NULL));
    cJSON_Delete(call(UPDATE, "{\"key\":\"sk-nope-nope-nope-nope\"}", 404, NULL));
    cJSON_Delete(call(BLOCK, "{}", 400, NULL));
    cJSON_Delete(call(BLOCK, "{\"key\":\"sk-nope-nope-nope-nope\"}", 404, NULL));
    cJSON_Delete(call(UNBLOCK, "{\"key\":\"sk-nope-nope-nope-nope\"}", 404, NULL));
    cJSON_Delete(call(REGENERATE, "{\"key\":\"sk-nope-nope-nope-nope\"}", 404, NULL));
    cJSON_Delete(call(INFO, "", 400, NULL));
    /* temp budget fields go together */
    char *key = gen("{}"), body[160];
    snprintf(body, sizeof body, "{\"key\":\"%s\",\"temp_budget_increase\":5}", key);
    cJSON_Delete(call(UPDATE, body, 400, NULL));
    free(key);
}

BOTH(list_filters_and_pages)
{
    for (int i = 0; i < 7; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"user_id\":\"%s\",\"team_id\":\"%s\",\"key_alias\":\"l%d\"}",
                 i < 5 ? "u1" : "u2", i % 2 ? "odd" : "even", i);
        cJSON_Delete(call(GENERATE, body, 200, NULL));
    }
    cJSON *r = call(LIST, "", 200, NULL);
    cr_expect_eq(num_of(r, "total_count"), 7);
    cr_expect_eq(num_of(r, "current_page"), 1);
    cr_expect_eq(num_of(r, "total_pages"), 1);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "keys")), 7);
    cr_expect(cJSON_IsString(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "keys"), 0)));
    cJSON_Delete(r);

    r = call(LIST, "user_id=u1&size=2&page=3", 200, NULL);
    cr_expect_eq(num_of(r, "total_count"), 5);
    cr_expect_eq(num_of(r, "current_page"), 3);
    cr_expect_eq(num_of(r, "total_pages"), 3);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "keys")), 1);
    cJSON_Delete(r);

    r = call(LIST, "user_id=u1&size=2&page=9", 200, NULL);
    cr_expect_eq(num_of(r, "total_count"), 5);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "keys")), 0);
    cJSON_Delete(r);

    r = call(LIST, "team_id=odd&user_id=u1", 200, NULL);
    cr_expect_eq(num_of(r, "total_count"), 2);
    cJSON_Delete(r);

    r = call(LIST, "key_alias=l6&return_full_object=true", 200, NULL);
    cr_expect_eq(num_of(r, "total_count"), 1);
    cJSON *k = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "keys"), 0);
    cr_assert(cJSON_IsObject(k));
    cr_expect_str_eq(str_of(k, "key_alias"), "l6");
    cr_expect_str_eq(str_of(k, "user_id"), "u2");
    cJSON_Delete(r);

    r = call(LIST, "key_alias=no%20such", 200, NULL);
    cr_expect_eq(num_of(r, "total_count"), 0);
    cr_expect_eq(num_of(r, "total_pages"), 0);
    cJSON_Delete(r);

    cJSON_Delete(call(LIST, "page=0", 400, NULL));
    cJSON_Delete(call(LIST, "size=101", 400, NULL));
    cJSON_Delete(call(LIST, "size=x", 400, NULL));
}
