/* SPDX-License-Identifier: MIT
 * anthropic: not translated yet (this placeholder declines every call). */
#include "providers/adapter.h"

const prov_adapter_t prov_adapter_anthropic = {.name = "anthropic"};
