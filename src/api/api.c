/* SPDX-License-Identifier: MIT
 * The data plane's front door: matches the route, answers health and model listings from
 * memory, authenticates, and hands LLM calls to the proxy. Unknown routes get FastAPI's 404 body
 * as LiteLLM sends it. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/format.h"
#include "auth/auth.h"
#include "core/buf.h"
#include "core/log.h"

typedef enum {
    R_NONE,
    R_CHAT,
    R_COMPLETIONS,
    R_EMBEDDINGS,
    R_MODELS,
    R_LIVENESS,
    R_READINESS,
    R_MESSAGES,
    R_COUNT_TOKENS,
    R_RESPONSES,
    R_CACHE,
} route_id_t;

typedef struct {
    const char *path;
    route_id_t id;
    const char *method; /* the one method served */
    bool public;        /* no key needed */
} api_route_t;

static const api_route_t routes[] = {
    {"/v1/chat/completions", R_CHAT, "POST", false},
    {"/chat/completions", R_CHAT, "POST", false},
    {"/v1/completions", R_COMPLETIONS, "POST", false},
    {"/completions", R_COMPLETIONS, "POST", false},
    {"/v1/embeddings", R_EMBEDDINGS, "POST", false},
    {"/embeddings", R_EMBEDDINGS, "POST", false},
    {"/v1/models", R_MODELS, "GET", false},
    {"/models", R_MODELS, "GET", false},
    {"/health/liveliness", R_LIVENESS, "GET", true},
    {"/health/liveness", R_LIVENESS, "GET", true},
    {"/health/readiness", R_READINESS, "GET", true},
    {"/v1/messages", R_MESSAGES, "POST", false},
    {"/v1/messages/count_tokens", R_COUNT_TOKENS, "POST", false},
    {"/v1/responses", R_RESPONSES, "POST", false},
    {"/responses", R_RESPONSES, "POST", false},
    {"/openai/v1/responses", R_RESPONSES, "POST", false},
    {"/cache/ping", R_CACHE, "GET", false},
    {"/cache/delete", R_CACHE, "POST", false},
    {"/cache/flushall", R_CACHE, "POST", false},
};

/* "/v1/responses/{id}..." and its siblings: the part from "/{id}" on, or STR_NULL. */
static str_t responses_rest(str_t path)
{
    static const str_t prefixes[] = {STR_LIT("/v1/responses/"), STR_LIT("/responses/"),
                                     STR_LIT("/openai/v1/responses/")};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (str_has_prefix(path, prefixes[i]) && path.n > prefixes[i].n)
            return str_skip(path, prefixes[i].n - 1);
    return STR_NULL;
}

void api_send_error(http_req_t *req, int status, const char *type, const char *param,
                    const char *message)
{
    buf_t b = {0};
    buf_append_cstr(&b, "{\"error\":{\"message\":");
    buf_append_json_string(&b, str_cstr(message));
    buf_append_cstr(&b, ",\"type\":");
    buf_append_json_string(&b, str_cstr(type));
    buf_append_cstr(&b, ",\"param\":");
    if (param)
        buf_append_json_string(&b, str_cstr(param));
    else
        buf_append_cstr(&b, "null");
    buf_printf(&b, ",\"code\":\"%d\"}}", status);
    http_resp_send(req, status, "application/json", b.p, b.n);
    buf_free(&b);
}

void api_call_id(api_worker_t *w, char out[37])
{
    uint64_t a = route_rng_next(&w->rng), b = route_rng_next(&w->rng);
    /* RFC 4122 version 4, variant 10 */
    a = (a & 0xffffffffffff0fffull) | 0x4000ull; /* byte 6 high nibble: version 4 */
    b = (b & 0x3fffffffffffffffull) | 0x8000000000000000ull;
    static const char hex[] = "0123456789abcdef";
    int k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        unsigned byte = (unsigned)((i < 8 ? a >> (56 - 8 * i) : b >> (56 - 8 * (i - 8))) & 0xff);
        out[k++] = hex[byte >> 4];
        out[k++] = hex[byte & 15];
    }
    out[k] = 0;
}

static void send_json(http_req_t *req, int status, const char *body, size_t n)
{
    http_resp_send(req, status, "application/json", body, n);
}

static void handle_models(http_req_t *req, api_worker_t *w)
{
    size_t count;
    const char *const *names = api_caller_models(req, w, &count);
    buf_t b = {0};
    buf_append_cstr(&b, "{\"data\":[");
    for (size_t i = 0; i < count; i++) {
        if (i)
            buf_append(&b, ",", 1);
        buf_append_cstr(&b, "{\"id\":");
        buf_append_json_string(&b, str_cstr(names[i]));
        buf_append_cstr(&b,
                        ",\"object\":\"model\",\"created\":1677610602,\"owned_by\":\"openai\"}");
    }
    buf_append_cstr(&b, "],\"object\":\"list\"}");
    send_json(req, 200, b.p, b.n);
    buf_free(&b);
}

static void handle_readiness(http_req_t *req, api_worker_t *w)
{
    char body[640];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[64];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    const char *db = "Not connected";
    if (w->ctx->store) {
        store_svc_stats_t st;
        store_svc_stats(w->ctx->store, &st);
        db = st.connected ? "connected" : "Not connected";
    } else if (w->ctx->control_db_ok) {
        db = w->ctx->control_db_ok() ? "connected" : "Not connected";
    }
    /* LiteLLM names the response cache's type, null when there is none */
    const char *cache = !w->ctx->cache_on     ? "null"
                        : w->ctx->cache_redis ? "\"redis\""
                                              : "\"local\"";
    int n = snprintf(body, sizeof body,
                     "{\"status\":\"healthy\",\"db\":\"%s\",\"cache\":%s,"
                     "\"litellm_version\":\"%s\",\"success_callbacks\":[],"
                     "\"last_updated\":\"%s\"}",
                     db, cache, SLUICE_VERSION, stamp);
    send_json(req, 200, body, (size_t)n);
}

/* Management routes: served by the control-plane thread. */
static bool is_control_path(str_t path)
{
    static const str_t prefixes[] = {
        STR_LIT("/key/"),      STR_LIT("/team/"),     STR_LIT("/user/"),
        STR_LIT("/customer/"), STR_LIT("/end_user/"), STR_LIT("/organization/"),
        STR_LIT("/budget/"),   STR_LIT("/spend/"),    STR_LIT("/global/spend"),
        STR_LIT("/model/"),    STR_LIT("/v1/model/"),
    };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (str_has_prefix(path, prefixes[i]))
            return true;
    return false;
}

static void send_not_found(http_req_t *req)
{
    static const char body[] = "{\"detail\":\"Not Found\"}";
    send_json(req, 404, body, sizeof body - 1);
}

void api_handle(http_req_t *req)
{
    api_worker_t *w = req->server_data;
    w->requests++; /* the idle check's measure of activity */
    const api_route_t *r = NULL;
    str_t path = req->head.path;
    while (path.n > 1 && path.p[path.n - 1] == '/')
        path.n--; /* "/v1/models/" is "/v1/models" */
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (str_eq_cstr(path, routes[i].path)) {
            r = &routes[i];
            break;
        }
    if (!r && is_control_path(path)) {
        if (w->ctx->serve_control && w->ctx->control_handoff)
            w->ctx->control_handoff(req);
        else
            send_not_found(req);
        return;
    }
    if (r && !r->public && !w->ctx->serve_data) {
        send_not_found(req); /* --role control: no LLM routes here */
        return;
    }
    str_t rest = r ? STR_NULL : responses_rest(path);
    if (rest.p) {
        if (!w->ctx->serve_data) {
            send_not_found(req);
            return;
        }
        if (api_authenticate(req, w, api_gen_current(w->ctx), 0) == 0)
            api_responses_by_id(req, rest);
        return;
    }
    if (!r) {
        send_not_found(req);
        return;
    }
    bool head_ok = str_eq_cstr(req->head.method, "HEAD") && strcmp(r->method, "GET") == 0;
    if (!str_eq_cstr(req->head.method, r->method) && !head_ok) {
        static const char body[] = "{\"detail\":\"Method Not Allowed\"}";
        http_resp_header_cstr(req, "allow", r->method);
        send_json(req, 405, body, sizeof body - 1);
        return;
    }
    if (r->id == R_LIVENESS) {
        static const char body[] = "\"I'm alive!\"";
        send_json(req, 200, body, sizeof body - 1);
        return;
    }
    if (r->id == R_READINESS) {
        handle_readiness(req, w);
        return;
    }
    if (r->id == R_CACHE) {
        api_cache_route(req, path); /* the master key's; touches only the cache */
        return;
    }
    /* The one load of the models this request uses (kept in req->caller). A request parked for
     * its key loads again when it runs again: nothing of the first load was used. */
    const api_gen_t *gen = api_gen_current(w->ctx);
    unsigned flags = r->id == R_MESSAGES || r->id == R_COUNT_TOKENS ? API_AUTH_ANTHROPIC : 0;
    if (r->id != R_MODELS && r->id != R_COUNT_TOKENS)
        flags |= API_AUTH_LIMITS; /* LLM calls: LiteLLM's limiter runs in their pre-call hook */
    if (api_authenticate(req, w, gen, flags) != 0)
        return; /* answered, or parked until the store knows the key */
    if ((flags & API_AUTH_LIMITS) && gen->cfg->global_max_parallel_requests > 0 &&
        api_limits_global(req, w, flags & API_AUTH_ANTHROPIC))
        return; /* general_settings.global_max_parallel_requests: LiteLLM's 429 */
    switch (r->id) {
    case R_CHAT:
        api_proxy_openai(req, API_CHAT);
        return;
    case R_COMPLETIONS:
        api_proxy_openai(req, API_COMPLETIONS);
        return;
    case R_EMBEDDINGS:
        api_proxy_openai(req, API_EMBEDDINGS);
        return;
    case R_MODELS:
        handle_models(req, w);
        return;
    case R_MESSAGES:
        api_messages(req, false);
        return;
    case R_COUNT_TOKENS:
        api_messages(req, true);
        return;
    case R_RESPONSES:
        api_responses(req);
        return;
    default:
        send_not_found(req);
    }
}
