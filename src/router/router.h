/* SPDX-License-Identifier: MIT
 * Model groups and deployments: the model name a client sends is matched to a group (exact
 * names first, then wildcard patterns), and one deployment is picked by LiteLLM's simple-shuffle
 * (weighted random by weight, else rpm, else tpm, else uniform). Built once from the config;
 * read by every worker without locks. */
#ifndef SLUICE_ROUTER_ROUTER_H
#define SLUICE_ROUTER_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "core/arena.h"
#include "core/str.h"
#include "providers/providers.h"

typedef struct route_table route_table_t;

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
    bool model_has_star; /* litellm_params.model contains '*': substituted per request */
} route_deployment_t;

typedef struct {
    const char *name;
    route_deployment_t **deployments;
    size_t num_deployments;
    double total_weight;
    bool wildcard;
    size_t specificity; /* literal characters in a wildcard name: more is preferred */
    bool limited;       /* a deployment has litellm_params rpm or tpm */
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

/* The group serving `model`, or NULL. Exact names win over patterns. */
const route_group_t *route_find_group(const route_table_t *t, str_t model);

/* Picks a deployment of the group for `model` and resolves what to call. `avoid` (may be NULL)
 * is skipped when the group has another deployment. 0, or -1 with a message in *err. */
int route_pick(const route_group_t *g, str_t model, uint64_t *rng, const route_deployment_t *avoid,
               arena_t *arena, route_target_t *out, const char **err);

/* Whether a deployment may take a call now (LiteLLM's pre-call checks: within its rpm/tpm). */
typedef bool (*route_usable_fn)(void *arg, const route_deployment_t *d);

/* route_pick among the deployments `usable` accepts (asked once each; NULL accepts all): the
 * shuffle's weights are those of the usable ones. 0, -1 with *err, or ROUTE_NONE_USABLE when
 * `usable` refused every deployment. */
#define ROUTE_NONE_USABLE 1
int route_pick_usable(const route_group_t *g, str_t model, uint64_t *rng,
                      const route_deployment_t *avoid, route_usable_fn usable, void *usable_arg,
                      arena_t *arena, route_target_t *out, const char **err);

/* Model names for /v1/models, in config order, without duplicates or wildcards. */
const char *const *route_model_names(const route_table_t *t, size_t *count);

/* A fast per-thread random number (xorshift64*); seed with route_rng_seed. */
uint64_t route_rng_next(uint64_t *state);
uint64_t route_rng_seed(void);

/* Matches `text` against a glob with '*'; captures up to `max` starred parts. Count or -1. */
int route_glob_match(str_t pattern, str_t text, str_t *captures, int max);

#endif
