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
        cr_assert_eq(route_pick_usable(g, STR_LIT("gpt-4o"), &rng, NULL,
                                       &(route_view_t){.usable = all_but_first, .arg = (void *)g},
                                       &arena, &t, &err),
                     0, "%s", err);
        cr_assert_eq(t.dep, g->deployments[1], "the weight-3 deployment is refused: never picked");
    }
    /* a retry's avoided deployment is still picked when it is the only usable one */
    cr_assert_eq(route_pick_usable(g, STR_LIT("gpt-4o"), &rng, g->deployments[1],
                                   &(route_view_t){.usable = all_but_first, .arg = (void *)g},
                                   &arena, &t, &err),
                 0);
    cr_expect_eq(t.dep, g->deployments[1]);
    int asked = 0;
    route_view_t none = {.usable = none_usable, .arg = &asked};
    cr_expect_eq(route_pick_usable(g, STR_LIT("gpt-4o"), &rng, NULL, &none, &arena, &t, &err),
                 ROUTE_NONE_USABLE);
    cr_expect_eq(asked, 2, "each deployment asked once");
    /* no check: route_pick's weights */
    int first = 0;
    for (int i = 0; i < 20000; i++) {
        route_pick_usable(g, STR_LIT("gpt-4o"), &rng, NULL, NULL, &arena, &t, &err);
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

/* ---- cooldowns ------------------------------------------------------------------------------ */

static route_table_t *table_of(const char *text, cfg_t **out)
{
    cfg_diag_t diag = {0};
    *out = cfg_load_string("cool.yaml", text, strlen(text), &diag);
    cfg_diag_free(&diag);
    cr_assert_not_null(*out);
    char err[256];
    route_table_t *t = route_table_new(*out, err, sizeof err);
    cr_assert_not_null(t);
    return t;
}

static const char cool_yaml[] =
    "model_list:\n"
    "  - model_name: pair\n"
    "    litellm_params: {model: openai/a, api_base: 'http://a.test/v1', api_key: k}\n"
    "    model_info: {id: dep-a}\n"
    "  - model_name: pair\n"
    "    litellm_params: {model: openai/b, api_base: 'http://b.test/v1', api_key: k,\n"
    "                     cooldown_time: 2}\n"
    "    model_info: {id: dep-b}\n"
    "  - model_name: lone\n"
    "    litellm_params: {model: openai/c, api_base: 'http://c.test/v1', api_key: k}\n"
    "router_settings: {allowed_fails: 2, cooldown_time: 30,\n"
    "                  allowed_fails_policy: {RateLimitErrorAllowedFails: 0}}\n";

Test(router, cooldown_triggers)
{
    /* allowed_fails_policy set: failures are counted (LiteLLM's legacy rule), every status that
     * may cool alike, against allowed_fails 2 unless the policy names the class */
    cfg_t *c;
    route_table_t *t = table_of(cool_yaml, &c);
    const route_group_t *g = route_find_group(t, STR_LIT("pair"));
    const route_deployment_t *a = g->deployments[0], *b = g->deployments[1];
    cr_expect_eq(a->cooldown_ms, 30000);
    cr_expect_eq(b->cooldown_ms, 2000, "litellm_params.cooldown_time wins");
    cr_expect_eq(a->allowed_fails, 2);
    cr_expect(a->count_fails);
    int64_t now = 120000;
    /* 400 is the request's fault and a connection error never cools (LiteLLM ignores
     * APIConnectionError): neither is counted here */
    for (int i = 0; i < 10; i++) {
        cr_expect_not(route_report_failure(a, 400, now));
        cr_expect_not(route_report_failure(a, ROUTE_CONNECTION_ERROR, now));
    }
    /* more than allowed_fails */
    cr_expect_not(route_report_failure(a, 500, now));
    cr_expect_not(route_report_failure(a, 503, now));
    cr_expect_not(route_is_cooling(a, now));
    cr_expect(route_report_failure(a, 500, now + 1));
    cr_expect(route_is_cooling(a, now + 29000));
    cr_expect_not(route_is_cooling(a, now + 30001));
    /* the count lapses cooldown_time after the last failure it took */
    cr_expect_not(route_report_failure(a, 500, now + 30000));
    /* RateLimitErrorAllowedFails 0: a 429 cools at once */
    cr_expect(route_report_failure(b, 429, now));
    cr_expect(route_is_cooling(b, now + 1999));
    cr_expect_not(route_is_cooling(b, now + 2000));
    /* 401, 404 and 408 are counted like the rest */
    int codes[] = {401, 404, 408};
    for (int i = 0; i < 3; i++) {
        int64_t at = now + 1000000 * (i + 1);
        cr_expect_not(route_report_failure(b, codes[i], at), "status %d", codes[i]);
        cr_expect_not(route_report_failure(b, codes[i], at + 1), "status %d", codes[i]);
        cr_expect(route_report_failure(b, codes[i], at + 2), "status %d", codes[i]);
        cr_expect(route_is_cooling(b, at + 2001));
        cr_expect_not(route_is_cooling(b, at + 2002));
    }
    /* a group's only deployment is never cooled */
    const route_group_t *lone = route_find_group(t, STR_LIT("lone"));
    for (int i = 0; i < 10; i++)
        cr_expect_not(route_report_failure(lone->deployments[0], 429, now));
    route_table_free(t);
    cfg_free(c);
}

static const char rate_yaml[] =
    "model_list:\n"
    "  - model_name: pair\n"
    "    litellm_params: {model: openai/a, api_base: 'http://a.test/v1', api_key: k}\n"
    "    model_info: {id: dep-a}\n"
    "  - model_name: pair\n"
    "    litellm_params: {model: openai/b, api_base: 'http://b.test/v1', api_key: k}\n"
    "    model_info: {id: dep-b}\n"
    "  - model_name: lone\n"
    "    litellm_params: {model: openai/c, api_base: 'http://c.test/v1', api_key: k}\n"
    "router_settings: {cooldown_time: 10}\n";

/* a successful call to d now: what route_call_ended counts */
static void succeed(const route_deployment_t *d, int times)
{
    for (int i = 0; i < times; i++)
        route_call_ended(d, 1000000);
}

Test(router, cooldown_failure_rate)
{
    cfg_t *c;
    route_table_t *t = table_of(rate_yaml, &c);
    const route_group_t *g = route_find_group(t, STR_LIT("pair"));
    const route_deployment_t *a = g->deployments[0], *b = g->deployments[1];
    cr_expect_not(a->count_fails, "allowed_fails unset: LiteLLM's failure-rate rule");
    int64_t now = route_now_ms();
    /* 429, 401 and 404 cool at once */
    int codes[] = {429, 401, 404};
    for (int i = 0; i < 3; i++) {
        int64_t at = now + 100000 * (i + 1);
        cr_expect(route_report_failure(b, codes[i], at), "status %d", codes[i]);
        cr_expect(route_is_cooling(b, at + 9999));
    }
    /* 5xx and timeouts: when more than half of at least 5 calls in the minute failed */
    succeed(a, 4);
    for (int i = 0; i < 4; i++)
        cr_expect_not(route_report_failure(a, i % 2 ? 408 : 500, now), "failure %d of 4+4", i + 1);
    cr_expect_not(route_is_cooling(a, now));
    cr_expect(route_report_failure(a, 502, now), "5 failures of 9 calls");
    cr_expect(route_is_cooling(a, now + 9999));
    route_table_free(t);
    cfg_free(c);

    t = table_of(rate_yaml, &c);
    g = route_find_group(t, STR_LIT("pair"));
    a = g->deployments[0];
    /* with fewer than 5 calls no rate counts, however bad */
    for (int i = 0; i < 4; i++)
        cr_expect_not(route_report_failure(a, 500, now));
    cr_expect(route_report_failure(a, 500, now), "5 of 5 failed");
    /* the counts are forgotten 60 s after their last increment */
    cr_expect_not(route_report_failure(a, 500, now + 60000 + 1));
    route_table_free(t);
    cfg_free(c);

    t = table_of(rate_yaml, &c);
    g = route_find_group(t, STR_LIT("pair"));
    a = g->deployments[0];
    /* 400s and connection errors never cool, but count toward the rate */
    succeed(a, 3);
    for (int i = 0; i < 3; i++)
        cr_expect_not(route_report_failure(a, 400, now));
    for (int i = 0; i < 10; i++)
        cr_expect_not(route_report_failure(a, ROUTE_CONNECTION_ERROR, now));
    cr_expect_not(route_is_cooling(a, now));
    cr_expect(route_report_failure(a, 503, now), "14 failures of 17 calls");
    /* a group's only deployment is never cooled */
    const route_group_t *lone = route_find_group(t, STR_LIT("lone"));
    for (int i = 0; i < 10; i++)
        cr_expect_not(route_report_failure(lone->deployments[0], i < 5 ? 500 : 401, now));
    route_table_free(t);
    cfg_free(c);
}

Test(router, which_rule_counts_failures)
{
    /* LiteLLM counts failures when allowed_fails_policy is set or the router's allowed_fails
     * differs from litellm.allowed_fails (litellm_settings', else 3) */
    static const struct {
        const char *settings;
        bool count;
    } cases[] = {
        {"router_settings: {allowed_fails: 3}\n", false},
        {"router_settings: {allowed_fails: 4}\n", true},
        {"litellm_settings: {allowed_fails: 4}\n", false},
        {"litellm_settings: {allowed_fails: 4}\nrouter_settings: {allowed_fails: 4}\n", false},
        {"router_settings: {allowed_fails_policy: {RateLimitErrorAllowedFails: 2}}\n", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "model_list:\n"
                 "  - model_name: pair\n"
                 "    litellm_params: {model: openai/a, api_key: k}\n"
                 "  - model_name: pair\n"
                 "    litellm_params: {model: openai/b, api_key: k}\n"
                 "%s",
                 cases[i].settings);
        cfg_t *c;
        route_table_t *t = table_of(text, &c);
        const route_group_t *g = route_find_group(t, STR_LIT("pair"));
        cr_expect_eq(g->deployments[0]->count_fails, cases[i].count, "%s", cases[i].settings);
        route_table_free(t);
        cfg_free(c);
    }
}

Test(router, allowed_fails_policy)
{
    cfg_t *c;
    route_table_t *t = table_of("model_list:\n"
                                "  - model_name: trio\n"
                                "    litellm_params: {model: openai/a, api_key: k}\n"
                                "  - model_name: trio\n"
                                "    litellm_params: {model: openai/b, api_key: k}\n"
                                "  - model_name: trio\n"
                                "    litellm_params: {model: openai/c, api_key: k}\n"
                                "router_settings:\n"
                                "  cooldown_time: 10\n"
                                "  allowed_fails_policy:\n"
                                "    RateLimitErrorAllowedFails: 0\n"
                                "    InternalServerErrorAllowedFails: 3\n"
                                "    TimeoutErrorAllowedFails: 1\n"
                                "    BadRequestErrorAllowedFails: 0\n",
                                &c);
    cr_assert(c->has_allowed_fails_policy);
    cr_expect_eq(c->allowed_fails_policy.n[CFG_ERR_RATE_LIMIT], 0);
    cr_expect_eq(c->allowed_fails_policy.n[CFG_ERR_AUTHENTICATION], -1);
    const route_group_t *g = route_find_group(t, STR_LIT("trio"));
    const route_deployment_t *a = g->deployments[0], *b = g->deployments[1],
                             *d3 = g->deployments[2];
    int64_t now = 5000000;
    /* RateLimitErrorAllowedFails 0: the first 429 cools */
    cr_expect(route_report_failure(a, 429, now));
    /* InternalServerErrorAllowedFails 3 (502 too, having no BadGateway entry); 400 is never
     * counted, BadRequestErrorAllowedFails notwithstanding (LiteLLM skips other 4xx first) */
    cr_expect_not(route_report_failure(b, 400, now));
    cr_expect_not(route_report_failure(b, 500, now));
    cr_expect_not(route_report_failure(b, 502, now));
    cr_expect_not(route_report_failure(b, 500, now));
    cr_expect(route_report_failure(b, 500, now));
    /* one count per deployment whatever the class; each failure is held to its class's limit:
     * 401 has no entry, so allowed_fails (3) */
    cr_expect_not(route_report_failure(d3, 401, now));
    cr_expect(route_report_failure(d3, 408, now), "a second failure, TimeoutErrorAllowedFails 1");
    route_table_free(t);
    cfg_free(c);
}

Test(router, retry_policy_per_group)
{
    cfg_t *c;
    route_table_t *t = table_of("model_list:\n"
                                "  - model_name: g1\n"
                                "    litellm_params: {model: openai/a, api_key: k}\n"
                                "  - model_name: g2\n"
                                "    litellm_params: {model: openai/b, api_key: k}\n"
                                "  - model_name: g3\n"
                                "    litellm_params: {model: openai/c, api_key: k}\n"
                                "router_settings:\n"
                                "  retry_after: 1.5\n"
                                "  retry_policy: {RateLimitErrorRetries: 4, "
                                "ContentPolicyViolationErrorRetries: 0}\n"
                                "  model_group_retry_policy:\n"
                                "    g2: {AuthenticationErrorRetries: 2,\n"
                                "         BadRequestErrorRetries: 1}\n",
                                &c);
    const route_group_t *g1 = route_find_group(t, STR_LIT("g1"));
    const route_group_t *g2 = route_find_group(t, STR_LIT("g2"));
    cr_assert_not_null(g1->retry_policy);
    cr_expect_eq(g1->retry_policy->n[CFG_ERR_RATE_LIMIT], 4);
    cr_expect_eq(g1->retry_policy->n[CFG_ERR_CONTENT_POLICY], 0);
    cr_expect_eq(g1->retry_policy->n[CFG_ERR_TIMEOUT], -1);
    cr_assert_not_null(g2->retry_policy);
    cr_expect_eq(g2->retry_policy->n[CFG_ERR_AUTHENTICATION], 2);
    cr_expect_eq(g2->retry_policy->n[CFG_ERR_RATE_LIMIT], -1, "the group's own policy replaces it");
    cr_expect_eq(g1->retry_after_ms, 1500);
    cr_expect_eq(route_error_class(503), CFG_ERR_SERVICE_UNAVAILABLE);
    cr_expect_eq(route_error_class(504), CFG_ERR_INTERNAL_SERVER);
    cr_expect_eq(route_error_class(418), CFG_ERR_BAD_REQUEST);
    route_table_free(t);
    cfg_free(c);
}

Test(router, pick_skips_cooling_and_says_so_when_all_cool)
{
    cfg_t *c;
    route_table_t *t = table_of(cool_yaml, &c);
    const route_group_t *g = route_find_group(t, STR_LIT("pair"));
    const route_deployment_t *a = g->deployments[0], *b = g->deployments[1];
    uint64_t rng = 3;
    route_target_t out;
    const char *err = NULL;
    int64_t now = route_now_ms();
    route_report_failure(a, 429, now);
    for (int i = 0; i < 200; i++) {
        cr_assert_eq(route_pick(g, STR_LIT("pair"), &rng, NULL, &arena, &out, &err), 0);
        cr_assert_eq(out.dep, b);
    }
    /* the retry's avoided deployment is picked when it is the only warm one */
    cr_assert_eq(route_pick(g, STR_LIT("pair"), &rng, b, &arena, &out, &err), 0);
    cr_expect_eq(out.dep, b);
    route_report_failure(b, 429, now);
    cr_expect_eq(route_pick(g, STR_LIT("pair"), &rng, NULL, &arena, &out, &err), ROUTE_ALL_COOLING);
    cr_expect_eq(route_pick_usable(g, STR_LIT("pair"), &rng, NULL,
                                   &(route_view_t){.usable = all_but_first, .arg = (void *)g},
                                   &arena, &out, &err),
                 ROUTE_ALL_COOLING);
    char msg[512];
    long long secs = route_cooldown_message(g, STR_LIT("pair"), now, false, NULL, msg, sizeof msg);
    cr_expect_eq(secs, 2, "the first to warm up: dep-b after 2 s");
    cr_expect_str_eq(msg, "No deployments available for selected model, Try again in 2 seconds. "
                          "Passed model=pair. pre-call-checks=False, "
                          "cooldown_list=['dep-a', 'dep-b']");
    route_table_free(t);
    cfg_free(c);
}

Test(router, disable_cooldowns)
{
    cfg_t *c;
    route_table_t *t = table_of("model_list:\n"
                                "  - model_name: pair\n"
                                "    litellm_params: {model: openai/a, api_key: k}\n"
                                "  - model_name: pair\n"
                                "    litellm_params: {model: openai/b, api_key: k}\n"
                                "router_settings: {disable_cooldowns: true}\n",
                                &c);
    const route_group_t *g = route_find_group(t, STR_LIT("pair"));
    cr_expect_not(route_report_failure(g->deployments[0], 429, route_now_ms()));
    cr_expect_not(route_is_cooling(g->deployments[0], route_now_ms()));
    route_table_free(t);
    cfg_free(c);
}

Test(router, model_group_alias)
{
    cfg_t *c;
    route_table_t *t = table_of("model_list:\n"
                                "  - model_name: real\n"
                                "    litellm_params: {model: openai/a, api_key: k}\n"
                                "  - model_name: other\n"
                                "    litellm_params: {model: openai/b, api_key: k}\n"
                                "router_settings:\n"
                                "  model_group_alias:\n"
                                "    short: real\n"
                                "    secret: {model: real, hidden: true}\n"
                                "    other: real\n"
                                "    ghost: nowhere\n",
                                &c);
    const route_group_t *real = route_find_group(t, STR_LIT("real"));
    cr_assert_not_null(real);
    cr_expect_eq(route_find_group(t, STR_LIT("short")), real);
    cr_expect_eq(route_find_group(t, STR_LIT("secret")), real);
    cr_expect_eq(route_find_group(t, STR_LIT("other")), real, "an alias wins over a group name");
    cr_expect_null(route_find_group(t, STR_LIT("ghost")));
    size_t n;
    const char *const *names = route_model_names(t, &n);
    cr_assert_eq(n, 3);
    cr_expect_str_eq(names[0], "real");
    cr_expect_str_eq(names[1], "other");
    cr_expect_str_eq(names[2], "short");
    route_table_free(t);
    cfg_free(c);
}

Test(router, order_tiers)
{
    cfg_t *c;
    route_table_t *t = table_of("model_list:\n"
                                "  - model_name: tiers\n"
                                "    litellm_params: {model: openai/none, api_key: k}\n"
                                "    model_info: {id: none}\n"
                                "  - model_name: tiers\n"
                                "    litellm_params: {model: openai/two, api_key: k, order: 2}\n"
                                "    model_info: {id: two}\n"
                                "  - model_name: tiers\n"
                                "    litellm_params: {model: openai/one-a, api_key: k, order: 1}\n"
                                "    model_info: {id: one-a}\n"
                                "  - model_name: tiers\n"
                                "    litellm_params: {model: openai/one-b, api_key: k, order: 1}\n"
                                "    model_info: {id: one-b}\n",
                                &c);
    const route_group_t *g = route_find_group(t, STR_LIT("tiers"));
    cr_assert(g->ordered);
    uint64_t rng = 11;
    route_target_t out;
    const char *err;
    int seen[4] = {0};
    for (int i = 0; i < 400; i++) {
        cr_assert_eq(route_pick(g, STR_LIT("tiers"), &rng, NULL, &arena, &out, &err), 0);
        for (int k = 0; k < 4; k++)
            seen[k] += out.dep == g->deployments[k];
    }
    cr_expect_eq(seen[0] + seen[1], 0, "only tier 1 while it is usable");
    cr_expect(seen[2] > 100 && seen[3] > 100, "both of tier 1: %d %d", seen[2], seen[3]);
    /* tier 1 cooling: tier 2; then the unordered one */
    int64_t now = route_now_ms();
    route_report_failure(g->deployments[2], 429, now);
    route_report_failure(g->deployments[3], 429, now);
    cr_assert_eq(route_pick(g, STR_LIT("tiers"), &rng, NULL, &arena, &out, &err), 0);
    cr_expect_str_eq(out.dep->cfg->id, "two");
    route_report_failure(g->deployments[1], 429, now);
    cr_assert_eq(route_pick(g, STR_LIT("tiers"), &rng, NULL, &arena, &out, &err), 0);
    cr_expect_str_eq(out.dep->cfg->id, "none");
    route_table_free(t);
    cfg_free(c);
}

static const char strategy_yaml[] = "model_list:\n"
                                    "  - model_name: s\n"
                                    "    litellm_params: {model: openai/a, api_key: k}\n"
                                    "  - model_name: s\n"
                                    "    litellm_params: {model: openai/b, api_key: k}\n"
                                    "  - model_name: s\n"
                                    "    litellm_params: {model: openai/c, api_key: k}\n"
                                    "router_settings:\n"
                                    "  routing_strategy: %s\n"
                                    "  routing_strategy_args: {lowest_latency_buffer: 0.5}\n";

static route_table_t *strategy_table(const char *name, cfg_t **c)
{
    char text[1024];
    snprintf(text, sizeof text, strategy_yaml, name);
    return table_of(text, c);
}

Test(router, least_busy)
{
    cfg_t *c;
    route_table_t *t = strategy_table("least-busy", &c);
    const route_group_t *g = route_find_group(t, STR_LIT("s"));
    cr_assert_eq(g->strategy, ROUTE_LEAST_BUSY);
    const route_deployment_t *a = g->deployments[0], *b = g->deployments[1],
                             *d3 = g->deployments[2];
    route_call_started(a);
    route_call_started(a);
    route_call_started(b);
    uint64_t rng = 5;
    route_target_t out;
    const char *err;
    for (int i = 0; i < 50; i++) {
        cr_assert_eq(route_pick(g, STR_LIT("s"), &rng, NULL, &arena, &out, &err), 0);
        cr_assert_eq(out.dep, d3, "the idle one");
    }
    /* the avoided one is skipped even when idle */
    cr_assert_eq(route_pick(g, STR_LIT("s"), &rng, d3, &arena, &out, &err), 0);
    cr_expect_eq(out.dep, b);
    route_call_ended(a, 0);
    route_call_ended(a, 0);
    route_call_started(d3);
    cr_assert_eq(route_pick(g, STR_LIT("s"), &rng, NULL, &arena, &out, &err), 0);
    cr_expect_eq(out.dep, a);
    route_table_free(t);
    cfg_free(c);
}

/* What another instance knows, through the view: its in-flight counts replace this process's
 * under least-busy, and a cooldown it started is honoured here (and named in the 429). */
static int64_t view_load(void *arg, const route_deployment_t *d)
{
    const route_group_t *g = arg;
    return d == g->deployments[0] ? 0 : 7; /* elsewhere, only the first is idle */
}

static int64_t view_cooling(void *arg, const route_deployment_t *d)
{
    const route_group_t *g = arg;
    return d == g->deployments[2] ? 0 : 4000; /* cooled elsewhere for 4 more seconds */
}

Test(router, view_shares_load_and_cooldowns)
{
    cfg_t *c;
    route_table_t *t = strategy_table("least-busy", &c);
    const route_group_t *g = route_find_group(t, STR_LIT("s"));
    route_call_started(g->deployments[1]); /* here, the first is not the idlest... */
    route_call_started(g->deployments[0]);
    route_call_started(g->deployments[0]);
    uint64_t rng = 5;
    route_target_t out;
    const char *err;
    route_view_t view = {.load = view_load, .arg = (void *)g};
    for (int i = 0; i < 50; i++) {
        cr_assert_eq(route_pick_usable(g, STR_LIT("s"), &rng, NULL, &view, &arena, &out, &err), 0);
        cr_assert_eq(out.dep, g->deployments[0], "...but across instances it is");
    }
    view = (route_view_t){.cooling_ms = view_cooling, .arg = (void *)g};
    for (int i = 0; i < 50; i++) {
        cr_assert_eq(route_pick_usable(g, STR_LIT("s"), &rng, NULL, &view, &arena, &out, &err), 0);
        cr_assert_eq(out.dep, g->deployments[2], "the others cool elsewhere");
    }
    route_report_failure(g->deployments[2], 429, route_now_ms());
    cr_expect_eq(route_pick_usable(g, STR_LIT("s"), &rng, NULL, &view, &arena, &out, &err),
                 ROUTE_ALL_COOLING);
    char msg[512];
    long long secs =
        route_cooldown_message(g, STR_LIT("s"), route_now_ms(), false, &view, msg, sizeof msg);
    cr_expect_eq(secs, 4, "the first to warm up is one cooled elsewhere, 4 s from now");
    cr_expect(strstr(msg, "cooldown_list=['") != NULL, "%s", msg);
    route_table_free(t);
    cfg_free(c);
}

Test(router, latency_based)
{
    cfg_t *c;
    route_table_t *t = strategy_table("latency-based-routing", &c);
    const route_group_t *g = route_find_group(t, STR_LIT("s"));
    cr_assert_eq(g->strategy, ROUTE_LATENCY);
    cr_expect_float_eq(g->latency_buffer, 0.5, 1e-9);
    const route_deployment_t *a = g->deployments[0], *b = g->deployments[1],
                             *d3 = g->deployments[2];
    route_call_ended(a, 100000000); /* 100 ms */
    route_call_ended(b, 130000000); /* within 50% of a */
    uint64_t rng = 9;
    route_target_t out;
    const char *err;
    /* unmeasured first */
    cr_assert_eq(route_pick(g, STR_LIT("s"), &rng, NULL, &arena, &out, &err), 0);
    cr_expect_eq(out.dep, d3);
    route_call_ended(d3, 400000000); /* 400 ms: outside the buffer */
    int seen_a = 0, seen_b = 0;
    for (int i = 0; i < 200; i++) {
        cr_assert_eq(route_pick(g, STR_LIT("s"), &rng, NULL, &arena, &out, &err), 0);
        cr_assert_neq(out.dep, d3);
        seen_a += out.dep == a;
        seen_b += out.dep == b;
    }
    cr_expect(seen_a > 50 && seen_b > 50, "both within the buffer: %d %d", seen_a, seen_b);
    route_table_free(t);
    cfg_free(c);
}

Test(router, latency_samples_expire_after_ttl)
{
    cfg_t *c;
    route_table_t *t = table_of("model_list:\n"
                                "  - model_name: s\n"
                                "    litellm_params: {model: openai/a, api_key: k}\n"
                                "  - model_name: s\n"
                                "    litellm_params: {model: openai/b, api_key: k}\n"
                                "router_settings:\n"
                                "  routing_strategy: latency-based-routing\n"
                                "  routing_strategy_args: {ttl: 30}\n",
                                &c);
    const route_group_t *g = route_find_group(t, STR_LIT("s"));
    const route_deployment_t *a = g->deployments[0], *b = g->deployments[1];
    cr_expect_eq(a->latency_ttl_ms, 30000);
    int64_t now = route_now_ms();
    cr_expect_eq(route_latency_us(a, now), 0, "unmeasured");
    for (int i = 0; i < ROUTE_LATENCY_SAMPLES; i++)
        route_call_ended(a, 100000000); /* 100 ms */
    cr_expect_eq(route_latency_us(a, now), 100001);
    /* the ring keeps the last ROUTE_LATENCY_SAMPLES: one slow call replaces one fast one */
    route_call_ended(a, 1100000000);
    cr_expect_eq(route_latency_us(a, now), 200001);
    route_call_ended(a, 0); /* a failed call is no sample */
    cr_expect_eq(route_latency_us(a, now), 200001);
    /* older than the ttl: forgotten, so the deployment is unmeasured again and tried first */
    cr_expect_eq(route_latency_us(a, now + 31000), 0);
    route_call_ended(b, 50000000);
    uint64_t rng = 3;
    route_target_t out;
    const char *err;
    cr_assert_eq(route_pick(g, STR_LIT("s"), &rng, NULL, &arena, &out, &err), 0);
    cr_expect_eq(out.dep, b, "b is faster while a's samples are fresh");
    route_table_free(t);
    cfg_free(c);

    /* LiteLLM's default ttl: an hour */
    t = strategy_table("latency-based-routing", &c);
    cr_expect_eq(route_find_group(t, STR_LIT("s"))->deployments[0]->latency_ttl_ms, 3600000);
    route_table_free(t);
    cfg_free(c);
}

static double fake_price(void *arg, const cfg_deployment_t *d)
{
    (void)arg;
    return strcmp(d->provider_model, "b") == 0   ? 0.000001
           : strcmp(d->provider_model, "c") == 0 ? 0.00001
                                                 : -1;
}

Test(router, cost_based)
{
    cfg_t *c;
    route_table_t *t = strategy_table("cost-based-routing", &c);
    route_table_set_costs(t, fake_price, NULL);
    const route_group_t *g = route_find_group(t, STR_LIT("s"));
    cr_assert_eq(g->strategy, ROUTE_COST);
    cr_expect_float_eq(g->deployments[0]->cost_per_token, 1.0, 1e-12, "unknown: LiteLLM's $1");
    uint64_t rng = 4;
    route_target_t out;
    const char *err;
    for (int i = 0; i < 50; i++) {
        cr_assert_eq(route_pick(g, STR_LIT("s"), &rng, NULL, &arena, &out, &err), 0);
        cr_assert_eq(out.dep, g->deployments[1], "the cheapest");
    }
    /* the cheapest cooling: the next cheapest */
    route_report_failure(g->deployments[1], 429, route_now_ms());
    cr_assert_eq(route_pick(g, STR_LIT("s"), &rng, NULL, &arena, &out, &err), 0);
    cr_expect_eq(out.dep, g->deployments[2]);
    route_table_free(t);
    cfg_free(c);
}

Test(router, usage_based)
{
    cfg_t *c;
    route_table_t *t = strategy_table("usage-based-routing-v2", &c);
    const route_group_t *g = route_find_group(t, STR_LIT("s"));
    cr_assert_eq(g->strategy, ROUTE_USAGE);
    int64_t now = route_now_ms();
    route_call_tokens(g->deployments[0], 1000, now);
    route_call_tokens(g->deployments[1], 10, now);
    route_call_tokens(g->deployments[2], 500, now);
    uint64_t rng = 8;
    route_target_t out;
    const char *err;
    cr_assert_eq(route_pick(g, STR_LIT("s"), &rng, NULL, &arena, &out, &err), 0);
    cr_expect_eq(out.dep, g->deployments[1], "the fewest tokens this minute");
    route_call_tokens(g->deployments[1], 1000, now);
    cr_assert_eq(route_pick(g, STR_LIT("s"), &rng, NULL, &arena, &out, &err), 0);
    cr_expect_eq(out.dep, g->deployments[2]);
    /* a new minute starts every count afresh */
    route_call_tokens(g->deployments[0], 1, now + 60000);
    cr_expect_eq(atomic_load(&g->deployments[0]->health->usage_tokens), 1);
    route_table_free(t);
    cfg_free(c);
}
