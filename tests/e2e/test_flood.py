"""A flood into a room is never dropped in silence (docs/robustness.md §1).

bob sends 3,000 groupchat messages into his own session room as fast as
his client can. Every one of them comes back to bob either reflected
(delivered and stored) or as an error (<resource-constraint/>, type wait,
with a text): none is lost. Only bob gets the errors; tom, in bob's room,
gets the delivered ones and nothing else; alice and tom in another room
keep talking during the flood. Bob's errors come in the order of his
messages. Prints the counts, when the last answer came and the other
room's round trip (FLOOD_ROUNDS=N in the environment: N floods in a row,
for measuring).

The directory is chatlib's. Prints one line per test and "N passed, M
failed" last.
"""
# databases: sqlite, postgresql

import asyncio
import os
import time

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from e2e import harness as h
from e2e import chatlib as cl
from e2e.chatlib import jid

N = 3000


async def flood(env, bob, tom, alice, fa, fb, rnd):
    """One flood of N from bob while alice talks in her room: checks that
    every message was delivered or answered; returns alice's latency."""
    await asyncio.sleep(6)  # bob's bucket is full again
    mb, mt = cl.Mark(bob), cl.Mark(tom)
    ids = ["fl%d-%d" % (rnd, i) for i in range(N)]
    t0 = time.monotonic()
    for mid in ids:
        cl.say(bob, fb["room"], "flood " + mid, mid=mid)
    sent = time.monotonic() - t0
    # meanwhile the other room: alice's message reaches tom
    t1 = time.monotonic()
    cl.say(alice, fa["room"], "still here", mid="calm%d" % rnd)
    await cl.wait_message(tom, lambda m: m["id"] == "calm%d" % rnd, mt,
                          timeout=30)
    calm = tom.arrived["calm%d" % rnd] - t1

    def answers():
        out = {}
        for m in mb.messages():
            if m["id"] in wanted and m["from"].bare == fb["room"] and \
                    m["type"] in ("groupchat", "error"):
                out.setdefault(m["id"], m)
        return out
    wanted = set(ids)
    await h.async_wait_until(lambda: len(answers()) == N, 120,
                             "an answer to each of bob's %d messages" % N)
    done = time.monotonic() - t0
    got = answers()
    echoed = [m for m in got.values() if m["type"] == "groupchat"]
    errors = [m for m in got.values() if m["type"] == "error"]
    for e in errors:
        h.check(e["error"]["condition"] == "resource-constraint" and
                e["error"]["type"] == "wait" and
                "slow down" in (e["error"]["text"] or ""),
                "a clear error: %s" % e)
    stored = cl.db_rows(env, "SELECT count(*) FROM messages WHERE "
                        "session_id = ? AND from_jid = ? AND body LIKE ?",
                        (int(fb["session"]), jid("bob"),
                         "flood fl%d-%%" % rnd))[0][0]
    print("      flood: %d messages sent in %.2f s: %d delivered (%d stored),"
          " %d answered with resource-constraint, %d unanswered, all "
          "answered after %.2f s; alice's message in another room took "
          "%.3f s" % (N, sent, len(echoed), stored, len(errors),
                      N - len(got), done, calm))
    h.check(len(echoed) + len(errors) == N, "each message delivered or "
            "refused, once")
    h.check(errors, "the rate limit refused some")
    h.check(stored == len(echoed), "delivered = stored")
    order = [m["id"] for m in mb.messages() if m["id"] in wanted and
             m["type"] == "error"]
    h.check(order == sorted(order, key=lambda i: int(i.split("-")[1])),
            "bob's errors come in the order of his messages")
    toms = {m["id"] for m in mt.messages() if m["id"] in wanted}
    h.check(toms == {m["id"] for m in echoed},
            "tom got exactly the delivered ones")
    h.check(not [m for m in mt.messages() if m["type"] == "error"],
            "tom got no errors")
    return calm


async def test_every_flooded_message_is_answered(env):
    alice = await cl.login(env, "alice")
    bob = await cl.login(env, "bob")
    tom = await cl.login(env, "tom")
    fa = await cl.start_chat(alice, "A quiet room")
    fb = await cl.start_chat(bob, "A noisy room")
    for who, nick in ((alice, "alice"), (tom, "tom")):
        await cl.join(who, fa["room"], nick)
    for who, nick in ((bob, "bob"), (tom, "tom")):
        await cl.join(who, fb["room"], nick)
    # when each message reached tom's client (wait_message polls every
    # 50 ms: too coarse for a latency)
    tom.arrived = {}
    tom.register_handler(Callback("arrival", MatchXPath(
        "{jabber:client}message"),
        lambda m: tom.arrived.setdefault(m["id"], time.monotonic())))
    mt = cl.Mark(tom)
    t1 = time.monotonic()
    cl.say(alice, fa["room"], "hello", mid="quiet")
    await cl.wait_message(tom, lambda m: m["id"] == "quiet", mt)
    print("      no flood: alice's message took %.3f s" %
          (tom.arrived["quiet"] - t1))
    # FLOOD_ROUNDS=3 measures three floods in a row (docs/robustness.md)
    for rnd in range(int(os.environ.get("FLOOD_ROUNDS", "1"))):
        await flood(env, bob, tom, alice, fa, fb, rnd)
    await asyncio.sleep(6)  # refilled: bob may talk again
    mt = cl.Mark(tom)
    cl.say(bob, fb["room"], "sorry", mid="after")
    await cl.wait_message(tom, lambda m: m["id"] == "after", mt)


if __name__ == "__main__":
    cl.main(None, [test_every_flooded_message_is_answered])
