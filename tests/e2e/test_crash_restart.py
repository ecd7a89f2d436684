# servers: prosody
# databases: sqlite, postgresql
"""Restarts and crashes during active chats: nothing acknowledged is lost.

Three active sessions (alice with tom, bob with tina, ivan with amy); all six
people send groupchat messages continuously (one every 0.15 s each) with
slixmpp while the test, N times each (N from CHATDESK_RESTARTS, default 5):

  - restarts Prosody (SIGTERM and kill -9 in turn): every client is cut
    off, chatdesk reconnects, the clients log in again and rejoin;
  - kills chatdesk with kill -9 and starts it again: the clients stay
    connected, their messages bounce while it is down, then they rejoin.

A message counts as acknowledged when its sender received the room's echo
with a XEP-0359 stanza-id. Afterwards every acknowledged message must be in
the room's archive (MAM, paged) with the same stanza-id, exactly once, and
in the history a rejoin sends when it is newer than the oldest message that
history holds (the room sends at most 500 messages and max_stanza_bytes of
history, after a line pointing to the archive, when the chat is longer); every session must still be active and become
ended with a transcript holding every acknowledged message; and the clients
must carry on (rejoin and chat both ways). Prints sent / echoed / stored /
lost and one line per test, then "N passed, M failed".

    CHATDESK_RESTARTS=20 ctest -R e2e.test_crash_restart   # the long run

chatdesk runs with bench/slowsync.so preloaded when the build has it
(CHATDESK_BENCH, on by default): every fsync takes 20 ms longer, so most
kill -9 land while a batch of the commit writer is syncing and the loop
keeps reading and stamping the next one.
"""

import asyncio
import os
import signal

from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from e2e import harness as h
from e2e import chatlib as cl

N = int(os.environ.get("CHATDESK_RESTARTS", "5"))
SLOWSYNC = os.path.join(h.BUILD_DIR, "bench", "slowsync.so")
if os.path.exists(SLOWSYNC):
    os.environ["CHATDESK_PRELOAD"] = SLOWSYNC
    os.environ["SLOWSYNC_MS"] = "20"
PAIRS = [("alice", "tom"), ("bob", "tina"), ("ivan", "amy")]
INTERVAL = 0.15  # seconds between two messages of one person
SETTLE = 1.5     # seconds of chatting between two disruptions
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_FORWARD = "urn:xmpp:forward:0"


class Speaker:
    """One person in one room, across clients (a new one after each
    Prosody restart). sent: bodies sent; echoed: body -> stanza-id of the
    room's echo."""

    def __init__(self, user, room):
        self.user, self.room = user, room
        self.client = None
        self.ready = False
        self.seq = 0
        self.sent = []
        self.echoed = {}
        self.nick = None

    def on_message(self, msg):
        body = msg.xml.findtext("{jabber:client}body") or ""
        if (msg.xml.get("type") == "groupchat" and
                msg.xml.get("id") == body and body.startswith(self.user + "-")
                and msg.xml.get("from", "").startswith(self.room + "/")):
            sid = cl.stanza_id(msg, self.room)
            if sid:
                self.echoed[body] = sid


class World:
    def __init__(self):
        self.speakers = []
        self.sessions = {}  # room -> (session, ticket, contact, tech)
        self.running = False
        self.tasks = []
        self.counts = {"prosody": 0, "chatdesk": 0}


W = World()


async def connect(env, sp):
    """A new client for sp (not in env.clients: it lives across tests)."""
    c = h.Client(sp.user, resource="crash")
    c.messages, c.presences = [], []
    c.register_handler(Callback("all messages", MatchXPath(
        "{jabber:client}message"), c.messages.append))
    c.register_handler(Callback("all presence", MatchXPath(
        "{jabber:client}presence"), c.presences.append))
    c.register_handler(Callback("echoes", MatchXPath(
        "{jabber:client}message"), sp.on_message))
    await c.start(env.server.c2s_port)
    sp.client = c


async def join(sp, retries=5):
    """(Re)join sp's room; returns the history the room sent. Never two at
    once: cl.join swaps sys.stdout while it waits."""
    for attempt in range(retries):
        try:
            pres, _, _, history = await cl.join(sp.client, sp.room,
                                                sp.user, timeout=10)
            sp.nick = pres["from"].resource
            sp.ready = True
            return history
        except asyncio.TimeoutError:
            if attempt == retries - 1:
                raise
            await asyncio.sleep(0.5)


async def talk(sp):
    while W.running:
        c = sp.client
        if sp.ready and c is not None and c.is_connected():
            body = "%s-%d" % (sp.user, sp.seq)
            sp.seq += 1
            msg = c.make_message(mto=sp.room, mbody=body, mtype="groupchat")
            msg["id"] = body
            msg.send()
            sp.sent.append(body)
        await asyncio.sleep(INTERVAL)


async def chat_for(seconds):
    await asyncio.sleep(seconds)


# ---- disruptions ------------------------------------------------------------

async def wait_chatdesk_online(env, count):
    await h.async_wait_until(lambda: env.chatdesk.online_count() >= count or
                             env.chatdesk.proc.poll() is not None, 30,
                             "chatdesk online (#%d)" % count)
    h.check(env.chatdesk.proc.poll() is None, "chatdesk running")


async def restart_prosody(env, sig):
    for sp in W.speakers:
        sp.ready = False
    count = env.chatdesk.online_count()
    env.server.stop(sig)
    for sp in W.speakers:
        sp.client.abort()
    env.server.start()
    await wait_chatdesk_online(env, count + 1)
    await asyncio.gather(*[connect(env, sp) for sp in W.speakers])
    for sp in W.speakers:  # one at a time: cl.join redirects stdout
        await join(sp)
    W.counts["prosody"] += 1


async def kill_chatdesk(env):
    count = env.chatdesk.online_count()
    rc = h.stop_pid(env.chatdesk.proc, signal.SIGKILL)
    h.check(rc == -signal.SIGKILL, "chatdesk killed by SIGKILL (%s)" % rc)
    await asyncio.sleep(0.3)  # the clients keep sending into the void
    env.chatdesk.start(wait_online=False)
    await wait_chatdesk_online(env, count + 1)
    # the clients do not know the rooms forgot them: they join again
    for sp in W.speakers:  # one at a time: cl.join redirects stdout
        await join(sp)
    W.counts["chatdesk"] += 1


# ---- the tests --------------------------------------------------------------

async def test_three_active_sessions(env):
    for contact, tech in PAIRS:
        c = Speaker(contact, None)
        await connect(env, c)
        await cl.wait_presence(env, contact, "Online")
        f = await cl.start_chat(c.client, "Chat of %s under fire" % contact)
        room = c.room = f["room"]
        W.sessions[room] = (f["session"], f["ticket"], contact, tech)
        t = Speaker(tech, room)
        await connect(env, t)
        await join(c)
        await join(t)
        W.speakers += [c, t]
    for room, (session, _, _, _) in W.sessions.items():
        await cl.wait_state(env, session, "active")
    W.running = True
    W.tasks = [asyncio.ensure_future(talk(sp)) for sp in W.speakers]
    await chat_for(SETTLE)
    h.check(all(sp.echoed for sp in W.speakers), "everyone is chatting")


def make_round(i):
    async def disrupt(env):
        await restart_prosody(env, signal.SIGTERM if i % 2 == 0
                              else signal.SIGKILL)
        await chat_for(SETTLE)
        await kill_chatdesk(env)
        await chat_for(SETTLE)
    disrupt.__name__ = "test_round_%02d_restart_prosody_and_kill_chatdesk" \
        % (i + 1)
    return disrupt


async def mam_all(client, room):
    """[(stanza-id, body)] of room's whole archive, paged 100 at a time."""
    out, after, page = [], None, 0
    while True:
        page += 1
        qid = "all%d" % page
        iq = client.make_iq_set(ito=room)
        q = ET.SubElement(iq.xml, "{%s}query" % NS_MAM, queryid=qid)
        rset = ET.SubElement(q, "{%s}set" % NS_RSM)
        ET.SubElement(rset, "{%s}max" % NS_RSM).text = "100"
        if after:
            ET.SubElement(rset, "{%s}after" % NS_RSM).text = after
        start = len(client.messages)
        res = await iq.send(timeout=30)
        await asyncio.sleep(0.05)
        for m in client.messages[start:]:
            r = m.xml.find("{%s}result" % NS_MAM)
            if r is None or r.get("queryid") != qid:
                continue
            inner = r.find("{%s}forwarded/{jabber:client}message" %
                           NS_FORWARD)
            out.append((r.get("id"), inner.findtext("{jabber:client}body")))
        fin = res.xml.find("{%s}fin" % NS_MAM)
        after = fin.findtext("{%s}set/{%s}last" % (NS_RSM, NS_RSM))
        if fin.get("complete") == "true" or not after:
            return out


async def test_nothing_acknowledged_is_lost(env):
    W.running = False
    await asyncio.gather(*W.tasks)
    await asyncio.sleep(2)  # the last echoes
    sent = sum(len(sp.sent) for sp in W.speakers)
    echoed = sum(len(sp.echoed) for sp in W.speakers)
    stored = unacked = lost = 0
    problems = []
    for room in W.sessions:
        talkers = [sp for sp in W.speakers if sp.room == room]
        tech = talkers[1]
        archive = await mam_all(tech.client, room)
        by_body = {}
        for sid, body in archive:
            by_body.setdefault(body, []).append(sid)
        dupes = {b: s for b, s in by_body.items() if len(s) > 1}
        if dupes:
            problems.append("%s: stored twice: %r" % (room, dupes))
        history = await join(tech)
        hist = {cl.body(m) for m in history}
        # the history is the archive's newest part: from its oldest body on
        order = [b for _, b in archive]
        oldest = min((order.index(b) for b in hist if b in order),
                     default=len(order))
        recent = set(order[oldest:])
        for sp in talkers:
            for body in sp.sent:
                if body in by_body:
                    stored += 1
                    if body not in sp.echoed:
                        unacked += 1
            for body, sid in sp.echoed.items():
                if body not in by_body:
                    lost += 1
                    problems.append("%s: %s echoed as %s, not archived" %
                                    (room, body, sid))
                elif by_body[body] != [sid]:
                    problems.append("%s: %s echoed as %s, archived as %s" %
                                    (room, body, sid, by_body[body]))
                if body in recent and body not in hist:
                    problems.append("%s: %s not in the rejoin history" %
                                    (room, body))
    print("      fsync: %s" % ("+%s ms (%s)" % (os.environ["SLOWSYNC_MS"],
                                          SLOWSYNC)
                               if os.environ.get("CHATDESK_PRELOAD")
                               else "as the disk does (no slowsync.so)"))
    print("      N=%d: %d Prosody restarts, %d kill -9 of chatdesk; "
          "messages sent %d, echoed %d, stored %d (%d stored but never "
          "echoed), lost %d" % (N, W.counts["prosody"], W.counts["chatdesk"],
                                sent, echoed, stored, unacked, lost))
    h.check(W.counts["prosody"] == N and W.counts["chatdesk"] == N,
            "%d disruptions of each kind" % N)
    h.check(echoed > 50 * N, "the clients kept chatting (%d echoes)" % echoed)
    h.check(not problems, "every acknowledged message archived once with "
            "its stanza-id and in the history:\n" + "\n".join(problems[:20]))
    h.check(lost == 0, "nothing acknowledged is lost")
    h.check("over the rate limit" not in env.chatdesk.text(),
            "normal chat never meets the rate limit")


async def test_sessions_carry_on_and_end_with_full_transcripts(env):
    for room, (session, ticket, contact, tech) in W.sessions.items():
        h.check(cl.session_state(env, session) == "active",
                "session %s still active" % session)
        c, t = [sp for sp in W.speakers if sp.room == room]
        await join(c)
        await join(t)
        mt, mc = cl.Mark(t.client), cl.Mark(c.client)
        for sp, other, mark in ((c, t, mt), (t, c, mc)):
            body = "%s-final" % sp.user
            cl.say(sp.client, room, body, mid=body)
            await cl.wait_message(other.client, lambda m, b=body:
                                  cl.body(m) == b, mark, timeout=10,
                                  what="the final message of %s" % sp.user)
            sp.echoed[body] = "final"
        r = await t.client.command("end-session", {"session": session})
        h.check(r.status == "completed", "end-session completed")
        await cl.wait_state(env, session, "ended")
        notes = cl.ticket_notes(env, ticket, "transcript")
        h.check(len(notes) == 1, "one transcript for %s" % room)
        lines = notes[0][2].split("\n")
        bodies = [ln.split(": ", 1)[1] for ln in lines if ": " in ln]
        for sp in (c, t):
            missing = [b for b in sp.echoed if bodies.count(b) != 1]
            h.check(not missing, "%s: every acknowledged message of %s "
                    "once in the transcript; missing or repeated: %r" %
                    (room, sp.user, missing[:10]))
    for sp in W.speakers:
        sp.client.abort()


if __name__ == "__main__":
    cl.main(None, [test_three_active_sessions] +
            [make_round(i) for i in range(N)] +
            [test_nothing_acknowledged_is_lost,
             test_sessions_carry_on_and_end_with_full_transcripts])
