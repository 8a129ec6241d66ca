/* SPDX-License-Identifier: MIT
 * The OpenAI-compatible pass-through: /chat/completions, /completions, /embeddings. The body is
 * validated and scanned, never parsed into a document; only the `model` value is replaced, and
 * the pieces go upstream without a copy. Streams are written to the client chunk by chunk.
 * Retries (connect errors, 429, 5xx) happen only while nothing has reached the client. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/format.h"
#include "api/translate.h"
#include "core/buf.h"
#include "core/jscan.h"
#include "core/log.h"

#define MAX_RESPONSE_BYTES (256u * 1024 * 1024)
#define MAX_QUEUED_BYTES (1u << 20) /* a slow client: pause the provider beyond this */

typedef struct {
    http_req_t *req;
    api_worker_t *w;
    api_kind_t kind;
    const api_format_t *fmt; /* the client's format, for errors */
    const char *suffix;      /* upstream path after the base */
    const char *method;      /* NULL: POST */
    bool anthropic_auth;     /* x-api-key + anthropic-version instead of the deployment's lines */
    bool raw_errors;         /* provider errors go to the client as they came (same API) */
    const route_group_t *group;
    str_t model;     /* the client's model name, decoded */
    str_t model_raw; /* its raw JSON value in the body */
    bool stream;
    route_target_t target;
    up_req_t *up;
    int attempt; /* 0 for the first try */
    int max_retries;
    int status;     /* upstream status of the current attempt */
    bool started;   /* the client has our response head */
    buf_t body;     /* buffered upstream body (non-stream answers and errors) */
    bool cache_sse; /* a stream kept for the response cache (in sse), up to API_CACHE_STREAM_MAX */
    buf_t sse;
    str_t content_type;
    buf_t extra_headers; /* llm_provider-* lines from upstream: "name\0value\0" pairs */
    uint64_t up_start_ns, up_head_ns;
    uint64_t up_total_ns; /* time spent waiting on providers, all attempts */
    api_usage_t usage;    /* what the provider reported, for cost and spend */
    api_retry_t retry;    /* a 429's back-off before the next attempt */
    api_fallback_t fb;    /* the groups tried after this one gives up */
    char call_id[37];
    char error[256];
} proxy_t;

/* Cost and the SpendLogs record of a finished call (not for retrieve/delete by id). */
static double proxy_account(proxy_t *p, bool success, bool header)
{
    if (p->method)
        return -1;
    api_call_end_t end = {
        .call_id = p->call_id,
        .group = p->group,
        .target = p->target.dep ? &p->target : NULL,
        .usage = &p->usage,
        .success = success,
        .first_byte_ns = p->up_head_ns,
    };
    double cost = api_call_cost(api_req_gen(p->req), &end);
    if (header && cost >= 0) {
        char num[SPEND_COST_BUF];
        spend_format_cost(cost, num, sizeof num);
        http_resp_header_cstr(p->req, "x-litellm-response-cost", num);
    }
    api_call_record(p->req, &end, cost);
    return cost;
}

static const char *path_suffix(api_kind_t kind)
{
    switch (kind) {
    case API_CHAT:
        return "/chat/completions";
    case API_COMPLETIONS:
        return "/completions";
    default:
        return "/embeddings";
    }
}

static void proxy_start_attempt(proxy_t *p);
static void proxy_error(proxy_t *p, int status, const char *type, const char *param,
                        const char *message);

/* Frees what the proxy holds outside the arena. The request itself is finished by the caller. */
static void proxy_release(proxy_t *p)
{
    api_retry_cancel(&p->retry);
    if (p->up) {
        up_cancel(p->up);
        p->up = NULL;
        api_call_ended(p->w, p->target.dep, 0);
    }
    buf_free(&p->body);
    buf_free(&p->sse);
    buf_free(&p->extra_headers);
}

static void proxy_on_abort(http_req_t *req)
{
    proxy_t *p = req->user;
    log_debug("%s: client went away; cancelling the provider call", p->call_id);
    proxy_release(p);
}

static const char *exception_class(int status, int result)
{
    if (result == UP_ERR_TIMEOUT)
        return "Timeout";
    if (result != UP_OK)
        return "APIConnectionError";
    switch (status) {
    case 400:
        return "BadRequestError";
    case 401:
        return "AuthenticationError";
    case 403:
        return "PermissionDeniedError";
    case 404:
        return "NotFoundError";
    case 408:
        return "Timeout";
    case 409:
        return "ConflictError";
    case 422:
        return "UnprocessableEntityError";
    case 429:
        return "RateLimitError";
    case 503:
        return "ServiceUnavailableError";
    default:
        return status >= 500 ? "InternalServerError" : "BadRequestError";
    }
}

/* "OpenAI", "Groq", "Together_ai": how LiteLLM names a provider in exception text. */
static void provider_label(const prov_info_t *prov, char *out, size_t n)
{
    const char *name = prov ? prov->name : "openai";
    if (strcmp(name, "openai") == 0 || strcmp(name, "text-completion-openai") == 0) {
        snprintf(out, n, "OpenAI");
        return;
    }
    snprintf(out, n, "%s", name);
    out[0] = (char)toupper((unsigned char)out[0]);
}

static void add_common_headers(proxy_t *p)
{
    http_req_t *req = p->req;
    http_resp_header_cstr(req, "x-litellm-call-id", p->call_id);
    if (p->target.dep) {
        http_resp_header_cstr(req, "x-litellm-model-id", p->target.dep->cfg->id);
        const char *group = p->group->wildcard ? NULL : p->group->name;
        if (group)
            http_resp_header_cstr(req, "x-litellm-model-group", group);
        else
            http_resp_header(req, STR_LIT("x-litellm-model-group"), p->model);
        if (p->target.api_base)
            http_resp_header_cstr(req, "x-litellm-model-api-base", p->target.api_base);
    }
    http_resp_header_cstr(req, "x-litellm-version", SLUICE_VERSION);
    api_caller_headers(req);
    char num[32];
    buf_t nb = {num, 0, sizeof num}; /* fixed storage: these numbers never need more */
    buf_append_u64(&nb, (unsigned)p->attempt);
    http_resp_header(req, STR_LIT("x-litellm-attempted-retries"), str_make(num, nb.n));
    api_fallback_header(req, &p->fb);
    uint64_t now = uv_hrtime();
    uint64_t total = now - req->start_ns;
    uint64_t upstream = p->up_total_ns;
    if (p->up_start_ns && p->up_head_ns > p->up_start_ns && p->stream)
        upstream += p->up_head_ns - p->up_start_ns; /* streaming: provider time so far */
    nb.n = 0;
    buf_append_ms(&nb, total);
    http_resp_header(req, STR_LIT("x-litellm-response-duration-ms"), str_make(num, nb.n));
    nb.n = 0;
    buf_append_ms(&nb, total - MIN(upstream, total));
    http_resp_header(req, STR_LIT("x-litellm-overhead-duration-ms"), str_make(num, nb.n));
    /* the provider's own headers, prefixed as LiteLLM re-emits them */
    const char *h = p->extra_headers.p, *end = h + p->extra_headers.n;
    while (h && h < end) {
        size_t nlen = strlen(h);
        const char *value = h + nlen + 1;
        size_t vlen = strlen(value);
        char name[128];
        memcpy(name, "llm_provider-", 13);
        memcpy(name + 13, h, MIN(nlen, sizeof name - 13));
        http_resp_header(req, str_make(name, 13 + MIN(nlen, sizeof name - 13)),
                         str_make(value, vlen));
        h = value + vlen + 1;
    }
}

/* Sends the error for a failed call in LiteLLM's shape, keeping the provider's status. */
static void proxy_send_upstream_error(proxy_t *p, int result, const char *message)
{
    char label[64];
    provider_label(p->target.prov, label, sizeof label);
    int status = p->status;
    const char *type = NULL, *param = NULL;
    char *upstream_msg = NULL;
    cJSON *doc = NULL;
    if (result == UP_OK) {
        doc = cJSON_ParseWithLength(p->body.p ? p->body.p : "", p->body.n);
        cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
        cJSON *m = cJSON_GetObjectItemCaseSensitive(err, "message");
        if (cJSON_IsString(m))
            upstream_msg = m->valuestring;
        else if (cJSON_IsString(err))
            upstream_msg = err->valuestring;
        cJSON *t = cJSON_GetObjectItemCaseSensitive(err, "type");
        if (cJSON_IsString(t))
            type = t->valuestring;
        cJSON *pr = cJSON_GetObjectItemCaseSensitive(err, "param");
        if (cJSON_IsString(pr))
            param = pr->valuestring;
        if (!upstream_msg && p->body.n) {
            buf_append(&p->body, "", 1);
            upstream_msg = p->body.p;
            if (p->body.n > 1000)
                p->body.p[1000] = 0;
        }
    } else {
        status = result == UP_ERR_TIMEOUT ? 408 : 500; /* LiteLLM: Timeout is 408 */
    }
    if (!type)
        type = status == 429   ? "throttling_error"
               : status == 401 ? "auth_error"
               : status >= 500 ? "internal_server_error"
                               : "invalid_request_error";
    const char *cls = exception_class(status, result);
    buf_t msg = {0};
    if (result == UP_OK)
        buf_printf(&msg, "litellm.%s: %s: %sException - %s", cls, cls, label,
                   upstream_msg ? upstream_msg : "no error message");
    else if (result == UP_ERR_TIMEOUT)
        buf_printf(&msg,
                   "litellm.Timeout: %sException - Request timed out. (%s). "
                   "model_group=%s, deployment=%s",
                   label, message, p->group->name, p->target.dep->cfg->id);
    else
        buf_printf(&msg,
                   "litellm.APIConnectionError: APIConnectionError: %sException - Connection "
                   "error (%s). model_group=%s, deployment=%s, api_base=%s",
                   label, message, p->group->name, p->target.dep->cfg->id,
                   p->target.api_base ? p->target.api_base : "");
    if (p->attempt > 0)
        buf_printf(&msg, " LiteLLM Retried: %d times", p->attempt);
    buf_append(&msg, "", 1);
    add_common_headers(p);
    if (p->raw_errors && result == UP_OK) {
        /* the client speaks the provider's API: its error body goes through unchanged */
        http_req_t *req = p->req;
        buf_t body = p->body;
        p->body = (buf_t){0};
        proxy_release(p);
        http_resp_send(req, status, "application/json", body.p, body.n);
        buf_free(&body);
    } else {
        proxy_error(p, status, type, param, msg.p);
    }
    buf_free(&msg);
    cJSON_Delete(doc);
}

static void on_up_head(void *arg, int status, const up_header_t *headers, size_t n)
{
    proxy_t *p = arg;
    p->status = status;
    p->up_head_ns = uv_hrtime();
    if (status == 429)
        api_retry_note_head(&p->retry, headers, n);
    p->content_type = STR_NULL;
    p->extra_headers.n = 0;
    for (size_t i = 0; i < n; i++) {
        str_t name = headers[i].name;
        if (str_case_eq(name, STR_LIT("content-type"))) {
            p->content_type = arena_str_copy(&p->req->arena, headers[i].value);
            continue;
        }
        if (str_case_eq(name, STR_LIT("content-length")) ||
            str_case_eq(name, STR_LIT("transfer-encoding")) ||
            str_case_eq(name, STR_LIT("connection")) || str_case_eq(name, STR_LIT("keep-alive")) ||
            str_case_eq(name, STR_LIT("date")) || str_case_eq(name, STR_LIT("set-cookie")) ||
            name.n > 100 || headers[i].value.n > 4000)
            continue;
        buf_append_str(&p->extra_headers, name);
        buf_append(&p->extra_headers, "", 1);
        buf_append_str(&p->extra_headers, headers[i].value);
        buf_append(&p->extra_headers, "", 1);
    }
    if (status >= 200 && status < 300 && p->stream) {
        /* stream: the client gets our head now and every chunk as it comes */
        add_common_headers(p);
        http_resp_header_cstr(p->req, "cache-control", "no-cache");
        char ct[128];
        snprintf(ct, sizeof ct, "%.*s", p->content_type.p ? (int)p->content_type.n : 17,
                 p->content_type.p ? p->content_type.p : "text/event-stream");
        http_resp_stream_start(p->req, 200, ct);
        p->started = true;
    }
}

static void proxy_on_drain(http_req_t *req)
{
    proxy_t *p = req->user;
    up_pause(p->up, false);
}

static void on_up_data(void *arg, const char *data, size_t n)
{
    proxy_t *p = arg;
    if (p->started) {
        api_usage_scan(&p->usage, data, n);
        if (p->cache_sse &&
            (p->sse.n + n > API_CACHE_STREAM_MAX || buf_append(&p->sse, data, n) < 0)) {
            p->cache_sse = false; /* too long to keep: this stream is not stored */
            buf_free(&p->sse);
        }
        ssize_t queued = http_resp_stream_write(p->req, data, n);
        if (queued < 0) {
            /* the client is gone but we heard it here first: stop the provider too */
            http_req_t *req = p->req;
            proxy_release(p);
            http_req_drop(req);
        } else if ((size_t)queued > MAX_QUEUED_BYTES) {
            /* the client reads slower than the provider writes: hold the provider back */
            up_pause(p->up, true);
            p->req->on_drain = proxy_on_drain;
        }
        return;
    }
    if (p->body.n + n > MAX_RESPONSE_BYTES || buf_append(&p->body, data, n) < 0) {
        /* a runaway answer: stop the provider and say so, rather than pass on a cut body */
        proxy_error(p, 502, "internal_server_error", NULL,
                    "litellm.APIError: the provider's answer is larger than 256 MB");
        return;
    }
}

/* A 429's back-off ended: the next attempt. */
static void proxy_retry_fire(void *arg)
{
    proxy_start_attempt(arg);
}

/* Whether this call's splice can serve fallback group g (called as `name`): chat, completions
 * and embeddings need OpenAI-wire deployments, /v1/messages Anthropic ones, /v1/responses
 * OpenAI (or Azure) ones. */
static bool proxy_can_splice(const proxy_t *p, const route_group_t *g, const char *name)
{
    str_t model = str_cstr(name);
    if (!p->suffix)
        return !api_group_is_native(g, model);
    if (p->anthropic_auth)
        return api_group_all_provider(g, model, "anthropic");
    return api_group_all_provider(g, model, "openai") || api_group_all_provider(g, model, "azure");
}

/* /v1/messages/count_tokens falls back only to Anthropic groups: elsewhere nothing is called. */
static bool anthropic_usable(const route_group_t *g)
{
    return api_group_all_provider(g, str_cstr(g->name), "anthropic");
}

/* A fallback group that needs translation: the call goes on in translate.c with the client's
 * body (the request's "fallbacks" already out of it), this call's fallback state and call id.
 * False when the body does not convert (the group's failure then stands). */
static bool proxy_hand_over(proxy_t *p, const route_group_t *g, const char *name)
{
    http_req_t *req = p->req;
    const api_format_t *fmt = !p->suffix          ? &api_format_openai
                              : p->anthropic_auth ? &api_format_anthropic
                                                  : &api_format_responses;
    cJSON *client_req = cJSON_ParseWithLength(req->body.p, req->body.n);
    cJSON *chat_req = NULL;
    prov_error_t err = {0};
    if (client_req && fmt == &api_format_openai)
        chat_req = cJSON_Duplicate(client_req, 1);
    else if (client_req && fmt->to_chat(client_req, &chat_req, &err) != 0)
        chat_req = NULL;
    if (!chat_req) {
        cJSON_Delete(client_req);
        return false;
    }
    api_fallback_t fb = p->fb;
    char call_id[sizeof p->call_id];
    memcpy(call_id, p->call_id, sizeof call_id);
    api_kind_t kind = p->kind;
    bool stream = p->stream;
    proxy_release(p);
    api_translated_fallback(req, fmt, kind, client_req, chat_req, g, str_cstr(name), stream, &fb,
                            call_id);
    return true;
}

/* The group gave up: the call moves to the next fallback group, if any. A group this splice
 * cannot serve is handed over to the translated path; calls by response id do not fall back. */
static bool proxy_fall_back(proxy_t *p, int result)
{
    const char *name = NULL;
    bool count_tokens = p->suffix && strcmp(p->suffix, "/v1/messages/count_tokens") == 0;
    const route_group_t *g =
        p->method ? NULL
                  : api_fallback_next(p->req, &p->fb, p->group, result, p->status,
                                      str_make(p->body.p ? p->body.p : "", p->body.n),
                                      count_tokens ? anthropic_usable : NULL, &name);
    if (!g)
        return false;
    log_info("%s: %s gave up (status %d); falling back to %s", p->call_id, p->group->name,
             p->status, name);
    if (!proxy_can_splice(p, g, name))
        return proxy_hand_over(p, g, name);
    p->group = g;
    p->model = str_cstr(name);
    p->attempt = 0;
    p->max_retries = g->deployments[0]->num_retries;
    p->body.n = 0;
    proxy_start_attempt(p);
    return true;
}

static void on_up_done(void *arg, int result, const char *message)
{
    proxy_t *p = arg;
    http_req_t *req = p->req;
    p->up = NULL;
    uint64_t now = uv_hrtime();
    bool answered = result == UP_OK && p->status < 400 && p->up_head_ns > p->up_start_ns;
    api_call_ended(p->w, p->target.dep, answered ? p->up_head_ns - p->up_start_ns : 0);
    p->up_total_ns += now - p->up_start_ns;
    p->up_start_ns = 0;
    if (p->started) {
        if (result != UP_OK) {
            /* mid-stream failure: LiteLLM ends the stream with an error event, status stays 200 */
            buf_t ev = {0};
            char text[512];
            snprintf(text, sizeof text, "litellm.APIConnectionError: stream from %s ended: %s",
                     p->target.dep->cfg->id, message);
            if (p->anthropic_auth) {
                /* an Anthropic stream ends with Anthropic's error event */
                buf_append_cstr(&ev, "event: error\ndata: ");
                p->fmt->error_body(500, "internal_server_error", text, &ev);
                buf_append_cstr(&ev, "\n\n");
            } else if (p->suffix && strcmp(p->suffix, "/responses") == 0) {
                /* a Responses stream ends with the Responses API's error event */
                buf_append_cstr(&ev, "event: error\ndata: {\"type\":\"error\",\"code\":"
                                     "\"server_error\",\"message\":");
                buf_append_json_string(&ev, str_cstr(text));
                buf_append_cstr(&ev, ",\"param\":null}\n\n");
            } else {
                buf_append_cstr(&ev, "data: {\"error\":{\"message\":");
                buf_append_json_string(&ev, str_cstr(text));
                buf_append_cstr(&ev, ",\"type\":\"internal_server_error\",\"param\":null,"
                                     "\"code\":\"500\"}}\n\n");
            }
            http_resp_stream_write(req, ev.p, ev.n);
            buf_free(&ev);
        }
        proxy_account(p, result == UP_OK, false);
        if (p->cache_sse && result == UP_OK)
            api_cache_store_stream(req, p->sse.p, p->sse.n);
        proxy_release(p);
        http_resp_stream_end(req);
        return;
    }
    if (result != UP_OK || p->status >= 400)
        api_attempt_failed(p->w, &p->target, result, p->status);
    if (api_retry_wanted(&p->retry, p->group, p->attempt, &p->max_retries, result, p->status,
                         str_make(p->body.p ? p->body.p : "", p->body.n))) {
        log_debug("%s: attempt %d on %s failed (%s%s%d); retrying", p->call_id, p->attempt + 1,
                  p->target.dep->cfg->id, result != UP_OK ? message : "",
                  result != UP_OK ? " " : "status ", p->status);
        p->attempt++;
        p->body.n = 0;
        if (!api_retry_later(p->w, &p->retry, result, p->status, p->attempt, proxy_retry_fire, p))
            proxy_start_attempt(p);
        return;
    }
    if ((result != UP_OK || p->status >= 300) && proxy_fall_back(p, result))
        return;
    if (result != UP_OK || p->status >= 300) {
        log_info("%s: %s call to %s failed: %s (status %d)", p->call_id, p->group->name,
                 p->target.dep->cfg->id, result != UP_OK ? message : "provider error", p->status);
        proxy_account(p, false, false);
        proxy_send_upstream_error(p, result, message);
        return;
    }
    add_common_headers(p);
    api_usage_scan(&p->usage, p->body.p, p->body.n);
    proxy_account(p, true, true);
    char ct[128];
    snprintf(ct, sizeof ct, "%.*s", p->content_type.p ? (int)p->content_type.n : 16,
             p->content_type.p ? p->content_type.p : "application/json");
    if (p->w->ctx->cache_on)
        api_cache_store(req, p->content_type, p->body.p, p->body.n);
    buf_t body = p->body;
    p->body = (buf_t){0};
    proxy_release(p);
    http_resp_send(req, p->status, ct, body.p, body.n);
    buf_free(&body);
}

/* Anthropic's own headers for a pass-through /v1/messages call; the client's version and beta
 * flags are forwarded (LiteLLM always forwards anthropic-beta on this route). */
static const char **anthropic_headers(proxy_t *p)
{
    arena_t *a = &p->req->arena;
    const char *lines[40];
    size_t n = 0;
    lines[n++] = "Content-Type: application/json";
    if (p->target.api_key)
        lines[n++] = arena_printf(a, "x-api-key: %s", p->target.api_key);
    str_t version = http_req_header(p->req, "anthropic-version");
    lines[n++] = version.p ? arena_printf(a, "anthropic-version: %.*s", STR_FMT(version))
                           : "anthropic-version: 2023-06-01";
    str_t beta = http_req_header(p->req, "anthropic-beta");
    if (beta.p)
        lines[n++] = arena_printf(a, "anthropic-beta: %.*s", STR_FMT(beta));
    const cfg_deployment_t *d = p->target.dep->cfg;
    for (size_t i = 0; i < d->num_extra_headers && n < 39; i++)
        lines[n++] = arena_printf(a, "%s: %s", d->extra_headers[i].name, d->extra_headers[i].value);
    const char **out = arena_alloc(a, (n + 1) * sizeof *out);
    if (!out)
        return p->target.headers;
    memcpy(out, lines, n * sizeof *out);
    out[n] = NULL;
    return out;
}

/* An error from the proxy itself, in the client's format. */
static void proxy_error(proxy_t *p, int status, const char *type, const char *param,
                        const char *message)
{
    http_req_t *req = p->req;
    const api_format_t *fmt = p->fmt;
    proxy_release(p);
    if (!fmt || fmt == &api_format_openai) {
        api_send_error(req, status, type, param, message);
        return;
    }
    buf_t b = {0};
    fmt->error_body(status, type, message, &b);
    http_resp_send(req, status, "application/json", b.p, b.n);
    buf_free(&b);
}

static void proxy_start_attempt(proxy_t *p)
{
    http_req_t *req = p->req;
    const route_deployment_t *avoid = p->attempt ? p->target.dep : NULL;
    char msg[512];
    long long retry_after = 0;
    if (api_route_pick(req, p->group, p->model, avoid, &p->target, msg, sizeof msg, &retry_after) !=
        0) {
        /* no deployment can take the call (cooling, at its rpm/tpm, too small): LiteLLM falls
         * back as after spent retries; the 429 (and its retry-after) only when none works */
        p->status = 429;
        p->body.n = 0;
        if (proxy_fall_back(p, UP_OK))
            return;
        api_retry_after_header(req, retry_after);
        proxy_error(p, 429, "None", NULL, msg);
        return;
    }
    const route_deployment_t *d = p->target.dep;
    const char *suffix = p->suffix ? p->suffix : path_suffix(p->kind);
    const prov_wire_t *wire = p->target.prov ? p->target.prov->wire : NULL;
    char *url;
    if (wire && wire->url) {
        /* Azure: the deployment is in the URL, with the api-version */
        url = (char *)wire->url(&req->arena, p->target.api_base, p->target.upstream_model,
                                d->cfg->api_version, suffix);
    } else {
        size_t base_len = strlen(p->target.api_base), suffix_len = strlen(suffix);
        url = arena_alloc(&req->arena, base_len + suffix_len + 1);
        if (url) {
            memcpy(url, p->target.api_base, base_len);
            memcpy(url + base_len, suffix, suffix_len + 1);
        }
    }
    if (!url) {
        proxy_error(p, 500, "internal_server_error", NULL, "out of memory");
        return;
    }
    /* the new model value as a JSON string literal */
    buf_t lit = {0};
    buf_append_json_string(&lit, p->target.upstream_model);
    str_t model_json = arena_str_copy(&req->arena, str_make(lit.p, lit.n));
    buf_free(&lit);
    up_spec_t spec = {
        .method = p->method ? p->method : "POST",
        .url = url,
        .headers = p->anthropic_auth ? anthropic_headers(p) : p->target.headers,
        .timeout_ms = d->timeout_ms,
        .idle_timeout_ms = p->stream ? d->stream_timeout_ms : 0,
    };
    spec.num_body = p->model_raw.p ? jscan_splice_iov(req->body.p, req->body.n, p->model_raw,
                                                      model_json, spec.body)
                                   : 0;
    static const up_callbacks_t cb = {on_up_head, on_up_data, on_up_done};
    p->status = 0;
    p->up_start_ns = uv_hrtime();
    api_call_started(p->w, d);
    p->up = up_start(p->w->up, &spec, &cb, p);
    if (!p->up)
        api_call_ended(p->w, d, 0);
    if (!p->up)
        proxy_error(p, 500, "internal_server_error", NULL,
                    "litellm.APIConnectionError: could not start the provider call");
}

/* The call goes to the provider (after the response cache, when that has no answer). */
static void proxy_go(void *arg)
{
    proxy_t *p = arg;
    p->req->user = p;
    p->req->on_abort = proxy_on_abort;
    if (p->stream && p->w->ctx->cache_on) /* chat, text and /v1/messages streams are stored */
        p->cache_sse = api_cache_stream_wanted(p->req);
    proxy_start_attempt(p);
}

/* The response cache's lookup for this call: true when it answered, or when proxy_go will run
 * once Redis misses. */
static bool proxy_cached(proxy_t *p, unsigned call_type)
{
    return api_cache_lookup(p->req, &(api_cache_call_t){.group = p->group,
                                                        .call_type = call_type,
                                                        .stream = p->stream,
                                                        .model_raw = &p->model_raw,
                                                        .go = proxy_go,
                                                        .arg = p});
}

void api_proxy_openai(http_req_t *req, api_kind_t kind)
{
    api_worker_t *w = req->server_data;
    jscan_field_t f[3] = {{STR_LIT("model"), STR_NULL},
                          {STR_LIT("stream"), STR_NULL},
                          {STR_LIT("fallbacks"), STR_NULL}};
    size_t err_off = 0;
    if (req->body.n == 0 || jscan_find(req->body.p, req->body.n, f, 3, &err_off) != 0) {
        char msg[160];
        if (req->body.n == 0)
            snprintf(msg, sizeof msg,
                     "Invalid request body: the body is empty; expected a JSON "
                     "object");
        else
            snprintf(msg, sizeof msg, "Invalid request body: not a JSON object (error at byte %zu)",
                     err_off);
        api_send_error(req, 400, "invalid_request_error", NULL, msg);
        return;
    }
    proxy_t *p = arena_alloc(&req->arena, sizeof *p);
    if (!p) {
        api_send_error(req, 500, "internal_server_error", NULL, "out of memory");
        return;
    }
    memset(p, 0, sizeof *p);
    p->req = req;
    p->w = w;
    p->kind = kind;
    api_call_id(w, p->call_id);
    http_resp_header_cstr(req, "x-litellm-call-id", p->call_id);
    str_t model = STR_NULL;
    if (f[0].value.p && f[0].value.n >= 2 && f[0].value.p[0] == '"') {
        buf_t dec = {0};
        if (jscan_string_decode(f[0].value, &dec) == 0)
            model = arena_str_copy(&req->arena, str_make(dec.p ? dec.p : "", dec.n));
        buf_free(&dec);
    }
    if (!model.p || !model.n) {
        api_send_error(req, 400, "invalid_request_error", "model",
                       "Invalid model name passed in model=None. Call `/v1/models` to view "
                       "available models for your key.");
        return;
    }
    p->group = route_find_group(api_req_gen(req)->routes, model);
    if (!p->group) {
        char *msg = arena_printf(&req->arena,
                                 "Invalid model name passed in model=%.*s. Call `/v1/models` to "
                                 "view available models for your key.",
                                 STR_FMT(model));
        api_send_error(req, 400, "invalid_request_error", "model", msg);
        return;
    }
    if (api_group_is_native(p->group, model)) {
        /* a native provider: the body is parsed and translated, not spliced */
        cJSON *client_req = cJSON_ParseWithLength(req->body.p, req->body.n);
        cJSON *chat_req = cJSON_Duplicate(client_req, 1);
        req->resp_head.n = 0;
        if (!client_req || !chat_req) {
            cJSON_Delete(client_req);
            cJSON_Delete(chat_req);
            api_send_error(req, 500, "internal_server_error", NULL, "out of memory");
            return;
        }
        api_translated_call(req, &api_format_openai, kind, client_req, chat_req, p->group, model,
                            f[1].value.p && jscan_is_true(f[1].value));
        return;
    }
    req->resp_head.n = 0; /* the call id goes again with the full header set */
    p->fmt = &api_format_openai;
    p->model = model;
    p->model_raw = f[0].value;
    p->stream = kind != API_EMBEDDINGS && f[1].value.p && jscan_is_true(f[1].value);
    p->max_retries = p->group->deployments[0]->num_retries;
    if (f[2].value.p && api_fallback_take(req, &p->fb, &p->model_raw) != 0) {
        api_send_error(req, 400, "invalid_request_error", "fallbacks",
                       "fallbacks must be a list of model names (or of {\"model\": name})");
        return;
    }
    static const unsigned call_types[] = {[API_CHAT] = CFG_CACHE_CALL_CHAT,
                                          [API_COMPLETIONS] = CFG_CACHE_CALL_TEXT,
                                          [API_EMBEDDINGS] = CFG_CACHE_CALL_EMBEDDING};
    if (w->ctx->cache_on && proxy_cached(p, call_types[kind]))
        return;
    proxy_go(p);
}

void api_proxy_splice(http_req_t *req, const api_splice_t *sp)
{
    api_worker_t *w = req->server_data;
    proxy_t *p = arena_alloc(&req->arena, sizeof *p);
    if (!p) {
        api_send_error(req, 500, "internal_server_error", NULL, "out of memory");
        return;
    }
    memset(p, 0, sizeof *p);
    p->req = req;
    p->w = w;
    p->kind = sp->kind;
    p->fmt = sp->fmt;
    p->suffix = sp->suffix;
    p->method = sp->method;
    p->anthropic_auth = sp->anthropic_auth;
    p->raw_errors = sp->raw_errors;
    p->group = sp->group;
    p->model = sp->model;
    p->model_raw = sp->model_raw;
    p->stream = sp->stream;
    p->max_retries = sp->group->deployments[0]->num_retries;
    api_call_id(w, p->call_id);
    if (!p->method && api_fallback_take(req, &p->fb, &p->model_raw) != 0) {
        proxy_error(p, 400, "invalid_request_error", "fallbacks",
                    "fallbacks must be a list of model names (or of {\"model\": name})");
        return;
    }
    if (w->ctx->cache_on && !p->method && p->suffix) {
        /* /v1/messages and /v1/responses calls (not count_tokens, not the by-id routes) */
        unsigned call_type = strcmp(p->suffix, "/v1/messages") == 0 ? CFG_CACHE_CALL_MESSAGES
                             : strcmp(p->suffix, "/responses") == 0 ? CFG_CACHE_CALL_RESPONSES
                                                                    : 0;
        if (call_type && proxy_cached(p, call_type))
            return;
    }
    proxy_go(p);
}
