/* SPDX-License-Identifier: MIT
 * ollama (POST /api/generate with a prompt built from the messages, as LiteLLM's ollama_pt) and
 * ollama_chat (POST /api/chat with messages, tools and images): OpenAI chat <-> Ollama's native
 * API, and embeddings through /api/embed. Ollama streams NDJSON (one JSON object per line);
 * lines are split here, whatever the read boundaries, and turned into OpenAI chunks. Ollama
 * gives tool calls no ids, so ids are minted; it cannot fetch image URLs for us, so images must
 * be data: URLs (or bare base64). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "providers/adapter.h"

#define OLLAMA_MAX_HEADERS 40
#define OLLAMA_MAX_LINE (8u << 20) /* one NDJSON line; longer streams are rejected */

/* ---- small helpers ----------------------------------------------------------------------- */

static long long ollama_count(const cJSON *obj, const char *name)
{
    const cJSON *v = prov_json_get(obj, name);
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0))
        return 0;
    return v->valuedouble < 1e15 ? (long long)v->valuedouble : 1000000000000000LL; /* no UB */
}

/* {base}{path} unless the base already ends with it. */
static const char *ollama_url(const prov_ctx_t *ctx, const char *path)
{
    const char *base = ctx->api_base
                           ? ctx->api_base
                           : (ctx->prov && ctx->prov->default_base ? ctx->prov->default_base
                                                                   : "http://localhost:11434");
    size_t n = strlen(base), p = strlen(path);
    while (n && base[n - 1] == '/')
        n--;
    if (n >= p && memcmp(base + n - p, path, p) == 0)
        return arena_printf(ctx->arena, "%.*s", (int)n, base);
    return arena_printf(ctx->arena, "%.*s%s", (int)n, base, path);
}

/* Ollama needs no key; one set (Ollama's cloud, a proxy in front) goes as Bearer. */
static const char **ollama_headers(const prov_ctx_t *ctx)
{
    const char *lines[OLLAMA_MAX_HEADERS];
    size_t n = 0;
    lines[n++] = "Content-Type: application/json";
    if (ctx->api_key && *ctx->api_key)
        lines[n++] = arena_printf(ctx->arena, "Authorization: Bearer %s", ctx->api_key);
    n += prov_extra_headers(ctx, lines + n, OLLAMA_MAX_HEADERS - n);
    return prov_headers(ctx->arena, lines, n);
}

static int ollama_print(cJSON *root, buf_t *out, prov_error_t *err)
{
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    int rc = text ? buf_append_cstr(out, text) : -1;
    free(text);
    return rc == 0 ? 0 : prov_fail(err, 500, NULL, "ollama: out of memory");
}

/* "call_" + 24 random alphanumerics (Ollama's tool calls carry no id). */
static void ollama_call_id(char out[40])
{
    char tmp[40];
    prov_new_id(tmp); /* "chatcmpl-" + 24 */
    memcpy(out, "call_", 5);
    memcpy(out + 5, tmp + 9, 25);
}

/* ---- request parts ----------------------------------------------------------------------- */

/* An image_url part's URL -> the bare base64 Ollama takes. NULL (err set) for remote URLs. */
static const char *ollama_image(const char *url, prov_error_t *err)
{
    if (strncmp(url, "data:", 5) == 0) {
        const char *b64 = strstr(url, ";base64,");
        if (!b64) {
            prov_fail(err, 400, "messages", "ollama: image data URLs must be base64 encoded");
            return NULL;
        }
        return b64 + 8;
    }
    if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) {
        prov_fail(err, 400, "messages",
                  "ollama: image URLs are not fetched; send the image as a data: URL "
                  "(data:image/png;base64,...)");
        return NULL;
    }
    return url; /* already bare base64 */
}

/* Text of a message's content (string, or the text parts joined) into `text`; image parts'
 * base64 appended to `images` when it is not NULL. -1 with err set on a bad part. */
static int ollama_flatten(const cJSON *content, buf_t *text, cJSON *images, prov_error_t *err)
{
    if (!content || cJSON_IsNull(content))
        return 0;
    if (cJSON_IsString(content))
        return buf_append_cstr(text, content->valuestring) == 0
                   ? 0
                   : prov_fail(err, 500, NULL, "ollama: out of memory");
    if (!cJSON_IsArray(content))
        return prov_fail(err, 400, "messages",
                         "ollama: message content must be a string or an array of parts");
    for (const cJSON *p = content->child; p; p = p->next) {
        const char *type = prov_json_string(p, "type");
        if (type && strcmp(type, "text") == 0) {
            const char *t = prov_json_string(p, "text");
            if (t)
                buf_append_cstr(text, t);
        } else if (type && strcmp(type, "image_url") == 0 && images) {
            const cJSON *iu = prov_json_get(p, "image_url");
            const char *url = cJSON_IsString(iu) ? iu->valuestring : prov_json_string(iu, "url");
            if (!url)
                return prov_fail(err, 400, "messages", "ollama: image_url part without a url");
            const char *b64 = ollama_image(url, err);
            if (!b64)
                return -1;
            cJSON_AddItemToArray(images, cJSON_CreateString(b64));
        }
        /* other part types (and images where none are taken) carry nothing Ollama reads */
    }
    return 0;
}

/* options{} and the top-level format / keep_alive / think from the OpenAI parameters, as
 * LiteLLM's Ollama configs map them. */
static int ollama_options(const cJSON *req, cJSON *root, prov_error_t *err)
{
    cJSON *opts = cJSON_CreateObject();
    static const struct {
        const char *from, *to;
    } nums[] = {{"temperature", "temperature"},
                {"top_p", "top_p"},
                {"top_k", "top_k"},
                {"max_tokens", "num_predict"},
                {"max_completion_tokens", "num_predict"},
                {"seed", "seed"},
                {"frequency_penalty", "repeat_penalty"},
                {"repeat_penalty", "repeat_penalty"},
                {"num_ctx", "num_ctx"}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        const cJSON *v = prov_json_param(req, nums[i].from);
        if (!v)
            continue;
        if (!cJSON_IsNumber(v)) {
            cJSON_Delete(opts);
            return prov_fail(err, 400, nums[i].from, "ollama: '%s' must be a number", nums[i].from);
        }
        cJSON_DeleteItemFromObjectCaseSensitive(opts, nums[i].to);
        cJSON_AddNumberToObject(opts, nums[i].to, v->valuedouble);
    }
    const cJSON *stop = prov_json_param(req, "stop");
    if (cJSON_IsString(stop)) {
        cJSON_AddItemToArray(cJSON_AddArrayToObject(opts, "stop"),
                             cJSON_CreateString(stop->valuestring));
    } else if (cJSON_IsArray(stop)) {
        cJSON_AddItemToObject(opts, "stop", cJSON_Duplicate(stop, 1));
    } else if (stop) {
        cJSON_Delete(opts);
        return prov_fail(err, 400, "stop", "ollama: 'stop' must be a string or an array");
    }
    cJSON_AddItemToObject(root, "options", opts);

    const cJSON *rf = prov_json_param(req, "response_format");
    const char *rf_type = prov_json_string(rf, "type");
    if (rf_type && strcmp(rf_type, "json_object") == 0) {
        cJSON_AddStringToObject(root, "format", "json");
    } else if (rf_type && strcmp(rf_type, "json_schema") == 0) {
        const cJSON *schema = prov_json_param(prov_json_get(rf, "json_schema"), "schema");
        if (schema)
            cJSON_AddItemToObject(root, "format", cJSON_Duplicate(schema, 1));
        else
            cJSON_AddStringToObject(root, "format", "json");
    } else if (rf && (!rf_type || strcmp(rf_type, "text") != 0)) {
        return prov_fail(err, 400, "response_format",
                         "ollama: response_format type must be text, json_object or json_schema");
    }
    const cJSON *keep = prov_json_param(req, "keep_alive");
    if (keep)
        cJSON_AddItemToObject(root, "keep_alive", cJSON_Duplicate(keep, 1));
    const cJSON *effort = prov_json_param(req, "reasoning_effort");
    if (cJSON_IsString(effort))
        cJSON_AddBoolToObject(root, "think", strcmp(effort->valuestring, "none") != 0);
    return 0;
}

static const char *const ollama_generate_supported[] = {"temperature",
                                                        "top_p",
                                                        "top_k",
                                                        "max_tokens",
                                                        "max_completion_tokens",
                                                        "seed",
                                                        "frequency_penalty",
                                                        "repeat_penalty",
                                                        "num_ctx",
                                                        "stop",
                                                        "response_format",
                                                        "keep_alive",
                                                        "reasoning_effort",
                                                        "n",
                                                        "user",
                                                        NULL};

static const char *const ollama_chat_supported[] = {"temperature",
                                                    "top_p",
                                                    "top_k",
                                                    "max_tokens",
                                                    "max_completion_tokens",
                                                    "seed",
                                                    "frequency_penalty",
                                                    "repeat_penalty",
                                                    "num_ctx",
                                                    "stop",
                                                    "response_format",
                                                    "keep_alive",
                                                    "reasoning_effort",
                                                    "tools",
                                                    "tool_choice",
                                                    "parallel_tool_calls",
                                                    "n",
                                                    "user",
                                                    NULL};

static int ollama_check_n(const cJSON *req, prov_error_t *err)
{
    const cJSON *n = prov_json_param(req, "n");
    if (n && (!cJSON_IsNumber(n) || n->valuedouble != 1))
        return prov_fail(err, 400, "n", "ollama: one choice per request; 'n' must be 1");
    return 0;
}

static char *ollama_model(const prov_ctx_t *ctx)
{
    return arena_strndup(ctx->arena, ctx->model.p ? ctx->model.p : "", ctx->model.n);
}

/* ---- ollama (/api/generate) --------------------------------------------------------------- */

/* Appends v as Python's json.dumps(v, indent=2) writes it (ensure_ascii: non-ASCII as \uXXXX),
 * so prompts carry tool calls byte for byte as LiteLLM's do. */
static void ollama_pyjson_string(buf_t *b, const char *s)
{
    buf_append(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        unsigned cp = c;
        int len = 1;
        if (c >= 0xf0 && p[1] && p[2] && p[3])
            cp = (c & 7u) << 18 | (p[1] & 63u) << 12 | (p[2] & 63u) << 6 | (p[3] & 63u), len = 4;
        else if (c >= 0xe0 && p[1] && p[2])
            cp = (c & 15u) << 12 | (p[1] & 63u) << 6 | (p[2] & 63u), len = 3;
        else if (c >= 0xc0 && p[1])
            cp = (c & 31u) << 6 | (p[1] & 63u), len = 2;
        p += len;
        if (cp == '"' || cp == '\\') {
            char esc[2] = {'\\', (char)cp};
            buf_append(b, esc, 2);
        } else if (cp == '\n') {
            buf_append(b, "\\n", 2);
        } else if (cp == '\r') {
            buf_append(b, "\\r", 2);
        } else if (cp == '\t') {
            buf_append(b, "\\t", 2);
        } else if (cp == '\b') {
            buf_append(b, "\\b", 2);
        } else if (cp == '\f') {
            buf_append(b, "\\f", 2);
        } else if (cp < 0x20 || cp >= 0x7f) {
            if (cp >= 0x10000) {
                cp -= 0x10000;
                buf_printf(b, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
            } else {
                buf_printf(b, "\\u%04x", cp);
            }
        } else {
            char ch = (char)cp;
            buf_append(b, &ch, 1);
        }
    }
    buf_append(b, "\"", 1);
}

static void ollama_pyjson(buf_t *b, const cJSON *v, int depth)
{
    if (cJSON_IsString(v)) {
        ollama_pyjson_string(b, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d > -1e15 && d < 1e15 && d == (double)(long long)d)
            buf_printf(b, "%lld", (long long)d);
        else
            buf_printf(b, "%.17g", d);
    } else if (cJSON_IsBool(v)) {
        buf_append_cstr(b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        bool obj = cJSON_IsObject(v);
        if (!v->child) {
            buf_append_cstr(b, obj ? "{}" : "[]");
            return;
        }
        buf_append(b, obj ? "{" : "[", 1);
        for (const cJSON *c = v->child; c; c = c->next) {
            buf_printf(b, "\n%*s", 2 * (depth + 1), "");
            if (obj) {
                ollama_pyjson_string(b, c->string ? c->string : "");
                buf_append(b, ": ", 2);
            }
            ollama_pyjson(b, c, depth + 1);
            if (c->next)
                buf_append(b, ",", 1);
        }
        buf_printf(b, "\n%*s%c", 2 * depth, "", obj ? '}' : ']');
    } else {
        buf_append_cstr(b, "null");
    }
}

static bool ollama_role_is(const cJSON *m, const char *a, const char *b, const char *c)
{
    const char *r = prov_json_string(m, "role");
    return r && (strcmp(r, a) == 0 || (b && strcmp(r, b) == 0) || (c && strcmp(r, c) == 0));
}

/* LiteLLM's ollama_pt: consecutive user/tool turns merged under "### User:", then system
 * turns under "### System:", then assistant turns (with "Tool Calls: <json>") under
 * "### Assistant:", each block followed by a blank line; image parts collected. */
static int ollama_prompt(const cJSON *messages, buf_t *prompt, cJSON *images, prov_error_t *err)
{
    if (!cJSON_IsArray(messages) || !messages->child)
        return prov_fail(err, 400, "messages", "ollama: 'messages' must be a non-empty array");
    const cJSON *m = messages->child;
    buf_t part = {0};
    int rc = 0;
    while (m && rc == 0) {
        const cJSON *start = m;
        part.n = 0;
        while (m && rc == 0 && ollama_role_is(m, "user", "tool", "function")) {
            rc = ollama_flatten(prov_json_get(m, "content"), &part, images, err);
            m = m->next;
        }
        if (part.n)
            buf_printf(prompt, "### User:\n%.*s\n\n", (int)part.n, part.p);
        part.n = 0;
        while (m && rc == 0 && ollama_role_is(m, "system", "developer", NULL)) {
            rc = ollama_flatten(prov_json_get(m, "content"), &part, NULL, err);
            m = m->next;
        }
        if (part.n)
            buf_printf(prompt, "### System:\n%.*s\n\n", (int)part.n, part.p);
        part.n = 0;
        while (m && rc == 0 && ollama_role_is(m, "assistant", NULL, NULL)) {
            rc = ollama_flatten(prov_json_get(m, "content"), &part, NULL, err);
            const cJSON *calls = prov_json_param(m, "tool_calls");
            if (rc == 0 && cJSON_IsArray(calls) && calls->child) {
                cJSON *list = cJSON_CreateArray();
                for (const cJSON *c = calls->child; c; c = c->next) {
                    const cJSON *fn = prov_json_get(c, "function");
                    const char *args = prov_json_string(fn, "arguments");
                    cJSON *parsed = args ? cJSON_Parse(args) : NULL;
                    cJSON *tc = cJSON_CreateObject();
                    const char *id = prov_json_string(c, "id");
                    cJSON_AddStringToObject(tc, "id", id ? id : "");
                    cJSON_AddStringToObject(tc, "type", "function");
                    cJSON *f = cJSON_AddObjectToObject(tc, "function");
                    const char *name = prov_json_string(fn, "name");
                    cJSON_AddStringToObject(f, "name", name ? name : "");
                    cJSON_AddItemToObject(f, "arguments",
                                          parsed ? parsed : cJSON_CreateString(args ? args : ""));
                    cJSON_AddItemToArray(list, tc);
                }
                buf_append_cstr(&part, "Tool Calls: ");
                ollama_pyjson(&part, list, 0);
                cJSON_Delete(list);
            }
            m = m->next;
        }
        if (part.n)
            buf_printf(prompt, "### Assistant:\n%.*s\n\n", (int)part.n, part.p);
        if (rc == 0 && m == start) {
            const char *role = prov_json_string(m, "role");
            rc = prov_fail(err, 400, "messages",
                           "ollama: role '%s' is not supported; use system, user, assistant or "
                           "tool",
                           role ? role : "(none)");
        }
    }
    buf_free(&part);
    return rc;
}

static int ollama_generate_request(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                                   prov_error_t *err)
{
    if (prov_check_params(ctx, req, ollama_generate_supported, err) != 0 ||
        ollama_check_n(req, err) != 0)
        return -1;
    cJSON *images = cJSON_CreateArray();
    buf_t prompt = {0};
    if (ollama_prompt(prov_json_get(req, "messages"), &prompt, images, err) != 0) {
        cJSON_Delete(images);
        buf_free(&prompt);
        return -1;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", ollama_model(ctx));
    const char *p = buf_cstr(&prompt);
    cJSON_AddStringToObject(root, "prompt", p ? p : "");
    buf_free(&prompt);
    if (ollama_options(req, root, err) != 0) {
        cJSON_Delete(images);
        cJSON_Delete(root);
        return -1;
    }
    cJSON_AddBoolToObject(root, "stream", ctx->stream);
    if (images->child)
        cJSON_AddItemToObject(root, "images", images);
    else
        cJSON_Delete(images);
    prov_carry_mock(req, root);
    if (ollama_print(root, &out->body, err) != 0)
        return -1;
    out->method = "POST";
    out->url = ollama_url(ctx, "/api/generate");
    out->headers = ollama_headers(ctx);
    return 0;
}

/* ---- ollama_chat (/api/chat) ------------------------------------------------------------- */

/* The function name of the earlier assistant tool call with this id (Ollama's tool messages
 * name the tool, not the call). */
static const char *ollama_tool_name(const cJSON *messages, const cJSON *upto, const char *id)
{
    const char *found = NULL;
    for (const cJSON *m = messages->child; m && m != upto; m = m->next) {
        const cJSON *calls = prov_json_get(m, "tool_calls");
        for (const cJSON *c = cJSON_IsArray(calls) ? calls->child : NULL; c; c = c->next) {
            const char *cid = prov_json_string(c, "id");
            if (cid && id && strcmp(cid, id) == 0)
                found = prov_json_string(prov_json_get(c, "function"), "name");
        }
    }
    return found;
}

static cJSON *ollama_chat_messages(const cJSON *messages, prov_error_t *err)
{
    if (!cJSON_IsArray(messages) || !messages->child) {
        prov_fail(err, 400, "messages", "ollama: 'messages' must be a non-empty array");
        return NULL;
    }
    cJSON *out = cJSON_CreateArray();
    buf_t text = {0};
    for (const cJSON *m = messages->child; m; m = m->next) {
        const char *role = prov_json_string(m, "role");
        cJSON *msg = cJSON_CreateObject();
        cJSON_AddItemToArray(out, msg);
        if (!role) {
            prov_fail(err, 400, "messages", "ollama: every message needs a 'role'");
            goto fail;
        }
        bool user = strcmp(role, "user") == 0, assistant = strcmp(role, "assistant") == 0,
             tool = strcmp(role, "tool") == 0;
        bool system = strcmp(role, "system") == 0 || strcmp(role, "developer") == 0;
        if (!user && !assistant && !tool && !system) {
            prov_fail(err, 400, "messages",
                      "ollama: role '%s' is not supported; use system, user, assistant or tool",
                      role);
            goto fail;
        }
        cJSON_AddStringToObject(msg, "role", system ? "system" : role);
        cJSON *images = user ? cJSON_CreateArray() : NULL;
        text.n = 0;
        if (ollama_flatten(prov_json_get(m, "content"), &text, images, err) != 0) {
            cJSON_Delete(images);
            goto fail;
        }
        const char *t = buf_cstr(&text);
        cJSON_AddStringToObject(msg, "content", t ? t : "");
        if (images && images->child)
            cJSON_AddItemToObject(msg, "images", images);
        else
            cJSON_Delete(images);
        const cJSON *calls = prov_json_param(m, "tool_calls");
        if (assistant && cJSON_IsArray(calls) && calls->child) {
            cJSON *list = cJSON_AddArrayToObject(msg, "tool_calls");
            for (const cJSON *c = calls->child; c; c = c->next) {
                const cJSON *fn = prov_json_get(c, "function");
                const char *name = prov_json_string(fn, "name");
                const cJSON *args = prov_json_get(fn, "arguments");
                cJSON *parsed = NULL;
                if (cJSON_IsString(args))
                    parsed = args->valuestring[0] ? cJSON_Parse(args->valuestring)
                                                  : cJSON_CreateObject();
                else if (cJSON_IsObject(args))
                    parsed = cJSON_Duplicate(args, 1);
                else if (!args || cJSON_IsNull(args))
                    parsed = cJSON_CreateObject();
                if (!name || !cJSON_IsObject(parsed)) {
                    cJSON_Delete(parsed);
                    prov_fail(err, 400, "messages",
                              "ollama: an assistant tool call needs a function name and JSON "
                              "object arguments");
                    goto fail;
                }
                cJSON *tc = cJSON_CreateObject();
                cJSON *f = cJSON_AddObjectToObject(tc, "function");
                cJSON_AddStringToObject(f, "name", name);
                cJSON_AddItemToObject(f, "arguments", parsed);
                cJSON_AddItemToArray(list, tc);
            }
        }
        if (tool) {
            const char *name = ollama_tool_name(messages, m, prov_json_string(m, "tool_call_id"));
            if (!name)
                name = prov_json_string(m, "name");
            if (name)
                cJSON_AddStringToObject(msg, "tool_name", name);
        }
    }
    buf_free(&text);
    return out;
fail:
    buf_free(&text);
    cJSON_Delete(out);
    return NULL;
}

static cJSON *ollama_tools(const cJSON *tools, prov_error_t *err)
{
    if (!cJSON_IsArray(tools)) {
        prov_fail(err, 400, "tools", "ollama: 'tools' must be an array");
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
                      "ollama: only tools of type 'function' with a function name are supported");
            return NULL;
        }
        cJSON *tool = cJSON_CreateObject();
        cJSON_AddStringToObject(tool, "type", "function");
        cJSON *f = cJSON_AddObjectToObject(tool, "function");
        cJSON_AddStringToObject(f, "name", name);
        const char *desc = prov_json_string(fn, "description");
        if (desc)
            cJSON_AddStringToObject(f, "description", desc);
        const cJSON *params = prov_json_param(fn, "parameters");
        if (params)
            cJSON_AddItemToObject(f, "parameters", cJSON_Duplicate(params, 1));
        cJSON_AddItemToArray(out, tool);
    }
    return out;
}

static int ollama_chat_request(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                               prov_error_t *err)
{
    if (prov_check_params(ctx, req, ollama_chat_supported, err) != 0 ||
        ollama_check_n(req, err) != 0)
        return -1;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", ollama_model(ctx));
    cJSON *messages = ollama_chat_messages(prov_json_get(req, "messages"), err);
    if (!messages)
        goto fail;
    cJSON_AddItemToObject(root, "messages", messages);
    /* tool_choice has no Ollama equivalent: "none" sends no tools, anything else offers them */
    const cJSON *tools = prov_json_param(req, "tools");
    const cJSON *choice = prov_json_param(req, "tool_choice");
    bool none = cJSON_IsString(choice) && strcmp(choice->valuestring, "none") == 0;
    if (tools && !none) {
        cJSON *t = ollama_tools(tools, err);
        if (!t)
            goto fail;
        if (t->child)
            cJSON_AddItemToObject(root, "tools", t);
        else
            cJSON_Delete(t);
    }
    if (ollama_options(req, root, err) != 0)
        goto fail;
    cJSON_AddBoolToObject(root, "stream", ctx->stream);
    prov_carry_mock(req, root);
    if (ollama_print(root, &out->body, err) != 0)
        return -1;
    out->method = "POST";
    out->url = ollama_url(ctx, "/api/chat");
    out->headers = ollama_headers(ctx);
    return 0;
fail:
    cJSON_Delete(root);
    return -1;
}

/* ---- responses --------------------------------------------------------------------------- */

static const char *ollama_finish(const char *done_reason, bool tool_calls)
{
    if (tool_calls)
        return "tool_calls";
    return done_reason && strcmp(done_reason, "length") == 0 ? "length" : "stop";
}

/* Ollama tool call {function:{name, arguments:{...}}} -> OpenAI's, arguments as JSON text. */
static cJSON *ollama_openai_tool_call(const cJSON *tc, int index, bool with_index)
{
    const cJSON *fn = prov_json_get(tc, "function");
    cJSON *out = cJSON_CreateObject();
    if (with_index)
        cJSON_AddNumberToObject(out, "index", index);
    char id[40];
    ollama_call_id(id);
    const char *given = prov_json_string(tc, "id");
    cJSON_AddStringToObject(out, "id", given && *given ? given : id);
    cJSON_AddStringToObject(out, "type", "function");
    cJSON *f = cJSON_AddObjectToObject(out, "function");
    const char *name = prov_json_string(fn, "name");
    cJSON_AddStringToObject(f, "name", name ? name : "");
    const cJSON *args = prov_json_get(fn, "arguments");
    if (cJSON_IsString(args)) {
        cJSON_AddStringToObject(f, "arguments", args->valuestring);
    } else if (args && !cJSON_IsNull(args)) {
        char *text = cJSON_PrintUnformatted(args);
        cJSON_AddStringToObject(f, "arguments", text ? text : "{}");
        free(text);
    } else {
        cJSON_AddStringToObject(f, "arguments", "{}");
    }
    return out;
}

/* /api/chat or /api/generate JSON -> chat.completion. */
static int ollama_chat_response(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err)
{
    cJSON *in = cJSON_ParseWithLength(body.p, body.n);
    if (!cJSON_IsObject(in)) {
        cJSON_Delete(in);
        return prov_fail(err, 502, NULL, "ollama: the answer is not a JSON object");
    }
    const char *error = prov_json_string(in, "error");
    if (error) {
        int rc = prov_fail(err, 502, NULL, "ollama: %s", error);
        cJSON_Delete(in);
        return rc;
    }
    const cJSON *message = prov_json_get(in, "message");
    const char *text =
        message ? prov_json_string(message, "content") : prov_json_string(in, "response");
    const char *thinking = prov_json_string(message ? message : in, "thinking");
    if (!message && !text) {
        cJSON_Delete(in);
        return prov_fail(err, 502, NULL, "ollama: the answer has neither 'message' nor 'response'");
    }
    const cJSON *calls = prov_json_get(message, "tool_calls");
    bool has_calls = cJSON_IsArray(calls) && calls->child;

    char id[40];
    prov_new_id(id);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "id", id);
    cJSON_AddStringToObject(root, "object", "chat.completion");
    cJSON_AddNumberToObject(root, "created", (double)time(NULL));
    cJSON_AddStringToObject(root, "model", ollama_model(ctx));
    cJSON *choice = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "choices"), choice);
    cJSON_AddNumberToObject(choice, "index", 0);
    cJSON *msg = cJSON_AddObjectToObject(choice, "message");
    cJSON_AddStringToObject(msg, "role", "assistant");
    if (has_calls && (!text || !*text))
        cJSON_AddNullToObject(msg, "content");
    else
        cJSON_AddStringToObject(msg, "content", text ? text : "");
    if (thinking && *thinking)
        cJSON_AddStringToObject(msg, "reasoning_content", thinking);
    if (has_calls) {
        cJSON *list = cJSON_AddArrayToObject(msg, "tool_calls");
        for (const cJSON *tc = calls->child; tc; tc = tc->next)
            cJSON_AddItemToArray(list, ollama_openai_tool_call(tc, 0, false));
    }
    cJSON_AddNullToObject(choice, "logprobs");
    cJSON_AddStringToObject(choice, "finish_reason",
                            ollama_finish(prov_json_string(in, "done_reason"), has_calls));
    cJSON_AddItemToObject(
        root, "usage",
        prov_usage(ollama_count(in, "prompt_eval_count"), ollama_count(in, "eval_count"), 0));
    cJSON_Delete(in);
    return ollama_print(root, out, err);
}

/* ---- NDJSON streams ---------------------------------------------------------------------- */

struct prov_stream {
    buf_t line; /* a line that started in an earlier feed */
    char id[40];
    long long created;
    char *model;
    size_t model_n;
    bool role_sent;
    bool finished; /* the done:true line was seen */
    bool failed;
    int tools;
    prov_emit_fn emit;
    void *arg;
};

static int ollama_emit(prov_stream_t *s, cJSON *delta, const char *finish, cJSON *usage)
{
    return prov_emit_chunk(s->emit, s->arg, s->id, s->created, str_make(s->model, s->model_n),
                           delta, finish, usage);
}

static int ollama_role(prov_stream_t *s)
{
    if (s->role_sent)
        return 0;
    s->role_sent = true;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "role", "assistant");
    cJSON_AddStringToObject(d, "content", "");
    return ollama_emit(s, d, NULL, NULL);
}

/* One NDJSON object -> chunks: a role chunk first, content / reasoning / tool-call deltas,
 * and on done:true the finish chunk with usage. */
static int ollama_line(prov_stream_t *s, const char *p, size_t n)
{
    while (n && (p[0] == ' ' || p[0] == '\t' || p[0] == '\r'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    if (n == 0)
        return 0;
    if (s->finished)
        return -1; /* nothing may follow the done line */
    cJSON *in = cJSON_ParseWithLength(p, n);
    if (!cJSON_IsObject(in) || prov_json_get(in, "error")) {
        cJSON_Delete(in);
        return -1;
    }
    int rc = ollama_role(s);
    const cJSON *message = prov_json_get(in, "message");
    const cJSON *src = message ? message : in;
    const char *text =
        message ? prov_json_string(message, "content") : prov_json_string(in, "response");
    const char *thinking = prov_json_string(src, "thinking");
    if (rc == 0 && thinking && *thinking) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "reasoning_content", thinking);
        rc = ollama_emit(s, d, NULL, NULL);
    }
    if (rc == 0 && text && *text) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "content", text);
        rc = ollama_emit(s, d, NULL, NULL);
    }
    const cJSON *calls = prov_json_get(message, "tool_calls");
    for (const cJSON *tc = cJSON_IsArray(calls) ? calls->child : NULL; tc && rc == 0;
         tc = tc->next) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "tool_calls"),
                             ollama_openai_tool_call(tc, s->tools++, true));
        rc = ollama_emit(s, d, NULL, NULL);
    }
    if (rc == 0 && cJSON_IsTrue(prov_json_get(in, "done"))) {
        s->finished = true;
        rc = ollama_emit(
            s, cJSON_CreateObject(),
            ollama_finish(prov_json_string(in, "done_reason"), s->tools > 0),
            prov_usage(ollama_count(in, "prompt_eval_count"), ollama_count(in, "eval_count"), 0));
    }
    cJSON_Delete(in);
    return rc == 0 ? 0 : -1;
}

static prov_stream_t *ollama_stream_new(const prov_ctx_t *ctx)
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
    prov_new_id(s->id);
    s->created = (long long)time(NULL);
    return s;
}

/* Splits the body into lines whatever the read boundaries: complete lines inside `p` are
 * parsed in place; only a line cut by the boundary is copied. */
static int ollama_stream_feed(prov_stream_t *s, const char *p, size_t n, prov_emit_fn emit,
                              void *arg)
{
    s->emit = emit;
    s->arg = arg;
    if (s->failed)
        return -1;
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (!nl || s->line.n) {
            if (s->line.n + take > OLLAMA_MAX_LINE || buf_append(&s->line, p, take) != 0)
                goto fail;
        }
        if (!nl)
            return 0;
        int rc = s->line.n ? ollama_line(s, s->line.p, s->line.n) : ollama_line(s, p, take);
        s->line.n = 0;
        if (rc != 0)
            goto fail;
        p += take + 1;
        n -= take + 1;
    }
    return 0;
fail:
    s->failed = true;
    return -1;
}

static int ollama_stream_end(prov_stream_t *s, prov_emit_fn emit, void *arg)
{
    s->emit = emit;
    s->arg = arg;
    if (s->failed)
        return -1;
    if (s->line.n) { /* a last line without its newline */
        int rc = ollama_line(s, s->line.p, s->line.n);
        s->line.n = 0;
        if (rc != 0)
            return -1;
    }
    return s->finished ? 0 : -1; /* no done line: the stream was cut */
}

static void ollama_stream_free(prov_stream_t *s)
{
    if (!s)
        return;
    buf_free(&s->line);
    free(s->model);
    free(s);
}

/* {"error":"..."} -> the message. */
static void ollama_error_message(int status, str_t body, buf_t *out)
{
    (void)status;
    prov_error_field(body, "error", out);
}

/* ---- embeddings -------------------------------------------------------------------------- */

static int ollama_embed_request(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                                prov_error_t *err)
{
    const cJSON *input = prov_json_get(req, "input");
    bool ok = cJSON_IsString(input) || (cJSON_IsArray(input) && input->child);
    for (const cJSON *t = cJSON_IsArray(input) ? input->child : NULL; t && ok; t = t->next)
        ok = cJSON_IsString(t);
    if (!ok)
        return prov_fail(err, 400, "input",
                         "ollama: 'input' must be a string or a non-empty array of strings");
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", ollama_model(ctx));
    cJSON_AddItemToObject(root, "input", cJSON_Duplicate(input, 1));
    const cJSON *dims = prov_json_param(req, "dimensions");
    if (cJSON_IsNumber(dims))
        cJSON_AddNumberToObject(root, "dimensions", dims->valuedouble);
    const cJSON *keep = prov_json_param(req, "keep_alive");
    if (keep)
        cJSON_AddItemToObject(root, "keep_alive", cJSON_Duplicate(keep, 1));
    prov_carry_mock(req, root);
    if (ollama_print(root, &out->body, err) != 0)
        return -1;
    out->method = "POST";
    out->url = ollama_url(ctx, "/api/embed");
    out->headers = ollama_headers(ctx);
    return 0;
}

/* {"embeddings":[[..]],"prompt_eval_count":N} -> OpenAI's list. */
static int ollama_embed_response(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err)
{
    cJSON *in = cJSON_ParseWithLength(body.p, body.n);
    const cJSON *vectors = prov_json_get(in, "embeddings");
    if (!cJSON_IsArray(vectors)) {
        cJSON_Delete(in);
        return prov_fail(err, 502, NULL, "ollama: the embed answer has no 'embeddings'");
    }
    long long tokens = ollama_count(in, "prompt_eval_count");
    buf_append_cstr(out, "{\"object\":\"list\",\"data\":[");
    int index = 0;
    for (const cJSON *v = vectors->child; v; v = v->next, index++) {
        if (!cJSON_IsArray(v)) {
            cJSON_Delete(in);
            return prov_fail(err, 502, NULL, "ollama: an embedding is not an array");
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

const prov_adapter_t prov_adapter_ollama = {
    .name = "ollama",
    .chat_request = ollama_generate_request,
    .chat_response = ollama_chat_response,
    .stream_new = ollama_stream_new,
    .stream_feed = ollama_stream_feed,
    .stream_end = ollama_stream_end,
    .stream_free = ollama_stream_free,
    .error_message = ollama_error_message,
    .embed_request = ollama_embed_request,
    .embed_response = ollama_embed_response,
};

const prov_adapter_t prov_adapter_ollama_chat = {
    .name = "ollama_chat",
    .chat_request = ollama_chat_request,
    .chat_response = ollama_chat_response,
    .stream_new = ollama_stream_new,
    .stream_feed = ollama_stream_feed,
    .stream_end = ollama_stream_end,
    .stream_free = ollama_stream_free,
    .error_message = ollama_error_message,
    .embed_request = ollama_embed_request,
    .embed_response = ollama_embed_response,
};
