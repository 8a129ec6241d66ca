/* SPDX-License-Identifier: MIT
 * Where Redis is, found the way LiteLLM finds it: the environment (REDIS_HOST, REDIS_PORT,
 * REDIS_PASSWORD, REDIS_USERNAME, REDIS_DB, REDIS_SSL, REDIS_URL) gives defaults, the config
 * section that enables Redis overrides them key by key, and a URL from either wins over
 * host/port/password/db (LiteLLM's _get_redis_client_logic). Not here: connecting (sync.c). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/common.h"
#include "limits/limits.h"

static void set_err(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t size, const char *fmt, ...)
{
    if (!err || !size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
}

void lim_redis_conf_dispose(lim_redis_conf_t *c)
{
    if (!c)
        return;
    free(c->host);
    free(c->username);
    free(c->password);
    *c = (lim_redis_conf_t){0};
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A copy of p[0..n) with %XX escapes decoded; NULL when an escape is malformed. */
static char *decode(const char *p, size_t n)
{
    char *out = xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '%') {
            *o++ = p[i];
            continue;
        }
        int hi = i + 2 < n ? hex_value(p[i + 1]) : -1;
        int lo = i + 2 < n ? hex_value(p[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            free(out);
            return NULL;
        }
        *o++ = (char)(hi << 4 | lo);
        i += 2;
    }
    *o = '\0';
    return out;
}

static int parse_port(const char *p, size_t n, int *out)
{
    long v = 0;
    if (!n || n > 5)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_db(const char *p, size_t n, int *out)
{
    long v = 0;
    if (!n || n > 6)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = (int)v;
    return 0;
}

int lim_redis_url_parse(const char *url, lim_redis_conf_t *out, char *err, size_t err_size)
{
    lim_redis_conf_t c = {.port = 6379};
    const char *p = url;
    if (strncasecmp(p, "rediss://", 9) == 0) {
        set_err(err, err_size, "Redis over TLS (rediss://) is not supported by this build");
        return -1;
    }
    if (strncasecmp(p, "redis://", 8) != 0) {
        set_err(err, err_size, "a Redis URL must start with redis://");
        return -1;
    }
    p += 8;
    const char *end = p + strcspn(p, "/?#");
    const char *at = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '@')
            at = q; /* the last '@': a password may contain one */
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *user_end = colon ? colon : at;
        if (user_end > p && !(c.username = decode(p, (size_t)(user_end - p))))
            goto bad_escape;
        if (colon && !(c.password = decode(colon + 1, (size_t)(at - colon - 1))))
            goto bad_escape;
        if (c.username && !c.password) { /* redis://secret@host: a password alone */
            c.password = c.username;
            c.username = NULL;
        }
        p = at + 1;
    }
    const char *host_end, *port_at = NULL;
    if (*p == '[') { /* [::1]:6379 */
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close) {
            set_err(err, err_size, "bad IPv6 address in the Redis URL");
            goto fail;
        }
        c.host = xstrndup(p + 1, (size_t)(close - p - 1));
        host_end = close + 1;
        if (host_end < end && *host_end == ':')
            port_at = host_end + 1;
        else if (host_end != end) {
            set_err(err, err_size, "bad host in the Redis URL");
            goto fail;
        }
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        host_end = colon ? colon : end;
        c.host = xstrndup(p, (size_t)(host_end - p));
        if (colon)
            port_at = colon + 1;
    }
    if (!c.host[0]) {
        free(c.host);
        c.host = xstrdup("localhost");
    }
    if (port_at && parse_port(port_at, (size_t)(end - port_at), &c.port) < 0) {
        set_err(err, err_size, "bad port in the Redis URL");
        goto fail;
    }
    if (*end == '/') {
        const char *db = end + 1;
        size_t n = strcspn(db, "?#");
        if (n && parse_db(db, n, &c.db) < 0) {
            set_err(err, err_size, "bad database number in the Redis URL");
            goto fail;
        }
        end = db + n;
    }
    if (*end == '?') { /* ?db=N (redis-py); other options are ignored */
        const char *q = strstr(end, "db=");
        if (q && (q[-1] == '?' || q[-1] == '&') &&
            parse_db(q + 3, strcspn(q + 3, "&#"), &c.db) < 0) {
            set_err(err, err_size, "bad database number in the Redis URL");
            goto fail;
        }
    }
    snprintf(c.source, sizeof c.source, "a URL");
    *out = c;
    return 0;
bad_escape:
    set_err(err, err_size, "bad %%-escape in the Redis URL's credentials");
fail:
    lim_redis_conf_dispose(&c);
    return -1;
}

/* The settings one source gives; NULL and -1 for what it leaves unset. */
typedef struct {
    const char *host, *password, *username, *url, *ssl;
    int port, db;
} fields_t;

static const char *env_default(const char *name)
{
    return getenv(name);
}

static bool truthy(const char *v)
{
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

int lim_redis_conf_find(const cfg_t *cfg, const char *(*env)(const char *name),
                        lim_redis_conf_t *out, char *err, size_t err_size)
{
    if (!env)
        env = env_default;
    *out = (lim_redis_conf_t){0};
    fields_t f = {.port = -1, .db = -1};
    const char *section = NULL;
    if (cfg && cfg->cache_type && strcasecmp(cfg->cache_type, "redis") == 0) {
        section = "litellm_settings.cache_params";
        f = (fields_t){cfg->cache_host,
                       cfg->cache_password,
                       cfg->cache_username,
                       cfg->cache_url,
                       cfg->cache_ssl ? "true" : NULL,
                       cfg->cache_port,
                       cfg->cache_db};
    } else if (cfg && (cfg->router_redis_host || cfg->router_redis_url)) {
        section = "router_settings";
        f = (fields_t){
            cfg->router_redis_host, cfg->router_redis_password, NULL, cfg->router_redis_url, NULL,
            cfg->router_redis_port, cfg->router_redis_db};
    }
    /* the environment fills in what the section leaves unset */
    const char *e_url = env("REDIS_URL"), *e_host = env("REDIS_HOST");
    if (!section && !(e_url && *e_url) && !(e_host && *e_host))
        return 0;
    const char *url = f.url ? f.url : e_url;
    if (truthy(f.ssl ? f.ssl : env("REDIS_SSL"))) {
        set_err(err, err_size, "Redis over TLS (ssl: true) is not supported by this build");
        return -1;
    }
    if (url && *url) {
        char why[160];
        if (lim_redis_url_parse(url, out, why, sizeof why) < 0) {
            set_err(err, err_size, "%s: %s", f.url ? section : "REDIS_URL", why);
            return -1;
        }
        if (f.url)
            snprintf(out->source, sizeof out->source, "%s url", section);
        else if (section)
            snprintf(out->source, sizeof out->source, "REDIS_URL, over %s", section);
        else
            snprintf(out->source, sizeof out->source, "REDIS_URL");
        return 1;
    }
    const char *host = f.host ? f.host : e_host;
    if (!host || !*host) {
        set_err(err, err_size, "%s: Redis is enabled but neither a host nor a url is set", section);
        return -1;
    }
    out->port = 6379;
    if (f.port > 0) {
        out->port = f.port;
    } else if (env("REDIS_PORT") &&
               parse_port(env("REDIS_PORT"), strlen(env("REDIS_PORT")), &out->port) < 0) {
        set_err(err, err_size, "REDIS_PORT: not a port number: %s", env("REDIS_PORT"));
        return -1;
    }
    if (f.port > 65535) {
        set_err(err, err_size, "%s: redis port %d is not a port number", section, f.port);
        return -1;
    }
    if (f.db >= 0) {
        out->db = f.db;
    } else if (env("REDIS_DB") &&
               parse_db(env("REDIS_DB"), strlen(env("REDIS_DB")), &out->db) < 0) {
        set_err(err, err_size, "REDIS_DB: not a database number: %s", env("REDIS_DB"));
        return -1;
    }
    const char *password = f.password ? f.password : env("REDIS_PASSWORD");
    const char *username = f.username ? f.username : env("REDIS_USERNAME");
    out->host = xstrdup(host);
    out->password = password && *password ? xstrdup(password) : NULL;
    out->username = username && *username && out->password ? xstrdup(username) : NULL;
    snprintf(out->source, sizeof out->source, "%s", section ? section : "REDIS_HOST");
    return 1;
}
