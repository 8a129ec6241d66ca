/* SPDX-License-Identifier: MIT
 * sluice-mock: Google's Gemini wire format, on the AI Studio paths (/v1beta/models/<m>:<method>,
 * x-goog-api-key or ?key=) and the Vertex AI paths (/v1/projects/<p>/locations/<l>/publishers/
 * google/models/<m>:<method>, Authorization: Bearer <a token this mock issued>), plus the
 * OAuth2 token endpoint POST /token that issues those tokens for a well-formed JWT assertion.
 * Methods: generateContent, streamGenerateContent (?alt=sse), countTokens, embedContent,
 * batchEmbedContents, predict. The same controls and timing as the OpenAI routes; errors in
 * Google's envelope {"error":{"code","message","status"}}. call.c delivers the plans. */
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/common.h"
#include "mock.h"
#include "native.h"

#define GEM_PUT(b, lit) mock_append((b), "" lit, sizeof(lit) - 1)

#define GEM_EMBED_DEFAULT_DIMS 8
#define GEM_EMBED_MAX_DIMS 8192
#define GEM_EMBED_MAX_INPUTS 2048

typedef enum {
    GEM_M_NONE = 0,
    GEM_M_GENERATE,
    GEM_M_STREAM,
    GEM_M_COUNT,
    GEM_M_EMBED,
    GEM_M_BATCH_EMBED,
    GEM_M_PREDICT,
    GEM_M_TOKEN, /* POST /token */
} gem_method_t;

/* What a stream answers with (mock_call_t.kind). */
enum { GEM_KIND_TEXT = 1, GEM_KIND_TOOL, GEM_KIND_MALFORMED };

typedef struct {
    gem_method_t method;
    bool vertex;
    bool unknown_method; /* a Gemini path with a method we do not serve */
    str_t model;
} gem_route_t;

/* ---- small writers ---------------------------------------------------------------------- */

/* s JSON-escaped without the quotes. */
static void gem_put_escaped(buf_t *b, str_t s)
{
    size_t mark = b->n;
    if (buf_append_json_string(b, s) != 0 || b->n < mark + 2) {
        b->n = mark;
        return;
    }
    memmove(b->p + mark, b->p + mark + 1, b->n - mark - 2);
    b->n -= 2;
}

static const char *gem_status_name(int status)
{
    switch (status) {
    case 400:
        return "INVALID_ARGUMENT";
    case 401:
        return "UNAUTHENTICATED";
    case 403:
        return "PERMISSION_DENIED";
    case 404:
        return "NOT_FOUND";
    case 409:
        return "ABORTED";
    case 412:
        return "FAILED_PRECONDITION";
    case 429:
        return "RESOURCE_EXHAUSTED";
    case 499:
        return "CANCELLED";
    case 501:
        return "NOT_IMPLEMENTED";
    case 503:
        return "UNAVAILABLE";
    case 504:
        return "DEADLINE_EXCEEDED";
    default:
        return status < 500 ? "INVALID_ARGUMENT" : "INTERNAL";
    }
}

/* Plans Google's error envelope (delay-ms still applies). */
static void gem_plan_error(mock_call_t *c, int status, const char *message)
{
    c->action = MOCK_ACT_SEND;
    c->status = status;
    c->content_type = "application/json; charset=UTF-8";
    c->pre_ms = 0;
    buf_t *b = &c->body;
    b->n = 0;
    GEM_PUT(b, "{\"error\":{\"code\":");
    mock_append_u64(b, (uint64_t)status);
    GEM_PUT(b, ",\"message\":");
    buf_append_json_string(b, str_cstr(message));
    GEM_PUT(b, ",\"status\":\"");
    buf_append_cstr(b, gem_status_name(status));
    GEM_PUT(b, "\"}}");
}

/* The OAuth2 endpoint's own error shape. */
static void gem_plan_oauth_error(mock_call_t *c, const char *error, const char *description)
{
    c->action = MOCK_ACT_SEND;
    c->status = 400;
    c->content_type = "application/json; charset=utf-8";
    buf_t *b = &c->body;
    b->n = 0;
    GEM_PUT(b, "{\"error\":");
    buf_append_json_string(b, str_cstr(error));
    GEM_PUT(b, ",\"error_description\":");
    buf_append_json_string(b, str_cstr(description));
    GEM_PUT(b, "}");
}

static void gem_new_id(mock_call_t *c, char *out, size_t random_len)
{
    mock_random_alnum(c->w, out, random_len);
    out[random_len] = '\0';
}

/* The faults on a complete JSON answer in c->body. */
static void gem_apply_json_fault(mock_call_t *c, mock_fault_t fault)
{
    static const char malformed[] = "mock: this body is not JSON {\"candidates\":[";
    if (fault == MOCK_FAULT_MALFORMED) {
        c->body.n = 0;
        buf_append(&c->body, malformed, sizeof malformed - 1);
    } else if (fault == MOCK_FAULT_DROP_MID_STREAM) {
        c->action = MOCK_ACT_PARTIAL;
    }
}

/* ---- routing ---------------------------------------------------------------------------- */

static gem_method_t gem_method(str_t m)
{
    static const struct {
        const char *name;
        gem_method_t method;
    } map[] = {
        {"generateContent", GEM_M_GENERATE},
        {"streamGenerateContent", GEM_M_STREAM},
        {"countTokens", GEM_M_COUNT},
        {"embedContent", GEM_M_EMBED},
        {"batchEmbedContents", GEM_M_BATCH_EMBED},
        {"predict", GEM_M_PREDICT},
    };
    for (size_t i = 0; i < COUNTOF(map); i++)
        if (str_eq_cstr(m, map[i].name))
            return map[i].method;
    return GEM_M_NONE;
}

/* Skips one non-empty path segment and the '/' after it; false when there is none. */
static bool gem_skip_segment(str_t *path)
{
    const char *slash = memchr(path->p, '/', path->n);
    if (!slash || slash == path->p)
        return false;
    *path = str_skip(*path, (size_t)(slash - path->p) + 1);
    return true;
}

/* Recognises the Gemini paths; false for anything else (the OpenAI routes take it). */
static bool gem_route(const http_req_t *req, gem_route_t *r)
{
    str_t path = req->head.path;
    *r = (gem_route_t){0};
    if (str_eq_cstr(path, "/token")) {
        r->method = GEM_M_TOKEN;
        return true;
    }
    static const str_t studio[] = {STR_LIT("/v1beta/models/"), STR_LIT("/v1/models/"),
                                   STR_LIT("/v1alpha/models/")};
    static const str_t vertex[] = {STR_LIT("/v1/projects/"), STR_LIT("/v1beta1/projects/")};
    bool matched = false;
    for (size_t i = 0; i < COUNTOF(studio) && !matched; i++)
        if (str_has_prefix(path, studio[i])) {
            path = str_skip(path, studio[i].n);
            matched = true;
        }
    for (size_t i = 0; i < COUNTOF(vertex) && !matched; i++) {
        if (!str_has_prefix(path, vertex[i]))
            continue;
        str_t rest = str_skip(path, vertex[i].n);
        static const str_t locations = STR_LIT("locations/"),
                           google = STR_LIT("publishers/google/models/");
        if (!gem_skip_segment(&rest) || !str_has_prefix(rest, locations))
            return false;
        rest = str_skip(rest, locations.n);
        if (!gem_skip_segment(&rest) || !str_has_prefix(rest, google))
            return false;
        path = str_skip(rest, google.n);
        r->vertex = matched = true;
    }
    if (!matched)
        return false;
    /* <model>:<method>; the model may not hold '/' */
    const char *colon = memchr(path.p, ':', path.n);
    if (!colon || colon == path.p || memchr(path.p, '/', (size_t)(colon - path.p)))
        return false;
    r->model = str_make(path.p, (size_t)(colon - path.p));
    r->method = gem_method(str_skip(path, r->model.n + 1));
    r->unknown_method = r->method == GEM_M_NONE;
    return true;
}

/* ---- the tokens this mock issues -------------------------------------------------------- */

static uint64_t gem_secret;
static pthread_once_t gem_secret_once = PTHREAD_ONCE_INIT;

static void gem_secret_init(void)
{
    if (getrandom(&gem_secret, sizeof gem_secret, 0) != (ssize_t)sizeof gem_secret)
        gem_secret = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
}

/* A keyed hash of the token's random part: tokens verify without a table shared by workers. */
static uint64_t gem_token_mac(str_t random)
{
    pthread_once(&gem_secret_once, gem_secret_init);
    uint64_t h = 1469598103934665603ull ^ gem_secret;
    for (size_t i = 0; i < random.n; i++)
        h = (h ^ (unsigned char)random.p[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

#define GEM_TOKEN_PREFIX "ya29.mock-"
#define GEM_TOKEN_RANDOM 24

/* "ya29.mock-<24 random>.<16 hex mac>" */
static void gem_put_token(mock_call_t *c, buf_t *b)
{
    char rnd[GEM_TOKEN_RANDOM + 1];
    gem_new_id(c, rnd, GEM_TOKEN_RANDOM);
    char mac[20];
    snprintf(mac, sizeof mac, "%016llx",
             (unsigned long long)gem_token_mac(str_make(rnd, GEM_TOKEN_RANDOM)));
    GEM_PUT(b, GEM_TOKEN_PREFIX);
    buf_append(b, rnd, GEM_TOKEN_RANDOM);
    GEM_PUT(b, ".");
    buf_append(b, mac, 16);
}

static bool gem_token_valid(str_t tok)
{
    static const str_t prefix = STR_LIT(GEM_TOKEN_PREFIX);
    if (tok.n != prefix.n + GEM_TOKEN_RANDOM + 1 + 16 || !str_has_prefix(tok, prefix))
        return false;
    str_t rnd = str_make(tok.p + prefix.n, GEM_TOKEN_RANDOM);
    if (tok.p[prefix.n + GEM_TOKEN_RANDOM] != '.')
        return false;
    char mac[20];
    snprintf(mac, sizeof mac, "%016llx", (unsigned long long)gem_token_mac(rnd));
    return memcmp(mac, tok.p + tok.n - 16, 16) == 0;
}

/* ---- the token endpoint ----------------------------------------------------------------- */

static int gem_hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The URL-decoded value of `name` in an application/x-www-form-urlencoded body. */
static bool gem_form_value(str_t form, const char *name, buf_t *out)
{
    size_t k = strlen(name);
    const char *p = form.p, *end = form.p + form.n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > k && memcmp(p, name, k) == 0 && p[k] == '=') {
            out->n = 0;
            for (const char *q = p + k + 1; q < stop; q++) {
                char ch = *q;
                if (ch == '+') {
                    ch = ' ';
                } else if (ch == '%' && stop - q >= 3 && gem_hex(q[1]) >= 0 && gem_hex(q[2]) >= 0) {
                    ch = (char)(gem_hex(q[1]) * 16 + gem_hex(q[2]));
                    q += 2;
                }
                buf_append(out, &ch, 1);
            }
            return true;
        }
        p = stop + 1;
    }
    return false;
}

/* Decodes base64url (no padding) into out; false on a stray character. */
static bool gem_unbase64url(str_t s, buf_t *out)
{
    uint32_t acc = 0;
    int bits = 0;
    out->n = 0;
    for (size_t i = 0; i < s.n; i++) {
        char ch = s.p[i];
        int v = ch >= 'A' && ch <= 'Z'   ? ch - 'A'
                : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26
                : ch >= '0' && ch <= '9' ? ch - '0' + 52
                : ch == '-'              ? 62
                : ch == '_'              ? 63
                                         : -1;
        if (v < 0)
            return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            char byte = (char)(acc >> bits);
            buf_append(out, &byte, 1);
        }
    }
    return true;
}

/* Checks a JWT bearer assertion: three base64url parts, header {alg RS256}, claims with iss,
 * aud, scope, iat, exp (not expired), and a signature of RSA size. The signature itself is not
 * verified: the mock does not know the service account's public key. NULL or the reason. */
static const char *gem_check_assertion(str_t jwt)
{
    const char *d1 = memchr(jwt.p, '.', jwt.n);
    const char *d2 = d1 ? memchr(d1 + 1, '.', (size_t)(jwt.p + jwt.n - d1 - 1)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', (size_t)(jwt.p + jwt.n - d2 - 1)))
        return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe "
               "(not three dot-separated parts)";
    buf_t header = {0}, claims = {0}, sig = {0};
    const char *why = NULL;
    cJSON *h = NULL, *c = NULL;
    if (!gem_unbase64url(str_make(jwt.p, (size_t)(d1 - jwt.p)), &header) ||
        !gem_unbase64url(str_make(d1 + 1, (size_t)(d2 - d1 - 1)), &claims) ||
        !gem_unbase64url(str_make(d2 + 1, (size_t)(jwt.p + jwt.n - d2 - 1)), &sig)) {
        why = "Invalid JWT: a part is not base64url";
        goto done;
    }
    h = cJSON_ParseWithLength(header.p ? header.p : "", header.n);
    c = cJSON_ParseWithLength(claims.p ? claims.p : "", claims.n);
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
    if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "RS256") != 0) {
        why = "Invalid JWT: header alg must be RS256";
        goto done;
    }
    static const char *const strings[] = {"iss", "aud", "scope"};
    for (size_t i = 0; i < COUNTOF(strings); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, strings[i]);
        if (!cJSON_IsString(v) || !v->valuestring[0]) {
            why = "Invalid JWT: claims need iss, aud and scope";
            goto done;
        }
    }
    const cJSON *iat = cJSON_GetObjectItemCaseSensitive(c, "iat");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(c, "exp");
    double now = (double)time(NULL);
    if (!cJSON_IsNumber(iat) || !cJSON_IsNumber(exp) || exp->valuedouble <= iat->valuedouble ||
        exp->valuedouble - iat->valuedouble > 3600 || exp->valuedouble < now - 60 ||
        iat->valuedouble > now + 300) {
        why = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
              "timeframe. Check your iat and exp values in the JWT claim.";
        goto done;
    }
    if (sig.n < 128)
        why = "Invalid JWT Signature.";
done:
    cJSON_Delete(h);
    cJSON_Delete(c);
    buf_free(&header);
    buf_free(&claims);
    buf_free(&sig);
    return why;
}

static void gem_plan_token(mock_call_t *c)
{
    str_t body = c->req->body;
    buf_t grant = {0}, value = {0};
    if (!gem_form_value(body, "grant_type", &grant)) {
        gem_plan_oauth_error(c, "invalid_request", "Missing required parameter: grant_type");
        goto done;
    }
    str_t g = str_make(grant.p, grant.n);
    if (str_eq_cstr(g, "urn:ietf:params:oauth:grant-type:jwt-bearer")) {
        if (!gem_form_value(body, "assertion", &value) || !value.n) {
            gem_plan_oauth_error(c, "invalid_request", "Missing required parameter: assertion");
            goto done;
        }
        const char *why = gem_check_assertion(str_make(value.p, value.n));
        if (why) {
            gem_plan_oauth_error(c, "invalid_grant", why);
            goto done;
        }
    } else if (str_eq_cstr(g, "refresh_token")) {
        if (!gem_form_value(body, "refresh_token", &value) || !value.n) {
            gem_plan_oauth_error(c, "invalid_request", "Missing required parameter: refresh_token");
            goto done;
        }
    } else {
        gem_plan_oauth_error(c, "unsupported_grant_type", "Invalid grant_type");
        goto done;
    }
    buf_t *b = &c->body;
    b->n = 0;
    c->content_type = "application/json; charset=utf-8";
    GEM_PUT(b, "{\"access_token\":\"");
    gem_put_token(c, b);
    GEM_PUT(b, "\",\"expires_in\":3600,\"token_type\":\"Bearer\"}");
    c->pre_ms = c->timing.latency_ms;
done:
    buf_free(&grant);
    buf_free(&value);
}

/* ---- generateContent -------------------------------------------------------------------- */

/* Token k of "mock answer to <model>: w1 w2 ..." (as the OpenAI routes say it). */
static void gem_put_word(buf_t *b, const mock_call_t *c, uint64_t k)
{
    switch (k) {
    case 0:
        GEM_PUT(b, "mock");
        return;
    case 1:
        GEM_PUT(b, " answer");
        return;
    case 2:
        GEM_PUT(b, " to");
        return;
    case 3:
        GEM_PUT(b, " ");
        buf_append(b, c->model.p, c->model.n);
        GEM_PUT(b, ":");
        return;
    default:
        GEM_PUT(b, " w");
        mock_append_u64(b, k - 3);
    }
}

/* "usageMetadata":{...}: the final counts, or (partial) the prompt only, as Gemini's streams
 * report them before the last chunk. */
static void gem_put_usage(buf_t *b, const mock_call_t *c, bool partial)
{
    uint64_t p = c->prompt_tokens, t = partial ? 0 : c->timing.tokens;
    GEM_PUT(b, "\"usageMetadata\":{\"promptTokenCount\":");
    mock_append_u64(b, p);
    if (!partial) {
        GEM_PUT(b, ",\"candidatesTokenCount\":");
        mock_append_u64(b, t);
    }
    GEM_PUT(b, ",\"totalTokenCount\":");
    mock_append_u64(b, p + t);
    GEM_PUT(b, ",\"promptTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":");
    mock_append_u64(b, p);
    GEM_PUT(b, "}]");
    if (!partial && t) {
        GEM_PUT(b, ",\"candidatesTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":");
        mock_append_u64(b, t);
        GEM_PUT(b, "}]");
    }
    GEM_PUT(b, "}");
}

static void gem_put_tail(buf_t *b, const mock_call_t *c)
{
    GEM_PUT(b, ",\"modelVersion\":\"");
    buf_append(b, c->model.p, c->model.n);
    GEM_PUT(b, "\",\"responseId\":\"");
    buf_append_cstr(b, c->object_id);
    GEM_PUT(b, "\"}");
}

static void gem_put_call_part(buf_t *b, const mock_call_t *c)
{
    GEM_PUT(b, "{\"functionCall\":{\"name\":\"");
    buf_append(b, c->tool_name.p, c->tool_name.n);
    GEM_PUT(b, "\",\"args\":{}}}");
}

static void gem_generate_body(mock_call_t *c)
{
    buf_t *b = &c->body;
    b->n = 0;
    buf_reserve(b, 1024 + c->model.n * 2 + c->tool_name.n + c->timing.tokens * 8);
    GEM_PUT(b, "{\"candidates\":[{\"content\":{\"parts\":[");
    if (c->tool) {
        gem_put_call_part(b, c);
    } else {
        GEM_PUT(b, "{\"text\":\"");
        for (uint64_t k = 0; k < c->timing.tokens; k++)
            gem_put_word(b, c, k);
        GEM_PUT(b, "\"}");
    }
    GEM_PUT(b, "],\"role\":\"model\"},\"finishReason\":\"STOP\",\"avgLogprobs\":-0.0421,"
               "\"index\":0}],");
    gem_put_usage(b, c, false);
    gem_put_tail(b, c);
}

/* Stream: one text part per token (the first after ttft, chunk delay between); the last also
 * carries finishReason STOP and the final usageMetadata. A tool call comes whole in one chunk,
 * then a chunk with finishReason. Frames are `data: {...}\r\n\r\n` as Google sends them. */
static bool gem_stream_frame(mock_call_t *c, size_t i, buf_t *out, uint64_t *delay_ms)
{
    uint64_t frames = c->tool ? 2 : MAX(c->timing.tokens, 1);
    if (c->kind == GEM_KIND_MALFORMED) {
        *delay_ms = c->timing.ttft_ms;
        if (i == 0)
            GEM_PUT(out, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"tru\r\n\r\n");
        return i == 0;
    }
    if (i >= frames)
        return false;
    *delay_ms = i == 0 ? c->timing.ttft_ms : c->tool ? 0 : c->timing.chunk_delay_ms;
    bool last = i + 1 == frames;
    GEM_PUT(out, "data: {\"candidates\":[{\"content\":{\"parts\":[");
    if (c->tool && i == 0) {
        gem_put_call_part(out, c);
    } else {
        GEM_PUT(out, "{\"text\":\"");
        if (!c->tool && c->timing.tokens)
            gem_put_word(out, c, i);
        GEM_PUT(out, "\"}");
    }
    GEM_PUT(out, "],\"role\":\"model\"}");
    if (last)
        GEM_PUT(out, ",\"finishReason\":\"STOP\"");
    GEM_PUT(out, ",\"index\":0}],");
    gem_put_usage(out, c, !last);
    gem_put_tail(out, c);
    GEM_PUT(out, "\r\n\r\n");
    return true;
}

static const char *gem_json_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* The function to call: the first allowedFunctionNames entry, else the first declaration;
 * none when mode is NONE or nothing is declared (camelCase or snake_case keys). */
static const char *gem_pick_tool(const cJSON *root)
{
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "toolConfig");
    if (!cfg)
        cfg = cJSON_GetObjectItemCaseSensitive(root, "tool_config");
    const cJSON *fcc = cJSON_GetObjectItemCaseSensitive(cfg, "functionCallingConfig");
    if (!fcc)
        fcc = cJSON_GetObjectItemCaseSensitive(cfg, "function_calling_config");
    const char *mode = gem_json_str(fcc, "mode");
    if (mode && strcmp(mode, "NONE") == 0)
        return NULL;
    const char *first = NULL;
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
    for (const cJSON *t = cJSON_IsArray(tools) ? tools->child : NULL; t && !first; t = t->next) {
        const cJSON *decls = cJSON_GetObjectItemCaseSensitive(t, "functionDeclarations");
        if (!decls)
            decls = cJSON_GetObjectItemCaseSensitive(t, "function_declarations");
        for (const cJSON *d = cJSON_IsArray(decls) ? decls->child : NULL; d && !first; d = d->next)
            first = gem_json_str(d, "name");
    }
    if (!first)
        return NULL;
    const cJSON *allowed = cJSON_GetObjectItemCaseSensitive(fcc, "allowedFunctionNames");
    if (!allowed)
        allowed = cJSON_GetObjectItemCaseSensitive(fcc, "allowed_function_names");
    if (cJSON_IsArray(allowed) && cJSON_IsString(allowed->child))
        return allowed->child->valuestring;
    return first;
}

static void gem_plan_generate(mock_call_t *c, const cJSON *root, bool stream, mock_fault_t fault)
{
    const cJSON *contents = cJSON_GetObjectItemCaseSensitive(root, "contents");
    if (!cJSON_IsArray(contents) || !contents->child) {
        gem_plan_error(c, 400, "* GenerateContentRequest.contents: contents is not specified\n");
        return;
    }
    const char *tool = gem_pick_tool(root);
    if (tool) {
        c->tool = true;
        gem_put_escaped(&c->tool_name, str_cstr(tool));
    }
    gem_new_id(c, c->object_id, 22);
    if (!stream) {
        c->content_type = "application/json; charset=UTF-8";
        c->pre_ms = c->timing.latency_ms;
        gem_generate_body(c);
        gem_apply_json_fault(c, fault);
        return;
    }
    c->action = MOCK_ACT_STREAM;
    c->content_type = "text/event-stream";
    c->pre_ms = fault == MOCK_FAULT_SLOW_HEAD ? c->timing.latency_ms : 0;
    c->frame = gem_stream_frame;
    c->kind = fault == MOCK_FAULT_MALFORMED ? GEM_KIND_MALFORMED
              : c->tool                     ? GEM_KIND_TOOL
                                            : GEM_KIND_TEXT;
    if (fault == MOCK_FAULT_DROP_MID_STREAM)
        c->drop_after = c->tool ? 1 : MAX(1, c->timing.tokens / 2);
}

/* ---- embeddings ------------------------------------------------------------------------- */

static uint64_t gem_splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A unit vector that depends only on the text (the OpenAI route's recipe: same text, same
 * vector on every route). */
static void gem_put_vector(buf_t *b, str_t text, size_t dims)
{
    uint64_t seed = 1469598103934665603ull;
    for (size_t i = 0; i < text.n; i++)
        seed = (seed ^ (unsigned char)text.p[i]) * 1099511628211ull;
    static _Thread_local float v[GEM_EMBED_MAX_DIMS];
    double norm = 0;
    for (size_t i = 0; i < dims; i++) {
        double x = (double)(gem_splitmix(&seed) >> 11) * (1.0 / 9007199254740992.0) * 2 - 1;
        v[i] = (float)x;
        norm += x * x;
    }
    norm = sqrt(norm);
    GEM_PUT(b, "[");
    for (size_t i = 0; i < dims; i++)
        buf_printf(b, i ? ",%.9g" : "%.9g", norm > 0 ? (double)(float)(v[i] / norm) : 0.0);
    GEM_PUT(b, "]");
}

/* The text of {"parts":[{"text"}...]} joined; false when there is none. */
static bool gem_content_text(const cJSON *content, buf_t *out)
{
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(content, "parts");
    out->n = 0;
    bool any = false;
    for (const cJSON *p = cJSON_IsArray(parts) ? parts->child : NULL; p; p = p->next) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "text");
        if (cJSON_IsString(t)) {
            buf_append_cstr(out, t->valuestring);
            any = true;
        }
    }
    return any;
}

/* outputDimensionality from o (or its "parameters"), default 8; 0 when invalid. */
static size_t gem_dims(const cJSON *o)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "outputDimensionality");
    if (!d)
        d = cJSON_GetObjectItemCaseSensitive(o, "output_dimensionality");
    if (!d || cJSON_IsNull(d))
        return GEM_EMBED_DEFAULT_DIMS;
    double v = cJSON_IsNumber(d) ? d->valuedouble : -1;
    return v >= 1 && v <= GEM_EMBED_MAX_DIMS && v == floor(v) ? (size_t)v : 0;
}

static void gem_plan_embed(mock_call_t *c, const cJSON *root, gem_method_t method,
                           mock_fault_t fault)
{
    buf_t *b = &c->body;
    buf_t text = {0};
    const char *bad = NULL;
    b->n = 0;
    if (method == GEM_M_EMBED) {
        size_t dims = gem_dims(root);
        if (!gem_content_text(cJSON_GetObjectItemCaseSensitive(root, "content"), &text))
            bad = "* EmbedContentRequest.content: content is not specified\n";
        else if (!dims)
            bad = "* EmbedContentRequest.output_dimensionality: must be from 1 to 8192\n";
        if (!bad) {
            GEM_PUT(b, "{\"embedding\":{\"values\":");
            gem_put_vector(b, str_make(text.p ? text.p : "", text.n), dims);
            GEM_PUT(b, "}}");
        }
    } else if (method == GEM_M_BATCH_EMBED) {
        const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(root, "requests");
        if (!cJSON_IsArray(reqs) || !reqs->child)
            bad = "* BatchEmbedContentsRequest.requests: requests is not specified\n";
        GEM_PUT(b, "{\"embeddings\":[");
        size_t n = 0;
        for (const cJSON *r = bad ? NULL : reqs->child; r && !bad; r = r->next, n++) {
            size_t dims = gem_dims(r);
            if (n >= GEM_EMBED_MAX_INPUTS)
                bad = "* BatchEmbedContentsRequest.requests: at most 2048 requests\n";
            else if (!gem_content_text(cJSON_GetObjectItemCaseSensitive(r, "content"), &text))
                bad = "* BatchEmbedContentsRequest.requests[].content: content is not "
                      "specified\n";
            else if (!dims)
                bad = "* BatchEmbedContentsRequest.requests[].output_dimensionality: must be "
                      "from 1 to 8192\n";
            if (bad)
                break;
            if (n)
                GEM_PUT(b, ",");
            GEM_PUT(b, "{\"values\":");
            gem_put_vector(b, str_make(text.p ? text.p : "", text.n), dims);
            GEM_PUT(b, "}");
        }
        GEM_PUT(b, "]}");
    } else { /* Vertex :predict */
        const cJSON *inst = cJSON_GetObjectItemCaseSensitive(root, "instances");
        size_t dims = gem_dims(cJSON_GetObjectItemCaseSensitive(root, "parameters"));
        if (!cJSON_IsArray(inst) || !inst->child)
            bad = "instances must be a non-empty list";
        else if (!dims)
            bad = "parameters.outputDimensionality must be from 1 to 8192";
        GEM_PUT(b, "{\"predictions\":[");
        size_t n = 0, chars = 0;
        for (const cJSON *it = bad ? NULL : inst->child; it; it = it->next, n++) {
            const char *content = gem_json_str(it, "content");
            if (n >= GEM_EMBED_MAX_INPUTS || !content) {
                bad = "each instance needs a non-empty \"content\" (at most 2048 instances)";
                break;
            }
            str_t s = str_cstr(content);
            chars += s.n;
            if (n)
                GEM_PUT(b, ",");
            GEM_PUT(b, "{\"embeddings\":{\"values\":");
            gem_put_vector(b, s, dims);
            GEM_PUT(b, ",\"statistics\":{\"truncated\":false,\"token_count\":");
            mock_append_u64(b, (s.n + 3) / 4);
            GEM_PUT(b, "}}}");
        }
        GEM_PUT(b, "],\"metadata\":{\"billableCharacterCount\":");
        mock_append_u64(b, chars);
        GEM_PUT(b, "}}");
    }
    buf_free(&text);
    if (bad) {
        gem_plan_error(c, 400, bad);
        return;
    }
    c->content_type = "application/json; charset=UTF-8";
    c->pre_ms = c->timing.latency_ms;
    gem_apply_json_fault(c, fault);
}

/* ---- the handler ------------------------------------------------------------------------ */

/* AI Studio: x-goog-api-key or ?key=; Vertex: a Bearer token this mock issued. */
static bool gem_authorized(const http_req_t *req, bool vertex)
{
    if (vertex) {
        static const str_t bearer = STR_LIT("Bearer ");
        str_t auth = http_req_header(req, "authorization");
        return auth.p && str_case_has_prefix(auth, bearer) &&
               gem_token_valid(str_trim(str_skip(auth, bearer.n)));
    }
    if (str_trim(http_req_header(req, "x-goog-api-key")).n)
        return true;
    buf_t key = {0};
    bool ok = gem_form_value(req->head.query, "key", &key) && key.n > 0;
    buf_free(&key);
    return ok;
}

/* The JSON body, or NULL when it is not exactly one JSON value. */
static cJSON *gem_parse_body(str_t body)
{
    if (body.n == 0)
        return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body.p, body.n, &end, false);
    const char *stop = body.p + body.n;
    while (root && end && end < stop &&
           (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (root && end != stop) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

bool mock_gemini_handle(mock_call_t *c)
{
    http_req_t *req = c->req;
    gem_route_t r;
    if (!gem_route(req, &r))
        return false;
    cJSON *root = gem_parse_body(req->body);
    const cJSON *body_mock =
        cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "mock") : NULL;
    mock_fault_t fault = MOCK_FAULT_NONE;
    if (native_controls(c, body_mock, &fault, gem_plan_error))
        goto start; /* a control decided the answer */

    bool post = str_eq_cstr(req->head.method, "POST");
    if (r.method == GEM_M_TOKEN) {
        if (!post)
            gem_plan_oauth_error(c, "invalid_request", "The token endpoint takes POST");
        else
            gem_plan_token(c);
        goto start;
    }
    if (!post || r.unknown_method) {
        char msg[200];
        snprintf(msg, sizeof msg, "Method not found: %.*s %.*s", STR_FMT(req->head.method),
                 (int)MIN(req->head.path.n, 120), req->head.path.p);
        gem_plan_error(c, 404, msg);
    } else if (!gem_authorized(req, r.vertex)) {
        if (r.vertex)
            gem_plan_error(c, 401,
                           "Request had invalid authentication credentials. Expected OAuth 2 "
                           "access token, login cookie or other valid authentication "
                           "credential. See https://developers.google.com/identity/sign-in/web/"
                           "devconsole-project.");
        else
            gem_plan_error(c, 403,
                           "Method doesn't allow unregistered callers (callers without "
                           "established identity). Please use API Key or other form of API "
                           "consumer identity to call this API.");
    } else if (!cJSON_IsObject(root)) {
        gem_plan_error(c, 400,
                       "Invalid JSON payload received. Unexpected token or not a JSON object.");
    } else {
        gem_put_escaped(&c->model, r.model);
        if (r.method == GEM_M_GENERATE || r.method == GEM_M_STREAM) {
            gem_plan_generate(c, root, r.method == GEM_M_STREAM, fault);
        } else if (r.method == GEM_M_COUNT) {
            GEM_PUT(&c->body, "{\"totalTokens\":");
            mock_append_u64(&c->body, c->prompt_tokens);
            GEM_PUT(&c->body, ",\"promptTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":");
            mock_append_u64(&c->body, c->prompt_tokens);
            GEM_PUT(&c->body, "}]}");
            c->pre_ms = c->timing.latency_ms;
        } else {
            gem_plan_embed(c, root, r.method, fault);
        }
    }
start:
    cJSON_Delete(root);
    mock_call_start(c);
    return true;
}
