/* SPDX-License-Identifier: MIT */
#include "core/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
    arena_chunk_t *next;
    size_t size; /* usable bytes after the header */
    _Alignas(16) char data[];
};

/* Standard-size chunks are cached per thread; each worker is one thread. A request rarely needs
 * more than one; the cap bounds what a burst leaves behind (64 x 8 KiB). */
#define CACHE_MAX 64
static _Thread_local arena_chunk_t *chunk_cache;
static _Thread_local unsigned chunk_cache_len;

static arena_chunk_t *chunk_new(size_t size)
{
    if (size == ARENA_CHUNK_SIZE && chunk_cache) {
        arena_chunk_t *c = chunk_cache;
        chunk_cache = c->next;
        chunk_cache_len--;
        return c;
    }
    arena_chunk_t *c = malloc(sizeof(arena_chunk_t) + size);
    if (c)
        c->size = size;
    return c;
}

static void chunk_free(arena_chunk_t *c)
{
    if (c->size == ARENA_CHUNK_SIZE && chunk_cache_len < CACHE_MAX) {
        c->next = chunk_cache;
        chunk_cache = c;
        chunk_cache_len++;
        return;
    }
    free(c);
}

void *arena_alloc(arena_t *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (a->head && a->head->size - a->used >= n) {
        void *p = a->head->data + a->used;
        a->used += n;
        return p;
    }
    if (n > ARENA_CHUNK_SIZE / 2) {
        /* big allocations get their own chunk, placed behind the head so it stays current */
        arena_chunk_t *c = chunk_new(n);
        if (!c)
            return NULL;
        if (a->head) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = NULL;
            a->head = c;
            a->used = c->size;
        }
        return c->data;
    }
    arena_chunk_t *c = chunk_new(ARENA_CHUNK_SIZE);
    if (!c)
        return NULL;
    c->next = a->head;
    a->head = c;
    a->used = n;
    return c->data;
}

char *arena_strndup(arena_t *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

str_t arena_str_copy(arena_t *a, str_t s)
{
    char *d = arena_strndup(a, s.p, s.n);
    return d ? str_make(d, s.n) : STR_NULL;
}

char *arena_printf(arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int len = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (len < 0)
        return NULL;
    char *d = arena_alloc(a, (size_t)len + 1);
    if (!d)
        return NULL;
    if ((size_t)len < sizeof tmp) {
        memcpy(d, tmp, (size_t)len + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(d, (size_t)len + 1, fmt, ap);
        va_end(ap);
    }
    return d;
}

void arena_reset(arena_t *a)
{
    arena_chunk_t *c = a->head;
    while (c) {
        arena_chunk_t *next = c->next;
        chunk_free(c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
}

unsigned arena_cache_trim(unsigned keep)
{
    unsigned freed = 0;
    while (chunk_cache && chunk_cache_len > keep) {
        arena_chunk_t *c = chunk_cache;
        chunk_cache = c->next;
        chunk_cache_len--;
        free(c);
        freed++;
    }
    return freed;
}

void arena_thread_cleanup(void)
{
    while (chunk_cache) {
        arena_chunk_t *c = chunk_cache;
        chunk_cache = c->next;
        free(c);
    }
    chunk_cache_len = 0;
}
