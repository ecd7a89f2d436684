/* presence_share.h - presence shared through the database by several
 * chatdesk processes on one component domain (SPEC §11, issue 21).
 *
 * Behind ejabberd's domain_balancing a presence reaches one process only:
 * the one holding the component JID's route slot (subscriptions, directed
 * presence) or the one serving the queue room (an occupant's presence).
 * Each process records what it received in the table presence_shared, one
 * row per (bare JID, resource, source), the source naming the process;
 * every process reads the rows the others changed since its last read (a
 * change sequence, presence_seq) and merges them into its own tracker
 * (domain/presence.h) under the resource "RESOURCE~SOURCE", so a process
 * serving a waiting chat sees the techs Online wherever their presence
 * arrived.
 *
 * The sequence: each write takes the next number from the one row of
 * presence_seq (UPDATE ... RETURNING) in the transaction of the row it
 * changes, so writers queue on that row lock and commit in sequence order;
 * a reader asking for seq > last therefore never skips a change that
 * commits later with a smaller number.
 *
 * A process that dies: its rows stay (the presence did not change on the
 * server) until its source has not beaten for stale_after seconds
 * (presence_sources, pshare_beat() every few seconds); then any process
 * marks the source gone and its rows change (a new sequence) so readers
 * drop them. The process that takes over the component JID's slot asks
 * everyone for presence again (chat_presence_more_slots) and writes rows of
 * its own long before that. A process that beats again after being
 * declared gone (a loop stalled longer than stale_after) brings its rows
 * back. Gone rows are deleted after ten minutes.
 *
 * With sqlite (one process per database) nothing of this runs; the table
 * exists on both engines so the tests run on both. Loop thread only.
 */
#ifndef CHATDESK_PRESENCE_SHARE_H
#define CHATDESK_PRESENCE_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "domain/presence.h"

struct store;
struct pshare;

#define PSHARE_SOURCE_MAX 128
#define PSHARE_BEAT_SECONDS 5   /* how often a process says it is alive */
#define PSHARE_STALE_SECONDS 30 /* silent this long: its rows are dropped */

/* Open on st for the process named source (unique per process start: host,
 * pid, time). NULL with a message in err. */
struct pshare *pshare_open(struct store *st, const char *source, char *err,
                           size_t errlen);
void pshare_close(struct pshare *ps);
const char *pshare_error(const struct pshare *ps);

/* Record what this process received: full_jid as handed to the tracker
 * (its resource may carry a suffix such as "#queue"). 0 or -1. */
int pshare_put(struct pshare *ps, const char *full_jid, bool available,
               enum presence_show show, bool is_tech, time_t now);

/* This process's view is gone (its stream was lost): every row of this
 * source becomes unavailable. 0 or -1. */
int pshare_drop_own(struct pshare *ps, time_t now);

/* What a merged row did to a bare JID in the tracker. */
typedef void (*pshare_change_fn)(const char *bare_jid, bool is_tech,
                                 const struct presence_change *ch, void *ud);

/* Read the other processes' rows changed since the last merge and apply
 * them to tr; cb (may be NULL) is called for every row applied. The number
 * of rows applied, or -1. */
int pshare_merge(struct pshare *ps, struct presence_tracker *tr,
                 pshare_change_fn cb, void *ud);

/* The tracker was cleared: the next merge reads every row again. */
void pshare_rewind(struct pshare *ps);

/* Once a tick: every PSHARE_BEAT_SECONDS note this source alive, bring
 * back its rows if it had been declared gone, declare gone the sources
 * silent for stale_after seconds, delete rows gone for ten minutes.
 * 0 or -1. */
int pshare_beat(struct pshare *ps, time_t now, int stale_after);

#endif
