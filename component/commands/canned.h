/* canned.h - the admins' canned replies (SPEC §9), on XEP-0050.
 *
 *   canned  (ADHOC_ROLE_ADMIN) fields `action` (list-single: add, edit,
 *           remove; default add), `name` (what follows '!'; see
 *           domain/canned.h) and `text` (text-multi; {contact} and {tech}
 *           are filled in when a tech sends it; not used by remove). The
 *           form's instructions list the names there are. Refusals: a bad
 *           name or text modify/<bad-request/>, add of a name in use
 *           cancel/<conflict/>, edit or remove of an unknown name
 *           cancel/<item-not-found/> (chat/errors.c), each with a text that
 *           quotes the value. Completes with a note saying what changed.
 *
 * A tech uses a reply by writing "!name" as the whole body of a message in
 * a session room (chat/policy.c).
 */
#ifndef CHATDESK_COMMANDS_CANNED_H
#define CHATDESK_COMMANDS_CANNED_H

struct app;

/* Add the node (after xep0050_register). 0 or -1. */
int commands_canned_register(struct app *app);

#endif
