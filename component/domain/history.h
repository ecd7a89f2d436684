/* history.h - the queries behind the tech tools (SPEC §4): the session
 * lists with company names, the search over past sessions (filters,
 * full text over transcripts, paging) and a session room's message archive
 * as XEP-0313 pages it. Plain C; commands/sessions.c and chat/archive.c turn
 * stanzas into these calls.
 *
 * Past sessions are those no longer live: ended, abandoned, callback and
 * closed. A search lists them newest first (created, then id, descending).
 * Filters, all optional and combined with AND:
 *   company  company_id (directory id)
 *   contact  the contact's bare JID (compared lowercased)
 *   text     words that must all occur in the session's messages (chat
 *            and system notices), through the FTS5 table messages_fts
 *            (schema migration 4; unicode61 tokenizer, case and diacritics
 *            folded). A word ending in '*' is a prefix ("print*"). Quotes
 *            and FTS5 operators have no special meaning: every word is
 *            taken literally (history_fts_query()). Messages are indexed
 *            in batches (history_index_pending(), schema migration 5); a
 *            text search first indexes every message not indexed yet, so
 *            it finds a message stored a moment before. PostgreSQL: a
 *            tsvector table, written by a trigger in each message's own
 *            transaction and on a hand edit (schema_pg.c, migration 16);
 *            the batches only index a message left without its row.
 *   since    created >= since
 *   until    created <= until
 *
 * The archive of a session room holds every stored message of the session
 * (chat messages and system notices) in id order, which is the order the
 * room delivered them. An archive page is chosen like an RSM (XEP-0059)
 * page: forwards from the start or after a message, backwards from the end
 * or before a message, or from an index. Message ids on the wire are the
 * XEP-0359 stanza ids.
 *
 * Result codes:
 *   HIST_OK
 *   HIST_ERR_NOT_FOUND   no such session / room / archive id
 *   HIST_ERR_FORBIDDEN   not allowed to read this archive
 *   HIST_ERR_INVALID     bad argument (text says which)
 *   HIST_ERR_STORE       sqlite failed
 * On anything but HIST_OK history_error() holds a sentence for a person,
 * borrowed until the next call.
 *
 * Statements are prepared on first use and kept until history_close(). The
 * component keeps one handle for as long as the store is open
 * (app->history, opened and closed in modules.c): the commands, the MAM
 * handler, the group commit and the tick share it.
 *
 * Ownership: struct history borrows the store and the domain (they must
 * outlive it). Rows and pages own their strings; free them with
 * hist_rows_free() / hist_row_clear() / hist_page_free(). Arguments are
 * borrowed for the call. Only the full-text index is written
 * (history_index_pending(), also run by a text search); nothing here
 * changes the sessions or their messages.
 */
#ifndef CHATDESK_HISTORY_H
#define CHATDESK_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "domain/directory.h"
#include "domain/sessions.h"

struct store;
struct domain;
struct history;

#define HIST_TEXT_MAX 512  /* bytes of a text filter */
#define HIST_WORDS_MAX 16  /* words in a text filter */
#define HIST_FTS_MAX 2048  /* bytes of the built FTS5 expression */
#define HIST_PAGE_MAX 1000 /* rows one search or archive page returns */

enum hist_code {
    HIST_OK = 0,
    HIST_ERR_NOT_FOUND,
    HIST_ERR_FORBIDDEN,
    HIST_ERR_INVALID,
    HIST_ERR_STORE
};

/* A session with its company's name ("" for none). */
struct hist_row {
    struct sess_info s;
    char company[DIR_NAME_MAX];
};

struct hist_rows {
    struct hist_row *items;
    size_t n;
};

/* The search filters; a zeroed struct lists every past session. */
struct hist_filter {
    int64_t company_id;  /* 0 = any */
    const char *contact; /* bare JID; NULL or "" = any */
    const char *text;    /* words; NULL or "" = any */
    bool has_since, has_until;
    time_t since, until; /* inclusive bounds on created */
    size_t offset;       /* rows to skip */
    size_t limit;        /* rows to return, 1..HIST_PAGE_MAX */
};

/* Open on st and d (schema version >= 5). NULL with err on failure. */
struct history *history_open(struct store *st, struct domain *d, char *err,
                             size_t errlen);
void history_close(struct history *h); /* NULL is fine */

/* The sentence for the last failure, borrowed until the next call. */
const char *history_error(const struct history *h);

/* The lists of the `sessions` command (sessions_list() with company names):
 * view MINE needs tech, the others ignore it. limit 0 = no limit. */
int history_view(struct history *h, enum sess_view view, const char *tech,
                 size_t limit, struct hist_rows *out);

/* Past sessions matching f, newest first: f->limit rows from f->offset. A
 * text filter without any word to search for (only punctuation) is
 * HIST_ERR_INVALID. With a text filter it first runs
 * history_index_pending(h, 0, NULL); when that fails the search fails with
 * its HIST_ERR_STORE (never a result missing recent messages). */
int history_search(struct history *h, const struct hist_filter *f,
                   struct hist_rows *out);

/* How history_search() answers a text filter (the same rows either way): a
 * word with at least common_at FTS matches is common, the others rare
 * (0: every word rare). With every word common and the page within the
 * newest walk_max sessions, those sessions are walked newest first, each
 * tested for the words; otherwise (or when the walk ends short of a full
 * page) the sessions of the words' matches are intersected. history_open()
 * sets the defaults: sqlite 30000 and 2000; PostgreSQL 0 (every word
 * rare). Tests set them to take one path or the other. */
void history_set_search_paths(struct history *h, size_t common_at,
                              size_t walk_max);

/* Index the messages stored since the last call into messages_fts: the
 * next max_rows messages (0 = all) above the high-water mark
 * fts_state.last_indexed, in id order, and move the mark past them, both in
 * one transaction, so a message is indexed exactly once. *indexed (may be
 * NULL) gets the number of messages indexed, 0 when none was pending.
 * Cheap when nothing is pending: one read, no write transaction.
 *
 * Transactions: outside a transaction it runs in its own BEGIN IMMEDIATE
 * ... COMMIT. Inside a caller's transaction (db_get_autocommit() == 0,
 * e.g. a held group commit) it joins it under a SAVEPOINT: the work then
 * commits or rolls back with the caller's transaction. On failure the
 * index and the mark are both left as they were (ROLLBACK, or ROLLBACK TO
 * the savepoint; the caller's transaction stays open and usable) and it
 * returns HIST_ERR_STORE with history_error() set.
 *
 * Called inside each group commit of chat messages (chat.c, up to 2000
 * rows, in the held transaction) and by the once-a-second tick (modules.c,
 * up to 1000 rows, for what was stored outside a batch). */
int history_index_pending(struct history *h, size_t max_rows, size_t *indexed);

/* One session (any state) with its company name. */
int history_session(struct history *h, int64_t id, struct hist_row *out);

/* The note a list shows for a session: its closing note when it has one,
 * else the contact's callback note, else "". Borrowed from r. */
const char *hist_row_note(const struct hist_row *r);

void hist_row_clear(struct hist_row *r);
void hist_rows_free(struct hist_rows *l);

/* ---- parsing helpers (exposed for the commands and the tests) ---------- */

/* A date or time in UTC: "YYYY-MM-DD" (the day's first second, or its last
 * when end_of_day is true), or an ISO 8601 / XEP-0082 time
 * "YYYY-MM-DDThh:mm[:ss[.fff]]" with an optional "Z" or "+hh:mm"/"-hh:mm"
 * (none means UTC; a space may replace the 'T'). Leading and trailing
 * blanks are ignored. 0 and *out set, or -1 when malformed or out of
 * range. */
int history_parse_time(const char *text, bool end_of_day, time_t *out);

/* The FTS5 MATCH expression for a text filter: every whitespace-separated
 * word quoted as a string ("a""b" for a"b), a trailing '*' kept outside the
 * quotes as a prefix search, joined by spaces (AND). Returns the number of
 * words that can match (words of punctuation only do not count), or -1
 * when text is longer than HIST_TEXT_MAX, has more than HIST_WORDS_MAX
 * words or the expression does not fit outlen. */
int history_fts_query(const char *text, char *out, size_t outlen);

/* ---- the room archive (XEP-0313) --------------------------------------- */

/* May jid (any resource, any case) read the archive of room (a local part,
 * "chat-<id>")? Techs and admins (domain_role) may read every session
 * room, a contact only the rooms of its own sessions. HIST_OK with
 * *session_id set, HIST_ERR_NOT_FOUND (no such session room) or
 * HIST_ERR_FORBIDDEN. */
int history_archive_access(struct history *h, const char *room, const char *jid,
                           int64_t *session_id);

/* Who the messages of a query must come from (XEP-0313 'with'). */
enum hist_with {
    HIST_WITH_ANY = 0,
    HIST_WITH_JID,  /* chat messages from this bare JID */
    HIST_WITH_NICK, /* chat messages under this nick */
    HIST_WITH_ROOM  /* system notices (they come from the room itself) */
};

struct hist_archive_query {
    bool has_start, has_end;
    time_t start, end; /* inclusive bounds on a message's time */
    enum hist_with with;
    const char *with_value; /* the bare JID or nick for JID / NICK */
    /* Paging. after: the page after that stanza id. before: the page
     * before that stanza id, or "" for the last page. index: skip that
     * many matches from the start (only without after and before). */
    const char *after;
    const char *before;
    bool has_index;
    size_t index;
    size_t max; /* messages in the page, 0..HIST_PAGE_MAX (0: count only) */
};

struct hist_archive_page {
    struct sess_message_list items; /* oldest first */
    size_t count;       /* messages matching the filters (all pages) */
    size_t first_index; /* position of items[0] among them */
    /* No further match in the direction of the query: after the page when
     * paging forwards, before it when paging backwards (before given). */
    bool complete;
};

/* A page of session_id's archive. HIST_ERR_NOT_FOUND when after or before
 * names a stanza id not in this archive; HIST_ERR_INVALID for index with
 * after/before or max over HIST_PAGE_MAX. */
int history_archive_query(struct history *h, int64_t session_id,
                          const struct hist_archive_query *q,
                          struct hist_archive_page *out);

void hist_page_free(struct hist_archive_page *p);

#endif
