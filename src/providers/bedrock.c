/* SPDX-License-Identifier: MIT
 * bedrock: not translated yet (this placeholder declines every call). */
#include "providers/adapter.h"

const prov_adapter_t prov_adapter_bedrock = {.name = "bedrock"};
