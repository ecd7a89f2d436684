# servers: ejabberd
# databases: sqlite, postgresql
"""A lone chatdesk serves every route slot of ejabberd's domain_balancing
(SPEC §11, issue 21).

ejabberd here has `domain_balancing` for the component with type
bare_destination and component_number 3: three route slots, a stanza to a
bare JID goes to the slot its JID hashes to, and a slot with no connection
drops its stanzas silently. chatdesk runs with `[component] connections =
auto`: it probes its domain (runtime/slots.h), opens a connection for each
vacant slot and so ends with three. Then twelve contacts each start a chat
(rooms chat-1 .. chat-12, which hash over the three slots) and talk with
the tech in every room, both ways; the queue room and the ad-hoc commands
to the component's own JID work too.

Last, the same database with `connections = 1` (one slot of three): some
rooms get no answer at all, which shows the rooms did spread over the slots
and that the probing is what made them all work.
"""

import asyncio
import re

from e2e import harness as h
from e2e import chatlib as cl

CONTACTS = ["u%d" % i for i in range(1, 13)]
TECHS = ["tom"]
SLOTS = 3


def online_lines(env):
    return re.findall(r"info conn: online as \S+( #\d+)?",
                      env.chatdesk.text())


async def test_opens_a_connection_for_each_slot(env):
    await cl.wait_log(env, r"every probe came back on %d connections" % SLOTS,
                      timeout=30)
    # a few more rounds: nothing more is opened, nothing is closed
    await asyncio.sleep(6)
    text = env.chatdesk.text()
    h.check(len(online_lines(env)) == SLOTS,
            "exactly %d connections came online, got %r" %
            (SLOTS, online_lines(env)))
    h.check("closing it" not in text and "connections_max" not in text,
            "no connection closed, the maximum never reached:\n" +
            text[-2000:])
    h.check("a route slot of" in text,
            "the log said a slot was vacant before it was filled")


async def _chat(env, tom, user, n):
    c = await cl.login(env, user)
    f = await cl.start_chat(c, "Problem %d" % n)
    room = f["room"]
    await cl.join(c, room, user)
    await cl.join(tom, room, "tom")
    await cl.wait_state(env, f["session"], "active", timeout=10)
    mc, mt = cl.Mark(c), cl.Mark(tom)
    cl.say(c, room, "hello from %s" % user)
    cl.say(tom, room, "hello %s" % user)
    for who, mark in ((c, mc), (tom, mt)):
        for text in ("hello from %s" % user, "hello %s" % user):
            await cl.wait_message(who, lambda m, t=text: cl.body(m) == t,
                                  mark, timeout=10, what=text)
    return room


async def test_chats_in_every_room_work(env):
    tom = await cl.login(env, "tom")
    await cl.join(tom, "queue@%s" % h.COMPONENT, "tom")
    # one after the other: chatlib.join() swaps sys.stdout while it waits
    rooms = [await _chat(env, tom, u, i) for i, u in enumerate(CONTACTS, 1)]
    h.check(len(set(rooms)) == len(CONTACTS),
            "one room per chat: %r" % (rooms,))
    env.rooms = rooms
    r = await tom.command("sessions")
    h.check(r.form_type in ("form", "result"),
            "sessions answers on the component JID")


async def _room_answers(env, client, room):
    """Whether chatdesk answers a message to room: its echo, or chatdesk's
    own refusal (not-acceptable: not an occupant since the restart). The
    server's bounce for a slot without a connection does not count."""
    mark = cl.Mark(client)
    cl.say(client, room, "still there?")
    try:
        m = await cl.wait_message(
            client, lambda m: m["from"].bare == room and
            (cl.body(m) == "still there?" or m["type"] == "error"),
            mark, timeout=4)
    except h.TestFailure:
        return "nothing"
    if m["type"] != "error":
        return "echo"
    return m["error"]["condition"]


async def test_one_connection_serves_one_slot_only(env):
    await env.close_clients()
    env.chatdesk.stop()
    text = open(env.chatdesk.config).read()
    with open(env.chatdesk.config, "w") as f:
        f.write(text.replace("connections = auto", "connections = 1"))
    env.chatdesk.start()
    await asyncio.sleep(1)
    tom = await cl.login(env, "tom", known=False)
    answers = await asyncio.gather(*[_room_answers(env, tom, r)
                                     for r in env.rooms])
    print("      answers with one connection: %r" % (answers,))
    served = answers.count("not-acceptable") + answers.count("echo")
    h.check(0 < served < len(env.rooms),
            "with one connection of %d slots only some rooms answer, got "
            "%r" % (SLOTS, answers))


def setup(env):
    cl.write_acme_directory(env, CONTACTS)


if __name__ == "__main__":
    async def start(env):
        setup(env)
        env.chatdesk.start()
    h.main([start, test_opens_a_connection_for_each_slot,
            test_chats_in_every_room_work,
            test_one_connection_serves_one_slot_only],
           users=CONTACTS + TECHS, start_chatdesk=False,
           chatdesk_extra="[chat]\nanswer_timeout = 600\n\n"
                          "[component]\nconnections = auto\n",
           server_kw={"component_number": SLOTS})
