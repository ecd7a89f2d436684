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

/* Answers a disco#info or disco#items request (tell them apart by the
 * namespace of payload) addressed to a JID with a local part, such as a MUC
 * room or an occupant. iq and payload are borrowed. Returns 1 when it
 * answered the iq (exactly once, result or error), 0 when the entity is not
 * its own: the caller then answers <item-not-found/>. */
typedef int (*disco_entity_fn)(struct app *app, xmpp_stanza_t *iq,
                               xmpp_stanza_t *payload, void *ud);

/* Adds XEP-0128 extended information (a result form) to the component's
 * own disco#info <query/>, computed for each request. */
typedef void (*disco_info_ext_fn)(struct app *app, xmpp_stanza_t *query,
                                  void *ud);

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

/* Install the one extended-information provider (fn NULL removes it), and
 * run it on query (nothing when none is installed). */
void disco_set_info_ext(struct disco *d, disco_info_ext_fn fn, void *ud);
void disco_fill_info_ext(struct disco *d, struct app *app,
                         xmpp_stanza_t *query);

/* Run the provider of node on query. Returns 0, or -1 if no such node. */
int disco_fill_items(struct disco *d, struct app *app, const char *node,
                     const char *from, xmpp_stanza_t *query);

/* Install the one provider for entities with a local part (replaces any
 * earlier one; fn NULL removes it). */
void disco_set_entity_info(struct disco *d, disco_entity_fn fn, void *ud);

/* Run the entity provider on iq. Returns its answer (1 answered, 0 not its
 * entity), or 0 when none is installed. */
int disco_answer_entity(struct disco *d, struct app *app, xmpp_stanza_t *iq,
                        xmpp_stanza_t *payload);

/* 1 if var was registered. */
int disco_has_feature(struct disco *d, const char *var);

#endif
