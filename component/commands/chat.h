/* commands/chat.h - the chat ad-hoc commands of SPEC §3, on XEP-0050:
 * start-chat, push-chat, end-session, end-chat, callback.
 *
 * Each is one form: executing shows it; submitting it acts. A client may
 * also submit the form with the first execute (the portal does).
 *
 *   start-chat   (contacts) field `description`: opens a ticket and a
 *                waiting session, invites the Online techs.
 *   push-chat    (techs) field `ticket`: an active session with the open
 *                ticket's contact, who must be Online; invites it.
 *   end-session  (techs) fields `session`, `note`: ends or closes it.
 *   end-chat     (contacts) field `session`: ends the contact's chat.
 *   callback     (contacts) fields `session`, `phone`, `note`: turns the
 *                session into a callback request.
 *
 * start-chat's result also carries `position` (1 = next in the queue).
 *
 * The component's disco#info carries a XEP-0128 form of FORM_TYPE
 * CHAT_PORTAL_FORM_TYPE with what a portal shows a contact: answer_timeout,
 * idle_timeout, away_after (seconds) and office_hours_open (boolean, now).
 *
 * A transition posts its notice through chat/notices.h; the rooms are
 * app->chat's, so chat_register() must have run.
 */
#ifndef CHATDESK_COMMANDS_CHAT_H
#define CHATDESK_COMMANDS_CHAT_H

struct app;

#define CHAT_PORTAL_FORM_TYPE "urn:chatdesk:portal"

/* Add the five nodes to the ad-hoc table (after xep0050_register and
 * chat_register). Returns 0, or -1 when a node cannot be added. */
int commands_chat_register(struct app *app);

#endif
