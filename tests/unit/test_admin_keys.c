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
#include <unistd.h>

#include <cjson/cJSON.h>

#include "admin/admin.h"
#include "auth/keys.h"
#include "pg_harness.h"

static char tmpdir[64];
static admin_t adm;
static PGconn *pgc;

static void setup_sqlite(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sluice-admin-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    char path[128], *err = NULL;
    snprintf(path, sizeof path, "%s/db.sqlite", tmpdir);
    adm.db = sdb_open_sqlite(path, &err);
    cr_assert_not_null(adm.db, "%s", err ? err : "");
}

static void teardown_sqlite(void)
{
    sdb_close(adm.db);
    adm.db = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
}

static void setup_pg(void)
{
    char name[64], ci[256], *err = NULL;
    pgc = pg_harness_test_db(name);
    pg_harness_conninfo(name, ci, sizeof ci);
    adm.db = sdb_open_pg(ci, &err);
    cr_assert_not_null(adm.db, "%s", err ? err : "");
}

static void teardown_pg(void)
{
    sdb_close(adm.db);
    adm.db = NULL;
    if (pgc)
        PQfinish(pgc);
    pgc = NULL;
}

TestSuite(admin_keys, .init = setup_sqlite, .fini = teardown_sqlite);
TestSuite(admin_keys_pg, .init = setup_pg, .fini = teardown_pg, .timeout = 30);

/* The same body on SQLite (admin_keys) and PostgreSQL (admin_keys_pg). */
#define BOTH(name)                                                                                 \
    static void body_##name(void);                                                                 \
    Test(admin_keys, name)                                                                         \
    {                                                                                              \
        body_##name();                                                                             \
    }                                                                                              \
    Test(admin_keys_pg, name)                                                                      \
    {                                                                                              \
        body_##name();                                                                             \
    }                                                                                              \
    static void body_##name(void)

/* Runs the route (method, path) of admin_key_routes with `in` as the body (POST) or the query
 * string (GET), checks the status, returns the parsed body (caller frees); *inv gets the
 * invalidated hashes when given. */
static cJSON *call(const char *method, const char *path, const char *in, int status,
                   store_strlist_t *inv)
{
    const admin_route_t *route = NULL;
    for (const admin_route_t *r = admin_key_routes; r->path && !route; r++)
        if (strcmp(r->method, method) == 0 && strcmp(r->path, path) == 0)
            route = r;
    cr_assert_not_null(route, "%s %s", method, path);
    bool get = strcmp(method, "GET") == 0;
    admin_call_t c = {.method = method,
                      .path = path,
                      .query = get ? in : "",
                      .query_len = get ? strlen(in) : 0,
                      .body = get ? "" : in,
                      .body_len = get ? 0 : strlen(in)};
    admin_result_t r;
    admin_result_init(&r);
    route->fn(&adm, &c, &r);
    cr_assert_not_null(r.body);
    cr_assert_eq(r.status, status, "%s %s: status %d, want %d: %s", method, path, r.status, status,
                 r.body);
    cJSON *doc = cJSON_Parse(r.body);
    cr_assert_not_null(doc, "not JSON: %s", r.body);
    if (inv) {
        *inv = r.invalidated;
        r.invalidated = (store_strlist_t){0};
    }
    admin_result_free(&r);
    return doc;
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
    static char out[512];
    sdb_res_t *r = sdb_query(adm.db, sql, (const char *[]){param}, param ? 1 : 0);
    cr_assert_not_null(r, "%s: %s", sql, sdb_errmsg(adm.db));
    cr_assert_eq(sdb_res_rows(r), 1, "%s", sql);
    const char *v = sdb_res_get(r, 0, 0);
    snprintf(out, sizeof out, "%s", v ? v : "(null)");
    sdb_res_free(r);
    return out;
}

static const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    cr_assert(cJSON_IsString(v), "%s is not a string", name);
    return v->valuestring;
}

static double num_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    cr_assert(cJSON_IsNumber(v), "%s is not a number", name);
    return v->valuedouble;
}

static void hash_of(const char *key, char out[65])
{
    auth_hash_t h;
    cr_assert_eq(auth_key_hash(str_cstr(key), &h), 0);
    auth_hash_hex(&h, out);
}

static void expect_error(const cJSON *doc, const char *type, const char *needle)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
    cr_assert(cJSON_IsObject(e));
    cr_expect_str_eq(str_of(e, "type"), type);
    cr_expect_not_null(strstr(str_of(e, "message"), needle), "message: %s", str_of(e, "message"));
    cr_expect(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "code")));
    cr_expect(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "param")));
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
    r = call(INFO, body, 404, NULL);
    expect_error(r, "not_found_error", "Key not found");
    cJSON_Delete(r);
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
    r = call(GENERATE, "{\"key\":\"sk-short\"}", 400, NULL);
    expect_error(r, "bad_request_error", "at least 16");
    cJSON_Delete(r);
    r = call(GENERATE, "{\"key\":\"my-custom-key-000000002\"}", 400, NULL);
    expect_error(r, "bad_request_error", "sk-");
    cJSON_Delete(r);
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
    r = call(GENERATE, "{\"duration\":\"2 hours\"}", 400, NULL);
    expect_error(r, "bad_request_error", "duration");
    cJSON_Delete(r);
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
