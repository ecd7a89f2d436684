"""Rooms that do not exist answer, to the sender only (SPEC §8).

alice joins and writes to rooms that do not exist (chat-999, chat-01 for
her chat-1, nosuchroom), sends a private message to an occupant of one,
and a stranger (eve) does the same: each gets <item-not-found/> from the
room with a text that names the room and says what to do. tom, who sits
in alice's real room, hears nothing of it, and the real room keeps its
own answers (a non-occupant's message: not-acceptable; a stranger's join:
registration-required). Prints one line per test and "N passed, M failed"
last.
"""
# databases: sqlite, postgresql

from e2e import harness as h
from e2e import chatlib as cl

NOWHERE = ["chat-999@" + h.COMPONENT, "chat-01@" + h.COMPONENT,
           "nosuchroom@" + h.COMPONENT]

S = {}


async def people(env):
    """alice with a real chat that tom joined; eve, a stranger."""
    alice = await cl.login(env, "alice")
    tom = await cl.login(env, "tom")
    if not S:
        f = await cl.start_chat(alice, "Where is my room?")
        S.update(room=f["room"], session=f["session"])
    await cl.join(alice, S["room"], "alice")
    await cl.join(tom, S["room"], "tom")
    await cl.wait_state(env, S["session"], "active")
    eve = await cl.login(env, "eve", known=False)
    return alice, tom, eve


def names_room(text, room):
    h.check(("'%s'" % room) in (text or "") and "invitation" in text,
            "the text names %s and says what to do: %r" % (room, text))


def error_from(room, condition="item-not-found"):
    def pred(m):
        return (m["type"] == "error" and m["from"].bare == room and
                m["error"]["condition"] == condition)
    return pred


async def test_join_unknown_room(env):
    alice, tom, eve = await people(env)
    mark = cl.Mark(tom)
    for who in (alice, eve):
        for room in NOWHERE:
            cond, text = await cl.join_error(who, room, "x")
            h.check(cond == "item-not-found", "joining %s: %s" % (room, cond))
            names_room(text, room)
    await cl.no_message(tom, lambda m: m["from"].bare != S["room"], mark,
                        what="message about other rooms")
    h.check(not [p for p in mark.presences() if p["from"].bare in NOWHERE],
            "tom gets no presence of the rooms that do not exist")


async def test_messages_to_unknown_room(env):
    alice, tom, eve = await people(env)
    mark_tom = cl.Mark(tom)
    for who in (alice, eve):
        for room in NOWHERE:
            mark = cl.Mark(who)
            cl.say(who, room, "anyone there?")
            err = await cl.wait_message(who, error_from(room), mark,
                                        what="item-not-found from %s" % room)
            names_room(err["error"]["text"], room)
            for mtype in ("chat", "normal"):
                mark = cl.Mark(who)
                occupant = room + "/tom"
                who.make_message(mto=occupant, mbody="psst",
                                 mtype=mtype).send()
                err = await cl.wait_message(
                    who, error_from(room), mark,
                    what="item-not-found for a %s message" % mtype)
                h.check(err["from"].full == occupant,
                        "the error comes from %s: %s" % (occupant,
                                                         err["from"]))
                names_room(err["error"]["text"], room)
    await cl.no_message(tom, lambda m: m["from"].bare != S["room"],
                        mark_tom, what="message about other rooms")


async def test_real_room_keeps_its_answers(env):
    _, _, eve = await people(env)
    cond, _ = await cl.join_error(eve, S["room"], "x")
    h.check(cond == "registration-required", "a stranger's join: %s" % cond)
    mark = cl.Mark(eve)
    cl.say(eve, S["room"], "let me in")
    await cl.wait_message(eve, error_from(S["room"], "not-acceptable"), mark,
                          what="not-acceptable from the real room")


if __name__ == "__main__":
    cl.main(None, [test_join_unknown_room, test_messages_to_unknown_room,
                   test_real_room_keeps_its_answers])
