/* test_commands_sessions.c - sessions, history, view-session and
 * closing-note driven through dispatch_stanza() with a capturing sender on
 * a ":memory:" store: every view and its columns, every history filter and
 * its errors, multi-step paging (next, prev, complete, the page field),
 * details and long transcripts, closer-only closing notes, roles, and the
 * abandoned-session follow-up. */
#include "testkit.h"

#include "runtime/clock.h"
#include "commands/sessions.h"
#include "runtime/config.h"
#include "domain/directory.h"
#include "domain/domain.h"
#include "domain/sessions.h"
#include "domain/settings.h"
#include "runtime/store.h"
#include "domain/tickets.h"
#include "xep0004_forms.h"
#include "xep0030_disco.h"
#include "xep0050_adhoc.h"

#include <stdbool.h>
#include <stdlib.h>

#define TESS "tess@localhost/dino"
#define TOM "tom@localhost/gajim"
#define ALICE "alice@localhost/portal"
#define SUBMIT(fields) "<x xmlns='jabber:x:data' type='submit'>" fields "</x>"
#define FIELD(var, value)                                                      \
    "<field var='" var "'><value>" value "</value></field>"
#define T0 1767225600 /* 2026-01-01T00:00:00Z */
#define DAY 86400

static struct store *st;

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

/* Acme (alice, carol), Globex (bob); techs Tess and Tom. */
static int setup(void **state)
{
    struct company co = {0, "Acme", TRI_INHERIT, TRI_INHERIT, TRI_INHERIT};
    struct tech tess = {0, "tess@localhost", "Tess", false};
    struct tech tom = {0, "tom@localhost", "Tom", false};
    int64_t acme, globex;
    (void)state;
    testkit_setup_domain();
    st = tk.app.store;
    assert_int_equal(commands_sessions_register(&tk.app), 0);
    assert_int_equal(directory_company_create(dom()->dir, &co, &acme), DIR_OK);
    snprintf(co.name, sizeof co.name, "Globex");
    assert_int_equal(directory_company_create(dom()->dir, &co, &globex),
                     DIR_OK);
    add_contact("alice@localhost", acme, "Alice");
    add_contact("carol@localhost", acme, "Carol");
    add_contact("bob@localhost", globex, "Bob");
    assert_int_equal(directory_tech_create(dom()->dir, &tess, NULL), DIR_OK);
    assert_int_equal(directory_tech_create(dom()->dir, &tom, NULL), DIR_OK);
    clock_set(T0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testkit_teardown_domain();
    clock_reset();
    return 0;
}

/* ---- sessions -------------------------------------------------------------
 */

enum kind { K_WAITING, K_ACTIVE, K_ENDED, K_ABANDONED, K_CALLBACK };

/* A session of contact (bare) created at `at`, with n chat lines "line i"
 * alternating contact and Tess when she is in it, taken to kind. */
static int64_t mk(const char *contact, time_t at, enum kind k, int n)
{
    struct contact c;
    struct settings set;
    struct sess_result r;
    struct sess_stored out;
    char body[32];
    int64_t ticket = 0, id = 0;
    bool tech = k == K_ACTIVE || k == K_ENDED;
    clock_set(at);
    assert_int_equal(directory_contact_find(dom()->dir, contact, &c), DIR_OK);
    struct ticket_draft d = {0, c.id, "Printer on fire"};
    assert_int_equal(ticket_create(dom()->tickets, &d, &ticket), TICKET_OK);
    assert_int_equal(sessions_create_waiting(dom()->sessions, contact, 0,
                                             ticket, "Printer on fire", &id),
                     SESS_OK);
    if (tech)
        assert_int_equal(
            sessions_tech_join(dom()->sessions, id, "tess@localhost", &r),
            SESS_OK);
    for (int i = 0; i < n; i++) {
        snprintf(body, sizeof body, "line %d", i + 1);
        assert_int_equal(
            sessions_add_message(dom()->sessions, id,
                                 tech && i % 2 ? "tess@localhost" : contact,
                                 NULL, body, SESS_MSG_CHAT, &out),
            SESS_OK);
    }
    settings_defaults_apply(&set, NULL);
    if (k == K_ENDED)
        assert_int_equal(sessions_end_by_tech(dom()->sessions, id,
                                              "tess@localhost", NULL, &r),
                         SESS_OK);
    if (k == K_ABANDONED)
        assert_int_equal(sessions_contact_gone(dom()->sessions, id, &r),
                         SESS_OK);
    if (k == K_CALLBACK)
        assert_int_equal(sessions_callback(dom()->sessions, id, contact,
                                           "+1 555 0100", "after lunch", &set,
                                           at + 61, false, &r),
                         SESS_OK);
    return id;
}

/* ---- driving commands ------------------------------------------------------
 */

static xmpp_stanza_t *run(const char *from, const char *node,
                          const char *action, const char *session,
                          const char *payload)
{
    return testkit_command(from, node, action, session, payload);
}

static const char *sid_of(xmpp_stanza_t *iq)
{
    static char sid[128];
    snprintf(sid, sizeof sid, "%s",
             xmpp_stanza_get_attribute(testkit_cmd_of(iq), "sessionid"));
    return sid;
}

/* Run node as from: show the form, then submit payload. */
static xmpp_stanza_t *submit(const char *from, const char *node,
                             const char *payload)
{
    char sid[128];
    xmpp_stanza_t *r = run(from, node, NULL, NULL, NULL);
    testkit_expect_status(r, "executing");
    snprintf(sid, sizeof sid, "%s", sid_of(r));
    return run(from, node, "complete", sid, payload);
}

/* The value of column var in row i of a result form. */
static const char *cell(const struct form *f, size_t i, const char *var)
{
    assert_true(i < f->n_items);
    const struct form_item *it = f->items[i];
    for (size_t k = 0; k < it->n_fields; k++)
        if (!strcmp(it->fields[k]->var, var))
            return it->fields[k]->n_values ? it->fields[k]->values[0] : "";
    fail_msg("no column %s", var);
    return NULL;
}

/* The sessions column of every row, as "3,2,1". */
static const char *column_ids(const struct form *f)
{
    static char buf[2048];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < f->n_items; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? "," : "",
                              cell(f, i, "session"));
    return buf;
}

/* The actions a reply offers, as "prev,next,complete" (in that order). */
static const char *actions_of(xmpp_stanza_t *iq)
{
    static char buf[64];
    xmpp_stanza_t *a =
        xmpp_stanza_get_child_by_name(testkit_cmd_of(iq), "actions");
    static const char *const names[] = {"prev", "next", "complete"};
    buf[0] = '\0';
    for (size_t i = 0; a && i < 3; i++)
        if (xmpp_stanza_get_child_by_name(a, names[i])) {
            strcat(buf, buf[0] ? "," : "");
            strcat(buf, names[i]);
        }
    return buf;
}

/* Run history with the filter fields in one go (form with execute). */
static xmpp_stanza_t *history(const char *fields)
{
    char payload[2048];
    snprintf(payload, sizeof payload, SUBMIT("%s"), fields);
    return run(TESS, "history", NULL, NULL, payload);
}

/* ---- sessions ------------------------------------------------------------ */

static void test_sessions_views(void **state)
{
    (void)state;
    int64_t w = mk("alice@localhost", T0, K_WAITING, 1);
    int64_t a = mk("bob@localhost", T0 + 10, K_ABANDONED, 1);
    int64_t cb = mk("carol@localhost", T0 + 20, K_CALLBACK, 0);
    int64_t act = mk("alice@localhost", T0 + 30, K_ACTIVE, 2);
    int64_t end = mk("bob@localhost", T0 + 40, K_ENDED, 2);
    char want[64];

    xmpp_stanza_t *r = run(TESS, "sessions", NULL, NULL, NULL);
    testkit_expect_status(r, "executing");
    struct form *f = testkit_form_of(r);
    struct form_field *view = form_field_find(f, "view");
    assert_non_null(view);
    assert_int_equal(view->type, FIELD_LIST_SINGLE);
    assert_int_equal(view->n_options, 4);
    assert_string_equal(view->values[0], "mine");
    form_free(f);

    r = run(TESS, "sessions", "complete", sid_of(r), SUBMIT(""));
    testkit_expect_status(r, "completed");
    f = testkit_form_of(r);
    static const char *const cols[] = {"session", "room",    "ticket",
                                       "company", "contact", "state",
                                       "created", "phone",   "note"};
    assert_int_equal(f->n_reported, 9);
    for (size_t i = 0; i < 9; i++)
        assert_string_equal(f->reported[i]->var, cols[i]);
    /* mine is open work: the ended session has left it */
    (void)end;
    snprintf(want, sizeof want, "%lld", (long long)act);
    assert_string_equal(column_ids(f), want);
    snprintf(want, sizeof want, "chat-%lld@helpdesk.localhost", (long long)act);
    assert_string_equal(cell(f, 0, "room"), want);
    assert_string_equal(cell(f, 0, "company"), "Acme");
    assert_string_equal(cell(f, 0, "contact"), "alice@localhost");
    assert_string_equal(cell(f, 0, "state"), "active");
    assert_string_equal(cell(f, 0, "created"), "2026-01-01T00:00:30Z");
    form_free(f);

    static const struct {
        const char *view, *state;
    } views[] = {{"waiting", "waiting"},
                 {"abandoned", "abandoned"},
                 {"callbacks", "callback"}};
    int64_t want_ids[] = {w, a, cb};
    for (size_t i = 0; i < 3; i++) {
        char payload[256];
        snprintf(payload, sizeof payload,
                 SUBMIT("<field var='view'><value>%s</value></field>"),
                 views[i].view);
        r = run(TESS, "sessions", NULL, NULL, payload); /* first execute */
        testkit_expect_status(r, "completed");
        f = testkit_form_of(r);
        assert_int_equal(f->n_items, 1);
        snprintf(want, sizeof want, "%lld", (long long)want_ids[i]);
        assert_string_equal(cell(f, 0, "session"), want);
        assert_string_equal(cell(f, 0, "state"), views[i].state);
        if (i == 2) {
            assert_string_equal(cell(f, 0, "phone"), "+1 555 0100");
            assert_string_equal(cell(f, 0, "note"), "after lunch");
            assert_string_equal(cell(f, 0, "company"), "Acme");
        }
        form_free(f);
    }
}

static void test_sessions_errors_and_roles(void **state)
{
    (void)state;
    xmpp_stanza_t *r =
        run(TOM, "sessions", NULL, NULL, SUBMIT(FIELD("view", "mine")));
    testkit_expect_status(r, "completed");
    assert_string_equal(testkit_note_of(r), "No session in this list");
    r = run(TOM, "sessions", NULL, NULL, SUBMIT(FIELD("view", "everything")));
    testkit_expect_error(r, NULL, "bad-request", "Field 'view'");
    static const char *const nodes[] = {"sessions", "history", "view-session",
                                        "closing-note"};
    for (size_t i = 0; i < 4; i++) {
        r = run(ALICE, nodes[i], NULL, NULL, NULL);
        assert_string_equal(testkit_error(0), "forbidden");
    }
    r = run("eve@localhost/x", "history", NULL, NULL, NULL);
    assert_string_equal(testkit_error(0), "not-authorized");
}

/* ---- history ----------------------------------------------------------------
 */

static void test_history_filters(void **state)
{
    (void)state;
    char want[64];
    int64_t a = mk("alice@localhost", T0, K_ENDED, 2);
    int64_t b = mk("bob@localhost", T0 + DAY, K_ABANDONED, 1);
    int64_t c = mk("carol@localhost", T0 + 2 * DAY, K_CALLBACK, 0);
    mk("alice@localhost", T0 + 3 * DAY, K_ACTIVE, 0); /* live: not history */

    xmpp_stanza_t *r = submit(TESS, "history", SUBMIT(""));
    testkit_expect_status(r, "completed"); /* one page: done at once */
    struct form *f = testkit_form_of(r);
    /* SPEC §4's nine, transfers and rating */
    assert_int_equal(f->n_reported, 11);
    snprintf(want, sizeof want, "%lld,%lld,%lld", (long long)c, (long long)b,
             (long long)a);
    assert_string_equal(column_ids(f), want);
    form_free(f);

    const struct {
        const char *fields;
        int64_t *ids[3];
    } cases[] = {
        {FIELD("company", "acme"), {&c, &a, NULL}},
        {FIELD("contact", "Bob@localhost"), {&b, NULL, NULL}},
        {FIELD("text", "LINE"), {&b, &a, NULL}},
        {FIELD("text", "lin* 2"), {&a, NULL, NULL}},
        {FIELD("text", "called back"), {&c, NULL, NULL}},
        {FIELD("since", "2026-01-02"), {&c, &b, NULL}},
        {FIELD("until", "2026-01-02"), {&b, &a, NULL}},
        {FIELD("since", "2026-01-01T00:00:01Z") FIELD("until", "2026-01-02"),
         {&b, NULL, NULL}},
        {FIELD("company", "Globex") FIELD("text", "line"), {&b, NULL, NULL}},
        {FIELD("text", "nothing-like-this"), {NULL, NULL, NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = 0;
        want[0] = '\0';
        for (size_t k = 0; k < 3 && cases[i].ids[k]; k++)
            n += (size_t)snprintf(want + n, sizeof want - n, "%s%lld",
                                  k ? "," : "", (long long)*cases[i].ids[k]);
        r = history(cases[i].fields);
        testkit_expect_status(r, "completed");
        f = testkit_form_of(r);
        if (strcmp(column_ids(f), want))
            fail_msg("case %zu (%s): got %s, want %s", i, cases[i].fields,
                     column_ids(f), want);
        form_free(f);
    }
    assert_string_equal(testkit_note_of(r), "No past session matches");
}

static void test_history_errors(void **state)
{
    (void)state;
    static const struct {
        const char *fields, *text;
    } cases[] = {
        {FIELD("since", "last week"), "Field 'since' must be a date"},
        {FIELD("until", "2026-02-30"), "Field 'until' must be a date"},
        {FIELD("company", "Initech"), "Field 'company'"},
        {FIELD("contact", "nobody@localhost"), "Field 'contact'"},
        {FIELD("contact", "alice@localhost/portal"), "Field 'contact'"},
        {FIELD("text", "!!! ???"), "Field 'text' has no word"},
        {FIELD("text", "a b c d e f g h i j k l m n o p q"), "Field 'text'"},
        {FIELD("since", "2026-02-01") FIELD("until", "2026-01-01"),
         "Field 'until' is before"},
        {FIELD("page", "0"), "Field 'page'"},
        {FIELD("page", "two"), "Field 'page'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xmpp_stanza_t *r = history(cases[i].fields);
        testkit_expect_error(r, NULL, "bad-request", cases[i].text);
    }
    /* the session stays open for a corrected submission */
    xmpp_stanza_t *r = run(TESS, "history", NULL, NULL, NULL);
    char sid[128];
    snprintf(sid, sizeof sid, "%s", sid_of(r));
    r = run(TESS, "history", "complete", sid, SUBMIT(FIELD("since", "x")));
    testkit_expect_error(r, NULL, "bad-request", "Field 'since'");
    r = run(TESS, "history", "complete", sid,
            SUBMIT(FIELD("since", "2026-01-01")));
    testkit_expect_status(r, "completed");
}

static void test_history_paging(void **state)
{
    (void)state;
    char sid[128];
    for (int i = 0; i < 120; i++)
        mk(i % 2 ? "alice@localhost" : "bob@localhost", T0 + i * 60, K_ENDED,
           0);
    xmpp_stanza_t *r = run(TESS, "history", NULL, NULL, NULL);
    snprintf(sid, sizeof sid, "%s", sid_of(r));
    r = run(TESS, "history", "execute", sid, SUBMIT(""));
    testkit_expect_status(r, "executing");
    assert_string_equal(actions_of(r), "next,complete");
    assert_string_equal(
        xmpp_stanza_get_attribute(
            xmpp_stanza_get_child_by_name(testkit_cmd_of(r), "actions"),
            "execute"),
        "next");
    assert_non_null(
        strstr(testkit_note_of(r), "Page 1 (sessions 1-50); more match"));
    struct form *f = testkit_form_of(r);
    assert_int_equal(f->type, FORM_RESULT);
    assert_int_equal(f->n_items, 50);
    assert_string_equal(cell(f, 0, "session"), "120");
    form_free(f);

    r = run(TESS, "history", "next", sid, NULL);
    testkit_expect_status(r, "executing");
    assert_string_equal(actions_of(r), "prev,next,complete");
    f = testkit_form_of(r);
    assert_string_equal(cell(f, 0, "session"), "70");
    form_free(f);
    r = run(TESS, "history", "execute", sid, NULL); /* default: next */
    testkit_expect_status(r, "executing");
    assert_string_equal(actions_of(r), "prev,complete");
    assert_non_null(strstr(testkit_note_of(r),
                           "Page 3 (sessions 101-120); this is "
                           "the last page"));
    f = testkit_form_of(r);
    assert_int_equal(f->n_items, 20);
    assert_string_equal(cell(f, 19, "session"), "1");
    form_free(f);
    r = run(TESS, "history", "prev", sid, NULL);
    f = testkit_form_of(r);
    assert_string_equal(cell(f, 0, "session"), "70");
    form_free(f);
    r = run(TESS, "history", "complete", sid, NULL);
    testkit_expect_status(r, "completed");
    f = testkit_form_of(r);
    assert_string_equal(cell(f, 0, "session"), "70");
    form_free(f);
    assert_int_equal(adhoc_session_count(&tk.app), 0);

    r = history(FIELD("page", "3"));
    testkit_expect_status(r, "executing");
    assert_string_equal(actions_of(r), "complete"); /* no screen before */
    /* next on the last page is taken as complete (poezio's habit) */
    r = run(TESS, "history", "next", sid_of(r), NULL);
    testkit_expect_status(r, "completed");
    f = testkit_form_of(r);
    assert_string_equal(cell(f, 0, "session"), "20");
    form_free(f);
    r = history(FIELD("page", "4"));
    assert_non_null(strstr(testkit_note_of(r), "past the last page"));
    r = history(FIELD("contact", "alice@localhost") FIELD("page", "2"));
    f = testkit_form_of(r);
    assert_int_equal(f->n_items, 10);
    form_free(f);
}

/* Callback notes of SESS_NOTE_MAX '&' (five times as many bytes of XML):
 * the sessions list and a history page stay under max_stanza_bytes, the
 * notes cut in the table, rows stopped (sessions) or pages made smaller
 * (history) when the limit is small, with a note. */
static void test_lists_fit_one_stanza(void **state)
{
    static char long_note[SESS_NOTE_MAX + 1];
    struct sess_result res;
    struct settings set;
    (void)state;
    memset(long_note, '&', SESS_NOTE_MAX);
    settings_defaults_apply(&set, NULL);
    for (int i = 0; i < 60; i++) {
        int64_t id = mk("alice@localhost", T0 + i * 60, K_WAITING, 0);
        assert_int_equal(sessions_callback(dom()->sessions, id,
                                           "alice@localhost", "+1 555 0100",
                                           long_note, &set,
                                           T0 + i * 60 + 61, false, &res),
                         SESS_OK);
    }
    xmpp_stanza_t *r =
        run(TESS, "sessions", NULL, NULL, SUBMIT(FIELD("view", "callbacks")));
    testkit_expect_status(r, "completed");
    assert_true(testkit_size(r) <= (size_t)testkit_cfg.max_stanza_bytes);
    struct form *f = testkit_form_of(r);
    assert_int_equal(f->n_items, 60);
    assert_true(strlen(cell(f, 0, "note")) < 45); /* 31 '&' and … */
    form_free(f);
    testkit_cfg.max_stanza_bytes = 16384;
    r = run(TESS, "sessions", NULL, NULL, SUBMIT(FIELD("view", "callbacks")));
    assert_true(testkit_size(r) <= 16384);
    f = testkit_form_of(r);
    assert_true(f->n_items > 3 && f->n_items < 60);
    form_free(f);
    assert_non_null(strstr(testkit_note_of(r), "than fit in one answer"));
    r = history("");
    assert_true(testkit_size(r) <= 16384);
    assert_non_null(
        strstr(testkit_note_of(r), "Page 1 (sessions 1-3); more match"));
    r = history(FIELD("page", "2"));
    f = testkit_form_of(r);
    assert_int_equal(f->n_items, 3);
    assert_string_equal(cell(f, 0, "session"), "57");
    form_free(f);
}

/* ---- view-session
 * ---------------------------------------------------------------- */

/* The values of field var joined by '\n' (static). */
static const char *field_text(const struct form *f, const char *var)
{
    static char buf[16384];
    struct form_field *fl = form_field_find(f, var);
    size_t n = 0;
    if (!fl)
        fail_msg("no field %s", var);
    buf[0] = '\0';
    for (size_t i = 0; i < fl->n_values; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? "\n" : "",
                              fl->values[i]);
    return buf;
}

static void test_view_session(void **state)
{
    (void)state;
    char room[64], payload[256];
    int64_t id = mk("alice@localhost", T0, K_ENDED, 2);
    snprintf(payload, sizeof payload,
             SUBMIT("<field var='session'><value>chat-%lld</value></field>"),
             (long long)id);
    xmpp_stanza_t *r = submit(TESS, "view-session", payload);
    testkit_expect_status(r, "completed");
    struct form *f = testkit_form_of(r);
    snprintf(room, sizeof room, "chat-%lld@helpdesk.localhost", (long long)id);
    assert_string_equal(field_text(f, "room"), room);
    assert_string_equal(field_text(f, "company"), "Acme");
    assert_string_equal(field_text(f, "contact"), "alice@localhost");
    assert_string_equal(field_text(f, "state"), "ended");
    assert_string_equal(field_text(f, "created"), "2026-01-01T00:00:00Z");
    assert_string_equal(field_text(f, "description"), "Printer on fire");
    assert_string_equal(field_text(f, "answered_by"), "tess@localhost");
    assert_string_equal(field_text(f, "closer"), "tess@localhost");
    assert_string_equal(field_text(f, "closing_note"), "");
    assert_int_equal(form_field_find(f, "transcript")->type, FIELD_TEXT_MULTI);
    assert_string_equal(field_text(f, "transcript"),
                        "[2026-01-01 00:00:00 UTC] Alice: line 1\n"
                        "[2026-01-01 00:00:00 UTC] Tess: line 2\n"
                        "[2026-01-01 00:00:00 UTC] * Tess ended the chat.");
    form_free(f);

    r = run(TESS, "view-session", NULL, NULL, SUBMIT(FIELD("session", "999")));
    testkit_expect_error(r, NULL, "item-not-found", "999");
    r = run(TESS, "view-session", NULL, NULL,
            SUBMIT(FIELD("session", "chat-x")));
    testkit_expect_error(r, NULL, "bad-request", "Field 'session'");
}

/* view-session and history show who handed a session over to whom, and
 * history its rating. */
static void test_transfers_shown(void **state)
{
    (void)state;
    struct sess_result r;
    int64_t id = mk("alice@localhost", T0, K_ACTIVE, 0);
    assert_int_equal(sessions_transfer(dom()->sessions, id, "tess@localhost",
                                       "tom@localhost", &r),
                     SESS_OK);
    assert_int_equal(sessions_tech_join(dom()->sessions, id, "tom@localhost",
                                        &r),
                     SESS_OK);
    assert_int_equal(
        sessions_transfer(dom()->sessions, id, "tom@localhost", NULL, &r),
        SESS_OK);
    assert_int_equal(sessions_tech_join(dom()->sessions, id,
                                        "tess@localhost", &r),
                     SESS_OK);
    assert_int_equal(sessions_end_by_tech(dom()->sessions, id,
                                          "tess@localhost", NULL, &r),
                     SESS_OK);
    const char *want = "tess@localhost -> tom@localhost; tom@localhost -> "
                       "queue";
    xmpp_stanza_t *x = run(TESS, "view-session", NULL, NULL,
                           SUBMIT(FIELD("session", "1")));
    struct form *f = testkit_form_of(x);
    assert_string_equal(field_text(f, "transfers"), want);
    form_free(f);
    f = testkit_form_of(submit(TESS, "history", SUBMIT("")));
    assert_int_equal(f->n_items, 1);
    assert_string_equal(cell(f, 0, "transfers"), want);
    assert_string_equal(cell(f, 0, "rating"), "");
    form_free(f);
    /* and the rating column */
    assert_int_equal(sessions_rate(dom()->sessions, id, "alice@localhost", 4,
                                   NULL),
                     SESS_OK);
    f = testkit_form_of(submit(TESS, "history", SUBMIT("")));
    assert_string_equal(cell(f, 0, "rating"), "4");
    form_free(f);
}

static void test_view_long_transcript(void **state)
{
    (void)state;
    char payload[256];
    int64_t id = mk("alice@localhost", T0, K_ENDED, 150);
    snprintf(payload, sizeof payload,
             SUBMIT("<field var='session'><value>%lld</value></field>"),
             (long long)id);
    xmpp_stanza_t *r = run(TOM, "view-session", NULL, NULL, payload);
    testkit_expect_status(r, "completed");
    struct form *f = testkit_form_of(r);
    assert_int_equal(form_field_find(f, "transcript")->n_values,
                     FORM_MAX_VALUES);
    struct form_field *more = form_field_find(f, "transcript-2");
    assert_non_null(more);
    assert_int_equal(more->n_values, 51); /* 150 lines + the notice */
    assert_non_null(strstr(more->values[50], "ended the chat"));
    form_free(f);
}

/* ---- closing-note
 * ------------------------------------------------------------------ */

static xmpp_stanza_t *note(const char *from, int64_t id, const char *text)
{
    char payload[1024];
    snprintf(payload, sizeof payload,
             SUBMIT("<field var='session'><value>%lld</value></field>"
                    "<field var='note'>%s</field>"),
             (long long)id, text);
    return submit(from, "closing-note", payload);
}

static void test_closing_note_closer_only(void **state)
{
    (void)state;
    struct sess_info s;
    int64_t id = mk("alice@localhost", T0, K_ENDED, 1);
    int64_t live = mk("bob@localhost", T0, K_ACTIVE, 0);
    xmpp_stanza_t *r = note(
        TESS, id, "<value>Replaced the fuser.</value><value>Done.</value>");
    testkit_expect_status(r, "completed");
    assert_non_null(strstr(testkit_note_of(r), "Closing note saved"));
    assert_int_equal(sessions_get(dom()->sessions, id, &s), SESS_OK);
    assert_string_equal(s.closing_note, "Replaced the fuser.\nDone.");
    sess_info_clear(&s);
    r = note(TOM, id, "<value>Mine now</value>");
    testkit_expect_error(r, NULL, "forbidden", "tess@localhost");
    r = note(TESS, live, "<value>Too early</value>");
    testkit_expect_error(r, NULL, "not-allowed", "in progress");
    r = note(TESS, 999, "<value>x</value>");
    testkit_expect_error(r, NULL, "item-not-found", "999");
    r = note(TESS, id, "<value></value>");
    testkit_expect_status(r, "completed");
    assert_string_equal(testkit_note_of(r), "Closing note removed");
    assert_int_equal(sessions_get(dom()->sessions, id, &s), SESS_OK);
    assert_string_equal(s.closing_note, "");
    sess_info_clear(&s);
}

/* SPEC §3/§4: an abandoned session is followed up and closed by a tech,
 * who alone may then edit its closing note. */
static void test_abandoned_follow_up(void **state)
{
    (void)state;
    struct sess_result res;
    char want[32];
    int64_t id = mk("alice@localhost", T0, K_ABANDONED, 1);
    snprintf(want, sizeof want, "%lld", (long long)id);
    xmpp_stanza_t *r =
        run(TOM, "sessions", NULL, NULL, SUBMIT(FIELD("view", "abandoned")));
    struct form *f = testkit_form_of(r);
    assert_string_equal(column_ids(f), want);
    form_free(f);
    assert_int_equal(sessions_end_by_tech(dom()->sessions, id, "tom@localhost",
                                          "Called her back", &res),
                     SESS_OK);
    assert_int_equal(res.after, SESS_CLOSED);
    r = run(TOM, "sessions", NULL, NULL, SUBMIT(FIELD("view", "abandoned")));
    f = testkit_form_of(r);
    assert_int_equal(f->n_items, 0);
    form_free(f);
    r = note(TESS, id, "<value>Not mine</value>");
    testkit_expect_error(r, NULL, "forbidden", "tom@localhost");
    r = note(TOM, id, "<value>Called her back; fixed.</value>");
    testkit_expect_status(r, "completed");
    r = history(FIELD("contact", "alice@localhost"));
    f = testkit_form_of(r);
    assert_string_equal(cell(f, 0, "state"), "closed");
    assert_string_equal(cell(f, 0, "note"), "Called her back; fixed.");
    form_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sessions_views, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions_errors_and_roles, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_history_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transfers_shown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists_fit_one_stanza, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_view_long_transcript, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_closing_note_closer_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_abandoned_follow_up, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
