/* multicast.c - see multicast.h */
#include "chat/multicast.h"

#include "chat/rooms.h"
#include "runtime/app.h"
#include "runtime/config.h"
#include "runtime/dispatch.h"
#include "runtime/log.h"
#include "xep0030_disco.h"
#include "xep0033_multicast.h"
#include "xep0045_muc.h"

#include <stdio.h>
#include <string.h>

#define CHAT__MC_ID "chatdesk-multicast-"

/* Ask to for disco#info or disco#items (ns); fn gets the answer. 0 or
 * -1. */
static int chat__mc_ask(struct app *app, const char *to, const char *id,
                        const char *ns, dispatch_reply_fn fn)
{
    xmpp_stanza_t *iq = xep0030_request(app->ctx, to, id, ns);
    int rc = -1;

    if (iq && dispatch_await(app->dispatch, id, to, fn, NULL) == 0) {
        xmpp_stanza_set_from(iq, app->jid);
        app_send(app, iq);
        rc = 0;
    }
    if (iq)
        xmpp_stanza_release(iq);
    return rc;
}

static void chat__mc_none(struct app *app, const char *server)
{
    log_info("chat",
             "no XEP-0033 multicast service on %s: room messages "
             "go one stanza per occupant",
             server);
}

static void chat__mc_info(struct app *app, xmpp_stanza_t *reply, void *ud)
{
    const char *from = xmpp_stanza_get_from(reply);
    int configured = strcmp(app->cfg->multicast, "auto") != 0;

    (void)ud;
    if (app->chat->multicast_asked > 0)
        app->chat->multicast_asked--;
    if (muc_multicast(app->chat->muc))
        return; /* an earlier item said yes */
    if (xep0030_info_has_feature(reply, NS_ADDRESS)) {
        if (muc_set_multicast(app->chat->muc, from) == 0)
            log_info("chat", "room messages fan out through %s (XEP-0033)",
                     from);
    } else if (configured) {
        log_warn("chat",
                 "[component] multicast: %s does not offer XEP-0033 "
                 "multicast (%s); room messages go one stanza per occupant",
                 from,
                 xmpp_stanza_get_child_by_name(reply, "error")
                     ? "it answered with an error"
                     : "no " NS_ADDRESS " feature");
    } else if (!app->chat->multicast_asked) {
        chat__mc_none(app, strchr(app->jid, '.') + 1);
    }
}

/* auto: the server's items; each (but ourselves) is asked for its info. */
static void chat__mc_items(struct app *app, xmpp_stanza_t *reply, void *ud)
{
    xmpp_stanza_t *q =
        xmpp_stanza_get_child_by_name_and_ns(reply, "query", NS_DISCO_ITEMS);
    int n = 0;

    (void)ud;
    for (xmpp_stanza_t *c = q ? xmpp_stanza_get_children(q) : NULL;
         c && n < CHAT_MULTICAST_ITEMS; c = xmpp_stanza_get_next(c)) {
        const char *jid = xmpp_stanza_get_attribute(c, "jid");
        const char *node = xmpp_stanza_get_attribute(c, "node");
        char id[64];
        if (!xmpp_stanza_is_tag(c) || !jid || node || strchr(jid, '@') ||
            !strcasecmp(jid, app->jid))
            continue;
        snprintf(id, sizeof id, CHAT__MC_ID "info-%d", n++);
        app->chat->multicast_asked +=
            chat__mc_ask(app, jid, id, NS_DISCO_INFO, chat__mc_info) == 0;
    }
    if (!app->chat->multicast_asked)
        chat__mc_none(app, xmpp_stanza_get_from(reply));
}

void chat_multicast_online(struct app *app)
{
    const char *mode = app->cfg ? app->cfg->multicast : "off";
    const char *server = strchr(app->jid, '.');

    muc_set_multicast(app->chat->muc, NULL); /* until one says yes again */
    app->chat->multicast_asked = 0;
    if (!strcmp(mode, "off"))
        return;
    if (strcmp(mode, "auto")) {
        if (chat__mc_ask(app, mode, CHAT__MC_ID "info", NS_DISCO_INFO,
                         chat__mc_info))
            log_warn("chat",
                     "[component] multicast: cannot ask %s (out of "
                     "memory); room messages go one stanza per occupant",
                     mode);
        return;
    }
    if (server && server[1])
        chat__mc_ask(app, server + 1, CHAT__MC_ID "items", NS_DISCO_ITEMS,
                     chat__mc_items);
}
