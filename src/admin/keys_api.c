/* SPDX-License-Identifier: MIT
 * The /key/... management handlers: LiteLLM's request fields mapped onto a VerificationToken row,
 * the row mapped back onto LiteLLM's response JSON, and the checks LiteLLM makes on the way
 * (custom key format, unique alias, durations). Rows go through store_sqlite_key_*; listing and
 * alias lookups use a read-only connection until the store offers them. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "admin/admin.h"
#include "auth/keys.h"

#define CUSTOM_KEY_MIN 16 /* LiteLLM refuses shorter custom keys */
#define LIST_SIZE_DEFAULT 10
#define LIST_SIZE_MAX 100
#define TOKEN_HEX_LEN (2 * AUTH_HASH_LEN)

struct admin_keys {
    store_sqlite_t *db;
    sqlite3 *ro;
};

void admin_result_free(admin_result_t *r)
{
    free(r->body);
    r->body = NULL;
    store_strlist_free(&r->invalidated);
}

admin_keys_t *admin_keys_open(store_sqlite_t *db, const char *path, char **err)
{
    admin_keys_t *a = calloc(1, sizeof *a);
    if (!a)
        goto fail;
    a->db = db;
    if (sqlite3_open_v2(path, &a->ro, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(a->ro, 5000);
    return a;
fail:
    if (err) {
        const char *m = a && a->ro ? sqlite3_errmsg(a->ro) : "out of memory";
        *err = strdup(m);
    }
    if (a)
        sqlite3_close(a->ro);
    free(a);
    return NULL;
}

void admin_keys_close(admin_keys_t *a)
{
    if (!a)
        return;
    sqlite3_close(a->ro);
    free(a);
}

/* ---- responses --------------------------------------------------------------------------------
 */

static void set_body(admin_result_t *res, int status, cJSON *doc)
{
    res->status = status;
    res->body = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!res->body) {
        res->status = 500;
        res->body = strdup("{\"error\":{\"message\":\"out of memory\",\"type\":\"internal_server_"
                           "error\",\"param\":\"None\",\"code\":\"500\"}}");
    }
}

/* LiteLLM's ProxyException envelope: code is a string, param the string "None" when absent. */
static void set_error(admin_result_t *res, int status, const char *type, const char *param,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void set_error(admin_result_t *res, int status, const char *type, const char *param,
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
    set_body(res, status, doc);
    store_strlist_free(&res->invalidated);
}

static void set_bad_request(admin_result_t *res, const char *param, const char *msg)
{
    set_error(res, 400, "bad_request_error", param, "%s", msg);
}

static void set_internal(admin_result_t *res, admin_keys_t *a)
{
    set_error(res, 500, "internal_server_error", NULL, "database error: %s",
              store_sqlite_errmsg(a->db));
}

static void set_not_found(admin_result_t *res, const char *key)
{
    set_error(res, 404, "not_found_error", "key", "Key not found in database: %s", key);
}

static void result_init(admin_result_t *res)
{
    memset(res, 0, sizeof *res);
}

/* Python's datetime.isoformat() of an aware UTC time: "2025-01-02T03:04:05.678000+00:00". */
static cJSON *time_json(long long ms)
{
    if (ms == STORE_TIME_NULL)
        return cJSON_CreateNull();
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char out[64];
    gmtime_r(&s, &tm);
    snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03d000+00:00", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return cJSON_CreateString(out);
}

static cJSON *str_json(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *int_json(long long v)
{
    return v == STORE_INT_NULL ? cJSON_CreateNull() : cJSON_CreateNumber((double)v);
}

/* A JSON column as a value; an absent or unparsable one is {} (Prisma's default). */
static cJSON *obj_json(const char *s)
{
    cJSON *v = s ? cJSON_Parse(s) : NULL;
    return v ? v : cJSON_CreateObject();
}

static cJSON *list_json(const store_strlist_t *l)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < l->n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(l->v[i]));
    return arr;
}

/* Every column of the row, named as LiteLLM's LiteLLM_VerificationToken model. */
static void key_to_json(const store_key_t *k, cJSON *o)
{
    cJSON_AddItemToObject(o, "token", str_json(k->token));
    cJSON_AddItemToObject(o, "key_name", str_json(k->key_name));
    cJSON_AddItemToObject(o, "key_alias", str_json(k->key_alias));
    cJSON_AddNumberToObject(o, "spend", k->spend);
    cJSON_AddItemToObject(o, "max_budget",
                          isnan(k->max_budget) ? cJSON_CreateNull()
                                               : cJSON_CreateNumber(k->max_budget));
    cJSON_AddItemToObject(o, "expires", time_json(k->expires));
    cJSON_AddItemToObject(o, "models", list_json(&k->models));
    cJSON_AddItemToObject(o, "aliases", obj_json(k->aliases));
    cJSON_AddItemToObject(o, "config", obj_json(k->config));
    cJSON_AddItemToObject(o, "router_settings", obj_json(k->router_settings));
    cJSON_AddItemToObject(o, "user_id", str_json(k->user_id));
    cJSON_AddItemToObject(o, "team_id", str_json(k->team_id));
    cJSON_AddItemToObject(o, "agent_id", str_json(k->agent_id));
    cJSON_AddItemToObject(o, "project_id", str_json(k->project_id));
    cJSON_AddItemToObject(o, "organization_id", str_json(k->organization_id));
    cJSON_AddItemToObject(o, "budget_id", str_json(k->budget_id));
    cJSON_AddItemToObject(o, "permissions", obj_json(k->permissions));
    cJSON_AddItemToObject(o, "max_parallel_requests", int_json(k->max_parallel_requests));
    cJSON_AddItemToObject(o, "metadata", obj_json(k->metadata));
    cJSON_AddItemToObject(o, "blocked",
                          k->blocked < 0 ? cJSON_CreateNull() : cJSON_CreateBool(k->blocked));
    cJSON_AddItemToObject(o, "tpm_limit", int_json(k->tpm_limit));
    cJSON_AddItemToObject(o, "rpm_limit", int_json(k->rpm_limit));
    cJSON_AddBoolToObject(o, "soft_budget_cooldown", k->soft_budget_cooldown);
    cJSON_AddItemToObject(o, "budget_duration", str_json(k->budget_duration));
    cJSON_AddItemToObject(o, "budget_reset_at", time_json(k->budget_reset_at));
    cJSON_AddItemToObject(o, "allowed_cache_controls", list_json(&k->allowed_cache_controls));
    cJSON_AddItemToObject(o, "allowed_routes", list_json(&k->allowed_routes));
    cJSON_AddItemToObject(o, "policies", list_json(&k->policies));
    cJSON_AddItemToObject(o, "access_group_ids", list_json(&k->access_group_ids));
    cJSON_AddItemToObject(o, "model_spend", obj_json(k->model_spend));
    cJSON_AddItemToObject(o, "model_max_budget", obj_json(k->model_max_budget));
    cJSON_AddItemToObject(o, "budget_limits",
                          k->budget_limits ? obj_json(k->budget_limits) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "object_permission_id", str_json(k->object_permission_id));
    cJSON_AddItemToObject(o, "created_at", time_json(k->created_at));
    cJSON_AddItemToObject(o, "created_by", str_json(k->created_by));
    cJSON_AddItemToObject(o, "updated_at", time_json(k->updated_at));
    cJSON_AddItemToObject(o, "updated_by", str_json(k->updated_by));
    cJSON_AddItemToObject(o, "last_active", time_json(k->last_active));
}

/* GenerateKeyResponse: the row, the plaintext key (shown once), token_id = token, and the
 * request-only fields echoed (duration, and whatever else the body had that is not a column). */
static cJSON *generate_response(const store_key_t *k, const char *plain, const cJSON *req)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, req)
    {
        if (it->string)
            cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, true));
    }
    static const char *const own[] = {"key", "token", "token_id", "key_name", "expires"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(o, own[i]);
    cJSON *row = cJSON_CreateObject();
    key_to_json(k, row);
    cJSON *f = row ? row->child : NULL;
    while (f) {
        cJSON *next = f->next;
        cJSON_DetachItemViaPointer(row, f);
        cJSON_DeleteItemFromObjectCaseSensitive(o, f->string);
        cJSON_AddItemToObject(o, f->string, f);
        f = next;
    }
    cJSON_Delete(row);
    cJSON_AddStringToObject(o, "key", plain);
    cJSON_AddStringToObject(o, "token_id", k->token);
    if (!cJSON_GetObjectItemCaseSensitive(o, "duration"))
        cJSON_AddNullToObject(o, "duration");
    cJSON_AddStringToObject(o, "key_type", "default");
    cJSON_AddNullToObject(o, "litellm_budget_table");
    return o;
}

/* ---- requests ---------------------------------------------------------------------------------
 */

static cJSON *parse_body(const char *body, size_t len, admin_result_t *res)
{
    cJSON *doc = len ? cJSON_ParseWithLength(body, len) : cJSON_CreateObject();
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        set_bad_request(res, NULL, "Invalid JSON body: expected a JSON object");
        return NULL;
    }
    return doc;
}

static int dup_str(char **dst, const char *s)
{
    char *c = s ? strdup(s) : NULL;
    if (s && !c)
        return -1;
    free(*dst);
    *dst = c;
    return 0;
}

/* The token hash a client's key reference names: a "sk-" key is hashed, anything else is taken as
 * the stored token itself, as LiteLLM does. */
static int key_ref_hash(const char *ref, char out[TOKEN_HEX_LEN + 1])
{
    if (strncmp(ref, "sk-", 3) == 0) {
        auth_hash_t h;
        if (auth_key_hash(str_cstr(ref), &h) < 0)
            return -1;
        auth_hash_hex(&h, out);
        return 0;
    }
    snprintf(out, TOKEN_HEX_LEN + 1, "%s", ref);
    return 0;
}

/* The token of the key whose alias is `alias` (other than `except`): 0 found, 1 none, -1. */
static int find_alias(admin_keys_t *a, const char *alias, const char *except,
                      char out[TOKEN_HEX_LEN + 1])
{
    sqlite3_stmt *s = NULL;
    const char *sql = "SELECT token FROM \"LiteLLM_VerificationToken\" WHERE key_alias = ?1 AND "
                      "token IS NOT ?2 LIMIT 1";
    if (sqlite3_prepare_v2(a->ro, sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, alias, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, except, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s), ret = rc == SQLITE_DONE ? 1 : -1;
    if (rc == SQLITE_ROW) {
        snprintf(out, TOKEN_HEX_LEN + 1, "%s", (const char *)sqlite3_column_text(s, 0));
        ret = 0;
    }
    sqlite3_finalize(s);
    return ret;
}

static const char *type_error(const char *field, const char *want)
{
    static _Thread_local char msg[256];
    snprintf(msg, sizeof msg, "Invalid value for '%s': expected %s", field, want);
    return msg;
}

static int set_strlist(store_strlist_t *l, const cJSON *v)
{
    store_strlist_free(l);
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (store_strlist_push(l, it->valuestring) < 0)
            return -1;
    }
    return 0;
}

static bool is_str_array(const cJSON *v)
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

static int set_json_col(char **dst, const cJSON *v)
{
    char *t = cJSON_PrintUnformatted(v);
    if (!t)
        return -1;
    free(*dst);
    *dst = t;
    return 0;
}

typedef enum { F_STR, F_LIST, F_OBJ, F_INT, F_NUM, F_BOOL } field_kind_t;

typedef struct {
    const char *name;
    field_kind_t kind;
    size_t offset;
} body_field_t;

#define BF(n, k, m)                                                                                \
    {                                                                                              \
        n, k, offsetof(store_key_t, m)                                                             \
    }
/* Request fields that are columns as they are. */
static const body_field_t body_fields[] = {
    BF("key_alias", F_STR, key_alias),
    BF("user_id", F_STR, user_id),
    BF("team_id", F_STR, team_id),
    BF("organization_id", F_STR, organization_id),
    BF("project_id", F_STR, project_id),
    BF("agent_id", F_STR, agent_id),
    BF("budget_id", F_STR, budget_id),
    BF("models", F_LIST, models),
    BF("allowed_cache_controls", F_LIST, allowed_cache_controls),
    BF("allowed_routes", F_LIST, allowed_routes),
    BF("policies", F_LIST, policies),
    BF("access_group_ids", F_LIST, access_group_ids),
    BF("metadata", F_OBJ, metadata),
    BF("aliases", F_OBJ, aliases),
    BF("config", F_OBJ, config),
    BF("permissions", F_OBJ, permissions),
    BF("model_max_budget", F_OBJ, model_max_budget),
    BF("router_settings", F_OBJ, router_settings),
    BF("tpm_limit", F_INT, tpm_limit),
    BF("rpm_limit", F_INT, rpm_limit),
    BF("max_parallel_requests", F_INT, max_parallel_requests),
    BF("max_budget", F_NUM, max_budget),
    BF("blocked", F_BOOL, blocked),
};
#undef BF

/* Applies the body's fields to the row (present fields only; null clears). NULL, or the message
 * of a 400 (with *param the field), or "" on no memory. */
static const char *apply_body(const cJSON *req, store_key_t *k, long long now_ms,
                              const char **param)
{
    for (size_t i = 0; i < sizeof body_fields / sizeof body_fields[0]; i++) {
        const body_field_t *f = &body_fields[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, f->name);
        void *p = (char *)k + f->offset;
        *param = f->name;
        if (!v)
            continue;
        bool null = cJSON_IsNull(v);
        switch (f->kind) {
        case F_STR:
            if (!null && !cJSON_IsString(v))
                return type_error(f->name, "a string");
            if (dup_str(p, null ? NULL : v->valuestring) < 0)
                return "";
            break;
        case F_LIST:
            if (!null && !is_str_array(v))
                return type_error(f->name, "a list of strings");
            if (set_strlist(p, null ? NULL : v) < 0)
                return "";
            break;
        case F_OBJ:
            if (null) {
                free(*(char **)p);
                *(char **)p = NULL;
                break;
            }
            if (!cJSON_IsObject(v))
                return type_error(f->name, "an object");
            if (set_json_col(p, v) < 0)
                return "";
            break;
        case F_INT:
            if (!null && (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble)))
                return type_error(f->name, "an integer");
            *(long long *)p = null ? STORE_INT_NULL : (long long)v->valuedouble;
            break;
        case F_NUM:
            if (!null && !cJSON_IsNumber(v))
                return type_error(f->name, "a number");
            *(double *)p = null ? NAN : v->valuedouble;
            break;
        case F_BOOL:
            if (!null && !cJSON_IsBool(v))
                return type_error(f->name, "a boolean");
            *(int *)p = null ? -1 : cJSON_IsTrue(v);
            break;
        }
    }
    /* duration: expires from now; null or "-1" (update) means never */
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "duration");
    *param = "duration";
    if (v && !cJSON_IsNull(v) && !(cJSON_IsString(v) && strcmp(v->valuestring, "-1") == 0)) {
        auth_duration_t d;
        if (!cJSON_IsString(v) || auth_duration_parse(str_cstr(v->valuestring), &d) < 0)
            return "Invalid duration: use a number and a unit: 30s, 30m, 30h, 30d or 1mo";
        k->expires = auth_duration_add(&d, now_ms / 1000) * 1000;
    } else if (v) {
        k->expires = STORE_TIME_NULL;
    }
    v = cJSON_GetObjectItemCaseSensitive(req, "budget_duration");
    *param = "budget_duration";
    if (v && !cJSON_IsNull(v)) {
        auth_duration_t d;
        if (!cJSON_IsString(v) || auth_duration_parse(str_cstr(v->valuestring), &d) < 0)
            return "Invalid budget_duration: use a number and a unit: 30s, 30m, 30h, 30d or 1mo";
        if (dup_str(&k->budget_duration, v->valuestring) < 0)
            return "";
        k->budget_reset_at = auth_budget_next_reset(&d, now_ms / 1000) * 1000;
    } else if (v) {
        free(k->budget_duration);
        k->budget_duration = NULL;
        k->budget_reset_at = STORE_TIME_NULL;
    }
    *param = NULL;
    return NULL;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The key's plaintext: the body's custom "key" (checked) or a new random one. NULL on success or
 * the 400 message. */
static const char *pick_key(const cJSON *custom, char **out)
{
    char gen[AUTH_KEY_LEN + 1];
    if (custom && !cJSON_IsNull(custom)) {
        if (!cJSON_IsString(custom))
            return type_error("key", "a string");
        const char *s = custom->valuestring;
        if (strncmp(s, "sk-", 3) != 0)
            return "Invalid key format. LiteLLM Virtual Key must start with 'sk-'.";
        if (strlen(s) < CUSTOM_KEY_MIN)
            return "Invalid key format. Custom key must be at least 16 characters long.";
        if (auth_key_is_raw_hash(str_cstr(s)))
            return "Invalid key format. A key must not look like a stored token.";
        *out = strdup(s);
    } else {
        if (auth_key_generate(gen) < 0)
            return "";
        *out = strdup(gen);
    }
    return *out ? NULL : "";
}

/* Checks the alias (unique over all keys but `self`); 0 ok, else res is set. */
static int check_alias(admin_keys_t *a, const store_key_t *k, const char *self, admin_result_t *res)
{
    char other[TOKEN_HEX_LEN + 1];
    if (!k->key_alias)
        return 0;
    int rc = find_alias(a, k->key_alias, self, other);
    if (rc < 0) {
        set_error(res, 500, "internal_server_error", NULL, "database error: %s",
                  sqlite3_errmsg(a->ro));
        return -1;
    }
    if (rc == 0) {
        set_error(res, 400, "bad_request_error", "key_alias",
                  "Key with alias '%s' already exists. Unique key aliases across all keys are "
                  "required.",
                  k->key_alias);
        return -1;
    }
    return 0;
}

/* Fills the row's key-derived columns from the plaintext. */
static int set_identity(store_key_t *k, const char *plain)
{
    auth_hash_t h;
    char hex[TOKEN_HEX_LEN + 1], name[AUTH_KEY_NAME_MAX];
    if (auth_key_hash(str_cstr(plain), &h) < 0)
        return -1;
    auth_hash_hex(&h, hex);
    auth_key_name(str_cstr(plain), name);
    if (dup_str(&k->token, hex) < 0 || dup_str(&k->key_name, name) < 0)
        return -1;
    return 0;
}

/* ---- handlers ---------------------------------------------------------------------------------
 */

void admin_key_generate(admin_keys_t *a, const char *body, size_t len, admin_result_t *res)
{
    result_init(res);
    store_key_t k;
    store_key_init(&k);
    char *plain = NULL;
    const char *msg, *param = NULL;
    cJSON *req = parse_body(body, len, res);
    if (!req)
        return;
    long long now = now_ms();
    k.spend = 0;
    if ((msg = apply_body(req, &k, now, &param)))
        goto bad;
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(req, "spend");
    if (sp && !cJSON_IsNull(sp)) {
        if (!cJSON_IsNumber(sp)) {
            msg = type_error("spend", "a number"), param = "spend";
            goto bad;
        }
        k.spend = sp->valuedouble;
    }
    param = "key";
    if ((msg = pick_key(cJSON_GetObjectItemCaseSensitive(req, "key"), &plain)))
        goto bad;
    if (set_identity(&k, plain) < 0) {
        msg = "";
        goto bad;
    }
    if (check_alias(a, &k, NULL, res) < 0)
        goto out;
    k.created_at = k.updated_at = now;
    int rc = store_sqlite_key_insert(a->db, &k);
    if (rc < 0) {
        set_internal(res, a);
        goto out;
    }
    if (rc == 1) {
        set_error(res, 400, "bad_request_error", "key",
                  "Key already exists. Use /key/regenerate or pick another custom key.");
        goto out;
    }
    /* a negative cache entry may exist for a custom key tried before it was created */
    if (store_strlist_push(&res->invalidated, k.token) < 0) {
        msg = "";
        goto bad;
    }
    set_body(res, 200, generate_response(&k, plain, req));
    goto out;
bad:
    if (*msg)
        set_bad_request(res, param, msg);
    else
        set_error(res, 500, "internal_server_error", NULL, "out of memory");
out:
    free(plain);
    store_key_free(&k);
    cJSON_Delete(req);
}

/* Loads the row a body's "key" (or, if allowed, "key_alias") names. 0 found, else res is set. */
static int load_target(admin_keys_t *a, const cJSON *req, bool by_alias, store_key_t *k,
                       const char **ref, admin_result_t *res)
{
    char hex[TOKEN_HEX_LEN + 1];
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(req, "key");
    const cJSON *alias = by_alias ? cJSON_GetObjectItemCaseSensitive(req, "key_alias") : NULL;
    store_key_init(k);
    if (cJSON_IsString(key)) {
        *ref = key->valuestring;
        if (key_ref_hash(*ref, hex) < 0)
            goto oom;
    } else if (cJSON_IsString(alias)) {
        *ref = alias->valuestring;
        int rc = find_alias(a, *ref, NULL, hex);
        if (rc < 0)
            goto oom;
        if (rc == 1) {
            set_not_found(res, *ref);
            return -1;
        }
    } else {
        set_bad_request(res, "key",
                        by_alias ? "Either 'key' or 'key_alias' is required" : "'key' is required");
        return -1;
    }
    int rc = store_sqlite_key_get(a->db, hex, k);
    if (rc < 0) {
        set_internal(res, a);
        return -1;
    }
    if (rc == 1) {
        set_not_found(res, *ref);
        return -1;
    }
    return 0;
oom:
    set_error(res, 500, "internal_server_error", NULL, "cannot resolve the key");
    return -1;
}

/* Writes a changed row and answers with it ({"key": ref, ...row}). */
static void write_and_answer(admin_keys_t *a, store_key_t *k, const char *ref, admin_result_t *res)
{
    k->updated_at = now_ms();
    int rc = store_sqlite_key_update(a->db, k);
    if (rc != 0) {
        if (rc == 1)
            set_not_found(res, ref);
        else
            set_internal(res, a);
        return;
    }
    if (store_strlist_push(&res->invalidated, k->token) < 0) {
        set_error(res, 500, "internal_server_error", NULL, "out of memory");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (o) {
        key_to_json(k, o);
        cJSON_AddStringToObject(o, "key", ref);
    }
    set_body(res, 200, o);
}

void admin_key_update(admin_keys_t *a, const char *body, size_t len, admin_result_t *res)
{
    result_init(res);
    store_key_t k;
    const char *ref, *msg, *param = NULL;
    cJSON *req = parse_body(body, len, res);
    if (!req)
        return;
    /* key_alias names the key only when "key" is absent; otherwise it is a new alias */
    bool by_alias = !cJSON_GetObjectItemCaseSensitive(req, "key");
    if (load_target(a, req, by_alias, &k, &ref, res) < 0)
        goto out;
    const cJSON *tb = cJSON_GetObjectItemCaseSensitive(req, "temp_budget_increase");
    const cJSON *te = cJSON_GetObjectItemCaseSensitive(req, "temp_budget_expiry");
    if ((tb && !cJSON_IsNull(tb)) != (te && !cJSON_IsNull(te))) {
        set_bad_request(res, "temp_budget_increase",
                        "temp_budget_expiry and temp_budget_increase must be set together");
        goto out;
    }
    if ((msg = apply_body(req, &k, now_ms(), &param))) {
        if (*msg)
            set_bad_request(res, param, msg);
        else
            set_error(res, 500, "internal_server_error", NULL, "out of memory");
        goto out;
    }
    if (check_alias(a, &k, k.token, res) < 0)
        goto out;
    write_and_answer(a, &k, ref, res);
out:
    store_key_free(&k);
    cJSON_Delete(req);
}

static void set_blocked(admin_keys_t *a, const char *body, size_t len, int blocked,
                        admin_result_t *res)
{
    result_init(res);
    store_key_t k;
    const char *ref;
    cJSON *req = parse_body(body, len, res);
    if (!req)
        return;
    if (load_target(a, req, false, &k, &ref, res) == 0) {
        k.blocked = blocked;
        write_and_answer(a, &k, ref, res);
    }
    store_key_free(&k);
    cJSON_Delete(req);
}

void admin_key_block(admin_keys_t *a, const char *body, size_t len, admin_result_t *res)
{
    set_blocked(a, body, len, 1, res);
}

void admin_key_unblock(admin_keys_t *a, const char *body, size_t len, admin_result_t *res)
{
    set_blocked(a, body, len, 0, res);
}

void admin_key_delete(admin_keys_t *a, const char *body, size_t len, admin_result_t *res)
{
    result_init(res);
    store_strlist_t tokens = {0};
    cJSON *req = parse_body(body, len, res);
    if (!req)
        return;
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(req, "keys");
    const cJSON *aliases = cJSON_GetObjectItemCaseSensitive(req, "key_aliases");
    bool use_keys = keys && !cJSON_IsNull(keys);
    const cJSON *list = use_keys ? keys : aliases;
    if (!list || cJSON_IsNull(list) || !is_str_array(list) || cJSON_GetArraySize(list) == 0) {
        set_bad_request(res, use_keys ? "keys" : "key_aliases",
                        "Either 'keys' or 'key_aliases' must be a non-empty list of strings");
        goto out;
    }
    /* resolve everything first: an unknown key deletes nothing */
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        char hex[TOKEN_HEX_LEN + 1];
        store_key_t k;
        int rc = use_keys ? (key_ref_hash(it->valuestring, hex) < 0 ? -1 : 0)
                          : find_alias(a, it->valuestring, NULL, hex);
        if (rc == 0) {
            rc = store_sqlite_key_get(a->db, hex, &k);
            store_key_free(&k);
        }
        if (rc < 0) {
            set_internal(res, a);
            goto out;
        }
        if (rc == 1) {
            set_not_found(res, it->valuestring);
            goto out;
        }
        if (store_strlist_push(&tokens, hex) < 0) {
            set_error(res, 500, "internal_server_error", NULL, "out of memory");
            goto out;
        }
    }
    if (store_sqlite_begin(a->db) < 0) {
        set_internal(res, a);
        goto out;
    }
    for (size_t i = 0; i < tokens.n; i++)
        if (store_sqlite_key_delete(a->db, tokens.v[i]) < 0) {
            store_sqlite_rollback(a->db);
            set_internal(res, a);
            goto out;
        }
    if (store_sqlite_commit(a->db) < 0) {
        store_sqlite_rollback(a->db);
        set_internal(res, a);
        goto out;
    }
    res->invalidated = tokens;
    tokens = (store_strlist_t){0};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "deleted_keys", cJSON_Duplicate(list, true));
    set_body(res, 200, o);
out:
    store_strlist_free(&tokens);
    cJSON_Delete(req);
}

void admin_key_regenerate(admin_keys_t *a, const char *body, size_t len, admin_result_t *res)
{
    result_init(res);
    store_key_t k;
    char *plain = NULL, *old = NULL;
    const char *ref, *msg, *param = NULL;
    cJSON *req = parse_body(body, len, res);
    if (!req)
        return;
    if (load_target(a, req, false, &k, &ref, res) < 0)
        goto out;
    /* the body may change the key as /key/update does; "key" is the old one here */
    cJSON_DeleteItemFromObjectCaseSensitive(req, "key");
    if ((msg = apply_body(req, &k, now_ms(), &param)))
        goto bad;
    param = "new_key";
    if ((msg = pick_key(cJSON_GetObjectItemCaseSensitive(req, "new_key"), &plain)))
        goto bad;
    old = k.token;
    k.token = NULL;
    if (set_identity(&k, plain) < 0) {
        msg = "";
        goto bad;
    }
    if (check_alias(a, &k, old, res) < 0)
        goto out;
    k.updated_at = now_ms();
    if (store_sqlite_begin(a->db) < 0) {
        set_internal(res, a);
        goto out;
    }
    int rc = store_sqlite_key_insert(a->db, &k);
    if (rc == 0)
        rc = store_sqlite_key_delete(a->db, old);
    if (rc == 0)
        rc = store_sqlite_commit(a->db);
    if (rc != 0) {
        store_sqlite_rollback(a->db);
        if (rc == 1)
            set_bad_request(res, "new_key", "A key with this value exists already");
        else
            set_internal(res, a);
        goto out;
    }
    if (store_strlist_push(&res->invalidated, old) < 0 ||
        store_strlist_push(&res->invalidated, k.token) < 0) {
        msg = "";
        goto bad;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(req, "new_key");
    set_body(res, 200, generate_response(&k, plain, req));
    goto out;
bad:
    if (*msg)
        set_bad_request(res, param, msg);
    else
        set_error(res, 500, "internal_server_error", NULL, "out of memory");
out:
    free(plain);
    free(old);
    store_key_free(&k);
    cJSON_Delete(req);
}

/* ---- GET handlers: query strings ----------------------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The decoded value of `name` in the query (malloc'd), NULL when absent. */
static char *query_get(const char *q, size_t len, const char *name)
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

void admin_key_info(admin_keys_t *a, const char *query, size_t len, admin_result_t *res)
{
    result_init(res);
    char hex[TOKEN_HEX_LEN + 1];
    store_key_t k;
    store_key_init(&k);
    char *ref = query_get(query, len, "key");
    if (!ref || !*ref) {
        set_bad_request(res, "key", "Query parameter 'key' is required");
        goto out;
    }
    if (key_ref_hash(ref, hex) < 0) {
        set_error(res, 500, "internal_server_error", NULL, "cannot hash the key");
        goto out;
    }
    int rc = store_sqlite_key_get(a->db, hex, &k);
    if (rc != 0) {
        if (rc == 1)
            set_not_found(res, ref);
        else
            set_internal(res, a);
        goto out;
    }
    /* LiteLLM drops the token from info, so a hash is never echoed for a plaintext key */
    cJSON *o = cJSON_CreateObject(), *info = cJSON_CreateObject();
    if (info) {
        key_to_json(&k, info);
        cJSON_DeleteItemFromObjectCaseSensitive(info, "token");
    }
    cJSON_AddStringToObject(o, "key", ref);
    cJSON_AddItemToObject(o, "info", info);
    set_body(res, 200, o);
out:
    free(ref);
    store_key_free(&k);
}

/* A positive integer query parameter; dflt when absent, -1 when malformed. */
static long long query_int(const char *q, size_t len, const char *name, long long dflt)
{
    char *v = query_get(q, len, name);
    if (!v)
        return dflt;
    char *end;
    long long n = strtoll(v, &end, 10);
    bool ok = *v && !*end && n >= 1;
    free(v);
    return ok ? n : -1;
}

void admin_key_list(admin_keys_t *a, const char *query, size_t len, admin_result_t *res)
{
    result_init(res);
    sqlite3_stmt *s = NULL;
    cJSON *keys = NULL;
    char *filt[3] = {query_get(query, len, "user_id"), query_get(query, len, "team_id"),
                     query_get(query, len, "key_alias")};
    char *full = query_get(query, len, "return_full_object");
    long long page = query_int(query, len, "page", 1);
    long long size = query_int(query, len, "size", LIST_SIZE_DEFAULT);
    if (page < 1) {
        set_bad_request(res, "page", "page must be an integer >= 1");
        goto out;
    }
    if (size < 1 || size > LIST_SIZE_MAX) {
        set_bad_request(res, "size", "size must be an integer between 1 and 100");
        goto out;
    }
    /* one query for the count (window function) and the page */
    const char *sql = "SELECT token, COUNT(*) OVER () FROM \"LiteLLM_VerificationToken\" WHERE "
                      "(?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR team_id = ?2) AND "
                      "(?3 IS NULL OR key_alias = ?3) ORDER BY created_at DESC, token "
                      "LIMIT ?4 OFFSET ?5";
    if (sqlite3_prepare_v2(a->ro, sql, -1, &s, NULL) != SQLITE_OK)
        goto dberr;
    for (int i = 0; i < 3; i++)
        sqlite3_bind_text(s, i + 1, filt[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, size);
    sqlite3_bind_int64(s, 5, (page - 1) * size);
    bool want_full = full && (strcmp(full, "true") == 0 || strcmp(full, "True") == 0);
    long long total = 0;
    int rc;
    keys = cJSON_CreateArray();
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *tok = (const char *)sqlite3_column_text(s, 0);
        total = sqlite3_column_int64(s, 1);
        if (!want_full) {
            cJSON_AddItemToArray(keys, cJSON_CreateString(tok ? tok : ""));
            continue;
        }
        store_key_t k;
        if (store_sqlite_key_get(a->db, tok, &k) == 0) {
            cJSON *o = cJSON_CreateObject();
            if (o)
                key_to_json(&k, o);
            cJSON_AddItemToArray(keys, o);
        }
        store_key_free(&k);
    }
    if (rc != SQLITE_DONE)
        goto dberr;
    if (total == 0 && page > 1) {
        /* an empty page past the end: count without the window */
        sqlite3_finalize(s);
        s = NULL;
        const char *count = "SELECT COUNT(*) FROM \"LiteLLM_VerificationToken\" WHERE "
                            "(?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR team_id = ?2) "
                            "AND (?3 IS NULL OR key_alias = ?3)";
        if (sqlite3_prepare_v2(a->ro, count, -1, &s, NULL) != SQLITE_OK)
            goto dberr;
        for (int i = 0; i < 3; i++)
            sqlite3_bind_text(s, i + 1, filt[i], -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_ROW)
            goto dberr;
        total = sqlite3_column_int64(s, 0);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "keys", keys);
    keys = NULL;
    cJSON_AddNumberToObject(o, "total_count", (double)total);
    cJSON_AddNumberToObject(o, "current_page", (double)page);
    cJSON_AddNumberToObject(o, "total_pages", (double)((total + size - 1) / size));
    set_body(res, 200, o);
    goto out;
dberr:
    set_error(res, 500, "internal_server_error", NULL, "database error: %s", sqlite3_errmsg(a->ro));
out:
    cJSON_Delete(keys);
    sqlite3_finalize(s);
    for (int i = 0; i < 3; i++)
        free(filt[i]);
    free(full);
}
