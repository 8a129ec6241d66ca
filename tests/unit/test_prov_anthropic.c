/* SPDX-License-Identifier: MIT
 * prov_anthropic: golden files in tests/data/anthropic/. req_*.json: an OpenAI request in, the
 * exact Anthropic body (compared as parsed JSON), URL and headers out, or the error. resp_*.json:
 * an Anthropic answer in, the OpenAI chat.completion out. stream_*.sse + stream_*.json: an SSE
 * stream fed whole, split at every byte boundary and byte by byte must give the same chunks. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/adapter.h"

#define DATA_DIR "tests/data/anthropic/"

extern const prov_adapter_t prov_adapter_anthropic;
static const prov_adapter_t *const A = &prov_adapter_anthropic;

/* The golden cases; every file in DATA_DIR must belong to one (see every_golden_file_is_used). */
#define REQUEST_CASES(X)                                                                           \
    X(basic)                                                                                       \
    X(system)                                                                                      \
    X(images)                                                                                      \
    X(tools)                                                                                       \
    X(tools_no_choice)                                                                             \
    X(tool_choice_required)                                                                        \
    X(tool_choice_none)                                                                            \
    X(tool_choice_named)                                                                           \
    X(parallel_only)                                                                               \
    X(params)                                                                                      \
    X(drop_params)                                                                                 \
    X(unsupported_param)                                                                           \
    X(stop_whitespace_kept)                                                                        \
    X(reasoning_effort)                                                                            \
    X(thinking)                                                                                    \
    X(response_format)                                                                             \
    X(web_search)                                                                                  \
    X(only_system)                                                                                 \
    X(bad_arguments)                                                                               \
    X(audio)                                                                                       \
    X(no_key)

#define RESPONSE_CASES(X)                                                                          \
    X(text)                                                                                        \
    X(tool_use)                                                                                    \
    X(tool_only)                                                                                   \
    X(thinking)                                                                                    \
    X(cache_usage)                                                                                 \
    X(max_tokens)                                                                                  \
    X(stop_sequence)                                                                               \
    X(refusal)                                                                                     \
    X(json_mode)                                                                                   \
    X(not_json)

#define STREAM_CASES(X)                                                                            \
    X(mixed)                                                                                       \
    X(error)                                                                                       \
    X(truncated)                                                                                   \
    X(json_mode)

/* ---- helpers ---------------------------------------------------------------------------- */

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)len + 1);
    cr_assert(p && fread(p, 1, (size_t)len, f) == (size_t)len, "cannot read %s", path);
    fclose(f);
    p[len] = '\0';
    if (n)
        *n = (size_t)len;
    return p;
}

static cJSON *read_json(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, DATA_DIR "%s", name);
    char *text = read_file(path, NULL);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(doc, "%s is not JSON", path);
    return doc;
}

/* Asserts two documents are equal as JSON (member order ignored), printing both when not. */
static void assert_json_eq(const cJSON *got, const cJSON *want, const char *what)
{
    if (cJSON_Compare(got, want, true))
        return;
    char *g = cJSON_Print(got), *w = cJSON_Print(want);
    cr_log_error("%s differs\n--- got:\n%s\n--- want:\n%s", what, g ? g : "(null)",
                 w ? w : "(null)");
    free(g);
    free(w);
    cr_assert_fail("%s: JSON differs (see above)", what);
}

/* A deployment with the ctx object's extra_headers; strings point into `c`. */
typedef struct {
    cfg_deployment_t dep;
    cfg_kv_t headers[16];
    arena_t arena;
    prov_ctx_t ctx;
} test_ctx_t;

static void ctx_from_json(test_ctx_t *t, const cJSON *c)
{
    memset(t, 0, sizeof *t);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(c, "extra_headers");
    for (const cJSON *it = h ? h->child : NULL; it && t->dep.num_extra_headers < 16; it = it->next)
        t->headers[t->dep.num_extra_headers++] = (cfg_kv_t){it->string, it->valuestring};
    t->dep.extra_headers = t->headers;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(c, "model");
    t->ctx = (prov_ctx_t){
        .dep = &t->dep,
        .prov = prov_find(STR_LIT("anthropic")),
        .model = str_cstr(cJSON_IsString(model) ? model->valuestring : "claude-x"),
        .api_base = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "api_base")),
        .api_key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "api_key")),
        .stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "stream")),
        .drop_params = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "drop_params")),
        .arena = &t->arena,
    };
}

/* ---- requests --------------------------------------------------------------------------- */

static void check_request(const char *name)
{
    char file[128];
    snprintf(file, sizeof file, "req_%s.json", name);
    cJSON *c = read_json(file);
    test_ctx_t t;
    ctx_from_json(&t, cJSON_GetObjectItemCaseSensitive(c, "ctx"));
    prov_http_t out = {0};
    prov_error_t err = {0};
    int rc = A->chat_request(&t.ctx, cJSON_GetObjectItemCaseSensitive(c, "openai"), &out, &err);

    const cJSON *want_err = cJSON_GetObjectItemCaseSensitive(c, "error");
    if (want_err) {
        cr_assert_eq(rc, -1, "%s: expected an error, got a request", file);
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(want_err, "status");
        cr_expect_eq(err.status, status->valueint, "%s: status %d", file, err.status);
        const char *param =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(want_err, "param"));
        if (param)
            cr_expect(err.param && strcmp(err.param, param) == 0, "%s: param %s", file,
                      err.param ? err.param : "(null)");
        const char *msg =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(want_err, "message"));
        if (msg)
            cr_expect(strstr(err.message, msg) != NULL, "%s: message '%s' lacks '%s'", file,
                      err.message, msg);
        cr_expect_eq(out.body.n, 0, "%s: a body despite the error", file);
    } else {
        cr_assert_eq(rc, 0, "%s: %d %s", file, err.status, err.message);
        cr_assert_str_eq(out.method, "POST");
        cJSON *body = cJSON_ParseWithLength(out.body.p, out.body.n);
        cr_assert_not_null(body, "%s: the body is not JSON: %.*s", file, (int)out.body.n,
                           out.body.p);
        assert_json_eq(body, cJSON_GetObjectItemCaseSensitive(c, "anthropic"), file);
        cJSON_Delete(body);
        const char *url = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "url"));
        if (url)
            cr_expect_str_eq(out.url, url, "%s: url", file);
        const cJSON *headers = cJSON_GetObjectItemCaseSensitive(c, "headers");
        if (headers) {
            size_t i = 0;
            for (const cJSON *h = headers->child; h; h = h->next, i++) {
                cr_assert_not_null(out.headers[i], "%s: header %zu missing (%s)", file, i,
                                   h->valuestring);
                cr_expect_str_eq(out.headers[i], h->valuestring, "%s: header %zu", file, i);
            }
            cr_expect_null(out.headers[i], "%s: extra header %s", file, out.headers[i]);
        }
    }
    buf_free(&out.body);
    arena_reset(&t.arena);
    cJSON_Delete(c);
}

#define REQUEST_TEST(name)                                                                         \
    Test(prov_anthropic, req_##name)                                                               \
    {                                                                                              \
        check_request(#name);                                                                      \
    }
REQUEST_CASES(REQUEST_TEST)

/* ---- responses -------------------------------------------------------------------------- */

static void check_response(const char *name)
{
    char file[128];
    snprintf(file, sizeof file, "resp_%s.json", name);
    cJSON *c = read_json(file);
    test_ctx_t t;
    ctx_from_json(&t, NULL);
    char *in = NULL;
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive(c, "anthropic_text");
    in = raw ? strdup(raw->valuestring)
             : cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(c, "anthropic"));
    buf_t out = {0};
    prov_error_t err = {0};
    int rc = A->chat_response(&t.ctx, str_cstr(in), &out, &err);
    const cJSON *want_err = cJSON_GetObjectItemCaseSensitive(c, "error");
    if (want_err) {
        cr_expect_eq(rc, -1, "%s: expected an error", file);
        cr_expect_eq(err.status, cJSON_GetObjectItemCaseSensitive(want_err, "status")->valueint);
    } else {
        cr_assert_eq(rc, 0, "%s: %d %s", file, err.status, err.message);
        cJSON *got = cJSON_ParseWithLength(out.p, out.n);
        cr_assert_not_null(got, "%s: output is not JSON", file);
        cJSON *created = cJSON_GetObjectItemCaseSensitive(got, "created");
        cr_assert(cJSON_IsNumber(created) && created->valuedouble > 1.7e9, "%s: created", file);
        cJSON_SetNumberValue(created, 0);
        assert_json_eq(got, cJSON_GetObjectItemCaseSensitive(c, "openai"), file);
        cJSON_Delete(got);
    }
    free(in);
    buf_free(&out);
    cJSON_Delete(c);
}

#define RESPONSE_TEST(name)                                                                        \
    Test(prov_anthropic, resp_##name)                                                              \
    {                                                                                              \
        check_response(#name);                                                                     \
    }
RESPONSE_CASES(RESPONSE_TEST)

Test(prov_anthropic, resp_without_id_or_model)
{
    test_ctx_t t;
    ctx_from_json(&t, NULL);
    static const char body[] = "{\"content\":[{\"type\":\"text\",\"text\":\"x\"}],"
                               "\"stop_reason\":null}";
    buf_t out = {0};
    prov_error_t err = {0};
    cr_assert_eq(A->chat_response(&t.ctx, str_make(body, sizeof body - 1), &out, &err), 0);
    cJSON *got = cJSON_ParseWithLength(out.p, out.n);
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(got, "id"));
    cr_expect(id && strncmp(id, "chatcmpl-", 9) == 0);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(got, "model")),
                     "claude-x");
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(got, "choices"), 0);
    cr_expect_str_eq(
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(choice, "finish_reason")), "stop");
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(got, "usage");
    cr_expect_eq(cJSON_GetObjectItemCaseSensitive(usage, "total_tokens")->valueint, 0);
    cJSON_Delete(got);
    buf_free(&out);
}

/* ---- streams ---------------------------------------------------------------------------- */

typedef struct {
    cJSON *chunks;
    char id[64];
    double created;
    bool bad; /* a chunk that is not JSON, or ids / created that change mid-stream */
} collect_t;

static int collect(void *arg, str_t chunk_json)
{
    collect_t *c = arg;
    cJSON *chunk = cJSON_ParseWithLength(chunk_json.p, chunk_json.n);
    if (!chunk) {
        c->bad = true;
        return 0;
    }
    cJSON *id = cJSON_GetObjectItemCaseSensitive(chunk, "id");
    cJSON *created = cJSON_GetObjectItemCaseSensitive(chunk, "created");
    if (!cJSON_IsString(id) || strncmp(id->valuestring, "chatcmpl-", 9) != 0 ||
        !cJSON_IsNumber(created))
        c->bad = true;
    else if (!c->id[0]) {
        snprintf(c->id, sizeof c->id, "%s", id->valuestring);
        c->created = created->valuedouble;
    } else if (strcmp(c->id, id->valuestring) != 0 || c->created != created->valuedouble) {
        c->bad = true;
    }
    if (cJSON_IsString(id))
        cJSON_SetValuestring(id, "chatcmpl-test");
    if (cJSON_IsNumber(created))
        cJSON_SetNumberValue(created, 0);
    cJSON_AddItemToArray(c->chunks, chunk);
    return 0;
}

/* Feeds `sse` in pieces ending at cuts[0..ncuts) (increasing), then the rest, then ends the
 * stream. Returns the chunks; *feed_rc is the first failing feed's result, *end_rc stream_end's
 * (not called after a failed feed). */
static cJSON *run_stream(const char *sse, size_t n, const size_t *cuts, size_t ncuts, int *feed_rc,
                         int *end_rc)
{
    test_ctx_t t;
    ctx_from_json(&t, NULL);
    prov_stream_t *s = A->stream_new(&t.ctx);
    cr_assert_not_null(s);
    collect_t c = {.chunks = cJSON_CreateArray()};
    size_t at = 0;
    *feed_rc = 0;
    *end_rc = 0;
    for (size_t i = 0; i <= ncuts && *feed_rc == 0; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        *feed_rc = A->stream_feed(s, sse + at, to - at, collect, &c);
        at = to;
    }
    if (*feed_rc == 0)
        *end_rc = A->stream_end(s, collect, &c);
    A->stream_free(s);
    cr_assert(!c.bad, "a chunk was not JSON or changed id / created");
    return c.chunks;
}

static void check_stream(const char *name)
{
    char path[256], file[128];
    size_t n;
    snprintf(path, sizeof path, DATA_DIR "stream_%s.sse", name);
    char *sse = read_file(path, &n);
    snprintf(file, sizeof file, "stream_%s.json", name);
    cJSON *c = read_json(file);
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "chunks");
    const cJSON *want_feed = cJSON_GetObjectItemCaseSensitive(c, "feed");
    const cJSON *want_end = cJSON_GetObjectItemCaseSensitive(c, "end");
    int feed_rc, end_rc;

    cJSON *whole = run_stream(sse, n, NULL, 0, &feed_rc, &end_rc);
    assert_json_eq(whole, want, path);
    cr_expect_eq(feed_rc, want_feed ? want_feed->valueint : 0, "%s: feed", path);
    if (want_end)
        cr_expect_eq(end_rc, want_end->valueint, "%s: end", path);
    cJSON_Delete(whole);

    /* every split into two pieces */
    for (size_t k = 0; k <= n; k++) {
        cJSON *got = run_stream(sse, n, &k, 1, &feed_rc, &end_rc);
        if (!cJSON_Compare(got, want, true)) {
            char what[300];
            snprintf(what, sizeof what, "%s split at byte %zu", path, k);
            assert_json_eq(got, want, what);
        }
        cr_assert_eq(feed_rc, want_feed ? want_feed->valueint : 0, "%s split at %zu", path, k);
        if (want_end)
            cr_assert_eq(end_rc, want_end->valueint, "%s split at %zu: end", path, k);
        cJSON_Delete(got);
    }
    /* one byte at a time */
    size_t *cuts = malloc(n * sizeof *cuts);
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    cJSON *bytes = run_stream(sse, n, cuts, n ? n - 1 : 0, &feed_rc, &end_rc);
    assert_json_eq(bytes, want, "byte by byte");
    cr_expect_eq(feed_rc, want_feed ? want_feed->valueint : 0);
    cJSON_Delete(bytes);
    free(cuts);
    free(sse);
    cJSON_Delete(c);
}

#define STREAM_TEST(name)                                                                          \
    Test(prov_anthropic, stream_##name)                                                            \
    {                                                                                              \
        check_stream(#name);                                                                       \
    }
STREAM_CASES(STREAM_TEST)

Test(prov_anthropic, stream_fails_after_bad_json_and_stays_failed)
{
    static const char sse[] = "event: message_start\ndata: {\"type\":\"message_st\n\n";
    int feed_rc, end_rc;
    cJSON *got = run_stream(sse, sizeof sse - 1, NULL, 0, &feed_rc, &end_rc);
    cr_expect_eq(feed_rc, -1);
    cr_expect_eq(cJSON_GetArraySize(got), 0);
    cJSON_Delete(got);

    test_ctx_t t;
    ctx_from_json(&t, NULL);
    prov_stream_t *s = A->stream_new(&t.ctx);
    collect_t c = {.chunks = cJSON_CreateArray()};
    cr_expect_eq(A->stream_feed(s, sse, sizeof sse - 1, collect, &c), -1);
    cr_expect_eq(A->stream_feed(s, "event: ping\ndata: {}\n\n", 22, collect, &c), -1);
    cr_expect_eq(A->stream_end(s, collect, &c), -1);
    A->stream_free(s);
    cJSON_Delete(c.chunks);
}

Test(prov_anthropic, stream_empty_is_incomplete)
{
    int feed_rc, end_rc;
    cJSON *got = run_stream("", 0, NULL, 0, &feed_rc, &end_rc);
    cr_expect_eq(feed_rc, 0);
    cr_expect_eq(end_rc, -1);
    cr_expect_eq(cJSON_GetArraySize(got), 0);
    cJSON_Delete(got);
}

/* ---- errors ----------------------------------------------------------------------------- */

static void expect_message(int status, const char *body, const char *want)
{
    buf_t out = {0};
    A->error_message(status, str_cstr(body), &out);
    cr_expect(out.n == strlen(want) && (out.n == 0 || memcmp(out.p, want, out.n) == 0),
              "got '%.*s', want '%s'", (int)out.n, out.p ? out.p : "", want);
    buf_free(&out);
}

Test(prov_anthropic, error_message)
{
    expect_message(400,
                   "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":"
                   "\"max_tokens: Field required\"},\"request_id\":\"req_1\"}",
                   "max_tokens: Field required");
    expect_message(529,
                   "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
                   "\"Overloaded\"}}",
                   "Overloaded");
    expect_message(502, "<html>Bad Gateway</html>", "<html>Bad Gateway</html>");
    expect_message(500, "{\"error\":\"plain string\"}", "plain string");
    expect_message(500, "", "");
}

Test(prov_anthropic, registered)
{
    cr_expect_eq(prov_adapter_find(STR_LIT("anthropic")), A);
    cr_expect_null(A->embed_request);
}

/* Every file in DATA_DIR belongs to a case above, so none is silently ignored. */
Test(prov_anthropic, every_golden_file_is_used)
{
#define NAME_REQ(n) "req_" #n ".json",
#define NAME_RESP(n) "resp_" #n ".json",
#define NAME_STREAM(n) "stream_" #n ".json", "stream_" #n ".sse",
    static const char *const known[] = {REQUEST_CASES(NAME_REQ) RESPONSE_CASES(NAME_RESP)
                                            STREAM_CASES(NAME_STREAM)};
    DIR *d = opendir(DATA_DIR);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        bool found = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0] && !found; i++)
            found = strcmp(known[i], e->d_name) == 0;
        cr_expect(found, DATA_DIR "%s has no test", e->d_name);
    }
    closedir(d);
}

static int count_emit(void *arg, str_t chunk)
{
    (*(int *)arg)++;
    return 0;
}

Test(prov_anthropic, stream_error_event_keeps_the_providers_words)
{
    static const char sse[] =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
        "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-x\",\"content\":[],"
        "\"stop_reason\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n"
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
        "\"message\":\"Overloaded\"}}\n\n";
    arena_t a = {0};
    prov_ctx_t ctx = {.model = STR_LIT("claude-x"), .stream = true, .arena = &a};
    prov_stream_t *st = prov_adapter_anthropic.stream_new(&ctx);
    int n = 0;
    cr_expect_eq(prov_adapter_anthropic.stream_feed(st, sse, sizeof sse - 1, count_emit, &n), -1);
    cr_assert_not_null(prov_adapter_anthropic.stream_error);
    cr_expect_str_eq(prov_adapter_anthropic.stream_error(st), "overloaded_error: Overloaded");
    prov_adapter_anthropic.stream_free(st);
    arena_reset(&a);
}
