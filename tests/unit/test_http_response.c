/* SPDX-License-Identifier: MIT
 * http_parse_response: the upstream client's view of a provider's answer. */
#include <criterion/criterion.h>
#include <string.h>

#include "http/http.h"

static int parse(const char *s, http_response_head_t *h)
{
    return http_parse_response(s, strlen(s), 0, h);
}

Test(http_response, simple)
{
    http_response_head_t h;
    const char *s =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"a\":1}";
    int n = parse(s, &h);
    cr_assert_eq(n, (int)(strstr(s, "\r\n\r\n") - s) + 4);
    cr_expect_eq(h.status, 200);
    cr_expect_eq(h.minor_version, 1);
    cr_expect_eq(h.content_length, 12);
    cr_expect(!h.chunked);
    cr_expect(h.keep_alive);
    cr_expect_eq(h.num_headers, 2);
    cr_expect(str_eq_cstr(h.headers[0].value, "application/json"));
}

Test(http_response, split_at_every_byte)
{
    const char *s =
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
    size_t len = strlen(s);
    http_response_head_t h;
    for (size_t cut = 0; cut < len; cut++)
        cr_expect_eq(http_parse_response(s, cut, 0, &h), HTTP_PARSE_INCOMPLETE, "cut %zu", cut);
    size_t last = 0;
    for (size_t cut = 1; cut <= len; cut++) {
        int r = http_parse_response(s, cut, last, &h);
        if (cut < len)
            cr_expect_eq(r, HTTP_PARSE_INCOMPLETE);
        else
            cr_expect_eq(r, (int)len);
        last = cut;
    }
    cr_expect_eq(h.status, 429);
    cr_expect(h.chunked);
}

Test(http_response, framing_rules)
{
    http_response_head_t h;
    cr_expect_gt(
        parse("HTTP/1.1 200 OK\nTransfer-Encoding: gzip, chunked\nContent-Length: 5\n\n", &h), 0);
    cr_expect(h.chunked);
    cr_expect_eq(h.content_length, -1, "Transfer-Encoding overrides Content-Length");
    cr_expect_gt(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", &h), 0);
    cr_expect(!h.chunked);
    cr_expect(!h.keep_alive, "a body read until close ends the connection");
    cr_expect_gt(parse("HTTP/1.0 200 OK\r\n\r\n", &h), 0);
    cr_expect(!h.keep_alive);
    cr_expect_gt(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", &h), 0);
    cr_expect(h.keep_alive);
    cr_expect_gt(parse("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", &h), 0);
    cr_expect(!h.keep_alive);
    cr_expect_gt(parse("HTTP/1.1 204\r\n\r\n", &h), 0, "the reason phrase may be absent");
    cr_expect_eq(h.status, 204);
    cr_expect_gt(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &h), 0);
}

Test(http_response, invalid)
{
    http_response_head_t h;
    const char *bad[] = {
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 099 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(parse(bad[i], &h), HTTP_PARSE_INVALID, "case %zu", i);
}

Test(http_response, too_many_headers)
{
    char buf[8192];
    size_t n = (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i <= HTTP_MAX_HEADERS; i++)
        n += (size_t)sprintf(buf + n, "X-%d: v\r\n", i);
    n += (size_t)sprintf(buf + n, "\r\n");
    http_response_head_t h;
    cr_expect_eq(http_parse_response(buf, n, 0, &h), HTTP_PARSE_TOO_MANY_HEADERS);
}
