/* SPDX-License-Identifier: MIT
 * Aborting allocators and the small string helpers that are not worth inlining. */
#include "core/common.h"
#include "core/str.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static void out_of_memory(size_t n)
{
    fprintf(stderr, "sluice: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

void *xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p)
        out_of_memory(count * n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

long long str_to_ll(str_t s)
{
    if (s.n == 0 || s.n > 18)
        return -1;
    long long v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        v = v * 10 + (s.p[i] - '0');
    }
    return v;
}

bool str_list_has_token(str_t list, str_t tok)
{
    size_t i = 0;
    while (i < list.n) {
        size_t start = i;
        while (i < list.n && list.p[i] != ',')
            i++;
        str_t item = str_trim(str_make(list.p + start, i - start));
        if (str_case_eq(item, tok))
            return true;
        i++;
    }
    return false;
}

void thread_name(const char *name)
{
    char n[16];
    snprintf(n, sizeof n, "%s", name);
    pthread_setname_np(pthread_self(), n);
}

void thread_background(const char *name)
{
    thread_name(name);
    /* per thread on Linux: PRIO_PROCESS with a thread id; raising nice needs no privilege */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10); /* best effort */
}
