/* SPDX-License-Identifier: MIT
 * LiteLLM's cache key (litellm/caching/caching.py get_cache_key): for every request kwarg that is
 * a known LLM API parameter, "<param>: <str(value)>" is appended with no separator, the text is
 * hashed with SHA-256 (hex), and "<namespace>:" is prefixed when a namespace is set. Values are
 * Python objects there (json.loads of the body), so they are printed here as Python prints
 * them: strings bare at the top level, containers with repr() (single quotes, True/None, floats
 * in their shortest round-trip form). Also the per-request `cache` controls. */
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "core/jscan.h"

/* The kwargs LiteLLM's ModelParamHelper._get_all_llm_api_params() knows (OpenAI's chat,
 * text-completion, embedding and transcription parameters, minus metadata). */
static const char *const cache_params[] = {
    "model",
    "messages",
    "prompt",
    "input",
    "audio",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "modalities",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt_cache_key",
    "reasoning_effort",
    "response_format",
    "safety_identifier",
    "seed",
    "service_tier",
    "stop",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
    "verbosity",
    "web_search_options",
    "best_of",
    "echo",
    "suffix",
    "dimensions",
    "encoding_format",
    "file",
    "language",
    "timestamp_granularities",
    "chunking_strategy",
    "include",
    NULL,
};

static bool is_cache_param(str_t raw_key)
{
    for (size_t i = 0; cache_params[i]; i++)
        if (jscan_key_eq(raw_key, str_cstr(cache_params[i])))
            return true;
    return false;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The end of the string literal starting at p (the opening quote). */
static const char *string_end(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return end;
}

/* Python's str.isprintable() is false for control, format, separator (but the space) and
 * private characters: those repr() escapes. The common ones are listed; see docs/cache.md. */
static bool py_printable(uint32_t c)
{
    if (c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad)
        return false;
    if (c == 0x1680 || (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
        (c >= 0x205f && c <= 0x206f && c != 0x2065) || c == 0x3000 || c == 0xfeff ||
        (c >= 0xe000 && c <= 0xf8ff) || c >= 0xf0000)
        return false;
    /* the other format characters (Cf) */
    if ((c >= 0x600 && c <= 0x605) || c == 0x61c || c == 0x6dd || c == 0x70f || c == 0x180e ||
        (c >= 0xfff9 && c <= 0xfffb) || c == 0x110bd || c == 0x110cd ||
        (c >= 0x1d173 && c <= 0x1d17a) || c == 0xe0001 || (c >= 0xe0020 && c <= 0xe007f) ||
        (c >= 0x13430 && c <= 0x1343f) || (c >= 0x1bca0 && c <= 0x1bca3) || c == 0x8e2 ||
        (c >= 0x890 && c <= 0x891))
        return false;
    return true;
}

/* repr() of decoded UTF-8 text s. */
static int py_repr_text(str_t s, buf_t *out)
{
    bool has_single = memchr(s.p, '\'', s.n) != NULL, has_double = memchr(s.p, '"', s.n) != NULL;
    char quote = has_single && !has_double ? '"' : '\'';
    if (buf_append(out, &quote, 1) < 0)
        return -1;
    const unsigned char *p = (const unsigned char *)s.p, *end = p + s.n;
    while (p < end) {
        uint32_t c = *p;
        size_t len = 1;
        if (c >= 0xf0 && end - p >= 4) {
            c = ((c & 7u) << 18) | ((p[1] & 63u) << 12) | ((p[2] & 63u) << 6) | (p[3] & 63u);
            len = 4;
        } else if (c >= 0xe0 && end - p >= 3) {
            c = ((c & 15u) << 12) | ((p[1] & 63u) << 6) | (p[2] & 63u);
            len = 3;
        } else if (c >= 0xc0 && end - p >= 2) {
            c = ((c & 31u) << 6) | (p[1] & 63u);
            len = 2;
        }
        int rc;
        if (c == '\\')
            rc = buf_append_cstr(out, "\\\\");
        else if (c == (uint32_t)quote)
            rc = buf_printf(out, "\\%c", quote);
        else if (c == '\n')
            rc = buf_append_cstr(out, "\\n");
        else if (c == '\r')
            rc = buf_append_cstr(out, "\\r");
        else if (c == '\t')
            rc = buf_append_cstr(out, "\\t");
        else if (py_printable(c))
            rc = buf_append(out, p, len);
        else if (c < 0x100)
            rc = buf_printf(out, "\\x%02x", c);
        else if (c < 0x10000)
            rc = buf_printf(out, "\\u%04x", c);
        else
            rc = buf_printf(out, "\\U%08x", c);
        if (rc < 0)
            return -1;
        p += len;
    }
    return buf_append(out, &quote, 1);
}

/* repr() of the JSON number raw: an int prints its digits, a float its shortest round-trip
 * digits in Python's layout (scientific below 1e-4 and from 1e16). */
static int py_number(str_t raw, buf_t *out)
{
    if (!memchr(raw.p, '.', raw.n) && !memchr(raw.p, 'e', raw.n) && !memchr(raw.p, 'E', raw.n)) {
        if (raw.n == 2 && raw.p[0] == '-' && raw.p[1] == '0')
            return buf_append_cstr(out, "0");
        return buf_append(out, raw.p, raw.n);
    }
    char small[64], *text = raw.n < sizeof small ? small : malloc(raw.n + 1);
    if (!text)
        return -1;
    memcpy(text, raw.p, raw.n);
    text[raw.n] = 0;
    double v = strtod(text, NULL);
    if (text != small)
        free(text);
    if (isinf(v))
        return buf_append_cstr(out, v < 0 ? "-inf" : "inf");
    if (v == 0)
        return buf_append_cstr(out, signbit(v) ? "-0.0" : "0.0");
    char sci[64];
    int prec;
    for (prec = 0; prec < 17; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec, v);
        if (strtod(sci, NULL) == v)
            break;
    }
    /* sci: [-]d[.ddd]e[+-]xx */
    char digits[32];
    size_t nd = 0;
    const char *s = sci;
    bool neg = *s == '-';
    if (neg)
        s++;
    for (; *s && *s != 'e'; s++)
        if (*s != '.')
            digits[nd++] = *s;
    int exp10 = atoi(s + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = 0;
    if (neg && buf_append_cstr(out, "-") < 0)
        return -1;
    if (exp10 < -4 || exp10 >= 16) {
        buf_append(out, digits, 1);
        if (nd > 1) {
            buf_append_cstr(out, ".");
            buf_append(out, digits + 1, nd - 1);
        }
        return buf_printf(out, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    }
    if (exp10 < 0) {
        buf_append_cstr(out, "0.");
        for (int i = -1; i > exp10; i--)
            buf_append_cstr(out, "0");
        return buf_append(out, digits, nd);
    }
    size_t int_digits = (size_t)exp10 + 1;
    if (nd <= int_digits) {
        buf_append(out, digits, nd);
        for (size_t i = nd; i < int_digits; i++)
            buf_append_cstr(out, "0");
        return buf_append_cstr(out, ".0");
    }
    buf_append(out, digits, int_digits);
    buf_append_cstr(out, ".");
    return buf_append(out, digits + int_digits, nd - int_digits);
}

/* repr() of the value starting at *pp (validated JSON); *pp moves past it. */
static int py_value(const char **pp, const char *end, bool top, buf_t *out, int depth)
{
    const char *p = skip_ws(*pp, end);
    if (p >= end || depth > JSCAN_MAX_DEPTH)
        return -1;
    int rc = 0;
    if (*p == '{' || *p == '[') {
        bool object = *p == '{';
        rc = buf_append(out, p, 1);
        p = skip_ws(p + 1, end);
        bool first = true;
        while (rc == 0 && p < end && *p != (object ? '}' : ']')) {
            if (!first)
                rc = buf_append_cstr(out, ", ");
            first = false;
            if (object) {
                if (py_value(&p, end, false, out, depth + 1) < 0)
                    return -1;
                p = skip_ws(p, end);
                if (p < end && *p == ':')
                    p++;
                rc = buf_append_cstr(out, ": ");
            }
            if (rc == 0 && py_value(&p, end, false, out, depth + 1) < 0)
                return -1;
            p = skip_ws(p, end);
            if (p < end && *p == ',')
                p = skip_ws(p + 1, end);
        }
        if (p >= end)
            return -1;
        if (rc == 0)
            rc = buf_append(out, p, 1);
        p++;
    } else if (*p == '"') {
        const char *e = string_end(p, end);
        buf_t dec = {0};
        if (jscan_string_decode(str_make(p, (size_t)(e - p)), &dec) < 0) {
            buf_free(&dec);
            return -1;
        }
        str_t s = str_make(dec.p ? dec.p : "", dec.n);
        rc = top ? buf_append(out, s.p, s.n) : py_repr_text(s, out);
        buf_free(&dec);
        p = e;
    } else if (*p == 't') {
        rc = buf_append_cstr(out, "True");
        p += 4;
    } else if (*p == 'f') {
        rc = buf_append_cstr(out, "False");
        p += 5;
    } else if (*p == 'n') {
        rc = buf_append_cstr(out, "None");
        p += 4;
    } else {
        const char *s = p;
        while (p < end && (strchr("+-.eE", *p) || (*p >= '0' && *p <= '9')))
            p++;
        rc = py_number(str_make(s, (size_t)(p - s)), out);
    }
    *pp = p;
    return rc < 0 ? -1 : 0;
}

int cache_py_str(str_t raw, bool top, buf_t *out)
{
    const char *p = raw.p;
    return py_value(&p, raw.p + raw.n, top, out, 0);
}

/* The inputs LiteLLM's router passes right after model, in this order. */
static const char *const first_inputs[3] = {"messages", "prompt", "input"};

typedef struct {
    buf_t *out;
    str_t inputs[3]; /* first pass: the raw values of first_inputs (last duplicate wins) */
    bool collect;
    int rc;
} key_walk_t;

static int key_append(buf_t *out, str_t raw_key, str_t value)
{
    if (value.n == 4 && memcmp(value.p, "null", 4) == 0)
        return 0; /* LiteLLM skips None values */
    buf_t key = {0};
    int rc = jscan_string_decode(str_make(raw_key.p - 1, raw_key.n + 2), &key) < 0 ||
                     buf_append(out, key.p, key.n) < 0 || buf_append_cstr(out, ": ") < 0 ||
                     cache_py_str(value, true, out) < 0
                 ? -1
                 : 0;
    buf_free(&key);
    return rc;
}

static int key_member(void *arg, const jscan_member_t *m)
{
    key_walk_t *k = arg;
    for (int i = 0; i < 3; i++)
        if (jscan_key_eq(m->key, str_cstr(first_inputs[i]))) {
            if (k->collect)
                k->inputs[i] = m->value;
            return 0;
        }
    if (k->collect || jscan_key_eq(m->key, STR_LIT("model")) || !is_cache_param(m->key))
        return 0;
    k->rc = key_append(k->out, m->key, m->value);
    return k->rc < 0 ? 1 : 0;
}

int cache_key_text(const char *body, size_t n, str_t model_group, buf_t *out)
{
    if (buf_append_cstr(out, "model: ") < 0 || buf_append_str(out, model_group) < 0)
        return -1;
    key_walk_t k = {.out = out, .collect = true};
    if (jscan_object(body, n, key_member, &k, NULL) != 0)
        return -1;
    for (int i = 0; i < 3; i++) {
        /* key_append wants the raw key as jscan gives it (inside quotes) */
        char quoted[16];
        int len = snprintf(quoted, sizeof quoted, "\"%s\"", first_inputs[i]);
        if (k.inputs[i].p &&
            key_append(out, str_make(quoted + 1, (size_t)len - 2), k.inputs[i]) < 0)
            return -1;
    }
    k.collect = false;
    if (jscan_object(body, n, key_member, &k, NULL) != 0 || k.rc < 0)
        return -1;
    return 0;
}

typedef struct {
    buf_t *out;
    const char *const *extra;
    int rc;
} extra_walk_t;

static int extra_member(void *arg, const jscan_member_t *m)
{
    extra_walk_t *x = arg;
    for (size_t i = 0; x->extra[i]; i++)
        if (jscan_key_eq(m->key, str_cstr(x->extra[i]))) {
            x->rc = key_append(x->out, m->key, m->value);
            return x->rc < 0 ? 1 : 0;
        }
    return 0;
}

int cache_key(const char *body, size_t n, str_t model_group, str_t namespace_,
              char out[CACHE_KEY_MAX])
{
    return cache_key_extra(body, n, model_group, namespace_, NULL, out);
}

int cache_key_extra(const char *body, size_t n, str_t model_group, str_t namespace_,
                    const char *const *extra, char out[CACHE_KEY_MAX])
{
    buf_t text = {0};
    unsigned char md[32];
    unsigned int md_len = 0;
    extra_walk_t x = {&text, extra, 0};
    if (cache_key_text(body, n, model_group, &text) < 0 ||
        (extra && (jscan_object(body, n, extra_member, &x, NULL) != 0 || x.rc < 0)) ||
        EVP_Digest(text.p ? text.p : "", text.n, md, &md_len, EVP_sha256(), NULL) != 1) {
        buf_free(&text);
        return -1;
    }
    buf_free(&text);
    size_t off = 0;
    if (namespace_.p && namespace_.n) {
        if (namespace_.n > CACHE_KEY_MAX - 66)
            return -1;
        memcpy(out, namespace_.p, namespace_.n);
        out[namespace_.n] = ':';
        off = namespace_.n + 1;
    }
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[off + 2 * (size_t)i] = hex[md[i] >> 4];
        out[off + 2 * (size_t)i + 1] = hex[md[i] & 15];
    }
    out[off + 64] = 0;
    return 0;
}

static double number_of(str_t raw)
{
    char text[64];
    if (!raw.p || raw.n == 0 || raw.n >= sizeof text)
        return -1;
    memcpy(text, raw.p, raw.n);
    text[raw.n] = 0;
    char *end;
    double v = strtod(text, &end);
    return end == text || *end ? -1 : v;
}

int cache_controls_parse(str_t raw, cache_controls_t *c)
{
    *c = (cache_controls_t){.ttl_s = -1, .s_maxage_s = -1};
    if (!raw.p)
        return 0;
    str_t v;
    if (jscan_member_find(raw, "no-cache", &v) < 0)
        return -1;
    c->no_cache = jscan_member_find(raw, "no-cache", &v) == 0 && jscan_is_true(v);
    c->no_store = jscan_member_find(raw, "no-store", &v) == 0 && jscan_is_true(v);
    c->use_cache = jscan_member_find(raw, "use-cache", &v) == 0 && jscan_is_true(v);
    if (jscan_member_find(raw, "ttl", &v) == 0)
        c->ttl_s = number_of(v);
    /* LiteLLM reads "s-maxage", else "s-max-age" */
    if (jscan_member_find(raw, "s-maxage", &v) == 0 || jscan_member_find(raw, "s-max-age", &v) == 0)
        c->s_maxage_s = number_of(v);
    if (jscan_member_find(raw, "namespace", &v) == 0 && v.n >= 2 && v.p[0] == '"')
        c->namespace_ = v;
    return 0;
}

typedef struct {
    int (*fn)(void *arg, str_t name);
    void *arg;
    int rc;
} each_walk_t;

static int each_member(void *arg, const jscan_member_t *m)
{
    each_walk_t *e = arg;
    buf_t name = {0};
    if (jscan_string_decode(str_make(m->key.p - 1, m->key.n + 2), &name) == 0)
        e->rc = e->fn(e->arg, str_make(name.p ? name.p : "", name.n));
    buf_free(&name);
    return e->rc;
}

int cache_controls_each(str_t raw, int (*fn)(void *arg, str_t name), void *arg)
{
    if (!raw.p || raw.n < 2 || raw.p[0] != '{')
        return 0;
    each_walk_t e = {fn, arg, 0};
    jscan_object(raw.p, raw.n, each_member, &e, NULL);
    return e.rc;
}
