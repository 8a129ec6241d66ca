/* SPDX-License-Identifier: MIT
 * admin: the control plane's management handlers. Each takes one call (method, path, query,
 * body) and the control plane's database handle, does the work synchronously (it runs on the
 * control-plane thread, where waiting on the database slows only management calls), and returns
 * the HTTP status and LiteLLM's response JSON. No HTTP and no key cache here: a mutating call
 * lists the token hashes it made stale and the caller drops them from every key cache.
 * Route tables per area (keys, teams and users, the rest); docs/admin.md. */
#ifndef SLUICE_ADMIN_ADMIN_H
#define SLUICE_ADMIN_ADMIN_H

#include <stddef.h>

#include "config/config.h"
#include "store/sdb.h"
#include "store/store.h"

/* What a handler returns. Owned by the caller: admin_result_free. */
typedef struct {
    int status;                  /* HTTP status: 200, 400, 404, 500 */
    char *body;                  /* malloc'd JSON text (never NULL after a handler returns) */
    store_strlist_t invalidated; /* token hashes (sha256 hex) to drop from every key cache */
    bool models_changed;         /* LiteLLM_ProxyModelTable was written: reload the router's */
} admin_result_t;

void admin_result_free(admin_result_t *r);

/* The control plane's state, owned by the control-plane thread. */
typedef struct {
    sdb_t *db;
    const cfg_t *cfg; /* the loaded config: config models for /model/info, the master key */
} admin_t;

/* One management call. Strings are NUL-terminated copies owned by the caller; query is the part
 * after '?' ("" when none), body the raw request body ("" for a GET). */
typedef struct {
    const char *method;
    const char *path;
    const char *query;
    size_t query_len;
    const char *body;
    size_t body_len;
} admin_call_t;

/* res is always filled, errors included, as LiteLLM's {"error": {...}} envelope. */
typedef void (*admin_handler_fn)(admin_t *a, const admin_call_t *call, admin_result_t *res);

typedef struct {
    const char *method; /* "GET", "POST", "DELETE" */
    const char *path;   /* exact: "/key/generate" */
    admin_handler_fn fn;
} admin_route_t;

/* Route tables, each ending with {NULL, NULL, NULL}. */
extern const admin_route_t admin_key_routes[];  /* keys_api.c: /key/... */
extern const admin_route_t admin_team_routes[]; /* teams_api.c: /team/..., /user/... */
extern const admin_route_t admin_misc_routes[]; /* org_api.c etc.: /customer, /organization,
                                                   /budget, /spend, /global/spend, /model */

/* The route for (method, path) across every table; *path_known says whether the path exists
 * with another method (405). NULL when none. */
const admin_route_t *admin_route_find(const char *method, size_t method_len, const char *path,
                                      size_t path_len, bool *path_known);

/* store_model_in_db: the deployments of LiteLLM_ProxyModelTable as the router loads them (as
 * LiteLLM's decrypt_model_list_from_db does): a JSON array (the caller's) of {"model_name",
 * "litellm_params" (string values decrypted when they decrypt, else as stored), "model_info"
 * (as stored, with id = the row's model_id and db_model true)}, oldest first. NULL on a database
 * error (*err gets a malloc'd message) or no memory. models_api.c */
cJSON *admin_models_load(admin_t *a, char **err);

/* ---- helpers shared by the handler files (admin/common.c) ----------------------------------- */

void admin_result_init(admin_result_t *res);
/* Serializes doc (consumed) as the body with `status`. */
void admin_set_body(admin_result_t *res, int status, cJSON *doc);
/* LiteLLM's ProxyException envelope {"error":{"message","type","param","code"}}; code the status
 * as a string, param "None" when NULL. Clears res->invalidated. */
void admin_set_error(admin_result_t *res, int status, const char *type, const char *param,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* 500 internal_server_error with the database's message. */
void admin_set_db_error(admin_result_t *res, admin_t *a);
/* The value of `name` in a query string (URL-decoded, malloc'd), or NULL when absent. */
char *admin_query_get(const char *query, size_t len, const char *name);

#endif
