/* SPDX-License-Identifier: MIT
 * gemini (Google AI Studio) and vertex_ai (Gemini models on Vertex AI): OpenAI chat requests
 * become generateContent / streamGenerateContent?alt=sse bodies, and Gemini's answers and SSE
 * events become chat.completion objects and chunks, the way LiteLLM translates them. Embeddings
 * go to batchEmbedContents (AI Studio) or :predict (Vertex). The two providers differ only in
 * the URL and the auth header; Vertex tokens come from providers/vertex_auth.c, never fetched
 * here. Not done here: downloading image URLs (LiteLLM inlines them; we need a file type). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/common.h"
#include "core/sse.h"
#include "providers/adapter.h"
#include "providers/vertex_auth.h"

typedef enum { GEM_STUDIO = 0, GEM_VERTEX } gem_api_t;

#define GEM_DEFAULT_BASE "https://generativelanguage.googleapis.com"
#define GEM_MAX_CANDIDATES 8
#define GEM_SCHEMA_MAX_DEPTH 32
#define GEM_THOUGHT_SEP "__thought__" /* LiteLLM carries thoughtSignature in tool call ids */

/* The OpenAI chat parameters the adapter maps (LiteLLM's VertexGeminiConfig list, plus the
 * provider-specific ones it passes through). */
static const char *const gem_chat_params[] = {"temperature",
                                              "top_p",
                                              "top_k",
                                              "max_tokens",
                                              "max_completion_tokens",
                                              "tools",
                                              "functions",
                                              "tool_choice",
                                              "response_format",
                                              "n",
                                              "stop",
                                              "seed",
                                              "logprobs",
                                              "top_logprobs",
                                              "modalities",
                                              "audio",
                                              "parallel_tool_calls",
                                              "web_search_options",
                                              "service_tier",
                                              "frequency_penalty",
                                              "presence_penalty",
                                              "reasoning_effort",
                                              "thinking",
                                              "safety_settings",
                                              "cached_content",
                                              "user",
                                              "extra_headers",
                                              NULL};

static const char *const gem_embed_params[] = {"input", "dimensions", "encoding_format",
                                               "user",  "task_type",  NULL};

static const cJSON *gem_get(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

static const char *gem_str(const cJSON *o, const char *name)
{
    const cJSON *v = gem_get(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool gem_present(const cJSON *v)
{
    return v && !cJSON_IsNull(v);
}

/* ---- URLs and headers ------------------------------------------------------------------- */

/* Model names reach the URL path; wildcard deployments let clients choose them. */
static bool gem_safe_segment(const char *s, bool slash_ok)
{
    if (!s || !*s || strstr(s, ".."))
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == '@' || (slash_ok && c == '/');
        if (!ok)
            return false;
    }
    return true;
}

static bool gem_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static const char *gem_param(const prov_ctx_t *ctx, const char *name, const char *env)
{
    const char *v = ctx->dep ? cfg_deployment_param(ctx->dep, name) : NULL;
    if (v && *v)
        return v;
    v = env ? getenv(env) : NULL;
    return v && *v ? v : NULL;
}

/* The request URL for `method` ("generateContent", "batchEmbedContents", ...). An api_base that
 * already names the model (".../models/<m>", as LiteLLM's custom proxies take it) gets only
 * ":method"; otherwise the standard path is appended. */
static const char *gem_url(const prov_ctx_t *ctx, gem_api_t api, const char *method, bool sse,
                           const char *project, const char *location, prov_error_t *err)
{
    arena_t *a = ctx->arena;
    char *model = arena_strndup(a, ctx->model.p ? ctx->model.p : "", ctx->model.n);
    if (!model)
        return NULL;
    if (strncmp(model, "models/", 7) == 0)
        model += 7;
    if (!gem_safe_segment(model, true)) {
        prov_fail(err, 400, "model",
                  "%s: invalid model name '%s' (letters, digits and - _ . @ / only)",
                  api == GEM_VERTEX ? "vertex_ai" : "gemini", model);
        return NULL;
    }
    const char *query = sse ? "?alt=sse" : "";
    const char *base = ctx->api_base;
    char *b = NULL;
    if (base && *base) {
        b = arena_strndup(a, base, strlen(base));
        if (!b)
            return NULL;
        size_t n = strlen(b);
        while (n && b[n - 1] == '/')
            b[--n] = '\0';
    }
    if (api == GEM_STUDIO) {
        if (!b) {
            const char *d =
                ctx->prov && ctx->prov->default_base ? ctx->prov->default_base : GEM_DEFAULT_BASE;
            b = arena_strndup(a, d, strlen(d));
        }
        if (strstr(b, "/models/"))
            return arena_printf(a, "%s:%s%s", b, method, query);
        if (gem_ends_with(b, "/v1beta") || gem_ends_with(b, "/v1") || gem_ends_with(b, "/v1alpha"))
            return arena_printf(a, "%s/models/%s:%s%s", b, model, method, query);
        return arena_printf(a, "%s/v1beta/models/%s:%s%s", b, model, method, query);
    }
    if (b && (strstr(b, "/publishers/") || strstr(b, "/endpoints/")))
        return arena_printf(a, "%s:%s%s", b, method, query);
    if (!gem_safe_segment(project, false) || !gem_safe_segment(location, false)) {
        prov_fail(err, 500, NULL,
                  "vertex_ai: vertex_project '%s' / vertex_location '%s' are missing or hold "
                  "characters that cannot go in a URL",
                  project ? project : "", location ? location : "");
        return NULL;
    }
    if (!b)
        b = strcmp(location, "global") == 0
                ? "https://aiplatform.googleapis.com"
                : arena_printf(a, "https://%s-aiplatform.googleapis.com", location);
    return arena_printf(a, "%s/v1/projects/%s/locations/%s/publishers/google/models/%s:%s%s", b,
                        project, location, model, method, query);
}

/* URL and headers for one call; Vertex reads its token (never waits for one). */
static int gem_target(const prov_ctx_t *ctx, gem_api_t api, const char *method, bool sse,
                      prov_http_t *out, prov_error_t *err)
{
    const char *lines[40];
    size_t n = 0;
    const char *project = NULL, *location = NULL;
    lines[n++] = "Content-Type: application/json";
    if (api == GEM_STUDIO) {
        if (ctx->api_key && *ctx->api_key)
            lines[n++] = prov_header_line(ctx->arena, "x-goog-api-key", ctx->api_key);
        else if (!ctx->api_base)
            return prov_fail(err, 401, NULL,
                             "gemini: no API key: set api_key in litellm_params or "
                             "GEMINI_API_KEY in the environment");
    } else {
        char msg[700];
        vauth_t *v = vauth_get(gem_param(ctx, "vertex_credentials", NULL), msg, sizeof msg);
        if (!v)
            return prov_fail(err, 500, NULL, "%s", msg);
        char token[4096];
        if (vauth_token(v, token, sizeof token) != 0)
            return prov_fail(err, 503, NULL,
                             "vertex_ai: no access token yet for these vertex_credentials (the "
                             "background refresher has not fetched one; see the log); retry "
                             "shortly");
        lines[n++] = arena_printf(ctx->arena, "Authorization: Bearer %s", token);
        project = gem_param(ctx, "vertex_project", "VERTEXAI_PROJECT");
        if (!project)
            project = vauth_project(v);
        location = gem_param(ctx, "vertex_location", "VERTEXAI_LOCATION");
        if (!location)
            location = "us-central1";
    }
    n += prov_extra_headers(ctx, lines + n, COUNTOF(lines) - n);
    out->method = "POST";
    out->url = gem_url(ctx, api, method, sse, project, location, err);
    if (!out->url)
        return err->status ? -1 : prov_fail(err, 500, NULL, "out of memory");
    out->headers = prov_headers(ctx->arena, lines, n);
    return out->headers ? 0 : prov_fail(err, 500, NULL, "out of memory");
}

/* ---- JSON schema -> Gemini's OpenAPI schema subset ---------------------------------------- */

static const char *const gem_schema_keys[] = {
    "type",          "format",    "title",     "description",      "nullable",
    "enum",          "maxItems",  "minItems",  "required",         "minProperties",
    "maxProperties", "minLength", "maxLength", "pattern",          "example",
    "default",       "minimum",   "maximum",   "propertyOrdering", NULL};

static bool gem_is_null_schema(const cJSON *s)
{
    const char *t = gem_str(s, "type");
    return t && strcmp(t, "null") == 0;
}

static cJSON *gem_schema(const cJSON *s, const cJSON *defs, int depth, bool ordering);

/* "#/$defs/Name" or "#/definitions/Name" from defs; NULL when unknown. */
static const cJSON *gem_schema_ref(const char *ref, const cJSON *defs)
{
    const char *name = NULL;
    if (strncmp(ref, "#/$defs/", 8) == 0)
        name = ref + 8;
    else if (strncmp(ref, "#/definitions/", 14) == 0)
        name = ref + 14;
    return name && defs ? gem_get(defs, name) : NULL;
}

/* Cleans a JSON Schema node as LiteLLM's _build_vertex_schema does: $ref resolved from $defs,
 * anyOf-with-null and ["x","null"] types become nullable, keys Gemini rejects
 * (additionalProperties, $schema, strict, ...) dropped, objects typed. NULL to drop the node. */
static cJSON *gem_schema(const cJSON *s, const cJSON *defs, int depth, bool ordering)
{
    if (!cJSON_IsObject(s) || depth > GEM_SCHEMA_MAX_DEPTH)
        return NULL;
    const char *ref = gem_str(s, "$ref");
    if (ref) {
        const cJSON *target = gem_schema_ref(ref, defs);
        cJSON *r = target ? gem_schema(target, defs, depth + 1, ordering) : NULL;
        const char *desc = gem_str(s, "description");
        if (r && desc && !gem_get(r, "description"))
            cJSON_AddStringToObject(r, "description", desc);
        return r ? r : cJSON_CreateObject();
    }
    cJSON *o = cJSON_CreateObject();
    bool nullable = false;
    const cJSON *anyof = gem_get(s, "anyOf");
    if (cJSON_IsArray(anyof)) {
        cJSON *items = cJSON_CreateArray();
        const cJSON *only = NULL;
        int count = 0;
        for (const cJSON *it = anyof->child; it; it = it->next) {
            if (gem_is_null_schema(it)) {
                nullable = true;
                continue;
            }
            cJSON *c = gem_schema(it, defs, depth + 1, ordering);
            if (c) {
                cJSON_AddItemToArray(items, c);
                only = it;
                count++;
            }
        }
        if (count == 1 && nullable) {
            /* Optional[X]: X itself, nullable */
            cJSON_Delete(items);
            cJSON_Delete(o);
            o = gem_schema(only, defs, depth + 1, ordering);
            if (!o)
                return NULL;
        } else if (count) {
            cJSON_AddItemToObject(o, "anyOf", items);
        } else {
            cJSON_Delete(items);
        }
    }
    const cJSON *type = gem_get(s, "type");
    if (cJSON_IsArray(type)) {
        const cJSON *first = NULL;
        for (const cJSON *t = type->child; t; t = t->next) {
            if (cJSON_IsString(t) && strcmp(t->valuestring, "null") == 0)
                nullable = true;
            else if (cJSON_IsString(t) && !first)
                first = t;
        }
        if (first && !gem_get(o, "type"))
            cJSON_AddStringToObject(o, "type", first->valuestring);
    }
    for (const char *const *k = gem_schema_keys; *k; k++) {
        const cJSON *v = gem_get(s, *k);
        if (!v || gem_get(o, *k) || (strcmp(*k, "type") == 0 && !cJSON_IsString(v)))
            continue;
        cJSON_AddItemToObject(o, *k, cJSON_Duplicate(v, 1));
    }
    const cJSON *props = gem_get(s, "properties");
    if (cJSON_IsObject(props)) {
        cJSON *p = cJSON_AddObjectToObject(o, "properties");
        cJSON *order = ordering && !gem_get(s, "propertyOrdering") ? cJSON_CreateArray() : NULL;
        for (const cJSON *it = props->child; it; it = it->next) {
            cJSON *c = gem_schema(it, defs, depth + 1, ordering);
            if (!c)
                continue;
            cJSON_AddItemToObject(p, it->string, c);
            if (order)
                cJSON_AddItemToArray(order, cJSON_CreateString(it->string));
        }
        if (order && cJSON_GetArraySize(order) > 0)
            cJSON_AddItemToObject(o, "propertyOrdering", order);
        else
            cJSON_Delete(order);
        if (!gem_get(o, "type"))
            cJSON_AddStringToObject(o, "type", "object");
    }
    cJSON *items = gem_schema(gem_get(s, "items"), defs, depth + 1, ordering);
    if (items)
        cJSON_AddItemToObject(o, "items", items);
    if (nullable && !gem_get(o, "nullable"))
        cJSON_AddTrueToObject(o, "nullable");
    return o;
}

/* A root schema: its $defs / definitions serve every $ref below it. */
static cJSON *gem_schema_root(const cJSON *s, bool ordering)
{
    const cJSON *defs = gem_get(s, "$defs");
    if (!defs)
        defs = gem_get(s, "definitions");
    return gem_schema(s, defs, 0, ordering);
}

/* ---- request: messages ------------------------------------------------------------------ */

typedef enum { GEM_TURN_NONE = 0, GEM_TURN_USER, GEM_TURN_MODEL, GEM_TURN_TOOL } gem_turn_t;

typedef struct {
    const prov_ctx_t *ctx;
    gem_api_t api;
    prov_error_t *err;
    const cJSON *messages;
    cJSON *contents; /* the array being built */
    cJSON *parts;    /* parts of the last content */
    gem_turn_t turn; /* kind of the last content */
    cJSON *system;   /* systemInstruction parts, or NULL */
} gem_msgs_t;

static const char *gem_api_name(gem_api_t api)
{
    return api == GEM_VERTEX ? "vertex_ai" : "gemini";
}

/* The parts array of a content of kind `turn`: the last one when it is of the same kind
 * (consecutive turns merge, as Gemini wants roles to alternate), else a new one. */
static cJSON *gem_turn_parts(gem_msgs_t *m, gem_turn_t turn)
{
    if (m->turn == turn && m->parts)
        return m->parts;
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "role", turn == GEM_TURN_MODEL ? "model" : "user");
    m->parts = cJSON_AddArrayToObject(c, "parts");
    cJSON_AddItemToArray(m->contents, c);
    m->turn = turn;
    return m->parts;
}

static void gem_add_text_part(cJSON *parts, const char *text)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "text", text);
    cJSON_AddItemToArray(parts, p);
}

/* The text of a message's content: a string, or the text parts of a list joined. */
static int gem_content_text(const cJSON *content, buf_t *out)
{
    if (cJSON_IsString(content))
        return buf_append_cstr(out, content->valuestring);
    if (cJSON_IsArray(content))
        for (const cJSON *it = content->child; it; it = it->next) {
            const char *t = gem_str(it, "text");
            if (t && (!gem_str(it, "type") || strcmp(gem_str(it, "type"), "text") == 0))
                buf_append_cstr(out, t);
        }
    return 0;
}

static const char *gem_mime_from_name(const char *url)
{
    static const struct {
        const char *ext, *mime;
    } map[] = {
        {".jpg", "image/jpeg"},  {".jpeg", "image/jpeg"},     {".png", "image/png"},
        {".webp", "image/webp"}, {".gif", "image/gif"},       {".heic", "image/heic"},
        {".heif", "image/heif"}, {".mp4", "video/mp4"},       {".mov", "video/mov"},
        {".mpeg", "video/mpeg"}, {".mpg", "video/mpeg"},      {".avi", "video/avi"},
        {".wmv", "video/wmv"},   {".mpegps", "video/mpegps"}, {".flv", "video/flv"},
        {".webm", "video/webm"}, {".mp3", "audio/mp3"},       {".wav", "audio/wav"},
        {".ogg", "audio/ogg"},   {".flac", "audio/flac"},     {".aac", "audio/aac"},
        {".m4a", "audio/m4a"},   {".pdf", "application/pdf"}, {".txt", "text/plain"},
        {".csv", "text/csv"},    {".html", "text/html"},      {".md", "text/md"},
    };
    size_t n = strcspn(url, "?#");
    for (size_t i = 0; i < COUNTOF(map); i++) {
        size_t k = strlen(map[i].ext);
        if (n >= k && strncasecmp(url + n - k, map[i].ext, k) == 0)
            return map[i].mime;
    }
    return NULL;
}

/* A media part from an image_url / file / audio reference: data: URLs inline, gs:// and http(s)
 * URLs by reference (their file type must be known: from `format` or the name). */
static cJSON *gem_media_part(gem_msgs_t *m, const char *url, const char *format, const char *where)
{
    if (strncmp(url, "data:", 5) == 0) {
        const char *comma = strchr(url, ',');
        const char *semi = strchr(url, ';');
        if (!comma || !semi || semi > comma || !strstr(semi, ";base64,") ||
            strstr(semi, ";base64,") > comma) {
            prov_fail(m->err, 400, "messages",
                      "%s: %s: a data: URL must be base64 (data:<mime>;base64,<data>)",
                      gem_api_name(m->api), where);
            return NULL;
        }
        char mime[128];
        snprintf(mime, sizeof mime, "%.*s", (int)(semi - url - 5), url + 5);
        cJSON *p = cJSON_CreateObject();
        cJSON *d = cJSON_AddObjectToObject(p, "inlineData");
        cJSON_AddStringToObject(d, "mimeType", format && *format ? format : mime);
        cJSON_AddStringToObject(d, "data", comma + 1);
        return p;
    }
    bool gs = strncmp(url, "gs://", 5) == 0;
    bool web = strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0;
    const char *mime = format && *format ? format : gem_mime_from_name(url);
    if (!gs && !web) {
        prov_fail(m->err, 400, "messages", "%s: %s: expected a data:, gs:// or http(s) URL",
                  gem_api_name(m->api), where);
        return NULL;
    }
    if (!mime) {
        prov_fail(m->err, 400, "messages",
                  "%s: %s: cannot tell the file type of %.200s; give its MIME type in "
                  "\"format\" (e.g. image/png) or send a data: URL (sluice does not download "
                  "media)",
                  gem_api_name(m->api), where, url);
        return NULL;
    }
    cJSON *p = cJSON_CreateObject();
    cJSON *d = cJSON_AddObjectToObject(p, "fileData");
    cJSON_AddStringToObject(d, "mimeType", mime);
    cJSON_AddStringToObject(d, "fileUri", url);
    return p;
}

static bool gem_has_text_part(const cJSON *parts)
{
    for (const cJSON *p = parts ? parts->child : NULL; p; p = p->next) {
        const char *t = gem_str(p, "text");
        if (t && *t)
            return true;
    }
    return false;
}

/* A user message's content appended to the current user turn. */
static int gem_user_message(gem_msgs_t *m, const cJSON *msg, int mi)
{
    const cJSON *content = gem_get(msg, "content");
    cJSON *parts = NULL;
    if (cJSON_IsString(content)) {
        if (!*content->valuestring)
            return 0;
        parts = gem_turn_parts(m, GEM_TURN_USER);
        gem_add_text_part(parts, content->valuestring);
        return 0;
    }
    if (!cJSON_IsArray(content))
        return 0;
    int pi = 0;
    for (const cJSON *it = content->child; it; it = it->next, pi++) {
        const char *type = gem_str(it, "type");
        char where[64];
        snprintf(where, sizeof where, "messages[%d].content[%d]", mi, pi);
        cJSON *part = NULL;
        if (!type || strcmp(type, "text") == 0) {
            const char *t = gem_str(it, "text");
            if (!t || !*t)
                continue;
            part = cJSON_CreateObject();
            cJSON_AddStringToObject(part, "text", t);
        } else if (strcmp(type, "image_url") == 0) {
            const cJSON *iu = gem_get(it, "image_url");
            const char *url = cJSON_IsString(iu) ? iu->valuestring : gem_str(iu, "url");
            if (!url)
                return prov_fail(m->err, 400, "messages", "%s: %s: image_url needs a url",
                                 gem_api_name(m->api), where);
            part = gem_media_part(m, url, gem_str(iu, "format"), where);
        } else if (strcmp(type, "input_audio") == 0) {
            const cJSON *ia = gem_get(it, "input_audio");
            const char *data = gem_str(ia, "data"), *fmt = gem_str(ia, "format");
            if (!data)
                continue;
            part = cJSON_CreateObject();
            cJSON *d = cJSON_AddObjectToObject(part, "inlineData");
            char mime[64];
            snprintf(mime, sizeof mime, "audio/%s", fmt ? fmt : "wav");
            cJSON_AddStringToObject(d, "mimeType", mime);
            cJSON_AddStringToObject(d, "data", data);
        } else if (strcmp(type, "file") == 0) {
            const cJSON *f = gem_get(it, "file");
            const char *ref = gem_str(f, "file_data");
            if (!ref)
                ref = gem_str(f, "file_id");
            if (!ref)
                return prov_fail(m->err, 400, "messages",
                                 "%s: %s: a file part needs file_data or file_id",
                                 gem_api_name(m->api), where);
            part = gem_media_part(m, ref, gem_str(f, "format"), where);
        } else {
            continue; /* unknown part types are skipped, as LiteLLM does */
        }
        if (!part)
            return -1;
        parts = gem_turn_parts(m, GEM_TURN_USER);
        cJSON_AddItemToArray(parts, part);
    }
    return 0;
}

/* An assistant message: its text, then its tool calls as functionCall parts. */
static int gem_assistant_message(gem_msgs_t *m, const cJSON *msg, int mi)
{
    buf_t text = {0};
    gem_content_text(gem_get(msg, "content"), &text);
    if (text.n) {
        buf_append(&text, "", 1);
        gem_add_text_part(gem_turn_parts(m, GEM_TURN_MODEL), text.p);
    }
    buf_free(&text);
    const cJSON *calls = gem_get(msg, "tool_calls");
    const cJSON *legacy = gem_get(msg, "function_call");
    int ti = 0;
    const cJSON *call = cJSON_IsArray(calls) ? calls->child : NULL;
    const cJSON *single = cJSON_IsObject(legacy) && !call ? legacy : NULL;
    for (; call || single; call = call ? call->next : NULL, ti++) {
        const cJSON *fn = single ? single : gem_get(call, "function");
        single = NULL;
        const char *name = gem_str(fn, "name");
        if (!name)
            return prov_fail(m->err, 400, "messages",
                             "%s: messages[%d].tool_calls[%d]: function.name is missing",
                             gem_api_name(m->api), mi, ti);
        const char *args = gem_str(fn, "arguments");
        cJSON *parsed = args && *args ? cJSON_Parse(args) : cJSON_CreateObject();
        if (!cJSON_IsObject(parsed)) {
            cJSON_Delete(parsed);
            return prov_fail(m->err, 400, "messages",
                             "%s: messages[%d].tool_calls[%d].function.arguments is not a JSON "
                             "object",
                             gem_api_name(m->api), mi, ti);
        }
        cJSON *part = cJSON_CreateObject();
        cJSON *fc = cJSON_AddObjectToObject(part, "functionCall");
        cJSON_AddStringToObject(fc, "name", name);
        cJSON_AddItemToObject(fc, "args", parsed);
        const char *id = call ? gem_str(call, "id") : NULL;
        const char *sig = id ? strstr(id, GEM_THOUGHT_SEP) : NULL;
        if (sig && sig[strlen(GEM_THOUGHT_SEP)])
            cJSON_AddStringToObject(part, "thoughtSignature", sig + strlen(GEM_THOUGHT_SEP));
        cJSON_AddItemToArray(gem_turn_parts(m, GEM_TURN_MODEL), part);
        if (!call)
            break;
    }
    return 0;
}

/* The function name of the earlier assistant tool call with this id. */
static const char *gem_tool_name(const gem_msgs_t *m, const char *id, int before)
{
    int i = 0;
    for (const cJSON *msg = m->messages->child; msg && i < before; msg = msg->next, i++) {
        const cJSON *calls = gem_get(msg, "tool_calls");
        for (const cJSON *c = cJSON_IsArray(calls) ? calls->child : NULL; c; c = c->next) {
            const char *cid = gem_str(c, "id");
            if (cid && strcmp(cid, id) == 0)
                return gem_str(gem_get(c, "function"), "name");
        }
    }
    return NULL;
}

/* A tool (or legacy function) result: a functionResponse part in a user-role turn of its own.
 * Gemini wants the function's name, looked up from the call; a JSON object result is passed as
 * is, anything else wrapped as {"content": "..."}. */
static int gem_tool_message(gem_msgs_t *m, const cJSON *msg, int mi)
{
    const char *name = NULL;
    const char *id = gem_str(msg, "tool_call_id");
    if (id)
        name = gem_tool_name(m, id, mi);
    if (!name)
        name = gem_str(msg, "name");
    if (!name || !*name)
        return prov_fail(m->err, 400, "messages",
                         "%s: messages[%d]: no earlier assistant tool call has the id '%s' "
                         "(Gemini needs the function name of every tool result)",
                         gem_api_name(m->api), mi, id ? id : "");
    buf_t text = {0};
    gem_content_text(gem_get(msg, "content"), &text);
    buf_append(&text, "", 1);
    cJSON *response = cJSON_Parse(text.p);
    if (!cJSON_IsObject(response)) {
        cJSON_Delete(response);
        response = cJSON_CreateObject();
        cJSON_AddStringToObject(response, "content", text.p);
    }
    buf_free(&text);
    cJSON *part = cJSON_CreateObject();
    cJSON *fr = cJSON_AddObjectToObject(part, "functionResponse");
    cJSON_AddStringToObject(fr, "name", name);
    cJSON_AddItemToObject(fr, "response", response);
    cJSON_AddItemToArray(gem_turn_parts(m, GEM_TURN_TOOL), part);
    return 0;
}

/* messages -> systemInstruction + contents. */
static int gem_messages(gem_msgs_t *m)
{
    int mi = 0;
    for (const cJSON *msg = m->messages->child; msg; msg = msg->next, mi++) {
        const char *role = gem_str(msg, "role");
        if (!cJSON_IsObject(msg) || !role)
            return prov_fail(m->err, 400, "messages", "%s: messages[%d] needs a role",
                             gem_api_name(m->api), mi);
        int rc = 0;
        if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            buf_t text = {0};
            gem_content_text(gem_get(msg, "content"), &text);
            buf_append(&text, "", 1);
            if (!m->system)
                m->system = cJSON_CreateArray();
            gem_add_text_part(m->system, text.p);
            buf_free(&text);
            continue;
        }
        if (strcmp(role, "user") == 0) {
            rc = gem_user_message(m, msg, mi);
        } else if (strcmp(role, "assistant") == 0) {
            rc = gem_assistant_message(m, msg, mi);
        } else if (strcmp(role, "tool") == 0 || strcmp(role, "function") == 0) {
            rc = gem_tool_message(m, msg, mi);
        } else {
            return prov_fail(m->err, 400, "messages", "%s: messages[%d]: unknown role '%s'",
                             gem_api_name(m->api), mi, role);
        }
        if (rc != 0)
            return rc;
    }
    /* Gemini rejects a user turn without text ("must have a text parameter"): LiteLLM adds a
     * blank one to each */
    for (const cJSON *c = m->contents->child; c; c = c->next) {
        const char *r = gem_str(c, "role");
        cJSON *parts = cJSON_GetObjectItemCaseSensitive(c, "parts");
        bool tool = parts && parts->child && gem_get(parts->child, "functionResponse");
        if (r && strcmp(r, "user") == 0 && !tool && !gem_has_text_part(parts))
            gem_add_text_part(parts, " ");
    }
    return 0;
}

/* ---- request: tools and parameters ------------------------------------------------------ */

/* Adds the built-in tool `name` (its config `value`, {} when NULL) once: a later one of the
 * same kind replaces the earlier, as in LiteLLM. */
static void gem_builtin_tool(cJSON *list, const char *name, const cJSON *value)
{
    for (cJSON *o = list->child; o; o = o->next)
        if (gem_get(o, name)) {
            cJSON_Delete(cJSON_DetachItemViaPointer(list, o));
            break;
        }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, name, value ? cJSON_Duplicate(value, 1) : cJSON_CreateObject());
    cJSON_AddItemToArray(list, o);
}

/* True for {"type":"object"} with no properties: Gemini rejects an OBJECT without properties
 * ("should be non-empty for OBJECT type"); a function without parameters says the same. */
static bool gem_schema_is_empty_object(const cJSON *s)
{
    const char *type = gem_str(s, "type");
    const cJSON *props = gem_get(s, "properties");
    return type && strcmp(type, "object") == 0 && (!props || !props->child) && !gem_get(s, "anyOf");
}

static int gem_tools(const cJSON *req, cJSON *body, prov_error_t *err, gem_api_t api)
{
    const cJSON *tools = gem_get(req, "tools");
    const cJSON *functions = gem_get(req, "functions");
    cJSON *decls = cJSON_CreateArray();
    cJSON *others = cJSON_CreateArray(); /* built-in tools, one Tool object each */
    static const struct {
        const char *in, *out;
    } builtin[] = {
        {"googleSearch", "googleSearch"},
        {"google_search", "googleSearch"},
        {"googleSearchRetrieval", "googleSearchRetrieval"},
        {"google_search_retrieval", "googleSearchRetrieval"},
        {"codeExecution", "codeExecution"},
        {"code_execution", "codeExecution"},
        {"urlContext", "urlContext"},
        {"url_context", "urlContext"},
        {"enterpriseWebSearch", "enterpriseWebSearch"},
        {"enterprise_web_search", "enterpriseWebSearch"},
    };
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *list = pass == 0 ? tools : functions;
        int i = 0;
        for (const cJSON *t = cJSON_IsArray(list) ? list->child : NULL; t; t = t->next, i++) {
            const char *type = gem_str(t, "type");
            const cJSON *fn = pass == 0 ? gem_get(t, "function") : t;
            if (type &&
                (strcmp(type, "web_search") == 0 || strcmp(type, "web_search_preview") == 0)) {
                gem_builtin_tool(others, "googleSearch", NULL);
                continue;
            }
            bool found = false;
            for (size_t b = 0; b < COUNTOF(builtin) && !found; b++) {
                const cJSON *v = gem_get(t, builtin[b].in);
                if (!v)
                    continue;
                gem_builtin_tool(others, builtin[b].out, v);
                found = true;
            }
            if (found)
                continue;
            const char *name = gem_str(fn, "name");
            if (!cJSON_IsObject(fn) || !name) {
                cJSON_Delete(decls);
                cJSON_Delete(others);
                return prov_fail(err, 400, pass == 0 ? "tools" : "functions",
                                 "%s: %s[%d] needs a function with a name", gem_api_name(api),
                                 pass == 0 ? "tools" : "functions", i);
            }
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "name", name);
            const char *desc = gem_str(fn, "description");
            if (desc)
                cJSON_AddStringToObject(d, "description", desc);
            const cJSON *params = gem_get(fn, "parameters");
            cJSON *schema = cJSON_IsObject(params) ? gem_schema_root(params, false) : NULL;
            if (schema && !gem_schema_is_empty_object(schema))
                cJSON_AddItemToObject(d, "parameters", schema);
            else
                cJSON_Delete(schema);
            cJSON_AddItemToArray(decls, d);
        }
    }
    if (cJSON_IsObject(gem_get(req, "web_search_options")))
        gem_builtin_tool(others, "googleSearch", NULL);
    if (cJSON_GetArraySize(decls) > 0) {
        /* Vertex rejects search tools next to function declarations: LiteLLM keeps the
         * functions and drops the search tools */
        static const char *const search[] = {"googleSearch", "googleSearchRetrieval",
                                             "enterpriseWebSearch", "urlContext"};
        for (size_t k = 0; k < COUNTOF(search); k++)
            for (cJSON *o = others->child; o; o = o->next)
                if (gem_get(o, search[k])) {
                    cJSON_Delete(cJSON_DetachItemViaPointer(others, o));
                    break;
                }
    }
    if (cJSON_GetArraySize(decls) == 0 && cJSON_GetArraySize(others) == 0) {
        cJSON_Delete(decls);
        cJSON_Delete(others);
        return 0;
    }
    cJSON *out = cJSON_AddArrayToObject(body, "tools");
    if (cJSON_GetArraySize(decls) > 0) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddItemToObject(t, "functionDeclarations", decls);
        cJSON_AddItemToArray(out, t);
    } else {
        cJSON_Delete(decls);
    }
    while (others->child)
        cJSON_AddItemToArray(out, cJSON_DetachItemViaPointer(others, others->child));
    cJSON_Delete(others);
    return 0;
}

static int gem_tool_choice(const prov_ctx_t *ctx, const cJSON *req, cJSON *body, prov_error_t *err,
                           gem_api_t api)
{
    const cJSON *tc = gem_get(req, "tool_choice");
    if (!gem_present(tc))
        return 0;
    const char *mode = NULL, *name = NULL;
    if (cJSON_IsString(tc)) {
        if (strcmp(tc->valuestring, "none") == 0)
            mode = "NONE";
        else if (strcmp(tc->valuestring, "required") == 0)
            mode = "ANY";
        else if (strcmp(tc->valuestring, "auto") == 0)
            mode = "AUTO";
    } else if (cJSON_IsObject(tc)) {
        const cJSON *fn = gem_get(tc, "function");
        name = gem_str(fn ? fn : tc, "name");
        if (name)
            mode = "ANY";
    }
    if (!mode) {
        if (ctx->drop_params)
            return 0;
        return prov_fail(err, 400, "tool_choice",
                         "litellm.UnsupportedParamsError: %s doesn't support this tool_choice. "
                         "Supported tool_choice values=['auto', 'required', 'none', "
                         "{\"type\":\"function\",\"function\":{\"name\":...}}]. To drop it from "
                         "the call, set `litellm.drop_params = True`.",
                         gem_api_name(api));
    }
    cJSON *cfg = cJSON_AddObjectToObject(body, "toolConfig");
    cJSON *fcc = cJSON_AddObjectToObject(cfg, "functionCallingConfig");
    cJSON_AddStringToObject(fcc, "mode", mode);
    if (name) {
        cJSON *names = cJSON_AddArrayToObject(fcc, "allowedFunctionNames");
        cJSON_AddItemToArray(names, cJSON_CreateString(name));
    }
    return 0;
}

/* Copies a numeric parameter into generationConfig under Gemini's name; a value of another
 * type is a 400 naming it. */
static int gem_number(const cJSON *req, const char *name, cJSON *gc, const char *to,
                      prov_error_t *err, gem_api_t api)
{
    const cJSON *v = gem_get(req, name);
    if (!gem_present(v))
        return 0;
    if (!cJSON_IsNumber(v))
        return prov_fail(err, 400, name, "%s: '%s' must be a number", gem_api_name(api), name);
    cJSON_AddNumberToObject(gc, to, v->valuedouble);
    return 0;
}

/* The upstream model name, lowercased, holds `what`. */
static bool gem_model_has(const prov_ctx_t *ctx, const char *what)
{
    char model[128];
    size_t n = MIN(ctx->model.n, sizeof model - 1);
    for (size_t i = 0; i < n; i++) {
        char c = ctx->model.p[i];
        model[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    model[n] = '\0';
    return strstr(model, what) != NULL;
}

/* LiteLLM's reasoning_effort mapping: thinkingLevel for Gemini 3, a budget before it. */
static int gem_thinking(const prov_ctx_t *ctx, const cJSON *req, cJSON *gc, prov_error_t *err,
                        gem_api_t api)
{
    const cJSON *re = gem_get(req, "reasoning_effort");
    const cJSON *th = gem_get(req, "thinking");
    bool g3 = gem_model_has(ctx, "gemini-3");
    if (gem_present(re)) {
        const char *effort = cJSON_IsString(re) ? re->valuestring : gem_str(re, "effort");
        static const char *const efforts[] = {"minimal", "low",     "medium",
                                              "high",    "disable", "none"};
        int e = -1;
        for (int i = 0; effort && i < (int)COUNTOF(efforts); i++)
            if (strcmp(effort, efforts[i]) == 0)
                e = i;
        if (e < 0)
            return prov_fail(err, 400, "reasoning_effort",
                             "%s: reasoning_effort must be one of minimal, low, medium, high, "
                             "disable, none",
                             gem_api_name(api));
        cJSON *tc = cJSON_AddObjectToObject(gc, "thinkingConfig");
        bool include = e <= 3;
        if (g3) {
            bool flash =
                gem_model_has(ctx, "gemini-3-flash") || gem_model_has(ctx, "gemini-3.1-flash");
            bool pro31 = gem_model_has(ctx, "gemini-3.1-pro-preview");
            const char *level = e == 0   ? (flash ? "minimal" : "low")
                                : e == 1 ? "low"
                                : e == 2 ? (flash || pro31 ? "medium" : "high")
                                : e == 3 ? "high"
                                         : (flash ? "minimal" : "low");
            cJSON_AddStringToObject(tc, "thinkingLevel", level);
        } else {
            long budget = e == 0   ? (gem_model_has(ctx, "gemini-2.5-flash-lite") ? 512
                                      : gem_model_has(ctx, "gemini-2.5-pro")      ? 128
                                      : gem_model_has(ctx, "gemini-2.5-flash")    ? 1
                                                                                  : 128)
                          : e == 1 ? 1024
                          : e == 2 ? 2048
                          : e == 3 ? 4096
                                   : 0;
            cJSON_AddNumberToObject(tc, "thinkingBudget", (double)budget);
        }
        cJSON_AddBoolToObject(tc, "includeThoughts", include);
    } else if (cJSON_IsObject(th)) {
        const char *type = gem_str(th, "type");
        const cJSON *budget = gem_get(th, "budget_tokens");
        bool enabled = type && strcmp(type, "enabled") == 0;
        cJSON *tc = cJSON_AddObjectToObject(gc, "thinkingConfig");
        bool zero = cJSON_IsNumber(budget) && budget->valuedouble == 0;
        cJSON_AddBoolToObject(tc, "includeThoughts", enabled && !zero);
        if (cJSON_IsNumber(budget) && !g3)
            cJSON_AddNumberToObject(tc, "thinkingBudget", budget->valuedouble);
    }
    return 0;
}

static int gem_generation_config(const prov_ctx_t *ctx, const cJSON *req, cJSON *body,
                                 prov_error_t *err, gem_api_t api)
{
    cJSON *gc = cJSON_CreateObject();
    int rc = 0;
    rc = rc ? rc : gem_number(req, "temperature", gc, "temperature", err, api);
    /* Gemini 3 degrades below temperature 1.0: LiteLLM sends 1.0 unless told otherwise */
    if (!rc && !gem_get(gc, "temperature") && gem_model_has(ctx, "gemini-3"))
        cJSON_AddNumberToObject(gc, "temperature", 1.0);
    rc = rc ? rc : gem_number(req, "top_p", gc, "topP", err, api);
    rc = rc ? rc : gem_number(req, "top_k", gc, "topK", err, api);
    rc = rc ? rc : gem_number(req, "n", gc, "candidateCount", err, api);
    /* max_completion_tokens wins when both are given */
    if (!rc && gem_present(gem_get(req, "max_completion_tokens")))
        rc = gem_number(req, "max_completion_tokens", gc, "maxOutputTokens", err, api);
    else if (!rc)
        rc = gem_number(req, "max_tokens", gc, "maxOutputTokens", err, api);
    rc = rc ? rc : gem_number(req, "seed", gc, "seed", err, api);
    rc = rc ? rc : gem_number(req, "presence_penalty", gc, "presencePenalty", err, api);
    rc = rc ? rc : gem_number(req, "frequency_penalty", gc, "frequencyPenalty", err, api);
    rc = rc ? rc : gem_number(req, "top_logprobs", gc, "logprobs", err, api);
    if (rc)
        goto fail;
    const cJSON *stop = gem_get(req, "stop");
    if (cJSON_IsString(stop)) {
        cJSON *s = cJSON_AddArrayToObject(gc, "stopSequences");
        cJSON_AddItemToArray(s, cJSON_CreateString(stop->valuestring));
    } else if (cJSON_IsArray(stop)) {
        for (const cJSON *it = stop->child; it; it = it->next)
            if (!cJSON_IsString(it)) {
                rc = prov_fail(err, 400, "stop", "%s: stop must be a string or strings",
                               gem_api_name(api));
                goto fail;
            }
        if (stop->child)
            cJSON_AddItemToObject(gc, "stopSequences", cJSON_Duplicate(stop, 1));
    } else if (gem_present(stop)) {
        rc = prov_fail(err, 400, "stop", "%s: stop must be a string or strings", gem_api_name(api));
        goto fail;
    }
    const cJSON *lp = gem_get(req, "logprobs");
    if (cJSON_IsBool(lp))
        cJSON_AddBoolToObject(gc, "responseLogprobs", cJSON_IsTrue(lp));
    const cJSON *rf = gem_get(req, "response_format");
    if (cJSON_IsObject(rf)) {
        const char *type = gem_str(rf, "type");
        const cJSON *schema = gem_get(rf, "response_schema");
        if (!schema)
            schema = gem_get(gem_get(rf, "json_schema"), "schema");
        if (type && strcmp(type, "text") == 0) {
            cJSON_AddStringToObject(gc, "responseMimeType", "text/plain");
        } else if ((type && strcmp(type, "json_object") == 0) || cJSON_IsObject(schema)) {
            cJSON_AddStringToObject(gc, "responseMimeType", "application/json");
            cJSON *s = cJSON_IsObject(schema) ? gem_schema_root(schema, true) : NULL;
            if (s)
                cJSON_AddItemToObject(gc, "responseSchema", s);
        }
    }
    const cJSON *mods = gem_get(req, "modalities");
    if (cJSON_IsArray(mods) && mods->child) {
        cJSON *out = cJSON_AddArrayToObject(gc, "responseModalities");
        for (const cJSON *it = mods->child; it; it = it->next) {
            const char *v = cJSON_IsString(it) ? it->valuestring : "";
            const char *up = strcmp(v, "text") == 0    ? "TEXT"
                             : strcmp(v, "image") == 0 ? "IMAGE"
                             : strcmp(v, "audio") == 0 ? "AUDIO"
                                                       : "MODALITY_UNSPECIFIED";
            cJSON_AddItemToArray(out, cJSON_CreateString(up));
        }
    }
    const char *voice = gem_str(gem_get(req, "audio"), "voice");
    if (voice) {
        cJSON *sc = cJSON_AddObjectToObject(gc, "speechConfig");
        cJSON *vc = cJSON_AddObjectToObject(sc, "voiceConfig");
        cJSON *pv = cJSON_AddObjectToObject(vc, "prebuiltVoiceConfig");
        cJSON_AddStringToObject(pv, "voiceName", voice);
    }
    rc = gem_thinking(ctx, req, gc, err, api);
    if (rc)
        goto fail;
    if (gc->child)
        cJSON_AddItemToObject(body, "generationConfig", gc);
    else
        cJSON_Delete(gc);
    return 0;
fail:
    cJSON_Delete(gc);
    return -1;
}

/* parallel_tool_calls=false cannot be honoured with several tools (LiteLLM's check). */
static int gem_parallel_tool_calls(const prov_ctx_t *ctx, const cJSON *req, prov_error_t *err,
                                   gem_api_t api)
{
    const cJSON *ptc = gem_get(req, "parallel_tool_calls");
    const cJSON *tools = gem_get(req, "tools");
    if (!cJSON_IsFalse(ptc) || ctx->drop_params || cJSON_GetArraySize(tools) <= 1)
        return 0;
    return prov_fail(err, 400, "parallel_tool_calls",
                     "litellm.UnsupportedParamsError: `parallel_tool_calls=False` is not "
                     "supported by %s when multiple tools are provided. Specify a single tool, "
                     "or set `parallel_tool_calls=True`, or set `litellm.drop_params = True`.",
                     gem_api_name(api));
}

static int gem_body_print(cJSON *body, prov_http_t *out, prov_error_t *err)
{
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!text || buf_append_cstr(&out->body, text) != 0) {
        free(text);
        return prov_fail(err, 500, NULL, "out of memory");
    }
    free(text);
    return 0;
}

static int gem_chat_request(const prov_ctx_t *ctx, gem_api_t api, const cJSON *req,
                            prov_http_t *out, prov_error_t *err)
{
    if (prov_check_params(ctx, req, gem_chat_params, err) != 0)
        return -1;
    const cJSON *messages = gem_get(req, "messages");
    if (!cJSON_IsArray(messages) || !messages->child)
        return prov_fail(err, 400, "messages", "%s: messages must be a non-empty array",
                         gem_api_name(api));
    cJSON *body = cJSON_CreateObject();
    cJSON *contents = cJSON_AddArrayToObject(body, "contents");
    gem_msgs_t m = {.ctx = ctx, .api = api, .err = err, .messages = messages, .contents = contents};
    if (gem_messages(&m) != 0 || gem_parallel_tool_calls(ctx, req, err, api) != 0)
        goto fail;
    if (m.system) {
        cJSON *si = cJSON_CreateObject();
        cJSON_AddItemToObject(si, "parts", m.system);
        m.system = NULL;
        cJSON_AddItemToObject(body, "systemInstruction", si);
    }
    if (gem_tools(req, body, err, api) != 0 || gem_tool_choice(ctx, req, body, err, api) != 0)
        goto fail;
    const cJSON *safety = gem_get(req, "safety_settings");
    if (cJSON_IsArray(safety))
        cJSON_AddItemToObject(body, "safetySettings", cJSON_Duplicate(safety, 1));
    if (gem_generation_config(ctx, req, body, err, api) != 0)
        goto fail;
    const char *cached = gem_str(req, "cached_content");
    if (cached)
        cJSON_AddStringToObject(body, "cachedContent", cached);
    if (gem_target(ctx, api, ctx->stream ? "streamGenerateContent" : "generateContent", ctx->stream,
                   out, err) != 0)
        goto fail;
    return gem_body_print(body, out, err);
fail:
    cJSON_Delete(m.system);
    cJSON_Delete(body);
    return -1;
}

/* ---- responses -------------------------------------------------------------------------- */

/* Gemini's finishReason -> OpenAI's. The content-filter family is Gemini's own; the common
 * words are the shared table's. */
static const char *gem_finish_reason(const char *reason, bool tool_calls)
{
    static const char *const filtered[] = {"SAFETY",
                                           "RECITATION",
                                           "BLOCKLIST",
                                           "PROHIBITED_CONTENT",
                                           "SPII",
                                           "IMAGE_SAFETY",
                                           "IMAGE_PROHIBITED_CONTENT",
                                           "LANGUAGE"};
    if (tool_calls)
        return "tool_calls";
    if (!reason)
        return "stop";
    for (size_t i = 0; i < COUNTOF(filtered); i++)
        if (strcmp(reason, filtered[i]) == 0)
            return "content_filter";
    return prov_finish_reason(reason);
}

/* A token count: a number from 0 to 2^53 (anything else, including what a cast could not
 * hold, counts 0). */
static long long gem_count(const cJSON *o, const char *name)
{
    const cJSON *v = gem_get(o, name);
    return cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble <= 9007199254740992.0
               ? (long long)v->valuedouble
               : 0;
}

/* usageMetadata -> OpenAI usage, as LiteLLM computes it: thoughts count as completion tokens
 * unless candidatesTokenCount already includes them. */
static cJSON *gem_usage(const cJSON *um)
{
    long long prompt = gem_count(um, "promptTokenCount");
    long long cand = gem_count(um, "candidatesTokenCount");
    long long thoughts = gem_count(um, "thoughtsTokenCount");
    long long cached = gem_count(um, "cachedContentTokenCount");
    bool has_total = cJSON_IsNumber(gem_get(um, "totalTokenCount"));
    long long total = gem_count(um, "totalTokenCount");
    long long completion = cand;
    if (thoughts && prompt + cand != total)
        completion += thoughts;
    cJSON *u = prov_usage(prompt, completion, cached);
    if (!u)
        return NULL;
    if (has_total)
        cJSON_ReplaceItemInObjectCaseSensitive(u, "total_tokens",
                                               cJSON_CreateNumber((double)total));
    if (thoughts) {
        cJSON *d = cJSON_AddObjectToObject(u, "completion_tokens_details");
        cJSON_AddNumberToObject(d, "reasoning_tokens", (double)thoughts);
    }
    return u;
}

/* A minted tool call id; Gemini 3's thoughtSignature rides along after GEM_THOUGHT_SEP. */
static cJSON *gem_call_id(const char *signature)
{
    char id[40];
    prov_new_id(id); /* "chatcmpl-" + 24 random characters */
    buf_t b = {0};
    buf_append_cstr(&b, "call_");
    buf_append_cstr(&b, id + 9);
    if (signature && *signature) {
        buf_append_cstr(&b, GEM_THOUGHT_SEP);
        buf_append_cstr(&b, signature);
    }
    buf_append(&b, "", 1);
    cJSON *s = cJSON_CreateString(b.p ? b.p : "call_");
    buf_free(&b);
    return s;
}

/* What a candidate's parts say, in OpenAI terms. */
typedef struct {
    buf_t text, reasoning;
    bool has_text, has_reasoning;
    cJSON *tool_calls; /* array or NULL */
} gem_parts_t;

static void gem_parts_free(gem_parts_t *p)
{
    buf_free(&p->text);
    buf_free(&p->reasoning);
    cJSON_Delete(p->tool_calls);
}

/* Reads parts: text (thought parts as reasoning), functionCall parts as tool calls numbered
 * from *tool_index (streams carry the index in each call). */
static void gem_read_parts(const cJSON *parts, gem_parts_t *out, int *tool_index, bool stream)
{
    for (const cJSON *p = cJSON_IsArray(parts) ? parts->child : NULL; p; p = p->next) {
        const char *text = gem_str(p, "text");
        const cJSON *fc = gem_get(p, "functionCall");
        if (text) {
            bool thought = cJSON_IsTrue(gem_get(p, "thought"));
            buf_append_cstr(thought ? &out->reasoning : &out->text, text);
            if (thought)
                out->has_reasoning = true;
            else
                out->has_text = true;
        } else if (cJSON_IsObject(fc)) {
            const char *name = gem_str(fc, "name");
            const cJSON *args = gem_get(fc, "args");
            char *argtext = args ? cJSON_PrintUnformatted(args) : NULL;
            cJSON *call = cJSON_CreateObject();
            if (stream)
                cJSON_AddNumberToObject(call, "index", *tool_index);
            cJSON_AddItemToObject(call, "id", gem_call_id(gem_str(p, "thoughtSignature")));
            cJSON_AddStringToObject(call, "type", "function");
            cJSON *f = cJSON_AddObjectToObject(call, "function");
            cJSON_AddStringToObject(f, "name", name ? name : "");
            cJSON_AddStringToObject(f, "arguments", argtext ? argtext : "{}");
            free(argtext);
            if (!out->tool_calls)
                out->tool_calls = cJSON_CreateArray();
            cJSON_AddItemToArray(out->tool_calls, call);
            (*tool_index)++;
        }
    }
}

static void gem_add_text(cJSON *o, const char *name, const buf_t *b)
{
    char *s = strndup(b->p ? b->p : "", b->n);
    cJSON_AddStringToObject(o, name, s ? s : "");
    free(s);
}

/* logprobsResult -> choices[].logprobs {"content":[{token, logprob, top_logprobs}]}. */
static cJSON *gem_logprobs(const cJSON *lr)
{
    const cJSON *chosen = gem_get(lr, "chosenCandidates");
    if (!cJSON_IsArray(chosen))
        return cJSON_CreateNull();
    const cJSON *top = gem_get(lr, "topCandidates");
    cJSON *o = cJSON_CreateObject();
    cJSON *content = cJSON_AddArrayToObject(o, "content");
    int i = 0;
    for (const cJSON *c = chosen->child; c; c = c->next, i++) {
        cJSON *e = cJSON_CreateObject();
        const char *tok = gem_str(c, "token");
        const cJSON *lp = gem_get(c, "logProbability");
        cJSON_AddStringToObject(e, "token", tok ? tok : "");
        cJSON_AddNumberToObject(e, "logprob", cJSON_IsNumber(lp) ? lp->valuedouble : 0);
        cJSON *tl = cJSON_AddArrayToObject(e, "top_logprobs");
        const cJSON *alts = gem_get(cJSON_GetArrayItem(top, i), "candidates");
        for (const cJSON *a = cJSON_IsArray(alts) ? alts->child : NULL; a; a = a->next) {
            cJSON *t = cJSON_CreateObject();
            const char *at = gem_str(a, "token");
            const cJSON *alp = gem_get(a, "logProbability");
            cJSON_AddStringToObject(t, "token", at ? at : "");
            cJSON_AddNumberToObject(t, "logprob", cJSON_IsNumber(alp) ? alp->valuedouble : 0);
            cJSON_AddItemToArray(tl, t);
        }
        cJSON_AddItemToArray(content, e);
    }
    return o;
}

static char *gem_model_cstr(const prov_ctx_t *ctx)
{
    return strndup(ctx->model.p ? ctx->model.p : "", ctx->model.n);
}

/* The human message of an error object in a body, if there is one. */
static const char *gem_error_text(const cJSON *doc)
{
    if (cJSON_IsArray(doc))
        doc = doc->child;
    const cJSON *e = gem_get(doc, "error");
    if (cJSON_IsString(e)) {
        const char *d = gem_str(doc, "error_description");
        return d ? d : e->valuestring;
    }
    return gem_str(e, "message");
}

static int gem_chat_response(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err,
                             gem_api_t api)
{
    cJSON *doc = cJSON_ParseWithLength(body.p ? body.p : "", body.n);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return prov_fail(err, 502, NULL, "%s: the answer is not a JSON object", gem_api_name(api));
    }
    if (gem_get(doc, "error")) {
        const char *msg = gem_error_text(doc);
        prov_fail(err, 502, NULL, "%s: %s", gem_api_name(api), msg ? msg : "error in answer");
        cJSON_Delete(doc);
        return -1;
    }
    cJSON *r = cJSON_CreateObject();
    const char *rid = gem_str(doc, "responseId");
    char id[40];
    prov_new_id(id);
    cJSON_AddStringToObject(r, "id", rid && *rid ? rid : id);
    cJSON_AddStringToObject(r, "object", "chat.completion");
    cJSON_AddNumberToObject(r, "created", (double)time(NULL));
    char *model = gem_model_cstr(ctx);
    cJSON_AddStringToObject(r, "model", model ? model : "");
    free(model);
    cJSON *choices = cJSON_AddArrayToObject(r, "choices");
    const cJSON *cands = gem_get(doc, "candidates");
    const cJSON *first = cJSON_IsArray(cands) ? cands->child : NULL;
    /* a flagged first candidate (SAFETY, RECITATION, ...) withholds every answer: LiteLLM
     * returns one choice with no content */
    const char *fr0 = gem_str(first, "finishReason");
    bool flagged = fr0 && strcmp(gem_finish_reason(fr0, false), "content_filter") == 0 &&
                   strcmp(fr0, "LANGUAGE") != 0;
    bool blocked = gem_str(gem_get(doc, "promptFeedback"), "blockReason") != NULL;
    int tool_index = 0, i = 0;
    for (const cJSON *c = flagged || blocked ? NULL : first; c; c = c->next, i++) {
        gem_parts_t parts = {0};
        gem_read_parts(gem_get(gem_get(c, "content"), "parts"), &parts, &tool_index, false);
        cJSON *choice = cJSON_CreateObject();
        const cJSON *idx = gem_get(c, "index");
        cJSON_AddNumberToObject(choice, "index", cJSON_IsNumber(idx) ? idx->valuedouble : i);
        cJSON *msg = cJSON_AddObjectToObject(choice, "message");
        cJSON_AddStringToObject(msg, "role", "assistant");
        if (parts.has_text)
            gem_add_text(msg, "content", &parts.text);
        else
            cJSON_AddNullToObject(msg, "content");
        if (parts.has_reasoning)
            gem_add_text(msg, "reasoning_content", &parts.reasoning);
        if (parts.tool_calls) {
            cJSON_AddItemToObject(msg, "tool_calls", parts.tool_calls);
            parts.tool_calls = NULL;
            cJSON_AddStringToObject(choice, "finish_reason", "tool_calls");
        } else {
            cJSON_AddStringToObject(choice, "finish_reason",
                                    gem_finish_reason(gem_str(c, "finishReason"), false));
        }
        cJSON_AddNullToObject(msg, "refusal");
        const cJSON *lr = gem_get(c, "logprobsResult");
        cJSON_AddItemToObject(choice, "logprobs", lr ? gem_logprobs(lr) : cJSON_CreateNull());
        cJSON_AddItemToArray(choices, choice);
        gem_parts_free(&parts);
    }
    if (i == 0) {
        /* no answer: the prompt was blocked (promptFeedback.blockReason) or flagged */
        cJSON *choice = cJSON_CreateObject();
        cJSON_AddNumberToObject(choice, "index", 0);
        cJSON *msg = cJSON_AddObjectToObject(choice, "message");
        cJSON_AddStringToObject(msg, "role", "assistant");
        cJSON_AddNullToObject(msg, "content");
        cJSON_AddNullToObject(msg, "refusal");
        cJSON_AddStringToObject(choice, "finish_reason",
                                blocked || flagged ? "content_filter" : "stop");
        cJSON_AddNullToObject(choice, "logprobs");
        cJSON_AddItemToArray(choices, choice);
    }
    cJSON_AddItemToObject(r, "usage", gem_usage(gem_get(doc, "usageMetadata")));
    cJSON_Delete(doc);
    char *text = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    int rc =
        text && buf_append_cstr(out, text) == 0 ? 0 : prov_fail(err, 500, NULL, "out of memory");
    free(text);
    return rc;
}

static void gem_error_message(int status, str_t body, buf_t *out)
{
    cJSON *doc = cJSON_ParseWithLength(body.p ? body.p : "", body.n);
    const char *msg = doc ? gem_error_text(doc) : NULL;
    if (msg)
        buf_append_cstr(out, msg);
    else
        buf_append(out, body.p, MIN(body.n, (size_t)1000));
    cJSON_Delete(doc);
}

/* ---- streams ---------------------------------------------------------------------------- */

struct prov_stream {
    sse_parser_t sse;
    char id[40];
    long long created;
    char *model;
    prov_emit_fn emit;
    void *arg;
    bool any;           /* a GenerateContentResponse was decoded */
    bool blocked;       /* promptFeedback.blockReason */
    int tool_index;     /* tool calls so far, over all candidates */
    unsigned seen;      /* candidates that appeared, one bit each */
    unsigned role_sent; /* candidates whose role chunk went out */
    unsigned had_tools; /* candidates that made tool calls */
    char finish[GEM_MAX_CANDIDATES][32];
    cJSON *usage; /* from the latest usageMetadata */
};

/* Emits one chunk for candidate `index` (the shared builder covers index 0). */
static int gem_emit(prov_stream_t *s, int index, cJSON *delta, const char *finish, cJSON *usage)
{
    str_t model = str_cstr(s->model);
    if (index == 0)
        return prov_emit_chunk(s->emit, s->arg, s->id, s->created, model, delta, finish, usage);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "id", s->id);
    cJSON_AddStringToObject(c, "object", "chat.completion.chunk");
    cJSON_AddNumberToObject(c, "created", (double)s->created);
    cJSON_AddStringToObject(c, "model", s->model);
    cJSON *ch = cJSON_CreateObject();
    cJSON_AddNumberToObject(ch, "index", index);
    cJSON_AddItemToObject(ch, "delta", delta ? delta : cJSON_CreateObject());
    if (finish)
        cJSON_AddStringToObject(ch, "finish_reason", finish);
    else
        cJSON_AddNullToObject(ch, "finish_reason");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "choices"), ch);
    if (usage)
        cJSON_AddItemToObject(c, "usage", usage);
    char *text = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    int rc = text ? s->emit(s->arg, str_cstr(text)) : -1;
    free(text);
    return rc;
}

static int gem_stream_candidate(prov_stream_t *s, const cJSON *c, int position)
{
    const cJSON *idx = gem_get(c, "index");
    double d = cJSON_IsNumber(idx) ? idx->valuedouble : position;
    if (!(d >= 0 && d < GEM_MAX_CANDIDATES)) /* NaN fails too */
        return 0;
    int index = (int)d;
    unsigned bit = 1u << index;
    s->seen |= bit;
    gem_parts_t parts = {0};
    gem_read_parts(gem_get(gem_get(c, "content"), "parts"), &parts, &s->tool_index, true);
    const char *fr = gem_str(c, "finishReason");
    if (fr)
        snprintf(s->finish[index], sizeof s->finish[index], "%s", fr);
    int rc = 0;
    bool text = parts.has_text && parts.text.n;
    bool reasoning = parts.has_reasoning && parts.reasoning.n;
    if (text || reasoning || parts.tool_calls) {
        cJSON *delta = cJSON_CreateObject();
        if (!(s->role_sent & bit))
            cJSON_AddStringToObject(delta, "role", "assistant");
        s->role_sent |= bit;
        if (text)
            gem_add_text(delta, "content", &parts.text);
        if (reasoning)
            gem_add_text(delta, "reasoning_content", &parts.reasoning);
        if (parts.tool_calls) {
            cJSON_AddItemToObject(delta, "tool_calls", parts.tool_calls);
            parts.tool_calls = NULL;
            s->had_tools |= bit;
        }
        rc = gem_emit(s, index, delta, NULL, NULL);
    }
    gem_parts_free(&parts);
    return rc;
}

static int gem_stream_event(void *arg, const sse_event_t *ev)
{
    prov_stream_t *s = arg;
    if (ev->data.n == 0)
        return 0;
    cJSON *doc = cJSON_ParseWithLength(ev->data.p, ev->data.n);
    int rc = 0;
    if (!cJSON_IsObject(doc) || gem_get(doc, "error")) {
        rc = -1; /* not a GenerateContentResponse, or Google's error object mid-stream */
        goto done;
    }
    s->any = true;
    if (gem_str(gem_get(doc, "promptFeedback"), "blockReason"))
        s->blocked = true;
    const cJSON *um = gem_get(doc, "usageMetadata");
    if (cJSON_IsObject(um)) {
        cJSON_Delete(s->usage);
        s->usage = gem_usage(um);
    }
    const cJSON *cands = gem_get(doc, "candidates");
    int i = 0;
    for (const cJSON *c = cJSON_IsArray(cands) ? cands->child : NULL; c && rc == 0;
         c = c->next, i++)
        rc = gem_stream_candidate(s, c, i);
done:
    cJSON_Delete(doc);
    return rc;
}

static prov_stream_t *gem_stream_new(const prov_ctx_t *ctx)
{
    prov_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->model = gem_model_cstr(ctx);
    if (!s->model) {
        free(s);
        return NULL;
    }
    sse_parser_init(&s->sse, 0);
    prov_new_id(s->id);
    s->created = (long long)time(NULL);
    return s;
}

static int gem_stream_feed(prov_stream_t *s, const char *p, size_t n, prov_emit_fn emit, void *arg)
{
    s->emit = emit;
    s->arg = arg;
    return sse_feed(&s->sse, p, n, gem_stream_event, s) == 0 ? 0 : -1;
}

/* The closing chunk of every candidate: finish_reason, and usage on the last one. */
static int gem_stream_end(prov_stream_t *s, prov_emit_fn emit, void *arg)
{
    s->emit = emit;
    s->arg = arg;
    /* an event whose closing blank line never came still counts, if it is whole JSON */
    if (sse_feed(&s->sse, "\n\n", 2, gem_stream_event, s) != 0)
        return -1;
    if (!s->any)
        return -1;
    unsigned seen = s->seen ? s->seen : 1u;
    int last = 0;
    for (int i = 0; i < GEM_MAX_CANDIDATES; i++)
        if (seen & (1u << i))
            last = i;
    for (int i = 0; i <= last; i++) {
        unsigned bit = 1u << i;
        if (!(seen & bit))
            continue;
        cJSON *delta = cJSON_CreateObject();
        if (!(s->role_sent & bit))
            cJSON_AddStringToObject(delta, "role", "assistant");
        s->role_sent |= bit;
        const char *fr =
            s->blocked && !s->seen
                ? "content_filter"
                : gem_finish_reason(s->finish[i][0] ? s->finish[i] : NULL, s->had_tools & bit);
        cJSON *usage = NULL;
        if (i == last) {
            usage = s->usage;
            s->usage = NULL;
        }
        if (gem_emit(s, i, delta, fr, usage) != 0)
            return -1;
    }
    return 0;
}

static void gem_stream_free(prov_stream_t *s)
{
    if (!s)
        return;
    sse_parser_free(&s->sse);
    cJSON_Delete(s->usage);
    free(s->model);
    free(s);
}

/* ---- embeddings ------------------------------------------------------------------------- */

static int gem_embed_request(const prov_ctx_t *ctx, gem_api_t api, const cJSON *req,
                             prov_http_t *out, prov_error_t *err)
{
    if (prov_check_params(ctx, req, gem_embed_params, err) != 0)
        return -1;
    const cJSON *input = gem_get(req, "input");
    bool one = cJSON_IsString(input);
    if (!one && !(cJSON_IsArray(input) && input->child))
        return prov_fail(err, 400, "input", "%s: input must be a string or a list of strings",
                         gem_api_name(api));
    for (const cJSON *it = one ? NULL : input->child; it; it = it->next)
        if (!cJSON_IsString(it))
            return prov_fail(err, 400, "input",
                             "%s: embeddings take text: input must be a string or a list of "
                             "strings (not token arrays)",
                             gem_api_name(api));
    const cJSON *dims = gem_get(req, "dimensions");
    if (gem_present(dims) && !cJSON_IsNumber(dims))
        return prov_fail(err, 400, "dimensions", "%s: dimensions must be a number",
                         gem_api_name(api));
    const char *task = gem_str(req, "task_type");
    char *model = gem_model_cstr(ctx);
    if (!model)
        return prov_fail(err, 500, NULL, "out of memory");
    cJSON *body = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(body, api == GEM_STUDIO ? "requests" : "instances");
    for (const cJSON *it = one ? input : input->child; it; it = one ? NULL : it->next) {
        cJSON *r = cJSON_CreateObject();
        if (api == GEM_STUDIO) {
            char name[300];
            snprintf(name, sizeof name, "%s%s", strncmp(model, "models/", 7) ? "models/" : "",
                     model);
            cJSON_AddStringToObject(r, "model", name);
            cJSON *parts = cJSON_AddArrayToObject(cJSON_AddObjectToObject(r, "content"), "parts");
            gem_add_text_part(parts, it->valuestring);
            if (task)
                cJSON_AddStringToObject(r, "taskType", task);
            if (cJSON_IsNumber(dims))
                cJSON_AddNumberToObject(r, "outputDimensionality", dims->valuedouble);
        } else {
            cJSON_AddStringToObject(r, "content", it->valuestring);
            if (task)
                cJSON_AddStringToObject(r, "task_type", task);
        }
        cJSON_AddItemToArray(list, r);
        if (one)
            break;
    }
    free(model);
    if (api == GEM_VERTEX && cJSON_IsNumber(dims))
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(body, "parameters"), "outputDimensionality",
                                dims->valuedouble);
    if (gem_target(ctx, api, api == GEM_STUDIO ? "batchEmbedContents" : "predict", false, out,
                   err) != 0) {
        cJSON_Delete(body);
        return -1;
    }
    return gem_body_print(body, out, err);
}

/* One vector from {"values":[...]}; false when it is not one. */
static bool gem_embed_item(cJSON *data, int index, const cJSON *emb)
{
    const cJSON *values = gem_get(emb, "values");
    if (!cJSON_IsArray(values))
        return false;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "object", "embedding");
    cJSON_AddNumberToObject(e, "index", index);
    cJSON_AddItemToObject(e, "embedding", cJSON_Duplicate(values, 1));
    cJSON_AddItemToArray(data, e);
    return true;
}

/* batchEmbedContents {"embeddings":[{values}]}, embedContent {"embedding":{values}} or Vertex
 * :predict {"predictions":[{"embeddings":{values, statistics.token_count}}]} -> OpenAI's list. */
static int gem_embed_response(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err,
                              gem_api_t api)
{
    cJSON *doc = cJSON_ParseWithLength(body.p ? body.p : "", body.n);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(r, "data");
    long long tokens = gem_count(gem_get(doc, "usageMetadata"), "promptTokenCount");
    bool ok = cJSON_IsObject(doc);
    const cJSON *list = gem_get(doc, "embeddings"), *preds = gem_get(doc, "predictions");
    int i = 0;
    if (ok && cJSON_IsArray(list)) {
        for (const cJSON *e = list->child; e && ok; e = e->next)
            ok = gem_embed_item(data, i++, e);
    } else if (ok && cJSON_IsArray(preds)) {
        for (const cJSON *p = preds->child; p && ok; p = p->next) {
            const cJSON *e = gem_get(p, "embeddings");
            ok = gem_embed_item(data, i++, e);
            tokens = MIN(tokens + gem_count(gem_get(e, "statistics"), "token_count"),
                         9007199254740992LL);
        }
    } else if (ok && cJSON_IsObject(gem_get(doc, "embedding"))) {
        ok = gem_embed_item(data, i++, gem_get(doc, "embedding"));
    } else {
        ok = false;
    }
    cJSON_Delete(doc);
    if (!ok) {
        cJSON_Delete(r);
        return prov_fail(err, 502, NULL, "%s: the embeddings answer has no vectors",
                         gem_api_name(api));
    }
    char *model = gem_model_cstr(ctx);
    cJSON_AddStringToObject(r, "model", model ? model : "");
    free(model);
    cJSON *u = cJSON_AddObjectToObject(r, "usage");
    cJSON_AddNumberToObject(u, "prompt_tokens", (double)tokens);
    cJSON_AddNumberToObject(u, "total_tokens", (double)tokens);
    char *text = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    int rc =
        text && buf_append_cstr(out, text) == 0 ? 0 : prov_fail(err, 500, NULL, "out of memory");
    free(text);
    return rc;
}

/* ---- the two adapters ------------------------------------------------------------------- */

static int studio_chat_request(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                               prov_error_t *err)
{
    return gem_chat_request(ctx, GEM_STUDIO, req, out, err);
}

static int vertex_chat_request(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                               prov_error_t *err)
{
    return gem_chat_request(ctx, GEM_VERTEX, req, out, err);
}

static int studio_chat_response(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err)
{
    return gem_chat_response(ctx, body, out, err, GEM_STUDIO);
}

static int vertex_chat_response(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err)
{
    return gem_chat_response(ctx, body, out, err, GEM_VERTEX);
}

static int studio_embed_request(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                                prov_error_t *err)
{
    return gem_embed_request(ctx, GEM_STUDIO, req, out, err);
}

static int vertex_embed_request(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                                prov_error_t *err)
{
    return gem_embed_request(ctx, GEM_VERTEX, req, out, err);
}

static int studio_embed_response(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err)
{
    return gem_embed_response(ctx, body, out, err, GEM_STUDIO);
}

static int vertex_embed_response(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err)
{
    return gem_embed_response(ctx, body, out, err, GEM_VERTEX);
}

const prov_adapter_t prov_adapter_gemini = {
    .name = "gemini",
    .chat_request = studio_chat_request,
    .chat_response = studio_chat_response,
    .stream_new = gem_stream_new,
    .stream_feed = gem_stream_feed,
    .stream_end = gem_stream_end,
    .stream_free = gem_stream_free,
    .error_message = gem_error_message,
    .embed_request = studio_embed_request,
    .embed_response = studio_embed_response,
};

const prov_adapter_t prov_adapter_vertex_ai = {
    .name = "vertex_ai",
    .chat_request = vertex_chat_request,
    .chat_response = vertex_chat_response,
    .stream_new = gem_stream_new,
    .stream_feed = gem_stream_feed,
    .stream_end = gem_stream_end,
    .stream_free = gem_stream_free,
    .error_message = gem_error_message,
    .embed_request = vertex_embed_request,
    .embed_response = vertex_embed_response,
};
