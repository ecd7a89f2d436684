/* tickets.c - see tickets.h: the wrappers and the sqlite back-end. */
#include "domain/tickets.h"

#include "domain/outbox.h"
#include "runtime/clock.h"
#include "runtime/store.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the interface ---------------------------------------------------- */

int ticket_create(struct ticket_store *ts, const struct ticket_draft *draft,
                  int64_t *id_out)
{
    return ts->ops->create(ts, draft, id_out);
}

int ticket_get(struct ticket_store *ts, int64_t id, struct ticket *out)
{
    return ts->ops->get(ts, id, out);
}

int ticket_list(struct ticket_store *ts, const struct ticket_filter *filter,
                struct ticket_list *out)
{
    return ts->ops->list(ts, filter, out);
}

int ticket_add_note(struct ticket_store *ts, int64_t id,
                    enum ticket_note_kind kind, const char *author,
                    const char *text)
{
    return ts->ops->add_note(ts, id, kind, author, text);
}

int ticket_close(struct ticket_store *ts, int64_t id, const char *author,
                 const char *note)
{
    return ts->ops->close(ts, id, author, note);
}

int ticket_set_external_id(struct ticket_store *ts, int64_t id,
                           const char *external_id)
{
    return ts->ops->set_external_id(ts, id, external_id);
}

void ticket_store_destroy(struct ticket_store *ts)
{
    if (ts)
        ts->ops->destroy(ts);
}

const char *ticket_store_error(const struct ticket_store *ts)
{
    return ts->err;
}

void ticket_clear(struct ticket *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_notes; i++) {
        free(t->notes[i].author);
        free(t->notes[i].text);
    }
    free(t->notes);
    free(t->summary);
    free(t->external_id);
    memset(t, 0, sizeof *t);
}

void ticket_list_free(struct ticket_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        ticket_clear(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static const char *const tickets__kinds[] = {
    [TICKET_NOTE_TRANSCRIPT] = "transcript",
    [TICKET_NOTE_CALLBACK] = "callback",
    [TICKET_NOTE_CLOSING] = "closing_note",
    [TICKET_NOTE_RATING] = "rating",
    [TICKET_NOTE_TEXT] = "text",
};
#define TICKETS_N_KINDS (sizeof tickets__kinds / sizeof tickets__kinds[0])

const char *ticket_note_kind_name(enum ticket_note_kind kind)
{
    return (size_t)kind < TICKETS_N_KINDS ? tickets__kinds[kind] : "text";
}

int ticket_note_kind_parse(const char *s, enum ticket_note_kind *out)
{
    for (size_t i = 0; s && i < TICKETS_N_KINDS; i++) {
        if (!strcmp(s, tickets__kinds[i])) {
            *out = (enum ticket_note_kind)i;
            return 0;
        }
    }
    return -1;
}

const char *ticket_status_name(enum ticket_status status)
{
    return status == TICKET_CLOSED ? "closed" : "open";
}

/* ---- sqlite back-end -------------------------------------------------- */

enum tickets__stmt {
    T_INSERT,
    T_GET,
    T_NOTES,
    T_LIST,
    T_NOTE_INSERT,
    T_STATUS,
    T_CLOSE,
    T_CONTACT_COMPANY,
    T_COMPANY_EXISTS,
    T_EXTERNAL_ID,
    T_SAVEPOINT,
    T_RELEASE,
    T_ROLLBACK_TO,
    T_COUNT
};

#define TICKET_COLS                                                            \
    "SELECT id, company_id, contact_id, summary, status, created, closed, "    \
    "external_id FROM tickets"

static const char *const tickets__sql[T_COUNT] = {
    [T_INSERT] = "INSERT INTO tickets (company_id, contact_id, summary, "
                 "status, created) VALUES (?1, ?2, ?3, 'open', ?4) "
                 "RETURNING id",
    [T_GET] = TICKET_COLS " WHERE id = ?1",
    [T_NOTES] = "SELECT id, kind, author, created, text FROM ticket_notes "
                "WHERE ticket_id = ?1 ORDER BY id",
    [T_LIST] = TICKET_COLS " WHERE (?1 = 0 OR company_id = ?1)"
                           " AND (?2 = 0 OR contact_id = ?2)"
                           " AND (CAST(?3 AS TEXT) IS NULL OR status = ?3)"
                           " ORDER BY created DESC, id DESC"
                           " LIMIT ?4 OFFSET ?5",
    [T_NOTE_INSERT] = "INSERT INTO ticket_notes (ticket_id, kind, author, "
                      "created, text) VALUES (?1, ?2, ?3, ?4, ?5) "
                      "RETURNING id",
    [T_STATUS] = "SELECT status FROM tickets WHERE id = ?1",
    [T_CLOSE] = "UPDATE tickets SET status = 'closed', closed = ?2 "
                "WHERE id = ?1 AND status = 'open'",
    [T_CONTACT_COMPANY] = "SELECT company_id FROM contacts WHERE id = ?1",
    [T_COMPANY_EXISTS] = "SELECT 1 FROM companies WHERE id = ?1",
    [T_EXTERNAL_ID] = "UPDATE tickets SET external_id = ?2 WHERE id = ?1",
    [T_SAVEPOINT] = "SAVEPOINT ticket_change",
    [T_RELEASE] = "RELEASE ticket_change",
    [T_ROLLBACK_TO] = "ROLLBACK TO ticket_change",
};

struct tickets__sqlite {
    struct ticket_store base; /* first: the interface */
    struct db *db;
    struct db_stmt *stmt[T_COUNT];
    struct outbox *outbox; /* every change records its PSA event here */
};

static struct tickets__sqlite *tickets__self(struct ticket_store *ts)
{
    return (struct tickets__sqlite *)ts;
}

__attribute__((format(printf, 3, 4))) static int
tickets__fail(struct ticket_store *ts, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ts->err, sizeof ts->err, fmt, ap);
    va_end(ap);
    return code;
}

static int tickets__store_fail(struct tickets__sqlite *self, const char *what)
{
    return tickets__fail(&self->base, TICKET_ERR_STORE, "%s failed: %s", what,
                         db_errmsg(self->db));
}

static struct db_stmt *tickets__stmt(struct tickets__sqlite *self,
                                   enum tickets__stmt which)
{
    struct db_stmt *s = self->stmt[which];
    db_reset(s);
    db_clear_bindings(s);
    return s;
}

static void tickets__bind_id(struct db_stmt *s, int col, int64_t id)
{
    if (id)
        db_bind_int64(s, col, id);
    else
        db_bind_null(s, col);
}

static char *tickets__col_dup(struct db_stmt *s, int col)
{
    const unsigned char *t = db_column_text(s, col);
    return strdup(t ? (const char *)t : "");
}

/* Run a one-row query on id; *found tells whether a row came, *value gets
 * column 0 as an integer. */
static int tickets__lookup(struct tickets__sqlite *self,
                           enum tickets__stmt which, int64_t id, bool *found,
                           int64_t *value)
{
    struct db_stmt *s = tickets__stmt(self, which);
    db_bind_int64(s, 1, id);
    int rc = db_step(s);
    *found = rc == DB_ROW;
    if (*found && value)
        *value = db_column_int64(s, 0);
    db_reset(s);
    if (rc != DB_ROW && rc != DB_DONE)
        return tickets__store_fail(self, "lookup");
    return TICKET_OK;
}

/* Check the draft's company and contact; derive the company if needed. */
static int tickets__resolve_owner(struct tickets__sqlite *self,
                                  const struct ticket_draft *d,
                                  int64_t *company)
{
    bool found = false;
    int64_t contact_company = 0;
    *company = d->company_id;
    if (d->contact_id) {
        int rc = tickets__lookup(self, T_CONTACT_COMPANY, d->contact_id, &found,
                                 &contact_company);
        if (rc != TICKET_OK)
            return rc;
        if (!found)
            return tickets__fail(&self->base, TICKET_ERR_NOT_FOUND,
                                 "no contact with id %lld",
                                 (long long)d->contact_id);
        if (*company && *company != contact_company)
            return tickets__fail(&self->base, TICKET_ERR_INVALID,
                                 "contact %lld is not in company %lld",
                                 (long long)d->contact_id, (long long)*company);
        *company = contact_company;
        return TICKET_OK;
    }
    if (!*company)
        return TICKET_OK;
    int rc = tickets__lookup(self, T_COMPANY_EXISTS, *company, &found, NULL);
    if (rc == TICKET_OK && !found)
        return tickets__fail(&self->base, TICKET_ERR_NOT_FOUND,
                             "no company with id %lld", (long long)*company);
    return rc;
}

/* Step statement which (no result rows); TICKET_OK or a store failure. */
static int tickets__exec(struct tickets__sqlite *self, enum tickets__stmt which,
                         const char *what)
{
    struct db_stmt *s = tickets__stmt(self, which);
    int rc = db_step(s);
    db_reset(s);
    return rc == DB_DONE ? TICKET_OK : tickets__store_fail(self, what);
}

/* A change is one savepoint: its own transaction outside one, a part of the
 * caller's inside one (a session's transition). */
static int tickets__begin(struct tickets__sqlite *self)
{
    return tickets__exec(self, T_SAVEPOINT, "begin the ticket change");
}

/* Release the savepoint when rc is TICKET_OK, else roll back to it (the
 * message of the failure stays). Returns rc, or a store failure. */
static int tickets__end(struct tickets__sqlite *self, int rc)
{
    if (rc == TICKET_OK)
        return tickets__exec(self, T_RELEASE, "commit the ticket change");
    char keep[sizeof self->base.err];
    memcpy(keep, self->base.err, sizeof keep);
    tickets__exec(self, T_ROLLBACK_TO, "roll back the ticket change");
    tickets__exec(self, T_RELEASE, "roll back the ticket change");
    memcpy(self->base.err, keep, sizeof keep);
    return rc;
}

/* Record the PSA event of a change (inside its savepoint). */
static int tickets__event(struct tickets__sqlite *self, int64_t id,
                          enum outbox_type type, int64_t note_id)
{
    if (outbox_add(self->outbox, id, type, note_id, NULL) == 0)
        return TICKET_OK;
    return tickets__fail(&self->base, TICKET_ERR_STORE, "%s",
                         outbox_error(self->outbox));
}

/* Step the bound INSERT ... RETURNING id s: its id into *id, then reset.
 * DB_DONE or the error code. */
static int tickets__insert(struct db_stmt *s, int64_t *id)
{
    int rc = db_step_id(s, id);
    db_reset(s);
    return rc;
}

static int tickets__create(struct ticket_store *ts,
                           const struct ticket_draft *d, int64_t *id_out)
{
    struct tickets__sqlite *self = tickets__self(ts);
    int64_t company = 0;
    if (!d || !d->summary || !d->summary[strspn(d->summary, " \t\r\n")])
        return tickets__fail(ts, TICKET_ERR_INVALID,
                             "a ticket needs a summary");
    if (strlen(d->summary) > TICKET_SUMMARY_MAX)
        return tickets__fail(ts, TICKET_ERR_INVALID,
                             "the summary is too long (max %d bytes)",
                             TICKET_SUMMARY_MAX);
    int rc = tickets__resolve_owner(self, d, &company);
    if (rc == TICKET_OK)
        rc = tickets__begin(self);
    if (rc != TICKET_OK)
        return rc;
    struct db_stmt *s = tickets__stmt(self, T_INSERT);
    tickets__bind_id(s, 1, company);
    tickets__bind_id(s, 2, d->contact_id);
    db_bind_text(s, 3, d->summary, -1, DB_STATIC);
    db_bind_int64(s, 4, (int64_t)clock_now());
    int64_t id = 0;
    rc = tickets__insert(s, &id);
    rc = rc == DB_DONE ? tickets__event(self, id, OUTBOX_TICKET_CREATED, 0)
                           : tickets__store_fail(self, "create ticket");
    rc = tickets__end(self, rc);
    if (rc == TICKET_OK && id_out)
        *id_out = id;
    return rc;
}

/* Copy the current row of a TICKET_COLS statement into t (no notes). */
static int tickets__row(struct db_stmt *s, struct ticket *t)
{
    memset(t, 0, sizeof *t);
    t->id = db_column_int64(s, 0);
    t->company_id = db_column_int64(s, 1);
    t->contact_id = db_column_int64(s, 2);
    t->summary = tickets__col_dup(s, 3);
    const unsigned char *status = db_column_text(s, 4);
    t->status = status && !strcmp((const char *)status, "closed")
                    ? TICKET_CLOSED
                    : TICKET_OPEN;
    t->created = (time_t)db_column_int64(s, 5);
    t->closed = (time_t)db_column_int64(s, 6);
    if (db_column_type(s, 7) != DB_NULL &&
        !(t->external_id = tickets__col_dup(s, 7)))
        return -1;
    return t->summary ? 0 : -1;
}

static int tickets__note_row(struct db_stmt *s, struct ticket_note *n)
{
    n->id = db_column_int64(s, 0);
    const unsigned char *kind = db_column_text(s, 1);
    if (ticket_note_kind_parse((const char *)kind, &n->kind) != 0)
        n->kind = TICKET_NOTE_TEXT;
    n->author = tickets__col_dup(s, 2);
    n->created = (time_t)db_column_int64(s, 3);
    n->text = tickets__col_dup(s, 4);
    return n->author && n->text ? 0 : -1;
}

/* Append the notes of t->id to t. */
static int tickets__load_notes(struct tickets__sqlite *self, struct ticket *t)
{
    struct db_stmt *s = tickets__stmt(self, T_NOTES);
    size_t cap = 0;
    int rc;
    db_bind_int64(s, 1, t->id);
    while ((rc = db_step(s)) == DB_ROW) {
        if (t->n_notes == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct ticket_note *n = realloc(t->notes, ncap * sizeof *n);
            if (!n) {
                rc = DB_NOMEM;
                break;
            }
            t->notes = n;
            cap = ncap;
        }
        struct ticket_note *n = &t->notes[t->n_notes++];
        memset(n, 0, sizeof *n);
        if (tickets__note_row(s, n) != 0) {
            rc = DB_NOMEM;
            break;
        }
    }
    db_reset(s);
    if (rc != DB_DONE)
        return tickets__store_fail(self, "read notes");
    return TICKET_OK;
}

static int tickets__get(struct ticket_store *ts, int64_t id, struct ticket *out)
{
    struct tickets__sqlite *self = tickets__self(ts);
    struct ticket t;
    struct db_stmt *s = tickets__stmt(self, T_GET);
    db_bind_int64(s, 1, id);
    int rc = db_step(s);
    if (rc == DB_ROW && tickets__row(s, &t) != 0) {
        ticket_clear(&t);
        rc = DB_NOMEM;
    }
    db_reset(s);
    if (rc == DB_DONE)
        return tickets__fail(ts, TICKET_ERR_NOT_FOUND, "no ticket #%lld",
                             (long long)id);
    if (rc != DB_ROW)
        return tickets__store_fail(self, "read ticket");
    rc = tickets__load_notes(self, &t);
    if (rc != TICKET_OK) {
        ticket_clear(&t);
        return rc;
    }
    *out = t;
    return TICKET_OK;
}

static void tickets__bind_filter(struct db_stmt *s,
                                 const struct ticket_filter *f)
{
    static const struct ticket_filter any = {0};
    if (!f)
        f = &any;
    db_bind_int64(s, 1, f->company_id);
    db_bind_int64(s, 2, f->contact_id);
    if (f->status == TICKET_FILTER_OPEN)
        db_bind_text(s, 3, "open", -1, DB_STATIC);
    else if (f->status == TICKET_FILTER_CLOSED)
        db_bind_text(s, 3, "closed", -1, DB_STATIC);
    else
        db_bind_null(s, 3);
    db_bind_int64(s, 4, f->limit ? (int64_t)f->limit : INT64_MAX);
    db_bind_int64(s, 5, (int64_t)f->offset);
}

static int tickets__list(struct ticket_store *ts,
                         const struct ticket_filter *filter,
                         struct ticket_list *out)
{
    struct tickets__sqlite *self = tickets__self(ts);
    struct ticket_list l = {NULL, 0};
    size_t cap = 0;
    int rc;
    struct db_stmt *s = tickets__stmt(self, T_LIST);
    tickets__bind_filter(s, filter);
    while ((rc = db_step(s)) == DB_ROW) {
        if (l.n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct ticket *items = realloc(l.items, ncap * sizeof *items);
            if (!items) {
                rc = DB_NOMEM;
                break;
            }
            l.items = items;
            cap = ncap;
        }
        if (tickets__row(s, &l.items[l.n++]) != 0) {
            rc = DB_NOMEM;
            break;
        }
    }
    db_reset(s);
    if (rc != DB_DONE) {
        ticket_list_free(&l);
        return tickets__store_fail(self, "list tickets");
    }
    *out = l;
    return TICKET_OK;
}

/* The status of ticket id into *closed; TICKET_ERR_NOT_FOUND when none. */
static int tickets__status(struct tickets__sqlite *self, int64_t id,
                           bool *closed)
{
    struct db_stmt *s = tickets__stmt(self, T_STATUS);
    db_bind_int64(s, 1, id);
    int rc = db_step(s);
    *closed = rc == DB_ROW &&
              !strcmp((const char *)db_column_text(s, 0), "closed");
    db_reset(s);
    if (rc == DB_DONE)
        return tickets__fail(&self->base, TICKET_ERR_NOT_FOUND,
                             "no ticket #%lld", (long long)id);
    return rc == DB_ROW ? TICKET_OK
                            : tickets__store_fail(self, "read ticket");
}

/* Insert a checked note (inside the change's savepoint). */
static int tickets__insert_note(struct tickets__sqlite *self, int64_t id,
                                enum ticket_note_kind kind, const char *author,
                                const char *text)
{
    struct db_stmt *s = tickets__stmt(self, T_NOTE_INSERT);
    db_bind_int64(s, 1, id);
    db_bind_text(s, 2, tickets__kinds[kind], -1, DB_STATIC);
    db_bind_text(s, 3, author, -1, DB_STATIC);
    db_bind_int64(s, 4, (int64_t)clock_now());
    db_bind_text(s, 5, text, -1, DB_STATIC);
    int64_t note = 0;
    if (tickets__insert(s, &note) != DB_DONE)
        return tickets__store_fail(self, "add note");
    return tickets__event(self, id, OUTBOX_NOTE_ADDED, note);
}

static int tickets__add_note(struct ticket_store *ts, int64_t id,
                             enum ticket_note_kind kind, const char *author,
                             const char *text)
{
    struct tickets__sqlite *self = tickets__self(ts);
    bool closed = false;
    if ((size_t)kind >= TICKETS_N_KINDS || !author || !*author || !text)
        return tickets__fail(ts, TICKET_ERR_INVALID,
                             "a note needs a kind, an author and a text");
    int rc = tickets__status(self, id, &closed);
    if (rc != TICKET_OK)
        return rc;
    if (closed && kind == TICKET_NOTE_TEXT)
        return tickets__fail(ts, TICKET_ERR_CLOSED, "ticket #%lld is closed",
                             (long long)id);
    rc = tickets__begin(self);
    if (rc != TICKET_OK)
        return rc;
    rc = tickets__insert_note(self, id, kind, author, text);
    return tickets__end(self, rc);
}

/* Inside the change: the closing note (when there is one), then the close. */
static int tickets__close_in(struct tickets__sqlite *self, int64_t id,
                             const char *author, const char *note)
{
    int rc = TICKET_OK;
    if (note && note[strspn(note, " \t\r\n")])
        rc = tickets__insert_note(self, id, TICKET_NOTE_CLOSING, author, note);
    if (rc != TICKET_OK)
        return rc;
    struct db_stmt *s = tickets__stmt(self, T_CLOSE);
    db_bind_int64(s, 1, id);
    db_bind_int64(s, 2, (int64_t)clock_now());
    rc = db_step(s);
    db_reset(s);
    if (rc != DB_DONE)
        return tickets__store_fail(self, "close ticket");
    if (db_changes(self->db) != 1) /* closed by another process */
        return tickets__fail(&self->base, TICKET_ERR_CLOSED,
                             "ticket #%lld is already closed", (long long)id);
    return tickets__event(self, id, OUTBOX_TICKET_CLOSED, 0);
}

static int tickets__close(struct ticket_store *ts, int64_t id,
                          const char *author, const char *note)
{
    struct tickets__sqlite *self = tickets__self(ts);
    bool closed = false;
    bool has_note = note && note[strspn(note, " \t\r\n")];
    if (has_note && (!author || !*author))
        return tickets__fail(ts, TICKET_ERR_INVALID,
                             "a closing note needs an author");
    int rc = tickets__status(self, id, &closed);
    if (rc != TICKET_OK)
        return rc;
    if (closed)
        return tickets__fail(ts, TICKET_ERR_CLOSED,
                             "ticket #%lld is already closed", (long long)id);
    rc = tickets__begin(self);
    if (rc != TICKET_OK)
        return rc;
    rc = tickets__close_in(self, id, author, note);
    return tickets__end(self, rc);
}

static int tickets__set_external_id(struct ticket_store *ts, int64_t id,
                                    const char *external_id)
{
    struct tickets__sqlite *self = tickets__self(ts);
    if (!external_id || !*external_id)
        return tickets__fail(ts, TICKET_ERR_INVALID, "an empty external id");
    struct db_stmt *s = tickets__stmt(self, T_EXTERNAL_ID);
    db_bind_int64(s, 1, id);
    db_bind_text(s, 2, external_id, -1, DB_STATIC);
    int rc = db_step(s);
    db_reset(s);
    if (rc != DB_DONE)
        return tickets__store_fail(self, "store the external id");
    if (db_changes(self->db) != 1)
        return tickets__fail(ts, TICKET_ERR_NOT_FOUND, "no ticket #%lld",
                             (long long)id);
    return TICKET_OK;
}

static void tickets__destroy(struct ticket_store *ts)
{
    struct tickets__sqlite *self = tickets__self(ts);
    store_finalize_all(self->stmt, T_COUNT);
    outbox_close(self->outbox);
    free(self);
}

static const struct ticket_store_ops tickets__sqlite_ops = {
    .create = tickets__create,
    .get = tickets__get,
    .list = tickets__list,
    .add_note = tickets__add_note,
    .close = tickets__close,
    .set_external_id = tickets__set_external_id,
    .destroy = tickets__destroy,
};

struct ticket_store *ticket_store_sqlite_new(struct store *st, char *err,
                                             size_t errlen)
{
    struct tickets__sqlite *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->base.ops = &tickets__sqlite_ops;
    self->db = store_db(st);
    self->outbox = outbox_open(st, err, errlen);
    if (!self->outbox || store_prepare_all(self->db, tickets__sql, self->stmt,
                                           T_COUNT, "tickets", err, errlen)) {
        tickets__destroy(&self->base);
        return NULL;
    }
    return &self->base;
}
