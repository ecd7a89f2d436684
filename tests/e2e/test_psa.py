"""The PSA webhook (SPEC §6, docs/psa.md) through Prosody, chatdesk,
chatdeskctl, slixmpp and scripts/psa-receiver on loopback.

The receiver is first down (connections refused), then answers 503, then
hangs without answering, while chats start and end and while chatdesk is
killed with SIGKILL and restarted; then it answers 200 (with an external_id
for ticket.created). Afterwards every event of the outbox was delivered
with a good signature and the headers of SPEC §6, none is missing, each
ticket's events arrived in order, and the external_id is carried by every
later event. While a request hangs a groupchat message is still broadcast
within a second (the HTTP timeout is 5 s). A 400 makes a dead letter that
`chatdeskctl outbox list` shows, the ticket's later events still go, and
`chatdeskctl outbox retry` sends it again. An https receiver with a
self-signed certificate is refused (the certificate is verified) until
chatdesk is given it as [psa] ca_file.
"""
# databases: sqlite, postgresql
# pg-servers: prosody, ejabberd

import asyncio
import hashlib
import hmac
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from e2e import chatlib as cl
from e2e import harness as h

PORT = h.free_port()
METRICS_PORT = h.free_port()
SECRET = "psa-test-secret"
TIMEOUT = 5
PSA_EXTRA = cl.CHAT_EXTRA + (
    "\n[psa]\nwebhook_url = http://127.0.0.1:%d/hooks/chatdesk\n"
    "webhook_secret = %s\ntimeout = %d\nretry_max = 2\n" % (PORT, SECRET,
                                                          TIMEOUT) +
    "[metrics]\nlisten = 127.0.0.1:%d\n" % METRICS_PORT)
RECEIVER = os.path.join(h.SOURCE_DIR, "scripts", "psa-receiver")


class Receiver:
    """scripts/psa-receiver, switched through its control file."""

    def __init__(self, env):
        self.dir = env.workdir
        self.log = os.path.join(self.dir, "psa.jsonl")
        self.control = os.path.join(self.dir, "psa.mode")
        self.proc = None

    def start(self, mode):
        self.mode(mode)
        out = open(os.path.join(self.dir, "psa.out"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, RECEIVER, "--port", str(PORT), "--secret",
             SECRET, "--log", self.log, "--control", self.control,
             "--external-id", "EXT-"], stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        h.wait_until(lambda: h.port_open(PORT), 10, "psa-receiver listening")

    def mode(self, mode):
        with open(self.control, "w") as f:
            f.write(mode + "\n")

    def stop(self):
        if self.proc:
            h.stop_pid(self.proc)
            self.proc = None

    def entries(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]


def ctl(env, *args):
    return subprocess.run([h.CHATDESKCTL_BIN, "-c", env.chatdesk.config] +
                          list(args), capture_output=True, text=True,
                          timeout=60)


def outbox(env):
    """chatdeskctl outbox list as dicts, oldest first."""
    r = ctl(env, "outbox", "list")
    h.check(r.returncode == 0, "outbox list: %r" % r.stderr)
    keys = ("event", "ticket", "type", "status", "attempts", "answer")
    return [dict(zip(keys, line.split("\t")))
            for line in r.stdout.splitlines()]


async def wait_entry(rx, pred, what, timeout=15):
    await h.async_wait_until(lambda: any(pred(e) for e in rx.entries()),
                             timeout, what)


async def active_chat(env, contact, tech, text):
    """A chat made active (both in the room); returns (fields, clients)."""
    c = await cl.login(env, contact)
    t = await cl.login(env, tech)
    s = await cl.start_chat(c, text)
    await cl.join(c, s["room"], contact)
    await cl.join(t, s["room"], tech)
    await cl.wait_state(env, s["session"], "active")
    return s, c, t


async def end_chat(env, tech, session):
    r = await tech.command("end-session", {"session": session})
    h.check(r.status == "completed", "end-session completed")
    await cl.wait_state(env, session, "ended")


async def kill_and_restart(env):
    count = env.chatdesk.online_count()
    rc = h.stop_pid(env.chatdesk.proc, signal.SIGKILL)
    h.check(rc == -signal.SIGKILL, "chatdesk killed by SIGKILL (%s)" % rc)
    env.chatdesk.start(wait_online=False)
    await h.async_wait_until(lambda: env.chatdesk.online_count() > count,
                             30, "chatdesk online again")


def check_deliveries(rx, events):
    """Every event delivered (2xx) with a good signature and headers, none
    missing, each ticket's in order, external_id carried after created."""
    entries = rx.entries()
    h.check(all(e["signature_ok"] for e in entries),
            "every signature verifies")
    for e in entries:
        want = "sha256=" + hmac.new(SECRET.encode(), e["body"].encode(),
                                    hashlib.sha256).hexdigest()
        body = json.loads(e["body"])
        hd = e["headers"]
        h.check(hd["X-Chatdesk-Signature"] == want and
                hd["Content-Type"] == "application/json" and
                hd["Idempotency-Key"] == body["id"] and
                hd["X-Chatdesk-Event"] == body["type"],
                "headers of SPEC §6: %r" % hd)
    first = {}  # event id -> (position, body) of its first delivery
    for i, e in enumerate(entries):
        body = json.loads(e["body"])
        if e["answer"] and 200 <= e["answer"] < 300:
            first.setdefault(body["id"], (i, body))
    ids = [ev["event"] for ev in events]
    missing = [i for i in ids if i not in first]
    h.check(not missing, "no event missing: %r" % missing)
    h.check(set(first) == set(ids), "nothing delivered that is not in the "
            "outbox: %r" % (set(first) - set(ids)))
    for ticket in {ev["ticket"] for ev in events}:
        mine = [ev["event"] for ev in events if ev["ticket"] == ticket]
        got = sorted(mine, key=lambda i: first[i][0])
        h.check(got == mine, "ticket %s in order: %r != %r" %
                (ticket, got, mine))
        for n, i in enumerate(mine):
            ext = first[i][1]["ticket"]["external_id"]
            want = None if n == 0 else "EXT-%s" % ticket
            h.check(ext == want, "ticket %s event %d external_id %r, want %r"
                    % (ticket, n, ext, want))


async def test_bad_config_stops_start_up(env):
    path = os.path.join(env.workdir, "bad.ini")
    with open(env.chatdesk.config) as f:
        text = f.read().replace("webhook_secret", "; webhook_secret")
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run([h.CHATDESK_BIN, "-c", path], capture_output=True,
                       text=True, timeout=30)
    h.check(r.returncode == 2 and "webhook_secret" in r.stderr,
            "no secret: exit 2 naming the key: %r" % r.stderr)


async def test_outages_lose_nothing(env):
    rx = Receiver(env)
    env.psa_receiver = rx
    env.extra.append(rx)  # stopped by env.shutdown() whatever happens
    # down: connections refused while a chat starts and ends
    s1, alice, tom = await active_chat(env, "alice", "tom", "Printer jammed")
    cl.say(alice, s1["room"], "PC LOAD LETTER")
    await end_chat(env, tom, s1["session"])
    def tried_in_order():
        evs = outbox(env)  # the first event tried, the later ones waiting
        return len(evs) == 2 and evs[0]["status"] == "pending" and \
            int(evs[0]["attempts"]) >= 2 and evs[1]["attempts"] == "0"
    await h.async_wait_until(tried_in_order, 10,
                             "attempts on a receiver that is down")
    def metrics_show_it():  # the operator sees it too
        m = cl.scrape_metrics(METRICS_PORT)
        return m["chatdesk_outbox_depth"] == 2 and \
            m["chatdesk_outbox_failures_total"] >= 2
    await h.async_wait_until(metrics_show_it, 5,
                             "outbox depth 2 and failures in /metrics")
    # 503 while another chat starts
    rx.start("503")
    s2, bob, tina = await active_chat(env, "bob", "tina", "Mail bounces")
    await wait_entry(rx, lambda e: e["answer"] == 503, "a 503 answer")
    # hang: a request is in flight and unanswered ...
    rx.mode("hang")
    await wait_entry(rx, lambda e: e["mode"] == "hang", "a hanging request")
    # ... and a chat message is still broadcast at once
    mark = cl.Mark(tina)
    t0 = time.monotonic()
    cl.say(bob, s2["room"], "still there?")
    await cl.wait_message(
        tina, lambda m: m["type"] == "groupchat" and
        "still there?" in cl.body(m), mark, timeout=2, what="bob's line")
    took = time.monotonic() - t0
    h.check(took < 1.0, "broadcast in %.2fs while the PSA hangs" % took)
    # SIGKILL with the request hanging, and a restart
    await kill_and_restart(env)
    r = ctl(env, "ticket", "close", s1["ticket"], "Replaced the drum")
    h.check(r.returncode == 0, "ticket close: %r" % r.stderr)
    await end_chat(env, tina, s2["session"])
    await asyncio.sleep(1.5)  # some attempts hang after the restart too
    rx.mode("ok")
    await h.async_wait_until(
        lambda: all(ev["status"] == "sent" for ev in outbox(env)),
        3 * TIMEOUT + 10, "every event sent")
    await h.async_wait_until(
        lambda: cl.scrape_metrics(METRICS_PORT)["chatdesk_outbox_depth"] == 0,
        5, "outbox depth back to 0")
    events = outbox(env)
    h.check([(ev["ticket"], ev["type"]) for ev in events] == [
        (s1["ticket"], "ticket.created"), (s1["ticket"], "ticket.note_added"),
        (s2["ticket"], "ticket.created"), (s1["ticket"], "ticket.note_added"),
        (s1["ticket"], "ticket.closed"), (s2["ticket"], "ticket.note_added")],
        "both tickets' events: %r" % events)
    check_deliveries(rx, events)


async def test_dead_letter_and_retry(env):
    rx = env.psa_receiver
    rx.mode("400")
    s, _, tom = await active_chat(env, "ivan", "tom", "VPN down")
    await end_chat(env, tom, s["session"])
    await h.async_wait_until(
        lambda: [ev["status"] for ev in outbox(env)
                 if ev["ticket"] == s["ticket"]] == ["dead", "dead"], 15,
        "ticket.created and the transcript are dead letters")
    dead = [ev for ev in outbox(env) if ev["ticket"] == s["ticket"]]
    h.check(all(ev["answer"].startswith("HTTP 400: ") for ev in dead),
            "the answer is kept: %r" % dead)
    rx.mode("ok")
    # a dead letter does not hold back the ticket's later events
    r = ctl(env, "ticket", "close", s["ticket"])
    h.check(r.returncode == 0, "ticket close: %r" % r.stderr)
    await h.async_wait_until(
        lambda: outbox(env)[-1]["status"] == "sent", 10,
        "ticket.closed sent past the dead letters")
    t0 = time.monotonic()
    for ev in dead:
        r = ctl(env, "outbox", "retry", ev["event"])
        h.check(r.returncode == 0, "outbox retry: %r" % r.stderr)
    await h.async_wait_until(
        lambda: all(ev["status"] == "sent" for ev in outbox(env)), 5,
        "the retried dead letters sent within 5 s")
    print("retried dead letters delivered in %.1fs" % (time.monotonic() - t0))
    r = ctl(env, "outbox", "retry", dead[0]["event"])
    h.check(r.returncode == 2, "retry of a sent event is refused")
    got = [json.loads(e["body"])["id"] for e in rx.entries()
           if e["answer"] == 200]
    h.check(all(ev["event"] in got for ev in dead), "re-sent and accepted")
    rx.stop()


def tls_setup(d):
    """A self-signed certificate for 127.0.0.1 (its own CA) in d."""
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext",
                        "subjectAltName=IP:127.0.0.1"], capture_output=True,
                       text=True, timeout=60)
    h.check(r.returncode == 0, "openssl req: %s" % r.stderr)
    return cert, key


def offline_chatdesk(d, port, ca_file=None):
    """chatdesk on its own database, its server unreachable (port 1): only
    its once-a-second PSA work runs."""
    db = os.path.join(d, "tls.db")
    ini = os.path.join(d, "tls-%s.ini" % ("ca" if ca_file else "plain"))
    with open(ini, "w") as f:
        f.write("[component]\njid = tls.localhost\nsecret = x\nport = 1\n"
                "[database]\npath = %s\n[psa]\nwebhook_url = "
                "https://127.0.0.1:%d/hooks\nwebhook_secret = %s\n%s" %
                (db, port, SECRET, "ca_file = %s\n" % ca_file if ca_file
                 else ""))
    log = open(os.path.join(d, "tls-chatdesk.log"), "ab")
    p = subprocess.Popen([h.CHATDESK_BIN, "-c", ini], stdout=log,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    log.close()
    return p, db


def tls_outbox(db):
    r = subprocess.run([h.CHATDESKCTL_BIN, "-d", db, "outbox", "list"],
                       capture_output=True, text=True, timeout=60)
    return [line.split("\t") for line in r.stdout.splitlines()]


async def test_https_verified_and_ca_file(env):
    d = os.path.join(env.workdir, "tls")
    os.makedirs(d)
    cert, key = tls_setup(d)
    port = h.free_port()
    out = open(os.path.join(d, "psa.out"), "ab")
    rx = subprocess.Popen([sys.executable, RECEIVER, "--port", str(port),
                           "--secret", SECRET, "--tls-cert", cert,
                           "--tls-key", key], stdout=out,
                          stderr=subprocess.STDOUT, start_new_session=True)
    out.close()
    procs = [rx]
    try:
        h.wait_until(lambda: h.port_open(port), 10, "https receiver")
        p, db = offline_chatdesk(d, port)
        procs.append(p)
        h.wait_until(lambda: os.path.exists(db), 10, "the database")
        await asyncio.sleep(0.5)  # migrated
        con = sqlite3.connect(db, timeout=5)
        con.execute("INSERT INTO tickets (summary, status, created) "
                    "VALUES ('TLS', 'open', 0)")
        con.commit()
        con.close()
        r = subprocess.run([h.CHATDESKCTL_BIN, "-d", db, "ticket", "close",
                            "1"], capture_output=True, text=True, timeout=60)
        h.check(r.returncode == 0, "ticket close: %r" % r.stderr)
        await h.async_wait_until(
            lambda: int(tls_outbox(db)[0][4]) >= 1, 10, "an attempt")
        row = tls_outbox(db)[0]
        h.check(row[3] == "pending" and "certificate" in row[5].lower(),
                "an unknown CA is refused and retried: %r" % row)
        h.check(h.stop_pid(p) == 0, "chatdesk stops cleanly")
        p, _ = offline_chatdesk(d, port, ca_file=cert)
        procs.append(p)
        await h.async_wait_until(lambda: tls_outbox(db)[0][3] == "sent", 10,
                                 "delivered with ca_file")
        h.check(h.stop_pid(p) == 0, "chatdesk stops cleanly")
        with open(os.path.join(d, "tls-chatdesk.log")) as f:
            text = f.read()
        h.check("Sanitizer" not in text and "runtime error" not in text,
                "no sanitizer report: %s" % text[-2000:])
    finally:
        for proc in procs:
            h.stop_pid(proc)


if __name__ == "__main__":
    cl.main(None, [test_bad_config_stops_start_up, test_outages_lose_nothing,
                   test_dead_letter_and_retry,
                   test_https_verified_and_ca_file], extra=PSA_EXTRA)
