/* SPDX-License-Identifier: MIT
 * Anthropic's /v1/messages as a client format: api_format_anthropic (declared in api/format.h)
 * and the input-token estimate that answers /v1/messages/count_tokens. */
#ifndef SLUICE_API_FMT_ANTHROPIC_H
#define SLUICE_API_FMT_ANTHROPIC_H

#include <cjson/cJSON.h>

#include "api/format.h"

/* Estimates the input tokens of a Messages request (the body of /v1/messages/count_tokens):
 * ASCII characters / 4 (rounded up) plus one token per non-ASCII character, over the system
 * prompt, the text of every block (tool inputs and tool definitions as JSON text), plus 3 tokens
 * per message and 1,600 per image or binary document. LiteLLM runs a tokenizer; this is an
 * estimate. 0 with *tokens set, or -1 when `req` is not an object with a `messages` list. */
int api_anthropic_count_tokens(const cJSON *req, long long *tokens);

#endif
