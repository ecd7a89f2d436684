# servers: prosody
# databases: sqlite, postgresql
"""The chatdesk command line: --help, --version, bad configs (exit 2, file,
line and key named), --check-config (exit 0 good, 1 with every bad key
named; the shipped example passes), and a clean stop on SIGTERM/SIGINT while no server
answers (the reconnect loop must not block signals)."""

import os
import signal
import subprocess
import sys
import tempfile
import time

from e2e import harness as h

BIN = h.CHATDESK_BIN
results = []


def run(*args, **kw):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True,
                          timeout=30, **kw)


def case(fn):
    try:
        fn()
        results.append(True)
        print("ok    %s" % fn.__name__)
    except Exception as e:
        results.append(False)
        print("FAIL  %s: %s" % (fn.__name__, e))


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_help_and_version():
    r = run("--help")
    h.check(r.returncode == 0 and "Usage: chatdesk -c FILE" in r.stdout,
            "--help prints usage, exit 0")
    r = run("--version")
    h.check(r.returncode == 0 and r.stdout.startswith("chatdesk "),
            "--version prints 'chatdesk X.Y.Z'")


def test_bad_arguments_exit_2():
    for args in ([], ["--bogus"], ["-c"]):
        r = run(*args)
        h.check(r.returncode == 2, "%r exits 2, got %d" % (args, r.returncode))
        h.check("Usage" in r.stderr, "%r shows usage on stderr" % args)


def test_bad_config_names_key_and_line():
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            ("[component]\njid = h.localhost\nsecret = x\nprot = 5347\n",
             ":4: prot: unknown key in section [component]"),
            ("[component]\njid = h.localhost\nsecret = x\n[database]\n"
             "path = %s/db\n[chat]\nidle_timeout = soon\n" % tmp,
             ":7: idle_timeout: must be a whole number"),
            ("[component]\njid = h.localhost\n",
             ":1: secret: missing: section [component] must set this key"),
        ]
        for text, want in cases:
            path = write(tmp, "bad.ini", text)
            r = run("-c", path)
            h.check(r.returncode == 2, "exit 2 for a bad config, got %d" %
                    r.returncode)
            h.check(path + want in r.stderr, "stderr %r names %r" %
                    (r.stderr, path + want))
        r = run("-c", os.path.join(tmp, "missing.ini"))
        h.check(r.returncode == 2 and "cannot open" in r.stderr,
                "a missing file exits 2 with 'cannot open'")


def test_check_config():
    example = os.path.join(h.SOURCE_DIR, "config", "chatdesk.ini.example")
    r = run("--check-config", "-c", example)
    h.check(r.returncode == 0, "the shipped example is good: %s" % r.stderr)
    h.check("configuration OK" in r.stdout, "it says so: %r" % r.stdout)
    with tempfile.TemporaryDirectory() as tmp:
        path = write(tmp, "bad.ini",
                     "[component]\njid = a@b\nsecret = x\nport = 0\n"
                     "[admins]\njids = nobody\n[metrix]\nlisten = x\n")
        r = run("--check-config", "-c", path)
        h.check(r.returncode == 1, "exit 1 for a bad file, got %d" %
                r.returncode)
        for want in (":2: jid: 'a@b' is not a bare domain",
                     ":4: port: must be a whole number from 1 to 65535",
                     ":6: jids: 'nobody' is not a bare JID",
                     ":8: listen: unknown section [metrix]",
                     ":0: path: missing: the file has no section [database]"):
            h.check(path + want in r.stderr, "stderr %r names %r" %
                    (r.stderr, path + want))
        good = write(tmp, "good.ini",
                     "[component]\njid = h.localhost\nsecret = x\n"
                     "[database]\npath = %s/db\n" % tmp)
        r = run("--check-config", "-c", good)
        h.check(r.returncode == 0, "a good file exits 0: %s" % r.stderr)
        h.check(not os.path.exists(os.path.join(tmp, "db")),
                "checking opens no database")
        r = run("--check-config", "-c", os.path.join(tmp, "missing.ini"))
        h.check(r.returncode == 1 and "cannot open" in r.stderr,
                "a missing file exits 1 with 'cannot open'")


def test_stops_cleanly_while_reconnecting():
    for sig in (signal.SIGTERM, signal.SIGINT):
        with tempfile.TemporaryDirectory() as tmp:
            path = write(tmp, "c.ini",
                         "[component]\njid = h.localhost\nsecret = x\n"
                         "port = %d\n[database]\npath = %s/db\n" %
                         (h.free_port(), tmp))
            p = subprocess.Popen([BIN, "-c", path], stderr=subprocess.PIPE,
                                 text=True, start_new_session=True)
            time.sleep(1.0)
            h.check(p.poll() is None, "chatdesk keeps retrying")
            t0 = time.monotonic()
            rc = h.stop_pid(p, sig)
            took = time.monotonic() - t0
            err = p.stderr.read()
            h.check(rc == 0, "exit 0 on %s, got %d: %s" % (sig.name, rc, err))
            h.check(took < 2, "stopped within 2 s (%.2f s)" % took)
            h.check("cannot connect" in err, "the log says why it waits")


for t in (test_help_and_version, test_bad_arguments_exit_2,
          test_bad_config_names_key_and_line, test_check_config,
          test_stops_cleanly_while_reconnecting):
    case(t)
print("%d passed, %d failed" % (results.count(True), results.count(False)))
sys.exit(0 if all(results) else 1)
