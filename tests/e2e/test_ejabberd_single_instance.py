# servers: ejabberd
# databases: sqlite, postgresql
"""One chatdesk per database, on ejabberd.

ejabberd 23.01 accepts a second XEP-0114 connection for a component domain
that is already connected, silently, and then spreads the stanzas for that
domain over both connections (Prosody refuses the second one with a
<conflict/> stream error). So nothing on the server side stops two chatdesks
from splitting one helpdesk between them: chatdesk's own lock on the
database has to. This file shows both halves: a second chatdesk on the same
database exits 1 with "already running" (on PostgreSQL too, e2e-pg-ejabberd:
the lock is an advisory lock there); a second one on another database (an
sqlite file of its own) does get online next to the first and takes part
of the traffic."""

import asyncio

from slixmpp.xmlstream import ET

from e2e import harness as h


async def _ping(client, timeout=10):
    iq = client.make_iq_get(ito=h.COMPONENT)
    iq.append(ET.Element("{urn:xmpp:ping}ping"))
    await iq.send(timeout=timeout)
    return iq["id"]


async def test_second_chatdesk_on_same_database_exits_1(env):
    twin = h.Chatdesk(env.workdir, env.server, name="twin",
                      db=env.chatdesk.db, db_url=env.chatdesk.db_url)
    twin.start(wait_online=False)
    rc = twin.wait_exit(20)
    h.check(rc == 1, "exit code 1 for a second instance, got %d" % rc)
    h.check("already running" in twin.text(),
            "the message says another chatdesk runs:\n" + twin.text())
    h.check("online as" not in twin.text(),
            "the twin never connected to ejabberd:\n" + twin.text())
    c = await env.client("tech")
    await _ping(c)


async def test_second_chatdesk_on_other_database_connects(env):
    other = h.Chatdesk(env.workdir, env.server, name="other")
    h.check(other.db != env.chatdesk.db, "a database of its own")
    other.start(wait_online=True)
    try:
        h.check(env.chatdesk.proc.poll() is None, "the first one still runs")
        # ejabberd now routes helpdesk.localhost to either connection.
        c = await env.client("tech", resource="split")
        seen = {"first": 0, "other": 0}
        for _ in range(40):
            pid = await _ping(c)
            await asyncio.sleep(0.02)
            for name, cd in (("first", env.chatdesk), ("other", other)):
                if pid in cd.text():
                    seen[name] += 1
            if seen["first"] and seen["other"]:
                break
        print("      pings answered: first %(first)d, other %(other)d" % seen)
        h.check(seen["first"] and seen["other"],
                "ejabberd gave both connections a share: %r" % seen)
    finally:
        rc = other.stop()
    h.check(rc == 0, "the second chatdesk stops cleanly, got %d" % rc)
    # With the second connection gone, every ping reaches the first again.
    c = await env.client("tech", resource="after")
    for _ in range(10):
        pid = await _ping(c)
    await asyncio.sleep(0.1)
    h.check(pid in env.chatdesk.text(), "the first chatdesk answers alone")


h.main([test_second_chatdesk_on_same_database_exits_1,
        test_second_chatdesk_on_other_database_connects],
       users=["tech"])
