/* modules.c - see modules.h */
#include "modules.h"

#include "chat/archive.h"
#include "chat/chat.h"
#include "chat/presence.h"
#include "commands/admin.h"
#include "commands/audit.h"
#include "commands/canned.h"
#include "commands/chat.h"
#include "commands/rating.h"
#include "commands/sessions.h"
#include "commands/tickets.h"
#include "commands/transfer.h"
#include "domain/domain.h"
#include "domain/history.h"
#include "domain/sessions.h"
#include "domain/writer.h"
#include "psa/sender.h"
#include "runtime/app.h"
#include "runtime/clock.h"
#include "runtime/cluster.h"
#include "runtime/config.h"
#include "runtime/log.h"
#include "xep0030_disco.h"
#include "xep0050_adhoc.h"
#include "xep0092_version.h"
#include "xep0199_ping.h"
#include "xep0249_invite.h"

#include <string.h>

unsigned modules_adhoc_roles(struct app *app, const char *bare_jid,
                             void *ud)
{
    (void)ud;
    switch (domain_role(app->domain, bare_jid)) {
    case ROLE_ADMIN:
        return ADHOC_ROLE_ADMIN | ADHOC_ROLE_TECH;
    case ROLE_TECH:
        return ADHOC_ROLE_TECH;
    case ROLE_CONTACT:
        return ADHOC_ROLE_CONTACT;
    default:
        return ADHOC_ROLE_NONE;
    }
}

int modules_open(struct app *app)
{
    char err[512];
    app->domain = domain_open(app->store, app->cfg, err, sizeof err);
    if (!app->domain) {
        log_error("modules", "cannot open the chat domain: %s", err);
        return -1;
    }
    app->history = history_open(app->store, app->domain, err, sizeof err);
    if (!app->history) {
        log_error("modules", "cannot open the history: %s", err);
        return -1;
    }
    if (app->cfg && strcmp(config_db_target(app->cfg), ":memory:") != 0 &&
        !(app->writer =
              writer_open(config_db_target(app->cfg), err, sizeof err))) {
        log_error("modules", "cannot start the commit writer: %s", err);
        return -1;
    }
    if (*app->cfg->psa_url &&
        !(app->psa = psa_sender_new(app->store, app->domain->dir,
                                    app->domain->tickets, app->cfg, err,
                                    sizeof err))) {
        log_error("modules", "cannot start the PSA webhook: %s", err);
        return -1;
    }
    return 0;
}

int modules_attach(struct app *app)
{
    if (xep0030_register(app) || xep0092_register(app) ||
        xep0199_register(app) || xep0050_register(app) ||
        adhoc_set_role_fn(app, modules_adhoc_roles, NULL) ||
        commands_admin_register(app) || commands_tickets_register(app) ||
        commands_sessions_register(app) || chat_archive_register(app) ||
        xep0249_register(app) || chat_register(app) ||
        commands_chat_register(app) || commands_transfer_register(app) ||
        commands_canned_register(app) || commands_rating_register(app) ||
        commands_audit_register(app))
        return -1;
    return 0;
}

int modules_register(struct app *app)
{
    return modules_open(app) || modules_attach(app) ? -1 : 0;
}

void modules_detach(struct app *app)
{
    chat_free(app); /* settles what the writer holds */
    xep0050_free(app);
}

void modules_close(struct app *app)
{
    psa_sender_free(app->psa);
    app->psa = NULL;
    writer_close(app->writer); /* nothing in flight: chat_free() settled */
    app->writer = NULL;
    history_close(app->history);
    app->history = NULL;
    domain_close(app->domain);
    app->domain = NULL;
}

void modules_free(struct app *app)
{
    modules_detach(app);
    modules_close(app);
}

/* Messages are indexed for search when their batch commits; this catches
 * up what was stored outside a batch (notices), a bounded slice a second. */
static void modules__index(struct app *app)
{
    if (!app->history)
        return;
    if (history_index_pending(app->history, 1000, NULL) != HIST_OK)
        log_warn("modules", "search index: %s", history_error(app->history));
}

/* [retention] messages_days: a batch of old room messages a tick, so the
 * write lock is short (SPEC §9). */
static void modules__retention(struct app *app)
{
    size_t n = 0;
    if (!app->domain || !app->cfg || app->cfg->retention_days <= 0)
        return;
    time_t before = clock_now() - (time_t)app->cfg->retention_days * 86400;
    if (sessions_purge(app->domain->sessions, before, MODULES_PURGE_BATCH,
                       &n) != SESS_OK)
        log_warn("modules", "retention: %s",
                 sessions_error(app->domain->sessions));
    else if (n)
        log_debug("modules", "retention: purged %zu old messages", n);
}

void modules_tick(struct app *app)
{
    /* what this process's rooms and commands hold in memory: always */
    if (app->chat)
        chat_tick(app);
    if (app->adhoc)
        adhoc_reap(app);
    /* the database's work: once across processes (runtime/cluster.h) */
    if (app->cluster && !cluster_leader(app->cluster))
        return;
    modules__index(app);
    modules__retention(app);
    if (app->psa)
        psa_sender_tick(app->psa);
}

void modules_pass(struct app *app)
{
    if (app->chat)
        chat_pass(app);
    if (app->psa)
        psa_sender_pass(app->psa);
}

void modules_online(struct app *app)
{
    if (app->chat)
        chat_on_online(app);
}

void modules_link_online(struct app *app)
{
    if (app->chat)
        chat_on_link_online(app);
}

void modules_stopping(struct app *app)
{
    if (app->chat)
        chat_stopping(app);
}

void modules_peers(struct app *app)
{
    if (app->chat)
        chat_presence_peers(app);
}
