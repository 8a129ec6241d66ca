/* SPDX-License-Identifier: MIT
 * admin rows (rows.h): request members become typed cells of one table's row; cells become
 * INSERT / UPDATE / upsert ... RETURNING every column in sdb's storage forms; SELECT and DELETE by
 * one column; results become LiteLLM's JSON. Plus the small values every handler needs and the
 * steps every handler takes around its rows (answers, checks, the transaction), so that each of
 * them lives once. The statements are built per call from the schema, so one file serves every
 * table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "admin/rows.h"
#include "auth/keys.h"

_Static_assert(ADMIN_TOKEN_LEN == 2 * AUTH_HASH_LEN, "a token is the sha256 hex of a key");

/* ---- rows ------------------------------------------------------------------------------------ */

void admin_row_init(admin_row_t *r, const store_table_t *t)
{
    memset(r, 0, sizeof *r);
    r->table = t;
}

void admin_row_free(admin_row_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->cells[i].text);
    free(r->cells);
    r->cells = NULL;
    r->n = r->cap = 0;
}

static admin_cell_t *find_cell(const admin_row_t *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->cells[i].col->name, name) == 0)
            return &r->cells[i];
    return NULL;
}

const admin_cell_t *admin_row_get(const admin_row_t *r, const char *name)
{
    return find_cell(r, name);
}

/* Takes ownership of text (may be NULL). 0, or -1 (text freed). */
static int set_owned(admin_row_t *r, const store_column_t *c, char *text)
{
    admin_cell_t *cell = find_cell(r, c->name);
    if (cell) {
        free(cell->text);
        cell->text = text;
        return 0;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        admin_cell_t *cells = realloc(r->cells, cap * sizeof *cells);
        if (!cells) {
            free(text);
            return -1;
        }
        r->cells = cells;
        r->cap = cap;
    }
    r->cells[r->n++] = (admin_cell_t){c, text};
    return 0;
}

int admin_row_set(admin_row_t *r, const char *name, const char *text)
{
    const store_column_t *c = store_schema_column(r->table, name);
    if (!c)
        return -1;
    char *copy = NULL;
    if (text && !(copy = strdup(text)))
        return -1;
    return set_owned(r, c, copy);
}

void admin_row_unset(admin_row_t *r, const char *name)
{
    admin_cell_t *cell = find_cell(r, name);
    if (!cell)
        return;
    free(cell->text);
    size_t i = (size_t)(cell - r->cells);
    memmove(&r->cells[i], &r->cells[i + 1], (r->n - i - 1) * sizeof *r->cells);
    r->n--;
}

int admin_row_from_json(admin_row_t *r, const cJSON *obj, const char *const *fields, bool skip_null,
                        const char **bad)
{
    for (size_t i = 0; fields[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, fields[i]);
        const store_column_t *c = store_schema_column(r->table, fields[i]);
        if (!v || !c || (skip_null && cJSON_IsNull(v)))
            continue;
        bool is_bad;
        char *text = sdb_value_text(c, v, &is_bad);
        if (is_bad) {
            *bad = fields[i];
            return -1;
        }
        if (!text && !cJSON_IsNull(v))
            return -2;
        if (set_owned(r, c, text) < 0)
            return -2;
    }
    return 0;
}

/* " RETURNING <every column in storage form>" */
static void append_returning(sdb_t *db, const store_table_t *t, buf_t *sql)
{
    buf_append_cstr(sql, " RETURNING ");
    sdb_select_all(db, t, NULL, sql);
}

static const char **cell_params(const admin_row_t *r, size_t extra)
{
    const char **p = calloc(r->n + extra + 1, sizeof *p);
    for (size_t i = 0; p && i < r->n; i++)
        p[i] = r->cells[i].text;
    return p;
}

static sdb_res_t *run(sdb_t *db, buf_t *sql, const char *const *params, int n)
{
    sdb_res_t *res = buf_cstr(sql) ? sdb_query(db, sql->p, params, n) : NULL;
    buf_free(sql);
    return res;
}

static void append_insert(sdb_t *db, const admin_row_t *r, buf_t *sql)
{
    buf_append_cstr(sql, "INSERT INTO ");
    store_schema_quote(sql, r->table->name);
    if (r->n == 0) {
        buf_append_cstr(sql, " DEFAULT VALUES");
        return;
    }
    buf_append_cstr(sql, " (");
    for (size_t i = 0; i < r->n; i++) {
        if (i)
            buf_append_cstr(sql, ", ");
        store_schema_quote(sql, r->cells[i].col->name);
    }
    buf_append_cstr(sql, ") VALUES (");
    for (size_t i = 0; i < r->n; i++) {
        if (i)
            buf_append_cstr(sql, ", ");
        sdb_param(db, r->cells[i].col, (int)i + 1, sql);
    }
    buf_append_cstr(sql, ")");
}

sdb_res_t *admin_row_insert(sdb_t *db, const admin_row_t *r)
{
    buf_t sql = {0};
    const char **p = cell_params(r, 0);
    append_insert(db, r, &sql);
    append_returning(db, r->table, &sql);
    sdb_res_t *res = p ? run(db, &sql, p, (int)r->n) : NULL;
    buf_free(&sql);
    free(p);
    return res;
}

sdb_res_t *admin_row_update(sdb_t *db, const admin_row_t *r, const char *key_col, const char *key)
{
    const store_column_t *kc = store_schema_column(r->table, key_col);
    if (!kc)
        return NULL;
    if (r->n == 0)
        return admin_rows_select(db, r->table, key_col, key, NULL);
    buf_t sql = {0};
    const char **p = cell_params(r, 1);
    buf_append_cstr(&sql, "UPDATE ");
    store_schema_quote(&sql, r->table->name);
    buf_append_cstr(&sql, " SET ");
    for (size_t i = 0; i < r->n; i++) {
        if (i)
            buf_append_cstr(&sql, ", ");
        store_schema_quote(&sql, r->cells[i].col->name);
        buf_append_cstr(&sql, " = ");
        sdb_param(db, r->cells[i].col, (int)i + 1, &sql);
    }
    buf_append_cstr(&sql, " WHERE ");
    store_schema_quote(&sql, key_col);
    buf_append_cstr(&sql, " = ");
    sdb_param(db, kc, (int)r->n + 1, &sql);
    append_returning(db, r->table, &sql);
    sdb_res_t *res = NULL;
    if (p) {
        p[r->n] = key;
        res = run(db, &sql, p, (int)r->n + 1);
    }
    buf_free(&sql);
    free(p);
    return res;
}

sdb_res_t *admin_row_upsert(sdb_t *db, const admin_row_t *r, const char *conflict_col)
{
    buf_t sql = {0};
    const char **p = cell_params(r, 0);
    append_insert(db, r, &sql);
    buf_append_cstr(&sql, " ON CONFLICT (");
    store_schema_quote(&sql, conflict_col);
    buf_append_cstr(&sql, ") DO UPDATE SET ");
    size_t set = 0;
    for (size_t i = 0; i < r->n; i++) {
        const char *name = r->cells[i].col->name;
        if (strcmp(name, conflict_col) == 0)
            continue;
        if (set++)
            buf_append_cstr(&sql, ", ");
        store_schema_quote(&sql, name);
        buf_append_cstr(&sql, " = excluded.");
        store_schema_quote(&sql, name);
    }
    if (!set) { /* nothing to change: a no-op update still returns the row */
        store_schema_quote(&sql, conflict_col);
        buf_append_cstr(&sql, " = excluded.");
        store_schema_quote(&sql, conflict_col);
    }
    append_returning(db, r->table, &sql);
    sdb_res_t *res = p ? run(db, &sql, p, (int)r->n) : NULL;
    buf_free(&sql);
    free(p);
    return res;
}

sdb_res_t *admin_rows_select(sdb_t *db, const store_table_t *t, const char *col, const char *value,
                             const char *order_by)
{
    buf_t sql = {0};
    buf_append_cstr(&sql, "SELECT ");
    sdb_select_all(db, t, NULL, &sql);
    buf_append_cstr(&sql, " FROM ");
    store_schema_quote(&sql, t->name);
    const store_column_t *c = col ? store_schema_column(t, col) : NULL;
    if (col && !c) {
        buf_free(&sql);
        return NULL;
    }
    if (c) {
        buf_append_cstr(&sql, " WHERE ");
        store_schema_quote(&sql, col);
        buf_append_cstr(&sql, " = ");
        sdb_param(db, c, 1, &sql);
    }
    if (order_by)
        buf_printf(&sql, " ORDER BY %s", order_by);
    const char *params[] = {value};
    return run(db, &sql, params, c ? 1 : 0);
}

sdb_res_t *admin_rows_delete(sdb_t *db, const store_table_t *t, const char *col, const char *value)
{
    const store_column_t *c = store_schema_column(t, col);
    if (!c)
        return NULL;
    buf_t sql = {0};
    buf_append_cstr(&sql, "DELETE FROM ");
    store_schema_quote(&sql, t->name);
    buf_append_cstr(&sql, " WHERE ");
    store_schema_quote(&sql, col);
    buf_append_cstr(&sql, " = ");
    sdb_param(db, c, 1, &sql);
    append_returning(db, t, &sql);
    const char *params[] = {value};
    return run(db, &sql, params, 1);
}

/* ---- results --------------------------------------------------------------------------------- */

cJSON *admin_rows_json(const store_table_t *t, const sdb_res_t *r)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; list && i < sdb_res_rows(r); i++) {
        cJSON *o = sdb_row_json(t, r, i);
        if (!o || !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            cJSON_Delete(list);
            return NULL;
        }
    }
    return list;
}

cJSON *admin_row_json_or_null(const store_table_t *t, const sdb_res_t *r, size_t row)
{
    return r && row < sdb_res_rows(r) ? sdb_row_json(t, r, row) : cJSON_CreateNull();
}

void admin_json_drop_nulls(cJSON *v)
{
    cJSON *it = v ? v->child : NULL;
    while (it) {
        cJSON *next = it->next;
        if (cJSON_IsObject(v) && cJSON_IsNull(it))
            cJSON_Delete(cJSON_DetachItemViaPointer(v, it));
        else if (cJSON_IsObject(it) || cJSON_IsArray(it))
            admin_json_drop_nulls(it);
        it = next;
    }
}

const char *admin_res_text(const sdb_res_t *r, size_t row, const char *name)
{
    int col = sdb_res_col(r, name);
    return col < 0 ? NULL : sdb_res_get(r, row, col);
}

/* qsort has no context argument: the index being sorted, one sort at a time (one thread). */
static _Thread_local const admin_res_index_t *sorting;

static int cmp_text(const char *x, const char *y)
{
    if (!x || !y)
        return x ? 1 : y ? -1 : 0; /* NULLs first */
    return strcmp(x, y);
}

static int cmp_rows(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    return cmp_text(sdb_res_get(sorting->r, a, sorting->col),
                    sdb_res_get(sorting->r, b, sorting->col));
}

int admin_res_index(admin_res_index_t *ix, const sdb_res_t *r, const char *name)
{
    memset(ix, 0, sizeof *ix);
    ix->r = r;
    ix->col = sdb_res_col(r, name);
    if (ix->col < 0)
        return -1;
    ix->n = sdb_res_rows(r);
    ix->order = malloc((ix->n ? ix->n : 1) * sizeof *ix->order);
    if (!ix->order)
        return -1;
    for (size_t i = 0; i < ix->n; i++)
        ix->order[i] = i;
    sorting = ix;
    qsort(ix->order, ix->n, sizeof *ix->order, cmp_rows);
    sorting = NULL;
    return 0;
}

size_t admin_res_index_find(const admin_res_index_t *ix, const char *key, size_t *first)
{
    *first = 0;
    if (!key || !ix->order)
        return 0;
    size_t lo = 0, hi = ix->n;
    while (lo < hi) { /* the first position whose text is >= key */
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_text(sdb_res_get(ix->r, ix->order[mid], ix->col), key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < ix->n && cmp_text(sdb_res_get(ix->r, ix->order[end], ix->col), key) == 0)
        end++;
    *first = lo;
    return end - lo;
}

void admin_res_index_free(admin_res_index_t *ix)
{
    free(ix->order);
    memset(ix, 0, sizeof *ix);
}

/* ---- values ---------------------------------------------------------------------------------- */

long long admin_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void admin_time_text(long long ms, char out[24])
{
    sdb_time_format(ms, out);
}

void admin_now_text(char out[24])
{
    admin_time_text(admin_now_ms(), out);
}

int admin_uuid(char out[37])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
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
    return 0;
}

cJSON *admin_body_object(const admin_call_t *call, admin_result_t *res)
{
    cJSON *doc =
        call->body_len ? cJSON_ParseWithLength(call->body, call->body_len) : cJSON_CreateObject();
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        admin_bad_request(res, NULL, "Invalid JSON body: expected a JSON object");
        return NULL;
    }
    return doc;
}

int admin_json_strings(const cJSON *v, store_strlist_t *out)
{
    if (!admin_json_is_strings(v))
        return -1;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (store_strlist_push(out, it->valuestring) < 0)
            return -2;
    }
    return 0;
}

/* Python's repr of one str: single quotes unless the text holds ' and no ". */
static int py_repr_str(const char *s, buf_t *out)
{
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    int rc = buf_append(out, &q, 1);
    for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
        if (*p == '\\' || *p == (unsigned char)q)
            rc = buf_printf(out, "\\%c", *p);
        else if (*p == '\n')
            rc = buf_append_cstr(out, "\\n");
        else if (*p == '\r')
            rc = buf_append_cstr(out, "\\r");
        else if (*p == '\t')
            rc = buf_append_cstr(out, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            rc = buf_printf(out, "\\x%02x", *p);
        else
            rc = buf_append(out, p, 1);
    }
    return rc ? rc : buf_append(out, &q, 1);
}

int admin_py_repr_list(const store_strlist_t *l, buf_t *out)
{
    int rc = buf_append_cstr(out, "[");
    for (size_t i = 0; i < l->n && rc == 0; i++) {
        if (i)
            rc = buf_append_cstr(out, ", ");
        if (rc == 0)
            rc = py_repr_str(l->v[i], out);
    }
    return rc ? rc : buf_append_cstr(out, "]");
}

int admin_key_token(const char *ref, char out[ADMIN_TOKEN_LEN + 1])
{
    auth_hash_t h;
    if (strncmp(ref, "sk-", 3) == 0) {
        if (auth_key_hash(str_cstr(ref), &h) == 0) {
            auth_hash_hex(&h, out);
            return 0;
        }
        snprintf(out, ADMIN_TOKEN_LEN + 1, "%s", ref);
        return -1;
    }
    snprintf(out, ADMIN_TOKEN_LEN + 1, "%s", ref);
    return 0;
}

int admin_strlist_add(store_strlist_t *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 0;
    return store_strlist_push(l, s);
}

int admin_tokens_add(sdb_t *db, const char *sql, const char *const *params, int n,
                     store_strlist_t *out)
{
    sdb_res_t *r = sdb_query(db, sql, params, n);
    if (!r)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sdb_res_rows(r); i++) {
        const char *t = sdb_res_get(r, i, 0);
        if (t && admin_strlist_add(out, t) < 0)
            rc = -2;
    }
    sdb_res_free(r);
    return rc;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

bool admin_json_is_strings(const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return false;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it))
            return false;
    }
    return true;
}

cJSON *admin_json_text(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

bool admin_json_put(cJSON *o, const char *name, cJSON *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, name);
    if (!v || !cJSON_AddItemToObject(o, name, v)) {
        cJSON_Delete(v);
        return false;
    }
    return true;
}

bool admin_json_append(cJSON *array, cJSON *item)
{
    if (!item || !cJSON_AddItemToArray(array, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

/* ---- answers --------------------------------------------------------------------------------- */

void admin_set_errorv(admin_result_t *res, int status, const char *type, const char *param,
                      const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    admin_set_error(res, status, type, param, "%s", msg);
}

void admin_bad_request(admin_result_t *res, const char *param, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    admin_set_errorv(res, 400, "bad_request_error", param, fmt, ap);
    va_end(ap);
}

void admin_bad_field(admin_result_t *res, const store_table_t *t, const char *field)
{
    static const char *const want[] = {
        [STORE_TYPE_TEXT] = "a string",         [STORE_TYPE_FLOAT] = "a number",
        [STORE_TYPE_INT] = "an integer",        [STORE_TYPE_BIGINT] = "an integer",
        [STORE_TYPE_BOOL] = "a boolean",        [STORE_TYPE_JSON] = "JSON",
        [STORE_TYPE_TIME] = "an ISO 8601 time", [STORE_TYPE_TEXT_LIST] = "a list of strings",
    };
    const store_column_t *c = t ? store_schema_column(t, field) : NULL;
    admin_bad_request(res, field, "Invalid value for '%s': expected %s", field,
                      c ? want[c->type] : "another type");
}

void admin_oom(admin_result_t *res)
{
    admin_set_error(res, 500, "internal_server_error", NULL, "out of memory");
}

void admin_oom_unless_set(admin_result_t *res)
{
    if (!res->body)
        admin_oom(res);
}

void admin_answer(admin_result_t *res, cJSON *doc)
{
    if (doc)
        admin_set_body(res, 200, doc);
    else
        admin_oom_unless_set(res);
}

/* ---- requests -------------------------------------------------------------------------------- */

long long admin_query_int(const admin_call_t *call, const char *name, long long dflt)
{
    char *v = admin_query_get(call->query, call->query_len, name);
    if (!v)
        return dflt;
    char *end;
    long long n = strtoll(v, &end, 10);
    bool ok = *v && !*end && n >= 1;
    free(v);
    return ok ? n : -1;
}

int admin_query_page(const admin_call_t *call, const char *size_name, long long size_default,
                     long long size_max, long long *page, long long *size, admin_result_t *res)
{
    *page = admin_query_int(call, "page", 1);
    *size = admin_query_int(call, size_name, size_default);
    if (*page < 1) {
        admin_bad_request(res, "page", "page must be an integer >= 1");
        return -1;
    }
    if (*size < 1 || *size > size_max) {
        admin_bad_request(res, size_name, "%s must be an integer between 1 and %lld", size_name,
                          size_max);
        return -1;
    }
    return 0;
}

const char *admin_body_string(const cJSON *body, const char *name, bool nonempty, const char *msg,
                              admin_result_t *res)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    if (cJSON_IsString(v) && (!nonempty || v->valuestring[0]))
        return v->valuestring;
    admin_bad_request(res, name, "%s", msg);
    return NULL;
}

int admin_body_strings(const cJSON *body, const char *name, store_strlist_t *out,
                       const char *not_list, const char *empty, admin_result_t *res)
{
    int rc = admin_json_strings(cJSON_GetObjectItemCaseSensitive(body, name), out);
    if (rc == -2) {
        admin_oom(res);
        return -1;
    }
    if (rc < 0 || (empty && out->n == 0)) {
        admin_bad_request(res, name, "%s", rc < 0 ? not_list : empty);
        return -1;
    }
    return 0;
}

int admin_row_take(admin_row_t *r, const cJSON *obj, const char *const *fields, bool skip_null,
                   admin_result_t *res)
{
    const char *bad = NULL;
    int rc = admin_row_from_json(r, obj, fields, skip_null, &bad);
    if (rc == -1)
        admin_bad_field(res, r->table, bad);
    else if (rc < 0)
        admin_oom(res);
    return rc < 0 ? -1 : 0;
}

/* Sets column `name` to text unless keep and the row has it already. */
static int set_unless_given(admin_row_t *r, const char *name, const char *text, bool keep)
{
    return keep && admin_row_get(r, name) ? 0 : admin_row_set(r, name, text);
}

int admin_row_stamp(admin_row_t *r, bool created)
{
    char now[24];
    admin_now_text(now);
    if (created && (set_unless_given(r, "created_at", now, false) < 0 ||
                    set_unless_given(r, "created_by", ADMIN_PROXY_ADMIN_NAME, true) < 0))
        return -1;
    return set_unless_given(r, "updated_at", now, false) < 0 ||
                   set_unless_given(r, "updated_by", ADMIN_PROXY_ADMIN_NAME, true) < 0
               ? -1
               : 0;
}

/* ---- reads and the call's transaction -------------------------------------------------------- */

int admin_row_exists(sdb_t *db, const store_table_t *t, const char *col, const char *value)
{
    const store_column_t *c = store_schema_column(t, col);
    if (!c)
        return -1;
    buf_t sql = {0};
    buf_append_cstr(&sql, "SELECT 1 FROM ");
    store_schema_quote(&sql, t->name);
    buf_append_cstr(&sql, " WHERE ");
    store_schema_quote(&sql, col);
    buf_append_cstr(&sql, " = ");
    sdb_param(db, c, 1, &sql);
    buf_append_cstr(&sql, " LIMIT 1");
    const char *params[] = {value};
    sdb_res_t *r = run(db, &sql, params, 1);
    if (!r)
        return -1;
    int found = sdb_res_rows(r) > 0;
    sdb_res_free(r);
    return found;
}

sdb_res_t *admin_rows_find(admin_t *a, const store_table_t *t, const char *col, const char *value,
                           admin_result_t *res, const char *type, const char *param,
                           const char *fmt, ...)
{
    sdb_res_t *r = admin_rows_select(a->db, t, col, value, NULL);
    if (!r) {
        admin_set_db_error(res, a);
        return NULL;
    }
    if (sdb_res_rows(r))
        return r;
    sdb_res_free(r);
    va_list ap;
    va_start(ap, fmt);
    admin_set_errorv(res, 404, type, param, fmt, ap);
    va_end(ap);
    return NULL;
}

int admin_rows_all_exist(admin_t *a, const store_table_t *t, const char *col,
                         const store_strlist_t *ids, admin_result_t *res, const char *param,
                         const char *fmt)
{
    for (size_t i = 0; i < ids->n; i++) {
        int found = admin_row_exists(a->db, t, col, ids->v[i]);
        if (found < 0)
            admin_set_db_error(res, a);
        else if (!found)
            admin_set_error(res, 404, "not_found_error", param, fmt, ids->v[i]);
        if (found != 1)
            return -1;
    }
    return 0;
}

int admin_row_absent(admin_t *a, const store_table_t *t, const char *col, const char *value,
                     admin_result_t *res, int status, const char *type, const char *param,
                     const char *fmt, ...)
{
    int found = admin_row_exists(a->db, t, col, value);
    if (found < 0)
        admin_set_db_error(res, a);
    if (found <= 0)
        return found;
    va_list ap;
    va_start(ap, fmt);
    admin_set_errorv(res, status, type, param, fmt, ap);
    va_end(ap);
    return -1;
}

sdb_res_t *admin_rows_find_query(admin_t *a, const admin_call_t *call, const char *name,
                                 const store_table_t *t, const char *col, admin_result_t *res,
                                 const char *type, const char *fmt)
{
    char *value = admin_query_get(call->query, call->query_len, name);
    if (!value) {
        admin_bad_request(res, name, "%s is required", name);
        return NULL;
    }
    sdb_res_t *r = admin_rows_find(a, t, col, value, res, type, name, fmt, value);
    free(value);
    return r;
}

cJSON *admin_rows_json_of(admin_t *a, const store_table_t *t, const char *col, const char *value,
                          const char *order_by, admin_result_t *res)
{
    sdb_res_t *r = admin_rows_select(a->db, t, col, value, order_by);
    if (!r) {
        admin_set_db_error(res, a);
        return NULL;
    }
    cJSON *rows = admin_rows_json(t, r);
    sdb_res_free(r);
    if (!rows)
        admin_oom(res);
    return rows;
}

sdb_res_t *admin_query_sql(admin_t *a, buf_t *sql, const char *tail, const char *const *params,
                           int n, admin_result_t *res)
{
    if ((tail && buf_append_cstr(sql, tail) < 0) || !buf_cstr(sql)) {
        admin_oom(res);
        return NULL;
    }
    sdb_res_t *r = sdb_query(a->db, sql->p, params, n);
    if (!r)
        admin_set_db_error(res, a);
    return r;
}

int admin_list_total(sdb_t *db, const sdb_res_t *r, long long page, const char *count_sql,
                     const char *const *params, int n, long long *total)
{
    const char *v = NULL;
    sdb_res_t *count = NULL;
    if (sdb_res_rows(r)) {
        v = admin_res_text(r, 0, "total_count");
    } else if (page > 1) { /* an empty page past the end: count without the window */
        if (!(count = sdb_query(db, count_sql, params, n)))
            return -1;
        v = sdb_res_rows(count) ? sdb_res_get(count, 0, 0) : NULL;
    }
    *total = v ? strtoll(v, NULL, 10) : 0;
    sdb_res_free(count);
    return 0;
}

int admin_tx_begin(admin_t *a, bool *open, admin_result_t *res)
{
    if (sdb_begin(a->db) < 0) {
        admin_set_db_error(res, a);
        return -1;
    }
    *open = true;
    return 0;
}

int admin_tx_commit(admin_t *a, bool *open, admin_result_t *res)
{
    if (sdb_commit(a->db) < 0) {
        admin_set_db_error(res, a);
        return -1;
    }
    *open = false;
    return 0;
}

void admin_tx_end(admin_t *a, bool open, admin_result_t *res)
{
    if (!open)
        return;
    sdb_rollback(a->db);
    store_strlist_free(&res->invalidated);
}
