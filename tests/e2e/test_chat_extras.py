"""What helpdesk chat users ask for beyond the seed (SPEC §9, issue 19),
through a real server, chatdesk and slixmpp clients: a message re-sent
with the same origin-id is stored once, the disco#info form a portal
reads, the queue position, the taken notice, transfer, canned replies,
rating and the report, leave a message, the audit trail.
chatdesk runs with bench/slowsync.so preloaded when the build has it
(every fsync 10 ms longer), so a resend sent right after its first copy
finds that copy still on its way to the disk (the commit writer's batch in
flight).
Prints one line per test and "N passed, M failed" last; exits non-zero on
any failure.
"""
# databases: sqlite, postgresql

import os
import re
import subprocess

from slixmpp.xmlstream import ET

from e2e import harness as h
from e2e import chatlib as cl
from e2e.chatlib import jid

QUEUE = "queue@%s" % h.COMPONENT
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DATA = "jabber:x:data"
SLOWSYNC = os.path.join(h.BUILD_DIR, "bench", "slowsync.so")
if os.path.exists(SLOWSYNC):
    os.environ["CHATDESK_PRELOAD"] = SLOWSYNC
    os.environ["SLOWSYNC_MS"] = "10"


def notice(room, text):
    """A room notice containing text: from the room's Helpdesk occupant
    (SPEC §3) or, before that lands, from the bare room JID."""
    def pred(m):
        return (m["type"] == "groupchat" and m["from"].bare == room and
                m["from"].resource in ("", "Helpdesk") and
                text in cl.body(m))
    return pred


def say_with_origin(client, room, text, mid, origin):
    msg = client.make_message(mto=room, mbody=text, mtype="groupchat")
    msg["id"] = mid
    ET.SubElement(msg.xml, "{%s}origin-id" % cl.NS_SID, {"id": origin})
    msg.send()


async def waiting_room(env, contact, description):
    """contact starts a chat and joins its room: (fields, room, nick)."""
    f = await cl.start_chat(contact, description)
    room = f["room"]
    pres, _, _, _ = await cl.join(contact, room, "contact")
    return f, room, pres["from"].resource


async def test_leave_a_message(env):
    """No tech Online (the first test: nobody logged in yet)."""
    alice = await cl.login(env, "alice")
    r = await alice.command("start-chat", {"description": "Anybody?"})
    h.check(r.status == "completed" and r.fields.get("techs_online") == "0",
            "techs_online 0: %r" % r.fields)
    h.check(any(t == "warn" and "No technician is available" in x
                for t, x in r.notes), "a note saying so: %r" % r.notes)
    rows = cl.db_rows(env, "SELECT summary FROM tickets WHERE id = ?",
                      (int(r.fields["ticket"]),))
    h.check(rows == [("Anybody?",)], "the ticket was created: %r" % rows)
    # Nobody Online: the callback is allowed at once (no answer_timeout).
    cb = await alice.command("callback", {"session": r.fields["session"],
                                          "phone": "+1 555 0100"})
    h.check(cb.status == "completed", "callback at once: %r" % cb.notes)
    tom = await cl.login(env, "tom")
    r2 = await alice.command("start-chat", {"description": "Now?"})
    h.check(r2.fields.get("techs_online") == "1" and
            not any("No technician" in x for _, x in r2.notes),
            "one tech Online, no note: %r %r" % (r2.fields, r2.notes))
    await h.expect_error(alice.command("callback", {
        "session": r2.fields["session"], "phone": "+1 555 0100"}),
        "not-allowed", "once you have waited")
    for f in (r.fields, r2.fields):
        await tom.command("end-session", {"session": f["session"]})


async def test_origin_id_stored_once(env):
    tom = await cl.login(env, "tom")
    alice = await cl.login(env, "alice")
    f, room, anick = await waiting_room(env, alice, "Resend test")
    await cl.join(tom, room, "tom")
    await cl.wait_state(env, f["session"], "active")
    ma, mt = cl.Mark(alice), cl.Mark(tom)
    say_with_origin(alice, room, "Only once please", "r1", "orig-1")
    first = await cl.wait_message(alice, lambda m: m["id"] == "r1", ma,
                                  what="the first reflection")
    sid = cl.stanza_id(first, room)
    await cl.wait_message(tom, cl.groupchat_from(room, anick, "Only once"),
                          mt, what="the tech's copy")
    # the client reconnected and sends what it did not see reflected again
    ma = cl.Mark(alice)
    say_with_origin(alice, room, "Only once please", "r2", "orig-1")
    again = await cl.wait_message(alice, lambda m: m["id"] == "r2", ma,
                                  what="the reflection of the resend")
    h.check(cl.stanza_id(again, room) == sid,
            "the resend is reflected with the stored stanza-id: %s vs %s" %
            (cl.stanza_id(again, room), sid))
    await cl.no_message(tom, cl.groupchat_from(room, anick, "Only once"),
                        cl.Mark(tom), wait=0.5, what="a second copy")
    copies = [m for m in tom.messages[mt.m:]
              if cl.groupchat_from(room, anick, "Only once")(m)]
    h.check(len(copies) == 1, "the tech got one copy: %d" % len(copies))
    rows = cl.db_rows(env, "SELECT count(*) FROM messages WHERE session_id = "
                      "? AND body = 'Only once please'", (int(f["session"]),))
    h.check(rows[0][0] == 1, "stored once: %r" % rows)
    # another origin-id with the same text is a new message
    say_with_origin(alice, room, "Only once please", "r3", "orig-2")
    await cl.wait_message(tom, lambda m: m["id"] == "r3", mt,
                          what="a new origin-id is a new message")
    await tom.command("end-session", {"session": f["session"]})


async def test_origin_id_resend_in_flight(env):
    """The resend leaves right behind its first copy: it reaches chatdesk
    while that copy is still forming or syncing, never yet committed. It
    is still recognised: stored once, reflected to everyone once, and the
    resend answered with the first copy's stanza-id."""
    tom = await cl.login(env, "tom")
    alice = await cl.login(env, "alice")
    f, room, anick = await waiting_room(env, alice, "Resend in flight")
    await cl.join(tom, room, "tom")
    await cl.wait_state(env, f["session"], "active")
    ma, mt = cl.Mark(alice), cl.Mark(tom)
    for i in range(5):
        say_with_origin(alice, room, "Fast resend %d" % i, "f%d" % i,
                        "fast-%d" % i)
        say_with_origin(alice, room, "Fast resend %d" % i, "g%d" % i,
                        "fast-%d" % i)
    for i in range(5):
        first = await cl.wait_message(alice, lambda m, i=i: m["id"] == "f%d" % i,
                                      ma, what="reflection f%d" % i)
        again = await cl.wait_message(alice, lambda m, i=i: m["id"] == "g%d" % i,
                                      ma, what="reflection of resend g%d" % i)
        h.check(cl.stanza_id(first, room) and
                cl.stanza_id(again, room) == cl.stanza_id(first, room),
                "resend %d has the first copy's stanza-id: %s vs %s" %
                (i, cl.stanza_id(again, room), cl.stanza_id(first, room)))
    await cl.no_message(tom, lambda m: m["id"] and m["id"].startswith("g"),
                        mt, wait=0.5, what="a resend's copy at the tech")
    copies = [m for m in tom.messages[mt.m:]
              if cl.groupchat_from(room, anick, "Fast resend")(m)]
    h.check(len(copies) == 5, "the tech got each message once: %d" %
            len(copies))
    rows = cl.db_rows(env, "SELECT count(*), count(DISTINCT origin_id) FROM "
                      "messages WHERE session_id = ? AND body LIKE "
                      "'Fast resend %'", (int(f["session"]),))
    h.check(tuple(rows[0]) == (5, 5), "stored once each: %r" % rows)
    await tom.command("end-session", {"session": f["session"]})


async def test_portal_form_in_disco(env):
    alice = await cl.login(env, "alice")
    info = await alice["xep_0030"].get_info(jid=h.COMPONENT)
    forms = info.xml.findall("{%s}query/{%s}x" % (NS_DISCO_INFO, NS_DATA))
    values = {}
    for x in forms:
        for fl in x.findall("{%s}field" % NS_DATA):
            v = fl.find("{%s}value" % NS_DATA)
            values[fl.get("var")] = v.text if v is not None else None
    h.check(values.get("FORM_TYPE") == "urn:chatdesk:portal",
            "a urn:chatdesk:portal form: %r" % values)
    h.check(values.get("answer_timeout") == str(cl.ANSWER_TIMEOUT) and
            values.get("idle_timeout") == str(cl.IDLE_TIMEOUT) and
            values.get("away_after") == "240",
            "the timeouts and [chat] away_after: %r" % values)


async def test_queue_position_and_taken(env):
    tom = await cl.login(env, "tom")
    alice = await cl.login(env, "alice")
    bob = await cl.login(env, "bob")
    fa = await cl.start_chat(alice, "First in line")
    fb = await cl.start_chat(bob, "Second in line")
    h.check(fa.get("position") == "1" and fb.get("position") == "2",
            "start-chat results carry the position: %r %r" % (fa, fb))
    ma, mb = cl.Mark(alice), cl.Mark(bob)
    await cl.join(bob, fb["room"], "bob")
    await cl.wait_message(bob, notice(fb["room"], "You are number 2 in line"),
                          mb, what="bob's place on joining")
    await cl.join(alice, fa["room"], "alice")
    await cl.wait_message(alice, notice(fa["room"],
                                        "You are number 1 in line"),
                          ma, what="alice's place on joining")
    mb = cl.Mark(bob)
    await cl.join(tom, fa["room"], "tom")
    await cl.wait_message(alice, notice(
        fa["room"], "Tom Tech has joined and will help you."), ma,
        what="the taken notice naming the tech")
    await cl.wait_message(bob, notice(fb["room"], "You are number 1 in line"),
                          mb, what="bob moved up when alice was taken")
    for f in (fa, fb):
        await tom.command("end-session", {"session": f["session"]})


async def test_transfer(env):
    tom = await cl.login(env, "tom")
    tina = await cl.login(env, "tina")
    await cl.login(env, "amy", show="away")
    alice = await cl.login(env, "alice")
    f, room, _ = await waiting_room(env, alice, "Transfer me")
    session = f["session"]
    await cl.join(tom, room, "tom")
    await cl.wait_state(env, session, "active")
    cond, text = await cl.error_of(tom.command(
        "transfer", {"session": session, "to": jid("amy")}))
    h.check(cond == "not-acceptable" and "Away" in text,
            "an Away target: not-acceptable naming Away: %s %r" %
            (cond, text))
    cond, text = await cl.error_of(tom.command(
        "transfer", {"session": session, "to": "nobody@localhost"}))
    h.check(cond == "bad-request" and '"nobody@localhost"' in text,
            "not a tech: bad-request quoting it: %s %r" % (cond, text))
    ma, mt = cl.Mark(alice), cl.Mark(tina)
    r = await tom.command("transfer", {"session": session, "to": jid("tina")})
    h.check(r.status == "completed" and r.fields.get("to") == jid("tina"),
            "transfer completed: %r" % r.fields)
    await cl.wait_message(tina, cl.is_invite_to(room), mt,
                          what="the target's invitation")
    await cl.wait_message(alice, notice(room, "handed this chat over to "
                                        "Tina Tech"), ma,
                          what="the room is told")
    await cl.join(tina, room, "tina")
    ma, mt = cl.Mark(alice), cl.Mark(tom)
    r = await tina.command("transfer", {"session": session, "to": ""})
    h.check(r.status == "completed", "back to the queue completed")
    await cl.wait_state(env, session, "waiting")
    await cl.wait_message(alice, notice(room, "back in the queue"), ma,
                          what="the room is told it waits again")
    await cl.wait_message(alice, notice(room, "You are number 1 in line"),
                          ma, what="the contact's place")
    await cl.wait_message(tom, cl.is_invite_to(room), mt,
                          what="Online techs are invited again")
    v = await tom.command("view-session", {"session": session})
    want = "%s -> %s; %s -> queue" % (jid("tom"), jid("tina"), jid("tina"))
    h.check(v.fields.get("transfers") == want,
            "view-session shows the transfers: %r" % v.fields.get("transfers"))
    rows = cl.db_rows(env, "SELECT from_jid, to_jid FROM transfers WHERE "
                      "session_id = ? ORDER BY id", (int(session),))
    h.check(rows == [(jid("tom"), jid("tina")), (jid("tina"), None)],
            "the transfers table: %r" % rows)
    await tom.command("end-session", {"session": session})


async def test_canned_replies(env):
    admin = await env.client("admin")
    r = await admin.command("canned", {"action": "add", "name": "hi",
                                       "text": "Hello {contact}, {tech} "
                                               "here."})
    h.check(r.status == "completed", "canned add completed")
    await h.expect_error(admin.command("canned", {"action": "add",
                                                  "name": "hi",
                                                  "text": "x"}),
                         "conflict", '"!hi"')
    await h.expect_error(admin.command("canned", {"action": "add",
                                                  "name": "two words",
                                                  "text": "x"}),
                         "bad-request", '"two words"')
    tom = await cl.login(env, "tom")
    await h.expect_error(tom.command("canned"), "forbidden")
    alice = await cl.login(env, "alice")
    f, room, _ = await waiting_room(env, alice, "Canned test")
    pres, _, _, _ = await cl.join(tom, room, "tom")
    tnick = pres["from"].resource
    ma, mt = cl.Mark(alice), cl.Mark(tom)
    cl.say(tom, room, "!hi", mid="k1")
    got = await cl.wait_message(alice, cl.groupchat_from(room, tnick,
                                                         "Hello"), ma,
                                what="the expanded reply")
    h.check(cl.body(got) == "Hello Alice Liddell, Tom Tech here.",
            "placeholders filled: %r" % cl.body(got))
    cl.say(tom, room, "!nope", mid="k2")
    err = await cl.wait_message(tom, lambda m: m["id"] == "k2" and
                                m["type"] == "error", mt,
                                what="an error to the tech")
    h.check(err["error"]["condition"] == "item-not-found" and
            "!nope" in (err["error"]["text"] or ""),
            "unknown name: item-not-found naming it: %s" % err)
    await cl.no_message(alice, cl.groupchat_from(room, tnick, "nope"), ma,
                        what="the unknown name broadcast")
    rows = cl.db_rows(env, "SELECT body FROM messages WHERE session_id = ? "
                      "AND kind = 'chat'", (int(f["session"]),))
    h.check(rows == [("Hello Alice Liddell, Tom Tech here.",)],
            "the expansion stored, not the call: %r" % rows)
    r = await admin.command("canned", {"action": "remove", "name": "hi"})
    h.check(r.status == "completed", "canned remove completed")
    await h.expect_error(admin.command("canned", {"action": "remove",
                                                  "name": "hi"}),
                         "item-not-found", '"!hi"')
    await tom.command("end-session", {"session": f["session"]})


async def test_rating_and_report(env):
    tom = await cl.login(env, "tom")
    alice = await cl.login(env, "alice")
    bob = await cl.login(env, "bob")
    f, room, _ = await waiting_room(env, alice, "Rate me")
    session = f["session"]
    await cl.join(tom, room, "tom")
    await cl.wait_state(env, session, "active")
    await h.expect_error(alice.command("rate", {"session": session,
                                                "score": "5"}),
                         "not-allowed", "ended")
    await tom.command("end-session", {"session": session})
    await h.expect_error(alice.command("rate", {"session": session,
                                                "score": "9"}),
                         "bad-request", '"9"')
    await h.expect_error(bob.command("rate", {"session": session,
                                              "score": "5"}),
                         "forbidden")
    r = await alice.command("rate", {"session": session, "score": "4",
                                     "comment": "Quick, thanks"})
    h.check(r.status == "completed", "rate completed")
    await h.expect_error(alice.command("rate", {"session": session,
                                                "score": "5"}),
                         "not-allowed", "rated already")
    notes = cl.ticket_notes(env, f["ticket"], "rating")
    h.check(len(notes) == 1 and "4/5" in notes[0][2] and
            "Quick, thanks" in notes[0][2] and notes[0][1] == jid("alice"),
            "a rating note on the ticket: %r" % notes)
    hist = await tom.command("history", {"contact": jid("alice")})
    rated = [row for row in hist.items if row.get("session") == session]
    h.check(rated and rated[0].get("rating") == "4",
            "history's rating column: %r" % rated)
    admin = await env.client("admin")
    rep = await admin.command("report", {})
    rows = {(row["by"], row["name"]): row for row in rep.items}
    t = rows.get(("tech", "Tom Tech"))
    h.check(t and int(t["sessions"]) >= 1 and t["avg_rating"] == "4.0",
            "the report credits Tom Tech with the rating: %r" % rep.items)
    h.check(("company", "Acme") in rows, "a row per company: %r" %
            list(rows))
    await h.expect_error(admin.command("report", {"since": "2026-13-01"}),
                         "bad-request", '"2026-13-01"')
    await h.expect_error(tom.command("report"), "forbidden")


async def test_retention(env):
    """[retention] messages_days = 1 (this file's config): messages of a
    finished session made two days old are purged by the tick; the ticket's
    transcript stays."""
    tom = await cl.login(env, "tom")
    alice = await cl.login(env, "alice")
    f, room, _ = await waiting_room(env, alice, "Retention test")
    await cl.join(tom, room, "tom")
    cl.say(alice, room, "an old aardvark", mid="old1")
    await cl.wait_message(tom, lambda m: m["id"] == "old1", cl.Mark(tom))
    await tom.command("end-session", {"session": f["session"]})
    await cl.wait_state(env, f["session"], "ended")
    sid = int(f["session"])
    cl.db_write(env, "UPDATE messages SET created = created - 2 * 86400 "
                "WHERE session_id = ?", (sid,))

    def left():
        return cl.db_rows(env, "SELECT count(*) FROM messages WHERE "
                          "session_id = ?", (sid,))[0][0]
    await h.async_wait_until(lambda: left() == 0, 10,
                             "the old messages purged")
    tr = cl.ticket_notes(env, f["ticket"], "transcript")
    h.check(len(tr) == 1 and "an old aardvark" in tr[0][2],
            "the transcript note stays: %r" % tr)
    hits = await tom.command("history", {"text": "aardvark"})
    h.check(hits.items == [], "the search index follows: %r" % hits.items)


async def test_audit(env):
    admin = await env.client("admin")
    r = await admin.command("settings", {"idle_timeout": "7200"})
    h.check(r.status == "completed", "settings saved")
    env.ctl("set", "callback", "off")
    env.ctl("unset", "callback")
    r = await admin.command("audit", {})
    h.check(r.status == "completed" and r.items,
            "audit lists the changes: %r" % r.items)
    first = r.items[0]
    h.check(first["who"] == "chatdeskctl" and first["key"] == "callback" and
            first["old"] == "off" and first["new"] == "on",
            "newest first, the CLI's unset: %r" % first)
    ours = [i for i in r.items if i["who"] == jid("admin") and
            i["key"] == "idle_timeout"]
    h.check(ours and ours[0]["old"] == str(cl.IDLE_TIMEOUT) and
            ours[0]["new"] == "7200" and ours[0]["object"] == "settings" and
            ours[0]["at"].endswith("Z"),
            "the admin's change with who, when, old and new: %r" % ours)
    out = env.ctl("audit").stdout.splitlines()
    h.check(out and out[0].split("\t")[1:] ==
            ["chatdeskctl", "settings", "callback", "off", "on"],
            "chatdeskctl audit prints the trail: %r" % out[:3])
    await h.expect_error(admin.command("audit", {"page": "x"}),
                         "bad-request")
    tom = await cl.login(env, "tom")
    await h.expect_error(tom.command("audit"), "forbidden")
    env.ctl("unset", "idle-timeout")


TIMEOUT_RULE = ("must be a whole number of seconds from 1 to 604800, "
                "not \"%s\"")


async def test_timeouts_one_rule(env):
    """The settings command, chatdeskctl and the config file take the
    same range and say the same."""
    admin = await env.client("admin")
    for bad in ("0", "604801"):
        await h.expect_error(
            admin.command("settings", {"answer_timeout": bad}),
            "bad-request", re.escape("Field 'answer_timeout' " +
                                     TIMEOUT_RULE % bad))
        r = env.ctl("set", "answer-timeout", bad, check_rc=False)
        h.check(r.returncode != 0 and TIMEOUT_RULE % bad in r.stderr,
                "chatdeskctl refuses %s with the rule: %r" % (bad, r.stderr))
        path = os.path.join(env.workdir, "bad-timeout.ini")
        with open(path, "w") as f:
            f.write(open(env.chatdesk.config).read() +
                    "\n[chat]\nidle_timeout = %s\n" % bad)
        r = subprocess.run([h.CHATDESK_BIN, "-c", path, "--check-config"],
                           capture_output=True, text=True, timeout=30)
        h.check(r.returncode != 0 and TIMEOUT_RULE % bad in r.stderr +
                r.stdout, "--check-config says the rule: %r" % r.stderr)
    env.ctl("set", "answer-timeout", "604800")
    env.ctl("unset", "answer-timeout")


TESTS = [test_leave_a_message, test_origin_id_stored_once,
         test_origin_id_resend_in_flight, test_portal_form_in_disco,
         test_timeouts_one_rule, test_queue_position_and_taken,
         test_transfer, test_canned_replies, test_rating_and_report,
         test_retention, test_audit]

if __name__ == "__main__":
    cl.main(None, TESTS, users=cl.USERS + ["admin"],
            extra=cl.CHAT_EXTRA + "away_after = 240\n"
            "[retention]\nmessages_days = 1\n")
