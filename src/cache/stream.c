/* SPDX-License-Identifier: MIT
 * Streams and the response cache (docs/cache.md): a streamed chat completion is stored as the
 * chat.completion its chunks add up to (what LiteLLM stores after a stream), and a stream request
 * that hits is answered with that completion as one chunk and [DONE] (LiteLLM's
 * convert_to_streaming_response). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "core/sse.h"

#define ASM_MAX_CHOICES 16
#define ASM_MAX_TOOLS 32

typedef struct {
    buf_t id, type, name, args;
    bool seen;
} asm_tool_t;

typedef struct {
    bool seen, has_content, has_refusal;
    buf_t role, content, refusal;
    cJSON *finish;
    int ntools;
    asm_tool_t tools[ASM_MAX_TOOLS];
} asm_choice_t;

typedef struct {
    cJSON *id, *created, *model, *fingerprint, *usage, *tier;
    int nchoices;
    asm_choice_t choices[ASM_MAX_CHOICES];
    bool done, bad;
} asm_t;

/* o printed compact onto out (NULL o: -1). */
static int print_into(cJSON *o, buf_t *out)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    int rc = text ? buf_append_cstr(out, text) : -1;
    free(text);
    return rc;
}

/* LiteLLM's replay of a cached stream: the chunk as one event, then [DONE]. */
static int replay_as_one_chunk(cJSON *chunk, buf_t *out)
{
    return buf_append_cstr(out, "data: ") == 0 && print_into(chunk, out) == 0 &&
                   buf_append_cstr(out, "\n\ndata: [DONE]\n\n") == 0
               ? 0
               : -1;
}

/* Every event of a whole stream, to fn. sse_feed's result. */
static int feed_all(const char *sse, size_t n, int (*fn)(void *arg, const sse_event_t *ev),
                    void *arg)
{
    sse_parser_t sp;
    sse_parser_init(&sp, 0);
    int rc = sse_feed(&sp, sse, n, fn, arg);
    sse_parser_free(&sp);
    return rc;
}

/* A stored completion whose "object" is `object` and which has a "choices" array, parsed; NULL
 * otherwise. */
static cJSON *completion_of(const char *body, size_t n, const char *object)
{
    cJSON *r = cJSON_ParseWithLength(body, n);
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(r, "object");
    if (!cJSON_IsString(obj) || strcmp(obj->valuestring, object) != 0 ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r, "choices"))) {
        cJSON_Delete(r);
        return NULL;
    }
    return r;
}

static void keep(cJSON **slot, const cJSON *v, bool last)
{
    if (!v || cJSON_IsNull(v) || (*slot && !last))
        return;
    cJSON_Delete(*slot);
    *slot = cJSON_Duplicate(v, 1);
}

static int add_str(buf_t *b, const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return -1;
    return buf_append_cstr(b, v->valuestring);
}

static int asm_delta(asm_choice_t *ch, const cJSON *delta)
{
    if (!cJSON_IsObject(delta))
        return delta && !cJSON_IsNull(delta) ? -1 : 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, delta)
    {
        const char *k = m->string;
        if (strcmp(k, "role") == 0) {
            if (cJSON_IsString(m) && !ch->role.n && add_str(&ch->role, m) < 0)
                return -1;
        } else if (strcmp(k, "content") == 0) {
            if (cJSON_IsString(m))
                ch->has_content = true;
            if (add_str(&ch->content, m) < 0)
                return -1;
        } else if (strcmp(k, "refusal") == 0) {
            if (cJSON_IsString(m))
                ch->has_refusal = true;
            if (add_str(&ch->refusal, m) < 0)
                return -1;
        } else if (strcmp(k, "tool_calls") == 0) {
            if (cJSON_IsNull(m))
                continue;
            if (!cJSON_IsArray(m))
                return -1;
            const cJSON *tc;
            cJSON_ArrayForEach(tc, m)
            {
                const cJSON *ix = cJSON_GetObjectItemCaseSensitive(tc, "index");
                int i = cJSON_IsNumber(ix) ? ix->valueint : 0;
                if (i < 0 || i >= ASM_MAX_TOOLS)
                    return -1;
                asm_tool_t *t = &ch->tools[i];
                t->seen = true;
                if (i >= ch->ntools)
                    ch->ntools = i + 1;
                const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
                if (add_str(&t->id, cJSON_GetObjectItemCaseSensitive(tc, "id")) < 0 ||
                    (!t->type.n &&
                     add_str(&t->type, cJSON_GetObjectItemCaseSensitive(tc, "type")) < 0) ||
                    add_str(&t->name, cJSON_GetObjectItemCaseSensitive(fn, "name")) < 0 ||
                    add_str(&t->args, cJSON_GetObjectItemCaseSensitive(fn, "arguments")) < 0)
                    return -1;
            }
        } else if (!cJSON_IsNull(m)) {
            return -1; /* function_call, audio, ...: not rebuilt, so not stored */
        }
    }
    return 0;
}

/* The chunk an OpenAI stream event carries when its "object" is `object`. NULL for an empty
 * event, for [DONE] (sets *done) and for anything else, an error included (sets *bad: the stream
 * is not stored). */
static cJSON *chunk_of(const sse_event_t *ev, const char *object, bool *done, bool *bad)
{
    if (*done || !ev->data.n)
        return NULL;
    if (ev->data.n == 6 && memcmp(ev->data.p, "[DONE]", 6) == 0) {
        *done = true;
        return NULL;
    }
    cJSON *c = cJSON_ParseWithLength(ev->data.p, ev->data.n);
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(c, "object");
    if (!cJSON_IsString(obj) || strcmp(obj->valuestring, object) != 0 ||
        cJSON_GetObjectItemCaseSensitive(c, "error")) {
        cJSON_Delete(c);
        *bad = true;
        return NULL;
    }
    return c;
}

static int asm_event(void *arg, const sse_event_t *ev)
{
    asm_t *a = arg;
    cJSON *c = chunk_of(ev, "chat.completion.chunk", &a->done, &a->bad);
    if (!c)
        return a->bad;
    keep(&a->id, cJSON_GetObjectItemCaseSensitive(c, "id"), false);
    keep(&a->created, cJSON_GetObjectItemCaseSensitive(c, "created"), false);
    keep(&a->model, cJSON_GetObjectItemCaseSensitive(c, "model"), false);
    keep(&a->fingerprint, cJSON_GetObjectItemCaseSensitive(c, "system_fingerprint"), false);
    keep(&a->tier, cJSON_GetObjectItemCaseSensitive(c, "service_tier"), false);
    keep(&a->usage, cJSON_GetObjectItemCaseSensitive(c, "usage"), true);
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(c, "choices"), *cj;
    cJSON_ArrayForEach(cj, choices)
    {
        const cJSON *ix = cJSON_GetObjectItemCaseSensitive(cj, "index");
        int i = cJSON_IsNumber(ix) ? ix->valueint : 0;
        const cJSON *lp = cJSON_GetObjectItemCaseSensitive(cj, "logprobs");
        if (i < 0 || i >= ASM_MAX_CHOICES || (lp && !cJSON_IsNull(lp)) ||
            asm_delta(&a->choices[i], cJSON_GetObjectItemCaseSensitive(cj, "delta")) < 0) {
            a->bad = true;
            break;
        }
        a->choices[i].seen = true;
        if (i >= a->nchoices)
            a->nchoices = i + 1;
        keep(&a->choices[i].finish, cJSON_GetObjectItemCaseSensitive(cj, "finish_reason"), true);
    }
    cJSON_Delete(c);
    return a->bad ? 1 : 0;
}

static cJSON *text_or_null(const buf_t *b, bool has)
{
    if (!has)
        return cJSON_CreateNull();
    char *s = malloc(b->n + 1);
    if (!s)
        return NULL;
    if (b->n)
        memcpy(s, b->p, b->n);
    s[b->n] = 0;
    cJSON *v = cJSON_CreateString(s);
    free(s);
    return v;
}

static void add_copy(cJSON *o, const char *name, const cJSON *v)
{
    if (v)
        cJSON_AddItemToObject(o, name, cJSON_Duplicate(v, 1));
}

static cJSON *asm_build(const asm_t *a)
{
    cJSON *o = cJSON_CreateObject();
    add_copy(o, "id", a->id);
    cJSON_AddStringToObject(o, "object", "chat.completion");
    add_copy(o, "created", a->created);
    add_copy(o, "model", a->model);
    add_copy(o, "system_fingerprint", a->fingerprint);
    add_copy(o, "service_tier", a->tier);
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    for (int i = 0; i < a->nchoices; i++) {
        const asm_choice_t *ch = &a->choices[i];
        if (!ch->seen)
            continue;
        cJSON *c = cJSON_CreateObject();
        cJSON_AddItemToArray(choices, c);
        cJSON_AddNumberToObject(c, "index", i);
        cJSON *msg = cJSON_AddObjectToObject(c, "message");
        cJSON_AddItemToObject(msg, "role",
                              ch->role.n ? text_or_null(&ch->role, true)
                                         : cJSON_CreateString("assistant"));
        cJSON_AddItemToObject(msg, "content", text_or_null(&ch->content, ch->has_content));
        if (ch->has_refusal)
            cJSON_AddItemToObject(msg, "refusal", text_or_null(&ch->refusal, true));
        if (ch->ntools) {
            cJSON *tcs = cJSON_AddArrayToObject(msg, "tool_calls");
            for (int t = 0; t < ch->ntools; t++) {
                const asm_tool_t *tl = &ch->tools[t];
                if (!tl->seen)
                    continue;
                cJSON *tc = cJSON_CreateObject();
                cJSON_AddItemToArray(tcs, tc);
                cJSON_AddItemToObject(tc, "id", text_or_null(&tl->id, true));
                cJSON_AddItemToObject(tc, "type",
                                      tl->type.n ? text_or_null(&tl->type, true)
                                                 : cJSON_CreateString("function"));
                cJSON *fn = cJSON_AddObjectToObject(tc, "function");
                cJSON_AddItemToObject(fn, "name", text_or_null(&tl->name, true));
                cJSON_AddItemToObject(fn, "arguments", text_or_null(&tl->args, true));
            }
        }
        cJSON_AddItemToObject(c, "finish_reason",
                              ch->finish ? cJSON_Duplicate(ch->finish, 1) : cJSON_CreateNull());
        cJSON_AddNullToObject(c, "logprobs");
    }
    add_copy(o, "usage", a->usage);
    return o;
}

static void asm_free(asm_t *a)
{
    cJSON_Delete(a->id);
    cJSON_Delete(a->created);
    cJSON_Delete(a->model);
    cJSON_Delete(a->fingerprint);
    cJSON_Delete(a->usage);
    cJSON_Delete(a->tier);
    for (int i = 0; i < ASM_MAX_CHOICES; i++) {
        asm_choice_t *ch = &a->choices[i];
        buf_free(&ch->role);
        buf_free(&ch->content);
        buf_free(&ch->refusal);
        cJSON_Delete(ch->finish);
        for (int t = 0; t < ASM_MAX_TOOLS; t++) {
            buf_free(&ch->tools[t].id);
            buf_free(&ch->tools[t].type);
            buf_free(&ch->tools[t].name);
            buf_free(&ch->tools[t].args);
        }
    }
}

int cache_stream_assemble(const char *sse, size_t n, buf_t *out)
{
    asm_t *a = calloc(1, sizeof *a);
    if (!a)
        return -1;
    int rc = feed_all(sse, n, asm_event, a);
    if (rc == 0 && !a->bad && a->done && a->nchoices > 0) {
        cJSON *o = asm_build(a);
        rc = print_into(o, out);
        cJSON_Delete(o);
    } else {
        rc = -1;
    }
    asm_free(a);
    free(a);
    return rc;
}

int cache_stream_replay(const char *body, size_t n, buf_t *out)
{
    cJSON *r = completion_of(body, n, "chat.completion");
    if (!r)
        return -1;
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(r, "choices");
    cJSON *k = cJSON_CreateObject();
    add_copy(k, "id", cJSON_GetObjectItemCaseSensitive(r, "id"));
    cJSON_AddStringToObject(k, "object", "chat.completion.chunk");
    add_copy(k, "created", cJSON_GetObjectItemCaseSensitive(r, "created"));
    add_copy(k, "model", cJSON_GetObjectItemCaseSensitive(r, "model"));
    add_copy(k, "system_fingerprint", cJSON_GetObjectItemCaseSensitive(r, "system_fingerprint"));
    cJSON *kc = cJSON_AddArrayToObject(k, "choices");
    const cJSON *c;
    int idx = 0;
    cJSON_ArrayForEach(c, choices)
    {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(c, "message");
        cJSON *d = cJSON_CreateObject();
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(msg, "role");
        if (role)
            add_copy(d, "role", role);
        else
            cJSON_AddStringToObject(d, "role", "assistant");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
        if (content)
            add_copy(d, "content", content);
        else
            cJSON_AddNullToObject(d, "content");
        add_copy(d, "refusal", cJSON_GetObjectItemCaseSensitive(msg, "refusal"));
        const cJSON *tcs = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");
        if (cJSON_IsArray(tcs)) {
            cJSON *dt = cJSON_AddArrayToObject(d, "tool_calls");
            const cJSON *tc;
            int ti = 0;
            cJSON_ArrayForEach(tc, tcs)
            {
                cJSON *x = cJSON_Duplicate(tc, 1);
                cJSON_DeleteItemFromObjectCaseSensitive(x, "index");
                cJSON_AddNumberToObject(x, "index", ti++);
                cJSON_AddItemToArray(dt, x);
            }
        }
        cJSON *kci = cJSON_CreateObject();
        const cJSON *ix = cJSON_GetObjectItemCaseSensitive(c, "index");
        cJSON_AddNumberToObject(kci, "index", cJSON_IsNumber(ix) ? ix->valuedouble : idx);
        cJSON_AddItemToObject(kci, "delta", d);
        const cJSON *fr = cJSON_GetObjectItemCaseSensitive(c, "finish_reason");
        cJSON_AddItemToObject(kci, "finish_reason",
                              fr ? cJSON_Duplicate(fr, 1) : cJSON_CreateNull());
        const cJSON *lp = cJSON_GetObjectItemCaseSensitive(c, "logprobs");
        cJSON_AddItemToObject(kci, "logprobs", lp ? cJSON_Duplicate(lp, 1) : cJSON_CreateNull());
        cJSON_AddItemToArray(kc, kci);
        idx++;
    }
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(r, "usage");
    if (usage && !cJSON_IsNull(usage))
        add_copy(k, "usage", usage);
    int rc = replay_as_one_chunk(k, out);
    cJSON_Delete(k);
    cJSON_Delete(r);
    return rc;
}

/* ---- /completions streams: text_completion chunks ---- */

typedef struct {
    cJSON *id, *created, *model, *fingerprint, *usage;
    int nchoices;
    bool seen[ASM_MAX_CHOICES];
    buf_t text[ASM_MAX_CHOICES];
    cJSON *finish[ASM_MAX_CHOICES];
    bool done, bad;
} text_asm_t;

static int text_event(void *arg, const sse_event_t *ev)
{
    text_asm_t *a = arg;
    cJSON *c = chunk_of(ev, "text_completion", &a->done, &a->bad);
    if (!c)
        return a->bad;
    keep(&a->id, cJSON_GetObjectItemCaseSensitive(c, "id"), false);
    keep(&a->created, cJSON_GetObjectItemCaseSensitive(c, "created"), false);
    keep(&a->model, cJSON_GetObjectItemCaseSensitive(c, "model"), false);
    keep(&a->fingerprint, cJSON_GetObjectItemCaseSensitive(c, "system_fingerprint"), false);
    keep(&a->usage, cJSON_GetObjectItemCaseSensitive(c, "usage"), true);
    const cJSON *cj;
    cJSON_ArrayForEach(cj, cJSON_GetObjectItemCaseSensitive(c, "choices"))
    {
        const cJSON *ix = cJSON_GetObjectItemCaseSensitive(cj, "index");
        int i = cJSON_IsNumber(ix) ? ix->valueint : 0;
        const cJSON *lp = cJSON_GetObjectItemCaseSensitive(cj, "logprobs");
        if (i < 0 || i >= ASM_MAX_CHOICES || (lp && !cJSON_IsNull(lp)) ||
            add_str(&a->text[i], cJSON_GetObjectItemCaseSensitive(cj, "text")) < 0) {
            a->bad = true;
            break;
        }
        a->seen[i] = true;
        if (i >= a->nchoices)
            a->nchoices = i + 1;
        keep(&a->finish[i], cJSON_GetObjectItemCaseSensitive(cj, "finish_reason"), true);
    }
    cJSON_Delete(c);
    return a->bad ? 1 : 0;
}

static cJSON *text_build(const text_asm_t *a)
{
    cJSON *o = cJSON_CreateObject();
    add_copy(o, "id", a->id);
    cJSON_AddStringToObject(o, "object", "text_completion");
    add_copy(o, "created", a->created);
    add_copy(o, "model", a->model);
    add_copy(o, "system_fingerprint", a->fingerprint);
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    for (int i = 0; i < a->nchoices; i++) {
        if (!a->seen[i])
            continue;
        cJSON *c = cJSON_CreateObject();
        cJSON_AddItemToArray(choices, c);
        cJSON_AddItemToObject(c, "text", text_or_null(&a->text[i], true));
        cJSON_AddNumberToObject(c, "index", i);
        cJSON_AddNullToObject(c, "logprobs");
        cJSON_AddItemToObject(c, "finish_reason",
                              a->finish[i] ? cJSON_Duplicate(a->finish[i], 1) : cJSON_CreateNull());
    }
    add_copy(o, "usage", a->usage);
    return o;
}

int cache_text_stream_assemble(const char *sse, size_t n, buf_t *out)
{
    text_asm_t *a = calloc(1, sizeof *a);
    if (!a)
        return -1;
    int rc = feed_all(sse, n, text_event, a);
    if (rc == 0 && !a->bad && a->done && a->nchoices > 0) {
        cJSON *o = text_build(a);
        rc = print_into(o, out);
        cJSON_Delete(o);
    } else {
        rc = -1;
    }
    cJSON_Delete(a->id);
    cJSON_Delete(a->created);
    cJSON_Delete(a->model);
    cJSON_Delete(a->fingerprint);
    cJSON_Delete(a->usage);
    for (int i = 0; i < ASM_MAX_CHOICES; i++) {
        buf_free(&a->text[i]);
        cJSON_Delete(a->finish[i]);
    }
    free(a);
    return rc;
}

int cache_text_stream_replay(const char *body, size_t n, buf_t *out)
{
    cJSON *r = completion_of(body, n, "text_completion");
    if (!r)
        return -1;
    /* the stored completion is already a text_completion object, the shape of a chunk */
    int rc = replay_as_one_chunk(r, out);
    cJSON_Delete(r);
    return rc;
}

/* ---- /v1/messages streams: the events as they were sent ---- */

#define EVENTS_MEMBER "litellm_cached_anthropic_sse_events"

typedef struct {
    bool stop, error;
} events_scan_t;

static int events_event(void *arg, const sse_event_t *ev)
{
    events_scan_t *s = arg;
    if (str_eq_cstr(ev->event, "message_stop"))
        s->stop = true;
    else if (str_eq_cstr(ev->event, "error"))
        s->error = true;
    return 0;
}

int cache_events_wrap(const char *sse, size_t n, buf_t *out)
{
    events_scan_t s = {false, false};
    int rc = feed_all(sse, n, events_event, &s);
    if (rc != 0 || !s.stop || s.error)
        return -1;
    cJSON *o = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(o, EVENTS_MEMBER);
    /* split after each blank line ("\n\n"), as LiteLLM's (?<=\n\n) split does */
    size_t start = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (sse[i] == '\n' && sse[i + 1] == '\n') {
            char *ev = strndup(sse + start, i + 2 - start);
            cJSON_AddItemToArray(list, cJSON_CreateString(ev ? ev : ""));
            free(ev);
            start = i + 2;
            i++;
        }
    }
    if (start < n) {
        char *ev = strndup(sse + start, n - start);
        cJSON_AddItemToArray(list, cJSON_CreateString(ev ? ev : ""));
        free(ev);
    }
    rc = print_into(o, out);
    cJSON_Delete(o);
    return rc;
}

int cache_events_replay(const char *body, size_t n, buf_t *out)
{
    cJSON *r = cJSON_ParseWithLength(body, n);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(r, EVENTS_MEMBER), *e;
    int rc = cJSON_IsArray(list) ? 0 : -1;
    cJSON_ArrayForEach(e, list)
    {
        if (cJSON_IsString(e) && buf_append_cstr(out, e->valuestring) < 0)
            rc = -1;
    }
    cJSON_Delete(r);
    return rc;
}
