/* tickets.h - the ticket store behind one interface (SPEC §6).
 *
 * The chat code sees only struct ticket_store and the ticket_* wrappers
 * below; ticket_store_sqlite_new() is the embedded back-end. A PSA back-end
 * provides its own struct ticket_store_ops and embeds struct ticket_store as
 * the first member of its state.
 *
 * Model: a ticket has an id, an optional company and contact (directory ids,
 * 0 = none; with a contact and no company the contact's company is used; both
 * given must agree), a summary, a status (open/closed), the time it was
 * created and closed, and the PSA's own ticket number (external_id, NULL
 * until known). Notes (transcript, callback, closing note, rating, text)
 * carry an author JID, a time (clock_now()) and text, oldest first.
 *
 * Rules (sqlite back-end; other back-ends must keep them):
 *   - create needs a non-empty summary (at most TICKET_SUMMARY_MAX bytes).
 *   - close of a closed ticket gives TICKET_ERR_CLOSED (nothing changes).
 *     A close with a note adds it as its own closing_note note, in the same
 *     transaction: both happen or neither.
 *   - every change records its PSA event (domain/outbox.h) in the same
 *     transaction: create -> ticket.created, each note ->
 *     ticket.note_added, close -> ticket.closed (after the closing note's
 *     ticket.note_added). A change runs under a savepoint, so inside a
 *     caller's transaction it commits or rolls back with it; when the
 *     event cannot be written the change does not happen (TICKET_ERR_STORE).
 *   - a closed ticket refuses TICKET_NOTE_TEXT notes (TICKET_ERR_CLOSED) but
 *     still takes transcript, callback, closing-note and rating notes, so a
 *     chat that ends after its ticket was closed never loses its
 *     transcript.
 *
 * Ownership: strings in a struct ticket / ticket_list are owned by it; free
 * with ticket_clear() / ticket_list_free(). Drafts and arguments are
 * borrowed for the call. ticket_store_destroy() frees the store; the
 * sqlite back-end borrows the struct store, which must outlive it, and owns
 * the outbox handle it writes events with.
 */
#ifndef CHATDESK_TICKETS_H
#define CHATDESK_TICKETS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

#define TICKET_SUMMARY_MAX 4096

enum ticket_status { TICKET_OPEN = 0, TICKET_CLOSED = 1 };

enum ticket_note_kind {
    TICKET_NOTE_TRANSCRIPT = 0,
    TICKET_NOTE_CALLBACK,
    TICKET_NOTE_CLOSING,
    TICKET_NOTE_RATING,
    TICKET_NOTE_TEXT
};

enum ticket_result {
    TICKET_OK = 0,
    TICKET_ERR_NOT_FOUND, /* no such ticket, company or contact */
    TICKET_ERR_CLOSED,    /* the ticket is closed (see rules) */
    TICKET_ERR_INVALID,   /* bad argument */
    TICKET_ERR_STORE      /* back-end failure */
};

struct ticket_note {
    int64_t id;
    enum ticket_note_kind kind;
    char *author;
    time_t created;
    char *text;
};

struct ticket {
    int64_t id;
    int64_t company_id; /* 0 = none */
    int64_t contact_id; /* 0 = none */
    char *summary;
    enum ticket_status status;
    time_t created;
    time_t closed;             /* 0 while open */
    char *external_id;         /* the PSA's ticket number; NULL = unknown */
    struct ticket_note *notes; /* filled by get, NULL in lists */
    size_t n_notes;
};

struct ticket_list {
    struct ticket *items;
    size_t n;
};

struct ticket_draft {
    int64_t company_id;
    int64_t contact_id;
    const char *summary;
};

enum ticket_status_filter {
    TICKET_FILTER_ANY = 0,
    TICKET_FILTER_OPEN,
    TICKET_FILTER_CLOSED
};

/* A zeroed filter lists every ticket. Results are newest first. */
struct ticket_filter {
    int64_t company_id; /* 0 = any */
    int64_t contact_id; /* 0 = any */
    enum ticket_status_filter status;
    size_t limit;  /* 0 = no limit */
    size_t offset; /* rows to skip (paging) */
};

struct ticket_store;

/* Every op returns an enum ticket_result and, on failure, leaves a message
 * in ts->err. Outputs are written only on TICKET_OK. */
struct ticket_store_ops {
    int (*create)(struct ticket_store *ts, const struct ticket_draft *draft,
                  int64_t *id_out);
    int (*get)(struct ticket_store *ts, int64_t id, struct ticket *out);
    int (*list)(struct ticket_store *ts, const struct ticket_filter *filter,
                struct ticket_list *out);
    int (*add_note)(struct ticket_store *ts, int64_t id,
                    enum ticket_note_kind kind, const char *author,
                    const char *text);
    int (*close)(struct ticket_store *ts, int64_t id, const char *author,
                 const char *note);
    int (*set_external_id)(struct ticket_store *ts, int64_t id,
                           const char *external_id);
    void (*destroy)(struct ticket_store *ts);
};

struct ticket_store {
    const struct ticket_store_ops *ops;
    char err[256];
};

/* The embedded back-end on st's tickets tables. NULL on failure with a
 * message in err. */
struct ticket_store *ticket_store_sqlite_new(struct store *st, char *err,
                                             size_t errlen);

/* Wrappers over ts->ops. id_out may be NULL. */
int ticket_create(struct ticket_store *ts, const struct ticket_draft *draft,
                  int64_t *id_out);
int ticket_get(struct ticket_store *ts, int64_t id, struct ticket *out);
int ticket_list(struct ticket_store *ts, const struct ticket_filter *filter,
                struct ticket_list *out);
int ticket_add_note(struct ticket_store *ts, int64_t id,
                    enum ticket_note_kind kind, const char *author,
                    const char *text);
/* Close ticket id; a note that is not NULL or blank is added first as a
 * TICKET_NOTE_CLOSING note by author (then required), in one transaction. */
int ticket_close(struct ticket_store *ts, int64_t id, const char *author,
                 const char *note);
/* Store the PSA's own number for ticket id (its answer to ticket.created);
 * not a ticket change: no event is recorded. A non-empty external_id. */
int ticket_set_external_id(struct ticket_store *ts, int64_t id,
                           const char *external_id);
void ticket_store_destroy(struct ticket_store *ts); /* NULL is fine */

/* The message for the last failure, borrowed. */
const char *ticket_store_error(const struct ticket_store *ts);

/* Free what a ticket / list owns and zero it. */
void ticket_clear(struct ticket *t);
void ticket_list_free(struct ticket_list *l);

/* "transcript", "callback", "closing_note", "rating", "text"; parse returns
 * 0 / -1. */
const char *ticket_note_kind_name(enum ticket_note_kind kind);
int ticket_note_kind_parse(const char *s, enum ticket_note_kind *out);

/* "open" / "closed". */
const char *ticket_status_name(enum ticket_status status);

#endif
