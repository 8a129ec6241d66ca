/* SPDX-License-Identifier: MIT
 * YAML node helpers for the config loader: messages with file:line:col, key paths, `<<` merge
 * keys with PyYAML's semantics, the alias-bomb guard, os.environ/ and scalar typing. No
 * knowledge of which keys exist; that is schema.c. */
#include "config/internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"

static const char CFG_ENV_PREFIX[] = "os.environ/";

/* ---- messages ---------------------------------------------------------------------------- */

static char *cfg_vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return xstrdup("(unprintable message)");
    char *s = xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

static char *cfg_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *cfg_format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = cfg_vformat(fmt, ap);
    va_end(ap);
    return s;
}

void cfg_vreport(cfg_ctx_t *c, bool error, const yaml_mark_t *mark, const char *path,
                 const char *fmt, va_list ap)
{
    if (c->quiet)
        return;
    char *msg = cfg_vformat(fmt, ap);
    char where[64] = "";
    if (mark && !c->no_marks)
        snprintf(where, sizeof(where), "%zu:%zu:", mark->line + 1, mark->column + 1);
    char *text = cfg_format("%s:%s %s%s%s", c->file, where, path, *path ? ": " : "", msg);
    free(msg);
    if (c->num_msgs == c->cap_msgs) {
        c->cap_msgs = c->cap_msgs ? c->cap_msgs * 2 : 16;
        c->msgs = xrealloc(c->msgs, c->cap_msgs * sizeof(*c->msgs));
    }
    c->msgs[c->num_msgs++] = (cfg_msg_t){error, text};
    if (error)
        c->num_errors++;
    else
        c->num_warnings++;
}

void cfg_report(cfg_ctx_t *c, bool error, const yaml_mark_t *mark, const char *path,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cfg_vreport(c, error, mark, path, fmt, ap);
    va_end(ap);
}

static uint64_t cfg_hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Inserts into the set of warned paths; false when it was already there. */
static bool cfg_once_insert(cfg_ctx_t *c, const char *key)
{
    if ((c->once_count + 1) * 2 > c->once_cap) {
        size_t cap = c->once_cap ? c->once_cap * 2 : 64;
        char **slots = xcalloc(cap, sizeof(*slots));
        for (size_t i = 0; i < c->once_cap; i++) {
            if (!c->once[i])
                continue;
            size_t j = cfg_hash_bytes(c->once[i], strlen(c->once[i])) & (cap - 1);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = c->once[i];
        }
        free(c->once);
        c->once = slots;
        c->once_cap = cap;
    }
    size_t j = cfg_hash_bytes(key, strlen(key)) & (c->once_cap - 1);
    while (c->once[j]) {
        if (strcmp(c->once[j], key) == 0)
            return false;
        j = (j + 1) & (c->once_cap - 1);
    }
    c->once[j] = xstrdup(key);
    c->once_count++;
    return true;
}

void cfg_warn_once(cfg_ctx_t *c, const yaml_mark_t *mark, const char *path, const char *fmt, ...)
{
    if (c->quiet)
        return;
    /* "model_list[3].litellm_params.foo" and "model_list[4]..." are one key */
    char norm[CFG_PATH_MAX];
    size_t o = 0;
    for (const char *s = path; *s && o + 1 < sizeof(norm); s++) {
        if (*s == '[') {
            while (*s && *s != ']')
                s++;
            if (!*s)
                break;
            continue;
        }
        norm[o++] = *s;
    }
    norm[o] = '\0';
    if (!cfg_once_insert(c, norm))
        return;
    va_list ap;
    va_start(ap, fmt);
    cfg_vreport(c, false, mark, path, fmt, ap);
    va_end(ap);
}

void cfg_ctx_release(cfg_ctx_t *c)
{
    for (size_t i = 0; i < c->num_msgs; i++)
        free(c->msgs[i].text);
    free(c->msgs);
    for (size_t i = 0; i < c->once_cap; i++)
        free(c->once[i]);
    free(c->once);
    for (size_t i = 0; i < c->num_env; i++) {
        free(c->env[i].name);
        free(c->env[i].value);
    }
    free(c->env);
    c->msgs = NULL;
    c->num_msgs = c->cap_msgs = 0;
    c->once = NULL;
    c->once_cap = c->once_count = 0;
    c->env = NULL;
    c->num_env = 0;
}

/* ---- nodes and paths --------------------------------------------------------------------- */

yaml_node_t *cfg_node(cfg_ctx_t *c, int index)
{
    return yaml_document_get_node(c->doc, index);
}

static bool cfg_scalar_is(const yaml_node_t *n, const char *s)
{
    size_t len = strlen(s);
    return n->type == YAML_SCALAR_NODE && n->data.scalar.length == len &&
           memcmp(n->data.scalar.value, s, len) == 0;
}

bool cfg_key_is(const yaml_node_t *key, const char *name)
{
    return cfg_scalar_is(key, name);
}

static bool cfg_text_is_null(const char *p, size_t n)
{
    /* YAML 1.1 (PyYAML) null: empty, ~, null, Null, NULL */
    return n == 0 || (n == 1 && p[0] == '~') ||
           (n == 4 && (!memcmp(p, "null", 4) || !memcmp(p, "Null", 4) || !memcmp(p, "NULL", 4)));
}

bool cfg_node_is_null(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           cfg_text_is_null((const char *)n->data.scalar.value, n->data.scalar.length);
}

/* Copies at most `max` characters of p[0..n) into out for a message; control bytes become '?'. */
static void cfg_sanitize(char *out, size_t cap, const char *p, size_t n, size_t max)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < cap; i++) {
        if (i == max) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char ch = (unsigned char)p[i];
        out[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    out[o] = '\0';
}

const char *cfg_text_describe(const cfg_text_t *t, char *out, size_t cap)
{
    char tmp[64];
    cfg_sanitize(tmp, sizeof(tmp), t->p, t->n, 40);
    snprintf(out, cap, "'%s'", tmp);
    return out;
}

const char *cfg_node_describe(const yaml_node_t *n, char *out, size_t cap)
{
    if (n->type == YAML_SEQUENCE_NODE)
        snprintf(out, cap, "a list");
    else if (n->type == YAML_MAPPING_NODE)
        snprintf(out, cap, "a mapping");
    else if (cfg_node_is_null(n))
        snprintf(out, cap, "nothing (null)");
    else {
        cfg_text_t t = {(const char *)n->data.scalar.value, n->data.scalar.length, NULL, false};
        cfg_text_describe(&t, out, cap);
    }
    return out;
}

/* Copies `parent`, `sep` and `name` into out[CFG_PATH_MAX], truncating. */
static void cfg_path_build(char *out, const char *parent, const char *sep, const char *name)
{
    size_t o = 0;
    const char *parts[3] = {parent, sep, name};
    for (size_t i = 0; i < 3; i++)
        for (const char *s = parts[i]; *s && o + 1 < CFG_PATH_MAX; s++)
            out[o++] = *s;
    out[o] = '\0';
}

void cfg_path_join(char *out, const char *parent, const char *name)
{
    cfg_path_build(out, parent, *parent ? "." : "", name);
}

void cfg_path_key(char *out, const char *parent, const yaml_node_t *key)
{
    char name[CFG_PATH_MAX] = "?";
    if (key->type == YAML_SCALAR_NODE)
        cfg_sanitize(name, sizeof(name), (const char *)key->data.scalar.value,
                     key->data.scalar.length, 80);
    cfg_path_join(out, parent, name);
}

void cfg_path_index(char *out, const char *parent, size_t index)
{
    char num[32];
    snprintf(num, sizeof(num), "[%zu]", index);
    cfg_path_build(out, parent, "", num);
}

/* ---- mappings and merge keys ------------------------------------------------------------- */

static void cfg_pairs_push(cfg_pairs_t *ps, cfg_pair_t p)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 16;
        ps->items = xrealloc(ps->items, ps->cap * sizeof(*ps->items));
    }
    ps->items[ps->n++] = p;
}

void cfg_pairs_free(cfg_pairs_t *pairs)
{
    free(pairs->items);
    *pairs = (cfg_pairs_t){0};
}

static bool cfg_is_merge_key(const yaml_node_t *key)
{
    return key->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && cfg_scalar_is(key, "<<");
}

/* Appends the pairs of `map` in PyYAML's flatten_mapping order: merged pairs first (the items
 * of a merged list in reverse, so earlier ones win), then the mapping's own pairs. */
static int cfg_flatten(cfg_ctx_t *c, yaml_node_t *map, const char *path, cfg_pairs_t *raw, bool own,
                       int depth)
{
    if (depth > CFG_MAX_DEPTH)
        return -1; /* cfg_check_size has reported it */
    yaml_node_pair_t *pp;
    for (pp = map->data.mapping.pairs.start; pp < map->data.mapping.pairs.top; pp++) {
        yaml_node_t *k = cfg_node(c, pp->key), *v = cfg_node(c, pp->value);
        if (!k || !v || !cfg_is_merge_key(k))
            continue;
        if (v->type == YAML_MAPPING_NODE) {
            if (cfg_flatten(c, v, path, raw, false, depth + 1) < 0)
                return -1;
            continue;
        }
        if (v->type == YAML_SEQUENCE_NODE) {
            yaml_node_item_t *it = v->data.sequence.items.top;
            while (it > v->data.sequence.items.start) {
                yaml_node_t *m = cfg_node(c, *--it);
                if (!m || m->type != YAML_MAPPING_NODE) {
                    cfg_report(c, true, m ? &m->start_mark : &v->start_mark, path,
                               "a list after '<<' must hold only mappings");
                    return -1;
                }
                if (cfg_flatten(c, m, path, raw, false, depth + 1) < 0)
                    return -1;
            }
            continue;
        }
        char got[64];
        cfg_report(c, true, &v->start_mark, path,
                   "'<<' (merge key) expects a mapping or a list of mappings, got %s",
                   cfg_node_describe(v, got, sizeof(got)));
        return -1;
    }
    for (pp = map->data.mapping.pairs.start; pp < map->data.mapping.pairs.top; pp++) {
        yaml_node_t *k = cfg_node(c, pp->key), *v = cfg_node(c, pp->value);
        if (k && v && !cfg_is_merge_key(k))
            cfg_pairs_push(raw, (cfg_pair_t){k, v, own});
    }
    return 0;
}

int cfg_map_pairs(cfg_ctx_t *c, yaml_node_t *map, const char *path, cfg_pairs_t *out)
{
    *out = (cfg_pairs_t){0};
    cfg_pairs_t raw = {0};
    if (cfg_flatten(c, map, path, &raw, true, 0) < 0) {
        cfg_pairs_free(&raw);
        return -1;
    }
    /* dict semantics: a repeated key keeps its first position and takes the last value */
    size_t cap = 16;
    while (cap < raw.n * 2)
        cap *= 2;
    size_t *slots = xmalloc(cap * sizeof(*slots)); /* index + 1 into out; 0 = empty */
    memset(slots, 0, cap * sizeof(*slots));
    for (size_t i = 0; i < raw.n; i++) {
        cfg_pair_t p = raw.items[i];
        if (p.key->type != YAML_SCALAR_NODE) {
            cfg_pairs_push(out, p);
            continue;
        }
        const char *kp = (const char *)p.key->data.scalar.value;
        size_t kn = p.key->data.scalar.length;
        size_t j = cfg_hash_bytes(kp, kn) & (cap - 1);
        for (; slots[j]; j = (j + 1) & (cap - 1)) {
            cfg_pair_t *q = &out->items[slots[j] - 1];
            if (q->key->data.scalar.length == kn && memcmp(q->key->data.scalar.value, kp, kn) == 0)
                break;
        }
        if (!slots[j]) {
            cfg_pairs_push(out, p);
            slots[j] = out->n;
            continue;
        }
        cfg_pair_t *q = &out->items[slots[j] - 1];
        if (q->own && p.own) {
            char kpath[CFG_PATH_MAX];
            cfg_path_key(kpath, path, p.key);
            cfg_report(c, false, &p.key->start_mark, kpath,
                       "duplicate key; the last value is used");
        }
        q->value = p.value;
        q->own = q->own || p.own;
    }
    free(slots);
    cfg_pairs_free(&raw);
    return 0;
}

/* ---- nodes from JSON --------------------------------------------------------------------- */

int cfg_node_from_json(yaml_document_t *doc, const cJSON *v, int depth)
{
    if (depth >= CFG_MAX_DEPTH)
        return 0;
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        bool map = cJSON_IsObject(v);
        int node = map ? yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE)
                       : yaml_document_add_sequence(doc, NULL, YAML_BLOCK_SEQUENCE_STYLE);
        for (const cJSON *it = v->child; node && it; it = it->next) {
            int value = cfg_node_from_json(doc, it, depth + 1);
            if (!value)
                return 0;
            if (!map) {
                if (!yaml_document_append_sequence_item(doc, node, value))
                    return 0;
                continue;
            }
            int key = yaml_document_add_scalar(doc, NULL, (yaml_char_t *)it->string, -1,
                                               YAML_DOUBLE_QUOTED_SCALAR_STYLE);
            if (!key || !yaml_document_append_mapping_pair(doc, node, key, value))
                return 0;
        }
        return node;
    }
    if (cJSON_IsString(v))
        return yaml_document_add_scalar(doc, NULL, (yaml_char_t *)v->valuestring, -1,
                                        YAML_DOUBLE_QUOTED_SCALAR_STYLE);
    const char *word = cJSON_IsTrue(v) ? "true" : cJSON_IsFalse(v) ? "false" : "null";
    char *num = cJSON_IsNumber(v) ? cJSON_PrintUnformatted(v) : NULL;
    if (cJSON_IsNumber(v) && !num)
        return 0;
    int node = yaml_document_add_scalar(doc, NULL, (yaml_char_t *)(num ? num : word), -1,
                                        YAML_PLAIN_SCALAR_STYLE);
    cJSON_free(num);
    return node;
}

/* ---- alias bombs ------------------------------------------------------------------------- */

typedef struct {
    size_t size;         /* nodes in the expanded subtree */
    unsigned height;     /* levels in the expanded subtree */
    unsigned char state; /* 0 new, 1 on the current path, 2 measured */
} cfg_measure_t;

/* Measures each distinct node once, so a bomb costs time linear in the file, not in its
 * expansion. Returns the expanded size, or 0 after reporting an error. */
static size_t cfg_measure(cfg_ctx_t *c, cfg_measure_t *info, yaml_node_t *n, unsigned depth)
{
    cfg_measure_t *m = &info[n - c->doc->nodes.start];
    if (m->state == 1) {
        cfg_report(c, true, &n->start_mark, "", "an alias refers to a node that contains it");
        return 0;
    }
    if (m->state == 2) {
        if (depth + m->height > CFG_MAX_DEPTH) {
            cfg_report(c, true, &n->start_mark, "",
                       "nested more than %d levels deep (after expanding aliases)", CFG_MAX_DEPTH);
            return 0;
        }
        return m->size;
    }
    if (depth >= CFG_MAX_DEPTH) {
        cfg_report(c, true, &n->start_mark, "",
                   "nested more than %d levels deep (after expanding aliases)", CFG_MAX_DEPTH);
        return 0;
    }
    m->state = 1;
    size_t size = 1;
    unsigned height = 1;
    int children[2];
    size_t nchildren = 0;
    void *it, *end;
    if (n->type == YAML_SEQUENCE_NODE) {
        it = n->data.sequence.items.start;
        end = n->data.sequence.items.top;
    } else if (n->type == YAML_MAPPING_NODE) {
        it = n->data.mapping.pairs.start;
        end = n->data.mapping.pairs.top;
    } else {
        it = end = NULL;
    }
    while (it != end) {
        if (n->type == YAML_SEQUENCE_NODE) {
            yaml_node_item_t *item = it;
            children[0] = *item;
            nchildren = 1;
            it = item + 1;
        } else {
            yaml_node_pair_t *pair = it;
            children[0] = pair->key;
            children[1] = pair->value;
            nchildren = 2;
            it = pair + 1;
        }
        for (size_t i = 0; i < nchildren; i++) {
            yaml_node_t *child = cfg_node(c, children[i]);
            if (!child)
                continue;
            size_t s = cfg_measure(c, info, child, depth + 1);
            if (s == 0)
                return 0;
            size += s;
            cfg_measure_t *cm = &info[child - c->doc->nodes.start];
            if (cm->height + 1 > height)
                height = cm->height + 1;
            if (size > CFG_MAX_NODES) {
                cfg_report(c, true, &n->start_mark, "",
                           "aliases expand to more than %d nodes; refusing a possible alias "
                           "bomb",
                           CFG_MAX_NODES);
                return 0;
            }
        }
    }
    m->state = 2;
    m->size = size;
    m->height = height;
    return size;
}

int cfg_check_size(cfg_ctx_t *c, yaml_node_t *root)
{
    size_t count = (size_t)(c->doc->nodes.top - c->doc->nodes.start);
    cfg_measure_t *info = xcalloc(count, sizeof(*info));
    size_t size = cfg_measure(c, info, root, 0);
    free(info);
    return size ? 0 : -1;
}

/* ---- scalars ----------------------------------------------------------------------------- */

const char *cfg_env_get(cfg_ctx_t *c, const char *name)
{
    for (size_t i = c->num_env; i-- > 0;)
        if (strcmp(c->env[i].name, name) == 0)
            return c->env[i].value;
    return c->sandbox ? NULL : getenv(name);
}

void cfg_env_set(cfg_ctx_t *c, const char *name, const char *value)
{
    if (!c->sandbox && !c->keep_env) {
        setenv(name, value, 1);
        return;
    }
    c->env = xrealloc(c->env, (c->num_env + 1) * sizeof(*c->env));
    c->env[c->num_env++] = (cfg_kv_t){xstrdup(name), xstrdup(value)};
}

int cfg_resolve_scalar(cfg_ctx_t *c, yaml_node_t *n, const char *path, const char *expected,
                       cfg_text_t *out)
{
    char got[64];
    if (n->type != YAML_SCALAR_NODE) {
        cfg_report(c, true, &n->start_mark, path, "expected %s, got %s", expected,
                   cfg_node_describe(n, got, sizeof(got)));
        return -1;
    }
    if (cfg_node_is_null(n))
        return 0;
    const char *p = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    size_t plen = sizeof(CFG_ENV_PREFIX) - 1;
    *out = (cfg_text_t){p, len, NULL, n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE};
    if (len < plen || memcmp(p, CFG_ENV_PREFIX, plen) != 0)
        return 1;
    const char *name = p + plen;
    if (len == plen || strlen(name) != len - plen) {
        cfg_report(c, true, &n->start_mark, path, "os.environ/ needs a variable name");
        return -1;
    }
    const char *value = cfg_env_get(c, name);
    if (!value) {
        /* LiteLLM resolves a missing variable to None: the key counts as unset */
        cfg_report(c, false, &n->start_mark, path,
                   "environment variable %s is not set (os.environ/%s); left unset", name, name);
        return 0;
    }
    *out = (cfg_text_t){value, strlen(value), name, false};
    return 1;
}

int cfg_parse_number(const cfg_text_t *t, double *out)
{
    char tmp[64];
    size_t o = 0;
    if (t->n == 0 || t->n >= sizeof(tmp))
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        if (t->p[i] == '\0')
            return -1;
        if (t->p[i] == '_' && t->plain && o > 0) /* YAML 1.1 digit separators: 1_000 */
            continue;
        tmp[o++] = t->p[i];
    }
    tmp[o] = '\0';
    /* strtod also takes " 5", "0x1p3", "inf" and "nan"; only plain decimals are numbers here */
    for (size_t i = 0; i < o; i++) {
        char ch = tmp[i];
        if (!((ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '+' || ch == 'e' ||
              ch == 'E'))
            return -1;
    }
    char *end;
    double v = strtod(tmp, &end);
    if (end == tmp || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int cfg_parse_bool(const cfg_text_t *t, bool *out)
{
    /* PyYAML's YAML 1.1 words, plus 1/0 which Python treats the same way */
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON",  "1"};
    static const char *const no[] = {"false", "False", "FALSE", "no",  "No",
                                     "NO",    "off",   "Off",   "OFF", "0"};
    for (size_t i = 0; i < COUNTOF(yes); i++) {
        if (t->n == strlen(yes[i]) && memcmp(t->p, yes[i], t->n) == 0) {
            *out = true;
            return 0;
        }
        if (t->n == strlen(no[i]) && memcmp(t->p, no[i], t->n) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}
