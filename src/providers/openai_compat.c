/* SPDX-License-Identifier: MIT
 * The table of OpenAI-compatible providers (LiteLLM's openai_compatible_providers and its
 * JSON-configured ones): no code per provider, one row each. Base URLs as LiteLLM defaults them. */
#include "providers/providers.h"

#include "core/common.h"

#define C PROV_OPENAI_COMPAT
#define CE (PROV_OPENAI_COMPAT | PROV_EMBEDDINGS)
#define CC (PROV_OPENAI_COMPAT | PROV_COMPLETIONS)
#define CCE (PROV_OPENAI_COMPAT | PROV_COMPLETIONS | PROV_EMBEDDINGS)
#define NB PROV_NEEDS_BASE

static const prov_info_t providers[] = {
    {"openai", "https://api.openai.com/v1", "OPENAI_API_BASE", "OPENAI_API_KEY", NULL, CCE},
    {"openai_like", NULL, NULL, NULL, NULL, CCE | NB},
    {"custom_openai", NULL, NULL, NULL, NULL, CCE | NB},
    {"text-completion-openai", "https://api.openai.com/v1", "OPENAI_API_BASE", "OPENAI_API_KEY",
     NULL, CCE},
    {"groq", "https://api.groq.com/openai/v1", "GROQ_API_BASE", "GROQ_API_KEY", NULL, C},
    {"together_ai", "https://api.together.xyz/v1", "TOGETHER_AI_API_BASE", "TOGETHER_API_KEY",
     "TOGETHERAI_API_KEY", CCE},
    {"fireworks_ai", "https://api.fireworks.ai/inference/v1", "FIREWORKS_AI_API_BASE",
     "FIREWORKS_AI_API_KEY", "FIREWORKS_API_KEY", CCE},
    {"deepseek", "https://api.deepseek.com/beta", "DEEPSEEK_API_BASE", "DEEPSEEK_API_KEY", NULL, C},
    {"mistral", "https://api.mistral.ai/v1", "MISTRAL_API_BASE", "MISTRAL_API_KEY", NULL, CE},
    {"codestral", "https://codestral.mistral.ai/v1", "CODESTRAL_API_BASE", "CODESTRAL_API_KEY",
     NULL, C},
    {"xai", "https://api.x.ai/v1", "XAI_API_BASE", "XAI_API_KEY", NULL, C},
    {"openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_BASE", "OPENROUTER_API_KEY",
     NULL, C},
    {"perplexity", "https://api.perplexity.ai", "PERPLEXITY_API_BASE", "PERPLEXITYAI_API_KEY",
     "PERPLEXITY_API_KEY", C},
    {"deepinfra", "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_BASE", "DEEPINFRA_API_KEY",
     NULL, CE},
    {"cerebras", "https://api.cerebras.ai/v1", "CEREBRAS_API_BASE", "CEREBRAS_API_KEY", NULL, C},
    {"sambanova", "https://api.sambanova.ai/v1", "SAMBANOVA_API_BASE", "SAMBANOVA_API_KEY", NULL,
     C},
    {"nvidia_nim", "https://integrate.api.nvidia.com/v1", "NVIDIA_NIM_API_BASE",
     "NVIDIA_NIM_API_KEY", NULL, CE},
    {"anyscale", "https://api.endpoints.anyscale.com/v1", "ANYSCALE_API_BASE", "ANYSCALE_API_KEY",
     NULL, C},
    {"empower", "https://app.empower.dev/api/v1", "EMPOWER_API_BASE", "EMPOWER_API_KEY", NULL, C},
    {"meta_llama", "https://api.llama.com/compat/v1", "LLAMA_API_BASE", "LLAMA_API_KEY", NULL, CC},
    {"ai21_chat", "https://api.ai21.com/studio/v1", "AI21_API_BASE", "AI21_API_KEY", NULL, C},
    {"volcengine", "https://ark.cn-beijing.volces.com/api/v3", "VOLCENGINE_API_BASE",
     "VOLCENGINE_API_KEY", NULL, C},
    {"github", "https://models.inference.ai.azure.com", "GITHUB_API_BASE", "GITHUB_API_KEY", NULL,
     C},
    {"friendliai", "https://api.friendli.ai/serverless/v1", "FRIENDLI_API_BASE",
     "FRIENDLIAI_API_KEY", "FRIENDLI_TOKEN", C},
    {"galadriel", "https://api.galadriel.com/v1", "GALADRIEL_API_BASE", "GALADRIEL_API_KEY", NULL,
     C},
    {"featherless_ai", "https://api.featherless.ai/v1", "FEATHERLESS_AI_API_BASE",
     "FEATHERLESS_AI_API_KEY", NULL, CC},
    {"nscale", "https://inference.api.nscale.com/v1", "NSCALE_API_BASE", "NSCALE_API_KEY", NULL,
     C},
    {"nebius", "https://api.studio.nebius.ai/v1", "NEBIUS_API_BASE", "NEBIUS_API_KEY", NULL, CCE},
    {"dashscope", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_BASE",
     "DASHSCOPE_API_KEY", NULL, CC},
    {"moonshot", "https://api.moonshot.ai/v1", "MOONSHOT_API_BASE", "MOONSHOT_API_KEY", NULL, CC},
    {"v0", "https://api.v0.dev/v1", "V0_API_BASE", "V0_API_KEY", NULL, CC},
    {"morph", "https://api.morphllm.com/v1", "MORPH_API_BASE", "MORPH_API_KEY", NULL, C},
    {"lambda_ai", "https://api.lambda.ai/v1", "LAMBDA_API_BASE", "LAMBDA_API_KEY", NULL, CC},
    {"hyperbolic", "https://api.hyperbolic.xyz/v1", "HYPERBOLIC_API_BASE", "HYPERBOLIC_API_KEY",
     NULL, CC},
    {"vercel_ai_gateway", "https://ai-gateway.vercel.sh/v1", "VERCEL_AI_GATEWAY_API_BASE",
     "VERCEL_AI_GATEWAY_API_KEY", NULL, C},
    {"wandb", "https://api.inference.wandb.ai/v1", "WANDB_API_BASE", "WANDB_API_KEY", NULL, CC},
    {"clarifai", "https://api.clarifai.com/v2/ext/openai/v1", "CLARIFAI_API_BASE",
     "CLARIFAI_API_KEY", "CLARIFAI_PAT", C},
    {"novita", "https://api.novita.ai/v3/openai", "NOVITA_API_BASE", "NOVITA_API_KEY", NULL, C},
    {"baseten", "https://inference.baseten.co/v1", "BASETEN_API_BASE", "BASETEN_API_KEY", NULL, C},
    {"publicai", "https://api.publicai.co/v1", "PUBLICAI_API_BASE", "PUBLICAI_API_KEY", NULL, CC},
    {"veniceai", "https://api.venice.ai/api/v1", "VENICEAI_API_BASE", "VENICEAI_API_KEY", NULL, C},
    {"scaleway", "https://api.scaleway.ai/v1", "SCALEWAY_API_BASE", "SCALEWAY_API_KEY", NULL, CE},
    {"synthetic", "https://api.synthetic.new/openai/v1", "SYNTHETIC_API_BASE",
     "SYNTHETIC_API_KEY", NULL, CC},
    {"nano-gpt", "https://nano-gpt.com/api/v1", "NANO_GPT_API_BASE", "NANO_GPT_API_KEY", NULL, CC},
    {"poe", "https://api.poe.com/v1", "POE_API_BASE", "POE_API_KEY", NULL, CC},
    {"chutes", "https://llm.chutes.ai/v1", "CHUTES_API_BASE", "CHUTES_API_KEY", NULL, CC},
    {"aihubmix", "https://aihubmix.com/v1", "AIHUBMIX_API_BASE", "AIHUBMIX_API_KEY", NULL, C},
    {"hosted_vllm", NULL, "HOSTED_VLLM_API_BASE", "HOSTED_VLLM_API_KEY", NULL, CCE | NB},
    {"vllm", NULL, "HOSTED_VLLM_API_BASE", "HOSTED_VLLM_API_KEY", NULL, CCE | NB},
    {"lm_studio", NULL, "LM_STUDIO_API_BASE", "LM_STUDIO_API_KEY", NULL, CE | NB},
    {"llamafile", NULL, "LLAMAFILE_API_BASE", "LLAMAFILE_API_KEY", NULL, CC | NB},
    {"xinference", NULL, "XINFERENCE_API_BASE", "XINFERENCE_API_KEY", NULL, CE | NB},
    {"litellm_proxy", NULL, "LITELLM_PROXY_API_BASE", "LITELLM_PROXY_API_KEY", NULL, CCE | NB},
    {"docker_model_runner", NULL, "DOCKER_MODEL_RUNNER_API_BASE", NULL, NULL, C | NB},
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
