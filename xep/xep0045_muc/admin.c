/* admin.c - the muc#admin and muc#owner queries clients send on join.
 * See muc_internal.h. */
#include "muc_internal.h"

#include "runtime/app.h"
#include "runtime/stanza.h"

#include <string.h>

/* The affiliation named by the <item/> of a muc#admin get, or -1. */
static int muc__asked_affiliation(xmpp_stanza_t *query)
{
    static const enum muc_affiliation affs[] = {
        MUC_AFFIL_NONE, MUC_AFFIL_MEMBER, MUC_AFFIL_ADMIN, MUC_AFFIL_OWNER};
    xmpp_stanza_t *item = xmpp_stanza_get_child_by_name(query, "item");
    const char *name =
        item ? xmpp_stanza_get_attribute(item, "affiliation") : NULL;

    for (size_t i = 0; name && i < sizeof affs / sizeof affs[0]; i++) {
        if (!strcmp(name, muc_affiliation_name(affs[i])))
            return (int)affs[i];
    }
    return -1;
}

/* One <item/> of a list result into q: affiliation, jid, nick. No role
 * (optional in XEP-0045 lists): Converse.js 14 reads an item's role as
 * its nick and then tells the user moderators are "no longer
 * moderators". */
static void muc__list_item(xmpp_stanza_t *q, enum muc_affiliation aff,
                           const char *jid, const char *nick)
{
    xmpp_stanza_t *item = stanza_add_child_ns(q, "item", NULL);

    xmpp_stanza_set_attribute(item, "affiliation", muc_affiliation_name(aff));
    xmpp_stanza_set_attribute(item, "jid", jid);
    xmpp_stanza_set_attribute(item, "nick", nick);
}

/* The result: every occupant with affiliation aff, as <item/>s; the owner
 * list names the notice occupant, as its presence does (a client that
 * syncs affiliations from the lists, like Converse.js, would otherwise
 * say it is "no longer an owner"). */
static void muc__send_list(struct muc *m, xmpp_stanza_t *iq,
                           struct muc__room *r, enum muc_affiliation aff)
{
    xmpp_stanza_t *res = stanza_iq_result(m->app->ctx, iq);
    xmpp_stanza_t *q = stanza_add_child_ns(res, "query", NS_MUC_ADMIN);

    if (aff == MUC_AFFIL_OWNER)
        muc__list_item(q, aff, m->app->jid, m->policy.notice_nick);
    for (size_t i = 0; r && i < r->n_occ; i++) {
        const struct muc__occ *o = r->occ[i];

        if (o->aff == aff)
            muc__list_item(q, aff, o->bare, o->nick);
    }
    app_send(m->app, res);
    xmpp_stanza_release(res);
}

/* The room of iq, known: 0 with *rq filled, or -1 after answering. */
static int muc__admin_room(struct muc *m, xmpp_stanza_t *iq,
                           struct muc__req *rq)
{
    if (muc__parse(m, iq, rq) || rq->has_nick) {
        send_error(m->app, iq, "cancel", "service-unavailable",
                   "Send room administration queries to a room's bare JID.");
        return -1;
    }
    if (!muc__known(m, rq->room, NULL)) {
        muc__error(m, rq, "cancel", "item-not-found",
                   "There is no such room on this service.", 0);
        return -1;
    }
    return 0;
}

void muc__admin_get(struct app *app, xmpp_stanza_t *iq, xmpp_stanza_t *payload,
                    void *ud)
{
    struct muc *m = ud;
    struct muc__req rq;
    struct muc__room *r;
    int aff;

    (void)app;
    if (muc__admin_room(m, iq, &rq))
        return;
    r = muc__room_find(m, rq.room);
    if (muc_role_of(m, rq.room, rq.bare) != MUC_ROLE_MODERATOR) {
        muc__error(m, &rq, "auth", "forbidden",
                   "Only the room's moderators (techs) may list its members.",
                   0);
        return;
    }
    aff = muc__asked_affiliation(payload);
    if (aff < 0) {
        muc__error(m, &rq, "modify", "bad-request",
                   "Ask for one affiliation: <item affiliation='member'/>, "
                   "'admin', 'owner' or 'none'.",
                   0);
        return;
    }
    muc__send_list(m, iq, r, (enum muc_affiliation)aff);
}

void muc__admin_set(struct app *app, xmpp_stanza_t *iq, xmpp_stanza_t *payload,
                    void *ud)
{
    struct muc *m = ud;
    struct muc__req rq;

    (void)app;
    (void)payload;
    if (muc__admin_room(m, iq, &rq))
        return;
    muc__error(m, &rq, "auth", "forbidden",
               "Room members follow the helpdesk's directory (a session's "
               "contact and the techs); they cannot be changed here.",
               0);
}

void muc__owner(struct app *app, xmpp_stanza_t *iq, xmpp_stanza_t *payload,
                void *ud)
{
    struct muc *m = ud;
    struct muc__req rq;

    (void)app;
    (void)payload;
    if (muc__admin_room(m, iq, &rq))
        return;
    muc__error(m, &rq, "auth", "forbidden",
               "This room's configuration is fixed by the helpdesk "
               "(members-only, moderated, persistent); it cannot be viewed "
               "or changed.",
               0);
}
