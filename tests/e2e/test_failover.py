# servers: ejabberd
"""Failover between chatdesk processes on one domain and one PostgreSQL
database behind ejabberd's domain_balancing, beyond test_two_processes
(SPEC §11, issue 21).

ejabberd has three route slots (component_number 3). Two chatdesks (a, b;
`connections = auto`, connections_max 3) start at the same moment: they
race for the slots, and end holding each slot once between them (the
leases in the database say how many each holds, and each has no
connection beyond those), with no probe round finding a slot vacant once
settled. A third (c) started then is a hot standby: every probe reaches a
or b, it holds no slot, opens nothing and keeps its one connection. Four
or more chats (until the victim below serves one) spread over a and b,
both ways. Then the process that does NOT hold
the component's own JID is killed with SIGKILL: the survivors learn it
from its lease (its database backend ended), the standby probes first
(it holds the fewest slots) and takes the freed slots, and closes its
idle connection (its /metrics say so); every room works again within 15 s while ad-hoc commands
to the component's JID keep working throughout. Last: every acknowledged
message is stored once, tom was invited to each room once, and no PSA
event was delivered twice (but one in flight at the kill: clusterlib). Then the holder stops cleanly (SIGTERM): its
lease is deleted, and the standby at once takes every slot and the
component's JID.
"""

import asyncio
import re
import time

from e2e import harness as h
from e2e import chatlib as cl
from e2e import clusterlib as cx

CONTACTS = ["u%d" % i for i in range(1, 13)]
TECHS = ["tom"]
SLOTS = 3
METRICS = h.free_port()  # the standby's /metrics


def standby_metrics():
    m = cl.scrape_metrics(METRICS)
    return (m["chatdesk_route_slots"], m["chatdesk_cluster_peers"],
            m["chatdesk_cluster_peers_gone_total"])


def lease(env, cd):
    """(slots held, beat) of cd's lease, from the database."""
    m = re.search(r"lease (\d+) written", cd.text())
    h.check(m, "%s wrote a lease" % cd.dir)
    rows = cl.db_rows(env, "SELECT slots FROM cluster_peers WHERE id = ?",
                      (int(m.group(1)),))
    return int(rows[0][0]) if rows else None


def connections(cd):
    """cd's connections open now, from its log."""
    text = cd.text()
    return (text.count("info conn: online as") - text.count("closing it") -
            len(re.findall(r"warn conn: connection #\d+ lost", text)))


def settled(env, cds):
    """Every slot held once: the leases add up to SLOTS, and each process
    has exactly the connections that hold its slots (a lone standby: one
    that holds none)."""
    held = [lease(env, cd) for cd in cds]
    if None in held or sum(held) != SLOTS:
        return False
    return all(connections(cd) == max(n, 1) for cd, n in zip(cds, held))


async def test_two_start_at_the_same_moment(env):
    cx.start_a_and_b(env, SLOTS, CONTACTS, c_metrics_port=METRICS)
    await h.async_wait_until(lambda: settled(env, (env.a, env.b)), 30,
                             "a and b hold the %d slots once" % SLOTS)
    held = (lease(env, env.a), lease(env, env.b))
    # one more probe round of each, nothing vacant, nothing opened
    marks = [len(cd.text()) for cd in (env.a, env.b)]
    await asyncio.sleep(cx.PROBE_PERIOD + 1.5)
    for cd, mark in zip((env.a, env.b), marks):
        later = cd.text()[mark:]
        h.check("has no connection" not in later and
                "opening connection" not in later,
                "%s: no slot vacant once settled:\n%s" % (cd.dir, later[-1500:]))
    h.check(settled(env, (env.a, env.b)), "still settled")
    print("      slots: a %d, b %d" % held)


async def test_a_third_is_a_hot_standby(env):
    env.c.start()
    await h.async_wait_until(
        lambda: re.search(r"every probe came back: 0 to this process \(1 "
                          r"connection\), 33 to others", env.c.text()), 20,
        "c: every probe reaches a or b")
    await h.async_wait_until(lambda: lease(env, env.c) == 0, 5,
                             "c's lease: no slot")
    await asyncio.sleep(cx.PROBE_PERIOD + 1.5)
    text = env.c.text()
    h.check("opening connection" not in text and connections(env.c) == 1,
            "c keeps its one connection and opens none:\n" + text[-1500:])
    h.check(settled(env, (env.a, env.b)), "a and b keep their slots")
    await h.async_wait_until(lambda: standby_metrics() == (0, 2, 0), 5,
                             "the standby's metrics: no slot, 2 peers")


async def _commands_throughout(tom, stop, failures):
    """An ad-hoc command to the component's JID every 300 ms until stop."""
    n = 0
    while not stop.is_set():
        n += 1
        try:
            r = await asyncio.wait_for(
                tom.command("sessions", {"view": "waiting"}), 3)
            if r.status != "completed":
                failures.append("sessions #%d: %r" % (n, r.status))
        except Exception as e:  # a timeout, an error answer
            failures.append("sessions #%d: %r" % (n, e))
        await asyncio.sleep(0.3)
    return n


async def test_kill_the_one_without_the_component_jid(env):
    tom = await cl.login(env, "tom", known=False)
    await h.async_wait_until(
        lambda: any("tom@localhost is now Online" in cd.text()
                    for cd in (env.a, env.b)), 10, "tom Online")
    holder = env.a if cx.served_by(env.a, h.COMPONENT) else env.b
    victim = env.b if holder is env.a else env.a
    # rooms hash over the slots: chats until the victim serves one
    chats = []
    for i, u in enumerate(CONTACTS, 1):
        chats.append(await cx.chat(env, tom, u, i))
        if len(chats) >= 4 and any(cx.served_by(victim, f["room"])
                                   for _, f in chats):
            break
    env.chats = chats
    env.acked = await cx.talk_everywhere(env, tom, chats)
    rooms = [f["room"] for _, f in chats]
    h.check(not any(cx.served_by(env.c, r) for r in rooms),
            "the standby serves no room")
    moved = [r for r in rooms if cx.served_by(victim, r)]
    print("      killing %s (rooms %s), %s holds the component JID" %
          (victim.dir[-1], moved, holder.dir[-1]))
    h.check(moved, "the victim serves some rooms")
    stop, failures = asyncio.Event(), []
    cmds = asyncio.ensure_future(_commands_throughout(tom, stop, failures))
    # right after a probe round of the standby is judged: its next one
    # by the period would come 5 s later
    rounds = len(cx.log_times(env.c, cx.ROUND_SENT))
    await h.async_wait_until(
        lambda: len(cx.log_times(env.c, cx.ROUND_SENT)) > rounds, 10,
        "a probe round of the standby")
    await asyncio.sleep(1.2)
    t0, wall = time.monotonic(), time.time()
    cx.kill9(env, victim)
    env.chatdesk = holder
    took = await cx.every_room_works_again(env, tom, chats, t0, env.acked)
    print("      every room answered again %.1f s after kill -9 (standby: "
          "%s; holder: %s)" % (took, cx.timeline(env.c, wall),
                               cx.timeline(holder, wall)))
    await asyncio.sleep(1)
    stop.set()
    n = await cmds
    h.check(not failures, "commands to %s during the failover: %r" %
            (h.COMPONENT, failures))
    print("      %d commands to the component JID answered" % n)
    h.check(took <= 15, "every room works within 15 s, took %.1f s" % took)
    h.check("probing the route slots now" in env.c.text(),
            "the standby probes first:\n" + env.c.text()[-1500:])
    # at once: the round in flight (1 s at most) then the hurried one,
    # not the next of the 5 s period
    delay = cx.round_after_gone(env.c, wall)
    h.check(delay is not None and delay < 1.5,
            "the standby probes as soon as it sees the peer gone: %r" % delay)
    h.check("another process probes first" in holder.text(),
            "the holder lets the standby go first")
    h.check(not [t for t in cx.log_times(holder, "opening connection")
                 if t >= wall],
            "the holder opens no connection for the slots the standby "
            "fills")
    h.check(any(cx.served_by(env.c, r) for r in moved),
            "the standby serves the victim's rooms now")
    await h.async_wait_until(lambda: settled(env, (holder, env.c)), 20,
                             "the holder and the standby hold the %d slots "
                             "once, the standby's idle connection closed" %
                             SLOTS)
    cx.check_invited_once(tom, chats)
    await h.async_wait_until(
        lambda: standby_metrics()[0] >= 1 and standby_metrics()[1:] ==
        (1, 1), 5, "the standby's metrics: slots, 1 peer left, 1 gone")


# the checks after a kill that every cluster test makes (clusterlib)
test_nothing_acknowledged_is_lost = cx.test_nothing_acknowledged_is_lost
test_psa_events_once = cx.test_psa_events_once


async def test_a_clean_stop_hands_over_at_once(env):
    """SIGTERM: the process deletes its lease once its streams are closed,
    and the standby, alone now, takes every slot, the component's JID
    with them."""
    holder = env.chatdesk
    m = re.search(r"lease (\d+) written", holder.text())
    wall = time.time()
    h.check(holder.stop() == 0, "a clean stop")
    h.check(not cl.db_rows(env, "SELECT id FROM cluster_peers WHERE id = ?",
                           (int(m.group(1)),)), "its lease deleted")
    env.chatdesk = env.c
    await h.async_wait_until(lambda: standby_metrics()[:2] == (SLOTS, 0), 15,
                             "the last process holds every slot")
    delay = cx.round_after_gone(env.c, wall)
    h.check(delay is not None and delay < 1.5,
            "it probed as soon as it saw the lease gone: %r" % delay)
    tom = await cl.login(env, "tom", resource="stop")
    r = await tom.command("sessions", {"view": "waiting"})
    h.check(r.status == "completed", "commands to %s answered by the last "
            "process" % h.COMPONENT)
    print("      %s" % cx.timeline(env.c, wall))


if __name__ == "__main__":
    h.main([test_two_start_at_the_same_moment, test_a_third_is_a_hot_standby,
            test_kill_the_one_without_the_component_jid,
            test_nothing_acknowledged_is_lost, test_psa_events_once,
            test_a_clean_stop_hands_over_at_once],
           users=CONTACTS + TECHS, start_chatdesk=False,
           server_kw={"component_number": SLOTS})
