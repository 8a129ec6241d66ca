/* SPDX-License-Identifier: MIT
 * What the native-format routes of sluice-mock (cohere.c, ollama.c) share: the answer's words,
 * JSON splicing, the body parse, deterministic embedding vectors, and the control reading that
 * decides an answer before the route looks at the request. The words and vectors follow the
 * OpenAI routes (openai.c), so every provider answers "mock answer to <model>: w1 w2 ...". */
#ifndef SLUICE_MOCK_NATIVE_H
#define SLUICE_MOCK_NATIVE_H

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "core/common.h"
#include "mock.h"

#define NATIVE_PUT(b, lit) mock_append((b), "" lit, sizeof(lit) - 1)
#define NATIVE_EMBED_DEFAULT_DIMS 8
#define NATIVE_EMBED_MAX_DIMS 8192
#define NATIVE_EMBED_MAX_INPUTS 2048

/* Appends s JSON-escaped without the surrounding quotes. */
static inline void native_put_escaped(buf_t *b, str_t s)
{
    size_t mark = b->n;
    if (buf_append_json_string(b, s) != 0 || b->n < mark + 2) {
        b->n = mark;
        return;
    }
    memmove(b->p + mark, b->p + mark + 1, b->n - mark - 2);
    b->n -= 2;
}

/* Token k of "mock answer to <model>: w1 w2 ..." (c->model is already escaped). */
static inline void native_put_token(buf_t *b, const mock_call_t *c, uint64_t k)
{
    switch (k) {
    case 0:
        NATIVE_PUT(b, "mock");
        return;
    case 1:
        NATIVE_PUT(b, " answer");
        return;
    case 2:
        NATIVE_PUT(b, " to");
        return;
    case 3:
        NATIVE_PUT(b, " ");
        buf_append(b, c->model.p, c->model.n);
        NATIVE_PUT(b, ":");
        return;
    default:
        NATIVE_PUT(b, " w");
        mock_append_u64(b, k - 3);
    }
}

/* The body as one JSON value (trailing whitespace allowed), or NULL. */
static inline cJSON *native_parse_body(str_t body)
{
    if (body.n == 0)
        return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body.p, body.n, &end, false);
    if (!root)
        return NULL;
    const char *stop = body.p + body.n;
    while (end && end < stop && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (end != stop) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static inline const cJSON *native_get(const cJSON *obj, const char *name)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
}

static inline bool native_nonempty_string(const cJSON *v)
{
    return cJSON_IsString(v) && v->valuestring[0] != '\0';
}

/* ---- embeddings: a unit vector that depends only on the text ----------------------------- */

#define NATIVE_FNV_SEED 1469598103934665603ull

static inline uint64_t native_hash(const char *p, size_t n)
{
    uint64_t h = NATIVE_FNV_SEED;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static inline void native_put_vector(buf_t *b, uint64_t seed, size_t dims)
{
    double v[NATIVE_EMBED_MAX_DIMS], norm = 0;
    for (size_t i = 0; i < dims; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        v[i] = (double)(z >> 11) * (1.0 / 9007199254740992.0) * 2 - 1;
        norm += v[i] * v[i];
    }
    norm = sqrt(norm);
    NATIVE_PUT(b, "[");
    for (size_t i = 0; i < dims; i++)
        buf_printf(b, i ? ",%.9g" : "%.9g", (double)(float)(norm > 0 ? v[i] / norm : 0));
    NATIVE_PUT(b, "]");
}

/* ---- controls ------------------------------------------------------------------------------ */

/* Reads the controls and plans what they decide alone. Returns true when the answer is
 * planned (a malformed control, `drop`, `fail-first`, `status`); the route then only starts
 * the call. `error` plans an error answer in the provider's own envelope. On false the call
 * holds the timing, delay, prompt_tokens and id, and *fault the fault to apply to the answer. */
static inline bool native_controls(mock_call_t *c, const cJSON *body_mock, mock_fault_t *fault,
                                   void (*error)(mock_call_t *c, int status, const char *message))
{
    mock_controls_t ctl;
    char err[256];
    if (mock_controls_read(&ctl, &c->w->cfg->timing, c->req, body_mock, err, sizeof err) != 0) {
        error(c, 400, err);
        return true;
    }
    if (ctl.fail_first && !ctl.id.n) {
        error(c, 400, "mock control 'fail-first' needs an 'id'");
        return true;
    }
    c->timing = ctl.timing;
    c->delay_ms = ctl.delay_ms;
    c->prompt_tokens = (c->req->body.n + 3) / 4;
    *fault = ctl.fault;
    uint64_t seen = 0;
    if (ctl.id.n) {
        buf_append_str(&c->id, ctl.id);
        seen = mock_stats_id_request(ctl.id);
    }
    char message[32];
    if (ctl.fault == MOCK_FAULT_DROP) {
        c->action = MOCK_ACT_DROP;
        return true;
    }
    int status = 0;
    if (ctl.fail_first && seen <= ctl.fail_first)
        status = ctl.status >= 400 ? ctl.status : 500;
    else if (!ctl.fail_first && ctl.status >= 400)
        status = ctl.status;
    if (!status)
        return false;
    snprintf(message, sizeof message, "mock error %d", status);
    error(c, status, message);
    return true;
}

/* A JSON answer already in c->body, with the malformed and drop-mid-stream faults applied. */
static inline void native_json_fault(mock_call_t *c, mock_fault_t fault)
{
    static const char bad[] = "mock: this body is not JSON {\"message\":";
    c->pre_ms = c->timing.latency_ms;
    if (fault == MOCK_FAULT_MALFORMED) {
        c->body.n = 0;
        buf_append(&c->body, bad, sizeof bad - 1);
    } else if (fault == MOCK_FAULT_DROP_MID_STREAM) {
        c->action = MOCK_ACT_PARTIAL;
    }
}

#endif
