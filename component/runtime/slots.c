/* slots.c - see slots.h */
#include "runtime/slots.h"

#include "runtime/app.h"
#include "runtime/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#define SLOTS__ALL (SLOTS_PROBES + 1) /* probe-<k> JIDs and the domain */

struct slots {
    struct app *app;
    unsigned max_links;
    slots_foreign_fn foreign;
    void *foreign_ud;
    slots_elsewhere_fn elsewhere;
    void *elsewhere_ud;
    char prefix[24];       /* this process's rounds: PREFIX-<round> */
    char nonce[40];        /* the round in flight ("" when none) */
    uint64_t round;        /* rounds sent */
    uint64_t judge_ms;     /* when the round in flight is judged */
    uint64_t next_ms;      /* when the next round goes out */
    uint64_t hurry_ms;     /* slots_hurry(): a round then (0: none) */
    unsigned expect;       /* slots_hurry(): slots the dead process held */
    unsigned open_more;    /* connections still to open at once */
    uint64_t defer_ms;     /* no connection opened for a vacancy before */
    unsigned char got[SLOTS__ALL];
    unsigned count[SLOTS_LINKS_MAX]; /* probes each link got this round */
    unsigned idle[SLOTS_LINKS_MAX];  /* judged rounds without a probe */
    unsigned last_back, last_elsewhere, last_held;
    int domain_link;
    unsigned logged_back, logged_links; /* what the log said last */
    uint64_t full_warned_ms;
};

struct slots *slots_new(struct app *app, unsigned max_links)
{
    struct slots *s = calloc(1, sizeof *s);
    uint32_t r = 0;
    if (!s)
        return NULL;
    if (getrandom(&r, sizeof r, 0) != sizeof r)
        r = (uint32_t)getpid();
    s->app = app;
    s->max_links = max_links < 1                 ? 1
                   : max_links > SLOTS_LINKS_MAX ? SLOTS_LINKS_MAX
                                                 : max_links;
    snprintf(s->prefix, sizeof s->prefix, "%08" PRIx32, r);
    s->domain_link = -1;
    s->logged_back = (unsigned)-1;
    return s;
}

void slots_free(struct slots *s)
{
    free(s);
}

void slots_set_foreign(struct slots *s, slots_foreign_fn fn, void *ud)
{
    s->foreign = fn;
    s->foreign_ud = ud;
}

void slots_set_elsewhere(struct slots *s, slots_elsewhere_fn fn, void *ud)
{
    s->elsewhere = fn;
    s->elsewhere_ud = ud;
}

unsigned slots_last_back(const struct slots *s)
{
    return s->last_back;
}

int slots_domain_link(const struct slots *s)
{
    return s->domain_link;
}

unsigned slots_held(const struct slots *s)
{
    return s->last_held;
}

void slots_hurry(struct slots *s, uint64_t now_ms, unsigned delay_ms,
                 unsigned expect)
{
    uint64_t at = now_ms + delay_ms;
    if (!s->hurry_ms || at < s->hurry_ms)
        s->hurry_ms = at ? at : 1;
    if (delay_ms && at > s->defer_ms)
        s->defer_ms = at;
    s->expect += expect;
}

void slots_link_changed(struct slots *s, unsigned link)
{
    if (link < SLOTS_LINKS_MAX) {
        s->idle[link] = 0;
        s->count[link] = 0;
    }
    if (s->domain_link == (int)link)
        s->domain_link = -1;
    s->next_ms = 0; /* soon: slots_poll() adds SLOTS_SOON_MS */
}

/* The <slot/> of a probe from our own domain, or NULL. */
static xmpp_stanza_t *slots__payload(struct slots *s, xmpp_stanza_t *st)
{
    const char *name = xmpp_stanza_get_name(st);
    const char *from = xmpp_stanza_get_from(st);
    if (!name || strcmp(name, "message") || !from ||
        strcasecmp(from, s->app->jid))
        return NULL;
    return xmpp_stanza_get_child_by_name_and_ns(st, "slot",
                                                NS_CHATDESK_SLOTS);
}

int slots_receive(struct slots *s, unsigned link, xmpp_stanza_t *stanza)
{
    xmpp_stanza_t *p = slots__payload(s, stanza);
    if (!p)
        return 0;
    const char *round = xmpp_stanza_get_attribute(p, "round");
    const char *num = xmpp_stanza_get_attribute(p, "n");
    int n = num ? atoi(num) : -2;
    if (!round || n < -1 || n >= SLOTS_PROBES)
        return 1; /* ours in shape only: dropped, never answered */
    if (*s->nonce && !strcmp(round, s->nonce)) {
        s->got[n < 0 ? SLOTS_PROBES : n] = 1;
        if (link < SLOTS_LINKS_MAX)
            s->count[link]++;
        if (n < 0)
            s->domain_link = (int)link;
    } else if (strncmp(round, s->prefix, strlen(s->prefix)) && s->foreign) {
        s->foreign(s->app, round, n, link, s->foreign_ud);
    }
    return 1;
}

static void slots__send(struct slots *s, const char *to, int n)
{
    xmpp_ctx_t *ctx = s->app->ctx;
    xmpp_stanza_t *m = xmpp_message_new(ctx, "headline", to, NULL);
    xmpp_stanza_t *p = xmpp_stanza_new(ctx);
    char num[16];
    if (!m || !p) {
        if (m)
            xmpp_stanza_release(m);
        if (p)
            xmpp_stanza_release(p);
        return;
    }
    snprintf(num, sizeof num, "%d", n);
    xmpp_stanza_set_name(p, "slot");
    xmpp_stanza_set_ns(p, NS_CHATDESK_SLOTS);
    xmpp_stanza_set_attribute(p, "round", s->nonce);
    xmpp_stanza_set_attribute(p, "n", num);
    xmpp_stanza_add_child(m, p);
    xmpp_stanza_release(p);
    xmpp_stanza_set_from(m, s->app->jid);
    app_send(s->app, m);
    xmpp_stanza_release(m);
}

/* A new round: fresh JIDs (probe-<round * SLOTS_PROBES + k>) so every
 * round samples other slots, and the domain's own JID. */
static void slots__start(struct slots *s, uint64_t now_ms, unsigned n)
{
    char to[320];
    snprintf(s->nonce, sizeof s->nonce, "%s-%" PRIu64, s->prefix, s->round);
    memset(s->got, 0, sizeof s->got);
    memset(s->count, 0, sizeof s->count[0] * n);
    for (int k = 0; k < SLOTS_PROBES; k++) {
        snprintf(to, sizeof to, "probe-%" PRIu64 "@%s",
                 (s->round * SLOTS_PROBES + (uint64_t)k) % 1000000000u,
                 s->app->jid);
        slots__send(s, to, k);
    }
    slots__send(s, s->app->jid, -1);
    s->round++;
    s->judge_ms = now_ms + SLOTS_WAIT_MS;
    s->hurry_ms = 0;
}

/* One info line when what the rounds show changes. */
static void slots__log(struct slots *s, unsigned online)
{
    unsigned key = s->last_back * 64 + s->last_elsewhere;
    if (key == s->logged_back && online == s->logged_links)
        return;
    s->logged_back = key;
    s->logged_links = online;
    if (s->last_back == SLOTS__ALL && s->last_elsewhere)
        log_info("slots", "every probe came back: %u to this process (%u "
                 "connection%s), %u to others",
                 SLOTS__ALL - s->last_elsewhere, online,
                 online == 1 ? "" : "s", s->last_elsewhere);
    else if (s->last_back == SLOTS__ALL)
        log_info("slots", "every probe came back on %u connection%s: this "
                 "process serves every slot it can see",
                 online, online == 1 ? "" : "s");
    else
        log_info("slots", "%u of %d probes came back on %u connection%s: a "
                 "route slot of %s has no connection",
                 s->last_back, SLOTS__ALL, online, online == 1 ? "" : "s",
                 s->app->jid);
}

/* The decision after a round: fill a vacant slot, drop a connection that
 * holds none. */
static struct slots_action slots__decide(struct slots *s, uint64_t now_ms,
                                         const enum slots_link *links,
                                         unsigned n, unsigned used,
                                         unsigned online)
{
    struct slots_action a = {SLOTS_NOTHING, 0};
    int idle = -1;
    for (unsigned i = 0; i < n; i++)
        if (links[i] == SLOTS_LINK_ONLINE && s->idle[i] >= SLOTS_IDLE_ROUNDS)
            idle = (int)i;
    if (idle >= 0 && online > 1) {
        log_info("slots", "connection #%d got no probe in %d rounds: it "
                 "holds no route slot (more connections than the server's "
                 "component_number); closing it", idle, SLOTS_IDLE_ROUNDS);
        a.what = SLOTS_CLOSE;
        a.link = (unsigned)idle;
    } else if (s->last_back < SLOTS__ALL && now_ms < s->defer_ms) {
        log_debug("slots", "a slot is vacant: another process fills it "
                  "first (asking again in %" PRIu64 " ms)",
                  s->defer_ms - now_ms);
    } else if (s->last_back < SLOTS__ALL && used < s->max_links) {
        unsigned want = s->expect > 1 ? s->expect : 1;
        if (want > s->max_links - used)
            want = s->max_links - used;
        log_info("slots", "opening connection%s #%u%s for the vacant slot%s",
                 want > 1 ? "s" : "", used, want > 1 ? " and more" : "",
                 want > 1 ? "s the process gone held" : "");
        a.what = SLOTS_OPEN;
        s->open_more = want - 1;
    } else if (s->last_back < SLOTS__ALL &&
               now_ms >= s->full_warned_ms + 60000) {
        s->full_warned_ms = now_ms;
        log_warn("slots", "a route slot of %s has no connection, and this "
                 "process holds [component] connections_max = %u already",
                 s->app->jid, s->max_links);
    }
    return a;
}

static struct slots_action slots__judge(struct slots *s, uint64_t now_ms,
                                        const enum slots_link *links,
                                        unsigned n)
{
    unsigned used = 0, online = 0, pending = 0;
    unsigned char other[SLOTS__ALL] = {0};
    s->last_back = s->last_elsewhere = s->last_held = 0;
    if (s->elsewhere &&
        s->elsewhere(s->app, s->nonce, other, SLOTS__ALL, s->elsewhere_ud) < 0)
        memset(other, 0, sizeof other);
    for (unsigned k = 0; k < SLOTS__ALL; k++) {
        s->last_back += s->got[k] || other[k];
        s->last_elsewhere += !s->got[k] && other[k];
    }
    s->nonce[0] = '\0';
    for (unsigned i = 0; i < n; i++) {
        used += links[i] != SLOTS_LINK_NONE;
        online += links[i] == SLOTS_LINK_ONLINE;
        pending += links[i] == SLOTS_LINK_PENDING;
        if (links[i] == SLOTS_LINK_ONLINE)
            s->idle[i] = s->count[i] ? 0 : s->idle[i] + 1;
        s->last_held += links[i] == SLOTS_LINK_ONLINE && s->count[i];
    }
    slots__log(s, online);
    struct slots_action a = {SLOTS_NOTHING, 0};
    if (!pending) {
        a = slots__decide(s, now_ms, links, n, used, online);
        s->expect = 0; /* judged with every connection online */
    }
    s->next_ms = now_ms + (a.what != SLOTS_NOTHING || pending
                               ? SLOTS_SOON_MS
                               : SLOTS_PERIOD_MS);
    return a;
}

struct slots_action slots_poll(struct slots *s, uint64_t now_ms,
                               const enum slots_link *links, unsigned n)
{
    struct slots_action none = {SLOTS_NOTHING, 0};
    int any_online = 0;
    if (n > SLOTS_LINKS_MAX)
        n = SLOTS_LINKS_MAX;
    for (unsigned i = 0; i < n; i++)
        any_online |= links[i] == SLOTS_LINK_ONLINE;
    if (s->open_more) { /* the rest of the dead process's slots */
        s->open_more--;
        struct slots_action more = {SLOTS_OPEN, 0};
        return more;
    }
    if (*s->nonce)
        return now_ms >= s->judge_ms ? slots__judge(s, now_ms, links, n)
                                     : none;
    if (!any_online)
        return none;
    if (!s->next_ms)
        s->next_ms = now_ms + SLOTS_SOON_MS;
    if (now_ms >= s->next_ms || (s->hurry_ms && now_ms >= s->hurry_ms))
        slots__start(s, now_ms, n);
    return none;
}
