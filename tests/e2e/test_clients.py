"""What standard clients do, through a real server (SPEC §8).

Converse.js draws a submit button only for a stage with <actions/>; poezio
sends action="next" on every stage, the last one included. Here an admin
runs every command as those clients do: each first stage that asks for
input carries <actions/>, and company, contact and tech creation complete
with nothing but "next"; result tables come as text too.
Prints one line per test and "N passed, M failed" last; exits non-zero on
any failure.
"""
# databases: sqlite, postgresql

import asyncio
import os
import sys

from slixmpp.xmlstream import ET

from e2e import chatlib as cl
from e2e import harness as h

ADMIN = "admin"
NS_MAM = "urn:xmpp:mam:2"
NS_ADMIN = "http://jabber.org/protocol/muc#admin"
NS_OWNER = "http://jabber.org/protocol/muc#owner"
ONE_STAGE = ("settings", "sessions", "history", "view-session",
             "end-session", "push-chat", "closing-note", "create-ticket",
             "tickets")


async def step(client, node, action, sessionid=None, fields=None):
    """One <command/> request with an explicit action → CommandReply."""
    return h.CommandReply(await client._command_iq(
        h.COMPONENT, node, action, sessionid, fields))


def actions_of(reply):
    """(execute attribute, [offered actions]) of a reply's <actions/>."""
    el = reply.cmd.find("{%s}actions" % h.NS_COMMANDS)
    h.check(el is not None, "<actions/> in the %s stage" %
            reply.cmd.get("node"))
    return el.get("execute"), [c.tag.split("}")[1] for c in el]


async def poezio(client, node, *stages):
    """Run node sending action="next" on every stage; the last reply."""
    reply = await step(client, node, "next")
    for fields in stages:
        h.check(reply.status == "executing", "%s asks for input" % node)
        reply = await step(client, node, "next", reply.sessionid, fields)
    return reply


async def test_one_stage_commands_offer_complete(env):
    admin = await env.client(ADMIN)
    for node in ONE_STAGE:
        first = await admin.command(node)
        h.check(first.status == "executing", "%s shows a form" % node)
        execute, offered = actions_of(first)
        h.check(execute == "complete" and offered == ["complete"],
                "%s offers complete: %s %r" % (node, execute, offered))
        await step(admin, node, "cancel", first.sessionid)


async def test_multi_stage_commands_offer_actions(env):
    admin = await env.client(ADMIN)
    first = await admin.command("company")
    h.check(actions_of(first) == ("next", ["next"]),
            "company's first stage offers next: %r" % (actions_of(first),))
    second = await step(admin, "company", "next", first.sessionid,
                        {"company": "new"})
    h.check(actions_of(second) == ("complete", ["prev", "complete"]),
            "company's last stage offers prev and complete: %r" %
            (actions_of(second),))
    await step(admin, "company", "cancel", second.sessionid)


async def test_poezio_next_completes(env):
    admin = await env.client(ADMIN)
    done = await poezio(admin, "company", {"company": "new"},
                        {"name": "Acme", "chat": "on", "pre_ticket": "on",
                         "callback": "on"})
    h.check(done.status == "completed", "company completed with next")
    done = await poezio(admin, "contact", {"jid": "alice@localhost"},
                        {"company": "Acme", "name": "Alice", "chat": "on"})
    h.check(done.status == "completed", "contact completed with next")
    done = await poezio(admin, "tech",
                        {"jid": "carol@localhost", "action": "create"},
                        {"name": "Carol", "admin": "0"})
    h.check(done.status == "completed", "tech completed with next")
    done = await poezio(admin, "settings", {"answer_timeout": "75"})
    h.check(done.status == "completed", "settings completed with next")
    listed = {r.split(",")[0] for r in
              env.ctl("list", "techs").stdout.splitlines()[1:]}
    h.check("carol@localhost" in listed, "carol stored: %r" % listed)
    listed = env.ctl("list", "contacts").stdout
    h.check("alice@localhost,Acme" in listed, "alice stored: %r" % listed)



async def test_tables_come_as_text(env):
    """sessions, history and tickets: the rows also in a text note, for
    clients that draw no XEP-0004 tables (profanity, poezio)."""
    alice = await env.client("alice")
    old = await alice.command("start-chat", {"description": "Keyboard"})
    carol = await env.client("carol")
    await cl.join(carol, old.fields["room"], "Carol")
    await carol.command("end-session", {"session": old.fields["session"]})
    chat = await alice.command("start-chat", {"description": "Mouse is dead"})
    h.check(chat.status == "completed", "alice's chat waits")
    for node, fields, row in (
            ("sessions", {"view": "waiting"}, chat.fields),
            ("history", {"contact": "alice@localhost"}, old.fields),
            ("tickets", {"contact": "alice@localhost"}, chat.fields)):
        done = await carol.command(node, fields)
        h.check(done.items, "%s has rows" % node)
        texts = [t for _, t in done.notes]
        h.check(any("Contact: alice@localhost" in t and
                    "Ticket: %s;" % row["ticket"] in t for t in texts),
                "%s rows as text: %r" % (node, texts))
        if node != "tickets":
            h.check(any("Session: %s;" % row["session"] in t
                        for t in texts), "%s names the session" % node)



async def test_notices_from_helpdesk_occupant(env):
    """Converse.js hides messages from a bare room JID: the room's own
    occupant Helpdesk, a moderator every joiner sees, posts the notices."""
    queue = "queue@%s" % h.COMPONENT
    carol = await cl.login(env, "carol")
    _, _, occupants, _ = await cl.join(carol, queue, "Carol")
    helpdesk = [p for p in occupants
                if p["from"].resource == cl.NOTICE_NICK]
    h.check(helpdesk, "Helpdesk's presence in the queue room: %r" %
            (occupants,))
    h.check(cl.muc_items(helpdesk[0])[0] == "moderator",
            "Helpdesk is a moderator: %r" % (cl.muc_items(helpdesk[0]),))
    mark = cl.Mark(carol)
    alice = await env.client("alice")
    chat = await alice.command("start-chat", {"description": "Screen dark"})
    await cl.wait_message(carol, cl.groupchat_from(queue, None,
                                                   chat.fields["room"]),
                          mark, what="the queue line from Helpdesk")
    # rooms give members their directory name: a contact named so is not
    # locked out, the nick gets the local part as a taken one does
    admin = await env.client(ADMIN)
    await admin.command("contact", {"jid": "alice@localhost"},
                        {"company": "Acme", "name": "HelpDesk"})
    pres, _, _, _ = await cl.join(alice, chat.fields["room"], "alice")
    h.check(pres["from"].resource == "HelpDesk (alice)",
            "the contact named HelpDesk joins as %r" %
            pres["from"].resource)
    await admin.command("contact", {"jid": "alice@localhost"},
                        {"company": "Acme", "name": "Alice"})



async def query(client, to, itype, ns, payload=""):
    """An iq with <query xmlns=ns>payload</query>; the reply (or the error
    as an IqError)."""
    iq = client.make_iq(ito=to, itype=itype)
    iq.append(ET.fromstring("<query xmlns='%s'>%s</query>" % (ns, payload)))
    return await iq.send(timeout=10)


async def test_rooms_answer_join_queries(env):
    """What clients ask on join: MAM on every room that advertises it (the
    queue room too), muc#admin lists, the muc#owner form: a result or
    forbidden, never service-unavailable."""
    queue = "queue@%s" % h.COMPONENT
    carol = await env.client("carol", "queries")
    info = await carol["xep_0030"].get_info(jid=queue, timeout=10)
    h.check(NS_MAM in info["disco_info"]["features"], "queue advertises MAM")
    fin = await query(carol, queue, "set", NS_MAM)
    h.check(fin.xml.find("{%s}fin" % NS_MAM) is not None,
            "the queue room answers MAM: %s" % fin)
    alice = await env.client("alice", "queries")
    chat = await alice.command("start-chat", {"description": "Fan noise"})
    room = chat.fields["room"]
    await cl.join(alice, room, "alice")
    await cl.join(carol, room, "carol")
    got = await query(carol, room, "get", NS_ADMIN,
                      "<item affiliation='member'/>")
    jids = [i.get("jid") for i in got.xml.iter("{%s}item" % NS_ADMIN)]
    h.check("alice@localhost" in jids, "the members: %r" % jids)
    await h.expect_error(query(alice, room, "get", NS_ADMIN,
                               "<item affiliation='member'/>"),
                         "forbidden", "moderators")
    for itype in ("get", "set"):
        await h.expect_error(query(carol, room, itype, NS_OWNER), "forbidden",
                             "configuration is fixed")



async def test_form_error_quotes_whole_value(env):
    admin = await env.client(ADMIN, "errors")
    await h.expect_error(admin.command("settings",
                                       {"holidays": "Dec 32 2026"}),
                         "bad-request", r'"Dec 32 2026"')


def reply_from_component(mtype, *texts):
    """A message of mtype from the bare component JID containing texts."""
    def pred(m):
        return (m["from"].full == h.COMPONENT and m["type"] == mtype and
                all(t in cl.body(m) for t in texts))
    return pred


async def test_component_jid_answers_with_help(env):
    """A chat (or normal) message to the bare component JID gets a help
    text for the sender's role, never silence; chat states get nothing."""
    queue = "queue@%s" % h.COMPONENT
    admin = await cl.login(env, ADMIN, resource="help", known=False)
    mark = cl.Mark(admin)
    admin.send_message(mto=h.COMPONENT, mbody="help?", mtype="chat")
    await cl.wait_message(admin, reply_from_component(
        "chat", "chatdesk", queue, "/ad-hoc %s" % h.COMPONENT,
        "/cmd list %s" % h.COMPONENT, "Commands tab"), mark,
        what="the help for a tech")
    admin.send_message(mto=h.COMPONENT, mbody="hello", mtype="normal")
    await cl.wait_message(admin, reply_from_component("normal", queue),
                          mark, what="the help as a normal message")
    mark = cl.Mark(admin)
    state = admin.make_message(mto=h.COMPONENT, mtype="chat")
    state.append(ET.fromstring(
        "<composing xmlns='http://jabber.org/protocol/chatstates'/>"))
    state.send()
    await cl.no_message(admin, reply_from_component("chat"), mark, wait=1,
                        what="an answer to a chat state")
    alice = await cl.login(env, "alice", resource="help", known=False)
    mark = cl.Mark(alice)
    alice.send_message(mto=h.COMPONENT, mbody="hi", mtype="chat")
    await cl.wait_message(alice, reply_from_component("chat", "start-chat"),
                          mark, what="the help for a contact")


async def test_push_chat_invites_the_tech(env):
    """Push-chat invites the pushing tech too (XEP-0249, to the client that
    ran it), so nobody has to find and join the room by hand."""
    carol = await cl.login(env, "carol", resource="push")
    await cl.login(env, "alice", resource="push")
    made = await carol.command("create-ticket", {
        "contact": "alice@localhost", "summary": "Printer jams"})
    mark = cl.Mark(carol)
    pushed = await carol.command("push-chat",
                                 {"ticket": made.fields["ticket"]})
    room = pushed.fields["room"]
    got = await cl.wait_message(carol, cl.is_invite_to(room), mark,
                                what="the tech's invitation")
    h.check(got["to"].full == str(carol.boundjid) and
            "Alice" in cl.invitation(got).get("reason", ""),
            "the invitation goes to the tech's client and names the "
            "contact: %s" % got)


def presence_hint(m):
    return (m["from"].full == h.COMPONENT and m["type"] == "chat" and
            "queue@%s" % h.COMPONENT in cl.body(m) and
            "approve the presence subscription" in cl.body(m))


async def test_unseen_tech_told_once(env):
    """A new tech chatdesk cannot see (here he refuses its subscription
    request) gets ONE chat message saying how to fix it: approve the
    request, or bookmark the queue room with auto-join. The store remembers
    it: learning of him again sends nothing."""
    dave = await cl.login(env, "dave", resource="hint", known=False,
                          authorize=False)
    admin = await env.client(ADMIN, "hint")
    done = await poezio(admin, "tech",
                        {"jid": "dave@localhost", "action": "create"},
                        {"name": "Dave", "admin": "0"})
    h.check(done.status == "completed", "dave created")
    await cl.wait_message(dave, presence_hint, timeout=10,
                          what="the presence hint")
    h.check(cl.db_rows(env, "SELECT 1 FROM techs WHERE jid = "
                       "'dave@localhost' AND presence_hint = 1"),
            "the hint is remembered in the store")
    mark = cl.Mark(dave)
    await poezio(admin, "tech", {"jid": "dave@localhost", "action": "edit"},
                 {"name": "Dave D", "admin": "0"})
    await cl.no_message(dave, presence_hint, mark, wait=6,
                        what="a second hint")

async def test_demo_pre_approval(env):
    """scripts/demo's pre-approval (scripts/lib/approve.py) logs a tech in
    once and approves chatdesk's request: from then on chatdesk sees him
    though his own client approves nothing."""
    admin = await env.client(ADMIN, "approve")
    await poezio(admin, "tech", {"jid": "erin@localhost", "action": "create"},
                 {"name": "Erin", "admin": "0"})
    script = os.path.join(h.SOURCE_DIR, "scripts", "lib", "approve.py")
    run = await asyncio.create_subprocess_exec(
        sys.executable, script, str(env.server.c2s_port), h.COMPONENT,
        h.PASSWORD, "erin@localhost", stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(run.communicate(), 60)
    h.check(run.returncode == 0 and b"approved" in out,
            "approve.py: %d %s" % (run.returncode, out))
    await cl.login(env, "erin", resource="desk", authorize=False)


async def test_mam_with_helpdesk_finds_notices(env):
    """A MAM query filtered on room/Helpdesk (the notices' occupant) finds
    the notices, as a client filtering on a sender expects."""
    alice = await env.client("alice", "mam")
    chat = await alice.command("start-chat", {"description": "Old laptop"})
    room = chat.fields["room"]
    carol = await cl.login(env, "carol", resource="mam")
    await cl.join(carol, room, "Carol")
    await carol.command("end-session", {"session": chat.fields["session"]})
    mark = cl.Mark(carol)
    form = ("<x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE' type='hidden'><value>%s</value></field>"
            "<field var='with'><value>%s/helpdesk</value></field></x>"
            % (NS_MAM, room))
    await query(carol, room, "set", NS_MAM, form)
    bodies = [m.xml.findtext(".//{jabber:client}message/{jabber:client}body")
              for m in mark.messages()
              if m.xml.find("{%s}result" % NS_MAM) is not None]
    h.check(bodies and all(b and "Old laptop" not in b for b in bodies) and
            any("ended the chat" in b for b in bodies),
            "the notices only: %r" % bodies)


if __name__ == "__main__":
    h.main([test_one_stage_commands_offer_complete,
            test_multi_stage_commands_offer_actions,
            test_poezio_next_completes, test_tables_come_as_text,
            test_notices_from_helpdesk_occupant,
            test_rooms_answer_join_queries,
            test_form_error_quotes_whole_value,
            test_component_jid_answers_with_help,
            test_push_chat_invites_the_tech,
            test_unseen_tech_told_once, test_demo_pre_approval,
            test_mam_with_helpdesk_finds_notices],
           users=[ADMIN, "alice", "carol", "dave", "erin"])
