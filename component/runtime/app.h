/* app.h - the running component's shared state, passed to every handler.
 *
 * Ownership: the app owns everything it points to except cfg (owned by
 * main). Handlers receive stanzas borrowed; a stanza given to app_send() is
 * borrowed too (app_send copies what it needs), so the caller releases what
 * it created.
 */
#ifndef CHATDESK_APP_H
#define CHATDESK_APP_H

#include <stddef.h>
#include <strophe.h>

struct config;
struct store;
struct dispatch;
struct disco;
struct conn;
struct history;
struct cluster;
struct writer;

typedef void (*app_send_fn)(void *ud, xmpp_stanza_t *stanza);

struct app {
    xmpp_ctx_t *ctx;
    const struct config *cfg;
    struct store *store;
    struct dispatch *dispatch;
    struct disco *disco;
    const char *jid; /* the component's domain, e.g. helpdesk.localhost */
    /* The only way out: conn.c in the program, a capturing function in unit
     * tests. */
    app_send_fn send;
    void *send_ud;
    /* The stanza (borrowed, no 'to') to each of to[0..n-1], serialised
     * once (conn.c); NULL: app_send_each() sends one copy at a time. */
    void (*send_each)(void *ud, xmpp_stanza_t *stanza,
                      const char *const *to, size_t n);
    /* Module state hung off the app by the modules that own it. */
    struct adhoc *adhoc;
    struct domain *domain;
    struct chat *chat;
    struct psa_sender *psa; /* NULL without [psa] webhook_url */
    /* Long-lived, for indexing new messages for search (modules.c). */
    struct history *history;
    /* What several processes on one database share (runtime/cluster.h):
     * route-slot probes. Owned by main. */
    struct cluster *cluster;
    /* The commit writer (domain/writer.h): chat messages are stored on
     * its thread. NULL (":memory:" databases, unit tests): the group
     * commit runs on the loop (flush). Opened by modules.c. */
    struct writer *writer;
    /* Called after a tech or contact is created or updated at run time
     * (ad-hoc commands), so the chat side can ask for its presence. */
    void (*person_added)(struct app *app, const char *bare_jid);
    /* Group commit: make durable and send what the chat side holds (see
     * muc_flush()). Set by chat_register(). The runtime calls it, handlers
     * and timers never do: dispatch_stanza() before every stanza that is
     * not a groupchat message, dispatch_run_timers() before every timer
     * (dispatch_timer_set()), conn.c before the tick, and, without a commit
     * writer, at the end of every event-loop pass (conn__pass(), the
     * shutdown's passes too), so nothing is held at the tick or a stream
     * close. With a writer it also waits for every batch in flight, so
     * whatever runs after it reads every acknowledged message. NULL:
     * nothing is ever held. */
    void (*flush)(struct app *app);
    /* Several connections (SPEC §11, runtime/slots.h): 1 when stanzas to
     * the component's own JID (presence of techs and contacts, ad-hoc
     * commands) reach this process, 0 when another process holds that
     * route slot or nobody does. Only that process knows presence, so
     * only it may act on someone's absence. NULL: always 1 (one
     * connection, the default). Use app_holds_domain(). */
    int (*holds_domain)(struct app *app);
    /* With a commit writer (all three set by chat_register(), else NULL):
     * pump, the end of a pass instead of flush: hand the held batch to the
     * writer and send what is durable, without waiting for the rest (see
     * muc_pump()); busy: whether a batch is in flight (1); wait: block
     * until a batch in flight finishes, ms at most (1 when one did, 0 at
     * once when none is in flight). conn.c reads without waiting while
     * busy, then waits for the writer, so reflections leave as soon as
     * their batch is durable and the sockets are read at least every ms.
     * Loop thread only. */
    void (*pump)(struct app *app);
    int (*busy)(struct app *app);
    int (*wait)(struct app *app, unsigned ms);
};

/* app->holds_domain(app), or 1 when it is not set. */
int app_holds_domain(struct app *app);

/* Send a stanza (borrowed). Stamps from= with the component JID when the
 * stanza has none. */
void app_send(struct app *app, xmpp_stanza_t *stanza);

/* app_send() of stanza to each of to[0..n-1] in turn, its 'to' set to
 * each (and left unset after when serialised once: the caller releases
 * it). A room's reflection: what each copy says but its 'to' is built
 * once. */
void app_send_each(struct app *app, xmpp_stanza_t *stanza,
                   const char *const *to, size_t n);

/* The most bytes one stanza chatdesk sends may take: [limits]
 * max_stanza_bytes, CONFIG_MAX_STANZA_BYTES when app has no config. */
size_t app_max_stanza(const struct app *app);

/* The bytes st (borrowed) serializes to when that is over max; when it is
 * not, a cheap upper bound (at most max). 0 when it cannot be serialized. */
size_t app_stanza_size(struct app *app, xmpp_stanza_t *st, size_t max);

#endif
