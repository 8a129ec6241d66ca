/* SPDX-License-Identifier: MIT
 * bedrock: OpenAI chat <-> AWS Bedrock Converse / ConverseStream, and embeddings through
 * InvokeModel (amazon.titan-embed-*, cohere.embed-*), translated as LiteLLM does. Requests are
 * signed with SigV4 (sigv4.c, service "bedrock"), or carry a Bedrock API key as a Bearer token;
 * streams are AWS event-stream frames (eventstream.c) decoded into OpenAI chunks.
 * Not here: the Invoke API for chat (`bedrock/invoke/<id>` is served through Converse too),
 * credentials from roles, profiles or web identity, and fetching remote image URLs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/common.h"
#include "providers/adapter.h"
#include "providers/eventstream.h"
#include "providers/sigv4.h"

#define BR_SERVICE "bedrock"
#define BR_DEFAULT_REGION "us-west-2" /* LiteLLM's fallback when no region is configured */
#define BR_MAX_BLOCKS 4096            /* content blocks one streamed answer may open */
#define BR_MAX_HEADER_LINES 24        /* our own request headers, x-mock-* aside */
#define BR_MAX_MOCK_HEADERS 16        /* x-mock-* headers forwarded from a "mock" object */
#define BR_MOCK_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"

/* OpenAI chat parameters Converse takes (the rest: 400 unless drop_params). */
static const char *const br_chat_params[] = {"max_tokens",
                                             "max_completion_tokens",
                                             "temperature",
                                             "top_p",
                                             "top_k",
                                             "stop",
                                             "tools",
                                             "tool_choice",
                                             "user",
                                             "thinking",
                                             "reasoning_effort",
                                             NULL};

static const char *const br_embed_params[] = {"input", "encoding_format", "dimensions",
                                              "user",  "input_type",      NULL};

/* ---- small helpers ---------------------------------------------------------------------- */

/* A count from JSON: non-negative, whole, at most 2^53 (else 0). */
static long long br_count(double d)
{
    return d >= 0 && d <= 9007199254740992.0 ? (long long)d : 0;
}

static long long br_int(const cJSON *obj, const char *name)
{
    const cJSON *v = prov_json_get(obj, name);
    return cJSON_IsNumber(v) ? br_count(v->valuedouble) : 0;
}

static const char *br_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static const char *br_param(const prov_ctx_t *ctx, const char *name)
{
    const char *v = ctx->dep ? cfg_deployment_param(ctx->dep, name) : NULL;
    return v && *v ? v : NULL;
}

/* The Bedrock model id: "converse/" and "invoke/" route prefixes dropped. */
static str_t br_model_id(const prov_ctx_t *ctx)
{
    str_t m = ctx->model;
    if (str_has_prefix(m, STR_LIT("converse/")))
        m = str_skip(m, 9);
    else if (str_has_prefix(m, STR_LIT("invoke/")))
        m = str_skip(m, 7);
    return m;
}

/* ---- credentials, region, URL, signing ---------------------------------------------------- */

typedef struct {
    sigv4_credentials_t keys;
    const char *bearer; /* a Bedrock API key instead of SigV4 */
    const char *region;
} br_auth_t;

/* The region in an ARN model id ("arn:aws:bedrock:<region>:..."), copied to the arena. */
static const char *br_arn_region(const prov_ctx_t *ctx, str_t model)
{
    static const str_t arn = STR_LIT("arn:aws:bedrock:");
    if (!str_has_prefix(model, arn))
        return NULL;
    str_t rest = str_skip(model, arn.n);
    const char *colon = memchr(rest.p, ':', rest.n);
    if (!colon || colon == rest.p)
        return NULL;
    return arena_strndup(ctx->arena, rest.p, (size_t)(colon - rest.p));
}

/* Credentials as LiteLLM looks for them: litellm_params keys, else the deployment's api_key as
 * a Bedrock API key, else the AWS_* environment, else AWS_BEARER_TOKEN_BEDROCK. */
static int br_resolve_auth(const prov_ctx_t *ctx, str_t model, br_auth_t *a, prov_error_t *err)
{
    *a = (br_auth_t){0};
    const char *id = br_param(ctx, "aws_access_key_id");
    const char *secret = br_param(ctx, "aws_secret_access_key");
    if (id || secret) {
        if (!id || !secret)
            return prov_fail(err, 500, NULL, "bedrock: litellm_params has %s without %s; give both",
                             id ? "aws_access_key_id" : "aws_secret_access_key",
                             id ? "aws_secret_access_key" : "aws_access_key_id");
        a->keys = (sigv4_credentials_t){id, secret, br_param(ctx, "aws_session_token")};
    } else if (ctx->api_key && *ctx->api_key) {
        a->bearer = ctx->api_key;
    } else if (br_env("AWS_ACCESS_KEY_ID") && br_env("AWS_SECRET_ACCESS_KEY")) {
        a->keys =
            (sigv4_credentials_t){br_env("AWS_ACCESS_KEY_ID"), br_env("AWS_SECRET_ACCESS_KEY"),
                                  br_env("AWS_SESSION_TOKEN")};
    } else if (br_env("AWS_BEARER_TOKEN_BEDROCK")) {
        a->bearer = br_env("AWS_BEARER_TOKEN_BEDROCK");
    } else {
        const char *other = br_param(ctx, "aws_role_name")            ? "aws_role_name"
                            : br_param(ctx, "aws_profile_name")       ? "aws_profile_name"
                            : br_param(ctx, "aws_web_identity_token") ? "aws_web_identity_token"
                                                                      : NULL;
        if (other)
            return prov_fail(err, 500, NULL,
                             "bedrock: %s is not supported by sluice; give aws_access_key_id and "
                             "aws_secret_access_key (or an api_key) in litellm_params",
                             other);
        return prov_fail(err, 500, NULL,
                         "bedrock: no AWS credentials: set aws_access_key_id and "
                         "aws_secret_access_key in litellm_params, or AWS_ACCESS_KEY_ID and "
                         "AWS_SECRET_ACCESS_KEY in the environment");
    }
    a->region = br_param(ctx, "aws_region_name");
    if (!a->region)
        a->region = br_arn_region(ctx, model);
    if (!a->region)
        a->region = br_env("AWS_REGION_NAME");
    if (!a->region)
        a->region = br_env("AWS_REGION");
    if (!a->region)
        a->region = br_env("AWS_DEFAULT_REGION");
    if (!a->region)
        a->region = BR_DEFAULT_REGION;
    return 0;
}

/* "<endpoint>/model/<id URL-encoded>/<action>". The endpoint: the deployment's api_base, else
 * aws_bedrock_runtime_endpoint, else AWS_BEDROCK_RUNTIME_ENDPOINT (ctx->api_base), else the
 * regional default. */
static const char *br_url(const prov_ctx_t *ctx, const br_auth_t *a, str_t model,
                          const char *action)
{
    const char *base = ctx->dep && ctx->dep->api_base ? ctx->api_base : NULL;
    if (!base)
        base = br_param(ctx, "aws_bedrock_runtime_endpoint");
    if (!base)
        base = ctx->api_base;
    if (!base)
        base = arena_printf(ctx->arena, "https://bedrock-runtime.%s.amazonaws.com", a->region);
    if (!base)
        return NULL;
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    buf_t enc = {0};
    if (sigv4_uri_encode(&enc, model) != 0) {
        buf_free(&enc);
        return NULL;
    }
    const char *url = arena_printf(ctx->arena, "%.*s/model/%.*s/%s", (int)n, base, (int)enc.n,
                                   enc.p ? enc.p : "", action);
    buf_free(&enc);
    return url;
}

/* The Host header an HTTP client sends for `url` (default ports left out), and the path with
 * its query. */
static bool br_split_url(const char *url, str_t *host, str_t *path, str_t *query)
{
    const char *scheme_end = strstr(url, "://");
    if (!scheme_end)
        return false;
    bool tls = scheme_end - url == 5 && strncasecmp(url, "https", 5) == 0;
    const char *auth = scheme_end + 3;
    const char *end = auth + strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', (size_t)(end - auth));
    if (at)
        auth = at + 1;
    str_t h = str_make(auth, (size_t)(end - auth));
    const char *bracket = h.n ? memchr(h.p, ']', h.n) : NULL; /* end of an IPv6 literal */
    const char *colon = h.n ? memrchr(h.p, ':', h.n) : NULL;
    if (colon && (!bracket || colon > bracket)) {
        str_t port = str_make(colon + 1, (size_t)(h.p + h.n - colon - 1));
        if ((tls && str_eq_cstr(port, "443")) || (!tls && str_eq_cstr(port, "80")))
            h.n = (size_t)(colon - h.p);
    }
    *host = h;
    const char *q = strchr(end, '?');
    const char *frag = strchr(end, '#');
    const char *path_end = q ? q : frag ? frag : end + strlen(end);
    *path = *end == '/' ? str_make(end, (size_t)(path_end - end)) : STR_LIT("/");
    *query = q ? str_make(q + 1, strcspn(q + 1, "#")) : STR_NULL;
    return h.n > 0;
}

/* Test hook: sluice-mock's controls ride in the body's "mock" object; they are sent to the
 * provider as x-mock-<name> headers (unsigned, ignored by AWS) so they survive translation.
 * Names are letters, digits and '-'; values one line. */
static size_t br_mock_headers(const prov_ctx_t *ctx, const cJSON *req, const char **lines,
                              size_t max)
{
    const cJSON *mock = prov_json_get(req, "mock");
    size_t n = 0;
    for (const cJSON *it = cJSON_IsObject(mock) ? mock->child : NULL; it && n < max;
         it = it->next) {
        if (!it->string || !it->string[0] || it->string[strspn(it->string, BR_MOCK_NAME_CHARS)])
            continue;
        char num[32];
        const char *v = NULL;
        if (cJSON_IsString(it)) {
            v = it->valuestring;
        } else if (cJSON_IsNumber(it)) {
            snprintf(num, sizeof num, "%.17g", it->valuedouble);
            v = num;
        } else if (cJSON_IsBool(it)) {
            v = cJSON_IsTrue(it) ? "true" : "false";
        }
        if (!v || strlen(v) > 200 || strpbrk(v, "\r\n"))
            continue;
        lines[n++] = arena_printf(ctx->arena, "x-mock-%s: %s", it->string, v);
    }
    return n;
}

/* Fills out->url, headers and signs: body must be final. */
static int br_finish_request(const prov_ctx_t *ctx, const cJSON *req, const br_auth_t *a,
                             str_t model, const char *action, const char *accept, prov_http_t *out,
                             prov_error_t *err)
{
    out->method = "POST";
    out->url = br_url(ctx, a, model, action);
    if (!out->url)
        return prov_fail(err, 500, NULL, "out of memory");
    size_t num_extra = ctx->dep ? ctx->dep->num_extra_headers : 0;
    const cJSON *mock = prov_json_get(req, "mock");
    size_t num_mock = MIN((size_t)cJSON_GetArraySize(cJSON_IsObject(mock) ? mock : NULL),
                          (size_t)BR_MAX_MOCK_HEADERS);
    size_t cap = BR_MAX_HEADER_LINES + num_extra + num_mock;
    const char **lines = arena_alloc(ctx->arena, cap * sizeof *lines);
    if (!lines)
        return prov_fail(err, 500, NULL, "out of memory");
    size_t n = 0;
    lines[n++] = "Content-Type: application/json";
    lines[n++] = prov_header_line(ctx->arena, "Accept", accept);
    if (a->bearer) {
        lines[n++] = prov_header_line(ctx->arena, "Authorization",
                                      arena_printf(ctx->arena, "Bearer %s", a->bearer));
    } else {
        str_t host, path, query;
        if (!br_split_url(out->url, &host, &path, &query))
            return prov_fail(err, 500, NULL, "bedrock: cannot sign a request to %s", out->url);
        sigv4_header_t ct = {STR_LIT("content-type"), STR_LIT("application/json")};
        sigv4_request_t r = {
            .method = STR_LIT("POST"),
            .host = host,
            .path = path,
            .query = query,
            .headers = &ct,
            .num_headers = 1,
            .payload = str_make(out->body.p, out->body.n),
            .sign_content_sha256 = true,
            .region = a->region,
            .service = BR_SERVICE,
            .now = time(NULL),
            .credentials = &a->keys,
        };
        sigv4_signed_t s = {0};
        if (sigv4_sign(&r, &s) != SIGV4_OK)
            return prov_fail(err, 500, NULL, "bedrock: the request could not be signed");
        lines[n++] = prov_header_line(ctx->arena, "X-Amz-Date", s.amz_date);
        lines[n++] = prov_header_line(ctx->arena, "X-Amz-Content-Sha256", s.payload_hash);
        if (a->keys.session_token && *a->keys.session_token)
            lines[n++] =
                prov_header_line(ctx->arena, "X-Amz-Security-Token", a->keys.session_token);
        lines[n++] = prov_header_line(ctx->arena, "Authorization", s.authorization.p);
        buf_free(&s.authorization);
    }
    n += prov_extra_headers(ctx, lines + n, num_extra);
    n += br_mock_headers(ctx, req, lines + n, num_mock);
    for (size_t i = 0; i < n; i++)
        if (!lines[i])
            return prov_fail(err, 500, NULL, "out of memory");
    out->headers = prov_headers(ctx->arena, lines, n);
    return out->headers ? 0 : prov_fail(err, 500, NULL, "out of memory");
}

/* Prints `body` (consumed) into out->body. */
static int br_print_body(cJSON *body, prov_http_t *out, prov_error_t *err)
{
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!text || buf_append_cstr(&out->body, text) != 0) {
        free(text);
        buf_free(&out->body);
        return prov_fail(err, 500, NULL, "out of memory");
    }
    free(text);
    return 0;
}

/* ---- request: messages -------------------------------------------------------------------- */

/* {"cachePoint":{"type":"default"}} after a part that asks for prompt caching. */
static void br_cache_point(cJSON *blocks, const cJSON *part)
{
    if (!cJSON_IsObject(prov_json_get(part, "cache_control")))
        return;
    cJSON *cp = cJSON_CreateObject();
    cJSON_AddStringToObject(cJSON_AddObjectToObject(cp, "cachePoint"), "type", "default");
    cJSON_AddItemToArray(blocks, cp);
}

static void br_text_block(cJSON *blocks, const char *text)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "text", text);
    cJSON_AddItemToArray(blocks, b);
}

/* A data: URL as an image or document block. */
static int br_media_block(cJSON *blocks, const char *url, const char *filename, bool file,
                          size_t doc_index, prov_error_t *err)
{
    static const struct {
        const char *mime, *format;
        bool image;
    } kinds[] = {
        {"image/png", "png", true},
        {"image/jpeg", "jpeg", true},
        {"image/jpg", "jpeg", true},
        {"image/gif", "gif", true},
        {"image/webp", "webp", true},
        {"application/pdf", "pdf", false},
        {"text/csv", "csv", false},
        {"text/plain", "txt", false},
        {"text/html", "html", false},
        {"text/markdown", "md", false},
        {"application/msword", "doc", false},
        {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", false},
        {"application/vnd.ms-excel", "xls", false},
        {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", false},
    };
    if (strncmp(url, "data:", 5) != 0)
        return prov_fail(err, 400, "messages",
                         "bedrock: %s must be a data: URL (data:<media type>;base64,<data>); "
                         "sluice does not fetch remote URLs",
                         file ? "file_data" : "image_url");
    const char *marker = strstr(url + 5, ";base64,");
    if (!marker)
        return prov_fail(err, 400, "messages",
                         "bedrock: a data: URL must be base64 (data:<media type>;base64,<data>)");
    str_t mime = str_make(url + 5, (size_t)(marker - url - 5));
    for (size_t i = 0; i < COUNTOF(kinds); i++) {
        if (!str_case_eq(mime, str_cstr(kinds[i].mime)))
            continue;
        cJSON *inner = cJSON_CreateObject();
        cJSON_AddStringToObject(inner, "format", kinds[i].format);
        if (!kinds[i].image) {
            /* Bedrock wants a name of letters, digits, spaces, ()[]- */
            char name[64];
            size_t k = 0;
            for (const char *p = filename; p && *p && k < sizeof name - 1; p++)
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == ' ' || *p == '(' || *p == ')' ||
                    *p == '[' || *p == ']')
                    name[k++] = *p;
            name[k] = '\0';
            if (!k)
                snprintf(name, sizeof name, "document-%zu", doc_index);
            cJSON_AddStringToObject(inner, "name", name);
        }
        cJSON_AddStringToObject(cJSON_AddObjectToObject(inner, "source"), "bytes", marker + 8);
        cJSON *b = cJSON_CreateObject();
        cJSON_AddItemToObject(b, kinds[i].image ? "image" : "document", inner);
        cJSON_AddItemToArray(blocks, b);
        return 0;
    }
    return prov_fail(err, 400, "messages", "bedrock: unsupported media type '%.*s'",
                     (int)MIN(mime.n, (size_t)64), mime.p);
}

/* OpenAI content (string or parts) appended as Converse blocks. `media` allows images and
 * files (user turns). */
static int br_content_blocks(cJSON *blocks, const cJSON *content, bool media, bool skip_empty,
                             size_t *doc_index, prov_error_t *err)
{
    if (!content || cJSON_IsNull(content))
        return 0;
    if (cJSON_IsString(content)) {
        if (!(skip_empty && !content->valuestring[0]))
            br_text_block(blocks, content->valuestring);
        return 0;
    }
    if (!cJSON_IsArray(content))
        return prov_fail(err, 400, "messages", "bedrock: content must be a string or an array");
    for (const cJSON *part = content->child; part; part = part->next) {
        const char *type = prov_json_string(part, "type");
        if (!type)
            return prov_fail(err, 400, "messages", "bedrock: a content part has no type");
        if (strcmp(type, "text") == 0) {
            const char *text = prov_json_string(part, "text");
            if (!text)
                return prov_fail(err, 400, "messages", "bedrock: a text part has no text");
            if (!(skip_empty && !text[0]))
                br_text_block(blocks, text);
        } else if (media && strcmp(type, "image_url") == 0) {
            const cJSON *iu = prov_json_get(part, "image_url");
            const char *url = cJSON_IsString(iu) ? iu->valuestring : prov_json_string(iu, "url");
            if (!url)
                return prov_fail(err, 400, "messages", "bedrock: an image_url part has no url");
            if (br_media_block(blocks, url, NULL, false, 0, err) != 0)
                return -1;
        } else if (media && strcmp(type, "file") == 0) {
            const cJSON *f = prov_json_get(part, "file");
            const char *data = prov_json_string(f, "file_data");
            if (!data)
                return prov_fail(err, 400, "messages",
                                 "bedrock: a file part needs file_data (a data: URL); file_id "
                                 "is not supported");
            if (br_media_block(blocks, data, prov_json_string(f, "filename"), true, ++*doc_index,
                               err) != 0)
                return -1;
        } else {
            return prov_fail(err, 400, "messages",
                             "bedrock: content parts of type '%s' are not supported here", type);
        }
        br_cache_point(blocks, part);
    }
    return 0;
}

/* Appends blocks to the last turn when it has the same role (Converse wants turns to
 * alternate), else starts a turn. Takes ownership of blocks. */
static void br_add_turn(cJSON *messages, const char *role, cJSON *blocks)
{
    cJSON *last = cJSON_GetArrayItem(messages, cJSON_GetArraySize(messages) - 1);
    const char *last_role = prov_json_string(last, "role");
    if (last_role && strcmp(last_role, role) == 0) {
        cJSON *dst = cJSON_GetObjectItemCaseSensitive(last, "content");
        cJSON *b;
        while ((b = cJSON_DetachItemFromArray(blocks, 0)))
            cJSON_AddItemToArray(dst, b);
        cJSON_Delete(blocks);
        return;
    }
    cJSON *turn = cJSON_CreateObject();
    cJSON_AddStringToObject(turn, "role", role);
    cJSON_AddItemToObject(turn, "content", blocks);
    cJSON_AddItemToArray(messages, turn);
}

/* Assistant tool_calls as toolUse blocks. */
static int br_tool_uses(cJSON *blocks, const cJSON *calls, prov_error_t *err)
{
    for (const cJSON *c = calls ? calls->child : NULL; c; c = c->next) {
        const cJSON *fn = prov_json_get(c, "function");
        const char *id = prov_json_string(c, "id"), *name = prov_json_string(fn, "name");
        if (!id || !name)
            return prov_fail(err, 400, "messages",
                             "bedrock: an assistant tool call needs an id and function.name");
        const char *args = prov_json_string(fn, "arguments");
        cJSON *input = args && *args ? cJSON_Parse(args) : cJSON_CreateObject();
        if (!input)
            return prov_fail(err, 400, "messages",
                             "bedrock: the arguments of tool call %s are not JSON", id);
        cJSON *use = cJSON_CreateObject();
        cJSON_AddStringToObject(use, "toolUseId", id);
        cJSON_AddStringToObject(use, "name", name);
        cJSON_AddItemToObject(use, "input", input);
        cJSON *b = cJSON_CreateObject();
        cJSON_AddItemToObject(b, "toolUse", use);
        cJSON_AddItemToArray(blocks, b);
    }
    return 0;
}

/* A tool message as a toolResult block. */
static int br_tool_result(cJSON *blocks, const cJSON *m, prov_error_t *err)
{
    const char *id = prov_json_string(m, "tool_call_id");
    if (!id)
        return prov_fail(err, 400, "messages", "bedrock: a tool message needs tool_call_id");
    cJSON *content = cJSON_CreateArray();
    size_t docs = 0;
    if (br_content_blocks(content, prov_json_get(m, "content"), false, false, &docs, err) != 0) {
        cJSON_Delete(content);
        return -1;
    }
    if (!cJSON_GetArraySize(content))
        br_text_block(content, ""); /* Converse wants at least one block */
    cJSON *result = cJSON_CreateObject();
    cJSON_AddStringToObject(result, "toolUseId", id);
    cJSON_AddItemToObject(result, "content", content);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddItemToObject(b, "toolResult", result);
    cJSON_AddItemToArray(blocks, b);
    return 0;
}

/* messages -> Converse messages and system; *has_tool_blocks tells whether the history holds
 * toolUse / toolResult blocks. */
static int br_messages(const cJSON *req, cJSON *body, bool *has_tool_blocks, prov_error_t *err)
{
    const cJSON *msgs = prov_json_get(req, "messages");
    if (!cJSON_IsArray(msgs) || !msgs->child)
        return prov_fail(err, 400, "messages", "bedrock: messages must be a non-empty array");
    cJSON *system = cJSON_CreateArray();
    cJSON *messages = cJSON_CreateArray();
    size_t docs = 0;
    for (const cJSON *m = msgs->child; m; m = m->next) {
        const char *role = prov_json_string(m, "role");
        if (!role)
            goto bad_role;
        cJSON *blocks = cJSON_CreateArray();
        int rc = 0;
        const char *turn = role;
        if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            rc = br_content_blocks(system, prov_json_get(m, "content"), false, false, &docs, err);
            br_cache_point(system, m);
            cJSON_Delete(blocks);
            if (rc)
                goto fail;
            continue;
        } else if (strcmp(role, "user") == 0) {
            rc = br_content_blocks(blocks, prov_json_get(m, "content"), true, false, &docs, err);
            br_cache_point(blocks, m);
        } else if (strcmp(role, "assistant") == 0) {
            rc = br_content_blocks(blocks, prov_json_get(m, "content"), false, true, &docs, err);
            const cJSON *calls = prov_json_get(m, "tool_calls");
            if (!rc && cJSON_IsArray(calls) && calls->child) {
                rc = br_tool_uses(blocks, calls, err);
                *has_tool_blocks = true;
            }
        } else if (strcmp(role, "tool") == 0) {
            rc = br_tool_result(blocks, m, err);
            turn = "user";
            *has_tool_blocks = true;
        } else {
            cJSON_Delete(blocks);
            goto bad_role;
        }
        if (rc) {
            cJSON_Delete(blocks);
            goto fail;
        }
        if (!cJSON_GetArraySize(blocks)) {
            cJSON_Delete(blocks);
            continue; /* an assistant turn with nothing in it */
        }
        br_add_turn(messages, turn, blocks);
    }
    cJSON_AddItemToObject(body, "messages", messages);
    if (cJSON_GetArraySize(system))
        cJSON_AddItemToObject(body, "system", system);
    else
        cJSON_Delete(system);
    return 0;
bad_role:
    prov_fail(err, 400, "messages",
              "bedrock: message roles must be system, developer, user, assistant or tool");
fail:
    cJSON_Delete(system);
    cJSON_Delete(messages);
    return -1;
}

/* ---- request: tools, inference settings ------------------------------------------------- */

static int br_tool_config(const cJSON *req, cJSON *body, bool has_tool_blocks, prov_error_t *err)
{
    const cJSON *tools = prov_json_get(req, "tools");
    const cJSON *choice = prov_json_get(req, "tool_choice");
    cJSON *specs = cJSON_CreateArray();
    for (const cJSON *t = cJSON_IsArray(tools) ? tools->child : NULL; t; t = t->next) {
        const cJSON *fn = prov_json_get(t, "function");
        if (!fn)
            fn = t; /* flat {"type":"function","name":...} */
        const char *name = prov_json_string(fn, "name");
        if (!name || !*name) {
            cJSON_Delete(specs);
            return prov_fail(err, 400, "tools", "bedrock: every tool needs function.name");
        }
        const char *desc = prov_json_string(fn, "description");
        const cJSON *params = prov_json_get(fn, "parameters");
        cJSON *spec = cJSON_CreateObject();
        cJSON_AddStringToObject(spec, "name", name);
        /* Bedrock requires a description; LiteLLM uses the name when there is none */
        cJSON_AddStringToObject(spec, "description", desc && *desc ? desc : name);
        cJSON *schema = cJSON_AddObjectToObject(spec, "inputSchema");
        if (cJSON_IsObject(params)) {
            cJSON_AddItemToObject(schema, "json", cJSON_Duplicate(params, true));
        } else {
            cJSON *json = cJSON_AddObjectToObject(schema, "json");
            cJSON_AddStringToObject(json, "type", "object");
            cJSON_AddObjectToObject(json, "properties");
        }
        cJSON *wrap = cJSON_CreateObject();
        cJSON_AddItemToObject(wrap, "toolSpec", spec);
        cJSON_AddItemToArray(specs, wrap);
    }
    if (!cJSON_GetArraySize(specs) && has_tool_blocks) {
        /* Converse refuses toolUse / toolResult history without a toolConfig: LiteLLM adds a
         * placeholder tool */
        cJSON *spec = cJSON_CreateObject();
        cJSON_AddStringToObject(spec, "name", "dummy_tool");
        cJSON_AddStringToObject(spec, "description", "This is a dummy tool call");
        cJSON *json = cJSON_AddObjectToObject(cJSON_AddObjectToObject(spec, "inputSchema"), "json");
        cJSON_AddStringToObject(json, "type", "object");
        cJSON_AddObjectToObject(json, "properties");
        cJSON *wrap = cJSON_CreateObject();
        cJSON_AddItemToObject(wrap, "toolSpec", spec);
        cJSON_AddItemToArray(specs, wrap);
        choice = NULL;
    }
    if (!cJSON_GetArraySize(specs)) {
        cJSON_Delete(specs);
        return 0;
    }
    cJSON *config = cJSON_AddObjectToObject(body, "toolConfig");
    cJSON_AddItemToObject(config, "tools", specs);
    if (!choice || cJSON_IsNull(choice))
        return 0;
    const char *word = cJSON_IsString(choice) ? choice->valuestring : NULL;
    const char *name = prov_json_string(prov_json_get(choice, "function"), "name");
    if (!name)
        name = prov_json_string(choice, "name");
    if (word && strcmp(word, "none") == 0)
        return 0; /* Converse has no "none": the tools stay, no choice is forced */
    cJSON *tc = cJSON_AddObjectToObject(config, "toolChoice");
    if (word && strcmp(word, "auto") == 0)
        cJSON_AddObjectToObject(tc, "auto");
    else if (word && strcmp(word, "required") == 0)
        cJSON_AddObjectToObject(tc, "any");
    else if (!word && name)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(tc, "tool"), "name", name);
    else
        return prov_fail(err, 400, "tool_choice",
                         "bedrock: tool_choice must be auto, required, none or a named function");
    return 0;
}

static int br_inference_config(const cJSON *req, cJSON *body, prov_error_t *err)
{
    cJSON *ic = cJSON_CreateObject();
    const cJSON *max = prov_json_get(req, "max_completion_tokens");
    if (!max || cJSON_IsNull(max))
        max = prov_json_get(req, "max_tokens");
    const char *bad = NULL;
    if (max && !cJSON_IsNull(max)) {
        if (!cJSON_IsNumber(max) || br_count(max->valuedouble) < 1)
            bad = max == prov_json_get(req, "max_tokens") ? "max_tokens" : "max_completion_tokens";
        else
            cJSON_AddNumberToObject(ic, "maxTokens", (double)br_count(max->valuedouble));
    }
    const cJSON *temp = prov_json_get(req, "temperature"), *top_p = prov_json_get(req, "top_p");
    if (temp && !cJSON_IsNull(temp)) {
        if (!cJSON_IsNumber(temp))
            bad = "temperature";
        else
            cJSON_AddNumberToObject(ic, "temperature", temp->valuedouble);
    }
    if (top_p && !cJSON_IsNull(top_p)) {
        if (!cJSON_IsNumber(top_p))
            bad = "top_p";
        else
            cJSON_AddNumberToObject(ic, "topP", top_p->valuedouble);
    }
    const cJSON *stop = prov_json_get(req, "stop");
    if (cJSON_IsString(stop)) {
        cJSON_AddItemToObject(ic, "stopSequences",
                              cJSON_CreateStringArray((const char *const[]){stop->valuestring}, 1));
    } else if (cJSON_IsArray(stop)) {
        cJSON *seqs = cJSON_AddArrayToObject(ic, "stopSequences");
        for (const cJSON *s = stop->child; s; s = s->next) {
            if (!cJSON_IsString(s))
                bad = "stop";
            else
                cJSON_AddItemToArray(seqs, cJSON_CreateString(s->valuestring));
        }
    } else if (stop && !cJSON_IsNull(stop)) {
        bad = "stop";
    }
    if (bad) {
        cJSON_Delete(ic);
        return prov_fail(err, 400, bad, "bedrock: invalid value for '%s'", bad);
    }
    if (ic->child)
        cJSON_AddItemToObject(body, "inferenceConfig", ic);
    else
        cJSON_Delete(ic);

    /* model-specific settings Converse passes through */
    cJSON *extra = cJSON_CreateObject();
    const cJSON *top_k = prov_json_get(req, "top_k");
    if (cJSON_IsNumber(top_k))
        cJSON_AddNumberToObject(extra, "top_k", top_k->valuedouble);
    const cJSON *thinking = prov_json_get(req, "thinking");
    const char *effort = prov_json_string(req, "reasoning_effort");
    if (cJSON_IsObject(thinking)) {
        cJSON_AddItemToObject(extra, "thinking", cJSON_Duplicate(thinking, true));
    } else if (effort) {
        /* LiteLLM's budgets for Anthropic models */
        int budget = strcmp(effort, "low") == 0      ? 1024
                     : strcmp(effort, "medium") == 0 ? 2048
                     : strcmp(effort, "high") == 0   ? 4096
                                                     : 0;
        if (!budget) {
            cJSON_Delete(extra);
            return prov_fail(err, 400, "reasoning_effort",
                             "bedrock: reasoning_effort must be low, medium or high");
        }
        cJSON *t = cJSON_AddObjectToObject(extra, "thinking");
        cJSON_AddStringToObject(t, "type", "enabled");
        cJSON_AddNumberToObject(t, "budget_tokens", budget);
    }
    if (extra->child)
        cJSON_AddItemToObject(body, "additionalModelRequestFields", extra);
    else
        cJSON_Delete(extra);
    return 0;
}

static int br_chat_request(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                           prov_error_t *err)
{
    *out = (prov_http_t){0};
    str_t model = br_model_id(ctx);
    if (model.n == 0)
        return prov_fail(err, 400, "model", "bedrock: the model id is empty");
    if (prov_check_params(ctx, req, br_chat_params, err) != 0)
        return -1;
    br_auth_t auth;
    if (br_resolve_auth(ctx, model, &auth, err) != 0)
        return -1;
    cJSON *body = cJSON_CreateObject();
    bool has_tool_blocks = false;
    if (br_messages(req, body, &has_tool_blocks, err) != 0 ||
        br_inference_config(req, body, err) != 0 ||
        br_tool_config(req, body, has_tool_blocks, err) != 0) {
        cJSON_Delete(body);
        return -1;
    }
    if (br_print_body(body, out, err) != 0)
        return -1;
    if (br_finish_request(ctx, req, &auth, model, ctx->stream ? "converse-stream" : "converse",
                          ctx->stream ? "application/vnd.amazon.eventstream" : "application/json",
                          out, err) != 0) {
        buf_free(&out->body);
        return -1;
    }
    return 0;
}

/* ---- response --------------------------------------------------------------------------- */

/* OpenAI finish_reason for a Converse stopReason. */
static const char *br_finish_reason(const char *stop)
{
    if (!stop)
        return "stop";
    if (strcmp(stop, "model_context_window_exceeded") == 0)
        return "length";
    return prov_finish_reason(stop); /* end_turn, stop_sequence, max_tokens, tool_use, ... */
}

/* Converse usage -> OpenAI usage: cache reads and writes count as prompt tokens. */
static cJSON *br_usage(const cJSON *u)
{
    long long cache_read = br_int(u, "cacheReadInputTokens");
    long long prompt = br_int(u, "inputTokens") + cache_read + br_int(u, "cacheWriteInputTokens");
    return prov_usage(prompt, br_int(u, "outputTokens"), cache_read);
}

static int br_chat_response(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err)
{
    cJSON *in = cJSON_ParseWithLength(body.p ? body.p : "", body.n);
    const cJSON *message = prov_json_get(prov_json_get(in, "output"), "message");
    const cJSON *content = prov_json_get(message, "content");
    if (!cJSON_IsArray(content)) {
        const char *msg = prov_json_string(in, "message");
        if (msg)
            prov_fail(err, 502, NULL, "bedrock: %s", msg);
        else
            prov_fail(err, 502, NULL,
                      "bedrock answered with something that is not a Converse response");
        cJSON_Delete(in);
        return -1;
    }
    buf_t text = {0}, reasoning = {0};
    cJSON *calls = cJSON_CreateArray();
    for (const cJSON *b = content->child; b; b = b->next) {
        const char *t = prov_json_string(b, "text");
        const cJSON *use = prov_json_get(b, "toolUse");
        const cJSON *rc = prov_json_get(prov_json_get(b, "reasoningContent"), "reasoningText");
        if (t) {
            buf_append_cstr(&text, t);
        } else if (cJSON_IsObject(use)) {
            const cJSON *input = prov_json_get(use, "input");
            char *args = input ? cJSON_PrintUnformatted(input) : NULL;
            cJSON *call = cJSON_CreateObject();
            cJSON_AddStringToObject(
                call, "id",
                prov_json_string(use, "toolUseId") ? prov_json_string(use, "toolUseId") : "");
            cJSON_AddStringToObject(call, "type", "function");
            cJSON *fn = cJSON_AddObjectToObject(call, "function");
            cJSON_AddStringToObject(
                fn, "name", prov_json_string(use, "name") ? prov_json_string(use, "name") : "");
            cJSON_AddStringToObject(fn, "arguments", args ? args : "{}");
            free(args);
            cJSON_AddItemToArray(calls, call);
        } else if (prov_json_string(rc, "text")) {
            buf_append_cstr(&reasoning, prov_json_string(rc, "text"));
        }
    }
    char id[40];
    prov_new_id(id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "object", "chat.completion");
    cJSON_AddNumberToObject(o, "created", (double)time(NULL));
    str_t model = br_model_id(ctx);
    cJSON_AddItemToObject(o, "model",
                          cJSON_CreateString(arena_strndup(ctx->arena, model.p, model.n)));
    cJSON *choice = cJSON_CreateObject();
    cJSON_AddNumberToObject(choice, "index", 0);
    cJSON *msg = cJSON_AddObjectToObject(choice, "message");
    cJSON_AddStringToObject(msg, "role", "assistant");
    bool has_calls = cJSON_GetArraySize(calls) > 0;
    if (text.n || !has_calls)
        cJSON_AddItemToObject(msg, "content", cJSON_CreateString(buf_cstr(&text) ? text.p : ""));
    else
        cJSON_AddNullToObject(msg, "content");
    if (reasoning.n && buf_cstr(&reasoning))
        cJSON_AddStringToObject(msg, "reasoning_content", reasoning.p);
    if (has_calls)
        cJSON_AddItemToObject(msg, "tool_calls", calls);
    else
        cJSON_Delete(calls);
    cJSON_AddStringToObject(choice, "finish_reason",
                            br_finish_reason(prov_json_string(in, "stopReason")));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "choices"), choice);
    cJSON_AddItemToObject(o, "usage", br_usage(prov_json_get(in, "usage")));
    buf_free(&text);
    buf_free(&reasoning);
    cJSON_Delete(in);
    char *printed = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int rc = printed && buf_append_cstr(out, printed) == 0
                 ? 0
                 : prov_fail(err, 500, NULL, "out of memory");
    free(printed);
    return rc;
}

static void br_error_message(int status, str_t body, buf_t *out)
{
    (void)status;
    cJSON *in = cJSON_ParseWithLength(body.p ? body.p : "", body.n);
    const char *msg = prov_json_string(in, "message");
    if (!msg)
        msg = prov_json_string(in, "Message"); /* some AWS front ends capitalize it */
    if (msg)
        buf_append_cstr(out, msg);
    else
        buf_append(out, body.p, MIN(body.n, (size_t)1000));
    cJSON_Delete(in);
}

/* ---- stream ------------------------------------------------------------------------------- */

struct prov_stream {
    evs_decoder_t dec;
    char id[40];
    long long created;
    char *model;
    size_t model_n;
    int *tool_of_block; /* contentBlockIndex -> tool index + 1; 0: a text block */
    size_t blocks;      /* entries in tool_of_block */
    int num_tools;
    char stop[48]; /* messageStop's stopReason */
    cJSON *usage;  /* metadata's usage, until the final chunk */
    bool role_sent, stopped, finished, failed;
    prov_emit_fn emit;
    void *arg;
    char error[300]; /* an exception frame's type and message */
};

static prov_stream_t *br_stream_new(const prov_ctx_t *ctx)
{
    prov_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    evs_decoder_init(&s->dec, 0);
    prov_new_id(s->id);
    s->created = (long long)time(NULL);
    str_t model = br_model_id(ctx);
    s->model = malloc(model.n + 1);
    if (!s->model) {
        free(s);
        return NULL;
    }
    if (model.n)
        memcpy(s->model, model.p, model.n);
    s->model[model.n] = '\0';
    s->model_n = model.n;
    return s;
}

static void br_stream_free(prov_stream_t *s)
{
    if (!s)
        return;
    evs_decoder_free(&s->dec);
    cJSON_Delete(s->usage);
    free(s->tool_of_block);
    free(s->model);
    free(s);
}

/* A delta object; the first one of the stream carries the role. */
static cJSON *br_delta(prov_stream_t *s)
{
    cJSON *d = cJSON_CreateObject();
    if (!s->role_sent) {
        cJSON_AddStringToObject(d, "role", "assistant");
        s->role_sent = true;
    }
    return d;
}

static int br_emit(prov_stream_t *s, cJSON *delta, const char *finish, cJSON *usage)
{
    if (prov_emit_chunk(s->emit, s->arg, s->id, s->created, str_make(s->model, s->model_n), delta,
                        finish, usage) != 0) {
        s->failed = true;
        return -1;
    }
    return 0;
}

static int br_emit_final(prov_stream_t *s)
{
    s->finished = true;
    cJSON *usage = s->usage ? br_usage(s->usage) : NULL;
    return br_emit(s, s->role_sent ? cJSON_CreateObject() : br_delta(s),
                   br_finish_reason(s->stop[0] ? s->stop : NULL), usage);
}

/* The tool index of a content block, or -1. `start` assigns one. */
static int br_block_tool(prov_stream_t *s, const cJSON *payload, bool start)
{
    const cJSON *idx = prov_json_get(payload, "contentBlockIndex");
    if (!cJSON_IsNumber(idx) || idx->valuedouble < 0 || idx->valuedouble >= BR_MAX_BLOCKS)
        return -1;
    size_t i = (size_t)idx->valuedouble;
    if (start) {
        if (i >= s->blocks) {
            size_t n = MAX(i + 1, s->blocks * 2);
            int *p = realloc(s->tool_of_block, n * sizeof *p);
            if (!p)
                return -1;
            memset(p + s->blocks, 0, (n - s->blocks) * sizeof *p);
            s->tool_of_block = p;
            s->blocks = n;
        }
        if (s->tool_of_block[i])
            return -1; /* started twice */
        s->tool_of_block[i] = ++s->num_tools;
    }
    return i < s->blocks && s->tool_of_block[i] ? s->tool_of_block[i] - 1 : -1;
}

static int br_on_event(prov_stream_t *s, str_t event, const cJSON *p)
{
    if (str_eq_cstr(event, "messageStart")) {
        if (s->role_sent)
            return 0;
        cJSON *d = br_delta(s);
        cJSON_AddStringToObject(d, "content", "");
        return br_emit(s, d, NULL, NULL);
    }
    if (str_eq_cstr(event, "contentBlockStart")) {
        const cJSON *use = prov_json_get(prov_json_get(p, "start"), "toolUse");
        if (!cJSON_IsObject(use))
            return 0; /* other block kinds start with their deltas */
        const char *id = prov_json_string(use, "toolUseId"), *name = prov_json_string(use, "name");
        int k = br_block_tool(s, p, true);
        if (k < 0 || !id || !name)
            return -1;
        cJSON *d = br_delta(s);
        cJSON *call = cJSON_CreateObject();
        cJSON_AddNumberToObject(call, "index", k);
        cJSON_AddStringToObject(call, "id", id);
        cJSON_AddStringToObject(call, "type", "function");
        cJSON *fn = cJSON_AddObjectToObject(call, "function");
        cJSON_AddStringToObject(fn, "name", name);
        cJSON_AddStringToObject(fn, "arguments", "");
        cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "tool_calls"), call);
        return br_emit(s, d, NULL, NULL);
    }
    if (str_eq_cstr(event, "contentBlockDelta")) {
        const cJSON *delta = prov_json_get(p, "delta");
        const char *text = prov_json_string(delta, "text");
        const cJSON *use = prov_json_get(delta, "toolUse");
        const char *reasoning = prov_json_string(prov_json_get(delta, "reasoningContent"), "text");
        if (text) {
            cJSON *d = br_delta(s);
            cJSON_AddStringToObject(d, "content", text);
            return br_emit(s, d, NULL, NULL);
        }
        if (cJSON_IsObject(use)) {
            const char *input = prov_json_string(use, "input");
            int k = br_block_tool(s, p, false);
            if (k < 0 || !input)
                return -1; /* tool input for a block that did not start as a tool */
            cJSON *d = br_delta(s);
            cJSON *call = cJSON_CreateObject();
            cJSON_AddNumberToObject(call, "index", k);
            cJSON_AddStringToObject(cJSON_AddObjectToObject(call, "function"), "arguments", input);
            cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "tool_calls"), call);
            return br_emit(s, d, NULL, NULL);
        }
        if (reasoning) {
            cJSON *d = br_delta(s);
            cJSON_AddStringToObject(d, "reasoning_content", reasoning);
            return br_emit(s, d, NULL, NULL);
        }
        return 0; /* signatures, redacted reasoning: nothing for OpenAI clients */
    }
    if (str_eq_cstr(event, "messageStop")) {
        const char *stop = prov_json_string(p, "stopReason");
        snprintf(s->stop, sizeof s->stop, "%s", stop ? stop : "");
        s->stopped = true;
        return 0; /* the final chunk waits for metadata's usage */
    }
    if (str_eq_cstr(event, "metadata")) {
        const cJSON *u = prov_json_get(p, "usage");
        if (cJSON_IsObject(u)) {
            cJSON_Delete(s->usage);
            s->usage = cJSON_Duplicate(u, true);
        }
        return s->stopped && !s->finished ? br_emit_final(s) : 0;
    }
    return 0; /* contentBlockStop and events added later */
}

static int br_on_message(void *arg, const evs_message_t *m)
{
    prov_stream_t *s = arg;
    str_t type = evs_header_string(m, ":message-type");
    if (type.p && !str_eq_cstr(type, "event")) {
        /* exception or error frames end the stream; keep their words for the client */
        str_t name = evs_header_string(m, ":exception-type");
        cJSON *payload = cJSON_ParseWithLength(m->payload.p ? m->payload.p : "", m->payload.n);
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(payload, "message");
        snprintf(s->error, sizeof s->error, "%.*s: %s", name.p ? (int)name.n : 9,
                 name.p ? name.p : "exception",
                 cJSON_IsString(msg) ? msg->valuestring : "the stream failed");
        cJSON_Delete(payload);
        s->failed = true;
        return 1;
    }
    if (s->finished)
        return 0;
    cJSON *payload = cJSON_ParseWithLength(m->payload.p ? m->payload.p : "", m->payload.n);
    int rc =
        cJSON_IsObject(payload) ? br_on_event(s, evs_header_string(m, ":event-type"), payload) : -1;
    cJSON_Delete(payload);
    if (rc != 0) {
        s->failed = true;
        return 1;
    }
    return 0;
}

static int br_stream_feed(prov_stream_t *s, const char *p, size_t n, prov_emit_fn emit, void *arg)
{
    if (s->failed)
        return -1;
    s->emit = emit;
    s->arg = arg;
    int rc = evs_feed(&s->dec, p, n, br_on_message, s);
    if (rc != 0)
        s->failed = true;
    return rc == 0 ? 0 : -1;
}

static int br_stream_end(prov_stream_t *s, prov_emit_fn emit, void *arg)
{
    if (s->failed || evs_finish(&s->dec) != 0)
        return -1;
    s->emit = emit;
    s->arg = arg;
    if (s->finished)
        return 0;
    if (!s->stopped)
        return -1; /* the stream ended before messageStop: cut short */
    return br_emit_final(s);
}

/* ---- embeddings -------------------------------------------------------------------------- */

typedef enum { BR_EMBED_NONE, BR_EMBED_TITAN, BR_EMBED_COHERE } br_embed_kind_t;

static br_embed_kind_t br_embed_kind(str_t model)
{
    char id[256];
    snprintf(id, sizeof id, "%.*s", (int)MIN(model.n, sizeof id - 1), model.p ? model.p : "");
    if (strstr(id, "amazon.titan-embed"))
        return BR_EMBED_TITAN;
    if (strstr(id, "cohere.embed"))
        return BR_EMBED_COHERE;
    return BR_EMBED_NONE;
}

static int br_embed_request(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                            prov_error_t *err)
{
    *out = (prov_http_t){0};
    str_t model = br_model_id(ctx);
    br_embed_kind_t kind = br_embed_kind(model);
    if (kind == BR_EMBED_NONE)
        return prov_fail(err, 400, "model",
                         "bedrock: embeddings are supported for amazon.titan-embed-* and "
                         "cohere.embed-* models, not '%.*s'",
                         (int)MIN(model.n, (size_t)200), model.p);
    if (prov_check_params(ctx, req, br_embed_params, err) != 0)
        return -1;
    const cJSON *input = prov_json_get(req, "input");
    size_t count = cJSON_IsString(input) ? 1 : (size_t)cJSON_GetArraySize(input);
    if (!cJSON_IsString(input) && (!cJSON_IsArray(input) || !count))
        return prov_fail(err, 400, "input",
                         "bedrock: input must be a string or a non-empty array of strings");
    for (const cJSON *t = cJSON_IsArray(input) ? input->child : NULL; t; t = t->next)
        if (!cJSON_IsString(t))
            return prov_fail(err, 400, "input",
                             "bedrock: input must be text; token arrays are not supported");
    const cJSON *dims = prov_json_get(req, "dimensions");
    bool titan_v2 = kind == BR_EMBED_TITAN && memmem(model.p, model.n, "text-v2", 7) != NULL;
    if (dims && !cJSON_IsNull(dims) && !titan_v2 && !ctx->drop_params)
        return prov_fail(
            err, 400, "dimensions",
            "bedrock: %.*s does not take 'dimensions' (only amazon.titan-embed-text-v2 "
            "does); to drop it set drop_params: true",
            (int)MIN(model.n, (size_t)200), model.p);
    br_auth_t auth;
    if (br_resolve_auth(ctx, model, &auth, err) != 0)
        return -1;
    cJSON *body = cJSON_CreateObject();
    if (kind == BR_EMBED_TITAN) {
        /* InvokeModel takes one text per call; LiteLLM fans out, one upstream call per input,
         * which an adapter that builds one request cannot do */
        if (count > 1) {
            cJSON_Delete(body);
            return prov_fail(err, 400, "input",
                             "bedrock: %.*s embeds one input per request, got %zu; send the "
                             "inputs one at a time",
                             (int)MIN(model.n, (size_t)200), model.p, count);
        }
        const cJSON *t = cJSON_IsString(input) ? input : input->child;
        cJSON_AddStringToObject(body, "inputText", t->valuestring);
        if (titan_v2 && cJSON_IsNumber(dims))
            cJSON_AddNumberToObject(body, "dimensions", (double)br_count(dims->valuedouble));
    } else {
        cJSON *texts = cJSON_AddArrayToObject(body, "texts");
        if (cJSON_IsString(input))
            cJSON_AddItemToArray(texts, cJSON_CreateString(input->valuestring));
        for (const cJSON *t = cJSON_IsArray(input) ? input->child : NULL; t; t = t->next)
            cJSON_AddItemToArray(texts, cJSON_CreateString(t->valuestring));
        const char *input_type = prov_json_string(req, "input_type");
        cJSON_AddStringToObject(body, "input_type", input_type ? input_type : "search_document");
    }
    if (br_print_body(body, out, err) != 0)
        return -1;
    if (br_finish_request(ctx, req, &auth, model, "invoke", "application/json", out, err) != 0) {
        buf_free(&out->body);
        return -1;
    }
    return 0;
}

static void br_embed_item(cJSON *data, int index, const cJSON *vector)
{
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "object", "embedding");
    cJSON_AddNumberToObject(item, "index", index);
    cJSON_AddItemToObject(item, "embedding", cJSON_Duplicate(vector, true));
    cJSON_AddItemToArray(data, item);
}

static bool br_is_vector(const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return false;
    for (const cJSON *x = v->child; x; x = x->next)
        if (!cJSON_IsNumber(x))
            return false;
    return true;
}

static int br_embed_response(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err)
{
    cJSON *in = cJSON_ParseWithLength(body.p ? body.p : "", body.n);
    str_t model = br_model_id(ctx);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(o, "data");
    long long tokens = 0;
    bool ok = false;
    const cJSON *titan = prov_json_get(in, "embedding");
    const cJSON *cohere = prov_json_get(in, "embeddings");
    if (cJSON_IsObject(cohere))
        cohere = prov_json_get(cohere, "float"); /* embedding_types: {"float": [[...]]} */
    if (br_is_vector(titan)) {
        br_embed_item(data, 0, titan);
        tokens = br_int(in, "inputTextTokenCount");
        ok = true;
    } else if (cJSON_IsArray(cohere)) {
        ok = true;
        int i = 0;
        for (const cJSON *v = cohere->child; v && ok; v = v->next, i++) {
            ok = br_is_vector(v);
            if (ok)
                br_embed_item(data, i, v);
        }
    }
    cJSON_Delete(in);
    if (!ok) {
        cJSON_Delete(o);
        return prov_fail(err, 502, NULL,
                         "bedrock answered with something that is not an embeddings response");
    }
    cJSON_AddItemToObject(o, "model",
                          cJSON_CreateString(arena_strndup(ctx->arena, model.p, model.n)));
    cJSON *usage = cJSON_AddObjectToObject(o, "usage");
    cJSON_AddNumberToObject(usage, "prompt_tokens", (double)tokens);
    cJSON_AddNumberToObject(usage, "total_tokens", (double)tokens);
    char *printed = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int rc = printed && buf_append_cstr(out, printed) == 0
                 ? 0
                 : prov_fail(err, 500, NULL, "out of memory");
    free(printed);
    return rc;
}

static const char *br_stream_error(prov_stream_t *s)
{
    return s->error[0] ? s->error : NULL;
}

const prov_adapter_t prov_adapter_bedrock = {
    .stream_error = br_stream_error,
    .name = "bedrock",
    .chat_request = br_chat_request,
    .chat_response = br_chat_response,
    .stream_new = br_stream_new,
    .stream_feed = br_stream_feed,
    .stream_end = br_stream_end,
    .stream_free = br_stream_free,
    .error_message = br_error_message,
    .embed_request = br_embed_request,
    .embed_response = br_embed_response,
};
