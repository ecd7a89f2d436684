/* sessions.h - the techs' session tools (SPEC §4), on XEP-0050.
 *
 * Nodes (ADHOC_ROLE_TECH, so admins too; contacts get <forbidden/>). Each
 * shows its form on execute; a client may also submit the form with the
 * first execute.
 *
 *   sessions      field `view` (list-single: mine, waiting, abandoned,
 *                 callbacks; absent or empty = mine). Completes with a
 *                 result table.
 *   history       optional fields `company` (a company name), `contact` (a
 *                 contact JID), `text` (words that must all occur in the
 *                 transcript; "word*" is a prefix), `since`, `until`
 *                 (YYYY-MM-DD or an ISO 8601 time; dates are whole UTC days,
 *                 `until` includes its day) and `page` (1, 2, ...; default
 *                 1). Lists past sessions (ended, abandoned, callback,
 *                 closed), newest first, COMMANDS_SESSIONS_PAGE to a page.
 *                 One page of results completes the command. When more
 *                 match, the page comes as an executing step whose actions
 *                 are next (the default), prev (from page 2 on) and
 *                 complete (ends the command on that page); the last page
 *                 offers prev and complete. Every page carries a note
 *                 "Page N (sessions A-B)...". Clients without multi-step
 *                 support can ask for any page with the `page` field.
 *   view-session  field `session` (12, chat-12 or chat-12@component).
 *                 Completes with a result form: the table's columns as
 *                 fields plus description, answered_by, answered_at,
 *                 ended_at, closer, closing_note, callback_note and the
 *                 transcript (text-multi `transcript`, one line a value;
 *                 past XEP-0004's cap on values of one field the text goes
 *                 on in `transcript-2`, `transcript-3`, ...).
 *   closing-note  fields `session` and `note` (text-multi; empty removes
 *                 the note). Only the session's closer may add or edit it
 *                 (sessions_set_closing_note); anyone else gets
 *                 auth/<forbidden/> with a text naming the closer.
 *
 * Result tables (sessions, history) have the <reported/> columns session,
 * room (jid-single, chat-<id>@component), ticket, company (name), contact
 * (JID), state, created (ISO 8601 UTC, "2026-01-31T09:00:00Z"), phone (the
 * callback phone) and note (the closing note, else the callback note).
 *
 * Errors: bad values answer modify/<bad-request/> naming the field
 * ("Field 'since' must be a date like 2026-01-31 or ..."), an unknown
 * session cancel/<item-not-found/>, a closing note on a live session
 * cancel/<not-allowed/>, store failures wait/<internal-server-error/>.
 *
 * Ownership: the commands read app->store and app->domain at request time;
 * both must outlive the command table. Each request opens its own history
 * handle (history.h) and closes it before answering.
 */
#ifndef CHATDESK_COMMANDS_SESSIONS_H
#define CHATDESK_COMMANDS_SESSIONS_H

struct app;

#define COMMANDS_SESSIONS_MAX_ROWS 200 /* rows of a `sessions` list */
#define COMMANDS_SESSIONS_PAGE 50      /* rows of a `history` page */

/* Add sessions, history, view-session and closing-note to the ad-hoc table
 * (after xep0050_register). Returns 0, or -1 when a node cannot be added. */
int commands_sessions_register(struct app *app);

#endif
