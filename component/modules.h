/* modules.h - the list of protocol modules the program registers. */
#ifndef CHATDESK_MODULES_H
#define CHATDESK_MODULES_H

struct app;

/* The XEP-0050 roles (ADHOC_ROLE_* bits) of a bare JID, from the directory
 * and the config's admins: an adhoc_role_fn. */
unsigned modules_adhoc_roles(struct app *app, const char *bare_jid,
                             void *ud);

/* Call every xepNNNN_register() in order. Returns 0 or -1. */
int modules_register(struct app *app);

/* Release what the modules hung off the app (app->adhoc, ...). */
void modules_free(struct app *app);

/* Old room messages purged a tick at most ([retention] messages_days). */
#define MODULES_PURGE_BATCH 500

/* Periodic work (search indexing, retention, reaping stale ad-hoc
 * sessions); about
 * once a second, between event-loop passes (conn.c), so no batch is held
 * (app->flush). */
void modules_tick(struct app *app);

/* After every event-loop pass (conn.c): the PSA sender's requests move on
 * without waiting. */
void modules_pass(struct app *app);

/* After each successful handshake (presence subscriptions and probes). */
void modules_online(struct app *app);

/* Before the stream closes on a clean stop (occupants are told). */
void modules_stopping(struct app *app);

#endif
