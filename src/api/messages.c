/* SPDX-License-Identifier: MIT
 * /v1/messages and /v1/messages/count_tokens: Anthropic's API in front of every provider. To
 * Anthropic deployments only the model is rewritten (the body and the answer pass through); to
 * any other provider the request is translated to the canonical chat form and the answers back
 * to Anthropic's messages and SSE events. Errors use Anthropic's envelope on this route. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/fmt_anthropic.h"
#include "api/format.h"
#include "api/translate.h"
#include "core/jscan.h"

static void send_anthropic_error(http_req_t *req, int status, const char *message)
{
    buf_t b = {0};
    api_format_anthropic.error_body(status, NULL, message, &b);
    http_resp_send(req, status, "application/json", b.p, b.n);
    buf_free(&b);
}

/* True when every deployment serving `model` in `g` is of provider `name`. */
bool api_group_all_provider(const route_group_t *g, str_t model, const char *name)
{
    for (size_t i = 0; i < g->num_deployments; i++) {
        const prov_info_t *prov = g->deployments[i]->prov;
        if (!prov && g->deployments[i]->model_has_star) {
            const char *slash = memchr(model.p, '/', model.n);
            prov = slash ? prov_find(str_make(model.p, (size_t)(slash - model.p)))
                         : prov_find(STR_LIT("openai"));
        }
        if (!prov || strcmp(prov->name, name) != 0)
            return false;
    }
    return true;
}

/* Reads model and stream; answers the error itself and returns NULL when the request is bad. */
const route_group_t *api_parse_model(http_req_t *req, const api_format_t *fmt, str_t *model,
                                     str_t *model_raw, bool *stream)
{
    jscan_field_t f[2] = {{STR_LIT("model"), STR_NULL}, {STR_LIT("stream"), STR_NULL}};
    size_t off = 0;
    buf_t b = {0};
    const route_group_t *g = NULL;
    if (req->body.n == 0 || jscan_find(req->body.p, req->body.n, f, 2, &off) != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "Invalid request body: not a JSON object (error at byte %zu)",
                 off);
        fmt->error_body(400, "invalid_request_error", msg, &b);
        http_resp_send(req, 400, "application/json", b.p, b.n);
        buf_free(&b);
        return NULL;
    }
    *model = STR_NULL;
    if (f[0].value.p && f[0].value.n >= 2 && f[0].value.p[0] == '"' &&
        jscan_string_decode(f[0].value, &b) == 0 && b.n)
        *model = arena_str_copy(&req->arena, str_make(b.p, b.n));
    b.n = 0;
    *model_raw = f[0].value;
    *stream = f[1].value.p && jscan_is_true(f[1].value);
    if (model->p)
        g = route_find_group(api_req_gen(req)->routes, *model);
    if (!g) {
        char *msg = arena_printf(&req->arena,
                                 "Invalid model name passed in model=%.*s. Call `/v1/models` to "
                                 "view available models for your key.",
                                 model->p ? (int)model->n : 4, model->p ? model->p : "None");
        fmt->error_body(400, "invalid_request_error", msg, &b);
        http_resp_send(req, 400, "application/json", b.p, b.n);
    }
    buf_free(&b);
    return g;
}

void api_messages(http_req_t *req, bool count_tokens)
{
    str_t model, model_raw;
    bool stream;
    const route_group_t *g =
        api_parse_model(req, &api_format_anthropic, &model, &model_raw, &stream);
    if (!g)
        return;
    if (api_group_all_provider(g, model, "anthropic")) {
        api_splice_t sp = {
            .kind = API_CHAT,
            .fmt = &api_format_anthropic,
            .suffix = count_tokens ? "/v1/messages/count_tokens" : "/v1/messages",
            .anthropic_auth = true,
            .raw_errors = true,
            .group = g,
            .model = model,
            .model_raw = model_raw,
            .stream = stream && !count_tokens,
        };
        api_proxy_splice(req, &sp);
        return;
    }
    cJSON *client_req = cJSON_ParseWithLength(req->body.p, req->body.n);
    if (!client_req) {
        send_anthropic_error(req, 500, "out of memory");
        return;
    }
    if (count_tokens) {
        long long tokens = 0;
        if (api_anthropic_count_tokens(client_req, &tokens) != 0) {
            cJSON_Delete(client_req);
            send_anthropic_error(req, 400, "messages: expected a list of messages");
            return;
        }
        cJSON_Delete(client_req);
        char body[64];
        int n = snprintf(body, sizeof body, "{\"input_tokens\":%lld}", tokens);
        http_resp_send(req, 200, "application/json", body, (size_t)n);
        return;
    }
    cJSON *chat_req = NULL;
    prov_error_t err = {0};
    if (api_format_anthropic.to_chat(client_req, &chat_req, &err) != 0) {
        cJSON_Delete(client_req);
        send_anthropic_error(req, err.status ? err.status : 400, err.message);
        return;
    }
    api_translated_call(req, &api_format_anthropic, API_CHAT, client_req, chat_req, g, model,
                        stream);
}
