"""Chat sessions (SPEC §3) through a real server, chatdesk and slixmpp.

The directory (chatlib: Acme, Globex without pre-ticket chat, Initech
without callbacks; contacts alice, bob, carl, dave with chat off, ivan;
techs tom, tina, amy, ben) is written before chatdesk starts; eve is a
stranger. Timeouts: answer 2 s, idle 3 s.

One test per rule: the pre-ticket chat from request to transcript,
refusals of start-chat, a tech coming Online while a session waits,
end-chat rules (waiting, office hours, idle), abandonment by leaving and
by going Offline, callbacks, and a restart of chatdesk with a live session.
Prints one line per test and "N passed, M failed" last; exits non-zero on
any failure.
"""
# databases: sqlite, postgresql
# pg-servers: prosody, ejabberd

import asyncio
import time

from e2e import harness as h
from e2e import chatlib as cl
from e2e.chatlib import jid

QUEUE = "queue@%s" % h.COMPONENT


async def staff(env, away=True):
    """tom and tina Online (tina in the queue room), amy Away, ben Busy."""
    tom = await cl.login(env, "tom")
    tina = await cl.login(env, "tina")
    out = {"tom": tom, "tina": tina}
    if away:
        out["amy"] = await cl.login(env, "amy", show="away")
        out["ben"] = await cl.login(env, "ben", show="dnd")
    await cl.join(tina, QUEUE, "tina")
    return out


async def test_pre_ticket_chat(env):
    s = await staff(env)
    tom, tina = s["tom"], s["tina"]
    alice = await cl.login(env, "alice")
    bob = await cl.login(env, "bob")
    marks = {n: cl.Mark(c) for n, c in s.items()}

    f = await cl.start_chat(alice, "Printer on fire")
    room, session, ticket = f.get("room"), f.get("session"), f.get("ticket")
    h.check(room == "chat-%s@%s" % (session, h.COMPONENT) and
            ticket and ticket.isdigit(),
            "result fields room/session/ticket: %r" % f)
    h.check(cl.session_state(env, session) == "waiting", "session waiting")

    for name in ("tom", "tina"):
        inv = await cl.wait_message(s[name], cl.is_invite_to(room),
                                    marks[name], what="XEP-0249 invitation")
        text = cl.body(inv)
        for part in ("Acme", "Alice Liddell", "Printer on fire"):
            h.check(part in text, "invitation body names %r: %r" %
                    (part, text))
        h.check(inv["from"] == h.COMPONENT, "invitation from the component")
    for name in ("amy", "ben"):
        await cl.no_message(s[name], cl.is_invite_to(room), marks[name],
                            wait=0.3, what="invitation (not Online)")
    posted = await cl.wait_message(
        tina, cl.groupchat_from(QUEUE, None, room), marks["tina"],
        what="the request in the queue room")
    h.check("Printer on fire" in cl.body(posted) and
            "Alice Liddell" in cl.body(posted),
            "queue post names contact and description: %r" %
            cl.body(posted))

    pres, subject, _, _ = await cl.join(alice, room, "alice")
    role, affil, _, codes = cl.muc_items(pres)
    h.check(110 in codes, "self-presence with status 110: %r" % codes)
    h.check(role == "participant" and affil == "member",
            "contact is a participant member: %s/%s" % (role, affil))
    h.check(subject["subject"] == "Printer on fire",
            "subject is the ticket summary: %r" % subject["subject"])
    alice_nick = pres["from"].resource
    rows = cl.db_rows(env, "SELECT t.summary, c.jid, co.name FROM tickets t "
                      "JOIN contacts c ON c.id = t.contact_id JOIN "
                      "companies co ON co.id = t.company_id WHERE t.id = ?",
                      (int(ticket),))
    h.check(rows == [("Printer on fire", jid("alice"), "Acme")],
            "the ticket made from the description: %r" % rows)
    ma = cl.Mark(alice)
    cl.say(alice, room, "Anyone there?", mid="w1")
    await cl.wait_message(alice, lambda m: m["id"] == "w1" and
                          cl.stanza_id(m, room), ma,
                          what="a message while waiting is stored")

    mt = cl.Mark(tina)
    pres, _, _, early = await cl.join(tom, room, "tom")
    said = [cl.body(m) for m in early
            if m["from"].resource not in ("", "Helpdesk")]  # not notices
    h.check(said == ["Anyone there?"],
            "the tech who answers sees what was said while waiting: %r" %
            said)
    h.check(cl.muc_items(pres)[0] == "moderator", "tech is a moderator")
    tom_nick = pres["from"].resource
    await cl.wait_state(env, session, "active")
    taken = await cl.wait_message(
        tina, lambda m: m["type"] != "groupchat" and "took" in cl.body(m)
        and room in cl.body(m), mt, what="taken notice")
    h.check("Tom Tech" in cl.body(taken), "taken names the tech: %r" %
            cl.body(taken))
    await cl.wait_message(tina, cl.groupchat_from(QUEUE, None, "took"), mt,
                          what="take-over in the queue room")

    ma, mt = cl.Mark(alice), cl.Mark(tom)
    cl.say(alice, room, "Hello, my printer is on fire", mid="a1")
    echo = await cl.wait_message(
        alice, lambda m: cl.groupchat_from(room, alice_nick)(m) and
        m["id"] == "a1", ma, what="echo of own message")
    sid = cl.stanza_id(echo, room)
    h.check(sid, "the echo carries a stanza-id by the room: %s" % echo)
    got = await cl.wait_message(tom, cl.groupchat_from(
        room, alice_nick, "on fire"), mt, what="alice's message")
    h.check(cl.stanza_id(got, room) == sid, "same stanza-id for the tech")
    cl.say(tom, room, "Stand back, I am coming", mid="t1")
    echo = await cl.wait_message(tom, lambda m: m["id"] == "t1" and
                                 m["type"] == "groupchat", mt,
                                 what="echo to the tech")
    h.check(cl.stanza_id(echo, room), "tech echo has a stanza-id")
    await cl.wait_message(alice, cl.groupchat_from(room, tom_nick,
                                                   "Stand back"), ma)

    mt = cl.Mark(tom)
    cl.send_state(alice, room, "composing")
    await cl.wait_message(
        tom, lambda m: m.xml.find("{%s}composing" % cl.NS_CHATSTATES)
        is not None, mt, what="composing chat state")

    _, _, _, history = await cl.join(tina, room, "tina")
    bodies = [cl.body(m) for m in history]
    h.check(any("on fire" in b for b in bodies) and
            any("Stand back" in b for b in bodies),
            "late joiner gets the history: %r" % bodies)
    h.check(bodies.index(next(b for b in bodies if "on fire" in b)) <
            bodies.index(next(b for b in bodies if "Stand back" in b)),
            "history in order: %r" % bodies)
    for m in history:
        h.check(cl.delay_stamp(m) and cl.stanza_id(m, room),
                "history with delay and stanza-id: %s" % m)

    cond, text = await cl.join_error(bob, room, "bob")
    h.check(cond == "registration-required" and text,
            "non-member gets registration-required with text: %s %r" %
            (cond, text))
    eve = await cl.login(env, "eve", known=False)
    cond, text = await cl.join_error(eve, room, "eve")
    h.check(cond == "registration-required" and text,
            "a stranger gets registration-required: %s %r" % (cond, text))
    cond, _ = await cl.error_of(bob.command("end-chat",
                                            {"session": session}))
    h.check(cond == "forbidden", "another contact may not end it: %s" %
            cond)
    cond, _ = await cl.error_of(alice.command("end-session",
                                              {"session": session}))
    h.check(cond == "forbidden", "a contact may not end-session: %s" % cond)

    ma = cl.Mark(alice)
    r = await tom.command("end-session", {"session": session})
    h.check(r.status == "completed", "end-session completed")
    await cl.wait_state(env, session, "ended")
    notice = await cl.wait_message(alice, cl.groupchat_from(room, None),
                                   ma, what="end notice from the room")
    h.check("ended" in cl.body(notice), "notice says ended: %r" %
            cl.body(notice))
    await cl.wait_presence_stanza(
        alice, lambda p: p["from"].bare == room and
        cl.muc_items(p)[0] == "visitor" and
        p["from"].resource == alice_nick, ma,
        what="contact becomes a visitor")
    ma = cl.Mark(alice)
    cl.say(alice, room, "wait, one more thing")
    await cl.wait_message(alice, cl.error_message(room, "forbidden"), ma,
                          what="forbidden for a visitor")

    notes = cl.ticket_notes(env, ticket, "transcript")
    h.check(len(notes) == 1, "one transcript note: %r" % notes)
    lines = notes[0][2].split("\n")
    i_alice = next(i for i, l in enumerate(lines) if "on fire" in l)
    i_tom = next(i for i, l in enumerate(lines) if "Stand back" in l)
    h.check(i_alice < i_tom, "transcript in order: %r" % lines)
    h.check("%s: Hello, my printer is on fire" % alice_nick in lines[i_alice]
            and "%s: Stand back, I am coming" % tom_nick in lines[i_tom],
            "transcript lines with nick and body: %r" % lines)
    h.check("ended" in lines[-1] and "one more thing" not in notes[0][2],
            "the end notice closes the transcript: %r" % lines)


async def waiting_chat(env, contact, description, join=True):
    """start-chat by contact (joining the room unless join is False);
    returns (fields, room, session, ticket, nick)."""
    f = await cl.start_chat(contact, description)
    room, session = f["room"], f["session"]
    nick = None
    if join:
        pres, _, _, _ = await cl.join(contact, room, "me")
        nick = pres["from"].resource
    return f, room, session, f["ticket"], nick


def ticket_count(env):
    return cl.db_rows(env, "SELECT count(*) FROM tickets")[0][0]


async def test_start_chat_refused(env):
    before = ticket_count(env)
    dave = await cl.login(env, "dave")
    cond, text = await cl.error_of(
        dave.command("start-chat", {"description": "help"}))
    h.check(cond == "forbidden" and "disabled for your account" in text,
            "chat off for the contact: forbidden + text, got %s %r" %
            (cond, text))
    # refused already on the plain execute, before any form is shown
    cond, text = await cl.error_of(dave.command("start-chat"))
    h.check(cond == "forbidden" and "disabled for your account" in text,
            "chat off: refused before the form, got %s %r" % (cond, text))
    carl = await cl.login(env, "carl")
    cond, text = await cl.error_of(
        carl.command("start-chat", {"description": "help"}))
    h.check(cond == "forbidden" and "without a ticket" in text and
            "company" in text,
            "pre-ticket off for the company: forbidden + text, got %s %r"
            % (cond, text))
    eve = await cl.login(env, "eve", known=False)
    cond, text = await cl.error_of(
        eve.command("start-chat", {"description": "help"}))
    h.check(cond == "not-authorized" and text,
            "a stranger: not-authorized + text, got %s %r" % (cond, text))
    alice = await cl.login(env, "alice")
    form = await alice.command("start-chat")
    h.check(form.status == "executing" and "description" in form.fields,
            "a permitted contact gets the form, got %s" % form.status)
    cond, text = await cl.error_of(
        alice.command("start-chat", {"description": "  "}))
    h.check(cond == "bad-request" and "description" in text,
            "empty description: bad-request naming the field, got %s %r" %
            (cond, text))
    env.ctl("set", "pre-ticket", "off")
    try:
        cond, text = await cl.error_of(
            alice.command("start-chat", {"description": "help"}))
    finally:
        env.ctl("unset", "pre_ticket")
    h.check(cond == "forbidden" and "not enabled" in text,
            "pre-ticket off globally: forbidden + text, got %s %r" %
            (cond, text))
    h.check(ticket_count(env) == before, "no ticket created by refusals")


async def test_tech_online_later_gets_invitation(env):
    alice = await cl.login(env, "alice")
    _, room, session, _, _ = await waiting_chat(env, alice, "VPN is down")
    amy = await cl.login(env, "amy", show="away")
    tom = await cl.login(env, "tom")
    await cl.wait_message(tom, cl.is_invite_to(room),
                          what="invitation on coming Online")
    await cl.no_message(amy, cl.is_invite_to(room), wait=0.3,
                        what="invitation while Away")
    mark, since = cl.Mark(amy), cl.log_mark(env)
    amy.send_presence()
    await cl.wait_presence(env, "amy", "Online", since)
    inv = await cl.wait_message(amy, cl.is_invite_to(room), mark,
                                what="invitation on Away -> Online")
    h.check("VPN is down" in cl.body(inv), "body names the description")
    h.check(cl.session_state(env, session) == "waiting", "still waiting")
    r = await tom.command("end-session", {"session": session})
    h.check(r.status == "completed", "the tech ends the waiting request")
    await cl.wait_state(env, session, "ended")


async def test_end_chat_while_waiting(env):
    s = await staff(env, away=False)
    alice = await cl.login(env, "alice")
    t0 = time.monotonic()
    _, room, session, ticket, _ = await waiting_chat(env, alice, "Slow PC")
    cond, text = await cl.error_of(
        alice.command("end-chat", {"session": session}))
    h.check(cond == "not-allowed" and "%d seconds" % cl.ANSWER_TIMEOUT
            in text, "end-chat too early: not-allowed saying why, got %s %r"
            % (cond, text))
    await asyncio.sleep(max(0, cl.ANSWER_TIMEOUT + 1.1 -
                            (time.monotonic() - t0)))
    mq, ma = cl.Mark(s["tina"]), cl.Mark(alice)
    r = await alice.command("end-chat", {"session": session})
    h.check(r.status == "completed", "end-chat allowed after the timeout")
    await cl.wait_state(env, session, "abandoned")
    await cl.wait_message(s["tina"], cl.groupchat_from(QUEUE, None,
                                                       "abandoned"), mq,
                          what="abandonment in the queue room")
    await cl.wait_message(alice, cl.groupchat_from(room, None), ma,
                          what="a notice in the room")
    h.check(len(cl.ticket_notes(env, ticket, "transcript")) == 1,
            "the transcript is in the ticket")
    cond, _ = await cl.error_of(alice.command("end-chat",
                                              {"session": session}))
    h.check(cond == "not-allowed", "ending twice: not-allowed, got %s" %
            cond)


async def test_end_chat_outside_office_hours(env):
    alice = await cl.login(env, "alice")
    cl.close_office(env, "holiday")
    try:
        _, _, session, _, _ = await waiting_chat(env, alice, "Holiday woes")
        r = await alice.command("end-chat", {"session": session})
        h.check(r.status == "completed",
                "end-chat allowed at once outside office hours")
        await cl.wait_state(env, session, "abandoned")
    finally:
        cl.open_office(env)
    _, _, session, _, _ = await waiting_chat(env, alice, "Back at work")
    cond, _ = await cl.error_of(alice.command("end-chat",
                                              {"session": session}))
    h.check(cond == "not-allowed", "in office hours again: not-allowed")


async def test_end_chat_when_idle(env):
    tom = await cl.login(env, "tom")
    alice = await cl.login(env, "alice")
    _, room, session, _, nick = await waiting_chat(env, alice, "Mail bounce")
    await cl.join(tom, room, "tom")
    await cl.wait_state(env, session, "active")
    ma = cl.Mark(alice)
    cl.say(alice, room, "Are you there?", mid="idle1")
    await cl.wait_message(alice, lambda m: m["id"] == "idle1", ma)
    t0 = time.monotonic()
    cond, text = await cl.error_of(
        alice.command("end-chat", {"session": session}))
    h.check(cond == "not-allowed" and "%d seconds" % cl.IDLE_TIMEOUT in text,
            "active chat: not-allowed saying why, got %s %r" % (cond, text))
    await asyncio.sleep(max(0, cl.IDLE_TIMEOUT + 1.1 -
                            (time.monotonic() - t0)))
    ma = cl.Mark(alice)
    r = await alice.command("end-chat", {"session": session})
    h.check(r.status == "completed", "end-chat after idle_timeout")
    await cl.wait_state(env, session, "ended")
    await cl.wait_presence_stanza(
        alice, lambda p: p["from"].bare == room and
        cl.muc_items(p)[0] == "visitor", ma, what="contact loses voice")


async def test_abandon_by_leaving(env):
    s = await staff(env, away=False)
    alice = await cl.login(env, "alice")
    _, room, session, ticket, nick = await waiting_chat(env, alice,
                                                        "Lost password")
    mq = cl.Mark(s["tina"])
    cl.leave(alice, room, nick)
    await cl.wait_state(env, session, "abandoned")
    post = await cl.wait_message(s["tina"], cl.groupchat_from(
        QUEUE, None, "abandoned"), mq, what="abandonment in the queue")
    h.check(room in cl.body(post) and "Alice Liddell" in cl.body(post),
            "the queue post names room and contact: %r" % cl.body(post))
    notes = cl.ticket_notes(env, ticket, "transcript")
    h.check(len(notes) == 1 and "left" in notes[0][2],
            "transcript with the notice: %r" % notes)
    # a tech following up: joining does not revive it, end-session closes
    await cl.join(s["tom"], room, "tom")
    await asyncio.sleep(0.2)
    h.check(cl.session_state(env, session) == "abandoned",
            "a tech joining later leaves it abandoned")
    r = await s["tom"].command("end-session", {
        "session": session, "note": "Reset the password by phone."})
    h.check(r.status == "completed", "end-session on an abandoned session")
    await cl.wait_state(env, session, "closed")
    notes = cl.ticket_notes(env, ticket, "closing_note")
    h.check(notes and notes[-1][2] == "Reset the password by phone.",
            "closing note on the ticket: %r" % notes)
    cond, _ = await cl.error_of(s["tom"].command("end-session",
                                                 {"session": session}))
    h.check(cond == "not-allowed", "closing twice: not-allowed, got %s" %
            cond)


async def test_abandon_by_going_offline(env):
    s = await staff(env, away=False)
    alice = await cl.login(env, "alice", resource="portal")
    _, room, session, _, _ = await waiting_chat(env, alice, "Screen black",
                                                join=False)
    mq, since = cl.Mark(s["tina"]), cl.log_mark(env)
    alice.disconnect()
    await cl.wait_presence(env, "alice", "Offline", since)
    await cl.wait_state(env, session, "abandoned")
    await cl.wait_message(s["tina"], cl.groupchat_from(QUEUE, None, room),
                          mq, what="abandonment in the queue")


async def test_callback(env):
    s = await staff(env, away=False)
    ivan = await cl.login(env, "ivan")
    _, _, isess, _, _ = await waiting_chat(env, ivan, "No callbacks here")
    cond, text = await cl.error_of(ivan.command(
        "callback", {"session": isess, "phone": "+1 555 0104"}))
    h.check(cond == "forbidden" and "Callbacks" in text,
            "callbacks off for the company: forbidden + text, got %s %r" %
            (cond, text))

    alice = await cl.login(env, "alice")
    t0 = time.monotonic()
    _, room, session, ticket, _ = await waiting_chat(env, alice,
                                                     "Call me maybe")
    cond, text = await cl.error_of(alice.command(
        "callback", {"session": session, "phone": "+1 555 0100"}))
    h.check(cond == "not-allowed" and "%d seconds" % cl.ANSWER_TIMEOUT
            in text, "callback too early: not-allowed, got %s %r" %
            (cond, text))
    await asyncio.sleep(max(0, cl.ANSWER_TIMEOUT + 1.1 -
                            (time.monotonic() - t0)))
    cond, text = await cl.error_of(alice.command(
        "callback", {"session": session, "phone": "call me"}))
    h.check(cond == "bad-request" and "phone number" in text and
            "for example" in text,
            "bad phone: bad-request saying what to enter, got %s %r" %
            (cond, text))
    mq, ma = cl.Mark(s["tina"]), cl.Mark(alice)
    r = await alice.command("callback", {
        "session": session, "phone": "+44 20 7946 0958",
        "note": "After 3pm please"})
    h.check(r.status == "completed", "callback accepted")
    await cl.wait_state(env, session, "callback")
    notice = await cl.wait_message(alice, cl.groupchat_from(
        room, None, "+44 20 7946 0958"), ma, what="callback notice")
    h.check("After 3pm please" in cl.body(notice),
            "the notice has the note: %r" % cl.body(notice))
    post = await cl.wait_message(s["tina"], cl.groupchat_from(
        QUEUE, None, "callback"), mq, what="callback in the queue")
    h.check("+44 20 7946 0958" in cl.body(post) and room in cl.body(post),
            "queue post with phone and room: %r" % cl.body(post))
    tr = cl.ticket_notes(env, ticket, "transcript")
    h.check(len(tr) == 1 and "+44 20 7946 0958" in tr[0][2] and
            "After 3pm please" in tr[0][2],
            "phone and note in the transcript: %r" % tr)
    h.check(cl.ticket_notes(env, ticket, "callback"),
            "a callback note on the ticket")
    r = await s["tom"].command("end-session", {
        "session": session, "note": "Called back, fixed."})
    h.check(r.status == "completed", "the tech closes the callback")
    await cl.wait_state(env, session, "closed")
    notes = cl.ticket_notes(env, ticket, "closing_note")
    h.check(notes and notes[-1][2] == "Called back, fixed." and
            notes[-1][1] == jid("tom"), "closing note by tom: %r" % notes)
    r = await s["tom"].command("end-session", {"session": isess})
    h.check(r.status == "completed", "cleanup of ivan's request")

    cl.close_office(env, "no hours")
    try:
        _, _, late, _, _ = await waiting_chat(env, alice, "Night shift")
        r = await alice.command("callback", {"session": late,
                                             "phone": "(555) 0100"})
        h.check(r.status == "completed",
                "callback at once outside office hours")
        await cl.wait_state(env, late, "callback")
    finally:
        cl.open_office(env)


async def test_state_survives_restart(env):
    tom = await cl.login(env, "tom")
    alice = await cl.login(env, "alice")
    _, room, session, ticket, nick = await waiting_chat(env, alice,
                                                        "Restart me")
    _, _, _, _ = await cl.join(tom, room, "tom")
    await cl.wait_state(env, session, "active")
    mt = cl.Mark(tom)
    cl.say(alice, room, "before the restart", mid="r1")
    before = await cl.wait_message(tom, cl.groupchat_from(
        room, nick, "before the restart"), mt)
    sid = cl.stanza_id(before, room)

    bob = await cl.login(env, "bob")
    _, _, bsess, _, _ = await waiting_chat(env, bob, "Gone while down")

    ma = cl.Mark(alice)
    h.check(env.chatdesk.stop() == 0, "chatdesk stops cleanly on SIGTERM")
    bob.disconnect()  # goes Offline while chatdesk is down
    gone = await cl.wait_presence_stanza(
        alice, lambda p: p["from"].bare == room and
        p["type"] == "unavailable", ma, what="room shutdown presence")
    h.check(332 in cl.muc_items(gone)[3], "status 332 on shutdown")
    count = env.chatdesk.online_count()
    env.chatdesk.start(wait_online=False)
    env.chatdesk.wait_online(count + 1)
    h.check(cl.session_state(env, session) == "active", "still active")
    # Offline by the probe's answer, or when the grace after connecting ends
    await cl.wait_state(env, bsess, "abandoned",
                        timeout=cl.PRESENCE_GRACE + 3)

    pres, subject, _, history = await cl.join(alice, room, "me")
    h.check(cl.muc_items(pres)[0] == "participant",
            "the contact is admitted again as a participant")
    h.check(subject["subject"] == "Restart me", "subject back")
    ids = [cl.stanza_id(m, room) for m in history]
    h.check(sid in ids, "history has the message from before: %r" % ids)
    pres, _, _, _ = await cl.join(tom, room, "tom")
    h.check(cl.muc_items(pres)[0] == "moderator", "tech moderator again")
    mt = cl.Mark(tom)
    cl.say(alice, room, "after the restart", mid="r2")
    after = await cl.wait_message(tom, cl.groupchat_from(
        room, nick, "after the restart"), mt)
    h.check(cl.stanza_id(after, room) not in (None, sid),
            "a new stanza-id after the restart")
    r = await tom.command("end-session", {"session": session})
    h.check(r.status == "completed", "ended after the restart")
    tr = cl.ticket_notes(env, ticket, "transcript")[0][2]
    h.check(tr.index("before the restart") < tr.index("after the restart"),
            "one transcript across the restart: %r" % tr)


if __name__ == "__main__":
    cl.main(None, [test_pre_ticket_chat, test_start_chat_refused,
                   test_tech_online_later_gets_invitation,
                   test_end_chat_while_waiting,
                   test_end_chat_outside_office_hours,
                   test_end_chat_when_idle, test_abandon_by_leaving,
                   test_abandon_by_going_offline, test_callback,
                   test_state_survives_restart])
