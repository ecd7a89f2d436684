/* relay.h - room notices for a room another process serves (SPEC §11).
 *
 * With several chatdesk processes on one domain (behind ejabberd's
 * domain_balancing, [component] connections = auto) each room's stanzas
 * reach one process: the one whose connection holds the room's route
 * slot. A notice may be made by another one (a command to the component's
 * JID ends a session, a timer fires, a tech takes a chat in the queue): it
 * is stored in the shared database by whoever makes it, and when nobody is
 * in the room in this process the MUC engine says so (notice_unheard).
 * This module then sends it through the server to the room's bare JID,
 * from the component's domain, as
 *
 *   <message type='headline' to='chat-7@DOMAIN' from='DOMAIN'>
 *     <relay xmlns='urn:chatdesk:relay' id='STANZA-ID'><body>…</body></relay>
 *   </message>
 *
 * and the server routes it to the process serving the room, which sends it
 * to its occupants with the same stanza-id (muc_relay_notice(): stored
 * nowhere again). Only the component's own domain can send from it, so
 * nobody else can post in a room this way; a relay from anyone else is
 * not a relay (the MUC engine answers it as any message). A relay that
 * reaches a process with nobody in the room is dropped there (never
 * relayed again). With one connection (the default) nothing is relayed.
 */
#ifndef CHATDESK_CHAT_RELAY_H
#define CHATDESK_CHAT_RELAY_H

#include <stdint.h>

struct app;

#define NS_CHATDESK_RELAY "urn:chatdesk:relay"

/* A change of a room's state made here for a room another process may
 * serve (nobody is in it here), relayed the same way as
 *
 *   <relay xmlns='urn:chatdesk:relay' what='voice'/>     the session is
 *       over: the contact loses voice (chat_revoke_contact_voice())
 *   <relay xmlns='urn:chatdesk:relay' what='position'/>  the queue moved:
 *       the waiting contact is told its place (chat_tell_position())
 *
 * The receiver reads the session from the database and does what its
 * state calls for (a voice relay for a live session does nothing), so a
 * relay carries no state of its own. */
enum chat_relay_what { CHAT_RELAY_VOICE, CHAT_RELAY_POSITION };

/* Relay what for session_id's room when this process is one of several
 * (connections = auto); else nothing. */
void chat_relay_room(struct app *app, int64_t session_id,
                     enum chat_relay_what what);

/* Adds the relay's message handler: call it before the MUC engine's
 * (xep0045_new()), so relays never reach the engine. 0 or -1. */
int chat_relay_register(struct app *app);

/* The MUC policy's notice_unheard: relay the notice when this process is
 * one of several (connections = auto). */
void chat_relay_notice(struct app *app, const char *room, const char *body,
                       const char *id, void *ud);

#endif
