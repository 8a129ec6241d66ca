/* SPDX-License-Identifier: MIT
 * Fuzzes the anthropic adapter: the bytes as an Anthropic answer (chat_response), as an SSE stream
 * fed whole and split at two input-chosen points (the chunks, ids and times aside, must agree),
 * as an error body, and, when they parse as a JSON object, as an OpenAI request (chat_request,
 * with drop_params off and on). Nothing may crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "providers/adapter.h"

extern const prov_adapter_t prov_adapter_anthropic;

/* The chunks of one stream, without id and created (random and clock-bound), as one text. */
typedef struct {
    buf_t text;
} fuzz_chunks_t;

static int fuzz_collect(void *arg, str_t chunk_json)
{
    fuzz_chunks_t *c = arg;
    cJSON *chunk = cJSON_ParseWithLength(chunk_json.p, chunk_json.n);
    if (!cJSON_IsObject(chunk))
        abort(); /* an adapter must emit JSON objects */
    cJSON_DeleteItemFromObjectCaseSensitive(chunk, "id");
    cJSON_DeleteItemFromObjectCaseSensitive(chunk, "created");
    char *text = cJSON_PrintUnformatted(chunk);
    if (text) {
        buf_append_cstr(&c->text, text);
        buf_append(&c->text, "\n", 1);
    }
    free(text);
    cJSON_Delete(chunk);
    return 0;
}

/* Feeds data in up to three pieces; returns the feed result (first failure) or stream_end's. */
static int fuzz_stream(const prov_ctx_t *ctx, const char *p, size_t n, size_t cut1, size_t cut2,
                       fuzz_chunks_t *out)
{
    const prov_adapter_t *a = &prov_adapter_anthropic;
    prov_stream_t *s = a->stream_new(ctx);
    if (!s)
        return -2;
    size_t cuts[3] = {cut1, cut2, n};
    size_t at = 0;
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        rc = a->stream_feed(s, p + at, cuts[i] - at, fuzz_collect, out);
        at = cuts[i];
    }
    if (rc == 0)
        rc = a->stream_end(s, fuzz_collect, out) == 0 ? 0 : 1;
    a->stream_free(s);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const prov_adapter_t *a = &prov_adapter_anthropic;
    const char *p = (const char *)data;
    arena_t arena = {0};
    cfg_kv_t extra[] = {{"anthropic-beta", "fuzz-2025-01-01"}};
    cfg_deployment_t dep = {.extra_headers = extra, .num_extra_headers = 1};
    prov_ctx_t ctx = {
        .dep = &dep,
        .prov = prov_find(STR_LIT("anthropic")),
        .model = STR_LIT("claude-fuzz"),
        .api_base = "http://127.0.0.1:9",
        .api_key = "sk-ant-fuzz",
        .stream = size && (data[0] & 1),
        .arena = &arena,
    };

    /* a whole answer */
    buf_t out = {0};
    prov_error_t err = {0};
    int rc = a->chat_response(&ctx, str_make(p, size), &out, &err);
    if (rc == 0) {
        cJSON *doc = cJSON_ParseWithLength(out.p, out.n);
        if (!cJSON_IsObject(doc))
            abort();
        cJSON_Delete(doc);
    } else if (rc != -1 || err.status < 400) {
        abort();
    }
    buf_free(&out);

    /* an error body */
    a->error_message(500, str_make(p, size), &out);
    buf_free(&out);

    /* a stream, whole and in three pieces: the same chunks and the same verdict */
    size_t cut1 = size ? data[0] % (size + 1) : 0;
    size_t cut2 = size ? data[size - 1] % (size + 1) : 0;
    if (cut2 < cut1) {
        size_t t = cut1;
        cut1 = cut2;
        cut2 = t;
    }
    fuzz_chunks_t whole = {{0}}, split = {{0}};
    int whole_rc = fuzz_stream(&ctx, p, size, size, size, &whole);
    int split_rc = fuzz_stream(&ctx, p, size, cut1, cut2, &split);
    if (whole_rc != split_rc || whole.text.n != split.text.n ||
        (whole.text.n && memcmp(whole.text.p, split.text.p, whole.text.n) != 0))
        abort();
    buf_free(&whole.text);
    buf_free(&split.text);

    /* an OpenAI request */
    cJSON *req = cJSON_ParseWithLength(p, size);
    if (cJSON_IsObject(req)) {
        for (int drop = 0; drop < 2; drop++) {
            ctx.drop_params = drop;
            prov_http_t http = {0};
            err = (prov_error_t){0};
            rc = a->chat_request(&ctx, req, &http, &err);
            if (rc == 0) {
                cJSON *body = cJSON_ParseWithLength(http.body.p, http.body.n);
                if (!cJSON_IsObject(body) || !http.url || !http.headers || !http.headers[0])
                    abort();
                cJSON_Delete(body);
            } else if (rc != -1 || err.status < 400 || http.body.n) {
                abort();
            }
            buf_free(&http.body);
        }
    }
    cJSON_Delete(req);
    arena_reset(&arena);
    return 0;
}
