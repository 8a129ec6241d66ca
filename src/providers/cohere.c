/* SPDX-License-Identifier: MIT
 * cohere / cohere_chat: OpenAI chat <-> Cohere v2 chat (POST {base}/v2/chat, Bearer key) and
 * embeddings (POST {base}/v2/embed), as LiteLLM's CohereV2ChatConfig maps them. Streams are
 * Cohere's SSE events (message-start, content-delta, tool-call-start/-delta, message-end)
 * turned into OpenAI chunks; citations, tool plans and documents are not carried over. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sse.h"
#include "providers/adapter.h"

#define COHERE_MAX_HEADERS 40

/* ---- small helpers ----------------------------------------------------------------------- */

static char *cohere_model(const prov_ctx_t *ctx)
{
    return arena_strndup(ctx->arena, ctx->model.p ? ctx->model.p : "", ctx->model.n);
}

/* {base}{path} unless the base already ends with it ("https://api.cohere.ai/v2/chat"). */
static const char *cohere_url(const prov_ctx_t *ctx, const char *path)
{
    const char *base = ctx->api_base
                           ? ctx->api_base
                           : (ctx->prov && ctx->prov->default_base ? ctx->prov->default_base
                                                                   : "https://api.cohere.com");
    size_t n = strlen(base), p = strlen(path);
    while (n && base[n - 1] == '/')
        n--;
    if (n >= p && memcmp(base + n - p, path, p) == 0)
        return arena_printf(ctx->arena, "%.*s", (int)n, base);
    if (n >= 3 && memcmp(base + n - 3, "/v2", 3) == 0)
        return arena_printf(ctx->arena, "%.*s%s", (int)n, base, path + 3);
    return arena_printf(ctx->arena, "%.*s%s", (int)n, base, path);
}

static const char **cohere_headers(const prov_ctx_t *ctx, bool stream)
{
    const char *lines[COHERE_MAX_HEADERS];
    size_t n = 0;
    lines[n++] = "Content-Type: application/json";
    lines[n++] = stream ? "Accept: text/event-stream" : "Accept: application/json";
    if (ctx->api_key)
        lines[n++] = arena_printf(ctx->arena, "Authorization: Bearer %s", ctx->api_key);
    n += prov_extra_headers(ctx, lines + n, COHERE_MAX_HEADERS - n);
    return prov_headers(ctx->arena, lines, n);
}

/* Prints `root` into out->body and frees it. */
static int cohere_finish_body(cJSON *root, buf_t *body, prov_error_t *err)
{
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text || buf_append_cstr(body, text) != 0) {
        free(text);
        return prov_fail(err, 500, NULL, "out of memory building the cohere request");
    }
    free(text);
    return 0;
}

/* ---- chat request ------------------------------------------------------------------------ */

/* OpenAI message content -> Cohere content: a string stays a string; parts become
 * [{type:"text",text}] and [{type:"image_url",image_url:{url}}]. NULL (err set) on a part
 * Cohere cannot take. */
static cJSON *cohere_content(const cJSON *content, bool images, prov_error_t *err)
{
    if (cJSON_IsString(content))
        return cJSON_CreateString(content->valuestring);
    if (!cJSON_IsArray(content)) {
        prov_fail(err, 400, "messages", "cohere: message content must be a string or an array");
        return NULL;
    }
    cJSON *parts = cJSON_CreateArray();
    for (const cJSON *p = content->child; p; p = p->next) {
        const char *type = prov_json_string(p, "type");
        if (type && strcmp(type, "text") == 0 && prov_json_string(p, "text")) {
            cJSON *t = cJSON_CreateObject();
            cJSON_AddStringToObject(t, "type", "text");
            cJSON_AddStringToObject(t, "text", prov_json_string(p, "text"));
            cJSON_AddItemToArray(parts, t);
        } else if (images && type && strcmp(type, "image_url") == 0) {
            const cJSON *iu = prov_json_get(p, "image_url");
            const char *url = cJSON_IsString(iu) ? iu->valuestring : prov_json_string(iu, "url");
            if (!url) {
                cJSON_Delete(parts);
                prov_fail(err, 400, "messages", "cohere: image_url part without a url");
                return NULL;
            }
            cJSON *im = cJSON_CreateObject();
            cJSON_AddStringToObject(im, "type", "image_url");
            cJSON_AddStringToObject(cJSON_AddObjectToObject(im, "image_url"), "url", url);
            cJSON_AddItemToArray(parts, im);
        } else {
            cJSON_Delete(parts);
            prov_fail(err, 400, "messages",
                      "cohere: content parts of type '%s' are not supported here; send text%s",
                      type ? type : "(none)", images ? " or image_url" : "");
            return NULL;
        }
    }
    return parts;
}

static cJSON *cohere_tool_calls(const cJSON *calls, prov_error_t *err)
{
    cJSON *out = cJSON_CreateArray();
    for (const cJSON *c = calls->child; c; c = c->next) {
        const cJSON *fn = prov_json_get(c, "function");
        const char *name = prov_json_string(fn, "name");
        if (!name) {
            cJSON_Delete(out);
            prov_fail(err, 400, "messages", "cohere: an assistant tool call has no function name");
            return NULL;
        }
        const cJSON *args = prov_json_get(fn, "arguments");
        cJSON *tc = cJSON_CreateObject();
        const char *id = prov_json_string(c, "id");
        cJSON_AddStringToObject(tc, "id", id ? id : "");
        cJSON_AddStringToObject(tc, "type", "function");
        cJSON *f = cJSON_AddObjectToObject(tc, "function");
        cJSON_AddStringToObject(f, "name", name);
        if (cJSON_IsString(args)) {
            cJSON_AddStringToObject(f, "arguments", args->valuestring);
        } else if (args && !cJSON_IsNull(args)) {
            char *text = cJSON_PrintUnformatted(args);
            cJSON_AddStringToObject(f, "arguments", text ? text : "{}");
            free(text);
        } else {
            cJSON_AddStringToObject(f, "arguments", "{}");
        }
        cJSON_AddItemToArray(out, tc);
    }
    return out;
}

static cJSON *cohere_messages(const cJSON *messages, prov_error_t *err)
{
    if (!cJSON_IsArray(messages) || !messages->child) {
        prov_fail(err, 400, "messages", "cohere: 'messages' must be a non-empty array");
        return NULL;
    }
    cJSON *out = cJSON_CreateArray();
    for (const cJSON *m = messages->child; m; m = m->next) {
        const char *role = prov_json_string(m, "role");
        const cJSON *content = prov_json_param(m, "content");
        cJSON *msg = cJSON_CreateObject();
        cJSON_AddItemToArray(out, msg);
        if (!role) {
            prov_fail(err, 400, "messages", "cohere: every message needs a 'role'");
            goto fail;
        }
        if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0 ||
            strcmp(role, "user") == 0) {
            bool user = role[0] == 'u';
            cJSON_AddStringToObject(msg, "role", user ? "user" : "system");
            cJSON *c = content ? cohere_content(content, user, err) : cJSON_CreateString("");
            if (!c)
                goto fail;
            cJSON_AddItemToObject(msg, "content", c);
        } else if (strcmp(role, "assistant") == 0) {
            cJSON_AddStringToObject(msg, "role", "assistant");
            const cJSON *calls = prov_json_param(m, "tool_calls");
            bool has_calls = cJSON_IsArray(calls) && calls->child;
            if (content) {
                cJSON *c = cohere_content(content, false, err);
                if (!c)
                    goto fail;
                cJSON_AddItemToObject(msg, "content", c);
            } else if (!has_calls) {
                cJSON_AddStringToObject(msg, "content", "");
            }
            if (has_calls) {
                cJSON *tc = cohere_tool_calls(calls, err);
                if (!tc)
                    goto fail;
                cJSON_AddItemToObject(msg, "tool_calls", tc);
            }
        } else if (strcmp(role, "tool") == 0) {
            const char *id = prov_json_string(m, "tool_call_id");
            if (!id) {
                prov_fail(err, 400, "messages", "cohere: a tool message needs 'tool_call_id'");
                goto fail;
            }
            cJSON_AddStringToObject(msg, "role", "tool");
            cJSON_AddStringToObject(msg, "tool_call_id", id);
            cJSON *c = content ? cohere_content(content, false, err) : cJSON_CreateString("");
            if (!c)
                goto fail;
            cJSON_AddItemToObject(msg, "content", c);
        } else {
            prov_fail(err, 400, "messages",
                      "cohere: role '%s' is not supported; use system, user, assistant or tool",
                      role);
            goto fail;
        }
    }
    return out;
fail:
    cJSON_Delete(out);
    return NULL;
}

/* OpenAI tools -> Cohere v2 tools (same function shape, `strict` dropped). `only`: keep just
 * that function (a named tool_choice, which Cohere cannot express otherwise). */
static cJSON *cohere_tools(const cJSON *tools, const char *only, prov_error_t *err)
{
    if (!cJSON_IsArray(tools)) {
        prov_fail(err, 400, "tools", "cohere: 'tools' must be an array");
        return NULL;
    }
    cJSON *out = cJSON_CreateArray();
    for (const cJSON *t = tools->child; t; t = t->next) {
        const char *type = prov_json_string(t, "type");
        const cJSON *fn = prov_json_get(t, "function");
        const char *name = prov_json_string(fn, "name");
        if (!type || strcmp(type, "function") != 0 || !name) {
            cJSON_Delete(out);
            prov_fail(err, 400, "tools",
                      "cohere: only tools of type 'function' with a function name are supported");
            return NULL;
        }
        if (only && strcmp(only, name) != 0)
            continue;
        cJSON *tool = cJSON_CreateObject();
        cJSON_AddStringToObject(tool, "type", "function");
        cJSON *f = cJSON_AddObjectToObject(tool, "function");
        cJSON_AddStringToObject(f, "name", name);
        const cJSON *desc = prov_json_get(fn, "description");
        if (cJSON_IsString(desc))
            cJSON_AddStringToObject(f, "description", desc->valuestring);
        const cJSON *params = prov_json_param(fn, "parameters");
        if (params)
            cJSON_AddItemToObject(f, "parameters", cJSON_Duplicate(params, 1));
        cJSON_AddItemToArray(out, tool);
    }
    return out;
}

/* The parameters LiteLLM's cohere v2 config supports, plus response_format and
 * max_completion_tokens (its max_tokens). */
static const char *const cohere_supported[] = {"temperature",
                                               "top_p",
                                               "max_tokens",
                                               "max_completion_tokens",
                                               "frequency_penalty",
                                               "presence_penalty",
                                               "stop",
                                               "n",
                                               "tools",
                                               "tool_choice",
                                               "seed",
                                               "response_format",
                                               "extra_headers",
                                               NULL};

static int cohere_chat_request(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                               prov_error_t *err)
{
    if (prov_check_params(ctx, req, cohere_supported, err) != 0)
        return -1;
    const cJSON *n = prov_json_param(req, "n");
    if (n && (!cJSON_IsNumber(n) || n->valuedouble != 1))
        return prov_fail(err, 400, "n", "cohere: v2 chat answers one choice; 'n' must be 1");

    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", cohere_model(ctx));
    cJSON *messages = cohere_messages(prov_json_get(req, "messages"), err);
    if (!messages)
        goto fail;
    cJSON_AddItemToObject(root, "messages", messages);
    if (ctx->stream)
        cJSON_AddTrueToObject(root, "stream");

    /* tool_choice: "required" -> REQUIRED, "none" -> NONE, "auto" -> omitted; a named
     * function -> REQUIRED with only that tool offered */
    const cJSON *choice = prov_json_param(req, "tool_choice");
    const char *forced = NULL, *mode = NULL;
    if (cJSON_IsString(choice)) {
        if (strcmp(choice->valuestring, "required") == 0)
            mode = "REQUIRED";
        else if (strcmp(choice->valuestring, "none") == 0)
            mode = "NONE";
        else if (strcmp(choice->valuestring, "auto") != 0) {
            prov_fail(err, 400, "tool_choice",
                      "cohere: tool_choice must be 'auto', 'required', 'none' or a function");
            goto fail;
        }
    } else if (cJSON_IsObject(choice)) {
        forced = prov_json_string(prov_json_get(choice, "function"), "name");
        if (!forced) {
            prov_fail(err, 400, "tool_choice", "cohere: tool_choice names no function");
            goto fail;
        }
        mode = "REQUIRED";
    }
    const cJSON *tools = prov_json_param(req, "tools");
    if (tools) {
        cJSON *t = cohere_tools(tools, forced, err);
        if (!t)
            goto fail;
        if (forced && !t->child) {
            cJSON_Delete(t);
            prov_fail(err, 400, "tool_choice", "cohere: tool_choice names '%s', not in tools",
                      forced);
            goto fail;
        }
        cJSON_AddItemToObject(root, "tools", t);
    }
    if (mode && tools)
        cJSON_AddStringToObject(root, "tool_choice", mode);

    static const struct {
        const char *from, *to;
    } same[] = {{"temperature", "temperature"},
                {"top_p", "p"},
                {"max_tokens", "max_tokens"},
                {"max_completion_tokens", "max_tokens"},
                {"seed", "seed"},
                {"frequency_penalty", "frequency_penalty"},
                {"presence_penalty", "presence_penalty"}};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        const cJSON *v = prov_json_param(req, same[i].from);
        if (!v)
            continue;
        if (!cJSON_IsNumber(v)) {
            prov_fail(err, 400, same[i].from, "cohere: '%s' must be a number", same[i].from);
            goto fail;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(root, same[i].to);
        cJSON_AddNumberToObject(root, same[i].to, v->valuedouble);
    }
    const cJSON *stop = prov_json_param(req, "stop");
    if (cJSON_IsString(stop)) {
        cJSON *arr = cJSON_AddArrayToObject(root, "stop_sequences");
        cJSON_AddItemToArray(arr, cJSON_CreateString(stop->valuestring));
    } else if (cJSON_IsArray(stop)) {
        cJSON_AddItemToObject(root, "stop_sequences", cJSON_Duplicate(stop, 1));
    } else if (stop) {
        prov_fail(err, 400, "stop", "cohere: 'stop' must be a string or an array of strings");
        goto fail;
    }
    const cJSON *rf = prov_json_param(req, "response_format");
    const char *rf_type = prov_json_string(rf, "type");
    if (rf && !rf_type) {
        prov_fail(err, 400, "response_format", "cohere: response_format needs a 'type'");
        goto fail;
    }
    if (rf_type && strcmp(rf_type, "text") != 0) {
        cJSON *f = cJSON_AddObjectToObject(root, "response_format");
        cJSON_AddStringToObject(f, "type", "json_object");
        const cJSON *schema = prov_json_param(prov_json_get(rf, "json_schema"), "schema");
        if (strcmp(rf_type, "json_schema") == 0 && schema)
            cJSON_AddItemToObject(f, "json_schema", cJSON_Duplicate(schema, 1));
        else if (strcmp(rf_type, "json_schema") != 0 && strcmp(rf_type, "json_object") != 0) {
            prov_fail(err, 400, "response_format",
                      "cohere: response_format type must be text, json_object or json_schema");
            goto fail;
        }
    }

    prov_carry_mock(req, root);
    if (cohere_finish_body(root, &out->body, err) != 0)
        return -1;
    out->method = "POST";
    out->url = cohere_url(ctx, "/v2/chat");
    out->headers = cohere_headers(ctx, ctx->stream);
    return 0;
fail:
    cJSON_Delete(root);
    return -1;
}

/* ---- chat response ----------------------------------------------------------------------- */

static long long cohere_count(const cJSON *obj, const char *name)
{
    const cJSON *v = prov_json_get(obj, name);
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0))
        return 0;
    return v->valuedouble < 1e15 ? (long long)v->valuedouble : 1000000000000000LL; /* no UB */
}

/* usage.tokens (what LiteLLM reports), else usage.billed_units; cached_tokens as cached. */
static cJSON *cohere_usage(const cJSON *usage)
{
    const cJSON *t = prov_json_get(usage, "tokens");
    if (!cJSON_IsObject(t))
        t = prov_json_get(usage, "billed_units");
    return prov_usage(cohere_count(t, "input_tokens"), cohere_count(t, "output_tokens"),
                      cohere_count(usage, "cached_tokens"));
}

static const char *cohere_finish(const char *reason, bool tool_calls)
{
    if (tool_calls && (!reason || strcmp(reason, "COMPLETE") == 0))
        return "tool_calls";
    return reason ? prov_finish_reason(reason) : "stop";
}

/* Cohere tool call -> OpenAI tool call (arguments kept as the JSON text Cohere sends). */
static cJSON *cohere_openai_tool_call(const cJSON *tc, int index, bool with_index)
{
    const cJSON *fn = prov_json_get(tc, "function");
    cJSON *out = cJSON_CreateObject();
    if (with_index)
        cJSON_AddNumberToObject(out, "index", index);
    const char *id = prov_json_string(tc, "id");
    if (id)
        cJSON_AddStringToObject(out, "id", id);
    cJSON_AddStringToObject(out, "type", "function");
    cJSON *f = cJSON_AddObjectToObject(out, "function");
    const char *name = prov_json_string(fn, "name");
    cJSON_AddStringToObject(f, "name", name ? name : "");
    const cJSON *args = prov_json_get(fn, "arguments");
    if (cJSON_IsString(args)) {
        cJSON_AddStringToObject(f, "arguments", args->valuestring);
    } else if (args && !cJSON_IsNull(args)) {
        char *text = cJSON_PrintUnformatted(args);
        cJSON_AddStringToObject(f, "arguments", text ? text : "");
        free(text);
    } else {
        cJSON_AddStringToObject(f, "arguments", "");
    }
    return out;
}

static int cohere_chat_response(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err)
{
    cJSON *in = cJSON_ParseWithLength(body.p, body.n);
    const cJSON *message = prov_json_get(in, "message");
    if (!cJSON_IsObject(message)) {
        cJSON_Delete(in);
        return prov_fail(err, 502, NULL, "cohere: the answer has no 'message' object");
    }
    char id[40];
    prov_new_id(id);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "id", id);
    cJSON_AddStringToObject(root, "object", "chat.completion");
    cJSON_AddNumberToObject(root, "created", (double)time(NULL));
    cJSON_AddStringToObject(root, "model", cohere_model(ctx));
    cJSON *choice = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "choices"), choice);
    cJSON_AddNumberToObject(choice, "index", 0);
    cJSON *msg = cJSON_AddObjectToObject(choice, "message");
    cJSON_AddStringToObject(msg, "role", "assistant");

    const cJSON *calls = prov_json_get(message, "tool_calls");
    bool has_calls = cJSON_IsArray(calls) && calls->child;
    const cJSON *content = prov_json_get(message, "content");
    if (has_calls || !cJSON_IsArray(content)) {
        cJSON_AddNullToObject(msg, "content"); /* LiteLLM drops text next to tool calls */
    } else {
        buf_t text = {0};
        for (const cJSON *c = content->child; c; c = c->next) {
            const char *t = prov_json_string(c, "text");
            if (t)
                buf_append_cstr(&text, t);
        }
        const char *s = buf_cstr(&text);
        cJSON_AddStringToObject(msg, "content", s ? s : "");
        buf_free(&text);
    }
    if (has_calls) {
        cJSON *tcs = cJSON_AddArrayToObject(msg, "tool_calls");
        for (const cJSON *tc = calls->child; tc; tc = tc->next)
            cJSON_AddItemToArray(tcs, cohere_openai_tool_call(tc, 0, false));
    }
    cJSON_AddNullToObject(choice, "logprobs");
    cJSON_AddStringToObject(choice, "finish_reason",
                            cohere_finish(prov_json_string(in, "finish_reason"), has_calls));
    cJSON_AddItemToObject(root, "usage", cohere_usage(prov_json_get(in, "usage")));
    cJSON_Delete(in);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    int rc = text ? buf_append_cstr(out, text) : -1;
    free(text);
    return rc == 0 ? 0 : prov_fail(err, 500, NULL, "out of memory");
}

/* ---- streams ----------------------------------------------------------------------------- */

struct prov_stream {
    sse_parser_t sse;
    char id[40];
    long long created;
    char *model;
    size_t model_n;
    bool role_sent; /* the first chunk (role) went out */
    bool finished;  /* message-end seen */
    int tools;      /* tool calls started so far */
    prov_emit_fn emit;
    void *arg;
};

static int cohere_emit(prov_stream_t *s, cJSON *delta, const char *finish, cJSON *usage)
{
    return prov_emit_chunk(s->emit, s->arg, s->id, s->created, str_make(s->model, s->model_n),
                           delta, finish, usage);
}

/* The role chunk OpenAI streams start with, once. */
static int cohere_role(prov_stream_t *s)
{
    if (s->role_sent)
        return 0;
    s->role_sent = true;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "role", "assistant");
    cJSON_AddStringToObject(d, "content", "");
    return cohere_emit(s, d, NULL, NULL);
}

static int cohere_text(prov_stream_t *s, const char *text)
{
    if (!text || !*text)
        return 0;
    if (cohere_role(s) != 0)
        return -1;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "content", text);
    return cohere_emit(s, d, NULL, NULL);
}

/* One Cohere event (its data JSON) -> zero or more chunks. */
static int cohere_event(prov_stream_t *s, const cJSON *ev)
{
    const char *type = prov_json_string(ev, "type");
    const cJSON *delta = prov_json_get(ev, "delta");
    const cJSON *message = prov_json_get(delta, "message");
    if (!type)
        return -1;
    if (strcmp(type, "message-start") == 0)
        return cohere_role(s);
    if (strcmp(type, "content-start") == 0 || strcmp(type, "content-delta") == 0)
        return cohere_text(s, prov_json_string(prov_json_get(message, "content"), "text"));
    if (strcmp(type, "tool-call-start") == 0) {
        if (cohere_role(s) != 0)
            return -1;
        const cJSON *tc = prov_json_get(message, "tool_calls");
        cJSON *d = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(d, "tool_calls");
        cJSON_AddItemToArray(arr, cohere_openai_tool_call(tc, s->tools++, true));
        return cohere_emit(s, d, NULL, NULL);
    }
    if (strcmp(type, "tool-call-delta") == 0) {
        const char *args = prov_json_string(
            prov_json_get(prov_json_get(message, "tool_calls"), "function"), "arguments");
        if (!args || !*args || s->tools == 0)
            return 0;
        cJSON *d = cJSON_CreateObject();
        cJSON *tc = cJSON_CreateObject();
        cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "tool_calls"), tc);
        cJSON_AddNumberToObject(tc, "index", s->tools - 1);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(tc, "function"), "arguments", args);
        return cohere_emit(s, d, NULL, NULL);
    }
    if (strcmp(type, "message-end") == 0) {
        if (s->finished)
            return 0;
        if (cohere_role(s) != 0)
            return -1;
        s->finished = true;
        const char *reason = prov_json_string(delta, "finish_reason");
        return cohere_emit(s, cJSON_CreateObject(), cohere_finish(reason, s->tools > 0),
                           cohere_usage(prov_json_get(delta, "usage")));
    }
    return 0; /* content-end, tool-plan-delta, tool-call-end, citation-*: nothing to say */
}

static int cohere_on_sse(void *arg, const sse_event_t *ev)
{
    prov_stream_t *s = arg;
    if (ev->data.n == 0 || str_eq_cstr(ev->data, "[DONE]"))
        return 0;
    cJSON *json = cJSON_ParseWithLength(ev->data.p, ev->data.n);
    if (!cJSON_IsObject(json)) {
        cJSON_Delete(json);
        return -1;
    }
    int rc = cohere_event(s, json);
    cJSON_Delete(json);
    return rc == 0 ? 0 : -1;
}

static prov_stream_t *cohere_stream_new(const prov_ctx_t *ctx)
{
    prov_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->model = malloc(ctx->model.n + 1);
    if (!s->model) {
        free(s);
        return NULL;
    }
    if (ctx->model.n)
        memcpy(s->model, ctx->model.p, ctx->model.n);
    s->model[ctx->model.n] = '\0';
    s->model_n = ctx->model.n;
    sse_parser_init(&s->sse, 0);
    prov_new_id(s->id);
    s->created = (long long)time(NULL);
    return s;
}

static int cohere_stream_feed(prov_stream_t *s, const char *p, size_t n, prov_emit_fn emit,
                              void *arg)
{
    s->emit = emit;
    s->arg = arg;
    return sse_feed(&s->sse, p, n, cohere_on_sse, s) == 0 ? 0 : -1;
}

static int cohere_stream_end(prov_stream_t *s, prov_emit_fn emit, void *arg)
{
    s->emit = emit;
    s->arg = arg;
    /* an event without its closing blank line is complete once the body ends */
    if (sse_feed(&s->sse, "\n\n", 2, cohere_on_sse, s) != 0)
        return -1;
    return s->finished ? 0 : -1; /* no message-end: the stream was cut */
}

static void cohere_stream_free(prov_stream_t *s)
{
    if (!s)
        return;
    sse_parser_free(&s->sse);
    free(s->model);
    free(s);
}

/* {"id":..,"message":"..."} -> the message. */
static void cohere_error_message(int status, str_t body, buf_t *out)
{
    (void)status;
    prov_error_field(body, "message", out);
}

/* ---- embeddings -------------------------------------------------------------------------- */

static int cohere_embed_request(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                                prov_error_t *err)
{
    const cJSON *input = prov_json_get(req, "input");
    cJSON *texts = cJSON_CreateArray();
    if (cJSON_IsString(input)) {
        cJSON_AddItemToArray(texts, cJSON_CreateString(input->valuestring));
    } else if (cJSON_IsArray(input) && input->child) {
        for (const cJSON *t = input->child; t; t = t->next) {
            if (!cJSON_IsString(t)) {
                cJSON_Delete(texts);
                return prov_fail(err, 400, "input",
                                 "cohere: embeddings take text input (a string or an array of "
                                 "strings), not token arrays");
            }
            cJSON_AddItemToArray(texts, cJSON_CreateString(t->valuestring));
        }
    } else {
        cJSON_Delete(texts);
        return prov_fail(err, 400, "input",
                         "cohere: 'input' must be a string or a non-empty array of strings");
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", cohere_model(ctx));
    cJSON_AddItemToObject(root, "texts", texts);
    const char *input_type = prov_json_string(req, "input_type");
    cJSON_AddStringToObject(root, "input_type", input_type ? input_type : "search_document");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "embedding_types"),
                         cJSON_CreateString("float"));
    const cJSON *dims = prov_json_param(req, "dimensions");
    if (cJSON_IsNumber(dims))
        cJSON_AddNumberToObject(root, "output_dimension", dims->valuedouble);
    const char *truncate = prov_json_string(req, "truncate");
    if (truncate)
        cJSON_AddStringToObject(root, "truncate", truncate);
    prov_carry_mock(req, root);
    if (cohere_finish_body(root, &out->body, err) != 0)
        return -1;
    out->method = "POST";
    out->url = cohere_url(ctx, "/v2/embed");
    out->headers = cohere_headers(ctx, false);
    return 0;
}

/* {"embeddings":{"float":[[..]]},"meta":{"billed_units":{"input_tokens"}}} (v1's plain
 * "embeddings":[[..]] too) -> OpenAI's list. */
static int cohere_embed_response(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err)
{
    cJSON *in = cJSON_ParseWithLength(body.p, body.n);
    const cJSON *emb = prov_json_get(in, "embeddings");
    const cJSON *vectors = cJSON_IsObject(emb) ? prov_json_get(emb, "float") : emb;
    if (!cJSON_IsArray(vectors)) {
        cJSON_Delete(in);
        return prov_fail(err, 502, NULL, "cohere: the embed answer has no float embeddings");
    }
    long long tokens =
        cohere_count(prov_json_get(prov_json_get(in, "meta"), "billed_units"), "input_tokens");
    buf_append_cstr(out, "{\"object\":\"list\",\"data\":[");
    int index = 0;
    for (const cJSON *v = vectors->child; v; v = v->next, index++) {
        if (!cJSON_IsArray(v)) {
            cJSON_Delete(in);
            return prov_fail(err, 502, NULL, "cohere: an embedding is not an array");
        }
        buf_printf(out, "%s{\"object\":\"embedding\",\"index\":%d,\"embedding\":[",
                   index ? "," : "", index);
        bool first = true;
        for (const cJSON *x = v->child; x; x = x->next, first = false)
            buf_printf(out, first ? "%.9g" : ",%.9g", cJSON_IsNumber(x) ? x->valuedouble : 0.0);
        buf_append_cstr(out, "]}");
    }
    buf_append_cstr(out, "],\"model\":");
    buf_append_json_string(out, ctx->model);
    buf_printf(out, ",\"usage\":{\"prompt_tokens\":%lld,\"total_tokens\":%lld}}", tokens, tokens);
    cJSON_Delete(in);
    return 0;
}

#define COHERE_ADAPTER(NAME)                                                                       \
    {                                                                                              \
        .name = NAME, .chat_request = cohere_chat_request, .chat_response = cohere_chat_response,  \
        .stream_new = cohere_stream_new, .stream_feed = cohere_stream_feed,                        \
        .stream_end = cohere_stream_end, .stream_free = cohere_stream_free,                        \
        .error_message = cohere_error_message, .embed_request = cohere_embed_request,              \
        .embed_response = cohere_embed_response,                                                   \
    }

const prov_adapter_t prov_adapter_cohere = COHERE_ADAPTER("cohere");
const prov_adapter_t prov_adapter_cohere_chat = COHERE_ADAPTER("cohere_chat");
