/* SPDX-License-Identifier: MIT
 * admin: the control plane's management handlers as pure functions. Each takes the request body
 * (or the query string of a GET) and the store, does the operation synchronously, and returns the
 * HTTP status and LiteLLM's response JSON. No threads, no HTTP, no key cache here: a mutating call
 * lists the token hashes it invalidated and the caller pushes them to the cache. docs/admin.md. */
#ifndef SLUICE_ADMIN_ADMIN_H
#define SLUICE_ADMIN_ADMIN_H

#include <stddef.h>

#include "store/store.h"

/* What a handler returns. Owned by the caller: admin_result_free. */
typedef struct {
    int status;                  /* HTTP status: 200, 400, 404, 500 */
    char *body;                  /* malloc'd JSON text (never NULL after a handler returns) */
    store_strlist_t invalidated; /* token hashes (sha256 hex) to drop from every key cache */
} admin_result_t;

void admin_result_free(admin_result_t *r);

/* The key API's view of the store: the SQLite back end for rows, plus a second, read-only
 * connection on the same file for the queries the store does not offer yet (list with filters,
 * find by alias). Not thread-safe; the control-plane thread owns it. */
typedef struct admin_keys admin_keys_t;

/* db stays owned by the caller and must outlive the handle; path is the file db was opened on.
 * NULL on failure; *err (if given) gets a malloc'd message. */
admin_keys_t *admin_keys_open(store_sqlite_t *db, const char *path, char **err);
void admin_keys_close(admin_keys_t *a);

/* Handlers. body/query need not be NUL-terminated; query is the part after '?' (may be NULL).
 * res is always filled, errors included, as LiteLLM's {"error": {...}} envelope. */
void admin_key_generate(admin_keys_t *a, const char *body, size_t len, admin_result_t *res);
void admin_key_update(admin_keys_t *a, const char *body, size_t len, admin_result_t *res);
void admin_key_delete(admin_keys_t *a, const char *body, size_t len, admin_result_t *res);
void admin_key_block(admin_keys_t *a, const char *body, size_t len, admin_result_t *res);
void admin_key_unblock(admin_keys_t *a, const char *body, size_t len, admin_result_t *res);
void admin_key_regenerate(admin_keys_t *a, const char *body, size_t len, admin_result_t *res);
void admin_key_info(admin_keys_t *a, const char *query, size_t len, admin_result_t *res);
void admin_key_list(admin_keys_t *a, const char *query, size_t len, admin_result_t *res);

#endif
