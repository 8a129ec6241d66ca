/* SPDX-License-Identifier: MIT
 * The response cache (docs/cache.md): LiteLLM's cache key for a request body, the per-request
 * `cache` controls, and an in-memory table of whole response bodies shared by the workers, with
 * a TTL per entry and caps on entries and bytes (LRU per shard). No Redis here yet. */
#ifndef SLUICE_CACHE_CACHE_H
#define SLUICE_CACHE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/str.h"

#include <uv.h>

/* "<namespace>:" + 64 hex digits + NUL fits */
#define CACHE_KEY_MAX 192

/* The request's `cache` member (LiteLLM's names); unset numbers are < 0. */
typedef struct {
    bool no_cache;     /* "no-cache": do not read */
    bool no_store;     /* "no-store": do not write */
    bool use_cache;    /* "use-cache": true (JSON true only): opts in under mode default_off */
    double ttl_s;      /* "ttl": this entry's lifetime */
    double s_maxage_s; /* "s-maxage": accept an entry only if younger */
    str_t namespace_;  /* "namespace" (raw JSON string literal, or STR_NULL) */
} cache_controls_t;

/* Reads the raw JSON value of the body's `cache` member (may be STR_NULL) into c. 0, or -1 when
 * it is not an object. */
int cache_controls_parse(str_t raw, cache_controls_t *c);

/* The string LiteLLM hashes: "<param>: <value>" for each known LLM API parameter of the body in
 * order (model, then messages/prompt/input, then the rest in body order), `model` given as the
 * model group, each value as Python's str() would print it. Appended to out. 0, or -1 when body
 * is not a valid object or memory runs out. */
int cache_key_text(const char *body, size_t n, str_t model_group, buf_t *out);

/* The cache key: sha256 hex of cache_key_text, prefixed "<namespace>:" when namespace is given
 * (decoded text, may be STR_NULL). 0, or -1. */
int cache_key(const char *body, size_t n, str_t model_group, str_t namespace_,
              char out[CACHE_KEY_MAX]);

/* cache_key, with the top-level members named in `extra` (NULL-terminated; may be NULL) added
 * after the others as "<name>: <str(value)>" when the body has them: the prompt members of
 * /v1/messages (system) and /v1/responses (instructions), which LiteLLM's parameter list lacks. */
int cache_key_extra(const char *body, size_t n, str_t model_group, str_t namespace_,
                    const char *const *extra, char out[CACHE_KEY_MAX]);

/* Calls fn for each member name of the request's `cache` object (raw JSON value; the name as
 * decoded text); stops at fn's non-zero return and returns it. 0 when raw is not an object. */
int cache_controls_each(str_t raw, int (*fn)(void *arg, str_t name), void *arg);

/* Python's repr() of a JSON value (raw text), as LiteLLM's str(value) prints nested values;
 * strings print bare at the top level when `top` is true (str(), not repr()). 0, or -1. */
int cache_py_str(str_t raw, bool top, buf_t *out);

typedef struct cache cache_t;
typedef struct cache_entry cache_entry_t;

/* A table for max_entries entries and max_bytes of keys and bodies (both > 0). NULL: no memory. */
cache_t *cache_new(size_t max_entries, size_t max_bytes);
/* Frees the table; no entry may be held any more. */
void cache_free(cache_t *c);

/* The live entry for key, held for the caller (release it with cache_entry_release), or NULL.
 * An entry older than max_age_ms (>= 0) counts as absent. now_ms: Unix ms. */
cache_entry_t *cache_get(cache_t *c, const char *key, int64_t now_ms, int64_t max_age_ms);
void cache_entry_release(cache_entry_t *e);
/* The entry's stored body and content type, valid while it is held. */
str_t cache_entry_body(const cache_entry_t *e);
const char *cache_entry_content_type(const cache_entry_t *e);

/* Stores a copy of body under key for ttl_ms, replacing an older entry; the least recently used
 * entries of its shard make room. 0, or -1 when it is too large or memory runs out. */
int cache_put(cache_t *c, const char *key, const char *content_type, const char *body, size_t n,
              int64_t now_ms, int64_t ttl_ms);

/* ---- Redis (redis.c) --------------------------------------------------------------------------
 * One background thread owns the connection (hiredis on its own libuv loop). Workers never wait
 * on it: a GET is a message to that thread, answered through the worker's inbox (a lock-free
 * stack and a uv_async); one Redis has not answered within the lookup timeout is answered as a
 * miss. SETs are fire and forget. While Redis is down (refused, reset, or too slow five times in a
 * row) every lookup is a miss at once and the thread reconnects every second. */

typedef struct cache_redis cache_redis_t;
typedef struct cache_redis_op cache_redis_op_t;

typedef struct {
    const char *host; /* copied */
    int port;
    const char *username, *password; /* NULL: none; copied */
    int db;                          /* SELECT when > 0 */
    unsigned lookup_timeout_ms;      /* 0: 5 */
} cache_redis_opts_t;

/* Admin commands (the /cache routes): op->admin. */
enum { CACHE_REDIS_PING = 1, CACHE_REDIS_DEL, CACHE_REDIS_FLUSHALL };

/* A GET's (or admin command's) answer, in the submitting worker's inbox. */
struct cache_redis_op {
    cache_redis_op_t *next;
    int admin; /* CACHE_REDIS_*; 0: a GET or a SET */
    bool set;
    bool hit;    /* GET: Redis had the key (value holds it) */
    char *value; /* SET: the payload; GET: the answer (malloc'd, owned by the op) */
    size_t value_n;
    int64_t ttl_ms; /* SET: PX */
    void *user;     /* the submitter's */
    struct cache_redis_inbox *inbox;
    char key[CACHE_KEY_MAX];
};

/* Where one worker's answers arrive; owned by the cache_redis_t. */
typedef struct cache_redis_inbox cache_redis_inbox_t;

/* Starts the thread (it connects in the background). NULL: no thread or no memory. */
cache_redis_t *cache_redis_start(const cache_redis_opts_t *opts, int max_inboxes);
/* Stops the thread, drops what is pending and frees everything (workers have stopped). */
void cache_redis_stop(cache_redis_t *r);
/* The inbox of worker `index` (0 <= index < max_inboxes); `wake` is sent when answers arrive.
 * NULL when out of range. */
cache_redis_inbox_t *cache_redis_inbox_open(cache_redis_t *r, int index, uv_async_t *wake);
/* The worker stops: no more wake-ups (its answers are freed with the cache_redis_t). */
void cache_redis_inbox_close(cache_redis_inbox_t *in);
/* Every answer in the inbox (a list through ->next, any order); the caller frees each op with
 * cache_redis_op_free. */
cache_redis_op_t *cache_redis_inbox_take(cache_redis_inbox_t *in);
/* Asks for key; the answer comes to `in` with `user`. -1 (nothing will come): no memory. */
int cache_redis_get(cache_redis_t *r, cache_redis_inbox_t *in, const char *key, void *user);
/* Stores value (copied) under key for ttl_ms; nothing comes back. */
void cache_redis_set(cache_redis_t *r, const char *key, const char *value, size_t n,
                     int64_t ttl_ms);
void cache_redis_op_free(cache_redis_op_t *op);
/* An admin command, answered to `in` with `user`: hit is true when Redis carried it out, value
 * holds Redis's reply (or why it failed) as text. PING: then SET value under key for ttl_ms (the
 * test entry LiteLLM's /cache/ping writes). DEL: the keys are value's n bytes, NUL-separated.
 * FLUSHALL. Never waits on the worker; while Redis is down the answer is a failure at once.
 * -1 (nothing will come): no memory. */
int cache_redis_admin(cache_redis_t *r, cache_redis_inbox_t *in, int admin, const char *key,
                      const char *value, size_t n, int64_t ttl_ms, void *user);
/* Where the thread connects (for /cache/ping). */
const char *cache_redis_host(const cache_redis_t *r);
int cache_redis_port(const cache_redis_t *r);

/* ---- streams (stream.c) ----------------------------------------------------------------------
 * The chat.completion a chat-completions SSE stream adds up to (content, refusal and tool calls
 * joined per choice; id, created, model, system_fingerprint from the first chunk; the last usage
 * and finish_reason), appended to out as JSON text: what LiteLLM stores after a stream. -1 when
 * the stream has no [DONE], is not chat.completion.chunk events, carries an error, logprobs or
 * deltas it cannot rebuild (function_call, audio), or memory runs out. */
int cache_stream_assemble(const char *sse, size_t n, buf_t *out);
/* A stored chat.completion as LiteLLM replays it to a stream request: one chunk whose delta is
 * each whole message (with finish_reason and usage), then [DONE], as SSE. -1: not a
 * chat.completion, or no memory. */
int cache_stream_replay(const char *body, size_t n, buf_t *out);

/* The text_completion a /completions SSE stream adds up to (text joined per choice; id, created,
 * model, system_fingerprint from the chunks; the last finish_reason and usage), as JSON text.
 * -1 when the stream has no [DONE], is not text_completion events, carries an error or logprobs,
 * or memory runs out. */
int cache_text_stream_assemble(const char *sse, size_t n, buf_t *out);
/* A stored text_completion replayed to a stream request: one text_completion chunk holding each
 * choice's whole text (with its finish_reason) and the usage, then [DONE]. -1: not one. */
int cache_text_stream_replay(const char *body, size_t n, buf_t *out);
/* An Anthropic /v1/messages SSE stream as LiteLLM stores it: an object whose one member,
 * "litellm_cached_anthropic_sse_events", lists each event's text (its blank line included). -1 when
 * it has no message_stop event, has an error event, or memory runs out. */
int cache_events_wrap(const char *sse, size_t n, buf_t *out);
/* The stored events of cache_events_wrap, joined as they were sent. -1: not such an entry. */
int cache_events_replay(const char *body, size_t n, buf_t *out);

/* Counters for tests and logs. */
typedef struct {
    size_t entries, bytes;
    uint64_t hits, misses, evictions;
} cache_stats_t;
void cache_stats(cache_t *c, cache_stats_t *out);

#endif
