/* xep0359_stanza_id.h - XEP-0359 Unique and Stable Stanza IDs.
 *
 * An entity that stamps <stanza-id by='X' id='...'/> must first remove any
 * stanza-id already claiming by='X' (a client could forge one). Since
 * libstrophe 0.12 cannot delete a child, stanza_id_copy_filtered() builds a
 * copy without those elements.
 */
#ifndef CHATDESK_XEP0359_STANZA_ID_H
#define CHATDESK_XEP0359_STANZA_ID_H

#include <strophe.h>

#define NS_SID "urn:xmpp:sid:0"

/* Add <stanza-id xmlns='urn:xmpp:sid:0' by='by' id='id'/> to parent.
 * Returns the new child (borrowed) or NULL. */
xmpp_stanza_t *stanza_id_add(xmpp_stanza_t *parent, const char *by,
                             const char *id);

/* 1 when el is a <stanza-id xmlns='urn:xmpp:sid:0'/> whose 'by' equals by
 * (compared without regard to ASCII case). */
int stanza_id_is_by(xmpp_stanza_t *el, const char *by);

/* Says 1 for a direct child to leave out of a copy. */
typedef int (*stanza_id_drop_fn)(xmpp_stanza_t *child, void *ud);

/* A new deep copy of stanza (caller releases) without its direct
 * <stanza-id/> children claiming by=by, nor the direct children for which
 * drop(child, ud) says 1 (drop may be NULL), e.g. other claims only the
 * copier may make. NULL when out of memory. */
xmpp_stanza_t *stanza_id_copy_filtered(xmpp_stanza_t *stanza, const char *by,
                                       stanza_id_drop_fn drop, void *ud);

#endif
