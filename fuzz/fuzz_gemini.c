/* SPDX-License-Identifier: MIT
 * Fuzzes the gemini / vertex_ai adapters with one input read three ways: as a Gemini answer
 * (chat_response, embed_response, error_message), as a Gemini SSE stream (fed whole and split at
 * two fuzz-chosen points, and byte by byte when short: the same chunks and the same result), and
 * as an OpenAI chat / embeddings request (chat_request, embed_request: any success is a JSON
 * body, a URL and headers; any failure has a status and a message).
 * Input: 4 header bytes (two split points) then the payload. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "providers/adapter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const prov_adapter_t prov_adapter_gemini, prov_adapter_vertex_ai;

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_gemini: check failed at line %d: %s\n", __LINE__, #cond);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Chunks with the per-stream random parts (id, created, tool call ids) removed, one per line. */
static int record(void *arg, str_t chunk)
{
    buf_t *log = arg;
    cJSON *c = cJSON_ParseWithLength(chunk.p, chunk.n);
    FUZZ_CHECK(cJSON_IsObject(c));
    FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItem(c, "id")));
    cJSON_DeleteItemFromObject(c, "id");
    cJSON_DeleteItemFromObject(c, "created");
    const cJSON *choices = cJSON_GetObjectItem(c, "choices");
    FUZZ_CHECK(cJSON_IsArray(choices));
    for (cJSON *ch = choices->child; ch; ch = ch->next) {
        cJSON *calls = cJSON_GetObjectItem(cJSON_GetObjectItem(ch, "delta"), "tool_calls");
        for (cJSON *t = calls ? calls->child : NULL; t; t = t->next) {
            const cJSON *id = cJSON_GetObjectItem(t, "id");
            FUZZ_CHECK(cJSON_IsString(id) && strncmp(id->valuestring, "call_", 5) == 0);
            cJSON_DeleteItemFromObject(t, "id");
        }
    }
    char *text = cJSON_PrintUnformatted(c);
    FUZZ_CHECK(text);
    buf_append_cstr(log, text);
    buf_append(log, "\n", 1);
    free(text);
    cJSON_Delete(c);
    return 0;
}

static int run_stream(const prov_ctx_t *ctx, const char *p, size_t n, const size_t *cuts,
                      size_t ncuts, buf_t *log)
{
    prov_stream_t *s = prov_adapter_gemini.stream_new(ctx);
    FUZZ_CHECK(s);
    int rc = 0;
    size_t at = 0;
    for (size_t i = 0; i <= ncuts && rc == 0; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        rc = prov_adapter_gemini.stream_feed(s, p + at, to - at, record, log);
        at = to;
    }
    if (rc == 0)
        rc = prov_adapter_gemini.stream_end(s, record, log);
    prov_adapter_gemini.stream_free(s);
    FUZZ_CHECK(rc == 0 || rc == -1);
    return rc;
}

static bool same(const buf_t *a, const buf_t *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
}

static void check_answer(const prov_ctx_t *ctx, const char *p, size_t n)
{
    const prov_adapter_t *adapters[] = {&prov_adapter_gemini, &prov_adapter_vertex_ai};
    for (size_t i = 0; i < 2; i++) {
        buf_t out = {0};
        prov_error_t err = {0};
        if (adapters[i]->chat_response(ctx, str_make(p, n), &out, &err) == 0) {
            cJSON *doc = cJSON_ParseWithLength(out.p, out.n);
            FUZZ_CHECK(cJSON_IsObject(doc));
            FUZZ_CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "choices")) > 0);
            cJSON_Delete(doc);
        } else {
            FUZZ_CHECK(err.status >= 400 && err.message[0]);
            FUZZ_CHECK(out.n == 0);
        }
        out.n = 0;
        memset(&err, 0, sizeof err);
        if (adapters[i]->embed_response(ctx, str_make(p, n), &out, &err) == 0) {
            cJSON *doc = cJSON_ParseWithLength(out.p, out.n);
            FUZZ_CHECK(cJSON_IsArray(cJSON_GetObjectItem(doc, "data")));
            cJSON_Delete(doc);
        } else {
            FUZZ_CHECK(err.status >= 400);
        }
        out.n = 0;
        adapters[i]->error_message(500, str_make(p, n), &out);
        FUZZ_CHECK(out.n <= n + 1000);
        buf_free(&out);
    }
}

static void check_requests(prov_ctx_t *ctx, const char *p, size_t n)
{
    cJSON *req = cJSON_ParseWithLength(p, n);
    if (!req)
        return;
    const prov_adapter_t *adapters[] = {&prov_adapter_gemini, &prov_adapter_vertex_ai};
    for (size_t i = 0; i < 2; i++) {
        for (int embed = 0; embed < 2; embed++) {
            prov_http_t h = {0};
            prov_error_t err = {0};
            int rc = embed ? adapters[i]->embed_request(ctx, req, &h, &err)
                           : adapters[i]->chat_request(ctx, req, &h, &err);
            if (rc == 0) {
                FUZZ_CHECK(h.url && h.headers);
                cJSON *body = cJSON_ParseWithLength(h.body.p, h.body.n);
                FUZZ_CHECK(cJSON_IsObject(body));
                cJSON_Delete(body);
            } else {
                FUZZ_CHECK(rc == -1 && err.status >= 400 && err.message[0]);
            }
            buf_free(&h.body);
        }
    }
    cJSON_Delete(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    const char *p = (const char *)data + 4;
    size_t n = size - 4;
    size_t a = ((size_t)data[0] << 8 | data[1]) % (n + 1);
    size_t b = ((size_t)data[2] << 8 | data[3]) % (n + 1);
    if (a > b) {
        size_t t = a;
        a = b;
        b = t;
    }
    static bool once;
    if (!once) {
        unsetenv("GOOGLE_APPLICATION_CREDENTIALS"); /* keep vertex_ai credential-less */
        log_min_level = LOG_ALERT;                  /* its "no credentials" error is expected */
        once = true;
    }
    arena_t arena = {0};
    cfg_deployment_t dep = {0};
    prov_ctx_t ctx = {.dep = &dep,
                      .prov = prov_find(STR_LIT("gemini")),
                      .model = STR_LIT("gemini-2.0-flash"),
                      .api_key = "fuzz-key",
                      .stream = data[0] & 1,
                      .drop_params = data[1] & 1,
                      .arena = &arena};

    check_answer(&ctx, p, n);

    buf_t whole = {0}, split = {0};
    int rc_whole = run_stream(&ctx, p, n, NULL, 0, &whole);
    size_t cuts[] = {a, b};
    int rc_split = run_stream(&ctx, p, n, cuts, 2, &split);
    FUZZ_CHECK(rc_split == rc_whole);
    FUZZ_CHECK(same(&whole, &split));
    if (n <= 256) {
        buf_t bytes = {0};
        size_t each[256];
        for (size_t i = 0; i < n; i++)
            each[i] = i + 1;
        int rc_bytes = run_stream(&ctx, p, n, each, n ? n - 1 : 0, &bytes);
        FUZZ_CHECK(rc_bytes == rc_whole);
        FUZZ_CHECK(same(&whole, &bytes));
        buf_free(&bytes);
    }
    buf_free(&whole);
    buf_free(&split);

    /* vertex_ai here has no credentials: its requests fail cleanly (no thread is started) */
    check_requests(&ctx, p, n);
    arena_reset(&arena);
    return 0;
}
