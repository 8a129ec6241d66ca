/* SPDX-License-Identifier: MIT
 * What every management handler shares: the result envelope, LiteLLM's error body, query-string
 * values, and the lookup across the route tables of the handler files. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"

void admin_result_init(admin_result_t *res)
{
    memset(res, 0, sizeof *res);
}

void admin_result_free(admin_result_t *r)
{
    free(r->body);
    r->body = NULL;
    store_strlist_free(&r->invalidated);
}

void admin_set_body(admin_result_t *res, int status, cJSON *doc)
{
    free(res->body);
    res->status = status;
    res->body = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!res->body) {
        res->status = 500;
        res->body = strdup("{\"error\":{\"message\":\"out of memory\",\"type\":\"internal_server_"
                           "error\",\"param\":\"None\",\"code\":\"500\"}}");
    }
}

void admin_set_error(admin_result_t *res, int status, const char *type, const char *param,
                     const char *fmt, ...)
{
    char msg[1024], code[8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(code, sizeof code, "%d", status);
    cJSON *doc = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(doc, "error");
    if (e) {
        cJSON_AddStringToObject(e, "message", msg);
        cJSON_AddStringToObject(e, "type", type);
        cJSON_AddStringToObject(e, "param", param ? param : "None");
        cJSON_AddStringToObject(e, "code", code);
    }
    admin_set_body(res, status, doc);
    store_strlist_free(&res->invalidated);
}

void admin_set_db_error(admin_result_t *res, admin_t *a)
{
    admin_set_error(res, 500, "internal_server_error", NULL, "database error: %s",
                    sdb_errmsg(a->db));
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *admin_query_get(const char *q, size_t len, const char *name)
{
    size_t nl = strlen(name), i = 0;
    while (q && i < len) {
        size_t end = i;
        while (end < len && q[end] != '&')
            end++;
        if (end - i > nl && memcmp(q + i, name, nl) == 0 && q[i + nl] == '=') {
            char *out = malloc(end - i);
            size_t o = 0;
            if (!out)
                return NULL;
            for (size_t j = i + nl + 1; j < end; j++) {
                int h, l;
                if (q[j] == '+')
                    out[o++] = ' ';
                else if (q[j] == '%' && j + 2 < end && (h = hexval((unsigned char)q[j + 1])) >= 0 &&
                         (l = hexval((unsigned char)q[j + 2])) >= 0) {
                    out[o++] = (char)(h * 16 + l);
                    j += 2;
                } else
                    out[o++] = q[j];
            }
            out[o] = '\0';
            return out;
        }
        i = end + 1;
    }
    return NULL;
}

static const admin_route_t *const route_tables[] = {admin_key_routes, admin_team_routes,
                                                    admin_misc_routes};

const admin_route_t *admin_route_find(const char *method, size_t method_len, const char *path,
                                      size_t path_len, bool *path_known)
{
    *path_known = false;
    for (size_t t = 0; t < sizeof route_tables / sizeof route_tables[0]; t++)
        for (const admin_route_t *r = route_tables[t]; r->path; r++) {
            if (strlen(r->path) != path_len || memcmp(r->path, path, path_len) != 0)
                continue;
            *path_known = true;
            if (strlen(r->method) == method_len && memcmp(r->method, method, method_len) == 0)
                return r;
        }
    return NULL;
}
