/* SPDX-License-Identifier: MIT
 * Golden-file runner for provider adapters (test_prov_cohere.c, test_prov_ollama.c): every case
 * is a file in tests/data/<provider>/, read by one loop per kind, so a new case is a new file.
 *   <name>.request.json   {"adapter"?, "ctx": {stream, api_base, api_key, drop_params, embed},
 *                          "request": {OpenAI request}, "expect": {"url", "headers": [..],
 *                          "body": {..}} or "error": {"status", "param"?, "contains"?}}
 *   <name>.response.json  {"adapter"?, "embed"?: true, "response": {provider JSON},
 *                          "expect": {OpenAI JSON}} or "error": {...}
 *   <name>.stream.<ext>   the raw provider stream, with <name>.chunks.json: the OpenAI chunks it
 *                         gives ({"chunks": [..], "end": 0 or -1}); fed whole, byte by byte,
 *                         and cut at every offset, each must give the same chunks.
 * Ids and times differ per run: "id" / "created" of completions and chunks become "<id>" / 0,
 * minted tool-call ids "call_<24>" become "<call>". */
#ifndef SLUICE_TESTS_PROV_GOLDEN_H
#define SLUICE_TESTS_PROV_GOLDEN_H

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/adapter.h"

static char *golden_read(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc(len > 0 ? (size_t)len + 1 : 1);
    if (p && len > 0 && fread(p, 1, (size_t)len, f) != (size_t)len) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) {
        p[len > 0 ? len : 0] = '\0';
        *n = len > 0 ? (size_t)len : 0;
    }
    return p;
}

static cJSON *golden_json(const char *path)
{
    size_t n;
    char *text = golden_read(path, &n);
    cr_assert_not_null(text, "cannot read %s", path);
    cJSON *j = cJSON_ParseWithLength(text, n);
    free(text);
    cr_assert_not_null(j, "%s is not JSON", path);
    return j;
}

static bool golden_is_minted_call_id(const char *s)
{
    if (strncmp(s, "call_", 5) != 0 || strlen(s) != 29)
        return false;
    for (const char *p = s + 5; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            return false;
    return true;
}

/* Replaces run-dependent values (see the top of the file). */
static void golden_normalize(cJSON *j, bool top)
{
    if (!j)
        return;
    if (cJSON_IsObject(j) && top) {
        cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
        if (cJSON_IsString(id) && strncmp(id->valuestring, "chatcmpl-", 9) == 0)
            cJSON_ReplaceItemInObjectCaseSensitive(j, "id", cJSON_CreateString("<id>"));
        if (cJSON_GetObjectItemCaseSensitive(j, "created"))
            cJSON_ReplaceItemInObjectCaseSensitive(j, "created", cJSON_CreateNumber(0));
    }
    for (cJSON *c = j->child; c; c = c->next) {
        if (c->string && strcmp(c->string, "id") == 0 && cJSON_IsString(c) &&
            golden_is_minted_call_id(c->valuestring))
            cJSON_SetValuestring(c, "<call>");
        golden_normalize(c, false);
    }
}

/* Fails with both texts when a and b differ (object member order ignored). */
static void golden_expect_same(const char *name, const cJSON *expect, const cJSON *got)
{
    if (cJSON_Compare(expect, got, true))
        return;
    char *e = cJSON_PrintUnformatted(expect), *g = cJSON_PrintUnformatted(got);
    cr_expect_fail("%s:\n expected %s\n      got %s", name, e ? e : "?", g ? g : "?");
    free(e);
    free(g);
}

typedef struct {
    const prov_adapter_t *adapter;
    const char *provider; /* prov_find name for ctx->prov */
    const char *dir;      /* tests/data/<provider> */
    const char *stream_ext;
} golden_suite_t;

static arena_t golden_arena;

static const prov_adapter_t *golden_adapter(const golden_suite_t *gs, const cJSON *doc)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, "adapter");
    if (!cJSON_IsString(a))
        return gs->adapter;
    const prov_adapter_t *ad = prov_adapter_find(str_cstr(a->valuestring));
    cr_assert_not_null(ad, "no adapter %s", a->valuestring);
    return ad;
}

static prov_ctx_t golden_ctx(const golden_suite_t *gs, const cJSON *ctxj, const char *model)
{
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(ctxj, "stream");
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(ctxj, "api_base");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(ctxj, "api_key");
    const cJSON *drop = cJSON_GetObjectItemCaseSensitive(ctxj, "drop_params");
    const cJSON *mj = cJSON_GetObjectItemCaseSensitive(ctxj, "model");
    const char *m = cJSON_IsString(mj) ? mj->valuestring : model;
    return (prov_ctx_t){
        .dep = NULL,
        .prov = prov_find(str_cstr(gs->provider)),
        .model = str_cstr(arena_strndup(&golden_arena, m, strlen(m))),
        .api_base = cJSON_IsString(base)
                        ? arena_strndup(&golden_arena, base->valuestring, strlen(base->valuestring))
                        : NULL,
        .api_key = cJSON_IsString(key)
                       ? arena_strndup(&golden_arena, key->valuestring, strlen(key->valuestring))
                       : NULL,
        .stream = cJSON_IsTrue(stream),
        .drop_params = cJSON_IsTrue(drop),
        .arena = &golden_arena,
    };
}

static void golden_expect_error(const char *name, const cJSON *want, const prov_error_t *err)
{
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(want, "status");
    const cJSON *param = cJSON_GetObjectItemCaseSensitive(want, "param");
    const cJSON *contains = cJSON_GetObjectItemCaseSensitive(want, "contains");
    if (cJSON_IsNumber(status))
        cr_expect_eq(err->status, status->valueint, "%s: status %d", name, err->status);
    if (cJSON_IsString(param))
        cr_expect(err->param && strcmp(err->param, param->valuestring) == 0,
                  "%s: param %s, expected %s", name, err->param ? err->param : "(null)",
                  param->valuestring);
    if (cJSON_IsString(contains))
        cr_expect(strstr(err->message, contains->valuestring) != NULL,
                  "%s: message '%s' lacks '%s'", name, err->message, contains->valuestring);
}

static int golden_request_case(const golden_suite_t *gs, const char *path, const char *name)
{
    cJSON *doc = golden_json(path);
    const prov_adapter_t *ad = golden_adapter(gs, doc);
    const cJSON *ctxj = cJSON_GetObjectItemCaseSensitive(doc, "ctx");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(doc, "request");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(req, "model");
    prov_ctx_t ctx = golden_ctx(gs, ctxj, cJSON_IsString(model) ? model->valuestring : "m");
    bool embed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ctxj, "embed"));
    prov_http_t out = {0};
    prov_error_t err = {0};
    char *before = cJSON_PrintUnformatted(req);
    int rc =
        embed ? ad->embed_request(&ctx, req, &out, &err) : ad->chat_request(&ctx, req, &out, &err);
    char *after = cJSON_PrintUnformatted(req);
    cr_expect_str_eq(after, before, "%s: the request was modified", name);
    free(before);
    free(after);
    const cJSON *want_err = cJSON_GetObjectItemCaseSensitive(doc, "error");
    if (want_err) {
        cr_expect_eq(rc, -1, "%s: expected an error", name);
        golden_expect_error(name, want_err, &err);
    } else {
        cr_expect_eq(rc, 0, "%s: failed: %d %s", name, err.status, err.message);
        const cJSON *expect = cJSON_GetObjectItemCaseSensitive(doc, "expect");
        const cJSON *url = cJSON_GetObjectItemCaseSensitive(expect, "url");
        if (rc == 0 && cJSON_IsString(url))
            cr_expect_str_eq(out.url, url->valuestring, "%s: url", name);
        const cJSON *headers = cJSON_GetObjectItemCaseSensitive(expect, "headers");
        for (const cJSON *h = headers ? headers->child : NULL; h && rc == 0; h = h->next) {
            bool found = false;
            for (const char **l = out.headers; l && *l && !found; l++)
                found = strcmp(*l, h->valuestring) == 0;
            cr_expect(found, "%s: header '%s' missing", name, h->valuestring);
        }
        const cJSON *body = cJSON_GetObjectItemCaseSensitive(expect, "body");
        if (rc == 0 && body) {
            cJSON *got = cJSON_ParseWithLength(out.body.p ? out.body.p : "", out.body.n);
            cr_expect_not_null(got, "%s: body is not JSON", name);
            golden_expect_same(name, body, got);
            cJSON_Delete(got);
        }
    }
    buf_free(&out.body);
    cJSON_Delete(doc);
    arena_reset(&golden_arena);
    return 1;
}

static int golden_response_case(const golden_suite_t *gs, const char *path, const char *name)
{
    cJSON *doc = golden_json(path);
    const prov_adapter_t *ad = golden_adapter(gs, doc);
    const cJSON *ctxj = cJSON_GetObjectItemCaseSensitive(doc, "ctx");
    prov_ctx_t ctx = golden_ctx(gs, ctxj, "test-model");
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(doc, "response");
    char *raw = NULL;
    const cJSON *raw_text = cJSON_GetObjectItemCaseSensitive(doc, "raw");
    if (cJSON_IsString(raw_text))
        raw = strdup(raw_text->valuestring);
    else
        raw = cJSON_PrintUnformatted(resp);
    bool embed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "embed"));
    buf_t out = {0};
    prov_error_t err = {0};
    int rc = embed ? ad->embed_response(&ctx, str_cstr(raw), &out, &err)
                   : ad->chat_response(&ctx, str_cstr(raw), &out, &err);
    const cJSON *want_err = cJSON_GetObjectItemCaseSensitive(doc, "error");
    if (want_err) {
        cr_expect_eq(rc, -1, "%s: expected an error", name);
        golden_expect_error(name, want_err, &err);
    } else {
        cr_expect_eq(rc, 0, "%s: failed: %s", name, err.message);
        cJSON *got = cJSON_ParseWithLength(out.p ? out.p : "", out.n);
        cr_expect_not_null(got, "%s: output is not JSON: %.*s", name, (int)out.n, out.p);
        golden_normalize(got, true);
        golden_expect_same(name, cJSON_GetObjectItemCaseSensitive(doc, "expect"), got);
        cJSON_Delete(got);
    }
    free(raw);
    buf_free(&out);
    cJSON_Delete(doc);
    arena_reset(&golden_arena);
    return 1;
}

/* Chunks of one run, normalized, plus checks that id/created/model stay the same. */
typedef struct {
    cJSON *chunks;
    char id[64];
    double created;
    bool bad_shape;
} golden_run_t;

static int golden_collect(void *arg, str_t chunk)
{
    golden_run_t *r = arg;
    cJSON *j = cJSON_ParseWithLength(chunk.p, chunk.n);
    if (!cJSON_IsObject(j)) {
        r->bad_shape = true;
        cJSON_Delete(j);
        return 0;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    const cJSON *created = cJSON_GetObjectItemCaseSensitive(j, "created");
    const cJSON *object = cJSON_GetObjectItemCaseSensitive(j, "object");
    if (!cJSON_IsString(id) || !cJSON_IsNumber(created) || !cJSON_IsString(object) ||
        strcmp(object->valuestring, "chat.completion.chunk") != 0)
        r->bad_shape = true;
    else if (!r->id[0]) {
        snprintf(r->id, sizeof r->id, "%s", id->valuestring);
        r->created = created->valuedouble;
    } else if (strcmp(r->id, id->valuestring) != 0 || r->created != created->valuedouble) {
        r->bad_shape = true; /* every chunk of a stream shares id and created */
    }
    golden_normalize(j, true);
    cJSON_AddItemToArray(r->chunks, j);
    return 0;
}

/* Feeds `p` cut at the offsets in cuts[0..ncuts) (ascending) to a new stream; returns the
 * printed chunk list followed by the feed/end result. */
static char *golden_stream_run(const prov_adapter_t *ad, const prov_ctx_t *ctx, const char *p,
                               size_t n, const size_t *cuts, size_t ncuts, int *end_rc)
{
    golden_run_t r = {.chunks = cJSON_CreateArray()};
    prov_stream_t *s = ad->stream_new(ctx);
    cr_assert_not_null(s);
    int rc = 0;
    size_t at = 0;
    for (size_t i = 0; i <= ncuts && rc == 0; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        rc = ad->stream_feed(s, p + at, to - at, golden_collect, &r);
        at = to;
    }
    if (rc == 0)
        rc = ad->stream_end(s, golden_collect, &r);
    ad->stream_free(s);
    *end_rc = rc;
    cr_expect(!r.bad_shape, "a chunk is not a chat.completion.chunk sharing id and created");
    char *text = cJSON_PrintUnformatted(r.chunks);
    cJSON_Delete(r.chunks);
    return text;
}

static int golden_stream_case(const golden_suite_t *gs, const char *path, const char *name)
{
    size_t n;
    char *raw = golden_read(path, &n);
    cr_assert_not_null(raw, "cannot read %s", path);
    char chunks_path[512];
    snprintf(chunks_path, sizeof chunks_path, "%s/%.*s.chunks.json", gs->dir,
             (int)(strstr(name, ".stream.") - name), name);
    cJSON *doc = golden_json(chunks_path);
    const prov_adapter_t *ad = golden_adapter(gs, doc);
    prov_ctx_t ctx = golden_ctx(gs, cJSON_GetObjectItemCaseSensitive(doc, "ctx"), "test-model");
    const cJSON *end = cJSON_GetObjectItemCaseSensitive(doc, "end");
    int want_rc = cJSON_IsNumber(end) ? end->valueint : 0;

    int rc;
    char *whole = golden_stream_run(ad, &ctx, raw, n, NULL, 0, &rc);
    cJSON *got = cJSON_Parse(whole);
    golden_expect_same(name, cJSON_GetObjectItemCaseSensitive(doc, "chunks"), got);
    cr_expect_eq(rc, want_rc, "%s: result %d, expected %d", name, rc, want_rc);
    cJSON_Delete(got);

    /* byte by byte */
    size_t *each = malloc((n + 1) * sizeof *each);
    for (size_t i = 0; i < n; i++)
        each[i] = i + 1;
    int rc2;
    char *bytes = golden_stream_run(ad, &ctx, raw, n, each, n ? n - 1 : 0, &rc2);
    cr_expect_str_eq(bytes, whole, "%s: byte-by-byte feed differs", name);
    cr_expect_eq(rc2, rc, "%s: byte-by-byte result differs", name);
    free(bytes);
    free(each);
    /* one cut at every offset */
    for (size_t k = 0; k <= n; k++) {
        int rc3;
        char *cut = golden_stream_run(ad, &ctx, raw, n, &k, 1, &rc3);
        if (strcmp(cut, whole) != 0 || rc3 != rc)
            cr_expect_fail("%s: cut at %zu differs", name, k);
        free(cut);
    }
    free(whole);
    free(raw);
    cJSON_Delete(doc);
    arena_reset(&golden_arena);
    return 1;
}

static bool golden_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Runs every case of one kind ("request", "response", "stream") in the suite's directory;
 * returns how many ran. */
static int golden_run_dir(const golden_suite_t *gs, const char *kind)
{
    DIR *d = opendir(gs->dir);
    cr_assert_not_null(d, "cannot open %s", gs->dir);
    struct dirent *e;
    int count = 0;
    char suffix[64];
    while ((e = readdir(d))) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", gs->dir, e->d_name);
        if (strcmp(kind, "stream") == 0) {
            snprintf(suffix, sizeof suffix, ".stream.%s", gs->stream_ext);
            if (golden_ends_with(e->d_name, suffix))
                count += golden_stream_case(gs, path, e->d_name);
        } else {
            snprintf(suffix, sizeof suffix, ".%s.json", kind);
            if (!golden_ends_with(e->d_name, suffix))
                continue;
            count += strcmp(kind, "request") == 0 ? golden_request_case(gs, path, e->d_name)
                                                  : golden_response_case(gs, path, e->d_name);
        }
    }
    closedir(d);
    arena_thread_cleanup();
    return count;
}

#endif
