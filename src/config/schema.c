/* SPDX-License-Identifier: MIT
 * What config.yaml may contain: one table per section (key, type, where it is stored, default)
 * and the walker that applies them. Supporting a new key is adding a row; keys LiteLLM has and
 * sluice does not use yet are rows too, so they are told apart from typos. */
#include "config/internal.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/common.h"

typedef enum {
    CFG_F_STR,         /* char *, os.environ/ resolved */
    CFG_F_NUM,         /* double >= 0 */
    CFG_F_INT,         /* int >= 0 */
    CFG_F_COUNT,       /* long long >= 0 */
    CFG_F_BOOL,        /* bool */
    CFG_F_STRMAP,      /* cfg_kv_t * at offset, size_t count at count_offset */
    CFG_F_SECTION,     /* a nested mapping stored into the same struct */
    CFG_F_CUSTOM,      /* handled by `custom` */
    CFG_F_ACCEPT,      /* a LiteLLM key sluice ignores silently (passed through later) */
    CFG_F_UNSUPPORTED, /* a LiteLLM key sluice does not implement: warned once */
    CFG_F_SKIP,        /* handled before the walk (environment_variables) */
} cfg_field_type_t;

#define CFG_REQUIRED 1u

typedef struct cfg_section cfg_section_t;
typedef struct cfg_field cfg_field_t;

struct cfg_field {
    const char *name;
    cfg_field_type_t type;
    size_t offset;       /* into the struct the section fills */
    size_t count_offset; /* CFG_F_STRMAP */
    const char *def;     /* default, as the text it would have in the file */
    const char *env;     /* CFG_F_STR: environment variable used when the key is absent */
    unsigned flags;
    const char *const *choices; /* CFG_F_STR: the allowed values, NULL-terminated */
    const cfg_section_t *section;
    void (*custom)(cfg_ctx_t *c, yaml_node_t *value, const char *path, void *base);
    /* after a value was stored: extra checks that only warn */
    void (*check)(cfg_ctx_t *c, yaml_node_t *value, const char *path, void *base);
};

struct cfg_section {
    const cfg_field_t *fields;
    size_t num_fields;
    bool free_form; /* unknown keys are expected (model_info extras): no warning */
};

#define CFG_SECTION_OF(table, free)                                                                \
    {                                                                                              \
        table, COUNTOF(table), free                                                                \
    }

/* A deployment while it is loaded: the public struct plus what only loading needs. */
typedef struct {
    cfg_deployment_t d;
    char *custom_llm_provider;
    double params_input_cost, params_output_cost; /* litellm_params pricing, -1 when unset */
    char **organizations;                         /* litellm_params.organization given as a list */
    size_t num_organizations;
    yaml_node_t *params; /* the litellm_params mapping, hashed into the default id */
} cfg_load_deployment_t;

#define DEP(member) offsetof(cfg_load_deployment_t, member)
#define CFG(member) offsetof(cfg_t, member)

#define ROW(n, t, off, ...)                                                                        \
    {                                                                                              \
        .name = (n), .type = (t), .offset = (off), __VA_ARGS__                                     \
    }
#define ACCEPT(n)                                                                                  \
    {                                                                                              \
        .name = (n), .type = CFG_F_ACCEPT                                                          \
    }
#define LATER(n)                                                                                   \
    {                                                                                              \
        .name = (n), .type = CFG_F_UNSUPPORTED                                                     \
    }

static void cfg_store_model_list(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base);
static void cfg_store_litellm_params(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base);
static void cfg_store_organization(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base);
static void cfg_check_master_key(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base);
static void cfg_store_access_groups(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base);
static void cfg_store_fallbacks(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base);
static void cfg_store_cw_fallbacks(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base);
static void cfg_store_cp_fallbacks(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base);
static void cfg_store_default_fallbacks(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base);
static void cfg_store_group_alias(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base);
static void cfg_store_retry_policy(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base);
static void cfg_store_group_retry_policy(cfg_ctx_t *c, yaml_node_t *v, const char *path,
                                         void *base);
static void cfg_store_allowed_fails_policy(cfg_ctx_t *c, yaml_node_t *v, const char *path,
                                           void *base);

/* ---- the tables -------------------------------------------------------------------------- */

/* litellm.md §1.2. Keys sluice reads have a type; the rest are accepted silently because
 * LiteLLM accepts them on every deployment (and passes completion defaults to the provider). */
static const cfg_field_t cfg_litellm_params_fields[] = {
    ROW("model", CFG_F_STR, DEP(d.model), .flags = CFG_REQUIRED),
    ROW("api_key", CFG_F_STR, DEP(d.api_key)),
    ROW("api_base", CFG_F_STR, DEP(d.api_base)),
    ROW("api_version", CFG_F_STR, DEP(d.api_version)),
    ROW("organization", CFG_F_CUSTOM, 0, .custom = cfg_store_organization),
    ROW("custom_llm_provider", CFG_F_STR, DEP(custom_llm_provider)),
    ROW("timeout", CFG_F_NUM, DEP(d.timeout_s)),
    ROW("stream_timeout", CFG_F_NUM, DEP(d.stream_timeout_s)),
    ROW("max_retries", CFG_F_INT, DEP(d.max_retries), .def = "-1"),
    ROW("rpm", CFG_F_COUNT, DEP(d.rpm)),
    ROW("tpm", CFG_F_COUNT, DEP(d.tpm)),
    ROW("weight", CFG_F_NUM, DEP(d.weight)),
    ROW("cooldown_time", CFG_F_NUM, DEP(d.cooldown_time_s), .def = "-1"),
    ROW("order", CFG_F_INT, DEP(d.order)),
    ROW("extra_headers", CFG_F_STRMAP, DEP(d.extra_headers),
        .count_offset = DEP(d.num_extra_headers)),
    ROW("input_cost_per_token", CFG_F_NUM, DEP(params_input_cost), .def = "-1"),
    ROW("output_cost_per_token", CFG_F_NUM, DEP(params_output_cost), .def = "-1"),
    /* credentials and provider specifics */
    ACCEPT("litellm_credential_name"),
    ACCEPT("azure_ad_token"),
    ACCEPT("tenant_id"),
    ACCEPT("client_id"),
    ACCEPT("client_secret"),
    ACCEPT("azure_username"),
    ACCEPT("azure_password"),
    ACCEPT("azure_scope"),
    ACCEPT("region_name"),
    ACCEPT("configurable_clientside_auth_params"),
    ACCEPT("vertex_project"),
    ACCEPT("vertex_location"),
    ACCEPT("vertex_credentials"),
    ACCEPT("vertex_ai_project"),
    ACCEPT("vertex_ai_location"),
    ACCEPT("aws_access_key_id"),
    ACCEPT("aws_secret_access_key"),
    ACCEPT("aws_session_token"),
    ACCEPT("aws_region_name"),
    ACCEPT("aws_session_name"),
    ACCEPT("aws_profile_name"),
    ACCEPT("aws_role_name"),
    ACCEPT("aws_web_identity_token"),
    ACCEPT("aws_sts_endpoint"),
    ACCEPT("aws_external_id"),
    ACCEPT("aws_bedrock_runtime_endpoint"),
    ACCEPT("aws_bedrock_project_id"),
    ACCEPT("s3_bucket_name"),
    ACCEPT("s3_region_name"),
    ACCEPT("aws_batch_role_arn"),
    ACCEPT("s3_output_bucket_name"),
    ACCEPT("bedrock_tags"),
    ACCEPT("watsonx_region_name"),
    ACCEPT("gcs_bucket_name"),
    /* routing and limits */
    ACCEPT("itpm"),
    ACCEPT("otpm"),
    ROW("max_parallel_requests", CFG_F_COUNT, DEP(d.max_parallel_requests)),
    ACCEPT("tags"),
    ACCEPT("tag_regex"),
    ACCEPT("max_budget"),
    ACCEPT("budget_duration"),
    ACCEPT("default_api_key_tpm_limit"),
    ACCEPT("default_api_key_rpm_limit"),
    ACCEPT("num_retries"),
    ACCEPT("keepalive_seconds"),
    /* behaviour */
    ACCEPT("drop_params"),
    ACCEPT("additional_drop_params"),
    ACCEPT("use_in_pass_through"),
    ACCEPT("use_litellm_proxy"),
    ACCEPT("use_chat_completions_api"),
    ACCEPT("merge_reasoning_content_in_choices"),
    ACCEPT("mock_response"),
    ACCEPT("max_file_size_mb"),
    /* pricing beyond per-token */
    ACCEPT("input_cost_per_second"),
    ACCEPT("output_cost_per_second"),
    ACCEPT("input_cost_per_character"),
    ACCEPT("output_cost_per_character"),
    ACCEPT("cache_creation_input_token_cost"),
    ACCEPT("cache_read_input_token_cost"),
    /* completion defaults merged into every request */
    ACCEPT("temperature"),
    ACCEPT("top_p"),
    ACCEPT("n"),
    ACCEPT("stop"),
    ACCEPT("max_tokens"),
    ACCEPT("max_completion_tokens"),
    ACCEPT("presence_penalty"),
    ACCEPT("frequency_penalty"),
    ACCEPT("logit_bias"),
    ACCEPT("user"),
    ACCEPT("response_format"),
    ACCEPT("seed"),
    ACCEPT("tools"),
    ACCEPT("tool_choice"),
    ACCEPT("parallel_tool_calls"),
    ACCEPT("logprobs"),
    ACCEPT("top_logprobs"),
    ACCEPT("reasoning_effort"),
    ACCEPT("thinking"),
    ACCEPT("extra_body"),
};

/* model_info is free-form in LiteLLM (extra="allow"): unknown keys are not warned about. */
static const cfg_field_t cfg_model_info_fields[] = {
    ROW("id", CFG_F_STR, DEP(d.id)),
    ROW("mode", CFG_F_STR, DEP(d.mode)),
    ROW("input_cost_per_token", CFG_F_NUM, DEP(d.input_cost_per_token), .def = "-1"),
    ROW("output_cost_per_token", CFG_F_NUM, DEP(d.output_cost_per_token), .def = "-1"),
    ROW("access_groups", CFG_F_CUSTOM, 0, .custom = cfg_store_access_groups),
    ROW("max_input_tokens", CFG_F_COUNT, DEP(d.max_input_tokens)),
};

static const cfg_section_t cfg_litellm_params_section =
    CFG_SECTION_OF(cfg_litellm_params_fields, false);
static const cfg_section_t cfg_model_info_section = CFG_SECTION_OF(cfg_model_info_fields, true);

static const cfg_field_t cfg_deployment_fields[] = {
    ROW("model_name", CFG_F_STR, DEP(d.model_name), .flags = CFG_REQUIRED),
    ROW("litellm_params", CFG_F_CUSTOM, 0, .flags = CFG_REQUIRED,
        .section = &cfg_litellm_params_section, .custom = cfg_store_litellm_params),
    ROW("model_info", CFG_F_SECTION, 0, .section = &cfg_model_info_section),
};
static const cfg_section_t cfg_deployment_section = CFG_SECTION_OF(cfg_deployment_fields, false);

/* litellm.md §8: Cache(**cache_params). Only what locates Redis is read (limits across instances,
 * docs/limits.md); LiteLLM hands the other keys to its cache or to redis-py, so any key is fine
 * here, and the deployments sluice cannot reach (Cluster, Sentinel) are warned about. */
static void cfg_store_cache_mode(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base);
static void cfg_store_cache_call_types(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base);
static const cfg_field_t cfg_cache_params_fields[] = {
    ROW("type", CFG_F_STR, CFG(cache_type)),
    ROW("host", CFG_F_STR, CFG(cache_host)),
    ROW("port", CFG_F_INT, CFG(cache_port), .def = "-1"),
    ROW("password", CFG_F_STR, CFG(cache_password)),
    ROW("username", CFG_F_STR, CFG(cache_username)),
    ROW("url", CFG_F_STR, CFG(cache_url)),
    ROW("db", CFG_F_INT, CFG(cache_db), .def = "-1"),
    ROW("ssl", CFG_F_BOOL, CFG(cache_ssl)),
    /* the response cache (docs/cache.md) */
    ROW("ttl", CFG_F_NUM, CFG(cache_ttl_s), .def = "600"),
    ROW("namespace", CFG_F_STR, CFG(cache_namespace)),
    ROW("max_size_in_memory", CFG_F_INT, CFG(cache_max_entries), .def = "200"),
    ROW("max_memory_mb", CFG_F_NUM, CFG(cache_max_memory_mb), .def = "64"),
    ROW("socket_timeout", CFG_F_NUM, CFG(cache_socket_timeout_s), .def = "-1"),
    ROW("mode", CFG_F_CUSTOM, 0, .custom = cfg_store_cache_mode),
    ROW("supported_call_types", CFG_F_CUSTOM, 0, .custom = cfg_store_cache_call_types),
    LATER("redis_startup_nodes"),
    LATER("service_name"),
    LATER("sentinel_nodes"),
};
static const cfg_section_t cfg_cache_params_section = CFG_SECTION_OF(cfg_cache_params_fields, true);

/* litellm.md §1.4. LiteLLM sets any key here as a module attribute, so nothing is an error;
 * known keys sluice does not implement get a "not supported yet" warning. */
static const cfg_field_t cfg_litellm_settings_fields[] = {
    ROW("num_retries", CFG_F_INT, CFG(num_retries), .def = "-1"),
    ROW("request_timeout", CFG_F_NUM, CFG(request_timeout_s), .def = "6000"),
    ROW("drop_params", CFG_F_BOOL, CFG(drop_params)),
    ROW("json_logs", CFG_F_BOOL, CFG(json_logs)),
    ROW("set_verbose", CFG_F_BOOL, CFG(set_verbose)),
    LATER("modify_params"),
    LATER("force_ipv4"),
    ROW("fallbacks", CFG_F_CUSTOM, 0, .custom = cfg_store_fallbacks),
    ROW("default_fallbacks", CFG_F_CUSTOM, 0, .custom = cfg_store_default_fallbacks),
    ROW("context_window_fallbacks", CFG_F_CUSTOM, 0, .custom = cfg_store_cw_fallbacks),
    ROW("content_policy_fallbacks", CFG_F_CUSTOM, 0, .custom = cfg_store_cp_fallbacks),
    ROW("allowed_fails", CFG_F_INT, CFG(allowed_fails), .def = "-1"),
    ROW("cooldown_time", CFG_F_NUM, CFG(cooldown_time_s), .def = "-1"),
    ROW("cache", CFG_F_BOOL, CFG(cache_on)),
    ROW("cache_params", CFG_F_SECTION, 0, .section = &cfg_cache_params_section),
    LATER("enable_redis_auth_cache"),
    LATER("success_callback"),
    LATER("failure_callback"),
    LATER("callbacks"),
    LATER("service_callbacks"),
    LATER("turn_off_message_logging"),
    LATER("redact_user_api_key_info"),
    LATER("max_budget"),
    LATER("budget_duration"),
    ROW("max_end_user_budget_id", CFG_F_STR, CFG(max_end_user_budget_id)),
    LATER("cost_discount_config"),
    LATER("cost_margin_config"),
    LATER("default_team_params"),
    LATER("key_generation_settings"),
    LATER("enable_json_schema_validation"),
    LATER("enable_key_alias_format_validation"),
    LATER("require_auth_for_metrics_endpoint"),
    LATER("network_mock"),
    LATER("enable_caching_on_provider_specific_optional_params"),
    LATER("ssl_verify"),
    LATER("ssl_certificate"),
    LATER("route_all_chat_openai_to_responses"),
    LATER("use_chat_completions_url_for_anthropic_messages"),
    LATER("budget_exceeded_error_message"),
    LATER("expose_router_debug_in_errors"),
};

/* litellm.md §1.5 (the code literal "lar1" included, so LiteLLM configs using it load) */
static const char *const cfg_routing_strategies[] = {
    "simple-shuffle",
    "least-busy",
    "usage-based-routing",
    "usage-based-routing-v2",
    "latency-based-routing",
    "cost-based-routing",
    "lar1",
    NULL,
};

static const cfg_field_t cfg_strategy_args_fields[] = {
    ROW("lowest_latency_buffer", CFG_F_NUM, CFG(lowest_latency_buffer)),
    ROW("ttl", CFG_F_NUM, CFG(latency_ttl_s), .def = "3600"),
};
static const cfg_section_t cfg_strategy_args_section =
    CFG_SECTION_OF(cfg_strategy_args_fields, false);

static const cfg_field_t cfg_router_settings_fields[] = {
    ROW("routing_strategy", CFG_F_STR, CFG(routing_strategy), .def = "simple-shuffle",
        .choices = cfg_routing_strategies),
    ROW("num_retries", CFG_F_INT, CFG(router_num_retries), .def = "-1"),
    ROW("timeout", CFG_F_NUM, CFG(router_timeout_s)),
    ROW("stream_timeout", CFG_F_NUM, CFG(router_stream_timeout_s)),
    ROW("routing_strategy_args", CFG_F_SECTION, 0, .section = &cfg_strategy_args_section),
    ROW("redis_host", CFG_F_STR, CFG(router_redis_host)),
    ROW("redis_port", CFG_F_INT, CFG(router_redis_port), .def = "-1"),
    ROW("redis_password", CFG_F_STR, CFG(router_redis_password)),
    ROW("redis_db", CFG_F_INT, CFG(router_redis_db), .def = "-1"),
    ROW("redis_url", CFG_F_STR, CFG(router_redis_url)),
    LATER("cache_kwargs"),
    LATER("cache_responses"),
    LATER("caching_groups"),
    ROW("retry_after", CFG_F_NUM, CFG(retry_after_s)),
    ROW("retry_policy", CFG_F_CUSTOM, 0, .custom = cfg_store_retry_policy),
    ROW("model_group_retry_policy", CFG_F_CUSTOM, 0, .custom = cfg_store_group_retry_policy),
    ROW("allowed_fails", CFG_F_INT, CFG(router_allowed_fails), .def = "-1"),
    ROW("allowed_fails_policy", CFG_F_CUSTOM, 0, .custom = cfg_store_allowed_fails_policy),
    ROW("cooldown_time", CFG_F_NUM, CFG(router_cooldown_time_s), .def = "-1"),
    ROW("disable_cooldowns", CFG_F_BOOL, CFG(disable_cooldowns)),
    ROW("fallbacks", CFG_F_CUSTOM, 0, .custom = cfg_store_fallbacks),
    ROW("default_fallbacks", CFG_F_CUSTOM, 0, .custom = cfg_store_default_fallbacks),
    ROW("context_window_fallbacks", CFG_F_CUSTOM, 0, .custom = cfg_store_cw_fallbacks),
    ROW("content_policy_fallbacks", CFG_F_CUSTOM, 0, .custom = cfg_store_cp_fallbacks),
    ROW("max_fallbacks", CFG_F_INT, CFG(max_fallbacks), .def = "-1"),
    ROW("enable_pre_call_checks", CFG_F_BOOL, CFG(enable_pre_call_checks)),
    LATER("optional_pre_call_checks"),
    LATER("deployment_affinity_ttl_seconds"),
    LATER("model_group_affinity_config"),
    ROW("model_group_alias", CFG_F_CUSTOM, 0, .custom = cfg_store_group_alias),
    ROW("default_max_parallel_requests", CFG_F_COUNT, CFG(default_max_parallel_requests)),
    LATER("default_litellm_params"),
    LATER("enable_tag_filtering"),
    LATER("tag_filtering_match_any"),
    LATER("provider_budget_config"),
    LATER("client_ttl"),
    LATER("ignore_invalid_deployments"),
    LATER("enable_health_check_routing"),
    LATER("health_check_staleness_threshold"),
    LATER("health_check_ignore_transient_errors"),
    LATER("polling_interval"),
    LATER("default_priority"),
    LATER("search_tools"),
};

/* litellm.md §1.6 */
static const cfg_field_t cfg_general_settings_fields[] = {
    ROW("master_key", CFG_F_STR, CFG(master_key), .env = "LITELLM_MASTER_KEY",
        .check = cfg_check_master_key),
    ROW("max_request_size_mb", CFG_F_NUM, CFG(max_request_size_mb), .def = "32"),
    ROW("database_url", CFG_F_STR, CFG(database_url), .env = "DATABASE_URL"),
    LATER("database_connection_pool_limit"),
    LATER("database_connection_timeout"),
    LATER("database_connection_pool_timeout"),
    LATER("allow_requests_on_db_unavailable"),
    ROW("store_model_in_db", CFG_F_BOOL, CFG(store_model_in_db)),
    LATER("supported_db_objects"),
    LATER("disable_prisma_schema_update"),
    LATER("custom_auth"),
    LATER("custom_auth_run_common_checks"),
    LATER("litellm_key_header_name"),
    LATER("enable_jwt_auth"),
    LATER("litellm_jwtauth"),
    LATER("enable_oauth2_auth"),
    ROW("user_api_key_cache_ttl", CFG_F_NUM, CFG(user_api_key_cache_ttl_s), .def = "60"),
    LATER("allowed_ips"),
    LATER("use_x_forwarded_for"),
    LATER("allowed_routes"),
    LATER("public_routes"),
    LATER("admin_only_routes"),
    LATER("enforce_user_param"),
    LATER("enforced_params"),
    LATER("reject_clientside_metadata_tags"),
    LATER("allow_client_side_credentials"),
    LATER("max_response_size_mb"),
    LATER("infer_model_from_keys"),
    LATER("default_team_disabled"),
    LATER("ui_access_mode"),
    LATER("control_plane_url"),
    LATER("encryption_algorithm"),
    ROW("proxy_batch_write_at", CFG_F_NUM, CFG(proxy_batch_write_at_s), .def = "10"),
    ROW("disable_spend_logs", CFG_F_BOOL, CFG(disable_spend_logs)),
    LATER("disable_spend_updates"),
    LATER("disable_error_logs"),
    LATER("store_prompts_in_spend_logs"),
    LATER("maximum_spend_logs_retention_period"),
    LATER("maximum_spend_logs_retention_interval"),
    LATER("maximum_spend_logs_cleanup_cron"),
    LATER("use_redis_transaction_buffer"),
    LATER("disable_reset_budget"),
    LATER("proxy_budget_rescheduler_min_time"),
    LATER("proxy_budget_rescheduler_max_time"),
    LATER("proxy_batch_polling_interval"),
    LATER("disable_adding_master_key_hash_to_db"),
    ROW("token_rate_limit_type", CFG_F_STR, CFG(token_rate_limit_type)),
    ROW("max_parallel_requests", CFG_F_COUNT, CFG(max_parallel_requests)),
    ROW("global_max_parallel_requests", CFG_F_COUNT, CFG(global_max_parallel_requests)),
    LATER("background_health_checks"),
    LATER("health_check_interval"),
    LATER("health_check_details"),
    LATER("use_shared_health_check"),
    LATER("health_check_concurrency"),
    LATER("alerting"),
    LATER("alerting_threshold"),
    LATER("alert_types"),
    LATER("alert_to_webhook_url"),
    LATER("forward_client_headers_to_llm_api"),
    LATER("forward_openai_org_id"),
    LATER("forward_llm_provider_auth_headers"),
    LATER("include_call_id_in_error_body"),
    LATER("always_include_stream_usage"),
    LATER("completion_model"),
    LATER("embedding_model"),
    LATER("image_generation_model"),
    LATER("moderation_model"),
    LATER("pass_through_endpoints"),
    LATER("use_client_credentials_pass_through_routes"),
    LATER("user_header_name"),
    LATER("user_header_mappings"),
    LATER("search_tools"),
};

static const cfg_section_t cfg_litellm_settings_section =
    CFG_SECTION_OF(cfg_litellm_settings_fields, false);
static const cfg_section_t cfg_router_settings_section =
    CFG_SECTION_OF(cfg_router_settings_fields, false);
static const cfg_section_t cfg_general_settings_section =
    CFG_SECTION_OF(cfg_general_settings_fields, false);

/* litellm.md §1 */
static const cfg_field_t cfg_top_fields[] = {
    ROW("model_list", CFG_F_CUSTOM, 0, .custom = cfg_store_model_list),
    ROW("litellm_settings", CFG_F_SECTION, 0, .section = &cfg_litellm_settings_section),
    ROW("router_settings", CFG_F_SECTION, 0, .section = &cfg_router_settings_section),
    ROW("general_settings", CFG_F_SECTION, 0, .section = &cfg_general_settings_section),
    ROW("environment_variables", CFG_F_SKIP, 0),
    LATER("credential_list"),
    LATER("include"),
    LATER("guardrails"),
    LATER("mcp_servers"),
    LATER("worker_registry"),
    LATER("assistant_settings"),
    LATER("search_tools"),
    LATER("pass_through_endpoints"),
    LATER("callback_settings"),
    LATER("files_settings"),
    LATER("finetune_settings"),
    LATER("vector_store_registry"),
};
static const cfg_section_t cfg_top_section = CFG_SECTION_OF(cfg_top_fields, false);

/* ---- defaults and storing values --------------------------------------------------------- */

static void cfg_set_default(const cfg_field_t *f, void *base)
{
    char *slot = (char *)base + f->offset;
    if (f->type == CFG_F_SECTION) {
        for (size_t i = 0; i < f->section->num_fields; i++)
            cfg_set_default(&f->section->fields[i], base);
        return;
    }
    if (f->type == CFG_F_CUSTOM && f->section) {
        for (size_t i = 0; i < f->section->num_fields; i++)
            cfg_set_default(&f->section->fields[i], base);
        return;
    }
    if (!f->def)
        return;
    switch (f->type) {
    case CFG_F_STR:
        *(char **)slot = xstrdup(f->def);
        break;
    case CFG_F_NUM:
        *(double *)slot = strtod(f->def, NULL);
        break;
    case CFG_F_INT:
        *(int *)slot = (int)strtol(f->def, NULL, 10);
        break;
    case CFG_F_COUNT:
        *(long long *)slot = strtoll(f->def, NULL, 10);
        break;
    case CFG_F_BOOL:
        *(bool *)slot = strcmp(f->def, "true") == 0;
        break;
    default:
        break;
    }
}

static void cfg_section_defaults(const cfg_section_t *s, void *base)
{
    for (size_t i = 0; i < s->num_fields; i++)
        cfg_set_default(&s->fields[i], base);
}

/* Environment fallbacks for keys that stayed unset (general_settings.master_key and
 * $LITELLM_MASTER_KEY); they apply whether or not the section was written. */
static void cfg_section_env_fallbacks(cfg_ctx_t *c, const cfg_section_t *s, void *base)
{
    for (size_t i = 0; i < s->num_fields; i++) {
        const cfg_field_t *f = &s->fields[i];
        if (f->type == CFG_F_SECTION)
            cfg_section_env_fallbacks(c, f->section, base);
        if (f->type != CFG_F_STR || !f->env)
            continue;
        char **slot = (char **)((char *)base + f->offset);
        const char *v = *slot ? NULL : cfg_env_get(c, f->env);
        if (v)
            *slot = xstrdup(v);
    }
}

/* Reads a number for a numeric field; 1 stored in *out, 0 unset, -1 error reported. */
static int cfg_number_value(cfg_ctx_t *c, yaml_node_t *v, const char *path, bool whole, double max,
                            double *out)
{
    const char *expected = whole ? "a whole number" : "a number";
    cfg_text_t t;
    int r = cfg_resolve_scalar(c, v, path, expected, &t);
    if (r <= 0)
        return r;
    char got[80];
    if (cfg_parse_number(&t, out) < 0) {
        if (t.env)
            cfg_report(c, true, &v->start_mark, path, "expected %s in $%s, got %s", expected, t.env,
                       cfg_text_describe(&t, got, sizeof(got)));
        else
            cfg_report(c, true, &v->start_mark, path, "expected %s, got %s", expected,
                       cfg_text_describe(&t, got, sizeof(got)));
        return -1;
    }
    if (*out < 0) {
        cfg_report(c, true, &v->start_mark, path, "must not be negative, got %s",
                   cfg_text_describe(&t, got, sizeof(got)));
        return -1;
    }
    if (*out > max) {
        cfg_report(c, true, &v->start_mark, path, "too large, got %s",
                   cfg_text_describe(&t, got, sizeof(got)));
        return -1;
    }
    /* in range, so the cast is defined */
    if (whole && *out != (double)(long long)*out) {
        cfg_report(c, true, &v->start_mark, path, "expected %s, got %s", expected,
                   cfg_text_describe(&t, got, sizeof(got)));
        return -1;
    }
    return 1;
}

static bool cfg_in_choices(const char *const *choices, const cfg_text_t *t)
{
    for (; *choices; choices++)
        if (strlen(*choices) == t->n && memcmp(*choices, t->p, t->n) == 0)
            return true;
    return false;
}

static void cfg_store_string(cfg_ctx_t *c, const cfg_field_t *f, yaml_node_t *v, const char *path,
                             char **slot)
{
    cfg_text_t t;
    if (cfg_resolve_scalar(c, v, path, "a string", &t) <= 0)
        return;
    if (f->choices && !cfg_in_choices(f->choices, &t)) {
        char allowed[512] = "", got[80];
        size_t o = 0;
        for (const char *const *ch = f->choices; *ch && o < sizeof(allowed); ch++)
            o += (size_t)snprintf(allowed + o, sizeof(allowed) - o, "%s%s",
                                  ch == f->choices ? "" : ", ", *ch);
        cfg_report(c, true, &v->start_mark, path, "%s is not one of: %s",
                   cfg_text_describe(&t, got, sizeof(got)), allowed);
        return;
    }
    free(*slot);
    *slot = xstrndup(t.p, t.n);
}

static void cfg_store_strmap(cfg_ctx_t *c, const cfg_field_t *f, yaml_node_t *v, const char *path,
                             void *base)
{
    char got[80];
    if (cfg_node_is_null(v))
        return;
    if (v->type != YAML_MAPPING_NODE) {
        cfg_report(c, true, &v->start_mark, path, "expected a mapping of names to strings, got %s",
                   cfg_node_describe(v, got, sizeof(got)));
        return;
    }
    cfg_pairs_t pairs;
    if (cfg_map_pairs(c, v, path, &pairs) < 0)
        return;
    cfg_kv_t **slot = (cfg_kv_t **)((char *)base + f->offset);
    size_t *count = (size_t *)((char *)base + f->count_offset);
    cfg_kv_t *kv = xcalloc(pairs.n, sizeof(*kv));
    size_t n = 0;
    for (size_t i = 0; i < pairs.n; i++) {
        char kpath[CFG_PATH_MAX];
        cfg_path_key(kpath, path, pairs.items[i].key);
        cfg_text_t name, value;
        if (pairs.items[i].key->type != YAML_SCALAR_NODE || cfg_node_is_null(pairs.items[i].key)) {
            cfg_report(c, true, &pairs.items[i].key->start_mark, path,
                       "names here must be strings");
            continue;
        }
        name = (cfg_text_t){(const char *)pairs.items[i].key->data.scalar.value,
                            pairs.items[i].key->data.scalar.length, NULL, false};
        if (cfg_resolve_scalar(c, pairs.items[i].value, kpath, "a string", &value) <= 0)
            continue;
        kv[n].name = xstrndup(name.p, name.n);
        kv[n].value = xstrndup(value.p, value.n);
        n++;
    }
    for (size_t i = 0; i < *count; i++) {
        free((*slot)[i].name);
        free((*slot)[i].value);
    }
    free(*slot);
    *slot = kv;
    *count = n;
    cfg_pairs_free(&pairs);
}

static void cfg_walk_section(cfg_ctx_t *c, yaml_node_t *node, const char *path,
                             const cfg_section_t *s, void *base);

static void cfg_store(cfg_ctx_t *c, const cfg_field_t *f, yaml_node_t *v, const char *path,
                      void *base)
{
    char *slot = (char *)base + f->offset;
    double num;
    int r;
    switch (f->type) {
    case CFG_F_STR:
        cfg_store_string(c, f, v, path, (char **)slot);
        break;
    case CFG_F_NUM:
        if (cfg_number_value(c, v, path, false, 1e300, &num) > 0)
            *(double *)slot = num;
        break;
    case CFG_F_INT:
        if (cfg_number_value(c, v, path, true, INT_MAX, &num) > 0)
            *(int *)slot = (int)num;
        break;
    case CFG_F_COUNT:
        if (cfg_number_value(c, v, path, true, 9007199254740992.0, &num) > 0)
            *(long long *)slot = (long long)num;
        break;
    case CFG_F_BOOL: {
        cfg_text_t t;
        bool b;
        char got[80];
        if ((r = cfg_resolve_scalar(c, v, path, "true or false", &t)) <= 0)
            break;
        if (cfg_parse_bool(&t, &b) < 0) {
            cfg_report(c, true, &v->start_mark, path, "expected true or false, got %s",
                       cfg_text_describe(&t, got, sizeof(got)));
            break;
        }
        *(bool *)slot = b;
        break;
    }
    case CFG_F_STRMAP:
        cfg_store_strmap(c, f, v, path, base);
        break;
    case CFG_F_SECTION:
        cfg_walk_section(c, v, path, f->section, base);
        break;
    case CFG_F_CUSTOM:
        f->custom(c, v, path, base);
        break;
    case CFG_F_UNSUPPORTED: /* warned by the walker, which has the key's position */
    case CFG_F_ACCEPT:
    case CFG_F_SKIP:
        break;
    }
    if (f->check)
        f->check(c, v, path, base);
}

/* Applies section `s` to the mapping `node` (null counts as empty, so required keys are still
 * reported). */
static void cfg_walk_section(cfg_ctx_t *c, yaml_node_t *node, const char *path,
                             const cfg_section_t *s, void *base)
{
    char got[80], kpath[CFG_PATH_MAX];
    cfg_pairs_t pairs = {0};
    if (!cfg_node_is_null(node)) {
        if (node->type != YAML_MAPPING_NODE) {
            cfg_report(c, true, &node->start_mark, path, "expected a mapping, got %s",
                       cfg_node_describe(node, got, sizeof(got)));
            return;
        }
        if (cfg_map_pairs(c, node, path, &pairs) < 0)
            return;
    }
    enum { CFG_UNSEEN, CFG_SEEN, CFG_SEEN_BAD } *seen = xcalloc(s->num_fields, sizeof(*seen));
    for (size_t i = 0; i < pairs.n; i++) {
        yaml_node_t *k = pairs.items[i].key, *v = pairs.items[i].value;
        cfg_path_key(kpath, path, k);
        if (k->type != YAML_SCALAR_NODE) {
            cfg_report(c, false, &k->start_mark, path, "a key that is %s is ignored",
                       cfg_node_describe(k, got, sizeof(got)));
            continue;
        }
        size_t j = 0;
        while (j < s->num_fields && !cfg_key_is(k, s->fields[j].name))
            j++;
        if (j == s->num_fields) {
            if (!s->free_form)
                cfg_warn_once(c, &k->start_mark, kpath,
                              "unknown key, not supported by sluice yet, ignored");
            continue;
        }
        size_t errors = c->num_errors;
        if (s->fields[j].type == CFG_F_UNSUPPORTED)
            cfg_warn_once(c, &k->start_mark, kpath, "key not supported by sluice yet, ignored");
        else
            cfg_store(c, &s->fields[j], v, kpath, base);
        seen[j] = c->num_errors == errors ? CFG_SEEN : CFG_SEEN_BAD;
    }
    for (size_t j = 0; j < s->num_fields; j++) {
        const cfg_field_t *f = &s->fields[j];
        if (!(f->flags & CFG_REQUIRED))
            continue;
        cfg_path_join(kpath, path, f->name);
        if (seen[j] == CFG_UNSEEN)
            cfg_report(c, true, &node->start_mark, kpath, "required key is missing");
        else if (seen[j] == CFG_SEEN && f->type == CFG_F_STR) {
            char *value = *(char **)((char *)base + f->offset);
            if (!value || !*value)
                cfg_report(c, true, &node->start_mark, kpath, "must not be empty");
        }
    }
    free(seen);
    cfg_pairs_free(&pairs);
}

static void cfg_check_master_key(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base)
{
    const char *key = ((cfg_t *)base)->master_key;
    if (key && strncmp(key, "sk-", 3) != 0)
        cfg_report(c, false, &v->start_mark, path,
                   "master key does not start with 'sk-' (LiteLLM requires it)");
}

/* ---- model_list -------------------------------------------------------------------------- */

static void cfg_store_litellm_params(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base)
{
    cfg_load_deployment_t *ld = base;
    cfg_walk_section(c, v, path, &cfg_litellm_params_section, base);
    ld->params = v;
    /* every scalar param, resolved, for adapters that read provider specifics
     * (aws_region_name, vertex_project, ...) through cfg_deployment_param */
    cfg_pairs_t pairs = {0};
    c->quiet++; /* the walk above already reported what is wrong with these */
    if (v->type == YAML_MAPPING_NODE && cfg_map_pairs(c, v, path, &pairs) == 0) {
        for (size_t i = 0; i < pairs.n; i++) {
            yaml_node_t *key = pairs.items[i].key, *val = pairs.items[i].value;
            if (key->type != YAML_SCALAR_NODE || val->type != YAML_SCALAR_NODE)
                continue;
            cfg_text_t t;
            if (cfg_resolve_scalar(c, val, path, "a value", &t) != 1)
                continue;
            ld->d.params = xrealloc(ld->d.params, (ld->d.num_params + 1) * sizeof(cfg_kv_t));
            ld->d.params[ld->d.num_params++] =
                (cfg_kv_t){xstrndup((const char *)key->data.scalar.value, key->data.scalar.length),
                           xstrndup(t.p, t.n)};
        }
    }
    c->quiet--;
    cfg_pairs_free(&pairs);
}

static void cfg_free_organizations(cfg_load_deployment_t *ld)
{
    for (size_t i = 0; i < ld->num_organizations; i++)
        free(ld->organizations[i]);
    free(ld->organizations);
    ld->organizations = NULL;
    ld->num_organizations = 0;
}

/* cache_params.mode: LiteLLM's Cache.should_use_cache reads anything but default_on as opt-in. */
static void cfg_store_cache_mode(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base)
{
    cfg_t *cfg = base;
    cfg_text_t t;
    if (cfg_resolve_scalar(c, v, path, "default_on or default_off", &t) <= 0)
        return;
    cfg->cache_default_off = !(t.n == 10 && memcmp(t.p, "default_on", 10) == 0);
    if (cfg->cache_default_off && !(t.n == 11 && memcmp(t.p, "default_off", 11) == 0)) {
        char d[64];
        cfg_report(c, false, &v->start_mark, path,
                   "%s is not default_on or default_off; caching is opt-in (as LiteLLM reads it)",
                   cfg_text_describe(&t, d, sizeof d));
    }
}

/* cache_params.supported_call_types: LiteLLM's call-type names. The proxy's calls are the async
 * ones (acompletion, ...); the SDK's sync names (completion, ...) and the call types sluice has
 * no route for (transcription, rerank) are accepted and cache nothing here, as on LiteLLM's
 * proxy. [] caches nothing. */
static void cfg_store_cache_call_types(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {
        {"acompletion", CFG_CACHE_CALL_CHAT},
        {"atext_completion", CFG_CACHE_CALL_TEXT},
        {"aembedding", CFG_CACHE_CALL_EMBEDDING},
        {"aresponses", CFG_CACHE_CALL_RESPONSES},
        {"responses", CFG_CACHE_CALL_RESPONSES},
        {"anthropic_messages", CFG_CACHE_CALL_MESSAGES},
        {"aanthropic_messages", CFG_CACHE_CALL_MESSAGES},
        {"completion", 0},
        {"text_completion", 0},
        {"embedding", 0},
        {"atranscription", 0},
        {"transcription", 0},
        {"arerank", 0},
        {"rerank", 0},
    };
    cfg_t *cfg = base;
    cfg->cache_call_types_set = true;
    cfg->cache_call_types = 0;
    if (cfg_node_is_null(v)) {
        cfg->cache_call_types_set = false; /* None: LiteLLM's default list */
        return;
    }
    if (v->type != YAML_SEQUENCE_NODE) {
        char d[64];
        cfg_report(c, true, &v->start_mark, path, "expected a list of call types, got %s",
                   cfg_node_describe(v, d, sizeof d));
        return;
    }
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    for (size_t i = 0; i < n; i++) {
        char ipath[CFG_PATH_MAX];
        cfg_path_index(ipath, path, i);
        cfg_text_t t;
        yaml_node_t *item = cfg_node(c, v->data.sequence.items.start[i]);
        if (!item || cfg_resolve_scalar(c, item, ipath, "a call type", &t) <= 0)
            continue;
        size_t k = 0;
        while (k < COUNTOF(names) &&
               !(strlen(names[k].name) == t.n && memcmp(names[k].name, t.p, t.n) == 0))
            k++;
        char d[64];
        if (k == COUNTOF(names))
            cfg_report(c, false, &item->start_mark, ipath, "%s is not one of LiteLLM's call types",
                       cfg_text_describe(&t, d, sizeof d));
        else
            cfg->cache_call_types |= names[k].bit;
    }
}

/* A string, or (LiteLLM) a list of organizations: one deployment per organization. */
static void cfg_store_organization(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base)
{
    cfg_load_deployment_t *ld = base;
    static const cfg_field_t org = ROW("organization", CFG_F_STR, DEP(d.organization));
    cfg_free_organizations(ld);
    if (v->type != YAML_SEQUENCE_NODE) {
        cfg_store_string(c, &org, v, path, &ld->d.organization);
        return;
    }
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    ld->organizations = xcalloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        char ipath[CFG_PATH_MAX];
        cfg_path_index(ipath, path, i);
        cfg_text_t t;
        yaml_node_t *item = cfg_node(c, v->data.sequence.items.start[i]);
        if (item && cfg_resolve_scalar(c, item, ipath, "a string", &t) > 0)
            ld->organizations[ld->num_organizations++] = xstrndup(t.p, t.n);
    }
}

/* model_info.access_groups: a list of names (a single string is one name). */
static void cfg_store_access_groups(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base)
{
    cfg_load_deployment_t *ld = base;
    cfg_deployment_t *d = &ld->d;
    for (size_t i = 0; i < d->num_access_groups; i++)
        free(d->access_groups[i]);
    free(d->access_groups);
    d->access_groups = NULL;
    d->num_access_groups = 0;
    if (v->type != YAML_SEQUENCE_NODE) {
        cfg_text_t t;
        if (cfg_resolve_scalar(c, v, path, "a list of strings", &t) > 0) {
            d->access_groups = xcalloc(1, sizeof(char *));
            d->access_groups[d->num_access_groups++] = xstrndup(t.p, t.n);
        }
        return;
    }
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    d->access_groups = n ? xcalloc(n, sizeof(char *)) : NULL;
    for (size_t i = 0; i < n; i++) {
        char ipath[CFG_PATH_MAX];
        cfg_path_index(ipath, path, i);
        cfg_text_t t;
        yaml_node_t *item = cfg_node(c, v->data.sequence.items.start[i]);
        if (item && cfg_resolve_scalar(c, item, ipath, "a string", &t) > 0)
            d->access_groups[d->num_access_groups++] = xstrndup(t.p, t.n);
    }
}

/* Orders pairs by key so that the id does not depend on how keys are ordered or merged.
 * Keys are unique after cfg_map_pairs; a non-scalar key sorts by its position in the file. */
static int cfg_pair_cmp(const void *a, const void *b)
{
    const yaml_node_t *x = ((const cfg_pair_t *)a)->key, *y = ((const cfg_pair_t *)b)->key;
    bool xs = x->type == YAML_SCALAR_NODE, ys = y->type == YAML_SCALAR_NODE;
    if (!xs || !ys) {
        if (xs != ys)
            return xs ? -1 : 1;
        return x->start_mark.index < y->start_mark.index   ? -1
               : x->start_mark.index > y->start_mark.index ? 1
                                                           : 0;
    }
    size_t n = MIN(x->data.scalar.length, y->data.scalar.length);
    int r = memcmp(x->data.scalar.value, y->data.scalar.value, n);
    if (r)
        return r;
    return x->data.scalar.length < y->data.scalar.length   ? -1
           : x->data.scalar.length > y->data.scalar.length ? 1
                                                           : 0;
}

static void cfg_hash_node(cfg_ctx_t *c, buf_t *b, yaml_node_t *n, const char *org)
{
    if (n->type == YAML_SCALAR_NODE) {
        buf_printf(b, "s%zu:", n->data.scalar.length);
        buf_append(b, n->data.scalar.value, n->data.scalar.length);
    } else if (n->type == YAML_SEQUENCE_NODE) {
        buf_append_cstr(b, "[");
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            yaml_node_t *item = cfg_node(c, *it);
            if (item)
                cfg_hash_node(c, b, item, NULL);
        }
        buf_append_cstr(b, "]");
    } else if (n->type == YAML_MAPPING_NODE) {
        cfg_pairs_t pairs;
        buf_append_cstr(b, "{");
        if (cfg_map_pairs(c, n, "", &pairs) == 0) {
            if (pairs.n > 1)
                qsort(pairs.items, pairs.n, sizeof(*pairs.items), cfg_pair_cmp);
            for (size_t i = 0; i < pairs.n; i++) {
                cfg_hash_node(c, b, pairs.items[i].key, NULL);
                if (org && cfg_key_is(pairs.items[i].key, "organization"))
                    buf_printf(b, "s%zu:%s", strlen(org), org);
                else
                    cfg_hash_node(c, b, pairs.items[i].value, NULL);
            }
            cfg_pairs_free(&pairs);
        }
        buf_append_cstr(b, "}");
    }
}

/* The default deployment id: hex of the first 16 bytes of SHA-256 over model_name and the
 * litellm_params as written: os.environ/ references unresolved, so rotating a key keeps the
 * id; merge keys applied and keys sorted, so `<<: *defaults`, writing the keys out, or
 * reordering them give the same id. Identical entries get the same id, as in LiteLLM (whose
 * own hash, over Python's str() of the values, is not reproduced). */
static char *cfg_deployment_hash(cfg_ctx_t *c, const cfg_load_deployment_t *ld, const char *org)
{
    buf_t b = {0};
    buf_printf(&b, "s%zu:%s", strlen(ld->d.model_name), ld->d.model_name);
    c->quiet++; /* the walk has reported whatever these mappings hold */
    if (ld->params)
        cfg_hash_node(c, &b, ld->params, org);
    c->quiet--;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!b.p || !EVP_Digest(b.p, b.n, md, &mdlen, EVP_sha256(), NULL) || mdlen < 16) {
        fprintf(stderr, "sluice: SHA-256 failed\n");
        abort();
    }
    buf_free(&b);
    char *hex = xmalloc(33);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return hex;
}

static char *cfg_strdup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void cfg_append_deployment(cfg_ctx_t *c, cfg_t *cfg, const cfg_deployment_t *d)
{
    if (cfg->num_deployments == c->cap_deployments) {
        c->cap_deployments = c->cap_deployments ? c->cap_deployments * 2 : 8;
        cfg->deployments =
            xrealloc(cfg->deployments, c->cap_deployments * sizeof(*cfg->deployments));
    }
    cfg->deployments[cfg->num_deployments++] = *d;
}

static cfg_deployment_t cfg_deployment_copy(const cfg_deployment_t *s)
{
    cfg_deployment_t d = *s;
    d.model_name = cfg_strdup_or_null(s->model_name);
    d.model = cfg_strdup_or_null(s->model);
    d.provider = cfg_strdup_or_null(s->provider);
    d.provider_model = cfg_strdup_or_null(s->provider_model);
    d.api_key = cfg_strdup_or_null(s->api_key);
    d.api_base = cfg_strdup_or_null(s->api_base);
    d.api_version = cfg_strdup_or_null(s->api_version);
    d.organization = cfg_strdup_or_null(s->organization);
    d.id = cfg_strdup_or_null(s->id);
    d.mode = cfg_strdup_or_null(s->mode);
    d.access_groups = s->num_access_groups ? xcalloc(s->num_access_groups, sizeof(char *)) : NULL;
    for (size_t i = 0; i < s->num_access_groups; i++)
        d.access_groups[i] = xstrdup(s->access_groups[i]);
    d.params = s->num_params ? xcalloc(s->num_params, sizeof(cfg_kv_t)) : NULL;
    for (size_t i = 0; i < s->num_params; i++) {
        d.params[i].name = xstrdup(s->params[i].name);
        d.params[i].value = xstrdup(s->params[i].value);
    }
    d.extra_headers = s->num_extra_headers ? xcalloc(s->num_extra_headers, sizeof(cfg_kv_t)) : NULL;
    for (size_t i = 0; i < s->num_extra_headers; i++) {
        d.extra_headers[i].name = xstrdup(s->extra_headers[i].name);
        d.extra_headers[i].value = xstrdup(s->extra_headers[i].value);
    }
    return d;
}

/* Derives what LiteLLM derives from a loaded entry and appends it (or one per organization). */
static void cfg_finish_deployment(cfg_ctx_t *c, cfg_t *cfg, cfg_load_deployment_t *ld,
                                  yaml_node_t *item)
{
    cfg_deployment_t *d = &ld->d;
    const char *slash = strchr(d->model, '/');
    if (ld->custom_llm_provider && *ld->custom_llm_provider) {
        d->provider = xstrdup(ld->custom_llm_provider);
        d->provider_model = xstrdup(d->model);
    } else if (slash) {
        d->provider = xstrndup(d->model, (size_t)(slash - d->model));
        d->provider_model = xstrdup(slash + 1);
    } else {
        d->provider = xstrdup(""); /* the gateway infers it (openai) later */
        d->provider_model = xstrdup(d->model);
    }
    /* pricing in litellm_params is copied into model_info unless model_info has its own */
    if (d->input_cost_per_token < 0)
        d->input_cost_per_token = ld->params_input_cost;
    if (d->output_cost_per_token < 0)
        d->output_cost_per_token = ld->params_output_cost;
    d->wildcard = strchr(d->model_name, '*') != NULL;
    d->line = c->no_marks ? 0 : (int)item->start_mark.line + 1;

    if (ld->num_organizations == 0) {
        if (!d->id)
            d->id = cfg_deployment_hash(c, ld, NULL);
        cfg_append_deployment(c, cfg, d);
        *d = (cfg_deployment_t){0};
        return;
    }
    for (size_t i = 0; i < ld->num_organizations; i++) {
        cfg_deployment_t copy = cfg_deployment_copy(d);
        free(copy.organization);
        copy.organization = xstrdup(ld->organizations[i]);
        if (!d->id)
            copy.id = cfg_deployment_hash(c, ld, ld->organizations[i]);
        cfg_append_deployment(c, cfg, &copy);
    }
}

/* One model_list entry (a mapping with model_name, litellm_params, model_info): appended to cfg
 * unless it has errors. */
static void cfg_load_entry(cfg_ctx_t *c, cfg_t *cfg, yaml_node_t *item, const char *path)
{
    char got[80];
    if (item->type != YAML_MAPPING_NODE) {
        cfg_report(c, true, &item->start_mark, path,
                   "expected a mapping with model_name and litellm_params, got %s",
                   cfg_node_describe(item, got, sizeof(got)));
        return;
    }
    cfg_load_deployment_t ld = {0};
    cfg_section_defaults(&cfg_deployment_section, &ld);
    size_t errors = c->num_errors;
    cfg_walk_section(c, item, path, &cfg_deployment_section, &ld);
    if (c->num_errors == errors)
        cfg_finish_deployment(c, cfg, &ld, item);
    cfg_deployment_free(&ld.d);
    free(ld.custom_llm_provider);
    cfg_free_organizations(&ld);
}

static void cfg_store_model_list(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base)
{
    cfg_t *cfg = base;
    char got[80], ipath[CFG_PATH_MAX];
    if (cfg_node_is_null(v))
        return;
    if (v->type != YAML_SEQUENCE_NODE) {
        cfg_report(c, true, &v->start_mark, path, "expected a list of deployments, got %s",
                   cfg_node_describe(v, got, sizeof(got)));
        return;
    }
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = cfg_node(c, v->data.sequence.items.start[i]);
        cfg_path_index(ipath, path, i);
        if (item)
            cfg_load_entry(c, cfg, item, ipath);
    }
}

/* ---- store_model_in_db ------------------------------------------------------------------- */

/* True when a deployment of cfg already has the id. */
static bool cfg_has_id(const cfg_t *cfg, const char *id)
{
    for (size_t i = 0; i < cfg->num_deployments; i++)
        if (cfg->deployments[i].id && strcmp(cfg->deployments[i].id, id) == 0)
            return true;
    return false;
}

/* Each entry is built as a YAML node in a document of its own and loaded as a model_list entry
 * is. Messages carry the row's id instead of a position; an entry with errors is left out. */
void cfg_schema_add_models(cfg_ctx_t *c, cfg_t *cfg, const cJSON *models)
{
    yaml_document_t doc, *file_doc = c->doc;
    const char *file = c->file;
    char path[CFG_PATH_MAX], got[80];
    c->file = "database";
    if (!cJSON_IsArray(models) || !yaml_document_initialize(&doc, NULL, NULL, NULL, 1, 1)) {
        cfg_report(c, false, NULL, "LiteLLM_ProxyModelTable", "%s",
                   cJSON_IsArray(models) ? "out of memory" : "expected a list of models");
        c->file = file;
        return;
    }
    c->doc = &doc;
    c->no_marks = true;
    size_t index = 0;
    for (const cJSON *m = models->child; m; m = m->next, index++) {
        const cJSON *info = cJSON_GetObjectItemCaseSensitive(m, "model_info");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(info, "id");
        char name[96];
        if (cJSON_IsString(id))
            snprintf(name, sizeof(name), "LiteLLM_ProxyModelTable[%.40s]", id->valuestring);
        else
            snprintf(name, sizeof(name), "LiteLLM_ProxyModelTable[%zu]", index);
        cfg_path_join(path, "", name);
        if (cJSON_IsString(id) && cfg_has_id(cfg, id->valuestring)) {
            /* LiteLLM's router skips a deployment whose id it has (Router.add_deployment) */
            cfg_report(c, false, NULL, path, "id '%.40s' is taken by another deployment; left out",
                       id->valuestring);
            continue;
        }
        size_t first = c->num_msgs, errors = c->num_errors;
        int node = cfg_node_from_json(&doc, m, 0);
        yaml_node_t *item = node ? cfg_node(c, node) : NULL;
        if (!item)
            cfg_report(c, true, NULL, path, "nested more than %d levels deep, or out of memory",
                       CFG_MAX_DEPTH);
        else
            cfg_load_entry(c, cfg, item, path);
        if (c->num_errors == errors)
            continue;
        /* warnings, not errors: the file and the other rows still load */
        for (size_t k = first; k < c->num_msgs; k++) {
            if (!c->msgs[k].error)
                continue;
            c->msgs[k].error = false;
            c->num_errors--;
            c->num_warnings++;
        }
        const cJSON *mn = cJSON_GetObjectItemCaseSensitive(m, "model_name");
        cfg_text_t t = {cJSON_IsString(mn) ? mn->valuestring : "",
                        cJSON_IsString(mn) ? strlen(mn->valuestring) : 0, NULL, false};
        cfg_report(c, false, NULL, path, "model %s left out: it has the errors above",
                   cfg_text_describe(&t, got, sizeof(got)));
    }
    c->no_marks = false;
    c->doc = file_doc;
    c->file = file;
    yaml_document_delete(&doc);
}

void cfg_deployment_free(cfg_deployment_t *d)
{
    free(d->model_name);
    free(d->model);
    free(d->provider);
    free(d->provider_model);
    free(d->api_key);
    free(d->api_base);
    free(d->api_version);
    free(d->organization);
    for (size_t i = 0; i < d->num_extra_headers; i++) {
        free(d->extra_headers[i].name);
        free(d->extra_headers[i].value);
    }
    free(d->extra_headers);
    for (size_t i = 0; i < d->num_params; i++) {
        free(d->params[i].name);
        free(d->params[i].value);
    }
    free(d->params);
    for (size_t i = 0; i < d->num_access_groups; i++)
        free(d->access_groups[i]);
    free(d->access_groups);
    free(d->id);
    free(d->mode);
    *d = (cfg_deployment_t){0};
}

/* ---- entry points ------------------------------------------------------------------------ */

void cfg_schema_defaults(cfg_t *cfg)
{
    cfg_section_defaults(&cfg_top_section, cfg);
}

void cfg_schema_walk(cfg_ctx_t *c, yaml_node_t *root, cfg_t *cfg)
{
    cfg_walk_section(c, root, "", &cfg_top_section, cfg);
}

/* environment_variables: set before anything else is read, so os.environ/ sees them. Values
 * are converted as Python's str() would for what PyYAML produced (true -> "True"). */
void cfg_schema_apply_environment(cfg_ctx_t *c, yaml_node_t *root)
{
    cfg_pairs_t top, vars;
    char got[80], path[CFG_PATH_MAX];
    if (root->type != YAML_MAPPING_NODE || cfg_map_pairs(c, root, "", &top) < 0)
        return;
    for (size_t i = 0; i < top.n; i++) {
        yaml_node_t *map = top.items[i].value;
        if (!cfg_key_is(top.items[i].key, "environment_variables") || cfg_node_is_null(map))
            continue;
        if (map->type != YAML_MAPPING_NODE) {
            cfg_report(c, true, &map->start_mark, "environment_variables",
                       "expected a mapping of variable names to values, got %s",
                       cfg_node_describe(map, got, sizeof(got)));
            continue;
        }
        if (cfg_map_pairs(c, map, "environment_variables", &vars) < 0)
            continue;
        for (size_t j = 0; j < vars.n; j++) {
            yaml_node_t *k = vars.items[j].key, *v = vars.items[j].value;
            cfg_path_key(path, "environment_variables", k);
            const char *name = (const char *)k->data.scalar.value;
            if (k->type != YAML_SCALAR_NODE || k->data.scalar.length == 0 ||
                strlen(name) != k->data.scalar.length || strchr(name, '=')) {
                cfg_report(c, true, &k->start_mark, path, "not a valid environment variable name");
                continue;
            }
            cfg_text_t t;
            int r = cfg_resolve_scalar(c, v, path, "a string", &t);
            if (r < 0)
                continue;
            if (r == 0) {
                if (cfg_node_is_null(v))
                    cfg_report(c, false, &v->start_mark, path, "no value; variable not set");
                continue;
            }
            bool b;
            char *value;
            if (t.plain && cfg_parse_bool(&t, &b) == 0 && !(t.n == 1))
                value = xstrdup(b ? "True" : "False");
            else
                value = xstrndup(t.p, t.n);
            cfg_env_set(c, name, value);
            free(value);
        }
        cfg_pairs_free(&vars);
    }
    cfg_pairs_free(&top);
}

/* After the walk: environment fallbacks and the checks they need. */
void cfg_schema_finish(cfg_ctx_t *c, cfg_t *cfg)
{
    bool from_env = cfg->master_key == NULL;
    cfg_section_env_fallbacks(c, &cfg_top_section, cfg);
    /* LiteLLM also turns store_model_in_db on with $STORE_MODEL_IN_DB=True */
    const char *store = cfg_env_get(c, "STORE_MODEL_IN_DB");
    bool on = false;
    cfg_text_t t = {store, store ? strlen(store) : 0, NULL, true};
    if (store && cfg_parse_bool(&t, &on) == 0 && on)
        cfg->store_model_in_db = true;
    if (from_env && cfg->master_key && strncmp(cfg->master_key, "sk-", 3) != 0)
        cfg_report(c, false, NULL, "general_settings.master_key",
                   "master key from $LITELLM_MASTER_KEY does not start with 'sk-' (LiteLLM "
                   "requires it)");
}

/* ---- fallbacks ------------------------------------------------------------------------------ */

/* A string or a list of strings into a fresh array (os.environ/ resolved). */
static char **cfg_string_list(cfg_ctx_t *c, yaml_node_t *v, const char *path, size_t *count)
{
    *count = 0;
    if (v->type != YAML_SEQUENCE_NODE) {
        cfg_text_t t;
        if (cfg_resolve_scalar(c, v, path, "a list of model group names", &t) <= 0)
            return NULL;
        char **one = xcalloc(1, sizeof *one);
        one[(*count)++] = xstrndup(t.p, t.n);
        return one;
    }
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    char **out = xcalloc(n + 1, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        char ipath[CFG_PATH_MAX];
        cfg_path_index(ipath, path, i);
        cfg_text_t t;
        yaml_node_t *item = cfg_node(c, v->data.sequence.items.start[i]);
        if (item && cfg_resolve_scalar(c, item, ipath, "a model group name", &t) > 0)
            out[(*count)++] = xstrndup(t.p, t.n);
    }
    return out;
}

void cfg_free_fallbacks(cfg_fallback_t *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(f[i].group);
        for (size_t k = 0; k < f[i].num_to; k++)
            free(f[i].to[k]);
        free(f[i].to);
    }
    free(f);
}

/* [{"group": ["g1", "g2"]}, ...]: each mapping may hold several groups. */
static void cfg_store_fallback_list(cfg_ctx_t *c, yaml_node_t *v, const char *path,
                                    cfg_fallback_t **list, size_t *count)
{
    cfg_free_fallbacks(*list, *count);
    *list = NULL;
    *count = 0;
    if (cfg_node_is_null(v))
        return;
    if (v->type != YAML_SEQUENCE_NODE) {
        char got[64];
        cfg_report(c, true, &v->start_mark, path,
                   "expected a list of mappings like [{\"gpt-4o\": [\"gpt-4o-mini\"]}], got %s",
                   cfg_node_describe(v, got, sizeof got));
        return;
    }
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    for (size_t i = 0; i < n; i++) {
        char ipath[CFG_PATH_MAX];
        cfg_path_index(ipath, path, i);
        yaml_node_t *item = cfg_node(c, v->data.sequence.items.start[i]);
        if (!item || item->type != YAML_MAPPING_NODE) {
            char got[64];
            cfg_report(c, true, item ? &item->start_mark : NULL, ipath,
                       "expected a mapping {model group: [fallback groups]}, got %s",
                       item ? cfg_node_describe(item, got, sizeof got) : "nothing");
            continue;
        }
        cfg_pairs_t pairs = {0};
        if (cfg_map_pairs(c, item, ipath, &pairs) != 0)
            continue;
        for (size_t k = 0; k < pairs.n; k++) {
            char kpath[CFG_PATH_MAX];
            cfg_path_key(kpath, ipath, pairs.items[k].key);
            cfg_text_t name;
            if (cfg_resolve_scalar(c, pairs.items[k].key, kpath, "a model group name", &name) <= 0)
                continue;
            *list = xrealloc(*list, (*count + 1) * sizeof **list);
            cfg_fallback_t *f = &(*list)[(*count)++];
            f->group = xstrndup(name.p, name.n);
            f->to = cfg_string_list(c, pairs.items[k].value, kpath, &f->num_to);
        }
        cfg_pairs_free(&pairs);
    }
}

static void cfg_store_fallbacks(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base)
{
    cfg_t *cfg = base;
    cfg_store_fallback_list(c, v, path, &cfg->fallbacks, &cfg->num_fallbacks);
}

static void cfg_store_cw_fallbacks(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base)
{
    cfg_t *cfg = base;
    cfg_store_fallback_list(c, v, path, &cfg->context_window_fallbacks,
                            &cfg->num_context_window_fallbacks);
}

static void cfg_store_cp_fallbacks(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base)
{
    cfg_t *cfg = base;
    cfg_store_fallback_list(c, v, path, &cfg->content_policy_fallbacks,
                            &cfg->num_content_policy_fallbacks);
}

static void cfg_store_default_fallbacks(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base)
{
    cfg_t *cfg = base;
    for (size_t i = 0; i < cfg->num_default_fallbacks; i++)
        free(cfg->default_fallbacks[i]);
    free(cfg->default_fallbacks);
    cfg->default_fallbacks = NULL;
    cfg->num_default_fallbacks = 0;
    if (!cfg_node_is_null(v))
        cfg->default_fallbacks = cfg_string_list(c, v, path, &cfg->num_default_fallbacks);
}

/* {"alias": "group"} or {"alias": {"model": "group", "hidden": true}} */
static void cfg_store_group_alias(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base)
{
    cfg_t *cfg = base;
    if (cfg_node_is_null(v))
        return;
    if (v->type != YAML_MAPPING_NODE) {
        char got[64];
        cfg_report(c, true, &v->start_mark, path, "expected a mapping {alias: model group}, got %s",
                   cfg_node_describe(v, got, sizeof got));
        return;
    }
    cfg_pairs_t pairs = {0};
    if (cfg_map_pairs(c, v, path, &pairs) != 0)
        return;
    for (size_t k = 0; k < pairs.n; k++) {
        char kpath[CFG_PATH_MAX];
        cfg_path_key(kpath, path, pairs.items[k].key);
        cfg_text_t alias, group = {0};
        bool hidden = false;
        if (cfg_resolve_scalar(c, pairs.items[k].key, kpath, "an alias", &alias) <= 0)
            continue;
        char *alias_copy = xstrndup(alias.p, alias.n);
        yaml_node_t *val = pairs.items[k].value;
        if (val->type == YAML_MAPPING_NODE) {
            cfg_pairs_t in = {0};
            if (cfg_map_pairs(c, val, kpath, &in) == 0) {
                for (size_t i = 0; i < in.n; i++) {
                    char ipath[CFG_PATH_MAX];
                    cfg_path_key(ipath, kpath, in.items[i].key);
                    yaml_node_t *key = in.items[i].key, *iv = in.items[i].value;
                    if (key->type != YAML_SCALAR_NODE || iv->type != YAML_SCALAR_NODE)
                        continue;
                    const char *name = (const char *)key->data.scalar.value;
                    const char *text = (const char *)iv->data.scalar.value;
                    if (strcmp(name, "model") == 0)
                        cfg_resolve_scalar(c, iv, ipath, "a model group name", &group);
                    else if (strcmp(name, "hidden") == 0)
                        hidden = strcasecmp(text, "true") == 0 || strcasecmp(text, "yes") == 0;
                }
                cfg_pairs_free(&in);
            }
        } else {
            cfg_resolve_scalar(c, val, kpath, "a model group name", &group);
        }
        if (!group.p || !group.n) {
            cfg_report(c, true, &val->start_mark, kpath, "needs the model group it stands for");
            free(alias_copy);
            continue;
        }
        cfg->group_aliases =
            xrealloc(cfg->group_aliases, (cfg->num_group_aliases + 1) * sizeof *cfg->group_aliases);
        cfg_alias_t *a = &cfg->group_aliases[cfg->num_group_aliases++];
        a->alias = alias_copy;
        a->group = xstrndup(group.p, group.n);
        a->hidden = hidden;
    }
    cfg_pairs_free(&pairs);
}

/* LiteLLM's RetryPolicy / AllowedFailsPolicy field names, less their suffix, by class. */
static const char *const cfg_error_class_names[CFG_ERR_COUNT] = {
    [CFG_ERR_BAD_REQUEST] = "BadRequestError",
    [CFG_ERR_AUTHENTICATION] = "AuthenticationError",
    [CFG_ERR_TIMEOUT] = "TimeoutError",
    [CFG_ERR_RATE_LIMIT] = "RateLimitError",
    [CFG_ERR_CONTENT_POLICY] = "ContentPolicyViolationError",
    [CFG_ERR_INTERNAL_SERVER] = "InternalServerError",
    [CFG_ERR_SERVICE_UNAVAILABLE] = "ServiceUnavailableError",
    [CFG_ERR_BAD_GATEWAY] = "BadGatewayError",
    [CFG_ERR_NOT_FOUND] = "NotFoundError",
};

/* {"RateLimitErrorRetries": 3, ...}: `suffix` is "Retries" or "AllowedFails"; classes from
 * `limit` on have no such field in LiteLLM (RetryPolicy lacks BadGateway and NotFound). Unknown
 * fields are warned about and ignored; null leaves a class unset. False when v is not a
 * mapping (reported). */
static bool cfg_store_error_policy(cfg_ctx_t *c, yaml_node_t *v, const char *path,
                                   cfg_error_policy_t *out, const char *suffix, int limit)
{
    for (int k = 0; k < CFG_ERR_COUNT; k++)
        out->n[k] = -1;
    if (v->type != YAML_MAPPING_NODE) {
        char got[64];
        cfg_report(c, true, &v->start_mark, path,
                   "expected a mapping like {RateLimitError%s: 3}, got %s", suffix,
                   cfg_node_describe(v, got, sizeof got));
        return false;
    }
    cfg_pairs_t pairs = {0};
    if (cfg_map_pairs(c, v, path, &pairs) != 0)
        return false;
    for (size_t i = 0; i < pairs.n; i++) {
        char kpath[CFG_PATH_MAX];
        cfg_path_key(kpath, path, pairs.items[i].key);
        yaml_node_t *key = pairs.items[i].key;
        const char *name =
            key->type == YAML_SCALAR_NODE ? (const char *)key->data.scalar.value : "";
        int cls = -1;
        for (int k = 0; k < limit && cls < 0; k++) {
            size_t n = strlen(cfg_error_class_names[k]);
            if (strncmp(name, cfg_error_class_names[k], n) == 0 && strcmp(name + n, suffix) == 0)
                cls = k;
        }
        if (cls < 0) {
            cfg_warn_once(c, &key->start_mark, kpath,
                          "not a field LiteLLM knows here (e.g. RateLimitError%s); ignored",
                          suffix);
            continue;
        }
        cfg_text_t t;
        double num;
        if (cfg_resolve_scalar(c, pairs.items[i].value, kpath, "a whole number", &t) <= 0)
            continue;
        if (cfg_parse_number(&t, &num) != 0 || num < 0 || num > INT_MAX || num != (int)num) {
            char got[64];
            cfg_report(c, true, &pairs.items[i].value->start_mark, kpath,
                       "expected a whole number >= 0, got %s",
                       cfg_text_describe(&t, got, sizeof got));
            continue;
        }
        out->n[cls] = (int)num;
    }
    cfg_pairs_free(&pairs);
    return true;
}

static void cfg_store_retry_policy(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base)
{
    cfg_t *cfg = base;
    cfg->has_retry_policy =
        !cfg_node_is_null(v) &&
        cfg_store_error_policy(c, v, path, &cfg->retry_policy, "Retries", CFG_ERR_BAD_GATEWAY);
}

static void cfg_store_allowed_fails_policy(cfg_ctx_t *c, yaml_node_t *v, const char *path,
                                           void *base)
{
    cfg_t *cfg = base;
    cfg->has_allowed_fails_policy =
        !cfg_node_is_null(v) && cfg_store_error_policy(c, v, path, &cfg->allowed_fails_policy,
                                                       "AllowedFails", CFG_ERR_COUNT);
}

/* {"group": {"RateLimitErrorRetries": 3, ...}, ...} */
static void cfg_store_group_retry_policy(cfg_ctx_t *c, yaml_node_t *v, const char *path, void *base)
{
    cfg_t *cfg = base;
    if (cfg_node_is_null(v))
        return;
    if (v->type != YAML_MAPPING_NODE) {
        char got[64];
        cfg_report(c, true, &v->start_mark, path,
                   "expected a mapping {model group: {RateLimitErrorRetries: 3}}, got %s",
                   cfg_node_describe(v, got, sizeof got));
        return;
    }
    cfg_pairs_t pairs = {0};
    if (cfg_map_pairs(c, v, path, &pairs) != 0)
        return;
    for (size_t k = 0; k < pairs.n; k++) {
        char kpath[CFG_PATH_MAX];
        cfg_path_key(kpath, path, pairs.items[k].key);
        cfg_text_t group;
        cfg_error_policy_t policy;
        if (cfg_resolve_scalar(c, pairs.items[k].key, kpath, "a model group name", &group) <= 0 ||
            cfg_node_is_null(pairs.items[k].value) ||
            !cfg_store_error_policy(c, pairs.items[k].value, kpath, &policy, "Retries",
                                    CFG_ERR_BAD_GATEWAY))
            continue;
        cfg->group_retry_policies =
            xrealloc(cfg->group_retry_policies,
                     (cfg->num_group_retry_policies + 1) * sizeof *cfg->group_retry_policies);
        cfg_group_policy_t *g = &cfg->group_retry_policies[cfg->num_group_retry_policies++];
        g->group = xstrndup(group.p, group.n);
        g->policy = policy;
    }
    cfg_pairs_free(&pairs);
}
