/* SPDX-License-Identifier: MIT
 * retries: which failed attempt is retried (num_retries, retry_policy by LiteLLM's exception
 * class) and the class of a failure. */
#include <criterion/criterion.h>

#include "api/api.h"

static route_group_t group_with(const cfg_error_policy_t *policy)
{
    return (route_group_t){.name = "g", .retry_policy = policy, .retry_after_ms = 250};
}

static cfg_error_policy_t policy_of(int cls, int n)
{
    cfg_error_policy_t p;
    for (int k = 0; k < CFG_ERR_COUNT; k++)
        p.n[k] = -1;
    p.n[cls] = n;
    return p;
}

Test(retry, without_a_policy_num_retries_and_the_usual_errors)
{
    route_group_t g = group_with(NULL);
    api_retry_t r = {0};
    int max = 2;
    cr_expect(api_retry_wanted(&r, &g, 0, &max, UP_OK, 500, STR_NULL));
    cr_expect_eq(r.min_ms, 250, "retry_after noted for the back-off");
    cr_expect(api_retry_wanted(&r, &g, 1, &max, UP_ERR_TIMEOUT, 0, STR_NULL));
    cr_expect_not(api_retry_wanted(&r, &g, 2, &max, UP_OK, 429, STR_NULL), "retries spent");
    cr_expect_not(api_retry_wanted(&r, &g, 0, &max, UP_OK, 401, STR_NULL));
    cr_expect_not(api_retry_wanted(&r, &g, 0, &max, UP_OK, 400, STR_NULL));
    cr_expect(api_retry_wanted(&r, &g, 0, &max, UP_ERR_CONNECT, 0, STR_NULL));
    cr_expect_eq(max, 2);
}

Test(retry, the_policy_of_the_first_failure_sets_the_budget)
{
    cfg_error_policy_t p = policy_of(CFG_ERR_AUTHENTICATION, 3);
    route_group_t g = group_with(&p);
    api_retry_t r = {0};
    int max = 1;
    cr_expect(api_retry_wanted(&r, &g, 0, &max, UP_OK, 401, STR_NULL));
    cr_expect_eq(max, 3);
    /* later failures of the group are retried whatever they are, up to that budget */
    cr_expect(api_retry_wanted(&r, &g, 1, &max, UP_OK, 400, STR_NULL));
    cr_expect(api_retry_wanted(&r, &g, 2, &max, UP_OK, 404, STR_NULL));
    cr_expect_not(api_retry_wanted(&r, &g, 3, &max, UP_OK, 401, STR_NULL));
    /* a class the policy does not name: num_retries, usual rules */
    max = 1;
    cr_expect_not(api_retry_wanted(&r, &g, 0, &max, UP_OK, 400, STR_NULL));
    cr_expect(api_retry_wanted(&r, &g, 0, &max, UP_OK, 503, STR_NULL));
    cr_expect_eq(max, 1);
    /* 0 retries for a class */
    cfg_error_policy_t none = policy_of(CFG_ERR_RATE_LIMIT, 0);
    g = group_with(&none);
    cr_expect_not(api_retry_wanted(&r, &g, 0, &max, UP_OK, 429, STR_NULL));
}

Test(retry, content_policy_falls_back_to_bad_request)
{
    str_t policy = STR_LIT("{\"error\":{\"message\":\"The response was filtered due to the prompt "
                           "triggering content management policy\",\"code\":\"content_filter\"}}");
    cr_expect_eq(api_error_class(UP_OK, 400, policy), CFG_ERR_CONTENT_POLICY);
    cr_expect_eq(api_error_class(UP_OK, 400, STR_LIT("{}")), CFG_ERR_BAD_REQUEST);
    cr_expect_eq(api_error_class(UP_ERR_TIMEOUT, 0, STR_NULL), CFG_ERR_TIMEOUT);
    cr_expect_eq(api_error_class(UP_ERR_CONNECT, 0, STR_NULL), -1);
    cr_expect_eq(api_error_class(UP_OK, 403, STR_NULL), -1);
    cfg_error_policy_t p = policy_of(CFG_ERR_BAD_REQUEST, 2);
    route_group_t g = group_with(&p);
    api_retry_t r = {0};
    int max = 0;
    cr_expect(api_retry_wanted(&r, &g, 0, &max, UP_OK, 400, policy));
    cr_expect_eq(max, 2, "ContentPolicyViolationError is a BadRequestError");
    p.n[CFG_ERR_CONTENT_POLICY] = 0;
    max = 0;
    cr_expect_not(api_retry_wanted(&r, &g, 0, &max, UP_OK, 400, policy));
    cr_expect(api_retry_wanted(&r, &g, 0, &max, UP_OK, 400, STR_LIT("{}")));
}
