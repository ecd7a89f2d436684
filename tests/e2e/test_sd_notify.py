# servers: prosody
# databases: sqlite, postgresql
"""What chatdesk tells systemd (Type=notify, sd_notify): nothing while the
server is away, READY=1 once the component handshake succeeded, WATCHDOG=1
when the unit sets WatchdogSec, STOPPING=1 on SIGTERM. The test plays
systemd: it binds the NOTIFY_SOCKET datagram socket chatdesk writes to."""

import os
import socket

from e2e import harness as h


def _messages(sock):
    """Every datagram waiting on sock, decoded."""
    got = []
    while True:
        try:
            got.append(sock.recv(4096).decode())
        except BlockingIOError:
            return got


def _wait_for(sock, seen, word, what):
    def arrived():
        seen.extend(_messages(sock))
        return any(word in m.split("\n") for m in seen)
    h.wait_until(arrived, 30, what)


async def test_ready_watchdog_stopping(env):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = os.path.join(env.workdir, "notify.sock")
    sock.bind(path)
    sock.setblocking(False)
    os.environ["NOTIFY_SOCKET"] = path
    os.environ["WATCHDOG_USEC"] = "3000000"
    env.server.stop()
    try:
        env.chatdesk.start(wait_online=False)
    finally:
        del os.environ["NOTIFY_SOCKET"], os.environ["WATCHDOG_USEC"]
    h.wait_until(lambda: "cannot connect" in env.chatdesk.text(), 30,
                 "a failed connect while the server is away")
    seen = _messages(sock)
    h.check(not any("READY=1" in m for m in seen),
            "no READY=1 before the handshake: %r" % seen)
    env.server.start()
    env.chatdesk.wait_online(1)
    _wait_for(sock, seen, "READY=1", "READY=1 after the handshake")
    ready = [m for m in seen if "READY=1" in m][0]
    h.check("STATUS=online as %s" % h.COMPONENT in ready,
            "the status names the component: %r" % ready)
    _wait_for(sock, seen, "WATCHDOG=1", "WATCHDOG=1 with WATCHDOG_USEC set")
    h.check(not any("STOPPING=1" in m for m in seen),
            "no STOPPING=1 while running: %r" % seen)
    rc = env.chatdesk.stop()
    h.check(rc == 0, "a clean stop exits 0, got %d" % rc)
    _wait_for(sock, seen, "STOPPING=1", "STOPPING=1 on SIGTERM")
    sock.close()


h.main([test_ready_watchdog_stopping], start_chatdesk=False)
