/* xep0033_multicast.h - XEP-0033 Extended Stanza Addressing, as a sender.
 *
 * One stanza to a multicast service (ejabberd's mod_multicast) with an
 * <addresses/> of bcc addresses instead of one copy per recipient: the
 * service delivers a copy to each address, with the sender's from, and
 * takes the bcc addresses out of what it delivers, so recipients do not
 * learn each other's JIDs. We send only; we do not act as a service.
 */
#ifndef CHATDESK_XEP0033_MULTICAST_H
#define CHATDESK_XEP0033_MULTICAST_H

#include <stddef.h>
#include <strophe.h>

#define NS_ADDRESS "http://jabber.org/protocol/address"

/* Addresses per stanza: XEP-0033's services advertise a limit (ejabberd:
 * 100 for local senders, 20 for remote ones by default); a component's
 * domain may count as remote, so stay at the smaller one. */
#define XEP0033_MAX_ADDRESSES 20

/* A copy of st (caller releases) to service, carrying an <addresses/>
 * with one <address type='bcc' jid=.../> for each of jids[0..n-1].
 * Whatever <addresses/> st had is not copied. NULL when out of memory or
 * n is 0 or over XEP0033_MAX_ADDRESSES. */
xmpp_stanza_t *xep0033_bcc_copy(xmpp_stanza_t *st, const char *service,
                                const char *const *jids, size_t n);

#endif
