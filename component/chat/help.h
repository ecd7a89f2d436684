/* help.h - what chatdesk tells a person in a chat message (SPEC §8): the
 * answer of the bare component JID to a chat or normal message (what
 * chatdesk is, how to run its ad-hoc commands in each client, the queue
 * room), and the text that tells a tech how to let chatdesk see his
 * presence. Depends on rooms.h only. */
#ifndef CHATDESK_CHAT_HELP_H
#define CHATDESK_CHAT_HELP_H

#include <stddef.h>

struct app;

/* Adds the message handler for the bare component JID to app->dispatch:
 * a chat or normal message with a <body/> from a user (a JID with a local
 * part) is answered with a help text of the same type, for the sender's
 * role (tech or admin, contact, or stranger). Messages to rooms, without
 * a body (chat states, receipts), of another type, or from a server pass
 * to the next handler. Returns 0 or -1. */
int chat_help_register(struct app *app);

/* The text that tells a tech how chatdesk gets his presence: approve the
 * component's subscription request, or bookmark the queue room with
 * auto-join (XEP-0402). Into buf (truncated to len); returns buf. */
const char *chat_help_presence(struct app *app, char *buf, size_t len);

/* Send text to bare_jid as a chat message from the component. */
void chat_help_send(struct app *app, const char *bare_jid, const char *type,
                    const char *text);

#endif
