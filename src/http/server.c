/* SPDX-License-Identifier: MIT
 * The per-worker HTTP/1.1 server: accepts on a SO_REUSEPORT socket, reads and parses requests
 * (one at a time per connection; pipelined ones wait their turn), hands each to the handler and
 * writes its response, whole or chunked. It knows nothing about LLMs. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/common.h"
#include "core/log.h"
#include "http/http.h"

#define READ_CHUNK 4096
#define PENDING_MAX (64 * 1024) /* pipelined bytes buffered while a request is handled */
#define LINGER_MS 2000

enum conn_state {
    CONN_IDLE,     /* between requests */
    CONN_HEAD,     /* reading a head */
    CONN_BODY,     /* reading a body */
    CONN_HANDLING, /* the handler owns req */
    CONN_LINGER,   /* response sent, write side shut, draining what the client still sends */
    CONN_CLOSED,
};

struct http_server {
    uv_loop_t *loop;
    /* the parser's header slots: a complete head's headers are copied into its request's arena,
     * so connections carry none between requests */
    http_header_t header_slots[HTTP_MAX_HEADERS];
    uv_tcp_t listener;
    http_server_config_t cfg;
    http_conn_t *conns;
    size_t num_conns;
    size_t active;
    uint64_t next_id;
    bool shutting_down;
    bool listener_closed;
    uv_timer_t drain_timer;
    bool drain_timer_on;
    uv_check_t flush_check; /* after each round of I/O, writes what streams produced */
    http_conn_t *flush_list;
    int handles_closing;
    void (*done)(void *arg);
    void *done_arg;
};

struct http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    http_server_t *srv;
    http_conn_t *prev, *next;
    enum conn_state state;
    buf_t rbuf;     /* the request being read, and what follows it */
    buf_t pending;  /* bytes read while a request is being handled */
    buf_t head_out; /* response head being written; reused */
    buf_t out;      /* stream bytes not yet written: flushed once per loop iteration */
    http_conn_t *next_flush;
    bool flush_pending;
    const char *head_base; /* rbuf.p when the head was parsed: slices point there */
    size_t last_len;       /* parser resume point */
    size_t head_len;       /* length of the current head */
    size_t body_end;       /* chunked: end of decoded body in rbuf */
    size_t req_end;        /* offset in rbuf where the next request starts */
    http_chunked_t chunked;
    size_t write_queued; /* bytes handed to uv_write and not yet completed */
    int handles_open;    /* tcp and timer; the conn is freed when both are closed */
    bool reading;
    bool close_after; /* close once the current response is out */
    bool client_gone; /* the handler still owns req, but nobody listens */
    bool in_process;
    bool sent_continue;
    http_req_t req;
};

typedef struct {
    uv_write_t w;
    http_conn_t *conn;
    size_t n;
    char data[];
} write_req_t;

static void conn_process(http_conn_t *c);
static void conn_close(http_conn_t *c);
static void conn_start_reading(http_conn_t *c);
static void server_maybe_done(http_server_t *srv);
static void on_conn_timer(uv_timer_t *t);

static void on_shutdown_done(uv_shutdown_t *s, int status)
{
    free(s);
}

/* Half-closes the connection once every queued byte is out: the client sees the end. */
static void conn_shutdown_write(http_conn_t *c)
{
    uv_shutdown_t *s = malloc(sizeof *s);
    if (s && uv_shutdown(s, (uv_stream_t *)&c->tcp, on_shutdown_done) != 0)
        free(s);
}

/* ---- small helpers ---------------------------------------------------------------------- */

const char *http_status_text(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 402:
        return "Payment Required";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 499:
        return "Client Closed Request";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
    }
}

/* The Date header value, formatted at most once a second per thread. */
static const char *http_date_now(void)
{
    static __thread time_t last;
    static __thread char text[64];
    time_t now = time(NULL);
    if (now != last) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        last = now;
    }
    return text;
}

/* ---- writing ---------------------------------------------------------------------------- */

static void on_write_done(uv_write_t *w, int status)
{
    write_req_t *wr = CONTAINER_OF(w, write_req_t, w);
    http_conn_t *c = wr->conn;
    c->write_queued -= wr->n;
    free(wr);
    if (status < 0 && c->state != CONN_CLOSED) {
        log_debug("http: write failed: %s", uv_strerror(status));
        conn_close(c);
        return;
    }
    if (c->write_queued == 0 && c->state == CONN_HANDLING && c->req.on_drain) {
        void (*drain)(http_req_t *) = c->req.on_drain;
        c->req.on_drain = NULL; /* one call per pause */
        drain(&c->req);
        return;
    }
    if (c->write_queued == 0 && c->state == CONN_LINGER)
        conn_shutdown_write(c);
}

/* Writes the iovecs in order: at once when the socket takes them, else queued as one copy. */
static int conn_write(http_conn_t *c, uv_buf_t *bufs, unsigned nbufs)
{
    if (c->state == CONN_CLOSED || c->client_gone)
        return -1;
    size_t total = 0;
    for (unsigned i = 0; i < nbufs; i++)
        total += bufs[i].len;
    size_t done = 0;
    if (c->write_queued == 0) {
        int r = uv_try_write((uv_stream_t *)&c->tcp, bufs, nbufs);
        if (r >= 0)
            done = (size_t)r;
        else if (r != UV_EAGAIN && r != UV_ENOSYS) {
            log_debug("http: write failed: %s", uv_strerror(r));
            return -1;
        }
    }
    if (done == total)
        return 0;
    size_t rest = total - done;
    write_req_t *wr = malloc(sizeof *wr + rest);
    if (!wr)
        return -1;
    wr->conn = c;
    wr->n = rest;
    size_t skip = done, off = 0;
    for (unsigned i = 0; i < nbufs; i++) {
        size_t len = bufs[i].len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        memcpy(wr->data + off, bufs[i].base + skip, len - skip);
        off += len - skip;
        skip = 0;
    }
    uv_buf_t b = uv_buf_init(wr->data, (unsigned)rest);
    int r = uv_write(&wr->w, (uv_stream_t *)&c->tcp, &b, 1, on_write_done);
    if (r < 0) {
        free(wr);
        return -1;
    }
    c->write_queued += rest;
    return 0;
}

/* Writes a complete, connection-closing error answer from the server itself. */
static void conn_fail(http_conn_t *c, int status, const char *message)
{
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"error\":{\"message\":\"%s\",\"type\":\"invalid_request_error\","
                     "\"param\":null,\"code\":\"%d\"}}",
                     message, status);
    char head[256];
    int h = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n"
                     "content-length: %d\r\nconnection: close\r\n\r\n",
                     status, http_status_text(status), n);
    uv_buf_t bufs[2] = {uv_buf_init(head, (unsigned)h), uv_buf_init(body, (unsigned)n)};
    conn_write(c, bufs, 2);
    c->close_after = true;
    c->state = CONN_LINGER;
    uv_timer_stop(&c->timer);
    if (c->write_queued == 0)
        conn_shutdown_write(c);
    uv_timer_start(&c->timer, on_conn_timer, LINGER_MS, 0);
    conn_start_reading(c); /* read and discard until the client closes or the linger ends */
}

/* ---- responses -------------------------------------------------------------------------- */

void http_resp_header(http_req_t *req, str_t name, str_t value)
{
    buf_t *b = &req->resp_head;
    if (!b->p)
        buf_pool_take(b);
    buf_append_str(b, name);
    buf_append(b, ": ", 2);
    buf_append_str(b, value);
    buf_append(b, "\r\n", 2);
}

void http_resp_header_cstr(http_req_t *req, const char *name, const char *value)
{
    http_resp_header(req, str_cstr(name), str_cstr(value));
}

/* Builds the status line, our headers and the handler's headers into `out`. */
static void resp_build_head(http_req_t *req, buf_t *out, int status, const char *content_type,
                            long long content_length)
{
    http_conn_t *c = req->conn;
    bool closing = c->close_after || !req->head.keep_alive || c->srv->shutting_down;
    if (closing)
        c->close_after = true;
    /* no printf here: this runs for every response */
    buf_reserve(out, 256 + req->resp_head.n);
    buf_append(out, "HTTP/1.1 ", 9);
    buf_append_u64(out, (unsigned)status);
    buf_append(out, " ", 1);
    buf_append_cstr(out, http_status_text(status));
    buf_append(out, "\r\ndate: ", 8);
    buf_append_cstr(out, http_date_now());
    buf_append(out, "\r\n", 2);
    if (content_type) {
        buf_append(out, "content-type: ", 14);
        buf_append_cstr(out, content_type);
        buf_append(out, "\r\n", 2);
    }
    if (content_length >= 0) {
        buf_append(out, "content-length: ", 16);
        buf_append_u64(out, (unsigned long long)content_length);
        buf_append(out, "\r\n", 2);
    } else if (req->head.minor_version >= 1)
        buf_append_cstr(out, "transfer-encoding: chunked\r\n");
    else
        c->close_after = true; /* HTTP/1.0: the end of a stream is the end of the connection */
    if (c->close_after)
        buf_append_cstr(out, "connection: close\r\n");
    else if (req->head.minor_version == 0)
        buf_append_cstr(out, "connection: keep-alive\r\n");
    buf_append(out, req->resp_head.p, req->resp_head.n);
    buf_append(out, "\r\n", 2);
}

static void req_finish(http_req_t *req);

/* Runs the handler's on_end hook, once. */
static void req_end_hook(http_req_t *req)
{
    if (req->on_end) {
        void (*end_fn)(http_req_t *) = req->on_end;
        req->on_end = NULL;
        end_fn(req);
    }
}

void http_resp_send(http_req_t *req, int status, const char *content_type, const char *body,
                    size_t n)
{
    http_conn_t *c = req->conn;
    req->status = status;
    buf_t *head = &c->head_out;
    buf_pool_take(head);
    head->n = 0;
    resp_build_head(req, head, status, content_type, (long long)n);
    bool head_only = str_eq_cstr(req->head.method, "HEAD");
    uv_buf_t bufs[2] = {uv_buf_init(head->p, (unsigned)head->n),
                        uv_buf_init((char *)body, head_only ? 0 : (unsigned)n)};
    req_end_hook(req); /* before the client can read the answer and call again */
    if (!c->client_gone)
        conn_write(c, bufs, n && !head_only ? 2 : 1);
    buf_pool_give(head); /* conn_write copied what the socket did not take */
    req_finish(req);
}

/* Writes what a stream has produced so far. */
static void conn_out_flush(http_conn_t *c)
{
    if (!c->out.n)
        return;
    if (!c->client_gone && c->state != CONN_CLOSED) {
        uv_buf_t b = uv_buf_init(c->out.p, (unsigned)c->out.n);
        conn_write(c, &b, 1);
    }
    c->out.n = 0;
}

static void on_flush_check(uv_check_t *h)
{
    http_server_t *srv = h->data;
    while (srv->flush_list) {
        http_conn_t *c = srv->flush_list;
        srv->flush_list = c->next_flush;
        c->flush_pending = false;
        if (c->state != CONN_CLOSED)
            conn_out_flush(c);
    }
    uv_check_stop(h);
}

/* Stream bytes are corked until the loop has handled this round of I/O, so a provider's reads
 * that arrive together (the last events and the end of a stream, say) leave in one write. */
static void conn_schedule_flush(http_conn_t *c)
{
    if (c->flush_pending)
        return;
    http_server_t *srv = c->srv;
    c->flush_pending = true;
    c->next_flush = srv->flush_list;
    if (!srv->flush_list)
        uv_check_start(&srv->flush_check, on_flush_check);
    srv->flush_list = c;
}

void http_resp_stream_start(http_req_t *req, int status, const char *content_type)
{
    http_conn_t *c = req->conn;
    req->status = status;
    req->streaming = true;
    if (c->client_gone)
        return;
    buf_pool_take(&c->out);
    resp_build_head(req, &c->out, status, content_type, -1);
    conn_schedule_flush(c);
}

#define STREAM_CORK_MAX (64 * 1024)

ssize_t http_resp_stream_write(http_req_t *req, const char *p, size_t n)
{
    http_conn_t *c = req->conn;
    if (c->client_gone || c->state == CONN_CLOSED)
        return -1;
    if (n == 0)
        return (ssize_t)(c->write_queued + c->out.n);
    buf_pool_take(&c->out);
    if (req->head.minor_version == 0) {
        if (buf_append(&c->out, p, n) < 0)
            return -1;
    } else {
        char size[24];
        size_t k = 0;
        for (size_t v = n; v; v >>= 4)
            k++;
        for (size_t i = 0, v = n; i < k; i++, v >>= 4)
            size[k - 1 - i] = "0123456789abcdef"[v & 15];
        size[k++] = '\r';
        size[k++] = '\n';
        if (buf_reserve(&c->out, k + n + 2) < 0)
            return -1;
        buf_append(&c->out, size, k);
        buf_append(&c->out, p, n);
        buf_append(&c->out, "\r\n", 2);
    }
    if (c->out.n >= STREAM_CORK_MAX)
        conn_out_flush(c);
    else
        conn_schedule_flush(c);
    return (ssize_t)(c->write_queued + c->out.n);
}

void http_resp_stream_end(http_req_t *req)
{
    http_conn_t *c = req->conn;
    if (!c->client_gone && req->head.minor_version >= 1) {
        buf_pool_take(&c->out);
        buf_append(&c->out, "0\r\n\r\n", 5);
    }
    req_end_hook(req); /* before the client can read the end and call again */
    conn_out_flush(c);
    req_finish(req);
}

void http_req_drop(http_req_t *req)
{
    conn_out_flush(req->conn); /* what the handler wrote goes out; nothing more */
    req->conn->close_after = true;
    req->conn->client_gone = true;
    req_finish(req);
}

/* The response is complete: release the request, then close or go on with the next one. */
static void req_finish(http_req_t *req)
{
    http_conn_t *c = req->conn;
    http_server_t *srv = c->srv;
    req_end_hook(req);
    arena_reset(&req->arena);
    buf_pool_give(&req->resp_head);
    conn_out_flush(c);
    buf_pool_give(&c->out);
    req->on_abort = NULL;
    req->on_drain = NULL;
    req->user = NULL;
    req->caller = NULL;
    req->streaming = false;
    srv->active--;
    if (c->client_gone || c->close_after || srv->shutting_down) {
        bool gone = c->client_gone;
        c->state = CONN_LINGER;
        if (gone) {
            conn_close(c);
        } else {
            /* a graceful close: let queued bytes out, then FIN, then wait briefly for the peer */
            if (c->write_queued == 0)
                conn_shutdown_write(c);
            uv_timer_start(&c->timer, on_conn_timer, LINGER_MS, 0);
            conn_start_reading(c);
        }
        server_maybe_done(srv);
        return;
    }
    /* keep the bytes after this request (pipelining), plus what arrived meanwhile */
    buf_consume(&c->rbuf, c->req_end);
    if (c->pending.n) {
        buf_append(&c->rbuf, c->pending.p, c->pending.n);
        c->pending.n = 0;
    }
    c->state = CONN_IDLE;
    c->last_len = 0;
    conn_start_reading(c);
    if (!c->in_process)
        conn_process(c);
}

/* ---- reading ---------------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    http_conn_t *c = h->data;
    buf_t *b = c->state == CONN_HANDLING ? &c->pending : &c->rbuf;
    if (!b->p && buf_pool_take(b) < 0) {
        *out = uv_buf_init(NULL, 0);
        return;
    }
    if (b->cap - b->n < READ_CHUNK / 2 && buf_reserve(b, READ_CHUNK) < 0) {
        *out = uv_buf_init(NULL, 0);
        return;
    }
    if (b->cap == 0 && buf_reserve(b, READ_CHUNK) < 0) {
        *out = uv_buf_init(NULL, 0);
        return;
    }
    *out = uv_buf_init(b->p + b->n, (unsigned)(b->cap - b->n));
}

/* The client went away: abort what the handler is doing for it, and close. */
static void conn_client_gone(http_conn_t *c)
{
    if (c->state == CONN_HANDLING) {
        c->client_gone = true;
        if (c->req.on_abort) {
            void (*abort_fn)(http_req_t *) = c->req.on_abort;
            c->req.on_abort = NULL;
            abort_fn(&c->req);
            /* the handler has let go of req; finish it for it */
            if (c->state == CONN_HANDLING)
                req_finish(&c->req);
        }
        /* without on_abort, the handler finishes the request later; writes are dropped */
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
        return;
    }
    conn_close(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    http_conn_t *c = s->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        if (nread != UV_EOF && nread != UV_ECONNRESET)
            log_debug("http: read failed: %s", uv_strerror((int)nread));
        conn_client_gone(c);
        return;
    }
    switch (c->state) {
    case CONN_LINGER:
        c->rbuf.n = 0; /* discard */
        return;
    case CONN_HANDLING:
        c->pending.n += (size_t)nread;
        if (c->pending.n >= PENDING_MAX) {
            uv_read_stop(s); /* back-pressure: resume after the response */
            c->reading = false;
        }
        return;
    case CONN_CLOSED:
        return;
    default:
        c->rbuf.n += (size_t)nread;
        conn_process(c);
    }
}

static void conn_start_reading(http_conn_t *c)
{
    if (!c->reading && c->state != CONN_CLOSED) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
            c->reading = true;
    }
}

/* Moves a slice that pointed into [from, from + n) to the same offset from `to` (the buffer was
 * reallocated: `from` is only compared, never read). */
static void slice_rebase(str_t *s, const char *from, const char *to, size_t n)
{
    uintptr_t p = (uintptr_t)s->p, f = (uintptr_t)from;
    if (s->p && p >= f && p <= f + n)
        s->p = to + (p - f);
}

static void head_rebase(http_head_t *h, const char *from, const char *to, size_t n)
{
    slice_rebase(&h->method, from, to, n);
    slice_rebase(&h->target, from, to, n);
    slice_rebase(&h->path, from, to, n);
    slice_rebase(&h->query, from, to, n);
    for (size_t i = 0; i < h->num_headers; i++) {
        slice_rebase(&h->headers[i].name, from, to, n);
        slice_rebase(&h->headers[i].value, from, to, n);
    }
}

static void conn_dispatch(http_conn_t *c)
{
    http_server_t *srv = c->srv;
    http_req_t *req = &c->req;
    uv_timer_stop(&c->timer);
    if (c->rbuf.p != c->head_base) /* the buffer grew for the body: re-point the head's slices */
        head_rebase(&req->head, c->head_base, c->rbuf.p, c->head_len);
    c->state = CONN_HANDLING;
    req->start_ns = uv_hrtime();
    req->id = ++srv->next_id;
    req->status = 0;
    srv->active++;
    srv->cfg.handler(req);
}

/* Parses what is in rbuf and dispatches complete requests, one at a time. */
static void conn_process(http_conn_t *c)
{
    http_server_t *srv = c->srv;
    c->in_process = true;
    for (;;) {
        if (c->state == CONN_IDLE || c->state == CONN_HEAD) {
            if (c->rbuf.n == 0) {
                c->state = CONN_IDLE;
                /* an idle connection holds no buffer: 1,000 idle clients cost < 1 KB each */
                buf_pool_give(&c->rbuf);
                buf_pool_give(&c->pending);
                if (srv->shutting_down) {
                    c->in_process = false;
                    conn_close(c);
                    return;
                }
                uv_timer_start(&c->timer, on_conn_timer, srv->cfg.idle_timeout_ms, 0);
                break;
            }
            if (c->state == CONN_IDLE) {
                c->state = CONN_HEAD;
                uv_timer_start(&c->timer, on_conn_timer, srv->cfg.header_timeout_ms, 0);
            }
            c->req.head.headers = srv->header_slots;
            int r = http_parse_request(c->rbuf.p, c->rbuf.n, c->last_len, &c->req.head);
            if (r == HTTP_PARSE_INCOMPLETE) {
                if (c->rbuf.n > srv->cfg.max_header_bytes)
                    conn_fail(c, 431, "Request header fields too large");
                c->last_len = c->rbuf.n;
                break;
            }
            if (r == HTTP_PARSE_TOO_MANY_HEADERS ||
                (r > 0 && (size_t)r > srv->cfg.max_header_bytes)) {
                conn_fail(c, 431, "Request header fields too large");
                break;
            }
            if (r < 0) {
                conn_fail(c, 400, "Malformed HTTP request");
                break;
            }
            http_head_t *h = &c->req.head;
            if (h->num_headers) { /* the slots are the server's: the request gets its own */
                http_header_t *own = arena_alloc(&c->req.arena, h->num_headers * sizeof *own);
                if (!own) {
                    conn_fail(c, 503, "Out of memory");
                    break;
                }
                memcpy(own, h->headers, h->num_headers * sizeof *own);
                h->headers = own;
            }
            c->head_len = (size_t)r;
            c->head_base = c->rbuf.p;
            if (h->content_length > 0 && (uint64_t)h->content_length > srv->cfg.max_body_bytes) {
                conn_fail(c, 413, "Request body too large");
                break;
            }
            c->state = CONN_BODY;
            c->sent_continue = false;
            if (h->chunked) {
                memset(&c->chunked, 0, sizeof c->chunked);
                c->body_end = c->head_len;
            }
            uv_timer_start(&c->timer, on_conn_timer, srv->cfg.body_timeout_ms, 0);
        }
        if (c->state == CONN_BODY) {
            http_head_t *h = &c->req.head;
            if (h->chunked) {
                size_t len = c->rbuf.n - c->body_end;
                ssize_t r = http_chunked_decode(&c->chunked, c->rbuf.p + c->body_end, &len);
                c->body_end += len;
                if (r == HTTP_PARSE_INVALID) {
                    conn_fail(c, 400, "Malformed chunked request body");
                    break;
                }
                if (c->body_end - c->head_len > srv->cfg.max_body_bytes) {
                    conn_fail(c, 413, "Request body too large");
                    break;
                }
                if (r == HTTP_PARSE_INCOMPLETE) {
                    c->rbuf.n = c->body_end;
                    if (h->expect_continue && !c->sent_continue) {
                        uv_buf_t b = uv_buf_init("HTTP/1.1 100 Continue\r\n\r\n", 25);
                        conn_write(c, &b, 1);
                        c->sent_continue = true;
                    }
                    uv_timer_start(&c->timer, on_conn_timer, srv->cfg.body_timeout_ms, 0);
                    break;
                }
                c->rbuf.n = c->body_end + (size_t)r;
                c->req.body = str_make(c->rbuf.p + c->head_len, c->body_end - c->head_len);
                c->req_end = c->body_end;
            } else {
                size_t need = c->head_len + (size_t)(h->content_length > 0 ? h->content_length : 0);
                if (c->rbuf.n < need) {
                    if (buf_reserve(&c->rbuf, need - c->rbuf.n) < 0) {
                        conn_fail(c, 413, "Request body too large");
                        break;
                    }
                    if (h->expect_continue && !c->sent_continue) {
                        uv_buf_t b = uv_buf_init("HTTP/1.1 100 Continue\r\n\r\n", 25);
                        conn_write(c, &b, 1);
                        c->sent_continue = true;
                    }
                    uv_timer_start(&c->timer, on_conn_timer, srv->cfg.body_timeout_ms, 0);
                    break;
                }
                c->req.body = str_make(c->rbuf.p + c->head_len, need - c->head_len);
                c->req_end = need;
            }
            if (srv->shutting_down)
                c->close_after = true;
            conn_dispatch(c);
            if (c->state == CONN_HANDLING)
                break; /* the handler answers later */
            continue;  /* answered synchronously: go on with pipelined bytes */
        }
        break;
    }
    c->in_process = false;
}

/* ---- connections ------------------------------------------------------------------------ */

static void on_conn_handle_closed(uv_handle_t *h)
{
    http_conn_t *c = h->data;
    if (--c->handles_open > 0)
        return;
    http_server_t *srv = c->srv;
    srv->num_conns--;
    buf_pool_give(&c->rbuf);
    buf_pool_give(&c->pending);
    buf_pool_give(&c->req.resp_head);
    buf_pool_give(&c->head_out);
    buf_pool_give(&c->out);
    arena_reset(&c->req.arena);
    free(c);
    server_maybe_done(srv);
}

static void conn_close(http_conn_t *c)
{
    if (c->state == CONN_CLOSED)
        return;
    http_server_t *srv = c->srv;
    if (c->state == CONN_HANDLING) {
        /* closing under a live request: the handler lets go first (see conn_client_gone) */
        if (!c->client_gone)
            conn_client_gone(c);
        return;
    }
    c->state = CONN_CLOSED;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static void on_conn_timer(uv_timer_t *t)
{
    http_conn_t *c = t->data;
    if (c->state == CONN_HEAD && c->rbuf.n > 0)
        log_debug("http: closing a connection that sent an incomplete head in time");
    conn_close(c);
}

static void on_accept(uv_stream_t *listener, int status)
{
    http_server_t *srv = listener->data;
    if (status < 0) {
        log_warn("http: accept failed: %s", uv_strerror(status));
        return;
    }
    http_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->srv = srv;
    srv->num_conns++; /* counted until its handles are closed */
    uv_tcp_init(srv->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        c->handles_open = 1;
        c->state = CONN_CLOSED;
        uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
        return;
    }
    uv_timer_init(srv->loop, &c->timer);
    c->timer.data = c;
    c->handles_open = 2;
    uv_tcp_nodelay(&c->tcp, 1);
    c->req.conn = c;
    c->req.loop = srv->loop;
    c->req.server_data = srv->cfg.data;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    c->state = CONN_IDLE;
    uv_timer_start(&c->timer, on_conn_timer, srv->cfg.idle_timeout_ms, 0);
    conn_start_reading(c);
}

/* ---- the server ------------------------------------------------------------------------- */

static int listen_socket_opts(const char *host, int port, bool reuseport);

static int listen_socket(const char *host, int port)
{
    return listen_socket_opts(host, port, true);
}

int http_port_check(const char *host, int port)
{
    int fd = listen_socket_opts(host, port, false);
    if (fd < 0)
        return -EADDRINUSE;
    close(fd);
    return 0;
}

static int listen_socket_opts(const char *host, int port, bool reuseport)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int r = getaddrinfo(host, portstr, &hints, &res);
    if (r != 0) {
        log_error("http: cannot resolve %s: %s", host, gai_strerror(r));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
        bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
        log_error("http: cannot listen on %s:%d: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

static void on_failed_listener_closed(uv_handle_t *h)
{
    free(h->data);
}

http_server_t *http_server_new(uv_loop_t *loop, const http_server_config_t *config)
{
    http_server_t *srv = xcalloc(1, sizeof *srv);
    srv->loop = loop;
    srv->cfg = *config;
    if (!srv->cfg.max_header_bytes)
        srv->cfg.max_header_bytes = 64 * 1024;
    if (!srv->cfg.max_body_bytes)
        srv->cfg.max_body_bytes = 32u * 1024 * 1024;
    if (!srv->cfg.header_timeout_ms)
        srv->cfg.header_timeout_ms = 30000;
    if (!srv->cfg.idle_timeout_ms)
        srv->cfg.idle_timeout_ms = 75000;
    if (!srv->cfg.body_timeout_ms)
        srv->cfg.body_timeout_ms = 60000;
    int fd = listen_socket(config->host, config->port);
    if (fd < 0) {
        free(srv);
        return NULL;
    }
    uv_tcp_init(loop, &srv->listener);
    srv->listener.data = srv;
    int r = uv_tcp_open(&srv->listener, fd);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&srv->listener, 4096, on_accept);
    if (r != 0) {
        log_error("http: cannot listen on %s:%d: %s", config->host, config->port, uv_strerror(r));
        /* the handle owns fd now; free the server once libuv lets go of it */
        srv->shutting_down = true;
        uv_close((uv_handle_t *)&srv->listener, on_failed_listener_closed);
        return NULL;
    }
    uv_timer_init(loop, &srv->drain_timer);
    srv->drain_timer.data = srv;
    uv_check_init(loop, &srv->flush_check);
    srv->flush_check.data = srv;
    return srv;
}

size_t http_server_active(const http_server_t *srv)
{
    return srv->active;
}

static void on_server_handle_closed(uv_handle_t *h)
{
    http_server_t *srv = h->data;
    if (h == (uv_handle_t *)&srv->listener) {
        srv->listener_closed = true;
        server_maybe_done(srv);
        return;
    }
    /* the drain timer and the flush check close last */
    if (--srv->handles_closing > 0)
        return;
    void (*done)(void *) = srv->done;
    void *arg = srv->done_arg;
    free(srv);
    if (done)
        done(arg);
}

static void server_maybe_done(http_server_t *srv)
{
    if (!srv->shutting_down || !srv->listener_closed || srv->num_conns > 0 || !srv->drain_timer_on)
        return;
    srv->drain_timer_on = false;
    uv_timer_stop(&srv->drain_timer);
    srv->handles_closing = 2;
    uv_close((uv_handle_t *)&srv->drain_timer, on_server_handle_closed);
    uv_close((uv_handle_t *)&srv->flush_check, on_server_handle_closed);
}

static void on_drain_deadline(uv_timer_t *t)
{
    http_server_t *srv = t->data;
    if (srv->num_conns)
        log_warn("http: drain deadline reached; closing %zu connections", srv->num_conns);
    for (http_conn_t *c = srv->conns, *next; c; c = next) {
        next = c->next;
        conn_close(c);
    }
}

void http_server_shutdown(http_server_t *srv, uint64_t drain_ms, void (*done)(void *arg), void *arg)
{
    if (srv->shutting_down)
        return;
    srv->shutting_down = true;
    srv->done = done;
    srv->done_arg = arg;
    uv_close((uv_handle_t *)&srv->listener, on_server_handle_closed);
    for (http_conn_t *c = srv->conns, *next; c; c = next) {
        next = c->next;
        if (c->state == CONN_IDLE)
            conn_close(c);
        else
            c->close_after = true;
    }
    srv->drain_timer_on = true;
    uv_timer_start(&srv->drain_timer, on_drain_deadline, drain_ms ? drain_ms : 1, 0);
    server_maybe_done(srv);
}
