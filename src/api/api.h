/* SPDX-License-Identifier: MIT
 * The client-facing API: the route table of the data plane, LiteLLM's error bodies and
 * x-litellm-* headers, and the OpenAI-compatible proxy path. One api_ctx_t per process
 * (immutable after start but for its current generation of models, api_gen_t), one
 * api_worker_t per worker thread. */
#ifndef SLUICE_API_API_H
#define SLUICE_API_API_H

#include <stdatomic.h>
#include <stdint.h>

#include "auth/keys.h"
#include "cache/cache.h"
#include "config/config.h"
#include "http/http.h"
#include "limits/limits.h"
#include "router/router.h"
#include "spend/spend.h"
#include "store/service.h"
#include "upstream/upstream.h"

#define SLUICE_VERSION "0.1.0"

typedef enum { API_CHAT, API_COMPLETIONS, API_EMBEDDINGS } api_kind_t;

/* One generation of the models the data plane serves: the config they come from (config.yaml,
 * plus LiteLLM_ProxyModelTable with store_model_in_db) and everything built from it, which
 * points into it (route deployments and prices are keyed by cfg_deployment_t address, access
 * groups hold its model names). Immutable once published. A request loads the current
 * generation once and uses only it; a replaced generation is kept until shutdown, so it stays
 * valid for requests that still use it (model changes are rare). gen.c. */
typedef struct api_gen {
    cfg_t *cfg;             /* owned */
    route_table_t *routes;  /* owned */
    spend_prices_t *prices; /* owned; NULL: no costs */
    /* model_info.access_groups: group name -> model names (api_access_groups_build) */
    auth_access_group_t *access_groups;
    size_t num_access_groups;
    unsigned long number;  /* 1 for the config alone at start-up, then one more per swap */
    struct api_gen *older; /* the generation this one replaced, retired (freed at shutdown) */
} api_gen_t;

typedef struct api_ctx {
    /* The generation requests start with now: stored (release) by the one thread that
     * publishes (main at start-up, then the control-plane thread), loaded (acquire) once per
     * request by the workers. */
    _Atomic(api_gen_t *) gen;
    const char *master_key; /* NULL: no auth (LiteLLM without a master key) */
    char master_hash[65];   /* sha256 hex of the master key: SpendLogs.api_key of its calls */
    auth_cache_t *keys;     /* virtual keys; NULL: only the master key is accepted */
    store_svc_t *store;     /* spend records and key lookups; NULL: none */
    lim_table_t *limits;    /* rate-limit counters (shared through Redis when configured) */
    bool limits_redis;      /* they are: cooldowns and deployment usage are shared too */
    bool cache_on;          /* the response cache (litellm_settings.cache), one of: */
    cache_t *cache;         /* type local: this process's table; NULL: not local */
    /* type redis: the thread that owns the connection; NULL: not Redis */
    cache_redis_t *cache_redis;
    bool serve_data;    /* --role data|all: the LLM routes */
    bool serve_control; /* --role control|all: management routes */
    /* Management calls go to the control-plane thread; NULL when this process has none. */
    void (*control_handoff)(http_req_t *req);
    /* Without a store thread (--role control): whether the control plane's database answers. */
    bool (*control_db_ok)(void);
    /* The wake-up handle of the worker owning each key-cache reader id (set at worker start). */
    _Atomic(uv_async_t *) wake[AUTH_MAX_READERS];
} api_ctx_t;

typedef struct api_parked api_parked_t;

typedef struct {
    const api_ctx_t *ctx;
    up_client_t *up;
    uint64_t rng;
    int index;
    auth_reader_t *reader; /* this thread's key-cache reader; NULL without virtual keys */
    bool reader_online;
    lim_reader_t *lim_reader; /* this thread's reader of ctx->limits; NULL: none */
    bool lim_online;
    uv_async_t key_wake;  /* the store answered a key this worker waits for */
    uv_prepare_t quiesce; /* before each poll: this worker holds no key record and no counter */
    bool quiesce_on;
    uv_timer_t park_timer; /* parked requests are retried, and given up after a while */
    api_parked_t *parked;  /* requests waiting for their key's record */
    uv_timer_t lim_timer;  /* worker 0 without Redis: idle counters are reclaimed every second */
    bool lim_timer_on;
    uv_loop_t *loop; /* this worker's loop (retry back-off timers) */
    /* the Redis cache's answers for this worker; NULL: none */
    cache_redis_inbox_t *cache_inbox;
    uv_async_t cache_wake;
    /* an idle worker gives back what a burst left in its buffer and chunk caches */
    uv_timer_t idle_timer;
    uint64_t requests, requests_seen; /* requests started; the count at the last idle check */
} api_worker_t;

/* One of LiteLLM's rate-limit descriptors that applies to a request (limits.c): its limits and
 * what admission saw. Counters are named "<key>:<value>:rpm|tpm|parallel". */
typedef struct {
    const char *key;   /* "api_key", "user", "team", "team_member", "end_user", "model_per_key" */
    const char *value; /* the token hash, the id, "<team>:<user>", "<token>:<model>" (arena) */
    long long rpm, tpm, max_parallel;             /* AUTH_NO_LIMIT when not limited */
    lim_info_t rpm_info, tpm_info, parallel_info; /* at admission: headers */
    bool holding; /* a max_parallel_requests slot is held until the request ends */
} api_limit_use_t;

#define API_LIMIT_DESCRIPTORS 6

/* Who is calling, for the whole request (request arena; req->caller). Key fields are copied out
 * of the cache record, which a request may not hold past its first callback. */
typedef struct {
    const api_gen_t *gen; /* the models of this request, loaded once when it started */
    bool is_admin;        /* the master key, or no master key configured */
    bool virtual_key;     /* a LiteLLM_VerificationToken key */
    char token[65];       /* sha256 hex of the key: SpendLogs.api_key */
    const char *key_alias, *user_id, *team_id, *org_id;
    const char *end_user; /* the request's `user`, or x-litellm-end-user-id / -customer-id */
    /* the end user's row (LiteLLM_EndUserTable), when it has one: its spend counter and its
     * budget row's limits (the "end_user" descriptor) */
    auth_counter_t *end_user_counter;
    bool end_user_limited;
    long long end_user_rpm, end_user_tpm, end_user_max_parallel; /* AUTH_NO_LIMIT when unset */
    auth_counter_t *key_counter, *team_counter, *user_counter, *model_counter;
    auth_counter_t *member_counter; /* the key's user in its team; NULL without a budget */
    double max_budget;              /* < 0: none */
    long long rpm_limit, tpm_limit;
    /* the rate limits the request was counted against (arena): tokens are added to them when
     * the call ends, and slots given back when the request ends */
    api_limit_use_t *limits;
    unsigned n_limits;
    /* slots given back when the request ends (limits.c): the deployment's parallel slot of the
     * attempt under way (its id, arena; NULL: none) and general_settings.
     * global_max_parallel_requests' one */
    const char *deployment_slot;
    bool global_slot;
    /* the response cache (cache.c): the request's key (arena; NULL when not looked up), and
     * whether and for how long its answer may be stored */
    const char *cache_key;
    bool cache_store;
    unsigned cache_call; /* the call type looked up (CFG_CACHE_CALL_*); 0: none */
    int64_t cache_ttl_ms;
} api_caller_t;

/* Per-worker set-up and tear-down: the key-cache reader, its wake-up handle and park timer (with
 * virtual keys), the rate-limit reader and maintenance timer (with ctx->limits), and the prepare
 * handle that takes both readers offline before each poll. Handles close without a callback. */
void api_worker_init(api_worker_t *w, uv_loop_t *loop);
void api_worker_close(api_worker_t *w);
/* ---- generations (gen.c) ---- */

/* Builds a generation from cfg (taken over, also on failure). Prices: `prev`'s catalogues are
 * shared when prev is given (see spend_prices_rebind), else the price file `prices_path` (may
 * be NULL) is loaded. NULL with a message in err when prices cannot be loaded. */
api_gen_t *api_gen_new(cfg_t *cfg, const api_gen_t *prev, const char *prices_path, char *err,
                       size_t err_size);
/* Makes gen the one new requests use; the one it replaces is retired (kept). One publisher at a
 * time. Logs a line. */
void api_gen_publish(api_ctx_t *ctx, api_gen_t *gen);
/* The current generation (one acquire load), for a request about to start. */
static inline const api_gen_t *api_gen_current(const api_ctx_t *ctx)
{
    return atomic_load_explicit((_Atomic(api_gen_t *) *)&ctx->gen, memory_order_acquire);
}
/* Frees the current generation and every retired one (shutdown: no request and no publisher
 * is left). */
void api_gen_free_all(api_ctx_t *ctx);
/* The generation of a request that passed api_authenticate. */
static inline const api_gen_t *api_req_gen(const http_req_t *req)
{
    return ((const api_caller_t *)req->caller)->gen;
}

/* The access groups of the config's deployments (malloc'd; free with api_access_groups_free). */
auth_access_group_t *api_access_groups_build(const cfg_t *cfg, size_t *count);
void api_access_groups_free(auth_access_group_t *groups, size_t count);
/* The key cache's on_answer: wakes the workers whose readers parked on the hash. */
void api_keys_on_answer(void *ctx, const auth_hash_t *hash, uint64_t waiters);

/* The HTTP handler of every worker; req->server_data is the api_worker_t. */
void api_handle(http_req_t *req);

/* ---- used by the endpoint files in src/api ---- */

/* Sends an OpenAI-shaped error {"error":{"message","type","param","code"}}; code is the status
 * as a string, as LiteLLM sends it. `param` NULL gives JSON null. */
void api_send_error(http_req_t *req, int status, const char *type, const char *param,
                    const char *message);

/* api_send_error, or the same error in Anthropic's envelope (the /v1/messages routes). */
void api_send_error_as(http_req_t *req, bool anthropic, int status, const char *type,
                       const char *param, const char *message);

enum {
    API_AUTH_ANTHROPIC = 1, /* errors in Anthropic's envelope */
    API_AUTH_LIMITS = 2,    /* an LLM call: the caller's rate limits apply */
};

/* Identifies the caller of an LLM route and runs LiteLLM's key checks (model from the body)
 * against the models of `gen`, which the request then keeps (req->caller->gen), then the end
 * user's (blocked, budget; for the master key too); with API_AUTH_LIMITS, the rate limits too
 * (api_limits_admit: a virtual key's and the end user's; the master key has only the latter).
 * 0: req->caller is filled, go on. 1: the request was answered (an error, a 429) or parked until
 * the store answers for its key or end user; api_handle runs it again then. flags: API_AUTH_*. */
int api_authenticate(http_req_t *req, api_worker_t *w, const api_gen_t *gen, unsigned flags);
/* The model names the caller may list (its key's allowlist); right after api_authenticate. */
const char *const *api_caller_models(http_req_t *req, api_worker_t *w, size_t *count);

/* The key-related response headers (x-litellm-key-spend, -max-budget, -tpm-limit, -rpm-limit). */
void api_caller_headers(http_req_t *req);

/* Token counts found in a provider's answer, whatever its format: OpenAI's usage
 * (prompt_tokens, completion_tokens, prompt_tokens_details.cached_tokens), Anthropic's
 * (input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens) and the
 * Responses API's (input_tokens, output_tokens, input_tokens_details.cached_tokens). */
typedef struct {
    uint64_t prompt, completion, cached, cache_creation;
    bool seen;
} api_usage_t;

/* Reads every "usage" object in text (a whole body, or stream bytes), keeping the largest value
 * of each count: a stream repeats or completes its counts in later events. */
void api_usage_scan(api_usage_t *u, const char *text, size_t n);

/* One finished call, for cost and the spend record. */
typedef struct {
    const char *call_id;
    const route_group_t *group;
    const route_target_t *target; /* NULL when no deployment was picked */
    const api_usage_t *usage;
    bool success;
    uint64_t first_byte_ns; /* uv_hrtime() of the provider's first byte; 0 when none */
    bool cache_hit;         /* answered from the response cache (SpendLogs cache_hit "True") */
} api_call_end_t;

/* The call's cost in USD (-1 when the model has no price), with the prices of the request's
 * generation. */
double api_call_cost(const api_gen_t *gen, const api_call_end_t *end);
/* Adds the cost to the caller's spend counters and queues the SpendLogs record. */
void api_call_record(http_req_t *req, const api_call_end_t *end, double cost);

/* ---- rate limits (limits.c) ---- */

/* The descriptors that apply to a virtual key's call of `model` (may be NULL), in LiteLLM's
 * order: api_key, user, team, team_member, end_user (c->end_user_*), model_per_key; those
 * without a limit are left out. rec NULL (the master key): end_user alone.
 * Values come from c (arena copies) and a. Returns how many. Pure. */
size_t api_limit_descriptors(const auth_key_t *rec, const api_caller_t *c, const char *model,
                             arena_t *a, api_limit_use_t out[API_LIMIT_DESCRIPTORS]);
/* LiteLLM's 429 text: "Rate limit exceeded for <key>: <value>. Limit type: <type>. Current
 * limit: N, Remaining: R. Limit resets at: YYYY-MM-DD HH:MM:SS UTC". */
void api_limit_message(const api_limit_use_t *u, const char *type, const lim_info_t *info,
                       char *out, size_t size);
/* "YYYY-MM-DD HH:MM:SS UTC" of Unix ms (the reset_at header and the message). */
void api_limit_reset_text(int64_t reset_ms, char out[32]);
/* The tokens a call adds to its tpm counters under general_settings.token_rate_limit_type
 * (`type`: "input" prompt, "output" completion, anything else, NULL included, total), cached
 * prompt tokens left out of input and total, as LiteLLM's v3 limiter. Pure. */
uint64_t api_limit_tokens(const char *type, const api_usage_t *u);
/* Counts the request against its descriptors (rpm counted, tpm checked, a parallel slot taken,
 * given back by req->on_end). 0: admitted. 1: answered with LiteLLM's 429 (throttling_error,
 * retry-after, rate_limit_type, reset_at). Right after the key checks, while rec is valid (NULL:
 * the master key). */
int api_limits_admit(http_req_t *req, api_worker_t *w, const auth_key_t *rec, const char *model,
                     bool anthropic);
/* The call ended: its tokens (prompt + completion) go to every tpm counter it was checked
 * against, and to its deployment's when that has a tpm. */
void api_limits_call_end(http_req_t *req, const api_call_end_t *end);
/* x-ratelimit-* (and x-litellm-key-remaining-*-<model>) headers of a limited call. */
void api_limits_headers(http_req_t *req);
/* general_settings.global_max_parallel_requests: takes one of this process's slots for an LLM
 * call (given back when the request ends), or answers LiteLLM's 429 "Max parallel request limit
 * reached Hit Global Limit: ..." and returns 1. 0 when admitted or when there is no cap. */
int api_limits_global(http_req_t *req, api_worker_t *w, bool anthropic);
/* route_pick with LiteLLM's pre-call check: deployments at their litellm_params rpm/tpm (or
 * without a free parallel slot) are skipped, and the one picked is counted against its rpm. 0,
 * or -1 with the 429 message in msg ("No deployments available for selected model, Try again in
 * N seconds...") and N in *retry_after_s (0: none). Nothing is written to the response: a
 * fallback group may still answer; when none does, api_retry_after_header sends N. */
int api_route_pick(http_req_t *req, const route_group_t *g, str_t model,
                   const route_deployment_t *avoid, route_target_t *out, char *msg, size_t size,
                   long long *retry_after_s);
/* retry-after: <secs> on the response; nothing when secs <= 0. */
void api_retry_after_header(http_req_t *req, long long secs);
/* A provider call to d started / ended (exactly once each): the router's health counters and,
 * with Redis, least-busy's in-flight gauge shared by every instance. */
void api_call_started(api_worker_t *w, const route_deployment_t *d);
void api_call_ended(api_worker_t *w, const route_deployment_t *d, uint64_t first_byte_ns);
/* d started a cooldown of cooldown_ms here: with Redis, other instances skip it too. */
void api_cooldown_share(api_worker_t *w, const route_deployment_t *d);
void api_worker_limits_init(api_worker_t *w, uv_loop_t *loop);
void api_worker_limits_close(api_worker_t *w);

/* ---- retries (retry.c): cooldown reports and LiteLLM's back-off between attempts ---------- */

/* One call's retry state, inside the proxy's request-scoped struct (zeroed). */
typedef struct {
    uv_timer_t *timer;      /* the pending back-off (heap; closed by api_retry_cancel) */
    int64_t retry_after_ms; /* the last attempt's retry-after / retry-after-ms; 0: none */
    int64_t min_ms;         /* router_settings.retry_after of the group being retried */
    bool by_policy;         /* retry_policy set this group's retries (api_retry_wanted) */
    void (*fire)(void *arg);
    void *arg;
} api_retry_t;

/* An attempt's response head: remembers its retry-after for the back-off. */
void api_retry_note_head(api_retry_t *r, const up_header_t *headers, size_t n);
/* A failed attempt on `t` (result UP_*, the provider's status): told to the router, which may
 * cool the deployment down. */
void api_attempt_failed(api_worker_t *w, const route_target_t *t, int result, int status);
/* After attempt number attempt + 1 on group g failed (result, status, the provider's error body):
 * whether to retry. Connection errors, timeouts, 429 and 5xx are retried while attempt <
 * *max_retries; on the group's first failure (attempt 0), g's retry_policy count for the
 * error's class, when it names one, becomes *max_retries and makes every later failure of the
 * group retryable (LiteLLM skips its should-retry checks then). */
bool api_retry_wanted(api_retry_t *r, const route_group_t *g, int attempt, int *max_retries,
                      int result, int status, str_t error_body);
/* Before retry number `attempt` (1 for the first retry): after a 429, waits LiteLLM's back-off
 * (0.5 s doubled per retry, at most 8 s, less up to 25% jitter; the provider's retry-after when
 * it is shorter than 8 s), and at least the group's retry_after (api_retry_wanted noted it), on
 * the worker's loop, then calls fire(arg); true when it did so. False: retry at once. */
bool api_retry_later(api_worker_t *w, api_retry_t *r, int result, int status, int attempt,
                     void (*fire)(void *arg), void *arg);
/* Stops a pending back-off (the client went away); fire is not called. */
void api_retry_cancel(api_retry_t *r);

/* ---- fallbacks (fallback.c) ------------------------------------------------------------------ */

/* A call's fallback state, inside the proxy's request-scoped struct (zeroed). */
typedef struct {
    const char *origin;         /* the group the client asked for; NULL until the first fallback */
    const cfg_fallback_t *list; /* the config entry being walked; NULL with `request` */
    const str_t *request;       /* the body's "fallbacks" names (arena), or NULL */
    size_t num_request;
    size_t next; /* index of the next name to try in the list being walked */
    int kind;    /* which list: 0 none yet */
    int used;    /* fallbacks started: x-litellm-attempted-fallbacks */
} api_fallback_t;

/* Takes the body's "fallbacks" member (a list of group names, or of {"model": name}) into f
 * (names in the request arena) and out of req->body (an arena copy; *model_raw follows). 0, or
 * -1 when it is not such a list. */
int api_fallback_take(http_req_t *req, api_fallback_t *f, str_t *model_raw);
/* req->body without `member` (a top-level member's text in it, key to value) and one comma next
 * to it, as an arena copy; *model_raw (may be NULL) is moved along. LiteLLM's own parameters
 * (`fallbacks`, `cache`) leave the body this way. 0, or -1 when out of memory. */
int api_body_remove_member(http_req_t *req, str_t member, str_t *model_raw);
/* The same from a parsed body (translated calls): the member is read and deleted. */
int api_fallback_take_json(http_req_t *req, api_fallback_t *f, cJSON *body);
/* The group `failed` gave up (every retry spent) with result/status and the provider's error
 * body: the next fallback group this caller may use, or NULL. Context-window errors walk
 * context_window_fallbacks, content-policy errors content_policy_fallbacks; other failures
 * the request's "fallbacks", else the config's fallbacks, else default_fallbacks. Other 4xx
 * errors than 401/403/404/408/429 fall back only to the first two lists. `usable` (may be NULL)
 * vets a candidate group (the splice path cannot switch to a translated provider). *name is
 * the model name to call it with. */
const route_group_t *api_fallback_next(http_req_t *req, api_fallback_t *f,
                                       const route_group_t *failed, int result, int status,
                                       str_t error_body, bool (*usable)(const route_group_t *g),
                                       const char **name);
/* LiteLLM's exception class (cfg_error_class_t) of a failed attempt: a content-policy 4xx is
 * ContentPolicyViolationError, a timeout Timeout; -1 for a connection error and for 403, 409
 * and 422, which no policy names. */
int api_error_class(int result, int status, str_t error_body);
/* x-litellm-attempted-fallbacks. */
void api_fallback_header(http_req_t *req, const api_fallback_t *f);
/* Whether the caller's key (and team) may call `model` (the master key may call any). */
bool api_caller_may_use(http_req_t *req, const char *model);

/* A fresh call id (UUID v4 text) into out[37]. */
void api_call_id(api_worker_t *w, char out[37]);

/* ---- the response cache (cache.c, docs/cache.md) ---- */

/* A call about to reach its provider, as the response cache sees it. */
typedef struct {
    const route_group_t *group;
    unsigned call_type; /* CFG_CACHE_CALL_*: the route, for supported_call_types and streams */
    bool stream;
    str_t *model_raw;        /* pass-through: the model value in req->body (moved along); or NULL */
    struct cJSON *docs[2];   /* translated: parsed copies of the body; NULL when none */
    void (*go)(void *arg);   /* Redis answered a miss: call the provider */
    void (*drop)(void *arg); /* a hit answered, or the client left: free what arg holds; or NULL */
    void *arg;
} api_cache_call_t;

/* Before the first attempt of a cacheable call (ctx->cache_on): computes the cache key, takes
 * the body's `cache` controls out of req->body and the docs, and, when the call type is in
 * supported_call_types and the mode lets this request use the cache, answers a hit from it. 0: no
 * answer, call the provider now. 1: answered, or (Redis) the lookup is under way and call->go runs
 * on this worker if it misses; the caller stops either way. */
int api_cache_lookup(http_req_t *req, const api_cache_call_t *call);
/* The worker's Redis-cache inbox (with ctx->cache_redis); caller.c's worker init and close. */
void api_worker_cache_init(api_worker_t *w, uv_loop_t *loop);
void api_worker_cache_close(api_worker_t *w);
/* After a successful non-stream answer: stores it under the request's key unless told not to. */
void api_cache_store(http_req_t *req, str_t content_type, const char *body, size_t n);
/* Streams: whether the call's stream should be kept for the cache (a key, no no-store, a ttl). */
bool api_cache_stream_wanted(http_req_t *req);
/* After a stream ended well: stores what LiteLLM stores for it (the chat.completion or
 * text_completion its SSE bytes add up to; a /v1/messages stream's events); nothing when it
 * cannot be rebuilt. */
void api_cache_store_stream(http_req_t *req, const char *sse, size_t n);
/* A 403 (LiteLLM's cache-control check) when the request's `cache` object names a control that
 * is not in the key's allowed_cache_controls (empty: any). 0: allowed; 1: answered. */
int api_cache_controls_check(http_req_t *req, const char *const *allowed, size_t n_allowed,
                             bool anthropic);
/* GET /cache/ping, POST /cache/delete, POST /cache/flushall (the master key only). */
void api_cache_route(http_req_t *req, str_t path);
#define API_CACHE_STREAM_MAX (4u << 20) /* a longer stream is not kept */

/* The OpenAI-compatible proxy: chat, completions, embeddings. */
void api_proxy_openai(http_req_t *req, api_kind_t kind);

/* A pass-through call: the body goes upstream with only the model value replaced. */
typedef struct {
    api_kind_t kind;
    const char *method;           /* NULL: POST */
    const struct api_format *fmt; /* the client's format (errors) */
    const char *suffix;           /* upstream path after the base: "/v1/messages", "/responses" */
    bool anthropic_auth;          /* Anthropic's headers (x-api-key, anthropic-version) */
    bool raw_errors;              /* provider errors go back unchanged (client speaks its API) */
    const route_group_t *group;
    str_t model;     /* the client's model, decoded */
    str_t model_raw; /* the raw JSON value in the body */
    bool stream;
} api_splice_t;

void api_proxy_splice(http_req_t *req, const api_splice_t *sp);

/* /v1/messages (and its count_tokens), /v1/responses and /v1/responses/{id}. */
void api_messages(http_req_t *req, bool count_tokens);
void api_responses(http_req_t *req);
void api_responses_by_id(http_req_t *req, str_t rest);

#endif
