/* SPDX-License-Identifier: MIT
 * hiredis on a libuv loop: the adapter hiredis 0.14 ships (adapters/libuv.h), with one change.
 * libuv reports a socket error (POLLERR: connection refused, reset) as a poll callback with status
 * UV_EBADF and stops the handle; the packaged adapter ignores such callbacks, so hiredis never
 * learns and the connection hangs until a timeout. Here an error status hands the socket to
 * hiredis, which reads the error, fails the connect or drops the connection, and calls back. */
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <uv.h>

#include "limits/internal.h"

typedef struct {
    redisAsyncContext *ac;
    uv_poll_t handle;
    int events;
} redis_uv_t;

static void on_poll(uv_poll_t *handle, int status, int events)
{
    redis_uv_t *p = handle->data;
    if (!p->ac)
        return;
    if (status < 0) {
        /* hiredis finds the error: the connect check if not connected yet, else the read */
        if (!(p->ac->c.flags & REDIS_CONNECTED))
            redisAsyncHandleWrite(p->ac);
        else
            redisAsyncHandleRead(p->ac);
        return;
    }
    if (events & UV_READABLE)
        redisAsyncHandleRead(p->ac);
    /* reading may have freed the context (cleanup clears p->ac) */
    if (p->ac && (events & UV_WRITABLE))
        redisAsyncHandleWrite(p->ac);
}

static void update(redis_uv_t *p, int events)
{
    p->events = events;
    if (events)
        uv_poll_start(&p->handle, events, on_poll);
    else
        uv_poll_stop(&p->handle);
}

static void add_read(void *data)
{
    redis_uv_t *p = data;
    update(p, p->events | UV_READABLE);
}

static void del_read(void *data)
{
    redis_uv_t *p = data;
    update(p, p->events & ~UV_READABLE);
}

static void add_write(void *data)
{
    redis_uv_t *p = data;
    update(p, p->events | UV_WRITABLE);
}

static void del_write(void *data)
{
    redis_uv_t *p = data;
    update(p, p->events & ~UV_WRITABLE);
}

static void on_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static void cleanup(void *data)
{
    redis_uv_t *p = data;
    p->ac = NULL; /* the context is being freed */
    uv_close((uv_handle_t *)&p->handle, on_closed);
}

int lim__redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    if (ac->ev.data)
        return REDIS_ERR;
    redis_uv_t *p = calloc(1, sizeof *p);
    if (!p)
        return REDIS_ERR;
    if (uv_poll_init(loop, &p->handle, ac->c.fd) != 0) {
        free(p);
        return REDIS_ERR;
    }
    p->ac = ac;
    p->handle.data = p;
    ac->ev.data = p;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    return REDIS_OK;
}

int lim_redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    return lim__redis_uv_attach(ac, loop);
}
