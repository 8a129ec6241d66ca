/* SPDX-License-Identifier: MIT
 * The config module's entry points: read the file, parse it with libyaml into a node tree,
 * refuse alias bombs, apply environment_variables, then let schema.c fill the cfg_t. Every
 * problem is collected (not just the first), in file order, for cfg_check and the caller. */
#include "config/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"

static bool cfg_sandbox_on;

void cfg_env_sandbox(bool on)
{
    cfg_sandbox_on = on;
}

static void cfg_report_yaml_error(cfg_ctx_t *c, const yaml_parser_t *p, const char *text,
                                  size_t len)
{
    yaml_mark_t mark = p->problem_mark;
    if (p->error == YAML_MEMORY_ERROR) {
        cfg_report(c, true, NULL, "", "out of memory while parsing YAML");
        return;
    }
    if (p->error == YAML_READER_ERROR) {
        /* reader errors (bad UTF-8, control characters) carry only a byte offset */
        mark = (yaml_mark_t){0};
        for (size_t i = 0; i < p->problem_offset && i < len; i++) {
            if (text[i] == '\n') {
                mark.line++;
                mark.column = 0;
            } else {
                mark.column++;
            }
        }
    }
    const char *problem = p->problem ? p->problem : "unknown error";
    if (p->context)
        cfg_report(c, true, &mark, "", "invalid YAML: %s (%s at line %zu, column %zu)", problem,
                   p->context, p->context_mark.line + 1, p->context_mark.column + 1);
    else
        cfg_report(c, true, &mark, "", "invalid YAML: %s", problem);
}

/* Parses and validates `text`; NULL when any error was reported into `c`. A first load keeps
 * the text; cfg_with_models (`models` not NULL) appends the models to what the text gives. */
static cfg_t *cfg_parse(cfg_ctx_t *c, const char *text, size_t len, const cJSON *models)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    bool have_doc = false;
    cfg_t *cfg = NULL;
    char got[80];

    if (!yaml_parser_initialize(&parser)) {
        cfg_report(c, true, NULL, "", "out of memory while parsing YAML");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) { /* libyaml frees the partial document */
        cfg_report_yaml_error(c, &parser, text, len);
        goto done;
    }
    have_doc = true;
    c->doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root) {
        /* PyYAML's safe_load refuses a stream of several documents; so does sluice */
        if (!yaml_parser_load(&parser, &extra)) {
            cfg_report_yaml_error(c, &parser, text, len);
            goto done;
        }
        if (yaml_document_get_root_node(&extra))
            cfg_report(c, true, &extra.start_mark, "",
                       "a second YAML document ('---') follows; the config must be one document");
        yaml_document_delete(&extra);
    }

    cfg = xcalloc(1, sizeof(*cfg));
    cfg->path = xstrdup(c->file);
    if (!models) {
        cfg->source = xmalloc(len + 1);
        memcpy(cfg->source, text, len);
        cfg->source[len] = '\0';
        cfg->source_len = len;
    }
    cfg_schema_defaults(cfg);
    if (c->num_errors)
        goto done;
    if (root && !cfg_node_is_null(root)) {
        if (root->type != YAML_MAPPING_NODE) {
            cfg_report(c, true, &root->start_mark, "",
                       "expected a mapping of sections (model_list, litellm_settings, ...), got %s",
                       cfg_node_describe(root, got, sizeof(got)));
            goto done;
        }
        if (cfg_check_size(c, root) < 0)
            goto done;
        cfg_schema_apply_environment(c, root);
        cfg_schema_walk(c, root, cfg);
    }
    cfg_schema_finish(c, cfg);
    if (models && !c->num_errors) {
        c->skip_msgs = c->num_msgs; /* the first load reported the file's warnings */
        cfg_schema_add_models(c, cfg, models);
    }

done:
    if (have_doc)
        yaml_document_delete(&doc);
    c->doc = NULL;
    yaml_parser_delete(&parser);
    if (c->num_errors) {
        cfg_free(cfg);
        cfg = NULL;
    }
    return cfg;
}

/* Reads the whole file; NULL after reporting why not. */
static char *cfg_read_file(cfg_ctx_t *c, const char *path, size_t *len)
{
    static const yaml_mark_t start = {0, 0, 0};
    FILE *f = fopen(path, "rb");
    if (!f) {
        cfg_report(c, true, &start, "", "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t n = 0, cap = 4096;
    char *text = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap > CFG_MAX_FILE_SIZE) {
                cfg_report(c, true, &start, "", "larger than %u MiB; not a config file",
                           CFG_MAX_FILE_SIZE >> 20);
                goto fail;
            }
            cap *= 2;
            text = xrealloc(text, cap);
        }
        size_t got = fread(text + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        cfg_report(c, true, &start, "", "cannot read: %s", strerror(errno));
        goto fail;
    }
    fclose(f);
    *len = n;
    return text;
fail:
    fclose(f);
    free(text);
    return NULL;
}

/* Moves the collected messages into `diag` (which may be NULL). */
static void cfg_fill_diag(cfg_ctx_t *c, cfg_diag_t *diag)
{
    if (!diag)
        return;
    *diag = (cfg_diag_t){0};
    if (c->num_errors)
        diag->errors = xcalloc(c->num_errors, sizeof(char *));
    if (c->num_warnings)
        diag->warnings = xcalloc(c->num_warnings, sizeof(char *));
    if (c->num_errors)
        c->skip_msgs = 0; /* a failed load shows everything */
    for (size_t i = c->skip_msgs; i < c->num_msgs; i++) {
        if (c->msgs[i].error)
            diag->errors[diag->num_errors++] = c->msgs[i].text;
        else
            diag->warnings[diag->num_warnings++] = c->msgs[i].text;
        c->msgs[i].text = NULL;
    }
}

static cfg_t *cfg_load_file(cfg_ctx_t *c, const char *path)
{
    size_t len = 0;
    char *text = cfg_read_file(c, path, &len);
    if (!text)
        return NULL;
    cfg_t *cfg = cfg_parse(c, text, len, NULL);
    free(text);
    return cfg;
}

cfg_t *cfg_load(const char *path, cfg_diag_t *diag)
{
    cfg_ctx_t c = {.file = path, .sandbox = cfg_sandbox_on};
    cfg_t *cfg = cfg_load_file(&c, path);
    cfg_fill_diag(&c, diag);
    cfg_ctx_release(&c);
    return cfg;
}

cfg_t *cfg_load_string(const char *name, const char *text, size_t len, cfg_diag_t *diag)
{
    cfg_ctx_t c = {.file = name ? name : "<string>", .sandbox = cfg_sandbox_on};
    cfg_t *cfg = cfg_parse(&c, text, len, NULL);
    cfg_fill_diag(&c, diag);
    cfg_ctx_release(&c);
    return cfg;
}

cfg_t *cfg_with_models(const cfg_t *base, const cJSON *models, cfg_diag_t *diag)
{
    static const cJSON none = {.type = cJSON_Array}; /* no models: an empty list */
    cfg_ctx_t c = {.file = base->path, .sandbox = cfg_sandbox_on, .keep_env = true};
    cfg_t *cfg = NULL;
    if (!base->source)
        cfg_report(&c, true, NULL, "",
                   "no source text to load again (a config made by "
                   "cfg_with_models)");
    else
        cfg = cfg_parse(&c, base->source, base->source_len, models ? models : &none);
    cfg_fill_diag(&c, diag);
    cfg_ctx_release(&c);
    return cfg;
}

void cfg_free(cfg_t *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->num_deployments; i++)
        cfg_deployment_free(&cfg->deployments[i]);
    free(cfg->deployments);
    free(cfg->path);
    free(cfg->source);
    free(cfg->master_key);
    free(cfg->database_url);
    free(cfg->routing_strategy);
    free(cfg->token_rate_limit_type);
    free(cfg->max_end_user_budget_id);
    cfg_free_fallbacks(cfg->fallbacks, cfg->num_fallbacks);
    cfg_free_fallbacks(cfg->context_window_fallbacks, cfg->num_context_window_fallbacks);
    cfg_free_fallbacks(cfg->content_policy_fallbacks, cfg->num_content_policy_fallbacks);
    for (size_t i = 0; i < cfg->num_default_fallbacks; i++)
        free(cfg->default_fallbacks[i]);
    free(cfg->default_fallbacks);
    for (size_t i = 0; i < cfg->num_group_aliases; i++) {
        free(cfg->group_aliases[i].alias);
        free(cfg->group_aliases[i].group);
    }
    free(cfg->group_aliases);
    for (size_t i = 0; i < cfg->num_group_retry_policies; i++)
        free(cfg->group_retry_policies[i].group);
    free(cfg->group_retry_policies);
    free(cfg->router_redis_host);
    free(cfg->router_redis_password);
    free(cfg->router_redis_url);
    free(cfg->cache_type);
    free(cfg->cache_host);
    free(cfg->cache_password);
    free(cfg->cache_username);
    free(cfg->cache_url);
    free(cfg->cache_namespace);
    free(cfg);
}

long long cfg_deployment_max_parallel(const cfg_t *cfg, const cfg_deployment_t *d)
{
    if (d->max_parallel_requests > 0)
        return d->max_parallel_requests;
    if (d->rpm > 0)
        return d->rpm;
    if (d->tpm > 0) {
        long long n = (long long)((double)d->tpm / 1000 * 6);
        return n > 0 ? n : 1;
    }
    if (cfg->default_max_parallel_requests > 0)
        return cfg->default_max_parallel_requests;
    return cfg->max_parallel_requests > 0 ? cfg->max_parallel_requests : 0;
}

void cfg_diag_free(cfg_diag_t *diag)
{
    if (!diag)
        return;
    for (size_t i = 0; i < diag->num_errors; i++)
        free(diag->errors[i]);
    for (size_t i = 0; i < diag->num_warnings; i++)
        free(diag->warnings[i]);
    free(diag->errors);
    free(diag->warnings);
    *diag = (cfg_diag_t){0};
}

int cfg_check(const char *path, FILE *out)
{
    cfg_ctx_t c = {.file = path, .sandbox = cfg_sandbox_on};
    cfg_t *cfg = cfg_load_file(&c, path);
    for (size_t i = 0; i < c.num_msgs; i++)
        fprintf(out, "%s: %s\n", c.msgs[i].error ? "error" : "warning", c.msgs[i].text);
    /* always plural, so scripts can match one pattern */
    fprintf(out, "%zu errors, %zu warnings\n", c.num_errors, c.num_warnings);
    int errors = (int)c.num_errors;
    cfg_free(cfg);
    cfg_ctx_release(&c);
    return errors;
}

const char *cfg_deployment_param(const cfg_deployment_t *d, const char *name)
{
    for (size_t i = 0; d && i < d->num_params; i++)
        if (strcmp(d->params[i].name, name) == 0)
            return d->params[i].value;
    return NULL;
}
