/* SPDX-License-Identifier: MIT
 * The outbound HTTP client of one worker: libcurl's multi interface driven by the worker's libuv
 * loop. Connections are pooled and reused per worker; TLS is verified; a request has connect,
 * total and idle (no byte for N ms) timeouts. Nothing here blocks. */
#ifndef SLUICE_UPSTREAM_UPSTREAM_H
#define SLUICE_UPSTREAM_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/str.h"

typedef struct up_client up_client_t;
typedef struct up_req up_req_t;

enum {
    UP_OK = 0,
    UP_ERR_CONNECT = -1, /* could not resolve, connect or handshake: nothing was sent */
    UP_ERR_TIMEOUT = -2, /* total, connect or idle timeout */
    UP_ERR_IO = -3,      /* the connection broke mid-transfer */
    UP_ERR_OTHER = -4,
};

#define UP_MAX_HEADERS 64

typedef struct {
    str_t name;
    str_t value;
} up_header_t;

typedef struct {
    /* The response head is complete (status >= 200). Headers are valid during the call only. */
    void (*on_head)(void *arg, int status, const up_header_t *headers, size_t num_headers);
    /* Body bytes, as they arrive. */
    void (*on_data)(void *arg, const char *p, size_t n);
    /* The transfer ended: UP_OK or UP_ERR_*; `message` says what failed (no secrets in it). */
    void (*on_done)(void *arg, int result, const char *message);
} up_callbacks_t;

typedef struct {
    const char *method; /* "POST", "GET" */
    const char *url;
    const char **headers; /* "Name: value" lines, NULL-terminated; copied by up_start */
    str_t body[4];        /* body pieces sent in order without copying; must outlive the request */
    size_t num_body;
    uint64_t connect_timeout_ms; /* 0: 10 s */
    uint64_t timeout_ms;         /* whole transfer; 0: none */
    uint64_t idle_timeout_ms;    /* no byte received for this long; 0: none (rounded up to s) */
} up_spec_t;

/* Creates the client of one worker loop. */
up_client_t *up_client_new(uv_loop_t *loop);

/* Cancels what is in flight (no callbacks) and frees the client; its handles close on the loop. */
void up_client_free(up_client_t *client);

/* Starts a request. NULL when it cannot start (the callbacks are not called then). */
up_req_t *up_start(up_client_t *client, const up_spec_t *spec, const up_callbacks_t *cb, void *arg);

/* Stops a request; no callback is called for it afterwards, even from inside one. */
void up_cancel(up_req_t *req);

/* Stops (true) or resumes (false) reading the response, for a client slower than the provider.
 * While paused the idle timeout does not run; the total timeout still does. */
void up_pause(up_req_t *req, bool paused);

/* Number of transfers in flight. */
size_t up_client_active(const up_client_t *client);

#endif
