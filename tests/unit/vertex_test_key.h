/* SPDX-License-Identifier: MIT
 * Test helpers shared by the vertex_auth and prov_gemini suites (defined in
 * test_vertex_auth.c): a fresh RSA key and a service account JSON built around it. */
#ifndef SLUICE_TESTS_VERTEX_TEST_KEY_H
#define SLUICE_TESTS_VERTEX_TEST_KEY_H

#include <openssl/evp.h>

/* A new 2048-bit RSA key; *pem receives its PKCS#8 PEM (malloc, caller frees). */
EVP_PKEY *test_rsa_key(char **pem);

/* A service account JSON document (malloc, caller frees) for `pem`, with this token_uri. */
char *test_service_account(const char *pem, const char *token_uri, const char *project);

#endif
