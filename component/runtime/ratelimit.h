/* ratelimit.h - per-key token buckets (keys: bare JIDs) with bounded memory.
 *
 * Each key has a bucket of `burst` tokens that refills at `per_second`
 * tokens a second; every stanza takes one. A key whose bucket is empty is
 * over the limit until it refills. Time is passed in by the caller as
 * milliseconds of a monotonic clock (dispatch.c uses clock_mono_ms()), so
 * tests drive it without sleeping.
 *
 * Memory is bounded: at most `max_keys` buckets are kept. Buckets are kept
 * in least-recently-used order; a bucket idle long enough to be full again
 * is the same as a new one and is dropped (swept at most once a second, from
 * the idle end), and when the table is full the least recently used bucket
 * makes room for a new key.
 *
 * Ownership: ratelimit_new() returns a limiter freed by exactly one
 * ratelimit_free(); keys are copied. Single-threaded.
 */
#ifndef CHATDESK_RATELIMIT_H
#define CHATDESK_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_DEFAULT_MAX_KEYS 10000 /* bare JIDs tracked at most */
#define RATELIMIT_LOG_MS 10000   /* at most one log line per key in 10 s */

struct ratelimit;

enum ratelimit_verdict {
    RATELIMIT_PASS = 0, /* a token was taken */
    RATELIMIT_OVER = 1  /* the bucket is empty: refuse or drop */
};

/* A limiter of per_second tokens a second (>= 1), buckets of burst tokens
 * (>= 1), at most max_keys buckets (>= 1). NULL on bad arguments or out of
 * memory. */
struct ratelimit *ratelimit_new(unsigned per_second, unsigned burst,
                                size_t max_keys);

/* NULL-safe. */
void ratelimit_free(struct ratelimit *rl);

/* Take one token from key's bucket at now_ms. A key not seen before starts
 * with a full bucket. When memory for a new key cannot be had the stanza
 * passes (the limiter never refuses for its own failures). */
enum ratelimit_verdict ratelimit_take(struct ratelimit *rl, const char *key,
                                      uint64_t now_ms);

/* For a key that is over the limit: 1 when it is time to tell the
 * operator's log (the first time, then at most once every RATELIMIT_LOG_MS),
 * and the time is recorded; else 0 (also for unknown keys). When due,
 * *refused (may be NULL) is the number of refusals since the last time it
 * was due (or since the key was first seen). */
int ratelimit_log_due(struct ratelimit *rl, const char *key, uint64_t now_ms,
                      unsigned long *refused);

/* Drop the buckets idle for long enough to be full again. Returns how many
 * were dropped. ratelimit_take() calls it at most once a second. */
size_t ratelimit_sweep(struct ratelimit *rl, uint64_t now_ms);

/* Buckets kept now (tests, diagnostics). */
size_t ratelimit_count(const struct ratelimit *rl);

/* The configured rate and burst. */
unsigned ratelimit_per_second(const struct ratelimit *rl);
unsigned ratelimit_burst(const struct ratelimit *rl);

#endif
