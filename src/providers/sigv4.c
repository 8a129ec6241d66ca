/* SPDX-License-Identifier: MIT
 * AWS Signature Version 4 (header form) with OpenSSL's SHA-256 and HMAC. Canonicalization
 * follows AWS's published rules and test suite: path normalized and re-encoded per segment
 * (every service but S3), query parameters decoded, re-encoded and sorted, header names
 * lowercased, values trimmed with space runs collapsed, repeats joined with ','. */
#include "providers/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char sigv4_hex[] = "0123456789abcdef";

static void sigv4_to_hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = sigv4_hex[p[i] >> 4];
        out[2 * i + 1] = sigv4_hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *p, size_t n, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(p ? p : "", n, md, &len, EVP_sha256(), NULL) || len != 32) {
        memset(hex, '0', 64);
        hex[64] = '\0';
        return;
    }
    sigv4_to_hex(md, 32, hex);
}

static void sigv4_hmac(const void *key, size_t key_n, const void *p, size_t n,
                       unsigned char out[32])
{
    unsigned int len = 32;
    if (!HMAC(EVP_sha256(), key, (int)key_n, p ? p : (const void *)"", n, out, &len))
        memset(out, 0, 32);
}

void sigv4_amz_date(time_t t, char out[17])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    if (strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        memcpy(out, "19700101T000000Z", 17);
}

/* ---- encoding --------------------------------------------------------------------------- */

static bool sigv4_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int sigv4_uri_encode(buf_t *out, str_t s)
{
    static const char upper[] = "0123456789ABCDEF";
    if (buf_reserve(out, s.n * 3) != 0)
        return -1;
    char *o = out->p + out->n;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (sigv4_unreserved(c)) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = upper[c >> 4];
            *o++ = upper[c & 15];
        }
    }
    out->n = (size_t)(o - out->p);
    return 0;
}

static int sigv4_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends s with %XX sequences decoded (a '%' not followed by two hex digits stays as is). */
static int sigv4_uri_decode(buf_t *out, str_t s)
{
    if (buf_reserve(out, s.n) != 0)
        return -1;
    char *o = out->p + out->n;
    for (size_t i = 0; i < s.n; i++) {
        int hi, lo;
        if (s.p[i] == '%' && i + 2 < s.n && (hi = sigv4_hex_value(s.p[i + 1])) >= 0 &&
            (lo = sigv4_hex_value(s.p[i + 2])) >= 0) {
            *o++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *o++ = s.p[i];
        }
    }
    out->n = (size_t)(o - out->p);
    return 0;
}

/* ---- canonical request ------------------------------------------------------------------ */

/* The path with "." and ".." segments resolved and empty segments dropped, each segment
 * URI-encoded; a trailing '/' is kept. */
static int sigv4_canonical_path(buf_t *out, str_t path)
{
    if (path.n == 0 || path.p[0] != '/')
        return buf_append(out, "/", 1) == 0 && sigv4_uri_encode(out, path) == 0 ? 0 : -1;
    size_t max = 1;
    for (size_t i = 0; i < path.n; i++)
        max += path.p[i] == '/';
    str_t *seg = malloc(max * sizeof *seg);
    if (!seg)
        return -1;
    size_t n = 0;
    size_t i = 0;
    while (i < path.n) {
        while (i < path.n && path.p[i] == '/')
            i++;
        size_t start = i;
        while (i < path.n && path.p[i] != '/')
            i++;
        str_t s = str_make(path.p + start, i - start);
        if (s.n == 0 || str_eq_cstr(s, "."))
            continue;
        if (str_eq_cstr(s, "..")) {
            if (n)
                n--;
            continue;
        }
        seg[n++] = s;
    }
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++)
        rc = buf_append(out, "/", 1) || sigv4_uri_encode(out, seg[k]);
    if (rc == 0 && (n == 0 || path.p[path.n - 1] == '/'))
        rc = buf_append(out, "/", 1);
    free(seg);
    return rc ? -1 : 0;
}

typedef struct {
    size_t name_off, name_n, value_off, value_n; /* into the encoded scratch buffer */
} sigv4_param_t;

static int sigv4_param_cmp(const sigv4_param_t *a, const sigv4_param_t *b, const char *base)
{
    size_t n = a->name_n < b->name_n ? a->name_n : b->name_n;
    int c = memcmp(base + a->name_off, base + b->name_off, n);
    if (c || a->name_n != b->name_n)
        return c ? c : (a->name_n < b->name_n ? -1 : 1);
    n = a->value_n < b->value_n ? a->value_n : b->value_n;
    c = memcmp(base + a->value_off, base + b->value_off, n);
    if (c || a->value_n != b->value_n)
        return c ? c : (a->value_n < b->value_n ? -1 : 1);
    return 0;
}

/* Appends one query component decoded then strictly re-encoded. */
static int sigv4_reencode(buf_t *enc, buf_t *tmp, str_t s)
{
    tmp->n = 0;
    return sigv4_uri_decode(tmp, s) || sigv4_uri_encode(enc, str_make(tmp->p, tmp->n)) ? -1 : 0;
}

static int sigv4_canonical_query(buf_t *out, str_t query)
{
    sigv4_param_t params[SIGV4_MAX_QUERY];
    size_t n = 0;
    buf_t enc = {0}, tmp = {0};
    int rc = -1;
    size_t i = 0;
    while (i < query.n) {
        size_t start = i;
        while (i < query.n && query.p[i] != '&')
            i++;
        str_t part = str_make(query.p + start, i - start);
        i++;
        if (part.n == 0)
            continue;
        if (n == SIGV4_MAX_QUERY)
            goto done;
        const char *eq = memchr(part.p, '=', part.n);
        str_t name = eq ? str_make(part.p, (size_t)(eq - part.p)) : part;
        str_t value = eq ? str_make(eq + 1, part.n - name.n - 1) : STR_NULL;
        sigv4_param_t *p = &params[n++];
        p->name_off = enc.n;
        if (sigv4_reencode(&enc, &tmp, name) != 0)
            goto done;
        p->name_n = enc.n - p->name_off;
        p->value_off = enc.n;
        if (sigv4_reencode(&enc, &tmp, value) != 0)
            goto done;
        p->value_n = enc.n - p->value_off;
    }
    /* insertion sort: a handful of parameters at most */
    for (size_t a = 1; a < n; a++) {
        sigv4_param_t x = params[a];
        size_t b = a;
        while (b > 0 && sigv4_param_cmp(&params[b - 1], &x, enc.p) > 0) {
            params[b] = params[b - 1];
            b--;
        }
        params[b] = x;
    }
    for (size_t k = 0; k < n; k++) {
        if ((k && buf_append(out, "&", 1)) ||
            buf_append(out, enc.p + params[k].name_off, params[k].name_n) ||
            buf_append(out, "=", 1) ||
            buf_append(out, enc.p + params[k].value_off, params[k].value_n))
            goto done;
    }
    rc = 0;
done:
    buf_free(&enc);
    buf_free(&tmp);
    return rc;
}

static int sigv4_name_cmp(str_t a, str_t b)
{
    size_t n = a.n < b.n ? a.n : b.n;
    for (size_t i = 0; i < n; i++) {
        int x = (unsigned char)a.p[i], y = (unsigned char)b.p[i];
        x = x >= 'A' && x <= 'Z' ? x + 32 : x;
        y = y >= 'A' && y <= 'Z' ? y + 32 : y;
        if (x != y)
            return x - y;
    }
    return a.n == b.n ? 0 : a.n < b.n ? -1 : 1;
}

static int sigv4_append_lower(buf_t *out, str_t s)
{
    if (buf_reserve(out, s.n) != 0)
        return -1;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        out->p[out->n++] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    return 0;
}

/* Appends the value trimmed, runs of spaces collapsed to one. */
static int sigv4_append_value(buf_t *out, str_t v)
{
    v = str_trim(v);
    if (buf_reserve(out, v.n) != 0)
        return -1;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] == ' ' && i > 0 && v.p[i - 1] == ' ')
            continue;
        out->p[out->n++] = v.p[i];
    }
    return 0;
}

int sigv4_canonical_request(buf_t *out, const sigv4_canonical_t *c, buf_t *signed_headers)
{
    if (c->num_headers > SIGV4_MAX_HEADERS)
        return SIGV4_ERR_INVALID;
    const sigv4_header_t *h[SIGV4_MAX_HEADERS];
    size_t n = 0;
    for (size_t i = 0; i < c->num_headers; i++) {
        if (c->headers[i].name.n == 0)
            return SIGV4_ERR_INVALID;
        /* stable insertion by lowercase name: repeats keep their order */
        const sigv4_header_t *x = &c->headers[i];
        size_t b = n++;
        while (b > 0 && sigv4_name_cmp(h[b - 1]->name, x->name) > 0) {
            h[b] = h[b - 1];
            b--;
        }
        h[b] = x;
    }
    size_t mark = out->n, sh_mark = signed_headers ? signed_headers->n : 0;
    buf_t names = {0};
    if (buf_append_str(out, c->method) || buf_append(out, "\n", 1) ||
        sigv4_canonical_path(out, c->path) || buf_append(out, "\n", 1) ||
        sigv4_canonical_query(out, c->query) || buf_append(out, "\n", 1))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        bool repeat = i > 0 && sigv4_name_cmp(h[i - 1]->name, h[i]->name) == 0;
        if (repeat) {
            if (buf_append(out, ",", 1) || sigv4_append_value(out, h[i]->value))
                goto fail;
        } else {
            if ((i && buf_append(out, "\n", 1)) || sigv4_append_lower(out, h[i]->name) ||
                buf_append(out, ":", 1) || sigv4_append_value(out, h[i]->value) ||
                (names.n && buf_append(&names, ";", 1)) || sigv4_append_lower(&names, h[i]->name))
                goto fail;
        }
    }
    if ((n && buf_append(out, "\n", 1)) || buf_append(out, "\n", 1) ||
        buf_append(out, names.p, names.n) || buf_append(out, "\n", 1) ||
        buf_append_str(out, c->payload_hash))
        goto fail;
    if (signed_headers && buf_append(signed_headers, names.p, names.n))
        goto fail;
    buf_free(&names);
    return SIGV4_OK;
fail:
    buf_free(&names);
    out->n = mark;
    if (signed_headers)
        signed_headers->n = sh_mark;
    return SIGV4_ERR_INVALID;
}

int sigv4_string_to_sign(buf_t *out, str_t amz_date, str_t scope, str_t canonical_request)
{
    char hash[65];
    sigv4_sha256_hex(canonical_request.p, canonical_request.n, hash);
    return buf_append_cstr(out, SIGV4_ALGORITHM "\n") || buf_append_str(out, amz_date) ||
                   buf_append(out, "\n", 1) || buf_append_str(out, scope) ||
                   buf_append(out, "\n", 1) || buf_append(out, hash, 64)
               ? SIGV4_ERR_INVALID
               : SIGV4_OK;
}

void sigv4_signing_key(str_t secret, str_t date, str_t region, str_t service, unsigned char key[32])
{
    buf_t k = {0};
    unsigned char a[32], b[32];
    if (buf_append_cstr(&k, "AWS4") || buf_append_str(&k, secret)) {
        memset(key, 0, 32);
        buf_free(&k);
        return;
    }
    sigv4_hmac(k.p, k.n, date.p, date.n, a);
    sigv4_hmac(a, 32, region.p, region.n, b);
    sigv4_hmac(b, 32, service.p, service.n, a);
    sigv4_hmac(a, 32, "aws4_request", 12, key);
    OPENSSL_cleanse(k.p, k.n);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    buf_free(&k);
}

void sigv4_signature(const unsigned char key[32], str_t string_to_sign, char hex[65])
{
    unsigned char mac[32];
    sigv4_hmac(key, 32, string_to_sign.p, string_to_sign.n, mac);
    sigv4_to_hex(mac, 32, hex);
}

/* Canonical request, string to sign and signature for the given scope; `signed_headers`
 * receives the list. */
static int sigv4_compute(const sigv4_canonical_t *c, str_t amz_date, str_t secret, str_t region,
                         str_t service, buf_t *creq_out, buf_t *sts_out, buf_t *signed_headers,
                         char signature[65])
{
    buf_t creq_local = {0}, sts_local = {0}, scope = {0};
    buf_t *creq = creq_out ? creq_out : &creq_local;
    buf_t *sts = sts_out ? sts_out : &sts_local;
    int rc = SIGV4_ERR_INVALID;
    str_t date = str_make(amz_date.p, amz_date.n >= 8 ? 8 : amz_date.n);
    size_t creq_mark = creq->n, sts_mark = sts->n;
    if (sigv4_canonical_request(creq, c, signed_headers) != SIGV4_OK)
        goto done;
    if (buf_append_str(&scope, date) || buf_append(&scope, "/", 1) ||
        buf_append_str(&scope, region) || buf_append(&scope, "/", 1) ||
        buf_append_str(&scope, service) || buf_append_cstr(&scope, "/aws4_request"))
        goto done;
    if (sigv4_string_to_sign(sts, amz_date, str_make(scope.p, scope.n),
                             str_make(creq->p + creq_mark, creq->n - creq_mark)) != SIGV4_OK)
        goto done;
    unsigned char key[32];
    sigv4_signing_key(secret, date, region, service, key);
    sigv4_signature(key, str_make(sts->p + sts_mark, sts->n - sts_mark), signature);
    OPENSSL_cleanse(key, sizeof key);
    rc = SIGV4_OK;
done:
    buf_free(&creq_local);
    buf_free(&sts_local);
    buf_free(&scope);
    return rc;
}

int sigv4_sign(const sigv4_request_t *r, sigv4_signed_t *out)
{
    const sigv4_credentials_t *cr = r->credentials;
    out->authorization = (buf_t){0};
    out->signature[0] = '\0';
    if (!cr || !cr->access_key_id || !cr->secret_access_key || !r->region || !r->service ||
        r->num_headers + 4 > SIGV4_MAX_HEADERS)
        return SIGV4_ERR_INVALID;
    sigv4_amz_date(r->now, out->amz_date);
    sigv4_sha256_hex(r->payload.p, r->payload.n, out->payload_hash);
    bool token = cr->session_token && cr->session_token[0];

    sigv4_header_t h[SIGV4_MAX_HEADERS];
    size_t n = 0;
    h[n++] = (sigv4_header_t){STR_LIT("host"), r->host};
    h[n++] = (sigv4_header_t){STR_LIT("x-amz-date"), str_make(out->amz_date, 16)};
    if (r->sign_content_sha256)
        h[n++] = (sigv4_header_t){STR_LIT("x-amz-content-sha256"), str_make(out->payload_hash, 64)};
    if (token)
        h[n++] = (sigv4_header_t){STR_LIT("x-amz-security-token"), str_cstr(cr->session_token)};
    for (size_t i = 0; i < r->num_headers; i++)
        h[n++] = r->headers[i];

    sigv4_canonical_t c = {
        .method = r->method,
        .path = r->path,
        .query = r->query,
        .headers = h,
        .num_headers = n,
        .payload_hash = str_make(out->payload_hash, 64),
    };
    buf_t signed_headers = {0};
    int rc = sigv4_compute(&c, str_make(out->amz_date, 16), str_cstr(cr->secret_access_key),
                           str_cstr(r->region), str_cstr(r->service), out->canonical_request,
                           out->string_to_sign, &signed_headers, out->signature);
    if (rc == SIGV4_OK) {
        buf_t *a = &out->authorization;
        if (buf_append_cstr(a, SIGV4_ALGORITHM " Credential=") ||
            buf_append_cstr(a, cr->access_key_id) || buf_append(a, "/", 1) ||
            buf_append(a, out->amz_date, 8) || buf_append(a, "/", 1) ||
            buf_append_cstr(a, r->region) || buf_append(a, "/", 1) ||
            buf_append_cstr(a, r->service) || buf_append_cstr(a, "/aws4_request, SignedHeaders=") ||
            buf_append(a, signed_headers.p, signed_headers.n) ||
            buf_append_cstr(a, ", Signature=") || buf_append(a, out->signature, 64) ||
            !buf_cstr(a)) {
            buf_free(a);
            rc = SIGV4_ERR_INVALID;
        }
    }
    buf_free(&signed_headers);
    return rc;
}

/* ---- verification ----------------------------------------------------------------------- */

static void sigv4_why(char *why, size_t n, const char *msg)
{
    if (why && n)
        snprintf(why, n, "%s", msg);
}

/* The value of `name` in a comma-separated "k=v, k=v" list. */
static str_t sigv4_auth_field(str_t s, const char *name)
{
    size_t nl = strlen(name);
    size_t i = 0;
    while (i < s.n) {
        while (i < s.n && (s.p[i] == ' ' || s.p[i] == ','))
            i++;
        size_t start = i;
        while (i < s.n && s.p[i] != ',')
            i++;
        str_t part = str_trim(str_make(s.p + start, i - start));
        if (part.n > nl && part.p[nl] == '=' && memcmp(part.p, name, nl) == 0)
            return str_skip(part, nl + 1);
    }
    return STR_NULL;
}

static bool sigv4_parse_date(str_t d, time_t *out)
{
    if (d.n != 16 || d.p[8] != 'T' || d.p[15] != 'Z')
        return false;
    int v[6];
    static const int at[6] = {0, 4, 6, 9, 11, 13}, len[6] = {4, 2, 2, 2, 2, 2};
    for (int k = 0; k < 6; k++) {
        v[k] = 0;
        for (int j = 0; j < len[k]; j++) {
            char c = d.p[at[k] + j];
            if (c < '0' || c > '9')
                return false;
            v[k] = v[k] * 10 + (c - '0');
        }
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return false;
    struct tm tm = {.tm_year = v[0] - 1900,
                    .tm_mon = v[1] - 1,
                    .tm_mday = v[2],
                    .tm_hour = v[3],
                    .tm_min = v[4],
                    .tm_sec = v[5]};
    *out = timegm(&tm);
    return true;
}

int sigv4_verify(const sigv4_verify_t *v, char *why, size_t why_size)
{
    static const str_t prefix = STR_LIT(SIGV4_ALGORITHM " ");
    str_t auth = STR_NULL, date = STR_NULL;
    for (size_t i = 0; i < v->num_headers; i++) {
        if (sigv4_name_cmp(v->headers[i].name, STR_LIT("authorization")) == 0)
            auth = str_trim(v->headers[i].value);
        else if (sigv4_name_cmp(v->headers[i].name, STR_LIT("x-amz-date")) == 0)
            date = str_trim(v->headers[i].value);
    }
    if (!auth.p) {
        sigv4_why(why, why_size, "no Authorization header");
        return SIGV4_ERR_MISSING;
    }
    if (!str_has_prefix(auth, prefix)) {
        sigv4_why(why, why_size, "Authorization is not AWS4-HMAC-SHA256");
        return SIGV4_ERR_MALFORMED;
    }
    auth = str_skip(auth, prefix.n);
    str_t cred = sigv4_auth_field(auth, "Credential");
    str_t signed_list = sigv4_auth_field(auth, "SignedHeaders");
    str_t signature = sigv4_auth_field(auth, "Signature");
    if (!cred.p || !signed_list.p || signature.n != 64) {
        sigv4_why(why, why_size, "Authorization lacks Credential, SignedHeaders or Signature");
        return SIGV4_ERR_MALFORMED;
    }
    /* akid/date/region/service/aws4_request, read from the right */
    str_t part[5];
    str_t rest = cred;
    for (int k = 4; k > 0; k--) {
        const char *slash = NULL;
        for (size_t i = rest.n; i > 0; i--)
            if (rest.p[i - 1] == '/') {
                slash = rest.p + i - 1;
                break;
            }
        if (!slash) {
            sigv4_why(why, why_size, "Credential is not key/date/region/service/aws4_request");
            return SIGV4_ERR_MALFORMED;
        }
        part[k] = str_make(slash + 1, (size_t)(rest.p + rest.n - slash - 1));
        rest = str_make(rest.p, (size_t)(slash - rest.p));
    }
    part[0] = rest;
    if (!str_eq_cstr(part[4], "aws4_request") || part[1].n != 8 || part[2].n == 0) {
        sigv4_why(why, why_size, "Credential is not key/date/region/service/aws4_request");
        return SIGV4_ERR_MALFORMED;
    }
    if (!str_eq_cstr(part[0], v->access_key_id)) {
        sigv4_why(why, why_size, "unknown access key id");
        return SIGV4_ERR_UNKNOWN_KEY;
    }
    if (v->service && !str_eq_cstr(part[3], v->service)) {
        sigv4_why(why, why_size, "Credential is scoped to another service");
        return SIGV4_ERR_MALFORMED;
    }
    time_t when;
    if (!date.p || !sigv4_parse_date(date, &when) || memcmp(date.p, part[1].p, 8) != 0) {
        sigv4_why(why, why_size, "x-amz-date missing, malformed or not the Credential's date");
        return SIGV4_ERR_MALFORMED;
    }
    if (v->now && (when > v->now + 900 || when < v->now - 900)) {
        sigv4_why(why, why_size, "Signature expired: x-amz-date is more than 15 minutes away");
        return SIGV4_ERR_EXPIRED;
    }

    /* the headers the client says it signed, with every value it sent for each */
    sigv4_header_t h[SIGV4_MAX_HEADERS];
    size_t n = 0;
    bool has_host = false;
    size_t i = 0;
    while (i < signed_list.n) {
        size_t start = i;
        while (i < signed_list.n && signed_list.p[i] != ';')
            i++;
        str_t name = str_make(signed_list.p + start, i - start);
        i++;
        if (name.n == 0)
            continue;
        has_host |= sigv4_name_cmp(name, STR_LIT("host")) == 0;
        bool found = false;
        for (size_t k = 0; k < v->num_headers; k++) {
            if (sigv4_name_cmp(v->headers[k].name, name) != 0)
                continue;
            if (n == SIGV4_MAX_HEADERS) {
                sigv4_why(why, why_size, "too many signed headers");
                return SIGV4_ERR_MALFORMED;
            }
            h[n++] = v->headers[k];
            found = true;
        }
        if (!found) {
            sigv4_why(why, why_size, "a signed header is missing from the request");
            return SIGV4_ERR_MISMATCH;
        }
    }
    if (!has_host) {
        sigv4_why(why, why_size, "host is not signed");
        return SIGV4_ERR_MALFORMED;
    }
    char payload_hash[65], expect[65];
    sigv4_sha256_hex(v->body.p, v->body.n, payload_hash);
    sigv4_canonical_t c = {
        .method = v->method,
        .path = v->path,
        .query = v->query,
        .headers = h,
        .num_headers = n,
        .payload_hash = str_make(payload_hash, 64),
    };
    if (sigv4_compute(&c, date, str_cstr(v->secret_access_key), part[2], part[3], NULL, NULL, NULL,
                      expect) != SIGV4_OK) {
        sigv4_why(why, why_size, "cannot canonicalize the request");
        return SIGV4_ERR_MALFORMED;
    }
    if (CRYPTO_memcmp(expect, signature.p, 64) != 0) {
        sigv4_why(why, why_size, "signature mismatch");
        return SIGV4_ERR_MISMATCH;
    }
    return SIGV4_OK;
}
