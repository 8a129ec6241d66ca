/* SPDX-License-Identifier: MIT
 * Fuzzes the AWS event-stream decoder: the input fed whole, split at two fuzz-chosen points, and
 * (when short) byte by byte must give the same messages and the same result; every message it
 * yields, encoded again, must decode to the same thing. A small size limit exercises the
 * oversize path too; in some runs the CRCs are fixed up first so the header parser is reached. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/eventstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_eventstream: check failed at line %d: %s\n", __LINE__, #cond);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct {
    buf_t log;     /* every message, length-prefixed pieces */
    buf_t rewrite; /* the messages encoded again, when set */
    int write;
} rec_t;

static void log_str(buf_t *b, str_t s)
{
    FUZZ_CHECK(buf_printf(b, "%zu:", s.n) == 0 && buf_append_str(b, s) == 0);
}

static int record(void *arg, const evs_message_t *m)
{
    rec_t *r = arg;
    FUZZ_CHECK(m->num_headers <= EVS_MAX_HEADERS);
    for (size_t i = 0; i < m->num_headers; i++) {
        const evs_header_t *h = &m->headers[i];
        FUZZ_CHECK(h->name.n > 0 && h->name.n <= 255 && (unsigned)h->type <= EVS_UUID);
        log_str(&r->log, h->name);
        FUZZ_CHECK(buf_printf(&r->log, "%d:%lld;", (int)h->type, (long long)h->num) == 0);
        log_str(&r->log, h->value);
    }
    log_str(&r->log, m->payload);
    if (r->write)
        FUZZ_CHECK(evs_encode(&r->rewrite, m->headers, m->num_headers, m->payload) == 0);
    return 0;
}

/* Same bytes (either may be empty with a NULL pointer). */
static int same(const buf_t *a, const char *p, size_t n)
{
    return a->n == n && (n == 0 || memcmp(a->p, p, n) == 0);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Rewrites both CRCs of every frame so that mutations reach what lies behind them. */
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

static int run(const uint8_t *p, size_t n, const size_t *cuts, size_t ncuts, size_t max, rec_t *r)
{
    evs_decoder_t d;
    evs_decoder_init(&d, max);
    size_t at = 0;
    int rc = 0;
    for (size_t i = 0; i <= ncuts && rc == 0 && p; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        rc = evs_feed(&d, (const char *)p + at, end - at, record, r);
        at = end;
    }
    if (rc == 0)
        rc = evs_finish(&d);
    evs_decoder_free(&d);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t max = data[0] & 1 ? 256 : 0; /* sometimes a tight size limit */
    size_t c1 = data[1] % (size - 1), c2 = data[2] % (size - 1);
    size_t n = size - 3;
    uint8_t *p = malloc(n ? n : 1);
    FUZZ_CHECK(p);
    if (n)
        memcpy(p, data + 3, n);
    if (data[0] & 2)
        fix_crcs(p, n);
    if (c1 > n)
        c1 = n;
    if (c2 > n)
        c2 = n;
    if (c1 > c2) {
        size_t t = c1;
        c1 = c2;
        c2 = t;
    }

    rec_t whole = {.write = 1}, split = {0};
    int rc_whole = run(p, n, NULL, 0, max, &whole);
    size_t cuts[2] = {c1, c2};
    int rc_split = run(p, n, cuts, 2, max, &split);
    FUZZ_CHECK(rc_whole == rc_split);
    FUZZ_CHECK(same(&whole.log, split.log.p, split.log.n));

    if (n <= 512) {
        size_t one[512];
        for (size_t i = 0; i < n; i++)
            one[i] = i;
        rec_t bytes = {0};
        int rc_bytes = run(p, n, one, n, max, &bytes);
        FUZZ_CHECK(rc_bytes == rc_whole);
        FUZZ_CHECK(same(&bytes.log, whole.log.p, whole.log.n));
        buf_free(&bytes.log);
    }

    /* what was decoded encodes to frames that decode the same */
    rec_t again = {0};
    FUZZ_CHECK(run((const uint8_t *)whole.rewrite.p, whole.rewrite.n, NULL, 0, 0, &again) == 0);
    FUZZ_CHECK(same(&again.log, whole.log.p, whole.log.n));
    if (rc_whole == 0 && max == 0)
        FUZZ_CHECK(same(&whole.rewrite, (const char *)p, n));

    buf_free(&whole.log);
    buf_free(&whole.rewrite);
    buf_free(&split.log);
    buf_free(&again.log);
    free(p);
    return 0;
}
