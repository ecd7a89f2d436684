#!/usr/bin/python3
"""approve.py PORT COMPONENT PASSWORD JID... - the demo's pre-approval.

Logs each JID in once on 127.0.0.1:PORT (no TLS: loopback demo only) and
approves the presence subscription request COMPONENT sent it (and asks for
COMPONENT's presence back), so chatdesk sees the sample techs from their
first real login. Exits non-zero when a JID cannot log in or no request
arrives within 15 seconds.
"""

import asyncio
import sys

import slixmpp


async def approve(port, component, password, jid):
    c = slixmpp.ClientXMPP(jid + "/demo-setup", password)
    c["feature_mechanisms"].unencrypted_plain = True
    c.auto_authorize = True  # answers chatdesk's pending subscribe
    c.auto_subscribe = True
    started = asyncio.get_running_loop().create_future()
    c.add_event_handler("session_start",
                        lambda _: started.done() or started.set_result(1))
    c.add_event_handler("failed_auth", lambda _: started.done() or
                        started.set_exception(RuntimeError("auth failed")))
    c.connect(("127.0.0.1", port), force_starttls=False,
              disable_starttls=True)
    await asyncio.wait_for(started, 20)
    await c.get_roster()
    c.send_presence()  # the server redelivers the pending request now
    for _ in range(150):
        if c.client_roster[component]["from"]:
            break
        await asyncio.sleep(0.1)
    approved = bool(c.client_roster[component]["from"])
    c.disconnect()
    return approved


async def main(port, component, password, jids):
    failed = 0
    for jid in jids:
        ok = await approve(port, component, password, jid)
        print("%s: subscription of %s %s" %
              (jid, component, "approved" if ok else "NOT approved"))
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3],
                              sys.argv[4:])))
