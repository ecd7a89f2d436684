/* xep0030_disco.h - XEP-0030 Service Discovery: answers disco#info and
 * disco#items addressed to the component from the registry in disco.h. */
#ifndef CHATDESK_XEP0030_DISCO_H
#define CHATDESK_XEP0030_DISCO_H

#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"

struct app;

/* Adds the iq handlers, the component's identity and both features. */
int xep0030_register(struct app *app);

#include <strophe.h>

/* A disco request <iq type='get' id=id to=to><query xmlns=ns/></iq>, ns
 * NS_DISCO_INFO or NS_DISCO_ITEMS (caller releases), or NULL when out of
 * memory. */
xmpp_stanza_t *xep0030_request(xmpp_ctx_t *ctx, const char *to, const char *id,
                               const char *ns);

/* 1 when reply is a disco#info result listing the feature var. */
int xep0030_info_has_feature(xmpp_stanza_t *reply, const char *var);

#endif
