/* SPDX-License-Identifier: MIT
 * The price table: per-deployment prices from config.yaml, the built-in rows (builtin.c) and a
 * LiteLLM-format price file, each catalogue in an open-addressing hash map built once at start-
 * up. After spend_prices_new returns nothing changes, so workers look up without locks, and a
 * lookup hashes slices of the caller's strings: no allocation, no copy, no scan. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "spend/internal.h"
#include "spend/spend.h"

#define SPEND_MAX_FILE (64u << 20) /* LiteLLM's own map is ~1.5 MB */

typedef struct {
    const spend_price_t *price;
    uint64_t hash;
    size_t len;
} spend_slot_t;

/* Keys are price->key; slots is a power of two at most half full; a zero price is empty. */
typedef struct {
    spend_slot_t *slots;
    size_t mask;
    size_t count;
} spend_map_t;

/* What a deployment's config says about its prices (has_*: the key was given). */
typedef struct {
    bool has_input, has_output, has_cache_read, has_cache_creation, has_per_request;
    double input, output, cache_read, cache_creation, per_request;
} spend_override_t;

struct spend_prices {
    const cfg_t *cfg;
    spend_override_t *overrides; /* one per cfg->deployments[i] */
    size_t num_overrides;
    spend_map_t builtin, file;
    spend_price_t *file_rows; /* owns key, provider, mode strings */
    size_t num_file_rows;
    bool shared; /* builtin and file belong to another table (spend_prices_rebind) */
};

/* ---- hashing over slices: "provider/model" is hashed in two parts, never joined ---------- */

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t fnv_add(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* key = a, or a "/" b when b.p is not NULL */
static uint64_t key_hash(str_t a, str_t b)
{
    uint64_t h = fnv_add(FNV_OFFSET, a.p, a.n);
    if (b.p) {
        h = fnv_add(h, "/", 1);
        h = fnv_add(h, b.p, b.n);
    }
    return h;
}

static bool key_eq(const char *key, size_t len, str_t a, str_t b)
{
    if (!b.p)
        return len == a.n && memcmp(key, a.p, a.n) == 0;
    return len == a.n + 1 + b.n && memcmp(key, a.p, a.n) == 0 && key[a.n] == '/' &&
           memcmp(key + a.n + 1, b.p, b.n) == 0;
}

static void map_init(spend_map_t *m, size_t expected)
{
    size_t cap = 16;
    while (cap < expected * 2)
        cap <<= 1;
    m->slots = xcalloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    m->count = 0;
}

static void map_free(spend_map_t *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* Adds `p` under p->key; the first row of a key wins (JSON files may repeat keys). */
static void map_put(spend_map_t *m, const spend_price_t *p)
{
    size_t len = strlen(p->key);
    uint64_t h = key_hash(str_make(p->key, len), STR_NULL);
    for (size_t i = (size_t)h & m->mask;; i = (i + 1) & m->mask) {
        spend_slot_t *s = &m->slots[i];
        if (!s->price) {
            *s = (spend_slot_t){p, h, len};
            m->count++;
            return;
        }
        if (s->hash == h && s->len == len && memcmp(s->price->key, p->key, len) == 0)
            return;
    }
}

static const spend_price_t *map_get(const spend_map_t *m, str_t a, str_t b)
{
    if (!m->slots)
        return NULL;
    uint64_t h = key_hash(a, b);
    for (size_t i = (size_t)h & m->mask;; i = (i + 1) & m->mask) {
        const spend_slot_t *s = &m->slots[i];
        if (!s->price)
            return NULL;
        if (s->hash == h && key_eq(s->price->key, s->len, a, b))
            return s->price;
    }
}

/* ---- matching a catalogue entry to the provider a request goes to ------------------------ */

static bool is_family_sep(char c)
{
    return c == '_' || c == '-';
}

/* LiteLLM names one provider several ways in its cost map: "cohere" and "cohere_chat",
 * "bedrock" and "bedrock_converse", "vertex_ai" and "vertex_ai-language-models",
 * "openai" and "text-completion-openai". Those count as the same; "gemini" and "vertex_ai" do
 * not (different prices). An empty provider on either side matches anything. */
static bool provider_matches(const char *entry, str_t req)
{
    if (!entry || !req.n)
        return true;
    size_t n = strlen(entry);
    if (n == req.n)
        return memcmp(entry, req.p, n) == 0;
    if (n > req.n)
        return (memcmp(entry, req.p, req.n) == 0 && is_family_sep(entry[req.n])) ||
               (memcmp(entry + n - req.n, req.p, req.n) == 0 &&
                is_family_sep(entry[n - req.n - 1]));
    return memcmp(req.p, entry, n) == 0 && is_family_sep(req.p[n]);
}

/* Exact name, then "provider/model", then (for "p/model") the bare model priced for p. */
static const spend_price_t *catalogue_find(const spend_map_t *m, str_t provider, str_t model)
{
    const spend_price_t *p = map_get(m, model, STR_NULL);
    if (p && provider_matches(p->provider, provider))
        return p;
    if (provider.n) {
        p = map_get(m, provider, model);
        if (p && provider_matches(p->provider, provider))
            return p;
    }
    const char *slash = memchr(model.p, '/', model.n);
    if (slash) {
        str_t prefix = str_make(model.p, (size_t)(slash - model.p));
        str_t rest = str_skip(model, prefix.n + 1);
        if (!provider.n || str_eq(prefix, provider)) {
            p = map_get(m, rest, STR_NULL);
            if (p && provider_matches(p->provider, prefix))
                return p;
        }
    }
    return NULL;
}

/* ---- the deployment tier ----------------------------------------------------------------- */

/* A price written in config.yaml: a number, possibly as a string ("3e-7"). */
static bool parse_price(const char *s, double *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || v < 0)
        return false;
    *out = v;
    return true;
}

static void load_overrides(spend_prices_t *t)
{
    const cfg_t *cfg = t->cfg;
    if (!cfg || !cfg->num_deployments)
        return;
    t->overrides = xcalloc(cfg->num_deployments, sizeof *t->overrides);
    t->num_overrides = cfg->num_deployments;
    for (size_t i = 0; i < cfg->num_deployments; i++) {
        const cfg_deployment_t *d = &cfg->deployments[i];
        spend_override_t *o = &t->overrides[i];
        /* config.c has already folded litellm_params' per-token prices into these */
        if (d->input_cost_per_token >= 0) {
            o->has_input = true;
            o->input = d->input_cost_per_token;
        }
        if (d->output_cost_per_token >= 0) {
            o->has_output = true;
            o->output = d->output_cost_per_token;
        }
        o->has_cache_read =
            parse_price(cfg_deployment_param(d, "cache_read_input_token_cost"), &o->cache_read);
        o->has_cache_creation = parse_price(
            cfg_deployment_param(d, "cache_creation_input_token_cost"), &o->cache_creation);
        o->has_per_request =
            parse_price(cfg_deployment_param(d, "input_cost_per_request"), &o->per_request);
    }
}

static const spend_override_t *override_for(const spend_prices_t *t, const cfg_deployment_t *d)
{
    if (!d || !t->cfg || !t->overrides)
        return NULL;
    const cfg_deployment_t *first = t->cfg->deployments;
    if (d < first || d >= first + t->num_overrides)
        return NULL;
    return &t->overrides[d - first];
}

/* ---- the LiteLLM price file -------------------------------------------------------------- */

/* A number, or a number in a string (LiteLLM accepts both). */
static bool json_price(const cJSON *obj, const char *name, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (cJSON_IsNumber(v) && v->valuedouble >= 0) {
        *out = v->valuedouble;
        return true;
    }
    return cJSON_IsString(v) && parse_price(v->valuestring, out);
}

static int64_t json_int(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 9e15
               ? (int64_t)v->valuedouble
               : 0;
}

static char *json_str_dup(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) && v->valuestring ? xstrdup(v->valuestring) : NULL;
}

/* "input_cost_per_token_above_200k_tokens" -> 200000 and "200k"; 0 when the key is not one
 * (service-tier variants like "..._tokens_priority" are not). */
static uint64_t tier_threshold(const char *key, char *label, size_t labeln)
{
    static const char prefix[] = "input_cost_per_token_above_";
    if (strncmp(key, prefix, sizeof prefix - 1) != 0)
        return 0;
    const char *s = key + sizeof prefix - 1, *p = s;
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9' && v < 1000000000ULL)
        v = v * 10 + (uint64_t)(*p++ - '0');
    if (p == s)
        return 0;
    if (*p == 'k') {
        v *= 1000;
        p++;
    }
    if (strcmp(p, "_tokens") != 0 || (size_t)(p - s) >= labeln)
        return 0;
    memcpy(label, s, (size_t)(p - s));
    label[p - s] = '\0';
    return v;
}

/* The long-context tier: the lowest `above_N` threshold the entry declares. Rates it does not
 * declare for the tier stay at the base rate, as in LiteLLM. */
static void load_tier(const cJSON *obj, spend_price_t *p)
{
    char label[24] = "", best[24] = "";
    uint64_t above = 0;
    for (const cJSON *f = obj->child; f; f = f->next) {
        uint64_t v = f->string ? tier_threshold(f->string, label, sizeof label) : 0;
        if (v && (!above || v < above)) {
            above = v;
            memcpy(best, label, sizeof best);
        }
    }
    if (!above)
        return;
    char k[96];
    p->above = above;
    p->input_above = p->input;
    p->output_above = p->output;
    p->cache_read_above = p->cache_read;
    p->cache_creation_above = p->cache_creation;
    snprintf(k, sizeof k, "input_cost_per_token_above_%s_tokens", best);
    json_price(obj, k, &p->input_above);
    snprintf(k, sizeof k, "output_cost_per_token_above_%s_tokens", best);
    json_price(obj, k, &p->output_above);
    snprintf(k, sizeof k, "cache_read_input_token_cost_above_%s_tokens", best);
    json_price(obj, k, &p->cache_read_above);
    snprintf(k, sizeof k, "cache_creation_input_token_cost_above_%s_tokens", best);
    json_price(obj, k, &p->cache_creation_above);
}

static int load_file_json(spend_prices_t *t, const char *json, size_t len, const char *name,
                          char *err, size_t errlen)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = root || !at || at < json || at > json + len ? 0 : (size_t)(at - json);
        snprintf(err, errlen, "%s: not a JSON object of model prices (near byte %zu)", name, off);
        cJSON_Delete(root);
        return -1;
    }
    size_t n = 0;
    for (const cJSON *e = root->child; e; e = e->next)
        n++;
    t->file_rows = xcalloc(n ? n : 1, sizeof *t->file_rows);
    for (const cJSON *e = root->child; e; e = e->next) {
        if (!cJSON_IsObject(e) || !e->string || !*e->string || !strcmp(e->string, "sample_spec"))
            continue;
        spend_price_t p = {0};
        bool has_in = json_price(e, "input_cost_per_token", &p.input);
        bool has_out = json_price(e, "output_cost_per_token", &p.output);
        bool has_req = json_price(e, "input_cost_per_request", &p.per_request);
        if (!has_in && !has_out && !has_req)
            continue; /* priced per image, second, character...: not something sluice bills */
        json_price(e, "cache_read_input_token_cost", &p.cache_read);
        json_price(e, "cache_creation_input_token_cost", &p.cache_creation);
        p.free = has_in && has_out && p.input == 0 && p.output == 0 && p.per_request == 0;
        load_tier(e, &p);
        p.max_input_tokens = json_int(e, "max_input_tokens");
        p.max_output_tokens = json_int(e, "max_output_tokens");
        if (!p.max_output_tokens)
            p.max_output_tokens = json_int(e, "max_tokens");
        p.source = SPEND_SOURCE_FILE;
        p.key = xstrdup(e->string);
        p.provider = json_str_dup(e, "litellm_provider");
        p.mode = json_str_dup(e, "mode");
        t->file_rows[t->num_file_rows++] = p;
    }
    cJSON_Delete(root);

    map_init(&t->file, t->num_file_rows);
    for (size_t i = 0; i < t->num_file_rows; i++)
        map_put(&t->file, &t->file_rows[i]);
    return 0;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap >= SPEND_MAX_FILE) {
                snprintf(err, errlen, "%s: larger than %u MB", path, SPEND_MAX_FILE >> 20);
                goto fail;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "%s: read error", path);
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    *len = n;
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

/* ---- public face ------------------------------------------------------------------------- */

static spend_prices_t *prices_new(const cfg_t *cfg)
{
    spend_prices_t *t = xcalloc(1, sizeof *t);
    t->cfg = cfg;
    load_overrides(t);
    map_init(&t->builtin, spend_builtin_num_rows);
    for (size_t i = 0; i < spend_builtin_num_rows; i++)
        map_put(&t->builtin, &spend_builtin_rows[i]);
    return t;
}

spend_prices_t *spend_prices_new_from_json(const cfg_t *cfg, const char *json, size_t len,
                                           char *err, size_t errlen)
{
    spend_prices_t *t = prices_new(cfg);
    if (json && load_file_json(t, json, len, "price JSON", err, errlen) < 0) {
        spend_prices_free(t);
        return NULL;
    }
    return t;
}

spend_prices_t *spend_prices_new(const cfg_t *cfg, const char *json_path, char *err, size_t errlen)
{
    spend_prices_t *t = prices_new(cfg);
    if (json_path) {
        size_t len = 0;
        char *json = read_file(json_path, &len, err, errlen);
        int rc = json ? load_file_json(t, json, len, json_path, err, errlen) : -1;
        free(json);
        if (rc < 0) {
            spend_prices_free(t);
            return NULL;
        }
    }
    return t;
}

spend_prices_t *spend_prices_rebind(const spend_prices_t *base, const cfg_t *cfg)
{
    if (!base)
        return NULL;
    spend_prices_t *t = xcalloc(1, sizeof *t);
    t->cfg = cfg;
    load_overrides(t);
    t->builtin = base->builtin; /* immutable: the slots are read, never written */
    t->file = base->file;
    t->shared = true;
    return t;
}

void spend_prices_free(spend_prices_t *t)
{
    if (!t)
        return;
    if (t->shared) {
        free(t->overrides);
        free(t);
        return;
    }
    for (size_t i = 0; i < t->num_file_rows; i++) {
        free((char *)t->file_rows[i].key);
        free((char *)t->file_rows[i].provider);
        free((char *)t->file_rows[i].mode);
    }
    free(t->file_rows);
    map_free(&t->builtin);
    map_free(&t->file);
    free(t->overrides);
    free(t);
}

size_t spend_prices_builtin_count(const spend_prices_t *t)
{
    return t ? t->builtin.count : 0;
}

size_t spend_prices_file_count(const spend_prices_t *t)
{
    return t ? t->file.count : 0;
}

bool spend_price_lookup(const spend_prices_t *t, const cfg_deployment_t *d, str_t provider,
                        str_t model, spend_price_t *out)
{
    if (!t || !out)
        return false;
    const spend_override_t *o = override_for(t, d);
    const spend_price_t *base = NULL;
    if (model.n) {
        base = catalogue_find(&t->builtin, provider, model);
        if (base) {
            *out = *base;
            out->source = SPEND_SOURCE_BUILTIN;
        } else if ((base = catalogue_find(&t->file, provider, model)))
            *out = *base;
    }
    bool own = o && (o->has_input || o->has_output || o->has_per_request);
    if (!base && !own)
        return false;
    if (!base) {
        *out = (spend_price_t){0};
        out->provider = d->provider && *d->provider ? d->provider : NULL;
        out->mode = d->mode;
    }
    if (!o)
        return true;

    /* the deployment's prices win field by field (LiteLLM: model_info overrides the cost map) */
    if (o->has_input || o->has_output) {
        if (o->has_input)
            out->input = o->input;
        if (o->has_output)
            out->output = o->output;
        /* a custom price is a flat price: the catalogue's long-context tier no longer applies */
        out->above = 0;
        out->free = o->has_input && o->has_output && o->input == 0 && o->output == 0;
        out->source = SPEND_SOURCE_DEPLOYMENT;
    }
    if (o->has_cache_read) {
        out->cache_read = o->cache_read;
        out->source = SPEND_SOURCE_DEPLOYMENT;
    }
    if (o->has_cache_creation) {
        out->cache_creation = o->cache_creation;
        out->source = SPEND_SOURCE_DEPLOYMENT;
    }
    if (o->has_per_request) {
        out->per_request = o->per_request;
        out->source = SPEND_SOURCE_DEPLOYMENT;
    }
    return true;
}

bool spend_price_for_deployment(const spend_prices_t *t, const cfg_deployment_t *d,
                                spend_price_t *out)
{
    if (!d)
        return false;
    str_t model = str_cstr(d->provider_model ? d->provider_model : d->model);
    if (memchr(model.p, '*', model.n))
        model = STR_NULL; /* a pattern has no price of its own; look up the request's model */
    return spend_price_lookup(t, d, str_cstr(d->provider), model, out);
}
