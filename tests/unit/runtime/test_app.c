/* test_app.c - the last line before the wire (component/runtime/app.c): no
 * stanza larger than [limits] max_stanza_bytes leaves chatdesk; an iq
 * result that would is answered with an error instead. */
#include "testkit.h"

#include "runtime/config.h"

#include <stdlib.h>

static struct config cfg;

static int setup(void **state)
{
    (void)state;
    testkit_setup();
    config_defaults(&cfg);
    cfg.max_stanza_bytes = 20000;
    tk.app.cfg = &cfg;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testkit_teardown();
    return 0;
}

/* A <name type=type to=... id=i1> with a <body/> of n copies of c. */
static xmpp_stanza_t *with_body(const char *name, const char *type, size_t n,
                                char c)
{
    xmpp_stanza_t *st = xmpp_stanza_new(tk.app.ctx);
    xmpp_stanza_t *b = xmpp_stanza_new(tk.app.ctx);
    xmpp_stanza_t *t = xmpp_stanza_new(tk.app.ctx);
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, c, n);
    text[n] = '\0';
    xmpp_stanza_set_name(st, name);
    xmpp_stanza_set_type(st, type);
    xmpp_stanza_set_id(st, "i1");
    xmpp_stanza_set_to(st, "tom@localhost/desk");
    xmpp_stanza_set_name(b, "body");
    xmpp_stanza_set_text(t, text);
    free(text);
    xmpp_stanza_add_child_ex(b, t, 0);
    xmpp_stanza_add_child_ex(st, b, 0);
    return st;
}

static void send_and_release(xmpp_stanza_t *st)
{
    app_send(&tk.app, st);
    xmpp_stanza_release(st);
}

static void test_under_the_limit_goes_out(void **state)
{
    (void)state;
    /* 19000 bytes of text: its cheap bound is over, the real size under */
    send_and_release(with_body("message", "chat", 19000, 'x'));
    assert_int_equal(tk.n_sent, 1);
    assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "chat");
    assert_string_equal(xmpp_stanza_get_from(tk.sent[0]), "helpdesk.localhost");
}

static void test_oversize_result_becomes_an_error(void **state)
{
    (void)state;
    /* 5000 '<' are 20000 bytes once escaped */
    send_and_release(with_body("iq", "result", 5000, '<'));
    assert_int_equal(tk.n_sent, 1);
    assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "error");
    assert_string_equal(xmpp_stanza_get_id(tk.sent[0]), "i1");
    assert_string_equal(xmpp_stanza_get_to(tk.sent[0]), "tom@localhost/desk");
    assert_string_equal(testkit_error(0), "resource-constraint");
    assert_true(testkit_contains(0, "max_stanza_bytes"));
    assert_true(testkit_contains(0, "(20000,"));
}

static void test_oversize_message_is_not_sent(void **state)
{
    (void)state;
    send_and_release(with_body("message", "groupchat", 30000, 'y'));
    assert_int_equal(tk.n_sent, 0);
    send_and_release(with_body("presence", "unavailable", 30000, 'y'));
    assert_int_equal(tk.n_sent, 0);
}

static void test_default_without_config(void **state)
{
    (void)state;
    tk.app.cfg = NULL;
    send_and_release(with_body("message", "chat", 200000, 'z'));
    assert_int_equal(tk.n_sent, 1);
    testkit_clear();
    send_and_release(
        with_body("message", "chat", CONFIG_MAX_STANZA_BYTES, 'z'));
    assert_int_equal(tk.n_sent, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_under_the_limit_goes_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_oversize_result_becomes_an_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversize_message_is_not_sent,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_without_config, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
