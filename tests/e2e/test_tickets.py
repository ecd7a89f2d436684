"""Tickets where techs work (SPEC §6) through Prosody, chatdesk, chatdeskctl
and slixmpp: a chat's transcript lands on its ticket, `view-ticket` shows
every field and every note (kind, author, time, full text) oldest first,
`close-ticket` closes with an optional closing note of its own and refuses
a closed ticket with a text, `tickets` filters by status, and the same from
the shell with `chatdeskctl -c FILE ticket list|show|close`; every change
is listed by `chatdeskctl outbox list` as a pending PSA event.
"""
# databases: sqlite, postgresql
# pg-servers: prosody, ejabberd

import re
import subprocess

from e2e import chatlib as cl
from e2e import harness as h

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def ctl(env, *args):
    """chatdeskctl with the same -c FILE as chatdesk."""
    return subprocess.run([h.CHATDESKCTL_BIN, "-c", env.chatdesk.config] +
                          list(args), capture_output=True, text=True,
                          timeout=60)


async def chat_and_end(env, alice, tom, text):
    """A chat from start to end-session; returns (session, ticket)."""
    s = await cl.start_chat(alice, text)
    room = s["room"]
    await cl.join(alice, room, "alice")
    await cl.join(tom, room, "tom")
    await cl.wait_state(env, s["session"], "active")
    mt = cl.Mark(tom)
    cl.say(alice, room, "It says PC LOAD LETTER")
    await cl.wait_message(
        tom, lambda m: m["type"] == "groupchat" and
        "PC LOAD LETTER" in cl.body(m), mt, what="alice's line")
    r = await tom.command("end-session", {"session": s["session"]})
    h.check(r.status == "completed", "end-session completed")
    await cl.wait_state(env, s["session"], "ended")
    return s["session"], s["ticket"]


async def test_view_and_close_ticket(env):
    alice = await cl.login(env, "alice")
    tom = await cl.login(env, "tom")
    _, ticket = await chat_and_end(env, alice, tom, "Printer jammed")

    v = await tom.command("view-ticket", {"ticket": ticket})
    h.check(v.status == "completed", "view-ticket completes")
    f = v.fields
    h.check(f["ticket"] == ticket and f["summary"] == "Printer jammed" and
            f["status"] == "open" and f["company"] == "Acme" and
            f["contact"] == "alice@localhost" and f["external_id"] == "" and
            re.fullmatch(ISO, f["created"]) and f["closed"] == "",
            "the ticket's fields: %r" % f)
    note = "\n".join(f["note-1"]) if isinstance(f["note-1"], list) else \
        f["note-1"]
    h.check("PC LOAD LETTER" in note, "the transcript in full: %r" % note)
    label = v.cmd.find(".//{jabber:x:data}field[@var='note-1']").get("label")
    h.check(re.fullmatch(r"Note 1: transcript by \S+ at " + ISO, label),
            "kind, author and time of the note: %r" % label)

    r = await tom.command("close-ticket", {"ticket": ticket,
                                           "note": "Replaced the drum"})
    h.check(r.status == "completed", "close-ticket completes")
    v = await tom.command("view-ticket", {"ticket": ticket})
    h.check(v.fields["status"] == "closed" and
            re.fullmatch(ISO, v.fields["closed"]), "closed: %r" % v.fields)
    label = v.cmd.find(".//{jabber:x:data}field[@var='note-2']").get("label")
    h.check(label.startswith("Note 2: closing_note by tom@localhost") and
            v.fields["note-2"] == "Replaced the drum",
            "the closing note is a note of its own: %r" % label)
    await h.expect_error(tom.command("close-ticket", {"ticket": ticket}),
                         "not-acceptable", "already closed")
    await h.expect_error(tom.command("view-ticket", {"ticket": "9999"}),
                         "item-not-found", "9999")
    await h.expect_error(alice.command("view-ticket", {"ticket": ticket}),
                         "forbidden")

    closed = await tom.command("tickets", {"status": "closed"})
    h.check([i["ticket"] for i in closed.items] == [ticket],
            "tickets filtered by status: %r" % closed.items)


async def test_ctl_tickets(env):
    alice = await cl.login(env, "alice")
    tom = await cl.login(env, "tom")
    _, ticket = await chat_and_end(env, alice, tom, "Mail bounces")

    r = ctl(env, "ticket", "list", "open")
    h.check(r.returncode == 0 and
            re.search(r"^%s\topen\t%s\tMail bounces$" % (ticket, ISO), r.stdout,
                      re.M), "ticket list open: %r %r" % (r.stdout, r.stderr))
    r = ctl(env, "ticket", "show", ticket)
    h.check(r.returncode == 0 and "summary: Mail bounces" in r.stdout and
            "contact: alice@localhost" in r.stdout and
            re.search(r"^--- note 1: transcript by \S+ at %s$" % ISO,
                      r.stdout, re.M) and "PC LOAD LETTER" in r.stdout,
            "ticket show: %r" % r.stdout)
    r = ctl(env, "ticket", "close", ticket, "Fixed the MX record")
    h.check(r.returncode == 0, "ticket close: %r" % r.stderr)
    r = ctl(env, "ticket", "close", ticket)
    h.check(r.returncode != 0 and "already closed" in r.stderr,
            "a second close is refused: %r" % r.stderr)
    v = await tom.command("view-ticket", {"ticket": ticket})
    h.check(v.fields["status"] == "closed" and
            v.fields["note-2"] == "Fixed the MX record",
            "chatdesk sees what chatdeskctl wrote: %r" % v.fields)

    # every change recorded its PSA event, in order, with a UUID each
    r = ctl(env, "outbox", "list")
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    mine = [row[2] for row in rows if row[1] == ticket]
    h.check(r.returncode == 0 and mine == [
        "ticket.created", "ticket.note_added", "ticket.note_added",
        "ticket.closed"], "the ticket's events: %r" % rows)
    h.check(all(re.fullmatch(r"[0-9a-f-]{36}", row[0]) and
                row[3] == "pending" for row in rows) and
            len({row[0] for row in rows}) == len(rows),
            "pending events with distinct UUIDs: %r" % rows)


if __name__ == "__main__":
    cl.main(None, [test_view_and_close_ticket, test_ctl_tickets])
