/* SPDX-License-Identifier: MIT
 * spend: price lookups in the three tiers (deployment, built-in, LiteLLM price JSON) and their
 * precedence, loading the JSON, cost arithmetic with cache tokens and long-context tiers, free
 * models, and x-litellm-response-cost formatting (expected strings from CPython's repr). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "spend/internal.h" /* the built-in rows, to check them all */
#include "spend/spend.h"

static const char yaml[] =
    "model_list:\n"
    "  - model_name: gpt-4o\n" /* 0: built-in price */
    "    litellm_params: {model: openai/gpt-4o, api_key: k}\n"
    "  - model_name: cheap-4o\n" /* 1: custom input/output over the built-in row */
    "    litellm_params: {model: openai/gpt-4o, api_key: k}\n"
    "    model_info: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}\n"
    "  - model_name: local\n" /* 2: free */
    "    litellm_params: {model: hosted_vllm/llama-local, api_base: 'http://x.test'}\n"
    "    model_info: {input_cost_per_token: 0, output_cost_per_token: 0}\n"
    "  - model_name: mine\n" /* 3: unknown model with all prices in litellm_params */
    "    litellm_params: {model: hosted_vllm/my-model-x, api_base: 'http://x.test',\n"
    "                     input_cost_per_token: 0.000004, output_cost_per_token: '8e-6',\n"
    "                     cache_read_input_token_cost: 0.000001,\n"
    "                     cache_creation_input_token_cost: 0.000005,\n"
    "                     input_cost_per_request: 0.01}\n"
    "  - model_name: unpriced\n" /* 4: unknown model, no prices */
    "    litellm_params: {model: hosted_vllm/nobody-knows, api_base: 'http://x.test'}\n"
    "  - model_name: sonnet-1m\n" /* 5: custom price drops the long-context tier */
    "    litellm_params: {model: anthropic/claude-sonnet-4-20250514, api_key: k}\n"
    "    model_info: {input_cost_per_token: 0.000003, output_cost_per_token: 0.000015}\n"
    "  - model_name: 'openai/*'\n" /* 6: wildcard */
    "    litellm_params: {model: 'openai/*', api_key: k}\n"
    "  - model_name: file-model\n" /* 7: priced by the file, cache read from config */
    "    litellm_params: {model: openai/my-file-model, api_key: k,\n"
    "                     cache_read_input_token_cost: 0.0000001}\n";

static const char price_json[] =
    "{\n"
    "  \"sample_spec\": {\"input_cost_per_token\": 1, \"output_cost_per_token\": 1,\n"
    "                  \"litellm_provider\": \"openai\", \"mode\": \"chat\"},\n"
    "  \"my-file-model\": {\"input_cost_per_token\": 1e-6, \"output_cost_per_token\": \"3e-6\",\n"
    "      \"cache_read_input_token_cost\": 5e-7, \"litellm_provider\": \"openai\",\n"
    "      \"mode\": \"chat\", \"max_input_tokens\": 100000, \"max_tokens\": 4096},\n"
    "  \"gpt-4o\": {\"input_cost_per_token\": 9e-6, \"output_cost_per_token\": 9e-6,\n"
    "      \"litellm_provider\": \"openai\", \"mode\": \"chat\"},\n"
    "  \"my-file-model-x\": {\"input_cost_per_token\": 7e-6, \"output_cost_per_token\": 7e-6,\n"
    "      \"litellm_provider\": \"hosted_vllm\"},\n"
    "  \"vertex_ai/tiered-model\": {\"input_cost_per_token\": 1e-6,\n"
    "      \"output_cost_per_token\": 2e-6, \"cache_read_input_token_cost\": 1e-7,\n"
    "      \"input_cost_per_token_above_128k_tokens\": 2e-6,\n"
    "      \"output_cost_per_token_above_128k_tokens\": 4e-6,\n"
    "      \"input_cost_per_token_above_200k_tokens\": 9e-6,\n"
    "      \"input_cost_per_token_above_128k_tokens_priority\": 8e-6,\n"
    "      \"litellm_provider\": \"vertex_ai-language-models\", \"mode\": \"chat\"},\n"
    "  \"ollama/llama3\": {\"input_cost_per_token\": 0.0, \"output_cost_per_token\": 0.0,\n"
    "      \"litellm_provider\": \"ollama\", \"mode\": \"chat\"},\n"
    "  \"perplexity/sonar\": {\"input_cost_per_token\": 1e-6, \"output_cost_per_token\": 1e-6,\n"
    "      \"input_cost_per_request\": 0.005, \"litellm_provider\": \"perplexity\"},\n"
    "  \"dall-e-3\": {\"output_cost_per_image\": 0.04, \"litellm_provider\": \"openai\",\n"
    "      \"mode\": \"image_generation\"},\n"
    "  \"not-an-object\": 42\n"
    "}\n";

static cfg_t *cfg;
static spend_prices_t *prices;
static char json_path[64];

static void setup(void)
{
    cfg_diag_t diag = {0};
    cfg = cfg_load_string("test.yaml", yaml, sizeof yaml - 1, &diag);
    for (size_t i = 0; i < diag.num_errors; i++)
        cr_log_error("%s", diag.errors[i]);
    cfg_diag_free(&diag);
    cr_assert_not_null(cfg);
    cr_assert_eq(cfg->num_deployments, 8);

    snprintf(json_path, sizeof json_path, "/tmp/sluice-prices-XXXXXX");
    int fd = mkstemp(json_path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, price_json, sizeof price_json - 1), (ssize_t)(sizeof price_json - 1));
    close(fd);

    char err[256] = "";
    prices = spend_prices_new(cfg, json_path, err, sizeof err);
    cr_assert_not_null(prices, "%s", err);
}

static void teardown(void)
{
    spend_prices_free(prices);
    cfg_free(cfg);
    unlink(json_path);
}

TestSuite(spend, .init = setup, .fini = teardown);

static spend_price_t must_find(const char *provider, const char *model)
{
    spend_price_t p;
    cr_assert(spend_price_lookup(prices, NULL, str_cstr(provider), str_cstr(model), &p),
              "no price for %s / %s", provider, model);
    return p;
}

static bool finds(const char *provider, const char *model)
{
    spend_price_t p;
    return spend_price_lookup(prices, NULL, str_cstr(provider), str_cstr(model), &p);
}

/* ---- the built-in tier ---- */

Test(spend, builtin_bare_and_prefixed_names)
{
    spend_price_t p = must_find("openai", "gpt-4o");
    cr_expect_eq(p.source, SPEND_SOURCE_BUILTIN);
    cr_expect_eq(p.input, 2.5e-6);
    cr_expect_eq(p.output, 1e-5);
    cr_expect_eq(p.cache_read, 1.25e-6);
    cr_expect_str_eq(p.key, "gpt-4o");
    cr_expect_str_eq(p.provider, "openai");
    cr_expect_str_eq(p.mode, "chat");
    cr_expect(!p.free);

    /* the same row through "openai/gpt-4o", with or without the provider given */
    p = must_find("", "openai/gpt-4o");
    cr_expect_str_eq(p.key, "gpt-4o");
    p = must_find("openai", "openai/gpt-4o");
    cr_expect_str_eq(p.key, "gpt-4o");
    p = must_find("", "gpt-4o-mini");
    cr_expect_eq(p.input, 1.5e-7);

    /* Anthropic: bare keys, cache read and write prices, the 1M-context tier */
    p = must_find("anthropic", "claude-sonnet-4-5");
    cr_expect_eq(p.input, 3e-6);
    cr_expect_eq(p.cache_read, 3e-7);
    cr_expect_eq(p.cache_creation, 3.75e-6);
    cr_expect_eq(p.above, 200000);
    cr_expect_eq(p.input_above, 6e-6);
    cr_expect_eq(p.output_above, 2.25e-5);
    p = must_find("", "anthropic/claude-haiku-4-5");
    cr_expect_eq(p.output, 5e-6);

    /* Gemini: prefixed keys, found from provider + bare model */
    p = must_find("gemini", "gemini-2.5-flash");
    cr_expect_str_eq(p.key, "gemini/gemini-2.5-flash");
    p = must_find("", "gemini/gemini-2.5-pro");
    cr_expect_eq(p.above, 200000);
    /* Vertex has its own rows; the same bare name must not price a gemini/ request */
    p = must_find("vertex_ai", "gemini-2.0-flash");
    cr_expect_str_eq(p.key, "gemini-2.0-flash");
    cr_expect_str_eq(p.provider, "vertex_ai-language-models");
    cr_expect_eq(p.input, 1e-7);
    p = must_find("gemini", "gemini-2.0-flash");
    cr_expect_str_eq(p.key, "gemini/gemini-2.0-flash");
    cr_expect_str_eq(p.provider, "gemini");
    cr_expect_eq(p.input, 1e-7);

    /* provider families: cohere -> cohere_chat, bedrock_converse -> bedrock */
    p = must_find("cohere", "command-r-08-2024");
    cr_expect_str_eq(p.provider, "cohere_chat");
    p = must_find("bedrock_converse", "anthropic.claude-3-5-haiku-20241022-v1:0");
    cr_expect_eq(p.input, 8e-7);
    /* ... and back: a bedrock_converse row found for provider bedrock; the us. profile's uplift */
    p = must_find("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    cr_expect_str_eq(p.provider, "bedrock_converse");
    cr_expect_eq(p.input, 3.3e-6);
    cr_expect_eq(p.output, 1.65e-5);
    p = must_find("bedrock", "amazon.titan-embed-text-v2:0");
    cr_expect_str_eq(p.mode, "embedding");
    cr_expect_eq(p.output, 0);

    /* a model name that contains '/' after the provider */
    p = must_find("groq", "meta-llama/llama-4-scout-17b-16e-instruct");
    cr_expect_eq(p.input, 1.1e-7);
    cr_expect(finds("deepseek", "deepseek-chat"));
    cr_expect(finds("xai", "grok-3-mini"));
    p = must_find("mistral", "mistral-large-latest");
    cr_expect_eq(p.input, 5e-7);
    cr_expect_eq(p.output, 1.5e-6);
    cr_expect(spend_prices_builtin_count(prices) >= 150);
}

/* Every row is found under its own key (no duplicate keys) and is a real price. */
Test(spend, builtin_rows_are_unique_and_sane)
{
    spend_prices_t *t = spend_prices_new(NULL, NULL, NULL, 0);
    cr_assert_not_null(t);
    size_t rows = spend_builtin_num_rows;
    for (size_t i = 0; i < rows; i++) {
        const char *const *k = &spend_builtin_rows[i].key;
        spend_price_t p;
        cr_assert(spend_price_lookup(t, NULL, STR_NULL, str_cstr(*k), &p), "%s", *k);
        cr_expect_str_eq(p.key, *k);
        cr_expect(p.input > 0 && p.input < 1e-4, "%s", *k);
        cr_expect(p.output < 1e-3, "%s", *k);
        cr_expect(p.cache_read < p.input, "%s: cache reads cost less than input", *k);
        cr_expect(!p.free, "%s", *k);
        cr_expect(p.provider && p.mode, "%s", *k);
    }
    cr_expect_eq(spend_prices_builtin_count(t), rows, "a key appears twice in builtin.c");
    spend_prices_free(t);
}

Test(spend, provider_must_match)
{
    /* a self-hosted model that happens to be called gpt-4o is not OpenAI's price */
    cr_expect(!finds("hosted_vllm", "gpt-4o"));
    /* a prefix that disagrees with the provider is not stripped */
    cr_expect(!finds("groq", "openai/gpt-4o"));
    cr_expect(!finds("", "anthropic/gpt-4o"));
}

Test(spend, unknown_model_has_no_price)
{
    spend_price_t p;
    cr_expect(!finds("openai", "gpt-9-ultra"));
    cr_expect(!finds("", "no-such-model"));
    cr_expect(!finds("", ""));
    cr_expect(!spend_price_lookup(prices, &cfg->deployments[4], STR_LIT("hosted_vllm"),
                                  STR_LIT("nobody-knows"), &p));
    cr_expect(!spend_price_for_deployment(prices, &cfg->deployments[4], &p));
    cr_expect(!spend_price_lookup(NULL, NULL, STR_LIT("openai"), STR_LIT("gpt-4o"), &p));
}

/* ---- the deployment tier and precedence ---- */

Test(spend, deployment_prices_win_field_by_field)
{
    spend_price_t p;
    cr_assert(spend_price_for_deployment(prices, &cfg->deployments[0], &p));
    cr_expect_eq(p.source, SPEND_SOURCE_BUILTIN);
    cr_expect_eq(p.input, 2.5e-6);

    cr_assert(spend_price_for_deployment(prices, &cfg->deployments[1], &p));
    cr_expect_eq(p.source, SPEND_SOURCE_DEPLOYMENT);
    cr_expect_eq(p.input, 1e-6);
    cr_expect_eq(p.output, 2e-6);
    cr_expect_eq(p.cache_read, 1.25e-6, "cache price still from the built-in row");
    cr_expect_str_eq(p.key, "gpt-4o");

    /* everything from litellm_params, for a model no catalogue knows */
    cr_assert(spend_price_for_deployment(prices, &cfg->deployments[3], &p));
    cr_expect_eq(p.source, SPEND_SOURCE_DEPLOYMENT);
    cr_expect_null(p.key);
    cr_expect_str_eq(p.provider, "hosted_vllm");
    cr_expect_eq(p.input, 4e-6);
    cr_expect_eq(p.output, 8e-6);
    cr_expect_eq(p.cache_read, 1e-6);
    cr_expect_eq(p.cache_creation, 5e-6);
    cr_expect_eq(p.per_request, 0.01);

    /* a custom flat price drops the catalogue's long-context tier */
    cr_assert(spend_price_for_deployment(prices, &cfg->deployments[5], &p));
    cr_expect_eq(p.above, 0);
    spend_price_t q = must_find("anthropic", "claude-sonnet-4-20250514");
    cr_expect_eq(q.above, 200000);

    /* a deployment from another config is ignored, not misread */
    cfg_deployment_t stranger = cfg->deployments[1];
    cr_assert(spend_price_lookup(prices, &stranger, STR_LIT("openai"), STR_LIT("gpt-4o"), &p));
    cr_expect_eq(p.input, 2.5e-6);
}

Test(spend, wildcard_deployment_prices_the_request_model)
{
    spend_price_t p;
    const cfg_deployment_t *d = &cfg->deployments[6];
    cr_expect(!spend_price_for_deployment(prices, d, &p));
    cr_assert(spend_price_lookup(prices, d, STR_LIT("openai"), STR_LIT("gpt-4.1-mini"), &p));
    cr_expect_eq(p.input, 4e-7);
}

Test(spend, free_models)
{
    spend_price_t p;
    cr_assert(spend_price_for_deployment(prices, &cfg->deployments[2], &p));
    cr_expect(p.free);
    cr_expect_eq(p.source, SPEND_SOURCE_DEPLOYMENT);
    spend_usage_t u = {.prompt_tokens = 1000000, .completion_tokens = 1000, .requests = 1};
    cr_expect_eq(spend_cost(&p, &u), 0.0);

    p = must_find("ollama", "llama3");
    cr_expect(p.free);
    cr_expect_eq(p.source, SPEND_SOURCE_FILE);

    /* zero output alone (an embedding) is not free */
    p = must_find("openai", "text-embedding-3-small");
    cr_expect(!p.free);
    u = (spend_usage_t){.prompt_tokens = 1000};
    cr_expect_eq(spend_cost(&p, &u), 1000 * 2e-8);
}

/* ---- the price file ---- */

Test(spend, file_tier)
{
    cr_expect_eq(spend_prices_file_count(prices), 6,
                 "sample_spec, the image model and the non-object are skipped");

    spend_price_t p = must_find("openai", "my-file-model");
    cr_expect_eq(p.source, SPEND_SOURCE_FILE);
    cr_expect_eq(p.input, 1e-6);
    cr_expect_eq(p.output, 3e-6, "a price given as a string");
    cr_expect_eq(p.cache_read, 5e-7);
    cr_expect_eq(p.max_input_tokens, 100000);
    cr_expect_eq(p.max_output_tokens, 4096);
    cr_expect_str_eq(p.provider, "openai");

    /* the built-in row wins over the file's row of the same name */
    p = must_find("openai", "gpt-4o");
    cr_expect_eq(p.source, SPEND_SOURCE_BUILTIN);
    cr_expect_eq(p.input, 2.5e-6);

    /* "provider/model" lookup in the file; per-request price */
    p = must_find("perplexity", "sonar");
    cr_expect_eq(p.per_request, 0.005);

    /* the deployment wins over the file, field by field */
    cr_assert(spend_price_for_deployment(prices, &cfg->deployments[7], &p));
    cr_expect_eq(p.source, SPEND_SOURCE_DEPLOYMENT);
    cr_expect_eq(p.input, 1e-6);
    cr_expect_eq(p.cache_read, 1e-7);

    /* the deployment's provider is checked against the file's litellm_provider */
    cr_expect(!finds("openai", "my-file-model-x"));
    cr_expect(finds("hosted_vllm", "my-file-model-x"));

    cr_expect(!finds("openai", "dall-e-3"));
    cr_expect(!finds("", "sample_spec"));
}

/* store_model_in_db: a table for a new set of deployments shares the catalogues */
Test(spend, rebind_to_new_deployments)
{
    cJSON *models = cJSON_Parse(
        "[{\"model_name\": \"db\", \"litellm_params\": {\"model\": \"openai/my-file-model\", "
        "\"api_key\": \"k\"}, \"model_info\": {\"id\": \"r\", \"input_cost_per_token\": 2e-6}}]");
    cr_assert_not_null(models);
    cfg_t *next = cfg_with_models(cfg, models, NULL);
    cr_assert_not_null(next);
    cr_assert_eq(next->num_deployments, 9);
    spend_prices_t *t = spend_prices_rebind(prices, next);
    cr_assert_not_null(t);
    cr_expect_eq(spend_prices_file_count(t), 6);
    cr_expect_eq(spend_prices_builtin_count(t), spend_prices_builtin_count(prices));
    spend_price_t p;
    cr_assert(spend_price_for_deployment(t, &next->deployments[8], &p));
    cr_expect_eq(p.input, 2e-6);  /* the new deployment's own price */
    cr_expect_eq(p.output, 3e-6); /* the rest from the shared file catalogue */
    cr_assert(spend_price_for_deployment(t, &next->deployments[1], &p));
    cr_expect_eq(p.input, 0.000001);
    /* a deployment of the old cfg is not one of the new table's */
    cr_assert(spend_price_for_deployment(t, &cfg->deployments[1], &p));
    cr_expect_eq(p.source, SPEND_SOURCE_BUILTIN);
    cr_expect_null(spend_prices_rebind(NULL, next));
    spend_prices_free(t);
    cfg_free(next);
    cJSON_Delete(models);
}

Test(spend, file_long_context_tier)
{
    spend_price_t p = must_find("vertex_ai", "tiered-model");
    cr_expect_eq(p.above, 128000, "the lowest threshold; _priority variants ignored");
    cr_expect_eq(p.input_above, 2e-6);
    cr_expect_eq(p.output_above, 4e-6);
    cr_expect_eq(p.cache_read_above, 1e-7, "an undeclared tier rate stays at the base rate");

    spend_usage_t u = {.prompt_tokens = 128000, .completion_tokens = 10};
    cr_expect_eq(spend_cost(&p, &u), 128000 * 1e-6 + 10 * 2e-6);
    u.prompt_tokens = 128001;
    cr_expect_eq(spend_cost(&p, &u), 128001 * 2e-6 + 10 * 4e-6);
}

Test(spend, file_errors)
{
    char err[256] = "";
    cr_expect_null(spend_prices_new(cfg, "/nonexistent/prices.json", err, sizeof err));
    cr_expect(strstr(err, "/nonexistent/prices.json") != NULL, "%s", err);

    static const char bad[] = "{\"a\": {\"input_cost_per_token\": }";
    err[0] = '\0';
    cr_expect_null(spend_prices_new_from_json(cfg, bad, sizeof bad - 1, err, sizeof err));
    cr_expect(strstr(err, "not a JSON object") != NULL, "%s", err);

    static const char list[] = "[1, 2]";
    cr_expect_null(spend_prices_new_from_json(NULL, list, sizeof list - 1, err, sizeof err));

    /* no file, no config: the built-in table alone */
    spend_prices_t *t = spend_prices_new(NULL, NULL, err, sizeof err);
    cr_assert_not_null(t);
    cr_expect_eq(spend_prices_file_count(t), 0);
    spend_price_t p;
    cr_expect(spend_price_lookup(t, NULL, STR_LIT("openai"), STR_LIT("o3"), &p));
    cr_expect(!spend_price_lookup(t, NULL, STR_LIT("openai"), STR_LIT("my-file-model"), &p));
    spend_prices_free(t);
}

/* ---- cost arithmetic ---- */

Test(spend, cost_openai_cached_tokens)
{
    spend_price_t p = must_find("openai", "gpt-4o");
    /* 1000 prompt tokens of which 400 cached: 600 at input, 400 at cache read, not both */
    spend_usage_t u = {
        .prompt_tokens = 1000, .completion_tokens = 200, .cached_tokens = 400, .requests = 1};
    double c = spend_cost(&p, &u);
    cr_expect_eq(c, 600 * 2.5e-6 + 400 * 1.25e-6 + 200 * 1e-5);
    char buf[SPEND_COST_BUF];
    spend_format_cost(c, buf, sizeof buf);
    cr_expect_str_eq(buf, "0.004"); /* what LiteLLM prints for the same call */

    u = (spend_usage_t){.prompt_tokens = 10, .completion_tokens = 0};
    cr_expect_eq(spend_cost(&p, &u), 10 * 2.5e-6);
}

Test(spend, cost_anthropic_cache_read_and_write)
{
    spend_price_t p = must_find("anthropic", "claude-3-7-sonnet-20250219");
    /* OpenAI-style totals: 3000 prompt = 1500 fresh + 1000 read + 500 written */
    spend_usage_t u = {.prompt_tokens = 3000,
                       .completion_tokens = 100,
                       .cached_tokens = 1000,
                       .cache_creation_tokens = 500,
                       .requests = 1};
    double c = spend_cost(&p, &u);
    char buf[SPEND_COST_BUF];
    spend_format_cost(c, buf, sizeof buf);
    cr_expect_str_eq(buf, "0.008175");
    cr_expect(fabs(c - 0.008175) < 1e-15);

    /* inconsistent counts (cache larger than prompt): fresh tokens clamp at 0 */
    u = (spend_usage_t){.prompt_tokens = 100, .cached_tokens = 80, .cache_creation_tokens = 80};
    cr_expect_eq(spend_cost(&p, &u), 80 * 3e-7 + 80 * 3.75e-6);
}

Test(spend, cost_missing_cache_price_bills_zero)
{
    /* LiteLLM's default for an absent cache_read_input_token_cost is 0 */
    spend_price_t p = must_find("groq", "llama-3.1-8b-instant");
    cr_expect_eq(p.cache_read, 0);
    spend_usage_t u = {.prompt_tokens = 100, .cached_tokens = 100};
    cr_expect_eq(spend_cost(&p, &u), 0.0);
}

Test(spend, cost_long_context_builtin)
{
    spend_price_t p = must_find("gemini", "gemini-2.5-pro");
    spend_usage_t u = {.prompt_tokens = 200000, .completion_tokens = 1000};
    cr_expect_eq(spend_cost(&p, &u), 200000 * 1.25e-6 + 1000 * 1e-5);
    u.prompt_tokens = 250000;
    u.cached_tokens = 50000;
    cr_expect_eq(spend_cost(&p, &u), 200000 * 2.5e-6 + 50000 * 2.5e-7 + 1000 * 1.5e-5);
}

Test(spend, cost_per_request)
{
    spend_price_t p;
    cr_assert(spend_price_for_deployment(prices, &cfg->deployments[3], &p));
    spend_usage_t u = {.prompt_tokens = 0, .completion_tokens = 0, .requests = 3};
    cr_expect_eq(spend_cost(&p, &u), 3 * 0.01);
    u.requests = 0; /* read as one request */
    cr_expect_eq(spend_cost(&p, &u), 0.01);
    u = (spend_usage_t){.prompt_tokens = 1000,
                        .completion_tokens = 10,
                        .cached_tokens = 100,
                        .cache_creation_tokens = 100,
                        .requests = 1};
    double tokens = 800 * 4e-6;
    tokens += 100 * 1e-6;
    tokens += 100 * 5e-6;
    cr_expect_eq(spend_cost(&p, &u), tokens + 10 * 8e-6 + 0.01);
    cr_expect_eq(spend_cost(NULL, &u), 0.0);
    cr_expect_eq(spend_cost(&p, NULL), 0.0);
}

/* ---- x-litellm-response-cost ---- */

Test(spend, format_matches_python_repr)
{
    /* expected: CPython 3 repr() of the same doubles */
    static const struct {
        double v;
        const char *s;
    } cases[] = {
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {1.5e-05, "1.5e-05"},
        {1e-05, "1e-05"},
        {0.0001, "0.0001"},
        {0.00015, "0.00015"},
        {9.999999999999999e-05, "9.999999999999999e-05"},
        {0.30000000000000004, "0.30000000000000004"},
        {1.0 / 3.0, "0.3333333333333333"},
        {1.7500000000000002e-05, "1.7500000000000002e-05"},
        {0.001, "0.001"},
        {0.004, "0.004"},
        {123.0, "123.0"},
        {12345.678, "12345.678"},
        {1234567890123456.0, "1234567890123456.0"},
        {1e16, "1e+16"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {-2.5e-06, "-2.5e-06"},
        {INFINITY, "inf"},
        {NAN, "nan"},
    };
    char buf[SPEND_COST_BUF];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = spend_format_cost(cases[i].v, buf, sizeof buf);
        cr_expect_eq(n, (int)strlen(cases[i].s));
        cr_expect_str_eq(buf, cases[i].s);
    }
    cr_expect_eq(spend_format_cost(0.30000000000000004, buf, 5), -1);
    cr_expect_eq(spend_format_cost(0.5, buf, 4), 3);
}

/* Every output reads back to the same double, and no shorter digit string does. */
Test(spend, format_is_shortest_round_trip)
{
    unsigned long long x = 0x9e3779b97f4a7c15ULL;
    char buf[SPEND_COST_BUF], sci[40];
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* costs: a few tokens to millions of tokens at realistic prices, plus odd values */
        double v = (double)(x % 5000000) * (double)((x >> 32) % 2000 + 1) * 1e-9;
        if (i % 7 == 0)
            v = (double)(x >> 11) * 0x1p-53;
        cr_assert(spend_format_cost(v, buf, sizeof buf) > 0);
        cr_assert_eq(strtod(buf, NULL), v, "%s does not read back as %.17g", buf, v);
        /* significant digits printed: no sign, leading zeros, point, trailing zeros */
        char sig[40];
        size_t k = 0;
        for (const char *s = buf; *s && *s != 'e'; s++)
            if (*s >= '0' && *s <= '9' && (k || *s != '0'))
                sig[k++] = *s;
        while (k > 1 && sig[k - 1] == '0')
            k--;
        /* the fewest digits that read back, found the slow way */
        int shortest = 1;
        while (shortest < 17) {
            snprintf(sci, sizeof sci, "%.*e", shortest - 1, v);
            if (strtod(sci, NULL) == v)
                break;
            shortest++;
        }
        if (v != 0)
            cr_assert_eq((int)k, shortest, "%s for %.17g: %d digits would do", buf, v, shortest);
    }
}
