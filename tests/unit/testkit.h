/* testkit.h - a shared harness for unit tests that drive the component's
 * dispatch table without a network: an app whose sender captures stanzas.
 *
 *   testkit_setup();                      // app with ctx/dispatch/disco
 *   xep0199_register(&tk.app);
 *   testkit_feed("<iq type='get' .../>");  // through dispatch_stanza()
 *   assert_int_equal(tk.n_sent, 1);
 *   assert_string_equal(testkit_error(0), "service-unavailable");
 *   testkit_teardown();                    // zero leaks under ASan
 */
#ifndef CHATDESK_TESTKIT_H
#define CHATDESK_TESTKIT_H

// clang-format off: cmocka.h needs these first
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <string.h>
#include <strophe.h>

#include "testdb.h"
#include "runtime/app.h"
#include "runtime/disco.h"
#include "runtime/dispatch.h"
#include "runtime/stanza.h"

#define TESTKIT_MAX_SENT 64

static struct testkit {
    struct app app;
    xmpp_stanza_t *sent[TESTKIT_MAX_SENT];
    int n_sent;
} tk;

static void testkit__capture(void *ud, xmpp_stanza_t *stanza)
{
    (void)ud;
    assert_true(tk.n_sent < TESTKIT_MAX_SENT);
    tk.sent[tk.n_sent++] = xmpp_stanza_copy(stanza);
}

static inline void testkit_clear(void)
{
    while (tk.n_sent > 0)
        xmpp_stanza_release(tk.sent[--tk.n_sent]);
}

static inline void testkit_setup(void)
{
    memset(&tk, 0, sizeof tk);
    xmpp_initialize();
    tk.app.ctx = xmpp_ctx_new(NULL, NULL);
    tk.app.dispatch = dispatch_new();
    tk.app.disco = disco_new();
    tk.app.jid = "helpdesk.localhost";
    tk.app.send = testkit__capture;
}

static inline void testkit_teardown(void)
{
    testkit_clear();
    dispatch_free(tk.app.dispatch);
    disco_free(tk.app.disco);
    xmpp_ctx_free(tk.app.ctx);
    xmpp_shutdown();
}

/* Parse xml and route it through dispatch_stanza(); clears earlier sends. */
static inline void testkit_feed(const char *xml)
{
    xmpp_stanza_t *s = xmpp_stanza_new_from_string(tk.app.ctx, xml);
    assert_non_null(s);
    testkit_clear();
    dispatch_stanza(tk.app.dispatch, &tk.app, s);
    xmpp_stanza_release(s);
    /* as conn.c after a quiet pass: the answers to refused messages */
    dispatch_send_refusals(tk.app.dispatch, &tk.app,
                           dispatch_refusals_pending(tk.app.dispatch));
}

/* The defined condition of sent stanza i's <error/>, or NULL. */
static inline const char *testkit_error(int i)
{
    assert_true(i < tk.n_sent);
    xmpp_stanza_t *e = xmpp_stanza_get_child_by_name(tk.sent[i], "error");
    if (!e)
        return NULL;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(e); c;
         c = xmpp_stanza_get_next(c)) {
        const char *ns = xmpp_stanza_get_ns(c);
        if (xmpp_stanza_is_tag(c) && ns && !strcmp(ns, NS_STANZAS) &&
            strcmp(xmpp_stanza_get_name(c), "text"))
            return xmpp_stanza_get_name(c);
    }
    return NULL;
}

/* 1 if sent stanza i, serialized, contains needle. */
static inline int testkit_contains(int i, const char *needle)
{
    char *buf = NULL;
    size_t len = 0;
    assert_true(i < tk.n_sent);
    assert_int_equal(xmpp_stanza_to_text(tk.sent[i], &buf, &len), XMPP_EOK);
    int found = strstr(buf, needle) != NULL;
    xmpp_free(tk.app.ctx, buf);
    return found;
}

/* The bytes of stanza st serialized. */
static inline size_t testkit_size(xmpp_stanza_t *st)
{
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(xmpp_stanza_to_text(st, &buf, &len), XMPP_EOK);
    xmpp_free(tk.app.ctx, buf);
    return len;
}

/* ---- an app with the chat domain ---------------------------------------
 *
 *   testkit_setup_domain();   // config (admin@localhost an admin), a
 *                             // ":memory:" store, the domain, disco, ad-hoc
 *   commands_x_register(&tk.app);
 *   testkit_command(TECH, "node", NULL, NULL, NULL);
 *   testkit_teardown_domain();
 */
#include "runtime/config.h"
#include "domain/domain.h"
#include "domain/history.h"
#include "modules.h"
#include "runtime/store.h"
#include "xep0030_disco.h"
#include "xep0050_adhoc.h"

static struct config testkit_cfg;

/* testkit_setup_domain() on a database file (path) instead of ":memory:"
 * (a test that needs a second connection: the commit writer). */
static inline void testkit_setup_domain_at(const char *path)
{
    char err[256];
    testkit_setup();
    config_defaults(&testkit_cfg);
    snprintf(testkit_cfg.admins[0], sizeof testkit_cfg.admins[0],
             "admin@localhost");
    testkit_cfg.n_admins = 1;
    tk.app.cfg = &testkit_cfg;
    tk.app.store = store_open(testdb_target(path), err, sizeof err);
    assert_non_null(tk.app.store);
    tk.app.domain = domain_open(tk.app.store, &testkit_cfg, err, sizeof err);
    assert_non_null(tk.app.domain);
    tk.app.history = history_open(tk.app.store, tk.app.domain, err, sizeof err);
    assert_non_null(tk.app.history);
    assert_int_equal(xep0030_register(&tk.app), 0);
    assert_int_equal(xep0050_register(&tk.app), 0);
    assert_int_equal(adhoc_set_role_fn(&tk.app, modules_adhoc_roles, NULL), 0);
}

static inline void testkit_setup_domain(void)
{
    testkit_setup_domain_at(":memory:");
}

static inline void testkit_teardown_domain(void)
{
    testkit_clear();
    xep0050_free(&tk.app);
    history_close(tk.app.history);
    domain_close(tk.app.domain);
    store_close(tk.app.store);
    testkit_teardown();
}

/* Run ad-hoc node as from (action, sessionid and payload may be NULL);
 * expects exactly one answer and returns it (owned by the testkit). */
static inline xmpp_stanza_t *testkit_command(const char *from, const char *node,
                                             const char *action,
                                             const char *session,
                                             const char *payload)
{
    char xml[16384];
    snprintf(xml, sizeof xml,
             "<iq type='set' id='c1' from='%s' to='helpdesk.localhost'>"
             "<command xmlns='" NS_COMMANDS "' node='%s'%s%s%s%s%s%s>%s"
             "</command></iq>",
             from, node, action ? " action='" : "", action ? action : "",
             action ? "'" : "", session ? " sessionid='" : "",
             session ? session : "", session ? "'" : "",
             payload ? payload : "");
    testkit_feed(xml);
    assert_int_equal(tk.n_sent, 1);
    return tk.sent[0];
}

/* ---- reading command replies ----------------------------------------- */
#include "xep0004_forms.h"

/* The <command/> of a reply (borrowed); fails the test without one. */
static inline xmpp_stanza_t *testkit_cmd_of(xmpp_stanza_t *iq)
{
    xmpp_stanza_t *c =
        xmpp_stanza_get_child_by_name_and_ns(iq, "command", NS_COMMANDS);
    assert_non_null(c);
    return c;
}

/* The reply is a result with <command status='status'/>. */
static inline void testkit_expect_status(xmpp_stanza_t *iq, const char *status)
{
    if (strcmp(xmpp_stanza_get_type(iq), "result") != 0) {
        char *buf;
        size_t len;
        xmpp_stanza_to_text(iq, &buf, &len);
        fail_msg("expected %s, got %s", status, buf);
    }
    assert_string_equal(xmpp_stanza_get_attribute(testkit_cmd_of(iq), "status"),
                        status);
}

/* The reply (the first sent stanza) is an error of type (NULL: any) and
 * condition whose <text/> contains text. */
static inline void testkit_expect_error(xmpp_stanza_t *iq, const char *type,
                                        const char *condition, const char *text)
{
    xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(iq, "error");
    assert_string_equal(xmpp_stanza_get_type(iq), "error");
    assert_non_null(err);
    if (type)
        assert_string_equal(xmpp_stanza_get_type(err), type);
    assert_string_equal(testkit_error(0), condition);
    xmpp_stanza_t *t =
        xmpp_stanza_get_child_by_name_and_ns(err, "text", NS_STANZAS);
    assert_non_null(t);
    char *s = xmpp_stanza_get_text(t);
    if (!strstr(s, text))
        fail_msg("error text '%s' lacks '%s'", s, text);
    xmpp_free(tk.app.ctx, s);
}

/* The data form of a reply (form_free it). */
static inline struct form *testkit_form_of(xmpp_stanza_t *iq)
{
    struct form *f = NULL;
    char err[FORM_ERR_LEN];
    if (form_parse(testkit_cmd_of(iq), &f, err, sizeof err) != FORM_OK)
        fail_msg("form: %s", err);
    return f;
}

/* The first <note/> of a reply, or "" (a static buffer). */
static inline const char *testkit_note_of(xmpp_stanza_t *iq)
{
    static char buf[512];
    xmpp_stanza_t *note =
        xmpp_stanza_get_child_by_name(testkit_cmd_of(iq), "note");
    buf[0] = '\0';
    if (note) {
        char *s = xmpp_stanza_get_text(note);
        snprintf(buf, sizeof buf, "%s", s ? s : "");
        xmpp_free(tk.app.ctx, s);
    }
    return buf;
}

#endif
