/* SPDX-License-Identifier: MIT
 * cohere: not translated yet (this placeholder declines every call). */
#include "providers/adapter.h"

const prov_adapter_t prov_adapter_cohere = {.name = "cohere"};
const prov_adapter_t prov_adapter_cohere_chat = {.name = "cohere_chat"};
