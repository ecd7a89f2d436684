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
was delivered twice.
"""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time

from e2e import harness as h
from e2e import chatlib as cl

CONTACTS = ["u%d" % i for i in range(1, 7)]
TECHS = ["tom"]
SLOTS = 2
PSA_PORT = h.free_port()
PSA_SECRET = "psa-secret"
RECEIVER = os.path.join(h.SOURCE_DIR, "scripts", "psa-receiver")


class Receiver:
    def __init__(self, workdir):
        self.log = os.path.join(workdir, "psa.jsonl")
        out = open(os.path.join(workdir, "psa.out"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, RECEIVER, "--port", str(PSA_PORT), "--secret",
             PSA_SECRET, "--log", self.log], stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        out.close()
        h.wait_until(lambda: h.port_open(PSA_PORT), 10, "psa-receiver")

    def entries(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        if self.proc:
            h.stop_pid(self.proc)
            self.proc = None
        return 0


EXTRA = cl.CHAT_EXTRA.replace("answer_timeout = 2", "answer_timeout = 600") + (
    "\n[component]\nconnections = auto\nconnections_max = %d\n"
    "\n[psa]\nwebhook_url = http://127.0.0.1:%d/hooks/chatdesk\n"
    "webhook_secret = %s\nretry_max = 2\n" % (SLOTS, PSA_PORT, PSA_SECRET))


def served_by(cd, room):
    """Whether chatdesk cd received a stanza for room (its debug log)."""
    return re.search(r'RECV: <[^>]*to="%s[/"]' % re.escape(room),
                     cd.text()) is not None


async def test_start_two_processes(env):
    env.pg = h.Postgres(env.workdir)
    env.pg.start()
    env.extra.insert(0, env.pg)
    env.rx = Receiver(env.workdir)
    env.extra.insert(0, env.rx)
    env.a = h.Chatdesk(env.workdir, env.server, name="a", extra=EXTRA,
                       db_url=env.pg.url)
    env.b = h.Chatdesk(env.workdir, env.server, name="b", extra=EXTRA,
                       db_url=env.pg.url)
    env.chatdesk = env.a  # env.ctl and chatlib.db_rows use its database
    cl.write_acme_directory(env, CONTACTS)
    env.a.start(wait_online=False)
    env.b.start(wait_online=False)
    env.extra.insert(0, env.b)  # stopped before the database
    for cd in (env.a, env.b):
        cd.wait_online(1)
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


async def _chat(env, tom, user, n):
    c = await cl.login(env, user, known=False)
    f = await cl.start_chat(c, "Problem %d" % n)
    room = f["room"]
    await cl.join(c, room, user)
    await cl.join(tom, room, "tom")
    await cl.wait_state(env, f["session"], "active", timeout=10)
    return c, f


async def _talk(client, room, text, timeout=5):
    """Send text; True when its reflection came back (acknowledged)."""
    mark = cl.Mark(client)
    cl.say(client, room, text)
    try:
        m = await cl.wait_message(
            client, lambda m: m["from"].bare == room and
            (cl.body(m) == text or m["type"] == "error"), mark,
            timeout=timeout, what=text)
    except h.TestFailure:
        return "nothing"
    return "ok" if m["type"] != "error" else m["error"]["condition"]


async def test_chats_spread_over_both_then_kill_one(env):
    tom = await cl.login(env, "tom", known=False)
    # the process holding the component JID's slot learns tom's presence
    await h.async_wait_until(
        lambda: any("tom@localhost is now Online" in cd.text()
                    for cd in (env.a, env.b)), 10, "tom Online")
    env.tom = tom
    env.chats = []
    for i, u in enumerate(CONTACTS, 1):
        env.chats.append(await _chat(env, tom, u, i))
    env.acked = []
    for c, f in env.chats:
        for who, text in ((c, "hi from %s" % c.boundjid.user),
                          (tom, "hi %s" % c.boundjid.user)):
            got = await _talk(who, f["room"], text)
            h.check(got == "ok", "%s in %s: %s" % (text, f["room"], got))
            env.acked.append((f["session"], text))
    rooms = [f["room"] for _, f in env.chats]
    by_a = [r for r in rooms if served_by(env.a, r)]
    by_b = [r for r in rooms if served_by(env.b, r)]
    print("      rooms on a: %s, on b: %s" % (by_a, by_b))
    h.check(by_a and by_b and not set(by_a) & set(by_b),
            "rooms spread over both processes, each on one")
    for room in rooms:
        invites = [m for m in tom.messages if cl.is_invite_to(room)(m)]
        h.check(len(invites) == 1, "tom invited to %s once, got %d" %
                (room, len(invites)))
    # the same clients (the harness closes them after each test)
    await _kill_one_every_room_works_again(env)


async def _kill_one_every_room_works_again(env):
    # the process that answers the component's JID: its commands, presence
    domain = env.a if served_by(env.a, h.COMPONENT) else env.b
    other = env.b if domain is env.a else env.a
    t0 = time.monotonic()
    h.stop_pid(domain.proc, signal.SIGKILL)
    domain.proc = None
    if other not in env.extra:
        env.extra.insert(0, other)
    env.chatdesk = other
    pending = {f["room"]: (c, f) for c, f in env.chats}
    rejoined = set()
    n = 0
    while pending and time.monotonic() - t0 < 30:
        n += 1
        for room, (c, f) in list(pending.items()):
            text = "after %d from %s" % (n, c.boundjid.user)
            got = await _talk(c, room, text, timeout=1)
            if got == "ok":
                env.acked.append((f["session"], text))
                del pending[room]
            elif got == "not-acceptable":
                await cl.join(c, room, c.boundjid.user)
                await cl.join(env.tom, room, "tom")
                rejoined.add(room)
    took = time.monotonic() - t0
    print("      every room answered again %.1f s after kill -9 "
          "(%d rejoined)" % (took, len(rejoined)))
    h.check(not pending, "rooms still silent 30 s later: %r" % list(pending))
    h.check(took <= 15, "every room works within 15 s, took %.1f s" % took)


async def test_nothing_acknowledged_is_lost(env):
    missing = []
    for session, text in env.acked:
        rows = cl.db_rows(env, "SELECT count(*) FROM messages WHERE "
                          "session_id = ? AND body = ?", (int(session), text))
        if not rows or int(rows[0][0]) != 1:
            missing.append((session, text, rows))
    h.check(not missing, "acknowledged messages stored once each: %r" %
            missing)


async def test_psa_events_once(env):
    c, f = env.chats[0]
    # known=False: the survivor may know tom Online already (the dead
    # process's shared presence counts until it expires), so it logs no
    # change; end-session needs the tech's role, not his presence
    tom = await cl.login(env, "tom", resource="after", known=False)
    r = await tom.command("end-session", {"session": f["session"]})
    h.check(r.status == "completed", "end-session on the survivor")
    await cl.wait_state(env, f["session"], "ended", timeout=10)
    ids = [row[0] for row in cl.db_rows(env, "SELECT event_id FROM outbox")]

    def delivered():
        return [json.loads(e["body"])["id"] for e in env.rx.entries()
                if e["answer"] and 200 <= e["answer"] < 300]
    await h.async_wait_until(lambda: set(map(str, ids)) <=
                             set(map(str, delivered())), 20,
                             "every PSA event delivered")
    got = delivered()
    twice = sorted({i for i in got if got.count(i) > 1})
    print("      PSA: %d events, %d deliveries" % (len(ids), len(got)))
    h.check(not twice, "no PSA event delivered twice: %r" % twice)


if __name__ == "__main__":
    h.main([test_start_two_processes,
            test_chats_spread_over_both_then_kill_one,
            test_nothing_acknowledged_is_lost, test_psa_events_once],
           users=CONTACTS + TECHS, start_chatdesk=False,
           server_kw={"component_number": SLOTS})
