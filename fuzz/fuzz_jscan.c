/* SPDX-License-Identifier: MIT
 * Fuzzes the JSON scanner: anything jscan accepts cJSON must accept too (with the same members
 * and decoded strings); jscan_find agrees with jscan_object; splices keep the length arithmetic
 * and, with a valid replacement value, keep the document valid. */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_jscan: check failed at line %d: %s\n", __LINE__, #cond);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_MEMBERS 64

typedef struct {
    const char *base;
    size_t size;
    size_t count;
    jscan_member_t members[MAX_MEMBERS];
} members_t;

static bool inside(const members_t *ms, str_t s)
{
    return s.p >= ms->base && s.n <= ms->size && (size_t)(s.p - ms->base) <= ms->size - s.n;
}

static int collect(void *arg, const jscan_member_t *m)
{
    members_t *ms = arg;
    FUZZ_CHECK(inside(ms, m->key) && inside(ms, m->value) && m->value.n > 0);
    FUZZ_CHECK(m->key.p[-1] == '"' && m->key.p[m->key.n] == '"');
    FUZZ_CHECK(m->key_escaped == (m->key.n && memchr(m->key.p, '\\', m->key.n) != NULL));
    if (ms->count < MAX_MEMBERS)
        ms->members[ms->count] = *m;
    ms->count++;
    return 0;
}

/* cJSON reads at most 63 number characters and then fails on the rest, so it rejects long
 * (valid) numbers; skip the differential check when the input holds such a run. */
static bool has_long_number_run(const uint8_t *data, size_t size)
{
    size_t run = 0;
    for (size_t i = 0; i < size; i++) {
        bool num = (data[i] >= '0' && data[i] <= '9') || data[i] == '.' || data[i] == 'e' ||
                   data[i] == 'E' || data[i] == '+' || data[i] == '-';
        run = num ? run + 1 : 0;
        if (run >= 60)
            return true;
    }
    return false;
}

/* A decoded JSON string equal to a cJSON C string (cJSON stops at an embedded NUL). */
static void check_decoded(str_t raw_literal, const char *cjson_text)
{
    buf_t b = {0};
    FUZZ_CHECK(jscan_string_decode(raw_literal, &b) == 0);
    FUZZ_CHECK(jscan_string_eq(raw_literal, str_make(b.p, b.n)));
    if (!b.n || !memchr(b.p, '\0', b.n)) {
        FUZZ_CHECK(cjson_text && strlen(cjson_text) == b.n);
        FUZZ_CHECK(b.n == 0 || memcmp(cjson_text, b.p, b.n) == 0);
    }
    buf_free(&b);
}

static void compare_with_cjson(const uint8_t *data, size_t size, const members_t *ms)
{
    /* NUL-terminated copy: require_null_terminated wants a NUL inside the given length */
    char *copy = malloc(size + 1);
    FUZZ_CHECK(copy);
    memcpy(copy, data, size);
    copy[size] = '\0';
    cJSON *root = cJSON_ParseWithLengthOpts(copy, size + 1, NULL, 1);
    FUZZ_CHECK(root != NULL);
    FUZZ_CHECK(cJSON_IsObject(root));
    FUZZ_CHECK((size_t)cJSON_GetArraySize(root) == ms->count);
    size_t i = 0;
    for (cJSON *item = root->child; item && i < MAX_MEMBERS; item = item->next, i++) {
        const jscan_member_t *m = &ms->members[i];
        check_decoded(str_make(m->key.p - 1, m->key.n + 2), item->string);
        if (cJSON_IsString(item))
            check_decoded(m->value, item->valuestring);
        else if (cJSON_IsTrue(item))
            FUZZ_CHECK(jscan_is_true(m->value));
        else
            FUZZ_CHECK(!jscan_is_true(m->value));
        FUZZ_CHECK(cJSON_IsObject(item) == (m->value.p[0] == '{'));
        FUZZ_CHECK(cJSON_IsArray(item) == (m->value.p[0] == '['));
    }
    cJSON_Delete(root);
    free(copy);
}

static void check_splice(const char *p, size_t n, str_t old, str_t repl, bool repl_is_value)
{
    str_t iov[3];
    size_t total = jscan_splice_iov(p, n, old, repl, iov);
    FUZZ_CHECK(total == n - old.n + repl.n);
    FUZZ_CHECK(iov[0].n + iov[1].n + iov[2].n == total);
    FUZZ_CHECK(iov[0].p == p && iov[1].p == repl.p && iov[0].n == (size_t)(old.p - p));
    FUZZ_CHECK(iov[2].p == old.p + old.n);
    buf_t b = {0};
    FUZZ_CHECK(jscan_splice(&b, p, n, old, repl) == 0);
    FUZZ_CHECK(b.n == total);
    FUZZ_CHECK(memcmp(b.p, p, iov[0].n) == 0);
    FUZZ_CHECK(repl.n == 0 || memcmp(b.p + iov[0].n, repl.p, repl.n) == 0);
    FUZZ_CHECK(iov[2].n == 0 || memcmp(b.p + iov[0].n + repl.n, iov[2].p, iov[2].n) == 0);
    if (repl_is_value) /* one valid value for another keeps the document valid */
        FUZZ_CHECK(jscan_object(b.p, b.n, NULL, NULL, NULL) == 0);
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    members_t *ms = calloc(1, sizeof(*ms));
    FUZZ_CHECK(ms);
    ms->base = p;
    ms->size = size;

    size_t err = (size_t)-1;
    int rc = jscan_object(p, size, collect, ms, &err);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0)
        FUZZ_CHECK(err <= size);

    jscan_field_t fields[] = {{STR_LIT("model"), STR_NULL},
                              {STR_LIT("stream"), STR_NULL},
                              {STR_LIT("stream_options"), STR_NULL},
                              {STR_LIT(""), STR_NULL}};
    size_t err2 = (size_t)-1;
    int rc2 = jscan_find(p, size, fields, 4, &err2);
    FUZZ_CHECK(rc2 == rc);
    if (rc != 0) {
        FUZZ_CHECK(err2 == err);
        free(ms);
        return 0;
    }

    /* jscan_find agrees with the member list: last duplicate wins */
    for (size_t f = 0; f < 4; f++) {
        str_t want = STR_NULL;
        for (size_t i = 0; i < ms->count && i < MAX_MEMBERS; i++)
            if (jscan_key_eq(ms->members[i].key, fields[f].name))
                want = ms->members[i].value;
        if (ms->count <= MAX_MEMBERS)
            FUZZ_CHECK(want.p == fields[f].value.p && want.n == fields[f].value.n);
    }

    for (size_t i = 0; i < ms->count && i < MAX_MEMBERS; i++) {
        str_t v = ms->members[i].value, got;
        if (v.p[0] == '{')
            FUZZ_CHECK(jscan_member_find(v, "include_usage", &got) >= 0);
        else
            FUZZ_CHECK(jscan_member_find(v, "include_usage", &got) == -1);
    }

    if (!has_long_number_run(data, size))
        compare_with_cjson(data, size, ms);

    /* splice a valid value, then an arbitrary slice of the input, over the first member */
    if (ms->count > 0) {
        str_t old = fields[0].value.p ? fields[0].value : ms->members[0].value;
        check_splice(p, size, old, STR_LIT("\"spliced-model\""), true);
        check_splice(p, size, old, str_make(p, size / 2), false);
        check_splice(p, size, str_make(old.p, 0), STR_NULL, false);
    }

    str_t iov[4];
    str_t member = STR_LIT("\"stream_options\":{\"include_usage\":true}");
    size_t total = jscan_append_member_iov(p, size, member, iov);
    FUZZ_CHECK(total == size + member.n + iov[1].n);
    buf_t b = {0};
    for (int i = 0; i < 4; i++)
        FUZZ_CHECK(buf_append_str(&b, iov[i]) == 0);
    FUZZ_CHECK(b.n == total);
    FUZZ_CHECK(jscan_find(b.p, b.n, fields, 3, NULL) == 0);
    FUZZ_CHECK(fields[2].value.n == 22 && fields[2].value.p + 22 == b.p + b.n - iov[3].n);
    buf_free(&b);
    free(ms);
    return 0;
}
