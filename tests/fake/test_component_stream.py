"""Stanza-level tests against a scripted component server.

Includes the regression test for libstrophe 0.12's component-mode crash
(stream-management state missing): stanzas must flow both ways after the
handshake, and again after the server drops and chatdesk reconnects.
"""

import sys
import tempfile
import time
import traceback

from fake.fakeserver import FakeServer, FakeError, start_chatdesk, stop

DISCO = "http://jabber.org/protocol/disco#info"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


def check(cond, what):
    if not cond:
        raise FakeError(what)


def by_id(i):
    return lambda e: e.get("id") == i


def exchange(conn, tag):
    """Send requests to chatdesk and read its answers: both directions."""
    conn.send("<iq type='get' id='ping-%s' from='tech@localhost/r' "
              "to='helpdesk.localhost'><ping xmlns='urn:xmpp:ping'/></iq>"
              % tag)
    r = conn.expect(by_id("ping-%s" % tag), what="the ping result")
    check(r.get("type") == "result", "ping answered with a result")
    check(r.get("to") == "tech@localhost/r", "result addressed to the asker")
    check(r.get("from") == "helpdesk.localhost", "result from the component")
    conn.send("<iq type='get' id='info-%s' from='tech@localhost/r' "
              "to='helpdesk.localhost'><query xmlns='%s'/></iq>" %
              (tag, DISCO))
    r = conn.expect(by_id("info-%s" % tag), what="the disco#info result")
    feats = [f.get("var") for f in r.iter("{%s}feature" % DISCO)]
    check("urn:xmpp:ping" in feats, "disco lists ping: %r" % feats)


def test_handshake_and_both_directions(srv, tmp):
    proc, log = start_chatdesk(tmp, srv.port)
    try:
        conn = srv.accept()
        check(conn.handshake_ok, "handshake digest is sha1(id + secret)")
        check(conn.header.get("to") == "helpdesk.localhost",
              "stream opened to the component's domain")
        exchange(conn, "1")
        conn.send("<iq type='set' id='u' from='tech@localhost/r' "
                  "to='helpdesk.localhost'><x xmlns='urn:x:nothing'/></iq>")
        r = conn.expect(by_id("u"), what="the error for an unknown iq")
        check(r.get("type") == "error", "unknown iq: type=error")
        cond = r.find("{jabber:component:accept}error/"
                      "{%s}service-unavailable" % STANZAS)
        check(cond is not None, "unknown iq: <service-unavailable/>")
        text = r.find("{jabber:component:accept}error/{%s}text" % STANZAS)
        check(text is not None and text.text, "unknown iq: a <text/>")
        # the server goes away; chatdesk comes back and works again
        conn.close()
        conn = srv.accept()
        check(conn.handshake_ok, "second handshake")
        exchange(conn, "2")
        # and a server that resets without closing the stream
        conn.close(stream_end=False)
        conn = srv.accept()
        exchange(conn, "3")
        check(stop(proc) == 0, "exit 0 on SIGTERM")
        conn.close()
    finally:
        stop(proc)


def test_refused_secret_exits_1(srv, tmp):
    proc, log = start_chatdesk(tmp, srv.port, secret="wrong")
    try:
        conn = srv.accept()
        check(not conn.handshake_ok, "the fake server sees a wrong digest")
        rc = proc.wait(15)
        check(rc == 1, "exit 1 on a refused handshake, got %d" % rc)
        with open(log) as f:
            text = f.read()
        check("secret does not match" in text, "a clear log message")
        conn.close()
    finally:
        stop(proc)


def main():
    results = []
    for t in (test_handshake_and_both_directions, test_refused_secret_exits_1):
        srv = FakeServer()
        with tempfile.TemporaryDirectory() as tmp:
            try:
                t(srv, tmp)
                results.append(True)
                print("ok    %s" % t.__name__)
            except Exception:
                results.append(False)
                print("FAIL  %s" % t.__name__)
                traceback.print_exc()
                try:
                    print(open(tmp + "/chatdesk.log").read()[-3000:])
                except OSError:
                    pass
        srv.close()
    print("%d passed, %d failed" % (results.count(True), results.count(False)))
    sys.exit(0 if all(results) else 1)


main()
