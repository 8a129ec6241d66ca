/* SPDX-License-Identifier: MIT
 * Fuzzes the bedrock adapter: chat_response / embed_response, the event-stream decoder with
 * fuzz-chosen splits, chat_request / embed_request, error_message (see fuzz_adapter.h). Two
 * flag bits of the mode byte add what is Bedrock's own: 0x20 rewrites the CRCs of the frames
 * in the input before a stream run, so mutations reach the event handling behind them; 0x10
 * builds requests with SigV4 credentials instead of a Bearer key, so signing runs too. */
#include "fuzz_adapter.h"
#include "providers/eventstream.h"

extern const prov_adapter_t prov_adapter_bedrock;

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void fix_crcs(uint8_t *p, size_t n)
{
    size_t at = 0;
    while (n - at >= EVS_PRELUDE_BYTES) {
        uint8_t *f = p + at;
        put_be32(f + 8, evs_crc32(0, f, 8));
        size_t total = (size_t)f[0] << 24 | (size_t)f[1] << 16 | (size_t)f[2] << 8 | f[3];
        if (total < EVS_MIN_MESSAGE || total > n - at)
            return;
        put_be32(f + total - 4, evs_crc32(0, f, total - 4));
        at += total;
    }
}

static void fuzz_signed_requests(const uint8_t *data, size_t size)
{
    cJSON *req = cJSON_ParseWithLength((const char *)data, size);
    if (!req)
        return;
    arena_t arena = {0};
    prov_ctx_t ctx = {
        .prov = prov_find(STR_LIT("bedrock")),
        .model = STR_LIT("anthropic.claude-3-5-sonnet-20240620-v1:0"),
        .api_base = "http://127.0.0.1:9/prefix",
        .stream = size & 1,
        .arena = &arena,
    };
    prov_http_t out = {0};
    prov_error_t err = {0};
    if (prov_adapter_bedrock.chat_request(&ctx, req, &out, &err) == 0) {
        fuzz_json_output(&out.body);
        bool signed_ = false;
        for (const char **l = out.headers; *l; l++)
            signed_ |= strncmp(*l, "Authorization: AWS4-HMAC-SHA256 Credential=", 43) == 0;
        FUZZ_CHECK(signed_);
    } else {
        FUZZ_CHECK(err.status >= 400 && err.message[0]);
    }
    buf_free(&out.body);
    out = (prov_http_t){0};
    ctx.model = STR_LIT("cohere.embed-english-v3");
    if (prov_adapter_bedrock.embed_request(&ctx, req, &out, &err) == 0)
        fuzz_json_output(&out.body);
    buf_free(&out.body);
    cJSON_Delete(req);
    arena_reset(&arena);
    arena_thread_cleanup();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int env_set;
    if (!env_set) {
        setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
        env_set = 1;
    }
    if (size < 5)
        return 0;
    if ((data[0] & 3) == 2 && (data[0] & 0x10)) {
        fuzz_signed_requests(data + 5, size - 5);
        return 0;
    }
    if ((data[0] & 3) == 1 && (data[0] & 0x20)) {
        uint8_t *copy = malloc(size);
        FUZZ_CHECK(copy);
        memcpy(copy, data, size);
        fix_crcs(copy + 5, size - 5);
        fuzz_adapter_run(&prov_adapter_bedrock, &prov_adapter_bedrock, "bedrock", copy, size);
        free(copy);
        return 0;
    }
    return fuzz_adapter_run(&prov_adapter_bedrock, &prov_adapter_bedrock, "bedrock", data, size);
}
