/* SPDX-License-Identifier: MIT
 * Who is calling: the key is read from the headers LiteLLM reads (x-litellm-api-key,
 * Authorization, API-Key, x-api-key), and checked from memory. Today that is the master key;
 * virtual keys slot in as a key-cache lookup that may answer "pending". */
#ifndef SLUICE_AUTH_AUTH_H
#define SLUICE_AUTH_AUTH_H

#include <stdbool.h>

#include "core/str.h"
#include "http/http.h"

typedef enum {
    AUTH_OK = 0,  /* identity filled */
    AUTH_NO_KEY,  /* no key in the request */
    AUTH_BAD_KEY, /* a key that is not accepted */
} auth_status_t;

typedef struct {
    bool is_admin; /* the master key (or no master key configured: an open proxy, as LiteLLM) */
    str_t key;     /* the key as sent, a slice of the request head */
} auth_identity_t;

/* The key the client sent, "Bearer " stripped; STR_NULL when none. */
str_t auth_key_from_head(const http_head_t *head);

/* Compares two secrets in time that depends only on their lengths. */
bool auth_secret_eq(str_t a, str_t b);

/* Checks the request's key against `master_key` (NULL: no auth configured). */
auth_status_t auth_check(const char *master_key, const http_head_t *head, auth_identity_t *out);

/* The 401 message LiteLLM gives for `status` (static text). */
const char *auth_error_message(auth_status_t status, str_t key);

#endif
