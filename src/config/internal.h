/* SPDX-License-Identifier: MIT
 * Private to src/config: the loading context shared by config.c (public API, parsing),
 * node.c (YAML node helpers, os.environ/ and scalar conversion) and schema.c (the key tables
 * and the walker). Outside src/config only the fuzz target and the unit test include it, for
 * cfg_env_sandbox. */
#ifndef SLUICE_CONFIG_INTERNAL_H
#define SLUICE_CONFIG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "config/config.h"

/* Nodes after alias expansion. A real config has a few thousand; far more means an alias bomb
 * ("billion laughs"), which would otherwise cost exponential time in every walk. */
#define CFG_MAX_NODES 1000000
/* Nesting after alias expansion; also bounds every recursion in this module. */
#define CFG_MAX_DEPTH 64
#define CFG_MAX_FILE_SIZE (16u << 20)
/* Key paths in messages ("model_list[3].litellm_params.rpm"); longer ones are truncated. */
#define CFG_PATH_MAX 256

typedef struct {
    bool error;
    char *text; /* "file:line:col: path: message" */
} cfg_msg_t;

typedef struct {
    yaml_node_t *key, *value;
    bool own; /* written in this mapping, not brought in by a `<<` merge */
} cfg_pair_t;

typedef struct {
    cfg_pair_t *items;
    size_t n, cap;
} cfg_pairs_t;

typedef struct {
    const char *file; /* name used in messages */
    yaml_document_t *doc;
    cfg_msg_t *msgs; /* in the order found */
    size_t num_msgs, cap_msgs;
    size_t num_errors, num_warnings;
    char **once; /* open-addressing set of normalized key paths already warned about */
    size_t once_cap, once_count;
    bool sandbox; /* environment_variables go to `env`, not into the process environment */
    /* cfg_with_models: environment_variables go to `env` too (the first load set them in the
     * process environment already), but lookups still fall back to the process environment */
    bool keep_env;
    bool no_marks;    /* nodes built from JSON: messages carry no line:column */
    size_t skip_msgs; /* the first messages were reported by the first load: not again */
    cfg_kv_t *env;
    size_t num_env;
    size_t cap_deployments;
    int quiet; /* > 0: messages are dropped (a second pass over nodes already reported) */
} cfg_ctx_t;

/* A scalar after os.environ/ resolution. `p` is NUL-terminated at p[n] unless it holds a NUL. */
typedef struct {
    const char *p;
    size_t n;
    const char *env; /* the variable's name when the text came from os.environ/, else NULL */
    bool plain;      /* unquoted in the file, so YAML 1.1 typing (null, yes/no) applies */
} cfg_text_t;

/* Messages. `mark` may be NULL (no position); `path` may be "" (document level). */
void cfg_report(cfg_ctx_t *c, bool error, const yaml_mark_t *mark, const char *path,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void cfg_vreport(cfg_ctx_t *c, bool error, const yaml_mark_t *mark, const char *path,
                 const char *fmt, va_list ap);
/* A warning printed once per key path with list indices removed, so a key repeated in every
 * deployment is reported once. */
void cfg_warn_once(cfg_ctx_t *c, const yaml_mark_t *mark, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cfg_ctx_release(cfg_ctx_t *c);
void cfg_free_fallbacks(cfg_fallback_t *f, size_t n);

/* Nodes */
yaml_node_t *cfg_node(cfg_ctx_t *c, int index);
bool cfg_node_is_null(const yaml_node_t *n);
/* "a list", "a mapping" or the quoted (shortened, sanitized) scalar, for "got ..." messages. */
const char *cfg_node_describe(const yaml_node_t *n, char *out, size_t cap);
void cfg_path_join(char *out, const char *parent, const char *name);
void cfg_path_key(char *out, const char *parent, const yaml_node_t *key);
void cfg_path_index(char *out, const char *parent, size_t index);
/* The key/value pairs of a mapping as PyYAML builds the dict: `<<` merges applied, later
 * duplicates replace earlier values in place. 0, or -1 after reporting an error. */
int cfg_map_pairs(cfg_ctx_t *c, yaml_node_t *map, const char *path, cfg_pairs_t *out);
void cfg_pairs_free(cfg_pairs_t *pairs);
bool cfg_key_is(const yaml_node_t *key, const char *name);
/* Expanded size and depth of the document; reports alias bombs and recursive aliases. */
int cfg_check_size(cfg_ctx_t *c, yaml_node_t *root);

/* Scalars. cfg_resolve_scalar: 1 when `out` holds text, 0 when the value is null or names an
 * unset environment variable (warned), -1 after reporting a type error (`expected` names the
 * type, e.g. "a string"). */
int cfg_resolve_scalar(cfg_ctx_t *c, yaml_node_t *n, const char *path, const char *expected,
                       cfg_text_t *out);
const char *cfg_env_get(cfg_ctx_t *c, const char *name);
void cfg_env_set(cfg_ctx_t *c, const char *name, const char *value);
/* 0 and *out, or -1 when the text is not a finite number. */
int cfg_parse_number(const cfg_text_t *t, double *out);
/* 0 and *out, or -1 when the text is not a YAML boolean word. */
int cfg_parse_bool(const cfg_text_t *t, bool *out);
/* Quotes a value for a message: shortened, control characters replaced. */
const char *cfg_text_describe(const cfg_text_t *t, char *out, size_t cap);

/* A node tree for the JSON value v in doc (objects become mappings, arrays sequences, strings
 * quoted scalars, numbers, booleans and null plain scalars, so YAML's typing reads them as JSON
 * means them). The node's index, or 0 when v nests deeper than CFG_MAX_DEPTH or on no memory. */
int cfg_node_from_json(yaml_document_t *doc, const cJSON *v, int depth);

/* Schema (schema.c) */
void cfg_schema_defaults(cfg_t *cfg);
void cfg_schema_walk(cfg_ctx_t *c, yaml_node_t *root, cfg_t *cfg);
void cfg_schema_apply_environment(cfg_ctx_t *c, yaml_node_t *root);
void cfg_schema_finish(cfg_ctx_t *c, cfg_t *cfg);
/* Appends the model_list entries of the JSON array `models` (cfg_with_models). */
void cfg_schema_add_models(cfg_ctx_t *c, cfg_t *cfg, const cJSON *models);
void cfg_deployment_free(cfg_deployment_t *d);

/* Fuzzing: when on, environment_variables are kept in the load's own overlay (visible to its
 * os.environ/ lookups) instead of being set into the process environment, whose storage glibc
 * never frees. Process-wide; set once before loading. */
void cfg_env_sandbox(bool on);

#endif
