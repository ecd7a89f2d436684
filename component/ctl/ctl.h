/* ctl.h - what the files of chatdeskctl share: the open database and its
 * modules, the exit codes and the error printer. main.c parses the command
 * line and opens them; each command family lives in its own file. */
#ifndef CHATDESK_CTL_H
#define CHATDESK_CTL_H

#define CTL_OK 0
#define CTL_FAIL 1
#define CTL_USAGE 2

#include <stddef.h>

struct store;
struct directory;
struct settings_store;
struct ticket_store;
struct audit;

struct ctl {
    struct store *st;
    struct directory *dir;
    struct settings_store *ss;
    struct ticket_store *ts;
    struct audit *audit;
};

/* "chatdeskctl: MESSAGE\n" on stderr. */
__attribute__((format(printf, 1, 2))) void ctl_err(const char *fmt, ...);

/* ticket list [open|closed] | ticket show ID | ticket close ID [NOTE]:
 * argv[0] is "ticket". Returns an exit code. */
int ctl_ticket(struct ctl *c, int argc, char **argv);

/* outbox list: every PSA event, oldest first, one line each: event id,
 * ticket, type, status, attempts, last answer. outbox retry EVENT-ID: the
 * dead letter back to pending, due now (exit 2 when there is no such dead
 * letter). argv[0] is "outbox". */
int ctl_outbox(struct ctl *c, int argc, char **argv);

/* audit [PAGE]: the audit trail of admin changes (domain/audit.h), newest
 * first, CTL_AUDIT_PAGE a page, one tab-separated line each: when (ISO
 * 8601 UTC), who, object, key, old, new. argv[0] is "audit". */
#define CTL_AUDIT_PAGE 50
int ctl_audit(struct ctl *c, int argc, char **argv);

/* Record a change made by chatdeskctl (who "chatdeskctl"), in the
 * change's transaction (ctl_change_begin()): 0, or -1 after printing why. */
int ctl_audit_record(struct ctl *c, const char *object, const char *key,
                     const char *old_value, const char *new_value);

/* A change and its audit entries are one transaction: no change without
 * its entry (domain/audit.h's audit_change_*, as the admin commands').
 * Begin it: 0, or -1 after printing why. */
int ctl_change_begin(struct ctl *c);

/* End it: commit when ok (the change and its entries were written), else
 * roll back. 0 when committed, or -1 (printed when the commit failed). */
int ctl_change_end(struct ctl *c, int ok);

/* Setting key's current canonical value (stored or default) into buf; ""
 * when it cannot be read. */
void ctl_setting_value(struct ctl *c, const char *key, char *buf, size_t len);

#endif
