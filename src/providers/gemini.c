/* SPDX-License-Identifier: MIT
 * gemini: not translated yet (this placeholder declines every call). */
#include "providers/adapter.h"

const prov_adapter_t prov_adapter_gemini = {.name = "gemini"};
const prov_adapter_t prov_adapter_vertex_ai = {.name = "vertex_ai"};
