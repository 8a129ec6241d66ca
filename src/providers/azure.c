/* SPDX-License-Identifier: MIT
 * Azure OpenAI and Azure AI: OpenAI's wire format behind Azure's URLs and auth headers. Bodies
 * are spliced by the pass-through path; this file only says where a request goes and how it
 * authenticates, as LiteLLM does (azure: deployment URL + api-version, `api-key` or an Entra
 * token; azure_ai: the base plus the OpenAI path, `api-key` on Azure hosts, Bearer elsewhere).
 * It does not fetch Entra tokens (azure_ad_token must be a token, not "oidc/..."). */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "providers/providers.h"

/* litellm.AZURE_DEFAULT_API_VERSION, used when neither api_version nor AZURE_API_VERSION is set */
#define AZURE_DEFAULT_API_VERSION "2025-02-01-preview"

/* An api_base cut into "scheme://host", path (no trailing '/') and query (without '?'). */
typedef struct {
    str_t origin;
    str_t path;
    str_t query;
} azure_base_t;

static azure_base_t azure_base_split(const char *base)
{
    azure_base_t b = {STR_NULL, STR_NULL, STR_NULL};
    str_t s = str_cstr(base ? base : "");
    const char *q = memchr(s.p ? s.p : "", '?', s.n);
    if (q) {
        b.query = str_make(q + 1, s.n - (size_t)(q + 1 - s.p));
        s.n = (size_t)(q - s.p);
    }
    size_t start = 0;
    const char *scheme = s.n ? strstr(s.p, "://") : NULL;
    if (scheme && (size_t)(scheme - s.p) < s.n)
        start = (size_t)(scheme - s.p) + 3;
    const char *slash = s.n > start ? memchr(s.p + start, '/', s.n - start) : NULL;
    size_t host_end = slash ? (size_t)(slash - s.p) : s.n;
    b.origin = str_make(s.p, host_end);
    b.path = str_make(s.p + host_end, s.n - host_end);
    while (b.path.n && b.path.p[b.path.n - 1] == '/')
        b.path.n--;
    return b;
}

/* The host of an origin, without port. */
static str_t azure_host(str_t origin)
{
    const char *scheme = origin.n ? memmem(origin.p, origin.n, "://", 3) : NULL;
    str_t h = scheme ? str_make(scheme + 3, origin.n - (size_t)(scheme + 3 - origin.p)) : origin;
    const char *at = memchr(h.p ? h.p : "", '@', h.n);
    if (at)
        h = str_make(at + 1, h.n - (size_t)(at + 1 - h.p));
    const char *colon = memchr(h.p ? h.p : "", ':', h.n);
    if (colon)
        h.n = (size_t)(colon - h.p);
    return h;
}

static bool azure_has_suffix(str_t s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.n >= n && strncasecmp(s.p + s.n - n, suffix, n) == 0;
}

static bool azure_contains(str_t s, const char *needle)
{
    return s.n && memmem(s.p, s.n, needle, strlen(needle)) != NULL;
}

/* True when the query (without '?') already names api-version. */
static bool azure_query_has_version(str_t query)
{
    for (size_t i = 0; i + 12 <= query.n; i++)
        if ((i == 0 || query.p[i - 1] == '&') && memcmp(query.p + i, "api-version=", 12) == 0)
            return true;
    return false;
}

/* Appends `ending` ("/models/chat/completions") to `path` without repeating segments the path
 * already ends with (LiteLLM's _add_path_to_api_base): ".../models" + "/models/x" = ".../models/x",
 * ".../chat/completions" + "/chat/completions" stays. Result in the arena. */
static const char *azure_join_path(arena_t *a, str_t path, const char *ending)
{
    /* segments of both as slices */
    enum { MAX_SEG = 64 };
    str_t bs[MAX_SEG], es[MAX_SEG];
    size_t nb = 0, ne = 0;
    for (size_t i = 0; i < path.n && nb < MAX_SEG;) {
        while (i < path.n && path.p[i] == '/')
            i++;
        size_t j = i;
        while (j < path.n && path.p[j] != '/')
            j++;
        if (j > i)
            bs[nb++] = str_make(path.p + i, j - i);
        i = j;
    }
    str_t e = str_cstr(ending);
    for (size_t i = 0; i < e.n && ne < MAX_SEG;) {
        while (i < e.n && e.p[i] == '/')
            i++;
        size_t j = i;
        while (j < e.n && e.p[j] != '/')
            j++;
        if (j > i)
            es[ne++] = str_make(e.p + i, j - i);
        i = j;
    }
    size_t keep = nb; /* base segments kept before the ending */
    for (size_t i = 0; i < nb; i++) {
        size_t tail = nb - i;
        if (tail > ne)
            continue;
        bool same = true;
        for (size_t k = 0; k < tail && same; k++)
            same = str_eq(bs[i + k], es[k]);
        if (same) {
            keep = i;
            break;
        }
    }
    size_t len = 1;
    for (size_t i = 0; i < keep; i++)
        len += bs[i].n + 1;
    for (size_t i = 0; i < ne; i++)
        len += es[i].n + 1;
    char *out = arena_alloc(a, len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < keep; i++) {
        out[o++] = '/';
        memcpy(out + o, bs[i].p, bs[i].n);
        o += bs[i].n;
    }
    for (size_t i = 0; i < ne; i++) {
        out[o++] = '/';
        memcpy(out + o, es[i].p, es[i].n);
        o += es[i].n;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return out;
}

/* "<origin><path>[?query[&]api-version=V]"; version NULL: no api-version added. */
static const char *azure_finish(arena_t *a, str_t origin, const char *path, str_t query,
                                const char *version)
{
    bool add = version && *version && !azure_query_has_version(query);
    const char *sep = query.n ? "?" : add ? "?" : "";
    const char *amp = query.n && add ? "&" : "";
    return arena_printf(a, "%.*s%s%s%.*s%s%s%s", STR_FMT(origin), path ? path : "", sep,
                        STR_FMT(query), amp, add ? "api-version=" : "", add ? version : "");
}

/* api_version, else $AZURE_API_VERSION, else LiteLLM's default. */
const char *prov_azure_api_version(const char *api_version)
{
    if (api_version && *api_version)
        return api_version;
    const char *env = getenv("AZURE_API_VERSION");
    return env && *env ? env : AZURE_DEFAULT_API_VERSION;
}

/* Azure OpenAI. Classic: {base}/openai/deployments/{model}{suffix}?api-version=V. A base that
 * already holds "/openai/deployments/..." is the SDK's base_url: {base}{suffix}. The v1 API
 * (api_version "v1", "latest" or "preview", or a base ending in /openai/v1):
 * {base}/openai/v1{suffix}, with ?api-version=preview only for "preview". /responses has no
 * deployment segment: {base}/openai/responses?api-version=V. */
static const char *azure_url(arena_t *a, const char *api_base, str_t model, const char *api_version,
                             const char *suffix)
{
    azure_base_t b = azure_base_split(api_base);
    const char *version = prov_azure_api_version(api_version);
    suffix = suffix ? suffix : "";
    bool v1 = strcmp(version, "v1") == 0 || strcmp(version, "latest") == 0 ||
              strcmp(version, "preview") == 0;
    if (azure_contains(b.path, "/openai/deployments/"))
        return azure_finish(a, b.origin, azure_join_path(a, b.path, suffix), b.query, version);
    if (v1 || azure_has_suffix(b.path, "/openai/v1")) {
        const char *root = azure_has_suffix(b.path, "/openai/v1")
                               ? arena_printf(a, "%.*s", STR_FMT(b.path))
                               : arena_printf(a, "%.*s/openai/v1", STR_FMT(b.path));
        bool preview = strcmp(version, "preview") == 0;
        return azure_finish(a, b.origin, arena_printf(a, "%s%s", root, suffix), b.query,
                            preview ? "preview" : NULL);
    }
    if (strcmp(suffix, "/responses") == 0)
        return azure_finish(a, b.origin, arena_printf(a, "%.*s/openai/responses", STR_FMT(b.path)),
                            b.query, version);
    return azure_finish(
        a, b.origin,
        arena_printf(a, "%.*s/openai/deployments/%.*s%s", STR_FMT(b.path), STR_FMT(model), suffix),
        b.query, version);
}

/* Azure AI model inference: {base}{suffix} with segments the base already ends with not
 * repeated, "/models" first on *.services.ai.azure.com hosts; ?api-version only when the
 * deployment sets api_version (LiteLLM adds no default for azure_ai). */
static const char *azure_ai_url(arena_t *a, const char *api_base, str_t model,
                                const char *api_version, const char *suffix)
{
    (void)model;
    azure_base_t b = azure_base_split(api_base);
    suffix = suffix ? suffix : "";
    const char *ending = azure_contains(b.origin, "services.ai.azure.com")
                             ? arena_printf(a, "/models%s", suffix)
                             : suffix;
    return azure_finish(a, b.origin, azure_join_path(a, b.path, ending), b.query,
                        api_version && *api_version ? api_version : NULL);
}

/* The Azure OpenAI auth header: the deployment's azure_ad_token as "Authorization: Bearer"
 * (the openai SDK prefers the token when both are given), else "api-key: <key>", else
 * $AZURE_AD_TOKEN as Bearer. NULL when there is nothing to send; dep and api_base may be NULL
 * (prov_wire_t.auth_header). */
const char *prov_azure_auth_header(arena_t *a, const cfg_deployment_t *dep, const char *api_base,
                                   const char *key)
{
    (void)api_base;
    const char *token = dep ? cfg_deployment_param(dep, "azure_ad_token") : NULL;
    if (token && *token)
        return arena_printf(a, "Authorization: Bearer %s", token);
    if (key && *key)
        return arena_printf(a, "api-key: %s", key);
    token = getenv("AZURE_AD_TOKEN");
    if (token && *token)
        return arena_printf(a, "Authorization: Bearer %s", token);
    return NULL;
}

/* Azure AI: `api-key` on *.services.ai.azure.com and *.openai.azure.com, Bearer elsewhere
 * (serverless endpoints, proxies), as LiteLLM decides from the api_base host. */
const char *prov_azure_ai_auth_header(arena_t *a, const cfg_deployment_t *dep, const char *api_base,
                                      const char *key)
{
    (void)dep;
    if (!key || !*key)
        return NULL;
    str_t host = azure_host(azure_base_split(api_base).origin);
    if (azure_has_suffix(host, ".services.ai.azure.com") ||
        azure_has_suffix(host, ".openai.azure.com"))
        return arena_printf(a, "api-key: %s", key);
    return arena_printf(a, "Authorization: Bearer %s", key);
}

const prov_wire_t prov_wire_azure = {azure_url, prov_azure_auth_header};
const prov_wire_t prov_wire_azure_ai = {azure_ai_url, prov_azure_ai_auth_header};

/* The URL builders under names the tests can call (tests/unit/test_prov_azure.c). */
const char *prov_azure_url(arena_t *a, const char *api_base, str_t model, const char *api_version,
                           const char *suffix)
{
    return azure_url(a, api_base, model, api_version, suffix);
}

const char *prov_azure_ai_url(arena_t *a, const char *api_base, str_t model,
                              const char *api_version, const char *suffix)
{
    return azure_ai_url(a, api_base, model, api_version, suffix);
}
