/* transfer.h - handing a chat over (SPEC §9), on XEP-0050.
 *
 *   transfer  (ADHOC_ROLE_TECH) fields `session` (12, chat-12 or
 *             chat-12@component) and `to` (jid-single: a tech's JID, or
 *             empty for back to the queue). The target must be a tech of
 *             the directory (else modify/<bad-request/> quoting the value)
 *             and Online (else cancel/<not-acceptable/> naming its
 *             presence). Then sessions_transfer() records it and the room
 *             gets its notice; the target gets a XEP-0249 invitation and
 *             the queue room a line; back to the queue, the session waits
 *             again, every Online tech is invited as for a new request and
 *             the contact hears its place in line. Completes with a result
 *             form: session, room, to.
 */
#ifndef CHATDESK_COMMANDS_TRANSFER_H
#define CHATDESK_COMMANDS_TRANSFER_H

struct app;

/* Add the node (after xep0050_register and chat_register). 0 or -1. */
int commands_transfer_register(struct app *app);

#endif
