/* SPDX-License-Identifier: MIT
 * The response-head parser of the upstream client: status line, headers and body framing of
 * what a provider sends back. Zero-copy and resumable like the request parser; strict where a
 * mistake would desynchronise a pooled connection (framing), lenient about the reason phrase. */
#include <string.h>

#include "http/http.h"

static bool is_tchar(unsigned char c)
{
    if (c >= 'a' && c <= 'z')
        return true;
    if (c >= 'A' && c <= 'Z')
        return true;
    if (c >= '0' && c <= '9')
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* The end of the head: the byte after the blank line, or 0 when it has not arrived. */
static size_t find_head_end(const char *buf, size_t len, size_t from)
{
    for (size_t i = from; i < len; i++) {
        const char *nl = memchr(buf + i, '\n', len - i);
        if (!nl)
            return 0;
        i = (size_t)(nl - buf);
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

int http_parse_response(const char *buf, size_t len, size_t last_len, http_response_head_t *h)
{
    size_t from = last_len > 3 ? last_len - 3 : 0;
    size_t end = find_head_end(buf, len, from);
    if (!end)
        return HTTP_PARSE_INCOMPLETE;
    const char *p = buf, *stop = buf + end;
    /* status line: HTTP/1.x SP 3DIGIT [SP reason] */
    const char *nl = memchr(p, '\n', (size_t)(stop - p));
    const char *le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
    if (le - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
        return HTTP_PARSE_INVALID;
    h->minor_version = p[7] - '0';
    h->status = 0;
    for (int i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9')
            return HTTP_PARSE_INVALID;
        h->status = h->status * 10 + (p[i] - '0');
    }
    if (h->status < 100 || (le - p > 12 && p[12] != ' '))
        return HTTP_PARSE_INVALID;
    for (const char *q = p + 12; q < le; q++)
        if ((unsigned char)*q < 0x20 && *q != '\t')
            return HTTP_PARSE_INVALID;
    h->num_headers = 0;
    h->content_length = -1;
    h->chunked = false;
    h->keep_alive = h->minor_version >= 1;
    bool has_te = false;
    for (p = nl + 1; p < stop; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(stop - p));
        le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
        if (le == p)
            break; /* the blank line */
        if (*p == ' ' || *p == '\t')
            return HTTP_PARSE_INVALID; /* obs-fold */
        const char *colon = p;
        while (colon < le && is_tchar((unsigned char)*colon))
            colon++;
        if (colon == p || colon == le || *colon != ':')
            return HTTP_PARSE_INVALID;
        str_t name = str_make(p, (size_t)(colon - p));
        str_t value = str_trim(str_make(colon + 1, (size_t)(le - colon - 1)));
        for (size_t i = 0; i < value.n; i++) {
            unsigned char c = (unsigned char)value.p[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return HTTP_PARSE_INVALID;
        }
        if (h->num_headers == HTTP_MAX_HEADERS)
            return HTTP_PARSE_TOO_MANY_HEADERS;
        h->headers[h->num_headers++] = (http_header_t){name, value};
        if (str_case_eq(name, STR_LIT("content-length"))) {
            long long v = str_to_ll(value);
            if (v < 0 || (h->content_length >= 0 && h->content_length != v))
                return HTTP_PARSE_INVALID;
            h->content_length = v;
        } else if (str_case_eq(name, STR_LIT("transfer-encoding"))) {
            has_te = true;
            /* chunked must be the final coding; anything else is read until close */
            str_t v = value;
            while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == ','))
                v.n--;
            size_t start = v.n;
            while (start && v.p[start - 1] != ',')
                start--;
            h->chunked = str_case_eq(str_trim(str_skip(v, start)), STR_LIT("chunked"));
        } else if (str_case_eq(name, STR_LIT("connection"))) {
            if (str_list_has_token(value, STR_LIT("close")))
                h->keep_alive = false;
            else if (str_list_has_token(value, STR_LIT("keep-alive")))
                h->keep_alive = true;
        }
    }
    if (has_te) {
        h->content_length = -1; /* Transfer-Encoding overrides Content-Length (RFC 9112 6.3) */
        if (!h->chunked)
            h->keep_alive = false;
    }
    return (int)end;
}
