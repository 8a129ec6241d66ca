/* SPDX-License-Identifier: MIT
 * cohere / cohere_chat: golden request/response/stream files in tests/data/cohere/ (see
 * prov_golden.h for their format) plus the few behaviours a file cannot show. */
#include "prov_golden.h"

extern const prov_adapter_t prov_adapter_cohere, prov_adapter_cohere_chat;

static const golden_suite_t cohere_suite = {&prov_adapter_cohere, "cohere", "tests/data/cohere",
                                            "sse"};

Test(prov_cohere, requests)
{
    cr_expect_geq(golden_run_dir(&cohere_suite, "request"), 10);
}

Test(prov_cohere, responses)
{
    cr_expect_geq(golden_run_dir(&cohere_suite, "response"), 6);
}

Test(prov_cohere, streams_split_anywhere)
{
    cr_expect_geq(golden_run_dir(&cohere_suite, "stream"), 4);
}

Test(prov_cohere, both_names_registered)
{
    cr_expect_eq(prov_adapter_find(STR_LIT("cohere")), &prov_adapter_cohere);
    cr_expect_eq(prov_adapter_find(STR_LIT("cohere_chat")), &prov_adapter_cohere_chat);
    cr_expect_str_eq(prov_adapter_cohere_chat.name, "cohere_chat");
    cr_expect_eq(prov_adapter_cohere_chat.chat_request, prov_adapter_cohere.chat_request);
}

Test(prov_cohere, error_message)
{
    buf_t out = {0};
    prov_adapter_cohere.error_message(
        401, STR_LIT("{\"id\":\"e1\",\"message\":\"invalid api token\"}"), &out);
    cr_expect_str_eq(buf_cstr(&out), "invalid api token");
    out.n = 0;
    prov_adapter_cohere.error_message(502, STR_LIT("<html>bad gateway</html>"), &out);
    cr_expect_str_eq(buf_cstr(&out), "<html>bad gateway</html>");
    buf_free(&out);
}

Test(prov_cohere, stream_without_message_end_fails)
{
    arena_t a = {0};
    prov_ctx_t ctx = {.model = STR_LIT("command-r"), .arena = &a};
    prov_stream_t *s = prov_adapter_cohere.stream_new(&ctx);
    golden_run_t r = {.chunks = cJSON_CreateArray()};
    static const char part[] = "event: message-start\ndata: {\"type\":\"message-start\"}\n\n"
                               "event: content-delta\ndata: {\"type\":\"content-delta\",\"delta\":"
                               "{\"message\":{\"content\":{\"text\":\"Hi\"}}}}\n\n";
    cr_expect_eq(prov_adapter_cohere.stream_feed(s, part, sizeof part - 1, golden_collect, &r), 0);
    cr_expect_eq(prov_adapter_cohere.stream_end(s, golden_collect, &r), -1);
    cr_expect_eq(cJSON_GetArraySize(r.chunks), 2);
    prov_adapter_cohere.stream_free(s);
    cJSON_Delete(r.chunks);
    arena_reset(&a);
}

Test(prov_cohere, stream_rejects_non_json_data)
{
    arena_t a = {0};
    prov_ctx_t ctx = {.model = STR_LIT("command-r"), .arena = &a};
    prov_stream_t *s = prov_adapter_cohere.stream_new(&ctx);
    golden_run_t r = {.chunks = cJSON_CreateArray()};
    static const char bad[] = "event: content-delta\ndata: {\"type\":\"content-del\n\n";
    cr_expect_eq(prov_adapter_cohere.stream_feed(s, bad, sizeof bad - 1, golden_collect, &r), -1);
    prov_adapter_cohere.stream_free(s);
    cJSON_Delete(r.chunks);
    arena_reset(&a);
}
