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

void api_attempt_failed(const route_target_t *t, int result, int status)
{
    if (!t->dep)
        return;
    int s = result == UP_ERR_TIMEOUT ? 408 : result != UP_OK ? 500 : status;
    route_report_failure(t->dep, s, route_now_ms());
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
    if (result != UP_OK || status != 429 || !w->loop)
        return false;
    int shift = attempt > 1 ? attempt - 1 : 0;
    uint64_t ms = shift >= 5 ? RETRY_MAX_MS : (uint64_t)RETRY_INITIAL_MS << shift;
    if (ms > RETRY_MAX_MS)
        ms = RETRY_MAX_MS;
    /* LiteLLM's jitter: up to a quarter less */
    ms -= (ms / 4) * (route_rng_next(&w->rng) % 1001) / 1000;
    if (r->retry_after_ms > 0 && r->retry_after_ms < RETRY_MAX_MS)
        ms = (uint64_t)r->retry_after_ms;
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
