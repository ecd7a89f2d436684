/* test_mam.c - XEP-0313 on the session rooms, driven through
 * dispatch_stanza() with a capturing sender: the result and fin stanzas,
 * RSM paging forwards, backwards (<before/> for the last page), by index
 * and count-only, the with/start/end filters, access (techs, the room's
 * contact, nobody else), addressing (component, occupant, unknown room),
 * bad requests, the query form, the metadata, and the room disco feature. */
#include "testkit.h"

#include "chat/archive.h"
#include "chat/chat.h"
#include "runtime/clock.h"
#include "runtime/config.h"
#include "domain/directory.h"
#include "domain/domain.h"
#include "domain/sessions.h"
#include "runtime/store.h"
#include "domain/tickets.h"
#include "xep0004_forms.h"
#include "xep0030_disco.h"
#include "xep0050_adhoc.h"
#include "xep0313_mam.h"

#include <stdbool.h>
#include <stdlib.h>

#define T0 1767225600 /* 2026-01-01T00:00:00Z */
#define ROOM "chat-1@helpdesk.localhost"
#define TESS "tess@localhost/dino"
#define ALICE "alice@localhost/portal"
#define BOB "bob@localhost/portal"
#define NS_FORM "jabber:x:data"

static struct store *st;

/* ---- fixture ------------------------------------------------------------- */

static struct domain *dom(void)
{
    return tk.app.domain;
}

/* Session 1: alice (Acme) and Tess; messages m1..m12 a minute apart from
 * T0 + 60 (odd from alice, even from Tess), then Tess ends it (a notice at
 * T0 + 3600). Session 2: bob, waiting. */
static void sessions_fixture(void)
{
    struct sess_result r;
    struct sess_stored out;
    struct contact c;
    int64_t ticket, id;
    char body[16];
    assert_int_equal(directory_contact_find(dom()->dir, "alice@localhost", &c),
                     DIR_OK);
    struct ticket_draft d = {0, c.id, "Printer on fire"};
    assert_int_equal(ticket_create(dom()->tickets, &d, &ticket), TICKET_OK);
    assert_int_equal(sessions_create_waiting(dom()->sessions, c.jid, 0, ticket,
                                             "Printer on fire", &id),
                     SESS_OK);
    assert_int_equal(id, 1);
    assert_int_equal(
        sessions_tech_join(dom()->sessions, id, "tess@localhost", &r), SESS_OK);
    for (int i = 1; i <= 12; i++) {
        clock_set(T0 + 60 * i);
        snprintf(body, sizeof body, "m%d", i);
        assert_int_equal(sessions_add_message(dom()->sessions, id,
                                              i % 2 ? c.jid : "tess@localhost",
                                              NULL, body, SESS_MSG_CHAT, &out),
                         SESS_OK);
    }
    clock_set(T0 + 3600);
    assert_int_equal(
        sessions_end_by_tech(dom()->sessions, id, "tess@localhost", NULL, &r),
        SESS_OK);
    assert_int_equal(directory_contact_find(dom()->dir, "bob@localhost", &c),
                     DIR_OK);
    d.contact_id = c.id;
    assert_int_equal(ticket_create(dom()->tickets, &d, &ticket), TICKET_OK);
    assert_int_equal(
        sessions_create_waiting(dom()->sessions, c.jid, 0, ticket, "Fax", &id),
        SESS_OK);
}

static int setup(void **state)
{
    struct company co = {0, "Acme", TRI_INHERIT, TRI_INHERIT, TRI_INHERIT};
    struct contact c = {0};
    struct tech tess = {0, "tess@localhost", "Tess", false};
    (void)state;
    testkit_setup_domain();
    st = tk.app.store;
    assert_int_equal(chat_register(&tk.app), 0);
    assert_int_equal(chat_archive_register(&tk.app), 0);
    assert_int_equal(directory_company_create(dom()->dir, &co, &c.company_id),
                     DIR_OK);
    snprintf(c.jid, sizeof c.jid, "alice@localhost");
    snprintf(c.name, sizeof c.name, "Alice");
    assert_int_equal(directory_contact_create(dom()->dir, &c, NULL), DIR_OK);
    snprintf(c.jid, sizeof c.jid, "bob@localhost");
    snprintf(c.name, sizeof c.name, "Bob");
    assert_int_equal(directory_contact_create(dom()->dir, &c, NULL), DIR_OK);
    assert_int_equal(directory_tech_create(dom()->dir, &tess, NULL), DIR_OK);
    clock_set(T0);
    sessions_fixture();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    chat_free(&tk.app);
    testkit_teardown_domain();
    clock_reset();
    return 0;
}

/* ---- driving queries -------------------------------------------------------
 */

/* An iq set <query queryid='q1'> from `from` to `to` with an optional form
 * (fields: data form <field/>s) and RSM children (rsm: inside <set/>). */
static void mam(const char *from, const char *to, const char *fields,
                const char *rsm)
{
    char xml[4096];
    snprintf(xml, sizeof xml,
             "<iq type='set' id='q' from='%s' to='%s'>"
             "<query xmlns='" NS_MAM2 "' queryid='q1'>%s%s%s%s%s%s%s</query>"
             "</iq>",
             from, to, fields ? "<x xmlns='" NS_FORM "' type='submit'>" : "",
             fields ? "<field var='FORM_TYPE' type='hidden'><value>" NS_MAM2
                      "</value></field>"
                    : "",
             fields ? fields : "", fields ? "</x>" : "",
             rsm ? "<set xmlns='" NS_RSM "'>" : "", rsm ? rsm : "",
             rsm ? "</set>" : "");
    testkit_feed(xml);
    assert_true(tk.n_sent >= 1);
}

static xmpp_stanza_t *path(xmpp_stanza_t *s, const char *name, const char *ns)
{
    xmpp_stanza_t *c = ns ? xmpp_stanza_get_child_by_name_and_ns(s, name, ns)
                          : xmpp_stanza_get_child_by_name(s, name);
    if (!c)
        fail_msg("no <%s xmlns='%s'/>", name, ns ? ns : "");
    return c;
}

static xmpp_stanza_t *forwarded_message(int i)
{
    xmpp_stanza_t *res = path(tk.sent[i], "result", NS_MAM2);
    xmpp_stanza_t *fwd = path(res, "forwarded", NS_FORWARD);
    return path(fwd, "message", "jabber:client");
}

/* The bodies of the results sent (all but the last stanza), "m1 m2 *". */
static const char *bodies(void)
{
    static char buf[512];
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i + 1 < tk.n_sent; i++) {
        xmpp_stanza_t *m = forwarded_message(i);
        char *b = stanza_child_text(m, "body", NULL);
        const char *nick = strchr(xmpp_stanza_get_from(m), '/');
        bool notice = nick && !strcmp(nick, "/Helpdesk");
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? " " : "",
                              notice ? "*" : b);
        xmpp_free(tk.app.ctx, b);
    }
    return buf;
}

/* The fin's RSM element name (first/last/count) text, or NULL. */
static const char *rsm_text(const char *name)
{
    static char buf[128];
    xmpp_stanza_t *iq = tk.sent[tk.n_sent - 1];
    assert_string_equal(xmpp_stanza_get_type(iq), "result");
    xmpp_stanza_t *set = path(path(iq, "fin", NS_MAM2), "set", NS_RSM);
    char *t = stanza_child_text(set, name, NULL);
    if (!t)
        return NULL;
    snprintf(buf, sizeof buf, "%s", t);
    xmpp_free(tk.app.ctx, t);
    return buf;
}

static bool complete(void)
{
    xmpp_stanza_t *fin = path(tk.sent[tk.n_sent - 1], "fin", NS_MAM2);
    const char *c = xmpp_stanza_get_attribute(fin, "complete");
    return c && !strcmp(c, "true");
}

static const char *first_index(void)
{
    xmpp_stanza_t *iq = tk.sent[tk.n_sent - 1];
    xmpp_stanza_t *set = path(path(iq, "fin", NS_MAM2), "set", NS_RSM);
    return xmpp_stanza_get_attribute(path(set, "first", NULL), "index");
}

/* ---- results
 * ----------------------------------------------------------------- */

static void test_whole_archive(void **state)
{
    (void)state;
    mam(TESS, ROOM, NULL, NULL);
    assert_int_equal(tk.n_sent, 14);
    assert_string_equal(bodies(), "m1 m2 m3 m4 m5 m6 m7 m8 m9 m10 m11 m12 *");
    assert_true(complete());
    assert_string_equal(rsm_text("count"), "13");
    assert_string_equal(first_index(), "0");

    xmpp_stanza_t *msg = tk.sent[0];
    assert_string_equal(xmpp_stanza_get_name(msg), "message");
    assert_string_equal(xmpp_stanza_get_to(msg), TESS);
    assert_string_equal(xmpp_stanza_get_from(msg), ROOM);
    xmpp_stanza_t *res = path(msg, "result", NS_MAM2);
    assert_string_equal(xmpp_stanza_get_attribute(res, "queryid"), "q1");
    const char *id = xmpp_stanza_get_attribute(res, "id");
    assert_int_equal(strlen(id), SESS_STANZA_ID_LEN);
    assert_string_equal(rsm_text("first"), id);
    xmpp_stanza_t *fwd = path(res, "forwarded", NS_FORWARD);
    assert_string_equal(xmpp_stanza_get_attribute(
                            path(fwd, "delay", "urn:xmpp:delay"), "stamp"),
                        "2026-01-01T00:01:00Z");
    xmpp_stanza_t *inner = forwarded_message(0);
    assert_string_equal(xmpp_stanza_get_type(inner), "groupchat");
    assert_string_equal(xmpp_stanza_get_from(inner), ROOM "/Alice");
    assert_null(xmpp_stanza_get_to(inner));
    xmpp_stanza_t *x = path(inner, "x", "http://jabber.org/protocol/muc#user");
    assert_string_equal(xmpp_stanza_get_attribute(path(x, "item", NULL), "jid"),
                        "alice@localhost");
    assert_string_equal(xmpp_stanza_get_from(forwarded_message(1)),
                        ROOM "/Tess");
    inner = forwarded_message(12); /* the notice: from the room's occupant */
    assert_string_equal(xmpp_stanza_get_from(inner), ROOM "/Helpdesk");
    assert_null(xmpp_stanza_get_child_by_name(inner, "x"));
    const char *last_id =
        xmpp_stanza_get_attribute(path(tk.sent[12], "result", NS_MAM2), "id");
    assert_string_equal(rsm_text("last"), last_id);
    assert_string_equal(xmpp_stanza_get_id(tk.sent[13]), "q");
}

static void test_paging_forward(void **state)
{
    (void)state;
    char rsm[128], last[64];
    mam(ALICE, ROOM, NULL, "<max>5</max>");
    assert_string_equal(bodies(), "m1 m2 m3 m4 m5");
    assert_false(complete());
    assert_string_equal(rsm_text("count"), "13");
    snprintf(last, sizeof last, "%s", rsm_text("last"));
    snprintf(rsm, sizeof rsm, "<max>5</max><after>%s</after>", last);
    mam(ALICE, ROOM, NULL, rsm);
    assert_string_equal(bodies(), "m6 m7 m8 m9 m10");
    assert_string_equal(first_index(), "5");
    assert_false(complete());
    snprintf(last, sizeof last, "%s", rsm_text("last"));
    snprintf(rsm, sizeof rsm, "<max>5</max><after>%s</after>", last);
    mam(ALICE, ROOM, NULL, rsm);
    assert_string_equal(bodies(), "m11 m12 *");
    assert_string_equal(first_index(), "10");
    assert_true(complete());
}

static void test_paging_backward_index_count(void **state)
{
    (void)state;
    char rsm[128], first[64];
    mam(TESS, ROOM, NULL, "<max>5</max><before/>");
    assert_string_equal(bodies(), "m9 m10 m11 m12 *");
    assert_string_equal(first_index(), "8");
    assert_false(complete());
    snprintf(first, sizeof first, "%s", rsm_text("first"));
    snprintf(rsm, sizeof rsm, "<max>5</max><before>%s</before>", first);
    mam(TESS, ROOM, NULL, rsm);
    assert_string_equal(bodies(), "m4 m5 m6 m7 m8");
    snprintf(first, sizeof first, "%s", rsm_text("first"));
    snprintf(rsm, sizeof rsm, "<max>5</max><before>%s</before>", first);
    mam(TESS, ROOM, NULL, rsm);
    assert_string_equal(bodies(), "m1 m2 m3");
    assert_true(complete());
    mam(TESS, ROOM, NULL, "<max>2</max><index>6</index>");
    assert_string_equal(bodies(), "m7 m8");
    assert_string_equal(first_index(), "6");
    mam(TESS, ROOM, NULL, "<max>0</max>");
    assert_int_equal(tk.n_sent, 1);
    assert_string_equal(rsm_text("count"), "13");
    assert_null(rsm_text("first"));
    mam(TESS, ROOM, NULL, "<max>100000</max>"); /* capped, all fit */
    assert_int_equal(tk.n_sent, 14);
}

static void test_filters(void **state)
{
    (void)state;
    mam(TESS, ROOM, "<field var='with'><value>Alice@localhost</value></field>",
        NULL);
    assert_string_equal(bodies(), "m1 m3 m5 m7 m9 m11");
    mam(TESS, ROOM,
        "<field var='with'><value>" ROOM "/Tess</value></field>"
        "<field var='start'><value>2026-01-01T00:05:00Z</value></field>",
        NULL);
    assert_string_equal(bodies(), "m6 m8 m10 m12");
    mam(TESS, ROOM, "<field var='with'><value>" ROOM "</value></field>", NULL);
    assert_string_equal(bodies(), "*");
    mam(TESS, ROOM,
        "<field var='start'><value>2026-01-01T00:02:00Z</value></field>"
        "<field var='end'><value>2026-01-01T01:04:00+01:00</value></field>",
        "<max>2</max>");
    assert_string_equal(bodies(), "m2 m3");
    assert_string_equal(rsm_text("count"), "3");
    assert_false(complete());
    mam(TESS, ROOM, "<field var='end'><value></value></field>", "<max>1</max>");
    assert_string_equal(bodies(), "m1"); /* an empty value filters nothing */
}

/* ---- refusals
 * ------------------------------------------------------------------ */

static void expect_error(const char *condition)
{
    assert_int_equal(tk.n_sent, 1);
    assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "error");
    if (strcmp(testkit_error(0), condition))
        fail_msg("got <%s/>, want <%s/>", testkit_error(0), condition);
    xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(tk.sent[0], "error");
    assert_non_null(
        xmpp_stanza_get_child_by_name_and_ns(err, "text", NS_STANZAS));
}

static void test_access_and_addressing(void **state)
{
    (void)state;
    mam(BOB, ROOM, NULL, NULL); /* another session's contact */
    expect_error("forbidden");
    mam("eve@localhost/x", ROOM, NULL, NULL); /* a stranger (SPEC §1) */
    expect_error("not-authorized");
    mam(BOB, "chat-2@helpdesk.localhost", NULL, NULL); /* his own: empty */
    assert_int_equal(tk.n_sent, 1);
    assert_true(complete());
    assert_string_equal(rsm_text("count"), "0");
    mam(TESS, "helpdesk.localhost", NULL, NULL);
    expect_error("service-unavailable");
    mam(TESS, ROOM "/Alice", NULL, NULL);
    expect_error("service-unavailable");
    mam(TESS, "chat-99@helpdesk.localhost", NULL, NULL);
    expect_error("item-not-found");
    /* the queue room advertises MAM too: empty for techs (SPEC §8) */
    mam(TESS, "queue@helpdesk.localhost", NULL, NULL);
    assert_int_equal(tk.n_sent, 1);
    assert_true(complete());
    assert_string_equal(rsm_text("count"), "0");
    mam(BOB, "queue@helpdesk.localhost", NULL, NULL);
    expect_error("forbidden");
    mam(TESS, "CHAT-1@helpdesk.localhost", NULL, "<max>1</max>");
    assert_string_equal(bodies(), "m1");
}

static void test_bad_requests(void **state)
{
    (void)state;
    static const struct {
        const char *fields, *rsm, *condition;
    } cases[] = {
        {NULL, "<after>0000000000000000</after>", "item-not-found"},
        {NULL, "<before>nope</before>", "item-not-found"},
        {NULL, "<max>lots</max>", "bad-request"},
        {NULL, "<max>-1</max>", "bad-request"},
        {NULL, "<after/>", "bad-request"},
        {NULL, "<index>1</index><before/>", "bad-request"},
        {"<field var='start'><value>yesterday</value></field>", NULL,
         "bad-request"},
        {"<field var='with'><value>not a jid</value></field>", NULL,
         "bad-request"},
        {"<field var='before-id'><value>x</value></field>", NULL,
         "feature-not-implemented"},
        {"<field var='{urn:x}fulltext'><value>x</value></field>", NULL,
         "feature-not-implemented"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mam(TESS, ROOM, cases[i].fields, cases[i].rsm);
        expect_error(cases[i].condition);
    }
    testkit_feed("<iq type='set' id='q' from='" TESS "' to='" ROOM "'>"
                 "<query xmlns='" NS_MAM2 "'><x xmlns='" NS_FORM "' "
                 "type='submit'><field var='FORM_TYPE'><value>urn:x</value>"
                 "</field></x></query></iq>");
    expect_error("bad-request");
    testkit_feed("<iq type='set' id='q' from='" TESS "' to='" ROOM "'>"
                 "<query xmlns='" NS_MAM2 "'><flip-page/></query></iq>");
    expect_error("feature-not-implemented");
}

/* ---- form, metadata, disco
 * --------------------------------------------------------- */

static void test_form_and_metadata(void **state)
{
    (void)state;
    struct form *f = NULL;
    testkit_feed("<iq type='get' id='f' from='" ALICE "' to='" ROOM "'>"
                 "<query xmlns='" NS_MAM2 "'/></iq>");
    assert_int_equal(tk.n_sent, 1);
    assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "result");
    assert_int_equal(
        form_parse(path(tk.sent[0], "query", NS_MAM2), &f, NULL, 0), FORM_OK);
    assert_string_equal(form_get_form_type(f), NS_MAM2);
    assert_int_equal(form_field_find(f, "with")->type, FIELD_JID_SINGLE);
    assert_non_null(form_field_find(f, "start"));
    assert_non_null(form_field_find(f, "end"));
    form_free(f);
    testkit_feed("<iq type='get' id='f' from='" BOB "' to='" ROOM "'>"
                 "<query xmlns='" NS_MAM2 "'/></iq>");
    expect_error("forbidden");

    testkit_feed("<iq type='get' id='m' from='" TESS "' to='" ROOM "'>"
                 "<metadata xmlns='" NS_MAM2 "'/></iq>");
    xmpp_stanza_t *meta = path(tk.sent[0], "metadata", NS_MAM2);
    xmpp_stanza_t *start = path(meta, "start", NULL);
    assert_string_equal(xmpp_stanza_get_attribute(start, "timestamp"),
                        "2026-01-01T00:01:00Z");
    assert_int_equal(strlen(xmpp_stanza_get_attribute(start, "id")), 16);
    assert_string_equal(
        xmpp_stanza_get_attribute(path(meta, "end", NULL), "timestamp"),
        "2026-01-01T01:00:00Z");
    testkit_feed("<iq type='get' id='m' from='" TESS
                 "' to='chat-2@helpdesk.localhost'>"
                 "<metadata xmlns='" NS_MAM2 "'/></iq>");
    meta = path(tk.sent[0], "metadata", NS_MAM2);
    assert_null(xmpp_stanza_get_children(meta));
}

static void test_room_disco_feature(void **state)
{
    (void)state;
    testkit_feed("<iq type='get' id='d' from='" ALICE "' to='" ROOM "'>"
                 "<query xmlns='" NS_DISCO_INFO "'/></iq>");
    assert_int_equal(tk.n_sent, 1);
    assert_true(testkit_contains(0, "<feature var=\"" NS_MAM2 "\"/>"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_whole_archive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_backward_index_count, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_and_addressing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_form_and_metadata, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_room_disco_feature, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
