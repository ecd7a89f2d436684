/* xep0313_mam.h - XEP-0313 Message Archive Management on rooms of the
 * component (SPEC §4: "rooms answer MAM queries so any client can page the
 * transcript").
 *
 * The handlers speak the protocol; the app keeps the archive. Who may read
 * a room's archive and which stored messages a page holds come from a
 * struct mam_archive the app supplies (chatdesk's: chat/archive.h). A
 * room's archive holds its messages and the room's own notices, in the
 * order the room delivered them, with their XEP-0359 stanza ids as archive
 * ids. Requests go to the room's bare JID; the payload is all the dispatch
 * table routes on, so every handler first checks `to`:
 *   - to the component itself, or to an occupant JID (room/nick):
 *     cancel/<service-unavailable/> with a text;
 *   - to another domain: cancel/<item-not-found/>;
 *   - then archive->open decides (e.g. auth/<forbidden/> for someone who
 *     may not read that room, cancel/<item-not-found/> for no such room).
 *
 * iq set <query xmlns='urn:xmpp:mam:2' queryid=...>: optional data form
 * (FORM_TYPE urn:xmpp:mam:2) with
 *   start, end  XEP-0082 times, inclusive bounds on a message's time;
 *   with        a bare JID (chat messages of that member), the room's
 *               occupant JID room/nick (that nick's messages) or the room's
 *               bare JID (system notices);
 * and an optional RSM <set xmlns='http://jabber.org/protocol/rsm'> with
 * max (default MAM_DEFAULT_MAX, capped at MAM_MAX_PAGE), after, before (an
 * empty <before/> asks for the last page) or index. Other form fields and
 * <flip-page/> answer cancel/<feature-not-implemented/> (the rooms do not
 * advertise urn:xmpp:mam:2#extended); a bad value modify/<bad-request/>
 * naming it (a 'with' that archive->jid_bare refuses is one); what
 * archive->page refuses gets its error (e.g. cancel/<item-not-found/> for
 * an after/before id not in the archive).
 *
 * Each matching message of the page goes to the requester, oldest first:
 *   <message from='room' to='requester'>
 *     <result xmlns='urn:xmpp:mam:2' queryid=... id='stanza-id'>
 *       <forwarded xmlns='urn:xmpp:forward:0'>
 *         <delay xmlns='urn:xmpp:delay' stamp=.../>
 *         <message xmlns='jabber:client' type='groupchat'
 *                  from='room/nick'>
 *           <body/> <x xmlns='...muc#user'><item jid='bare'/></x>
 *           (no <x/> for a message without from_jid: a notice)
 *         </message></forwarded></result></message>
 * then the iq result <fin xmlns='urn:xmpp:mam:2'> with an RSM <set/>
 * (<first index=.../>, <last/> when the page has messages, and <count/>);
 * complete='true' when nothing matches beyond the page in the query's
 * direction (forwards: after it; with <before/>: before it).
 *
 * iq get <query xmlns='urn:xmpp:mam:2'/>: the query form (FORM_TYPE,
 * with, start, end). iq get <metadata xmlns='urn:xmpp:mam:2'/>: <start/>
 * and <end/> (id, timestamp) of the archive, empty when it is empty. Both
 * follow the same `to` and access rules.
 *
 * The room disco feature urn:xmpp:mam:2 comes from the MUC engine
 * (struct muc_policy.mam).
 *
 * Ownership: xep0313_register() borrows the struct mam_archive: it must
 * outlive the dispatch table (a static struct does). Strings handed to the
 * callbacks, and those of the items they hand back, are borrowed for the
 * call.
 */
#ifndef CHATDESK_XEP0313_MAM_H
#define CHATDESK_XEP0313_MAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct app;

#define NS_MAM2 "urn:xmpp:mam:2"
#define NS_RSM "http://jabber.org/protocol/rsm"
#define NS_FORWARD "urn:xmpp:forward:0"

#define MAM_DEFAULT_MAX 50 /* messages in a page when the query sets none */
#define MAM_MAX_PAGE 100   /* most messages sent for one query */
#define MAM_JID_MAX 2048   /* bytes of a bare JID, with the NUL */
#define MAM_ERR_TEXT 512   /* bytes of an error text, with the NUL */

/* A refusal: an XMPP error type ("cancel", "auth", "modify", "wait"), a
 * defined condition and a text a person can act on. */
struct mam_err {
    char type[16];
    char condition[48];
    char text[MAM_ERR_TEXT];
};

/* Whose messages a query asks for (the form's 'with'). */
enum mam_with {
    MAM_WITH_ANY = 0,
    MAM_WITH_JID,  /* chat messages from this bare JID */
    MAM_WITH_NICK, /* chat messages under this nick */
    MAM_WITH_ROOM  /* the room's own notices */
};

/* The filters and the RSM position of a query. */
struct mam_query {
    bool has_start, has_end;
    time_t start, end; /* inclusive bounds on a message's time */
    enum mam_with with;
    const char *with_value; /* the bare JID or nick for JID / NICK */
    /* after: the page after that archive id. before: the page before that
     * archive id, or "" for the last page. index: skip that many matches
     * from the start (only without after and before). */
    const char *after;
    const char *before;
    bool has_index;
    size_t index;
    size_t max; /* messages in the page, 0..MAM_MAX_PAGE (0: count only) */
};

/* One archived message. */
struct mam_item {
    const char *stanza_id; /* its archive id */
    time_t when;
    const char *nick;     /* the sender's nick (a notice: the room's own) */
    const char *from_jid; /* the sender's bare JID; NULL for a notice */
    const char *body;
};

/* What a page holds besides its messages. */
struct mam_page {
    size_t n;           /* messages in the page */
    size_t count;       /* messages matching the filters (all pages) */
    size_t first_index; /* position of the page's first among them */
    /* No further match in the direction of the query: after the page when
     * paging forwards, before it when paging backwards (before given). */
    bool complete;
};

typedef void (*mam_item_fn)(const struct mam_item *item, void *fn_ud);

/* The app's side. Callbacks get the struct's ud; all three are required. */
struct mam_archive {
    /* The bare JID of jid, as the app compares JIDs (e.g. lowercased),
     * into out (len bytes): 0, or -1 when jid is not a valid JID. */
    int (*jid_bare)(const char *jid, char *out, size_t len, void *ud);
    /* May from (the requester's full JID as sent; may be NULL) read the
     * archive of room (a lowercased local part)? 0 with *archive set to
     * what page() takes, or -1 with *err filled. */
    int (*open)(struct app *app, const char *room, const char *from,
                int64_t *archive, struct mam_err *err, void *ud);
    /* Read the page of archive that q asks for, then call fn for each of
     * its messages, oldest first, and fill *out. 0, or -1 with *err filled
     * (fn was not called). */
    int (*page)(struct app *app, int64_t archive, const struct mam_query *q,
                mam_item_fn fn, void *fn_ud, struct mam_page *out,
                struct mam_err *err, void *ud);
    void *ud;
};

/* Add the iq handlers (set query, get query, get metadata) answering from
 * archive (borrowed). Returns 0, or -1 when a callback is missing or the
 * dispatch table refuses. */
int xep0313_register(struct app *app, const struct mam_archive *archive);

#endif
