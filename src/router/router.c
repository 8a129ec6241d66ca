/* SPDX-License-Identifier: MIT
 * The route table: groups of deployments by model_name, and LiteLLM's simple-shuffle choice.
 * Everything that can be computed at start-up (URLs, header lines, weights) is; a request only
 * draws a random number and, for wildcard deployments, fills in the model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/buf.h"
#include "core/common.h"
#include "core/log.h"
#include "router/router.h"

struct route_table {
    route_group_t *groups;
    size_t num_groups;
    route_deployment_t *deployments;
    size_t num_deployments;
    const char **names;
    size_t num_names;
};

uint64_t route_rng_seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, 0) != sizeof s || s == 0)
        s = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&s;
    return s ? s : 1;
}

uint64_t route_rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

int route_glob_match(str_t pat, str_t text, str_t *caps, int max)
{
    /* iterative glob with backtracking to the last star; captures are re-derived at the end */
    size_t p = 0, t = 0, star_p = (size_t)-1, star_t = 0;
    while (t < text.n) {
        if (p < pat.n && pat.p[p] == '*') {
            star_p = p++;
            star_t = t;
        } else if (p < pat.n && pat.p[p] == text.p[t]) {
            p++;
            t++;
        } else if (star_p != (size_t)-1) {
            p = star_p + 1;
            t = ++star_t;
        } else {
            return -1;
        }
    }
    while (p < pat.n && pat.p[p] == '*')
        p++;
    if (p != pat.n)
        return -1;
    /* captures: match literal segments left to right, each star taking the shortest span,
     * except the last which takes the rest (what the backtracking above accepted) */
    int n = 0;
    size_t ti = 0;
    size_t pi = 0;
    while (pi < pat.n) {
        if (pat.p[pi] != '*') {
            ti++;
            pi++;
            continue;
        }
        pi++;
        size_t seg_end = pi;
        while (seg_end < pat.n && pat.p[seg_end] != '*')
            seg_end++;
        str_t seg = str_make(pat.p + pi, seg_end - pi);
        size_t start = ti, end;
        if (seg_end == pat.n) {
            /* the last star: the literal tail matches the end of the text */
            end = text.n - seg.n;
        } else {
            const char *hit = seg.n ? memmem(text.p + ti, text.n - ti, seg.p, seg.n) : text.p + ti;
            end = hit ? (size_t)(hit - text.p) : ti;
        }
        if (n < max)
            caps[n] = str_make(text.p + start, end - start);
        n++;
        ti = end;
    }
    return n;
}

static char *str_printf_heap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf_heap(const char *fmt, ...)
{
    buf_t b = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    buf_append(&b, "", 1);
    return b.p;
}

static const char *env_nonempty(const char *name)
{
    const char *v = name ? getenv(name) : NULL;
    return v && *v ? v : NULL;
}

/* Header lines for calling `prov` with `key`: built into the heap (start-up) or an arena. */
static const char **build_headers(const cfg_deployment_t *d, const prov_info_t *prov,
                                  const char *base, const char *key, arena_t *arena)
{
    size_t max = 4 + (d ? d->num_extra_headers : 0);
    const char **h = arena ? arena_alloc(arena, max * sizeof *h) : xcalloc(max, sizeof *h);
    if (!h)
        return NULL;
    size_t n = 0;
    h[n++] = "Content-Type: application/json";
    if (prov && prov->wire && prov->wire->auth_header) {
        /* Azure and friends: their own auth header (an Entra token, api-key, or Bearer) */
        arena_t tmp = {0};
        const char *line = prov->wire->auth_header(arena ? arena : &tmp, d, base, key);
        if (line)
            h[n++] = arena ? line : xstrdup(line);
        arena_reset(&tmp);
    } else if (key) {
        h[n++] = arena ? arena_printf(arena, "Authorization: Bearer %s", key)
                       : str_printf_heap("Authorization: Bearer %s", key);
    }
    if (d && d->organization)
        h[n++] = arena ? arena_printf(arena, "OpenAI-Organization: %s", d->organization)
                       : str_printf_heap("OpenAI-Organization: %s", d->organization);
    for (size_t i = 0; d && i < d->num_extra_headers; i++)
        h[n++] =
            arena
                ? arena_printf(arena, "%s: %s", d->extra_headers[i].name, d->extra_headers[i].value)
                : str_printf_heap("%s: %s", d->extra_headers[i].name, d->extra_headers[i].value);
    h[n] = NULL;
    return h;
}

static char *base_without_slash(const char *base)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    return xstrndup(base, n);
}

/* "model_list entry 'x' (line 3)", or for a model from the database "model 'x' (id abc)". */
static const char *entry_name(const cfg_deployment_t *d, char *out, size_t n)
{
    if (d->line)
        snprintf(out, n, "model_list entry '%s' (line %d)", d->model_name, d->line);
    else
        snprintf(out, n, "model '%s' (id %s)", d->model_name, d->id ? d->id : "?");
    return out;
}

static int deployment_init(route_deployment_t *rd, const cfg_t *cfg, const cfg_deployment_t *d,
                           char *err, size_t err_size)
{
    char where[256];
    rd->cfg = d;
    rd->model_has_star = strchr(d->model, '*') != NULL;
    rd->weight = 1;
    rd->timeout_ms = (uint64_t)(1000 * (d->timeout_s > 0            ? d->timeout_s
                                        : cfg->router_timeout_s > 0 ? cfg->router_timeout_s
                                                                    : cfg->request_timeout_s));
    double st = d->stream_timeout_s > 0 ? d->stream_timeout_s : cfg->router_stream_timeout_s;
    rd->stream_timeout_ms = st > 0 ? (uint64_t)(st * 1000) : 0;
    rd->num_retries = cfg->router_num_retries >= 0 ? cfg->router_num_retries
                      : cfg->num_retries >= 0      ? cfg->num_retries
                                                   : 3; /* LiteLLM's documented default */
    if (strcmp(d->model, "*") == 0 && d->provider[0] == 0)
        return 0; /* provider comes from each request's model */
    str_t pname = str_cstr(d->provider[0] ? d->provider : "openai");
    rd->prov = prov_find(pname);
    if (!rd->prov) {
        snprintf(err, err_size, "%s: provider '%.*s' is not supported by sluice yet",
                 entry_name(d, where, sizeof where), STR_FMT(pname));
        return -1;
    }
    const char *base = d->api_base ? d->api_base : env_nonempty(rd->prov->base_env);
    if (!base)
        base = rd->prov->default_base;
    if (!base && !(rd->prov->flags & PROV_BASE_COMPUTED)) {
        snprintf(err, err_size, "%s: provider '%s' needs api_base",
                 entry_name(d, where, sizeof where), rd->prov->name);
        return -1;
    }
    if (base) {
        rd->api_base = base_without_slash(base);
        const char *q = strchr(rd->api_base, '?');
        rd->api_base_for_header =
            q ? xstrndup(rd->api_base, (size_t)(q - rd->api_base)) : xstrdup(rd->api_base);
    }
    const char *key = d->api_key;
    if (!key)
        key = env_nonempty(rd->prov->key_env);
    if (!key)
        key = env_nonempty(rd->prov->key_env_alt);
    rd->api_key = key ? xstrdup(key) : NULL;
    rd->headers = build_headers(d, rd->prov, rd->api_base, key, NULL);
    return 0;
}

static void deployment_free(route_deployment_t *rd)
{
    if (rd->headers) {
        /* line 0 is a literal; the others were built on the heap */
        for (size_t i = 1; rd->headers[i]; i++)
            free((char *)rd->headers[i]);
        free(rd->headers);
    }
    free((char *)rd->api_base);
    free((char *)rd->api_base_for_header);
    free((char *)rd->api_key);
}

static size_t avoid_index(const route_group_t *g, const route_deployment_t *d)
{
    for (size_t i = 0; i < g->num_deployments; i++)
        if (g->deployments[i] == d)
            return i;
    return 0;
}

static void group_weights(route_group_t *g)
{
    /* LiteLLM: weight if any deployment has one, else rpm, else tpm; missing ones count 0 */
    int basis = 0;
    for (size_t i = 0; i < g->num_deployments && basis == 0; i++)
        if (g->deployments[i]->cfg->weight > 0)
            basis = 1;
    for (size_t i = 0; i < g->num_deployments && basis == 0; i++)
        if (g->deployments[i]->cfg->rpm > 0)
            basis = 2;
    for (size_t i = 0; i < g->num_deployments && basis == 0; i++)
        if (g->deployments[i]->cfg->tpm > 0)
            basis = 3;
    double total = 0;
    for (size_t i = 0; i < g->num_deployments; i++) {
        route_deployment_t *d = g->deployments[i];
        d->weight = basis == 1   ? d->cfg->weight
                    : basis == 2 ? (double)d->cfg->rpm
                    : basis == 3 ? (double)d->cfg->tpm
                                 : 1;
        if (d->weight < 0)
            d->weight = 0;
        total += d->weight;
    }
    if (total <= 0) {
        for (size_t i = 0; i < g->num_deployments; i++)
            g->deployments[i]->weight = 1;
        total = (double)g->num_deployments;
    }
    g->total_weight = total;
}

route_table_t *route_table_new(const cfg_t *cfg, char *err, size_t err_size)
{
    route_table_t *t = xcalloc(1, sizeof *t);
    t->deployments = xcalloc(cfg->num_deployments + 1, sizeof *t->deployments);
    t->groups = xcalloc(cfg->num_deployments + 1, sizeof *t->groups);
    t->names = xcalloc(cfg->num_deployments + 1, sizeof *t->names);
    for (size_t i = 0; i < cfg->num_deployments; i++) {
        const cfg_deployment_t *d = &cfg->deployments[i];
        route_deployment_t *rd = &t->deployments[t->num_deployments];
        char why[512];
        if (deployment_init(rd, cfg, d, why, sizeof why) != 0) {
            /* LiteLLM's proxy skips invalid deployments (ignore_invalid_deployments) */
            log_warn("%s; skipping this deployment", why);
            deployment_free(rd);
            memset(rd, 0, sizeof *rd);
            continue;
        }
        t->num_deployments++;
    }
    for (size_t i = 0; i < t->num_deployments; i++) {
        route_deployment_t *rd = &t->deployments[i];
        route_group_t *g = NULL;
        for (size_t k = 0; k < t->num_groups; k++)
            if (strcmp(t->groups[k].name, rd->cfg->model_name) == 0)
                g = &t->groups[k];
        if (!g) {
            g = &t->groups[t->num_groups++];
            g->name = rd->cfg->model_name;
            g->wildcard = strchr(g->name, '*') != NULL;
            for (const char *p = g->name; *p; p++)
                g->specificity += *p != '*';
            g->deployments = xcalloc(t->num_deployments, sizeof *g->deployments);
            if (!g->wildcard)
                t->names[t->num_names++] = g->name;
        }
        g->deployments[g->num_deployments++] = rd;
        g->limited |= rd->cfg->rpm > 0 || rd->cfg->tpm > 0;
    }
    for (size_t k = 0; k < t->num_groups; k++)
        group_weights(&t->groups[k]);
    (void)err;
    (void)err_size;
    return t;
}

void route_table_free(route_table_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->num_deployments; i++)
        deployment_free(&t->deployments[i]);
    for (size_t k = 0; k < t->num_groups; k++)
        free(t->groups[k].deployments);
    free(t->groups);
    free(t->deployments);
    free(t->names);
    free(t);
}

const route_group_t *route_find_group(const route_table_t *t, str_t model)
{
    for (size_t k = 0; k < t->num_groups; k++)
        if (!t->groups[k].wildcard && str_eq_cstr(model, t->groups[k].name))
            return &t->groups[k];
    const route_group_t *best = NULL;
    for (size_t k = 0; k < t->num_groups; k++) {
        const route_group_t *g = &t->groups[k];
        if (!g->wildcard || (best && best->specificity >= g->specificity))
            continue;
        if (route_glob_match(str_cstr(g->name), model, NULL, 0) >= 0)
            best = g;
    }
    return best;
}

const char *const *route_model_names(const route_table_t *t, size_t *count)
{
    *count = t->num_names;
    return t->names;
}

/* Puts captures into the '*'s of `tmpl`: the template openai/<star> with ["gpt-5"] is
 * "openai/gpt-5". */
static str_t substitute(arena_t *a, const char *tmpl, const str_t *caps, int ncaps)
{
    size_t len = 0;
    int k = 0;
    for (const char *p = tmpl; *p; p++)
        len += *p == '*' ? (k < ncaps ? caps[k++].n : 0) : 1;
    char *out = arena_alloc(a, len + 1);
    if (!out)
        return STR_NULL;
    size_t o = 0;
    k = 0;
    for (const char *p = tmpl; *p; p++) {
        if (*p != '*') {
            out[o++] = *p;
        } else if (k < ncaps) {
            memcpy(out + o, caps[k].p, caps[k].n);
            o += caps[k++].n;
        }
    }
    out[o] = 0;
    return str_make(out, o);
}

/* simple-shuffle over the deployments marked in ok[] (all when ok is NULL): weighted random, a
 * retry avoiding the deployment that just failed when another is usable. */
static const route_deployment_t *shuffle(const route_group_t *g, uint64_t *rng,
                                         const route_deployment_t *avoid, const bool *ok,
                                         size_t n_ok, double total)
{
    bool skip = avoid && n_ok > 1 && (!ok || ok[avoid_index(g, avoid)]);
    if (skip && total - avoid->weight <= 0)
        skip = false;
    if (skip)
        total -= avoid->weight;
    double r = (double)(route_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0) * total;
    const route_deployment_t *d = NULL;
    for (size_t i = 0; i < g->num_deployments; i++) {
        const route_deployment_t *cand = g->deployments[i];
        if ((skip && cand == avoid) || (ok && !ok[i]))
            continue;
        d = cand;
        if (r < cand->weight)
            break;
        r -= cand->weight;
    }
    return d;
}

static int resolve(const route_group_t *g, const route_deployment_t *d, str_t model, arena_t *arena,
                   route_target_t *out, const char **err);

int route_pick(const route_group_t *g, str_t model, uint64_t *rng, const route_deployment_t *avoid,
               arena_t *arena, route_target_t *out, const char **err)
{
    const route_deployment_t *d = shuffle(g, rng, avoid, NULL, g->num_deployments, g->total_weight);
    return resolve(g, d, model, arena, out, err);
}

int route_pick_usable(const route_group_t *g, str_t model, uint64_t *rng,
                      const route_deployment_t *avoid, route_usable_fn usable, void *usable_arg,
                      arena_t *arena, route_target_t *out, const char **err)
{
    if (!usable)
        return route_pick(g, model, rng, avoid, arena, out, err);
    bool small[16];
    bool *ok = g->num_deployments <= 16 ? small : arena_alloc(arena, g->num_deployments);
    if (!ok) {
        *err = "out of memory";
        return -1;
    }
    size_t n_ok = 0;
    double total = 0;
    for (size_t i = 0; i < g->num_deployments; i++) {
        ok[i] = usable(usable_arg, g->deployments[i]);
        if (ok[i]) {
            n_ok++;
            total += g->deployments[i]->weight;
        }
    }
    if (!n_ok)
        return ROUTE_NONE_USABLE;
    if (total <= 0) {
        /* only deployments without weight (no rpm where others have one) are left: uniform */
        uint64_t k = route_rng_next(rng) % n_ok;
        for (size_t i = 0; i < g->num_deployments; i++)
            if (ok[i] && k-- == 0)
                return resolve(g, g->deployments[i], model, arena, out, err);
    }
    return resolve(g, shuffle(g, rng, avoid, ok, n_ok, total), model, arena, out, err);
}

/* Fills out for deployment d of g: the upstream model (wildcards substituted) and, for "*"
 * models, the provider, base URL, key and header lines of this request. */
static int resolve(const route_group_t *g, const route_deployment_t *d, str_t model, arena_t *arena,
                   route_target_t *out, const char **err)
{
    out->group = g;
    out->dep = d;
    out->prov = d->prov;
    out->api_base = d->api_base;
    out->api_key = d->api_key;
    out->headers = d->headers;
    if (!d->model_has_star) {
        out->upstream_model = str_cstr(d->cfg->provider_model);
        return 0;
    }
    str_t caps[8];
    int n = g->wildcard ? route_glob_match(str_cstr(g->name), model, caps, 8) : 0;
    if (n < 0)
        n = 0;
    if (!g->wildcard) {
        caps[0] =
            model; /* model_name x with model openai/<star>: the client's name fills the star */
        n = 1;
    }
    str_t full = substitute(arena, d->cfg->model, caps, n);
    if (!full.p) {
        *err = "out of memory";
        return -1;
    }
    if (d->prov) {
        /* the template had a provider prefix: strip it */
        const char *slash = memchr(full.p, '/', full.n);
        out->upstream_model = d->cfg->provider[0] && slash
                                  ? str_make(slash + 1, full.n - (size_t)(slash + 1 - full.p))
                                  : full;
        return 0;
    }
    /* "*": the provider is the client's prefix, credentials from the environment */
    const char *slash = memchr(full.p, '/', full.n);
    str_t pname = slash ? str_make(full.p, (size_t)(slash - full.p)) : STR_LIT("openai");
    const prov_info_t *prov = prov_find(pname);
    if (!prov) {
        *err = "provider not supported";
        return -1;
    }
    const char *base = env_nonempty(prov->base_env);
    if (!base)
        base = prov->default_base;
    if (!base && !(prov->flags & PROV_BASE_COMPUTED)) {
        *err = "provider needs api_base";
        return -1;
    }
    if (!base)
        base = "";
    size_t bn = strlen(base);
    while (bn && base[bn - 1] == '/')
        bn--;
    out->prov = prov;
    out->api_base = arena_strndup(arena, base, bn);
    out->upstream_model = slash ? str_make(slash + 1, full.n - (size_t)(slash + 1 - full.p)) : full;
    const char *key = env_nonempty(prov->key_env);
    if (!key)
        key = env_nonempty(prov->key_env_alt);
    out->api_key = key;
    out->headers = build_headers(d->cfg, prov, out->api_base, key, arena);
    if (!out->headers || !out->api_base) {
        *err = "out of memory";
        return -1;
    }
    return 0;
}
