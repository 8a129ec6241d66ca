/* SPDX-License-Identifier: MIT
 * The outage spool: spend records the database could not take, kept on local disk until it can.
 * File format (little-endian): records of [magic u32 "SPL1"][length u32][crc32 u32][payload],
 * payload = the record as a JSON object keyed by column name. Appends are one write and one
 * fdatasync per batch, so a crash can only tear the last batch; open cuts a torn tail off.
 * "<path>.cursor" holds the offset replayed so far ([offset u64][crc32 u32]); it is replaced by
 * rename after each committed batch. Replays of a batch whose cursor update was lost are made
 * harmless by the consumer (SpendLogs inserts keyed by request_id). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/common.h"
#include "core/log.h"
#include "store/internal.h"
#include "store/store.h"

#define SPOOL_MAGIC 0x314C5053u /* "SPL1" */
#define SPOOL_HEADER 12
#define SPOOL_MAX_RECORD (16u << 20)

struct store_spool {
    int fd;
    char *path;
    char *cursor_path;
    unsigned long long cursor; /* replayed up to here */
    unsigned long long end;    /* end of the last whole record */
};

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int pread_all(int fd, void *p, size_t n, unsigned long long off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)p + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -1 : 1; /* 1: end of file */
        got += (size_t)r;
    }
    return 0;
}

static int pwrite_all(int fd, const void *p, size_t n, unsigned long long off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pwrite(fd, (const char *)p + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

/* Reads the record at off into *payload (malloc'd, NUL-terminated). 0 read (*next set), 1 no whole
 * valid record there (end, torn or corrupt), -1 I/O error. */
static int read_record(int fd, unsigned long long off, unsigned long long size, char **payload,
                       unsigned long long *next)
{
    unsigned char h[SPOOL_HEADER];
    if (off > size || size - off < SPOOL_HEADER)
        return 1;
    int rc = pread_all(fd, h, sizeof h, off);
    if (rc)
        return rc;
    uint32_t len = get32(h + 4);
    if (get32(h) != SPOOL_MAGIC || len > SPOOL_MAX_RECORD || size - off - SPOOL_HEADER < len)
        return 1;
    char *p = malloc((size_t)len + 1);
    if (!p)
        return -1;
    if ((rc = pread_all(fd, p, len, off + SPOOL_HEADER)) != 0) {
        free(p);
        return rc;
    }
    if (store_crc32(0, p, len) != get32(h + 8)) {
        free(p);
        return 1;
    }
    p[len] = '\0';
    *payload = p;
    *next = off + SPOOL_HEADER + len;
    return 0;
}

static int fsync_dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -1;
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (dfd < 0)
        return -1;
    int rc = fsync(dfd);
    close(dfd);
    return rc;
}

static int cursor_write(store_spool_t *sp, unsigned long long off)
{
    unsigned char b[12];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(off >> (8 * i));
    put32(b + 8, store_crc32(0, b, 8));
    size_t n = strlen(sp->cursor_path);
    char *tmp = malloc(n + 5);
    if (!tmp)
        return -1;
    memcpy(tmp, sp->cursor_path, n);
    memcpy(tmp + n, ".tmp", 5);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = -1;
    if (fd >= 0) {
        rc = pwrite_all(fd, b, sizeof b, 0) < 0 || fdatasync(fd) < 0 ? -1 : 0;
        close(fd);
        if (rc == 0)
            rc = rename(tmp, sp->cursor_path) < 0 || fsync_dir_of(sp->cursor_path) < 0 ? -1 : 0;
    }
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    if (rc == 0)
        sp->cursor = off;
    return rc;
}

static unsigned long long cursor_read(const char *path)
{
    unsigned char b[12];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int rc = pread_all(fd, b, sizeof b, 0);
    close(fd);
    if (rc != 0 || store_crc32(0, b, 8) != get32(b + 8)) {
        log_warn("store: spool cursor %s is unreadable; replaying the spool from its start "
                 "(records already stored are skipped)",
                 path);
        return 0;
    }
    unsigned long long off = 0;
    for (int i = 0; i < 8; i++)
        off |= (unsigned long long)b[i] << (8 * i);
    return off;
}

store_spool_t *store_spool_open(const char *path)
{
    store_spool_t *sp = calloc(1, sizeof *sp);
    if (!sp)
        return NULL;
    sp->fd = -1;
    size_t n = strlen(path);
    sp->path = strdup(path);
    sp->cursor_path = malloc(n + 8);
    if (!sp->path || !sp->cursor_path)
        goto fail;
    memcpy(sp->cursor_path, path, n);
    memcpy(sp->cursor_path + n, ".cursor", 8);
    sp->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (sp->fd < 0)
        goto fail;
    struct stat st;
    if (fstat(sp->fd, &st) < 0)
        goto fail;
    unsigned long long size = (unsigned long long)st.st_size;
    sp->cursor = cursor_read(sp->cursor_path);
    bool reset_cursor = false;
    if (sp->cursor > size) { /* a crash inside store_spool_truncate */
        sp->cursor = 0;
        reset_cursor = true;
    }
    /* Find the end of the last whole record; everything after it is a torn append. */
    unsigned long long off = sp->cursor;
    for (;;) {
        char *payload = NULL;
        unsigned long long next;
        int rc = read_record(sp->fd, off, size, &payload, &next);
        free(payload);
        if (rc < 0)
            goto fail;
        if (rc > 0)
            break;
        off = next;
    }
    sp->end = off;
    if (off < size) {
        log_warn("store: spool %s: dropping %llu byte(s) of a torn or corrupt tail at offset %llu",
                 path, size - off, off);
        if (ftruncate(sp->fd, (off_t)off) < 0 || fsync(sp->fd) < 0)
            goto fail;
    }
    if (reset_cursor && cursor_write(sp, 0) < 0)
        goto fail;
    return sp;
fail : {
    int e = errno;
    store_spool_close(sp);
    errno = e;
    return NULL;
}
}

void store_spool_close(store_spool_t *sp)
{
    if (!sp)
        return;
    if (sp->fd >= 0)
        close(sp->fd);
    free(sp->path);
    free(sp->cursor_path);
    free(sp);
}

/* ---- the record codec ------------------------------------------------------------------------ */

static cJSON *log_to_json(const store_spend_log_t *l)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    for (size_t i = 0; i < store_spend_log_num_fields; i++) {
        const store_field_t *f = &store_spend_log_fields[i];
        const char *base = (const char *)l + f->offset;
        cJSON *v = NULL;
        switch (f->kind) {
        case STORE_F_STR:
        case STORE_F_JSON: {
            const char *s = *(const char *const *)base;
            if (!s)
                continue;
            v = cJSON_CreateString(s);
            break;
        }
        case STORE_F_F64: {
            /* %.17g round-trips every double; cJSON's own printing may drop the last digit */
            char num[32];
            double d = *(const double *)base;
            snprintf(num, sizeof num, "%.17g", isfinite(d) ? d : 0.0);
            v = cJSON_CreateRaw(num);
            break;
        }
        case STORE_F_I64:
        case STORE_F_I64_OPT:
        case STORE_F_TIME: {
            long long x = *(const long long *)base;
            if (x == LLONG_MIN)
                continue;
            /* printed exactly; read back through a double, exact below 2^53 (times, tokens) */
            char num[24];
            snprintf(num, sizeof num, "%lld", x);
            v = cJSON_CreateRaw(num);
            break;
        }
        default:
            continue; /* no other kinds in a spend log */
        }
        if (!v || !cJSON_AddItemToObject(o, f->name, v)) {
            cJSON_Delete(v);
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

/* Fills *l from o; strings point into o. */
static void log_from_json(const cJSON *o, store_spend_log_t *l)
{
    store_spend_log_init(l);
    for (size_t i = 0; i < store_spend_log_num_fields; i++) {
        const store_field_t *f = &store_spend_log_fields[i];
        char *base = (char *)l + f->offset;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, f->name);
        if (!v)
            continue;
        switch (f->kind) {
        case STORE_F_STR:
        case STORE_F_JSON:
            if (cJSON_IsString(v))
                *(const char **)base = v->valuestring;
            break;
        case STORE_F_F64:
            if (cJSON_IsNumber(v))
                *(double *)base = v->valuedouble;
            break;
        case STORE_F_I64:
        case STORE_F_I64_OPT:
        case STORE_F_TIME:
            if (cJSON_IsNumber(v))
                *(long long *)base = (long long)v->valuedouble;
            break;
        default:
            break;
        }
    }
}

int store_spool_append(store_spool_t *sp, const store_spend_log_t *logs, size_t n)
{
    buf_t out = {0};
    for (size_t i = 0; i < n; i++) {
        cJSON *o = log_to_json(&logs[i]);
        char *text = o ? cJSON_PrintUnformatted(o) : NULL;
        cJSON_Delete(o);
        size_t len = text ? strlen(text) : 0;
        unsigned char h[SPOOL_HEADER];
        put32(h, SPOOL_MAGIC);
        put32(h + 4, (uint32_t)len);
        put32(h + 8, store_crc32(0, text, len));
        int rc = !text || len > SPOOL_MAX_RECORD || buf_append(&out, h, sizeof h) < 0 ||
                 buf_append(&out, text, len) < 0;
        free(text);
        if (rc) {
            buf_free(&out);
            errno = ENOMEM;
            return -1;
        }
    }
    if (pwrite_all(sp->fd, out.p, out.n, sp->end) < 0 || fdatasync(sp->fd) < 0) {
        int e = errno;
        if (ftruncate(sp->fd, (off_t)sp->end) < 0) /* a partial batch would be cut at next open */
            log_error("store: spool %s: cannot cut a failed append: %s", sp->path, strerror(errno));
        buf_free(&out);
        errno = e;
        return -1;
    }
    sp->end += out.n;
    buf_free(&out);
    return 0;
}

int store_spool_peek(store_spool_t *sp, size_t max, store_spool_batch_t *b)
{
    *b = (store_spool_batch_t){.next = sp->cursor};
    if (max == 0)
        max = 100;
    if (sp->cursor >= sp->end)
        return 0;
    cJSON **docs = calloc(max, sizeof *docs);
    b->logs = calloc(max, sizeof *b->logs);
    b->offsets = calloc(max, sizeof *b->offsets);
    b->docs = docs;
    if (!docs || !b->logs || !b->offsets) {
        store_spool_batch_free(b);
        errno = ENOMEM;
        return -1;
    }
    unsigned long long off = sp->cursor;
    while (b->n < max && off < sp->end) {
        char *payload = NULL;
        unsigned long long next;
        int rc = read_record(sp->fd, off, sp->end, &payload, &next);
        if (rc != 0) {
            log_alert("store: spool %s: unreadable record at offset %llu", sp->path, off);
            store_spool_batch_free(b);
            if (rc > 0)
                errno = EIO;
            return -1;
        }
        cJSON *doc = cJSON_Parse(payload);
        free(payload);
        if (!cJSON_IsObject(doc)) { /* the CRC held, so this is our bug: skip, say so */
            log_alert("store: spool %s: record at offset %llu is not a JSON object; skipped",
                      sp->path, off);
            cJSON_Delete(doc);
            off = next;
            continue;
        }
        docs[b->n] = doc;
        b->offsets[b->n] = off;
        log_from_json(doc, &b->logs[b->n]);
        b->n++;
        off = next;
    }
    b->next = off;
    return 0;
}

int store_spool_commit(store_spool_t *sp, const store_spool_batch_t *b)
{
    if (b->next <= sp->cursor)
        return 0;
    if (b->next > sp->end) {
        errno = EINVAL;
        return -1;
    }
    if (cursor_write(sp, b->next) < 0) {
        log_error("store: spool %s: cannot save the cursor: %s", sp->path, strerror(errno));
        return -1;
    }
    return 0;
}

void store_spool_batch_free(store_spool_batch_t *b)
{
    cJSON **docs = b->docs;
    for (size_t i = 0; docs && i < b->n; i++)
        cJSON_Delete(docs[i]);
    free(docs);
    free(b->logs);
    free(b->offsets);
    *b = (store_spool_batch_t){0};
}

long store_spool_replay(store_spool_t *sp, size_t batch_max, store_spool_replay_cb cb, void *arg)
{
    long total = 0;
    while (sp->cursor < sp->end) {
        store_spool_batch_t b;
        if (store_spool_peek(sp, batch_max, &b) < 0)
            return -1;
        int rc = b.n ? cb(arg, b.logs, b.n) : 0;
        if (rc == 0 && store_spool_commit(sp, &b) < 0)
            rc = -1;
        total += (long)b.n;
        store_spool_batch_free(&b);
        if (rc != 0)
            return -1;
    }
    return total;
}

unsigned long long store_spool_end(const store_spool_t *sp)
{
    return sp->end;
}

unsigned long long store_spool_pending(const store_spool_t *sp)
{
    return sp->end - sp->cursor;
}

int store_spool_truncate(store_spool_t *sp)
{
    /* Spool first, cursor second: a crash between leaves cursor > size, which open resets. */
    if (ftruncate(sp->fd, 0) < 0 || fsync(sp->fd) < 0)
        return -1;
    sp->end = 0;
    return cursor_write(sp, 0);
}
