/* SPDX-License-Identifier: MIT
 * Client-facing API formats other than OpenAI chat: Anthropic's /v1/messages and OpenAI's
 * /v1/responses. Each converts its request to the canonical OpenAI chat request, and canonical
 * answers (chat.completion, chat.completion.chunk) back to its own JSON and SSE events.
 * api_format_openai is the identity, for OpenAI clients calling native providers. */
#ifndef SLUICE_API_FORMAT_H
#define SLUICE_API_FORMAT_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/str.h"
#include "providers/adapter.h"

typedef struct api_stream_enc api_stream_enc_t; /* a format's stream-encoding state */

typedef struct api_format {
    const char *name; /* "openai", "anthropic", "responses" */

    /* Client request (parsed) -> a new OpenAI chat request the caller owns (cJSON_Delete).
     * `model` is left as the client sent it. 0, or -1 with *err (status 400 + message). */
    int (*to_chat)(const cJSON *client_req, cJSON **chat_req, prov_error_t *err);

    /* OpenAI chat.completion (parsed) -> the client's response JSON appended to `out`.
     * `client_req` is the original request (for echoing fields); `model` is what the client
     * asked for (the response names it). */
    int (*from_chat)(const cJSON *chat_resp, const cJSON *client_req, str_t model, buf_t *out);

    /* Streams: OpenAI chunk objects in order, the client's SSE bytes out (framing included).
     * stream_end writes the closing events after the last chunk; stream_error writes an error
     * event for a stream that failed after it started. State from malloc, freed by
     * stream_free. */
    api_stream_enc_t *(*stream_new)(const cJSON *client_req, str_t model);
    int (*stream_chunk)(api_stream_enc_t *e, const cJSON *chunk, buf_t *out);
    int (*stream_end)(api_stream_enc_t *e, buf_t *out);
    void (*stream_error)(api_stream_enc_t *e, int status, const char *message, buf_t *out);
    void (*stream_free)(api_stream_enc_t *e);

    /* The format's error envelope for `status` with LiteLLM's `type` and `message`. */
    void (*error_body)(int status, const char *type, const char *message, buf_t *out);
} api_format_t;

extern const api_format_t api_format_openai;    /* src/api/fmt_openai.c */
extern const api_format_t api_format_anthropic; /* src/api/fmt_anthropic.c */
extern const api_format_t api_format_responses; /* src/api/fmt_responses.c */

#endif
