/* SPDX-License-Identifier: MIT
 * Per-request controls of sluice-mock: `x-mock-<name>` headers and the body's top-level "mock"
 * object, the body winning. A malformed value is the test author's mistake, so it gets a 400
 * that names it instead of being ignored; unknown names are ignored (other x-mock-* headers may
 * be a test's own markers). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

#include "mock.h"

#define MOCK_MAX_MS 3600000ull  /* an hour: longer waits are typos */
#define MOCK_MAX_TOKENS 1000000 /* keeps a whole answer within a few MB */

typedef enum {
    MOCK_CTL_TTFT,
    MOCK_CTL_CHUNK_DELAY,
    MOCK_CTL_TOKENS,
    MOCK_CTL_LATENCY,
    MOCK_CTL_STATUS,
    MOCK_CTL_FAIL_FIRST,
    MOCK_CTL_ID,
    MOCK_CTL_FAULT,
    MOCK_CTL_DELAY,
    MOCK_CTL_UNKNOWN,
} mock_control_name_t;

static const struct {
    const char *name;
    mock_control_name_t which;
} mock_control_names[] = {
    {"ttft-ms", MOCK_CTL_TTFT},   {"chunk-delay-ms", MOCK_CTL_CHUNK_DELAY},
    {"tokens", MOCK_CTL_TOKENS},  {"latency-ms", MOCK_CTL_LATENCY},
    {"status", MOCK_CTL_STATUS},  {"fail-first", MOCK_CTL_FAIL_FIRST},
    {"id", MOCK_CTL_ID},          {"fault", MOCK_CTL_FAULT},
    {"delay-ms", MOCK_CTL_DELAY},
};

static mock_control_name_t mock_control_lookup(str_t name)
{
    for (size_t i = 0; i < sizeof mock_control_names / sizeof mock_control_names[0]; i++)
        if (str_case_eq(name, str_cstr(mock_control_names[i].name)))
            return mock_control_names[i].which;
    return MOCK_CTL_UNKNOWN;
}

static int mock_fault_parse(str_t v, mock_fault_t *out)
{
    if (str_eq_cstr(v, "drop"))
        *out = MOCK_FAULT_DROP;
    else if (str_eq_cstr(v, "drop-mid-stream"))
        *out = MOCK_FAULT_DROP_MID_STREAM;
    else if (str_eq_cstr(v, "malformed"))
        *out = MOCK_FAULT_MALFORMED;
    else if (str_eq_cstr(v, "slow-head"))
        *out = MOCK_FAULT_SLOW_HEAD;
    else if (str_eq_cstr(v, "none") || v.n == 0)
        *out = MOCK_FAULT_NONE;
    else
        return -1;
    return 0;
}

/* Applies one control. `text` is the value as text; `num` its numeric value or -1 when it is
 * not a non-negative integer. */
static int mock_control_apply(mock_controls_t *c, str_t name, str_t text, long long num, char *err,
                              size_t err_size)
{
    mock_control_name_t which = mock_control_lookup(name);
    const char *want = NULL;
    switch (which) {
    case MOCK_CTL_TTFT:
    case MOCK_CTL_CHUNK_DELAY:
    case MOCK_CTL_LATENCY:
    case MOCK_CTL_DELAY:
        if (num < 0 || (unsigned long long)num > MOCK_MAX_MS) {
            want = "milliseconds, 0 to 3600000";
            break;
        }
        if (which == MOCK_CTL_TTFT)
            c->timing.ttft_ms = (uint64_t)num;
        else if (which == MOCK_CTL_CHUNK_DELAY)
            c->timing.chunk_delay_ms = (uint64_t)num;
        else if (which == MOCK_CTL_LATENCY)
            c->timing.latency_ms = (uint64_t)num;
        else
            c->delay_ms = (uint64_t)num;
        break;
    case MOCK_CTL_TOKENS:
        if (num < 0 || num > MOCK_MAX_TOKENS)
            want = "a token count, 0 to 1000000";
        else
            c->timing.tokens = (uint64_t)num;
        break;
    case MOCK_CTL_STATUS:
        if (num < 200 || num > 599)
            want = "an HTTP status, 200 to 599";
        else
            c->status = (int)num;
        break;
    case MOCK_CTL_FAIL_FIRST:
        if (num < 0)
            want = "a request count";
        else
            c->fail_first = (uint64_t)num;
        break;
    case MOCK_CTL_ID:
        if (text.n == 0 || text.n > 200)
            want = "a tag of 1 to 200 bytes";
        else
            c->id = text;
        break;
    case MOCK_CTL_FAULT:
        if (mock_fault_parse(text, &c->fault) != 0)
            want = "drop, drop-mid-stream, malformed or slow-head";
        break;
    case MOCK_CTL_UNKNOWN:
        break;
    }
    if (!want)
        return 0;
    snprintf(err, err_size, "mock control '%.*s': got '%.*s', want %s", STR_FMT(name),
             (int)(text.n > 64 ? 64 : text.n), text.p ? text.p : "", want);
    return -1;
}

int mock_controls_read(mock_controls_t *c, const mock_timing_t *defaults, const http_req_t *req,
                       const cJSON *body_mock, char *err, size_t err_size)
{
    static const str_t prefix = STR_LIT("x-mock-");
    *c = (mock_controls_t){.timing = *defaults};
    for (size_t i = 0; i < req->head.num_headers; i++) {
        const http_header_t *h = &req->head.headers[i];
        /* one byte rules out nearly every header before the case-insensitive compare */
        if (h->name.n <= prefix.n || (h->name.p[0] | 0x20) != 'x' ||
            !str_case_has_prefix(h->name, prefix))
            continue;
        str_t name = str_skip(h->name, prefix.n);
        if (mock_control_apply(c, name, h->value, str_to_ll(h->value), err, err_size) != 0)
            return -1;
    }
    if (!body_mock)
        return 0;
    if (!cJSON_IsObject(body_mock)) {
        snprintf(err, err_size, "mock controls: 'mock' must be an object");
        return -1;
    }
    char numtext[32];
    for (const cJSON *it = body_mock->child; it; it = it->next) {
        str_t name = str_cstr(it->string);
        str_t text = STR_NULL;
        long long num = -1;
        if (cJSON_IsString(it)) {
            text = str_cstr(it->valuestring);
            num = str_to_ll(text);
        } else if (cJSON_IsNumber(it)) {
            /* the id is kept as a slice, so it must not point at this stack text */
            if (mock_control_lookup(name) == MOCK_CTL_ID) {
                snprintf(err, err_size, "mock control 'id': give it as a string");
                return -1;
            }
            double d = it->valuedouble;
            if (d >= 0 && d < 1e15 && floor(d) == d)
                num = (long long)d;
            int k = snprintf(numtext, sizeof numtext, "%.17g", d);
            text = str_make(numtext, k > 0 ? (size_t)k : 0);
        } else if (cJSON_IsBool(it) || cJSON_IsNull(it)) {
            text = cJSON_IsTrue(it)    ? STR_LIT("true")
                   : cJSON_IsFalse(it) ? STR_LIT("false")
                                       : STR_LIT("null");
        } else {
            text = STR_LIT("(object)");
        }
        if (mock_control_apply(c, name, text, num, err, err_size) != 0)
            return -1;
    }
    return 0;
}
