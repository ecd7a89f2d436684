"""Push-chat (SPEC §3) through a real server, chatdesk and slixmpp.

A tech pushes a chat to the contact of an open ticket: refused with
<not-acceptable/> naming the contact's presence unless that contact is
Online, <forbidden/> when chat is off for the contact, refused for a closed
ticket or one that does not exist; otherwise the contact gets a XEP-0249
and a mediated XEP-0045 invitation, joins, and they chat.
Prints one line per test and "N passed, M failed" last; exits non-zero on
any failure.
"""
# databases: sqlite, postgresql

import time

from e2e import harness as h
from e2e import chatlib as cl
from e2e.chatlib import jid


async def create_ticket(tech, contact, summary):
    r = await tech.command("create-ticket", {"contact": jid(contact),
                                             "summary": summary})
    h.check(r.status == "completed", "create-ticket completed")
    return r.fields["ticket"]


async def test_refused_unless_online(env):
    tom = await cl.login(env, "tom")
    ticket = await create_ticket(tom, "alice", "Monitor flickers")
    cond, text = await cl.error_of(tom.command("push-chat",
                                               {"ticket": ticket}))
    h.check(cond == "not-acceptable" and "Offline" in text,
            "contact Offline: not-acceptable naming Offline, got %s %r" %
            (cond, text))
    alice = await cl.login(env, "alice", show="away")
    cond, text = await cl.error_of(tom.command("push-chat",
                                               {"ticket": ticket}))
    h.check(cond == "not-acceptable" and "Away" in text,
            "contact Away: not-acceptable naming Away, got %s %r" %
            (cond, text))
    alice.send_presence(pshow="xa")  # reaches chatdesk before the iq
    cond, text = await cl.error_of(tom.command("push-chat",
                                               {"ticket": ticket}))
    h.check(cond == "not-acceptable" and "Away" in text,
            "contact xa: still Away, got %s %r" % (cond, text))
    h.check(cl.db_rows(env, "SELECT count(*) FROM sessions WHERE "
                       "ticket_id = ?", (int(ticket),))[0][0] == 0,
            "no session created by a refusal")


async def test_refused_chat_off_closed_unknown(env):
    tom = await cl.login(env, "tom")
    await cl.login(env, "dave")
    ticket = await create_ticket(tom, "dave", "No chat for me")
    cond, text = await cl.error_of(tom.command("push-chat",
                                               {"ticket": ticket}))
    h.check(cond == "forbidden" and "disabled" in text,
            "chat off for the contact: forbidden + text, got %s %r" %
            (cond, text))
    await cl.login(env, "bob")
    ticket = await create_ticket(tom, "bob", "Already solved")
    env_close_ticket(env, ticket)
    cond, text = await cl.error_of(tom.command("push-chat",
                                               {"ticket": ticket}))
    h.check(cond == "not-acceptable" and "closed" in text,
            "closed ticket refused naming it, got %s %r" % (cond, text))
    cond, text = await cl.error_of(tom.command("push-chat",
                                               {"ticket": "99999"}))
    h.check(cond == "item-not-found" and "99999" in text,
            "unknown ticket: item-not-found, got %s %r" % (cond, text))
    cond, text = await cl.error_of(tom.command("push-chat",
                                               {"ticket": "abc"}))
    h.check(cond == "bad-request" and "ticket" in text,
            "bad ticket field: bad-request, got %s %r" % (cond, text))
    alice = await cl.login(env, "alice")
    cond, _ = await cl.error_of(alice.command("push-chat",
                                              {"ticket": ticket}))
    h.check(cond == "forbidden", "a contact may not push-chat: %s" % cond)


def env_close_ticket(env, ticket):
    """Close a ticket in the store, as a PSA would (no command does)."""
    cl.db_write(env, "UPDATE tickets SET status = 'closed', closed = ? "
                "WHERE id = ?", (int(time.time()), int(ticket)))


async def test_push_chat_and_talk(env):
    tom = await cl.login(env, "tom")
    alice = await cl.login(env, "alice")
    ticket = await create_ticket(tom, "alice", "New laptop setup")
    ma = cl.Mark(alice)
    r = await tom.command("push-chat", {"ticket": ticket})
    h.check(r.status == "completed" and r.form_type == "result",
            "push-chat completes with a result")
    room, session = r.fields.get("room"), r.fields.get("session")
    h.check(room == "chat-%s@%s" % (session, h.COMPONENT) and
            r.fields.get("ticket") == ticket,
            "result gives room, session, ticket: %r" % r.fields)
    h.check(cl.session_state(env, session) == "active",
            "a pushed session is active at once")
    direct = await cl.wait_message(alice, cl.is_invite_to(room), ma,
                                   what="XEP-0249 invitation")
    h.check(direct["from"] == h.COMPONENT and ticket in
            cl.invitation(direct).get("reason", ""),
            "direct invitation from the component naming the ticket: %s" %
            direct)
    mediated = await cl.wait_message(
        alice, lambda m: m["from"] == room and cl.mediated_invite(m)
        is not None, ma, what="mediated invitation")
    inv = cl.mediated_invite(mediated)
    h.check(inv.get("from", "").startswith(jid("tom")),
            "mediated invitation in the tech's name: %s" % mediated)

    pres, subject, _, _ = await cl.join(alice, room, "alice")
    h.check(cl.muc_items(pres)[0] == "participant", "contact participant")
    h.check(subject["subject"] == "New laptop setup",
            "subject is the ticket summary: %r" % subject["subject"])
    anick = pres["from"].resource
    pres, _, _, _ = await cl.join(tom, room, "tom")
    h.check(cl.muc_items(pres)[0] == "moderator", "tech moderator")
    tnick = pres["from"].resource
    ma, mt = cl.Mark(alice), cl.Mark(tom)
    cl.say(tom, room, "Hi Alice, ready for the laptop?")
    got = await cl.wait_message(alice, cl.groupchat_from(room, tnick,
                                                         "laptop"), ma)
    h.check(cl.stanza_id(got, room), "stanza-id on the tech's message")
    cl.say(alice, room, "Yes, go ahead")
    await cl.wait_message(tom, cl.groupchat_from(room, anick, "go ahead"),
                          mt)
    r = await tom.command("end-session", {"session": session,
                                          "note": "Laptop done"})
    h.check(r.status == "completed", "end-session completed")
    await cl.wait_state(env, session, "ended")
    tr = cl.ticket_notes(env, ticket, "transcript")
    h.check(len(tr) == 1 and tr[0][2].index("laptop?") <
            tr[0][2].index("go ahead"), "transcript in order: %r" % tr)


if __name__ == "__main__":
    cl.main(None, [test_refused_unless_online,
                   test_refused_chat_off_closed_unknown,
                   test_push_chat_and_talk])
