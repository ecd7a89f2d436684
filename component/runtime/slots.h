/* slots.h - finding ejabberd's route slots by probing (SPEC §11).
 *
 * ejabberd's domain_balancing (type bare_destination, component_number N)
 * gives a component domain N route slots; each component connection takes
 * the first free slot, and a stanza to the bare JID X goes to the slot
 * X hashes to. A slot nobody holds drops its stanzas silently, and a
 * connection beyond N gets nothing. The server does not say N, nor which
 * slots are free, but a component may send a message to a bare JID on its
 * own domain and the server routes it to the connection that holds that
 * JID's slot. So chatdesk learns its slots by probing (`[component]
 * connections = auto`):
 *
 *  - A round: SLOTS_PROBES messages to probe-<k>@DOMAIN (k new each round,
 *    so every round samples other slots) and one to DOMAIN itself, each
 *    type headline, from DOMAIN, carrying <slot xmlns='urn:chatdesk:slots'
 *    round='NONCE' n='k'/>. slots_receive() takes them off the stream
 *    before dispatch (before the rate limit and the MUC engine; never
 *    answered) and notes which connection got each.
 *  - SLOTS_WAIT_MS after the round went out it is judged (slots_poll()):
 *    a probe that did not come back means a slot nobody holds: open one
 *    more connection (up to [component] connections_max). An online
 *    connection that got no probe in SLOTS_IDLE_ROUNDS rounds in a row
 *    holds no slot (it is beyond N): close it. Then the next round, soon
 *    after a change (SLOTS_SOON_MS), else every SLOTS_PERIOD_MS.
 *  - No decision while a connection is still connecting.
 *
 * A process started alone on a domain with N slots thus ends with N
 * connections; on a server without domain_balancing every probe comes back
 * on the first connection and it stays alone.
 *
 * A probe of a round this process did not send (another process's, or a
 * late one of an earlier round) is consumed too and handed to the foreign
 * callback when one is set (several processes on one database record it
 * there for the sender, runtime/cluster.h); when a round is judged the
 * elsewhere callback says which of its probes other processes received:
 * those slots are held, not vacant. Probes claim from= the component's
 * domain, which
 * only the component itself can send; a probe-shaped message from anyone
 * else is not a probe and goes to dispatch as usual.
 *
 * Plain bookkeeping, no connection of its own: the probes go out through
 * app_send(); conn.c owns the connections and carries out what slots_poll()
 * decides. Loop thread only.
 */
#ifndef CHATDESK_SLOTS_H
#define CHATDESK_SLOTS_H

#include <stddef.h>
#include <stdint.h>
#include <strophe.h>

struct app;
struct slots;

#define NS_CHATDESK_SLOTS "urn:chatdesk:slots"
#define SLOTS_LINKS_MAX 64     /* connections one process may hold */
#define SLOTS_PROBES 32        /* probe-<k> JIDs a round (+ the domain) */
#define SLOTS_WAIT_MS 1000     /* a round is judged this long after */
#define SLOTS_SOON_MS 300      /* next round after a change */
#define SLOTS_PERIOD_MS 5000   /* next round when nothing changed */
#define SLOTS_IDLE_ROUNDS 3    /* rounds without a probe: beyond N */

enum slots_do { SLOTS_NOTHING = 0, SLOTS_OPEN, SLOTS_CLOSE };

struct slots_action {
    enum slots_do what;
    unsigned link; /* SLOTS_CLOSE: which connection */
};

/* What a connection looks like to the prober. */
enum slots_link { SLOTS_LINK_NONE = 0, SLOTS_LINK_PENDING, SLOTS_LINK_ONLINE };

/* A probe of a round we did not send: round is its nonce, n its number;
 * link the connection it came on. */
typedef void (*slots_foreign_fn)(struct app *app, const char *round,
                                 int n, unsigned link, void *ud);

/* Which probes of round (ours) other processes received: seen[k] = 1 for
 * probe k (k < SLOTS_PROBES; seen[SLOTS_PROBES] is the domain's own);
 * returns how many, or -1. Asked when a round is judged. */
typedef int (*slots_elsewhere_fn)(struct app *app, const char *round,
                                  unsigned char *seen, size_t nseen,
                                  void *ud);

/* max_links: the most connections to hold (1..SLOTS_LINKS_MAX). NULL when
 * out of memory. */
struct slots *slots_new(struct app *app, unsigned max_links);
void slots_free(struct slots *s);

void slots_set_foreign(struct slots *s, slots_foreign_fn fn, void *ud);
void slots_set_elsewhere(struct slots *s, slots_elsewhere_fn fn, void *ud);

/* 1 when stanza (borrowed, received on connection link) is a probe: it is
 * noted and must not be dispatched; 0 otherwise. */
int slots_receive(struct slots *s, unsigned link, xmpp_stanza_t *stanza);

/* A connection came online (or went): its idle count starts again, and
 * the next round comes soon. */
void slots_link_changed(struct slots *s, unsigned link);

/* A round at now_ms + delay_ms rather than at the end of the period: a
 * process sharing the database died or stopped (runtime/cluster.h), so its
 * slots may be vacant now. A round in flight is judged first (it went
 * out before and may have reached the dead process); the hurried round
 * comes after it. An earlier round already due is kept. expect: the
 * route slots the dead process held (its lease; 0: unknown): when the
 * next judged round finds a slot vacant, that many connections are
 * opened one after the other at once (up to the maximum), not one a
 * round; one that finds no slot left is closed as any idle one. With a
 * delay (another process goes first) no connection is opened for a
 * vacant slot before the hurried round: the first fills it meanwhile,
 * and two processes do not open one each for the same slot. */
void slots_hurry(struct slots *s, uint64_t now_ms, unsigned delay_ms,
                 unsigned expect);

/* Between passes: starts a round when one is due (sending its probes),
 * judges one that has waited long enough. links[i] says what connection i
 * is (n entries). Returns what conn.c should do (SLOTS_NOTHING mostly). */
struct slots_action slots_poll(struct slots *s, uint64_t now_ms,
                               const enum slots_link *links, unsigned n);

/* For the log, the metrics and the tests: probes of the last judged round
 * that came back, and how many were sent (SLOTS_PROBES + 1); the
 * connection that holds the domain's own JID (-1: none seen). */
unsigned slots_last_back(const struct slots *s);
int slots_domain_link(const struct slots *s);

/* Route slots this process held at the last judged round: its
 * connections that got a probe of it (0 for a hot standby). */
unsigned slots_held(const struct slots *s);

#endif
