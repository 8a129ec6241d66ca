/* SPDX-License-Identifier: MIT
 * sluice-mock: Ollama's native API. POST /api/chat and /api/generate answer JSON or, by
 * default ("stream" absent or true), NDJSON streams (application/x-ndjson: one object per
 * line, the last with done:true and the counts); POST /api/embed answers {"embeddings"};
 * GET /api/tags lists models, GET /api/version the version. No auth (Ollama has none); errors
 * are Ollama's {"error": "..."}. The controls and timing are the OpenAI routes' (docs/mock.md). */
#include <string.h>

#include "native.h"

enum { OLLAMA_KIND_CHAT = 1, OLLAMA_KIND_GENERATE };

/* Durations every answer reports, in ns (fixed: tests compare counts, not clocks). */
#define OLLAMA_DURATIONS                                                                           \
    "\"total_duration\":1200000,\"load_duration\":100000,\"prompt_eval_duration\":300000,"         \
    "\"eval_duration\":800000"

static void ollama_error(mock_call_t *c, int status, const char *message)
{
    c->action = MOCK_ACT_SEND;
    c->status = status;
    c->content_type = "application/json; charset=utf-8";
    c->pre_ms = 0;
    c->body.n = 0;
    NATIVE_PUT(&c->body, "{\"error\":");
    buf_append_json_string(&c->body, str_cstr(message));
    NATIVE_PUT(&c->body, "}");
}

/* created_at as Ollama writes it, "2026-11-27T15:52:01.123456789Z", into c->object_id. */
static void ollama_created_at(mock_call_t *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char day[32];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(c->object_id, sizeof c->object_id, "%s.%09ldZ", day, (long)ts.tv_nsec);
}

/* {"model":"M","created_at":"T", */
static void ollama_head(buf_t *b, const mock_call_t *c)
{
    NATIVE_PUT(b, "{\"model\":\"");
    buf_append(b, c->model.p, c->model.n);
    NATIVE_PUT(b, "\",\"created_at\":\"");
    buf_append_cstr(b, c->object_id);
    NATIVE_PUT(b, "\",");
}

static void ollama_tool_calls(buf_t *b, const mock_call_t *c)
{
    NATIVE_PUT(b, ",\"tool_calls\":[{\"function\":{\"name\":\"");
    buf_append(b, c->tool_name.p, c->tool_name.n);
    NATIVE_PUT(b, "\",\"arguments\":{}}}]");
}

/* The done:true tail: reason, counts, durations (and the context of /api/generate). */
static void ollama_done(buf_t *b, const mock_call_t *c)
{
    NATIVE_PUT(b, "\"done_reason\":\"stop\",\"done\":true,");
    if (c->kind == OLLAMA_KIND_GENERATE)
        NATIVE_PUT(b, "\"context\":[1,2,3],");
    NATIVE_PUT(b, "\"prompt_eval_count\":");
    mock_append_u64(b, c->prompt_tokens);
    NATIVE_PUT(b, ",\"eval_count\":");
    mock_append_u64(b, c->timing.tokens);
    NATIVE_PUT(b, "," OLLAMA_DURATIONS "}");
}

static void ollama_body(mock_call_t *c)
{
    buf_t *b = &c->body;
    b->n = 0;
    buf_reserve(b, 512 + c->model.n * 2 + c->tool_name.n + c->timing.tokens * 8);
    ollama_head(b, c);
    if (c->kind == OLLAMA_KIND_CHAT) {
        NATIVE_PUT(b, "\"message\":{\"role\":\"assistant\",\"content\":\"");
        for (uint64_t k = 0; k < c->timing.tokens && !c->tool; k++)
            native_put_token(b, c, k);
        NATIVE_PUT(b, "\"");
        if (c->tool)
            ollama_tool_calls(b, c);
        NATIVE_PUT(b, "},");
    } else {
        NATIVE_PUT(b, "\"response\":\"");
        for (uint64_t k = 0; k < c->timing.tokens; k++)
            native_put_token(b, c, k);
        NATIVE_PUT(b, "\",");
    }
    ollama_done(b, c);
}

/* One line per token (the first after ttft, chunk delay between), then the done line; with a
 * tool, one line carrying the call, then the done line. */
static bool ollama_frame(mock_call_t *c, size_t i, buf_t *out, uint64_t *delay_ms)
{
    uint64_t lines = c->tool ? 1 : c->timing.tokens;
    *delay_ms = i == 0 ? c->timing.ttft_ms : i < lines ? c->timing.chunk_delay_ms : 0;
    if (i > lines)
        return false;
    ollama_head(out, c);
    if (i == lines) {
        if (c->kind == OLLAMA_KIND_CHAT)
            NATIVE_PUT(out, "\"message\":{\"role\":\"assistant\",\"content\":\"\"},");
        else
            NATIVE_PUT(out, "\"response\":\"\",");
        ollama_done(out, c);
    } else if (c->kind == OLLAMA_KIND_CHAT) {
        NATIVE_PUT(out, "\"message\":{\"role\":\"assistant\",\"content\":\"");
        if (!c->tool)
            native_put_token(out, c, i);
        NATIVE_PUT(out, "\"");
        if (c->tool)
            ollama_tool_calls(out, c);
        NATIVE_PUT(out, "},\"done\":false}");
    } else {
        NATIVE_PUT(out, "\"response\":\"");
        native_put_token(out, c, i);
        NATIVE_PUT(out, "\",\"done\":false}");
    }
    NATIVE_PUT(out, "\n");
    return true;
}

/* The malformed fault on a stream: one line that is not JSON. */
static bool ollama_malformed_frame(mock_call_t *c, size_t i, buf_t *out, uint64_t *delay_ms)
{
    *delay_ms = i == 0 ? c->timing.ttft_ms : 0;
    if (i == 0)
        NATIVE_PUT(out, "{\"model\":\"mock\",\"message\":{\"content\":\"tru\n");
    return i == 0;
}

/* A request that only names the model loads it: done_reason "load", nothing generated. */
static void ollama_plan_load(mock_call_t *c)
{
    buf_t *b = &c->body;
    b->n = 0;
    ollama_head(b, c);
    if (c->kind == OLLAMA_KIND_CHAT)
        NATIVE_PUT(b, "\"message\":{\"role\":\"assistant\",\"content\":\"\"},");
    else
        NATIVE_PUT(b, "\"response\":\"\",");
    NATIVE_PUT(b, "\"done_reason\":\"load\",\"done\":true}");
    c->content_type = "application/json; charset=utf-8";
    c->pre_ms = c->timing.latency_ms;
}

static void ollama_plan_generation(mock_call_t *c, const cJSON *root, int kind, mock_fault_t fault)
{
    const cJSON *model = native_get(root, "model");
    if (!native_nonempty_string(model)) {
        ollama_error(c, 400, "model is required");
        return;
    }
    native_put_escaped(&c->model, str_cstr(model->valuestring));
    c->kind = kind;
    ollama_created_at(c);
    if (kind == OLLAMA_KIND_CHAT) {
        const cJSON *messages = native_get(root, "messages");
        if (messages && !cJSON_IsNull(messages) && !cJSON_IsArray(messages)) {
            ollama_error(c, 400, "invalid messages: expected an array");
            return;
        }
        for (const cJSON *m = messages ? messages->child : NULL; m; m = m->next) {
            if (!native_nonempty_string(native_get(m, "role"))) {
                ollama_error(c, 400, "invalid message: role is required");
                return;
            }
        }
        if (!messages || !messages->child) {
            ollama_plan_load(c);
            return;
        }
        const cJSON *tools = native_get(root, "tools");
        if (cJSON_IsArray(tools) && tools->child) {
            const cJSON *fn = native_get(tools->child, "function");
            const cJSON *name = native_get(fn ? fn : tools->child, "name");
            c->tool = true;
            native_put_escaped(&c->tool_name, native_nonempty_string(name)
                                                  ? str_cstr(name->valuestring)
                                                  : STR_LIT("function"));
        }
    } else {
        const cJSON *prompt = native_get(root, "prompt");
        if (prompt && !cJSON_IsNull(prompt) && !cJSON_IsString(prompt)) {
            ollama_error(c, 400, "invalid prompt: expected a string");
            return;
        }
        if (!prompt || cJSON_IsNull(prompt)) {
            ollama_plan_load(c);
            return;
        }
    }
    const cJSON *stream = native_get(root, "stream");
    if (cJSON_IsFalse(stream)) {
        c->content_type = "application/json; charset=utf-8";
        ollama_body(c);
        native_json_fault(c, fault);
        return;
    }
    c->action = MOCK_ACT_STREAM;
    c->content_type = "application/x-ndjson";
    c->pre_ms = fault == MOCK_FAULT_SLOW_HEAD ? c->timing.latency_ms : 0;
    c->frame = fault == MOCK_FAULT_MALFORMED ? ollama_malformed_frame : ollama_frame;
    if (fault == MOCK_FAULT_DROP_MID_STREAM)
        c->drop_after = c->tool ? 1 : MAX(1, c->timing.tokens / 2);
}

static void ollama_plan_embed(mock_call_t *c, const cJSON *root, mock_fault_t fault)
{
    const cJSON *model = native_get(root, "model");
    const cJSON *input = native_get(root, "input");
    const cJSON *dims_j = native_get(root, "dimensions");
    if (!native_nonempty_string(model)) {
        ollama_error(c, 400, "model is required");
        return;
    }
    bool ok = cJSON_IsString(input) || (cJSON_IsArray(input) && input->child);
    int count = 0;
    for (const cJSON *t = cJSON_IsArray(input) ? input->child : NULL; t && ok; t = t->next)
        ok = cJSON_IsString(t) && ++count <= NATIVE_EMBED_MAX_INPUTS;
    if (!ok) {
        ollama_error(c, 400, "invalid input type: expected a string or an array of strings");
        return;
    }
    size_t dims = NATIVE_EMBED_DEFAULT_DIMS;
    if (dims_j && !cJSON_IsNull(dims_j)) {
        double d = cJSON_IsNumber(dims_j) ? dims_j->valuedouble : 0;
        if (d < 1 || d > NATIVE_EMBED_MAX_DIMS || d != floor(d)) {
            ollama_error(c, 400, "dimensions must be an integer from 1 to 8192");
            return;
        }
        dims = (size_t)d;
    }
    buf_t *b = &c->body;
    b->n = 0;
    NATIVE_PUT(b, "{\"model\":");
    buf_append_json_string(b, str_cstr(model->valuestring));
    NATIVE_PUT(b, ",\"embeddings\":[");
    uint64_t tokens = 0;
    const cJSON *first = cJSON_IsString(input) ? input : input->child;
    for (const cJSON *t = first; t; t = cJSON_IsString(input) ? NULL : t->next) {
        if (t != first)
            NATIVE_PUT(b, ",");
        size_t n = strlen(t->valuestring);
        native_put_vector(b, native_hash(t->valuestring, n), dims);
        tokens += (n + 3) / 4;
    }
    NATIVE_PUT(b, "],\"total_duration\":1200000,\"load_duration\":100000,\"prompt_eval_count\":");
    mock_append_u64(b, tokens);
    NATIVE_PUT(b, "}");
    c->content_type = "application/json; charset=utf-8";
    native_json_fault(c, fault);
}

static const char *const ollama_models[] = {"llama3:latest", "llama3.1:8b",
                                            "nomic-embed-text:latest", "mock-model:latest"};

static void ollama_plan_tags(mock_call_t *c)
{
    buf_t *b = &c->body;
    b->n = 0;
    NATIVE_PUT(b, "{\"models\":[");
    for (size_t i = 0; i < COUNTOF(ollama_models); i++) {
        if (i)
            NATIVE_PUT(b, ",");
        NATIVE_PUT(b, "{\"name\":\"");
        buf_append_cstr(b, ollama_models[i]);
        NATIVE_PUT(b, "\",\"model\":\"");
        buf_append_cstr(b, ollama_models[i]);
        NATIVE_PUT(b, "\",\"modified_at\":\"2026-11-01T00:00:00Z\",\"size\":4661224676,"
                      "\"digest\":\"");
        char digest[64];
        uint64_t h = native_hash(ollama_models[i], strlen(ollama_models[i]));
        for (int k = 0; k < 64; k++, h = h * 6364136223846793005ull + 1442695040888963407ull)
            digest[k] = "0123456789abcdef"[h >> 60];
        buf_append(b, digest, sizeof digest);
        NATIVE_PUT(b, "\",\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":"
                      "\"llama\",\"families\":[\"llama\"],\"parameter_size\":\"8.0B\","
                      "\"quantization_level\":\"Q4_0\"}}");
    }
    NATIVE_PUT(b, "]}");
    c->content_type = "application/json; charset=utf-8";
    c->pre_ms = c->timing.latency_ms;
}

bool mock_ollama_handle(mock_call_t *c)
{
    http_req_t *req = c->req;
    str_t path = req->head.path;
    bool post = str_eq_cstr(req->head.method, "POST"), get = str_eq_cstr(req->head.method, "GET");
    int route = str_eq_cstr(path, "/api/chat")       ? 1
                : str_eq_cstr(path, "/api/generate") ? 2
                : str_eq_cstr(path, "/api/embed")    ? 3
                : str_eq_cstr(path, "/api/tags")     ? 4
                : str_eq_cstr(path, "/api/version")  ? 5
                                                     : 0;
    if (!route)
        return false;
    cJSON *root = route <= 3 ? native_parse_body(req->body) : NULL;
    mock_fault_t fault = MOCK_FAULT_NONE;
    if (native_controls(c, native_get(root, "mock"), &fault, ollama_error)) {
        /* a control decided the answer */
    } else if ((route <= 3 && !post) || (route > 3 && !get)) {
        ollama_error(c, 405, "method not allowed");
    } else if (route == 4) {
        ollama_plan_tags(c);
    } else if (route == 5) {
        NATIVE_PUT(&c->body, "{\"version\":\"0.12.0\"}");
        c->content_type = "application/json; charset=utf-8";
    } else if (!cJSON_IsObject(root)) {
        ollama_error(c, 400, "invalid character in the request body: expected a JSON object");
    } else if (route == 3) {
        ollama_plan_embed(c, root, fault);
    } else {
        ollama_plan_generation(c, root, route == 1 ? OLLAMA_KIND_CHAT : OLLAMA_KIND_GENERATE,
                               fault);
    }
    cJSON_Delete(root);
    mock_call_start(c);
    return true;
}
