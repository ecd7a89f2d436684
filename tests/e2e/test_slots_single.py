# databases: sqlite, postgresql
"""`[component] connections = auto` on a server without ejabberd's
domain_balancing (Prosody; ejabberd as configured by config/ejabberd.yml)
stays at one connection: every route-slot probe comes back on it, so
nothing is opened, and chatdesk works as with connections = 1 (SPEC §11,
runtime/slots.h)."""

import asyncio
import re

from slixmpp.xmlstream import ET

from e2e import harness as h


async def test_auto_stays_at_one_connection(env):
    await h.async_wait_until(
        lambda: "every probe came back on 1 connection" in
        env.chatdesk.text(), 15, "a probe round with every probe back")
    await asyncio.sleep(2)
    text = env.chatdesk.text()
    h.check(len(re.findall(r"info conn: online as", text)) == 1,
            "one connection only:\n" + text[-2000:])
    h.check("opening connection" not in text and "vacant" not in text,
            "no connection opened for a vacant slot")
    c = await env.client("tech")
    iq = c.make_iq_get(ito=h.COMPONENT)
    iq.append(ET.Element("{urn:xmpp:ping}ping"))
    await iq.send(timeout=10)


h.main([test_auto_stays_at_one_connection], users=["tech"],
       chatdesk_extra="[component]\nconnections = auto\n")
