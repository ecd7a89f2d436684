# servers: prosody
# databases: sqlite, postgresql
"""[metrics] listen (SPEC §10): Prometheus text at /metrics, served off the
chat loop by libmicrohttpd. A real chat through the server moves the
numbers: sessions by state, messages stored, stanzas in and out by kind,
commits in the latency histogram; the outbox stays at zero without a PSA
(tests/e2e/test_psa.py sees it move with one)."""

import urllib.error
import urllib.request

from e2e import harness as h
from e2e import chatlib as cl

PORT = h.free_port()
EXTRA = cl.CHAT_EXTRA + "[metrics]\nlisten = 127.0.0.1:%d\n" % PORT
def scrape():
    return cl.scrape_metrics(PORT)


def value(m, name):
    h.check(name in m, "%s is exposed: %r" % (name, sorted(m)))
    return m[name]


async def test_served(env):
    m = scrape()
    for name in ('chatdesk_sessions{state="waiting"}',
                 'chatdesk_stanzas_total{direction="in",kind="presence"}',
                 'chatdesk_commit_seconds_bucket{le="+Inf"}',
                 "chatdesk_messages_stored_total",
                 "chatdesk_reconnects_total"):
        value(m, name)
    h.check(value(m, "chatdesk_outbox_depth") == 0, "outbox depth 0")
    h.check(value(m, "chatdesk_outbox_failures_total") == 0,
            "no outbox failures")
    try:
        urllib.request.urlopen("http://127.0.0.1:%d/other" % PORT, timeout=10)
        h.check(False, "another path is not served")
    except urllib.error.HTTPError as e:
        h.check(e.code == 404, "another path: 404, got %d" % e.code)


async def test_numbers_move_with_a_chat(env):
    before = scrape()
    tom = await cl.login(env, "tom")
    alice = await cl.login(env, "alice")
    f = await cl.start_chat(alice, "Metrics please")
    room = f.get("room")
    await cl.join(alice, room, "alice")
    mark = cl.Mark(alice)
    cl.say(alice, room, "Hello metrics", mid="m1")
    await cl.wait_message(alice, lambda m: m["id"] == "m1" and
                          cl.stanza_id(m, room), mark,
                          what="the message stored and reflected")
    await cl.join(tom, room, "tom")
    await cl.wait_state(env, f.get("session"), "active")

    def moved():
        m = scrape()
        return all(m.get(k, 0) > before.get(k, 0) for k in (
            'chatdesk_sessions{state="active"}',
            "chatdesk_messages_stored_total",
            'chatdesk_stanzas_total{direction="in",kind="message"}',
            'chatdesk_stanzas_total{direction="out",kind="message"}',
            'chatdesk_stanzas_total{direction="in",kind="iq"}',
            "chatdesk_commit_seconds_count"))
    h.wait_until(moved, 15, "the metrics to move with the chat")
    after = scrape()
    stored = cl.db_rows(env, "SELECT COUNT(*) FROM messages")[0][0]
    h.check(after["chatdesk_messages_stored_total"] == stored,
            "messages stored %s = the database's %d" %
            (after["chatdesk_messages_stored_total"], stored))
    active = cl.db_rows(env, "SELECT COUNT(*) FROM sessions WHERE "
                        "state = 'active'")[0][0]
    h.check(after['chatdesk_sessions{state="active"}'] == active,
            "active sessions = the database's %d" % active)


cl.main(None, [test_served, test_numbers_move_with_a_chat], extra=EXTRA)
