/* SPDX-License-Identifier: MIT
 * sluice-mock: Anthropic Messages API. (Not yet: this file only declines.) */
#include "mock.h"

bool mock_anthropic_handle(mock_call_t *c)
{
    (void)c;
    return false;
}
