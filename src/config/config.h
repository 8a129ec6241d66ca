/* SPDX-License-Identifier: MIT
 * config.yaml, as LiteLLM reads it: model_list, litellm_settings, router_settings,
 * general_settings, environment_variables. Loaded once into plain structs; `os.environ/NAME`
 * is resolved wherever a string may stand. Keys sluice does not know are warned about once.
 * Errors name file:line:column and the key. The loaded cfg_t is immutable and owned by the
 * caller of cfg_load (workers read it without locks). */
#ifndef SLUICE_CONFIG_CONFIG_H
#define SLUICE_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

typedef struct {
    char *name;
    char *value;
} cfg_kv_t;

/* One model_list entry: a deployment of the model group `model_name`. */
typedef struct cfg_deployment {
    char *model_name; /* public name clients send; may contain '*' */
    char *model;      /* litellm_params.model as written: "openai/gpt-4o", "openai/<x>" patterns,
                         "<star>" */
    char *provider;   /* "openai", "groq", ... (text before the first '/'; "" when none) */
    char *provider_model; /* the rest: "gpt-4o" (may contain '/', may be "*") */
    char *api_key;        /* NULL when unset */
    char *api_base;       /* NULL when unset */
    char *api_version;
    char *organization;
    double timeout_s;        /* litellm_params.timeout; 0 when unset */
    double stream_timeout_s; /* litellm_params.stream_timeout; 0 when unset */
    int max_retries;         /* -1 when unset */
    long long rpm, tpm;      /* 0 when unset */
    /* litellm_params.max_parallel_requests, 0 when unset: see cfg_deployment_max_parallel */
    long long max_parallel_requests;
    double weight;           /* 0 when unset */
    double cooldown_time_s;  /* litellm_params.cooldown_time; -1 when unset */
    int order;               /* litellm_params.order (1 is tried first); 0 when unset */
    cfg_kv_t *extra_headers; /* litellm_params.extra_headers, in file order */
    size_t num_extra_headers;
    /* model_info */
    char *id;             /* model_info.id, or a stable hash of litellm_params when absent (hex) */
    char *mode;           /* NULL when unset */
    char **access_groups; /* model_info.access_groups: names a key's `models` may use */
    size_t num_access_groups;
    double input_cost_per_token, output_cost_per_token; /* -1 when unset */
    long long max_input_tokens; /* model_info.max_input_tokens; 0 when unset */
    cfg_kv_t *params; /* every scalar litellm_params entry, os.environ/ resolved, file order */
    size_t num_params;
    bool wildcard; /* model_name contains '*' */
    int line;      /* line of the entry in the file, for messages; 0 for a model from the
                      database (cfg_with_models) */
} cfg_deployment_t;

/* One entry of a fallbacks list: {"group": ["g1", "g2"]} (group "*": any group). */
typedef struct {
    char *group;
    char **to;
    size_t num_to;
} cfg_fallback_t;

/* cache_params.supported_call_types: the proxy routes whose answers the response cache keeps,
 * by LiteLLM's call-type names (docs/cache.md). */
enum {
    CFG_CACHE_CALL_CHAT = 1u << 0,      /* acompletion: /chat/completions */
    CFG_CACHE_CALL_TEXT = 1u << 1,      /* atext_completion: /completions */
    CFG_CACHE_CALL_EMBEDDING = 1u << 2, /* aembedding: /embeddings */
    CFG_CACHE_CALL_RESPONSES = 1u << 3, /* aresponses, responses: /v1/responses */
    CFG_CACHE_CALL_MESSAGES = 1u << 4,  /* anthropic_messages, aanthropic_messages: /v1/messages */
    CFG_CACHE_CALL_ALL = (1u << 5) - 1,
};

/* LiteLLM's exception classes that router_settings.retry_policy ("<Class>Retries") and
 * allowed_fails_policy ("<Class>AllowedFails") name; api/retry.c maps statuses to them. */
typedef enum {
    CFG_ERR_BAD_REQUEST,         /* BadRequestError: 400 and the 4xx not named below */
    CFG_ERR_AUTHENTICATION,      /* AuthenticationError: 401 */
    CFG_ERR_TIMEOUT,             /* Timeout ("TimeoutError..."): 408, a call that timed out */
    CFG_ERR_RATE_LIMIT,          /* RateLimitError: 429 */
    CFG_ERR_CONTENT_POLICY,      /* ContentPolicyViolationError: a 400 about content policy */
    CFG_ERR_INTERNAL_SERVER,     /* InternalServerError: 5xx but 503 */
    CFG_ERR_SERVICE_UNAVAILABLE, /* ServiceUnavailableError: 503 */
    CFG_ERR_BAD_GATEWAY,         /* BadGatewayError: 502 (allowed_fails_policy only) */
    CFG_ERR_NOT_FOUND,           /* NotFoundError: 404 (allowed_fails_policy only) */
    CFG_ERR_COUNT
} cfg_error_class_t;

/* A count per exception class; -1 where the policy does not name the class. */
typedef struct {
    int n[CFG_ERR_COUNT];
} cfg_error_policy_t;

/* router_settings.model_group_retry_policy: one group's retry_policy. */
typedef struct {
    char *group;
    cfg_error_policy_t policy;
} cfg_group_policy_t;

/* router_settings.model_group_alias: `alias` is served by `group`; hidden ones are not listed. */
typedef struct {
    char *alias;
    char *group;
    bool hidden;
} cfg_alias_t;

typedef struct {
    char *path;
    /* The YAML text as read, for cfg_with_models (NULL in a cfg that cfg_with_models made). */
    char *source;
    size_t source_len;
    cfg_deployment_t *deployments;
    size_t num_deployments;

    /* general_settings */
    char *master_key;           /* general_settings.master_key, else $LITELLM_MASTER_KEY; NULL */
    double max_request_size_mb; /* default 32 */
    char *database_url;         /* NULL when unset */
    bool store_model_in_db;     /* also $STORE_MODEL_IN_DB=True: route LiteLLM_ProxyModelTable */
    double user_api_key_cache_ttl_s; /* key cache TTL; default 60 */
    double proxy_batch_write_at_s;   /* spend batch interval; default 10 */
    bool disable_spend_logs;         /* no SpendLogs rows (spend increments still written) */
    /* limits (docs/limits.md): which tokens a tpm counter adds, "total" (NULL), "input",
     * "output"; max_parallel_requests, the deployments' last default; global_max_parallel_
     * requests, this process's cap on LLM calls in flight (0: none) */
    char *token_rate_limit_type;
    long long max_parallel_requests, global_max_parallel_requests;

    /* litellm_settings */
    int num_retries;          /* -1 when unset */
    double request_timeout_s; /* default 6000 */
    bool drop_params;
    bool json_logs;
    bool set_verbose;
    char *max_end_user_budget_id; /* the budget row of end users without one; NULL: none */

    /* router_settings (override litellm_settings where both exist) */
    int router_num_retries;         /* -1 when unset */
    double router_timeout_s;        /* 0 when unset */
    double router_stream_timeout_s; /* 0 when unset */
    char *routing_strategy;         /* default "simple-shuffle" */
    double lowest_latency_buffer;   /* routing_strategy_args.lowest_latency_buffer; 0 unset */
    double latency_ttl_s;           /* routing_strategy_args.ttl: samples kept; default 3600 */
    /* retries: router_settings.retry_after (least wait before a retry, s; 0), retry_policy and
     * model_group_retry_policy (retries per exception class) */
    double retry_after_s;
    bool has_retry_policy;
    cfg_error_policy_t retry_policy;
    cfg_group_policy_t *group_retry_policies;
    size_t num_group_retry_policies;
    /* cooldowns (router_settings, else litellm_settings): -1 when unset */
    int router_allowed_fails, allowed_fails;
    double router_cooldown_time_s, cooldown_time_s;
    bool disable_cooldowns;
    bool has_allowed_fails_policy; /* router_settings.allowed_fails_policy */
    cfg_error_policy_t allowed_fails_policy;
    bool enable_pre_call_checks; /* skip deployments whose context window the prompt exceeds */
    long long default_max_parallel_requests; /* deployments without rpm/tpm; 0: none */
    /* fallbacks (router_settings or litellm_settings, the later in the file wins) */
    cfg_fallback_t *fallbacks, *context_window_fallbacks, *content_policy_fallbacks;
    size_t num_fallbacks, num_context_window_fallbacks, num_content_policy_fallbacks;
    char **default_fallbacks;
    size_t num_default_fallbacks;
    int max_fallbacks; /* -1 when unset (5) */
    cfg_alias_t *group_aliases;
    size_t num_group_aliases;

    /* Redis, for limits across instances (lim_redis_conf_find, docs/limits.md): strings NULL
     * and numbers -1 when unset. router_settings.redis_*: */
    char *router_redis_host, *router_redis_password, *router_redis_url;
    int router_redis_port, router_redis_db;
    /* litellm_settings.cache_params (Redis only when type is "redis"): */
    char *cache_type, *cache_host, *cache_password, *cache_username, *cache_url;
    int cache_port, cache_db;
    bool cache_ssl;
    /* the response cache (litellm_settings.cache, docs/cache.md) */
    bool cache_on;
    double cache_ttl_s, cache_max_memory_mb; /* default 600 s, 64 MiB */
    int cache_max_entries;                   /* max_size_in_memory; default 200 */
    double cache_socket_timeout_s;           /* Redis lookups: a miss after this; -1: 5 ms */
    char *cache_namespace;
    /* cache_params.mode: default_off (opt-in per request with cache: {"use-cache": true}) */
    bool cache_default_off;
    /* cache_params.supported_call_types as CFG_CACHE_CALL_* bits; unset: all */
    bool cache_call_types_set;
    unsigned cache_call_types;
} cfg_t;

/* Problems found while loading, each formatted "file:line:col: key: message". */
typedef struct {
    char **errors;
    size_t num_errors;
    char **warnings;
    size_t num_warnings;
} cfg_diag_t;

/* A deployment's parallel-call cap, as LiteLLM's calculate_max_parallel_requests derives it:
 * litellm_params.max_parallel_requests, else rpm, else int(tpm / 1000 * 6) (at least 1), else
 * router_settings.default_max_parallel_requests, else general_settings.max_parallel_requests;
 * 0: none. */
long long cfg_deployment_max_parallel(const cfg_t *cfg, const cfg_deployment_t *d);

/* The value of litellm_params.`name` as a string ("us-east-1", "0.7"), or NULL when unset. */
const char *cfg_deployment_param(const cfg_deployment_t *d, const char *name);

/* Loads and validates `path`. Sets the variables of environment_variables into the process
 * environment (before resolving os.environ/ references). Returns NULL when there is any error;
 * diag (may be NULL) receives every error and warning. The caller frees with cfg_free. */
cfg_t *cfg_load(const char *path, cfg_diag_t *diag);

/* Same, from a string (tests, fuzzing); `name` is used in messages. */
cfg_t *cfg_load_string(const char *name, const char *text, size_t len, cfg_diag_t *diag);

/* store_model_in_db: the config `base` (from cfg_load or cfg_load_string) parsed again from its
 * source text (not from the file, which may have changed since), with `models` appended to
 * model_list. `models` is a JSON array of {"model_name", "litellm_params", "model_info"} objects
 * (LiteLLM_ProxyModelTable rows, litellm_params decrypted, model_info.id = the row's model_id);
 * each is read exactly as a model_list entry of the file (same keys and checks, os.environ/
 * references, provider detection, ids). environment_variables are not applied again, and the
 * file's own warnings are not repeated. An entry with errors is left out with its messages
 * turned into warnings (one bad row does not keep the others out), as is one whose id is
 * already taken; messages name it "LiteLLM_ProxyModelTable[<id>]". NULL only when `base` has
 * no source or its text no longer loads. The caller frees with cfg_free. */
cfg_t *cfg_with_models(const cfg_t *base, const cJSON *models, cfg_diag_t *diag);

void cfg_free(cfg_t *cfg);
void cfg_diag_free(cfg_diag_t *diag);

/* `sluice --check FILE`: prints every problem to `out`; returns the number of errors. */
int cfg_check(const char *path, FILE *out);

#endif
