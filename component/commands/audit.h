/* audit.h - the admins' view of the audit trail (SPEC §9), on XEP-0050.
 *
 *   audit  (ADHOC_ROLE_ADMIN) optional field `page` (1, 2, ...; default
 *          1). Lists the recorded admin changes (domain/audit.h), newest
 *          first, COMMANDS_AUDIT_PAGE to a page, as a result table with
 *          the <reported/> columns at (ISO 8601 UTC), who, object, key,
 *          old, new. Paged like `history`: execute shows the form
 *          (field page), its submission the page asked for; one page
 *          completes the command; when more match, the page is an
 *          executing step with actions next (the default), prev (from
 *          page 2 on) and complete; every page has a note "Page N
 *          (changes A-B)...". A bad page is modify/<bad-request/>.
 */
#ifndef CHATDESK_COMMANDS_AUDIT_H
#define CHATDESK_COMMANDS_AUDIT_H

#define COMMANDS_AUDIT_PAGE 50

struct app;

/* Add the node (after xep0050_register). 0 or -1. */
int commands_audit_register(struct app *app);

#endif
