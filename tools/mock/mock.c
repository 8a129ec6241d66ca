/* SPDX-License-Identifier: MIT
 * sluice-mock: simulated LLM providers. */
#include <stdio.h>
int main(void)
{
    fprintf(stderr, "sluice-mock: not yet\n");
    return 1;
}
