/* SPDX-License-Identifier: MIT
 * QSBR: a global grace-period counter, one cache line per reader holding the counter value it saw
 * at its last quiescent point (0 when offline), and a mutex-protected list of retired objects, each
 * stamped with the counter value that readers must reach before it may be freed. */
#include "core/qsbr.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/common.h"

#define CACHE_LINE 64

typedef struct retired {
    struct retired *next;
    void *p;
    void (*free_fn)(void *);
    uint64_t epoch;
} retired_t;

struct qsbr_reader {
    alignas(CACHE_LINE) _Atomic uint64_t seen; /* 0 offline, else the epoch at the last QS */
    qsbr_t *domain;
    bool used; /* under the domain's lock */
};

struct qsbr {
    struct qsbr_reader reader[QSBR_MAX_READERS];
    alignas(CACHE_LINE) _Atomic uint64_t epoch; /* grace-period counter, starts at 1 */
    pthread_mutex_t lock;                       /* retired list and reader slots */
    retired_t *retired;
    unsigned long pending;
};

qsbr_t *qsbr_new(void)
{
    qsbr_t *q = xcalloc(1, sizeof *q);
    for (unsigned i = 0; i < QSBR_MAX_READERS; i++) {
        atomic_init(&q->reader[i].seen, 0);
        q->reader[i].domain = q;
    }
    atomic_init(&q->epoch, 1);
    pthread_mutex_init(&q->lock, NULL);
    return q;
}

void qsbr_free(qsbr_t *q)
{
    if (!q)
        return;
    for (retired_t *r = q->retired, *next; r; r = next) {
        next = r->next;
        r->free_fn(r->p);
        free(r);
    }
    pthread_mutex_destroy(&q->lock);
    free(q);
}

qsbr_reader_t *qsbr_reader_register(qsbr_t *q)
{
    qsbr_reader_t *r = NULL;
    pthread_mutex_lock(&q->lock);
    for (unsigned i = 0; i < QSBR_MAX_READERS && !r; i++)
        if (!q->reader[i].used) {
            r = &q->reader[i];
            r->used = true;
        }
    pthread_mutex_unlock(&q->lock);
    if (r)
        qsbr_online(r);
    return r;
}

void qsbr_reader_unregister(qsbr_reader_t *r)
{
    if (!r)
        return;
    qsbr_offline(r);
    pthread_mutex_lock(&r->domain->lock);
    r->used = false;
    pthread_mutex_unlock(&r->domain->lock);
}

void qsbr_quiescent(qsbr_reader_t *r)
{
    /* release: every read of old objects happens before a writer sees the new value here */
    uint64_t e = atomic_load_explicit(&r->domain->epoch, memory_order_acquire);
    atomic_store_explicit(&r->seen, e, memory_order_release);
}

void qsbr_offline(qsbr_reader_t *r)
{
    atomic_store_explicit(&r->seen, 0, memory_order_release);
}

void qsbr_online(qsbr_reader_t *r)
{
    /* Dekker with the fence in qsbr_reclaim: either the writer sees this reader online, or this
     * reader sees every unpublishing store that preceded the retire. */
    atomic_store_explicit(&r->seen, atomic_load(&r->domain->epoch), memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
}

void qsbr_retire(qsbr_t *q, void *p, void (*free_fn)(void *))
{
    if (!p)
        return;
    retired_t *r = xmalloc(sizeof *r);
    r->p = p;
    r->free_fn = free_fn;
    /* the increment orders the unpublishing stores before any reader's later epoch load */
    r->epoch = atomic_fetch_add(&q->epoch, 1) + 1;
    pthread_mutex_lock(&q->lock);
    r->next = q->retired;
    q->retired = r;
    q->pending++;
    pthread_mutex_unlock(&q->lock);
}

void qsbr_reclaim(qsbr_t *q)
{
    atomic_thread_fence(memory_order_seq_cst);
    pthread_mutex_lock(&q->lock);
    uint64_t safe = UINT64_MAX; /* everything retired at an epoch <= safe can go */
    for (unsigned i = 0; i < QSBR_MAX_READERS; i++) {
        uint64_t v = atomic_load_explicit(&q->reader[i].seen, memory_order_acquire);
        if (v && v < safe)
            safe = v;
    }
    retired_t *keep = NULL, *done = NULL;
    for (retired_t *r = q->retired, *next; r; r = next) {
        next = r->next;
        retired_t **to = r->epoch <= safe ? &done : &keep;
        r->next = *to;
        *to = r;
        if (to == &done)
            q->pending--;
    }
    q->retired = keep;
    pthread_mutex_unlock(&q->lock);
    for (retired_t *r = done, *next; r; r = next) {
        next = r->next;
        r->free_fn(r->p);
        free(r);
    }
}

unsigned long qsbr_pending(qsbr_t *q)
{
    pthread_mutex_lock(&q->lock);
    unsigned long n = q->pending;
    pthread_mutex_unlock(&q->lock);
    return n;
}
