/* SPDX-License-Identifier: MIT
 * bedrock: golden request/response files in tests/data/bedrock/ (format in prov_golden.h);
 * streams described as events in <name>.events.json, framed with the event-stream encoder and
 * fed whole, byte by byte and cut at every offset; and what a file cannot show: the signature
 * of a built request checked by the verifier sluice-mock uses, where credentials, region and
 * endpoint come from, the error text. */
#include <strings.h>
#include <time.h>

#include "prov_golden.h"
#include "providers/eventstream.h"
#include "providers/sigv4.h"

extern const prov_adapter_t prov_adapter_bedrock;

static const golden_suite_t bedrock_suite = {&prov_adapter_bedrock, "bedrock", "tests/data/bedrock",
                                             "bin"};

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define MODEL "anthropic.claude-3-5-sonnet-20240620-v1:0"
#define MODEL_ENC "anthropic.claude-3-5-sonnet-20240620-v1%3A0"

static const char *const aws_vars[] = {"AWS_ACCESS_KEY_ID",        "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN",        "AWS_REGION",
                                       "AWS_REGION_NAME",          "AWS_DEFAULT_REGION",
                                       "AWS_BEARER_TOKEN_BEDROCK", "AWS_BEDROCK_RUNTIME_ENDPOINT"};

/* Each test runs in its own process: the environment is the test's own. */
static void clean_env(void)
{
    for (size_t i = 0; i < sizeof aws_vars / sizeof aws_vars[0]; i++)
        unsetenv(aws_vars[i]);
}

static void env_keys(void)
{
    clean_env();
    setenv("AWS_ACCESS_KEY_ID", AKID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
}

Test(prov_bedrock, requests, .init = env_keys)
{
    cr_expect_geq(golden_run_dir(&bedrock_suite, "request"), 34);
}

Test(prov_bedrock, responses, .init = env_keys)
{
    cr_expect_geq(golden_run_dir(&bedrock_suite, "response"), 17);
}

/* ---- streams: events framed with the encoder ---------------------------------------------- */

/* The event-stream bytes a case describes. */
static void build_stream(const cJSON *events, buf_t *out)
{
    for (const cJSON *e = events->child; e; e = e->next) {
        const cJSON *exc = cJSON_GetObjectItemCaseSensitive(e, "exception");
        const cJSON *raw = cJSON_GetObjectItemCaseSensitive(e, "raw");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "event");
        char *payload =
            raw ? strdup(raw->valuestring)
                : cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(e, "payload"));
        size_t mark = out->n;
        int rc = cJSON_IsString(exc)
                     ? evs_encode_exception(out, str_cstr(exc->valuestring), str_cstr(payload))
                     : evs_encode_event(out, str_cstr(name->valuestring), str_cstr(payload));
        cr_assert_eq(rc, 0);
        free(payload);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "corrupt")))
            out->p[out->n - 1] ^= 1;
        const cJSON *cut = cJSON_GetObjectItemCaseSensitive(e, "cut");
        if (cJSON_IsNumber(cut) && out->n - mark > (size_t)cut->valueint)
            out->n -= (size_t)cut->valueint;
    }
}

static int events_case(const char *path, const char *name)
{
    cJSON *doc = golden_json(path);
    prov_ctx_t ctx =
        golden_ctx(&bedrock_suite, cJSON_GetObjectItemCaseSensitive(doc, "ctx"), "test-model");
    buf_t bytes = {0};
    build_stream(cJSON_GetObjectItemCaseSensitive(doc, "events"), &bytes);
    const cJSON *end = cJSON_GetObjectItemCaseSensitive(doc, "end");
    int want_rc = cJSON_IsNumber(end) ? end->valueint : 0;
    const prov_adapter_t *ad = &prov_adapter_bedrock;

    int rc;
    char *whole = golden_stream_run(ad, &ctx, bytes.p, bytes.n, NULL, 0, &rc);
    cJSON *got = cJSON_Parse(whole);
    golden_expect_same(name, cJSON_GetObjectItemCaseSensitive(doc, "chunks"), got);
    cr_expect_eq(rc, want_rc, "%s: result %d, expected %d", name, rc, want_rc);
    cJSON_Delete(got);

    size_t *each = malloc((bytes.n + 1) * sizeof *each);
    for (size_t i = 0; i < bytes.n; i++)
        each[i] = i + 1;
    int rc2;
    char *one =
        golden_stream_run(ad, &ctx, bytes.p, bytes.n, each, bytes.n ? bytes.n - 1 : 0, &rc2);
    cr_expect_str_eq(one, whole, "%s: byte-by-byte feed differs", name);
    cr_expect_eq(rc2, rc, "%s: byte-by-byte result differs", name);
    free(one);
    free(each);
    for (size_t k = 0; k <= bytes.n; k++) {
        int rc3;
        char *cut = golden_stream_run(ad, &ctx, bytes.p, bytes.n, &k, 1, &rc3);
        if (strcmp(cut, whole) != 0 || rc3 != rc)
            cr_expect_fail("%s: cut at %zu differs", name, k);
        free(cut);
    }
    free(whole);
    buf_free(&bytes);
    cJSON_Delete(doc);
    arena_reset(&golden_arena);
    return 1;
}

Test(prov_bedrock, streams_split_anywhere)
{
    DIR *d = opendir(bedrock_suite.dir);
    cr_assert_not_null(d);
    struct dirent *e;
    int count = 0;
    while ((e = readdir(d))) {
        if (!golden_ends_with(e->d_name, ".events.json"))
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", bedrock_suite.dir, e->d_name);
        count += events_case(path, e->d_name);
    }
    closedir(d);
    arena_thread_cleanup();
    cr_expect_geq(count, 11);
}

Test(prov_bedrock, stream_chunks_name_the_model_without_route_prefix)
{
    arena_t a = {0};
    prov_ctx_t ctx = {.model = STR_LIT("converse/" MODEL), .arena = &a};
    buf_t bytes = {0};
    evs_encode_event(&bytes, STR_LIT("messageStart"), STR_LIT("{\"role\":\"assistant\"}"));
    int rc;
    char *text = golden_stream_run(&prov_adapter_bedrock, &ctx, bytes.p, bytes.n, NULL, 0, &rc);
    cr_expect(strstr(text, "\"model\":\"" MODEL "\"") != NULL, "%s", text);
    cr_expect_eq(rc, -1, "no messageStop: the stream is incomplete");
    free(text);
    buf_free(&bytes);
    arena_reset(&a);
    arena_thread_cleanup();
}

/* ---- signing ---------------------------------------------------------------------------- */

typedef struct {
    cfg_kv_t params[8];
    cfg_deployment_t dep;
    arena_t arena;
    prov_ctx_t ctx;
} fixture_t;

/* A deployment with the given litellm_params (NULL-terminated name/value pairs). */
static void fixture(fixture_t *f, const char *api_base, const char *const *kv)
{
    memset(f, 0, sizeof *f);
    size_t n = 0;
    for (; kv && kv[2 * n]; n++)
        f->params[n] = (cfg_kv_t){(char *)kv[2 * n], (char *)kv[2 * n + 1]};
    f->dep.params = f->params;
    f->dep.num_params = n;
    f->dep.api_base = (char *)api_base;
    f->ctx = (prov_ctx_t){
        .dep = &f->dep,
        .prov = prov_find(STR_LIT("bedrock")),
        .model = STR_LIT(MODEL),
        .api_base = api_base,
        .arena = &f->arena,
    };
}

/* fixture() again for the same test: what the last one's arena holds is given back first. */
static void fixture_again(fixture_t *f, const char *api_base, const char *const *kv)
{
    arena_reset(&f->arena);
    fixture(f, api_base, kv);
}

static const char *header_value(const prov_http_t *h, const char *name)
{
    size_t n = strlen(name);
    for (const char **l = h->headers; l && *l; l++)
        if (strncasecmp(*l, name, n) == 0 && (*l)[n] == ':')
            return *l + n + 2;
    return NULL;
}

/* Checks out's signature as sluice-mock does: the headers sent, the Host the client derives. */
static int verify_sent(const prov_http_t *out, const char *host, const char *path,
                       const char *secret)
{
    sigv4_header_t h[32];
    size_t n = 0;
    h[n++] = (sigv4_header_t){STR_LIT("Host"), str_cstr(host)};
    for (const char **l = out->headers; *l && n < 31; l++) {
        const char *colon = strchr(*l, ':');
        h[n++] = (sigv4_header_t){str_make(*l, (size_t)(colon - *l)), str_cstr(colon + 2)};
    }
    h[n++] = (sigv4_header_t){STR_LIT("User-Agent"), STR_LIT("sluice")};
    sigv4_verify_t v = {
        .method = STR_LIT("POST"),
        .path = str_cstr(path),
        .headers = h,
        .num_headers = n,
        .body = str_make(out->body.p, out->body.n),
        .access_key_id = AKID,
        .secret_access_key = secret,
        .service = "bedrock",
        .now = time(NULL),
    };
    return sigv4_verify(&v, NULL, 0);
}

static const char *const basic_chat = "{\"model\":\"x\",\"messages\":[{\"role\":\"user\","
                                      "\"content\":\"Hi\"}]}";

Test(prov_bedrock, signed_request_verifies, .init = clean_env)
{
    static const char *const kv[] = {"aws_access_key_id",
                                     AKID,
                                     "aws_secret_access_key",
                                     SECRET,
                                     "aws_region_name",
                                     "eu-central-1",
                                     "aws_bedrock_runtime_endpoint",
                                     "http://127.0.0.1:4100/",
                                     NULL};
    fixture_t f;
    fixture(&f, NULL, kv);
    cJSON *req = cJSON_Parse(basic_chat);
    prov_http_t out;
    prov_error_t err = {0};
    cr_assert_eq(prov_adapter_bedrock.chat_request(&f.ctx, req, &out, &err), 0, "%s", err.message);
    cr_expect_str_eq(out.url, "http://127.0.0.1:4100/model/" MODEL_ENC "/converse");
    const char *auth = header_value(&out, "Authorization");
    cr_assert_not_null(auth);
    cr_expect(strstr(auth, "Credential=" AKID "/") && strstr(auth, "/eu-central-1/bedrock/"
                                                                   "aws4_request, "),
              "%s", auth);
    cr_expect(strstr(auth, "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date,"),
              "%s", auth);
    cr_expect_null(header_value(&out, "X-Amz-Security-Token"));
    char hash[65];
    sigv4_sha256_hex(out.body.p, out.body.n, hash);
    cr_expect_str_eq(header_value(&out, "X-Amz-Content-Sha256"), hash);
    const char *path = "/model/" MODEL_ENC "/converse";
    cr_expect_eq(verify_sent(&out, "127.0.0.1:4100", path, SECRET), SIGV4_OK);
    cr_expect_eq(verify_sent(&out, "127.0.0.1:4100", path, "another-secret"), SIGV4_ERR_MISMATCH);
    cr_expect_eq(verify_sent(&out, "127.0.0.1:4101", path, SECRET), SIGV4_ERR_MISMATCH);
    buf_free(&out.body);
    cJSON_Delete(req);
    arena_reset(&f.arena);
    arena_thread_cleanup();
}

Test(prov_bedrock, session_token_is_sent_and_signed, .init = clean_env)
{
    static const char *const kv[] = {
        "aws_access_key_id",   AKID, "aws_secret_access_key", SECRET, "aws_session_token",
        "FwoGZXIvYXdzEXAMPLE", NULL};
    fixture_t f;
    fixture(&f, "https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com:443/base", kv);
    cJSON *req = cJSON_Parse(basic_chat);
    prov_http_t out;
    prov_error_t err = {0};
    cr_assert_eq(prov_adapter_bedrock.chat_request(&f.ctx, req, &out, &err), 0, "%s", err.message);
    cr_expect_str_eq(header_value(&out, "X-Amz-Security-Token"), "FwoGZXIvYXdzEXAMPLE");
    cr_expect(strstr(header_value(&out, "Authorization"), ";x-amz-security-token,") != NULL);
    /* the default port is not part of the Host a client sends, so not of what is signed */
    cr_expect_eq(verify_sent(&out, "vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com",
                             "/base/model/" MODEL_ENC "/converse", SECRET),
                 SIGV4_OK);
    buf_free(&out.body);
    cJSON_Delete(req);
    arena_reset(&f.arena);
    arena_thread_cleanup();
}

Test(prov_bedrock, embeddings_request_verifies, .init = env_keys)
{
    fixture_t f;
    fixture(&f, "http://127.0.0.1:4100", NULL);
    f.ctx.model = STR_LIT("amazon.titan-embed-text-v2:0");
    cJSON *req = cJSON_Parse("{\"model\":\"t\",\"input\":\"hello\"}");
    prov_http_t out;
    prov_error_t err = {0};
    cr_assert_eq(prov_adapter_bedrock.embed_request(&f.ctx, req, &out, &err), 0, "%s", err.message);
    cr_expect_eq(
        verify_sent(&out, "127.0.0.1:4100", "/model/amazon.titan-embed-text-v2%3A0/invoke", SECRET),
        SIGV4_OK);
    buf_free(&out.body);
    cJSON_Delete(req);
    arena_reset(&f.arena);
    arena_thread_cleanup();
}

/* ---- where credentials, region and endpoint come from --------------------------------------- */

/* Builds a chat request; returns the Authorization header (or the error message). */
static const char *auth_of(fixture_t *f, int *rc)
{
    static char text[1024];
    cJSON *req = cJSON_Parse(basic_chat);
    prov_http_t out = {0};
    prov_error_t err = {0};
    *rc = prov_adapter_bedrock.chat_request(&f->ctx, req, &out, &err);
    const char *a = *rc == 0 ? header_value(&out, "Authorization") : err.message;
    snprintf(text, sizeof text, "%s|%s", a ? a : "", *rc == 0 ? out.url : "");
    buf_free(&out.body);
    cJSON_Delete(req);
    return text;
}

Test(prov_bedrock, credentials_precedence, .init = clean_env)
{
    int rc;
    fixture_t f;
    fixture(&f, NULL, NULL);
    cr_expect(strstr(auth_of(&f, &rc), "no AWS credentials") != NULL);
    cr_expect_eq(rc, -1);

    setenv("AWS_BEARER_TOKEN_BEDROCK", "env-bearer", 1);
    cr_expect(strncmp(auth_of(&f, &rc), "Bearer env-bearer|", 18) == 0);
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
    cr_expect(strstr(auth_of(&f, &rc), "Credential=AKIDENV/") != NULL, "env keys beat env bearer");
    f.ctx.api_key = "config-key";
    cr_expect(strncmp(auth_of(&f, &rc), "Bearer config-key|", 18) == 0,
              "a configured api_key beats the environment");
    static const char *const kv[] = {"aws_access_key_id", "AKIDPARAM", "aws_secret_access_key", "s",
                                     NULL};
    fixture_again(&f, NULL, kv);
    f.ctx.api_key = "config-key";
    cr_expect(strstr(auth_of(&f, &rc), "Credential=AKIDPARAM/") != NULL,
              "litellm_params keys beat everything");

    static const char *const half[] = {"aws_access_key_id", "AKIDPARAM", NULL};
    fixture_again(&f, NULL, half);
    cr_expect(strstr(auth_of(&f, &rc), "without aws_secret_access_key") != NULL);
    cr_expect_eq(rc, -1);
    static const char *const role[] = {"aws_role_name", "arn:aws:iam::1:role/x", NULL};
    clean_env();
    fixture_again(&f, NULL, role);
    cr_expect(strstr(auth_of(&f, &rc), "aws_role_name is not supported") != NULL);
    arena_reset(&f.arena);
    arena_thread_cleanup();
}

Test(prov_bedrock, region_and_endpoint_precedence, .init = env_keys)
{
    int rc;
    fixture_t f;
    fixture(&f, NULL, NULL);
    cr_expect(strstr(auth_of(&f, &rc), "/us-west-2/bedrock/") != NULL, "LiteLLM's default");
    setenv("AWS_DEFAULT_REGION", "ap-south-1", 1);
    cr_expect(strstr(auth_of(&f, &rc), "/ap-south-1/bedrock/") != NULL);
    setenv("AWS_REGION", "ca-central-1", 1);
    cr_expect(strstr(auth_of(&f, &rc), "/ca-central-1/bedrock/") != NULL);
    setenv("AWS_REGION_NAME", "sa-east-1", 1);
    const char *t = auth_of(&f, &rc);
    cr_expect(strstr(t, "/sa-east-1/bedrock/") != NULL, "%s", t);
    cr_expect(strstr(t, "|https://bedrock-runtime.sa-east-1.amazonaws.com/model/") != NULL, "%s",
              t);
    static const char *const kv[] = {"aws_region_name", "us-east-2", "aws_bedrock_runtime_endpoint",
                                     "http://param:1", NULL};
    fixture_again(&f, NULL, kv);
    t = auth_of(&f, &rc);
    cr_expect(strstr(t, "/us-east-2/bedrock/") != NULL && strstr(t, "|http://param:1/model/"), "%s",
              t);
    /* the environment's endpoint (ctx->api_base without a configured api_base) loses to the
     * parameter; a configured api_base wins over both */
    f.ctx.api_base = "http://env:2";
    t = auth_of(&f, &rc);
    cr_expect(strstr(t, "|http://param:1/model/") != NULL, "%s", t);
    f.dep.api_base = "http://config:3";
    f.ctx.api_base = "http://config:3";
    t = auth_of(&f, &rc);
    cr_expect(strstr(t, "|http://config:3/model/") != NULL, "%s", t);
    arena_reset(&f.arena);
    arena_thread_cleanup();
}

Test(prov_bedrock, extra_headers_are_added, .init = env_keys)
{
    fixture_t f;
    fixture(&f, "http://127.0.0.1:4100", NULL);
    cfg_kv_t extra[1] = {{"X-Team", "search"}};
    f.dep.extra_headers = extra;
    f.dep.num_extra_headers = 1;
    cJSON *req = cJSON_Parse(basic_chat);
    prov_http_t out;
    prov_error_t err = {0};
    cr_assert_eq(prov_adapter_bedrock.chat_request(&f.ctx, req, &out, &err), 0);
    cr_expect_str_eq(header_value(&out, "X-Team"), "search");
    buf_free(&out.body);
    cJSON_Delete(req);
    arena_reset(&f.arena);
    arena_thread_cleanup();
}

Test(prov_bedrock, error_message)
{
    buf_t out = {0};
    prov_adapter_bedrock.error_message(
        403, STR_LIT("{\"message\":\"The security token included in the request is invalid.\"}"),
        &out);
    cr_expect_str_eq(buf_cstr(&out), "The security token included in the request is invalid.");
    out.n = 0;
    prov_adapter_bedrock.error_message(400, STR_LIT("{\"Message\":\"capitalized\"}"), &out);
    cr_expect_str_eq(buf_cstr(&out), "capitalized");
    out.n = 0;
    prov_adapter_bedrock.error_message(502, STR_LIT("<html>bad gateway</html>"), &out);
    cr_expect_str_eq(buf_cstr(&out), "<html>bad gateway</html>");
    buf_free(&out);
}

Test(prov_bedrock, registered)
{
    cr_expect_eq(prov_adapter_find(STR_LIT("bedrock")), &prov_adapter_bedrock);
    cr_expect_str_eq(prov_adapter_bedrock.name, "bedrock");
    cr_expect_not_null(prov_adapter_bedrock.embed_request);
}
