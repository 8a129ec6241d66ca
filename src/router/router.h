/* SPDX-License-Identifier: MIT
 * Model groups and deployments: the model name a client sends is matched to a group (exact
 * names first, then wildcard patterns), and one deployment is picked by LiteLLM's simple-shuffle
 * (weighted random by weight, else rpm, else tpm, else uniform). Built once from the config;
 * read by every worker without locks. */
#ifndef SLUICE_ROUTER_ROUTER_H
#define SLUICE_ROUTER_ROUTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "core/arena.h"
#include "core/str.h"
#include "providers/providers.h"

typedef struct route_table route_table_t;

/* latency-based-routing keeps a deployment's last samples (LiteLLM's max_latency_list_size). */
#define ROUTE_LATENCY_SAMPLES 10

/* What the workers learn about a deployment while calling it (LiteLLM's cooldowns), kept per
 * process and written with atomics only; a new route table starts afresh. Counters that race
 * may lose an update, which only delays a cooldown by a call. */
typedef struct {
    _Atomic int64_t cooldown_until_ms; /* route_now_ms() before which it is skipped */
    /* failure rate: failures and successes, each forgotten 60 s after its last increment
     * (LiteLLM's per-deployment counters with a 60 s TTL) */
    _Atomic int fails, successes;
    _Atomic int64_t fail_last_ms, success_last_ms;
    /* allowed_fails(_policy): failures counted, forgotten cooldown_ms after the last one */
    _Atomic int policy_fails;
    _Atomic int64_t policy_fail_last_ms;
    _Atomic int inflight; /* least-busy: calls under way */
    /* latency-based-routing: times to first byte, a ring of (second of route_now_ms() + 1) << 32
     * | microseconds (0: empty); samples older than the ttl are not counted */
    _Atomic uint64_t latency[ROUTE_LATENCY_SAMPLES];
    _Atomic unsigned latency_next;
    _Atomic int64_t usage_minute; /* usage-based-routing: the minute usage_tokens counts */
    _Atomic int64_t usage_tokens;
} route_health_t;

/* router_settings.routing_strategy, as far as sluice implements it. */
typedef enum {
    ROUTE_SIMPLE_SHUFFLE,
    ROUTE_LEAST_BUSY,
    ROUTE_LATENCY,
    ROUTE_COST,
    ROUTE_USAGE, /* usage-based-routing(-v2): fewest tokens this minute */
} route_strategy_t;

/* A deployment ready to call: URLs and header lines computed once at start-up. */
typedef struct {
    const cfg_deployment_t *cfg;
    const prov_info_t *prov; /* NULL when the provider is resolved per request ("*" models) */
    const char *api_base;    /* without trailing '/'; NULL when resolved per request or computed
                                by the adapter (bedrock, vertex_ai) */
    const char *api_key;     /* api_key, else the provider's variable; NULL when none */
    const char **headers;    /* "Name: value" lines, NULL-terminated (auth, content type, extras) */
    const char *api_base_for_header; /* api_base without query, for x-litellm-model-api-base */
    double weight;                   /* simple-shuffle weight (>0) */
    uint64_t timeout_ms;
    uint64_t stream_timeout_ms;
    int num_retries;
    bool model_has_star;    /* litellm_params.model contains '*': substituted per request */
    route_health_t *health; /* owned by the table; mutable through a const deployment */
    int allowed_fails;      /* failures tolerated before a cooldown (with count_fails) */
    /* LiteLLM's legacy rule, when allowed_fails_policy is set or router_settings.allowed_fails
     * differs from litellm_settings' (3): cool after more than allowed_fails (the policy's count
     * for the error's class first) failures; else the failure-rate rule */
    bool count_fails;
    const cfg_error_policy_t *allowed_fails_policy; /* NULL when unset; owned by the config */
    int64_t cooldown_ms;    /* 0: never cooled (disable_cooldowns, or its group's only one) */
    int64_t latency_ttl_ms; /* routing_strategy_args.ttl: older latency samples are forgotten */
    route_strategy_t strategy;
    double cost_per_token; /* cost-based-routing: input + output price; 1 (LiteLLM's $1) unknown */
} route_deployment_t;

typedef struct {
    const char *name;
    route_deployment_t **deployments;
    size_t num_deployments;
    double total_weight;
    bool wildcard;
    size_t specificity; /* literal characters in a wildcard name: more is preferred */
    bool limited;       /* a deployment has rpm, tpm or a parallel cap: pre-call checks */
    bool ordered;       /* a deployment has litellm_params.order: the lowest usable tier wins */
    route_strategy_t strategy;
    double latency_buffer; /* routing_strategy_args.lowest_latency_buffer: draw among those
                              within this share of the fastest */
    /* retries per exception class: model_group_retry_policy's entry for this group, else
     * retry_policy; NULL when neither (num_retries for every class). Owned by the config. */
    const cfg_error_policy_t *retry_policy;
    int64_t retry_after_ms; /* router_settings.retry_after: least wait before a retry */
} route_group_t;

/* What one attempt calls. Slices and header lines live in the request arena or the table. */
typedef struct {
    const route_group_t *group;
    const route_deployment_t *dep;
    const prov_info_t *prov;
    str_t upstream_model; /* the model value to send upstream, unquoted */
    const char *api_base;
    const char *api_key;
    const char **headers;
} route_target_t;

/* Builds the table. NULL with *err (static text or heap, log it) when a deployment is unusable. */
route_table_t *route_table_new(const cfg_t *cfg, char *err, size_t err_size);
void route_table_free(route_table_t *t);

/* The group serving `model`, or NULL. model_group_alias names first, then exact names, then
 * patterns. */
const route_group_t *route_find_group(const route_table_t *t, str_t model);

/* Picks a deployment of the group for `model` and resolves what to call. `avoid` (may be NULL)
 * is skipped when the group has another deployment; deployments cooling down are skipped; with
 * litellm_params.order, only the lowest tier that has a usable deployment is drawn from (no
 * order: after every ordered tier). 0, ROUTE_ALL_COOLING, or -1 with a message in *err. */
int route_pick(const route_group_t *g, str_t model, uint64_t *rng, const route_deployment_t *avoid,
               arena_t *arena, route_target_t *out, const char **err);

/* What the caller knows about deployments beyond this process's own health counters, asked by
 * route_pick_usable once per deployment and pick. Every member may be NULL. */
typedef struct {
    /* LiteLLM's pre-call checks: false when d may not take a call now (over its rpm/tpm, its
     * context window too small, no parallel slot) */
    bool (*usable)(void *arg, const route_deployment_t *d);
    /* milliseconds left of a cooldown another instance started on d (shared through Redis);
     * 0 when none */
    int64_t (*cooling_ms)(void *arg, const route_deployment_t *d);
    /* least-busy: d's calls under way; usage-based-routing: its tokens in the current window;
     * across every instance. < 0: unknown, this process's own count is used */
    int64_t (*load)(void *arg, const route_deployment_t *d);
    void *arg;
} route_view_t;

/* route_pick seen through `view` (NULL: this process only): cooling deployments (here or, per
 * view->cooling_ms, elsewhere) are skipped, then those view->usable refuses; the shuffle's weights
 * are those of the usable ones, and least-busy / usage-based scores come from view->load. 0, -1
 * with *err, ROUTE_ALL_COOLING, or ROUTE_NONE_USABLE when view->usable refused every deployment
 * that is not cooling. */
#define ROUTE_NONE_USABLE 1
#define ROUTE_ALL_COOLING 2 /* every deployment of the group is cooling down */
int route_pick_usable(const route_group_t *g, str_t model, uint64_t *rng,
                      const route_deployment_t *avoid, const route_view_t *view, arena_t *arena,
                      route_target_t *out, const char **err);

/* Milliseconds of a monotonic clock, the time base of cooldowns. */
int64_t route_now_ms(void);

/* route_report_failure's status for a call that could not connect or lost its connection
 * (LiteLLM's APIConnectionError). */
#define ROUTE_CONNECTION_ERROR (-1)

/* A failed call to `d`: `status` is the provider's HTTP status, 408 for a timeout, or
 * ROUTE_CONNECTION_ERROR. As LiteLLM decides: every failure counts toward the failure rate;
 * only 401, 404, 408, 429 and 5xx may cool (not other 4xx, not connection errors); then with
 * count_fails, more than allowed_fails (allowed_fails_policy's count for the class first)
 * failures, each within cooldown_ms of the previous, cool; else 429, 401 and 404 cool at once,
 * other statuses when more than half of at least ROUTE_FAILURE_MIN_REQUESTS calls in the
 * last minute failed. True when `d` now cools. */
#define ROUTE_FAILURE_MIN_REQUESTS 5 /* LiteLLM's DEFAULT_FAILURE_THRESHOLD_MINIMUM_REQUESTS */
bool route_report_failure(const route_deployment_t *d, int status, int64_t now_ms);

/* The exception class LiteLLM maps a provider status to (for allowed_fails_policy and
 * retry_policy): 401 authentication, 404 not found, 408 timeout, 429 rate limit, 502 bad
 * gateway, 503 service unavailable, other 5xx internal server error, other 4xx bad request. */
cfg_error_class_t route_error_class(int status);

/* latency-based-routing: the average time to first byte of `d` over its samples younger than
 * its latency ttl at now_ms, in microseconds; 0 when there is none. */
int64_t route_latency_us(const route_deployment_t *d, int64_t now_ms);

/* A call to `d` started / ended (exactly once each per provider call): in-flight counts for
 * least-busy, the time to first byte (ns; 0 when the call failed or was cancelled) for
 * latency-based-routing, and a success for the failure-rate cooldown when first_byte_ns > 0. */
void route_call_started(const route_deployment_t *d);
void route_call_ended(const route_deployment_t *d, uint64_t first_byte_ns);

/* usage-based-routing: a finished call's prompt + completion tokens, counted in the current
 * minute (per process). A no-op under other strategies. */
void route_call_tokens(const route_deployment_t *d, uint64_t tokens, int64_t now_ms);

/* Whether `d` is cooling down at `now_ms`. */
bool route_is_cooling(const route_deployment_t *d, int64_t now_ms);

/* After ROUTE_ALL_COOLING: LiteLLM's message "No deployments available for selected model, Try
 * again in N seconds. Passed model=... pre-call-checks=False, cooldown_list=[...]" (True with
 * enable_pre_call_checks) into msg, and N (the wait until the first deployment is usable again,
 * whole seconds, at least 1). `view` (may be NULL) adds cooldowns other instances started. */
long long route_cooldown_message(const route_group_t *g, str_t model, int64_t now_ms,
                                 bool pre_call_checks, const route_view_t *view, char *msg,
                                 size_t size);

/* cost-based-routing: sets every deployment's cost_per_token from `price` (returns < 0 when
 * the model is unknown). Called once, before the table is shared. */
void route_table_set_costs(route_table_t *t, double (*price)(void *arg, const cfg_deployment_t *d),
                           void *arg);

/* Model names for /v1/models, in config order, without duplicates or wildcards, then the
 * model_group_alias names that are not hidden. */
const char *const *route_model_names(const route_table_t *t, size_t *count);

/* A fast per-thread random number (xorshift64*); seed with route_rng_seed. */
uint64_t route_rng_next(uint64_t *state);
uint64_t route_rng_seed(void);

/* Matches `text` against a glob with '*'; captures up to `max` starred parts. Count or -1. */
int route_glob_match(str_t pattern, str_t text, str_t *captures, int max);

#endif
