/* SPDX-License-Identifier: MIT
 * What every native provider adapter shares: header lists, errors, finish reasons, chunk
 * building, usage objects and the drop_params check. Kept here once so adapters stay alike. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "providers/adapter.h"

const char **prov_headers(arena_t *a, const char *const *lines, size_t n)
{
    const char **out = arena_alloc(a, (n + 1) * sizeof *out);
    if (!out)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (lines[i])
            out[k++] = lines[i];
    out[k] = NULL;
    return out;
}

const char *prov_header_line(arena_t *a, const char *name, const char *value)
{
    return arena_printf(a, "%s: %s", name, value ? value : "");
}

size_t prov_extra_headers(const prov_ctx_t *ctx, const char **lines, size_t max)
{
    size_t n = 0;
    const cfg_deployment_t *d = ctx->dep;
    for (size_t i = 0; d && i < d->num_extra_headers && n < max; i++)
        lines[n++] =
            prov_header_line(ctx->arena, d->extra_headers[i].name, d->extra_headers[i].value);
    return n;
}

int prov_fail(prov_error_t *err, int status, const char *param, const char *fmt, ...)
{
    err->status = status;
    err->param = param;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

const char *prov_finish_reason(const char *r)
{
    if (!r)
        return NULL;
    static const struct {
        const char *from, *to;
    } map[] = {
        {"end_turn", "stop"},
        {"stop_sequence", "stop"},
        {"stop", "stop"},
        {"STOP", "stop"},
        {"COMPLETE", "stop"},
        {"STOP_SEQUENCE", "stop"},
        {"max_tokens", "length"},
        {"MAX_TOKENS", "length"},
        {"length", "length"},
        {"tool_use", "tool_calls"},
        {"TOOL_CALL", "tool_calls"},
        {"tool_calls", "tool_calls"},
        {"SAFETY", "content_filter"},
        {"RECITATION", "content_filter"},
        {"content_filtered", "content_filter"},
        {"guardrail_intervened", "content_filter"},
        {"refusal", "content_filter"},
        {"content_filter", "content_filter"},
        {"BLOCKLIST", "content_filter"},
        {"PROHIBITED_CONTENT", "content_filter"},
        {"SPII", "content_filter"},
        {"IMAGE_SAFETY", "content_filter"},
        {"IMAGE_PROHIBITED_CONTENT", "content_filter"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(r, map[i].from) == 0)
            return map[i].to;
    return "stop";
}

void prov_new_id(char out[40])
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[24];
    if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
        for (size_t i = 0; i < sizeof rnd; i++)
            rnd[i] = (unsigned char)rand();
    memcpy(out, "chatcmpl-", 9);
    for (size_t i = 0; i < sizeof rnd; i++)
        out[9 + i] = alnum[rnd[i] % (sizeof alnum - 1)];
    out[9 + sizeof rnd] = 0;
}

/* Appends a cJSON value as text without a malloc per call when it fits the scratch space. */
static int append_json(buf_t *out, const cJSON *v)
{
    char small[512];
    if (cJSON_PrintPreallocated((cJSON *)v, small, sizeof small, 0))
        return buf_append_cstr(out, small);
    char *text = cJSON_PrintUnformatted(v);
    if (!text)
        return -1;
    int r = buf_append_cstr(out, text);
    free(text);
    return r;
}

/* prov_emit_chunk's scratch space, one per thread (freed by prov_thread_cleanup). */
static _Thread_local buf_t chunk_buf;

int prov_emit_chunk(prov_emit_fn emit, void *arg, const char *id, long long created, str_t model,
                    cJSON *delta, const char *finish_reason, cJSON *usage)
{
    /* The envelope is written by hand: it runs once per stream event, and cJSON would allocate a
     * node per field and print `created` and `index` through sprintf and sscanf. */
    buf_t b = chunk_buf;
    b.n = 0;
    buf_append_cstr(&b, "{\"id\":");
    buf_append_json_string(&b, str_cstr(id));
    buf_append_cstr(&b, ",\"object\":\"chat.completion.chunk\",\"created\":");
    buf_append_u64(&b, created > 0 ? (unsigned long long)created : 0);
    buf_append_cstr(&b, ",\"model\":");
    buf_append_json_string(&b, model.p ? model : STR_LIT(""));
    buf_append_cstr(&b, ",\"choices\":[");
    int rc = 0;
    if (delta || finish_reason) {
        buf_append_cstr(&b, "{\"index\":0,\"delta\":");
        if (delta)
            rc |= append_json(&b, delta);
        else
            buf_append_cstr(&b, "{}");
        buf_append_cstr(&b, ",\"finish_reason\":");
        if (finish_reason)
            buf_append_json_string(&b, str_cstr(finish_reason));
        else
            buf_append_cstr(&b, "null");
        buf_append_cstr(&b, "}");
    }
    buf_append_cstr(&b, "]");
    if (usage) {
        buf_append_cstr(&b, ",\"usage\":");
        rc |= append_json(&b, usage);
    }
    rc |= buf_append_cstr(&b, "}");
    cJSON_Delete(delta);
    cJSON_Delete(usage);
    chunk_buf = b; /* keep the grown buffer; emit may call back in here (it does not today) */
    if (rc != 0 || !b.p)
        return -1;
    return emit(arg, str_make(b.p, b.n));
}

void prov_thread_cleanup(void)
{
    buf_free(&chunk_buf);
}

cJSON *prov_usage(long long prompt, long long completion, long long cached)
{
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "prompt_tokens", (double)prompt);
    cJSON_AddNumberToObject(u, "completion_tokens", (double)completion);
    cJSON_AddNumberToObject(u, "total_tokens", (double)(prompt + completion));
    if (cached > 0) {
        cJSON *d = cJSON_AddObjectToObject(u, "prompt_tokens_details");
        cJSON_AddNumberToObject(d, "cached_tokens", (double)cached);
    }
    return u;
}

int prov_check_params(const prov_ctx_t *ctx, const cJSON *req, const char *const *supported,
                      prov_error_t *err)
{
    /* keys of the OpenAI request that are sluice's or LiteLLM's own, never sent upstream */
    static const char *const ours[] = {"model",
                                       "messages",
                                       "stream",
                                       "stream_options",
                                       "metadata",
                                       "mock",
                                       "fallbacks",
                                       "num_retries",
                                       "caching",
                                       "cache",
                                       "context_window_fallback_dict",
                                       "mock_response",
                                       "litellm_request_debug",
                                       NULL};
    if (ctx->drop_params)
        return 0;
    for (const cJSON *it = req ? req->child : NULL; it; it = it->next) {
        if (!it->string || cJSON_IsNull(it))
            continue;
        bool ok = false;
        for (const char *const *s = ours; *s && !ok; s++)
            ok = strcmp(*s, it->string) == 0;
        for (const char *const *s = supported; s && *s && !ok; s++)
            ok = strcmp(*s, it->string) == 0;
        if (!ok)
            return prov_fail(
                err, 400, it->string,
                "litellm.UnsupportedParamsError: %s does not support parameters: "
                "['%s'], for model=%.*s. To drop these, set `litellm.drop_params=True` "
                "or for proxy: `litellm_settings: drop_params: true`",
                ctx->prov ? ctx->prov->name : "the provider", it->string, STR_FMT(ctx->model));
    }
    return 0;
}

void prov_error_field(str_t body, const char *field, buf_t *out)
{
    cJSON *in = cJSON_ParseWithLength(body.p ? body.p : "", body.n);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(in, field);
    if (cJSON_IsString(m))
        buf_append_cstr(out, m->valuestring);
    else
        buf_append_str(out, body);
    cJSON_Delete(in);
}

const cJSON *prov_json_get(const cJSON *obj, const char *name)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
}

const char *prov_json_string(const cJSON *obj, const char *name)
{
    const cJSON *v = prov_json_get(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *prov_json_param(const cJSON *obj, const char *name)
{
    const cJSON *v = prov_json_get(obj, name);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

void prov_carry_mock(const cJSON *req, cJSON *body)
{
    const cJSON *mock = prov_json_param(req, "mock");
    if (cJSON_IsObject(mock))
        cJSON_AddItemToObject(body, "mock", cJSON_Duplicate(mock, 1));
}
