/* SPDX-License-Identifier: MIT
 * buf_t: a growable byte buffer. Growth failures are reported, never fatal, because
 * buffers holding client bytes are sized by the client. Callers enforce their own caps. */
#ifndef SLUICE_CORE_BUF_H
#define SLUICE_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/str.h"

typedef struct {
    char *p;
    size_t n;
    size_t cap;
} buf_t;

/* Makes room for `extra` more bytes. 0, or -1 when memory runs out (buffer unchanged). */
int buf_reserve(buf_t *b, size_t extra);
int buf_append(buf_t *b, const void *p, size_t n);
static inline int buf_append_str(buf_t *b, str_t s)
{
    return buf_append(b, s.p, s.n);
}
int buf_append_cstr(buf_t *b, const char *s);
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf_t *b, const char *fmt, va_list ap);
/* Appends `s` as a JSON string literal, quotes included. */
int buf_append_json_string(buf_t *b, str_t s);
/* Appends a decimal number without printf. */
int buf_append_u64(buf_t *b, unsigned long long v);

/* Appends nanoseconds as milliseconds with three decimals ("12.345"), without printf. */
int buf_append_ms(buf_t *b, unsigned long long ns);

/* Drops the first n bytes, moving the rest to the front. */
void buf_consume(buf_t *b, size_t n);
/* Frees the storage; the buffer is empty and reusable afterwards. */
void buf_free(buf_t *b);
/* A per-thread pool of BUF_POOL_SIZE buffers, so connections can drop their buffers whenever
 * they go idle without a malloc per request. */
#define BUF_POOL_SIZE 4096

/* Gives `b` (empty, no storage) a pooled buffer of BUF_POOL_SIZE bytes. 0, or -1 on OOM. */
int buf_pool_take(buf_t *b);

/* Returns b's storage to this thread's pool (or frees it if it grew); `b` is empty after. */
void buf_pool_give(buf_t *b);

/* Frees this thread's pool; call when a thread that used it ends. */
void buf_pool_thread_cleanup(void);
/* Frees this thread's pooled buffers beyond `keep` (an idle worker gives a burst's back). Returns
 * how many were freed. */
unsigned buf_pool_trim(unsigned keep);

/* Returns a NUL-terminated view (appends a NUL that is not counted in n); NULL on OOM. */
const char *buf_cstr(buf_t *b);

#endif
