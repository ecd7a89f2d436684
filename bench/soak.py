"""scripts/soak driver: chats start and end for a long time at about half
the rate this machine saturates at, while chatdesk's memory and open files
are watched (docs/reliability.md, "Soak").

Run through scripts/soak (it builds build-rel/ first); needs Debian's
/usr/bin/python3 (it imports tests/e2e/harness.py, which imports slixmpp).

W pairs of a contact c<i> and a tech t<i> (slixmpp clients on a Prosody the
harness starts on free loopback ports) each repeat one chat: the contact
runs start-chat and joins the room, the tech joins, they exchange
--messages groupchat messages (each waits for its echo with a stanza-id: an
acknowledged message), the tech runs end-session, both leave. First
--probe seconds with every pair flat out give the saturation rate (chats a
second); then the pairs are paced to half of it for the rest of --minutes.
Every 10 s a line: chats done, messages acknowledged, chatdesk's RSS and
open file descriptors, and the CPU (% of one core) of chatdesk and of this
driver (which of them sets the saturation rate). At the end every acknowledged stanza-id must be in
the database, with its body: nothing acknowledged was lost. Exit 1 if not,
or if chatdesk died.
"""

import argparse
import asyncio
import logging
import os
import sqlite3
import sys
import time

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("CHATDESK_SOAK_BUILD",
                       os.path.join(SOURCE_DIR, "build-rel"))
os.environ.setdefault("CHATDESK_SOURCE_DIR", SOURCE_DIR)
os.environ.setdefault("CHATDESK_BUILD_DIR", BUILD)
os.environ.setdefault("CHATDESK_BIN", os.path.join(BUILD, "chatdesk"))
os.environ.setdefault("CHATDESKCTL_BIN", os.path.join(BUILD, "chatdeskctl"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests"))

from e2e import harness as h  # noqa: E402

NS_SID = "urn:xmpp:sid:0"
EXTRA = "[log]\nlevel = info\n[limits]\nstanzas_per_second = 0\n"


def log(msg):
    print("soak: " + msg, file=sys.stderr, flush=True)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def cpu_seconds(pid):
    """utime + stime of a process, seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Stats:
    def __init__(self):
        self.chats = 0
        self.acked = {}  # stanza-id -> body
        self.sent = 0
        self.errors = 0


def write_directory(env, pairs):
    path = os.path.join(env.workdir, "soak-%s.csv")
    with open(path % "companies", "w") as f:
        f.write("name,chat,pre_ticket,callback\nSoak,inherit,inherit,"
                "inherit\n")
    with open(path % "contacts", "w") as f:
        f.write("jid,company,name,phone,chat\n")
        for i in range(pairs):
            f.write("c%d@localhost,Soak,Contact %d,+1 555 %04d,\n" % (i, i, i))
    with open(path % "techs", "w") as f:
        f.write("jid,name,admin\n")
        for i in range(pairs):
            f.write("t%d@localhost,Tech %d,no\n" % (i, i))
    for kind in ("companies", "contacts", "techs"):
        env.ctl("import", kind, path % kind)


def forget(client, room):
    """Drop what slixmpp's MUC plugin keeps of a room left for good (its
    rosters would grow with every chat)."""
    muc = client["xep_0045"]
    for table in (getattr(muc, "rooms", {}), getattr(muc, "our_nicks", {})):
        for key in [k for k in table if str(k) == room]:
            del table[key]


class Pair:
    """A contact and a tech who chat, over and over."""

    def __init__(self, i, contact, tech, stats, messages):
        self.i, self.contact, self.tech = i, contact, tech
        self.stats, self.messages = stats, messages
        self.echo = {}  # (sender, body) -> future of the stanza-id
        for c in (contact, tech):
            c.add_event_handler("groupchat_message",
                                lambda msg, c=c: self._on_groupchat(c, msg))

    def _on_groupchat(self, client, msg):
        fut = self.echo.get((client, msg["body"]))
        if fut is None or fut.done():
            return
        for el in msg.xml.findall("{%s}stanza-id" % NS_SID):
            if el.get("by") == msg["from"].bare:
                fut.set_result(el.get("id"))

    async def _say(self, who, room, body):
        fut = asyncio.get_running_loop().create_future()
        self.echo[(who, body)] = fut
        who.make_message(mto=room, mbody=body, mtype="groupchat").send()
        self.stats.sent += 1
        try:
            sid = await asyncio.wait_for(fut, 30)
            self.stats.acked[sid] = body
        finally:
            del self.echo[(who, body)]

    async def chat(self, n):
        r = await self.contact.command("start-chat", {
            "description": "soak chat %d of pair %d" % (n, self.i)})
        room, session = r.fields["room"], r.fields["session"]
        await self.contact["xep_0045"].join_muc_wait(room, "c", timeout=30)
        await self.tech["xep_0045"].join_muc_wait(room, "t", timeout=30)
        for k in range(self.messages):
            who = self.contact if k % 2 == 0 else self.tech
            await self._say(who, room, "p%d c%d m%d" % (self.i, n, k))
        await self.tech.command("end-session", {"session": session,
                                                "note": "soak"})
        for who, nick in ((self.contact, "c"), (self.tech, "t")):
            who["xep_0045"].leave_muc(room, nick)
            forget(who, room)
        self.stats.chats += 1

    async def run(self, until, interval_of):
        """Chat until the monotonic time until; interval_of() is the time
        a chat should take at least (0: flat out)."""
        n = 0
        while time.monotonic() < until:
            t0 = time.monotonic()
            n += 1
            try:
                await self.chat(n)
            except Exception as e:  # noqa: BLE001 - counted and reported
                self.stats.errors += 1
                log("pair %d chat %d: %r" % (self.i, n, e))
            rest = interval_of() - (time.monotonic() - t0)
            if rest > 0:
                await asyncio.sleep(min(rest, max(0, until - time.monotonic())))


def out(line):
    """A line on the real stdout (sys.stdout is /dev/null: slixmpp 1.8.3
    prints the <delay/> of every history message a join brings)."""
    print(line, file=sys.__stdout__, flush=True)


async def sample(env, stats, t_start, until, rows):
    pid = env.chatdesk.proc.pid
    out("%7s %7s %9s %9s %5s %6s %10s %8s" % (
        "time s", "chats", "messages", "RSS KiB", "fds", "errors",
        "chatdesk%", "driver%"))
    last = (time.monotonic(), cpu_seconds(pid), cpu_seconds(os.getpid()))
    while True:
        now = (time.monotonic(), cpu_seconds(pid), cpu_seconds(os.getpid()))
        span = max(now[0] - last[0], 1e-6)
        row = (now[0] - t_start, stats.chats, len(stats.acked), rss_kib(pid),
               open_fds(pid), stats.errors, 100 * (now[1] - last[1]) / span,
               100 * (now[2] - last[2]) / span)
        last = now
        rows.append(row)
        out("%7.0f %7d %9d %9d %5d %6d %10.0f %8.0f" % row)
        if time.monotonic() >= until:
            return
        await asyncio.sleep(min(10, max(0.1, until - time.monotonic())))


def lost(env, stats):
    con = sqlite3.connect("file:%s?mode=ro" % env.chatdesk.db, uri=True,
                          timeout=30)
    try:
        stored = dict(con.execute("SELECT stanza_id, body FROM messages"))
    finally:
        con.close()
    return [sid for sid, body in stats.acked.items()
            if stored.get(sid) != body]


async def soak(env, a):
    stats, rows = Stats(), []
    clients = []
    for i in range(a.pairs):
        clients.append((await env.client("c%d" % i),
                        await env.client("t%d" % i)))
    await asyncio.sleep(2)  # chatdesk subscribes and learns presence
    pairs = [Pair(i, c, t, stats, a.messages) for i, (c, t) in
             enumerate(clients)]
    t_start = time.monotonic()
    end = t_start + a.minutes * 60
    probe_end = t_start + min(a.probe, a.minutes * 60 / 2)
    pace = {"interval": 0.0}
    sampler = asyncio.ensure_future(sample(env, stats, t_start, end, rows))
    await asyncio.gather(*(p.run(probe_end, lambda: 0.0) for p in pairs))
    rate = stats.chats / (time.monotonic() - t_start)
    pace["interval"] = a.pairs / (rate / 2) if rate > 0 else 1.0
    log("saturation: %.1f chats/s with %d pairs; now %.1f chats/s (a chat "
        "every %.2f s per pair)" % (rate, a.pairs, rate / 2,
                                    pace["interval"]))
    await asyncio.gather(*(p.run(end, lambda: pace["interval"])
                           for p in pairs))
    await sampler
    return stats, rows, rate


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--pairs", type=int, default=8,
                    help="contact/tech pairs chatting at once (default 8)")
    ap.add_argument("--messages", type=int, default=6,
                    help="messages in each chat (default 6)")
    ap.add_argument("--probe", type=float, default=30,
                    help="seconds flat out to find the saturation rate")
    a = ap.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    sys.stdout = open(os.devnull, "w")
    users = ["c%d" % i for i in range(a.pairs)] + \
        ["t%d" % i for i in range(a.pairs)]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    env = h.Env(users, EXTRA, start_chatdesk=False)
    ok = False
    try:
        write_directory(env, a.pairs)
        env.chatdesk.start()
        stats, rows, rate = loop.run_until_complete(soak(env, a))
        loop.run_until_complete(env.close_clients())
        missing = lost(env, stats)
        alive = env.chatdesk.proc.poll() is None
        first, last = rows[0], rows[-1]
        out("saturation %.1f chats/s, soak at %.1f; %d chats, %d messages "
              "sent, %d acknowledged, %d lost, %d errors; RSS %d -> %d KiB "
              "(max %d), fds %d -> %d (max %d); chatdesk %s" %
              (rate, rate / 2, stats.chats, stats.sent, len(stats.acked),
               len(missing), stats.errors, first[3], last[3],
               max(r[3] for r in rows), first[4], last[4],
               max(r[4] for r in rows), "running" if alive else "DIED"))
        ok = alive and not missing
    finally:
        rc = env.shutdown(keep=not ok)
    sys.exit(0 if ok and rc == 0 else 1)


if __name__ == "__main__":
    main()
