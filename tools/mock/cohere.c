/* SPDX-License-Identifier: MIT
 * sluice-mock: Cohere v2 chat and embed. (Not yet: this file only declines.) */
#include "mock.h"

bool mock_cohere_handle(mock_call_t *c)
{
    (void)c;
    return false;
}
