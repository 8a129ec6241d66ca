/* SPDX-License-Identifier: MIT
 * anthropic: Anthropic's Messages API (POST {api_base}/v1/messages) behind OpenAI's chat
 * completions, translated the way LiteLLM translates it: system and developer messages become the
 * top-level `system`, tool calls and tool results become tool_use / tool_result blocks, images
 * become base64 or url sources; the answer, whole or as SSE events, comes back as OpenAI
 * chat.completion / chat.completion.chunk objects. Clients that speak /v1/messages themselves are
 * src/api's business, not this file's; Anthropic has no embeddings. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sse.h"
#include "providers/adapter.h"

#define ANTH_DEFAULT_BASE "https://api.anthropic.com"
#define ANTH_PATH "/v1/messages"
/* 2023-06-01 still takes temperature / top_p, which later versions refuse */
#define ANTH_VERSION "2023-06-01"
#define ANTH_DEFAULT_MAX_TOKENS 4096    /* LiteLLM's DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS */
#define ANTH_THINKING_EXTRA_TOKENS 4096 /* LiteLLM: budget + DEFAULT_MAX_TOKENS */
#define ANTH_JSON_TOOL "json_tool_call" /* LiteLLM's RESPONSE_FORMAT_TOOL_NAME */
#define ANTH_MAX_HEADERS 64
#define ANTH_MAX_BLOCKS 4096 /* content blocks one streamed message may open */

/* Parameters of an OpenAI chat request this adapter translates (LiteLLM's
 * AnthropicConfig.get_supported_openai_params, plus top_k which LiteLLM passes through). */
static const char *const anth_supported[] = {
    "stream",
    "stop",
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "max_completion_tokens",
    "tools",
    "tool_choice",
    "extra_headers",
    "parallel_tool_calls",
    "response_format",
    "user",
    "web_search_options",
    "thinking",
    "reasoning_effort",
    NULL,
};

/* ---- small JSON helpers ----------------------------------------------------------------- */

static long long anth_get_count(const cJSON *o, const char *key)
{
    const cJSON *v = prov_json_get(o, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 1e15)
        return 0;
    return (long long)v->valuedouble;
}

static bool anth_role_is(const cJSON *msg, const char *role)
{
    const char *r = prov_json_string(msg, "role");
    return r && strcmp(r, role) == 0;
}

/* A present member that is not JSON null. */
static const cJSON *anth_get_set(const cJSON *o, const char *key)
{
    const cJSON *v = prov_json_get(o, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

/* Copies from.cache_control onto block when it is an object (prompt caching markers). */
static void anth_copy_cache_control(cJSON *block, const cJSON *from)
{
    const cJSON *cc = prov_json_get(from, "cache_control");
    if (cJSON_IsObject(cc))
        cJSON_AddItemToObject(block, "cache_control", cJSON_Duplicate(cc, true));
}

static cJSON *anth_text_block(const char *text, const cJSON *cache_from)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", "text");
    cJSON_AddStringToObject(b, "text", text);
    anth_copy_cache_control(b, cache_from);
    return b;
}

/* ---- request: content ------------------------------------------------------------------- */

/* An OpenAI image or file URL as an Anthropic block: a data: URL becomes a base64 source (PDFs
 * and files a document), an http(s) URL a url source. NULL with *err filled otherwise. */
static cJSON *anth_media_block(const char *url, const char *format, bool file, const char *where,
                               prov_error_t *err)
{
    cJSON *source = cJSON_CreateObject();
    const char *type = file ? "document" : "image";
    if (strncmp(url, "data:", 5) == 0) {
        const char *marker = strstr(url + 5, ";base64,");
        if (!marker) {
            cJSON_Delete(source);
            prov_fail(err, 400, "messages",
                      "%s: a data: URL must be base64 (data:<media type>;base64,<data>)", where);
            return NULL;
        }
        char *media = format ? strdup(format) : strndup(url + 5, (size_t)(marker - (url + 5)));
        if (!media) {
            cJSON_Delete(source);
            prov_fail(err, 500, NULL, "out of memory");
            return NULL;
        }
        if (strcmp(media, "application/pdf") == 0)
            type = "document";
        cJSON_AddStringToObject(source, "type", "base64");
        cJSON_AddStringToObject(source, "media_type", media);
        cJSON_AddStringToObject(source, "data", marker + 8);
        free(media);
    } else if (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0) {
        cJSON_AddStringToObject(source, "type", "url");
        cJSON_AddStringToObject(source, "url", url);
    } else {
        cJSON_Delete(source);
        prov_fail(err, 400, "messages", "%s: expected a data: URL or an http(s) URL", where);
        return NULL;
    }
    cJSON *block = cJSON_CreateObject();
    cJSON_AddStringToObject(block, "type", type);
    cJSON_AddItemToObject(block, "source", source);
    return block;
}

/* OpenAI `file` part: inline file_data, or a file_id (an URL, or an Anthropic Files API id). */
static cJSON *anth_file_block(const cJSON *part, const char *where, prov_error_t *err)
{
    const cJSON *file = prov_json_get(part, "file");
    const char *data = prov_json_string(file, "file_data");
    const char *id = prov_json_string(file, "file_id");
    if (data)
        return anth_media_block(data, prov_json_string(file, "format"), true, where, err);
    if (!id) {
        prov_fail(err, 400, "messages", "%s: a file part needs file.file_data or file.file_id",
                  where);
        return NULL;
    }
    if (strncmp(id, "https://", 8) == 0 || strncmp(id, "http://", 7) == 0)
        return anth_media_block(id, NULL, true, where, err);
    cJSON *block = cJSON_CreateObject();
    cJSON_AddStringToObject(block, "type", "document");
    cJSON *source = cJSON_AddObjectToObject(block, "source");
    cJSON_AddStringToObject(source, "type", "file");
    cJSON_AddStringToObject(source, "file_id", id);
    return block;
}

/* The image of an image_url part (its url as a string or {url, format}). */
static cJSON *anth_image_part(const cJSON *part, const char *where, prov_error_t *err)
{
    const cJSON *iu = prov_json_get(part, "image_url");
    const char *url = cJSON_IsString(iu) ? iu->valuestring : prov_json_string(iu, "url");
    if (!url) {
        prov_fail(err, 400, "messages", "%s: image_url needs a url", where);
        return NULL;
    }
    return anth_media_block(url, prov_json_string(iu, "format"), false, where, err);
}

/* One part of a user message's content array. */
static cJSON *anth_user_part(const cJSON *part, const char *where, prov_error_t *err)
{
    const char *type = prov_json_string(part, "type");
    cJSON *block = NULL;
    if (!type) {
        prov_fail(err, 400, "messages", "%s: a content part needs a string type", where);
        return NULL;
    }
    if (strcmp(type, "text") == 0) {
        const char *text = prov_json_string(part, "text");
        if (!text) {
            prov_fail(err, 400, "messages", "%s: a text part needs a string text", where);
            return NULL;
        }
        return anth_text_block(text, part);
    }
    if (strcmp(type, "image_url") == 0)
        block = anth_image_part(part, where, err);
    else if (strcmp(type, "file") == 0)
        block = anth_file_block(part, where, err);
    else if (strcmp(type, "document") == 0) /* already Anthropic's shape */
        return cJSON_Duplicate(part, true);
    else
        prov_fail(err, 400, "messages", "%s: content part type '%s' is not supported by anthropic",
                  where, type);
    if (block)
        anth_copy_cache_control(block, part);
    return block;
}

/* Appends the blocks of a user message to `blocks`. */
static int anth_user_blocks(const cJSON *msg, size_t mi, cJSON *blocks, prov_error_t *err)
{
    const cJSON *content = prov_json_get(msg, "content");
    char where[96];
    if (cJSON_IsString(content)) {
        cJSON_AddItemToArray(blocks, anth_text_block(content->valuestring, msg));
        return 0;
    }
    if (!content || cJSON_IsNull(content))
        return 0;
    if (!cJSON_IsArray(content))
        return prov_fail(err, 400, "messages",
                         "messages[%zu].content: expected a string or an array of parts", mi);
    size_t pi = 0;
    for (const cJSON *part = content->child; part; part = part->next, pi++) {
        snprintf(where, sizeof where, "messages[%zu].content[%zu]", mi, pi);
        cJSON *block = anth_user_part(part, where, err);
        if (!block)
            return -1;
        cJSON_AddItemToArray(blocks, block);
    }
    return 0;
}

/* role tool (or the legacy role function): a tool_result block answering tool_use_id. */
static int anth_tool_result(const cJSON *msg, size_t mi, cJSON *blocks, prov_error_t *err)
{
    const char *id = prov_json_string(msg, "tool_call_id");
    if (!id && anth_role_is(msg, "function"))
        id = prov_json_string(msg, "name"); /* legacy calls use the function name as id */
    if (!id)
        return prov_fail(err, 400, "messages", "messages[%zu]: a tool message needs tool_call_id",
                         mi);
    const cJSON *content = prov_json_get(msg, "content");
    cJSON *result;
    char where[96];
    if (cJSON_IsString(content)) {
        result = cJSON_CreateString(content->valuestring);
    } else if (!content || cJSON_IsNull(content)) {
        result = cJSON_CreateString("");
    } else if (cJSON_IsArray(content)) {
        result = cJSON_CreateArray();
        size_t pi = 0;
        for (const cJSON *part = content->child; part; part = part->next, pi++) {
            snprintf(where, sizeof where, "messages[%zu].content[%zu]", mi, pi);
            const char *type = prov_json_string(part, "type");
            cJSON *block = NULL;
            if (type && strcmp(type, "text") == 0 && prov_json_string(part, "text"))
                block = anth_text_block(prov_json_string(part, "text"), NULL);
            else if (type && strcmp(type, "image_url") == 0)
                block = anth_image_part(part, where, err);
            else
                prov_fail(err, 400, "messages", "%s: a tool result takes text and image parts",
                          where);
            if (!block) {
                cJSON_Delete(result);
                return -1;
            }
            cJSON_AddItemToArray(result, block);
        }
    } else {
        return prov_fail(err, 400, "messages",
                         "messages[%zu].content: expected a string or an array of parts", mi);
    }
    cJSON *block = cJSON_CreateObject();
    cJSON_AddStringToObject(block, "type", "tool_result");
    cJSON_AddStringToObject(block, "tool_use_id", id);
    cJSON_AddItemToObject(block, "content", result);
    anth_copy_cache_control(block, msg);
    cJSON_AddItemToArray(blocks, block);
    return 0;
}

/* A tool_use block from an OpenAI call: arguments (JSON text) become the input object. */
static int anth_tool_use(const char *id, const char *name, const cJSON *arguments,
                         const cJSON *cache_from, const char *where, cJSON *blocks,
                         prov_error_t *err)
{
    cJSON *input = NULL;
    if (!id || !name)
        return prov_fail(err, 400, "messages", "%s: a tool call needs an id and function.name",
                         where);
    if (cJSON_IsString(arguments) && arguments->valuestring[0])
        input = cJSON_Parse(arguments->valuestring);
    else if (!arguments || cJSON_IsNull(arguments) || cJSON_IsString(arguments))
        input = cJSON_CreateObject();
    if (!cJSON_IsObject(input)) {
        cJSON_Delete(input);
        return prov_fail(err, 400, "messages", "%s: function.arguments is not a JSON object",
                         where);
    }
    cJSON *block = cJSON_CreateObject();
    cJSON_AddStringToObject(block, "type", "tool_use");
    cJSON_AddStringToObject(block, "id", id);
    cJSON_AddStringToObject(block, "name", name);
    cJSON_AddItemToObject(block, "input", input);
    anth_copy_cache_control(block, cache_from);
    cJSON_AddItemToArray(blocks, block);
    return 0;
}

/* Appends an assistant message's blocks: thinking first (Anthropic insists), then text, then
 * tool_use. Empty text is left out: the API refuses empty text blocks. */
static int anth_assistant_blocks(const cJSON *msg, size_t mi, cJSON *blocks, prov_error_t *err)
{
    char where[96];
    const cJSON *thinking = prov_json_get(msg, "thinking_blocks");
    for (const cJSON *t = cJSON_IsArray(thinking) ? thinking->child : NULL; t; t = t->next)
        if (cJSON_IsObject(t))
            cJSON_AddItemToArray(blocks, cJSON_Duplicate(t, true));
    const cJSON *content = prov_json_get(msg, "content");
    if (cJSON_IsString(content)) {
        if (content->valuestring[0])
            cJSON_AddItemToArray(blocks, anth_text_block(content->valuestring, msg));
    } else if (cJSON_IsArray(content)) {
        for (const cJSON *part = content->child; part; part = part->next) {
            const char *type = prov_json_string(part, "type");
            const char *text = prov_json_string(part, "text");
            const char *thought = prov_json_string(part, "thinking");
            if (type && strcmp(type, "text") == 0 && text && text[0])
                cJSON_AddItemToArray(blocks, anth_text_block(text, part));
            else if (type && strcmp(type, "thinking") == 0 && thought && thought[0])
                cJSON_AddItemToArray(blocks, cJSON_Duplicate(part, true));
        }
    } else if (content && !cJSON_IsNull(content)) {
        return prov_fail(err, 400, "messages",
                         "messages[%zu].content: expected a string or an array of parts", mi);
    }
    const cJSON *calls = prov_json_get(msg, "tool_calls");
    size_t ci = 0;
    for (const cJSON *call = cJSON_IsArray(calls) ? calls->child : NULL; call;
         call = call->next, ci++) {
        const char *type = prov_json_string(call, "type");
        if (type && strcmp(type, "function") != 0)
            continue; /* LiteLLM skips calls that are not functions */
        const cJSON *fn = prov_json_get(call, "function");
        snprintf(where, sizeof where, "messages[%zu].tool_calls[%zu]", mi, ci);
        if (anth_tool_use(prov_json_string(call, "id"), prov_json_string(fn, "name"),
                          prov_json_get(fn, "arguments"), call, where, blocks, err) != 0)
            return -1;
    }
    const cJSON *fcall = prov_json_get(msg, "function_call"); /* legacy: the name is the id */
    if (cJSON_IsObject(fcall)) {
        snprintf(where, sizeof where, "messages[%zu].function_call", mi);
        const char *name = prov_json_string(fcall, "name");
        if (anth_tool_use(name, name, prov_json_get(fcall, "arguments"), NULL, where, blocks,
                          err) != 0)
            return -1;
    }
    return 0;
}

/* No trailing whitespace in the final assistant turn (a prefill): the API refuses it. */
static void anth_trim_prefill(cJSON *blocks)
{
    cJSON *b = blocks->child;
    while (b) {
        cJSON *next = b->next;
        cJSON *text = cJSON_GetObjectItemCaseSensitive(b, "text");
        const char *type = prov_json_string(b, "type");
        if (type && strcmp(type, "text") == 0 && cJSON_IsString(text)) {
            size_t n = strlen(text->valuestring);
            while (n && isspace((unsigned char)text->valuestring[n - 1]))
                n--;
            text->valuestring[n] = '\0';
            if (n == 0)
                cJSON_Delete(cJSON_DetachItemViaPointer(blocks, b));
        }
        b = next;
    }
}

static bool anth_is_system(const cJSON *msg)
{
    return anth_role_is(msg, "system") || anth_role_is(msg, "developer");
}

static bool anth_is_user_side(const cJSON *msg)
{
    return anth_role_is(msg, "user") || anth_role_is(msg, "tool") || anth_role_is(msg, "function");
}

/* system / developer messages, wherever they stand, as the top-level system text blocks. */
static cJSON *anth_system(const cJSON *messages)
{
    cJSON *system = cJSON_CreateArray();
    for (const cJSON *m = messages->child; m; m = m->next) {
        if (!anth_is_system(m))
            continue;
        const cJSON *content = prov_json_get(m, "content");
        if (cJSON_IsString(content) && content->valuestring[0]) {
            cJSON_AddItemToArray(system, anth_text_block(content->valuestring, m));
            continue;
        }
        for (const cJSON *p = cJSON_IsArray(content) ? content->child : NULL; p; p = p->next) {
            const char *text = prov_json_string(p, "text");
            const char *type = prov_json_string(p, "type");
            if (type && strcmp(type, "text") == 0 && text && text[0])
                cJSON_AddItemToArray(system, anth_text_block(text, p));
        }
    }
    if (!system->child) {
        cJSON_Delete(system);
        return NULL;
    }
    return system;
}

/* The conversation without system messages: consecutive user and tool messages merge into one
 * user turn (tool results in order), consecutive assistant messages into one assistant turn. */
static cJSON *anth_messages(const cJSON *messages, prov_error_t *err)
{
    cJSON *out = cJSON_CreateArray();
    cJSON *turn = NULL, *blocks = NULL;
    bool user_turn = false;
    size_t mi = 0;
    for (const cJSON *m = messages->child; m; m = m->next, mi++) {
        if (!cJSON_IsObject(m)) {
            prov_fail(err, 400, "messages", "messages[%zu]: expected an object", mi);
            goto fail;
        }
        if (anth_is_system(m))
            continue;
        bool user = anth_is_user_side(m);
        if (!user && !anth_role_is(m, "assistant")) {
            const char *role = prov_json_string(m, "role");
            prov_fail(err, 400, "messages", "messages[%zu]: role '%s' is not supported", mi,
                      role ? role : "(none)");
            goto fail;
        }
        if (!turn || user != user_turn) {
            if (turn && !blocks->child) /* a turn without content (null content) */
                cJSON_Delete(cJSON_DetachItemViaPointer(out, turn));
            turn = cJSON_CreateObject();
            cJSON_AddStringToObject(turn, "role", user ? "user" : "assistant");
            blocks = cJSON_AddArrayToObject(turn, "content");
            cJSON_AddItemToArray(out, turn);
            user_turn = user;
        }
        int rc = !user                     ? anth_assistant_blocks(m, mi, blocks, err)
                 : anth_role_is(m, "user") ? anth_user_blocks(m, mi, blocks, err)
                                           : anth_tool_result(m, mi, blocks, err);
        if (rc != 0)
            goto fail;
    }
    if (turn && !blocks->child)
        cJSON_Delete(cJSON_DetachItemViaPointer(out, turn));
    if (!out->child) {
        prov_fail(err, 400, "messages", "Anthropic requires at least one non-system message");
        goto fail;
    }
    cJSON *last = cJSON_GetArrayItem(out, cJSON_GetArraySize(out) - 1);
    if (anth_role_is(last, "assistant"))
        anth_trim_prefill(cJSON_GetObjectItemCaseSensitive(last, "content"));
    return out;
fail:
    cJSON_Delete(out);
    return NULL;
}

/* ---- request: tools and parameters ------------------------------------------------------ */

/* OpenAI tools -> Anthropic tools: functions get input_schema; tools already in Anthropic's
 * shape (input_schema) and hosted tools (web_search_..., bash_..., a top-level name) pass. */
static int anth_tools(const cJSON *tools, cJSON *out, prov_error_t *err)
{
    if (!cJSON_IsArray(tools))
        return prov_fail(err, 400, "tools", "tools: expected an array");
    size_t i = 0;
    for (const cJSON *t = tools->child; t; t = t->next, i++) {
        if (!cJSON_IsObject(t))
            return prov_fail(err, 400, "tools", "tools[%zu]: expected an object", i);
        if (prov_json_get(t, "input_schema")) {
            cJSON_AddItemToArray(out, cJSON_Duplicate(t, true));
            continue;
        }
        const char *type = prov_json_string(t, "type");
        const cJSON *fn = prov_json_get(t, "function");
        if (!type || strcmp(type, "function") == 0 || strcmp(type, "custom") == 0) {
            const char *name = prov_json_string(fn, "name");
            if (!name)
                return prov_fail(err, 400, "tools", "tools[%zu]: function.name is required", i);
            cJSON *tool = cJSON_CreateObject();
            cJSON_AddStringToObject(tool, "name", name);
            const char *description = prov_json_string(fn, "description");
            if (description)
                cJSON_AddStringToObject(tool, "description", description);
            const cJSON *params = prov_json_get(fn, "parameters");
            if (cJSON_IsObject(params)) {
                cJSON_AddItemToObject(tool, "input_schema", cJSON_Duplicate(params, true));
            } else {
                cJSON *schema = cJSON_AddObjectToObject(tool, "input_schema");
                cJSON_AddStringToObject(schema, "type", "object");
                cJSON_AddObjectToObject(schema, "properties");
            }
            anth_copy_cache_control(tool, prov_json_get(t, "cache_control") ? t : fn);
            cJSON_AddItemToArray(out, tool);
            continue;
        }
        const char *name = prov_json_string(t, "name");
        if (!name)
            name = prov_json_string(fn, "name");
        if (!name)
            return prov_fail(err, 400, "tools", "tools[%zu]: tool type '%s' needs a name", i, type);
        cJSON *tool = cJSON_Duplicate(t, true);
        cJSON_DeleteItemFromObjectCaseSensitive(tool, "function");
        cJSON_DeleteItemFromObjectCaseSensitive(tool, "name");
        cJSON_AddStringToObject(tool, "name", name);
        cJSON_AddItemToArray(out, tool);
    }
    return 0;
}

/* tool_choice auto / required / none / {function: {name}} and parallel_tool_calls, as LiteLLM's
 * _map_tool_choice. *out stays NULL when neither is given. */
static int anth_tool_choice(const cJSON *choice, const cJSON *parallel, cJSON **out,
                            prov_error_t *err)
{
    cJSON *tc = NULL;
    bool none = false;
    if (cJSON_IsString(choice)) {
        const char *s = choice->valuestring;
        const char *type = strcmp(s, "auto") == 0       ? "auto"
                           : strcmp(s, "required") == 0 ? "any"
                           : strcmp(s, "none") == 0     ? "none"
                                                        : NULL;
        if (!type)
            return prov_fail(err, 400, "tool_choice",
                             "tool_choice: expected auto, required, none or a function, got '%s'",
                             s);
        none = strcmp(type, "none") == 0;
        tc = cJSON_CreateObject();
        cJSON_AddStringToObject(tc, "type", type);
    } else if (cJSON_IsObject(choice)) {
        const char *name = prov_json_string(prov_json_get(choice, "function"), "name");
        if (!name)
            name = prov_json_string(choice, "name");
        tc = cJSON_CreateObject();
        cJSON_AddStringToObject(tc, "type", "tool");
        if (name)
            cJSON_AddStringToObject(tc, "name", name);
    } else if (choice) {
        return prov_fail(err, 400, "tool_choice", "tool_choice: expected a string or an object");
    }
    if (cJSON_IsBool(parallel) && !none) {
        if (!tc) {
            tc = cJSON_CreateObject();
            cJSON_AddStringToObject(tc, "type", "auto");
        }
        cJSON_AddBoolToObject(tc, "disable_parallel_tool_use", cJSON_IsFalse(parallel));
    }
    *out = tc;
    return 0;
}

/* response_format json_object / json_schema -> the json_tool_call tool (LiteLLM's JSON mode;
 * the answer's call to it becomes the message content again). NULL for "text" or nothing. */
static cJSON *anth_json_tool(const cJSON *format)
{
    const char *type = prov_json_string(format, "type");
    if (!type || strcmp(type, "text") == 0)
        return NULL;
    const cJSON *schema = prov_json_get(format, "response_schema");
    if (!schema)
        schema = prov_json_get(prov_json_get(format, "json_schema"), "schema");
    cJSON *tool = cJSON_CreateObject();
    cJSON_AddStringToObject(tool, "name", ANTH_JSON_TOOL);
    cJSON *input = cJSON_AddObjectToObject(tool, "input_schema");
    cJSON_AddStringToObject(input, "type", "object");
    if (!cJSON_IsObject(schema)) {
        cJSON_AddBoolToObject(input, "additionalProperties", true);
        cJSON_AddObjectToObject(input, "properties");
        return tool;
    }
    for (const cJSON *m = schema->child; m; m = m->next) {
        cJSON_DeleteItemFromObjectCaseSensitive(input, m->string);
        cJSON_AddItemToObject(input, m->string, cJSON_Duplicate(m, true));
    }
    return tool;
}

/* web_search_options -> Anthropic's hosted web_search tool. */
static cJSON *anth_web_search_tool(const cJSON *options)
{
    static const struct {
        const char *size;
        int max_uses;
    } uses[] = {{"low", 1}, {"medium", 5}, {"high", 10}};
    cJSON *tool = cJSON_CreateObject();
    cJSON_AddStringToObject(tool, "type", "web_search_20250305");
    cJSON_AddStringToObject(tool, "name", "web_search");
    const cJSON *approx = prov_json_get(prov_json_get(options, "user_location"), "approximate");
    if (cJSON_IsObject(approx)) {
        static const char *const keys[] = {"city", "region", "country", "timezone"};
        cJSON *loc = cJSON_AddObjectToObject(tool, "user_location");
        cJSON_AddStringToObject(loc, "type", "approximate");
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            const cJSON *v = prov_json_get(approx, keys[i]);
            if (v)
                cJSON_AddItemToObject(loc, keys[i], cJSON_Duplicate(v, true));
        }
    }
    const char *size = prov_json_string(options, "search_context_size");
    for (size_t i = 0; size && i < sizeof uses / sizeof uses[0]; i++)
        if (strcmp(size, uses[i].size) == 0)
            cJSON_AddNumberToObject(tool, "max_uses", uses[i].max_uses);
    return tool;
}

/* reasoning_effort -> thinking budget (LiteLLM's defaults; "minimal" gets Anthropic's minimum). */
static int anth_thinking_from_effort(const char *effort, cJSON **out, prov_error_t *err)
{
    static const struct {
        const char *effort;
        int budget;
    } budgets[] = {{"minimal", 1024}, {"low", 1024}, {"medium", 2048}, {"high", 4096}};
    *out = NULL;
    if (strcmp(effort, "none") == 0)
        return 0;
    for (size_t i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
        if (strcmp(effort, budgets[i].effort) != 0)
            continue;
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "type", "enabled");
        cJSON_AddNumberToObject(*out, "budget_tokens", budgets[i].budget);
        return 0;
    }
    return prov_fail(err, 400, "reasoning_effort",
                     "reasoning_effort: expected minimal, low, medium or high, got '%s'", effort);
}

/* `stop` -> stop_sequences; whitespace-only stops are dropped under drop_params (the API refuses
 * them), as LiteLLM does. NULL when nothing is left. */
static cJSON *anth_stop_sequences(const cJSON *stop, bool drop_params)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *one = cJSON_IsString(stop) ? stop : NULL;
    const cJSON *it = one ? one : cJSON_IsArray(stop) ? stop->child : NULL;
    for (; it; it = one ? NULL : it->next) {
        if (!cJSON_IsString(it))
            continue;
        const char *s = it->valuestring;
        bool blank = *s != '\0';
        for (const char *c = s; *c && blank; c++)
            blank = isspace((unsigned char)*c);
        if (!(blank && drop_params))
            cJSON_AddItemToArray(out, cJSON_CreateString(s));
    }
    if (!out->child) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

/* LiteLLM sends `user` as metadata.user_id unless it looks like an email or a phone number,
 * which Anthropic refuses. */
static bool anth_user_id_ok(const char *s)
{
    const char *at = strchr(s, '@');
    if (at && at > s) {
        bool local = true;
        for (const char *c = s; c < at && local; c++)
            local = isalnum((unsigned char)*c) || strchr("._%+-", *c);
        const char *dot = strrchr(at + 1, '.');
        bool domain = local && dot && dot > at + 1 && strlen(dot + 1) >= 2;
        for (const char *c = at + 1; *c && domain; c++)
            domain = isalnum((unsigned char)*c) || *c == '.' || *c == '-';
        for (const char *c = dot ? dot + 1 : ""; *c && domain; c++)
            domain = isalpha((unsigned char)*c);
        if (domain)
            return false;
    }
    const char *p = s + (*s == '+');
    size_t n = 0;
    for (; *p; p++, n++)
        if (!isdigit((unsigned char)*p) && !isspace((unsigned char)*p) && !strchr("()-", *p))
            return true;
    return n < 7;
}

/* The token count of a max_tokens-like member; -1 when absent, -2 when not a count. */
static long long anth_token_param(const cJSON *req, const char *name)
{
    const cJSON *v = anth_get_set(req, name);
    if (!v)
        return -1;
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e9)
        return -2;
    return (long long)v->valuedouble;
}

/* Copies a numeric sampling parameter. */
static int anth_number_param(const cJSON *req, const char *name, cJSON *body, prov_error_t *err)
{
    const cJSON *v = anth_get_set(req, name);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v))
        return prov_fail(err, 400, name, "%s: expected a number", name);
    cJSON_AddItemToObject(body, name, cJSON_Duplicate(v, false));
    return 0;
}

/* Every parameter besides model / messages / system, in the order Anthropic documents them. */
static int anth_params(const prov_ctx_t *ctx, const cJSON *req, cJSON *body, prov_error_t *err)
{
    cJSON *thinking = NULL, *tools = NULL, *choice = NULL;
    const cJSON *t = anth_get_set(req, "thinking");
    const cJSON *effort = anth_get_set(req, "reasoning_effort");
    if (cJSON_IsObject(t))
        thinking = cJSON_Duplicate(t, true);
    else if (cJSON_IsString(effort) &&
             anth_thinking_from_effort(effort->valuestring, &thinking, err) != 0)
        return -1;
    const char *thinking_type = prov_json_string(thinking, "type");
    bool thinking_on = thinking_type && strcmp(thinking_type, "enabled") == 0;

    long long max_tokens = anth_token_param(req, "max_completion_tokens");
    const char *max_name = "max_completion_tokens";
    if (max_tokens == -1) {
        max_tokens = anth_token_param(req, "max_tokens");
        max_name = "max_tokens";
    }
    if (max_tokens == -2) {
        cJSON_Delete(thinking);
        return prov_fail(err, 400, max_name, "%s: expected a positive integer", max_name);
    }
    if (max_tokens == -1) {
        long long budget = anth_get_count(thinking, "budget_tokens");
        max_tokens = thinking_on && budget > 0 ? budget + ANTH_THINKING_EXTRA_TOKENS
                                               : ANTH_DEFAULT_MAX_TOKENS;
    }
    cJSON_AddNumberToObject(body, "max_tokens", (double)max_tokens);

    if (anth_number_param(req, "temperature", body, err) != 0 ||
        anth_number_param(req, "top_p", body, err) != 0 ||
        anth_number_param(req, "top_k", body, err) != 0)
        goto fail;
    cJSON *stops = anth_stop_sequences(prov_json_get(req, "stop"), ctx->drop_params);
    if (stops)
        cJSON_AddItemToObject(body, "stop_sequences", stops);

    tools = cJSON_CreateArray();
    const cJSON *req_tools = anth_get_set(req, "tools");
    if (req_tools && anth_tools(req_tools, tools, err) != 0)
        goto fail;
    if (anth_tool_choice(anth_get_set(req, "tool_choice"), anth_get_set(req, "parallel_tool_calls"),
                         &choice, err) != 0)
        goto fail;
    cJSON *json_tool = anth_json_tool(prov_json_get(req, "response_format"));
    if (json_tool) {
        cJSON_AddItemToArray(tools, json_tool);
        if (!thinking_on) { /* a forced tool and thinking do not mix */
            cJSON_Delete(choice);
            choice = cJSON_CreateObject();
            cJSON_AddStringToObject(choice, "type", "tool");
            cJSON_AddStringToObject(choice, "name", ANTH_JSON_TOOL);
        }
    }
    const cJSON *search = prov_json_get(req, "web_search_options");
    if (cJSON_IsObject(search))
        cJSON_AddItemToArray(tools, anth_web_search_tool(search));
    if (tools->child)
        cJSON_AddItemToObject(body, "tools", tools);
    else
        cJSON_Delete(tools);
    tools = NULL;
    if (choice)
        cJSON_AddItemToObject(body, "tool_choice", choice);
    choice = NULL;
    if (thinking)
        cJSON_AddItemToObject(body, "thinking", thinking);
    thinking = NULL;

    const char *user = prov_json_string(req, "user");
    if (user && anth_user_id_ok(user)) {
        cJSON *metadata = cJSON_AddObjectToObject(body, "metadata");
        cJSON_AddStringToObject(metadata, "user_id", user);
    }
    if (ctx->stream)
        cJSON_AddBoolToObject(body, "stream", true);
    return 0;
fail:
    cJSON_Delete(thinking);
    cJSON_Delete(tools);
    cJSON_Delete(choice);
    return -1;
}

/* ---- request: URL and headers ----------------------------------------------------------- */

/* LiteLLM: {api_base}/v1/messages unless api_base already ends so. */
static const char *anth_url(const prov_ctx_t *ctx)
{
    const char *base = ctx->api_base && *ctx->api_base ? ctx->api_base : ANTH_DEFAULT_BASE;
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    size_t suffix = sizeof ANTH_PATH - 1;
    if (n >= suffix && memcmp(base + n - suffix, ANTH_PATH, suffix) == 0)
        return arena_strndup(ctx->arena, base, n);
    return arena_printf(ctx->arena, "%.*s" ANTH_PATH, (int)n, base);
}

static bool anth_header_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return false;
    return true;
}

static size_t anth_header_name_len(const char *line)
{
    const char *colon = strchr(line, ':');
    return colon ? (size_t)(colon - line) : strlen(line);
}

/* Header lines: ours, the deployment's extra_headers, the request's extra_headers; a later line
 * replaces an earlier one of the same name (so a deployment may pin anthropic-version or add
 * anthropic-beta). */
static const char **anth_headers(const prov_ctx_t *ctx, const cJSON *req, prov_error_t *err)
{
    const char *lines[ANTH_MAX_HEADERS];
    size_t n = 0;
    lines[n++] = prov_header_line(ctx->arena, "x-api-key", ctx->api_key);
    lines[n++] = prov_header_line(ctx->arena, "anthropic-version", ANTH_VERSION);
    lines[n++] = prov_header_line(ctx->arena, "content-type", "application/json");
    n += prov_extra_headers(ctx, lines + n, ANTH_MAX_HEADERS - n);
    const cJSON *extra = prov_json_get(req, "extra_headers");
    for (const cJSON *h = cJSON_IsObject(extra) ? extra->child : NULL; h; h = h->next) {
        if (!cJSON_IsString(h))
            continue;
        if (!anth_header_token(h->string) || strpbrk(h->valuestring, "\r\n")) {
            prov_fail(err, 400, "extra_headers", "extra_headers: '%s' is not a valid header",
                      h->string);
            return NULL;
        }
        if (n == ANTH_MAX_HEADERS) {
            prov_fail(err, 400, "extra_headers", "extra_headers: too many headers");
            return NULL;
        }
        lines[n++] = prov_header_line(ctx->arena, h->string, h->valuestring);
    }
    for (size_t i = 0; i < n; i++) {
        if (!lines[i]) {
            prov_fail(err, 500, NULL, "out of memory");
            return NULL;
        }
        size_t len = anth_header_name_len(lines[i]);
        for (size_t j = i + 1; j < n && lines[i]; j++)
            if (lines[j] && anth_header_name_len(lines[j]) == len &&
                strncasecmp(lines[i], lines[j], len) == 0)
                lines[i] = NULL;
    }
    const char **out = prov_headers(ctx->arena, lines, n);
    if (!out)
        prov_fail(err, 500, NULL, "out of memory");
    return out;
}

static int anth_chat_request(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                             prov_error_t *err)
{
    cJSON *body = NULL, *messages = NULL;
    if (!cJSON_IsObject(req))
        return prov_fail(err, 400, NULL, "the request must be a JSON object");
    if (!ctx->api_key || !*ctx->api_key)
        return prov_fail(err, 401, NULL,
                         "Missing Anthropic API Key - A call is being made to anthropic but no key "
                         "is set either in the environment variables or via params. Please set "
                         "`ANTHROPIC_API_KEY` in your environment vars");
    if (prov_check_params(ctx, req, anth_supported, err) != 0)
        return -1;
    const cJSON *msgs = prov_json_get(req, "messages");
    if (!cJSON_IsArray(msgs))
        return prov_fail(err, 400, "messages", "messages: expected an array");
    messages = anth_messages(msgs, err);
    if (!messages)
        return -1;
    body = cJSON_CreateObject();
    char *model = strndup(ctx->model.p ? ctx->model.p : "", ctx->model.n);
    cJSON_AddStringToObject(body, "model", model ? model : "");
    free(model);
    cJSON_AddItemToObject(body, "messages", messages);
    cJSON *system = anth_system(msgs);
    if (system)
        cJSON_AddItemToObject(body, "system", system);
    if (anth_params(ctx, req, body, err) != 0)
        goto fail;

    const char **headers = anth_headers(ctx, req, err);
    const char *url = anth_url(ctx);
    if (!headers)
        goto fail;
    char *text = cJSON_PrintUnformatted(body);
    if (!url || !text || buf_append_cstr(&out->body, text) != 0) {
        free(text);
        prov_fail(err, 500, NULL, "out of memory");
        goto fail;
    }
    free(text);
    cJSON_Delete(body);
    out->method = "POST";
    out->url = url;
    out->headers = headers;
    return 0;
fail:
    cJSON_Delete(body);
    return -1;
}

/* ---- response --------------------------------------------------------------------------- */

/* OpenAI usage from Anthropic's: prompt tokens include cache reads and writes (Anthropic's
 * input_tokens excludes both); the cache counts also stay as LiteLLM reports them. */
static cJSON *anth_usage(long long input, long long output, long long cache_read,
                         long long cache_creation, bool cache_fields)
{
    cJSON *u = prov_usage(input + cache_read + cache_creation, output, cache_read);
    if (u && cache_fields) {
        cJSON_AddNumberToObject(u, "cache_creation_input_tokens", (double)cache_creation);
        cJSON_AddNumberToObject(u, "cache_read_input_tokens", (double)cache_read);
    }
    return u;
}

static cJSON *anth_usage_of(const cJSON *usage)
{
    return anth_usage(anth_get_count(usage, "input_tokens"), anth_get_count(usage, "output_tokens"),
                      anth_get_count(usage, "cache_read_input_tokens"),
                      anth_get_count(usage, "cache_creation_input_tokens"),
                      prov_json_get(usage, "cache_read_input_tokens") ||
                          prov_json_get(usage, "cache_creation_input_tokens"));
}

static const char *anth_finish_reason(const char *stop_reason)
{
    if (!stop_reason)
        return "stop";
    if (strcmp(stop_reason, "model_context_window_exceeded") == 0)
        return "length";
    return prov_finish_reason(stop_reason);
}

/* JSON mode's answer: the json_tool_call input (or its `values`) as text. */
static char *anth_json_mode_text(const cJSON *input)
{
    const cJSON *values = prov_json_get(input, "values");
    return cJSON_PrintUnformatted(values ? values : input);
}

static int anth_chat_response(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err)
{
    cJSON *doc = cJSON_ParseWithLength(body.p ? body.p : "", body.n);
    cJSON *resp = NULL;
    buf_t text = {0}, reasoning = {0};
    int rc = -1;
    const cJSON *content = prov_json_get(doc, "content");
    if (!cJSON_IsObject(doc)) {
        prov_fail(err, 502, NULL, "anthropic answered with something that is not a JSON object");
        goto done;
    }
    const cJSON *error = prov_json_get(doc, "error");
    if (error) {
        const char *message = prov_json_string(error, "message");
        prov_fail(err, 502, NULL, "anthropic: %s", message ? message : "error without a message");
        goto done;
    }
    if (!cJSON_IsArray(content)) {
        prov_fail(err, 502, NULL, "anthropic's answer has no content array");
        goto done;
    }

    cJSON *calls = cJSON_CreateArray(), *thinking_blocks = cJSON_CreateArray();
    const cJSON *json_input = NULL;
    size_t ncalls = 0;
    for (const cJSON *b = content->child; b; b = b->next) {
        const char *type = prov_json_string(b, "type");
        if (!type)
            continue;
        if (strcmp(type, "text") == 0 && prov_json_string(b, "text")) {
            buf_append_cstr(&text, prov_json_string(b, "text"));
        } else if (strcmp(type, "tool_use") == 0) {
            const char *name = prov_json_string(b, "name");
            const cJSON *input = prov_json_get(b, "input");
            char *args = input ? cJSON_PrintUnformatted(input) : strdup("{}");
            cJSON *call = cJSON_CreateObject();
            const char *id = prov_json_string(b, "id");
            cJSON_AddStringToObject(call, "id", id ? id : "");
            cJSON_AddStringToObject(call, "type", "function");
            cJSON *fn = cJSON_AddObjectToObject(call, "function");
            cJSON_AddStringToObject(fn, "name", name ? name : "");
            cJSON_AddStringToObject(fn, "arguments", args ? args : "{}");
            free(args);
            cJSON_AddItemToArray(calls, call);
            ncalls++;
            if (name && strcmp(name, ANTH_JSON_TOOL) == 0)
                json_input = input;
        } else if (strcmp(type, "thinking") == 0 || strcmp(type, "redacted_thinking") == 0) {
            cJSON_AddItemToArray(thinking_blocks, cJSON_Duplicate(b, true));
            if (prov_json_string(b, "thinking"))
                buf_append_cstr(&reasoning, prov_json_string(b, "thinking"));
        }
    }
    const char *finish = anth_finish_reason(prov_json_string(doc, "stop_reason"));
    char *json_text = NULL;
    if (ncalls == 1 && json_input) { /* JSON mode: the forced tool's input is the content */
        json_text = anth_json_mode_text(json_input);
        cJSON_Delete(calls);
        calls = cJSON_CreateArray();
        finish = "stop";
    }

    resp = cJSON_CreateObject();
    const char *id = prov_json_string(doc, "id");
    char fresh[40];
    if (!id) {
        prov_new_id(fresh);
        id = fresh;
    }
    cJSON_AddStringToObject(resp, "id", id);
    cJSON_AddStringToObject(resp, "object", "chat.completion");
    cJSON_AddNumberToObject(resp, "created", (double)time(NULL));
    const char *model = prov_json_string(doc, "model");
    if (model) {
        cJSON_AddStringToObject(resp, "model", model);
    } else {
        char *m = strndup(ctx->model.p ? ctx->model.p : "", ctx->model.n);
        cJSON_AddStringToObject(resp, "model", m ? m : "");
        free(m);
    }
    cJSON *choice = cJSON_CreateObject();
    cJSON_AddNumberToObject(choice, "index", 0);
    cJSON *message = cJSON_AddObjectToObject(choice, "message");
    cJSON_AddStringToObject(message, "role", "assistant");
    if (json_text)
        cJSON_AddStringToObject(message, "content", json_text);
    else if (text.n && buf_cstr(&text))
        cJSON_AddStringToObject(message, "content", text.p);
    else
        cJSON_AddNullToObject(message, "content");
    free(json_text);
    if (calls->child)
        cJSON_AddItemToObject(message, "tool_calls", calls);
    else
        cJSON_Delete(calls);
    if (thinking_blocks->child) {
        cJSON_AddStringToObject(message, "reasoning_content",
                                reasoning.n && buf_cstr(&reasoning) ? reasoning.p : "");
        cJSON_AddItemToObject(message, "thinking_blocks", thinking_blocks);
    } else {
        cJSON_Delete(thinking_blocks);
    }
    cJSON_AddStringToObject(choice, "finish_reason", finish);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(resp, "choices"), choice);
    cJSON_AddItemToObject(resp, "usage", anth_usage_of(prov_json_get(doc, "usage")));

    char *printed = cJSON_PrintUnformatted(resp);
    if (!printed || buf_append_cstr(out, printed) != 0) {
        prov_fail(err, 500, NULL, "out of memory");
    } else {
        rc = 0;
    }
    free(printed);
done:
    cJSON_Delete(resp);
    cJSON_Delete(doc);
    buf_free(&text);
    buf_free(&reasoning);
    return rc;
}

/* ---- stream ----------------------------------------------------------------------------- */

typedef enum {
    ANTH_BLOCK_OTHER = 0,
    ANTH_BLOCK_TEXT,
    ANTH_BLOCK_THINKING,
    ANTH_BLOCK_TOOL,      /* a tool_use: OpenAI tool_calls[tool] */
    ANTH_BLOCK_JSON_TOOL, /* JSON mode's json_tool_call: its input streams as content */
} anth_block_kind_t;

typedef struct {
    long long index; /* Anthropic's content block index */
    anth_block_kind_t kind;
    int tool;      /* OpenAI tool_calls index (tool_use blocks counted from 0) */
    bool has_args; /* some non-empty input_json_delta arrived */
} anth_block_t;

struct prov_stream {
    sse_parser_t sse;
    char id[40];
    long long created;
    char *model; /* the deployment's upstream model, NUL-terminated copy */
    size_t model_n;
    anth_block_t *blocks;
    size_t num_blocks, cap_blocks;
    int tools;
    bool json_tool; /* JSON mode's tool was called: tool_use means "stop" */
    bool finished;  /* a message_delta with the stop reason arrived */
    bool failed;
    long long input_tokens, cache_read, cache_creation;
    bool cache_fields;
    prov_emit_fn emit;
    void *emit_arg;
    char error[300]; /* an error event's type and message */
};

static prov_stream_t *anth_stream_new(const prov_ctx_t *ctx)
{
    prov_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->model = strndup(ctx->model.p ? ctx->model.p : "", ctx->model.n);
    if (!s->model) {
        free(s);
        return NULL;
    }
    s->model_n = ctx->model.n;
    sse_parser_init(&s->sse, 0);
    prov_new_id(s->id);
    s->created = (long long)time(NULL);
    return s;
}

static void anth_stream_free(prov_stream_t *s)
{
    if (!s)
        return;
    sse_parser_free(&s->sse);
    free(s->blocks);
    free(s->model);
    free(s);
}

static int anth_emit(prov_stream_t *s, cJSON *delta, const char *finish, cJSON *usage)
{
    return prov_emit_chunk(s->emit, s->emit_arg, s->id, s->created, str_make(s->model, s->model_n),
                           delta, finish, usage);
}

static int anth_emit_string(prov_stream_t *s, const char *key, const char *value)
{
    cJSON *delta = cJSON_CreateObject();
    cJSON_AddStringToObject(delta, key, value);
    return anth_emit(s, delta, NULL, NULL);
}

/* {"tool_calls":[{"index":k, ...}]} with the call's function {arguments} (and head fields). */
static int anth_emit_tool(prov_stream_t *s, int tool, const char *id, const char *name,
                          const char *arguments)
{
    cJSON *delta = cJSON_CreateObject();
    cJSON *call = cJSON_CreateObject();
    cJSON_AddNumberToObject(call, "index", tool);
    if (id) {
        cJSON_AddStringToObject(call, "id", id);
        cJSON_AddStringToObject(call, "type", "function");
    }
    cJSON *fn = cJSON_AddObjectToObject(call, "function");
    if (name)
        cJSON_AddStringToObject(fn, "name", name);
    cJSON_AddStringToObject(fn, "arguments", arguments);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(delta, "tool_calls"), call);
    return anth_emit(s, delta, NULL, NULL);
}

static anth_block_t *anth_block_find(prov_stream_t *s, const cJSON *event)
{
    const cJSON *index = prov_json_get(event, "index");
    if (!cJSON_IsNumber(index))
        return NULL;
    for (size_t i = s->num_blocks; i-- > 0;)
        if ((double)s->blocks[i].index == index->valuedouble)
            return &s->blocks[i];
    return NULL;
}

static anth_block_t *anth_block_add(prov_stream_t *s, const cJSON *event)
{
    const cJSON *index = prov_json_get(event, "index");
    if (s->num_blocks == s->cap_blocks) {
        if (s->cap_blocks >= ANTH_MAX_BLOCKS)
            return NULL;
        size_t cap = s->cap_blocks ? s->cap_blocks * 2 : 8;
        anth_block_t *b = realloc(s->blocks, cap * sizeof *b);
        if (!b)
            return NULL;
        s->blocks = b;
        s->cap_blocks = cap;
    }
    anth_block_t *b = &s->blocks[s->num_blocks++];
    *b = (anth_block_t){.index = cJSON_IsNumber(index) ? (long long)index->valuedouble : -1};
    return b;
}

static int anth_on_block_start(prov_stream_t *s, const cJSON *event)
{
    const cJSON *cb = prov_json_get(event, "content_block");
    const char *type = prov_json_string(cb, "type");
    anth_block_t *b = anth_block_add(s, event);
    if (!b)
        return -1;
    if (!type)
        return 0;
    if (strcmp(type, "text") == 0) {
        b->kind = ANTH_BLOCK_TEXT;
        const char *text = prov_json_string(cb, "text");
        return text && text[0] ? anth_emit_string(s, "content", text) : 0;
    }
    if (strcmp(type, "thinking") == 0) {
        b->kind = ANTH_BLOCK_THINKING;
        const char *thinking = prov_json_string(cb, "thinking");
        return thinking && thinking[0] ? anth_emit_string(s, "reasoning_content", thinking) : 0;
    }
    if (strcmp(type, "redacted_thinking") == 0) {
        cJSON *delta = cJSON_CreateObject();
        cJSON_AddItemToArray(cJSON_AddArrayToObject(delta, "thinking_blocks"),
                             cJSON_Duplicate(cb, true));
        return anth_emit(s, delta, NULL, NULL);
    }
    if (strcmp(type, "tool_use") != 0)
        return 0; /* server tools and their results have no OpenAI counterpart */
    const char *name = prov_json_string(cb, "name");
    const cJSON *input = prov_json_get(cb, "input");
    char *args = cJSON_IsObject(input) && input->child ? cJSON_PrintUnformatted(input) : NULL;
    int rc = 0;
    if (name && strcmp(name, ANTH_JSON_TOOL) == 0) {
        b->kind = ANTH_BLOCK_JSON_TOOL;
        s->json_tool = true;
        if (args)
            rc = anth_emit_string(s, "content", args);
    } else {
        b->kind = ANTH_BLOCK_TOOL;
        b->tool = s->tools++;
        const char *id = prov_json_string(cb, "id");
        rc = anth_emit_tool(s, b->tool, id ? id : "", name ? name : "", args ? args : "");
    }
    b->has_args = args != NULL;
    free(args);
    return rc;
}

static int anth_on_block_delta(prov_stream_t *s, const cJSON *event)
{
    const cJSON *delta = prov_json_get(event, "delta");
    const char *type = prov_json_string(delta, "type");
    anth_block_t *b = anth_block_find(s, event);
    if (!type)
        return 0;
    if (strcmp(type, "text_delta") == 0) {
        const char *text = prov_json_string(delta, "text");
        return text && text[0] ? anth_emit_string(s, "content", text) : 0;
    }
    if (strcmp(type, "thinking_delta") == 0) {
        const char *thinking = prov_json_string(delta, "thinking");
        if (!thinking || !thinking[0])
            return 0;
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "reasoning_content", thinking);
        cJSON *tb = cJSON_CreateObject();
        cJSON_AddStringToObject(tb, "type", "thinking");
        cJSON_AddStringToObject(tb, "thinking", thinking);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "thinking_blocks"), tb);
        return anth_emit(s, d, NULL, NULL);
    }
    if (strcmp(type, "signature_delta") == 0) {
        const char *signature = prov_json_string(delta, "signature");
        if (!signature)
            return 0;
        cJSON *d = cJSON_CreateObject();
        cJSON *tb = cJSON_CreateObject();
        cJSON_AddStringToObject(tb, "type", "thinking");
        cJSON_AddStringToObject(tb, "thinking", "");
        cJSON_AddStringToObject(tb, "signature", signature);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "thinking_blocks"), tb);
        return anth_emit(s, d, NULL, NULL);
    }
    if (strcmp(type, "input_json_delta") != 0)
        return 0; /* citations_delta and future kinds */
    const char *partial = prov_json_string(delta, "partial_json");
    if (!b || !partial || !partial[0])
        return 0;
    if (b->kind == ANTH_BLOCK_JSON_TOOL) {
        b->has_args = true;
        return anth_emit_string(s, "content", partial);
    }
    if (b->kind != ANTH_BLOCK_TOOL)
        return 0;
    b->has_args = true;
    return anth_emit_tool(s, b->tool, NULL, NULL, partial);
}

/* A tool call whose input never streamed gets "{}" so its arguments parse (as LiteLLM does). */
static int anth_on_block_stop(prov_stream_t *s, const cJSON *event)
{
    anth_block_t *b = anth_block_find(s, event);
    if (!b || b->has_args || (b->kind != ANTH_BLOCK_TOOL && b->kind != ANTH_BLOCK_JSON_TOOL))
        return 0;
    b->has_args = true;
    if (b->kind == ANTH_BLOCK_JSON_TOOL)
        return anth_emit_string(s, "content", "{}");
    return anth_emit_tool(s, b->tool, NULL, NULL, "{}");
}

static void anth_take_usage(prov_stream_t *s, const cJSON *usage)
{
    if (prov_json_get(usage, "input_tokens"))
        s->input_tokens = anth_get_count(usage, "input_tokens");
    if (prov_json_get(usage, "cache_read_input_tokens")) {
        s->cache_read = anth_get_count(usage, "cache_read_input_tokens");
        s->cache_fields = true;
    }
    if (prov_json_get(usage, "cache_creation_input_tokens")) {
        s->cache_creation = anth_get_count(usage, "cache_creation_input_tokens");
        s->cache_fields = true;
    }
}

static int anth_on_message_delta(prov_stream_t *s, const cJSON *event)
{
    const cJSON *usage = prov_json_get(event, "usage");
    anth_take_usage(s, usage);
    const char *reason = prov_json_string(prov_json_get(event, "delta"), "stop_reason");
    const char *finish = anth_finish_reason(reason);
    if (s->json_tool && s->tools == 0 && strcmp(finish, "tool_calls") == 0)
        finish = "stop";
    s->finished = true;
    return anth_emit(s, NULL, finish,
                     anth_usage(s->input_tokens, anth_get_count(usage, "output_tokens"),
                                s->cache_read, s->cache_creation, s->cache_fields));
}

static int anth_on_event(void *arg, const sse_event_t *ev)
{
    prov_stream_t *s = arg;
    if (ev->data.n == 0)
        return 0;
    cJSON *event = cJSON_ParseWithLength(ev->data.p, ev->data.n);
    if (!cJSON_IsObject(event)) {
        cJSON_Delete(event);
        return -1;
    }
    const char *type = prov_json_string(event, "type");
    char name[32];
    if (!type) { /* Anthropic always names the type in the data too; the event line will do */
        snprintf(name, sizeof name, "%.*s", (int)(ev->event.n < 31 ? ev->event.n : 31),
                 ev->event.p);
        type = name;
    }
    int rc = 0;
    if (strcmp(type, "message_start") == 0) {
        anth_take_usage(s, prov_json_get(prov_json_get(event, "message"), "usage"));
        cJSON *delta = cJSON_CreateObject();
        cJSON_AddStringToObject(delta, "role", "assistant");
        cJSON_AddStringToObject(delta, "content", "");
        rc = anth_emit(s, delta, NULL, NULL);
    } else if (strcmp(type, "content_block_start") == 0) {
        rc = anth_on_block_start(s, event);
    } else if (strcmp(type, "content_block_delta") == 0) {
        rc = anth_on_block_delta(s, event);
    } else if (strcmp(type, "content_block_stop") == 0) {
        rc = anth_on_block_stop(s, event);
    } else if (strcmp(type, "message_delta") == 0) {
        rc = anth_on_message_delta(s, event);
    } else if (strcmp(type, "error") == 0) {
        /* overloaded_error and friends after the 200: keep their words for the client */
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(event, "error");
        const cJSON *et = cJSON_GetObjectItemCaseSensitive(e, "type");
        const cJSON *em = cJSON_GetObjectItemCaseSensitive(e, "message");
        snprintf(s->error, sizeof s->error, "%s: %s",
                 cJSON_IsString(et) ? et->valuestring : "error",
                 cJSON_IsString(em) ? em->valuestring : "the stream failed");
        rc = -1;
    } /* ping, message_stop and unknown events carry nothing for OpenAI clients */
    cJSON_Delete(event);
    return rc;
}

static int anth_stream_feed(prov_stream_t *s, const char *p, size_t n, prov_emit_fn emit, void *arg)
{
    if (s->failed)
        return -1;
    s->emit = emit;
    s->emit_arg = arg;
    if (sse_feed(&s->sse, p, n, anth_on_event, s) != 0) {
        s->failed = true;
        return -1;
    }
    return 0;
}

/* The final chunk went out with message_delta; a stream that ended before it was cut short. */
static int anth_stream_end(prov_stream_t *s, prov_emit_fn emit, void *arg)
{
    (void)emit;
    (void)arg;
    return s->failed || !s->finished ? -1 : 0;
}

/* ---- errors ----------------------------------------------------------------------------- */

/* {"type":"error","error":{"type","message"}} -> the message; other bodies as they are. */
static void anth_error_message(int status, str_t body, buf_t *out)
{
    (void)status;
    cJSON *doc = cJSON_ParseWithLength(body.p ? body.p : "", body.n);
    const cJSON *error = prov_json_get(doc, "error");
    const char *message = prov_json_string(error, "message");
    if (!message && cJSON_IsString(error))
        message = error->valuestring;
    if (!message)
        message = prov_json_string(doc, "message");
    if (message)
        buf_append_cstr(out, message);
    else
        buf_append(out, body.p, body.n < 1000 ? body.n : 1000);
    cJSON_Delete(doc);
}

static const char *anth_stream_error(prov_stream_t *s)
{
    return s->error[0] ? s->error : NULL;
}

const prov_adapter_t prov_adapter_anthropic = {
    .stream_error = anth_stream_error,
    .name = "anthropic",
    .chat_request = anth_chat_request,
    .chat_response = anth_chat_response,
    .stream_new = anth_stream_new,
    .stream_feed = anth_stream_feed,
    .stream_end = anth_stream_end,
    .stream_free = anth_stream_free,
    .error_message = anth_error_message,
};
