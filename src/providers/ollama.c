/* SPDX-License-Identifier: MIT
 * ollama: not translated yet (this placeholder declines every call). */
#include "providers/adapter.h"

const prov_adapter_t prov_adapter_ollama = {.name = "ollama"};
const prov_adapter_t prov_adapter_ollama_chat = {.name = "ollama_chat"};
