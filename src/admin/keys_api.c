/* SPDX-License-Identifier: MIT
 * The /key/... management handlers (admin_key_routes): LiteLLM's request fields mapped onto a
 * LiteLLM_VerificationToken row, the row mapped back onto LiteLLM's response JSON, and the checks
 * LiteLLM makes on the way (custom key format, unique alias, durations). Rows are JSON objects in
 * the API's shape, written and read generically over the schema (internal.h, rows.h), so both
 * database dialects take the same code. Also key creation for /user/new (admin_key_create). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "admin/internal.h"
#include "auth/keys.h"

#define CUSTOM_KEY_MIN 16 /* LiteLLM refuses shorter custom keys */
#define LIST_SIZE_DEFAULT 10
#define LIST_SIZE_MAX 100

static const store_table_t *key_table(void)
{
    return store_schema_table(ADMIN_KEYS);
}

#define NOT_FOUND "Key not found in database: %s"

static void set_not_found(admin_result_t *res, const char *key)
{
    admin_set_error(res, 404, "not_found_error", "key", NOT_FOUND, key);
}

/* The row of the key whose token is hex (ref: how the client named it). 0, or -1 with res set. */
static int key_row(admin_t *a, const char *hex, const char *ref, cJSON **row, admin_result_t *res)
{
    return admin_row_load(a, ADMIN_KEYS, "token", hex, row, res, "key", NOT_FOUND, ref);
}

/* ---- responses ------------------------------------------------------------------------------- */

cJSON *admin_key_response(const cJSON *row, const char *plain, const cJSON *req)
{
    cJSON *o = cJSON_CreateObject(), *copy = cJSON_Duplicate(row, true);
    if (!o || !copy) {
        cJSON_Delete(o);
        cJSON_Delete(copy);
        return NULL;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, req)
    {
        if (it->string)
            cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, true));
    }
    static const char *const own[] = {"key", "token", "token_id", "key_name", "expires"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(o, own[i]);
    admin_json_merge(o, copy);
    cJSON_Delete(copy);
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(row, "token");
    cJSON_AddStringToObject(o, "key", plain);
    cJSON_AddItemToObject(o, "token_id", cJSON_Duplicate(token, true));
    if (!cJSON_GetObjectItemCaseSensitive(o, "duration"))
        cJSON_AddNullToObject(o, "duration");
    cJSON_AddStringToObject(o, "key_type", "default");
    cJSON_AddNullToObject(o, "litellm_budget_table");
    return o;
}

/* ---- requests -------------------------------------------------------------------------------- */

/* The token of the key whose alias is `alias` (other than `except`): 0 found, 1 none, -1. */
static int find_alias(admin_t *a, const char *alias, const char *except,
                      char out[ADMIN_TOKEN_LEN + 1])
{
    const char *params[] = {alias, except};
    sdb_res_t *r = sdb_query(a->db,
                             "SELECT \"token\" FROM \"" ADMIN_KEYS "\" WHERE \"key_alias\" = $1 "
                             "AND (CAST($2 AS TEXT) IS NULL OR \"token\" <> CAST($2 AS TEXT)) "
                             "LIMIT 1",
                             params, 2);
    if (!r)
        return -1;
    int rc = 1;
    if (sdb_res_rows(r)) {
        snprintf(out, ADMIN_TOKEN_LEN + 1, "%s", sdb_res_get(r, 0, 0));
        rc = 0;
    }
    sdb_res_free(r);
    return rc;
}

/* Request fields that are columns as they are. */
static const admin_field_t body_fields[] = {
    {"key_alias", ADMIN_F_STR},
    {"user_id", ADMIN_F_STR},
    {"team_id", ADMIN_F_STR},
    {"organization_id", ADMIN_F_STR},
    {"project_id", ADMIN_F_STR},
    {"agent_id", ADMIN_F_STR},
    {"budget_id", ADMIN_F_STR},
    {"models", ADMIN_F_LIST},
    {"allowed_cache_controls", ADMIN_F_LIST},
    {"allowed_routes", ADMIN_F_LIST},
    {"policies", ADMIN_F_LIST},
    {"access_group_ids", ADMIN_F_LIST},
    {"metadata", ADMIN_F_OBJ},
    {"aliases", ADMIN_F_OBJ},
    {"config", ADMIN_F_OBJ},
    {"permissions", ADMIN_F_OBJ},
    {"model_max_budget", ADMIN_F_OBJ},
    {"router_settings", ADMIN_F_OBJ},
    {"tpm_limit", ADMIN_F_INT},
    {"rpm_limit", ADMIN_F_INT},
    {"max_parallel_requests", ADMIN_F_INT},
    {"max_budget", ADMIN_F_NUM},
    {"blocked", ADMIN_F_BOOL},
};

/* Copies the body's key fields into out (present fields only; null clears), with duration ->
 * expires and budget_duration -> budget_reset_at. NULL, or the 400 message (with *param the
 * field), or "" on no memory. */
static const char *apply_body(const cJSON *req, cJSON *out, long long now_ms, const char **param)
{
    const char *msg =
        admin_take_fields(req, body_fields, sizeof body_fields / sizeof *body_fields, out, param);
    if (msg)
        return msg;
    /* duration: expires from now; null or "-1" (update) means never */
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "duration");
    *param = "duration";
    if (v && !cJSON_IsNull(v) && !(cJSON_IsString(v) && strcmp(v->valuestring, "-1") == 0)) {
        auth_duration_t d;
        if (!cJSON_IsString(v) || auth_duration_parse(str_cstr(v->valuestring), &d) < 0)
            return "Invalid duration: use a number and a unit: 30s, 30m, 30h, 30d or 1mo";
        if (!admin_add_time(out, "expires", auth_duration_add(&d, now_ms / 1000) * 1000))
            return "";
    } else if (v) {
        cJSON_DeleteItemFromObjectCaseSensitive(out, "expires");
        if (!cJSON_AddNullToObject(out, "expires"))
            return "";
    }
    *param = "budget_duration";
    if ((msg = admin_take_budget_duration(req, now_ms, out)))
        return msg;
    *param = NULL;
    return NULL;
}

/* The key's plaintext: the body's custom "key" (checked) or a new random one. NULL on success or
 * the 400 message ("" on no memory). */
static const char *pick_key(const cJSON *custom, char **out)
{
    char gen[AUTH_KEY_LEN + 1];
    if (custom && !cJSON_IsNull(custom)) {
        if (!cJSON_IsString(custom))
            return "Invalid value for 'key': expected a string";
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

/* Checks the alias row would have (unique over all keys but `self`); 0 ok, else res is set. */
static int check_alias(admin_t *a, const cJSON *row, const char *self, admin_result_t *res)
{
    char other[ADMIN_TOKEN_LEN + 1];
    const cJSON *alias = cJSON_GetObjectItemCaseSensitive(row, "key_alias");
    if (!cJSON_IsString(alias))
        return 0;
    int rc = find_alias(a, alias->valuestring, self, other);
    if (rc < 0) {
        admin_set_db_error(res, a);
        return -1;
    }
    if (rc == 0) {
        admin_set_error(res, 400, "bad_request_error", "key_alias",
                        "Key with alias '%s' already exists. Unique key aliases across all keys "
                        "are required.",
                        alias->valuestring);
        return -1;
    }
    return 0;
}

/* Sets the row's key-derived columns (token, key_name) from the plaintext. */
static int set_identity(cJSON *row, const char *plain, char hex[ADMIN_TOKEN_LEN + 1])
{
    auth_hash_t h;
    char name[AUTH_KEY_NAME_MAX];
    if (auth_key_hash(str_cstr(plain), &h) < 0)
        return -1;
    auth_hash_hex(&h, hex);
    auth_key_name(str_cstr(plain), name);
    cJSON_DeleteItemFromObjectCaseSensitive(row, "token");
    cJSON_DeleteItemFromObjectCaseSensitive(row, "key_name");
    return cJSON_AddStringToObject(row, "token", hex) &&
                   cJSON_AddStringToObject(row, "key_name", name)
               ? 0
               : -1;
}

/* Inserts row (a key that must not exist yet) and reads it back into *stored. 0; 1 when the
 * token exists (nothing written); -1 with res set. */
static int insert_key(admin_t *a, const cJSON *row, const char *hex, cJSON **stored,
                      admin_result_t *res)
{
    int rc = admin_row_by(a, ADMIN_KEYS, "token", hex, stored);
    if (rc == 0) {
        cJSON_Delete(*stored);
        *stored = NULL;
        return 1;
    }
    if (rc < 0 || admin_json_write(a, ADMIN_KEYS, row, NULL, NULL, res) < 0 ||
        admin_row_by(a, ADMIN_KEYS, "token", hex, stored) != 0) {
        if (!res->body)
            admin_set_db_error(res, a);
        return -1;
    }
    return 0;
}

/* ---- handlers -------------------------------------------------------------------------------- */

int admin_key_create(admin_t *a, const cJSON *req, cJSON **stored, char **plain,
                     admin_result_t *res)
{
    char hex[ADMIN_TOKEN_LEN + 1];
    const char *msg, *param = NULL;
    long long now = admin_now_ms();
    cJSON *row = cJSON_CreateObject();
    *stored = NULL;
    *plain = NULL;
    if (!row)
        goto oom;
    /* LiteLLM's request model defaults models (no column default) to [] */
    if (!cJSON_AddArrayToObject(row, "models"))
        goto oom;
    if ((msg = apply_body(req, row, now, &param)))
        goto bad;
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(req, "spend");
    if (sp && !cJSON_IsNull(sp)) {
        if (!cJSON_IsNumber(sp)) {
            msg = "Invalid value for 'spend': expected a number", param = "spend";
            goto bad;
        }
        cJSON_AddNumberToObject(row, "spend", sp->valuedouble);
    }
    param = "key";
    if ((msg = pick_key(cJSON_GetObjectItemCaseSensitive(req, "key"), plain)))
        goto bad;
    if (set_identity(row, *plain, hex) < 0 || !admin_add_time(row, "created_at", now) ||
        !admin_add_time(row, "updated_at", now))
        goto oom;
    if (check_alias(a, row, NULL, res) < 0)
        goto fail;
    int rc = insert_key(a, row, hex, stored, res);
    if (rc == 1)
        admin_set_error(res, 400, "bad_request_error", "key",
                        "Key already exists. Use /key/regenerate or pick another custom key.");
    if (rc != 0)
        goto fail;
    cJSON_Delete(row);
    return 0;
oom:
    msg = "";
bad:
    admin_check_error(res, param, msg);
fail:
    cJSON_Delete(row);
    free(*plain);
    *plain = NULL;
    return -1;
}

static void key_generate(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    cJSON *stored = NULL;
    char *plain = NULL;
    cJSON *req = admin_body_object(call, res);
    if (!req || admin_key_create(a, req, &stored, &plain, res) < 0)
        goto out;
    /* a negative cache entry may exist for a custom key tried before it was created */
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(stored, "token");
    if (store_strlist_push(&res->invalidated, token->valuestring) < 0) {
        admin_oom(res);
        goto out;
    }
    admin_set_body(res, 200, admin_key_response(stored, plain, req));
out:
    free(plain);
    cJSON_Delete(stored);
    cJSON_Delete(req);
}

/* Loads the row a body's "key" (or, if allowed, "key_alias") names. 0 found, else res is set. */
static int load_target(admin_t *a, const cJSON *req, bool by_alias, cJSON **row, const char **ref,
                       char hex[ADMIN_TOKEN_LEN + 1], admin_result_t *res)
{
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(req, "key");
    const cJSON *alias = by_alias ? cJSON_GetObjectItemCaseSensitive(req, "key_alias") : NULL;
    *row = NULL;
    if (cJSON_IsString(key)) {
        *ref = key->valuestring;
        if (admin_key_token(*ref, hex) < 0) {
            admin_set_error(res, 500, "internal_server_error", NULL, "cannot resolve the key");
            return -1;
        }
    } else if (cJSON_IsString(alias)) {
        *ref = alias->valuestring;
        int rc = find_alias(a, *ref, NULL, hex);
        if (rc < 0)
            admin_set_db_error(res, a);
        else if (rc == 1)
            set_not_found(res, *ref);
        if (rc != 0)
            return -1;
    } else {
        admin_bad_request(res, "key", "%s",
                          by_alias ? "Either 'key' or 'key_alias' is required"
                                   : "'key' is required");
        return -1;
    }
    return key_row(a, hex, *ref, row, res);
}

/* Writes the changes to the key and answers with the row ({"key": ref, ...row}). */
static void write_and_answer(admin_t *a, cJSON *changes, const char *hex, const char *ref,
                             admin_result_t *res)
{
    cJSON *row = NULL;
    if (!admin_add_time(changes, "updated_at", admin_now_ms())) {
        admin_oom(res);
        return;
    }
    long n = admin_json_write(a, ADMIN_KEYS, changes, "token", hex, res);
    if (n == 0)
        set_not_found(res, ref);
    if (n <= 0 || key_row(a, hex, ref, &row, res) < 0)
        return;
    if (store_strlist_push(&res->invalidated, hex) < 0 ||
        !cJSON_AddStringToObject(row, "key", ref)) {
        cJSON_Delete(row);
        admin_oom(res);
        return;
    }
    admin_set_body(res, 200, row);
}

static void key_update(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    cJSON *row = NULL, *changes = NULL;
    char hex[ADMIN_TOKEN_LEN + 1];
    const char *ref, *msg, *param = NULL;
    cJSON *req = admin_body_object(call, res);
    if (!req)
        return;
    /* key_alias names the key only when "key" is absent; otherwise it is a new alias */
    bool by_alias = !cJSON_GetObjectItemCaseSensitive(req, "key");
    if (load_target(a, req, by_alias, &row, &ref, hex, res) < 0)
        goto out;
    const cJSON *tb = cJSON_GetObjectItemCaseSensitive(req, "temp_budget_increase");
    const cJSON *te = cJSON_GetObjectItemCaseSensitive(req, "temp_budget_expiry");
    if ((tb && !cJSON_IsNull(tb)) != (te && !cJSON_IsNull(te))) {
        admin_bad_request(res, "temp_budget_increase",
                          "temp_budget_expiry and temp_budget_increase must be set together");
        goto out;
    }
    if (!(changes = cJSON_CreateObject())) {
        admin_oom(res);
        goto out;
    }
    if ((msg = apply_body(req, changes, admin_now_ms(), &param))) {
        admin_check_error(res, param, msg);
        goto out;
    }
    /* the alias the row will have */
    cJSON *alias = cJSON_GetObjectItemCaseSensitive(changes, "key_alias");
    if (check_alias(a, alias ? changes : row, hex, res) < 0)
        goto out;
    write_and_answer(a, changes, hex, ref, res);
out:
    cJSON_Delete(changes);
    cJSON_Delete(row);
    cJSON_Delete(req);
}

static void set_blocked(admin_t *a, const admin_call_t *call, bool blocked, admin_result_t *res)
{
    cJSON *row = NULL, *changes = NULL;
    char hex[ADMIN_TOKEN_LEN + 1];
    const char *ref;
    cJSON *req = admin_body_object(call, res);
    if (!req)
        return;
    if (load_target(a, req, false, &row, &ref, hex, res) == 0) {
        if (!(changes = cJSON_CreateObject()) ||
            !cJSON_AddBoolToObject(changes, "blocked", blocked))
            admin_oom(res);
        else
            write_and_answer(a, changes, hex, ref, res);
    }
    cJSON_Delete(changes);
    cJSON_Delete(row);
    cJSON_Delete(req);
}

static void key_block(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    set_blocked(a, call, true, res);
}

static void key_unblock(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    set_blocked(a, call, false, res);
}

static int delete_key(admin_t *a, const char *token)
{
    return sdb_exec(a->db, "DELETE FROM \"" ADMIN_KEYS "\" WHERE \"token\" = $1",
                    (const char *[]){token}, 1) < 0
               ? -1
               : 0;
}

static void key_delete(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    store_strlist_t tokens = {0};
    bool in_tx = false;
    cJSON *req = admin_body_object(call, res);
    if (!req)
        return;
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(req, "keys");
    const cJSON *aliases = cJSON_GetObjectItemCaseSensitive(req, "key_aliases");
    bool use_keys = keys && !cJSON_IsNull(keys);
    const cJSON *list = use_keys ? keys : aliases;
    if (!admin_json_is_strings(list) || cJSON_GetArraySize(list) == 0) {
        admin_bad_request(res, use_keys ? "keys" : "key_aliases", "%s",
                          "Either 'keys' or 'key_aliases' must be a non-empty list of strings");
        goto out;
    }
    if (admin_tx_begin(a, &in_tx, res) < 0)
        goto out;
    /* resolve everything first: an unknown key deletes nothing */
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        char hex[ADMIN_TOKEN_LEN + 1];
        cJSON *row = NULL;
        int rc = use_keys ? admin_key_token(it->valuestring, hex)
                          : find_alias(a, it->valuestring, NULL, hex);
        if (rc == 0)
            rc = admin_row_by(a, ADMIN_KEYS, "token", hex, &row);
        cJSON_Delete(row);
        if (rc < 0)
            goto db_error;
        if (rc == 1) {
            set_not_found(res, it->valuestring);
            goto out;
        }
        if (store_strlist_push(&tokens, hex) < 0) {
            admin_oom(res);
            goto out;
        }
    }
    for (size_t i = 0; i < tokens.n; i++)
        if (delete_key(a, tokens.v[i]) < 0)
            goto db_error;
    if (admin_tx_commit(a, &in_tx, res) < 0)
        goto out;
    res->invalidated = tokens;
    tokens = (store_strlist_t){0};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "deleted_keys", cJSON_Duplicate(list, true));
    admin_set_body(res, 200, o);
    goto out;
db_error:
    admin_set_db_error(res, a);
out:
    admin_tx_end(a, in_tx, res);
    store_strlist_free(&tokens);
    cJSON_Delete(req);
}

static void key_regenerate(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    cJSON *row = NULL, *changes = NULL, *stored = NULL;
    char *plain = NULL, old[ADMIN_TOKEN_LEN + 1], hex[ADMIN_TOKEN_LEN + 1];
    const char *ref, *msg, *param = NULL;
    bool in_tx = false;
    cJSON *req = admin_body_object(call, res);
    if (!req)
        return;
    if (load_target(a, req, false, &row, &ref, old, res) < 0)
        goto out;
    /* the body may change the key as /key/update does; "key" is the old one here */
    cJSON_DeleteItemFromObjectCaseSensitive(req, "key");
    if (!(changes = cJSON_CreateObject())) {
        msg = "";
        goto bad;
    }
    if ((msg = apply_body(req, changes, admin_now_ms(), &param)))
        goto bad;
    admin_json_merge(row, changes);
    param = "new_key";
    if ((msg = pick_key(cJSON_GetObjectItemCaseSensitive(req, "new_key"), &plain)))
        goto bad;
    if (set_identity(row, plain, hex) < 0 || !admin_add_time(row, "updated_at", admin_now_ms())) {
        msg = "";
        goto bad;
    }
    if (check_alias(a, row, old, res) < 0)
        goto out;
    /* the new row keeps everything of the old one (spend, created_at, limits) but the token */
    if (admin_tx_begin(a, &in_tx, res) < 0)
        goto out;
    int rc = insert_key(a, row, hex, &stored, res);
    if (rc == 1)
        admin_bad_request(res, "new_key", "A key with this value exists already");
    if (rc != 0)
        goto out;
    if (delete_key(a, old) < 0) {
        admin_set_db_error(res, a);
        goto out;
    }
    if (admin_tx_commit(a, &in_tx, res) < 0)
        goto out;
    if (store_strlist_push(&res->invalidated, old) < 0 ||
        store_strlist_push(&res->invalidated, hex) < 0) {
        msg = "";
        goto bad;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(req, "new_key");
    admin_set_body(res, 200, admin_key_response(stored, plain, req));
    goto out;
bad:
    admin_check_error(res, param, msg);
out:
    admin_tx_end(a, in_tx, res);
    free(plain);
    cJSON_Delete(stored);
    cJSON_Delete(changes);
    cJSON_Delete(row);
    cJSON_Delete(req);
}

/* ---- GET handlers: query strings --------------------------------------------------------------
 */

static void key_info(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    char hex[ADMIN_TOKEN_LEN + 1];
    cJSON *row = NULL;
    char *ref = admin_query_get(call->query, call->query_len, "key");
    if (!ref || !*ref) {
        admin_bad_request(res, "key", "Query parameter 'key' is required");
        goto out;
    }
    if (admin_key_token(ref, hex) < 0) {
        admin_set_error(res, 500, "internal_server_error", NULL, "cannot hash the key");
        goto out;
    }
    if (key_row(a, hex, ref, &row, res) < 0)
        goto out;
    /* LiteLLM drops the token from info, so a hash is never echoed for a plaintext key */
    cJSON_DeleteItemFromObjectCaseSensitive(row, "token");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "key", ref);
    cJSON_AddItemToObject(o, "info", row);
    row = NULL;
    admin_set_body(res, 200, o);
out:
    free(ref);
    cJSON_Delete(row);
}

#define LIST_WHERE                                                                                 \
    " WHERE (CAST($1 AS TEXT) IS NULL OR \"user_id\" = CAST($1 AS TEXT)) AND (CAST($2 AS TEXT) "   \
    "IS NULL OR \"team_id\" = CAST($2 AS TEXT)) AND (CAST($3 AS TEXT) IS NULL OR \"key_alias\" = " \
    "CAST($3 AS TEXT))"

static void key_list(admin_t *a, const admin_call_t *call, admin_result_t *res)
{
    sdb_res_t *r = NULL;
    cJSON *keys = NULL;
    buf_t sql = {0};
    char *filt[3] = {admin_query_get(call->query, call->query_len, "user_id"),
                     admin_query_get(call->query, call->query_len, "team_id"),
                     admin_query_get(call->query, call->query_len, "key_alias")};
    char *full = admin_query_get(call->query, call->query_len, "return_full_object");
    long long page, size, total;
    if (admin_query_page(call, "size", LIST_SIZE_DEFAULT, LIST_SIZE_MAX, &page, &size, res) < 0)
        goto out;
    char lim[24], off[24];
    snprintf(lim, sizeof lim, "%lld", size);
    snprintf(off, sizeof off, "%lld", (page - 1) * size);
    const char *params[] = {filt[0], filt[1], filt[2], lim, off};
    /* one query for the page and the count (a window function) */
    buf_append_cstr(&sql, "SELECT ");
    sdb_select_all(a->db, key_table(), NULL, &sql);
    if (!(r = admin_query_sql(a, &sql,
                              ", COUNT(*) OVER () AS \"total_count\" FROM \"" ADMIN_KEYS
                              "\"" LIST_WHERE " ORDER BY \"created_at\" DESC, \"token\" LIMIT $4 "
                              "OFFSET $5",
                              params, 5, res)))
        goto out;
    bool want_full = full && (strcmp(full, "true") == 0 || strcmp(full, "True") == 0);
    if (!(keys = cJSON_CreateArray()))
        goto oom;
    int tok = sdb_res_col(r, "token");
    for (size_t i = 0; i < sdb_res_rows(r); i++)
        if (!admin_json_append(keys, want_full ? sdb_row_json(key_table(), r, i)
                                               : cJSON_CreateString(sdb_res_get(r, i, tok))))
            goto oom;
    if (admin_list_total(a->db, r, page, "SELECT COUNT(*) FROM \"" ADMIN_KEYS "\"" LIST_WHERE,
                         params, 3, &total) < 0)
        goto db_error;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "keys", keys);
    keys = NULL;
    cJSON_AddNumberToObject(o, "total_count", (double)total);
    cJSON_AddNumberToObject(o, "current_page", (double)page);
    cJSON_AddNumberToObject(o, "total_pages", (double)((total + size - 1) / size));
    admin_set_body(res, 200, o);
    goto out;
oom:
    admin_oom(res);
    goto out;
db_error:
    admin_set_db_error(res, a);
out:
    cJSON_Delete(keys);
    sdb_res_free(r);
    buf_free(&sql);
    for (int i = 0; i < 3; i++)
        free(filt[i]);
    free(full);
}

const admin_route_t admin_key_routes[] = {
    {"POST", "/key/generate", key_generate},
    {"POST", "/key/update", key_update},
    {"POST", "/key/delete", key_delete},
    {"POST", "/key/block", key_block},
    {"POST", "/key/unblock", key_unblock},
    {"POST", "/key/regenerate", key_regenerate},
    {"GET", "/key/info", key_info},
    {"GET", "/key/list", key_list},
    {NULL, NULL, NULL},
};
