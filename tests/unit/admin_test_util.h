/* SPDX-License-Identifier: MIT
 * What the tests of the management handlers share (test_admin_keys.c, test_admin_teams.c,
 * test_admin_misc.c): a fresh database per test, a SQLite file in a temporary directory or a new
 * database on the PostgreSQL of pg_harness, so one test body runs on both; a route run the way
 * the control plane runs it; JSON members and single cells read with assertions. */
#ifndef SLUICE_TESTS_ADMIN_TEST_UTIL_H
#define SLUICE_TESTS_ADMIN_TEST_UTIL_H

#include <criterion/criterion.h>
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "admin/admin.h"

/* The handle the calls of the running test use (adm.db, adm.cfg); owned by the suite's init and
 * fini below. */
extern admin_t adm;
/* The SQLite file of the running test; "" on PostgreSQL. */
extern char admin_test_dbpath[128];

/* A new SQLite database in a new directory "<prefix>-XXXXXX" (prefix "/tmp/sluice-admin"). */
void admin_test_open_sqlite(const char *prefix);
/* Closes it and removes the directory. */
void admin_test_close_sqlite(void);
/* A new database named after the running test on pg_harness's PostgreSQL. */
void admin_test_open_pg(void);
void admin_test_close_pg(void);

/* One test body run on SQLite (suite `suite`) and on PostgreSQL (suite `suite`_pg). */
#define ADMIN_TEST_BOTH(suite, name)                                                               \
    static void body_##name(void);                                                                 \
    Test(suite, name)                                                                              \
    {                                                                                              \
        body_##name();                                                                             \
    }                                                                                              \
    Test(suite##_pg, name)                                                                         \
    {                                                                                              \
        body_##name();                                                                             \
    }                                                                                              \
    static void body_##name(void)

/* What admin_test_call asserts of the hashes a call made stale when the test does not take them. */
typedef enum {
    ADMIN_TEST_STALE_ANY,           /* nothing */
    ADMIN_TEST_STALE_NONE_ON_ERROR, /* none when the status is not 200 */
    ADMIN_TEST_STALE_NONE,          /* none */
} admin_test_stale_t;

/* Runs (method, path), found by admin_route_find, with `in` as the body, or as the query string
 * of a GET. The result is the caller's (admin_result_free). */
admin_result_t admin_test_run(const char *method, const char *path, const char *in);
/* admin_test_run, asserting the status; returns the parsed body (the caller's). *inv gets the
 * hashes the call made stale when given, else `stale` says what they must be. */
cJSON *admin_test_call(const char *method, const char *path, const char *in, int status,
                       store_strlist_t *inv, admin_test_stale_t stale);

/* admin_test_call for a call that must fail: asserts the status and LiteLLM's error envelope of
 * `type` whose message holds needle (expect_error). */
void admin_test_call_error(const char *method, const char *path, const char *in, int status,
                           admin_test_stale_t stale, const char *type, const char *needle);

/* The first cell of sql run with p1 and p2 (NULL: fewer parameters) as text, "(null)" for SQL
 * NULL and "(none)" when there is no row; with one_row, asserts there is exactly one row. A
 * static buffer. */
const char *admin_test_cell(const char *sql, const char *p1, const char *p2, bool one_row);

/* Member `name` of o; asserts it is there (member), and of the type (str_of, num_of). */
const cJSON *member(const cJSON *o, const char *name);
const char *str_of(const cJSON *o, const char *name);
double num_of(const cJSON *o, const char *name);
bool is_null(const cJSON *o, const char *name);
/* Whether the list holds s. */
bool inv_has(const store_strlist_t *l, const char *s);
/* The token (sha256 hex) of a key. */
void hash_of(const char *key, char out[65]);
/* doc is LiteLLM's error envelope of `type` whose message holds needle; code and param are
 * strings. */
void expect_error(const cJSON *doc, const char *type, const char *needle);

#endif
