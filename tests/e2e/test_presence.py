"""Presence (SPEC §2) through a real server, chatdesk and slixmpp.

chatdesk subscribes to every tech and contact of its directory when it
connects; clients approve (slixmpp's default) and chatdesk then tracks
their presence, logged at debug level as "<jid> is now Online|Away|Busy|
Offline". Covered: the mapping of <show/> for contacts and techs, several
resources taking the most available one, directed presence from a portal
(and the server's unavailable when its stream closes), a tech present only
through the queue room, probes and subscription requests to the component.
Prints one line per test and "N passed, M failed" last; exits non-zero on
any failure.
"""
# databases: sqlite, postgresql

import asyncio

from e2e import harness as h
from e2e import chatlib as cl
from e2e.chatlib import jid

QUEUE = "queue@%s" % h.COMPONENT


async def test_contact_resources_most_available(env):
    tom = await cl.login(env, "tom")
    r = await tom.command("create-ticket", {"contact": jid("alice"),
                                            "summary": "Presence probe"})
    ticket = r.fields["ticket"]
    web = await cl.login(env, "alice", resource="web")
    since = cl.log_mark(env)
    phone = await cl.login(env, "alice", resource="phone", show="dnd",
                           known=False)
    await asyncio.sleep(0.3)
    h.check("alice@localhost is now" not in env.chatdesk.text()[since:],
            "an extra dnd resource leaves alice Online")
    since = cl.log_mark(env)
    web.disconnect()
    await cl.wait_presence(env, "alice", "Away", since)
    cond, text = await cl.error_of(tom.command("push-chat",
                                               {"ticket": ticket}))
    h.check(cond == "not-acceptable" and "Away" in text,
            "dnd is Away for a contact: %s %r" % (cond, text))
    since = cl.log_mark(env)
    phone.send_presence()
    await cl.wait_presence(env, "alice", "Online", since)
    since = cl.log_mark(env)
    phone.disconnect()
    await cl.wait_presence(env, "alice", "Offline", since)
    cond, text = await cl.error_of(tom.command("push-chat",
                                               {"ticket": ticket}))
    h.check(cond == "not-acceptable" and "Offline" in text,
            "no resource left: Offline: %s %r" % (cond, text))


async def test_tech_resources_and_show(env):
    desk = await cl.login(env, "tom", resource="desk", show="dnd")
    since = cl.log_mark(env)
    laptop = await cl.login(env, "tom", resource="laptop", show="xa",
                            known=False)
    await asyncio.sleep(0.3)
    h.check("tom@localhost is now" not in env.chatdesk.text()[since:],
            "Busy (dnd) outranks Away (xa): no change")
    alice = await cl.login(env, "alice")
    marks = (cl.Mark(desk), cl.Mark(laptop))
    f = await cl.start_chat(alice, "Anyone there?")
    await asyncio.sleep(0.3)
    for c, m in zip((desk, laptop), marks):
        await cl.no_message(c, cl.is_invite_to(f["room"]), m, wait=0,
                            what="invitation to a Busy tech")
    since = cl.log_mark(env)
    desk.disconnect()
    await cl.wait_presence(env, "tom", "Away", since)
    since = cl.log_mark(env)
    laptop.send_presence(pshow="chat")
    await cl.wait_presence(env, "tom", "Online", since)
    await cl.wait_message(laptop, cl.is_invite_to(f["room"]),
                          what="invitation once Online (show chat)")
    r = await laptop.command("end-session", {"session": f["session"]})
    h.check(r.status == "completed", "cleanup")


async def test_portal_directed_presence(env):
    # carl refuses chatdesk's subscription: only directed presence counts
    carl = await cl.login(env, "carl", presence=False, authorize=False)
    since = cl.log_mark(env)
    carl.send_presence(pto=h.COMPONENT)
    await cl.wait_presence(env, "carl", "Online", since)
    since = cl.log_mark(env)
    carl.send_presence(pto=h.COMPONENT, pshow="away")
    await cl.wait_presence(env, "carl", "Away", since)
    since = cl.log_mark(env)
    carl.disconnect()
    await cl.wait_presence(env, "carl", "Offline", since)


async def test_tech_present_through_queue_room(env):
    # ben says no to chatdesk's subscription, then sits in the queue room
    ben = await cl.login(env, "ben", authorize=False, known=False)
    await asyncio.sleep(0.3)
    since = cl.log_mark(env)
    await cl.join(ben, QUEUE, "ben")
    await cl.wait_presence(env, "ben", "Online", since)
    alice = await cl.login(env, "alice")
    m = cl.Mark(ben)
    f = await cl.start_chat(alice, "Queue presence")
    await cl.wait_message(ben, cl.is_invite_to(f["room"]), m,
                          what="invitation to a tech present in the queue")
    since = cl.log_mark(env)
    cl.leave(ben, QUEUE, "ben")
    await cl.wait_presence(env, "ben", "Offline", since)
    r = await ben.command("end-session", {"session": f["session"]})
    h.check(r.status == "completed", "cleanup")


async def test_probe_answered(env):
    alice = await cl.login(env, "alice")
    m = cl.Mark(alice)
    alice.send_presence(pto=h.COMPONENT, ptype="probe")
    p = await cl.wait_presence_stanza(
        alice, lambda p: p["from"] == h.COMPONENT, m,
        what="an answer to the probe")
    h.check(p["type"] == "available", "available presence: %s" % p)
    eve = await cl.login(env, "eve", known=False)
    m = cl.Mark(eve)
    eve.send_presence(pto=h.COMPONENT, ptype="probe")
    await asyncio.sleep(0.3)
    h.check(not [p for p in m.presences() if p["from"] == h.COMPONENT and
                 p["type"] == "available"],
            "a stranger's probe gets no available presence")


async def test_subscribe_approved_for_known_only(env):
    # dave says no to chatdesk's own request, then asks himself
    dave = await cl.login(env, "dave", authorize=False, known=False)
    await dave.get_roster()
    m = cl.Mark(dave)
    dave.send_presence(pto=h.COMPONENT, ptype="subscribe")
    await cl.wait_presence_stanza(
        dave, lambda p: p["from"].bare == h.COMPONENT and
        p["type"] == "subscribed", m, what="subscribed for a contact")
    h.check(not [p for p in m.presences() if p["type"] == "unsubscribed"],
            "no refusal for a known contact")
    eve = await cl.login(env, "eve", known=False)
    await eve.get_roster()
    m = cl.Mark(eve)
    eve.send_presence(pto=h.COMPONENT, ptype="subscribe")
    await cl.wait_presence_stanza(
        eve, lambda p: p["from"].bare == h.COMPONENT and
        p["type"] == "unsubscribed", m, what="unsubscribed for a stranger")
    h.check(not [p for p in m.presences() if p["type"] == "subscribed"],
            "a stranger is not approved")


if __name__ == "__main__":
    cl.main(None, [test_contact_resources_most_available,
                   test_tech_resources_and_show,
                   test_portal_directed_presence,
                   test_tech_present_through_queue_room,
                   test_probe_answered,
                   test_subscribe_approved_for_known_only])
