"""Helpers for the end-to-end tests of several chatdesk processes on one
component domain and one PostgreSQL database, behind ejabberd's
domain_balancing (SPEC §11): a PSA receiver, the processes' configuration,
which process serves a room, chats and messages that count as
acknowledged, the wait until every room works again after a kill, and the
checks that nothing acknowledged was lost and no PSA event went twice.

Used by test_two_processes.py and test_failover.py.
"""

import asyncio
import calendar
import json
import os
import re
import signal
import subprocess
import sys
import time

from e2e import harness as h
from e2e import chatlib as cl

PSA_SECRET = "psa-secret"
PROBE_PERIOD = 5  # s between probe rounds: SLOTS_PERIOD_MS, runtime/slots.h
RECEIVER = os.path.join(h.SOURCE_DIR, "scripts", "psa-receiver")


class Receiver:
    """scripts/psa-receiver on a free port, logging what it got."""

    def __init__(self, workdir):
        self.port = h.free_port()
        self.log = os.path.join(workdir, "psa.jsonl")
        out = open(os.path.join(workdir, "psa.out"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, RECEIVER, "--port", str(self.port), "--secret",
             PSA_SECRET, "--log", self.log], stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        out.close()
        h.wait_until(lambda: h.port_open(self.port), 10, "psa-receiver")

    def entries(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def delivered(self):
        """Event ids answered 2xx, once per delivery."""
        return [str(json.loads(e["body"])["id"]) for e in self.entries()
                if e["answer"] and 200 <= e["answer"] < 300]

    def stop(self):
        if self.proc:
            h.stop_pid(self.proc)
            self.proc = None
        return 0


def extra(slots_max, psa_port):
    """chatdesk.ini's extra sections for a process of the cluster."""
    return cl.CHAT_EXTRA.replace("answer_timeout = 2",
                                 "answer_timeout = 600") + (
        "\n[component]\nconnections = auto\nconnections_max = %d\n"
        "\n[psa]\nwebhook_url = http://127.0.0.1:%d/hooks/chatdesk\n"
        "webhook_secret = %s\nretry_max = 2\n" % (slots_max, psa_port,
                                                  PSA_SECRET))


def start_database(env):
    """A throw-away PostgreSQL and a PSA receiver, stopped after the
    chatdesks (env.extra is stopped in order)."""
    env.pg = h.Postgres(env.workdir)
    env.pg.start()
    env.extra.insert(0, env.pg)
    env.rx = Receiver(env.workdir)
    env.extra.insert(0, env.rx)


def process(env, name, slots_max, metrics_port=None):
    """A chatdesk of the cluster (not started), serving /metrics on
    metrics_port if given; stopped before the database at the end."""
    more = ("\n[metrics]\nlisten = 127.0.0.1:%d\n" % metrics_port
            if metrics_port else "")
    cd = h.Chatdesk(env.workdir, env.server, name=name,
                    extra=extra(slots_max, env.rx.port) + more,
                    db_url=env.pg.url)
    env.extra.insert(0, cd)
    return cd


def start_a_and_b(env, slots_max, contacts, c_metrics_port=None):
    """PostgreSQL, then chatdesks a and b started at the same moment and
    online (env.chatdesk = a: env.ctl and chatlib.db_rows use its
    database; the Acme directory written). With c_metrics_port, also c,
    not started, serving /metrics there."""
    start_database(env)
    env.a = process(env, "a", slots_max)
    env.b = process(env, "b", slots_max)
    if c_metrics_port:
        env.c = process(env, "c", slots_max, metrics_port=c_metrics_port)
    env.chatdesk = env.a
    cl.write_acme_directory(env, contacts)
    env.a.start(wait_online=False)
    env.b.start(wait_online=False)
    for cd in (env.a, env.b):
        cd.wait_online(1)


def served_by(cd, room):
    """Whether chatdesk cd received a stanza for room (its debug log)."""
    return re.search(r'RECV: <[^>]*to="%s[/"]' % re.escape(room),
                     cd.text()) is not None


def log_times(cd, pattern):
    """Wall-clock times (epoch s) of cd's log lines matching pattern."""
    out = []
    for m in re.finditer(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z "
                         r"(.*)$", cd.text(), re.M):
        if re.search(pattern, m.group(3)):
            t = calendar.timegm(time.strptime(m.group(1),
                                              "%Y-%m-%dT%H:%M:%S"))
            out.append(t + int(m.group(2)) / 1000.0)
    return out


def timeline(cd, since):
    """What the survivor cd did after a kill at since (time.time()), for
    the test's output: when it saw the peer gone, when its new
    connection came online."""
    seen = [t - since for t in log_times(cd, r"stopped or died") if
            t >= since]
    online = [t - since for t in log_times(cd, r"info conn: online as") if
              t >= since]
    return "peer gone seen at %s, new connection online at %s" % (
        "+%.2f s" % seen[0] if seen else "-",
        ", ".join("+%.2f s" % t for t in online) or "-")


ROUND_SENT = r'SENT: <message to="probe-.*n="0"'  # a probe round's first


def round_after_gone(cd, since):
    """Seconds from cd seeing a peer gone (after since, time.time()) to
    the first probe round it sent after that; None when it saw none."""
    seen = [t for t in log_times(cd, r"stopped or died") if t >= since]
    if not seen:
        return None
    sent = [t for t in log_times(cd, ROUND_SENT) if t >= seen[0]]
    return sent[0] - seen[0] if sent else None


async def chat(env, tom, user, n):
    """user starts chat n, both join, the session is active: (client,
    the start form's fields)."""
    c = await cl.login(env, user, known=False)
    f = await cl.start_chat(c, "Problem %d" % n)
    room = f["room"]
    await cl.join(c, room, user)
    await cl.join(tom, room, "tom")
    await cl.wait_state(env, f["session"], "active", timeout=10)
    return c, f


async def talk(client, room, text, timeout=5):
    """Send text: "ok" when its reflection came back (acknowledged), the
    error's condition, or "nothing"."""
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


async def talk_everywhere(env, tom, chats):
    """Both ways in every room; each message must be acknowledged: the
    (session, text) pairs."""
    acked = []
    for c, f in chats:
        for who, text in ((c, "hi from %s" % c.boundjid.user),
                          (tom, "hi %s" % c.boundjid.user)):
            got = await talk(who, f["room"], text)
            h.check(got == "ok", "%s in %s: %s" % (text, f["room"], got))
            acked.append((f["session"], text))
    return acked


def check_invited_once(tom, chats):
    for _, f in chats:
        invites = [m for m in tom.messages if cl.is_invite_to(f["room"])(m)]
        h.check(len(invites) == 1, "tom invited to %s once, got %d" %
                (f["room"], len(invites)))


async def every_room_works_again(env, tom, chats, t0, acked, limit=30):
    """After a kill at t0 (time.monotonic()): the clients keep talking the
    way a client that does XEP-0410 self-ping would (a message with no
    answer is sent again; one refused with not-acceptable, the room's new
    process having no occupants, makes the client and tom join again),
    every room at once, until every room acknowledged a message. Adds
    those to acked; returns the seconds from t0."""
    pending = {f["room"]: (c, f) for c, f in chats}
    n = 0
    while pending and time.monotonic() - t0 < limit:
        n += 1
        rooms = list(pending)
        got = await asyncio.gather(*[
            talk(pending[r][0], r, "after %d from %s" %
                 (n, pending[r][0].boundjid.user), timeout=1)
            for r in rooms])
        for room, answer in zip(rooms, got):
            c, f = pending[room]
            if answer == "ok":
                acked.append((f["session"],
                              "after %d from %s" % (n, c.boundjid.user)))
                del pending[room]
            elif answer == "not-acceptable":
                # one after the other: chatlib.join() swaps sys.stdout
                await cl.join(c, room, c.boundjid.user)
                await cl.join(tom, room, "tom")
    took = time.monotonic() - t0
    h.check(not pending, "rooms still silent %d s later: %r" %
            (limit, list(pending)))
    return took


def check_acked_stored_once(env, acked):
    stored = {}
    for session, body in cl.db_rows(env, "SELECT session_id, body FROM "
                                    "messages"):
        key = (int(session), body)
        stored[key] = stored.get(key, 0) + 1
    missing = [(s, t, stored.get((int(s), t), 0)) for s, t in acked
               if stored.get((int(s), t), 0) != 1]
    h.check(not missing, "acknowledged messages stored once each: %r" %
            missing)


# A leader killed after the PSA took an event but before it recorded the
# answer sends that event again (delivery is at least once, with the same
# Idempotency-Key: docs/psa.md); only an event first received this long
# before a kill can have been in flight then.
IN_FLIGHT_S = 2.0


def kill9(env, cd):
    """SIGKILL chatdesk cd; the time goes to env.kills (wall clock), which
    end_chat_and_check_psa_once() reads."""
    env.kills = getattr(env, "kills", []) + [time.time()]
    h.stop_pid(cd.proc, signal.SIGKILL)
    cd.proc = None


def psa_in_flight_at_kill(env, event_id):
    """True when event_id's first 2xx delivery was received within
    IN_FLIGHT_S before a kill (its answer may have died with the leader)."""
    firsts = [e["time"] for e in env.rx.entries() if e["answer"] and
              200 <= e["answer"] < 300 and
              str(json.loads(e["body"])["id"]) == event_id]
    return bool(firsts) and any(k - IN_FLIGHT_S <= min(firsts) <= k
                                for k in getattr(env, "kills", []))


async def end_chat_and_check_psa_once(env, session):
    """tom ends session through the component's JID (whichever process
    serves it now); every event in the outbox reaches the PSA, none
    twice — but for one in flight when its leader was killed, which the
    next leader sends again under the same Idempotency-Key (at least
    once, docs/psa.md). Returns (events, deliveries)."""
    # known=False: the survivor may know tom Online already (his presence
    # came to it, or again after the takeover), so it logs no change;
    # end-session needs the tech's role, not his presence
    tom = await cl.login(env, "tom", resource="after", known=False)
    r = await tom.command("end-session", {"session": session})
    h.check(r.status == "completed", "end-session on the survivor")
    await cl.wait_state(env, session, "ended", timeout=10)
    ids = {str(row[0]) for row in
           cl.db_rows(env, "SELECT event_id FROM outbox")}
    await h.async_wait_until(lambda: ids <= set(env.rx.delivered()), 20,
                             "every PSA event delivered")
    got = env.rx.delivered()
    twice = sorted({i for i in got if got.count(i) > 1})
    resent = [i for i in twice if got.count(i) == 2 and
              psa_in_flight_at_kill(env, i)]
    if resent:
        print("      PSA: %s in flight at the kill, sent again with its "
              "Idempotency-Key" % resent)
    h.check(len(resent) <= 1 and not set(twice) - set(resent),
            "no PSA event delivered twice (but one in flight at a kill): "
            "%r" % twice)
    return len(ids), len(got)


# The last checks of a kill test (env.acked, env.chats as the kill tests
# keep them), shared by test_two_processes and test_failover.
async def test_nothing_acknowledged_is_lost(env):
    check_acked_stored_once(env, env.acked)


async def test_psa_events_once(env):
    events, deliveries = await end_chat_and_check_psa_once(
        env, env.chats[0][1]["session"])
    print("      PSA: %d events, %d deliveries" % (events, deliveries))
