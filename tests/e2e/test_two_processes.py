# servers: ejabberd
# Always on a PostgreSQL of its own (several processes share only that
# store; sqlite is one process), so no "databases" line and no e2e-pg run.
"""Two chatdesk processes on one domain and one PostgreSQL database, behind
ejabberd's domain_balancing; one is killed with SIGKILL mid-chat (SPEC §11,
issue 21).

ejabberd has two route slots for the component (component_number 2); both
chatdesks run with `connections = auto` on one PostgreSQL database (a
throw-away one, tests/pg/pgfixture), started together, so each takes one
slot and finds the other's probes noted in the database. Six contacts
start chats: the rooms spread over both processes; the tech is invited
once per chat. Messages go both ways in every room. Then the process
serving the component's own JID (commands, presence, the PSA sender's
lock) is killed with SIGKILL. The clients keep talking the way a client
that does XEP-0410 self-ping would: a message that gets no answer is sent
again, one refused with not-acceptable (the room's new process has no
occupants) makes the client join again. Within 15 s every room works
again; every message whose reflection came back (acknowledged) is in the
database; a chat ended after the failover reaches the PSA; no PSA event
was delivered twice, but for one the PSA received within 2 s before the
kill (its answer may have died with the leader: sent again under its
Idempotency-Key, delivery being at least once, docs/psa.md).
"""

import os
import re
import time

from e2e import harness as h
from e2e import chatlib as cl
from e2e import clusterlib as cx

CONTACTS = ["u%d" % i for i in range(1, 7)]
TECHS = ["tom"]
SLOTS = 2


async def test_start_two_processes(env):
    cx.start_a_and_b(env, SLOTS, CONTACTS)
    for cd in (env.a, env.b):
        await h.async_wait_until(
            lambda cd=cd: re.search(r"every probe came back: \d+ to this "
                                    r"process \(1 connection\), \d+ to "
                                    r"others", cd.text()), 20,
            "%s: half the probes its own, half the other's" % cd.dir)
    await h.async_wait_until(
        lambda: any("this process leads now" in cd.text()
                    for cd in (env.a, env.b)), 10, "a leader")
    leaders = [os.path.basename(cd.dir) for cd in (env.a, env.b)
               if "this process leads now" in cd.text()]
    h.check(len(leaders) == 1, "one leader, got %r" % leaders)


async def test_chats_spread_over_both_then_kill_one(env):
    tom = await cl.login(env, "tom", known=False)
    # the process holding the component JID's slot learns tom's presence
    await h.async_wait_until(
        lambda: any("tom@localhost is now Online" in cd.text()
                    for cd in (env.a, env.b)), 10, "tom Online")
    env.tom = tom
    env.chats = []
    for i, u in enumerate(CONTACTS, 1):
        env.chats.append(await cx.chat(env, tom, u, i))
    env.acked = await cx.talk_everywhere(env, tom, env.chats)
    rooms = [f["room"] for _, f in env.chats]
    by_a = [r for r in rooms if cx.served_by(env.a, r)]
    by_b = [r for r in rooms if cx.served_by(env.b, r)]
    print("      rooms on a: %s, on b: %s" % (by_a, by_b))
    h.check(by_a and by_b and not set(by_a) & set(by_b),
            "rooms spread over both processes, each on one")
    cx.check_invited_once(tom, env.chats)
    # the same clients (the harness closes them after each test)
    await _kill_one_every_room_works_again(env)


async def _kill_one_every_room_works_again(env):
    # the process that answers the component's JID: its commands, presence
    domain = env.a if cx.served_by(env.a, h.COMPONENT) else env.b
    other = env.b if domain is env.a else env.a
    t0, wall = time.monotonic(), time.time()
    cx.kill9(env, domain)
    env.chatdesk = other
    took = await cx.every_room_works_again(env, env.tom, env.chats, t0,
                                           env.acked)
    print("      every room answered again %.1f s after kill -9 (%s)" %
          (took, cx.timeline(other, wall)))
    h.check(took <= 15, "every room works within 15 s, took %.1f s" % took)


# the checks after a kill that every cluster test makes (clusterlib)
test_nothing_acknowledged_is_lost = cx.test_nothing_acknowledged_is_lost
test_psa_events_once = cx.test_psa_events_once


if __name__ == "__main__":
    h.main([test_start_two_processes,
            test_chats_spread_over_both_then_kill_one,
            test_nothing_acknowledged_is_lost, test_psa_events_once],
           users=CONTACTS + TECHS, start_chatdesk=False,
           server_kw={"component_number": SLOTS})
