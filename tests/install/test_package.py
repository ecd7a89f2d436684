"""The install tree and the Debian package (SPEC §10), label install.

Configures a build of its own with -DBUILD_TESTING=OFF (the run-time
libraries alone) and the prefix /usr, installs it into a DESTDIR and checks
the tree, builds the .deb with cpack, checks its control data, extracts it
into a throw-away root and runs the packaged chatdesk --check-config on the
packaged example configuration. The unit is checked with systemd-analyze
(verify, and the security exposure stays below 2.0); it is not started."""

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

SOURCE = os.environ["CHATDESK_SOURCE_DIR"]
WORK = os.path.join(os.environ["CHATDESK_BUILD_DIR"], "install-test")
results = []


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def run(*args, **kw):
    r = subprocess.run(list(args), capture_output=True, text=True,
                       timeout=600, **kw)
    check(r.returncode == 0, "%s failed (%d):\n%s%s" %
          (" ".join(args), r.returncode, r.stdout[-3000:], r.stderr[-3000:]))
    return r


def build():
    """A release build without tests; returns its directory."""
    b = os.path.join(WORK, "build")
    run("cmake", "-S", SOURCE, "-B", b, "-DBUILD_TESTING=OFF",
        "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DCMAKE_INSTALL_PREFIX=/usr",
        "-DCHATDESK_BENCH=OFF", "-DCHATDESK_SANITIZE=OFF")
    cache = open(os.path.join(b, "CMakeCache.txt")).read()
    check("CMOCKA" not in cache, "BUILD_TESTING=OFF looks for no cmocka")
    run("cmake", "--build", b, "-j%d" % (os.cpu_count() or 2))
    return b


EXPECTED = {
    "usr/sbin/chatdesk": 0o755, "usr/sbin/chatdeskctl": 0o755,
    "etc/chatdesk/chatdesk.ini": 0o640,
    "usr/lib/systemd/system/chatdesk.service": 0o644,
    "usr/lib/sysusers.d/chatdesk.conf": 0o644,
    "usr/lib/tmpfiles.d/chatdesk.conf": 0o644,
    "usr/share/man/man8/chatdesk.8": 0o644,
    "usr/share/man/man8/chatdeskctl.8": 0o644,
    "usr/share/chatdesk/portal/index.html": 0o644,
    "usr/share/chatdesk/portal/app.js": 0o644,
    "usr/share/chatdesk/portal/xmpp.js": 0o644,
    "usr/share/chatdesk/portal/node_modules/strophe.js/dist/strophe.esm.js":
        0o644,
}


def check_tree(root):
    for rel, mode in EXPECTED.items():
        path = os.path.join(root, rel)
        check(os.path.isfile(path), "%s is installed" % rel)
        got = stat.S_IMODE(os.stat(path).st_mode)
        check(got == mode, "%s has mode %o, got %o" % (rel, mode, got))
    unit = open(os.path.join(root, "usr/lib/systemd/system/chatdesk.service"))
    unit = unit.read()
    for line in ("Type=notify", "User=chatdesk", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                 "PrivateDevices=yes", "StateDirectory=chatdesk",
                 "ReadWritePaths=/var/lib/chatdesk",
                 "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                 "SystemCallFilter=@system-service",
                 "ExecStart=/usr/sbin/chatdesk -c /etc/chatdesk/chatdesk.ini"):
        check(line in unit.split("\n"), "the unit has %s" % line)
    users = open(os.path.join(root, "usr/lib/sysusers.d/chatdesk.conf")).read()
    check(re.search(r"^u chatdesk .* /var/lib/chatdesk$", users, re.M),
          "sysusers.d makes the user chatdesk: %r" % users)
    tmp = open(os.path.join(root, "usr/lib/tmpfiles.d/chatdesk.conf")).read()
    for want in (r"^d /var/lib/chatdesk 0750 chatdesk chatdesk",
                 r"^z /etc/chatdesk/chatdesk.ini 0640 root chatdesk"):
        check(re.search(want, tmp, re.M), "tmpfiles.d has %s" % want)
    for page in ("chatdesk", "chatdeskctl"):
        r = run("man", "--warnings", "-l", "-Tutf8", os.path.join(
            root, "usr/share/man/man8/%s.8" % page))
        text = re.sub(".\b", "", r.stdout)  # no overstrike (bold)
        check("SYNOPSIS" in text and not r.stderr.strip(),
              "%s(8) renders without warnings: %s" % (page, r.stderr))


def test_install_tree(b):
    dest = os.path.join(WORK, "destdir")
    shutil.rmtree(dest, ignore_errors=True)
    env = dict(os.environ, DESTDIR=dest)
    run("cmake", "--install", b, env=env)
    check_tree(dest)


def package(b):
    for f in os.listdir(b):
        if f.endswith(".deb"):
            os.unlink(os.path.join(b, f))
    run("cpack", "-G", "DEB", cwd=b)
    debs = [f for f in os.listdir(b) if f.endswith(".deb")]
    check(len(debs) == 1, "cpack made one .deb: %r" % debs)
    return os.path.join(b, debs[0])


def test_package(b):
    deb = package(b)
    fields = run("dpkg-deb", "-f", deb).stdout
    depends = re.search(r"^Depends: (.*)$", fields, re.M).group(1)
    for lib in ("libstrophe0", "libsqlite3-0", "libinih1", "libsystemd0",
                "systemd"):
        check(re.search(r"(^|, )%s\b" % lib, depends),
              "Depends names %s: %s" % (lib, depends))
    ctrl = tempfile.mkdtemp(dir=WORK)
    run("dpkg-deb", "-e", deb, ctrl)
    check(open(os.path.join(ctrl, "conffiles")).read().split() ==
          ["/etc/chatdesk/chatdesk.ini"], "the ini is a conffile")
    post = open(os.path.join(ctrl, "postinst")).read()
    for want in ("systemd-sysusers chatdesk.conf",
                 "systemd-tmpfiles --create chatdesk.conf",
                 "deb-systemd-helper enable chatdesk.service"):
        check(want in post, "postinst runs %s" % want)
    for script in ("postinst", "prerm", "postrm"):
        run("sh", "-n", os.path.join(ctrl, script))
    root = tempfile.mkdtemp(dir=WORK)
    run("dpkg-deb", "-x", deb, root)
    check_tree(root)
    r = run(os.path.join(root, "usr/sbin/chatdesk"), "--check-config", "-c",
            os.path.join(root, "etc/chatdesk/chatdesk.ini"))
    check("configuration OK" in r.stdout, "the packaged example is good")
    check_unit(root)


def check_unit(root):
    comm = open("/proc/1/comm").read().strip()
    if comm != "systemd":
        print("note: systemd is not PID 1 here (PID 1 is %s): the unit is "
              "checked with systemd-analyze, not started" % comm)
    unit = os.path.join(root, "usr/lib/systemd/system/chatdesk.service")
    # verify needs the commands to exist: a copy pointing into the root
    copy = os.path.join(tempfile.mkdtemp(dir=WORK), "chatdesk.service")
    text = open(unit).read().replace("/usr/sbin/", root + "/usr/sbin/")
    with open(copy, "w") as f:
        f.write(text.replace("/etc/chatdesk/", root + "/etc/chatdesk/"))
    run("systemd-analyze", "verify", "--man=no", copy)
    r = run("systemd-analyze", "security", "--offline=yes", "--no-pager",
            unit)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)",
                  r.stdout)
    check(m, "systemd-analyze security prints the exposure")
    print("note: systemd-analyze security: exposure %s %s" % m.groups())
    check(float(m.group(1)) < 2.0, "exposure below 2.0, got %s" % m.group(1))


def main():
    os.makedirs(WORK, exist_ok=True)
    try:
        b = build()
    except AssertionError as e:
        print("FAIL  build: %s" % e)
        return 1
    for t in (test_install_tree, test_package):
        try:
            t(b)
            results.append(True)
            print("ok    %s" % t.__name__)
        except AssertionError as e:
            results.append(False)
            print("FAIL  %s: %s" % (t.__name__, e))
    print("%d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


sys.exit(main())
