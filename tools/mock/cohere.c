/* SPDX-License-Identifier: MIT
 * sluice-mock: Cohere's v2 API. POST /v2/chat answers JSON or, with "stream": true, Cohere's
 * SSE events (message-start, content-start, content-delta, content-end, message-end; tool
 * calls as tool-plan-delta, tool-call-start/-delta/-end); POST /v2/embed answers
 * embeddings_by_type. Bearer auth is required; errors are Cohere's {"id","message"}. The
 * controls and timing are the OpenAI routes' (docs/mock.md). */
#include <string.h>

#include "native.h"

enum { COHERE_KIND_CHAT = 1 };

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" from the worker's generator (ids need not be UUIDs). */
static void cohere_uuid(mock_call_t *c, char out[37])
{
    char r[32];
    mock_random_alnum(c->w, r, sizeof r);
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            out[k++] = '-';
        out[k++] = hex[(unsigned char)r[i] & 15];
    }
    out[k] = '\0';
}

static void cohere_error(mock_call_t *c, int status, const char *message)
{
    char id[37];
    cohere_uuid(c, id);
    c->action = MOCK_ACT_SEND;
    c->status = status;
    c->content_type = "application/json";
    c->pre_ms = 0;
    c->body.n = 0;
    NATIVE_PUT(&c->body, "{\"id\":\"");
    buf_append_cstr(&c->body, id);
    NATIVE_PUT(&c->body, "\",\"message\":");
    buf_append_json_string(&c->body, str_cstr(message));
    NATIVE_PUT(&c->body, "}");
}

static void cohere_usage(buf_t *b, const mock_call_t *c)
{
    NATIVE_PUT(b, "{\"billed_units\":{\"input_tokens\":");
    mock_append_u64(b, c->prompt_tokens);
    NATIVE_PUT(b, ",\"output_tokens\":");
    mock_append_u64(b, c->timing.tokens);
    NATIVE_PUT(b, "},\"tokens\":{\"input_tokens\":");
    mock_append_u64(b, c->prompt_tokens);
    NATIVE_PUT(b, ",\"output_tokens\":");
    mock_append_u64(b, c->timing.tokens);
    NATIVE_PUT(b, "}}");
}

/* "<tool>_<12 random>", the shape of Cohere's tool-call ids. */
static void cohere_put_call_id(buf_t *b, const mock_call_t *c)
{
    buf_append(b, c->tool_name.p, c->tool_name.n);
    NATIVE_PUT(b, "_");
    buf_append_cstr(b, c->call_id);
}

static void cohere_chat_body(mock_call_t *c)
{
    buf_t *b = &c->body;
    b->n = 0;
    buf_reserve(b, 512 + c->model.n + c->tool_name.n * 3 + c->timing.tokens * 8);
    NATIVE_PUT(b, "{\"id\":\"");
    buf_append_cstr(b, c->object_id);
    NATIVE_PUT(b, "\",\"message\":{\"role\":\"assistant\",");
    if (c->tool) {
        NATIVE_PUT(b, "\"tool_plan\":\"I will call ");
        buf_append(b, c->tool_name.p, c->tool_name.n);
        NATIVE_PUT(b, ".\",\"tool_calls\":[{\"id\":\"");
        cohere_put_call_id(b, c);
        NATIVE_PUT(b, "\",\"type\":\"function\",\"function\":{\"name\":\"");
        buf_append(b, c->tool_name.p, c->tool_name.n);
        NATIVE_PUT(b, "\",\"arguments\":\"{}\"}}]},\"finish_reason\":\"TOOL_CALL\",\"usage\":");
    } else {
        NATIVE_PUT(b, "\"content\":[{\"type\":\"text\",\"text\":\"");
        for (uint64_t k = 0; k < c->timing.tokens; k++)
            native_put_token(b, c, k);
        NATIVE_PUT(b, "\"}]},\"finish_reason\":\"COMPLETE\",\"usage\":");
    }
    cohere_usage(b, c);
    NATIVE_PUT(b, "}");
}

static void cohere_event(buf_t *out, const char *name)
{
    NATIVE_PUT(out, "event: ");
    buf_append_cstr(out, name);
    NATIVE_PUT(out, "\ndata: {\"type\":\"");
    buf_append_cstr(out, name);
    NATIVE_PUT(out, "\"");
}

static void cohere_message_end(mock_call_t *c, buf_t *out)
{
    cohere_event(out, "message-end");
    NATIVE_PUT(out, ",\"delta\":{\"finish_reason\":");
    if (c->tool)
        NATIVE_PUT(out, "\"TOOL_CALL\"");
    else
        NATIVE_PUT(out, "\"COMPLETE\"");
    NATIVE_PUT(out, ",\"usage\":");
    cohere_usage(out, c);
    NATIVE_PUT(out, "}}\n\n");
}

/* Text stream: message-start + content-start + the first delta (after ttft), one
 * content-delta per further token (chunk delay), then content-end + message-end.
 * Tool stream: message-start + tool-plan-delta + tool-call-start, argument deltas "{" and "}",
 * then tool-call-end + message-end (TOOL_CALL). */
static bool cohere_frame(mock_call_t *c, size_t i, buf_t *out, uint64_t *delay_ms)
{
    uint64_t deltas = c->tool ? 2 : c->timing.tokens;
    *delay_ms = i == 0 ? c->timing.ttft_ms : 0;
    if (i == 0) {
        cohere_event(out, "message-start");
        NATIVE_PUT(out, ",\"id\":\"");
        buf_append_cstr(out, c->object_id);
        NATIVE_PUT(out, "\",\"delta\":{\"message\":{\"role\":\"assistant\",\"content\":[],"
                        "\"tool_plan\":\"\",\"tool_calls\":[],\"citations\":[]}}}\n\n");
        if (c->tool) {
            cohere_event(out, "tool-plan-delta");
            NATIVE_PUT(out, ",\"delta\":{\"message\":{\"tool_plan\":\"I will call ");
            buf_append(out, c->tool_name.p, c->tool_name.n);
            NATIVE_PUT(out, ".\"}}}\n\n");
            cohere_event(out, "tool-call-start");
            NATIVE_PUT(out, ",\"index\":0,\"delta\":{\"message\":{\"tool_calls\":{\"id\":\"");
            cohere_put_call_id(out, c);
            NATIVE_PUT(out, "\",\"type\":\"function\",\"function\":{\"name\":\"");
            buf_append(out, c->tool_name.p, c->tool_name.n);
            NATIVE_PUT(out, "\",\"arguments\":\"\"}}}}}\n\n");
            return true;
        }
        cohere_event(out, "content-start");
        NATIVE_PUT(out, ",\"index\":0,\"delta\":{\"message\":{\"content\":{\"type\":\"text\","
                        "\"text\":\"\"}}}}\n\n");
        if (deltas == 0)
            return true;
    }
    if (!c->tool && i < deltas) {
        if (i > 0)
            *delay_ms = c->timing.chunk_delay_ms;
        cohere_event(out, "content-delta");
        NATIVE_PUT(out, ",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\"");
        native_put_token(out, c, i);
        NATIVE_PUT(out, "\"}}}}\n\n");
        return true;
    }
    if (c->tool && i >= 1 && i <= deltas) {
        *delay_ms = i == 1 ? 0 : c->timing.chunk_delay_ms;
        cohere_event(out, "tool-call-delta");
        NATIVE_PUT(out, ",\"index\":0,\"delta\":{\"message\":{\"tool_calls\":{\"function\":{"
                        "\"arguments\":\"");
        if (i == 1)
            NATIVE_PUT(out, "{");
        else
            NATIVE_PUT(out, "}");
        NATIVE_PUT(out, "\"}}}}}\n\n");
        return true;
    }
    uint64_t last = c->tool ? deltas + 1 : (deltas ? deltas : 1);
    if (i == last) {
        if (c->tool) {
            cohere_event(out, "tool-call-end");
            NATIVE_PUT(out, ",\"index\":0}\n\n");
        } else {
            cohere_event(out, "content-end");
            NATIVE_PUT(out, ",\"index\":0}\n\n");
        }
        cohere_message_end(c, out);
        return true;
    }
    return false;
}

/* The malformed fault on a stream: message-start, then an event whose data is not JSON. */
static bool cohere_malformed_frame(mock_call_t *c, size_t i, buf_t *out, uint64_t *delay_ms)
{
    *delay_ms = i == 0 ? c->timing.ttft_ms : 0;
    if (i == 0)
        NATIVE_PUT(out, "event: message-start\ndata: {\"type\":\"message-start\"}\n\n"
                        "event: content-delta\ndata: {\"type\":\"content-delta\",\"delta\":{\"mes"
                        "\n\n");
    return i == 0;
}

/* The tool to call: Cohere has no named tool_choice, so the first tool unless "NONE". */
static void cohere_read_tool(mock_call_t *c, const cJSON *root)
{
    const cJSON *tools = native_get(root, "tools");
    const cJSON *choice = native_get(root, "tool_choice");
    if (!cJSON_IsArray(tools) || !tools->child)
        return;
    if (cJSON_IsString(choice) && strcmp(choice->valuestring, "NONE") == 0)
        return;
    const cJSON *tool = tools->child;
    const cJSON *fn = native_get(tool, "function");
    const cJSON *name = native_get(fn ? fn : tool, "name");
    c->tool = true;
    native_put_escaped(&c->tool_name, native_nonempty_string(name) ? str_cstr(name->valuestring)
                                                                   : STR_LIT("function"));
    mock_random_alnum(c->w, c->call_id, 12);
    c->call_id[12] = '\0';
}

static void cohere_plan_chat(mock_call_t *c, const cJSON *root, mock_fault_t fault)
{
    const cJSON *model = native_get(root, "model");
    const cJSON *messages = native_get(root, "messages");
    if (!native_nonempty_string(model)) {
        cohere_error(c, 400, "invalid request: model must be a non-empty string");
        return;
    }
    if (!cJSON_IsArray(messages) || !messages->child) {
        cohere_error(c, 400, "invalid request: messages must be a non-empty array");
        return;
    }
    for (const cJSON *m = messages->child; m; m = m->next) {
        const cJSON *role = native_get(m, "role");
        static const char *const roles[] = {"system", "user", "assistant", "tool"};
        bool ok = false;
        for (size_t k = 0; k < 4 && cJSON_IsString(role) && !ok; k++)
            ok = strcmp(role->valuestring, roles[k]) == 0;
        if (!ok) {
            cohere_error(c, 400,
                         "invalid request: message role must be one of system, user, "
                         "assistant, tool");
            return;
        }
    }
    native_put_escaped(&c->model, str_cstr(model->valuestring));
    cohere_read_tool(c, root);
    c->kind = COHERE_KIND_CHAT;
    cohere_uuid(c, c->object_id);
    if (!cJSON_IsTrue(native_get(root, "stream"))) {
        cohere_chat_body(c);
        native_json_fault(c, fault);
        return;
    }
    c->action = MOCK_ACT_STREAM;
    c->content_type = "text/event-stream";
    c->pre_ms = fault == MOCK_FAULT_SLOW_HEAD ? c->timing.latency_ms : 0;
    c->frame = fault == MOCK_FAULT_MALFORMED ? cohere_malformed_frame : cohere_frame;
    if (fault == MOCK_FAULT_DROP_MID_STREAM) {
        /* text: the first frame and deltas up to half the tokens; tools: the call's start and
         * "{"; never the message-end */
        c->drop_after = c->tool ? 2 : MAX(1, (c->timing.tokens + 1) / 2);
    }
}

static void cohere_plan_embed(mock_call_t *c, const cJSON *root, mock_fault_t fault)
{
    const cJSON *model = native_get(root, "model");
    const cJSON *texts = native_get(root, "texts");
    const cJSON *input_type = native_get(root, "input_type");
    const cJSON *types = native_get(root, "embedding_types");
    const cJSON *dims_j = native_get(root, "output_dimension");
    if (!native_nonempty_string(model)) {
        cohere_error(c, 400, "invalid request: model must be a non-empty string");
        return;
    }
    if (!cJSON_IsArray(texts) || !texts->child) {
        cohere_error(c, 400, "invalid request: texts must be a non-empty array of strings");
        return;
    }
    if (!native_nonempty_string(input_type)) {
        cohere_error(c, 400,
                     "invalid request: valid input_type must be provided with the "
                     "provided model");
        return;
    }
    if (types && !cJSON_IsNull(types)) {
        bool float_only = cJSON_IsArray(types) && cJSON_GetArraySize(types) == 1 &&
                          cJSON_IsString(types->child) &&
                          strcmp(types->child->valuestring, "float") == 0;
        if (!float_only) {
            cohere_error(c, 400, "invalid request: the mock serves embedding_types [\"float\"]");
            return;
        }
    }
    size_t dims = NATIVE_EMBED_DEFAULT_DIMS;
    if (dims_j && !cJSON_IsNull(dims_j)) {
        double d = cJSON_IsNumber(dims_j) ? dims_j->valuedouble : 0;
        if (d < 1 || d > NATIVE_EMBED_MAX_DIMS || d != floor(d)) {
            cohere_error(c, 400,
                         "invalid request: output_dimension must be an integer from 1 "
                         "to 8192");
            return;
        }
        dims = (size_t)d;
    }
    uint64_t tokens = 0;
    int count = 0;
    for (const cJSON *t = texts->child; t; t = t->next, count++) {
        if (!cJSON_IsString(t) || count >= NATIVE_EMBED_MAX_INPUTS) {
            cohere_error(c, 400, "invalid request: texts must be at most 2048 strings");
            return;
        }
        tokens += (strlen(t->valuestring) + 3) / 4;
    }
    char id[37];
    cohere_uuid(c, id);
    buf_t *b = &c->body;
    b->n = 0;
    NATIVE_PUT(b, "{\"id\":\"");
    buf_append_cstr(b, id);
    NATIVE_PUT(b, "\",\"embeddings\":{\"float\":[");
    for (const cJSON *t = texts->child; t; t = t->next) {
        if (t != texts->child)
            NATIVE_PUT(b, ",");
        native_put_vector(b, native_hash(t->valuestring, strlen(t->valuestring)), dims);
    }
    NATIVE_PUT(b, "]},\"texts\":[");
    for (const cJSON *t = texts->child; t; t = t->next) {
        if (t != texts->child)
            NATIVE_PUT(b, ",");
        buf_append_json_string(b, str_cstr(t->valuestring));
    }
    NATIVE_PUT(b, "],\"meta\":{\"api_version\":{\"version\":\"2\"},\"billed_units\":{"
                  "\"input_tokens\":");
    mock_append_u64(b, tokens);
    NATIVE_PUT(b, "}},\"response_type\":\"embeddings_by_type\"}");
    native_json_fault(c, fault);
}

bool mock_cohere_handle(mock_call_t *c)
{
    http_req_t *req = c->req;
    str_t path = req->head.path;
    bool chat = str_eq_cstr(path, "/v2/chat"), embed = str_eq_cstr(path, "/v2/embed");
    if (!chat && !embed)
        return false;
    cJSON *root = native_parse_body(req->body);
    mock_fault_t fault = MOCK_FAULT_NONE;
    static const str_t bearer = STR_LIT("Bearer ");
    str_t auth = http_req_header(req, "authorization");
    if (native_controls(c, native_get(root, "mock"), &fault, cohere_error)) {
        /* a control decided the answer */
    } else if (!str_eq_cstr(req->head.method, "POST")) {
        cohere_error(c, 404, "not found: this route takes POST");
    } else if (!auth.p || !str_case_has_prefix(auth, bearer) ||
               !str_trim(str_skip(auth, bearer.n)).n) {
        cohere_error(c, 401, "no api key supplied");
    } else if (!cJSON_IsObject(root)) {
        cohere_error(c, 400, "invalid request: the body must be a JSON object");
    } else if (chat) {
        cohere_plan_chat(c, root, fault);
    } else {
        cohere_plan_embed(c, root, fault);
    }
    cJSON_Delete(root);
    mock_call_start(c);
    return true;
}
