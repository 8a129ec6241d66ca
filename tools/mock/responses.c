/* SPDX-License-Identifier: MIT
 * sluice-mock: OpenAI's Responses API. POST /v1/responses answers a Response object (a message
 * with output_text, or a function_call when tools are given), or with "stream": true its event
 * sequence (`event: <type>` + `data: {..,"sequence_number":n}`, no [DONE]). Answers are kept in
 * a bounded in-memory store shared by the workers (the newest 1000; "store": false skips it) so
 * that GET /v1/responses/{id}, GET .../input_items, POST .../cancel and DELETE work. The same
 * controls, faults and timing as chat (openai.c), the same words ("mock answer to <model>: w1
 * ..."), and OpenAI's error envelope. Requests are parsed with cJSON: this is not a hot path. */
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/common.h"
#include "mock.h"

#define MOCK_PUT(b, lit) mock_append((b), "" lit, sizeof(lit) - 1)

/* what a /responses path asks for */
enum {
    MOCK_RESP_NONE = 0, /* not a Responses path: another handler's */
    MOCK_RESP_CREATE,   /* POST /responses */
    MOCK_RESP_GET,      /* GET /responses/{id} */
    MOCK_RESP_DELETE,   /* DELETE /responses/{id} */
    MOCK_RESP_ITEMS,    /* GET /responses/{id}/input_items */
    MOCK_RESP_CANCEL,   /* POST /responses/{id}/cancel */
    MOCK_RESP_BAD,      /* a /responses path with a method or shape we do not serve: 404 */
};

#define MOCK_RESP_ID_RANDOM 40 /* resp_ + 40, msg_ + 40, fc_ + 40 */
#define MOCK_RESP_ID_LEN (5 + MOCK_RESP_ID_RANDOM)
#define MOCK_RESP_KIND 0x5245 /* mock_call_t.kind of a Responses stream */
#define MOCK_STORE_MAX 1000

/* ---- the store -------------------------------------------------------------------------- */

typedef struct {
    char *id;       /* NULL: free slot */
    char *response; /* the completed Response JSON */
    char *input;    /* the input items, a JSON array in input order */
    bool background;
} mock_stored_t;

static pthread_mutex_t mock_store_lock = PTHREAD_MUTEX_INITIALIZER;
static mock_stored_t mock_store[MOCK_STORE_MAX];
static size_t mock_store_next; /* the slot the next answer takes (the oldest) */

static void mock_stored_clear(mock_stored_t *s)
{
    free(s->id);
    free(s->response);
    free(s->input);
    *s = (mock_stored_t){0};
}

/* Keeps a copy; the oldest answer goes when the store is full. */
static void mock_store_put(str_t id, str_t response, const char *input, bool background)
{
    char *i = strndup(id.p, id.n), *r = strndup(response.p, response.n);
    char *in = strdup(input ? input : "[]");
    if (!i || !r || !in) {
        free(i);
        free(r);
        free(in);
        return;
    }
    pthread_mutex_lock(&mock_store_lock);
    mock_stored_t *s = &mock_store[mock_store_next];
    mock_stored_clear(s);
    *s = (mock_stored_t){i, r, in, background};
    mock_store_next = (mock_store_next + 1) % MOCK_STORE_MAX;
    pthread_mutex_unlock(&mock_store_lock);
}

/* The newest entry with this id; call with the lock held. */
static mock_stored_t *mock_store_find(str_t id)
{
    for (size_t k = 1; k <= MOCK_STORE_MAX; k++) {
        mock_stored_t *s = &mock_store[(mock_store_next + MOCK_STORE_MAX - k) % MOCK_STORE_MAX];
        if (s->id && strlen(s->id) == id.n && memcmp(s->id, id.p, id.n) == 0)
            return s;
    }
    return NULL;
}

/* Copies what the route needs out of the store: the response into *response, the input items
 * into *input (either may be NULL). False when the id is unknown. */
static bool mock_store_get(str_t id, buf_t *response, buf_t *input, bool *background)
{
    pthread_mutex_lock(&mock_store_lock);
    mock_stored_t *s = mock_store_find(id);
    if (s) {
        if (response)
            buf_append_cstr(response, s->response);
        if (input)
            buf_append_cstr(input, s->input);
        if (background)
            *background = s->background;
    }
    pthread_mutex_unlock(&mock_store_lock);
    return s != NULL;
}

static bool mock_store_delete(str_t id)
{
    bool found = false;
    pthread_mutex_lock(&mock_store_lock);
    for (mock_stored_t *s; (s = mock_store_find(id)) != NULL; found = true)
        mock_stored_clear(s);
    pthread_mutex_unlock(&mock_store_lock);
    return found;
}

/* ---- small writers (as openai.c's) ------------------------------------------------------ */

/* s JSON-escaped without the surrounding quotes. */
static void mock_resp_put_escaped(buf_t *b, str_t s)
{
    size_t mark = b->n;
    if (buf_append_json_string(b, s) != 0 || b->n < mark + 2) {
        b->n = mark;
        return;
    }
    memmove(b->p + mark, b->p + mark + 1, b->n - mark - 2);
    b->n -= 2;
}

static void mock_resp_plan_error(mock_call_t *c, int status, const char *message, const char *type,
                                 const char *param, const char *code)
{
    buf_t *b = &c->body;
    c->action = MOCK_ACT_SEND;
    c->status = status;
    c->content_type = "application/json";
    c->pre_ms = 0;
    b->n = 0;
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

static void mock_resp_plan_invalid(mock_call_t *c, const char *message, const char *param)
{
    mock_resp_plan_error(c, 400, message, "invalid_request_error", param, NULL);
}

/* The `status` control's error, typed as OpenAI types its errors (as chat). */
static void mock_resp_plan_status(mock_call_t *c, int status)
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
    mock_resp_plan_error(c, status, message, type, NULL, code);
}

static void mock_resp_not_found(mock_call_t *c, str_t id)
{
    char message[200];
    snprintf(message, sizeof message, "Response with id '%.*s' not found.", (int)MIN(id.n, 120),
             id.p);
    mock_resp_plan_error(c, 404, message, "invalid_request_error", NULL, NULL);
}

static const char mock_resp_malformed_body[] = "mock: this body is not JSON {\"output\":[";

/* The faults on a complete JSON answer in c->body (as chat). */
static void mock_resp_json_fault(mock_call_t *c, mock_fault_t fault)
{
    if (fault == MOCK_FAULT_MALFORMED) {
        c->body.n = 0;
        buf_append(&c->body, mock_resp_malformed_body, sizeof mock_resp_malformed_body - 1);
    } else if (fault == MOCK_FAULT_DROP_MID_STREAM) {
        c->action = MOCK_ACT_PARTIAL;
    }
}

/* Token k of "mock answer to <model>: w1 w2 ...", exactly as the chat answer's. */
static void mock_resp_put_token(buf_t *b, const mock_call_t *c, uint64_t k)
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

static void mock_resp_put_text(buf_t *b, const mock_call_t *c)
{
    buf_reserve(b, c->timing.tokens * 8 + c->model.n + 32);
    for (uint64_t k = 0; k < c->timing.tokens; k++)
        mock_resp_put_token(b, c, k);
}

/* ---- the Response object ---------------------------------------------------------------- */

/* The answer's parts live in the call: c->prefix holds the members every snapshot of the
 * Response shares (`"id":"resp_..",...,"metadata":{}` without braces), c->object_id the output
 * item's id (msg_... or fc_...), c->call_id the function call's call_..., c->tool_name its name. */

static str_t mock_resp_id(const mock_call_t *c)
{
    return str_make(c->prefix.p + 6, MOCK_RESP_ID_LEN); /* after `"id":"` */
}

/* Echoes a request member as JSON, or `def` when it is absent or null. */
static void mock_resp_echo(buf_t *b, const cJSON *root, const char *name, const char *def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    char *text = v && !cJSON_IsNull(v) ? cJSON_PrintUnformatted(v) : NULL;
    buf_append_cstr(b, text ? text : def);
    free(text);
}

static void mock_resp_put_usage(buf_t *b, const mock_call_t *c)
{
    uint64_t out = c->timing.tokens;
    MOCK_PUT(b, "{\"input_tokens\":");
    mock_append_u64(b, c->prompt_tokens);
    MOCK_PUT(b, ",\"input_tokens_details\":{\"cached_tokens\":0,\"cache_write_tokens\":0},"
                "\"output_tokens\":");
    mock_append_u64(b, out);
    MOCK_PUT(b, ",\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":");
    mock_append_u64(b, c->prompt_tokens + out);
    MOCK_PUT(b, "}");
}

/* The output item: in progress (a message without content, a call without arguments) or done. */
static void mock_resp_put_item(buf_t *b, const mock_call_t *c, bool done)
{
    MOCK_PUT(b, "{\"id\":\"");
    buf_append_cstr(b, c->object_id);
    if (c->tool) {
        MOCK_PUT(b, "\",\"type\":\"function_call\",\"status\":");
        if (done)
            MOCK_PUT(b, "\"completed\",\"arguments\":\"{}\"");
        else
            MOCK_PUT(b, "\"in_progress\",\"arguments\":\"\"");
        MOCK_PUT(b, ",\"call_id\":\"");
        buf_append_cstr(b, c->call_id);
        MOCK_PUT(b, "\",\"name\":\"");
        buf_append(b, c->tool_name.p, c->tool_name.n);
        MOCK_PUT(b, "\"}");
        return;
    }
    if (!done) {
        MOCK_PUT(b, "\",\"type\":\"message\",\"status\":\"in_progress\",\"content\":[],"
                    "\"role\":\"assistant\"}");
        return;
    }
    MOCK_PUT(b, "\",\"type\":\"message\",\"status\":\"completed\",\"content\":[{\"type\":"
                "\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"");
    mock_resp_put_text(b, c);
    MOCK_PUT(b, "\"}],\"role\":\"assistant\"}");
}

/* The whole Response: completed with its output and usage, or the in-progress snapshot the
 * first stream events carry (no output; usage left out, as the schema has it non-null). */
static void mock_resp_put_response(buf_t *b, const mock_call_t *c, bool completed)
{
    MOCK_PUT(b, "{");
    buf_append(b, c->prefix.p, c->prefix.n);
    if (!completed) {
        MOCK_PUT(b, ",\"status\":\"in_progress\",\"completed_at\":null,\"output\":[]}");
        return;
    }
    MOCK_PUT(b, ",\"status\":\"completed\",\"completed_at\":");
    mock_append_u64(b, (uint64_t)time(NULL));
    MOCK_PUT(b, ",\"output\":[");
    mock_resp_put_item(b, c, true);
    MOCK_PUT(b, "],\"usage\":");
    mock_resp_put_usage(b, c);
    MOCK_PUT(b, "}");
}

/* ---- the stream ------------------------------------------------------------------------- */

/* `event: <type>\ndata: {"type":"<type>"` */
static void mock_ev_begin(buf_t *b, const char *type)
{
    size_t n = strlen(type);
    MOCK_PUT(b, "event: ");
    mock_append(b, type, n);
    MOCK_PUT(b, "\ndata: {\"type\":\"");
    mock_append(b, type, n);
    MOCK_PUT(b, "\"");
}

static void mock_ev_end(buf_t *b, size_t seq)
{
    MOCK_PUT(b, ",\"sequence_number\":");
    mock_append_u64(b, seq);
    MOCK_PUT(b, "}\n\n");
}

/* `,"item_id":"..","output_index":0` and, for text, `,"content_index":0` */
static void mock_ev_item(buf_t *b, const mock_call_t *c, bool content)
{
    MOCK_PUT(b, ",\"item_id\":\"");
    buf_append_cstr(b, c->object_id);
    if (content)
        MOCK_PUT(b, "\",\"output_index\":0,\"content_index\":0");
    else
        MOCK_PUT(b, "\",\"output_index\":0");
}

/* Events: response.created and response.in_progress at once; after ttft-ms
 * response.output_item.added, then for text response.content_part.added and one
 * response.output_text.delta per token (chunk-delay-ms apart), response.output_text.done,
 * response.content_part.done; for a function call two response.function_call_arguments.delta
 * ("{" and "}") and .done; then response.output_item.done and response.completed. One frame per
 * event, so the frame index is the sequence number. */
static bool mock_resp_frame(mock_call_t *c, size_t i, buf_t *out, uint64_t *delay_ms)
{
    uint64_t deltas = c->tool ? 2 : c->timing.tokens;
    /* 0 created, 1 in_progress, 2 item added, [3 part added], deltas, done events */
    size_t first_delta = c->tool ? 3 : 4;
    *delay_ms = 0;
    if (i == 0 || i == 1) {
        mock_ev_begin(out, i == 0 ? "response.created" : "response.in_progress");
        MOCK_PUT(out, ",\"response\":");
        mock_resp_put_response(out, c, false);
        mock_ev_end(out, i);
        return true;
    }
    if (i == 2) {
        *delay_ms = c->timing.ttft_ms;
        mock_ev_begin(out, "response.output_item.added");
        MOCK_PUT(out, ",\"output_index\":0,\"item\":");
        mock_resp_put_item(out, c, false);
        mock_ev_end(out, i);
        return true;
    }
    if (i == 3 && !c->tool) {
        mock_ev_begin(out, "response.content_part.added");
        mock_ev_item(out, c, true);
        MOCK_PUT(out, ",\"part\":{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],"
                      "\"text\":\"\"}");
        mock_ev_end(out, i);
        return true;
    }
    if (i < first_delta + deltas) {
        uint64_t k = i - first_delta;
        *delay_ms = k == 0 ? 0 : c->timing.chunk_delay_ms;
        if (c->tool) {
            mock_ev_begin(out, "response.function_call_arguments.delta");
            mock_ev_item(out, c, false);
            if (k == 0)
                MOCK_PUT(out, ",\"delta\":\"{\"");
            else
                MOCK_PUT(out, ",\"delta\":\"}\"");
        } else {
            mock_ev_begin(out, "response.output_text.delta");
            mock_ev_item(out, c, true);
            MOCK_PUT(out, ",\"delta\":\"");
            mock_resp_put_token(out, c, k);
            MOCK_PUT(out, "\",\"logprobs\":[]");
        }
        mock_ev_end(out, i);
        return true;
    }
    size_t j = i - (first_delta + deltas); /* the closing events */
    if (c->tool) {
        if (j == 0) {
            mock_ev_begin(out, "response.function_call_arguments.done");
            mock_ev_item(out, c, false);
            MOCK_PUT(out, ",\"name\":\"");
            buf_append(out, c->tool_name.p, c->tool_name.n);
            MOCK_PUT(out, "\",\"arguments\":\"{}\"");
            mock_ev_end(out, i);
            return true;
        }
        j++; /* no content part: continue at output_item.done */
    } else if (j == 0) {
        mock_ev_begin(out, "response.output_text.done");
        mock_ev_item(out, c, true);
        MOCK_PUT(out, ",\"text\":\"");
        mock_resp_put_text(out, c);
        MOCK_PUT(out, "\",\"logprobs\":[]");
        mock_ev_end(out, i);
        return true;
    } else if (j == 1) {
        mock_ev_begin(out, "response.content_part.done");
        mock_ev_item(out, c, true);
        MOCK_PUT(out, ",\"part\":{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],"
                      "\"text\":\"");
        mock_resp_put_text(out, c);
        MOCK_PUT(out, "\"}");
        mock_ev_end(out, i);
        return true;
    }
    if (j == 2) {
        mock_ev_begin(out, "response.output_item.done");
        MOCK_PUT(out, ",\"output_index\":0,\"item\":");
        mock_resp_put_item(out, c, true);
        mock_ev_end(out, i);
        return true;
    }
    if (j == 3) {
        mock_ev_begin(out, "response.completed");
        MOCK_PUT(out, ",\"response\":");
        mock_resp_put_response(out, c, true);
        mock_ev_end(out, i);
        return true;
    }
    return false;
}

/* The malformed fault on a stream: the created event, then an event whose data is not JSON. */
static bool mock_resp_malformed_frame(mock_call_t *c, size_t i, buf_t *out, uint64_t *delay_ms)
{
    *delay_ms = i == 1 ? c->timing.ttft_ms : 0;
    if (i == 0)
        return mock_resp_frame(c, 0, out, delay_ms);
    if (i == 1)
        MOCK_PUT(out, "event: response.output_text.delta\n"
                      "data: {\"type\":\"response.output_text.delta\",\"delta\":\"tru\n\n");
    return i < 2;
}

/* ---- create ----------------------------------------------------------------------------- */

static bool mock_resp_nonempty_string(const cJSON *v)
{
    return cJSON_IsString(v) && v->valuestring[0] != '\0';
}

/* The function to call: the one tool_choice names, else the first function tool; none when
 * tool_choice is "none" or no function tool is given (hosted tools are not called). */
static void mock_resp_read_tool(mock_call_t *c, const cJSON *root)
{
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
    const cJSON *choice = cJSON_GetObjectItemCaseSensitive(root, "tool_choice");
    if (!cJSON_IsArray(tools) || !tools->child)
        return;
    if (cJSON_IsString(choice) && strcmp(choice->valuestring, "none") == 0)
        return;
    const cJSON *name = NULL;
    if (cJSON_IsObject(choice)) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(choice, "function");
        name = cJSON_GetObjectItemCaseSensitive(fn ? fn : choice, "name");
    }
    for (const cJSON *t = tools->child; t && !mock_resp_nonempty_string(name); t = t->next) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(t, "type");
        if (cJSON_IsString(type) && strcmp(type->valuestring, "function") != 0)
            continue;
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(t, "function");
        /* flat {"type":"function","name"} as the Responses API has it, or chat's nested form */
        name = cJSON_GetObjectItemCaseSensitive(fn ? fn : t, "name");
    }
    if (!mock_resp_nonempty_string(name))
        return; /* only hosted tools */
    c->tool = true;
    mock_resp_put_escaped(&c->tool_name, str_cstr(name->valuestring));
}

static void mock_resp_new_id(mock_call_t *c, char *out, const char *prefix, size_t random_len)
{
    size_t n = strlen(prefix);
    memcpy(out, prefix, n);
    mock_random_alnum(c->w, out + n, random_len);
    out[n + random_len] = '\0';
}

/* The request's input as the items GET .../input_items lists: a string becomes one user
 * message; messages get `type`, `id` and `status` when they lack them, and string content
 * becomes one input_text (output_text for the assistant) part. Returns malloc'd JSON. */
static char *mock_resp_input_items(mock_call_t *c, const cJSON *input)
{
    cJSON *items = cJSON_CreateArray();
    char id[64];
    if (cJSON_IsString(input)) {
        cJSON *m = cJSON_CreateObject();
        mock_resp_new_id(c, id, "msg_", MOCK_RESP_ID_RANDOM);
        cJSON_AddStringToObject(m, "id", id);
        cJSON_AddStringToObject(m, "type", "message");
        cJSON_AddStringToObject(m, "role", "user");
        cJSON_AddStringToObject(m, "status", "completed");
        cJSON *content = cJSON_AddArrayToObject(m, "content");
        cJSON *part = cJSON_CreateObject();
        cJSON_AddStringToObject(part, "type", "input_text");
        cJSON_AddStringToObject(part, "text", input->valuestring);
        cJSON_AddItemToArray(content, part);
        cJSON_AddItemToArray(items, m);
    }
    for (const cJSON *it = cJSON_IsArray(input) ? input->child : NULL; it; it = it->next) {
        if (!cJSON_IsObject(it))
            continue;
        cJSON *m = cJSON_Duplicate(it, 1);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(m, "type");
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!type && cJSON_IsString(role))
            type = cJSON_AddStringToObject(m, "type", "message");
        const char *t = cJSON_IsString(type) ? type->valuestring : "item";
        bool message = strcmp(t, "message") == 0;
        if (!cJSON_GetObjectItemCaseSensitive(m, "id")) {
            const char *prefix = message                                  ? "msg_"
                                 : strcmp(t, "function_call") == 0        ? "fc_"
                                 : strcmp(t, "function_call_output") == 0 ? "fco_"
                                                                          : "item_";
            mock_resp_new_id(c, id, prefix, MOCK_RESP_ID_RANDOM);
            cJSON_AddStringToObject(m, "id", id);
        }
        if (!cJSON_GetObjectItemCaseSensitive(m, "status") &&
            (message || strcmp(t, "function_call") == 0 || strcmp(t, "function_call_output") == 0))
            cJSON_AddStringToObject(m, "status", "completed");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (message && cJSON_IsString(content)) {
            bool assistant = cJSON_IsString(role) && strcmp(role->valuestring, "assistant") == 0;
            cJSON *parts = cJSON_CreateArray();
            cJSON *part = cJSON_CreateObject();
            cJSON_AddStringToObject(part, "type", assistant ? "output_text" : "input_text");
            cJSON_AddStringToObject(part, "text", content->valuestring);
            if (assistant) {
                cJSON_AddArrayToObject(part, "annotations");
                cJSON_AddArrayToObject(part, "logprobs");
            }
            cJSON_AddItemToArray(parts, part);
            cJSON_ReplaceItemInObjectCaseSensitive(m, "content", parts);
        }
        cJSON_AddItemToArray(items, m);
    }
    char *text = cJSON_PrintUnformatted(items);
    cJSON_Delete(items);
    return text;
}

/* The tools as OpenAI echoes them: function tools with every member (description and
 * parameters null when absent, strict true unless given), other tools as given. */
static void mock_resp_put_tools(buf_t *b, const cJSON *tools)
{
    cJSON *out = cJSON_CreateArray();
    for (const cJSON *t = cJSON_IsArray(tools) ? tools->child : NULL; t; t = t->next) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(t, "type");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "function") != 0) {
            cJSON_AddItemToArray(out, cJSON_Duplicate(t, 1));
            continue;
        }
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(t, "function");
        const cJSON *src = cJSON_IsObject(fn) ? fn : t; /* chat's nested form, flattened */
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "type", "function");
        static const char *const members[] = {"name", "description", "parameters"};
        for (size_t i = 0; i < COUNTOF(members); i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, members[i]);
            cJSON_AddItemToObject(f, members[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
        }
        const cJSON *strict = cJSON_GetObjectItemCaseSensitive(src, "strict");
        cJSON_AddItemToObject(
            f, "strict", cJSON_IsBool(strict) ? cJSON_Duplicate(strict, 1) : cJSON_CreateTrue());
        cJSON_AddItemToArray(out, f);
    }
    char *text = cJSON_PrintUnformatted(out);
    buf_append_cstr(b, text ? text : "[]");
    free(text);
    cJSON_Delete(out);
}

/* The members every snapshot of the Response shares, into c->prefix: the request's settings
 * echoed (OpenAI's defaults when absent). The id comes first, at a fixed offset. */
static void mock_resp_prefix(mock_call_t *c, const cJSON *root, bool store, bool background)
{
    buf_t *b = &c->prefix;
    char id[MOCK_RESP_ID_LEN + 1];
    mock_resp_new_id(c, id, "resp_", MOCK_RESP_ID_RANDOM);
    b->n = 0;
    MOCK_PUT(b, "\"id\":\"");
    mock_append(b, id, MOCK_RESP_ID_LEN);
    MOCK_PUT(b, "\",\"object\":\"response\",\"created_at\":");
    mock_append_u64(b, (uint64_t)time(NULL));
    MOCK_PUT(b, ",\"background\":");
    if (background)
        MOCK_PUT(b, "true");
    else
        MOCK_PUT(b, "false");
    MOCK_PUT(b, ",\"error\":null,\"incomplete_details\":null,\"instructions\":");
    mock_resp_echo(b, root, "instructions", "null");
    MOCK_PUT(b, ",\"max_output_tokens\":");
    mock_resp_echo(b, root, "max_output_tokens", "null");
    MOCK_PUT(b, ",\"max_tool_calls\":");
    mock_resp_echo(b, root, "max_tool_calls", "null");
    MOCK_PUT(b, ",\"model\":\"");
    buf_append(b, c->model.p, c->model.n);
    MOCK_PUT(b, "\",\"parallel_tool_calls\":");
    mock_resp_echo(b, root, "parallel_tool_calls", "true");
    MOCK_PUT(b, ",\"previous_response_id\":");
    mock_resp_echo(b, root, "previous_response_id", "null");
    MOCK_PUT(b, ",\"reasoning\":");
    mock_resp_echo(b, root, "reasoning", "{\"effort\":null,\"summary\":null}");
    MOCK_PUT(b, ",\"service_tier\":\"default\",\"store\":");
    if (store)
        MOCK_PUT(b, "true");
    else
        MOCK_PUT(b, "false");
    MOCK_PUT(b, ",\"temperature\":");
    mock_resp_echo(b, root, "temperature", "1");
    MOCK_PUT(b, ",\"text\":");
    mock_resp_echo(b, root, "text", "{\"format\":{\"type\":\"text\"},\"verbosity\":\"medium\"}");
    MOCK_PUT(b, ",\"tool_choice\":");
    mock_resp_echo(b, root, "tool_choice", "\"auto\"");
    MOCK_PUT(b, ",\"tools\":");
    mock_resp_put_tools(b, cJSON_GetObjectItemCaseSensitive(root, "tools"));
    MOCK_PUT(b, ",\"top_logprobs\":");
    mock_resp_echo(b, root, "top_logprobs", "0");
    MOCK_PUT(b, ",\"top_p\":");
    mock_resp_echo(b, root, "top_p", "1");
    MOCK_PUT(b, ",\"truncation\":");
    mock_resp_echo(b, root, "truncation", "\"disabled\"");
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(root, "user");
    if (cJSON_IsString(user)) { /* typed string, not nullable: absent unless given */
        MOCK_PUT(b, ",\"user\":");
        buf_append_json_string(b, str_cstr(user->valuestring));
    }
    MOCK_PUT(b, ",\"metadata\":");
    mock_resp_echo(b, root, "metadata", "{}");
}

static void mock_resp_plan_create(mock_call_t *c, const cJSON *root, mock_fault_t fault)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!model || cJSON_IsNull(model)) {
        mock_resp_plan_invalid(c, "Missing required parameter: 'model'.", "model");
        return;
    }
    if (!cJSON_IsString(model)) {
        mock_resp_plan_invalid(c, "Invalid type for 'model': expected a string.", "model");
        return;
    }
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(root, "input");
    const cJSON *previous = cJSON_GetObjectItemCaseSensitive(root, "previous_response_id");
    if (input && !cJSON_IsNull(input) && !cJSON_IsString(input) && !cJSON_IsArray(input)) {
        mock_resp_plan_invalid(
            c, "Invalid type for 'input': expected one of a string or array of input items.",
            "input");
        return;
    }
    if ((!input || cJSON_IsNull(input)) && !cJSON_IsString(previous) &&
        !cJSON_GetObjectItemCaseSensitive(root, "prompt") &&
        !cJSON_GetObjectItemCaseSensitive(root, "conversation")) {
        mock_resp_plan_invalid(c, "Missing required parameter: 'input'.", "input");
        return;
    }
    if (cJSON_IsString(previous) &&
        !mock_store_get(str_cstr(previous->valuestring), NULL, NULL, NULL)) {
        char message[200];
        snprintf(message, sizeof message, "Previous response with id '%.120s' not found.",
                 previous->valuestring);
        mock_resp_plan_error(c, 400, message, "invalid_request_error", "previous_response_id",
                             "previous_response_not_found");
        return;
    }
    const cJSON *store_v = cJSON_GetObjectItemCaseSensitive(root, "store");
    bool store = !cJSON_IsFalse(store_v);
    bool background = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "background"));
    bool stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "stream"));

    mock_resp_put_escaped(&c->model, str_cstr(model->valuestring));
    mock_resp_read_tool(c, root);
    c->kind = MOCK_RESP_KIND;
    if (c->tool) {
        mock_resp_new_id(c, c->object_id, "fc_", MOCK_RESP_ID_RANDOM);
        mock_resp_new_id(c, c->call_id, "call_", 24);
    } else {
        mock_resp_new_id(c, c->object_id, "msg_", MOCK_RESP_ID_RANDOM);
    }
    mock_resp_prefix(c, root, store, background);

    /* the completed answer: the JSON body, and what the store keeps */
    c->body.n = 0;
    buf_reserve(&c->body, 2048 + c->prefix.n + c->timing.tokens * 8);
    mock_resp_put_response(&c->body, c, true);
    if (store && fault == MOCK_FAULT_NONE) {
        char *items = mock_resp_input_items(c, input);
        mock_store_put(mock_resp_id(c), str_make(c->body.p, c->body.n), items, background);
        free(items);
    }
    if (!stream) {
        c->pre_ms = c->timing.latency_ms;
        mock_resp_json_fault(c, fault);
        return;
    }
    c->body.n = 0;
    c->action = MOCK_ACT_STREAM;
    c->content_type = "text/event-stream";
    c->pre_ms = fault == MOCK_FAULT_SLOW_HEAD ? c->timing.latency_ms : 0;
    c->frame = fault == MOCK_FAULT_MALFORMED ? mock_resp_malformed_frame : mock_resp_frame;
    if (fault == MOCK_FAULT_DROP_MID_STREAM) {
        /* the opening events and half the deltas (for a call: its head and "{") */
        uint64_t deltas = c->tool ? 2 : c->timing.tokens;
        c->drop_after = (c->tool ? 3 : 4) + deltas / 2;
    }
}

/* ---- by id ------------------------------------------------------------------------------ */

/* The value of `name` in a query string (no percent-decoding: ids and numbers need none). */
static str_t mock_query_value(str_t query, const char *name)
{
    size_t n = strlen(name);
    while (query.n) {
        const char *amp = memchr(query.p, '&', query.n);
        str_t pair = str_make(query.p, amp ? (size_t)(amp - query.p) : query.n);
        if (pair.n > n && memcmp(pair.p, name, n) == 0 && pair.p[n] == '=')
            return str_skip(pair, n + 1);
        query = amp ? str_skip(query, pair.n + 1) : STR_NULL;
    }
    return STR_NULL;
}

/* GET .../input_items: {"object":"list","data":[...],"first_id","last_id","has_more"}, newest
 * first unless order=asc; `limit` 1-100 (default 20); `after` an item id. */
static void mock_resp_plan_items(mock_call_t *c, str_t id, str_t query)
{
    buf_t stored = {0};
    if (!mock_store_get(id, NULL, &stored, NULL)) {
        mock_resp_not_found(c, id);
        return;
    }
    long long limit = 20;
    str_t lim = mock_query_value(query, "limit");
    if (lim.p) {
        limit = str_to_ll(lim);
        if (limit < 1 || limit > 100) {
            buf_free(&stored);
            mock_resp_plan_invalid(c, "Invalid 'limit': expected an integer from 1 to 100.",
                                   "limit");
            return;
        }
    }
    bool asc = str_eq_cstr(mock_query_value(query, "order"), "asc");
    str_t after = mock_query_value(query, "after");
    cJSON *items = cJSON_ParseWithLength(stored.p ? stored.p : "[]", stored.n);
    buf_free(&stored);
    int count = cJSON_GetArraySize(items);
    cJSON *data = cJSON_CreateArray();
    bool skipping = after.p != NULL, more = false;
    for (int k = 0; k < count; k++) {
        cJSON *it = cJSON_GetArrayItem(items, asc ? k : count - 1 - k);
        const cJSON *iid = cJSON_GetObjectItemCaseSensitive(it, "id");
        if (skipping) {
            if (cJSON_IsString(iid) && str_eq_cstr(after, iid->valuestring))
                skipping = false;
            continue;
        }
        if (cJSON_GetArraySize(data) >= limit) {
            more = true;
            break;
        }
        cJSON_AddItemToArray(data, cJSON_Duplicate(it, 1));
    }
    buf_t *b = &c->body;
    b->n = 0;
    MOCK_PUT(b, "{\"object\":\"list\",\"data\":");
    char *text = cJSON_PrintUnformatted(data);
    buf_append_cstr(b, text ? text : "[]");
    free(text);
    int n = cJSON_GetArraySize(data);
    for (int k = 0; k < 2; k++) {
        const cJSON *iid =
            n ? cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(data, k ? n - 1 : 0), "id")
              : NULL;
        if (k)
            MOCK_PUT(b, ",\"last_id\":");
        else
            MOCK_PUT(b, ",\"first_id\":");
        if (cJSON_IsString(iid))
            buf_append_json_string(b, str_cstr(iid->valuestring));
        else
            MOCK_PUT(b, "null");
    }
    if (more)
        MOCK_PUT(b, ",\"has_more\":true}");
    else
        MOCK_PUT(b, ",\"has_more\":false}");
    cJSON_Delete(data);
    cJSON_Delete(items);
}

static void mock_resp_plan_by_id(mock_call_t *c, int route, str_t id, str_t query,
                                 mock_fault_t fault)
{
    buf_t *b = &c->body;
    b->n = 0;
    bool background = false;
    switch (route) {
    case MOCK_RESP_GET:
        if (!mock_store_get(id, b, NULL, NULL)) {
            mock_resp_not_found(c, id);
            return;
        }
        break;
    case MOCK_RESP_DELETE:
        if (!mock_store_delete(id)) {
            mock_resp_not_found(c, id);
            return;
        }
        MOCK_PUT(b, "{\"id\":");
        buf_append_json_string(b, id);
        MOCK_PUT(b, ",\"object\":\"response.deleted\",\"deleted\":true}");
        break;
    case MOCK_RESP_CANCEL:
        if (!mock_store_get(id, b, NULL, &background)) {
            mock_resp_not_found(c, id);
            return;
        }
        if (!background) {
            mock_resp_plan_invalid(c,
                                   "Only responses created with background=true can be "
                                   "cancelled.",
                                   NULL);
            return;
        }
        break; /* it completed at once: cancelling leaves it as it is */
    default:
        mock_resp_plan_items(c, id, query);
        if (c->status != 200)
            return;
    }
    c->pre_ms = c->timing.latency_ms;
    mock_resp_json_fault(c, fault);
}

/* ---- routing ---------------------------------------------------------------------------- */

/* /v1/responses..., /responses..., /openai/v1/responses..., /openai/responses... (Azure's). */
static int mock_resp_route(const http_req_t *req, str_t *id, bool *azure)
{
    str_t path = req->head.path, method = req->head.method;
    *id = STR_NULL;
    *azure = false;
    if (str_has_prefix(path, STR_LIT("/openai/v1/"))) {
        path = str_skip(path, 10);
        *azure = true;
    } else if (str_has_prefix(path, STR_LIT("/openai/"))) {
        path = str_skip(path, 7);
        *azure = true;
    } else if (str_has_prefix(path, STR_LIT("/v1/"))) {
        path = str_skip(path, 3);
    }
    static const str_t base = STR_LIT("/responses");
    if (!str_has_prefix(path, base) || (path.n > base.n && path.p[base.n] != '/'))
        return MOCK_RESP_NONE;
    str_t rest = str_skip(path, base.n);
    bool get = str_eq_cstr(method, "GET"), post = str_eq_cstr(method, "POST");
    if (rest.n == 0)
        return post ? MOCK_RESP_CREATE : MOCK_RESP_BAD;
    rest = str_skip(rest, 1); /* "{id}" or "{id}/input_items" or "{id}/cancel" */
    const char *slash = memchr(rest.p, '/', rest.n);
    *id = str_make(rest.p, slash ? (size_t)(slash - rest.p) : rest.n);
    if (id->n == 0)
        return MOCK_RESP_BAD;
    str_t sub = slash ? str_skip(rest, id->n) : STR_NULL;
    if (!sub.n)
        return get                             ? MOCK_RESP_GET
               : str_eq_cstr(method, "DELETE") ? MOCK_RESP_DELETE
                                               : MOCK_RESP_BAD;
    if (get && str_eq_cstr(sub, "/input_items"))
        return MOCK_RESP_ITEMS;
    if (post && str_eq_cstr(sub, "/cancel"))
        return MOCK_RESP_CANCEL;
    return MOCK_RESP_BAD;
}

static bool mock_resp_has_auth(const http_req_t *req, bool azure)
{
    static const str_t bearer = STR_LIT("Bearer ");
    str_t auth = http_req_header(req, "authorization");
    if (auth.p && str_case_has_prefix(auth, bearer) && str_trim(str_skip(auth, bearer.n)).n)
        return true;
    return azure && http_req_header(req, "api-key").n > 0;
}

/* The JSON body, or NULL when it is not exactly one JSON value. */
static cJSON *mock_resp_parse_body(str_t body)
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

/* Called from openai.c's router with every request (stats recorded); false when the path is
 * not the Responses API's. */
bool mock_responses_handle(mock_call_t *c);

bool mock_responses_handle(mock_call_t *c)
{
    http_req_t *req = c->req;
    str_t id;
    bool azure;
    int route = mock_resp_route(req, &id, &azure);
    if (route == MOCK_RESP_NONE)
        return false;
    cJSON *root = route == MOCK_RESP_CREATE ? mock_resp_parse_body(req->body) : NULL;
    const cJSON *body_mock = cJSON_GetObjectItemCaseSensitive(root, "mock");
    mock_controls_t ctl;
    char err[256];
    if (mock_controls_read(&ctl, &c->w->cfg->timing, req,
                           cJSON_IsObject(body_mock) ? body_mock : NULL, err, sizeof err) != 0) {
        mock_resp_plan_invalid(c, err, "mock");
        goto start;
    }
    if (ctl.fail_first && !ctl.id.n) {
        mock_resp_plan_invalid(c, "mock control 'fail-first' needs an 'id'", "mock");
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
            mock_resp_plan_status(c, ctl.status >= 400 ? ctl.status : 500);
    } else if (ctl.status >= 400) {
        mock_resp_plan_status(c, ctl.status);
    }
    if (c->action == MOCK_ACT_DROP || c->body.n)
        goto start; /* a control decided the answer */

    if (route == MOCK_RESP_BAD) {
        char message[160];
        snprintf(message, sizeof message, "Invalid URL (%.*s %.*s)", STR_FMT(req->head.method),
                 (int)MIN(req->head.path.n, 100), req->head.path.p);
        mock_resp_plan_error(c, 404, message, "invalid_request_error", NULL, NULL);
    } else if (!mock_resp_has_auth(req, azure)) {
        mock_resp_plan_error(c, 401,
                             "You didn't provide an API key. You need to provide your API key in "
                             "an Authorization header using Bearer auth (i.e. Authorization: "
                             "Bearer YOUR_KEY).",
                             "invalid_request_error", NULL, NULL);
    } else if (route != MOCK_RESP_CREATE) {
        mock_resp_plan_by_id(c, route, id, req->head.query, ctl.fault);
    } else if (!cJSON_IsObject(root)) {
        mock_resp_plan_invalid(c,
                               "We could not parse the JSON body of your request. The OpenAI API "
                               "expects a JSON object, but what was sent was not valid JSON.",
                               NULL);
    } else {
        mock_resp_plan_create(c, root, ctl.fault);
    }

start:
    cJSON_Delete(root);
    mock_call_start(c);
    return true;
}
