/* SPDX-License-Identifier: MIT
 * The built-in price table: the major providers' current chat and embedding models, USD per
 * token, copied from LiteLLM's cost map so that sluice bills what a LiteLLM proxy bills.
 *
 * Source: repository BerriAI/litellm, file model_prices_and_context_window.json, commit
 * 00035b69f416be24e2e323c13198d9b7d2d1bdf9 (its contents match main as of 2026-07-18). Every
 * row is that file's entry under the same key, read as prices.c reads the price file:
 * input_cost_per_token, output_cost_per_token, cache_read_input_token_cost,
 * cache_creation_input_token_cost, the lowest input_cost_per_token_above_<N>k_tokens tier
 * with its siblings (an undeclared tier rate stays at the base rate), max_input_tokens, and
 * max_output_tokens (else max_tokens); litellm_provider and mode as the file gives them.
 * Standard tier only (no batch/flex/priority, no regional uplift). To refresh, compare each
 * row with a newer copy of that file; a LiteLLM-format price file (spend_prices_new's
 * json_path) covers every model not here. Rows grouped by provider; a key must appear once
 * (test_spend checks). */
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

/* An embedding model: input price only. Its max_tokens (which the file loader reads as
 * max_output_tokens) equals max_input_tokens in every embedding entry here. */
#define EMBED(k, prov, in, maxin)                                                                  \
    {                                                                                              \
        .key = k, .provider = prov, .mode = "embedding", .input = in, .max_input_tokens = maxin,   \
        .max_output_tokens = maxin                                                                 \
    }

const spend_price_t spend_builtin_rows[] = {
    /* ---- OpenAI (bare keys; standard tier) ---- */
    CHAT_TIER("gpt-5.6", "openai", 5e-6, 3e-5, 5e-7, 6.25e-6, 1050000, 128000, 272000, 1e-5, 4.5e-5,
              1e-6, 1.25e-5),
    CHAT_TIER("gpt-5.6-terra", "openai", 2.5e-6, 1.5e-5, 2.5e-7, 3.125e-6, 1050000, 128000, 272000,
              5e-6, 2.25e-5, 5e-7, 6.25e-6),
    CHAT_TIER("gpt-5.6-luna", "openai", 1e-6, 6e-6, 1e-7, 1.25e-6, 1050000, 128000, 272000, 2e-6,
              9e-6, 2e-7, 2.5e-6),
    CHAT_TIER("gpt-5.5", "openai", 5e-6, 3e-5, 5e-7, 0, 1050000, 128000, 272000, 1e-5, 4.5e-5, 1e-6,
              0),
    CHAT_TIER("gpt-5.4", "openai", 2.5e-6, 1.5e-5, 2.5e-7, 0, 1050000, 128000, 272000, 5e-6,
              2.25e-5, 5e-7, 0),
    CHAT("gpt-5.4-mini", "openai", 7.5e-7, 4.5e-6, 7.5e-8, 0, 1050000, 128000),
    CHAT("gpt-5.4-nano", "openai", 2e-7, 1.25e-6, 2e-8, 0, 1050000, 128000),
    CHAT("gpt-5.2", "openai", 1.75e-6, 1.4e-5, 1.75e-7, 0, 272000, 128000),
    CHAT("gpt-5.2-chat-latest", "openai", 1.75e-6, 1.4e-5, 1.75e-7, 0, 128000, 16384),
    CHAT("gpt-5.1", "openai", 1.25e-6, 1e-5, 1.25e-7, 0, 272000, 128000),
    CHAT("gpt-5.1-chat-latest", "openai", 1.25e-6, 1e-5, 1.25e-7, 0, 128000, 16384),
    CHAT("gpt-5", "openai", 1.25e-6, 1e-5, 1.25e-7, 0, 272000, 128000),
    CHAT("gpt-5-2025-08-07", "openai", 1.25e-6, 1e-5, 1.25e-7, 0, 272000, 128000),
    CHAT("gpt-5-chat-latest", "openai", 1.25e-6, 1e-5, 1.25e-7, 0, 128000, 16384),
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
    CHAT("o3", "openai", 2e-6, 8e-6, 5e-7, 0, 200000, 100000),
    CHAT("o3-2025-04-16", "openai", 2e-6, 8e-6, 5e-7, 0, 200000, 100000),
    CHAT("o3-mini", "openai", 1.1e-6, 4.4e-6, 5.5e-7, 0, 200000, 100000),
    CHAT("o3-mini-2025-01-31", "openai", 1.1e-6, 4.4e-6, 5.5e-7, 0, 200000, 100000),
    CHAT("o4-mini", "openai", 1.1e-6, 4.4e-6, 2.75e-7, 0, 200000, 100000),
    CHAT("o4-mini-2025-04-16", "openai", 1.1e-6, 4.4e-6, 2.75e-7, 0, 200000, 100000),
    EMBED("text-embedding-3-small", "openai", 2e-8, 8191),
    EMBED("text-embedding-3-large", "openai", 1.3e-7, 8191),
    EMBED("text-embedding-ada-002", "openai", 1e-7, 8191),

    /* ---- Anthropic (bare keys; cache write = 5-minute write) ---- */
    CHAT("claude-fable-5", "anthropic", 1e-5, 5e-5, 1e-6, 1.25e-5, 1000000, 128000),
    CHAT("claude-opus-4-8", "anthropic", 5e-6, 2.5e-5, 5e-7, 6.25e-6, 1000000, 128000),
    CHAT("claude-opus-4-7", "anthropic", 5e-6, 2.5e-5, 5e-7, 6.25e-6, 1000000, 128000),
    CHAT("claude-opus-4-7-20260416", "anthropic", 5e-6, 2.5e-5, 5e-7, 6.25e-6, 1000000, 128000),
    CHAT("claude-opus-4-6", "anthropic", 5e-6, 2.5e-5, 5e-7, 6.25e-6, 1000000, 128000),
    CHAT("claude-opus-4-6-20260205", "anthropic", 5e-6, 2.5e-5, 5e-7, 6.25e-6, 1000000, 128000),
    CHAT("claude-sonnet-5", "anthropic", 2e-6, 1e-5, 2e-7, 2.5e-6, 1000000, 128000),
    CHAT("claude-sonnet-4-6", "anthropic", 3e-6, 1.5e-5, 3e-7, 3.75e-6, 1000000, 64000),
    CHAT("claude-opus-4-5-20251101", "anthropic", 5e-6, 2.5e-5, 5e-7, 6.25e-6, 200000, 64000),
    CHAT("claude-opus-4-5", "anthropic", 5e-6, 2.5e-5, 5e-7, 6.25e-6, 200000, 64000),
    CHAT("claude-opus-4-1-20250805", "anthropic", 1.5e-5, 7.5e-5, 1.5e-6, 1.875e-5, 200000, 32000),
    CHAT("claude-opus-4-1", "anthropic", 1.5e-5, 7.5e-5, 1.5e-6, 1.875e-5, 200000, 32000),
    CHAT("claude-opus-4-20250514", "anthropic", 1.5e-5, 7.5e-5, 1.5e-6, 1.875e-5, 200000, 32000),
    CHAT_TIER("claude-sonnet-4-5-20250929", "anthropic", 3e-6, 1.5e-5, 3e-7, 3.75e-6, 200000, 64000,
              200000, 6e-6, 2.25e-5, 6e-7, 7.5e-6),
    CHAT_TIER("claude-sonnet-4-5", "anthropic", 3e-6, 1.5e-5, 3e-7, 3.75e-6, 200000, 64000, 200000,
              6e-6, 2.25e-5, 6e-7, 7.5e-6),
    CHAT_TIER("claude-sonnet-4-20250514", "anthropic", 3e-6, 1.5e-5, 3e-7, 3.75e-6, 1000000, 64000,
              200000, 6e-6, 2.25e-5, 6e-7, 7.5e-6),
    CHAT("claude-haiku-4-5-20251001", "anthropic", 1e-6, 5e-6, 1e-7, 1.25e-6, 200000, 64000),
    CHAT("claude-haiku-4-5", "anthropic", 1e-6, 5e-6, 1e-7, 1.25e-6, 200000, 64000),
    CHAT("claude-3-7-sonnet-20250219", "anthropic", 3e-6, 1.5e-5, 3e-7, 3.75e-6, 200000, 64000),
    CHAT("claude-3-opus-20240229", "anthropic", 1.5e-5, 7.5e-5, 1.5e-6, 1.875e-5, 200000, 4096),
    CHAT("claude-3-haiku-20240307", "anthropic", 2.5e-7, 1.25e-6, 3e-8, 3e-7, 200000, 4096),

    /* ---- Google AI Studio (gemini/ keys) ---- */
    CHAT("gemini/gemini-3.5-flash", "gemini", 1.5e-6, 9e-6, 1.5e-7, 0, 1048576, 65535),
    CHAT_TIER("gemini/gemini-3.1-pro-preview", "gemini", 2e-6, 1.2e-5, 2e-7, 0, 1048576, 65536,
              200000, 4e-6, 1.8e-5, 4e-7, 0),
    CHAT("gemini/gemini-3-flash-preview", "gemini", 5e-7, 3e-6, 5e-8, 0, 1048576, 65535),
    CHAT("gemini/gemini-3.1-flash-lite", "gemini", 2.5e-7, 1.5e-6, 2.5e-8, 0, 1048576, 65536),
    CHAT_TIER("gemini/gemini-pro-latest", "gemini", 1.25e-6, 1e-5, 1.25e-7, 0, 1048576, 65535,
              200000, 2.5e-6, 1.5e-5, 2.5e-7, 0),
    CHAT("gemini/gemini-flash-latest", "gemini", 3e-7, 2.5e-6, 7.5e-8, 0, 1048576, 65535),
    CHAT_TIER("gemini/gemini-2.5-pro", "gemini", 1.25e-6, 1e-5, 1.25e-7, 0, 1048576, 65535, 200000,
              2.5e-6, 1.5e-5, 2.5e-7, 0),
    CHAT("gemini/gemini-2.5-flash", "gemini", 3e-7, 2.5e-6, 3e-8, 0, 1048576, 65535),
    CHAT("gemini/gemini-2.5-flash-lite", "gemini", 1e-7, 4e-7, 1e-8, 0, 1048576, 65535),
    CHAT("gemini/gemini-2.0-flash", "gemini", 1e-7, 4e-7, 2.5e-8, 0, 1048576, 8192),
    CHAT("gemini/gemini-2.0-flash-001", "gemini", 1e-7, 4e-7, 2.5e-8, 0, 1048576, 8192),
    CHAT("gemini/gemini-2.0-flash-lite", "gemini", 7.5e-8, 3e-7, 1.875e-8, 0, 1048576, 8192),
    EMBED("gemini/gemini-embedding-001", "gemini", 1.5e-7, 2048),
    EMBED("gemini/gemini-embedding-2", "gemini", 2e-7, 8192),

    /* ---- Vertex AI (bare gemini- keys, vertex_ai-language-models / -embedding-models) ---- */
    CHAT("gemini-3.5-flash", "vertex_ai-language-models", 1.5e-6, 9e-6, 1.5e-7, 0, 1048576, 65535),
    CHAT_TIER("gemini-3.1-pro-preview", "vertex_ai-language-models", 2e-6, 1.2e-5, 2e-7, 0, 1048576,
              65536, 200000, 4e-6, 1.8e-5, 4e-7, 2.5e-7),
    CHAT("gemini-3-flash-preview", "vertex_ai-language-models", 5e-7, 3e-6, 5e-8, 0, 1048576,
         65535),
    CHAT("gemini-3.1-flash-lite", "vertex_ai-language-models", 2.5e-7, 1.5e-6, 2.5e-8, 0, 1048576,
         65536),
    CHAT_TIER("gemini-2.5-pro", "vertex_ai-language-models", 1.25e-6, 1e-5, 1.25e-7, 0, 1048576,
              65535, 200000, 2.5e-6, 1.5e-5, 2.5e-7, 2.5e-7),
    CHAT("gemini-2.5-flash", "vertex_ai-language-models", 3e-7, 2.5e-6, 3e-8, 0, 1048576, 65535),
    CHAT("gemini-2.5-flash-lite", "vertex_ai-language-models", 1e-7, 4e-7, 1e-8, 0, 1048576, 65535),
    CHAT("gemini-2.0-flash", "vertex_ai-language-models", 1e-7, 4e-7, 2.5e-8, 0, 1048576, 8192),
    CHAT("gemini-2.0-flash-001", "vertex_ai-language-models", 1.5e-7, 6e-7, 3.75e-8, 0, 1048576,
         8192),
    EMBED("gemini-embedding-001", "vertex_ai-embedding-models", 1.5e-7, 2048),
    EMBED("text-embedding-005", "vertex_ai-embedding-models", 1e-7, 2048),

    /* ---- Amazon Bedrock (on-demand; us./global. are cross-region inference profiles) ---- */
    CHAT("anthropic.claude-fable-5", "bedrock_converse", 1e-5, 5e-5, 1e-6, 1.25e-5, 1000000,
         128000),
    CHAT("us.anthropic.claude-fable-5", "bedrock_converse", 1.1e-5, 5.5e-5, 1.1e-6, 1.375e-5,
         1000000, 128000),
    CHAT("anthropic.claude-opus-4-8", "bedrock_converse", 5e-6, 2.5e-5, 5e-7, 6.25e-6, 1000000,
         128000),
    CHAT("us.anthropic.claude-opus-4-8", "bedrock_converse", 5.5e-6, 2.75e-5, 5.5e-7, 6.875e-6,
         1000000, 128000),
    CHAT("anthropic.claude-opus-4-7", "bedrock_converse", 5e-6, 2.5e-5, 5e-7, 6.25e-6, 1000000,
         128000),
    CHAT("us.anthropic.claude-opus-4-7", "bedrock_converse", 5.5e-6, 2.75e-5, 5.5e-7, 6.875e-6,
         1000000, 128000),
    CHAT("anthropic.claude-opus-4-6-v1", "bedrock_converse", 5e-6, 2.5e-5, 5e-7, 6.25e-6, 1000000,
         128000),
    CHAT("us.anthropic.claude-opus-4-6-v1", "bedrock_converse", 5.5e-6, 2.75e-5, 5.5e-7, 6.875e-6,
         1000000, 128000),
    CHAT("anthropic.claude-sonnet-5", "bedrock_converse", 2e-6, 1e-5, 2e-7, 2.5e-6, 1000000,
         128000),
    CHAT("us.anthropic.claude-sonnet-5", "bedrock_converse", 2.2e-6, 1.1e-5, 2.2e-7, 2.75e-6,
         1000000, 128000),
    CHAT("anthropic.claude-sonnet-4-6", "bedrock_converse", 3e-6, 1.5e-5, 3e-7, 3.75e-6, 1000000,
         64000),
    CHAT("us.anthropic.claude-sonnet-4-6", "bedrock_converse", 3.3e-6, 1.65e-5, 3.3e-7, 4.125e-6,
         1000000, 64000),
    CHAT("global.anthropic.claude-sonnet-4-6", "bedrock_converse", 3e-6, 1.5e-5, 3e-7, 3.75e-6,
         1000000, 64000),
    CHAT("anthropic.claude-opus-4-5-20251101-v1:0", "bedrock_converse", 5e-6, 2.5e-5, 5e-7, 6.25e-6,
         200000, 64000),
    CHAT("us.anthropic.claude-opus-4-5-20251101-v1:0", "bedrock_converse", 5.5e-6, 2.75e-5, 5.5e-7,
         6.875e-6, 200000, 64000),
    CHAT("global.anthropic.claude-opus-4-5-20251101-v1:0", "bedrock_converse", 5e-6, 2.5e-5, 5e-7,
         6.25e-6, 200000, 64000),
    CHAT_TIER("anthropic.claude-sonnet-4-5-20250929-v1:0", "bedrock_converse", 3e-6, 1.5e-5, 3e-7,
              3.75e-6, 200000, 64000, 200000, 6e-6, 2.25e-5, 6e-7, 7.5e-6),
    CHAT_TIER("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "bedrock_converse", 3.3e-6, 1.65e-5,
              3.3e-7, 4.125e-6, 200000, 64000, 200000, 6.6e-6, 2.475e-5, 6.6e-7, 8.25e-6),
    CHAT_TIER("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "bedrock_converse", 3e-6, 1.5e-5,
              3e-7, 3.75e-6, 200000, 64000, 200000, 6e-6, 2.25e-5, 6e-7, 7.5e-6),
    CHAT("anthropic.claude-haiku-4-5-20251001-v1:0", "bedrock_converse", 1e-6, 5e-6, 1e-7, 1.25e-6,
         200000, 64000),
    CHAT("us.anthropic.claude-haiku-4-5-20251001-v1:0", "bedrock_converse", 1.1e-6, 5.5e-6, 1.1e-7,
         1.375e-6, 200000, 64000),
    CHAT("global.anthropic.claude-haiku-4-5-20251001-v1:0", "bedrock_converse", 1e-6, 5e-6, 1e-7,
         1.25e-6, 200000, 64000),
    CHAT("anthropic.claude-opus-4-1-20250805-v1:0", "bedrock_converse", 1.5e-5, 7.5e-5, 1.5e-6,
         1.875e-5, 200000, 32000),
    CHAT("us.anthropic.claude-opus-4-1-20250805-v1:0", "bedrock_converse", 1.5e-5, 7.5e-5, 1.5e-6,
         1.875e-5, 200000, 32000),
    CHAT("anthropic.claude-opus-4-20250514-v1:0", "bedrock_converse", 1.5e-5, 7.5e-5, 1.5e-6,
         1.875e-5, 200000, 32000),
    CHAT_TIER("anthropic.claude-sonnet-4-20250514-v1:0", "bedrock_converse", 3e-6, 1.5e-5, 3e-7,
              3.75e-6, 1000000, 64000, 200000, 6e-6, 2.25e-5, 6e-7, 7.5e-6),
    CHAT_TIER("us.anthropic.claude-sonnet-4-20250514-v1:0", "bedrock_converse", 3e-6, 1.5e-5, 3e-7,
              3.75e-6, 1000000, 64000, 200000, 6e-6, 2.25e-5, 6e-7, 7.5e-6),
    CHAT("anthropic.claude-3-7-sonnet-20250219-v1:0", "bedrock_converse", 3e-6, 1.5e-5, 3e-7,
         3.75e-6, 200000, 8192),
    CHAT("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "bedrock_converse", 3e-6, 1.5e-5, 3e-7,
         3.75e-6, 200000, 8192),
    CHAT_TIER("anthropic.claude-3-5-sonnet-20241022-v2:0", "bedrock", 3e-6, 1.5e-5, 3e-7, 3.75e-6,
              1000000, 8192, 200000, 6e-6, 3e-5, 6e-7, 7.5e-6),
    CHAT_TIER("anthropic.claude-3-5-sonnet-20240620-v1:0", "bedrock", 3e-6, 1.5e-5, 3e-7, 3.75e-6,
              1000000, 4096, 200000, 6e-6, 3e-5, 6e-7, 7.5e-6),
    CHAT("anthropic.claude-3-5-haiku-20241022-v1:0", "bedrock", 8e-7, 4e-6, 8e-8, 1e-6, 200000,
         8192),
    CHAT("anthropic.claude-3-haiku-20240307-v1:0", "bedrock", 2.5e-7, 1.25e-6, 2.5e-8, 3.125e-7,
         200000, 4096),
    CHAT("meta.llama4-maverick-17b-instruct-v1:0", "bedrock_converse", 2.4e-7, 9.7e-7, 0, 0, 128000,
         4096),
    CHAT("meta.llama4-scout-17b-instruct-v1:0", "bedrock_converse", 1.7e-7, 6.6e-7, 0, 0, 128000,
         4096),
    CHAT("meta.llama3-3-70b-instruct-v1:0", "bedrock_converse", 7.2e-7, 7.2e-7, 0, 0, 128000, 4096),
    CHAT("meta.llama3-1-405b-instruct-v1:0", "bedrock", 5.32e-6, 1.6e-5, 0, 0, 128000, 4096),
    CHAT("meta.llama3-1-70b-instruct-v1:0", "bedrock", 9.9e-7, 9.9e-7, 0, 0, 128000, 2048),
    CHAT("meta.llama3-1-8b-instruct-v1:0", "bedrock", 2.2e-7, 2.2e-7, 0, 0, 128000, 2048),
    CHAT("amazon.nova-2-lite-v1:0", "bedrock_converse", 3e-7, 2.5e-6, 7.5e-8, 0, 1000000, 64000),
    CHAT("us.amazon.nova-2-lite-v1:0", "bedrock_converse", 3.3e-7, 2.75e-6, 8.25e-8, 0, 1000000,
         64000),
    CHAT("global.amazon.nova-2-lite-v1:0", "bedrock_converse", 3e-7, 2.5e-6, 7.5e-8, 0, 1000000,
         64000),
    CHAT("us.amazon.nova-premier-v1:0", "bedrock_converse", 2.5e-6, 1.25e-5, 0, 0, 1000000, 10000),
    CHAT("amazon.nova-pro-v1:0", "bedrock_converse", 8e-7, 3.2e-6, 0, 0, 300000, 10000),
    CHAT("amazon.nova-lite-v1:0", "bedrock_converse", 6e-8, 2.4e-7, 0, 0, 300000, 10000),
    CHAT("amazon.nova-micro-v1:0", "bedrock_converse", 3.5e-8, 1.4e-7, 0, 0, 128000, 10000),
    CHAT("amazon.titan-text-premier-v1:0", "bedrock", 5e-7, 1.5e-6, 0, 0, 42000, 32000),
    CHAT("amazon.titan-text-express-v1", "bedrock", 1.3e-6, 1.7e-6, 0, 0, 42000, 8000),
    CHAT("amazon.titan-text-lite-v1", "bedrock", 3e-7, 4e-7, 0, 0, 42000, 4000),
    EMBED("amazon.titan-embed-text-v2:0", "bedrock", 2e-8, 8192),
    EMBED("amazon.titan-embed-text-v1", "bedrock", 1e-7, 8192),

    /* ---- Mistral (mistral/ keys) ---- */
    CHAT("mistral/mistral-large-latest", "mistral", 5e-7, 1.5e-6, 0, 0, 262144, 262144),
    CHAT("mistral/mistral-medium-latest", "mistral", 1.5e-6, 7.5e-6, 0, 0, 262144, 262144),
    CHAT("mistral/mistral-small-latest", "mistral", 6e-8, 1.8e-7, 0, 0, 131072, 131072),
    CHAT("mistral/magistral-medium-latest", "mistral", 2e-6, 5e-6, 0, 0, 40000, 40000),
    CHAT("mistral/magistral-small-latest", "mistral", 5e-7, 1.5e-6, 0, 0, 40000, 40000),
    CHAT("mistral/codestral-latest", "mistral", 1e-6, 3e-6, 0, 0, 32000, 8191),
    CHAT("mistral/devstral-medium-latest", "mistral", 4e-7, 2e-6, 0, 0, 256000, 256000),
    CHAT("mistral/devstral-small-latest", "mistral", 1e-7, 3e-7, 0, 0, 256000, 256000),
    CHAT("mistral/ministral-8b-latest", "mistral", 1.5e-7, 1.5e-7, 0, 0, 262144, 262144),
    CHAT("mistral/open-mistral-nemo", "mistral", 3e-7, 3e-7, 0, 0, 128000, 128000),
    EMBED("mistral/mistral-embed", "mistral", 1e-7, 8192),
    EMBED("mistral/codestral-embed", "mistral", 1.5e-7, 8192),

    /* ---- Groq (groq/ keys) ---- */
    CHAT("groq/llama-3.1-8b-instant", "groq", 5e-8, 8e-8, 0, 0, 128000, 8192),
    CHAT("groq/llama-3.3-70b-versatile", "groq", 5.9e-7, 7.9e-7, 0, 0, 128000, 32768),
    CHAT("groq/meta-llama/llama-4-scout-17b-16e-instruct", "groq", 1.1e-7, 3.4e-7, 0, 0, 131072,
         8192),
    CHAT("groq/meta-llama/llama-4-maverick-17b-128e-instruct", "groq", 2e-7, 6e-7, 0, 0, 131072,
         8192),
    CHAT("groq/openai/gpt-oss-120b", "groq", 1.5e-7, 6e-7, 7.5e-8, 0, 131072, 32766),
    CHAT("groq/openai/gpt-oss-20b", "groq", 7.5e-8, 3e-7, 3.75e-8, 0, 131072, 32768),
    CHAT("groq/moonshotai/kimi-k2-instruct-0905", "groq", 1e-6, 3e-6, 5e-7, 0, 262144, 16384),
    CHAT("groq/qwen/qwen3-32b", "groq", 2.9e-7, 5.9e-7, 0, 0, 131000, 131000),

    /* ---- DeepSeek (deepseek/ keys) ---- */
    CHAT("deepseek/deepseek-v4-pro", "deepseek", 4.35e-7, 8.7e-7, 3.625e-9, 0, 1000000, 8192),
    CHAT("deepseek/deepseek-v4-flash", "deepseek", 1.4e-7, 2.8e-7, 2.8e-9, 0, 1000000, 8192),
    CHAT("deepseek/deepseek-chat", "deepseek", 2.8e-7, 4.2e-7, 2.8e-8, 0, 131072, 8192),
    CHAT("deepseek/deepseek-reasoner", "deepseek", 2.8e-7, 4.2e-7, 2.8e-8, 0, 131072, 65536),

    /* ---- Cohere (bare keys; chat rows are cohere_chat) ---- */
    CHAT("command-a-03-2025", "cohere_chat", 2.5e-6, 1e-5, 0, 0, 256000, 8000),
    CHAT("command-r-plus-08-2024", "cohere_chat", 2.5e-6, 1e-5, 0, 0, 128000, 4096),
    CHAT("command-r-08-2024", "cohere_chat", 1.5e-7, 6e-7, 0, 0, 128000, 4096),
    CHAT("command-r7b-12-2024", "cohere_chat", 3.75e-8, 1.5e-7, 0, 0, 128000, 4096),
    CHAT("command-r-plus", "cohere_chat", 2.5e-6, 1e-5, 0, 0, 128000, 4096),
    CHAT("command-r", "cohere_chat", 1.5e-7, 6e-7, 0, 0, 128000, 4096),
    EMBED("embed-english-v3.0", "cohere", 1e-7, 1024),
    EMBED("embed-multilingual-v3.0", "cohere", 1e-7, 1024),
    EMBED("cohere/embed-v4.0", "cohere", 1.2e-7, 128000),

    /* ---- xAI (xai/ keys) ---- */
    CHAT_TIER("xai/grok-4.5", "xai", 2e-6, 6e-6, 5e-7, 0, 500000, 500000, 200000, 4e-6, 1.2e-5,
              1e-6, 0),
    CHAT_TIER("xai/grok-4.3", "xai", 1.25e-6, 2.5e-6, 2e-7, 0, 1000000, 1000000, 200000, 2.5e-6,
              5e-6, 4e-7, 0),
    CHAT_TIER("xai/grok-4-1-fast", "xai", 2e-7, 5e-7, 5e-8, 0, 2000000, 2000000, 128000, 4e-7, 1e-6,
              5e-8, 0),
    CHAT("xai/grok-4", "xai", 3e-6, 1.5e-5, 0, 0, 256000, 256000),
    CHAT_TIER("xai/grok-4-0709", "xai", 3e-6, 1.5e-5, 0, 0, 256000, 256000, 128000, 6e-6, 3e-5, 0,
              0),
    CHAT_TIER("xai/grok-4-fast-reasoning", "xai", 2e-7, 5e-7, 5e-8, 0, 2000000, 2000000, 128000,
              4e-7, 1e-6, 5e-8, 0),
    CHAT_TIER("xai/grok-4-fast-non-reasoning", "xai", 2e-7, 5e-7, 5e-8, 0, 2000000, 2000000, 128000,
              4e-7, 1e-6, 5e-8, 0),
    CHAT("xai/grok-code-fast-1", "xai", 2e-7, 1.5e-6, 2e-8, 0, 256000, 256000),
    CHAT("xai/grok-3", "xai", 3e-6, 1.5e-5, 7.5e-7, 0, 131072, 131072),
    CHAT("xai/grok-3-mini", "xai", 3e-7, 5e-7, 7.5e-8, 0, 131072, 131072),
};

const size_t spend_builtin_num_rows = sizeof spend_builtin_rows / sizeof spend_builtin_rows[0];
