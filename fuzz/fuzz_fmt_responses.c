/* SPDX-License-Identifier: MIT
 * Fuzzes the Responses client format. The first byte chooses options; the rest is used twice:
 * as one JSON document, converted with to_chat (a chat request with messages, or a 400/500
 * with a message) and with from_chat (a Response object that parses back); and as lines, the
 * first the client's request and each later one a chat chunk, run through the stream encoder,
 * whose output must be well-framed events with counting sequence numbers, response.created
 * first and exactly one final event last. */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_fmt_responses: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const api_format_t *F = &api_format_responses;

static bool is_final(const char *type)
{
    return strcmp(type, "response.completed") == 0 || strcmp(type, "response.incomplete") == 0 ||
           strcmp(type, "response.failed") == 0;
}

/* Checks a whole stream's bytes: `event: T\ndata: {"type":"T","sequence_number":N,...}\n\n`. */
static void check_events(const char *p, size_t n, bool ended)
{
    long seq = 0;
    bool final_seen = false;
    const char *end = p + n;
    while (p < end) {
        FUZZ_CHECK(!final_seen);
        FUZZ_CHECK((size_t)(end - p) > 7 && memcmp(p, "event: ", 7) == 0);
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        FUZZ_CHECK(nl && end - nl > 7 && memcmp(nl + 1, "data: ", 6) == 0);
        const char *dnl = memchr(nl + 1, '\n', (size_t)(end - nl - 1));
        FUZZ_CHECK(dnl && dnl + 1 < end && dnl[1] == '\n');
        char type[64];
        size_t tn = (size_t)(nl - p - 7);
        FUZZ_CHECK(tn > 0 && tn < sizeof type);
        memcpy(type, p + 7, tn);
        type[tn] = 0;
        cJSON *ev = cJSON_ParseWithLength(nl + 7, (size_t)(dnl - nl - 7));
        FUZZ_CHECK(ev);
        FUZZ_CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "type")), type) == 0);
        FUZZ_CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "sequence_number")) == (double)seq);
        FUZZ_CHECK(seq != 0 || strcmp(type, "response.created") == 0);
        if (is_final(type)) {
            cJSON *resp = cJSON_GetObjectItem(ev, "response");
            FUZZ_CHECK(cJSON_IsArray(cJSON_GetObjectItem(resp, "output")));
            final_seen = true;
        }
        cJSON_Delete(ev);
        seq++;
        p = dnl + 2;
    }
    FUZZ_CHECK(final_seen == ended);
}

static void fuzz_request(const cJSON *doc)
{
    cJSON *chat = (cJSON *)doc; /* to_chat must reset it on failure */
    prov_error_t err = {0};
    int rc = F->to_chat(doc, &chat, &err);
    if (rc == 0) {
        FUZZ_CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(chat, "messages")) > 0);
        char *text = cJSON_PrintUnformatted(chat);
        FUZZ_CHECK(text);
        free(text);
        cJSON_Delete(chat);
    } else {
        FUZZ_CHECK(rc == -1 && chat == NULL);
        FUZZ_CHECK(err.status == 400 || err.status == 500);
        FUZZ_CHECK(err.message[0]);
    }
}

static void fuzz_answer(const cJSON *doc, const char *model)
{
    buf_t out = {0};
    if (F->from_chat(doc, doc, str_cstr(model), &out) == 0) {
        cJSON *resp = cJSON_ParseWithLength(out.p, out.n);
        FUZZ_CHECK(resp);
        FUZZ_CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(resp, "object")), "response") ==
                   0);
        cJSON_Delete(resp);
    }
    buf_free(&out);
}

static void fuzz_stream(const char *p, size_t n, uint8_t flags, const char *model)
{
    const char *end = p + n, *nl = memchr(p, '\n', n);
    cJSON *req = cJSON_ParseWithLength(p, nl ? (size_t)(nl - p) : n);
    api_stream_enc_t *e = F->stream_new(req, str_cstr(model));
    cJSON_Delete(req); /* the encoder keeps its own copy */
    FUZZ_CHECK(e);
    buf_t out = {0};
    bool broken = false;
    for (const char *line = nl ? nl + 1 : end; line < end;) {
        const char *next = memchr(line, '\n', (size_t)(end - line));
        size_t len = next ? (size_t)(next - line) : (size_t)(end - line);
        cJSON *chunk = cJSON_ParseWithLength(line, len);
        if (chunk && F->stream_chunk(e, chunk, &out) != 0)
            broken = true;
        cJSON_Delete(chunk);
        line += len + 1;
    }
    static const int statuses[] = {0, 400, 429, 500, 502};
    int status = broken ? 502 : statuses[(flags >> 1) % 5];
    if (status)
        F->stream_error(e, status, (flags & 0x10) ? NULL : "fuzzed failure", &out);
    else
        FUZZ_CHECK(F->stream_end(e, &out) == 0);
    /* the stream is over: more calls add nothing */
    size_t done = out.n;
    FUZZ_CHECK(F->stream_end(e, &out) == 0);
    F->stream_error(e, 500, "again", &out);
    FUZZ_CHECK(out.n == done);
    F->stream_free(e);
    check_events(out.p ? out.p : "", out.n, true);
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    const char *model = (flags & 1) ? "" : "fuzz-model";

    cJSON *doc = cJSON_ParseWithLength(p, n);
    if (doc) {
        fuzz_request(doc);
        fuzz_answer(doc, model);
        cJSON_Delete(doc);
    }
    fuzz_stream(p, n, flags, model);

    buf_t body = {0};
    F->error_body(400 + flags, (flags & 0x20) ? NULL : "invalid_request_error",
                  (flags & 0x40) ? NULL : "fuzzed", &body);
    cJSON *err = cJSON_ParseWithLength(body.p, body.n);
    FUZZ_CHECK(err);
    cJSON_Delete(err);
    buf_free(&body);
    return 0;
}
