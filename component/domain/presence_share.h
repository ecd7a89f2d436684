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
 * Which processes count: a row counts while its source is among the
 * processes alive, as the caller last said (pshare_peers()). chatdesk's
 * sources are the processes' leases (runtime/cluster.h: a beat a second,
 * a death seen within a second), so a process that dies drops out of
 * every other's view as soon as their cluster sees it gone; it need not
 * beat for its presence too. A process declared gone by mistake (a loop
 * stalled past its lease) comes back with its rows when it is seen alive
 * again: any change of the set makes the next merge read every row again.
 * The rows of a process not alive are deleted once unchanged for ten
 * minutes (pshare_prune()).
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

#define PSHARE_PEERS_MAX 64      /* other processes counted at most */
#define PSHARE_PRUNE_SECONDS 600 /* rows of a process not alive: deleted */

/* Open on st for the process whose id is source: positive and unique per
 * process start (chatdesk gives its lease's id). NULL with a message in
 * err. */
struct pshare *pshare_open(struct store *st, int64_t source, char *err,
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

/* The other processes alive now: only the rows of these n sources count
 * (at most PSHARE_PEERS_MAX; until the first call, none). When the set
 * differs from the last one, the next merge reads every row again, so the
 * rows of a process gone leave the view (as unavailable) and those of one
 * new or back come in. 1 when the set changed, else 0. */
int pshare_peers(struct pshare *ps, const int64_t *ids, size_t n);

/* At most once a minute, once the peers are known: delete the rows
 * unavailable, and those of processes not alive, unchanged for
 * PSHARE_PRUNE_SECONDS. 0 or -1. */
int pshare_prune(struct pshare *ps, time_t now);

#endif
