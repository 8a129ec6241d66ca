/* SPDX-License-Identifier: MIT
 * The response cache: LiteLLM's key (vectors computed with Python's str() and hashlib.sha256, the
 * way litellm/caching/caching.py builds it), the `cache` controls, TTL, s-maxage and LRU
 * eviction of the local table. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cache/cache.h"
#include "config/config.h"

typedef struct {
    const char *body, *group, *text, *hash;
} key_vector_t;

static const key_vector_t vectors[] = {
    {"{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "gpt-4o",
     "model: gpt-4omessages: [{'role': 'user', 'content': 'hi'}]",
     "7839cd844bab0fcbdacae88f0ff579014b0d97cb8029f2407513327aafbe60a5"},
    {"{\"temperature\":0.7,\"model\":\"alias\",\"messages\":[{\"role\":\"user\",\"content\":"
     "\"it's \\\"q\\\"\\n\\u00e9\\u2028x\"}],\"metadata\":{\"a\":1},\"stream\":false,"
     "\"max_tokens\":10,\"user\":null,\"cache\":{\"no-cache\":true}}",
     "group-a",
     "model: group-amessages: [{'role': 'user', 'content': 'it\\'s \"q\"\\n\u00e9\\u2028x'}]"
     "temperature: 0.7stream: Falsemax_tokens: 10",
     "ac37c420ff8e668c54141119fdf5e19e3bcae443756cb46063b64eaf2bb0e400"},
    {"{\"model\":\"m\",\"prompt\":\"say\",\"top_p\":1.0,\"n\":1e2,\"seed\":-0,\"logit_bias\":"
     "{\"50256\":-1e-05},\"stop\":[\"\\t\",\"'\"],\"extra\":true,\"tools\":[{\"f\":[true,false,"
     "null,1.5e16,0.0001,123456789.125]}]}",
     "m",
     "model: mprompt: saytop_p: 1.0n: 100.0seed: 0logit_bias: {'50256': -1e-05}stop: ['\\t', "
     "\"'\"]tools: [{'f': [True, False, None, 1.5e+16, 0.0001, 123456789.125]}]",
     "83fba3d8e29e6ea132ef1d7516b800998d7fa1afd47eb36b85d70b042c44c997"},
    {"{\"model\":\"e\",\"input\":[\"a\",\"b\"],\"encoding_format\":\"float\",\"dimensions\":256}",
     "e", "model: einput: ['a', 'b']encoding_format: floatdimensions: 256",
     "4955ffefa6746cffcfe5c46dce68f9e95dab5b1fdd834f2359b54d0044e86585"},
};

Test(cache, key_text_and_hash_match_litellm)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const key_vector_t *v = &vectors[i];
        buf_t text = {0};
        cr_assert_eq(cache_key_text(v->body, strlen(v->body), str_cstr(v->group), &text), 0);
        cr_assert_eq(text.n, strlen(v->text), "vector %zu: %.*s", i, (int)text.n, text.p);
        cr_assert(memcmp(text.p, v->text, text.n) == 0, "vector %zu: %.*s", i, (int)text.n, text.p);
        buf_free(&text);
        char key[CACHE_KEY_MAX];
        cr_assert_eq(cache_key(v->body, strlen(v->body), str_cstr(v->group), STR_NULL, key), 0);
        cr_assert_str_eq(key, v->hash, "vector %zu", i);
    }
}

Test(cache, key_namespace_prefix)
{
    const key_vector_t *v = &vectors[0];
    char key[CACHE_KEY_MAX];
    cr_assert_eq(cache_key(v->body, strlen(v->body), str_cstr(v->group), STR_LIT("team1"), key), 0);
    cr_assert_str_eq(key, "team1:7839cd844bab0fcbdacae88f0ff579014b0d97cb8029f2407513327aafbe60a5");
}

Test(cache, key_ignores_unknown_params_and_changes_with_known_ones)
{
    const char *a = "{\"model\":\"x\",\"messages\":[],\"metadata\":{\"t\":1},\"cache\":{}}";
    const char *b = "{\"messages\":[],\"model\":\"x\"}";
    const char *c = "{\"model\":\"x\",\"messages\":[],\"temperature\":0}";
    char ka[CACHE_KEY_MAX], kb[CACHE_KEY_MAX], kc[CACHE_KEY_MAX];
    cr_assert_eq(cache_key(a, strlen(a), STR_LIT("x"), STR_NULL, ka), 0);
    cr_assert_eq(cache_key(b, strlen(b), STR_LIT("x"), STR_NULL, kb), 0);
    cr_assert_eq(cache_key(c, strlen(c), STR_LIT("x"), STR_NULL, kc), 0);
    cr_assert_str_eq(ka, kb);
    cr_assert_str_neq(ka, kc);
    cr_assert_eq(cache_key("[1]", 3, STR_LIT("x"), STR_NULL, ka), -1);
}

Test(cache, controls)
{
    cache_controls_t c;
    cr_assert_eq(cache_controls_parse(STR_NULL, &c), 0);
    cr_assert(!c.no_cache && !c.no_store && c.ttl_s < 0 && c.s_maxage_s < 0);
    str_t raw = STR_LIT(
        "{\"no-cache\":true,\"no-store\":false,\"ttl\":5,\"s-maxage\":1.5,\"namespace\":\"n\"}");
    cr_assert_eq(cache_controls_parse(raw, &c), 0);
    cr_assert(c.no_cache);
    cr_assert(!c.no_store);
    cr_assert_float_eq(c.ttl_s, 5, 1e-9);
    cr_assert_float_eq(c.s_maxage_s, 1.5, 1e-9);
    cr_assert_eq(c.namespace_.n, 3);
    cr_assert_eq(cache_controls_parse(STR_LIT("true"), &c), -1);
}

static bool has(cache_t *c, const char *key, int64_t now)
{
    cache_entry_t *e = cache_get(c, key, now, -1);
    cache_entry_release(e);
    return e != NULL;
}

Test(cache, ttl_and_max_age)
{
    cache_t *c = cache_new(1000, 1 << 24);
    cr_assert_eq(cache_put(c, "k", "application/json", "{\"a\":1}", 7, 1000, 500), 0);
    cache_entry_t *e = cache_get(c, "k", 1200, -1);
    cr_assert_not_null(e);
    str_t b = cache_entry_body(e);
    cr_assert_eq(b.n, 7);
    cr_assert(memcmp(b.p, "{\"a\":1}", 7) == 0);
    cr_assert_str_eq(cache_entry_content_type(e), "application/json");
    /* a held entry outlives its replacement */
    cr_assert_eq(cache_put(c, "k", NULL, "{}", 2, 1300, 500), 0);
    cr_assert_eq(cache_entry_body(e).n, 7);
    cache_entry_release(e);
    cr_assert(has(c, "k", 1799));
    e = cache_get(c, "k", 1700, 100); /* s-maxage: created at 1300, 400 ms old */
    cr_assert_null(e);
    cr_assert(has(c, "k", 1700));
    cr_assert(!has(c, "k", 1800)); /* expired */
    cache_stats_t st;
    cache_stats(c, &st);
    cr_assert_eq(st.entries, 0);
    cr_assert_eq(cache_put(c, "z", NULL, "x", 1, 0, 0), -1); /* no ttl: not stored */
    cache_free(c);
}

Test(cache, lru_eviction_by_entries_and_bytes)
{
    /* 64 shards: a cap of 64 entries is one per shard, so a second key in a shard evicts */
    cache_t *c = cache_new(64, 1 << 24);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "key%d", i);
        cr_assert_eq(cache_put(c, key, NULL, "v", 1, 0, 60000), 0);
    }
    cache_stats_t st;
    cache_stats(c, &st);
    cr_assert_leq(st.entries, 64);
    cr_assert_geq(st.evictions, 1000 - 64);
    cr_assert(has(c, "key999", 1)); /* the newest survives */
    cache_free(c);

    /* bytes: a body larger than a shard's share is refused, and the total stays under the cap */
    c = cache_new(100000, 64 * 4096);
    static char big[8192];
    memset(big, 'x', sizeof big);
    cr_assert_eq(cache_put(c, "big", NULL, big, sizeof big, 0, 60000), -1);
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "b%d", i);
        cr_assert_eq(cache_put(c, key, NULL, big, 1000, 0, 60000), 0);
    }
    cache_stats(c, &st);
    cr_assert_leq(st.bytes, 64 * 4096);
    cr_assert(has(c, "b1999", 1));
    cache_free(c);
}

/* A streamed chat completion is stored as the chat.completion its chunks add up to (content and
 * tool-call arguments joined, the last usage and finish_reason) and replayed as one chunk. */
Test(cache, stream_assemble_and_replay)
{
    const char *sse =
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"m\","
        "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
        "\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"m\","
        "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}"
        "\r\n\r\n"
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"m\","
        "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\",\"tool_calls\":[{\"index\":0,"
        "\"id\":\"t1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\"}"
        "}]},"
        "\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"m\","
        "\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
        "{\"arguments\":\"\\\":1}\"}}]},\"finish_reason\":\"stop\"}]}\n\n"
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"m\","
        "\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}"
        "\n\n"
        "data: [DONE]\n\n";
    buf_t out = {0};
    cr_assert_eq(cache_stream_assemble(sse, strlen(sse), &out), 0);
    const char *want =
        "{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":7,\"model\":\"m\",\"choices\":"
        "[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello\",\"tool_calls\":"
        "[{\"id\":\"t1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":"
        "\"{\\\"a\\\":1}\"}}]},\"finish_reason\":\"stop\",\"logprobs\":null}],\"usage\":"
        "{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}";
    cr_assert_eq(out.n, strlen(want), "%.*s", (int)out.n, out.p);
    cr_assert(memcmp(out.p, want, out.n) == 0, "%.*s", (int)out.n, out.p);

    buf_t rep = {0};
    cr_assert_eq(cache_stream_replay(out.p, out.n, &rep), 0);
    const char *want_sse =
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"m\","
        "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hello\","
        "\"tool_calls\":[{\"id\":\"t1\",\"type\":\"function\",\"function\":{\"name\":\"f\","
        "\"arguments\":\"{\\\"a\\\":1}\"},\"index\":0}]},\"finish_reason\":\"stop\","
        "\"logprobs\":null}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,"
        "\"total_tokens\":5}}\n\ndata: [DONE]\n\n";
    cr_assert_eq(rep.n, strlen(want_sse), "%.*s", (int)rep.n, rep.p);
    cr_assert(memcmp(rep.p, want_sse, rep.n) == 0, "%.*s", (int)rep.n, rep.p);
    buf_free(&rep);
    buf_free(&out);

    /* not rebuilt: no [DONE], an error event, a non-chat stream; a non-completion is not replayed
     */
    const char *cut = "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                      "\"delta\":{\"content\":\"x\"}}]}\n\n";
    cr_assert_eq(cache_stream_assemble(cut, strlen(cut), &out), -1);
    const char *err = "data: {\"error\":{\"message\":\"x\"}}\n\ndata: [DONE]\n\n";
    cr_assert_eq(cache_stream_assemble(err, strlen(err), &out), -1);
    const char *text = "data: {\"object\":\"text_completion\",\"choices\":[{\"text\":\"x\"}]}\n\n"
                       "data: [DONE]\n\n";
    cr_assert_eq(cache_stream_assemble(text, strlen(text), &out), -1);
    cr_assert_eq(cache_stream_replay("{\"object\":\"list\"}", 17, &rep), -1);
    buf_free(&out);
    buf_free(&rep);
}

Test(cache, key_extra_members_for_messages_and_responses)
{
    /* "system" is keyed after the rest (sluice: LiteLLM's OpenAI parameter list misses it) */
    const char *body = "{\"system\":\"be brief\",\"model\":\"c\",\"messages\":[{\"role\":\"user\","
                       "\"content\":\"hi\"}],\"max_tokens\":5}";
    static const char *const extra[] = {"system", NULL};
    char key[CACHE_KEY_MAX], plain[CACHE_KEY_MAX];
    cr_assert_eq(cache_key_extra(body, strlen(body), STR_LIT("c"), STR_NULL, extra, key), 0);
    cr_assert_str_eq(key, "85bd27a5643b093d99de298ff0265aeb6c452cb2a53f9f5baa881013ad96d13a");
    cr_assert_eq(cache_key(body, strlen(body), STR_LIT("c"), STR_NULL, plain), 0);
    cr_assert_str_eq(plain, "670e33c555338ca5e14620644dc581b0ba37f9823217dd4667caa510f9f53442");
    /* a body without the member keys as cache_key does */
    const char *bare = "{\"model\":\"c\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                       "\"max_tokens\":5}";
    cr_assert_eq(cache_key_extra(bare, strlen(bare), STR_LIT("c"), STR_NULL, extra, key), 0);
    cr_assert_str_eq(key, plain);
}

static int collect_name(void *arg, str_t name)
{
    buf_t *b = arg;
    buf_append_str(b, name);
    buf_append_cstr(b, ",");
    return str_eq_cstr(name, "stop") ? 7 : 0;
}

Test(cache, controls_use_cache_s_max_age_and_names)
{
    cache_controls_t c;
    cr_assert_eq(cache_controls_parse(STR_LIT("{\"use-cache\":true,\"s-max-age\":5}"), &c), 0);
    cr_assert(c.use_cache);
    cr_assert_float_eq(c.s_maxage_s, 5, 1e-9);
    /* LiteLLM's `is True`: only JSON true opts in */
    cr_assert_eq(cache_controls_parse(STR_LIT("{\"use-cache\":\"true\"}"), &c), 0);
    cr_assert_not(c.use_cache);
    cr_assert_eq(cache_controls_parse(STR_LIT("{\"use-cache\":1}"), &c), 0);
    cr_assert_not(c.use_cache);
    cr_assert_eq(cache_controls_parse(STR_LIT("{\"s-maxage\":2,\"s-max-age\":9}"), &c), 0);
    cr_assert_float_eq(c.s_maxage_s, 2, 1e-9, "s-maxage wins");

    buf_t names = {0};
    cr_assert_eq(
        cache_controls_each(STR_LIT("{\"ttl\":1,\"no-\\u0063ache\":true}"), collect_name, &names),
        0);
    cr_assert_eq(names.n, strlen("ttl,no-cache,"));
    cr_assert(memcmp(names.p, "ttl,no-cache,", names.n) == 0, "%.*s", (int)names.n, names.p);
    names.n = 0;
    cr_assert_eq(cache_controls_each(STR_LIT("{\"a\":1,\"stop\":2,\"b\":3}"), collect_name, &names),
                 7, "the callback's non-zero return stops the walk");
    cr_assert_eq(names.n, strlen("a,stop,"));
    cr_assert_eq(cache_controls_each(STR_LIT("[1]"), collect_name, &names), 0);
    cr_assert_eq(cache_controls_each(STR_NULL, collect_name, &names), 0);
    buf_free(&names);
}

Test(cache, text_stream_assemble_and_replay)
{
    const char *sse =
        "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":9,\"model\":\"m\","
        "\"choices\":[{\"text\":\"Hel\",\"index\":0,\"logprobs\":null,\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":9,\"model\":\"m\","
        "\"choices\":[{\"text\":\"lo\",\"index\":0,\"logprobs\":null,\"finish_reason\":"
        "\"length\"}]}\n\n"
        "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":9,\"model\":\"m\","
        "\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}"
        "\n\ndata: [DONE]\n\n";
    buf_t out = {0};
    cr_assert_eq(cache_text_stream_assemble(sse, strlen(sse), &out), 0);
    const char *want = "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":9,\"model\":"
                       "\"m\",\"choices\":[{\"text\":\"Hello\",\"index\":0,\"logprobs\":null,"
                       "\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":1,"
                       "\"completion_tokens\":2,\"total_tokens\":3}}";
    cr_assert_eq(out.n, strlen(want), "%.*s", (int)out.n, out.p);
    cr_assert(memcmp(out.p, want, out.n) == 0, "%.*s", (int)out.n, out.p);
    buf_t rep = {0};
    cr_assert_eq(cache_text_stream_replay(out.p, out.n, &rep), 0);
    cr_assert_eq(rep.n, strlen(want) + strlen("data: \n\ndata: [DONE]\n\n"));
    cr_assert(memcmp(rep.p, "data: ", 6) == 0 && memcmp(rep.p + 6, want, strlen(want)) == 0);
    cr_assert(memcmp(rep.p + 6 + strlen(want), "\n\ndata: [DONE]\n\n", 16) == 0);
    buf_free(&rep);
    buf_free(&out);
    /* chat chunks, no [DONE], logprobs: not rebuilt; a chat.completion is not replayed here */
    const char *chat = "data: {\"object\":\"chat.completion.chunk\",\"choices\":[]}\n\n"
                       "data: [DONE]\n\n";
    cr_assert_eq(cache_text_stream_assemble(chat, strlen(chat), &out), -1);
    const char *cut = "data: {\"object\":\"text_completion\",\"choices\":[{\"text\":\"x\"}]}\n\n";
    cr_assert_eq(cache_text_stream_assemble(cut, strlen(cut), &out), -1);
    const char *lp = "data: {\"object\":\"text_completion\",\"choices\":[{\"text\":\"x\","
                     "\"logprobs\":{\"tokens\":[\"x\"]}}]}\n\ndata: [DONE]\n\n";
    cr_assert_eq(cache_text_stream_assemble(lp, strlen(lp), &out), -1);
    cr_assert_eq(
        cache_text_stream_replay("{\"object\":\"chat.completion\",\"choices\":[]}", 41, &rep), -1);
    buf_free(&out);
    buf_free(&rep);
}

Test(cache, messages_stream_events_wrap_and_replay)
{
    const char *sse = "event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
                      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\"}\n\n"
                      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    buf_t out = {0};
    cr_assert_eq(cache_events_wrap(sse, strlen(sse), &out), 0);
    const char *want =
        "{\"litellm_cached_anthropic_sse_events\":[\"event: message_start\\ndata: "
        "{\\\"type\\\":\\\"message_start\\\"}\\n\\n\",\"event: content_block_delta\\ndata: "
        "{\\\"type\\\":\\\"content_block_delta\\\"}\\n\\n\",\"event: message_stop\\ndata: "
        "{\\\"type\\\":\\\"message_stop\\\"}\\n\\n\"]}";
    cr_assert_eq(out.n, strlen(want), "%.*s", (int)out.n, out.p);
    cr_assert(memcmp(out.p, want, out.n) == 0, "%.*s", (int)out.n, out.p);
    buf_t rep = {0};
    cr_assert_eq(cache_events_replay(out.p, out.n, &rep), 0);
    cr_assert_eq(rep.n, strlen(sse));
    cr_assert(memcmp(rep.p, sse, rep.n) == 0, "the events go back byte for byte");
    buf_free(&rep);
    buf_free(&out);
    /* no message_stop, an error event: not stored; a plain message is not replayed */
    const char *cut = "event: message_start\ndata: {}\n\n";
    cr_assert_eq(cache_events_wrap(cut, strlen(cut), &out), -1);
    const char *err = "event: error\ndata: {}\n\nevent: message_stop\ndata: {}\n\n";
    cr_assert_eq(cache_events_wrap(err, strlen(err), &out), -1);
    cr_assert_eq(cache_events_replay("{\"type\":\"message\"}", 18, &rep), -1);
    buf_free(&out);
    buf_free(&rep);
}

static cfg_t *load(const char *yaml, cfg_diag_t *diag)
{
    return cfg_load_string("t.yaml", yaml, strlen(yaml), diag);
}

Test(cache, config_mode_and_supported_call_types)
{
    cfg_diag_t diag;
    cfg_t *cfg = load("litellm_settings:\n  cache: true\n", &diag);
    cr_assert(cfg);
    cr_assert_not(cfg->cache_default_off, "default_on by default");
    cr_assert_not(cfg->cache_call_types_set, "every call type by default");
    cfg_free(cfg);
    cfg_diag_free(&diag);

    cfg = load("litellm_settings:\n  cache: true\n  cache_params:\n    mode: default_off\n"
               "    supported_call_types: [acompletion, aresponses, completion, "
               "aanthropic_messages]\n",
               &diag);
    cr_assert(cfg);
    cr_assert_eq(diag.num_warnings, 0, "%s", diag.num_warnings ? diag.warnings[0] : "");
    cr_assert(cfg->cache_default_off);
    cr_assert(cfg->cache_call_types_set);
    /* the sync name `completion` is the SDK's: nothing on the proxy */
    cr_assert_eq(cfg->cache_call_types,
                 CFG_CACHE_CALL_CHAT | CFG_CACHE_CALL_RESPONSES | CFG_CACHE_CALL_MESSAGES);
    cfg_free(cfg);
    cfg_diag_free(&diag);

    cfg = load("litellm_settings:\n  cache: true\n  cache_params:\n    mode: default_on\n"
               "    supported_call_types: []\n",
               &diag);
    cr_assert(cfg);
    cr_assert_not(cfg->cache_default_off);
    cr_assert(cfg->cache_call_types_set);
    cr_assert_eq(cfg->cache_call_types, 0, "[] caches nothing");
    cfg_free(cfg);
    cfg_diag_free(&diag);

    cfg = load("litellm_settings:\n  cache: true\n  cache_params:\n    mode: sometimes\n"
               "    supported_call_types: [acompletion, bogus]\n",
               &diag);
    cr_assert(cfg);
    cr_assert(cfg->cache_default_off, "anything but default_on is opt-in, as LiteLLM reads it");
    cr_assert_eq(cfg->cache_call_types, CFG_CACHE_CALL_CHAT);
    cr_assert_eq(diag.num_warnings, 2);
    cr_assert(strstr(diag.warnings[0], "sometimes"), "%s", diag.warnings[0]);
    cr_assert(strstr(diag.warnings[1], "bogus"), "%s", diag.warnings[1]);
    cfg_free(cfg);
    cfg_diag_free(&diag);
}
