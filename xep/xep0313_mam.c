/* xep0313_mam.c - see xep0313_mam.h */
#include "xep0313_mam.h"

#include "runtime/app.h"
#include "runtime/dispatch.h"
#include "runtime/jid.h"
#include "runtime/stanza.h"
#include "xep0004_forms.h"
#include "xep0045_muc.h"
#include "xep0203_delay.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAM__ID_MAX 128    /* bytes of an archive id or queryid, with NUL */
#define MAM__ROOM_MAX 1024 /* bytes of a room local part, with NUL */

/* The archive a request addresses, once the checks passed. */
struct mam__target {
    const struct mam_archive *a;
    int64_t archive;
    char room[MAM__ROOM_MAX];   /* local part, lowercased */
    char room_jid[MAM_JID_MAX]; /* room@component */
};

/* A parsed query. */
struct mam__query {
    struct mam_query q;
    char queryid[MAM__ID_MAX];
    char with[MAM_JID_MAX];
    char after[MAM__ID_MAX], before[MAM__ID_MAX];
};

/* A page of query results on its way to the requester. */
struct mam__results {
    struct app *app;
    const struct mam__target *t;
    const char *to;
    const char *queryid;
    size_t sent;
    char first[MAM__ID_MAX], last[MAM__ID_MAX]; /* archive ids sent */
};

/* The one message of a metadata page (<start/> or <end/>). */
struct mam__bound {
    bool found;
    char id[MAM__ID_MAX];
    time_t when;
};

/* ---- the target --------------------------------------------------------- */

/* Split `to` into a lowercased room local part; -1 after answering when it
 * is not a room's bare JID on our domain. */
static int mam__room(struct app *app, xmpp_stanza_t *iq, char *room, size_t len)
{
    const char *to = xmpp_stanza_get_to(iq);
    const char *at = to ? strchr(to, '@') : NULL;
    const char *slash = at ? strchr(at, '/') : NULL;
    size_t n = at ? (size_t)(at - to) : 0;
    if (!at || n == 0 || n >= len) {
        send_error(app, iq, "cancel", "service-unavailable",
                   "The helpdesk keeps its archives on the chat session rooms "
                   "(chat-N@component), not on its own JID.");
        return -1;
    }
    if (slash) {
        send_error(app, iq, "cancel", "service-unavailable",
                   "Query the room's bare JID for its archive, not an "
                   "occupant.");
        return -1;
    }
    if (strcasecmp(at + 1, app->jid) != 0) {
        send_error(app, iq, "cancel", "item-not-found",
                   "There is no archive at that address.");
        return -1;
    }
    return jid_lower(to, n, room, len);
}

/* Answer a refusal of the archive. */
static void mam__fail(struct app *app, xmpp_stanza_t *iq,
                      const struct mam_err *err)
{
    send_error(app, iq, err->type, err->condition, err->text);
}

/* Check `to`, then ask the archive about the requester. 0, or -1 after
 * answering. */
static int mam__open(struct app *app, xmpp_stanza_t *iq,
                     const struct mam_archive *a, struct mam__target *t)
{
    struct mam_err err;
    memset(t, 0, sizeof *t);
    if (mam__room(app, iq, t->room, sizeof t->room) != 0)
        return -1;
    snprintf(t->room_jid, sizeof t->room_jid, "%s@%s", t->room, app->jid);
    t->a = a;
    memset(&err, 0, sizeof err);
    if (a->open(app, t->room, xmpp_stanza_get_from(iq), &t->archive, &err,
                a->ud) == 0)
        return 0;
    mam__fail(app, iq, &err);
    return -1;
}

/* ---- parsing the query ----------------------------------------------------
 */

/* The 'with' value: the room (notices), room/nick or a member's JID. */
static int mam__with(const struct mam__target *t, const char *v,
                     struct mam__query *mq, char *err, size_t errlen)
{
    char bare[MAM_JID_MAX];
    const char *slash = strchr(v, '/');
    if (t->a->jid_bare(v, bare, sizeof bare, t->a->ud) != 0) {
        snprintf(err, errlen,
                 "Field 'with' must be a JID like user@example.com; got "
                 "'%.100s'",
                 v);
        return -1;
    }
    if (strcmp(bare, t->room_jid) != 0) {
        snprintf(mq->with, sizeof mq->with, "%s", bare);
        mq->q.with = MAM_WITH_JID;
    } else if (slash && slash[1]) {
        snprintf(mq->with, sizeof mq->with, "%s", slash + 1);
        mq->q.with = MAM_WITH_NICK;
    } else {
        mq->q.with = MAM_WITH_ROOM;
    }
    mq->q.with_value = mq->with;
    return 0;
}

/* One field of the query form. 0, -1 (bad value: err) or -2 (unknown). */
static int mam__field(const struct mam__target *t, const struct form_field *f,
                      struct mam__query *mq, char *err, size_t errlen)
{
    const char *v = f->n_values ? f->values[0] : "";
    bool start = !strcmp(f->var, "start");
    if (!strcmp(f->var, "FORM_TYPE")) {
        if (strcmp(v, NS_MAM2) == 0)
            return 0;
        snprintf(err, errlen, "The form's FORM_TYPE must be %s", NS_MAM2);
        return -1;
    }
    if (!start && strcmp(f->var, "end") && strcmp(f->var, "with")) {
        snprintf(err, errlen,
                 "Field '%.100s' is not supported; this archive filters on "
                 "with, start and end",
                 f->var);
        return -2;
    }
    if (!*v)
        return 0;
    if (!strcmp(f->var, "with"))
        return mam__with(t, v, mq, err, errlen);
    time_t when;
    if (delay_parse(v, &when) != 0) {
        snprintf(err, errlen,
                 "Field '%s' must be a XEP-0082 time like "
                 "2026-01-31T09:00:00Z; got '%.100s'",
                 f->var, v);
        return -1;
    }
    if (start) {
        mq->q.has_start = true;
        mq->q.start = when;
    } else {
        mq->q.has_end = true;
        mq->q.end = when;
    }
    return 0;
}

/* The data form of the query, if any. 0, or -1 after answering. */
static int mam__form(struct app *app, xmpp_stanza_t *iq, xmpp_stanza_t *query,
                     const struct mam__target *t, struct mam__query *mq)
{
    char err[MAM_ERR_TEXT];
    struct form *form = NULL;
    int rc = form_parse(query, &form, err, sizeof err);
    if (rc == FORM_ENOFORM)
        return 0;
    if (rc != FORM_OK) {
        send_error(app, iq, "modify", "bad-request", err);
        return -1;
    }
    for (size_t i = 0; rc == 0 && i < form->n_fields; i++) {
        if (form->fields[i]->var)
            rc = mam__field(t, form->fields[i], mq, err, sizeof err);
    }
    form_free(form);
    if (rc == -2)
        send_error(app, iq, "cancel", "feature-not-implemented", err);
    else if (rc != 0)
        send_error(app, iq, "modify", "bad-request", err);
    return rc == 0 ? 0 : -1;
}

/* The text of child name of set as a number; -1 when malformed. */
static long mam__number(xmpp_stanza_t *set, xmpp_ctx_t *ctx, const char *name,
                        bool *has)
{
    char *text = stanza_child_text(set, name, NULL);
    long v = -1;
    *has = xmpp_stanza_get_child_by_name(set, name) != NULL;
    if (text) {
        const char *p = text + strspn(text, " \t\r\n");
        char *end;
        if (isdigit((unsigned char)*p)) {
            v = strtol(p, &end, 10);
            if (end[strspn(end, " \t\r\n")] || v > 1000000000L)
                v = -1;
        }
        xmpp_free(ctx, text);
    }
    return v;
}

/* after / before ids of the RSM set into buf (NULL when absent). */
static const char *mam__id(xmpp_stanza_t *set, xmpp_ctx_t *ctx,
                           const char *name, char *buf, size_t len)
{
    if (!xmpp_stanza_get_child_by_name(set, name))
        return NULL;
    char *text = stanza_child_text(set, name, NULL);
    snprintf(buf, len, "%s", text ? text : "");
    if (text)
        xmpp_free(ctx, text);
    return buf;
}

/* The RSM <set/> of the query. 0, or -1 after answering. */
static int mam__rsm(struct app *app, xmpp_stanza_t *iq, xmpp_stanza_t *query,
                    struct mam__query *mq)
{
    xmpp_stanza_t *set =
        xmpp_stanza_get_child_by_name_and_ns(query, "set", NS_RSM);
    bool has_max = false;
    mq->q.max = MAM_DEFAULT_MAX;
    if (!set)
        return 0;
    long max = mam__number(set, app->ctx, "max", &has_max);
    long index = mam__number(set, app->ctx, "index", &mq->q.has_index);
    mq->q.after = mam__id(set, app->ctx, "after", mq->after, sizeof mq->after);
    mq->q.before =
        mam__id(set, app->ctx, "before", mq->before, sizeof mq->before);
    const char *bad = has_max && max < 0 ? "<max/> must be a number"
                      : mq->q.has_index && index < 0
                          ? "<index/> must be a number"
                      : mq->q.after && !*mq->q.after ? "<after/> needs an id"
                                                     : NULL;
    if (bad) {
        send_error(app, iq, "modify", "bad-request", bad);
        return -1;
    }
    if (has_max)
        mq->q.max = max > MAM_MAX_PAGE ? MAM_MAX_PAGE : (size_t)max;
    mq->q.index = mq->q.has_index ? (size_t)index : 0;
    return 0;
}

/* ---- answering a query ------------------------------------------------------
 */

/* mam_item_fn of a query: <message><result><forwarded> for one archived
 * message, sent; its id kept for the <fin/>. */
static void mam__send_result(const struct mam_item *m, void *fn_ud)
{
    struct mam__results *r = fn_ud;
    struct app *app = r->app;
    char from[MAM_JID_MAX + MUC_NICK_MAX + 2], id[MAM__ID_MAX];
    xmpp_stanza_t *msg = xmpp_stanza_new(app->ctx);
    snprintf(id, sizeof id, "mam-%s", m->stanza_id);
    xmpp_stanza_set_name(msg, "message");
    xmpp_stanza_set_id(msg, id);
    xmpp_stanza_set_to(msg, r->to);
    xmpp_stanza_set_from(msg, r->t->room_jid);
    xmpp_stanza_t *res = stanza_add_child_ns(msg, "result", NS_MAM2);
    if (*r->queryid)
        xmpp_stanza_set_attribute(res, "queryid", r->queryid);
    xmpp_stanza_set_attribute(res, "id", m->stanza_id);
    xmpp_stanza_t *fwd = stanza_add_child_ns(res, "forwarded", NS_FORWARD);
    delay_add(fwd, NULL, m->when);
    xmpp_stanza_t *inner = stanza_add_child_ns(fwd, "message", "jabber:client");
    xmpp_stanza_set_type(inner, "groupchat");
    snprintf(from, sizeof from, "%s/%s", r->t->room_jid, m->nick);
    xmpp_stanza_set_from(inner, from);
    stanza_add_text_child(inner, "body", NULL, m->body);
    if (m->from_jid) {
        xmpp_stanza_t *x = stanza_add_child_ns(inner, "x", NS_MUC_USER);
        xmpp_stanza_set_attribute(stanza_add_child_ns(x, "item", NULL), "jid",
                                  m->from_jid);
    }
    app_send(app, msg);
    xmpp_stanza_release(msg);
    if (r->sent++ == 0)
        snprintf(r->first, sizeof r->first, "%s", m->stanza_id);
    snprintf(r->last, sizeof r->last, "%s", m->stanza_id);
}

/* The iq result with <fin/> for page p, whose messages r sent. */
static void mam__send_fin(struct app *app, xmpp_stanza_t *iq,
                          const struct mam_page *p,
                          const struct mam__results *r)
{
    char num[32];
    xmpp_stanza_t *res = stanza_iq_result(app->ctx, iq);
    xmpp_stanza_t *fin = stanza_add_child_ns(res, "fin", NS_MAM2);
    if (p->complete)
        xmpp_stanza_set_attribute(fin, "complete", "true");
    xmpp_stanza_t *set = stanza_add_child_ns(fin, "set", NS_RSM);
    if (p->n) {
        xmpp_stanza_t *first =
            stanza_add_text_child(set, "first", NULL, r->first);
        snprintf(num, sizeof num, "%zu", p->first_index);
        xmpp_stanza_set_attribute(first, "index", num);
        stanza_add_text_child(set, "last", NULL, r->last);
    }
    snprintf(num, sizeof num, "%zu", p->count);
    stanza_add_text_child(set, "count", NULL, num);
    app_send(app, res);
    xmpp_stanza_release(res);
}

/* The page the query asks for: its results, then the <fin/>. */
static void mam__answer(struct app *app, xmpp_stanza_t *iq,
                        const struct mam__target *t,
                        const struct mam__query *mq)
{
    struct mam__results r = {.app = app,
                             .t = t,
                             .to = xmpp_stanza_get_from(iq),
                             .queryid = mq->queryid};
    struct mam_page page;
    struct mam_err err;
    memset(&page, 0, sizeof page);
    memset(&err, 0, sizeof err);
    if (t->a->page(app, t->archive, &mq->q, mam__send_result, &r, &page, &err,
                   t->a->ud) != 0)
        mam__fail(app, iq, &err);
    else
        mam__send_fin(app, iq, &page, &r);
}

static void mam__query(struct app *app, xmpp_stanza_t *iq,
                       xmpp_stanza_t *payload, void *ud)
{
    struct mam__target t;
    struct mam__query mq;
    const char *qid = xmpp_stanza_get_attribute(payload, "queryid");
    memset(&mq, 0, sizeof mq);
    snprintf(mq.queryid, sizeof mq.queryid, "%s", qid ? qid : "");
    if (mam__open(app, iq, ud, &t) != 0)
        return;
    if (xmpp_stanza_get_child_by_name(payload, "flip-page"))
        send_error(app, iq, "cancel", "feature-not-implemented",
                   "This archive does not flip pages (no "
                   "urn:xmpp:mam:2#extended).");
    else if (mam__form(app, iq, payload, &t, &mq) == 0 &&
             mam__rsm(app, iq, payload, &mq) == 0)
        mam__answer(app, iq, &t, &mq);
}

/* ---- the query form and the metadata ----------------------------------------
 */

static void mam__get_form(struct app *app, xmpp_stanza_t *iq,
                          xmpp_stanza_t *payload, void *ud)
{
    struct mam__target t;
    (void)payload;
    if (mam__open(app, iq, ud, &t) != 0)
        return;
    struct form *f = form_new(FORM_FORM, NS_MAM2);
    xmpp_stanza_t *x = NULL;
    if (f) {
        form_add_field(f, FIELD_JID_SINGLE, "with", NULL);
        form_add_field(f, FIELD_TEXT_SINGLE, "start", NULL);
        form_add_field(f, FIELD_TEXT_SINGLE, "end", NULL);
        x = form_to_stanza(f, app->ctx);
        form_free(f);
    }
    if (!x) {
        send_error(app, iq, "wait", "resource-constraint", "Out of memory.");
        return;
    }
    xmpp_stanza_t *res = stanza_iq_result(app->ctx, iq);
    xmpp_stanza_t *q = stanza_add_child_ns(res, "query", NS_MAM2);
    xmpp_stanza_add_child_ex(q, x, 0);
    app_send(app, res);
    xmpp_stanza_release(res);
}

/* mam_item_fn of the metadata: keep the page's one message. */
static void mam__keep_bound(const struct mam_item *m, void *fn_ud)
{
    struct mam__bound *b = fn_ud;
    b->found = true;
    snprintf(b->id, sizeof b->id, "%s", m->stanza_id);
    b->when = m->when;
}

/* <start/> or <end/> of the metadata from the message b kept. */
static void mam__bound(xmpp_stanza_t *meta, const char *name,
                       const struct mam__bound *b)
{
    char stamp[DELAY_STAMP_LEN];
    if (!b->found)
        return;
    xmpp_stanza_t *el = stanza_add_child_ns(meta, name, NULL);
    xmpp_stanza_set_attribute(el, "id", b->id);
    if (delay_format(b->when, stamp, sizeof stamp) == 0)
        xmpp_stanza_set_attribute(el, "timestamp", stamp);
}

static void mam__metadata(struct app *app, xmpp_stanza_t *iq,
                          xmpp_stanza_t *payload, void *ud)
{
    struct mam__target t;
    struct mam__bound first = {0}, last = {0};
    struct mam_query q = {.max = 1};
    struct mam_page page;
    struct mam_err err;
    (void)payload;
    if (mam__open(app, iq, ud, &t) != 0)
        return;
    memset(&err, 0, sizeof err);
    int rc = t.a->page(app, t.archive, &q, mam__keep_bound, &first, &page, &err,
                       t.a->ud);
    q.before = "";
    if (rc == 0)
        rc = t.a->page(app, t.archive, &q, mam__keep_bound, &last, &page, &err,
                       t.a->ud);
    if (rc != 0) {
        mam__fail(app, iq, &err);
        return;
    }
    xmpp_stanza_t *res = stanza_iq_result(app->ctx, iq);
    xmpp_stanza_t *meta = stanza_add_child_ns(res, "metadata", NS_MAM2);
    mam__bound(meta, "start", &first);
    mam__bound(meta, "end", &last);
    app_send(app, res);
    xmpp_stanza_release(res);
}

int xep0313_register(struct app *app, const struct mam_archive *archive)
{
    void *ud = (void *)archive; /* the handlers only read it */
    if (!archive || !archive->jid_bare || !archive->open || !archive->page)
        return -1;
    if (dispatch_add_iq(app->dispatch, "set", "query", NS_MAM2, mam__query,
                        ud) ||
        dispatch_add_iq(app->dispatch, "get", "query", NS_MAM2, mam__get_form,
                        ud) ||
        dispatch_add_iq(app->dispatch, "get", "metadata", NS_MAM2,
                        mam__metadata, ud))
        return -1;
    return 0;
}
