/* SPDX-License-Identifier: MIT
 * ollama (/api/generate) and ollama_chat (/api/chat): golden request/response/NDJSON stream
 * files in tests/data/ollama/ (see prov_golden.h for their format) plus the few behaviours a
 * file cannot show. */
#include "prov_golden.h"

extern const prov_adapter_t prov_adapter_ollama, prov_adapter_ollama_chat;

static const golden_suite_t ollama_suite = {&prov_adapter_ollama_chat, "ollama_chat",
                                            "tests/data/ollama", "ndjson"};

Test(prov_ollama, requests)
{
    cr_expect_geq(golden_run_dir(&ollama_suite, "request"), 10);
}

Test(prov_ollama, responses)
{
    cr_expect_geq(golden_run_dir(&ollama_suite, "response"), 6);
}

Test(prov_ollama, streams_split_anywhere)
{
    cr_expect_geq(golden_run_dir(&ollama_suite, "stream"), 4);
}

Test(prov_ollama, both_names_registered)
{
    cr_expect_eq(prov_adapter_find(STR_LIT("ollama")), &prov_adapter_ollama);
    cr_expect_eq(prov_adapter_find(STR_LIT("ollama_chat")), &prov_adapter_ollama_chat);
    cr_expect_neq(prov_adapter_ollama.chat_request, prov_adapter_ollama_chat.chat_request);
}

Test(prov_ollama, error_message)
{
    buf_t out = {0};
    prov_adapter_ollama.error_message(404, STR_LIT("{\"error\":\"model 'x' not found\"}"), &out);
    cr_expect_str_eq(buf_cstr(&out), "model 'x' not found");
    out.n = 0;
    prov_adapter_ollama.error_message(500, STR_LIT("plain text"), &out);
    cr_expect_str_eq(buf_cstr(&out), "plain text");
    buf_free(&out);
}

/* A stream whose lines arrive one byte at a time never copies more than one line. */
static int count_chunk(void *arg, str_t chunk)
{
    (void)chunk;
    (*(int *)arg)++;
    return 0;
}

Test(prov_ollama, stream_line_cap)
{
    arena_t a = {0};
    prov_ctx_t ctx = {.model = STR_LIT("llama3"), .arena = &a};
    prov_stream_t *s = prov_adapter_ollama_chat.stream_new(&ctx);
    int n = 0;
    char *big = malloc(1 << 20);
    memset(big, ' ', 1 << 20);
    int rc = 0;
    for (int i = 0; i < 9 && rc == 0; i++) /* 9 MiB without a newline */
        rc = prov_adapter_ollama_chat.stream_feed(s, big, 1 << 20, count_chunk, &n);
    cr_expect_eq(rc, -1);
    cr_expect_eq(prov_adapter_ollama_chat.stream_feed(s, "\n", 1, count_chunk, &n), -1);
    cr_expect_eq(n, 0);
    free(big);
    prov_adapter_ollama_chat.stream_free(s);
    arena_reset(&a);
}

static int refuse_chunk(void *arg, str_t chunk)
{
    (void)arg;
    (void)chunk;
    return -1;
}

Test(prov_ollama, emit_failure_stops_the_stream)
{
    arena_t a = {0};
    prov_ctx_t ctx = {.model = STR_LIT("llama3"), .arena = &a};
    prov_stream_t *s = prov_adapter_ollama_chat.stream_new(&ctx);
    static const char line[] = "{\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},"
                               "\"done\":false}\n";
    cr_expect_eq(prov_adapter_ollama_chat.stream_feed(s, line, sizeof line - 1, refuse_chunk, NULL),
                 -1);
    prov_adapter_ollama_chat.stream_free(s);
    arena_reset(&a);
}
