/* SPDX-License-Identifier: MIT
 * /model/new, /model/delete, /model/info (and /v1/model/info): deployments stored in
 * LiteLLM_ProxyModelTable (LiteLLM's store_model_in_db) next to the config's model_list.
 * litellm_params are written as LiteLLM writes them, every string value encrypted at rest
 * ("v3:gcm:", AES-256-GCM under HKDF-SHA256 of LITELLM_SALT_KEY, else the master key), so a
 * LiteLLM proxy on the same database reads sluice's rows and the other way round. /model/info
 * shows both kinds with credentials removed or masked as LiteLLM's remove_sensitive_info_from_
 * deployment does. admin_models_load reads the rows back, decrypted, for the data plane's router
 * (the control-plane thread publishes them, plane.c). */
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/misc.h"
#include "auth/keys.h"

#define GCM_NONCE 12
#define GCM_TAG 16
#define MASK_DEPTH_MAX 10

static const store_table_t *models_table(void)
{
    return store_schema_table("LiteLLM_ProxyModelTable");
}

static void set_oom(admin_result_t *res)
{
    admin_set_error(res, 500, "internal_server_error", NULL, "out of memory");
}

/* ---- encryption at rest (LiteLLM's encrypt_decrypt_utils) -------------------------------------
 */

/* LiteLLM's signing key: $LITELLM_SALT_KEY, else the master key. NULL when neither is set. */
static const char *salt_key(const admin_t *a)
{
    const char *k = getenv("LITELLM_SALT_KEY");
    if (k && k[0])
        return k;
    return a->cfg && a->cfg->master_key && a->cfg->master_key[0] ? a->cfg->master_key : NULL;
}

/* v3: HKDF-SHA256 (no salt, info "litellm-at-rest-v3"); v2: SHA-256 of the key. */
static int derive_key(const char *secret, bool v3, unsigned char key[32])
{
    if (!v3) {
        unsigned int n = 32;
        return EVP_Digest(secret, strlen(secret), key, &n, EVP_sha256(), NULL) == 1 ? 0 : -1;
    }
    static const char info[] = "litellm-at-rest-v3";
    size_t n = 32;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    int ok =
        c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) == 1 &&
        EVP_PKEY_CTX_set1_hkdf_key(c, (const unsigned char *)secret, (int)strlen(secret)) == 1 &&
        EVP_PKEY_CTX_add1_hkdf_info(c, (const unsigned char *)info, (int)sizeof info - 1) == 1 &&
        EVP_PKEY_derive(c, key, &n) == 1 && n == 32;
    EVP_PKEY_CTX_free(c);
    return ok ? 0 : -1;
}

/* base64.urlsafe_b64encode (padded). */
static char *b64url_encode(const unsigned char *p, size_t n, const char *prefix)
{
    size_t plen = strlen(prefix);
    char *out = malloc(plen + 4 * ((n + 2) / 3) + 1);
    if (!out)
        return NULL;
    memcpy(out, prefix, plen);
    int len = EVP_EncodeBlock((unsigned char *)out + plen, p, (int)n);
    for (int i = 0; i < len; i++) {
        char *c = out + plen + i;
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    }
    out[plen + (size_t)len] = '\0';
    return out;
}

/* base64.urlsafe_b64decode of s (padding optional); *n the length. NULL when malformed. */
static unsigned char *b64url_decode(const char *s, size_t *n)
{
    size_t len = strlen(s), padded = (len + 3) / 4 * 4;
    char *std = malloc(padded + 1);
    unsigned char *out = malloc(padded / 4 * 3 + 1);
    if (!std || !out)
        goto fail;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        std[i] = c;
    }
    for (size_t i = len; i < padded; i++)
        std[i] = '=';
    std[padded] = '\0';
    int got = EVP_DecodeBlock(out, (unsigned char *)std, (int)padded);
    if (got < 0)
        goto fail;
    size_t pad = 0;
    while (pad < 2 && padded > pad && std[padded - 1 - pad] == '=')
        pad++;
    *n = (size_t)got - pad;
    free(std);
    return out;
fail:
    free(std);
    free(out);
    return NULL;
}

/* encrypt_value_helper for a str: "v3:gcm:" + urlsafe_b64(nonce || ciphertext || tag). */
static char *encrypt_text(const char *secret, const char *plain)
{
    unsigned char key[32];
    size_t n = strlen(plain);
    unsigned char *blob = malloc(GCM_NONCE + n + GCM_TAG);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    char *out = NULL;
    int len = 0, fin = 0;
    if (!blob || !c || derive_key(secret, true, key) < 0 || RAND_bytes(blob, GCM_NONCE) != 1 ||
        EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, GCM_NONCE, NULL) != 1 ||
        EVP_EncryptInit_ex(c, NULL, NULL, key, blob) != 1 ||
        EVP_EncryptUpdate(c, blob + GCM_NONCE, &len, (const unsigned char *)plain, (int)n) != 1 ||
        EVP_EncryptFinal_ex(c, blob + GCM_NONCE + len, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG, blob + GCM_NONCE + n) != 1)
        goto done;
    out = b64url_encode(blob, GCM_NONCE + n + GCM_TAG, "v3:gcm:");
done:
    EVP_CIPHER_CTX_free(c);
    free(blob);
    return out;
}

/* decrypt of a "v3:gcm:" / "v2:gcm:" value; NULL when it is not one or does not authenticate
 * (legacy NaCl values, another salt key). */
static char *decrypt_text(const char *secret, const char *value)
{
    bool v3 = strncmp(value, "v3:gcm:", 7) == 0;
    if (!v3 && strncmp(value, "v2:gcm:", 7) != 0)
        return NULL;
    size_t n = 0;
    unsigned char key[32], *raw = b64url_decode(value + 7, &n);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    char *out = NULL;
    int len = 0, fin = 0;
    if (!raw || !c || n < GCM_NONCE + GCM_TAG || derive_key(secret, v3, key) < 0)
        goto done;
    size_t clen = n - GCM_NONCE - GCM_TAG;
    if (!(out = malloc(clen + 1)) ||
        EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, GCM_NONCE, NULL) != 1 ||
        EVP_DecryptInit_ex(c, NULL, NULL, key, raw) != 1 ||
        EVP_DecryptUpdate(c, (unsigned char *)out, &len, raw + GCM_NONCE, (int)clen) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG, raw + GCM_NONCE + clen) != 1 ||
        EVP_DecryptFinal_ex(c, (unsigned char *)out + len, &fin) != 1) {
        free(out);
        out = NULL;
        goto done;
    }
    out[clen] = '\0';
done:
    EVP_CIPHER_CTX_free(c);
    free(raw);
    return out;
}

/* ---- LiteLLM's SensitiveDataMasker ------------------------------------------------------------
 */

static bool sensitive_key(const char *key)
{
    static const char *const patterns[] = {
        "password",    "secret",       "key",         "token",     "auth",   "authorization",
        "credential",  "credentials",  "secrets",     "passwords", "access", "private",
        "certificate", "certificates", "fingerprint", "tenancy",   NULL};
    if (strcmp(key, "litellm_credential_name") == 0) /* excluded_keys of /model/info */
        return false;
    bool hit = false;
    const char *p = key;
    while (*p) {
        size_t n = strcspn(p, "_-");
        char seg[64];
        if (n < sizeof seg) {
            for (size_t i = 0; i < n; i++)
                seg[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
            seg[n] = '\0';
            if (strcmp(seg, "cost") == 0) /* non_sensitive_overrides */
                return false;
            for (size_t i = 0; patterns[i] && !hit; i++)
                hit = strcmp(seg, patterns[i]) == 0;
        }
        p += n;
        if (*p)
            p++;
    }
    return hit;
}

/* _mask_value: 8 characters or fewer all '*', else the first and last 4 with '*' between
 * (characters are code points, as in Python). */
static char *mask_text(const char *s)
{
    size_t len = strlen(s), chars = 0;
    for (size_t i = 0; i < len; i++)
        chars += ((unsigned char)s[i] & 0xc0) != 0x80;
    if (chars == 0)
        return strdup(s);
    buf_t out = {0};
    if (chars <= 8) {
        for (size_t i = 0; i < chars; i++)
            buf_append(&out, "*", 1);
    } else {
        size_t head = 0, tail = len, seen = 0;
        while (head < len && seen < 4) { /* bytes of the first 4 characters */
            head++;
            while (head < len && ((unsigned char)s[head] & 0xc0) == 0x80)
                head++;
            seen++;
        }
        for (seen = 0; seen < 4 && tail > 0;) { /* ... and of the last 4 */
            tail--;
            if (((unsigned char)s[tail] & 0xc0) != 0x80)
                seen++;
        }
        buf_append(&out, s, head);
        for (size_t i = 0; i < chars - 8; i++)
            buf_append(&out, "*", 1);
        buf_append(&out, s + tail, len - tail);
    }
    char *r = buf_cstr(&out) ? strdup(out.p) : NULL;
    buf_free(&out);
    return r;
}

/* Python's str() of a JSON scalar. */
static void py_str(const cJSON *v, char *out, size_t size)
{
    if (cJSON_IsString(v))
        snprintf(out, size, "%s", v->valuestring);
    else if (cJSON_IsBool(v))
        snprintf(out, size, "%s", cJSON_IsTrue(v) ? "True" : "False");
    else if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
             fabs(v->valuedouble) < 1e15)
        snprintf(out, size, "%lld", (long long)v->valuedouble);
    else if (cJSON_IsNumber(v))
        auth_format_float(v->valuedouble, out, size);
    else
        out[0] = '\0';
}

static void mask_value(cJSON *parent, cJSON *v, bool sensitive, int depth);

/* mask_dict: every member; objects recursed, lists masked element-wise when their key is
 * sensitive, sensitive scalars replaced by their masked str(). */
static void mask_dict(cJSON *obj, int depth)
{
    if (depth >= MASK_DEPTH_MAX)
        return;
    cJSON *it = obj->child;
    while (it) {
        cJSON *next = it->next;
        mask_value(obj, it, sensitive_key(it->string ? it->string : ""), depth + 1);
        it = next;
    }
}

static void mask_value(cJSON *parent, cJSON *v, bool sensitive, int depth)
{
    if (cJSON_IsObject(v)) {
        mask_dict(v, depth);
        return;
    }
    if (cJSON_IsArray(v)) {
        if (depth >= MASK_DEPTH_MAX)
            return;
        cJSON *e = v->child;
        while (e) {
            cJSON *next = e->next;
            if (cJSON_IsObject(e) || cJSON_IsArray(e))
                mask_value(v, e, sensitive, depth + 1);
            else if (sensitive && cJSON_IsString(e))
                mask_value(v, e, true, depth + 1);
            e = next;
        }
        return;
    }
    if (!sensitive)
        return;
    char text[64];
    py_str(v, text, sizeof text);
    char *masked = mask_text(cJSON_IsString(v) ? v->valuestring : text);
    cJSON *repl = masked ? cJSON_CreateString(masked) : NULL;
    free(masked);
    if (!repl)
        return;
    if (cJSON_IsObject(parent)) /* keeps the member's name, which ViaPointer would drop */
        cJSON_ReplaceItemInObjectCaseSensitive(parent, v->string, repl);
    else
        cJSON_ReplaceItemViaPointer(parent, v, repl);
}

/* remove_sensitive_info_from_deployment on litellm_params. */
static void strip_credentials(cJSON *params)
{
    static const char *const removed[] = {
        "api_key",           "client_secret",        "vertex_credentials", "vertex_ai_credentials",
        "aws_access_key_id", "aws_secret_access_key"};
    for (size_t i = 0; i < sizeof removed / sizeof removed[0]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(params, removed[i]);
    mask_dict(params, 0);
}

/* ---- /model/info ------------------------------------------------------------------------------
 */

/* A config value as JSON: the config keeps litellm_params scalars as text, so numbers and
 * booleans are recognised by their spelling. */
static cJSON *config_scalar(const char *v)
{
    if (!strcmp(v, "true") || !strcmp(v, "True"))
        return cJSON_CreateTrue();
    if (!strcmp(v, "false") || !strcmp(v, "False"))
        return cJSON_CreateFalse();
    char *end;
    double d = strtod(v, &end);
    bool numeric = v[0] && !*end && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) &&
                   !(v[0] == '0' && v[1] >= '0' && v[1] <= '9') && isfinite(d);
    return numeric ? cJSON_CreateNumber(d) : cJSON_CreateString(v);
}

static cJSON *config_deployment(const cfg_deployment_t *d)
{
    cJSON *o = cJSON_CreateObject(), *p = cJSON_CreateObject(), *info = cJSON_CreateObject();
    if (!o || !p || !info) {
        cJSON_Delete(o);
        cJSON_Delete(p);
        cJSON_Delete(info);
        return NULL;
    }
    cJSON_AddStringToObject(o, "model_name", d->model_name);
    cJSON_AddItemToObject(o, "litellm_params", p);
    cJSON_AddItemToObject(o, "model_info", info);
    if (!d->params || !cfg_deployment_param(d, "model"))
        cJSON_AddStringToObject(p, "model", d->model);
    for (size_t i = 0; i < d->num_params; i++)
        if (!cJSON_GetObjectItemCaseSensitive(p, d->params[i].name))
            cJSON_AddItemToObject(p, d->params[i].name, config_scalar(d->params[i].value));
    if (d->num_extra_headers) {
        cJSON *h = cJSON_AddObjectToObject(p, "extra_headers");
        for (size_t i = 0; h && i < d->num_extra_headers; i++)
            cJSON_AddStringToObject(h, d->extra_headers[i].name, d->extra_headers[i].value);
    }
    strip_credentials(p);
    cJSON_AddStringToObject(info, "id", d->id);
    cJSON_AddFalseToObject(info, "db_model");
    if (d->mode)
        cJSON_AddStringToObject(info, "mode", d->mode);
    if (d->input_cost_per_token >= 0)
        cJSON_AddNumberToObject(info, "input_cost_per_token", d->input_cost_per_token);
    if (d->output_cost_per_token >= 0)
        cJSON_AddNumberToObject(info, "output_cost_per_token", d->output_cost_per_token);
    return o;
}

/* A LiteLLM_ProxyModelTable row as a deployment: litellm_params decrypted (values that do not
 * decrypt stay as stored), model_info with id and db_model: true. For /model/info (`shown`):
 * credentials stripped and the team's public name; for the router: the stored name. */
static cJSON *db_deployment(const admin_t *a, const sdb_res_t *r, size_t row, bool shown)
{
    const char *secret = salt_key(a);
    const char *name = admin_res_text(r, row, "model_name");
    const char *params_text = admin_res_text(r, row, "litellm_params");
    const char *info_text = admin_res_text(r, row, "model_info");
    cJSON *o = cJSON_CreateObject();
    cJSON *p = params_text ? cJSON_Parse(params_text) : NULL;
    cJSON *info = info_text ? cJSON_Parse(info_text) : NULL;
    if (cJSON_IsString(p)) { /* LiteLLM has stored the params as a JSON string */
        cJSON *inner = cJSON_Parse(p->valuestring);
        cJSON_Delete(p);
        p = inner;
    }
    if (!cJSON_IsObject(p)) {
        cJSON_Delete(p);
        p = cJSON_CreateObject();
    }
    if (!cJSON_IsObject(info)) {
        cJSON_Delete(info);
        info = cJSON_CreateObject();
    }
    if (!o || !p || !info) {
        cJSON_Delete(o);
        cJSON_Delete(p);
        cJSON_Delete(info);
        return NULL;
    }
    for (cJSON *it = p->child; secret && it; it = it->next) {
        if (!cJSON_IsString(it))
            continue;
        char *plain = decrypt_text(secret, it->valuestring);
        if (plain) {
            cJSON_SetValuestring(it, plain);
            free(plain);
        }
    }
    if (shown)
        strip_credentials(p);
    cJSON_DeleteItemFromObjectCaseSensitive(info, "id");
    cJSON_DeleteItemFromObjectCaseSensitive(info, "db_model");
    cJSON_AddStringToObject(info, "id", admin_res_text(r, row, "model_id"));
    cJSON_AddTrueToObject(info, "db_model");
    /* team models are listed under their public name (_translate_model_name_for_response) */
    const cJSON *pub =
        shown ? cJSON_GetObjectItemCaseSensitive(info, "team_public_model_name") : NULL;
    cJSON_AddStringToObject(o, "model_name",
                            cJSON_IsString(pub) ? pub->valuestring
                            : name              ? name
                                                : "");
    cJSON_AddItemToObject(o, "litellm_params", p);
    cJSON_AddItemToObject(o, "model_info", info);
    return o;
}

/* GET /model/info, /v1/model/info: {"data": [config deployments, then DB models]};
 * ?litellm_model_id= keeps the one deployment with that id. */
ADMIN_HANDLER(admin_model_info)
{
    char *only = admin_query_get(call->query, call->query_len, "litellm_model_id");
    cJSON *doc = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(doc, "data");
    sdb_res_t *r = NULL;
    if (!data)
        goto oom;
    for (size_t i = 0; a->cfg && i < a->cfg->num_deployments; i++) {
        const cfg_deployment_t *d = &a->cfg->deployments[i];
        if (only && strcmp(only, d->id) != 0)
            continue;
        cJSON *o = config_deployment(d);
        if (!o || !cJSON_AddItemToArray(data, o)) {
            cJSON_Delete(o);
            goto oom;
        }
    }
    r = admin_rows_select(a->db, models_table(), only ? "model_id" : NULL, only,
                          "\"created_at\", \"model_id\"");
    if (!r) {
        admin_set_db_error(res, a);
        goto done;
    }
    for (size_t i = 0; i < sdb_res_rows(r); i++) {
        cJSON *o = db_deployment(a, r, i, true);
        if (!o || !cJSON_AddItemToArray(data, o)) {
            cJSON_Delete(o);
            goto oom;
        }
    }
    admin_set_body(res, 200, doc);
    doc = NULL;
    goto done;
oom:
    set_oom(res);
done:
    cJSON_Delete(doc);
    sdb_res_free(r);
    free(only);
}

cJSON *admin_models_load(admin_t *a, char **err)
{
    sdb_res_t *r =
        admin_rows_select(a->db, models_table(), NULL, NULL, "\"created_at\", \"model_id\"");
    if (!r) {
        if (err)
            *err = strdup(sdb_errmsg(a->db));
        return NULL;
    }
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; list && i < sdb_res_rows(r); i++) {
        cJSON *o = db_deployment(a, r, i, false);
        if (!o || !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            cJSON_Delete(list);
            list = NULL;
        }
    }
    sdb_res_free(r);
    if (!list && err)
        *err = strdup("out of memory");
    return list;
}

/* ---- /model/new, /model/delete ----------------------------------------------------------------
 */

static bool config_has_id(const admin_t *a, const char *id)
{
    for (size_t i = 0; a->cfg && i < a->cfg->num_deployments; i++)
        if (a->cfg->deployments[i].id && strcmp(a->cfg->deployments[i].id, id) == 0)
            return true;
    return false;
}

/* POST /model/new {"model_name", "litellm_params": {"model", ...}, "model_info"?}: a row of
 * LiteLLM_ProxyModelTable (model_id = model_info.id or a new uuid), answered with the row. */
ADMIN_HANDLER(admin_model_new)
{
    admin_row_t row;
    admin_row_init(&row, models_table());
    sdb_res_t *r = NULL, *old = NULL;
    cJSON *params = NULL, *info = NULL;
    char *params_text = NULL, *info_text = NULL;
    char id[37], now[24];
    bool in_tx = false;
    cJSON *body = admin_body_object(call, res);
    if (!body)
        goto done;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "model_name");
    const cJSON *lp = cJSON_GetObjectItemCaseSensitive(body, "litellm_params");
    const cJSON *mi = cJSON_GetObjectItemCaseSensitive(body, "model_info");
    if (!cJSON_IsString(name) || !name->valuestring[0]) {
        admin_bad_request(res, "model_name", "model_name is required");
        goto done;
    }
    if (!cJSON_IsObject(lp) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(lp, "model"))) {
        admin_bad_request(res, "litellm_params",
                          "litellm_params is required, with litellm_params.model");
        goto done;
    }
    if (mi && !cJSON_IsNull(mi) && !cJSON_IsObject(mi)) {
        admin_bad_request(res, "model_info", "model_info must be an object");
        goto done;
    }
    const char *secret = salt_key(a);
    if (!secret) {
        admin_set_error(res, 500, "internal_server_error", NULL,
                        "Cannot encrypt litellm_params: set LITELLM_SALT_KEY or "
                        "general_settings.master_key");
        goto done;
    }
    /* model_info: as given, with id (given or new) and db_model false (ModelInfo's defaults) */
    info = cJSON_IsObject(mi) ? cJSON_Duplicate(mi, true) : cJSON_CreateObject();
    if (!info)
        goto oom;
    const cJSON *given_id = cJSON_GetObjectItemCaseSensitive(info, "id");
    if (given_id && !cJSON_IsNull(given_id) && !cJSON_IsString(given_id)) {
        admin_bad_request(res, "model_info.id", "model_info.id must be a string");
        goto done;
    }
    if (cJSON_IsString(given_id)) {
        snprintf(id, sizeof id, "%s", given_id->valuestring);
        if (strlen(given_id->valuestring) >= sizeof id || config_has_id(a, id)) {
            admin_set_error(res, 400, "validation_error", "model_info.id",
                            "model_info.id=%s already belongs to an existing deployment; omit "
                            "model_info.id to auto-generate one.",
                            given_id->valuestring);
            goto done;
        }
    } else if (admin_uuid(id) < 0) {
        goto oom;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(info, "id");
    cJSON_AddStringToObject(info, "id", id);
    if (!cJSON_GetObjectItemCaseSensitive(info, "db_model"))
        cJSON_AddFalseToObject(info, "db_model");
    /* litellm_params: every string value encrypted, other values as given, nulls left out */
    if (!(params = cJSON_CreateObject()))
        goto oom;
    for (const cJSON *it = lp->child; it; it = it->next) {
        if (cJSON_IsNull(it))
            continue;
        cJSON *v;
        if (cJSON_IsString(it)) {
            char *enc = encrypt_text(secret, it->valuestring);
            v = enc ? cJSON_CreateString(enc) : NULL;
            free(enc);
        } else {
            v = cJSON_Duplicate(it, true);
        }
        if (!v || !cJSON_AddItemToObject(params, it->string, v)) {
            cJSON_Delete(v);
            goto oom;
        }
    }
    if (!(params_text = cJSON_PrintUnformatted(params)) ||
        !(info_text = cJSON_PrintUnformatted(info)))
        goto oom;
    admin_now_text(now);
    if (admin_row_set(&row, "model_id", id) < 0 ||
        admin_row_set(&row, "model_name", name->valuestring) < 0 ||
        admin_row_set(&row, "litellm_params", params_text) < 0 ||
        admin_row_set(&row, "model_info", info_text) < 0 ||
        admin_row_set(&row, "created_at", now) < 0 || admin_row_set(&row, "updated_at", now) < 0 ||
        admin_row_set(&row, "created_by", ADMIN_PROXY_ADMIN_NAME) < 0 ||
        admin_row_set(&row, "updated_by", ADMIN_PROXY_ADMIN_NAME) < 0)
        goto oom;
    if (sdb_begin(a->db) < 0)
        goto db_error;
    in_tx = true;
    if (!(old = admin_rows_select(a->db, models_table(), "model_id", id, NULL)))
        goto db_error;
    if (sdb_res_rows(old)) {
        admin_set_error(res, 400, "validation_error", "model_info.id",
                        "model_info.id=%s already belongs to an existing deployment; omit "
                        "model_info.id to auto-generate one.",
                        id);
        goto done;
    }
    if (!(r = admin_row_insert(a->db, &row)) || sdb_commit(a->db) < 0)
        goto db_error;
    in_tx = false;
    admin_set_body(res, 200, admin_row_json_or_null(models_table(), r, 0));
    res->models_changed = true;
    goto done;
oom:
    set_oom(res);
    goto done;
db_error:
    admin_set_db_error(res, a);
done:
    if (in_tx)
        sdb_rollback(a->db);
    sdb_res_free(old);
    sdb_res_free(r);
    admin_row_free(&row);
    cJSON_Delete(params);
    cJSON_Delete(info);
    free(params_text);
    free(info_text);
    cJSON_Delete(body);
}

/* POST /model/delete {"id"}: LiteLLM answers an unknown id with 400 (type auth_error, from its
 * exception wrapper); config deployments are not in the table and so are "not found" too. */
ADMIN_HANDLER(admin_model_delete)
{
    sdb_res_t *r = NULL;
    cJSON *body = admin_body_object(call, res);
    if (!body)
        return;
    const cJSON *idv = cJSON_GetObjectItemCaseSensitive(body, "id");
    if (!cJSON_IsString(idv)) {
        admin_bad_request(res, "id", "id is required (the model_info.id of a DB model)");
        goto done;
    }
    if (!(r = admin_rows_delete(a->db, models_table(), "model_id", idv->valuestring))) {
        admin_set_db_error(res, a);
        goto done;
    }
    if (sdb_res_rows(r) == 0) {
        admin_set_error(res, 400, "auth_error", NULL, "Model with id=%s not found in db",
                        idv->valuestring);
        goto done;
    }
    char msg[512];
    snprintf(msg, sizeof msg, "Model: %s deleted successfully", idv->valuestring);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "message", msg);
    admin_set_body(res, 200, doc);
    res->models_changed = true;
done:
    sdb_res_free(r);
    cJSON_Delete(body);
}

char *admin_model_encrypt(const char *secret, const char *plain)
{
    return encrypt_text(secret, plain);
}
char *admin_model_decrypt(const char *secret, const char *value)
{
    return decrypt_text(secret, value);
}
