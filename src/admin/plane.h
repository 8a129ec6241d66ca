/* SPDX-License-Identifier: MIT
 * The control plane: one thread with its own loop and its own database connection, running the
 * management handlers. Workers hand management calls to it (a lock-free queue plus uv_async) and
 * get the answer back the same way, so one port serves both planes while a slow management query
 * can only slow other management calls. Keys a call made stale are dropped from the key cache
 * here, and announced to other instances (NOTIFY on PostgreSQL; SQLite readers notice the commit).
 */
#ifndef SLUICE_ADMIN_PLANE_H
#define SLUICE_ADMIN_PLANE_H

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
} admin_plane_opts_t;

/* Starts the thread. The database is opened on it; while it cannot be, calls answer 503 and the
 * thread tries again on the next call. NULL when the thread cannot start. */
admin_plane_t *admin_plane_start(const admin_plane_opts_t *opts, char **err);
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
