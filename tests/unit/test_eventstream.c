/* SPDX-License-Identifier: MIT
 * eventstream: the AWS event-stream framing. A worked example checked byte for byte, encode and
 * decode round trips with every header type, the same messages whatever the split (every byte
 * boundary, two cuts, byte by byte), both CRCs, the size bounds, malformed header blocks and a
 * stream cut inside a message. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "providers/eventstream.h"

/* Every message as one line: "name:type=value;...|payload\n" (values hex for bytes). */
typedef struct {
    buf_t log;
    int count;
    int stop_at; /* return 7 from this message (1-based); 0: never */
} rec_t;

static int record(void *arg, const evs_message_t *m)
{
    rec_t *r = arg;
    for (size_t i = 0; i < m->num_headers; i++) {
        const evs_header_t *h = &m->headers[i];
        buf_printf(&r->log, "%.*s:%d=", STR_FMT(h->name), (int)h->type);
        if (h->type == EVS_STRING)
            buf_append_str(&r->log, h->value);
        else if (h->type == EVS_BYTES || h->type == EVS_UUID)
            for (size_t k = 0; k < h->value.n; k++)
                buf_printf(&r->log, "%02x", (unsigned char)h->value.p[k]);
        else
            buf_printf(&r->log, "%lld", (long long)h->num);
        buf_append(&r->log, ";", 1);
    }
    buf_append(&r->log, "|", 1);
    buf_append_str(&r->log, m->payload);
    buf_append(&r->log, "\n", 1);
    r->count++;
    return r->count == r->stop_at ? 7 : 0;
}

static const char *log_of(rec_t *r)
{
    const char *s = buf_cstr(&r->log);
    return s ? s : "";
}

/* Three messages covering every header type, an empty payload and an empty header block. */
static void sample_stream(buf_t *out)
{
    static const char uuid[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, (char)0xff};
    evs_header_t all[] = {
        {.name = STR_LIT("t"), .type = EVS_TRUE, .num = 1},
        {.name = STR_LIT("f"), .type = EVS_FALSE},
        {.name = STR_LIT("b"), .type = EVS_BYTE, .num = -5},
        {.name = STR_LIT("s"), .type = EVS_SHORT, .num = -30000},
        {.name = STR_LIT("i"), .type = EVS_INT, .num = 2000000000},
        {.name = STR_LIT("l"), .type = EVS_LONG, .num = -9000000000000LL},
        {.name = STR_LIT("by"), .type = EVS_BYTES, .value = STR_LIT("\x00\x01\xfe")},
        {.name = STR_LIT("str"), .type = EVS_STRING, .value = STR_LIT("h\xc3\xa9llo")},
        {.name = STR_LIT("ts"), .type = EVS_TIMESTAMP, .num = 1700000000123LL},
        {.name = STR_LIT("u"), .type = EVS_UUID, .value = {uuid, 16}},
    };
    cr_assert_eq(evs_encode(out, all, sizeof all / sizeof all[0], STR_LIT("{\"a\":1}")), 0);
    cr_assert_eq(evs_encode_event(out, STR_LIT("messageStart"), STR_NULL), 0);
    cr_assert_eq(evs_encode(out, NULL, 0, STR_LIT("no headers")), 0);
}

static const char sample_log[] =
    "t:0=1;f:1=0;b:2=-5;s:3=-30000;i:4=2000000000;l:5=-9000000000000;by:6=0001fe;str:7="
    "h\xc3\xa9llo;"
    "ts:8=1700000000123;u:9=000102030405060708090a0b0c0d0eff;|{\"a\":1}\n"
    ":event-type:7=messageStart;:content-type:7=application/json;:message-type:7=event;|\n"
    "|no headers\n";

Test(eventstream, crc32_check_value)
{
    cr_expect_eq(evs_crc32(0, "123456789", 9), 0xCBF43926u);
    cr_expect_eq(evs_crc32(evs_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u, "continues");
    cr_expect_eq(evs_crc32(0, "", 0), 0u);
}

/* The worked example of reference/protocols.md: a Bedrock contentBlockDelta frame. */
Test(eventstream, bedrock_frame_bytes)
{
    buf_t b = {0};
    str_t payload = STR_LIT("{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"}}");
    cr_assert_eq(payload.n, 45);
    cr_assert_eq(evs_encode_event(&b, STR_LIT("contentBlockDelta"), payload), 0);
    cr_assert_eq(b.n, 148);
    const unsigned char *p = (const unsigned char *)b.p;
    static const unsigned char prelude[12] = {0x00, 0x00, 0x00, 0x94, 0x00, 0x00,
                                              0x00, 0x57, 0xb4, 0xab, 0x9a, 0xee};
    cr_expect_eq(memcmp(p, prelude, 12), 0);
    cr_expect_eq(memcmp(p + 12,
                        "\x0b:event-type\x07\x00\x11"
                        "contentBlockDelta",
                        32),
                 0);
    static const unsigned char crc[4] = {0x1f, 0x94, 0x46, 0x57};
    cr_expect_eq(memcmp(p + 144, crc, 4), 0);

    evs_decoder_t d;
    evs_decoder_init(&d, 0);
    rec_t r = {0};
    cr_expect_eq(evs_feed(&d, b.p, b.n, record, &r), 0);
    cr_expect_eq(evs_finish(&d), 0);
    cr_expect_str_eq(log_of(&r), ":event-type:7=contentBlockDelta;:content-type:7=application/json;"
                                 ":message-type:7=event;|{\"contentBlockIndex\":0,\"delta\":{"
                                 "\"text\":\"Hi\"}}\n");
    evs_decoder_t d2;
    evs_decoder_init(&d2, 0);
    cr_expect_eq(evs_feed(&d2, b.p, b.n, record, &r), 0);
    evs_decoder_free(&d2);
    evs_decoder_free(&d);
    buf_free(&r.log);
    buf_free(&b);
}

static const char *decode_split(const buf_t *in, size_t cut1, size_t cut2, int *rc)
{
    static rec_t r;
    buf_free(&r.log);
    memset(&r, 0, sizeof r);
    evs_decoder_t d;
    evs_decoder_init(&d, 0);
    *rc = evs_feed(&d, in->p, cut1, record, &r);
    if (*rc == 0)
        *rc = evs_feed(&d, in->p + cut1, cut2 - cut1, record, &r);
    if (*rc == 0)
        *rc = evs_feed(&d, in->p + cut2, in->n - cut2, record, &r);
    if (*rc == 0)
        *rc = evs_finish(&d);
    evs_decoder_free(&d);
    return log_of(&r);
}

Test(eventstream, round_trip_whole_and_split_at_every_byte)
{
    buf_t b = {0};
    sample_stream(&b);
    int rc;
    cr_expect_str_eq(decode_split(&b, 0, 0, &rc), sample_log);
    cr_expect_eq(rc, 0);
    for (size_t i = 0; i <= b.n; i++) {
        cr_assert_str_eq(decode_split(&b, i, i, &rc), sample_log, "split at %zu", i);
        cr_assert_eq(rc, 0);
    }
    /* two cuts, every pair at a stride, and every cut next to another */
    for (size_t i = 0; i <= b.n; i += 3)
        for (size_t j = i; j <= b.n; j += 5) {
            cr_assert_str_eq(decode_split(&b, i, j, &rc), sample_log, "cuts %zu %zu", i, j);
            cr_assert_eq(rc, 0);
        }
    for (size_t i = 0; i + 1 <= b.n; i++) {
        cr_assert_str_eq(decode_split(&b, i, i + 1, &rc), sample_log, "cuts %zu %zu", i, i + 1);
    }
    buf_free(&b);
}

Test(eventstream, byte_by_byte)
{
    buf_t b = {0};
    sample_stream(&b);
    rec_t r = {0};
    evs_decoder_t d;
    evs_decoder_init(&d, 0);
    for (size_t i = 0; i < b.n; i++)
        cr_assert_eq(evs_feed(&d, b.p + i, 1, record, &r), 0, "byte %zu", i);
    cr_expect_eq(evs_finish(&d), 0);
    cr_expect_str_eq(log_of(&r), sample_log);
    evs_decoder_free(&d);
    buf_free(&r.log);
    buf_free(&b);
}

/* Feeds `in` whole and byte by byte; both must fail with `want` and yield the same messages. */
static void expect_error(const buf_t *in, size_t max_message, int want, int want_count)
{
    for (int mode = 0; mode < 2; mode++) {
        rec_t r = {0};
        evs_decoder_t d;
        evs_decoder_init(&d, max_message);
        int rc = 0;
        if (mode == 0) {
            rc = evs_feed(&d, in->p, in->n, record, &r);
        } else {
            for (size_t i = 0; i < in->n && rc == 0; i++)
                rc = evs_feed(&d, in->p + i, 1, record, &r);
        }
        cr_expect_eq(rc, want, "mode %d: got %d (%s)", mode, rc, evs_strerror(rc));
        cr_expect_eq(r.count, want_count, "mode %d", mode);
        cr_expect_eq(evs_feed(&d, "x", 1, record, &r), want, "the error sticks");
        cr_expect_eq(evs_finish(&d), want);
        evs_decoder_free(&d);
        buf_free(&r.log);
    }
}

Test(eventstream, bad_prelude_crc)
{
    buf_t b = {0};
    sample_stream(&b);
    size_t first = (unsigned char)b.p[3] | (size_t)(unsigned char)b.p[2] << 8;
    b.p[first + 9] ^= 0x10; /* the second message's prelude CRC */
    expect_error(&b, 0, EVS_ERR_PRELUDE_CRC, 1);
    b.p[first + 9] ^= 0x10;
    b.p[first + 3] ^= 0x01; /* its length: the prelude CRC catches it before it is trusted */
    expect_error(&b, 0, EVS_ERR_PRELUDE_CRC, 1);
    buf_free(&b);
}

Test(eventstream, bad_message_crc)
{
    buf_t b = {0};
    sample_stream(&b);
    b.p[b.n - 3] ^= 0x40; /* a payload byte of the last message */
    expect_error(&b, 0, EVS_ERR_MESSAGE_CRC, 2);
    b.p[b.n - 3] ^= 0x40;
    b.p[b.n - 1] ^= 0x01; /* the CRC itself */
    expect_error(&b, 0, EVS_ERR_MESSAGE_CRC, 2);
    buf_free(&b);
}

/* A prelude with a valid CRC announcing the given lengths. */
static void put_prelude(buf_t *b, uint32_t total, uint32_t headers)
{
    unsigned char p[12] = {(unsigned char)(total >> 24),   (unsigned char)(total >> 16),
                           (unsigned char)(total >> 8),    (unsigned char)total,
                           (unsigned char)(headers >> 24), (unsigned char)(headers >> 16),
                           (unsigned char)(headers >> 8),  (unsigned char)headers};
    uint32_t crc = evs_crc32(0, p, 8);
    p[8] = (unsigned char)(crc >> 24);
    p[9] = (unsigned char)(crc >> 16);
    p[10] = (unsigned char)(crc >> 8);
    p[11] = (unsigned char)crc;
    buf_append(b, p, 12);
}

Test(eventstream, oversize_and_impossible_lengths)
{
    buf_t big = {0};
    char payload[2000];
    memset(payload, 'x', sizeof payload);
    cr_assert_eq(evs_encode_event(&big, STR_LIT("contentBlockDelta"), str_make(payload, 2000)), 0);
    expect_error(&big, 1024, EVS_ERR_TOO_LARGE, 0);
    /* refused as soon as the prelude is in, without waiting for (or buffering) the rest */
    evs_decoder_t d;
    evs_decoder_init(&d, 1024);
    rec_t r = {0};
    cr_expect_eq(evs_feed(&d, big.p, 11, record, &r), 0);
    cr_expect_eq(evs_feed(&d, big.p + 11, 1, record, &r), EVS_ERR_TOO_LARGE);
    evs_decoder_free(&d);
    buf_free(&big);

    buf_t b = {0};
    put_prelude(&b, 0xffffffffu, 0);
    expect_error(&b, 0, EVS_ERR_TOO_LARGE, 0);
    b.n = 0;
    put_prelude(&b, 300000, 200000); /* header block above 128 KiB */
    expect_error(&b, 0, EVS_ERR_TOO_LARGE, 0);
    b.n = 0;
    put_prelude(&b, 15, 0); /* shorter than the framing itself */
    expect_error(&b, 0, EVS_ERR_MALFORMED, 0);
    b.n = 0;
    put_prelude(&b, 20, 5); /* headers longer than the message leaves room for */
    expect_error(&b, 0, EVS_ERR_MALFORMED, 0);
    buf_free(&b);
}

/* A message with the given raw header block and valid CRCs. */
static void raw_message(buf_t *b, const char *headers, size_t hn)
{
    size_t start = b->n;
    put_prelude(b, (uint32_t)(16 + hn), (uint32_t)hn);
    buf_append(b, headers, hn);
    uint32_t crc = evs_crc32(0, b->p + start, b->n - start);
    unsigned char c[4] = {(unsigned char)(crc >> 24), (unsigned char)(crc >> 16),
                          (unsigned char)(crc >> 8), (unsigned char)crc};
    buf_append(b, c, 4);
}

Test(eventstream, malformed_header_blocks)
{
    static const struct {
        const char *h;
        size_t n;
    } bad[] = {
        {"\x00\x07\x00\x00", 4}, /* empty name */
        {"\x01"
         "a\x0a",
         3}, /* type 10 */
        {"\x01"
         "a\x07\x00\x05"
         "abc",
         8}, /* string longer than the block */
        {"\x01"
         "a\x04\x00\x00",
         5}, /* int32 cut short */
        {"\x05"
         "ab",
         3}, /* name longer than the block */
        {"\x01"
         "a",
         2}, /* no type */
        {"\x01"
         "a\x09"
         "0123456789abcde",
         18}, /* uuid of 15 bytes */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        buf_t b = {0};
        raw_message(&b, bad[i].h, bad[i].n);
        expect_error(&b, 0, EVS_ERR_MALFORMED, 0);
        buf_free(&b);
    }
    /* more headers than a message keeps */
    buf_t many = {0}, b = {0};
    for (int i = 0; i < EVS_MAX_HEADERS + 1; i++)
        buf_append(&many, "\x01h\x00", 3);
    raw_message(&b, many.p, many.n);
    expect_error(&b, 0, EVS_ERR_MALFORMED, 0);
    buf_free(&b);
    buf_free(&many);
}

Test(eventstream, truncated_stream)
{
    buf_t b = {0};
    sample_stream(&b);
    for (size_t cut = 1; cut < 20; cut++) {
        evs_decoder_t d;
        evs_decoder_init(&d, 0);
        rec_t r = {0};
        cr_assert_eq(evs_feed(&d, b.p, b.n - cut, record, &r), 0);
        cr_expect_eq(r.count, 2);
        cr_expect_eq(evs_finish(&d), EVS_ERR_TRUNCATED);
        evs_decoder_free(&d);
        buf_free(&r.log);
    }
    buf_free(&b);
}

Test(eventstream, callback_stops_the_feed)
{
    buf_t b = {0};
    sample_stream(&b);
    evs_decoder_t d;
    evs_decoder_init(&d, 0);
    rec_t r = {.stop_at = 2};
    cr_expect_eq(evs_feed(&d, b.p, b.n, record, &r), 7);
    cr_expect_eq(r.count, 2);
    evs_decoder_free(&d);
    buf_free(&r.log);
    buf_free(&b);
}

Test(eventstream, encoder_refuses_what_it_cannot_frame)
{
    buf_t b = {0};
    char name[256];
    memset(name, 'n', sizeof name);
    evs_header_t h = {.name = {name, 256}, .type = EVS_TRUE};
    cr_expect_eq(evs_encode(&b, &h, 1, STR_NULL), EVS_ERR_MALFORMED);
    h = (evs_header_t){.name = STR_LIT("u"), .type = EVS_UUID, .value = STR_LIT("short")};
    cr_expect_eq(evs_encode(&b, &h, 1, STR_NULL), EVS_ERR_MALFORMED);
    h = (evs_header_t){.name = STR_LIT(""), .type = EVS_TRUE};
    cr_expect_eq(evs_encode(&b, &h, 1, STR_NULL), EVS_ERR_MALFORMED);
    cr_expect_eq(b.n, 0);
    cr_expect_eq(evs_encode(&b, NULL, 0, str_make(name, 0)), 0);
    cr_expect_eq(b.n, 16);
    buf_free(&b);
}

Test(eventstream, exception_frame_and_header_lookup)
{
    buf_t b = {0};
    cr_assert_eq(evs_encode_exception(&b, STR_LIT("throttlingException"),
                                      STR_LIT("{\"message\":\"slow down\"}")),
                 0);
    evs_decoder_t d;
    evs_decoder_init(&d, 0);
    rec_t r = {0};
    cr_expect_eq(evs_feed(&d, b.p, b.n, record, &r), 0);
    cr_expect_str_eq(log_of(&r), ":exception-type:7=throttlingException;:content-type:7="
                                 "application/json;:message-type:7=exception;|{\"message\":"
                                 "\"slow down\"}\n");
    evs_decoder_free(&d);
    buf_free(&r.log);
    buf_free(&b);
}
