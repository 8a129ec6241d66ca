/* SPDX-License-Identifier: MIT
 * Vertex AI access tokens. A registry of refreshers, one per distinct credential: each owns a
 * thread that exchanges a signed JWT (service account) or a refresh token (authorized user) at
 * the credential's token_uri with blocking libcurl calls, keeps the token under a mutex that
 * requests take only to copy it, and sleeps until ~5 minutes before expiry. The registry is an
 * append-only list published with an atomic pointer, so requests find their refresher without
 * a lock; entries die together at vauth_shutdown_all. */
#include "providers/vertex_auth.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/common.h"
#include "core/log.h"

#define VAUTH_SCOPE "https://www.googleapis.com/auth/cloud-platform"
#define VAUTH_DEFAULT_TOKEN_URI "https://oauth2.googleapis.com/token"
#define VAUTH_MAX_FILE (1u << 20)
#define VAUTH_MAX_TOKEN 4096
#define VAUTH_REFRESH_MARGIN_S 300 /* refresh this long before expiry */
#define VAUTH_BACKOFF_MAX_S 60
#define VAUTH_HTTP_TIMEOUT_MS 30000L

typedef enum { VAUTH_SERVICE_ACCOUNT = 1, VAUTH_AUTHORIZED_USER } vauth_kind_t;

struct vauth {
    struct vauth *next; /* registry list; immutable once published */
    char *key;          /* the credentials string (path or JSON), or "" for the environment */
    char *error;        /* non-NULL: loading failed; vauth_get reports this */

    vauth_kind_t kind;
    char *client_email, *private_key_id, *token_uri, *project_id;
    char *client_id, *client_secret, *refresh_token; /* authorized_user */
    EVP_PKEY *pkey;                                  /* service_account */

    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    pthread_mutex_t lock; /* guards token, expiry_mono, stop waits */
    pthread_cond_t wake;
    char token[VAUTH_MAX_TOKEN];
    long long expiry_mono; /* CLOCK_MONOTONIC seconds; 0: no token */
};

static _Atomic(vauth_t *) registry;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

static long long now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

/* ---- base64url and the JWT -------------------------------------------------------------- */

int vauth_base64url(const void *p, size_t n, buf_t *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *s = p;
    if (buf_reserve(out, (n + 2) / 3 * 4) != 0)
        return -1;
    char *o = out->p + out->n;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned x = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
        *o++ = tab[x >> 18];
        *o++ = tab[(x >> 12) & 63];
        *o++ = tab[(x >> 6) & 63];
        *o++ = tab[x & 63];
    }
    if (i < n) {
        unsigned x = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0);
        *o++ = tab[x >> 18];
        *o++ = tab[(x >> 12) & 63];
        if (i + 1 < n)
            *o++ = tab[(x >> 6) & 63];
    }
    out->n = (size_t)(o - out->p);
    return 0;
}

static void openssl_reason(char *err, size_t n, const char *what)
{
    unsigned long e = ERR_get_error();
    char reason[160] = "";
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    snprintf(err, n, "%s%s%s", what, reason[0] ? ": " : "", reason);
}

static EVP_PKEY *pkey_from_pem(const char *pem, char *err, size_t n)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!k) {
        openssl_reason(err, n, "private_key is not a PEM private key");
        return NULL;
    }
    if (!EVP_PKEY_is_a(k, "RSA")) {
        EVP_PKEY_free(k);
        snprintf(err, n, "private_key is not an RSA key (RS256 needs one)");
        return NULL;
    }
    return k;
}

/* header.claims.signature for the given fields; signs with SHA-256 and PKCS#1 v1.5 (RS256). */
static int jwt_sign(EVP_PKEY *pkey, const char *email, const char *kid, const char *aud,
                    long long now, buf_t *out, char *err, size_t n)
{
    buf_t header = {0}, claims = {0};
    unsigned char *sig = NULL;
    EVP_MD_CTX *md = NULL;
    int rc = -1;
    buf_append_cstr(&header, "{\"alg\":\"RS256\",\"typ\":\"JWT\"");
    if (kid && *kid) {
        buf_append_cstr(&header, ",\"kid\":");
        buf_append_json_string(&header, str_cstr(kid));
    }
    buf_append_cstr(&header, "}");
    buf_append_cstr(&claims, "{\"iss\":");
    buf_append_json_string(&claims, str_cstr(email));
    buf_append_cstr(&claims, ",\"scope\":\"" VAUTH_SCOPE "\",\"aud\":");
    buf_append_json_string(&claims, str_cstr(aud));
    buf_printf(&claims, ",\"iat\":%lld,\"exp\":%lld}", now, now + 3600);

    size_t mark = out->n;
    if (vauth_base64url(header.p, header.n, out) != 0 || buf_append(out, ".", 1) != 0 ||
        vauth_base64url(claims.p, claims.n, out) != 0) {
        snprintf(err, n, "out of memory");
        goto done;
    }
    md = EVP_MD_CTX_new();
    size_t siglen = 0;
    if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
        EVP_DigestSignUpdate(md, out->p + mark, out->n - mark) != 1 ||
        EVP_DigestSignFinal(md, NULL, &siglen) != 1) {
        openssl_reason(err, n, "signing the JWT failed");
        goto done;
    }
    sig = malloc(siglen);
    if (!sig || EVP_DigestSignFinal(md, sig, &siglen) != 1) {
        openssl_reason(err, n, "signing the JWT failed");
        goto done;
    }
    if (buf_append(out, ".", 1) != 0 || vauth_base64url(sig, siglen, out) != 0) {
        snprintf(err, n, "out of memory");
        goto done;
    }
    rc = 0;
done:
    if (rc != 0)
        out->n = mark;
    EVP_MD_CTX_free(md);
    free(sig);
    buf_free(&header);
    buf_free(&claims);
    return rc;
}

static const char *json_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

int vauth_jwt_build(const char *service_account_json, long long now, buf_t *out, char *err,
                    size_t n)
{
    cJSON *doc = cJSON_Parse(service_account_json);
    const char *email = json_str(doc, "client_email"), *pem = json_str(doc, "private_key");
    if (!email || !pem) {
        cJSON_Delete(doc);
        snprintf(err, n, "service account JSON needs client_email and private_key");
        return -1;
    }
    const char *aud = json_str(doc, "token_uri");
    EVP_PKEY *k = pkey_from_pem(pem, err, n);
    int rc = k ? jwt_sign(k, email, json_str(doc, "private_key_id"),
                          aud ? aud : VAUTH_DEFAULT_TOKEN_URI, now, out, err, n)
               : -1;
    EVP_PKEY_free(k);
    cJSON_Delete(doc);
    return rc;
}

int vauth_parse_token_response(const char *body, size_t len, char *out, size_t out_n,
                               long long *expires_in, char *err, size_t n)
{
    cJSON *doc = cJSON_ParseWithLength(body, len);
    int rc = -1;
    if (!cJSON_IsObject(doc)) {
        snprintf(err, n, "token endpoint answer is not a JSON object");
        goto done;
    }
    const char *tok = json_str(doc, "access_token");
    if (!tok) {
        const char *e = json_str(doc, "error"), *d = json_str(doc, "error_description");
        snprintf(err, n, "token endpoint gave no access_token%s%s%s%s", e ? ": " : "", e ? e : "",
                 d ? ": " : "", d ? d : "");
        goto done;
    }
    size_t tl = strlen(tok);
    if (tl + 1 > out_n) {
        snprintf(err, n, "access_token is too long (%zu bytes)", tl);
        goto done;
    }
    for (size_t i = 0; i < tl; i++) {
        unsigned char c = (unsigned char)tok[i];
        if (c <= ' ' || c >= 0x7f) { /* it goes into a header line */
            snprintf(err, n, "access_token holds a control or non-ASCII character");
            goto done;
        }
    }
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(doc, "expires_in");
    long long e = 3600;
    if (cJSON_IsNumber(ex) && ex->valuedouble >= 1 && ex->valuedouble < 1e9)
        e = (long long)ex->valuedouble;
    else if (cJSON_IsString(ex) && strtoll(ex->valuestring, NULL, 10) > 0)
        e = MIN(strtoll(ex->valuestring, NULL, 10), 999999999LL);
    memcpy(out, tok, tl + 1);
    *expires_in = e;
    rc = 0;
done:
    cJSON_Delete(doc);
    return rc;
}

/* ---- loading credentials ---------------------------------------------------------------- */

static char *read_file(const char *path, char *err, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, n, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    buf_t b = {0};
    char tmp[8192];
    size_t got;
    while ((got = fread(tmp, 1, sizeof tmp, f)) > 0 && b.n <= VAUTH_MAX_FILE)
        buf_append(&b, tmp, got);
    bool bad = ferror(f) || b.n > VAUTH_MAX_FILE;
    fclose(f);
    if (bad) {
        buf_free(&b);
        snprintf(err, n, "cannot read %s (unreadable or over 1 MB)", path);
        return NULL;
    }
    buf_append(&b, "", 1);
    return b.p;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void vauth_free(vauth_t *v)
{
    free(v->private_key_id);
    free(v->key);
    free(v->error);
    free(v->client_email);
    free(v->token_uri);
    free(v->project_id);
    free(v->client_id);
    if (v->client_secret) {
        OPENSSL_cleanse(v->client_secret, strlen(v->client_secret));
        free(v->client_secret);
    }
    if (v->refresh_token) {
        OPENSSL_cleanse(v->refresh_token, strlen(v->refresh_token));
        free(v->refresh_token);
    }
    EVP_PKEY_free(v->pkey);
    OPENSSL_cleanse(v->token, sizeof v->token);
    pthread_mutex_destroy(&v->lock);
    pthread_cond_destroy(&v->wake);
    free(v);
}

/* Fills v's credential fields from `text` (a path or the JSON itself). 0, or -1 with err. */
static int vauth_load(vauth_t *v, const char *text, char *err, size_t n)
{
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    char *file = NULL;
    const char *json = p;
    if (*p != '{') {
        file = read_file(p, err, n);
        if (!file)
            return -1;
        json = file;
    }
    cJSON *doc = cJSON_Parse(json);
    int rc = -1;
    if (!cJSON_IsObject(doc)) {
        snprintf(err, n, "%s%s is not a JSON object", file ? "credentials file " : "credentials",
                 file ? p : "");
        goto done;
    }
    const char *type = json_str(doc, "type");
    const char *uri = json_str(doc, "token_uri");
    v->token_uri = xstrdup(uri ? uri : VAUTH_DEFAULT_TOKEN_URI);
    if (!type || strcmp(type, "service_account") == 0) {
        const char *email = json_str(doc, "client_email"), *pem = json_str(doc, "private_key");
        if (!email || !pem) {
            snprintf(err, n, "service account credentials need client_email and private_key");
            goto done;
        }
        v->pkey = pkey_from_pem(pem, err, n);
        if (!v->pkey)
            goto done;
        v->kind = VAUTH_SERVICE_ACCOUNT;
        v->client_email = xstrdup(email);
        v->private_key_id = dup_or_null(json_str(doc, "private_key_id"));
        v->project_id = dup_or_null(json_str(doc, "project_id"));
    } else if (strcmp(type, "authorized_user") == 0) {
        const char *id = json_str(doc, "client_id"), *secret = json_str(doc, "client_secret"),
                   *refresh = json_str(doc, "refresh_token");
        if (!id || !secret || !refresh) {
            snprintf(err, n,
                     "authorized_user credentials need client_id, client_secret, refresh_token");
            goto done;
        }
        v->kind = VAUTH_AUTHORIZED_USER;
        v->client_id = xstrdup(id);
        v->client_secret = xstrdup(secret);
        v->refresh_token = xstrdup(refresh);
        v->client_email = xstrdup(id);
        v->project_id = dup_or_null(json_str(doc, "quota_project_id"));
    } else {
        snprintf(err, n,
                 "credentials type \"%s\" is not supported (use a service_account or "
                 "authorized_user JSON)",
                 type);
        goto done;
    }
    rc = 0;
done:
    cJSON_Delete(doc);
    if (file) {
        OPENSSL_cleanse(file, strlen(file));
        free(file);
    }
    return rc;
}

/* ---- the refresher thread --------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    buf_t *b = arg;
    size_t n = size * nmemb;
    if (b->n + n > (1u << 20) || buf_append(b, p, n) != 0)
        return 0; /* aborts the transfer */
    return n;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    vauth_t *v = arg;
    return atomic_load(&v->stop) ? 1 : 0; /* a shutdown cuts a slow token call short */
}

static void form_add(buf_t *form, CURL *curl, const char *name, const char *value)
{
    char *esc = curl_easy_escape(curl, value, 0);
    buf_printf(form, "%s%s=%s", form->n ? "&" : "", name, esc ? esc : "");
    curl_free(esc);
}

/* One token request. 0 with the token, or -1 with the reason. Blocking: refresher thread only. */
static int vauth_fetch(vauth_t *v, char *tok, size_t tn, long long *expires_in, char *err, size_t n)
{
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(err, n, "curl_easy_init failed");
        return -1;
    }
    buf_t form = {0}, body = {0};
    int rc = -1;
    if (v->kind == VAUTH_SERVICE_ACCOUNT) {
        buf_t jwt = {0};
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (jwt_sign(v->pkey, v->client_email, v->private_key_id, v->token_uri,
                     (long long)ts.tv_sec, &jwt, err, n) != 0) {
            buf_free(&jwt);
            goto done;
        }
        buf_append(&jwt, "", 1);
        form_add(&form, curl, "grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
        form_add(&form, curl, "assertion", jwt.p);
        buf_free(&jwt);
    } else {
        form_add(&form, curl, "grant_type", "refresh_token");
        form_add(&form, curl, "client_id", v->client_id);
        form_add(&form, curl, "client_secret", v->client_secret);
        form_add(&form, curl, "refresh_token", v->refresh_token);
    }
    struct curl_slist *hdr =
        curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
    curl_easy_setopt(curl, CURLOPT_URL, v->token_uri);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form.p ? form.p : "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)form.n);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, VAUTH_HTTP_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, v);
    CURLcode cc = curl_easy_perform(curl);
    curl_slist_free_all(hdr);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        snprintf(err, n, "POST %s: %s", v->token_uri, curl_easy_strerror(cc));
    } else if (status != 200) {
        snprintf(err, n, "POST %s: HTTP %ld: %.*s", v->token_uri, status,
                 (int)MIN(body.n, (size_t)300), body.p ? body.p : "");
    } else {
        char why[200];
        rc = vauth_parse_token_response(body.p ? body.p : "", body.n, tok, tn, expires_in, why,
                                        sizeof why);
        if (rc != 0)
            snprintf(err, n, "POST %s: %s", v->token_uri, why);
    }
done:
    if (form.p)
        OPENSSL_cleanse(form.p, form.n);
    buf_free(&form);
    buf_free(&body);
    curl_easy_cleanup(curl);
    return rc;
}

/* Waits up to `seconds` or until stopped; called and returns with v->lock held. */
static void vauth_sleep(vauth_t *v, long long seconds)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += seconds;
    while (!atomic_load(&v->stop))
        if (pthread_cond_timedwait(&v->wake, &v->lock, &until) == ETIMEDOUT)
            break;
}

static void *vauth_thread(void *arg)
{
    vauth_t *v = arg;
    long long backoff = 1;
    bool had_token = false;
    char *tok = malloc(VAUTH_MAX_TOKEN);
    if (!tok)
        return NULL;
    pthread_mutex_lock(&v->lock);
    while (!atomic_load(&v->stop)) {
        pthread_mutex_unlock(&v->lock);
        long long expires_in = 0;
        char err[512];
        int rc = vauth_fetch(v, tok, VAUTH_MAX_TOKEN, &expires_in, err, sizeof err);
        long long wait_s;
        if (rc == 0) {
            if (!had_token)
                log_info("vertex_ai: access token for %s ready (expires in %lld s)",
                         v->client_email, expires_in);
            had_token = true;
            backoff = 1;
            wait_s = expires_in > 2 * VAUTH_REFRESH_MARGIN_S ? expires_in - VAUTH_REFRESH_MARGIN_S
                                                             : MAX(expires_in / 2, 1);
        } else if (!atomic_load(&v->stop)) {
            log_warn("vertex_ai: token refresh for %s failed (retry in %lld s): %s",
                     v->client_email, backoff, err);
            wait_s = backoff;
            backoff = MIN(backoff * 2, VAUTH_BACKOFF_MAX_S);
        } else {
            wait_s = 0;
        }
        pthread_mutex_lock(&v->lock);
        if (rc == 0) {
            memcpy(v->token, tok, strlen(tok) + 1);
            v->expiry_mono = now_mono() + expires_in;
        }
        vauth_sleep(v, wait_s);
    }
    pthread_mutex_unlock(&v->lock);
    OPENSSL_cleanse(tok, VAUTH_MAX_TOKEN);
    free(tok);
    return NULL;
}

/* ---- the registry ----------------------------------------------------------------------- */

/* By content, not by pointer: a freed config string's address may come back holding another
 * credential. A few credentials and a strcmp each: cheaper than the lock it avoids. */
static vauth_t *registry_find(const char *key)
{
    for (vauth_t *v = atomic_load_explicit(&registry, memory_order_acquire); v; v = v->next)
        if (strcmp(v->key, key) == 0)
            return v;
    return NULL;
}

static vauth_t *vauth_create(const char *key, const char *text)
{
    vauth_t *v = xcalloc(1, sizeof *v);
    v->key = xstrdup(key);
    pthread_mutex_init(&v->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&v->wake, &ca);
    pthread_condattr_destroy(&ca);
    char err[512];
    if (!text) {
        v->error = xstrdup("vertex_ai: no credentials: set vertex_credentials in litellm_params "
                           "or GOOGLE_APPLICATION_CREDENTIALS");
    } else if (vauth_load(v, text, err, sizeof err) != 0) {
        char msg[700];
        snprintf(msg, sizeof msg, "vertex_ai: vertex_credentials: %s", err);
        v->error = xstrdup(msg);
    } else if (pthread_create(&v->thread, NULL, vauth_thread, v) != 0) {
        v->error = xstrdup("vertex_ai: cannot start the token refresher thread");
    } else {
        v->thread_started = true;
    }
    if (v->error)
        log_error("%s", v->error);
    return v;
}

vauth_t *vauth_get(const char *credentials, char *err, size_t n)
{
    /* the environment variable is read once, when the "" entry is made */
    const char *key = credentials && *credentials ? credentials : "";
    vauth_t *v = registry_find(key);
    if (!v) {
        pthread_mutex_lock(&registry_lock);
        v = registry_find(key);
        if (!v) {
            const char *text = *key ? key : getenv("GOOGLE_APPLICATION_CREDENTIALS");
            v = vauth_create(key, text && *text ? text : NULL);
            v->next = atomic_load_explicit(&registry, memory_order_relaxed);
            atomic_store_explicit(&registry, v, memory_order_release);
        }
        pthread_mutex_unlock(&registry_lock);
    }
    if (v->error) {
        snprintf(err, n, "%s", v->error);
        return NULL;
    }
    return v;
}

int vauth_token(vauth_t *v, char *out, size_t n)
{
    int rc = -1;
    pthread_mutex_lock(&v->lock);
    size_t len = strlen(v->token);
    if (len && len + 1 <= n && now_mono() < v->expiry_mono) {
        memcpy(out, v->token, len + 1);
        rc = 0;
    }
    pthread_mutex_unlock(&v->lock);
    return rc;
}

const char *vauth_project(const vauth_t *v)
{
    return v->project_id;
}

void vauth_set_token(vauth_t *v, const char *token, long long expires_in_s)
{
    pthread_mutex_lock(&v->lock);
    snprintf(v->token, sizeof v->token, "%s", token);
    v->expiry_mono = now_mono() + expires_in_s;
    pthread_mutex_unlock(&v->lock);
}

int vauth_start_config(const cfg_t *cfg)
{
    int bad = 0;
    for (size_t i = 0; cfg && i < cfg->num_deployments; i++) {
        const cfg_deployment_t *d = &cfg->deployments[i];
        if (!d->provider || strcmp(d->provider, "vertex_ai") != 0)
            continue;
        char err[700];
        if (!vauth_get(cfg_deployment_param(d, "vertex_credentials"), err, sizeof err))
            bad++;
    }
    return bad;
}

void vauth_shutdown_all(void)
{
    pthread_mutex_lock(&registry_lock);
    vauth_t *v = atomic_exchange(&registry, NULL);
    pthread_mutex_unlock(&registry_lock);
    while (v) {
        vauth_t *next = v->next;
        if (v->thread_started) {
            pthread_mutex_lock(&v->lock);
            atomic_store(&v->stop, true);
            pthread_cond_signal(&v->wake);
            pthread_mutex_unlock(&v->lock);
            pthread_join(v->thread, NULL);
        }
        vauth_free(v);
        v = next;
    }
}
