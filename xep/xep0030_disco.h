/* xep0030_disco.h - XEP-0030 Service Discovery: answers disco#info and
 * disco#items addressed to the component from the registry in disco.h. */
#ifndef CHATDESK_XEP0030_DISCO_H
#define CHATDESK_XEP0030_DISCO_H

#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"

struct app;

/* Adds the iq handlers, the component's identity and both features. */
int xep0030_register(struct app *app);

#endif
