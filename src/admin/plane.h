/* SPDX-License-Identifier: MIT
 * The control plane: one thread with its own loop and its own database connection, running the
 * management handlers. Workers hand management calls to it (a lock-free queue plus uv_async) and
 * get the answer back the same way, so one port serves both planes while a slow management query
 * can only slow other management calls. Keys a call made stale are dropped from the key cache
 * here, and announced to other instances (NOTIFY on PostgreSQL; SQLite readers notice the commit).
 */
#ifndef SLUICE_ADMIN_PLANE_H
#define SLUICE_ADMIN_PLANE_H

#include <cjson/cJSON.h>
#include <uv.h>

#include "auth/keys.h"
#include "config/config.h"
#include "http/http.h"

typedef struct admin_plane admin_plane_t;
typedef struct admin_mailbox admin_mailbox_t;

typedef struct {
    const cfg_t *cfg;
    const char *sqlite_path; /* used when pg_conninfo is NULL */
    const char *pg_conninfo;
    auth_cache_t *keys; /* may be NULL (--role control: no key cache in this process) */
    /* store_model_in_db: where the models of LiteLLM_ProxyModelTable go (the data plane's
     * router). Called on the control-plane thread with admin_models_load's array whenever it
     * differs from the last one taken: read when the thread starts, every
     * ADMIN_MODELS_POLL_MS, and right after a call that changed the table (before that call
     * is answered). Returns 0 when the models are in use, -1 to be offered them again at the
     * next read. NULL: models are not read. */
    int (*publish_models)(void *arg, const cJSON *models);
    void *publish_arg;
    /* Open the database when the thread starts (a process without a store thread, whose
     * readiness the control plane's connection answers), not at the first call. */
    bool open_at_start;
} admin_plane_opts_t;

/* How often the models table is read for changes made elsewhere (another instance, LiteLLM). */
#define ADMIN_MODELS_POLL_MS 30000

/* Starts the thread. The database is opened on it (by the first call, or at once when models
 * are published); while it cannot be, calls answer 503 and the thread tries again on the next
 * call. A process that serves no management routes (--role data) may run it only to publish
 * models: nothing is handed to it then. NULL when the thread cannot start. */
admin_plane_t *admin_plane_start(const admin_plane_opts_t *opts, char **err);
/* True when the control plane's last use of its database succeeded (for /health/readiness).
 * Thread-safe. */
bool admin_plane_db_ok(admin_plane_t *p);
/* Finishes the call being handled, answers the queued ones with 503, joins the thread. */
void admin_plane_stop(admin_plane_t *p);

/* A worker's return address: replies are delivered on the worker's loop. One per worker. */
admin_mailbox_t *admin_mailbox_new(uv_loop_t *loop);
/* Closes the mailbox's handle (on its loop); it frees itself once closed. */
void admin_mailbox_close(admin_mailbox_t *m);

/* Hands req to the control plane; the answer is sent on req from the worker's loop (via m). The
 * caller has authenticated the request as an admin. */
void admin_plane_handoff(admin_plane_t *p, admin_mailbox_t *m, http_req_t *req);

#endif
