/* SPDX-License-Identifier: MIT
 * The route table: groups of deployments by model_name, and LiteLLM's simple-shuffle choice.
 * Everything that can be computed at start-up (URLs, header lines, weights) is; a request only
 * draws a random number and, for wildcard deployments, fills in the model. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/buf.h"
#include "core/common.h"
#include "core/log.h"
#include "router/router.h"

struct route_table {
    route_group_t *groups;
    size_t num_groups;
    route_deployment_t *deployments;
    route_health_t *health; /* one per deployment */
    size_t num_deployments;
    const char **names;
    size_t num_names;
    const char **alias_names; /* model_group_alias, resolved to alias_groups */
    const route_group_t **alias_groups;
    size_t num_aliases;
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
    rd->allowed_fails = cfg->router_allowed_fails >= 0 ? cfg->router_allowed_fails
                        : cfg->allowed_fails >= 0      ? cfg->allowed_fails
                                                       : 3;
    /* LiteLLM counts failures only with an allowed_fails_policy or a router allowed_fails other
     * than litellm.allowed_fails (litellm_settings.allowed_fails, else 3); else failure rates */
    int module_fails = cfg->allowed_fails >= 0 ? cfg->allowed_fails : 3;
    rd->count_fails = cfg->has_allowed_fails_policy ||
                      (cfg->router_allowed_fails >= 0 && cfg->router_allowed_fails != module_fails);
    rd->allowed_fails_policy = cfg->has_allowed_fails_policy ? &cfg->allowed_fails_policy : NULL;
    rd->latency_ttl_ms = (int64_t)(cfg->latency_ttl_s * 1000);
    double cool = d->cooldown_time_s >= 0            ? d->cooldown_time_s
                  : cfg->router_cooldown_time_s >= 0 ? cfg->router_cooldown_time_s
                  : cfg->cooldown_time_s >= 0        ? cfg->cooldown_time_s
                                                     : 5;
    rd->cooldown_ms = cfg->disable_cooldowns ? 0 : (int64_t)(cool * 1000);
    const char *s = cfg->routing_strategy ? cfg->routing_strategy : "simple-shuffle";
    rd->strategy = strcmp(s, "least-busy") == 0                 ? ROUTE_LEAST_BUSY
                   : strcmp(s, "latency-based-routing") == 0    ? ROUTE_LATENCY
                   : strcmp(s, "cost-based-routing") == 0       ? ROUTE_COST
                   : strncmp(s, "usage-based-routing", 19) == 0 ? ROUTE_USAGE
                                                                : ROUTE_SIMPLE_SHUFFLE;
    rd->cost_per_token = 1;
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
    t->health = xcalloc(cfg->num_deployments + 1, sizeof *t->health);
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
        g->limited |=
            rd->cfg->rpm > 0 || rd->cfg->tpm > 0 || cfg_deployment_max_parallel(cfg, rd->cfg) > 0;
        g->ordered |= rd->cfg->order > 0;
        g->strategy = rd->strategy;
        g->latency_buffer = cfg->lowest_latency_buffer;
        g->retry_after_ms = (int64_t)(cfg->retry_after_s * 1000);
        g->retry_policy = cfg->has_retry_policy ? &cfg->retry_policy : NULL;
        for (size_t k = 0; k < cfg->num_group_retry_policies; k++)
            if (strcmp(cfg->group_retry_policies[k].group, g->name) == 0)
                g->retry_policy = &cfg->group_retry_policies[k].policy;
    }
    for (size_t k = 0; k < t->num_groups; k++) {
        route_group_t *g = &t->groups[k];
        group_weights(g);
        /* a group's only deployment is never cooled: LiteLLM skips 429 cooldowns there, and
         * sluice skips every trigger so that the group stays reachable */
        if (g->num_deployments == 1)
            g->deployments[0]->cooldown_ms = 0;
    }
    for (size_t i = 0; i < t->num_deployments; i++)
        t->deployments[i].health = &t->health[i];
    if (cfg->routing_strategy && strcmp(cfg->routing_strategy, "simple-shuffle") != 0 &&
        strcmp(cfg->routing_strategy, "least-busy") != 0 &&
        strcmp(cfg->routing_strategy, "cost-based-routing") != 0 &&
        strncmp(cfg->routing_strategy, "usage-based-routing", 19) != 0 &&
        strcmp(cfg->routing_strategy, "latency-based-routing") != 0)
        log_warn("routing_strategy '%s' is not implemented by sluice yet; using simple-shuffle",
                 cfg->routing_strategy);
    /* model_group_alias: resolved once; visible aliases are listed after the groups */
    t->alias_names = xcalloc(cfg->num_group_aliases + 1, sizeof *t->alias_names);
    t->alias_groups = xcalloc(cfg->num_group_aliases + 1, sizeof *t->alias_groups);
    t->names = xrealloc(t->names, (t->num_names + cfg->num_group_aliases + 1) * sizeof *t->names);
    for (size_t i = 0; i < cfg->num_group_aliases; i++) {
        const cfg_alias_t *a = &cfg->group_aliases[i];
        const route_group_t *g = route_find_group(t, str_cstr(a->group));
        if (!g) {
            log_warn("model_group_alias '%s': model group '%s' does not exist; ignored", a->alias,
                     a->group);
            continue;
        }
        t->alias_names[t->num_aliases] = a->alias;
        t->alias_groups[t->num_aliases++] = g;
        bool listed = false;
        for (size_t k = 0; k < t->num_names && !listed; k++)
            listed = strcmp(t->names[k], a->alias) == 0;
        if (!a->hidden && !listed)
            t->names[t->num_names++] = a->alias;
    }
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
    free(t->health);
    free(t->names);
    free(t->alias_names);
    free(t->alias_groups);
    free(t);
}

const route_group_t *route_find_group(const route_table_t *t, str_t model)
{
    /* LiteLLM maps an alias before it looks for the group */
    for (size_t k = 0; k < t->num_aliases; k++)
        if (str_eq_cstr(model, t->alias_names[k]))
            return t->alias_groups[k];
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

void route_table_set_costs(route_table_t *t, double (*price)(void *arg, const cfg_deployment_t *d),
                           void *arg)
{
    for (size_t i = 0; i < t->num_deployments; i++) {
        double c = price(arg, t->deployments[i].cfg);
        t->deployments[i].cost_per_token = c >= 0 ? c : 1;
    }
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

int64_t route_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool route_is_cooling(const route_deployment_t *d, int64_t now_ms)
{
    return d->health &&
           atomic_load_explicit(&d->health->cooldown_until_ms, memory_order_relaxed) > now_ms;
}

cfg_error_class_t route_error_class(int status)
{
    switch (status) {
    case 401:
        return CFG_ERR_AUTHENTICATION;
    case 404:
        return CFG_ERR_NOT_FOUND;
    case 408:
        return CFG_ERR_TIMEOUT;
    case 429:
        return CFG_ERR_RATE_LIMIT;
    case 502:
        return CFG_ERR_BAD_GATEWAY;
    case 503:
        return CFG_ERR_SERVICE_UNAVAILABLE;
    default:
        return status >= 500 ? CFG_ERR_INTERNAL_SERVER : CFG_ERR_BAD_REQUEST;
    }
}

/* Adds one to a counter that is forgotten `ttl_ms` after its last increment; the new count. The
 * time of the last increment is kept to a 60th of the ttl, so that busy deployments do not
 * write it on every call. */
static int count_within(_Atomic int *count, _Atomic int64_t *last, int64_t now_ms, int64_t ttl_ms)
{
    int64_t seen = atomic_load_explicit(last, memory_order_relaxed);
    if (now_ms - seen >= ttl_ms) {
        atomic_store_explicit(last, now_ms, memory_order_relaxed);
        atomic_store_explicit(count, 1, memory_order_relaxed);
        return 1;
    }
    if (now_ms - seen >= ttl_ms / 60)
        atomic_store_explicit(last, now_ms, memory_order_relaxed);
    return atomic_fetch_add_explicit(count, 1, memory_order_relaxed) + 1;
}

/* A counter of count_within as it stands at now_ms. */
static int count_now(_Atomic int *count, _Atomic int64_t *last, int64_t now_ms, int64_t ttl_ms)
{
    return now_ms - atomic_load_explicit(last, memory_order_relaxed) < ttl_ms
               ? atomic_load_explicit(count, memory_order_relaxed)
               : 0;
}

/* allowed_fails(_policy): more failures than allowed, each within cooldown_ms of the last. As in
 * LiteLLM, the failure that cools is not added, so the count lapses cooldown_ms after the last
 * failure that did not cool. */
static bool over_allowed_fails(const route_deployment_t *d, int status, int64_t now_ms)
{
    route_health_t *h = d->health;
    int allowed = d->allowed_fails;
    if (d->allowed_fails_policy) {
        const int *n = d->allowed_fails_policy->n;
        cfg_error_class_t cls = route_error_class(status);
        if (n[cls] >= 0)
            allowed = n[cls];
        else if (cls == CFG_ERR_BAD_GATEWAY && n[CFG_ERR_INTERNAL_SERVER] >= 0)
            allowed = n[CFG_ERR_INTERNAL_SERVER];
    }
    int fails = count_now(&h->policy_fails, &h->policy_fail_last_ms, now_ms, d->cooldown_ms);
    if (fails + 1 > allowed)
        return true;
    count_within(&h->policy_fails, &h->policy_fail_last_ms, now_ms, d->cooldown_ms);
    return false;
}

bool route_report_failure(const route_deployment_t *d, int status, int64_t now_ms)
{
    if (!d->health || d->cooldown_ms <= 0)
        return false;
    route_health_t *h = d->health;
    /* LiteLLM counts every failure, then asks whether this one may cool (_is_cooldown_required) */
    int fails = count_within(&h->fails, &h->fail_last_ms, now_ms, 60000);
    if (status == ROUTE_CONNECTION_ERROR || (status >= 400 && status < 500 && status != 401 &&
                                             status != 404 && status != 408 && status != 429))
        return false; /* a connection error, or the request's fault rather than the deployment's */
    bool cool;
    if (d->count_fails) {
        cool = over_allowed_fails(d, status, now_ms);
    } else {
        /* LiteLLM's default: a 429 at once; more than half of the minute's calls failed (with
         * enough calls to tell); or an error it would not retry (401, 404) */
        int total = fails + count_now(&h->successes, &h->success_last_ms, now_ms, 60000);
        cool = status == 429 || (fails * 2 > total && total >= ROUTE_FAILURE_MIN_REQUESTS) ||
               status == 401 || status == 404;
    }
    if (cool)
        atomic_store_explicit(&h->cooldown_until_ms, now_ms + d->cooldown_ms, memory_order_relaxed);
    return cool;
}

long long route_cooldown_message(const route_group_t *g, str_t model, int64_t now_ms,
                                 bool pre_call_checks, const route_view_t *view, char *msg,
                                 size_t size)
{
    int64_t first = 0;
    char list[512];
    size_t n = 0;
    list[0] = 0;
    for (size_t i = 0; i < g->num_deployments; i++) {
        const route_deployment_t *d = g->deployments[i];
        int64_t until = d->health ? atomic_load(&d->health->cooldown_until_ms) : 0;
        int64_t shared = view && view->cooling_ms ? view->cooling_ms(view->arg, d) : 0;
        if (shared > 0 && now_ms + shared > until)
            until = now_ms + shared;
        if (until <= now_ms)
            continue;
        if (!first || until < first)
            first = until;
        int w = snprintf(list + n, sizeof list - n, "%s'%s'", n ? ", " : "", d->cfg->id);
        if (w > 0 && (size_t)w < sizeof list - n)
            n += (size_t)w;
    }
    long long secs = first > now_ms ? (long long)((first - now_ms + 999) / 1000) : 1;
    snprintf(msg, size,
             "No deployments available for selected model, Try again in %lld seconds. Passed "
             "model=%.*s. pre-call-checks=%s, cooldown_list=[%s]",
             secs, STR_FMT(model), pre_call_checks ? "True" : "False", list);
    return secs;
}

void route_call_started(const route_deployment_t *d)
{
    if (d->strategy == ROUTE_LEAST_BUSY && d->health)
        atomic_fetch_add_explicit(&d->health->inflight, 1, memory_order_relaxed);
}

void route_call_ended(const route_deployment_t *d, uint64_t first_byte_ns)
{
    if (!d->health)
        return;
    route_health_t *h = d->health;
    if (d->strategy == ROUTE_LEAST_BUSY)
        atomic_fetch_sub_explicit(&h->inflight, 1, memory_order_relaxed);
    if (!first_byte_ns || (d->strategy != ROUTE_LATENCY && (d->cooldown_ms <= 0 || d->count_fails)))
        return;
    int64_t now = route_now_ms();
    if (d->cooldown_ms > 0 && !d->count_fails)
        count_within(&h->successes, &h->success_last_ms, now, 60000);
    if (d->strategy == ROUTE_LATENCY) {
        /* one slot of the ring, overwritten in turn; a sample and its time in one word, so a
         * reader never pairs a time with another sample */
        uint64_t us = first_byte_ns / 1000;
        uint64_t sample = ((uint64_t)(now / 1000 + 1) << 32) | (us < UINT32_MAX ? us : UINT32_MAX);
        unsigned slot = atomic_fetch_add_explicit(&h->latency_next, 1, memory_order_relaxed);
        atomic_store_explicit(&h->latency[slot % ROUTE_LATENCY_SAMPLES], sample,
                              memory_order_relaxed);
    }
}

int64_t route_latency_us(const route_deployment_t *d, int64_t now_ms)
{
    if (!d->health)
        return 0;
    /* whole seconds: a sample is counted while its second is less than the ttl ago */
    int64_t now_s = now_ms / 1000 + 1;
    int64_t ttl_s = (d->latency_ttl_ms + 999) / 1000;
    int64_t sum = 0, n = 0;
    for (int i = 0; i < ROUTE_LATENCY_SAMPLES; i++) {
        uint64_t sample = atomic_load_explicit(&d->health->latency[i], memory_order_relaxed);
        if (!sample || now_s - (int64_t)(sample >> 32) >= ttl_s)
            continue;
        sum += (int64_t)(sample & UINT32_MAX);
        n++;
    }
    return n ? sum / n + 1 : 0; /* + 1: a measured deployment is never "unknown" */
}

/* least-busy: fewest calls under way; latency-based-routing: lowest average time to first byte
 * (an unmeasured deployment first), drawn at random among those within lowest_latency_buffer of
 * it. A retry's avoided deployment only when nothing else is usable. */
static const route_deployment_t *by_strategy(const route_group_t *g, uint64_t *rng,
                                             const route_deployment_t *avoid, const bool *ok,
                                             size_t n_ok, const route_view_t *view)
{
    bool skip_avoid = avoid && n_ok > 1;
    int64_t best = INT64_MAX;
    int64_t score[64];
    int64_t minute = g->strategy == ROUTE_USAGE ? route_now_ms() / 60000 : 0;
    size_t n = g->num_deployments < 64 ? g->num_deployments : 64;
    for (size_t i = 0; i < n; i++) {
        const route_deployment_t *d = g->deployments[i];
        if (!ok[i] || (skip_avoid && d == avoid)) {
            score[i] = INT64_MAX;
            continue;
        }
        int64_t shared =
            (g->strategy == ROUTE_LEAST_BUSY || g->strategy == ROUTE_USAGE) && view && view->load
                ? view->load(view->arg, d)
                : -1;
        if (shared >= 0)
            score[i] = shared; /* every instance's count */
        else if (g->strategy == ROUTE_LEAST_BUSY)
            score[i] = atomic_load(&d->health->inflight);
        else if (g->strategy == ROUTE_COST)
            score[i] = (int64_t)(d->cost_per_token * 1e12);
        else if (g->strategy == ROUTE_USAGE)
            score[i] = atomic_load(&d->health->usage_minute) == minute
                           ? atomic_load(&d->health->usage_tokens)
                           : 0;
        else
            score[i] = route_latency_us(d, route_now_ms());
        if (score[i] < best)
            best = score[i];
    }
    int64_t limit = best;
    if (g->strategy == ROUTE_LATENCY && g->latency_buffer > 0 && best > 0)
        limit = best + (int64_t)((double)best * g->latency_buffer);
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += score[i] != INT64_MAX && score[i] <= limit;
    if (!count)
        return g->deployments[0];
    uint64_t k = route_rng_next(rng) % count;
    for (size_t i = 0; i < n; i++)
        if (score[i] != INT64_MAX && score[i] <= limit && k-- == 0)
            return g->deployments[i];
    return g->deployments[0];
}

void route_call_tokens(const route_deployment_t *d, uint64_t tokens, int64_t now_ms)
{
    if (d->strategy != ROUTE_USAGE || !d->health)
        return;
    route_health_t *h = d->health;
    int64_t minute = now_ms / 60000;
    int64_t seen = atomic_load_explicit(&h->usage_minute, memory_order_relaxed);
    if (seen != minute &&
        atomic_compare_exchange_strong_explicit(&h->usage_minute, &seen, minute,
                                                memory_order_relaxed, memory_order_relaxed))
        atomic_store_explicit(&h->usage_tokens, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->usage_tokens, (int64_t)tokens, memory_order_relaxed);
}

static int tier(const route_deployment_t *d)
{
    return d->cfg->order > 0 ? d->cfg->order : INT_MAX;
}

int route_pick(const route_group_t *g, str_t model, uint64_t *rng, const route_deployment_t *avoid,
               arena_t *arena, route_target_t *out, const char **err)
{
    return route_pick_usable(g, model, rng, avoid, NULL, arena, out, err);
}

/* Whether d is cooling here or, as far as the view knows, on another instance. */
static bool cooling_anywhere(const route_deployment_t *d, int64_t now, const route_view_t *view)
{
    return route_is_cooling(d, now) ||
           (view && view->cooling_ms && d->cooldown_ms > 0 && view->cooling_ms(view->arg, d) > 0);
}

int route_pick_usable(const route_group_t *g, str_t model, uint64_t *rng,
                      const route_deployment_t *avoid, const route_view_t *view, arena_t *arena,
                      route_target_t *out, const char **err)
{
    int64_t now = 0;
    bool any_cooling = false;
    if (g->num_deployments > 1) {
        now = route_now_ms();
        for (size_t i = 0; i < g->num_deployments && !any_cooling; i++)
            any_cooling = cooling_anywhere(g->deployments[i], now, view);
    }
    bool usable_fn = view && view->usable;
    if (!usable_fn && !any_cooling && !g->ordered && g->strategy == ROUTE_SIMPLE_SHUFFLE) {
        const route_deployment_t *d =
            shuffle(g, rng, avoid, NULL, g->num_deployments, g->total_weight);
        return resolve(g, d, model, arena, out, err);
    }
    bool small[16];
    bool *ok = g->num_deployments <= 16 ? small : arena_alloc(arena, g->num_deployments);
    if (!ok) {
        *err = "out of memory";
        return -1;
    }
    size_t n_ok = 0, n_warm = 0;
    double total = 0;
    for (size_t i = 0; i < g->num_deployments; i++) {
        ok[i] = !any_cooling || !cooling_anywhere(g->deployments[i], now, view);
        n_warm += ok[i];
        if (ok[i] && usable_fn)
            ok[i] = view->usable(view->arg, g->deployments[i]);
        if (ok[i]) {
            n_ok++;
            total += g->deployments[i]->weight;
        }
    }
    if (!n_warm)
        return ROUTE_ALL_COOLING;
    if (!n_ok)
        return ROUTE_NONE_USABLE;
    if (g->ordered) {
        /* order tiers: the lowest one with a usable deployment; unordered ones come last */
        int best = INT_MAX;
        for (size_t i = 0; i < g->num_deployments; i++)
            if (ok[i] && tier(g->deployments[i]) < best)
                best = tier(g->deployments[i]);
        n_ok = 0;
        total = 0;
        for (size_t i = 0; i < g->num_deployments; i++) {
            ok[i] = ok[i] && tier(g->deployments[i]) == best;
            if (ok[i]) {
                n_ok++;
                total += g->deployments[i]->weight;
            }
        }
    }
    if (g->strategy != ROUTE_SIMPLE_SHUFFLE)
        return resolve(g, by_strategy(g, rng, avoid, ok, n_ok, view), model, arena, out, err);
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
