/* SPDX-License-Identifier: MIT
 * The client-facing API: the route table of the data plane, LiteLLM's error bodies and
 * x-litellm-* headers, and the OpenAI-compatible proxy path. One api_ctx_t per process
 * (immutable after start), one api_worker_t per worker thread. */
#ifndef SLUICE_API_API_H
#define SLUICE_API_API_H

#include <stdint.h>

#include "config/config.h"
#include "http/http.h"
#include "router/router.h"
#include "upstream/upstream.h"

#define SLUICE_VERSION "0.1.0"

typedef struct {
    const cfg_t *cfg;
    route_table_t *routes;
    const char *master_key; /* NULL: no auth (LiteLLM without a master key) */
} api_ctx_t;

typedef struct {
    const api_ctx_t *ctx;
    up_client_t *up;
    uint64_t rng;
    int index;
} api_worker_t;

/* The HTTP handler of every worker; req->server_data is the api_worker_t. */
void api_handle(http_req_t *req);

/* ---- used by the endpoint files in src/api ---- */

/* Sends an OpenAI-shaped error {"error":{"message","type","param","code"}}; code is the status
 * as a string, as LiteLLM sends it. `param` NULL gives JSON null. */
void api_send_error(http_req_t *req, int status, const char *type, const char *param,
                    const char *message);

/* A fresh call id (UUID v4 text) into out[37]. */
void api_call_id(api_worker_t *w, char out[37]);

typedef enum { API_CHAT, API_COMPLETIONS, API_EMBEDDINGS } api_kind_t;

/* The OpenAI-compatible proxy: chat, completions, embeddings. */
void api_proxy_openai(http_req_t *req, api_kind_t kind);

/* A pass-through call: the body goes upstream with only the model value replaced. */
typedef struct {
    api_kind_t kind;
    const char *method;           /* NULL: POST */
    const struct api_format *fmt; /* the client's format (errors) */
    const char *suffix;           /* upstream path after the base: "/v1/messages", "/responses" */
    bool anthropic_auth;          /* Anthropic's headers (x-api-key, anthropic-version) */
    bool raw_errors;              /* provider errors go back unchanged (client speaks its API) */
    const route_group_t *group;
    str_t model;     /* the client's model, decoded */
    str_t model_raw; /* the raw JSON value in the body */
    bool stream;
} api_splice_t;

void api_proxy_splice(http_req_t *req, const api_splice_t *sp);

/* /v1/messages (and its count_tokens), /v1/responses and /v1/responses/{id}. */
void api_messages(http_req_t *req, bool count_tokens);
void api_responses(http_req_t *req);
void api_responses_by_id(http_req_t *req, str_t rest);

#endif
