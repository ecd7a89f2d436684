/* xep0199_ping.h - XEP-0199 XMPP Ping: answers pings to the component. */
#ifndef CHATDESK_XEP0199_PING_H
#define CHATDESK_XEP0199_PING_H

#define NS_PING "urn:xmpp:ping"

struct app;

int xep0199_register(struct app *app);

#endif
