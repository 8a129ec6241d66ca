/* SPDX-License-Identifier: MIT
 * The response cache on the pass-through path (docs/cache.md): the lookup before the first
 * attempt, the store after a successful answer, and a hit answered as LiteLLM answers it (the
 * cached body, x-litellm-cache-key, cost 0, a SpendLogs row with cache_hit "True"). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "auth/auth.h"
#include "core/jscan.h"
#include "core/log.h"

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct {
    str_t member; /* `"cache": {...}` from its key's opening quote to the value's end */
    str_t value;
} cache_member_t;

static int find_cache_member(void *arg, const jscan_member_t *m)
{
    cache_member_t *cm = arg;
    if (jscan_key_eq(m->key, STR_LIT("cache"))) {
        cm->member = str_make(m->key.p - 1, (size_t)(m->value.p + m->value.n - (m->key.p - 1)));
        cm->value = m->value;
    }
    return 0;
}

int api_body_remove_member(http_req_t *req, str_t member, str_t *model_raw)
{
    const char *body = req->body.p;
    buf_t b = {0};
    str_t cut;
    if (jscan_remove_member(&b, body, req->body.n, member, &cut) != 0) {
        buf_free(&b);
        return -1;
    }
    char *out = arena_alloc(&req->arena, b.n + 1);
    if (!out) {
        buf_free(&b);
        return -1;
    }
    if (b.n)
        memcpy(out, b.p, b.n);
    out[b.n] = 0;
    if (model_raw && model_raw->p)
        model_raw->p = out + (model_raw->p - body) - (model_raw->p >= cut.p + cut.n ? cut.n : 0);
    req->body = str_make(out, b.n);
    buf_free(&b);
    return 0;
}

/* A stream request's hit is sent as LiteLLM replays it: the stored completion as SSE chunks, or
 * a /v1/messages stream's stored events. 0 (sse filled when stream), or -1: the entry cannot be
 * replayed, treat it as a miss. */
static int hit_prepare(unsigned call_type, bool stream, str_t body, buf_t *sse)
{
    if (!stream)
        return 0;
    switch (call_type) {
    case CFG_CACHE_CALL_CHAT:
        return cache_stream_replay(body.p, body.n, sse);
    case CFG_CACHE_CALL_TEXT:
        return cache_text_stream_replay(body.p, body.n, sse);
    case CFG_CACHE_CALL_MESSAGES:
        return cache_events_replay(body.p, body.n, sse);
    default:
        return -1;
    }
}

/* Answers the request from a cached body (or its replay as a stream, when sse holds one), as
 * LiteLLM answers a hit. */
static void answer_hit(http_req_t *req, const route_group_t *group, const char *key, str_t body,
                       const char *content_type, const buf_t *sse)
{
    api_caller_t *c = req->caller;
    api_worker_t *w = req->server_data;
    char call_id[37];
    api_call_id(w, call_id);
    http_resp_header_cstr(req, "x-litellm-call-id", call_id);
    http_resp_header_cstr(req, "x-litellm-cache-key", key);
    http_resp_header_cstr(req, "x-litellm-model-group", group->name);
    http_resp_header_cstr(req, "x-litellm-version", SLUICE_VERSION);
    http_resp_header_cstr(req, "x-litellm-response-cost", "0.0");
    http_resp_header_cstr(req, "x-litellm-attempted-retries", "0");
    api_caller_headers(req);
    char num[32];
    buf_t nb = {num, 0, sizeof num};
    buf_append_ms(&nb, uv_hrtime() - req->start_ns);
    http_resp_header(req, STR_LIT("x-litellm-response-duration-ms"), str_make(num, nb.n));
    http_resp_header(req, STR_LIT("x-litellm-overhead-duration-ms"), str_make(num, nb.n));
    /* SpendLogs: LiteLLM suffixes a hit's request_id with _cache_hit<time.time()> (the call id
     * is the primary key) and records it with zero spend */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char *request_id = arena_printf(&req->arena, "%s_cache_hit%lld.%06ld", call_id,
                                    (long long)ts.tv_sec, ts.tv_nsec / 1000);
    api_usage_t usage = {0};
    api_usage_scan(&usage, body.p, body.n);
    api_call_end_t end = {
        .call_id = request_id ? request_id : call_id,
        .group = group,
        .usage = &usage,
        .success = true,
        .cache_hit = true,
    };
    c->cache_store = false;
    api_call_record(req, &end, 0);
    if (sse->p) {
        http_resp_header_cstr(req, "cache-control", "no-cache");
        http_resp_send(req, 200, "text/event-stream", sse->p, sse->n);
    } else {
        http_resp_send(req, 200, content_type, body.p, body.n);
    }
}

/* ---- Redis: the lookup waits on the worker, never blocking it ---- */

/* One lookup in flight (malloc'd: it may outlive the request when the client goes away). */
typedef struct {
    http_req_t *req; /* NULL: the client went away */
    api_cache_call_t call;
    int64_t max_age_ms;
} cache_wait_t;

static void cache_wait_on_abort(http_req_t *req)
{
    cache_wait_t *wait = req->user;
    if (wait->call.drop)
        wait->call.drop(wait->call.arg);
    wait->req = NULL; /* the answer frees it */
}

/* LiteLLM's stored value {"timestamp": <epoch s>, "response": <JSON text or object>}: the body
 * (decoded into dec when it is a string) and its age check. */
static int redis_value_body(const cache_redis_op_t *op, int64_t max_age_ms, buf_t *dec, str_t *body)
{
    jscan_field_t f[2] = {{STR_LIT("timestamp"), STR_NULL}, {STR_LIT("response"), STR_NULL}};
    if (jscan_find(op->value, op->value_n, f, 2, NULL) != 0 || !f[1].value.p)
        return -1;
    if (max_age_ms >= 0) {
        char num[64];
        snprintf(num, sizeof num, "%.*s", (int)MIN(f[0].value.n, sizeof num - 1),
                 f[0].value.p ? f[0].value.p : "0");
        double age_ms = (double)wall_ms() - strtod(num, NULL) * 1000;
        if (age_ms > (double)max_age_ms)
            return -1;
    }
    if (f[1].value.p[0] == '"') {
        if (jscan_string_decode(f[1].value, dec) < 0)
            return -1;
        *body = str_make(dec->p ? dec->p : "", dec->n);
    } else {
        *body = f[1].value;
    }
    return 0;
}

static void admin_answer(cache_redis_op_t *op);

static void on_cache_wake(uv_async_t *a)
{
    api_worker_t *w = a->data;
    cache_redis_op_t *op = cache_redis_inbox_take(w->cache_inbox);
    while (op) {
        cache_redis_op_t *next = op->next;
        if (op->admin) {
            admin_answer(op);
            op = next;
            continue;
        }
        cache_wait_t *wait = op->user;
        http_req_t *req = wait->req;
        if (req) {
            req->on_abort = NULL;
            buf_t dec = {0}, sse = {0};
            str_t body;
            const api_caller_t *c = req->caller;
            if (op->hit && redis_value_body(op, wait->max_age_ms, &dec, &body) == 0 &&
                hit_prepare(wait->call.call_type, wait->call.stream, body, &sse) == 0) {
                if (wait->call.drop)
                    wait->call.drop(wait->call.arg);
                answer_hit(req, wait->call.group, c->cache_key, body, "application/json", &sse);
            } else {
                wait->call.go(wait->call.arg);
            }
            buf_free(&sse);
            buf_free(&dec);
        }
        free(wait);
        cache_redis_op_free(op);
        op = next;
    }
}

void api_worker_cache_init(api_worker_t *w, uv_loop_t *loop)
{
    cache_redis_t *r = w->ctx->cache_redis;
    if (!r)
        return;
    uv_async_init(loop, &w->cache_wake, on_cache_wake);
    w->cache_wake.data = w;
    w->cache_inbox = cache_redis_inbox_open(r, w->index, &w->cache_wake);
    if (!w->cache_inbox)
        uv_close((uv_handle_t *)&w->cache_wake, NULL);
}

void api_worker_cache_close(api_worker_t *w)
{
    if (!w->cache_inbox)
        return;
    cache_redis_inbox_close(w->cache_inbox);
    w->cache_inbox = NULL;
    uv_close((uv_handle_t *)&w->cache_wake, NULL);
}

/* ---- the hooks ---- */

int api_cache_lookup(http_req_t *req, const api_cache_call_t *call)
{
    const route_group_t *group = call->group;
    bool stream = call->stream;
    api_worker_t *w = req->server_data;
    api_caller_t *c = req->caller;
    const cfg_t *cfg = api_req_gen(req)->cfg;
    if (!c)
        return 0;
    cache_member_t cm = {STR_NULL, STR_NULL};
    jscan_object(req->body.p, req->body.n, find_cache_member, &cm, NULL);
    cache_controls_t ctl;
    if (cache_controls_parse(cm.value, &ctl) < 0)
        ctl = (cache_controls_t){.ttl_s = -1, .s_maxage_s = -1};
    if (cm.member.p && api_body_remove_member(req, cm.member, call->model_raw) < 0)
        return 0;
    for (int i = 0; i < 2; i++) /* LiteLLM's own parameter: the provider never sees it */
        if (call->docs[i])
            cJSON_DeleteItemFromObjectCaseSensitive(call->docs[i], "cache");
    buf_t ns = {0};
    if (ctl.namespace_.p)
        jscan_string_decode(ctl.namespace_, &ns);
    str_t namespace_ = ns.p ? str_make(ns.p, ns.n)
                            : (cfg->cache_namespace ? str_cstr(cfg->cache_namespace) : STR_NULL);
    /* the prompt members of the Anthropic and Responses bodies that LiteLLM's OpenAI parameter
     * list misses: keyed too, so two calls that differ only there never share an answer */
    static const char *const messages_extra[] = {"system", "stop_sequences", "top_k", "thinking",
                                                 NULL};
    static const char *const responses_extra[] = {
        "instructions",      "previous_response_id", "conversation", "text",       "reasoning",
        "max_output_tokens", "max_tool_calls",       "truncation",   "background", NULL};
    const char *const *extra = call->call_type == CFG_CACHE_CALL_MESSAGES    ? messages_extra
                               : call->call_type == CFG_CACHE_CALL_RESPONSES ? responses_extra
                                                                             : NULL;
    char key[CACHE_KEY_MAX];
    int rc =
        cache_key_extra(req->body.p, req->body.n, str_cstr(group->name), namespace_, extra, key);
    buf_free(&ns);
    if (rc < 0)
        return 0;
    c->cache_key = arena_printf(&req->arena, "%s", key);
    if (!c->cache_key)
        return 0;
    c->cache_call = call->call_type;
    /* LiteLLM's should_use_cache and _is_call_type_supported_by_cache: the key is still
     * computed (SpendLogs records it, cache_hit "False"), nothing is read or written. A
     * Responses stream is not replayed from the cache here (LiteLLM builds its events anew). */
    unsigned types = cfg->cache_call_types_set ? cfg->cache_call_types : CFG_CACHE_CALL_ALL;
    if (!(types & call->call_type) || (cfg->cache_default_off && !ctl.use_cache) ||
        (stream && call->call_type == CFG_CACHE_CALL_RESPONSES)) {
        c->cache_store = false;
        return 0;
    }
    /* a stream's key holds `stream: True` (LiteLLM's key does): its entries are its own */
    c->cache_store = !ctl.no_store;
    double ttl = ctl.ttl_s >= 0 ? ctl.ttl_s : cfg->cache_ttl_s;
    c->cache_ttl_ms = (int64_t)(ttl * 1000);
    if (ctl.no_cache)
        return 0;
    int64_t max_age = ctl.s_maxage_s >= 0 ? (int64_t)(ctl.s_maxage_s * 1000) : -1;
    if (w->ctx->cache_redis) {
        if (!w->cache_inbox)
            return 0;
        cache_wait_t *wait = malloc(sizeof *wait);
        if (!wait)
            return 0;
        *wait = (cache_wait_t){req, *call, max_age};
        if (cache_redis_get(w->ctx->cache_redis, w->cache_inbox, c->cache_key, wait) < 0) {
            free(wait);
            return 0;
        }
        req->user = wait;
        req->on_abort = cache_wait_on_abort;
        return 1;
    }
    cache_entry_t *e = cache_get(w->ctx->cache, key, wall_ms(), max_age);
    if (!e)
        return 0;
    buf_t sse = {0};
    if (hit_prepare(call->call_type, stream, cache_entry_body(e), &sse) < 0) {
        cache_entry_release(e);
        return 0;
    }
    log_debug("cache hit %s (%s)", key, group->name);
    if (call->drop)
        call->drop(call->arg);
    answer_hit(req, group, c->cache_key, cache_entry_body(e), cache_entry_content_type(e), &sse);
    buf_free(&sse);
    cache_entry_release(e);
    return 1;
}

void api_cache_store(http_req_t *req, str_t content_type, const char *body, size_t n)
{
    api_worker_t *w = req->server_data;
    const api_caller_t *c = req->caller;
    if (!c || !c->cache_key || !c->cache_store || c->cache_ttl_ms <= 0)
        return;
    if (w->ctx->cache_redis) {
        /* LiteLLM's value: the response as JSON text inside {"timestamp", "response"} */
        buf_t v = {0};
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        buf_printf(&v, "{\"timestamp\": %lld.%06ld, \"response\": ", (long long)ts.tv_sec,
                   ts.tv_nsec / 1000);
        buf_append_json_string(&v, str_make(body, n));
        if (buf_append_cstr(&v, "}") == 0)
            cache_redis_set(w->ctx->cache_redis, c->cache_key, v.p, v.n, c->cache_ttl_ms);
        buf_free(&v);
        return;
    }
    if (!w->ctx->cache)
        return;
    char ct[64];
    snprintf(ct, sizeof ct, "%.*s", content_type.p ? (int)content_type.n : 16,
             content_type.p ? content_type.p : "application/json");
    cache_put(w->ctx->cache, c->cache_key, ct, body, n, wall_ms(), c->cache_ttl_ms);
}

bool api_cache_stream_wanted(http_req_t *req)
{
    const api_caller_t *c = req->caller;
    return c && c->cache_key && c->cache_store && c->cache_ttl_ms > 0 &&
           (c->cache_call & (CFG_CACHE_CALL_CHAT | CFG_CACHE_CALL_TEXT | CFG_CACHE_CALL_MESSAGES));
}

void api_cache_store_stream(http_req_t *req, const char *sse, size_t n)
{
    const api_caller_t *c = req->caller;
    buf_t body = {0};
    int rc = c->cache_call == CFG_CACHE_CALL_TEXT       ? cache_text_stream_assemble(sse, n, &body)
             : c->cache_call == CFG_CACHE_CALL_MESSAGES ? cache_events_wrap(sse, n, &body)
                                                        : cache_stream_assemble(sse, n, &body);
    if (rc == 0)
        api_cache_store(req, STR_LIT("application/json"), body.p, body.n);
    else
        log_debug("response cache: the stream could not be rebuilt; not stored");
    buf_free(&body);
}

/* ---- the key's allowed_cache_controls (LiteLLM's _PROXY_CacheControlCheck) ---- */

typedef struct {
    const char *const *allowed;
    size_t n;
    char refused[64];
} controls_check_t;

static int control_refused(void *arg, str_t name)
{
    controls_check_t *k = arg;
    for (size_t i = 0; i < k->n; i++)
        if (str_eq_cstr(name, k->allowed[i]))
            return 0;
    snprintf(k->refused, sizeof k->refused, "%.*s", (int)MIN(name.n, sizeof k->refused - 1),
             name.p);
    return 1;
}

int api_cache_controls_check(http_req_t *req, const char *const *allowed, size_t n_allowed,
                             bool anthropic)
{
    if (!n_allowed || !req->body.n || !memmem(req->body.p, req->body.n, "\"cache\"", 7))
        return 0; /* an empty list allows everything (LiteLLM reads [] as unset) */
    cache_member_t cm = {STR_NULL, STR_NULL};
    jscan_object(req->body.p, req->body.n, find_cache_member, &cm, NULL);
    controls_check_t k = {allowed, n_allowed, ""};
    if (!cache_controls_each(cm.value, control_refused, &k))
        return 0;
    char msg[160];
    snprintf(msg, sizeof msg,
             "Not allowed to set %s as a cache control. Contact admin to change permissions.",
             k.refused);
    api_send_error_as(req, anthropic, 403, "None", "None", msg);
    return 1;
}

/* ---- /cache/ping, /cache/delete, /cache/flushall (LiteLLM's caching_routes.py) ---- */

typedef struct {
    http_req_t *req; /* NULL: the client went away */
    int admin;
    char *params; /* /cache/ping: litellm_cache_params (malloc'd) */
} admin_wait_t;

static void send_detail(http_req_t *req, int status, const char *detail)
{
    buf_t b = {0};
    buf_append_cstr(&b, "{\"detail\":");
    buf_append_json_string(&b, str_cstr(detail));
    buf_append_cstr(&b, "}");
    http_resp_send(req, status, "application/json", b.p, b.n);
    buf_free(&b);
}

/* LiteLLM answers /cache/ping's failures with a ProxyException whose message is the JSON text
 * of {"message": "Service Unhealthy (<why>)", "litellm_cache_params", ...}. */
static void send_ping_error(http_req_t *req, const char *why, const char *params)
{
    buf_t m = {0}, w = {0};
    buf_printf(&w, "Service Unhealthy (%s)", why);
    buf_append_cstr(&m, "{\"message\": ");
    buf_append_json_string(&m, str_make(w.p, w.n));
    buf_append_cstr(&m, ", \"litellm_cache_params\": ");
    buf_append_json_string(&m, str_cstr(params ? params : "{}"));
    buf_append_cstr(&m, ", \"health_check_cache_params\": \"{}\"}");
    char *text = arena_strndup(&req->arena, m.p ? m.p : "", m.n);
    api_send_error(req, 503, "cache_ping_error", "cache_ping", text ? text : "Service Unhealthy");
    buf_free(&m);
    buf_free(&w);
}

/* vars(litellm.cache) as /cache/ping shows it (json.dumps text): sluice's settings under
 * LiteLLM's names. malloc'd. */
static char *cache_params_text(const api_ctx_t *ctx, const cfg_t *cfg)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{CFG_CACHE_CALL_CHAT, "acompletion"},
                 {CFG_CACHE_CALL_TEXT, "atext_completion"},
                 {CFG_CACHE_CALL_EMBEDDING, "aembedding"},
                 {CFG_CACHE_CALL_RESPONSES, "aresponses"},
                 {CFG_CACHE_CALL_MESSAGES, "aanthropic_messages"}};
    unsigned types = cfg->cache_call_types_set ? cfg->cache_call_types : CFG_CACHE_CALL_ALL;
    buf_t b = {0};
    buf_append_cstr(&b, "{\"supported_call_types\": [");
    bool first = true;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (types & names[i].bit) {
            buf_printf(&b, "%s\"%s\"", first ? "" : ", ", names[i].name);
            first = false;
        }
    buf_printf(&b, "], \"type\": \"%s\", \"namespace\": ", ctx->cache_redis ? "redis" : "local");
    if (cfg->cache_namespace)
        buf_append_json_string(&b, str_cstr(cfg->cache_namespace));
    else
        buf_append_cstr(&b, "null");
    buf_printf(&b, ", \"redis_flush_size\": null, \"ttl\": %g, \"mode\": \"%s\"}", cfg->cache_ttl_s,
               cfg->cache_default_off ? "default_off" : "default_on");
    char *s = b.p ? strndup(b.p, b.n) : NULL;
    buf_free(&b);
    return s;
}

static void admin_wait_on_abort(http_req_t *req)
{
    admin_wait_t *wait = req->user;
    wait->req = NULL; /* the answer frees it */
}

static void admin_answer(cache_redis_op_t *op)
{
    admin_wait_t *wait = op->user;
    http_req_t *req = wait->req;
    const char *why = op->value ? op->value : "Redis failed";
    if (req) {
        req->on_abort = NULL;
        if (wait->admin == CACHE_REDIS_PING) {
            if (!op->hit) {
                send_ping_error(req, why, wait->params);
            } else {
                api_worker_t *w = req->server_data;
                buf_t b = {0};
                buf_append_cstr(&b, "{\"status\":\"healthy\",\"cache_type\":\"redis\","
                                    "\"ping_response\":true,\"set_cache_response\":\"success\","
                                    "\"litellm_cache_params\":");
                buf_append_json_string(&b, str_cstr(wait->params ? wait->params : "{}"));
                buf_append_cstr(&b, ",\"health_check_cache_params\":{\"host\":");
                buf_append_json_string(&b, str_cstr(cache_redis_host(w->ctx->cache_redis)));
                buf_printf(&b, ",\"port\":%d,\"redis_kwargs\":{},\"namespace\":",
                           cache_redis_port(w->ctx->cache_redis));
                const cfg_t *cfg = api_gen_current(w->ctx)->cfg;
                if (cfg->cache_namespace)
                    buf_append_json_string(&b, str_cstr(cfg->cache_namespace));
                else
                    buf_append_cstr(&b, "null");
                buf_append_cstr(&b, ",\"redis_version\":null}}");
                http_resp_send(req, 200, "application/json", b.p, b.n);
                buf_free(&b);
            }
        } else if (op->hit) {
            static const char ok[] = "{\"status\":\"success\"}";
            http_resp_send(req, 200, "application/json", ok, sizeof ok - 1);
        } else if (wait->admin == CACHE_REDIS_DEL) {
            char *d = arena_printf(&req->arena, "Cache Delete Failed(%s)", why);
            send_detail(req, 500, d ? d : "Cache Delete Failed");
        } else {
            char *d = arena_printf(&req->arena, "Service Unhealthy (%s)", why);
            send_detail(req, 503, d ? d : "Service Unhealthy");
        }
    }
    free(wait->params);
    free(wait);
    cache_redis_op_free(op);
}

/* /cache/delete's {"keys": [...]} as NUL-separated names. 0, or -1 when it is not such a list. */
static int delete_keys(str_t body, buf_t *out)
{
    cJSON *doc = cJSON_ParseWithLength(body.p, body.n);
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(doc, "keys"), *k;
    int rc = cJSON_IsArray(keys) ? 0 : -1;
    cJSON_ArrayForEach(k, keys)
    {
        if (!cJSON_IsString(k) || buf_append(out, k->valuestring, strlen(k->valuestring) + 1) < 0)
            rc = -1;
    }
    cJSON_Delete(doc);
    return rc;
}

void api_cache_route(http_req_t *req, str_t path)
{
    api_worker_t *w = req->server_data;
    const api_ctx_t *ctx = w->ctx;
    auth_identity_t who;
    auth_status_t st = auth_check(ctx->master_key, &req->head, &who);
    if (st != AUTH_OK || !who.is_admin) {
        api_send_error(req, 401, "auth_error", "None",
                       auth_error_message(st != AUTH_OK ? st : AUTH_BAD_KEY, who.key));
        return;
    }
    int admin = str_eq_cstr(path, "/cache/ping")     ? CACHE_REDIS_PING
                : str_eq_cstr(path, "/cache/delete") ? CACHE_REDIS_DEL
                                                     : CACHE_REDIS_FLUSHALL;
    static const char no_cache[] = "503: Cache not initialized. litellm.cache is None";
    const cfg_t *cfg = api_gen_current(ctx)->cfg;
    if (!ctx->cache_on) {
        if (admin == CACHE_REDIS_PING)
            send_ping_error(req, no_cache, "{}");
        else if (admin == CACHE_REDIS_DEL)
            send_detail(req, 500,
                        "Cache Delete Failed(503: Cache not initialized. litellm.cache is None)");
        else
            send_detail(req, 503,
                        "Service Unhealthy (503: Cache not initialized. "
                        "litellm.cache is None)");
        return;
    }
    char *params = cache_params_text(ctx, cfg);
    if (!ctx->cache_redis) {
        /* LiteLLM's in-memory cache answers ping, and refuses the rest */
        if (admin == CACHE_REDIS_PING) {
            buf_t b = {0};
            buf_append_cstr(&b, "{\"status\":\"healthy\",\"cache_type\":\"local\","
                                "\"ping_response\":null,\"set_cache_response\":null,"
                                "\"litellm_cache_params\":");
            buf_append_json_string(&b, str_cstr(params ? params : "{}"));
            buf_append_cstr(&b, ",\"health_check_cache_params\":null}");
            http_resp_send(req, 200, "application/json", b.p, b.n);
            buf_free(&b);
        } else if (admin == CACHE_REDIS_DEL) {
            send_detail(req, 500,
                        "Cache Delete Failed(500: Cache type local does not support deleting a "
                        "key. only `redis` is supported)");
        } else {
            send_detail(req, 503,
                        "Service Unhealthy (500: Cache type local does not support flushing)");
        }
        free(params);
        return;
    }
    buf_t value = {0};
    char key[CACHE_KEY_MAX] = "";
    int64_t ttl_ms = 0;
    if (admin == CACHE_REDIS_DEL && delete_keys(req->body, &value) < 0) {
        send_detail(req, 500, "Cache Delete Failed(keys must be a list of cache keys)");
        buf_free(&value);
        free(params);
        return;
    }
    if (admin == CACHE_REDIS_PING) {
        /* LiteLLM's ping then writes "test_key" as the answer to a test-model call */
        static const char body[] =
            "{\"model\":\"test-model\",\"messages\":[{\"role\":\"user\",\"content\":\"test from "
            "litellm\"}]}";
        cache_key(body, sizeof body - 1, STR_LIT("test-model"),
                  cfg->cache_namespace ? str_cstr(cfg->cache_namespace) : STR_NULL, key);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        buf_printf(&value, "{\"timestamp\": %lld.%06ld, \"response\": \"test_key\"}",
                   (long long)ts.tv_sec, ts.tv_nsec / 1000);
        ttl_ms = (int64_t)(cfg->cache_ttl_s * 1000);
    }
    admin_wait_t *wait = malloc(sizeof *wait);
    if (!wait || !w->cache_inbox ||
        cache_redis_admin(ctx->cache_redis, w->cache_inbox, admin, key, value.p, value.n, ttl_ms,
                          wait) < 0) {
        free(wait);
        free(params);
        buf_free(&value);
        api_send_error(req, 500, "internal_server_error", NULL, "out of memory");
        return;
    }
    buf_free(&value);
    *wait = (admin_wait_t){req, admin, params};
    req->user = wait;
    req->on_abort = admin_wait_on_abort;
}
