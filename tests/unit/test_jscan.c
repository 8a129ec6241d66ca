/* SPDX-License-Identifier: MIT
 * jscan: strict validation (numbers, strings, UTF-8, depth), top-level member lookup, string
 * helpers and byte-exact splicing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jscan.h"

static int check(const char *s, size_t *err)
{
    size_t e = (size_t)-1;
    int rc = jscan_object(s, strlen(s), NULL, NULL, &e);
    if (err)
        *err = e;
    return rc;
}

static bool valid(const char *s)
{
    return check(s, NULL) == 0;
}

/* Looks up one top-level key; returns the raw value as a NUL-terminated static copy. */
static const char *find1(const char *doc, const char *key)
{
    static char out[4096];
    jscan_field_t f = {str_cstr(key), STR_NULL};
    cr_assert_eq(jscan_find(doc, strlen(doc), &f, 1, NULL), 0, "doc: %s", doc);
    if (!f.value.p)
        return NULL;
    cr_assert_lt(f.value.n, sizeof(out));
    memcpy(out, f.value.p, f.value.n);
    out[f.value.n] = '\0';
    return out;
}

Test(jscan, model_not_first)
{
    const char *doc = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,"
                      "\"model\":\"gpt-4o\",\"stream_options\":{\"include_usage\":true}}";
    jscan_field_t f[] = {{STR_LIT("model"), STR_NULL},
                         {STR_LIT("stream"), STR_NULL},
                         {STR_LIT("stream_options"), STR_NULL},
                         {STR_LIT("tools"), STR_NULL}};
    cr_assert_eq(jscan_find(doc, strlen(doc), f, 4, NULL), 0);
    cr_expect(str_eq(f[0].value, STR_LIT("\"gpt-4o\"")));
    cr_expect(jscan_string_eq(f[0].value, STR_LIT("gpt-4o")));
    cr_expect(jscan_is_true(f[1].value));
    cr_expect(str_eq(f[2].value, STR_LIT("{\"include_usage\":true}")));
    cr_expect_null(f[3].value.p);
    cr_expect_eq(f[3].value.n, 0);
}

Test(jscan, nested_model_keys_do_not_match)
{
    const char *doc = "{\"messages\":[{\"model\":\"inner-a\"},[\"model\",{\"model\":1}]],"
                      "\"meta\":{\"model\":\"inner-b\",\"x\":{\"model\":null}},"
                      "\"content\":\"\\\"model\\\":\\\"fake\\\"\"}";
    cr_expect_null(find1(doc, "model"));
    const char *doc2 = "{\"meta\":{\"model\":\"inner\"},\"model\":\"outer\",\"z\":[{\"model\":2}]}";
    cr_expect_str_eq(find1(doc2, "model"), "\"outer\"");
}

Test(jscan, escaped_quotes_and_backslashes)
{
    const char *doc =
        "{\"a\":\"he said \\\"hi\\\" \\\\ back\\\\\",\"b\":\"\\\\\",\"c\":\"\\\\\\\"\","
        "\"model\":\"m\\\\\"}";
    cr_assert(valid(doc));
    cr_expect_str_eq(find1(doc, "a"), "\"he said \\\"hi\\\" \\\\ back\\\\\"");
    cr_expect_str_eq(find1(doc, "b"), "\"\\\\\"");
    cr_expect_str_eq(find1(doc, "c"), "\"\\\\\\\"\"");
    cr_expect_str_eq(find1(doc, "model"), "\"m\\\\\"");
    cr_expect(jscan_string_eq(str_cstr(find1(doc, "model")), STR_LIT("m\\")));
    /* an escaped quote must not end the string: this one is unterminated */
    cr_expect(!valid("{\"a\":\"x\\\"}"));
}

Test(jscan, unicode_escapes_and_surrogates)
{
    buf_t b = {0};
    cr_assert_eq(jscan_string_decode(STR_LIT("\"A\\u00e9\\u20AC\\ud83d\\ude00\\u0000z\""), &b), 0);
    cr_expect_eq(b.n, 1 + 2 + 3 + 4 + 1 + 1);
    cr_expect_eq(memcmp(b.p, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0z", b.n), 0);
    b.n = 0;
    cr_assert_eq(jscan_string_decode(STR_LIT("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""), &b), 0);
    cr_expect_eq(b.n, 8);
    cr_expect_eq(memcmp(b.p, "\"\\/\b\f\n\r\t", 8), 0);
    b.n = 0;
    cr_expect(valid("{\"e\":\"\\uD834\\uDD1E\"}"));   /* U+1D11E, upper-case hex */
    cr_expect(!valid("{\"e\":\"\\ud83d\"}"));         /* lone high surrogate */
    cr_expect(!valid("{\"e\":\"\\ude00\"}"));         /* lone low surrogate */
    cr_expect(!valid("{\"e\":\"\\ude00\\ud83d\"}"));  /* reversed pair */
    cr_expect(!valid("{\"e\":\"\\ud83d\\u0041\"}"));  /* high + non-low */
    cr_expect(!valid("{\"e\":\"\\ud83dx\\ude00\"}")); /* separated pair */
    cr_expect(!valid("{\"e\":\"\\u12\"}"));           /* short */
    cr_expect(!valid("{\"e\":\"\\u12G4\"}"));         /* not hex */
    cr_expect(!valid("{\"e\":\"\\x41\"}"));           /* not a JSON escape */
    cr_expect(!valid("{\"e\":\"\\U0041\"}"));
    cr_expect(!valid("{\"e\":\"\\'\"}"));
    cr_expect_eq(jscan_string_decode(STR_LIT("\"\\ud83d\""), &b), -1);
    cr_expect_eq(jscan_string_decode(STR_LIT("\"abc"), &b), -1);
    cr_expect_eq(jscan_string_decode(STR_LIT("\"a\"b\""), &b), -1);
    cr_expect_eq(jscan_string_decode(STR_LIT("abc"), &b), -1);
    cr_expect_eq(b.n, 0);
    buf_free(&b);
}

Test(jscan, escaped_key_matches_after_unescaping)
{
    /* keys are compared after unescaping, as JSON.parse would see them */
    const char *doc = "{\"mod\\u0065l\":\"escaped\",\"x\":1}";
    cr_expect_str_eq(find1(doc, "model"), "\"escaped\"");
    const char *doc2 = "{\"model\":\"plain\",\"\\u006d\\u006F\\u0064\\u0065\\u006c\":\"all\"}";
    cr_expect_str_eq(find1(doc2, "model"), "\"all\"");
    cr_expect_null(find1("{\"mod\\u0065l2\":1}", "model"));
    cr_expect_null(find1("{\"model\\u0000\":1}", "model"));
    cr_expect_str_eq(find1("{\"caf\\u00e9\":1}", "caf\xc3\xa9"), "1");
    cr_expect_str_eq(find1("{\"\\ud83d\\ude00\":2}", "\xf0\x9f\x98\x80"), "2");
    cr_expect_str_eq(find1("{\"a\\\\b\":3}", "a\\b"), "3");
    cr_expect(jscan_key_eq(STR_LIT("mod\\u0065l"), STR_LIT("model")));
    cr_expect(!jscan_key_eq(STR_LIT("mod\\u0065l"), STR_LIT("mod\\u0065l")));
    cr_expect(!jscan_key_eq(STR_LIT("mod\\u0065"), STR_LIT("model")));
    cr_expect(jscan_key_eq(STR_LIT(""), STR_LIT("")));
    cr_expect(jscan_key_eq(STR_LIT(""), STR_NULL));
}

Test(jscan, utf8_text)
{
    cr_expect(
        valid("{\"t\":\"caf\xc3\xa9 \xe2\x82\xac \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80\"}"));
    cr_expect(valid("{\"\xc3\xa9\":\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80\"}"));
    static const char *bad[] = {
        "\x80",             /* lone continuation */
        "\xc0\xaf",         /* overlong '/' */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong 3-byte */
        "\xf0\x80\x80\xaf", /* overlong 4-byte */
        "\xed\xa0\x80",     /* encoded surrogate U+D800 */
        "\xed\xbf\xbf",     /* encoded surrogate U+DFFF */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xf5\x80\x80\x80",
        "\xff",
        "\xfe",
        "\xc3", /* truncated by the closing quote */
        "\xe2\x82",
        "\xf0\x9f\x98",
        "\xc3\x28", /* bad continuation */
        "\xe2\x28\xa1",
        "\xf0\x9f\x28\x80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char doc[64];
        snprintf(doc, sizeof(doc), "{\"t\":\"ab%s\"}", bad[i]);
        size_t err;
        cr_expect_eq(check(doc, &err), -1, "case %zu", i);
        cr_expect_eq(err, 8, "case %zu: err %zu", i, err);
        snprintf(doc, sizeof(doc), "{\"k%s\":1}", bad[i]);
        cr_expect(!valid(doc), "key case %zu", i);
    }
    /* truncated sequence at the very end of the input */
    cr_expect_eq(jscan_object("{\"t\":\"\xe2\x82", 8, NULL, NULL, NULL), -1);
}

Test(jscan, control_characters_in_strings)
{
    for (int c = 1; c < 0x20; c++) {
        char doc[32];
        snprintf(doc, sizeof(doc), "{\"t\":\"a%cb\"}", c);
        size_t err;
        cr_expect_eq(check(doc, &err), -1, "char %d", c);
        cr_expect_eq(err, 7);
    }
    cr_expect_eq(jscan_object("{\"t\":\"a\0b\"}", 11, NULL, NULL, NULL), -1);
    cr_expect(valid("{\"t\":\"\x7f\"}")); /* DEL is allowed unescaped */
}

Test(jscan, whitespace_everywhere)
{
    const char *doc = " \t\r\n{ \n\"model\" \r:\t\"m\" , \"a\" : [ 1 , { } , [ ] , \"x\" ] ,"
                      "\n\"b\"\n:\n{\n\"c\"\n:\nnull\n}\n,\"d\":-1.5e+3 \t}\r\n ";
    cr_assert(valid(doc));
    cr_expect_str_eq(find1(doc, "model"), "\"m\"");
    cr_expect_str_eq(find1(doc, "a"), "[ 1 , { } , [ ] , \"x\" ]");
    cr_expect_str_eq(find1(doc, "b"), "{\n\"c\"\n:\nnull\n}");
    cr_expect_str_eq(find1(doc, "d"), "-1.5e+3");
    cr_expect(valid("{}"));
    cr_expect(valid(" { } "));
    cr_expect(!valid("{\"a\":1}\f")); /* form feed is not JSON whitespace */
    cr_expect(!valid("\v{}"));
    cr_expect(!valid("{\"a\":\xc2\xa0"
                     "1}"));             /* nor is NBSP */
    cr_expect(!valid("\xef\xbb\xbf{}")); /* nor a BOM */
}

Test(jscan, numbers_valid)
{
    static const char *nums[] = {
        "0",     "-0",      "1",        "-1",       "123456789012345678901234567890",
        "0.5",   "-0.0",    "1.25",     "10.010",   "1e5",
        "1E5",   "1e+5",    "1e-5",     "1E-05",    "0e0",
        "-0e-0", "1.5e300", "1e999999", "9.99E+10", "-123.456e-789"};
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        char doc[96];
        snprintf(doc, sizeof(doc), "{\"n\":%s}", nums[i]);
        cr_expect(valid(doc), "%s", nums[i]);
        cr_expect_str_eq(find1(doc, "n"), nums[i]);
        snprintf(doc, sizeof(doc), "{\"n\":[%s,%s ]}", nums[i], nums[i]);
        cr_expect(valid(doc), "%s in array", nums[i]);
    }
}

Test(jscan, numbers_invalid)
{
    static const char *nums[] = {"01",  "-01",      "00",        "1.",  ".5",   "-",
                                 "-.5", "1e",       "1e+",       "1E-", "+1",   "1.e5",
                                 "0x1", "1ee5",     "1e5.5",     "--1", "- 1",  "1 2",
                                 "NaN", "Infinity", "-Infinity", "0.",  "1.5.", "01.5"};
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        char doc[64];
        snprintf(doc, sizeof(doc), "{\"n\":%s}", nums[i]);
        cr_expect(!valid(doc), "%s", nums[i]);
    }
    /* a number at the very end of the input (no closing brace) */
    cr_expect_eq(jscan_object("{\"n\":12", 7, NULL, NULL, NULL), -1);
    cr_expect_eq(jscan_object("{\"n\":-", 6, NULL, NULL, NULL), -1);
}

Test(jscan, literals)
{
    cr_expect(valid("{\"a\":true,\"b\":false,\"c\":null,\"d\":[true,false,null]}"));
    static const char *bad[] = {"tru",   "True", "nul",       "fals", "truee",
                                "nulll", "t",    "undefined", "'x'"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char doc[64];
        snprintf(doc, sizeof(doc), "{\"a\":%s}", bad[i]);
        cr_expect(!valid(doc), "%s", bad[i]);
    }
    cr_expect(jscan_is_true(STR_LIT("true")));
    cr_expect(!jscan_is_true(STR_LIT("\"true\"")));
    cr_expect(!jscan_is_true(STR_LIT("1")));
    cr_expect(!jscan_is_true(STR_NULL));
}

Test(jscan, invalid_documents)
{
    static const struct {
        const char *doc;
        size_t err;
    } cases[] = {
        {"{\"a\":1,}", 7},      /* trailing comma */
        {"{\"a\":[1,2,]}", 10}, /* trailing comma in array */
        {"{,\"a\":1}", 1},
        {"{\"a\":1,,\"b\":2}", 7},
        {"{\"a\":\"xyz", 9},      /* unterminated string */
        {"{\"a", 3},              /* unterminated key */
        {"{\"a\":\"\\q\"}", 6},   /* bad escape */
        {"{\"a\" 1}", 5},         /* missing colon */
        {"{\"a\":1 \"b\":2}", 7}, /* missing comma */
        {"{a:1}", 1},             /* unquoted key */
        {"{'a':1}", 1},
        {"{1:1}", 1},
        {"[1,2]", 0}, /* top-level array */
        {"\"str\"", 0},
        {"1", 0},
        {"null", 0},
        {"", 0},
        {"   ", 3},
        {"{}x", 2}, /* trailing garbage */
        {"{}{}", 2},
        {"{} 1", 3},
        {"{\"a\":1}}", 7},
        {"{\"a\":1", 6},   /* unclosed */
        {"{\"a\":[1}", 7}, /* mismatched */
        {"{\"a\":{]}", 6},
        {"{\"a\":}", 5}, /* missing value */
        {"{\"a\"}", 4},
        {"{/*c*/}", 1}, /* comments */
        {"{\"a\":1}//c", 7},
        {"{\"a\":1 /*c*/}", 7},
        {"{\"a\":[", 6},
        {"{\"a\":\"\\", 6},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t err;
        cr_expect_eq(check(cases[i].doc, &err), -1, "case %zu: %s", i, cases[i].doc);
        cr_expect_eq(err, cases[i].err, "case %zu: %s: err %zu", i, cases[i].doc, err);
    }
    size_t err = 99;
    cr_expect_eq(jscan_object(NULL, 0, NULL, NULL, &err), -1);
    cr_expect_eq(err, 0);
    /* NUL bytes are never JSON whitespace */
    cr_expect_eq(jscan_object("{}\0", 3, NULL, NULL, NULL), -1);
    jscan_field_t f = {STR_LIT("model"), STR_LIT("stale")};
    cr_expect_eq(jscan_find("{\"model\":1,}", 12, &f, 1, &err), -1);
}

static char *nested(size_t depth, char open, char close)
{
    /* {"a": [[[ ... ]]] } */
    char *s = malloc(depth * 2 + 16);
    size_t n = 0;
    n += (size_t)sprintf(s, "{\"a\":");
    for (size_t i = 0; i < depth; i++)
        s[n++] = open;
    for (size_t i = 0; i < depth; i++)
        s[n++] = close;
    s[n++] = '}';
    s[n] = '\0';
    return s;
}

Test(jscan, depth_limit)
{
    char *s = nested(JSCAN_MAX_DEPTH - 1, '[', ']'); /* the outer object is depth 1 */
    cr_expect(valid(s));
    free(s);
    s = nested(JSCAN_MAX_DEPTH, '[', ']');
    size_t err;
    cr_expect_eq(check(s, &err), -1);
    cr_expect_eq(err, 5 + JSCAN_MAX_DEPTH - 1);
    free(s);
    s = nested(10000, '[', ']');
    cr_expect(!valid(s));
    free(s);
    /* deep objects: {"a":{"a":{ ... }}} */
    char *o = malloc(10000 * 6 + 8);
    size_t n = 0;
    for (int i = 0; i < 10000; i++)
        n += (size_t)sprintf(o + n, "{\"a\":");
    o[n++] = '1';
    for (int i = 0; i < 10000; i++)
        o[n++] = '}';
    o[n] = '\0';
    cr_expect(!valid(o));
    free(o);
    s = nested(10000, '[', ']');
    s[5 + 10000] = '\0'; /* unclosed as well */
    cr_expect(!valid(s));
    free(s);
}

Test(jscan, duplicate_keys_last_wins)
{
    const char *doc = "{\"model\":\"a\",\"x\":1,\"model\":\"b\",\"mod\\u0065l\":\"c\",\"y\":2}";
    cr_expect_str_eq(find1(doc, "model"), "\"c\"");
    cr_expect_str_eq(find1("{\"model\":\"a\",\"model\":{\"k\":1}}", "model"), "{\"k\":1}");
    str_t v;
    cr_expect_eq(jscan_member_find(STR_LIT("{\"k\":1,\"k\":2}"), "k", &v), 0);
    cr_expect(str_eq(v, STR_LIT("2")));
}

typedef struct {
    int calls;
    int stop_at;
    int escaped; /* bit i: member i's key_escaped */
    char keys[8][16];
    char values[8][32];
} collect_t;

static int collect(void *arg, const jscan_member_t *m)
{
    collect_t *c = arg;
    if (m->key_escaped)
        c->escaped |= 1 << c->calls;
    if (c->calls < 8) {
        snprintf(c->keys[c->calls], 16, "%.*s", STR_FMT(m->key));
        snprintf(c->values[c->calls], 32, "%.*s", STR_FMT(m->value));
    }
    c->calls++;
    return c->calls == c->stop_at ? 7 : 0;
}

Test(jscan, callback_order_and_early_stop)
{
    const char *doc = "{\"a\":1,\"b\":[2,{\"c\":3}],\"d\\\"\":\"s\",\"e\":{}}";
    collect_t c = {0};
    cr_assert_eq(jscan_object(doc, strlen(doc), collect, &c, NULL), 0);
    cr_expect_eq(c.calls, 4);
    cr_expect_str_eq(c.keys[0], "a");
    cr_expect_str_eq(c.values[0], "1");
    cr_expect_str_eq(c.keys[1], "b");
    cr_expect_str_eq(c.values[1], "[2,{\"c\":3}]");
    cr_expect_str_eq(c.keys[2], "d\\\"");
    cr_expect_str_eq(c.values[2], "\"s\"");
    cr_expect_str_eq(c.keys[3], "e");
    cr_expect_eq(c.escaped, 1 << 2); /* only "d\"" holds an escape */
    cr_expect_str_eq(c.values[3], "{}");

    /* a stop skips validation of the rest: the garbage after "b" is never seen */
    const char *bad = "{\"a\":1,\"b\":2,garbage";
    collect_t s = {.stop_at = 2};
    cr_expect_eq(jscan_object(bad, strlen(bad), collect, &s, NULL), 7);
    cr_expect_eq(s.calls, 2);
    collect_t t = {0};
    cr_expect_eq(jscan_object(bad, strlen(bad), collect, &t, NULL), -1);
    cr_expect_eq(t.calls, 2);
}

Test(jscan, strings_across_simd_blocks)
{
    /* every position of an escape, a UTF-8 sequence and a control char relative to 16-byte
     * blocks, so the vector and byte loops both see each case */
    for (size_t pos = 0; pos < 40; pos++) {
        char doc[160], pad[64];
        memset(pad, 'x', pos);
        pad[pos] = '\0';
        snprintf(doc, sizeof(doc), "{\"k\":\"%s\\\"%s\"}", pad, pad);
        cr_expect(valid(doc), "escape at %zu", pos);
        snprintf(doc, sizeof(doc), "{\"k\":\"%s\xe2\x82\xac%s\"}", pad, pad);
        cr_expect(valid(doc), "utf8 at %zu", pos);
        snprintf(doc, sizeof(doc), "{\"k\":\"%s\x01%s\"}", pad, pad);
        size_t err;
        cr_expect_eq(check(doc, &err), -1);
        cr_expect_eq(err, 6 + pos, "control at %zu: err %zu", pos, err);
        snprintf(doc, sizeof(doc), "{\"k\":\"%s\xff%s\"}", pad, pad);
        cr_expect_eq(check(doc, &err), -1);
        cr_expect_eq(err, 6 + pos);
        /* unterminated, the input ending exactly at pos */
        snprintf(doc, sizeof(doc), "{\"k\":\"%s", pad);
        cr_expect_eq(check(doc, &err), -1);
        cr_expect_eq(err, 6 + pos);
    }
}

Test(jscan, string_eq)
{
    cr_expect(jscan_string_eq(STR_LIT("\"gpt-4\""), STR_LIT("gpt-4")));
    cr_expect(!jscan_string_eq(STR_LIT("\"gpt-4\""), STR_LIT("gpt-4o")));
    cr_expect(!jscan_string_eq(STR_LIT("\"gpt-4o\""), STR_LIT("gpt-4")));
    cr_expect(jscan_string_eq(STR_LIT("\"gpt\\u002d4\""), STR_LIT("gpt-4")));
    cr_expect(jscan_string_eq(STR_LIT("\"a\\/b\""), STR_LIT("a/b")));
    cr_expect(jscan_string_eq(STR_LIT("\"\\n\""), STR_LIT("\n")));
    cr_expect(jscan_string_eq(STR_LIT("\"\""), STR_LIT("")));
    cr_expect(!jscan_string_eq(STR_LIT("\"\""), STR_LIT("x")));
    cr_expect(!jscan_string_eq(STR_LIT("gpt-4"), STR_LIT("gpt-4"))); /* not a literal */
    cr_expect(!jscan_string_eq(STR_LIT("\""), STR_LIT("")));
    cr_expect(!jscan_string_eq(STR_LIT("\"a\\\""), STR_LIT("a\""))); /* broken escape */
    cr_expect(!jscan_string_eq(STR_LIT("\"\\ud83d\""), STR_LIT("\xed\xa0\xbd")));
    cr_expect(!jscan_string_eq(STR_NULL, STR_NULL));
}

Test(jscan, member_find_nested)
{
    const char *doc =
        "{\"model\":\"m\",\"stream\":true,"
        "\"stream_options\":{\"x\":{\"include_usage\":false},\"include_usage\":true}}";
    str_t so, iu;
    cr_assert_str_eq(find1(doc, "stream_options"),
                     "{\"x\":{\"include_usage\":false},\"include_usage\":true}");
    jscan_field_t f = {STR_LIT("stream_options"), STR_NULL};
    cr_assert_eq(jscan_find(doc, strlen(doc), &f, 1, NULL), 0);
    so = f.value;
    cr_expect_eq(jscan_member_find(so, "include_usage", &iu), 0);
    cr_expect(jscan_is_true(iu));
    cr_expect_eq(iu.p, strstr(doc, "true}}")); /* a slice of the body, not a copy */
    cr_expect_eq(jscan_member_find(so, "missing", &iu), 1);
    cr_expect_eq(jscan_member_find(STR_LIT("true"), "x", &iu), -1);
    cr_expect_eq(jscan_member_find(STR_LIT("[{\"x\":1}]"), "x", &iu), -1);
    cr_expect_eq(jscan_member_find(STR_NULL, "x", &iu), -1);
}

/* Splices old (found by key) to new and checks the output byte for byte, both ways. */
static void expect_splice(const char *doc, const char *key, const char *nv, const char *want)
{
    jscan_field_t f = {str_cstr(key), STR_NULL};
    cr_assert_eq(jscan_find(doc, strlen(doc), &f, 1, NULL), 0, "%s", doc);
    cr_assert_not_null(f.value.p);
    str_t iov[3];
    size_t total = jscan_splice_iov(doc, strlen(doc), f.value, str_cstr(nv), iov);
    cr_expect_eq(total, strlen(want));
    cr_expect_eq(iov[0].n + iov[1].n + iov[2].n, total);
    cr_expect_eq(iov[0].p, doc); /* zero copy: slices of the inputs */
    cr_expect_eq(iov[1].p, nv);
    buf_t b = {0};
    buf_append(&b, "pre:", 4); /* jscan_splice appends */
    cr_assert_eq(jscan_splice(&b, doc, strlen(doc), f.value, str_cstr(nv)), 0);
    cr_expect_str_eq(buf_cstr(&b) + 4, want);
    cr_expect(valid(buf_cstr(&b) + 4));
    buf_free(&b);
}

Test(jscan, splice_byte_exact)
{
    expect_splice("{\"model\":\"gpt-4\",\"x\":1}", "model", "\"azure/gpt-4\"",
                  "{\"model\":\"azure/gpt-4\",\"x\":1}");
    expect_splice("{\"x\":1,\"model\":\"a\"}", "model", "\"bb\"", "{\"x\":1,\"model\":\"bb\"}");
    expect_splice(" {\n \"model\" : \"a\\\"b\" ,\"m\":\"model\"}\n", "model", "\"c\"",
                  " {\n \"model\" : \"c\" ,\"m\":\"model\"}\n");
    expect_splice("{\"mod\\u0065l\":\"\\u00e9\\\\\"}", "model", "\"\"", "{\"mod\\u0065l\":\"\"}");
    expect_splice("{\"model\":{\"nested\":[1,2]},\"z\":null}", "model", "\"m\"",
                  "{\"model\":\"m\",\"z\":null}");
    expect_splice("{\"model\":1,\"model\":2}", "model", "3", "{\"model\":1,\"model\":3}");
    expect_splice("{\"stream\":false}", "stream", "true", "{\"stream\":true}");
    expect_splice("{\"model\":\"caf\xc3\xa9\"}", "model", "\"\xe4\xb8\xad\"",
                  "{\"model\":\"\xe4\xb8\xad\"}");
}

Test(jscan, splice_rejects_foreign_slices)
{
    const char *doc = "{\"model\":\"a\"}";
    char other[] = "\"a\"";
    str_t iov[3];
    cr_expect_eq(jscan_splice_iov(doc, strlen(doc), str_make(other, 3), STR_LIT("x"), iov), 0);
    cr_expect_eq(jscan_splice_iov(doc, strlen(doc), STR_NULL, STR_LIT("x"), iov), 0);
    cr_expect_eq(jscan_splice_iov(doc, strlen(doc), str_make(doc + 10, 10), STR_LIT("x"), iov), 0);
    /* the whole body and an empty slice at its end are both inside it */
    cr_expect_eq(jscan_splice_iov(doc, strlen(doc), str_make(doc, strlen(doc)), STR_LIT("{}"), iov),
                 2);
    cr_expect_eq(jscan_splice_iov(doc, strlen(doc), str_make(doc + 13, 0), STR_LIT("x"), iov), 14);
    buf_t b = {0};
    cr_expect_eq(jscan_splice(&b, doc, strlen(doc), str_make(other, 3), STR_LIT("x")), -1);
    cr_expect_eq(b.n, 0);
    buf_free(&b);
}

static void expect_append(const char *doc, const char *member, const char *want)
{
    str_t iov[4];
    size_t total = jscan_append_member_iov(doc, strlen(doc), str_cstr(member), iov);
    cr_assert_eq(total, strlen(want), "%s", doc);
    char out[256];
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        memcpy(out + n, iov[i].p, iov[i].n);
        n += iov[i].n;
    }
    out[n] = '\0';
    cr_expect_str_eq(out, want);
    cr_expect(valid(out));
}

Test(jscan, append_member)
{
    const char *so = "\"stream_options\":{\"include_usage\":true}";
    expect_append("{\"stream\":true}", so,
                  "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
    expect_append("{}", so, "{\"stream_options\":{\"include_usage\":true}}");
    expect_append(" { \n } \n", so, " { \n \"stream_options\":{\"include_usage\":true}} \n");
    expect_append("{\"a\":{}}\r\n", "\"b\":1", "{\"a\":{},\"b\":1}\r\n");
    str_t iov[4];
    cr_expect_eq(jscan_append_member_iov("[1]", 3, STR_LIT("\"b\":1"), iov), 0);
    cr_expect_eq(jscan_append_member_iov("{", 1, STR_LIT("\"b\":1"), iov), 0);
    cr_expect_eq(jscan_append_member_iov(" }", 2, STR_LIT("\"b\":1"), iov), 0);
    cr_expect_eq(jscan_append_member_iov(NULL, 0, STR_LIT("\"b\":1"), iov), 0);
}

/* Removes the member whose text starts at `member` in doc (up to the end of its value). */
static void expect_remove(const char *doc, const char *member, const char *want)
{
    const char *at = strstr(doc, member);
    cr_assert(at, "%s", member);
    buf_t out = {0};
    str_t cut = STR_NULL;
    cr_assert_eq(jscan_remove_member(&out, doc, strlen(doc), str_make(at, strlen(member)), &cut),
                 0);
    cr_expect_eq(out.n, strlen(want), "%s", doc);
    cr_expect(out.n == strlen(want) && memcmp(out.p, want, out.n) == 0, "%.*s", (int)out.n, out.p);
    cr_expect_eq(cut.n, strlen(doc) - strlen(want));
    cr_expect(cut.p >= doc && cut.p + cut.n <= doc + strlen(doc));
    buf_append(&out, "", 1);
    cr_expect(valid(out.p), "%s", out.p);
    buf_free(&out);
}

Test(jscan, remove_member)
{
    /* the comma after it goes; for the last member, the one before */
    expect_remove("{\"model\":\"m\",\"fallbacks\":[\"a\",\"b\"],\"stream\":true}",
                  "\"fallbacks\":[\"a\",\"b\"]", "{\"model\":\"m\",\"stream\":true}");
    expect_remove("{\"model\":\"m\" , \"cache\" : {\"no-cache\":true} }",
                  "\"cache\" : {\"no-cache\":true}", "{\"model\":\"m\"  }");
    expect_remove("{\"fallbacks\":[] ,\n \"model\":\"m\"}", "\"fallbacks\":[]",
                  "{\n \"model\":\"m\"}");
    expect_remove("{ \"only\": 1 }", "\"only\": 1", "{  }");
    buf_t out = {0};
    const char *doc = "{\"a\":1}";
    cr_expect_eq(jscan_remove_member(&out, doc, strlen(doc), STR_LIT("\"a\":1"), NULL), -1,
                 "a member outside the body");
    cr_expect_eq(out.n, 0);
    buf_free(&out);
}

Test(jscan, chat_request)
{
    const char *doc =
        "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
        "{\"role\":\"user\",\"content\":\"Caf\xc3\xa9 \\u2014 \\ud83d\\ude00 \\\"quoted\\\"\"}],"
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":"
        "{\"type\":\"object\",\"properties\":{\"model\":{\"type\":\"string\"}}}}}],"
        "\"temperature\":0.7,\"max_tokens\":512,\"seed\":12345678901234567890,\"stream\":true,"
        "\"stream_options\":{\"include_usage\":true}}";
    jscan_field_t f[] = {{STR_LIT("model"), STR_NULL},
                         {STR_LIT("stream"), STR_NULL},
                         {STR_LIT("stream_options"), STR_NULL}};
    cr_assert_eq(jscan_find(doc, strlen(doc), f, 3, NULL), 0);
    cr_expect(jscan_string_eq(f[0].value, STR_LIT("gpt-4o-mini")));
    cr_expect(jscan_is_true(f[1].value));
    str_t iu;
    cr_expect_eq(jscan_member_find(f[2].value, "include_usage", &iu), 0);
    cr_expect(jscan_is_true(iu));
}
