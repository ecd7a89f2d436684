/* ctl.c - what the files of chatdeskctl share; see ctl.h */
#include "ctl/ctl.h"

#include <stdarg.h>
#include <stdio.h>

void ctl_err(const char *fmt, ...)
{
    va_list ap;
    fputs("chatdeskctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
