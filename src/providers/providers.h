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
};

typedef struct {
    const char *name;         /* the `provider/` prefix: "groq" */
    const char *default_base; /* NULL when api_base is required */
    const char *base_env;     /* environment variable overriding the base; NULL if none */
    const char *key_env;      /* environment variable holding the key; NULL if none */
    const char *key_env_alt;  /* a second accepted key variable; NULL if none */
    unsigned flags;
} prov_info_t;

/* The provider called `name`, or NULL when sluice does not know it. */
const prov_info_t *prov_find(str_t name);

/* Every known provider, for listings and tests; *count receives the number. */
const prov_info_t *prov_all(size_t *count);

#endif
