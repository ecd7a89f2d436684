/* test_stanza.c - the reply and reading helpers of runtime/stanza.h: iq
 * results, children with and without a namespace, child text, error
 * replies and empty results sent through the app. */
#include "testkit.h"

#define NS_X "urn:example:x"

static int setup(void **state)
{
    (void)state;
    testkit_setup();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testkit_teardown();
    return 0;
}

static xmpp_stanza_t *parse(const char *xml)
{
    xmpp_stanza_t *s = xmpp_stanza_new_from_string(tk.app.ctx, xml);
    assert_non_null(s);
    return s;
}

static void test_iq_result_swaps_addresses(void **state)
{
    (void)state;
    xmpp_stanza_t *iq =
        parse("<iq type='get' id='q1' from='a@localhost/r' "
              "to='helpdesk.localhost'><q xmlns='urn:q'/></iq>");
    xmpp_stanza_t *res = stanza_iq_result(tk.app.ctx, iq);
    assert_string_equal(xmpp_stanza_get_name(res), "iq");
    assert_string_equal(xmpp_stanza_get_type(res), "result");
    assert_string_equal(xmpp_stanza_get_id(res), "q1");
    assert_string_equal(xmpp_stanza_get_to(res), "a@localhost/r");
    assert_string_equal(xmpp_stanza_get_from(res), "helpdesk.localhost");
    assert_null(xmpp_stanza_get_children(res));
    xmpp_stanza_release(res);
    xmpp_stanza_release(iq);
}

static void test_iq_result_without_addresses(void **state)
{
    (void)state;
    xmpp_stanza_t *iq = parse("<iq type='get' id='q2'/>");
    xmpp_stanza_t *res = stanza_iq_result(tk.app.ctx, iq);
    assert_string_equal(xmpp_stanza_get_id(res), "q2");
    assert_null(xmpp_stanza_get_to(res));
    assert_null(xmpp_stanza_get_from(res));
    xmpp_stanza_release(res);
    xmpp_stanza_release(iq);
}

static void test_children_are_appended_in_order(void **state)
{
    (void)state;
    xmpp_stanza_t *p = xmpp_message_new(tk.app.ctx, NULL, NULL, NULL);
    xmpp_stanza_t *a = stanza_add_child_ns(p, "a", NS_X);
    xmpp_stanza_t *b = stanza_add_child_ns(p, "b", NULL);
    xmpp_stanza_t *t = stanza_add_text_child(p, "body", NULL, "hi & bye");
    xmpp_stanza_t *e = stanza_add_text_child(p, "subject", NS_X, NULL);
    assert_ptr_equal(xmpp_stanza_get_children(p), a);
    assert_ptr_equal(xmpp_stanza_get_next(a), b);
    assert_ptr_equal(xmpp_stanza_get_next(b), t);
    assert_ptr_equal(xmpp_stanza_get_next(t), e);
    assert_string_equal(xmpp_stanza_get_name(a), "a");
    assert_string_equal(xmpp_stanza_get_ns(a), NS_X);
    assert_null(xmpp_stanza_get_ns(b));
    assert_null(xmpp_stanza_get_children(b));
    assert_string_equal(xmpp_stanza_get_ns(e), NS_X);
    char *text = xmpp_stanza_get_text(t);
    assert_string_equal(text, "hi & bye");
    xmpp_free(tk.app.ctx, text);
    assert_non_null(xmpp_stanza_get_children(e)); /* NULL text: "" */
    text = xmpp_stanza_get_text(e);
    assert_true(!text || !*text);
    if (text)
        xmpp_free(tk.app.ctx, text);
    xmpp_stanza_release(p);
}

static void test_child_text(void **state)
{
    (void)state;
    xmpp_stanza_t *m = parse("<message><body>one</body><x xmlns='urn:a'>"
                             "<y/></x><body xmlns='" NS_X "'>two</body>"
                             "<empty/></message>");
    char *t = stanza_child_text(m, "body", NULL);
    assert_string_equal(t, "one");
    xmpp_free(tk.app.ctx, t);
    t = stanza_child_text(m, "body", NS_X);
    assert_string_equal(t, "two");
    xmpp_free(tk.app.ctx, t);
    assert_null(stanza_child_text(m, "body", "urn:other"));
    assert_null(stanza_child_text(m, "missing", NULL));
    assert_null(stanza_child_text(m, "empty", NULL));
    xmpp_stanza_release(m);
}

static void test_send_error(void **state)
{
    (void)state;
    xmpp_stanza_t *iq =
        parse("<iq type='set' id='e1' from='a@localhost/r' "
              "to='helpdesk.localhost'><q xmlns='urn:q'/></iq>");
    send_error(&tk.app, iq, "modify", "bad-request", "Say it again.");
    assert_int_equal(tk.n_sent, 1);
    xmpp_stanza_t *r = tk.sent[0];
    assert_string_equal(xmpp_stanza_get_name(r), "iq");
    assert_string_equal(xmpp_stanza_get_type(r), "error");
    assert_string_equal(xmpp_stanza_get_id(r), "e1");
    assert_string_equal(xmpp_stanza_get_to(r), "a@localhost/r");
    assert_string_equal(xmpp_stanza_get_from(r), "helpdesk.localhost");
    xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(r, "error");
    assert_non_null(err);
    assert_string_equal(xmpp_stanza_get_type(err), "modify");
    assert_string_equal(testkit_error(0), "bad-request");
    xmpp_stanza_t *text =
        xmpp_stanza_get_child_by_name_and_ns(err, "text", NS_STANZAS);
    assert_non_null(text);
    assert_string_equal(xmpp_stanza_get_attribute(text, "xml:lang"), "en");
    char *t = xmpp_stanza_get_text(text);
    assert_string_equal(t, "Say it again.");
    xmpp_free(tk.app.ctx, t);
    assert_null(xmpp_stanza_get_child_by_name(r, "q")); /* no payload echo */
    xmpp_stanza_release(iq);
}

static void test_send_error_keeps_the_kind(void **state)
{
    (void)state;
    xmpp_stanza_t *m = parse("<message from='a@localhost/r' "
                             "to='x@helpdesk.localhost'><body>b</body>"
                             "</message>");
    send_error(&tk.app, m, "cancel", "not-acceptable", "");
    send_error(&tk.app, m, "auth", "forbidden", NULL);
    assert_int_equal(tk.n_sent, 2);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(xmpp_stanza_get_name(tk.sent[i]), "message");
        assert_null(xmpp_stanza_get_id(tk.sent[i]));
        assert_false(testkit_contains(i, "<text"));
    }
    assert_string_equal(testkit_error(0), "not-acceptable");
    assert_string_equal(testkit_error(1), "forbidden");
    xmpp_stanza_release(m);
}

static void test_send_iq_result(void **state)
{
    (void)state;
    xmpp_stanza_t *iq = parse("<iq type='get' id='p' from='a@localhost/r' "
                              "to='helpdesk.localhost'><ping "
                              "xmlns='urn:xmpp:ping'/></iq>");
    send_iq_result(&tk.app, iq);
    assert_int_equal(tk.n_sent, 1);
    assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "result");
    assert_string_equal(xmpp_stanza_get_id(tk.sent[0]), "p");
    assert_string_equal(xmpp_stanza_get_to(tk.sent[0]), "a@localhost/r");
    assert_null(xmpp_stanza_get_children(tk.sent[0]));
    xmpp_stanza_release(iq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_iq_result_swaps_addresses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_iq_result_without_addresses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_children_are_appended_in_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_error_keeps_the_kind, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_send_iq_result, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
