/* SPDX-License-Identifier: MIT
 * sse: event-stream parsing per the WHATWG rules (line endings, fields, comments, BOM, limits),
 * independence from how the input is split, and writer output read back by the parser. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/sse.h"

/* Every event, serialised as "event|data|id|retry\n" so sequences compare as one string. */
typedef struct {
    buf_t log;
    int count;
    int stop_at;
    const char *input; /* when set, records whether data pointed into it */
    size_t input_n;
    int zero_copy;
} rec_t;

static int record(void *arg, const sse_event_t *ev)
{
    rec_t *r = arg;
    buf_printf(&r->log, "%.*s|%.*s|%.*s|%lld\n", STR_FMT(ev->event), STR_FMT(ev->data),
               STR_FMT(ev->id), ev->retry);
    if (r->input && ev->data.p >= r->input && ev->data.p < r->input + r->input_n)
        r->zero_copy++;
    r->count++;
    return r->count == r->stop_at ? 5 : 0;
}

static const char *log_of(rec_t *r)
{
    const char *s = buf_cstr(&r->log);
    return s ? s : "";
}

/* Parses s in one feed; returns the event log (owned by the static recorder until next call). */
static const char *parse_whole(const char *s, size_t n, int *rc)
{
    static rec_t r;
    buf_free(&r.log);
    memset(&r, 0, sizeof(r));
    sse_parser_t sp;
    sse_parser_init(&sp, 0);
    int got = sse_feed(&sp, s, n, record, &r);
    if (rc)
        *rc = got;
    sse_parser_free(&sp);
    return log_of(&r);
}

static const char *parse(const char *s)
{
    int rc;
    const char *log = parse_whole(s, strlen(s), &rc);
    cr_expect_eq(rc, 0);
    return log;
}

Test(sse, openai_chunks_and_done)
{
    const char *s = "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"
                    "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n"
                    "data: [DONE]\n\n";
    cr_expect_str_eq(parse(s),
                     "message|{\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}||-1\n"
                     "message|{\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}||-1\n"
                     "message|[DONE]||-1\n");
}

Test(sse, anthropic_named_events)
{
    const char *s = "event: message_start\n"
                    "data: {\"type\":\"message_start\"}\n\n"
                    "event: ping\n"
                    "data: {\"type\": \"ping\"}\n\n"
                    "event: content_block_delta\r\n"
                    "data: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"Hi\"}}\r\n\r\n"
                    "event: message_stop\n"
                    "data: {\"type\":\"message_stop\"}\n\n";
    cr_expect_str_eq(
        parse(s),
        "message_start|{\"type\":\"message_start\"}||-1\n"
        "ping|{\"type\": \"ping\"}||-1\n"
        "content_block_delta|{\"type\":\"content_block_delta\",\"delta\":{\"text\":\"Hi\"}}||-1\n"
        "message_stop|{\"type\":\"message_stop\"}||-1\n");
}

Test(sse, multi_line_data_and_field_parsing)
{
    cr_expect_str_eq(parse("data: a\ndata:b\ndata:  c\ndata\n\n"), "message|a\nb\n c\n||-1\n");
    cr_expect_str_eq(parse("data:\n\n"), "message|||-1\n"); /* one empty data line is data */
    cr_expect_str_eq(parse("data\n\n"), "message|||-1\n");
    cr_expect_str_eq(parse("data: x:y: z\n\n"), "message|x:y: z||-1\n");
    cr_expect_str_eq(parse("foo: bar\nDATA: no\ndata : no\ndata: yes\n\n"), "message|yes||-1\n");
    cr_expect_str_eq(parse("event:custom\ndata: 1\n\n"), "custom|1||-1\n");
    cr_expect_str_eq(parse("event: \ndata: 1\n\n"), "message|1||-1\n");
    cr_expect_str_eq(parse("event: a\nevent: b\ndata: 1\n\n"), "b|1||-1\n");
    /* an event type without data is dropped and does not leak into the next event */
    cr_expect_str_eq(parse("event: lonely\n\ndata: x\n\n"), "message|x||-1\n");
}

Test(sse, line_ending_mixtures)
{
    cr_expect_str_eq(parse("data: a\r\rdata: b\r\n\r\ndata: c\n\r\ndata: d\n\n"),
                     "message|a||-1\nmessage|b||-1\nmessage|c||-1\nmessage|d||-1\n");
    cr_expect_str_eq(parse("data: 1\rdata: 2\r\ndata: 3\ndata: 4\r\r"), "message|1\n2\n3\n4||-1\n");
    /* CR CR is two line ends, LF CR is two, CR LF is one */
    cr_expect_str_eq(parse("data: x\n\rdata: y\r\r"), "message|x||-1\nmessage|y||-1\n");
}

Test(sse, comments_and_keep_alive)
{
    cr_expect_str_eq(parse(": ping\n\n:\n\n: keep-alive\r\n\r\n"), "");
    cr_expect_str_eq(parse(": c\ndata: a\n: between\ndata: b\n\n"), "message|a\nb||-1\n");
    cr_expect_str_eq(parse("\n\n\n\r\n\r"), "");
}

Test(sse, id_and_retry)
{
    cr_expect_str_eq(parse("id: 1\ndata: a\n\n"
                           "data: b\n\n"
                           "id\ndata: c\n\n"
                           "retry: 3000\nretry: x1\nretry: -5\nretry:\ndata: d\n\n"
                           "id: 7\n\n"
                           "data: e\n\n"),
                     "message|a|1|-1\nmessage|b|1|-1\nmessage|c||-1\nmessage|d||3000\n"
                     "message|e|7|3000\n");
    /* an id holding NUL is ignored */
    int rc;
    const char s[] = "id: ok\ndata: 1\n\nid: a\0b\ndata: 2\n\n";
    cr_expect_str_eq(parse_whole(s, sizeof(s) - 1, &rc), "message|1|ok|-1\nmessage|2|ok|-1\n");
}

Test(sse, bom)
{
    cr_expect_str_eq(parse("\xef\xbb\xbf"
                           "data: x\n\n"),
                     "message|x||-1\n");
    /* only one BOM, only at the start */
    cr_expect_str_eq(parse("\xef\xbb\xbf\xef\xbb\xbf"
                           "data: x\n\n"),
                     "");
    cr_expect_str_eq(parse("\xef\xbb"
                           "data: x\n\ndata: y\n\n"),
                     "message|y||-1\n");
    cr_expect_str_eq(parse("data: x\n\n\xef\xbb\xbf"
                           "data: y\n\n"),
                     "message|x||-1\n");
    cr_expect_str_eq(parse("\xef\n"
                           "data: y\n\n"),
                     "message|y||-1\n");
    /* a BOM arriving byte by byte */
    rec_t r = {0};
    sse_parser_t sp;
    sse_parser_init(&sp, 0);
    cr_expect_eq(sse_feed(&sp, "\xef", 1, record, &r), 0);
    cr_expect_eq(sse_feed(&sp, "\xbb", 1, record, &r), 0);
    cr_expect_eq(sse_feed(&sp,
                          "\xbf"
                          "da",
                          3, record, &r),
                 0);
    cr_expect_eq(sse_feed(&sp, "ta: z\n\n", 7, record, &r), 0);
    cr_expect_str_eq(log_of(&r), "message|z||-1\n");
    sse_parser_free(&sp);
    buf_free(&r.log);
}

/* A stream exercising every rule at once, for the split tests. */
static const char split_stream[] =
    "\xef\xbb\xbf: hello\r\n"
    "event: message_start\r\n"
    "data: {\"type\":\"message_start\"}\r\n\r\n"
    "data: line1\rdata: line2\r\rid: 42\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"caf\xc3\xa9\"}}]}\n\n"
    "retry: 1500\n: ping\n\n"
    "event: named\ndata:x\ndata\ndata:  y\n\r\n"
    "data: [DONE]\n\n"
    "data: not dispatched\n";

Test(sse, split_at_every_boundary)
{
    size_t n = sizeof(split_stream) - 1;
    int rc;
    char whole[2048];
    snprintf(whole, sizeof(whole), "%s", parse_whole(split_stream, n, &rc));
    cr_assert_eq(rc, 0);
    cr_expect_str_eq(whole,
                     "message_start|{\"type\":\"message_start\"}||-1\n"
                     "message|line1\nline2||-1\n"
                     "message|{\"choices\":[{\"delta\":{\"content\":\"caf\xc3\xa9\"}}]}|42|-1\n"
                     "named|x\n\n y|42|1500\n"
                     "message|[DONE]|42|1500\n");
    /* every first split point, with second points near it and spread after it; plain ifs
     * because one Criterion assertion per split would dominate the run time */
    size_t splits = 0, bad_i = 0, bad_j = 0;
    int failures = 0;
    for (size_t i = 0; i <= n; i++) {
        for (size_t j = i; j <= n; j += (j < i + 4 ? 1 : 7)) {
            rec_t r = {0};
            sse_parser_t sp;
            sse_parser_init(&sp, 0);
            int rc1 = sse_feed(&sp, split_stream, i, record, &r);
            int rc2 = sse_feed(&sp, split_stream + i, j - i, record, &r);
            int rc3 = sse_feed(&sp, split_stream + j, n - j, record, &r);
            if (rc1 || rc2 || rc3 || strcmp(log_of(&r), whole) != 0) {
                if (!failures++) {
                    bad_i = i;
                    bad_j = j;
                }
            }
            splits++;
            sse_parser_free(&sp);
            buf_free(&r.log);
        }
    }
    cr_expect_eq(failures, 0, "%d of %zu splits differ, first at %zu,%zu", failures, splits, bad_i,
                 bad_j);
    /* one byte at a time */
    rec_t r = {0};
    sse_parser_t sp;
    sse_parser_init(&sp, 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(sse_feed(&sp, split_stream + i, 1, record, &r), 0);
    cr_expect_str_eq(log_of(&r), whole);
    sse_parser_free(&sp);
    buf_free(&r.log);
}

Test(sse, final_event_without_blank_line_is_not_dispatched)
{
    cr_expect_str_eq(parse("data: a\n\ndata: b\n"), "message|a||-1\n");
    cr_expect_str_eq(parse("data: a\n\ndata: b"), "message|a||-1\n");
    cr_expect_str_eq(parse("data: a\n\ndata: b\r"), "message|a||-1\n");
    /* ...but it is dispatched once the blank line arrives in a later feed */
    rec_t r = {0};
    sse_parser_t sp;
    sse_parser_init(&sp, 0);
    char chunk[] = "event: e\ndata: pending\n";
    cr_expect_eq(sse_feed(&sp, chunk, strlen(chunk), record, &r), 0);
    memset(chunk, '#', sizeof(chunk) - 1); /* the parser must have copied what it kept */
    cr_expect_eq(r.count, 0);
    cr_expect_eq(sse_feed(&sp, "\n", 1, record, &r), 0);
    cr_expect_str_eq(log_of(&r), "e|pending||-1\n");
    sse_parser_free(&sp);
    buf_free(&r.log);
}

Test(sse, oversize_event_is_an_error)
{
    char big[200];
    memset(big, 'x', sizeof(big));
    memcpy(big, "data: ", 6);
    rec_t r = {0};
    sse_parser_t sp;
    sse_parser_init(&sp, 64);
    /* a long line, complete or partial */
    cr_expect_eq(sse_feed(&sp, big, sizeof(big), record, &r), -1);
    cr_expect_eq(sse_feed(&sp, "data: ok\n\n", 10, record, &r), -1); /* stays failed */
    sse_parser_reset(&sp);
    cr_expect_eq(sse_feed(&sp, "data: ok\n\n", 10, record, &r), 0);
    cr_expect_eq(r.count, 1);
    cr_expect_eq(sse_feed(&sp, big, 40, record, &r), 0);
    cr_expect_eq(sse_feed(&sp, big + 40, 40, record, &r), -1);
    /* an oversize line after a good event in the same feed */
    sse_parser_reset(&sp);
    char mixed[300] = "data: fine\n\n";
    memcpy(mixed + 12, big, sizeof(big));
    memcpy(mixed + 12 + sizeof(big), "\n\n", 2);
    r.count = 0;
    cr_expect_eq(sse_feed(&sp, mixed, 12 + sizeof(big) + 2, record, &r), -1);
    cr_expect_eq(r.count, 1);
    /* many short lines adding up past the cap */
    sse_parser_reset(&sp);
    for (int i = 0; i < 5; i++) /* 11 bytes each, with the joining newline */
        cr_expect_eq(sse_feed(&sp, "data: 0123456789\n", 17, record, &r), 0, "line %d", i);
    cr_expect_eq(sse_feed(&sp, "data: 0123456789\n", 17, record, &r), -1);
    /* a line of exactly the cap is fine, one byte more is not */
    sse_parser_reset(&sp);
    char edge[80] = "data: ";
    memset(edge + 6, 'y', 58);
    memcpy(edge + 64, "\n\n", 2);
    r.count = 0;
    cr_expect_eq(sse_feed(&sp, edge, 66, record, &r), 0);
    cr_expect_eq(r.count, 1);
    sse_parser_reset(&sp);
    memset(edge + 6, 'y', 59);
    memcpy(edge + 65, "\n\n", 2);
    cr_expect_eq(sse_feed(&sp, edge, 67, record, &r), -1);
    cr_expect_eq(r.count, 1);
    sse_parser_free(&sp);
    buf_free(&r.log);
}

Test(sse, callback_stop)
{
    rec_t r = {.stop_at = 2};
    sse_parser_t sp;
    sse_parser_init(&sp, 0);
    const char *s = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    cr_expect_eq(sse_feed(&sp, s, strlen(s), record, &r), 5);
    cr_expect_eq(r.count, 2);
    cr_expect_eq(sse_feed(&sp, s, strlen(s), record, &r), -1);
    sse_parser_reset(&sp);
    r.stop_at = 0;
    cr_expect_eq(sse_feed(&sp, s, strlen(s), record, &r), 0);
    cr_expect_eq(r.count, 5);
    sse_parser_free(&sp);
    buf_free(&r.log);
}

Test(sse, single_chunk_events_are_not_copied)
{
    const char *s = "data: {\"a\":1}\n\nevent: e\ndata: {\"b\":2}\n\n";
    rec_t r = {.input = s, .input_n = strlen(s)};
    sse_parser_t sp;
    sse_parser_init(&sp, 0);
    cr_expect_eq(sse_feed(&sp, s, strlen(s), record, &r), 0);
    cr_expect_eq(r.zero_copy, 2);
    sse_parser_free(&sp);
    buf_free(&r.log);
}

Test(sse, writer_output)
{
    buf_t b = {0};
    cr_assert_eq(sse_append_data(&b, STR_LIT("{\"id\":1}")), 0);
    cr_assert_eq(sse_append_data(&b, STR_LIT("[DONE]")), 0);
    cr_expect_str_eq(buf_cstr(&b), "data: {\"id\":1}\n\ndata: [DONE]\n\n");
    b.n = 0;
    cr_assert_eq(sse_append_event(&b, STR_LIT("content_block_delta"), STR_LIT("a\nb\r\nc\rd")), 0);
    cr_expect_str_eq(buf_cstr(&b),
                     "event: content_block_delta\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
    b.n = 0;
    cr_assert_eq(sse_append_event(&b, STR_NULL, STR_NULL), 0);
    cr_expect_str_eq(buf_cstr(&b), "data: \n\n");
    b.n = 0;
    buf_append(&b, "keep", 4);
    cr_expect_eq(sse_append_event(&b, STR_LIT("bad\nname"), STR_LIT("x")), -1);
    cr_expect_eq(sse_append_event(&b, STR_LIT("bad\rname"), STR_LIT("x")), -1);
    cr_expect_eq(b.n, 4);
    buf_free(&b);
}

Test(sse, writer_round_trip)
{
    static const struct {
        const char *name;
        const char *data;
        const char *want; /* what the parser gives back: line breaks become "\n" */
    } cases[] = {
        {NULL, "{\"choices\":[]}", "{\"choices\":[]}"},
        {"message_start", "{\"type\":\"message_start\"}", "{\"type\":\"message_start\"}"},
        {"e", "", ""},
        {"e", "\n", "\n"},
        {"e", "a\n\nb\n", "a\n\nb\n"},
        {"e", "a\r\nb\rc", "a\nb\nc"},
        {"e", " leading space", " leading space"},
        {"e", ": not a comment", ": not a comment"},
        {"x:y", "data: inside", "data: inside"},
        {"", "unnamed", "unnamed"},
    };
    buf_t b = {0}, want = {0};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(sse_append_event(&b, str_cstr(cases[i].name), str_cstr(cases[i].data)), 0);
        const char *name = cases[i].name && cases[i].name[0] ? cases[i].name : "message";
        buf_printf(&want, "%s|%s||-1\n", name, cases[i].want);
    }
    int rc;
    cr_expect_str_eq(parse_whole(b.p, b.n, &rc), buf_cstr(&want));
    cr_expect_eq(rc, 0);
    buf_free(&b);
    buf_free(&want);
}
