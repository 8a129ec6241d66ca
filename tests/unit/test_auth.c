/* SPDX-License-Identifier: MIT
 * auth: which header carries the key, and the master-key check. */
#include <criterion/criterion.h>
#include <string.h>

#include "auth/auth.h"

/* A head with one header (NULL: none), room for a second. Its slots live in a small ring: a test
 * holds a few heads at once. */
static http_head_t head_with(const char *name, const char *value)
{
    static http_header_t slots[8][2];
    static unsigned next;
    http_head_t h;
    memset(&h, 0, sizeof h);
    h.headers = slots[next++ % 8];
    if (name) {
        h.headers[0] = (http_header_t){str_cstr(name), str_cstr(value)};
        h.num_headers = 1;
    }
    return h;
}

Test(auth, key_headers)
{
    const char *names[] = {"Authorization", "x-api-key", "api-key", "x-litellm-api-key"};
    for (size_t i = 0; i < 4; i++) {
        http_head_t h = head_with(names[i], i == 0 ? "Bearer sk-1234" : "sk-1234");
        auth_identity_t who;
        cr_expect_eq(auth_check("sk-1234", &h, &who), AUTH_OK, "%s", names[i]);
        cr_expect(who.is_admin);
    }
}

Test(auth, litellm_header_wins)
{
    http_head_t h = head_with("authorization", "Bearer sk-wrong");
    h.headers[1] = (http_header_t){STR_LIT("x-litellm-api-key"), STR_LIT("Bearer sk-1234")};
    h.num_headers = 2;
    auth_identity_t who;
    cr_expect_eq(auth_check("sk-1234", &h, &who), AUTH_OK);
}

Test(auth, missing_and_wrong)
{
    auth_identity_t who;
    http_head_t none = head_with(NULL, NULL);
    cr_expect_eq(auth_check("sk-1234", &none, &who), AUTH_NO_KEY);
    http_head_t wrong = head_with("authorization", "Bearer sk-12345");
    cr_expect_eq(auth_check("sk-1234", &wrong, &who), AUTH_BAD_KEY);
    cr_expect(strstr(auth_error_message(AUTH_BAD_KEY, who.key), "Unable to find token"));
    http_head_t nosk = head_with("authorization", "Bearer abc");
    cr_expect_eq(auth_check("sk-1234", &nosk, &who), AUTH_BAD_KEY);
    cr_expect(strstr(auth_error_message(AUTH_BAD_KEY, who.key), "expected to start with 'sk-'"));
    http_head_t empty = head_with("authorization", "Bearer ");
    cr_expect_eq(auth_check("sk-1234", &empty, &who), AUTH_NO_KEY);
}

Test(auth, no_master_key_is_open)
{
    auth_identity_t who;
    http_head_t none = head_with(NULL, NULL);
    cr_expect_eq(auth_check(NULL, &none, &who), AUTH_OK);
}

Test(auth, secret_eq)
{
    cr_expect(auth_secret_eq(STR_LIT("abc"), STR_LIT("abc")));
    cr_expect(!auth_secret_eq(STR_LIT("abc"), STR_LIT("abd")));
    cr_expect(!auth_secret_eq(STR_LIT("abc"), STR_LIT("abcd")));
    cr_expect(auth_secret_eq(STR_LIT(""), STR_LIT("")));
}
