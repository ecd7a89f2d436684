/* dispatch.c - see dispatch.h */
#include "runtime/dispatch.h"

#include "runtime/app.h"
#include "runtime/clock.h"
#include "runtime/config.h"
#include "runtime/jid.h"
#include "runtime/log.h"
#include "runtime/lowq.h"
#include "runtime/ratelimit.h"
#include "runtime/stanza.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DISPATCH__JID_MAX 3072 /* bytes of a bare JID key, with the NUL */

struct dispatch_iq_entry {
    char *type, *name, *ns;
    dispatch_iq_fn fn;
    void *ud;
};

struct dispatch_entry {
    int is_message;
    dispatch_stanza_fn fn;
    void *ud;
};

struct dispatch__timer {
    dispatch_timer_fn fn; /* NULL: a free slot */
    uint64_t due_ms;      /* clock_mono_ms() */
};

struct dispatch__await {
    char *id, *from; /* id NULL: a free slot */
    dispatch_reply_fn fn;
    void *ud;
};

struct dispatch {
    struct dispatch__timer timers[DISPATCH_TIMERS];
    struct dispatch__await awaits[DISPATCH_AWAITS];
    struct dispatch_iq_entry *iqs;
    size_t n_iqs;
    struct dispatch_entry *others;
    size_t n_others;
    struct ratelimit *rl; /* NULL: no limit */
    int rl_ready;         /* rl was made from the app's config */
    struct lowq *later;   /* refused messages' answers (lowq.h), lazily */
};

struct dispatch *dispatch_new(void)
{
    return calloc(1, sizeof(struct dispatch));
}

void dispatch_free(struct dispatch *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_iqs; i++) {
        free(d->iqs[i].type);
        free(d->iqs[i].name);
        free(d->iqs[i].ns);
    }
    free(d->iqs);
    free(d->others);
    for (size_t i = 0; i < DISPATCH_AWAITS; i++) {
        free(d->awaits[i].id);
        free(d->awaits[i].from);
    }
    ratelimit_free(d->rl);
    lowq_free(d->later);
    free(d);
}

static struct dispatch_iq_entry *dispatch__find_iq(struct dispatch *d,
                                                   const char *type,
                                                   const char *name,
                                                   const char *ns)
{
    for (size_t i = 0; i < d->n_iqs; i++) {
        struct dispatch_iq_entry *e = &d->iqs[i];
        if (!strcmp(e->type, type) && !strcmp(e->name, name) &&
            !strcmp(e->ns, ns))
            return e;
    }
    return NULL;
}

int dispatch_add_iq(struct dispatch *d, const char *type, const char *name,
                    const char *ns, dispatch_iq_fn fn, void *ud)
{
    struct dispatch_iq_entry *e = dispatch__find_iq(d, type, name, ns);
    if (e) {
        e->fn = fn;
        e->ud = ud;
        return 0;
    }
    struct dispatch_iq_entry *grown =
        realloc(d->iqs, (d->n_iqs + 1) * sizeof *grown);
    if (!grown)
        return -1;
    d->iqs = grown;
    e = &d->iqs[d->n_iqs];
    e->type = strdup(type);
    e->name = strdup(name);
    e->ns = strdup(ns);
    e->fn = fn;
    e->ud = ud;
    if (!e->type || !e->name || !e->ns) {
        free(e->type);
        free(e->name);
        free(e->ns);
        return -1;
    }
    d->n_iqs++;
    return 0;
}

int dispatch_add(struct dispatch *d, const char *kind, dispatch_stanza_fn fn,
                 void *ud)
{
    int is_message = !strcmp(kind, "message");
    if (!is_message && strcmp(kind, "presence"))
        return -1;
    struct dispatch_entry *grown =
        realloc(d->others, (d->n_others + 1) * sizeof *grown);
    if (!grown)
        return -1;
    d->others = grown;
    d->others[d->n_others++] =
        (struct dispatch_entry){.is_message = is_message, .fn = fn, .ud = ud};
    return 0;
}

static xmpp_stanza_t *dispatch__first_element(xmpp_stanza_t *stanza)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(stanza); c;
         c = xmpp_stanza_get_next(c)) {
        if (xmpp_stanza_is_tag(c))
            return c;
    }
    return NULL;
}

static void dispatch__await_clear(struct dispatch__await *a)
{
    free(a->id);
    free(a->from);
    memset(a, 0, sizeof *a);
}

int dispatch_await(struct dispatch *d, const char *id, const char *from,
                   dispatch_reply_fn fn, void *ud)
{
    struct dispatch__await *slot = NULL;

    for (size_t i = 0; i < DISPATCH_AWAITS; i++) {
        struct dispatch__await *a = &d->awaits[i];
        if (a->id && !strcmp(a->id, id))
            dispatch__await_clear(a);
        if (!a->id && !slot)
            slot = a;
    }
    if (!slot || !(slot->id = strdup(id)) || !(slot->from = strdup(from))) {
        if (slot)
            dispatch__await_clear(slot);
        return -1;
    }
    slot->fn = fn;
    slot->ud = ud;
    return 0;
}

/* An iq result or error: to the fn awaiting it, if any. */
static void dispatch__reply(struct dispatch *d, struct app *app,
                            xmpp_stanza_t *iq)
{
    const char *id = xmpp_stanza_get_id(iq);
    const char *from = xmpp_stanza_get_from(iq);

    for (size_t i = 0; id && from && i < DISPATCH_AWAITS; i++) {
        struct dispatch__await a = d->awaits[i];
        if (a.id && !strcmp(a.id, id) && !strcasecmp(a.from, from)) {
            memset(&d->awaits[i], 0, sizeof d->awaits[i]);
            a.fn(app, iq, a.ud);
            free(a.id);
            free(a.from);
            return;
        }
    }
}

static void dispatch__iq(struct dispatch *d, struct app *app,
                         xmpp_stanza_t *iq)
{
    const char *type = xmpp_stanza_get_type(iq);
    if (type && (!strcmp(type, "result") || !strcmp(type, "error"))) {
        dispatch__reply(d, app, iq);
        return;
    }
    if (!type || (strcmp(type, "get") && strcmp(type, "set")))
        return; /* no type: not an iq we can answer */
    xmpp_stanza_t *payload = dispatch__first_element(iq);
    if (!payload) {
        send_error(app, iq, "modify", "bad-request",
                   "This iq has no payload element.");
        return;
    }
    const char *name = xmpp_stanza_get_name(payload);
    const char *ns = xmpp_stanza_get_ns(payload);
    struct dispatch_iq_entry *e =
        name && ns ? dispatch__find_iq(d, type, name, ns) : NULL;
    if (e) {
        e->fn(app, iq, payload, e->ud);
        return;
    }
    send_error(app, iq, "cancel", "service-unavailable",
               "chatdesk does not offer this request here.");
}

/* ---- the rate limit ------------------------------------------------ */

/* The limiter, made on first use from the app's [limits] (none without a
 * config or with stanzas_per_second = 0). */
static struct ratelimit *dispatch__limiter(struct dispatch *d, struct app *app)
{
    if (d->rl_ready)
        return d->rl;
    d->rl_ready = 1;
    const struct config *cfg = app->cfg;
    if (!cfg || cfg->limit_rate <= 0)
        return NULL;
    d->rl = ratelimit_new((unsigned)cfg->limit_rate, (unsigned)cfg->limit_burst,
                          RATELIMIT_DEFAULT_MAX_KEYS);
    if (!d->rl)
        log_warn("dispatch", "out of memory: stanzas are not rate-limited");
    return d->rl;
}

/* The bare JID of a user (a from with a local part), ASCII-lowercased into
 * buf (cut to fit). 0, or -1 for a domain (the server, a component) or no
 * from. */
static int dispatch__user(const char *from, char *buf, size_t len)
{
    size_t n = from ? strcspn(from, "/") : 0;
    const char *at = n ? memchr(from, '@', n) : NULL;
    if (!at || at == from)
        return -1;
    return jid_lower(from, n < len ? n : len - 1, buf, len);
}

/* The text of every rate-limit error. */
static void dispatch__refusal_text(struct ratelimit *rl, int message,
                                   char *text, size_t len)
{
    snprintf(text, len,
             "Too many requests from you; slow down: at most %u per second "
             "(bursts of %u). This one was not processed%s.",
             ratelimit_per_second(rl), ratelimit_burst(rl),
             message ? " and not delivered" : "");
}

/* Send the oldest queued answer to a refused message. */
static void dispatch__send_oldest(struct dispatch *d, struct app *app)
{
    const struct lowq_item *it = lowq_peek(d->later);
    char text[200];
    if (!it)
        return;
    xmpp_stanza_t *m = xmpp_message_new(app->ctx, "error", it->to, it->id);
    if (m) {
        if (it->from)
            xmpp_stanza_set_from(m, it->from);
        dispatch__refusal_text(d->rl, 1, text, sizeof text);
        stanza_add_error(m, "wait", "resource-constraint", text);
        app_send(app, m);
        xmpp_stanza_release(m);
    }
    lowq_pop(d->later);
}

/* A refused message's answer goes to the low-priority queue (lowq.h),
 * sent by dispatch_send_refusals() after other traffic; when the queue is
 * full its oldest answer goes now to make room. 0, or -1 when it could not
 * be queued (out of memory: the caller answers at once). */
static int dispatch__answer_later(struct dispatch *d, struct app *app,
                                  xmpp_stanza_t *st, uint64_t now)
{
    if (!d->later)
        d->later = lowq_new(LOWQ_DEFAULT_CAPACITY);
    if (lowq_full(d->later))
        dispatch__send_oldest(d, app);
    return lowq_push(d->later, xmpp_stanza_get_from(st),
                     xmpp_stanza_get_to(st), xmpp_stanza_get_id(st), now);
}

/* What happens to a stanza over its sender's limit: every iq request,
 * message and available presence is answered with one small error to its
 * sender (never a copy of the stanza: the answer costs the same whatever
 * was sent, and only the sender gets it); subscriptions, probes and iq
 * results, which no client waits on, are dropped. A message's answer waits
 * in the low-priority queue; iq and presence answers go at once (a join
 * must not be told "refused" after a later join succeeded). */
static void dispatch__refuse(struct dispatch *d, struct app *app,
                             xmpp_stanza_t *st, const char *kind,
                             const char *bare, uint64_t now)
{
    struct ratelimit *rl = d->rl;
    const char *type = xmpp_stanza_get_type(st);
    int message = !strcmp(kind, "message");
    int answer = message || (!strcmp(kind, "presence") && !type) ||
                 (type && (!strcmp(type, "get") || !strcmp(type, "set")));
    unsigned long refused = 0;
    char text[200];
    if (ratelimit_log_due(rl, bare, now, &refused))
        log_warn("dispatch",
                 "%s is over the rate limit (%u stanzas a second, bursts of "
                 "%u): %lu refused since the last report",
                 bare, ratelimit_per_second(rl), ratelimit_burst(rl), refused);
    if (!answer) {
        log_debug("dispatch", "over the rate limit: dropped a <%s/> from %s",
                  kind, bare);
        return;
    }
    if (message && dispatch__answer_later(d, app, st, now) == 0)
        return;
    dispatch__refusal_text(rl, message, text, sizeof text);
    send_error(app, st, "wait", "resource-constraint", text);
}

/* 1 when the stanza is over its sender's limit and was refused or dropped.
 * Error bounces and unavailable presence count but always pass: they only
 * clear state (ghost occupants, Online), and are never answered. */
static int dispatch__over_limit(struct dispatch *d, struct app *app,
                                xmpp_stanza_t *st, const char *kind)
{
    char bare[DISPATCH__JID_MAX];
    struct ratelimit *rl = dispatch__limiter(d, app);
    if (!rl || dispatch__user(xmpp_stanza_get_from(st), bare, sizeof bare))
        return 0;
    uint64_t now = clock_mono_ms();
    if (ratelimit_take(rl, bare, now) == RATELIMIT_PASS)
        return 0;
    const char *type = xmpp_stanza_get_type(st);
    if (type && (!strcmp(type, "error") ||
                 (!strcmp(kind, "presence") && !strcmp(type, "unavailable"))))
        return 0;
    dispatch__refuse(d, app, st, kind, bare, now);
    return 1;
}

static int dispatch__is_groupchat(xmpp_stanza_t *st, const char *kind)
{
    const char *type = xmpp_stanza_get_type(st);
    return !strcmp(kind, "message") && type && !strcmp(type, "groupchat");
}

void dispatch_stanza(struct dispatch *d, struct app *app, xmpp_stanza_t *stanza)
{
    const char *kind = xmpp_stanza_get_name(stanza);
    if (!kind)
        return;
    if ((!strcmp(kind, "iq") || !strcmp(kind, "message") ||
         !strcmp(kind, "presence")) &&
        dispatch__over_limit(d, app, stanza, kind))
        return;
    if (app->flush && !dispatch__is_groupchat(stanza, kind))
        app->flush(app); /* only groupchat may pass held messages */
    if (!strcmp(kind, "iq")) {
        dispatch__iq(d, app, stanza);
        return;
    }
    int is_message = !strcmp(kind, "message");
    if (!is_message && strcmp(kind, "presence"))
        return;
    for (size_t i = 0; i < d->n_others; i++) {
        struct dispatch_entry *e = &d->others[i];
        if (e->is_message == is_message &&
            e->fn(app, stanza, e->ud) == DISPATCH_HANDLED)
            return;
    }
}

size_t dispatch_refusals_pending(const struct dispatch *d)
{
    return d ? lowq_len(d->later) : 0;
}

size_t dispatch_refusals_due(const struct dispatch *d, int sendq_len,
                             int quiet)
{
    return d ? lowq_due(d->later, clock_mono_ms(), sendq_len, quiet) : 0;
}

void dispatch_send_refusals(struct dispatch *d, struct app *app, size_t n)
{
    while (n-- && lowq_len(d->later))
        dispatch__send_oldest(d, app);
}

int dispatch_timer_set(struct dispatch *d, dispatch_timer_fn fn,
                       unsigned long ms)
{
    struct dispatch__timer *slot = NULL;
    for (size_t i = 0; i < DISPATCH_TIMERS; i++) {
        if (d->timers[i].fn == fn) {
            slot = &d->timers[i];
            break;
        }
        if (!d->timers[i].fn && !slot)
            slot = &d->timers[i];
    }
    if (!slot)
        return -1;
    *slot = (struct dispatch__timer){fn, clock_mono_ms() + ms};
    return 0;
}

void dispatch_timer_cancel(struct dispatch *d, dispatch_timer_fn fn)
{
    for (size_t i = 0; i < DISPATCH_TIMERS; i++)
        if (d->timers[i].fn == fn)
            d->timers[i].fn = NULL;
}

void dispatch_run_timers(struct dispatch *d, struct app *app)
{
    uint64_t now = clock_mono_ms();
    for (size_t i = 0; i < DISPATCH_TIMERS; i++) {
        struct dispatch__timer *t = &d->timers[i];
        if (!t->fn || now < t->due_ms)
            continue;
        dispatch_timer_fn fn = t->fn;
        t->fn = NULL; /* one-shot; fn may set itself again */
        if (app->flush)
            app->flush(app);
        fn(app);
    }
}
