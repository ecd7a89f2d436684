/* disco.h - what the component says about itself in XEP-0030.
 *
 * Modules register their features (namespaces) and identities here from
 * their xepNNNN_register(); xep0030_disco.c answers disco#info and
 * disco#items from it. Item providers answer disco#items for one node
 * (e.g. the ad-hoc command list) and see who asks.
 */
#ifndef CHATDESK_DISCO_H
#define CHATDESK_DISCO_H

#include <strophe.h>

struct app;
struct disco;

/* Adds <item/> children to query for node, for the requester from (full
 * JID). */
typedef void (*disco_items_fn)(struct app *app, const char *from,
                               xmpp_stanza_t *query, void *ud);

struct disco *disco_new(void);
void disco_free(struct disco *d);

/* Strings are copied. Returns 0 or -1. Adding a feature twice keeps one. */
int disco_add_feature(struct disco *d, const char *var);
int disco_add_identity(struct disco *d, const char *category,
                       const char *type, const char *name);
int disco_add_items_node(struct disco *d, const char *node, disco_items_fn fn,
                         void *ud);

/* Fill a disco#info <query/> with identities and features, sorted. */
void disco_fill_info(struct disco *d, xmpp_stanza_t *query);

/* Run the provider of node on query. Returns 0, or -1 if no such node. */
int disco_fill_items(struct disco *d, struct app *app, const char *node,
                     const char *from, xmpp_stanza_t *query);

/* 1 if var was registered. */
int disco_has_feature(struct disco *d, const char *var);

#endif
