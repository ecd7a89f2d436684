"""Nothing about a chat leaks to someone who is not in it (SPEC §1, §3).

The attackers are real clients on the server: eve, a server user in no
directory; carl, a contact of another company (Globex); bob, a contact of
the same company as alice (Acme) probing alice's room. Every read path of a
session room is tried: disco#info and disco#items of the room, disco#items
of the service, the reserved-nick node, joins, MAM, muc#admin and muc#owner
queries, vCards of the room and of an occupant, presence probes; and the
queue room, which is for techs only. Nothing they get back may name alice,
her problem or the ticket, or count the occupants; alice and the techs
still get the full room info.

The directory is chatlib's. Prints one line per test and "N passed, M
failed" last.
"""
# databases: sqlite, postgresql

from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET, tostring

from e2e import harness as h
from e2e import chatlib as cl

NS_INFO = "http://jabber.org/protocol/disco#info"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_ROOMINFO = "http://jabber.org/protocol/muc#roominfo"
NS_MAM = "urn:xmpp:mam:2"
NS_PING = "urn:xmpp:ping"
QUEUE = "queue@" + h.COMPONENT
SECRET_WORDS = ("Alice", "Liddell", "toner", "Acme", "Chat ")

S = {}


async def alice_session(env):
    """alice's session (with tom in it), made once; the attackers."""
    alice = await cl.login(env, "alice")
    tom = await cl.login(env, "tom")
    if not S:
        f = await cl.start_chat(alice, "The toner smells of burnt toast")
        S.update(room=f["room"], session=f["session"])
    await cl.join(alice, S["room"], "alice")
    await cl.join(tom, S["room"], "tom")
    await cl.wait_state(env, S["session"], "active")
    eve = await cl.login(env, "eve", known=False)
    carl = await cl.login(env, "carl")
    bob = await cl.login(env, "bob")
    return alice, tom, [eve, carl, bob]


def query(client, to, ns, kind="get", node=None):
    iq = client.make_iq_get(ito=to) if kind == "get" else \
        client.make_iq_set(ito=to)
    q = ET.SubElement(iq.xml, "{%s}query" % ns)
    if node:
        q.set("node", node)
    return iq


async def answer(iq):
    """The XML of the answer to iq, result or error."""
    try:
        return (await iq.send(timeout=10)).xml
    except IqError as e:
        return e.iq.xml


def tells_nothing(who, what, xml):
    """Nothing secret in xml; its from (the JID the asker guessed) aside."""
    text = "".join(tostring(c) for c in xml)
    for w in SECRET_WORDS:
        h.check(w not in text, "%s gets nothing naming %r from %s: %s" %
                (who.boundjid.bare, w, what, text))


def roominfo(xml):
    return xml.find("{%s}query/{jabber:x:data}x" % NS_INFO)


async def test_room_info_only_for_members(env):
    alice, tom, attackers = await alice_session(env)
    for who in attackers:
        xml = await answer(query(who, S["room"], NS_INFO))
        h.check(xml.get("type") == "result", "disco#info answered")
        ident = xml.find("{%s}query/{%s}identity" % (NS_INFO, NS_INFO))
        h.check(ident is not None and ident.get("name") is None,
                "an identity without a name for %s" % who.boundjid.bare)
        h.check(roominfo(xml) is None, "no muc#roominfo (description, "
                "subject, occupants) for %s" % who.boundjid.bare)
        tells_nothing(who, "disco#info", xml)
        for node in ("x-roomuser-item", None):
            xml = await answer(query(who, S["room"], NS_ITEMS
                                     if node is None else NS_INFO, node=node))
            tells_nothing(who, "disco node %s" % node, xml)
    for member in (alice, tom):
        xml = await answer(query(member, S["room"], NS_INFO))
        ident = xml.find("{%s}query/{%s}identity" % (NS_INFO, NS_INFO))
        h.check("Alice Liddell" in (ident.get("name") or ""),
                "a member sees the room's name: %s" % tostring(xml))
        form, _ = h.parse_form(roominfo(xml))
        h.check(form.get("muc#roominfo_description") ==
                "The toner smells of burnt toast", "and its description")
        h.check(form.get("muc#roominfo_occupants") == "2",
                "and the occupants: %r" % form)


async def test_service_items_list_no_sessions(env):
    _, tom, attackers = await alice_session(env)
    for who in attackers + [tom]:
        xml = await answer(query(who, h.COMPONENT, NS_ITEMS))
        h.check(xml.get("type") == "result", "service disco#items answered")
        jids = [i.get("jid") or "" for i in
                xml.findall("{%s}query/{%s}item" % (NS_ITEMS, NS_ITEMS))]
        h.check(not [j for j in jids if j.startswith("chat-")],
                "no session rooms listed for %s: %r" %
                (who.boundjid.bare, jids))


async def test_other_read_paths_refused(env):
    _, _, attackers = await alice_session(env)
    nick_jid = "%s/Alice Liddell" % S["room"]
    for who in attackers:
        cond, text = await cl.join_error(who, S["room"], "x")
        h.check(cond == "registration-required", "join refused: %s" % cond)
        h.check(len(text or "") > 10, "with a text")
        for iq in (query(who, S["room"], NS_MAM, "set"),
                   query(who, S["room"], "http://jabber.org/protocol/muc#admin"),
                   query(who, S["room"], "http://jabber.org/protocol/muc#owner"),
                   query(who, nick_jid, NS_INFO)):
            xml = await answer(iq)
            h.check(xml.get("type") == "error", "refused: %s" % tostring(xml))
            tells_nothing(who, "a query", xml)
        for to in (S["room"], nick_jid):
            iq = who.make_iq_get(ito=to)
            ET.SubElement(iq.xml, "{vcard-temp}vCard")
            xml = await answer(iq)
            h.check(xml.get("type") == "error", "no vCard from %s" % to)
            tells_nothing(who, "a vCard", xml)


async def test_presence_probe_tells_nothing(env):
    _, _, attackers = await alice_session(env)
    for who in attackers:
        mark = cl.Mark(who)
        who.send_presence(pto=S["room"], ptype="probe")
        who.send_presence(pto="%s/Alice Liddell" % S["room"], ptype="probe")
        # a ping to the room after the probes: its answer comes after
        # anything the probes brought
        iq = who.make_iq_get(ito=S["room"])
        ET.SubElement(iq.xml, "{%s}ping" % NS_PING)
        await answer(iq)
        for p in mark.presences():
            h.check(p["from"].bare != S["room"] or p["type"] == "error" or
                    p["type"] == "unavailable", "no presence of the room "
                    "for %s: %s" % (who.boundjid.bare, p))
            tells_nothing(who, "a probe", p.xml)


async def test_queue_room_for_techs_only(env):
    _, tom, attackers = await alice_session(env)
    for who in attackers:
        xml = await answer(query(who, QUEUE, NS_INFO))
        ident = xml.find("{%s}query/{%s}identity" % (NS_INFO, NS_INFO))
        h.check(ident is not None and ident.get("name") is None and
                roominfo(xml) is None,
                "the queue room tells %s nothing: %s" %
                (who.boundjid.bare, tostring(xml)))
        cond, _ = await cl.join_error(who, QUEUE, "x")
        h.check(cond == "registration-required", "no queue for contacts")
    xml = await answer(query(tom, QUEUE, NS_INFO))
    h.check(roominfo(xml) is not None, "a tech gets the queue's info")


if __name__ == "__main__":
    cl.main(None, [test_room_info_only_for_members,
                   test_service_items_list_no_sessions,
                   test_other_read_paths_refused,
                   test_presence_probe_tells_nothing,
                   test_queue_room_for_techs_only])
