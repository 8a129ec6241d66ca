/* SPDX-License-Identifier: MIT
 * sluice-mock's internal interfaces: settings, per-worker state, the request controls, the
 * shared counters, and the timed delivery of a planned response (call.c). */
#ifndef SLUICE_MOCK_MOCK_H
#define SLUICE_MOCK_MOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <uv.h>

#include "core/buf.h"
#include "core/str.h"
#include "http/http.h"

struct cJSON;

/* Appends without a call when the room is there: answers are built from many small literal
 * pieces, and buf_append is out of line. */
static inline void mock_append(buf_t *b, const void *p, size_t n)
{
    if (__builtin_expect(b->cap - b->n >= n, 1)) {
        memcpy(b->p + b->n, p, n);
        b->n += n;
    } else {
        buf_append(b, p, n);
    }
}

/* Appends the decimal digits of v. */
static inline void mock_append_u64(buf_t *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    mock_append(b, tmp + i, sizeof tmp - i);
}

/* ---- settings (mock.c) ------------------------------------------------------------------ */

/* The timing knobs that both the command line and a request's controls set. */
typedef struct {
    uint64_t ttft_ms;
    uint64_t chunk_delay_ms;
    uint64_t tokens;
    uint64_t latency_ms;
} mock_timing_t;

typedef struct {
    const char *host;
    int port;
    int workers;
    bool quiet;
    mock_timing_t timing; /* defaults for requests without controls */
} mock_config_t;

/* ---- shared counters (stats.c) ---------------------------------------------------------- */

/* Per-worker part of /mock/stats: written by the worker, summed by whoever renders. */
typedef struct {
    atomic_ullong requests;
    atomic_ullong streams_started;
    atomic_ullong streams_completed;
    atomic_ullong streams_aborted;
    /* The last request, copied raw (one memcpy of the head, one of the body) and turned into
     * JSON only when /mock/stats asks. Slices are offsets into last_raw. */
    pthread_mutex_t last_lock; /* guards last_*; uncontended except while stats render */
    uint64_t last_ns;          /* uv_hrtime() of the last recorded request, 0 when none */
    buf_t last_raw;            /* the head's bytes, then the body */
    struct {
        uint32_t off, n;
    } last_method, last_path, last_query, last_body, last_names[HTTP_MAX_HEADERS],
        last_values[HTTP_MAX_HEADERS];
    size_t last_num_headers;
} mock_worker_stats_t;

typedef struct mock_call mock_call_t;

typedef struct {
    int index;
    const mock_config_t *cfg;
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t stop; /* main thread -> worker: shut down */
    http_server_t *server;
    int start_rc;            /* 0 once the server listens, -1 if it could not */
    mock_call_t *free_calls; /* pool of idle calls, reused so requests do not malloc */
    mock_call_t *all_calls;  /* every call this worker made, for the final close */
    uint64_t rng;            /* xorshift state for ids */
    buf_t scratch;           /* per-worker buffer for stream frames */
    mock_worker_stats_t stats;
} mock_worker_t;

/* Registers the workers whose counters /mock/stats sums; called once before they start. */
void mock_stats_init(mock_worker_t *workers, int n);
void mock_stats_destroy(void);
/* Counts a request and remembers it as the last one. */
void mock_stats_record(mock_worker_t *w, const http_req_t *req);
/* Counts a request tagged `id` and returns how many carried that id so far, this one included. */
uint64_t mock_stats_id_request(str_t id);
/* Counts the end of a tagged request: completed (a 2xx response sent in full) or aborted. */
void mock_stats_id_end(str_t id, bool completed, bool aborted);
/* Appends the /mock/stats JSON. */
void mock_stats_render(buf_t *out);
void mock_stats_reset(void);

/* ---- controls (controls.c) -------------------------------------------------------------- */

typedef enum {
    MOCK_FAULT_NONE = 0,
    MOCK_FAULT_DROP,
    MOCK_FAULT_DROP_MID_STREAM,
    MOCK_FAULT_MALFORMED,
    MOCK_FAULT_SLOW_HEAD,
} mock_fault_t;

/* A request's controls, from x-mock-* headers and the body's "mock" object (body wins). */
typedef struct {
    mock_timing_t timing;
    int status;          /* 0: none */
    uint64_t fail_first; /* 0: none */
    uint64_t delay_ms;
    mock_fault_t fault;
    str_t id; /* into the request head or the parsed body; copy before either goes */
} mock_controls_t;

/* Fills `c` from the defaults, then the headers, then `body_mock` (may be NULL). Returns 0, or -1
 * with a message in err (a malformed value) that the caller answers with 400. */
int mock_controls_read(mock_controls_t *c, const mock_timing_t *defaults, const http_req_t *req,
                       const struct cJSON *body_mock, char *err, size_t err_size);

/* ---- timed delivery (call.c) ------------------------------------------------------------ */

typedef enum {
    MOCK_ACT_SEND = 0, /* a complete response: status, content type, body */
    MOCK_ACT_DROP,     /* close the connection without answering */
    MOCK_ACT_PARTIAL,  /* head and the first half of `body`, then close */
    MOCK_ACT_STREAM,   /* a streamed response made of frames */
} mock_action_t;

/* Produces stream frame `i` into out, with the wait before it in *delay_ms; false after the
 * last frame. */
typedef bool (*mock_frame_fn)(mock_call_t *c, size_t i, buf_t *out, uint64_t *delay_ms);

/* One request being answered. Pooled per worker and never freed while the worker runs, so a
 * timer or a late abort may touch it safely after the request itself is gone. */
struct mock_call {
    uv_timer_t timer;
    mock_worker_t *w;
    http_req_t *req; /* NULL once the request ended (the call is idle) */
    mock_call_t *next_free;
    mock_call_t *next_all;

    /* the plan, filled by the route before mock_call_start */
    mock_action_t action;
    int status;
    const char *content_type;
    uint64_t delay_ms; /* before anything */
    uint64_t pre_ms;   /* after delay_ms, before the head (latency or slow-head) */
    buf_t body;        /* MOCK_ACT_SEND / MOCK_ACT_PARTIAL */
    mock_frame_fn frame;
    size_t drop_after; /* MOCK_ACT_STREAM: close after this many frames; 0: never */

    /* what frame builders need; owned by the call, capacity kept across requests */
    mock_timing_t timing;
    int kind;  /* route specific */
    bool tool; /* answer with a tool call */
    bool include_usage;
    uint64_t prompt_tokens;
    buf_t model;     /* request's model, JSON-escaped without quotes */
    buf_t tool_name; /* JSON-escaped without quotes */
    buf_t prefix;    /* start of every frame: `data: {"id":...,"choices":[` */
    buf_t id;        /* the `id` control, raw; empty when none */
    char request_id[40];
    char object_id[48]; /* chatcmpl-... / cmpl-... */
    char call_id[32];   /* call_... */

    /* progress */
    int phase;
    size_t next_frame;
    bool frame_due; /* the timer for next_frame fired: send it regardless of its delay */
    bool stream_started;
};

/* Takes an idle call from the worker's pool and binds it to req (req->user, req->on_abort). */
mock_call_t *mock_call_acquire(mock_worker_t *w, http_req_t *req);
/* Runs the plan: waits, then answers. The call goes back to the pool when the request ends. */
void mock_call_start(mock_call_t *c);
/* Closes the timers of every call of w; the worker's loop must run afterwards to finish. */
void mock_call_close_all(mock_worker_t *w);
/* Frees the calls after their timers closed. */
void mock_call_free_all(mock_worker_t *w);

/* Appends n random alphanumerics from the worker's generator (ids need not be secure). */
void mock_random_alnum(mock_worker_t *w, char *out, size_t n);

/* ---- other providers (one file each) ------------------------------------------------------ */

/* Each looks at c->req (path, headers, body); when the request is its provider's, it plans and
 * starts the call (mock_call_start) and returns true. Stats are already recorded. Each provider
 * honours the same controls (mock_controls_read) and the same timing as the OpenAI routes. */
bool mock_anthropic_handle(mock_call_t *c); /* POST /v1/messages, /v1/messages/count_tokens */
bool mock_gemini_handle(mock_call_t *c);    /* :generateContent, :streamGenerateContent, token */
bool mock_bedrock_handle(mock_call_t *c);   /* /model/<id>/converse, converse-stream, invoke */
bool mock_cohere_handle(mock_call_t *c);    /* /v2/chat, /v2/embed */
bool mock_ollama_handle(mock_call_t *c);    /* /api/chat, /api/generate, /api/embed */

/* ---- routes (openai.c) ------------------------------------------------------------------ */

/* The http handler of every worker; req->server_data is the mock_worker_t. */
void mock_handle_request(http_req_t *req);

#endif
