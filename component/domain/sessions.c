/* sessions.c - see sessions.h */
#include "domain/sessions.h"

#include "runtime/clock.h"
#include "runtime/nick.h"
#include "domain/directory.h"
#include "domain/permissions.h"
#include "domain/settings.h"
#include "runtime/store.h"
#include "domain/tickets.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

/* ---- statements ------------------------------------------------------- */

enum sessions__stmt {
    S_INSERT,
    S_MEMBER_INSERT,
    S_GET,
    S_TAKE,
    S_MOVE,
    S_CALLBACK_SET,
    S_NOTE_SET,
    S_MEMBER_GET,
    S_MEMBERS,
    S_MSG_INSERT,
    S_MSG_ORIGIN,
    S_TRANSFER_ADD,
    S_PURGE,
    S_RATE,
    S_RATING,
    S_TRANSFERS,
    S_TOUCH,
    S_HISTORY,
    S_LIST_MINE,
    S_LIST_STATE,
    S_LIST_LIVE,
    S_LIST_CONTACT_LIVE,
    S_STATE_COUNTS,
    S_MSG_STORED,
    S_QUEUE_AHEAD,
    S_QUEUE_PLACE,
    S_WAITING_PLACES,
    S_PLACE_TOLD,
    S_PLACE_TOLD_GET,
    S_MSG_CHECK,
    S_MSG_STORE,
    S_COUNT
};

#define SESSION_COLS                                                           \
    "SELECT id, ticket_id, company_id, contact_jid, state, description, "      \
    "created, answered_at, answered_by, ended_at, closer_jid, "                \
    "last_activity, callback_phone, callback_note, closing_note, "             \
    "closing_note_by, closing_note_at FROM sessions"

/* List statements use the named parameters :jid, :state and :lim. */
static const char *const sessions__sql[S_COUNT] = {
    [S_INSERT] = "INSERT INTO sessions (ticket_id, company_id, contact_jid, "
                 "state, description, created, answered_at, answered_by, "
                 "last_activity, place_told) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                 "?7, ?8, ?6, CASE WHEN ?4 = 'waiting' THEN "
                 "(SELECT n FROM queue_length) + 1 ELSE 0 END) RETURNING id",
    [S_MEMBER_INSERT] = "INSERT INTO session_members (session_id, "
                        "jid, kind, nick, joined_at) VALUES (?1, ?2, ?3, ?4, "
                        "?5) ON CONFLICT DO NOTHING",
    [S_GET] = SESSION_COLS " WHERE id = ?1",
    /* answered_at stays the first answer after a transfer to the queue */
    [S_TAKE] = "UPDATE sessions SET state = 'active', "
               "answered_at = COALESCE(answered_at, ?2), "
               "answered_by = ?3, last_activity = ?2 "
               "WHERE id = ?1 AND state = 'waiting'",
    [S_MOVE] = "UPDATE sessions SET state = ?3, "
               "ended_at = COALESCE(ended_at, ?4), "
               "closer_jid = COALESCE(?5, closer_jid) "
               "WHERE id = ?1 AND state = ?2",
    [S_CALLBACK_SET] = "UPDATE sessions SET callback_phone = ?2, "
                       "callback_note = ?3 WHERE id = ?1",
    [S_NOTE_SET] = "UPDATE sessions SET closing_note = ?2, "
                   "closing_note_by = ?3, closing_note_at = ?4, "
                   "closer_jid = COALESCE(closer_jid, ?5) WHERE id = ?1",
    [S_MEMBER_GET] = "SELECT kind, nick FROM session_members "
                     "WHERE session_id = ?1 AND jid = ?2",
    [S_MEMBERS] = "SELECT jid, kind, nick, joined_at FROM session_members "
                  "WHERE session_id = ?1 ORDER BY rowid",
    [S_MSG_INSERT] = "INSERT INTO messages (stanza_id, session_id, from_jid, "
                     "nick, body, created, kind, origin_id) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
    [S_TRANSFER_ADD] = "INSERT INTO transfers (session_id, from_jid, to_jid, "
                       "created) VALUES (?1, ?2, ?3, ?4)",
    [S_TRANSFERS] = "SELECT from_jid, COALESCE(to_jid, ''), created "
                    "FROM transfers WHERE session_id = ?1 ORDER BY id",
    /* the oldest first, a batch at a time; live sessions keep theirs */
    [S_PURGE] = "DELETE FROM messages WHERE id IN (SELECT m.id FROM "
                "messages m JOIN sessions s ON s.id = m.session_id "
                "WHERE m.created < ?1 AND s.state NOT IN ('waiting', "
                "'active') ORDER BY m.id LIMIT ?2)",
    [S_RATE] = "INSERT INTO ratings (session_id, score, comment, "
               "contact_jid, created) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_RATING] = "SELECT score, comment FROM ratings WHERE session_id = ?1",
    [S_MSG_ORIGIN] = "SELECT id, stanza_id, created FROM messages "
                     "WHERE session_id = ?1 AND from_jid = ?2 AND "
                     "origin_id = ?3",
    [S_TOUCH] = "UPDATE sessions SET last_activity = ?2 WHERE id = ?1",
    [S_HISTORY] = "SELECT id, stanza_id, from_jid, nick, body, created, kind "
                  "FROM (SELECT * FROM messages WHERE session_id = ?1 "
                  "ORDER BY id DESC LIMIT ?2) AS m ORDER BY id",
    [S_LIST_MINE] = SESSION_COLS " WHERE state IN ('waiting', 'active', "
                                 "'callback') AND id IN "
                                 "(SELECT session_id FROM session_members "
                                 "WHERE jid = :jid AND kind = 'tech') "
                                 "ORDER BY state = 'active' DESC, "
                                 "created DESC, id DESC LIMIT :lim",
    [S_LIST_STATE] = SESSION_COLS " WHERE state = :state "
                                  "ORDER BY created, id LIMIT :lim",
    [S_LIST_LIVE] = SESSION_COLS " WHERE state IN ('waiting', 'active') "
                                 "ORDER BY id LIMIT :lim",
    [S_LIST_CONTACT_LIVE] = SESSION_COLS
    " WHERE contact_jid = :jid AND state IN ('waiting', 'active') "
    "ORDER BY id LIMIT :lim",
    [S_STATE_COUNTS] = "SELECT state, COUNT(*) FROM sessions GROUP BY state",
    /* the highest id is how many were stored: retention (sessions_purge)
     * deletes the oldest ones only, so it holds while one message is left */
    [S_MSG_STORED] = "SELECT COALESCE(MAX(id), 0) FROM messages",
    /* waiting sessions ahead of ?1 in queue order (created, id) */
    [S_QUEUE_AHEAD] = "SELECT COUNT(*) FROM sessions a, sessions b "
                      "WHERE b.id = ?1 AND a.state = 'waiting' AND "
                      "(a.created < b.created OR "
                      "(a.created = b.created AND a.id < b.id))",
    /* the queue's length less the waiting sessions behind ?1: a range of
     * the (state, created) index from ?1 on, short for a new session */
    [S_QUEUE_PLACE] = "SELECT (SELECT n FROM queue_length) - COUNT(*) "
                      "FROM sessions a, sessions b "
                      "WHERE b.id = ?1 AND a.state = 'waiting' AND "
                      "a.created >= b.created AND "
                      "(a.created > b.created OR a.id > b.id)",
    [S_WAITING_PLACES] = "SELECT id, place_told FROM sessions "
                         "WHERE state = 'waiting' ORDER BY created, id",
    [S_PLACE_TOLD] = "UPDATE sessions SET place_told = ?2 WHERE id = ?1",
    [S_PLACE_TOLD_GET] = "SELECT place_told FROM sessions WHERE id = ?1",
    /* a chat message's checks in one read: the session's state and the
     * sender's membership (kind and nick; NULL: not a member) */
    /* S_MSG_INSERT for a prepared message: its id is never asked for (no
     * RETURNING: sqlite would build an ephemeral table for it each time) */
    [S_MSG_STORE] = "INSERT INTO messages (stanza_id, session_id, from_jid, "
                    "nick, body, created, kind, origin_id) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_MSG_CHECK] = "SELECT s.state, m.kind, m.nick FROM sessions s "
                    "LEFT JOIN session_members m ON m.session_id = s.id "
                    "AND m.jid = ?2 WHERE s.id = ?1",
};

/* A chat message's checks that passed (the session live, the sender a
 * member with this nick), kept for the next message from the same sender
 * while nothing was written: sessions__begin() starts a new generation,
 * and every change of a session's state or members goes through it. Only
 * on sqlite, where this process is the database's one writer of sessions
 * (the lock: one chatdesk a file; chatdeskctl and the commit writer's
 * connection never change a session or its members); with PostgreSQL
 * another process may, so every message reads. */
#define SESSIONS_SEEN 512 /* slots, by (session, sender), two for each */
struct sessions__seen {
    int64_t id; /* 0: empty */
    uint64_t gen;
    char *jid;
    char nick[DIR_NAME_MAX];
};

struct sessions {
    struct store *st;
    struct db *db;
    struct directory *dir;
    struct ticket_store *tickets;
    struct db_stmt *stmt[S_COUNT];
    char err[512];
    int held;        /* sessions_hold(): a group-commit transaction is open */
    int held_failed; /* a write in it failed: sessions_commit_held() rolls back
                      */
    /* the held transaction's prepared messages (sessions_store_pending()):
     * each session's last_activity, written once before its COMMIT */
    struct sessions__touch {
        int64_t id;
        time_t at;
    } *touch;
    size_t n_touch, cap_touch;
    bool cache;    /* sqlite: checks passed are kept (seen) */
    uint64_t gen;  /* the current generation of seen */
    struct sessions__seen seen[SESSIONS_SEEN];
};

/* ---- names ------------------------------------------------------------ */

static const char *const sessions__states[] = {
    [SESS_WAITING] = "waiting",   [SESS_ACTIVE] = "active",
    [SESS_ENDED] = "ended",       [SESS_ABANDONED] = "abandoned",
    [SESS_CALLBACK] = "callback", [SESS_CLOSED] = "closed",
};
#define SESSIONS_N_STATES (sizeof sessions__states / sizeof sessions__states[0])

const char *sess_state_name(enum sess_state st)
{
    return (size_t)st < SESSIONS_N_STATES ? sessions__states[st] : "closed";
}

int sess_state_parse(const char *name, enum sess_state *out)
{
    for (size_t i = 0; name && i < SESSIONS_N_STATES; i++) {
        if (!strcmp(name, sessions__states[i])) {
            *out = (enum sess_state)i;
            return 0;
        }
    }
    return -1;
}

const char *sess_state_text(enum sess_state st)
{
    switch (st) {
    case SESS_WAITING:
        return "This chat request is still waiting for a technician";
    case SESS_ACTIVE:
        return "This chat is in progress";
    case SESS_ENDED:
        return "This session has already ended";
    case SESS_ABANDONED:
        return "This session was abandoned by the contact";
    case SESS_CALLBACK:
        return "This session is waiting for a callback";
    case SESS_CLOSED:
    default:
        return "This session is closed";
    }
}

const char *sess_member_kind_name(enum sess_member_kind k)
{
    return k == SESS_MEMBER_CONTACT ? "contact"
           : k == SESS_MEMBER_TECH  ? "tech"
                                    : "none";
}

static bool sessions__live(enum sess_state st)
{
    return st == SESS_WAITING || st == SESS_ACTIVE;
}

/* ---- helpers ---------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int
sessions__fail(struct sessions *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return code;
}

static int sessions__store_fail(struct sessions *s, const char *what)
{
    return sessions__fail(s, SESS_ERR_STORE,
                          "The helpdesk could not %s (%s); try again later.",
                          what, db_errmsg(s->db));
}

static int sessions__ticket_fail(struct sessions *s, const char *what)
{
    return sessions__fail(s, SESS_ERR_STORE,
                          "The helpdesk could not %s (%s); try again later.",
                          what, ticket_store_error(s->tickets));
}

static int sessions__state_fail(struct sessions *s, enum sess_state st)
{
    return sessions__fail(s, SESS_ERR_STATE, "%s.", sess_state_text(st));
}

static struct db_stmt *sessions__stmt(struct sessions *s,
                                    enum sessions__stmt which)
{
    struct db_stmt *st = s->stmt[which];
    db_reset(st);
    db_clear_bindings(st);
    return st;
}

/* Bind text, NULL for a NULL or empty string. */
static void sessions__bind_opt(struct db_stmt *st, int col, const char *text)
{
    if (text && *text)
        db_bind_text(st, col, text, -1, DB_STATIC);
    else
        db_bind_null(st, col);
}

static void sessions__bind_named(struct db_stmt *st, const char *name,
                                 const char *text)
{
    int col = db_bind_parameter_index(st, name);
    if (col > 0)
        db_bind_text(st, col, text ? text : "", -1, DB_STATIC);
}

static char *sessions__col_dup(struct db_stmt *st, int col)
{
    const unsigned char *t = db_column_text(st, col);
    return strdup(t ? (const char *)t : "");
}

static bool sessions__blank(const char *text)
{
    return !text || !text[strspn(text, " \t\r\n")];
}

/* Normalise a JID argument; what names it in the message. */
static int sessions__bare(struct sessions *s, const char *jid, char *out,
                          const char *what)
{
    if (directory_jid_bare(jid, out, DIR_JID_MAX) == 0)
        return SESS_OK;
    return sessions__fail(s, SESS_ERR_INVALID,
                          "The %s JID \"%s\" is not a valid JID like "
                          "user@example.com.",
                          what, jid ? jid : "");
}

/* BEGIN IMMEDIATE, refusing inside a caller's transaction: our COMMIT must
 * be the one that makes the data durable. */
static int sessions__begin(struct sessions *s)
{
    if (!db_get_autocommit(s->db))
        return sessions__fail(s, SESS_ERR_STORE,
                              "sessions: called inside an open transaction");
    s->gen++; /* whatever it writes: forget the checks seen */
    if (store_begin(s->st) != 0)
        return sessions__store_fail(s, "start a transaction");
    return SESS_OK;
}

/* COMMIT when rc is SESS_OK, else ROLLBACK; returns the final code. */
static int sessions__finish(struct sessions *s, int rc)
{
    if (rc == SESS_OK && store_commit(s->st) == 0)
        return SESS_OK;
    if (rc == SESS_OK)
        rc = sessions__store_fail(s, "save the change");
    store_rollback(s->st);
    return rc;
}

/* A person's name for notices: the directory name made safe to show
 * (runtime/nick), else the JID's localpart. */
static void sessions__display_name(struct sessions *s, const char *bare,
                                   char *out, size_t outlen)
{
    struct contact c;
    struct tech t;
    const char *name = NULL;
    if (directory_contact_find(s->dir, bare, &c) == DIR_OK)
        name = c.name;
    else if (directory_tech_find(s->dir, bare, &t) == DIR_OK)
        name = t.name;
    if (name && nick_clean_text(name, out, outlen))
        return;
    int len = (int)strcspn(bare, "@");
    snprintf(out, outlen, "%.*s", len, bare);
}

/* ---- freeing ---------------------------------------------------------- */

void sess_info_clear(struct sess_info *i)
{
    if (!i)
        return;
    free(i->contact_jid);
    free(i->description);
    free(i->answered_by);
    free(i->closer_jid);
    free(i->callback_phone);
    free(i->callback_note);
    free(i->closing_note);
    free(i->closing_note_by);
    memset(i, 0, sizeof *i);
}

void sess_list_free(struct sess_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        sess_info_clear(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void sess_member_list_free(struct sess_member_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].jid);
        free(l->items[i].nick);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void sess_transfer_list_free(struct sess_transfer_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].from_jid);
        free(l->items[i].to_jid);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void sess_message_list_free(struct sess_message_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].from_jid);
        free(l->items[i].nick);
        free(l->items[i].body);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

/* Grow an array of elem-sized items to hold one more. 0 or -1. */
static int sessions__grow(void **items, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(*items, ncap * elem);
    if (!p)
        return -1;
    *items = p;
    *cap = ncap;
    return 0;
}

/* ---- reading rows ----------------------------------------------------- */

static int sessions__info_row(struct db_stmt *st, struct sess_info *i)
{
    memset(i, 0, sizeof *i);
    i->id = db_column_int64(st, 0);
    i->ticket_id = db_column_int64(st, 1);
    i->company_id = db_column_int64(st, 2);
    i->contact_jid = sessions__col_dup(st, 3);
    if (sess_state_parse((const char *)db_column_text(st, 4), &i->state) !=
        0)
        i->state = SESS_CLOSED;
    i->description = sessions__col_dup(st, 5);
    i->created = (time_t)db_column_int64(st, 6);
    i->answered_at = (time_t)db_column_int64(st, 7);
    i->answered_by = sessions__col_dup(st, 8);
    i->ended_at = (time_t)db_column_int64(st, 9);
    i->closer_jid = sessions__col_dup(st, 10);
    i->last_activity = (time_t)db_column_int64(st, 11);
    i->callback_phone = sessions__col_dup(st, 12);
    i->callback_note = sessions__col_dup(st, 13);
    i->closing_note = sessions__col_dup(st, 14);
    i->closing_note_by = sessions__col_dup(st, 15);
    i->closing_note_at = (time_t)db_column_int64(st, 16);
    if (i->contact_jid && i->description && i->answered_by && i->closer_jid &&
        i->callback_phone && i->callback_note && i->closing_note &&
        i->closing_note_by)
        return 0;
    sess_info_clear(i);
    return -1;
}

/* Step a prepared list statement and collect its session rows. */
static int sessions__collect(struct sessions *s, struct db_stmt *st,
                             struct sess_list *out)
{
    struct sess_list l = {NULL, 0};
    size_t cap = 0;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        if (sessions__grow((void **)&l.items, l.n, &cap, sizeof *l.items) ||
            sessions__info_row(st, &l.items[l.n]) != 0) {
            rc = DB_NOMEM;
            break;
        }
        l.n++;
    }
    db_reset(st);
    if (rc != DB_DONE) {
        sess_list_free(&l);
        return sessions__store_fail(s, "list sessions");
    }
    *out = l;
    return SESS_OK;
}

int sessions_get(struct sessions *s, int64_t id, struct sess_info *out)
{
    memset(out, 0, sizeof *out); /* cleared on failure: callers clear it */
    struct db_stmt *st = sessions__stmt(s, S_GET);
    db_bind_int64(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_ROW && sessions__info_row(st, out) != 0)
        rc = DB_NOMEM;
    db_reset(st);
    if (rc == DB_DONE)
        return sessions__fail(s, SESS_ERR_NOT_FOUND,
                              "There is no chat session %" PRId64 ".", id);
    return rc == DB_ROW ? SESS_OK
                            : sessions__store_fail(s, "read the session");
}

int sessions_room_id(const char *localpart, int64_t *id)
{
    bool ok = localpart && !strncasecmp(localpart, "chat-", 5);
    const char *digits = ok ? localpart + 5 : "";
    int64_t v = 0;
    ok = ok && digits[0] >= '1' && digits[0] <= '9' && strlen(digits) <= 18;
    for (const char *p = digits; ok && *p; p++) {
        ok = *p >= '0' && *p <= '9';
        v = v * 10 + (*p - '0');
    }
    *id = ok ? v : 0;
    return ok ? 0 : -1;
}

int sessions_get_by_room(struct sessions *s, const char *localpart,
                         struct sess_info *out)
{
    int64_t id;
    if (sessions_room_id(localpart, &id) != 0) {
        memset(out, 0, sizeof *out);
        return sessions__fail(s, SESS_ERR_NOT_FOUND,
                              "There is no chat room \"%s\".",
                              localpart ? localpart : "");
    }
    return sessions_get(s, id, out);
}

char *sessions_room_localpart(int64_t id, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "chat-%" PRId64, id);
    return buf;
}

/* ---- members ---------------------------------------------------------- */

/* The kind (and, if nick is not NULL, the nick) of bare in session id. */
static int sessions__member(struct sessions *s, int64_t id, const char *bare,
                            enum sess_member_kind *kind, char *nick,
                            size_t nicklen)
{
    struct db_stmt *st = sessions__stmt(s, S_MEMBER_GET);
    db_bind_int64(st, 1, id);
    db_bind_text(st, 2, bare, -1, DB_STATIC);
    int rc = db_step(st);
    *kind = SESS_MEMBER_NONE;
    if (rc == DB_ROW) {
        const char *k = (const char *)db_column_text(st, 0);
        const char *n = (const char *)db_column_text(st, 1);
        *kind =
            k && !strcmp(k, "tech") ? SESS_MEMBER_TECH : SESS_MEMBER_CONTACT;
        if (nick)
            snprintf(nick, nicklen, "%s", n ? n : "");
    }
    db_reset(st);
    if (rc != DB_ROW && rc != DB_DONE)
        return sessions__store_fail(s, "read the session's members");
    return SESS_OK;
}

static int sessions__add_member(struct sessions *s, int64_t id,
                                const char *bare, enum sess_member_kind kind,
                                time_t now)
{
    char nick[DIR_NAME_MAX];
    sessions__display_name(s, bare, nick, sizeof nick);
    struct db_stmt *st = sessions__stmt(s, S_MEMBER_INSERT);
    db_bind_int64(st, 1, id);
    db_bind_text(st, 2, bare, -1, DB_STATIC);
    db_bind_text(st, 3, sess_member_kind_name(kind), -1, DB_STATIC);
    db_bind_text(st, 4, nick, -1, DB_TRANSIENT);
    db_bind_int64(st, 5, (int64_t)now);
    int rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? SESS_OK
                             : sessions__store_fail(s, "add a member");
}

enum sess_member_kind sessions_is_member(struct sessions *s, int64_t id,
                                         const char *jid)
{
    char bare[DIR_JID_MAX];
    enum sess_member_kind kind = SESS_MEMBER_NONE;
    if (directory_jid_bare(jid, bare, sizeof bare) != 0)
        return SESS_MEMBER_NONE;
    if (sessions__member(s, id, bare, &kind, NULL, 0) != SESS_OK)
        return SESS_MEMBER_NONE;
    return kind;
}

int sessions_members(struct sessions *s, int64_t id,
                     struct sess_member_list *out)
{
    struct sess_member_list l = {NULL, 0};
    size_t cap = 0;
    int rc;
    struct db_stmt *st = sessions__stmt(s, S_MEMBERS);
    db_bind_int64(st, 1, id);
    while ((rc = db_step(st)) == DB_ROW) {
        if (sessions__grow((void **)&l.items, l.n, &cap, sizeof *l.items)) {
            rc = DB_NOMEM;
            break;
        }
        struct sess_member *m = &l.items[l.n++];
        const char *k = (const char *)db_column_text(st, 1);
        m->jid = sessions__col_dup(st, 0);
        m->kind =
            k && !strcmp(k, "tech") ? SESS_MEMBER_TECH : SESS_MEMBER_CONTACT;
        m->nick = sessions__col_dup(st, 2);
        m->joined_at = (time_t)db_column_int64(st, 3);
        if (!m->jid || !m->nick) {
            rc = DB_NOMEM;
            break;
        }
    }
    db_reset(st);
    if (rc != DB_DONE) {
        sess_member_list_free(&l);
        return sessions__store_fail(s, "list the session's members");
    }
    *out = l;
    return SESS_OK;
}

/* ---- messages --------------------------------------------------------- */

/* 16 random hex characters. getrandom() failing (very old kernels) falls
 * back to time and a counter: still unique thanks to the UNIQUE retry. */
static void sessions__stanza_id(char out[SESS_STANZA_ID_LEN + 1])
{
    static uint64_t counter;
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        v = ((uint64_t)clock_mono_ms() << 20) ^ (uint64_t)time(NULL) ^
            (++counter * 0x9e3779b97f4a7c15u);
    snprintf(out, SESS_STANZA_ID_LEN + 1, "%016" PRIx64, v);
}

/* Insert a message (inside the caller's transaction). fixed: keep the
 * stanza id already in out (stamped by sessions_prepare_message(), maybe
 * seen by nobody yet but promised): one attempt; else draw one, retrying
 * on a collision. */
static int sessions__insert_message(struct sessions *s, int64_t id,
                                    const char *from, const char *nick,
                                    const char *body, enum sess_msg_kind kind,
                                    const char *origin, time_t now,
                                    bool fixed, struct sess_stored *out)
{
    int rc = DB_CONSTRAINT;
    int64_t row = 0;
    for (int attempt = 0; attempt < (fixed ? 1 : 4) &&
                          rc == DB_CONSTRAINT; attempt++) {
        if (!fixed)
            sessions__stanza_id(out->stanza_id);
        struct db_stmt *st = sessions__stmt(s, fixed ? S_MSG_STORE
                                                     : S_MSG_INSERT);
        db_bind_text(st, 1, out->stanza_id, -1, DB_STATIC);
        db_bind_int64(st, 2, id);
        db_bind_text(st, 3, from, -1, DB_STATIC);
        db_bind_text(st, 4, nick, -1, DB_STATIC);
        db_bind_text(st, 5, body, -1, DB_STATIC);
        db_bind_int64(st, 6, (int64_t)now);
        db_bind_text(st, 7, kind == SESS_MSG_SYSTEM ? "system" : "chat",
                          -1, DB_STATIC);
        sessions__bind_opt(st, 8, origin);
        rc = fixed ? db_step(st) : db_step_id(st, &row);
        db_reset(st);
    }
    if (rc != DB_DONE)
        return sessions__store_fail(s, "store the message");
    out->id = row;
    out->at = now;
    return SESS_OK;
}

static int sessions__message_row(struct db_stmt *st, struct sess_message *m)
{
    const char *sid = (const char *)db_column_text(st, 1);
    const char *kind = (const char *)db_column_text(st, 6);
    memset(m, 0, sizeof *m);
    m->id = db_column_int64(st, 0);
    snprintf(m->stanza_id, sizeof m->stanza_id, "%s", sid ? sid : "");
    m->from_jid = sessions__col_dup(st, 2);
    m->nick = sessions__col_dup(st, 3);
    m->body = sessions__col_dup(st, 4);
    m->created = (time_t)db_column_int64(st, 5);
    m->kind = kind && !strcmp(kind, "system") ? SESS_MSG_SYSTEM : SESS_MSG_CHAT;
    return m->from_jid && m->nick && m->body ? 0 : -1;
}

int sessions_history(struct sessions *s, int64_t id, size_t limit,
                     struct sess_message_list *out)
{
    struct sess_message_list l = {NULL, 0};
    size_t cap = 0;
    int rc;
    struct db_stmt *st = sessions__stmt(s, S_HISTORY);
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, limit ? (int64_t)limit : INT64_MAX);
    while ((rc = db_step(st)) == DB_ROW) {
        if (sessions__grow((void **)&l.items, l.n, &cap, sizeof *l.items)) {
            rc = DB_NOMEM;
            break;
        }
        if (sessions__message_row(st, &l.items[l.n++]) != 0) {
            rc = DB_NOMEM;
            break;
        }
    }
    db_reset(st);
    if (rc != DB_DONE) {
        sess_message_list_free(&l);
        return sessions__store_fail(s, "read the messages");
    }
    *out = l;
    return SESS_OK;
}

/* ---- transcript ------------------------------------------------------- */

struct sessions__buf {
    char *p;
    size_t n;
    size_t cap;
    bool oom;
};

static void sessions__put(struct sessions__buf *b, const char *text, size_t len)
{
    if (b->oom)
        return;
    if (b->n + len + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap < b->n + len + 1)
            ncap *= 2;
        char *p = realloc(b->p, ncap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = ncap;
    }
    memcpy(b->p + b->n, text, len);
    b->n += len;
    b->p[b->n] = '\0';
}

/* One transcript entry; line breaks in the body continue indented. */
static void sessions__put_message(struct sessions__buf *b,
                                  const struct sess_message *m)
{
    char stamp[64];
    struct tm tm;
    time_t t = m->created;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "[%Y-%m-%d %H:%M:%S UTC] ", &tm);
    if (b->n)
        sessions__put(b, "\n", 1);
    sessions__put(b, stamp, strlen(stamp));
    if (m->kind == SESS_MSG_SYSTEM) {
        sessions__put(b, "* ", 2);
    } else {
        sessions__put(b, m->nick, strlen(m->nick));
        sessions__put(b, ": ", 2);
    }
    for (const char *p = m->body; *p;) {
        size_t len = strcspn(p, "\r\n");
        sessions__put(b, p, len);
        p += len;
        if (*p == '\r' && p[1] == '\n')
            p++;
        if (*p) {
            p++;
            sessions__put(b, "\n    ", 5);
        }
    }
}

int sessions_transcript(struct sessions *s, int64_t id, char **out)
{
    struct sess_message_list l;
    struct sessions__buf b = {NULL, 0, 0, false};
    int rc = sessions_history(s, id, 0, &l);
    if (rc != SESS_OK)
        return rc;
    sessions__put(&b, "", 0);
    for (size_t i = 0; i < l.n; i++)
        sessions__put_message(&b, &l.items[i]);
    sess_message_list_free(&l);
    if (b.oom) {
        free(b.p);
        return sessions__fail(s, SESS_ERR_STORE, "out of memory");
    }
    *out = b.p;
    return SESS_OK;
}

/* ---- transitions: building blocks (inside a transaction) -------------- */

/* from -> to, guarded on the state so a concurrent change is refused. */
static int sessions__move(struct sessions *s, int64_t id, enum sess_state from,
                          enum sess_state to, time_t now, const char *closer)
{
    struct db_stmt *st = sessions__stmt(s, S_MOVE);
    db_bind_int64(st, 1, id);
    db_bind_text(st, 2, sess_state_name(from), -1, DB_STATIC);
    db_bind_text(st, 3, sess_state_name(to), -1, DB_STATIC);
    db_bind_int64(st, 4, (int64_t)now);
    sessions__bind_opt(st, 5, closer);
    int rc = db_step(st);
    db_reset(st);
    if (rc != DB_DONE)
        return sessions__store_fail(s, "change the session");
    if (db_changes(s->db) != 1)
        return sessions__fail(s, SESS_ERR_STATE,
                              "The session changed meanwhile; try again.");
    return SESS_OK;
}

static int sessions__write_transcript(struct sessions *s,
                                      const struct sess_info *info,
                                      const char *author)
{
    char *text = NULL;
    int rc = sessions_transcript(s, info->id, &text);
    if (rc != SESS_OK)
        return rc;
    rc = ticket_add_note(s->tickets, info->ticket_id, TICKET_NOTE_TRANSCRIPT,
                         author, text);
    free(text);
    return rc == TICKET_OK
               ? SESS_OK
               : sessions__ticket_fail(s, "write the transcript to the ticket");
}

/* Leave the live states: move, store the notice, write the transcript. */
static int sessions__leave_live(struct sessions *s,
                                const struct sess_info *info,
                                enum sess_state to, const char *closer,
                                const char *author, const char *notice,
                                time_t now, struct sess_result *r)
{
    int rc = sessions__move(s, info->id, info->state, to, now, closer);
    if (rc == SESS_OK)
        rc = sessions__insert_message(s, info->id, "", "", notice,
                                      SESS_MSG_SYSTEM, NULL, now, false,
                                      &r->notice);
    if (rc == SESS_OK)
        rc = sessions__write_transcript(s, info, author);
    if (rc == SESS_OK) {
        /* Reported only if the caller's COMMIT succeeds (else zeroed). */
        snprintf(r->notice.body, sizeof r->notice.body, "%s", notice);
        r->notice.stored = true;
        r->after = to;
    }
    return rc;
}

/* Store the closing note (empty: remove it) and append it to the ticket. */
static int sessions__write_note(struct sessions *s,
                                const struct sess_info *info, const char *jid,
                                const char *note, time_t now)
{
    bool has = note && *note;
    struct db_stmt *st = sessions__stmt(s, S_NOTE_SET);
    db_bind_int64(st, 1, info->id);
    sessions__bind_opt(st, 2, note);
    sessions__bind_opt(st, 3, has ? jid : NULL);
    if (has)
        db_bind_int64(st, 4, (int64_t)now);
    else
        db_bind_null(st, 4);
    db_bind_text(st, 5, jid, -1, DB_STATIC);
    int rc = db_step(st);
    db_reset(st);
    if (rc != DB_DONE)
        return sessions__store_fail(s, "save the closing note");
    if (ticket_add_note(s->tickets, info->ticket_id, TICKET_NOTE_CLOSING, jid,
                        has ? note : "(closing note removed)") != TICKET_OK)
        return sessions__ticket_fail(s, "add the closing note to the ticket");
    return SESS_OK;
}

/* Load the session for a transition and start the result. */
static int sessions__load(struct sessions *s, int64_t id,
                          struct sess_info *info, struct sess_result *r)
{
    memset(r, 0, sizeof *r);
    int rc = sessions_get(s, id, info);
    if (rc != SESS_OK)
        return rc;
    r->session_id = id;
    r->before = r->after = info->state;
    return SESS_OK;
}

/* End of every public transition: clear, zero the result on failure. */
static int sessions__done(struct sess_info *info, struct sess_result *r, int rc)
{
    sess_info_clear(info);
    if (rc != SESS_OK)
        memset(r, 0, sizeof *r);
    return rc;
}

/* ---- creating --------------------------------------------------------- */

/* The session row; its id into *id. */
static int sessions__insert(struct sessions *s, int64_t ticket, int64_t company,
                            const char *contact, enum sess_state state,
                            const char *description, const char *answered_by,
                            time_t now, int64_t *id)
{
    struct db_stmt *st = sessions__stmt(s, S_INSERT);
    db_bind_int64(st, 1, ticket);
    if (company)
        db_bind_int64(st, 2, company);
    else
        db_bind_null(st, 2);
    db_bind_text(st, 3, contact, -1, DB_STATIC);
    db_bind_text(st, 4, sess_state_name(state), -1, DB_STATIC);
    db_bind_text(st, 5, description, -1, DB_STATIC);
    db_bind_int64(st, 6, (int64_t)now);
    if (answered_by)
        db_bind_int64(st, 7, (int64_t)now);
    else
        db_bind_null(st, 7);
    sessions__bind_opt(st, 8, answered_by);
    int rc = db_step_id(st, id);
    db_reset(st);
    return rc == DB_DONE ? SESS_OK
                             : sessions__store_fail(s, "create the session");
}

/* Read the ticket: NOT_FOUND, or STATE when it is closed and must be open. */
static int sessions__ticket(struct sessions *s, int64_t ticket_id,
                            bool must_be_open, struct ticket *t)
{
    int rc = ticket_get(s->tickets, ticket_id, t);
    if (rc == TICKET_ERR_NOT_FOUND)
        return sessions__fail(s, SESS_ERR_NOT_FOUND,
                              "There is no ticket #%" PRId64 ".", ticket_id);
    if (rc != TICKET_OK)
        return sessions__ticket_fail(s, "read the ticket");
    if (must_be_open && t->status != TICKET_OPEN) {
        ticket_clear(t);
        return sessions__fail(s, SESS_ERR_STATE,
                              "Ticket #%" PRId64 " is closed; a chat needs "
                              "an open ticket.",
                              ticket_id);
    }
    return SESS_OK;
}

/* The checks of a new waiting session: the contact's bare JID into bare,
 * a description of 1..TICKET_SUMMARY_MAX bytes, and *company_id (0) filled
 * in from the directory. */
static int sessions__waiting_args(struct sessions *s, const char *contact,
                                  const char *description, char *bare,
                                  int64_t *company_id)
{
    struct contact c;
    int rc = sessions__bare(s, contact, bare, "contact");
    if (rc != SESS_OK)
        return rc;
    if (sessions__blank(description) ||
        strlen(description) > TICKET_SUMMARY_MAX)
        return sessions__fail(s, SESS_ERR_INVALID,
                              "Describe the problem in a few words (at most "
                              "%d bytes).",
                              TICKET_SUMMARY_MAX);
    if (!*company_id && directory_contact_find(s->dir, bare, &c) == DIR_OK)
        *company_id = c.company_id;
    return SESS_OK;
}

/* Inside a transaction: the waiting session row and its contact member. */
static int sessions__insert_waiting(struct sessions *s, const char *bare,
                                    int64_t company_id, int64_t ticket_id,
                                    const char *description, int64_t *id)
{
    time_t now = clock_now();
    int rc = sessions__insert(s, ticket_id, company_id, bare, SESS_WAITING,
                              description, NULL, now, id);
    if (rc == SESS_OK)
        rc = sessions__add_member(s, *id, bare, SESS_MEMBER_CONTACT, now);
    return rc;
}

int sessions_create_waiting(struct sessions *s, const char *contact,
                            int64_t company_id, int64_t ticket_id,
                            const char *description, int64_t *id_out)
{
    char bare[DIR_JID_MAX];
    struct ticket t;
    int64_t id = 0;
    int rc = sessions__waiting_args(s, contact, description, bare, &company_id);
    if (rc != SESS_OK)
        return rc;
    rc = sessions__ticket(s, ticket_id, false, &t);
    if (rc != SESS_OK)
        return rc;
    ticket_clear(&t);
    rc = sessions__begin(s);
    if (rc != SESS_OK)
        return rc;
    rc = sessions__finish(s, sessions__insert_waiting(s, bare, company_id,
                                                      ticket_id, description,
                                                      &id));
    if (rc == SESS_OK && id_out)
        *id_out = id;
    return rc;
}

int sessions_start_chat(struct sessions *s, const char *contact,
                        int64_t contact_id, const char *description,
                        int64_t *ticket_out, int64_t *id_out)
{
    char bare[DIR_JID_MAX];
    int64_t company_id = 0, ticket = 0, id = 0;
    int rc = sessions__waiting_args(s, contact, description, bare, &company_id);
    if (rc == SESS_OK)
        rc = sessions__begin(s);
    if (rc != SESS_OK)
        return rc;
    struct ticket_draft draft = {company_id, contact_id, description};
    if (ticket_create(s->tickets, &draft, &ticket) != TICKET_OK)
        rc = sessions__ticket_fail(s, "create the ticket");
    else
        rc = sessions__insert_waiting(s, bare, company_id, ticket, description,
                                      &id);
    rc = sessions__finish(s, rc);
    if (rc == SESS_OK) {
        *ticket_out = ticket;
        *id_out = id;
    }
    return rc;
}

int sessions_create_active(struct sessions *s, int64_t ticket_id,
                           const char *contact, const char *tech,
                           int64_t *id_out)
{
    char cbare[DIR_JID_MAX], tbare[DIR_JID_MAX];
    struct ticket t;
    int rc = sessions__bare(s, contact, cbare, "contact");
    if (rc == SESS_OK)
        rc = sessions__bare(s, tech, tbare, "technician");
    if (rc != SESS_OK)
        return rc;
    if (!strcmp(cbare, tbare))
        return sessions__fail(s, SESS_ERR_INVALID,
                              "A technician cannot push a chat to "
                              "themselves.");
    rc = sessions__ticket(s, ticket_id, true, &t);
    if (rc != SESS_OK)
        return rc;
    time_t now = clock_now();
    rc = sessions__begin(s);
    if (rc == SESS_OK) {
        int64_t id = 0;
        rc = sessions__insert(s, ticket_id, t.company_id, cbare, SESS_ACTIVE,
                              t.summary, tbare, now, &id);
        if (rc == SESS_OK)
            rc = sessions__add_member(s, id, cbare, SESS_MEMBER_CONTACT, now);
        if (rc == SESS_OK)
            rc = sessions__add_member(s, id, tbare, SESS_MEMBER_TECH, now);
        rc = sessions__finish(s, rc);
        if (rc == SESS_OK && id_out)
            *id_out = id;
    }
    ticket_clear(&t);
    return rc;
}

/* ---- transitions ------------------------------------------------------ */

/* Inside the transaction of tech_join. */
static int sessions__join(struct sessions *s, const struct sess_info *info,
                          const char *tech, time_t now, struct sess_result *r)
{
    if (info->state == SESS_WAITING) {
        struct db_stmt *st = sessions__stmt(s, S_TAKE);
        db_bind_int64(st, 1, info->id);
        db_bind_int64(st, 2, (int64_t)now);
        db_bind_text(st, 3, tech, -1, DB_STATIC);
        int rc = db_step(st);
        db_reset(st);
        if (rc != DB_DONE)
            return sessions__store_fail(s, "take the session");
        r->took = db_changes(s->db) == 1;
    }
    r->after = SESS_ACTIVE;
    return sessions__add_member(s, info->id, tech, SESS_MEMBER_TECH, now);
}

/* Load session id for a transition by tech, whose bare JID goes into bare
 * (DIR_JID_MAX bytes): SESS_ERR_FORBIDDEN with the sentence why when tech
 * is the session's own contact. Finish with sessions__done() either way. */
static int sessions__load_tech(struct sessions *s, int64_t id, const char *tech,
                               char *bare, struct sess_info *info,
                               struct sess_result *r, const char *why)
{
    int rc = sessions__load(s, id, info, r);
    if (rc == SESS_OK)
        rc = sessions__bare(s, tech, bare, "technician");
    if (rc == SESS_OK && !strcmp(bare, info->contact_jid))
        rc = sessions__fail(s, SESS_ERR_FORBIDDEN, "%s", why);
    return rc;
}

int sessions_tech_join(struct sessions *s, int64_t id, const char *tech,
                       struct sess_result *r)
{
    char bare[DIR_JID_MAX];
    struct sess_info info;
    int rc = sessions__load_tech(s, id, tech, bare, &info, r,
                                 "You are the contact of this chat, not one "
                                 "of its technicians.");
    if (rc == SESS_OK && !sessions__live(info.state))
        rc = sessions__state_fail(s, info.state);
    if (rc == SESS_OK)
        rc = sessions__begin(s);
    if (rc == SESS_OK)
        rc =
            sessions__finish(s, sessions__join(s, &info, bare, clock_now(), r));
    return sessions__done(&info, r, rc);
}

/* Inside a transaction: waiting session info is abandoned by its contact. */
static int sessions__abandon(struct sessions *s, const struct sess_info *info,
                             struct sess_result *r)
{
    char name[DIR_NAME_MAX], notice[SESS_NOTICE_MAX];
    sessions__display_name(s, info->contact_jid, name, sizeof name);
    snprintf(notice, sizeof notice, "%s left before a technician answered.",
             name);
    return sessions__leave_live(s, info, SESS_ABANDONED, NULL,
                                info->contact_jid, notice, clock_now(), r);
}

int sessions_contact_gone(struct sessions *s, int64_t id, struct sess_result *r)
{
    struct sess_info info;
    int rc = sessions__load(s, id, &info, r);
    if (rc != SESS_OK || info.state != SESS_WAITING)
        return sessions__done(&info, r, rc);
    rc = sessions__begin(s);
    if (rc == SESS_OK)
        rc = sessions__finish(s, sessions__abandon(s, &info, r));
    return sessions__done(&info, r, rc);
}

int sessions_contact_gone_many(struct sessions *s, const int64_t *ids,
                               size_t n, struct sess_result *out)
{
    int rc = n ? sessions__begin(s) : SESS_OK;
    for (size_t i = 0; rc == SESS_OK && i < n; i++) {
        struct sess_info info;
        rc = sessions__load(s, ids[i], &info, &out[i]);
        if (rc == SESS_ERR_NOT_FOUND)
            rc = SESS_OK; /* gone meanwhile: nothing to do, out[i] zeroed */
        else if (rc == SESS_OK && info.state == SESS_WAITING)
            rc = sessions__abandon(s, &info, &out[i]);
        sess_info_clear(&info);
    }
    if (n)
        rc = sessions__finish(s, rc);
    if (rc != SESS_OK)
        memset(out, 0, n * sizeof *out);
    return rc;
}

/* Inside the transaction of end_by_tech. */
static int sessions__tech_end(struct sessions *s, const struct sess_info *info,
                              const char *tech, const char *note,
                              struct sess_result *r)
{
    char name[DIR_NAME_MAX], notice[SESS_NOTICE_MAX];
    time_t now = clock_now();
    int rc;
    if (sessions__live(info->state)) {
        sessions__display_name(s, tech, name, sizeof name);
        snprintf(notice, sizeof notice, "%s ended the chat.", name);
        rc = sessions__leave_live(s, info, SESS_ENDED, tech, tech, notice, now,
                                  r);
    } else {
        rc = sessions__move(s, info->id, info->state, SESS_CLOSED, now, tech);
        r->after = SESS_CLOSED;
    }
    if (rc == SESS_OK && note && *note)
        rc = sessions__write_note(s, info, tech, note, now);
    return rc;
}

int sessions_end_by_tech(struct sessions *s, int64_t id, const char *tech,
                         const char *note, struct sess_result *r)
{
    char bare[DIR_JID_MAX];
    struct sess_info info;
    int rc = sessions__load_tech(s, id, tech, bare, &info, r,
                                 "Only a technician can end this session "
                                 "this way; use end-chat.");
    if (rc == SESS_OK && note && strlen(note) > SESS_CLOSING_NOTE_MAX)
        rc = sessions__fail(s, SESS_ERR_INVALID,
                            "The closing note is too long (at most %d "
                            "bytes).",
                            SESS_CLOSING_NOTE_MAX);
    if (rc == SESS_OK &&
        (info.state == SESS_ENDED || info.state == SESS_CLOSED))
        rc = sessions__state_fail(s, info.state);
    if (rc == SESS_OK)
        rc = sessions__begin(s);
    if (rc == SESS_OK)
        rc = sessions__finish(s, sessions__tech_end(s, &info, bare, note, r));
    return sessions__done(&info, r, rc);
}

/* ---- transfer --------------------------------------------------------- */

/* Inside the transaction of sessions_transfer(): the move (to the queue),
 * the transfers row and the room's notice. to "" = the queue. */
static int sessions__hand_over(struct sessions *s, const struct sess_info *info,
                               const char *from, const char *to, time_t now,
                               struct sess_result *r)
{
    char who[DIR_NAME_MAX], whom[DIR_NAME_MAX], notice[SESS_NOTICE_MAX];
    int rc =
        *to ? SESS_OK
            : sessions__move(s, info->id, SESS_ACTIVE, SESS_WAITING, now, NULL);
    struct db_stmt *st = sessions__stmt(s, S_TRANSFER_ADD);
    db_bind_int64(st, 1, info->id);
    db_bind_text(st, 2, from, -1, DB_STATIC);
    sessions__bind_opt(st, 3, *to ? to : NULL);
    db_bind_int64(st, 4, (int64_t)now);
    if (rc == SESS_OK && db_step(st) != DB_DONE)
        rc = sessions__store_fail(s, "record the transfer");
    db_reset(st);
    sessions__display_name(s, from, who, sizeof who);
    if (*to) {
        sessions__display_name(s, to, whom, sizeof whom);
        snprintf(notice, sizeof notice,
                 "%s handed this chat over to %s, who will join shortly.", who,
                 whom);
    } else {
        snprintf(notice, sizeof notice,
                 "%s put this chat back in the queue; the next available "
                 "technician will help you.",
                 who);
    }
    if (rc == SESS_OK)
        rc = sessions__insert_message(s, info->id, "", "", notice,
                                      SESS_MSG_SYSTEM, NULL, now, false,
                                      &r->notice);
    if (rc == SESS_OK) {
        snprintf(r->notice.body, sizeof r->notice.body, "%s", notice);
        r->notice.stored = true;
        r->after = *to ? SESS_ACTIVE : SESS_WAITING;
    }
    return rc;
}

int sessions_transfer(struct sessions *s, int64_t id, const char *from_tech,
                      const char *to_tech, struct sess_result *r)
{
    char from[DIR_JID_MAX], to[DIR_JID_MAX] = "";
    struct sess_info info;
    int rc = sessions__load_tech(s, id, from_tech, from, &info, r,
                                 "You are the contact of this chat, not one "
                                 "of its technicians.");
    if (rc == SESS_OK && to_tech && *to_tech)
        rc = sessions__bare(s, to_tech, to, "target technician");
    if (rc == SESS_OK && info.state != SESS_ACTIVE)
        rc = sessions__fail(s, SESS_ERR_STATE,
                            "Only an active chat can be transferred; this "
                            "one is %s.",
                            sess_state_name(info.state));
    if (rc == SESS_OK && (!strcmp(to, from) || !strcmp(to, info.contact_jid)))
        rc = sessions__fail(s, SESS_ERR_INVALID,
                            "A chat is transferred to another technician "
                            "(\"%s\" is %s).",
                            to, !strcmp(to, from) ? "you" : "its contact");
    if (rc == SESS_OK)
        rc = sessions__begin(s);
    if (rc == SESS_OK)
        rc = sessions__finish(
            s, sessions__hand_over(s, &info, from, to, clock_now(), r));
    return sessions__done(&info, r, rc);
}

int sessions_transfers(struct sessions *s, int64_t id,
                       struct sess_transfer_list *out)
{
    struct db_stmt *st = sessions__stmt(s, S_TRANSFERS);
    int rc;
    memset(out, 0, sizeof *out);
    db_bind_int64(st, 1, id);
    while ((rc = db_step(st)) == DB_ROW) {
        struct sess_transfer *grown =
            realloc(out->items, (out->n + 1) * sizeof *grown);
        if (!grown)
            break;
        out->items = grown;
        struct sess_transfer *t = &out->items[out->n++];
        t->from_jid = sessions__col_dup(st, 0);
        t->to_jid = sessions__col_dup(st, 1);
        t->at = (time_t)db_column_int64(st, 2);
    }
    db_reset(st);
    if (rc != DB_DONE) {
        sess_transfer_list_free(out);
        return sessions__store_fail(s, "read the transfers");
    }
    return SESS_OK;
}

/* end_by_contact and callback: is contact this session's contact? */
static int sessions__is_contact(struct sessions *s,
                                const struct sess_info *info,
                                const char *contact)
{
    char bare[DIR_JID_MAX];
    int rc = sessions__bare(s, contact, bare, "contact");
    if (rc == SESS_OK && strcmp(bare, info->contact_jid) != 0)
        rc = sessions__fail(s, SESS_ERR_FORBIDDEN,
                            "Only the contact of this chat can do this.");
    return rc;
}

/* ---- rating ------------------------------------------------------------ */

/* Inside the transaction of sessions_rate(): the row and the ticket note. */
static int sessions__rate(struct sessions *s, const struct sess_info *info,
                          int score, const char *comment)
{
    char note[SESS_NOTE_MAX + 64];
    struct db_stmt *st = sessions__stmt(s, S_RATE);
    db_bind_int64(st, 1, info->id);
    db_bind_int(st, 2, score);
    db_bind_text(st, 3, comment, -1, DB_STATIC);
    db_bind_text(st, 4, info->contact_jid, -1, DB_STATIC);
    db_bind_int64(st, 5, (int64_t)clock_now());
    int rc = db_step(st);
    db_reset(st);
    if (rc == DB_CONSTRAINT)
        return sessions__fail(s, SESS_ERR_STATE,
                              "This chat has been rated already; a chat is "
                              "rated once.");
    if (rc != DB_DONE)
        return sessions__store_fail(s, "save the rating");
    snprintf(note, sizeof note, "Rating of chat session %" PRId64 ": %d/5%s%s",
             info->id, score, *comment ? "\n" : "", comment);
    if (ticket_add_note(s->tickets, info->ticket_id, TICKET_NOTE_RATING,
                        info->contact_jid, note) != TICKET_OK)
        return sessions__ticket_fail(s, "add the rating to the ticket");
    return SESS_OK;
}

int sessions_rate(struct sessions *s, int64_t id, const char *contact,
                  int score, const char *comment)
{
    struct sess_info info;
    struct sess_result r;
    if (!comment)
        comment = "";
    int rc = sessions__load(s, id, &info, &r);
    if (rc == SESS_OK)
        rc = sessions__is_contact(s, &info, contact);
    if (rc == SESS_OK && info.state != SESS_ENDED)
        rc = sessions__fail(s, SESS_ERR_STATE,
                            "Only an ended chat can be rated; this one is "
                            "%s.",
                            sess_state_name(info.state));
    if (rc == SESS_OK && (score < 1 || score > 5))
        rc = sessions__fail(s, SESS_ERR_INVALID,
                            "A rating is a score from 1 to 5.");
    if (rc == SESS_OK && strlen(comment) > SESS_NOTE_MAX)
        rc = sessions__fail(s, SESS_ERR_INVALID,
                            "The comment is too long (at most %d bytes).",
                            SESS_NOTE_MAX);
    if (rc == SESS_OK)
        rc = sessions__begin(s);
    if (rc == SESS_OK)
        rc = sessions__finish(s, sessions__rate(s, &info, score, comment));
    return sessions__done(&info, &r, rc);
}

int sessions_rating(struct sessions *s, int64_t id, int *score, char **comment)
{
    struct db_stmt *st = sessions__stmt(s, S_RATING);
    *score = 0;
    if (comment)
        *comment = NULL;
    db_bind_int64(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *score = db_column_int(st, 0);
        if (comment)
            *comment = sessions__col_dup(st, 1);
    }
    db_reset(st);
    if (rc == DB_DONE)
        return sessions__fail(s, SESS_ERR_NOT_FOUND,
                              "Chat session %" PRId64 " has no rating.", id);
    return rc == DB_ROW ? SESS_OK
                            : sessions__store_fail(s, "read the rating");
}

/* end_by_contact and callback: does the permission rule allow action for
 * the session's contact at now? */
static int sessions__contact_may(struct sessions *s,
                                 const struct sess_info *info,
                                 enum perm_action action,
                                 const struct settings *st, time_t now,
                                 bool nobody_online)
{
    struct perm_decision d;
    const char *bare = info->contact_jid;
    struct perm_session ps = {
        .waiting = info->state == SESS_WAITING,
        .waited = (long)((info->answered_at ? info->answered_at : now) -
                         info->created),
        .idle = (long)(now - info->last_activity),
        .nobody_online = nobody_online,
    };
    if (perm_check(s->dir, st, bare, action, now, &ps, &d) != 0)
        return sessions__fail(s, SESS_ERR_STORE, "%s", d.reason);
    switch (d.verdict) {
    case PERM_ALLOW:
        return SESS_OK;
    case PERM_DENY_NOT_CONTACT:
        return sessions__fail(s, SESS_ERR_NOT_CONTACT, "%s", d.reason);
    case PERM_DENY_DISABLED:
        return sessions__fail(s, SESS_ERR_DISABLED, "%s", d.reason);
    case PERM_DENY_NOT_YET:
    default:
        return sessions__fail(s, SESS_ERR_NOT_YET, "%s", d.reason);
    }
}

int sessions_end_by_contact(struct sessions *s, int64_t id, const char *contact,
                            const struct settings *st, time_t now,
                            struct sess_result *r)
{
    char name[DIR_NAME_MAX], notice[SESS_NOTICE_MAX];
    struct sess_info info;
    int rc = sessions__load(s, id, &info, r);
    if (rc != SESS_OK)
        return sessions__done(&info, r, rc);
    rc = sessions__is_contact(s, &info, contact);
    if (rc == SESS_OK && !sessions__live(info.state))
        rc = sessions__state_fail(s, info.state);
    if (rc == SESS_OK)
        rc = sessions__contact_may(s, &info, PERM_END_CHAT, st, now, false);
    if (rc == SESS_OK)
        rc = sessions__begin(s);
    if (rc == SESS_OK) {
        bool waiting = info.state == SESS_WAITING;
        sessions__display_name(s, info.contact_jid, name, sizeof name);
        snprintf(notice, sizeof notice, "%s ended the chat%s.", name,
                 waiting ? " before a technician answered" : "");
        rc = sessions__finish(
            s, sessions__leave_live(s, &info,
                                    waiting ? SESS_ABANDONED : SESS_ENDED, NULL,
                                    info.contact_jid, notice, now, r));
    }
    return sessions__done(&info, r, rc);
}

int sessions_phone_check(const char *phone)
{
    if (!phone)
        return -1;
    phone += strspn(phone, " ");
    size_t len = strlen(phone);
    while (len && phone[len - 1] == ' ')
        len--;
    size_t digits = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)phone[i];
        if (isdigit(c))
            digits++;
        else if (!strchr(" +-()", c))
            return -1;
    }
    return len >= SESS_PHONE_MIN && len <= SESS_PHONE_MAX && digits >= 3 ? 0
                                                                         : -1;
}

/* Inside the transaction of callback: fields, notice, transcript, note. */
static int sessions__request_callback(struct sessions *s,
                                      const struct sess_info *info,
                                      const char *phone, const char *note,
                                      time_t now, struct sess_result *r)
{
    char name[DIR_NAME_MAX], notice[SESS_NOTICE_MAX];
    bool has_note = !sessions__blank(note);
    sessions__display_name(s, info->contact_jid, name, sizeof name);
    snprintf(notice, sizeof notice, "%s asked to be called back on %s.%s%s",
             name, phone, has_note ? " Note: " : "", has_note ? note : "");
    struct db_stmt *st = sessions__stmt(s, S_CALLBACK_SET);
    db_bind_int64(st, 1, info->id);
    db_bind_text(st, 2, phone, -1, DB_STATIC);
    sessions__bind_opt(st, 3, has_note ? note : NULL);
    int rc = db_step(st);
    db_reset(st);
    if (rc != DB_DONE)
        return sessions__store_fail(s, "save the callback request");
    rc = sessions__leave_live(s, info, SESS_CALLBACK, NULL, info->contact_jid,
                              notice, now, r);
    if (rc == SESS_OK &&
        ticket_add_note(s->tickets, info->ticket_id, TICKET_NOTE_CALLBACK,
                        info->contact_jid, notice) != TICKET_OK)
        rc = sessions__ticket_fail(s, "add the callback to the ticket");
    return rc;
}

/* Validate the callback's phone and note; phone is copied trimmed. */
static int sessions__callback_args(struct sessions *s, const char *phone,
                                   const char *note, char *out)
{
    if (sessions_phone_check(phone) != 0)
        return sessions__fail(s, SESS_ERR_INVALID,
                              "Give a phone number of %d to %d characters: "
                              "digits, spaces and + - ( ) only.",
                              SESS_PHONE_MIN, SESS_PHONE_MAX);
    if (note && strlen(note) > SESS_NOTE_MAX)
        return sessions__fail(s, SESS_ERR_INVALID,
                              "The note is too long (at most %d bytes).",
                              SESS_NOTE_MAX);
    phone += strspn(phone, " ");
    size_t len = strlen(phone);
    while (len && phone[len - 1] == ' ')
        len--;
    snprintf(out, SESS_PHONE_MAX + 1, "%.*s", (int)len, phone);
    return SESS_OK;
}

int sessions_callback(struct sessions *s, int64_t id, const char *contact,
                      const char *phone, const char *note,
                      const struct settings *st, time_t now, bool nobody_online,
                      struct sess_result *r)
{
    char trimmed[SESS_PHONE_MAX + 1];
    struct sess_info info;
    int rc = sessions__load(s, id, &info, r);
    if (rc != SESS_OK)
        return sessions__done(&info, r, rc);
    rc = sessions__is_contact(s, &info, contact);
    if (rc == SESS_OK && info.state != SESS_WAITING)
        rc = sessions__state_fail(s, info.state);
    if (rc == SESS_OK)
        rc = sessions__contact_may(s, &info, PERM_CALLBACK, st, now,
                                   nobody_online);
    if (rc == SESS_OK)
        rc = sessions__callback_args(s, phone, note, trimmed);
    if (rc == SESS_OK)
        rc = sessions__begin(s);
    if (rc == SESS_OK)
        rc = sessions__finish(
            s, sessions__request_callback(s, &info, trimmed, note, now, r));
    return sessions__done(&info, r, rc);
}

/* May bare write the closing note of info? */
static int sessions__may_note(struct sessions *s, const struct sess_info *info,
                              const char *bare)
{
    enum sess_member_kind kind;
    if (info->state == SESS_ABANDONED || info->state == SESS_CALLBACK)
        return sessions__fail(s, SESS_ERR_STATE,
                              "%s; close it with end-session to add a "
                              "closing note.",
                              sess_state_text(info->state));
    if (sessions__live(info->state))
        return sessions__fail(s, SESS_ERR_STATE,
                              "%s; a closing note can be added once it has "
                              "ended.",
                              sess_state_text(info->state));
    if (info->closer_jid[0] && strcmp(info->closer_jid, bare) != 0)
        return sessions__fail(s, SESS_ERR_FORBIDDEN,
                              "Only %s may edit this closing note.",
                              info->closer_jid);
    if (info->closer_jid[0])
        return SESS_OK;
    int rc = sessions__member(s, info->id, bare, &kind, NULL, 0);
    if (rc == SESS_OK && kind != SESS_MEMBER_TECH)
        rc = sessions__fail(s, SESS_ERR_FORBIDDEN,
                            "Only a technician of this chat may add its "
                            "closing note.");
    return rc;
}

int sessions_set_closing_note(struct sessions *s, int64_t id, const char *jid,
                              const char *note)
{
    char bare[DIR_JID_MAX];
    struct sess_info info;
    struct sess_result r;
    int rc = sessions__load(s, id, &info, &r);
    if (rc == SESS_OK)
        rc = sessions__bare(s, jid, bare, "technician");
    if (rc == SESS_OK)
        rc = sessions__may_note(s, &info, bare);
    if (rc == SESS_OK && note && strlen(note) > SESS_CLOSING_NOTE_MAX)
        rc = sessions__fail(s, SESS_ERR_INVALID,
                            "The closing note is too long (at most %d "
                            "bytes).",
                            SESS_CLOSING_NOTE_MAX);
    if (rc == SESS_OK)
        rc = sessions__begin(s);
    if (rc == SESS_OK)
        rc = sessions__finish(
            s, sessions__write_note(s, &info, bare, note, clock_now()));
    return sessions__done(&info, &r, rc);
}

/* ---- messages (public) ------------------------------------------------ */

/* ---- group commit ----------------------------------------------------- */

int sessions_hold(struct sessions *s)
{
    if (s->held)
        return SESS_OK;
    int rc = sessions__begin(s);
    if (rc == SESS_OK) {
        s->held = 1;
        s->held_failed = 0;
    }
    return rc;
}

bool sessions_held(const struct sessions *s)
{
    return s->held != 0;
}

int sessions_stats(struct sessions *s, struct sess_stats *out)
{
    memset(out, 0, sizeof *out);
    struct db_stmt *st = s->stmt[S_STATE_COUNTS];
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        enum sess_state state;
        if (sess_state_parse((const char *)db_column_text(st, 0),
                             &state) == 0)
            out->by_state[state] = db_column_int64(st, 1);
    }
    db_reset(st);
    if (rc != DB_DONE)
        return sessions__store_fail(s, "count the sessions");
    st = s->stmt[S_MSG_STORED];
    rc = db_step(st);
    if (rc == DB_ROW)
        out->messages = db_column_int64(st, 0);
    db_reset(st);
    if (rc != DB_ROW)
        return sessions__store_fail(s, "count the messages");
    return SESS_OK;
}

/* A chat message's last_activity (inside the caller's transaction). */
static int sessions__touch(struct sessions *s, int64_t id, time_t at)
{
    struct db_stmt *st = sessions__stmt(s, S_TOUCH);
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, (int64_t)at);
    int rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? SESS_OK
                         : sessions__store_fail(s, "update the session");
}

/* sessions__touch() of a prepared message, written at the held
 * transaction's COMMIT: one UPDATE a session, its last message's time
 * (the transaction shows nothing before it commits: the same rows). */
static int sessions__touch_later(struct sessions *s, int64_t id, time_t at)
{
    for (size_t i = 0; i < s->n_touch; i++)
        if (s->touch[i].id == id) {
            s->touch[i].at = at;
            return SESS_OK;
        }
    if (s->n_touch == s->cap_touch) {
        size_t cap = s->cap_touch ? 2 * s->cap_touch : 16;
        struct sessions__touch *grown = realloc(s->touch, cap * sizeof *grown);
        if (!grown)
            return sessions__touch(s, id, at);
        s->touch = grown;
        s->cap_touch = cap;
    }
    s->touch[s->n_touch++] = (struct sessions__touch){id, at};
    return SESS_OK;
}

int sessions_commit_held(struct sessions *s)
{
    if (!s->held)
        return SESS_OK;
    int failed = s->held_failed;
    for (size_t i = 0; i < s->n_touch && !failed; i++)
        failed = sessions__touch(s, s->touch[i].id, s->touch[i].at) != SESS_OK;
    s->n_touch = 0;
    s->held = s->held_failed = 0;
    if (failed) {
        store_rollback(s->st);
        return sessions__fail(s, SESS_ERR_STORE,
                              "A message of this batch could not be stored; "
                              "none of them was saved.");
    }
    return sessions__finish(s, SESS_OK);
}

/* The write of sessions_add_message(): inside the held transaction when
 * there is one (a failure dooms it), else in a transaction of its own.
 * now: the message's time; fixed: see sessions__insert_message(). */
static int sessions__write_message(struct sessions *s, int64_t id,
                                   const char *bare, const char *who,
                                   const char *body, enum sess_msg_kind kind,
                                   const char *origin, time_t now, bool fixed,
                                   struct sess_stored *out)
{
    if (s->held && s->held_failed)
        return sessions__fail(s, SESS_ERR_STORE,
                              "An earlier message of this batch could not be "
                              "stored.");
    int rc = s->held ? SESS_OK : sessions__begin(s);
    if (rc != SESS_OK)
        return rc;
    rc = sessions__insert_message(s, id, bare, who, body, kind, origin, now,
                                  fixed, out);
    if (rc == SESS_OK && kind == SESS_MSG_CHAT)
        rc = fixed && s->held ? sessions__touch_later(s, id, now)
                              : sessions__touch(s, id, now);
    if (s->held) {
        if (rc != SESS_OK)
            s->held_failed = 1;
        out->held = rc == SESS_OK;
        return rc;
    }
    return sessions__finish(s, rc);
}

/* The chat message from bare with origin-id origin already stored in
 * session id into out (out->duplicate): 1; 0 when there is none. Reads
 * inside the held transaction too, so a resend in the same batch is
 * found. */
static int sessions__find_origin(struct sessions *s, int64_t id,
                                 const char *bare, const char *origin,
                                 struct sess_stored *out)
{
    struct db_stmt *st = sessions__stmt(s, S_MSG_ORIGIN);
    db_bind_int64(st, 1, id);
    db_bind_text(st, 2, bare, -1, DB_STATIC);
    db_bind_text(st, 3, origin, -1, DB_STATIC);
    int found = db_step(st) == DB_ROW;
    if (found) {
        const char *sid = (const char *)db_column_text(st, 1);
        out->id = db_column_int64(st, 0);
        snprintf(out->stanza_id, sizeof out->stanza_id, "%s", sid ? sid : "");
        out->at = (time_t)db_column_int64(st, 2);
        out->duplicate = true;
    }
    db_reset(st);
    return found;
}

/* The checks of a message before it is stored: live session, body,
 * author (chat: a member; bare and who get its JID and nick); then, for a
 * chat message with an origin-id, the copy stored before (1 in *dup, out
 * filled as sessions__find_origin() does). */
static int sessions__body_check(struct sessions *s, const char *body)
{
    if (body && *body && strlen(body) <= SESS_BODY_MAX)
        return SESS_OK;
    return sessions__fail(s, SESS_ERR_INVALID,
                          "A message needs a body of at most %d bytes.",
                          SESS_BODY_MAX);
}

/* sessions__check_message() of a chat message up to its author, in one
 * statement (S_MSG_CHECK) where a notice's reads the whole session: the
 * per-message path. The same checks, in the same order: the session, its
 * state, the body, the sender's JID, its membership. */
/* The two slots (session, sender) may take; a hit is in either. */
static void sessions__seen_slots(struct sessions *s, int64_t id,
                                 const char *bare,
                                 struct sessions__seen *slot[2])
{
    uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15u;
    for (const char *p = bare; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3u;
    slot[0] = &s->seen[h % SESSIONS_SEEN];
    slot[1] = &s->seen[(h >> 32) % SESSIONS_SEEN];
}

static bool sessions__seen_is(const struct sessions *s,
                              const struct sessions__seen *e, int64_t id,
                              const char *bare)
{
    return e->id == id && e->gen == s->gen && e->jid && !strcmp(e->jid, bare);
}

/* The nick of a sender whose checks passed in this generation, or NULL.
 * Outside any transaction only: inside one a read may see what is not
 * committed yet. */
static const char *sessions__seen_get(struct sessions *s, int64_t id,
                                      const char *bare)
{
    struct sessions__seen *slot[2];
    if (!s->cache || !db_get_autocommit(s->db))
        return NULL;
    sessions__seen_slots(s, id, bare, slot);
    for (int i = 0; i < 2; i++)
        if (sessions__seen_is(s, slot[i], id, bare))
            return slot[i]->nick;
    return NULL;
}

/* Keep a check that passed (after a miss): in the second slot when only
 * the first holds one of this generation, else in the first. */
static void sessions__seen_put(struct sessions *s, int64_t id,
                               const char *bare, const char *nick)
{
    struct sessions__seen *slot[2];
    if (!s->cache || !db_get_autocommit(s->db))
        return;
    sessions__seen_slots(s, id, bare, slot);
    struct sessions__seen *e =
        slot[0]->gen == s->gen && slot[1]->gen != s->gen ? slot[1] : slot[0];
    if (!e->jid || strcmp(e->jid, bare)) {
        char *jid = strdup(bare);
        if (!jid)
            return;
        free(e->jid);
        e->jid = jid;
    }
    e->id = id;
    e->gen = s->gen;
    snprintf(e->nick, sizeof e->nick, "%s", nick);
}

static int sessions__check_chat(struct sessions *s, int64_t id,
                                const char *from_jid, const char *nick,
                                const char *body, char *bare, char *who)
{
    int bare_rc = directory_jid_bare(from_jid, bare, DIR_JID_MAX);
    const char *seen = bare_rc == 0 ? sessions__seen_get(s, id, bare) : NULL;
    if (seen) { /* live, a member: of the checks only the body's is left */
        int rc = sessions__body_check(s, body);
        if (rc == SESS_OK)
            snprintf(who, DIR_NAME_MAX, "%s", nick && *nick ? nick : seen);
        return rc;
    }
    struct db_stmt *st = sessions__stmt(s, S_MSG_CHECK);
    db_bind_int64(st, 1, id);
    db_bind_text(st, 2, bare_rc == 0 ? bare : "", -1, DB_STATIC);
    int rc = db_step(st), member = 0;
    enum sess_state state = SESS_CLOSED;
    char member_nick[DIR_NAME_MAX] = "";
    if (rc == DB_ROW) {
        const char *k = (const char *)db_column_text(st, 1);
        const char *n = (const char *)db_column_text(st, 2);
        if (sess_state_parse((const char *)db_column_text(st, 0), &state))
            state = SESS_CLOSED;
        member = k != NULL;
        snprintf(member_nick, sizeof member_nick, "%s", n ? n : "");
    }
    db_reset(st);
    if (rc == DB_DONE)
        return sessions__fail(s, SESS_ERR_NOT_FOUND,
                              "There is no chat session %" PRId64 ".", id);
    if (rc != DB_ROW)
        return sessions__store_fail(s, "read the session");
    rc = sessions__live(state) ? sessions__body_check(s, body)
                               : sessions__state_fail(s, state);
    if (rc == SESS_OK && bare_rc != 0)
        rc = sessions__bare(s, from_jid, bare, "sender");
    if (rc == SESS_OK && !member)
        rc = sessions__fail(s, SESS_ERR_FORBIDDEN,
                            "Only members of this chat may write in it.");
    if (rc == SESS_OK) {
        sessions__seen_put(s, id, bare, member_nick);
        snprintf(who, DIR_NAME_MAX, "%s", nick && *nick ? nick : member_nick);
    }
    return rc;
}

static int sessions__check_message(struct sessions *s, int64_t id,
                                   const char *from_jid, const char *nick,
                                   const char *body, enum sess_msg_kind kind,
                                   const char *origin, char *bare, char *who,
                                   int *dup, struct sess_stored *out)
{
    int rc;
    if (kind == SESS_MSG_CHAT) {
        rc = sessions__check_chat(s, id, from_jid, nick, body, bare, who);
    } else {
        struct sess_info info;
        struct sess_result r;
        rc = sessions__load(s, id, &info, &r);
        if (rc == SESS_OK && !sessions__live(info.state))
            rc = sessions__state_fail(s, info.state);
        if (rc == SESS_OK)
            rc = sessions__body_check(s, body);
        sessions__done(&info, &r, rc);
    }
    *dup = rc == SESS_OK && origin &&
           sessions__find_origin(s, id, bare, origin, out);
    return rc;
}

/* The origin-id a message keeps: chat messages only, 1 to
 * SESS_ORIGIN_ID_MAX bytes; NULL otherwise. */
static const char *sessions__origin(enum sess_msg_kind kind,
                                    const char *origin_id)
{
    if (kind != SESS_MSG_CHAT || !origin_id || !*origin_id ||
        strlen(origin_id) > SESS_ORIGIN_ID_MAX)
        return NULL;
    return origin_id;
}

int sessions_add_message(struct sessions *s, int64_t id, const char *from_jid,
                         const char *nick, const char *body,
                         enum sess_msg_kind kind, struct sess_stored *out)
{
    return sessions_add_message_once(s, id, from_jid, nick, body, kind, NULL,
                                     out);
}

int sessions_add_message_once(struct sessions *s, int64_t id,
                              const char *from_jid, const char *nick,
                              const char *body, enum sess_msg_kind kind,
                              const char *origin_id, struct sess_stored *out)
{
    char bare[DIR_JID_MAX] = "", who[DIR_NAME_MAX] = "";
    int dup = 0;
    origin_id = sessions__origin(kind, origin_id);
    memset(out, 0, sizeof *out);
    int rc = sessions__check_message(s, id, from_jid, nick, body, kind,
                                     origin_id, bare, who, &dup, out);
    if (rc == SESS_OK && !dup)
        rc = sessions__write_message(s, id, bare, who, body, kind, origin_id,
                                     clock_now(), false, out);
    out->stored = rc == SESS_OK && !dup;
    return rc;
}

int sessions_prepare_message(struct sessions *s, int64_t id,
                             const char *from_jid, const char *nick,
                             const char *body, const char *origin_id,
                             struct sess_pending *out)
{
    struct sess_stored found;
    int dup = 0;
    origin_id = sessions__origin(SESS_MSG_CHAT, origin_id);
    memset(out, 0, sizeof *out);
    memset(&found, 0, sizeof found);
    int rc = sessions__check_message(s, id, from_jid, nick, body,
                                     SESS_MSG_CHAT, origin_id, out->from,
                                     out->nick, &dup, &found);
    if (rc != SESS_OK)
        return rc;
    out->session_id = id;
    if (dup) { /* stored and committed before: nothing to store */
        out->duplicate = true;
        snprintf(out->stanza_id, sizeof out->stanza_id, "%s",
                 found.stanza_id);
        out->at = found.at;
        return SESS_OK;
    }
    if (origin_id)
        snprintf(out->origin_id, sizeof out->origin_id, "%s", origin_id);
    if (!(out->body = strdup(body)))
        return sessions__fail(s, SESS_ERR_STORE, "Out of memory.");
    out->at = clock_now();
    sessions__stanza_id(out->stanza_id);
    return SESS_OK;
}

int sessions_store_pending(struct sessions *s, const struct sess_pending *p)
{
    struct sess_stored out;
    memset(&out, 0, sizeof out);
    snprintf(out.stanza_id, sizeof out.stanza_id, "%s", p->stanza_id);
    if (!s->held)
        return sessions__fail(s, SESS_ERR_STORE,
                              "sessions: a prepared message needs a hold");
    return sessions__write_message(s, p->session_id, p->from, p->nick,
                                   p->body, SESS_MSG_CHAT,
                                   *p->origin_id ? p->origin_id : NULL, p->at,
                                   true, &out);
}

void sess_pending_clear(struct sess_pending *p)
{
    if (!p)
        return;
    free(p->body);
    p->body = NULL;
}

/* ---- retention --------------------------------------------------------- */

int sessions_purge(struct sessions *s, time_t before, size_t limit,
                   size_t *purged)
{
    if (purged)
        *purged = 0;
    int rc = sessions__begin(s);
    if (rc != SESS_OK)
        return rc;
    struct db_stmt *st = sessions__stmt(s, S_PURGE);
    db_bind_int64(st, 1, (int64_t)before);
    db_bind_int64(st, 2, (int64_t)limit);
    if (db_step(st) != DB_DONE)
        rc = sessions__store_fail(s, "purge old messages");
    else if (purged)
        *purged = (size_t)db_changes(s->db);
    db_reset(st);
    return sessions__finish(s, rc);
}

/* ---- lists ------------------------------------------------------------ */

int sessions_list(struct sessions *s, enum sess_view view, const char *jid,
                  size_t limit, struct sess_list *out)
{
    static const enum sess_state by_state[] = {
        [SESS_VIEW_WAITING] = SESS_WAITING,
        [SESS_VIEW_ABANDONED] = SESS_ABANDONED,
        [SESS_VIEW_CALLBACKS] = SESS_CALLBACK,
    };
    char bare[DIR_JID_MAX] = "";
    enum sessions__stmt which = view == SESS_VIEW_MINE   ? S_LIST_MINE
                                : view == SESS_VIEW_LIVE ? S_LIST_LIVE
                                : view == SESS_VIEW_CONTACT_LIVE
                                    ? S_LIST_CONTACT_LIVE
                                    : S_LIST_STATE;
    if (view > SESS_VIEW_CONTACT_LIVE)
        return sessions__fail(s, SESS_ERR_INVALID, "Unknown session list.");
    if (view == SESS_VIEW_MINE || view == SESS_VIEW_CONTACT_LIVE) {
        int rc = sessions__bare(s, jid, bare, "list's");
        if (rc != SESS_OK)
            return rc;
    }
    struct db_stmt *st = sessions__stmt(s, which);
    sessions__bind_named(st, ":jid", bare);
    if (which == S_LIST_STATE)
        sessions__bind_named(st, ":state", sess_state_name(by_state[view]));
    db_bind_int64(st, db_bind_parameter_index(st, ":lim"),
                  limit ? (int64_t)limit : INT64_MAX);
    return sessions__collect(s, st, out);
}

/* The one number statement `which` gives for session id into *n. */
static int sessions__count(struct sessions *s, enum sessions__stmt which,
                           int64_t id, int *n)
{
    struct db_stmt *st = sessions__stmt(s, which);
    db_bind_int64(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_ROW)
        *n = db_column_int(st, 0);
    db_reset(st);
    return rc == DB_ROW ? SESS_OK : sessions__store_fail(s, "read the queue");
}

int sessions_queue_position(struct sessions *s, int64_t id, int *pos)
{
    struct sess_info i;
    *pos = 0;
    int rc = sessions_get(s, id, &i);
    enum sess_state state = i.state;
    sess_info_clear(&i);
    if (rc != SESS_OK)
        return rc;
    if (state != SESS_WAITING)
        return sessions__state_fail(s, state);
    rc = sessions__count(s, S_QUEUE_PLACE, id, pos);
    if (rc != SESS_OK || *pos >= 1)
        return rc;
    /* the length is off (it counts this session): count those ahead */
    rc = sessions__count(s, S_QUEUE_AHEAD, id, pos);
    *pos += 1;
    return rc;
}

int sessions_waiting_places(struct sessions *s, struct sess_place **out,
                            size_t *n)
{
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    struct db_stmt *st = sessions__stmt(s, S_WAITING_PLACES);
    while ((rc = db_step(st)) == DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            struct sess_place *more = realloc(*out, cap * sizeof **out);
            if (!more)
                break;
            *out = more;
        }
        (*out)[*n].id = db_column_int64(st, 0);
        (*out)[(*n)++].told = db_column_int(st, 1);
    }
    db_reset(st);
    if (rc == DB_DONE)
        return SESS_OK;
    free(*out);
    *out = NULL;
    *n = 0;
    return sessions__store_fail(s, "list the queue");
}

int sessions_place_told(struct sessions *s, int64_t id, int *told)
{
    *told = 0;
    return sessions__count(s, S_PLACE_TOLD_GET, id, told);
}

int sessions_places_told(struct sessions *s, const struct sess_place *told,
                         size_t n)
{
    int rc = s->held || !n ? SESS_OK : sessions__begin(s);
    for (size_t i = 0; rc == SESS_OK && i < n; i++) {
        struct db_stmt *st = sessions__stmt(s, S_PLACE_TOLD);
        db_bind_int64(st, 1, told[i].id);
        db_bind_int64(st, 2, told[i].told);
        if (db_step(st) != DB_DONE)
            rc = sessions__store_fail(s, "record a place in line told");
        db_reset(st);
    }
    if (s->held) /* (no commit writer): commits with the batch; a failure
                  * here is no reason to lose the batch's messages */
        return rc;
    return n ? sessions__finish(s, rc) : rc;
}

/* ---- open / close ----------------------------------------------------- */

const char *sessions_error(const struct sessions *s)
{
    return s->err;
}

void sessions_close(struct sessions *s)
{
    if (!s)
        return;
    store_finalize_all(s->stmt, S_COUNT);
    for (size_t i = 0; i < SESSIONS_SEEN; i++)
        free(s->seen[i].jid);
    free(s->touch);
    free(s);
}

struct sessions *sessions_open(struct store *st, struct directory *dir,
                               struct ticket_store *tickets, char *err,
                               size_t errlen)
{
    struct sessions *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->st = st;
    s->db = store_db(st);
    s->dir = dir;
    s->tickets = tickets;
    s->cache = db_kind(s->db) == DB_KIND_SQLITE;
    s->gen = 1;
    if (store_prepare_all(s->db, sessions__sql, s->stmt, S_COUNT, "sessions",
                          err, errlen)) {
        sessions_close(s);
        return NULL;
    }
    return s;
}
