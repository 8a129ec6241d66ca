/* SPDX-License-Identifier: MIT
 * Fuzzes the request head parser and the chunked decoder: beyond memory errors, it checks that
 * a resumed parse equals a one-shot parse, and that a body decoded in pieces decodes the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static const char *fuzz_base;
static size_t fuzz_size;

/* Same slice, and inside the input: every slice must point into the caller's buffer. */
static void fuzz_same_slice(str_t a, str_t b)
{
    FUZZ_CHECK(a.n == b.n && a.p == b.p);
    FUZZ_CHECK(a.p >= fuzz_base && a.n <= fuzz_size &&
               a.p - fuzz_base <= (ptrdiff_t)(fuzz_size - a.n));
}

static void fuzz_same_head(const http_head_t *a, const http_head_t *b)
{
    fuzz_same_slice(a->method, b->method);
    fuzz_same_slice(a->target, b->target);
    fuzz_same_slice(a->path, b->path);
    fuzz_same_slice(a->query, b->query);
    FUZZ_CHECK(a->minor_version == b->minor_version);
    FUZZ_CHECK(a->num_headers == b->num_headers && a->num_headers <= HTTP_MAX_HEADERS);
    for (size_t i = 0; i < a->num_headers; i++) {
        fuzz_same_slice(a->headers[i].name, b->headers[i].name);
        fuzz_same_slice(a->headers[i].value, b->headers[i].value);
    }
    FUZZ_CHECK(a->content_length == b->content_length);
    FUZZ_CHECK(a->chunked == b->chunked && a->expect_continue == b->expect_continue);
    FUZZ_CHECK(a->keep_alive == b->keep_alive);
    FUZZ_CHECK(!(a->chunked && a->content_length >= 0));
}

/* Decodes body[0..n) in up to three pieces (cut at c1 <= c2), each copied to an exact-size heap
 * buffer as a fresh socket read would be; writes the decoded bytes followed by the bytes after
 * the body to out. Returns the decoder's verdict (>= 0 meaning done) and sets *decoded. */
static ssize_t fuzz_decode(const char *body, size_t n, size_t c1, size_t c2, char *out,
                           size_t *decoded, size_t *out_n)
{
    http_chunked_t d = {0};
    size_t cuts[3] = {c1, c2, n};
    size_t from = 0;
    ssize_t r = HTTP_PARSE_INCOMPLETE;
    *decoded = 0;
    *out_n = 0;
    for (int i = 0; i < 3 && r == HTTP_PARSE_INCOMPLETE; i++) {
        size_t len = cuts[i] - from;
        char *piece = malloc(len ? len : 1);
        FUZZ_CHECK(piece != NULL);
        memcpy(piece, body + from, len);
        size_t in = len;
        r = http_chunked_decode(&d, piece, &len);
        FUZZ_CHECK(len <= in);
        memcpy(out + *decoded, piece, len);
        *decoded += len;
        if (r >= 0) {
            FUZZ_CHECK((size_t)r <= in - len);
            /* leftover of this piece, then what the decoder was never given */
            memcpy(out + *decoded, piece + len, (size_t)r);
            memcpy(out + *decoded + r, body + cuts[i], n - cuts[i]);
            *out_n = *decoded + (size_t)r + (n - cuts[i]);
        } else {
            FUZZ_CHECK(r == HTTP_PARSE_INCOMPLETE || r == HTTP_PARSE_INVALID);
        }
        free(piece);
        from = cuts[i];
    }
    if (r < 0)
        *out_n = *decoded;
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    fuzz_base = buf;
    fuzz_size = size;
    static http_header_t whole_slots[HTTP_MAX_HEADERS], resumed_slots[HTTP_MAX_HEADERS];
    static http_head_t whole, resumed;
    whole.headers = whole_slots;
    resumed.headers = resumed_slots;

    int r = http_parse_request(buf, size, 0, &whole);
    FUZZ_CHECK(r == HTTP_PARSE_INCOMPLETE || r == HTTP_PARSE_INVALID ||
               r == HTTP_PARSE_TOO_MANY_HEADERS || (r > 0 && (size_t)r <= size));

    /* the same bytes arriving in two reads */
    size_t half = size / 2;
    int r2 = http_parse_request(buf, half, 0, &resumed);
    if (r2 == HTTP_PARSE_INCOMPLETE)
        r2 = http_parse_request(buf, size, half, &resumed);
    FUZZ_CHECK(r2 == r);
    if (r <= 0)
        return 0;
    fuzz_same_head(&whole, &resumed);

    /* whatever follows the head, as a chunked body split two different ways */
    const char *body = buf + r;
    size_t n = size - (size_t)r;
    char *out_a = malloc(n + 1), *out_b = malloc(n + 1);
    FUZZ_CHECK(out_a && out_b);
    size_t dec_a, dec_b, na, nb;
    size_t seed = n ? (unsigned char)body[0] : 0;
    ssize_t ra = fuzz_decode(body, n, n / 3, 2 * n / 3, out_a, &dec_a, &na);
    ssize_t rb = fuzz_decode(body, n, n ? seed % (n + 1) : 0, n, out_b, &dec_b, &nb);
    FUZZ_CHECK((ra >= 0) == (rb >= 0));
    if (ra < 0)
        FUZZ_CHECK(ra == rb);
    FUZZ_CHECK(dec_a == dec_b && na == nb && memcmp(out_a, out_b, na) == 0);
    FUZZ_CHECK(dec_a <= n);
    free(out_a);
    free(out_b);
    return 0;
}
