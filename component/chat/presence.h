/* presence.h - presence stanzas addressed to the component itself
 * (SPEC §2): subscriptions, directed presence from the portal, probes; and
 * the reactions to a chatdesk presence change (a tech comes Online, a
 * contact goes Offline), through notices.h. Presence to room JIDs belongs
 * to the MUC engine. */
#ifndef CHATDESK_CHAT_PRESENCE_H
#define CHATDESK_CHAT_PRESENCE_H

#include <stdbool.h>

struct app;

/* How long after connecting the server gets to report who is online
 * before contacts of waiting sessions still Offline count as gone. */
#define CHAT_PRESENCE_GRACE_MS 5000

/* Adds the presence handler to app->dispatch and sets app->person_added.
 * Returns 0 or -1. */
int chat_presence_register(struct app *app);

/* Cancels the grace timer of chat_presence_online(). */
void chat_presence_free(struct app *app);

/* After each successful handshake: forget presence (the server will tell
 * again), ask every known tech and contact for presence, and start the
 * grace timer (CHAT_PRESENCE_GRACE_MS). With shared presence this
 * process's rows are dropped too and the others' read again at the next
 * tick (a tech Online elsewhere is then a change here, as after a
 * reconnect of a lone process). */
void chat_presence_online(struct app *app);

/* One more connection came online (runtime/conn.h, link_online): answers
 * to the component's JID that the server dropped while its route slot had
 * no connection may arrive now, so ask everyone again (nothing forgotten)
 * and start the grace again, so no waiting session is abandoned for an
 * answer that was dropped. */
void chat_presence_more_slots(struct app *app);

/* The presence of an occupant of the queue room counts as the tech's
 * presence (a resource of its own). */
void chat_presence_from_queue(struct app *app, const char *full_jid,
                              bool available, const char *show);

/* Several processes on one PostgreSQL database (connections = auto):
 * open the presence this process shares with the others
 * (domain/presence_share.h): what it receives is written there, what the
 * others received is merged into its tracker once a tick. Its rows are
 * named by its lease (app->cluster, joined before). Otherwise nothing.
 * 0 or -1. */
int chat_presence_share_open(struct app *app);

/* Once a tick: the shared presence's merge (and, once a minute, the
 * prune; nothing without). */
void chat_presence_tick(struct app *app);

/* The cluster's set of living processes changed (runtime/cluster.h,
 * cluster_peers_changed()): only the rows of those count, merged at once,
 * so a process that died leaves this view as soon as its lease does. */
void chat_presence_peers(struct app *app);

/* Drop this process's shared rows (a clean stop) and close. */
void chat_presence_share_close(struct app *app);

#endif
