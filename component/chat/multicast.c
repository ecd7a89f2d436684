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

#define CHAT__MULTICAST_ID "chatdesk-multicast-info"

static void chat__multicast_reply(struct app *app, xmpp_stanza_t *reply,
                                  void *ud)
{
    const char *service = app->cfg->multicast;

    (void)ud;
    if (!xep0030_info_has_feature(reply, NS_ADDRESS)) {
        log_warn("chat",
                 "[component] multicast: %s does not offer XEP-0033 "
                 "multicast (%s); room messages go one stanza per occupant",
                 service,
                 xmpp_stanza_get_child_by_name(reply, "error")
                     ? "it answered with an error"
                     : "no " NS_ADDRESS " feature");
        return;
    }
    if (muc_set_multicast(app->chat->muc, service) == 0)
        log_info("chat", "room messages fan out through %s (XEP-0033)",
                 service);
}

void chat_multicast_online(struct app *app)
{
    xmpp_stanza_t *iq;

    if (!app->cfg || !app->cfg->multicast[0])
        return;
    muc_set_multicast(app->chat->muc, NULL); /* until it says yes again */
    iq = xep0030_info_request(app->ctx, app->cfg->multicast,
                              CHAT__MULTICAST_ID);
    if (!iq || dispatch_await(app->dispatch, CHAT__MULTICAST_ID,
                              app->cfg->multicast, chat__multicast_reply,
                              NULL) != 0) {
        log_warn("chat", "[component] multicast: cannot ask %s (out of "
                 "memory); room messages go one stanza per occupant",
                 app->cfg->multicast);
    } else {
        xmpp_stanza_set_from(iq, app->jid);
        app_send(app, iq);
    }
    if (iq)
        xmpp_stanza_release(iq);
}
