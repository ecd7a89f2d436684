/* presence.c - the MUC presence of an occupant, built and sent. See
 * muc_internal.h. */
#include "muc_internal.h"

#include "runtime/app.h"
#include "runtime/stanza.h"

#include <stdio.h>
#include <string.h>

/* 1 for the MUC elements a client must not have reflected. */
static int muc__is_muc_x(xmpp_stanza_t *c)
{
    const char *name = xmpp_stanza_get_name(c);
    const char *ns = xmpp_stanza_get_ns(c);

    return xmpp_stanza_is_tag(c) && name && ns && !strcmp(name, "x") &&
           (!strcmp(ns, NS_MUC) || !strcmp(ns, NS_MUC_USER));
}

xmpp_stanza_t *muc__pres_payload(xmpp_ctx_t *ctx, xmpp_stanza_t *src)
{
    xmpp_stanza_t *p = xmpp_presence_new(ctx);

    for (xmpp_stanza_t *c = xmpp_stanza_get_children(src); p && c;
         c = xmpp_stanza_get_next(c)) {
        xmpp_stanza_t *copy;
        if (!xmpp_stanza_is_tag(c) || muc__is_muc_x(c))
            continue;
        if ((copy = xmpp_stanza_copy(c)))
            xmpp_stanza_add_child_ex(p, copy, 0);
    }
    return p;
}

static void muc__sort_codes(int *codes, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && codes[j - 1] > codes[j]; j--) {
            int t = codes[j];
            codes[j] = codes[j - 1];
            codes[j - 1] = t;
        }
}

static void muc__add_codes(xmpp_stanza_t *x, const struct muc__pres *p,
                           int self)
{
    int codes[2 * MUC__MAX_CODES + 1];
    size_t n = 0;
    char num[16];

    for (size_t i = 0; i < MUC__MAX_CODES && p->codes[i]; i++)
        codes[n++] = p->codes[i];
    if (self) {
        codes[n++] = 110;
        for (size_t i = 0; i < MUC__MAX_CODES && p->self_codes[i]; i++)
            codes[n++] = p->self_codes[i];
    }
    muc__sort_codes(codes, n);
    for (size_t i = 0; i < n; i++) {
        xmpp_stanza_t *s = stanza_add_child_ns(x, "status", NULL);
        snprintf(num, sizeof num, "%d", codes[i]);
        xmpp_stanza_set_attribute(s, "code", num);
    }
}

/* The presence of an occupant (from its occupant JID) to one resource. */
static xmpp_stanza_t *muc__pres_build(struct muc *m, const char *from,
                                      const char *to, const struct muc__pres *p,
                                      int self)
{
    xmpp_stanza_t *pr = p->payload ? muc__pres_payload(m->app->ctx, p->payload)
                                   : xmpp_presence_new(m->app->ctx);
    xmpp_stanza_t *x, *item;

    if (!pr)
        return NULL;
    xmpp_stanza_set_from(pr, from);
    xmpp_stanza_set_to(pr, to);
    if (p->type)
        xmpp_stanza_set_type(pr, p->type);
    if (p->id && *p->id)
        xmpp_stanza_set_id(pr, p->id);
    x = stanza_add_child_ns(pr, "x", NS_MUC_USER);
    item = stanza_add_child_ns(x, "item", NULL);
    xmpp_stanza_set_attribute(item, "affiliation",
                              muc_affiliation_name(p->aff));
    xmpp_stanza_set_attribute(item, "role", muc_role_name(p->role));
    if (p->jid)
        xmpp_stanza_set_attribute(item, "jid", p->jid);
    if (p->reason && *p->reason)
        stanza_add_text_child(item, "reason", NULL, p->reason);
    if (p->destroy) {
        xmpp_stanza_t *d = stanza_add_child_ns(x, "destroy", NULL);
        if (*p->destroy)
            stanza_add_text_child(d, "reason", NULL, p->destroy);
    }
    muc__add_codes(x, p, self);
    return pr;
}

void muc__pres_send(struct muc *m, const char *from, const char *to,
                    const struct muc__pres *p, int self)
{
    xmpp_stanza_t *pr = muc__pres_build(m, from, to, p, self);

    if (!pr)
        return;
    app_send(m->app, pr);
    xmpp_stanza_release(pr);
}

void muc__pres_of(const struct muc__occ *o, struct muc__pres *p)
{
    memset(p, 0, sizeof *p);
    p->payload = o->pres;
    p->role = o->role;
    p->aff = o->aff;
    p->jid = o->pres_jid ? o->pres_jid : (o->n_res ? o->res[0] : NULL);
}

void muc__pres_notice_send(struct muc *m, const char *room, const char *to)
{
    struct muc__pres p = {
        .role = MUC_ROLE_MODERATOR, .aff = MUC_AFFIL_OWNER, .jid = m->app->jid};
    char from[MUC__JID_MAX];

    muc__notice_jid(m, room, from, sizeof from);
    muc__pres_send(m, from, to, &p, 0);
}

void muc__pres_to_room(struct muc *m, struct muc__room *r,
                       const struct muc__occ *o, const struct muc__pres *p,
                       const char *skip)
{
    char from[MUC__JID_MAX];

    muc__occ_jid(m, r->name, o->nick, from, sizeof from);
    for (size_t i = 0; i < r->n_occ; i++) {
        struct muc__occ *to = r->occ[i];
        for (size_t k = 0; k < to->n_res; k++) {
            if (skip && !strcmp(to->res[k], skip))
                continue;
            muc__pres_send(m, from, to->res[k], p, to == o);
        }
    }
}
