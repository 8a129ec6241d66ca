/* SPDX-License-Identifier: MIT
 * The counters behind /mock/stats and /mock/reset, shared by all workers. Plain counters are
 * per-worker atomics (no shared cache line per request); the last request is kept per worker
 * and the newest one wins when rendering; by_id, touched only by tagged test requests, is one
 * hash table under a mutex. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "mock.h"

#define MOCK_ID_BUCKETS 256

typedef struct mock_id_entry {
    struct mock_id_entry *next;
    uint64_t requests, completed, aborted;
    size_t n;
    char key[]; /* n bytes, NUL-terminated */
} mock_id_entry_t;

static mock_worker_t *mock_stats_workers;
static int mock_stats_nworkers;
static pthread_mutex_t mock_id_lock = PTHREAD_MUTEX_INITIALIZER;
static mock_id_entry_t *mock_id_table[MOCK_ID_BUCKETS];

void mock_stats_init(mock_worker_t *workers, int n)
{
    mock_stats_workers = workers;
    mock_stats_nworkers = n;
    for (int i = 0; i < n; i++) {
        mock_worker_stats_t *s = &workers[i].stats;
        atomic_init(&s->requests, 0);
        atomic_init(&s->streams_started, 0);
        atomic_init(&s->streams_completed, 0);
        atomic_init(&s->streams_aborted, 0);
        pthread_mutex_init(&s->last_lock, NULL);
        s->last_ns = 0;
        s->last_raw = (buf_t){0};
    }
}

static void mock_id_clear(void)
{
    for (size_t i = 0; i < MOCK_ID_BUCKETS; i++) {
        mock_id_entry_t *e = mock_id_table[i];
        while (e) {
            mock_id_entry_t *next = e->next;
            free(e);
            e = next;
        }
        mock_id_table[i] = NULL;
    }
}

void mock_stats_destroy(void)
{
    for (int i = 0; i < mock_stats_nworkers; i++) {
        mock_worker_stats_t *s = &mock_stats_workers[i].stats;
        pthread_mutex_destroy(&s->last_lock);
        buf_free(&s->last_raw);
    }
    pthread_mutex_lock(&mock_id_lock);
    mock_id_clear();
    pthread_mutex_unlock(&mock_id_lock);
}

#define MOCK_SLICE(s, f) str_make((s)->last_raw.p + (s)->f.off, (s)->f.n)

/* Appends {"method":..,"path":..,"query":..,"headers":{..},"body":".."} of the recorded request.
 * Header names are lowercased (they are case-insensitive) and repeated headers joined with ", "
 * so the object has unique keys. Caller holds s->last_lock. */
static void mock_last_request_json(buf_t *b, const mock_worker_stats_t *s)
{
    buf_append_cstr(b, "{\"method\":");
    buf_append_json_string(b, MOCK_SLICE(s, last_method));
    buf_append_cstr(b, ",\"path\":");
    buf_append_json_string(b, MOCK_SLICE(s, last_path));
    buf_append_cstr(b, ",\"query\":");
    buf_append_json_string(b, MOCK_SLICE(s, last_query));
    buf_append_cstr(b, ",\"headers\":{");
    char lower[256];
    bool first = true;
    for (size_t i = 0; i < s->last_num_headers; i++) {
        str_t name = MOCK_SLICE(s, last_names[i]);
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = str_case_eq(MOCK_SLICE(s, last_names[j]), name);
        if (seen)
            continue;
        size_t n = MIN(name.n, sizeof lower);
        for (size_t k = 0; k < n; k++)
            lower[k] = (char)tolower((unsigned char)name.p[k]);
        if (!first)
            buf_append(b, ",", 1);
        first = false;
        buf_append_json_string(b, str_make(lower, n));
        buf_append(b, ":", 1);
        buf_t joined = {0};
        for (size_t j = i; j < s->last_num_headers; j++) {
            if (!str_case_eq(MOCK_SLICE(s, last_names[j]), name))
                continue;
            if (joined.n)
                buf_append(&joined, ", ", 2);
            buf_append_str(&joined, MOCK_SLICE(s, last_values[j]));
        }
        buf_append_json_string(b, str_make(joined.p, joined.n));
        buf_free(&joined);
    }
    buf_append_cstr(b, "},\"body\":");
    buf_append_json_string(b, MOCK_SLICE(s, last_body));
    buf_append(b, "}", 1);
}

/* Widens [*lo, *hi) to cover slice v. */
static void mock_span_cover(str_t v, const char **lo, const char **hi)
{
    if (!v.p)
        return;
    if (!*lo || v.p < *lo)
        *lo = v.p;
    if (!*hi || v.p + v.n > *hi)
        *hi = v.p + v.n;
}

void mock_stats_record(mock_worker_t *w, const http_req_t *req)
{
    mock_worker_stats_t *s = &w->stats;
    const http_head_t *h = &req->head;
    atomic_fetch_add_explicit(&s->requests, 1, memory_order_relaxed);
    /* every slice of the head points into one buffer: copy the span they cover at once */
    const char *lo = NULL, *hi = NULL;
    mock_span_cover(h->method, &lo, &hi);
    mock_span_cover(h->target, &lo, &hi);
    for (size_t i = 0; i < h->num_headers; i++) {
        mock_span_cover(h->headers[i].name, &lo, &hi);
        mock_span_cover(h->headers[i].value, &lo, &hi);
    }
    size_t span = lo ? (size_t)(hi - lo) : 0;
#define MOCK_OFF(v) ((v).n ? (uint32_t)((v).p - lo) : 0)
    pthread_mutex_lock(&s->last_lock);
    s->last_raw.n = 0;
    if (s->last_raw.cap > (1u << 20) && span + req->body.n < (1u << 16))
        buf_free(&s->last_raw); /* a huge body should not stay pinned in every worker */
    if (buf_reserve(&s->last_raw, span + req->body.n) == 0) {
        buf_append(&s->last_raw, lo, span);
        buf_append_str(&s->last_raw, req->body);
        s->last_method.off = MOCK_OFF(h->method);
        s->last_method.n = (uint32_t)h->method.n;
        s->last_path.off = MOCK_OFF(h->path);
        s->last_path.n = (uint32_t)h->path.n;
        s->last_query.off = MOCK_OFF(h->query);
        s->last_query.n = (uint32_t)h->query.n;
        s->last_body.off = (uint32_t)span;
        s->last_body.n = (uint32_t)req->body.n;
        for (size_t i = 0; i < h->num_headers; i++) {
            s->last_names[i].off = MOCK_OFF(h->headers[i].name);
            s->last_names[i].n = (uint32_t)h->headers[i].name.n;
            s->last_values[i].off = MOCK_OFF(h->headers[i].value);
            s->last_values[i].n = (uint32_t)h->headers[i].value.n;
        }
        s->last_num_headers = h->num_headers;
        s->last_ns = uv_hrtime();
    }
    pthread_mutex_unlock(&s->last_lock);
#undef MOCK_OFF
}

static uint64_t mock_id_hash(str_t id)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < id.n; i++)
        h = (h ^ (unsigned char)id.p[i]) * 1099511628211ull;
    return h;
}

/* Caller holds mock_id_lock. */
static mock_id_entry_t *mock_id_find(str_t id, bool create)
{
    mock_id_entry_t **slot = &mock_id_table[mock_id_hash(id) % MOCK_ID_BUCKETS];
    for (mock_id_entry_t *e = *slot; e; e = e->next)
        if (e->n == id.n && memcmp(e->key, id.p, id.n) == 0)
            return e;
    if (!create)
        return NULL;
    mock_id_entry_t *e = xcalloc(1, sizeof *e + id.n + 1);
    memcpy(e->key, id.p, id.n);
    e->n = id.n;
    e->next = *slot;
    *slot = e;
    return e;
}

uint64_t mock_stats_id_request(str_t id)
{
    pthread_mutex_lock(&mock_id_lock);
    mock_id_entry_t *e = mock_id_find(id, true);
    uint64_t n = ++e->requests;
    pthread_mutex_unlock(&mock_id_lock);
    return n;
}

void mock_stats_id_end(str_t id, bool completed, bool aborted)
{
    pthread_mutex_lock(&mock_id_lock);
    /* not re-created: a request that straddled /mock/reset belongs to no one */
    mock_id_entry_t *e = mock_id_find(id, false);
    if (e) {
        e->completed += completed;
        e->aborted += aborted;
    }
    pthread_mutex_unlock(&mock_id_lock);
}

void mock_stats_render(buf_t *out)
{
    unsigned long long requests = 0, started = 0, completed = 0, aborted = 0;
    for (int i = 0; i < mock_stats_nworkers; i++) {
        mock_worker_stats_t *s = &mock_stats_workers[i].stats;
        requests += atomic_load_explicit(&s->requests, memory_order_relaxed);
        started += atomic_load_explicit(&s->streams_started, memory_order_relaxed);
        completed += atomic_load_explicit(&s->streams_completed, memory_order_relaxed);
        aborted += atomic_load_explicit(&s->streams_aborted, memory_order_relaxed);
    }
    buf_printf(out,
               "{\"requests\":%llu,\"streams_started\":%llu,\"streams_completed\":%llu,"
               "\"streams_aborted\":%llu,\"last_request\":",
               requests, started, completed, aborted);
    /* copy the newest, each worker's under its own lock; a newer one replaces the copy */
    size_t mark = out->n;
    uint64_t newest_ns = 0;
    for (int i = 0; i < mock_stats_nworkers; i++) {
        mock_worker_stats_t *s = &mock_stats_workers[i].stats;
        pthread_mutex_lock(&s->last_lock);
        if (s->last_ns > newest_ns) {
            newest_ns = s->last_ns;
            out->n = mark;
            mock_last_request_json(out, s);
        }
        pthread_mutex_unlock(&s->last_lock);
    }
    if (out->n == mark)
        buf_append_cstr(out, "null");
    buf_append_cstr(out, ",\"by_id\":{");
    bool first = true;
    pthread_mutex_lock(&mock_id_lock);
    for (size_t i = 0; i < MOCK_ID_BUCKETS; i++) {
        for (const mock_id_entry_t *e = mock_id_table[i]; e; e = e->next) {
            if (!first)
                buf_append(out, ",", 1);
            first = false;
            buf_append_json_string(out, str_make(e->key, e->n));
            buf_printf(out, ":{\"requests\":%llu,\"aborted\":%llu,\"completed\":%llu}",
                       (unsigned long long)e->requests, (unsigned long long)e->aborted,
                       (unsigned long long)e->completed);
        }
    }
    pthread_mutex_unlock(&mock_id_lock);
    buf_append_cstr(out, "}}");
}

void mock_stats_reset(void)
{
    for (int i = 0; i < mock_stats_nworkers; i++) {
        mock_worker_stats_t *s = &mock_stats_workers[i].stats;
        atomic_store_explicit(&s->requests, 0, memory_order_relaxed);
        atomic_store_explicit(&s->streams_started, 0, memory_order_relaxed);
        atomic_store_explicit(&s->streams_completed, 0, memory_order_relaxed);
        atomic_store_explicit(&s->streams_aborted, 0, memory_order_relaxed);
        pthread_mutex_lock(&s->last_lock);
        s->last_ns = 0;
        s->last_raw.n = 0;
        pthread_mutex_unlock(&s->last_lock);
    }
    pthread_mutex_lock(&mock_id_lock);
    mock_id_clear();
    pthread_mutex_unlock(&mock_id_lock);
}
