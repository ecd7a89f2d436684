/* multicast.h - room messages through the server's XEP-0033 service.
 *
 * With [component] multicast = JID, each time chatdesk gets online it asks
 * that JID for disco#info; only when the answer lists
 * http://jabber.org/protocol/address does the MUC engine fan room messages
 * out through it (muc_set_multicast()). Until then, and when the service
 * is missing or says otherwise (a warning in the log names it), every
 * occupant resource gets its own stanza, as without the key.
 */
#ifndef CHATDESK_CHAT_MULTICAST_H
#define CHATDESK_CHAT_MULTICAST_H

struct app;

/* After each handshake: one stanza per resource until the configured
 * service answers that it multicasts. Nothing without the key. */
void chat_multicast_online(struct app *app);

#endif
