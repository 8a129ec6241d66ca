/* SPDX-License-Identifier: MIT
 * Fuzz target for the config loader: any bytes through cfg_load_string, then everything freed;
 * bytes that are JSON also go through cfg_with_models as LiteLLM_ProxyModelTable rows (DB models
 * for the router). environment_variables go to a per-load overlay (cfg_env_sandbox), not into
 * the process environment, which glibc never shrinks and which would grow with every input. */
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

    static cfg_t *base; /* kept for the process: a config with one deployment */
    static const char base_text[] = "model_list:\n"
                                    "  - model_name: m\n"
                                    "    litellm_params: {model: openai/m}\n"
                                    "    model_info: {id: taken}\n";
    if (!base)
        base = cfg_load_string("base.yaml", base_text, sizeof base_text - 1, NULL);
    cJSON *models = cJSON_ParseWithLength((const char *)data, size);
    if (base && models) {
        cfg = cfg_with_models(base, models, &diag);
        cfg_free(cfg);
        cfg_diag_free(&diag);
    }
    cJSON_Delete(models);
    return 0;
}
