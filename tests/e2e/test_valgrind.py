"""One end-to-end run of the plain (unsanitized) chatdesk under valgrind:
disco, ping, ad-hoc listing, two Prosody restarts (SIGTERM and kill -9),
then SIGTERM. valgrind's --error-exitcode makes any memory error or
definite/indirect leak fail the run (exit 99 instead of 0)."""
# databases: sqlite, postgresql

import os
import signal

os.environ["CHATDESK_VALGRIND"] = "1"

from e2e import harness as h  # noqa: E402


async def test_traffic_under_valgrind(env):
    c = await env.client("tech")
    for _ in range(20):
        await c["xep_0199"].ping(h.COMPONENT, timeout=30)
    info = await c["xep_0030"].get_info(jid=h.COMPONENT, timeout=30)
    h.check("urn:xmpp:ping" in info["disco_info"]["features"], "disco")
    await c["xep_0030"].get_items(jid=h.COMPONENT,
                                  node="http://jabber.org/protocol/commands",
                                  timeout=30)


async def test_restarts_under_valgrind(env):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        before = env.chatdesk.online_count()
        env.prosody.stop(sig)
        env.prosody.start()
        env.chatdesk.wait_online(before + 1, timeout=60)
        c = await env.client("tech", resource=sig.name)
        await c["xep_0199"].ping(h.COMPONENT, timeout=30)


h.main([test_traffic_under_valgrind, test_restarts_under_valgrind],
       users=["tech"])
