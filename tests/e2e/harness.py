"""End-to-end harness: a real XMPP server, a real chatdesk, real slixmpp
clients.

The server is Prosody, or ejabberd with CHATDESK_SERVER=ejabberd (ctest runs
every test file on both: e2e.NAME and e2e-ejabberd.NAME; a line
"# servers: prosody" in a file's first five lines keeps it to one server).
Both server classes have the same interface: name, c2s_port,
component_port, http_port, component, secret, dir, log; register(user,
password), start(), stop(sig), server_pid() (the process to kill by hand:
for ejabberd that is the Erlang VM, not the ejabberdctl script we start).
env.server is the one in use (env.prosody is the old name).

The store is sqlite, or PostgreSQL with CHATDESK_DB=postgresql: then Env
starts a throw-away PostgreSQL 15 (tests/pg/pgfixture) in the test's
directory and chatdesk gets [database] url (ctest runs the files that say
"# databases: sqlite, postgresql" as e2e-pg.NAME too; env.db_rows() reads
either store).

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
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
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
SERVER = os.environ.get("CHATDESK_SERVER", "prosody")
DB = os.environ.get("CHATDESK_DB", "sqlite")
PGFIXTURE = os.path.join(SOURCE_DIR, "tests", "pg", "pgfixture")


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


def render_config(name, server, portal_dir):
    """config/<name> with its @@PLACEHOLDERS@@ filled from server (a
    Prosody or an Ejabberd), written to server.config."""
    with open(os.path.join(SOURCE_DIR, "config", name)) as f:
        text = f.read()
    values = {
        "DIR": server.dir, "LOG_LEVEL": "info",
        "C2S_PORT": server.c2s_port,
        "COMPONENT_PORT": server.component_port,
        "HTTP_PORT": server.http_port,
        "PORTAL_DIR": portal_dir,
        "DOMAIN": DOMAIN, "COMPONENT": server.component,
        "SECRET": server.secret,
    }
    for k, v in values.items():
        text = text.replace("@@%s@@" % k, str(v))
    check("@@" not in text, "every placeholder in %s filled" % name)
    with open(server.config, "w") as f:
        f.write(text)


class Prosody:
    """A Prosody of our own, from config/prosody.cfg.lua."""

    name = "prosody"

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
        self.log = os.path.join(self.dir, "prosody.log")
        self.proc = None
        self.render()

    def render(self):
        render_config("prosody.cfg.lua", self,
                      os.path.join(SOURCE_DIR, "portal"))

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

    def server_pid(self):
        """Prosody's PID (we start it directly), or None."""
        return self.proc.pid if self.proc else None

    def stop(self, sig=signal.SIGTERM):
        if self.proc:
            stop_pid(self.proc, sig)
            self.proc = None
            wait_until(lambda: not port_open(self.component_port), 10,
                       "Prosody's component port to close")


def _user_name():
    return pwd.getpwuid(os.geteuid()).pw_name


def _proc_stat(pid):
    """(state, ppid, comm) of a process, or None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 1:].split()
    return fields[0], int(fields[1]), comm


def _alive(pid):
    st = _proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def _descendants(pid):
    """Every process below pid (children, grandchildren …)."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _proc_stat(int(name))
            if st:
                children.setdefault(st[1], []).append(int(name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


class Ejabberd:
    """An ejabberd of our own, from config/ejabberd.yml.

    Runs as user ejabberd: `ejabberdctl --config-dir DIR foreground`, where
    DIR holds ejabberd.yml, ejabberdctl.cfg and inetrc, the mnesia spool and
    the logs. Erlang distribution (ejabberdctl's channel to the node) listens
    on 127.0.0.1:dist_port with a per-instance cookie and no epmd.
    ejabberdctl needs a running node, so register() before start() queues
    the user and start() registers the queue (one ejabberdctl each, run in
    parallel: 0.2 s for one user, 0.8 s for six).

    The process we start (self.proc) is ejabberdctl, a bash script whose
    child is the Erlang VM (beam.smp, server_pid()); stop(sig) signals the
    VM itself and then waits for the script, the VM and the VM's helpers
    (erl_child_setup, eimp, memsup) to be gone."""

    name = "ejabberd"
    USER = "ejabberd"
    NODE = "ejabberd@localhost"

    def __init__(self, workdir, component=COMPONENT, secret=SECRET,
                 component_number=None):
        # component_number: ejabberd's domain_balancing for the component
        # (type bare_destination, that many route slots; SPEC §11).
        self.component_number = component_number
        # ejabberdctl runs only as root (it switches to ejabberd) or as
        # ejabberd itself; we switch ourselves to keep the VM our grandchild.
        self.switch_user = os.geteuid() == 0
        check(self.switch_user or
              os.environ.get("USER", "") == self.USER or
              _user_name() == self.USER,
              "ejabberd tests run as root (or as user %s)" % self.USER)
        self.dir = os.path.join(workdir, "ejabberd")
        os.makedirs(os.path.join(self.dir, "spool"), exist_ok=True)
        self.c2s_port = free_port()
        self.component_port = free_port()
        self.http_port = free_port()
        self.dist_port = free_port()
        self.component = component
        self.secret = secret
        self.cookie = secrets.token_hex(16)
        self.config = os.path.join(self.dir, "ejabberd.yml")
        self.log = os.path.join(self.dir, "ejabberd.log")
        self.stdout = os.path.join(self.dir, "stdout.log")
        self.proc = None
        self.pending = []
        self.render()

    def render(self):
        render_config("ejabberd.yml", self, self._portal_dir())
        if self.component_number:
            with open(self.config, "a") as f:
                f.write('\ndomain_balancing:\n  "%s":\n'
                        '    type: bare_destination\n'
                        '    component_number: %d\n' %
                        (self.component, self.component_number))
        # ejabberdctl sources this. ERL_DIST_PORT: the node listens there
        # and no epmd is started. The -kernel option is what
        # INET_DIST_INTERFACE=127.0.0.1 turns into, without the extra
        # Erlang VM ejabberdctl starts on every call to parse it (0.1 s).
        with open(os.path.join(self.dir, "ejabberdctl.cfg"), "w") as f:
            f.write('ERLANG_NODE=%s\nERL_DIST_PORT=%d\n'
                    'ERL_OPTIONS="-kernel inet_dist_use_interface {127,0,0,1}'
                    ' -setcookie %s -env ERL_CRASH_DUMP_BYTES 0"\n'
                    'SPOOL_DIR=%s\nLOGS_DIR=%s\n'
                    'EJABBERD_BYPASS_WARNINGS=true\n' %
                    (self.NODE, self.dist_port, self.cookie,
                     os.path.join(self.dir, "spool"), self.dir))
        shutil.copy("/etc/ejabberd/inetrc", self.dir)
        self._give_to_user()

    def _give_to_user(self):
        """chown DIR to ejabberd and let that user reach it."""
        if not self.switch_user:
            return
        for root, dirs, files in os.walk(self.dir):
            for name in [root] + [os.path.join(root, n) for n in files]:
                shutil.chown(name, self.USER, self.USER)
        parent = os.path.dirname(self.dir)
        os.chmod(parent, os.stat(parent).st_mode | stat.S_IXOTH)
        p = os.path.dirname(parent)
        while p != os.path.dirname(p):
            check(os.stat(p).st_mode & stat.S_IXOTH,
                  "user %s can reach %s (make %s o+x or set "
                  "CHATDESK_TEST_TMP)" % (self.USER, self.dir, p))
            p = os.path.dirname(p)

    def _portal_dir(self):
        """The portal for mod_http_fileserver: the checkout's, or a copy
        beside the server when user ejabberd cannot reach the checkout."""
        portal = os.path.join(SOURCE_DIR, "portal")
        if not self.switch_user or _traversable(os.path.join(portal, "x")):
            return portal
        copy = os.path.join(os.path.dirname(self.dir), "portal")
        if not os.path.isdir(copy):
            shutil.copytree(portal, copy)
        return copy

    def _ctl(self, *args):
        return ["ejabberdctl", "--config-dir", self.dir] + list(args)

    def _as_user(self):
        kw = dict(cwd=self.dir, stdin=subprocess.DEVNULL,
                  env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                       "HOME": self.dir, "LANG": "C.UTF-8"})
        if self.switch_user:
            kw.update(user=self.USER, group=self.USER, extra_groups=[])
        return kw

    def register(self, user, password=PASSWORD):
        if self.proc is None:
            self.pending.append((user, password))
        else:
            self._register_now([(user, password)])

    def _register_now(self, users):
        procs = [(u, pw, subprocess.Popen(
            self._ctl("register", u, DOMAIN, pw), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, **self._as_user()))
            for u, pw in users]
        for u, pw, p in procs:
            out = p.communicate(timeout=60)[0]
            if p.returncode != 0 and "already registered" in out:
                # prosodyctl register overwrites an account: do the same.
                for cmd in (("unregister", u, DOMAIN),
                            ("register", u, DOMAIN, pw)):
                    r = subprocess.run(self._ctl(*cmd), capture_output=True,
                                       text=True, timeout=60,
                                       **self._as_user())
                    p.returncode, out = r.returncode, r.stdout + r.stderr
                    if r.returncode != 0:
                        break
            check(p.returncode == 0, "ejabberdctl register %s: %s" % (u, out))

    def _accepting(self, since):
        """Whether the output after offset since says every listener
        accepts. ejabberd binds its ports early but accepts only once it
        has started: a connect() succeeding proves nothing."""
        with open(self.stdout, errors="replace") as f:
            f.seek(since)
            text = f.read()
        return all("Start accepting TCP connections at 127.0.0.1:%d " % p
                   in text for p in (self.c2s_port, self.component_port,
                                     self.http_port))

    def start(self):
        since = os.path.getsize(self.stdout) \
            if os.path.exists(self.stdout) else 0
        out = open(self.stdout, "ab")
        self.proc = subprocess.Popen(
            self._ctl("foreground"), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, **self._as_user())
        out.close()
        try:
            wait_until(lambda: self.proc.poll() is not None or
                       self._accepting(since), 30, "ejabberd's listeners")
            check(self.proc.poll() is None,
                  "ejabberd running (see %s/stdout.log)" % self.dir)
            pending, self.pending = self.pending, []
            if pending:
                self._register_now(pending)
        except BaseException:
            self.stop(signal.SIGKILL)
            raise

    def server_pid(self):
        """The Erlang VM's PID (the child of ejabberdctl), or None: what a
        test that kills the server by hand must signal."""
        if self.proc is None:
            return None
        for pid in _descendants(self.proc.pid):
            st = _proc_stat(pid)
            if st and st[2].startswith("beam"):
                return pid
        return None

    def stop(self, sig=signal.SIGTERM):
        if not self.proc:
            return
        procs = [self.proc.pid] + _descendants(self.proc.pid)
        target = self.server_pid() or self.proc.pid
        try:
            os.kill(target, sig)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(20)
            wait_until(lambda: not any(_alive(p) for p in procs), 10,
                       "ejabberd's helper processes to exit")
        except (subprocess.TimeoutExpired, TestFailure):
            for p in procs:
                if _alive(p):
                    os.kill(p, signal.SIGKILL)
            self.proc.wait()
            raise TestFailure("ejabberd did not stop within 20s on %s" %
                              signal.Signals(sig).name)
        finally:
            self.proc = None
        wait_until(lambda: not port_open(self.component_port) and
                   not port_open(self.c2s_port), 10,
                   "ejabberd's ports to close")


SERVERS = {"prosody": Prosody, "ejabberd": Ejabberd}


def make_server(workdir, **kw):
    """The server CHATDESK_SERVER names (prosody by default)."""
    check(SERVER in SERVERS, "CHATDESK_SERVER is one of %s, got %r" %
          (", ".join(SERVERS), SERVER))
    return SERVERS[SERVER](workdir, **kw)


class Postgres:
    """A throw-away PostgreSQL 15 (tests/pg/pgfixture) with one database,
    chatdesk; stopped by PID."""

    def __init__(self, workdir):
        # the server runs as postgres: a directory it can reach (the test's
        # own is 0700), gone with pgfixture stop
        self.dir = os.path.join(tempfile.mkdtemp(prefix="chatdesk-pg-"), "pg")
        os.chmod(os.path.dirname(self.dir), 0o755)
        self.url = None

    def start(self):
        r = subprocess.run([PGFIXTURE, "start", self.dir], capture_output=True,
                           text=True, timeout=60)
        check(r.returncode == 0, "pgfixture start: " + r.stderr)
        server = r.stdout.strip()
        self.psql(server, "CREATE DATABASE chatdesk")
        self.url = server.rsplit("/", 1)[0] + "/chatdesk"

    def psql(self, url, sql):
        """Rows of sql as lists of strings (None for NULL). A long sql (a
        bulk load) goes on standard input, in one transaction."""
        # fields, rows and NULL marked by control characters: values may
        # hold newlines (transcripts)
        long = len(sql) > 60000  # -c is one argument: 128 KiB at most
        r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\x1f",
                            "-R", "\x1d", "-P", "null=\x1e",
                            "-v", "ON_ERROR_STOP=1", "-d", url] +
                           (["-1", "-f", "-"] if long else ["-c", sql]),
                           input=sql if long else None,
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "psql %s: %s" % (sql[:2000], r.stderr))
        out = r.stdout[:-1] if r.stdout.endswith("\n") else r.stdout
        return [[None if v == "\x1e" else v for v in row.split("\x1f")]
                for row in out.split("\x1d") if row]

    def stop(self):
        subprocess.run([PGFIXTURE, "stop", self.dir], timeout=60)
        shutil.rmtree(os.path.dirname(self.dir), ignore_errors=True)
        return 0


class Chatdesk:
    """A chatdesk process with its own config and database (db_url: on
    PostgreSQL instead of the sqlite file db)."""

    def __init__(self, workdir, server, name="chatdesk", secret=None,
                 extra="", db=None, valgrind=False,
                 admins=("admin@localhost",), jid=None, db_url=None):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.db = db or os.path.join(self.dir, "chatdesk.db")
        self.db_url = db_url
        self.config = os.path.join(self.dir, "chatdesk.ini")
        self.log = os.path.join(self.dir, "chatdesk.log")
        self.valgrind = valgrind or os.environ.get("CHATDESK_VALGRIND") == "1"
        self.proc = None
        with open(self.config, "w") as f:
            f.write("[component]\njid = %s\nsecret = %s\nhost = 127.0.0.1\n"
                    "port = %d\nreconnect_max = 2\n\n[database]\n%s\n\n"
                    "[admins]\njids = %s\n\n[chat]\nrejoin_grace = 0\n\n"
                    "[log]\nlevel = debug\n%s" %
                    (jid or server.component, secret or server.secret,
                     server.component_port,
                     "url = " + db_url if db_url else "path = " + self.db,
                     ", ".join(admins), extra))

    def command(self):
        if self.valgrind:
            return ["valgrind", "--error-exitcode=99", "--leak-check=full",
                    "--show-leak-kinds=definite,indirect",
                    "--errors-for-leak-kinds=definite,indirect",
                    "--track-fds=no", CHATDESK_PLAIN_BIN, "-c", self.config]
        return [CHATDESK_BIN, "-c", self.config]

    def environment(self):
        """CHATDESK_PRELOAD (a test's choice, e.g. bench/slowsync.so):
        chatdesk runs with it in LD_PRELOAD (ASan then accepts not being
        first in the library list)."""
        preload = os.environ.get("CHATDESK_PRELOAD")
        if not preload:
            return None
        return dict(os.environ, LD_PRELOAD=preload, ASAN_OPTIONS=(
            os.environ.get("ASAN_OPTIONS", "") +
            ":verify_asan_link_order=0").lstrip(":"))

    def start(self, wait_online=True):
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=out,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     start_new_session=True,
                                     env=self.environment())
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
    """A slixmpp client on the test server, driven from asyncio."""

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


def _traversable(path):
    """1 when every directory above path lets other users through (o+x)."""
    p = os.path.dirname(os.path.abspath(path))
    while p != os.path.dirname(p):
        if not os.stat(p).st_mode & stat.S_IXOTH:
            return False
        p = os.path.dirname(p)
    return True


def _test_root():
    """Where test directories go: CHATDESK_TEST_TMP, else the build
    directory, unless a server running as its own user (ejabberd) could not
    reach it there (a checkout under a 0700 directory): then a folder in the
    system's temporary directory."""
    root = os.environ.get("CHATDESK_TEST_TMP")
    if not root:
        root = BUILD_DIR
        if SERVER == "ejabberd" and not _traversable(
                os.path.join(root, "x")):
            root = os.path.join(tempfile.gettempdir(), "chatdesk-e2e")
    os.makedirs(root, exist_ok=True)
    if root.startswith(tempfile.gettempdir()):
        os.chmod(root, 0o755)
    return root


class Env:
    """One server (Prosody or ejabberd, see CHATDESK_SERVER) + one chatdesk
    + users, for one test file. env.server is the server; env.prosody is
    the same object under its old name."""

    def __init__(self, users=(), chatdesk_extra="", start_chatdesk=True,
                 server_kw=None):
        root = _test_root()
        self.workdir = tempfile.mkdtemp(prefix="e2e-", dir=root)
        self.server = make_server(self.workdir, **(server_kw or {}))
        self.prosody = self.server
        self.clients = []
        self.extra = []
        self.pg = None
        if DB == "postgresql":
            self.pg = Postgres(self.workdir)
            self.pg.start()
            self.extra.append(self.pg)
        self.chatdesk = Chatdesk(self.workdir, self.server,
                                 extra=chatdesk_extra,
                                 db_url=self.pg.url if self.pg else None)
        try:
            for u in users:
                self.server.register(u)
            self.server.start()
            if start_chatdesk:
                self.chatdesk.start()
        except BaseException:
            # Nobody else holds these processes yet: stop them here.
            print("set-up failed; kept %s for inspection" % self.workdir)
            try:
                if self.chatdesk.proc:
                    stop_pid(self.chatdesk.proc, signal.SIGKILL)
            finally:
                self.server.stop(signal.SIGKILL)
                if self.pg:
                    self.pg.stop()
            raise

    async def client(self, user, resource="test", presence=True, show=None):
        c = Client(user, resource=resource)
        await c.start(self.server.c2s_port, presence=presence, show=show)
        self.clients.append(c)
        return c

    def ctl(self, *args, check_rc=True):
        where = (["-c", self.chatdesk.config] if self.chatdesk.db_url else
                 ["-d", self.chatdesk.db])
        r = subprocess.run([CHATDESKCTL_BIN] + where + list(args),
                           capture_output=True, text=True, timeout=60)
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
            self.server.stop()
        if not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return rc


def main(tests, users=(), chatdesk_extra="", start_chatdesk=True,
         server_kw=None):
    """Run the async tests (each takes the Env) in order; print one line a
    test and a closing 'N passed, N failed'; exit 1 on any failure."""
    logging.basicConfig(level=logging.ERROR)
    # slixmpp leaves a filter task per closed stream for the collector.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    env = Env(users, chatdesk_extra, start_chatdesk, server_kw)
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
