/* SPDX-License-Identifier: MIT
 * core: strings, buffers, arenas. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"

Test(core, str_to_ll)
{
    cr_expect_eq(str_to_ll(STR_LIT("0")), 0);
    cr_expect_eq(str_to_ll(STR_LIT("1234")), 1234);
    cr_expect_eq(str_to_ll(STR_LIT("")), -1);
    cr_expect_eq(str_to_ll(STR_LIT("12a")), -1);
    cr_expect_eq(str_to_ll(STR_LIT("-1")), -1);
    cr_expect_eq(str_to_ll(STR_LIT("99999999999999999999999")), -1);
}

Test(core, str_list_has_token)
{
    cr_expect(str_list_has_token(STR_LIT("keep-alive, Upgrade"), STR_LIT("upgrade")));
    cr_expect(str_list_has_token(STR_LIT("close"), STR_LIT("close")));
    cr_expect(!str_list_has_token(STR_LIT("closed"), STR_LIT("close")));
    cr_expect(!str_list_has_token(STR_LIT(""), STR_LIT("close")));
}

Test(core, buf_json_string)
{
    buf_t b = {0};
    buf_append_json_string(&b, STR_LIT("a\"b\\c\n\x01"));
    cr_expect_str_eq(buf_cstr(&b), "\"a\\\"b\\\\c\\n\\u0001\"");
    buf_free(&b);
}

Test(core, arena_alignment_and_reset)
{
    arena_t a = {0};
    for (int i = 0; i < 1000; i++) {
        char *p = arena_alloc(&a, (size_t)(i % 97) + 1);
        cr_assert_not_null(p);
        cr_expect_eq((uintptr_t)p % 16, 0);
        memset(p, 'x', (size_t)(i % 97) + 1);
    }
    char *big = arena_alloc(&a, 100000);
    cr_assert_not_null(big);
    memset(big, 0, 100000);
    cr_expect_str_eq(arena_printf(&a, "%d-%s", 7, "x"), "7-x");
    arena_reset(&a);
    cr_expect_null(a.head);
}

Test(core, buf_numbers)
{
    buf_t b = {0};
    buf_append_u64(&b, 0);
    buf_append(&b, " ", 1);
    buf_append_u64(&b, 18446744073709551615ull);
    buf_append(&b, " ", 1);
    buf_append_ms(&b, 1234567);
    buf_append(&b, " ", 1);
    buf_append_ms(&b, 999);
    buf_append(&b, " ", 1);
    buf_append_ms(&b, 45000000000ull);
    cr_expect_str_eq(buf_cstr(&b), "0 18446744073709551615 1.235 0.001 45000.000");
    buf_free(&b);
}
