/* SPDX-License-Identifier: MIT
 * The AWS event-stream binary framing (application/vnd.amazon.eventstream), as Bedrock's
 * ConverseStream sends it: an incremental decoder fed bytes split anywhere, which checks both
 * CRC32s and every length before it yields a message, and an encoder (sluice-mock, tests).
 * Frame: u32 total length, u32 headers length, u32 CRC of those 8 bytes, headers, payload,
 * u32 CRC of everything before it; integers big-endian, CRC32 as zlib's (IEEE, reflected). */
#ifndef SLUICE_PROVIDERS_EVENTSTREAM_H
#define SLUICE_PROVIDERS_EVENTSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/str.h"

#define EVS_PRELUDE_BYTES 12
#define EVS_MIN_MESSAGE 16                  /* prelude + message CRC, nothing else */
#define EVS_DEFAULT_MAX_MESSAGE (16u << 20) /* AWS's own limit for one message */
#define EVS_MAX_HEADER_BYTES (128u << 10)   /* AWS's limit for the header block */
#define EVS_MAX_HEADERS 32                  /* headers kept per message; more is malformed */

enum {
    EVS_ERR_PRELUDE_CRC = -1, /* the prelude's CRC does not match */
    EVS_ERR_MESSAGE_CRC = -2, /* the message's CRC does not match */
    EVS_ERR_TOO_LARGE = -3,   /* total length above the decoder's limit, or headers above 128 KiB */
    EVS_ERR_MALFORMED = -4,   /* lengths that do not add up, a bad header */
    EVS_ERR_TRUNCATED = -5,   /* evs_finish: the input ended inside a message */
    EVS_ERR_NOMEM = -6,
};

typedef enum {
    EVS_TRUE = 0,
    EVS_FALSE = 1,
    EVS_BYTE = 2,
    EVS_SHORT = 3,
    EVS_INT = 4,
    EVS_LONG = 5,
    EVS_BYTES = 6,
    EVS_STRING = 7,
    EVS_TIMESTAMP = 8, /* int64 milliseconds since the epoch */
    EVS_UUID = 9,      /* 16 bytes */
} evs_type_t;

typedef struct {
    str_t name;
    evs_type_t type;
    str_t value; /* EVS_BYTES, EVS_STRING, EVS_UUID: the bytes */
    int64_t num; /* integers and timestamps; 1 / 0 for EVS_TRUE / EVS_FALSE */
} evs_header_t;

/* One decoded message; every slice points into the decoder's buffer or the fed bytes and is
 * valid only during the callback. */
typedef struct {
    evs_header_t headers[EVS_MAX_HEADERS];
    size_t num_headers;
    str_t payload;
} evs_message_t;

/* Returns non-zero to stop decoding; evs_feed then returns that value. */
typedef int (*evs_message_fn)(void *arg, const evs_message_t *m);

typedef struct {
    buf_t buf;          /* bytes of a message not yet complete */
    size_t need;        /* bytes the current message needs in buf (0: prelude not seen yet) */
    size_t max_message; /* largest total length accepted */
    int error;          /* sticky: once set every call returns it */
} evs_decoder_t;

/* Prepares a decoder; max_message 0 means EVS_DEFAULT_MAX_MESSAGE. */
void evs_decoder_init(evs_decoder_t *d, size_t max_message);
void evs_decoder_free(evs_decoder_t *d);

/* Decodes p[0..n): calls cb for each complete message, in order. Messages that lie whole inside
 * p are not copied. Returns 0, an EVS_ERR_* (the stream is unusable from then on), or the
 * callback's non-zero value (the bytes after that message are not decoded). */
int evs_feed(evs_decoder_t *d, const char *p, size_t n, evs_message_fn cb, void *arg);

/* At end of input: 0, EVS_ERR_TRUNCATED when a message was begun but not finished, or the
 * sticky error. */
int evs_finish(const evs_decoder_t *d);

/* The first header called `name`, or NULL. */
const evs_header_t *evs_header_find(const evs_message_t *m, const char *name);

/* The value of the string header `name`; STR_NULL when absent or not a string. */
str_t evs_header_string(const evs_message_t *m, const char *name);

/* Appends one encoded message. Headers of type EVS_BYTES, EVS_STRING and EVS_UUID take
 * value; the others num. 0, or EVS_ERR_TOO_LARGE / EVS_ERR_MALFORMED (a name longer than 255
 * bytes, a value longer than 65535, a uuid not 16 bytes) / EVS_ERR_NOMEM; out is unchanged
 * then. */
int evs_encode(buf_t *out, const evs_header_t *headers, size_t num_headers, str_t payload);

/* Appends a Bedrock event: :event-type, :content-type application/json, :message-type event. */
int evs_encode_event(buf_t *out, str_t event_type, str_t json);

/* Appends a Bedrock exception: :exception-type, :content-type application/json,
 * :message-type exception, payload {"message":...} as given. */
int evs_encode_exception(buf_t *out, str_t exception_type, str_t json);

/* CRC32 (IEEE 802.3, as zlib's crc32) of p[0..n), continuing from crc (0 to start). */
uint32_t evs_crc32(uint32_t crc, const void *p, size_t n);

/* Short text for an EVS_ERR_* code. */
const char *evs_strerror(int err);

#endif
