/* SPDX-License-Identifier: MIT
 * The records' field tables and the helpers every back end shares. */
#include "store/internal.h"

#include <stdarg.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/common.h"

#define LOGF(name, kind, member, flags)                                                            \
    {                                                                                              \
        name, STORE_F_##kind, offsetof(store_spend_log_t, member), flags                           \
    }

/* SpendLogs columns in the table's order, then the fields only the aggregates use. */
const store_field_t store_spend_log_fields[] = {
    LOGF("request_id", STR, request_id, 0),
    LOGF("call_type", STR, call_type, 0),
    LOGF("api_key", STR, api_key, 0),
    LOGF("spend", F64, spend, 0),
    LOGF("total_tokens", I64, total_tokens, 0),
    LOGF("prompt_tokens", I64, prompt_tokens, 0),
    LOGF("completion_tokens", I64, completion_tokens, 0),
    LOGF("startTime", TIME, start_time, 0),
    LOGF("endTime", TIME, end_time, 0),
    LOGF("request_duration_ms", I64_OPT, request_duration_ms, 0),
    LOGF("completionStartTime", TIME, completion_start_time, 0),
    LOGF("model", STR, model, 0),
    LOGF("model_id", STR, model_id, 0),
    LOGF("model_group", STR, model_group, 0),
    LOGF("custom_llm_provider", STR, custom_llm_provider, 0),
    LOGF("api_base", STR, api_base, 0),
    LOGF("user", STR, user, 0),
    LOGF("metadata", JSON, metadata, 0),
    LOGF("cache_hit", STR, cache_hit, 0),
    LOGF("cache_key", STR, cache_key, 0),
    LOGF("request_tags", JSON, request_tags, 0),
    LOGF("team_id", STR, team_id, 0),
    LOGF("organization_id", STR, organization_id, 0),
    LOGF("end_user", STR, end_user, 0),
    LOGF("requester_ip_address", STR, requester_ip_address, 0),
    LOGF("session_id", STR, session_id, 0),
    LOGF("status", STR, status, 0),
    LOGF("mcp_namespaced_tool_name", STR, mcp_namespaced_tool_name, 0),
    LOGF("agent_id", STR, agent_id, 0),
    LOGF("cache_read_input_tokens", I64, cache_read_input_tokens, STORE_FIELD_NO_COLUMN),
    LOGF("cache_creation_input_tokens", I64, cache_creation_input_tokens, STORE_FIELD_NO_COLUMN),
    LOGF("endpoint", STR, endpoint, STORE_FIELD_NO_COLUMN),
};
const size_t store_spend_log_num_fields = COUNTOF(store_spend_log_fields);

#define KEYF(name, kind, member, flags)                                                            \
    {                                                                                              \
        name, STORE_F_##kind, offsetof(store_key_t, member), flags                                 \
    }

const store_field_t store_key_fields[] = {
    KEYF("token", STR, token, STORE_FIELD_NO_UPDATE),
    KEYF("key_name", STR, key_name, 0),
    KEYF("key_alias", STR, key_alias, 0),
    KEYF("soft_budget_cooldown", BOOL, soft_budget_cooldown, 0),
    KEYF("spend", F64, spend, STORE_FIELD_NO_UPDATE),
    KEYF("expires", TIME, expires, 0),
    KEYF("models", LIST, models, 0),
    KEYF("aliases", JSON, aliases, 0),
    KEYF("config", JSON, config, 0),
    KEYF("router_settings", JSON, router_settings, 0),
    KEYF("user_id", STR, user_id, 0),
    KEYF("team_id", STR, team_id, 0),
    KEYF("agent_id", STR, agent_id, 0),
    KEYF("project_id", STR, project_id, 0),
    KEYF("permissions", JSON, permissions, 0),
    KEYF("max_parallel_requests", I64_OPT, max_parallel_requests, 0),
    KEYF("metadata", JSON, metadata, 0),
    KEYF("blocked", BOOL_OPT, blocked, 0),
    KEYF("tpm_limit", I64_OPT, tpm_limit, 0),
    KEYF("rpm_limit", I64_OPT, rpm_limit, 0),
    KEYF("max_budget", F64_OPT, max_budget, 0),
    KEYF("budget_duration", STR, budget_duration, 0),
    KEYF("budget_reset_at", TIME, budget_reset_at, 0),
    KEYF("allowed_cache_controls", LIST, allowed_cache_controls, 0),
    KEYF("allowed_routes", LIST, allowed_routes, 0),
    KEYF("policies", LIST, policies, 0),
    KEYF("access_group_ids", LIST, access_group_ids, 0),
    KEYF("model_spend", JSON, model_spend, STORE_FIELD_NO_UPDATE), /* increments only, as spend */
    KEYF("model_max_budget", JSON, model_max_budget, 0),
    KEYF("budget_id", STR, budget_id, 0),
    KEYF("organization_id", STR, organization_id, 0),
    KEYF("object_permission_id", STR, object_permission_id, 0),
    KEYF("created_at", TIME, created_at, STORE_FIELD_NO_UPDATE),
    KEYF("created_by", STR, created_by, STORE_FIELD_NO_UPDATE),
    KEYF("updated_at", TIME, updated_at, 0),
    KEYF("updated_by", STR, updated_by, 0),
    KEYF("last_active", TIME, last_active, 0),
    KEYF("budget_limits", JSON, budget_limits, 0),
};
const size_t store_key_num_fields = COUNTOF(store_key_fields);

#define TEAMF(name, kind, member)                                                                  \
    {                                                                                              \
        name, STORE_F_##kind, offsetof(store_team_t, member), 0                                    \
    }

const store_field_t store_team_fields[] = {
    TEAMF("team_id", STR, team_id),
    TEAMF("blocked", BOOL, blocked),
    TEAMF("models", LIST, models),
    TEAMF("spend", F64, spend),
    TEAMF("max_budget", F64_OPT, max_budget),
    TEAMF("budget_duration", STR, budget_duration),
    TEAMF("budget_reset_at", TIME, budget_reset_at),
    TEAMF("rpm_limit", I64_OPT, rpm_limit),
    TEAMF("tpm_limit", I64_OPT, tpm_limit),
    TEAMF("max_parallel_requests", I64_OPT, max_parallel_requests),
};
const size_t store_team_num_fields = COUNTOF(store_team_fields);

#define USERF(name, kind, member)                                                                  \
    {                                                                                              \
        name, STORE_F_##kind, offsetof(store_user_t, member), 0                                    \
    }

const store_field_t store_user_fields[] = {
    USERF("user_id", STR, user_id),
    USERF("spend", F64, spend),
    USERF("max_budget", F64_OPT, max_budget),
    USERF("budget_duration", STR, budget_duration),
    USERF("budget_reset_at", TIME, budget_reset_at),
    USERF("rpm_limit", I64_OPT, rpm_limit),
    USERF("tpm_limit", I64_OPT, tpm_limit),
    USERF("max_parallel_requests", I64_OPT, max_parallel_requests),
};
const size_t store_user_num_fields = COUNTOF(store_user_fields);

const store_field_t store_limits_fields[] = {
    {"rpm_limit", STORE_F_I64_OPT, offsetof(store_limits_t, rpm_limit), 0},
    {"tpm_limit", STORE_F_I64_OPT, offsetof(store_limits_t, tpm_limit), 0},
    {"max_parallel_requests", STORE_F_I64_OPT, offsetof(store_limits_t, max_parallel_requests), 0},
    {"spend", STORE_F_F64, offsetof(store_limits_t, spend), 0},
    {"max_budget", STORE_F_F64_OPT, offsetof(store_limits_t, max_budget), 0},
};
const size_t store_limits_num_fields = COUNTOF(store_limits_fields);

int store_member_limits_sql(buf_t *b, const char *param)
{
    return store_sqlf(
        b,
        "SELECT b.\"rpm_limit\", b.\"tpm_limit\", b.\"max_parallel_requests\", m.\"spend\", "
        "b.\"max_budget\" FROM "
        "\"LiteLLM_VerificationToken\" k JOIN \"LiteLLM_TeamMembership\" m ON m.\"user_id\" = "
        "k.\"user_id\" AND m.\"team_id\" = k.\"team_id\" JOIN \"LiteLLM_BudgetTable\" b ON "
        "b.\"budget_id\" = m.\"budget_id\" WHERE k.\"token\" = %s",
        param);
}

const store_field_t store_end_user_fields[] = {
    {"user_id", STORE_F_STR, offsetof(store_end_user_t, user_id), 0},
    {"spend", STORE_F_F64, offsetof(store_end_user_t, spend), 0},
    {"blocked", STORE_F_BOOL, offsetof(store_end_user_t, blocked), 0},
    {"max_budget", STORE_F_F64_OPT, offsetof(store_end_user_t, max_budget), 0},
    {"rpm_limit", STORE_F_I64_OPT, offsetof(store_end_user_t, rpm_limit), 0},
    {"tpm_limit", STORE_F_I64_OPT, offsetof(store_end_user_t, tpm_limit), 0},
    {"max_parallel_requests", STORE_F_I64_OPT, offsetof(store_end_user_t, max_parallel_requests),
     0},
};
const size_t store_end_user_num_fields = COUNTOF(store_end_user_fields);

/* An end user without a budget row of its own (budget_id NULL, or naming no row) gets the row of
 * `default_param` (litellm_settings.max_end_user_budget_id; NULL: none), as LiteLLM's
 * _apply_default_budget_to_end_user. */
int store_end_user_sql(buf_t *b, const char *param, const char *default_param)
{
    return store_sqlf(
        b,
        "SELECT e.\"user_id\", e.\"spend\", e.\"blocked\", CASE WHEN b.\"budget_id\" IS NULL "
        "THEN d.\"max_budget\" ELSE b.\"max_budget\" END, CASE WHEN b.\"budget_id\" IS NULL THEN "
        "d.\"rpm_limit\" ELSE b.\"rpm_limit\" END, CASE WHEN b.\"budget_id\" IS NULL THEN "
        "d.\"tpm_limit\" ELSE b.\"tpm_limit\" END, CASE WHEN b.\"budget_id\" IS NULL THEN "
        "d.\"max_parallel_requests\" ELSE b.\"max_parallel_requests\" END FROM "
        "\"LiteLLM_EndUserTable\" e LEFT JOIN \"LiteLLM_BudgetTable\" b ON b.\"budget_id\" = "
        "e.\"budget_id\" LEFT JOIN \"LiteLLM_BudgetTable\" d ON d.\"budget_id\" = %s WHERE "
        "e.\"user_id\" = %s",
        default_param, param);
}

void store_end_user_init(store_end_user_t *e)
{
    memset(e, 0, sizeof *e);
    e->max_budget = NAN;
    e->rpm_limit = e->tpm_limit = e->max_parallel_requests = STORE_INT_NULL;
}

void store_end_user_free(store_end_user_t *e)
{
    store_fields_free(store_end_user_fields, store_end_user_num_fields, e);
    store_end_user_init(e);
}

void store_spend_log_init(store_spend_log_t *log)
{
    memset(log, 0, sizeof *log);
    log->start_time = STORE_TIME_NULL;
    log->end_time = STORE_TIME_NULL;
    log->completion_start_time = STORE_TIME_NULL;
    log->request_duration_ms = STORE_INT_NULL;
}

void store_key_init(store_key_t *k)
{
    memset(k, 0, sizeof *k);
    k->max_budget = NAN;
    k->blocked = -1;
    k->expires = STORE_TIME_NULL;
    k->max_parallel_requests = STORE_INT_NULL;
    k->tpm_limit = STORE_INT_NULL;
    k->rpm_limit = STORE_INT_NULL;
    k->budget_reset_at = STORE_TIME_NULL;
    k->created_at = STORE_TIME_NULL;
    k->updated_at = STORE_TIME_NULL;
    k->last_active = STORE_TIME_NULL;
}

void store_strlist_free(store_strlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int store_strlist_push(store_strlist_t *l, const char *s)
{
    char *copy = strdup(s);
    char **v = copy ? realloc(l->v, (l->n + 1) * sizeof *v) : NULL;
    if (!v) {
        free(copy);
        return -1;
    }
    v[l->n++] = copy;
    l->v = v;
    return 0;
}

void store_fields_free(const store_field_t *f, size_t nf, void *rec)
{
    for (size_t i = 0; i < nf; i++) {
        char *base = (char *)rec + f[i].offset;
        if (f[i].kind == STORE_F_STR || f[i].kind == STORE_F_JSON)
            free(*(char **)base);
        else if (f[i].kind == STORE_F_LIST)
            store_strlist_free((store_strlist_t *)base);
    }
}

void store_key_free(store_key_t *k)
{
    store_fields_free(store_key_fields, store_key_num_fields, k);
    store_key_init(k);
}

void store_team_init(store_team_t *t)
{
    memset(t, 0, sizeof *t);
    t->max_budget = NAN;
    t->budget_reset_at = STORE_TIME_NULL;
    t->rpm_limit = t->tpm_limit = t->max_parallel_requests = STORE_INT_NULL;
}

void store_team_free(store_team_t *t)
{
    store_fields_free(store_team_fields, store_team_num_fields, t);
    store_team_init(t);
}

void store_user_init(store_user_t *u)
{
    memset(u, 0, sizeof *u);
    u->max_budget = NAN;
    u->budget_reset_at = STORE_TIME_NULL;
    u->rpm_limit = u->tpm_limit = u->max_parallel_requests = STORE_INT_NULL;
}

void store_user_free(store_user_t *u)
{
    store_fields_free(store_user_fields, store_user_num_fields, u);
    store_user_init(u);
}

void store_auth_row_init(store_auth_row_t *r)
{
    store_key_init(&r->key);
    store_team_init(&r->team);
    store_user_init(&r->user);
    r->member.rpm_limit = r->member.tpm_limit = r->member.max_parallel_requests = STORE_INT_NULL;
    r->member.spend = 0;
    r->member.max_budget = NAN;
    r->has_team = r->has_user = r->has_member = false;
}

void store_auth_row_free(store_auth_row_t *r)
{
    store_key_free(&r->key);
    store_team_free(&r->team);
    store_user_free(&r->user);
    r->has_team = r->has_user = false;
}

void store_time_format(long long ms, char out[24])
{
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int milli = (int)(ms - (long long)secs * 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    int parts[] = {(tm.tm_year + 1900) % 10000,
                   tm.tm_mon + 1,
                   tm.tm_mday,
                   tm.tm_hour,
                   tm.tm_min,
                   tm.tm_sec,
                   milli};
    static const char layout[] = "YYYY-MM-DD HH:MM:SS.mmm";
    /* digits filled right to left per part; the separators come from the layout */
    int ends[] = {3, 6, 9, 12, 15, 18, 22};
    memcpy(out, layout, sizeof layout);
    for (int i = 0; i < 7; i++) {
        int v = parts[i];
        for (int o = ends[i];
             o >= 0 && layout[o] != '-' && layout[o] != ' ' && layout[o] != ':' && layout[o] != '.';
             o--) {
            out[o] = (char)('0' + v % 10);
            v /= 10;
        }
    }
}

void store_date_format(long long ms, char out[11])
{
    char full[24];
    store_time_format(ms, full);
    memcpy(out, full, 10);
    out[10] = '\0';
}

long long store_time_parse(const char *s)
{
    if (!s)
        return STORE_TIME_NULL;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int used = 0;
    char sep;
    if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &sep,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 7 ||
        (sep != ' ' && sep != 'T'))
        return STORE_TIME_NULL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    long long ms = (long long)timegm(&tm) * 1000;
    const char *p = s + used;
    if (*p == '.') {
        int scale = 100;
        for (p++; *p >= '0' && *p <= '9'; p++) {
            ms += (*p - '0') * scale;
            scale /= 10;
        }
    }
    return ms;
}

long long store_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void store_uuid(char out[37])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r <= 0) { /* no entropy source: fall back to time and address bits, still unique */
            unsigned long long t = (unsigned long long)store_now_ms() ^ (uintptr_t)out;
            for (; got < sizeof b; got++)
                b[got] = (unsigned char)(t >> (8 * (got % 8))) ^ (unsigned char)rand();
            break;
        }
        got += (size_t)r;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

int store_strlist_to_json(const store_strlist_t *l, buf_t *out)
{
    if (buf_append(out, "[", 1) < 0)
        return -1;
    for (size_t i = 0; i < l->n; i++)
        if ((i && buf_append(out, ",", 1) < 0) ||
            buf_append_json_string(out, str_cstr(l->v[i])) < 0)
            return -1;
    return buf_append(out, "]", 1);
}

int store_strlist_from_json(store_strlist_t *l, const char *json)
{
    store_strlist_free(l);
    cJSON *doc = cJSON_Parse(json);
    if (!cJSON_IsArray(doc)) {
        cJSON_Delete(doc);
        return -1;
    }
    int rc = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, doc)
    {
        if (cJSON_IsString(it) && store_strlist_push(l, it->valuestring) < 0) {
            rc = -1;
            break;
        }
    }
    cJSON_Delete(doc);
    return rc;
}

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t store_crc32(uint32_t crc, const void *p, size_t n)
{
    pthread_once(&crc_once, crc_table_init);
    const uint32_t *table = crc_table;
    const unsigned char *b = p;
    crc = ~crc;
    while (n--)
        crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* Appends fmt with %s (text), %q (a quoted identifier) and %u (a size_t) substituted; the one
 * appender of every statement builder, so the pieces are appended strictly in order. */
int store_sqlf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = 0;
    for (const char *p = fmt; *p && rc == 0; p++) {
        if (*p != '%') {
            const char *e = strchr(p, '%');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            rc = buf_append(b, p, n);
            p += n - 1;
            continue;
        }
        switch (*++p) {
        case 's':
            rc = buf_append_cstr(b, va_arg(ap, const char *));
            break;
        case 'q':
            rc = store_schema_quote(b, va_arg(ap, const char *));
            break;
        case 'u':
            rc = buf_printf(b, "%zu", va_arg(ap, size_t));
            break;
        default:
            rc = -1;
        }
    }
    va_end(ap);
    return rc;
}
