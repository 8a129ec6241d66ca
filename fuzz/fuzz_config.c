/* SPDX-License-Identifier: MIT
 * Fuzz target for the config loader: any bytes through cfg_load_string, then everything freed.
 * environment_variables go to a per-load overlay (cfg_env_sandbox), not into the process
 * environment, which glibc never shrinks and which would grow with every input. */
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialized;
    if (!initialized) {
        cfg_env_sandbox(true);
        initialized = 1;
    }
    cfg_diag_t diag;
    cfg_t *cfg = cfg_load_string("fuzz.yaml", (const char *)data, size, &diag);
    cfg_free(cfg);
    cfg_diag_free(&diag);
    return 0;
}
