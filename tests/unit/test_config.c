/* SPDX-License-Identifier: MIT
 * config: loading config.yaml as LiteLLM does. Fixtures live in tests/data/config/ and inline;
 * messages are asserted as exact strings where their position and key path matter. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/internal.h" /* cfg_env_sandbox, used by the fuzz target */

/* Tests run in forked processes, so setenv in one does not leak into another. These
 * variables change what a config resolves to; a developer's shell must not. */
static void clean_env(void)
{
    unsetenv("LITELLM_MASTER_KEY");
    unsetenv("DATABASE_URL");
    unsetenv("STORE_MODEL_IN_DB");
}

TestSuite(config, .init = clean_env);

static cfg_t *load(const char *yaml, cfg_diag_t *d)
{
    return cfg_load_string("t.yaml", yaml, strlen(yaml), d);
}

static size_t count_containing(char **msgs, size_t n, const char *needle)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (strstr(msgs[i], needle))
            count++;
    return count;
}

static bool has_exact(char **msgs, size_t n, const char *text)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(msgs[i], text) == 0)
            return true;
    return false;
}

/* Asserts that loading `yaml` fails with exactly the error `text` among its errors. */
static void expect_error(const char *yaml, const char *text)
{
    cfg_diag_t d;
    cfg_t *cfg = load(yaml, &d);
    cr_expect_null(cfg, "expected failure for: %s", yaml);
    cr_expect(has_exact(d.errors, d.num_errors, text), "missing error '%s'; first error: '%s'",
              text, d.num_errors ? d.errors[0] : "(none)");
    cfg_free(cfg);
    cfg_diag_free(&d);
}

static const cfg_deployment_t *find(const cfg_t *cfg, const char *model_name, size_t nth)
{
    for (size_t i = 0; i < cfg->num_deployments; i++)
        if (strcmp(cfg->deployments[i].model_name, model_name) == 0 && nth-- == 0)
            return &cfg->deployments[i];
    return NULL;
}

Test(config, example_config_loads)
{
    cfg_diag_t d;
    cfg_t *cfg = cfg_load("config/example.yaml", &d);
    cr_assert_not_null(cfg, "%s", d.num_errors ? d.errors[0] : "");
    cr_expect_eq(d.num_errors, 0);
    cr_expect_eq(d.num_warnings, 0, "%s", d.num_warnings ? d.warnings[0] : "");
    cr_expect_str_eq(cfg->path, "config/example.yaml");
    cr_expect_str_eq(cfg->master_key, "sk-1234");
    cr_expect(cfg->drop_params);
    cr_expect_eq(cfg->num_retries, 2);
    cr_expect_eq(cfg->request_timeout_s, 600);
    cr_expect_str_eq(cfg->routing_strategy, "simple-shuffle");
    cr_assert_eq(cfg->num_deployments, 7);

    const cfg_deployment_t *claude = find(cfg, "claude-sonnet", 0);
    cr_assert_not_null(claude);
    cr_expect_str_eq(claude->provider, "anthropic");
    cr_expect_str_eq(claude->api_base, "http://127.0.0.1:4100");

    const cfg_deployment_t *mini = find(cfg, "gpt-4o-mini", 0);
    cr_assert_not_null(mini);
    cr_expect_str_eq(mini->provider, "openai");
    cr_expect_str_eq(mini->provider_model, "gpt-4o-mini");
    cr_expect_str_eq(mini->api_base, "http://127.0.0.1:4100/v1");
    cr_expect_str_eq(mini->api_key, "sk-mock");

    const cfg_deployment_t *a = find(cfg, "gpt-4o", 0), *b = find(cfg, "gpt-4o", 1);
    cr_assert(a && b);
    cr_expect_eq(a->weight, 2);
    cr_expect_eq(b->weight, 1);
    cr_expect_str_neq(a->id, b->id);

    const cfg_deployment_t *emb = find(cfg, "text-embedding-3-small", 0);
    cr_assert_not_null(emb);
    cr_expect_str_eq(emb->mode, "embedding");

    const cfg_deployment_t *groq = find(cfg, "groq-llama", 0);
    cr_assert_not_null(groq);
    cr_expect_str_eq(groq->provider, "groq");
    cr_expect_str_eq(groq->provider_model, "llama-3.1-8b-instant");

    const cfg_deployment_t *wild = find(cfg, "mock/*", 0);
    cr_assert_not_null(wild);
    cr_expect(wild->wildcard);
    cr_expect_str_eq(wild->provider, "openai");
    cr_expect_str_eq(wild->provider_model, "*");
    cr_expect(!mini->wildcard);
    cfg_free(cfg);
    cfg_diag_free(&d);
}

Test(config, every_field_parsed)
{
    const char *yaml = "model_list:\n"
                       "  - model_name: full\n"
                       "    litellm_params:\n"
                       "      model: azure/my-deployment\n"
                       "      api_key: sk-abc\n"
                       "      api_base: https://example.openai.azure.com\n"
                       "      api_version: \"2024-08-01-preview\"\n"
                       "      organization: org-123\n"
                       "      timeout: 12.5\n"
                       "      stream_timeout: 3\n"
                       "      max_retries: 4\n"
                       "      rpm: 600\n"
                       "      tpm: \"100000\"\n"
                       "      weight: 0.5\n"
                       "      extra_headers: {X-Team: blue, X-Num: 7}\n"
                       "    model_info:\n"
                       "      id: my-id\n"
                       "      mode: chat\n"
                       "      input_cost_per_token: 0.000001\n"
                       "      output_cost_per_token: 2e-6\n"
                       "      base_model: azure/gpt-4o\n"
                       "litellm_settings:\n"
                       "  num_retries: 5\n"
                       "  request_timeout: 30\n"
                       "  drop_params: yes\n"
                       "  json_logs: True\n"
                       "  set_verbose: false\n"
                       "router_settings:\n"
                       "  num_retries: 1\n"
                       "  timeout: 20\n"
                       "  stream_timeout: 7.5\n"
                       "  routing_strategy: least-busy\n"
                       "general_settings:\n"
                       "  master_key: sk-master\n"
                       "  max_request_size_mb: 8\n"
                       "  database_url: postgresql://u:p@db/litellm\n";
    cfg_diag_t d;
    cfg_t *cfg = load(yaml, &d);
    cr_assert_not_null(cfg, "%s", d.num_errors ? d.errors[0] : "");
    cr_expect_eq(d.num_warnings, 0, "%s", d.num_warnings ? d.warnings[0] : "");
    cr_assert_eq(cfg->num_deployments, 1);
    const cfg_deployment_t *x = &cfg->deployments[0];
    cr_expect_str_eq(x->model_name, "full");
    cr_expect_str_eq(x->model, "azure/my-deployment");
    cr_expect_str_eq(x->provider, "azure");
    cr_expect_str_eq(x->provider_model, "my-deployment");
    cr_expect_str_eq(x->api_key, "sk-abc");
    cr_expect_str_eq(x->api_base, "https://example.openai.azure.com");
    cr_expect_str_eq(x->api_version, "2024-08-01-preview");
    cr_expect_str_eq(x->organization, "org-123");
    cr_expect_eq(x->timeout_s, 12.5);
    cr_expect_eq(x->stream_timeout_s, 3);
    cr_expect_eq(x->max_retries, 4);
    cr_expect_eq(x->rpm, 600);
    cr_expect_eq(x->tpm, 100000);
    cr_expect_eq(x->weight, 0.5);
    cr_assert_eq(x->num_extra_headers, 2);
    cr_expect_str_eq(x->extra_headers[0].name, "X-Team");
    cr_expect_str_eq(x->extra_headers[0].value, "blue");
    cr_expect_str_eq(x->extra_headers[1].name, "X-Num");
    cr_expect_str_eq(x->extra_headers[1].value, "7");
    cr_expect_str_eq(x->id, "my-id");
    cr_expect_str_eq(x->mode, "chat");
    cr_expect_eq(x->input_cost_per_token, 0.000001);
    cr_expect_eq(x->output_cost_per_token, 2e-6);
    cr_expect(!x->wildcard);
    cr_expect_eq(x->line, 2);
    cr_expect_eq(cfg->num_retries, 5);
    cr_expect_eq(cfg->request_timeout_s, 30);
    cr_expect(cfg->drop_params);
    cr_expect(cfg->json_logs);
    cr_expect(!cfg->set_verbose);
    cr_expect_eq(cfg->router_num_retries, 1);
    cr_expect_eq(cfg->router_timeout_s, 20);
    cr_expect_eq(cfg->router_stream_timeout_s, 7.5);
    cr_expect_str_eq(cfg->routing_strategy, "least-busy");
    cr_expect_str_eq(cfg->master_key, "sk-master");
    cr_expect_eq(cfg->max_request_size_mb, 8);
    cr_expect_str_eq(cfg->database_url, "postgresql://u:p@db/litellm");
    cfg_free(cfg);
    cfg_diag_free(&d);
}

Test(config, defaults)
{
    cfg_diag_t d;
    cfg_t *cfg = load("model_list:\n"
                      "  - model_name: m\n"
                      "    litellm_params: {model: gpt-4o}\n",
                      &d);
    cr_assert_not_null(cfg);
    cr_expect_eq(d.num_warnings + d.num_errors, 0);
    cr_expect_null(cfg->master_key);
    cr_expect_null(cfg->database_url);
    cr_expect_eq(cfg->max_request_size_mb, 32);
    cr_expect_eq(cfg->num_retries, -1);
    cr_expect_eq(cfg->request_timeout_s, 6000);
    cr_expect(!cfg->drop_params && !cfg->json_logs && !cfg->set_verbose);
    cr_expect_eq(cfg->router_num_retries, -1);
    cr_expect_eq(cfg->router_timeout_s, 0);
    cr_expect_eq(cfg->router_stream_timeout_s, 0);
    cr_expect_str_eq(cfg->routing_strategy, "simple-shuffle");
    const cfg_deployment_t *x = &cfg->deployments[0];
    cr_expect_null(x->api_key);
    cr_expect_null(x->api_base);
    cr_expect_null(x->api_version);
    cr_expect_null(x->organization);
    cr_expect_null(x->mode);
    cr_expect_eq(x->timeout_s, 0);
    cr_expect_eq(x->stream_timeout_s, 0);
    cr_expect_eq(x->max_retries, -1);
    cr_expect_eq(x->rpm, 0);
    cr_expect_eq(x->tpm, 0);
    cr_expect_eq(x->weight, 0);
    cr_expect_eq(x->num_extra_headers, 0);
    cr_expect_eq(x->input_cost_per_token, -1);
    cr_expect_eq(x->output_cost_per_token, -1);
    cr_expect_not_null(x->id);
    cr_expect_eq(strlen(x->id), 32);
    cfg_free(cfg);
    cfg_diag_free(&d);
}

Test(config, empty_and_null_documents)
{
    const char *texts[] = {"", "# only a comment\n", "~\n", "---\n"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        cfg_diag_t d;
        cfg_t *cfg = load(texts[i], &d);
        cr_assert_not_null(cfg, "'%s'", texts[i]);
        cr_expect_eq(cfg->num_deployments, 0);
        cr_expect_str_eq(cfg->routing_strategy, "simple-shuffle");
        cfg_free(cfg);
        cfg_diag_free(&d);
    }
}

Test(config, null_values_leave_keys_unset)
{
    cfg_diag_t d;
    cfg_t *cfg = load("model_list:\n"
                      "  - model_name: m\n"
                      "    litellm_params:\n"
                      "      model: openai/x\n"
                      "      api_key:\n"
                      "      rpm: ~\n"
                      "      timeout: null\n"
                      "    model_info:\n"
                      "litellm_settings:\n"
                      "general_settings:\n"
                      "  master_key: \n",
                      &d);
    cr_assert_not_null(cfg, "%s", d.num_errors ? d.errors[0] : "");
    cr_expect_eq(d.num_warnings, 0);
    cr_expect_null(cfg->deployments[0].api_key);
    cr_expect_eq(cfg->deployments[0].rpm, 0);
    cr_expect_null(cfg->master_key);
    cfg_free(cfg);
    cfg_diag_free(&d);
}

Test(config, environ_in_strings_and_numbers)
{
    setenv("SLUICE_T_KEY", "sk-from-env", 1);
    setenv("SLUICE_T_TIMEOUT", "42.5", 1);
    setenv("SLUICE_T_RPM", "60", 1);
    setenv("SLUICE_T_BOOL", "True", 1);
    setenv("SLUICE_T_HDR", "v1", 1);
    setenv("SLUICE_T_MASTER", "sk-env-master", 1);
    cfg_diag_t d;
    cfg_t *cfg = load("model_list:\n"
                      "  - model_name: m\n"
                      "    litellm_params:\n"
                      "      model: openai/x\n"
                      "      api_key: os.environ/SLUICE_T_KEY\n"
                      "      timeout: os.environ/SLUICE_T_TIMEOUT\n"
                      "      rpm: os.environ/SLUICE_T_RPM\n"
                      "      extra_headers: {X-A: os.environ/SLUICE_T_HDR}\n"
                      "litellm_settings:\n"
                      "  drop_params: \"os.environ/SLUICE_T_BOOL\"\n"
                      "router_settings:\n"
                      "  timeout: os.environ/SLUICE_T_TIMEOUT\n"
                      "general_settings:\n"
                      "  master_key: os.environ/SLUICE_T_MASTER\n",
                      &d);
    cr_assert_not_null(cfg, "%s", d.num_errors ? d.errors[0] : "");
    cr_expect_eq(d.num_warnings, 0);
    const cfg_deployment_t *x = &cfg->deployments[0];
    cr_expect_str_eq(x->api_key, "sk-from-env");
    cr_expect_eq(x->timeout_s, 42.5);
    cr_expect_eq(x->rpm, 60);
    cr_expect_str_eq(x->extra_headers[0].value, "v1");
    cr_expect(cfg->drop_params);
    cr_expect_eq(cfg->router_timeout_s, 42.5);
    cr_expect_str_eq(cfg->master_key, "sk-env-master");
    cfg_free(cfg);
    cfg_diag_free(&d);
}

Test(config, environ_value_with_wrong_type)
{
    setenv("SLUICE_T_RPM", "lots", 1);
    expect_error("model_list:\n"
                 "  - model_name: m\n"
                 "    litellm_params:\n"
                 "      model: openai/x\n"
                 "      rpm: os.environ/SLUICE_T_RPM\n",
                 "t.yaml:5:12: model_list[0].litellm_params.rpm: expected a whole number in "
                 "$SLUICE_T_RPM, got 'lots'");
}

Test(config, environment_variables_set_before_resolution)
{
    setenv("SLUICE_T_OVERWRITE", "old", 1);
    unsetenv("SLUICE_T_LATE");
    /* environment_variables comes last in the file and still applies to model_list */
    cfg_diag_t d;
    cfg_t *cfg = load("model_list:\n"
                      "  - model_name: m\n"
                      "    litellm_params:\n"
                      "      model: openai/x\n"
                      "      api_key: os.environ/SLUICE_T_LATE\n"
                      "      rpm: os.environ/SLUICE_T_NUM\n"
                      "general_settings:\n"
                      "  master_key: os.environ/SLUICE_T_ALIAS\n"
                      "environment_variables:\n"
                      "  SLUICE_T_LATE: sk-late\n"
                      "  SLUICE_T_NUM: 250\n"
                      "  SLUICE_T_OVERWRITE: new\n"
                      "  SLUICE_T_FLAG: true\n"
                      "  SLUICE_T_ALIAS: os.environ/SLUICE_T_LATE\n",
                      &d);
    cr_assert_not_null(cfg, "%s", d.num_errors ? d.errors[0] : "");
    cr_expect_eq(d.num_warnings, 0, "%s", d.num_warnings ? d.warnings[0] : "");
    cr_expect_str_eq(cfg->deployments[0].api_key, "sk-late");
    cr_expect_eq(cfg->deployments[0].rpm, 250);
    cr_expect_str_eq(cfg->master_key, "sk-late");
    cr_expect_str_eq(getenv("SLUICE_T_LATE"), "sk-late");
    cr_expect_str_eq(getenv("SLUICE_T_OVERWRITE"), "new");
    cr_expect_str_eq(getenv("SLUICE_T_FLAG"), "True"); /* what str(True) gives in LiteLLM */
    cfg_free(cfg);
    cfg_diag_free(&d);
}

Test(config, environment_variables_bad_shapes)
{
    expect_error("environment_variables: [A, B]\n",
                 "t.yaml:1:24: environment_variables: expected a mapping of variable names to "
                 "values, got a list");
    expect_error("environment_variables:\n  A: [1]\n",
                 "t.yaml:2:6: environment_variables.A: expected a string, got a list");
    expect_error("environment_variables:\n  \"A=B\": x\n",
                 "t.yaml:2:3: environment_variables.A=B: not a valid environment variable name");
}

Test(config, missing_environ_is_unset_with_warning)
{
    unsetenv("SLUICE_T_MISSING");
    unsetenv("SLUICE_T_MISSING_RPM");
    cfg_diag_t d;
    cfg_t *cfg = load("model_list:\n"
                      "  - model_name: m\n"
                      "    litellm_params:\n"
                      "      model: openai/x\n"
                      "      api_key: os.environ/SLUICE_T_MISSING\n"
                      "      rpm: os.environ/SLUICE_T_MISSING_RPM\n"
                      "      max_retries: os.environ/SLUICE_T_MISSING_RPM\n",
                      &d);
    cr_assert_not_null(cfg, "%s", d.num_errors ? d.errors[0] : "");
    cr_expect_null(cfg->deployments[0].api_key);
    cr_expect_eq(cfg->deployments[0].rpm, 0);
    cr_expect_eq(cfg->deployments[0].max_retries, -1);
    cr_expect_eq(d.num_warnings, 3);
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "t.yaml:5:16: model_list[0].litellm_params.api_key: environment variable "
                        "SLUICE_T_MISSING is not set (os.environ/SLUICE_T_MISSING); left unset"));
    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "SLUICE_T_MISSING_RPM"), 2);
    cfg_free(cfg);
    cfg_diag_free(&d);
}

Test(config, missing_environ_for_required_model_is_an_error)
{
    unsetenv("SLUICE_T_MODEL");
    cfg_diag_t d;
    cfg_t *cfg = load("model_list:\n"
                      "  - model_name: m\n"
                      "    litellm_params:\n"
                      "      model: os.environ/SLUICE_T_MODEL\n",
                      &d);
    cr_expect_null(cfg);
    cr_expect_eq(d.num_warnings, 1);
    cr_expect(has_exact(d.errors, d.num_errors,
                        "t.yaml:4:7: model_list[0].litellm_params.model: must not be empty"));
    cfg_diag_free(&d);
}

Test(config, unknown_keys_warned_once_and_not_fatal)
{
    cfg_diag_t d;
    cfg_t *cfg = load("my_section: {a: 1}\n"
                      "model_list:\n"
                      "  - model_name: a\n"
                      "    litellm_params: {model: openai/a, frobnicate: 1}\n"
                      "    deployment_extra: 1\n"
                      "  - model_name: b\n"
                      "    litellm_params: {model: openai/b, frobnicate: 2}\n"
                      "    deployment_extra: 2\n"
                      "    model_info: {anything_goes: 1, base_model: x}\n"
                      "litellm_settings:\n"
                      "  some_module_attr: 3\n"
                      "  callbacks: [langfuse]\n"
                      "router_settings:\n"
                      "  cache_responses: true\n"
                      "  made_up: 1\n"
                      "general_settings:\n"
                      "  alerting: [slack]\n"
                      "  nonsense: 1\n"
                      "guardrails: []\n"
                      "mcp_servers: {}\n",
                      &d);
    cr_assert_not_null(cfg, "%s", d.num_errors ? d.errors[0] : "");
    cr_expect_eq(cfg->num_deployments, 2);
    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "frobnicate"), 1);
    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "deployment_extra"), 1);
    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "anything_goes"), 0);
    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "base_model"), 0);
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "t.yaml:1:1: my_section: unknown key, not supported by sluice yet, "
                        "ignored"));
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "t.yaml:4:39: model_list[0].litellm_params.frobnicate: unknown key, not "
                        "supported by sluice yet, ignored"));
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "t.yaml:11:3: litellm_settings.some_module_attr: unknown key, not "
                        "supported by sluice yet, ignored"));
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "t.yaml:12:3: litellm_settings.callbacks: key not supported by sluice "
                        "yet, ignored"));
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "t.yaml:14:3: router_settings.cache_responses: key not supported by sluice "
                        "yet, ignored"));
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "t.yaml:19:1: guardrails: key not supported by sluice yet, ignored"));
    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "made_up"), 1);
    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "general_settings.alerting"), 1);
    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "general_settings.nonsense"), 1);
    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "mcp_servers"), 1);
    cr_expect_eq(d.num_warnings, 11);
    cfg_free(cfg);
    cfg_diag_free(&d);
}

Test(config, known_litellm_params_are_silent)
{
    cfg_diag_t d;
    cfg_t *cfg = load("model_list:\n"
                      "  - model_name: m\n"
                      "    litellm_params:\n"
                      "      model: bedrock/anthropic.claude-3\n"
                      "      aws_region_name: us-east-1\n"
                      "      aws_secret_access_key: os.environ/SLUICE_T_NOT_READ\n"
                      "      vertex_project: p\n"
                      "      tags: [a, b]\n"
                      "      order: 1\n"
                      "      temperature: 0.2\n"
                      "      mock_response: hi\n",
                      &d);
    cr_assert_not_null(cfg);
    cr_expect_eq(d.num_warnings, 0, "%s", d.num_warnings ? d.warnings[0] : "");
    cfg_free(cfg);
    cfg_diag_free(&d);
}

Test(config, real_world_litellm_config_loads)
{
    unsetenv("AZURE_API_BASE_EASTUS");
    unsetenv("AZURE_API_KEY_EASTUS");
    setenv("OPENAI_API_KEY", "sk-openai", 1);
    setenv("LITELLM_MASTER_KEY", "sk-prod-master", 1);
    setenv("DATABASE_URL", "postgresql://litellm@db/litellm", 1);
    cfg_diag_t d;
    cfg_t *cfg = cfg_load("tests/data/config/litellm_prod.yaml", &d);
    cr_assert_not_null(cfg, "%s", d.num_errors ? d.errors[0] : "");
    cr_expect_eq(d.num_errors, 0);
    cr_expect_eq(cfg->num_deployments, 6);
    cr_expect_str_eq(cfg->master_key, "sk-prod-master");
    cr_expect_str_eq(cfg->database_url, "postgresql://litellm@db/litellm");
    cr_expect_str_eq(cfg->routing_strategy, "usage-based-routing-v2");
    cr_expect_eq(cfg->max_request_size_mb, 64);
    cr_expect(cfg->drop_params && cfg->json_logs && !cfg->set_verbose);
    cr_expect_eq(cfg->num_retries, 3);
    cr_expect_eq(cfg->router_num_retries, 2);
    cr_expect_eq(cfg->router_timeout_s, 30);
    cr_expect_str_eq(getenv("REDIS_HOST"), "redis.internal");
    /* Redis for limits (docs/limits.md): read, os.environ/ resolved */
    cr_expect_str_eq(cfg->cache_type, "redis");
    cr_expect_str_eq(cfg->cache_host, "redis.internal");
    cr_expect_eq(cfg->cache_port, 6379);
    cr_expect_str_eq(cfg->cache_password, "s3cret");
    cr_expect_str_eq(cfg->router_redis_host, "redis.internal");
    cr_expect_eq(cfg->router_redis_db, -1);

    const cfg_deployment_t *az = find(cfg, "gpt-4o", 0);
    cr_expect_str_eq(az->provider, "azure");
    cr_expect_null(az->api_key); /* AZURE_API_KEY_EASTUS unset */
    cr_expect_eq(az->rpm, 1440);
    cr_expect_eq(az->max_retries, 0);
    const cfg_deployment_t *bedrock = find(cfg, "claude-3-5-sonnet", 0);
    cr_expect_str_eq(bedrock->provider, "bedrock");
    cr_expect_str_eq(bedrock->provider_model, "anthropic.claude-3-5-sonnet-20240620-v1:0");
    cr_expect_str_eq(find(cfg, "text-embedding-3-large", 0)->api_key, "sk-openai");
    const cfg_deployment_t *any = find(cfg, "*", 0);
    cr_expect(any->wildcard);
    cr_expect_str_eq(any->provider, "");

    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "AZURE_API_KEY_EASTUS"), 1);
    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "litellm_settings.cache_params"), 0);
    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "credential_list"), 1);
    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "general_settings.alerting:"), 1);
    /* nothing inside ignored sections is looked at, so their os.environ/ are not warned about */
    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "APORIA"), 0);
    cfg_free(cfg);
    cfg_diag_free(&d);
}

Test(config, error_positions_and_paths)
{
    expect_error("model_list:\n"
                 "  - model_name: a\n"
                 "    litellm_params:\n"
                 "      model: openai/a\n"
                 "      rpm: abc\n",
                 "t.yaml:5:12: model_list[0].litellm_params.rpm: expected a whole number, got "
                 "'abc'");
    expect_error("model_list:\n"
                 "  model_name: a\n",
                 "t.yaml:2:3: model_list: expected a list of deployments, got a mapping");
    expect_error("model_list:\n"
                 "  - model_name: a\n"
                 "    litellm_params:\n"
                 "      api_key: x\n",
                 "t.yaml:4:7: model_list[0].litellm_params.model: required key is missing");
    expect_error("model_list:\n"
                 "  - model_name: a\n"
                 "  - model_name: b\n"
                 "    litellm_params: {}\n",
                 "t.yaml:2:5: model_list[0].litellm_params: required key is missing");
    expect_error("model_list:\n"
                 "  - litellm_params: {model: x}\n",
                 "t.yaml:2:5: model_list[0].model_name: required key is missing");
    expect_error("model_list:\n"
                 "  - model_name: b\n"
                 "    litellm_params:\n",
                 "t.yaml:3:20: model_list[0].litellm_params.model: required key is missing");
    expect_error("model_list:\n"
                 "  - just-a-string\n",
                 "t.yaml:2:5: model_list[0]: expected a mapping with model_name and "
                 "litellm_params, got 'just-a-string'");
    expect_error("litellm_settings:\n"
                 "  drop_params: maybe\n",
                 "t.yaml:2:16: litellm_settings.drop_params: expected true or false, got "
                 "'maybe'");
    expect_error("general_settings: [1, 2]\n",
                 "t.yaml:1:19: general_settings: expected a mapping, got a list");
}

Test(config, errors_reported_together)
{
    cfg_diag_t d;
    cfg_t *cfg = load("model_list:\n"
                      "  - model_name: a\n"
                      "    litellm_params: {model: x, rpm: -1, tpm: 1.5}\n"
                      "  - model_name: [x]\n"
                      "    litellm_params: {model: x, timeout: fast, max_retries: 99999999999}\n"
                      "router_settings: {num_retries: yes}\n"
                      "general_settings: {max_request_size_mb: \"\"}\n",
                      &d);
    cr_expect_null(cfg);
    cr_expect_eq(d.num_errors, 7, "%zu errors, first: %s", d.num_errors,
                 d.num_errors ? d.errors[0] : "");
    cr_expect(has_exact(d.errors, d.num_errors,
                        "t.yaml:3:37: model_list[0].litellm_params.rpm: must not be negative, "
                        "got '-1'"));
    cr_expect(has_exact(d.errors, d.num_errors,
                        "t.yaml:3:46: model_list[0].litellm_params.tpm: expected a whole number, "
                        "got '1.5'"));
    cr_expect(has_exact(d.errors, d.num_errors,
                        "t.yaml:4:17: model_list[1].model_name: expected a string, got a list"));
    cr_expect(has_exact(d.errors, d.num_errors,
                        "t.yaml:5:41: model_list[1].litellm_params.timeout: expected a number, "
                        "got 'fast'"));
    cr_expect(has_exact(d.errors, d.num_errors,
                        "t.yaml:5:60: model_list[1].litellm_params.max_retries: too large, got "
                        "'99999999999'"));
    cr_expect(has_exact(d.errors, d.num_errors,
                        "t.yaml:6:32: router_settings.num_retries: expected a whole number, got "
                        "'yes'"));
    cr_expect(has_exact(d.errors, d.num_errors,
                        "t.yaml:7:41: general_settings.max_request_size_mb: expected a number, "
                        "got ''"));
    cfg_diag_free(&d);
}

Test(config, numbers_and_booleans)
{
    cfg_diag_t d;
    cfg_t *cfg = load("model_list:\n"
                      "  - model_name: m\n"
                      "    litellm_params:\n"
                      "      model: x\n"
                      "      rpm: \"1_000\"\n"
                      "      tpm: 1_000_000\n"
                      "      timeout: \"2.5\"\n"
                      "      max_retries: 3.0\n"
                      "      weight: 1e1\n"
                      "litellm_settings: {drop_params: on, json_logs: 'no', set_verbose: False}\n",
                      &d);
    /* "1_000" quoted is a string in YAML, not a number with separators */
    cr_expect_null(cfg);
    cr_expect(has_exact(d.errors, d.num_errors,
                        "t.yaml:5:12: model_list[0].litellm_params.rpm: expected a whole number, "
                        "got '1_000'"));
    cr_expect_eq(d.num_errors, 1);
    cfg_diag_free(&d);

    cfg = load("model_list:\n"
               "  - model_name: m\n"
               "    litellm_params:\n"
               "      model: x\n"
               "      rpm: \"1000\"\n"
               "      tpm: 1_000_000\n"
               "      timeout: \"2.5\"\n"
               "      max_retries: 3.0\n"
               "      weight: 1e1\n"
               "litellm_settings: {drop_params: on, json_logs: 'no', set_verbose: False}\n",
               &d);
    cr_assert_not_null(cfg, "%s", d.num_errors ? d.errors[0] : "");
    const cfg_deployment_t *x = &cfg->deployments[0];
    cr_expect_eq(x->rpm, 1000);
    cr_expect_eq(x->tpm, 1000000);
    cr_expect_eq(x->timeout_s, 2.5);
    cr_expect_eq(x->max_retries, 3);
    cr_expect_eq(x->weight, 10);
    cr_expect(cfg->drop_params);
    cr_expect(!cfg->json_logs);
    cr_expect(!cfg->set_verbose);
    cfg_free(cfg);
    cfg_diag_free(&d);

    expect_error("litellm_settings: {request_timeout: .inf}\n",
                 "t.yaml:1:37: litellm_settings.request_timeout: expected a number, got '.inf'");
    expect_error("litellm_settings: {request_timeout: 0x10}\n",
                 "t.yaml:1:37: litellm_settings.request_timeout: expected a number, got '0x10'");
}

Test(config, anchors_and_merge_keys)
{
    cfg_diag_t d;
    cfg_t *cfg = cfg_load("tests/data/config/anchors.yaml", &d);
    cr_assert_not_null(cfg, "%s", d.num_errors ? d.errors[0] : "");
    cr_expect_eq(d.num_warnings, 2); /* the top-level x-defaults and x-limits keys */
    cr_assert_eq(cfg->num_deployments, 5);
    const cfg_deployment_t *merged = find(cfg, "merged", 0), *explicit = find(cfg, "merged", 1);
    cr_expect_str_eq(merged->api_base, "http://127.0.0.1:4100/v1");
    cr_expect_str_eq(merged->api_key, "sk-shared");
    cr_expect_eq(merged->timeout_s, 30);
    cr_expect_eq(merged->rpm, 100);
    cr_expect_str_eq(merged->provider_model, "gpt-4o");
    /* merging or writing the keys out (in another order) is the same deployment */
    cr_expect_str_eq(merged->id, explicit->id);

    /* own keys beat merged ones; in a merged list, earlier mappings win */
    const cfg_deployment_t *o = find(cfg, "override", 0);
    cr_expect_eq(o->timeout_s, 5);
    cr_expect_eq(o->rpm, 5);
    cr_expect_eq(o->tpm, 5000);
    cr_expect_str_eq(o->api_key, "sk-shared");

    const cfg_deployment_t *a = find(cfg, "aliased", 0), *b = find(cfg, "aliased-again", 0);
    cr_expect_str_eq(a->provider, "groq");
    cr_expect_str_eq(b->provider, "groq");
    cr_expect_str_eq(b->api_key, "gsk-x");
    cr_expect_str_neq(a->id, b->id); /* model_name is part of the id */
    cfg_free(cfg);
    cfg_diag_free(&d);
}

Test(config, merge_key_errors)
{
    expect_error("base: &b 5\n"
                 "litellm_settings:\n"
                 "  <<: *b\n",
                 "t.yaml:1:7: litellm_settings: '<<' (merge key) expects a mapping or a list of "
                 "mappings, got '5'");
    expect_error("litellm_settings:\n"
                 "  <<: [{a: 1}, 2]\n",
                 "t.yaml:2:16: litellm_settings: a list after '<<' must hold only mappings");
}

Test(config, duplicate_keys_last_wins)
{
    cfg_diag_t d;
    cfg_t *cfg = load("litellm_settings:\n"
                      "  num_retries: 1\n"
                      "  num_retries: 4\n",
                      &d);
    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->num_retries, 4);
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "t.yaml:3:3: litellm_settings.num_retries: duplicate key; the last value "
                        "is used"));
    cfg_free(cfg);
    cfg_diag_free(&d);
}

Test(config, alias_bomb_rejected)
{
    /* ten levels of ten aliases each: 10^10 nodes if expanded */
    char yaml[4096];
    size_t o = (size_t)snprintf(yaml, sizeof(yaml), "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 10; i++) {
        o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "a%d: &a%d [", i, i);
        for (int j = 0; j < 10; j++)
            o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "%s*a%d", j ? ", " : "", i - 1);
        o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "]\n");
    }
    snprintf(yaml + o, sizeof(yaml) - o,
             "model_list:\n  - model_name: m\n    litellm_params: {model: x, tags: *a9}\n");
    cfg_diag_t d;
    cfg_t *cfg = load(yaml, &d);
    cr_expect_null(cfg);
    cr_expect_eq(d.num_errors, 1);
    cr_expect(has_exact(d.errors, d.num_errors,
                        "t.yaml:6:5: aliases expand to more than 1000000 nodes; refusing a "
                        "possible alias bomb"),
              "%s", d.num_errors ? d.errors[0] : "");
    cfg_diag_free(&d);

    expect_error("a: &x [1, *x]\n", "t.yaml:1:4: an alias refers to a node that contains it");
    expect_error("a: &x {b: *x}\n", "t.yaml:1:4: an alias refers to a node that contains it");
}

Test(config, deep_nesting_rejected)
{
    char yaml[512];
    size_t o = (size_t)snprintf(yaml, sizeof(yaml), "a: ");
    for (int i = 0; i < 100; i++)
        yaml[o++] = '[';
    for (int i = 0; i < 100; i++)
        yaml[o++] = ']';
    yaml[o++] = '\n';
    yaml[o] = '\0';
    cfg_diag_t d;
    cfg_t *cfg = load(yaml, &d);
    cr_expect_null(cfg);
    cr_expect_eq(count_containing(d.errors, d.num_errors, "nested more than 64 levels deep"), 1);
    cfg_diag_free(&d);
}

Test(config, routing_strategy_invalid)
{
    expect_error("router_settings:\n"
                 "  routing_strategy: fastest\n",
                 "t.yaml:2:21: router_settings.routing_strategy: 'fastest' is not one of: "
                 "simple-shuffle, least-busy, usage-based-routing, usage-based-routing-v2, "
                 "latency-based-routing, cost-based-routing, lar1");
}

Test(config, provider_split)
{
    static const struct {
        const char *model, *provider, *provider_model;
    } cases[] = {
        {"openai/gpt-4o", "openai", "gpt-4o"},
        {"groq/llama-3/x", "groq", "llama-3/x"},
        {"*", "", "*"},
        {"openai/*", "openai", "*"},
        {"gpt-4o", "", "gpt-4o"},
        {"bedrock/anthropic.claude-3:0", "bedrock", "anthropic.claude-3:0"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[256];
        snprintf(yaml, sizeof(yaml),
                 "model_list:\n  - model_name: m\n    litellm_params: {model: \"%s\"}\n",
                 cases[i].model);
        cfg_t *cfg = load(yaml, NULL);
        cr_assert_not_null(cfg, "%s", cases[i].model);
        cr_expect_str_eq(cfg->deployments[0].model, cases[i].model);
        cr_expect_str_eq(cfg->deployments[0].provider, cases[i].provider, "%s", cases[i].model);
        cr_expect_str_eq(cfg->deployments[0].provider_model, cases[i].provider_model, "%s",
                         cases[i].model);
        cfg_free(cfg);
    }
}

Test(config, custom_llm_provider)
{
    cfg_t *cfg = load("model_list:\n"
                      "  - model_name: m\n"
                      "    litellm_params:\n"
                      "      model: meta-llama/Llama-3-8b\n"
                      "      custom_llm_provider: together_ai\n"
                      "  - model_name: n\n"
                      "    litellm_params: {model: my-model, custom_llm_provider: openai}\n",
                      NULL);
    cr_assert_not_null(cfg);
    cr_expect_str_eq(cfg->deployments[0].provider, "together_ai");
    cr_expect_str_eq(cfg->deployments[0].provider_model, "meta-llama/Llama-3-8b");
    cr_expect_str_eq(cfg->deployments[1].provider, "openai");
    cr_expect_str_eq(cfg->deployments[1].provider_model, "my-model");
    cfg_free(cfg);
}

Test(config, deployment_id_stability)
{
    const char *yaml = "model_list:\n"
                       "  - model_name: m\n"
                       "    litellm_params: {model: openai/x, api_key: os.environ/SLUICE_T_K}\n"
                       "  - model_name: m\n"
                       "    litellm_params: {model: openai/x, api_key: os.environ/SLUICE_T_K}\n"
                       "  - model_name: m\n"
                       "    litellm_params: {model: openai/x, api_key: os.environ/SLUICE_T_K2}\n"
                       "  - model_name: m2\n"
                       "    litellm_params: {model: openai/x, api_key: os.environ/SLUICE_T_K}\n"
                       "  - model_name: m\n"
                       "    litellm_params: {model: openai/x, api_key: os.environ/SLUICE_T_K}\n"
                       "    model_info: {id: fixed-id, mode: chat}\n";
    setenv("SLUICE_T_K", "first", 1);
    setenv("SLUICE_T_K2", "first", 1);
    cfg_t *a = load(yaml, NULL);
    setenv("SLUICE_T_K", "rotated", 1);
    cfg_t *b = load(yaml, NULL);
    cr_assert(a && b);
    for (size_t i = 0; i < a->num_deployments; i++)
        cr_expect_str_eq(a->deployments[i].id, b->deployments[i].id);
    /* identical entries share an id, as in LiteLLM */
    cr_expect_str_eq(a->deployments[0].id, a->deployments[1].id);
    cr_expect_str_neq(a->deployments[0].id, a->deployments[2].id);
    cr_expect_str_neq(a->deployments[0].id, a->deployments[3].id);
    cr_expect_str_eq(a->deployments[4].id, "fixed-id");
    for (const char *p = a->deployments[0].id; *p; p++)
        cr_expect((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
    cfg_free(a);
    cfg_free(b);
}

Test(config, costs_copied_from_litellm_params)
{
    cfg_t *cfg = load("model_list:\n"
                      "  - model_name: a\n"
                      "    litellm_params:\n"
                      "      model: x\n"
                      "      input_cost_per_token: 0.5\n"
                      "      output_cost_per_token: 0\n"
                      "  - model_name: b\n"
                      "    litellm_params: {model: x, input_cost_per_token: 0.5}\n"
                      "    model_info: {input_cost_per_token: 0.25}\n",
                      NULL);
    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->deployments[0].input_cost_per_token, 0.5);
    cr_expect_eq(cfg->deployments[0].output_cost_per_token, 0);
    cr_expect_eq(cfg->deployments[1].input_cost_per_token, 0.25);
    cr_expect_eq(cfg->deployments[1].output_cost_per_token, -1);
    cfg_free(cfg);
}

Test(config, organization_list_makes_one_deployment_each)
{
    cfg_t *cfg = load("model_list:\n"
                      "  - model_name: m\n"
                      "    litellm_params:\n"
                      "      model: openai/gpt-4o\n"
                      "      organization: [org-a, org-b]\n"
                      "      extra_headers: {X-A: b}\n"
                      "  - model_name: m\n"
                      "    litellm_params: {model: openai/gpt-4o, organization: org-a,\n"
                      "                     extra_headers: {X-A: b}}\n",
                      NULL);
    cr_assert_not_null(cfg);
    cr_assert_eq(cfg->num_deployments, 3);
    cr_expect_str_eq(cfg->deployments[0].organization, "org-a");
    cr_expect_str_eq(cfg->deployments[1].organization, "org-b");
    cr_expect_str_eq(cfg->deployments[1].extra_headers[0].value, "b");
    cr_expect_str_neq(cfg->deployments[0].id, cfg->deployments[1].id);
    /* the org-a copy is the same deployment as one written with organization: org-a */
    cr_expect_str_eq(cfg->deployments[0].id, cfg->deployments[2].id);
    cfg_free(cfg);
}

Test(config, master_key_and_database_url)
{
    cfg_diag_t d;
    cfg_t *cfg = load("general_settings: {master_key: my-secret}\n", &d);
    cr_assert_not_null(cfg);
    cr_expect_str_eq(cfg->master_key, "my-secret");
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "t.yaml:1:32: general_settings.master_key: master key does not start "
                        "with 'sk-' (LiteLLM requires it)"));
    cfg_free(cfg);
    cfg_diag_free(&d);

    setenv("LITELLM_MASTER_KEY", "sk-from-env", 1);
    setenv("DATABASE_URL", "postgresql://x@y/z", 1);
    cfg = load("general_settings: {}\n", &d);
    cr_assert_not_null(cfg);
    cr_expect_str_eq(cfg->master_key, "sk-from-env");
    cr_expect_str_eq(cfg->database_url, "postgresql://x@y/z");
    cr_expect_eq(d.num_warnings, 0);
    cfg_free(cfg);
    cfg_diag_free(&d);

    /* the file wins over the environment */
    cfg = load("general_settings: {master_key: sk-file, database_url: sqlite:///x}\n", &d);
    cr_expect_str_eq(cfg->master_key, "sk-file");
    cr_expect_str_eq(cfg->database_url, "sqlite:///x");
    cfg_free(cfg);
    cfg_diag_free(&d);

    setenv("LITELLM_MASTER_KEY", "plain", 1);
    cfg = load("", &d);
    cr_expect_str_eq(cfg->master_key, "plain");
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "t.yaml: general_settings.master_key: master key from "
                        "$LITELLM_MASTER_KEY does not start with 'sk-' (LiteLLM requires it)"));
    cfg_free(cfg);
    cfg_diag_free(&d);
}

Test(config, yaml_syntax_errors)
{
    expect_error("model_list:\n"
                 "  - model_name: a\n"
                 "    litellm_params: {model: x\n",
                 "t.yaml:4:1: invalid YAML: did not find expected ',' or '}' (while parsing a "
                 "flow mapping at line 3, column 21)");
    expect_error("a: 1\n b: 2\n",
                 "t.yaml:2:3: invalid YAML: mapping values are not allowed in this context");
    expect_error("a: *nothing\n", "t.yaml:1:4: invalid YAML: found undefined alias");
    expect_error("a: 1\n---\nb: 2\n",
                 "t.yaml:2:1: a second YAML document ('---') follows; the config must be one "
                 "document");
    expect_error("- a\n- b\n",
                 "t.yaml:1:1: expected a mapping of sections (model_list, litellm_settings, ...), "
                 "got a list");
}

Test(config, unreadable_file)
{
    cfg_diag_t d;
    cfg_t *cfg = cfg_load("tests/data/config/does-not-exist.yaml", &d);
    cr_expect_null(cfg);
    cr_assert_eq(d.num_errors, 1);
    cr_expect_str_eq(d.errors[0], "tests/data/config/does-not-exist.yaml:1:1: cannot open: No "
                                  "such file or directory");
    cfg_diag_free(&d);
    cfg = cfg_load("tests/data/config", &d);
    cr_expect_null(cfg);
    cr_expect_eq(d.num_errors, 1);
    cfg_diag_free(&d);
}

Test(config, check_prints_everything)
{
    char path[] = "/tmp/sluice-config-check-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    const char *yaml = "model_list:\n"
                       "  - model_name: a\n"
                       "    litellm_params: {model: x, rpm: abc}\n"
                       "whatever: 1\n";
    cr_assert_eq(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fd);

    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    int errors = cfg_check(path, f);
    fclose(f);
    unlink(path);
    cr_expect_eq(errors, 1);
    char expected[1024];
    snprintf(expected, sizeof(expected),
             "error: %s:3:37: model_list[0].litellm_params.rpm: expected a whole number, got "
             "'abc'\n"
             "warning: %s:4:1: whatever: unknown key, not supported by sluice yet, ignored\n"
             "1 errors, 1 warnings\n",
             path, path);
    cr_expect_str_eq(out, expected);
    free(out);

    f = open_memstream(&out, &outlen);
    cr_expect_eq(cfg_check("config/example.yaml", f), 0);
    fclose(f);
    cr_expect_str_eq(out, "0 errors, 0 warnings\n");
    free(out);
}

Test(config, load_without_diag)
{
    cr_expect_null(load("model_list: 5\n", NULL));
    cfg_t *cfg = load("unknown: 1\n", NULL);
    cr_expect_not_null(cfg);
    cfg_free(cfg);
    cfg_free(NULL);
    cfg_diag_free(NULL);
}

Test(config, environment_sandbox_for_fuzzing)
{
    unsetenv("SLUICE_T_SANDBOX");
    cfg_env_sandbox(true);
    cfg_t *cfg = load("environment_variables: {SLUICE_T_SANDBOX: sk-boxed}\n"
                      "general_settings: {master_key: os.environ/SLUICE_T_SANDBOX}\n",
                      NULL);
    cfg_env_sandbox(false);
    cr_assert_not_null(cfg);
    cr_expect_str_eq(cfg->master_key, "sk-boxed");
    cr_expect_null(getenv("SLUICE_T_SANDBOX"));
    cfg_free(cfg);
}

Test(config, deployment_params_resolved)
{
    setenv("SLUICE_TEST_REGION", "eu-west-3", 1);
    static const char y[] = "model_list:\n"
                            "  - model_name: b\n"
                            "    litellm_params:\n"
                            "      model: bedrock/anthropic.claude\n"
                            "      aws_region_name: os.environ/SLUICE_TEST_REGION\n"
                            "      temperature: 0.5\n"
                            "      aws_missing: os.environ/SLUICE_TEST_NOT_SET_ANYWHERE\n";
    cfg_diag_t diag = {0};
    cfg_t *cfg = cfg_load_string("p.yaml", y, sizeof y - 1, &diag);
    cr_assert_not_null(cfg);
    const cfg_deployment_t *d = &cfg->deployments[0];
    cr_expect_str_eq(cfg_deployment_param(d, "aws_region_name"), "eu-west-3");
    cr_expect_str_eq(cfg_deployment_param(d, "temperature"), "0.5");
    cr_expect_str_eq(cfg_deployment_param(d, "model"), "bedrock/anthropic.claude");
    cr_expect_null(cfg_deployment_param(d, "aws_missing"));
    cr_expect_null(cfg_deployment_param(d, "nothing"));
    cfg_free(cfg);
    cfg_diag_free(&diag);
}

Test(config, access_groups)
{
    static const char y[] = "model_list:\n"
                            "  - model_name: a\n"
                            "    litellm_params: {model: openai/x, organization: [o1, o2]}\n"
                            "    model_info: {access_groups: [beta, internal]}\n"
                            "  - model_name: b\n"
                            "    litellm_params: {model: openai/y}\n"
                            "    model_info: {access_groups: beta}\n";
    cfg_diag_t diag = {0};
    cfg_t *cfg = cfg_load_string("g.yaml", y, sizeof y - 1, &diag);
    cr_assert_not_null(cfg);
    cr_assert_eq(cfg->num_deployments, 3); /* one per organization, each with its groups */
    for (size_t i = 0; i < 2; i++) {
        cr_assert_eq(cfg->deployments[i].num_access_groups, 2);
        cr_expect_str_eq(cfg->deployments[i].access_groups[0], "beta");
        cr_expect_str_eq(cfg->deployments[i].access_groups[1], "internal");
    }
    cr_assert_eq(cfg->deployments[2].num_access_groups, 1);
    cr_expect_str_eq(cfg->deployments[2].access_groups[0], "beta");
    cr_expect_eq(diag.num_warnings, 0);
    cfg_free(cfg);
    cfg_diag_free(&diag);
}

/* The limit keys: a deployment's parallel cap as LiteLLM's calculate_max_parallel_requests
 * derives it (max_parallel_requests, else rpm, else int(tpm / 1000 * 6) but at least 1, else
 * router_settings.default_max_parallel_requests, else general_settings.max_parallel_requests). */
Test(config, limits_settings_and_parallel_caps)
{
    static const char y[] =
        "model_list:\n"
        "  - model_name: a\n"
        "    litellm_params: {model: openai/x, max_parallel_requests: 3, rpm: 9}\n"
        "  - model_name: a\n"
        "    litellm_params: {model: openai/y, rpm: 9, tpm: 100000}\n"
        "  - model_name: a\n"
        "    litellm_params: {model: openai/z, tpm: 300000}\n"
        "  - model_name: a\n"
        "    litellm_params: {model: openai/w, tpm: 20}\n"
        "  - model_name: b\n"
        "    litellm_params: {model: openai/v}\n"
        "router_settings: {default_max_parallel_requests: 4}\n"
        "general_settings:\n"
        "  token_rate_limit_type: output\n"
        "  max_parallel_requests: 5\n"
        "  global_max_parallel_requests: 100\n"
        "litellm_settings: {max_end_user_budget_id: free-tier}\n";
    cfg_diag_t diag = {0};
    cfg_t *cfg = load(y, &diag);
    cr_assert_not_null(cfg);
    cr_expect_eq(diag.num_warnings, 0, "%s", diag.num_warnings ? diag.warnings[0] : "");
    cr_expect_str_eq(cfg->token_rate_limit_type, "output");
    cr_expect_eq(cfg->global_max_parallel_requests, 100);
    cr_expect_str_eq(cfg->max_end_user_budget_id, "free-tier");
    cr_expect_eq(cfg_deployment_max_parallel(cfg, &cfg->deployments[0]), 3);
    cr_expect_eq(cfg_deployment_max_parallel(cfg, &cfg->deployments[1]), 9, "rpm");
    cr_expect_eq(cfg_deployment_max_parallel(cfg, &cfg->deployments[2]), 1800, "tpm / 1000 * 6");
    cr_expect_eq(cfg_deployment_max_parallel(cfg, &cfg->deployments[3]), 1, "at least 1");
    cr_expect_eq(cfg_deployment_max_parallel(cfg, &cfg->deployments[4]), 4, "router default");
    cfg->default_max_parallel_requests = 0;
    cr_expect_eq(cfg_deployment_max_parallel(cfg, &cfg->deployments[4]), 5, "general default");
    cfg->max_parallel_requests = 0;
    cr_expect_eq(cfg_deployment_max_parallel(cfg, &cfg->deployments[4]), 0, "no cap");
    cfg_free(cfg);
    cfg_diag_free(&diag);
}

/* ---- store_model_in_db: cfg_with_models ------------------------------------------------------ */

static cJSON *json(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j, "bad test JSON: %s", text);
    return j;
}

static const char db_base[] = "model_list:\n"
                              "  - model_name: file-model\n"
                              "    litellm_params: {model: openai/f, api_key: k, typo_key: 1}\n"
                              "    model_info: {id: file-1}\n"
                              "general_settings: {store_model_in_db: true}\n";

Test(config, db_models_are_appended_as_model_list_entries)
{
    setenv("SLUICE_TEST_DB_KEY", "sk-from-env", 1);
    cfg_diag_t d;
    cfg_t *base = load(db_base, &d);
    cr_assert_not_null(base);
    cr_expect_eq(d.num_warnings, 1); /* typo_key */
    cfg_diag_free(&d);
    cJSON *models = json(
        "[{\"model_name\": \"db-model\", \"litellm_params\": {\"model\": \"openai/mock-x\", "
        "\"api_base\": \"http://127.0.0.1:9/v1\", \"api_key\": \"os.environ/SLUICE_TEST_DB_KEY\", "
        "\"rpm\": 10, \"tpm\": \"2000\", \"weight\": 2.5, \"timeout\": 30, \"api_version\": "
        "\"null\", "
        "\"organization\": null, \"extra_headers\": {\"X-Team\": \"blue\"}, "
        "\"input_cost_per_token\": 1e-06}, \"model_info\": {\"id\": \"row-1\", \"db_model\": true, "
        "\"mode\": \"chat\", \"access_groups\": [\"beta\"]}},"
        " {\"model_name\": \"db-*\", \"litellm_params\": {\"model\": \"anthropic/*\"}, "
        "\"model_info\": {\"id\": \"row-2\"}}]");
    cfg_t *cfg = cfg_with_models(base, models, &d);
    cr_assert_not_null(cfg, "%s", d.num_errors ? d.errors[0] : "");
    cr_expect_eq(d.num_errors, 0);
    cr_expect_eq(d.num_warnings, 0, "%s", d.num_warnings ? d.warnings[0] : "");
    cr_expect(cfg->store_model_in_db);
    cr_expect_null(cfg->source);
    cr_assert_eq(cfg->num_deployments, 3);
    cr_expect_str_eq(cfg->deployments[0].id, "file-1");
    cr_expect_neq(cfg->deployments[0].line, 0);
    const cfg_deployment_t *m = find(cfg, "db-model", 0);
    cr_assert_not_null(m);
    cr_expect_str_eq(m->id, "row-1");
    cr_expect_eq(m->line, 0);
    cr_expect_str_eq(m->provider, "openai");
    cr_expect_str_eq(m->provider_model, "mock-x");
    cr_expect_str_eq(m->api_base, "http://127.0.0.1:9/v1");
    cr_expect_str_eq(m->api_key, "sk-from-env");
    cr_expect_str_eq(m->api_version, "null"); /* a JSON string, not YAML's null */
    cr_expect_null(m->organization);
    cr_expect_eq(m->rpm, 10);
    cr_expect_eq(m->tpm, 2000);
    cr_expect_eq(m->weight, 2.5);
    cr_expect_eq(m->timeout_s, 30);
    cr_expect_eq(m->input_cost_per_token, 1e-06);
    cr_expect_str_eq(m->mode, "chat");
    cr_assert_eq(m->num_extra_headers, 1);
    cr_expect_str_eq(m->extra_headers[0].name, "X-Team");
    cr_expect_str_eq(m->extra_headers[0].value, "blue");
    cr_assert_eq(m->num_access_groups, 1);
    cr_expect_str_eq(m->access_groups[0], "beta");
    cr_expect_str_eq(cfg_deployment_param(m, "rpm"), "10");
    const cfg_deployment_t *w = find(cfg, "db-*", 0);
    cr_assert_not_null(w);
    cr_expect(w->wildcard);
    cr_expect_str_eq(w->provider, "anthropic");
    cfg_free(cfg);
    cfg_diag_free(&d);

    /* no models (or NULL): the file's deployments alone */
    cfg = cfg_with_models(base, NULL, &d);
    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->num_deployments, 1);
    cr_expect_eq(d.num_warnings, 0);
    cfg_free(cfg);
    cfg_diag_free(&d);
    cJSON_Delete(models);
    cfg_free(base);
}

Test(config, db_model_with_errors_is_left_out_with_warnings)
{
    cfg_diag_t d;
    cfg_t *base = load(db_base, NULL);
    cr_assert_not_null(base);
    cJSON *models = json(
        "[{\"model_name\": \"bad\", \"litellm_params\": {\"model\": \"openai/x\", \"rpm\": -1, "
        "\"frob\": 1}, \"model_info\": {\"id\": \"bad-1\"}},"
        " {\"model_name\": \"no-params\", \"model_info\": {\"id\": \"bad-2\"}},"
        " {\"model_name\": \"dup\", \"litellm_params\": {\"model\": \"openai/x\"}, "
        "\"model_info\": {\"id\": \"file-1\"}},"
        " {\"model_name\": \"good\", \"litellm_params\": {\"model\": \"openai/y\", "
        "\"frob\": 2}, \"model_info\": {\"id\": \"ok-1\"}}]");
    cfg_t *cfg = cfg_with_models(base, models, &d);
    cr_assert_not_null(cfg);
    cr_expect_eq(d.num_errors, 0, "%s", d.num_errors ? d.errors[0] : "");
    cr_assert_eq(cfg->num_deployments, 2);
    cr_expect_str_eq(cfg->deployments[1].model_name, "good");
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "database: LiteLLM_ProxyModelTable[bad-1].litellm_params.rpm: must not be "
                        "negative, got '-1'"));
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "database: LiteLLM_ProxyModelTable[bad-1]: model 'bad' left out: it has "
                        "the errors above"));
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "database: LiteLLM_ProxyModelTable[bad-2].litellm_params: required key is "
                        "missing"));
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "database: LiteLLM_ProxyModelTable[file-1]: id 'file-1' is taken by "
                        "another deployment; left out"));
    /* an unknown key is warned about once for every row, as in the file */
    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "frob"), 1);
    cr_expect(
        has_exact(d.warnings, d.num_warnings,
                  "database: LiteLLM_ProxyModelTable[bad-1].litellm_params.frob: unknown key, "
                  "not supported by sluice yet, ignored"));
    cfg_free(cfg);
    cfg_diag_free(&d);

    /* not a list; nested too deep */
    cJSON *obj = json("{\"model_name\": \"x\"}");
    cfg = cfg_with_models(base, obj, &d);
    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->num_deployments, 1);
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "database: LiteLLM_ProxyModelTable: expected a list of models"));
    cfg_free(cfg);
    cfg_diag_free(&d);
    cJSON_Delete(obj);
    char deep[1024] = "[{\"model_name\": \"deep\", \"model_info\": {\"id\": \"d\"}, "
                      "\"litellm_params\": {\"model\": \"openai/x\", \"extra_body\": ";
    for (int i = 0; i < 80; i++)
        strcat(deep, "[");
    for (int i = 0; i < 80; i++)
        strcat(deep, "]");
    strcat(deep, "}}]");
    cJSON *deep_models = json(deep);
    cfg = cfg_with_models(base, deep_models, &d);
    cr_assert_not_null(cfg);
    cr_expect_eq(cfg->num_deployments, 1);
    cr_expect_eq(count_containing(d.warnings, d.num_warnings, "nested more than"), 1);
    cfg_free(cfg);
    cfg_diag_free(&d);
    cJSON_Delete(deep_models);
    cJSON_Delete(models);
    cfg_free(base);
}

Test(config, db_models_reuse_the_loaded_text_and_environment)
{
    char path[] = "/tmp/sluice-test-config-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    static const char text[] = "environment_variables: {SLUICE_TEST_DB_ENV: from-config}\n"
                               "model_list:\n"
                               "  - model_name: first\n"
                               "    litellm_params: {model: openai/first}\n";
    cr_assert_eq(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    unsetenv("SLUICE_TEST_DB_ENV");
    cfg_t *base = cfg_load(path, NULL);
    cr_assert_not_null(base);
    cr_expect_str_eq(getenv("SLUICE_TEST_DB_ENV"), "from-config");

    /* the file changes and the process environment with it: neither is read again */
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("model_list: []\n", f);
    fclose(f);
    unsetenv("SLUICE_TEST_DB_ENV");
    cJSON *models = json("[{\"model_name\": \"db\", \"litellm_params\": {\"model\": \"openai/d\", "
                         "\"api_key\": \"os.environ/SLUICE_TEST_DB_ENV\"}, "
                         "\"model_info\": {\"id\": \"r\"}}]");
    cfg_diag_t d;
    cfg_t *cfg = cfg_with_models(base, models, &d);
    cr_assert_not_null(cfg);
    cr_assert_eq(cfg->num_deployments, 2);
    cr_expect_str_eq(cfg->deployments[0].model_name, "first");
    cr_expect_str_eq(cfg->deployments[1].api_key, "from-config");
    cr_expect_null(getenv("SLUICE_TEST_DB_ENV"));
    cr_expect_str_eq(cfg->path, path);
    cfg_diag_free(&d);

    /* a derived config has no text of its own */
    cfg_t *again = cfg_with_models(cfg, models, &d);
    cr_expect_null(again);
    cr_expect_eq(d.num_errors, 1);
    cfg_diag_free(&d);
    cfg_free(cfg);
    cJSON_Delete(models);
    cfg_free(base);
    unlink(path);
}

Test(config, db_model_organizations_and_default_ids)
{
    cfg_t *base = load("model_list: []\n", NULL);
    cr_assert_not_null(base);
    cJSON *models = json("[{\"model_name\": \"o\", \"litellm_params\": {\"model\": \"openai/o\", "
                         "\"organization\": [\"org-a\", \"org-b\"]}, \"model_info\": {\"id\": "
                         "\"row-o\"}}, {\"model_name\": \"h\", \"litellm_params\": {\"model\": "
                         "\"openai/h\"}}]");
    cfg_diag_t d;
    cfg_t *cfg = cfg_with_models(base, models, &d);
    cr_assert_not_null(cfg);
    cr_assert_eq(cfg->num_deployments, 3);
    cr_expect_str_eq(cfg->deployments[0].organization, "org-a");
    cr_expect_str_eq(cfg->deployments[1].organization, "org-b");
    cr_expect_str_eq(cfg->deployments[0].id, "row-o");
    cr_expect_str_eq(cfg->deployments[1].id, "row-o");
    /* without model_info.id: the hash a config entry would get */
    cfg_t *same =
        load("model_list:\n  - {model_name: h, litellm_params: {model: openai/h}}\n", NULL);
    cr_assert_not_null(same);
    cr_expect_str_eq(cfg->deployments[2].id, same->deployments[0].id);
    cfg_free(same);
    cfg_free(cfg);
    cfg_diag_free(&d);
    cJSON_Delete(models);
    cfg_free(base);
}

Test(config, store_model_in_db_from_the_environment)
{
    cfg_t *cfg = load("model_list: []\n", NULL);
    cr_assert_not_null(cfg);
    cr_expect(!cfg->store_model_in_db);
    cfg_free(cfg);
    setenv("STORE_MODEL_IN_DB", "True", 1);
    cfg = load("model_list: []\n", NULL);
    cr_assert_not_null(cfg);
    cr_expect(cfg->store_model_in_db);
    cfg_free(cfg);
    setenv("STORE_MODEL_IN_DB", "no", 1);
    cfg = load("general_settings: {store_model_in_db: true}\n", NULL);
    cr_assert_not_null(cfg);
    cr_expect(cfg->store_model_in_db);
    cfg_free(cfg);
}

Test(config, retry_and_allowed_fails_policies)
{
    cfg_diag_t d = {0};
    cfg_t *cfg = load("model_list:\n"
                      "  - model_name: a\n"
                      "    litellm_params: {model: openai/a}\n"
                      "router_settings:\n"
                      "  retry_after: 2\n"
                      "  retry_policy: {TimeoutErrorRetries: 1, RateLimitErrorRetries: null,\n"
                      "                 NotFoundErrorRetries: 2}\n"
                      "  model_group_retry_policy: {a: {InternalServerErrorRetries: 5}}\n"
                      "  allowed_fails_policy: {NotFoundErrorAllowedFails: 7}\n"
                      "  routing_strategy_args: {ttl: 90}\n",
                      &d);
    cr_assert_not_null(cfg, "%s", d.num_errors ? d.errors[0] : "");
    cr_expect_float_eq(cfg->retry_after_s, 2, 1e-9);
    cr_expect(cfg->has_retry_policy);
    cr_expect_eq(cfg->retry_policy.n[CFG_ERR_TIMEOUT], 1);
    cr_expect_eq(cfg->retry_policy.n[CFG_ERR_RATE_LIMIT], -1, "null leaves it unset");
    cr_expect_eq(cfg->retry_policy.n[CFG_ERR_NOT_FOUND], -1, "RetryPolicy has no such field");
    cr_expect(has_exact(d.warnings, d.num_warnings,
                        "t.yaml:7:18: router_settings.retry_policy.NotFoundErrorRetries: not a "
                        "field LiteLLM knows here (e.g. RateLimitErrorRetries); ignored"));
    cr_assert_eq(cfg->num_group_retry_policies, 1);
    cr_expect_str_eq(cfg->group_retry_policies[0].group, "a");
    cr_expect_eq(cfg->group_retry_policies[0].policy.n[CFG_ERR_INTERNAL_SERVER], 5);
    cr_expect(cfg->has_allowed_fails_policy);
    cr_expect_eq(cfg->allowed_fails_policy.n[CFG_ERR_NOT_FOUND], 7);
    cr_expect_float_eq(cfg->latency_ttl_s, 90, 1e-9);
    cfg_free(cfg);
    cfg_diag_free(&d);
    expect_error("router_settings:\n"
                 "  retry_policy: {TimeoutErrorRetries: -1}\n",
                 "t.yaml:2:39: router_settings.retry_policy.TimeoutErrorRetries: expected a "
                 "whole number >= 0, got '-1'");
    expect_error("router_settings:\n"
                 "  allowed_fails_policy: [1]\n",
                 "t.yaml:2:25: router_settings.allowed_fails_policy: expected a mapping like "
                 "{RateLimitErrorAllowedFails: 3}, got a list");
}
