/* SPDX-License-Identifier: MIT
 * Anthropic's Messages API (/v1/messages) as a client format. Requests become the canonical
 * OpenAI chat request as LiteLLM's anthropic adapter builds it; chat.completion answers and
 * chunks become Anthropic messages and named SSE events. Deployments that speak Anthropic never
 * come here: the route passes their bodies through. Choices that LiteLLM leaves open are noted
 * where they are made. */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fmt_anthropic.h"
#include "core/common.h"

/* ---- JSON reading ------------------------------------------------------------------------ */

static const cJSON *member(const cJSON *o, const char *key)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* `v` when it is a list, else NULL: loops over members must not walk an object's fields. */
static const cJSON *as_array(const cJSON *v)
{
    return cJSON_IsArray(v) ? v : NULL;
}

static const char *member_string(const cJSON *o, const char *key)
{
    const cJSON *v = member(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A token count: a JSON number clamped to [0, 1e15], 0 when absent (never a float overflow). */
static long long member_count(const cJSON *o, const char *key)
{
    const cJSON *v = member(o, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0))
        return 0;
    return v->valuedouble > 1e15 ? 1000000000000000LL : (long long)v->valuedouble;
}

static bool is_whole_number(const cJSON *v, double min)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= min) || v->valuedouble > 1e15)
        return false;
    return (double)(long long)v->valuedouble == v->valuedouble;
}

/* ---- the status -> Anthropic error type table, shared by error_body and stream errors ---- */

static const char *error_type_for(int status)
{
    switch (status) {
    case 400:
        return "invalid_request_error";
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
        return "api_error";
    }
}

/* ---- tool names ------------------------------------------------------------------------- */

#define TOOL_NAME_MAX 64  /* OpenAI's limit on function names; Anthropic has a longer one */
#define TOOL_NAME_KEEP 55 /* of a longer name, LiteLLM keeps this much, then "_" + 8 hex */

/* The name a tool goes upstream under: itself, or when longer than OpenAI allows, its first 55
 * characters, '_' and 8 hex digits of its SHA-256 (LiteLLM's rule, so both gateways send the
 * same names). The cut backs off to a UTF-8 character boundary. Returns `name` or `out`. */
static const char *tool_name_upstream(const char *name, char out[TOOL_NAME_MAX + 1])
{
    size_t n = strlen(name);
    if (n <= TOOL_NAME_MAX)
        return name;
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE] = {0};
    unsigned int mdlen = 0;
    if (!EVP_Digest(name, n, md, &mdlen, EVP_sha256(), NULL))
        memset(md, 0, sizeof md);
    size_t keep = TOOL_NAME_KEEP;
    while (keep > 0 && ((unsigned char)name[keep] & 0xC0) == 0x80)
        keep--;
    memcpy(out, name, keep);
    out[keep++] = '_';
    for (int i = 0; i < 4; i++) {
        out[keep++] = hex[md[i] >> 4];
        out[keep++] = hex[md[i] & 15];
    }
    out[keep] = 0;
    return out;
}

/* The client's name for a tool the model called. Only names too long for OpenAI were changed,
 * so this looks through the client's (long) names for the one that shortens to `upstream`. */
static const char *tool_name_client(const cJSON *names, bool tool_objects, const char *upstream)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, as_array(names))
    {
        const char *name = tool_objects ? member_string(it, "name") : it->valuestring;
        char cut[TOOL_NAME_MAX + 1];
        if (name && strlen(name) > TOOL_NAME_MAX &&
            strcmp(tool_name_upstream(name, cut), upstream) == 0)
            return name;
    }
    return upstream;
}

/* ---- request: Anthropic Messages -> OpenAI chat ------------------------------------------- */

typedef struct {
    prov_error_t *err;
    bool failed; /* err holds a 400 */
    bool oom;
} conv_t;

static int conv_fail(conv_t *c, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int conv_fail(conv_t *c, const char *param, const char *fmt, ...)
{
    c->failed = true;
    c->err->status = 400;
    c->err->param = param;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err->message, sizeof c->err->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* Adds `item` to an object (key) or array (key NULL); on any failure frees it and notes OOM. */
static cJSON *add(conv_t *c, cJSON *parent, const char *key, cJSON *item)
{
    bool ok = item && parent &&
              (key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item));
    if (!ok) {
        cJSON_Delete(item);
        c->oom = true;
        return NULL;
    }
    return item;
}

static cJSON *add_string(conv_t *c, cJSON *parent, const char *key, const char *s)
{
    return add(c, parent, key, cJSON_CreateString(s));
}

static cJSON *add_copy(conv_t *c, cJSON *parent, const char *key, const cJSON *v)
{
    return add(c, parent, key, cJSON_Duplicate(v, 1));
}

/* "data:<media type>;base64,<data>" */
static cJSON *data_url(conv_t *c, const char *media_type, const char *data)
{
    buf_t b = {0};
    int r = buf_append_cstr(&b, "data:");
    r |= buf_append_cstr(&b, media_type);
    r |= buf_append_cstr(&b, ";base64,");
    r |= buf_append_cstr(&b, data);
    const char *s = r == 0 ? buf_cstr(&b) : NULL;
    cJSON *v = s ? cJSON_CreateString(s) : NULL;
    buf_free(&b);
    if (!v)
        c->oom = true;
    return v;
}

/* An image block -> an OpenAI image_url part: base64 becomes a data: URL, url stays a URL.
 * Other sources (Files API ids) have no OpenAI equivalent: 400. */
static int image_part(conv_t *c, const cJSON *block, const char *path, cJSON *parts)
{
    const cJSON *source = member(block, "source");
    const char *type = member_string(source, "type");
    cJSON *url = NULL;
    if (!cJSON_IsObject(source) || !type)
        return conv_fail(c, "messages", "%s.source: an object with a type is required", path);
    if (strcmp(type, "base64") == 0) {
        const char *mt = member_string(source, "media_type");
        const char *data = member_string(source, "data");
        if (!mt || !data)
            return conv_fail(c, "messages", "%s.source: base64 images need media_type and data",
                             path);
        url = data_url(c, mt, data);
    } else if (strcmp(type, "url") == 0) {
        const char *u = member_string(source, "url");
        if (!u)
            return conv_fail(c, "messages", "%s.source.url: Field required", path);
        url = cJSON_CreateString(u);
    } else {
        return conv_fail(c, "messages",
                         "%s.source.type: image source '%s' cannot be sent to this model; send "
                         "the image as base64 or url",
                         path, type);
    }
    cJSON *part = add(c, parts, NULL, cJSON_CreateObject());
    add_string(c, part, "type", "image_url");
    cJSON *iu = add(c, part, "image_url", cJSON_CreateObject());
    add(c, iu, "url", url);
    return 0;
}

/* A document block: base64 (PDF) -> an OpenAI file part with a data: URL; plain text -> a text
 * part; a content source -> its text and image blocks. URL and Files-API documents have no
 * OpenAI equivalent: 400. */
static int document_parts(conv_t *c, const cJSON *block, const char *path, cJSON *parts)
{
    const cJSON *source = member(block, "source");
    const char *type = member_string(source, "type");
    if (!type)
        return conv_fail(c, "messages", "%s.source: an object with a type is required", path);
    if (strcmp(type, "base64") == 0) {
        const char *mt = member_string(source, "media_type");
        const char *data = member_string(source, "data");
        if (!data)
            return conv_fail(c, "messages", "%s.source.data: Field required", path);
        const char *title = member_string(block, "title");
        cJSON *part = add(c, parts, NULL, cJSON_CreateObject());
        add_string(c, part, "type", "file");
        cJSON *file = add(c, part, "file", cJSON_CreateObject());
        add_string(c, file, "filename", title && *title ? title : "document.pdf");
        add(c, file, "file_data", data_url(c, mt ? mt : "application/pdf", data));
        return 0;
    }
    if (strcmp(type, "text") == 0) {
        const char *data = member_string(source, "data");
        if (!data)
            return conv_fail(c, "messages", "%s.source.data: Field required", path);
        cJSON *part = add(c, parts, NULL, cJSON_CreateObject());
        add_string(c, part, "type", "text");
        add_string(c, part, "text", data);
        return 0;
    }
    if (strcmp(type, "content") == 0) {
        const cJSON *content = member(source, "content");
        if (cJSON_IsString(content)) {
            cJSON *part = add(c, parts, NULL, cJSON_CreateObject());
            add_string(c, part, "type", "text");
            add_string(c, part, "text", content->valuestring);
            return 0;
        }
        const cJSON *b;
        int j = 0;
        cJSON_ArrayForEach(b, as_array(content))
        {
            char sub[96];
            snprintf(sub, sizeof sub, "%s.source.content.%d", path, j++);
            const char *bt = member_string(b, "type");
            if (bt && strcmp(bt, "text") == 0 && member_string(b, "text")) {
                cJSON *part = add(c, parts, NULL, cJSON_CreateObject());
                add_string(c, part, "type", "text");
                add_string(c, part, "text", member_string(b, "text"));
            } else if (bt && strcmp(bt, "image") == 0 && image_part(c, b, sub, parts) < 0) {
                return -1;
            }
        }
        return 0;
    }
    return conv_fail(c, "messages",
                     "%s.source.type: document source '%s' cannot be sent to this model; send "
                     "the document as base64 or text",
                     path, type);
}

/* The text of a string or of the text blocks in a list, joined with newlines (other blocks are
 * skipped; a list element that is not an object is a 400). */
static int join_text(conv_t *c, const cJSON *content, const char *path, buf_t *out)
{
    if (cJSON_IsString(content))
        return buf_append_cstr(out, content->valuestring) == 0 ? 0 : (c->oom = true, -1);
    if (!cJSON_IsArray(content))
        return conv_fail(c, "messages", "%s: Input should be a valid list or string", path);
    const cJSON *b;
    int j = 0, texts = 0;
    cJSON_ArrayForEach(b, content)
    {
        const char *type = member_string(b, "type");
        if (!type)
            return conv_fail(c, "messages", "%s.%d.type: Field required", path, j);
        j++;
        if (strcmp(type, "text") != 0)
            continue;
        const char *text = member_string(b, "text");
        if (!text)
            return conv_fail(c, "messages", "%s.%d.text: Field required", path, j - 1);
        if ((texts++ && buf_append(out, "\n", 1) != 0) || buf_append_cstr(out, text) != 0) {
            c->oom = true;
            return -1;
        }
    }
    return 0;
}

/* A system message whose content is the joined text; nothing when the text is empty. */
static int add_system(conv_t *c, const cJSON *content, const char *path, cJSON *msgs)
{
    buf_t text = {0};
    int r = join_text(c, content, path, &text);
    if (r == 0 && text.n) {
        const char *s = buf_cstr(&text);
        cJSON *m = add(c, msgs, NULL, cJSON_CreateObject());
        add_string(c, m, "role", "system");
        if (s)
            add_string(c, m, "content", s);
        else
            c->oom = true;
    }
    buf_free(&text);
    return r;
}

/* A tool_result block -> a "tool" message (text joined with newlines). Images in the result go
 * to `images`, which become part of the user message that follows the tool messages, because
 * OpenAI tool messages carry text only. is_error has no OpenAI counterpart and is dropped, as
 * LiteLLM drops it. */
static int tool_message(conv_t *c, const cJSON *block, const char *path, cJSON *msgs, cJSON *images)
{
    const char *id = member_string(block, "tool_use_id");
    if (!id)
        return conv_fail(c, "messages", "%s.tool_use_id: Field required", path);
    const cJSON *content = member(block, "content");
    buf_t text = {0};
    char sub[96];
    snprintf(sub, sizeof sub, "%s.content", path);
    if (content && !cJSON_IsNull(content) && join_text(c, content, sub, &text) < 0) {
        buf_free(&text);
        return -1;
    }
    const cJSON *b;
    int j = 0;
    cJSON_ArrayForEach(b, as_array(content))
    {
        const char *type = member_string(b, "type");
        snprintf(sub, sizeof sub, "%s.content.%d", path, j++);
        if (type && strcmp(type, "image") == 0 && image_part(c, b, sub, images) < 0) {
            buf_free(&text);
            return -1;
        }
    }
    const char *s = buf_cstr(&text);
    cJSON *m = add(c, msgs, NULL, cJSON_CreateObject());
    add_string(c, m, "role", "tool");
    add_string(c, m, "tool_call_id", id);
    if (s)
        add_string(c, m, "content", s);
    else
        c->oom = true;
    buf_free(&text);
    return 0;
}

/* A user turn. tool_result blocks become "tool" messages placed first, in order, because OpenAI
 * needs them right after the assistant's tool_calls; the turn's other blocks follow as one user
 * message of parts. Unknown block types are skipped, as LiteLLM skips them. */
static int user_messages(conv_t *c, const cJSON *content, int i, cJSON *msgs)
{
    if (cJSON_IsString(content)) {
        cJSON *m = add(c, msgs, NULL, cJSON_CreateObject());
        add_string(c, m, "role", "user");
        add_string(c, m, "content", content->valuestring);
        return 0;
    }
    cJSON *parts = cJSON_CreateArray();
    if (!parts) {
        c->oom = true;
        return -1;
    }
    const cJSON *b;
    int j = 0;
    cJSON_ArrayForEach(b, content)
    {
        char path[64];
        snprintf(path, sizeof path, "messages.%d.content.%d", i, j++);
        const char *type = member_string(b, "type");
        int r = 0;
        if (!type) {
            r = conv_fail(c, "messages", "%s.type: Field required", path);
        } else if (strcmp(type, "text") == 0) {
            const char *text = member_string(b, "text");
            if (!text) {
                r = conv_fail(c, "messages", "%s.text: Field required", path);
            } else {
                cJSON *part = add(c, parts, NULL, cJSON_CreateObject());
                add_string(c, part, "type", "text");
                add_string(c, part, "text", text);
            }
        } else if (strcmp(type, "image") == 0) {
            r = image_part(c, b, path, parts);
        } else if (strcmp(type, "document") == 0) {
            r = document_parts(c, b, path, parts);
        } else if (strcmp(type, "tool_result") == 0) {
            r = tool_message(c, b, path, msgs, parts);
        }
        if (r < 0) {
            cJSON_Delete(parts);
            return -1;
        }
    }
    if (cJSON_GetArraySize(parts) == 0) {
        cJSON_Delete(parts);
        return 0;
    }
    cJSON *m = add(c, msgs, NULL, cJSON_CreateObject());
    add_string(c, m, "role", "user");
    add(c, m, "content", parts);
    return 0;
}

/* An assistant turn: text blocks concatenated (as LiteLLM does) into `content`, tool_use blocks
 * into `tool_calls` with the input as JSON text. Thinking blocks are dropped: OpenAI-shaped
 * servers reject unknown message fields. A turn with neither text nor calls is left out. */
static int assistant_message(conv_t *c, const cJSON *content, int i, cJSON *msgs)
{
    if (cJSON_IsString(content)) {
        cJSON *m = add(c, msgs, NULL, cJSON_CreateObject());
        add_string(c, m, "role", "assistant");
        add_string(c, m, "content", content->valuestring);
        return 0;
    }
    buf_t text = {0};
    bool has_text = false;
    cJSON *calls = cJSON_CreateArray();
    const cJSON *b;
    int j = 0;
    cJSON_ArrayForEach(b, content)
    {
        const char *type = member_string(b, "type");
        if (!type) {
            conv_fail(c, "messages", "messages.%d.content.%d.type: Field required", i, j);
            goto fail;
        }
        if (strcmp(type, "text") == 0) {
            const char *t = member_string(b, "text");
            if (!t) {
                conv_fail(c, "messages", "messages.%d.content.%d.text: Field required", i, j);
                goto fail;
            }
            has_text = true;
            if (buf_append_cstr(&text, t) != 0)
                c->oom = true;
        } else if (strcmp(type, "tool_use") == 0) {
            const char *id = member_string(b, "id");
            const char *name = member_string(b, "name");
            if (!id || !name) {
                conv_fail(c, "messages", "messages.%d.content.%d: tool_use needs id and name", i,
                          j);
                goto fail;
            }
            const cJSON *input = member(b, "input");
            char *args = input ? cJSON_PrintUnformatted(input) : NULL;
            char cut[TOOL_NAME_MAX + 1];
            cJSON *call = add(c, calls, NULL, cJSON_CreateObject());
            add_string(c, call, "id", id);
            add_string(c, call, "type", "function");
            cJSON *fn = add(c, call, "function", cJSON_CreateObject());
            add_string(c, fn, "name", tool_name_upstream(name, cut));
            add_string(c, fn, "arguments", args ? args : "{}");
            if (input && !args)
                c->oom = true;
            free(args);
        }
        j++;
    }
    if (has_text || cJSON_GetArraySize(calls) > 0) {
        cJSON *m = add(c, msgs, NULL, cJSON_CreateObject());
        add_string(c, m, "role", "assistant");
        const char *s = has_text ? buf_cstr(&text) : NULL;
        if (has_text && !s)
            c->oom = true;
        add(c, m, "content", s ? cJSON_CreateString(s) : cJSON_CreateNull());
        if (cJSON_GetArraySize(calls) > 0) {
            add(c, m, "tool_calls", calls);
            calls = NULL;
        }
    }
    cJSON_Delete(calls);
    buf_free(&text);
    return 0;
fail:
    cJSON_Delete(calls);
    buf_free(&text);
    return -1;
}

static int convert_messages(conv_t *c, const cJSON *messages, cJSON *msgs)
{
    const cJSON *m;
    int i = 0;
    cJSON_ArrayForEach(m, messages)
    {
        if (!cJSON_IsObject(m))
            return conv_fail(c, "messages", "messages.%d: Input should be an object", i);
        const char *role = member_string(m, "role");
        const cJSON *content = member(m, "content");
        if (!role)
            return conv_fail(c, "messages", "messages.%d.role: Field required", i);
        if (!content)
            return conv_fail(c, "messages", "messages.%d.content: Field required", i);
        if (!cJSON_IsString(content) && !cJSON_IsArray(content))
            return conv_fail(c, "messages",
                             "messages.%d.content: Input should be a valid list or string", i);
        int r;
        if (strcmp(role, "user") == 0) {
            r = user_messages(c, content, i, msgs);
        } else if (strcmp(role, "assistant") == 0) {
            r = assistant_message(c, content, i, msgs);
        } else if (strcmp(role, "system") == 0) { /* SDK 1.x allows a system turn in messages */
            char path[48];
            snprintf(path, sizeof path, "messages.%d.content", i);
            r = add_system(c, content, path, msgs);
        } else {
            r = conv_fail(c, "messages", "messages.%d.role: Input should be 'user' or 'assistant'",
                          i);
        }
        if (r < 0)
            return -1;
        i++;
    }
    return 0;
}

/* Custom tools -> function tools. Server tools (web_search, bash, ...) run inside Anthropic's
 * API and cannot be given to another model: 400 rather than a tool the model cannot use. */
static int convert_tools(conv_t *c, const cJSON *tools, cJSON *out)
{
    const cJSON *t;
    int i = 0;
    cJSON_ArrayForEach(t, tools)
    {
        if (!cJSON_IsObject(t))
            return conv_fail(c, "tools", "tools.%d: Input should be an object", i);
        const char *type = member_string(t, "type");
        const char *name = member_string(t, "name");
        if (type && strcmp(type, "custom") != 0)
            return conv_fail(c, "tools",
                             "tools.%d: server tool '%s' runs only on Anthropic's API and cannot "
                             "be sent to this model; send custom tools (name, input_schema)",
                             i, type);
        if (!name || !*name)
            return conv_fail(c, "tools", "tools.%d.name: Field required", i);
        const cJSON *schema = member(t, "input_schema");
        const cJSON *description = member(t, "description");
        const cJSON *strict = member(t, "strict");
        char cut[TOOL_NAME_MAX + 1];
        cJSON *tool = add(c, out, NULL, cJSON_CreateObject());
        add_string(c, tool, "type", "function");
        cJSON *fn = add(c, tool, "function", cJSON_CreateObject());
        add_string(c, fn, "name", tool_name_upstream(name, cut));
        if (cJSON_IsString(description))
            add_copy(c, fn, "description", description);
        if (cJSON_IsObject(schema)) {
            add_copy(c, fn, "parameters", schema);
        } else {
            cJSON *p = add(c, fn, "parameters", cJSON_CreateObject());
            add_string(c, p, "type", "object");
            add(c, p, "properties", cJSON_CreateObject());
        }
        if (cJSON_IsBool(strict))
            add_copy(c, fn, "strict", strict);
        i++;
    }
    return 0;
}

/* tool_choice auto/any/tool/none -> "auto"/"required"/{function}/"none";
 * disable_parallel_tool_use -> parallel_tool_calls:false. */
static int convert_tool_choice(conv_t *c, const cJSON *tc, cJSON *out)
{
    const char *type = member_string(tc, "type");
    if (!type)
        return conv_fail(c, "tool_choice", "tool_choice.type: Field required");
    if (strcmp(type, "auto") == 0) {
        add_string(c, out, "tool_choice", "auto");
    } else if (strcmp(type, "any") == 0) {
        add_string(c, out, "tool_choice", "required");
    } else if (strcmp(type, "none") == 0) {
        add_string(c, out, "tool_choice", "none");
    } else if (strcmp(type, "tool") == 0) {
        const char *name = member_string(tc, "name");
        if (!name)
            return conv_fail(c, "tool_choice", "tool_choice.name: Field required");
        char cut[TOOL_NAME_MAX + 1];
        cJSON *choice = add(c, out, "tool_choice", cJSON_CreateObject());
        add_string(c, choice, "type", "function");
        cJSON *fn = add(c, choice, "function", cJSON_CreateObject());
        add_string(c, fn, "name", tool_name_upstream(name, cut));
    } else {
        return conv_fail(c, "tool_choice",
                         "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
    }
    if (cJSON_IsTrue(member(tc, "disable_parallel_tool_use")))
        add(c, out, "parallel_tool_calls", cJSON_CreateFalse());
    return 0;
}

/* thinking {type:"enabled", budget_tokens} -> reasoning_effort by budget: below 5,000 "low",
 * below 10,000 "medium", else "high" (LiteLLM's thresholds, with its "minimal" below 2,000
 * folded into "low" because most OpenAI-shaped servers reject "minimal"). Disabled and adaptive
 * thinking send nothing. output_config.effort (low/medium/high, max as high) applies when
 * thinking does not say. */
static const char *reasoning_effort(const cJSON *req)
{
    const cJSON *thinking = member(req, "thinking");
    const char *type = member_string(thinking, "type");
    if (type && strcmp(type, "enabled") == 0) {
        const cJSON *budget = member(thinking, "budget_tokens");
        double b = cJSON_IsNumber(budget) ? budget->valuedouble : 0;
        return b >= 10000 ? "high" : b >= 5000 ? "medium" : "low";
    }
    const char *effort = member_string(member(req, "output_config"), "effort");
    if (!effort)
        return NULL;
    if (strcmp(effort, "low") == 0 || strcmp(effort, "medium") == 0 || strcmp(effort, "high") == 0)
        return effort;
    return strcmp(effort, "max") == 0 ? "high" : NULL;
}

/* output_config.format (or the older output_format) {type:"json_schema", schema} ->
 * response_format json_schema named "structured_output", strict, as LiteLLM names it. */
static void convert_output_format(conv_t *c, const cJSON *req, cJSON *out)
{
    const cJSON *format = member(member(req, "output_config"), "format");
    if (!format)
        format = member(req, "output_format");
    const char *type = member_string(format, "type");
    const cJSON *schema = member(format, "schema");
    if (!type || strcmp(type, "json_schema") != 0 || !cJSON_IsObject(schema))
        return;
    cJSON *rf = add(c, out, "response_format", cJSON_CreateObject());
    add_string(c, rf, "type", "json_schema");
    cJSON *js = add(c, rf, "json_schema", cJSON_CreateObject());
    add_string(c, js, "name", "structured_output");
    add_copy(c, js, "schema", schema);
    add(c, js, "strict", cJSON_CreateTrue());
}

/* Checks the top-level fields whose type a Messages request fixes. */
static int check_request(conv_t *c, const cJSON *req)
{
    const cJSON *v = member(req, "model");
    if (!v)
        return conv_fail(c, "model", "model: Field required");
    if (!cJSON_IsString(v) || !*v->valuestring)
        return conv_fail(c, "model", "model: Input should be a non-empty string");
    v = member(req, "max_tokens");
    if (!v)
        return conv_fail(c, "max_tokens", "max_tokens: Field required");
    if (!is_whole_number(v, 1))
        return conv_fail(c, "max_tokens", "max_tokens: Input should be an integer of at least 1");
    v = member(req, "messages");
    if (!v)
        return conv_fail(c, "messages", "messages: Field required");
    if (!cJSON_IsArray(v))
        return conv_fail(c, "messages", "messages: Input should be a valid list");
    if (cJSON_GetArraySize(v) == 0)
        return conv_fail(c, "messages", "messages: at least one message is required");
    static const char *const numbers[] = {"temperature", "top_p", "top_k"};
    for (size_t i = 0; i < COUNTOF(numbers); i++) {
        v = member(req, numbers[i]);
        if (v && !cJSON_IsNull(v) && !cJSON_IsNumber(v))
            return conv_fail(c, numbers[i], "%s: Input should be a valid number", numbers[i]);
    }
    v = member(req, "system");
    if (v && !cJSON_IsNull(v) && !cJSON_IsString(v) && !cJSON_IsArray(v))
        return conv_fail(c, "system", "system: Input should be a valid list or string");
    v = member(req, "stop_sequences");
    if (v && !cJSON_IsNull(v)) {
        const cJSON *s;
        bool ok = cJSON_IsArray(v);
        cJSON_ArrayForEach(s, as_array(v)) ok = ok && cJSON_IsString(s);
        if (!ok)
            return conv_fail(c, "stop_sequences",
                             "stop_sequences: Input should be a list of strings");
    }
    v = member(req, "stream");
    if (v && !cJSON_IsNull(v) && !cJSON_IsBool(v))
        return conv_fail(c, "stream", "stream: Input should be a valid boolean");
    v = member(req, "tools");
    if (v && !cJSON_IsNull(v) && !cJSON_IsArray(v))
        return conv_fail(c, "tools", "tools: Input should be a valid list");
    static const char *const objects[] = {"tool_choice", "metadata", "thinking"};
    for (size_t i = 0; i < COUNTOF(objects); i++) {
        v = member(req, objects[i]);
        if (v && !cJSON_IsNull(v) && !cJSON_IsObject(v))
            return conv_fail(c, objects[i], "%s: Input should be an object", objects[i]);
    }
    v = member(member(req, "metadata"), "user_id");
    if (v && !cJSON_IsNull(v) && !cJSON_IsString(v))
        return conv_fail(c, "metadata", "metadata.user_id: Input should be a valid string");
    return 0;
}

/* Fields not mapped here (top_k, service_tier, container, mcp_servers, cache_control, ...) are
 * dropped: they mean nothing to an OpenAI-shaped server, which would reject them. */
static int anthropic_to_chat(const cJSON *req, cJSON **chat_req, prov_error_t *err)
{
    conv_t c = {.err = err};
    *chat_req = NULL;
    if (!cJSON_IsObject(req))
        return conv_fail(&c, NULL, "the request body must be a JSON object");
    if (check_request(&c, req) < 0)
        return -1;
    cJSON *out = cJSON_CreateObject();
    if (!out)
        return prov_fail(err, 500, NULL, "out of memory");
    add_copy(&c, out, "model", member(req, "model"));
    cJSON *msgs = add(&c, out, "messages", cJSON_CreateArray());
    const cJSON *system = member(req, "system");
    if (system && !cJSON_IsNull(system) && add_system(&c, system, "system", msgs) < 0)
        goto fail;
    if (convert_messages(&c, member(req, "messages"), msgs) < 0)
        goto fail;
    add_copy(&c, out, "max_tokens", member(req, "max_tokens"));
    if (cJSON_IsNumber(member(req, "temperature")))
        add_copy(&c, out, "temperature", member(req, "temperature"));
    if (cJSON_IsNumber(member(req, "top_p")))
        add_copy(&c, out, "top_p", member(req, "top_p"));
    const cJSON *stops = member(req, "stop_sequences");
    if (cJSON_GetArraySize(stops) > 0)
        add_copy(&c, out, "stop", stops);
    if (cJSON_IsTrue(member(req, "stream"))) {
        add(&c, out, "stream", cJSON_CreateTrue());
        cJSON *so = add(&c, out, "stream_options", cJSON_CreateObject());
        add(&c, so, "include_usage", cJSON_CreateTrue());
    }
    /* OpenAI refuses tool_choice without tools, so a choice comes only with tools */
    const cJSON *tools = member(req, "tools");
    if (cJSON_GetArraySize(tools) > 0) {
        if (convert_tools(&c, tools, add(&c, out, "tools", cJSON_CreateArray())) < 0)
            goto fail;
        const cJSON *tc = member(req, "tool_choice");
        if (cJSON_IsObject(tc) && convert_tool_choice(&c, tc, out) < 0)
            goto fail;
    }
    const char *user = member_string(member(req, "metadata"), "user_id");
    if (user)
        add_string(&c, out, "user", user);
    const char *effort = reasoning_effort(req);
    if (effort)
        add_string(&c, out, "reasoning_effort", effort);
    convert_output_format(&c, req, out);
    if (c.oom) {
        prov_fail(err, 500, NULL, "out of memory");
        goto fail;
    }
    *chat_req = out;
    return 0;
fail:
    if (!c.failed)
        prov_fail(err, 500, NULL, "out of memory");
    cJSON_Delete(out);
    return -1;
}

/* ---- writing JSON text ------------------------------------------------------------------- */

/* Appends to a buffer and remembers the first failure, so writers check once at the end. */
typedef struct {
    buf_t *b;
    int err;
} jw_t;

static void jw_raw(jw_t *w, const char *s, size_t n)
{
    if (buf_append(w->b, s, n) != 0)
        w->err = -1;
}

#define JW_LIT(w, s) jw_raw((w), "" s, sizeof(s) - 1)

/* The comma before a list element that is not the first. */
static void jw_sep(jw_t *w, int count)
{
    if (count)
        JW_LIT(w, ",");
}

static void jw_str(jw_t *w, const char *s)
{
    if (buf_append_json_string(w->b, str_cstr(s ? s : "")) != 0)
        w->err = -1;
}

static void jw_num(jw_t *w, long long v)
{
    if (buf_append_u64(w->b, v > 0 ? (unsigned long long)v : 0) != 0)
        w->err = -1;
}

static void jw_json(jw_t *w, const cJSON *v)
{
    char *text = cJSON_PrintUnformatted(v);
    if (!text) {
        w->err = -1;
        return;
    }
    jw_raw(w, text, strlen(text));
    free(text);
}

/* A random id: `prefix` (at most 15 bytes) and 24 letters and digits. */
static void random_id(const char *prefix, char out[40])
{
    char rnd[40];
    prov_new_id(rnd); /* "chatcmpl-" + 24 random characters */
    size_t n = strnlen(prefix, 15);
    memcpy(out, prefix, n);
    memcpy(out + n, rnd + 9, 24);
    out[n + 24] = 0;
}

static void jw_random_id(jw_t *w, const char *prefix)
{
    char id[40];
    random_id(prefix, id);
    jw_str(w, id);
}

/* The message id: an upstream "msg_..." id as is, "chatcmpl-X" as "msg_X", any other id with
 * "msg_" in front, none a random one. Deterministic, so one answer always gets one id. */
static void jw_message_id(jw_t *w, const char *chat_id)
{
    if (!chat_id || !*chat_id) {
        jw_random_id(w, "msg_");
        return;
    }
    if (strncmp(chat_id, "msg_", 4) == 0) {
        jw_str(w, chat_id);
        return;
    }
    if (strncmp(chat_id, "chatcmpl-", 9) == 0 && chat_id[9])
        chat_id += 9;
    buf_t id = {0};
    if (buf_append_cstr(&id, "msg_") != 0 || buf_append_cstr(&id, chat_id) != 0)
        w->err = -1;
    else if (buf_append_json_string(w->b, str_make(id.p, id.n)) != 0)
        w->err = -1;
    buf_free(&id);
}

/* ---- usage and stop reasons --------------------------------------------------------------- */

typedef struct {
    long long input, output, cache_read, cache_creation;
} usage_t;

/* OpenAI usage -> Anthropic's: prompt_tokens counts cached tokens, input_tokens does not.
 * cache_creation_input_tokens is read where LiteLLM-shaped usage carries it, else 0. */
static usage_t usage_from_chat(const cJSON *u)
{
    usage_t r = {0};
    r.output = member_count(u, "completion_tokens");
    r.cache_read = member_count(member(u, "prompt_tokens_details"), "cached_tokens");
    r.cache_creation = member_count(u, "cache_creation_input_tokens");
    long long prompt = member_count(u, "prompt_tokens");
    r.input = MAX(0, prompt - r.cache_read - r.cache_creation);
    return r;
}

/* {"input_tokens":..,"cache_creation_input_tokens":..,"cache_read_input_tokens":..,
 *  "output_tokens":..} in Anthropic's order */
static void jw_usage(jw_t *w, const usage_t *u)
{
    JW_LIT(w, "{\"input_tokens\":");
    jw_num(w, u->input);
    JW_LIT(w, ",\"cache_creation_input_tokens\":");
    jw_num(w, u->cache_creation);
    JW_LIT(w, ",\"cache_read_input_tokens\":");
    jw_num(w, u->cache_read);
    JW_LIT(w, ",\"output_tokens\":");
    jw_num(w, u->output);
    JW_LIT(w, "}");
}

/* OpenAI finish_reason -> stop_reason. An answer that ends in tool calls is "tool_use" whatever
 * the provider said (some say "stop"), because Anthropic clients run tools on that reason. */
static const char *stop_reason_for(const char *finish, bool has_tool_use)
{
    if (finish && strcmp(finish, "length") == 0)
        return "max_tokens";
    if (finish && strcmp(finish, "content_filter") == 0)
        return "refusal";
    if (has_tool_use ||
        (finish && (strcmp(finish, "tool_calls") == 0 || strcmp(finish, "function_call") == 0)))
        return "tool_use";
    return "end_turn";
}

/* The stop sequence that ended the answer, when the provider names it (vLLM's choice
 * "stop_reason") and the client asked for it; else NULL. OpenAI does not say which matched. */
static const char *matched_stop(const cJSON *choice, const cJSON *client_stops)
{
    const char *said = member_string(choice, "stop_reason");
    const cJSON *s;
    if (!said)
        return NULL;
    cJSON_ArrayForEach(s, as_array(client_stops))
    {
        if (cJSON_IsString(s) && strcmp(s->valuestring, said) == 0)
            return s->valuestring;
    }
    return NULL;
}

/* The reasoning text of a message or delta: reasoning_content, or "reasoning" (OpenRouter,
 * newer vLLM). */
static const char *reasoning_text(const cJSON *msg)
{
    const char *r = member_string(msg, "reasoning_content");
    return r ? r : member_string(msg, "reasoning");
}

/* ---- response: chat.completion -> Anthropic message --------------------------------------- */

static void jw_thinking_blocks(jw_t *w, const cJSON *msg, int *count)
{
    const cJSON *blocks = member(msg, "thinking_blocks"); /* LiteLLM's field, with signatures */
    const cJSON *b;
    cJSON_ArrayForEach(b, as_array(blocks))
    {
        const char *type = member_string(b, "type");
        if (!type)
            continue;
        if (strcmp(type, "thinking") == 0) {
            jw_sep(w, *count);
            JW_LIT(w, "{\"type\":\"thinking\",\"thinking\":");
            jw_str(w, member_string(b, "thinking"));
            JW_LIT(w, ",\"signature\":");
            jw_str(w, member_string(b, "signature"));
            JW_LIT(w, "}");
            (*count)++;
        } else if (strcmp(type, "redacted_thinking") == 0) {
            jw_sep(w, *count);
            JW_LIT(w, "{\"type\":\"redacted_thinking\",\"data\":");
            jw_str(w, member_string(b, "data"));
            JW_LIT(w, "}");
            (*count)++;
        }
    }
    if (*count)
        return;
    const char *r = reasoning_text(msg);
    if (r && *r) {
        JW_LIT(w, "{\"type\":\"thinking\",\"thinking\":");
        jw_str(w, r);
        JW_LIT(w, ",\"signature\":\"\"}");
        (*count)++;
    }
}

/* The answer's text: a string, or the text parts some servers send as a list; a refusal when
 * there is no text. Returns the text block's text in `out` (empty: no block). */
static int message_text(const cJSON *msg, buf_t *out)
{
    const cJSON *content = member(msg, "content");
    if (cJSON_IsString(content))
        return buf_append_cstr(out, content->valuestring);
    const cJSON *p;
    cJSON_ArrayForEach(p, as_array(content))
    {
        const char *text = member_string(p, "text");
        if (text && buf_append_cstr(out, text) != 0)
            return -1;
    }
    const char *refusal = member_string(msg, "refusal");
    if (out->n == 0 && refusal)
        return buf_append_cstr(out, refusal);
    return 0;
}

/* A tool call's arguments as the tool_use input object: parsed JSON text, an object as is,
 * and {} for anything else (unparsable text, arrays, scalars). */
static void jw_tool_input(jw_t *w, const cJSON *args)
{
    if (cJSON_IsObject(args)) {
        jw_json(w, args);
        return;
    }
    cJSON *parsed = cJSON_IsString(args) ? cJSON_Parse(args->valuestring) : NULL;
    if (cJSON_IsObject(parsed))
        jw_json(w, parsed);
    else
        JW_LIT(w, "{}");
    cJSON_Delete(parsed);
}

static int anthropic_from_chat(const cJSON *resp, const cJSON *client_req, str_t model, buf_t *out)
{
    const cJSON *choice = cJSON_GetArrayItem(member(resp, "choices"), 0);
    if (!cJSON_IsObject(resp) || !cJSON_IsObject(choice))
        return -1;
    const cJSON *msg = member(choice, "message");
    size_t start = out->n;
    jw_t w = {out, 0};

    JW_LIT(&w, "{\"id\":");
    jw_message_id(&w, member_string(resp, "id"));
    JW_LIT(&w, ",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
    const char *fallback = member_string(client_req, "model");
    if (!fallback)
        fallback = member_string(resp, "model");
    if (model.n && buf_append_json_string(out, model) != 0)
        w.err = -1;
    else if (!model.n)
        jw_str(&w, fallback);

    JW_LIT(&w, ",\"content\":[");
    int blocks = 0;
    jw_thinking_blocks(&w, msg, &blocks);
    buf_t text = {0};
    if (message_text(msg, &text) != 0)
        w.err = -1;
    if (text.n) {
        jw_sep(&w, blocks);
        JW_LIT(&w, "{\"type\":\"text\",\"text\":");
        if (buf_append_json_string(out, str_make(text.p, text.n)) != 0)
            w.err = -1;
        JW_LIT(&w, "}");
        blocks++;
    }
    buf_free(&text);
    const cJSON *call;
    bool has_tool_use = false;
    const cJSON *calls = member(msg, "tool_calls");
    cJSON_ArrayForEach(call, as_array(calls))
    {
        const cJSON *fn = member(call, "function");
        if (!cJSON_IsObject(fn))
            continue;
        const char *id = member_string(call, "id");
        const char *name = member_string(fn, "name");
        jw_sep(&w, blocks);
        JW_LIT(&w, "{\"type\":\"tool_use\",\"id\":");
        if (id && *id)
            jw_str(&w, id);
        else
            jw_random_id(&w, "toolu_");
        JW_LIT(&w, ",\"name\":");
        jw_str(&w, tool_name_client(member(client_req, "tools"), true, name ? name : ""));
        JW_LIT(&w, ",\"input\":");
        jw_tool_input(&w, member(fn, "arguments"));
        JW_LIT(&w, "}");
        blocks++;
        has_tool_use = true;
    }

    const char *finish = member_string(choice, "finish_reason");
    const char *stop = finish && strcmp(finish, "stop") == 0
                           ? matched_stop(choice, member(client_req, "stop_sequences"))
                           : NULL;
    JW_LIT(&w, "],\"stop_reason\":");
    jw_str(&w, stop ? "stop_sequence" : stop_reason_for(finish, has_tool_use));
    JW_LIT(&w, ",\"stop_sequence\":");
    if (stop)
        jw_str(&w, stop);
    else
        JW_LIT(&w, "null");
    JW_LIT(&w, ",\"usage\":");
    usage_t u = usage_from_chat(member(resp, "usage"));
    jw_usage(&w, &u);
    JW_LIT(&w, "}");
    if (w.err) {
        out->n = start;
        return -1;
    }
    return 0;
}

/* ---- streams: chunks -> Anthropic SSE events ----------------------------------------------- */

typedef enum { BLOCK_NONE, BLOCK_TEXT, BLOCK_THINKING, BLOCK_TOOL } block_kind_t;

typedef struct {
    long long openai_index; /* the tool call's index in OpenAI deltas */
    int block;              /* its content block index */
    char *id;               /* as sent in content_block_start (owned) */
} stream_tool_t;

struct api_stream_enc {
    char *model;       /* the client's model name (owned) */
    cJSON *stops;      /* the client's stop_sequences (a copy), or NULL */
    cJSON *long_names; /* the client's tool names too long for OpenAI (copies), or NULL */
    bool started;      /* message_start written */
    bool finished;     /* message_stop or an error written: nothing more goes out */
    block_kind_t open_kind;
    int open_block; /* index of the open content block, -1 when none */
    int next_block;
    stream_tool_t *tools;
    size_t num_tools, cap_tools;
    char finish[24];     /* the OpenAI finish_reason seen, "" when none */
    char *stop_sequence; /* the stop sequence the provider named, or NULL (owned) */
    bool usage_known;
    usage_t usage;
};

static api_stream_enc_t *anthropic_stream_new(const cJSON *client_req, str_t model)
{
    api_stream_enc_t *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    const char *name = model.n ? NULL : member_string(client_req, "model");
    e->model = model.n ? strndup(model.p, model.n) : strdup(name ? name : "");
    e->open_block = -1;
    const cJSON *stops = member(client_req, "stop_sequences");
    if (cJSON_IsArray(stops))
        e->stops = cJSON_Duplicate(stops, 1);
    const cJSON *t;
    cJSON_ArrayForEach(t, as_array(member(client_req, "tools")))
    {
        const char *n = member_string(t, "name");
        if (!n || strlen(n) <= TOOL_NAME_MAX)
            continue;
        if (!e->long_names)
            e->long_names = cJSON_CreateArray();
        if (!e->long_names || !cJSON_AddItemToArray(e->long_names, cJSON_CreateString(n))) {
            e->finished = true; /* out of memory: refuse the stream rather than rename tools */
            break;
        }
    }
    if (!e->model || (cJSON_IsArray(stops) && !e->stops) || e->finished) {
        free(e->model);
        cJSON_Delete(e->stops);
        cJSON_Delete(e->long_names);
        free(e);
        return NULL;
    }
    return e;
}

static void anthropic_stream_free(api_stream_enc_t *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->num_tools; i++)
        free(e->tools[i].id);
    free(e->tools);
    free(e->model);
    free(e->stop_sequence);
    cJSON_Delete(e->stops);
    cJSON_Delete(e->long_names);
    free(e);
}

/* "event: <type>\ndata: {"type":"<type>"" ... the caller writes the rest and event_end. */
static void event_begin(jw_t *w, const char *type)
{
    JW_LIT(w, "event: ");
    jw_raw(w, type, strlen(type));
    JW_LIT(w, "\ndata: {\"type\":\"");
    jw_raw(w, type, strlen(type));
    JW_LIT(w, "\"");
}

static void event_end(jw_t *w)
{
    JW_LIT(w, "}\n\n");
}

/* message_start (content empty, input tokens when a chunk already told them) and a ping, as
 * Anthropic sends one right after. */
static void stream_start(api_stream_enc_t *e, const char *chat_id, jw_t *w)
{
    event_begin(w, "message_start");
    JW_LIT(w, ",\"message\":{\"id\":");
    jw_message_id(w, chat_id);
    JW_LIT(w, ",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
    jw_str(w, e->model);
    JW_LIT(w, ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":");
    usage_t u = e->usage;
    u.output = 0;
    jw_usage(w, &u);
    JW_LIT(w, "}");
    event_end(w);
    event_begin(w, "ping");
    event_end(w);
    e->started = true;
}

static void block_stop(api_stream_enc_t *e, jw_t *w)
{
    if (e->open_block < 0)
        return;
    event_begin(w, "content_block_stop");
    JW_LIT(w, ",\"index\":");
    jw_num(w, e->open_block);
    event_end(w);
    e->open_block = -1;
    e->open_kind = BLOCK_NONE;
}

/* Opens a content block of `kind` unless one is open; returns its index. */
static int block_open(api_stream_enc_t *e, block_kind_t kind, jw_t *w)
{
    if (e->open_block >= 0 && e->open_kind == kind)
        return e->open_block;
    block_stop(e, w);
    e->open_block = e->next_block++;
    e->open_kind = kind;
    event_begin(w, "content_block_start");
    JW_LIT(w, ",\"index\":");
    jw_num(w, e->open_block);
    if (kind == BLOCK_TEXT)
        JW_LIT(w, ",\"content_block\":{\"type\":\"text\",\"text\":\"\"}");
    else
        JW_LIT(w,
               ",\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}");
    event_end(w);
    return e->open_block;
}

static void block_delta(jw_t *w, int block, const char *delta_type, const char *field,
                        const char *value)
{
    event_begin(w, "content_block_delta");
    JW_LIT(w, ",\"index\":");
    jw_num(w, block);
    JW_LIT(w, ",\"delta\":{\"type\":\"");
    jw_raw(w, delta_type, strlen(delta_type));
    JW_LIT(w, "\",\"");
    jw_raw(w, field, strlen(field));
    JW_LIT(w, "\":");
    jw_str(w, value);
    JW_LIT(w, "}");
    event_end(w);
}

/* The tool a tool-call delta belongs to, starting its tool_use block when it is new. Calls are
 * told apart by `index` (the newest call with it, when a new id reused it); a server that sends
 * no index starts a call with each new id. */
static stream_tool_t *stream_tool(api_stream_enc_t *e, const cJSON *tc, jw_t *w)
{
    const cJSON *index = member(tc, "index");
    const char *id = member_string(tc, "id");
    stream_tool_t *last = e->num_tools ? &e->tools[e->num_tools - 1] : NULL;
    long long k;
    if (cJSON_IsNumber(index)) {
        double d = index->valuedouble;
        k = d < 0 ? -1 : d > 1e9 ? 1000000000LL : (long long)d;
        for (size_t i = e->num_tools; i-- > 0;) {
            if (e->tools[i].openai_index != k)
                continue;
            if (!id || !*id || strcmp(id, e->tools[i].id) == 0)
                return &e->tools[i];
            break; /* a new call on a used index: some servers number every call 0 */
        }
    } else {
        if (last && (!id || !*id || strcmp(id, last->id) == 0))
            return last;
        k = last ? last->openai_index + 1 : 0;
    }
    if (!e->tools || e->num_tools == e->cap_tools) {
        size_t cap = e->cap_tools ? 2 * e->cap_tools : 4;
        stream_tool_t *t = realloc(e->tools, cap * sizeof *t);
        if (!t) {
            w->err = -1;
            return NULL;
        }
        e->tools = t;
        e->cap_tools = cap;
    }
    char minted[40];
    if (!id || !*id) {
        random_id("toolu_", minted);
        id = minted;
    }
    char *own = strdup(id);
    if (!own) {
        w->err = -1;
        return NULL;
    }
    block_stop(e, w);
    stream_tool_t *t = &e->tools[e->num_tools++];
    t->openai_index = k;
    t->block = e->next_block++;
    t->id = own;
    e->open_block = t->block;
    e->open_kind = BLOCK_TOOL;
    const char *name = member_string(member(tc, "function"), "name");
    event_begin(w, "content_block_start");
    JW_LIT(w, ",\"index\":");
    jw_num(w, t->block);
    JW_LIT(w, ",\"content_block\":{\"type\":\"tool_use\",\"id\":");
    jw_str(w, t->id);
    JW_LIT(w, ",\"name\":");
    jw_str(w, tool_name_client(e->long_names, false, name ? name : ""));
    JW_LIT(w, ",\"input\":{}}");
    event_end(w);
    return t;
}

static void stream_tool_calls(api_stream_enc_t *e, const cJSON *calls, jw_t *w)
{
    const cJSON *tc;
    cJSON_ArrayForEach(tc, calls)
    {
        if (!cJSON_IsObject(tc))
            continue;
        stream_tool_t *t = stream_tool(e, tc, w);
        if (!t)
            return;
        const cJSON *args = member(member(tc, "function"), "arguments");
        if (cJSON_IsString(args) && *args->valuestring) {
            block_delta(w, t->block, "input_json_delta", "partial_json", args->valuestring);
        } else if (cJSON_IsObject(args)) { /* a server that sends the arguments parsed */
            char *text = cJSON_PrintUnformatted(args);
            if (!text)
                w->err = -1;
            else
                block_delta(w, t->block, "input_json_delta", "partial_json", text);
            free(text);
        }
    }
}

/* A chunk that carries an OpenAI error ({"error":{...}}, as some servers end a failed stream):
 * the Anthropic error event, typed from a numeric code when there is one. */
static void stream_error_chunk(api_stream_enc_t *e, const cJSON *error, jw_t *w)
{
    const cJSON *code = member(error, "code");
    int status = 500;
    if (cJSON_IsNumber(code) && code->valuedouble >= 100 && code->valuedouble < 600)
        status = (int)code->valuedouble;
    else if (cJSON_IsString(code) && atoi(code->valuestring) >= 100 &&
             atoi(code->valuestring) < 600)
        status = atoi(code->valuestring);
    const char *message = member_string(error, "message");
    event_begin(w, "error");
    JW_LIT(w, ",\"error\":{\"type\":");
    jw_str(w, error_type_for(status));
    JW_LIT(w, ",\"message\":");
    jw_str(w, message ? message : "the provider's stream failed");
    JW_LIT(w, "}");
    event_end(w);
    e->finished = true;
}

/* Only choice 0 is encoded (Anthropic has one answer per message). Within a delta, reasoning
 * comes before text and text before tool calls, the order Anthropic's blocks take. */
static int anthropic_stream_chunk(api_stream_enc_t *e, const cJSON *chunk, buf_t *out)
{
    if (e->finished)
        return 0;
    if (!cJSON_IsObject(chunk))
        return -1;
    size_t start = out->n;
    jw_t w = {out, 0};
    const cJSON *error = member(chunk, "error");
    if (cJSON_IsObject(error) && !member(chunk, "choices")) {
        stream_error_chunk(e, error, &w);
        goto done;
    }
    const cJSON *usage = member(chunk, "usage");
    if (cJSON_IsObject(usage)) {
        e->usage = usage_from_chat(usage);
        e->usage_known = true;
    }
    if (!e->started)
        stream_start(e, member_string(chunk, "id"), &w);
    const cJSON *choice = NULL, *c;
    cJSON_ArrayForEach(c, as_array(member(chunk, "choices")))
    {
        const cJSON *index = member(c, "index");
        if (cJSON_IsObject(c) && (!index || (cJSON_IsNumber(index) && index->valuedouble == 0))) {
            choice = c;
            break;
        }
    }
    if (!choice)
        goto done;
    const cJSON *delta = member(choice, "delta");
    const char *reasoning = reasoning_text(delta);
    if (reasoning && *reasoning)
        block_delta(&w, block_open(e, BLOCK_THINKING, &w), "thinking_delta", "thinking", reasoning);
    const char *text = member_string(delta, "content");
    if (text && *text)
        block_delta(&w, block_open(e, BLOCK_TEXT, &w), "text_delta", "text", text);
    const cJSON *calls = member(delta, "tool_calls");
    if (cJSON_IsArray(calls))
        stream_tool_calls(e, calls, &w);
    const char *finish = member_string(choice, "finish_reason");
    if (finish) {
        snprintf(e->finish, sizeof e->finish, "%s", finish);
        const char *stop = strcmp(finish, "stop") == 0 ? matched_stop(choice, e->stops) : NULL;
        if (stop && !e->stop_sequence && !(e->stop_sequence = strdup(stop)))
            w.err = -1;
        block_stop(e, &w); /* the answer is complete; only usage may follow */
    }
done:
    if (w.err) {
        out->n = start;
        return -1;
    }
    return 0;
}

/* After the last chunk: closes the open block, then message_delta (stop reason; usage when a
 * chunk carried it, else output_tokens 0, which clients require) and message_stop. A stream
 * that ended without a finish_reason ends as end_turn (tool_use after tool calls). */
static int anthropic_stream_end(api_stream_enc_t *e, buf_t *out)
{
    if (e->finished)
        return 0;
    size_t start = out->n;
    jw_t w = {out, 0};
    if (!e->started)
        stream_start(e, NULL, &w);
    block_stop(e, &w);
    event_begin(&w, "message_delta");
    JW_LIT(&w, ",\"delta\":{\"stop_reason\":");
    if (e->stop_sequence) {
        JW_LIT(&w, "\"stop_sequence\",\"stop_sequence\":");
        jw_str(&w, e->stop_sequence);
    } else {
        jw_str(&w, stop_reason_for(e->finish[0] ? e->finish : NULL, e->num_tools > 0));
        JW_LIT(&w, ",\"stop_sequence\":null");
    }
    JW_LIT(&w, "},\"usage\":");
    if (e->usage_known) {
        jw_usage(&w, &e->usage);
    } else {
        JW_LIT(&w, "{\"output_tokens\":0}");
    }
    event_end(&w);
    event_begin(&w, "message_stop");
    event_end(&w);
    if (w.err) {
        out->n = start;
        return -1;
    }
    e->finished = true;
    return 0;
}

/* Written once; after message_stop or an earlier error event it writes nothing. */
static void anthropic_stream_error(api_stream_enc_t *e, int status, const char *message, buf_t *out)
{
    if (e && e->finished)
        return;
    size_t start = out->n;
    jw_t w = {out, 0};
    event_begin(&w, "error");
    JW_LIT(&w, ",\"error\":{\"type\":");
    jw_str(&w, error_type_for(status));
    JW_LIT(&w, ",\"message\":");
    jw_str(&w, message);
    JW_LIT(&w, "}");
    event_end(&w);
    if (w.err)
        out->n = start;
    if (e)
        e->finished = true;
}

/* ---- errors ----------------------------------------------------------------------------- */

/* Anthropic's envelope. The type comes from the status (the SDKs pick error classes by status
 * too); LiteLLM's `type` is not Anthropic vocabulary and is not used. */
static void anthropic_error_body(int status, const char *type, const char *message, buf_t *out)
{
    size_t start = out->n;
    jw_t w = {out, 0};
    JW_LIT(&w, "{\"type\":\"error\",\"error\":{\"type\":");
    jw_str(&w, error_type_for(status));
    JW_LIT(&w, ",\"message\":");
    jw_str(&w, message);
    JW_LIT(&w, "}}");
    if (w.err)
        out->n = start;
}

const api_format_t api_format_anthropic = {
    .name = "anthropic",
    .to_chat = anthropic_to_chat,
    .from_chat = anthropic_from_chat,
    .stream_new = anthropic_stream_new,
    .stream_chunk = anthropic_stream_chunk,
    .stream_end = anthropic_stream_end,
    .stream_error = anthropic_stream_error,
    .stream_free = anthropic_stream_free,
    .error_body = anthropic_error_body,
};

/* ---- count_tokens ------------------------------------------------------------------------ */

#define TOKENS_PER_MESSAGE 3
#define TOKENS_PER_IMAGE 1600 /* Anthropic's (width * height) / 750 for a ~1.15 megapixel image */

typedef struct {
    unsigned long long ascii;  /* ASCII characters: ~4 to a token */
    unsigned long long other;  /* other characters (UTF-8 lead bytes): ~1 token each */
    unsigned long long blocks; /* fixed costs already in tokens */
} tally_t;

static void tally_text(tally_t *t, const char *s)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x80)
            t->ascii++;
        else if ((ch & 0xC0) != 0x80)
            t->other++;
    }
}

static void tally_json(tally_t *t, const cJSON *v)
{
    if (!v)
        return;
    char *text = cJSON_PrintUnformatted(v);
    tally_text(t, text);
    free(text);
}

static void tally_content(tally_t *t, const cJSON *content, int depth)
{
    if (cJSON_IsString(content)) {
        tally_text(t, content->valuestring);
        return;
    }
    const cJSON *b;
    cJSON_ArrayForEach(b, as_array(content))
    {
        const char *type = member_string(b, "type");
        if (!type)
            continue;
        if (strcmp(type, "text") == 0) {
            tally_text(t, member_string(b, "text"));
        } else if (strcmp(type, "image") == 0) {
            t->blocks += TOKENS_PER_IMAGE;
        } else if (strcmp(type, "document") == 0) {
            const cJSON *source = member(b, "source");
            const char *st = member_string(source, "type");
            if (st && strcmp(st, "text") == 0)
                tally_text(t, member_string(source, "data"));
            else if (st && strcmp(st, "content") == 0 && depth < 4)
                tally_content(t, member(source, "content"), depth + 1);
            else
                t->blocks += TOKENS_PER_IMAGE;
        } else if (strcmp(type, "tool_use") == 0) {
            tally_text(t, member_string(b, "name"));
            tally_json(t, member(b, "input"));
        } else if (strcmp(type, "tool_result") == 0 && depth < 4) {
            tally_content(t, member(b, "content"), depth + 1);
        } else if (strcmp(type, "thinking") == 0) {
            tally_text(t, member_string(b, "thinking"));
        }
    }
}

int api_anthropic_count_tokens(const cJSON *req, long long *tokens)
{
    const cJSON *messages = member(req, "messages");
    if (!cJSON_IsArray(messages))
        return -1;
    tally_t t = {0};
    tally_content(&t, member(req, "system"), 0);
    const cJSON *m;
    cJSON_ArrayForEach(m, messages)
    {
        t.blocks += TOKENS_PER_MESSAGE;
        tally_content(&t, member(m, "content"), 0);
    }
    const cJSON *tool;
    cJSON_ArrayForEach(tool, as_array(member(req, "tools")))
    {
        tally_text(&t, member_string(tool, "name"));
        tally_text(&t, member_string(tool, "description"));
        tally_json(&t, member(tool, "input_schema"));
    }
    *tokens = (long long)(t.blocks + (t.ascii + 3) / 4 + t.other);
    return 0;
}
