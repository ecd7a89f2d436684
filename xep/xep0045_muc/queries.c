/* queries.c - disco#info / disco#items of rooms, the reserved-nick node
 * and XEP-0410 self-ping. See muc_internal.h. */
#include "muc_internal.h"

#include "runtime/app.h"
#include "runtime/stanza.h"
#include "xep0004_forms.h"
#include "xep0030_disco.h"
#include "xep0359_stanza_id.h"

#include <stdio.h>
#include <string.h>

#define NS_MAM "urn:xmpp:mam:2"

/* ---- disco -------------------------------------------------------------- */

static void muc__add_feature(xmpp_stanza_t *q, const char *var)
{
    xmpp_stanza_set_attribute(stanza_add_child_ns(q, "feature", NULL), "var",
                              var);
}

static void muc__add_identity(xmpp_stanza_t *q, const char *name)
{
    xmpp_stanza_t *id = stanza_add_child_ns(q, "identity", NULL);

    xmpp_stanza_set_attribute(id, "category", "conference");
    xmpp_stanza_set_attribute(id, "type", "text");
    if (name && *name)
        xmpp_stanza_set_attribute(id, "name", name);
}

/* The muc#roominfo form (XEP-0128) of a room. */
static void muc__add_roominfo(struct muc *m, xmpp_stanza_t *q, const char *room,
                              const struct muc_room_info *info)
{
    struct form *f = form_new(FORM_RESULT, NS_MUC_ROOMINFO);
    char count[32];
    xmpp_stanza_t *x;

    if (!f)
        return;
    snprintf(count, sizeof count, "%zu", muc_occupants(m, room, NULL, NULL));
    form_add_value_field(f, FIELD_TEXT_SINGLE, "muc#roominfo_description",
                         "Description", info->description, 0);
    form_add_value_field(f, FIELD_TEXT_SINGLE, "muc#roominfo_subject",
                         "Current Discussion Topic", info->subject, 0);
    form_add_value_field(f, FIELD_TEXT_SINGLE, "muc#roominfo_occupants",
                         "Number of occupants", count, 0);
    x = form_to_stanza(f, m->app->ctx);
    if (x)
        xmpp_stanza_add_child_ex(q, x, 0);
    form_free(f);
}

/* 1 when the asker may enter the room (the policy admits it): only such a
 * member learns the room's name, description, subject and occupants. */
static int muc__member(struct muc *m, const struct muc__req *rq)
{
    struct muc_admit adm;
    struct muc_err err;

    if (muc__occ_by_bare(muc__room_find(m, rq->room), rq->bare))
        return 1;
    memset(&adm, 0, sizeof adm);
    memset(&err, 0, sizeof err);
    return m->policy.admit(m->app, rq->room, rq->bare, &adm, &err, m->ud) == 0;
}

/* The room's disco#info: for members its identity name and the
 * muc#roominfo form; for anyone else only the identity and features. */
static void muc__room_info(struct muc *m, const struct muc__req *rq,
                           xmpp_stanza_t *q, const struct muc_room_info *info)
{
    int member = muc__member(m, rq);
    static const char *const features[] = {NS_DISCO_INFO,
                                           NS_MUC,
                                           NS_MUC "#stable_id",
                                           NS_MUC_SELF_PING,
                                           "muc_hidden",
                                           "muc_membersonly",
                                           "muc_moderated",
                                           "muc_nonanonymous",
                                           "muc_persistent",
                                           "muc_unsecured",
                                           NS_SID};

    muc__add_identity(q, member ? info->name : NULL);
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++)
        muc__add_feature(q, features[i]);
    if (m->policy.mam)
        muc__add_feature(q, NS_MAM);
    if (member)
        muc__add_roominfo(m, q, rq->room, info);
}

/* XEP-0045 reserved nick: the occupant's nick, or the one the policy
 * forces; an empty query when there is none. */
static void muc__reserved_nick(struct muc *m, const struct muc__req *rq,
                               xmpp_stanza_t *q)
{
    struct muc__occ *o =
        muc__occ_by_bare(muc__room_find(m, rq->room), rq->bare);
    struct muc_admit adm;
    struct muc_err err;

    if (o) {
        muc__add_identity(q, o->nick);
        return;
    }
    memset(&adm, 0, sizeof adm);
    memset(&err, 0, sizeof err);
    if (m->policy.admit(m->app, rq->room, rq->bare, &adm, &err, m->ud) == 0 &&
        adm.nick[0]) {
        adm.nick[sizeof adm.nick - 1] = '\0';
        muc__add_identity(q, adm.nick);
    }
}

/* disco#info / disco#items to a room (room@domain, no nick). */
static void muc__disco_room(struct muc *m, const struct muc__req *rq,
                            xmpp_stanza_t *payload,
                            const struct muc_room_info *info)
{
    const char *ns = xmpp_stanza_get_ns(payload);
    const char *node = xmpp_stanza_get_attribute(payload, "node");
    int items = ns && !strcmp(ns, NS_DISCO_ITEMS);
    int reserved = !items && node && !strcmp(node, "x-roomuser-item");
    xmpp_stanza_t *res, *q;

    if (node && *node && !reserved) {
        muc__error(m, rq, "cancel", "item-not-found",
                   "This room has no such node.", 0);
        return;
    }
    res = stanza_iq_result(m->app->ctx, rq->st);
    q = stanza_add_child_ns(res, "query",
                            items ? NS_DISCO_ITEMS : NS_DISCO_INFO);
    if (node)
        xmpp_stanza_set_attribute(q, "node", node);
    if (reserved)
        muc__reserved_nick(m, rq, q);
    else if (!items)
        muc__room_info(m, rq, q, info);
    app_send(m->app, res);
    xmpp_stanza_release(res);
}

int muc__disco(struct app *app, xmpp_stanza_t *iq, xmpp_stanza_t *payload,
               void *ud)
{
    struct muc *m = ud;
    struct muc__req rq;
    struct muc_room_info info;

    (void)app;
    if (muc__parse(m, iq, &rq) || !muc__known(m, rq.room, &info))
        return 0;
    if (!rq.has_nick)
        muc__disco_room(m, &rq, payload, &info);
    else if (!muc__occ_by_full(muc__room_find(m, rq.room), rq.from, NULL))
        muc__error(m, &rq, "modify", "bad-request",
                   "Only occupants may query an occupant of this room.", 0);
    else
        muc__error(m, &rq, "cancel", "service-unavailable",
                   "This room does not relay queries; ask the occupant's own "
                   "JID.",
                   0);
    return 1;
}

/* ---- self-ping ---------------------------------------------------------- */

void muc__ping(struct app *app, xmpp_stanza_t *iq, xmpp_stanza_t *payload,
               void *ud)
{
    struct muc *m = ud;
    struct muc__req rq;
    struct muc__occ *o;

    (void)payload;
    if (muc__parse(m, iq, &rq)) {
        send_iq_result(app, iq);
        return;
    }
    if (!muc__known(m, rq.room, NULL)) {
        muc__error(m, &rq, "cancel", "item-not-found",
                   "There is no such room on this service.", 0);
        return;
    }
    o = muc__occ_by_full(muc__room_find(m, rq.room), rq.from, NULL);
    if (!rq.has_nick || (o && !strcmp(o->nick, rq.nick)))
        send_iq_result(app, iq);
    else if (!o)
        muc__error(m, &rq, "cancel", "not-acceptable",
                   "You are not in this room.", 0);
    else if (!muc__occ_by_nick(muc__room_find(m, rq.room), rq.nick))
        muc__error(m, &rq, "cancel", "item-not-found",
                   "There is no occupant with that nickname.", 0);
    else
        muc__error(m, &rq, "cancel", "service-unavailable",
                   "This room does not relay pings to other occupants.", 0);
}
