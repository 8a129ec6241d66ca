/* SPDX-License-Identifier: MIT
 * fmt_responses: the Responses client format. Golden files in tests/data/fmt_responses/ pin the
 * request conversion (req_*.in.json -> req_*.out.json), whole answers (resp_*.chat.json and
 * the optional resp_*.req.json -> resp_*.out.json) and streams (stream_*.chunks, one chunk a
 * line, -> stream_*.sse, exact bytes; stream_*.fail holds status and message to end with
 * stream_error instead of stream_end). completed_at is the clock, so it is compared as 0. The
 * goldens were checked against OpenAI's spec with validate.py in that directory. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/format.h"

#define DATA "tests/data/fmt_responses/"

static const api_format_t *F = &api_format_responses;

/* A data file's bytes, NUL-terminated (caller frees), or NULL when it does not exist. */
static char *read_data(const char *name, const char *ext)
{
    char path[256];
    snprintf(path, sizeof path, DATA "%s%s", name, ext);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    cr_assert(p);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = 0;
    fclose(f);
    return p;
}

static cJSON *load_json(const char *name, const char *ext, bool required)
{
    char *text = read_data(name, ext);
    if (!text) {
        cr_assert(!required, "missing %s%s", name, ext);
        return NULL;
    }
    cJSON *doc = cJSON_Parse(text);
    cr_assert(doc, "%s%s is not JSON", name, ext);
    free(text);
    return doc;
}

static char *compact(const cJSON *doc)
{
    char *s = cJSON_PrintUnformatted(doc);
    cr_assert(s);
    return s;
}

/* Rewrites every "completed_at":<digits> as "completed_at":0, in place. */
static void zero_completed_at(char *s)
{
    static const char key[] = "\"completed_at\":";
    char *p = s;
    while ((p = strstr(p, key))) {
        p += sizeof key - 1;
        if (*p < '0' || *p > '9')
            continue;
        char *end = p;
        while (*end >= '0' && *end <= '9')
            end++;
        *p = '0';
        memmove(p + 1, end, strlen(end) + 1);
    }
}

static const char *model_of(const cJSON *req)
{
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "model"));
    return m ? m : "";
}

/* ---- request conversion ---------------------------------------------------------------- */

static void check_request(const char *name)
{
    cJSON *in = load_json(name, ".in.json", true), *want = load_json(name, ".out.json", true);
    cJSON *chat = NULL;
    prov_error_t err = {0};
    cr_assert_eq(F->to_chat(in, &chat, &err), 0, "%s: %s", name, err.message);
    char *got = compact(chat), *exp = compact(want);
    cr_expect_str_eq(got, exp, "%s", name);
    free(got);
    free(exp);
    cJSON_Delete(in);
    cJSON_Delete(want);
    cJSON_Delete(chat);
}

Test(fmt_responses, request_string_input)
{
    check_request("req_string_input"); /* metadata, store and truncation are dropped */
}

Test(fmt_responses, request_instructions_and_roles)
{
    check_request("req_instructions"); /* developer -> system, stream asks for usage */
}

Test(fmt_responses, request_images_and_files)
{
    check_request("req_images");
}

Test(fmt_responses, request_function_call_round_trip)
{
    check_request("req_tool_round_trip"); /* text + calls merge into one assistant turn */
}

Test(fmt_responses, request_text_format_json_schema)
{
    check_request("req_text_format");
}

Test(fmt_responses, request_text_format_json_object)
{
    check_request("req_json_object");
}

Test(fmt_responses, request_custom_tools_allowed_tools_web_search)
{
    check_request("req_custom_tools");
}

/* Converts an inline request; returns the chat request as compact text (caller frees). */
static char *convert(const char *json)
{
    cJSON *in = cJSON_Parse(json), *chat = NULL;
    cr_assert(in, "bad test JSON: %s", json);
    prov_error_t err = {0};
    cr_assert_eq(F->to_chat(in, &chat, &err), 0, "%s", err.message);
    char *s = compact(chat);
    cJSON_Delete(in);
    cJSON_Delete(chat);
    return s;
}

Test(fmt_responses, request_assistant_runs)
{
    /* an echoed empty assistant message disappears; a call after text joins that turn; a
     * message after calls (no tool results between) joins it too */
    char *s = convert("{\"input\":[{\"role\":\"user\",\"content\":\"a\"},"
                      "{\"type\":\"message\",\"role\":\"assistant\",\"content\":[]},"
                      "{\"role\":\"user\",\"content\":\"b\"},"
                      "{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":\"f\","
                      "\"arguments\":{\"x\":1}},"
                      "{\"role\":\"assistant\",\"content\":\"then\"},"
                      "{\"type\":\"function_call_output\",\"call_id\":\"c1\",\"output\":\"ok\"}]}");
    cr_expect_str_eq(s, "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
                        "{\"role\":\"user\",\"content\":\"b\"},"
                        "{\"role\":\"assistant\",\"content\":\"then\",\"tool_calls\":[{\"id\":"
                        "\"c1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":"
                        "\"{\\\"x\\\":1}\"}}]},"
                        "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"ok\"}]}");
    free(s);
}

Test(fmt_responses, request_consecutive_assistant_messages_join)
{
    char *s = convert("{\"input\":[{\"role\":\"user\",\"content\":\"q\"},"
                      "{\"role\":\"assistant\",\"content\":\"one\"},"
                      "{\"type\":\"reasoning\",\"summary\":[]},"
                      "{\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
                      "\"text\":\"two\"},{\"type\":\"refusal\",\"refusal\":\"no\"}]}]}");
    cr_expect_str_eq(s, "{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},"
                        "{\"role\":\"assistant\",\"content\":\"one\\ntwo\\nno\"}]}");
    free(s);
}

Test(fmt_responses, request_stream_false_and_nulls)
{
    char *s = convert("{\"model\":\"m\",\"input\":\"hi\",\"stream\":false,\"temperature\":null,"
                      "\"instructions\":null,\"tools\":null,\"tool_choice\":null,\"text\":null,"
                      "\"reasoning\":null,\"previous_response_id\":null,\"background\":false}");
    cr_expect_str_eq(s, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                        "\"stream\":false}");
    free(s);
}

Test(fmt_responses, request_tool_choice_forms)
{
    char *s = convert("{\"input\":\"x\",\"tool_choice\":{\"type\":\"required\"}}");
    cr_expect(strstr(s, "\"tool_choice\":\"required\""), "%s", s);
    free(s);
    s = convert("{\"input\":\"x\",\"tools\":[{\"type\":\"custom\",\"name\":\"p\"}],"
                "\"tool_choice\":{\"type\":\"custom\",\"name\":\"p\"}}");
    cr_expect(strstr(s, "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"p\"}}"),
              "%s", s);
    cr_expect(strstr(s, "\"description\":\"The tool's input, as free-form text.\""), "%s", s);
    free(s);
    /* allowed_tools that leaves nothing: no tools key at all */
    s = convert("{\"input\":\"x\",\"tools\":[{\"type\":\"function\",\"name\":\"f\"}],"
                "\"tool_choice\":{\"type\":\"allowed_tools\",\"mode\":\"auto\",\"tools\":[]}}");
    cr_expect(!strstr(s, "\"tools\""), "%s", s);
    cr_expect(strstr(s, "\"tool_choice\":\"auto\""), "%s", s);
    free(s);
}

/* ---- request errors ------------------------------------------------------------------- */

static void check_refused(const char *json, const char *param, const char *message_part)
{
    cJSON *in = cJSON_Parse(json), *chat = (cJSON *)1;
    cr_assert(in || !strcmp(json, "null"), "bad test JSON: %s", json);
    prov_error_t err = {0};
    cr_expect_eq(F->to_chat(in, &chat, &err), -1, "%s", json);
    cr_expect_null(chat, "%s", json);
    cr_expect_eq(err.status, 400, "%s", json);
    if (param)
        cr_expect_str_eq(err.param ? err.param : "(null)", param, "%s", json);
    cr_expect(strstr(err.message, message_part), "%s: got \"%s\"", json, err.message);
    cJSON_Delete(in);
}

Test(fmt_responses, request_refusals)
{
    check_refused("[1]", NULL, "must be a JSON object");
    check_refused("{\"input\":\"x\",\"previous_response_id\":\"resp_1\"}", "previous_response_id",
                  "previous_response_id is not supported for non-OpenAI deployments");
    check_refused("{\"input\":\"x\",\"conversation\":\"conv_1\"}", "conversation",
                  "send the whole conversation in `input`");
    check_refused("{\"input\":\"x\",\"prompt\":{\"id\":\"pmpt_1\"}}", "prompt",
                  "send its text as instructions and input");
    check_refused("{\"input\":\"x\",\"background\":true}", "background", "background");
    check_refused("{\"model\":\"m\"}", "input", "input is required");
    check_refused("{\"input\":[]}", "input", "input is required");
    check_refused("{\"input\":42}", "input", "input must be a string or a list of items");
    check_refused("{\"input\":[\"hi\"]}", "input", "input[0] must be an object");
    check_refused("{\"input\":[{\"content\":\"hi\"}]}", "input", "input[0].role is required");
    check_refused("{\"input\":[{\"role\":\"tool\",\"content\":\"hi\"}]}", "input",
                  "input[0].role 'tool' is not supported");
    check_refused("{\"input\":[{\"role\":\"user\"}]}", "input",
                  "input[0].content must be a string or a list of content parts");
    check_refused("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\"}]}]}",
                  "input", "input[0].content[0]: content type 'input_audio' is not supported");
    check_refused("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\","
                  "\"file_id\":\"file-1\"}]}]}",
                  "input", "send image_url");
    check_refused("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_file\","
                  "\"file_url\":\"https://x/a.pdf\"}]}]}",
                  "input", "send the file as file_data");
    check_refused("{\"input\":[{\"role\":\"system\",\"content\":[{\"type\":\"input_image\","
                  "\"image_url\":\"https://x/a.png\"}]}]}",
                  "input", "input[0].content[0]: only text can go here");
    check_refused("{\"input\":[{\"type\":\"function_call\",\"name\":\"f\"}]}", "input",
                  "input[0]: a function_call item needs call_id and name");
    check_refused("{\"input\":[{\"type\":\"function_call_output\",\"output\":\"x\"}]}", "input",
                  "input[0]: a function_call_output item needs call_id");
    check_refused("{\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c\",\"output\":"
                  "[{\"type\":\"input_image\",\"image_url\":\"https://x/a.png\"}]}]}",
                  "input", "input[0].output[0]: only text can go here");
    check_refused("{\"input\":[{\"type\":\"item_reference\",\"id\":\"msg_1\"}]}", "input",
                  "item_reference (to 'msg_1') needs stored responses");
    check_refused("{\"input\":[{\"type\":\"computer_call\",\"call_id\":\"c\"}]}", "input",
                  "input[0]: item type 'computer_call' is not supported");
    check_refused("{\"input\":[{\"type\":7}]}", "input", "input[0].type must be a string");
    check_refused("{\"input\":\"x\",\"instructions\":[\"a\"]}", "instructions",
                  "instructions must be a string");
    check_refused("{\"input\":\"x\",\"tools\":{}}", "tools", "tools must be a list");
    check_refused("{\"input\":\"x\",\"tools\":[{\"type\":\"file_search\"}]}", "tools",
                  "tools[0]: the built-in tool 'file_search' is not available");
    check_refused("{\"input\":\"x\",\"tools\":[{\"type\":\"function\"}]}", "tools",
                  "tools[0].name is required");
    check_refused("{\"input\":\"x\",\"tools\":[{\"type\":\"function\",\"name\":\"f\","
                  "\"parameters\":[]}]}",
                  "tools", "tools[0].parameters must be an object");
    check_refused("{\"input\":\"x\",\"tools\":[{\"name\":\"f\"}]}", "tools",
                  "tools[0] must be an object with a type");
    check_refused("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_text\"}]}]}",
                  "input", "input[0].content[0] has no text");
    check_refused("{\"input\":[{\"role\":\"system\",\"content\":[{\"type\":\"input_text\"}]}]}",
                  "input", "input[0].content[0] has no text");
    check_refused("{\"input\":[{\"role\":\"assistant\",\"content\":7}]}", "input",
                  "input[0].content must be a string or a list of content parts");
    check_refused("{\"input\":\"x\",\"tool_choice\":{\"type\":\"allowed_tools\",\"tools\":7}}",
                  "tool_choice", "tool_choice.tools must be a list");
    check_refused("{\"input\":\"x\",\"tool_choice\":\"any\"}", "tool_choice",
                  "tool_choice must be auto, none, required or an object");
    check_refused("{\"input\":\"x\",\"tool_choice\":{\"type\":\"file_search\"}}", "tool_choice",
                  "tool_choice type 'file_search' is not supported");
    check_refused("{\"input\":\"x\",\"tool_choice\":{\"type\":\"function\"}}", "tool_choice",
                  "tool_choice.name is required");
    check_refused("{\"input\":\"x\",\"tool_choice\":{\"type\":\"allowed_tools\",\"mode\":"
                  "\"none\",\"tools\":[]}}",
                  "tool_choice", "tool_choice.mode must be auto or required");
    check_refused("{\"input\":\"x\",\"text\":{\"format\":{\"type\":\"xml\"}}}", "text",
                  "text.format.type must be text, json_object or json_schema");
    check_refused("{\"input\":\"x\",\"temperature\":\"hot\"}", "temperature",
                  "temperature must be a number");
    check_refused("{\"input\":\"x\",\"max_output_tokens\":\"9\"}", "max_output_tokens",
                  "max_output_tokens must be a number");
}

/* ---- whole answers ------------------------------------------------------------------- */

static char *answer(const cJSON *chat, const cJSON *req, const char *model)
{
    buf_t out = {0};
    cr_assert_eq(F->from_chat(chat, req, str_cstr(model), &out), 0);
    char *s = strndup(out.p, out.n);
    buf_free(&out);
    cr_assert(s);
    zero_completed_at(s);
    return s;
}

static void check_response(const char *name)
{
    cJSON *chat = load_json(name, ".chat.json", true), *req = load_json(name, ".req.json", false);
    cJSON *want = load_json(name, ".out.json", true);
    char *got = answer(chat, req, model_of(req)), *exp = compact(want);
    cr_expect_str_eq(got, exp, "%s", name);
    cJSON *doc = cJSON_Parse(got);
    cr_expect(doc, "%s: output is not JSON", name);
    cJSON_Delete(doc);
    free(got);
    free(exp);
    cJSON_Delete(chat);
    cJSON_Delete(req);
    cJSON_Delete(want);
}

Test(fmt_responses, response_text_echoes_request)
{
    check_response("resp_text");
}

Test(fmt_responses, response_tool_calls_and_custom_tool)
{
    check_response("resp_tools"); /* cached tokens too */
}

Test(fmt_responses, response_reasoning_summary)
{
    check_response("resp_reasoning"); /* reasoning tokens, text.format echoed */
}

Test(fmt_responses, response_length_is_incomplete)
{
    check_response("resp_length"); /* no request: model falls back to the chat answer's */
}

Test(fmt_responses, response_refusal_content_filter)
{
    check_response("resp_refusal"); /* no usage: null */
}

Test(fmt_responses, response_odd_answers)
{
    /* no choices at all: an empty message; usage fields missing or null count as 0 */
    cJSON *chat = cJSON_Parse("{\"id\":\"x!y\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,"
                              "\"total_tokens\":null,\"cache_creation_input_tokens\":2}}");
    char *s = answer(chat, NULL, "m");
    cr_expect(strstr(s, "\"id\":\"resp_xy\""), "%s", s);
    cr_expect(strstr(s, "\"output\":[{\"type\":\"message\",\"id\":\"msg_xy\",\"status\":"
                        "\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":"
                        "\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"\"}]}]"),
              "%s", s);
    cr_expect(strstr(s, "\"usage\":{\"input_tokens\":3,\"input_tokens_details\":{\"cached_tokens\":"
                        "0,\"cache_write_tokens\":2},\"output_tokens\":0,\"output_tokens_details\":"
                        "{\"reasoning_tokens\":0},\"total_tokens\":3}"),
              "%s", s);
    free(s);
    cJSON_Delete(chat);

    /* content as parts; a custom call whose arguments are not the wrapper; a call without id */
    chat = cJSON_Parse("{\"id\":\"chatcmpl-q\",\"created\":5,\"choices\":[{\"message\":{"
                       "\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\","
                       "\"text\":\"b\"}],\"tool_calls\":[{\"function\":{\"name\":\"p\","
                       "\"arguments\":\"raw patch\"}}]},\"finish_reason\":\"tool_calls\"}]}");
    cJSON *req = cJSON_Parse("{\"tools\":[{\"type\":\"custom\",\"name\":\"p\"}]}");
    s = answer(chat, req, "m");
    cr_expect(strstr(s, "\"text\":\"ab\""), "%s", s);
    cr_expect(strstr(s, "{\"type\":\"custom_tool_call\",\"id\":\"ctc_q_0\",\"call_id\":"
                        "\"call_q_0\",\"name\":\"p\",\"input\":\"raw patch\"}"),
              "%s", s);
    cr_expect(strstr(s, "\"created_at\":5,"), "%s", s);
    free(s);
    cJSON_Delete(chat);
    cJSON_Delete(req);
}

Test(fmt_responses, response_ids_are_random_without_a_chat_id)
{
    cJSON *chat = cJSON_Parse("{\"choices\":[{\"message\":{\"content\":\"hi\"}}]}");
    char *a = answer(chat, NULL, "m"), *b = answer(chat, NULL, "m");
    cr_expect(strncmp(a, "{\"id\":\"resp_", 12) == 0, "%s", a);
    cr_expect(strncmp(a, b, 40) != 0, "%s vs %s", a, b);
    free(a);
    free(b);
    cJSON_Delete(chat);
}

/* ---- streams ----------------------------------------------------------------------- */

/* Checks the framing of a Responses stream: each event is one `event:` line naming data.type
 * and one `data:` line of JSON, sequence numbers count from 0, and the first event is
 * response.created. */
static void check_framing(const char *sse)
{
    long seq = 0;
    const char *p = sse;
    while (*p) {
        const char *end = strstr(p, "\n\n");
        cr_assert(end, "unterminated event at %ld", seq);
        cr_assert(strncmp(p, "event: ", 7) == 0, "event %ld has no event line", seq);
        const char *nl = strchr(p, '\n');
        cr_assert(strncmp(nl + 1, "data: ", 6) == 0 && strchr(nl + 1, '\n') == end,
                  "event %ld is not one data line", seq);
        char *type = strndup(p + 7, (size_t)(nl - p - 7));
        cJSON *data = cJSON_ParseWithLength(nl + 7, (size_t)(end - nl - 7));
        cr_assert(data, "event %ld: data is not JSON", seq);
        cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(data, "type")), type);
        cr_expect_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(data, "sequence_number")),
                     (double)seq);
        if (seq == 0)
            cr_expect_str_eq(type, "response.created");
        free(type);
        cJSON_Delete(data);
        seq++;
        p = end + 2;
    }
}

/* Runs chunk lines through a stream encoder; `fail_status` > 0 ends with stream_error. */
static char *run_stream(const cJSON *req, const char *model, const char *chunks, int fail_status,
                        const char *fail_message)
{
    api_stream_enc_t *e = F->stream_new(req, str_cstr(model));
    cr_assert(e);
    buf_t out = {0};
    char *copy = strdup(chunks ? chunks : ""), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *chunk = cJSON_Parse(line);
        cr_assert(chunk, "bad chunk: %s", line);
        cr_expect_eq(F->stream_chunk(e, chunk, &out), 0);
        cJSON_Delete(chunk);
    }
    free(copy);
    if (fail_status)
        F->stream_error(e, fail_status, fail_message, &out);
    else
        cr_expect_eq(F->stream_end(e, &out), 0);
    F->stream_free(e);
    char *s = strndup(out.p ? out.p : "", out.n);
    buf_free(&out);
    cr_assert(s);
    zero_completed_at(s);
    check_framing(s);
    return s;
}

static void check_stream(const char *name)
{
    char *chunks = read_data(name, ".chunks"), *want = read_data(name, ".sse");
    char *fail = read_data(name, ".fail");
    cr_assert(chunks && want, "missing %s.chunks or .sse", name);
    cJSON *req = load_json(name, ".req.json", false);
    int status = 0;
    const char *message = NULL;
    if (fail) { /* "<status>\n<message>\n" */
        status = atoi(fail);
        message = strchr(fail, '\n') + 1;
        fail[strlen(fail) - 1] = 0;
    }
    char *got = run_stream(req, model_of(req), chunks, status, message);
    cr_expect_str_eq(got, want, "%s", name);
    free(got);
    free(chunks);
    free(want);
    free(fail);
    cJSON_Delete(req);
}

Test(fmt_responses, stream_text)
{
    check_stream("stream_text");
}

Test(fmt_responses, stream_tool_calls)
{
    check_stream("stream_tools");
}

Test(fmt_responses, stream_reasoning_then_text)
{
    check_stream("stream_reasoning");
}

Test(fmt_responses, stream_length_is_incomplete)
{
    check_stream("stream_length");
}

Test(fmt_responses, stream_empty_answer)
{
    check_stream("stream_empty");
}

Test(fmt_responses, stream_custom_tool_call)
{
    check_stream("stream_custom");
}

Test(fmt_responses, stream_error_mid_answer)
{
    check_stream("stream_error");
}

#define CHUNK "{\"id\":\"chatcmpl-k\",\"created\":7,\"model\":\"up\",\"choices\":[{\"index\":0,"

/* Event types in order, one a line, for compact expectations. */
static char *event_types(const char *sse)
{
    buf_t b = {0};
    for (const char *p = sse; (p = strstr(p, "event: ")); p += 7) {
        const char *nl = strchr(p, '\n');
        buf_append(&b, p + 7, (size_t)(nl - p - 7));
        buf_append(&b, "\n", 1);
    }
    char *s = strndup(b.p ? b.p : "", b.n);
    buf_free(&b);
    return s;
}

Test(fmt_responses, stream_error_before_any_chunk)
{
    char *s = run_stream(NULL, "m", NULL, 429, "litellm.RateLimitError: slow down");
    char *types = event_types(s);
    cr_expect_str_eq(types, "response.created\nresponse.in_progress\nerror\nresponse.failed\n");
    cr_expect(strstr(s, "\"code\":\"rate_limit_exceeded\",\"message\":\"litellm.RateLimitError: "
                        "slow down\",\"param\":null}"),
              "%s", s);
    cr_expect(strstr(s, "\"status\":\"failed\",\"background\":false,\"completed_at\":null,"
                        "\"error\":{\"code\":\"rate_limit_exceeded\",\"message\":"),
              "%s", s);
    free(types);
    free(s);
    s = run_stream(NULL, "m", NULL, 400, NULL);
    cr_expect(strstr(s, "\"code\":\"invalid_prompt\",\"message\":\"the stream failed\""), "%s", s);
    free(s);
}

Test(fmt_responses, stream_end_without_chunks)
{
    char *s = run_stream(NULL, "m", NULL, 0, NULL);
    char *types = event_types(s);
    cr_expect_str_eq(types, "response.created\nresponse.in_progress\nresponse.output_item.added\n"
                            "response.content_part.added\nresponse.output_text.done\n"
                            "response.content_part.done\nresponse.output_item.done\n"
                            "response.completed\n");
    free(types);
    free(s);
}

Test(fmt_responses, stream_nothing_after_the_end)
{
    api_stream_enc_t *e = F->stream_new(NULL, str_cstr("m"));
    buf_t out = {0};
    cr_expect_eq(F->stream_end(e, &out), 0);
    size_t n = out.n;
    cJSON *chunk = cJSON_Parse(CHUNK "\"delta\":{\"content\":\"late\"}}]}");
    cr_expect_eq(F->stream_chunk(e, chunk, &out), 0);
    cr_expect_eq(F->stream_end(e, &out), 0);
    F->stream_error(e, 500, "late", &out);
    cr_expect_eq(out.n, n);
    cJSON_Delete(chunk);
    buf_free(&out);
    F->stream_free(e);
}

Test(fmt_responses, stream_text_after_tool_call_is_a_new_message)
{
    char *s = run_stream(
        NULL, "", /* no model from the client: the chunk's names the response */
        CHUNK "\"delta\":{\"content\":\"A\"},\"finish_reason\":null}]}\n" CHUNK
              "\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"function\":{\"name\":"
              "\"f\",\"arguments\":\"{}\"}}]},\"finish_reason\":null}]}\n" CHUNK
              "\"delta\":{\"content\":\"B\"},\"finish_reason\":null}]}\n" CHUNK
              "\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n",
        0, NULL);
    cr_expect(strstr(s, "\"model\":\"up\""), "%s", s);
    cr_expect(strstr(s, "\"output\":[{\"type\":\"message\",\"id\":\"msg_k\","), "%s", s);
    cr_expect(strstr(s, "{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"call_1\""), "%s",
              s);
    cr_expect(strstr(s, "{\"type\":\"message\",\"id\":\"msg_k_2\",\"status\":\"completed\","
                        "\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
                        "\"annotations\":[],\"logprobs\":[],\"text\":\"B\"}]}]"),
              "%s", s);
    free(s);
}

Test(fmt_responses, stream_interleaved_parallel_calls)
{
    /* arguments of two calls arrive interleaved; each ends up whole in its own item */
    char *s = run_stream(
        NULL, "m",
        CHUNK
        "\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"function\":{\"name\":"
        "\"f\",\"arguments\":\"{\\\"a\\\":\"}},{\"index\":1,\"id\":\"call_b\",\"function\":"
        "{\"name\":\"g\",\"arguments\":\"{\\\"b\\\":\"}}]},\"finish_reason\":null}]}\n" CHUNK
        "\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"2}\"}},"
        "{\"index\":0,\"function\":{\"arguments\":\"1}\"}}]},\"finish_reason\":null}]}\n" CHUNK
        "\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n",
        0, NULL);
    cr_expect(strstr(s, "\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\",\"status\":\"completed\""),
              "%s", s);
    cr_expect(strstr(s, "\"name\":\"g\",\"arguments\":\"{\\\"b\\\":2}\",\"status\":\"completed\""),
              "%s", s);
    free(s);
}

Test(fmt_responses, stream_ignores_other_choices_and_takes_late_usage)
{
    char *s = run_stream(
        NULL, "m",
        "{\"id\":\"chatcmpl-k\",\"choices\":[{\"index\":1,\"delta\":{\"content\":\"other\"}},"
        "{\"index\":0,\"delta\":{\"content\":\"mine\"}}]}\n" CHUNK
        "\"delta\":{},\"finish_reason\":\"stop\"}]}\n" CHUNK
        "\"delta\":{\"content\":\"after finish\"}}]}\n"
        "{\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n",
        0, NULL);
    cr_expect(!strstr(s, "other") && !strstr(s, "after finish"), "%s", s);
    cr_expect(strstr(s, "\"text\":\"mine\""), "%s", s);
    cr_expect(strstr(s, "\"output_tokens\":2,\"output_tokens_details\":{\"reasoning_tokens\":0},"
                        "\"total_tokens\":3}"),
              "%s", s);
    free(s);
}

Test(fmt_responses, stream_reasoning_after_text_and_late_tool_name)
{
    char *s = run_stream(
        NULL, "m",
        CHUNK "\"delta\":{\"content\":\"A\"},\"finish_reason\":null}]}\n" CHUNK
              "\"delta\":{\"reasoning_content\":\"hmm\"},\"finish_reason\":null}]}\n" CHUNK
              "\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_z\",\"function\":"
              "{\"arguments\":\"{}\"}}]},\"finish_reason\":null}]}\n" CHUNK
              "\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"name\":\"late\"}}]},"
              "\"finish_reason\":null}]}\n" CHUNK
              "\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":4,"
              "\"completion_tokens\":1,\"prompt_tokens_details\":{\"cached_tokens\":1,"
              "\"cache_write_tokens\":2}}}\n",
        0, NULL);
    char *types = event_types(s);
    cr_expect(strstr(types, "response.output_text.delta\nresponse.output_text.done\n"
                            "response.content_part.done\nresponse.output_item.done\n"
                            "response.output_item.added\nresponse.reasoning_summary_part.added\n"),
              "%s", types);
    cr_expect(strstr(s, "{\"type\":\"reasoning\",\"id\":\"rs_k\",\"summary\":[{\"type\":"
                        "\"summary_text\",\"text\":\"hmm\"}]}"),
              "%s", s);
    cr_expect(strstr(s, "\"item_id\":\"fc_z\",\"output_index\":2,\"name\":\"late\","
                        "\"arguments\":\"{}\"}"),
              "%s", s);
    cr_expect(strstr(s, "\"input_tokens_details\":{\"cached_tokens\":1,\"cache_write_tokens\":2}"),
              "%s", s);
    free(types);
    free(s);
}

/* ---- error bodies ------------------------------------------------------------------ */

Test(fmt_responses, error_body)
{
    buf_t b = {0};
    F->error_body(429, "throttling_error", "Rate limit \"x\"\n", &b);
    cr_expect_eq(b.n, strlen("{\"error\":{\"message\":\"Rate limit \\\"x\\\"\\n\",\"type\":"
                             "\"throttling_error\",\"param\":null,\"code\":\"429\"}}"));
    cr_expect(strncmp(b.p,
                      "{\"error\":{\"message\":\"Rate limit \\\"x\\\"\\n\",\"type\":"
                      "\"throttling_error\",\"param\":null,\"code\":\"429\"}}",
                      b.n) == 0);
    b.n = 0;
    F->error_body(500, NULL, NULL, &b);
    cr_expect_str_eq(buf_cstr(&b),
                     "{\"error\":{\"message\":\"\",\"type\":\"internal_server_error\","
                     "\"param\":null,\"code\":\"500\"}}");
    buf_free(&b);
    cr_expect_str_eq(F->name, "responses");
}
