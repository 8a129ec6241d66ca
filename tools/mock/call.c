/* SPDX-License-Identifier: MIT
 * Timed delivery of a planned response: the waits (delay-ms, latency or slow-head, ttft,
 * chunk delay) as uv timers on the request's loop, then the answer, a stream of frames, or a
 * deliberate drop. Routes decide what to say (openai.c); this file decides when, and survives
 * the client leaving at any point. Calls are pooled per worker so no request mallocs. */
#include <stdio.h>
#include <stdlib.h>

#include "core/common.h"
#include "mock.h"

enum {
    MOCK_PH_DELAY = 0, /* delay-ms */
    MOCK_PH_PRE,       /* latency-ms (non-stream) or slow-head */
    MOCK_PH_ACT,       /* answer, drop, or send the stream head */
    MOCK_PH_FRAMES,    /* stream frames, timed */
    MOCK_PH_GONE,      /* the client left mid-write; waiting for on_abort */
};

/* Buffers bigger than this are freed when a call goes idle, so one large answer does not pin
 * memory in the pool forever. */
#define MOCK_KEEP_BYTES (1u << 20)
/* A stream without delays is written in slices of this size, and waits while more than
 * MOCK_QUEUE_LIMIT bytes are queued for a slow client. */
#define MOCK_SLICE_BYTES (64u << 10)
#define MOCK_QUEUE_LIMIT (1u << 20)

static void mock_call_run(mock_call_t *c);

void mock_random_alnum(mock_worker_t *w, char *out, size_t n)
{
    /* 64 symbols so each takes 6 bits; two letters appear twice, a bias no id cares about */
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789xy";
    uint64_t x = w->rng;
    for (size_t i = 0; i < n;) {
        /* xorshift64*: cheap and good enough for ids that only need to differ */
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        uint64_t r = x * 2685821657736338717ull;
        for (int k = 0; k < 10 && i < n; k++, i++, r >>= 6)
            out[i] = alnum[r & 63];
    }
    w->rng = x;
}

static void mock_call_trim(buf_t *b)
{
    if (b->cap > MOCK_KEEP_BYTES)
        buf_free(b);
    b->n = 0;
}

/* Ends the call's tenure of its request; the caller finishes the request with http_* after. */
static http_req_t *mock_call_detach(mock_call_t *c)
{
    http_req_t *req = c->req;
    uv_timer_stop(&c->timer);
    req->on_abort = NULL;
    req->user = NULL;
    c->req = NULL;
    return req;
}

/* Returns an ended call to the pool. */
static void mock_call_release(mock_call_t *c)
{
    mock_call_trim(&c->body);
    mock_call_trim(&c->prefix);
    c->next_free = c->w->free_calls;
    c->w->free_calls = c;
}

static void mock_call_on_abort(http_req_t *req)
{
    mock_call_t *c = req->user;
    if (!c)
        return;
    mock_call_detach(c);
    if (c->stream_started)
        atomic_fetch_add_explicit(&c->w->stats.streams_aborted, 1, memory_order_relaxed);
    if (c->id.n)
        mock_stats_id_end(str_make(c->id.p, c->id.n), false, true);
    mock_call_release(c);
}

static void mock_call_on_timer(uv_timer_t *t)
{
    mock_call_t *c = CONTAINER_OF(t, mock_call_t, timer);
    if (c->req)
        mock_call_run(c);
}

static void mock_call_wait(mock_call_t *c, uint64_t ms)
{
    uv_timer_start(&c->timer, mock_call_on_timer, ms, 0);
}

mock_call_t *mock_call_acquire(mock_worker_t *w, http_req_t *req)
{
    mock_call_t *c = w->free_calls;
    if (c) {
        w->free_calls = c->next_free;
    } else {
        c = xcalloc(1, sizeof *c);
        uv_timer_init(&w->loop, &c->timer);
        c->w = w;
        c->next_all = w->all_calls;
        w->all_calls = c;
    }
    c->req = req;
    c->next_free = NULL;
    c->action = MOCK_ACT_SEND;
    c->status = 200;
    c->content_type = "application/json";
    c->delay_ms = c->pre_ms = 0;
    c->body.n = 0;
    c->frame = NULL;
    c->drop_after = 0;
    c->timing = (mock_timing_t){0};
    c->kind = 0;
    c->tool = c->include_usage = false;
    c->prompt_tokens = 0;
    c->model.n = c->tool_name.n = c->prefix.n = c->id.n = 0;
    c->object_id[0] = c->call_id[0] = '\0';
    c->phase = MOCK_PH_DELAY;
    c->next_frame = 0;
    c->frame_due = c->stream_started = false;
    memcpy(c->request_id, "req_", 4);
    mock_random_alnum(w, c->request_id + 4, 32);
    c->request_id[36] = '\0';
    req->user = c;
    req->on_abort = mock_call_on_abort;
    return c;
}

/* x-request-id and openai-processing-ms, on every answer as OpenAI sends them. */
static void mock_call_head(mock_call_t *c)
{
    http_req_t *req = c->req;
    char digits[24];
    buf_t ms = {digits, 0, sizeof digits}; /* stack storage; 20 digits always fit */
    mock_append_u64(&ms, (uv_hrtime() - req->start_ns) / 1000000);
    http_resp_header(req, STR_LIT("x-request-id"), str_make(c->request_id, 36));
    http_resp_header(req, STR_LIT("openai-processing-ms"), str_make(ms.p, ms.n));
}

static void mock_call_send(mock_call_t *c)
{
    mock_call_head(c);
    bool ok = c->status >= 200 && c->status < 300;
    if (c->id.n)
        mock_stats_id_end(str_make(c->id.p, c->id.n), ok, false);
    http_req_t *req = mock_call_detach(c);
    /* the call goes back to the pool only after the send: a pipelined request handled from
     * inside http_resp_send must not get this call while its body is still being sent */
    http_resp_send(req, c->status, c->content_type, c->body.p, c->body.n);
    mock_call_release(c);
}

static void mock_call_drop(mock_call_t *c)
{
    if (c->id.n)
        mock_stats_id_end(str_make(c->id.p, c->id.n), false, false);
    http_req_t *req = mock_call_detach(c);
    http_req_drop(req);
    mock_call_release(c);
}

/* Writes out to the client: bytes still queued for it, or -1 when the client is gone; the
 * call then waits for on_abort (this server never calls it from inside a write). */
static ssize_t mock_call_write(mock_call_t *c, buf_t *out)
{
    if (out->n == 0)
        return 0;
    ssize_t r = http_resp_stream_write(c->req, out->p, out->n);
    out->n = 0;
    if (r < 0 && c->req) {
        uv_timer_stop(&c->timer);
        c->phase = MOCK_PH_GONE;
    }
    return r;
}

/* Sends every frame that is due now in one write, then waits for the next or ends. A long
 * answer without delays goes out in slices, pausing while the client lags, so neither this
 * buffer nor the server's queue holds the whole of it. */
static void mock_call_frames(mock_call_t *c)
{
    buf_t *out = &c->w->scratch;
    if (out->cap > MOCK_KEEP_BYTES)
        buf_free(out);
    out->n = 0;
    /* a zero-length write asks how much is still queued: a lagging client is waited for */
    ssize_t queued = http_resp_stream_write(c->req, NULL, 0);
    if (queued >= (ssize_t)MOCK_QUEUE_LIMIT) {
        mock_call_wait(c, 1); /* the server has no drain callback: poll */
        return;
    }
    for (;;) {
        if (c->drop_after && c->next_frame >= c->drop_after) {
            if (mock_call_write(c, out) >= 0)
                mock_call_drop(c);
            return;
        }
        size_t mark = out->n;
        uint64_t delay = 0;
        if (!c->frame(c, c->next_frame, out, &delay)) {
            if (mock_call_write(c, out) < 0)
                return;
            atomic_fetch_add_explicit(&c->w->stats.streams_completed, 1, memory_order_relaxed);
            if (c->id.n)
                mock_stats_id_end(str_make(c->id.p, c->id.n), true, false);
            http_req_t *req = mock_call_detach(c);
            http_resp_stream_end(req);
            mock_call_release(c);
            return;
        }
        if (delay && !c->frame_due) {
            out->n = mark; /* not yet: it is rebuilt when its timer fires */
            if (mock_call_write(c, out) < 0)
                return;
            c->frame_due = true;
            mock_call_wait(c, delay);
            return;
        }
        c->frame_due = false;
        c->next_frame++;
        if (out->n >= MOCK_SLICE_BYTES) {
            queued = mock_call_write(c, out);
            if (queued < 0)
                return;
            if (queued >= (ssize_t)MOCK_QUEUE_LIMIT) {
                mock_call_wait(c, 1);
                return;
            }
        }
    }
}

static void mock_call_run(mock_call_t *c)
{
    switch (c->phase) {
    case MOCK_PH_DELAY:
        c->phase = MOCK_PH_PRE;
        if (c->delay_ms) {
            mock_call_wait(c, c->delay_ms);
            return;
        }
        /* fall through */
    case MOCK_PH_PRE:
        c->phase = MOCK_PH_ACT;
        if (c->pre_ms) {
            mock_call_wait(c, c->pre_ms);
            return;
        }
        /* fall through */
    case MOCK_PH_ACT:
        switch (c->action) {
        case MOCK_ACT_SEND:
            mock_call_send(c);
            return;
        case MOCK_ACT_DROP:
            mock_call_drop(c);
            return;
        case MOCK_ACT_PARTIAL: {
            mock_call_head(c);
            http_resp_stream_start(c->req, c->status, c->content_type);
            buf_t *out = &c->w->scratch;
            out->n = 0;
            buf_append(out, c->body.p, c->body.n / 2);
            if (mock_call_write(c, out) >= 0)
                mock_call_drop(c);
            return;
        }
        case MOCK_ACT_STREAM:
            mock_call_head(c);
            http_resp_header(c->req, STR_LIT("cache-control"), STR_LIT("no-cache"));
            http_resp_stream_start(c->req, c->status, c->content_type);
            c->stream_started = true;
            atomic_fetch_add_explicit(&c->w->stats.streams_started, 1, memory_order_relaxed);
            c->phase = MOCK_PH_FRAMES;
            mock_call_frames(c);
            return;
        }
        return;
    case MOCK_PH_FRAMES:
        mock_call_frames(c);
        return;
    default:
        return;
    }
}

void mock_call_start(mock_call_t *c)
{
    mock_call_run(c);
}

void mock_call_close_all(mock_worker_t *w)
{
    for (mock_call_t *c = w->all_calls; c; c = c->next_all)
        uv_close((uv_handle_t *)&c->timer, NULL);
}

void mock_call_free_all(mock_worker_t *w)
{
    mock_call_t *c = w->all_calls;
    while (c) {
        mock_call_t *next = c->next_all;
        buf_free(&c->body);
        buf_free(&c->model);
        buf_free(&c->tool_name);
        buf_free(&c->prefix);
        buf_free(&c->id);
        free(c);
        c = next;
    }
    w->all_calls = w->free_calls = NULL;
}
