/* SPDX-License-Identifier: MIT
 * Who is calling, and what the call cost. The key a client sends is the master key or a virtual
 * key; a virtual key is found in the key cache without a lock, or asked of the store thread while
 * the request waits, parked, on this worker. LiteLLM's checks (blocked, expired, models, budgets)
 * run on the cached record; the few fields a request needs later are copied out of it, since a
 * record may be freed once the worker passes its next quiescent point. After the call, the usage
 * the provider reported becomes a cost, the caller's spend counters grow by it and one SpendLogs
 * record goes to the store thread. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/format.h"
#include "auth/auth.h"
#include "core/common.h"
#include "core/jscan.h"
#include "core/log.h"

#define PARK_GIVE_UP_MS 5000 /* a key the store cannot answer for this long: 503 */
#define PARK_TICK_MS 250

/* Set while a parked request runs again, so it keeps its original parking time. */
static _Thread_local uint64_t resuming_since_ms;

struct api_parked {
    http_req_t *req;
    api_worker_t *w;
    uint64_t since_ms;
    api_parked_t *next, **pprev;
};

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000;
}

static void reader_online(api_worker_t *w)
{
    if (!w->reader_online) {
        auth_reader_online(w->reader);
        w->reader_online = true;
    }
}

/* Before each poll: the worker keeps no record pointer and no counter across loop turns, and an
 * idle worker holds no memory of either back. */
static void on_quiesce(uv_prepare_t *h)
{
    api_worker_t *w = h->data;
    if (w->reader_online) {
        auth_reader_offline(w->reader);
        w->reader_online = false;
    }
    if (w->lim_online) {
        lim_reader_offline(w->lim_reader);
        w->lim_online = false;
    }
}

static void parked_unlink(api_parked_t *pk)
{
    if (pk->next)
        pk->next->pprev = pk->pprev;
    *pk->pprev = pk->next;
    pk->next = NULL;
    pk->pprev = NULL;
}

static void parked_on_abort(http_req_t *req)
{
    api_parked_t *pk = req->user;
    parked_unlink(pk);
}

/* Runs every parked request again: those whose key is now known go on, the others park again. */
static void parked_retry_all(api_worker_t *w, bool give_up_old)
{
    api_parked_t *list = w->parked;
    if (list)
        list->pprev = &list;
    w->parked = NULL;
    uint64_t now = now_ms();
    while (list) {
        api_parked_t *pk = list;
        parked_unlink(pk);
        http_req_t *req = pk->req;
        req->user = NULL;
        req->on_abort = NULL;
        if (give_up_old && now - pk->since_ms >= PARK_GIVE_UP_MS) {
            api_send_error(req, 503, "service_unavailable", "None",
                           "Authentication Error, the key could not be checked: the key store "
                           "did not answer in time. Try again.");
            continue;
        }
        resuming_since_ms = pk->since_ms;
        api_handle(req);
        resuming_since_ms = 0;
    }
    if (!w->parked)
        uv_timer_stop(&w->park_timer);
}

static void on_key_wake(uv_async_t *a)
{
    parked_retry_all(a->data, false);
}

static void on_park_tick(uv_timer_t *t)
{
    parked_retry_all(t->data, true);
}

static void worker_keys_init(api_worker_t *w, uv_loop_t *loop)
{
    api_ctx_t *ctx = (api_ctx_t *)w->ctx;
    if (!ctx->keys)
        return;
    w->reader = auth_reader_register(ctx->keys);
    if (!w->reader) {
        log_warn("worker %d: no key-cache reader slot left; virtual keys answer 503 here",
                 w->index);
        return;
    }
    w->reader_online = true;
    uv_async_init(loop, &w->key_wake, on_key_wake);
    w->key_wake.data = w;
    uv_timer_init(loop, &w->park_timer);
    w->park_timer.data = w;
    atomic_store(&ctx->wake[auth_reader_id(w->reader)], &w->key_wake);
}

#define IDLE_CHECK_MS 2000 /* a worker without a new request this long trims its caches */
#define IDLE_KEEP 8        /* buffers and arena chunks an idle worker keeps */

/* No request started since the last check: the buffers and arena chunks a burst left in this
 * thread's caches go back to malloc, and malloc's free pages to the system. */
static void on_idle_check(uv_timer_t *t)
{
    api_worker_t *w = t->data;
    if (w->requests != w->requests_seen) {
        w->requests_seen = w->requests;
        return;
    }
    if (buf_pool_trim(IDLE_KEEP) + arena_cache_trim(IDLE_KEEP) > 0)
        malloc_trim(0);
}

void api_worker_init(api_worker_t *w, uv_loop_t *loop)
{
    w->loop = loop;
    uv_timer_init(loop, &w->idle_timer);
    w->idle_timer.data = w;
    uv_timer_start(&w->idle_timer, on_idle_check, IDLE_CHECK_MS, IDLE_CHECK_MS);
    uv_unref((uv_handle_t *)&w->idle_timer);
    worker_keys_init(w, loop);
    api_worker_limits_init(w, loop);
    api_worker_cache_init(w, loop);
    if (w->reader || w->lim_reader) {
        uv_prepare_init(loop, &w->quiesce);
        w->quiesce.data = w;
        uv_prepare_start(&w->quiesce, on_quiesce);
        w->quiesce_on = true;
    }
}

void api_worker_close(api_worker_t *w)
{
    uv_close((uv_handle_t *)&w->idle_timer, NULL);
    if (w->quiesce_on) {
        uv_close((uv_handle_t *)&w->quiesce, NULL);
        w->quiesce_on = false;
    }
    api_worker_limits_close(w);
    api_worker_cache_close(w);
    if (!w->reader)
        return;
    api_ctx_t *ctx = (api_ctx_t *)w->ctx;
    atomic_store(&ctx->wake[auth_reader_id(w->reader)], NULL);
    uv_close((uv_handle_t *)&w->key_wake, NULL);
    uv_close((uv_handle_t *)&w->park_timer, NULL);
    auth_reader_unregister(w->reader);
    w->reader = NULL;
}

void api_keys_on_answer(void *arg, const auth_hash_t *hash, uint64_t waiters)
{
    api_ctx_t *ctx = arg;
    (void)hash;
    while (waiters) {
        unsigned id = (unsigned)__builtin_ctzll(waiters);
        waiters &= waiters - 1;
        uv_async_t *a = atomic_load(&ctx->wake[id]);
        if (a)
            uv_async_send(a);
    }
}

auth_access_group_t *api_access_groups_build(const cfg_t *cfg, size_t *count)
{
    auth_access_group_t *groups = NULL;
    size_t n = 0;
    for (size_t i = 0; i < cfg->num_deployments; i++) {
        const cfg_deployment_t *d = &cfg->deployments[i];
        for (size_t j = 0; j < d->num_access_groups; j++) {
            size_t g = 0;
            while (g < n && strcmp(groups[g].name, d->access_groups[j]) != 0)
                g++;
            if (g == n) {
                groups = xrealloc(groups, (n + 1) * sizeof *groups);
                groups[n++] = (auth_access_group_t){.name = d->access_groups[j]};
            }
            auth_access_group_t *ag = &groups[g];
            bool have = false;
            for (size_t k = 0; k < ag->n_models && !have; k++)
                have = strcmp(ag->models[k], d->model_name) == 0;
            if (have)
                continue;
            const char **models = xrealloc((void *)ag->models, (ag->n_models + 1) * sizeof *models);
            models[ag->n_models++] = d->model_name;
            ag->models = models;
        }
    }
    *count = n;
    return groups;
}

void api_access_groups_free(auth_access_group_t *groups, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free((void *)groups[i].models);
    free(groups);
}

/* ---- authentication ------------------------------------------------------------------------ */

void api_send_error_as(http_req_t *req, bool anthropic, int status, const char *type,
                       const char *param, const char *message)
{
    if (anthropic) {
        buf_t b = {0};
        api_format_anthropic.error_body(status, type, message, &b);
        http_resp_send(req, status, "application/json", b.p, b.n);
        buf_free(&b);
        return;
    }
    api_send_error(req, status, type, param, message);
}

static const char *arena_cstr(arena_t *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

/* A JSON string value decoded into the arena; NULL when the value is not a string, or is empty
 * and `empty_ok` is false. */
static const char *decode_string(http_req_t *req, str_t raw, bool empty_ok)
{
    if (!raw.p || raw.p[0] != '"')
        return NULL;
    buf_t dec = {0};
    const char *out = NULL;
    if (jscan_string_decode(raw, &dec) == 0 && (dec.n || empty_ok))
        out = arena_strndup(&req->arena, dec.p ? dec.p : "", dec.n);
    buf_free(&dec);
    return out;
}

/* The body's "model" and "user" strings, in one scan of the body (NULL when absent). */
static void body_names(http_req_t *req, const char **model, const char **user)
{
    *model = *user = NULL;
    jscan_field_t f[2] = {{STR_LIT("model"), STR_NULL}, {STR_LIT("user"), STR_NULL}};
    if (req->body.n == 0 || jscan_find(req->body.p, req->body.n, f, 2, NULL) != 0)
        return;
    *model = decode_string(req, f[0].value, true);
    *user = decode_string(req, f[1].value, false);
}

/* True when the body may have a "user" member: some `"user"` is followed by a colon. Chat bodies
 * hold `"role":"user"` nearly always; a value is never followed by ':', so those are skipped
 * without scanning the body. */
static bool body_may_name_user(str_t body)
{
    const char *p = body.p, *end = body.p + body.n;
    while (p < end) {
        const char *hit = memmem(p, (size_t)(end - p), "\"user\"", 6);
        if (!hit)
            return false;
        p = hit + 6;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (p < end && *p == ':')
            return true;
    }
    return false;
}

/* The end user named by LiteLLM's end-user headers, or NULL. */
static const char *end_user_header(http_req_t *req)
{
    str_t h = http_req_header(req, "x-litellm-end-user-id");
    if (!h.p)
        h = http_req_header(req, "x-litellm-customer-id");
    return h.p ? arena_strndup(&req->arena, h.p, h.n) : NULL;
}

/* True when every deployment of the model's group is priced at zero: budgets do not apply. */
static bool model_is_free(const api_gen_t *gen, const char *model)
{
    if (!model || !gen->prices)
        return false;
    const route_group_t *g = route_find_group(gen->routes, str_cstr(model));
    if (!g || !g->num_deployments)
        return false;
    spend_price_t price;
    return spend_price_for_deployment(gen->prices, g->deployments[0]->cfg, &price) && price.free;
}

static int park(http_req_t *req, api_worker_t *w, uint64_t since)
{
    api_parked_t *pk = arena_alloc(&req->arena, sizeof *pk);
    if (!pk) {
        api_send_error(req, 500, "internal_server_error", NULL, "out of memory");
        return 1;
    }
    pk->req = req;
    pk->w = w;
    pk->since_ms = since ? since : now_ms();
    pk->next = w->parked;
    pk->pprev = &w->parked;
    if (w->parked)
        w->parked->pprev = &pk->next;
    w->parked = pk;
    req->user = pk;
    req->on_abort = parked_on_abort;
    if (!uv_is_active((uv_handle_t *)&w->park_timer))
        uv_timer_start(&w->park_timer, on_park_tick, PARK_TICK_MS, PARK_TICK_MS);
    return 1;
}

/* LiteLLM's end-user checks (common_checks) for a request that names one: its row is looked up
 * in the key cache under auth_end_user_hash, asked of the store on a miss (the request parks, as
 * for a key), and an end user with no row is not checked. 0: go on; 1: answered or parked. */
static int end_user_check(http_req_t *req, api_worker_t *w, api_caller_t *c, const char *model,
                          uint64_t parked_since, bool anthropic)
{
    const api_ctx_t *ctx = w->ctx;
    if (!c->end_user || !ctx->keys || !w->reader)
        return 0;
    auth_hash_t hash;
    if (auth_end_user_hash(c->end_user, &hash) != 0)
        return 0;
    reader_online(w);
    const auth_key_t *rec = NULL;
    switch (auth_lookup(ctx->keys, w->reader, &hash, now_ms(), &rec)) {
    case AUTH_LOOKUP_HIT:
        break;
    case AUTH_LOOKUP_HIT_REFRESH:
        if (ctx->store)
            store_svc_lookup_end_user(ctx->store, &hash, c->end_user);
        break;
    case AUTH_LOOKUP_MISS_STARTED:
        if (!ctx->store)
            return 0;
        store_svc_lookup_end_user(ctx->store, &hash, c->end_user);
        req->caller = NULL;
        return park(req, w, parked_since);
    case AUTH_LOOKUP_PENDING:
        req->caller = NULL;
        return park(req, w, parked_since);
    case AUTH_LOOKUP_NOT_FOUND:
    default:
        return 0; /* not in LiteLLM_EndUserTable: no checks, as LiteLLM */
    }
    auth_error_t err;
    if (auth_check_end_user(rec, model_is_free(c->gen, model), &err) != 0) {
        api_send_error_as(req, anthropic, err.status, err.type, err.param, err.message);
        return 1;
    }
    c->end_user_counter = rec->key_counter;
    c->end_user_rpm = rec->rpm_limit;
    c->end_user_tpm = rec->tpm_limit;
    c->end_user_max_parallel = rec->max_parallel_requests;
    c->end_user_limited = rec->rpm_limit != AUTH_NO_LIMIT || rec->tpm_limit != AUTH_NO_LIMIT ||
                          rec->max_parallel_requests != AUTH_NO_LIMIT;
    return 0;
}

int api_authenticate(http_req_t *req, api_worker_t *w, const api_gen_t *gen, unsigned flags)
{
    bool anthropic = flags & API_AUTH_ANTHROPIC;
    const api_ctx_t *ctx = w->ctx;
    uint64_t parked_since = resuming_since_ms;
    resuming_since_ms = 0;
    api_caller_t *c = arena_alloc(&req->arena, sizeof *c);
    if (!c) {
        api_send_error(req, 500, "internal_server_error", NULL, "out of memory");
        return 1;
    }
    memset(c, 0, sizeof *c);
    c->max_budget = -1;
    c->rpm_limit = c->tpm_limit = AUTH_NO_LIMIT;
    c->gen = gen;
    req->caller = c;
    str_t key = auth_key_from_head(&req->head);
    if (!ctx->master_key || (key.p && auth_secret_eq(key, str_cstr(ctx->master_key)))) {
        c->is_admin = true;
        memcpy(c->token, ctx->master_hash, sizeof c->token);
        c->end_user = end_user_header(req);
        if (!c->end_user && !body_may_name_user(req->body))
            return 0; /* most bodies name no user: the master key's request is not scanned */
        /* LiteLLM checks the end user whatever the key, the master key included */
        const char *model, *body_user;
        body_names(req, &model, &body_user);
        if (!c->end_user)
            c->end_user = body_user;
        if (!c->end_user)
            return 0;
        if (end_user_check(req, w, c, model, parked_since, anthropic))
            return 1;
        if ((flags & API_AUTH_LIMITS) && c->end_user_limited)
            return api_limits_admit(req, w, NULL, model, anthropic);
        return 0;
    }
    if (!key.p) {
        api_send_error_as(req, anthropic, 401, "auth_error", "None",
                          auth_error_message(AUTH_NO_KEY, key));
        return 1;
    }
    if (!ctx->keys || !w->reader || !auth_key_acceptable(key)) {
        api_send_error_as(req, anthropic, 401, "auth_error", "None",
                          auth_error_message(AUTH_BAD_KEY, key));
        return 1;
    }
    auth_hash_t hash;
    if (auth_key_hash(key, &hash) != 0) {
        api_send_error(req, 500, "internal_server_error", NULL, "could not hash the key");
        return 1;
    }
    reader_online(w);
    const auth_key_t *rec = NULL;
    switch (auth_lookup(ctx->keys, w->reader, &hash, now_ms(), &rec)) {
    case AUTH_LOOKUP_HIT:
        break;
    case AUTH_LOOKUP_HIT_REFRESH:
        if (ctx->store)
            store_svc_lookup_key(ctx->store, &hash);
        break;
    case AUTH_LOOKUP_MISS_STARTED:
        if (ctx->store)
            store_svc_lookup_key(ctx->store, &hash);
        req->caller = NULL;
        return park(req, w, parked_since);
    case AUTH_LOOKUP_PENDING:
        req->caller = NULL;
        return park(req, w, parked_since);
    case AUTH_LOOKUP_NOT_FOUND:
    default:
        api_send_error_as(req, anthropic, 401, "auth_error", "None",
                          auth_error_message(AUTH_BAD_KEY, key));
        return 1;
    }
    const char *model, *body_user;
    body_names(req, &model, &body_user); /* one scan: the model to check, the end user */
    auth_request_t areq = {
        .model = model,
        .groups = gen->access_groups,
        .n_groups = gen->num_access_groups,
        .zero_cost = model_is_free(gen, model),
        .now = (int64_t)time(NULL),
    };
    auth_error_t err;
    if (auth_check_key(rec, &areq, &err) != 0) {
        api_send_error_as(req, anthropic, err.status, err.type, err.param, err.message);
        return 1;
    }
    /* what the rest of the request needs, out of the record */
    c->virtual_key = true;
    auth_hash_hex(&rec->hash, c->token);
    c->key_alias = arena_cstr(&req->arena, rec->key_alias);
    c->user_id = arena_cstr(&req->arena, rec->user_id);
    c->team_id = arena_cstr(&req->arena, rec->team_id);
    c->org_id = arena_cstr(&req->arena, rec->org_id);
    c->end_user = end_user_header(req);
    if (!c->end_user)
        c->end_user = body_user;
    c->key_counter = rec->key_counter;
    c->team_counter = rec->team_counter;
    c->user_counter = rec->user_counter;
    c->member_counter = rec->member_counter;
    if (model && rec->model_counters)
        for (size_t i = 0; i < rec->n_model_budgets; i++)
            if (strcmp(rec->model_budgets[i].model, model) == 0)
                c->model_counter = rec->model_counters[i];
    c->max_budget = rec->max_budget;
    c->rpm_limit = rec->rpm_limit;
    c->tpm_limit = rec->tpm_limit;
    /* the end user's record is another one of the cache; the key's stays valid until this
     * worker's next quiescent point, so api_limits_admit may still read it */
    if (end_user_check(req, w, c, model, parked_since, anthropic))
        return 1;
    if (!(flags & API_AUTH_LIMITS))
        return 0;
    if (api_limits_admit(req, w, rec, model, anthropic))
        return 1;
    /* LiteLLM's pre-call hooks: the limiter, then the key's allowed_cache_controls */
    return api_cache_controls_check(req, rec->allowed_cache_controls, rec->n_allowed_cache_controls,
                                    anthropic);
}

/* Model names a caller may see in /v1/models: the record's allowlist applied to the config's
 * names. Called right after api_authenticate, while the record is still valid: looks it up again
 * (a hit, wait-free). */
const char *const *api_caller_models(http_req_t *req, api_worker_t *w, size_t *count)
{
    const api_caller_t *c = req->caller;
    const char *const *names = route_model_names(c->gen->routes, count);
    if (!c->virtual_key)
        return names;
    auth_hash_t hash;
    const auth_key_t *rec = NULL;
    if (auth_hash_from_hex(str_cstr(c->token), &hash) != 0 ||
        auth_lookup(w->ctx->keys, w->reader, &hash, now_ms(), &rec) > AUTH_LOOKUP_HIT_REFRESH ||
        !rec)
        return names;
    const char **out = arena_alloc(&req->arena, (*count + 1) * sizeof *out);
    if (!out)
        return names;
    size_t n = 0;
    for (size_t i = 0; i < *count; i++) {
        const auth_access_group_t *g = c->gen->access_groups;
        size_t ng = c->gen->num_access_groups;
        bool ok =
            auth_models_allow(rec->models, rec->n_models, names[i], rec->aliases, rec->n_aliases, g,
                              ng) &&
            (rec->n_team_models == 0 ||
             auth_models_allow(rec->team_models, rec->n_team_models, names[i], NULL, 0, g, ng));
        if (ok)
            out[n++] = names[i];
    }
    *count = n;
    return out;
}

bool api_caller_may_use(http_req_t *req, const char *model)
{
    const api_caller_t *c = req->caller;
    api_worker_t *w = req->server_data;
    if (!c->virtual_key)
        return true;
    auth_hash_t hash;
    const auth_key_t *rec = NULL;
    if (auth_hash_from_hex(str_cstr(c->token), &hash) != 0 ||
        auth_lookup(w->ctx->keys, w->reader, &hash, now_ms(), &rec) > AUTH_LOOKUP_HIT_REFRESH ||
        !rec)
        return false; /* not sure: no fallback rather than one the key may not use */
    const auth_access_group_t *g = c->gen->access_groups;
    size_t ng = c->gen->num_access_groups;
    return auth_models_allow(rec->models, rec->n_models, model, rec->aliases, rec->n_aliases, g,
                             ng) &&
           (rec->n_team_models == 0 ||
            auth_models_allow(rec->team_models, rec->n_team_models, model, NULL, 0, g, ng));
}

/* ---- headers ------------------------------------------------------------------------------- */

static void header_float(http_req_t *req, const char *name, double v, bool set)
{
    char num[SPEND_COST_BUF];
    if (!set)
        snprintf(num, sizeof num, "None");
    else
        spend_format_cost(v, num, sizeof num);
    http_resp_header_cstr(req, name, num);
}

static void header_limit(http_req_t *req, const char *name, long long v)
{
    char num[32];
    if (v == AUTH_NO_LIMIT)
        snprintf(num, sizeof num, "None");
    else
        snprintf(num, sizeof num, "%lld", v);
    http_resp_header_cstr(req, name, num);
}

void api_caller_headers(http_req_t *req)
{
    const api_caller_t *c = req->caller;
    if (!c)
        return;
    header_float(req, "x-litellm-key-spend",
                 c->key_counter ? auth_counter_spend(c->key_counter) : 0, true);
    header_float(req, "x-litellm-key-max-budget", c->max_budget, c->max_budget >= 0);
    header_limit(req, "x-litellm-key-tpm-limit", c->tpm_limit);
    header_limit(req, "x-litellm-key-rpm-limit", c->rpm_limit);
    api_limits_headers(req);
}

/* ---- usage --------------------------------------------------------------------------------- */

/* The end of the JSON object starting at p[0] == '{', or NULL when it does not end in p..end. */
static const char *object_end(const char *p, const char *end)
{
    int depth = 0;
    bool in_str = false;
    for (; p < end; p++) {
        char ch = *p;
        if (in_str) {
            if (ch == '\\')
                p++;
            else if (ch == '"')
                in_str = false;
        } else if (ch == '"')
            in_str = true;
        else if (ch == '{')
            depth++;
        else if (ch == '}' && --depth == 0)
            return p + 1;
    }
    return NULL;
}

static uint64_t member_u64(str_t obj, const char *name)
{
    str_t v;
    if (!obj.p || jscan_member_find(obj, name, &v) != 0 || !v.p || !v.n || v.p[0] < '0' ||
        v.p[0] > '9')
        return 0;
    long long n = str_to_ll(v);
    return n > 0 ? (uint64_t)n : 0;
}

static str_t member_obj(str_t obj, const char *name)
{
    str_t v;
    if (jscan_member_find(obj, name, &v) != 0 || !v.p || !v.n || v.p[0] != '{')
        return STR_NULL;
    return v;
}

static void keep_max(uint64_t *dst, uint64_t v)
{
    if (v > *dst)
        *dst = v;
}

void api_usage_scan(api_usage_t *u, const char *text, size_t n)
{
    const char *p = text, *end = text + n;
    static const char needle[] = "\"usage\"";
    while (p < end) {
        const char *hit = memmem(p, (size_t)(end - p), needle, sizeof needle - 1);
        if (!hit)
            return;
        p = hit + sizeof needle - 1;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (p >= end || *p != ':')
            continue;
        p++;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (p >= end || *p != '{')
            continue;
        const char *oend = object_end(p, end);
        if (!oend)
            return;
        str_t obj = str_make(p, (size_t)(oend - p));
        p = oend;
        uint64_t input = member_u64(obj, "input_tokens");
        uint64_t cache_read = member_u64(obj, "cache_read_input_tokens");
        uint64_t cache_creation = member_u64(obj, "cache_creation_input_tokens");
        uint64_t cached = member_u64(member_obj(obj, "prompt_tokens_details"), "cached_tokens");
        keep_max(&cached, member_u64(member_obj(obj, "input_tokens_details"), "cached_tokens"));
        uint64_t prompt = member_u64(obj, "prompt_tokens");
        if (!prompt && input)
            /* Anthropic counts cache reads and writes apart from input_tokens; the Responses
             * API's input_tokens already include its cached tokens */
            prompt = input + cache_read + cache_creation;
        uint64_t completion = member_u64(obj, "completion_tokens");
        keep_max(&completion, member_u64(obj, "output_tokens"));
        keep_max(&u->prompt, prompt);
        keep_max(&u->completion, completion);
        keep_max(&u->cached, cache_read > cached ? cache_read : cached);
        keep_max(&u->cache_creation, cache_creation);
        u->seen = true;
    }
}

/* ---- cost and the spend record --------------------------------------------------------------- */

double api_call_cost(const api_gen_t *gen, const api_call_end_t *end)
{
    if (!gen->prices || !end->target || !end->target->dep || !end->usage || !end->success)
        return -1;
    const cfg_deployment_t *d = end->target->dep->cfg;
    const char *provider = end->target->prov ? end->target->prov->name : d->provider;
    spend_price_t price;
    if (!spend_price_lookup(gen->prices, d, str_cstr(provider ? provider : ""),
                            end->target->upstream_model, &price))
        return -1;
    spend_usage_t u = {
        .prompt_tokens = end->usage->prompt,
        .completion_tokens = end->usage->completion,
        .cached_tokens = end->usage->cached,
        .cache_creation_tokens = end->usage->cache_creation,
        .requests = 1,
    };
    return spend_cost(&price, &u);
}

static bool ends_with(str_t s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.n >= n && memcmp(s.p + s.n - n, suffix, n) == 0;
}

/* LiteLLM's call_type for the route */
static const char *call_type_of(str_t path)
{
    while (path.n > 1 && path.p[path.n - 1] == '/')
        path.n--;
    if (ends_with(path, "/chat/completions"))
        return "acompletion";
    if (ends_with(path, "/completions"))
        return "atext_completion";
    if (ends_with(path, "/embeddings"))
        return "aembedding";
    if (ends_with(path, "/messages"))
        return "anthropic_messages";
    if (memmem(path.p, path.n, "/responses", 10))
        return "aresponses";
    return "acompletion";
}

void api_call_record(http_req_t *req, const api_call_end_t *end, double cost)
{
    const api_worker_t *w = req->server_data;
    const api_caller_t *c = req->caller;
    api_limits_call_end(req, end);
    if (!c)
        return;
    if (cost > 0) {
        auth_counter_add(c->key_counter, cost);
        auth_counter_add(c->team_counter, cost);
        auth_counter_add(c->user_counter, cost);
        auth_counter_add(c->member_counter, cost);
        auth_counter_add(c->model_counter, cost);
        auth_counter_add(c->end_user_counter, cost);
    }
    store_svc_t *store = w->ctx->store;
    if (!store)
        return;
    uint64_t now_ns = uv_hrtime();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long wall_now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    long long start = wall_now - (long long)((now_ns - req->start_ns) / 1000000);
    store_spend_log_t log;
    store_spend_log_init(&log);
    char path[128];
    snprintf(path, sizeof path, "%.*s", (int)MIN(req->head.path.n, sizeof path - 1),
             req->head.path.p);
    const api_usage_t *u = end->usage;
    log.request_id = end->call_id;
    log.call_type = call_type_of(req->head.path);
    log.api_key = c->token;
    log.spend = cost > 0 ? cost : 0;
    if (u) {
        log.prompt_tokens = (long long)u->prompt;
        log.completion_tokens = (long long)u->completion;
        log.total_tokens = (long long)(u->prompt + u->completion);
        log.cache_read_input_tokens = (long long)u->cached;
        log.cache_creation_input_tokens = (long long)u->cache_creation;
    }
    log.start_time = start;
    log.end_time = wall_now;
    if (end->first_byte_ns && end->first_byte_ns >= req->start_ns)
        log.completion_start_time =
            start + (long long)((end->first_byte_ns - req->start_ns) / 1000000);
    log.request_duration_ms = wall_now - start;
    char model[256] = "", group[256] = "";
    if (end->target && end->target->dep) {
        snprintf(model, sizeof model, "%.*s", STR_FMT(end->target->upstream_model));
        log.model = model;
        log.model_id = end->target->dep->cfg->id;
        log.custom_llm_provider =
            end->target->prov ? end->target->prov->name : end->target->dep->cfg->provider;
        log.api_base = end->target->api_base;
    }
    if (end->group) {
        snprintf(group, sizeof group, "%s", end->group->name);
        log.model_group = group;
    }
    log.user = c->user_id;
    log.team_id = c->team_id;
    log.organization_id = c->org_id;
    log.end_user = c->end_user;
    log.metadata = "{}";
    log.cache_hit = end->cache_hit ? "True" : "False";
    log.cache_key = c->cache_key ? c->cache_key : "Cache OFF";
    log.request_tags = "[]";
    log.status = end->success ? "success" : "failure";
    log.endpoint = path;
    store_svc_submit(store, &log);
}
