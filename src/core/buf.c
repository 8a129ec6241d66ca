/* SPDX-License-Identifier: MIT */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int buf_reserve(buf_t *b, size_t extra)
{
    if (b->cap - b->n >= extra)
        return 0;
    size_t want = b->n + extra;
    if (want < b->n)
        return -1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < want) {
        if (cap > ((size_t)-1) / 2)
            return -1;
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int buf_append(buf_t *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (buf_reserve(b, n) != 0)
        return -1;
    memcpy(b->p + b->n, p, n);
    b->n += n;
    return 0;
}

int buf_append_cstr(buf_t *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vprintf(buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char tmp[256];
    int len = vsnprintf(tmp, sizeof tmp, fmt, ap2);
    va_end(ap2);
    if (len < 0)
        return -1;
    if ((size_t)len < sizeof tmp)
        return buf_append(b, tmp, (size_t)len);
    if (buf_reserve(b, (size_t)len + 1) != 0)
        return -1;
    vsnprintf(b->p + b->n, (size_t)len + 1, fmt, ap);
    b->n += (size_t)len;
    return 0;
}

int buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int buf_append_json_string(buf_t *b, str_t s)
{
    static const char hex[] = "0123456789abcdef";
    if (buf_reserve(b, s.n + 2) != 0)
        return -1;
    b->p[b->n++] = '"';
    size_t run = 0; /* start of the current run of bytes that need no escaping */
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (buf_append(b, s.p + run, i - run) != 0)
            return -1;
        char esc[6] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if (buf_append(b, esc, n) != 0)
            return -1;
        run = i + 1;
    }
    if (buf_append(b, s.p + run, s.n - run) != 0)
        return -1;
    return buf_append(b, "\"", 1);
}

void buf_consume(buf_t *b, size_t n)
{
    if (n >= b->n) {
        b->n = 0;
        return;
    }
    memmove(b->p, b->p + n, b->n - n);
    b->n -= n;
}

void buf_free(buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

const char *buf_cstr(buf_t *b)
{
    if (buf_reserve(b, 1) != 0)
        return NULL;
    b->p[b->n] = '\0';
    return b->p;
}

int buf_append_u64(buf_t *b, unsigned long long v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return buf_append(b, tmp + i, sizeof tmp - i);
}

int buf_append_ms(buf_t *b, unsigned long long ns)
{
    unsigned long long us = (ns + 500) / 1000;
    if (buf_append_u64(b, us / 1000) < 0)
        return -1;
    char frac[4] = {'.', (char)('0' + us % 1000 / 100), (char)('0' + us % 100 / 10),
                    (char)('0' + us % 10)};
    return buf_append(b, frac, 4);
}

/* Buffers kept per thread for reuse: enough for the requests a worker has in flight at once
 * under load; what a burst frees beyond it goes back to malloc, and from there to the system
 * (the store thread trims), so an instance that served a burst does not keep megabytes. */
#define POOL_MAX 128

typedef struct pool_item {
    struct pool_item *next;
} pool_item_t;

static _Thread_local pool_item_t *pool;
static _Thread_local unsigned pool_len;

int buf_pool_take(buf_t *b)
{
    if (b->p)
        return 0;
    char *p;
    if (pool) {
        p = (char *)pool;
        pool = pool->next;
        pool_len--;
    } else if (!(p = malloc(BUF_POOL_SIZE))) {
        return -1;
    }
    b->p = p;
    b->n = 0;
    b->cap = BUF_POOL_SIZE;
    return 0;
}

void buf_pool_give(buf_t *b)
{
    if (b->p && b->cap == BUF_POOL_SIZE && pool_len < POOL_MAX) {
        pool_item_t *item = (pool_item_t *)(void *)b->p;
        item->next = pool;
        pool = item;
        pool_len++;
    } else {
        free(b->p);
    }
    b->p = NULL;
    b->n = b->cap = 0;
}

unsigned buf_pool_trim(unsigned keep)
{
    unsigned freed = 0;
    while (pool && pool_len > keep) {
        pool_item_t *item = pool;
        pool = item->next;
        pool_len--;
        free(item);
        freed++;
    }
    return freed;
}

void buf_pool_thread_cleanup(void)
{
    while (pool) {
        pool_item_t *item = pool;
        pool = item->next;
        free(item);
    }
    pool_len = 0;
}
