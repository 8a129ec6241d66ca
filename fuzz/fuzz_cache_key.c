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

static int fuzz_name(void *arg, str_t name)
{
    (void)arg;
    return name.n > 1000; /* any answer; the walk must stop when told */
}

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
    /* the /v1/messages key: every valid object gets one too */
    static const char *const extra[] = {"system", "stop_sequences", NULL};
    FUZZ_CHECK(!valid || cache_key_extra(p, size, STR_LIT("g"), STR_NULL, extra, key) == 0);
    (void)cache_controls_each(str_make(p, size), fuzz_name, NULL);
    /* the stream rebuilders read provider bytes: whatever they store must replay */
    buf_t out = {0}, rep = {0};
    if (cache_text_stream_assemble(p, size, &out) == 0)
        FUZZ_CHECK(cache_text_stream_replay(out.p, out.n, &rep) == 0);
    out.n = rep.n = 0;
    if (cache_events_wrap(p, size, &out) == 0)
        FUZZ_CHECK(cache_events_replay(out.p, out.n, &rep) == 0);
    buf_free(&out);
    buf_free(&rep);
    return 0;
}
