/* SPDX-License-Identifier: MIT
 * HTTP/1.1 request head parser and chunked body decoder: no allocation, resumable, every slice
 * points into the caller's buffer. Strict about framing (no obs-fold, no Content-Length with
 * Transfer-Encoding, no unknown codings): a gateway that frames a message differently from the
 * hop in front of it invites request smuggling. Does no I/O and enforces no size caps on the head;
 * the server does that. */
#include "http/http.h"

#include <limits.h>
#include <string.h>

/* Character classes; one table lookup per byte is what keeps the single pass fast. */
enum {
    HTTP_CC_TCHAR = 1,  /* RFC 9110 tchar: method and field names */
    HTTP_CC_TARGET = 2, /* visible ASCII: request-target (no controls, spaces or DEL) */
    HTTP_CC_VALUE = 4,  /* field-value bytes: HTAB, SP, VCHAR, obs-text */
};

static const unsigned char http_char_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    4, 7, 6, 7, 7, 7, 7, 7, 6, 6, 7, 7, 6, 7, 7, 6, /* 0x20 */
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6, /* 0x30 */
    6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, /* 0x40 */
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 7, 7, /* 0x50 */
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, /* 0x60 */
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 7, 6, 7, 0, /* 0x70 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0x80 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0x90 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xa0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xb0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xc0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xd0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xe0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xf0 */
};

#define HTTP_IS(c, cls) (http_char_class[(unsigned char)(c)] & (cls))

/* Chunked framing lines are consumed, never stored, so these caps only bound how long a peer
 * can keep the decoder busy without producing body bytes. */
#define HTTP_CHUNK_EXT_MAX 4096
#define HTTP_CHUNK_TRAILERS_MAX 65536
#define HTTP_CHUNK_HEX_MAX 16 /* 16 hex digits fill 64 bits: more could overflow */

/* ---- request head ----------------------------------------------------------------------- */

/* Framing facts gathered while the headers are scanned, applied once the head is complete. */
typedef struct {
    int64_t content_length;
    bool te_seen;
    bool te_chunked;
    bool conn_close;
    bool conn_keep_alive;
    bool expect_continue;
} http_framing_t;

/* Offset just past the blank line that ends the head, searching for its first '\n' from `from`;
 * 0 when the head is not complete yet. */
static size_t http_find_head_end(const char *buf, size_t from, size_t len)
{
    const char *p = buf + from;
    const char *end = buf + len;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        if (end - p < 2)
            return 0;
        if (p[1] == '\n')
            return (size_t)(p + 2 - buf);
        if (p[1] == '\r') {
            if (end - p < 3)
                return 0;
            if (p[2] == '\n')
                return (size_t)(p + 3 - buf);
        }
        p++;
    }
    return 0;
}

/* Sets path and query from target. Origin-form, "*" for OPTIONS, or absolute-form (a proxy-style
 * "http://host/path"), whose path must be present since every slice must point into the buffer. */
static int http_split_target(http_head_t *h)
{
    str_t t = h->target;
    str_t path = t;
    if (t.p[0] == '/') {
        /* origin-form */
    } else if (t.n == 1 && t.p[0] == '*') {
        if (!str_eq(h->method, STR_LIT("OPTIONS")))
            return -1;
    } else {
        size_t skip;
        if (str_case_has_prefix(t, STR_LIT("http://")))
            skip = 7;
        else if (str_case_has_prefix(t, STR_LIT("https://")))
            skip = 8;
        else
            return -1;
        size_t i = skip;
        while (i < t.n && t.p[i] != '/' && t.p[i] != '?' && t.p[i] != '#')
            i++;
        if (i == skip || i == t.n || t.p[i] != '/')
            return -1;
        path = str_make(t.p + i, t.n - i);
    }
    const char *q = memchr(path.p, '?', path.n);
    if (q) {
        h->path = str_make(path.p, (size_t)(q - path.p));
        h->query = str_make(q + 1, (size_t)(path.p + path.n - q - 1));
    } else {
        h->path = path;
        h->query = str_make(path.p + path.n, 0);
    }
    return 0;
}

/* Content-Length: 1*DIGIT, or a list of identical ones ("5, 5", RFC 9110 8.6); every value seen
 * in this or earlier headers must agree. */
static int http_note_content_length(str_t v, http_framing_t *f)
{
    size_t i = 0;
    for (;;) {
        while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t'))
            i++;
        if (i == v.n || v.p[i] < '0' || v.p[i] > '9')
            return -1;
        int64_t x = 0;
        while (i < v.n && v.p[i] >= '0' && v.p[i] <= '9') {
            int d = v.p[i++] - '0';
            if (x > (INT64_MAX - d) / 10)
                return -1;
            x = x * 10 + d;
        }
        while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t'))
            i++;
        if (f->content_length >= 0 && x != f->content_length)
            return -1;
        f->content_length = x;
        if (i == v.n)
            return 0;
        if (v.p[i++] != ',')
            return -1;
    }
}

/* Transfer-Encoding: we decode only chunked, so any other coding, or chunked twice (RFC 9112
 * 6.1 forbids it), leaves the body length unknowable: reject rather than guess. */
static int http_note_transfer_encoding(str_t v, http_framing_t *f)
{
    f->te_seen = true;
    size_t i = 0;
    while (i <= v.n) {
        size_t start = i;
        while (i < v.n && v.p[i] != ',')
            i++;
        str_t coding = str_trim(str_make(v.p + start, i - start));
        i++;
        if (coding.n == 0)
            continue; /* empty list elements are ignored (RFC 9110 5.6.1) */
        if (f->te_chunked || !str_case_eq(coding, STR_LIT("chunked")))
            return -1;
        f->te_chunked = true;
    }
    return 0;
}

static int http_note_header(const http_head_t *h, str_t name, str_t value, http_framing_t *f)
{
    /* Dispatch on length first so ordinary headers cost one switch. */
    switch (name.n) {
    case 6:
        if (str_case_eq(name, STR_LIT("expect")) && h->minor_version == 1 &&
            str_case_eq(value, STR_LIT("100-continue")))
            f->expect_continue = true; /* RFC 9110 10.1.1: ignored in HTTP/1.0 */
        return 0;
    case 10:
        if (str_case_eq(name, STR_LIT("connection"))) {
            if (str_list_has_token(value, STR_LIT("close")))
                f->conn_close = true;
            if (str_list_has_token(value, STR_LIT("keep-alive")))
                f->conn_keep_alive = true;
        }
        return 0;
    case 14:
        if (str_case_eq(name, STR_LIT("content-length")))
            return http_note_content_length(value, f);
        return 0;
    case 17:
        if (str_case_eq(name, STR_LIT("transfer-encoding")))
            return http_note_transfer_encoding(value, f);
        return 0;
    default:
        return 0;
    }
}

/* Parses a complete head: p is the request line's first byte, end is just past the blank line.
 * Every line ends with '\n' before `end`, so scans stop at a class miss without bound checks. */
static int http_parse_head(const char *p, const char *end, http_head_t *h)
{
    const char *start = p;
    while (HTTP_IS(*p, HTTP_CC_TCHAR))
        p++;
    if (p == start || *p != ' ')
        return HTTP_PARSE_INVALID;
    h->method = str_make(start, (size_t)(p - start));

    start = ++p;
    while (HTTP_IS(*p, HTTP_CC_TARGET))
        p++;
    if (p == start || *p != ' ')
        return HTTP_PARSE_INVALID;
    h->target = str_make(start, (size_t)(p - start));
    p++;

    if (end - p < 9 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1'))
        return HTTP_PARSE_INVALID;
    h->minor_version = p[7] - '0';
    p += 8;
    if (*p == '\r')
        p++;
    if (*p != '\n')
        return HTTP_PARSE_INVALID;
    p++;
    if (http_split_target(h) != 0)
        return HTTP_PARSE_INVALID;

    http_framing_t f = {.content_length = -1};
    size_t n = 0;
    for (;;) {
        if (*p == '\n') {
            p++;
            break;
        }
        if (*p == '\r') {
            if (p[1] != '\n')
                return HTTP_PARSE_INVALID;
            p += 2;
            break;
        }
        if (*p == ' ' || *p == '\t')
            return HTTP_PARSE_INVALID; /* obs-fold: RFC 9112 5.2 lets a server reject it */
        if (n == HTTP_MAX_HEADERS)
            return HTTP_PARSE_TOO_MANY_HEADERS;

        start = p;
        while (HTTP_IS(*p, HTTP_CC_TCHAR))
            p++;
        if (p == start || *p != ':')
            return HTTP_PARSE_INVALID; /* also whitespace before the colon (RFC 9112 5.1) */
        str_t name = str_make(start, (size_t)(p - start));
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        start = p;
        while (HTTP_IS(*p, HTTP_CC_VALUE))
            p++;
        const char *value_end = p;
        if (*p == '\r')
            p++;
        if (*p != '\n')
            return HTTP_PARSE_INVALID; /* NUL, bare CR or another control in the value */
        p++;
        while (value_end > start && (value_end[-1] == ' ' || value_end[-1] == '\t'))
            value_end--;
        str_t value = str_make(start, (size_t)(value_end - start));

        h->headers[n].name = name;
        h->headers[n].value = value;
        n++;
        if (http_note_header(h, name, value, &f) != 0)
            return HTTP_PARSE_INVALID;
    }
    if (p != end)
        return HTTP_PARSE_INVALID; /* cannot happen: end is the first blank line */

    if (f.te_seen) {
        /* RFC 9112 6.1 and 6.3: a request with both, or with Transfer-Encoding in HTTP/1.0, or
         * whose final coding is not chunked, has a length we cannot trust. */
        if (f.content_length >= 0 || h->minor_version == 0 || !f.te_chunked)
            return HTTP_PARSE_INVALID;
    }
    h->num_headers = n;
    h->content_length = f.content_length;
    h->chunked = f.te_chunked;
    h->expect_continue = f.expect_continue;
    h->keep_alive = h->minor_version == 1 ? !f.conn_close : f.conn_keep_alive && !f.conn_close;
    return 0;
}

int http_parse_request(const char *buf, size_t len, size_t last_len, http_head_t *head)
{
    if (len == 0)
        return HTTP_PARSE_INCOMPLETE; /* an empty buf_t may have p == NULL */
    /* RFC 9112 2.2: ignore empty lines before the request line; some clients send a CRLF after
     * a body. They count as consumed bytes. */
    size_t skip = 0;
    while (skip < len) {
        if (buf[skip] == '\n')
            skip++;
        else if (buf[skip] == '\r' && skip + 1 < len && buf[skip + 1] == '\n')
            skip += 2;
        else
            break;
    }
    /* The previous call found no blank line in buf[0..last_len), so the first one can start at
     * last_len - 2 at the earliest ("\n" + "\r\n"); back off 3 to be safe. */
    size_t from = last_len > 3 ? last_len - 3 : 0;
    if (from < skip)
        from = skip;
    if (from > len)
        from = len;
    size_t end = http_find_head_end(buf, from, len);
    if (end == 0)
        return HTTP_PARSE_INCOMPLETE;
    if (end > INT_MAX)
        return HTTP_PARSE_INVALID;
    int rc = http_parse_head(buf + skip, buf + end, head);
    return rc < 0 ? rc : (int)end;
}

str_t http_head_get(const http_head_t *head, str_t name)
{
    for (size_t i = 0; i < head->num_headers; i++) {
        if (str_case_eq(head->headers[i].name, name))
            return head->headers[i].value;
    }
    return STR_NULL;
}

/* ---- chunked body ----------------------------------------------------------------------- */

/* Decoder states. hex_digits counts the size's digits in HTTP_CHUNK_SIZE, then the bytes of its
 * extensions, and in the trailer states the bytes of the trailer section. Zero starts a body. */
enum {
    HTTP_CHUNK_SIZE = 0,     /* chunk-size hex digits */
    HTTP_CHUNK_SIZE_WS,      /* BWS after the digits, before ';' or the line end */
    HTTP_CHUNK_EXT,          /* chunk extensions: skipped */
    HTTP_CHUNK_SIZE_LF,      /* CR ending the size line seen, LF expected */
    HTTP_CHUNK_DATA,         /* chunk_left bytes of data to copy */
    HTTP_CHUNK_DATA_CR,      /* line end after the data */
    HTTP_CHUNK_DATA_LF,      /* CR after the data seen, LF expected */
    HTTP_CHUNK_TRAILER_LINE, /* start of a trailer field line or of the final empty line */
    HTTP_CHUNK_TRAILER,      /* inside a trailer field line */
    HTTP_CHUNK_TRAILER_LF,   /* CR ending a trailer line seen, LF expected */
    HTTP_CHUNK_END_LF,       /* CR of the final empty line seen, LF expected */
    HTTP_CHUNK_DONE,
};

static int http_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The size line is over: data follows, or the last chunk's trailer section. */
static void http_chunk_size_done(http_chunked_t *d)
{
    d->hex_digits = 0;
    if (d->chunk_left == 0) {
        d->in_trailers = true;
        d->state = HTTP_CHUNK_TRAILER_LINE;
    } else {
        d->state = HTTP_CHUNK_DATA;
    }
}

ssize_t http_chunked_decode(http_chunked_t *d, char *buf, size_t *len)
{
    size_t n = *len;
    size_t src = 0, dst = 0;

    while (src < n && d->state != HTTP_CHUNK_DONE) {
        if (d->state == HTTP_CHUNK_DATA) {
            size_t take = n - src;
            if ((uint64_t)take > d->chunk_left)
                take = (size_t)d->chunk_left;
            if (dst != src)
                memmove(buf + dst, buf + src, take);
            dst += take;
            src += take;
            d->chunk_left -= take;
            if (d->chunk_left == 0)
                d->state = HTTP_CHUNK_DATA_CR;
            continue;
        }
        unsigned char c = (unsigned char)buf[src++];
        switch (d->state) {
        case HTTP_CHUNK_SIZE: {
            int v = http_hex_value(c);
            if (v >= 0) {
                if (++d->hex_digits > HTTP_CHUNK_HEX_MAX)
                    goto invalid;
                d->chunk_left = (d->chunk_left << 4) | (uint64_t)v;
                break;
            }
            if (d->hex_digits == 0)
                goto invalid;
            d->hex_digits = 0;
            if (c == ';')
                d->state = HTTP_CHUNK_EXT;
            else if (c == ' ' || c == '\t')
                d->state = HTTP_CHUNK_SIZE_WS;
            else if (c == '\r')
                d->state = HTTP_CHUNK_SIZE_LF;
            else if (c == '\n')
                http_chunk_size_done(d);
            else
                goto invalid;
            break;
        }
        case HTTP_CHUNK_SIZE_WS:
        case HTTP_CHUNK_EXT:
            if (c == '\r') {
                d->state = HTTP_CHUNK_SIZE_LF;
            } else if (c == '\n') {
                http_chunk_size_done(d);
            } else {
                if (++d->hex_digits > HTTP_CHUNK_EXT_MAX)
                    goto invalid;
                if (d->state == HTTP_CHUNK_SIZE_WS) {
                    if (c == ';')
                        d->state = HTTP_CHUNK_EXT;
                    else if (c != ' ' && c != '\t')
                        goto invalid;
                } else if (!HTTP_IS(c, HTTP_CC_VALUE)) {
                    goto invalid;
                }
            }
            break;
        case HTTP_CHUNK_SIZE_LF:
            if (c != '\n')
                goto invalid;
            http_chunk_size_done(d);
            break;
        case HTTP_CHUNK_DATA_CR:
            if (c == '\r')
                d->state = HTTP_CHUNK_DATA_LF;
            else if (c == '\n')
                d->state = HTTP_CHUNK_SIZE;
            else
                goto invalid;
            break;
        case HTTP_CHUNK_DATA_LF:
            if (c != '\n')
                goto invalid;
            d->state = HTTP_CHUNK_SIZE;
            break;
        case HTTP_CHUNK_TRAILER_LINE:
            if (c == '\r')
                d->state = HTTP_CHUNK_END_LF;
            else if (c == '\n')
                d->state = HTTP_CHUNK_DONE;
            else if (HTTP_IS(c, HTTP_CC_TCHAR) && ++d->hex_digits <= HTTP_CHUNK_TRAILERS_MAX)
                d->state = HTTP_CHUNK_TRAILER; /* trailers are skipped, but obs-fold is not */
            else
                goto invalid;
            break;
        case HTTP_CHUNK_TRAILER:
            if (c == '\r')
                d->state = HTTP_CHUNK_TRAILER_LF;
            else if (c == '\n')
                d->state = HTTP_CHUNK_TRAILER_LINE;
            else if (!HTTP_IS(c, HTTP_CC_VALUE) || ++d->hex_digits > HTTP_CHUNK_TRAILERS_MAX)
                goto invalid;
            break;
        case HTTP_CHUNK_TRAILER_LF:
            if (c != '\n')
                goto invalid;
            d->state = HTTP_CHUNK_TRAILER_LINE;
            break;
        case HTTP_CHUNK_END_LF:
            if (c != '\n')
                goto invalid;
            d->state = HTTP_CHUNK_DONE;
            break;
        default:
            goto invalid; /* a state we never set: the struct was not zeroed */
        }
    }

    *len = dst;
    if (d->state != HTTP_CHUNK_DONE)
        return HTTP_PARSE_INCOMPLETE;
    if (dst != src)
        memmove(buf + dst, buf + src, n - src);
    return (ssize_t)(n - src);

invalid:
    *len = dst;
    return HTTP_PARSE_INVALID;
}
