/* SPDX-License-Identifier: MIT
 * The OpenAI chat format as a client format: the identity, for OpenAI clients whose deployment
 * is a native provider. Chunks are framed as `data: {...}` and the stream ends with [DONE]. */
#include <stdlib.h>

#include "api/format.h"

struct api_stream_enc {
    int unused;
};

static int openai_to_chat(const cJSON *client_req, cJSON **chat_req, prov_error_t *err)
{
    *chat_req = cJSON_Duplicate(client_req, 1);
    return *chat_req ? 0 : prov_fail(err, 500, NULL, "out of memory");
}

static int openai_from_chat(const cJSON *chat_resp, const cJSON *client_req, str_t model,
                            buf_t *out)
{
    char *text = cJSON_PrintUnformatted(chat_resp);
    if (!text)
        return -1;
    int r = buf_append_cstr(out, text);
    free(text);
    return r;
}

static api_stream_enc_t *openai_stream_new(const cJSON *client_req, str_t model)
{
    return calloc(1, sizeof(api_stream_enc_t));
}

static int openai_stream_chunk(api_stream_enc_t *e, const cJSON *chunk, buf_t *out)
{
    char *text = cJSON_PrintUnformatted(chunk);
    if (!text)
        return -1;
    buf_append(out, "data: ", 6);
    buf_append_cstr(out, text);
    free(text);
    return buf_append(out, "\n\n", 2);
}

static int openai_stream_end(api_stream_enc_t *e, buf_t *out)
{
    return buf_append_cstr(out, "data: [DONE]\n\n");
}

static void openai_error_body(int status, const char *type, const char *message, buf_t *out)
{
    buf_append_cstr(out, "{\"error\":{\"message\":");
    buf_append_json_string(out, str_cstr(message));
    buf_append_cstr(out, ",\"type\":");
    buf_append_json_string(out, str_cstr(type ? type : "internal_server_error"));
    buf_printf(out, ",\"param\":null,\"code\":\"%d\"}}", status);
}

static void openai_stream_error(api_stream_enc_t *e, int status, const char *message, buf_t *out)
{
    buf_append_cstr(out, "data: ");
    openai_error_body(status, status >= 500 ? "internal_server_error" : "invalid_request_error",
                      message, out);
    buf_append(out, "\n\n", 2);
}

static void openai_stream_free(api_stream_enc_t *e)
{
    free(e);
}

const api_format_t api_format_openai = {
    .name = "openai",
    .to_chat = openai_to_chat,
    .from_chat = openai_from_chat,
    .stream_new = openai_stream_new,
    .stream_chunk = openai_stream_chunk,
    .stream_end = openai_stream_end,
    .stream_error = openai_stream_error,
    .stream_free = openai_stream_free,
    .error_body = openai_error_body,
};
