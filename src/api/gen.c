/* SPDX-License-Identifier: MIT
 * Generations of the models the data plane serves. A generation (the config, its route table,
 * prices and access groups) is built off the request path, by main at start-up and then by the
 * control-plane thread when LiteLLM_ProxyModelTable changes (store_model_in_db), and published
 * with one release store. A request loads the current one once (acquire) and keeps it. Nothing
 * tells when the last request holding an old generation has finished without adding work to
 * every request, so a replaced generation is retired, not freed: models change rarely, and a
 * generation shares its price catalogues with the one before it, so what is kept per swap is
 * the deployments and their routes. */
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "core/log.h"

/* cost-based-routing's price of a deployment: input + output per token; -1 when unknown. */
static double deployment_price(void *arg, const cfg_deployment_t *d)
{
    spend_price_t p;
    if (!arg || !spend_price_for_deployment(arg, d, &p))
        return -1;
    return p.input + p.output;
}

api_gen_t *api_gen_new(cfg_t *cfg, const api_gen_t *prev, const char *prices_path, char *err,
                       size_t err_size)
{
    api_gen_t *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, err_size, "out of memory");
        cfg_free(cfg);
        return NULL;
    }
    g->cfg = cfg;
    g->routes = route_table_new(cfg, err, err_size);
    if (!g->routes)
        goto fail;
    if (prev)
        g->prices = spend_prices_rebind(prev->prices, cfg);
    else if (!(g->prices = spend_prices_new(cfg, prices_path, err, err_size)))
        goto fail;
    route_table_set_costs(g->routes, deployment_price, g->prices);
    g->access_groups = api_access_groups_build(cfg, &g->num_access_groups);
    return g;
fail:
    route_table_free(g->routes);
    cfg_free(g->cfg);
    free(g);
    return NULL;
}

static void gen_free(api_gen_t *g)
{
    api_access_groups_free(g->access_groups, g->num_access_groups);
    spend_prices_free(g->prices);
    route_table_free(g->routes);
    cfg_free(g->cfg);
    free(g);
}

void api_gen_publish(api_ctx_t *ctx, api_gen_t *gen)
{
    /* only the publisher writes ctx->gen, so a relaxed load sees its own last store */
    api_gen_t *old = atomic_load_explicit(&ctx->gen, memory_order_relaxed);
    gen->older = old;
    gen->number = old ? old->number + 1 : 1;
    atomic_store_explicit(&ctx->gen, gen, memory_order_release);
    size_t from_db = 0, names = 0;
    for (size_t i = 0; i < gen->cfg->num_deployments; i++)
        from_db += gen->cfg->deployments[i].line == 0;
    route_model_names(gen->routes, &names);
    if (old)
        log_info("models: generation %lu in use: %zu deployments (%zu from the database), %zu "
                 "model names; generation %lu retired",
                 gen->number, gen->cfg->num_deployments, from_db, names, old->number);
}

void api_gen_free_all(api_ctx_t *ctx)
{
    api_gen_t *g = atomic_exchange(&ctx->gen, NULL);
    while (g) {
        api_gen_t *older = g->older;
        gen_free(g);
        g = older;
    }
}
