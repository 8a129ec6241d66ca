/* SPDX-License-Identifier: MIT
 * sluice-mock: Anthropic's Messages API. POST /v1/messages answers a `message` object, or with
 * "stream": true the named SSE events (message_start, content_block_*, ping, message_delta,
 * message_stop); POST /v1/messages/count_tokens answers {"input_tokens": N}. Requests need
 * x-api-key (or Authorization: Bearer) and anthropic-version; errors use Anthropic's envelope.
 * The controls and the timing are the OpenAI routes' own (controls.c), delivered by call.c. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "core/jscan.h"
#include "mock.h"
#include "native.h"

#define ANTH_PUT(b, lit) mock_append((b), "" lit, sizeof(lit) - 1)

enum { ANTH_ROUTE_NONE = 0, ANTH_ROUTE_MESSAGES, ANTH_ROUTE_COUNT_TOKENS };

/* mock_call_t.kind: why the message stopped */
enum { ANTH_KIND_END_TURN = 1, ANTH_KIND_MAX_TOKENS };

/* The request's top-level members, found in one validating pass (jscan). */
enum {
    ANTH_F_MODEL,
    ANTH_F_MAX_TOKENS,
    ANTH_F_MESSAGES,
    ANTH_F_STREAM,
    ANTH_F_TOOLS,
    ANTH_F_TOOL_CHOICE,
    ANTH_F_MOCK,
    ANTH_F_COUNT,
};

static int anth_route(const http_req_t *req)
{
    str_t path = req->head.path;
    if (str_eq_cstr(path, "/v1/messages"))
        return ANTH_ROUTE_MESSAGES;
    if (str_eq_cstr(path, "/v1/messages/count_tokens"))
        return ANTH_ROUTE_COUNT_TOKENS;
    return ANTH_ROUTE_NONE;
}

/* ---- errors ----------------------------------------------------------------------------- */

/* Anthropic's error type for an HTTP status. */
static const char *anth_error_type(int status)
{
    switch (status) {
    case 401:
        return "authentication_error";
    case 402:
        return "billing_error";
    case 403:
        return "permission_error";
    case 404:
        return "not_found_error";
    case 413:
        return "request_too_large";
    case 429:
        return "rate_limit_error";
    case 504:
        return "timeout_error";
    case 529:
        return "overloaded_error";
    default:
        return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

/* {"type":"error","error":{"type":..,"message":..},"request_id":..}, sent at once. */
static void anth_plan_error(mock_call_t *c, int status, const char *message)
{
    buf_t *b = &c->body;
    c->action = MOCK_ACT_SEND;
    c->status = status;
    c->content_type = "application/json";
    c->pre_ms = 0;
    b->n = 0;
    ANTH_PUT(b, "{\"type\":\"error\",\"error\":{\"type\":\"");
    buf_append_cstr(b, anth_error_type(status));
    ANTH_PUT(b, "\",\"message\":");
    buf_append_json_string(b, str_cstr(message));
    ANTH_PUT(b, "},\"request_id\":\"");
    buf_append(b, c->request_id, 36);
    ANTH_PUT(b, "\"}");
}

/* ---- the answer ------------------------------------------------------------------------- */

/* Token k of "mock answer to <model>: w1 w2 ...", as the OpenAI routes word it. */
static void anth_put_token(buf_t *b, const mock_call_t *c, uint64_t k)
{
    switch (k) {
    case 0:
        ANTH_PUT(b, "mock");
        return;
    case 1:
        ANTH_PUT(b, " answer");
        return;
    case 2:
        ANTH_PUT(b, " to");
        return;
    case 3:
        ANTH_PUT(b, " ");
        buf_append(b, c->model.p, c->model.n);
        ANTH_PUT(b, ":");
        return;
    default:
        ANTH_PUT(b, " w");
        mock_append_u64(b, k - 3);
    }
}

static void anth_put_stop_reason(buf_t *b, const mock_call_t *c)
{
    if (c->tool)
        ANTH_PUT(b, "\"tool_use\"");
    else if (c->kind == ANTH_KIND_MAX_TOKENS)
        ANTH_PUT(b, "\"max_tokens\"");
    else
        ANTH_PUT(b, "\"end_turn\"");
}

static void anth_put_usage(buf_t *b, const mock_call_t *c, uint64_t output_tokens)
{
    ANTH_PUT(b, "{\"input_tokens\":");
    mock_append_u64(b, c->prompt_tokens);
    ANTH_PUT(b, ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
                "\"output_tokens\":");
    mock_append_u64(b, output_tokens);
    ANTH_PUT(b, ",\"service_tier\":\"standard\"}");
}

/* `"id":"msg_..","type":"message","role":"assistant","model":"..","content":[` */
static void anth_put_message_head(buf_t *b, const mock_call_t *c)
{
    ANTH_PUT(b, "\"id\":\"");
    buf_append_cstr(b, c->object_id);
    ANTH_PUT(b, "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"");
    buf_append(b, c->model.p, c->model.n);
    ANTH_PUT(b, "\",\"content\":[");
}

static void anth_message_body(mock_call_t *c)
{
    buf_t *b = &c->body;
    b->n = 0;
    buf_reserve(b, 512 + c->model.n * 2 + c->tool_name.n + c->timing.tokens * 8);
    ANTH_PUT(b, "{");
    anth_put_message_head(b, c);
    if (c->tool) {
        ANTH_PUT(b, "{\"type\":\"tool_use\",\"id\":\"");
        buf_append_cstr(b, c->call_id);
        ANTH_PUT(b, "\",\"name\":\"");
        buf_append(b, c->tool_name.p, c->tool_name.n);
        ANTH_PUT(b, "\",\"input\":{}}");
    } else if (c->timing.tokens) {
        ANTH_PUT(b, "{\"type\":\"text\",\"text\":\"");
        for (uint64_t k = 0; k < c->timing.tokens; k++)
            anth_put_token(b, c, k);
        ANTH_PUT(b, "\"}");
    }
    ANTH_PUT(b, "],\"stop_reason\":");
    anth_put_stop_reason(b, c);
    ANTH_PUT(b, ",\"stop_sequence\":null,\"usage\":");
    anth_put_usage(b, c, c->timing.tokens);
    ANTH_PUT(b, "}");
}

/* ---- the stream ------------------------------------------------------------------------- */

/* Deltas of the one content block: a tool's input "{" and "}", else one text delta per token. */
static uint64_t anth_deltas(const mock_call_t *c)
{
    return c->tool ? 2 : c->timing.tokens;
}

static bool anth_has_block(const mock_call_t *c)
{
    return c->tool || c->timing.tokens > 0;
}

/* Stream frames: message_start (after ttft); with a block: content_block_start, ping, the deltas
 * (chunk delay between), content_block_stop; then message_delta and message_stop at once. */
static bool anth_frame(mock_call_t *c, size_t i, buf_t *out, uint64_t *delay_ms)
{
    uint64_t deltas = anth_deltas(c);
    *delay_ms = 0;
    if (i == 0) {
        *delay_ms = c->timing.ttft_ms;
        ANTH_PUT(out, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{");
        anth_put_message_head(out, c);
        ANTH_PUT(out, "],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":");
        anth_put_usage(out, c, 1);
        ANTH_PUT(out, "}}\n\n");
        return true;
    }
    size_t tail = 2; /* the index of message_delta */
    if (anth_has_block(c)) {
        tail = 4 + deltas;
        if (i == 1) {
            ANTH_PUT(out, "event: content_block_start\ndata: {\"type\":\"content_block_start\","
                          "\"index\":0,\"content_block\":");
            if (c->tool) {
                ANTH_PUT(out, "{\"type\":\"tool_use\",\"id\":\"");
                buf_append_cstr(out, c->call_id);
                ANTH_PUT(out, "\",\"name\":\"");
                buf_append(out, c->tool_name.p, c->tool_name.n);
                ANTH_PUT(out, "\",\"input\":{}}}\n\n");
            } else {
                ANTH_PUT(out, "{\"type\":\"text\",\"text\":\"\"}}\n\n");
            }
            return true;
        }
        if (i >= 3 && i < 3 + deltas) {
            *delay_ms = i == 3 ? 0 : c->timing.chunk_delay_ms;
            ANTH_PUT(out, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
                          "\"index\":0,\"delta\":");
            if (c->tool) {
                ANTH_PUT(out, "{\"type\":\"input_json_delta\",\"partial_json\":\"");
                if (i == 3)
                    ANTH_PUT(out, "{");
                else
                    ANTH_PUT(out, "}");
            } else {
                ANTH_PUT(out, "{\"type\":\"text_delta\",\"text\":\"");
                anth_put_token(out, c, i - 3);
            }
            ANTH_PUT(out, "\"}}\n\n");
            return true;
        }
        if (i == 3 + deltas) {
            ANTH_PUT(out, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\","
                          "\"index\":0}\n\n");
            return true;
        }
    }
    if (i == (anth_has_block(c) ? 2u : 1u)) {
        ANTH_PUT(out, "event: ping\ndata: {\"type\": \"ping\"}\n\n");
        return true;
    }
    if (i == tail) {
        ANTH_PUT(out, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":"
                      "{\"stop_reason\":");
        anth_put_stop_reason(out, c);
        ANTH_PUT(out, ",\"stop_sequence\":null},\"usage\":{\"output_tokens\":");
        mock_append_u64(out, c->timing.tokens);
        ANTH_PUT(out, "}}\n\n");
        return true;
    }
    if (i == tail + 1) {
        ANTH_PUT(out, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        return true;
    }
    return false;
}

/* The malformed fault on a stream: a message_start whose data is not JSON, then message_stop. */
static bool anth_malformed_frame(mock_call_t *c, size_t i, buf_t *out, uint64_t *delay_ms)
{
    *delay_ms = i == 0 ? c->timing.ttft_ms : 0;
    if (i == 0)
        ANTH_PUT(out, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
                      "\"tru\n\n");
    else if (i == 1)
        ANTH_PUT(out, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    return i < 2;
}

static const char anth_malformed_body[] = "mock: this body is not JSON {\"content\":[";

/* The faults on a JSON answer already in c->body: a body that is not JSON, or the head and half
 * the body before the connection closes. */
static void anth_apply_json_fault(mock_call_t *c, mock_fault_t fault)
{
    c->pre_ms = c->timing.latency_ms;
    if (fault == MOCK_FAULT_MALFORMED) {
        c->body.n = 0;
        buf_append(&c->body, anth_malformed_body, sizeof anth_malformed_body - 1);
    } else if (fault == MOCK_FAULT_DROP_MID_STREAM) {
        c->action = MOCK_ACT_PARTIAL;
    }
}

static void anth_plan_message(mock_call_t *c, bool stream, mock_fault_t fault)
{
    if (!stream) {
        anth_message_body(c);
        anth_apply_json_fault(c, fault);
        return;
    }
    c->action = MOCK_ACT_STREAM;
    c->content_type = "text/event-stream";
    c->pre_ms = fault == MOCK_FAULT_SLOW_HEAD ? c->timing.latency_ms : 0;
    c->frame = fault == MOCK_FAULT_MALFORMED ? anth_malformed_frame : anth_frame;
    if (fault == MOCK_FAULT_DROP_MID_STREAM) /* message_start, block start, ping, half the deltas */
        c->drop_after = anth_has_block(c) ? 3 + anth_deltas(c) / 2 : 1;
}

/* ---- the request ------------------------------------------------------------------------ */

static void anth_put_escaped(buf_t *b, str_t s)
{
    size_t mark = b->n;
    if (buf_append_json_string(b, s) != 0 || b->n < mark + 2) {
        b->n = mark;
        return;
    }
    memmove(b->p + mark, b->p + mark + 1, b->n - mark - 2);
    b->n -= 2;
}

static void anth_new_id(mock_call_t *c, char *out, const char *prefix, size_t random_len)
{
    size_t n = strlen(prefix);
    memcpy(out, prefix, n);
    mock_random_alnum(c->w, out + n, random_len);
    out[n + random_len] = '\0';
}

/* The tool to call: the one tool_choice {"type":"tool","name"} names, else the first tool; none
 * without tools or with tool_choice {"type":"none"}. */
static void anth_read_tool(mock_call_t *c, str_t tools_raw, str_t choice_raw)
{
    if (!tools_raw.p || tools_raw.p[0] != '[')
        return;
    cJSON *tools = cJSON_ParseWithLength(tools_raw.p, tools_raw.n);
    cJSON *choice = choice_raw.p ? cJSON_ParseWithLength(choice_raw.p, choice_raw.n) : NULL;
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(choice, "type"));
    const char *name = NULL;
    if (cJSON_GetArraySize(tools) > 0 && !(type && strcmp(type, "none") == 0)) {
        if (type && strcmp(type, "tool") == 0)
            name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(choice, "name"));
        if (!name || !name[0])
            name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tools->child, "name"));
        c->tool = true;
        anth_put_escaped(&c->tool_name, str_cstr(name && name[0] ? name : "tool"));
        anth_new_id(c, c->call_id, "toolu_", 24);
    }
    cJSON_Delete(tools);
    cJSON_Delete(choice);
}

/* Validates the body as the API does (the first problem wins) and plans the answer. */
static void anth_plan_request(mock_call_t *c, int route, const jscan_field_t *f, mock_fault_t fault)
{
    str_t model = f[ANTH_F_MODEL].value, messages = f[ANTH_F_MESSAGES].value;
    str_t max_tokens = f[ANTH_F_MAX_TOKENS].value;
    if (!model.p) {
        anth_plan_error(c, 400, "model: Field required");
        return;
    }
    if (model.p[0] != '"' || model.n <= 2) {
        anth_plan_error(c, 400, "model: Input should be a valid non-empty string");
        return;
    }
    long long max = -1;
    if (route == ANTH_ROUTE_MESSAGES) {
        if (!max_tokens.p) {
            anth_plan_error(c, 400, "max_tokens: Field required");
            return;
        }
        max = str_to_ll(max_tokens);
        if (max < 1) {
            anth_plan_error(c, 400, "max_tokens: Input should be an integer of at least 1");
            return;
        }
    }
    if (!messages.p) {
        anth_plan_error(c, 400, "messages: Field required");
        return;
    }
    if (messages.p[0] != '[') {
        anth_plan_error(c, 400, "messages: Input should be a valid list");
        return;
    }
    size_t k = 1;
    while (k < messages.n - 1 && strchr(" \t\r\n", messages.p[k]))
        k++;
    if (k == messages.n - 1) {
        anth_plan_error(c, 400, "messages: at least one message is required");
        return;
    }
    if (route == ANTH_ROUTE_COUNT_TOKENS) {
        buf_t *b = &c->body;
        b->n = 0;
        ANTH_PUT(b, "{\"input_tokens\":");
        mock_append_u64(b, c->prompt_tokens);
        ANTH_PUT(b, "}");
        anth_apply_json_fault(c, fault);
        return;
    }
    buf_append(&c->model, model.p + 1, model.n - 2); /* a validated literal: already escaped */
    c->kind = ANTH_KIND_END_TURN;
    if ((uint64_t)max < c->timing.tokens) {
        c->timing.tokens = (uint64_t)max;
        c->kind = ANTH_KIND_MAX_TOKENS;
    }
    anth_read_tool(c, f[ANTH_F_TOOLS].value, f[ANTH_F_TOOL_CHOICE].value);
    anth_new_id(c, c->object_id, "msg_", 24);
    bool stream = f[ANTH_F_STREAM].value.p && jscan_is_true(f[ANTH_F_STREAM].value);
    anth_plan_message(c, stream, fault);
}

/* Anthropic takes its key as x-api-key; OAuth callers and the SDK 1.x send a Bearer token. */
static bool anth_has_key(const http_req_t *req)
{
    static const str_t bearer = STR_LIT("Bearer ");
    if (str_trim(http_req_header(req, "x-api-key")).n)
        return true;
    str_t auth = http_req_header(req, "authorization");
    return auth.p && str_case_has_prefix(auth, bearer) && str_trim(str_skip(auth, bearer.n)).n;
}

bool mock_anthropic_handle(mock_call_t *c)
{
    http_req_t *req = c->req;
    int route = anth_route(req);
    if (route == ANTH_ROUTE_NONE)
        return false;
    http_resp_header(req, STR_LIT("request-id"), str_make(c->request_id, 36));
    if (!str_eq_cstr(req->head.method, "POST")) {
        anth_plan_error(c, 405, "Method Not Allowed");
        mock_call_start(c);
        return true;
    }

    static const char *const names[ANTH_F_COUNT] = {"model", "max_tokens",  "messages", "stream",
                                                    "tools", "tool_choice", "mock"};
    jscan_field_t f[ANTH_F_COUNT];
    for (int i = 0; i < ANTH_F_COUNT; i++)
        f[i] = (jscan_field_t){.name = str_cstr(names[i])};
    bool json_ok = req->body.n && jscan_find(req->body.p, req->body.n, f, ANTH_F_COUNT, NULL) == 0;
    str_t raw_mock = json_ok ? f[ANTH_F_MOCK].value : STR_NULL;
    cJSON *mock_tree = raw_mock.p ? cJSON_ParseWithLength(raw_mock.p, raw_mock.n) : NULL;

    mock_fault_t fault = MOCK_FAULT_NONE;
    if (native_controls(c, mock_tree, &fault, anth_plan_error))
        goto start; /* a control decided the answer */

    if (!anth_has_key(req))
        anth_plan_error(c, 401, "x-api-key header is required");
    else if (!http_req_header(req, "anthropic-version").n)
        anth_plan_error(c, 400, "anthropic-version: header is required");
    else if (!json_ok)
        anth_plan_error(c, 400,
                        "There was an issue with the request body: it is not one valid "
                        "JSON object.");
    else
        anth_plan_request(c, route, f, fault);

start:
    cJSON_Delete(mock_tree);
    mock_call_start(c);
    return true;
}
