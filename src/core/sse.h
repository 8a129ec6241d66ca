/* SPDX-License-Identifier: MIT
 * sse: an incremental Server-Sent Events parser following the WHATWG event-stream rules (input
 * may be split at any byte), and the writer helpers that frame events the same way. Bytes are
 * not decoded: field values are passed on as the UTF-8 the stream carried. */
#ifndef SLUICE_CORE_SSE_H
#define SLUICE_CORE_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/str.h"

/* Default cap on one line and on one event's joined data; streams over it are rejected. */
#define SSE_MAX_EVENT_DEFAULT (8u << 20)

/* One dispatched event. Every slice is valid only during the on_event call. */
typedef struct {
    str_t event; /* event type; "message" when the block named none */
    str_t data;  /* the block's data lines joined with "\n", no trailing newline */
    str_t id;    /* the stream's last event id so far (it persists across events); may be empty */
    long long retry; /* reconnection time (ms) from the last valid retry field, or -1 */
} sse_event_t;

/* Parser state. Embed it anywhere; the fields are private to sse.c. */
typedef struct {
    buf_t line;        /* a line that started in an earlier feed */
    buf_t data;        /* data lines of the pending event, each followed by '\n' */
    buf_t event;       /* event type of the pending event */
    buf_t id;          /* last event id */
    str_t data_ref;    /* the first data line while it still points into the caller's input */
    str_t event_ref;   /* the event type while it still points into the caller's input */
    bool has_data_ref; /* data_ref holds the (only) data line so far */
    bool has_event_ref;
    bool skip_lf;      /* the last feed ended in CR: a leading LF in the next one is that CRLF */
    bool stopped;      /* an error or a callback's stop: feeds fail until sse_parser_reset */
    unsigned char bom; /* bytes of a leading BOM matched so far; 3 once past the stream start */
    long long retry;
    size_t max_event;
} sse_parser_t;

/* Initialises a parser; max_event caps one line and one event's data (0: SSE_MAX_EVENT_DEFAULT). */
void sse_parser_init(sse_parser_t *sp, size_t max_event);

/* Returns the parser to the start of a new stream, keeping its buffers' memory and its cap. */
void sse_parser_reset(sse_parser_t *sp);

/* Frees the parser's buffers; sse_parser_init makes it usable again. */
void sse_parser_free(sse_parser_t *sp);

/* Parses the next n bytes of the stream, calling on_event for each complete event. Returns 0;
 * -1 when a line or an event's data exceeds the cap or memory runs out; or on_event's non-zero
 * return, which stops parsing (the rest of p is dropped). After a non-zero return every feed
 * fails with -1 until sse_parser_reset. An event without its closing blank line stays pending. */
int sse_feed(sse_parser_t *sp, const char *p, size_t n,
             int (*on_event)(void *arg, const sse_event_t *ev), void *arg);

/* Appends "event: NAME\n" (when event_name is not empty) then one "data: " line per line of
 * data (split at CRLF, LF or CR) and a blank line. -1 (out unchanged) when the name holds a line
 * break or memory runs out. */
int sse_append_event(buf_t *out, str_t event_name, str_t data);

/* Appends an unnamed event, "data: ...\n\n", the framing of OpenAI's streams. -1 on no memory. */
int sse_append_data(buf_t *out, str_t data);

#endif
