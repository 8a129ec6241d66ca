/* SPDX-License-Identifier: MIT
 * arena_t: request-scoped memory. Everything a request allocates comes from its arena and dies
 * together when the request ends. Chunks are recycled through a per-thread cache, so a steady
 * stream of requests does not call malloc. */
#ifndef SLUICE_CORE_ARENA_H
#define SLUICE_CORE_ARENA_H

#include <stddef.h>

#include "core/str.h"

typedef struct arena_chunk arena_chunk_t;

typedef struct {
    arena_chunk_t *head; /* newest chunk first */
    size_t used;         /* bytes used in head */
} arena_t;

#define ARENA_CHUNK_SIZE 8192

/* Returns 16-byte aligned memory valid until arena_reset; NULL when memory runs out. */
void *arena_alloc(arena_t *a, size_t n);
/* Copies bytes into the arena; the copy is NUL-terminated. */
char *arena_strndup(arena_t *a, const char *s, size_t n);
str_t arena_str_copy(arena_t *a, str_t s);
/* Formats into the arena. */
char *arena_printf(arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Releases every allocation; chunks go back to this thread's cache. */
void arena_reset(arena_t *a);

/* Frees this thread's cache of recycled chunks; call when a thread that used arenas ends. */
void arena_thread_cleanup(void);
/* Frees this thread's cached chunks beyond `keep`. Returns how many were freed. */
unsigned arena_cache_trim(unsigned keep);

#endif
