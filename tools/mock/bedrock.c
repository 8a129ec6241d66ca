/* SPDX-License-Identifier: MIT
 * sluice-mock: AWS Bedrock runtime. POST /model/<id>/converse answers a Converse response,
 * /converse-stream the same as AWS event-stream frames (messageStart, contentBlockStart for a
 * tool, contentBlockDelta, contentBlockStop, messageStop, metadata), /invoke Titan text and
 * Cohere embeddings. Every request must carry a valid SigV4 signature (service bedrock) made
 * with the mock's key (MOCK_AWS_ACCESS_KEY_ID / MOCK_AWS_SECRET_ACCESS_KEY, default AWS's
 * documented example key) or a Bedrock API key as Bearer; errors are Bedrock's {"message"} with
 * x-amzn-ErrorType. The controls and timing are the OpenAI routes' (docs/mock.md). */
#include <stdlib.h>
#include <string.h>

#include "native.h"
#include "providers/eventstream.h"
#include "providers/sigv4.h"

#define BEDROCK_DEFAULT_KEY_ID "AKIDEXAMPLE"
#define BEDROCK_DEFAULT_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define BEDROCK_TITAN_V1_DIMS 1536
#define BEDROCK_TITAN_V2_DIMS 1024
#define BEDROCK_COHERE_DIMS 1024

/* mock_call_t.kind: a chat answer, or one cut short at inferenceConfig.maxTokens */
enum { BEDROCK_KIND_CHAT = 1, BEDROCK_KIND_CHAT_MAX_TOKENS };

/* What a stream frame is, in order. */
typedef enum {
    BF_MESSAGE_START,
    BF_TOOL_START,
    BF_DELTA,
    BF_BLOCK_STOP,
    BF_MESSAGE_STOP,
    BF_METADATA,
    BF_END,
} bedrock_frame_kind_t;

static const char *bedrock_error_type(int status)
{
    switch (status) {
    case 400:
        return "ValidationException";
    case 401:
        return "UnrecognizedClientException";
    case 403:
        return "AccessDeniedException";
    case 404:
        return "ResourceNotFoundException";
    case 408:
        return "ModelTimeoutException";
    case 424:
        return "ModelErrorException";
    case 429:
        return "ThrottlingException";
    case 503:
        return "ServiceUnavailableException";
    default:
        return status >= 500 ? "InternalServerException" : "ValidationException";
    }
}

/* Plans Bedrock's error: {"message":...} and x-amzn-ErrorType "<Name>:<namespace>". */
static void bedrock_error_typed(mock_call_t *c, int status, const char *type, const char *message)
{
    c->action = MOCK_ACT_SEND;
    c->status = status;
    c->content_type = "application/json";
    c->pre_ms = 0;
    c->body.n = 0;
    NATIVE_PUT(&c->body, "{\"message\":");
    buf_append_json_string(&c->body, str_cstr(message));
    NATIVE_PUT(&c->body, "}");
    char value[160];
    snprintf(value, sizeof value, "%s:http://internal.amazon.com/coral/com.amazon.bedrock/", type);
    http_resp_header_cstr(c->req, "x-amzn-ErrorType", value);
}

static void bedrock_error(mock_call_t *c, int status, const char *message)
{
    bedrock_error_typed(c, status, bedrock_error_type(status), message);
}

static void bedrock_invalid(mock_call_t *c, const char *message)
{
    bedrock_error(c, 400, message);
}

/* ---- authentication ------------------------------------------------------------------------ */

static const char *bedrock_env(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

/* True when the request is signed with the mock's key (or carries a Bearer API key); else an
 * error is planned, worded as AWS words it. */
static bool bedrock_check_auth(mock_call_t *c)
{
    http_req_t *req = c->req;
    static const str_t bearer = STR_LIT("Bearer ");
    str_t auth = http_req_header(req, "authorization");
    if (auth.p && str_case_has_prefix(auth, bearer)) {
        if (str_trim(str_skip(auth, bearer.n)).n)
            return true;
        bedrock_error_typed(c, 403, "UnrecognizedClientException",
                            "Invalid API Key format: Must start with pre-defined prefix");
        return false;
    }
    sigv4_header_t h[HTTP_MAX_HEADERS];
    size_t n = 0;
    for (size_t i = 0; i < req->head.num_headers && n < HTTP_MAX_HEADERS; i++)
        h[n++] = (sigv4_header_t){req->head.headers[i].name, req->head.headers[i].value};
    sigv4_verify_t v = {
        .method = req->head.method,
        .path = req->head.path,
        .query = req->head.query,
        .headers = h,
        .num_headers = n,
        .body = req->body,
        .access_key_id = bedrock_env("MOCK_AWS_ACCESS_KEY_ID", BEDROCK_DEFAULT_KEY_ID),
        .secret_access_key = bedrock_env("MOCK_AWS_SECRET_ACCESS_KEY", BEDROCK_DEFAULT_SECRET),
        .service = "bedrock",
        .now = time(NULL),
    };
    char why[160], message[320];
    switch (sigv4_verify(&v, why, sizeof why)) {
    case SIGV4_OK:
        return true;
    case SIGV4_ERR_MISSING:
        bedrock_error_typed(c, 403, "MissingAuthenticationTokenException",
                            "Missing Authentication Token");
        return false;
    case SIGV4_ERR_UNKNOWN_KEY:
        bedrock_error_typed(c, 403, "UnrecognizedClientException",
                            "The security token included in the request is invalid.");
        return false;
    case SIGV4_ERR_MISMATCH:
        bedrock_error_typed(c, 403, "InvalidSignatureException",
                            "The request signature we calculated does not match the signature "
                            "you provided. Check your AWS Secret Access Key and signing method. "
                            "Consult the service documentation for details.");
        return false;
    case SIGV4_ERR_EXPIRED:
        snprintf(message, sizeof message, "Signature expired: %s", why);
        bedrock_error_typed(c, 403, "InvalidSignatureException", message);
        return false;
    default:
        snprintf(message, sizeof message, "Authorization header is malformed: %s", why);
        bedrock_error_typed(c, 403, "IncompleteSignatureException", message);
        return false;
    }
}

/* ---- converse ---------------------------------------------------------------------------- */

static void bedrock_usage(buf_t *b, const mock_call_t *c, uint64_t output)
{
    NATIVE_PUT(b, "{\"inputTokens\":");
    mock_append_u64(b, c->prompt_tokens);
    NATIVE_PUT(b, ",\"outputTokens\":");
    mock_append_u64(b, output);
    NATIVE_PUT(b, ",\"totalTokens\":");
    mock_append_u64(b, c->prompt_tokens + output);
    NATIVE_PUT(b, "}");
}

static uint64_t bedrock_latency_ms(const mock_call_t *c)
{
    return c->req ? (uv_hrtime() - c->req->start_ns) / 1000000 : 0;
}

static const char *bedrock_stop_reason(const mock_call_t *c)
{
    return c->tool                                   ? "tool_use"
           : c->kind == BEDROCK_KIND_CHAT_MAX_TOKENS ? "max_tokens"
                                                     : "end_turn";
}

static void bedrock_converse_body(mock_call_t *c)
{
    buf_t *b = &c->body;
    b->n = 0;
    buf_reserve(b, 512 + c->model.n + c->tool_name.n + c->timing.tokens * 8);
    NATIVE_PUT(b, "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[");
    if (c->tool) {
        NATIVE_PUT(b, "{\"toolUse\":{\"toolUseId\":\"");
        buf_append_cstr(b, c->call_id);
        NATIVE_PUT(b, "\",\"name\":\"");
        buf_append(b, c->tool_name.p, c->tool_name.n);
        NATIVE_PUT(b, "\",\"input\":{}}}");
    } else {
        NATIVE_PUT(b, "{\"text\":\"");
        for (uint64_t k = 0; k < c->timing.tokens; k++)
            native_put_token(b, c, k);
        NATIVE_PUT(b, "\"}");
    }
    NATIVE_PUT(b, "]}},\"stopReason\":\"");
    buf_append_cstr(b, bedrock_stop_reason(c));
    NATIVE_PUT(b, "\",\"usage\":");
    bedrock_usage(b, c, c->timing.tokens);
    NATIVE_PUT(b, ",\"metrics\":{\"latencyMs\":");
    mock_append_u64(b, c->timing.latency_ms);
    NATIVE_PUT(b, "}}");
}

/* Which frame `i` is, and for deltas which one (*k). */
static bedrock_frame_kind_t bedrock_frame_kind(const mock_call_t *c, size_t i, uint64_t *k)
{
    uint64_t deltas = c->tool ? 2 : c->timing.tokens;
    bool block = c->tool || deltas > 0;
    if (i == 0)
        return BF_MESSAGE_START;
    i--;
    if (c->tool) {
        if (i == 0)
            return BF_TOOL_START;
        i--;
    }
    if (i < deltas) {
        *k = i;
        return BF_DELTA;
    }
    i -= deltas;
    if (block) {
        if (i == 0)
            return BF_BLOCK_STOP;
        i--;
    }
    return i == 0 ? BF_MESSAGE_STOP : i == 1 ? BF_METADATA : BF_END;
}

/* One event-stream frame per event. Payloads carry a "p" padding member as Bedrock's do. */
static bool bedrock_frame(mock_call_t *c, size_t i, buf_t *out, uint64_t *delay_ms)
{
    uint64_t k = 0;
    bedrock_frame_kind_t kind = bedrock_frame_kind(c, i, &k);
    buf_t *p = &c->prefix; /* the payload, built in the call's reused buffer */
    p->n = 0;
    *delay_ms = 0;
    const char *event = NULL;
    switch (kind) {
    case BF_MESSAGE_START:
        *delay_ms = c->timing.ttft_ms;
        event = "messageStart";
        NATIVE_PUT(p, "{\"role\":\"assistant\",\"p\":\"abcdefghijkl\"}");
        break;
    case BF_TOOL_START:
        event = "contentBlockStart";
        NATIVE_PUT(p, "{\"contentBlockIndex\":0,\"start\":{\"toolUse\":{\"toolUseId\":\"");
        buf_append_cstr(p, c->call_id);
        NATIVE_PUT(p, "\",\"name\":\"");
        buf_append(p, c->tool_name.p, c->tool_name.n);
        NATIVE_PUT(p, "\"}},\"p\":\"abcd\"}");
        break;
    case BF_DELTA:
        *delay_ms = k == 0 ? 0 : c->timing.chunk_delay_ms;
        event = "contentBlockDelta";
        if (c->tool) {
            NATIVE_PUT(p, "{\"contentBlockIndex\":0,\"delta\":{\"toolUse\":{\"input\":\"");
            if (k == 0)
                NATIVE_PUT(p, "{");
            else
                NATIVE_PUT(p, "}");
            NATIVE_PUT(p, "\"}},\"p\":\"abcdefgh\"}");
        } else {
            NATIVE_PUT(p, "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"");
            native_put_token(p, c, k);
            NATIVE_PUT(p, "\"},\"p\":\"abcdefgh\"}");
        }
        break;
    case BF_BLOCK_STOP:
        event = "contentBlockStop";
        NATIVE_PUT(p, "{\"contentBlockIndex\":0,\"p\":\"abcdefghijklmnop\"}");
        break;
    case BF_MESSAGE_STOP:
        event = "messageStop";
        NATIVE_PUT(p, "{\"stopReason\":\"");
        buf_append_cstr(p, bedrock_stop_reason(c));
        NATIVE_PUT(p, "\",\"p\":\"abcdefghijklmnopqrs\"}");
        break;
    case BF_METADATA:
        event = "metadata";
        NATIVE_PUT(p, "{\"usage\":");
        bedrock_usage(p, c, c->timing.tokens);
        NATIVE_PUT(p, ",\"metrics\":{\"latencyMs\":");
        mock_append_u64(p, bedrock_latency_ms(c));
        NATIVE_PUT(p, "},\"p\":\"abcdefghijklmnopqrstuvwxyzABCDEF\"}");
        break;
    case BF_END:
        return false;
    }
    evs_encode_event(out, str_cstr(event), str_make(p->p, p->n));
    return true;
}

/* The malformed fault on a stream: messageStart, then a frame whose message CRC is wrong. */
static bool bedrock_malformed_frame(mock_call_t *c, size_t i, buf_t *out, uint64_t *delay_ms)
{
    *delay_ms = i == 0 ? c->timing.ttft_ms : 0;
    if (i == 0) {
        evs_encode_event(out, STR_LIT("messageStart"), STR_LIT("{\"role\":\"assistant\"}"));
    } else if (i == 1) {
        size_t mark = out->n;
        evs_encode_event(out, STR_LIT("contentBlockDelta"),
                         STR_LIT("{\"contentBlockIndex\":0,\"delta\":{\"text\":\"tru\"}}"));
        if (out->n > mark)
            out->p[out->n - 1] ^= 0x5a; /* breaks the message CRC */
    }
    return i < 2;
}

static const char *const bedrock_converse_keys[] = {"messages",
                                                    "system",
                                                    "inferenceConfig",
                                                    "toolConfig",
                                                    "additionalModelRequestFields",
                                                    "additionalModelResponseFieldPaths",
                                                    "guardrailConfig",
                                                    "performanceConfig",
                                                    "promptVariables",
                                                    "requestMetadata",
                                                    "mock",
                                                    NULL};

static const char *const bedrock_block_keys[] = {"text",
                                                 "image",
                                                 "document",
                                                 "video",
                                                 "toolUse",
                                                 "toolResult",
                                                 "reasoningContent",
                                                 "cachePoint",
                                                 "guardContent",
                                                 "citationsContent",
                                                 NULL};

static bool bedrock_known(const char *const *keys, const char *name)
{
    for (; *keys; keys++)
        if (strcmp(*keys, name) == 0)
            return true;
    return false;
}

/* Validates messages as Bedrock does; plans a 400 and returns false when they are not valid.
 * *tool_blocks tells whether toolUse / toolResult appear, *last_is_result whether the last
 * message returns a tool's result. */
static bool bedrock_check_messages(mock_call_t *c, const cJSON *messages, bool *tool_blocks,
                                   bool *last_is_result)
{
    char msg[200];
    if (!cJSON_IsArray(messages) || !messages->child) {
        bedrock_invalid(c, "The model returned the following errors: messages: at least one "
                           "message is required");
        return false;
    }
    int index = 0;
    const char *prev = NULL;
    for (const cJSON *m = messages->child; m; m = m->next, index++) {
        const cJSON *role = native_get(m, "role"), *content = native_get(m, "content");
        if (!cJSON_IsString(role) || (strcmp(role->valuestring, "user") != 0 &&
                                      strcmp(role->valuestring, "assistant") != 0)) {
            snprintf(msg, sizeof msg,
                     "1 validation error detected: Value at 'messages.%d.member.role' failed to "
                     "satisfy constraint: Member must satisfy enum value set: [user, assistant]",
                     index);
            bedrock_invalid(c, msg);
            return false;
        }
        if (!prev && strcmp(role->valuestring, "user") != 0) {
            bedrock_invalid(c, "A conversation must start with a user message. Try again with "
                               "a conversation that starts with a user message.");
            return false;
        }
        if (prev && strcmp(prev, role->valuestring) == 0) {
            bedrock_invalid(c, "A conversation must alternate between user and assistant roles. "
                               "Make sure the conversation alternates between user and assistant "
                               "roles and try again.");
            return false;
        }
        prev = role->valuestring;
        if (!cJSON_IsArray(content) || !content->child) {
            snprintf(msg, sizeof msg,
                     "The content field in the Message object at messages.%d is "
                     "empty. Add a ContentBlock object to the content field and "
                     "try again.",
                     index);
            bedrock_invalid(c, msg);
            return false;
        }
        *last_is_result = false;
        int bi = 0;
        for (const cJSON *b = content->child; b; b = b->next, bi++) {
            const cJSON *key = cJSON_IsObject(b) ? b->child : NULL;
            if (!key || key->next || !bedrock_known(bedrock_block_keys, key->string)) {
                snprintf(msg, sizeof msg,
                         "Malformed input request: messages.%d.content.%d is "
                         "not a valid ContentBlock",
                         index, bi);
                bedrock_invalid(c, msg);
                return false;
            }
            if (strcmp(key->string, "text") == 0 &&
                (!cJSON_IsString(key) || !str_trim(str_cstr(key->valuestring)).n)) {
                snprintf(msg, sizeof msg,
                         "The text field in the ContentBlock object at "
                         "messages.%d.content.%d is blank. Add text to the text "
                         "field, and try again.",
                         index, bi);
                bedrock_invalid(c, msg);
                return false;
            }
            if (strcmp(key->string, "toolUse") == 0 || strcmp(key->string, "toolResult") == 0) {
                *tool_blocks = true;
                if (!native_nonempty_string(native_get(key, "toolUseId"))) {
                    bedrock_invalid(c, "Malformed input request: toolUseId is required");
                    return false;
                }
            }
            if (strcmp(key->string, "toolResult") == 0)
                *last_is_result = true;
        }
    }
    return true;
}

/* Reads toolConfig: whether to answer with a tool call, and which. False with a 400 planned. */
static bool bedrock_read_tools(mock_call_t *c, const cJSON *root, bool tool_blocks,
                               bool last_is_result)
{
    const cJSON *config = native_get(root, "toolConfig");
    if (!config || cJSON_IsNull(config)) {
        if (tool_blocks) {
            bedrock_invalid(c, "The toolConfig field must be defined when using toolUse and "
                               "toolResult content blocks.");
            return false;
        }
        return true;
    }
    const cJSON *tools = native_get(config, "tools");
    if (!cJSON_IsArray(tools) || !tools->child) {
        bedrock_invalid(c, "Malformed input request: toolConfig.tools must hold at least one tool");
        return false;
    }
    for (const cJSON *t = tools->child; t; t = t->next) {
        const cJSON *spec = native_get(t, "toolSpec");
        if (!native_nonempty_string(native_get(spec, "name")) ||
            !cJSON_IsObject(native_get(native_get(spec, "inputSchema"), "json"))) {
            bedrock_invalid(c, "Malformed input request: every tool needs toolSpec.name and "
                               "toolSpec.inputSchema.json");
            return false;
        }
        const cJSON *desc = native_get(spec, "description");
        if (desc && (!cJSON_IsString(desc) || !desc->valuestring[0])) {
            bedrock_invalid(c, "Malformed input request: toolSpec.description must not be empty");
            return false;
        }
    }
    const cJSON *choice = native_get(config, "toolChoice");
    const cJSON *named = native_get(native_get(choice, "tool"), "name");
    bool forced = native_get(choice, "any") || named;
    if (choice && !forced && !native_get(choice, "auto")) {
        bedrock_invalid(c, "Malformed input request: toolChoice must be auto, any or tool");
        return false;
    }
    const cJSON *name = native_get(native_get(tools->child, "toolSpec"), "name");
    if (named) {
        bool found = false;
        for (const cJSON *t = tools->child; t && !found; t = t->next) {
            const cJSON *n = native_get(native_get(t, "toolSpec"), "name");
            found = cJSON_IsString(named) && strcmp(n->valuestring, named->valuestring) == 0;
        }
        if (!found) {
            bedrock_invalid(c, "The tool named in toolChoice is not among toolConfig.tools.");
            return false;
        }
        name = named;
    }
    /* a tool's result in the last turn gets a text answer, unless a tool is forced */
    if (last_is_result && !forced)
        return true;
    c->tool = true;
    native_put_escaped(&c->tool_name, str_cstr(name->valuestring));
    memcpy(c->call_id, "tooluse_", 8);
    mock_random_alnum(c->w, c->call_id + 8, 22);
    c->call_id[30] = '\0';
    return true;
}

static void bedrock_plan_converse(mock_call_t *c, const cJSON *root, bool stream,
                                  mock_fault_t fault)
{
    char msg[200];
    for (const cJSON *k = root->child; k; k = k->next) {
        if (!bedrock_known(bedrock_converse_keys, k->string)) {
            snprintf(msg, sizeof msg,
                     "Malformed input request: extraneous key [%.60s] is not "
                     "permitted, please reformat your input and try again.",
                     k->string);
            bedrock_invalid(c, msg);
            return;
        }
    }
    bool tool_blocks = false, last_is_result = false;
    if (!bedrock_check_messages(c, native_get(root, "messages"), &tool_blocks, &last_is_result))
        return;
    const cJSON *system = native_get(root, "system");
    if (system && !cJSON_IsArray(system)) {
        bedrock_invalid(c, "Malformed input request: system must be an array of blocks");
        return;
    }
    const cJSON *ic = native_get(root, "inferenceConfig");
    const cJSON *max = native_get(ic, "maxTokens");
    if (max && (!cJSON_IsNumber(max) || max->valuedouble < 1 ||
                max->valuedouble != floor(max->valuedouble))) {
        bedrock_invalid(c, "1 validation error detected: Value at 'inferenceConfig.maxTokens' "
                           "failed to satisfy constraint: Member must have value greater than "
                           "or equal to 1");
        return;
    }
    if (!bedrock_read_tools(c, root, tool_blocks, last_is_result))
        return;
    /* maxTokens below the planned length cuts the answer there (stopReason max_tokens) */
    c->kind = BEDROCK_KIND_CHAT;
    if (!c->tool && max && (uint64_t)max->valuedouble < c->timing.tokens) {
        c->timing.tokens = (uint64_t)max->valuedouble;
        c->kind = BEDROCK_KIND_CHAT_MAX_TOKENS;
    }
    if (!stream) {
        bedrock_converse_body(c);
        native_json_fault(c, fault);
        return;
    }
    c->action = MOCK_ACT_STREAM;
    c->content_type = "application/vnd.amazon.eventstream";
    c->pre_ms = fault == MOCK_FAULT_SLOW_HEAD ? c->timing.latency_ms : 0;
    c->frame = fault == MOCK_FAULT_MALFORMED ? bedrock_malformed_frame : bedrock_frame;
    if (fault == MOCK_FAULT_DROP_MID_STREAM)
        /* messageStart and half the text deltas; a tool: its start and "{" */
        c->drop_after = c->tool ? 3 : 1 + c->timing.tokens / 2;
}

/* ---- invoke: embeddings ------------------------------------------------------------------- */

static void bedrock_plan_titan(mock_call_t *c, const cJSON *root, bool v2, mock_fault_t fault)
{
    static const char *const keys[] = {"inputText",      "dimensions", "normalize",
                                       "embeddingTypes", "mock",       NULL};
    char msg[200];
    for (const cJSON *k = root->child; k; k = k->next) {
        if (!bedrock_known(keys, k->string) ||
            (!v2 && strcmp(k->string, "inputText") != 0 && strcmp(k->string, "mock") != 0)) {
            snprintf(msg, sizeof msg,
                     "Malformed input request: extraneous key [%.60s] is not "
                     "permitted, please reformat your input and try again.",
                     k->string);
            bedrock_invalid(c, msg);
            return;
        }
    }
    const cJSON *text = native_get(root, "inputText");
    if (!native_nonempty_string(text)) {
        bedrock_invalid(c, "Malformed input request: #: required key [inputText] not found, "
                           "please reformat your input and try again.");
        return;
    }
    size_t dims = v2 ? BEDROCK_TITAN_V2_DIMS : BEDROCK_TITAN_V1_DIMS;
    const cJSON *d = native_get(root, "dimensions");
    if (d) {
        if (!cJSON_IsNumber(d) ||
            (d->valuedouble != 256 && d->valuedouble != 512 && d->valuedouble != 1024)) {
            bedrock_invalid(c, "Malformed input request: #/dimensions: 1024, 512 or 256 "
                               "expected, please reformat your input and try again.");
            return;
        }
        dims = (size_t)d->valuedouble;
    }
    size_t len = strlen(text->valuestring);
    buf_t *b = &c->body;
    b->n = 0;
    NATIVE_PUT(b, "{\"embedding\":");
    native_put_vector(b, native_hash(text->valuestring, len), dims);
    NATIVE_PUT(b, ",\"inputTextTokenCount\":");
    mock_append_u64(b, (len + 3) / 4);
    NATIVE_PUT(b, "}");
    native_json_fault(c, fault);
}

static void bedrock_plan_cohere_embed(mock_call_t *c, const cJSON *root, mock_fault_t fault)
{
    static const char *const types[] = {"search_document", "search_query", "classification",
                                        "clustering", NULL};
    const cJSON *texts = native_get(root, "texts");
    const cJSON *input_type = native_get(root, "input_type");
    if (!cJSON_IsArray(texts) || !texts->child || cJSON_GetArraySize(texts) > 96) {
        bedrock_invalid(c, "Malformed input request: #/texts: expected 1 to 96 strings, please "
                           "reformat your input and try again.");
        return;
    }
    if (!cJSON_IsString(input_type) || !bedrock_known(types, input_type->valuestring)) {
        bedrock_invalid(c, "Malformed input request: #/input_type: search_document, "
                           "search_query, classification or clustering expected, please "
                           "reformat your input and try again.");
        return;
    }
    for (const cJSON *t = texts->child; t; t = t->next) {
        if (!cJSON_IsString(t)) {
            bedrock_invalid(c, "Malformed input request: #/texts: expected strings");
            return;
        }
    }
    char id[40];
    memcpy(id, "mock-", 5);
    mock_random_alnum(c->w, id + 5, 24);
    id[29] = '\0';
    buf_t *b = &c->body;
    b->n = 0;
    NATIVE_PUT(b, "{\"embeddings\":[");
    for (const cJSON *t = texts->child; t; t = t->next) {
        if (t != texts->child)
            NATIVE_PUT(b, ",");
        native_put_vector(b, native_hash(t->valuestring, strlen(t->valuestring)),
                          BEDROCK_COHERE_DIMS);
    }
    NATIVE_PUT(b, "],\"id\":\"");
    buf_append_cstr(b, id);
    NATIVE_PUT(b, "\",\"response_type\":\"embeddings_floats\",\"texts\":[");
    for (const cJSON *t = texts->child; t; t = t->next) {
        if (t != texts->child)
            NATIVE_PUT(b, ",");
        buf_append_json_string(b, str_cstr(t->valuestring));
    }
    NATIVE_PUT(b, "]}");
    native_json_fault(c, fault);
}

/* ---- routing ------------------------------------------------------------------------------- */

static int bedrock_hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Appends the percent-decoded model id. */
static void bedrock_decode_id(buf_t *out, str_t id)
{
    for (size_t i = 0; i < id.n; i++) {
        char c = id.p[i];
        if (c == '%' && i + 2 < id.n && bedrock_hex(id.p[i + 1]) >= 0 &&
            bedrock_hex(id.p[i + 2]) >= 0) {
            c = (char)(bedrock_hex(id.p[i + 1]) << 4 | bedrock_hex(id.p[i + 2]));
            i += 2;
        }
        buf_append(out, &c, 1);
    }
}

bool mock_bedrock_handle(mock_call_t *c)
{
    http_req_t *req = c->req;
    static const str_t prefix = STR_LIT("/model/");
    str_t path = req->head.path;
    if (!str_has_prefix(path, prefix))
        return false;
    str_t rest = str_skip(path, prefix.n);
    const char *slash = rest.n ? memrchr(rest.p, '/', rest.n) : NULL;
    str_t id = slash ? str_make(rest.p, (size_t)(slash - rest.p)) : STR_NULL;
    str_t action = slash ? str_make(slash + 1, (size_t)(rest.p + rest.n - slash - 1)) : STR_NULL;
    bool converse = str_eq_cstr(action, "converse");
    bool stream = str_eq_cstr(action, "converse-stream");
    bool invoke = str_eq_cstr(action, "invoke");

    char request_id[40];
    mock_random_alnum(c->w, request_id, 36);
    request_id[36] = '\0';
    http_resp_header(req, STR_LIT("x-amzn-RequestId"), str_make(request_id, 36));

    cJSON *root = native_parse_body(req->body);
    mock_fault_t fault = MOCK_FAULT_NONE;
    buf_t model = {0};
    bedrock_decode_id(&model, id);
    if (native_controls(c, native_get(root, "mock"), &fault, bedrock_error)) {
        /* a control decided the answer */
    } else if (!str_eq_cstr(req->head.method, "POST") || !id.n || memchr(id.p, '/', id.n) ||
               (!converse && !stream && !invoke)) {
        bedrock_error_typed(c, 404, "UnknownOperationException", "Unknown operation");
    } else if (!bedrock_check_auth(c)) {
        /* the signature check planned its 403 */
    } else if (!cJSON_IsObject(root)) {
        bedrock_invalid(c, "Malformed input request, please reformat your input and try again.");
    } else {
        native_put_escaped(&c->model, str_make(model.p, model.n));
        str_t m = str_make(model.p, model.n);
        if (!invoke) {
            bedrock_plan_converse(c, root, stream, fault);
        } else if (memmem(m.p, m.n, "amazon.titan-embed", 18)) {
            bedrock_plan_titan(c, root, memmem(m.p, m.n, "text-v2", 7) != NULL, fault);
        } else if (memmem(m.p, m.n, "cohere.embed", 12)) {
            bedrock_plan_cohere_embed(c, root, fault);
        } else {
            bedrock_invalid(c, "The mock's InvokeModel serves amazon.titan-embed-* and "
                               "cohere.embed-* models; use Converse for chat.");
        }
    }
    buf_free(&model);
    cJSON_Delete(root);
    mock_call_start(c);
    return true;
}
