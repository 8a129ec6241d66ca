/* SPDX-License-Identifier: MIT
 * sluice-mock: Gemini generateContent (AI Studio and Vertex AI) and the OAuth2 token endpoint. (Not yet: this file only declines.) */
#include "mock.h"

bool mock_gemini_handle(mock_call_t *c)
{
    (void)c;
    return false;
}
