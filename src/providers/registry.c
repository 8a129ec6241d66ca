/* SPDX-License-Identifier: MIT
 * Which adapter serves which provider name. OpenAI-compatible providers have none: their bodies
 * are spliced, not translated. */
#include "core/common.h"
#include "providers/adapter.h"

extern const prov_adapter_t prov_adapter_anthropic;
extern const prov_adapter_t prov_adapter_gemini;
extern const prov_adapter_t prov_adapter_vertex_ai;
extern const prov_adapter_t prov_adapter_bedrock;
extern const prov_adapter_t prov_adapter_cohere;
extern const prov_adapter_t prov_adapter_cohere_chat;
extern const prov_adapter_t prov_adapter_ollama;
extern const prov_adapter_t prov_adapter_ollama_chat;

static const prov_adapter_t *const adapters[] = {
    &prov_adapter_anthropic, &prov_adapter_gemini,      &prov_adapter_vertex_ai,
    &prov_adapter_bedrock,   &prov_adapter_cohere,      &prov_adapter_cohere_chat,
    &prov_adapter_ollama,    &prov_adapter_ollama_chat,
};

const prov_adapter_t *prov_adapter_find(str_t provider)
{
    for (size_t i = 0; i < COUNTOF(adapters); i++)
        if (str_eq_cstr(provider, adapters[i]->name))
            return adapters[i]->chat_request || adapters[i]->embed_request ? adapters[i] : NULL;
    return NULL;
}
