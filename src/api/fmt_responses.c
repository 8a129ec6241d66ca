/* SPDX-License-Identifier: MIT
 * The OpenAI Responses API (/v1/responses) as a client format, for deployments without a
 * Responses API of their own: a Responses request becomes a canonical chat request, a chat
 * answer becomes a Response object, chat chunks become the Responses event stream.
 * Stateless by design: whatever needs a stored response (previous_response_id, conversation,
 * item_reference, prompt, background) is refused with a 400 that says what to send instead.
 * OpenAI deployments never come here; the route passes their requests through untouched. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "api/format.h"

#define RESP_SUFFIX_MAX 64  /* id suffix shared by resp_, msg_ and rs_ ids, NUL included */
#define RESP_ID_MAX 96      /* any item id */
#define RESP_MAX_ITEMS 1024 /* output items of one stream; more is a malformed stream */

/* ---- small JSON helpers ------------------------------------------------------------------- */

static const cJSON *jget(const cJSON *o, const char *key)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = jget(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Present and not JSON null. */
static bool jset(const cJSON *v)
{
    return v && !cJSON_IsNull(v);
}

static bool streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A non-negative count from a usage object; 0 when absent or not a number. */
static double jcount(const cJSON *o, const char *key)
{
    const cJSON *v = jget(o, key);
    return cJSON_IsNumber(v) && v->valuedouble > 0 ? v->valuedouble : 0;
}

static cJSON *dup(const cJSON *v)
{
    return cJSON_Duplicate(v, 1);
}

/* ---- ids ------------------------------------------------------------------------------------ */

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Copies the id characters of `s` (letters, digits, '_', '-') into out[n]. */
static void id_clean(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; s && *s && k + 1 < n; s++)
        if (id_char(*s))
            out[k++] = *s;
    out[k] = 0;
}

static void id_random(char *out, size_t len)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[32];
    if (len > sizeof rnd)
        len = sizeof rnd;
    if (getrandom(rnd, len, GRND_NONBLOCK) != (ssize_t)len)
        for (size_t i = 0; i < len; i++)
            rnd[i] = (unsigned char)rand();
    for (size_t i = 0; i < len; i++)
        out[i] = alnum[rnd[i] % (sizeof alnum - 1)];
    out[len] = 0;
}

/* The suffix of a response's ids, from the chat completion's id ("chatcmpl-abc" -> "abc") so
 * logs can match a response with its provider call; random when the chat id gives nothing. */
static void ids_suffix(const char *chat_id, char out[RESP_SUFFIX_MAX])
{
    if (chat_id && has_prefix(chat_id, "chatcmpl-"))
        chat_id += strlen("chatcmpl-");
    id_clean(chat_id, out, RESP_SUFFIX_MAX);
    if (!out[0])
        id_random(out, 24);
}

/* ---- request: Responses -> chat ------------------------------------------------------------- */

typedef struct {
    cJSON *messages;
    cJSON *run; /* the assistant message a run of assistant-side items is building, or NULL */
    prov_error_t *err;
} conv_t;

/* Appends `text` to a message's string content, a newline between pieces. */
static int msg_add_text(cJSON *msg, const char *text)
{
    if (!text[0])
        return 0;
    cJSON *old = cJSON_GetObjectItemCaseSensitive(msg, "content");
    cJSON *next;
    if (cJSON_IsString(old) && old->valuestring[0]) {
        size_t a = strlen(old->valuestring), b = strlen(text);
        char *s = malloc(a + b + 2);
        if (!s)
            return -1;
        memcpy(s, old->valuestring, a);
        s[a] = '\n';
        memcpy(s + a + 1, text, b + 1);
        next = cJSON_CreateString(s);
        free(s);
    } else {
        next = cJSON_CreateString(text);
    }
    if (!next)
        return -1;
    if (old)
        return cJSON_ReplaceItemInObjectCaseSensitive(msg, "content", next) ? 0 : -1;
    cJSON_AddItemToObject(msg, "content", next);
    return 0;
}

/* Ends a run of assistant-side items; an assistant message that got neither text nor tool
 * calls (an echoed empty message) is dropped, since providers refuse empty turns. */
static void conv_end_run(conv_t *c)
{
    cJSON *run = c->run;
    c->run = NULL;
    if (!run)
        return;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(run, "content");
    if (!cJSON_GetObjectItemCaseSensitive(run, "tool_calls") &&
        !(cJSON_IsString(content) && content->valuestring[0]))
        cJSON_Delete(cJSON_DetachItemViaPointer(c->messages, run));
}

/* The assistant message of the current run, created on first use. */
static cJSON *conv_run(conv_t *c)
{
    if (!c->run) {
        c->run = cJSON_CreateObject();
        if (!c->run)
            return NULL;
        cJSON_AddStringToObject(c->run, "role", "assistant");
        cJSON_AddNullToObject(c->run, "content");
        cJSON_AddItemToArray(c->messages, c->run);
    }
    return c->run;
}

static bool is_text_part(const char *type)
{
    return streq(type, "input_text") || streq(type, "output_text") || streq(type, "text");
}

/* Joins the text parts of a content list with newlines into `out` (NUL-terminated). Parts
 * that are not text fail with a 400 naming `what` (e.g. "input[2].content"). Refusals an
 * assistant message echoes count as its text. */
static int parts_text(const cJSON *parts, const char *what, buf_t *out, prov_error_t *err)
{
    int j = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, parts)
    {
        const char *type = jstr(part, "type");
        const char *text = is_text_part(type)       ? jstr(part, "text")
                           : streq(type, "refusal") ? jstr(part, "refusal")
                                                    : NULL;
        if (!cJSON_IsObject(part) || !type)
            return prov_fail(err, 400, "input", "%s[%d] must be an object with a type", what, j);
        if (!text && (is_text_part(type) || streq(type, "refusal")))
            return prov_fail(err, 400, "input", "%s[%d] has no text", what, j);
        if (!text)
            return prov_fail(err, 400, "input",
                             "%s[%d]: only text can go here for non-OpenAI deployments, not '%s'",
                             what, j, type);
        if (out->n && buf_append(out, "\n", 1) != 0)
            return prov_fail(err, 500, NULL, "out of memory");
        if (buf_append_cstr(out, text) != 0)
            return prov_fail(err, 500, NULL, "out of memory");
        j++;
    }
    if (!buf_cstr(out))
        return prov_fail(err, 500, NULL, "out of memory");
    return 0;
}

/* A string or a list of text parts as one string (for system, assistant and tool messages,
 * which every adapter takes as strings). Missing or null content is "". */
static int content_text(const cJSON *content, const char *what, buf_t *out, prov_error_t *err)
{
    if (cJSON_IsString(content))
        return buf_append_cstr(out, content->valuestring) == 0 && buf_cstr(out)
                   ? 0
                   : prov_fail(err, 500, NULL, "out of memory");
    if (cJSON_IsArray(content))
        return parts_text(content, what, out, err);
    if (jset(content))
        return prov_fail(err, 400, "input", "%s must be a string or a list of content parts", what);
    return buf_cstr(out) ? 0 : prov_fail(err, 500, NULL, "out of memory");
}

static cJSON *image_part(const cJSON *part, int i, int j, prov_error_t *err)
{
    const cJSON *img = jget(part, "image_url");
    const char *url = cJSON_IsString(img) ? img->valuestring : jstr(img, "url");
    if (!url) {
        prov_fail(err, 400, "input",
                  jset(jget(part, "file_id"))
                      ? "input[%d].content[%d]: input_image with a file_id cannot be sent to a "
                        "non-OpenAI deployment; send image_url (an https or data: URL) instead"
                      : "input[%d].content[%d]: input_image needs image_url (an https or data: "
                        "URL)",
                  i, j);
        return NULL;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "type", "image_url");
    cJSON *iu = cJSON_AddObjectToObject(out, "image_url");
    cJSON_AddStringToObject(iu, "url", url);
    const char *detail = jstr(part, "detail");
    if (streq(detail, "low") || streq(detail, "high") || streq(detail, "auto"))
        cJSON_AddStringToObject(iu, "detail", detail);
    else if (streq(detail, "original"))
        cJSON_AddStringToObject(iu, "detail", "high");
    return out;
}

static cJSON *file_part(const cJSON *part, int i, int j, prov_error_t *err)
{
    static const char *const keys[] = {"file_data", "file_id", "filename"};
    if (!jstr(part, "file_data") && !jstr(part, "file_id")) {
        prov_fail(err, 400, "input",
                  jset(jget(part, "file_url"))
                      ? "input[%d].content[%d]: input_file with a file_url cannot be sent to a "
                        "non-OpenAI deployment; send the file as file_data (base64) instead"
                      : "input[%d].content[%d]: input_file needs file_data or file_id",
                  i, j);
        return NULL;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "type", "file");
    cJSON *f = cJSON_AddObjectToObject(out, "file");
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (jstr(part, keys[k]))
            cJSON_AddStringToObject(f, keys[k], jstr(part, keys[k]));
    return out;
}

/* A user message's content list as chat content parts (text, image_url, file). */
static cJSON *user_parts(const cJSON *parts, int i, prov_error_t *err)
{
    cJSON *out = cJSON_CreateArray();
    if (!out) {
        prov_fail(err, 500, NULL, "out of memory");
        return NULL;
    }
    int j = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, parts)
    {
        const char *type = jstr(part, "type");
        cJSON *p = NULL;
        if (!cJSON_IsObject(part) || !type) {
            prov_fail(err, 400, "input", "input[%d].content[%d] must be an object with a type", i,
                      j);
        } else if (is_text_part(type)) {
            if (!jstr(part, "text"))
                prov_fail(err, 400, "input", "input[%d].content[%d] has no text", i, j);
            else if ((p = cJSON_CreateObject()) != NULL) {
                cJSON_AddStringToObject(p, "type", "text");
                cJSON_AddStringToObject(p, "text", jstr(part, "text"));
            }
        } else if (streq(type, "input_image")) {
            p = image_part(part, i, j, err);
        } else if (streq(type, "input_file")) {
            p = file_part(part, i, j, err);
        } else {
            prov_fail(err, 400, "input",
                      "input[%d].content[%d]: content type '%s' is not supported for non-OpenAI "
                      "deployments (use input_text, input_image or input_file)",
                      i, j, type);
        }
        if (!p) {
            if (!err->status)
                prov_fail(err, 500, NULL, "out of memory");
            cJSON_Delete(out);
            return NULL;
        }
        cJSON_AddItemToArray(out, p);
        j++;
    }
    return out;
}

static int conv_message(conv_t *c, const cJSON *item, int i)
{
    const char *role = jstr(item, "role");
    const cJSON *content = jget(item, "content");
    char what[48];
    snprintf(what, sizeof what, "input[%d].content", i);
    if (!role)
        return prov_fail(c->err, 400, "input",
                         "input[%d].role is required (user, assistant, system or developer)", i);
    if (streq(role, "assistant")) {
        buf_t text = {0};
        cJSON *run;
        int rc = content_text(content, what, &text, c->err);
        if (rc == 0 && (!(run = conv_run(c)) || msg_add_text(run, text.p) != 0))
            rc = prov_fail(c->err, 500, NULL, "out of memory");
        buf_free(&text);
        return rc;
    }
    conv_end_run(c);
    cJSON *msg = cJSON_CreateObject();
    if (!msg)
        return prov_fail(c->err, 500, NULL, "out of memory");
    cJSON_AddItemToArray(c->messages, msg);
    if (streq(role, "user")) {
        cJSON_AddStringToObject(msg, "role", "user");
        if (cJSON_IsString(content)) {
            cJSON_AddStringToObject(msg, "content", content->valuestring);
            return 0;
        }
        if (!cJSON_IsArray(content))
            return prov_fail(c->err, 400, "input", "%s must be a string or a list of content parts",
                             what);
        cJSON *parts = user_parts(content, i, c->err);
        if (!parts)
            return -1;
        cJSON_AddItemToObject(msg, "content", parts);
        return 0;
    }
    if (streq(role, "system") || streq(role, "developer")) {
        /* developer is OpenAI's newer name for system; other providers know only system */
        buf_t text = {0};
        int rc = content_text(content, what, &text, c->err);
        if (rc == 0) {
            cJSON_AddStringToObject(msg, "role", "system");
            cJSON_AddStringToObject(msg, "content", text.p);
        }
        buf_free(&text);
        return rc;
    }
    return prov_fail(c->err, 400, "input",
                     "input[%d].role '%s' is not supported (user, assistant, system or developer)",
                     i, role);
}

/* function_call and custom_tool_call items: a tool call of the current assistant run, so that
 * parallel calls (and the text before them) stay one assistant turn, as providers require. */
static int conv_call(conv_t *c, const cJSON *item, int i, bool custom)
{
    const char *call_id = jstr(item, "call_id") ? jstr(item, "call_id") : jstr(item, "id");
    const char *name = jstr(item, "name");
    if (!call_id || !name)
        return prov_fail(c->err, 400, "input", "input[%d]: a %s item needs call_id and name", i,
                         custom ? "custom_tool_call" : "function_call");
    char *args = NULL;
    const cJSON *a = jget(item, "arguments");
    if (custom) {
        cJSON *wrap = cJSON_CreateObject();
        cJSON_AddStringToObject(wrap, "input", jstr(item, "input") ? jstr(item, "input") : "");
        args = cJSON_PrintUnformatted(wrap);
        cJSON_Delete(wrap);
    } else if (cJSON_IsString(a) && a->valuestring[0]) {
        args = strdup(a->valuestring);
    } else if (cJSON_IsObject(a)) {
        args = cJSON_PrintUnformatted(a);
    } else {
        args = strdup("{}");
    }
    cJSON *run = conv_run(c), *calls = NULL, *tc = cJSON_CreateObject();
    if (run && !(calls = cJSON_GetObjectItemCaseSensitive(run, "tool_calls")))
        calls = cJSON_AddArrayToObject(run, "tool_calls");
    if (!args || !calls || !tc) {
        free(args);
        cJSON_Delete(tc);
        return prov_fail(c->err, 500, NULL, "out of memory");
    }
    cJSON_AddStringToObject(tc, "id", call_id);
    cJSON_AddStringToObject(tc, "type", "function");
    cJSON *fn = cJSON_AddObjectToObject(tc, "function");
    cJSON_AddStringToObject(fn, "name", name);
    cJSON_AddStringToObject(fn, "arguments", args);
    cJSON_AddItemToArray(calls, tc);
    free(args);
    return 0;
}

/* function_call_output and custom_tool_call_output items: tool messages. */
static int conv_output(conv_t *c, const cJSON *item, int i)
{
    const char *call_id = jstr(item, "call_id");
    char what[48];
    snprintf(what, sizeof what, "input[%d].output", i);
    if (!call_id)
        return prov_fail(c->err, 400, "input", "input[%d]: a %s item needs call_id", i,
                         jstr(item, "type"));
    conv_end_run(c);
    buf_t text = {0};
    int rc = content_text(jget(item, "output"), what, &text, c->err);
    if (rc == 0) {
        cJSON *msg = cJSON_CreateObject();
        cJSON_AddStringToObject(msg, "role", "tool");
        cJSON_AddStringToObject(msg, "tool_call_id", call_id);
        cJSON_AddStringToObject(msg, "content", text.p);
        if (!cJSON_AddItemToArray(c->messages, msg)) {
            cJSON_Delete(msg);
            rc = prov_fail(c->err, 500, NULL, "out of memory");
        }
    }
    buf_free(&text);
    return rc;
}

static int conv_item(conv_t *c, const cJSON *item, int i)
{
    if (!cJSON_IsObject(item))
        return prov_fail(c->err, 400, "input", "input[%d] must be an object (a message or an item)",
                         i);
    const char *type = jstr(item, "type");
    if (jset(jget(item, "type")) && !type)
        return prov_fail(c->err, 400, "input", "input[%d].type must be a string", i);
    if (!type || streq(type, "message"))
        return conv_message(c, item, i);
    if (streq(type, "function_call") || streq(type, "custom_tool_call"))
        return conv_call(c, item, i, streq(type, "custom_tool_call"));
    if (streq(type, "function_call_output") || streq(type, "custom_tool_call_output"))
        return conv_output(c, item, i);
    if (streq(type, "reasoning"))
        return 0; /* chat has no place for earlier reasoning; dropped, the run goes on */
    if (streq(type, "item_reference")) /* the AI SDK sends these unless store is false */
        return prov_fail(c->err, 400, "input",
                         "input[%d]: item_reference (to '%s') needs stored responses, which "
                         "non-OpenAI deployments do not have; send the item itself (AI SDK: set "
                         "providerOptions.openai.store to false)",
                         i, jstr(item, "id") ? jstr(item, "id") : "");
    return prov_fail(c->err, 400, "input",
                     "input[%d]: item type '%s' is not supported for non-OpenAI deployments", i,
                     type);
}

/* What a custom tool's single string parameter says about its format. */
static char *custom_input_description(const cJSON *format)
{
    buf_t b = {0};
    const char *syntax = jstr(format, "syntax"), *definition = jstr(format, "definition");
    if (streq(jstr(format, "type"), "grammar") && definition)
        buf_printf(&b, "The tool's input, as text in this %s grammar:\n%s", syntax ? syntax : "",
                   definition);
    else
        buf_append_cstr(&b, "The tool's input, as free-form text.");
    char *s = b.p && buf_cstr(&b) ? strdup(b.p) : NULL;
    buf_free(&b);
    return s;
}

/* A Responses function tool (flat) or custom tool as a chat function tool. */
static cJSON *chat_tool(const cJSON *tool, bool custom)
{
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "type", "function");
    cJSON *fn = cJSON_AddObjectToObject(out, "function");
    cJSON_AddStringToObject(fn, "name", jstr(tool, "name"));
    if (jstr(tool, "description"))
        cJSON_AddStringToObject(fn, "description", jstr(tool, "description"));
    if (custom) {
        /* a custom tool takes one free-form string; as a function it takes {"input": ...} */
        char *desc = custom_input_description(jget(tool, "format"));
        cJSON *params = cJSON_AddObjectToObject(fn, "parameters");
        cJSON_AddStringToObject(params, "type", "object");
        cJSON *input =
            cJSON_AddObjectToObject(cJSON_AddObjectToObject(params, "properties"), "input");
        cJSON_AddStringToObject(input, "type", "string");
        if (desc)
            cJSON_AddStringToObject(input, "description", desc);
        free(desc);
        cJSON *req = cJSON_AddArrayToObject(params, "required");
        cJSON_AddItemToArray(req, cJSON_CreateString("input"));
        cJSON_AddFalseToObject(params, "additionalProperties");
        return out;
    }
    const cJSON *params = jget(tool, "parameters");
    if (cJSON_IsObject(params)) {
        cJSON_AddItemToObject(fn, "parameters", dup(params));
    } else {
        cJSON *p = cJSON_AddObjectToObject(fn, "parameters");
        cJSON_AddStringToObject(p, "type", "object");
        cJSON_AddObjectToObject(p, "properties");
    }
    const cJSON *strict = jget(tool, "strict");
    if (cJSON_IsBool(strict))
        cJSON_AddBoolToObject(fn, "strict", cJSON_IsTrue(strict));
    return out;
}

/* The web_search tool as chat's web_search_options; the adapter passes it on where the
 * provider can search, and refuses or drops it (drop_params) where it cannot. */
static cJSON *web_search_options(const cJSON *tool)
{
    cJSON *out = cJSON_CreateObject();
    const char *size = jstr(tool, "search_context_size");
    if (size)
        cJSON_AddStringToObject(out, "search_context_size", size);
    const cJSON *loc = jget(tool, "user_location");
    if (cJSON_IsObject(loc)) {
        static const char *const keys[] = {"city", "country", "region", "timezone"};
        cJSON *ul = cJSON_AddObjectToObject(out, "user_location");
        cJSON_AddStringToObject(ul, "type", "approximate");
        cJSON *approx = cJSON_AddObjectToObject(ul, "approximate");
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (jstr(loc, keys[k]))
                cJSON_AddStringToObject(approx, keys[k], jstr(loc, keys[k]));
    }
    return out;
}

static bool is_web_search(const char *type)
{
    return streq(type, "web_search") || streq(type, "web_search_preview") ||
           streq(type, "web_search_2025_08_26") || streq(type, "web_search_preview_2025_03_11");
}

static int conv_tools(const cJSON *req, cJSON *chat, prov_error_t *err)
{
    const cJSON *tools = jget(req, "tools");
    if (!jset(tools))
        return 0;
    if (!cJSON_IsArray(tools))
        return prov_fail(err, 400, "tools", "tools must be a list");
    cJSON *out = cJSON_AddArrayToObject(chat, "tools");
    int j = 0;
    const cJSON *tool;
    cJSON_ArrayForEach(tool, tools)
    {
        const char *type = jstr(tool, "type");
        if (!type)
            return prov_fail(err, 400, "tools", "tools[%d] must be an object with a type", j);
        if (streq(type, "function") || streq(type, "custom")) {
            if (!jstr(tool, "name"))
                return prov_fail(err, 400, "tools", "tools[%d].name is required", j);
            if (jset(jget(tool, "parameters")) && !cJSON_IsObject(jget(tool, "parameters")))
                return prov_fail(err, 400, "tools", "tools[%d].parameters must be an object", j);
            cJSON_AddItemToArray(out, chat_tool(tool, streq(type, "custom")));
        } else if (is_web_search(type)) {
            if (!cJSON_GetObjectItemCaseSensitive(chat, "web_search_options"))
                cJSON_AddItemToObject(chat, "web_search_options", web_search_options(tool));
        } else {
            return prov_fail(err, 400, "tools",
                             "tools[%d]: the built-in tool '%s' is not available for non-OpenAI "
                             "deployments; only function and custom tools (and web_search, sent "
                             "on as web_search_options) can be translated",
                             j, type);
        }
        j++;
    }
    if (cJSON_GetArraySize(out) == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(chat, "tools");
    return 0;
}

static bool allowed_has(const cJSON *allowed, const char *name)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, allowed)
    {
        if (streq(jstr(t, "name"), name))
            return true;
    }
    return false;
}

/* tool_choice {"type":"allowed_tools","mode","tools"}: the chat request keeps only the allowed
 * tools and takes the mode as its tool_choice, which every provider understands. */
static int conv_allowed_tools(const cJSON *choice, cJSON *chat, prov_error_t *err)
{
    const char *mode = jstr(choice, "mode") ? jstr(choice, "mode") : "auto";
    const cJSON *allowed = jget(choice, "tools");
    if (!streq(mode, "auto") && !streq(mode, "required"))
        return prov_fail(err, 400, "tool_choice", "tool_choice.mode must be auto or required");
    if (!cJSON_IsArray(allowed))
        return prov_fail(err, 400, "tool_choice", "tool_choice.tools must be a list");
    cJSON *tools = cJSON_GetObjectItemCaseSensitive(chat, "tools");
    cJSON *t = tools ? tools->child : NULL;
    while (t) {
        cJSON *next = t->next;
        const cJSON *fn = jget(t, "function");
        if (!allowed_has(allowed, jstr(fn, "name")))
            cJSON_Delete(cJSON_DetachItemViaPointer(tools, t));
        t = next;
    }
    if (tools && cJSON_GetArraySize(tools) == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(chat, "tools");
    cJSON_AddStringToObject(chat, "tool_choice", mode);
    return 0;
}

static bool is_mode(const char *s)
{
    return streq(s, "auto") || streq(s, "none") || streq(s, "required");
}

static int conv_tool_choice(const cJSON *req, cJSON *chat, prov_error_t *err)
{
    const cJSON *choice = jget(req, "tool_choice");
    if (!jset(choice))
        return 0;
    if (cJSON_IsString(choice)) {
        if (!is_mode(choice->valuestring))
            return prov_fail(err, 400, "tool_choice",
                             "tool_choice must be auto, none, required or an object");
        cJSON_AddStringToObject(chat, "tool_choice", choice->valuestring);
        return 0;
    }
    const char *type = jstr(choice, "type");
    if (streq(type, "function") || streq(type, "custom")) {
        if (!jstr(choice, "name"))
            return prov_fail(err, 400, "tool_choice", "tool_choice.name is required");
        cJSON *tc = cJSON_AddObjectToObject(chat, "tool_choice");
        cJSON_AddStringToObject(tc, "type", "function");
        cJSON_AddStringToObject(cJSON_AddObjectToObject(tc, "function"), "name",
                                jstr(choice, "name"));
        return 0;
    }
    if (streq(type, "allowed_tools"))
        return conv_allowed_tools(choice, chat, err);
    if (is_mode(type)) { /* {"type":"auto"}, as some clients send it */
        cJSON_AddStringToObject(chat, "tool_choice", type);
        return 0;
    }
    return prov_fail(err, 400, "tool_choice",
                     "tool_choice type '%s' is not supported for non-OpenAI deployments",
                     type ? type : "(none)");
}

static int conv_text_format(const cJSON *req, cJSON *chat, prov_error_t *err)
{
    const cJSON *format = jget(jget(req, "text"), "format");
    if (!jset(format))
        return 0;
    const char *type = jstr(format, "type");
    if (streq(type, "text"))
        return 0;
    if (streq(type, "json_object")) {
        cJSON_AddStringToObject(cJSON_AddObjectToObject(chat, "response_format"), "type",
                                "json_object");
        return 0;
    }
    if (!streq(type, "json_schema"))
        return prov_fail(err, 400, "text",
                         "text.format.type must be text, json_object or json_schema");
    cJSON *rf = cJSON_AddObjectToObject(chat, "response_format");
    cJSON_AddStringToObject(rf, "type", "json_schema");
    cJSON *js = cJSON_AddObjectToObject(rf, "json_schema");
    const char *name = jstr(format, "name");
    cJSON_AddStringToObject(js, "name", name ? name : "response_schema");
    if (jstr(format, "description"))
        cJSON_AddStringToObject(js, "description", jstr(format, "description"));
    if (cJSON_IsObject(jget(format, "schema")))
        cJSON_AddItemToObject(js, "schema", dup(jget(format, "schema")));
    if (cJSON_IsBool(jget(format, "strict")))
        cJSON_AddBoolToObject(js, "strict", cJSON_IsTrue(jget(format, "strict")));
    return 0;
}

/* Copies a number parameter (null or absent: nothing), under a new name. */
static int copy_number(const cJSON *req, const char *key, cJSON *chat, const char *to,
                       prov_error_t *err)
{
    const cJSON *v = jget(req, key);
    if (!jset(v))
        return 0;
    if (!cJSON_IsNumber(v))
        return prov_fail(err, 400, key, "%s must be a number", key);
    cJSON_AddItemToObject(chat, to, dup(v));
    return 0;
}

/* Parameters that need a stored response or server-side state OpenAI keeps. */
static int check_stateless(const cJSON *req, prov_error_t *err)
{
    static const char *const stateful[] = {"previous_response_id", "conversation"};
    for (size_t k = 0; k < sizeof stateful / sizeof stateful[0]; k++)
        if (jset(jget(req, stateful[k])))
            return prov_fail(err, 400, stateful[k],
                             "%s is not supported for non-OpenAI deployments: sluice keeps no "
                             "response state for them; send the whole conversation in `input`",
                             stateful[k]);
    if (jset(jget(req, "prompt")))
        return prov_fail(err, 400, "prompt",
                         "prompt (a prompt template stored at OpenAI) is not supported for "
                         "non-OpenAI deployments; send its text as instructions and input");
    if (cJSON_IsTrue(jget(req, "background")))
        return prov_fail(err, 400, "background",
                         "background is not supported for non-OpenAI deployments; send the "
                         "request without it (optionally with stream: true)");
    return 0;
}

static int responses_to_chat(const cJSON *req, cJSON **chat_req, prov_error_t *err)
{
    *chat_req = NULL;
    *err = (prov_error_t){0};
    if (!cJSON_IsObject(req))
        return prov_fail(err, 400, NULL, "the request body must be a JSON object");
    if (check_stateless(req, err) != 0)
        return -1;
    cJSON *chat = cJSON_CreateObject();
    conv_t c = {.messages = cJSON_CreateArray(), .err = err};
    if (!chat || !c.messages) {
        cJSON_Delete(chat);
        cJSON_Delete(c.messages);
        return prov_fail(err, 500, NULL, "out of memory");
    }
    const cJSON *model = jget(req, "model");
    if (jset(model))
        cJSON_AddItemToObject(chat, "model", dup(model));
    cJSON_AddItemToObject(chat, "messages", c.messages);

    const cJSON *instructions = jget(req, "instructions"), *input = jget(req, "input");
    if (jset(instructions) && !cJSON_IsString(instructions)) {
        prov_fail(err, 400, "instructions", "instructions must be a string");
        goto fail;
    }
    if (cJSON_IsString(instructions) && instructions->valuestring[0]) {
        cJSON *sys = cJSON_CreateObject();
        cJSON_AddStringToObject(sys, "role", "system");
        cJSON_AddStringToObject(sys, "content", instructions->valuestring);
        cJSON_AddItemToArray(c.messages, sys);
    }
    if (cJSON_IsString(input)) {
        cJSON *user = cJSON_CreateObject();
        cJSON_AddStringToObject(user, "role", "user");
        cJSON_AddStringToObject(user, "content", input->valuestring);
        cJSON_AddItemToArray(c.messages, user);
    } else if (cJSON_IsArray(input)) {
        int i = 0;
        const cJSON *item;
        cJSON_ArrayForEach(item, input)
        {
            if (conv_item(&c, item, i++) != 0)
                goto fail;
        }
        conv_end_run(&c);
    } else if (jset(input)) {
        prov_fail(err, 400, "input", "input must be a string or a list of items");
        goto fail;
    }
    if (cJSON_GetArraySize(c.messages) == 0) {
        prov_fail(err, 400, "input", "input is required: send a string or a list of items");
        goto fail;
    }

    if (conv_tools(req, chat, err) != 0 || conv_tool_choice(req, chat, err) != 0)
        goto fail;
    if (cJSON_IsBool(jget(req, "parallel_tool_calls")))
        cJSON_AddItemToObject(chat, "parallel_tool_calls", dup(jget(req, "parallel_tool_calls")));
    if (copy_number(req, "max_output_tokens", chat, "max_tokens", err) != 0 ||
        copy_number(req, "temperature", chat, "temperature", err) != 0 ||
        copy_number(req, "top_p", chat, "top_p", err) != 0 || conv_text_format(req, chat, err) != 0)
        goto fail;
    const char *effort = jstr(jget(req, "reasoning"), "effort");
    if (effort)
        cJSON_AddStringToObject(chat, "reasoning_effort", effort);
    /* web_search_options went in with the tools; move it after them for a stable order */
    cJSON *wso = cJSON_DetachItemFromObjectCaseSensitive(chat, "web_search_options");
    if (wso)
        cJSON_AddItemToObject(chat, "web_search_options", wso);
    if (jstr(req, "user"))
        cJSON_AddStringToObject(chat, "user", jstr(req, "user"));
    const cJSON *stream = jget(req, "stream");
    if (cJSON_IsBool(stream))
        cJSON_AddBoolToObject(chat, "stream", cJSON_IsTrue(stream));
    if (cJSON_IsTrue(stream)) /* response.completed carries usage: always ask for it */
        cJSON_AddTrueToObject(cJSON_AddObjectToObject(chat, "stream_options"), "include_usage");
    *chat_req = chat;
    return 0;
fail:
    if (!err->status)
        prov_fail(err, 500, NULL, "out of memory");
    cJSON_Delete(chat);
    return -1;
}

/* ---- output items (shared by whole answers and streams) ------------------------------------ */

typedef enum { ITEM_MESSAGE, ITEM_REASONING, ITEM_FUNCTION, ITEM_CUSTOM } item_kind_t;

typedef struct {
    item_kind_t kind;
    int tool_index; /* the chat tool-call index, for tool items */
    bool open;      /* streams: added, not yet done */
    bool incomplete;
    char id[RESP_ID_MAX];
    char *call_id, *name; /* tool items (malloc) */
    buf_t text;           /* message text, reasoning text, or the tool call's arguments */
    buf_t refusal;        /* message refusal (whole answers only) */
} item_t;

typedef struct {
    item_t *v;
    size_t n, cap;
} items_t;

static void items_free(items_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].call_id);
        free(l->v[i].name);
        buf_free(&l->v[i].text);
        buf_free(&l->v[i].refusal);
    }
    free(l->v);
    *l = (items_t){0};
}

/* A new item with its id; NULL when memory runs out or the list is full. `call_id` and `name`
 * are for tool items (a missing call id gets one made from the suffix). */
static item_t *items_add(items_t *l, item_kind_t kind, const char *suffix, const char *call_id,
                         const char *name, int tool_index)
{
    if (l->n >= RESP_MAX_ITEMS)
        return NULL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        item_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    size_t index = l->n;
    item_t *it = &l->v[index];
    *it = (item_t){.kind = kind, .tool_index = tool_index};
    /* one message and one reasoning item have the plain ids; any later ones get the index */
    bool first = true;
    for (size_t i = 0; i < index; i++)
        first = first && l->v[i].kind != kind;
    if (kind == ITEM_MESSAGE || kind == ITEM_REASONING) {
        const char *prefix = kind == ITEM_MESSAGE ? "msg" : "rs";
        if (first)
            snprintf(it->id, sizeof it->id, "%s_%s", prefix, suffix);
        else
            snprintf(it->id, sizeof it->id, "%s_%s_%zu", prefix, suffix, index);
    } else {
        char made[RESP_ID_MAX], clean[RESP_SUFFIX_MAX];
        if (!call_id || !call_id[0]) {
            snprintf(made, sizeof made, "call_%s_%d", suffix, tool_index);
            call_id = made;
        }
        id_clean(has_prefix(call_id, "call_") ? call_id + 5 : call_id, clean, sizeof clean);
        snprintf(it->id, sizeof it->id, "%s_%s", kind == ITEM_CUSTOM ? "ctc" : "fc",
                 clean[0] ? clean : suffix);
        it->call_id = strdup(call_id);
        it->name = strdup(name ? name : "");
        if (!it->call_id || !it->name) {
            free(it->call_id);
            free(it->name);
            return NULL;
        }
    }
    l->n++;
    return it;
}

static const char *buf_text(buf_t *b)
{
    const char *s = buf_cstr(b);
    return s ? s : "";
}

/* A custom tool call's input: the "input" string of its function arguments, else the raw
 * arguments (a model that ignored the wrapper). Caller frees. */
static char *custom_input(const char *args)
{
    cJSON *doc = cJSON_Parse(args);
    const char *in = jstr(doc, "input");
    char *s = strdup(in ? in : args);
    cJSON_Delete(doc);
    return s;
}

static cJSON *text_part(const char *text)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "type", "output_text");
    cJSON_AddArrayToObject(p, "annotations");
    cJSON_AddArrayToObject(p, "logprobs");
    cJSON_AddStringToObject(p, "text", text);
    return p;
}

/* An item as JSON: as added (in progress, empty) or as done. */
static cJSON *item_json(item_t *it, bool done)
{
    const char *status = !done ? "in_progress" : it->incomplete ? "incomplete" : "completed";
    cJSON *o = cJSON_CreateObject();
    switch (it->kind) {
    case ITEM_MESSAGE: {
        cJSON_AddStringToObject(o, "type", "message");
        cJSON_AddStringToObject(o, "id", it->id);
        cJSON_AddStringToObject(o, "status", status);
        cJSON_AddStringToObject(o, "role", "assistant");
        cJSON *content = cJSON_AddArrayToObject(o, "content");
        if (done && (it->text.n || !it->refusal.n))
            cJSON_AddItemToArray(content, text_part(buf_text(&it->text)));
        if (done && it->refusal.n) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "type", "refusal");
            cJSON_AddStringToObject(r, "refusal", buf_text(&it->refusal));
            cJSON_AddItemToArray(content, r);
        }
        break;
    }
    case ITEM_REASONING: {
        cJSON_AddStringToObject(o, "type", "reasoning");
        cJSON_AddStringToObject(o, "id", it->id);
        cJSON *summary = cJSON_AddArrayToObject(o, "summary");
        if (done) {
            cJSON *s = cJSON_CreateObject();
            cJSON_AddStringToObject(s, "type", "summary_text");
            cJSON_AddStringToObject(s, "text", buf_text(&it->text));
            cJSON_AddItemToArray(summary, s);
        }
        break;
    }
    case ITEM_FUNCTION:
        cJSON_AddStringToObject(o, "type", "function_call");
        cJSON_AddStringToObject(o, "id", it->id);
        cJSON_AddStringToObject(o, "call_id", it->call_id);
        cJSON_AddStringToObject(o, "name", it->name);
        cJSON_AddStringToObject(o, "arguments", done ? buf_text(&it->text) : "");
        cJSON_AddStringToObject(o, "status", status);
        break;
    case ITEM_CUSTOM: {
        char *input = done ? custom_input(buf_text(&it->text)) : NULL;
        cJSON_AddStringToObject(o, "type", "custom_tool_call");
        cJSON_AddStringToObject(o, "id", it->id);
        cJSON_AddStringToObject(o, "call_id", it->call_id);
        cJSON_AddStringToObject(o, "name", it->name);
        cJSON_AddStringToObject(o, "input", input ? input : "");
        free(input);
        break;
    }
    }
    return o;
}

static cJSON *items_json(items_t *l)
{
    cJSON *out = cJSON_CreateArray();
    for (size_t i = 0; i < l->n; i++)
        cJSON_AddItemToArray(out, item_json(&l->v[i], true));
    return out;
}

/* Marks the last item incomplete (a response cut short): the one the model was writing. */
static void items_cut_short(items_t *l)
{
    if (l->n && l->v[l->n - 1].kind != ITEM_REASONING)
        l->v[l->n - 1].incomplete = true;
}

/* Whether `name` is one of the client's custom tools (its calls go back as custom_tool_call). */
static bool is_custom_tool(const cJSON *echo, const char *name)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, jget(echo, "tools"))
    {
        if (streq(jstr(t, "type"), "custom") && streq(jstr(t, "name"), name))
            return true;
    }
    return false;
}

/* ---- the Response object ------------------------------------------------------------------- */

/* Chat usage -> Responses usage; NULL when the chat answer had none. */
static cJSON *usage_from_chat(const cJSON *u)
{
    if (!cJSON_IsObject(u))
        return NULL;
    const cJSON *pd = jget(u, "prompt_tokens_details"), *cd = jget(u, "completion_tokens_details");
    double input = jcount(u, "prompt_tokens"), output = jcount(u, "completion_tokens");
    double total =
        cJSON_IsNumber(jget(u, "total_tokens")) ? jcount(u, "total_tokens") : input + output;
    double cache_write = cJSON_IsNumber(jget(pd, "cache_write_tokens"))
                             ? jcount(pd, "cache_write_tokens")
                             : jcount(u, "cache_creation_input_tokens");
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "input_tokens", input);
    cJSON *id = cJSON_AddObjectToObject(r, "input_tokens_details");
    cJSON_AddNumberToObject(id, "cached_tokens", jcount(pd, "cached_tokens"));
    cJSON_AddNumberToObject(id, "cache_write_tokens", cache_write);
    cJSON_AddNumberToObject(r, "output_tokens", output);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(r, "output_tokens_details"), "reasoning_tokens",
                            jcount(cd, "reasoning_tokens"));
    cJSON_AddNumberToObject(r, "total_tokens", total);
    return r;
}

/* The request fields a Response echoes; a stream keeps a copy of just these. */
static const char *const echo_keys[] = {"instructions",
                                        "max_output_tokens",
                                        "parallel_tool_calls",
                                        "reasoning",
                                        "temperature",
                                        "text",
                                        "tool_choice",
                                        "tools",
                                        "top_p",
                                        "truncation",
                                        "user",
                                        "metadata"};

static cJSON *echo_copy(const cJSON *req)
{
    cJSON *e = cJSON_CreateObject();
    for (size_t k = 0; e && k < sizeof echo_keys / sizeof echo_keys[0]; k++) {
        const cJSON *v = jget(req, echo_keys[k]);
        if (v)
            cJSON_AddItemToObject(e, echo_keys[k], dup(v));
    }
    return e;
}

static void add_number_or(cJSON *o, const char *key, const cJSON *v, double fallback)
{
    cJSON_AddNumberToObject(o, key, cJSON_IsNumber(v) ? v->valuedouble : fallback);
}

/* The request's tools as a Response lists them: function tools with description, parameters
 * and strict always present (null when the client left them out), as the spec requires. */
static cJSON *echo_tools(const cJSON *tools)
{
    static const char *const keys[] = {"description", "parameters", "strict"};
    cJSON *out = cJSON_IsArray(tools) ? dup(tools) : cJSON_CreateArray();
    cJSON *t;
    cJSON_ArrayForEach(t, out)
    {
        if (!streq(jstr(t, "type"), "function"))
            continue;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (!cJSON_GetObjectItemCaseSensitive(t, keys[k]))
                cJSON_AddNullToObject(t, keys[k]);
    }
    return out;
}

typedef struct {
    const cJSON *echo; /* the client's request, or a stream's echo_copy of it */
    const char *model, *id;
    double created_at;
    const char *status;     /* in_progress, completed, incomplete, failed */
    const char *incomplete; /* incomplete_details.reason, or NULL */
    cJSON *error;           /* owned; NULL gives null */
    cJSON *output;          /* owned; NULL gives [] */
    cJSON *usage;           /* owned; NULL gives null */
} resp_t;

/* A Response object in OpenAI's field order; the request's settings echoed, defaults where the
 * client sent none. */
static cJSON *resp_build(resp_t *p)
{
    const cJSON *echo = p->echo, *v;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "id", p->id);
    cJSON_AddStringToObject(r, "object", "response");
    cJSON_AddNumberToObject(r, "created_at", p->created_at);
    cJSON_AddStringToObject(r, "status", p->status);
    cJSON_AddFalseToObject(r, "background");
    if (streq(p->status, "completed"))
        cJSON_AddNumberToObject(r, "completed_at", (double)time(NULL));
    else
        cJSON_AddNullToObject(r, "completed_at");
    cJSON_AddItemToObject(r, "error", p->error ? p->error : cJSON_CreateNull());
    if (p->incomplete)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "incomplete_details"), "reason",
                                p->incomplete);
    else
        cJSON_AddNullToObject(r, "incomplete_details");
    v = jget(echo, "instructions");
    cJSON_AddItemToObject(r, "instructions", cJSON_IsString(v) ? dup(v) : cJSON_CreateNull());
    v = jget(echo, "max_output_tokens");
    cJSON_AddItemToObject(r, "max_output_tokens", cJSON_IsNumber(v) ? dup(v) : cJSON_CreateNull());
    cJSON_AddStringToObject(r, "model", p->model);
    cJSON_AddItemToObject(r, "output", p->output ? p->output : cJSON_CreateArray());
    v = jget(echo, "parallel_tool_calls");
    cJSON_AddBoolToObject(r, "parallel_tool_calls", cJSON_IsBool(v) ? cJSON_IsTrue(v) : true);
    cJSON_AddNullToObject(r, "previous_response_id");
    v = jget(echo, "reasoning");
    cJSON *reasoning = cJSON_AddObjectToObject(r, "reasoning");
    const char *effort = jstr(v, "effort"), *summary = jstr(v, "summary");
    cJSON_AddItemToObject(reasoning, "effort",
                          effort ? cJSON_CreateString(effort) : cJSON_CreateNull());
    cJSON_AddItemToObject(reasoning, "summary",
                          summary ? cJSON_CreateString(summary) : cJSON_CreateNull());
    cJSON_AddFalseToObject(r,
                           "store"); /* nothing is stored: GET /responses/{id} will not find it */
    add_number_or(r, "temperature", jget(echo, "temperature"), 1);
    v = jget(echo, "text");
    cJSON *text = cJSON_IsObject(v) ? dup(v) : cJSON_CreateObject();
    if (text && !cJSON_IsObject(jget(text, "format"))) {
        cJSON_DeleteItemFromObjectCaseSensitive(text, "format");
        cJSON_AddStringToObject(cJSON_AddObjectToObject(text, "format"), "type", "text");
    }
    cJSON_AddItemToObject(r, "text", text);
    v = jget(echo, "tool_choice");
    cJSON_AddItemToObject(r, "tool_choice",
                          cJSON_IsString(v) || cJSON_IsObject(v) ? dup(v)
                                                                 : cJSON_CreateString("auto"));
    cJSON_AddItemToObject(r, "tools", echo_tools(jget(echo, "tools")));
    add_number_or(r, "top_p", jget(echo, "top_p"), 1);
    v = jget(echo, "truncation");
    cJSON_AddStringToObject(r, "truncation", cJSON_IsString(v) ? v->valuestring : "disabled");
    cJSON_AddItemToObject(r, "usage", p->usage ? p->usage : cJSON_CreateNull());
    if (jstr(echo, "user"))
        cJSON_AddStringToObject(r, "user", jstr(echo, "user"));
    v = jget(echo, "metadata");
    cJSON_AddItemToObject(r, "metadata", cJSON_IsObject(v) ? dup(v) : cJSON_CreateObject());
    p->error = p->output = p->usage = NULL;
    return r;
}

/* status and incomplete_details.reason for a chat finish_reason */
static const char *finish_status(const char *finish_reason, const char **incomplete)
{
    *incomplete = streq(finish_reason, "length")           ? "max_output_tokens"
                  : streq(finish_reason, "content_filter") ? "content_filter"
                                                           : NULL;
    return *incomplete ? "incomplete" : "completed";
}

static int print_to(cJSON *doc, buf_t *out)
{
    char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
    int rc = text ? buf_append_cstr(out, text) : -1;
    free(text);
    cJSON_Delete(doc);
    return rc;
}

static const char *model_name(str_t model, const char *fallback, char *buf, size_t n)
{
    if (model.n) {
        snprintf(buf, n, "%.*s", STR_FMT(model));
        return buf;
    }
    return fallback ? fallback : "";
}

/* Text of a chat message's content: a string, or the text of a list of parts. */
static int chat_content_text(const cJSON *content, buf_t *out)
{
    if (cJSON_IsString(content))
        return buf_append_cstr(out, content->valuestring);
    const cJSON *part;
    cJSON_ArrayForEach(part, (cJSON_IsArray(content) ? content : NULL))
    {
        if (jstr(part, "text") && buf_append_cstr(out, jstr(part, "text")) != 0)
            return -1;
    }
    return 0;
}

static int responses_from_chat(const cJSON *chat, const cJSON *client_req, str_t model, buf_t *out)
{
    const cJSON *choice = cJSON_GetArrayItem(jget(chat, "choices"), 0);
    const cJSON *msg = jget(choice, "message");
    const char *reasoning =
        jstr(msg, "reasoning_content") ? jstr(msg, "reasoning_content") : jstr(msg, "reasoning");
    const cJSON *calls = jget(msg, "tool_calls");
    char suffix[RESP_SUFFIX_MAX], id[RESP_ID_MAX], mbuf[256];
    ids_suffix(jstr(chat, "id"), suffix);
    snprintf(id, sizeof id, "resp_%s", suffix);
    items_t items = {0};
    item_t *it;
    int rc = -1;

    if (reasoning && reasoning[0]) {
        if (!(it = items_add(&items, ITEM_REASONING, suffix, NULL, NULL, -1)) ||
            buf_append_cstr(&it->text, reasoning) != 0)
            goto done;
    }
    buf_t text = {0};
    if (chat_content_text(jget(msg, "content"), &text) != 0) {
        buf_free(&text);
        goto done;
    }
    const char *refusal = jstr(msg, "refusal");
    /* a message item for any text, and an empty one when there is nothing else to show */
    if (text.n || (refusal && refusal[0]) || cJSON_GetArraySize(calls) == 0) {
        if (!(it = items_add(&items, ITEM_MESSAGE, suffix, NULL, NULL, -1))) {
            buf_free(&text);
            goto done;
        }
        it->text = text;
        if (refusal && buf_append_cstr(&it->refusal, refusal) != 0)
            goto done;
    } else {
        buf_free(&text);
    }
    int k = 0;
    const cJSON *tc;
    cJSON_ArrayForEach(tc, (cJSON_IsArray(calls) ? calls : NULL))
    {
        const cJSON *fn = jget(tc, "function");
        const char *name = jstr(fn, "name"), *args = jstr(fn, "arguments");
        item_kind_t kind = is_custom_tool(client_req, name) ? ITEM_CUSTOM : ITEM_FUNCTION;
        if (!(it = items_add(&items, kind, suffix, jstr(tc, "id"), name, k++)) ||
            buf_append_cstr(&it->text, args ? args : "") != 0)
            goto done;
    }

    const char *incomplete, *status = finish_status(jstr(choice, "finish_reason"), &incomplete);
    if (incomplete)
        items_cut_short(&items);
    const cJSON *created = jget(chat, "created");
    resp_t r = {
        .echo = client_req,
        .model = model_name(model, jstr(chat, "model"), mbuf, sizeof mbuf),
        .id = id,
        .created_at = cJSON_IsNumber(created) ? created->valuedouble : (double)time(NULL),
        .status = status,
        .incomplete = incomplete,
        .output = items_json(&items),
        .usage = usage_from_chat(jget(chat, "usage")),
    };
    rc = print_to(resp_build(&r), out);
done:
    items_free(&items);
    return rc;
}

/* ---- streams ----------------------------------------------------------------------------- */

struct api_stream_enc {
    cJSON *echo; /* the request fields the Response echoes */
    char *model; /* what the client asked for; may be "" until the first chunk names one */
    char suffix[RESP_SUFFIX_MAX];
    char id[RESP_ID_MAX];
    double created_at;
    long long seq;          /* the next event's sequence_number */
    bool started;           /* response.created is out */
    bool finished;          /* the final event is out: nothing more is written */
    bool oom;               /* an append failed: the stream is broken */
    char finish[32];        /* the chat finish_reason, once one came */
    int message, reasoning; /* index of the open message / reasoning item, or -1 */
    items_t items;
    cJSON *usage; /* the last chat usage seen */
};

static void put(api_stream_enc_t *e, int rc)
{
    if (rc != 0)
        e->oom = true;
}

/* "event: T\ndata: {"type":"T","sequence_number":N" ... ev_end closes it. */
static void ev_begin(api_stream_enc_t *e, buf_t *out, const char *type)
{
    put(e, buf_printf(out, "event: %s\ndata: {\"type\":\"%s\",\"sequence_number\":%lld", type, type,
                      e->seq++));
}

static void ev_raw(api_stream_enc_t *e, buf_t *out, const char *s)
{
    put(e, buf_append_cstr(out, s));
}

static void ev_str(api_stream_enc_t *e, buf_t *out, const char *key, const char *s, size_t n)
{
    put(e, buf_printf(out, ",\"%s\":", key));
    put(e, buf_append_json_string(out, str_make(s, n)));
}

static void ev_int(api_stream_enc_t *e, buf_t *out, const char *key, long long v)
{
    put(e, buf_printf(out, ",\"%s\":%lld", key, v));
}

/* Appends ,"key":<doc> and frees doc. */
static void ev_json(api_stream_enc_t *e, buf_t *out, const char *key, cJSON *doc)
{
    char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!text) {
        e->oom = true;
        return;
    }
    put(e, buf_printf(out, ",\"%s\":", key));
    put(e, buf_append_cstr(out, text));
    free(text);
}

static void ev_end(api_stream_enc_t *e, buf_t *out)
{
    put(e, buf_append(out, "}\n\n", 3));
}

/* item_id, output_index (and content_index / summary_index) of an item's part events */
static void ev_item(api_stream_enc_t *e, buf_t *out, size_t index, const char *part_key)
{
    item_t *it = &e->items.v[index];
    ev_str(e, out, "item_id", it->id, strlen(it->id));
    ev_int(e, out, "output_index", (long long)index);
    if (part_key)
        ev_int(e, out, part_key, 0);
}

static cJSON *stream_resp(api_stream_enc_t *e, const char *status, const char *incomplete,
                          cJSON *error, bool with_items)
{
    resp_t r = {
        .echo = e->echo,
        .model = e->model,
        .id = e->id,
        .created_at = e->created_at,
        .status = status,
        .incomplete = incomplete,
        .error = error,
        .output = with_items ? items_json(&e->items) : NULL,
        .usage = with_items ? usage_from_chat(e->usage) : NULL,
    };
    return resp_build(&r);
}

/* response.created and response.in_progress, before anything else; ids and created_at come
 * from the first chunk (chunk may be NULL when the stream fails or ends before one came). */
static void stream_begin(api_stream_enc_t *e, const cJSON *chunk, buf_t *out)
{
    if (e->started)
        return;
    e->started = true;
    ids_suffix(jstr(chunk, "id"), e->suffix);
    snprintf(e->id, sizeof e->id, "resp_%s", e->suffix);
    const cJSON *created = jget(chunk, "created");
    e->created_at = cJSON_IsNumber(created) ? created->valuedouble : (double)time(NULL);
    if (!e->model[0] && jstr(chunk, "model")) {
        char *m = strdup(jstr(chunk, "model"));
        if (m) {
            free(e->model);
            e->model = m;
        }
    }
    static const char *const first[] = {"response.created", "response.in_progress"};
    for (size_t k = 0; k < 2; k++) {
        ev_begin(e, out, first[k]);
        ev_json(e, out, "response", stream_resp(e, "in_progress", NULL, NULL, false));
        ev_end(e, out);
    }
}

/* Opens an item: output_item.added, and the first content part of a message or reasoning. */
static item_t *stream_open(api_stream_enc_t *e, item_kind_t kind, const char *call_id,
                           const char *name, int tool_index, buf_t *out)
{
    item_t *it = items_add(&e->items, kind, e->suffix, call_id, name, tool_index);
    if (!it) {
        e->oom = true;
        return NULL;
    }
    size_t index = e->items.n - 1;
    it->open = true;
    ev_begin(e, out, "response.output_item.added");
    ev_int(e, out, "output_index", (long long)index);
    ev_json(e, out, "item", item_json(it, false));
    ev_end(e, out);
    if (kind == ITEM_MESSAGE) {
        e->message = (int)index;
        ev_begin(e, out, "response.content_part.added");
        ev_item(e, out, index, "content_index");
        ev_raw(e, out,
               ",\"part\":{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],"
               "\"text\":\"\"}");
        ev_end(e, out);
    } else if (kind == ITEM_REASONING) {
        e->reasoning = (int)index;
        ev_begin(e, out, "response.reasoning_summary_part.added");
        ev_item(e, out, index, "summary_index");
        ev_raw(e, out, ",\"part\":{\"type\":\"summary_text\",\"text\":\"\"}");
        ev_end(e, out);
    }
    return it;
}

/* Closes an open item: its .done events, then output_item.done with the whole item. */
static void stream_close(api_stream_enc_t *e, size_t index, buf_t *out)
{
    item_t *it = &e->items.v[index];
    if (!it->open)
        return;
    it->open = false;
    const char *text = buf_text(&it->text);
    switch (it->kind) {
    case ITEM_MESSAGE:
        e->message = -1;
        ev_begin(e, out, "response.output_text.done");
        ev_item(e, out, index, "content_index");
        ev_str(e, out, "text", text, it->text.n);
        ev_raw(e, out, ",\"logprobs\":[]");
        ev_end(e, out);
        ev_begin(e, out, "response.content_part.done");
        ev_item(e, out, index, "content_index");
        ev_json(e, out, "part", text_part(text));
        ev_end(e, out);
        break;
    case ITEM_REASONING:
        e->reasoning = -1;
        ev_begin(e, out, "response.reasoning_summary_text.done");
        ev_item(e, out, index, "summary_index");
        ev_str(e, out, "text", text, it->text.n);
        ev_end(e, out);
        ev_begin(e, out, "response.reasoning_summary_part.done");
        ev_item(e, out, index, "summary_index");
        ev_raw(e, out, ",\"part\":{\"type\":\"summary_text\",\"text\":");
        put(e, buf_append_json_string(out, str_make(text, it->text.n)));
        ev_raw(e, out, "}");
        ev_end(e, out);
        break;
    case ITEM_FUNCTION:
        ev_begin(e, out, "response.function_call_arguments.done");
        ev_item(e, out, index, NULL);
        ev_str(e, out, "name", it->name, strlen(it->name));
        ev_str(e, out, "arguments", text, it->text.n);
        ev_end(e, out);
        break;
    case ITEM_CUSTOM: {
        /* the input is known only whole: the wrapper's JSON cannot be unwrapped piecemeal */
        char *input = custom_input(text);
        if (!input) {
            e->oom = true;
            break;
        }
        if (input[0]) {
            ev_begin(e, out, "response.custom_tool_call_input.delta");
            ev_item(e, out, index, NULL);
            ev_str(e, out, "delta", input, strlen(input));
            ev_end(e, out);
        }
        ev_begin(e, out, "response.custom_tool_call_input.done");
        ev_item(e, out, index, NULL);
        ev_str(e, out, "input", input, strlen(input));
        ev_end(e, out);
        free(input);
        break;
    }
    }
    ev_begin(e, out, "response.output_item.done");
    ev_int(e, out, "output_index", (long long)index);
    ev_json(e, out, "item", item_json(it, true));
    ev_end(e, out);
}

static void stream_close_text(api_stream_enc_t *e, buf_t *out)
{
    if (e->message >= 0)
        stream_close(e, (size_t)e->message, out);
    if (e->reasoning >= 0)
        stream_close(e, (size_t)e->reasoning, out);
}

static void stream_reasoning(api_stream_enc_t *e, const char *delta, buf_t *out)
{
    if (e->message >= 0)
        stream_close(e, (size_t)e->message, out);
    if (e->reasoning < 0 && !stream_open(e, ITEM_REASONING, NULL, NULL, -1, out))
        return;
    size_t index = (size_t)e->reasoning;
    put(e, buf_append_cstr(&e->items.v[index].text, delta));
    ev_begin(e, out, "response.reasoning_summary_text.delta");
    ev_item(e, out, index, "summary_index");
    ev_str(e, out, "delta", delta, strlen(delta));
    ev_end(e, out);
}

static void stream_text(api_stream_enc_t *e, const char *delta, buf_t *out)
{
    if (e->reasoning >= 0)
        stream_close(e, (size_t)e->reasoning, out);
    if (e->message < 0 && !stream_open(e, ITEM_MESSAGE, NULL, NULL, -1, out))
        return;
    size_t index = (size_t)e->message;
    put(e, buf_append_cstr(&e->items.v[index].text, delta));
    ev_begin(e, out, "response.output_text.delta");
    ev_item(e, out, index, "content_index");
    ev_str(e, out, "delta", delta, strlen(delta));
    ev_raw(e, out, ",\"logprobs\":[]");
    ev_end(e, out);
}

/* One tool-call delta. Calls stay open until the stream ends, so arguments that a provider
 * interleaves between parallel calls still reach the right item. */
static void stream_tool(api_stream_enc_t *e, const cJSON *tc, int position, buf_t *out)
{
    const cJSON *iv = jget(tc, "index"), *fn = jget(tc, "function");
    int k = cJSON_IsNumber(iv) && iv->valuedouble >= 0 && iv->valuedouble < 1e6
                ? (int)iv->valuedouble
                : position;
    const char *name = jstr(fn, "name"), *args = jstr(fn, "arguments");
    item_t *it = NULL;
    size_t index = 0;
    for (size_t i = 0; i < e->items.n && !it; i++)
        if ((e->items.v[i].kind == ITEM_FUNCTION || e->items.v[i].kind == ITEM_CUSTOM) &&
            e->items.v[i].tool_index == k) {
            it = &e->items.v[i];
            index = i;
        }
    if (!it) {
        stream_close_text(e, out);
        item_kind_t kind = is_custom_tool(e->echo, name) ? ITEM_CUSTOM : ITEM_FUNCTION;
        if (!(it = stream_open(e, kind, jstr(tc, "id"), name, k, out)))
            return;
        index = e->items.n - 1;
    } else if (!it->name[0] && name && name[0]) {
        char *n = strdup(name);
        if (!n) {
            e->oom = true;
            return;
        }
        free(it->name);
        it->name = n;
    }
    if (!args || !args[0])
        return;
    put(e, buf_append_cstr(&it->text, args));
    if (it->open && it->kind == ITEM_FUNCTION) {
        ev_begin(e, out, "response.function_call_arguments.delta");
        ev_item(e, out, index, NULL);
        ev_str(e, out, "delta", args, strlen(args));
        ev_end(e, out);
    }
}

static api_stream_enc_t *responses_stream_new(const cJSON *client_req, str_t model)
{
    api_stream_enc_t *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->echo = echo_copy(client_req);
    e->model = strndup(model.p ? model.p : "", model.n);
    e->message = e->reasoning = -1;
    if (!e->echo || !e->model) {
        cJSON_Delete(e->echo);
        free(e->model);
        free(e);
        return NULL;
    }
    return e;
}

static int responses_stream_chunk(api_stream_enc_t *e, const cJSON *chunk, buf_t *out)
{
    if (!e)
        return -1;
    if (e->finished)
        return 0;
    stream_begin(e, chunk, out);
    const cJSON *usage = jget(chunk, "usage");
    if (cJSON_IsObject(usage)) {
        cJSON_Delete(e->usage);
        e->usage = dup(usage);
    }
    const cJSON *choice = NULL, *c;
    cJSON_ArrayForEach(c, jget(chunk, "choices"))
    {
        const cJSON *index = jget(c, "index");
        if (!choice && cJSON_IsObject(c) &&
            (!index || (cJSON_IsNumber(index) && index->valuedouble == 0)))
            choice = c;
    }
    if (!choice || e->finish[0]) /* after the finish_reason only usage is taken */
        return e->oom ? -1 : 0;
    const cJSON *delta = jget(choice, "delta");
    const char *reasoning = jstr(delta, "reasoning_content") ? jstr(delta, "reasoning_content")
                                                             : jstr(delta, "reasoning");
    const char *text = jstr(delta, "content");
    if (reasoning && reasoning[0])
        stream_reasoning(e, reasoning, out);
    if (text && text[0])
        stream_text(e, text, out);
    int position = 0;
    const cJSON *tc, *calls = jget(delta, "tool_calls");
    cJSON_ArrayForEach(tc, (cJSON_IsArray(calls) ? calls : NULL))
    {
        if (cJSON_IsObject(tc))
            stream_tool(e, tc, position, out);
        position++;
    }
    const char *finish = jstr(choice, "finish_reason");
    if (finish)
        snprintf(e->finish, sizeof e->finish, "%s", finish[0] ? finish : "stop");
    return e->oom ? -1 : 0;
}

/* Closes every item, then response.completed (or response.incomplete, as OpenAI sends when the
 * output was cut short) with the whole Response and its usage. */
static int responses_stream_end(api_stream_enc_t *e, buf_t *out)
{
    if (!e)
        return -1;
    if (e->finished)
        return 0;
    stream_begin(e, NULL, out);
    bool answered = false;
    for (size_t i = 0; i < e->items.n; i++)
        answered = answered || e->items.v[i].kind != ITEM_REASONING;
    if (!answered) { /* an empty answer still gets its (empty) message, as whole answers do */
        stream_close_text(e, out);
        stream_open(e, ITEM_MESSAGE, NULL, NULL, -1, out);
    }
    const char *incomplete, *status = finish_status(e->finish, &incomplete);
    if (incomplete)
        items_cut_short(&e->items);
    for (size_t i = 0; i < e->items.n; i++)
        stream_close(e, i, out);
    ev_begin(e, out, incomplete ? "response.incomplete" : "response.completed");
    ev_json(e, out, "response", stream_resp(e, status, incomplete, NULL, true));
    ev_end(e, out);
    e->finished = true;
    return e->oom ? -1 : 0;
}

/* The Responses error code for a gateway status (the spec's codes, as Codex reads them:
 * rate_limit_exceeded and server_error are retried, invalid_prompt is not). */
static const char *error_code(int status)
{
    return status == 429                   ? "rate_limit_exceeded"
           : status >= 400 && status < 500 ? "invalid_prompt"
                                           : "server_error";
}

/* An `error` event (SDKs raise on it) and then `response.failed` with the output so far (the
 * event that ends a Responses stream, and the one Codex reads). */
static void responses_stream_error(api_stream_enc_t *e, int status, const char *message, buf_t *out)
{
    if (!e || e->finished)
        return;
    stream_begin(e, NULL, out);
    const char *code = error_code(status);
    if (!message)
        message = "the stream failed";
    ev_begin(e, out, "error");
    ev_str(e, out, "code", code, strlen(code));
    ev_str(e, out, "message", message, strlen(message));
    ev_raw(e, out, ",\"param\":null");
    ev_end(e, out);
    for (size_t i = 0; i < e->items.n; i++)
        if (e->items.v[i].open)
            e->items.v[i].incomplete = true;
    cJSON *error = cJSON_CreateObject();
    cJSON_AddStringToObject(error, "code", code);
    cJSON_AddStringToObject(error, "message", message);
    ev_begin(e, out, "response.failed");
    ev_json(e, out, "response", stream_resp(e, "failed", NULL, error, true));
    ev_end(e, out);
    e->finished = true;
}

static void responses_stream_free(api_stream_enc_t *e)
{
    if (!e)
        return;
    cJSON_Delete(e->echo);
    cJSON_Delete(e->usage);
    free(e->model);
    items_free(&e->items);
    free(e);
}

/* OpenAI's envelope, with the status as a string code, as LiteLLM sends it. */
static void responses_error_body(int status, const char *type, const char *message, buf_t *out)
{
    buf_append_cstr(out, "{\"error\":{\"message\":");
    buf_append_json_string(out, str_cstr(message ? message : ""));
    buf_append_cstr(out, ",\"type\":");
    buf_append_json_string(out, str_cstr(type ? type : "internal_server_error"));
    buf_printf(out, ",\"param\":null,\"code\":\"%d\"}}", status);
}

const api_format_t api_format_responses = {
    .name = "responses",
    .to_chat = responses_to_chat,
    .from_chat = responses_from_chat,
    .stream_new = responses_stream_new,
    .stream_chunk = responses_stream_chunk,
    .stream_end = responses_stream_end,
    .stream_error = responses_stream_error,
    .stream_free = responses_stream_free,
    .error_body = responses_error_body,
};
