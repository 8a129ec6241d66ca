/* SPDX-License-Identifier: MIT
 * AWS Signature Version 4: canonical request, string to sign, HMAC-SHA256 key derivation and
 * the Authorization header, for Bedrock requests (providers/bedrock.c) and for checking them
 * (sluice-mock). Follows AWS's rules for every service but S3: the path is normalized and each
 * segment URI-encoded once more on top of the encoding it travels with. No query-string
 * (presigned URL) signing, no chunked payload signing. */
#ifndef SLUICE_PROVIDERS_SIGV4_H
#define SLUICE_PROVIDERS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/str.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_MAX_HEADERS 64 /* headers one request may sign */
#define SIGV4_MAX_QUERY 64   /* query parameters one request may carry */

enum {
    SIGV4_OK = 0,
    SIGV4_ERR_INVALID = -1,     /* bad input: too many headers/parameters, a bad date, no memory */
    SIGV4_ERR_MISSING = -2,     /* verify: no Authorization header */
    SIGV4_ERR_MALFORMED = -3,   /* verify: Authorization or x-amz-date not understood */
    SIGV4_ERR_UNKNOWN_KEY = -4, /* verify: another access key id */
    SIGV4_ERR_MISMATCH = -5,    /* verify: the signature differs */
    SIGV4_ERR_EXPIRED = -6,     /* verify: x-amz-date more than 15 minutes from now */
};

typedef struct {
    str_t name; /* any case */
    str_t value;
} sigv4_header_t;

/* What a canonical request is made of. */
typedef struct {
    str_t method;
    str_t path;  /* as sent on the wire, percent-encoding included: "/model/a%3A0/converse" */
    str_t query; /* after '?', without it; empty when none */
    const sigv4_header_t *headers; /* every header to sign (host, x-amz-date ...), any order;
                                      repeated names are joined with ',' in their order */
    size_t num_headers;
    str_t payload_hash; /* lowercase hex SHA-256 of the body */
} sigv4_canonical_t;

/* Appends the canonical request to `out` and, when `signed_headers` is not NULL, the signed
 * header list ("host;x-amz-date") to it. 0, or SIGV4_ERR_INVALID. */
int sigv4_canonical_request(buf_t *out, const sigv4_canonical_t *c, buf_t *signed_headers);

/* Lowercase hex SHA-256 of p[0..n). */
void sigv4_sha256_hex(const void *p, size_t n, char hex[65]);

/* "YYYYMMDDTHHMMSSZ" (UTC) for t. */
void sigv4_amz_date(time_t t, char out[17]);

/* Appends "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical>". */
int sigv4_string_to_sign(buf_t *out, str_t amz_date, str_t scope, str_t canonical_request);

/* The signing key: HMAC chain over "AWS4"+secret, date (YYYYMMDD), region, service,
 * "aws4_request". */
void sigv4_signing_key(str_t secret, str_t date, str_t region, str_t service,
                       unsigned char key[32]);

/* Lowercase hex HMAC-SHA256 of the string to sign under the signing key. */
void sigv4_signature(const unsigned char key[32], str_t string_to_sign, char hex[65]);

/* ---- signing a request ------------------------------------------------------------------ */

typedef struct {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL or "" when the credentials are long-term */
} sigv4_credentials_t;

typedef struct {
    str_t method;
    str_t host;  /* the Host header the client will send: host, ":port" when not the default */
    str_t path;  /* as sent */
    str_t query; /* as sent, without '?' */
    const sigv4_header_t *headers; /* more headers to sign (content-type ...); may be NULL */
    size_t num_headers;
    str_t payload;
    bool sign_content_sha256; /* send and sign x-amz-content-sha256 */
    const char *region;
    const char *service;
    time_t now;
    const sigv4_credentials_t *credentials;
} sigv4_request_t;

/* The headers to add to the request. */
typedef struct {
    char amz_date[17];     /* X-Amz-Date */
    char payload_hash[65]; /* X-Amz-Content-Sha256 (when sign_content_sha256) */
    char signature[65];
    buf_t authorization; /* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
                            (NUL-terminated; the caller frees it with buf_free) */
    /* when the caller sets these non-NULL before the call, they receive the intermediate texts
     * (tests and debugging) */
    buf_t *canonical_request;
    buf_t *string_to_sign;
} sigv4_signed_t;

/* Signs `r`. X-Amz-Security-Token (the session token) is signed when there is one. 0, or
 * SIGV4_ERR_INVALID (out->authorization is then empty). */
int sigv4_sign(const sigv4_request_t *r, sigv4_signed_t *out);

/* ---- checking a signed request (sluice-mock) --------------------------------------------- */

typedef struct {
    str_t method;
    str_t path;
    str_t query;
    const sigv4_header_t *headers; /* every header of the request */
    size_t num_headers;
    str_t body;
    const char *access_key_id;     /* the only key accepted */
    const char *secret_access_key; /* its secret */
    const char *service;           /* the scope's service must be this one */
    time_t now;                    /* 0: do not check x-amz-date against the clock */
} sigv4_verify_t;

/* Recomputes the signature of a received request from the headers it claims to sign and the
 * body it carries, and compares. SIGV4_OK or SIGV4_ERR_*; `why` (may be NULL) gets a one-line
 * reason. */
int sigv4_verify(const sigv4_verify_t *v, char *why, size_t why_size);

/* Appends s with every byte but A-Z a-z 0-9 - . _ ~ percent-encoded (uppercase hex). */
int sigv4_uri_encode(buf_t *out, str_t s);

#endif
