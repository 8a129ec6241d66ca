/* SPDX-License-Identifier: MIT
 * Fuzzes the ollama and ollama_chat adapters: chat_response / embed_response, the NDJSON stream
 * decoder with fuzz-chosen splits, chat_request (prompt building and /api/chat) /
 * embed_request, error_message (see fuzz_adapter.h). */
#include "fuzz_adapter.h"

extern const prov_adapter_t prov_adapter_ollama, prov_adapter_ollama_chat;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_adapter_run(&prov_adapter_ollama_chat, &prov_adapter_ollama, "ollama_chat", data,
                            size);
}
