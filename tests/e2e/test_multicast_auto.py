# databases: sqlite (only: finding the XEP-0033 service never touches the
# store; room messages on PostgreSQL: test_sessions, test_chat_extras)
"""[component] multicast = auto: chatdesk finds the server's XEP-0033
service by itself.

On ejabberd (mod_multicast in config/ejabberd.yml) the server's disco#items
lists multicast.localhost, whose disco#info has the address feature: the
log names it and room messages reach every occupant through it. On Prosody
there is none: the log says so and room messages go one stanza per
occupant. Either way alice and tom get each other's messages once. Prints
one line per test and "N passed, M failed" last.
"""

import re

from e2e import harness as h
from e2e import chatlib as cl


async def test_finds_the_service_or_says_none(env):
    if h.SERVER == "ejabberd":
        await cl.wait_log(env, re.escape(
            "room messages fan out through multicast.%s (XEP-0033)" %
            h.DOMAIN))
    else:
        await cl.wait_log(env, re.escape(
            "no XEP-0033 multicast service on %s" % h.DOMAIN))
    h.check("does not offer" not in env.chatdesk.text(),
            "no warning in auto mode")


async def test_room_messages_arrive_once(env):
    alice = await cl.login(env, "alice")
    tom = await cl.login(env, "tom")
    f = await cl.start_chat(alice, "Screen is blank")
    await cl.join(alice, f["room"], "alice")
    await cl.join(tom, f["room"], "tom")
    await cl.wait_state(env, f["session"], "active")
    ma, mt = cl.Mark(alice), cl.Mark(tom)
    cl.say(tom, f["room"], "Is it plugged in?")
    for c, m in ((alice, ma), (tom, mt)):
        await cl.wait_message(c, lambda x: cl.body(x) == "Is it plugged in?",
                              m, what="the message")
    await cl.no_message(alice, lambda x: False, wait=0.5)
    for m in (ma, mt):
        got = [x for x in m.messages() if cl.body(x) == "Is it plugged in?"]
        h.check(len(got) == 1, "once each, got %d" % len(got))


if __name__ == "__main__":
    cl.main(None, [test_finds_the_service_or_says_none,
                   test_room_messages_arrive_once],
            extra=cl.CHAT_EXTRA + "\n[component]\nmulticast = auto\n")
