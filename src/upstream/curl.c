/* SPDX-License-Identifier: MIT
 * The libcurl back end (used behind proxies, or with SLUICE_UPSTREAM=curl): multi_socket_action
 * bound to a libuv loop: curl tells us which sockets to watch and when to wake it; we tell it when
 * a socket is ready. Easy handles are recycled, so the steady state allocates nothing but curl's
 * own per-transfer state. */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/common.h"
#include "core/log.h"
#include "upstream/internal.h"

typedef struct upc_socket upc_socket_t;

struct upc_client {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    upc_req_t *free_reqs;  /* recycled requests, each with its easy handle */
    upc_req_t *live;       /* requests in the multi handle */
    upc_req_t *doomed;     /* cancelled inside a curl callback; removed once curl returns */
    upc_socket_t *sockets; /* sockets curl asked us to watch */
    size_t active;
    int in_curl; /* depth of curl_multi_socket_action calls: no removal inside */
    bool closing;
};

struct upc_req {
    unsigned char backend; /* UP_BACKEND_CURL: up_cancel dispatches on it */
    upc_client_t *client;
    CURL *easy;
    upc_req_t *next_free;
    upc_req_t *prev_live, *next_live;
    upc_req_t *next_doomed;
    struct curl_slist *headers;
    up_callbacks_t cb;
    void *arg;
    str_t body[4];
    size_t num_body, body_index, body_off;
    buf_t head; /* raw header lines of the current response block */
    int status;
    bool head_done;
    bool cancelled;
    bool in_multi;
    char error[CURL_ERROR_SIZE];
};

struct upc_socket {
    uv_poll_t poll;
    curl_socket_t fd;
    upc_client_t *client;
    upc_socket_t *prev, *next;
};

static void client_check_done(upc_client_t *c);

/* ---- driving curl from the loop ---------------------------------------------------------- */

static void client_socket_action(upc_client_t *c, curl_socket_t fd, int events)
{
    int running;
    c->in_curl++;
    curl_multi_socket_action(c->multi, fd, events, &running);
    c->in_curl--;
    client_check_done(c);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    upc_socket_t *s = p->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    client_socket_action(s->client, s->fd, flags);
}

static void on_timer(uv_timer_t *t)
{
    client_socket_action(t->data, CURL_SOCKET_TIMEOUT, 0);
}

static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    upc_client_t *c = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

static void on_socket_closed(uv_handle_t *h)
{
    free(h->data);
}

static int curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    upc_client_t *c = userp;
    upc_socket_t *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            if (s->prev)
                s->prev->next = s->next;
            else
                c->sockets = s->next;
            if (s->next)
                s->next->prev = s->prev;
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, on_socket_closed);
            curl_multi_assign(c->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = malloc(sizeof *s);
        if (!s)
            return -1;
        s->fd = fd;
        s->client = c;
        if (uv_poll_init_socket(c->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        s->prev = NULL;
        s->next = c->sockets;
        if (c->sockets)
            c->sockets->prev = s;
        c->sockets = s;
        curl_multi_assign(c->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

/* ---- per-transfer callbacks -------------------------------------------------------------- */

static int parse_status_line(const char *p, size_t n)
{
    /* "HTTP/1.1 200 OK" or "HTTP/2 200" */
    const char *sp = memchr(p, ' ', n);
    if (!sp || n - (size_t)(sp - p) < 4)
        return 0;
    int status = 0;
    for (int i = 1; i <= 3; i++) {
        char ch = sp[i];
        if (ch < '0' || ch > '9')
            return 0;
        status = status * 10 + (ch - '0');
    }
    return status;
}

static void req_deliver_head(upc_req_t *r)
{
    up_header_t headers[UP_MAX_HEADERS];
    size_t count = 0;
    const char *p = r->head.p, *end = r->head.p + r->head.n;
    /* skip the status line */
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    p = nl ? nl + 1 : end;
    while (p < end && count < UP_MAX_HEADERS) {
        nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon) {
            str_t value = str_trim(str_make(colon + 1, (size_t)(line_end - colon - 1)));
            while (value.n && (value.p[value.n - 1] == '\r'))
                value.n--;
            headers[count++] = (up_header_t){str_make(p, (size_t)(colon - p)), value};
        }
        p = nl ? nl + 1 : end;
    }
    r->head_done = true;
    if (r->cb.on_head && !r->cancelled)
        r->cb.on_head(r->arg, r->status, headers, count);
}

static size_t curl_header_cb(char *p, size_t size, size_t nmemb, void *userp)
{
    upc_req_t *r = userp;
    size_t n = size * nmemb;
    if (r->cancelled)
        return 0;
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        r->head.n = 0; /* a new block: 100 Continue, then the real one */
        r->status = parse_status_line(p, n);
    }
    if ((n == 2 && p[0] == '\r') || (n == 1 && p[0] == '\n')) {
        if (r->status >= 200 && !r->head_done)
            req_deliver_head(r);
        return r->cancelled ? 0 : n;
    }
    if (buf_append(&r->head, p, n) < 0)
        return 0;
    return n;
}

static size_t curl_write_cb(char *p, size_t size, size_t nmemb, void *userp)
{
    upc_req_t *r = userp;
    size_t n = size * nmemb;
    if (r->cancelled)
        return 0;
    if (!r->head_done)
        req_deliver_head(r);
    if (r->cb.on_data && !r->cancelled)
        r->cb.on_data(r->arg, p, n);
    return r->cancelled ? 0 : n;
}

static size_t curl_read_cb(char *out, size_t size, size_t nmemb, void *userp)
{
    upc_req_t *r = userp;
    size_t room = size * nmemb, done = 0;
    while (room > 0 && r->body_index < r->num_body) {
        str_t piece = r->body[r->body_index];
        size_t take = MIN(room, piece.n - r->body_off);
        if (take) /* an empty piece may have no pointer at all */
            memcpy(out + done, piece.p + r->body_off, take);
        done += take;
        room -= take;
        r->body_off += take;
        if (r->body_off == piece.n) {
            r->body_index++;
            r->body_off = 0;
        }
    }
    return done;
}

/* Rewinds the body: curl asks when it resends on a new connection (a reused one was closed). */
static int curl_seek_cb(void *userp, curl_off_t offset, int origin)
{
    upc_req_t *r = userp;
    if (origin != SEEK_SET || offset < 0)
        return CURL_SEEKFUNC_CANTSEEK;
    r->body_index = 0;
    r->body_off = 0;
    curl_off_t left = offset;
    while (left > 0 && r->body_index < r->num_body) {
        curl_off_t piece = (curl_off_t)r->body[r->body_index].n;
        if (left < piece) {
            r->body_off = (size_t)left;
            return CURL_SEEKFUNC_OK;
        }
        left -= piece;
        r->body_index++;
    }
    return left == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
}

/* ---- request life ------------------------------------------------------------------------ */

static void req_recycle(upc_req_t *r)
{
    upc_client_t *c = r->client;
    if (r->in_multi) {
        curl_multi_remove_handle(c->multi, r->easy);
        r->in_multi = false;
        c->active--;
        if (r->prev_live)
            r->prev_live->next_live = r->next_live;
        else
            c->live = r->next_live;
        if (r->next_live)
            r->next_live->prev_live = r->prev_live;
    }
    curl_slist_free_all(r->headers);
    r->headers = NULL;
    if (r->head.cap > 16 * 1024)
        buf_free(&r->head);
    r->head.n = 0;
    r->next_free = c->free_reqs;
    c->free_reqs = r;
}

static int map_result(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK:
        return UP_OK;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return UP_ERR_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return UP_ERR_TIMEOUT;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return UP_ERR_IO;
    default:
        return UP_ERR_OTHER;
    }
}

static void client_check_done(upc_client_t *c)
{
    if (c->in_curl)
        return;
    while (c->doomed) {
        upc_req_t *r = c->doomed;
        c->doomed = r->next_doomed;
        req_recycle(r);
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        upc_req_t *r = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode rc = msg->data.result;
        bool cancelled = r->cancelled;
        up_callbacks_t cb = r->cb;
        void *arg = r->arg;
        char message[CURL_ERROR_SIZE + 64];
        if (rc != CURLE_OK)
            snprintf(message, sizeof message, "%s",
                     r->error[0] ? r->error : curl_easy_strerror(rc));
        else
            message[0] = 0;
        bool had_head = r->head_done;
        int status = r->status;
        req_recycle(r); /* msg is invalid from here */
        if (cancelled)
            continue;
        if (rc == CURLE_OK && !had_head && status >= 200) {
            /* a response with neither body nor blank-line callback: deliver the head now */
            up_header_t none[1];
            if (cb.on_head)
                cb.on_head(arg, status, none, 0);
        }
        if (cb.on_done)
            cb.on_done(arg, map_result(rc), message);
    }
}

upc_req_t *upc_start(upc_client_t *c, const up_spec_t *spec, const up_callbacks_t *cb, void *arg)
{
    if (c->closing)
        return NULL;
    upc_req_t *r = c->free_reqs;
    if (r) {
        c->free_reqs = r->next_free;
        curl_easy_reset(r->easy);
    } else {
        r = calloc(1, sizeof *r);
        if (!r)
            return NULL;
        r->client = c;
        r->easy = curl_easy_init();
        if (!r->easy) {
            free(r);
            return NULL;
        }
    }
    r->backend = UP_BACKEND_CURL;
    r->cb = *cb;
    r->arg = arg;
    r->status = 0;
    r->head_done = false;
    r->cancelled = false;
    r->error[0] = 0;
    r->num_body = MIN(spec->num_body, COUNTOF(r->body));
    size_t body_len = 0;
    for (size_t i = 0; i < r->num_body; i++) {
        r->body[i] = spec->body[i];
        body_len += spec->body[i].n;
    }
    r->body_index = 0;
    r->body_off = 0;

    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_URL, spec->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->error);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, curl_header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, curl_write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(spec->connect_timeout_ms ? spec->connect_timeout_ms : 10000));
    if (spec->timeout_ms)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)spec->timeout_ms);
    if (spec->idle_timeout_ms) {
        /* under 1 byte/s for N seconds: no byte at all in that window */
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)((spec->idle_timeout_ms + 999) / 1000));
    }
    bool post = !spec->method || strcmp(spec->method, "POST") == 0;
    if (post) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, curl_read_cb);
        curl_easy_setopt(e, CURLOPT_READDATA, r);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, curl_seek_cb);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, r);
    } else if (strcmp(spec->method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, spec->method);
    }
    struct curl_slist *h = NULL;
    /* curl would wait for "100 Continue" on big bodies: a round trip for nothing */
    h = curl_slist_append(h, "Expect:");
    for (const char **line = spec->headers; line && *line; line++)
        h = curl_slist_append(h, *line);
    r->headers = h;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);

    if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
        req_recycle(r);
        return NULL;
    }
    r->in_multi = true;
    c->active++;
    r->prev_live = NULL;
    r->next_live = c->live;
    if (c->live)
        c->live->prev_live = r;
    c->live = r;
    return r;
}

void upc_cancel(upc_req_t *r)
{
    if (!r || r->cancelled)
        return;
    r->cancelled = true;
    /* curl forbids removing a handle from inside its callbacks: then it goes once curl returns */
    upc_client_t *c = r->client;
    if (c->in_curl) {
        r->next_doomed = c->doomed;
        c->doomed = r;
    } else {
        req_recycle(r);
    }
}

size_t upc_client_active(const upc_client_t *c)
{
    return c->active;
}

upc_client_t *upc_client_new(uv_loop_t *loop)
{
    upc_client_t *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    c->multi = curl_multi_init();
    if (!c->multi) {
        free(c);
        return NULL;
    }
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    /* keep enough idle connections for a busy worker's concurrency */
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 1024L);
    curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    return c;
}

static void on_client_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

void upc_client_free(upc_client_t *c)
{
    if (!c)
        return;
    c->closing = true;
    /* requests still in flight were cancelled by their owners; drop what is left */
    while (c->live) {
        c->live->cancelled = true;
        req_recycle(c->live);
    }
    while (c->free_reqs) {
        upc_req_t *r = c->free_reqs;
        c->free_reqs = r->next_free;
        curl_easy_cleanup(r->easy);
        buf_free(&r->head);
        free(r);
    }
    curl_multi_cleanup(c->multi);
    /* sockets curl did not say goodbye to */
    for (upc_socket_t *s = c->sockets; s; s = s->next) {
        uv_poll_stop(&s->poll);
        uv_close((uv_handle_t *)&s->poll, on_socket_closed);
    }
    c->sockets = NULL;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_client_timer_closed);
}
