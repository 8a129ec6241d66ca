/* SPDX-License-Identifier: MIT
 * What sluice knows about each provider: the OpenAI-compatible ones are one data table (default
 * base URL, the environment variables for base and key); `openai/...` with any api_base covers
 * the rest. Native providers (anthropic, gemini, bedrock, ...) join through the same lookup. */
#ifndef SLUICE_PROVIDERS_PROVIDERS_H
#define SLUICE_PROVIDERS_PROVIDERS_H

#include <stdbool.h>

#include "core/str.h"

enum {
    PROV_OPENAI_COMPAT = 1 << 0, /* speaks OpenAI's wire format: only `model` is rewritten */
    PROV_COMPLETIONS = 1 << 1,   /* serves /completions too */
    PROV_EMBEDDINGS = 1 << 2,    /* serves /embeddings */
    PROV_NEEDS_BASE = 1 << 3,    /* no default base URL: api_base is required */
    PROV_BASE_COMPUTED = 1 << 4, /* the adapter derives the URL (region, project): no base */
};

#include "core/arena.h"

struct cfg_deployment; /* config/config.h */

/* OpenAI-wire providers with their own URL or auth scheme (azure, azure_ai) set these; the
 * pass-through path calls them instead of "<base><suffix>" and "Authorization: Bearer". */
typedef struct {
    /* The request URL for `suffix` ("/chat/completions", "/embeddings", "/responses"). */
    const char *(*url)(arena_t *a, const char *api_base, str_t model, const char *api_version,
                       const char *suffix);
    /* The auth header line ("api-key: ..."), from the deployment (may be NULL), its resolved
     * base and key; NULL when there is nothing to send. */
    const char *(*auth_header)(arena_t *a, const struct cfg_deployment *dep, const char *api_base,
                               const char *key);
} prov_wire_t;

typedef struct {
    const char *name;         /* the `provider/` prefix: "groq" */
    const char *default_base; /* NULL when api_base is required */
    const char *base_env;     /* environment variable overriding the base; NULL if none */
    const char *key_env;      /* environment variable holding the key; NULL if none */
    const char *key_env_alt;  /* a second accepted key variable; NULL if none */
    unsigned flags;
    const prov_wire_t *wire; /* NULL: plain OpenAI URLs and Bearer auth */
} prov_info_t;

/* The provider called `name`, or NULL when sluice does not know it. */
const prov_info_t *prov_find(str_t name);

/* Every known provider, for listings and tests; *count receives the number. */
const prov_info_t *prov_all(size_t *count);

#endif
