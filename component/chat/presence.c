/* presence.c - see presence.h */
#include "chat/presence.h"

#include "chat/help.h"
#include "chat/notices.h"
#include "chat/rooms.h"
#include "domain/domain.h"
#include "domain/presence.h"
#include "domain/presence_share.h"
#include "runtime/app.h"
#include "runtime/clock.h"
#include "runtime/cluster.h"
#include "runtime/config.h"
#include "runtime/dispatch.h"
#include "runtime/log.h"
#include "runtime/stanza.h"

#include <stdio.h>
#include <string.h>

static void chat__presence_to(struct app *app, const char *to, const char *type)
{
    xmpp_stanza_t *p = xmpp_presence_new(app->ctx);
    xmpp_stanza_set_to(p, to);
    xmpp_stanza_set_from(p, app->jid);
    if (type)
        xmpp_stanza_set_type(p, type);
    app_send(app, p);
    xmpp_stanza_release(p);
}

/* Tell a tech once (the store remembers it) how chatdesk gets his
 * presence: approve its subscription, or bookmark the queue room. */
static void chat__hint(struct app *app, const char *bare)
{
    int rc = directory_tech_hint_once(app->domain->dir, bare);
    if (rc < 0)
        log_warn("chat", "presence hint for %s: %s", bare,
                 directory_error(app->domain->dir));
    if (rc != 1)
        return;
    char text[800];
    chat_help_send(app, bare, "chat",
                   chat_help_presence(app, text, sizeof text));
    log_info("chat", "told %s how chatdesk can see his presence", bare);
}

static void chat__react(struct app *app, const char *bare, int is_tech,
                        const struct presence_change *ch)
{
    /* An unavailable that changes nothing still says the contact is
     * Offline: after a restart of chatdesk the server answers the probe
     * with it, and sessions that waited meanwhile must not wait forever
     * (only waiting sessions are touched, so repeats are harmless). */
    if (!is_tech && !ch->changed && ch->after == CD_OFFLINE)
        chat_notify_contact_offline(app, bare);
    if (!ch->changed)
        return;
    log_debug("chat", "%s is now %s", bare, presence_name(ch->after));
    /* shared presence: the process holding the component JID invites,
     * whichever process saw it (chat__merged), so each tech once */
    if (is_tech && ch->after == CD_ONLINE &&
        (!app->chat->pshare || app_holds_domain(app)))
        chat_notify_tech_online(app, bare);
    if (!is_tech && ch->after == CD_OFFLINE)
        chat_contact_offline_later(app, bare); /* a reload comes back */
}

static void chat__update(struct app *app, const char *full, int available,
                         const char *show_text)
{
    char bare[CHAT_JID_MAX];
    if (directory_jid_bare(full, bare, sizeof bare) != 0)
        return;
    enum dir_role role = domain_role(app->domain, bare);
    if (role == ROLE_NONE)
        return;
    int is_tech = role != ROLE_CONTACT;
    enum presence_show show = PRESENCE_SHOW_NONE;
    if (show_text && presence_show_parse(show_text, &show) != 0)
        show = PRESENCE_SHOW_NONE;
    struct presence_change ch;
    if (presence_update(app->domain->presence, full, available, show, is_tech,
                        &ch) != 0)
        return;
    if (app->chat->pshare &&
        pshare_put(app->chat->pshare, full, available, show, is_tech,
                   clock_now()) != 0)
        log_warn("chat", "cannot share the presence of %s: %s", bare,
                 pshare_error(app->chat->pshare));
    chat__react(app, bare, is_tech, &ch);
}

void chat_presence_from_queue(struct app *app, const char *full_jid,
                              bool available, const char *show)
{
    /* a resource of its own, so leaving the queue room does not hide the
     * presence the tech's server sends by subscription */
    char key[CHAT_JID_MAX + 16];
    snprintf(key, sizeof key, "%s#queue", full_jid);
    chat__update(app, key, available, show);
}

static void chat__subscription(struct app *app, const char *from,
                               const char *type)
{
    char bare[CHAT_JID_MAX];
    if (directory_jid_bare(from, bare, sizeof bare) != 0)
        return;
    int known = domain_role(app->domain, bare) != ROLE_NONE;
    if (!strcmp(type, "subscribe")) {
        chat__presence_to(app, bare, known ? "subscribed" : "unsubscribed");
        if (known) {
            chat__presence_to(app, bare, "subscribe");
            chat__presence_to(app, from, NULL);
        }
    } else if (!strcmp(type, "probe")) {
        chat__presence_to(app, from, known ? NULL : "unsubscribed");
    } else if (!strcmp(type, "unsubscribed") && known) {
        chat__hint(app, bare); /* a tech's subscription refused or pending */
    } else if (!strcmp(type, "subscribed") && known &&
               directory_tech_hint_once(app->domain->dir, bare) < 0) {
        /* he approved: no hint is due any more (a contact has no flag) */
        log_warn("chat", "presence hint for %s: %s", bare,
                 directory_error(app->domain->dir));
    }
}

static enum dispatch_result chat__presence(struct app *app,
                                           xmpp_stanza_t *stanza, void *ud)
{
    (void)ud;
    const char *to = xmpp_stanza_get_to(stanza);
    const char *from = xmpp_stanza_get_from(stanza);
    if (!from || (to && strchr(to, '@')))
        return DISPATCH_PASS; /* rooms: the MUC engine */
    const char *type = xmpp_stanza_get_type(stanza);
    if (!type || !strcmp(type, "available")) {
        char *show = stanza_child_text(stanza, "show", NULL);
        chat__update(app, from, 1, show);
        if (show)
            xmpp_free(app->ctx, show);
    } else if (!strcmp(type, "unavailable") || !strcmp(type, "error")) {
        chat__update(app, from, 0, NULL);
    } else {
        chat__subscription(app, from, type);
    }
    return DISPATCH_HANDLED;
}

static void chat__person_added(struct app *app, const char *bare_jid);

int chat_presence_register(struct app *app)
{
    app->person_added = chat__person_added;
    return dispatch_add(app->dispatch, "presence", chat__presence, NULL);
}

/* Probe before subscribe: a server answers a probe from a JID without a
 * subscription with "unsubscribed" on the user's behalf, and Prosody then
 * also cancels a subscription request that came just before. */
static void chat__ask(struct app *app, const char *jid)
{
    chat__presence_to(app, jid, "probe");
    chat__presence_to(app, jid, "subscribe");
    chat__presence_to(app, jid, NULL);
}

static int chat__hint_offline_tech(const struct tech *t, void *ud)
{
    struct app *app = ud;
    if (presence_of(app->domain->presence, t->jid, true) == CD_OFFLINE)
        chat__hint(app, t->jid);
    return 0;
}

/* The grace after a tech became known (chat__person_added) is over: the
 * techs chatdesk still cannot see get their hint (once each). */
static void chat__hint_due(struct app *app)
{
    if (!app_holds_domain(app))
        return; /* presence goes to another process */
    directory_tech_list(app->domain->dir, chat__hint_offline_tech, app);
}

static void chat__person_added(struct app *app, const char *bare_jid)
{
    chat__ask(app, bare_jid);
    enum dir_role role = domain_role(app->domain, bare_jid);
    if (role != ROLE_TECH && role != ROLE_ADMIN)
        return;
    dispatch_timer_set(app->dispatch, chat__hint_due, CHAT_PRESENCE_GRACE_MS);
}

static int chat__ask_tech(const struct tech *t, void *ud)
{
    chat__ask(ud, t->jid);
    return 0;
}

static int chat__ask_contact(const struct contact *c, void *ud)
{
    chat__ask(ud, c->jid);
    return 0;
}

/* Once the grace after a (re)connect is over: the server has answered our
 * probes for whoever is online, so a contact still Offline left while
 * chatdesk was away, and its waiting sessions are abandoned. Prosody also
 * answers a probe with unavailable (see chat__react); ejabberd says nothing
 * for an offline user, hence this timer. Only the process that receives
 * presence (app_holds_domain()) may conclude anything from its absence. */
static void chat__grace_over(struct app *app)
{
    struct sess_list l;
    if (!app_holds_domain(app))
        return; /* presence goes to another process: it knows, not us */
    if (sessions_list(app->domain->sessions, SESS_VIEW_WAITING, NULL, 0, &l) !=
        SESS_OK)
        return;
    for (size_t i = 0; i < l.n; i++)
        if (presence_of(app->domain->presence, l.items[i].contact_jid, false) ==
            CD_OFFLINE)
            chat_abandon_later(app, l.items[i].id);
    sess_list_free(&l);
    directory_tech_list(app->domain->dir, chat__hint_offline_tech, app);
}

void chat_presence_online(struct app *app)
{
    presence_clear(app->domain->presence);
    if (app->chat->pshare) {
        /* what this process saw is gone with its stream; the others'
         * rows are merged again at the next tick */
        if (pshare_drop_own(app->chat->pshare, clock_now()) != 0)
            log_warn("chat", "cannot drop the presence shared: %s",
                     pshare_error(app->chat->pshare));
        pshare_rewind(app->chat->pshare);
    }
    directory_tech_list(app->domain->dir, chat__ask_tech, app);
    directory_contact_list(app->domain->dir, 0, chat__ask_contact, app);
    dispatch_timer_set(app->dispatch, chat__grace_over, CHAT_PRESENCE_GRACE_MS);
}

void chat_presence_more_slots(struct app *app)
{
    directory_tech_list(app->domain->dir, chat__ask_tech, app);
    directory_contact_list(app->domain->dir, 0, chat__ask_contact, app);
    dispatch_timer_set(app->dispatch, chat__grace_over, CHAT_PRESENCE_GRACE_MS);
}

void chat_presence_free(struct app *app)
{
    if (!app->dispatch)
        return;
    dispatch_timer_cancel(app->dispatch, chat__grace_over);
    dispatch_timer_cancel(app->dispatch, chat__hint_due);
}

/* A row another process shared changed a JID here. Only the process
 * holding the component JID's slot acts on it, and only on a tech coming
 * Online (invitations to the waiting chats): absence is concluded only
 * from presence received (chat__react, chat__grace_over). */
static void chat__merged(const char *bare, bool is_tech,
                         const struct presence_change *ch, void *ud)
{
    struct app *app = ud;
    if (!ch->changed)
        return;
    log_debug("chat", "%s is now %s (seen by another process)", bare,
              presence_name(ch->after));
    enum dir_role role = domain_role(app->domain, bare);
    if (is_tech && (role == ROLE_TECH || role == ROLE_ADMIN) &&
        ch->after == CD_ONLINE && app_holds_domain(app))
        chat_notify_tech_online(app, bare);
}

int chat_presence_share_open(struct app *app)
{
    char err[400];
    if (!app->store || !app->cfg || !*app->cfg->db_url ||
        app->cfg->connections != 0)
        return 0; /* one process on the database: nothing is shared */
    /* each process's rows are named by its lease, so they live and die
     * with it (chat_presence_peers) */
    int64_t lease = app->cluster ? cluster_id(app->cluster) : 0;
    app->chat->pshare = pshare_open(app->store, lease, err, sizeof err);
    if (!app->chat->pshare) {
        log_error("chat", "%s (the cluster's lease: %lld)", err,
                  (long long)lease);
        return -1;
    }
    return 0;
}

static void chat__share_merge(struct app *app, struct pshare *ps)
{
    if (pshare_merge(ps, app->domain->presence, chat__merged, app) < 0)
        log_warn("chat", "shared presence: %s", pshare_error(ps));
}

void chat_presence_tick(struct app *app)
{
    struct pshare *ps = app->chat->pshare;
    if (!ps)
        return;
    if (pshare_prune(ps, clock_now()) != 0)
        log_warn("chat", "shared presence: %s", pshare_error(ps));
    chat__share_merge(app, ps);
}

void chat_presence_peers(struct app *app)
{
    int64_t ids[PSHARE_PEERS_MAX];
    struct pshare *ps = app->chat ? app->chat->pshare : NULL;
    if (!ps || !app->cluster)
        return;
    unsigned n = cluster_peer_ids(app->cluster, ids, PSHARE_PEERS_MAX);
    if (pshare_peers(ps, ids, n < PSHARE_PEERS_MAX ? n : PSHARE_PEERS_MAX))
        chat__share_merge(app, ps); /* a process gone leaves the view now */
}

void chat_presence_share_close(struct app *app)
{
    struct pshare *ps = app->chat ? app->chat->pshare : NULL;
    if (!ps)
        return;
    if (pshare_drop_own(ps, clock_now()) != 0) /* a clean stop */
        log_warn("chat", "cannot drop the presence shared: %s",
                 pshare_error(ps));
    pshare_close(ps);
    app->chat->pshare = NULL;
}
