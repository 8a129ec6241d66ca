/* SPDX-License-Identifier: MIT
 * admin_test_util.h: the database per test, the route runner and the assertions the admin
 * handler tests share. */
#include "admin_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/keys.h"
#include "pg_harness.h"

admin_t adm;
char admin_test_dbpath[128];

static char tmpdir[64];
static PGconn *pgc;

void admin_test_open_sqlite(const char *prefix)
{
    char *err = NULL;
    snprintf(tmpdir, sizeof tmpdir, "%s-XXXXXX", prefix);
    cr_assert_not_null(mkdtemp(tmpdir));
    snprintf(admin_test_dbpath, sizeof admin_test_dbpath, "%s/db.sqlite", tmpdir);
    adm.db = sdb_open_sqlite(admin_test_dbpath, &err);
    cr_assert_not_null(adm.db, "%s", err ? err : "");
}

void admin_test_close_sqlite(void)
{
    sdb_close(adm.db);
    adm.db = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
}

void admin_test_open_pg(void)
{
    char name[64], ci[256], *err = NULL;
    pgc = pg_harness_test_db(name);
    pg_harness_conninfo(name, ci, sizeof ci);
    adm.db = sdb_open_pg(ci, &err);
    cr_assert_not_null(adm.db, "%s", err ? err : "");
    admin_test_dbpath[0] = '\0';
}

void admin_test_close_pg(void)
{
    sdb_close(adm.db);
    adm.db = NULL;
    if (pgc)
        PQfinish(pgc);
    pgc = NULL;
}

admin_result_t admin_test_run(const char *method, const char *path, const char *in)
{
    bool known;
    const admin_route_t *route =
        admin_route_find(method, strlen(method), path, strlen(path), &known);
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
    return r;
}

cJSON *admin_test_call(const char *method, const char *path, const char *in, int status,
                       store_strlist_t *inv, admin_test_stale_t stale)
{
    admin_result_t r = admin_test_run(method, path, in);
    cr_assert_not_null(r.body);
    cr_assert_eq(r.status, status, "%s %s %s: status %d, want %d: %s", method, path, in, r.status,
                 status, r.body);
    cJSON *doc = cJSON_Parse(r.body);
    cr_assert_not_null(doc, "not JSON: %s", r.body);
    if (inv) {
        *inv = r.invalidated;
        r.invalidated = (store_strlist_t){0};
    } else if (stale == ADMIN_TEST_STALE_NONE ||
               (stale == ADMIN_TEST_STALE_NONE_ON_ERROR && status != 200)) {
        cr_expect_eq(r.invalidated.n, 0, "%s %s invalidated %zu keys", method, path,
                     r.invalidated.n);
    }
    admin_result_free(&r);
    return doc;
}

void admin_test_call_error(const char *method, const char *path, const char *in, int status,
                           admin_test_stale_t stale, const char *type, const char *needle)
{
    cJSON *r = admin_test_call(method, path, in, status, NULL, stale);
    expect_error(r, type, needle);
    cJSON_Delete(r);
}

const char *admin_test_cell(const char *sql, const char *p1, const char *p2, bool one_row)
{
    static char out[512];
    const char *params[] = {p1, p2};
    sdb_res_t *r = sdb_query(adm.db, sql, params, p2 ? 2 : p1 ? 1 : 0);
    cr_assert_not_null(r, "%s: %s", sql, sdb_errmsg(adm.db));
    if (one_row)
        cr_assert_eq(sdb_res_rows(r), 1, "%s", sql);
    const char *v = sdb_res_rows(r) ? sdb_res_get(r, 0, 0) : "(none)";
    snprintf(out, sizeof out, "%s", v ? v : "(null)");
    sdb_res_free(r);
    return out;
}

const cJSON *member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    cr_assert_not_null(v, "no member %s", name);
    return v;
}

const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *v = member(o, name);
    cr_assert(cJSON_IsString(v), "%s is not a string", name);
    return v->valuestring;
}

double num_of(const cJSON *o, const char *name)
{
    const cJSON *v = member(o, name);
    cr_assert(cJSON_IsNumber(v), "%s is not a number", name);
    return v->valuedouble;
}

bool is_null(const cJSON *o, const char *name)
{
    return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, name));
}

bool inv_has(const store_strlist_t *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

void hash_of(const char *key, char out[65])
{
    auth_hash_t h;
    cr_assert_eq(auth_key_hash(str_cstr(key), &h), 0);
    auth_hash_hex(&h, out);
}

void expect_error(const cJSON *doc, const char *type, const char *needle)
{
    const cJSON *e = member(doc, "error");
    cr_assert(cJSON_IsObject(e));
    cr_expect_str_eq(str_of(e, "type"), type);
    cr_expect_not_null(strstr(str_of(e, "message"), needle), "message: %s", str_of(e, "message"));
    cr_expect(cJSON_IsString(member(e, "code")));
    cr_expect(cJSON_IsString(member(e, "param")));
}
