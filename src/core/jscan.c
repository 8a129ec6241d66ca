/* SPDX-License-Identifier: MIT
 * jscan: strict JSON validation in one forward pass with an explicit container stack, so hostile
 * nesting is an error and never a deep C stack. String bodies are skipped 16 bytes at a time;
 * only escapes and non-ASCII bytes take the slow path. No document is ever built. */
#include "core/jscan.h"

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/common.h"

typedef const unsigned char *cursor_t;

static inline bool is_ws(unsigned c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline cursor_t skip_ws(cursor_t s, cursor_t end)
{
    /* compact JSON has no whitespace at all: one compare decides the common case */
    while (s < end && *s <= ' ' && is_ws(*s))
        s++;
    return s;
}

static inline bool is_digit(unsigned c)
{
    return c - '0' < 10u;
}

static inline int hex_digit(unsigned c)
{
    if (c - '0' < 10u)
        return (int)(c - '0');
    c |= 0x20;
    if (c - 'a' < 6u)
        return (int)(c - 'a' + 10);
    return -1;
}

/* Four hex digits at s (the caller checked they exist): the value, or -1. */
static int hex4(cursor_t s)
{
    int a = hex_digit(s[0]), b = hex_digit(s[1]), c = hex_digit(s[2]), d = hex_digit(s[3]);
    if ((a | b | c | d) < 0)
        return -1;
    return (a << 12) | (b << 8) | (c << 4) | d;
}

/* Decodes the escape at s ('\\'): its length in bytes, 0 when invalid. A lone or reversed
 * surrogate is invalid: it has no UTF-8 form, and upstreams reject it too. */
static size_t escape_decode(cursor_t s, cursor_t end, uint32_t *cp)
{
    if (end - s < 2)
        return 0;
    switch (s[1]) {
    case '"':
        *cp = '"';
        return 2;
    case '\\':
        *cp = '\\';
        return 2;
    case '/':
        *cp = '/';
        return 2;
    case 'b':
        *cp = '\b';
        return 2;
    case 'f':
        *cp = '\f';
        return 2;
    case 'n':
        *cp = '\n';
        return 2;
    case 'r':
        *cp = '\r';
        return 2;
    case 't':
        *cp = '\t';
        return 2;
    case 'u':
        break;
    default:
        return 0;
    }
    if (end - s < 6)
        return 0;
    int hi = hex4(s + 2);
    if (hi < 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
        return 0;
    if (hi < 0xD800 || hi > 0xDBFF) {
        *cp = (uint32_t)hi;
        return 6;
    }
    if (end - s < 12 || s[6] != '\\' || s[7] != 'u')
        return 0;
    int lo = hex4(s + 8);
    if (lo < 0xDC00 || lo > 0xDFFF)
        return 0;
    *cp = 0x10000u + (((uint32_t)hi - 0xD800u) << 10) + ((uint32_t)lo - 0xDC00u);
    return 12;
}

static size_t utf8_encode(uint32_t cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the well-formed UTF-8 sequence at s (lead byte >= 0x80), 0 when ill-formed:
 * overlong forms, encoded surrogates and code points above U+10FFFF are all rejected. */
static size_t utf8_sequence(cursor_t s, cursor_t end)
{
    unsigned c = s[0];
    size_t avail = (size_t)(end - s);
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return avail >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (avail < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0))
            return 0;
        return 3;
    }
    if (c < 0xF5) {
        if (avail < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

/* Skips string bytes that need no attention (printable ASCII other than '"' and '\\'); returns
 * the first byte that does, or end. This loop is where a chat request spends its time. */
static inline cursor_t skip_plain(cursor_t s, cursor_t end)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(' ');
    while (end - s >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
        /* signed compare: bytes >= 0x80 are negative, so one test catches controls and UTF-8 */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmplt_epi8(v, space));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return s + __builtin_ctz(mask);
        s += 16;
    }
#else
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    while (end - s >= 8) {
        uint64_t v, q, b;
        memcpy(&v, s, 8);
        q = v ^ (ones * '"');
        b = v ^ (ones * '\\');
        uint64_t hit =
            (v | ((v - ones * ' ') & ~v) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
        if (hit)
            break; /* the byte loop below finds which one */
        s += 8;
    }
#endif
    while (s < end && *s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\')
        s++;
    return s;
}

/* s is at the opening quote. Returns the byte after the closing quote, or NULL with *err set;
 * *escaped is set when the string holds an escape. */
static cursor_t scan_string(cursor_t s, cursor_t end, cursor_t *err, bool *escaped)
{
    s++;
    for (;;) {
        s = skip_plain(s, end);
        if (UNLIKELY(s == end))
            goto fail;
        unsigned c = *s;
        if (c == '"')
            return s + 1;
        size_t len;
        if (c == '\\') {
            uint32_t cp;
            len = escape_decode(s, end, &cp);
            *escaped = true;
        } else if (c < 0x20) {
            len = 0;
        } else {
            len = utf8_sequence(s, end);
        }
        if (!len)
            goto fail;
        s += len;
    }
fail:
    *err = s;
    return NULL;
}

/* s is at '-' or a digit. RFC 8259 grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static cursor_t scan_number(cursor_t s, cursor_t end, cursor_t *err)
{
    if (*s == '-')
        s++;
    if (s == end)
        goto fail;
    if (*s == '0') {
        s++; /* a leading zero stands alone: "01" fails on the '1' at the caller */
    } else if (is_digit(*s)) {
        while (++s < end && is_digit(*s))
            ;
    } else {
        goto fail;
    }
    if (s < end && *s == '.') {
        if (++s == end || !is_digit(*s))
            goto fail;
        while (++s < end && is_digit(*s))
            ;
    }
    if (s < end && (*s | 0x20) == 'e') {
        if (++s < end && (*s == '+' || *s == '-'))
            s++;
        if (s == end || !is_digit(*s))
            goto fail;
        while (++s < end && is_digit(*s))
            ;
    }
    return s;
fail:
    *err = s;
    return NULL;
}

typedef struct {
    jscan_field_t *fields;
    size_t nfields;
} find_ctx_t;

static int find_member(void *arg, const jscan_member_t *m)
{
    find_ctx_t *ctx = arg;
    for (size_t i = 0; i < ctx->nfields; i++) {
        jscan_field_t *f = &ctx->fields[i];
        if (m->key_escaped ? jscan_key_eq(m->key, f->name) : str_eq(m->key, f->name))
            f->value = m->value;
    }
    return 0;
}

/* The scanner proper. Inlined into both entry points so that jscan_find's member callback is a
 * known function the compiler can inline too. */
static inline __attribute__((always_inline)) int
scan_object(const char *p, size_t n, int (*cb)(void *arg, const jscan_member_t *m), void *arg,
            size_t *err_offset)
{
    /* stack[d] says whether the container at depth d+1 is an object */
    bool stack[JSCAN_MAX_DEPTH];
    size_t depth;
    jscan_member_t m = {STR_NULL, STR_NULL, false};
    cursor_t s, end, err, vstart = NULL, kstart;
    bool escaped;

    if (!p || n == 0) {
        if (err_offset)
            *err_offset = 0;
        return -1;
    }
    s = (cursor_t)p;
    end = s + n;
    s = skip_ws(s, end);
    if (s == end || *s != '{') {
        err = s;
        goto fail;
    }
    s++;
    stack[0] = true;
    depth = 1;

object_open: /* just after '{' */
    s = skip_ws(s, end);
    if (s < end && *s == '}') {
        s++;
        goto container_closed;
    }
member:
    s = skip_ws(s, end);
    if (s == end || *s != '"') {
        err = s;
        goto fail;
    }
    kstart = s;
    escaped = false;
    if (!(s = scan_string(s, end, &err, &escaped)))
        goto fail;
    if (depth == 1) {
        m.key = str_make((const char *)kstart + 1, (size_t)(s - kstart) - 2);
        m.key_escaped = escaped;
    }
    s = skip_ws(s, end);
    if (s == end || *s != ':') {
        err = s;
        goto fail;
    }
    s++;
value:
    s = skip_ws(s, end);
    if (s == end) {
        err = s;
        goto fail;
    }
    if (depth == 1)
        vstart = s;
    if (*s == '"') { /* the usual value: tested before the switch's indirect jump */
        if (!(s = scan_string(s, end, &err, &escaped)))
            goto fail;
        goto value_done;
    }
    switch (*s) {
    case '{':
    case '[':
        if (depth == JSCAN_MAX_DEPTH) {
            err = s;
            goto fail;
        }
        stack[depth++] = *s == '{';
        if (*s++ == '{')
            goto object_open;
        s = skip_ws(s, end);
        if (s < end && *s == ']') {
            s++;
            goto container_closed;
        }
        goto value;
    case 't':
        if (end - s < 4 || memcmp(s, "true", 4) != 0) {
            err = s;
            goto fail;
        }
        s += 4;
        break;
    case 'f':
        if (end - s < 5 || memcmp(s, "false", 5) != 0) {
            err = s;
            goto fail;
        }
        s += 5;
        break;
    case 'n':
        if (end - s < 4 || memcmp(s, "null", 4) != 0) {
            err = s;
            goto fail;
        }
        s += 4;
        break;
    default:
        if (*s != '-' && !is_digit(*s)) {
            err = s;
            goto fail;
        }
        if (!(s = scan_number(s, end, &err)))
            goto fail;
        break;
    }
value_done:
    if (depth == 1) {
        m.value = str_make((const char *)vstart, (size_t)(s - vstart));
        if (cb) {
            int rc = cb(arg, &m);
            if (rc)
                return rc;
        }
    }
    s = skip_ws(s, end);
    if (s == end) {
        err = s;
        goto fail;
    }
    if (*s == ',') {
        s++;
        if (stack[depth - 1])
            goto member;
        goto value;
    }
    if (*s != (stack[depth - 1] ? '}' : ']')) {
        err = s;
        goto fail;
    }
    s++;
container_closed:
    if (--depth > 0)
        goto value_done;
    s = skip_ws(s, end);
    if (s != end) {
        err = s; /* trailing garbage, or a second document */
        goto fail;
    }
    return 0;

fail:
    if (err_offset)
        *err_offset = (size_t)(err - (cursor_t)p);
    return -1;
}

int jscan_object(const char *p, size_t n, int (*cb)(void *arg, const jscan_member_t *m), void *arg,
                 size_t *err_offset)
{
    return scan_object(p, n, cb, arg, err_offset);
}

/* Compares raw string text (no quotes, escapes allowed) with plain text. */
static bool raw_text_eq(cursor_t s, cursor_t end, str_t plain)
{
    const unsigned char *q = (const unsigned char *)plain.p;
    size_t qi = 0;
    while (s < end) {
        cursor_t bs = memchr(s, '\\', (size_t)(end - s));
        size_t run = (size_t)((bs ? bs : end) - s);
        if (run > plain.n - qi || (run && memcmp(s, q + qi, run) != 0))
            return false;
        s += run;
        qi += run;
        if (!bs)
            break;
        uint32_t cp;
        unsigned char u[4];
        size_t len = escape_decode(s, end, &cp);
        if (!len)
            return false;
        size_t un = utf8_encode(cp, u);
        if (un > plain.n - qi || memcmp(u, q + qi, un) != 0)
            return false;
        s += len;
        qi += un;
    }
    return qi == plain.n;
}

bool jscan_key_eq(str_t raw_key, str_t plain)
{
    if (raw_key.n == 0)
        return plain.n == 0;
    cursor_t s = (cursor_t)raw_key.p;
    return raw_text_eq(s, s + raw_key.n, plain);
}

bool jscan_string_eq(str_t raw, str_t plain)
{
    if (raw.n < 2 || raw.p[0] != '"' || raw.p[raw.n - 1] != '"')
        return false;
    return jscan_key_eq(str_make(raw.p + 1, raw.n - 2), plain);
}

bool jscan_is_true(str_t raw)
{
    return raw.n == 4 && memcmp(raw.p, "true", 4) == 0;
}

int jscan_string_decode(str_t raw, buf_t *out)
{
    if (raw.n < 2 || raw.p[0] != '"')
        return -1;
    cursor_t s = (cursor_t)raw.p, end = s + raw.n, err;
    bool escaped;
    if (scan_string(s, end, &err, &escaped) != end)
        return -1;
    size_t saved = out->n;
    end--; /* the closing quote */
    s++;
    if (s == end)
        return 0;
    if (buf_reserve(out, (size_t)(end - s)) != 0) /* decoding never lengthens the text */
        return -1;
    while (s < end) {
        cursor_t bs = memchr(s, '\\', (size_t)(end - s));
        size_t run = (size_t)((bs ? bs : end) - s);
        memcpy(out->p + out->n, s, run);
        out->n += run;
        s += run;
        if (!bs)
            break;
        uint32_t cp = 0;
        unsigned char u[4];
        size_t len = escape_decode(s, end, &cp);
        if (!len) { /* unreachable after scan_string; kept so a future change fails safe */
            out->n = saved;
            return -1;
        }
        size_t un = utf8_encode(cp, u);
        memcpy(out->p + out->n, u, un);
        out->n += un;
        s += len;
    }
    return 0;
}

int jscan_find(const char *p, size_t n, jscan_field_t *fields, size_t nfields, size_t *err_offset)
{
    for (size_t i = 0; i < nfields; i++)
        fields[i].value = STR_NULL;
    find_ctx_t ctx = {fields, nfields};
    return scan_object(p, n, find_member, &ctx, err_offset);
}

int jscan_member_find(str_t raw_object, const char *key, str_t *value)
{
    /* re-validating costs a few ns on the small objects this is for, and makes misuse safe */
    jscan_field_t f = {str_cstr(key), STR_NULL};
    if (jscan_find(raw_object.p, raw_object.n, &f, 1, NULL) != 0)
        return -1;
    if (!f.value.p)
        return 1;
    *value = f.value;
    return 0;
}

/* Cuts body around old into out[0] and out[2], with new_value between; false when old is not a
 * slice of body. */
static bool splice_pieces(const char *body, size_t n, str_t old, str_t new_value, str_t out[3])
{
    /* integer compares: relational operators on pointers into different objects are undefined */
    uintptr_t b = (uintptr_t)body, o = (uintptr_t)old.p;
    if (!body || !old.p || o < b || o - b > n || old.n > n - (o - b))
        return false;
    size_t off = (size_t)(o - b);
    out[0] = str_make(body, off);
    out[1] = new_value;
    out[2] = str_make(body + off + old.n, n - off - old.n);
    return true;
}

size_t jscan_splice_iov(const char *body, size_t n, str_t old_value, str_t new_value, str_t out[3])
{
    if (!splice_pieces(body, n, old_value, new_value, out))
        return 0;
    return out[0].n + out[1].n + out[2].n;
}

int jscan_splice(buf_t *out, const char *body, size_t n, str_t old_value, str_t new_value)
{
    str_t iov[3];
    if (!splice_pieces(body, n, old_value, new_value, iov))
        return -1;
    if (buf_reserve(out, iov[0].n + iov[1].n + iov[2].n) != 0)
        return -1;
    for (int i = 0; i < 3; i++)
        buf_append_str(out, iov[i]); /* cannot fail after the reserve */
    return 0;
}

size_t jscan_append_member_iov(const char *body, size_t n, str_t member, str_t out[4])
{
    if (!body || n < 2)
        return 0;
    cursor_t s = (cursor_t)body, end = s + n;
    cursor_t open = skip_ws(s, end), close = end;
    while (close > open && is_ws(close[-1]))
        close--;
    if (close - open < 2 || *open != '{' || close[-1] != '}')
        return 0;
    close--;
    bool empty = skip_ws(open + 1, close) == close;
    size_t off = (size_t)(close - s);
    out[0] = str_make(body, off);
    out[1] = empty ? STR_LIT("") : STR_LIT(",");
    out[2] = member;
    out[3] = str_make(body + off, n - off);
    return n + out[1].n + member.n;
}

int jscan_remove_member(buf_t *out, const char *body, size_t n, str_t member, str_t *cut)
{
    if (!body || !member.p || member.p < body || member.p + member.n > body + n)
        return -1;
    cursor_t start = (cursor_t)body, end = start + n;
    cursor_t from = (cursor_t)member.p, to = from + member.n;
    cursor_t q = skip_ws(to, end);
    if (q < end && *q == ',') {
        to = q + 1; /* the comma after it */
    } else {
        cursor_t b = from;
        while (b > start && is_ws(b[-1]))
            b--;
        if (b > start && b[-1] == ',')
            from = b - 1; /* the last member: the comma before it */
    }
    size_t head = (size_t)(from - start), tail = (size_t)(end - to);
    if (buf_reserve(out, head + tail) != 0)
        return -1;
    buf_append(out, body, head);
    buf_append(out, (const char *)to, tail);
    if (cut)
        *cut = str_make((const char *)from, (size_t)(to - from));
    return 0;
}
