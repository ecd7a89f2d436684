/* test_muc.c - the XEP-0045 room engine driven through dispatch_stanza()
 * with a capturing app.send and a fake policy: join order, refusals,
 * multi-resource occupants, reflection with stanza-id, store before
 * broadcast, voice, leaving, chat states, private messages, room disco,
 * self-ping, the app's API and group commit (held reflections, muc_flush;
 * pipelined: submit/settle, muc_pump). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/app.h"
#include "runtime/clock.h"
#include "runtime/config.h"
#include "runtime/disco.h"
#include "runtime/dispatch.h"
#include "runtime/stanza.h"
#include "xep0030_disco.h"
#include "xep0045_muc.h"
#include "xep0199_ping.h"
#include "xep0203_delay.h"
#include "xep0359_stanza_id.h"

#define MAX_SENT 64
#define MAX_EVENTS 32
#define DOMAIN "helpdesk.localhost"
#define ROOM "chat-1@" DOMAIN
#define ALICE "alice@localhost/web"
#define ALICE2 "alice@localhost/phone"
#define TECH "tech@localhost/gajim"
#define T0 1700000000

static struct app app;
static struct muc *muc;
static xmpp_stanza_t *sent[MAX_SENT];
static int n_sent;

/* ---- fake policy ------------------------------------------------------ */

struct fake_event {
    enum muc_event_kind kind;
    char bare[64];
    char full[64];
    char show[16];
    int first, last;
    enum muc_leave_reason reason;
};

static struct {
    int fail_store;
    int n_stored;
    int sent_at_store; /* n_sent when store was last called */
    char last_body[256];
    char last_nick[64];
    char last_origin[64]; /* origin-id of the last store, "" for none */
    int from_notice; /* 1 when the last store was a system notice */
    struct fake_event events[MAX_EVENTS];
    int n_events;
    int created;
    int invites_allowed;
    int ended;        /* 1: alice is admitted as a visitor */
    int long_history; /* 1: 100 messages of 1000 bytes */
} fake;

static int fake_room(struct app *a, const char *room, struct muc_room_info *out,
                     void *ud)
{
    (void)a;
    (void)ud;
    if (strcmp(room, "chat-1") != 0)
        return 0;
    snprintf(out->name, sizeof out->name, "Chat 1");
    snprintf(out->description, sizeof out->description, "Acme / Alice");
    snprintf(out->subject, sizeof out->subject, "Printer on fire");
    out->subject_when = T0 - 600;
    return 1;
}

static int fake_admit(struct app *a, const char *room, const char *bare,
                      struct muc_admit *out, struct muc_err *err, void *ud)
{
    (void)a;
    (void)room;
    (void)ud;
    if (!strcmp(bare, "tech@localhost") || !strcmp(bare, "tech2@localhost")) {
        out->role = MUC_ROLE_MODERATOR;
        out->affiliation = MUC_AFFIL_ADMIN;
    } else if (!strcmp(bare, "alice@localhost")) {
        out->role = fake.ended ? MUC_ROLE_VISITOR : MUC_ROLE_PARTICIPANT;
        out->affiliation = MUC_AFFIL_MEMBER;
        out->created = fake.created;
    } else if (!strcmp(bare, "carol@localhost")) {
        out->role = MUC_ROLE_PARTICIPANT;
        out->affiliation = MUC_AFFIL_MEMBER;
        snprintf(out->nick, sizeof out->nick, "Carol (Acme)");
    } else {
        muc_err_set(err, "auth", "registration-required",
                    "Only the contact and techs of this chat may enter.");
        return -1;
    }
    return 0;
}

static int fake_store(struct app *a, const struct muc_msg *msg,
                      struct muc_stored *out, struct muc_err *err, void *ud)
{
    (void)a;
    (void)ud;
    fake.sent_at_store = n_sent;
    if (fake.fail_store) {
        muc_err_set(err, "wait", "internal-server-error",
                    "The database is busy.");
        return -1;
    }
    snprintf(fake.last_origin, sizeof fake.last_origin, "%s",
             msg->origin_id ? msg->origin_id : "");
    if (msg->origin_id && !strcmp(msg->origin_id, "o-seen")) {
        /* stored before this run's first message */
        snprintf(out->id, sizeof out->id, "sid-seen");
        out->duplicate = 1;
        return 0;
    }
    fake.n_stored++;
    snprintf(fake.last_body, sizeof fake.last_body, "%s", msg->body);
    snprintf(fake.last_nick, sizeof fake.last_nick, "%s",
             msg->nick ? msg->nick : "");
    fake.from_notice = msg->from_bare == NULL;
    snprintf(out->id, sizeof out->id, "sid-%d", fake.n_stored);
    out->when = T0 + fake.n_stored;
    return 0;
}

static int fake_history(struct app *a, const char *room, time_t since,
                        muc_history_fn fn, void *fn_ud, void *ud)
{
    static const struct muc_history_item items[] = {
        {NULL, NULL, "Chat requested", T0 - 300, "h-1"},
        {"Alice", "alice@localhost", "Hello?", T0 - 200, "h-2"},
        {"Tech", "tech@localhost", "Hi Alice", T0 - 100, "h-3"}};
    (void)a;
    (void)room;
    (void)ud;
    if (fake.long_history) {
        static char body[1001];
        memset(body, 'x', 1000);
        for (int i = 0; i < 100; i++) {
            struct muc_history_item it = {"Alice", "alice@localhost", body,
                                          T0 - 1000 + i, "h-long"};
            fn(&it, fn_ud);
        }
        return 0;
    }
    for (size_t i = 0; i < 3; i++)
        if (items[i].when > since)
            fn(&items[i], fn_ud);
    return 0;
}

static void fake_event(struct app *a, const struct muc_event *ev, void *ud)
{
    struct fake_event *e;

    (void)a;
    (void)ud;
    assert_true(fake.n_events < MAX_EVENTS);
    e = &fake.events[fake.n_events++];
    e->kind = ev->kind;
    snprintf(e->bare, sizeof e->bare, "%s", ev->bare_jid);
    snprintf(e->full, sizeof e->full, "%s", ev->full_jid);
    snprintf(e->show, sizeof e->show, "%s", ev->show ? ev->show : "(null)");
    e->first = ev->first;
    e->last = ev->last;
    e->reason = ev->reason;
}

static int fake_invite(struct app *a, const char *room, const char *from,
                       const char *to, struct muc_err *err, void *ud)
{
    (void)a;
    (void)room;
    (void)from;
    (void)to;
    (void)ud;
    if (fake.invites_allowed)
        return 0;
    muc_err_set(err, "auth", "forbidden", "Techs only.");
    return -1;
}

static const struct muc_policy policy = {.notice_nick = "Helpdesk",
                                         .room = fake_room,
                                         .admit = fake_admit,
                                         .store = fake_store,
                                         .history = fake_history,
                                         .event = fake_event,
                                         .invite = fake_invite};

/* ---- harness -------------------------------------------------------- */

static void capture(void *ud, xmpp_stanza_t *stanza)
{
    (void)ud;
    assert_true(n_sent < MAX_SENT);
    sent[n_sent++] = xmpp_stanza_copy(stanza);
    if (getenv("MUC_TEST_DUMP")) { /* MUC_TEST_DUMP=1 shows the traffic */
        char *xml = NULL;
        size_t len = 0;
        xmpp_stanza_to_text(stanza, &xml, &len);
        fprintf(stderr, "  >> %s\n", xml ? xml : "?");
        if (xml)
            xmpp_free(app.ctx, xml);
    }
}

static void clear_sent(void)
{
    while (n_sent > 0)
        xmpp_stanza_release(sent[--n_sent]);
}

/* Feed one stanza (XML text) to the dispatcher; returns how many stanzas
 * went out. */
static int feed(const char *xml)
{
    xmpp_stanza_t *s = xmpp_stanza_new_from_string(app.ctx, xml);

    assert_non_null(s);
    clear_sent();
    dispatch_stanza(app.dispatch, &app, s);
    xmpp_stanza_release(s);
    return n_sent;
}

static int feed_join(const char *from, const char *nick)
{
    char xml[512];

    snprintf(xml, sizeof xml,
             "<presence from='%s' to='" ROOM "/%s' id='j1'>"
             "<x xmlns='" NS_MUC "'/></presence>",
             from, nick);
    return feed(xml);
}

/* An admitted joiner first gets the presence of the room's own occupant
 * (test_notice_occupant checks it): take it out of sent[]. Returns n_sent. */
static int drop_notice_pres(void)
{
    for (int i = 0; i < n_sent; i++) {
        if (!strcmp(xmpp_stanza_get_name(sent[i]), "presence") &&
            !strcmp(xmpp_stanza_get_from(sent[i]), ROOM "/Helpdesk")) {
            xmpp_stanza_release(sent[i]);
            memmove(sent + i, sent + i + 1,
                    (size_t)(n_sent - i - 1) * sizeof *sent);
            n_sent--;
            break;
        }
    }
    return n_sent;
}

/* Join; returns how many stanzas went out besides the notice occupant's
 * presence (left out by drop_notice_pres()). */
static int join(const char *from, const char *nick)
{
    feed_join(from, nick);
    return drop_notice_pres();
}

static int say(const char *from, const char *body)
{
    char xml[512];

    snprintf(xml, sizeof xml,
             "<message from='%s' to='" ROOM "' type='groupchat' id='m1'>"
             "<body>%s</body></message>",
             from, body);
    return feed(xml);
}

static int setup_with(void **state, const struct muc_policy *p)
{
    (void)state;
    memset(&app, 0, sizeof(app));
    memset(&fake, 0, sizeof(fake));
    app.ctx = xmpp_ctx_new(NULL, NULL);
    app.dispatch = dispatch_new();
    app.disco = disco_new();
    app.jid = DOMAIN;
    app.send = capture;
    clock_set(T0);
    assert_int_equal(xep0030_register(&app), 0);
    assert_int_equal(xep0199_register(&app), 0);
    muc = xep0045_new(&app, p, NULL);
    assert_non_null(muc);
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, &policy);
}

static int setup_mam(void **state)
{
    struct muc_policy p = policy;

    p.mam = 1;
    return setup_with(state, &p);
}

static int teardown(void **state)
{
    (void)state;
    clear_sent();
    xep0045_free(muc);
    muc = NULL;
    dispatch_free(app.dispatch);
    disco_free(app.disco);
    xmpp_ctx_free(app.ctx);
    clock_reset();
    return 0;
}

/* ---- stanza checks -------------------------------------------------- */

static const char *to_of(int i)
{
    return xmpp_stanza_get_to(sent[i]);
}

static const char *from_of(int i)
{
    return xmpp_stanza_get_from(sent[i]);
}

static xmpp_stanza_t *item_of(xmpp_stanza_t *st)
{
    xmpp_stanza_t *x =
        xmpp_stanza_get_child_by_name_and_ns(st, "x", NS_MUC_USER);

    assert_non_null(x);
    return xmpp_stanza_get_child_by_name(x, "item");
}

static int has_status(xmpp_stanza_t *st, const char *code)
{
    xmpp_stanza_t *x =
        xmpp_stanza_get_child_by_name_and_ns(st, "x", NS_MUC_USER);

    for (xmpp_stanza_t *c = x ? xmpp_stanza_get_children(x) : NULL; c;
         c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_get_name(c);
        const char *v = xmpp_stanza_get_attribute(c, "code");
        if (name && !strcmp(name, "status") && v && !strcmp(v, code))
            return 1;
    }
    return 0;
}

static void expect_item(xmpp_stanza_t *st, const char *aff, const char *role,
                        const char *jid)
{
    xmpp_stanza_t *item = item_of(st);

    assert_non_null(item);
    assert_string_equal(xmpp_stanza_get_attribute(item, "affiliation"), aff);
    assert_string_equal(xmpp_stanza_get_attribute(item, "role"), role);
    if (jid)
        assert_string_equal(xmpp_stanza_get_attribute(item, "jid"), jid);
}

/* sent[i] is an error of kind with condition, by the room, with a text. */
static void expect_error(int i, const char *kind, const char *type,
                         const char *condition)
{
    xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(sent[i], "error");

    assert_string_equal(xmpp_stanza_get_name(sent[i]), kind);
    assert_string_equal(xmpp_stanza_get_type(sent[i]), "error");
    assert_non_null(err);
    assert_string_equal(xmpp_stanza_get_type(err), type);
    assert_non_null(
        xmpp_stanza_get_child_by_name_and_ns(err, condition, NS_STANZAS));
    assert_non_null(
        xmpp_stanza_get_child_by_name_and_ns(err, "text", NS_STANZAS));
}

static void expect_text(int i, const char *fragment)
{
    xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(sent[i], "error");
    char *t = stanza_child_text(err, "text", NS_STANZAS);

    assert_non_null(t);
    if (!strstr(t, fragment))
        fail_msg("error text '%s' lacks '%s'", t, fragment);
    xmpp_free(app.ctx, t);
}

static char *body_of(int i)
{
    return stanza_child_text(sent[i], "body", NULL);
}

static void expect_body(int i, const char *body)
{
    char *b = body_of(i);

    assert_non_null(b);
    assert_string_equal(b, body);
    xmpp_free(app.ctx, b);
}

/* The stanza-ids of sent[i] claiming by='by'. */
static int count_sids(int i, const char *by)
{
    int n = 0;

    for (xmpp_stanza_t *c = xmpp_stanza_get_children(sent[i]); c;
         c = xmpp_stanza_get_next(c))
        n += stanza_id_is_by(c, by);
    return n;
}

static const char *sid_of(int i)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(sent[i]); c;
         c = xmpp_stanza_get_next(c))
        if (stanza_id_is_by(c, ROOM))
            return xmpp_stanza_get_attribute(c, "id");
    fail_msg("no stanza-id by the room in stanza %d", i);
    return NULL;
}

static int count_to(const char *to)
{
    int n = 0;

    for (int i = 0; i < n_sent; i++)
        n += to_of(i) && !strcmp(to_of(i), to);
    return n;
}

/* ---- joining -------------------------------------------------------- */

static void test_join_first_occupant(void **state)
{
    xmpp_stanza_t *delay;

    (void)state;
    /* self-presence, 3 history messages, subject */
    assert_int_equal(join(ALICE, "Alice"), 5);
    assert_string_equal(xmpp_stanza_get_name(sent[0]), "presence");
    assert_string_equal(from_of(0), ROOM "/Alice");
    assert_string_equal(to_of(0), ALICE);
    assert_string_equal(xmpp_stanza_get_id(sent[0]), "j1");
    assert_null(xmpp_stanza_get_type(sent[0]));
    expect_item(sent[0], "member", "participant", ALICE);
    assert_true(has_status(sent[0], "110"));
    assert_true(has_status(sent[0], "100"));
    assert_false(has_status(sent[0], "201"));
    assert_false(has_status(sent[0], "210"));
    /* history: a notice from the room's occupant, then the others, with
     * delay + sid */
    assert_string_equal(from_of(1), ROOM "/Helpdesk");
    assert_string_equal(from_of(2), ROOM "/Alice");
    assert_string_equal(from_of(3), ROOM "/Tech");
    for (int i = 1; i <= 3; i++) {
        assert_string_equal(xmpp_stanza_get_type(sent[i]), "groupchat");
        assert_string_equal(to_of(i), ALICE);
        delay =
            xmpp_stanza_get_child_by_name_and_ns(sent[i], "delay", NS_DELAY);
        assert_non_null(delay);
        assert_string_equal(xmpp_stanza_get_attribute(delay, "from"), ROOM);
    }
    expect_body(2, "Hello?");
    assert_string_equal(sid_of(2), "h-2");
    delay = xmpp_stanza_get_child_by_name_and_ns(sent[1], "delay", NS_DELAY);
    assert_string_equal(xmpp_stanza_get_attribute(delay, "stamp"),
                        "2023-11-14T22:08:20Z");
    /* subject last, from the bare room, no body */
    assert_string_equal(from_of(4), ROOM);
    assert_null(xmpp_stanza_get_child_by_name(sent[4], "body"));
    char *subject = stanza_child_text(sent[4], "subject", NULL);
    assert_string_equal(subject, "Printer on fire");
    xmpp_free(app.ctx, subject);
    /* the app heard of it */
    assert_int_equal(fake.n_events, 1);
    assert_int_equal(fake.events[0].kind, MUC_EVENT_JOINED);
    assert_string_equal(fake.events[0].bare, "alice@localhost");
    assert_string_equal(fake.events[0].full, ALICE);
    assert_string_equal(fake.events[0].show, "");
    assert_int_equal(fake.events[0].first, 1);
    assert_int_equal(muc_role_of(muc, "chat-1", "alice@localhost"),
                     MUC_ROLE_PARTICIPANT);
}

static void test_join_second_occupant(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    /* alice's presence to tech, tech's to alice, tech's self-presence,
     * 3 history, subject */
    assert_int_equal(join(TECH, "Tech"), 7);
    assert_string_equal(from_of(0), ROOM "/Alice");
    assert_string_equal(to_of(0), TECH);
    expect_item(sent[0], "member", "participant", ALICE);
    assert_false(has_status(sent[0], "110"));
    assert_string_equal(from_of(1), ROOM "/Tech");
    assert_string_equal(to_of(1), ALICE);
    expect_item(sent[1], "admin", "moderator", TECH);
    assert_false(has_status(sent[1], "110"));
    assert_string_equal(from_of(2), ROOM "/Tech");
    assert_string_equal(to_of(2), TECH);
    assert_true(has_status(sent[2], "110"));
    assert_true(has_status(sent[2], "100"));
    for (int i = 3; i < 6; i++)
        assert_string_equal(xmpp_stanza_get_name(sent[i]), "message");
    assert_non_null(xmpp_stanza_get_child_by_name(sent[6], "subject"));
    assert_int_equal(muc_occupants(muc, "chat-1", NULL, NULL), 2);
}

static void test_join_created_and_presence_payload(void **state)
{
    (void)state;
    fake.created = 1;
    feed("<presence from='" ALICE "' to='" ROOM "/Alice'><show>away</show>"
         "<status>brb</status><x xmlns='" NS_MUC "'/></presence>");
    drop_notice_pres();
    assert_true(has_status(sent[0], "201"));
    assert_string_equal(fake.events[0].show, "away");
    join(TECH, "Tech");
    /* alice's stored presence reaches the tech without the MUC <x/> */
    char *show = stanza_child_text(sent[0], "show", NULL);
    assert_string_equal(show, "away");
    xmpp_free(app.ctx, show);
    assert_null(xmpp_stanza_get_child_by_name_and_ns(sent[0], "x", NS_MUC));
}

static void test_history_limits(void **state)
{
    (void)state;
    feed("<presence from='" ALICE "' to='" ROOM "/Alice'>"
         "<x xmlns='" NS_MUC "'><history maxstanzas='1'/></x></presence>");
    assert_int_equal(drop_notice_pres(), 3);
    expect_body(1, "Hi Alice");
    feed("<presence from='" TECH "' to='" ROOM "/Tech'>"
         "<x xmlns='" NS_MUC "'><history maxchars='0'/></x></presence>");
    /* alice, broadcast, self, subject */
    assert_int_equal(drop_notice_pres(), 4);
    assert_non_null(xmpp_stanza_get_child_by_name(sent[3], "subject"));
    feed("<presence from='tech2@localhost/x' to='" ROOM "/T2'>"
         "<x xmlns='" NS_MUC "'><history seconds='150'/></x></presence>");
    /* 2 occupants, 2 broadcasts, self, 1 message, subject */
    assert_int_equal(drop_notice_pres(), 7);
    expect_body(5, "Hi Alice");
}

static void test_non_member_refused(void **state)
{
    (void)state;
    assert_int_equal(join("mallory@localhost/x", "M"), 1);
    expect_error(0, "presence", "auth", "registration-required");
    expect_text(0, "Only the contact and techs");
    assert_string_equal(from_of(0), ROOM "/M");
    assert_string_equal(to_of(0), "mallory@localhost/x");
    assert_non_null(xmpp_stanza_get_child_by_name_and_ns(sent[0], "x", NS_MUC));
    assert_string_equal(
        xmpp_stanza_get_attribute(
            xmpp_stanza_get_child_by_name(sent[0], "error"), "by"),
        ROOM);
    assert_int_equal(fake.n_events, 0);
    /* not ours: passed on, nothing answered */
    assert_int_equal(feed("<presence from='" ALICE "' to='" DOMAIN "'/>"), 0);
    /* a join without a nick */
    assert_int_equal(feed("<presence from='" ALICE "' to='" ROOM "'>"
                          "<x xmlns='" NS_MUC "'/></presence>"),
                     1);
    expect_error(0, "presence", "modify", "jid-malformed");
}

/* sent[0] is item-not-found by 'room' to alice, naming the room. */
static void expect_no_such_room(const char *kind, const char *room)
{
    char text[128];

    expect_error(0, kind, "cancel", "item-not-found");
    assert_string_equal(to_of(0), ALICE);
    assert_string_equal(
        xmpp_stanza_get_attribute(
            xmpp_stanza_get_child_by_name(sent[0], "error"), "by"),
        room);
    snprintf(text, sizeof text, "There is no room '%s'", room);
    expect_text(0, text);
}

static void test_unknown_room(void **state)
{
    static const char *const answered[] = {
        "<presence from='" ALICE "' to='Chat-01@" DOMAIN "/A' id='p1'>"
        "<x xmlns='" NS_MUC "'/></presence>",
        "<presence from='" ALICE "' to='chat-01@" DOMAIN "/A'/>",
        "<message from='" ALICE "' to='chat-01@" DOMAIN "' type='groupchat'>"
        "<body>x</body></message>",
        "<message from='" ALICE "' to='chat-01@" DOMAIN "/Tech' type='chat'>"
        "<body>x</body></message>",
        "<message from='" ALICE "' to='chat-01@" DOMAIN "/Tech'>"
        "<body>x</body></message>",
        "<message from='" ALICE "' to='chat-01@" DOMAIN "' type='normal'>"
        "<body>x</body></message>"};
    static const char *const ignored[] = {
        "<presence from='" ALICE "' to='chat-01@" DOMAIN "/A' "
        "type='unavailable'/>",
        "<presence from='" ALICE "' to='chat-01@" DOMAIN "' type='probe'/>",
        "<presence from='" ALICE "' to='chat-01@" DOMAIN "' "
        "type='subscribe'/>",
        "<message from='" ALICE "' to='chat-01@" DOMAIN "' type='error'>"
        "<error type='cancel'><gone xmlns='" NS_STANZAS "'/></error>"
        "</message>",
        "<message from='" ALICE "' to='chat-01@" DOMAIN "' type='headline'>"
        "<body>x</body></message>",
        "<message from='" ALICE "' to='chat-01@" DOMAIN
        "'><x xmlns='" NS_MUC_USER
        "'><decline from='tech@localhost'/></x></message>"};

    (void)state;
    for (size_t i = 0; i < sizeof answered / sizeof *answered; i++) {
        assert_int_equal(feed(answered[i]), 1);
        expect_no_such_room(i < 2 ? "presence" : "message", "chat-01@" DOMAIN);
    }
    /* the join's <x/> comes back, with its id */
    feed(answered[0]);
    assert_non_null(xmpp_stanza_get_child_by_name_and_ns(sent[0], "x", NS_MUC));
    assert_string_equal(xmpp_stanza_get_id(sent[0]), "p1");
    for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
        assert_int_equal(feed(ignored[i]), 0);
    assert_int_equal(fake.n_events, 0);
    assert_int_equal(fake.n_stored, 0);
    /* the room that exists keeps its answers */
    assert_int_equal(say(ALICE, "hi"), 1);
    expect_error(0, "message", "cancel", "not-acceptable");
}

/* A message that would not fit in one stanza once reflected is refused
 * before it is stored; a history over max_stanza_bytes is cut, after a
 * line from the room pointing to the archive. */
static void test_size_bounds(void **state)
{
    static char xml[60000], body[50001];
    struct config cfg;
    (void)state;
    join(ALICE, "Alice");
    memset(body, '"', 50000); /* 300,000 bytes of XML */
    snprintf(xml, sizeof xml,
             "<message from='" ALICE "' to='" ROOM "' type='groupchat'>"
             "<body>%s</body></message>",
             body);
    assert_int_equal(feed(xml), 1);
    expect_error(0, "message", "modify", "not-acceptable");
    expect_text(0, "too large");
    assert_int_equal(fake.n_stored, 0);
    assert_int_equal(say(ALICE, "small"), 1); /* still in, still talking */
    assert_int_equal(fake.n_stored, 1);
    config_defaults(&cfg);
    cfg.max_stanza_bytes = 16384;
    app.cfg = &cfg;
    fake.long_history = 1;
    int n = join(TECH, "Tech");
    /* alice to tech, tech to alice, self, the note, < 16 KiB of history,
     * subject */
    assert_true(n > 6 && n < 4 + 16 + 1);
    int note = 3;
    assert_string_equal(from_of(note), ROOM);
    char *b = body_of(note);
    assert_non_null(strstr(b, "archive (MAM)"));
    xmpp_free(app.ctx, b);
    size_t bytes = 0;
    for (int i = note + 1; i < n - 1; i++) {
        char *t = NULL;
        size_t len = 0;
        xmpp_stanza_to_text(sent[i], &t, &len);
        xmpp_free(app.ctx, t);
        bytes += len;
    }
    assert_true(bytes <= 16384);
    app.cfg = NULL;
}

static void test_nick_conflict(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    assert_int_equal(join(TECH, "Alice"), 1);
    expect_error(0, "presence", "cancel", "conflict");
    assert_int_equal(muc_occupants(muc, "chat-1", NULL, NULL), 1);
    /* a forced nick is taken even when another is asked for */
    assert_int_equal(join("carol@localhost/c", "whatever"), 7);
    assert_string_equal(from_of(2), ROOM "/Carol (Acme)");
    assert_true(has_status(sent[2], "210"));
}

/* The room's own occupant: its presence first to every joiner, a
 * moderator; its nick is nobody else's (whatever the case). */
static void test_notice_occupant(void **state)
{
    (void)state;
    assert_int_equal(feed_join(ALICE, "Alice"), 6);
    assert_string_equal(xmpp_stanza_get_name(sent[0]), "presence");
    assert_string_equal(from_of(0), ROOM "/Helpdesk");
    assert_string_equal(to_of(0), ALICE);
    assert_null(xmpp_stanza_get_type(sent[0]));
    expect_item(sent[0], "owner", "moderator", DOMAIN);
    assert_false(has_status(sent[0], "110"));
    feed_join(TECH, "Tech");
    assert_string_equal(from_of(0), ROOM "/Helpdesk");
    assert_string_equal(to_of(0), TECH);
    assert_int_equal(count_to(ALICE), 1); /* only the tech's presence */
    assert_int_equal(feed_join("tech2@localhost/x", "hELPDESK"), 1);
    expect_error(0, "presence", "cancel", "conflict");
    expect_text(0, "'Helpdesk' belongs to the room itself");
    assert_int_equal(muc_occupants(muc, "chat-1", NULL, NULL), 2);
}

/* One muc#admin / muc#owner iq (ns, type, payload inside <query/>). */
static int admin_iq(const char *from, const char *to, const char *ns,
                    const char *type, const char *payload)
{
    char xml[1024];

    snprintf(xml, sizeof xml,
             "<iq from='%s' to='%s' type='%s' id='a1'><query xmlns='%s'>%s"
             "</query></iq>",
             from, to, type, ns, payload);
    return feed(xml);
}

/* Clients ask these on join: a result or forbidden, never
 * service-unavailable. */
static void test_admin_and_owner_queries(void **state)
{
    const char *member = "<item affiliation='member'/>";
    xmpp_stanza_t *q, *item;

    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    assert_int_equal(admin_iq(TECH, ROOM, NS_MUC_ADMIN, "get", member), 1);
    assert_string_equal(xmpp_stanza_get_type(sent[0]), "result");
    q = xmpp_stanza_get_child_by_name_and_ns(sent[0], "query", NS_MUC_ADMIN);
    assert_non_null(q);
    item = xmpp_stanza_get_child_by_name(q, "item");
    assert_non_null(item);
    assert_string_equal(xmpp_stanza_get_attribute(item, "jid"),
                        "alice@localhost");
    assert_string_equal(xmpp_stanza_get_attribute(item, "affiliation"),
                        "member");
    assert_null(xmpp_stanza_get_attribute(item, "role")); /* see admin.c */
    assert_null(xmpp_stanza_get_next(item));
    admin_iq(TECH, ROOM, NS_MUC_ADMIN, "get", "<item affiliation='owner'/>");
    q = xmpp_stanza_get_child_by_name_and_ns(sent[0], "query", NS_MUC_ADMIN);
    item = xmpp_stanza_get_child_by_name(q, "item"); /* the notice occupant */
    assert_non_null(item);
    assert_string_equal(xmpp_stanza_get_attribute(item, "jid"), DOMAIN);
    assert_string_equal(xmpp_stanza_get_attribute(item, "nick"), "Helpdesk");
    assert_null(xmpp_stanza_get_next(item));
    admin_iq(TECH, ROOM, NS_MUC_ADMIN, "get", "<item role='moderator'/>");
    expect_error(0, "iq", "modify", "bad-request");
    admin_iq(ALICE, ROOM, NS_MUC_ADMIN, "get", member);
    expect_error(0, "iq", "auth", "forbidden");
    admin_iq(TECH, ROOM, NS_MUC_ADMIN, "set",
             "<item affiliation='member' jid='eve@localhost'/>");
    expect_error(0, "iq", "auth", "forbidden");
    expect_text(0, "directory");
    admin_iq(TECH, ROOM, NS_MUC_OWNER, "get", "");
    expect_error(0, "iq", "auth", "forbidden");
    expect_text(0, "configuration is fixed");
    admin_iq(TECH, ROOM, NS_MUC_OWNER, "set", "");
    expect_error(0, "iq", "auth", "forbidden");
    admin_iq(TECH, "nope@" DOMAIN, NS_MUC_ADMIN, "get", member);
    expect_error(0, "iq", "cancel", "item-not-found");
}

static void test_bad_nick(void **state)
{
    char nick[80];

    (void)state;
    memset(nick, 'n', 65);
    nick[65] = '\0';
    assert_int_equal(join(ALICE, nick), 1);
    expect_error(0, "presence", "modify", "not-acceptable");
    nick[64] = '\0';
    assert_int_equal(join(ALICE, nick), 5); /* 64 bytes are fine */
    feed("<presence from='" ALICE "' to='" ROOM "/x' type='unavailable'/>");
    assert_int_equal(join(ALICE, "Al&#9;ice"), 1);
    expect_error(0, "presence", "modify", "not-acceptable");
    assert_int_equal(join(ALICE, "   "), 1);
    expect_error(0, "presence", "modify", "not-acceptable");
    assert_int_equal(join(ALICE, "&#x200B;"), 1);
    expect_error(0, "presence", "modify", "not-acceptable");
    assert_int_equal(join(ALICE, ""), 1);
    expect_error(0, "presence", "modify", "not-acceptable");
    assert_int_equal(join(ALICE, "Zoë"), 5);
}

static void test_two_resources_one_nick(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    fake.n_events = 0;
    /* the phone asks for another nick: it gets Alice (210) and nobody
     * else hears of it */
    assert_int_equal(join(ALICE2, "Ally"), 6);
    assert_int_equal(count_to(TECH), 0);
    assert_int_equal(count_to(ALICE), 0);
    assert_string_equal(from_of(0), ROOM "/Tech");
    assert_string_equal(from_of(1), ROOM "/Alice");
    assert_true(has_status(sent[1], "110"));
    assert_true(has_status(sent[1], "210"));
    assert_int_equal(fake.events[0].kind, MUC_EVENT_JOINED);
    assert_int_equal(fake.events[0].first, 0);
    assert_int_equal(muc_occupants(muc, "chat-1", NULL, NULL), 2);
    /* one message reaches all three resources */
    assert_int_equal(say(ALICE2, "from the phone"), 3);
    assert_int_equal(count_to(ALICE), 1);
    assert_int_equal(count_to(ALICE2), 1);
    assert_int_equal(count_to(TECH), 1);
    /* the phone leaves: only it hears; the occupant stays */
    fake.n_events = 0;
    assert_int_equal(feed("<presence from='" ALICE2 "' to='" ROOM
                          "/Alice' type='unavailable'/>"),
                     1);
    assert_string_equal(to_of(0), ALICE2);
    assert_true(has_status(sent[0], "110"));
    assert_int_equal(fake.events[0].kind, MUC_EVENT_LEFT);
    assert_int_equal(fake.events[0].last, 0);
    assert_int_equal(muc_role_of(muc, "chat-1", "alice@localhost"),
                     MUC_ROLE_PARTICIPANT);
}

/* ---- messages ------------------------------------------------------- */

static void test_echo_with_stanza_id(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(ALICE2, "Alice");
    join(TECH, "Tech");
    assert_int_equal(
        feed("<message from='" ALICE "' to='" ROOM "' type='groupchat' "
             "id='c-42'><body>My printer is on fire</body>"
             "<stanza-id xmlns='" NS_SID "' by='" ROOM "' id='forged'/>"
             "<stanza-id xmlns='" NS_SID "' by='alice@localhost' id='own'/>"
             "<origin-id xmlns='" NS_SID "' id='o-1'/></message>"),
        3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(from_of(i), ROOM "/Alice");
        assert_string_equal(xmpp_stanza_get_type(sent[i]), "groupchat");
        assert_string_equal(xmpp_stanza_get_id(sent[i]), "c-42");
        expect_body(i, "My printer is on fire");
        assert_int_equal(count_sids(i, ROOM), 1);
        assert_string_equal(sid_of(i), "sid-1");
        assert_int_equal(count_sids(i, "alice@localhost"), 1);
        assert_non_null(
            xmpp_stanza_get_child_by_name_and_ns(sent[i], "origin-id", NS_SID));
    }
    assert_int_equal(count_to(ALICE), 1);
    assert_int_equal(count_to(ALICE2), 1);
    assert_int_equal(count_to(TECH), 1);
    assert_string_equal(fake.last_body, "My printer is on fire");
    assert_string_equal(fake.last_nick, "Alice");
    /* what the server parses once per occupant stays lean: no id when the
     * client sent none, no stream namespace, no libstrophe "lang" */
    assert_int_equal(
        feed("<message xmlns='jabber:component:accept' from='" ALICE
             "' to='" ROOM "' type='groupchat' xml:lang='en'>"
             "<body>Still burning</body></message>"),
        3);
    for (int i = 0; i < 3; i++) {
        assert_null(xmpp_stanza_get_id(sent[i]));
        assert_null(xmpp_stanza_get_attribute(sent[i], "xmlns"));
        assert_null(xmpp_stanza_get_attribute(sent[i], "lang"));
        assert_int_equal(count_sids(i, ROOM), 1);
    }
}

/* XEP-0033: with a multicast service set, a room message to two or more
 * resources goes once to the service with every resource as a bcc
 * address (the reflection itself unchanged); a room of one resource, and
 * presences, stay one stanza each; unset goes back to one per resource. */
static xmpp_stanza_t *addresses_of(int i)
{
    return xmpp_stanza_get_child_by_name_and_ns(sent[i], "addresses",
                                                "http://jabber.org/protocol/"
                                                "address");
}

static int has_bcc(xmpp_stanza_t *list, const char *jid)
{
    for (xmpp_stanza_t *a = xmpp_stanza_get_children(list); a;
         a = xmpp_stanza_get_next(a)) {
        const char *type = xmpp_stanza_get_attribute(a, "type");
        const char *to = xmpp_stanza_get_attribute(a, "jid");
        if (type && to && !strcmp(type, "bcc") && !strcmp(to, jid))
            return 1;
    }
    return 0;
}

static void test_multicast_fan_out(void **state)
{
    xmpp_stanza_t *list;

    (void)state;
    assert_int_equal(muc_set_multicast(muc, "multicast.localhost"), 0);
    join(ALICE, "Alice");
    assert_int_equal(say(ALICE, "alone"), 1); /* one resource: direct */
    assert_string_equal(to_of(0), ALICE);
    assert_null(addresses_of(0));
    assert_int_equal(join(TECH, "Tech") > 0, 1);
    for (int i = 0; i < n_sent; i++) /* presences: one per resource */
        assert_null(addresses_of(i));
    join(ALICE2, "Alice");
    assert_int_equal(
        feed("<message from='" ALICE "' to='" ROOM "' type='groupchat' "
             "id='c-7'><body>Hello all</body>"
             "<addresses xmlns='http://jabber.org/protocol/address'>"
             "<address type='to' jid='eve@localhost'/></addresses>"
             "</message>"),
        1);
    assert_string_equal(to_of(0), "multicast.localhost");
    assert_string_equal(from_of(0), ROOM "/Alice");
    assert_string_equal(xmpp_stanza_get_id(sent[0]), "c-7");
    expect_body(0, "Hello all");
    assert_int_equal(count_sids(0, ROOM), 1);
    assert_non_null(list = addresses_of(0));
    assert_true(has_bcc(list, ALICE) && has_bcc(list, ALICE2) &&
                has_bcc(list, TECH));
    assert_false(has_bcc(list, "eve@localhost")); /* the sender's own: gone */
    {
        int n = 0;
        for (xmpp_stanza_t *c = xmpp_stanza_get_children(sent[0]); c;
             c = xmpp_stanza_get_next(c))
            n += c == list || !strcmp(xmpp_stanza_get_name(c), "addresses");
        assert_int_equal(n, 1);
    }
    assert_int_equal(muc_set_multicast(muc, NULL), 0);
    assert_int_equal(say(ALICE, "one each"), 3);
    assert_null(addresses_of(0));
}

/* A message the policy had stored before (same origin-id re-sent after a
 * reconnect) is reflected again to the sending resource only, with the
 * stored copy's stanza-id; nobody else gets a second copy. */
static void test_duplicate_reflected_to_sender_only(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(ALICE2, "Alice");
    join(TECH, "Tech");
    assert_int_equal(
        feed("<message from='" ALICE "' to='" ROOM "' type='groupchat' "
             "id='r-1'><body>Hello again</body>"
             "<origin-id xmlns='" NS_SID "' id='o-seen'/></message>"),
        1);
    assert_string_equal(fake.last_origin, "o-seen");
    assert_int_equal(fake.n_stored, 0);
    assert_string_equal(to_of(0), ALICE);
    assert_string_equal(from_of(0), ROOM "/Alice");
    assert_string_equal(xmpp_stanza_get_type(sent[0]), "groupchat");
    assert_string_equal(xmpp_stanza_get_id(sent[0]), "r-1");
    assert_int_equal(count_sids(0, ROOM), 1);
    assert_string_equal(sid_of(0), "sid-seen");
    expect_body(0, "Hello again");
    /* a new origin-id is stored and reflected to everyone */
    assert_int_equal(
        feed("<message from='" ALICE "' to='" ROOM "' type='groupchat'>"
             "<body>New</body><origin-id xmlns='" NS_SID "' id='o-2'/>"
             "</message>"),
        3);
    assert_string_equal(fake.last_origin, "o-2");
    assert_int_equal(fake.n_stored, 1);
    /* no origin-id: the policy gets NULL */
    assert_int_equal(say(TECH, "Hi"), 3);
    assert_string_equal(fake.last_origin, "");
}

static void test_store_before_broadcast(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    assert_int_equal(say(TECH, "On my way"), 2);
    assert_int_equal(fake.sent_at_store, 0); /* nothing went out before */
    assert_int_equal(fake.n_stored, 1);
    /* a failing store: no broadcast, an error to the sender */
    fake.fail_store = 1;
    assert_int_equal(say(TECH, "lost?"), 1);
    assert_string_equal(to_of(0), TECH);
    expect_error(0, "message", "wait", "internal-server-error");
    expect_text(0, "The database is busy.");
    assert_int_equal(fake.n_stored, 1);
}

static void test_visitor_forbidden_after_set_role(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    clear_sent();
    assert_int_equal(muc_set_role(muc, "chat-1", "alice@localhost",
                                  MUC_ROLE_VISITOR, "The chat has ended"),
                     0);
    assert_int_equal(n_sent, 2);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(from_of(i), ROOM "/Alice");
        expect_item(sent[i], "member", "visitor", ALICE);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(has_status(sent[i], "110"), !strcmp(to_of(i), ALICE));
    assert_int_equal(say(ALICE, "hello?"), 1);
    expect_error(0, "message", "auth", "forbidden");
    expect_text(0, "You have no voice in this room: the chat has ended");
    assert_int_equal(fake.n_stored, 0);
    /* a visitor's chat states are dropped silently */
    assert_int_equal(feed("<message from='" ALICE "' to='" ROOM
                          "' type='groupchat'><composing xmlns="
                          "'http://jabber.org/protocol/chatstates'/>"
                          "</message>"),
                     0);
    assert_int_equal(
        muc_set_role(muc, "chat-1", "bob@localhost", MUC_ROLE_VISITOR, NULL),
        -1);
}

static void test_non_occupant_message(void **state)
{
    (void)state;
    assert_int_equal(say(ALICE, "hi"), 1);
    expect_error(0, "message", "cancel", "not-acceptable");
    assert_int_equal(fake.n_stored, 0);
    join(ALICE, "Alice");
    /* subject changes are refused */
    assert_int_equal(feed("<message from='" ALICE "' to='" ROOM
                          "' type='groupchat'><subject>x</subject></message>"),
                     1);
    expect_error(0, "message", "auth", "forbidden");
    /* a chat message to the bare room */
    assert_int_equal(feed("<message from='" ALICE "' to='" ROOM
                          "' type='chat'><body>x</body></message>"),
                     1);
    expect_error(0, "message", "modify", "bad-request");
    /* errors are never answered */
    assert_int_equal(feed("<message from='" ALICE "' to='" ROOM
                          "' type='error'><error type='cancel'>"
                          "<forbidden xmlns='" NS_STANZAS "'/></error>"
                          "</message>"),
                     0);
    assert_int_equal(muc_occupants(muc, "chat-1", NULL, NULL), 1);
}

static void test_chat_states_not_stored(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    assert_int_equal(feed("<message from='" ALICE "' to='" ROOM
                          "' type='groupchat'><composing xmlns="
                          "'http://jabber.org/protocol/chatstates'/>"
                          "</message>"),
                     2);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(from_of(i), ROOM "/Alice");
        assert_null(xmpp_stanza_get_child_by_name(sent[i], "body"));
        assert_int_equal(count_sids(i, ROOM), 0);
        assert_non_null(xmpp_stanza_get_child_by_name(sent[i], "composing"));
    }
    assert_int_equal(fake.n_stored, 0);
}

/* A shared file (SPEC §9): the body (the URL) is stored, and the XEP-0066
 * link goes out with every reflection, so clients show the file inline. */
static void test_oob_link_reflected(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    assert_int_equal(feed("<message from='" ALICE "' to='" ROOM
                          "' type='groupchat'><body>http://x/f.png</body>"
                          "<x xmlns='jabber:x:oob'><url>http://x/f.png</url>"
                          "</x></message>"),
                     2);
    assert_int_equal(fake.n_stored, 1);
    assert_string_equal(fake.last_body, "http://x/f.png");
    for (int i = 0; i < 2; i++) {
        xmpp_stanza_t *x =
            xmpp_stanza_get_child_by_name_and_ns(sent[i], "x", "jabber:x:oob");
        xmpp_stanza_t *url = x ? xmpp_stanza_get_child_by_name(x, "url") : NULL;
        char *text = url ? xmpp_stanza_get_text(url) : NULL;
        assert_non_null(text);
        assert_string_equal(text, "http://x/f.png");
        xmpp_free(xmpp_stanza_get_context(sent[i]), text);
        assert_int_equal(count_sids(i, ROOM), 1);
    }
}

static void test_private_messages_refused(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    assert_int_equal(feed("<message from='" ALICE "' to='" ROOM
                          "/Tech' type='chat'><body>psst</body></message>"),
                     1);
    expect_error(0, "message", "cancel", "not-acceptable");
    assert_string_equal(to_of(0), ALICE);
    assert_string_equal(from_of(0), ROOM "/Tech");
    assert_int_equal(feed("<message from='" ALICE "' to='" ROOM
                          "/Tech' type='groupchat'><body>x</body></message>"),
                     1);
    expect_error(0, "message", "modify", "bad-request");
    assert_int_equal(fake.n_stored, 0);
}

/* ---- presence ------------------------------------------------------- */

static void test_leave_with_110(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    fake.n_events = 0;
    assert_int_equal(feed("<presence from='" ALICE "' to='" ROOM
                          "/Alice' type='unavailable'>"
                          "<status>bye</status></presence>"),
                     2);
    assert_string_equal(to_of(0), ALICE);
    assert_string_equal(xmpp_stanza_get_type(sent[0]), "unavailable");
    expect_item(sent[0], "member", "none", ALICE);
    assert_true(has_status(sent[0], "110"));
    assert_string_equal(to_of(1), TECH);
    assert_string_equal(xmpp_stanza_get_type(sent[1]), "unavailable");
    assert_false(has_status(sent[1], "110"));
    char *status = stanza_child_text(sent[1], "status", NULL);
    assert_string_equal(status, "bye");
    xmpp_free(app.ctx, status);
    assert_int_equal(fake.n_events, 1);
    assert_int_equal(fake.events[0].kind, MUC_EVENT_LEFT);
    assert_int_equal(fake.events[0].last, 1);
    assert_int_equal(fake.events[0].reason, MUC_LEAVE_SELF);
    assert_int_equal(muc_occupants(muc, "chat-1", NULL, NULL), 1);
    /* unavailable from a non-occupant is ignored */
    assert_int_equal(feed("<presence from='" ALICE "' to='" ROOM
                          "/Alice' type='unavailable'/>"),
                     0);
}

static void test_presence_update_and_nick_change(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    fake.n_events = 0;
    assert_int_equal(feed("<presence from='" TECH "' to='" ROOM "/Tech'>"
                          "<show>dnd</show></presence>"),
                     2);
    assert_int_equal(count_to(ALICE), 1);
    for (int i = 0; i < 2; i++) {
        expect_item(sent[i], "admin", "moderator", TECH);
        assert_int_equal(has_status(sent[i], "110"), !strcmp(to_of(i), TECH));
    }
    assert_int_equal(fake.events[0].kind, MUC_EVENT_PRESENCE);
    assert_string_equal(fake.events[0].show, "dnd");
    assert_int_equal(feed("<presence from='" TECH "' to='" ROOM "/Boss'/>"), 1);
    expect_error(0, "presence", "cancel", "not-acceptable");
}

static void test_resync_and_stray_presence(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    /* a join from a resource already in: everything again, only to it */
    assert_int_equal(join(TECH, "Tech"), 6);
    assert_int_equal(count_to(TECH), 6);
    /* presence without <x/> from a non-occupant: the kick */
    assert_int_equal(
        feed("<presence from='tech2@localhost/x' to='" ROOM "/T2'/>"), 1);
    assert_string_equal(xmpp_stanza_get_type(sent[0]), "unavailable");
    assert_true(has_status(sent[0], "110"));
    assert_true(has_status(sent[0], "307"));
    assert_true(has_status(sent[0], "333"));
    expect_item(sent[0], "none", "none", NULL);
}

static void test_ghost_removed(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    fake.n_events = 0;
    /* a bounce with another condition keeps the occupant */
    assert_int_equal(feed("<message from='" ALICE "' to='" ROOM
                          "' type='error'><error type='cancel'>"
                          "<not-allowed xmlns='" NS_STANZAS "'/></error>"
                          "</message>"),
                     0);
    assert_int_equal(muc_occupants(muc, "chat-1", NULL, NULL), 2);
    assert_int_equal(feed("<presence from='" ALICE "' to='" ROOM
                          "/Alice' type='error'><error type='cancel'>"
                          "<recipient-unavailable xmlns='" NS_STANZAS "'/>"
                          "</error></presence>"),
                     2);
    assert_true(has_status(sent[1], "333"));
    assert_int_equal(fake.events[0].reason, MUC_LEAVE_ERROR);
    assert_int_equal(muc_occupants(muc, "chat-1", NULL, NULL), 1);
}

/* ---- disco and ping ------------------------------------------------- */

static int has_feature(xmpp_stanza_t *q, const char *var)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(q); c;
         c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_get_name(c);
        const char *v = xmpp_stanza_get_attribute(c, "var");
        if (name && !strcmp(name, "feature") && v && !strcmp(v, var))
            return 1;
    }
    return 0;
}

static const char *form_value(xmpp_stanza_t *q, const char *var)
{
    xmpp_stanza_t *x =
        xmpp_stanza_get_child_by_name_and_ns(q, "x", "jabber:x:data");

    assert_non_null(x);
    for (xmpp_stanza_t *f = xmpp_stanza_get_children(x); f;
         f = xmpp_stanza_get_next(f)) {
        const char *v = xmpp_stanza_get_attribute(f, "var");
        if (v && !strcmp(v, var)) {
            xmpp_stanza_t *val = xmpp_stanza_get_child_by_name(f, "value");
            return val ? xmpp_stanza_get_text_ptr(xmpp_stanza_get_children(val))
                       : NULL;
        }
    }
    return NULL;
}

static xmpp_stanza_t *disco(const char *from, const char *to, const char *ns,
                            const char *node)
{
    char xml[512];

    snprintf(
        xml, sizeof xml,
        "<iq type='get' id='d1' from='%s' to='%s'><query xmlns='%s'%s%s%s/>"
        "</iq>",
        from, to, ns, node ? " node='" : "", node ? node : "", node ? "'" : "");
    assert_int_equal(feed(xml), 1);
    assert_string_equal(xmpp_stanza_get_id(sent[0]), "d1");
    return sent[0];
}

static void room_disco_checks(int mam)
{
    xmpp_stanza_t *iq, *q, *id;

    join(ALICE, "Alice");
    iq = disco(TECH, ROOM, NS_DISCO_INFO, NULL);
    assert_string_equal(xmpp_stanza_get_type(iq), "result");
    assert_string_equal(xmpp_stanza_get_from(iq), ROOM);
    q = xmpp_stanza_get_child_by_name_and_ns(iq, "query", NS_DISCO_INFO);
    id = xmpp_stanza_get_child_by_name(q, "identity");
    assert_string_equal(xmpp_stanza_get_attribute(id, "category"),
                        "conference");
    assert_string_equal(xmpp_stanza_get_attribute(id, "type"), "text");
    assert_string_equal(xmpp_stanza_get_attribute(id, "name"), "Chat 1");
    assert_true(has_feature(q, NS_MUC));
    assert_true(has_feature(q, "muc_membersonly"));
    assert_true(has_feature(q, "muc_nonanonymous"));
    assert_true(has_feature(q, "muc_persistent"));
    assert_true(has_feature(q, "muc_moderated"));
    assert_true(has_feature(q, NS_SID));
    assert_true(has_feature(q, NS_MUC_SELF_PING));
    assert_int_equal(has_feature(q, "urn:xmpp:mam:2"), mam);
    assert_string_equal(form_value(q, "FORM_TYPE"), NS_MUC_ROOMINFO);
    assert_string_equal(form_value(q, "muc#roominfo_description"),
                        "Acme / Alice");
    assert_string_equal(form_value(q, "muc#roominfo_subject"),
                        "Printer on fire");
    assert_string_equal(form_value(q, "muc#roominfo_occupants"), "1");
}

static void test_room_disco(void **state)
{
    xmpp_stanza_t *iq, *q;

    (void)state;
    room_disco_checks(0);
    iq = disco(TECH, ROOM, NS_DISCO_ITEMS, NULL);
    assert_string_equal(xmpp_stanza_get_type(iq), "result");
    q = xmpp_stanza_get_child_by_name_and_ns(iq, "query", NS_DISCO_ITEMS);
    assert_non_null(q);
    assert_null(xmpp_stanza_get_children(q));
    /* reserved nick: forced, or none */
    iq = disco("carol@localhost/c", ROOM, NS_DISCO_INFO, "x-roomuser-item");
    q = xmpp_stanza_get_child_by_name(iq, "query");
    assert_string_equal(
        xmpp_stanza_get_attribute(xmpp_stanza_get_child_by_name(q, "identity"),
                                  "name"),
        "Carol (Acme)");
    iq = disco(TECH, ROOM, NS_DISCO_INFO, "x-roomuser-item");
    assert_null(
        xmpp_stanza_get_children(xmpp_stanza_get_child_by_name(iq, "query")));
    /* other nodes, unknown rooms, occupants */
    iq = disco(TECH, ROOM, NS_DISCO_INFO, "nope");
    expect_error(0, "iq", "cancel", "item-not-found");
    iq = disco(TECH, "nope@" DOMAIN, NS_DISCO_INFO, NULL);
    assert_string_equal(xmpp_stanza_get_type(iq), "error");
    assert_non_null(xmpp_stanza_get_child_by_name_and_ns(
        xmpp_stanza_get_child_by_name(iq, "error"), "item-not-found",
        NS_STANZAS));
    disco(TECH, ROOM "/Alice", NS_DISCO_INFO, NULL);
    expect_error(0, "iq", "modify", "bad-request");
    /* the component itself still answers, now also as a MUC service */
    iq = disco(TECH, DOMAIN, NS_DISCO_INFO, NULL);
    assert_string_equal(xmpp_stanza_get_type(iq), "result");
    assert_true(
        has_feature(xmpp_stanza_get_child_by_name(iq, "query"), NS_MUC));
}

static void test_room_disco_mam(void **state)
{
    (void)state;
    room_disco_checks(1);
}

/* A non-member learns the features and nothing about the room's people. */
static void test_room_disco_stranger(void **state)
{
    xmpp_stanza_t *iq, *q, *id;

    (void)state;
    join(ALICE, "Alice");
    iq = disco("mallory@localhost/m", ROOM, NS_DISCO_INFO, NULL);
    assert_string_equal(xmpp_stanza_get_type(iq), "result");
    q = xmpp_stanza_get_child_by_name_and_ns(iq, "query", NS_DISCO_INFO);
    id = xmpp_stanza_get_child_by_name(q, "identity");
    assert_string_equal(xmpp_stanza_get_attribute(id, "category"),
                        "conference");
    assert_null(xmpp_stanza_get_attribute(id, "name"));
    assert_true(has_feature(q, "muc_membersonly"));
    assert_null(xmpp_stanza_get_child_by_name(q, "x"));
}

static void test_self_ping(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    assert_int_equal(feed("<iq type='get' id='p1' from='" ALICE "' to='" ROOM
                          "/Alice'><ping xmlns='" NS_PING "'/></iq>"),
                     1);
    assert_string_equal(xmpp_stanza_get_type(sent[0]), "result");
    assert_string_equal(xmpp_stanza_get_id(sent[0]), "p1");
    assert_string_equal(from_of(0), ROOM "/Alice");
    assert_string_equal(to_of(0), ALICE);
    /* not joined */
    feed("<iq type='get' id='p1' from='" ALICE2 "' to='" ROOM
         "/Alice'><ping xmlns='" NS_PING "'/></iq>");
    expect_error(0, "iq", "cancel", "not-acceptable");
    assert_string_equal(
        xmpp_stanza_get_attribute(
            xmpp_stanza_get_child_by_name(sent[0], "error"), "by"),
        ROOM);
    /* someone else's nick */
    feed("<iq type='get' id='p1' from='" ALICE "' to='" ROOM
         "/Tech'><ping xmlns='" NS_PING "'/></iq>");
    expect_error(0, "iq", "cancel", "service-unavailable");
    /* the component itself (XEP-0199) */
    feed("<iq type='get' id='p2' from='" ALICE "' to='" DOMAIN
         "'><ping xmlns='" NS_PING "'/></iq>");
    assert_string_equal(xmpp_stanza_get_type(sent[0]), "result");
    /* an unknown room */
    feed("<iq type='get' id='p3' from='" ALICE "' to='nope@" DOMAIN
         "/A'><ping xmlns='" NS_PING "'/></iq>");
    expect_error(0, "iq", "cancel", "item-not-found");
}

/* ---- the app's API -------------------------------------------------- */

static char unheard[3][64];
static int n_unheard;

static void fake_unheard(struct app *a, const char *room, const char *body,
                         const char *id, void *ud)
{
    (void)a, (void)ud;
    snprintf(unheard[0], sizeof unheard[0], "%s", room);
    snprintf(unheard[1], sizeof unheard[1], "%s", body);
    snprintf(unheard[2], sizeof unheard[2], "%s", id);
    n_unheard++;
}

static int setup_unheard(void **state)
{
    struct muc_policy p = policy;

    p.notice_unheard = fake_unheard;
    n_unheard = 0;
    return setup_with(state, &p);
}

/* Several processes (SPEC §11): a notice nobody here heard goes to the
 * app (which relays it to the process serving the room); a relayed one is
 * sent to the occupants here and stored nowhere. */
static void test_notice_unheard_and_relayed(void **state)
{
    (void)state;
    assert_int_equal(muc_send_notice(muc, "chat-1", "Tech joined", NULL), 0);
    assert_int_equal(n_sent, 0);
    assert_int_equal(n_unheard, 1);
    assert_string_equal(unheard[0], "chat-1");
    assert_string_equal(unheard[1], "Tech joined");
    assert_string_equal(unheard[2], "sid-1");
    join(ALICE, "Alice");
    clear_sent();
    assert_int_equal(muc_send_notice(muc, "chat-1", "Heard", NULL), 0);
    assert_int_equal(n_unheard, 1); /* heard here: not relayed */
    assert_int_equal(n_sent, 1);
    clear_sent();
    int stored = fake.from_notice;
    assert_int_equal(muc_relay_notice(muc, "CHAT-1", "From afar", "sid-9"), 1);
    assert_int_equal(fake.from_notice, stored); /* not stored again */
    assert_int_equal(n_sent, 1);
    assert_string_equal(to_of(0), ALICE);
    assert_string_equal(from_of(0), ROOM "/Helpdesk");
    expect_body(0, "From afar");
    assert_string_equal(sid_of(0), "sid-9");
    clear_sent();
    assert_int_equal(muc_relay_notice(muc, "nope", "x", "sid-10"), 0);
    assert_int_equal(n_sent, 0);
}

static void test_notice_subject_invite(void **state)
{
    struct muc_err err;

    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    clear_sent();
    assert_int_equal(muc_send_notice(muc, "chat-1", "Tech joined", &err), 0);
    assert_int_equal(fake.sent_at_store, 0);
    assert_int_equal(fake.from_notice, 1);
    assert_int_equal(n_sent, 2);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(from_of(i), ROOM "/Helpdesk");
        assert_string_equal(xmpp_stanza_get_type(sent[i]), "groupchat");
        expect_body(i, "Tech joined");
        assert_string_equal(sid_of(i), "sid-1");
    }
    fake.fail_store = 1;
    clear_sent();
    assert_int_equal(muc_send_notice(muc, "chat-1", "x", &err), -1);
    assert_int_equal(n_sent, 0);
    assert_string_equal(err.condition, "internal-server-error");
    assert_int_equal(muc_send_notice(muc, "nope", "x", &err), -1);
    assert_string_equal(err.condition, "item-not-found");

    clear_sent();
    assert_int_equal(muc_set_subject(muc, "chat-1", "New summary"), 0);
    assert_int_equal(n_sent, 2);
    char *subject = stanza_child_text(sent[0], "subject", NULL);
    assert_string_equal(subject, "New summary");
    xmpp_free(app.ctx, subject);
    assert_string_equal(from_of(0), ROOM);

    clear_sent();
    assert_int_equal(muc_invite(muc, "chat-1", "tech@localhost",
                                "tech2@localhost", "Please take over"),
                     0);
    assert_int_equal(n_sent, 1);
    assert_string_equal(from_of(0), ROOM);
    assert_string_equal(to_of(0), "tech2@localhost");
    xmpp_stanza_t *inv = xmpp_stanza_get_child_by_name(
        xmpp_stanza_get_child_by_name_and_ns(sent[0], "x", NS_MUC_USER),
        "invite");
    assert_non_null(inv);
    assert_string_equal(xmpp_stanza_get_attribute(inv, "from"),
                        "tech@localhost");
    char *reason = stanza_child_text(inv, "reason", NULL);
    assert_string_equal(reason, "Please take over");
    xmpp_free(app.ctx, reason);
    assert_int_equal(muc_invite(muc, "nope", "a@b", "c@d", NULL), -1);
}

static void test_client_invites(void **state)
{
    (void)state;
    join(TECH, "Tech");
    assert_int_equal(feed("<message from='" TECH "' to='" ROOM "'>"
                          "<x xmlns='" NS_MUC_USER "'><invite to='"
                          "tech2@localhost'><reason>help</reason></invite>"
                          "</x></message>"),
                     1);
    expect_error(0, "message", "auth", "forbidden");
    fake.invites_allowed = 1;
    assert_int_equal(feed("<message from='" TECH "' to='" ROOM "'>"
                          "<x xmlns='" NS_MUC_USER "'><invite to='"
                          "tech2@localhost'><reason>help</reason></invite>"
                          "</x></message>"),
                     1);
    assert_string_equal(to_of(0), "tech2@localhost");
    assert_string_equal(from_of(0), ROOM);
}

static void test_kick_destroy_shutdown(void **state)
{
    int kicked = 0;

    (void)state;
    join(ALICE, "Alice");
    join(ALICE2, "Alice");
    join(TECH, "Tech");
    clear_sent();
    fake.n_events = 0;
    assert_int_equal(
        muc_set_role(muc, "chat-1", "alice@localhost", MUC_ROLE_NONE, "Bye"),
        0);
    /* each resource gets 110+307; the tech once, at the end */
    assert_int_equal(n_sent, 3);
    for (int i = 0; i < n_sent; i++) {
        assert_true(has_status(sent[i], "307"));
        kicked += has_status(sent[i], "110");
    }
    assert_int_equal(kicked, 2);
    assert_int_equal(count_to(TECH), 1);
    assert_int_equal(fake.n_events, 2);
    assert_int_equal(fake.events[1].reason, MUC_LEAVE_KICKED);
    assert_int_equal(fake.events[1].last, 1);
    assert_int_equal(muc_role_of(muc, "chat-1", "alice@localhost"),
                     MUC_ROLE_NONE);

    join(ALICE, "Alice");
    clear_sent();
    fake.n_events = 0;
    muc_destroy(muc, "chat-1", "Ticket closed");
    assert_int_equal(n_sent, 2);
    for (int i = 0; i < 2; i++) {
        xmpp_stanza_t *x =
            xmpp_stanza_get_child_by_name_and_ns(sent[i], "x", NS_MUC_USER);
        xmpp_stanza_t *d = xmpp_stanza_get_child_by_name(x, "destroy");
        assert_non_null(d);
        char *reason = stanza_child_text(d, "reason", NULL);
        assert_string_equal(reason, "Ticket closed");
        xmpp_free(app.ctx, reason);
        assert_string_equal(xmpp_stanza_get_type(sent[i]), "unavailable");
    }
    assert_int_equal(fake.n_events, 2);
    assert_int_equal(fake.events[0].reason, MUC_LEAVE_DESTROYED);
    assert_int_equal(muc_occupants(muc, "chat-1", NULL, NULL), 0);

    join(ALICE, "Alice");
    clear_sent();
    fake.n_events = 0;
    muc_shutdown(muc);
    assert_int_equal(n_sent, 1);
    assert_true(has_status(sent[0], "332"));
    assert_true(has_status(sent[0], "110"));
    assert_int_equal(fake.n_events, 0);
    assert_int_equal(muc_occupants(muc, "chat-1", NULL, NULL), 0);
}

/* An event handler that calls back into the engine. */
static void reentrant_event(struct app *a, const struct muc_event *ev, void *ud)
{
    (void)a;
    (void)ud;
    if (ev->kind == MUC_EVENT_JOINED && ev->first)
        muc_send_notice(muc, ev->room, "Someone joined", NULL);
    if (ev->kind == MUC_EVENT_LEFT && ev->last)
        muc_destroy(muc, ev->room, NULL);
}

static int setup_reentrant(void **state)
{
    struct muc_policy p = policy;

    p.event = reentrant_event;
    return setup_with(state, &p);
}

static void test_reentrant_events(void **state)
{
    (void)state;
    join(TECH, "Tech");
    /* self-presence, history, subject, then the notice */
    assert_int_equal(n_sent, 6);
    expect_body(5, "Someone joined");
    join(ALICE, "Alice");
    feed("<presence from='" ALICE "' to='" ROOM "/Alice' type='unavailable'/>");
    /* alice's leave destroys the room: the tech is told */
    assert_int_equal(muc_occupants(muc, "chat-1", NULL, NULL), 0);
    assert_int_equal(count_to(TECH), 2);
}

/* ---- group commit --------------------------------------------------- */

/* A policy whose store holds every message of an occupant (notices commit
 * on their own, as in chat.c) and whose commit can fail. */
static struct {
    int n_commits;
    int fail_commit;
    int fill_err;       /* 1: a failing commit names its own error */
    int sent_at_commit; /* n_sent when commit was last called */
} gc;

static int held_store(struct app *a, const struct muc_msg *msg,
                      struct muc_stored *out, struct muc_err *err, void *ud)
{
    int rc = fake_store(a, msg, out, err, ud);

    if (rc == 0 && msg->from_bare)
        out->held = 1;
    return rc;
}

static int fake_commit(struct app *a, struct muc_err *err, void *ud)
{
    (void)a;
    (void)ud;
    gc.n_commits++;
    gc.sent_at_commit = n_sent;
    if (!gc.fail_commit)
        return 0;
    if (gc.fill_err)
        muc_err_set(err, "cancel", "resource-constraint", "The disk is full.");
    return -1;
}

static int setup_held(void **state)
{
    struct muc_policy p = policy;

    p.store = held_store;
    p.commit = fake_commit;
    memset(&gc, 0, sizeof gc);
    return setup_with(state, &p);
}

/* sent[i] is a reflection from ROOM/nick of body with stanza-id sid. */
static void expect_reflection(int i, const char *nick, const char *body,
                              const char *sid)
{
    char from[128];

    snprintf(from, sizeof from, ROOM "/%s", nick);
    assert_string_equal(xmpp_stanza_get_name(sent[i]), "message");
    assert_string_equal(xmpp_stanza_get_type(sent[i]), "groupchat");
    assert_string_equal(from_of(i), from);
    expect_body(i, body);
    assert_string_equal(sid_of(i), sid);
}

/* How many of the stanzas sent so far carry a body equal to body. */
static int count_body(const char *body)
{
    int n = 0;

    for (int i = 0; i < n_sent; i++) {
        char *b = body_of(i);
        n += b && !strcmp(b, body);
        if (b)
            xmpp_free(app.ctx, b);
    }
    return n;
}

static void test_held_reflected_after_flush(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(ALICE2, "Alice");
    join(TECH, "Tech");
    gc.n_commits = 0; /* every join flushed */
    assert_int_equal(say(ALICE, "one"), 0);
    assert_true(muc_holding(muc));
    assert_int_equal(say(TECH, "two"), 0);
    assert_int_equal(say(ALICE2, "three"), 0);
    assert_int_equal(fake.n_stored, 3); /* stored at once, shown later */
    assert_int_equal(gc.n_commits, 0);
    clear_sent();
    assert_int_equal(muc_flush(muc), 3);
    assert_int_equal(gc.n_commits, 1);      /* one commit for the batch */
    assert_int_equal(gc.sent_at_commit, 0); /* before any reflection */
    assert_int_equal(n_sent, 9); /* 3 messages x 3 resources, in order */
    for (int i = 0; i < 3; i++) {
        expect_reflection(i, "Alice", "one", "sid-1");
        expect_reflection(3 + i, "Tech", "two", "sid-2");
        expect_reflection(6 + i, "Alice", "three", "sid-3");
        assert_string_equal(xmpp_stanza_get_id(sent[i]), "m1");
    }
    assert_int_equal(count_to(ALICE), 3);
    assert_int_equal(count_to(ALICE2), 3);
    assert_int_equal(count_to(TECH), 3);
    assert_false(muc_holding(muc));
    clear_sent();
    assert_int_equal(muc_flush(muc), 0); /* nothing twice */
    assert_int_equal(n_sent, 0);
}

/* sent[i]: the room refusing the held message "m1" of to with an error. */
static void expect_held_error(int i, const char *to, const char *type,
                              const char *condition, const char *text)
{
    expect_error(i, "message", type, condition);
    expect_text(i, text);
    assert_string_equal(to_of(i), to);
    assert_string_equal(from_of(i), ROOM);
    assert_string_equal(xmpp_stanza_get_id(sent[i]), "m1");
    assert_null(xmpp_stanza_get_child_by_name(sent[i], "body"));
}

static void test_held_commit_fails(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    gc.n_commits = 0;
    gc.fail_commit = 1;
    gc.fill_err = 1;
    say(ALICE, "lost");
    say(TECH, "lost too");
    clear_sent();
    assert_int_equal(muc_flush(muc), 0);
    assert_int_equal(gc.n_commits, 1);
    /* each sender is told, nobody sees a reflection */
    assert_int_equal(n_sent, 2);
    expect_held_error(0, ALICE, "cancel", "resource-constraint",
                      "The disk is full.");
    expect_held_error(1, TECH, "cancel", "resource-constraint",
                      "The disk is full.");
    assert_false(muc_holding(muc));
    /* the policy left err empty: wait / internal-server-error */
    gc.fill_err = 0;
    say(ALICE, "lost again");
    clear_sent();
    assert_int_equal(muc_flush(muc), 0);
    assert_int_equal(n_sent, 1);
    expect_held_error(0, ALICE, "wait", "internal-server-error",
                      "send it again");
    /* the store works again: reflections flow */
    gc.fail_commit = 0;
    say(TECH, "back");
    clear_sent();
    assert_int_equal(muc_flush(muc), 1);
    assert_int_equal(n_sent, 2);
    expect_reflection(0, "Tech", "back", "sid-4");
}

#define COMPOSING                                                              \
    "<message from='" TECH "' to='" ROOM "' type='groupchat'><composing "      \
    "xmlns='http://jabber.org/protocol/chatstates'/></message>"

/* sent[i] is the tech's chat state, reflected without body or stanza-id. */
static void expect_composing(int i)
{
    assert_string_equal(from_of(i), ROOM "/Tech");
    assert_null(xmpp_stanza_get_child_by_name(sent[i], "body"));
    assert_non_null(xmpp_stanza_get_child_by_name(sent[i], "composing"));
    assert_int_equal(count_sids(i, ROOM), 0);
}

static void test_held_keeps_order(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    /* nothing held: a chat state goes out at once */
    assert_int_equal(feed(COMPOSING), 2);
    assert_false(muc_holding(muc));
    /* held A, then B without a body: B waits behind A */
    assert_int_equal(say(ALICE, "A"), 0);
    assert_int_equal(feed(COMPOSING), 0);
    assert_true(muc_holding(muc));
    assert_int_equal(fake.n_stored, 1); /* B is not stored */
    clear_sent();
    assert_int_equal(muc_flush(muc), 1);
    assert_int_equal(n_sent, 4);
    expect_reflection(0, "Alice", "A", "sid-1");
    expect_reflection(1, "Alice", "A", "sid-1");
    expect_composing(2);
    expect_composing(3);
    /* the commit fails: A is refused, B (never held) still goes out,
     * after the refusal */
    gc.fail_commit = 1;
    say(ALICE, "A2");
    feed(COMPOSING);
    clear_sent();
    assert_int_equal(muc_flush(muc), 0);
    assert_int_equal(n_sent, 3);
    expect_error(0, "message", "wait", "internal-server-error");
    assert_string_equal(to_of(0), ALICE);
    expect_composing(1);
    expect_composing(2);
    assert_int_equal(count_body("A2"), 0);
}

static void test_presence_flushes_held(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    gc.n_commits = 0;
    say(ALICE, "before you came");
    /* tech2 joins: what was held goes to the two before, first */
    assert_int_equal(join("tech2@localhost/x", "T2"), 2 + 9);
    assert_int_equal(gc.n_commits, 1);
    expect_reflection(0, "Alice", "before you came", "sid-1");
    expect_reflection(1, "Alice", "before you came", "sid-1");
    assert_int_equal(count_to(ALICE), 2);
    assert_int_equal(count_to(TECH), 2);
    /* the joiner gets the fake history only, which lacks it */
    assert_int_equal(count_to("tech2@localhost/x"), 7);
    assert_int_equal(count_body("before you came"), 2);
    assert_false(muc_holding(muc));
    /* an unavailable presence flushes too, before the occupant leaves */
    say(ALICE, "bye");
    assert_int_equal(feed("<presence from='" ALICE "' to='" ROOM
                          "/Alice' type='unavailable'/>"),
                     3 + 3);
    for (int i = 0; i < 3; i++)
        expect_reflection(i, "Alice", "bye", "sid-2");
    assert_int_equal(count_body("bye"), 3);
    assert_int_equal(gc.n_commits, 2);
}

static void test_non_groupchat_message_flushes(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    gc.n_commits = 0;
    say(ALICE, "held");
    /* a private message: the held reflections first, then the refusal */
    assert_int_equal(feed("<message from='" TECH "' to='" ROOM
                          "/Alice' type='chat'><body>psst</body></message>"),
                     3);
    expect_reflection(0, "Alice", "held", "sid-1");
    expect_reflection(1, "Alice", "held", "sid-1");
    expect_error(2, "message", "cancel", "not-acceptable");
    assert_int_equal(gc.n_commits, 1);
    /* a groupchat message to room/nick is not groupchat to the room */
    say(ALICE, "held 2");
    assert_int_equal(feed("<message from='" TECH "' to='" ROOM
                          "/Alice' type='groupchat'><body>x</body></message>"),
                     3);
    expect_reflection(0, "Alice", "held 2", "sid-2");
    expect_error(2, "message", "modify", "bad-request");
    assert_false(muc_holding(muc));
}

static void test_notice_after_held(void **state)
{
    struct muc_err err;

    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    gc.n_commits = 0;
    say(ALICE, "first");
    clear_sent();
    assert_int_equal(muc_send_notice(muc, "chat-1", "Tech left", &err), 0);
    assert_int_equal(gc.n_commits, 1);
    assert_int_equal(fake.sent_at_store, 2); /* stored after the flush */
    assert_int_equal(n_sent, 4);
    expect_reflection(0, "Alice", "first", "sid-1");
    expect_reflection(1, "Alice", "first", "sid-1");
    for (int i = 2; i < 4; i++) {
        assert_string_equal(from_of(i), ROOM "/Helpdesk");
        expect_body(i, "Tech left");
        assert_string_equal(sid_of(i), "sid-2");
    }
    assert_false(muc_holding(muc));
}

static void test_role_destroy_shutdown_flush(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    gc.n_commits = 0;
    say(ALICE, "one");
    clear_sent();
    assert_int_equal(
        muc_set_role(muc, "chat-1", "alice@localhost", MUC_ROLE_VISITOR, NULL),
        0);
    assert_int_equal(n_sent, 4); /* 2 reflections, then 2 presences */
    expect_reflection(1, "Alice", "one", "sid-1");
    assert_string_equal(xmpp_stanza_get_name(sent[2]), "presence");
    say(TECH, "two");
    clear_sent();
    muc_destroy(muc, "chat-1", NULL);
    assert_int_equal(n_sent, 4);
    expect_reflection(0, "Tech", "two", "sid-2");
    expect_reflection(1, "Tech", "two", "sid-2");
    assert_string_equal(xmpp_stanza_get_type(sent[3]), "unavailable");
    join(TECH, "Tech");
    say(TECH, "three");
    clear_sent();
    muc_shutdown(muc);
    assert_int_equal(n_sent, 2);
    expect_reflection(0, "Tech", "three", "sid-3");
    assert_true(has_status(sent[1], "332"));
    assert_int_equal(gc.n_commits, 4); /* the join flushed too */
}

static void test_holding_and_empty_flush(void **state)
{
    (void)state;
    assert_int_equal(muc_flush(NULL), 0);
    assert_false(muc_holding(NULL));
    assert_false(muc_holding(muc));
    /* nothing held: commit is still asked (it may close a transaction
     * store() opened for a message that was then refused) */
    assert_int_equal(muc_flush(muc), 0);
    assert_int_equal(gc.n_commits, 1);
    gc.fail_commit = 1;
    assert_int_equal(muc_flush(muc), 0);
    assert_int_equal(gc.n_commits, 2);
    assert_int_equal(n_sent, 0);
    gc.fail_commit = 0;
    join(ALICE, "Alice");
    say(ALICE, "x");
    assert_true(muc_holding(muc));
    assert_int_equal(muc_flush(muc), 1);
    assert_false(muc_holding(muc));
}

static void test_free_with_queue(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    say(ALICE, "never sent");
    feed(COMPOSING);
    say(TECH, "nor this");
    assert_true(muc_holding(muc));
    gc.n_commits = 0;
    /* freeing sends nothing and commits nothing; the queue is freed
     * (checked by valgrind / ASan in CI) */
    clear_sent();
    xep0045_free(muc);
    muc = NULL;
    assert_int_equal(n_sent, 0);
    assert_int_equal(gc.n_commits, 0);
}

/* ---- XEP-0203 stamps ------------------------------------------------ */

/* ---- pipelined commits (policy submit/settle: the commit writer) ------ */

/* Batches handed over by submit and finished when the test says (or when
 * settle is asked to wait); batch `lost` fails. Origin-id "o-fly" stands
 * for a message whose first copy is tracked here: while its batch has not
 * settled the store asks the engine to settle first; once settled it is a
 * duplicate of that copy, or, if its batch was lost, stored anew. */
static struct {
    uint64_t seq;      /* the last batch handed over */
    int unsubmitted;   /* held since the last submit */
    uint64_t finished; /* the batches up to this one are done */
    uint64_t settled;  /* the batches reported to the engine */
    uint64_t lost;
    uint64_t fly_batch; /* the batch of "o-fly"'s first copy, 0: none */
    char fly_sid[MUC_ID_MAX];
    int n_settle_first;
} pl;

static int pl_store(struct app *a, const struct muc_msg *msg,
                    struct muc_stored *out, struct muc_err *err, void *ud)
{
    int fly = msg->origin_id && !strcmp(msg->origin_id, "o-fly");

    if (fly && pl.fly_batch && pl.settled < pl.fly_batch) {
        pl.n_settle_first++;
        out->settle_first = 1;
        return 0;
    }
    if (fly && pl.fly_batch && pl.fly_batch != pl.lost) {
        snprintf(out->id, sizeof out->id, "%s", pl.fly_sid);
        out->duplicate = 1;
        return 0;
    }
    int rc = held_store(a, msg, out, err, ud);
    if (rc == 0 && out->held) {
        pl.unsubmitted++;
        if (fly) {
            pl.fly_batch = pl.seq + 1;
            snprintf(pl.fly_sid, sizeof pl.fly_sid, "%s", out->id);
        }
    }
    return rc;
}

static uint64_t pl_submit(struct app *a, void *ud)
{
    (void)a;
    (void)ud;
    if (!pl.unsubmitted)
        return 0;
    pl.unsubmitted = 0;
    return ++pl.seq;
}

static int pl_settle(struct app *a, int wait, uint64_t *batch,
                     struct muc_err *err, void *ud)
{
    (void)a;
    (void)ud;
    if (wait)
        pl.finished = pl.seq;
    if (pl.settled >= pl.finished)
        return 0;
    *batch = ++pl.settled;
    if (pl.settled != pl.lost)
        return 1;
    muc_err_set(err, "cancel", "resource-constraint", "The disk is full.");
    return -1;
}

static int setup_pipelined(void **state)
{
    struct muc_policy p = policy;

    p.store = pl_store;
    p.commit = fake_commit;
    p.submit = pl_submit;
    p.settle = pl_settle;
    memset(&gc, 0, sizeof gc);
    memset(&pl, 0, sizeof pl);
    return setup_with(state, &p);
}

static void test_pipelined_reflect_after_settle(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    assert_int_equal(say(ALICE, "one"), 0);
    clear_sent();
    assert_int_equal(muc_pump(muc), 0); /* handed over, not durable yet */
    assert_int_equal(pl.seq, 1);
    assert_int_equal(n_sent, 0);
    assert_int_equal(feed(COMPOSING), 0); /* waits behind "one" */
    assert_int_equal(say(TECH, "two"), 0); /* forms while 1 syncs */
    clear_sent();
    assert_int_equal(muc_pump(muc), 0);
    assert_int_equal(pl.seq, 2);
    assert_int_equal(n_sent, 0);
    pl.finished = 1; /* batch 1 is durable: it and what follows it */
    assert_int_equal(muc_pump(muc), 1);
    assert_int_equal(n_sent, 4);
    expect_reflection(0, "Alice", "one", "sid-1");
    expect_reflection(1, "Alice", "one", "sid-1");
    expect_composing(2);
    expect_composing(3);
    assert_true(muc_holding(muc));
    clear_sent();
    pl.finished = 2;
    assert_int_equal(muc_pump(muc), 1);
    assert_int_equal(n_sent, 2);
    expect_reflection(0, "Tech", "two", "sid-2");
    assert_false(muc_holding(muc));
    /* muc_flush() waits for every batch in flight */
    say(ALICE, "three");
    muc_pump(muc);
    clear_sent();
    assert_int_equal(muc_flush(muc), 1);
    assert_int_equal(n_sent, 2);
    expect_reflection(0, "Alice", "three", "sid-3");
}

static void test_pipelined_lost_batch(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(TECH, "Tech");
    say(ALICE, "lost");
    say(TECH, "lost too");
    muc_pump(muc);
    say(ALICE, "kept");
    muc_pump(muc);
    pl.lost = 1;
    pl.finished = 2;
    clear_sent();
    assert_int_equal(muc_pump(muc), 1);
    /* each sender of batch 1 is told; batch 2 goes out after them */
    assert_int_equal(n_sent, 4);
    expect_held_error(0, ALICE, "cancel", "resource-constraint",
                      "The disk is full.");
    expect_held_error(1, TECH, "cancel", "resource-constraint",
                      "The disk is full.");
    expect_reflection(2, "Alice", "kept", "sid-3");
    expect_reflection(3, "Alice", "kept", "sid-3");
    assert_int_equal(count_body("lost"), 0);
    assert_int_equal(count_body("lost too"), 0);
}

#define FLY(id, body)                                                          \
    "<message from='" ALICE "' to='" ROOM "' type='groupchat' id='" id "'>"   \
    "<body>" body "</body><origin-id xmlns='" NS_SID "' id='o-fly'/>"         \
    "</message>"

static void test_pipelined_resend_in_flight(void **state)
{
    (void)state;
    join(ALICE, "Alice");
    join(ALICE2, "Alice");
    join(TECH, "Tech");
    assert_int_equal(feed(FLY("r-1", "Hi")), 0);
    muc_pump(muc); /* in flight */
    /* the resend: settled first, then a duplicate of the first copy, to
     * the sending resource only, after the first copy's reflections */
    assert_int_equal(feed(FLY("r-2", "Hi")), 4);
    assert_int_equal(pl.n_settle_first, 1);
    assert_int_equal(fake.n_stored, 1);
    for (int i = 0; i < 3; i++)
        expect_reflection(i, "Alice", "Hi", "sid-1");
    assert_string_equal(to_of(3), ALICE);
    assert_string_equal(xmpp_stanza_get_id(sent[3]), "r-2");
    assert_string_equal(sid_of(3), "sid-1");
    /* again, the first copy still forming, and its batch is lost: its
     * sender is refused, the resend is stored anew */
    pl.fly_batch = 0;
    pl.lost = pl.seq + 1;
    assert_int_equal(feed(FLY("r-3", "Again")), 0);
    assert_int_equal(feed(FLY("r-4", "Again")), 1);
    assert_int_equal(pl.n_settle_first, 2);
    expect_error(0, "message", "cancel", "resource-constraint");
    assert_string_equal(to_of(0), ALICE);
    assert_string_equal(xmpp_stanza_get_id(sent[0]), "r-3");
    assert_int_equal(fake.n_stored, 3);
    clear_sent();
    assert_int_equal(muc_flush(muc), 1);
    assert_int_equal(n_sent, 3);
    expect_reflection(0, "Alice", "Again", "sid-3");
    assert_string_equal(xmpp_stanza_get_id(sent[0]), "r-4");
}


static void test_delay_stamps(void **state)
{
    char buf[DELAY_STAMP_LEN];
    time_t t;

    (void)state;
    assert_int_equal(delay_format(T0, buf, sizeof buf), 0);
    assert_string_equal(buf, "2023-11-14T22:13:20Z");
    assert_int_equal(delay_format(T0, buf, 5), -1);
    assert_int_equal(delay_parse("2023-11-14T22:13:20Z", &t), 0);
    assert_int_equal(t, T0);
    assert_int_equal(delay_parse("2023-11-14T22:13:20.123Z", &t), 0);
    assert_int_equal(t, T0);
    assert_int_equal(delay_parse("2023-11-15T00:13:20+02:00", &t), 0);
    assert_int_equal(t, T0);
    assert_int_equal(delay_parse("2023-11-14T21:13:20-01:00", &t), 0);
    assert_int_equal(t, T0);
    assert_int_equal(delay_parse("2023-11-14 22:13:20Z", &t), -1);
    assert_int_equal(delay_parse("2023-11-14T22:13:20", &t), -1);
    assert_int_equal(delay_parse("2023-13-14T22:13:20Z", &t), -1);
    assert_int_equal(delay_parse("2023-11-14T22:13:20Zjunk", &t), -1);
    assert_int_equal(delay_parse(NULL, &t), -1);
}

/* ---- many rooms ------------------------------------------------------- */

/* Knows every room "r-<n>". */
static int many_room(struct app *a, const char *room, struct muc_room_info *out,
                     void *ud)
{
    (void)a;
    (void)ud;
    if (strncmp(room, "r-", 2) != 0)
        return 0;
    snprintf(out->name, sizeof out->name, "%s", room);
    return 1;
}

static int setup_many(void **state)
{
    struct muc_policy p = policy;

    p.room = many_room;
    p.event = NULL; /* the recorder holds a few events, not hundreds */
    return setup_with(state, &p);
}

static void join_room(int n, const char *from)
{
    char xml[512];

    snprintf(xml, sizeof xml,
             "<presence from='%s' to='r-%d@" DOMAIN "/Tom' id='j'>"
             "<x xmlns='" NS_MUC "'/></presence>",
             from, n);
    feed(xml);
}

/* Rooms are found by name through the hash index after it grew several
 * times, and after rooms in the middle were destroyed (swap-remove). */
static void test_many_rooms(void **state)
{
    char room[32];
    (void)state;
    for (int i = 0; i < 300; i++)
        join_room(i, "tech@localhost/desk");
    for (int i = 0; i < 300; i++) {
        snprintf(room, sizeof room, "r-%d", i);
        assert_int_equal(muc_occupants(muc, room, NULL, NULL), 1);
    }
    for (int i = 0; i < 300; i += 3) {
        snprintf(room, sizeof room, "r-%d", i);
        muc_destroy(muc, room, NULL);
        clear_sent();
    }
    for (int i = 0; i < 300; i++) {
        snprintf(room, sizeof room, "R-%d", i); /* names are case-folded */
        assert_int_equal(muc_occupants(muc, room, NULL, NULL), i % 3 ? 1 : 0);
    }
    join_room(0, "tech@localhost/desk"); /* a destroyed room comes back */
    assert_int_equal(muc_occupants(muc, "r-0", NULL, NULL), 1);
    assert_int_equal(muc_occupants(muc, "r-300", NULL, NULL), 0);
    /* a message reaches the room it was sent to, and only it */
    assert_int_equal(
        feed("<message from='tech@localhost/desk' to='r-298@" DOMAIN
             "' type='groupchat'><body>hi</body></message>"),
        1);
    assert_string_equal(xmpp_stanza_get_from(sent[0]), "r-298@" DOMAIN "/Tom");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_join_first_occupant, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_join_second_occupant, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_join_created_and_presence_payload,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_rooms, setup_many, teardown),
        cmocka_unit_test_setup_teardown(test_non_member_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_room, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nick_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_occupant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admin_and_owner_queries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_nick, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_resources_one_nick, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_echo_with_stanza_id, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_before_broadcast, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_duplicate_reflected_to_sender_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visitor_forbidden_after_set_role,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_occupant_message, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_oob_link_reflected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_chat_states_not_stored, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_private_messages_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_leave_with_110, setup, teardown),
        cmocka_unit_test_setup_teardown(test_presence_update_and_nick_change,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_resync_and_stray_presence, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ghost_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_room_disco, setup, teardown),
        cmocka_unit_test_setup_teardown(test_room_disco_mam, setup_mam,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_room_disco_stranger, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_self_ping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_unheard_and_relayed,
                                        setup_unheard, teardown),
        cmocka_unit_test_setup_teardown(test_notice_subject_invite, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_client_invites, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kick_destroy_shutdown, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reentrant_events, setup_reentrant,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_held_reflected_after_flush,
                                        setup_held, teardown),
        cmocka_unit_test_setup_teardown(test_held_commit_fails, setup_held,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_held_keeps_order, setup_held,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_presence_flushes_held, setup_held,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_non_groupchat_message_flushes,
                                        setup_held, teardown),
        cmocka_unit_test_setup_teardown(test_notice_after_held, setup_held,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_role_destroy_shutdown_flush,
                                        setup_held, teardown),
        cmocka_unit_test_setup_teardown(test_holding_and_empty_flush,
                                        setup_held, teardown),
        cmocka_unit_test_setup_teardown(test_free_with_queue, setup_held,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_reflect_after_settle,
                                        setup_pipelined, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_lost_batch,
                                        setup_pipelined, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_resend_in_flight,
                                        setup_pipelined, teardown),
        cmocka_unit_test(test_delay_stamps),
        cmocka_unit_test_setup_teardown(test_multicast_fan_out, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
