/* domain.c - see domain.h */
#include "domain/domain.h"

#include "runtime/config.h"
#include "domain/audit.h"
#include "domain/canned.h"
#include "domain/presence.h"
#include "domain/report.h"
#include "domain/sessions.h"
#include "domain/tickets.h"

#include <stdio.h>
#include <stdlib.h>

struct domain *domain_open(struct store *st, const struct config *cfg,
                           char *err, size_t errlen)
{
    struct domain *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->cfg = cfg;
    for (size_t i = 0; i < cfg->n_admins && i < 64; i++)
        d->admins[d->n_admins++] = cfg->admins[i];
    d->dir = directory_open(st, err, errlen);
    if (d->dir)
        d->settings = settings_open(st, err, errlen);
    if (d->settings)
        d->tickets = ticket_store_sqlite_new(st, err, errlen);
    if (d->tickets)
        d->sessions = sessions_open(st, d->dir, d->tickets, err, errlen);
    if (d->sessions && !(d->presence = presence_new()))
        snprintf(err, errlen, "out of memory");
    if (d->presence)
        d->canned = canned_open(st, err, errlen);
    if (d->canned)
        d->reports = reports_open(st, err, errlen);
    if (d->reports)
        d->audit = audit_open(st, err, errlen);
    if (!d->audit) {
        domain_close(d);
        return NULL;
    }
    return d;
}

void domain_close(struct domain *d)
{
    if (!d)
        return;
    audit_close(d->audit);
    reports_close(d->reports);
    canned_close(d->canned);
    presence_free(d->presence);
    sessions_close(d->sessions);
    ticket_store_destroy(d->tickets);
    settings_close(d->settings);
    directory_close(d->dir);
    free(d);
}

enum dir_role domain_role(struct domain *d, const char *bare_jid)
{
    return directory_role(d->dir, bare_jid, d->admins, d->n_admins);
}

int domain_settings(struct domain *d, struct settings *out, char *err,
                    size_t errlen)
{
    struct settings_defaults defs = {
        .answer_timeout = d->cfg->answer_timeout,
        .idle_timeout = d->cfg->idle_timeout,
    };
    return settings_load(d->settings, &defs, out, err, errlen);
}
