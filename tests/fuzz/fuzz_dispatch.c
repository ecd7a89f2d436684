/* fuzz_dispatch.c - libFuzzer target: the whole chatdesk component in
 * memory, fed stanzas through dispatch_stanza().
 *
 * Set-up, once (LLVMFuzzerInitialize): the config parsed from a fixed
 * string, one store ":memory:" with the schema and a small directory (two
 * companies, two contacts, two techs, one open ticket), and an image of
 * that database (sqlite3_serialize). The store-backed modules
 * (modules_open(): the domain and the history, with their prepared
 * statements) are opened once too. Each input gets a fresh app the way
 * main.c builds one (modules_attach() on an app whose send function
 * serializes every stanza and drops it: fresh ad-hoc sessions, MUC rooms
 * and occupants, rate limiter) with a fresh presence tracker and the pinned
 * clock, plays, tears the app down and gives the database back from the
 * image (sqlite3_deserialize into the same connection: a copy of a few
 * hundred KB; the statements stay prepared, and sqlite prepares again, when
 * next used, those the new schema made stale), so every input starts from
 * the same state and is reproducible on its own.
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
 *             reaping, office hours); 7: toggle PRAGMA query_only on the
 *             store, so every write fails until toggled back (the store
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

#include <sqlite3.h>
#include "runtime/store.h"
#include "domain/tickets.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
 * mods.history) and the image of its database with the fixtures. */
static struct {
    struct config cfg;
    struct store *store;
    struct app mods;
    unsigned char *image; /* sqlite3_serialize(), sqlite3_free()d never */
    sqlite3_int64 image_len;
} fuzz__base;

/* What the sender saw during one stanza. */
static struct {
    int trace; /* FUZZ_TRACE set: print every stanza in and out */
    xmpp_ctx_t *ctx;
    const char *domain; /* the component's */
    int need_to;        /* the stanza being handled has a from */
    int in_error;       /* the stanza being handled is type='error' */
    char in_id[128];    /* and its id ("" for none) */
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

static void fuzz__send(void *ud, xmpp_stanza_t *stanza)
{
    (void)ud;
    char *buf = NULL;
    size_t len = 0;
    if (xmpp_stanza_to_text(stanza, &buf, &len) != XMPP_EOK) {
        fprintf(stderr, "fuzz_dispatch: a sent stanza does not serialize\n");
        abort();
    }
    if (fuzz__out.trace)
        fprintf(stderr, "SEND: %s\n", buf);
    /* the server drops (or bounces) what a component sends from another
     * domain or without an addressee */
    if (!fuzz__ours(xmpp_stanza_get_from(stanza)))
        fuzz__fail("a stanza sent from outside the component's domain", buf);
    if (fuzz__out.need_to && !xmpp_stanza_get_to(stanza))
        fuzz__fail("a stanza sent without to", buf);
    /* RFC 6120 8.3.1: never answer an error with an error (loops). An
     * error for a groupchat message held in the group commit may go out
     * while an error stanza is handled (its arrival flushes the batch): it
     * carries that message's id, not the error's. */
    const char *t = xmpp_stanza_get_type(stanza);
    const char *id = xmpp_stanza_get_id(stanza);
    if (fuzz__out.in_error && t && !strcmp(t, "error") &&
        !strcmp(id ? id : "", fuzz__out.in_id))
        fuzz__fail("an error sent in answer to an error", buf);
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
    int read_only;
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

/* The database back as the image left it, writable. */
static void fuzz__restore(struct db *dbh)
{
    sqlite3 *db = db_sqlite_handle(dbh);
    unsigned char *copy =
        sqlite3_malloc64((uint64_t)fuzz__base.image_len);
    if (!copy) {
        fprintf(stderr, "fuzz_dispatch: out of memory\n");
        abort();
    }
    memcpy(copy, fuzz__base.image, (size_t)fuzz__base.image_len);
    if (sqlite3_deserialize(db, "main", copy, fuzz__base.image_len,
                            fuzz__base.image_len,
                            SQLITE_DESERIALIZE_FREEONCLOSE |
                                SQLITE_DESERIALIZE_RESIZEABLE) != SQLITE_OK ||
        db_exec(dbh, "PRAGMA query_only = OFF", NULL) != DB_OK) {
        fprintf(stderr, "fuzz_dispatch: cannot restore the database: %s\n",
                db_errmsg(dbh));
        abort();
    }
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

/* A clean stop, the app freed, and the database back as the image left
 * it for the next input. Restoring here rather than before an input frees
 * what this input made sqlite load (the schema, pages) within the input,
 * so libFuzzer mostly sees as many frees as mallocs and seldom runs an
 * input again to look for leaks. */
static void fuzz__down(struct fuzz__world *w)
{
    modules_stopping(&w->app);
    fuzz__app_free(w);
    fuzz__restore(store_db(fuzz__base.store));
}

/* The store of the whole run, with the schema and the directory, and the
 * image every input starts from. */
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
    fuzz__base.image =
        sqlite3_serialize(db_sqlite_handle(store_db(fuzz__base.store)), "main",
                          &fuzz__base.image_len, 0);
    if (!fuzz__base.image) {
        fprintf(stderr, "fuzz_dispatch: cannot serialize the database\n");
        abort();
    }
    fuzz__restore(store_db(fuzz__base.store)); /* the first input's */
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
        w->read_only = !w->read_only;
        db_exec(store_db(w->store), w->read_only ? "PRAGMA query_only = ON"
                                  : "PRAGMA query_only = OFF", NULL);
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
        const char *in_id = xmpp_stanza_get_id(st);
        snprintf(fuzz__out.in_id, sizeof fuzz__out.in_id, "%s",
                 in_id ? in_id : "");
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
