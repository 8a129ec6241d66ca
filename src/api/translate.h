/* SPDX-License-Identifier: MIT
 * The translated call path (src/api/translate.c). */
#ifndef SLUICE_API_TRANSLATE_H
#define SLUICE_API_TRANSLATE_H

#include <cjson/cJSON.h>

#include "api/api.h"
#include "api/format.h"

/* Runs a call whose request is `chat_req` (canonical OpenAI chat, or an OpenAI embeddings
 * request for API_EMBEDDINGS) and whose client speaks `fmt`. Takes ownership of both JSON
 * documents; `model` is the client's model name (a slice that lives as long as req). */
void api_translated_call(http_req_t *req, const api_format_t *fmt, api_kind_t kind,
                         cJSON *client_req, cJSON *chat_req, const route_group_t *group,
                         str_t model, bool stream);

/* The same for a pass-through call (openai.c) whose fallback group needs translation: the
 * call goes on with its fallback state `fb` (its retries and fallbacks so far) and call id,
 * without a response-cache lookup. client_req holds the client's body without "fallbacks". */
void api_translated_fallback(http_req_t *req, const api_format_t *fmt, api_kind_t kind,
                             cJSON *client_req, cJSON *chat_req, const route_group_t *group,
                             str_t model, bool stream, const api_fallback_t *fb,
                             const char *call_id);

/* True when calling `model` in `group` needs translation for an OpenAI client: the group has a
 * native (non OpenAI-wire) deployment, or a catch-all whose provider for `model` is native. */
bool api_group_is_native(const route_group_t *group, str_t model);
/* True when every deployment serving `model` in `g` is of provider `name` (messages.c). */
bool api_group_all_provider(const route_group_t *g, str_t model, const char *name);

#endif
