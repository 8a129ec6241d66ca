/* SPDX-License-Identifier: MIT
 * sluice-mock: AWS Bedrock Converse / ConverseStream with SigV4 checks. (Not yet: this file only declines.) */
#include "mock.h"

bool mock_bedrock_handle(mock_call_t *c)
{
    (void)c;
    return false;
}
