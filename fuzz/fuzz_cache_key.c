/* SPDX-License-Identifier: MIT
 * Fuzzes the response cache's key builder (Python str()/repr() of JSON values) and the `cache`
 * controls: every object jscan accepts gets a key, and the key is 64 hex digits. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "core/jscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_cache_key: check failed at line %d: %s\n", __LINE__, #cond);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    cache_controls_t c;
    (void)cache_controls_parse(str_make(p, size), &c);
    bool valid = jscan_object(p, size, NULL, NULL, NULL) == 0;
    buf_t text = {0};
    int rc = cache_key_text(p, size, STR_LIT("group"), &text);
    FUZZ_CHECK(!valid || rc == 0);
    buf_free(&text);
    char key[CACHE_KEY_MAX];
    if (cache_key(p, size, STR_NULL, STR_NULL, key) == 0) {
        FUZZ_CHECK(strlen(key) == 64);
        for (int i = 0; i < 64; i++)
            FUZZ_CHECK((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f'));
    }
    return 0;
}
