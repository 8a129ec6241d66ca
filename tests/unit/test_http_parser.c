/* SPDX-License-Identifier: MIT
 * http parser: request heads and chunked bodies. Inputs sit right before an inaccessible page
 * (as in picohttpparser's test.c), so a one-byte over-read crashes the test instead of passing. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http/http.h"

typedef struct {
    char *map;
    size_t map_len;
    char *p; /* the copy; p[n] is the first byte of the guard page */
} guard_t;

static guard_t guard_copy(const char *s, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t data_pages = (n + page - 1) / page + 1;
    guard_t g = {.map_len = (data_pages + 1) * page};
    g.map = mmap(NULL, g.map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert(g.map != MAP_FAILED);
    cr_assert_eq(mprotect(g.map + data_pages * page, page, PROT_NONE), 0);
    g.p = g.map + data_pages * page - n;
    memcpy(g.p, s, n);
    return g;
}

static void guard_free(guard_t *g)
{
    munmap(g->map, g->map_len);
}

/* A head with its header slots (http_head_t points at storage its user provides). */
#define HEAD(h)                                                                                    \
    http_header_t h##_slots[HTTP_MAX_HEADERS];                                                     \
    http_head_t h = {.headers = h##_slots}

/* Parses a whole string against a guard page; the head's slices are rebased onto `s` so the
 * caller can look at them after the copy is gone. */
static int parse(const char *s, http_head_t *h)
{
    size_t n = strlen(s);
    guard_t g = guard_copy(s, n);
    http_header_t *slots = h->headers;
    memset(h, 0xa5, sizeof(*h));
    memset(slots, 0xa5, HTTP_MAX_HEADERS * sizeof *slots);
    h->headers = slots;
    int r = http_parse_request(g.p, n, 0, h);
    if (r > 0) {
#define REBASE(x) ((x).p = s + ((x).p - g.p))
        REBASE(h->method);
        REBASE(h->target);
        REBASE(h->path);
        REBASE(h->query);
        for (size_t i = 0; i < h->num_headers; i++) {
            REBASE(h->headers[i].name);
            REBASE(h->headers[i].value);
        }
#undef REBASE
    }
    guard_free(&g);
    return r;
}

static int parse_status(const char *s)
{
    HEAD(h);
    return parse(s, &h);
}

static void expect_slice(str_t got, const char *want)
{
    cr_expect(got.p != NULL, "slice is NULL, want \"%s\"", want);
    cr_expect(str_eq_cstr(got, want), "got \"%.*s\", want \"%s\"", STR_FMT(got), want);
}

/* Two heads are the same parse when every slice sits at the same offset in its own buffer. */
static void expect_same_slice(const char *ba, str_t a, const char *bb, str_t b)
{
    cr_expect_eq(a.n, b.n);
    cr_expect_eq(a.p - ba, b.p - bb);
}

static void expect_same_head(const char *ba, const http_head_t *a, const char *bb,
                             const http_head_t *b)
{
    expect_same_slice(ba, a->method, bb, b->method);
    expect_same_slice(ba, a->target, bb, b->target);
    expect_same_slice(ba, a->path, bb, b->path);
    expect_same_slice(ba, a->query, bb, b->query);
    cr_expect_eq(a->minor_version, b->minor_version);
    cr_assert_eq(a->num_headers, b->num_headers);
    for (size_t i = 0; i < a->num_headers; i++) {
        expect_same_slice(ba, a->headers[i].name, bb, b->headers[i].name);
        expect_same_slice(ba, a->headers[i].value, bb, b->headers[i].value);
    }
    cr_expect_eq(a->content_length, b->content_length);
    cr_expect_eq(a->chunked, b->chunked);
    cr_expect_eq(a->expect_continue, b->expect_continue);
    cr_expect_eq(a->keep_alive, b->keep_alive);
}

Test(http_parser, simple_get)
{
    const char *req = "GET /v1/models HTTP/1.1\r\nHost: localhost:4000\r\n"
                      "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
    HEAD(h);
    cr_assert_eq(parse(req, &h), (int)strlen(req));
    expect_slice(h.method, "GET");
    expect_slice(h.target, "/v1/models");
    expect_slice(h.path, "/v1/models");
    cr_expect_eq(h.query.n, 0);
    cr_expect_eq(h.minor_version, 1);
    cr_assert_eq(h.num_headers, 3);
    expect_slice(h.headers[0].name, "Host");
    expect_slice(h.headers[0].value, "localhost:4000");
    expect_slice(h.headers[1].name, "User-Agent");
    expect_slice(h.headers[2].value, "*/*");
    cr_expect_eq(h.content_length, -1);
    cr_expect(!h.chunked);
    cr_expect(!h.expect_continue);
    cr_expect(h.keep_alive);
}

Test(http_parser, post_with_body_length)
{
    const char *req = "POST /v1/chat/completions HTTP/1.1\r\nContent-Type: application/json\r\n"
                      "Content-Length: 17\r\n\r\n{\"model\":\"gpt\"}";
    HEAD(h);
    int r = parse(req, &h);
    cr_assert_eq(r, (int)(strlen(req) - 15));
    cr_expect_eq(h.content_length, 17);
    cr_expect_str_eq(req + r, "{\"model\":\"gpt\"}");
    expect_slice(http_head_get(&h, STR_LIT("content-type")), "application/json");
}

Test(http_parser, path_and_query)
{
    HEAD(h);
    cr_assert_gt(parse("GET /search?q=a?b&x=1 HTTP/1.1\r\n\r\n", &h), 0);
    expect_slice(h.target, "/search?q=a?b&x=1");
    expect_slice(h.path, "/search");
    expect_slice(h.query, "q=a?b&x=1");
    cr_assert_gt(parse("GET /x? HTTP/1.1\r\n\r\n", &h), 0);
    expect_slice(h.path, "/x");
    cr_expect_eq(h.query.n, 0);
    cr_expect_not_null(h.query.p);
}

Test(http_parser, incomplete)
{
    const char *req = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    HEAD(h);
    cr_expect_eq(http_parse_request(NULL, 0, 0, &h), HTTP_PARSE_INCOMPLETE);
    for (size_t k = 0; k < strlen(req); k++) {
        guard_t g = guard_copy(req, k);
        cr_expect_eq(http_parse_request(g.p, k, 0, &h), HTTP_PARSE_INCOMPLETE, "prefix %zu", k);
        guard_free(&g);
    }
}

/* Splits every request at every byte, both as one early call then the rest, and as a buffer
 * growing one byte a call (moved to a new address each time, as a growing buffer may be); the
 * resumed parse must match the one-shot parse exactly. */
static void check_every_split(const char *req)
{
    size_t n = strlen(req);
    guard_t whole = guard_copy(req, n);
    HEAD(want);
    int want_r = http_parse_request(whole.p, n, 0, &want);
    cr_assert_neq(want_r, HTTP_PARSE_INCOMPLETE, "test request must be complete: %s", req);
    size_t head_end = want_r > 0 ? (size_t)want_r : n;

    for (size_t k = 1; k < n; k++) {
        HEAD(h);
        guard_t first = guard_copy(req, k);
        int r = http_parse_request(first.p, k, 0, &h);
        guard_free(&first);
        if (k < head_end) {
            cr_assert_eq(r, HTTP_PARSE_INCOMPLETE, "split %zu of %s", k, req);
            guard_t rest = guard_copy(req, n);
            r = http_parse_request(rest.p, n, k, &h);
            cr_assert_eq(r, want_r, "split %zu of %s", k, req);
            if (r > 0)
                expect_same_head(whole.p, &want, rest.p, &h);
            guard_free(&rest);
        } else {
            cr_assert_eq(r, want_r, "split %zu of %s", k, req);
        }
    }

    size_t last = 0;
    int r = HTTP_PARSE_INCOMPLETE;
    HEAD(h);
    guard_t g = {0};
    for (size_t k = 1; k <= n && r == HTTP_PARSE_INCOMPLETE; k++) {
        if (g.map)
            guard_free(&g);
        g = guard_copy(req, k);
        r = http_parse_request(g.p, k, last, &h);
        last = k;
    }
    cr_assert_eq(r, want_r, "byte by byte: %s", req);
    if (r > 0)
        expect_same_head(whole.p, &want, g.p, &h);
    guard_free(&g);
    guard_free(&whole);
}

Test(http_parser, split_at_every_byte)
{
    check_every_split("GET /v1/models?limit=5 HTTP/1.1\r\nHost: localhost\r\n"
                      "Authorization: Bearer sk-1234\r\nAccept: */*\r\n\r\n");
    check_every_split("POST /v1/chat/completions HTTP/1.0\nContent-Length: 2\n"
                      "Connection: keep-alive\n\n{}");
    check_every_split("\r\n\nPUT /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue"
                      "\r\nX-Empty:\r\nX-Spaces:  a b \t\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    check_every_split("GET /a HTTP/1.1\r\nX: a\r\n b\r\n\r\n");                /* invalid */
    check_every_split("GET /a HTTP/1.1\r\nX: a\n\r\nGET /b HTTP/1.1\r\n\r\n"); /* mixed ends */
    check_every_split("GET http://example.com/p?q HTTP/1.1\r\n\n");
}

Test(http_parser, pipelined)
{
    const char *reqs = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
                       "POST /two HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                       "GET /three HTTP/1.1\r\nConnection: close\r\n\r\n";
    size_t n = strlen(reqs);
    guard_t g = guard_copy(reqs, n);
    HEAD(h);
    size_t off = 0;

    int r = http_parse_request(g.p + off, n - off, 0, &h);
    cr_assert_gt(r, 0);
    expect_slice(h.path, "/one");
    cr_expect(h.keep_alive);
    off += (size_t)r;

    r = http_parse_request(g.p + off, n - off, 0, &h);
    cr_assert_gt(r, 0);
    expect_slice(h.path, "/two");
    cr_assert_eq(h.content_length, 3);
    cr_expect_eq(memcmp(g.p + off + r, "abc", 3), 0);
    off += (size_t)r + 3;

    r = http_parse_request(g.p + off, n - off, 0, &h);
    cr_assert_gt(r, 0);
    expect_slice(h.path, "/three");
    cr_expect(!h.keep_alive);
    off += (size_t)r;
    cr_expect_eq(off, n);
    guard_free(&g);
}

Test(http_parser, lf_only_and_mixed)
{
    HEAD(h);
    const char *req = "GET /x HTTP/1.1\nHost: a\nX-B: c\n\n";
    cr_assert_eq(parse(req, &h), (int)strlen(req));
    cr_assert_eq(h.num_headers, 2);
    expect_slice(h.headers[1].value, "c");
    req = "GET /x HTTP/1.1\r\nHost: a\n\r\n";
    cr_assert_eq(parse(req, &h), (int)strlen(req));
    expect_slice(h.headers[0].value, "a");
    req = "GET /x HTTP/1.1\n\n";
    cr_assert_eq(parse(req, &h), (int)strlen(req));
    cr_expect_eq(h.num_headers, 0);
}

Test(http_parser, leading_empty_lines_skipped)
{
    HEAD(h);
    const char *req = "\r\n\nGET /x HTTP/1.1\r\n\r\n";
    cr_assert_eq(parse(req, &h), (int)strlen(req));
    expect_slice(h.method, "GET");
    cr_expect_eq(parse_status("\r\n"), HTTP_PARSE_INCOMPLETE);
    cr_expect_eq(parse_status("\r\rGET / HTTP/1.1\r\n\r\n"), HTTP_PARSE_INVALID);
}

Test(http_parser, value_ows_stripped_and_empty)
{
    HEAD(h);
    cr_assert_gt(parse("GET / HTTP/1.1\r\nX-A:   a  b \t \r\nX-B:\r\nX-C: \t\r\n"
                       "X-D: caf\xc3\xa9\r\n\r\n",
                       &h),
                 0);
    expect_slice(http_head_get(&h, STR_LIT("x-a")), "a  b");
    str_t b = http_head_get(&h, STR_LIT("X-B"));
    cr_expect_not_null(b.p, "an empty header is present, not absent");
    cr_expect_eq(b.n, 0);
    cr_expect_eq(http_head_get(&h, STR_LIT("x-c")).n, 0);
    expect_slice(http_head_get(&h, STR_LIT("x-d")), "caf\xc3\xa9");
}

Test(http_parser, head_get_first_match_case_insensitive)
{
    HEAD(h);
    cr_assert_gt(parse("GET / HTTP/1.1\r\nx-key: one\r\nX-KEY: two\r\nX-Keys: three\r\n\r\n", &h),
                 0);
    expect_slice(http_head_get(&h, STR_LIT("X-Key")), "one");
    expect_slice(http_head_get(&h, STR_LIT("x-keys")), "three");
    cr_expect_null(http_head_get(&h, STR_LIT("x-ke")).p);
    cr_expect_null(http_head_get(&h, STR_LIT("missing")).p);
}

Test(http_parser, obs_fold_rejected)
{
    cr_expect_eq(parse_status("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n"), HTTP_PARSE_INVALID);
    cr_expect_eq(parse_status("GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n"), HTTP_PARSE_INVALID);
    cr_expect_eq(parse_status("GET / HTTP/1.1\r\n X-A: a\r\n\r\n"), HTTP_PARSE_INVALID);
}

Test(http_parser, content_length_rules)
{
    HEAD(h);
    cr_assert_gt(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", &h), 0);
    cr_expect_eq(h.content_length, 5);
    cr_assert_gt(parse("POST / HTTP/1.1\r\nContent-Length: 5, 5 ,5\r\n\r\n", &h), 0);
    cr_expect_eq(h.content_length, 5);
    cr_assert_gt(parse("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &h), 0);
    cr_expect_eq(h.content_length, 0);
    cr_assert_gt(parse("POST / HTTP/1.1\r\nContent-Length: 007\r\n\r\n", &h), 0);
    cr_expect_eq(h.content_length, 7);
    cr_assert_gt(parse("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n", &h), 0);
    cr_expect_eq(h.content_length, INT64_MAX);

    static const char *bad[] = {
        "Content-Length: 5\r\nContent-Length: 6",
        "Content-Length: 5, 6",
        "Content-Length: 5,",
        "Content-Length: ,5",
        "Content-Length: 5 5",
        "Content-Length: ",
        "Content-Length: -1",
        "Content-Length: +5",
        "Content-Length: 0x10",
        "Content-Length: 5a",
        "Content-Length: 9223372036854775808",
        "Content-Length: 99999999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char req[256];
        snprintf(req, sizeof(req), "POST / HTTP/1.1\r\n%s\r\n\r\n", bad[i]);
        cr_expect_eq(parse_status(req), HTTP_PARSE_INVALID, "%s", bad[i]);
    }
}

Test(http_parser, transfer_encoding_rules)
{
    HEAD(h);
    cr_assert_gt(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h), 0);
    cr_expect(h.chunked);
    cr_expect_eq(h.content_length, -1);
    cr_assert_gt(parse("POST / HTTP/1.1\r\ntransfer-encoding: CHUNKED\r\n\r\n", &h), 0);
    cr_expect(h.chunked);

    static const char *bad[] = {
        "Transfer-Encoding: gzip",
        "Transfer-Encoding: gzip, chunked",
        "Transfer-Encoding: chunked, gzip",
        "Transfer-Encoding: chunked, chunked",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: identity",
        "Transfer-Encoding: chunked;q=1",
        "Transfer-Encoding: ",
        "Transfer-Encoding: chunked\r\nContent-Length: 5",
        "Content-Length: 5\r\nTransfer-Encoding: chunked",
        "Content-Length: 0\r\nTransfer-Encoding: chunked",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char req[256];
        snprintf(req, sizeof(req), "POST / HTTP/1.1\r\n%s\r\n\r\n", bad[i]);
        cr_expect_eq(parse_status(req), HTTP_PARSE_INVALID, "%s", bad[i]);
    }
    /* HTTP/1.0 has no chunked coding: its framing would be faulty (RFC 9112 6.1) */
    cr_expect_eq(parse_status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
                 HTTP_PARSE_INVALID);
}

Test(http_parser, keep_alive_and_expect)
{
    HEAD(h);
    cr_assert_gt(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &h), 0);
    cr_expect(!h.keep_alive);
    cr_assert_gt(parse("GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n", &h), 0);
    cr_expect(!h.keep_alive);
    cr_assert_gt(parse("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", &h), 0);
    cr_expect(h.keep_alive);
    cr_assert_gt(parse("GET / HTTP/1.0\r\n\r\n", &h), 0);
    cr_expect_eq(h.minor_version, 0);
    cr_expect(!h.keep_alive);
    cr_assert_gt(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h), 0);
    cr_expect(h.keep_alive);
    cr_assert_gt(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", &h),
                 0);
    cr_expect(!h.keep_alive);

    cr_assert_gt(parse("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n", &h),
                 0);
    cr_expect(h.expect_continue);
    cr_assert_gt(parse("POST / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", &h), 0);
    cr_expect(!h.expect_continue);
    cr_assert_gt(parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", &h), 0);
    cr_expect(!h.expect_continue, "HTTP/1.0 must ignore 100-continue");
}

Test(http_parser, too_many_headers)
{
    char req[8192];
    size_t n = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP_MAX_HEADERS; i++)
        n += (size_t)snprintf(req + n, sizeof(req) - n, "X-H%d: %d\r\n", i, i);
    snprintf(req + n, sizeof(req) - n, "\r\n");
    HEAD(h);
    cr_assert_gt(parse(req, &h), 0, "exactly HTTP_MAX_HEADERS is fine");
    cr_expect_eq(h.num_headers, HTTP_MAX_HEADERS);
    expect_slice(h.headers[HTTP_MAX_HEADERS - 1].value, "99");

    snprintf(req + n, sizeof(req) - n, "X-One-More: 1\r\n\r\n");
    cr_expect_eq(parse_status(req), HTTP_PARSE_TOO_MANY_HEADERS);
}

Test(http_parser, invalid_request_line)
{
    static const char *bad[] = {
        "GET  / HTTP/1.1\r\n\r\n",        /* two spaces */
        "GET /a b HTTP/1.1\r\n\r\n",      /* space in target */
        "GET /a\tb HTTP/1.1\r\n\r\n",     /* tab in target */
        "GET /a\x01 HTTP/1.1\r\n\r\n",    /* control in target */
        "GET /a\x7f HTTP/1.1\r\n\r\n",    /* DEL in target */
        "GET /\xc3\xa9 HTTP/1.1\r\n\r\n", /* raw non-ASCII in target */
        "GET /a\rb HTTP/1.1\r\n\r\n",     /* bare CR */
        "G(T / HTTP/1.1\r\n\r\n",         /* not a token */
        " GET / HTTP/1.1\r\n\r\n",        /* empty method */
        "GET  HTTP/1.1\r\n\r\n",          /* empty target */
        "GET / HTTP/1.1 \r\n\r\n",        /* trailing space */
        "GET /\r\n\r\n",                  /* HTTP/0.9 style */
        "GET / HTTP/0.9\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.2\r\n\r\n",
        "GET / HTTP/1.10\r\n\r\n",
        "GET / http/1.1\r\n\r\n",
        "GET / HTTP/1.\r\n\r\n",
        "GET / HTTP/1\n\n", /* version cut short right before the end of the head */
        "GET / H\n\n",
        "GET / \n\n",
        "GET v1/models HTTP/1.1\r\n\r\n",    /* not origin-form */
        "GET * HTTP/1.1\r\n\r\n",            /* asterisk only for OPTIONS */
        "CONNECT host:443 HTTP/1.1\r\n\r\n", /* authority-form */
        "GET / HTTP/1.1\r\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_expect_eq(parse_status(bad[i]), HTTP_PARSE_INVALID, "request %zu: %s", i, bad[i]);
}

Test(http_parser, invalid_header_chars)
{
    static const char *bad[] = {
        "X-A : a",       /* whitespace before the colon */
        "X-A\t: a",      /* tab before the colon */
        ": a",           /* empty name */
        "X A: a",        /* space in the name */
        "X-(A): a",      /* separator in the name */
        "X-A a",         /* no colon */
        "X-\x01: a",     /* control in the name */
        "X-A: a\x01b",   /* control in the value */
        "X-A: a\x7f",    /* DEL in the value */
        "X-A: a\rb",     /* bare CR in the value */
        "X-\xc3\xa9: a", /* non-ASCII name */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char req[256];
        snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n%s\r\n\r\n", bad[i]);
        cr_expect_eq(parse_status(req), HTTP_PARSE_INVALID, "header %zu: %s", i, bad[i]);
    }

    /* NUL cannot go through a C string literal */
    static const char nul[] = "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n";
    guard_t g = guard_copy(nul, sizeof(nul) - 1);
    HEAD(h);
    cr_expect_eq(http_parse_request(g.p, sizeof(nul) - 1, 0, &h), HTTP_PARSE_INVALID);
    guard_free(&g);
}

Test(http_parser, absolute_form_and_asterisk)
{
    HEAD(h);
    cr_assert_gt(parse("GET http://example.com:8080/v1/models?x=1 HTTP/1.1\r\n\r\n", &h), 0);
    expect_slice(h.target, "http://example.com:8080/v1/models?x=1");
    expect_slice(h.path, "/v1/models");
    expect_slice(h.query, "x=1");
    cr_assert_gt(parse("POST HTTPS://a/ HTTP/1.1\r\n\r\n", &h), 0);
    expect_slice(h.path, "/");
    cr_assert_gt(parse("OPTIONS * HTTP/1.1\r\n\r\n", &h), 0);
    expect_slice(h.path, "*");
    cr_expect_eq(h.query.n, 0);

    cr_expect_eq(parse_status("GET http://example.com HTTP/1.1\r\n\r\n"), HTTP_PARSE_INVALID);
    cr_expect_eq(parse_status("GET http://example.com?x=/ HTTP/1.1\r\n\r\n"), HTTP_PARSE_INVALID);
    cr_expect_eq(parse_status("GET http:///path HTTP/1.1\r\n\r\n"), HTTP_PARSE_INVALID);
    cr_expect_eq(parse_status("GET ftp://host/path HTTP/1.1\r\n\r\n"), HTTP_PARSE_INVALID);
}

/* ---- chunked ---------------------------------------------------------------------------- */

typedef struct {
    ssize_t r;     /* last return */
    char out[512]; /* decoded bytes of all calls */
    size_t out_n;
    char rest[512]; /* bytes after the body */
    size_t rest_n;
} chunk_result_t;

/* Feeds `s` to a fresh decoder in pieces cut at the given offsets (ascending, < n), each piece in
 * a guard copy as if just read from the socket, and collects the decoded output. */
static chunk_result_t decode_pieces(const char *s, size_t n, const size_t *cuts, size_t ncuts)
{
    chunk_result_t res = {.r = HTTP_PARSE_INCOMPLETE};
    http_chunked_t d = {0};
    size_t from = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        guard_t g = guard_copy(s + from, to - from);
        size_t len = to - from;
        res.r = http_chunked_decode(&d, g.p, &len);
        cr_assert_leq(len, to - from);
        cr_assert_leq(res.out_n + len, sizeof(res.out));
        memcpy(res.out + res.out_n, g.p, len);
        res.out_n += len;
        if (res.r >= 0) {
            cr_assert_leq((size_t)res.r + len, to - from);
            memcpy(res.rest, g.p + len, (size_t)res.r);
            res.rest_n = (size_t)res.r;
            /* what the decoder never saw is after the body too */
            memcpy(res.rest + res.rest_n, s + to, n - to);
            res.rest_n += n - to;
        }
        guard_free(&g);
        from = to;
        if (res.r != HTTP_PARSE_INCOMPLETE)
            break;
    }
    return res;
}

static chunk_result_t decode(const char *s)
{
    return decode_pieces(s, strlen(s), NULL, 0);
}

static void expect_same_result(const chunk_result_t *a, const chunk_result_t *b, const char *what)
{
    /* when done, r counts only the last piece's leftover; rest holds all of it */
    ssize_t ra = a->r >= 0 ? 0 : a->r, rb = b->r >= 0 ? 0 : b->r;
    cr_expect_eq(ra, rb, "%s: return %zd vs %zd", what, a->r, b->r);
    cr_expect_eq(a->out_n, b->out_n, "%s", what);
    cr_expect_eq(memcmp(a->out, b->out, a->out_n < b->out_n ? a->out_n : b->out_n), 0, "%s", what);
    cr_expect_eq(a->rest_n, b->rest_n, "%s", what);
    cr_expect_eq(memcmp(a->rest, b->rest, a->rest_n < b->rest_n ? a->rest_n : b->rest_n), 0, "%s",
                 what);
}

static void check_chunk_splits(const char *s)
{
    size_t n = strlen(s);
    chunk_result_t whole = decode(s);
    for (size_t k = 1; k < n; k++) {
        chunk_result_t r = decode_pieces(s, n, &k, 1);
        char what[64];
        snprintf(what, sizeof(what), "split at %zu", k);
        expect_same_result(&whole, &r, what);
    }
    size_t cuts[512];
    cr_assert_lt(n, sizeof(cuts) / sizeof(cuts[0]));
    for (size_t k = 1; k < n; k++)
        cuts[k - 1] = k;
    chunk_result_t bytes = decode_pieces(s, n, cuts, n - 1);
    expect_same_result(&whole, &bytes, "byte by byte");
}

Test(http_parser, chunked_simple)
{
    chunk_result_t r = decode("5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n");
    cr_expect_eq(r.r, 0);
    cr_expect_eq(r.out_n, 12);
    cr_expect_eq(memcmp(r.out, "hello, world", 12), 0);

    r = decode("A\nabcdefghij\na\nABCDEFGHIJ\n0\n\n"); /* LF only, both hex cases */
    cr_expect_eq(r.r, 0);
    cr_expect_eq(r.out_n, 20);
    cr_expect_eq(memcmp(r.out, "abcdefghijABCDEFGHIJ", 20), 0);

    r = decode("0\r\n\r\n");
    cr_expect_eq(r.r, 0);
    cr_expect_eq(r.out_n, 0);
}

Test(http_parser, chunked_incomplete)
{
    chunk_result_t r = decode("5\r\nhel");
    cr_expect_eq(r.r, HTTP_PARSE_INCOMPLETE);
    cr_expect_eq(r.out_n, 3);
    cr_expect_eq(memcmp(r.out, "hel", 3), 0);
    cr_expect_eq(decode("5\r\nhello\r\n0\r\n").r, HTTP_PARSE_INCOMPLETE);
    cr_expect_eq(decode("5\r\nhello\r\n0\r\nX: y\r\n").r, HTTP_PARSE_INCOMPLETE);
    cr_expect_eq(decode("").r, HTTP_PARSE_INCOMPLETE);
}

Test(http_parser, chunked_extensions)
{
    chunk_result_t r = decode("5;name=value\r\nhello\r\n6 ; a=\"q;uoted\"; b\r\n world\r\n"
                              "0;last\r\n\r\n");
    cr_expect_eq(r.r, 0);
    cr_expect_eq(r.out_n, 11);
    cr_expect_eq(memcmp(r.out, "hello world", 11), 0);
}

Test(http_parser, chunked_trailers)
{
    chunk_result_t r = decode("3\r\nabc\r\n0\r\nX-Checksum: 1234\r\nX-Other:\tz\r\n\r\n");
    cr_expect_eq(r.r, 0);
    cr_expect_eq(r.out_n, 3);
    cr_expect_eq(memcmp(r.out, "abc", 3), 0);
    r = decode("0\nX: y\n\nZ");
    cr_expect_eq(r.r, 1);
    cr_expect_eq(r.rest[0], 'Z');
}

Test(http_parser, chunked_leftover_is_next_request)
{
    const char *next = "GET /next HTTP/1.1\r\n\r\n";
    char s[256];
    snprintf(s, sizeof(s), "4\r\nbody\r\n0\r\n\r\n%s", next);
    chunk_result_t r = decode(s);
    cr_assert_eq(r.r, (ssize_t)strlen(next));
    cr_expect_eq(r.out_n, 4);
    cr_expect_eq(memcmp(r.out, "body", 4), 0);
    cr_expect_eq(r.rest_n, strlen(next));
    cr_expect_eq(memcmp(r.rest, next, strlen(next)), 0);

    /* a decoder that has finished hands back everything */
    http_chunked_t d = {0};
    char buf[64] = "0\r\n\r\n";
    size_t len = 5;
    cr_assert_eq(http_chunked_decode(&d, buf, &len), 0);
    memcpy(buf, "more", 4);
    len = 4;
    cr_expect_eq(http_chunked_decode(&d, buf, &len), 4);
    cr_expect_eq(len, 0);
}

Test(http_parser, chunked_split_at_every_byte)
{
    check_chunk_splits("5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n");
    check_chunk_splits(
        "3;a=b\nxyz\n10 \t;x\n0123456789abcdef\n0\nT: 1\nU: 2\n\nGET / HTTP/1.1\r\n\r\n");
    check_chunk_splits("2\r\nab\r\n0\r\nTrailer: x\r\n\r\nPOST /b HTTP/1.1\r\n");
    check_chunk_splits("5\r\nhelloX0\r\n\r\n"); /* invalid after some data */
}

Test(http_parser, chunked_oversize_and_invalid)
{
    /* 16 hex digits fill 64 bits and are allowed; 17 are not, even as leading zeros */
    cr_expect_eq(decode("ffffffffffffffff\r\nab").r, HTTP_PARSE_INCOMPLETE);
    cr_expect_eq(decode("10000000000000000\r\n").r, HTTP_PARSE_INVALID);
    cr_expect_eq(decode("00000000000000001\r\nx\r\n0\r\n\r\n").r, HTTP_PARSE_INVALID);
    cr_expect_eq(decode("fffffffffffffffff").r, HTTP_PARSE_INVALID);

    static const char *bad[] = {
        "\r\n",                  /* no size */
        ";ext\r\n",              /* no size before the extension */
        "g\r\n",                 /* not hex */
        "-5\r\n",                /* sign */
        "0x5\r\nhello\r\n",      /* prefix */
        "5 x\r\n",               /* junk after the size */
        "5\rx",                  /* bare CR */
        "5;a\x01\r\n",           /* control in an extension */
        "5\r\nhelloX",           /* no line end after the data */
        "5\r\nhello\rX",         /* CR without LF after the data */
        "0\r\n x\r\n\r\n",       /* obs-fold in trailers */
        "0\r\nX: a\x01\r\n\r\n", /* control in a trailer */
        "0\r\n\rX",              /* bare CR in the final line */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_expect_eq(decode(bad[i]).r, HTTP_PARSE_INVALID, "input %zu", i);
}

Test(http_parser, chunked_output_before_error_kept)
{
    chunk_result_t r = decode("3\r\nabc\r\nzz");
    cr_expect_eq(r.r, HTTP_PARSE_INVALID);
    cr_expect_eq(r.out_n, 3);
}

Test(http_parser, chunked_long_extension_rejected)
{
    static char s[8192];
    size_t n = (size_t)snprintf(s, sizeof(s), "5;");
    memset(s + n, 'x', 5000);
    s[n + 5000] = '\0';
    cr_expect_eq(decode_pieces(s, strlen(s), NULL, 0).r, HTTP_PARSE_INVALID);
}
