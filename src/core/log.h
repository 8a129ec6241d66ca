/* SPDX-License-Identifier: MIT
 * Logging to stderr, one write per line so lines from several threads never interleave.
 * LOG_DEBUG lines are compiled in and cost a branch when --detailed_debug is off. */
#ifndef SLUICE_CORE_LOG_H
#define SLUICE_CORE_LOG_H

#include <stdbool.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_ALERT } log_level_t;

extern log_level_t log_min_level;
extern bool log_json; /* litellm_settings.json_logs */

void log_msg(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_min_level <= LOG_DEBUG)                                                            \
            log_msg(LOG_DEBUG, __VA_ARGS__);                                                       \
    } while (0)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
/* alert: a bug or lost data; tests fail when one is printed */
#define log_alert(...) log_msg(LOG_ALERT, __VA_ARGS__)

#endif
