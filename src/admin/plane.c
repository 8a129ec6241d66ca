/* SPDX-License-Identifier: MIT
 * The control-plane thread and the hand-off between it and the workers. A worker copies the
 * management call (method, path, query, body) into one job and queues it; the thread runs the
 * handler against its own database connection and queues the job back to the worker's mailbox,
 * whose uv_async wakes the worker to send the answer. The queues see a few calls per second at
 * most, so a mutex each is the simple right answer; the data plane never takes them. */
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "admin/plane.h"
#include "core/common.h"
#include "core/log.h"
#include "store/sdb.h"

typedef struct job {
    struct job *next;
    admin_mailbox_t *mb;
    http_req_t *req; /* touched only on the worker's loop */
    bool cancelled;  /* the client went away (worker's loop only) */
    admin_call_t call;
    admin_result_t res;
    char data[]; /* method, path, query, body, each NUL-terminated */
} job_t;

struct admin_mailbox {
    uv_async_t async;
    uv_mutex_t lock;
    job_t *head, **tail; /* replies, in order */
    size_t inflight;     /* jobs out with the control plane */
    bool closing;        /* no more wake-ups: the handle is being closed */
    bool handle_closed;
};

struct admin_plane {
    admin_plane_opts_t opts;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t wake;
    uv_mutex_t lock;
    job_t *head, **tail;
    bool stopping;
    _Atomic bool db_ok; /* the last open succeeded (readiness) */
    admin_t admin;
    char *sqlite_path, *pg_conninfo;
    /* store_model_in_db (opts.publish_models) */
    uv_timer_t models_timer;
    unsigned char models_digest[32]; /* SHA-256 of the models last taken, as JSON text */
    uint64_t models_retry_ms;        /* after a failed read: the wait before the next; 0 if none */
};

/* ---- mailbox (worker side) --------------------------------------------------------------------
 */

static void mailbox_maybe_free(admin_mailbox_t *m)
{
    /* called with the lock held; frees when nothing can touch the mailbox any more */
    bool done = m->handle_closed && m->inflight == 0;
    uv_mutex_unlock(&m->lock);
    if (done) {
        uv_mutex_destroy(&m->lock);
        free(m);
    }
}

static void job_free(job_t *j)
{
    admin_result_free(&j->res);
    free(j);
}

static void on_job_abort(http_req_t *req)
{
    job_t *j = req->user;
    j->cancelled = true;
    j->req = NULL;
}

static void send_reply(job_t *j)
{
    http_req_t *req = j->req;
    req->on_abort = NULL;
    req->user = NULL;
    const char *body = j->res.body ? j->res.body : "";
    http_resp_send(req, j->res.status ? j->res.status : 500, "application/json", body,
                   strlen(body));
}

static void on_mailbox(uv_async_t *a)
{
    admin_mailbox_t *m = a->data;
    uv_mutex_lock(&m->lock);
    job_t *list = m->head;
    m->head = NULL;
    m->tail = &m->head;
    uv_mutex_unlock(&m->lock);
    while (list) {
        job_t *j = list;
        list = j->next;
        if (!j->cancelled)
            send_reply(j);
        job_free(j);
    }
}

admin_mailbox_t *admin_mailbox_new(uv_loop_t *loop)
{
    admin_mailbox_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    uv_mutex_init(&m->lock);
    m->tail = &m->head;
    uv_async_init(loop, &m->async, on_mailbox);
    m->async.data = m;
    return m;
}

static void on_mailbox_closed(uv_handle_t *h)
{
    admin_mailbox_t *m = h->data;
    uv_mutex_lock(&m->lock);
    m->handle_closed = true;
    /* replies that arrived too late: their requests are gone with the worker */
    job_t *list = m->head;
    m->head = NULL;
    m->tail = &m->head;
    mailbox_maybe_free(m);
    while (list) {
        job_t *j = list;
        list = j->next;
        job_free(j);
    }
}

void admin_mailbox_close(admin_mailbox_t *m)
{
    if (!m)
        return;
    uv_mutex_lock(&m->lock);
    m->closing = true;
    uv_mutex_unlock(&m->lock);
    uv_close((uv_handle_t *)&m->async, on_mailbox_closed);
}

/* From the control-plane thread: the job goes back to its worker. */
static void mailbox_post(job_t *j)
{
    admin_mailbox_t *m = j->mb;
    uv_mutex_lock(&m->lock);
    m->inflight--;
    if (m->closing) {
        mailbox_maybe_free(m);
        job_free(j);
        return;
    }
    j->next = NULL;
    *m->tail = j;
    m->tail = &j->next;
    uv_async_send(&m->async);
    uv_mutex_unlock(&m->lock);
}

/* ---- the thread ------------------------------------------------------------------------------ */

static int open_db(admin_plane_t *p)
{
    if (p->admin.db)
        return 0;
    char *err = NULL;
    p->admin.db =
        p->pg_conninfo ? sdb_open_pg(p->pg_conninfo, &err) : sdb_open_sqlite(p->sqlite_path, &err);
    if (!p->admin.db) {
        log_warn("control plane: cannot open the database: %s", err ? err : "?");
        free(err);
        atomic_store(&p->db_ok, false);
        return -1;
    }
    atomic_store(&p->db_ok, true);
    return 0;
}

bool admin_plane_db_ok(admin_plane_t *p)
{
    return p && atomic_load(&p->db_ok);
}

/* Drops the keys a call made stale here, and tells other instances. */
static void announce_invalidated(admin_plane_t *p, const store_strlist_t *tokens)
{
    for (size_t i = 0; i < tokens->n; i++) {
        auth_hash_t h;
        if (p->opts.keys && auth_hash_from_hex(str_cstr(tokens->v[i]), &h) == 0)
            auth_cache_invalidate(p->opts.keys, &h);
        if (p->admin.db && sdb_dialect(p->admin.db) == STORE_DIALECT_POSTGRES) {
            const char *params[1] = {tokens->v[i]};
            if (sdb_exec(p->admin.db, "SELECT pg_notify('sluice_key_events', $1)", params, 1) < 0)
                log_warn("control plane: NOTIFY failed: %s", sdb_errmsg(p->admin.db));
        }
    }
}

/* ---- store_model_in_db ------------------------------------------------------------------------
 */

static void on_models_tick(uv_timer_t *t);

static void models_digest(const char *text, unsigned char out[32])
{
    unsigned int n = 32;
    if (EVP_Digest(text, strlen(text), out, &n, EVP_sha256(), NULL) != 1)
        memset(out, 0, 32); /* never equal to a real digest: the models are offered again */
}

/* Reads the models table and offers it to the data plane when it changed since the last one
 * taken. A failed read is tried again after 1 s, 2 s, ... up to the poll interval. */
static void models_reload(admin_plane_t *p)
{
    char *err = NULL, *text = NULL;
    cJSON *models = NULL;
    if (open_db(p) != 0) {
        err = strdup("the database cannot be opened");
        goto retry;
    }
    if (!(models = admin_models_load(&p->admin, &err)) ||
        !(text = cJSON_PrintUnformatted(models))) {
        if (!err)
            err = strdup("out of memory");
        goto retry;
    }
    unsigned char digest[32];
    models_digest(text, digest);
    if (memcmp(digest, p->models_digest, sizeof digest) != 0) {
        if (p->opts.publish_models(p->opts.publish_arg, models) != 0) {
            err = strdup("the data plane did not take them");
            goto retry;
        }
        memcpy(p->models_digest, digest, sizeof digest);
    }
    if (p->models_retry_ms) {
        log_info("control plane: models read from the database again");
        p->models_retry_ms = 0;
        uv_timer_start(&p->models_timer, on_models_tick, ADMIN_MODELS_POLL_MS,
                       ADMIN_MODELS_POLL_MS);
    }
    goto done;
retry:
    if (!p->models_retry_ms)
        log_warn("control plane: cannot read LiteLLM_ProxyModelTable (%s); the models in use "
                 "stay until it can be read",
                 err ? err : "?");
    p->models_retry_ms = p->models_retry_ms ? p->models_retry_ms * 2 : 1000;
    if (p->models_retry_ms > ADMIN_MODELS_POLL_MS)
        p->models_retry_ms = ADMIN_MODELS_POLL_MS;
    uv_timer_start(&p->models_timer, on_models_tick, p->models_retry_ms, ADMIN_MODELS_POLL_MS);
done:
    free(err);
    free(text);
    cJSON_Delete(models);
}

static void on_models_tick(uv_timer_t *t)
{
    admin_plane_t *p = t->data;
    uv_mutex_lock(&p->lock);
    bool stopping = p->stopping;
    uv_mutex_unlock(&p->lock);
    if (!stopping)
        models_reload(p);
}

static void run_job(admin_plane_t *p, job_t *j)
{
    admin_result_init(&j->res);
    bool known = false;
    const admin_route_t *r = admin_route_find(j->call.method, strlen(j->call.method), j->call.path,
                                              strlen(j->call.path), &known);
    if (!r) {
        j->res.status = known ? 405 : 404;
        j->res.body =
            strdup(known ? "{\"detail\":\"Method Not Allowed\"}" : "{\"detail\":\"Not Found\"}");
        return;
    }
    if (open_db(p) != 0) {
        admin_set_error(&j->res, 503, "service_unavailable", NULL,
                        "the database is unreachable; management calls are unavailable until "
                        "it is back");
        return;
    }
    r->fn(&p->admin, &j->call, &j->res);
    if (j->res.status == 200 && j->res.invalidated.n)
        announce_invalidated(p, &j->res.invalidated);
    if (j->res.status == 200 && j->res.models_changed && p->opts.publish_models)
        models_reload(p); /* routed before the caller hears the model was added */
}

static void on_jobs(uv_async_t *a)
{
    admin_plane_t *p = a->data;
    for (;;) {
        uv_mutex_lock(&p->lock);
        job_t *j = p->head;
        if (j) {
            p->head = j->next;
            if (!p->head)
                p->tail = &p->head;
        }
        bool stopping = p->stopping;
        uv_mutex_unlock(&p->lock);
        if (!j)
            break;
        if (stopping) {
            admin_result_init(&j->res);
            admin_set_error(&j->res, 503, "service_unavailable", NULL, "shutting down");
        } else {
            run_job(p, j);
        }
        mailbox_post(j);
    }
    if (p->stopping) {
        uv_close((uv_handle_t *)&p->wake, NULL);
        if (p->opts.publish_models && !uv_is_closing((uv_handle_t *)&p->models_timer))
            uv_close((uv_handle_t *)&p->models_timer, NULL);
    }
}

static void plane_main(void *arg)
{
    thread_background("sluice-control");
    admin_plane_t *p = arg;
    /* the database is opened by the first management call (a data-plane-heavy process does not
     * carry a second connection it never uses), or at once by the first read of the models */
    if (p->opts.open_at_start)
        open_db(p);
    uv_run(&p->loop, UV_RUN_DEFAULT);
    uv_loop_close(&p->loop);
    if (p->admin.db)
        sdb_close(p->admin.db);
    p->admin.db = NULL;
}

admin_plane_t *admin_plane_start(const admin_plane_opts_t *opts, char **err)
{
    admin_plane_t *p = calloc(1, sizeof *p);
    if (!p)
        goto fail;
    p->opts = *opts;
    p->admin.cfg = opts->cfg;
    p->sqlite_path = opts->sqlite_path ? strdup(opts->sqlite_path) : NULL;
    p->pg_conninfo = opts->pg_conninfo ? strdup(opts->pg_conninfo) : NULL;
    p->tail = &p->head;
    uv_mutex_init(&p->lock);
    uv_loop_init(&p->loop);
    uv_async_init(&p->loop, &p->wake, on_jobs);
    p->wake.data = p;
    if (opts->publish_models) {
        /* the data plane starts with the config's models alone: an empty table is no change */
        models_digest("[]", p->models_digest);
        uv_timer_init(&p->loop, &p->models_timer);
        p->models_timer.data = p;
        uv_timer_start(&p->models_timer, on_models_tick, 0, ADMIN_MODELS_POLL_MS);
    }
    if (uv_thread_create(&p->thread, plane_main, p) != 0) {
        if (opts->publish_models)
            uv_close((uv_handle_t *)&p->models_timer, NULL);
        uv_close((uv_handle_t *)&p->wake, NULL);
        uv_run(&p->loop, UV_RUN_DEFAULT);
        uv_loop_close(&p->loop);
        uv_mutex_destroy(&p->lock);
        free(p->sqlite_path);
        free(p->pg_conninfo);
        free(p);
        goto fail;
    }
    return p;
fail:
    if (err)
        *err = strdup("cannot start the control-plane thread");
    return NULL;
}

void admin_plane_stop(admin_plane_t *p)
{
    if (!p)
        return;
    uv_mutex_lock(&p->lock);
    p->stopping = true;
    uv_mutex_unlock(&p->lock);
    uv_async_send(&p->wake);
    uv_thread_join(&p->thread);
    uv_mutex_destroy(&p->lock);
    free(p->sqlite_path);
    free(p->pg_conninfo);
    free(p);
}

void admin_plane_handoff(admin_plane_t *p, admin_mailbox_t *m, http_req_t *req)
{
    size_t ml = req->head.method.n, pl = req->head.path.n, ql = req->head.query.n, bl = req->body.n;
    job_t *j = malloc(sizeof *j + ml + pl + ql + bl + 4);
    if (!j) {
        static const char oom[] = "{\"error\":{\"message\":\"out of memory\",\"type\":"
                                  "\"internal_server_error\",\"param\":\"None\",\"code\":\"500\"}}";
        http_resp_send(req, 500, "application/json", oom, sizeof oom - 1);
        return;
    }
    memset(j, 0, sizeof *j);
    char *d = j->data;
    j->call.method = d;
    memcpy(d, req->head.method.p, ml);
    d[ml] = 0;
    d += ml + 1;
    j->call.path = d;
    memcpy(d, req->head.path.p, pl);
    while (pl > 1 && d[pl - 1] == '/')
        pl--; /* "/key/list/" is "/key/list" */
    d[pl] = 0;
    d += req->head.path.n + 1;
    j->call.query = d;
    j->call.query_len = ql;
    if (ql)
        memcpy(d, req->head.query.p, ql);
    d[ql] = 0;
    d += ql + 1;
    j->call.body = d;
    j->call.body_len = bl;
    if (bl)
        memcpy(d, req->body.p, bl);
    d[bl] = 0;
    j->mb = m;
    j->req = req;
    req->user = j;
    req->on_abort = on_job_abort;
    uv_mutex_lock(&m->lock);
    m->inflight++;
    uv_mutex_unlock(&m->lock);
    uv_mutex_lock(&p->lock);
    bool stopping = p->stopping;
    if (!stopping) {
        *p->tail = j;
        p->tail = &j->next;
    }
    uv_mutex_unlock(&p->lock);
    if (stopping) {
        admin_result_init(&j->res);
        admin_set_error(&j->res, 503, "service_unavailable", NULL, "shutting down");
        mailbox_post(j);
        return;
    }
    uv_async_send(&p->wake);
}
