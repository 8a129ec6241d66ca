/* SPDX-License-Identifier: MIT
 * Between two attempts of one call: failures are told to the router (cooldowns), and a 429 waits
 * LiteLLM's exponential back-off on the worker's loop before the next attempt. Nothing blocks;
 * other retryable errors are retried at once by the caller. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

#define RETRY_INITIAL_MS 500 /* LiteLLM's INITIAL_RETRY_DELAY */
#define RETRY_MAX_MS 8000    /* MAX_RETRY_DELAY */

typedef struct {
    uv_timer_t handle;
    api_retry_t *owner; /* NULL once cancelled */
} retry_timer_t;

void api_retry_note_head(api_retry_t *r, const up_header_t *h, size_t n)
{
    r->retry_after_ms = 0;
    for (size_t i = 0; i < n; i++) {
        bool ms = str_case_eq(h[i].name, STR_LIT("retry-after-ms"));
        if (!ms && !str_case_eq(h[i].name, STR_LIT("retry-after")))
            continue;
        char num[32];
        if (h[i].value.n == 0 || h[i].value.n >= sizeof num)
            continue;
        memcpy(num, h[i].value.p, h[i].value.n);
        num[h[i].value.n] = 0;
        char *end;
        double v = strtod(num, &end); /* an HTTP date is not a number: ignored */
        if (end == num || *end || v <= 0)
            continue;
        r->retry_after_ms = (int64_t)(ms ? v : v * 1000);
        if (ms)
            return; /* the finer one wins */
    }
}

void api_attempt_failed(api_worker_t *w, const route_target_t *t, int result, int status)
{
    if (!t->dep)
        return;
    int s = result == UP_ERR_TIMEOUT ? 408 : result != UP_OK ? ROUTE_CONNECTION_ERROR : status;
    if (route_report_failure(t->dep, s, route_now_ms()))
        api_cooldown_share(w, t->dep);
}

/* What sluice retries without a retry_policy: connection errors, timeouts, 429 and 5xx. */
static bool retryable(int result, int status)
{
    if (result == UP_ERR_CONNECT || result == UP_ERR_TIMEOUT || result == UP_ERR_IO)
        return true;
    return result == UP_OK && (status == 429 || status >= 500);
}

bool api_retry_wanted(api_retry_t *r, const route_group_t *g, int attempt, int *max_retries,
                      int result, int status, str_t error_body)
{
    r->min_ms = g->retry_after_ms;
    if (attempt == 0) {
        /* LiteLLM reads the policy once, for the group's first failure: a class it names gets
         * that many retries, whatever follows, and is retried even when it otherwise is not */
        r->by_policy = false;
        int cls = g->retry_policy ? api_error_class(result, status, error_body) : -1;
        const int *n = g->retry_policy ? g->retry_policy->n : NULL;
        int count = cls < 0                         ? -1
                    : n[cls] >= 0                   ? n[cls]
                    : cls == CFG_ERR_CONTENT_POLICY ? n[CFG_ERR_BAD_REQUEST]
                    : cls == CFG_ERR_BAD_GATEWAY    ? n[CFG_ERR_INTERNAL_SERVER]
                                                    : -1;
        if (count >= 0) {
            *max_retries = count;
            r->by_policy = true;
        }
    }
    return attempt < *max_retries && (r->by_policy || retryable(result, status));
}

static void retry_closed(uv_handle_t *h)
{
    free(h);
}

static void retry_fired(uv_timer_t *h)
{
    retry_timer_t *rt = (retry_timer_t *)h;
    api_retry_t *r = rt->owner;
    uv_close((uv_handle_t *)h, retry_closed);
    if (!r)
        return;
    r->timer = NULL;
    r->fire(r->arg);
}

bool api_retry_later(api_worker_t *w, api_retry_t *r, int result, int status, int attempt,
                     void (*fire)(void *arg), void *arg)
{
    uint64_t ms = 0;
    if (result == UP_OK && status == 429) {
        int shift = attempt > 1 ? attempt - 1 : 0;
        ms = shift >= 5 ? RETRY_MAX_MS : (uint64_t)RETRY_INITIAL_MS << shift;
        if (ms > RETRY_MAX_MS)
            ms = RETRY_MAX_MS;
        /* LiteLLM's jitter: up to a quarter less */
        ms -= (ms / 4) * (route_rng_next(&w->rng) % 1001) / 1000;
    }
    /* router_settings.retry_after: the least wait (LiteLLM's min_timeout), not below the
     * provider's own retry-after, which is taken as it is */
    if (r->min_ms > 0 && ms < (uint64_t)r->min_ms)
        ms = (uint64_t)r->min_ms;
    if (result == UP_OK && status == 429 && r->retry_after_ms > 0 &&
        r->retry_after_ms < RETRY_MAX_MS)
        ms = (uint64_t)r->retry_after_ms;
    if (!ms || !w->loop)
        return false;
    retry_timer_t *rt = malloc(sizeof *rt);
    if (!rt)
        return false;
    if (uv_timer_init(w->loop, &rt->handle) != 0) {
        free(rt);
        return false;
    }
    rt->owner = r;
    r->timer = &rt->handle;
    r->fire = fire;
    r->arg = arg;
    uv_timer_start(&rt->handle, retry_fired, ms, 0);
    return true;
}

void api_retry_cancel(api_retry_t *r)
{
    if (!r->timer)
        return;
    retry_timer_t *rt = (retry_timer_t *)r->timer;
    rt->owner = NULL;
    uv_timer_stop(r->timer);
    uv_close((uv_handle_t *)r->timer, retry_closed);
    r->timer = NULL;
}
