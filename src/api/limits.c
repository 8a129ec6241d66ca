/* SPDX-License-Identifier: MIT
 * The data plane's rate limits: LiteLLM's parallel_request_limiter_v3 on the counters of
 * src/limits. Which descriptors apply to a request (key, user, team, team member, end user, model
 * per key), the admission (rpm counted, tpm checked, a max_parallel_requests slot taken: for the
 * user, team, member and end user too, beyond LiteLLM's v3), LiteLLM's 429 and x-ratelimit-*
 * headers, the tokens added when a call ends, and the slots given back when the request ends,
 * however it ends (http_req_t.on_end). Also the router's pre-call check: a
 * deployment over its litellm_params rpm/tpm is not picked. Counting itself (windows, Redis,
 * the breaker) is src/limits' business; docs/limits.md has both halves. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "core/log.h"

#define DEPLOYMENT_RACES 4 /* deployments lost to a concurrent pick before giving up */

static int64_t unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The worker's limits reader is online before its first counter of a loop turn (the prepare
 * handle of caller.c takes it offline before poll). */
static lim_table_t *limits_enter(api_worker_t *w)
{
    if (!w->lim_reader)
        return NULL;
    if (!w->lim_online) {
        lim_reader_online(w->lim_reader);
        w->lim_online = true;
    }
    return w->ctx->limits;
}

/* "<key>:<value>:<suffix>" into out (LIM_NAME_MAX + 1 bytes); STR_NULL when longer. */
static str_t counter_name(char *out, const char *key, const char *value, const char *suffix)
{
    size_t k = strlen(key), v = strlen(value), s = strlen(suffix);
    if (k + v + s + 2 > LIM_NAME_MAX)
        return STR_NULL;
    memcpy(out, key, k);
    out[k] = ':';
    memcpy(out + k + 1, value, v);
    out[k + 1 + v] = ':';
    memcpy(out + k + 2 + v, suffix, s);
    return str_make(out, k + v + s + 2);
}

/* ---- descriptors -------------------------------------------------------------------------- */

static bool any_limit(long long a, long long b, long long c)
{
    return a != AUTH_NO_LIMIT || b != AUTH_NO_LIMIT || c != AUTH_NO_LIMIT;
}

static void put(api_limit_use_t *out, size_t *n, const char *key, const char *value, long long rpm,
                long long tpm, long long max_parallel)
{
    if (!value || !any_limit(rpm, tpm, max_parallel))
        return;
    if (strlen(key) + strlen(value) + sizeof ":parallel" > LIM_NAME_MAX) { /* the longest name */
        static atomic_bool warned;
        if (!atomic_exchange(&warned, true))
            log_warn("rate limits: the %s '%.40s...' is too long for a counter name: not limited "
                     "(said once)",
                     key, value);
        return;
    }
    out[(*n)++] = (api_limit_use_t){
        .key = key, .value = value, .rpm = rpm, .tpm = tpm, .max_parallel = max_parallel};
}

size_t api_limit_descriptors(const auth_key_t *rec, const api_caller_t *c, const char *model,
                             arena_t *a, api_limit_use_t out[API_LIMIT_DESCRIPTORS])
{
    size_t n = 0;
    if (!rec) { /* the master key: only the end user's limits apply */
        if (c->end_user_limited)
            put(out, &n, "end_user", c->end_user, c->end_user_rpm, c->end_user_tpm,
                c->end_user_max_parallel);
        return n;
    }
    /* LiteLLM's order. max_parallel_requests applies to the user, team, team member and end user
     * too (their rows' column, the budget row's for members and end users), beyond LiteLLM's v3
     * limiter, which applies it to the api_key descriptor alone; model_per_key has none. */
    const auth_limits_t *u = &rec->user_limits, *t = &rec->team_limits, *m = &rec->member_limits;
    put(out, &n, "api_key", c->token, rec->rpm_limit, rec->tpm_limit, rec->max_parallel_requests);
    put(out, &n, "user", c->user_id, u->rpm, u->tpm, u->max_parallel);
    put(out, &n, "team", c->team_id, t->rpm, t->tpm, t->max_parallel);
    if (c->team_id && c->user_id && any_limit(m->rpm, m->tpm, m->max_parallel))
        put(out, &n, "team_member", arena_printf(a, "%s:%s", c->team_id, c->user_id), m->rpm,
            m->tpm, m->max_parallel);
    if (c->end_user_limited)
        put(out, &n, "end_user", c->end_user, c->end_user_rpm, c->end_user_tpm,
            c->end_user_max_parallel);
    for (size_t i = 0; model && i < rec->n_model_limits; i++)
        if (strcmp(rec->model_limits[i].model, model) == 0) {
            put(out, &n, "model_per_key", arena_printf(a, "%s:%s", c->token, model),
                rec->model_limits[i].rpm, rec->model_limits[i].tpm, AUTH_NO_LIMIT);
            break;
        }
    return n;
}

/* ---- the 429 -------------------------------------------------------------------------------- */

void api_limit_reset_text(int64_t reset_ms, char out[32])
{
    time_t t = (time_t)(reset_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

void api_limit_message(const api_limit_use_t *u, const char *type, const lim_info_t *info,
                       char *out, size_t size)
{
    char reset[32];
    api_limit_reset_text(info->reset_ms, reset);
    snprintf(
        out, size,
        "Rate limit exceeded for %s: %s. Limit type: %s. Current limit: %lld, Remaining: %lld. "
        "Limit resets at: %s",
        u->key, u->value, type, (long long)info->limit, (long long)info->remaining, reset);
}

static void release(lim_table_t *t, api_limit_use_t *uses, size_t n, int64_t now)
{
    char name[LIM_NAME_MAX + 1];
    for (size_t i = 0; i < n; i++)
        if (uses[i].holding) {
            lim_gauge_dec(t, counter_name(name, uses[i].key, uses[i].value, "parallel"), now);
            uses[i].holding = false;
        }
}

/* LLM calls in flight in this process, against general_settings.global_max_parallel_requests
 * (LiteLLM counts per worker process, in memory, never through Redis). */
static atomic_llong global_in_flight;

/* The deployment slot a request holds goes back (the attempt is over). */
static void release_deployment(lim_table_t *t, api_caller_t *c, int64_t now)
{
    char name[LIM_NAME_MAX + 1];
    if (!c->deployment_slot)
        return;
    if (t)
        lim_gauge_dec(t, counter_name(name, "deployment", c->deployment_slot, "parallel"), now);
    c->deployment_slot = NULL;
}

/* The request ended (answered, failed, dropped or abandoned by its client): its slots go back. */
static void limits_on_end(http_req_t *req)
{
    api_caller_t *c = req->caller;
    if (!c)
        return;
    if (c->global_slot) {
        atomic_fetch_sub(&global_in_flight, 1);
        c->global_slot = false;
    }
    lim_table_t *t = c->n_limits || c->deployment_slot ? limits_enter(req->server_data) : NULL;
    if (!t)
        return;
    int64_t now = unix_ms();
    release(t, c->limits, c->n_limits, now);
    release_deployment(t, c, now);
}

int api_limits_global(http_req_t *req, api_worker_t *w, bool anthropic)
{
    long long limit = api_req_gen(req)->cfg->global_max_parallel_requests;
    api_caller_t *c = req->caller;
    if (limit <= 0 || !c || c->global_slot)
        return 0;
    long long current = atomic_load(&global_in_flight);
    do {
        if (current >= limit) {
            /* LiteLLM's v1 limiter: HTTPException 429, retry-after until the next minute */
            time_t now = time(NULL);
            char num[24], msg[160];
            snprintf(num, sizeof num, "%d", 60 - (int)(now % 60));
            http_resp_header_cstr(req, "retry-after", num);
            snprintf(
                msg, sizeof msg,
                "Max parallel request limit reached Hit Global Limit: Limit=%lld, current: %lld",
                limit, current);
            api_send_error_as(req, anthropic, 429, "throttling_error", NULL, msg);
            return 1;
        }
    } while (!atomic_compare_exchange_weak(&global_in_flight, &current, current + 1));
    c->global_slot = true;
    req->on_end = limits_on_end;
    (void)w;
    return 0;
}

static void refuse(http_req_t *req, bool anthropic, const api_limit_use_t *u, const char *type,
                   lim_info_t info, int64_t now)
{
    if (info.reset_ms <= now) /* a gauge has no window: LiteLLM's conservative estimate */
        info.reset_ms = now + LIM_WINDOW_MS;
    char msg[LIM_NAME_MAX + 256], reset[32];
    api_limit_message(u, type, &info, msg, sizeof msg);
    api_limit_reset_text(info.reset_ms, reset);
    http_resp_header_cstr(req, "retry-after", "60"); /* LiteLLM: the window's size */
    http_resp_header_cstr(req, "rate_limit_type", type);
    http_resp_header_cstr(req, "reset_at", reset);
    api_send_error_as(req, anthropic, 429, "throttling_error", NULL, msg);
}

int api_limits_admit(http_req_t *req, api_worker_t *w, const auth_key_t *rec, const char *model,
                     bool anthropic)
{
    api_caller_t *c = req->caller;
    api_limit_use_t found[API_LIMIT_DESCRIPTORS];
    size_t n = api_limit_descriptors(rec, c, model, &req->arena, found);
    if (n == 0)
        return 0; /* most keys: nothing to count */
    lim_table_t *t = limits_enter(w);
    if (!t)
        return 0;
    api_limit_use_t *uses = arena_alloc(&req->arena, n * sizeof *uses);
    if (!uses) {
        api_send_error(req, 500, "internal_server_error", NULL, "out of memory");
        return 1;
    }
    memcpy(uses, found, n * sizeof *uses);
    c->limits = uses;
    c->n_limits = (unsigned)n;
    int64_t now = unix_ms();
    char name[LIM_NAME_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        api_limit_use_t *u = &uses[i];
        const char *type = NULL;
        lim_info_t *info = NULL;
        /* rpm counts when admitted; tpm admits while the window is under the limit (the tokens
         * come when the call ends); a parallel slot is held until the request ends */
        if (u->rpm != AUTH_NO_LIMIT &&
            !lim_rate_check_add(t, counter_name(name, u->key, u->value, "rpm"), u->rpm, 1, now,
                                info = &u->rpm_info))
            type = "requests";
        else if (u->tpm != AUTH_NO_LIMIT &&
                 !lim_rate_check_add(t, counter_name(name, u->key, u->value, "tpm"), u->tpm, 0, now,
                                     info = &u->tpm_info))
            type = "tokens";
        else if (u->max_parallel != AUTH_NO_LIMIT) {
            info = &u->parallel_info;
            if (lim_gauge_inc(t, counter_name(name, u->key, u->value, "parallel"), u->max_parallel,
                              now, info))
                u->holding = true;
            else
                type = "max_parallel_requests";
        }
        if (type) {
            /* what earlier descriptors counted stays counted, as in LiteLLM; slots go back */
            release(t, uses, i, now);
            c->n_limits = 0;
            refuse(req, anthropic, u, type, *info, now);
            return 1;
        }
        if (u->holding)
            req->on_end = limits_on_end;
    }
    return 0;
}

static api_worker_t *w_of(http_req_t *req)
{
    return req->server_data;
}

/* ---- after the call ------------------------------------------------------------------------- */

uint64_t api_limit_tokens(const char *type, const api_usage_t *u)
{
    if (type && strcmp(type, "output") == 0)
        return u->completion;
    uint64_t n = type && strcmp(type, "input") == 0 ? u->prompt : u->prompt + u->completion;
    /* input and total leave cached prompt tokens out, as LiteLLM's v3 limiter (providers do not
     * count them against their own limits) */
    return n > u->cached ? n - u->cached : 0;
}

void api_limits_call_end(http_req_t *req, const api_call_end_t *end)
{
    const api_caller_t *c = req->caller;
    const route_deployment_t *d = end->target ? end->target->dep : NULL;
    if (d && end->usage)
        route_call_tokens(d, end->usage->prompt + end->usage->completion, route_now_ms());
    /* a deployment's tokens are counted for its tpm and, with Redis, for usage-based routing */
    bool deployment_tpm =
             d && (d->cfg->tpm > 0 || (d->strategy == ROUTE_USAGE && w_of(req)->ctx->limits_redis)),
         any = deployment_tpm;
    for (unsigned i = 0; c && i < c->n_limits && !any; i++)
        any = c->limits[i].tpm != AUTH_NO_LIMIT;
    if (!any)
        return;
    uint64_t tokens = end->usage ? end->usage->prompt + end->usage->completion : 0;
    uint64_t counted =
        end->usage ? api_limit_tokens(api_req_gen(req)->cfg->token_rate_limit_type, end->usage) : 0;
    lim_table_t *t = tokens ? limits_enter(req->server_data) : NULL;
    if (!t)
        return;
    /* general_settings.token_rate_limit_type on every tpm that applied; the deployment's tpm is
     * the router's count, prompt + completion whatever the setting (as LiteLLM's router) */
    int64_t now = unix_ms();
    char name[LIM_NAME_MAX + 1];
    for (unsigned i = 0; c && counted && i < c->n_limits; i++)
        if (c->limits[i].tpm != AUTH_NO_LIMIT)
            lim_rate_add(t, counter_name(name, c->limits[i].key, c->limits[i].value, "tpm"),
                         (int64_t)counted, now);
    if (deployment_tpm)
        lim_rate_add(t, counter_name(name, "deployment", d->cfg->id, "tpm"), (int64_t)tokens, now);
}

/* Headers are built without printf: a limited call carries up to a dozen, and snprintf's cost
 * per header (~100 ns) made them the most expensive part of a limited request. */

/* s (its bytes) at out[*n], when it fits in size - 1; returns out. */
static char *append(char *out, size_t *n, size_t size, const char *s)
{
    size_t k = strlen(s);
    if (*n + k < size) {
        memcpy(out + *n, s, k);
        *n += k;
    }
    return out;
}

static void header_num(http_req_t *req, str_t name, int64_t v)
{
    char num[24];
    buf_t b = {num, 0, sizeof num}; /* fixed storage: the number always fits */
    buf_append_u64(&b, (unsigned long long)(v < 0 ? 0 : v));
    http_resp_header(req, name, str_make(num, b.n));
}

/* "42s", "1m0s": how OpenAI writes x-ratelimit-reset-* */
static void header_reset(http_req_t *req, str_t name, int64_t reset_ms, int64_t now)
{
    unsigned long long s = reset_ms > now ? (unsigned long long)(reset_ms - now + 999) / 1000 : 0;
    char text[48];
    buf_t b = {text, 0, sizeof text};
    if (s >= 60) {
        buf_append_u64(&b, s / 60);
        buf_append(&b, "m", 1);
        s %= 60;
    }
    buf_append_u64(&b, s);
    buf_append(&b, "s", 1);
    http_resp_header(req, name, str_make(text, b.n));
}

/* A model name may hold characters a header name may not ("openai/gpt-4o"): they become '-',
 * or clients that parse strictly would refuse the whole response. */
static void header_token(char *name, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              (ch && strchr("!#$%&'*+-.^_`|~", ch))))
            name[i] = '-';
    }
}

/* x-ratelimit-<descriptor>-remaining|limit-<type>, as LiteLLM's v3 limiter adds them */
static void descriptor_headers(http_req_t *req, const api_limit_use_t *u, const char *type,
                               const lim_info_t *info)
{
    char name[96];
    size_t n = 0;
    append(name, &n, sizeof name, "x-ratelimit-");
    append(name, &n, sizeof name, u->key);
    size_t at = n;
    append(name, &n, sizeof name, "-remaining-");
    append(name, &n, sizeof name, type);
    header_num(req, str_make(name, n), info->remaining);
    n = at;
    append(name, &n, sizeof name, "-limit-");
    append(name, &n, sizeof name, type);
    header_num(req, str_make(name, n), info->limit);
}

void api_limits_headers(http_req_t *req)
{
    const api_caller_t *c = req->caller;
    if (!c || !c->n_limits)
        return;
    static const char *const types[] = {"requests", "tokens"};
    static const str_t limit_names[] = {STR_LIT("x-ratelimit-limit-requests"),
                                        STR_LIT("x-ratelimit-limit-tokens")};
    static const str_t remaining_names[] = {STR_LIT("x-ratelimit-remaining-requests"),
                                            STR_LIT("x-ratelimit-remaining-tokens")};
    static const str_t reset_names[] = {STR_LIT("x-ratelimit-reset-requests"),
                                        STR_LIT("x-ratelimit-reset-tokens")};
    int64_t now = 0;
    for (unsigned i = 0; i < c->n_limits; i++) {
        const api_limit_use_t *u = &c->limits[i];
        bool key = u == c->limits && strcmp(u->key, "api_key") == 0;
        bool model = strcmp(u->key, "model_per_key") == 0;
        const lim_info_t *infos[] = {u->rpm != AUTH_NO_LIMIT ? &u->rpm_info : NULL,
                                     u->tpm != AUTH_NO_LIMIT ? &u->tpm_info : NULL};
        for (int k = 0; k < 2; k++) {
            const lim_info_t *info = infos[k];
            if (!info)
                continue;
            descriptor_headers(req, u, types[k], info);
            if (key) {
                /* OpenAI's names: the key's limits when set, as LiteLLM */
                if (!now)
                    now = unix_ms();
                header_num(req, limit_names[k], info->limit);
                header_num(req, remaining_names[k], info->remaining);
                header_reset(req, reset_names[k], info->reset_ms, now);
            } else if (model) {
                const char *m = strchr(u->value, ':');
                char name[LIM_NAME_MAX + 64];
                size_t n = 0;
                append(name, &n, sizeof name, "x-litellm-key-remaining-");
                append(name, &n, sizeof name, types[k]);
                append(name, &n, sizeof name, "-");
                size_t at = n;
                append(name, &n, sizeof name, m ? m + 1 : u->value);
                header_token(name + at, n - at);
                header_num(req, str_make(name, n), info->remaining);
            }
        }
        if (u->max_parallel != AUTH_NO_LIMIT)
            descriptor_headers(req, u, "max_parallel_requests", &u->parallel_info);
    }
}

/* ---- deployments: the router's pre-call check --------------------------------------------------
 */

typedef struct {
    lim_table_t *t;
    int64_t now;
    int64_t first_reset;                              /* earliest window end of a full deployment */
    const route_deployment_t *lost[DEPLOYMENT_RACES]; /* full when counted (a race lost) */
    int n_lost;
    /* enable_pre_call_checks: the prompt's estimated tokens (0: not checked) */
    int64_t prompt_tokens;
    const spend_prices_t *prices;
    const cfg_t *cfg; /* the deployments' parallel caps (cfg_deployment_max_parallel) */
} pick_t;

/* ---- router state shared through Redis -------------------------------------------------------
 * With Redis, a deployment's cooldown ("deployment:<id>:cooldown", a mark), its calls under way
 * (":busy", a gauge, for least-busy) and its tokens in the window (":tpm", for usage-based
 * routing and the deployment's tpm limit) are the limits table's, so every instance sees them.
 * Without Redis the router's own per-process health counters are all there is. */

static int64_t shared_cooling_ms(void *arg, const route_deployment_t *d)
{
    pick_t *pk = arg;
    char name[LIM_NAME_MAX + 1];
    int64_t until =
        lim_mark_get(pk->t, counter_name(name, "deployment", d->cfg->id, "cooldown"), pk->now);
    return until > pk->now ? until - pk->now : 0;
}

static int64_t shared_load(void *arg, const route_deployment_t *d)
{
    pick_t *pk = arg;
    char name[LIM_NAME_MAX + 1];
    if (d->strategy == ROUTE_LEAST_BUSY)
        return lim_gauge_peek(pk->t, counter_name(name, "deployment", d->cfg->id, "busy"));
    lim_info_t info;
    lim_rate_watch(pk->t, counter_name(name, "deployment", d->cfg->id, "tpm"), pk->now, &info);
    return info.used;
}

void api_call_started(api_worker_t *w, const route_deployment_t *d)
{
    route_call_started(d);
    if (d->strategy != ROUTE_LEAST_BUSY || !w->ctx->limits_redis)
        return;
    lim_table_t *t = limits_enter(w);
    char name[LIM_NAME_MAX + 1];
    if (t)
        lim_gauge_inc(t, counter_name(name, "deployment", d->cfg->id, "busy"), -1, unix_ms(), NULL);
}

void api_call_ended(api_worker_t *w, const route_deployment_t *d, uint64_t first_byte_ns)
{
    route_call_ended(d, first_byte_ns);
    if (d->strategy != ROUTE_LEAST_BUSY || !w->ctx->limits_redis)
        return;
    lim_table_t *t = limits_enter(w);
    char name[LIM_NAME_MAX + 1];
    if (t)
        lim_gauge_dec(t, counter_name(name, "deployment", d->cfg->id, "busy"), unix_ms());
}

void api_cooldown_share(api_worker_t *w, const route_deployment_t *d)
{
    if (!w->ctx->limits_redis || d->cooldown_ms <= 0)
        return;
    lim_table_t *t = limits_enter(w);
    char name[LIM_NAME_MAX + 1];
    int64_t now = unix_ms();
    if (t)
        lim_mark_set(t, counter_name(name, "deployment", d->cfg->id, "cooldown"),
                     now + d->cooldown_ms, now);
}

/* The deployment's context window: model_info.max_input_tokens, else the price table's; 0 when
 * unknown (then it is not refused). */
static int64_t max_input_tokens(const pick_t *pk, const route_deployment_t *d)
{
    if (d->cfg->max_input_tokens > 0)
        return d->cfg->max_input_tokens;
    spend_price_t price;
    if (pk->prices && spend_price_for_deployment(pk->prices, d->cfg, &price))
        return price.max_input_tokens;
    return 0;
}

/* LiteLLM's pre-call check: a deployment whose window is at its rpm or tpm takes no call. */
static bool deployment_usable(void *arg, const route_deployment_t *d)
{
    pick_t *pk = arg;
    const cfg_deployment_t *cfg = d->cfg;
    if (pk->prompt_tokens > 0) {
        int64_t max = max_input_tokens(pk, d);
        if (max > 0 && pk->prompt_tokens > max)
            return false;
    }
    long long parallel = pk->t ? cfg_deployment_max_parallel(pk->cfg, cfg) : 0;
    if (!pk->t || (cfg->rpm <= 0 && cfg->tpm <= 0 && parallel <= 0))
        return true;
    for (int i = 0; i < pk->n_lost; i++)
        if (pk->lost[i] == d)
            return false;
    char name[LIM_NAME_MAX + 1];
    lim_info_t info;
    /* LiteLLM waits on the deployment's semaphore; sluice never parks a call: a deployment
     * with every slot taken is not usable now (docs/limits.md) */
    if (parallel > 0 &&
        lim_gauge_peek(pk->t, counter_name(name, "deployment", cfg->id, "parallel")) >= parallel)
        return false;
    for (int k = 0; k < 2; k++) {
        long long limit = k == 0 ? cfg->rpm : cfg->tpm;
        if (limit <= 0)
            continue;
        lim_rate_peek(pk->t, counter_name(name, "deployment", cfg->id, k == 0 ? "rpm" : "tpm"),
                      limit, pk->now, &info);
        if (info.used >= limit) {
            if (!pk->first_reset || info.reset_ms < pk->first_reset)
                pk->first_reset = info.reset_ms;
            return false;
        }
    }
    return true;
}

/* Every deployment of g is cooling down: LiteLLM's 429 text into msg; the seconds until the first
 * is usable again into *retry_after_s. */
static int all_cooling(const route_group_t *g, str_t model, bool checks, const route_view_t *view,
                       char *msg, size_t size, long long *retry_after_s)
{
    *retry_after_s = route_cooldown_message(g, model, route_now_ms(), checks, view, msg, size);
    return -1;
}

void api_retry_after_header(http_req_t *req, long long secs)
{
    if (secs > 0)
        header_num(req, STR_LIT("retry-after"), secs);
}

int api_route_pick(http_req_t *req, const route_group_t *g, str_t model,
                   const route_deployment_t *avoid, route_target_t *out, char *msg, size_t size,
                   long long *retry_after_s)
{
    api_worker_t *w = req->server_data;
    *retry_after_s = 0;
    const char *err = NULL;
    api_caller_t *c = req->caller;
    if (c && c->deployment_slot) /* the previous attempt is over: its slot goes back */
        release_deployment(limits_enter(w), c, unix_ms());
    /* with Redis, a group of several deployments is picked from what every instance knows */
    bool shared = w->ctx->limits_redis && g->num_deployments > 1;
    lim_table_t *t = g->limited || shared ? limits_enter(w) : NULL;
    const api_gen_t *gen = api_req_gen(req);
    bool checks = gen->cfg->enable_pre_call_checks;
    if (!t && !checks) {
        int rc = route_pick(g, model, &w->rng, avoid, &req->arena, out, &err);
        if (rc == 0)
            return 0;
        if (rc == ROUTE_ALL_COOLING)
            return all_cooling(g, model, checks, NULL, msg, size, retry_after_s);
        snprintf(msg, size, "No deployments available for selected model=%.*s: %s", STR_FMT(model),
                 err);
        return -1;
    }
    /* the prompt's size: the body's characters / 4, LiteLLM's rough token count (the JSON
     * around the messages counts too, so it errs on the large side) */
    pick_t pk = {.t = t,
                 .now = unix_ms(),
                 .prompt_tokens = checks ? (int64_t)(req->body.n / 4) : 0,
                 .prices = gen->prices,
                 .cfg = gen->cfg};
    route_view_t view = {.arg = &pk};
    if (g->limited || checks)
        view.usable = deployment_usable;
    if (shared && t) {
        view.cooling_ms = shared_cooling_ms;
        if (g->strategy == ROUTE_LEAST_BUSY || g->strategy == ROUTE_USAGE)
            view.load = shared_load;
    }
    for (;;) {
        int rc = route_pick_usable(g, model, &w->rng, avoid, &view, &req->arena, out, &err);
        if (rc < 0) {
            snprintf(msg, size, "No deployments available for selected model=%.*s: %s",
                     STR_FMT(model), err);
            return -1;
        }
        if (rc == ROUTE_ALL_COOLING)
            return all_cooling(g, model, checks, &view, msg, size, retry_after_s);
        if (rc == ROUTE_NONE_USABLE || pk.n_lost == DEPLOYMENT_RACES)
            break;
        const cfg_deployment_t *cfg = out->dep->cfg;
        char name[LIM_NAME_MAX + 1];
        long long parallel = t && c ? cfg_deployment_max_parallel(gen->cfg, cfg) : 0;
        if (parallel > 0 && !lim_gauge_inc(t, counter_name(name, "deployment", cfg->id, "parallel"),
                                           parallel, pk.now, NULL)) {
            pk.lost[pk.n_lost++] = out->dep; /* another request took its last slot meanwhile */
            continue;
        }
        if (!t || cfg->rpm <= 0 ||
            lim_rate_check_add(t, counter_name(name, "deployment", cfg->id, "rpm"), cfg->rpm, 1,
                               pk.now, NULL)) {
            if (parallel > 0) { /* held until the next attempt's pick or the request's end */
                c->deployment_slot = arena_strndup(&req->arena, cfg->id, strlen(cfg->id));
                if (!c->deployment_slot)
                    lim_gauge_dec(t, counter_name(name, "deployment", cfg->id, "parallel"), pk.now);
                else
                    req->on_end = limits_on_end;
            }
            return 0;
        }
        if (parallel > 0)
            lim_gauge_dec(t, counter_name(name, "deployment", cfg->id, "parallel"), pk.now);
        pk.lost[pk.n_lost++] = out->dep; /* another request took its last one meanwhile */
    }
    /* every deployment is at its limits: RouterRateLimitError's text, with the time until the
     * first window ends */
    int64_t wait_ms = pk.first_reset > pk.now ? pk.first_reset - pk.now : 1000;
    long long secs = (long long)((wait_ms + 999) / 1000);
    *retry_after_s = secs;
    snprintf(msg, size,
             "No deployments available for selected model, Try again in %lld seconds. Passed "
             "model=%.*s. pre-call-checks=%s, cooldown_list=[]",
             secs, STR_FMT(model), checks ? "True" : "False");
    return -1;
}

/* ---- per worker ------------------------------------------------------------------------------ */

static void on_maintain(uv_timer_t *h)
{
    api_worker_t *w = h->data;
    lim_table_maintain(w->ctx->limits, unix_ms());
}

void api_worker_limits_init(api_worker_t *w, uv_loop_t *loop)
{
    lim_table_t *t = w->ctx->limits;
    if (!t)
        return;
    w->lim_reader = lim_reader_register(t);
    if (!w->lim_reader) {
        log_warn("worker %d: no rate-limit reader slot left; requests on this worker are not "
                 "limited",
                 w->index);
        return;
    }
    w->lim_online = true; /* a new reader starts online */
    lim_stats_t st;
    lim_table_stats(t, &st);
    if (w->index == 0 && !st.redis) {
        /* without Redis no sync thread reclaims idle counters: worker 0 does, once a second */
        uv_timer_init(loop, &w->lim_timer);
        w->lim_timer.data = w;
        uv_timer_start(&w->lim_timer, on_maintain, 1000, 1000);
        uv_unref((uv_handle_t *)&w->lim_timer);
        w->lim_timer_on = true;
    }
}

void api_worker_limits_close(api_worker_t *w)
{
    if (w->lim_timer_on) {
        uv_close((uv_handle_t *)&w->lim_timer, NULL);
        w->lim_timer_on = false;
    }
    if (w->lim_reader) {
        lim_reader_unregister(w->lim_reader);
        w->lim_reader = NULL;
        w->lim_online = false;
    }
}
