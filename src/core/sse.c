/* SPDX-License-Identifier: MIT
 * sse: the WHATWG event-stream parser and writer. Lines are handled where they lie in the
 * caller's input and copied only when one spans two feeds or an event outlives its feed, so
 * the usual one-chunk "data: {...}\n\n" event is dispatched without a copy. */
#include "core/sse.h"

#include <string.h>

static const unsigned char bom_bytes[3] = {0xEF, 0xBB, 0xBF};

void sse_parser_init(sse_parser_t *sp, size_t max_event)
{
    memset(sp, 0, sizeof(*sp));
    sp->max_event = max_event ? max_event : SSE_MAX_EVENT_DEFAULT;
    sp->retry = -1;
}

void sse_parser_reset(sse_parser_t *sp)
{
    sp->line.n = sp->data.n = sp->event.n = sp->id.n = 0;
    sp->data_ref = sp->event_ref = STR_NULL;
    sp->has_data_ref = sp->has_event_ref = sp->skip_lf = sp->stopped = false;
    sp->bom = 0;
    sp->retry = -1;
}

void sse_parser_free(sse_parser_t *sp)
{
    buf_free(&sp->line);
    buf_free(&sp->data);
    buf_free(&sp->event);
    buf_free(&sp->id);
    sse_parser_reset(sp);
}

/* First CR or LF in [p, end), or NULL. */
static const char *find_eol(const char *p, const char *end)
{
    size_t n = (size_t)(end - p);
    const char *lf = memchr(p, '\n', n);
    const char *cr = memchr(p, '\r', lf ? (size_t)(lf - p) : n);
    return cr ? cr : lf;
}

/* Bytes of data the pending event holds, its line feeds included. */
static size_t data_len(const sse_parser_t *sp)
{
    return sp->data.n + (sp->has_data_ref ? sp->data_ref.n + 1 : 0);
}

/* Copies whatever still points into the caller's input into the parser's own buffers. */
static int own_pending(sse_parser_t *sp)
{
    if (sp->has_data_ref) {
        if (buf_append_str(&sp->data, sp->data_ref) != 0 || buf_append(&sp->data, "\n", 1) != 0)
            return -1;
        sp->has_data_ref = false;
    }
    if (sp->has_event_ref) {
        sp->event.n = 0;
        if (buf_append_str(&sp->event, sp->event_ref) != 0)
            return -1;
        sp->has_event_ref = false;
    }
    return 0;
}

static int append_data(sse_parser_t *sp, str_t value, bool in_input)
{
    size_t have = data_len(sp);
    if (have > sp->max_event || value.n + 1 > sp->max_event - have)
        return -1;
    if (in_input && have == 0) {
        sp->data_ref = value;
        sp->has_data_ref = true;
        return 0;
    }
    if (own_pending(sp) != 0 || buf_append_str(&sp->data, value) != 0 ||
        buf_append(&sp->data, "\n", 1) != 0)
        return -1;
    return 0;
}

static int set_event_type(sse_parser_t *sp, str_t value, bool in_input)
{
    if (in_input) {
        sp->event_ref = value;
        sp->has_event_ref = true;
        return 0;
    }
    sp->has_event_ref = false;
    sp->event.n = 0;
    return buf_append_str(&sp->event, value);
}

static void set_retry(sse_parser_t *sp, str_t value)
{
    long long v = 0;
    if (value.n == 0)
        return;
    for (size_t i = 0; i < value.n; i++) {
        if (value.p[i] < '0' || value.p[i] > '9')
            return; /* not only digits: the spec says ignore the field */
        if (v < 1000000000000LL)
            v = v * 10 + (value.p[i] - '0'); /* saturates near 10^13 ms: centuries */
    }
    sp->retry = v;
}

static int dispatch(sse_parser_t *sp, int (*on_event)(void *arg, const sse_event_t *ev), void *arg)
{
    sse_event_t ev;
    if (sp->has_data_ref)
        ev.data = sp->data_ref;
    else if (sp->data.n)
        ev.data = str_make(sp->data.p, sp->data.n - 1); /* the last line's '\n' is not data */
    else
        ev.data = STR_NULL;
    if (sp->has_event_ref && sp->event_ref.n)
        ev.event = sp->event_ref;
    else if (!sp->has_event_ref && sp->event.n)
        ev.event = str_make(sp->event.p, sp->event.n);
    else
        ev.event = STR_LIT("message");
    ev.id = sp->id.n ? str_make(sp->id.p, sp->id.n) : STR_LIT("");
    ev.retry = sp->retry;
    bool has_data = sp->has_data_ref || sp->data.n;
    /* reset first: the slices stay valid (buffers keep their bytes) while on_event runs */
    sp->data.n = sp->event.n = 0;
    sp->has_data_ref = sp->has_event_ref = false;
    if (!has_data || !on_event)
        return 0; /* a block without data lines dispatches nothing, per the spec */
    return on_event(arg, &ev);
}

static int process_line(sse_parser_t *sp, str_t line, bool in_input,
                        int (*on_event)(void *arg, const sse_event_t *ev), void *arg)
{
    if (line.n == 0)
        return dispatch(sp, on_event, arg);
    if (line.p[0] == ':')
        return 0; /* comment, e.g. a keep-alive ": ping" */
    str_t field = line, value = str_make(line.p + line.n, 0);
    const char *colon = memchr(line.p, ':', line.n);
    if (colon) {
        field.n = (size_t)(colon - line.p);
        value = str_make(colon + 1, line.n - field.n - 1);
        if (value.n && value.p[0] == ' ')
            value = str_skip(value, 1);
    }
    if (str_eq(field, STR_LIT("data")))
        return append_data(sp, value, in_input);
    if (str_eq(field, STR_LIT("event")))
        return set_event_type(sp, value, in_input);
    if (str_eq(field, STR_LIT("id"))) {
        if (value.n && memchr(value.p, '\0', value.n))
            return 0; /* the spec ignores ids holding NUL */
        sp->id.n = 0;
        return buf_append_str(&sp->id, value);
    }
    if (str_eq(field, STR_LIT("retry")))
        set_retry(sp, value);
    return 0; /* unknown fields are ignored */
}

int sse_feed(sse_parser_t *sp, const char *p, size_t n,
             int (*on_event)(void *arg, const sse_event_t *ev), void *arg)
{
    int rc;
    if (sp->stopped)
        return -1;
    if (n == 0)
        return 0;
    const char *end = p + n;

    /* one leading BOM is dropped, even when it arrives a byte at a time */
    while (sp->bom < 3 && p < end) {
        if ((unsigned char)*p == bom_bytes[sp->bom]) {
            sp->bom++;
            p++;
            continue;
        }
        if (sp->bom && buf_append(&sp->line, bom_bytes, sp->bom) != 0)
            goto fail; /* not a BOM after all: those bytes begin the first line */
        sp->bom = 3;
    }
    if (sp->skip_lf && p < end) {
        sp->skip_lf = false;
        if (*p == '\n')
            p++;
    }

    while (p < end) {
        const char *eol = find_eol(p, end);
        size_t len = (size_t)((eol ? eol : end) - p);
        /* one cap for complete and partial lines, so the result never depends on the split */
        if (sp->line.n > sp->max_event || len > sp->max_event - sp->line.n)
            goto fail;
        if (!eol) {
            if (buf_append(&sp->line, p, len) != 0)
                goto fail;
            break;
        }
        str_t line = str_make(p, len);
        bool in_input = true;
        if (sp->line.n) {
            if (buf_append(&sp->line, p, len) != 0)
                goto fail;
            line = str_make(sp->line.p, sp->line.n);
            in_input = false;
        }
        rc = process_line(sp, line, in_input, on_event, arg);
        sp->line.n = 0;
        if (rc != 0)
            goto stop; /* over the cap, out of memory, or on_event's stop */
        p = eol + 1;
        if (*eol == '\r') {
            if (p == end)
                sp->skip_lf = true;
            else if (*p == '\n')
                p++;
        }
    }
    if (own_pending(sp) != 0)
        goto fail;
    return 0;

fail:
    rc = -1;
stop:
    sp->stopped = true;
    return rc;
}

/* Appends one "data: " line per line of data; the caller restores out on failure. */
static int append_data_lines(buf_t *out, str_t data)
{
    if (data.n == 0)
        return buf_append(out, "data: \n", 7);
    const char *p = data.p, *end = data.p + data.n;
    for (;;) {
        const char *eol = find_eol(p, end);
        size_t len = (size_t)((eol ? eol : end) - p);
        if (buf_append(out, "data: ", 6) != 0 || buf_append(out, p, len) != 0 ||
            buf_append(out, "\n", 1) != 0)
            return -1;
        if (!eol)
            return 0;
        p = eol + 1;
        if (*eol == '\r' && p < end && *p == '\n')
            p++;
    }
}

int sse_append_event(buf_t *out, str_t event_name, str_t data)
{
    size_t saved = out->n;
    if (event_name.n && find_eol(event_name.p, event_name.p + event_name.n))
        return -1;
    /* one reservation covers the usual single-line event */
    if (buf_reserve(out, event_name.n + data.n + 16) != 0)
        return -1;
    if (event_name.n && (buf_append(out, "event: ", 7) != 0 ||
                         buf_append_str(out, event_name) != 0 || buf_append(out, "\n", 1) != 0))
        goto fail;
    if (append_data_lines(out, data) != 0 || buf_append(out, "\n", 1) != 0)
        goto fail;
    return 0;
fail:
    out->n = saved;
    return -1;
}

int sse_append_data(buf_t *out, str_t data)
{
    return sse_append_event(out, STR_NULL, data);
}
