/* SPDX-License-Identifier: MIT
 * The HTTP/1.1 server every sluice process (gateway and mock) is built on: a resumable,
 * zero-allocation request parser, and a per-worker server on a libuv loop that reads requests,
 * hands each to one handler, and writes whole or streamed (chunked) responses in order. */
#ifndef SLUICE_HTTP_HTTP_H
#define SLUICE_HTTP_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"

/* ---- parser (parser.c) ------------------------------------------------------------------ */

#define HTTP_MAX_HEADERS 100

enum {
    HTTP_PARSE_INVALID = -1,          /* malformed: answer 400 and close */
    HTTP_PARSE_INCOMPLETE = -2,       /* need more bytes */
    HTTP_PARSE_TOO_MANY_HEADERS = -3, /* more than HTTP_MAX_HEADERS: answer 431 and close */
};

typedef struct {
    str_t name;
    str_t value; /* leading and trailing spaces/tabs stripped */
} http_header_t;

/* A parsed request head; every slice points into the caller's buffer. `headers` is storage the
 * caller provides (HTTP_MAX_HEADERS entries for the parser): a server request's is a copy of the
 * headers it has in its arena, so an idle connection holds none (1,000 idle clients would
 * otherwise hold 3.2 KB of header slots each). */
typedef struct {
    str_t method;
    str_t target;      /* as sent: path plus optional ?query */
    str_t path;        /* target up to '?' */
    str_t query;       /* after '?', without it; empty when absent */
    int minor_version; /* 0 or 1 (HTTP/1.x only) */
    http_header_t *headers;
    size_t num_headers;
    int64_t content_length; /* -1 when absent */
    bool chunked;           /* Transfer-Encoding: chunked (last coding) */
    bool expect_continue;   /* Expect: 100-continue */
    bool keep_alive;        /* from the version and Connection header */
} http_head_t;

/* Parses the request head at buf[0..len) into head (head->headers must hold HTTP_MAX_HEADERS
 * entries). `last_len` is the length seen by the previous call on
 * the same buffer (0 the first time), so a resumed call does not rescan. Returns the head's
 * length in bytes (the blank line included), or HTTP_PARSE_*. Accepts CRLF and bare LF line ends;
 * rejects obs-fold, Content-Length with Transfer-Encoding, conflicting or invalid Content-Length,
 * a Transfer-Encoding other than chunked, and control characters in the request line or names. */
int http_parse_request(const char *buf, size_t len, size_t last_len, http_head_t *head);

/* Decoder state for a chunked body; zero it before the first call. */
typedef struct {
    uint64_t chunk_left; /* bytes of chunk data still to come */
    int state;
    size_t hex_digits;
    bool in_trailers; /* internal: the parser may add or change internal fields */
} http_chunked_t;

/* Decodes chunked data in place: on entry buf[0..*len) holds raw bytes received after what
 * earlier calls consumed; on return buf[0..*len) holds the decoded bytes of this call (the caller
 * appends them to those of earlier calls). Returns HTTP_PARSE_INCOMPLETE when the body needs
 * more bytes, HTTP_PARSE_INVALID on malformed framing, or, once the last chunk and trailers are
 * consumed, the number of raw bytes after the body (the next pipelined request), which are left
 * at buf[*len ..]. */
ssize_t http_chunked_decode(http_chunked_t *d, char *buf, size_t *len);

/* A parsed response head (for the upstream client); slices point into the caller's buffer. */
typedef struct {
    int status;
    int minor_version;
    http_header_t headers[HTTP_MAX_HEADERS];
    size_t num_headers;
    int64_t content_length; /* -1 when absent */
    bool chunked;           /* Transfer-Encoding ends in chunked (it overrides Content-Length) */
    bool keep_alive;        /* from the version and Connection header */
} http_response_head_t;

/* Parses a response head at buf[0..len); `last_len` as for http_parse_request. Returns the
 * head's length, or HTTP_PARSE_*. Accepts CRLF and bare LF; the reason phrase may be empty. */
int http_parse_response(const char *buf, size_t len, size_t last_len, http_response_head_t *head);

/* Case-insensitive lookup; STR_NULL when absent (value.p == NULL). */
str_t http_head_get(const http_head_t *head, str_t name);

/* ---- server (server.c) ------------------------------------------------------------------ */

typedef struct http_server http_server_t;
typedef struct http_req http_req_t;
typedef struct http_conn http_conn_t;

typedef void (*http_handler_fn)(http_req_t *req);

typedef struct {
    const char *host; /* "127.0.0.1", "0.0.0.0", "::" ... */
    int port;
    size_t max_header_bytes;    /* 0: 64 KiB. Larger heads get 431 */
    size_t max_body_bytes;      /* 0: 32 MiB. Larger bodies get 413 */
    uint64_t header_timeout_ms; /* 0: 30 s to receive a whole head once its first byte arrived */
    uint64_t idle_timeout_ms;   /* 0: 75 s between requests on a keep-alive connection */
    uint64_t body_timeout_ms;   /* 0: 60 s without progress while reading a body */
    http_handler_fn handler;
    void *data; /* handed to the handler as req->server_data */
} http_server_config_t;

/* Creates a server on `loop` listening on host:port with SO_REUSEPORT, so every worker thread
 * binds the same port. NULL on failure (logged). */
http_server_t *http_server_new(uv_loop_t *loop, const http_server_config_t *config);

/* Checks that host:port can be bound by this process alone (no SO_REUSEPORT), so a second
 * instance started by mistake fails instead of silently sharing the port. 0 or -errno. */
int http_port_check(const char *host, int port);

/* Stops accepting, closes idle connections, lets in-flight requests finish; connections close
 * after their current response. When none is left (or after drain_ms, when the rest are cut),
 * closes every handle and calls done(arg). The server is freed before done runs. */
void http_server_shutdown(http_server_t *srv, uint64_t drain_ms, void (*done)(void *arg),
                          void *arg);

/* Number of requests being handled now. */
size_t http_server_active(const http_server_t *srv);

/* One request. Lives from the handler call until the response is complete (http_resp_send,
 * http_resp_stream_end or http_req_drop); the handler may finish it later, from any callback on
 * the same loop. */
struct http_req {
    http_head_t head;
    str_t body;    /* whole body, decoded; valid for the request's life */
    arena_t arena; /* reset when the request ends */
    uv_loop_t *loop;
    void *server_data; /* http_server_config_t.data */
    uint64_t start_ns; /* uv_hrtime() when the head was complete */
    uint64_t id;       /* per-server sequence number */
    /* Set by the handler: called once if the client goes away before the response is complete.
     * After it returns the request is gone; the handler must not touch it again. */
    void (*on_abort)(http_req_t *req);
    /* Set by the handler: called when everything written so far has reached the socket, so a
     * producer paused for a slow client can resume. */
    void (*on_drain)(http_req_t *req);
    /* Set by the handler: called exactly once when the request ends, however it ends (response
     * complete, dropped, or the client gone): the one place to give back what the request held
     * (rate-limit slots). A complete response calls it just before its last bytes are written,
     * so a client that calls again at once finds the slot free, even on another worker.
     * req->caller and req->user are still set; nothing may be written. */
    void (*on_end)(http_req_t *req);
    void *user;        /* the handler's per-request state */
    void *caller;      /* the handler's view of who is calling (set by its auth step) */
    http_conn_t *conn; /* private */
    buf_t resp_head;   /* private: response head being built */
    int status;        /* status sent, 0 before */
    bool streaming;    /* private */
};

/* Convenience: header value of the request, STR_NULL if absent. */
static inline str_t http_req_header(const http_req_t *req, const char *name)
{
    return http_head_get(&req->head, str_cstr(name));
}

/* Adds a response header (copied). Call before http_resp_send / http_resp_stream_start. */
void http_resp_header(http_req_t *req, str_t name, str_t value);
void http_resp_header_cstr(http_req_t *req, const char *name, const char *value);

/* Sends a complete response with Content-Length; the request ends. `content_type` may be NULL. */
void http_resp_send(http_req_t *req, int status, const char *content_type, const char *body,
                    size_t n);

/* Sends the head of a chunked response. */
void http_resp_stream_start(http_req_t *req, int status, const char *content_type);

/* Writes one chunk (copied or written at once). Returns bytes still queued for the client after
 * this write, or -1 when the client is gone (on_abort has been or will be called). */
ssize_t http_resp_stream_write(http_req_t *req, const char *p, size_t n);

/* Writes the terminating chunk; the request ends. */
void http_resp_stream_end(http_req_t *req);

/* Ends the request by closing the connection without (further) response: a deliberate drop. */
void http_req_drop(http_req_t *req);

/* Reason phrase for a status code ("OK", "Not Found", ...). */
const char *http_status_text(int status);

#endif
