/* audit.c - chatdeskctl's side of the audit trail: see ctl/ctl.h */
#include "ctl/ctl.h"

#include "domain/audit.h"
#include "domain/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CTL__WHO "chatdeskctl"

int ctl_audit_record(struct ctl *c, const char *object, const char *key,
                     const char *old_value, const char *new_value)
{
    if (audit_record(c->audit, CTL__WHO, object, key, old_value, new_value) ==
        AUDIT_OK)
        return 0;
    ctl_err("audit: %s (nothing was changed)", audit_error(c->audit));
    return -1;
}

/* The transaction is domain/audit.h's, as the admin commands'
 * (commands/change.h); chatdeskctl prints where they answer. */
int ctl_change_begin(struct ctl *c)
{
    enum audit_change r = audit_change_begin(c->audit);
    if (r == AUDIT_CHANGE_DONE)
        return 0;
    ctl_err("cannot %s: %s", audit_change_what(r), audit_error(c->audit));
    return -1;
}

int ctl_change_end(struct ctl *c, int ok)
{
    enum audit_change r = audit_change_end(c->audit, ok);
    if (r == AUDIT_CHANGE_COMMIT) /* a failed entry was printed already */
        ctl_err("cannot %s: %s (nothing was changed)", audit_change_what(r),
                audit_error(c->audit));
    return r == AUDIT_CHANGE_DONE ? 0 : -1;
}

void ctl_setting_value(struct ctl *c, const char *key, char *buf, size_t len)
{
    struct settings s;
    char err[600];
    if (settings_load(c->ss, NULL, &s, err, sizeof err) != 0 ||
        settings_value(&s, key, buf, len) != 0)
        buf[0] = '\0';
}

int ctl_audit(struct ctl *c, int argc, char **argv)
{
    struct audit_list l;
    char at[32], *end = NULL;
    long page = argc == 2 ? strtol(argv[1], &end, 10) : 1;
    if (argc > 2 || (argc == 2 && (*end || end == argv[1])) || page < 1) {
        ctl_err("audit [PAGE]: PAGE is a number from 1");
        return CTL_USAGE;
    }
    if (audit_list(c->audit, (size_t)(page - 1) * CTL_AUDIT_PAGE,
                   CTL_AUDIT_PAGE, &l) != AUDIT_OK) {
        ctl_err("%s", audit_error(c->audit));
        return CTL_FAIL;
    }
    for (size_t i = 0; i < l.n; i++) {
        const struct audit_entry *e = &l.items[i];
        struct tm tm;
        time_t t = e->at;
        strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        printf("%s\t%s\t%s\t%s\t%s\t%s\n", at, e->who, e->object, e->key,
               e->old_value, e->new_value);
    }
    audit_list_free(&l);
    return CTL_OK;
}
