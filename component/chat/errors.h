/* errors.h - the XMPP error (type and defined condition, RFC 6120 §8.3) of
 * every refusal code of the domain: one table per result enum, so a refusal
 * reads the same wherever it is answered. The <text/> is the domain
 * module's own sentence (sessions_error(), history_error(),
 * ticket_store_error()); only the condition lives here.
 */
#ifndef CHATDESK_CHAT_ERRORS_H
#define CHATDESK_CHAT_ERRORS_H

#include <stdbool.h>

/* An error's type ("cancel", "auth", "modify", "wait") and condition. */
struct xmpp_cond {
    const char *type, *cond;
};

/* Where a session refusal is answered: to an ad-hoc command, or to a
 * groupchat message in a session room (SPEC §3: a message the session
 * cannot take, e.g. after it ended, is <forbidden/>). */
enum errors_where { ERRORS_COMMAND, ERRORS_ROOM };

/* The error of an enum sess_code refusal (SESS_ERR_*) answered at where.
 * Any other code (SESS_OK, out of range) gives the store failure's. */
const struct xmpp_cond *errors_sess(int code, enum errors_where where);

/* The error of an enum hist_code refusal (HIST_ERR_*); any other code
 * gives the store failure's. */
const struct xmpp_cond *errors_hist(int code);

/* The error of an enum ticket_code refusal (TICKET_ERR_*); any other code
 * gives the store failure's. */
const struct xmpp_cond *errors_ticket(int code);

/* The error of an enum canned_code refusal (CANNED_ERR_*); any other code
 * gives the store failure's. */
const struct xmpp_cond *errors_canned(int code);

/* Whether c is the store failure (wait, <internal-server-error/>): the
 * refusals whose text should say what failed and to try again later. */
bool errors_internal(const struct xmpp_cond *c);

#endif
