/* log.h - logging to stderr: "LEVEL module: message". */
#ifndef CHATDESK_LOG_H
#define CHATDESK_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Messages above level are dropped. Default: LOG_INFO. */
void log_set_level(int level);

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(m, ...) log_msg(LOG_ERROR, m, __VA_ARGS__)
#define log_warn(m, ...) log_msg(LOG_WARN, m, __VA_ARGS__)
#define log_info(m, ...) log_msg(LOG_INFO, m, __VA_ARGS__)
#define log_debug(m, ...) log_msg(LOG_DEBUG, m, __VA_ARGS__)

#endif
