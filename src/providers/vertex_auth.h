/* SPDX-License-Identifier: MIT
 * vauth: OAuth2 access tokens for Vertex AI from a Google credentials file (service account:
 * an RS256-signed JWT exchanged at token_uri; authorized user: a refresh token). One background
 * thread per distinct credential fetches the first token at start-up and refreshes it ~5 minutes
 * before it expires (with backoff on failure); the request path only copies the current token.
 * Nothing here ever blocks a request. */
#ifndef SLUICE_PROVIDERS_VERTEX_AUTH_H
#define SLUICE_PROVIDERS_VERTEX_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "core/buf.h"

typedef struct vauth vauth_t;

/* The shared refresher for `credentials`: a path to a credentials JSON file or the JSON text
 * itself; NULL or "" means $GOOGLE_APPLICATION_CREDENTIALS. Created (file read, thread started)
 * on first use, then found without locking. NULL with a message in err when the credentials
 * cannot be read or are not a service account / authorized user. Owned by the registry until
 * vauth_shutdown_all. */
vauth_t *vauth_get(const char *credentials, char *err, size_t n);

/* Copies the current access token (NUL-terminated) to out. 0, or -1 when there is none yet, it
 * expired, or it does not fit. Never blocks on I/O. */
int vauth_token(vauth_t *v, char *out, size_t n);

/* The project_id (service account) or quota_project_id (authorized user) named by the
 * credentials, or NULL. Valid until vauth_shutdown_all. */
const char *vauth_project(const vauth_t *v);

/* Starts a refresher for every vertex_ai deployment of cfg (call once after loading the config,
 * so tokens are there before the first request). Returns the number of deployments whose
 * credentials could not be loaded (each is logged). */
int vauth_start_config(const cfg_t *cfg);

/* Stops every refresher thread and frees the registry. Call once at exit. */
void vauth_shutdown_all(void);

/* Sets the token of v as if the refresher had fetched it (tests, tools). */
void vauth_set_token(vauth_t *v, const char *token, long long expires_in_s);

/* ---- the pieces, exposed for tests ------------------------------------------------------- */

/* Appends base64url (RFC 4648 section 5, no padding) of p[0..n) to out. 0, or -1 on OOM. */
int vauth_base64url(const void *p, size_t n, buf_t *out);

/* Builds the signed assertion "header.claims.signature" for a service account JSON document
 * (client_email, private_key, private_key_id, token_uri) issued at unix time `now`. 0, or -1
 * with a message in err. */
int vauth_jwt_build(const char *service_account_json, long long now, buf_t *out, char *err,
                    size_t n);

/* Reads a token endpoint answer {"access_token","expires_in",...}. 0 with the token copied to
 * out and *expires_in set (3600 when absent), or -1 with the reason in err. */
int vauth_parse_token_response(const char *body, size_t len, char *out, size_t out_n,
                               long long *expires_in, char *err, size_t n);

#endif
