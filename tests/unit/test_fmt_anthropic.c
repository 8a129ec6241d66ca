/* SPDX-License-Identifier: MIT
 * fmt_anthropic: the /v1/messages client format. Golden files in tests/data/fmt_anthropic/:
 * request/<case>.json {"in", "out" | "error"}, response/<case>.json {"request"?, "model", "in",
 * "out"} (JSON compared as values), stream/<case>.jsonl (one chunk a line) with the exact
 * expected event text in <case>.sse and an optional <case>.request.json. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fmt_anthropic.h"

#define DATA "tests/data/fmt_anthropic/"

TestSuite(fmt_anthropic);

static const api_format_t *F = &api_format_anthropic;

/* The whole file, NUL-terminated (malloc); NULL when it does not exist. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    cr_assert_not_null(p);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    p[n] = 0;
    if (len)
        *len = (size_t)n;
    return p;
}

static cJSON *load_json(const char *path)
{
    char *text = slurp(path, NULL);
    cr_assert_not_null(text, "missing golden file %s", path);
    cJSON *doc = cJSON_Parse(text);
    cr_assert_not_null(doc, "%s is not JSON", path);
    free(text);
    return doc;
}

/* Compares JSON values (object key order aside); on a difference shows both. */
static void expect_json(const char *name, const cJSON *got, const cJSON *want)
{
    if (cJSON_Compare(got, want, true))
        return;
    char *g = cJSON_PrintUnformatted(got), *w = cJSON_PrintUnformatted(want);
    cr_expect_fail("%s:\n got: %s\nwant: %s", name, g, w);
    free(g);
    free(w);
}

/* ---- requests --------------------------------------------------------------------------- */

static void check_request(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, DATA "request/%s.json", name);
    cJSON *t = load_json(path);
    cJSON *chat = (cJSON *)0x1;
    prov_error_t err = {0};
    int rc = F->to_chat(cJSON_GetObjectItem(t, "in"), &chat, &err);
    cJSON *error = cJSON_GetObjectItem(t, "error");
    if (error) {
        cr_expect_eq(rc, -1, "%s: expected a failure", name);
        cr_expect_null(chat, "%s: no request on failure", name);
        cr_expect_eq(err.status, cJSON_GetObjectItem(error, "status")->valueint, "%s", name);
        cr_expect_str_eq(err.message, cJSON_GetObjectItem(error, "message")->valuestring, "%s",
                         name);
        cJSON *param = cJSON_GetObjectItem(error, "param");
        if (cJSON_IsString(param))
            cr_expect(err.param && strcmp(err.param, param->valuestring) == 0,
                      "%s: param %s, want %s", name, err.param ? err.param : "NULL",
                      param->valuestring);
        else
            cr_expect_null(err.param, "%s: param", name);
    } else {
        cr_assert_eq(rc, 0, "%s: %d %s", name, err.status, err.message);
        expect_json(name, chat, cJSON_GetObjectItem(t, "out"));
        cJSON_Delete(chat);
    }
    cJSON_Delete(t);
}

#define REQUEST_TEST(name)                                                                         \
    Test(fmt_anthropic, request_##name)                                                            \
    {                                                                                              \
        check_request(#name);                                                                      \
    }

REQUEST_TEST(system_string)
REQUEST_TEST(system_blocks)
REQUEST_TEST(system_empty)
REQUEST_TEST(system_in_messages)
REQUEST_TEST(images)
REQUEST_TEST(documents)
REQUEST_TEST(tool_round_trip)
REQUEST_TEST(tool_result_image)
REQUEST_TEST(tool_choice_auto)
REQUEST_TEST(tool_choice_any)
REQUEST_TEST(tool_choice_none)
REQUEST_TEST(tool_choice_tool)
REQUEST_TEST(tool_choice_without_tools)
REQUEST_TEST(long_tool_name)
REQUEST_TEST(thinking_low)
REQUEST_TEST(thinking_medium)
REQUEST_TEST(thinking_high)
REQUEST_TEST(thinking_disabled)
REQUEST_TEST(stream)
REQUEST_TEST(stream_false)
REQUEST_TEST(output_format)
REQUEST_TEST(unknown_blocks_skipped)
REQUEST_TEST(error_not_object)
REQUEST_TEST(error_missing_model)
REQUEST_TEST(error_model_not_string)
REQUEST_TEST(error_missing_max_tokens)
REQUEST_TEST(error_max_tokens_string)
REQUEST_TEST(error_max_tokens_zero)
REQUEST_TEST(error_missing_messages)
REQUEST_TEST(error_messages_not_list)
REQUEST_TEST(error_messages_empty)
REQUEST_TEST(error_bad_role)
REQUEST_TEST(error_content_number)
REQUEST_TEST(error_block_without_type)
REQUEST_TEST(error_text_not_string)
REQUEST_TEST(error_image_file_source)
REQUEST_TEST(error_tool_result_without_id)
REQUEST_TEST(error_stream_not_bool)
REQUEST_TEST(error_temperature_string)
REQUEST_TEST(error_stop_sequences_not_strings)
REQUEST_TEST(error_server_tool)
REQUEST_TEST(error_tool_choice_bad_type)
REQUEST_TEST(error_metadata_not_object)

/* LiteLLM's thresholds at their edges, with its "minimal" folded into "low". */
Test(fmt_anthropic, thinking_budget_edges)
{
    static const struct {
        const char *thinking;
        const char *effort; /* NULL: no reasoning_effort */
    } cases[] = {
        {"{\"type\":\"enabled\",\"budget_tokens\":1024}", "low"},
        {"{\"type\":\"enabled\",\"budget_tokens\":4999}", "low"},
        {"{\"type\":\"enabled\",\"budget_tokens\":5000}", "medium"},
        {"{\"type\":\"enabled\",\"budget_tokens\":9999}", "medium"},
        {"{\"type\":\"enabled\",\"budget_tokens\":10000}", "high"},
        {"{\"type\":\"enabled\"}", "low"},
        {"{\"type\":\"adaptive\"}", NULL},
        {"{\"type\":\"disabled\",\"budget_tokens\":20000}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"model\":\"m\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":"
                 "\"x\"}],\"thinking\":%s}",
                 cases[i].thinking);
        cJSON *req = cJSON_Parse(body), *chat = NULL;
        prov_error_t err = {0};
        cr_assert_eq(F->to_chat(req, &chat, &err), 0, "%s", err.message);
        const cJSON *effort = cJSON_GetObjectItem(chat, "reasoning_effort");
        if (cases[i].effort)
            cr_expect(cJSON_IsString(effort) && strcmp(effort->valuestring, cases[i].effort) == 0,
                      "%s -> %s", cases[i].thinking, cases[i].effort);
        else
            cr_expect_null(effort, "%s", cases[i].thinking);
        cJSON_Delete(chat);
        cJSON_Delete(req);
    }
}

/* to_chat leaves the client's document alone. */
Test(fmt_anthropic, request_not_modified)
{
    cJSON *t = load_json(DATA "request/tool_round_trip.json");
    cJSON *in = cJSON_GetObjectItem(t, "in"), *copy = cJSON_Duplicate(in, 1), *chat = NULL;
    prov_error_t err = {0};
    cr_assert_eq(F->to_chat(in, &chat, &err), 0);
    cr_expect(cJSON_Compare(in, copy, true));
    cJSON_Delete(chat);
    cJSON_Delete(copy);
    cJSON_Delete(t);
}

/* ---- responses -------------------------------------------------------------------------- */

static void check_response(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, DATA "response/%s.json", name);
    cJSON *t = load_json(path);
    const char *model = cJSON_GetObjectItem(t, "model")->valuestring;
    buf_t out = {0};
    int rc = F->from_chat(cJSON_GetObjectItem(t, "in"), cJSON_GetObjectItem(t, "request"),
                          str_cstr(model), &out);
    cr_assert_eq(rc, 0, "%s", name);
    cJSON *got = cJSON_ParseWithLength(out.p, out.n);
    cr_assert_not_null(got, "%s: not JSON: %.*s", name, (int)out.n, out.p);
    expect_json(name, got, cJSON_GetObjectItem(t, "out"));
    cJSON_Delete(got);
    buf_free(&out);
    cJSON_Delete(t);
}

#define RESPONSE_TEST(name)                                                                        \
    Test(fmt_anthropic, response_##name)                                                           \
    {                                                                                              \
        check_response(#name);                                                                     \
    }

RESPONSE_TEST(text)
RESPONSE_TEST(tools)
RESPONSE_TEST(tools_finish_stop)
RESPONSE_TEST(thinking)
RESPONSE_TEST(thinking_blocks)
RESPONSE_TEST(stop_length)
RESPONSE_TEST(stop_content_filter)
RESPONSE_TEST(stop_sequence_named)
RESPONSE_TEST(stop_sequence_not_asked)
RESPONSE_TEST(usage_cache)
RESPONSE_TEST(usage_cache_creation)
RESPONSE_TEST(no_usage_empty)
RESPONSE_TEST(empty_string_content)
RESPONSE_TEST(id_kept)
RESPONSE_TEST(id_other)
RESPONSE_TEST(model_from_request)
RESPONSE_TEST(long_tool_name)
RESPONSE_TEST(content_parts)

/* The exact text, keys in Anthropic's order, for the plain case. */
Test(fmt_anthropic, response_exact_text)
{
    cJSON *t = load_json(DATA "response/text.json");
    buf_t out = {0};
    cr_assert_eq(F->from_chat(cJSON_GetObjectItem(t, "in"), NULL, STR_LIT("claude-test"), &out), 0);
    cr_expect_str_eq(buf_cstr(&out),
                     "{\"id\":\"msg_7q2\",\"type\":\"message\",\"role\":\"assistant\","
                     "\"model\":\"claude-test\",\"content\":[{\"type\":\"text\",\"text\":\"Hi "
                     "there.\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{"
                     "\"input_tokens\":5,\"cache_creation_input_tokens\":0,"
                     "\"cache_read_input_tokens\":0,\"output_tokens\":3}}");
    buf_free(&out);
    cJSON_Delete(t);
}

/* Ids the upstream does not give are minted: msg_ / toolu_ and 24 letters or digits. */
Test(fmt_anthropic, response_minted_ids)
{
    cJSON *resp = cJSON_Parse("{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{"
                              "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
                              "\"finish_reason\":\"tool_calls\"}]}");
    buf_t out = {0};
    cr_assert_eq(F->from_chat(resp, NULL, STR_LIT("m"), &out), 0);
    cJSON *got = cJSON_ParseWithLength(out.p, out.n);
    cr_assert_not_null(got);
    const char *id = cJSON_GetObjectItem(got, "id")->valuestring;
    cr_expect_eq(strlen(id), 4 + 24);
    cr_expect_eq(strncmp(id, "msg_", 4), 0, "%s", id);
    const cJSON *block = cJSON_GetArrayItem(cJSON_GetObjectItem(got, "content"), 0);
    const char *tid = cJSON_GetObjectItem(block, "id")->valuestring;
    cr_expect_eq(strlen(tid), 6 + 24);
    cr_expect_eq(strncmp(tid, "toolu_", 6), 0, "%s", tid);
    cJSON_Delete(got);
    buf_free(&out);
    cJSON_Delete(resp);
}

Test(fmt_anthropic, response_malformed)
{
    static const char *const bad[] = {"[]", "{}", "{\"choices\":[]}", "{\"choices\":[1]}",
                                      "{\"choices\":{}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *resp = cJSON_Parse(bad[i]);
        buf_t out = {0};
        cr_expect_eq(F->from_chat(resp, NULL, STR_LIT("m"), &out), -1, "%s", bad[i]);
        cr_expect_eq(out.n, 0, "%s", bad[i]);
        buf_free(&out);
        cJSON_Delete(resp);
    }
}

/* ---- streams ---------------------------------------------------------------------------- */

/* Feeds the chunks of stream/<name>.jsonl and returns everything written, stream_end included. */
static char *run_stream(const char *name, const cJSON *req)
{
    char path[256];
    snprintf(path, sizeof path, DATA "stream/%s.jsonl", name);
    char *lines = slurp(path, NULL);
    cr_assert_not_null(lines, "missing %s", path);
    api_stream_enc_t *e = F->stream_new(req, STR_LIT("claude-test"));
    cr_assert_not_null(e);
    buf_t out = {0};
    for (char *line = strtok(lines, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *chunk = cJSON_Parse(line);
        cr_assert_not_null(chunk, "%s: bad chunk %s", name, line);
        cr_assert_eq(F->stream_chunk(e, chunk, &out), 0, "%s: chunk %s", name, line);
        cJSON_Delete(chunk);
    }
    cr_assert_eq(F->stream_end(e, &out), 0);
    F->stream_free(e);
    free(lines);
    char *text = strndup(out.p ? out.p : "", out.n);
    buf_free(&out);
    return text;
}

static void check_stream(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, DATA "stream/%s.request.json", name);
    char *req_text = slurp(path, NULL);
    cJSON *req = req_text ? cJSON_Parse(req_text) : NULL;
    free(req_text);
    char *got = run_stream(name, req);
    snprintf(path, sizeof path, DATA "stream/%s.sse", name);
    char *want = slurp(path, NULL);
    cr_assert_not_null(want, "missing %s", path);
    cr_expect_str_eq(got, want, "%s:\n--- got\n%s--- want\n%s", name, got, want);
    free(want);
    free(got);
    cJSON_Delete(req);
}

#define STREAM_TEST(name)                                                                          \
    Test(fmt_anthropic, stream_##name)                                                             \
    {                                                                                              \
        check_stream(#name);                                                                       \
    }

STREAM_TEST(text)
STREAM_TEST(usage_final_chunk)
STREAM_TEST(usage_first_chunk)
STREAM_TEST(tool_fragments)
STREAM_TEST(text_two_tools)
STREAM_TEST(parallel_tools_one_delta)
STREAM_TEST(tools_without_index)
STREAM_TEST(tools_same_index)
STREAM_TEST(thinking_then_text)
STREAM_TEST(no_finish_reason)
STREAM_TEST(error_chunk)
STREAM_TEST(long_tool_name)
STREAM_TEST(stop_sequence_named)
STREAM_TEST(other_choices_ignored)
STREAM_TEST(escapes)

/* Every event is "event: <t>\ndata: <JSON whose type is t>\n\n". */
Test(fmt_anthropic, stream_events_are_framed)
{
    char *text = run_stream("text_two_tools", NULL);
    size_t events = 0;
    for (char *p = text; *p; events++) {
        cr_assert_eq(strncmp(p, "event: ", 7), 0, "at %s", p);
        char *nl = strchr(p, '\n');
        cr_assert_not_null(nl);
        char type[64];
        snprintf(type, sizeof type, "%.*s", (int)(nl - p - 7), p + 7);
        cr_assert_eq(strncmp(nl + 1, "data: ", 6), 0);
        char *end = strstr(nl + 1, "\n\n");
        cr_assert_not_null(end);
        cJSON *data = cJSON_ParseWithLength(nl + 7, (size_t)(end - nl - 7));
        cr_assert_not_null(data, "event %s: data is not JSON", type);
        cr_expect_str_eq(cJSON_GetObjectItem(data, "type")->valuestring, type);
        cJSON_Delete(data);
        p = end + 2;
    }
    cr_expect_eq(events, 15);
    free(text);
}

/* No chunks at all: still a whole message (minted id, no blocks, end_turn). */
Test(fmt_anthropic, stream_no_chunks)
{
    api_stream_enc_t *e = F->stream_new(NULL, STR_LIT("claude-test"));
    buf_t out = {0};
    cr_assert_eq(F->stream_end(e, &out), 0);
    const char *s = buf_cstr(&out);
    const char *prefix =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_";
    cr_expect_eq(strncmp(s, prefix, strlen(prefix)), 0, "%s", s);
    const char *rest = strstr(s, "\",\"type\":\"message\"");
    cr_assert_not_null(rest);
    cr_expect_eq((size_t)(rest - s), strlen(prefix) + 24);
    cr_expect_str_eq(
        rest, "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-test\","
              "\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{"
              "\"input_tokens\":0,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
              "\"output_tokens\":0}}}\n\n"
              "event: ping\ndata: {\"type\":\"ping\"}\n\n"
              "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
              "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":0}}\n\n"
              "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    /* a second stream_end, chunks after the end: nothing more */
    size_t n = out.n;
    cJSON *chunk = cJSON_Parse("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"late\"}}]}");
    cr_expect_eq(F->stream_chunk(e, chunk, &out), 0);
    cr_expect_eq(F->stream_end(e, &out), 0);
    F->stream_error(e, 500, "late", &out);
    cr_expect_eq(out.n, n);
    cJSON_Delete(chunk);
    buf_free(&out);
    F->stream_free(e);
}

/* The model comes from the request when the caller passes none. */
Test(fmt_anthropic, stream_model_from_request)
{
    cJSON *req = cJSON_Parse("{\"model\":\"from-req\"}");
    api_stream_enc_t *e = F->stream_new(req, STR_NULL);
    cJSON_Delete(req); /* the encoder keeps what it needs */
    buf_t out = {0};
    cJSON *chunk = cJSON_Parse("{\"id\":\"chatcmpl-x\",\"choices\":[]}");
    cr_assert_eq(F->stream_chunk(e, chunk, &out), 0);
    cr_expect_not_null(strstr(buf_cstr(&out), "\"id\":\"msg_x\",\"type\":\"message\","
                                              "\"role\":\"assistant\",\"model\":\"from-req\""));
    cJSON_Delete(chunk);
    buf_free(&out);
    F->stream_free(e);
}

/* A failure after some events: the error event, and nothing after it. */
Test(fmt_anthropic, stream_error_after_start)
{
    api_stream_enc_t *e = F->stream_new(NULL, STR_LIT("claude-test"));
    buf_t out = {0};
    cJSON *chunk = cJSON_Parse("{\"id\":\"chatcmpl-e\",\"choices\":[{\"index\":0,\"delta\":{"
                               "\"content\":\"Hi\"},\"finish_reason\":null}]}");
    cr_assert_eq(F->stream_chunk(e, chunk, &out), 0);
    size_t before = out.n;
    F->stream_error(e, 529, "Overloaded", &out);
    cr_expect_str_eq(buf_cstr(&out) + before,
                     "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
                     "\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n");
    size_t n = out.n;
    cr_expect_eq(F->stream_end(e, &out), 0);
    F->stream_error(e, 500, "again", &out);
    cr_expect_eq(out.n, n);
    cJSON_Delete(chunk);
    buf_free(&out);
    F->stream_free(e);
}

Test(fmt_anthropic, stream_error_types)
{
    static const struct {
        int status;
        const char *type;
    } cases[] = {{400, "invalid_request_error"},
                 {500, "api_error"},
                 {502, "api_error"},
                 {429, "rate_limit_error"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        api_stream_enc_t *e = F->stream_new(NULL, STR_LIT("m"));
        buf_t out = {0};
        F->stream_error(e, cases[i].status, "the provider's stream could not be decoded", &out);
        char want[256];
        snprintf(want, sizeof want,
                 "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":"
                 "\"the provider's stream could not be decoded\"}}\n\n",
                 cases[i].type);
        cr_expect_str_eq(buf_cstr(&out), want);
        buf_free(&out);
        F->stream_free(e);
    }
}

Test(fmt_anthropic, stream_chunk_not_object)
{
    api_stream_enc_t *e = F->stream_new(NULL, STR_LIT("m"));
    buf_t out = {0};
    cJSON *chunk = cJSON_Parse("[1]");
    cr_expect_eq(F->stream_chunk(e, chunk, &out), -1);
    cr_expect_eq(out.n, 0);
    cJSON_Delete(chunk);
    buf_free(&out);
    F->stream_free(e);
}

/* ---- error bodies ----------------------------------------------------------------------- */

Test(fmt_anthropic, error_bodies)
{
    static const struct {
        int status;
        const char *type;
    } cases[] = {
        {400, "invalid_request_error"},
        {401, "authentication_error"},
        {402, "billing_error"},
        {403, "permission_error"},
        {404, "not_found_error"},
        {413, "request_too_large"},
        {429, "rate_limit_error"},
        {500, "api_error"},
        {503, "api_error"},
        {504, "timeout_error"},
        {529, "overloaded_error"},
        {418, "api_error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_t out = {0};
        F->error_body(cases[i].status, "auth_error", "Authentication Error, \"bad\" key", &out);
        char want[256];
        snprintf(want, sizeof want,
                 "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":\"Authentication "
                 "Error, \\\"bad\\\" key\"}}",
                 cases[i].type);
        cr_expect_str_eq(buf_cstr(&out), want, "status %d", cases[i].status);
        buf_free(&out);
    }
    buf_t out = {0};
    F->error_body(500, NULL, NULL, &out);
    cr_expect_str_eq(buf_cstr(&out),
                     "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"\"}}");
    buf_free(&out);
}

/* ---- count_tokens ----------------------------------------------------------------------- */

static long long count(const char *body)
{
    cJSON *req = cJSON_Parse(body);
    cr_assert_not_null(req, "%s", body);
    long long n = -1;
    int rc = api_anthropic_count_tokens(req, &n);
    cJSON_Delete(req);
    return rc == 0 ? n : -1;
}

Test(fmt_anthropic, count_tokens_estimate)
{
    /* "Say hello" is 9 ASCII characters: 3 tokens, plus 3 for the message */
    cr_expect_eq(count("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Say "
                       "hello\"}]}"),
                 6);
    /* system "Be brief." (9) + "Hi" (2) = 11 -> 3, plus 3 */
    cr_expect_eq(count("{\"system\":[{\"type\":\"text\",\"text\":\"Be brief.\"}],\"messages\":[{"
                       "\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]}]}"),
                 6);
    /* an image is 1,600; four non-ASCII characters are 4 */
    cr_expect_eq(count("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\","
                       "\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":"
                       "\"AAAA\"}},{\"type\":\"text\",\"text\":\"日本語ね\"}]}]}"),
                 1600 + 4 + 3);
    /* tool definitions, tool_use input and tool_result text count as text:
     * "get_weather" 11 + "Weather" 7 + {"type":"object"} 17 + "get_weather" 11 +
     * {"city":"Oslo"} 15 + "sunny" 5 = 66 -> 17, plus 2 messages */
    cr_expect_eq(count("{\"tools\":[{\"name\":\"get_weather\",\"description\":\"Weather\","
                       "\"input_schema\":{\"type\":\"object\"}}],\"messages\":[{\"role\":"
                       "\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t\",\"name\":"
                       "\"get_weather\",\"input\":{\"city\":\"Oslo\"}}]},{\"role\":\"user\","
                       "\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t\",\"content\":"
                       "[{\"type\":\"text\",\"text\":\"sunny\"}]}]}]}"),
                 17 + 6);
    cr_expect_eq(count("{\"messages\":[]}"), 0);
}

Test(fmt_anthropic, count_tokens_invalid)
{
    cr_expect_eq(count("{\"model\":\"m\"}"), -1);
    cr_expect_eq(count("{\"messages\":\"hi\"}"), -1);
    cr_expect_eq(count("[]"), -1);
    long long n = 0;
    cr_expect_eq(api_anthropic_count_tokens(NULL, &n), -1);
}

/* A long conversation grows the estimate roughly with its text. */
Test(fmt_anthropic, count_tokens_scales)
{
    buf_t b = {0};
    buf_append_cstr(&b, "{\"messages\":[{\"role\":\"user\",\"content\":\"");
    for (int i = 0; i < 1000; i++)
        buf_append_cstr(&b, "abcd");
    buf_append_cstr(&b, "\"}]}");
    cr_expect_eq(count(buf_cstr(&b)), 1000 + 3);
    buf_free(&b);
}
