/* stanza.h - small helpers for building replies and reading stanzas.
 *
 * Every function that returns a stanza returns a new reference the caller
 * releases. Functions named send_* build, send through app_send() and
 * release.
 */
#ifndef CHATDESK_STANZA_H
#define CHATDESK_STANZA_H

#include <strophe.h>

struct app;

#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"

/* An <iq type='result'/> answering iq: to/from swapped, same id. */
xmpp_stanza_t *stanza_iq_result(xmpp_ctx_t *ctx, xmpp_stanza_t *iq);

/* A child element <name xmlns='ns'/> added to parent; returns it borrowed. */
xmpp_stanza_t *stanza_add_child_ns(xmpp_stanza_t *parent, const char *name,
                                   const char *ns);

/* <name>text</name> added to parent (ns may be NULL). Returns borrowed. */
xmpp_stanza_t *stanza_add_text_child(xmpp_stanza_t *parent, const char *name,
                                     const char *ns, const char *text);

/* The text of the first child called name (ns may be NULL), or NULL.
 * Returned string is allocated with xmpp_alloc: free with xmpp_free. */
char *stanza_child_text(xmpp_stanza_t *parent, const char *name,
                        const char *ns);

/* Add to reply (a stanza of type error) its <error type='TYPE'> with the
 * defined condition and, when text is not empty, a <text xml:lang='en'/>. */
void stanza_add_error(xmpp_stanza_t *reply, const char *type,
                      const char *condition, const char *text);

/* Answer a request stanza (iq/message/presence) with an error of the given
 * type ("cancel", "modify", "auth", "wait") and defined condition
 * ("service-unavailable", "forbidden", ...), with a human-readable text. */
void send_error(struct app *app, xmpp_stanza_t *request, const char *type,
                const char *condition, const char *text);

/* Send an empty iq result for iq. */
void send_iq_result(struct app *app, xmpp_stanza_t *iq);

#endif
