/* SPDX-License-Identifier: MIT
 * jscan: a strict (RFC 8259) JSON validator and top-level member scanner that never builds a
 * document, for the pass-through path: check a request body, find `model` / `stream`, splice a
 * new value in. Nothing here allocates except the buf_t helpers; every slice points into the input.
 */
#ifndef SLUICE_CORE_JSCAN_H
#define SLUICE_CORE_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/str.h"

/* Deepest nesting accepted; the top-level object is depth 1. Deeper documents are invalid. */
#define JSCAN_MAX_DEPTH 256

typedef struct {
    str_t key;        /* raw key text between the quotes, escapes not decoded */
    str_t value;      /* raw JSON text of the value: "\"gpt-4\"", "true", "{...}" */
    bool key_escaped; /* key holds escapes: compare it with jscan_key_eq, not str_eq */
} jscan_member_t;

/* One requested top-level member for jscan_find. */
typedef struct {
    str_t name;  /* in: plain (unescaped) key name, e.g. STR_LIT("model") */
    str_t value; /* out: raw value text, STR_NULL when absent */
} jscan_field_t;

/* Validates p[0..n) as one JSON object (optional surrounding whitespace) and calls cb for each
 * top-level member in order. Returns 0 when valid, -1 when invalid (*err_offset, if given, gets
 * the offset of the offending byte, n at end of input). A non-zero return from cb (use a positive
 * value) stops the scan and is returned as is: the rest of the text is then NOT validated. */
int jscan_object(const char *p, size_t n, int (*cb)(void *arg, const jscan_member_t *m), void *arg,
                 size_t *err_offset);

/* Validates the whole object and fills fields[i].value with the raw value of the top-level member
 * whose key, unescaped, equals fields[i].name (last duplicate wins, as in JSON.parse), or
 * STR_NULL. One pass. 0 valid, -1 invalid (fields then undefined). Slices point into p. */
int jscan_find(const char *p, size_t n, jscan_field_t *fields, size_t nfields, size_t *err_offset);

/* True when the raw value is the literal true. */
bool jscan_is_true(str_t raw);

/* Appends the decoded UTF-8 text of a raw string literal (quotes included) to out. 0, or -1 when
 * raw is not one valid JSON string (out unchanged) or memory runs out. */
int jscan_string_decode(str_t raw, buf_t *out);

/* Compares a raw string literal (quotes included) with plain text, escapes decoded, without
 * allocating. False when raw is not a string literal. */
bool jscan_string_eq(str_t raw, str_t plain);

/* As jscan_string_eq for a raw key as found in jscan_member_t.key (no quotes). */
bool jscan_key_eq(str_t raw_key, str_t plain);

/* Finds the member `key` (plain text) of the object whose raw text is raw_object (a value slice
 * from jscan_find/jscan_object), last duplicate winning. 0 found (*value points into
 * raw_object), 1 absent, -1 raw_object is not a valid object. */
int jscan_member_find(str_t raw_object, const char *key, str_t *value);

/* Fills out[] with (prefix, new_value, suffix): body with old_value (a slice of body) replaced,
 * ready for writev without copying. Returns the spliced length, or 0 when old_value does not lie
 * inside body. The slices point into body and new_value. */
size_t jscan_splice_iov(const char *body, size_t n, str_t old_value, str_t new_value, str_t out[3]);

/* Appends body with old_value (a slice of body) replaced by new_value to out. 0, or -1 when
 * old_value is not inside body or memory runs out (out unchanged). */
int jscan_splice(buf_t *out, const char *body, size_t n, str_t old_value, str_t new_value);

/* Fills out[] with (prefix, separator, member, suffix): the validated object body with `member`
 * (raw member text, e.g. "\"stream_options\":{\"include_usage\":true}") added as its last
 * member; separator is "," or "" for an empty object. Returns the new length, 0 when body does
 * not end in '}'. The slices point into body, member and static storage. */
size_t jscan_append_member_iov(const char *body, size_t n, str_t member, str_t out[4]);

/* Appends body (a JSON object of n bytes) without `member` (a top-level member's text in body,
 * from its key's opening quote to the end of its value) and one comma next to it (the one
 * after, else the one before) to out. *cut (may be NULL): the bytes of body left out, to move
 * other slices of body along. 0, or -1 when member is not inside body or memory runs out. */
int jscan_remove_member(buf_t *out, const char *body, size_t n, str_t member, str_t *cut);

#endif
