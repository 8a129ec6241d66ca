/* SPDX-License-Identifier: MIT
 * api/limits.c, the pure parts: which of LiteLLM's descriptors apply to a key (and in which
 * order), and the 429 text. Admission, headers and the release at the request's end are in
 * tests/e2e/limits.test.mjs. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/api.h"

static arena_t arena;

static void teardown(void)
{
    arena_reset(&arena);
}

TestSuite(api_limits, .fini = teardown);

static const auth_limits_t none = {AUTH_NO_LIMIT, AUTH_NO_LIMIT, AUTH_NO_LIMIT};

static auth_key_t unlimited_key(void)
{
    auth_key_t k;
    memset(&k, 0, sizeof k);
    k.rpm_limit = k.tpm_limit = k.max_parallel_requests = AUTH_NO_LIMIT;
    k.team_limits = k.user_limits = k.member_limits = none;
    return k;
}

static api_caller_t caller(const char *user, const char *team)
{
    api_caller_t c;
    memset(&c, 0, sizeof c);
    memset(c.token, 'a', 64);
    c.user_id = user;
    c.team_id = team;
    return c;
}

Test(api_limits, a_key_without_limits_has_no_descriptor)
{
    auth_key_t k = unlimited_key();
    api_caller_t c = caller("u1", "t1");
    api_limit_use_t out[API_LIMIT_DESCRIPTORS];
    cr_expect_eq(api_limit_descriptors(&k, &c, "gpt-4o", &arena, out), 0);
}

Test(api_limits, descriptors_in_litellm_order_with_their_values)
{
    static const auth_model_limit_t models[] = {{"gpt-4o-mini", 7, AUTH_NO_LIMIT},
                                                {"gpt-4o", AUTH_NO_LIMIT, 900}};
    auth_key_t k = unlimited_key();
    k.rpm_limit = 5;
    k.max_parallel_requests = 2;
    k.user_limits = (auth_limits_t){AUTH_NO_LIMIT, 1000, AUTH_NO_LIMIT};
    k.team_limits = (auth_limits_t){30, AUTH_NO_LIMIT, AUTH_NO_LIMIT};
    k.member_limits = (auth_limits_t){3, 300, AUTH_NO_LIMIT};
    k.model_limits = models;
    k.n_model_limits = 2;
    api_caller_t c = caller("u1", "t1");
    api_limit_use_t out[API_LIMIT_DESCRIPTORS];
    cr_assert_eq(api_limit_descriptors(&k, &c, "gpt-4o", &arena, out), 5);
    cr_expect_str_eq(out[0].key, "api_key");
    cr_expect_str_eq(out[0].value, c.token);
    cr_expect_eq(out[0].rpm, 5);
    cr_expect_eq(out[0].tpm, AUTH_NO_LIMIT);
    cr_expect_eq(out[0].max_parallel, 2);
    cr_expect_str_eq(out[1].key, "user");
    cr_expect_str_eq(out[1].value, "u1");
    cr_expect_eq(out[1].tpm, 1000);
    cr_expect_eq(out[1].max_parallel, AUTH_NO_LIMIT, "the user row has none");
    cr_expect_str_eq(out[2].key, "team");
    cr_expect_str_eq(out[2].value, "t1");
    cr_expect_eq(out[2].rpm, 30);
    cr_expect_str_eq(out[3].key, "team_member");
    cr_expect_str_eq(out[3].value, "t1:u1");
    cr_expect_eq(out[3].rpm, 3);
    cr_expect_eq(out[3].tpm, 300);
    cr_expect_str_eq(out[4].key, "model_per_key");
    char want[80];
    snprintf(want, sizeof want, "%s:gpt-4o", c.token);
    cr_expect_str_eq(out[4].value, want);
    cr_expect_eq(out[4].rpm, AUTH_NO_LIMIT);
    cr_expect_eq(out[4].tpm, 900);
    for (size_t i = 0; i < 5; i++)
        cr_expect_not(out[i].holding);
}

Test(api_limits, scopes_the_key_lacks_are_left_out)
{
    static const auth_model_limit_t models[] = {{"gpt-4o-mini", 7, AUTH_NO_LIMIT}};
    auth_key_t k = unlimited_key();
    k.user_limits = (auth_limits_t){10, AUTH_NO_LIMIT, AUTH_NO_LIMIT};
    k.team_limits = (auth_limits_t){10, AUTH_NO_LIMIT, AUTH_NO_LIMIT};
    k.member_limits = (auth_limits_t){10, AUTH_NO_LIMIT, AUTH_NO_LIMIT};
    k.model_limits = models;
    k.n_model_limits = 1;
    api_limit_use_t out[API_LIMIT_DESCRIPTORS];
    /* no user, no team: their limits (from an older record) do not apply */
    api_caller_t c = caller(NULL, NULL);
    cr_expect_eq(api_limit_descriptors(&k, &c, "gpt-4o", &arena, out), 0, "another model: none");
    /* a user without a team: no member descriptor */
    c = caller("u1", NULL);
    cr_assert_eq(api_limit_descriptors(&k, &c, "gpt-4o-mini", &arena, out), 2);
    cr_expect_str_eq(out[0].key, "user");
    cr_expect_str_eq(out[1].key, "model_per_key");
    /* no model in the body: no model descriptor */
    cr_expect_eq(api_limit_descriptors(&k, &c, NULL, &arena, out), 1);
}

Test(api_limits, a_limit_of_zero_is_a_limit)
{
    auth_key_t k = unlimited_key();
    k.tpm_limit = 0;
    api_caller_t c = caller(NULL, NULL);
    api_limit_use_t out[API_LIMIT_DESCRIPTORS];
    cr_assert_eq(api_limit_descriptors(&k, &c, NULL, &arena, out), 1);
    cr_expect_eq(out[0].tpm, 0);
}

Test(api_limits, litellm_429_message)
{
    api_limit_use_t u = {.key = "team", .value = "team-1"};
    lim_info_t info = {.limit = 3, .used = 3, .remaining = 0, .reset_ms = 1767225600000LL + 59999};
    char msg[256];
    api_limit_message(&u, "requests", &info, msg, sizeof msg);
    cr_expect_str_eq(msg, "Rate limit exceeded for team: team-1. Limit type: requests. Current "
                          "limit: 3, Remaining: 0. Limit resets at: 2026-01-01 00:00:59 UTC");
    char reset[32];
    api_limit_reset_text(0, reset);
    cr_expect_str_eq(reset, "1970-01-01 00:00:00 UTC");
}

Test(api_limits, end_user_descriptor_after_the_members_before_models)
{
    static const auth_model_limit_t models[] = {{"gpt-4o", 7, AUTH_NO_LIMIT}};
    auth_key_t k = unlimited_key();
    k.rpm_limit = 5;
    k.model_limits = models;
    k.n_model_limits = 1;
    api_caller_t c = caller(NULL, NULL);
    c.end_user = "cust";
    c.end_user_limited = true;
    c.end_user_rpm = 3;
    c.end_user_tpm = AUTH_NO_LIMIT;
    api_limit_use_t out[API_LIMIT_DESCRIPTORS];
    cr_assert_eq(api_limit_descriptors(&k, &c, "gpt-4o", &arena, out), 3);
    cr_expect_str_eq(out[0].key, "api_key");
    cr_expect_str_eq(out[1].key, "end_user");
    cr_expect_str_eq(out[1].value, "cust");
    cr_expect_eq(out[1].rpm, 3);
    cr_expect_str_eq(out[2].key, "model_per_key");
    /* the master key (no record): the end user's alone */
    cr_assert_eq(api_limit_descriptors(NULL, &c, "gpt-4o", &arena, out), 1);
    cr_expect_str_eq(out[0].key, "end_user");
    c.end_user_limited = false;
    cr_expect_eq(api_limit_descriptors(NULL, &c, "gpt-4o", &arena, out), 0);
}

/* max_parallel_requests on the user, team, member and end-user rows (beyond LiteLLM's v3, which
 * reads the key's alone): a descriptor with nothing but a parallel cap is listed, with its cap. */
Test(api_limits, max_parallel_of_every_scope)
{
    static const auth_model_limit_t models[] = {{"gpt-4o", 7, AUTH_NO_LIMIT}};
    auth_key_t k = unlimited_key();
    k.user_limits.max_parallel = 4;
    k.team_limits.max_parallel = 1;
    k.member_limits.max_parallel = 2;
    k.model_limits = models;
    k.n_model_limits = 1;
    api_caller_t c = caller("u1", "t1");
    c.end_user = "cust";
    c.end_user_limited = true;
    c.end_user_rpm = c.end_user_tpm = AUTH_NO_LIMIT;
    c.end_user_max_parallel = 3;
    api_limit_use_t out[API_LIMIT_DESCRIPTORS];
    cr_assert_eq(api_limit_descriptors(&k, &c, "gpt-4o", &arena, out), 5);
    static const char *const keys[] = {"user", "team", "team_member", "end_user", "model_per_key"};
    static const char *const values[] = {"u1", "t1", "t1:u1", "cust"};
    static const long long caps[] = {4, 1, 2, 3, AUTH_NO_LIMIT};
    for (size_t i = 0; i < 5; i++) {
        cr_expect_str_eq(out[i].key, keys[i]);
        if (i < 4)
            cr_expect_str_eq(out[i].value, values[i]);
        cr_expect_eq(out[i].max_parallel, caps[i], "%s", keys[i]);
        cr_expect_eq(out[i].rpm, i == 4 ? 7 : AUTH_NO_LIMIT, "%s", keys[i]);
        cr_expect_eq(out[i].tpm, AUTH_NO_LIMIT, "%s", keys[i]);
        cr_expect_not(out[i].holding);
    }
    /* a cap of 0 is a limit (it refuses every call), as for rpm and tpm */
    k = unlimited_key();
    k.team_limits.max_parallel = 0;
    c.end_user_limited = false;
    cr_assert_eq(api_limit_descriptors(&k, &c, NULL, &arena, out), 1);
    cr_expect_str_eq(out[0].key, "team");
    cr_expect_eq(out[0].max_parallel, 0);
    /* the master key: the end user's cap alone */
    c.end_user_limited = true;
    cr_assert_eq(api_limit_descriptors(NULL, &c, "gpt-4o", &arena, out), 1);
    cr_expect_str_eq(out[0].key, "end_user");
    cr_expect_eq(out[0].max_parallel, 3);
    cr_expect_eq(out[0].rpm, AUTH_NO_LIMIT);
}

Test(api_limits, litellm_429_message_for_a_team_parallel_cap)
{
    api_limit_use_t u = {.key = "team", .value = "team-1", .max_parallel = 1};
    lim_info_t info = {.limit = 1, .used = 1, .remaining = 0, .reset_ms = 1767225600000LL + 60000};
    char msg[256];
    api_limit_message(&u, "max_parallel_requests", &info, msg, sizeof msg);
    cr_expect_str_eq(msg,
                     "Rate limit exceeded for team: team-1. Limit type: max_parallel_requests. "
                     "Current limit: 1, Remaining: 0. Limit resets at: 2026-01-01 00:01:00 "
                     "UTC");
}

/* general_settings.token_rate_limit_type: which tokens a call adds to its tpm counters. Cached
 * prompt tokens are left out of input and total, as LiteLLM's v3 limiter does. */
Test(api_limits, tokens_counted_by_token_rate_limit_type)
{
    api_usage_t u = {.prompt = 100, .completion = 30, .cached = 40, .seen = true};
    cr_expect_eq(api_limit_tokens(NULL, &u), 90, "default: total less cached");
    cr_expect_eq(api_limit_tokens("total", &u), 90);
    cr_expect_eq(api_limit_tokens("input", &u), 60);
    cr_expect_eq(api_limit_tokens("output", &u), 30, "output: completion, cached irrelevant");
    cr_expect_eq(api_limit_tokens("bogus", &u), 90, "LiteLLM falls back to total");
    api_usage_t plain = {.prompt = 12, .completion = 5, .seen = true};
    cr_expect_eq(api_limit_tokens(NULL, &plain), 17);
    cr_expect_eq(api_limit_tokens("input", &plain), 12);
    api_usage_t all_cached = {.prompt = 10, .completion = 0, .cached = 10, .seen = true};
    cr_expect_eq(api_limit_tokens("input", &all_cached), 0);
}
