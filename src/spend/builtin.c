/* SPDX-License-Identifier: MIT
 * The built-in price table: the major providers' current models, USD per token, keyed as
 * LiteLLM's model_prices_and_context_window.json keys them (bare "gpt-4o", prefixed
 * "gemini/gemini-2.5-pro"). Prices are the providers' published list prices (standard tier,
 * on-demand, us-east-1 for Bedrock); docs/spend.md names each page and date. A LiteLLM-format
 * price file (spend_prices_new's json_path) covers everything else. Rows grouped by provider;
 * a key must appear once (test_spend checks). */
#include "spend/internal.h"

/* in, out: input/output per token; cr: cache read; cw: cache write (5 min); max in/out tokens */
#define CHAT(k, prov, in, out, cr, cw, maxin, maxout)                                              \
    {                                                                                              \
        .key = k, .provider = prov, .mode = "chat", .input = in, .output = out, .cache_read = cr,  \
        .cache_creation = cw, .max_input_tokens = maxin, .max_output_tokens = maxout               \
    }

/* A chat model with one long-context tier: above `n` prompt tokens every token costs the
 * second set of rates. */
#define CHAT_TIER(k, prov, in, out, cr, cw, maxin, maxout, n, in2, out2, cr2, cw2)                 \
    {                                                                                              \
        .key = k, .provider = prov, .mode = "chat", .input = in, .output = out, .cache_read = cr,  \
        .cache_creation = cw, .max_input_tokens = maxin, .max_output_tokens = maxout, .above = n,  \
        .input_above = in2, .output_above = out2, .cache_read_above = cr2,                         \
        .cache_creation_above = cw2                                                                \
    }

#define EMBED(k, prov, in, maxin)                                                                  \
    {                                                                                              \
        .key = k, .provider = prov, .mode = "embedding", .input = in, .max_input_tokens = maxin    \
    }

/* Anthropic's Sonnet 4 / 4.5 rates, with the 1M-context tier (above 200k prompt tokens). */
#define SONNET4(k, prov)                                                                           \
    CHAT_TIER(k, prov, 3e-6, 1.5e-5, 3e-7, 3.75e-6, 1000000, 64000, 200000, 6e-6, 2.25e-5, 6e-7,   \
              7.5e-6)

const spend_price_t spend_builtin_rows[] = {
    /* ---- OpenAI: https://openai.com/api/pricing/ (standard tier) ---- */
    CHAT("gpt-5", "openai", 1.25e-6, 1e-5, 1.25e-7, 0, 272000, 128000),
    CHAT("gpt-5-2025-08-07", "openai", 1.25e-6, 1e-5, 1.25e-7, 0, 272000, 128000),
    CHAT("gpt-5-mini", "openai", 2.5e-7, 2e-6, 2.5e-8, 0, 272000, 128000),
    CHAT("gpt-5-mini-2025-08-07", "openai", 2.5e-7, 2e-6, 2.5e-8, 0, 272000, 128000),
    CHAT("gpt-5-nano", "openai", 5e-8, 4e-7, 5e-9, 0, 272000, 128000),
    CHAT("gpt-5-nano-2025-08-07", "openai", 5e-8, 4e-7, 5e-9, 0, 272000, 128000),
    CHAT("gpt-4.1", "openai", 2e-6, 8e-6, 5e-7, 0, 1047576, 32768),
    CHAT("gpt-4.1-2025-04-14", "openai", 2e-6, 8e-6, 5e-7, 0, 1047576, 32768),
    CHAT("gpt-4.1-mini", "openai", 4e-7, 1.6e-6, 1e-7, 0, 1047576, 32768),
    CHAT("gpt-4.1-mini-2025-04-14", "openai", 4e-7, 1.6e-6, 1e-7, 0, 1047576, 32768),
    CHAT("gpt-4.1-nano", "openai", 1e-7, 4e-7, 2.5e-8, 0, 1047576, 32768),
    CHAT("gpt-4.1-nano-2025-04-14", "openai", 1e-7, 4e-7, 2.5e-8, 0, 1047576, 32768),
    CHAT("gpt-4o", "openai", 2.5e-6, 1e-5, 1.25e-6, 0, 128000, 16384),
    CHAT("gpt-4o-2024-11-20", "openai", 2.5e-6, 1e-5, 1.25e-6, 0, 128000, 16384),
    CHAT("gpt-4o-2024-08-06", "openai", 2.5e-6, 1e-5, 1.25e-6, 0, 128000, 16384),
    CHAT("gpt-4o-2024-05-13", "openai", 5e-6, 1.5e-5, 0, 0, 128000, 4096),
    CHAT("gpt-4o-mini", "openai", 1.5e-7, 6e-7, 7.5e-8, 0, 128000, 16384),
    CHAT("gpt-4o-mini-2024-07-18", "openai", 1.5e-7, 6e-7, 7.5e-8, 0, 128000, 16384),
    CHAT("gpt-4-turbo", "openai", 1e-5, 3e-5, 0, 0, 128000, 4096),
    CHAT("gpt-3.5-turbo", "openai", 5e-7, 1.5e-6, 0, 0, 16385, 4096),
    CHAT("o1", "openai", 1.5e-5, 6e-5, 7.5e-6, 0, 200000, 100000),
    CHAT("o1-2024-12-17", "openai", 1.5e-5, 6e-5, 7.5e-6, 0, 200000, 100000),
    CHAT("o1-mini", "openai", 1.1e-6, 4.4e-6, 5.5e-7, 0, 128000, 65536),
    CHAT("o3", "openai", 2e-6, 8e-6, 5e-7, 0, 200000, 100000),
    CHAT("o3-2025-04-16", "openai", 2e-6, 8e-6, 5e-7, 0, 200000, 100000),
    CHAT("o3-mini", "openai", 1.1e-6, 4.4e-6, 5.5e-7, 0, 200000, 100000),
    CHAT("o3-mini-2025-01-31", "openai", 1.1e-6, 4.4e-6, 5.5e-7, 0, 200000, 100000),
    CHAT("o4-mini", "openai", 1.1e-6, 4.4e-6, 2.75e-7, 0, 200000, 100000),
    CHAT("o4-mini-2025-04-16", "openai", 1.1e-6, 4.4e-6, 2.75e-7, 0, 200000, 100000),
    EMBED("text-embedding-3-small", "openai", 2e-8, 8191),
    EMBED("text-embedding-3-large", "openai", 1.3e-7, 8191),
    EMBED("text-embedding-ada-002", "openai", 1e-7, 8191),

    /* ---- Anthropic: https://docs.anthropic.com/en/docs/about-claude/pricing ---- */
    CHAT("claude-opus-4-5-20251101", "anthropic", 5e-6, 2.5e-5, 5e-7, 6.25e-6, 200000, 64000),
    CHAT("claude-opus-4-5", "anthropic", 5e-6, 2.5e-5, 5e-7, 6.25e-6, 200000, 64000),
    CHAT("claude-opus-4-1-20250805", "anthropic", 1.5e-5, 7.5e-5, 1.5e-6, 1.875e-5, 200000, 32000),
    CHAT("claude-opus-4-1", "anthropic", 1.5e-5, 7.5e-5, 1.5e-6, 1.875e-5, 200000, 32000),
    CHAT("claude-opus-4-20250514", "anthropic", 1.5e-5, 7.5e-5, 1.5e-6, 1.875e-5, 200000, 32000),
    SONNET4("claude-sonnet-4-5-20250929", "anthropic"),
    SONNET4("claude-sonnet-4-5", "anthropic"),
    SONNET4("claude-sonnet-4-20250514", "anthropic"),
    CHAT("claude-haiku-4-5-20251001", "anthropic", 1e-6, 5e-6, 1e-7, 1.25e-6, 200000, 64000),
    CHAT("claude-haiku-4-5", "anthropic", 1e-6, 5e-6, 1e-7, 1.25e-6, 200000, 64000),
    CHAT("claude-3-7-sonnet-20250219", "anthropic", 3e-6, 1.5e-5, 3e-7, 3.75e-6, 200000, 64000),
    CHAT("claude-3-7-sonnet-latest", "anthropic", 3e-6, 1.5e-5, 3e-7, 3.75e-6, 200000, 64000),
    CHAT("claude-3-5-sonnet-20241022", "anthropic", 3e-6, 1.5e-5, 3e-7, 3.75e-6, 200000, 8192),
    CHAT("claude-3-5-sonnet-20240620", "anthropic", 3e-6, 1.5e-5, 3e-7, 3.75e-6, 200000, 8192),
    CHAT("claude-3-5-sonnet-latest", "anthropic", 3e-6, 1.5e-5, 3e-7, 3.75e-6, 200000, 8192),
    CHAT("claude-3-5-haiku-20241022", "anthropic", 8e-7, 4e-6, 8e-8, 1e-6, 200000, 8192),
    CHAT("claude-3-5-haiku-latest", "anthropic", 8e-7, 4e-6, 8e-8, 1e-6, 200000, 8192),
    CHAT("claude-3-opus-20240229", "anthropic", 1.5e-5, 7.5e-5, 1.5e-6, 1.875e-5, 200000, 4096),
    CHAT("claude-3-haiku-20240307", "anthropic", 2.5e-7, 1.25e-6, 3e-8, 3e-7, 200000, 4096),

    /* ---- Google AI Studio: https://ai.google.dev/gemini-api/docs/pricing (paid tier) ---- */
    CHAT_TIER("gemini/gemini-2.5-pro", "gemini", 1.25e-6, 1e-5, 1.25e-7, 0, 1048576, 65535, 200000,
              2.5e-6, 1.5e-5, 2.5e-7, 0),
    CHAT("gemini/gemini-2.5-flash", "gemini", 3e-7, 2.5e-6, 3e-8, 0, 1048576, 65535),
    CHAT("gemini/gemini-2.5-flash-lite", "gemini", 1e-7, 4e-7, 1e-8, 0, 1048576, 65535),
    CHAT("gemini/gemini-2.0-flash", "gemini", 1e-7, 4e-7, 2.5e-8, 0, 1048576, 8192),
    CHAT("gemini/gemini-2.0-flash-001", "gemini", 1e-7, 4e-7, 2.5e-8, 0, 1048576, 8192),
    CHAT("gemini/gemini-2.0-flash-lite", "gemini", 7.5e-8, 3e-7, 0, 0, 1048576, 8192),
    CHAT_TIER("gemini/gemini-1.5-pro", "gemini", 1.25e-6, 5e-6, 3.125e-7, 0, 2097152, 8192, 128000,
              2.5e-6, 1e-5, 6.25e-7, 0),
    CHAT_TIER("gemini/gemini-1.5-flash", "gemini", 7.5e-8, 3e-7, 1.875e-8, 0, 1048576, 8192, 128000,
              1.5e-7, 6e-7, 3.75e-8, 0),
    CHAT_TIER("gemini/gemini-1.5-flash-8b", "gemini", 3.75e-8, 1.5e-7, 1e-8, 0, 1048576, 8192,
              128000, 7.5e-8, 3e-7, 2e-8, 0),
    /* Vertex AI's list prices (the same as AI Studio's for 2.5, higher for 2.0 Flash):
     * https://cloud.google.com/vertex-ai/generative-ai/pricing */
    CHAT_TIER("gemini-2.5-pro", "vertex_ai-language-models", 1.25e-6, 1e-5, 1.25e-7, 0, 1048576,
              65535, 200000, 2.5e-6, 1.5e-5, 2.5e-7, 0),
    CHAT("gemini-2.5-flash", "vertex_ai-language-models", 3e-7, 2.5e-6, 3e-8, 0, 1048576, 65535),
    CHAT("gemini-2.5-flash-lite", "vertex_ai-language-models", 1e-7, 4e-7, 1e-8, 0, 1048576, 65535),
    CHAT("gemini-2.0-flash", "vertex_ai-language-models", 1.5e-7, 6e-7, 3.75e-8, 0, 1048576, 8192),
    CHAT("gemini-2.0-flash-001", "vertex_ai-language-models", 1.5e-7, 6e-7, 3.75e-8, 0, 1048576,
         8192),

    /* ---- Amazon Bedrock: https://aws.amazon.com/bedrock/pricing/ (on-demand, us-east-1) ---- */
    CHAT("anthropic.claude-opus-4-20250514-v1:0", "bedrock", 1.5e-5, 7.5e-5, 1.5e-6, 1.875e-5,
         200000, 32000),
    CHAT("anthropic.claude-sonnet-4-20250514-v1:0", "bedrock", 3e-6, 1.5e-5, 3e-7, 3.75e-6, 200000,
         64000),
    CHAT("us.anthropic.claude-sonnet-4-20250514-v1:0", "bedrock", 3e-6, 1.5e-5, 3e-7, 3.75e-6,
         200000, 64000),
    CHAT("anthropic.claude-3-7-sonnet-20250219-v1:0", "bedrock", 3e-6, 1.5e-5, 3e-7, 3.75e-6,
         200000, 8192),
    CHAT("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "bedrock", 3e-6, 1.5e-5, 3e-7, 3.75e-6,
         200000, 8192),
    CHAT("anthropic.claude-3-5-sonnet-20241022-v2:0", "bedrock", 3e-6, 1.5e-5, 3e-7, 3.75e-6,
         200000, 8192),
    CHAT("anthropic.claude-3-5-sonnet-20240620-v1:0", "bedrock", 3e-6, 1.5e-5, 0, 0, 200000, 4096),
    CHAT("anthropic.claude-3-5-haiku-20241022-v1:0", "bedrock", 8e-7, 4e-6, 8e-8, 1e-6, 200000,
         8192),
    CHAT("anthropic.claude-3-haiku-20240307-v1:0", "bedrock", 2.5e-7, 1.25e-6, 0, 0, 200000, 4096),
    CHAT("amazon.nova-premier-v1:0", "bedrock", 2.5e-6, 1.25e-5, 0, 0, 1000000, 10000),
    CHAT("amazon.nova-pro-v1:0", "bedrock", 8e-7, 3.2e-6, 2e-7, 0, 300000, 10000),
    CHAT("amazon.nova-lite-v1:0", "bedrock", 6e-8, 2.4e-7, 1.5e-8, 0, 300000, 10000),
    CHAT("amazon.nova-micro-v1:0", "bedrock", 3.5e-8, 1.4e-7, 8.75e-9, 0, 128000, 10000),
    CHAT("amazon.titan-text-express-v1", "bedrock", 2e-7, 6e-7, 0, 0, 8000, 8000),
    CHAT("amazon.titan-text-lite-v1", "bedrock", 1.5e-7, 2e-7, 0, 0, 4000, 4000),
    EMBED("amazon.titan-embed-text-v2:0", "bedrock", 2e-8, 8192),
    EMBED("amazon.titan-embed-text-v1", "bedrock", 1e-7, 8192),

    /* ---- Mistral: https://mistral.ai/pricing#api-pricing ---- */
    CHAT("mistral/mistral-large-latest", "mistral", 2e-6, 6e-6, 0, 0, 128000, 128000),
    CHAT("mistral/mistral-medium-latest", "mistral", 4e-7, 2e-6, 0, 0, 131072, 8191),
    CHAT("mistral/mistral-small-latest", "mistral", 1e-7, 3e-7, 0, 0, 32000, 8191),
    CHAT("mistral/codestral-latest", "mistral", 3e-7, 9e-7, 0, 0, 256000, 8191),
    CHAT("mistral/open-mistral-nemo", "mistral", 1.5e-7, 1.5e-7, 0, 0, 128000, 128000),
    EMBED("mistral/mistral-embed", "mistral", 1e-7, 8192),

    /* ---- Groq: https://groq.com/pricing ---- */
    CHAT("groq/llama-3.1-8b-instant", "groq", 5e-8, 8e-8, 0, 0, 128000, 8192),
    CHAT("groq/llama-3.3-70b-versatile", "groq", 5.9e-7, 7.9e-7, 0, 0, 128000, 32768),
    CHAT("groq/meta-llama/llama-4-scout-17b-16e-instruct", "groq", 1.1e-7, 3.4e-7, 0, 0, 131072,
         8192),
    CHAT("groq/meta-llama/llama-4-maverick-17b-128e-instruct", "groq", 2e-7, 6e-7, 0, 0, 131072,
         8192),
    CHAT("groq/openai/gpt-oss-120b", "groq", 1.5e-7, 7.5e-7, 0, 0, 131072, 32766),

    /* ---- DeepSeek: https://api-docs.deepseek.com/quick_start/pricing (cache hit = read) ---- */
    CHAT("deepseek/deepseek-chat", "deepseek", 2.8e-7, 4.2e-7, 2.8e-8, 0, 128000, 8192),
    CHAT("deepseek/deepseek-reasoner", "deepseek", 2.8e-7, 4.2e-7, 2.8e-8, 0, 128000, 65536),

    /* ---- Cohere: https://cohere.com/pricing ---- */
    CHAT("command-a-03-2025", "cohere_chat", 2.5e-6, 1e-5, 0, 0, 256000, 8000),
    CHAT("command-r-plus-08-2024", "cohere_chat", 2.5e-6, 1e-5, 0, 0, 128000, 4096),
    CHAT("command-r-08-2024", "cohere_chat", 1.5e-7, 6e-7, 0, 0, 128000, 4096),
    CHAT("command-r7b-12-2024", "cohere_chat", 3.75e-8, 1.5e-7, 0, 0, 128000, 4096),
    EMBED("embed-english-v3.0", "cohere", 1e-7, 1024),
    EMBED("embed-multilingual-v3.0", "cohere", 1e-7, 1024),

    /* ---- xAI: https://docs.x.ai/docs/models ---- */
    CHAT("xai/grok-4", "xai", 3e-6, 1.5e-5, 7.5e-7, 0, 256000, 256000),
    CHAT("xai/grok-4-0709", "xai", 3e-6, 1.5e-5, 7.5e-7, 0, 256000, 256000),
    CHAT("xai/grok-4-fast-reasoning", "xai", 2e-7, 5e-7, 5e-8, 0, 2000000, 2000000),
    CHAT("xai/grok-4-fast-non-reasoning", "xai", 2e-7, 5e-7, 5e-8, 0, 2000000, 2000000),
    CHAT("xai/grok-code-fast-1", "xai", 2e-7, 1.5e-6, 2e-8, 0, 256000, 256000),
    CHAT("xai/grok-3", "xai", 3e-6, 1.5e-5, 7.5e-7, 0, 131072, 131072),
    CHAT("xai/grok-3-mini", "xai", 3e-7, 5e-7, 7.5e-8, 0, 131072, 131072),
};

const size_t spend_builtin_num_rows = sizeof spend_builtin_rows / sizeof spend_builtin_rows[0];
