"""A scripted XMPP server speaking jabber:component:accept (XEP-0114), for
exact stanza-level tests of chatdesk without a real server.

    srv = FakeServer(secret="s3cret")        # listens on 127.0.0.1:free
    cd = start_chatdesk(tmp, srv.port)       # chatdesk connects
    conn = srv.accept()                      # handshake checked
    conn.send("<iq type='get' .../>")
    reply = conn.expect(lambda e: e.get("id") == "x")   # an ElementTree

Blocking sockets with timeouts; one connection at a time.
"""

import hashlib
import os
import signal
import socket
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET

NS = "jabber:component:accept"
STREAM_NS = "http://etherx.jabber.org/streams"


class FakeError(AssertionError):
    pass


class Connection:
    def __init__(self, sock, secret, accept_handshake=True):
        self.sock = sock
        self.sock.settimeout(10)
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.queue = []
        self.stream_id = uuid.uuid4().hex
        self.header = self._read_header()
        self.sock.sendall((
            "<?xml version='1.0'?><stream:stream xmlns='%s' "
            "xmlns:stream='%s' id='%s' from='%s'>" %
            (NS, STREAM_NS, self.stream_id, self.header.get("to"))).encode())
        hs = self.next()
        if hs.tag != "{%s}handshake" % NS:
            raise FakeError("expected <handshake/>, got %s" % hs.tag)
        want = hashlib.sha1((self.stream_id + secret).encode()).hexdigest()
        self.handshake_ok = (hs.text or "").strip().lower() == want
        if self.handshake_ok and accept_handshake:
            self.sock.sendall(b"<handshake/>")
        else:
            self.sock.sendall(
                ("<stream:error><not-authorized xmlns='urn:ietf:params:xml:"
                 "ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:"
                 "xmpp-streams'>Given token does not match calculated token"
                 "</text></stream:error></stream:stream>").encode())

    def _feed(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("chatdesk closed the connection")
        self.parser.feed(data)
        for event, elem in self.parser.read_events():
            if event == "start":
                self.depth += 1
                if self.depth == 1:
                    self.queue.append(("header", elem))
            else:
                self.depth -= 1
                if self.depth == 1:
                    self.queue.append(("stanza", elem))

    def _read_header(self):
        while not self.queue:
            self._feed()
        kind, elem = self.queue.pop(0)
        if kind != "header" or elem.tag != "{%s}stream" % STREAM_NS:
            raise FakeError("expected a stream header, got %s" % elem.tag)
        return elem

    def next(self, timeout=10):
        self.sock.settimeout(timeout)
        while not any(k == "stanza" for k, _ in self.queue):
            self._feed()
        for i, (kind, elem) in enumerate(self.queue):
            if kind == "stanza":
                del self.queue[i]
                return elem

    def expect(self, pred, timeout=10, what="a matching stanza"):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise FakeError("timed out waiting for %s" % what)
            try:
                elem = self.next(left)
            except socket.timeout:
                raise FakeError("timed out waiting for %s" % what)
            if pred(elem):
                return elem

    def send(self, xml):
        self.sock.sendall(xml.encode())

    def close(self, stream_end=True):
        try:
            if stream_end:
                self.sock.sendall(b"</stream:stream>")
        except OSError:
            pass
        self.sock.close()


class FakeServer:
    def __init__(self, secret="s3cret"):
        self.secret = secret
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]

    def accept(self, timeout=15, accept_handshake=True):
        self.listener.settimeout(timeout)
        sock, _ = self.listener.accept()
        return Connection(sock, self.secret, accept_handshake)

    def close(self):
        self.listener.close()


def start_chatdesk(tmpdir, port, secret="s3cret", jid="helpdesk.localhost"):
    """chatdesk pointed at the fake server; returns (Popen, log path)."""
    cfg = os.path.join(tmpdir, "chatdesk.ini")
    log = os.path.join(tmpdir, "chatdesk.log")
    with open(cfg, "w") as f:
        f.write("[component]\njid = %s\nsecret = %s\nhost = 127.0.0.1\n"
                "port = %d\nreconnect_max = 1\n[database]\npath = %s\n"
                "[admins]\njids = admin@localhost\n[log]\nlevel = debug\n" %
                (jid, secret, port, os.path.join(tmpdir, "chatdesk.db")))
    binary = os.environ.get("CHATDESK_BIN", "build/chatdesk")
    out = open(log, "ab")
    p = subprocess.Popen([binary, "-c", cfg], stdout=out,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    out.close()
    return p, log


def stop(proc, timeout=10):
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            raise FakeError("chatdesk did not stop on SIGTERM")
    return proc.returncode
