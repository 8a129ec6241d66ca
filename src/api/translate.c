/* SPDX-License-Identifier: MIT
 * A call that needs translation: a native provider behind any client format, or an Anthropic or
 * Responses client in front of an OpenAI-wire provider. The client's request arrives here as the
 * canonical OpenAI chat request; the provider's adapter builds the upstream request and decodes
 * the answer into canonical chat objects; the client's format encodes those, whole or streamed.
 * Retries, errors and headers follow the same rules as the pass-through path. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/format.h"
#include "api/translate.h"
#include "core/common.h"
#include "core/log.h"

#define MAX_RESPONSE_BYTES (256u * 1024 * 1024)
#define MAX_QUEUED_BYTES (1u << 20)

extern const prov_adapter_t prov_adapter_openai; /* providers/openai_wire.c */

typedef struct {
    http_req_t *req;
    api_worker_t *w;
    const api_format_t *fmt;
    api_kind_t kind;
    cJSON *client_req; /* owned */
    cJSON *chat_req;   /* owned */
    const route_group_t *group;
    str_t model;
    bool stream;
    route_target_t target;
    const prov_adapter_t *adapter;
    prov_ctx_t pctx;
    prov_http_t http;
    up_req_t *up;
    int attempt, max_retries, status;
    bool started, failed_stream;
    bool include_usage; /* the client asked for stream_options.include_usage */
    buf_t body;         /* non-stream answer or error body */
    buf_t out;          /* encoded client bytes being written */
    bool cache_sse;     /* a stream kept for the response cache: its canonical chunks, in sse */
    buf_t sse;
    prov_stream_t *pstream;
    api_stream_enc_t *enc;
    uint64_t up_start_ns, up_head_ns, up_total_ns;
    api_usage_t usage; /* from the canonical answer, for cost and spend */
    api_retry_t retry; /* a 429's back-off before the next attempt */
    api_fallback_t fb; /* the groups tried after this one gives up */
    char call_id[37];
} xcall_t;

/* Cost and the SpendLogs record of a finished call. */
static double xcall_account(xcall_t *x, bool success, bool header)
{
    api_call_end_t end = {
        .call_id = x->call_id,
        .group = x->group,
        .target = x->target.dep ? &x->target : NULL,
        .usage = &x->usage,
        .success = success,
        .first_byte_ns = x->up_head_ns,
    };
    double cost = api_call_cost(api_req_gen(x->req), &end);
    if (header && cost >= 0) {
        char num[SPEND_COST_BUF];
        spend_format_cost(cost, num, sizeof num);
        http_resp_header_cstr(x->req, "x-litellm-response-cost", num);
    }
    api_call_record(x->req, &end, cost);
    return cost;
}

static void xcall_attempt(xcall_t *x);

static void xcall_release(xcall_t *x)
{
    api_retry_cancel(&x->retry);
    if (x->up) {
        up_cancel(x->up);
        x->up = NULL;
        api_call_ended(x->w, x->target.dep, 0);
    }
    if (x->pstream) {
        x->adapter->stream_free(x->pstream);
        x->pstream = NULL;
    }
    if (x->enc) {
        x->fmt->stream_free(x->enc);
        x->enc = NULL;
    }
    buf_free(&x->http.body);
    buf_free(&x->body);
    buf_free(&x->out);
    buf_free(&x->sse);
    cJSON_Delete(x->client_req);
    cJSON_Delete(x->chat_req);
    x->client_req = x->chat_req = NULL;
}

static void xcall_on_abort(http_req_t *req)
{
    xcall_release(req->user);
}

static void xcall_headers(xcall_t *x)
{
    http_req_t *req = x->req;
    http_resp_header_cstr(req, "x-litellm-call-id", x->call_id);
    if (x->target.dep) {
        http_resp_header_cstr(req, "x-litellm-model-id", x->target.dep->cfg->id);
        if (x->group->wildcard)
            http_resp_header(req, STR_LIT("x-litellm-model-group"), x->model);
        else
            http_resp_header_cstr(req, "x-litellm-model-group", x->group->name);
        if (x->pctx.api_base && *x->pctx.api_base)
            http_resp_header_cstr(req, "x-litellm-model-api-base", x->pctx.api_base);
    }
    http_resp_header_cstr(req, "x-litellm-version", SLUICE_VERSION);
    api_caller_headers(req);
    char num[32];
    buf_t nb = {num, 0, sizeof num};
    buf_append_u64(&nb, (unsigned)x->attempt);
    http_resp_header(req, STR_LIT("x-litellm-attempted-retries"), str_make(num, nb.n));
    api_fallback_header(req, &x->fb);
    uint64_t now = uv_hrtime(), total = now - req->start_ns;
    uint64_t upstream = x->up_total_ns;
    if (x->up_start_ns && x->up_head_ns > x->up_start_ns)
        upstream += x->up_head_ns - x->up_start_ns;
    nb.n = 0;
    buf_append_ms(&nb, total);
    http_resp_header(req, STR_LIT("x-litellm-response-duration-ms"), str_make(num, nb.n));
    nb.n = 0;
    buf_append_ms(&nb, total - MIN(upstream, total));
    http_resp_header(req, STR_LIT("x-litellm-overhead-duration-ms"), str_make(num, nb.n));
}

/* Sends an error in the client's format, with LiteLLM's status and message, and ends the call. */
static void xcall_fail(xcall_t *x, int status, const char *type, const char *message)
{
    http_req_t *req = x->req;
    const api_format_t *fmt = x->fmt;
    xcall_headers(x);
    buf_t b = {0};
    fmt->error_body(status, type, message, &b);
    xcall_release(x);
    http_resp_send(req, status, "application/json", b.p, b.n);
    buf_free(&b);
}

static const char *exception_class(int status, int result)
{
    if (result == UP_ERR_TIMEOUT || status == 408)
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
    case 422:
        return "UnprocessableEntityError";
    case 429:
        return "RateLimitError";
    case 503:
    case 529:
        return "ServiceUnavailableError";
    default:
        return status >= 500 ? "InternalServerError" : "BadRequestError";
    }
}

static const char *error_type(int status)
{
    return status == 429   ? "throttling_error"
           : status == 401 ? "auth_error"
           : status >= 500 ? "internal_server_error"
                           : "invalid_request_error";
}

static void xcall_upstream_error(xcall_t *x, int result, const char *message)
{
    char label[64];
    const char *name = x->target.prov ? x->target.prov->name : "openai";
    snprintf(label, sizeof label, "%s", strcmp(name, "openai") == 0 ? "OpenAI" : name);
    if (label[0] >= 'a' && label[0] <= 'z')
        label[0] = (char)(label[0] - 'a' + 'A');
    int status = result == UP_OK ? x->status : result == UP_ERR_TIMEOUT ? 408 : 500;
    const char *cls = exception_class(status, result);
    buf_t msg = {0};
    if (result == UP_OK) {
        buf_t detail = {0};
        if (x->adapter->error_message)
            x->adapter->error_message(x->status, str_make(x->body.p, x->body.n), &detail);
        else
            buf_append(&detail, x->body.p, MIN(x->body.n, (size_t)1000));
        buf_append(&detail, "", 1);
        buf_printf(&msg, "litellm.%s: %s: %sException - %s", cls, cls, label, detail.p);
        buf_free(&detail);
    } else {
        buf_printf(&msg, "litellm.%s: %sException - %s (%s). model_group=%s, deployment=%s", cls,
                   label, result == UP_ERR_TIMEOUT ? "Request timed out" : "Connection error",
                   message, x->group->name, x->target.dep->cfg->id);
    }
    if (x->attempt > 0)
        buf_printf(&msg, " LiteLLM Retried: %d times", x->attempt);
    buf_append(&msg, "", 1);
    log_info("%s: %s call to %s failed: %s", x->call_id, x->group->name, x->target.dep->cfg->id,
             msg.p);
    xcall_fail(x, status, error_type(status), msg.p);
    buf_free(&msg);
}

/* ---- streaming ---------------------------------------------------------------------------- */

/* Writes what the encoder produced at the end of a stream. */
static void xcall_write(xcall_t *x)
{
    if (x->out.n)
        http_resp_stream_write(x->req, x->out.p, x->out.n);
    x->out.n = 0;
}

static void xcall_on_drain(http_req_t *req)
{
    xcall_t *x = req->user;
    up_pause(x->up, false);
}

/* One canonical chunk from the adapter: encode it for the client. */
static int xcall_emit(void *arg, str_t chunk_json)
{
    xcall_t *x = arg;
    api_usage_scan(&x->usage, chunk_json.p, chunk_json.n);
    if (x->cache_sse &&
        (x->sse.n + chunk_json.n + 8 > API_CACHE_STREAM_MAX ||
         buf_append(&x->sse, "data: ", 6) < 0 || buf_append_str(&x->sse, chunk_json) < 0 ||
         buf_append(&x->sse, "\n\n", 2) < 0)) {
        x->cache_sse = false; /* too long to keep: this stream is not stored */
        buf_free(&x->sse);
    }
    if (x->fmt == &api_format_openai) {
        if (!x->include_usage && memmem(chunk_json.p, chunk_json.n, "\"usage\"", 7)) {
            /* OpenAI sends usage in a stream only when asked: drop it (and a chunk that
             * carried nothing else) */
            cJSON *c = cJSON_ParseWithLength(chunk_json.p, chunk_json.n);
            if (!c)
                return -1;
            cJSON_DeleteItemFromObjectCaseSensitive(c, "usage");
            const cJSON *choices = cJSON_GetObjectItemCaseSensitive(c, "choices");
            if (cJSON_IsArray(choices) && cJSON_GetArraySize(choices) == 0) {
                cJSON_Delete(c);
                return 0;
            }
            char *text = cJSON_PrintUnformatted(c);
            cJSON_Delete(c);
            if (!text)
                return -1;
            buf_append(&x->out, "data: ", 6);
            buf_append_cstr(&x->out, text);
            buf_append(&x->out, "\n\n", 2);
            free(text);
            return 0;
        }
        buf_append(&x->out, "data: ", 6);
        buf_append_str(&x->out, chunk_json);
        buf_append(&x->out, "\n\n", 2);
        return 0;
    }
    cJSON *chunk = cJSON_ParseWithLength(chunk_json.p, chunk_json.n);
    if (!chunk)
        return -1;
    int r = x->fmt->stream_chunk(x->enc, chunk, &x->out);
    cJSON_Delete(chunk);
    return r;
}

/* A stream failed after it started: the client gets its format's error event, in the provider's
 * words when the adapter has them ("overloaded_error: Overloaded"). */
static void xcall_stream_failed(xcall_t *x, const char *fallback)
{
    const char *said = x->adapter->stream_error ? x->adapter->stream_error(x->pstream) : NULL;
    char text[512];
    const char *name = x->target.prov ? x->target.prov->name : "openai";
    if (said)
        snprintf(text, sizeof text, "litellm.APIError: %c%sException - %s",
                 name[0] >= 'a' && name[0] <= 'z' ? name[0] - 'a' + 'A' : name[0], name + 1, said);
    else
        snprintf(text, sizeof text, "%s", fallback);
    x->fmt->stream_error(x->enc, said ? 500 : 502, text, &x->out);
}

static void on_head(void *arg, int status, const up_header_t *headers, size_t n)
{
    xcall_t *x = arg;
    x->status = status;
    x->up_head_ns = uv_hrtime();
    if (status == 429)
        api_retry_note_head(&x->retry, headers, n);
    if (status < 200 || status >= 300 || !x->stream)
        return;
    x->pstream = x->adapter->stream_new(&x->pctx);
    x->enc = x->fmt->stream_new(x->client_req, x->model);
    if (!x->pstream || !x->enc)
        return; /* on_data sees no decoder and the call fails at the end */
    xcall_headers(x);
    http_resp_header_cstr(x->req, "cache-control", "no-cache");
    http_resp_stream_start(x->req, 200, "text/event-stream");
    x->started = true;
}

static void on_data(void *arg, const char *p, size_t n)
{
    xcall_t *x = arg;
    if (!x->started) {
        if (x->body.n + n > MAX_RESPONSE_BYTES || buf_append(&x->body, p, n) < 0)
            xcall_fail(x, 502, "internal_server_error",
                       "litellm.APIError: the provider's answer is larger than 256 MB");
        return;
    }
    if (x->failed_stream)
        return;
    if (x->adapter->stream_feed(x->pstream, p, n, xcall_emit, x) < 0) {
        x->failed_stream = true;
        xcall_stream_failed(x, "the provider's stream could not be decoded");
    }
    ssize_t q = x->out.n ? http_resp_stream_write(x->req, x->out.p, x->out.n) : 0;
    x->out.n = 0;
    if (q < 0) {
        http_req_t *req = x->req;
        xcall_release(x);
        http_req_drop(req);
        return;
    }
    if ((size_t)q > MAX_QUEUED_BYTES && x->up) {
        up_pause(x->up, true);
        x->req->on_drain = xcall_on_drain;
    }
}

/* OpenAI clients ask for base64 embeddings by default (the Node SDK does); native providers
 * answer floats, so the gateway packs them: little-endian float32, base64. */
static int embeddings_to_base64(buf_t *canon)
{
    cJSON *doc = cJSON_ParseWithLength(canon->p ? canon->p : "", canon->n);
    cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
    if (!cJSON_IsArray(data)) {
        cJSON_Delete(doc);
        return -1;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, data)
    {
        cJSON *emb = cJSON_GetObjectItemCaseSensitive(item, "embedding");
        if (!cJSON_IsArray(emb))
            continue;
        int n = cJSON_GetArraySize(emb);
        unsigned char *raw = malloc((size_t)n * 4 + 1);
        char *text = malloc(((size_t)n * 4 + 2) / 3 * 4 + 1);
        if (!raw || !text) {
            free(raw);
            free(text);
            cJSON_Delete(doc);
            return -1;
        }
        int i = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, emb)
        {
            float f = (float)v->valuedouble;
            uint32_t bits;
            memcpy(&bits, &f, 4);
            for (int k = 0; k < 4; k++)
                raw[i * 4 + k] = (unsigned char)(bits >> (8 * k));
            i++;
        }
        EVP_EncodeBlock((unsigned char *)text, raw, n * 4);
        cJSON_ReplaceItemInObjectCaseSensitive((cJSON *)item, "embedding",
                                               cJSON_CreateString(text));
        free(raw);
        free(text);
    }
    char *out = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!out)
        return -1;
    canon->n = 0;
    buf_append_cstr(canon, out);
    free(out);
    return 0;
}

/* A 429's back-off ended: the next attempt. */
static void xcall_retry_fire(void *arg)
{
    xcall_attempt(arg);
}

/* The group gave up: the call moves to the next fallback group, if any. Any group will do:
 * the adapter is chosen per attempt. */
static bool xcall_fall_back(xcall_t *x, int result)
{
    const char *name = NULL;
    const route_group_t *g =
        api_fallback_next(x->req, &x->fb, x->group, result, x->status,
                          str_make(x->body.p ? x->body.p : "", x->body.n), NULL, &name);
    if (!g)
        return false;
    log_info("%s: %s gave up (status %d); falling back to %s", x->call_id, x->group->name,
             x->status, name);
    x->group = g;
    x->model = str_cstr(name);
    x->attempt = 0;
    x->max_retries = g->deployments[0]->num_retries;
    x->body.n = 0;
    buf_free(&x->http.body);
    xcall_attempt(x);
    return true;
}

static void on_done(void *arg, int result, const char *message)
{
    xcall_t *x = arg;
    http_req_t *req = x->req;
    x->up = NULL;
    bool answered = result == UP_OK && x->status < 400 && x->up_head_ns > x->up_start_ns;
    api_call_ended(x->w, x->target.dep, answered ? x->up_head_ns - x->up_start_ns : 0);
    x->up_total_ns += uv_hrtime() - x->up_start_ns;
    x->up_start_ns = 0;
    if (x->started) {
        if (result != UP_OK && !x->failed_stream) {
            char text[400];
            snprintf(text, sizeof text, "litellm.APIConnectionError: stream from %s ended: %s",
                     x->target.dep->cfg->id, message);
            x->fmt->stream_error(x->enc, 500, text, &x->out);
        } else if (!x->failed_stream) {
            if (x->adapter->stream_end(x->pstream, xcall_emit, x) < 0)
                xcall_stream_failed(x, "the provider's stream ended malformed");
            else
                x->fmt->stream_end(x->enc, &x->out);
        }
        xcall_write(x);
        bool ok = result == UP_OK && !x->failed_stream;
        xcall_account(x, ok, false);
        if (x->cache_sse && ok && buf_append_cstr(&x->sse, "data: [DONE]\n\n") == 0)
            api_cache_store_stream(req, x->sse.p, x->sse.n);
        xcall_release(x);
        http_resp_stream_end(req);
        return;
    }
    if (result != UP_OK || x->status >= 400)
        api_attempt_failed(x->w, &x->target, result, x->status);
    if (api_retry_wanted(&x->retry, x->group, x->attempt, &x->max_retries, result, x->status,
                         str_make(x->body.p ? x->body.p : "", x->body.n))) {
        x->attempt++;
        x->body.n = 0;
        buf_free(&x->http.body);
        if (!api_retry_later(x->w, &x->retry, result, x->status, x->attempt, xcall_retry_fire, x))
            xcall_attempt(x);
        return;
    }
    if ((result != UP_OK || x->status >= 300) && xcall_fall_back(x, result))
        return;
    if (result != UP_OK || x->status >= 300) {
        xcall_account(x, false, false);
        xcall_upstream_error(x, result, message);
        return;
    }
    if (x->stream) {
        /* a 2xx that could not start a stream (no decoder) */
        xcall_fail(x, 500, "internal_server_error", "could not decode the provider's stream");
        return;
    }
    /* a whole answer: adapter -> canonical -> client format */
    buf_t canon = {0};
    prov_error_t err = {0};
    int rc =
        x->kind == API_EMBEDDINGS
            ? x->adapter->embed_response(&x->pctx, str_make(x->body.p, x->body.n), &canon, &err)
            : x->adapter->chat_response(&x->pctx, str_make(x->body.p, x->body.n), &canon, &err);
    if (rc != 0) {
        buf_free(&canon);
        xcall_fail(x, err.status ? err.status : 502, "internal_server_error",
                   err.message[0] ? err.message : "could not decode the provider's answer");
        return;
    }
    api_usage_scan(&x->usage, canon.p, canon.n);
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(x->chat_req, "encoding_format");
    if (x->kind == API_EMBEDDINGS && cJSON_IsString(enc) &&
        strcmp(enc->valuestring, "base64") == 0 && embeddings_to_base64(&canon) != 0) {
        buf_free(&canon);
        xcall_fail(x, 502, "internal_server_error", "could not encode the embeddings");
        return;
    }
    buf_t client = {0};
    if (x->fmt == &api_format_openai || x->kind == API_EMBEDDINGS) {
        client = canon;
        canon = (buf_t){0};
    } else {
        cJSON *doc = cJSON_ParseWithLength(canon.p ? canon.p : "", canon.n);
        if (!doc || x->fmt->from_chat(doc, x->client_req, x->model, &client) != 0) {
            cJSON_Delete(doc);
            buf_free(&canon);
            buf_free(&client);
            xcall_fail(x, 502, "internal_server_error", "could not encode the answer");
            return;
        }
        cJSON_Delete(doc);
    }
    buf_free(&canon);
    xcall_headers(x);
    xcall_account(x, true, true);
    xcall_release(x);
    if (x->w->ctx->cache_on)
        api_cache_store(req, STR_LIT("application/json"), client.p, client.n);
    http_resp_send(req, 200, "application/json", client.p, client.n);
    buf_free(&client);
}

static void xcall_attempt(xcall_t *x)
{
    http_req_t *req = x->req;
    const route_deployment_t *avoid = x->attempt ? x->target.dep : NULL;
    char msg[512];
    long long retry_after = 0;
    if (api_route_pick(req, x->group, x->model, avoid, &x->target, msg, sizeof msg, &retry_after) !=
        0) {
        /* no deployment can take the call: the fallbacks, as after spent retries */
        x->status = 429;
        x->body.n = 0;
        if (xcall_fall_back(x, UP_OK))
            return;
        api_retry_after_header(req, retry_after);
        xcall_fail(x, 429, "None", msg);
        return;
    }
    const prov_info_t *prov = x->target.prov;
    x->adapter = prov ? prov_adapter_find(str_cstr(prov->name)) : NULL;
    if (!x->adapter)
        x->adapter = &prov_adapter_openai; /* an OpenAI-wire provider */
    const route_deployment_t *d = x->target.dep;
    x->pctx = (prov_ctx_t){
        .dep = d->cfg,
        .prov = prov,
        .model = x->target.upstream_model,
        .api_base = x->target.api_base && *x->target.api_base ? x->target.api_base : NULL,
        .api_key = x->target.api_key,
        .stream = x->stream,
        .drop_params = api_req_gen(req)->cfg->drop_params,
        .arena = &req->arena,
    };
    x->http = (prov_http_t){0};
    prov_error_t err = {0};
    int rc;
    if (x->kind == API_EMBEDDINGS)
        rc = x->adapter->embed_request
                 ? x->adapter->embed_request(&x->pctx, x->chat_req, &x->http, &err)
                 : prov_fail(&err, 400, "model", "provider %s has no embeddings",
                             prov ? prov->name : "?");
    else
        rc = x->adapter->chat_request(&x->pctx, x->chat_req, &x->http, &err);
    if (rc != 0) {
        xcall_fail(x, err.status ? err.status : 400,
                   err.status >= 500 ? "internal_server_error" : "invalid_request_error",
                   err.message);
        return;
    }
    up_spec_t spec = {
        .method = x->http.method ? x->http.method : "POST",
        .url = x->http.url,
        .headers = x->http.headers,
        .timeout_ms = d->timeout_ms,
        .idle_timeout_ms = x->stream ? d->stream_timeout_ms : 0,
        .num_body = 1,
    };
    spec.body[0] = str_make(x->http.body.p, x->http.body.n);
    static const up_callbacks_t cb = {on_head, on_data, on_done};
    x->status = 0;
    x->up_start_ns = uv_hrtime();
    api_call_started(x->w, d);
    x->up = up_start(x->w->up, &spec, &cb, x);
    if (!x->up)
        api_call_ended(x->w, d, 0);
    if (!x->up)
        xcall_fail(x, 500, "internal_server_error",
                   "litellm.APIConnectionError: could not start the provider call (bad URL?)");
}

/* The call goes to the provider (after the response cache, when that has no answer). */
static void xcall_go(void *arg)
{
    xcall_t *x = arg;
    x->req->user = x;
    x->req->on_abort = xcall_on_abort;
    if (x->stream && x->w->ctx->cache_on && x->fmt == &api_format_openai && x->kind == API_CHAT)
        x->cache_sse = api_cache_stream_wanted(x->req);
    xcall_attempt(x);
}

/* The response cache answered (or the client left while it looked): the documents go. */
static void xcall_drop(void *arg)
{
    xcall_release(arg);
}

/* A call of the translated path, not started yet; NULL (the error answered) when out of memory.
 * Takes ownership of both documents. */
static xcall_t *xcall_new(http_req_t *req, const api_format_t *fmt, api_kind_t kind,
                          cJSON *client_req, cJSON *chat_req, const route_group_t *group,
                          str_t model, bool stream)
{
    xcall_t *x = arena_alloc(&req->arena, sizeof *x);
    if (!x) {
        cJSON_Delete(client_req);
        cJSON_Delete(chat_req);
        api_send_error(req, 500, "internal_server_error", NULL, "out of memory");
        return NULL;
    }
    memset(x, 0, sizeof *x);
    x->req = req;
    x->w = req->server_data;
    x->fmt = fmt;
    x->kind = kind;
    x->client_req = client_req;
    x->chat_req = chat_req;
    x->group = group;
    x->model = model;
    x->stream = stream && kind != API_EMBEDDINGS;
    x->max_retries = group->deployments[0]->num_retries;
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(chat_req, "stream_options");
    x->include_usage = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(so, "include_usage"));
    return x;
}

void api_translated_fallback(http_req_t *req, const api_format_t *fmt, api_kind_t kind,
                             cJSON *client_req, cJSON *chat_req, const route_group_t *group,
                             str_t model, bool stream, const api_fallback_t *fb,
                             const char *call_id)
{
    xcall_t *x = xcall_new(req, fmt, kind, client_req, chat_req, group, model, stream);
    if (!x)
        return;
    x->fb = *fb;
    snprintf(x->call_id, sizeof x->call_id, "%s", call_id);
    xcall_go(x);
}

/* The response cache's call type (supported_call_types) of a translated call. */
static unsigned api_cache_call_type(const api_format_t *fmt, api_kind_t kind)
{
    if (fmt == &api_format_anthropic)
        return CFG_CACHE_CALL_MESSAGES;
    if (fmt == &api_format_responses)
        return CFG_CACHE_CALL_RESPONSES;
    return kind == API_COMPLETIONS  ? CFG_CACHE_CALL_TEXT
           : kind == API_EMBEDDINGS ? CFG_CACHE_CALL_EMBEDDING
                                    : CFG_CACHE_CALL_CHAT;
}

void api_translated_call(http_req_t *req, const api_format_t *fmt, api_kind_t kind,
                         cJSON *client_req, cJSON *chat_req, const route_group_t *group,
                         str_t model, bool stream)
{
    api_worker_t *w = req->server_data;
    xcall_t *x = xcall_new(req, fmt, kind, client_req, chat_req, group, model, stream);
    if (!x)
        return;
    /* "fallbacks" is LiteLLM's own parameter: the provider never sees it */
    cJSON_DeleteItemFromObjectCaseSensitive(client_req, "fallbacks");
    if (api_fallback_take_json(req, &x->fb, chat_req) != 0) {
        xcall_release(x);
        api_send_error(req, 400, "invalid_request_error", "fallbacks",
                       "fallbacks must be a list of model names (or of {\"model\": name})");
        return;
    }
    api_call_id(w, x->call_id);
    if (w->ctx->cache_on &&
        api_cache_lookup(req, &(api_cache_call_t){.group = group,
                                                  .call_type = api_cache_call_type(fmt, kind),
                                                  .stream = x->stream,
                                                  .docs = {client_req, chat_req},
                                                  .go = xcall_go,
                                                  .drop = xcall_drop,
                                                  .arg = x}))
        return; /* answered from the response cache, or xcall_go runs when Redis misses */
    xcall_go(x);
}

bool api_group_is_native(const route_group_t *g, str_t model)
{
    for (size_t i = 0; i < g->num_deployments; i++) {
        const route_deployment_t *d = g->deployments[i];
        const prov_info_t *prov = d->prov;
        if (!prov && d->model_has_star) {
            /* a catch-all: the client's "provider/" prefix decides */
            const char *slash = memchr(model.p, '/', model.n);
            prov = slash ? prov_find(str_make(model.p, (size_t)(slash - model.p))) : NULL;
        }
        if (prov && !(prov->flags & PROV_OPENAI_COMPAT))
            return true;
    }
    return false;
}
