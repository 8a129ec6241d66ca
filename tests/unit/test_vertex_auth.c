/* SPDX-License-Identifier: MIT
 * vertex_auth: base64url, the RS256 JWT (its signature checked with the public half of a key
 * made here), token endpoint answers, the credential registry, and one real refresh against a
 * token endpoint served on loopback by this test. */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "providers/vertex_auth.h"
#include "vertex_test_key.h"

EVP_PKEY *test_rsa_key(char **pem)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    cr_assert(k);
    BIO *bio = BIO_new(BIO_s_mem());
    cr_assert(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) == 1);
    char *p;
    long n = BIO_get_mem_data(bio, &p);
    *pem = strndup(p, (size_t)n);
    BIO_free(bio);
    return k;
}

char *test_service_account(const char *pem, const char *token_uri, const char *project)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "service_account");
    cJSON_AddStringToObject(o, "project_id", project);
    cJSON_AddStringToObject(o, "private_key_id", "kid-123");
    cJSON_AddStringToObject(o, "private_key", pem);
    cJSON_AddStringToObject(o, "client_email", "sluice-test@proj.iam.gserviceaccount.com");
    cJSON_AddStringToObject(o, "client_id", "1234567890");
    if (token_uri)
        cJSON_AddStringToObject(o, "token_uri", token_uri);
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

static const char *b64(const char *s)
{
    static buf_t b;
    b.n = 0;
    cr_assert(vauth_base64url(s, strlen(s), &b) == 0);
    buf_append(&b, "", 1);
    return b.p;
}

Test(vertex_auth, base64url_rfc4648_vectors)
{
    cr_expect_str_eq(b64(""), "");
    cr_expect_str_eq(b64("f"), "Zg");
    cr_expect_str_eq(b64("fo"), "Zm8");
    cr_expect_str_eq(b64("foo"), "Zm9v");
    cr_expect_str_eq(b64("foob"), "Zm9vYg");
    cr_expect_str_eq(b64("fooba"), "Zm9vYmE");
    cr_expect_str_eq(b64("foobar"), "Zm9vYmFy");
    cr_expect_str_eq(b64("\xfb\xff\xbf"), "-_-_"); /* the two URL-safe symbols */
    cr_expect_str_eq(b64("\xff\xfe"), "__4");
}

/* base64url -> bytes (test side, independent of the code under test: OpenSSL's decoder after
 * restoring the standard alphabet and padding). */
static unsigned char *unb64(const char *s, size_t n, size_t *out_n)
{
    char *t = malloc(n + 4);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        t[k++] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    while (k % 4)
        t[k++] = '=';
    unsigned char *out = malloc(k);
    int got = EVP_DecodeBlock(out, (unsigned char *)t, (int)k);
    cr_assert(got >= 0);
    size_t pad = (4 - n % 4) % 4; /* the '=' added above decode to zero bytes */
    *out_n = (size_t)got - pad;
    free(t);
    return out;
}

static cJSON *jwt_part(const char *jwt, int which, size_t *len_out)
{
    const char *a = jwt, *b = strchr(a, '.'), *c = b ? strchr(b + 1, '.') : NULL;
    cr_assert(b && c, "three dot-separated parts: %s", jwt);
    cr_assert(!strchr(c + 1, '.'));
    const char *p = which == 0 ? a : which == 1 ? b + 1 : c + 1;
    size_t n = which == 0 ? (size_t)(b - a) : which == 1 ? (size_t)(c - b - 1) : strlen(c + 1);
    for (size_t i = 0; i < n; i++)
        cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", p[i]),
                  "base64url alphabet only, no padding");
    size_t dn;
    unsigned char *d = unb64(p, n, &dn);
    if (len_out)
        *len_out = dn;
    cJSON *j = which < 2 ? cJSON_ParseWithLength((char *)d, dn) : NULL;
    free(d);
    return j;
}

static bool jwt_verify(const char *jwt, EVP_PKEY *pub)
{
    const char *dot2 = strrchr(jwt, '.');
    size_t sn;
    unsigned char *sig = unb64(dot2 + 1, strlen(dot2 + 1), &sn);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
              EVP_DigestVerify(md, sig, sn, (const unsigned char *)jwt, (size_t)(dot2 - jwt)) == 1;
    EVP_MD_CTX_free(md);
    free(sig);
    return ok;
}

Test(vertex_auth, jwt_is_rs256_signed_with_the_service_account_key)
{
    char *pem;
    EVP_PKEY *key = test_rsa_key(&pem);
    char *sa = test_service_account(pem, "https://oauth2.example.test/token", "proj-1");
    buf_t out = {0};
    char err[256];
    cr_assert(vauth_jwt_build(sa, 1700000000, &out, err, sizeof err) == 0, "%s", err);
    buf_append(&out, "", 1);

    cJSON *h = jwt_part(out.p, 0, NULL), *c = jwt_part(out.p, 1, NULL);
    cr_expect_str_eq(cJSON_GetObjectItem(h, "alg")->valuestring, "RS256");
    cr_expect_str_eq(cJSON_GetObjectItem(h, "typ")->valuestring, "JWT");
    cr_expect_str_eq(cJSON_GetObjectItem(h, "kid")->valuestring, "kid-123");
    cr_expect_str_eq(cJSON_GetObjectItem(c, "iss")->valuestring,
                     "sluice-test@proj.iam.gserviceaccount.com");
    cr_expect_str_eq(cJSON_GetObjectItem(c, "scope")->valuestring,
                     "https://www.googleapis.com/auth/cloud-platform");
    cr_expect_str_eq(cJSON_GetObjectItem(c, "aud")->valuestring,
                     "https://oauth2.example.test/token");
    cr_expect_eq(cJSON_GetObjectItem(c, "iat")->valuedouble, 1700000000.0);
    cr_expect_eq(cJSON_GetObjectItem(c, "exp")->valuedouble, 1700003600.0);
    size_t siglen;
    jwt_part(out.p, 2, &siglen);
    cr_expect_eq(siglen, 256, "a 2048-bit RSA signature");

    /* the public half verifies it; any change to the signed text breaks it */
    cr_expect(jwt_verify(out.p, key));
    char *tampered = strdup(out.p);
    tampered[strchr(tampered, '.') - tampered + 3] ^= 1;
    cr_expect(!jwt_verify(tampered, key));
    char *pem2;
    EVP_PKEY *other = test_rsa_key(&pem2);
    cr_expect(!jwt_verify(out.p, other), "a different key does not verify it");

    free(tampered);
    free(pem2);
    EVP_PKEY_free(other);
    cJSON_Delete(h);
    cJSON_Delete(c);
    buf_free(&out);
    free(sa);
    free(pem);
    EVP_PKEY_free(key);
}

Test(vertex_auth, jwt_defaults_the_audience_and_rejects_bad_keys)
{
    char *pem;
    EVP_PKEY *key = test_rsa_key(&pem);
    char *sa = test_service_account(pem, NULL, "p");
    buf_t out = {0};
    char err[256];
    cr_assert(vauth_jwt_build(sa, 1, &out, err, sizeof err) == 0, "%s", err);
    buf_append(&out, "", 1);
    cJSON *c = jwt_part(out.p, 1, NULL);
    cr_expect_str_eq(cJSON_GetObjectItem(c, "aud")->valuestring,
                     "https://oauth2.googleapis.com/token");
    cJSON_Delete(c);

    out.n = 0;
    cr_expect(vauth_jwt_build("{\"client_email\":\"a@b\"}", 1, &out, err, sizeof err) == -1);
    cr_expect(strstr(err, "private_key"), "%s", err);
    cr_expect(vauth_jwt_build("{\"client_email\":\"a@b\",\"private_key\":\"nope\"}", 1, &out, err,
                              sizeof err) == -1);
    cr_expect(strstr(err, "PEM"), "%s", err);

    /* an EC key is a valid PEM but cannot sign RS256 */
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, ec, NULL, NULL, 0, NULL, NULL);
    char *p;
    long n = BIO_get_mem_data(bio, &p);
    char *ecpem = strndup(p, (size_t)n);
    char *sa2 = test_service_account(ecpem, NULL, "p");
    cr_expect(vauth_jwt_build(sa2, 1, &out, err, sizeof err) == -1);
    cr_expect(strstr(err, "RSA"), "%s", err);
    cr_expect_eq(out.n, 0, "nothing appended on failure");

    free(sa2);
    free(ecpem);
    BIO_free(bio);
    EVP_PKEY_free(ec);
    buf_free(&out);
    free(sa);
    free(pem);
    EVP_PKEY_free(key);
}

Test(vertex_auth, token_responses)
{
    char tok[64], err[256];
    long long exp = 0;
    const char *ok =
        "{\"access_token\":\"ya29.abc\",\"expires_in\":3599,\"token_type\":\"Bearer\"}";
    cr_assert(vauth_parse_token_response(ok, strlen(ok), tok, sizeof tok, &exp, err, sizeof err) ==
              0);
    cr_expect_str_eq(tok, "ya29.abc");
    cr_expect_eq(exp, 3599);

    const char *noexp = "{\"access_token\":\"t\"}";
    cr_assert(vauth_parse_token_response(noexp, strlen(noexp), tok, sizeof tok, &exp, err,
                                         sizeof err) == 0);
    cr_expect_eq(exp, 3600, "default lifetime");
    const char *strexp = "{\"access_token\":\"t\",\"expires_in\":\"120\"}";
    cr_assert(vauth_parse_token_response(strexp, strlen(strexp), tok, sizeof tok, &exp, err,
                                         sizeof err) == 0);
    cr_expect_eq(exp, 120);

    const char *denied = "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT\"}";
    cr_expect(vauth_parse_token_response(denied, strlen(denied), tok, sizeof tok, &exp, err,
                                         sizeof err) == -1);
    cr_expect(strstr(err, "invalid_grant") && strstr(err, "Invalid JWT"), "%s", err);
    cr_expect(vauth_parse_token_response("[1]", 3, tok, sizeof tok, &exp, err, sizeof err) == -1);
    cr_expect(vauth_parse_token_response("{", 1, tok, sizeof tok, &exp, err, sizeof err) == -1);
    const char *ctl = "{\"access_token\":\"a\\r\\nX-Evil: 1\"}";
    cr_expect(
        vauth_parse_token_response(ctl, strlen(ctl), tok, sizeof tok, &exp, err, sizeof err) == -1,
        "a token that would split a header line is refused");
    const char *big = "{\"access_token\":\"0123456789012345678901234567890123456789"
                      "0123456789012345678901234567890123456789\"}";
    cr_expect(
        vauth_parse_token_response(big, strlen(big), tok, sizeof tok, &exp, err, sizeof err) == -1);
}

Test(vertex_auth, registry_shares_one_refresher_per_credential)
{
    char *pem;
    EVP_PKEY *key = test_rsa_key(&pem);
    /* port 9 on loopback: nothing listens, so the refresher keeps retrying quietly */
    char *sa = test_service_account(pem, "http://127.0.0.1:9/token", "proj-from-file");
    char err[512];
    vauth_t *a = vauth_get(sa, err, sizeof err);
    cr_assert(a, "%s", err);
    char *copy = strdup(sa);
    cr_expect_eq(vauth_get(copy, err, sizeof err), a, "same text, same refresher");
    cr_expect_str_eq(vauth_project(a), "proj-from-file");

    char tok[128];
    cr_expect_eq(vauth_token(a, tok, sizeof tok), -1, "no token before the first fetch");
    vauth_set_token(a, "ya29.injected", 60);
    cr_assert_eq(vauth_token(a, tok, sizeof tok), 0);
    cr_expect_str_eq(tok, "ya29.injected");
    cr_expect_eq(vauth_token(a, tok, 5), -1, "a buffer too small gets nothing");
    vauth_set_token(a, "ya29.expired", 0);
    cr_expect_eq(vauth_token(a, tok, sizeof tok), -1, "an expired token is not handed out");

    /* a path to the same document is another credential string, another refresher */
    char path[] = "/tmp/sluice-sa-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert(write(fd, sa, strlen(sa)) == (ssize_t)strlen(sa));
    close(fd);
    vauth_t *b = vauth_get(path, err, sizeof err);
    cr_assert(b, "%s", err);
    cr_expect_neq(b, a);
    cr_expect_str_eq(vauth_project(b), "proj-from-file");

    /* $GOOGLE_APPLICATION_CREDENTIALS when the parameter is absent */
    setenv("GOOGLE_APPLICATION_CREDENTIALS", path, 1);
    vauth_t *c = vauth_get(NULL, err, sizeof err);
    cr_assert(c, "%s", err);
    cr_expect_eq(vauth_get("", err, sizeof err), c);
    unlink(path);

    cr_expect_null(vauth_get("/nonexistent/sa.json", err, sizeof err));
    cr_expect(strstr(err, "cannot open /nonexistent/sa.json"), "%s", err);
    cr_expect_null(vauth_get("{\"type\":\"external_account\"}", err, sizeof err));
    cr_expect(strstr(err, "external_account"), "%s", err);
    cr_expect_null(vauth_get("{\"type\":\"service_account\"}", err, sizeof err));
    cr_expect(strstr(err, "client_email"), "%s", err);
    cr_expect_null(vauth_get("{\"type\":\"service_account\"}", err, sizeof err),
                   "a failure is remembered, not retried on every request");

    vauth_shutdown_all();
    free(copy);
    free(sa);
    free(pem);
    EVP_PKEY_free(key);
}

/* ---- a real refresh: a one-shot token endpoint on loopback -------------------------------- */

typedef struct {
    int listen_fd;
    int port;
    char request[16384];
    size_t request_n;
} token_server_t;

static void *serve_token(void *arg)
{
    token_server_t *s = arg;
    int fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    /* read until the whole body (Content-Length) is in */
    for (;;) {
        ssize_t got = read(fd, s->request + s->request_n, sizeof s->request - 1 - s->request_n);
        if (got <= 0)
            break;
        s->request_n += (size_t)got;
        s->request[s->request_n] = '\0';
        char *head_end = strstr(s->request, "\r\n\r\n");
        char *cl = strcasestr(s->request, "content-length:");
        if (head_end && cl &&
            s->request_n >= (size_t)(head_end + 4 - s->request) + (size_t)atol(cl + 15))
            break;
    }
    const char *body = "{\"access_token\":\"ya29.from-loopback\",\"expires_in\":3600,"
                       "\"token_type\":\"Bearer\"}";
    char resp[512];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     "%zu\r\nConnection: close\r\n\r\n%s",
                     strlen(body), body);
    if (write(fd, resp, (size_t)n) != n)
        perror("serve_token");
    close(fd);
    return NULL;
}

static char *form_value(const char *form, const char *name)
{
    size_t k = strlen(name);
    for (const char *p = form; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL)
        if (strncmp(p, name, k) == 0 && p[k] == '=')
            return strndup(p + k + 1, strcspn(p + k + 1, "&"));
    return NULL;
}

Test(vertex_auth, refresher_fetches_a_token_from_token_uri)
{
    token_server_t srv = {0};
    srv.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert(bind(srv.listen_fd, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t al = sizeof a;
    getsockname(srv.listen_fd, (struct sockaddr *)&a, &al);
    cr_assert(listen(srv.listen_fd, 4) == 0);
    pthread_t th;
    pthread_create(&th, NULL, serve_token, &srv);

    char *pem;
    EVP_PKEY *key = test_rsa_key(&pem);
    char uri[64];
    snprintf(uri, sizeof uri, "http://127.0.0.1:%d/token", ntohs(a.sin_port));
    char *sa = test_service_account(pem, uri, "p");
    char err[512];
    vauth_t *v = vauth_get(sa, err, sizeof err);
    cr_assert(v, "%s", err);
    char tok[128];
    int tries = 0;
    while (vauth_token(v, tok, sizeof tok) != 0 && tries++ < 500)
        usleep(10000);
    cr_assert_str_eq(tok, "ya29.from-loopback");
    pthread_join(th, NULL);

    /* what reached the endpoint: a form POST with the jwt-bearer grant and a JWT that the
     * service account's public key verifies */
    cr_expect(strncmp(srv.request, "POST /token HTTP/1.1\r\n", 22) == 0, "%.60s", srv.request);
    cr_expect(strcasestr(srv.request, "content-type: application/x-www-form-urlencoded"));
    const char *body = strstr(srv.request, "\r\n\r\n") + 4;
    char *grant = form_value(body, "grant_type");
    cr_expect_str_eq(grant, "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer");
    char *jwt = form_value(body, "assertion");
    cr_assert(jwt);
    cr_expect(jwt_verify(jwt, key));
    cJSON *claims = jwt_part(jwt, 1, NULL);
    cr_expect_str_eq(cJSON_GetObjectItem(claims, "aud")->valuestring, uri);
    double iat = cJSON_GetObjectItem(claims, "iat")->valuedouble;
    cr_expect(iat > (double)time(NULL) - 60 && iat <= (double)time(NULL));

    vauth_shutdown_all(); /* the refresher sleeps ~55 min: shutdown must wake it */
    cJSON_Delete(claims);
    free(grant);
    free(jwt);
    free(sa);
    free(pem);
    EVP_PKEY_free(key);
    close(srv.listen_fd);
}

Test(vertex_auth, start_config_creates_refreshers_for_vertex_deployments)
{
    char *pem;
    EVP_PKEY *key = test_rsa_key(&pem);
    char *sa = test_service_account(pem, "http://127.0.0.1:9/token", "p");
    cfg_kv_t good[] = {{"vertex_credentials", sa}};
    cfg_kv_t bad[] = {{"vertex_credentials", "/nonexistent/creds.json"}};
    cfg_deployment_t deps[3] = {
        {.provider = "vertex_ai", .params = good, .num_params = 1},
        {.provider = "vertex_ai", .params = bad, .num_params = 1},
        {.provider = "openai", .params = bad, .num_params = 1},
    };
    cfg_t cfg = {.deployments = deps, .num_deployments = 3};
    cr_expect_eq(vauth_start_config(&cfg), 1, "one unreadable credential, the openai row skipped");
    char err[256];
    cr_expect(vauth_get(sa, err, sizeof err));
    vauth_shutdown_all();
    free(sa);
    free(pem);
    EVP_PKEY_free(key);
}
