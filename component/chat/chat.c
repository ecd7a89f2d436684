/* chat.c - the chat module's public face: app->chat with the MUC engine on
 * chatdesk's room policy, the presence handler, and the group-commit flush
 * the runtime calls. See chat.h. */
#include "chat/chat.h"

#include "chat/help.h"
#include "chat/multicast.h"
#include "chat/notices.h"
#include "chat/places.h"
#include "chat/policy.h"
#include "chat/presence.h"
#include "chat/relay.h"
#include "chat/rooms.h"
#include "domain/writer.h"
#include "runtime/app.h"
#include "runtime/config.h"
#include "xep0045_muc.h"

#include <stdlib.h>

static void chat__flush(struct app *app)
{
    if (app->chat && app->chat->muc)
        muc_flush(app->chat->muc);
}

static void chat__pump(struct app *app)
{
    if (app->chat && app->chat->muc)
        muc_pump(app->chat->muc);
}

static int chat__busy(struct app *app)
{
    return writer_in_flight(app->writer) > 0 ||
           (app->chat && app->chat->n_abandon && !app->chat->stopping);
}

static int chat__wait(struct app *app, unsigned ms)
{
    return writer_wait(app->writer, ms);
}

int chat_register(struct app *app)
{
    struct muc_policy policy = *chat_policy();
    app->chat = calloc(1, sizeof *app->chat);
    if (!app->chat)
        return -1;
    /* relays first: they never reach the MUC engine (relay.h) */
    if (chat_relay_register(app) != 0)
        return -1;
    if (!app->writer) /* the group commit on the loop: policy.commit */
        policy.submit = NULL, policy.settle = NULL;
    app->chat->muc = xep0045_new(app, &policy, NULL);
    if (!app->chat->muc)
        return -1;
    app->flush = chat__flush;
    app->busy = chat__busy;
    if (app->writer) {
        app->pump = chat__pump;
        app->wait = chat__wait;
    }
    app->chat->rejoin_grace = app->cfg ? app->cfg->rejoin_grace : 30;
    return chat_presence_register(app) || chat_help_register(app) ||
           chat_presence_share_open(app);
}

void chat_on_online(struct app *app)
{
    chat_presence_online(app);
    chat_multicast_online(app);
}

void chat_on_link_online(struct app *app)
{
    chat_presence_more_slots(app);
}

void chat_tick(struct app *app)
{
    chat_gone_tick(app);
    chat_places_tick(app);
    chat_presence_tick(app);
}

void chat_pass(struct app *app)
{
    chat_abandon_pass(app);
}

void chat_stopping(struct app *app)
{
    app->chat->stopping = 1; /* what is left to abandon: the next start */
    muc_shutdown(app->chat->muc);
}

void chat_free(struct app *app)
{
    if (!app->chat)
        return;
    chat_presence_free(app);
    chat_presence_share_close(app);
    muc_flush(app->chat->muc); /* keep what is held: commit, then free */
    app->flush = NULL;
    app->pump = NULL;
    app->busy = NULL;
    app->wait = NULL;
    xep0045_free(app->chat->muc);
    free(app->chat->abandon);
    free(app->chat);
    app->chat = NULL;
}
