# databases: sqlite (only: the fan-out of room messages through XEP-0033 is
# the same whatever stores them, and the store paths a room message takes
# run on PostgreSQL in test_sessions, test_chat_extras and test_clients)
"""Room messages through the server's XEP-0033 multicast service.

chatdesk runs with `[component] multicast = multicast.localhost`. On
ejabberd (config/ejabberd.yml loads mod_multicast there) the service
answers disco#info with the address feature, so a room message to two or
more resources leaves chatdesk once, addressed to the service with every
resource as a bcc address (unit test_muc checks that stanza). Prosody has
no such service: chatdesk's disco#info gets an error, it says so in its
log, and every resource gets its own stanza. On both servers: each
occupant gets each message exactly once, with the room's from, the
stanza-id, and no <addresses/> (mod_multicast removes bcc addresses, so
nobody learns the others' JIDs); the Helpdesk notices arrive the same way;
nobody outside the room gets anything; a resource that leaves stops
getting messages and the others keep theirs. Prints one line per test and
"N passed, M failed" last.
"""

import re

from e2e import harness as h
from e2e import chatlib as cl

NS_ADDRESS = "{http://jabber.org/protocol/address}addresses"
S = {}


async def people(env):
    """alice in her chat; tom with two resources in it; eve outside."""
    alice = await cl.login(env, "alice")
    tom = await cl.login(env, "tom")
    tom2 = await cl.login(env, "tom", resource="laptop", known=False)
    eve = await cl.login(env, "eve", known=False)
    f = await cl.start_chat(alice, "Printer on fire")
    S.update(room=f["room"], session=f["session"])
    await cl.join(alice, S["room"], "alice")
    await cl.join(tom, S["room"], "tom")
    await cl.join(tom2, S["room"], "tom")
    await cl.wait_state(env, S["session"], "active")
    return alice, tom, tom2, eve


def copies_in(messages, text):
    return [m for m in messages if m["type"] == "groupchat" and
            m["from"].bare == S["room"] and cl.body(m) == text]


def copies(mark, text):
    return copies_in(mark.messages(), text)


async def expect_once(marks, text):
    for who, mark in marks.items():
        await cl.wait_message(mark.client, lambda m: bool(copies_in([m], text)),
                              mark, what="%s gets %r" % (who, text))
    await cl.no_message(list(marks.values())[0].client, lambda m: False,
                        wait=0.5)  # let any second copy arrive
    for who, mark in marks.items():
        got = copies(mark, text)
        h.check(len(got) == 1, "%s got %r %d times" % (who, text, len(got)))
        m = got[0]
        h.check(m.xml.find(NS_ADDRESS) is None,
                "%s sees no <addresses/>: %s" % (who, m))
        h.check(cl.stanza_id(m, S["room"]), "%s: a stanza-id" % who)
        h.check(str(m["to"]) == str(mark.client.boundjid),
                "%s: to its own resource, got %s" % (who, m["to"]))


async def test_log_says_which_way(env):
    if h.SERVER == "ejabberd":
        await cl.wait_log(env, re.escape(
            "room messages fan out through multicast.%s (XEP-0033)" %
            h.DOMAIN))
    else:
        await cl.wait_log(env, re.escape(
            "[component] multicast: multicast.%s does not offer XEP-0033 "
            "multicast" % h.DOMAIN))


async def test_each_resource_once(env):
    alice, tom, tom2, eve = await people(env)
    marks = {"alice": cl.Mark(alice), "tom": cl.Mark(tom),
             "tom/laptop": cl.Mark(tom2)}
    eve_mark = cl.Mark(eve)
    cl.say(alice, S["room"], "It smells of toner")
    await expect_once(marks, "It smells of toner")
    marks = {k: cl.Mark(v.client) for k, v in marks.items()}
    cl.say(tom2, S["room"], "Unplug it please")
    await expect_once(marks, "Unplug it please")
    h.check(not [m for m in eve_mark.messages()
                 if m["from"].bare == S["room"]],
            "eve, outside the room, gets nothing")


async def rejoin(env):
    alice = await cl.login(env, "alice")
    tom = await cl.login(env, "tom")
    tom2 = await cl.login(env, "tom", resource="laptop", known=False)
    await cl.join(alice, S["room"], "alice")
    await cl.join(tom, S["room"], "tom")
    await cl.join(tom2, S["room"], "tom")
    return alice, tom, tom2


async def test_leaver_stops_getting(env):
    alice, tom, tom2 = await rejoin(env)
    cl.leave(tom2, S["room"], "tom")
    await cl.no_message(tom2, lambda m: False, wait=0.5)
    marks = {"alice": cl.Mark(alice), "tom": cl.Mark(tom)}
    gone = cl.Mark(tom2)
    cl.say(tom, S["room"], "Done, it is off")
    await expect_once(marks, "Done, it is off")
    h.check(not copies(gone, "Done, it is off"),
            "the resource that left gets nothing")


async def test_notice_through_multicast(env):
    alice, tom, _ = await rejoin(env)
    marks = {"alice": cl.Mark(alice), "tom": cl.Mark(tom)}
    r = await tom.command("end-session", {"session": str(S["session"])})
    h.check(r.status == "completed", "end-session: %s" % r.status)
    for who, mark in marks.items():
        await cl.wait_message(mark.client, lambda m: (
            m["type"] == "groupchat" and str(m["from"]) ==
            S["room"] + "/Helpdesk" and m.xml.find(NS_ADDRESS) is None),
            mark, what="%s gets the Helpdesk notice" % who)


if __name__ == "__main__":
    cl.main(None, [test_log_says_which_way, test_each_resource_once, test_leaver_stops_getting,
                   test_notice_through_multicast],
            extra=cl.CHAT_EXTRA + "\n[component]\nmulticast = multicast.%s\n"
            % h.DOMAIN)
