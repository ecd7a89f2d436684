/* admin.h - the admins' ad-hoc commands (SPEC §5), on XEP-0050.
 *
 * Nodes (ADHOC_ROLE_ADMIN only; techs and contacts get <forbidden/>):
 *
 *   settings  one screen, prefilled with the current values: chat,
 *             pre_ticket, callback (boolean), timezone (IANA name),
 *             office_hours ("mon-fri 09:00-17:00; sat 10:00-12:00", also
 *             "always"/"none"), holidays ("2026-12-25,2026-12-26"),
 *             answer_timeout and idle_timeout (whole seconds, 1..86400).
 *             A field left out of the submission keeps its value. Every
 *             field is validated before anything is stored; only values
 *             that differ from the current ones are stored, in one
 *             transaction. Completes with a note.
 *   company   screen 1: list-single `company` = an existing company name or
 *             "new"; screen 2: `name` (required) and the overrides `chat`,
 *             `pre_ticket`, `callback` as list-single inherit/on/off.
 *             Creates or updates; completes with a note.
 *   contact   screen 1: `jid` (jid-single, bare); screen 2, prefilled when
 *             the contact exists: `company` (list-single of company names,
 *             required), `name`, `phone`, `chat` (inherit/on/off).
 *   tech      screen 1: `jid` and `action` (create/edit/remove); remove
 *             completes there with a note; screen 2, prefilled on edit:
 *             `name` and `admin` (boolean).
 *
 * Errors: a bad value answers modify/<bad-request/> with a text naming the
 * field and the problem ("Field 'answer_timeout' must be a whole number of
 * seconds from 1 to 86400"); the session stays open so the admin can
 * correct and resubmit. Unknown companies, contacts or techs are bad
 * requests naming them. A store failure answers wait/<internal-server-
 * error/>. Nothing is written before a submission has been validated.
 *
 * A company whose name is "new" (any case) cannot be picked on screen 1 of
 * `company`, since "new" there means a new company; chatdeskctl can edit it.
 *
 * Ownership: the commands read app->domain (directory, settings) and
 * app->store (transactions) at request time; both must outlive the
 * command table.
 */
#ifndef CHATDESK_COMMANDS_ADMIN_H
#define CHATDESK_COMMANDS_ADMIN_H

struct app;

/* Add the four admin nodes to the ad-hoc table (after xep0050_register).
 * Returns 0, or -1 when a node cannot be added. */
int commands_admin_register(struct app *app);

#endif
