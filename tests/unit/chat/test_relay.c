/* test_relay.c - the sending half of chat/relay.h on its own: with
 * connections = auto a notice and a room's state go to the room's bare JID
 * from the domain; with a fixed number of connections (one process serves
 * every room) or no configuration, nothing is sent by either. */
#include "testkit.h"

#include "chat/relay.h"
#include "runtime/config.h"

static struct config cfg;

static int up(void **state)
{
    (void)state;
    testkit_setup();
    return 0;
}

static int down(void **state)
{
    (void)state;
    testkit_teardown();
    return 0;
}

/* With configuration c (NULL: none), send a notice and both room states;
 * how many stanzas went out. */
static int relay_all(const struct config *c)
{
    tk.app.cfg = c;
    testkit_clear();
    chat_relay_notice(&tk.app, "chat-7", "Tom ended the chat.", "n-1", NULL);
    chat_relay_room(&tk.app, 7, CHAT_RELAY_VOICE);
    chat_relay_room(&tk.app, 7, CHAT_RELAY_POSITION);
    return tk.n_sent;
}

static void test_several_processes_relay(void **state)
{
    (void)state;
    config_defaults(&cfg);
    cfg.connections = 0; /* auto */
    assert_int_equal(relay_all(&cfg), 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(xmpp_stanza_get_to(tk.sent[i]),
                            "chat-7@helpdesk.localhost");
        assert_string_equal(xmpp_stanza_get_from(tk.sent[i]),
                            "helpdesk.localhost");
        assert_string_equal(xmpp_stanza_get_type(tk.sent[i]), "headline");
        assert_true(testkit_contains(i, NS_CHATDESK_RELAY));
    }
    assert_true(testkit_contains(0, "id=\"n-1\""));
    assert_true(testkit_contains(0, "Tom ended the chat."));
    assert_true(testkit_contains(1, "what=\"voice\""));
    assert_true(testkit_contains(2, "what=\"position\""));
}

static void test_one_process_relays_nothing(void **state)
{
    (void)state;
    config_defaults(&cfg);
    cfg.connections = 1;
    assert_int_equal(relay_all(&cfg), 0);
    cfg.connections = 3;
    assert_int_equal(relay_all(&cfg), 0);
    assert_int_equal(relay_all(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_several_processes_relay),
        cmocka_unit_test(test_one_process_relays_nothing),
    };
    return cmocka_run_group_tests(tests, up, down);
}
