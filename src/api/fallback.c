/* SPDX-License-Identifier: MIT
 * Fallbacks: when a model group has spent its retries, the call moves to the next group of
 * LiteLLM's lists (context_window_fallbacks, content_policy_fallbacks, the request's
 * "fallbacks", fallbacks, default_fallbacks), at most max_fallbacks times, and only to groups
 * the caller's key may use. The proxies own the call; this file only chooses the group. */
#include <string.h>

#include "api/api.h"
#include "core/buf.h"
#include "core/jscan.h"
#include "core/log.h"

enum { KIND_NONE, KIND_CONTEXT, KIND_POLICY, KIND_GENERIC };

static int names_from_json(http_req_t *req, api_fallback_t *f, const cJSON *list)
{
    if (!cJSON_IsArray(list))
        return -1;
    int n = cJSON_GetArraySize(list);
    str_t *names = arena_alloc(&req->arena, (size_t)(n + 1) * sizeof *names);
    if (!names)
        return -1;
    size_t k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        const cJSON *m = cJSON_IsObject(it) ? cJSON_GetObjectItemCaseSensitive(it, "model") : it;
        if (!cJSON_IsString(m))
            return -1;
        names[k++] = arena_str_copy(&req->arena, str_cstr(m->valuestring));
    }
    f->request = names;
    f->num_request = k;
    return 0;
}

int api_fallback_take_json(http_req_t *req, api_fallback_t *f, cJSON *body)
{
    cJSON *list = cJSON_DetachItemFromObjectCaseSensitive(body, "fallbacks");
    if (!list)
        return 0;
    int rc = names_from_json(req, f, list);
    cJSON_Delete(list);
    return rc;
}

typedef struct {
    str_t member; /* from the key's opening quote to the end of the value */
    str_t value;
} found_t;

static int find_fallbacks(void *arg, const jscan_member_t *m)
{
    found_t *fd = arg;
    if (jscan_key_eq(m->key, STR_LIT("fallbacks"))) {
        fd->member = str_make(m->key.p - 1, (size_t)(m->value.p + m->value.n - (m->key.p - 1)));
        fd->value = m->value;
    }
    return 0;
}

int api_fallback_take(http_req_t *req, api_fallback_t *f, str_t *model_raw)
{
    found_t fd = {0};
    size_t err_off;
    if (jscan_object(req->body.p, req->body.n, find_fallbacks, &fd, &err_off) != 0 || !fd.member.p)
        return 0;
    cJSON *list = cJSON_ParseWithLength(fd.value.p, fd.value.n);
    int rc = names_from_json(req, f, list);
    cJSON_Delete(list);
    if (rc != 0)
        return -1;
    /* the member (and one comma next to it) leaves the body: LiteLLM's own parameter */
    return api_body_remove_member(req, fd.member, model_raw);
}

static bool contains_nocase(str_t hay, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= hay.n; i++)
        if (strncasecmp(hay.p + i, needle, n) == 0)
            return true;
    return false;
}

/* LiteLLM's exception mapping, by the provider's words. */
static int error_kind(int result, int status, str_t body)
{
    if (result == UP_OK && status >= 400 && status < 500) {
        if (contains_nocase(body, "context_length_exceeded") ||
            contains_nocase(body, "context length") || contains_nocase(body, "context window") ||
            contains_nocase(body, "maximum length") || contains_nocase(body, "maximum context") ||
            contains_nocase(body, "too many tokens"))
            return KIND_CONTEXT;
        if (contains_nocase(body, "content_policy") || contains_nocase(body, "content policy") ||
            contains_nocase(body, "content filter") || contains_nocase(body, "content_filter"))
            return KIND_POLICY;
    }
    return KIND_GENERIC;
}

int api_error_class(int result, int status, str_t body)
{
    if (result == UP_ERR_TIMEOUT)
        return CFG_ERR_TIMEOUT;
    if (result != UP_OK || status == 403 || status == 409 || status == 422)
        return -1;
    if (error_kind(result, status, body) == KIND_POLICY)
        return CFG_ERR_CONTENT_POLICY;
    return (int)route_error_class(status);
}

static const cfg_fallback_t *find_entry(const cfg_fallback_t *list, size_t n, const char *group)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].group, group) == 0)
            return &list[i];
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].group, "*") == 0)
            return &list[i];
    return NULL;
}

/* The name at index i of the list being walked, or NULL past its end. */
static const char *nth(http_req_t *req, const api_fallback_t *f, const cfg_t *cfg, size_t i)
{
    if (f->request)
        return i < f->num_request ? arena_strndup(&req->arena, f->request[i].p, f->request[i].n)
                                  : NULL;
    if (f->list)
        return i < f->list->num_to ? f->list->to[i] : NULL;
    if (f->kind == KIND_GENERIC)
        return i < cfg->num_default_fallbacks ? cfg->default_fallbacks[i] : NULL;
    return NULL;
}

const route_group_t *api_fallback_next(http_req_t *req, api_fallback_t *f,
                                       const route_group_t *failed, int result, int status,
                                       str_t error_body, bool (*usable)(const route_group_t *g),
                                       const char **name_out)
{
    const api_gen_t *gen = api_req_gen(req);
    const cfg_t *cfg = gen->cfg;
    int max = cfg->max_fallbacks >= 0 ? cfg->max_fallbacks : 5;
    if (f->used >= max)
        return NULL;
    if (!f->origin) {
        /* the first fallback chooses the list, as LiteLLM does for the client's group */
        f->origin = failed->name;
        int kind = error_kind(result, status, error_body);
        const cfg_fallback_t *e = NULL;
        if (kind == KIND_CONTEXT)
            e = find_entry(cfg->context_window_fallbacks, cfg->num_context_window_fallbacks,
                           f->origin);
        else if (kind == KIND_POLICY)
            e = find_entry(cfg->content_policy_fallbacks, cfg->num_content_policy_fallbacks,
                           f->origin);
        if (e) {
            f->list = e;
            f->request = NULL; /* the specific list wins over the request's */
        } else {
            bool callers_fault = result == UP_OK && status >= 400 && status < 500 &&
                                 status != 401 && status != 403 && status != 404 && status != 408 &&
                                 status != 429;
            if (callers_fault && kind == KIND_GENERIC)
                return NULL; /* the same request fails the same way elsewhere */
            if (!f->request)
                f->list = find_entry(cfg->fallbacks, cfg->num_fallbacks, f->origin);
        }
        f->kind = e ? kind : KIND_GENERIC;
        f->next = 0;
    }
    for (const char *name; (name = nth(req, f, cfg, f->next)) != NULL;) {
        f->next++;
        const route_group_t *g = route_find_group(gen->routes, str_cstr(name));
        if (!g || g == failed || strcmp(name, f->origin) == 0) {
            if (!g)
                log_info("fallback '%s' of '%s': no such model group; skipped", name, f->origin);
            continue;
        }
        if (!api_caller_may_use(req, g->name)) {
            log_info("fallback '%s' of '%s': the key may not use it; skipped", name, f->origin);
            continue;
        }
        if (usable && !usable(g))
            continue;
        f->used++;
        *name_out = name;
        return g;
    }
    return NULL;
}

void api_fallback_header(http_req_t *req, const api_fallback_t *f)
{
    char num[16];
    snprintf(num, sizeof num, "%d", f->used);
    http_resp_header_cstr(req, "x-litellm-attempted-fallbacks", num);
}
