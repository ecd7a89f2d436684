/* test_adhoc.c - XEP-0050 framework driven through dispatch_stanza() with a
 * capturing app.send: sessions, actions, roles, reaping, disco#items. */
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
#include "runtime/disco.h"
#include "runtime/dispatch.h"
#include "runtime/stanza.h"
#include "xep0004_forms.h"
#include "xep0030_disco.h"
#include "xep0050_adhoc.h"

#define MAX_SENT 8

static struct app app;
static xmpp_stanza_t *sent[MAX_SENT];
static int n_sent;
static int states_freed;

/* ---- harness -------------------------------------------------------- */

static void capture(void *ud, xmpp_stanza_t *stanza)
{
    (void)ud;
    assert_true(n_sent < MAX_SENT);
    sent[n_sent++] = xmpp_stanza_copy(stanza);
}

static void clear_sent(void)
{
    while (n_sent > 0)
        xmpp_stanza_release(sent[--n_sent]);
}

/* The one stanza sent since the last call (owned by the harness). */
static xmpp_stanza_t *reply(void)
{
    assert_int_equal(n_sent, 1);
    return sent[0];
}

/* Feed one stanza (XML text) to the dispatcher; expect one answer. */
static xmpp_stanza_t *feed(const char *xml)
{
    xmpp_stanza_t *s = xmpp_stanza_new_from_string(app.ctx, xml);

    assert_non_null(s);
    clear_sent();
    dispatch_stanza(app.dispatch, &app, s);
    xmpp_stanza_release(s);
    return reply();
}

/* Send a command request: from, node, action (NULL: none), sessionid
 * (NULL: none) and an optional payload inside <command/>. */
static xmpp_stanza_t *command(const char *from, const char *node,
                              const char *action, const char *sid,
                              const char *payload)
{
    char xml[4096];

    snprintf(xml, sizeof(xml),
             "<iq type='set' id='c1' from='%s' to='helpdesk.localhost'>"
             "<command xmlns='" NS_COMMANDS "' node='%s'%s%s%s%s%s%s>%s"
             "</command></iq>",
             from, node, action ? " action='" : "", action ? action : "",
             action ? "'" : "", sid ? " sessionid='" : "", sid ? sid : "",
             sid ? "'" : "", payload ? payload : "");
    return feed(xml);
}

static xmpp_stanza_t *cmd_child(xmpp_stanza_t *iq)
{
    xmpp_stanza_t *c =
        xmpp_stanza_get_child_by_name_and_ns(iq, "command", NS_COMMANDS);

    assert_non_null(c);
    return c;
}

static void expect_status(xmpp_stanza_t *iq, const char *status)
{
    assert_string_equal(xmpp_stanza_get_type(iq), "result");
    assert_string_equal(xmpp_stanza_get_id(iq), "c1");
    assert_string_equal(xmpp_stanza_get_attribute(cmd_child(iq), "status"),
                        status);
}

/* Error condition, optional XEP-0050 condition and a text fragment. */
static void expect_error(xmpp_stanza_t *iq, const char *condition,
                         const char *specific, const char *text)
{
    xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(iq, "error");
    xmpp_stanza_t *t;
    char *s;

    assert_string_equal(xmpp_stanza_get_type(iq), "error");
    assert_string_equal(xmpp_stanza_get_id(iq), "c1");
    assert_non_null(err);
    assert_non_null(
        xmpp_stanza_get_child_by_name_and_ns(err, condition, NS_STANZAS));
    if (specific)
        assert_non_null(
            xmpp_stanza_get_child_by_name_and_ns(err, specific, NS_COMMANDS));
    else
        assert_null(xmpp_stanza_get_child_by_ns(err, NS_COMMANDS));
    if (!text)
        return;
    t = xmpp_stanza_get_child_by_name_and_ns(err, "text", NS_STANZAS);
    assert_non_null(t);
    s = xmpp_stanza_get_text(t);
    if (!strstr(s, text))
        fail_msg("error text '%s' lacks '%s'", s, text);
    xmpp_free(app.ctx, s);
}

/* A copy of the sessionid of a reply (static buffer). */
static const char *sessionid(xmpp_stanza_t *iq)
{
    static char buf[128];
    const char *sid = xmpp_stanza_get_attribute(cmd_child(iq), "sessionid");

    assert_non_null(sid);
    assert_true(*sid);
    snprintf(buf, sizeof(buf), "%s", sid);
    return buf;
}

static unsigned role_of(struct app *a, const char *bare, void *ud)
{
    (void)a;
    (void)ud;
    if (strcmp(bare, "admin@localhost") == 0)
        return ADHOC_ROLE_ADMIN;
    if (strncmp(bare, "tech", 4) == 0)
        return ADHOC_ROLE_TECH;
    if (strcmp(bare, "alice@localhost") == 0)
        return ADHOC_ROLE_CONTACT;
    return ADHOC_ROLE_NONE;
}

/* ---- fake commands ---------------------------------------------------- */

struct wizard_state {
    char name[64];
};

static void wizard_free(void *p)
{
    states_freed++;
    free(p);
}

static struct form *wizard_screen1(const char *name)
{
    struct form *f = form_new(FORM_FORM, NULL);

    form_set_title(f, "Who");
    form_add_value_field(f, FIELD_TEXT_SINGLE, "name", "Name", name, 1);
    return f;
}

static void wizard_finish(struct adhoc_request *req, struct adhoc_reply *reply,
                          struct wizard_state *st)
{
    char err[FORM_ERR_LEN], note[160];
    const char *phone;
    struct form *res;

    if (form_get_required(req->form, "phone", &phone, err, sizeof(err))) {
        adhoc_reply_error(reply, "modify", "bad-request", err);
        return;
    }
    res = form_new(FORM_RESULT, NULL);
    form_add_value_field(res, FIELD_TEXT_SINGLE, "saved", "Saved", st->name, 0);
    adhoc_reply_completed(reply, res);
    snprintf(note, sizeof(note), "Saved %s (%s)", st->name, phone);
    adhoc_reply_note(reply, "info", note);
}

/* Screen 1 asks a name, screen 2 a phone; complete saves. */
static void wizard_step(struct adhoc_request *req, struct adhoc_reply *reply)
{
    struct wizard_state *st = req->state;
    char err[FORM_ERR_LEN];
    const char *name;
    struct form *f;

    if (req->stage == 0) {
        req->state = calloc(1, sizeof(struct wizard_state));
        adhoc_reply_executing(reply, wizard_screen1(NULL), ADHOC_NEXT, 0);
        return;
    }
    if (req->action == ADHOC_PREV) {
        assert_int_equal(req->stage, 2);
        adhoc_reply_executing(reply, wizard_screen1(st->name), ADHOC_NEXT,
                              ADHOC_NEXT);
        return;
    }
    if (req->stage == 2) {
        wizard_finish(req, reply, st);
        return;
    }
    if (form_get_required(req->form, "name", &name, err, sizeof(err))) {
        adhoc_reply_error(reply, "modify", "bad-request", err);
        return;
    }
    snprintf(st->name, sizeof(st->name), "%s", name);
    f = form_new(FORM_FORM, NULL);
    form_add_value_field(f, FIELD_TEXT_SINGLE, "phone", "Phone", NULL, 1);
    adhoc_reply_executing(reply, f, ADHOC_PREV | ADHOC_COMPLETE,
                          ADHOC_COMPLETE);
}

static void settings_step(struct adhoc_request *req, struct adhoc_reply *reply)
{
    (void)req;
    adhoc_reply_note(reply, "info", "Settings saved");
}

/* One screen offering complete only; the second request must complete. */
static void single_step(struct adhoc_request *req, struct adhoc_reply *reply)
{
    if (req->stage == 0) {
        struct form *f = form_new(FORM_FORM, NULL);

        form_add_value_field(f, FIELD_TEXT_MULTI, "description", "Description",
                             NULL, 1);
        adhoc_reply_executing(reply, f, 0, 0);
        return;
    }
    assert_int_equal(req->action, ADHOC_COMPLETE);
    adhoc_reply_completed(reply, NULL);
    adhoc_reply_note(reply, "warn", "started");
}

static const struct adhoc_command wizard_cmd = {
    "wizard",    "Two-step wizard", ADHOC_ROLE_TECH,
    wizard_step, wizard_free,       NULL};
static const struct adhoc_command settings_cmd = {
    "settings", "Settings", ADHOC_ROLE_ADMIN, settings_step, NULL, NULL};
static const struct adhoc_command single_cmd = {
    "start-chat", "Start a chat", ADHOC_ROLE_CONTACT, single_step, NULL, NULL};

static int setup(void **state)
{
    (void)state;
    memset(&app, 0, sizeof(app));
    app.ctx = xmpp_ctx_new(NULL, NULL);
    app.dispatch = dispatch_new();
    app.disco = disco_new();
    app.jid = "helpdesk.localhost";
    app.send = capture;
    states_freed = 0;
    clock_set(1700000000);
    assert_int_equal(xep0030_register(&app), 0);
    assert_int_equal(xep0050_register(&app), 0);
    assert_int_equal(adhoc_add_command(&app, &wizard_cmd), 0);
    assert_int_equal(adhoc_add_command(&app, &settings_cmd), 0);
    assert_int_equal(adhoc_add_command(&app, &single_cmd), 0);
    assert_int_equal(adhoc_set_role_fn(&app, role_of, NULL), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    clear_sent();
    xep0050_free(&app);
    assert_null(app.adhoc);
    dispatch_free(app.dispatch);
    disco_free(app.disco);
    xmpp_ctx_free(app.ctx);
    clock_reset();
    return 0;
}

#define TECH "tech@localhost/gajim"
#define SUBMIT(fields) "<x xmlns='jabber:x:data' type='submit'>" fields "</x>"
#define FIELD(var, value)                                                      \
    "<field var='" var "'><value>" value "</value></field>"

/* ---- tests ------------------------------------------------------------ */

static void test_execute_gives_form_and_actions(void **state)
{
    xmpp_stanza_t *r = command(TECH, "wizard", "execute", NULL, NULL);
    xmpp_stanza_t *c = cmd_child(r), *actions, *x;

    (void)state;
    expect_status(r, "executing");
    assert_string_equal(xmpp_stanza_get_to(r), TECH);
    assert_string_equal(xmpp_stanza_get_from(r), "helpdesk.localhost");
    assert_string_equal(xmpp_stanza_get_attribute(c, "node"), "wizard");
    sessionid(r);
    actions = xmpp_stanza_get_child_by_name(c, "actions");
    assert_non_null(actions);
    assert_string_equal(xmpp_stanza_get_attribute(actions, "execute"), "next");
    assert_non_null(xmpp_stanza_get_child_by_name(actions, "next"));
    assert_null(xmpp_stanza_get_child_by_name(actions, "prev"));
    x = xmpp_stanza_get_child_by_name_and_ns(c, "x", NS_DATA);
    assert_non_null(x);
    assert_string_equal(xmpp_stanza_get_type(x), "form");
    assert_int_equal(adhoc_session_count(&app), 1);
}

static void test_next_then_complete(void **state)
{
    char sid[128];
    xmpp_stanza_t *r, *c, *actions, *note;
    char *text;

    (void)state;
    snprintf(sid, sizeof(sid), "%s",
             sessionid(command(TECH, "wizard", NULL, NULL, NULL)));
    r = command(TECH, "wizard", "next", sid, SUBMIT(FIELD("name", "Bob")));
    expect_status(r, "executing");
    assert_string_equal(sessionid(r), sid);
    actions = xmpp_stanza_get_child_by_name(cmd_child(r), "actions");
    assert_string_equal(xmpp_stanza_get_attribute(actions, "execute"),
                        "complete");
    assert_non_null(xmpp_stanza_get_child_by_name(actions, "prev"));
    assert_non_null(xmpp_stanza_get_child_by_name(actions, "complete"));
    /* plain execute means the default action: complete */
    r = command(TECH, "wizard", NULL, sid, SUBMIT(FIELD("phone", "555")));
    expect_status(r, "completed");
    c = cmd_child(r);
    assert_string_equal(sessionid(r), sid);
    assert_null(xmpp_stanza_get_child_by_name(c, "actions"));
    note = xmpp_stanza_get_child_by_name(c, "note");
    assert_string_equal(xmpp_stanza_get_attribute(note, "type"), "info");
    text = xmpp_stanza_get_text(note);
    assert_string_equal(text, "Saved Bob (555)");
    xmpp_free(app.ctx, text);
    assert_string_equal(
        xmpp_stanza_get_type(xmpp_stanza_get_child_by_name(c, "x")), "result");
    assert_int_equal(adhoc_session_count(&app), 0);
    assert_int_equal(states_freed, 1);
    expect_error(command(TECH, "wizard", "complete", sid, NULL), "not-allowed",
                 "session-expired", "start the command again");
}

static void test_field_error_keeps_session(void **state)
{
    char sid[128];

    (void)state;
    snprintf(sid, sizeof(sid), "%s",
             sessionid(command(TECH, "wizard", NULL, NULL, NULL)));
    expect_error(
        command(TECH, "wizard", "next", sid, SUBMIT(FIELD("name", " "))),
        "bad-request", NULL, "Field 'name' is required");
    assert_int_equal(adhoc_session_count(&app), 1);
    expect_status(
        command(TECH, "wizard", "next", sid, SUBMIT(FIELD("name", "Eve"))),
        "executing");
    expect_error(command(TECH, "wizard", "complete", sid, SUBMIT("")),
                 "bad-request", NULL, "Field 'phone' is required");
    expect_status(
        command(TECH, "wizard", "complete", sid, SUBMIT(FIELD("phone", "1"))),
        "completed");
}

static void test_prev_and_bad_action(void **state)
{
    char sid[128];
    xmpp_stanza_t *r;

    (void)state;
    snprintf(sid, sizeof(sid), "%s",
             sessionid(command(TECH, "wizard", NULL, NULL, NULL)));
    expect_error(command(TECH, "wizard", "prev", sid, NULL), "bad-request",
                 "bad-action", NULL);
    expect_error(command(TECH, "wizard", "complete", sid, NULL), "bad-request",
                 "bad-action", NULL);
    expect_status(
        command(TECH, "wizard", "next", sid, SUBMIT(FIELD("name", "Ann"))),
        "executing");
    /* next on the last stage is taken as complete (poezio's habit) */
    expect_error(command(TECH, "wizard", "next", sid, NULL), "bad-request",
                 NULL, "Field 'phone' is required");
    r = command(TECH, "wizard", "prev", sid, NULL);
    expect_status(r, "executing");
    assert_non_null(xmpp_stanza_get_child_by_name(cmd_child(r), "x"));
    expect_status(
        command(TECH, "wizard", "next", sid, SUBMIT(FIELD("name", "Ann"))),
        "executing");
    expect_status(
        command(TECH, "wizard", "complete", sid, SUBMIT(FIELD("phone", "2"))),
        "completed");
    expect_error(command(TECH, "wizard", "jump", NULL, NULL), "bad-request",
                 "malformed-action", NULL);
    expect_error(command(TECH, "wizard", "prev", NULL, NULL), "bad-request",
                 "bad-action", NULL);
}

static void test_cancel(void **state)
{
    char sid[128];
    xmpp_stanza_t *r;

    (void)state;
    snprintf(sid, sizeof(sid), "%s",
             sessionid(command(TECH, "wizard", NULL, NULL, NULL)));
    r = command(TECH, "wizard", "cancel", sid, NULL);
    expect_status(r, "canceled");
    assert_string_equal(sessionid(r), sid);
    assert_int_equal(adhoc_session_count(&app), 0);
    assert_int_equal(states_freed, 1);
    /* cancelling again is harmless */
    expect_status(command(TECH, "wizard", "cancel", sid, NULL), "canceled");
}

static void test_sessionid_bound_to_full_jid(void **state)
{
    char sid[128];

    (void)state;
    snprintf(sid, sizeof(sid), "%s",
             sessionid(command(TECH, "wizard", NULL, NULL, NULL)));
    expect_error(command("tech2@localhost/dino", "wizard", "next", sid,
                         SUBMIT(FIELD("name", "Mallory"))),
                 "bad-request", "bad-sessionid", NULL);
    expect_error(command("tech@localhost/other", "wizard", "cancel", sid, NULL),
                 "bad-request", "bad-sessionid", NULL);
    expect_error(command("admin@localhost/x", "settings", NULL, sid, NULL),
                 "bad-request", "bad-sessionid", NULL);
    expect_error(command(TECH, "start-chat", NULL, sid, NULL), "forbidden",
                 NULL, NULL);
    assert_int_equal(adhoc_session_count(&app), 1);
    expect_status(
        command(TECH, "wizard", "next", sid, SUBMIT(FIELD("name", "Tom"))),
        "executing");
}

static void test_reaping(void **state)
{
    char sid[128];

    (void)state;
    snprintf(sid, sizeof(sid), "%s",
             sessionid(command(TECH, "wizard", NULL, NULL, NULL)));
    clock_advance(599);
    assert_int_equal(adhoc_reap(&app), 0);
    expect_status(
        command(TECH, "wizard", "next", sid, SUBMIT(FIELD("name", "Zed"))),
        "executing"); /* activity restarts the timeout */
    clock_advance(599);
    assert_int_equal(adhoc_reap(&app), 0);
    clock_advance(1);
    assert_int_equal(adhoc_reap(&app), 1);
    assert_int_equal(states_freed, 1);
    expect_error(
        command(TECH, "wizard", "complete", sid, SUBMIT(FIELD("phone", "3"))),
        "not-allowed", "session-expired", NULL);
    /* reaped on request too, with a shorter timeout */
    assert_int_equal(adhoc_set_timeout(&app, 30), 0);
    assert_int_equal(adhoc_set_timeout(&app, 0), -1);
    snprintf(sid, sizeof(sid), "%s",
             sessionid(command(TECH, "wizard", NULL, NULL, NULL)));
    clock_advance(30);
    expect_error(
        command(TECH, "wizard", "next", sid, SUBMIT(FIELD("name", "Zed"))),
        "not-allowed", "session-expired", NULL);
    assert_int_equal(states_freed, 2);
    assert_int_equal(adhoc_session_count(&app), 0);
}

static void test_forbidden_and_not_authorized(void **state)
{
    xmpp_stanza_t *r;

    (void)state;
    expect_error(command(TECH, "settings", NULL, NULL, NULL), "forbidden", NULL,
                 "The 'settings' command is for chatdesk admins only");
    expect_error(command("alice@localhost/portal", "wizard", NULL, NULL, NULL),
                 "forbidden", NULL, "for chatdesk techs and admins only");
    expect_error(command("mallory@evil.example/x", "wizard", NULL, NULL, NULL),
                 "not-authorized", NULL, "mallory@evil.example is not");
    r = command("admin@localhost/x", "settings", NULL, NULL, NULL);
    expect_status(r, "completed");
    sessionid(r);
    assert_int_equal(adhoc_session_count(&app), 0);
    /* admins may run tech commands */
    expect_status(command("admin@localhost/x", "wizard", NULL, NULL, NULL),
                  "executing");
    assert_int_equal(adhoc_roles_of(&app, "admin@localhost"),
                     ADHOC_ROLE_ADMIN | ADHOC_ROLE_TECH);
    /* without a role function nobody is known */
    adhoc_set_role_fn(&app, NULL, NULL);
    expect_error(command(TECH, "wizard", NULL, NULL, NULL), "not-authorized",
                 NULL, NULL);
}

static void test_unknown_node_and_bad_requests(void **state)
{
    (void)state;
    expect_error(command(TECH, "nope", NULL, NULL, NULL), "item-not-found",
                 NULL, "There is no command 'nope' here");
    expect_error(feed("<iq type='set' id='c1' from='" TECH "'>"
                      "<command xmlns='" NS_COMMANDS "'/></iq>"),
                 "bad-request", NULL, "'node'");
    expect_error(command(TECH, "wizard", NULL, NULL,
                         "<x xmlns='jabber:x:data' type='submit'>"
                         "<field><value>1</value></field></x>"),
                 "bad-request", "bad-payload", "has no 'var'");
    assert_int_equal(adhoc_session_count(&app), 0);
}

static void test_single_screen(void **state)
{
    char sid[128];
    xmpp_stanza_t *r, *actions;
    const char *alice = "alice@localhost/portal";

    (void)state;
    r = command(alice, "start-chat", NULL, NULL, NULL);
    expect_status(r, "executing");
    actions = xmpp_stanza_get_child_by_name(cmd_child(r), "actions");
    assert_non_null(actions);
    assert_string_equal(xmpp_stanza_get_attribute(actions, "execute"),
                        "complete");
    assert_non_null(xmpp_stanza_get_child_by_name(actions, "complete"));
    assert_null(xmpp_stanza_get_child_by_name(actions, "next"));
    assert_null(xmpp_stanza_get_child_by_name(actions, "prev"));
    snprintf(sid, sizeof(sid), "%s", sessionid(r));
    expect_error(command(alice, "start-chat", "prev", sid, NULL), "bad-request",
                 "bad-action", NULL);
    r = command(alice, "start-chat", "execute", sid,
                SUBMIT(FIELD("description", "help")));
    expect_status(r, "completed");
    assert_string_equal(
        xmpp_stanza_get_attribute(
            xmpp_stanza_get_child_by_name(cmd_child(r), "note"), "type"),
        "warn");
}

/* poezio sends next on every stage, the single screen included. */
static void test_next_completes_last_stage(void **state)
{
    char sid[128];
    xmpp_stanza_t *r;
    const char *alice = "alice@localhost/poezio";

    (void)state;
    snprintf(sid, sizeof(sid), "%s",
             sessionid(command(alice, "start-chat", "next", NULL, NULL)));
    r = command(alice, "start-chat", "next", sid,
                SUBMIT(FIELD("description", "help")));
    expect_status(r, "completed");
    snprintf(sid, sizeof(sid), "%s",
             sessionid(command(TECH, "wizard", "next", NULL, NULL)));
    expect_status(
        command(TECH, "wizard", "next", sid, SUBMIT(FIELD("name", "Pat"))),
        "executing");
    expect_status(
        command(TECH, "wizard", "next", sid, SUBMIT(FIELD("phone", "3"))),
        "completed");
    assert_int_equal(adhoc_session_count(&app), 0);
}

/* A result table with a note of its own. */
static void table_step(struct adhoc_request *req, struct adhoc_reply *reply)
{
    struct form *f = form_new(FORM_RESULT, NULL);

    (void)req;
    form_add_reported(f, FIELD_TEXT_SINGLE, "session", "Session");
    form_add_reported(f, FIELD_TEXT_SINGLE, "state", "State");
    form_item_set(form_add_item(f), "session", "7");
    form_item_set(form_add_item(f), "state", "waiting");
    adhoc_reply_completed(reply, f);
    adhoc_reply_note(reply, "warn", "Showing the first 2");
}

/* The rows come once more as a text note, after the step's own notes. */
static void test_table_as_text(void **state)
{
    static const struct adhoc_command table_cmd = {
        "table", "Table", ADHOC_ROLE_TECH, table_step, NULL, NULL};
    xmpp_stanza_t *c, *note;
    char *text;

    (void)state;
    assert_int_equal(adhoc_add_command(&app, &table_cmd), 0);
    c = cmd_child(command(TECH, "table", NULL, NULL, NULL));
    note = xmpp_stanza_get_child_by_name(c, "note");
    assert_string_equal(xmpp_stanza_get_attribute(note, "type"), "warn");
    note = xmpp_stanza_get_next(note);
    assert_string_equal(xmpp_stanza_get_name(note), "note");
    assert_string_equal(xmpp_stanza_get_attribute(note, "type"), "info");
    text = xmpp_stanza_get_text(note);
    assert_string_equal(text, "Session: 7\nState: waiting");
    xmpp_free(app.ctx, text);
    /* and as a text-multi field of the result, one value a row */
    xmpp_stanza_t *x = xmpp_stanza_get_child_by_name(c, "x");
    xmpp_stanza_t *f = xmpp_stanza_get_child_by_name(x, "field");
    while (f && (!xmpp_stanza_get_attribute(f, "var") ||
                 strcmp(xmpp_stanza_get_attribute(f, "var"), ADHOC_ROWS_VAR)))
        f = xmpp_stanza_get_next(f);
    assert_non_null(f);
    assert_string_equal(xmpp_stanza_get_type(f), "text-multi");
    text = xmpp_stanza_get_text(xmpp_stanza_get_child_by_name(f, "value"));
    assert_string_equal(text, "Session: 7");
    xmpp_free(app.ctx, text);
    /* a form without rows gets no such note */
    c = cmd_child(command(TECH, "wizard", NULL, NULL, NULL));
    assert_null(xmpp_stanza_get_child_by_name(c, "note"));
}

static void test_session_limit(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < ADHOC_MAX_SESSIONS_PER_JID; i++)
        expect_status(command(TECH, "wizard", NULL, NULL, NULL), "executing");
    expect_error(command(TECH, "wizard", NULL, NULL, NULL),
                 "resource-constraint", NULL, "unfinished");
    /* teardown frees the open sessions and their state */
}

static void test_command_table(void **state)
{
    struct adhoc_command bad = wizard_cmd;

    (void)state;
    assert_int_equal(adhoc_add_command(&app, &wizard_cmd), -1); /* dup */
    bad.node = "other";
    bad.step = NULL;
    assert_int_equal(adhoc_add_command(&app, &bad), -1);
    assert_true(disco_has_feature(app.disco, NS_COMMANDS));
    assert_true(disco_has_feature(app.disco, NS_DATA));
}

/* disco#items on the commands node for from: the nodes listed, in order,
 * joined with ','. */
static void disco_nodes(const char *from, char *out, size_t len)
{
    char xml[512];
    xmpp_stanza_t *r, *q, *item;

    snprintf(xml, sizeof(xml),
             "<iq type='get' id='d1' from='%s' to='helpdesk.localhost'>"
             "<query xmlns='" NS_DISCO_ITEMS "' node='" NS_COMMANDS "'/>"
             "</iq>",
             from);
    r = feed(xml);
    assert_string_equal(xmpp_stanza_get_type(r), "result");
    q = xmpp_stanza_get_child_by_name(r, "query");
    assert_non_null(q);
    out[0] = '\0';
    for (item = xmpp_stanza_get_children(q); item;
         item = xmpp_stanza_get_next(item)) {
        assert_string_equal(xmpp_stanza_get_attribute(item, "jid"),
                            "helpdesk.localhost");
        assert_non_null(xmpp_stanza_get_attribute(item, "name"));
        if (*out)
            strncat(out, ",", len - strlen(out) - 1);
        strncat(out, xmpp_stanza_get_attribute(item, "node"),
                len - strlen(out) - 1);
    }
}

static void test_disco_items_by_role(void **state)
{
    char nodes[256];

    (void)state;
    disco_nodes("alice@localhost/portal", nodes, sizeof(nodes));
    assert_string_equal(nodes, "start-chat");
    disco_nodes(TECH, nodes, sizeof(nodes));
    assert_string_equal(nodes, "wizard");
    disco_nodes("admin@localhost/x", nodes, sizeof(nodes));
    assert_string_equal(nodes, "wizard,settings");
    disco_nodes("stranger@localhost/x", nodes, sizeof(nodes));
    assert_string_equal(nodes, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_execute_gives_form_and_actions,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_then_complete, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_field_error_keeps_session, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prev_and_bad_action, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessionid_bound_to_full_jid, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forbidden_and_not_authorized,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_node_and_bad_requests,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_screen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_completes_last_stage, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_table_as_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disco_items_by_role, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
