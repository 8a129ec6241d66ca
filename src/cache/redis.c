/* SPDX-License-Identifier: MIT
 * The Redis back end of the response cache: one thread, its libuv loop and one hiredis
 * connection. Workers hand it GETs and SETs through a lock-free stack and a uv_async; a GET is
 * answered into the worker's inbox with the value, or as a miss when Redis is down or has not
 * answered within the lookup timeout (a late reply is then dropped). Values are LiteLLM's
 * `{"timestamp": <epoch>, "response": <body>}` text, written with SET key value PX ttl. */
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "core/common.h"
#include "core/log.h"
#include "limits/limits.h"

#define RECONNECT_MS 1000
#define TRIP_AFTER 5 /* timeouts in a row that drop the connection */

struct cache_redis_inbox {
    _Atomic(cache_redis_op_t *) head;
    pthread_mutex_t lock; /* guards wake against the worker closing it */
    uv_async_t *wake;
};

/* A command sent to Redis; the op is detached when it times out. */
typedef struct pending {
    struct pending *prev, *next;
    cache_redis_op_t *op; /* NULL: already answered (timed out) */
    uint64_t deadline;
} pending_t;

struct cache_redis {
    char *host, *username, *password;
    int port, db;
    unsigned timeout_ms;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t submit;
    uv_timer_t timer; /* deadlines, every ms while a GET waits; reconnects */
    uv_timer_t retry;
    _Atomic(cache_redis_op_t *) queue;
    atomic_bool stopping;
    redisAsyncContext *ac;
    bool up;
    int timeouts_in_row;
    pending_t *head, *tail; /* GETs in flight, oldest first */
    int max_inboxes;
    cache_redis_inbox_t inboxes[];
};

void cache_redis_op_free(cache_redis_op_t *op)
{
    if (op) {
        free(op->value);
        free(op);
    }
}

static void op_push(_Atomic(cache_redis_op_t *) *head, cache_redis_op_t *op)
{
    cache_redis_op_t *old = atomic_load_explicit(head, memory_order_relaxed);
    do
        op->next = old;
    while (!atomic_compare_exchange_weak_explicit(head, &old, op, memory_order_release,
                                                  memory_order_relaxed));
}

/* Hands a GET's answer to its worker. */
static void answer(cache_redis_op_t *op)
{
    cache_redis_inbox_t *in = op->inbox;
    op_push(&in->head, op);
    pthread_mutex_lock(&in->lock);
    if (in->wake)
        uv_async_send(in->wake);
    pthread_mutex_unlock(&in->lock);
}

static void pending_unlink(cache_redis_t *r, pending_t *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        r->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        r->tail = p->prev;
}

static void connect_redis(cache_redis_t *r);

static void on_retry(uv_timer_t *t)
{
    connect_redis(t->data);
}

static void drop_connection(cache_redis_t *r, const char *why)
{
    if (r->up || r->ac)
        log_warn("response cache: Redis %s:%d %s; lookups are misses until it is back", r->host,
                 r->port, why);
    r->up = false;
    if (r->ac) {
        redisAsyncContext *ac = r->ac;
        r->ac = NULL;
        redisAsyncFree(ac); /* replies come back NULL: the GETs become misses */
    }
    if (!atomic_load(&r->stopping))
        uv_timer_start(&r->retry, on_retry, RECONNECT_MS, 0);
}

static void on_get(redisAsyncContext *ac, void *reply, void *privdata)
{
    cache_redis_t *r = ac->data;
    pending_t *p = privdata;
    redisReply *rep = reply;
    cache_redis_op_t *op = p->op;
    if (op) {
        pending_unlink(r, p);
        if (rep && rep->type == REDIS_REPLY_STRING && !atomic_load(&r->stopping)) {
            op->value = malloc(rep->len + 1);
            if (op->value) {
                memcpy(op->value, rep->str, rep->len);
                op->value[rep->len] = 0;
                op->value_n = rep->len;
                op->hit = true;
            }
        }
        if (rep)
            r->timeouts_in_row = 0;
        if (atomic_load(&r->stopping))
            cache_redis_op_free(op);
        else
            answer(op);
    }
    free(p);
}

static void on_checked(redisAsyncContext *ac, void *reply, void *privdata)
{
    cache_redis_t *r = ac->data;
    redisReply *rep = reply;
    if (rep && rep->type == REDIS_REPLY_ERROR && ac == r->ac) {
        log_warn("response cache: Redis %s: %s", (const char *)privdata, rep->str);
        r->ac = NULL;
        r->up = false;
        redisAsyncDisconnect(ac);
        if (!atomic_load(&r->stopping))
            uv_timer_start(&r->retry, on_retry, RECONNECT_MS, 0);
    }
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    cache_redis_t *r = ac->data;
    if (ac != r->ac)
        return;
    if (status != REDIS_OK) {
        r->ac = NULL; /* hiredis frees it */
        r->up = false;
        if (!atomic_load(&r->stopping))
            uv_timer_start(&r->retry, on_retry, RECONNECT_MS, 0);
        return;
    }
    r->up = true;
    r->timeouts_in_row = 0;
    log_info("response cache: Redis %s:%d connected", r->host, r->port);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    cache_redis_t *r = ac->data;
    if (ac != r->ac)
        return;
    r->ac = NULL;
    r->up = false;
    if (!atomic_load(&r->stopping)) {
        log_warn("response cache: Redis %s:%d closed the connection; reconnecting", r->host,
                 r->port);
        uv_timer_start(&r->retry, on_retry, RECONNECT_MS, 0);
    }
}

static void connect_redis(cache_redis_t *r)
{
    if (r->ac || atomic_load(&r->stopping))
        return;
    redisAsyncContext *ac = redisAsyncConnect(r->host, r->port);
    if (!ac || ac->err || lim_redis_uv_attach(ac, &r->loop) != REDIS_OK) {
        if (ac)
            redisAsyncFree(ac);
        uv_timer_start(&r->retry, on_retry, RECONNECT_MS, 0);
        return;
    }
    ac->data = r;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    r->ac = ac;
    if (r->password) {
        if (r->username)
            redisAsyncCommand(ac, on_checked, "AUTH", "AUTH %s %s", r->username, r->password);
        else
            redisAsyncCommand(ac, on_checked, "AUTH", "AUTH %s", r->password);
    }
    if (r->db > 0)
        redisAsyncCommand(ac, on_checked, "SELECT", "SELECT %d", r->db);
}

static void on_timer(uv_timer_t *t)
{
    cache_redis_t *r = t->data;
    uint64_t now = uv_now(&r->loop);
    while (r->head && r->head->deadline <= now) {
        pending_t *p = r->head;
        pending_unlink(r, p);
        p->prev = p->next = NULL;
        answer(p->op); /* a miss; the reply, if any, finds p->op NULL and frees p */
        p->op = NULL;
        r->timeouts_in_row++;
    }
    if (r->timeouts_in_row >= TRIP_AFTER) {
        r->timeouts_in_row = 0;
        drop_connection(r, "is too slow");
    }
    if (!r->head)
        uv_timer_stop(t);
}

/* ---- admin commands: answered when Redis replies (or the connection goes) ---- */

static void admin_fail(cache_redis_op_t *op, const char *why)
{
    free(op->value);
    op->value = strdup(why);
    op->value_n = op->value ? strlen(op->value) : 0;
    op->hit = false;
    answer(op);
}

static void on_admin(redisAsyncContext *ac, void *reply, void *privdata)
{
    cache_redis_t *r = ac->data;
    cache_redis_op_t *op = privdata;
    redisReply *rep = reply;
    if (atomic_load(&r->stopping)) {
        cache_redis_op_free(op);
        return;
    }
    if (!rep) {
        admin_fail(op, "the connection to Redis was lost");
        return;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        admin_fail(op, rep->str ? rep->str : "Redis answered an error");
        return;
    }
    if (op->admin == CACHE_REDIS_PING && op->value && op->ttl_ms > 0) {
        /* PONG: now the test entry */
        if (redisAsyncCommand(ac, on_admin, op, "SET %s %b PX %lld", op->key, op->value,
                              op->value_n, (long long)op->ttl_ms) != REDIS_OK)
            admin_fail(op, "could not send SET to Redis");
        op->ttl_ms = 0;
        return;
    }
    free(op->value);
    op->value = NULL;
    op->value_n = 0;
    const char *text =
        rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_STATUS ? rep->str : NULL;
    char num[32];
    if (rep->type == REDIS_REPLY_INTEGER) {
        snprintf(num, sizeof num, "%lld", rep->integer);
        text = num;
    }
    if (text) {
        op->value = strdup(text);
        op->value_n = op->value ? strlen(op->value) : 0;
    }
    op->hit = true;
    answer(op);
}

static void run_admin(cache_redis_t *r, cache_redis_op_t *op)
{
    if (!r->up || !r->ac) {
        admin_fail(op, "Redis is not connected");
        return;
    }
    int rc = REDIS_ERR;
    if (op->admin == CACHE_REDIS_PING) {
        rc = redisAsyncCommand(r->ac, on_admin, op, "PING");
    } else if (op->admin == CACHE_REDIS_FLUSHALL) {
        rc = redisAsyncCommand(r->ac, on_admin, op, "FLUSHALL");
    } else if (op->admin == CACHE_REDIS_DEL) {
        size_t argc = 1;
        for (size_t i = 0; i < op->value_n; i++)
            argc += op->value[i] == 0;
        const char **argv = calloc(argc, sizeof *argv);
        size_t *lens = calloc(argc, sizeof *lens);
        if (argv && lens) {
            argv[0] = "DEL";
            lens[0] = 3;
            size_t k = 1, start = 0;
            for (size_t i = 0; i < op->value_n && k < argc; i++)
                if (op->value[i] == 0) {
                    argv[k] = op->value + start;
                    lens[k++] = i - start;
                    start = i + 1;
                }
            rc = redisAsyncCommandArgv(r->ac, on_admin, op, (int)k, argv, lens);
        }
        free(argv);
        free(lens);
    }
    if (rc != REDIS_OK)
        admin_fail(op, "could not send the command to Redis");
}

static void run_op(cache_redis_t *r, cache_redis_op_t *op)
{
    if (op->admin) {
        run_admin(r, op);
        return;
    }
    if (!op->set) {
        pending_t *p = r->up && r->ac ? calloc(1, sizeof *p) : NULL;
        if (!p) {
            answer(op); /* down: a miss now */
            return;
        }
        p->op = op;
        p->deadline = uv_now(&r->loop) + r->timeout_ms;
        if (redisAsyncCommand(r->ac, on_get, p, "GET %s", op->key) != REDIS_OK) {
            free(p);
            answer(op);
            return;
        }
        p->prev = r->tail;
        if (r->tail)
            r->tail->next = p;
        else
            r->head = p;
        r->tail = p;
        if (!uv_is_active((uv_handle_t *)&r->timer))
            uv_timer_start(&r->timer, on_timer, 1, 1);
        return;
    }
    if (r->up && r->ac)
        redisAsyncCommand(r->ac, NULL, NULL, "SET %s %b PX %lld", op->key, op->value, op->value_n,
                          (long long)op->ttl_ms);
    cache_redis_op_free(op);
}

static void on_submit(uv_async_t *a)
{
    cache_redis_t *r = a->data;
    if (atomic_load(&r->stopping)) {
        uv_close((uv_handle_t *)&r->submit, NULL);
        uv_close((uv_handle_t *)&r->timer, NULL);
        uv_close((uv_handle_t *)&r->retry, NULL);
        if (r->ac) {
            redisAsyncContext *ac = r->ac;
            r->ac = NULL;
            redisAsyncFree(ac);
        }
        while (r->head) { /* timed-out entries are not in the list */
            pending_t *p = r->head;
            pending_unlink(r, p);
            cache_redis_op_free(p->op);
            free(p);
        }
        cache_redis_op_t *op = atomic_exchange(&r->queue, NULL);
        while (op) {
            cache_redis_op_t *next = op->next;
            cache_redis_op_free(op);
            op = next;
        }
        return;
    }
    cache_redis_op_t *op = atomic_exchange_explicit(&r->queue, NULL, memory_order_acquire);
    /* the stack is newest first: run them oldest first */
    cache_redis_op_t *rev = NULL;
    while (op) {
        cache_redis_op_t *next = op->next;
        op->next = rev;
        rev = op;
        op = next;
    }
    while (rev) {
        cache_redis_op_t *next = rev->next;
        rev->next = NULL;
        run_op(r, rev);
        rev = next;
    }
}

static void thread_main(void *arg)
{
    cache_redis_t *r = arg;
    /* named, not niced: workers wait on its answers (briefly), unlike the store's batches */
    thread_name("sluice-cache");
    connect_redis(r);
    uv_run(&r->loop, UV_RUN_DEFAULT);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

cache_redis_t *cache_redis_start(const cache_redis_opts_t *opts, int max_inboxes)
{
    cache_redis_t *r = calloc(1, sizeof *r + (size_t)max_inboxes * sizeof(cache_redis_inbox_t));
    if (!r)
        return NULL;
    r->host = strdup(opts->host ? opts->host : "127.0.0.1");
    r->username = dup_or_null(opts->username);
    r->password = dup_or_null(opts->password);
    r->port = opts->port > 0 ? opts->port : 6379;
    r->db = opts->db;
    r->timeout_ms = opts->lookup_timeout_ms ? opts->lookup_timeout_ms : 5;
    r->max_inboxes = max_inboxes;
    for (int i = 0; i < max_inboxes; i++)
        pthread_mutex_init(&r->inboxes[i].lock, NULL);
    uv_loop_init(&r->loop);
    uv_async_init(&r->loop, &r->submit, on_submit);
    r->submit.data = r;
    uv_timer_init(&r->loop, &r->timer);
    r->timer.data = r;
    uv_timer_init(&r->loop, &r->retry);
    r->retry.data = r;
    if (uv_thread_create(&r->thread, thread_main, r) != 0) {
        uv_close((uv_handle_t *)&r->submit, NULL);
        uv_close((uv_handle_t *)&r->timer, NULL);
        uv_close((uv_handle_t *)&r->retry, NULL);
        uv_run(&r->loop, UV_RUN_DEFAULT);
        uv_loop_close(&r->loop);
        free(r->host);
        free(r->username);
        free(r->password);
        free(r);
        return NULL;
    }
    return r;
}

void cache_redis_stop(cache_redis_t *r)
{
    if (!r)
        return;
    atomic_store(&r->stopping, true);
    uv_async_send(&r->submit);
    uv_thread_join(&r->thread);
    uv_run(&r->loop, UV_RUN_NOWAIT); /* close callbacks */
    uv_loop_close(&r->loop);
    for (int i = 0; i < r->max_inboxes; i++) {
        cache_redis_op_t *op = atomic_exchange(&r->inboxes[i].head, NULL);
        while (op) {
            cache_redis_op_t *next = op->next;
            cache_redis_op_free(op);
            op = next;
        }
        pthread_mutex_destroy(&r->inboxes[i].lock);
    }
    free(r->host);
    free(r->username);
    free(r->password);
    free(r);
}

cache_redis_inbox_t *cache_redis_inbox_open(cache_redis_t *r, int index, uv_async_t *wake)
{
    if (index < 0 || index >= r->max_inboxes)
        return NULL;
    cache_redis_inbox_t *in = &r->inboxes[index];
    pthread_mutex_lock(&in->lock);
    in->wake = wake;
    pthread_mutex_unlock(&in->lock);
    return in;
}

void cache_redis_inbox_close(cache_redis_inbox_t *in)
{
    pthread_mutex_lock(&in->lock);
    in->wake = NULL;
    pthread_mutex_unlock(&in->lock);
}

cache_redis_op_t *cache_redis_inbox_take(cache_redis_inbox_t *in)
{
    return atomic_exchange_explicit(&in->head, NULL, memory_order_acquire);
}

static void submit(cache_redis_t *r, cache_redis_op_t *op)
{
    op_push(&r->queue, op);
    uv_async_send(&r->submit);
}

int cache_redis_get(cache_redis_t *r, cache_redis_inbox_t *in, const char *key, void *user)
{
    cache_redis_op_t *op = calloc(1, sizeof *op);
    if (!op)
        return -1;
    snprintf(op->key, sizeof op->key, "%s", key);
    op->inbox = in;
    op->user = user;
    submit(r, op);
    return 0;
}

void cache_redis_set(cache_redis_t *r, const char *key, const char *value, size_t n, int64_t ttl_ms)
{
    cache_redis_op_t *op = calloc(1, sizeof *op);
    if (!op || ttl_ms <= 0)
        goto fail;
    op->value = malloc(n ? n : 1);
    if (!op->value)
        goto fail;
    memcpy(op->value, value, n);
    op->value_n = n;
    op->set = true;
    op->ttl_ms = ttl_ms;
    snprintf(op->key, sizeof op->key, "%s", key);
    submit(r, op);
    return;
fail:
    cache_redis_op_free(op);
}

int cache_redis_admin(cache_redis_t *r, cache_redis_inbox_t *in, int admin, const char *key,
                      const char *value, size_t n, int64_t ttl_ms, void *user)
{
    cache_redis_op_t *op = calloc(1, sizeof *op);
    if (!op)
        return -1;
    if (value) {
        op->value = malloc(n ? n : 1);
        if (!op->value) {
            free(op);
            return -1;
        }
        memcpy(op->value, value, n);
        op->value_n = n;
    }
    op->admin = admin;
    op->ttl_ms = ttl_ms;
    snprintf(op->key, sizeof op->key, "%s", key ? key : "");
    op->inbox = in;
    op->user = user;
    submit(r, op);
    return 0;
}

const char *cache_redis_host(const cache_redis_t *r)
{
    return r->host;
}

int cache_redis_port(const cache_redis_t *r)
{
    return r->port;
}
