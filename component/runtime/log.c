/* log.c - see log.h */
#include "runtime/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static int log__level = LOG_INFO;

void log_set_level(int level)
{
    log__level = level;
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if ((int)level > log__level)
        return;
    char stamp[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %s %s: ", stamp, ts.tv_nsec / 1000000L,
            names[level], module);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
