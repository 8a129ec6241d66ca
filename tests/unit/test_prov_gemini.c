/* SPDX-License-Identifier: MIT
 * prov_gemini: the gemini and vertex_ai adapters against golden files in tests/data/gemini/:
 * <name>.request.json -> <name>.expect.json (URL, headers, Gemini body), <name>.response.json ->
 * <name>.openai.json, <name>.sse -> <name>.chunks.json (the same chunks whatever the splits).
 * Volatile fields (ids, created) are normalised before comparing. SLUICE_GOLDEN_UPDATE=1
 * rewrites the expected files from the current output (review the diff before keeping it). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/adapter.h"
#include "providers/vertex_auth.h"
#include "vertex_test_key.h"

#define DATA "tests/data/gemini/"

extern const prov_adapter_t prov_adapter_gemini, prov_adapter_vertex_ai;

static char *slurp(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, DATA "%s", name);
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    cr_assert(fread(p, 1, (size_t)n, f) == (size_t)n);
    p[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return p;
}

static cJSON *load_json(const char *name)
{
    char *text = slurp(name, NULL);
    cJSON *j = cJSON_Parse(text);
    cr_assert(j, "%s is not JSON", name);
    free(text);
    return j;
}

/* ids and timestamps differ per run: "chatcmpl-*", "call_*" (a thought signature kept), 0 */
static void normalize(cJSON *o)
{
    for (cJSON *it = o ? o->child : NULL; it; it = it->next) {
        if (it->string && strcmp(it->string, "created") == 0 && cJSON_IsNumber(it)) {
            cJSON_SetNumberValue(it, 0);
        } else if (it->string && strcmp(it->string, "id") == 0 && cJSON_IsString(it)) {
            const char *v = it->valuestring;
            if (strcmp(v, "chatcmpl-*") == 0 || strncmp(v, "call_*", 6) == 0) {
                /* already normalised */
            } else if (strncmp(v, "chatcmpl-", 9) == 0) {
                cr_expect_eq(strlen(v), 33, "chatcmpl- and 24 characters: %s", v);
                cJSON_SetValuestring(it, "chatcmpl-*");
            } else if (strncmp(v, "call_", 5) == 0) {
                const char *sig = strstr(v, "__thought__");
                cr_expect_eq((sig ? (size_t)(sig - v) : strlen(v)), 29, "call_ + 24: %s", v);
                char buf[256];
                snprintf(buf, sizeof buf, "call_*%s", sig ? sig : "");
                cJSON_SetValuestring(it, buf);
            }
        }
        normalize(it);
    }
}

static bool updating(void)
{
    const char *u = getenv("SLUICE_GOLDEN_UPDATE");
    return u && *u && strcmp(u, "0") != 0;
}

/* Compares `got` with DATA/name (or rewrites the file). Takes ownership of got. */
static void golden(const char *name, cJSON *got)
{
    normalize(got);
    char *text = cJSON_Print(got);
    if (updating()) {
        char path[256];
        snprintf(path, sizeof path, DATA "%s", name);
        FILE *f = fopen(path, "wb");
        cr_assert(f);
        fprintf(f, "%s\n", text);
        fclose(f);
    } else {
        cJSON *want = load_json(name);
        char *want_text = cJSON_Print(want);
        cr_expect(cJSON_Compare(want, got, true), "%s differs.\n--- want\n%s\n--- got\n%s", name,
                  want_text, text);
        free(want_text);
        cJSON_Delete(want);
    }
    free(text);
    cJSON_Delete(got);
}

/* ---- contexts -------------------------------------------------------------------------- */

typedef struct {
    arena_t arena;
    prov_ctx_t ctx;
    cfg_deployment_t dep;
    cfg_kv_t params[4];
    char model[128];
    char *sa;
    char *pem;
    EVP_PKEY *key;
} fx_t;

static void fx_free(fx_t *f)
{
    arena_reset(&f->arena);
    free(f->sa);
    free(f->pem);
    EVP_PKEY_free(f->key);
}

static const prov_adapter_t *fx_init(fx_t *f, const char *provider, const char *model, bool stream)
{
    memset(f, 0, sizeof *f);
    snprintf(f->model, sizeof f->model, "%s", model);
    f->dep.params = f->params;
    f->ctx = (prov_ctx_t){.dep = &f->dep,
                          .prov = prov_find(str_cstr(provider)),
                          .model = str_cstr(f->model),
                          .api_key = "test-key",
                          .stream = stream,
                          .arena = &f->arena};
    return strcmp(provider, "vertex_ai") == 0 ? &prov_adapter_vertex_ai : &prov_adapter_gemini;
}

static void fx_param(fx_t *f, const char *name, const char *value)
{
    f->params[f->dep.num_params++] = (cfg_kv_t){(char *)name, (char *)value};
}

/* A vertex_ai context whose credentials already hold a token (the refresher itself points at
 * a closed loopback port and only retries in the background). */
static const prov_adapter_t *fx_vertex(fx_t *f, const char *model, bool stream,
                                       const char *location)
{
    const prov_adapter_t *a = fx_init(f, "vertex_ai", model, stream);
    f->ctx.api_key = NULL;
    f->key = test_rsa_key(&f->pem);
    f->sa = test_service_account(f->pem, "http://127.0.0.1:9/token", "proj-from-creds");
    fx_param(f, "vertex_credentials", f->sa);
    fx_param(f, "vertex_project", "proj-1");
    if (location)
        fx_param(f, "vertex_location", location);
    char err[512];
    vauth_t *v = vauth_get(f->sa, err, sizeof err);
    cr_assert(v, "%s", err);
    vauth_set_token(v, "ya29.test-token", 3600);
    return a;
}

/* The request as {"url","headers","body"} for golden comparison. */
static cJSON *http_json(const prov_http_t *h)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "method", h->method ? h->method : "POST");
    cJSON_AddStringToObject(o, "url", h->url);
    cJSON *hs = cJSON_AddArrayToObject(o, "headers");
    for (const char **l = h->headers; l && *l; l++)
        cJSON_AddItemToArray(hs, cJSON_CreateString(*l));
    cJSON *body = cJSON_ParseWithLength(h->body.p, h->body.n);
    cr_assert(body, "the body is JSON: %.*s", (int)h->body.n, h->body.p);
    cJSON_AddItemToObject(o, "body", body);
    return o;
}

/* Builds the request of DATA/<name>.request.json with `a` and compares it with
 * <name>.expect.json. */
static void check_request(fx_t *f, const prov_adapter_t *a, const char *name, bool embed)
{
    char in[128], out[128];
    snprintf(in, sizeof in, "%s.request.json", name);
    snprintf(out, sizeof out, "%s.expect.json", name);
    cJSON *req = load_json(in);
    prov_http_t h = {0};
    prov_error_t err = {0};
    int rc =
        embed ? a->embed_request(&f->ctx, req, &h, &err) : a->chat_request(&f->ctx, req, &h, &err);
    cr_assert_eq(rc, 0, "%s: %d %s", name, err.status, err.message);
    golden(out, http_json(&h));
    buf_free(&h.body);
    cJSON_Delete(req);
}

/* chat_request on inline JSON; returns the status (0 on success) and keeps the message. */
static int try_request(fx_t *f, const prov_adapter_t *a, const char *json, prov_error_t *err,
                       cJSON **body)
{
    cJSON *req = cJSON_Parse(json);
    cr_assert(req, "test JSON: %s", json);
    prov_http_t h = {0};
    memset(err, 0, sizeof *err);
    int rc = a->chat_request(&f->ctx, req, &h, err);
    if (rc == 0 && body)
        *body = cJSON_ParseWithLength(h.body.p, h.body.n);
    static char param[64]; /* err->param may point into req */
    if (err->param) {
        snprintf(param, sizeof param, "%s", err->param);
        err->param = param;
    }
    cJSON_Delete(req);
    buf_free(&h.body);
    return rc == 0 ? 0 : err->status;
}

/* ---- requests -------------------------------------------------------------------------- */

Test(prov_gemini, request_basic_system_merge_and_generation_config)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, "gemini", "gemini-2.0-flash", false);
    check_request(&f, a, "basic", false);
    fx_free(&f);
}

Test(prov_gemini, request_stream_url_and_max_completion_tokens)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, "gemini", "gemini-2.0-flash", true);
    check_request(&f, a, "stream", false);
    fx_free(&f);
}

Test(prov_gemini, request_tools_schema_cleaning_and_named_tool_choice)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, "gemini", "gemini-2.0-flash", false);
    check_request(&f, a, "tools", false);
    fx_free(&f);
}

Test(prov_gemini, request_tool_history_with_thought_signatures)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, "gemini", "gemini-3-pro-preview", false);
    check_request(&f, a, "tool_history", false);
    fx_free(&f);
}

Test(prov_gemini, request_images_files_audio)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, "gemini", "gemini-2.0-flash", false);
    check_request(&f, a, "images", false);
    fx_free(&f);
}

Test(prov_gemini, request_json_schema_logprobs_top_k)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, "gemini", "gemini-2.0-flash", false);
    check_request(&f, a, "json_schema", false);
    fx_free(&f);
}

Test(prov_gemini, request_json_object_thinking_budget_safety)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, "gemini", "gemini-2.5-flash", false);
    check_request(&f, a, "json_object", false);
    fx_free(&f);
}

Test(prov_gemini, request_vertex_regional_url_and_bearer)
{
    fx_t f;
    const prov_adapter_t *a = fx_vertex(&f, "gemini-2.0-flash", false, "europe-west4");
    check_request(&f, a, "vertex", false);
    vauth_shutdown_all();
    fx_free(&f);
}

Test(prov_gemini, request_vertex_stream_default_location_thinking)
{
    fx_t f;
    const prov_adapter_t *a = fx_vertex(&f, "gemini-2.0-flash", true, NULL);
    check_request(&f, a, "vertex_stream", false);
    vauth_shutdown_all();
    fx_free(&f);
}

static const char *request_url(fx_t *f, const prov_adapter_t *a, const char *json)
{
    cJSON *req = cJSON_Parse(json);
    prov_http_t h = {0};
    prov_error_t err = {0};
    cr_assert_eq(a->chat_request(&f->ctx, req, &h, &err), 0, "%s", err.message);
    cJSON_Delete(req);
    buf_free(&h.body);
    return h.url;
}

Test(prov_gemini, urls_for_locations_and_api_bases)
{
    const char *hi = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    fx_t f;
    const prov_adapter_t *a = fx_vertex(&f, "gemini-2.0-flash", false, "global");
    cr_expect_str_eq(request_url(&f, a, hi),
                     "https://aiplatform.googleapis.com/v1/projects/proj-1/locations/global/"
                     "publishers/google/models/gemini-2.0-flash:generateContent");
    f.ctx.api_base = "http://127.0.0.1:4100";
    cr_expect_str_eq(request_url(&f, a, hi),
                     "http://127.0.0.1:4100/v1/projects/proj-1/locations/global/publishers/"
                     "google/models/gemini-2.0-flash:generateContent");
    f.ctx.api_base = "https://gw.example/v1/projects/p/locations/l/publishers/google/models/m/";
    cr_expect_str_eq(request_url(&f, a, hi),
                     "https://gw.example/v1/projects/p/locations/l/"
                     "publishers/google/models/m:generateContent",
                     "a base naming the model gets only the method (LiteLLM's proxies)");
    /* without vertex_project the credentials' project_id is used */
    f.dep.num_params = 1;
    f.ctx.api_base = NULL;
    unsetenv("VERTEXAI_PROJECT");
    unsetenv("VERTEXAI_LOCATION");
    cr_expect_str_eq(request_url(&f, a, hi),
                     "https://us-central1-aiplatform.googleapis.com/v1/projects/proj-from-creds/"
                     "locations/us-central1/publishers/google/models/gemini-2.0-flash:"
                     "generateContent");
    setenv("VERTEXAI_LOCATION", "asia-northeast1", 1);
    cr_expect(strstr(request_url(&f, a, hi), "https://asia-northeast1-aiplatform"));
    unsetenv("VERTEXAI_LOCATION");
    vauth_shutdown_all();
    fx_free(&f);

    a = fx_init(&f, "gemini", "models/gemini-1.5-pro", true);
    cr_expect_str_eq(request_url(&f, a, hi),
                     "https://generativelanguage.googleapis.com/v1beta/models/gemini-1.5-pro:"
                     "streamGenerateContent?alt=sse");
    f.ctx.api_base = "http://mock:1/";
    cr_expect_str_eq(request_url(&f, a, hi),
                     "http://mock:1/v1beta/models/gemini-1.5-pro:streamGenerateContent?alt=sse");
    f.ctx.api_base = "https://gateway.ai.cloudflare.com/v1/acct/gw/google-ai-studio/v1beta";
    cr_expect_str_eq(request_url(&f, a, hi),
                     "https://gateway.ai.cloudflare.com/v1/acct/gw/google-ai-studio/v1beta/"
                     "models/gemini-1.5-pro:streamGenerateContent?alt=sse");
    fx_free(&f);
}

Test(prov_gemini, request_errors_say_what_to_change)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, "gemini", "gemini-2.0-flash", false);
    prov_error_t err;
    cr_expect_eq(try_request(&f, a,
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                             "\"logit_bias\":{\"1\":2}}",
                             &err, NULL),
                 400);
    cr_expect_str_eq(err.param, "logit_bias");
    cr_expect(strstr(err.message, "UnsupportedParamsError"), "%s", err.message);
    f.ctx.drop_params = true;
    cr_expect_eq(try_request(&f, a,
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                             "\"logit_bias\":{\"1\":2},\"tool_choice\":\"maybe\"}",
                             &err, NULL),
                 0, "drop_params drops both");
    f.ctx.drop_params = false;
    cr_expect_eq(try_request(&f, a,
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                             "\"tool_choice\":\"maybe\"}",
                             &err, NULL),
                 400);
    cr_expect_str_eq(err.param, "tool_choice");

    cr_expect_eq(try_request(&f, a, "{\"messages\":[]}", &err, NULL), 400);
    cr_expect_str_eq(err.param, "messages");
    cr_expect_eq(try_request(&f, a, "{\"messages\":[{\"content\":\"x\"}]}", &err, NULL), 400);
    cr_expect_eq(
        try_request(&f, a, "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", &err, NULL),
        400);
    cr_expect(strstr(err.message, "wizard"));

    cr_expect_eq(try_request(&f, a,
                             "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
                             "\"image_url\",\"image_url\":{\"url\":\"https://x.test/"
                             "pic\"}}]}]}",
                             &err, NULL),
                 400);
    cr_expect(strstr(err.message, "format") && strstr(err.message, "messages[0].content[0]"), "%s",
              err.message);
    cr_expect_eq(try_request(&f, a,
                             "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
                             "\"image_url\",\"image_url\":{\"url\":\"data:image/png,abc\""
                             "}}]}]}",
                             &err, NULL),
                 400, "a data: URL that is not base64");
    cr_expect_eq(try_request(&f, a,
                             "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
                             "\"image_url\",\"image_url\":{\"url\":\"ftp://x/a.png\"}}]}]}",
                             &err, NULL),
                 400);

    cr_expect_eq(try_request(&f, a,
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},"
                             "{\"role\":\"tool\",\"tool_call_id\":\"call_zz\","
                             "\"content\":\"42\"}]}",
                             &err, NULL),
                 400);
    cr_expect(strstr(err.message, "call_zz"), "%s", err.message);
    cr_expect_eq(try_request(&f, a,
                             "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{"
                             "\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":"
                             "\"f\",\"arguments\":\"{bad\"}}]}]}",
                             &err, NULL),
                 400);
    cr_expect(strstr(err.message, "arguments"));
    cr_expect_eq(try_request(&f, a,
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                             "\"tools\":[{\"type\":\"function\",\"function\":{}}]}",
                             &err, NULL),
                 400);
    cr_expect_str_eq(err.param, "tools");
    cr_expect_eq(try_request(&f, a,
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                             "\"temperature\":\"hot\"}",
                             &err, NULL),
                 400);
    cr_expect_str_eq(err.param, "temperature");
    cr_expect_eq(try_request(&f, a,
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                             "\"stop\":[1]}",
                             &err, NULL),
                 400);
    cr_expect_eq(try_request(&f, a,
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                             "\"reasoning_effort\":\"extreme\"}",
                             &err, NULL),
                 400);
    cr_expect_eq(try_request(&f, a,
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                             "\"parallel_tool_calls\":false,\"tools\":[{\"type\":"
                             "\"function\",\"function\":{\"name\":\"a\"}},{\"type\":"
                             "\"function\",\"function\":{\"name\":\"b\"}}]}",
                             &err, NULL),
                 400);

    /* model names reach the URL path */
    f.ctx.model = STR_LIT("../../admin");
    cr_expect_eq(
        try_request(&f, a, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &err, NULL),
        400);
    f.ctx.model = STR_LIT("gemini:evil");
    cr_expect_eq(
        try_request(&f, a, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &err, NULL),
        400);
    f.ctx.model = STR_LIT("gemini-2.0-flash");
    f.ctx.api_key = NULL;
    cr_expect_eq(
        try_request(&f, a, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &err, NULL),
        401);
    cr_expect(strstr(err.message, "GEMINI_API_KEY"));
    fx_free(&f);
}

Test(prov_gemini, vertex_without_a_token_is_a_503_not_a_wait)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, "vertex_ai", "gemini-2.0-flash", false);
    char *pem;
    EVP_PKEY *key = test_rsa_key(&pem);
    char *sa = test_service_account(pem, "http://127.0.0.1:9/token", "p");
    fx_param(&f, "vertex_credentials", sa);
    prov_error_t err;
    cr_expect_eq(
        try_request(&f, a, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &err, NULL),
        503);
    cr_expect(strstr(err.message, "no access token yet"), "%s", err.message);
    f.params[0].value = "/nonexistent/creds.json";
    cr_expect_eq(
        try_request(&f, a, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &err, NULL),
        500);
    cr_expect(strstr(err.message, "/nonexistent/creds.json"), "%s", err.message);
    vauth_shutdown_all();
    free(sa);
    free(pem);
    EVP_PKEY_free(key);
    fx_free(&f);
}

Test(prov_gemini, extra_headers_are_sent)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, "gemini", "gemini-2.0-flash", false);
    cfg_kv_t extra[] = {{"x-mock-status", "429"}};
    f.dep.extra_headers = extra;
    f.dep.num_extra_headers = 1;
    cJSON *req = cJSON_Parse("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    prov_http_t h = {0};
    prov_error_t err = {0};
    cr_assert_eq(a->chat_request(&f.ctx, req, &h, &err), 0);
    bool found = false;
    for (const char **l = h.headers; *l; l++)
        found |= strcmp(*l, "x-mock-status: 429") == 0;
    cr_expect(found);
    buf_free(&h.body);
    cJSON_Delete(req);
    fx_free(&f);
}

/* ---- responses ------------------------------------------------------------------------- */

static void check_response(const char *name, const char *model)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, "gemini", model, false);
    char in[128], out[128];
    snprintf(in, sizeof in, "%s.response.json", name);
    snprintf(out, sizeof out, "%s.openai.json", name);
    size_t n;
    char *body = slurp(in, &n);
    buf_t b = {0};
    prov_error_t err = {0};
    cr_assert_eq(a->chat_response(&f.ctx, str_make(body, n), &b, &err), 0, "%s", err.message);
    cJSON *got = cJSON_ParseWithLength(b.p, b.n);
    cr_assert(got);
    golden(out, got);
    /* vertex_ai reads the same answers the same way */
    buf_t v = {0};
    cr_assert_eq(prov_adapter_vertex_ai.chat_response(&f.ctx, str_make(body, n), &v, &err), 0);
    buf_free(&v);
    buf_free(&b);
    free(body);
    fx_free(&f);
}

Test(prov_gemini, response_text_and_usage)
{
    check_response("text", "gemini-2.0-flash");
}

Test(prov_gemini, response_tool_calls_finish_tool_calls)
{
    check_response("tools", "gemini-2.0-flash");
}

Test(prov_gemini, response_max_tokens_is_length)
{
    check_response("length", "gemini-2.0-flash");
}

Test(prov_gemini, response_safety_is_content_filter)
{
    check_response("safety", "gemini-2.0-flash");
}

Test(prov_gemini, response_blocked_prompt)
{
    check_response("blocked", "gemini-2.0-flash");
}

Test(prov_gemini, response_thinking_reasoning_and_cached_usage)
{
    check_response("thinking", "gemini-2.5-pro");
}

Test(prov_gemini, response_multiple_candidates)
{
    check_response("multi", "gemini-2.0-flash");
}

Test(prov_gemini, response_logprobs)
{
    check_response("logprobs", "gemini-2.0-flash");
}

Test(prov_gemini, response_not_json_or_an_error_object)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, "gemini", "m", false);
    buf_t b = {0};
    prov_error_t err = {0};
    cr_expect_eq(a->chat_response(&f.ctx, STR_LIT("not json"), &b, &err), -1);
    cr_expect_eq(err.status, 502);
    cr_expect_eq(a->chat_response(&f.ctx, STR_LIT("[1,2]"), &b, &err), -1);
    cr_expect_eq(a->chat_response(
                     &f.ctx, STR_LIT("{\"error\":{\"code\":500,\"message\":\"boom\"}}"), &b, &err),
                 -1);
    cr_expect(strstr(err.message, "boom"));
    cr_expect_eq(b.n, 0);
    fx_free(&f);
}

Test(prov_gemini, error_message_extracts_google_messages)
{
    buf_t b = {0};
    prov_adapter_gemini.error_message(
        400,
        STR_LIT("{\"error\":{\"code\":400,\"message\":\"API key not valid. Please pass a valid "
                "API key.\",\"status\":\"INVALID_ARGUMENT\"}}"),
        &b);
    buf_append(&b, "", 1);
    cr_expect_str_eq(b.p, "API key not valid. Please pass a valid API key.");
    b.n = 0;
    prov_adapter_vertex_ai.error_message(
        429, STR_LIT("[{\"error\":{\"code\":429,\"message\":\"Quota\",\"status\":\"x\"}}]"), &b);
    buf_append(&b, "", 1);
    cr_expect_str_eq(b.p, "Quota");
    b.n = 0;
    prov_adapter_gemini.error_message(502, STR_LIT("<html>bad gateway</html>"), &b);
    buf_append(&b, "", 1);
    cr_expect_str_eq(b.p, "<html>bad gateway</html>");
    buf_free(&b);
}

/* ---- streams --------------------------------------------------------------------------- */

typedef struct {
    cJSON *chunks;
} sink_t;

static int sink(void *arg, str_t chunk)
{
    sink_t *s = arg;
    cJSON *c = cJSON_ParseWithLength(chunk.p, chunk.n);
    cr_assert(c, "chunk is JSON: %.*s", (int)chunk.n, chunk.p);
    cJSON_AddItemToArray(s->chunks, c);
    return 0;
}

/* Feeds data cut at the given offsets; returns the chunks (normalised) and the result. */
static cJSON *run_stream(fx_t *f, const char *data, size_t n, const size_t *cuts, size_t ncuts,
                         int *rc)
{
    const prov_adapter_t *a = &prov_adapter_gemini;
    prov_stream_t *s = a->stream_new(&f->ctx);
    cr_assert(s);
    sink_t k = {cJSON_CreateArray()};
    size_t at = 0;
    *rc = 0;
    for (size_t i = 0; i <= ncuts && *rc == 0; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        *rc = a->stream_feed(s, data + at, to - at, sink, &k);
        at = to;
    }
    if (*rc == 0)
        *rc = a->stream_end(s, sink, &k);
    a->stream_free(s);
    normalize(k.chunks);
    return k.chunks;
}

/* The chunks of DATA/<name>.sse fed whole match <name>.chunks.json, and every split (one cut at
 * each byte, then one byte per feed) gives the same chunks and the same result. */
static void check_stream(const char *name, int want_rc)
{
    fx_t f;
    fx_init(&f, "gemini", "gemini-2.0-flash", true);
    char in[128], out[128];
    snprintf(in, sizeof in, "%s.sse", name);
    snprintf(out, sizeof out, "%s.chunks.json", name);
    size_t n;
    char *data = slurp(in, &n);
    int rc;
    cJSON *whole = run_stream(&f, data, n, NULL, 0, &rc);
    cr_expect_eq(rc, want_rc, "%s: result", name);
    for (size_t cut = 0; cut <= n; cut++) {
        int r2;
        cJSON *split = run_stream(&f, data, n, &cut, 1, &r2);
        cr_expect_eq(r2, rc, "%s: result with a cut at %zu", name, cut);
        cr_expect(cJSON_Compare(whole, split, true), "%s: chunks differ with a cut at %zu", name,
                  cut);
        cJSON_Delete(split);
    }
    size_t *each = malloc((n + 1) * sizeof *each);
    for (size_t i = 0; i < n; i++)
        each[i] = i + 1;
    int r3;
    cJSON *bytes = run_stream(&f, data, n, each, n ? n - 1 : 0, &r3);
    cr_expect_eq(r3, rc);
    cr_expect(cJSON_Compare(whole, bytes, true), "%s: chunks differ fed byte by byte", name);
    cJSON_Delete(bytes);
    free(each);
    if (want_rc == 0)
        golden(out, whole);
    else
        cJSON_Delete(whole);
    free(data);
    fx_free(&f);
}

Test(prov_gemini, stream_text_any_split)
{
    check_stream("text", 0);
}

Test(prov_gemini, stream_tool_calls_any_split)
{
    check_stream("tool", 0);
}

Test(prov_gemini, stream_thinking_without_final_blank_line)
{
    check_stream("thinking", 0);
}

Test(prov_gemini, stream_multiple_candidates)
{
    check_stream("multi", 0);
}

Test(prov_gemini, stream_blocked_prompt)
{
    check_stream("blocked", 0);
}

Test(prov_gemini, stream_error_event_fails)
{
    check_stream("error", -1);
}

Test(prov_gemini, stream_malformed_or_truncated_fails)
{
    check_stream("malformed", -1);
    check_stream("truncated", -1);
}

Test(prov_gemini, stream_empty_fails_at_end)
{
    fx_t f;
    fx_init(&f, "gemini", "m", true);
    int rc;
    cJSON *c = run_stream(&f, "", 0, NULL, 0, &rc);
    cr_expect_eq(rc, -1);
    cr_expect_eq(cJSON_GetArraySize(c), 0);
    cJSON_Delete(c);
    c = run_stream(&f, ": keepalive\r\n\r\n", 15, NULL, 0, &rc);
    cr_expect_eq(rc, -1);
    cJSON_Delete(c);
    fx_free(&f);
}

/* ---- embeddings ------------------------------------------------------------------------ */

Test(prov_gemini, embed_request_studio_batch)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, "gemini", "text-embedding-004", false);
    check_request(&f, a, "embed", true);
    fx_free(&f);
}

Test(prov_gemini, embed_request_studio_one_with_task_type)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, "gemini", "text-embedding-004", false);
    check_request(&f, a, "embed_one", true);
    fx_free(&f);
}

Test(prov_gemini, embed_request_vertex_predict)
{
    fx_t f;
    const prov_adapter_t *a = fx_vertex(&f, "text-embedding-004", false, "us-east5");
    cJSON *req = load_json("embed.request.json");
    prov_http_t h = {0};
    prov_error_t err = {0};
    cr_assert_eq(a->embed_request(&f.ctx, req, &h, &err), 0);
    golden("embed_vertex.expect.json", http_json(&h));
    buf_free(&h.body);
    cJSON_Delete(req);
    vauth_shutdown_all();
    fx_free(&f);
}

static void check_embed_response(const char *provider, const char *in, const char *out)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, provider, "text-embedding-004", false);
    size_t n;
    char *body = slurp(in, &n);
    buf_t b = {0};
    prov_error_t err = {0};
    cr_assert_eq(a->embed_response(&f.ctx, str_make(body, n), &b, &err), 0, "%s", err.message);
    golden(out, cJSON_ParseWithLength(b.p, b.n));
    buf_free(&b);
    free(body);
    fx_free(&f);
}

Test(prov_gemini, embed_responses)
{
    check_embed_response("gemini", "embed.response.json", "embed.openai.json");
    check_embed_response("vertex_ai", "embed_vertex.response.json", "embed_vertex.openai.json");
}

Test(prov_gemini, embed_errors)
{
    fx_t f;
    const prov_adapter_t *a = fx_init(&f, "gemini", "text-embedding-004", false);
    const char *bad[] = {"{\"input\":[[1,2,3]]}", "{\"input\":[]}", "{\"input\":5}",
                         "{\"input\":\"x\",\"dimensions\":\"big\"}",
                         "{\"input\":\"x\",\"frobnicate\":1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *req = cJSON_Parse(bad[i]);
        prov_http_t h = {0};
        prov_error_t err = {0};
        cr_expect_eq(a->embed_request(&f.ctx, req, &h, &err), -1, "%s", bad[i]);
        cr_expect_eq(err.status, 400, "%s", bad[i]);
        buf_free(&h.body);
        cJSON_Delete(req);
    }
    buf_t b = {0};
    prov_error_t err = {0};
    cr_expect_eq(a->embed_response(&f.ctx, STR_LIT("{\"embeddings\":[{\"v\":1}]}"), &b, &err), -1);
    cr_expect_eq(a->embed_response(&f.ctx, STR_LIT("nope"), &b, &err), -1);
    buf_free(&b);
    fx_free(&f);
}
