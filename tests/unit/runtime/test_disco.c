/* test_disco.c - the disco registry of runtime/disco.h: features (sorted,
 * kept once), identities (in order, name optional), item providers by node,
 * the entity provider, and the disco#info / disco#items answers
 * xep0030_disco.c builds from them. */
#include "testkit.h"

#include "xep0030_disco.h"

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

/* The attribute name of the i-th child element of q called child. */
static const char *nth_attr(xmpp_stanza_t *q, const char *child, int i,
                            const char *name)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(q); c;
         c = xmpp_stanza_get_next(c)) {
        if (xmpp_stanza_is_tag(c) && !strcmp(xmpp_stanza_get_name(c), child) &&
            i-- == 0)
            return xmpp_stanza_get_attribute(c, name);
    }
    return NULL;
}

static int count_children(xmpp_stanza_t *q)
{
    int n = 0;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(q); c;
         c = xmpp_stanza_get_next(c))
        n++;
    return n;
}

static xmpp_stanza_t *new_query(void)
{
    xmpp_stanza_t *q = xmpp_stanza_new(tk.app.ctx);
    xmpp_stanza_set_name(q, "query");
    return q;
}

static void test_features_sorted_and_kept_once(void **state)
{
    (void)state;
    struct disco *d = tk.app.disco;
    assert_int_equal(disco_add_feature(d, "urn:b"), 0);
    assert_int_equal(disco_add_feature(d, "urn:c"), 0);
    assert_int_equal(disco_add_feature(d, "urn:a"), 0);
    assert_int_equal(disco_add_feature(d, "urn:b"), 0);
    assert_true(disco_has_feature(d, "urn:a"));
    assert_true(disco_has_feature(d, "urn:c"));
    assert_false(disco_has_feature(d, "urn:d"));
    xmpp_stanza_t *q = new_query();
    disco_fill_info(d, q);
    assert_int_equal(count_children(q), 3);
    assert_string_equal(nth_attr(q, "feature", 0, "var"), "urn:a");
    assert_string_equal(nth_attr(q, "feature", 1, "var"), "urn:b");
    assert_string_equal(nth_attr(q, "feature", 2, "var"), "urn:c");
    xmpp_stanza_release(q);
}

static void test_identities_before_features(void **state)
{
    (void)state;
    struct disco *d = tk.app.disco;
    assert_int_equal(disco_add_feature(d, "urn:f"), 0);
    assert_int_equal(disco_add_identity(d, "component", "generic", "Desk"), 0);
    assert_int_equal(disco_add_identity(d, "conference", "text", NULL), 0);
    assert_int_equal(disco_add_identity(d, "client", "bot", ""), 0);
    xmpp_stanza_t *q = new_query();
    disco_fill_info(d, q);
    assert_int_equal(count_children(q), 4);
    assert_string_equal(xmpp_stanza_get_name(xmpp_stanza_get_children(q)),
                        "identity");
    assert_string_equal(nth_attr(q, "identity", 0, "category"), "component");
    assert_string_equal(nth_attr(q, "identity", 0, "type"), "generic");
    assert_string_equal(nth_attr(q, "identity", 0, "name"), "Desk");
    assert_string_equal(nth_attr(q, "identity", 1, "category"), "conference");
    assert_null(nth_attr(q, "identity", 1, "name"));
    assert_string_equal(nth_attr(q, "identity", 2, "type"), "bot");
    assert_null(nth_attr(q, "identity", 2, "name"));
    assert_string_equal(nth_attr(q, "feature", 0, "var"), "urn:f");
    xmpp_stanza_release(q);
}

static const char *items_from;

static void add_item(struct app *app, const char *from, xmpp_stanza_t *query,
                     void *ud)
{
    (void)app;
    items_from = from;
    xmpp_stanza_set_attribute(stanza_add_child_ns(query, "item", NULL), "jid",
                              ud);
}

static void test_items_by_node(void **state)
{
    (void)state;
    struct disco *d = tk.app.disco;
    assert_int_equal(disco_add_items_node(d, "", add_item, "root@x"), 0);
    assert_int_equal(disco_add_items_node(d, "cmds", add_item, "cmd@x"), 0);
    xmpp_stanza_t *q = new_query();
    assert_int_equal(disco_fill_items(d, &tk.app, "cmds", "a@b/c", q), 0);
    assert_string_equal(items_from, "a@b/c");
    assert_string_equal(nth_attr(q, "item", 0, "jid"), "cmd@x");
    assert_int_equal(disco_fill_items(d, &tk.app, NULL, "a@b/c", q), 0);
    assert_string_equal(nth_attr(q, "item", 1, "jid"), "root@x");
    assert_int_equal(disco_fill_items(d, &tk.app, "none", "a@b/c", q), -1);
    assert_int_equal(count_children(q), 2);
    xmpp_stanza_release(q);
}

static int entity_answer;
static int entity_calls;

static int entity(struct app *app, xmpp_stanza_t *iq, xmpp_stanza_t *payload,
                  void *ud)
{
    (void)app, (void)iq, (void)payload;
    assert_string_equal(ud, "entity-ud");
    entity_calls++;
    return entity_answer;
}

static void test_entity_provider(void **state)
{
    (void)state;
    struct disco *d = tk.app.disco;
    xmpp_stanza_t *q = new_query();
    assert_int_equal(disco_answer_entity(d, &tk.app, q, q), 0);
    disco_set_entity_info(d, entity, "entity-ud");
    entity_answer = 7;
    assert_int_equal(disco_answer_entity(d, &tk.app, q, q), 1);
    entity_answer = 0;
    assert_int_equal(disco_answer_entity(d, &tk.app, q, q), 0);
    assert_int_equal(entity_calls, 2);
    disco_set_entity_info(d, NULL, NULL);
    assert_int_equal(disco_answer_entity(d, &tk.app, q, q), 0);
    assert_int_equal(entity_calls, 2);
    xmpp_stanza_release(q);
}

static void test_answers_built_from_the_registry(void **state)
{
    (void)state;
    assert_int_equal(xep0030_register(&tk.app), 0);
    assert_int_equal(disco_add_feature(tk.app.disco, "urn:example:feature"), 0);
    assert_int_equal(
        disco_add_items_node(tk.app.disco, "cmds", add_item, "cmd@x"), 0);
    testkit_feed("<iq type='get' id='i' from='a@localhost/r' "
                 "to='helpdesk.localhost'><query xmlns='" NS_DISCO_INFO
                 "'/></iq>");
    assert_int_equal(tk.n_sent, 1);
    assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "result");
    xmpp_stanza_t *q = xmpp_stanza_get_child_by_name_and_ns(tk.sent[0], "query",
                                                            NS_DISCO_INFO);
    assert_non_null(q);
    assert_string_equal(nth_attr(q, "identity", 0, "category"), "component");
    assert_string_equal(nth_attr(q, "feature", 0, "var"), NS_DISCO_INFO);
    assert_string_equal(nth_attr(q, "feature", 1, "var"), NS_DISCO_ITEMS);
    assert_string_equal(nth_attr(q, "feature", 2, "var"),
                        "urn:example:feature");
    testkit_feed(
        "<iq type='get' id='j' from='a@localhost/r' "
        "to='helpdesk.localhost'><query node='cmds' xmlns='" NS_DISCO_ITEMS
        "'/></iq>");
    assert_int_equal(tk.n_sent, 1);
    q = xmpp_stanza_get_child_by_name_and_ns(tk.sent[0], "query",
                                             NS_DISCO_ITEMS);
    assert_non_null(q);
    assert_string_equal(xmpp_stanza_get_attribute(q, "node"), "cmds");
    assert_string_equal(nth_attr(q, "item", 0, "jid"), "cmd@x");
    testkit_feed(
        "<iq type='get' id='k' from='a@localhost/r' "
        "to='helpdesk.localhost'><query node='none' xmlns='" NS_DISCO_ITEMS
        "'/></iq>");
    assert_string_equal(testkit_error(0), "item-not-found");
}

static void add_ext(struct app *app, xmpp_stanza_t *query, void *ud)
{
    xmpp_stanza_t *x = xmpp_stanza_new(app->ctx);
    xmpp_stanza_set_name(x, "x");
    xmpp_stanza_set_ns(x, "jabber:x:data");
    xmpp_stanza_set_attribute(x, "type", (const char *)ud);
    xmpp_stanza_add_child(query, x);
    xmpp_stanza_release(x);
}

/* XEP-0128: the extension provider adds its form after the features, on
 * every disco#info answer of the service; removed, nothing is added. */
static void test_info_extension(void **state)
{
    (void)state;
    assert_int_equal(xep0030_register(&tk.app), 0);
    disco_set_info_ext(tk.app.disco, add_ext, "result");
    const char *ask = "<iq type='get' id='i' from='a@localhost/r' "
                      "to='helpdesk.localhost'><query xmlns='" NS_DISCO_INFO
                      "'/></iq>";
    testkit_feed(ask);
    xmpp_stanza_t *q = xmpp_stanza_get_child_by_name_and_ns(tk.sent[0], "query",
                                                            NS_DISCO_INFO);
    xmpp_stanza_t *x =
        xmpp_stanza_get_child_by_name_and_ns(q, "x", "jabber:x:data");
    assert_non_null(x);
    assert_string_equal(xmpp_stanza_get_attribute(x, "type"), "result");
    disco_set_info_ext(tk.app.disco, NULL, NULL);
    testkit_feed(ask);
    q = xmpp_stanza_get_child_by_name_and_ns(tk.sent[0], "query",
                                             NS_DISCO_INFO);
    assert_null(xmpp_stanza_get_child_by_name_and_ns(q, "x", "jabber:x:data"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_features_sorted_and_kept_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_identities_before_features, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_items_by_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entity_provider, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answers_built_from_the_registry,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_info_extension, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
