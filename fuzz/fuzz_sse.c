/* SPDX-License-Identifier: MIT
 * Fuzzes the SSE parser: the stream fed whole, split at two fuzz-chosen points, and (when short)
 * byte by byte must give the same events and the same result; events written back with the
 * writer must parse to the same types and data. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_sse: check failed at line %d: %s\n", __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct {
    buf_t log;     /* every event, length-prefixed so no content can fake a boundary */
    buf_t rewrite; /* the events framed again by the writer, when set */
    bool meta;     /* log id and retry too */
    bool write;
} rec_t;

static void log_str(buf_t *b, str_t s)
{
    FUZZ_CHECK(buf_printf(b, "%zu:", s.n) == 0 && buf_append_str(b, s) == 0);
}

static int record(void *arg, const sse_event_t *ev)
{
    rec_t *r = arg;
    FUZZ_CHECK(ev->event.n > 0);
    FUZZ_CHECK(!memchr(ev->event.p, '\n', ev->event.n) && !memchr(ev->event.p, '\r', ev->event.n));
    FUZZ_CHECK(ev->data.n == 0 || !memchr(ev->data.p, '\r', ev->data.n));
    log_str(&r->log, ev->event);
    log_str(&r->log, ev->data);
    if (r->meta) {
        log_str(&r->log, ev->id);
        FUZZ_CHECK(buf_printf(&r->log, "%lld;", ev->retry) == 0);
    }
    if (r->write)
        FUZZ_CHECK(sse_append_event(&r->rewrite, ev->event, ev->data) == 0);
    return 0;
}

/* Feeds the pieces in order, stopping at the first failure; returns that result. */
static int feed_pieces(size_t max_event, const char *p, const size_t *cuts, size_t ncuts, rec_t *r)
{
    sse_parser_t sp;
    sse_parser_init(&sp, max_event);
    int rc = 0;
    size_t at = 0;
    for (size_t i = 0; i <= ncuts && rc == 0; i++) {
        size_t to = cuts[i];
        rc = sse_feed(&sp, p + at, to - at, record, r);
        at = to;
    }
    sse_parser_free(&sp);
    return rc;
}

static bool same_log(const rec_t *a, const rec_t *b)
{
    return a->log.n == b->log.n && (a->log.n == 0 || memcmp(a->log.p, b->log.p, a->log.n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    /* header: a small cap or the default, then two split points */
    size_t max_event = (data[0] & 1) ? 64 + data[0] : 0;
    size_t a = (size_t)data[1] << 8 | data[2], b = (size_t)data[3] << 8 | data[4];
    const char *p = (const char *)data + 5;
    size_t n = size - 5;
    a %= n + 1;
    b %= n + 1;
    if (a > b) {
        size_t t = a;
        a = b;
        b = t;
    }

    rec_t whole = {.meta = true, .write = true}, split = {.meta = true};
    size_t one_cut[] = {n};
    int rc_whole = feed_pieces(max_event, p, one_cut, 0, &whole);
    FUZZ_CHECK(rc_whole == 0 || rc_whole == -1);
    size_t cuts[] = {a, b, n};
    int rc_split = feed_pieces(max_event, p, cuts, 2, &split);
    FUZZ_CHECK(rc_split == rc_whole);
    FUZZ_CHECK(same_log(&whole, &split));

    if (n <= 512) {
        rec_t bytes = {.meta = true};
        size_t *each = malloc((n + 1) * sizeof(size_t));
        FUZZ_CHECK(each);
        for (size_t i = 0; i <= n; i++)
            each[i] = i;
        int rc_bytes = feed_pieces(max_event, p, each, n, &bytes);
        FUZZ_CHECK(rc_bytes == rc_whole);
        FUZZ_CHECK(same_log(&whole, &bytes));
        free(each);
        buf_free(&bytes.log);
    }

    /* the writer's framing reads back as the same events (type and data) */
    rec_t again = {0}, replay = {0};
    size_t all[] = {whole.rewrite.n};
    FUZZ_CHECK(feed_pieces(0, whole.rewrite.p ? whole.rewrite.p : "", all, 0, &again) == 0);
    FUZZ_CHECK(feed_pieces(max_event, p, one_cut, 0, &replay) == rc_whole);
    FUZZ_CHECK(same_log(&again, &replay));

    buf_free(&whole.log);
    buf_free(&whole.rewrite);
    buf_free(&split.log);
    buf_free(&again.log);
    buf_free(&replay.log);
    return 0;
}
