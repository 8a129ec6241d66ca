/* SPDX-License-Identifier: MIT
 * spend: what a request cost. Prices come from three tiers, in this order: the deployment's
 * own prices (model_info / litellm_params in config.yaml), a built-in table of the major
 * providers' current models, and a LiteLLM-format price JSON (model_prices_and_context_window
 * .json) loaded by path. The price table is built once at start-up and is immutable after, so
 * workers read it without locks; lookups and cost arithmetic never allocate.
 * Not here (yet): spend records, the queue to the store thread, the spool. */
#ifndef SLUICE_SPEND_SPEND_H
#define SLUICE_SPEND_SPEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/str.h"

/* Where a price came from (the deployment tier may be merged over a catalogue entry). */
typedef enum {
    SPEND_SOURCE_NONE = 0,
    SPEND_SOURCE_DEPLOYMENT, /* at least one field came from the deployment's config */
    SPEND_SOURCE_BUILTIN,    /* the table compiled into sluice (prices.c) */
    SPEND_SOURCE_FILE,       /* the LiteLLM-format JSON loaded by path */
} spend_source_t;

/* One model's prices, USD per token (per request for per_request). A field the source does not
 * give is 0, which is what LiteLLM bills for it. */
typedef struct {
    double input;          /* input_cost_per_token: uncached prompt tokens */
    double output;         /* output_cost_per_token */
    double cache_read;     /* cache_read_input_token_cost */
    double cache_creation; /* cache_creation_input_token_cost (5-minute cache writes) */
    double per_request;    /* input_cost_per_request: added once per request */
    /* One long-context tier, LiteLLM's `*_above_<N>k_tokens` keys: when prompt_tokens > above,
     * every token of the request is billed at these rates. above == 0: no tier. */
    uint64_t above;
    double input_above, output_above, cache_read_above, cache_creation_above;
    bool free; /* input and output both explicitly 0: no cost, budget checks are skipped */
    spend_source_t source;
    const char *key;      /* catalogue key that matched ("gpt-4o"); NULL for deployment-only */
    const char *provider; /* litellm_provider of the catalogue entry, or NULL */
    const char *mode;     /* "chat", "embedding", ... or NULL */
    int64_t max_input_tokens, max_output_tokens; /* 0 when unknown */
} spend_price_t;

/* Token counts of one call, as OpenAI reports them: prompt_tokens includes the cached and the
 * cache-written tokens (Anthropic's input_tokens + cache_read + cache_creation). */
typedef struct {
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
    uint64_t cached_tokens;         /* prompt_tokens_details.cached_tokens / cache_read_input */
    uint64_t cache_creation_tokens; /* cache_creation_input_tokens */
    uint64_t requests;              /* times per_request is billed; 1 for an ordinary call */
} spend_usage_t;

typedef struct spend_prices spend_prices_t;

/* Builds the price table: per-deployment prices from `cfg` (may be NULL), the built-in table,
 * and, when `json_path` is not NULL, a LiteLLM-format price file. Returns NULL and a message in
 * err when the file cannot be read or parsed. `cfg` must outlive the table (deployments are
 * matched by address). The caller frees with spend_prices_free. */
spend_prices_t *spend_prices_new(const cfg_t *cfg, const char *json_path, char *err, size_t errlen);

/* Same, with the price JSON given as text (tests; a cost map fetched some other way). */
spend_prices_t *spend_prices_new_from_json(const cfg_t *cfg, const char *json, size_t len,
                                           char *err, size_t errlen);

/* A table for another set of deployments (`cfg`, which must outlive it): its own deployment
 * tier, and the built-in and file catalogues of `base` shared, not loaded again (`base` must
 * outlive it too). NULL when base is NULL. Freed with spend_prices_free. */
spend_prices_t *spend_prices_rebind(const spend_prices_t *base, const cfg_t *cfg);

void spend_prices_free(spend_prices_t *t);

/* Number of models in the built-in table and in the loaded file (for start-up logs). */
size_t spend_prices_builtin_count(const spend_prices_t *t);
size_t spend_prices_file_count(const spend_prices_t *t);

/* The price of `model` served by `provider` ("openai", "anthropic", ...; may be empty) through
 * deployment `d` (may be NULL; must belong to the cfg the table was built from). `model` is the
 * upstream name, with or without the provider prefix. Fills *out and returns true, or returns
 * false when no tier knows the model. Does not allocate; strings in *out live as long as t. */
bool spend_price_lookup(const spend_prices_t *t, const cfg_deployment_t *d, str_t provider,
                        str_t model, spend_price_t *out);

/* Shorthand: the price of deployment d's own model (d->provider, d->provider_model). */
bool spend_price_for_deployment(const spend_prices_t *t, const cfg_deployment_t *d,
                                spend_price_t *out);

/* The cost in USD of one call, with LiteLLM's arithmetic: cached tokens at cache_read and
 * cache-written tokens at cache_creation, neither again at input; the long-context tier when
 * prompt_tokens is above it; per_request * requests on top. 0 for free models. */
double spend_cost(const spend_price_t *p, const spend_usage_t *u);

/* Formats a cost as LiteLLM's x-litellm-response-cost header does (Python's str(float): the
 * shortest digits that read back to the same double, "1.5e-05", "0.00105", "0.0"). Writes a
 * NUL-terminated string into buf (32 bytes always suffice) and returns its length, or -1 when
 * buf is too small. */
int spend_format_cost(double cost, char *buf, size_t n);

#define SPEND_COST_BUF 32

#endif
