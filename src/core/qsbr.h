/* SPDX-License-Identifier: MIT
 * Quiescent-state-based reclamation (QSBR, userspace-RCU's cheapest flavour) for structures that
 * readers walk without locks: a writer unpublishes an object, retires it here, and it is freed once
 * every online reader has passed a quiescent point (a moment where it holds no pointer into the
 * structure, e.g. between two turns of its event loop). Readers never take a lock and never write
 * shared memory except their own cache line, once per quiescent point. The same scheme as the key
 * cache's (docs/keys.md), packaged for reuse: src/limits uses it. */
#ifndef SLUICE_CORE_QSBR_H
#define SLUICE_CORE_QSBR_H

typedef struct qsbr qsbr_t;
typedef struct qsbr_reader qsbr_reader_t;

#define QSBR_MAX_READERS 128

/* A domain: its readers and its retired memory. Never fails (aborts on OOM at start-up). */
qsbr_t *qsbr_new(void);
/* Frees everything still retired, then the domain. No reader may be using it (accepts NULL). */
void qsbr_free(qsbr_t *q);

/* Registers the calling thread as a reader, online. NULL when QSBR_MAX_READERS are taken. */
qsbr_reader_t *qsbr_reader_register(qsbr_t *q);
/* Goes offline and gives the slot back (accepts NULL). */
void qsbr_reader_unregister(qsbr_reader_t *r);
/* This thread holds no pointer obtained before this call. Once per loop turn. */
void qsbr_quiescent(qsbr_reader_t *r);
/* The thread will not read until qsbr_online (e.g. before blocking in poll): writers do not wait
 * for an offline reader. */
void qsbr_offline(qsbr_reader_t *r);
void qsbr_online(qsbr_reader_t *r);

/* Hands `p` (already unreachable for new readers) to the domain: free_fn(p) runs once every
 * reader online now has passed a quiescent point. Called by writers; takes a mutex. */
void qsbr_retire(qsbr_t *q, void *p, void (*free_fn)(void *));
/* Frees what is safe to free now. Writers call it after retiring and from a periodic timer. */
void qsbr_reclaim(qsbr_t *q);
/* How many objects wait for a grace period (tests, stats). */
unsigned long qsbr_pending(qsbr_t *q);

#endif
