/* SPDX-License-Identifier: MIT
 * Fuzzes the cohere adapter: chat_response / embed_response, the SSE stream decoder with
 * fuzz-chosen splits, chat_request / embed_request, error_message (see fuzz_adapter.h). */
#include "fuzz_adapter.h"

extern const prov_adapter_t prov_adapter_cohere, prov_adapter_cohere_chat;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_adapter_run(&prov_adapter_cohere, &prov_adapter_cohere_chat, "cohere", data, size);
}
