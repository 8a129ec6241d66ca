/* SPDX-License-Identifier: MIT
 * /spend/logs, /global/spend, /global/spend/report: reads of LiteLLM_SpendLogs, a table of one row
 * per request (millions of rows). Every query is bounded by an index the schema declares
 * ("startTime", (api_key, "startTime"), the request_id key) and either LIMITed or aggregated by
 * the database; rows are never pulled into memory to be summed here. Reports group in SQL and only
 * nest the grouped rows into LiteLLM's JSON shape in C. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "admin/misc.h"

#define LOGS_PAGE_SIZE_DEFAULT 100
#define LOGS_PAGE_SIZE_MAX 1000

static const store_table_t *logs_table(void)
{
    return store_schema_table("LiteLLM_SpendLogs");
}

static const store_column_t *logs_column(const char *name)
{
    return store_schema_column(logs_table(), name);
}

typedef struct {
    const char *column; /* "api_key", "request_id", "user", or NULL */
    const char *value;
} logs_filter_t;

/* "YYYY-MM-DD" as Python's strptime("%Y-%m-%d") accepts it (a real calendar day). */
static bool parse_day(const char *s, struct tm *out)
{
    int y, m, d, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || s[n] || m < 1 || m > 12 || d < 1 ||
        d > 31)
        return false;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    if (tm.tm_mday != d || tm.tm_mon != m - 1)
        return false; /* 2024-02-30 */
    *out = tm;
    return true;
}

static void day_text(const struct tm *tm, char out[11])
{
    char tmp[64]; /* the compiler cannot bound struct tm's fields */
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday);
    memcpy(out, tmp, 10);
    out[10] = '\0';
}

/* The storage text of midnight UTC of a day: the bound LiteLLM compares "startTime" with (its
 * strptime dates are midnights, so an end_date day itself counts only at 00:00:00.000). */
static void midnight_text(const struct tm *tm, char out[24])
{
    char d[11];
    day_text(tm, d);
    snprintf(out, 24, "%s 00:00:00.000", d);
}

/* The day of a "startTime", in SQL, per dialect. */
static const char *day_expr(admin_t *a, bool qualified)
{
    if (sdb_dialect(a->db) == STORE_DIALECT_POSTGRES)
        return qualified ? "to_char(s.\"startTime\", 'YYYY-MM-DD')"
                         : "to_char(\"startTime\", 'YYYY-MM-DD')";
    return qualified ? "substr(s.\"startTime\", 1, 10)" : "substr(\"startTime\", 1, 10)";
}

/* A query parameter that is a positive integer up to max, def when absent; false when malformed. */
static bool query_int(const admin_call_t *call, const char *name, long def, long max, long *out)
{
    long long n = admin_query_int(call, name, def);
    bool ok = n >= 1 && n <= max;
    *out = ok ? (long)n : def;
    return ok;
}

static bool query_bool(const admin_call_t *call, const char *name, bool def)
{
    char *v = admin_query_get(call->query, call->query_len, name);
    bool out = def;
    if (v)
        out = !(strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0 ||
                strcasecmp(v, "off") == 0);
    free(v);
    return out;
}

/* Adds x to the number member `name` of obj, creating it. */
static bool add_to(cJSON *obj, const char *name, double x)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (v) {
        cJSON_SetNumberValue(v, v->valuedouble + x);
        return true;
    }
    return cJSON_AddNumberToObject(obj, name, x) != NULL;
}

static double num_cell(const sdb_res_t *r, size_t row, int col)
{
    const char *v = sdb_res_get(r, row, col);
    return v ? strtod(v, NULL) : 0;
}

/* Appends the conditions of a read of LiteLLM_SpendLogs (q: "s." or "" before each column): the
 * range of "startTime" from lo to hi ($1, $2; "1 = 1" without lo), and the filter, if any, on the
 * next parameter. The parameters go into params; returns their count. */
static int logs_where(admin_t *a, buf_t *sql, const char *q, const char *lo, const char *hi,
                      const logs_filter_t *f, const char *params[3])
{
    int n = 0;
    if (lo) {
        params[n++] = lo;
        params[n++] = hi;
        buf_printf(sql, "%s\"startTime\" >= ", q);
        sdb_param(a->db, logs_column("startTime"), 1, sql);
        buf_printf(sql, " AND %s\"startTime\" <= ", q);
        sdb_param(a->db, logs_column("startTime"), 2, sql);
    } else {
        buf_append_cstr(sql, "1 = 1");
    }
    if (f && f->column) {
        params[n++] = f->value;
        buf_printf(sql, " AND %s", q);
        store_schema_quote(sql, f->column);
        buf_append_cstr(sql, " = ");
        sdb_param(a->db, logs_column(f->column), n, sql);
    }
    return n;
}

/* Sets member `name` of o to the text (null for NULL) and the three sums of a per-key report. */
static bool add_costs(cJSON *o, const char *name, const char *text, double cost, double in,
                      double out)
{
    return admin_json_put(o, name, admin_json_text(text)) &&
           cJSON_AddNumberToObject(o, "total_cost", cost) &&
           cJSON_AddNumberToObject(o, "total_input_tokens", in) &&
           cJSON_AddNumberToObject(o, "total_output_tokens", out);
}

/* ---- /spend/logs ------------------------------------------------------------------------------
 */

/* Rows of LiteLLM_SpendLogs, newest first, one page: every filter has an index to walk
 * ("startTime" for the date range and for "user", (api_key, "startTime"), the request_id key). */
static void logs_rows(admin_t *a, admin_result_t *res, const logs_filter_t *f, const char *lo,
                      const char *hi, long page, long page_size)
{
    buf_t sql = {0};
    const char *params[3];
    char tail[96];
    buf_append_cstr(&sql, "SELECT ");
    /* qualified names: a bare "startTime" in ORDER BY would name the select list's normalised
     * (strftime) expression on SQLite, which no index serves */
    sdb_select_all(a->db, logs_table(), "s.", &sql);
    buf_append_cstr(&sql, " FROM \"LiteLLM_SpendLogs\" s WHERE ");
    int n = logs_where(a, &sql, "s.", lo, hi, f, params);
    snprintf(tail, sizeof tail, " ORDER BY s.\"startTime\" DESC LIMIT %ld OFFSET %ld", page_size,
             (page - 1) * page_size);
    sdb_res_t *r = admin_query_sql(a, &sql, tail, params, n, res);
    if (r)
        admin_answer(res, admin_rows_json(logs_table(), r));
    sdb_res_free(r);
    buf_free(&sql);
}

/* The days of the summary (see logs_summary) from its rows, grouped by (day, key, user, model)
 * and ordered. NULL on no memory. */
static cJSON *summary_days(const sdb_res_t *r, const struct tm *end_day)
{
    cJSON *list = cJSON_CreateArray(), *day = NULL;
    char last[11] = "";
    for (size_t i = 0; list && i < sdb_res_rows(r); i++) {
        const char *d = sdb_res_get(r, i, 0), *key = sdb_res_get(r, i, 1);
        const char *user = sdb_res_get(r, i, 2), *model = sdb_res_get(r, i, 3);
        double spend = num_cell(r, i, 4);
        if (!d)
            continue;
        if (strcmp(d, last) != 0) {
            if (day && (!cJSON_AddStringToObject(day, "startTime", last) ||
                        !cJSON_AddItemToArray(list, day)))
                goto fail;
            snprintf(last, sizeof last, "%s", d);
            if (!(day = cJSON_CreateObject()) || !cJSON_AddObjectToObject(day, "users") ||
                !cJSON_AddObjectToObject(day, "models") ||
                !cJSON_AddNumberToObject(day, "spend", 0))
                goto fail;
        }
        /* Python's dict keys: None prints as "null" */
        if (!add_to(day, "spend", spend) || !add_to(day, key ? key : "null", spend) ||
            !add_to(cJSON_GetObjectItemCaseSensitive(day, "users"), user ? user : "null", spend) ||
            !add_to(cJSON_GetObjectItemCaseSensitive(day, "models"), model ? model : "null", spend))
            goto fail;
    }
    if (day) {
        if (!cJSON_AddStringToObject(day, "startTime", last) || !cJSON_AddItemToArray(list, day))
            goto fail;
        day = NULL;
        /* zero days from the day after the last one with spend up to end_date */
        struct tm t;
        if (parse_day(last, &t)) {
            time_t s = timegm(&t), end = timegm((struct tm *)end_day);
            for (s += 86400; s <= end; s += 86400) {
                char dt[11];
                struct tm z;
                gmtime_r(&s, &z);
                day_text(&z, dt);
                cJSON *o = cJSON_CreateObject();
                if (!o || !cJSON_AddStringToObject(o, "startTime", dt) ||
                    !cJSON_AddNumberToObject(o, "spend", 0) ||
                    !cJSON_AddObjectToObject(o, "users") || !cJSON_AddObjectToObject(o, "models") ||
                    !cJSON_AddItemToArray(list, o)) {
                    cJSON_Delete(o);
                    goto fail;
                }
            }
        }
    }
    return list;
fail:
    cJSON_Delete(day);
    cJSON_Delete(list);
    return NULL;
}

/* LiteLLM's summarized form for a date range: per day {"users": {user: spend}, "models": {model:
 * spend}, "spend": total, <api_key>: spend, ..., "startTime": "YYYY-MM-DD"}, days in order, and
 * after the last day with spend, zero days up to end_date. */
static void logs_summary(admin_t *a, admin_result_t *res, const logs_filter_t *f, const char *lo,
                         const char *hi, const struct tm *end_day)
{
    buf_t sql = {0};
    const char *params[3];
    buf_printf(&sql,
               "SELECT %s AS \"day\", \"api_key\", \"user\", \"model\", SUM(\"spend\") AS "
               "\"spend\" FROM \"LiteLLM_SpendLogs\" WHERE ",
               day_expr(a, false));
    int n = logs_where(a, &sql, "", lo, hi, f, params);
    sdb_res_t *r =
        admin_query_sql(a, &sql, " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4", params, n, res);
    if (r)
        admin_answer(res, summary_days(r, end_day));
    sdb_res_free(r);
    buf_free(&sql);
}

/* GET /spend/logs: ?api_key= (key or hash) | ?request_id= | ?user_id=, optionally
 * ?start_date=&end_date= (YYYY-MM-DD, both, or neither): summarized per day unless
 * ?summarize=false. Row lists are pages: ?page= (1) and ?page_size= (100, at most 1000). */
ADMIN_HANDLER(admin_spend_logs)
{
    char *api_key = admin_query_get(call->query, call->query_len, "api_key");
    char *user_id = admin_query_get(call->query, call->query_len, "user_id");
    char *request_id = admin_query_get(call->query, call->query_len, "request_id");
    char *start = admin_query_get(call->query, call->query_len, "start_date");
    char *end = admin_query_get(call->query, call->query_len, "end_date");
    char hashed[ADMIN_TOKEN_LEN + 1];
    logs_filter_t f = {NULL, NULL};
    long page, page_size;
    if (!query_int(call, "page", 1, LONG_MAX / LOGS_PAGE_SIZE_MAX, &page) ||
        !query_int(call, "page_size", LOGS_PAGE_SIZE_DEFAULT, LOGS_PAGE_SIZE_MAX, &page_size)) {
        admin_bad_request(res, "page",
                          "page must be an integer >= 1 and page_size one from 1 to %d",
                          LOGS_PAGE_SIZE_MAX);
        goto done;
    }
    /* one filter, in LiteLLM's order of precedence */
    if (api_key && api_key[0]) {
        admin_key_token(api_key, hashed);
        f = (logs_filter_t){"api_key", hashed};
    } else if (request_id && request_id[0]) {
        f = (logs_filter_t){"request_id", request_id};
    } else if (user_id && user_id[0]) {
        f = (logs_filter_t){"user", user_id};
    }
    if (start && end) {
        struct tm lo_day, hi_day;
        if (!parse_day(start, &lo_day) || !parse_day(end, &hi_day)) {
            admin_bad_request(res, "start_date",
                              "start_date and end_date must be dates as YYYY-MM-DD, got %s and %s",
                              start, end);
            goto done;
        }
        char lo[24], hi[24];
        midnight_text(&lo_day, lo);
        midnight_text(&hi_day, hi);
        if (query_bool(call, "summarize", true))
            logs_summary(a, res, &f, lo, hi, &hi_day);
        else
            logs_rows(a, res, &f, lo, hi, page, page_size);
        goto done;
    }
    logs_rows(a, res, &f, NULL, NULL, page, page_size);
done:
    free(api_key);
    free(user_id);
    free(request_id);
    free(start);
    free(end);
}

/* ---- /global/spend ----------------------------------------------------------------------------
 */

/* LiteLLM's "MonthlyGlobalSpend" view: spend since midnight (UTC) 30 days ago. max_budget is
 * litellm_settings.max_budget, which sluice's config does not read yet: LiteLLM's default 0.0. */
ADMIN_HANDLER(admin_global_spend)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    time_t since = timegm(&tm) - 30 * 86400;
    gmtime_r(&since, &tm);
    char lo[24];
    midnight_text(&tm, lo);
    buf_t sql = {0};
    const char *params[] = {lo};
    buf_append_cstr(&sql,
                    "SELECT SUM(\"spend\") FROM \"LiteLLM_SpendLogs\" WHERE \"startTime\" >= ");
    sdb_param(a->db, logs_column("startTime"), 1, &sql);
    sdb_res_t *r = admin_query_sql(a, &sql, NULL, params, 1, res);
    buf_free(&sql);
    if (!r)
        return;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "spend", sdb_res_rows(r) ? num_cell(r, 0, 0) : 0);
    cJSON_AddNumberToObject(doc, "max_budget", 0.0);
    sdb_res_free(r);
    admin_set_body(res, 200, doc);
}

/* ---- /global/spend/report ---------------------------------------------------------------------
 */

/* The team or customer report (see report_by_group) from its rows, grouped by (day, group, model,
 * key) and ordered, so each day's and each group's rows are contiguous. NULL on no memory. */
static cJSON *group_days(const sdb_res_t *r, bool by_team)
{
    cJSON *list = cJSON_CreateArray(), *day = NULL, *groups = NULL, *group = NULL;
    const char *gname = by_team ? "team_name" : "customer";
    const char *cur_day = NULL, *cur_group = NULL;
    bool have_group = false;
    for (size_t i = 0; list && i < sdb_res_rows(r); i++) {
        const char *d = sdb_res_get(r, i, 0), *g = sdb_res_get(r, i, 1);
        if (!d)
            continue;
        bool new_day = !cur_day || strcmp(d, cur_day) != 0;
        if (new_day) {
            char ts[40];
            snprintf(ts, sizeof ts, "%sT00:00:00+00:00", d);
            if (!(day = cJSON_CreateObject()) ||
                !cJSON_AddStringToObject(day, "group_by_day", ts) ||
                !(groups = cJSON_AddArrayToObject(day, by_team ? "teams" : "customers")) ||
                !cJSON_AddItemToArray(list, day)) {
                cJSON_Delete(day);
                goto fail;
            }
            cur_day = d;
            have_group = false;
        }
        bool same_group =
            have_group && ((!g && !cur_group) || (g && cur_group && strcmp(g, cur_group) == 0));
        if (!same_group) {
            group = cJSON_CreateObject();
            if (!admin_json_append(groups, group) ||
                !admin_json_put(group, gname, admin_json_text(g)) ||
                !cJSON_AddNumberToObject(group, "total_spend", 0) ||
                !cJSON_AddArrayToObject(group, "metadata"))
                goto fail;
            cur_group = g;
            have_group = true;
        }
        double spend = num_cell(r, i, 4);
        const char *model = sdb_res_get(r, i, 2), *key = sdb_res_get(r, i, 3);
        cJSON *m = cJSON_CreateObject();
        if (!admin_json_append(cJSON_GetObjectItemCaseSensitive(group, "metadata"), m) ||
            !admin_json_put(m, "model", admin_json_text(model)) ||
            !admin_json_put(m, "api_key", admin_json_text(key)) ||
            !cJSON_AddNumberToObject(m, "spend", spend) ||
            !cJSON_AddNumberToObject(m, "total_tokens", num_cell(r, i, 5)) ||
            !add_to(group, "total_spend", spend))
            goto fail;
    }
    return list;
fail:
    cJSON_Delete(list);
    return NULL;
}

/* group_by=team / customer: per day, per group: {group: name, "total_spend", "metadata":
 * [{"model", "api_key", "spend", "total_tokens"}]}. SQL groups by (day, group, model, key). */
static void report_by_group(admin_t *a, admin_result_t *res, const char *lo, const char *hi,
                            bool by_team)
{
    buf_t sql = {0};
    const char *params[3];
    buf_printf(&sql,
               "SELECT %s AS \"day\", %s AS \"grp\", s.\"model\", s.\"api_key\", "
               "SUM(s.\"spend\") AS \"spend\", SUM(s.\"total_tokens\") AS \"tokens\" FROM "
               "\"LiteLLM_SpendLogs\" s %s WHERE ",
               day_expr(a, true),
               by_team ? "COALESCE(t.\"team_alias\", 'Unassigned Team')" : "s.\"end_user\"",
               by_team ? "LEFT JOIN \"LiteLLM_TeamTable\" t ON s.\"team_id\" = t.\"team_id\"" : "");
    int n = logs_where(a, &sql, "s.", lo, hi, NULL, params);
    sdb_res_t *r = admin_query_sql(a, &sql, " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 5 DESC, 3, 4",
                                   params, n, res);
    if (r)
        admin_answer(res, group_days(r, by_team));
    sdb_res_free(r);
    buf_free(&sql);
}

typedef struct {
    size_t first, count; /* rows of one api_key in the result */
    double cost;
} key_group_t;

static int by_cost_desc(const void *x, const void *y)
{
    const key_group_t *a = x, *b = y;
    return a->cost < b->cost ? 1 : a->cost > b->cost ? -1 : 0;
}

/* The per-key report (see report_by_key) from its rows, grouped by (key, model) and ordered by
 * key. NULL on no memory. */
static cJSON *key_reports(const sdb_res_t *r)
{
    size_t rows = sdb_res_rows(r), ngroups = 0;
    key_group_t *groups = calloc(rows ? rows : 1, sizeof *groups);
    cJSON *list = groups ? cJSON_CreateArray() : NULL, *details = NULL;
    if (!list)
        goto fail;
    for (size_t i = 0; i < rows; i++) {
        const char *k = sdb_res_get(r, i, 0);
        const char *prev = i ? sdb_res_get(r, i - 1, 0) : NULL;
        bool same = i && ((!k && !prev) || (k && prev && strcmp(k, prev) == 0));
        if (!same)
            groups[ngroups++] = (key_group_t){i, 0, 0};
        groups[ngroups - 1].count++;
        groups[ngroups - 1].cost += num_cell(r, i, 2);
    }
    if (ngroups)
        qsort(groups, ngroups, sizeof *groups, by_cost_desc);
    for (size_t gi = 0; gi < ngroups; gi++) {
        const key_group_t *g = &groups[gi];
        double in = 0, out = 0;
        cJSON *o = cJSON_CreateObject();
        if (!admin_json_append(list, o) || !(details = cJSON_CreateArray()))
            goto fail;
        for (size_t i = g->first; i < g->first + g->count; i++) {
            cJSON *m = cJSON_CreateObject();
            in += num_cell(r, i, 3);
            out += num_cell(r, i, 4);
            if (!admin_json_append(details, m) ||
                !add_costs(m, "model", sdb_res_get(r, i, 1), num_cell(r, i, 2), num_cell(r, i, 3),
                           num_cell(r, i, 4)))
                goto fail;
        }
        if (!add_costs(o, "api_key", sdb_res_get(r, g->first, 0), g->cost, in, out) ||
            !cJSON_AddItemToObject(o, "model_details", details))
            goto fail;
        details = NULL;
    }
    free(groups);
    return list;
fail:
    cJSON_Delete(details);
    cJSON_Delete(list);
    free(groups);
    return NULL;
}

/* group_by=api_key (also ?api_key= and ?internal_user_id=): per key, most expensive first:
 * {"api_key", "total_cost", "total_input_tokens", "total_output_tokens", "model_details":
 * [{"model", "total_cost", "total_input_tokens", "total_output_tokens"}]}. */
static void report_by_key(admin_t *a, admin_result_t *res, const char *lo, const char *hi,
                          const logs_filter_t *f)
{
    buf_t sql = {0};
    const char *params[3];
    buf_append_cstr(&sql, "SELECT \"api_key\", \"model\", SUM(\"spend\") AS \"cost\", "
                          "SUM(\"prompt_tokens\") AS \"input\", SUM(\"completion_tokens\") "
                          "AS \"output\" FROM \"LiteLLM_SpendLogs\" WHERE ");
    int n = logs_where(a, &sql, "", lo, hi, f, params);
    sdb_res_t *r = admin_query_sql(a, &sql, " GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2", params, n, res);
    if (r)
        admin_answer(res, key_reports(r));
    sdb_res_free(r);
    buf_free(&sql);
}

/* GET /global/spend/report?start_date=&end_date=&group_by=team|customer|api_key, also
 * ?api_key= and ?internal_user_id= (per-key shape, filtered). LiteLLM serves it to Enterprise
 * users only; sluice to any admin. */
ADMIN_HANDLER(admin_global_spend_report)
{
    char *start = admin_query_get(call->query, call->query_len, "start_date");
    char *end = admin_query_get(call->query, call->query_len, "end_date");
    char *group_by = admin_query_get(call->query, call->query_len, "group_by");
    char *api_key = admin_query_get(call->query, call->query_len, "api_key");
    char *user = admin_query_get(call->query, call->query_len, "internal_user_id");
    char *team = admin_query_get(call->query, call->query_len, "team_id");
    char *customer = admin_query_get(call->query, call->query_len, "customer_id");
    char hashed[ADMIN_TOKEN_LEN + 1];
    struct tm lo_day, hi_day;
    char lo[24], hi[24];
    if (!start || !end) {
        admin_bad_request(res, "start_date", "Please provide start_date and end_date");
        goto done;
    }
    if (!parse_day(start, &lo_day) || !parse_day(end, &hi_day)) {
        admin_bad_request(res, "start_date",
                          "start_date and end_date must be dates as YYYY-MM-DD, got %s and %s",
                          start, end);
        goto done;
    }
    midnight_text(&lo_day, lo);
    midnight_text(&hi_day, hi);
    const char *g = group_by && group_by[0] ? group_by : "team";
    if (strcmp(g, "team") && strcmp(g, "customer") && strcmp(g, "api_key")) {
        admin_bad_request(res, "group_by", "group_by must be one of 'team', 'customer', 'api_key'");
        goto done;
    }
    if (api_key && api_key[0]) {
        admin_key_token(api_key, hashed);
        report_by_key(a, res, lo, hi, &(logs_filter_t){"api_key", hashed});
    } else if (user && user[0]) {
        report_by_key(a, res, lo, hi, &(logs_filter_t){"user", user});
    } else if (team && customer) {
        admin_bad_request(res, "team_id",
                          "team_id together with customer_id is not supported by sluice yet");
    } else if (strcmp(g, "api_key") == 0) {
        report_by_key(a, res, lo, hi, &(logs_filter_t){NULL, NULL});
    } else {
        report_by_group(a, res, lo, hi, strcmp(g, "team") == 0);
    }
done:
    free(start);
    free(end);
    free(group_by);
    free(api_key);
    free(user);
    free(team);
    free(customer);
}
