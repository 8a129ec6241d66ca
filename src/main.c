/* SPDX-License-Identifier: MIT
 * sluice: command line, worker threads, signals. */
#include <stdio.h>
#include <string.h>

#define SLUICE_VERSION "0.1.0"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("sluice %s\n", SLUICE_VERSION);
        return 0;
    }
    fprintf(stderr, "sluice: not yet\n");
    return 1;
}
