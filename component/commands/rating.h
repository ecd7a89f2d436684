/* rating.h - rating chats and the admins' report (SPEC §9), on XEP-0050.
 *
 *   rate    (ADHOC_ROLE_CONTACT) fields `session`, `score` (list-single
 *           1..5) and `comment` (text-multi, optional): the session's
 *           contact rates an ended session once (sessions_rate()). A score
 *           that is not 1..5 is modify/<bad-request/> quoting it; another
 *           contact's session auth/<forbidden/>; a session not ended, or
 *           rated already, cancel/<not-allowed/> (chat/errors.c).
 *   report  (ADHOC_ROLE_ADMIN) fields `since` and `until` (YYYY-MM-DD,
 *           optional; until includes its day; default: the 30 days up to
 *           and including today, UTC). Completes with a result table, one
 *           row per tech (credited with the sessions it ended or closed)
 *           and per company: columns by (tech|company), name, sessions,
 *           median_answer (seconds, "" when none was answered), abandoned,
 *           callbacks, avg_rating ("" when none was rated; one decimal).
 */
#ifndef CHATDESK_COMMANDS_RATING_H
#define CHATDESK_COMMANDS_RATING_H

struct app;

/* Add the two nodes (after xep0050_register). 0 or -1. */
int commands_rating_register(struct app *app);

#endif
