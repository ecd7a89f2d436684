/* xep0313_mam.h - XEP-0313 Message Archive Management on the session rooms
 * (SPEC §4: "rooms answer MAM queries so any client can page the
 * transcript").
 *
 * The archive of chat-<id>@<component> is the session's stored messages
 * (history.h): chat messages and system notices, in the order the room
 * delivered them, with their XEP-0359 stanza ids as archive ids. Requests
 * go to the room's bare JID; the payload is all the dispatch table routes
 * on, so every handler first checks `to`:
 *   - to the component itself, or to an occupant JID (room/nick):
 *     cancel/<service-unavailable/> with a text;
 *   - to a room that is not a session room: cancel/<item-not-found/>;
 *   - from anyone but a tech (or admin) or the session's contact:
 *     auth/<forbidden/> (the rooms are members-only).
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
 * naming it; an after/before id not in the archive cancel/<item-not-found/>.
 *
 * Each matching message of the page goes to the requester, oldest first:
 *   <message from='room' to='requester'>
 *     <result xmlns='urn:xmpp:mam:2' queryid=... id='stanza-id'>
 *       <forwarded xmlns='urn:xmpp:forward:0'>
 *         <delay xmlns='urn:xmpp:delay' stamp=.../>
 *         <message xmlns='jabber:client' type='groupchat'
 *                  from='room/nick' (notices: from='room')>
 *           <body/> <x xmlns='...muc#user'><item jid='bare'/></x>
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
 * Ownership: the handlers read app->store and app->domain at request time;
 * each request opens and closes its own history handle.
 */
#ifndef CHATDESK_XEP0313_MAM_H
#define CHATDESK_XEP0313_MAM_H

struct app;

#define NS_MAM2 "urn:xmpp:mam:2"
#define NS_RSM "http://jabber.org/protocol/rsm"
#define NS_FORWARD "urn:xmpp:forward:0"

#define MAM_DEFAULT_MAX 50 /* messages in a page when the query sets none */
#define MAM_MAX_PAGE 100   /* most messages sent for one query */

/* Add the iq handlers (set query, get query, get metadata). Needs
 * app->domain and app->store. Returns 0 or -1. */
int xep0313_register(struct app *app);

#endif
