/* SPDX-License-Identifier: MIT
 * sluice-mock's routes: OpenAI chat completions, completions, embeddings and models (also under
 * Azure's /openai/deployments/<name>/ paths), /mock/stats and /mock/reset. Each request is read
 * once (jscan; cJSON only for embeddings, tools and the "mock" object, freed before any wait)
 * into a plan on a pooled call; bodies and SSE frames are written with memcpy into reused
 * buffers, and call.c delivers them on time. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/common.h"
#include "core/jscan.h"
#include "mock.h"

#define MOCK_PUT(b, lit) mock_append((b), "" lit, sizeof(lit) - 1)

enum {
    MOCK_ROUTE_NONE = 0,
    MOCK_ROUTE_CHAT,
    MOCK_ROUTE_COMPLETIONS,
    MOCK_ROUTE_EMBEDDINGS,
    MOCK_ROUTE_MODELS,
    MOCK_ROUTE_MODEL, /* GET /v1/models/<id> */
    MOCK_ROUTE_STATS,
    MOCK_ROUTE_RESET,
};

/* What a route kind streams (mock_call_t.kind). */
enum { MOCK_KIND_CHAT = 1, MOCK_KIND_COMPLETION };

#define MOCK_EMBED_MAX_DIMS 8192
#define MOCK_EMBED_MAX_INPUTS 2048
#define MOCK_EMBED_DEFAULT_DIMS 8

static const char *const mock_models[] = {"gpt-4o", "gpt-4o-mini", "text-embedding-3-small",
                                          "mock-model"};

/* ---- small writers ---------------------------------------------------------------------- */

/* Appends s JSON-escaped without the surrounding quotes, for splicing into literals. */
static void mock_put_escaped(buf_t *b, str_t s)
{
    size_t mark = b->n;
    if (buf_append_json_string(b, s) != 0 || b->n < mark + 2) {
        b->n = mark;
        return;
    }
    memmove(b->p + mark, b->p + mark + 1, b->n - mark - 2);
    b->n -= 2;
}

/* {"error":{"message":..,"type":..,"param":..,"code":..}}; param and code may be NULL. */
static void mock_error_body(buf_t *b, const char *message, const char *type, const char *param,
                            const char *code)
{
    MOCK_PUT(b, "{\"error\":{\"message\":");
    buf_append_json_string(b, str_cstr(message));
    MOCK_PUT(b, ",\"type\":");
    buf_append_json_string(b, str_cstr(type));
    MOCK_PUT(b, ",\"param\":");
    if (param)
        buf_append_json_string(b, str_cstr(param));
    else
        MOCK_PUT(b, "null");
    MOCK_PUT(b, ",\"code\":");
    if (code)
        buf_append_json_string(b, str_cstr(code));
    else
        MOCK_PUT(b, "null");
    MOCK_PUT(b, "}}");
}

/* Plans an immediate error answer (delay-ms still applies). */
static void mock_plan_error(mock_call_t *c, int status, const char *message, const char *type,
                            const char *param, const char *code)
{
    c->action = MOCK_ACT_SEND;
    c->status = status;
    c->content_type = "application/json";
    c->pre_ms = 0;
    c->body.n = 0;
    mock_error_body(&c->body, message, type, param, code);
}

/* The error a `status` control asks for, typed as OpenAI types its errors. */
static void mock_plan_status(mock_call_t *c, int status)
{
    char message[32];
    snprintf(message, sizeof message, "mock error %d", status);
    const char *type = "invalid_request_error", *code = NULL;
    if (status == 401) {
        code = "invalid_api_key";
    } else if (status == 429) {
        type = "requests";
        code = "rate_limit_exceeded";
    } else if (status >= 500) {
        type = "server_error";
    }
    mock_plan_error(c, status, message, type, NULL, code);
}

static void mock_plan_invalid(mock_call_t *c, const char *message, const char *param)
{
    mock_plan_error(c, 400, message, "invalid_request_error", param, NULL);
}

static void mock_new_id(mock_call_t *c, char *out, const char *prefix, size_t random_len)
{
    size_t n = strlen(prefix);
    memcpy(out, prefix, n);
    mock_random_alnum(c->w, out + n, random_len);
    out[n + random_len] = '\0';
}

/* ---- the answer's words ----------------------------------------------------------------- */

/* Token k of the answer "mock answer to <model>: w1 w2 ...", with its leading space. */
static void mock_put_token(buf_t *b, const mock_call_t *c, uint64_t k)
{
    switch (k) {
    case 0:
        MOCK_PUT(b, "mock");
        return;
    case 1:
        MOCK_PUT(b, " answer");
        return;
    case 2:
        MOCK_PUT(b, " to");
        return;
    case 3:
        MOCK_PUT(b, " ");
        buf_append(b, c->model.p, c->model.n);
        MOCK_PUT(b, ":");
        return;
    default:
        MOCK_PUT(b, " w");
        mock_append_u64(b, k - 3);
    }
}

static void mock_put_usage(buf_t *b, const mock_call_t *c, bool details)
{
    uint64_t completion = c->timing.tokens;
    MOCK_PUT(b, "{\"prompt_tokens\":");
    mock_append_u64(b, c->prompt_tokens);
    MOCK_PUT(b, ",\"completion_tokens\":");
    mock_append_u64(b, completion);
    MOCK_PUT(b, ",\"total_tokens\":");
    mock_append_u64(b, c->prompt_tokens + completion);
    if (details)
        MOCK_PUT(b, ",\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
                    "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
                    "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}");
    MOCK_PUT(b, "}");
}

/* ---- chat completions ------------------------------------------------------------------- */

static void mock_chat_body(mock_call_t *c, uint64_t created)
{
    buf_t *b = &c->body;
    b->n = 0;
    buf_reserve(b, 1024 + c->model.n + c->tool_name.n + c->timing.tokens * 8);
    MOCK_PUT(b, "{\"id\":\"");
    buf_append_cstr(b, c->object_id);
    MOCK_PUT(b, "\",\"object\":\"chat.completion\",\"created\":");
    mock_append_u64(b, created);
    MOCK_PUT(b, ",\"model\":\"");
    buf_append(b, c->model.p, c->model.n);
    MOCK_PUT(b, "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
    if (c->tool) {
        MOCK_PUT(b, "null,\"tool_calls\":[{\"id\":\"");
        buf_append_cstr(b, c->call_id);
        MOCK_PUT(b, "\",\"type\":\"function\",\"function\":{\"name\":\"");
        buf_append(b, c->tool_name.p, c->tool_name.n);
        MOCK_PUT(b, "\",\"arguments\":\"{}\"}}]");
    } else {
        MOCK_PUT(b, "\"");
        for (uint64_t k = 0; k < c->timing.tokens; k++)
            mock_put_token(b, c, k);
        MOCK_PUT(b, "\"");
    }
    MOCK_PUT(b, ",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":");
    if (c->tool)
        MOCK_PUT(b, "\"tool_calls\"}],\"usage\":");
    else
        MOCK_PUT(b, "\"stop\"}],\"usage\":");
    mock_put_usage(b, c, true);
    MOCK_PUT(b, ",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_mock\"}");
}

/* `data: {"id":..,"object":..,"created":..,"model":..,"system_fingerprint":..,"choices":[` */
static void mock_stream_prefix(mock_call_t *c, const char *object, uint64_t created)
{
    buf_t *b = &c->prefix;
    b->n = 0;
    MOCK_PUT(b, "data: {\"id\":\"");
    buf_append_cstr(b, c->object_id);
    MOCK_PUT(b, "\",\"object\":\"");
    buf_append_cstr(b, object);
    MOCK_PUT(b, "\",\"created\":");
    mock_append_u64(b, created);
    MOCK_PUT(b, ",\"model\":\"");
    buf_append(b, c->model.p, c->model.n);
    MOCK_PUT(b, "\",\"system_fingerprint\":\"fp_mock\",\"choices\":[");
}

static void mock_frame_end(buf_t *out, const mock_call_t *c)
{
    /* chat chunks carry "usage":null before the usage chunk; completions chunks (typed as the
     * non-null CreateCompletionResponse.usage) leave it out */
    if (c->include_usage && c->kind == MOCK_KIND_CHAT)
        MOCK_PUT(out, "],\"usage\":null}\n\n");
    else
        MOCK_PUT(out, "]}\n\n");
}

static void mock_frame_usage(buf_t *out, const mock_call_t *c, bool details)
{
    buf_append(out, c->prefix.p, c->prefix.n);
    MOCK_PUT(out, "],\"usage\":");
    mock_put_usage(out, c, details);
    MOCK_PUT(out, "}\n\n");
}

/* The last frames every stream shares: optional usage chunk, then [DONE]. `i` counts from the
 * first of them. */
static bool mock_frame_tail(mock_call_t *c, size_t i, buf_t *out, bool details)
{
    if (c->include_usage) {
        if (i == 0) {
            mock_frame_usage(out, c, details);
            return true;
        }
        i--;
    }
    if (i == 0) {
        MOCK_PUT(out, "data: [DONE]\n\n");
        return true;
    }
    return false;
}

/* Chat stream: role (after ttft), content deltas (chunk delay between), finish, usage, [DONE];
 * with a tool: the call's head, argument deltas "{" and "}", finish "tool_calls". */
static bool mock_chat_frame(mock_call_t *c, size_t i, buf_t *out, uint64_t *delay_ms)
{
    uint64_t deltas = c->tool ? 2 : c->timing.tokens;
    if (i == 0) {
        *delay_ms = c->timing.ttft_ms;
        buf_append(out, c->prefix.p, c->prefix.n);
        if (c->tool) {
            MOCK_PUT(out, "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,"
                          "\"tool_calls\":[{\"index\":0,\"id\":\"");
            buf_append_cstr(out, c->call_id);
            MOCK_PUT(out, "\",\"type\":\"function\",\"function\":{\"name\":\"");
            buf_append(out, c->tool_name.p, c->tool_name.n);
            MOCK_PUT(out, "\",\"arguments\":\"\"}}],\"refusal\":null},\"logprobs\":null,"
                          "\"finish_reason\":null}");
        } else {
            MOCK_PUT(out, "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\","
                          "\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}");
        }
        mock_frame_end(out, c);
        return true;
    }
    if (i <= deltas) {
        *delay_ms = i == 1 ? 0 : c->timing.chunk_delay_ms;
        buf_append(out, c->prefix.p, c->prefix.n);
        if (c->tool) {
            MOCK_PUT(out, "{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{"
                          "\"arguments\":\"");
            if (i == 1)
                MOCK_PUT(out, "{");
            else
                MOCK_PUT(out, "}");
            MOCK_PUT(out, "\"}}]},\"logprobs\":null,\"finish_reason\":null}");
        } else {
            MOCK_PUT(out, "{\"index\":0,\"delta\":{\"content\":\"");
            mock_put_token(out, c, i - 1);
            MOCK_PUT(out, "\"},\"logprobs\":null,\"finish_reason\":null}");
        }
        mock_frame_end(out, c);
        return true;
    }
    if (i == deltas + 1) {
        *delay_ms = 0;
        buf_append(out, c->prefix.p, c->prefix.n);
        if (c->tool)
            MOCK_PUT(
                out,
                "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}");
        else
            MOCK_PUT(out,
                     "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}");
        mock_frame_end(out, c);
        return true;
    }
    *delay_ms = 0;
    return mock_frame_tail(c, i - deltas - 2, out, true);
}

/* ---- completions ------------------------------------------------------------------------ */

static void mock_completion_body(mock_call_t *c, uint64_t created)
{
    buf_t *b = &c->body;
    b->n = 0;
    buf_reserve(b, 512 + c->model.n + c->timing.tokens * 8);
    MOCK_PUT(b, "{\"id\":\"");
    buf_append_cstr(b, c->object_id);
    MOCK_PUT(b, "\",\"object\":\"text_completion\",\"created\":");
    mock_append_u64(b, created);
    MOCK_PUT(b, ",\"model\":\"");
    buf_append(b, c->model.p, c->model.n);
    MOCK_PUT(b, "\",\"system_fingerprint\":\"fp_mock\",\"choices\":[{\"text\":\"");
    for (uint64_t k = 0; k < c->timing.tokens; k++)
        mock_put_token(b, c, k);
    MOCK_PUT(b, "\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":");
    mock_put_usage(b, c, false);
    MOCK_PUT(b, "}");
}

/* Completion stream: one text delta per token (the first after ttft), an empty text with
 * finish_reason "stop", usage, [DONE]. */
static bool mock_completion_frame(mock_call_t *c, size_t i, buf_t *out, uint64_t *delay_ms)
{
    uint64_t tokens = c->timing.tokens;
    if (i <= tokens) {
        *delay_ms = i == 0 ? c->timing.ttft_ms : i == tokens ? 0 : c->timing.chunk_delay_ms;
        buf_append(out, c->prefix.p, c->prefix.n);
        MOCK_PUT(out, "{\"text\":\"");
        if (i < tokens)
            mock_put_token(out, c, i);
        if (i < tokens)
            MOCK_PUT(out, "\",\"index\":0,\"logprobs\":null,\"finish_reason\":null}");
        else
            MOCK_PUT(out, "\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}");
        mock_frame_end(out, c);
        return true;
    }
    *delay_ms = 0;
    return mock_frame_tail(c, i - tokens - 1, out, false);
}

/* The malformed fault on a stream: an event whose data is not JSON, then [DONE]. */
static bool mock_malformed_frame(mock_call_t *c, size_t i, buf_t *out, uint64_t *delay_ms)
{
    *delay_ms = i == 0 ? c->timing.ttft_ms : 0;
    if (i == 0)
        MOCK_PUT(out,
                 "data: {\"id\":\"mock-malformed\",\"choices\":[{\"delta\":{\"content\":\"tru\n\n");
    else if (i == 1)
        MOCK_PUT(out, "data: [DONE]\n\n");
    return i < 2;
}

/* ---- shared by chat and completions ----------------------------------------------------- */

static const char mock_malformed_body[] = "mock: this body is not JSON {\"choices\":[";

/* The faults on a complete JSON answer already in c->body: a non-JSON body, or the head and
 * half the body before the connection closes. */
static void mock_apply_json_fault(mock_call_t *c, mock_fault_t fault)
{
    if (fault == MOCK_FAULT_MALFORMED) {
        c->body.n = 0;
        buf_append(&c->body, mock_malformed_body, sizeof mock_malformed_body - 1);
    } else if (fault == MOCK_FAULT_DROP_MID_STREAM) {
        c->action = MOCK_ACT_PARTIAL;
    }
}

/* Turns a validated generation request into the plan: JSON now, or a timed stream; then the
 * drop-mid-stream, malformed and slow-head faults. */
static void mock_plan_generation(mock_call_t *c, bool stream, mock_fault_t fault)
{
    uint64_t created = (uint64_t)time(NULL);
    bool chat = c->kind == MOCK_KIND_CHAT;
    if (!stream) {
        c->pre_ms = c->timing.latency_ms;
        if (chat)
            mock_chat_body(c, created);
        else
            mock_completion_body(c, created);
        mock_apply_json_fault(c, fault);
        return;
    }
    c->action = MOCK_ACT_STREAM;
    c->content_type = "text/event-stream";
    c->pre_ms = fault == MOCK_FAULT_SLOW_HEAD ? c->timing.latency_ms : 0;
    mock_stream_prefix(c, chat ? "chat.completion.chunk" : "text_completion", created);
    c->frame = chat ? mock_chat_frame : mock_completion_frame;
    if (fault == MOCK_FAULT_MALFORMED)
        c->frame = mock_malformed_frame;
    if (fault == MOCK_FAULT_DROP_MID_STREAM) {
        uint64_t deltas = chat && c->tool ? 2 : c->timing.tokens;
        /* chat: the role frame and half the deltas; completions: half the text deltas */
        c->drop_after = chat ? 1 + deltas / 2 : MAX(1, deltas / 2);
    }
}

/* The top-level members chat and completions look at, found in one validating pass (jscan)
 * so the hot path builds no document. */
enum {
    MOCK_F_MODEL,
    MOCK_F_MESSAGES,
    MOCK_F_PROMPT,
    MOCK_F_STREAM,
    MOCK_F_STREAM_OPTIONS,
    MOCK_F_TOOLS,
    MOCK_F_TOOL_CHOICE,
    MOCK_F_MOCK,
    MOCK_F_COUNT,
};

static int mock_scan_body(str_t body, jscan_field_t f[MOCK_F_COUNT])
{
    static const char *const names[MOCK_F_COUNT] = {
        "model", "messages", "prompt", "stream", "stream_options", "tools", "tool_choice", "mock"};
    for (int i = 0; i < MOCK_F_COUNT; i++)
        f[i] = (jscan_field_t){.name = str_cstr(names[i])};
    if (body.n == 0)
        return -1;
    return jscan_find(body.p, body.n, f, MOCK_F_COUNT, NULL);
}

static bool mock_is_nonempty_string(const cJSON *v)
{
    return cJSON_IsString(v) && v->valuestring[0] != '\0';
}

static bool mock_raw_is_null(str_t raw)
{
    return !raw.p || str_eq_cstr(raw, "null");
}

/* True for a raw JSON array with at least one element. */
static bool mock_raw_is_nonempty_array(str_t raw)
{
    if (!raw.p || raw.n < 2 || raw.p[0] != '[')
        return false;
    str_t inner = str_make(raw.p + 1, raw.n - 2);
    while (inner.n &&
           (inner.p[0] == ' ' || inner.p[0] == '\t' || inner.p[0] == '\r' || inner.p[0] == '\n'))
        inner = str_skip(inner, 1);
    return inner.n > 0;
}

/* The model from a raw member: a validated string literal is already JSON-escaped text, so
 * its inside is spliced into answers as is. Else the Azure deployment's name. False (400
 * planned) when missing. */
static bool mock_read_model(mock_call_t *c, str_t raw, str_t deployment)
{
    if (raw.p && raw.n > 2 && raw.p[0] == '"') {
        buf_append(&c->model, raw.p + 1, raw.n - 2);
        return true;
    }
    if (!mock_raw_is_null(raw) && raw.p[0] != '"') {
        mock_plan_invalid(c, "Invalid type for 'model': expected a string.", "model");
        return false;
    }
    if (deployment.n) {
        mock_put_escaped(&c->model, deployment);
        return true;
    }
    mock_plan_invalid(c, "Missing required parameter: 'model'.", "model");
    return false;
}

static bool mock_read_stream(mock_call_t *c, const jscan_field_t *f)
{
    str_t include = STR_NULL;
    str_t options = f[MOCK_F_STREAM_OPTIONS].value;
    if (options.p && options.p[0] == '{' &&
        jscan_member_find(options, "include_usage", &include) == 0)
        c->include_usage = jscan_is_true(include);
    return f[MOCK_F_STREAM].value.p && jscan_is_true(f[MOCK_F_STREAM].value);
}

/* The tool to call: the one tool_choice names, else the first tool; none when tool_choice is
 * "none" or there are no tools. Requests with tools are rare on the hot path: cJSON is fine. */
static void mock_read_tool(mock_call_t *c, const jscan_field_t *f)
{
    str_t tools_raw = f[MOCK_F_TOOLS].value, choice_raw = f[MOCK_F_TOOL_CHOICE].value;
    if (!mock_raw_is_nonempty_array(tools_raw))
        return;
    if (choice_raw.p && jscan_string_eq(choice_raw, STR_LIT("none")))
        return;
    cJSON *tools = cJSON_ParseWithLength(tools_raw.p, tools_raw.n);
    cJSON *choice = choice_raw.p ? cJSON_ParseWithLength(choice_raw.p, choice_raw.n) : NULL;
    const cJSON *name = NULL;
    if (cJSON_IsObject(choice)) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(choice, "function");
        name = cJSON_GetObjectItemCaseSensitive(fn ? fn : choice, "name");
    }
    if (!mock_is_nonempty_string(name) && tools) {
        const cJSON *tool = tools->child;
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tool, "function");
        /* nested {"type":"function","function":{"name"}} or flat {"type":"function","name"} */
        name = cJSON_GetObjectItemCaseSensitive(fn ? fn : tool, "name");
    }
    c->tool = true;
    mock_put_escaped(&c->tool_name, mock_is_nonempty_string(name) ? str_cstr(name->valuestring)
                                                                  : STR_LIT("function"));
    mock_new_id(c, c->call_id, "call_", 24);
    cJSON_Delete(tools);
    cJSON_Delete(choice);
}

static void mock_plan_chat(mock_call_t *c, const jscan_field_t *f, str_t deployment,
                           mock_fault_t fault)
{
    if (!mock_read_model(c, f[MOCK_F_MODEL].value, deployment))
        return;
    str_t messages = f[MOCK_F_MESSAGES].value;
    if (mock_raw_is_null(messages)) {
        mock_plan_invalid(c, "Missing required parameter: 'messages'.", "messages");
        return;
    }
    if (!mock_raw_is_nonempty_array(messages)) {
        mock_plan_invalid(c, "Invalid 'messages': expected a non-empty array.", "messages");
        return;
    }
    bool stream = mock_read_stream(c, f);
    mock_read_tool(c, f);
    c->kind = MOCK_KIND_CHAT;
    mock_new_id(c, c->object_id, "chatcmpl-", 29);
    mock_plan_generation(c, stream, fault);
}

static void mock_plan_completion(mock_call_t *c, const jscan_field_t *f, str_t deployment,
                                 mock_fault_t fault)
{
    if (!mock_read_model(c, f[MOCK_F_MODEL].value, deployment))
        return;
    str_t prompt = f[MOCK_F_PROMPT].value;
    if (mock_raw_is_null(prompt)) {
        mock_plan_invalid(c, "Missing required parameter: 'prompt'.", "prompt");
        return;
    }
    if (prompt.p[0] != '"' && prompt.p[0] != '[') {
        mock_plan_invalid(c, "Invalid 'prompt': expected a string or an array.", "prompt");
        return;
    }
    bool stream = mock_read_stream(c, f);
    c->kind = MOCK_KIND_COMPLETION;
    mock_new_id(c, c->object_id, "cmpl-", 29);
    mock_plan_generation(c, stream, fault);
}

/* ---- embeddings ------------------------------------------------------------------------- */

static uint64_t mock_splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A unit vector that depends only on the input: same text, same vector. */
static void mock_embed_vector(uint64_t seed, float *v, size_t dims)
{
    double norm = 0;
    for (size_t i = 0; i < dims; i++) {
        double x = (double)(mock_splitmix(&seed) >> 11) * (1.0 / 9007199254740992.0) * 2 - 1;
        v[i] = (float)x;
        norm += x * x;
    }
    norm = sqrt(norm);
    for (size_t i = 0; i < dims && norm > 0; i++)
        v[i] = (float)(v[i] / norm);
}

static void mock_put_base64(buf_t *b, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (buf_reserve(b, (n + 2) / 3 * 4) != 0)
        return;
    char *o = b->p + b->n;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t x = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = tab[x >> 18];
        *o++ = tab[(x >> 12) & 63];
        *o++ = tab[(x >> 6) & 63];
        *o++ = tab[x & 63];
    }
    if (i < n) {
        uint32_t x = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = tab[x >> 18];
        *o++ = tab[(x >> 12) & 63];
        *o++ = i + 1 < n ? tab[(x >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->n = (size_t)(o - b->p);
}

static void mock_embed_item(buf_t *b, size_t index, uint64_t seed, size_t dims, bool base64)
{
    float v[MOCK_EMBED_MAX_DIMS];
    mock_embed_vector(seed, v, dims);
    if (index)
        MOCK_PUT(b, ",");
    MOCK_PUT(b, "{\"object\":\"embedding\",\"index\":");
    mock_append_u64(b, index);
    MOCK_PUT(b, ",\"embedding\":");
    if (base64) {
        unsigned char bytes[MOCK_EMBED_MAX_DIMS * 4];
        for (size_t i = 0; i < dims; i++) {
            uint32_t u;
            memcpy(&u, &v[i], 4);
            bytes[4 * i] = (unsigned char)u; /* little-endian whatever the host */
            bytes[4 * i + 1] = (unsigned char)(u >> 8);
            bytes[4 * i + 2] = (unsigned char)(u >> 16);
            bytes[4 * i + 3] = (unsigned char)(u >> 24);
        }
        MOCK_PUT(b, "\"");
        mock_put_base64(b, bytes, dims * 4);
        MOCK_PUT(b, "\"}");
        return;
    }
    MOCK_PUT(b, "[");
    for (size_t i = 0; i < dims; i++)
        buf_printf(b, i ? ",%.9g" : "%.9g", (double)v[i]);
    MOCK_PUT(b, "]}");
}

static uint64_t mock_hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

#define MOCK_FNV_SEED 1469598103934665603ull

/* A token array's seed and token count; false when an element is not an integer. */
static bool mock_embed_tokens(const cJSON *arr, uint64_t *seed, uint64_t *count)
{
    uint64_t h = MOCK_FNV_SEED ^ 0x746f6b656e73ull; /* tokens never collide with text */
    uint64_t n = 0;
    for (const cJSON *t = arr->child; t; t = t->next, n++) {
        if (!cJSON_IsNumber(t) || t->valuedouble != floor(t->valuedouble))
            return false;
        long long v = (long long)t->valuedouble;
        h = mock_hash_bytes(h, &v, sizeof v);
    }
    *seed = h;
    *count = n;
    return true;
}

static void mock_plan_embeddings(mock_call_t *c, const cJSON *root, str_t deployment,
                                 mock_fault_t fault)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (mock_is_nonempty_string(model))
        mock_put_escaped(&c->model, str_cstr(model->valuestring));
    else if (!mock_read_model(c,
                              !model || cJSON_IsNull(model) || cJSON_IsString(model)
                                  ? STR_NULL
                                  : STR_LIT("0") /* any non-string */,
                              deployment))
        return;
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(root, "input");
    if (!input) {
        mock_plan_invalid(c, "Missing required parameter: 'input'.", "input");
        return;
    }
    size_t dims = MOCK_EMBED_DEFAULT_DIMS;
    const cJSON *dimensions = cJSON_GetObjectItemCaseSensitive(root, "dimensions");
    if (dimensions && !cJSON_IsNull(dimensions)) {
        double d = cJSON_IsNumber(dimensions) ? dimensions->valuedouble : -1;
        if (d < 1 || d > MOCK_EMBED_MAX_DIMS || d != floor(d)) {
            mock_plan_invalid(c, "Invalid 'dimensions': expected an integer from 1 to 8192.",
                              "dimensions");
            return;
        }
        dims = (size_t)d;
    }
    bool base64 = false;
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "encoding_format");
    if (format && !cJSON_IsNull(format)) {
        if (cJSON_IsString(format) && strcmp(format->valuestring, "base64") == 0) {
            base64 = true;
        } else if (!cJSON_IsString(format) || strcmp(format->valuestring, "float") != 0) {
            mock_plan_invalid(c, "Invalid 'encoding_format': expected 'float' or 'base64'.",
                              "encoding_format");
            return;
        }
    }

    buf_t *b = &c->body;
    b->n = 0;
    MOCK_PUT(b, "{\"object\":\"list\",\"data\":[");
    uint64_t prompt_tokens = 0;
    size_t count = 0;
    const char *bad = NULL;
    if (cJSON_IsString(input)) {
        str_t text = str_cstr(input->valuestring);
        mock_embed_item(b, 0, mock_hash_bytes(MOCK_FNV_SEED, text.p, text.n), dims, base64);
        prompt_tokens = (text.n + 3) / 4;
        count = 1;
    } else if (!cJSON_IsArray(input) || !input->child) {
        bad = "Invalid 'input': expected a string, an array of strings, or token arrays.";
    } else if (cJSON_IsNumber(input->child)) {
        uint64_t seed, n;
        if (!mock_embed_tokens(input, &seed, &n))
            bad = "Invalid 'input': a token array holds integers only.";
        else
            mock_embed_item(b, 0, seed, dims, base64);
        prompt_tokens = n;
        count = 1;
    } else {
        for (const cJSON *it = input->child; it && !bad; it = it->next, count++) {
            uint64_t seed, n = 0;
            if (count >= MOCK_EMBED_MAX_INPUTS) {
                bad = "Invalid 'input': at most 2048 inputs.";
            } else if (cJSON_IsString(it)) {
                str_t text = str_cstr(it->valuestring);
                seed = mock_hash_bytes(MOCK_FNV_SEED, text.p, text.n);
                n = (text.n + 3) / 4;
            } else if (!cJSON_IsArray(it) || !mock_embed_tokens(it, &seed, &n)) {
                bad = "Invalid 'input': expected a string, an array of strings, or token arrays.";
            }
            if (!bad)
                mock_embed_item(b, count, seed, dims, base64);
            prompt_tokens += n;
        }
    }
    if (bad) {
        mock_plan_invalid(c, bad, "input");
        return;
    }
    MOCK_PUT(b, "],\"model\":\"");
    buf_append(b, c->model.p, c->model.n);
    MOCK_PUT(b, "\",\"usage\":{\"prompt_tokens\":");
    mock_append_u64(b, prompt_tokens);
    MOCK_PUT(b, ",\"total_tokens\":");
    mock_append_u64(b, prompt_tokens);
    MOCK_PUT(b, "}}");
    c->pre_ms = c->timing.latency_ms;
    mock_apply_json_fault(c, fault);
}

/* ---- models ----------------------------------------------------------------------------- */

static void mock_put_model(buf_t *b, str_t id)
{
    MOCK_PUT(b, "{\"id\":");
    buf_append_json_string(b, id);
    MOCK_PUT(b, ",\"object\":\"model\",\"created\":1700000000,\"owned_by\":\"sluice-mock\"}");
}

static void mock_plan_models(mock_call_t *c, str_t one, mock_fault_t fault)
{
    buf_t *b = &c->body;
    b->n = 0;
    if (one.n) {
        mock_put_model(b, one);
    } else {
        MOCK_PUT(b, "{\"object\":\"list\",\"data\":[");
        for (size_t i = 0; i < COUNTOF(mock_models); i++) {
            if (i)
                MOCK_PUT(b, ",");
            mock_put_model(b, str_cstr(mock_models[i]));
        }
        MOCK_PUT(b, "]}");
    }
    c->pre_ms = c->timing.latency_ms;
    mock_apply_json_fault(c, fault);
}

/* ---- routing ---------------------------------------------------------------------------- */

/* Maps method and path to a route. Accepts /v1/x, /x, /openai/v1/x and Azure's
 * /openai/deployments/<name>/x (then *deployment is <name>); *model_id gets GET /models/<id>. */
static int mock_route(const http_req_t *req, str_t *deployment, str_t *model_id, bool *azure)
{
    str_t path = req->head.path;
    str_t method = req->head.method;
    bool get = str_eq_cstr(method, "GET"), post = str_eq_cstr(method, "POST");
    *deployment = *model_id = STR_NULL;
    *azure = false;
    if (str_eq_cstr(path, "/mock/stats"))
        return get ? MOCK_ROUTE_STATS : MOCK_ROUTE_NONE;
    if (str_eq_cstr(path, "/mock/reset"))
        return post ? MOCK_ROUTE_RESET : MOCK_ROUTE_NONE;
    static const str_t azure_deployments = STR_LIT("/openai/deployments/");
    if (str_has_prefix(path, azure_deployments)) {
        str_t rest = str_skip(path, azure_deployments.n);
        const char *slash = memchr(rest.p, '/', rest.n);
        if (!slash || slash == rest.p)
            return MOCK_ROUTE_NONE;
        *deployment = str_make(rest.p, (size_t)(slash - rest.p));
        path = str_skip(rest, deployment->n);
        *azure = true;
    } else if (str_has_prefix(path, STR_LIT("/openai/v1/"))) {
        path = str_skip(path, 10);
        *azure = true;
    } else if (str_has_prefix(path, STR_LIT("/v1/"))) {
        path = str_skip(path, 3);
    }
    if (post && str_eq_cstr(path, "/chat/completions"))
        return MOCK_ROUTE_CHAT;
    if (post && str_eq_cstr(path, "/completions"))
        return MOCK_ROUTE_COMPLETIONS;
    if (post && str_eq_cstr(path, "/embeddings"))
        return MOCK_ROUTE_EMBEDDINGS;
    if (get && str_eq_cstr(path, "/models") && !deployment->n)
        return MOCK_ROUTE_MODELS;
    if (get && str_has_prefix(path, STR_LIT("/models/")) && path.n > 8 && !deployment->n) {
        *model_id = str_skip(path, 8);
        return MOCK_ROUTE_MODEL;
    }
    return MOCK_ROUTE_NONE;
}

/* OpenAI wants `Authorization: Bearer <key>`; Azure paths also take `api-key: <key>`. */
static bool mock_has_auth(const http_req_t *req, bool azure)
{
    static const str_t bearer = STR_LIT("Bearer ");
    str_t auth = http_req_header(req, "authorization");
    if (auth.p && str_case_has_prefix(auth, bearer) && str_trim(str_skip(auth, bearer.n)).n)
        return true;
    return azure && http_req_header(req, "api-key").n > 0;
}

/* The JSON body, or NULL when it is not exactly one JSON value (trailing bytes included). */
static cJSON *mock_parse_body(str_t body)
{
    if (body.n == 0)
        return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body.p, body.n, &end, false);
    if (!root)
        return NULL;
    const char *stop = body.p + body.n;
    while (end && end < stop && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (end != stop) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static void mock_handle_control(mock_call_t *c, int route)
{
    if (route == MOCK_ROUTE_RESET) {
        mock_stats_reset();
        MOCK_PUT(&c->body, "{\"reset\":true}");
    } else {
        mock_stats_render(&c->body);
    }
    mock_call_start(c);
}

/* OpenAI's Responses API, /v1/responses and by id (tools/mock/responses.c) */
bool mock_responses_handle(mock_call_t *c);

void mock_handle_request(http_req_t *req)
{
    mock_worker_t *w = req->server_data;
    str_t deployment, model_id;
    bool azure;
    int route = mock_route(req, &deployment, &model_id, &azure);
    mock_call_t *c = mock_call_acquire(w, req);
    if (route == MOCK_ROUTE_STATS || route == MOCK_ROUTE_RESET) {
        mock_handle_control(c, route);
        return;
    }
    mock_stats_record(w, req);
    /* the other providers' wire formats, one file each (tools/mock/<provider>.c) */
    if (mock_responses_handle(c) || mock_anthropic_handle(c) || mock_gemini_handle(c) ||
        mock_bedrock_handle(c) || mock_cohere_handle(c) || mock_ollama_handle(c))
        return;

    /* chat and completions are scanned (jscan), embeddings parsed (cJSON): they need every
     * input; the "mock" member alone is parsed when present */
    cJSON *root = NULL, *mock_tree = NULL;
    const cJSON *body_mock = NULL;
    jscan_field_t f[MOCK_F_COUNT];
    bool json_ok = false;
    if (route == MOCK_ROUTE_CHAT || route == MOCK_ROUTE_COMPLETIONS) {
        json_ok = mock_scan_body(req->body, f) == 0;
        str_t raw = f[MOCK_F_MOCK].value;
        if (json_ok && raw.p)
            body_mock = mock_tree = cJSON_ParseWithLength(raw.p, raw.n);
    } else if (route == MOCK_ROUTE_EMBEDDINGS) {
        root = mock_parse_body(req->body);
        json_ok = cJSON_IsObject(root);
        if (json_ok)
            body_mock = cJSON_GetObjectItemCaseSensitive(root, "mock");
    }
    mock_controls_t ctl;
    char err[256];
    if (mock_controls_read(&ctl, &w->cfg->timing, req, body_mock, err, sizeof err) != 0) {
        mock_plan_invalid(c, err, "mock");
        goto start;
    }
    if (ctl.fail_first && !ctl.id.n) {
        mock_plan_invalid(c, "mock control 'fail-first' needs an 'id'", "mock");
        goto start;
    }
    c->timing = ctl.timing;
    c->delay_ms = ctl.delay_ms;
    c->prompt_tokens = (req->body.n + 3) / 4;
    uint64_t seen = 0;
    if (ctl.id.n) {
        buf_append_str(&c->id, ctl.id);
        seen = mock_stats_id_request(ctl.id);
    }

    if (ctl.fault == MOCK_FAULT_DROP) {
        c->action = MOCK_ACT_DROP;
    } else if (ctl.fail_first) {
        if (seen <= ctl.fail_first)
            mock_plan_status(c, ctl.status >= 400 ? ctl.status : 500);
    } else if (ctl.status >= 400) {
        mock_plan_status(c, ctl.status);
    }
    if (c->action == MOCK_ACT_DROP || c->body.n)
        goto start; /* a control decided the answer */

    if (route == MOCK_ROUTE_NONE) {
        char message[160];
        snprintf(message, sizeof message, "Invalid URL (%.*s %.*s)", STR_FMT(req->head.method),
                 (int)MIN(req->head.path.n, 100), req->head.path.p);
        mock_plan_error(c, 404, message, "invalid_request_error", NULL, NULL);
    } else if (!mock_has_auth(req, azure)) {
        mock_plan_error(c, 401,
                        "You didn't provide an API key. You need to provide your API key in an "
                        "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                        "YOUR_KEY).",
                        "invalid_request_error", NULL, NULL);
    } else if (route == MOCK_ROUTE_MODELS || route == MOCK_ROUTE_MODEL) {
        mock_plan_models(c, model_id, ctl.fault);
    } else if (!json_ok) {
        mock_plan_invalid(c,
                          "We could not parse the JSON body of your request. The OpenAI API "
                          "expects a JSON object, but what was sent was not valid JSON.",
                          NULL);
    } else if (route == MOCK_ROUTE_CHAT) {
        mock_plan_chat(c, f, deployment, ctl.fault);
    } else if (route == MOCK_ROUTE_COMPLETIONS) {
        mock_plan_completion(c, f, deployment, ctl.fault);
    } else {
        mock_plan_embeddings(c, root, deployment, ctl.fault);
    }

start:
    cJSON_Delete(root);
    cJSON_Delete(mock_tree);
    mock_call_start(c);
}
