/* SPDX-License-Identifier: MIT
 * azure / azure_ai: request URLs (api_base with and without '/', api-version explicit, from
 * AZURE_API_VERSION, LiteLLM's default; deployments, v1 API, embeddings, responses) and the
 * auth header (api-key, Entra token, Bearer off Azure hosts). */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "config/config.h"
#include "core/arena.h"
#include "providers/providers.h"

/* azure.c's full-signature functions (the hook shape proposed for prov_wire_t) */
const char *prov_azure_url(arena_t *a, const char *api_base, str_t model, const char *api_version,
                           const char *suffix);
const char *prov_azure_ai_url(arena_t *a, const char *api_base, str_t model,
                              const char *api_version, const char *suffix);
const char *prov_azure_auth_header(arena_t *a, const cfg_deployment_t *dep, const char *api_base,
                                   const char *key);
const char *prov_azure_ai_auth_header(arena_t *a, const cfg_deployment_t *dep, const char *api_base,
                                      const char *key);
const char *prov_azure_api_version(const char *api_version);

static arena_t arena;

static void setup(void)
{
    unsetenv("AZURE_API_VERSION");
    unsetenv("AZURE_AD_TOKEN");
}

static void teardown(void)
{
    arena_reset(&arena);
    arena_thread_cleanup();
}

TestSuite(prov_azure, .init = setup, .fini = teardown);

static const char *az(const char *base, const char *version, const char *suffix)
{
    return prov_azure_url(&arena, base, STR_LIT("my-gpt4o"), version, suffix);
}

static const char *azai(const char *base, const char *version, const char *suffix)
{
    return prov_azure_ai_url(&arena, base, STR_LIT("mistral-large"), version, suffix);
}

Test(prov_azure, deployment_url_explicit_version)
{
    cr_expect_str_eq(az("https://res.openai.azure.com", "2024-10-21", "/chat/completions"),
                     "https://res.openai.azure.com/openai/deployments/my-gpt4o/chat/completions"
                     "?api-version=2024-10-21");
}

Test(prov_azure, trailing_slash_ignored)
{
    cr_expect_str_eq(az("https://res.openai.azure.com/", "2024-10-21", "/chat/completions"),
                     "https://res.openai.azure.com/openai/deployments/my-gpt4o/chat/completions"
                     "?api-version=2024-10-21");
    cr_expect_str_eq(az("https://res.openai.azure.com///", "2024-10-21", "/embeddings"),
                     "https://res.openai.azure.com/openai/deployments/my-gpt4o/embeddings"
                     "?api-version=2024-10-21");
}

Test(prov_azure, default_version_is_litellms)
{
    cr_expect_str_eq(az("http://127.0.0.1:4100", NULL, "/chat/completions"),
                     "http://127.0.0.1:4100/openai/deployments/my-gpt4o/chat/completions"
                     "?api-version=2025-02-01-preview");
    cr_expect_str_eq(az("http://127.0.0.1:4100", "", "/chat/completions"),
                     "http://127.0.0.1:4100/openai/deployments/my-gpt4o/chat/completions"
                     "?api-version=2025-02-01-preview");
    cr_expect_str_eq(prov_azure_api_version(NULL), "2025-02-01-preview");
}

Test(prov_azure, version_from_environment)
{
    setenv("AZURE_API_VERSION", "2024-06-01", 1);
    cr_expect_str_eq(
        az("http://h", NULL, "/chat/completions"),
        "http://h/openai/deployments/my-gpt4o/chat/completions?api-version=2024-06-01");
    /* the deployment's own version wins over the environment */
    cr_expect_str_eq(
        az("http://h", "2024-10-21", "/chat/completions"),
        "http://h/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21");
}

Test(prov_azure, embeddings_and_completions_suffix)
{
    cr_expect_str_eq(az("http://h", "2024-10-21", "/embeddings"),
                     "http://h/openai/deployments/my-gpt4o/embeddings?api-version=2024-10-21");
    cr_expect_str_eq(az("http://h", "2024-10-21", "/completions"),
                     "http://h/openai/deployments/my-gpt4o/completions?api-version=2024-10-21");
}

Test(prov_azure, base_with_path_prefix_kept)
{
    /* an APIM / gateway prefix in front of Azure's paths */
    cr_expect_str_eq(az("https://gw.example.com/azure/", "2024-10-21", "/chat/completions"),
                     "https://gw.example.com/azure/openai/deployments/my-gpt4o/chat/completions"
                     "?api-version=2024-10-21");
}

Test(prov_azure, base_already_a_deployment_url)
{
    cr_expect_str_eq(az("https://res.openai.azure.com/openai/deployments/other", "2024-10-21",
                        "/chat/completions"),
                     "https://res.openai.azure.com/openai/deployments/other/chat/completions"
                     "?api-version=2024-10-21");
}

Test(prov_azure, query_in_base_kept_and_not_doubled)
{
    cr_expect_str_eq(
        az("https://h/?api-version=2023-05-15", "2024-10-21", "/chat/completions"),
        "https://h/openai/deployments/my-gpt4o/chat/completions?api-version=2023-05-15");
    cr_expect_str_eq(az("https://h?x=1", "2024-10-21", "/embeddings"),
                     "https://h/openai/deployments/my-gpt4o/embeddings?x=1&api-version=2024-10-21");
}

Test(prov_azure, v1_api)
{
    cr_expect_str_eq(az("https://res.openai.azure.com", "v1", "/chat/completions"),
                     "https://res.openai.azure.com/openai/v1/chat/completions");
    cr_expect_str_eq(az("https://res.openai.azure.com", "latest", "/embeddings"),
                     "https://res.openai.azure.com/openai/v1/embeddings");
    cr_expect_str_eq(az("https://res.openai.azure.com/", "preview", "/responses"),
                     "https://res.openai.azure.com/openai/v1/responses?api-version=preview");
    cr_expect_str_eq(az("https://res.openai.azure.com/openai/v1/", NULL, "/chat/completions"),
                     "https://res.openai.azure.com/openai/v1/chat/completions");
}

Test(prov_azure, responses_have_no_deployment_segment)
{
    cr_expect_str_eq(
        az("https://res.openai.azure.com", "2025-04-01-preview", "/responses"),
        "https://res.openai.azure.com/openai/responses?api-version=2025-04-01-preview");
}

Test(prov_azure, wire_hooks_are_set)
{
    extern const prov_wire_t prov_wire_azure, prov_wire_azure_ai;
    cr_assert(prov_wire_azure.url && prov_wire_azure.auth_header);
    cr_assert(prov_wire_azure_ai.url && prov_wire_azure_ai.auth_header);
    cr_expect_str_eq(prov_wire_azure.auth_header(&arena, NULL, "http://h", "k1"), "api-key: k1");
    cr_expect_str_eq(prov_wire_azure_ai.auth_header(&arena, NULL, "http://h", "k2"),
                     "Authorization: Bearer k2");
    cr_expect_str_eq(
        prov_wire_azure_ai.auth_header(&arena, NULL, "https://r.services.ai.azure.com", "k3"),
        "api-key: k3");
    cr_expect_str_eq(
        prov_wire_azure.url(&arena, "http://h/", STR_LIT("d"), "2024-10-21", "/chat/completions"),
        "http://h/openai/deployments/d/chat/completions?api-version=2024-10-21");
}

/* ---- azure_ai ---------------------------------------------------------------------------- */

Test(prov_azure, ai_plain_base)
{
    cr_expect_str_eq(azai("https://mistral.eastus2.models.ai.azure.com", NULL, "/chat/completions"),
                     "https://mistral.eastus2.models.ai.azure.com/chat/completions");
    cr_expect_str_eq(azai("http://127.0.0.1:4100/", NULL, "/chat/completions"),
                     "http://127.0.0.1:4100/chat/completions");
    cr_expect_str_eq(azai("http://127.0.0.1:4100/v1", NULL, "/embeddings"),
                     "http://127.0.0.1:4100/v1/embeddings");
}

Test(prov_azure, ai_models_path_on_services_hosts)
{
    cr_expect_str_eq(
        azai("https://res.services.ai.azure.com", "2024-05-01-preview", "/chat/completions"),
        "https://res.services.ai.azure.com/models/chat/completions"
        "?api-version=2024-05-01-preview");
    /* a base that already ends in /models does not get a second one */
    cr_expect_str_eq(azai("https://res.services.ai.azure.com/models/", NULL, "/chat/completions"),
                     "https://res.services.ai.azure.com/models/chat/completions");
    cr_expect_str_eq(azai("https://res.services.ai.azure.com/models/chat/completions"
                          "?api-version=2024-05-01-preview",
                          "2025-01-01", "/chat/completions"),
                     "https://res.services.ai.azure.com/models/chat/completions"
                     "?api-version=2024-05-01-preview");
}

Test(prov_azure, ai_no_default_version)
{
    setenv("AZURE_API_VERSION", "2024-06-01", 1);
    cr_expect_str_eq(azai("https://x.models.ai.azure.com", NULL, "/embeddings"),
                     "https://x.models.ai.azure.com/embeddings");
    cr_expect_str_eq(azai("https://x.models.ai.azure.com", "2024-05-01-preview", "/embeddings"),
                     "https://x.models.ai.azure.com/embeddings?api-version=2024-05-01-preview");
}

/* ---- auth -------------------------------------------------------------------------------- */

Test(prov_azure, auth_api_key)
{
    cr_expect_str_eq(prov_azure_auth_header(&arena, NULL, "https://h", "sk-1"), "api-key: sk-1");
    cr_expect_null(prov_azure_auth_header(&arena, NULL, "https://h", NULL));
}

Test(prov_azure, auth_entra_token_wins)
{
    static const char cfg_text[] = "model_list:\n"
                                   "  - model_name: g\n"
                                   "    litellm_params:\n"
                                   "      model: azure/my-gpt4o\n"
                                   "      api_base: https://res.openai.azure.com\n"
                                   "      api_key: sk-1\n"
                                   "      azure_ad_token: eyJ0eXAi.token\n";
    cfg_t *cfg = cfg_load_string("azure.yaml", cfg_text, sizeof cfg_text - 1, NULL);
    cr_assert_not_null(cfg);
    cr_assert_eq(cfg->num_deployments, 1);
    cr_expect_str_eq(prov_azure_auth_header(&arena, &cfg->deployments[0], NULL, "sk-1"),
                     "Authorization: Bearer eyJ0eXAi.token");
    cfg_free(cfg);
}

Test(prov_azure, auth_token_from_environment_without_key)
{
    setenv("AZURE_AD_TOKEN", "env-token", 1);
    cr_expect_str_eq(prov_azure_auth_header(&arena, NULL, NULL, NULL),
                     "Authorization: Bearer env-token");
    /* a configured key still goes first */
    cr_expect_str_eq(prov_azure_auth_header(&arena, NULL, NULL, "sk-2"), "api-key: sk-2");
}

Test(prov_azure, ai_auth_by_host)
{
    cr_expect_str_eq(
        prov_azure_ai_auth_header(&arena, NULL, "https://r.services.ai.azure.com/models", "k"),
        "api-key: k");
    cr_expect_str_eq(
        prov_azure_ai_auth_header(&arena, NULL, "https://r.openai.azure.com:443/", "k"),
        "api-key: k");
    cr_expect_str_eq(
        prov_azure_ai_auth_header(&arena, NULL, "https://m.eastus.models.ai.azure.com", "k"),
        "Authorization: Bearer k");
    cr_expect_str_eq(prov_azure_ai_auth_header(&arena, NULL, "http://127.0.0.1:4100", "k"),
                     "Authorization: Bearer k");
    /* a host that only contains the Azure name is not Azure */
    cr_expect_str_eq(
        prov_azure_ai_auth_header(&arena, NULL, "https://services.ai.azure.com.evil.example", "k"),
        "Authorization: Bearer k");
}
