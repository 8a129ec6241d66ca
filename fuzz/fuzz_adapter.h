/* SPDX-License-Identifier: MIT
 * The body of the provider-adapter fuzz targets (fuzz_cohere.c, fuzz_ollama.c): the first
 * byte picks what is fuzzed, the next four are two split points, the rest is the input.
 *   mode 0: chat_response and embed_response on the bytes (output, when accepted, is JSON)
 *   mode 1: the stream decoder fed whole and cut at the two points: same chunks, same result,
 *           every chunk a JSON object
 *   mode 2: chat_request and embed_request on the bytes as a JSON request (body, when built,
 *           is JSON; the request is not modified)
 *   mode 3: error_message
 * Bit 7 of the mode byte picks the target's second adapter; bit 6 sets ctx.stream. */
#ifndef SLUICE_FUZZ_ADAPTER_H
#define SLUICE_FUZZ_ADAPTER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/adapter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz adapter: check failed at line %d: %s\n", __LINE__, #cond);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct {
    buf_t log; /* each chunk, length-prefixed */
} fuzz_chunks_t;

/* Drops minted tool-call ids ("call_..."), which differ per run. */
static void fuzz_strip_call_ids(cJSON *j)
{
    for (cJSON *c = j ? j->child : NULL; c;) {
        cJSON *next = c->next;
        if (c->string && strcmp(c->string, "id") == 0 && cJSON_IsString(c) &&
            strncmp(c->valuestring, "call_", 5) == 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(j, c));
        else
            fuzz_strip_call_ids(c);
        c = next;
    }
}

static int fuzz_collect(void *arg, str_t chunk)
{
    fuzz_chunks_t *c = arg;
    cJSON *j = cJSON_ParseWithLength(chunk.p, chunk.n);
    FUZZ_CHECK(cJSON_IsObject(j));
    FUZZ_CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "choices")));
    /* ids and times are per stream: compare the choices and usage only */
    cJSON_DeleteItemFromObjectCaseSensitive(j, "id");
    cJSON_DeleteItemFromObjectCaseSensitive(j, "created");
    fuzz_strip_call_ids(j);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    FUZZ_CHECK(text);
    buf_printf(&c->log, "%zu:%s", strlen(text), text);
    free(text);
    return 0;
}

static int fuzz_stream(const prov_adapter_t *ad, const prov_ctx_t *ctx, const char *p, size_t n,
                       size_t a, size_t b, fuzz_chunks_t *out)
{
    prov_stream_t *s = ad->stream_new(ctx);
    FUZZ_CHECK(s);
    size_t cuts[3] = {a, b, n};
    size_t at = 0;
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        rc = ad->stream_feed(s, p + at, cuts[i] - at, fuzz_collect, out);
        at = cuts[i];
    }
    if (rc == 0)
        rc = ad->stream_end(s, fuzz_collect, out);
    ad->stream_free(s);
    FUZZ_CHECK(rc == 0 || rc == -1);
    return rc;
}

static void fuzz_json_output(const buf_t *b)
{
    cJSON *j = cJSON_ParseWithLength(b->p ? b->p : "", b->n);
    FUZZ_CHECK(cJSON_IsObject(j));
    cJSON_Delete(j);
}

static int fuzz_adapter_run(const prov_adapter_t *first, const prov_adapter_t *second,
                            const char *provider, const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    const prov_adapter_t *ad = (data[0] & 0x80) ? second : first;
    int mode = data[0] & 3;
    const char *p = (const char *)data + 5;
    size_t n = size - 5;
    size_t a = ((size_t)data[1] << 8 | data[2]) % (n + 1);
    size_t b = ((size_t)data[3] << 8 | data[4]) % (n + 1);
    if (a > b) {
        size_t t = a;
        a = b;
        b = t;
    }
    arena_t arena = {0};
    prov_ctx_t ctx = {
        .prov = prov_find(str_cstr(provider)),
        .model = STR_LIT("fuzz-model"),
        .api_base = "http://127.0.0.1:9",
        .api_key = "fuzz-key",
        .stream = (data[0] & 0x40) != 0,
        .arena = &arena,
    };
    prov_error_t err = {0};
    if (mode == 0) {
        buf_t out = {0};
        if (ad->chat_response(&ctx, str_make(p, n), &out, &err) == 0)
            fuzz_json_output(&out);
        else
            FUZZ_CHECK(err.status >= 400 && err.message[0]);
        out.n = 0;
        if (ad->embed_response && ad->embed_response(&ctx, str_make(p, n), &out, &err) == 0)
            fuzz_json_output(&out);
        buf_free(&out);
    } else if (mode == 1) {
        fuzz_chunks_t whole = {0}, split = {0};
        int rc_whole = fuzz_stream(ad, &ctx, p, n, n, n, &whole);
        int rc_split = fuzz_stream(ad, &ctx, p, n, a, b, &split);
        FUZZ_CHECK(rc_whole == rc_split);
        FUZZ_CHECK(whole.log.n == split.log.n &&
                   (whole.log.n == 0 || memcmp(whole.log.p, split.log.p, whole.log.n) == 0));
        buf_free(&whole.log);
        buf_free(&split.log);
    } else if (mode == 2) {
        cJSON *req = cJSON_ParseWithLength(p, n);
        if (req) {
            char *before = cJSON_PrintUnformatted(req);
            prov_http_t out = {0};
            if (ad->chat_request(&ctx, req, &out, &err) == 0) {
                fuzz_json_output(&out.body);
                FUZZ_CHECK(out.url && out.headers);
            } else {
                FUZZ_CHECK(err.status >= 400 && err.message[0]);
            }
            buf_free(&out.body);
            out = (prov_http_t){0};
            if (ad->embed_request && ad->embed_request(&ctx, req, &out, &err) == 0)
                fuzz_json_output(&out.body);
            buf_free(&out.body);
            char *after = cJSON_PrintUnformatted(req);
            FUZZ_CHECK(before && after && strcmp(before, after) == 0);
            free(before);
            free(after);
            cJSON_Delete(req);
        }
    } else if (ad->error_message) {
        buf_t out = {0};
        ad->error_message(400, str_make(p, n), &out);
        buf_free(&out);
    }
    arena_reset(&arena);
    arena_thread_cleanup();
    return 0;
}

#endif
