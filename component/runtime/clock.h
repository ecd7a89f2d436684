/* clock.h - the one source of time for chatdesk.
 *
 * Wall-clock time (office hours, timeouts, stored timestamps) comes only from
 * clock_now(); tests pin it with clock_set() and move it with clock_advance()
 * so nothing ever sleeps. clock_mono_ms() is the monotonic clock for timers
 * (reconnect back-off); it is never faked.
 */
#ifndef CHATDESK_CLOCK_H
#define CHATDESK_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Seconds since the epoch: the real time, or the pinned time after
 * clock_set(). */
time_t clock_now(void);

/* Pin the wall clock to t (tests). */
void clock_set(time_t t);

/* Move a pinned clock by delta seconds (tests). No effect when not pinned. */
void clock_advance(long delta);

/* Unpin: clock_now() follows the real time again. */
void clock_reset(void);

/* Milliseconds of a monotonic clock. */
uint64_t clock_mono_ms(void);

/* Microseconds of the same clock (latency measurements). */
uint64_t clock_mono_us(void);

#endif
