/* modules.h - the list of protocol modules the program registers. */
#ifndef CHATDESK_MODULES_H
#define CHATDESK_MODULES_H

struct app;

/* The XEP-0050 roles (ADHOC_ROLE_* bits) of a bare JID, from the directory
 * and the config's admins: an adhoc_role_fn. */
unsigned modules_adhoc_roles(struct app *app, const char *bare_jid,
                             void *ud);

/* modules_open() then modules_attach(). Returns 0 or -1. */
int modules_register(struct app *app);

/* Release what the modules hung off the app: modules_detach() then
 * modules_close(). */
void modules_free(struct app *app);

/* The two halves, for a caller that keeps the store-backed modules (and
 * their prepared statements) across several apps on the same store (the
 * fuzz targets): modules_open() opens app->domain, app->history and
 * app->psa on app->store; modules_attach() calls every xepNNNN_register()
 * in order (the in-memory state: ad-hoc sessions, the chat side, hung off
 * app->adhoc and app->chat); modules_detach() frees that state and
 * modules_close() what modules_open() opened. The domain's presence
 * tracker (in memory) stays with the domain. 0 or -1. */
int modules_open(struct app *app);
int modules_attach(struct app *app);
void modules_detach(struct app *app);
void modules_close(struct app *app);

/* Old room messages purged a tick at most ([retention] messages_days). */
#define MODULES_PURGE_BATCH 500

/* Periodic work (search indexing, retention, reaping stale ad-hoc
 * sessions, the PSA sender); about once a second; the database's share
 * (indexing, retention, the PSA sender) only in the process that is the
 * cluster's leader (runtime/cluster.h; always with sqlite), between event-loop passes (conn.c), so no batch is held
 * (app->flush). */
void modules_tick(struct app *app);

/* After every event-loop pass (conn.c): the PSA sender's requests move on
 * without waiting; a batch of the waiting sessions of contacts gone
 * Offline is abandoned (chat/notices.h). */
void modules_pass(struct app *app);

/* After a handshake that brings the process online (presence
 * subscriptions and probes). */
void modules_online(struct app *app);

/* After one more connection's handshake (another route slot): presence
 * is asked again. */
void modules_link_online(struct app *app);

/* Before the stream closes on a clean stop (occupants are told). */
void modules_stopping(struct app *app);

/* Several processes: the set of processes alive changed
 * (cluster_peers_changed()): what follows their lives (the shared
 * presence) follows now. */
void modules_peers(struct app *app);

#endif
