/* outbox.c - see outbox.h */
#include "domain/outbox.h"

#include "runtime/clock.h"
#include "runtime/store.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

enum outbox__stmt {
    O_INSERT,
    O_LIST,
    O_DUE,
    O_SETTLE,
    O_REQUEUE,
    O_PENDING,
    O_COUNT
};

#define OUTBOX_COLS                                                            \
    "SELECT id, event_id, ticket_id, type, note_id, created, attempts, "       \
    "next_at, status, last_answer FROM outbox o"


static const char *const outbox__sql[O_COUNT] = {
    [O_INSERT] = "INSERT INTO outbox (event_id, ticket_id, type, note_id, "
                 "created, next_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    [O_LIST] = OUTBOX_COLS " ORDER BY id LIMIT ?1",
    [O_DUE] = OUTBOX_COLS " WHERE status = 'pending' AND id = "
                          "(SELECT MIN(p.id) FROM outbox p WHERE "
                          "p.status = 'pending' AND p.ticket_id = o.ticket_id)"
                          " AND next_at <= ?2 ORDER BY id LIMIT ?1",
    [O_SETTLE] = "UPDATE outbox SET attempts = attempts + 1, status = ?2, "
                 "next_at = ?3, last_answer = ?4 WHERE id = ?1",
    [O_REQUEUE] = "UPDATE outbox SET status = 'pending', attempts = 0, "
                  "next_at = ?2 WHERE event_id = ?1 AND status = 'dead'",
    [O_PENDING] = "SELECT COUNT(*) FROM outbox WHERE status = 'pending'",
};

static const char *const outbox__types[] = {
    [OUTBOX_TICKET_CREATED] = "ticket.created",
    [OUTBOX_NOTE_ADDED] = "ticket.note_added",
    [OUTBOX_TICKET_CLOSED] = "ticket.closed",
};

static const char *const outbox__statuses[] = {
    [OUTBOX_PENDING] = "pending",
    [OUTBOX_SENT] = "sent",
    [OUTBOX_DEAD] = "dead",
};

struct outbox {
    struct db *db;
    struct db_stmt *stmt[O_COUNT];
    char err[256];
};

const char *outbox_type_name(enum outbox_type type)
{
    return (size_t)type < 3 ? outbox__types[type] : "ticket.created";
}

const char *outbox_status_name(enum outbox_status status)
{
    return (size_t)status < 3 ? outbox__statuses[status] : "pending";
}

/* The index of s in names[0..n-1], or 0. */
static int outbox__parse(const char *const *names, size_t n,
                         const unsigned char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (!strcmp((const char *)s, names[i]))
            return (int)i;
    return 0;
}

__attribute__((format(printf, 2, 3))) static int
outbox__fail(struct outbox *ob, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ob->err, sizeof ob->err, fmt, ap);
    va_end(ap);
    return -1;
}

static struct db_stmt *outbox__stmt(struct outbox *ob, enum outbox__stmt which)
{
    struct db_stmt *s = ob->stmt[which];
    db_reset(s);
    db_clear_bindings(s);
    return s;
}

struct outbox *outbox_open(struct store *st, char *err, size_t errlen)
{
    struct outbox *ob = calloc(1, sizeof *ob);
    if (!ob) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ob->db = store_db(st);
    if (store_prepare_all(ob->db, outbox__sql, ob->stmt, O_COUNT, "outbox",
                          err, errlen)) {
        outbox_close(ob);
        return NULL;
    }
    return ob;
}

void outbox_close(struct outbox *ob)
{
    if (!ob)
        return;
    store_finalize_all(ob->stmt, O_COUNT);
    free(ob);
}

const char *outbox_error(const struct outbox *ob)
{
    return ob->err;
}

/* A random UUID (version 4, RFC 9562) into out. 0 or -1. */
static int outbox__uuid(char out[OUTBOX_ID_LEN])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, OUTBOX_ID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
             b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

int outbox_add(struct outbox *ob, int64_t ticket_id, enum outbox_type type,
               int64_t note_id, char event_id[OUTBOX_ID_LEN])
{
    char id[OUTBOX_ID_LEN];
    if (outbox__uuid(id) != 0)
        return outbox__fail(ob, "no random bytes for an event id");
    struct db_stmt *s = outbox__stmt(ob, O_INSERT);
    db_bind_text(s, 1, id, -1, DB_STATIC);
    db_bind_int64(s, 2, ticket_id);
    db_bind_text(s, 3, outbox_type_name(type), -1, DB_STATIC);
    if (note_id)
        db_bind_int64(s, 4, note_id);
    db_bind_int64(s, 5, (int64_t)clock_now());
    int rc = db_step(s);
    db_reset(s);
    if (rc != DB_DONE)
        return outbox__fail(ob, "record the PSA event: %s",
                            db_errmsg(ob->db));
    if (event_id)
        memcpy(event_id, id, OUTBOX_ID_LEN);
    return 0;
}

static void outbox__row(struct db_stmt *s, struct outbox_event *e)
{
    const unsigned char *t;
    memset(e, 0, sizeof *e);
    e->id = db_column_int64(s, 0);
    t = db_column_text(s, 1);
    snprintf(e->event_id, sizeof e->event_id, "%s", t ? (const char *)t : "");
    e->ticket_id = db_column_int64(s, 2);
    e->type = (enum outbox_type)outbox__parse(outbox__types, 3,
                                              db_column_text(s, 3));
    e->note_id = db_column_int64(s, 4);
    e->created = (time_t)db_column_int64(s, 5);
    e->attempts = db_column_int(s, 6);
    e->next_at = (time_t)db_column_int64(s, 7);
    e->status = (enum outbox_status)outbox__parse(outbox__statuses, 3,
                                                  db_column_text(s, 8));
    t = db_column_text(s, 9);
    snprintf(e->answer, sizeof e->answer, "%s", t ? (const char *)t : "");
}

/* Read every row of s (bound, limit in ?1) into *out. 0 or -1. */
static int outbox__rows(struct outbox *ob, struct db_stmt *s, size_t limit,
                        struct outbox_list *out)
{
    struct outbox_list l = {NULL, 0};
    size_t cap = 0;
    int rc;
    /* no LIMIT -1 (PostgreSQL refuses it): the largest instead */
    db_bind_int64(s, 1, limit ? (int64_t)limit : INT64_MAX);
    while ((rc = db_step(s)) == DB_ROW) {
        if (l.n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct outbox_event *items = realloc(l.items, ncap * sizeof *items);
            if (!items) {
                rc = DB_NOMEM;
                break;
            }
            l.items = items;
            cap = ncap;
        }
        outbox__row(s, &l.items[l.n++]);
    }
    db_reset(s);
    if (rc != DB_DONE) {
        outbox_list_free(&l);
        return outbox__fail(ob, "read the outbox: %s", db_errmsg(ob->db));
    }
    *out = l;
    return 0;
}

int outbox_list(struct outbox *ob, size_t limit, struct outbox_list *out)
{
    return outbox__rows(ob, outbox__stmt(ob, O_LIST), limit, out);
}

int outbox_due(struct outbox *ob, size_t limit, struct outbox_list *out)
{
    struct db_stmt *s = outbox__stmt(ob, O_DUE);
    db_bind_int64(s, 2, (int64_t)clock_now());
    return outbox__rows(ob, s, limit, out);
}

long outbox_pending(struct outbox *ob)
{
    struct db_stmt *s = outbox__stmt(ob, O_PENDING);
    long n = -1;
    if (db_step(s) == DB_ROW)
        n = (long)db_column_int64(s, 0);
    else
        outbox__fail(ob, "counting pending events: %s", db_errmsg(ob->db));
    db_reset(s);
    return n;
}

/* Step s (an UPDATE); the number of rows it changed, or -1. */
static int outbox__update(struct outbox *ob, struct db_stmt *s,
                          const char *what)
{
    int rc = db_step(s);
    db_reset(s);
    if (rc != DB_DONE)
        return outbox__fail(ob, "%s: %s", what, db_errmsg(ob->db));
    return db_changes(ob->db);
}

int outbox_settle(struct outbox *ob, int64_t id, enum outbox_status status,
                  time_t next_at, const char *answer)
{
    size_t len = answer ? strlen(answer) : 0;
    if (len > OUTBOX_ANSWER_MAX) { /* cut at a UTF-8 character boundary */
        len = OUTBOX_ANSWER_MAX;
        while (len > 0 && ((unsigned char)answer[len] & 0xC0) == 0x80)
            len--;
    }
    struct db_stmt *s = outbox__stmt(ob, O_SETTLE);
    db_bind_int64(s, 1, id);
    db_bind_text(s, 2, outbox_status_name(status), -1, DB_STATIC);
    db_bind_int64(s, 3, (int64_t)next_at);
    db_bind_text(s, 4, answer ? answer : "", (int)len, DB_STATIC);
    return outbox__update(ob, s, "record the PSA attempt") < 0 ? -1 : 0;
}

int outbox_requeue(struct outbox *ob, const char *event_id)
{
    struct db_stmt *s = outbox__stmt(ob, O_REQUEUE);
    db_bind_text(s, 1, event_id, -1, DB_STATIC);
    db_bind_int64(s, 2, (int64_t)clock_now());
    int n = outbox__update(ob, s, "retry the PSA event");
    return n < 0 ? -1 : n == 0 ? 1 : 0;
}

void outbox_list_free(struct outbox_list *l)
{
    if (!l)
        return;
    free(l->items);
    l->items = NULL;
    l->n = 0;
}
