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
 *   view-ticket    field `ticket`. Completes with a result form: fields
 *                  ticket, summary, status, company (name), contact (JID),
 *                  external_id ("" until the PSA named it), created, closed
 *                  ("" while open), then every note oldest first as a
 *                  text-multi field note-N (one line a value; past
 *                  FORM_MAX_VALUES lines it goes on in note-N-2, ...)
 *                  labelled "Note N: KIND by AUTHOR at TIME". Notes past
 *                  48,000 bytes of text are left out with a warn note
 *                  naming `chatdeskctl ticket show`.
 *   close-ticket   fields `ticket` and `note` (text-multi, optional).
 *                  Closes the ticket; a note becomes its own closing_note
 *                  note by the tech, in the same transaction. A closed
 *                  ticket is refused with cancel/<not-acceptable/> and the
 *                  text "ticket #N is already closed".
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

/* Add create-ticket, tickets, view-ticket and close-ticket to the ad-hoc
 * table (after xep0050_register). Returns 0, or -1 when a node cannot be added. */
int commands_tickets_register(struct app *app);

#endif
