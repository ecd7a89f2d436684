/* messages.c - groupchat messages, the group commit, the history and
 * subject a joiner gets, invitations and notices. See muc_internal.h. */
#include "muc_internal.h"

#include "runtime/app.h"
#include "runtime/clock.h"
#include "runtime/stanza.h"
#include "xep0033_multicast.h"
#include "xep0203_delay.h"
#include "xep0359_stanza_id.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sending to the room ------------------------------------------------ */

/* Rooms with this many resources or more fall back to one stanza each
 * (a room of a helpdesk has a handful; this bounds the stack array). */
#define MUC__MULTICAST_BATCH 256

/* Send msg to the resources jids[0..n-1] through the multicast service,
 * XEP0033_MAX_ADDRESSES at a time; a batch whose copy cannot be made (no
 * memory) goes one stanza per resource. */
static void muc__multicast(struct muc *m, xmpp_stanza_t *msg,
                           const char *const *jids, size_t n)
{
    for (size_t i = 0; i < n; i += XEP0033_MAX_ADDRESSES) {
        size_t k = n - i < XEP0033_MAX_ADDRESSES ? n - i
                                                 : XEP0033_MAX_ADDRESSES;
        xmpp_stanza_t *copy = xep0033_bcc_copy(msg, m->multicast, jids + i, k);
        if (copy) {
            app_send(m->app, copy);
            xmpp_stanza_release(copy);
            continue;
        }
        for (size_t j = i; j < i + k; j++) {
            xmpp_stanza_set_to(msg, jids[j]);
            app_send(m->app, msg);
        }
    }
}

/* Send msg (its to set for each) to every resource of every occupant, or
 * once to the multicast service when it reaches two or more; one copy a
 * resource is serialised once (app_send_each()). */
static void muc__msg_to_room(struct muc *m, const char *room,
                             xmpp_stanza_t *msg)
{
    struct muc__room *r = muc__room_find(m, room);
    const char *jids[MUC__MULTICAST_BATCH];
    size_t n = 0;

    for (size_t i = 0; r && i < r->n_occ; i++)
        for (size_t k = 0; k < r->occ[i]->n_res; k++, n++)
            if (n < MUC__MULTICAST_BATCH)
                jids[n] = r->occ[i]->res[k];
    if (n >= MUC__MULTICAST_BATCH) { /* larger than jids: one at a time */
        for (size_t i = 0; i < r->n_occ; i++) {
            for (size_t k = 0; k < r->occ[i]->n_res; k++) {
                xmpp_stanza_set_to(msg, r->occ[i]->res[k]);
                app_send(m->app, msg);
            }
        }
        return;
    }
    if (m->multicast && n >= 2)
        muc__multicast(m, msg, jids, n);
    else
        app_send_each(m->app, msg, jids, n);
}

/* A new <message type='groupchat'/> from from with an id (may be NULL). */
static xmpp_stanza_t *muc__groupchat_new(struct muc *m, const char *from,
                                         const char *id)
{
    xmpp_stanza_t *msg = xmpp_message_new(m->app->ctx, "groupchat", NULL, id);

    if (msg)
        xmpp_stanza_set_from(msg, from);
    return msg;
}

/* ---- history and subject ------------------------------------------------ */

struct muc__hist {
    struct muc *m;
    const char *room;
    const char *room_jid;
    const char *to;
    xmpp_stanza_t **items;
    size_t n, cap;
};

/* History limits asked for in the join's <history/> (-1: none). */
struct muc__hist_limits {
    long maxchars;
    long maxstanzas;
    time_t since;
};

static long muc__attr_long(xmpp_stanza_t *el, const char *name)
{
    const char *v = xmpp_stanza_get_attribute(el, name);
    char *end;
    long n;

    if (!v || !*v)
        return -1;
    n = strtol(v, &end, 10);
    return *end || n < 0 ? -1 : n;
}

static void muc__hist_limits(xmpp_stanza_t *join, struct muc__hist_limits *l)
{
    xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(join, "x", NS_MUC);
    xmpp_stanza_t *h = x ? xmpp_stanza_get_child_by_name(x, "history") : NULL;
    const char *since;
    long seconds;
    time_t t;

    l->maxchars = l->maxstanzas = -1;
    l->since = 0;
    if (!h)
        return;
    l->maxchars = muc__attr_long(h, "maxchars");
    l->maxstanzas = muc__attr_long(h, "maxstanzas");
    seconds = muc__attr_long(h, "seconds");
    if (seconds >= 0)
        l->since = clock_now() - seconds;
    since = xmpp_stanza_get_attribute(h, "since");
    if (since && delay_parse(since, &t) == 0 && t > l->since)
        l->since = t;
}

/* policy->history callback: build the message for the joiner. */
static void muc__hist_item(const struct muc_history_item *item, void *fn_ud)
{
    struct muc__hist *h = fn_ud;
    char from[MUC__JID_MAX];
    xmpp_stanza_t *msg;

    if (!item || !item->body)
        return;
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 16;
        xmpp_stanza_t **grown = realloc(h->items, cap * sizeof *grown);
        if (!grown)
            return;
        h->items = grown;
        h->cap = cap;
    }
    if (item->nick)
        muc__occ_jid(h->m, h->room, item->nick, from, sizeof from);
    else
        muc__notice_jid(h->m, h->room, from, sizeof from);
    msg = muc__groupchat_new(h->m, from, item->stanza_id);
    if (!msg)
        return;
    xmpp_stanza_set_to(msg, h->to);
    stanza_add_text_child(msg, "body", NULL, item->body);
    delay_add(msg, h->room_jid, item->when);
    if (item->stanza_id && *item->stanza_id)
        stanza_id_add(msg, h->room_jid, item->stanza_id);
    h->items[h->n++] = msg;
}

/* Index of the first item to send so that the tail fits the limits. */
static size_t muc__hist_start(struct muc__hist *h,
                              const struct muc__hist_limits *l)
{
    size_t start = h->n;
    long chars = 0;

    while (start > 0) {
        if (l->maxstanzas >= 0 && (long)(h->n - start) >= l->maxstanzas)
            break;
        if (l->maxchars >= 0) {
            char *text = NULL;
            size_t len = 0;
            xmpp_stanza_to_text(h->items[start - 1], &text, &len);
            if (text)
                xmpp_free(h->m->app->ctx, text);
            if (chars + (long)len > l->maxchars)
                break;
            chars += (long)len;
        }
        start--;
    }
    return start;
}

/* The room's own bounds on a join's history (MUC_HISTORY_MAX messages,
 * max_stanza_bytes of XML in all) over what the joiner asked for. */
static void muc__hist_bound(struct muc *m, struct muc__hist_limits *l)
{
    long chars = (long)app_max_stanza(m->app);
    if (l->maxchars < 0 || l->maxchars > chars)
        l->maxchars = chars;
    if (l->maxstanzas < 0 || l->maxstanzas > MUC_HISTORY_MAX)
        l->maxstanzas = MUC_HISTORY_MAX;
}

/* Before a history the room's bounds cut: a line from the room (not
 * stored, stamped like the first message shown) that says where the rest
 * is. first: the first message shown, or NULL. */
static void muc__hist_cut_note(struct muc__hist *h, xmpp_stanza_t *first)
{
    xmpp_stanza_t *d =
        first ? xmpp_stanza_get_child_by_name_and_ns(first, "delay", NS_DELAY)
              : NULL;
    const char *stamp = d ? xmpp_stanza_get_attribute(d, "stamp") : NULL;
    time_t when = 0;
    xmpp_stanza_t *msg = muc__groupchat_new(h->m, h->room_jid, NULL);
    if (!msg)
        return;
    xmpp_stanza_set_to(msg, h->to);
    stanza_add_text_child(msg, "body", NULL,
                          "Earlier messages of this chat are not repeated "
                          "here; the room's archive (MAM) has all of them.");
    if (stamp && delay_parse(stamp, &when) == 0)
        delay_add(msg, h->room_jid, when);
    app_send(h->m->app, msg);
    xmpp_stanza_release(msg);
}

void muc__send_history(struct muc *m, const struct muc__req *rq)
{
    struct muc__hist h = {
        .m = m, .room = rq->room, .room_jid = rq->room_jid, .to = rq->from};
    struct muc__hist_limits l;

    if (!m->policy.history)
        return;
    muc__hist_limits(rq->st, &l);
    if (l.maxchars == 0 || l.maxstanzas == 0)
        return;
    struct muc__hist_limits asked = l;
    muc__hist_bound(m, &l);
    m->policy.history(m->app, rq->room, l.since, muc__hist_item, &h, m->ud);
    size_t start = muc__hist_start(&h, &l);
    if (start > muc__hist_start(&h, &asked)) /* the room's bounds cut it */
        muc__hist_cut_note(&h, start < h.n ? h.items[start] : NULL);
    for (size_t i = start; i < h.n; i++)
        app_send(m->app, h.items[i]);
    for (size_t i = 0; i < h.n; i++)
        xmpp_stanza_release(h.items[i]);
    free(h.items);
}

/* The subject message from the bare room JID; to may be NULL. */
static xmpp_stanza_t *muc__subject_msg(struct muc *m, const char *room_jid,
                                       const char *subject, time_t when)
{
    char id[64];
    xmpp_stanza_t *msg;

    muc__uuid(m, id, sizeof id);
    msg = muc__groupchat_new(m, room_jid, *id ? id : NULL);
    if (!msg)
        return NULL;
    stanza_add_text_child(msg, "subject", NULL, subject ? subject : "");
    if (when)
        delay_add(msg, room_jid, when);
    return msg;
}

void muc__send_subject(struct muc *m, const struct muc__req *rq,
                       const struct muc_room_info *info)
{
    xmpp_stanza_t *msg =
        muc__subject_msg(m, rq->room_jid, info->subject, info->subject_when);

    if (!msg)
        return;
    xmpp_stanza_set_to(msg, rq->from);
    app_send(m->app, msg);
    xmpp_stanza_release(msg);
}

/* ---- group commit ------------------------------------------------------- */

static int muc__enqueue(struct muc *m, const char *room, xmpp_stanza_t *out,
                        xmpp_stanza_t *orig)
{
    struct muc__queued *q;

    if (m->n_queue == m->cap_queue) {
        size_t cap = m->cap_queue ? m->cap_queue * 2 : 64;
        q = realloc(m->queue, cap * sizeof *q);
        if (!q)
            return -1;
        m->queue = q;
        m->cap_queue = cap;
    }
    q = &m->queue[m->n_queue];
    if (!(q->room = strdup(room)))
        return -1;
    q->out = xmpp_stanza_clone(out);
    q->orig = orig ? xmpp_stanza_clone(orig) : NULL;
    q->batch = 0;
    m->n_queue++;
    return 0;
}

/* The commit failed: tell the sender of a held message to send it again. */
static void muc__held_failed(struct muc *m, xmpp_stanza_t *orig,
                             const struct muc_err *err)
{
    struct muc__req rq;

    if (muc__parse(m, orig, &rq) != 0)
        return;
    muc__refuse(m, &rq, err, "wait", "internal-server-error",
                "The message could not be saved; send it again.", 0);
}

/* One queued reflection out, then freed: sent, or refused (lost: its
 * message was not kept). */
static void muc__queued_out(struct muc *m, struct muc__queued *q, int lost,
                            const struct muc_err *err)
{
    if (q->orig && lost)
        muc__held_failed(m, q->orig, err);
    else
        muc__msg_to_room(m, q->room, q->out);
    xmpp_stanza_release(q->out);
    if (q->orig)
        xmpp_stanza_release(q->orig);
    free(q->room);
}

/* policy->submit: every held reflection not yet handed over joins the
 * batch handed over now. */
static void muc__submit(struct muc *m)
{
    uint64_t b = m->policy.submit(m->app, m->ud);
    for (size_t i = 0; b && i < m->n_queue; i++)
        if (m->queue[i].orig && !m->queue[i].batch)
            m->queue[i].batch = b;
}

/* Send the queue's head as far as it is settled: held reflections of the
 * batches up to upto (those of batch lost refused with err) and the
 * unheld ones between and after them; stop at the first one still
 * waiting. Returns the number of messages made durable. */
static size_t muc__send_settled(struct muc *m, uint64_t upto, uint64_t lost,
                                const struct muc_err *err)
{
    size_t i = 0, durable = 0;
    for (; i < m->n_queue; i++) {
        struct muc__queued *q = &m->queue[i];
        if (q->orig && (!q->batch || q->batch > upto))
            break;
        int gone = q->orig && q->batch == lost;
        durable += q->orig && !gone;
        muc__queued_out(m, q, gone, err);
    }
    if (i) {
        memmove(m->queue, m->queue + i, (m->n_queue - i) * sizeof *m->queue);
        m->n_queue -= i;
    }
    return durable;
}

/* Collect the finished batches (wait: every one in flight) and send what
 * they free. *last_lost (may be NULL): 1 when the last batch collected
 * was lost. Returns the number of messages made durable. */
static size_t muc__settle(struct muc *m, int wait, int *last_lost)
{
    struct muc_err err;
    uint64_t b = 0;
    size_t durable = 0;
    int rc;

    memset(&err, 0, sizeof err);
    while ((rc = m->policy.settle(m->app, wait, &b, &err, m->ud)) != 0) {
        if (last_lost)
            *last_lost = rc < 0;
        durable += muc__send_settled(m, b, rc < 0 ? b : 0, &err);
        memset(&err, 0, sizeof err);
    }
    return durable + muc__send_settled(m, 0, 0, &err);
}

/* 1 when the queue holds a stored message waiting for the commit. */
static int muc__queue_holds(const struct muc *m)
{
    for (size_t i = 0; i < m->n_queue; i++)
        if (m->queue[i].orig)
            return 1;
    return 0;
}

/* muc_flush(): commit, then send the queue or refuse its held messages.
 * held: a held message outside the queue also waits for this commit.
 * Returns the commit's result (0 or -1, with *err) and the number of
 * queued messages made durable in *durable. */
static int muc__flush(struct muc *m, int held, struct muc_err *err,
                      size_t *durable)
{
    struct muc__queued *q = m->queue;
    size_t n = m->n_queue;
    int rc = 0;

    memset(err, 0, sizeof *err);
    *durable = 0;
    /* always asked: it closes a transaction store() opened for a message
     * that was then refused */
    if (m->policy.commit)
        rc = m->policy.commit(m->app, err, m->ud);
    else if (held || muc__queue_holds(m)) /* nothing to make it durable */
        rc = -1;
    m->queue = NULL; /* sending may not re-enter, but stay safe */
    m->n_queue = m->cap_queue = 0;
    for (size_t i = 0; i < n; i++) {
        *durable += q[i].orig && rc == 0;
        muc__queued_out(m, &q[i], rc != 0, err);
    }
    free(q);
    return rc;
}

/* Send out to the room now, or queue it behind what waits for the commit.
 * orig: out reflects a held message (orig is what its sender sent). */
static void muc__deliver(struct muc *m, const char *room, xmpp_stanza_t *out,
                         xmpp_stanza_t *orig)
{
    struct muc_err err;
    size_t durable;
    int lost = 0;

    if (orig || m->n_queue) {
        if (muc__enqueue(m, room, out, orig) == 0)
            return;
        /* no memory to wait: make it durable before it is seen (handed
         * over, it is in the last batch) */
        if (m->policy.submit) {
            muc__submit(m);
            muc__settle(m, 1, &lost);
        }
        memset(&err, 0, sizeof err);
        if ((lost || muc__flush(m, orig != NULL, &err, &durable) != 0) &&
            orig) {
            muc__held_failed(m, orig, &err);
            return;
        }
    }
    muc__msg_to_room(m, room, out);
}

int muc_set_multicast(struct muc *muc, const char *service)
{
    char *copy = NULL;

    if (service && *service && !(copy = strdup(service)))
        return -1;
    free(muc->multicast);
    muc->multicast = copy;
    return 0;
}

const char *muc_multicast(const struct muc *muc)
{
    return muc ? muc->multicast : NULL;
}

size_t muc_flush(struct muc *muc)
{
    struct muc_err err;
    size_t durable, settled = 0;

    if (!muc)
        return 0;
    if (muc->policy.submit) {
        muc__submit(muc);
        settled = muc__settle(muc, 1, NULL);
    }
    if (!muc->n_queue && !muc->policy.commit)
        return settled;
    muc__flush(muc, 0, &err, &durable);
    return settled + durable;
}

size_t muc_pump(struct muc *muc)
{
    if (!muc || !muc->policy.submit)
        return muc_flush(muc);
    muc__submit(muc);
    return muc__settle(muc, 0, NULL);
}

int muc_holding(const struct muc *muc)
{
    return muc && muc->n_queue;
}

void muc__queue_free(struct muc *m)
{
    for (size_t i = 0; i < m->n_queue; i++) {
        xmpp_stanza_release(m->queue[i].out);
        if (m->queue[i].orig)
            xmpp_stanza_release(m->queue[i].orig);
        free(m->queue[i].room);
    }
    free(m->queue);
}

/* ---- groupchat messages ------------------------------------------------- */

/* 1 for what only the room may say about a message: a XEP-0203 (or legacy
 * jabber:x:delay) delay, and muc#user elements (items, status codes). */
static int muc__is_room_claim(xmpp_stanza_t *c, void *ud)
{
    const char *name = xmpp_stanza_get_name(c);
    const char *ns = xmpp_stanza_get_ns(c);

    (void)ud;
    if (!xmpp_stanza_is_tag(c) || !name || !ns)
        return 0;
    return (!strcmp(name, "delay") && !strcmp(ns, NS_DELAY)) ||
           (!strcmp(name, "x") &&
            (!strcmp(ns, "jabber:x:delay") || !strcmp(ns, NS_MUC_USER)));
}

/* muc__is_room_claim(), and the <body/> when ud is not NULL (a body the
 * policy replaced). */
static int muc__is_claim_or_body(xmpp_stanza_t *c, void *ud)
{
    const char *name = xmpp_stanza_get_name(c);

    if (ud && xmpp_stanza_is_tag(c) && name && !strcmp(name, "body"))
        return 1;
    return muc__is_room_claim(c, NULL);
}

/* A message stored before (struct muc_stored.duplicate): after what waits
 * for the commit, its reflection again to the sending resource only, with
 * the stored copy's stanza-id, so the client sees it delivered once. */
static void muc__reflect_again(struct muc *m, const struct muc__req *rq,
                               const char *nick,
                               const struct muc_stored *stored)
{
    char room_jid[MUC__JID_MAX], from[MUC__JID_MAX];
    xmpp_stanza_t *copy;

    muc_flush(m);
    muc__room_jid(m, rq->room, room_jid, sizeof room_jid);
    muc__occ_jid(m, rq->room, nick, from, sizeof from);
    copy = stanza_id_copy_filtered(rq->st, room_jid, muc__is_claim_or_body,
                                   stored->body);
    if (!copy)
        return;
    if (stored->body)
        stanza_add_text_child(copy, "body", NULL, stored->body);
    xmpp_stanza_set_from(copy, from);
    xmpp_stanza_set_to(copy, rq->from);
    xmpp_stanza_set_type(copy, "groupchat");
    xmpp_stanza_del_attribute(copy, "xmlns");
    xmpp_stanza_del_attribute(copy, "lang");
    stanza_id_add(copy, room_jid, stored->id);
    app_send(m->app, copy);
    xmpp_stanza_release(copy);
}

/* Reflect msg from room/nick to every resource with the stored stanza-id
 * (stored NULL: not stored, no stanza-id) and the body it stored, if it
 * replaced the one sent. Removes any stanza-id the client claimed in the
 * room's name, and its delays and muc#user items. */
static void muc__reflect(struct muc *m, const char *room, const char *nick,
                         xmpp_stanza_t *st, const struct muc_stored *stored)
{
    char room_jid[MUC__JID_MAX], from[MUC__JID_MAX];
    const char *body = stored ? stored->body : NULL;
    xmpp_stanza_t *copy;

    muc__room_jid(m, room, room_jid, sizeof room_jid);
    muc__occ_jid(m, room, nick, from, sizeof from);
    copy = stanza_id_copy_filtered(st, room_jid, muc__is_claim_or_body,
                                   (void *)body);
    if (!copy)
        return;
    if (body)
        stanza_add_text_child(copy, "body", NULL, body);
    xmpp_stanza_set_from(copy, from);
    xmpp_stanza_set_type(copy, "groupchat");
    /* The server parses this once per occupant: leave out the stream's own
     * namespace (implied) and the "lang" that libstrophe's parser makes of
     * xml:lang (it is not xml:lang any more; sending it back says nothing
     * a client can read). */
    xmpp_stanza_del_attribute(copy, "xmlns");
    xmpp_stanza_del_attribute(copy, "lang");
    if (stored)
        stanza_id_add(copy, room_jid, stored->id);
    muc__deliver(m, room, copy, stored && stored->held ? st : NULL);
    xmpp_stanza_release(copy);
}

/* The id of st's XEP-0359 <origin-id/>, borrowed from st; NULL if none. */
static const char *muc__origin_id(xmpp_stanza_t *st)
{
    xmpp_stanza_t *o =
        xmpp_stanza_get_child_by_name_and_ns(st, "origin-id", NS_SID);
    const char *id = o ? xmpp_stanza_get_attribute(o, "id") : NULL;

    return id && *id ? id : NULL;
}

/* Store msg through the policy; refuse on failure. 0 when stored. */
static int muc__store(struct muc *m, const struct muc_msg *msg,
                      struct muc_stored *out, struct muc_err *err)
{
    int rc = -1;

    for (int again = 0; again < 2; again++) {
        memset(out, 0, sizeof *out);
        memset(err, 0, sizeof *err);
        rc = m->policy.store(m->app, msg, out, err, m->ud);
        if (rc != 0 || !out->settle_first)
            break;
        muc_flush(m); /* its first copy is now durable or lost */
    }
    if (rc != 0 || out->settle_first || !out->id[0]) {
        free(out->body);
        out->body = NULL;
        if (!err->condition[0])
            muc_err_set(err, "wait", "internal-server-error",
                        "The message could not be saved; send it again.");
        return -1;
    }
    out->id[sizeof out->id - 1] = '\0';
    if (!out->when)
        out->when = clock_now();
    return 0;
}

/* 1 when st is a subject change: a <subject/> without body or thread. */
static int muc__is_subject_change(xmpp_stanza_t *st)
{
    return xmpp_stanza_get_child_by_name(st, "subject") &&
           !xmpp_stanza_get_child_by_name(st, "body") &&
           !xmpp_stanza_get_child_by_name(st, "thread");
}

/* 1 when rq's message, reflected (and later in a join's history or a MAM
 * result, wrapped in up to MUC__ENVELOPE more bytes), would not fit in one
 * stanza ([limits] max_stanza_bytes): it is refused with <not-acceptable/>
 * before it is stored, so nothing stored is ever too large to send. */
static int muc__too_large(struct muc *m, const struct muc__req *rq)
{
    char text[200];
    size_t max = app_max_stanza(m->app);
    size_t fit = max > 2 * MUC__ENVELOPE ? max - MUC__ENVELOPE : max / 2;
    size_t size = app_stanza_size(m->app, rq->st, fit);
    if (size <= fit)
        return 0;
    snprintf(text, sizeof text,
             "This message is too large to pass on: %zu bytes of XML, and "
             "at most %zu fit here. Send it in parts.",
             size, fit);
    muc__error(m, rq, "modify", "not-acceptable", text, 0);
    return 1;
}

void muc__groupchat(struct muc *m, const struct muc__req *rq)
{
    struct muc__occ *o =
        muc__occ_by_full(muc__room_find(m, rq->room), rq->from, NULL);
    char nick[MUC__NICK_BUF];
    char *body;
    struct muc_msg msg;
    struct muc_stored stored;
    struct muc_err err;

    if (!o) {
        muc__error(m, rq, "cancel", "not-acceptable",
                   "You are not in this room; join it first.", 0);
        return;
    }
    if (muc__is_subject_change(rq->st)) {
        muc__error(m, rq, "auth", "forbidden",
                   "The subject of this room cannot be changed.", 0);
        return;
    }
    if (muc__too_large(m, rq))
        return;
    body = stanza_child_text(rq->st, "body", NULL);
    if (o->role < MUC_ROLE_PARTICIPANT) {
        if (body && *body)
            muc__error(m, rq, "auth", "forbidden",
                       "You have no voice in this room: the chat has ended", 0);
    } else if (!body || !*body) {
        muc__reflect(m, rq->room, o->nick, rq->st, NULL);
    } else {
        snprintf(nick, sizeof nick, "%s", o->nick);
        msg = (struct muc_msg){.room = rq->room,
                               .from_bare = rq->bare,
                               .from_full = rq->from,
                               .nick = nick,
                               .body = body,
                               .id = xmpp_stanza_get_id(rq->st),
                               .origin_id = muc__origin_id(rq->st)};
        if (muc__store(m, &msg, &stored, &err))
            muc__error(m, rq, err.type, err.condition, err.text, 0);
        else if (stored.duplicate)
            muc__reflect_again(m, rq, nick, &stored);
        else
            muc__reflect(m, rq->room, nick, rq->st, &stored);
        free(stored.body);
    }
    if (body)
        xmpp_free(m->app->ctx, body);
}

/* ---- invitations and other messages ------------------------------------- */

/* Build and send a mediated invitation. */
static void muc__send_invite(struct muc *m, const char *room_jid,
                             const char *from_jid, const char *to_jid,
                             const char *reason)
{
    char id[64];
    xmpp_stanza_t *msg, *x, *inv;

    muc__uuid(m, id, sizeof id);
    msg = xmpp_message_new(m->app->ctx, NULL, to_jid, *id ? id : NULL);
    if (!msg)
        return;
    xmpp_stanza_set_from(msg, room_jid);
    x = stanza_add_child_ns(msg, "x", NS_MUC_USER);
    inv = stanza_add_child_ns(x, "invite", NULL);
    if (from_jid)
        xmpp_stanza_set_attribute(inv, "from", from_jid);
    if (reason && *reason)
        stanza_add_text_child(inv, "reason", NULL, reason);
    app_send(m->app, msg);
    xmpp_stanza_release(msg);
}

/* An occupant asks the room to invite someone. */
static void muc__client_invite(struct muc *m, const struct muc__req *rq,
                               xmpp_stanza_t *inv)
{
    const char *to = xmpp_stanza_get_attribute(inv, "to");
    char *reason;
    struct muc_err err;

    memset(&err, 0, sizeof err);
    if (!muc__occ_by_full(muc__room_find(m, rq->room), rq->from, NULL)) {
        muc__error(m, rq, "cancel", "not-acceptable",
                   "You are not in this room; join it first.", 0);
        return;
    }
    if (!to || !*to) {
        muc__error(m, rq, "modify", "bad-request",
                   "The invitation has no 'to' address.", 0);
        return;
    }
    if (!m->policy.invite ||
        m->policy.invite(m->app, rq->room, rq->bare, to, &err, m->ud) != 0) {
        muc__refuse(m, rq, &err, "auth", "forbidden",
                    "Only the helpdesk invites people to this room.", 0);
        return;
    }
    reason = stanza_child_text(inv, "reason", NULL);
    muc__send_invite(m, rq->room_jid, rq->bare, to, reason);
    if (reason)
        xmpp_free(m->app->ctx, reason);
}

void muc__direct(struct muc *m, const struct muc__req *rq)
{
    xmpp_stanza_t *x =
        xmpp_stanza_get_child_by_name_and_ns(rq->st, "x", NS_MUC_USER);
    xmpp_stanza_t *inv = x ? xmpp_stanza_get_child_by_name(x, "invite") : NULL;

    if (inv)
        muc__client_invite(m, rq, inv);
    else if ((x && xmpp_stanza_get_child_by_name(x, "decline")) ||
             (rq->type && !strcmp(rq->type, "headline")))
        return; /* declines and headlines are dropped */
    else
        muc__error(m, rq, "modify", "bad-request",
                   "Send messages to the room as type 'groupchat'.", 0);
}

/* ---- the app's API ------------------------------------------------------ */

/* A stored notice (id) from the room's own occupant to everyone here; the
 * number of resources in the room (0: nobody heard it here). */
static size_t muc__notice_out(struct muc *m, const char *key,
                              const char *body, const char *id)
{
    char room_jid[MUC__JID_MAX], from[MUC__JID_MAX];
    struct muc__room *r = muc__room_find(m, key);
    size_t n = 0;
    xmpp_stanza_t *st;

    for (size_t i = 0; r && i < r->n_occ; i++)
        n += r->occ[i]->n_res;
    if (!n)
        return 0; /* stored: it reaches everyone through the history */
    muc__room_jid(m, key, room_jid, sizeof room_jid);
    muc__notice_jid(m, key, from, sizeof from);
    st = muc__groupchat_new(m, from, id);
    if (!st)
        return n;
    stanza_add_text_child(st, "body", NULL, body);
    stanza_id_add(st, room_jid, id);
    muc__msg_to_room(m, key, st);
    xmpp_stanza_release(st);
    return n;
}

int muc_send_notice(struct muc *muc, const char *room, const char *body,
                    struct muc_err *err)
{
    char key[MUC__ROOM_MAX];
    struct muc_err tmp;
    struct muc_err *e = err ? err : &tmp;
    struct muc_stored stored;
    struct muc_msg msg;

    if (!muc || !body || muc__key(key, sizeof key, room) ||
        !muc__known(muc, key, NULL)) {
        muc_err_set(err, "cancel", "item-not-found", "There is no such room.");
        return -1;
    }
    muc_flush(muc); /* a notice comes after the messages before it */
    msg = (struct muc_msg){.room = key, .body = body};
    if (muc__store(muc, &msg, &stored, e))
        return -1;
    if (stored.held && (!muc->policy.commit ||
                        muc->policy.commit(muc->app, e, muc->ud) != 0)) {
        if (!e->condition[0])
            muc_err_set(e, "wait", "internal-server-error",
                        "The notice could not be saved.");
        return -1; /* a notice is never held: commit it at once */
    }
    if (!muc__notice_out(muc, key, body, stored.id) &&
        muc->policy.notice_unheard)
        muc->policy.notice_unheard(muc->app, key, body, stored.id, muc->ud);
    return 0;
}

size_t muc_relay_notice(struct muc *muc, const char *room, const char *body,
                        const char *id)
{
    char key[MUC__ROOM_MAX];

    if (!muc || !body || !id || muc__key(key, sizeof key, room) ||
        !muc__known(muc, key, NULL))
        return 0;
    muc_flush(muc);
    return muc__notice_out(muc, key, body, id);
}

int muc_invite(struct muc *muc, const char *room, const char *from_jid,
               const char *to_jid, const char *reason)
{
    char key[MUC__ROOM_MAX], room_jid[MUC__JID_MAX];

    if (!muc || !to_jid || muc__key(key, sizeof key, room) ||
        !muc__known(muc, key, NULL))
        return -1;
    muc__room_jid(muc, key, room_jid, sizeof room_jid);
    muc__send_invite(muc, room_jid, from_jid, to_jid, reason);
    return 0;
}

int muc_set_subject(struct muc *muc, const char *room, const char *subject)
{
    char key[MUC__ROOM_MAX], room_jid[MUC__JID_MAX];
    xmpp_stanza_t *st;

    if (!muc || muc__key(key, sizeof key, room) || !muc__known(muc, key, NULL))
        return -1;
    muc_flush(muc); /* after the messages before it */
    muc__room_jid(muc, key, room_jid, sizeof room_jid);
    st = muc__subject_msg(muc, room_jid, subject, 0);
    if (!st)
        return -1;
    muc__msg_to_room(muc, key, st);
    xmpp_stanza_release(st);
    return 0;
}
