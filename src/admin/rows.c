/* SPDX-License-Identifier: MIT
 * admin rows (rows.h): request members become typed cells of one table's row; cells become
 * INSERT / UPDATE / upsert ... RETURNING every column in sdb's storage forms; SELECT and DELETE by
 * one column; results become LiteLLM's JSON. Plus the small values every handler needs. The
 * statements are built per call from the schema, so one file serves every table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "admin/rows.h"

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
    if (!cJSON_IsArray(v))
        return -1;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it))
            return -1;
    }
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

void admin_bad_request(admin_result_t *res, const char *param, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    admin_set_error(res, 400, "bad_request_error", param, "%s", msg);
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
