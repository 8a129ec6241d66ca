/* SPDX-License-Identifier: MIT
 * Azure OpenAI and Azure AI: OpenAI's wire format behind Azure's URLs and api-key header.
 * (Placeholder URLs until the Azure work lands.) */
#include <string.h>

#include "providers/providers.h"

static const char *azure_url(arena_t *a, const char *base, str_t model, const char *version,
                             const char *suffix)
{
    return arena_printf(a, "%s/openai/deployments/%.*s%s?api-version=%s", base, STR_FMT(model),
                        suffix, version ? version : "2024-10-21");
}

static const char *azure_auth(arena_t *a, const char *key)
{
    return arena_printf(a, "api-key: %s", key);
}

const prov_wire_t prov_wire_azure = {azure_url, azure_auth};
const prov_wire_t prov_wire_azure_ai = {NULL, azure_auth};
