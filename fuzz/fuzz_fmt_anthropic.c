/* SPDX-License-Identifier: MIT
 * Fuzzes the Anthropic client format. The input is tried as a Messages request (to_chat and
 * count_tokens), as a chat.completion (from_chat), and, split on newlines, as a stream of chunks
 * whose first line is also the client request. Beyond no crash and no leak: failures say why,
 * answers are JSON, and the stream is well-formed named events with balanced blocks. */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fmt_anthropic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_fmt_anthropic: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const api_format_t *F = &api_format_anthropic;

static void check_request(const cJSON *doc)
{
    cJSON *chat = NULL;
    prov_error_t err;
    memset(&err, 0, sizeof err);
    if (F->to_chat(doc, &chat, &err) != 0) {
        FUZZ_CHECK(chat == NULL);
        FUZZ_CHECK(err.status == 400 || err.status == 500);
        FUZZ_CHECK(err.message[0] != 0);
        return;
    }
    FUZZ_CHECK(cJSON_IsObject(chat));
    FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItem(chat, "model")));
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(chat, "messages"))
    {
        FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItem(m, "role")));
    }
    char *text = cJSON_PrintUnformatted(chat);
    cJSON *again = text ? cJSON_Parse(text) : NULL;
    FUZZ_CHECK(again != NULL);
    cJSON_Delete(again);
    free(text);
    cJSON_Delete(chat);
}

static void check_response(const cJSON *doc)
{
    buf_t out = {0};
    if (F->from_chat(doc, doc, STR_LIT("fuzz-model"), &out) == 0) {
        cJSON *msg = cJSON_ParseWithLength(out.p, out.n);
        FUZZ_CHECK(cJSON_IsObject(msg));
        FUZZ_CHECK(cJSON_IsArray(cJSON_GetObjectItem(msg, "content")));
        cJSON_Delete(msg);
    } else {
        FUZZ_CHECK(out.n == 0);
    }
    buf_free(&out);
    long long tokens = -1;
    if (api_anthropic_count_tokens(doc, &tokens) == 0)
        FUZZ_CHECK(tokens >= 0);
}

/* Walks "event: T\ndata: J\n\n" events: J is JSON of type T; blocks open and close in pairs;
 * a stream that ended normally ends with message_stop, one that failed with error. */
static void check_events(const char *p, size_t n, bool failed)
{
    const char *end = p + n;
    int starts = 0, stops = 0, message_starts = 0;
    char last[32] = "";
    while (p < end) {
        FUZZ_CHECK((size_t)(end - p) > 7 && memcmp(p, "event: ", 7) == 0);
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        FUZZ_CHECK(nl && nl - p - 7 < (long)sizeof last);
        snprintf(last, sizeof last, "%.*s", (int)(nl - p - 7), p + 7);
        FUZZ_CHECK((size_t)(end - nl) > 6 && memcmp(nl + 1, "data: ", 6) == 0);
        const char *d = nl + 7, *stop = d;
        while (stop + 1 < end && !(stop[0] == '\n' && stop[1] == '\n'))
            stop++;
        FUZZ_CHECK(stop + 1 < end);
        cJSON *json = cJSON_ParseWithLength(d, (size_t)(stop - d));
        FUZZ_CHECK(json != NULL);
        const cJSON *type = cJSON_GetObjectItem(json, "type");
        FUZZ_CHECK(cJSON_IsString(type) && strcmp(type->valuestring, last) == 0);
        cJSON_Delete(json);
        starts += strcmp(last, "content_block_start") == 0;
        stops += strcmp(last, "content_block_stop") == 0;
        message_starts += strcmp(last, "message_start") == 0;
        p = stop + 2;
    }
    FUZZ_CHECK(message_starts <= 1);
    if (failed) {
        FUZZ_CHECK(strcmp(last, "error") == 0);
    } else if (strcmp(last, "error") != 0) { /* an error chunk may end a stream early */
        FUZZ_CHECK(message_starts == 1 && starts == stops && strcmp(last, "message_stop") == 0);
    }
}

static void check_stream(const cJSON *client_req, const uint8_t *data, size_t size)
{
    api_stream_enc_t *e = F->stream_new(client_req, STR_NULL);
    if (!e)
        return;
    buf_t out = {0};
    size_t i = 0;
    while (i < size) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t len = nl ? (size_t)(nl - (data + i)) : size - i;
        cJSON *chunk = cJSON_ParseWithLength((const char *)data + i, len);
        if (chunk) {
            size_t before = out.n;
            if (F->stream_chunk(e, chunk, &out) != 0)
                FUZZ_CHECK(out.n == before);
            cJSON_Delete(chunk);
        }
        i += len + 1;
    }
    /* end normally, or fail the stream when the input's last byte is odd */
    bool fail = size > 0 && (data[size - 1] & 1);
    if (fail)
        F->stream_error(e, 500 + data[0] % 40, "fuzz failure", &out);
    else
        FUZZ_CHECK(F->stream_end(e, &out) == 0);
    check_events(out.p, out.n, fail);
    F->stream_free(e);
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
    check_request(doc);
    check_response(doc);
    check_stream(doc, data, size);
    cJSON_Delete(doc);
    return 0;
}
