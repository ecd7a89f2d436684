"""End-to-end harness: a real Prosody, a real chatdesk, real slixmpp clients.

Everything listens on free loopback ports inside a fresh temporary
directory; every process started here is stopped by PID when the test file
ends (or fails).

A test file looks like:

    from e2e import harness as h

    async def test_ping(env):
        c = await env.client("tech")
        await c.plugin["xep_0199"].send_ping(h.COMPONENT)

    h.main([test_ping], users=["tech"])

Run it with /usr/bin/python3 (Debian's python3-slixmpp); ctest sets
CHATDESK_BIN and CHATDESK_SOURCE_DIR.
"""

import asyncio
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream import ET

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("CHATDESK_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(HERE)))
BUILD_DIR = os.environ.get("CHATDESK_BUILD_DIR",
                           os.path.join(SOURCE_DIR, "build"))
CHATDESK_BIN = os.environ.get("CHATDESK_BIN",
                              os.path.join(BUILD_DIR, "chatdesk"))
CHATDESK_PLAIN_BIN = os.environ.get("CHATDESK_PLAIN_BIN", CHATDESK_BIN)
CHATDESKCTL_BIN = os.environ.get("CHATDESKCTL_BIN",
                                 os.path.join(BUILD_DIR, "chatdeskctl"))

DOMAIN = "localhost"
COMPONENT = "helpdesk.localhost"
SECRET = "s3cret"
PASSWORD = "pw"
NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_DATA = "jabber:x:data"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


class TestFailure(AssertionError):
    pass


def check(cond, what):
    """Assert with a message that says what was expected."""
    if not cond:
        raise TestFailure(what)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(pred, timeout, what, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(step)
    raise TestFailure("timed out after %.1fs waiting for %s" % (timeout, what))


async def async_wait_until(pred, timeout, what, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        await asyncio.sleep(step)
    raise TestFailure("timed out after %.1fs waiting for %s" % (timeout, what))


def stop_pid(proc, sig=signal.SIGTERM, timeout=10):
    """Signal a child we started and reap it; kill -9 if it hangs.
    Returns its exit code (negative: killed by that signal)."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            raise TestFailure("pid %d did not stop within %ds on %s" %
                              (proc.pid, timeout, signal.Signals(sig).name))
    return proc.returncode


class Prosody:
    """A Prosody of our own, from config/prosody.cfg.lua."""

    def __init__(self, workdir, component=COMPONENT, secret=SECRET):
        self.dir = os.path.join(workdir, "prosody")
        os.makedirs(os.path.join(self.dir, "certs"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        self.c2s_port = free_port()
        self.component_port = free_port()
        self.http_port = free_port()
        self.component = component
        self.secret = secret
        self.config = os.path.join(self.dir, "prosody.cfg.lua")
        self.proc = None
        self.render()

    def render(self):
        with open(os.path.join(SOURCE_DIR, "config", "prosody.cfg.lua")) as f:
            text = f.read()
        values = {
            "DIR": self.dir, "LOG_LEVEL": "info",
            "C2S_PORT": self.c2s_port,
            "COMPONENT_PORT": self.component_port,
            "HTTP_PORT": self.http_port,
            "PORTAL_DIR": os.path.join(SOURCE_DIR, "portal"),
            "DOMAIN": DOMAIN, "COMPONENT": self.component,
            "SECRET": self.secret,
        }
        for k, v in values.items():
            text = text.replace("@@%s@@" % k, str(v))
        check("@@" not in text, "every placeholder in prosody.cfg.lua filled")
        with open(self.config, "w") as f:
            f.write(text)

    def register(self, user, password=PASSWORD):
        subprocess.run(["prosodyctl", "--config", self.config, "register",
                        user, DOMAIN, password], check=True,
                       stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                       timeout=60)

    def start(self):
        out = open(os.path.join(self.dir, "stdout.log"), "ab")
        self.proc = subprocess.Popen(
            ["prosody", "-F", "--config", self.config], cwd=self.dir,
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        out.close()
        wait_until(lambda: self.proc.poll() is not None or
                   (port_open(self.component_port) and
                    port_open(self.c2s_port)), 20, "Prosody's ports")
        check(self.proc.poll() is None,
              "Prosody running (see %s/prosody.log)" % self.dir)

    def stop(self, sig=signal.SIGTERM):
        if self.proc:
            stop_pid(self.proc, sig)
            self.proc = None
            wait_until(lambda: not port_open(self.component_port), 10,
                       "Prosody's component port to close")


class Chatdesk:
    """A chatdesk process with its own config and database."""

    def __init__(self, workdir, prosody, name="chatdesk", secret=None,
                 extra="", db=None, valgrind=False, admins=("admin@localhost",)):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.db = db or os.path.join(self.dir, "chatdesk.db")
        self.config = os.path.join(self.dir, "chatdesk.ini")
        self.log = os.path.join(self.dir, "chatdesk.log")
        self.valgrind = valgrind or os.environ.get("CHATDESK_VALGRIND") == "1"
        self.proc = None
        with open(self.config, "w") as f:
            f.write("[component]\njid = %s\nsecret = %s\nhost = 127.0.0.1\n"
                    "port = %d\nreconnect_max = 2\n\n[database]\npath = %s\n\n"
                    "[admins]\njids = %s\n\n[log]\nlevel = debug\n%s" %
                    (prosody.component, secret or prosody.secret,
                     prosody.component_port, self.db, ", ".join(admins),
                     extra))

    def command(self):
        if self.valgrind:
            return ["valgrind", "--error-exitcode=99", "--leak-check=full",
                    "--show-leak-kinds=definite,indirect",
                    "--errors-for-leak-kinds=definite,indirect",
                    "--track-fds=no", CHATDESK_PLAIN_BIN, "-c", self.config]
        return [CHATDESK_BIN, "-c", self.config]

    def start(self, wait_online=True):
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=out,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        out.close()
        if wait_online:
            self.wait_online(1)

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def online_count(self):
        return self.text().count("info conn: online as")

    def wait_online(self, count, timeout=30):
        wait_until(lambda: self.online_count() >= count or
                   self.proc.poll() is not None, timeout,
                   "chatdesk online (#%d)" % count)
        check(self.proc.poll() is None,
              "chatdesk running; log:\n" + self.text()[-3000:])

    def wait_exit(self, timeout=30):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("chatdesk did not exit within %ds" % timeout)

    def stop(self):
        """SIGTERM; a clean stop exits 0 with no sanitizer report."""
        if not self.proc:
            return 0
        rc = stop_pid(self.proc, signal.SIGTERM, 60 if self.valgrind else 10)
        self.proc = None
        text = self.text()
        check("Sanitizer" not in text and "runtime error" not in text,
              "no sanitizer report in %s" % self.log)
        return rc


class Client(slixmpp.ClientXMPP):
    """A slixmpp client on the test Prosody, driven from asyncio."""

    PLUGINS = ["xep_0004", "xep_0030", "xep_0045", "xep_0050", "xep_0085",
               "xep_0092", "xep_0199", "xep_0203", "xep_0249", "xep_0359"]

    def __init__(self, user, password=PASSWORD, resource="test"):
        super().__init__("%s@%s/%s" % (user, DOMAIN, resource), password)
        for p in self.PLUGINS:
            self.register_plugin(p)
        self["feature_mechanisms"].unencrypted_plain = True
        self.messages = []
        self.presences = []
        self.add_event_handler("message", self.messages.append)
        self.add_event_handler("presence", self.presences.append)
        self._started = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self._on_start)
        self.add_event_handler("failed_auth", self._on_fail)

    def _on_start(self, _):
        if not self._started.done():
            self._started.set_result(True)

    def _on_fail(self, _):
        if not self._started.done():
            self._started.set_exception(TestFailure("auth failed for %s" %
                                                    self.boundjid))

    async def start(self, port, presence=True, show=None):
        self.connect(("127.0.0.1", port), force_starttls=False,
                     disable_starttls=True)
        await asyncio.wait_for(self._started, 20)
        if presence:
            self.send_presence(pshow=show)

    async def command(self, node, *steps, to=COMPONENT):
        """Run ad-hoc command node; each step is a dict of field values
        submitted to the previous reply's form. Returns the last reply as a
        CommandReply; an error raises IqError."""
        reply = CommandReply(await self._command_iq(to, node, "execute",
                                                    None, None))
        for fields in steps:
            reply = CommandReply(await self._command_iq(
                to, node, "execute", reply.sessionid, fields))
        return reply

    async def _command_iq(self, to, node, action, sessionid, fields):
        iq = self.make_iq_set(ito=to)
        cmd = ET.Element("{%s}command" % NS_COMMANDS, node=node,
                         action=action)
        if sessionid:
            cmd.set("sessionid", sessionid)
        if fields is not None:
            cmd.append(submit_form(fields))
        iq.append(cmd)
        return await iq.send(timeout=15)


def submit_form(fields):
    x = ET.Element("{%s}x" % NS_DATA, type="submit")
    for var, value in fields.items():
        f = ET.SubElement(x, "{%s}field" % NS_DATA, var=var)
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            ET.SubElement(f, "{%s}value" % NS_DATA).text = str(v)
    return x


def parse_form(x):
    """A data form element → (fields: var → value or list, items: list of
    dicts for result tables)."""
    def values(field):
        return [v.text or "" for v in field.findall("{%s}value" % NS_DATA)]

    fields = {}
    for f in x.findall("{%s}field" % NS_DATA):
        vs = values(f)
        fields[f.get("var")] = vs[0] if len(vs) == 1 else vs
    items = []
    for it in x.findall("{%s}item" % NS_DATA):
        row = {}
        for f in it.findall("{%s}field" % NS_DATA):
            vs = values(f)
            row[f.get("var")] = vs[0] if vs else ""
        items.append(row)
    return fields, items


class CommandReply:
    def __init__(self, iq):
        self.iq = iq
        self.cmd = iq.xml.find("{%s}command" % NS_COMMANDS)
        check(self.cmd is not None, "a <command/> in the reply")
        self.status = self.cmd.get("status")
        self.sessionid = self.cmd.get("sessionid")
        x = self.cmd.find("{%s}x" % NS_DATA)
        self.form_type = x.get("type") if x is not None else None
        self.fields, self.items = parse_form(x) if x is not None else ({}, [])
        self.notes = [(n.get("type"), n.text or "")
                      for n in self.cmd.findall("{%s}note" % NS_COMMANDS)]


async def expect_error(awaitable, condition, text_re=None):
    """Await an iq that must fail with condition; returns the error text."""
    try:
        await awaitable
    except IqError as e:
        got = e.iq["error"]["condition"]
        text = e.iq["error"]["text"] or ""
        check(got == condition, "error <%s/>, got <%s/> (%s)" %
              (condition, got, text))
        check(text.strip(), "a human-readable <text/> with <%s/>" % condition)
        if text_re:
            check(re.search(text_re, text, re.I),
                  "error text matching %r, got %r" % (text_re, text))
        return text
    raise TestFailure("expected an error <%s/>, got a result" % condition)


class Env:
    """One Prosody + one chatdesk + users, for one test file."""

    def __init__(self, users=(), chatdesk_extra="", start_chatdesk=True):
        root = os.environ.get("CHATDESK_TEST_TMP") or BUILD_DIR
        os.makedirs(root, exist_ok=True)
        self.workdir = tempfile.mkdtemp(prefix="e2e-", dir=root)
        self.prosody = Prosody(self.workdir)
        for u in users:
            self.prosody.register(u)
        self.prosody.start()
        self.chatdesk = Chatdesk(self.workdir, self.prosody,
                                 extra=chatdesk_extra)
        self.clients = []
        self.extra = []
        if start_chatdesk:
            self.chatdesk.start()

    async def client(self, user, resource="test", presence=True, show=None):
        c = Client(user, resource=resource)
        await c.start(self.prosody.c2s_port, presence=presence, show=show)
        self.clients.append(c)
        return c

    def ctl(self, *args, check_rc=True):
        r = subprocess.run([CHATDESKCTL_BIN, "-d", self.chatdesk.db] +
                           list(args), capture_output=True, text=True,
                           timeout=60)
        if check_rc:
            check(r.returncode == 0, "chatdeskctl %s: %s" % (args, r.stderr))
        return r

    async def close_clients(self):
        waits = [c.disconnect() for c in self.clients]
        waits = [w for w in waits if w is not None]
        if waits:
            await asyncio.wait(waits, timeout=3)
        self.clients = []

    def shutdown(self, keep=False):
        """Stop every process by PID; returns chatdesk's exit code."""
        rc = 0
        try:
            rc = self.chatdesk.stop()
            for p in self.extra:
                p.stop()
        finally:
            self.prosody.stop()
        if not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return rc


def main(tests, users=(), chatdesk_extra="", start_chatdesk=True):
    """Run the async tests (each takes the Env) in order; print one line a
    test and a closing 'N passed, N failed'; exit 1 on any failure."""
    logging.basicConfig(level=logging.ERROR)
    # slixmpp leaves a filter task per closed stream for the collector.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    env = Env(users, chatdesk_extra, start_chatdesk)
    passed = failed = 0
    try:
        for t in tests:
            t0 = time.monotonic()
            try:
                loop.run_until_complete(asyncio.wait_for(t(env), 300))
                passed += 1
                print("ok    %s (%.2fs)" % (t.__name__, time.monotonic() - t0))
            except Exception:
                failed += 1
                print("FAIL  %s" % t.__name__)
                traceback.print_exc()
            finally:
                loop.run_until_complete(env.close_clients())
            sys.stdout.flush()
        rc = env.shutdown(keep=failed > 0 or bool(os.environ.get("CHATDESK_KEEP")))
        if rc != 0:
            failed += 1
            print("FAIL  chatdesk exited %d on SIGTERM (log in %s)" %
                  (rc, env.chatdesk.log))
    except Exception:
        failed += 1
        traceback.print_exc()
        env.shutdown(keep=True)
    for task in asyncio.all_tasks(loop):
        task.cancel()
    loop.run_until_complete(asyncio.sleep(0.05))
    if failed:
        print("kept %s for inspection" % env.workdir)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
