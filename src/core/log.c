/* SPDX-License-Identifier: MIT */
#include "core/log.h"
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

log_level_t log_min_level = LOG_INFO;
bool log_json = false;

static const char *const level_names[] = {"debug", "info", "warn", "error", "alert"};

void log_msg(log_level_t level, const char *fmt, ...)
{
    if (level < log_min_level)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[80];
    snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);

    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t mlen = (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;

    char line[2600];
    buf_t b = {line, 0, sizeof line}; /* stack storage; never grows past cap */
    if (log_json) {
        int k = snprintf(line, sizeof line,
                         "{\"timestamp\":\"%s\",\"level\":\"%s\",\"message\":", stamp,
                         level_names[level]);
        b.n = (size_t)k;
        /* escaping may want more than the stack line; fall back to plain on overflow */
        buf_t heap = {0};
        buf_append(&heap, line, b.n);
        buf_append_json_string(&heap, str_make(msg, mlen));
        buf_append(&heap, "}\n", 2);
        if (heap.p)
            (void)!write(STDERR_FILENO, heap.p, heap.n);
        buf_free(&heap);
        return;
    }
    int k =
        snprintf(line, sizeof line, "%s [%s] %.*s\n", stamp, level_names[level], (int)mlen, msg);
    if (k > 0)
        (void)!write(STDERR_FILENO, line, (size_t)k < sizeof line ? (size_t)k : sizeof line - 1);
}
