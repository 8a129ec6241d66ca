/* SPDX-License-Identifier: MIT
 * The native outbound client: HTTP/1.1 over libuv TCP, TLS through OpenSSL memory BIOs, a
 * keep-alive pool per origin, DNS through libuv's resolver with a short cache. It exists because
 * measurement showed libcurl's per-transfer cost (option setup, header handling, epoll_ctl churn)
 * dominating the gateway's own time; see docs/benchmarks.md. libcurl remains the fallback. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/common.h"
#include "core/log.h"
#include "http/http.h"
#include "upstream/internal.h"

#define MAX_HEAD_BYTES (64 * 1024)
#define POOL_IDLE_MS 30000 /* providers drop idle connections after a minute or so */
#define POOL_MAX_IDLE 512  /* per origin */
#define DNS_TTL_MS 60000
#define TLS_READ_CHUNK (16 * 1024)

typedef struct up_origin up_origin_t;
typedef struct up_conn up_conn_t;

struct up_client {
    uv_loop_t *loop;
    upc_client_t *curl; /* the libcurl back end, when it is the one in use */
    SSL_CTX *tls;
    up_origin_t *origins;
    up_conn_t *conns; /* every open connection */
    up_req_t *free_reqs;
    size_t active;
    int refs; /* the owner, open connections, pending resolutions: freed at 0 */
    bool closing;
};

struct up_req {
    unsigned char backend; /* UP_BACKEND_H1 */
    up_client_t *client;
    up_origin_t *origin;
    up_conn_t *conn;
    up_req_t *next; /* in the origin's DNS queue, or the free list */
    up_callbacks_t cb;
    void *arg;
    buf_t head; /* the serialized request head */
    str_t body[4];
    size_t num_body;
    uint64_t deadline_ms; /* loop time; 0: none */
    uint64_t idle_ms;
    uint64_t connect_ms;
    int status;
    bool cancelled;
    bool retried;      /* once, on a stale keep-alive connection */
    bool got_response; /* any response byte arrived */
    bool paused;       /* not reading: the client is behind */
};

enum conn_state { C_CONNECTING, C_HANDSHAKE, C_ACTIVE, C_IDLE, C_CLOSED };
enum body_mode { B_HEAD, B_LENGTH, B_CHUNKED, B_CLOSE };

struct up_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t connect;
    up_client_t *client;
    up_origin_t *origin;
    up_conn_t *prev, *next;           /* client->conns */
    up_conn_t *idle_prev, *idle_next; /* origin->idle */
    up_req_t *req;
    SSL *ssl;
    BIO *rbio, *wbio;
    buf_t rbuf; /* plaintext response bytes not yet handled */
    enum conn_state state;
    enum body_mode body;
    uint64_t body_left;
    http_chunked_t chunked;
    bool keep_alive;
    bool reused;
    int handles;
    int in_callback;
};

struct up_origin {
    up_origin_t *next;
    up_client_t *client;
    char *host;      /* without brackets */
    char *authority; /* Host header value */
    int port;
    bool tls;
    struct sockaddr_storage addr;
    bool have_addr;
    bool numeric;
    uint64_t addr_expiry;
    bool resolving;
    uv_getaddrinfo_t gai;
    up_req_t *wait_head, *wait_tail;
    up_conn_t *idle;
    size_t num_idle;
    SSL_SESSION *session; /* resumed on new connections: saves a round trip and CPU */
};

static void conn_close(up_conn_t *c);
static void conn_send_request(up_conn_t *c);
static void req_dispatch(up_req_t *r, bool fresh);
static void client_unref(up_client_t *cl);

/* ---- request life ------------------------------------------------------------------------ */

static void req_free(up_req_t *r)
{
    up_client_t *cl = r->client;
    if (r->head.cap > 8192)
        buf_free(&r->head);
    r->head.n = 0;
    r->next = cl->free_reqs;
    cl->free_reqs = r;
}

/* Ends a request with an error or success; the connection was released before. */
static void req_finish(up_req_t *r, int result, const char *message)
{
    up_client_t *cl = r->client;
    cl->active--;
    up_callbacks_t cb = r->cb;
    void *arg = r->arg;
    bool cancelled = r->cancelled;
    req_free(r);
    if (!cancelled && cb.on_done)
        cb.on_done(arg, result, message);
}

/* Detaches the request from its connection, closing the connection (mid-response, unusable). */
static void req_fail(up_req_t *r, int result, const char *message)
{
    up_conn_t *c = r->conn;
    if (c) {
        c->req = NULL;
        r->conn = NULL;
        conn_close(c);
    }
    req_finish(r, result, message);
}

/* ---- writing ----------------------------------------------------------------------------- */

typedef struct {
    uv_write_t w;
    size_t n;
    char data[];
} wreq_t;

static void on_written(uv_write_t *w, int status)
{
    free(CONTAINER_OF(w, wreq_t, w));
    (void)status; /* a failed write shows up as a read error or EOF */
}

static int sock_write(up_conn_t *c, uv_buf_t *bufs, unsigned nbufs)
{
    size_t total = 0;
    for (unsigned i = 0; i < nbufs; i++)
        total += bufs[i].len;
    size_t done = 0;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) {
        int r = uv_try_write((uv_stream_t *)&c->tcp, bufs, nbufs);
        if (r >= 0)
            done = (size_t)r;
        else if (r != UV_EAGAIN)
            return r;
    }
    if (done == total)
        return 0;
    wreq_t *w = malloc(sizeof *w + (total - done));
    if (!w)
        return UV_ENOMEM;
    size_t off = 0, skip = done;
    for (unsigned i = 0; i < nbufs; i++) {
        if (skip >= bufs[i].len) {
            skip -= bufs[i].len;
            continue;
        }
        memcpy(w->data + off, bufs[i].base + skip, bufs[i].len - skip);
        off += bufs[i].len - skip;
        skip = 0;
    }
    w->n = off;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)off);
    int r = uv_write(&w->w, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    if (r < 0)
        free(w);
    return r;
}

/* Moves what OpenSSL produced to the socket. */
static int tls_flush(up_conn_t *c)
{
    char tmp[16384];
    int n;
    while ((n = BIO_read(c->wbio, tmp, sizeof tmp)) > 0) {
        uv_buf_t b = uv_buf_init(tmp, (unsigned)n);
        int r = sock_write(c, &b, 1);
        if (r < 0)
            return r;
    }
    return 0;
}

static int conn_write(up_conn_t *c, uv_buf_t *bufs, unsigned nbufs)
{
    if (!c->ssl)
        return sock_write(c, bufs, nbufs);
    for (unsigned i = 0; i < nbufs; i++)
        if (bufs[i].len && SSL_write(c->ssl, bufs[i].base, (int)bufs[i].len) <= 0)
            return UV_EIO;
    return tls_flush(c);
}

/* ---- timers ------------------------------------------------------------------------------ */

static void on_conn_timer(uv_timer_t *t)
{
    up_conn_t *c = t->data;
    up_req_t *r = c->req;
    if (c->state == C_IDLE || !r) {
        conn_close(c);
        return;
    }
    if (c->state == C_CONNECTING || c->state == C_HANDSHAKE) {
        req_fail(r, UP_ERR_TIMEOUT, "connect timeout");
        return;
    }
    bool total = r->deadline_ms && uv_now(c->client->loop) >= r->deadline_ms;
    req_fail(r, UP_ERR_TIMEOUT, total ? "request timeout" : "no data from the provider in time");
}

/* Arms the connection's timer for the request: the nearer of the deadline and the idle limit. */
static void conn_arm_request_timer(up_conn_t *c)
{
    up_req_t *r = c->req;
    uint64_t now = uv_now(c->client->loop);
    uint64_t wait = 0;
    if (r->deadline_ms)
        wait = r->deadline_ms > now ? r->deadline_ms - now : 1;
    if (r->idle_ms && !r->paused && (wait == 0 || r->idle_ms < wait))
        wait = r->idle_ms;
    if (wait)
        uv_timer_start(&c->timer, on_conn_timer, wait, 0);
    else
        uv_timer_stop(&c->timer);
}

/* ---- the pool ---------------------------------------------------------------------------- */

static void pool_remove(up_conn_t *c)
{
    up_origin_t *o = c->origin;
    if (c->idle_prev)
        c->idle_prev->idle_next = c->idle_next;
    else if (o->idle == c)
        o->idle = c->idle_next;
    else
        return; /* not in the pool */
    if (c->idle_next)
        c->idle_next->idle_prev = c->idle_prev;
    c->idle_prev = c->idle_next = NULL;
    o->num_idle--;
}

/* The response is complete: the connection goes back to the pool, or is closed. */
static void conn_release(up_conn_t *c, bool reusable)
{
    up_origin_t *o = c->origin;
    c->req = NULL;
    if (!reusable || !c->keep_alive || c->client->closing || o->num_idle >= POOL_MAX_IDLE ||
        c->rbuf.n) {
        conn_close(c);
        return;
    }
    c->state = C_IDLE;
    c->body = B_HEAD;
    if (c->rbuf.cap > 64 * 1024)
        buf_free(&c->rbuf);
    c->idle_prev = NULL;
    c->idle_next = o->idle;
    if (o->idle)
        o->idle->idle_prev = c;
    o->idle = c;
    o->num_idle++;
    uv_timer_start(&c->timer, on_conn_timer, POOL_IDLE_MS, 0);
}

/* ---- responses --------------------------------------------------------------------------- */

/* Sets the connection's body framing from a parsed head. */
static void conn_set_framing(up_conn_t *c, const http_response_head_t *h)
{
    c->keep_alive = h->keep_alive;
    if (h->status == 204 || h->status == 304 || h->status < 200) {
        c->body = B_LENGTH;
        c->body_left = 0;
    } else if (h->chunked) {
        c->body = B_CHUNKED;
        memset(&c->chunked, 0, sizeof c->chunked);
    } else if (h->content_length >= 0) {
        c->body = B_LENGTH;
        c->body_left = (uint64_t)h->content_length;
    } else {
        c->body = B_CLOSE;
        c->keep_alive = false;
    }
}

/* Calls a user callback; afterwards the caller checks r->cancelled. */
#define CALLBACK(c, call)                                                                          \
    do {                                                                                           \
        (c)->in_callback++;                                                                        \
        call;                                                                                      \
        (c)->in_callback--;                                                                        \
    } while (0)

/* Handles what is in rbuf: the head, then body bytes, as far as they go. */
static void conn_process(up_conn_t *c)
{
    for (;;) {
        up_req_t *r = c->req;
        if (!r)
            return;
        if (c->body == B_HEAD) {
            http_response_head_t head;
            int head_len = http_parse_response(c->rbuf.p, c->rbuf.n, 0, &head);
            if (head_len == HTTP_PARSE_INCOMPLETE) {
                if (c->rbuf.n > MAX_HEAD_BYTES)
                    req_fail(r, UP_ERR_IO, "response head too large");
                return;
            }
            if (head_len < 0) {
                req_fail(r, UP_ERR_IO, "malformed response from the provider");
                return;
            }
            int status = head.status;
            conn_set_framing(c, &head);
            up_header_t hs[UP_MAX_HEADERS];
            size_t nh = MIN(head.num_headers, (size_t)UP_MAX_HEADERS);
            for (size_t i = 0; i < nh; i++)
                hs[i] = (up_header_t){head.headers[i].name, head.headers[i].value};
            if (status < 200) { /* 100 Continue and friends: skip */
                buf_consume(&c->rbuf, (size_t)head_len);
                c->body = B_HEAD;
                continue;
            }
            r->status = status;
            if (r->cb.on_head)
                CALLBACK(c, r->cb.on_head(r->arg, status, hs, nh));
            buf_consume(&c->rbuf, (size_t)head_len);
            if (r->cancelled) {
                req_fail(r, UP_ERR_OTHER, "cancelled");
                return;
            }
        }
        if (c->body == B_LENGTH) {
            size_t n = (size_t)MIN((uint64_t)c->rbuf.n, c->body_left);
            if (n) {
                if (r->cb.on_data)
                    CALLBACK(c, r->cb.on_data(r->arg, c->rbuf.p, n));
                c->body_left -= n;
                buf_consume(&c->rbuf, n);
                if (r->cancelled) {
                    req_fail(r, UP_ERR_OTHER, "cancelled");
                    return;
                }
            }
            if (c->body_left)
                return;
            r->conn = NULL;
            conn_release(c, true);
            req_finish(r, UP_OK, "");
            return;
        }
        if (c->body == B_CHUNKED) {
            size_t len = c->rbuf.n;
            ssize_t left = http_chunked_decode(&c->chunked, c->rbuf.p, &len);
            if (len && r->cb.on_data)
                CALLBACK(c, r->cb.on_data(r->arg, c->rbuf.p, len));
            if (r->cancelled) {
                req_fail(r, UP_ERR_OTHER, "cancelled");
                return;
            }
            if (left == HTTP_PARSE_INVALID) {
                req_fail(r, UP_ERR_IO, "malformed chunked response from the provider");
                return;
            }
            if (left == HTTP_PARSE_INCOMPLETE) {
                c->rbuf.n = 0;
                return;
            }
            /* bytes after the end of the response: the connection is out of step; drop it */
            bool clean = left == 0;
            c->rbuf.n = 0;
            r->conn = NULL;
            conn_release(c, clean);
            req_finish(r, UP_OK, "");
            return;
        }
        /* B_CLOSE: everything until the provider closes */
        if (c->rbuf.n && r->cb.on_data)
            CALLBACK(c, r->cb.on_data(r->arg, c->rbuf.p, c->rbuf.n));
        c->rbuf.n = 0;
        if (r->cancelled)
            req_fail(r, UP_ERR_OTHER, "cancelled");
        return;
    }
}

static void conn_on_eof(up_conn_t *c, const char *why)
{
    up_req_t *r = c->req;
    if (!r) {
        conn_close(c); /* an idle connection the provider closed */
        return;
    }
    if (c->state == C_ACTIVE && c->body == B_CLOSE) {
        r->conn = NULL;
        c->req = NULL;
        conn_close(c);
        req_finish(r, UP_OK, "");
        return;
    }
    if (c->reused && !r->got_response && !r->retried) {
        /* the provider closed a pooled connection as we reused it: try once on a fresh one */
        r->retried = true;
        r->conn = NULL;
        c->req = NULL;
        conn_close(c);
        req_dispatch(r, true);
        return;
    }
    bool connecting = c->state == C_CONNECTING || c->state == C_HANDSHAKE;
    req_fail(r, connecting ? UP_ERR_CONNECT : UP_ERR_IO, why);
}

/* ---- TLS --------------------------------------------------------------------------------- */

static const char *tls_error_text(up_conn_t *c, char *out, size_t n)
{
    long v = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;
    unsigned long e = ERR_get_error();
    if (v != X509_V_OK)
        snprintf(out, n, "TLS certificate verification failed: %s",
                 X509_verify_cert_error_string(v));
    else if (e)
        snprintf(out, n, "TLS handshake failed: %s", ERR_reason_error_string(e));
    else
        snprintf(out, n, "TLS handshake failed");
    ERR_clear_error();
    return out;
}

static int tls_handshake(up_conn_t *c)
{
    int r = SSL_do_handshake(c->ssl);
    if (tls_flush(c) < 0)
        return -1;
    if (r == 1) {
        up_origin_t *o = c->origin;
        SSL_SESSION *s = SSL_get1_session(c->ssl);
        if (s) {
            if (o->session)
                SSL_SESSION_free(o->session);
            o->session = s;
        }
        c->state = C_ACTIVE;
        conn_send_request(c);
        return 0;
    }
    int err = SSL_get_error(c->ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        return 0;
    return -1;
}

/* ---- reading ----------------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    up_conn_t *c = h->data;
    if (c->ssl) {
        static __thread char tls_in[TLS_READ_CHUNK];
        *out = uv_buf_init(tls_in, sizeof tls_in);
        return;
    }
    if (buf_reserve(&c->rbuf, 8192) < 0) {
        *out = uv_buf_init(NULL, 0);
        return;
    }
    *out = uv_buf_init(c->rbuf.p + c->rbuf.n, (unsigned)(c->rbuf.cap - c->rbuf.n));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    up_conn_t *c = s->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        char why[128];
        snprintf(why, sizeof why, "connection to the provider ended: %s", uv_strerror((int)nread));
        conn_on_eof(c, why);
        return;
    }
    if (c->req)
        c->req->got_response = true;
    if (!c->ssl) {
        c->rbuf.n += (size_t)nread;
    } else {
        BIO_write(c->rbio, b->base, (int)nread);
        if (c->state == C_HANDSHAKE) {
            if (tls_handshake(c) < 0) {
                char why[256];
                if (c->req)
                    req_fail(c->req, UP_ERR_CONNECT, tls_error_text(c, why, sizeof why));
                else
                    conn_close(c);
                return;
            }
            if (c->state == C_HANDSHAKE)
                return;
        }
        for (;;) {
            if (buf_reserve(&c->rbuf, TLS_READ_CHUNK) < 0)
                break;
            int n = SSL_read(c->ssl, c->rbuf.p + c->rbuf.n, (int)(c->rbuf.cap - c->rbuf.n));
            if (n > 0) {
                c->rbuf.n += (size_t)n;
                continue;
            }
            int err = SSL_get_error(c->ssl, n);
            if (err == SSL_ERROR_ZERO_RETURN) {
                conn_process(c);
                conn_on_eof(c, "the provider closed the TLS session");
                return;
            }
            if (err != SSL_ERROR_WANT_READ) {
                char why[256];
                conn_process(c);
                conn_on_eof(c, tls_error_text(c, why, sizeof why));
                return;
            }
            break;
        }
        tls_flush(c); /* renegotiation or key updates may want to write */
    }
    if (c->state == C_IDLE) {
        conn_close(c); /* bytes on an idle connection: out of step */
        return;
    }
    if (c->req)
        conn_arm_request_timer(c);
    conn_process(c);
}

/* ---- connections ------------------------------------------------------------------------- */

static void conn_send_request(up_conn_t *c)
{
    up_req_t *r = c->req;
    uv_buf_t bufs[5];
    unsigned n = 0;
    bufs[n++] = uv_buf_init(r->head.p, (unsigned)r->head.n);
    for (size_t i = 0; i < r->num_body; i++)
        if (r->body[i].n)
            bufs[n++] = uv_buf_init((char *)r->body[i].p, (unsigned)r->body[i].n);
    c->body = B_HEAD;
    c->rbuf.n = 0;
    conn_arm_request_timer(c);
    int rc = conn_write(c, bufs, n);
    if (rc < 0) {
        if (c->reused && !r->retried) {
            r->retried = true;
            r->conn = NULL;
            c->req = NULL;
            conn_close(c);
            req_dispatch(r, true);
            return;
        }
        req_fail(r, UP_ERR_IO, "could not send the request to the provider");
    }
}

static void on_connected(uv_connect_t *cr, int status)
{
    up_conn_t *c = cr->data;
    if (c->state == C_CLOSED)
        return;
    if (status < 0) {
        char why[160];
        snprintf(why, sizeof why, "cannot connect to %s:%d: %s", c->origin->host, c->origin->port,
                 uv_strerror(status));
        if (c->req)
            req_fail(c->req, UP_ERR_CONNECT, why);
        else
            conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (!c->origin->tls) {
        c->state = C_ACTIVE;
        conn_send_request(c);
        return;
    }
    up_origin_t *o = c->origin;
    c->ssl = SSL_new(c->client->tls);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (!c->ssl || !c->rbio || !c->wbio) {
        req_fail(c->req, UP_ERR_CONNECT, "TLS set-up failed");
        return;
    }
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_connect_state(c->ssl);
    if (o->numeric) {
        /* an address: the certificate must name it as an IP SAN (no SNI for addresses) */
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), o->host);
    } else {
        SSL_set_tlsext_host_name(c->ssl, o->host);
        SSL_set1_host(c->ssl, o->host);
    }
    if (o->session)
        SSL_set_session(c->ssl, o->session);
    c->state = C_HANDSHAKE;
    if (tls_handshake(c) < 0) {
        char why[256];
        req_fail(c->req, UP_ERR_CONNECT, tls_error_text(c, why, sizeof why));
    }
}

static void on_conn_closed(uv_handle_t *h)
{
    up_conn_t *c = h->data;
    if (--c->handles > 0)
        return;
    up_client_t *cl = c->client;
    buf_free(&c->rbuf);
    free(c);
    client_unref(cl);
}

static void conn_close(up_conn_t *c)
{
    if (c->state == C_CLOSED)
        return;
    pool_remove(c);
    c->state = C_CLOSED;
    up_client_t *cl = c->client;
    if (c->prev)
        c->prev->next = c->next;
    else
        cl->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->ssl) {
        SSL_free(c->ssl); /* frees the BIOs too */
        c->ssl = NULL;
    }
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void conn_open(up_req_t *r)
{
    up_client_t *cl = r->client;
    up_origin_t *o = r->origin;
    up_conn_t *c = calloc(1, sizeof *c);
    if (!c) {
        req_finish(r, UP_ERR_OTHER, "out of memory");
        return;
    }
    c->client = cl;
    c->origin = o;
    c->req = r;
    r->conn = c;
    c->state = C_CONNECTING;
    uv_tcp_init(cl->loop, &c->tcp);
    uv_timer_init(cl->loop, &c->timer);
    c->tcp.data = c->timer.data = c->connect.data = c;
    c->handles = 2;
    cl->refs++;
    c->next = cl->conns;
    if (cl->conns)
        cl->conns->prev = c;
    cl->conns = c;
    uv_timer_start(&c->timer, on_conn_timer, r->connect_ms, 0);
    int rc = uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&o->addr, on_connected);
    if (rc < 0) {
        char why[160];
        snprintf(why, sizeof why, "cannot connect to %s:%d: %s", o->host, o->port, uv_strerror(rc));
        req_fail(r, UP_ERR_CONNECT, why);
    }
}

/* Sends the request on a pooled connection, or opens one. `fresh` skips the pool. */
static void req_start_on_origin(up_req_t *r, bool fresh)
{
    up_origin_t *o = r->origin;
    if (!fresh && o->idle) {
        up_conn_t *c = o->idle;
        pool_remove(c);
        c->req = r;
        c->reused = true;
        c->state = C_ACTIVE;
        r->conn = c;
        conn_send_request(c);
        return;
    }
    conn_open(r);
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res)
{
    up_origin_t *o = g->data;
    up_client_t *cl = o->client;
    o->resolving = false;
    if (status == 0 && res) {
        memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
        o->have_addr = true;
        o->addr_expiry = uv_now(cl->loop) + DNS_TTL_MS;
    }
    if (res)
        uv_freeaddrinfo(res);
    up_req_t *q = o->wait_head;
    o->wait_head = o->wait_tail = NULL;
    while (q) {
        up_req_t *r = q;
        q = q->next;
        r->next = NULL;
        if (r->cancelled) {
            req_finish(r, UP_ERR_OTHER, "cancelled");
        } else if (status != 0 || !o->have_addr) {
            char why[200];
            snprintf(why, sizeof why, "cannot resolve %s: %s", o->host, uv_strerror(status));
            req_finish(r, UP_ERR_CONNECT, why);
        } else {
            req_start_on_origin(r, false);
        }
    }
    client_unref(cl);
}

static void req_dispatch(up_req_t *r, bool fresh)
{
    up_origin_t *o = r->origin;
    up_client_t *cl = r->client;
    if (o->have_addr && (o->numeric || uv_now(cl->loop) < o->addr_expiry)) {
        req_start_on_origin(r, fresh);
        return;
    }
    r->next = NULL;
    if (o->wait_tail)
        o->wait_tail->next = r;
    else
        o->wait_head = r;
    o->wait_tail = r;
    if (o->resolving)
        return;
    char port[8];
    snprintf(port, sizeof port, "%d", o->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    o->gai.data = o;
    o->resolving = true;
    cl->refs++;
    int rc = uv_getaddrinfo(cl->loop, &o->gai, on_resolved, o->host, port, &hints);
    if (rc < 0)
        on_resolved(&o->gai, rc, NULL);
}

/* ---- origins and URLs -------------------------------------------------------------------- */

typedef struct {
    bool tls;
    str_t host;
    int port;
    str_t path; /* path and query, "/" when empty */
} url_t;

static int url_parse(const char *s, url_t *u)
{
    str_t in = str_cstr(s);
    if (str_case_has_prefix(in, STR_LIT("https://"))) {
        u->tls = true;
        in = str_skip(in, 8);
        u->port = 443;
    } else if (str_case_has_prefix(in, STR_LIT("http://"))) {
        u->tls = false;
        in = str_skip(in, 7);
        u->port = 80;
    } else {
        return -1;
    }
    size_t auth_end = 0;
    while (auth_end < in.n && in.p[auth_end] != '/' && in.p[auth_end] != '?')
        auth_end++;
    str_t auth = str_make(in.p, auth_end);
    u->path = auth_end < in.n ? str_skip(in, auth_end) : STR_LIT("/");
    if (memchr(auth.p, '@', auth.n))
        return -1; /* credentials in URLs: let libcurl handle those */
    if (auth.n && auth.p[0] == '[') {
        const char *rb = memchr(auth.p, ']', auth.n);
        if (!rb)
            return -1;
        u->host = str_make(auth.p + 1, (size_t)(rb - auth.p - 1));
        auth = str_skip(auth, (size_t)(rb - auth.p + 1));
        if (auth.n && auth.p[0] != ':')
            return -1;
    } else {
        const char *colon = memchr(auth.p, ':', auth.n);
        u->host = str_make(auth.p, colon ? (size_t)(colon - auth.p) : auth.n);
        auth = colon ? str_skip(auth, (size_t)(colon - auth.p)) : STR_NULL;
    }
    if (auth.n > 1) {
        long long port = str_to_ll(str_skip(auth, 1));
        if (port <= 0 || port > 65535)
            return -1;
        u->port = (int)port;
    } else if (auth.n == 1) {
        return -1;
    }
    return u->host.n ? 0 : -1;
}

static up_origin_t *origin_get(up_client_t *cl, const url_t *u)
{
    for (up_origin_t *o = cl->origins; o; o = o->next)
        if (o->tls == u->tls && o->port == u->port && str_eq_cstr(u->host, o->host))
            return o;
    up_origin_t *o = xcalloc(1, sizeof *o);
    o->client = cl;
    o->host = xstrndup(u->host.p, u->host.n);
    o->port = u->port;
    o->tls = u->tls;
    bool v6 = memchr(u->host.p, ':', u->host.n) != NULL;
    bool default_port = o->port == (o->tls ? 443 : 80);
    buf_t a = {0};
    buf_printf(&a, v6 ? "[%s]" : "%s", o->host);
    if (!default_port)
        buf_printf(&a, ":%d", o->port);
    buf_append(&a, "", 1);
    o->authority = a.p;
    if (uv_ip4_addr(o->host, o->port, (struct sockaddr_in *)&o->addr) == 0 ||
        uv_ip6_addr(o->host, o->port, (struct sockaddr_in6 *)&o->addr) == 0) {
        o->have_addr = true;
        o->numeric = true;
    }
    o->next = cl->origins;
    cl->origins = o;
    return o;
}

/* ---- the public face --------------------------------------------------------------------- */

static bool proxy_in_environment(void)
{
    static const char *const vars[] = {"https_proxy", "HTTPS_PROXY", "http_proxy",
                                       "HTTP_PROXY",  "all_proxy",   "ALL_PROXY"};
    for (size_t i = 0; i < COUNTOF(vars); i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return true;
    }
    return false;
}

up_client_t *up_client_new(uv_loop_t *loop)
{
    up_client_t *cl = xcalloc(1, sizeof *cl);
    cl->loop = loop;
    cl->refs = 1;
    const char *choice = getenv("SLUICE_UPSTREAM");
    if ((choice && strcmp(choice, "curl") == 0) || proxy_in_environment()) {
        cl->curl = upc_client_new(loop);
        if (!cl->curl) {
            free(cl);
            return NULL;
        }
        return cl;
    }
    cl->tls = SSL_CTX_new(TLS_client_method());
    if (!cl->tls) {
        free(cl);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(cl->tls, TLS1_2_VERSION);
    SSL_CTX_set_verify(cl->tls, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_default_verify_paths(cl->tls);
    SSL_CTX_set_mode(cl->tls, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(cl->tls, SSL_SESS_CACHE_CLIENT);
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(cl->tls, alpn, sizeof alpn - 1);
    return cl;
}

up_req_t *up_start(up_client_t *cl, const up_spec_t *spec, const up_callbacks_t *cb, void *arg)
{
    if (cl->curl)
        return (up_req_t *)upc_start(cl->curl, spec, cb, arg);
    if (cl->closing)
        return NULL;
    url_t u;
    if (url_parse(spec->url, &u) != 0)
        return NULL;
    up_req_t *r = cl->free_reqs;
    if (r) {
        cl->free_reqs = r->next;
    } else {
        r = calloc(1, sizeof *r);
        if (!r)
            return NULL;
        r->client = cl;
        r->backend = UP_BACKEND_H1;
    }
    r->next = NULL;
    r->conn = NULL;
    r->cb = *cb;
    r->arg = arg;
    r->status = 0;
    r->cancelled = r->retried = r->got_response = r->paused = false;
    r->origin = origin_get(cl, &u);
    r->num_body = MIN(spec->num_body, COUNTOF(r->body));
    size_t body_len = 0;
    for (size_t i = 0; i < r->num_body; i++) {
        r->body[i] = spec->body[i];
        body_len += spec->body[i].n;
    }
    uint64_t now = uv_now(cl->loop);
    r->deadline_ms = spec->timeout_ms ? now + spec->timeout_ms : 0;
    r->idle_ms = spec->idle_timeout_ms;
    r->connect_ms = spec->connect_timeout_ms ? spec->connect_timeout_ms : 10000;
    if (r->deadline_ms && r->connect_ms > spec->timeout_ms)
        r->connect_ms = spec->timeout_ms;
    const char *method = spec->method ? spec->method : "POST";
    buf_t *h = &r->head;
    h->n = 0;
    buf_append_cstr(h, method);
    buf_append(h, " ", 1);
    buf_append_str(h, u.path);
    buf_append_cstr(h, " HTTP/1.1\r\nHost: ");
    buf_append_cstr(h, r->origin->authority);
    buf_append(h, "\r\n", 2);
    bool has_ua = false;
    for (const char **line = spec->headers; line && *line; line++) {
        size_t n = strlen(*line);
        if (n && (*line)[n - 1] == ':')
            continue; /* "Name:" lines are curl's way to suppress a header */
        has_ua |= strncasecmp(*line, "user-agent:", 11) == 0;
        buf_append(h, *line, n);
        buf_append(h, "\r\n", 2);
    }
    if (!has_ua)
        buf_append_cstr(h, "User-Agent: sluice\r\n");
    if (strcmp(method, "GET") != 0 || body_len) {
        buf_append_cstr(h, "Content-Length: ");
        buf_append_u64(h, body_len);
        buf_append(h, "\r\n", 2);
    }
    if (buf_append(h, "\r\n", 2) < 0) {
        req_free(r);
        return NULL;
    }
    cl->active++;
    req_dispatch(r, false);
    return r;
}

void up_cancel(up_req_t *r)
{
    if (!r)
        return;
    if (*(unsigned char *)r == UP_BACKEND_CURL) {
        upc_cancel((upc_req_t *)r);
        return;
    }
    if (r->cancelled)
        return;
    r->cancelled = true;
    up_conn_t *c = r->conn;
    if (!c)
        return; /* waiting for DNS: on_resolved finishes it quietly */
    if (c->in_callback)
        return; /* conn_process sees the flag when the callback returns */
    req_fail(r, UP_ERR_OTHER, "cancelled");
}

void up_pause(up_req_t *r, bool paused)
{
    if (!r || *(unsigned char *)r == UP_BACKEND_CURL || r->paused == paused)
        return; /* the curl back end does not pause; its buffers are curl's */
    r->paused = paused;
    up_conn_t *c = r->conn;
    if (!c || c->state != C_ACTIVE)
        return;
    if (paused)
        uv_read_stop((uv_stream_t *)&c->tcp);
    else
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    conn_arm_request_timer(c);
}

size_t up_client_active(const up_client_t *cl)
{
    return cl->curl ? upc_client_active(cl->curl) : cl->active;
}

static void client_unref(up_client_t *cl)
{
    if (--cl->refs > 0)
        return;
    while (cl->origins) {
        up_origin_t *o = cl->origins;
        cl->origins = o->next;
        if (o->session)
            SSL_SESSION_free(o->session);
        free(o->host);
        free(o->authority);
        free(o);
    }
    while (cl->free_reqs) {
        up_req_t *r = cl->free_reqs;
        cl->free_reqs = r->next;
        buf_free(&r->head);
        free(r);
    }
    if (cl->tls)
        SSL_CTX_free(cl->tls);
    free(cl);
}

void up_client_free(up_client_t *cl)
{
    if (!cl)
        return;
    if (cl->curl) {
        upc_client_free(cl->curl);
        free(cl);
        return;
    }
    cl->closing = true;
    while (cl->conns) {
        up_conn_t *c = cl->conns;
        if (c->req) {
            up_req_t *r = c->req;
            r->cancelled = true;
            req_fail(r, UP_ERR_OTHER, "shutting down");
        } else {
            conn_close(c);
        }
    }
    for (up_origin_t *o = cl->origins; o; o = o->next)
        if (o->resolving)
            uv_cancel((uv_req_t *)&o->gai);
    client_unref(cl);
}
