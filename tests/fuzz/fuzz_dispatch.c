/* fuzz_dispatch.c - libFuzzer target: the whole chatdesk component in
 * memory, fed stanzas through dispatch_stanza().
 *
 * Set-up, once (LLVMFuzzerInitialize): the config parsed from a fixed
 * string, one store ":memory:" with the schema and a small directory (two
 * companies, two contacts, two techs, one open ticket), a copy of those
 * rows in an attached in-memory database, and the store-backed modules
 * (modules_open(): the domain and the history, with their prepared
 * statements). Each input gets a fresh app the way main.c builds one
 * (modules_attach() on an app whose send function checks every stanza and
 * drops it: fresh ad-hoc sessions, MUC rooms and occupants, rate limiter)
 * with a fresh presence tracker and the pinned clock, plays, tears the app
 * down, and gives the tables it changed back their rows (fuzz__restore:
 * no new schema, so no statement is prepared again), so every input starts
 * from the same state and is reproducible on its own.
 *
 * The same source builds fuzz_dispatch (ASan, UBSan, LSan) and
 * fuzz_dispatch_fast (UBSan only, for long runs; tests/fuzz/CMakeLists.txt).
 *
 * Input format: a sequence of records separated by NUL bytes. A record is
 * one control byte followed by the XML of one stanza:
 *
 *   bits 0-2  the sender, written into from= (see fuzz__senders): a contact,
 *             a second resource of it, a contact of another company, a
 *             tech, an admin tech, the config admin, a stranger; 7 keeps
 *             the stanza's own from (or none).
 *   bits 3-5  0-6: advance the pinned clock before the stanza by
 *             fuzz__advance[i] seconds (answer and idle timeouts, ad-hoc
 *             reaping, office hours); 7: move the store to its next state
 *             (fuzz__break): writable -> every write and COMMIT fails ->
 *             PRAGMA query_only (BEGIN fails too) -> writable (the store
 *             failure paths: rollbacks, internal-server-error answers).
 *   bit 6     call modules_tick() after the stanza (it also ends a group
 *             commit: groupchat messages stay held, their reflections
 *             queued, until a tick, a stanza of another kind or the end
 *             flushes them -- so batches of several messages, and a store
 *             turned read-only under a held batch, are reachable).
 *   bit 7     call modules_online() before the stanza (a reconnect).
 *
 * An ad-hoc <command sessionid='$'/> is given the last sessionid the
 * component handed out, so multi-step commands are reachable without
 * guessing ids. After the last record modules_stopping() runs, as on a
 * clean stop.
 *
 * FUZZ_TRACE=1 in the environment prints every stanza in (RECV:) and out
 * (SEND:); FUZZ_LOG=3 sets chatdesk's log level (default: nothing).
 *
 * After each record the rate limit's waiting answers to refused messages
 * are sent, as conn.c does after a quiet pass.
 *
 * A stanza whose to= is not on the component's domain is skipped: the server
 * would not route it here. Besides the sanitizers, the target checks these
 * contracts and aborts when one breaks: every stanza sent serializes, comes
 * from the component's domain and has a to= (unless the stanza it answers
 * had no from), no error answers an error (RFC 6120 8.3.1), and every iq
 * get/set is answered by exactly one iq result or error (ENGINEERING.md
 * practice 5). The rate limit is on (1 stanza a second, bursts of 40, see
 * fuzz__config): its refill follows the real monotonic clock, so an input
 * that runs for seconds may replay a little differently.
 *
 * The seed corpus (corpus/) is written by make_corpus.py, which documents
 * the same format.
 */
#include "runtime/app.h"
#include "runtime/clock.h"
#include "runtime/config.h"
#include "domain/directory.h"
#include "runtime/disco.h"
#include "runtime/dispatch.h"
#include "domain/domain.h"
#include "domain/presence.h"
#include "runtime/log.h"
#include "modules.h"
#include "runtime/store.h"
#include "domain/tickets.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sqlite3.h>
#include <strophe.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_T0 1767261600 /* Thursday 2026-01-01T10:00:00Z */
#define FUZZ_MAX_STANZA 65536

static const char fuzz__config[] = "[component]\n"
                                   "jid = helpdesk.localhost\n"
                                   "secret = s3cret\n"
                                   "host = 127.0.0.1\n"
                                   "port = 5347\n"
                                   "[database]\n"
                                   "path = :memory:\n"
                                   "[admins]\n"
                                   "jids = admin@localhost\n"
                                   "[chat]\n"
                                   "answer_timeout = 60\n"
                                   "idle_timeout = 3600\n"
                                   "[log]\n"
                                   "level = error\n"
                                   /* refills by the real monotonic clock:
                                    * 1 a second keeps runs reproducible,
                                    * a burst of 40 lets flows run deep
                                    * and longer inputs reach the limit */
                                   "[limits]\n"
                                   "stanzas_per_second = 1\n"
                                   "burst = 40\n";

static const char *const fuzz__senders[7] = {
    "alice@localhost/portal", /* contact of Acme */
    "alice@localhost/phone",  /* the same contact, another resource */
    "carol@localhost/web",    /* contact of Globex (no pre-ticket chat) */
    "bob@localhost/gajim",    /* tech */
    "dave@localhost/dino",    /* tech with the admin flag */
    "admin@localhost/cli",    /* admin from the config file */
    "eve@evil.example/x",     /* stranger */
};

static const long fuzz__advance[7] = {0, 1, 30, 61, 601, 3601, 86400};

/* Made once by LLVMFuzzerInitialize: the config, the store and the
 * store-backed modules (kept open for the whole run: mods.domain,
 * mods.history); the fixtures' rows are kept by fuzz__snapshot(). */
static struct {
    struct config cfg;
    struct store *store;
    struct app mods;
} fuzz__base;

/* What the sender saw during one stanza. */
static struct {
    int trace; /* FUZZ_TRACE set: print every stanza in and out */
    xmpp_ctx_t *ctx;
    const char *domain; /* the component's */
    int need_to;        /* the stanza being handled has a from */
    int in_error;       /* the stanza being handled is type='error' */
    int in_flush;       /* the group commit is being flushed (fuzz__flush) */
    size_t iq_answers;  /* iq result/error stanzas sent */
    char sessionid[128];
} fuzz__out;

/* 1 when jid is the component's domain or an address on it. */
static int fuzz__ours(const char *jid)
{
    char *domain = jid ? xmpp_jid_domain(fuzz__out.ctx, jid) : NULL;
    int ours = domain && !strcasecmp(domain, fuzz__out.domain);
    if (domain)
        xmpp_free(fuzz__out.ctx, domain);
    return ours;
}

static void fuzz__fail(const char *what, const char *xml)
{
    fprintf(stderr, "fuzz_dispatch: %s: %s\n", what, xml);
    abort();
}

/* 1 when xmpp_stanza_to_text() can render st: libstrophe refuses a node
 * that is neither tag nor text, a tag without a name and a text without
 * data (what conn.c's xmpp_send() would then drop). Walking the tree costs
 * a fraction of rendering it; FUZZ_TRACE renders every stanza anyway. */
static int fuzz__renders(xmpp_stanza_t *st)
{
    if (xmpp_stanza_is_text(st))
        return xmpp_stanza_get_text_ptr(st) != NULL;
    if (!xmpp_stanza_is_tag(st) || !xmpp_stanza_get_name(st))
        return 0;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c;
         c = xmpp_stanza_get_next(c))
        if (!fuzz__renders(c))
            return 0;
    return 1;
}

/* The stanza as text for a message (NULL when FUZZ_TRACE is off and
 * nothing failed); xmpp_free() it. */
static char *fuzz__text(xmpp_stanza_t *stanza, int always)
{
    char *buf = NULL;
    size_t len = 0;
    if ((always || fuzz__out.trace) &&
        xmpp_stanza_to_text(stanza, &buf, &len) != XMPP_EOK) {
        fprintf(stderr, "fuzz_dispatch: a sent stanza does not serialize\n");
        abort();
    }
    return buf;
}

static void fuzz__send(void *ud, xmpp_stanza_t *stanza)
{
    (void)ud;
    if (!fuzz__renders(stanza)) {
        fprintf(stderr, "fuzz_dispatch: a sent stanza does not serialize\n");
        abort();
    }
    char *buf = fuzz__text(stanza, 0);
    if (fuzz__out.trace)
        fprintf(stderr, "SEND: %s\n", buf);
    /* the server drops (or bounces) what a component sends from another
     * domain or without an addressee */
    if (!fuzz__ours(xmpp_stanza_get_from(stanza)))
        fuzz__fail("a stanza sent from outside the component's domain",
                   fuzz__text(stanza, 1));
    if (fuzz__out.need_to && !xmpp_stanza_get_to(stanza))
        fuzz__fail("a stanza sent without to", fuzz__text(stanza, 1));
    /* RFC 6120 8.3.1: never answer an error with an error (loops). The
     * errors for groupchat messages held in the group commit may go out
     * while an error stanza is handled (its arrival flushes the batch):
     * they answer those messages (never errors), not the error stanza. */
    const char *t = xmpp_stanza_get_type(stanza);
    if (fuzz__out.in_error && !fuzz__out.in_flush && t &&
        !strcmp(t, "error"))
        fuzz__fail("an error sent in answer to an error",
                   fuzz__text(stanza, 1));
    if (buf)
        xmpp_free(fuzz__out.ctx, buf);
    const char *name = xmpp_stanza_get_name(stanza);
    const char *type = xmpp_stanza_get_type(stanza);
    if (!name || strcmp(name, "iq") || !type)
        return;
    if (!strcmp(type, "result") || !strcmp(type, "error"))
        fuzz__out.iq_answers++;
    xmpp_stanza_t *cmd = xmpp_stanza_get_child_by_name(stanza, "command");
    const char *sid = cmd ? xmpp_stanza_get_attribute(cmd, "sessionid") : NULL;
    if (sid)
        snprintf(fuzz__out.sessionid, sizeof fuzz__out.sessionid, "%s", sid);
}

struct fuzz__world {
    struct store *store; /* fuzz__base.store, borrowed */
    struct app app;
    int broken; /* fuzz__break(): 0 writable, 1 writes fail, 2 query_only */
};

static void fuzz__directory(struct directory *dir, struct ticket_store *ts)
{
    struct company acme = {0, "Acme", TRI_INHERIT, TRI_INHERIT, TRI_INHERIT};
    struct company globex = {0, "Globex", TRI_INHERIT, TRI_OFF, TRI_ON};
    struct contact alice = {0}, carol = {0};
    struct tech bob = {0, "bob@localhost", "Bob", false};
    struct tech dave = {0, "dave@localhost", "Dave", true};
    int64_t alice_id = 0;
    int rc = directory_company_create(dir, &acme, &alice.company_id);
    rc |= directory_company_create(dir, &globex, &carol.company_id);
    snprintf(alice.jid, sizeof alice.jid, "alice@localhost");
    snprintf(alice.name, sizeof alice.name, "Alice");
    snprintf(alice.phone, sizeof alice.phone, "+1 555 0100");
    snprintf(carol.jid, sizeof carol.jid, "carol@localhost");
    snprintf(carol.name, sizeof carol.name, "Carol");
    rc |= directory_contact_create(dir, &alice, &alice_id);
    rc |= directory_contact_create(dir, &carol, NULL);
    rc |= directory_tech_create(dir, &bob, NULL);
    rc |= directory_tech_create(dir, &dave, NULL);
    struct ticket_draft draft = {alice.company_id, alice_id,
                                 "Printer on fire"};
    int64_t ticket = 0;
    if (rc != DIR_OK || ticket_create(ts, &draft, &ticket) != TICKET_OK) {
        fprintf(stderr, "fuzz_dispatch: cannot fill the directory\n");
        abort();
    }
}

/* ---- the database back as the fixtures left it ------------------------
 *
 * Without touching the schema: a new schema (sqlite3_deserialize, a
 * PRAGMA that sets a flag) expires every prepared statement, and sqlite
 * then parses the schema and prepares each statement again, which was most
 * of an input's time. Instead the fixtures are copied once into an
 * attached in-memory database "snap", and after an input that changed a
 * row every table is emptied (children first) and filled again from snap
 * (parents first), with statements prepared once. messages_fts (FTS5,
 * external content) is emptied by its 'delete-all' command; fts_state's
 * mark is put to 0 first so the delete trigger on messages does nothing. */

#define FUZZ_TABLES 64

static struct {
    int n;                         /* tables, parents first */
    char names[FUZZ_TABLES][64];   /* main's tables */
    uint64_t parents[FUZZ_TABLES]; /* bit j: table i refers to table j */
    sqlite3_stmt *del[FUZZ_TABLES], *ins[FUZZ_TABLES];
    sqlite3_stmt *fts_clear, *fts_mark, *begin, *commit;
    uint64_t dirty; /* bit i: a row of table i changed (update hook) */
    int fts_dirty;  /* messages_fts (its shadow tables) changed */
    int i_messages, i_fts_state;
    int refusing; /* every write and COMMIT fails (fuzz__break) */
} fuzz__reset;

static void fuzz__db_fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "fuzz_dispatch: %s: %s\n", what, sqlite3_errmsg(db));
    abort();
}

static sqlite3_stmt *fuzz__prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                           NULL) != SQLITE_OK)
        fuzz__db_fail(db, sql);
    return st;
}

static void fuzz__step(sqlite3 *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        fuzz__db_fail(db, sqlite3_sql(st));
}

/* The index of table name among the first n of fuzz__reset.names, -1. */
static int fuzz__table_index(const char *name, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(fuzz__reset.names[i], name))
            return i;
    return -1;
}

/* sqlite3_update_hook(): which tables the input changed. */
static void fuzz__changed(void *ud, int op, const char *db, const char *table,
                          sqlite3_int64 rowid)
{
    (void)ud, (void)op, (void)rowid;
    if (strcmp(db, "main"))
        return;
    int i = fuzz__table_index(table, fuzz__reset.n);
    if (i >= 0)
        fuzz__reset.dirty |= (uint64_t)1 << i;
    else if (!strncmp(table, "messages_fts", 12))
        fuzz__reset.fts_dirty = 1;
}

/* The ordinary tables of main (no FTS shadow tables) into
 * fuzz__reset.names, parents before the tables that refer to them, and
 * who refers to whom (fuzz__reset.parents). */
static void fuzz__tables(sqlite3 *db)
{
    static const char sql[] =
        "SELECT name FROM pragma_table_list WHERE schema = 'main' AND "
        "type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
    static const char refs_sql[] =
        "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1) "
        "WHERE \"table\" <> ?1";
    char all[FUZZ_TABLES][64];
    int n = 0, placed = 0;
    sqlite3_stmt *st = fuzz__prepare(db, sql);
    while (sqlite3_step(st) == SQLITE_ROW && n < FUZZ_TABLES)
        snprintf(all[n++], 64, "%s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    st = fuzz__prepare(db, refs_sql);
    for (int round = 0; round < n && placed < n; round++)
        for (int i = 0; i < n; i++) {
            uint64_t parents = 0;
            int waiting = 0;
            if (!all[i][0])
                continue;
            sqlite3_bind_text(st, 1, all[i], -1, SQLITE_STATIC);
            while (sqlite3_step(st) == SQLITE_ROW) {
                int j = fuzz__table_index((const char *)sqlite3_column_text(
                                              st, 0),
                                          placed);
                waiting |= j < 0;
                parents |= j < 0 ? 0 : (uint64_t)1 << j;
            }
            sqlite3_reset(st);
            if (waiting)
                continue;
            fuzz__reset.parents[placed] = parents;
            memcpy(fuzz__reset.names[placed++], all[i], 64);
            all[i][0] = '\0';
        }
    sqlite3_finalize(st);
    if (placed != n)
        fuzz__db_fail(db, "the tables refer to each other in a circle");
    fuzz__reset.n = n;
}

/* A store that refuses every write without a new schema (PRAGMA
 * query_only expires every statement): temp triggers that abort every
 * INSERT, UPDATE and DELETE on main's tables while the function
 * fuzz_refusing() says 1, and a commit hook that turns every COMMIT into a
 * rollback then. The switch is a C variable, outside every transaction. */
static int fuzz__commit_hook(void *ud)
{
    (void)ud;
    return fuzz__reset.refusing;
}

static void fuzz__refusing_fn(sqlite3_context *ctx, int argc,
                              sqlite3_value **argv)
{
    (void)argc, (void)argv;
    sqlite3_result_int(ctx, fuzz__reset.refusing);
}

static void fuzz__refusals(sqlite3 *db)
{
    static const char *const ops[] = {"INSERT", "UPDATE", "DELETE"};
    char sql[512];
    if (sqlite3_create_function(db, "fuzz_refusing", 0, SQLITE_UTF8, NULL,
                                fuzz__refusing_fn, NULL,
                                NULL) != SQLITE_OK)
        fuzz__db_fail(db, "make fuzz_refusing()");
    for (int i = 0; i < fuzz__reset.n; i++)
        for (int k = 0; k < 3; k++) {
            const char *t = fuzz__reset.names[i];
            snprintf(sql, sizeof sql,
                     "CREATE TEMP TRIGGER \"fuzz_refuse_%s_%d\" BEFORE %s ON "
                     "main.\"%s\" WHEN fuzz_refusing() BEGIN SELECT "
                     "RAISE(ABORT, 'the store refuses writes (fuzz)'); END",
                     t, k, ops[k], t);
            if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
                fuzz__db_fail(db, sql);
        }
    sqlite3_commit_hook(db, fuzz__commit_hook, NULL);
}

/* Put the store into state (0 writable, 1 every write and COMMIT fails, 2
 * PRAGMA query_only: BEGIN IMMEDIATE fails too) from state was. */
static void fuzz__break(sqlite3 *db, int was, int state)
{
    if (was == 2 &&
        sqlite3_exec(db, "PRAGMA query_only = OFF", NULL, NULL, NULL))
        fuzz__db_fail(db, "make the store writable again");
    fuzz__reset.refusing = state == 1;
    if (state == 2 &&
        sqlite3_exec(db, "PRAGMA query_only = ON", NULL, NULL, NULL))
        fuzz__db_fail(db, "make the store read-only");
}

/* snap: the fixtures; the statements of fuzz__reset. */
static void fuzz__snapshot(sqlite3 *db)
{
    char sql[256];
    if (sqlite3_exec(db, "ATTACH ':memory:' AS snap", NULL, NULL, NULL))
        fuzz__db_fail(db, "attach the snapshot");
    fuzz__tables(db);
    for (int i = 0; i < fuzz__reset.n; i++) {
        const char *t = fuzz__reset.names[i];
        snprintf(sql, sizeof sql,
                 "CREATE TABLE snap.\"%s\" AS SELECT * FROM main.\"%s\"", t,
                 t);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            fuzz__db_fail(db, sql);
        snprintf(sql, sizeof sql, "DELETE FROM main.\"%s\"", t);
        fuzz__reset.del[i] = fuzz__prepare(db, sql);
        snprintf(sql, sizeof sql,
                 "INSERT INTO main.\"%s\" SELECT * FROM snap.\"%s\"", t, t);
        fuzz__reset.ins[i] = fuzz__prepare(db, sql);
    }
    fuzz__reset.i_messages = fuzz__table_index("messages", fuzz__reset.n);
    fuzz__reset.i_fts_state = fuzz__table_index("fts_state", fuzz__reset.n);
    if (fuzz__reset.i_messages < 0 || fuzz__reset.i_fts_state < 0)
        fuzz__db_fail(db, "no messages or fts_state table");
    fuzz__refusals(db);
    fuzz__reset.fts_clear = fuzz__prepare(
        db, "INSERT INTO messages_fts(messages_fts) VALUES ('delete-all')");
    fuzz__reset.fts_mark =
        fuzz__prepare(db, "UPDATE main.fts_state SET last_indexed = 0");
    fuzz__reset.begin = fuzz__prepare(db, "BEGIN");
    fuzz__reset.commit = fuzz__prepare(db, "COMMIT");
    sqlite3_update_hook(db, fuzz__changed, NULL);
}

/* The tables to empty and fill again: those changed, those that refer to
 * one of them (their rows would point nowhere while it is refilled), and
 * messages with fts_state when the full-text index changed. */
static uint64_t fuzz__to_reset(void)
{
    uint64_t dirty = fuzz__reset.dirty;
    uint64_t fts = ((uint64_t)1 << fuzz__reset.i_messages) |
                   ((uint64_t)1 << fuzz__reset.i_fts_state);
    if (fuzz__reset.fts_dirty || (dirty & fts))
        dirty |= fts;
    for (int i = 0; i < fuzz__reset.n; i++)
        if (fuzz__reset.parents[i] & dirty)
            dirty |= (uint64_t)1 << i;
    return dirty;
}

/* The database back as the fixtures left it, writable. Only the tables
 * the input changed (fuzz__to_reset()) are emptied, children first, and
 * filled again from snap, parents first. */
static void fuzz__restore(sqlite3 *db, int broken)
{
    fuzz__break(db, broken, 0);
    if (!sqlite3_get_autocommit(db))
        fuzz__fail("a transaction was left open after the input", "");
    uint64_t dirty = fuzz__to_reset();
    if (!dirty)
        return;
    fuzz__step(db, fuzz__reset.begin);
    if (dirty & ((uint64_t)1 << fuzz__reset.i_fts_state)) {
        fuzz__step(db, fuzz__reset.fts_clear);
        fuzz__step(db, fuzz__reset.fts_mark);
    }
    for (int i = fuzz__reset.n - 1; i >= 0; i--)
        if (dirty & ((uint64_t)1 << i))
            fuzz__step(db, fuzz__reset.del[i]);
    for (int i = 0; i < fuzz__reset.n; i++)
        if (dirty & ((uint64_t)1 << i))
            fuzz__step(db, fuzz__reset.ins[i]);
    fuzz__step(db, fuzz__reset.commit);
    fuzz__reset.dirty = 0;
    fuzz__reset.fts_dirty = 0;
}

/* The chat side's group-commit flush (app->flush), wrapped by fuzz__flush
 * so fuzz__send knows what the flush sends. */
static void (*fuzz__chat_flush)(struct app *app);

static void fuzz__flush(struct app *app)
{
    fuzz__out.in_flush = 1;
    fuzz__chat_flush(app);
    fuzz__out.in_flush = 0;
}

/* A fresh app on the store and the modules of the run, registered the way
 * main.c does it, with nobody's presence known. */
static void fuzz__app(struct fuzz__world *w)
{
    memset(w, 0, sizeof *w);
    w->store = fuzz__base.store;
    w->app.ctx = xmpp_ctx_new(NULL, NULL);
    w->app.cfg = &fuzz__base.cfg;
    w->app.store = w->store;
    w->app.dispatch = dispatch_new();
    w->app.disco = disco_new();
    w->app.jid = fuzz__base.cfg.jid;
    w->app.send = fuzz__send;
    w->app.domain = fuzz__base.mods.domain;
    w->app.history = fuzz__base.mods.history;
    w->app.domain->presence = presence_new();
    if (!w->app.ctx || !w->app.dispatch || !w->app.disco ||
        !w->app.domain->presence || modules_attach(&w->app) != 0) {
        fprintf(stderr, "fuzz_dispatch: cannot build the app\n");
        abort();
    }
    if (w->app.flush) {
        fuzz__chat_flush = w->app.flush;
        w->app.flush = fuzz__flush;
    }
}

static void fuzz__up(struct fuzz__world *w)
{
    clock_set(FUZZ_T0);
    fuzz__app(w);
    memset(&fuzz__out, 0, sizeof fuzz__out);
    fuzz__out.ctx = w->app.ctx;
    fuzz__out.domain = w->app.jid;
    fuzz__out.need_to = 1;
    fuzz__out.trace = getenv("FUZZ_TRACE") != NULL;
}

/* Free the app and the presence tracker (the store and the modules of the
 * run stay). */
static void fuzz__app_free(struct fuzz__world *w)
{
    modules_detach(&w->app);
    presence_free(w->app.domain->presence);
    w->app.domain->presence = NULL;
    disco_free(w->app.disco);
    dispatch_free(w->app.dispatch);
    xmpp_ctx_free(w->app.ctx);
}

/* A clean stop, the app freed, and the database back as the fixtures left
 * it for the next input. Restoring here rather than before an input frees
 * what this input made sqlite allocate within the input, so libFuzzer
 * mostly sees as many frees as mallocs and seldom runs an input again to
 * look for leaks. */
static void fuzz__down(struct fuzz__world *w)
{
    modules_stopping(&w->app);
    fuzz__app_free(w);
    fuzz__restore(db_sqlite_handle(store_db(fuzz__base.store)), w->broken);
}

/* The store of the whole run, with the schema and the directory, and the
 * copy of its rows every input starts from. */
static void fuzz__base_up(void)
{
    char err[512];
    struct fuzz__world w;
    clock_set(FUZZ_T0);
    fuzz__base.store = store_open(fuzz__base.cfg.db_path, err, sizeof err);
    if (!fuzz__base.store) {
        fprintf(stderr, "fuzz_dispatch: %s\n", err);
        abort();
    }
    fuzz__base.mods.store = fuzz__base.store;
    fuzz__base.mods.cfg = &fuzz__base.cfg;
    if (modules_open(&fuzz__base.mods) != 0) {
        fprintf(stderr, "fuzz_dispatch: cannot open the modules\n");
        abort();
    }
    presence_free(fuzz__base.mods.domain->presence); /* one per input */
    fuzz__base.mods.domain->presence = NULL;
    fuzz__app(&w);
    fuzz__directory(w.app.domain->dir, w.app.domain->tickets);
    fuzz__app_free(&w);
    fuzz__snapshot(db_sqlite_handle(store_db(fuzz__base.store)));
}

/* sessionid='$' on an ad-hoc command: the last one handed out. */
static void fuzz__sessionid(xmpp_stanza_t *st)
{
    xmpp_stanza_t *cmd = xmpp_stanza_get_child_by_name(st, "command");
    const char *sid = cmd ? xmpp_stanza_get_attribute(cmd, "sessionid") : NULL;
    if (sid && !strcmp(sid, "$") && fuzz__out.sessionid[0])
        xmpp_stanza_set_attribute(cmd, "sessionid", fuzz__out.sessionid);
}

static void fuzz__trace_in(xmpp_stanza_t *st)
{
    char *buf = NULL;
    size_t len = 0;
    if (xmpp_stanza_to_text(st, &buf, &len) == XMPP_EOK) {
        fprintf(stderr, "RECV: %s\n", buf);
        xmpp_free(fuzz__out.ctx, buf);
    }
}

static void fuzz__record(struct fuzz__world *w, uint8_t ctl, const char *xml)
{
    if (ctl & 0x80)
        modules_online(&w->app);
    unsigned adv = (ctl >> 3) & 7;
    if (adv < 7) {
        clock_advance(fuzz__advance[adv]);
    } else {
        int was = w->broken;
        w->broken = (w->broken + 1) % 3;
        fuzz__break(db_sqlite_handle(store_db(w->store)), was, w->broken);
    }
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(w->app.ctx, xml);
    /* the server hands the component only stanzas addressed to its domain */
    if (st && !fuzz__ours(xmpp_stanza_get_to(st))) {
        xmpp_stanza_release(st);
        st = NULL;
    }
    if (st) {
        if ((ctl & 7) < 7)
            xmpp_stanza_set_from(st, fuzz__senders[ctl & 7]);
        fuzz__out.need_to = xmpp_stanza_get_from(st) != NULL;
        const char *in_type = xmpp_stanza_get_type(st);
        fuzz__out.in_error = in_type && !strcmp(in_type, "error");
        fuzz__sessionid(st);
        if (fuzz__out.trace)
            fuzz__trace_in(st);
        const char *name = xmpp_stanza_get_name(st);
        const char *type = xmpp_stanza_get_type(st);
        int request = name && !strcmp(name, "iq") && type &&
                      (!strcmp(type, "get") || !strcmp(type, "set"));
        fuzz__out.iq_answers = 0;
        dispatch_stanza(w->app.dispatch, &w->app, st);
        if (request && fuzz__out.iq_answers != 1) {
            fprintf(stderr,
                    "fuzz_dispatch: an iq %s got %zu answers instead of 1\n",
                    type, fuzz__out.iq_answers);
            abort();
        }
        xmpp_stanza_release(st);
        fuzz__out.need_to = 1;
        fuzz__out.in_error = 0;
    }
    /* as conn.c after a quiet pass: the answers to refused messages */
    dispatch_send_refusals(w->app.dispatch, &w->app,
                           dispatch_refusals_pending(w->app.dispatch));
    if (ctl & 0x40)
        modules_tick(&w->app);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char err[512];
    if (config_load_string(&fuzz__base.cfg, fuzz__config, "fuzz.ini", err,
                           sizeof err) != 0) {
        fprintf(stderr, "fuzz_dispatch: %s\n", err);
        abort();
    }
    /* errors too: a fuzzer makes the store refuse things all the time */
    log_set_level(getenv("FUZZ_LOG") ? atoi(getenv("FUZZ_LOG")) : -1);
    xmpp_initialize();
    fuzz__base_up();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char xml[FUZZ_MAX_STANZA + 1];
    struct fuzz__world w;
    fuzz__up(&w);
    size_t i = 0;
    while (i < size) {
        uint8_t ctl = data[i++];
        size_t start = i;
        while (i < size && data[i] != 0)
            i++;
        size_t n = i - start;
        if (i < size)
            i++; /* the separator */
        if (n == 0 || n > FUZZ_MAX_STANZA)
            continue;
        memcpy(xml, data + start, n);
        xml[n] = '\0';
        fuzz__record(&w, ctl, xml);
    }
    fuzz__down(&w);
    return 0;
}
