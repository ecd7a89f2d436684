/* presence.h - who is Online, Away, Busy or Offline (SPEC §2), in memory.
 *
 * The tracker keeps, per bare JID, the resources that sent available
 * presence and each one's <show/>. It is not persisted: after a restart (or
 * a reconnect to the server) the component clears it and probes again.
 * Several processes on one database share what each received through it
 * (domain/presence_share.h): another process's resource appears here as
 * "RESOURCE~SOURCE".
 *
 * Mapping of one resource (SPEC §2):
 *   show            contact   tech
 *   none, chat      Online    Online
 *   away, xa        Away      Away
 *   dnd             Away      Busy
 *   (no resource)   Offline   Offline
 * <priority/> is ignored.
 *
 * Several resources: the most available one wins, in the order
 *   Online > Busy > Away > Offline.
 * Busy ranks above Away because dnd is something a person sets by hand at a
 * device they are using, while away/xa is mostly set by idle timers: a tech
 * with a dnd phone and an idle laptop is at work but not taking new chats
 * (Busy), not gone (Away). Neither receives chat requests (only Online
 * does), so the order only decides what is shown and what push-chat's
 * refusal text says. For contacts dnd maps to Away, so there it is
 * Online > Away > Offline.
 *
 * JIDs: the bare part is normalised with directory_jid_bare() (lowercased);
 * the resource is kept as given (it is case-sensitive). A JID without a
 * resource counts as the resource "".
 *
 * Ownership: the tracker owns copies of every string it is given; strings
 * it hands to callbacks are borrowed for the duration of the call.
 * Single-threaded.
 */
#ifndef CHATDESK_PRESENCE_H
#define CHATDESK_PRESENCE_H

#include <stdbool.h>
#include <stddef.h>

/* chatdesk presence, ordered: a greater value is more available. */
enum cd_presence { CD_OFFLINE = 0, CD_AWAY = 1, CD_BUSY = 2, CD_ONLINE = 3 };

/* An XMPP <show/> value; NONE = available without <show/>. */
enum presence_show {
    PRESENCE_SHOW_NONE = 0,
    PRESENCE_SHOW_CHAT,
    PRESENCE_SHOW_AWAY,
    PRESENCE_SHOW_XA,
    PRESENCE_SHOW_DND
};

/* What an update did to a bare JID's chatdesk presence. */
struct presence_change {
    bool changed; /* before != after */
    enum cd_presence before;
    enum cd_presence after;
};

struct presence_tracker;

/* A new, empty tracker; NULL when out of memory. */
struct presence_tracker *presence_new(void);

/* Free the tracker and everything in it. NULL is fine. */
void presence_free(struct presence_tracker *tr);

/* Parse a <show/> text: NULL or "" is NONE; "chat", "away", "xa", "dnd".
 * Returns 0, or -1 for anything else (then *out = NONE, which is what RFC
 * 6121 clients do with an unknown value). */
int presence_show_parse(const char *text, enum presence_show *out);

/* The mapping of a single available resource (table above). */
enum cd_presence presence_map(enum presence_show show, bool is_tech);

/* "Online", "Away", "Busy", "Offline" (for texts shown to people). */
const char *presence_name(enum cd_presence p);

/* Record presence from full_jid: available with show, or unavailable
 * (show ignored; the resource is dropped, and the bare JID with its last
 * resource). is_tech says which column of the table applies; it is also
 * remembered for presence_each_online_tech(). out (may be NULL) receives the
 * bare JID's chatdesk presence before and after, computed as a tech or a
 * contact according to is_tech. Unavailable from an unknown resource is not
 * an error (nothing changes). Returns 0, or -1 for a malformed JID or when
 * out of memory (nothing changes; *out says unchanged). */
int presence_update(struct presence_tracker *tr, const char *full_jid,
                    bool available, enum presence_show show, bool is_tech,
                    struct presence_change *out);

/* The chatdesk presence of a bare JID (a resource, if any, is ignored):
 * its most available resource, mapped as a tech or a contact. A malformed
 * or unknown JID is CD_OFFLINE. */
enum cd_presence presence_of(const struct presence_tracker *tr,
                             const char *bare_jid, bool is_tech);

/* Drop every resource of bare_jid (a removed tech, a deleted contact). out
 * (may be NULL) receives the change, computed with the remembered is_tech.
 * Forgetting an unknown JID is fine. Returns 0, or -1 for a malformed JID. */
int presence_forget(struct presence_tracker *tr, const char *bare_jid,
                    struct presence_change *out);

/* Forget everyone (the stream to the server was lost). */
void presence_clear(struct presence_tracker *tr);

/* Call cb(bare_jid, ud) for every bare JID last updated as a tech whose
 * presence is CD_ONLINE, in JID order. cb must not change the tracker; a
 * non-zero return stops the walk. Returns the number of calls made. */
typedef int (*presence_jid_cb)(const char *bare_jid, void *ud);
size_t presence_each_online_tech(const struct presence_tracker *tr,
                                 presence_jid_cb cb, void *ud);

/* How many bare JIDs have at least one available resource. */
size_t presence_count(const struct presence_tracker *tr);

#endif
