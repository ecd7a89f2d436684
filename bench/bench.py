"""scripts/bench driver: measures chatdesk against the limit of the server
(a no-op echo component) and against Prosody's own MUC. See
docs/performance.md for what each part measures and the last results.

Run through scripts/bench (it builds build-bench/ first); needs Debian's
/usr/bin/python3 (it imports tests/e2e/harness.py, which imports slixmpp).

Every server here is started by this script on free loopback ports in a
fresh directory under build-bench/, and stopped by PID at the end.
"""

import argparse
import asyncio
import datetime
import json
import logging
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import types

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests"))
os.environ.setdefault("CHATDESK_SOURCE_DIR", SOURCE_DIR)

from e2e import chatlib as cl  # noqa: E402
from e2e import harness as h  # noqa: E402

BUILD = os.environ.get("CHATDESK_BENCH_BUILD",
                       os.path.join(SOURCE_DIR, "build-bench"))
CHATDESK = os.path.join(BUILD, "chatdesk")
CHATDESKCTL = os.path.join(BUILD, "chatdeskctl")
LOADGEN = os.path.join(BUILD, "bench", "loadgen")
ECHO = os.path.join(BUILD, "bench", "echo_component")
NOSYNC = os.path.join(BUILD, "bench", "nosync.so")
SLOWSYNC = os.path.join(BUILD, "bench", "slowsync.so")
WRITER_RT = os.path.join(BUILD, "bench", "writer_rt")
ECHO_DOMAIN = "echo.localhost"
MUC_DOMAIN = "conference.localhost"
TICK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---- processes -------------------------------------------------------------

def cpu_seconds(pid):
    """utime + stime of a process (and its reaped children), seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class BenchProsody(h.Prosody):
    """The project's Prosody config with Nagle on or off, Prosody's MUC on
    conference.localhost, the echo component and warn-level logging."""

    def __init__(self, workdir, nagle=False, mam=False):
        self.nagle = nagle
        self.mam = mam
        super().__init__(workdir)

    def render(self):
        super().render()
        with open(self.config) as f:
            text = f.read()
        shipped = "network_settings = { nagle = false }"
        h.check(shipped in text, "config/prosody.cfg.lua has %r" % shipped)
        text = text.replace(shipped, "network_settings = { nagle = %s }" %
                            ("true" if self.nagle else "false"))
        text = text.replace('levels = { min = "info" }',
                            'levels = { min = "warn" }')
        text += ('\nComponent "%s" "muc"\n'
                 '    muc_room_locking = false\n'
                 '    max_history_messages = 20\n'
                 '%s'
                 '\nComponent "%s"\n'
                 '    component_secret = "%s"\n' %
                 (MUC_DOMAIN, PROSODY_MAM if self.mam else "", ECHO_DOMAIN,
                  self.secret))
        with open(self.config, "w") as f:
            f.write(text)

    def register_many(self, users):
        """prosodyctl register the first user; copy its account file (same
        password, salt and SCRAM keys) for the others: prosodyctl takes
        ~0.5 s a call."""
        if not users:
            return
        self.register(users[0])
        acc = os.path.join(self.dir, "data", "localhost", "accounts")
        src = os.path.join(acc, users[0] + ".dat")
        h.check(os.path.exists(src), "Prosody account file %s" % src)
        for u in users[1:]:
            shutil.copyfile(src, os.path.join(acc, u + ".dat"))


# The durable peer: every room message archived by mod_muc_mam (Prosody
# 0.12: muc_log_all_rooms forces the archive on in every room), in Prosody's
# default storage (internal: files under data/).
PROSODY_MAM = ('    modules_enabled = { "muc_mam" }\n'
               '    muc_log_all_rooms = true\n'
               '    muc_log_by_default = true\n')


class BenchEjabberd(h.Ejabberd):
    """The project's ejabberd config (tests/e2e/harness.py renders it),
    with ejabberd's MUC on conference.localhost (mam: mod_mam archiving
    every room message in ejabberd's default database, mnesia), the echo
    component on the component listener and warning-level logging."""

    def __init__(self, workdir, mam=False, component_number=None):
        self.mam = mam
        super().__init__(workdir, component_number=component_number)

    def render(self):
        super().render()
        with open(self.config) as f:
            text = f.read()
        for old, new in (
                ("    module: ejabberd_service\n    hosts:\n",
                 "    module: ejabberd_service\n    hosts:\n"
                 '      "%s":\n        password: "%s"\n' %
                 (ECHO_DOMAIN, self.secret)),
                ("modules:\n  mod_disco: {}\n",
                 "modules:\n  mod_disco: {}\n" + EJABBERD_MUC +
                 (EJABBERD_MAM if self.mam else ""))):
            h.check(old in text, "config/ejabberd.yml has %r" % old)
            text = text.replace(old, new)
        with open(self.config, "w") as f:
            f.write(text)
        self._give_to_user()

    def register_many(self, users):
        """Register users once the node runs, 16 ejabberdctl at a time."""
        for i in range(0, len(users), 16):
            self._register_now([(u, h.PASSWORD) for u in users[i:i + 16]])

    def watch(self):
        """What cpu_seconds() reads: the Erlang VM (every scheduler)."""
        return types.SimpleNamespace(pid=self.server_pid())


EJABBERD_MUC = ('  mod_muc:\n'
                '    hosts:\n      - "%s"\n'
                '    access_create: all\n'
                '    history_size: 20\n'
                '    max_user_conferences: 10000\n' % MUC_DOMAIN)
# (inside mod_muc, then a module of its own)
EJABBERD_MAM = ('    default_room_options:\n      mam: true\n'
                '  mod_mam:\n    default: always\n')


def has_ejabberd():
    return shutil.which("ejabberdctl") is not None and (
        os.geteuid() == 0 or h._user_name() == h.Ejabberd.USER)


class Proc:
    """A background process of ours with its output in a log file."""

    def __init__(self, argv, logpath, name, env=None):
        self.name = name
        self.logpath = logpath
        out = open(logpath, "ab")
        self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env,
                                     start_new_session=True)
        out.close()
        self.pid = self.proc.pid

    def text(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def wait_for(self, needle, timeout=30):
        h.wait_until(lambda: needle in self.text() or
                     self.proc.poll() is not None, timeout,
                     "%s: %r" % (self.name, needle), step=0.01)
        h.check(self.proc.poll() is None, "%s running; log:\n%s" %
                (self.name, self.text()[-2000:]))

    def stop(self):
        if self.proc.poll() is None:
            h.stop_pid(self.proc, signal.SIGTERM, 30)


def start_echo(server, nagle=False, stanza_id=False):
    argv = [ECHO, "--jid", ECHO_DOMAIN, "--secret", server.secret,
            "--port", str(server.component_port)]
    if nagle:
        argv.append("--nagle")
    if stanza_id:
        argv.append("--stanza-id")
    logpath = os.path.join(os.path.dirname(server.dir), "echo-%d.log" %
                           time.monotonic_ns())
    p = Proc(argv, logpath, "echo")
    p.wait_for("online as")
    return p


CONTACTS_CSV_HEAD = "jid,company,name,phone,chat\n"


def write_directory(workdir, db, contacts, techs):
    """Companies, contacts c0..c<n-1>, techs t0..t<m-1> via chatdeskctl."""
    files = {
        "companies": "name,chat,pre_ticket,callback\nBench Co,on,on,on\n",
        "contacts": CONTACTS_CSV_HEAD + "".join(
            "c%d@localhost,Bench Co,Contact %d,+1 555 %04d,\n" % (i, i, i)
            for i in range(contacts)),
        "techs": "jid,name,admin\n" + "".join(
            "t%d@localhost,Tech %d,no\n" % (i, i) for i in range(techs)),
    }
    for kind in ("companies", "contacts", "techs"):
        path = os.path.join(workdir, kind + ".csv")
        with open(path, "w") as f:
            f.write(files[kind])
        r = subprocess.run([CHATDESKCTL, "-d", db, "import", kind, path],
                           capture_output=True, text=True, timeout=120)
        h.check(r.returncode == 0, "chatdeskctl import %s: %s" %
                (kind, r.stderr))


# chatdesk limits each user to 20 stanzas/s by default ([limits]); the
# saturation phase and the bulk start-chat go far above that on purpose, so
# the bench sets a limit it never reaches (the limiter still runs).
LIMITS = "\n[limits]\nstanzas_per_second = 100000\nburst = 100000\n"
PSA = {"extra": ""}  # --psa: the [psa] section pointing at psa-receiver


def supports_limits():
    with open(CHATDESK, "rb") as f:
        return b"stanzas_per_second" in f.read()


def start_chatdesk(workdir, server, db, level="info", preload=None,
                   multicast=None, name="chatdesk", connections=None):
    """chatdesk in workdir/name; connections: [component] connections =
    auto with at most that many (several processes on ejabberd's
    domain_balancing, SPEC §11)."""
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    cfg = os.path.join(d, "chatdesk.ini")
    component = ("multicast = %s\n" % multicast if multicast else "") + (
        "connections = auto\nconnections_max = %d\n" % connections
        if connections else "")
    with open(cfg, "w") as f:
        f.write("[component]\njid = %s\nsecret = %s\nhost = 127.0.0.1\n"
                "port = %d\nreconnect_max = 2\n%s\n[database]\n%s = %s\n\n"
                "[log]\nlevel = %s\n%s%s" %
                (server.component, server.secret, server.component_port,
                 component,
                 "url" if db.startswith("postgresql://") else "path", db,
                 level, LIMITS if supports_limits() else "", PSA["extra"]))
    env = dict(os.environ, LD_PRELOAD=preload) if preload else None
    p = Proc([CHATDESK, "-c", cfg], os.path.join(d, "chatdesk.log"),
             name, env=env)
    return p


def start_psa_receiver(root):
    """scripts/psa-receiver on a free port, and the [psa] section every
    chatdesk of this run gets."""
    port = h.free_port()
    p = Proc([sys.executable, os.path.join(SOURCE_DIR, "scripts",
                                           "psa-receiver"),
              "--port", str(port), "--secret", "bench", "--external-id",
              "B-"], os.path.join(root, "psa-receiver.log"), "psa-receiver")
    p.wait_for("listening")
    PSA["extra"] = ("\n[psa]\nwebhook_url = http://127.0.0.1:%d/hooks\n"
                    "webhook_secret = bench\n" % port)
    return p


# ---- the load generator ----------------------------------------------------

def loadgen(args, watch=(), timeout=900, stdin_lines=None):
    """Run loadgen; returns its JSON lines, each with the CPU % of the
    watched processes (name -> Proc) between the previous line and it.
    stdin_lines(obj) is called for each line and may return text to send."""
    argv = [LOADGEN] + [str(a) for a in args]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.PIPE,
                         stderr=sys.stderr, text=True, start_new_session=True)
    results = []
    t_prev = time.monotonic()
    cpu_prev = {n: cpu_seconds(w.pid) for n, w in watch}
    deadline = time.monotonic() + timeout
    try:
        for line in p.stdout:
            now = time.monotonic()
            obj = json.loads(line)
            cpu = {n: cpu_seconds(w.pid) for n, w in watch}
            obj["cpu_pct"] = {n: round(100 * (cpu[n] - cpu_prev[n]) /
                                       max(now - t_prev, 1e-6), 1)
                              for n in cpu}
            t_prev, cpu_prev = now, cpu
            results.append(obj)
            if stdin_lines:
                reply = stdin_lines(obj)
                if reply is not None:
                    try:
                        p.stdin.write(reply + "\n")
                        p.stdin.flush()
                    except BrokenPipeError:
                        break
            if now > deadline:
                break
        try:
            p.stdin.close()
        except BrokenPipeError:
            pass
        rc = p.wait(timeout=max(10, deadline - time.monotonic()))
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
            p.wait(30)
    h.check(rc == 0, "loadgen %s exited %d" % (" ".join(argv[1:5]), rc))
    return results


# ---- 1. Nagle --------------------------------------------------------------

def run_nagle(root, a):
    """Round trips client -> Prosody -> component -> client: Prosody's Nagle
    on/off x the component's TCP_NODELAY on/off, three traffic patterns."""
    out = []
    patterns = [
        ("serial", ["--clients", 1, "--burst", 1]),
        ("burst2", ["--clients", 1, "--burst", 2]),
        ("4 clients", ["--clients", 4, "--burst", 1]),
    ]
    for nagle in (True, False):
        wd = tempfile.mkdtemp(prefix="nagle-", dir=root)
        server = BenchProsody(wd, nagle=nagle)
        server.register_many(["c%d" % i for i in range(NAGLE_SESSIONS)] +
                             ["t%d" % i for i in range(NAGLE_TECHS)])
        server.start()
        try:
            for nodelay in (True, False):
                echo = start_echo(server, nagle=not nodelay)
                try:
                    for name, extra in patterns:
                        for kind in ("iq", "msg"):
                            r = loadgen(["--mode", "ping", "--port",
                                         server.c2s_port, "--target",
                                         ECHO_DOMAIN, "--count",
                                         a.ping_count] + extra +
                                        (["--msg"] if kind == "msg" else []),
                                        watch=[("prosody", server.proc),
                                               ("echo", echo.proc)])[0]
                            r.update(prosody_nagle=nagle,
                                     component_nodelay=nodelay,
                                     pattern=name, stanza=kind)
                            out.append(r)
                            log("nagle %-5s nodelay %-5s %-9s %-3s p50 %.2f "
                                "p99 %.2f max %.2f ms" %
                                (nagle, nodelay, name, kind, r["p50_ms"],
                                 r["p99_ms"], r["max_ms"]))
                finally:
                    echo.stop()
            # the fan-out workload through the echo component (no disk)
            echo = start_echo(server)
            try:
                r = loadgen(nagle_chat_args(server, "echo", ECHO_DOMAIN),
                            watch=[("prosody", server.proc),
                                   ("echo", echo.proc)])[1]
                r.update(prosody_nagle=nagle, component_nodelay=True,
                         pattern="rooms", stanza="groupchat")
                out.append(r)
                log("nagle %-5s echo rooms            p50 %.2f p99 %.2f max "
                    "%.2f ms, %d of %d over 20 ms" %
                    (nagle, r["p50_ms"], r["p99_ms"], r["max_ms"],
                     r["over_20ms"], r["n"]))
            finally:
                echo.stop()
            # chatdesk itself (TCP_NODELAY always on): XEP-0199 pings, rooms
            db = os.path.join(wd, "chatdesk.db")
            write_directory(wd, db, NAGLE_SESSIONS, NAGLE_TECHS)
            cd = start_chatdesk(wd, server, db)
            try:
                cd.wait_for("online as")
                for name, extra in patterns:
                    r = loadgen(["--mode", "ping", "--port", server.c2s_port,
                                 "--target", server.component, "--count",
                                 a.ping_count] + extra,
                                watch=[("prosody", server.proc),
                                       ("chatdesk", cd.proc)])[0]
                    r.update(prosody_nagle=nagle, component_nodelay=True,
                             pattern=name, stanza="iq", component="chatdesk")
                    out.append(r)
                    log("nagle %-5s chatdesk      %-9s iq  p50 %.2f p99 %.2f "
                        "max %.2f ms" % (nagle, name, r["p50_ms"],
                                         r["p99_ms"], r["max_ms"]))
                r = loadgen(nagle_chat_args(server, "chatdesk",
                                            server.component),
                            watch=[("prosody", server.proc),
                                   ("chatdesk", cd.proc)])[1]
                r.update(prosody_nagle=nagle, component_nodelay=True,
                         pattern="rooms", stanza="groupchat",
                         component="chatdesk")
                out.append(r)
                log("nagle %-5s chatdesk rooms        p50 %.2f p99 %.2f max "
                    "%.2f ms, %d of %d over 20 ms" %
                    (nagle, r["p50_ms"], r["p99_ms"], r["max_ms"],
                     r["over_20ms"], r["n"]))
            finally:
                cd.stop()
        finally:
            server.stop()
    return out


NAGLE_SESSIONS, NAGLE_TECHS = 10, 5


def nagle_chat_args(server, kind, service):
    """A light fan-out workload: 10 rooms of 2-4 occupants, 5 messages/s
    each, 10 s; nothing near saturation."""
    return ["--mode", "chat", "--kind", kind, "--port", server.c2s_port,
            "--service", service, "--sessions", NAGLE_SESSIONS, "--techs",
            NAGLE_TECHS, "--rate", 5, "--duration", 10, "--sat-duration", 0]


# ---- 2. throughput and latency ---------------------------------------------

# The saturation ramp: messages in flight per session, each step
# --sat-duration s, the best step is "saturate" (docs/performance.md: one
# message in flight is round-trip bound on ejabberd; Prosody gives its
# most at 1-2).
WINDOWS = "1,2,4,8,16"

def chat_args(a, kind, server, service):
    return ["--mode", "chat", "--kind", kind, "--port", server.c2s_port,
            "--service", service, "--sessions", a.sessions, "--techs",
            a.techs, "--rate", a.rate, "--duration", a.duration,
            "--sat-duration", a.sat_duration, "--window", a.window,
            "--body-size", a.body_size]


def users_for(a):
    return ["c%d" % i for i in range(a.sessions)] + \
           ["t%d" % i for i in range(a.techs)]


class Perf:
    """perf record -g of one process while a run lasts; the report's top
    symbols go to a text file."""

    def __init__(self, pid, out, syscalls=False):
        self.data = out + ".data"
        self.out = out
        self.syscalls = syscalls
        if syscalls:  # strace -c: syscall counts and times
            argv = ["strace", "-c", "-f", "-o", out, "-p", str(pid)]
        else:
            argv = ["perf", "record", "-F", "999", "--call-graph",
                    "dwarf,16384", "-o", self.data, "-p", str(pid)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     start_new_session=True)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)
        self.proc.wait(120)
        log("profile in %s" % self.out)
        if self.syscalls:
            return
        with open(self.out, "w") as f:
            for args in (["--no-children", "--sort", "dso,symbol"],
                         ["--children", "--sort", "symbol"]):
                r = subprocess.run(["perf", "report", "--stdio", "-i",
                                    self.data, "-g", "none",
                                    "--percent-limit", "1"] + args,
                                   capture_output=True, text=True,
                                   timeout=300)
                f.write(r.stdout)
        os.unlink(self.data)


def chat_server(wd, a, server_kind, mam, component_number=None):
    """A started server of server_kind (prosody, ejabberd) with the users
    of the workload; (server, what cpu_seconds() reads for it).
    component_number: ejabberd's domain_balancing route slots."""
    if server_kind == "ejabberd":
        server = BenchEjabberd(wd, mam=mam,
                               component_number=component_number)
        server.start()
        try:
            server.register_many(users_for(a))
        except BaseException:
            server.stop()
            raise
        return server, server.watch()
    server = BenchProsody(wd, mam=mam)
    server.register_many(users_for(a))
    server.start()
    return server, server.proc


PRELOADS = {"nosync": NOSYNC, "slowsync": SLOWSYNC}


def run_chat(root, a, kind, variant="", server_kind="prosody"):
    """kind: echo, muc or chatdesk; variant "nosync": chatdesk with
    fsync()/fdatasync() turned into no-ops (LD_PRELOAD bench/nosync.c);
    "slowsync": chatdesk with every fsync 2 ms slower (bench/slowsync.c);
    "multicast": chatdesk with [component] multicast = auto, fanning room
    messages out through ejabberd's mod_multicast (XEP-0033);
    "sid": the echo component stamping its reflections the way chatdesk
    does (XEP-0359 stanza-id); "mam": the server's MUC archiving every
    message. The server's CPU is reported as "prosody" for both servers."""
    label = server_kind[:2] + "-" + kind + ("-" + variant if variant else "")
    wd = tempfile.mkdtemp(prefix="chat-%s-" % label, dir=root)
    server, server_watch = chat_server(wd, a, server_kind, variant == "mam",
                                       SLOTS if variant == "two" else None)
    procs = []
    try:
        watch = [("prosody", server_watch)]
        if kind == "echo":
            service = ECHO_DOMAIN
            procs.append(start_echo(server, stanza_id=variant == "sid"))
            watch.append(("component", procs[-1].proc))
        elif kind == "muc":
            service = MUC_DOMAIN
        else:
            service = server.component
            db = os.path.join(wd, "chatdesk.db")
            if variant in ("pg", "two"):  # a PostgreSQL 15 that fsyncs
                db = start_postgres(wd, procs)
            write_directory(wd, db, a.sessions, a.techs)
            if variant == "two":
                procs += start_two(wd, server, db)
                watch.append(("component2", procs[-2].proc))
            else:
                procs.append(start_chatdesk(
                    wd, server, db, preload=PRELOADS.get(variant),
                    multicast="auto" if variant == "multicast" else None))
                procs[-1].wait_for("online as")
            watch.append(("component", procs[-1].proc))
        perf = None
        if (a.profile or a.syscalls) and kind == "chatdesk":
            perf = Perf(procs[-1].pid, os.path.join(
                BUILD, "bench-%s-%s.txt" % (
                    "syscalls" if a.syscalls else "profile", label)),
                syscalls=a.syscalls)
        try:
            res = loadgen(chat_args(a, kind, server, service), watch=watch)
        finally:
            if perf:
                perf.stop()
        best_step(res)
        for r in res:
            if r["phase"] != "setup":
                # a ramp step's line comes before its last messages
                # arrived: what is missing there is in flight, not lost
                step = r["phase"].startswith("saturate-w")
                log("%-8s %-8s in %7.1f/s delivered %8.1f/s p50 %6.2f p99 "
                    "%7.2f ms errors %d %s %d cpu %s loadgen %.0f%%" %
                    (label, r["phase"] if r["phase"] != "saturate" else
                     "best w%d" % r["window"], r["sent_per_s"],
                     r["delivered_per_s"],
                     r["p50_ms"], r["p99_ms"], r["errors"],
                     "in flight" if step else "lost",
                     r["expected"] - r["delivered"], r["cpu_pct"],
                     r["loadgen_cpu_pct"]))
        if kind == "chatdesk":
            res.append({"phase": "rss", "rss_kib": rss_kib(procs[-1].pid)})
        return res
    finally:
        for p in reversed(procs):  # chatdesk before its database
            p.stop()
        server.stop()


def start_postgres(wd, procs):
    """A throw-away PostgreSQL 15 that fsyncs every commit (appended to
    procs, stopped after the chatdesks); its database's URL."""
    os.environ["PGFIXTURE_DURABLE"] = "1"
    pg = h.Postgres(wd)
    pg.start()
    procs.append(pg)
    return pg.url


# ejabberd's route slots for the component when several processes serve it
SLOTS = 2
PROBED = "every probe came back"


def start_two(wd, server, db, names=("a", "b")):
    """Two chatdesks on one database, connections = auto (at most SLOTS
    each), started together; returned once each has seen its probes come
    back (docs/architecture.md: slots), i.e. holds its share of the
    slots."""
    procs = [start_chatdesk(wd, server, db, name=n, connections=SLOTS)
             for n in names]
    for p in procs:
        p.wait_for(PROBED, timeout=60)
    return procs


# ---- failover: two processes, one killed -9 --------------------------------

FAILOVER_ROOMS = 6


def run_failover(root, a):
    """Two chatdesks (connections = auto) on one PostgreSQL behind
    ejabberd's domain_balancing; FAILOVER_ROOMS chats, one contact and
    tech t0 in each. a.kills times: kill -9 the process that serves the
    component's JID and time until every room answers again (clients
    rejoin when a message is refused with not-acceptable, as a XEP-0410
    self-ping would make them), then start a new process in its place.
    Returns {"seconds": [...], "rejoined": [...]}."""
    wd = tempfile.mkdtemp(prefix="failover-", dir=root)
    contacts = ["c%d" % i for i in range(FAILOVER_ROOMS)]
    server = BenchEjabberd(wd, component_number=SLOTS)
    server.start()
    procs = []
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        server.register_many(contacts + ["t0"])
        db = start_postgres(wd, procs)
        write_directory(wd, db, FAILOVER_ROOMS, 3)
        live = start_two_debug(wd, server, db, ("a", "b"))
        procs += live
        return loop.run_until_complete(asyncio.wait_for(
            failover_kills(wd, server, db, live, procs, contacts, a.kills),
            600))
    finally:
        for t in asyncio.all_tasks(loop):
            t.cancel()
        loop.run_until_complete(asyncio.sleep(0.05))
        loop.close()
        for p in reversed(procs):
            p.stop()
        server.stop()


def start_two_debug(wd, server, db, names):
    """start_two() at log level debug: which process got a stanza for
    the component's JID is read from its log."""
    procs = [start_chatdesk(wd, server, db, name=n, connections=SLOTS,
                            level="debug") for n in names]
    for p in procs:
        p.wait_for(PROBED, timeout=60)
    return procs


async def failover_kills(wd, server, db, live, procs, contacts, kills):
    env = types.SimpleNamespace(server=server, clients=[])
    tom = await fo_client(env, "t0")
    rooms = []
    for u in contacts:
        c = await fo_client(env, u)
        r = await c.command("start-chat", {"description": "failover"},
                            to=server.component)
        rooms.append((c, r.fields["room"]))
    out = {"seconds": [], "rejoined": []}
    try:
        took, _ = await fo_every_room_works(tom, rooms, 60)
        h.check(took is not None, "every room works before the kills")
        for k in range(kills):
            victim = await fo_component_holder(tom, server, live)
            survivor = [p for p in live if p is not victim][0]
            t0 = time.monotonic()
            h.stop_pid(victim.proc, signal.SIGKILL)
            took, rejoined = await fo_every_room_works(tom, rooms, 60, t0)
            log("failover: kill -9 #%d of %s: every room answered after "
                "%s s (%d rejoined)" % (k + 1, victim.name,
                                        "%.2f" % took if took else "-",
                                        rejoined))
            out["seconds"].append(round(took, 3) if took else None)
            out["rejoined"].append(rejoined)
            fresh = start_chatdesk(wd, server, db, name="r%d" % k,
                                   connections=SLOTS, level="debug")
            procs.append(fresh)
            fresh.wait_for(PROBED, timeout=60)
            live = [survivor, fresh]
    finally:
        for c in env.clients:
            c.disconnect()
    return out


async def fo_client(env, user):
    c = h.Client(user)
    c.messages = []
    c.add_event_handler("groupchat_message", c.messages.append)
    c.add_event_handler("message_error", c.messages.append)
    await c.start(env.server.c2s_port)
    env.clients.append(c)
    return c


async def fo_component_holder(tom, server, live):
    """The process of live that receives stanzas for the component's JID
    (a disco#info from tom; its debug log shows the RECV)."""
    marks = [len(p.text()) for p in live]
    await tom["xep_0030"].get_info(jid=server.component, timeout=10)
    for p, m in zip(live, marks):
        if 'to="%s"' % server.component in p.text()[m:]:
            return p
    raise h.TestFailure("no process got the disco#info")


async def fo_every_room_works(tom, rooms, limit, t0=None):
    """Each room's contact says something until its reflection comes back
    (a refusal makes contact and tom join again); seconds from t0 until
    the last room answered (None after limit s), and how many rejoined."""
    t0 = t0 or time.monotonic()
    rejoined = set()

    async def one(c, room):
        n = 0
        while time.monotonic() - t0 < limit:
            n += 1
            got = await fo_talk(c, room, "ping %d" % n)
            if got == "ok":
                return time.monotonic()
            if got != "nothing":  # not-acceptable: the room moved
                rejoined.add(room)
                for who, nick in ((c, c.boundjid.user), (tom, "tom")):
                    try:
                        await cl.join(who, room, nick, timeout=5)
                    except Exception:  # noqa: BLE001 - try again next round
                        pass
        return None

    done = await asyncio.gather(*(one(c, r) for c, r in rooms))
    if any(d is None for d in done):
        return None, len(rejoined)
    return max(done) - t0, len(rejoined)


async def fo_talk(c, room, text, timeout=0.5):
    """'ok' when the message's reflection came back within timeout, the
    error condition when refused, 'nothing' otherwise."""
    start = len(c.messages)
    msg = c.make_message(mto=room, mbody=text, mtype="groupchat")
    msg.send()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in c.messages[start:]:
            if m["from"].bare != room:
                continue
            if m["type"] == "error":
                return m["error"]["condition"] or "error"
            if m["body"] == text:
                return "ok"
        await asyncio.sleep(0.01)
    return "nothing"


def best_step(res):
    """The saturation ramp (loadgen --window 1,4,...): its "saturate"
    line repeats the step with the most messages in /s after the last
    step; the CPU shares measured over that step go with it."""
    steps = {r["window"]: r for r in res
             if r["phase"].startswith("saturate-w")}
    for r in res:
        if r["phase"] == "saturate" and r["window"] in steps:
            r["cpu_pct"] = steps[r["window"]]["cpu_pct"]


# ---- 3. memory and start-up ------------------------------------------------

def run_memory(root, a):
    """chatdesk's RSS with 0, then a.milestones open sessions, each made by
    start-chat (a contact's ad-hoc command) and joined by its contact."""
    wd = tempfile.mkdtemp(prefix="mem-", dir=root)
    server = BenchProsody(wd)
    contacts = a.create_contacts
    server.register_many(["c%d" % i for i in range(contacts)])
    server.start()
    db = os.path.join(wd, "chatdesk.db")
    write_directory(wd, db, contacts, 3)
    cd = start_chatdesk(wd, server, db)
    out = []
    try:
        cd.wait_for("online as")
        time.sleep(1)
        out.append({"sessions": 0, "rss_kib": rss_kib(cd.pid)})
        log("memory: 0 sessions, RSS %d KiB" % out[-1]["rss_kib"])

        def at_milestone(obj):
            time.sleep(1)
            obj["rss_kib"] = rss_kib(cd.pid)
            obj["db_bytes"] = os.path.getsize(db) + (
                os.path.getsize(db + "-wal") if os.path.exists(db + "-wal")
                else 0)
            log("memory: %d sessions (start-chat %.0f/s), RSS %d KiB" %
                (obj["rooms"], obj["per_s"], obj["rss_kib"]))
            return "go"

        res = loadgen(["--mode", "create", "--port", server.c2s_port,
                       "--service", server.component, "--contacts", contacts,
                       "--window", a.create_window, "--milestones",
                       ",".join(str(m) for m in a.milestones),
                       "--setup-timeout", 600],
                      watch=[("prosody", server.proc), ("chatdesk", cd.proc)],
                      stdin_lines=at_milestone)
        for r in res:
            out.append({"sessions": r["rooms"], "rss_kib": r["rss_kib"],
                        "create_per_s": r["per_s"],
                        "db_bytes": r["db_bytes"], "cpu_pct": r["cpu_pct"],
                        "loadgen_cpu_pct": r["loadgen_cpu_pct"]})
        cd.stop()
        cd = restart_timed(wd, server, db, out[-1])
    finally:
        cd.stop()
        server.stop()
    return out


def wait_component_free(server, timeout=60):
    """Until the server accepts a component handshake for server.component
    (after a stop it may hold the old connection for seconds while it
    works through the stopped process's last stanzas: 100,000 rooms'
    unavailable presences). Seconds waited."""
    import hashlib
    import re
    import socket
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            with socket.create_connection(
                    ("127.0.0.1", int(server.component_port)), 5) as sk:
                sk.sendall(("<stream:stream xmlns='jabber:component:accept'"
                            " xmlns:stream='http://etherx.jabber.org/streams'"
                            " to='%s'>" % server.component).encode())
                head = sk.recv(4096).decode(errors="replace")
                sid = re.search(r"id=['\"]([^'\"]+)", head)
                if sid:
                    digest = hashlib.sha1((sid.group(1) + server.secret)
                                          .encode()).hexdigest()
                    sk.sendall(("<handshake>%s</handshake>" % digest)
                               .encode())
                    answer = sk.recv(4096).decode(errors="replace")
                    sk.sendall(b"</stream:stream>")
                    if "<handshake" in answer and "conflict" not in answer:
                        waited = time.monotonic() - t0
                        time.sleep(0.5)  # our own test connection closes
                        return waited
        except OSError:
            pass
        time.sleep(0.2)
    return time.monotonic() - t0


def restart_timed(wd, server, db, entry):
    """Start chatdesk again on the database with entry["sessions"] open
    sessions: seconds from exec to "online as" and the RSS then go into
    entry (restart_s, restart_rss_kib). Returns the running chatdesk."""
    logpath = os.path.join(wd, "chatdesk", "chatdesk.log")
    os.rename(logpath, logpath + ".1")  # wait_for() reads the whole log
    entry["server_release_s"] = wait_component_free(server)
    t0 = time.monotonic()
    cd = start_chatdesk(wd, server, db)
    cd.wait_for("online as", timeout=300)
    entry["restart_s"] = time.monotonic() - t0
    entry["restart_rss_kib"] = rss_kib(cd.pid)
    log("memory: restart with %d open sessions: online after %.3fs, RSS %d "
        "KiB (the server let go of the stopped one after %.1fs)" %
        (entry["sessions"], entry["restart_s"], entry["restart_rss_kib"],
         entry["server_release_s"]))
    return cd


def fill_messages(db, n_messages, per_session=50, needle_every=10000):
    """Past sessions with n_messages stored messages (python sqlite3, the
    tables of component/runtime/schema.c, created by chatdeskctl first). Every
    needle_every-th message mentions 'zebraprinter'."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous = OFF")
    cur = con.cursor()
    company = cur.execute("SELECT id FROM companies LIMIT 1").fetchone()[0]
    contacts = cur.execute("SELECT id, jid, name FROM contacts").fetchall()
    n_sessions = (n_messages + per_session - 1) // per_session
    base = int(time.time()) - n_sessions * 600 - 86400
    words = ("printer", "email", "password", "vpn", "laptop", "screen",
             "invoice", "outlook", "wifi", "backup")
    cur.execute("BEGIN")
    msg_id = 0
    for s in range(n_sessions):
        cid, cjid, cname = contacts[s % len(contacts)]
        created = base + s * 600
        cur.execute("INSERT INTO tickets (company_id, contact_id, summary, "
                    "status, created, closed) VALUES (?, ?, ?, 'closed', ?, ?)",
                    (company, cid, "bench ticket %d" % s, created,
                     created + 500))
        ticket = cur.lastrowid
        live = s % 100 == 50  # 1% still active (none holds a needle)
        cur.execute("INSERT INTO sessions (ticket_id, company_id, contact_jid, "
                    "state, description, created, answered_at, answered_by, "
                    "ended_at, closer_jid, last_activity) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, 't0@localhost', ?, ?, ?)",
                    (ticket, company, cjid, "active" if live else "ended",
                     "bench session %d" % s, created, created + 5,
                     None if live else created + 500,
                     None if live else "t0@localhost", created + 490))
        sid = cur.lastrowid
        cur.executemany("INSERT INTO session_members (session_id, jid, kind, "
                        "nick, joined_at) VALUES (?, ?, ?, ?, ?)",
                        [(sid, cjid, "contact", cname, created),
                         (sid, "t0@localhost", "tech", "Tech 0", created + 5)])
        rows = []
        for k in range(min(per_session, n_messages - msg_id)):
            msg_id += 1
            tech = k % 2 == 1
            body = "message %d of session %d about the %s and the %s" % (
                k, s, words[(s + k) % 10], words[(s * 7 + k) % 10])
            if msg_id % needle_every == 0:
                body += " zebraprinter"
            rows.append(("b%015x" % msg_id, sid,
                         "t0@localhost" if tech else cjid,
                         "Tech 0" if tech else cname, body,
                         created + 10 + k, "chat"))
        cur.executemany("INSERT INTO messages (stanza_id, session_id, "
                        "from_jid, nick, body, created, kind) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?)", rows)
    # index them for search as chatdesk would have when it stored them
    # (history_index_pending(); schema migration 5)
    cur.execute("INSERT INTO messages_fts (rowid, body) SELECT id, body "
                "FROM messages WHERE id > (SELECT last_indexed FROM "
                "fts_state) ORDER BY id")
    cur.execute("UPDATE fts_state SET last_indexed = "
                "(SELECT COALESCE(MAX(id), 0) FROM messages)")
    con.commit()
    con.close()
    return n_sessions


# The commonest word of fill_messages(): every message has it.
COMMON_WORD = "message"
# (text, queries): a rare word (1 in 10,000), one in ~20 % of the messages,
# two words (common and common, rare and common: history.c's walk and its
# IN form with an EXISTS) and the commonest (issue 20's goal: p99 of 20)
SEARCHES = (("zebraprinter", 3), ("printer", 3), ("printer message", 3),
            ("zebraprinter message", 3), (COMMON_WORD, 20))


def has_history_command(log_text_unused=None):
    """Whether the chatdesk built here registers the `history` command."""
    try:
        with open(CHATDESK, "rb") as f:
            return b"Search past chat sessions" in f.read()
    except OSError:
        return False


async def time_history(server, text, runs=3):
    """A tech runs `history` with a text filter; seconds for each run. A
    first page leaves its command session open (paging; chatdesk allows 16
    a user): each is cancelled after it is timed."""
    c = h.Client("t0")
    await c.start(server.c2s_port)
    times = []
    rows = None
    try:
        for _ in range(runs):
            t0 = time.monotonic()
            r = await c.command("history", {"text": text},
                                to=server.component)
            times.append(time.monotonic() - t0)
            rows = len(r.items)
            if r.status == "executing":
                await c._command_iq(server.component, "history", "cancel",
                                    r.sessionid, None)
    finally:
        w = c.disconnect()
        if w is not None:
            await asyncio.wait([w], timeout=3)
    return times, rows


def run_startup(root, a):
    wd = tempfile.mkdtemp(prefix="startup-", dir=root)
    server = BenchProsody(wd)
    server.register_many(["c%d" % i for i in range(20)] + ["t0"])
    db = os.path.join(wd, "chatdesk.db")
    write_directory(wd, db, 20, 1)
    t0 = time.monotonic()
    n_sessions = fill_messages(db, a.messages)
    fill_s = time.monotonic() - t0
    size = os.path.getsize(db)
    log("startup: %d messages in %d sessions written in %.1fs (%d MB)" %
        (a.messages, n_sessions, fill_s, size >> 20))
    out = {"messages": a.messages, "sessions": n_sessions, "fill_s": fill_s,
           "db_bytes": size}
    server.start()
    cd = None
    try:
        # drop the page cache's advantage? No: a restart usually finds the
        # database in the cache; this is the warm start-up.
        t0 = time.monotonic()
        cd = start_chatdesk(wd, server, db)
        cd.wait_for("online as", timeout=300)
        out["startup_s"] = time.monotonic() - t0
        out["rss_kib"] = rss_kib(cd.pid)
        log("startup: online after %.3fs, RSS %d KiB" %
            (out["startup_s"], out["rss_kib"]))
        if has_history_command():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                for word, runs in SEARCHES:
                    times, rows = loop.run_until_complete(asyncio.wait_for(
                        time_history(server, word, runs), 600))
                    out["history_%s" % word] = {"seconds": times,
                                                "rows": rows}
                    log("startup: history text=%s: %s s, %s rows shown" %
                        (word, ", ".join("%.3f" % t for t in times), rows))
            except Exception as e:  # report, do not fail the whole run
                out["history_error"] = repr(e)
                log("startup: history failed: %r" % (e,))
            finally:
                for t in asyncio.all_tasks(loop):
                    t.cancel()
                loop.run_until_complete(asyncio.sleep(0.05))
                loop.close()
        else:
            out["history_error"] = "no history command in this build"
    finally:
        if cd:
            cd.stop()
        server.stop()
    return out


# ---- report ----------------------------------------------------------------

def fsync_probe(directory, n=200):
    """p50/p99 ms of fsync() after a 4 KiB write, on the disk chatdesk's
    databases use here: each stored message waits for one."""
    path = os.path.join(directory, "fsync-probe.tmp")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    ts = []
    try:
        for _ in range(n):
            os.write(fd, b"x" * 4096)
            t0 = time.perf_counter()
            os.fsync(fd)
            ts.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        os.unlink(path)
    ts.sort()
    return {"p50_ms": round(ts[n // 2], 3), "p99_ms": round(ts[n * 99 // 100],
                                                          3)}


def writer_probe(directory):
    """bench/writer_rt: the commit writer's round trip on this disk, one
    message a batch every 20 ms (the rate phase's floor for chatdesk), with
    the real fsync and with none; {} when the tool is not built."""
    out = {}
    if not os.path.exists(WRITER_RT):
        return out
    for name, env in (("fsync", None),
                      ("no_fsync", dict(os.environ, LD_PRELOAD=NOSYNC))):
        r = subprocess.run([WRITER_RT, "--count", "200", "--dir", directory],
                           capture_output=True, text=True, timeout=120,
                           env=env)
        if r.returncode == 0:
            out[name] = json.loads(r.stdout)
    return out


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"date": datetime.datetime.now().astimezone().isoformat(
                timespec="seconds"),
            "nproc": os.cpu_count(), "cpu": model,
            "kernel": platform.release(),
            "prosody": subprocess.run(
                ["dpkg-query", "-W", "-f=${Version}", "prosody"],
                capture_output=True, text=True).stdout,
            "libstrophe": subprocess.run(
                ["pkg-config", "--modversion", "libstrophe"],
                capture_output=True, text=True).stdout.strip()}


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def phase(runs, name):
    """The phase name of every repeat in runs (a list of loadgen result
    lists), merged: each number is the median over the repeats; "_all"
    keeps the repeats."""
    found = [r for res in runs or [] for r in res if r.get("phase") == name]
    if not found:
        return None
    out = {"_all": found}
    for k, v in found[0].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = median([f[k] for f in found if k in f])
        elif isinstance(v, dict):
            out[k] = {kk: median([f[k][kk] for f in found if kk in f[k]])
                      for kk in v}
        else:
            out[k] = v
    return out


def ratio(x, y):
    return "%.2f" % (x / y) if x and y else "-"


def nagle_table(rows):
    lines = ["round trips client -> Prosody -> component -> client "
             "(ms; stalls = round trips over 20 ms)",
             "%-14s %-9s %-10s %-9s %7s %7s %7s %12s" % (
                 "Prosody nagle", "NODELAY", "component", "pattern", "p50",
                 "p99", "max", "stalls")]
    for r in rows:
        lines.append("%-14s %-9s %-10s %-9s %7.2f %7.2f %7.2f %7d/%-5d" % (
            "on" if r["prosody_nagle"] else "off",
            "on" if r["component_nodelay"] else "off",
            r.get("component", "echo"),
            r["pattern"] + ("" if r["stanza"] == "iq" else
                            "/msg" if r["stanza"] == "msg" else ""),
            r["p50_ms"], r["p99_ms"], r["max_ms"], r["over_20ms"], r["n"]))
    return lines


# The throughput runs: (part name for --only, server, kind, variant),
# interleaved in this order in every repeat.
CHAT_PARTS = (
    ("echo", "prosody", "echo", ""), ("echosid", "prosody", "echo", "sid"),
    ("muc", "prosody", "muc", ""), ("mucmam", "prosody", "muc", "mam"),
    ("chatdesk", "prosody", "chatdesk", ""),
    ("nosync", "prosody", "chatdesk", "nosync"),
    ("slowsync", "prosody", "chatdesk", "slowsync"),
    ("pg", "prosody", "chatdesk", "pg"),
    ("ej-echo", "ejabberd", "echo", ""),
    ("ej-echosid", "ejabberd", "echo", "sid"),
    ("ej-muc", "ejabberd", "muc", ""), ("ej-mucmam", "ejabberd", "muc", "mam"),
    ("ej-chatdesk", "ejabberd", "chatdesk", ""),
    ("ej-multicast", "ejabberd", "chatdesk", "multicast"),
    ("ej-pg", "ejabberd", "chatdesk", "pg"),
    ("ej-two", "ejabberd", "chatdesk", "two"))
# --only cluster: issue 21's comparison on ejabberd (cluster_table())
CLUSTER_PARTS = ("ej-chatdesk", "ej-pg", "ej-two", "failover")


def chat_key(server_kind, kind, variant):
    """Where the repeats of one column are kept in the results."""
    return ("ejabberd_" if server_kind == "ejabberd" else "") + "chat_" + \
        kind + ("_" + variant if variant else "")


# The columns of one server's table: header, results key.
COLUMNS = {
    "prosody": (("echo", "chat_echo"), ("echo+sid", "chat_echo_sid"),
                ("mod_muc", "chat_muc"), ("muc+mam", "chat_muc_mam"),
                ("chatdesk", "chat_chatdesk"),
                ("cd nosync", "chat_chatdesk_nosync"),
                ("cd 2ms-fsync", "chat_chatdesk_slowsync"),
                ("cd postgresql", "chat_chatdesk_pg")),
    "ejabberd": (("echo", "ejabberd_chat_echo"),
                 ("echo+sid", "ejabberd_chat_echo_sid"),
                 ("mod_muc", "ejabberd_chat_muc"),
                 ("muc+mam", "ejabberd_chat_muc_mam"),
                 ("chatdesk", "ejabberd_chat_chatdesk"),
                 ("cd multicast", "ejabberd_chat_chatdesk_multicast")),
}


def chat_table(results, server_kind):
    """One server's throughput table: a column per kind, the ratios of
    chatdesk to echo+sid, mod_muc and muc+mam."""
    cols = [(head, results.get(key) or []) for head, key in
            COLUMNS[server_kind]]
    if not any(r for _, r in cols):
        return []
    heads = [c[0] for c in cols] + ["cd/e+sid", "cd/muc", "cd/mam"]
    lines = ["%s: %d sessions" % (server_kind, results["args"]["sessions"]),
             "%-26s" % "" + "".join(" %12s" % x for x in heads)]

    def row(label, ph, key, fmt="%12.1f", ratios=True):
        vals = [(phase(r, ph) or {}).get(key) for _, r in cols]
        if key == "cpu_pct":
            vals = [(v or {}).get(label.split(" ")[1]) for v in vals]
        cells = [fmt % v if v is not None else "%12s" % "-" for v in vals]
        cd = vals[4]
        rs = [ratio(cd, vals[i]) if ratios else "" for i in (1, 2, 3)]
        lines.append("%-26s" % label + "".join(" " + c for c in cells) +
                     "".join(" %12s" % x for x in rs))

    row("saturate: messages in /s", "saturate", "sent_per_s")
    spread = []
    for _, r in cols:
        ph = phase(r, "saturate")
        vals = [x["sent_per_s"] for x in ph["_all"]] if ph else []
        spread.append("%12s" % ("%.0f-%.0f" % (min(vals), max(vals))
                                if vals else "-"))
    lines.append("%-26s" % "  (range over repeats)" +
                 "".join(" " + c for c in spread))
    row("saturate: deliveries /s", "saturate", "delivered_per_s")
    row("saturate: p50 ms", "saturate", "p50_ms", "%12.2f")
    row("saturate: p99 ms", "saturate", "p99_ms", "%12.2f")
    row("rate: messages in /s", "rate", "sent_per_s")
    row("rate: p50 ms", "rate", "p50_ms", "%12.2f")
    row("rate: p99 ms", "rate", "p99_ms", "%12.2f")
    row("rate: max ms", "rate", "max_ms", "%12.2f")
    for ph in ("saturate", "rate"):
        for who in ("prosody", "component"):
            row("%s: %s CPU %%" % (ph, who), ph, "cpu_pct", "%12.0f",
                ratios=False)
        row("%s: loadgen CPU %%" % ph, ph, "loadgen_cpu_pct", "%12.0f",
            ratios=False)
    if server_kind == "ejabberd":
        lines.append("(ejabberd: the \"prosody\" CPU rows are ejabberd's "
                     "Erlang VM, every scheduler: 200 = both cores)")
    return lines


def cluster_table(results):
    """Issue 21: one process on sqlite, one on PostgreSQL, two on one
    PostgreSQL (ejabberd's domain_balancing), and kill -9 to every room
    working again."""
    cols = (("sqlite, 1 process", "ejabberd_chat_chatdesk"),
            ("PostgreSQL, 1", "ejabberd_chat_chatdesk_pg"),
            ("PostgreSQL, 2", "ejabberd_chat_chatdesk_two"))
    if not any(results.get(k) for _, k in cols[1:]) and \
            not results.get("failover"):
        return []
    lines = ["ejabberd, several processes (issue 21): %d sessions" %
             results["args"]["sessions"],
             "%-26s" % "" + "".join(" %18s" % c[0] for c in cols)]
    for label, ph, key in (("saturate: messages in /s", "saturate",
                            "sent_per_s"),
                           ("saturate: p99 ms", "saturate", "p99_ms"),
                           ("rate: p50 ms", "rate", "p50_ms"),
                           ("rate: p99 ms", "rate", "p99_ms")):
        vals = [(phase(results.get(k), ph) or {}).get(key) for _, k in cols]
        lines.append("%-26s" % label + "".join(
            " %18.2f" % v if v is not None else " %18s" % "-" for v in vals))
    cpu = [(phase(results.get(k), "saturate") or {}).get("cpu_pct") or {}
           for _, k in cols]
    lines.append("%-26s" % "saturate: CPU % ej/cd" + "".join(
        " %18s" % ("%.0f / %s" % (c["prosody"], "+".join(
            "%.0f" % c[n] for n in ("component2", "component") if n in c))
                   if c else "-") for c in cpu))
    fo = results.get("failover")
    if fo:
        lines.append("kill -9 to every room answering again: %s s "
                     "(median %s)" % (
                         ", ".join("%.2f" % t if t else "-"
                                   for t in fo["seconds"]),
                         fo_median(fo)))
    return lines


def fo_median(fo):
    ok = [t for t in fo["seconds"] if t is not None]
    return round(median(ok), 2) if ok and len(ok) == len(fo["seconds"]) \
        else None


def table(results):
    lines = []
    if results.get("nagle"):
        lines += nagle_table(results["nagle"])
    lines += chat_table(results, "prosody")
    lines += chat_table(results, "ejabberd")
    lines += cluster_table(results)
    mem = results.get("memory")
    if mem:
        lines.append("chatdesk RSS: " + ", ".join(
            "%d sessions %.1f MB" % (m["sessions"], m["rss_kib"] / 1024)
            for m in mem))
        for m in mem:
            if "restart_s" in m:
                lines.append("restart with %d open sessions: online after "
                             "%.3f s, RSS %.1f MB" % (
                                 m["sessions"], m["restart_s"],
                                 m["restart_rss_kib"] / 1024))
    st = results.get("startup")
    if st and "startup_s" in st:
        lines.append("start-up with %d stored messages: %.2f s (RSS %.1f MB)"
                     % (st["messages"], st["startup_s"],
                        st["rss_kib"] / 1024))
        for k, v in st.items():
            if k.startswith("history_") and isinstance(v, dict):
                lines.append("history text=%s over %d messages: %s s" % (
                    k[8:], st["messages"],
                    " / ".join("%.3f" % t for t in v["seconds"])))
        if "history_error" in st:
            lines.append("history: " + st["history_error"])
    return "\n".join(lines)


def summary(results):
    """The ratios of issue 20's table, null where this run did not measure
    them (nested objects: summary["prosody"]["chatdesk_per_muc"])."""
    def med(key, ph, field):
        return (phase(results.get(key), ph) or {}).get(field)

    def per(x, y):
        return round(x / y, 3) if x and y else None

    out = {}
    for server, pre in (("prosody", ""), ("ejabberd", "ejabberd_")):
        cd = med(pre + "chat_chatdesk", "saturate", "sent_per_s")
        out[server] = {
            "chatdesk_per_echo_sid": per(cd, med(pre + "chat_echo_sid",
                                                 "saturate", "sent_per_s")),
            "chatdesk_per_muc": per(cd, med(pre + "chat_muc", "saturate",
                                            "sent_per_s")),
            "chatdesk_per_muc_mam": per(cd, med(pre + "chat_muc_mam",
                                                "saturate", "sent_per_s"))}
    out["ejabberd"]["multicast_per_chatdesk"] = per(
        med("ejabberd_chat_chatdesk_multicast", "saturate", "sent_per_s"),
        med("ejabberd_chat_chatdesk", "saturate", "sent_per_s"))
    out["slow_fsync"] = {
        "throughput_per_nosync": per(
            med("chat_chatdesk_slowsync", "saturate", "sent_per_s"),
            med("chat_chatdesk_nosync", "saturate", "sent_per_s")),
        "rate_p50_per_echo_sid": per(
            med("chat_chatdesk_slowsync", "rate", "p50_ms"),
            med("chat_echo_sid", "rate", "p50_ms"))}
    out["rate_p99_per_muc"] = per(med("chat_chatdesk", "rate", "p99_ms"),
                                  med("chat_muc", "rate", "p99_ms"))
    out["cluster"] = cluster_summary(results, med, per)
    st = results.get("startup") or {}
    common = st.get("history_" + COMMON_WORD)
    out["search_common_word_p99_ms"] = (
        round(1000 * p99(common["seconds"]), 1)
        if common and st.get("messages", 0) >= 1000000 else None)
    big = [m for m in results.get("memory") or []
           if m.get("sessions", 0) >= 100000]
    out["rss_mb_100k_sessions"] = \
        round(big[0]["rss_kib"] / 1024, 1) if big else None
    restart = [m for m in results.get("memory") or []
               if m.get("restart_s") is not None and m["sessions"] >= 100000]
    out["startup_s_100k_sessions"] = \
        round(restart[0]["restart_s"], 3) if restart else None
    return out


def cluster_summary(results, med, per):
    """summary["cluster"]: issue 21's comparison on ejabberd."""
    out = {}
    for name, key in (("sqlite", "ejabberd_chat_chatdesk"),
                      ("postgresql", "ejabberd_chat_chatdesk_pg"),
                      ("two_processes", "ejabberd_chat_chatdesk_two")):
        out[name + "_per_s"] = med(key, "saturate", "sent_per_s")
        out[name + "_saturate_p99_ms"] = med(key, "saturate", "p99_ms")
        out[name + "_rate_p99_ms"] = med(key, "rate", "p99_ms")
    out["two_processes_per_postgresql"] = per(out["two_processes_per_s"],
                                              out["postgresql_per_s"])
    out["postgresql_per_sqlite"] = per(out["postgresql_per_s"],
                                       out["sqlite_per_s"])
    fo = results.get("failover")
    out["failover_s"] = fo["seconds"] if fo else None
    out["failover_median_s"] = fo_median(fo) if fo else None
    return out


def p99(xs):
    """Nearest rank: of 20 values, the largest."""
    xs = sorted(xs)
    return xs[max(0, -(-len(xs) * 99 // 100) - 1)]


def main():
    ap = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Measure chatdesk against an echo component and "
                    "Prosody's MUC (see docs/performance.md).")
    ap.add_argument("--sessions", type=int, default=100,
                    help="concurrent helpdesk sessions (default 100)")
    ap.add_argument("--techs", type=int, default=20)
    ap.add_argument("--rate", type=float, default=1.0,
                    help="messages/s per session in the rate phase")
    ap.add_argument("--duration", type=float, default=10,
                    help="seconds of the rate phase")
    ap.add_argument("--sat-duration", type=float, default=4,
                    help="seconds of each step of the saturation ramp")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each throughput workload (medians shown)")
    ap.add_argument("--window", default=WINDOWS,
                    help="messages in flight per session when saturating: "
                         "one number, or ascending numbers for a ramp "
                         "whose best step is the result (default %s)" %
                         WINDOWS)
    ap.add_argument("--body-size", type=int, default=120)
    ap.add_argument("--ping-count", type=int, default=100)
    ap.add_argument("--milestones", default="1000,10000,100000")
    ap.add_argument("--create-contacts", type=int, default=20)
    ap.add_argument("--create-window", type=int, default=4)
    ap.add_argument("--messages", type=int, default=1000000)
    ap.add_argument("--quick", action="store_true",
                    help="a small run: 20 sessions, a 5 s rate phase, 2 s a "
                         "saturation step, "
                         "one repeat, 200/1000 sessions, 100k messages")
    ap.add_argument("--only",
                    default="nagle," + ",".join(p[0] for p in CHAT_PARTS) +
                            ",failover,memory,startup",
                    help="comma-separated parts to run (nosync: chatdesk "
                         "with fsync turned off, an experiment; slowsync: "
                         "every fsync 2 ms slower; mucmam: the server's MUC "
                         "archiving every message; pg: chatdesk on "
                         "PostgreSQL 15, fsync on; ej-*: the same on "
                         "ejabberd; ej-multicast: chatdesk with multicast "
                         "= auto, through mod_multicast; ej-two: two "
                         "chatdesks on one PostgreSQL, component_number "
                         "2; failover: kill -9 one of two, time until "
                         "every room answers; cluster: ej-chatdesk, ej-pg, "
                         "ej-two and failover)")
    ap.add_argument("--kills", type=int, default=5,
                    help="kill -9 rounds of the failover part (--quick: 3)")
    ap.add_argument("--profile", action="store_true",
                    help="perf record chatdesk in its runs; reports in "
                         "build-bench/bench-profile-*.txt")
    ap.add_argument("--syscalls", action="store_true",
                    help="strace -c chatdesk in its runs instead; counts in "
                         "build-bench/bench-syscalls-*.txt")
    ap.add_argument("--json", help="write all results to this file")
    ap.add_argument("--psa", action="store_true",
                    help="attach scripts/psa-receiver as chatdesk's PSA "
                         "webhook (every ticket event is POSTed to it)")
    a = ap.parse_args()
    if a.quick:  # its sizes, where the command line did not say
        for k, v in (("sessions", 20), ("techs", 10), ("duration", 5),
                     ("sat_duration", 2), ("repeat", 1),
                     ("milestones", "200,1000"), ("messages", 100000),
                     ("ping_count", 50), ("kills", 3)):
            if getattr(a, k) == ap.get_default(k):
                setattr(a, k, v)
    a.milestones = [int(m) for m in a.milestones.split(",") if m]
    parts = a.only.split(",")
    if "cluster" in parts:
        parts += CLUSTER_PARTS
    for path in (CHATDESK, CHATDESKCTL, LOADGEN, ECHO):
        h.check(os.path.exists(path), "%s built (scripts/bench builds it)" %
                path)
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    root = tempfile.mkdtemp(prefix="bench-", dir=BUILD)
    os.chmod(root, 0o755)  # ejabberd runs as user ejabberd below it
    results = {"machine": machine(), "args": vars(a)}
    receiver = start_psa_receiver(root) if a.psa else None
    t_start = time.monotonic()
    ok = False
    try:
        results["loadavg"] = {"start": os.getloadavg()}
        results["fsync"] = {"start": fsync_probe(root)}
        results["writer_rt"] = writer_probe(root)
        if "nagle" in parts:
            results["nagle"] = run_nagle(root, a)
            results["loadavg"]["after nagle"] = os.getloadavg()
        # the throughput runs, interleaved so that a noisy minute on a
        # shared machine hits every kind alike; the table shows medians
        if not has_ejabberd():
            log("no ejabberd here (or not root): ejabberd columns skipped")
            parts = [p for p in parts if not p.startswith("ej-") and
                     p != "failover"]
        for rep in range(a.repeat):
            for name, server_kind, kind, variant in CHAT_PARTS:
                if name not in parts:
                    continue
                results.setdefault(chat_key(server_kind, kind, variant),
                                   []).append(
                    run_chat(root, a, kind, variant, server_kind))
                results["loadavg"]["after %s #%d" % (name, rep + 1)] = \
                    os.getloadavg()
        if "failover" in parts:
            results["failover"] = run_failover(root, a)
            results["loadavg"]["after failover"] = os.getloadavg()
        results["fsync"]["end"] = fsync_probe(root)
        if "memory" in parts:
            results["memory"] = run_memory(root, a)
        if "startup" in parts:
            results["startup"] = run_startup(root, a)
        ok = True
    finally:
        results["summary"] = summary(results)
        if receiver:
            receiver.stop()
        results["seconds"] = time.monotonic() - t_start
        out = a.json or os.path.join(BUILD, "bench-results.json")
        with open(out, "w") as f:
            json.dump(results, f, indent=1)
        log("results in %s (%.0f s)" % (out, results["seconds"]))
        if ok and not os.environ.get("CHATDESK_KEEP"):
            shutil.rmtree(root, ignore_errors=True)
        elif not ok:
            log("kept %s for inspection" % root)
    m = results["machine"]
    print("chatdesk bench, %s, %d x %s" % (m["date"], m["nproc"], m["cpu"]))
    print("load average (1 min) during the run: " + ", ".join(
        "%s %.1f" % (k, v[0]) for k, v in results["loadavg"].items()))
    print("fsync of a 4 KiB write: " + ", ".join(
        "%s p50 %.2f ms p99 %.2f ms" % (k, v["p50_ms"], v["p99_ms"])
        for k, v in results.get("fsync", {}).items()))
    print("commit writer's round trip (bench/writer_rt, 1 message a batch): "
          + ", ".join("%s p50 %.2f ms p99 %.2f ms, %.0f us CPU a message" % (
              k, v["p50_ms"], v["p99_ms"], v["cpu_us_per_msg"])
              for k, v in results.get("writer_rt", {}).items()))
    print(table(results))
    print("summary: " + json.dumps(results["summary"]))


if __name__ == "__main__":
    main()
