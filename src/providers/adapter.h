/* SPDX-License-Identifier: MIT
 * The interface every native provider implements (one file each: anthropic.c, gemini.c,
 * bedrock.c, azure.c, cohere.c, ollama.c). The gateway's canonical form is OpenAI's chat
 * completions: an adapter turns an OpenAI request into the provider's HTTP request, and the
 * provider's answer (whole or streamed) back into OpenAI's chat.completion / chunk objects.
 * Inbound formats (Anthropic messages, Responses) are converted to and from the same canonical
 * form in src/api, so N providers x M client APIs costs N + M translators, not N x M.
 * OpenAI-compatible providers never come here: their bodies are spliced (src/api/openai.c). */
#ifndef SLUICE_PROVIDERS_ADAPTER_H
#define SLUICE_PROVIDERS_ADAPTER_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"
#include "providers/providers.h"

/* What an adapter knows about the call it builds. Everything lives at least as long as the
 * client request (strings in `arena` or the config). */
typedef struct {
    const cfg_deployment_t *dep; /* the deployment: api_key, api_version, cfg_deployment_param() */
    const prov_info_t *prov;     /* the provider's row (default base, key variables) */
    str_t model;                 /* upstream model name, e.g. "claude-3-5-sonnet-20241022" */
    const char *api_base;        /* resolved base without trailing '/', NULL when none */
    const char *api_key;         /* resolved key (config, else environment), NULL when none */
    bool stream;                 /* the client asked for a stream */
    bool drop_params;            /* litellm_settings.drop_params (or the deployment's) */
    arena_t *arena;              /* the request's arena: for URLs, header lines, small strings */
    struct prov_auth *auth;      /* per-worker credential state (vertex tokens); may be NULL */
} prov_ctx_t;

/* The HTTP request an adapter builds. */
typedef struct {
    const char *method;   /* "POST" (default when NULL) */
    const char *url;      /* absolute; in the arena */
    const char **headers; /* "Name: value" lines, NULL-terminated; in the arena */
    buf_t body;           /* owned by the caller after the call (buf_free) */
} prov_http_t;

/* An error an adapter reports instead of a request (bad input, an unsupported parameter). */
typedef struct {
    int status;        /* 400 for bad requests, 500 for our own failures */
    const char *param; /* the offending parameter, or NULL (static or arena) */
    char message[512];
} prov_error_t;

/* Receives one OpenAI chat.completion.chunk object (JSON text, no "data: " framing). */
typedef int (*prov_emit_fn)(void *arg, str_t chunk_json);

typedef struct prov_stream prov_stream_t; /* an adapter's stream-decoding state */

typedef struct {
    const char *name; /* the provider prefix this adapter serves */

    /* OpenAI chat request -> provider request. 0, or -1 with *err filled. `req` is not modified. */
    int (*chat_request)(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                        prov_error_t *err);
    /* Provider's JSON answer (status 2xx) -> OpenAI chat.completion JSON appended to `out`. */
    int (*chat_response)(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err);

    /* Streams. stream_feed gets the raw response body bytes as they arrive, split anywhere, and
     * emits zero or more OpenAI chunk objects; stream_end emits what remains (the final chunk
     * with finish_reason, usage). Chunks carry id, object "chat.completion.chunk", created,
     * model, choices[0] {index 0, delta, finish_reason}, and usage on the last one when known.
     * The state is allocated with malloc and freed by stream_free. Return 0, or -1 on malformed
     * input (the gateway then ends the stream with an error event). */
    prov_stream_t *(*stream_new)(const prov_ctx_t *ctx);
    int (*stream_feed)(prov_stream_t *s, const char *p, size_t n, prov_emit_fn emit, void *arg);
    int (*stream_end)(prov_stream_t *s, prov_emit_fn emit, void *arg);
    void (*stream_free)(prov_stream_t *s);
    /* Optional: after stream_feed or stream_end failed, the provider's own words for it (an
     * error event such as Anthropic's "Overloaded" or Bedrock's throttlingException), or NULL.
     * Valid until stream_free. */
    const char *(*stream_error)(prov_stream_t *s);

    /* A provider error body (any status) -> its human message appended to `out` (no prefix).
     * NULL: the gateway uses the body as is. */
    void (*error_message)(int status, str_t body, buf_t *out);

    /* Embeddings (NULL when the provider has none): OpenAI embeddings request -> provider
     * request; provider answer -> OpenAI embeddings list JSON. */
    int (*embed_request)(const prov_ctx_t *ctx, const cJSON *req, prov_http_t *out,
                         prov_error_t *err);
    int (*embed_response)(const prov_ctx_t *ctx, str_t body, buf_t *out, prov_error_t *err);
} prov_adapter_t;

/* The adapter for a provider name, or NULL when the provider is OpenAI-compatible (or unknown). */
const prov_adapter_t *prov_adapter_find(str_t provider);

/* ---- helpers every adapter shares (providers/common.c) ---------------------------------- */

/* A NULL-terminated header list in the arena from up to `n` lines (NULLs skipped). */
const char **prov_headers(arena_t *a, const char *const *lines, size_t n);

/* "Name: value" in the arena. */
const char *prov_header_line(arena_t *a, const char *name, const char *value);

/* Appends the extra_headers of the deployment to a header list being built. */
size_t prov_extra_headers(const prov_ctx_t *ctx, const char **lines, size_t max);

/* Fills err and returns -1: `status`, `param` (may be NULL), printf-style message. */
int prov_fail(prov_error_t *err, int status, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* OpenAI finish_reason from common provider words ("end_turn", "max_tokens", "STOP", ...). */
const char *prov_finish_reason(const char *provider_reason);

/* A chunk id/created shared by every chunk of one stream: "chatcmpl-<24 random chars>". */
void prov_new_id(char out[40]);

/* Builds an OpenAI chunk: {"id","object":"chat.completion.chunk","created","model",
 * "choices":[{"index":0,"delta":<delta>,"finish_reason":<fr or null>}]} plus "usage" when
 * `usage` is not NULL. Takes ownership of delta and usage. Emits it; returns emit's result. */
int prov_emit_chunk(prov_emit_fn emit, void *arg, const char *id, long long created, str_t model,
                    cJSON *delta, const char *finish_reason, cJSON *usage);

/* JSON helpers every adapter uses: the member `name` of an object (NULL when `obj` is not an
 * object or has none), its string value, and a member present with a value other than null. */
const cJSON *prov_json_get(const cJSON *obj, const char *name);
const char *prov_json_string(const cJSON *obj, const char *name);
const cJSON *prov_json_param(const cJSON *obj, const char *name);

/* Copies a request's top-level "mock" object (sluice-mock's per-request controls) into the
 * provider body, so tests steer the mock through translation as through the pass-through; real
 * clients never send one. */
void prov_carry_mock(const cJSON *req, cJSON *body);

/* Appends the string member `field` of a provider's JSON error body, or the body itself when
 * it has none (Cohere's "message", Ollama's "error"). */
void prov_error_field(str_t body, const char *field, buf_t *out);

/* Frees this thread's scratch space of prov_emit_chunk; call when a worker thread ends. */
void prov_thread_cleanup(void);

/* OpenAI usage object {"prompt_tokens","completion_tokens","total_tokens"} (+ details when
 * cached > 0: prompt_tokens_details.cached_tokens). */
cJSON *prov_usage(long long prompt, long long completion, long long cached);

/* Parameters of an OpenAI chat request that a provider does not take: with drop_params they
 * are ignored; otherwise the first one present gives a 400 naming it (LiteLLM's
 * UnsupportedParamsError). `supported` is a NULL-terminated list of top-level keys. */
int prov_check_params(const prov_ctx_t *ctx, const cJSON *req, const char *const *supported,
                      prov_error_t *err);

#endif
