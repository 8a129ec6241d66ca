/* SPDX-License-Identifier: MIT
 * /v1/responses: OpenAI's Responses API. To OpenAI-wire deployments the body passes through with
 * only the model rewritten (stored responses can then be retrieved or deleted by id); to every
 * other provider it is translated to chat and the answer back to a Response and its events. */
#include <string.h>

#include "api/api.h"
#include "api/format.h"
#include "api/translate.h"

bool api_group_all_provider(const route_group_t *g, str_t model, const char *name);
const route_group_t *api_parse_model(http_req_t *req, const api_format_t *fmt, str_t *model,
                                     str_t *model_raw, bool *stream);

void api_responses(http_req_t *req)
{
    str_t model, model_raw;
    bool stream;
    const route_group_t *g = api_parse_model(req, &api_format_openai, &model, &model_raw, &stream);
    if (!g)
        return;
    if (api_group_all_provider(g, model, "openai") || api_group_all_provider(g, model, "azure")) {
        api_splice_t sp = {
            .kind = API_CHAT,
            .fmt = &api_format_openai,
            .suffix = "/responses",
            .group = g,
            .model = model,
            .model_raw = model_raw,
            .stream = stream,
        };
        api_proxy_splice(req, &sp);
        return;
    }
    cJSON *client_req = cJSON_ParseWithLength(req->body.p, req->body.n);
    cJSON *chat_req = NULL;
    prov_error_t err = {0};
    if (!client_req || api_format_responses.to_chat(client_req, &chat_req, &err) != 0) {
        cJSON_Delete(client_req);
        api_send_error(req, err.status ? err.status : 400, "invalid_request_error", err.param,
                       err.message[0] ? err.message : "out of memory");
        return;
    }
    api_translated_call(req, &api_format_responses, API_CHAT, client_req, chat_req, g, model,
                        stream);
}

/* GET/DELETE /v1/responses/{id}[/...]: stored responses live at OpenAI, so the call goes to the
 * first OpenAI deployment of the config. */
void api_responses_by_id(http_req_t *req, str_t rest)
{
    size_t count;
    const route_table_t *routes = api_req_gen(req)->routes;
    const char *const *names = route_model_names(routes, &count);
    const route_group_t *g = NULL;
    for (size_t i = 0; i < count && !g; i++) {
        const route_group_t *cand = route_find_group(routes, str_cstr(names[i]));
        if (cand && api_group_all_provider(cand, str_cstr(names[i]), "openai"))
            g = cand;
    }
    if (!g) {
        api_send_error(req, 404, "not_found_error", NULL,
                       "No OpenAI deployment in the config: stored responses live at OpenAI");
        return;
    }
    const char *suffix = req->head.query.n
                             ? arena_printf(&req->arena, "/responses%.*s?%.*s", STR_FMT(rest),
                                            STR_FMT(req->head.query))
                             : arena_printf(&req->arena, "/responses%.*s", STR_FMT(rest));
    char *method = arena_strndup(&req->arena, req->head.method.p, req->head.method.n);
    api_splice_t sp = {
        .kind = API_CHAT,
        .method = method,
        .fmt = &api_format_openai,
        .suffix = suffix,
        .raw_errors = true,
        .group = g,
        .model = str_cstr(g->name),
    };
    api_proxy_splice(req, &sp);
}
