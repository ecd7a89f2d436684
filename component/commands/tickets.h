/* tickets.h - the techs' ticket commands (SPEC §6), on XEP-0050.
 *
 * Nodes (ADHOC_ROLE_TECH, so admins too; contacts get <forbidden/>):
 *
 *   create-ticket  one screen: `contact` (jid-single, must be a known
 *                  contact) and `summary` (required). The ticket belongs to
 *                  the contact and the contact's company. Completes with a
 *                  result form whose field `ticket` is the new ticket id,
 *                  and a note.
 *   tickets        one screen of optional filters: `company` (a company
 *                  name), `contact` (a contact JID), `status` (open, closed
 *                  or all; absent or empty = all). Completes with a result
 *                  form with <reported/> columns ticket, company (name),
 *                  contact (JID), summary, status, created (ISO 8601 UTC,
 *                  "2026-01-31T09:00:00Z"): newest first, at most
 *                  COMMANDS_TICKETS_MAX_ROWS rows, with a note when more
 *                  match (or when none do).
 *
 * Errors: bad or unknown values answer modify/<bad-request/> naming the
 * field ("Field 'contact': bob@example.com is not a known contact"); the
 * session stays open for a corrected submission. Store failures answer
 * wait/<internal-server-error/>.
 *
 * Ownership: the commands read app->domain (directory, ticket store) at
 * request time; it must outlive the command table.
 */
#ifndef CHATDESK_COMMANDS_TICKETS_H
#define CHATDESK_COMMANDS_TICKETS_H

struct app;

#define COMMANDS_TICKETS_MAX_ROWS 100

/* Add create-ticket and tickets to the ad-hoc table (after
 * xep0050_register). Returns 0, or -1 when a node cannot be added. */
int commands_tickets_register(struct app *app);

#endif
