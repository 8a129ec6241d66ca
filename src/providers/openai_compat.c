/* SPDX-License-Identifier: MIT
 * The table of OpenAI-compatible providers (LiteLLM's openai_compatible_providers and its
 * JSON-configured ones): no code per provider, one row each. Base URLs as LiteLLM defaults them. */
#include "providers/providers.h"

#include "core/common.h"

extern const prov_wire_t prov_wire_azure, prov_wire_azure_ai; /* providers/azure.c */

#define C PROV_OPENAI_COMPAT
#define CE (PROV_OPENAI_COMPAT | PROV_EMBEDDINGS)
#define CC (PROV_OPENAI_COMPAT | PROV_COMPLETIONS)
#define CCE (PROV_OPENAI_COMPAT | PROV_COMPLETIONS | PROV_EMBEDDINGS)
#define NB PROV_NEEDS_BASE

static const prov_info_t providers[] = {
    {"openai", "https://api.openai.com/v1", "OPENAI_API_BASE", "OPENAI_API_KEY", NULL, CCE, NULL},
    {"openai_like", NULL, NULL, NULL, NULL, CCE | NB, NULL},
    {"custom_openai", NULL, NULL, NULL, NULL, CCE | NB, NULL},
    {"text-completion-openai", "https://api.openai.com/v1", "OPENAI_API_BASE", "OPENAI_API_KEY",
     NULL, CCE, NULL},
    {"groq", "https://api.groq.com/openai/v1", "GROQ_API_BASE", "GROQ_API_KEY", NULL, C, NULL},
    {"together_ai", "https://api.together.xyz/v1", "TOGETHER_AI_API_BASE", "TOGETHER_API_KEY",
     "TOGETHERAI_API_KEY", CCE, NULL},
    {"fireworks_ai", "https://api.fireworks.ai/inference/v1", "FIREWORKS_AI_API_BASE",
     "FIREWORKS_AI_API_KEY", "FIREWORKS_API_KEY", CCE, NULL},
    {"deepseek", "https://api.deepseek.com/beta", "DEEPSEEK_API_BASE", "DEEPSEEK_API_KEY", NULL, C,
     NULL},
    {"mistral", "https://api.mistral.ai/v1", "MISTRAL_API_BASE", "MISTRAL_API_KEY", NULL, CE, NULL},
    {"codestral", "https://codestral.mistral.ai/v1", "CODESTRAL_API_BASE", "CODESTRAL_API_KEY",
     NULL, C, NULL},
    {"xai", "https://api.x.ai/v1", "XAI_API_BASE", "XAI_API_KEY", NULL, C, NULL},
    {"openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_BASE", "OPENROUTER_API_KEY",
     NULL, C, NULL},
    {"perplexity", "https://api.perplexity.ai", "PERPLEXITY_API_BASE", "PERPLEXITYAI_API_KEY",
     "PERPLEXITY_API_KEY", C, NULL},
    {"deepinfra", "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_BASE", "DEEPINFRA_API_KEY",
     NULL, CE, NULL},
    {"cerebras", "https://api.cerebras.ai/v1", "CEREBRAS_API_BASE", "CEREBRAS_API_KEY", NULL, C,
     NULL},
    {"sambanova", "https://api.sambanova.ai/v1", "SAMBANOVA_API_BASE", "SAMBANOVA_API_KEY", NULL, C,
     NULL},
    {"nvidia_nim", "https://integrate.api.nvidia.com/v1", "NVIDIA_NIM_API_BASE",
     "NVIDIA_NIM_API_KEY", NULL, CE, NULL},
    {"anyscale", "https://api.endpoints.anyscale.com/v1", "ANYSCALE_API_BASE", "ANYSCALE_API_KEY",
     NULL, C, NULL},
    {"empower", "https://app.empower.dev/api/v1", "EMPOWER_API_BASE", "EMPOWER_API_KEY", NULL, C,
     NULL},
    {"meta_llama", "https://api.llama.com/compat/v1", "LLAMA_API_BASE", "LLAMA_API_KEY", NULL, CC,
     NULL},
    {"ai21_chat", "https://api.ai21.com/studio/v1", "AI21_API_BASE", "AI21_API_KEY", NULL, C, NULL},
    {"volcengine", "https://ark.cn-beijing.volces.com/api/v3", "VOLCENGINE_API_BASE",
     "VOLCENGINE_API_KEY", NULL, C, NULL},
    {"github", "https://models.inference.ai.azure.com", "GITHUB_API_BASE", "GITHUB_API_KEY", NULL,
     C, NULL},
    {"friendliai", "https://api.friendli.ai/serverless/v1", "FRIENDLI_API_BASE",
     "FRIENDLIAI_API_KEY", "FRIENDLI_TOKEN", C, NULL},
    {"galadriel", "https://api.galadriel.com/v1", "GALADRIEL_API_BASE", "GALADRIEL_API_KEY", NULL,
     C, NULL},
    {"featherless_ai", "https://api.featherless.ai/v1", "FEATHERLESS_AI_API_BASE",
     "FEATHERLESS_AI_API_KEY", NULL, CC, NULL},
    {"nscale", "https://inference.api.nscale.com/v1", "NSCALE_API_BASE", "NSCALE_API_KEY", NULL, C,
     NULL},
    {"nebius", "https://api.studio.nebius.ai/v1", "NEBIUS_API_BASE", "NEBIUS_API_KEY", NULL, CCE,
     NULL},
    {"dashscope", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_BASE",
     "DASHSCOPE_API_KEY", NULL, CC, NULL},
    {"moonshot", "https://api.moonshot.ai/v1", "MOONSHOT_API_BASE", "MOONSHOT_API_KEY", NULL, CC,
     NULL},
    {"v0", "https://api.v0.dev/v1", "V0_API_BASE", "V0_API_KEY", NULL, CC, NULL},
    {"morph", "https://api.morphllm.com/v1", "MORPH_API_BASE", "MORPH_API_KEY", NULL, C, NULL},
    {"lambda_ai", "https://api.lambda.ai/v1", "LAMBDA_API_BASE", "LAMBDA_API_KEY", NULL, CC, NULL},
    {"hyperbolic", "https://api.hyperbolic.xyz/v1", "HYPERBOLIC_API_BASE", "HYPERBOLIC_API_KEY",
     NULL, CC, NULL},
    {"vercel_ai_gateway", "https://ai-gateway.vercel.sh/v1", "VERCEL_AI_GATEWAY_API_BASE",
     "VERCEL_AI_GATEWAY_API_KEY", NULL, C, NULL},
    {"wandb", "https://api.inference.wandb.ai/v1", "WANDB_API_BASE", "WANDB_API_KEY", NULL, CC,
     NULL},
    {"clarifai", "https://api.clarifai.com/v2/ext/openai/v1", "CLARIFAI_API_BASE",
     "CLARIFAI_API_KEY", "CLARIFAI_PAT", C, NULL},
    {"novita", "https://api.novita.ai/v3/openai", "NOVITA_API_BASE", "NOVITA_API_KEY", NULL, C,
     NULL},
    {"baseten", "https://inference.baseten.co/v1", "BASETEN_API_BASE", "BASETEN_API_KEY", NULL, C,
     NULL},
    {"publicai", "https://api.publicai.co/v1", "PUBLICAI_API_BASE", "PUBLICAI_API_KEY", NULL, CC,
     NULL},
    {"veniceai", "https://api.venice.ai/api/v1", "VENICEAI_API_BASE", "VENICEAI_API_KEY", NULL, C,
     NULL},
    {"scaleway", "https://api.scaleway.ai/v1", "SCALEWAY_API_BASE", "SCALEWAY_API_KEY", NULL, CE,
     NULL},
    {"synthetic", "https://api.synthetic.new/openai/v1", "SYNTHETIC_API_BASE", "SYNTHETIC_API_KEY",
     NULL, CC, NULL},
    {"nano-gpt", "https://nano-gpt.com/api/v1", "NANO_GPT_API_BASE", "NANO_GPT_API_KEY", NULL, CC,
     NULL},
    {"poe", "https://api.poe.com/v1", "POE_API_BASE", "POE_API_KEY", NULL, CC, NULL},
    {"chutes", "https://llm.chutes.ai/v1", "CHUTES_API_BASE", "CHUTES_API_KEY", NULL, CC, NULL},
    {"aihubmix", "https://aihubmix.com/v1", "AIHUBMIX_API_BASE", "AIHUBMIX_API_KEY", NULL, C, NULL},
    {"hosted_vllm", NULL, "HOSTED_VLLM_API_BASE", "HOSTED_VLLM_API_KEY", NULL, CCE | NB, NULL},
    {"vllm", NULL, "HOSTED_VLLM_API_BASE", "HOSTED_VLLM_API_KEY", NULL, CCE | NB, NULL},
    {"lm_studio", NULL, "LM_STUDIO_API_BASE", "LM_STUDIO_API_KEY", NULL, CE | NB, NULL},
    {"llamafile", NULL, "LLAMAFILE_API_BASE", "LLAMAFILE_API_KEY", NULL, CC | NB, NULL},
    {"xinference", NULL, "XINFERENCE_API_BASE", "XINFERENCE_API_KEY", NULL, CE | NB, NULL},
    {"litellm_proxy", NULL, "LITELLM_PROXY_API_BASE", "LITELLM_PROXY_API_KEY", NULL, CCE | NB,
     NULL},
    {"docker_model_runner", NULL, "DOCKER_MODEL_RUNNER_API_BASE", NULL, NULL, C | NB, NULL},
    /* OpenAI's wire format behind Azure's URLs and api-key header (providers/azure.c) */
    {"azure", NULL, "AZURE_API_BASE", "AZURE_API_KEY", "AZURE_OPENAI_API_KEY", CCE | NB,
     &prov_wire_azure},
    {"azure_ai", NULL, "AZURE_AI_API_BASE", "AZURE_AI_API_KEY", NULL, CE | NB, &prov_wire_azure_ai},
    /* native providers: translated by their adapter (providers/<name>.c) */
    {"anthropic", "https://api.anthropic.com", "ANTHROPIC_API_BASE", "ANTHROPIC_API_KEY", NULL, 0,
     NULL},
    {"gemini", "https://generativelanguage.googleapis.com", "GEMINI_API_BASE", "GEMINI_API_KEY",
     "GOOGLE_API_KEY", PROV_EMBEDDINGS, NULL},
    {"vertex_ai", NULL, "VERTEXAI_API_BASE", NULL, NULL, PROV_EMBEDDINGS | PROV_BASE_COMPUTED,
     NULL},
    {"bedrock", NULL, "AWS_BEDROCK_RUNTIME_ENDPOINT", NULL, NULL,
     PROV_EMBEDDINGS | PROV_BASE_COMPUTED, NULL},
    {"cohere", "https://api.cohere.com", "COHERE_API_BASE", "COHERE_API_KEY", "CO_API_KEY",
     PROV_EMBEDDINGS, NULL},
    {"cohere_chat", "https://api.cohere.com", "COHERE_API_BASE", "COHERE_API_KEY", "CO_API_KEY",
     PROV_EMBEDDINGS, NULL},
    {"ollama", "http://localhost:11434", "OLLAMA_API_BASE", "OLLAMA_API_KEY", NULL, PROV_EMBEDDINGS,
     NULL},
    {"ollama_chat", "http://localhost:11434", "OLLAMA_API_BASE", "OLLAMA_API_KEY", NULL,
     PROV_EMBEDDINGS, NULL},
};

const prov_info_t *prov_find(str_t name)
{
    for (size_t i = 0; i < COUNTOF(providers); i++)
        if (str_eq_cstr(name, providers[i].name))
            return &providers[i];
    return NULL;
}

const prov_info_t *prov_all(size_t *count)
{
    *count = COUNTOF(providers);
    return providers;
}
