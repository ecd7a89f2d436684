/* fuzz_input.h - reading a fuzz input in parts, shared by the targets. */
#ifndef CHATDESK_FUZZ_INPUT_H
#define CHATDESK_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* The next NUL-terminated part of data[*at..size) into buf (cut to fit);
 * *at moves past it and its NUL. */
static inline void fuzz_input_part(const uint8_t *data, size_t size,
                                   size_t *at, char *buf, size_t len)
{
    size_t n = 0;
    while (*at < size && data[*at]) {
        if (n + 1 < len)
            buf[n++] = (char)data[*at];
        (*at)++;
    }
    if (*at < size)
        (*at)++;
    buf[n] = '\0';
}

#endif
