/* SPDX-License-Identifier: MIT
 * Small macros every module uses. No dependencies on other sluice modules. */
#ifndef SLUICE_CORE_COMMON_H
#define SLUICE_CORE_COMMON_H

#include <stddef.h>

#define CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define COUNTOF(a) (sizeof(a) / sizeof((a)[0]))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
/* Names the calling thread (shown by top -H, ps -L; at most 15 characters). */
void thread_name(const char *name);
/* Names the calling thread and lowers its CPU priority (nice +10): the store, control-plane and
 * sync threads do background work and must lose the CPU to the workers when both want it. */
void thread_background(const char *name);

#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
/* Names the calling thread (shown by top -H, ps -L; at most 15 characters). */
void thread_name(const char *name);
/* Names the calling thread and lowers its CPU priority (nice +10): the store, control-plane and
 * sync threads do background work and must lose the CPU to the workers when both want it. */
void thread_background(const char *name);

#endif

/* Aborting allocators for start-up and control-plane memory (never for client-sized input). */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Names the calling thread (shown by top -H, ps -L; at most 15 characters). */
void thread_name(const char *name);
/* Names the calling thread and lowers its CPU priority (nice +10): the store, control-plane and
 * sync threads do background work and must lose the CPU to the workers when both want it. */
void thread_background(const char *name);

#endif
