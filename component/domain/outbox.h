/* outbox.h - the durable outbox of PSA events (SPEC §6).
 *
 * Every ticket change writes one event row here inside the change's own
 * transaction (domain/tickets.c), so an event exists exactly when its
 * change does: a crash, a restart or an unreachable PSA loses none. An
 * event names its ticket (and for ticket.note_added its note); the body is
 * rendered when it is sent, from the ticket as it is then.
 *
 * Row: id (orders the events, oldest first), event_id (a random UUID v4,
 * the Idempotency-Key; a retried event keeps it), ticket, type, note
 * (0 = none), created, attempts, next_at (epoch seconds: not to be sent
 * before), status (pending, sent, dead) and the last answer (an HTTP status
 * line or a connection error, "" before the first attempt).
 *
 * Events are recorded whether or not a webhook is configured, so that a
 * chatdeskctl run without the config records them too; a chatdesk with
 * [psa] webhook_url sends the pending ones.
 *
 * Ownership: struct outbox borrows the store (it must outlive it); lists own
 * their entries (outbox_list_free()). Errors: -1 with a sentence in
 * outbox_error(), borrowed until the next call.
 */
#ifndef CHATDESK_OUTBOX_H
#define CHATDESK_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;
struct outbox;

#define OUTBOX_ID_LEN 37     /* a UUID and its NUL */
#define OUTBOX_ANSWER_MAX 200 /* bytes of the last answer kept */

enum outbox_type {
    OUTBOX_TICKET_CREATED = 0,
    OUTBOX_NOTE_ADDED,
    OUTBOX_TICKET_CLOSED
};

enum outbox_status { OUTBOX_PENDING = 0, OUTBOX_SENT, OUTBOX_DEAD };

struct outbox_event {
    int64_t id;
    char event_id[OUTBOX_ID_LEN];
    int64_t ticket_id;
    enum outbox_type type;
    int64_t note_id; /* 0 = none */
    time_t created;
    int attempts;
    time_t next_at;
    enum outbox_status status;
    char answer[OUTBOX_ANSWER_MAX + 1];
};

struct outbox_list {
    struct outbox_event *items;
    size_t n;
};

/* Open on st (schema version >= 7). NULL with err on failure. */
struct outbox *outbox_open(struct store *st, char *err, size_t errlen);
void outbox_close(struct outbox *ob); /* NULL is fine */

const char *outbox_error(const struct outbox *ob);

/* Record an event of type for ticket (and note, 0 = none) with a new UUID,
 * pending, due now (clock_now()). Runs in the caller's transaction: call it
 * inside the ticket change. event_id (may be NULL) gets the UUID. 0 or -1. */
int outbox_add(struct outbox *ob, int64_t ticket_id, enum outbox_type type,
               int64_t note_id, char event_id[OUTBOX_ID_LEN]);

/* Every event, oldest first (limit 0 = all). 0 or -1. */
int outbox_list(struct outbox *ob, size_t limit, struct outbox_list *out);
void outbox_list_free(struct outbox_list *l);

/* The events to send now: each ticket's oldest pending event (sent events
 * and dead letters do not count, so a dead letter holds nothing back), when
 * it is due (next_at <= clock_now()). A ticket whose oldest pending event
 * is backing off has none: its later events wait. Oldest first, at most
 * limit (0 = all). 0 or -1. */
int outbox_due(struct outbox *ob, size_t limit, struct outbox_list *out);

/* How many events wait to be delivered (pending, due or not); -1 on a
 * store error. */
long outbox_pending(struct outbox *ob);

/* Record an attempt at event id (the row id): attempts + 1, the new status,
 * next_at and the answer (cut to OUTBOX_ANSWER_MAX bytes). 0 or -1. */
int outbox_settle(struct outbox *ob, int64_t id, enum outbox_status status,
                  time_t next_at, const char *answer);

/* Put the dead letter event_id back: pending, due now, attempts 0 (its last
 * answer stays until the next attempt). 0, 1 when no dead letter has that
 * event id, or -1. */
int outbox_requeue(struct outbox *ob, const char *event_id);

/* "ticket.created", "ticket.note_added", "ticket.closed". */
const char *outbox_type_name(enum outbox_type type);
/* "pending", "sent", "dead". */
const char *outbox_status_name(enum outbox_status status);

#endif
