/* test_chat_policy.c - chatdesk's room policy (chat/policy.c) as the MUC
 * engine asks it, driven through dispatch_stanza() with a capturing sender
 * on a ":memory:" store: who may join a session room and with which role,
 * what a tech's first join does to a waiting session and who hears about
 * it, a contact's message in a session that has ended, and the presence
 * hint to a tech who has not approved chatdesk's subscription. Some run
 * again on a database file with the commit writer, as chatdesk runs:
 * reflections only once their batch is durable, a failed batch refusing
 * each of its senders, a resend recognised while its first copy is in
 * flight. */
#include "testkit.h"

#include "chat/chat.h"
#include "chat/notices.h"
#include "chat/places.h"
#include "chat/rooms.h"
#include "domain/canned.h"
#include "domain/directory.h"
#include "domain/domain.h"
#include "domain/sessions.h"
#include "domain/tickets.h"
#include "domain/writer.h"
#include "runtime/clock.h"
#include "runtime/store.h"
#include "testdb.h"
#include "xep0045_muc.h"

#include "runtime/db.h"
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define T0 1767261600 /* Thursday 2026-01-01T10:00:00Z */
#define ROOM "chat-1@helpdesk.localhost"
#define QUEUE "queue@helpdesk.localhost"
#define ALICE "alice@localhost/portal"
#define BOB "bob@localhost/portal"
#define MALLORY "mallory@localhost/x"
#define TESS "tess@localhost/dino"
#define TOM "tom@localhost/gajim"

/* ---- fixture ----------------------------------------------------------- */

static struct domain *dom(void)
{
    return tk.app.domain;
}

static void add_contact(const char *jid, int64_t company, const char *name)
{
    struct contact c = {0};
    c.company_id = company;
    snprintf(c.jid, sizeof c.jid, "%s", jid);
    snprintf(c.name, sizeof c.name, "%s", name);
    assert_int_equal(directory_contact_create(dom()->dir, &c, NULL), DIR_OK);
}

static char db_path[64]; /* "": ":memory:" */

/* Acme (alice, bob), techs Tess and Tom; session 1: alice's, waiting. */
static int setup(void **state)
{
    struct company co = {0, "Acme", TRI_INHERIT, TRI_INHERIT, TRI_INHERIT};
    struct tech tess = {0, "tess@localhost", "Tess", false};
    struct tech tom = {0, "tom@localhost", "Tom", false};
    int64_t acme, ticket, id;
    char err[256];
    (void)state;
    testkit_setup_domain_at(*db_path ? db_path : ":memory:");
    if (*db_path) {
        tk.app.writer = writer_open(testdb_target(db_path), err, sizeof err);
        assert_non_null(tk.app.writer);
    }
    assert_int_equal(chat_register(&tk.app), 0);
    assert_int_equal(directory_company_create(dom()->dir, &co, &acme), DIR_OK);
    add_contact("alice@localhost", acme, "Alice");
    add_contact("bob@localhost", acme, "Bob");
    assert_int_equal(directory_tech_create(dom()->dir, &tess, NULL), DIR_OK);
    assert_int_equal(directory_tech_create(dom()->dir, &tom, NULL), DIR_OK);
    clock_set(T0);
    struct contact c;
    assert_int_equal(directory_contact_find(dom()->dir, "alice@localhost", &c),
                     DIR_OK);
    struct ticket_draft d = {acme, c.id, "Printer on fire"};
    assert_int_equal(ticket_create(dom()->tickets, &d, &ticket), TICKET_OK);
    assert_int_equal(sessions_create_waiting(dom()->sessions, c.jid, acme,
                                             ticket, "Printer on fire", &id),
                     SESS_OK);
    assert_int_equal(id, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testkit_clear();
    chat_free(&tk.app);
    writer_close(tk.app.writer);
    tk.app.writer = NULL;
    testkit_teardown_domain();
    clock_reset();
    if (*db_path)
        testdb_remove(db_path);
    *db_path = '\0';
    return 0;
}

/* setup() on a fresh database file, with the commit writer. */
static int setup_writer(void **state)
{
    snprintf(db_path, sizeof db_path, "/tmp/chatdesk-policy-XXXXXX");
    int fd = mkstemp(db_path);
    assert_true(fd >= 0);
    close(fd);
    return setup(state);
}

/* ---- driving the rooms ------------------------------------------------- */

/* from joins room (a bare room JID) asking for nick. */
static void join(const char *from, const char *room, const char *nick)
{
    char xml[512];
    snprintf(xml, sizeof xml,
             "<presence from='%s' to='%s/%s'>"
             "<x xmlns='http://jabber.org/protocol/muc'/></presence>",
             from, room, nick);
    testkit_feed(xml);
}

/* The index of the first stanza sent to `to` that contains needle, or -1. */
static int sent_to(const char *to, const char *needle)
{
    for (int i = 0; i < tk.n_sent; i++) {
        const char *t = xmpp_stanza_get_to(tk.sent[i]);
        if (t && !strcmp(t, to) && testkit_contains(i, needle))
            return i;
    }
    return -1;
}

static enum sess_state state_of(int64_t id)
{
    struct sess_info s;
    assert_int_equal(sessions_get(dom()->sessions, id, &s), SESS_OK);
    enum sess_state st = s.state;
    sess_info_clear(&s);
    return st;
}

/* ---- tests ------------------------------------------------------------- */

/* The room is members-only: its contact and the techs. A stranger and
 * another contact of the same company are refused, and nobody sees them. */
static void test_join_refused_for_non_members(void **state)
{
    (void)state;
    join(MALLORY, ROOM, "Mallory");
    int i = sent_to(MALLORY, "type=\"error\"");
    assert_true(i >= 0);
    assert_string_equal(testkit_error(i), "registration-required");
    join(BOB, ROOM, "Bob");
    i = sent_to(BOB, "type=\"error\"");
    assert_true(i >= 0);
    assert_string_equal(testkit_error(i), "registration-required");
    assert_int_equal(state_of(1), SESS_WAITING);
}

/* The contact joins its waiting session as a participant (a member), a
 * tech as a moderator (an admin); the nick is the directory's name. */
static void test_join_roles(void **state)
{
    (void)state;
    join(ALICE, ROOM, "whatever");
    int i = sent_to(ALICE, "code=\"110\"");
    assert_true(i >= 0);
    assert_string_equal(xmpp_stanza_get_from(tk.sent[i]), ROOM "/Alice");
    assert_true(testkit_contains(i, "role=\"participant\""));
    assert_true(testkit_contains(i, "affiliation=\"member\""));
    join(TESS, ROOM, "t");
    i = sent_to(TESS, "code=\"110\"");
    assert_true(i >= 0);
    assert_string_equal(xmpp_stanza_get_from(tk.sent[i]), ROOM "/Tess");
    assert_true(testkit_contains(i, "role=\"moderator\""));
    assert_true(testkit_contains(i, "affiliation=\"admin\""));
}

/* A display name with bidi overrides and controls gives a clean nick and
 * clean notices; one with nothing usable falls back to the local part. */
static void test_nicks_from_hostile_names(void **state)
{
    struct contact c;
    (void)state;
    assert_int_equal(directory_contact_find(dom()->dir, "alice@localhost", &c),
                     DIR_OK);
    snprintf(c.name, sizeof c.name,
             "\xe2\x80\xae"
             "Al\tice\xe2\x81\xa6 "
             " L\xe2\x80\x8fiddell");
    assert_int_equal(directory_contact_update(dom()->dir, &c), DIR_OK);
    join(TESS, QUEUE, "Tess");
    join(ALICE, ROOM, "whatever");
    int i = sent_to(ALICE, "code=\"110\"");
    assert_true(i >= 0);
    assert_string_equal(xmpp_stanza_get_from(tk.sent[i]),
                        ROOM "/Al ice Liddell");
    join(TESS, ROOM, "Tess");
    assert_true(
        sent_to(TESS, "Tess took the chat with Al ice Liddell (Acme)") >= 0);
}

/* A display name with nothing usable in it: the nick is the local part. */
static void test_nick_fallback(void **state)
{
    struct contact c;
    (void)state;
    assert_int_equal(directory_contact_find(dom()->dir, "alice@localhost", &c),
                     DIR_OK);
    snprintf(c.name, sizeof c.name, " \xe2\x80\xae\t\xe2\x80\x8b ");
    assert_int_equal(directory_contact_update(dom()->dir, &c), DIR_OK);
    join(ALICE, ROOM, "whatever");
    int i = sent_to(ALICE, "code=\"110\"");
    assert_true(i >= 0);
    assert_string_equal(xmpp_stanza_get_from(tk.sent[i]), ROOM "/alice");
}

/* A member whose directory name is the notice occupant's (any case) is
 * not locked out: the nick gets the local part, like a taken one. */
static void test_reserved_name_gets_suffix(void **state)
{
    struct tech hd = {0, "hd@localhost", "HelpDesk", false};
    (void)state;
    assert_int_equal(directory_tech_create(dom()->dir, &hd, NULL), DIR_OK);
    join("hd@localhost/x", ROOM, "HelpDesk");
    int i = sent_to("hd@localhost/x", "code=\"110\"");
    assert_true(i >= 0);
    assert_string_equal(xmpp_stanza_get_from(tk.sent[i]),
                        ROOM "/HelpDesk (hd)");
}

/* A tech's first join takes the waiting session: it becomes active, the
 * queue room hears who took it, and the other Online techs are told. */
static void test_first_tech_join_takes_session(void **state)
{
    (void)state;
    join(TESS, QUEUE, "Tess");
    join(TOM, QUEUE, "Tom");
    join(ALICE, ROOM, "Alice");
    assert_int_equal(state_of(1), SESS_WAITING);
    join(TESS, ROOM, "Tess");
    assert_int_equal(state_of(1), SESS_ACTIVE);
    const char *line = "Tess took the chat with Alice (Acme) (" ROOM ").";
    int i = sent_to(TOM, line);
    assert_true(i >= 0);
    assert_string_equal(xmpp_stanza_get_from(tk.sent[i]), QUEUE "/Helpdesk");
    assert_string_equal(xmpp_stanza_get_type(tk.sent[i]), "groupchat");
    i = sent_to("tom@localhost", line);
    assert_true(i >= 0);
    assert_string_equal(xmpp_stanza_get_type(tk.sent[i]), "chat");
    assert_int_equal(sent_to("tess@localhost", line), -1); /* the taker */
}

/* Once the session has ended, the contact's message is refused (an error
 * back, no reflection) and nothing is stored. */
static void test_ended_session_refuses_contact_message(void **state)
{
    struct sess_result r;
    struct sess_message_list l;
    (void)state;
    join(ALICE, ROOM, "Alice");
    join(TESS, ROOM, "Tess");
    assert_int_equal(
        sessions_end_by_tech(dom()->sessions, 1, "tess@localhost", NULL, &r),
        SESS_OK);
    testkit_feed("<message from='" ALICE "' to='" ROOM "' type='groupchat' "
                 "id='m1'><body>still there?</body></message>");
    int i = sent_to(ALICE, "id=\"m1\"");
    assert_true(i >= 0);
    assert_string_equal(xmpp_stanza_get_type(tk.sent[i]), "error");
    testkit_feed("<iq type='get' id='p1' from='" TESS "' "
                 "to='helpdesk.localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert_int_equal(sent_to(TESS, "still there?"), -1);
    assert_int_equal(sessions_history(dom()->sessions, 1, 0, &l), SESS_OK);
    for (size_t k = 0; k < l.n; k++)
        assert_string_not_equal(l.items[k].body, "still there?");
    sess_message_list_free(&l);
}

/* SPEC §9: the contact hears its place in the queue when it joins and
 * whenever a session ahead leaves the queue; the first tech's join tells
 * the room who will help. */
static void test_queue_position_and_taken_notices(void **state)
{
    struct contact c;
    struct sess_result r;
    int64_t ticket, id2;
    (void)state;
    assert_int_equal(directory_contact_find(dom()->dir, "bob@localhost", &c),
                     DIR_OK);
    clock_set(T0 + 10);
    assert_int_equal(sessions_start_chat(dom()->sessions, c.jid, c.id,
                                         "Mouse broken", &ticket, &id2),
                     SESS_OK);
    join(ALICE, ROOM, "Alice");
    int i = sent_to(ALICE, "You are number 1 in line.");
    assert_true(i >= 0);
    assert_string_equal(xmpp_stanza_get_type(tk.sent[i]), "groupchat");
    join(BOB, "chat-2@helpdesk.localhost", "Bob");
    assert_true(sent_to(BOB, "You are number 2 in line.") >= 0);
    /* alice's session is taken: bob moves up, alice hears who helps */
    join(TESS, ROOM, "Tess");
    assert_int_equal(sent_to(BOB, "in line"), -1); /* told once a tick */
    chat_places_tick(&tk.app);
    assert_true(sent_to(BOB, "You are number 1 in line.") >= 0);
    assert_true(sent_to(ALICE, "Tess has joined and will help you.") >= 0);
    assert_int_equal(sent_to(ALICE, "in line"), -1);
    /* a session behind nobody: no notice to anyone else */
    assert_int_equal(
        sessions_end_by_tech(dom()->sessions, id2, "tess@localhost", NULL, &r),
        SESS_OK);
    testkit_clear();
    chat_after_transition(&tk.app, &r);
    chat_places_tick(&tk.app);
    assert_int_equal(sent_to(ALICE, "in line"), -1);
}

/* chat/places.h's rule: a place of 10 or less whenever it changes, further
 * back when it moved by a tenth of what the contact was told last. */
static void test_place_worth_telling(void **state)
{
    (void)state;
    assert_false(chat_places_worth(0, 5)); /* never told here: remembered */
    assert_false(chat_places_worth(5, 5));
    assert_true(chat_places_worth(5, 4));
    assert_true(chat_places_worth(5, 6)); /* back in line: a transfer */
    assert_true(chat_places_worth(11, 10));
    assert_false(chat_places_worth(237, 214));
    assert_true(chat_places_worth(237, 213));
    assert_false(chat_places_worth(100, 91));
    assert_true(chat_places_worth(100, 90));
    assert_false(chat_places_worth(200, 219));
    assert_true(chat_places_worth(200, 220));
}

#define LINE 150 /* contacts waiting behind alice (session 1) */

/* The place told to `to` in the stanzas sent since the last clear, or 0. */
static int place_told(const char *to)
{
    int i = sent_to(to, "in line"), n = 0;
    if (i < 0)
        return 0;
    char *text = NULL;
    xmpp_stanza_t *b = xmpp_stanza_get_child_by_name(tk.sent[i], "body");
    if (b)
        text = xmpp_stanza_get_text(b);
    assert_non_null(text);
    assert_int_equal(sscanf(text, "You are number %d in line.", &n), 1);
    xmpp_free(xmpp_stanza_get_context(tk.sent[i]), text);
    return n;
}

/* LINE contacts join their rooms behind alice; each hears its place. */
static void line_up(int64_t company)
{
    char jid[64], full[80], room[64], desc[32];
    int64_t ticket, id;
    for (int k = 0; k < LINE; k++) {
        struct contact c = {0};
        c.company_id = company;
        snprintf(c.jid, sizeof c.jid, "c%d@localhost", k);
        snprintf(c.name, sizeof c.name, "Contact %d", k);
        assert_int_equal(directory_contact_create(dom()->dir, &c, &c.id),
                         DIR_OK);
        clock_set(T0 + 10 + k);
        snprintf(desc, sizeof desc, "Problem %d", k);
        assert_int_equal(sessions_start_chat(dom()->sessions, c.jid, c.id,
                                             desc, &ticket, &id),
                         SESS_OK);
        snprintf(jid, sizeof jid, "c%d", k);
        snprintf(full, sizeof full, "c%d@localhost/portal", k);
        snprintf(room, sizeof room, "chat-%" PRId64 "@helpdesk.localhost",
                 id);
        join(full, room, jid);
        assert_int_equal(place_told(full), k + 2);
        testkit_clear();
    }
}

/* SPEC §9 in a long queue (chat/places.h): a departure is told once a
 * tick, to the first ten and to whoever moved by a tenth since it was told
 * last; the last in line hears O(log N) places on its way to number 1
 * instead of one notice per departure. */
static void test_long_queue_told_sparingly(void **state)
{
    struct contact alice;
    struct sess_result r;
    static const int heard_by_last[] = {
        135, 121, 108, 97, 87, 78, 70, 63, 56, 50, 45, 40, 36, 32, 28, 25,
        22,  19,  17,  15, 13, 11, 10, 9,  8,  7,  6,  5,  4,  3,  2,  1};
    const int n_heard = sizeof heard_by_last / sizeof *heard_by_last;
    int heard = 0, total = 0;
    (void)state;
    assert_int_equal(
        directory_contact_find(dom()->dir, "alice@localhost", &alice),
        DIR_OK);
    line_up(alice.company_id);
    /* alice leaves the queue: nothing until the tick, then the first ten */
    assert_int_equal(sessions_contact_gone(dom()->sessions, 1, &r), SESS_OK);
    chat_after_transition(&tk.app, &r);
    assert_int_equal(sent_to("c0@localhost/portal", "in line"), -1);
    chat_places_tick(&tk.app);
    assert_int_equal(place_told("c0@localhost/portal"), 1);
    assert_int_equal(place_told("c9@localhost/portal"), 10);
    assert_int_equal(place_told("c10@localhost/portal"), 0);
    for (int k = 0; k < tk.n_sent; k++)
        total += testkit_contains(k, "in line");
    assert_int_equal(total, 10);
    /* the rest leave one a tick, from the front: the last one hears */
    for (int64_t id = 2; id <= LINE; id++) {
        testkit_clear();
        assert_int_equal(sessions_contact_gone(dom()->sessions, id, &r),
                         SESS_OK);
        chat_after_transition(&tk.app, &r);
        chat_places_tick(&tk.app);
        for (int k = 0; k < tk.n_sent; k++)
            total += testkit_contains(k, "in line");
        int told = place_told("c149@localhost/portal");
        if (told) {
            assert_true(heard < n_heard);
            assert_int_equal(told, heard_by_last[heard]);
            heard++;
        }
    }
    assert_int_equal(heard, n_heard);
    /* nobody hears more than the last in line; one notice a departure for
     * each contact behind it would be 11,175 */
    assert_true(total <= LINE * n_heard);
    print_message("a queue of %d drained: %d place notices\n", LINE, total);
}

static int count_state(enum sess_state st)
{
    struct sess_stats stats;
    assert_int_equal(sessions_stats(dom()->sessions, &stats), SESS_OK);
    return (int)stats.by_state[st];
}

/* A contact gone Offline with many waiting sessions (after a restart: they
 * waited while chatdesk was away): they are abandoned CHAT_ABANDON_BATCH a
 * loop pass, not all inside the presence stanza; a contact back Online
 * before its turn keeps its session; a stop leaves the rest for the next
 * start. */
static void test_many_abandoned_a_batch_a_pass(void **state)
{
    struct contact bob;
    int64_t ticket, id;
    (void)state;
    assert_int_equal(directory_contact_find(dom()->dir, "bob@localhost", &bob),
                     DIR_OK);
    for (int k = 0; k < 300; k++)
        assert_int_equal(sessions_start_chat(dom()->sessions, bob.jid, bob.id,
                                             "Mouse broken", &ticket, &id),
                         SESS_OK);
    chat_notify_contact_offline(&tk.app, "bob@localhost");
    assert_int_equal(count_state(SESS_WAITING), 301);
    chat_pass(&tk.app);
    assert_int_equal(count_state(SESS_ABANDONED), CHAT_ABANDON_BATCH);
    chat_pass(&tk.app);
    assert_int_equal(count_state(SESS_ABANDONED), 300);
    assert_int_equal(count_state(SESS_WAITING), 1); /* alice's */
    /* back Online before its turn: the session stays */
    chat_notify_contact_offline(&tk.app, "alice@localhost");
    testkit_feed("<presence from='" ALICE "' to='helpdesk.localhost'/>");
    chat_pass(&tk.app);
    assert_int_equal(count_state(SESS_WAITING), 1);
    /* stopping: what is queued is left to the next start */
    testkit_feed("<presence type='unavailable' from='" ALICE
                 "' to='helpdesk.localhost'/>");
    chat_stopping(&tk.app);
    chat_pass(&tk.app);
    assert_int_equal(count_state(SESS_WAITING), 1);
}

/* Canned replies (SPEC §9): a tech's "!name" is replaced before it is
 * stored and reflected; an unknown name is an error to that tech only;
 * a contact's "!name" is an ordinary message. */
static void test_canned_reply(void **state)
{
    struct sess_message_list l;
    (void)state;
    assert_int_equal(
        canned_add(dom()->canned, "hi", "Hello {contact}, {tech} here."),
        CANNED_OK);
    join(ALICE, ROOM, "Alice");
    join(TESS, ROOM, "Tess");
    testkit_feed("<message from='" TESS "' to='" ROOM "' type='groupchat' "
                 "id='c1'><body>!HI</body></message>");
    muc_flush(tk.app.chat->muc); /* the group commit */
    int i = sent_to(ALICE, "Hello Alice, Tess here.");
    assert_true(i >= 0);
    assert_int_equal(testkit_contains(i, "!HI"), 0);
    assert_true(sent_to(TESS, "Hello Alice, Tess here.") >= 0);
    testkit_feed("<message from='" TESS "' to='" ROOM "' type='groupchat' "
                 "id='c2'><body>!nope</body></message>");
    muc_flush(tk.app.chat->muc);
    assert_int_equal(tk.n_sent, 1);
    assert_string_equal(xmpp_stanza_get_to(tk.sent[0]), TESS);
    assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "error");
    assert_string_equal(testkit_error(0), "item-not-found");
    assert_true(testkit_contains(0, "!nope"));
    testkit_feed("<message from='" ALICE "' to='" ROOM "' type='groupchat' "
                 "id='c3'><body>!hi</body></message>");
    muc_flush(tk.app.chat->muc);
    assert_true(sent_to(TESS, ">!hi<") >= 0);
    assert_int_equal(sessions_history(dom()->sessions, 1, 0, &l), SESS_OK);
    int expanded = 0, raw = 0;
    for (size_t k = 0; k < l.n; k++) {
        expanded += !strcmp(l.items[k].body, "Hello Alice, Tess here.");
        raw +=
            !strcmp(l.items[k].body, "!nope") + !strcmp(l.items[k].body, "!HI");
    }
    sess_message_list_free(&l);
    assert_int_equal(expanded, 1);
    assert_int_equal(raw, 0);
}

/* A tech whose server says "unsubscribed" (he has not approved chatdesk's
 * request) is told once how chatdesk can see him; a contact is not. */
/* A tech who approved chatdesk's subscription is never told how to. */
static void test_subscribed_tech_gets_no_hint(void **state)
{
    (void)state;
    testkit_feed("<presence type='subscribed' from='tess@localhost' "
                 "to='helpdesk.localhost'/>");
    testkit_clear();
    testkit_feed("<presence type='unsubscribed' from='tess@localhost' "
                 "to='helpdesk.localhost'/>");
    assert_int_equal(sent_to("tess@localhost", QUEUE), -1);
}

static void test_unsubscribed_tech_gets_one_hint(void **state)
{
    (void)state;
    const char *unsub = "<presence type='unsubscribed' from='tess@localhost' "
                        "to='helpdesk.localhost'/>";
    testkit_feed(unsub);
    int i = sent_to("tess@localhost", QUEUE);
    assert_true(i >= 0);
    assert_string_equal(xmpp_stanza_get_type(tk.sent[i]), "chat");
    assert_true(testkit_contains(i, "approve the presence subscription"));
    testkit_clear();
    testkit_feed(unsub);
    assert_int_equal(sent_to("tess@localhost", QUEUE), -1);
    testkit_feed("<presence type='unsubscribed' from='alice@localhost' "
                 "to='helpdesk.localhost'/>");
    assert_int_equal(sent_to("alice@localhost", QUEUE), -1);
}

/* The sent stanza with this body, or -1. */
static int sent_body(const char *body)
{
    for (int i = 0; i < tk.n_sent; i++) {
        char *b = stanza_child_text(tk.sent[i], "body", NULL);
        int same = b && !strcmp(b, body);
        if (b)
            xmpp_free(tk.app.ctx, b);
        if (same)
            return i;
    }
    return -1;
}

/* Several processes (chat/relay.h): a notice nobody here hears is relayed
 * to the room's JID from the domain; a relay from the domain reaches the
 * occupants here; one from anyone else posts nothing. With one connection
 * nothing is relayed. */
static void test_relayed_notices(void **state)
{
    (void)state;
    chat_queue_post(&tk.app, "Nobody here");
    assert_int_equal(tk.n_sent, 0); /* connections = 1: no relay */
    testkit_cfg.connections = 0;    /* auto */
    chat_queue_post(&tk.app, "Nobody here");
    assert_int_equal(tk.n_sent, 1);
    assert_string_equal(xmpp_stanza_get_to(tk.sent[0]),
                        "queue@helpdesk.localhost");
    assert_string_equal(xmpp_stanza_get_from(tk.sent[0]),
                        "helpdesk.localhost");
    assert_true(testkit_contains(0, "urn:chatdesk:relay"));

    join("alice@localhost/pc", ROOM, "Alice");
    testkit_feed("<message type='headline' from='helpdesk.localhost' "
                 "to='chat-1@helpdesk.localhost'><relay xmlns='"
                 "urn:chatdesk:relay' id='n-7'><body>From afar</body></relay>"
                 "</message>");
    int i = sent_body("From afar");
    assert_true(i >= 0);
    assert_string_equal(xmpp_stanza_get_to(tk.sent[i]), "alice@localhost/pc");
    assert_string_equal(xmpp_stanza_get_from(tk.sent[i]),
                        "chat-1@helpdesk.localhost/Helpdesk");
    assert_true(testkit_contains(i, "id=\"n-7\""));
    testkit_feed("<message type='headline' from='alice@localhost/pc' "
                 "to='chat-1@helpdesk.localhost'><relay xmlns='"
                 "urn:chatdesk:relay' id='n-8'><body>Forged</body></relay>"
                 "</message>");
    assert_int_equal(sent_body("Forged"), -1);
    testkit_cfg.connections = 1;
}

/* Several processes (chat/relay.h): a session ended here whose contact is
 * not in the room here relays what='voice' to the room's JID; the process
 * serving the room applies what the database says: a relay for a live
 * session changes nothing, one for an ended session takes the contact's
 * voice, one from anyone else is not a relay. A waiting contact's place in
 * line goes the same way (what='position'). */
static void test_relayed_room_state(void **state)
{
    struct sess_result r;
    (void)state;
    testkit_cfg.connections = 0; /* auto */
    static const char voice[] =
        "<message type='headline' from='%s' to='" ROOM "'><relay xmlns='"
        "urn:chatdesk:relay' what='%s'/></message>";
    char xml[300];
    join(ALICE, ROOM, "Alice");
    testkit_clear();
    snprintf(xml, sizeof xml, voice, "helpdesk.localhost", "position");
    testkit_feed(xml);
    assert_true(sent_to(ALICE, "You are number 1 in line.") >= 0);
    testkit_clear();
    snprintf(xml, sizeof xml, voice, "helpdesk.localhost", "voice");
    testkit_feed(xml); /* waiting: live, nothing to take */
    assert_int_equal(sent_to(ALICE, "visitor"), -1);
    join(TESS, ROOM, "Tess");
    /* ended by another process: the database says so, the relay comes */
    assert_int_equal(
        sessions_end_by_tech(dom()->sessions, 1, "tess@localhost", NULL, &r),
        SESS_OK);
    snprintf(xml, sizeof xml, voice, "alice@localhost/portal", "voice");
    testkit_feed(xml);
    assert_int_equal(sent_to(ALICE, "visitor"), -1);
    snprintf(xml, sizeof xml, voice, "helpdesk.localhost", "voice");
    testkit_feed(xml);
    assert_true(sent_to(ALICE, "role=\"visitor\"") >= 0);
    testkit_cfg.connections = 1;
}

/* The sending half: nobody in the room here, so the change is relayed. */
static void test_room_state_relayed_when_nobody_here(void **state)
{
    struct sess_result r;
    (void)state;
    testkit_cfg.connections = 0; /* auto */
    join(TESS, ROOM, "Tess");
    assert_int_equal(
        sessions_end_by_tech(dom()->sessions, 1, "tess@localhost", NULL, &r),
        SESS_OK);
    testkit_clear();
    chat_after_transition(&tk.app, &r);
    int found = -1;
    for (int i = 0; i < tk.n_sent; i++)
        if (testkit_contains(i, "what=\"voice\"") &&
            !strcmp(xmpp_stanza_get_to(tk.sent[i]), ROOM) &&
            !strcmp(xmpp_stanza_get_from(tk.sent[i]), "helpdesk.localhost"))
            found = i;
    assert_true(found >= 0);
    testkit_cfg.connections = 1; /* one process: nothing relayed */
    testkit_clear();
    chat_after_transition(&tk.app, &r);
    for (int i = 0; i < tk.n_sent; i++)
        assert_false(testkit_contains(i, "urn:chatdesk:relay"));
}

/* ---- with the commit writer ------------------------------------------- */

static void say(const char *from, const char *id, const char *body,
                const char *origin)
{
    char xml[512];
    snprintf(xml, sizeof xml,
             "<message from='%s' to='" ROOM "' type='groupchat' id='%s'>"
             "<body>%s</body>%s%s%s</message>",
             from, id, body,
             origin ? "<origin-id xmlns='urn:xmpp:sid:0' id='" : "",
             origin ? origin : "", origin ? "'/>" : "");
    testkit_feed(xml);
}

/* How many stored messages of session 1 have body. */
static int stored(const char *body)
{
    struct sess_message_list l;
    int n = 0;
    assert_int_equal(sessions_history(dom()->sessions, 1, 0, &l), SESS_OK);
    for (size_t k = 0; k < l.n; k++)
        n += !strcmp(l.items[k].body, body);
    sess_message_list_free(&l);
    return n;
}

/* SPEC §3 with the writer: nothing is shown before its batch is durable;
 * a batch that cannot be stored refuses each of its senders and shows
 * nothing; the next batch is fine. */
static void test_writer_stored_before_broadcast(void **state)
{
    (void)state;
    assert_non_null(tk.app.writer);
    join(ALICE, ROOM, "Alice");
    join(TESS, ROOM, "Tess");
    say(ALICE, "w1", "first", NULL);
    assert_int_equal(tk.n_sent, 0); /* held, not stored yet */
    assert_int_equal(stored("first"), 0);
    muc_flush(tk.app.chat->muc); /* hands it over, waits for the disk */
    assert_int_equal(stored("first"), 1);
    assert_true(sent_to(TESS, ">first<") >= 0);
    assert_true(sent_to(ALICE, ">first<") >= 0);
    /* the disk refuses the batch (a trigger stands in for a full disk) */
    assert_int_equal(
        db_exec(store_db(tk.app.store),
                testdb_is_pg()
                    ? "ALTER TABLE messages ADD CONSTRAINT \"disk on fire\" "
                      "CHECK (body <> 'doomed') NOT VALID"
                    : "CREATE TRIGGER doom BEFORE INSERT ON messages WHEN "
                      "NEW.body = 'doomed' BEGIN SELECT RAISE(ABORT, 'disk "
                      "on fire'); END",
                NULL),
        DB_OK);
    say(ALICE, "w2", "fine alone", NULL);
    say(TESS, "w3", "doomed", NULL);
    testkit_clear();
    muc_pump(tk.app.chat->muc);
    muc_flush(tk.app.chat->muc);
    assert_int_equal(tk.n_sent, 2); /* one error to each sender, no more */
    int a = sent_to(ALICE, "id=\"w2\""), t = sent_to(TESS, "id=\"w3\"");
    assert_true(a >= 0 && t >= 0);
    assert_string_equal(testkit_error(a), "internal-server-error");
    assert_string_equal(testkit_error(t), "internal-server-error");
    assert_int_equal(sent_to(TESS, "fine alone"), -1);
    assert_int_equal(stored("fine alone") + stored("doomed"), 0);
    assert_int_equal(db_exec(store_db(tk.app.store),
                             testdb_is_pg() ? "ALTER TABLE messages DROP "
                                              "CONSTRAINT \"disk on fire\""
                                            : "DROP TRIGGER doom",
                             NULL),
                     DB_OK);
    say(ALICE, "w4", "back", NULL);
    muc_flush(tk.app.chat->muc);
    assert_true(sent_to(TESS, ">back<") >= 0);
    assert_int_equal(stored("back"), 1);
}

/* Tess's reflections of "twice" among the stanzas sent; the stanza-id of
 * the reflection of r3 to Alice into id when it is there. */
static int tess_twice(char *id, size_t len)
{
    int n = 0;
    for (int i = 0; i < tk.n_sent; i++)
        n += !strcmp(xmpp_stanza_get_to(tk.sent[i]), TESS) &&
             testkit_contains(i, ">twice<");
    int first = sent_to(ALICE, "id=\"r3\"");
    xmpp_stanza_t *sid =
        first >= 0 ? xmpp_stanza_get_child_by_name(tk.sent[first], "stanza-id")
                   : NULL;
    if (sid)
        snprintf(id, len, "%s", xmpp_stanza_get_attribute(sid, "id"));
    return n;
}

/* A resend with the same origin-id while the first copy is forming or in
 * flight: stored once, shown to the room once, the resend answered with
 * the first copy's stanza-id. */
static void test_writer_resend_in_flight(void **state)
{
    (void)state;
    join(ALICE, ROOM, "Alice");
    join(TESS, ROOM, "Tess");
    say(ALICE, "r1", "once", "o-1");
    say(ALICE, "r2", "once", "o-1"); /* the first copy is still forming */
    int n = tk.n_sent; /* the resend settled the first copy first */
    assert_true(n >= 3);
    assert_int_equal(stored("once"), 1);
    say(ALICE, "r3", "twice", "o-2");
    muc_pump(tk.app.chat->muc); /* in flight (or, on a busy machine, the
                                 * writer was quick: settled already) */
    char first_id[64] = "";
    int tess = tess_twice(first_id, sizeof first_id);
    say(ALICE, "r4", "twice", "o-2"); /* clears what was sent */
    muc_flush(tk.app.chat->muc);
    assert_int_equal(stored("twice"), 1);
    tess += tess_twice(first_id, sizeof first_id);
    assert_int_equal(tess, 1);
    int again = sent_to(ALICE, "id=\"r4\"");
    assert_true(again >= 0 && *first_id);
    xmpp_stanza_t *s2 = xmpp_stanza_get_child_by_name(tk.sent[again],
                                                      "stanza-id");
    assert_non_null(s2);
    assert_string_equal(first_id, xmpp_stanza_get_attribute(s2, "id"));
}

/* Any stanza that is not a groupchat message waits for every batch in
 * flight first (dispatch's barrier, muc_flush()): what it reads (history,
 * MAM, a transcript) has every message that was acknowledged, and its
 * answer leaves after their reflections. */
static void test_writer_barrier(void **state)
{
    (void)state;
    join(ALICE, ROOM, "Alice");
    join(TESS, ROOM, "Tess");
    say(ALICE, "b1", "before the query", NULL);
    muc_pump(tk.app.chat->muc); /* handed over, maybe not durable yet */
    testkit_feed("<iq type='get' id='d1' from='" TESS "' "
                 "to='helpdesk.localhost'><query "
                 "xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    assert_int_equal(stored("before the query"), 1);
    int r = sent_to(TESS, ">before the query<"), q = sent_to(TESS, "id=\"d1\"");
    assert_true(r >= 0 && q > r);
    assert_false(muc_holding(tk.app.chat->muc));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_relayed_notices, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_relayed_room_state, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_room_state_relayed_when_nobody_here, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserved_name_gets_suffix, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_subscribed_tech_gets_no_hint,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsubscribed_tech_gets_one_hint,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_join_refused_for_non_members,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_join_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nicks_from_hostile_names, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nick_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_tech_join_takes_session,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_ended_session_refuses_contact_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_position_and_taken_notices,
                                        setup, teardown),
        cmocka_unit_test(test_place_worth_telling),
        cmocka_unit_test_setup_teardown(test_long_queue_told_sparingly, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_many_abandoned_a_batch_a_pass,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_canned_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canned_reply, setup_writer,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_ended_session_refuses_contact_message, setup_writer,
            teardown),
        cmocka_unit_test_setup_teardown(test_writer_stored_before_broadcast,
                                        setup_writer, teardown),
        cmocka_unit_test_setup_teardown(test_writer_resend_in_flight,
                                        setup_writer, teardown),
        cmocka_unit_test_setup_teardown(test_writer_barrier, setup_writer,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
