/* clock.c - see clock.h */
#include "runtime/clock.h"

#include <stdbool.h>

static bool pinned;
static time_t pinned_at;

time_t clock_now(void)
{
    return pinned ? pinned_at : time(NULL);
}

void clock_set(time_t t)
{
    pinned = true;
    pinned_at = t;
}

void clock_advance(long delta)
{
    if (pinned)
        pinned_at += delta;
}

void clock_reset(void)
{
    pinned = false;
}

uint64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
