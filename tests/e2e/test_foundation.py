"""Foundation through a real Prosody: disco, version, ping, unknown iq,
reconnect after Prosody restarts, wrong secret, single instance."""
# databases: sqlite, postgresql

import asyncio
import os
import signal
import subprocess
import time

from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET

from e2e import harness as h


async def test_disco_identity_and_features(env):
    c = await env.client("tech")
    info = await c["xep_0030"].get_info(jid=h.COMPONENT, timeout=10)
    ids = info["disco_info"]["identities"]
    feats = info["disco_info"]["features"]
    h.check(("component", "generic", None, "chatdesk helpdesk chat") in ids,
            "chatdesk's identity in %r" % (ids,))
    for ns in ("http://jabber.org/protocol/disco#info",
               "http://jabber.org/protocol/disco#items",
               "jabber:iq:version", "urn:xmpp:ping",
               "http://jabber.org/protocol/commands"):
        h.check(ns in feats, "feature %s in %r" % (ns, feats))


async def test_version(env):
    c = await env.client("tech")
    v = await c["xep_0092"].get_version(h.COMPONENT, timeout=10)
    want = subprocess.run([h.CHATDESK_BIN, "--version"], capture_output=True,
                          text=True).stdout.split()[-1]
    h.check(v["software_version"]["name"] == "chatdesk", "name chatdesk")
    h.check(v["software_version"]["version"] == want,
            "version %s, got %s" % (want, v["software_version"]["version"]))


async def test_ping(env):
    c = await env.client("tech")
    rtt = await c["xep_0199"].ping(h.COMPONENT, timeout=10)
    h.check(rtt >= 0, "a ping answer")


async def test_unknown_iq_gets_an_error(env):
    c = await env.client("tech")
    for itype in ("get", "set"):
        iq = c.make_iq(ito=h.COMPONENT, itype=itype)
        iq.append(ET.Element("{urn:example:nothing}query"))
        text = await h.expect_error(iq.send(timeout=10), "service-unavailable")
        h.check("chatdesk" in text, "the text names chatdesk: %r" % text)


async def _reconnects_after(env, sig):
    before = env.chatdesk.online_count()
    env.prosody.stop(sig)
    t0 = time.monotonic()
    env.prosody.start()
    env.chatdesk.wait_online(before + 1, timeout=15)
    took = time.monotonic() - t0
    h.check(took < 10, "back online within 10 s (took %.1f s)" % took)
    c = await env.client("tech", resource="after-%s" % sig.name)
    await c["xep_0199"].ping(h.COMPONENT, timeout=10)
    info = await c["xep_0030"].get_info(jid=h.COMPONENT, timeout=10)
    h.check("urn:xmpp:ping" in info["disco_info"]["features"],
            "disco answers after the reconnect")


async def test_reconnect_after_prosody_sigterm(env):
    await _reconnects_after(env, signal.SIGTERM)


async def test_reconnect_after_prosody_kill9(env):
    await _reconnects_after(env, signal.SIGKILL)


async def test_reconnect_after_repeated_restarts(env):
    for _ in range(3):
        await _reconnects_after(env, signal.SIGKILL)


async def test_wrong_secret_exits_1(env):
    bad = h.Chatdesk(env.workdir, env.prosody, name="wrong-secret",
                     secret="not-the-secret")
    bad.start(wait_online=False)
    rc = bad.wait_exit(20)
    h.check(rc == 1, "exit code 1 on a wrong secret, got %d" % rc)
    h.check("secret does not match" in bad.text(),
            "a clear message about the secret:\n" + bad.text()[-800:])


async def test_unknown_component_domain_exits_1(env):
    other = h.Chatdesk(env.workdir, env.prosody, name="unknown-domain",
                       jid="nowhere.localhost")
    other.start(wait_online=False)
    rc = other.wait_exit(20)
    h.check(rc == 1, "exit code 1 for a domain the server does not have, "
            "got %d" % rc)
    h.check("no component nowhere.localhost configured" in other.text(),
            "the message names the domain:\n" + other.text()[-800:])


async def test_second_instance_refused(env):
    twin = h.Chatdesk(env.workdir, env.prosody, name="twin",
                      db=env.chatdesk.db, db_url=env.chatdesk.db_url)
    twin.start(wait_online=False)
    rc = twin.wait_exit(20)
    h.check(rc == 1, "exit code 1 for a second instance, got %d" % rc)
    h.check("already running" in twin.text(),
            "the message says another chatdesk runs:\n" + twin.text())
    c = await env.client("tech")
    await c["xep_0199"].ping(h.COMPONENT, timeout=10)


h.main([test_disco_identity_and_features, test_version, test_ping,
        test_unknown_iq_gets_an_error, test_reconnect_after_prosody_sigterm,
        test_reconnect_after_prosody_kill9,
        test_reconnect_after_repeated_restarts, test_wrong_secret_exits_1,
        test_unknown_component_domain_exits_1, test_second_instance_refused],
       users=["tech"])
