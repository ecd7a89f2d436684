/* multicast.h - room messages through the server's XEP-0033 service.
 *
 * [component] multicast = off (the default), auto, or a service's domain.
 * Each time chatdesk gets online it looks for the service: with a domain,
 * it asks that domain for disco#info; with auto, it asks the server (the
 * component domain's parent: helpdesk.example.com -> example.com) for
 * disco#items and each item (up to CHAT_MULTICAST_ITEMS) for disco#info.
 * Only a disco#info listing http://jabber.org/protocol/address makes the
 * MUC engine fan room messages out through it (muc_set_multicast()); the
 * log says which service. Until then, with off, and when no service says
 * so (a warning when a configured domain does not), every occupant
 * resource gets its own stanza.
 */
#ifndef CHATDESK_CHAT_MULTICAST_H
#define CHATDESK_CHAT_MULTICAST_H

struct app;

#define CHAT_MULTICAST_ITEMS 12

/* After each handshake: one stanza per resource until a service answers
 * that it multicasts. */
void chat_multicast_online(struct app *app);

#endif
