/* SPDX-License-Identifier: MIT
 * str_t: a pointer and a length into someone else's buffer. Parsed values stay slices;
 * copy only when a value must outlive its buffer. */
#ifndef SLUICE_CORE_STR_H
#define SLUICE_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *p;
    size_t n;
} str_t;

#define STR_LIT(s) ((str_t){"" s, sizeof(s) - 1})
#define STR_NULL ((str_t){NULL, 0})
#define STR_FMT(s) (int)(s).n, (s).p /* printf("%.*s", STR_FMT(s)) */

static inline str_t str_make(const char *p, size_t n)
{
    return (str_t){p, n};
}

static inline str_t str_cstr(const char *s)
{
    return (str_t){s, s ? strlen(s) : 0};
}

static inline bool str_eq(str_t a, str_t b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline bool str_eq_cstr(str_t a, const char *b)
{
    return str_eq(a, str_cstr(b));
}

static inline bool str_case_eq(str_t a, str_t b)
{
    return a.n == b.n && (a.n == 0 || strncasecmp(a.p, b.p, a.n) == 0);
}

static inline bool str_has_prefix(str_t s, str_t prefix)
{
    return s.n >= prefix.n && memcmp(s.p, prefix.p, prefix.n) == 0;
}

static inline bool str_case_has_prefix(str_t s, str_t prefix)
{
    return s.n >= prefix.n && strncasecmp(s.p, prefix.p, prefix.n) == 0;
}

static inline str_t str_skip(str_t s, size_t n)
{
    return n >= s.n ? (str_t){s.p + s.n, 0} : (str_t){s.p + n, s.n - n};
}

/* Strips spaces and tabs from both ends. */
static inline str_t str_trim(str_t s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.n--;
    }
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

/* Parses a non-negative decimal integer that fills the whole slice; -1 if it is not one. */
long long str_to_ll(str_t s);

/* Case-insensitive search for token `tok` in a comma-separated header value. */
bool str_list_has_token(str_t list, str_t tok);

#endif
