/* SPDX-License-Identifier: MIT
 * sluice-mock: Ollama native /api/chat, /api/generate with NDJSON streams. (Not yet: this file only declines.) */
#include "mock.h"

bool mock_ollama_handle(mock_call_t *c)
{
    (void)c;
    return false;
}
