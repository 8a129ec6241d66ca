/* SPDX-License-Identifier: MIT
 * Key extraction and the master-key check. Constant-time comparison so the master key cannot
 * be learned byte by byte from response times. */
#include "auth/auth.h"

static str_t strip_scheme(str_t v)
{
    v = str_trim(v);
    if (str_case_has_prefix(v, STR_LIT("Bearer")) && (v.n == 6 || v.p[6] == ' '))
        v = str_skip(v, 6);
    else if (str_case_has_prefix(v, STR_LIT("Basic")) && (v.n == 5 || v.p[5] == ' '))
        v = str_skip(v, 5);
    return str_trim(v);
}

str_t auth_key_from_head(const http_head_t *head)
{
    /* LiteLLM's precedence: its own header, then Authorization, Azure's, Anthropic's */
    static const str_t names[] = {STR_LIT("x-litellm-api-key"), STR_LIT("authorization"),
                                  STR_LIT("api-key"), STR_LIT("x-api-key")};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        str_t v = http_head_get(head, names[i]);
        if (v.p) {
            v = strip_scheme(v);
            if (v.n)
                return v;
        }
    }
    return STR_NULL;
}

bool auth_secret_eq(str_t a, str_t b)
{
    if (a.n != b.n)
        return false;
    volatile unsigned char diff = 0;
    for (size_t i = 0; i < a.n; i++)
        diff |= (unsigned char)(a.p[i] ^ b.p[i]);
    return diff == 0;
}

auth_status_t auth_check(const char *master_key, const http_head_t *head, auth_identity_t *out)
{
    out->is_admin = false;
    out->key = auth_key_from_head(head);
    if (!master_key) {
        out->is_admin = true;
        return AUTH_OK;
    }
    if (!out->key.p)
        return AUTH_NO_KEY;
    if (auth_secret_eq(out->key, str_cstr(master_key))) {
        out->is_admin = true;
        return AUTH_OK;
    }
    /* virtual keys: a key-cache lookup goes here (issue: virtual keys) */
    return AUTH_BAD_KEY;
}

const char *auth_error_message(auth_status_t status, str_t key)
{
    if (status == AUTH_NO_KEY)
        return "Authentication Error, No api key passed in.";
    if (key.n < 3 || !str_has_prefix(key, STR_LIT("sk-")))
        return "Authentication Error, LiteLLM Virtual Key expected. Received=<masked>, expected "
               "to start with 'sk-'.";
    return "Authentication Error, Invalid proxy server token passed. Unable to find token in "
           "cache or `LiteLLM_VerificationTokenTable`";
}
