/* SPDX-License-Identifier: MIT
 * router: model-name matching (exact before patterns), wildcard substitution, provider
 * defaults from the table, and simple-shuffle weights. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "router/router.h"

static const char yaml[] =
    "model_list:\n"
    "  - model_name: gpt-4o\n"
    "    litellm_params: {model: openai/gpt-4o, api_base: 'http://a.test/v1/', api_key: k1, "
    "weight: 3}\n"
    "  - model_name: gpt-4o\n"
    "    litellm_params: {model: openai/gpt-4o-b, api_base: 'http://b.test/v1', api_key: k2, "
    "weight: 1}\n"
    "  - model_name: fast\n"
    "    litellm_params: {model: groq/llama-3.1-8b-instant, api_key: gk,\n"
    "                     extra_headers: {X-One: '1'}, organization: org-9}\n"
    "  - model_name: 'openai/*'\n"
    "    litellm_params: {model: 'openai/*', api_key: ok}\n"
    "  - model_name: 'team-*-model'\n"
    "    litellm_params: {model: 'together_ai/*', api_key: tk}\n"
    "  - model_name: 'openai/gpt-4o-special'\n"
    "    litellm_params: {model: openai/special, api_key: sk}\n"
    "  - model_name: 'needs-base'\n"
    "    litellm_params: {model: hosted_vllm/x}\n"
    "  - model_name: 'unknown-provider'\n"
    "    litellm_params: {model: nosuchprovider/x}\n";

static cfg_t *cfg;
static route_table_t *table;
static arena_t arena;

static void setup(void)
{
    cfg_diag_t diag = {0};
    cfg = cfg_load_string("test.yaml", yaml, sizeof yaml - 1, &diag);
    cfg_diag_free(&diag);
    cr_assert_not_null(cfg);
    char err[256];
    table = route_table_new(cfg, err, sizeof err);
    cr_assert_not_null(table);
}

static void teardown(void)
{
    arena_reset(&arena);
    route_table_free(table);
    cfg_free(cfg);
}

TestSuite(router, .init = setup, .fini = teardown);

static route_target_t pick(const char *model)
{
    const route_group_t *g = route_find_group(table, str_cstr(model));
    cr_assert_not_null(g, "no group for %s", model);
    uint64_t rng = 42;
    route_target_t t;
    const char *err = NULL;
    cr_assert_eq(route_pick(g, str_cstr(model), &rng, NULL, &arena, &t, &err), 0, "%s", err);
    return t;
}

static bool has_header(const char **h, const char *line)
{
    for (; h && *h; h++)
        if (strcmp(*h, line) == 0)
            return true;
    return false;
}

Test(router, exact_names_win_over_patterns)
{
    route_target_t t = pick("openai/gpt-4o-special");
    cr_expect(str_eq_cstr(t.upstream_model, "special"));
    t = pick("openai/gpt-5");
    cr_expect(str_eq_cstr(t.upstream_model, "gpt-5"), "got %.*s", STR_FMT(t.upstream_model));
    cr_expect_str_eq(t.api_base, "https://api.openai.com/v1");
    cr_expect(has_header(t.headers, "Authorization: Bearer ok"));
}

Test(router, pattern_in_the_middle)
{
    route_target_t t = pick("team-blue-model");
    cr_expect(str_eq_cstr(t.upstream_model, "blue"), "got %.*s", STR_FMT(t.upstream_model));
    cr_expect_str_eq(t.api_base, "https://api.together.xyz/v1");
    cr_expect_null(route_find_group(table, STR_LIT("team-blue")));
}

Test(router, provider_defaults_and_headers)
{
    route_target_t t = pick("fast");
    cr_expect(str_eq_cstr(t.upstream_model, "llama-3.1-8b-instant"));
    cr_expect_str_eq(t.api_base, "https://api.groq.com/openai/v1");
    cr_expect(has_header(t.headers, "Authorization: Bearer gk"));
    cr_expect(has_header(t.headers, "OpenAI-Organization: org-9"));
    cr_expect(has_header(t.headers, "X-One: 1"));
    cr_expect(has_header(t.headers, "Content-Type: application/json"));
}

Test(router, trailing_slash_trimmed)
{
    const route_group_t *g = route_find_group(table, STR_LIT("gpt-4o"));
    cr_assert_eq(g->num_deployments, 2);
    cr_expect_str_eq(g->deployments[0]->api_base, "http://a.test/v1");
}

Test(router, unusable_deployments_are_skipped)
{
    cr_expect_null(route_find_group(table, STR_LIT("needs-base")));
    cr_expect_null(route_find_group(table, STR_LIT("unknown-provider")));
    size_t n;
    const char *const *names = route_model_names(table, &n);
    cr_expect_eq(n, 3); /* gpt-4o, fast, openai/gpt-4o-special */
    cr_expect_str_eq(names[0], "gpt-4o");
}

Test(router, weighted_shuffle)
{
    const route_group_t *g = route_find_group(table, STR_LIT("gpt-4o"));
    uint64_t rng = route_rng_seed();
    int a = 0, total = 20000;
    for (int i = 0; i < total; i++) {
        route_target_t t;
        const char *err;
        route_pick(g, STR_LIT("gpt-4o"), &rng, NULL, &arena, &t, &err);
        a += t.dep == g->deployments[0];
    }
    double share = (double)a / total;
    cr_expect(share > 0.72 && share < 0.78, "share of weight-3 deployment: %f", share);
}

Test(router, retry_avoids_the_failed_deployment)
{
    const route_group_t *g = route_find_group(table, STR_LIT("gpt-4o"));
    uint64_t rng = 7;
    int other = 0;
    for (int i = 0; i < 1000; i++) {
        route_target_t t;
        const char *err;
        route_pick(g, STR_LIT("gpt-4o"), &rng, g->deployments[0], &arena, &t, &err);
        other += t.dep == g->deployments[1];
    }
    cr_expect(other > 950, "picked the avoided deployment %d times", 1000 - other);
}

static bool all_but_first(void *arg, const route_deployment_t *d)
{
    const route_group_t *g = arg;
    return d != g->deployments[0];
}

static bool none_usable(void *arg, const route_deployment_t *d)
{
    int *asked = arg;
    ++*asked;
    return false;
}

Test(router, pick_usable_skips_what_the_pre_call_check_refuses)
{
    const route_group_t *g = route_find_group(table, STR_LIT("gpt-4o"));
    cr_expect_not(g->limited, "no rpm/tpm in this group");
    uint64_t rng = route_rng_seed();
    route_target_t t;
    const char *err = NULL;
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(route_pick_usable(g, STR_LIT("gpt-4o"), &rng, NULL, all_but_first, (void *)g,
                                       &arena, &t, &err),
                     0, "%s", err);
        cr_assert_eq(t.dep, g->deployments[1], "the weight-3 deployment is refused: never picked");
    }
    /* a retry's avoided deployment is still picked when it is the only usable one */
    cr_assert_eq(route_pick_usable(g, STR_LIT("gpt-4o"), &rng, g->deployments[1], all_but_first,
                                   (void *)g, &arena, &t, &err),
                 0);
    cr_expect_eq(t.dep, g->deployments[1]);
    int asked = 0;
    cr_expect_eq(
        route_pick_usable(g, STR_LIT("gpt-4o"), &rng, NULL, none_usable, &asked, &arena, &t, &err),
        ROUTE_NONE_USABLE);
    cr_expect_eq(asked, 2, "each deployment asked once");
    /* no check: route_pick's weights */
    int first = 0;
    for (int i = 0; i < 20000; i++) {
        route_pick_usable(g, STR_LIT("gpt-4o"), &rng, NULL, NULL, NULL, &arena, &t, &err);
        first += t.dep == g->deployments[0];
    }
    cr_expect(first > 14400 && first < 15600, "share of the weight-3 deployment: %d", first);
}

Test(router, glob)
{
    str_t caps[4];
    cr_expect_eq(route_glob_match(STR_LIT("a*b*c"), STR_LIT("axxbyyc"), caps, 4), 2);
    cr_expect(str_eq_cstr(caps[0], "xx"));
    cr_expect(str_eq_cstr(caps[1], "yy"));
    cr_expect_eq(route_glob_match(STR_LIT("*"), STR_LIT(""), caps, 4), 1);
    cr_expect_eq(route_glob_match(STR_LIT("a*"), STR_LIT("b"), caps, 4), -1);
    cr_expect_eq(route_glob_match(STR_LIT("abc"), STR_LIT("abc"), caps, 4), 0);
    cr_expect_eq(route_glob_match(STR_LIT("*/*"), STR_LIT("groq/llama/3"), caps, 4), 2);
    cr_expect(str_eq_cstr(caps[0], "groq"));
    cr_expect(str_eq_cstr(caps[1], "llama/3"));
}
