/* lowq.h - the low-priority queue of the rate limit's answers to refused
 * messages (plain C, no libstrophe).
 *
 * Every message over its sender's rate limit is answered with one error to
 * its sender (dispatch.h). During a flood those answers are most of what
 * chatdesk sends (3,000 messages: ~2,800 errors, ~1.2 MB), and sent at once
 * they go out ahead of other rooms' reflections on the one component
 * stream. So dispatch keeps only what each answer needs (the addresses and
 * the id, not a stanza) in this queue, and conn.c sends them after each
 * event-loop pass's flush, when the connection is quiet (no stanza came
 * for 20 ms: the flood and the traffic around it are read) and
 * libstrophe's send queue is short: normal traffic first. Nothing is ever
 * dropped:
 *
 *  - bounded: at most capacity answers wait; when a new one finds the queue
 *    full the oldest goes out at once (dispatch), so memory is bounded and
 *    a flood larger than the queue costs what it did without one;
 *  - in order: first in, first out, so each sender's answers keep the order
 *    of its messages;
 *  - never starved: an answer older than LOWQ_MAX_WAIT_MS goes even while
 *    other traffic keeps every pass busy.
 */
#ifndef CHATDESK_LOWQ_H
#define CHATDESK_LOWQ_H

#include <stddef.h>
#include <stdint.h>

/* Answers waiting at most (dispatch's queue; ~200 bytes each). */
#define LOWQ_DEFAULT_CAPACITY 4096
/* Answers handed to libstrophe by one pass at most, and the length of its
 * send queue from which none are (the wire is busy: normal traffic first). */
#define LOWQ_SENDQ_SHORT 64
/* Sent even while every pass reads stanzas, once this old. */
#define LOWQ_MAX_WAIT_MS 1000

struct lowq;

/* One waiting answer: the error goes to `to` (the refused message's from),
 * from `from` (its to; NULL: the component), with the message's id (NULL:
 * none). Borrowed from the queue until lowq_pop(). */
struct lowq_item {
    const char *to, *from, *id;
    uint64_t at_ms; /* when it was queued (clock_mono_ms()) */
};

/* NULL when out of memory or capacity is 0. */
struct lowq *lowq_new(size_t capacity);
void lowq_free(struct lowq *q);

size_t lowq_len(const struct lowq *q);
int lowq_full(const struct lowq *q);

/* Queue an answer (the strings are copied). 0, or -1 when the queue is
 * full or out of memory (the caller answers at once instead). */
int lowq_push(struct lowq *q, const char *to, const char *from,
              const char *id, uint64_t now_ms);

/* The oldest answer (NULL when empty), and taking it off the queue. */
const struct lowq_item *lowq_peek(const struct lowq *q);
void lowq_pop(struct lowq *q);

/* How many of the oldest answers may go now: none while libstrophe's send
 * queue holds LOWQ_SENDQ_SHORT stanzas or more; else, when the connection
 * is quiet (conn.c: no stanza read for a while), as many as bring the send
 * queue to LOWQ_SENDQ_SHORT; while stanzas keep coming, only those older
 * than LOWQ_MAX_WAIT_MS (within the same budget). */
size_t lowq_due(const struct lowq *q, uint64_t now_ms, int sendq_len,
                int quiet);

#endif
