/* xep0249_invite.h - XEP-0249 Direct MUC Invitations.
 *
 * chatdesk invites techs to waiting sessions and contacts to push-chats with
 * a <message/> that carries <x xmlns='jabber:x:conference'/> and also a
 * <body/>, so clients without XEP-0249 show the request as a chat message.
 */
#ifndef CHATDESK_XEP0249_INVITE_H
#define CHATDESK_XEP0249_INVITE_H

#define NS_CONFERENCE "jabber:x:conference"

struct app;

/* Adds the disco feature. */
int xep0249_register(struct app *app);

/* Send to to_jid an invitation to room_jid with reason (may be NULL) and a
 * body (may be NULL: then the reason, or a generic sentence, is used). */
void xep0249_send_invite(struct app *app, const char *to_jid,
                         const char *room_jid, const char *reason,
                         const char *body);

#endif
