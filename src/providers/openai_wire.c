/* SPDX-License-Identifier: MIT
 * OpenAI-compatible providers as an adapter. The OpenAI client path splices bodies instead; this
 * serves the translated path, when an Anthropic or Responses client calls an OpenAI-wire
 * deployment: the canonical request goes out as JSON, answers come back unchanged. */
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/sse.h"
#include "providers/adapter.h"

struct prov_stream {
    sse_parser_t sse;
    prov_emit_fn emit;
    void *arg;
};

static const char **wire_headers(const prov_ctx_t *ctx)
{
    const char *lines[40];
    size_t n = 0;
    lines[n++] = "Content-Type: application/json";
    const prov_wire_t *w = ctx->prov ? ctx->prov->wire : NULL;
    if (ctx->api_key)
        lines[n++] = w && w->auth_header
                         ? w->auth_header(ctx->arena, ctx->dep, ctx->api_base, ctx->api_key)
                         : prov_header_line(ctx->arena, "Authorization",
                                            arena_printf(ctx->arena, "Bearer %s", ctx->api_key));
    if (ctx->dep && ctx->dep->organization)
        lines[n++] = prov_header_line(ctx->arena, "OpenAI-Organization", ctx->dep->organization);
    n += prov_extra_headers(ctx, lines + n, 32);
    return prov_headers(ctx->arena, lines, n);
}

static const char *wire_url(const prov_ctx_t *ctx, const char *suffix)
{
    const prov_wire_t *w = ctx->prov ? ctx->prov->wire : NULL;
    if (w && w->url)
        return w->url(ctx->arena, ctx->api_base, ctx->model,
                      ctx->dep ? ctx->dep->api_version : NULL, suffix);
    return arena_printf(ctx->arena, "%s%s", ctx->api_base ? ctx->api_base : "", suffix);
}

static int wire_request(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                        prov_error_t *err, const char *suffix)
{
    cJSON *copy = cJSON_Duplicate(req, 1);
    if (!copy)
        return prov_fail(err, 500, NULL, "out of memory");
    char *model = strndup(ctx->model.p ? ctx->model.p : "", ctx->model.n);
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "model");
    cJSON_AddStringToObject(copy, "model", model ? model : "");
    free(model);
    char *text = cJSON_PrintUnformatted(copy);
    cJSON_Delete(copy);
    if (!text)
        return prov_fail(err, 500, NULL, "out of memory");
    buf_append_cstr(&out->body, text);
    free(text);
    out->method = "POST";
    out->url = wire_url(ctx, suffix);
    out->headers = wire_headers(ctx);
    return 0;
}

static int wire_chat_request(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                             prov_error_t *err)
{
    return wire_request(ctx, req, out, err, "/chat/completions");
}

static int wire_embed_request(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                              prov_error_t *err)
{
    return wire_request(ctx, req, out, err, "/embeddings");
}

static int wire_response(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err)
{
    return buf_append_str(out, body);
}

static prov_stream_t *wire_stream_new(const prov_ctx_t *ctx)
{
    prov_stream_t *s = calloc(1, sizeof *s);
    if (s)
        sse_parser_init(&s->sse, 0);
    return s;
}

static int wire_on_event(void *arg, const sse_event_t *ev)
{
    prov_stream_t *s = arg;
    if (str_eq_cstr(ev->data, "[DONE]"))
        return 0;
    return s->emit(s->arg, ev->data) < 0 ? -1 : 0;
}

static int wire_stream_feed(prov_stream_t *s, const char *p, size_t n, prov_emit_fn emit, void *arg)
{
    s->emit = emit;
    s->arg = arg;
    return sse_feed(&s->sse, p, n, wire_on_event, s) < 0 ? -1 : 0;
}

static int wire_stream_end(prov_stream_t *s, prov_emit_fn emit, void *arg)
{
    return 0;
}

static void wire_stream_free(prov_stream_t *s)
{
    if (!s)
        return;
    sse_parser_free(&s->sse);
    free(s);
}

static void wire_error_message(int status, str_t body, buf_t *out)
{
    cJSON *doc = cJSON_ParseWithLength(body.p ? body.p : "", body.n);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (cJSON_IsString(m))
        buf_append_cstr(out, m->valuestring);
    else
        buf_append(out, body.p, MIN(body.n, (size_t)1000));
    cJSON_Delete(doc);
}

const prov_adapter_t prov_adapter_openai = {
    .name = "openai",
    .chat_request = wire_chat_request,
    .chat_response = wire_response,
    .stream_new = wire_stream_new,
    .stream_feed = wire_stream_feed,
    .stream_end = wire_stream_end,
    .stream_free = wire_stream_free,
    .error_message = wire_error_message,
    .embed_request = wire_embed_request,
    .embed_response = wire_response,
};
