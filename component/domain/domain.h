/* domain.h - the chat domain's modules, opened together on one store and hung
 * off app->domain: directory, settings, ticket store. No libstrophe here. */
#ifndef CHATDESK_DOMAIN_H
#define CHATDESK_DOMAIN_H

#include <stddef.h>

#include "domain/directory.h"
#include "domain/settings.h"

struct store;
struct config;
struct ticket_store;
struct sessions;
struct presence_tracker;
struct canned;
struct reports;
struct audit;

struct domain {
    struct directory *dir;
    struct settings_store *settings;
    struct ticket_store *tickets;
    struct sessions *sessions;
    struct presence_tracker *presence; /* in memory only */
    struct canned *canned;
    struct reports *reports;
    struct audit *audit;
    const struct config *cfg;
    const char *admins[64]; /* pointers into cfg->admins */
    size_t n_admins;
};

/* Open every module on st. NULL with a message in err on failure. */
struct domain *domain_open(struct store *st, const struct config *cfg,
                           char *err, size_t errlen);
void domain_close(struct domain *d);

/* The role of a bare JID (config admins are admins). */
enum dir_role domain_role(struct domain *d, const char *bare_jid);

/* Current settings: config defaults overlaid with the stored values.
 * Returns 0 or -1 with err. */
int domain_settings(struct domain *d, struct settings *out, char *err,
                    size_t errlen);

#endif
