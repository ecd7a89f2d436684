/* dispatch.h - our own table from (stanza kind, element, namespace) to
 * handler.
 *
 * libstrophe hands every stanza to one handler per kind (conn.c); that
 * handler calls dispatch_stanza(). iq get/set are routed by the name and
 * namespace of their first child element; an iq that no entry matches is
 * answered with <service-unavailable/> (and a text), so no request goes
 * unanswered. Message and presence handlers are tried in order until one
 * returns DISPATCH_HANDLED.
 *
 * Rate limit: before any handler, every stanza from a user (a from with a
 * local part; the server's and components' own stanzas are exempt) takes a
 * token from its bare JID's bucket (ratelimit.h; [limits] in the config,
 * read on the first stanza; no config or stanzas_per_second = 0: no limit).
 * Over the limit: every iq get/set, message and available presence is
 * answered, to its sender only, with one <resource-constraint/> (type wait)
 * and a text naming the limit; subscription presence, probes and iq
 * results are dropped (logged at debug). Error stanzas and unavailable
 * presence count
 * but are always handled: they only clear state and are never answered.
 * iq and presence answers go at once; a message's answer waits in a
 * bounded low-priority queue (lowq.h) that the event loop empties with
 * dispatch_send_refusals() after other traffic, in order, never dropping
 * one (a full queue sends its oldest answer at once).
 * The operator's log says who is over the limit at most every 10 s.
 *
 * Group commit: after the rate limit and before any handler, every stanza
 * but a groupchat message calls app->flush (when set), so only groupchat
 * messages join a held batch and no handler ever flushes by itself.
 */
#ifndef CHATDESK_DISPATCH_H
#define CHATDESK_DISPATCH_H

#include <strophe.h>

struct app;
struct dispatch;

enum dispatch_result { DISPATCH_PASS = 0, DISPATCH_HANDLED = 1 };

/* iq handler: iq is the whole request, payload its first child element. The
 * handler must answer (result or error) exactly once. */
typedef void (*dispatch_iq_fn)(struct app *app, xmpp_stanza_t *iq,
                               xmpp_stanza_t *payload, void *ud);

/* message / presence handler. */
typedef enum dispatch_result (*dispatch_stanza_fn)(struct app *app,
                                                   xmpp_stanza_t *stanza,
                                                   void *ud);

struct dispatch *dispatch_new(void);
void dispatch_free(struct dispatch *d);

/* type is "get" or "set"; name and ns identify the payload. Adding the same
 * (type, name, ns) twice replaces the earlier entry. Returns 0 or -1. */
int dispatch_add_iq(struct dispatch *d, const char *type, const char *name,
                    const char *ns, dispatch_iq_fn fn, void *ud);

/* kind is "message" or "presence". Returns 0 or -1. */
int dispatch_add(struct dispatch *d, const char *kind, dispatch_stanza_fn fn,
                 void *ud);

/* Replies to our own iqs. fn(app, reply, ud) runs once for the iq result
 * or error whose id is id and whose from is from (compared without regard
 * to ASCII case; a reply from anyone else is not ours); the reply is
 * borrowed. An entry nobody answers stays until dispatch_free() or until
 * the same id is awaited again. 0, or -1 when DISPATCH_AWAITS are pending
 * already or out of memory. Loop thread only. */
#define DISPATCH_AWAITS 16
typedef void (*dispatch_reply_fn)(struct app *app, xmpp_stanza_t *reply,
                                  void *ud);
int dispatch_await(struct dispatch *d, const char *id, const char *from,
                   dispatch_reply_fn fn, void *ud);

/* Route one incoming stanza (borrowed). */
void dispatch_stanza(struct dispatch *d, struct app *app,
                     xmpp_stanza_t *stanza);

/* The low-priority answers to refused messages (lowq.h): how many wait,
 * how many may go now given libstrophe's send queue length and whether
 * the connection is quiet (conn.c: no stanza for a while), and sending the n
 * oldest of them (in the order of the messages). Loop thread only. */
size_t dispatch_refusals_pending(const struct dispatch *d);
size_t dispatch_refusals_due(const struct dispatch *d, int sendq_len,
                             int quiet);
void dispatch_send_refusals(struct dispatch *d, struct app *app, size_t n);

/* Timers of the application. Like a stanza handler, a timer runs after the
 * group commit was flushed (nothing is held when it starts), so a module
 * never calls app->flush itself. One-shot: fn(app) once, about ms
 * milliseconds from now (checked between event-loop passes, every 100 ms
 * at most). Setting fn again re-arms it. 0, or -1 when DISPATCH_TIMERS are
 * armed already. Loop thread only. */
#define DISPATCH_TIMERS 8
typedef void (*dispatch_timer_fn)(struct app *app);
int dispatch_timer_set(struct dispatch *d, dispatch_timer_fn fn,
                       unsigned long ms);

/* Disarm fn (nothing when it is not armed). */
void dispatch_timer_cancel(struct dispatch *d, dispatch_timer_fn fn);

/* Run every timer that is due: conn.c calls it between passes. */
void dispatch_run_timers(struct dispatch *d, struct app *app);

#endif
