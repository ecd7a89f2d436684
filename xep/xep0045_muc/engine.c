/* engine.c - the XEP-0045 engine's lifecycle and its presence and message
 * handlers, which route each stanza to the file that handles it. See
 * xep0045_muc.h and muc_internal.h. */
#include "muc_internal.h"

#include "runtime/app.h"
#include "runtime/disco.h"
#include "runtime/dispatch.h"
#include "xep0199_ping.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A stanza a client waits on, to a room the policy does not know (a typo,
 * an old or made-up session number): an available presence (a join; its
 * <x/> comes back when it had one) and a message of type groupchat, chat or
 * normal, to the room or to an occupant, get <item-not-found/> naming the
 * room, to the sender only. Errors, headlines, declines, unavailable
 * presence, subscriptions and probes are passed on unanswered. */
static enum dispatch_result muc__unknown(struct muc *m,
                                         const struct muc__req *rq,
                                         int is_presence, int join)
{
    char text[MUC__JID_MAX + 160];
    xmpp_stanza_t *x =
        xmpp_stanza_get_child_by_name_and_ns(rq->st, "x", NS_MUC_USER);

    if (is_presence
            ? rq->type != NULL
            : rq->type && strcmp(rq->type, "groupchat") &&
                  strcmp(rq->type, "chat") && strcmp(rq->type, "normal"))
        return DISPATCH_PASS;
    if (x && xmpp_stanza_get_child_by_name(x, "decline"))
        return DISPATCH_PASS;
    snprintf(text, sizeof text,
             "There is no room '%s' on this service; check the address "
             "(the invitation names the room) or start a new chat.",
             rq->room_jid);
    muc__error(m, rq, "cancel", "item-not-found", text, join);
    return DISPATCH_HANDLED;
}

static enum dispatch_result muc__on_presence(struct app *app, xmpp_stanza_t *st,
                                             void *ud)
{
    struct muc *m = ud;
    struct muc__req rq;
    struct muc_room_info info;
    int join;

    (void)app;
    if (muc__parse(m, st, &rq))
        return DISPATCH_PASS;
    muc_flush(m); /* occupants change: what was held goes to the old ones */
    join = !rq.type && xmpp_stanza_get_child_by_name_and_ns(st, "x", NS_MUC);
    if (!muc__known(m, rq.room, &info))
        return muc__unknown(m, &rq, 1, join);
    if (rq.type && !strcmp(rq.type, "error")) {
        muc__ghost(m, &rq);
    } else if (rq.type && !strcmp(rq.type, "unavailable")) {
        struct muc__leave lv = {.reason = MUC_LEAVE_SELF, .payload = st};
        muc__remove_req(m, &rq, &lv);
    } else if (!rq.type && !rq.has_nick) {
        if (join)
            muc__error(m, &rq, "modify", "jid-malformed",
                       "Join as room@service/nickname.", 1);
    } else if (!rq.type) {
        muc__available(m, &rq, &info, join);
    }
    return DISPATCH_HANDLED;
}

static enum dispatch_result muc__on_message(struct app *app, xmpp_stanza_t *st,
                                            void *ud)
{
    struct muc *m = ud;
    struct muc__req rq;

    (void)app;
    if (muc__parse(m, st, &rq))
        return DISPATCH_PASS;
    if (!muc__known(m, rq.room, NULL))
        return muc__unknown(m, &rq, 0, 0);
    if (rq.has_nick || !rq.type || strcmp(rq.type, "groupchat"))
        muc_flush(m); /* only groupchat messages may pass a held batch */
    if (rq.type && !strcmp(rq.type, "error"))
        muc__ghost(m, &rq);
    else if (rq.has_nick && rq.type && !strcmp(rq.type, "groupchat"))
        muc__error(m, &rq, "modify", "bad-request",
                   "Send groupchat messages to the room, not to an occupant.",
                   0);
    else if (rq.has_nick)
        muc__error(m, &rq, "cancel", "not-acceptable",
                   "Private messages are not available in this room; write "
                   "to the room instead.",
                   0);
    else if (rq.type && !strcmp(rq.type, "groupchat"))
        muc__groupchat(m, &rq);
    else
        muc__direct(m, &rq);
    return DISPATCH_HANDLED;
}

struct muc *xep0045_new(struct app *app, const struct muc_policy *policy,
                        void *ud)
{
    struct muc *m;

    if (!app || !policy || !policy->notice_nick || !policy->room ||
        !policy->admit || !policy->store ||
        !policy->submit != !policy->settle)
        return NULL;
    if (!(m = calloc(1, sizeof *m)))
        return NULL;
    m->app = app;
    m->policy = *policy;
    m->ud = ud;
    if (disco_add_identity(app->disco, "conference", "text",
                           "chatdesk rooms") ||
        disco_add_feature(app->disco, NS_MUC) ||
        dispatch_add(app->dispatch, "presence", muc__on_presence, m) ||
        dispatch_add(app->dispatch, "message", muc__on_message, m) ||
        dispatch_add_iq(app->dispatch, "get", "ping", NS_PING, muc__ping, m) ||
        dispatch_add_iq(app->dispatch, "get", "query", NS_MUC_ADMIN,
                        muc__admin_get, m) ||
        dispatch_add_iq(app->dispatch, "set", "query", NS_MUC_ADMIN,
                        muc__admin_set, m) ||
        dispatch_add_iq(app->dispatch, "get", "query", NS_MUC_OWNER, muc__owner,
                        m) ||
        dispatch_add_iq(app->dispatch, "set", "query", NS_MUC_OWNER, muc__owner,
                        m)) {
        free(m);
        return NULL;
    }
    disco_set_entity_info(app->disco, muc__disco, m);
    return m;
}

void xep0045_free(struct muc *muc)
{
    if (!muc)
        return;
    muc__queue_free(muc);
    for (size_t i = 0; i < muc->n_rooms; i++)
        muc__room_free(muc->rooms[i]);
    free(muc->rooms);
    free(muc->buckets);
    free(muc->multicast);
    free(muc);
}
