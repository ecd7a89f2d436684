"""A flood into a room is never dropped in silence (docs/robustness.md §1).

bob sends 3,000 groupchat messages into his own session room as fast as
his client can. Every one of them comes back to bob either reflected
(delivered and stored) or as an error (<resource-constraint/>, type wait,
with a text): none is lost. Only bob gets the errors; tom, in bob's room,
gets the delivered ones and nothing else; alice and tom in another room
keep talking during the flood. Prints the counts and the other room's
round trip.

The directory is chatlib's. Prints one line per test and "N passed, M
failed" last.
"""
# databases: sqlite, postgresql

import asyncio
import time

from e2e import harness as h
from e2e import chatlib as cl
from e2e.chatlib import jid

N = 3000


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
    await asyncio.sleep(6)  # bob's bucket is full again after the set-up
    mb, mt = cl.Mark(bob), cl.Mark(tom)
    ids = ["fl%d" % i for i in range(N)]
    t0 = time.monotonic()
    for mid in ids:
        cl.say(bob, fb["room"], "flood " + mid, mid=mid)
    sent = time.monotonic() - t0
    # meanwhile the other room: alice's message reaches tom
    t1 = time.monotonic()
    cl.say(alice, fa["room"], "still here", mid="calm1")
    await cl.wait_message(tom, lambda m: m["id"] == "calm1", mt, timeout=30)
    calm = time.monotonic() - t1

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
    got = answers()
    echoed = [m for m in got.values() if m["type"] == "groupchat"]
    errors = [m for m in got.values() if m["type"] == "error"]
    for e in errors:
        h.check(e["error"]["condition"] == "resource-constraint" and
                e["error"]["type"] == "wait" and
                "slow down" in (e["error"]["text"] or ""),
                "a clear error: %s" % e)
    stored = cl.db_rows(env, "SELECT count(*) FROM messages WHERE "
                        "session_id = ? AND from_jid = ?",
                        (int(fb["session"]), jid("bob")))[0][0]
    print("      flood: %d messages sent in %.2f s: %d delivered (%d stored),"
          " %d answered with resource-constraint, %d unanswered; alice's "
          "message in another room took %.3f s" %
          (N, sent, len(echoed), stored, len(errors), N - len(got), calm))
    h.check(len(echoed) + len(errors) == N, "each message delivered or "
            "refused, once")
    h.check(errors, "the rate limit refused some")
    h.check(stored == len(echoed), "delivered = stored")
    toms = {m["id"] for m in mt.messages() if m["id"] in wanted}
    h.check(toms == {m["id"] for m in echoed},
            "tom got exactly the delivered ones")
    h.check(not [m for m in mt.messages() if m["type"] == "error"],
            "tom got no errors")
    await asyncio.sleep(6)  # refilled: bob may talk again
    cl.say(bob, fb["room"], "sorry", mid="after")
    await cl.wait_message(tom, lambda m: m["id"] == "after", mt)


if __name__ == "__main__":
    cl.main(None, [test_every_flooded_message_is_answered])
