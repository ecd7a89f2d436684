/* conn.h - the one owner of the component connections (XEP-0114).
 *
 * conn_run() connects, keeps reconnecting with capped exponential back-off
 * when the server goes away or refuses, hands every stanza to the app's
 * dispatch table, and returns when asked to stop or on a fatal error (the
 * server says the secret is wrong). conn_send() is the only caller of
 * xmpp_send(). Handlers are added once and survive reconnects.
 *
 * Several connections ([component] connections, SPEC §11): behind
 * ejabberd's domain_balancing a process may hold several route slots, one
 * per connection, all on the one libstrophe context and event loop. Each
 * connection keeps its own back-off; every stanza from any of them goes to
 * the one dispatch; a stanza out goes on the first one online (the server
 * routes it by its destination). connections = N opens N at start;
 * connections = auto opens one and lets the prober (runtime/slots.h) open
 * one more for each vacant slot and close one that holds none. A second
 * connection the server refuses with <conflict/> (Prosody) is closed for
 * good; the first one keeps today's rules.
 */
#ifndef CHATDESK_CONN_H
#define CHATDESK_CONN_H

#include <signal.h>
#include <strophe.h>

struct app;
struct config;
struct conn;

enum conn_exit { CONN_EXIT_STOPPED = 0, CONN_EXIT_FATAL = 1 };

/* Hooks the app gives the connection; any may be NULL. */
struct conn_hooks {
    /* after a handshake that brings the process online (no other
     * connection was online) */
    void (*on_online)(struct app *app);
    /* after the handshake of one more connection while another is online:
     * new route slots, so stanzas the server dropped before (presence
     * answers to the component's JID) may arrive now */
    void (*link_online)(struct app *app);
    void (*tick)(struct app *app);      /* about once a second */
    void (*stopping)(struct app *app);  /* before a clean stream close */
    /* after every event-loop pass and its flush (at most ~100 ms apart);
     * must not wait: the PSA sender's HTTP requests move on here */
    void (*pass)(struct app *app);
    /* connections = auto, several processes on one database
     * (runtime/cluster.h): note a probe of another process's round; say
     * which probes of our round other processes noted (seen[k] = 1; the
     * number, or -1). Either may be NULL. */
    void (*probe_foreign)(struct app *app, const char *round, int n);
    int (*probes_elsewhere)(struct app *app, const char *round,
                            unsigned char *seen, size_t nseen);
};

struct conn *conn_new(xmpp_ctx_t *ctx, const struct config *cfg,
                      struct app *app, const struct conn_hooks *hooks);
void conn_free(struct conn *c);

/* Run until *stop becomes non-zero (returns CONN_EXIT_STOPPED after a clean
 * stream close) or a fatal error (CONN_EXIT_FATAL, message logged). */
enum conn_exit conn_run(struct conn *c, volatile sig_atomic_t *stop);

/* app_send_fn for struct app: sends when online, drops (and logs) when
 * not. ud is the struct conn. */
void conn_send(void *ud, xmpp_stanza_t *stanza);

/* The send_each of struct app: stanza (no 'to') serialised once, each copy
 * with its to='...' put in after the element's name. */
void conn_send_each(void *ud, xmpp_stanza_t *stanza, const char *const *to,
                    size_t n);

/* Connections online now. */
unsigned conn_online_count(const struct conn *c);

/* 1 when stanzas to the component's own JID reach this process: always
 * with connections = N; with auto when the last probe round's probe to
 * the domain came back on a connection that is still online. */
int conn_holds_domain(const struct conn *c);

/* connections = auto: probe the route slots delay_ms from now instead of
 * at the end of the period (another process on the database died,
 * holding expect slots: slots_hurry()). Nothing without the prober. */
void conn_hurry(struct conn *c, unsigned delay_ms, unsigned expect);

/* connections = auto: route slots held at the last probe round
 * (slots_held()); with connections = N, the connections online. */
unsigned conn_slots_held(const struct conn *c);

/* The back-off delay in ms before reconnect attempt number attempt (0-based),
 * capped at cap_ms. Exposed for unit tests. */
unsigned long conn_backoff_ms(unsigned attempt, unsigned long cap_ms);

#endif
