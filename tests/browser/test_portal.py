"""The client portal (portal/) in headless Chromium against a real Prosody
and chatdesk.

This Python file owns the servers (tests/e2e/harness.py's Env: Prosody +
chatdesk on free loopback ports, users registered) and the tech side (a
slixmpp client). The browser runs in tests/browser/browser.mjs, a small
node program that drives Debian's chromium with playwright-core and takes
one JSON request a line on stdin. Every scenario is written here, so the
tech's stanzas and the browser's clicks interleave in one place.

Runs on Prosody (ctest: browser.test_portal) and on ejabberd
(browser-ejabberd.test_portal), like the e2e tests, and once more on
Prosody with chatdesk on PostgreSQL (browser-pg.test_portal): the portal
talks only XMPP to the server, so that run checks that every scenario a
contact lives through in the browser (chats, callbacks, the queue,
reloads, messages left, ratings, files, a server restart) behaves the same
with the other store behind chatdesk; one server is enough for that.
Screenshots, the page's console and the driver's log go to
BUILD_DIR/browser-artifacts/SERVER/ (SERVER-pg/ on PostgreSQL; build/
under ctest).
Prints one line per test and "N passed, M failed" last; exits non-zero on
any failure. Needs `npm ci` in portal/ and tests/browser/ (scripts/test
does it).
"""
# servers: prosody, ejabberd
# databases: sqlite, postgresql

import asyncio
import base64
import json
import os
import re
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from e2e import harness as h  # noqa: E402
from e2e import chatlib as cl  # noqa: E402
from slixmpp.xmlstream import ET  # noqa: E402
from driver import BrowserError, browser  # noqa: E402

ANSWER_TIMEOUT = 6  # seconds: short, so a callback becomes allowed soon
REJOIN_GRACE = 4  # seconds a waiting contact may be gone (a reload)
DESKTOP, PHONE = (1280, 800), (390, 844)

NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_CONFERENCE = "jabber:x:conference"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"
NS_OOB = "jabber:x:oob"
# a 2x2 PNG, the file the contact attaches
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEUlEQVR4nGP4z8AARAx"
       "g8j8AG/ID/fPnS7EAAAAASUVORK5CYII=")

TECH, ADMIN, ALICE, BOB = "terry", "admin", "alice", "bob"
TECH_NAME, ALICE_NAME = "Terry Tech", "Alice Example"

DIALOG = "[data-testid=chat-dialog]"
STROPHE = os.path.join(h.SOURCE_DIR, "portal", "node_modules", "strophe.js")




def portal_url(env, **params):
    q = "&".join("%s=%s" % kv for kv in params.items())
    return "http://localhost:%d/portal/index.html%s" % (
        env.server.http_port, "?" + q if q else "")


async def open_portal(env, **params):
    """The portal in a new tab (a tab's sessionStorage would resume the
    chat an earlier test left open)."""
    b = await browser(env, needs=(STROPHE,))
    try:
        await b.call("close")
    except BrowserError:
        pass  # no page yet
    await b.call("grant", permissions=["notifications"],
                 origin="http://localhost:%d" % env.server.http_port)
    await b.call("open", url=portal_url(env, **params))
    return b


async def login(b, user, password=h.PASSWORD):
    await b.fill("#jid", "%s@%s" % (user, h.DOMAIN))
    await b.fill("#password", password)
    await b.click("#login-button")
    await b.wait("#support-view")
    await b.wait("#chat-checking", state="hidden")


async def axe_clean(b, state):
    """axe-core on the page: no serious or critical violation."""
    found = await b.call("axe", timeout=60)
    h.check(not found, "axe-core, %s: no serious/critical violation: %s" %
            (state, json.dumps(found, indent=1)))


async def shots(b, name):
    """A screenshot at desktop size and one at phone size."""
    await b.shot(name)
    await b.call("viewport", width=PHONE[0], height=PHONE[1])
    await b.shot(name + "-phone")
    await b.call("viewport", width=DESKTOP[0], height=DESKTOP[1])


async def focused(b, *ids):
    """The focus is on one of these ids, a real enabled control/heading."""
    f = await b.call("focused")
    h.check(f and f["id"] in ids and not f["disabled"] and f["visible"],
            "focus on %s, got %r" % ("/".join(ids), f))


async def start_chat(b, description):
    await b.click("#chat-open")
    await b.wait("[data-testid=start-form]")
    await b.fill("#description", description)
    await b.click("#start-chat")
    await b.wait(DIALOG)
    await b.wait_fn("document.querySelector('#chat-dialog').dataset.state "
                    "=== 'waiting'", 10000, "the chat waiting")
    return (await b.eval("window.chatdeskPortal.chats()"))[0]


def state_is(state):
    return ("document.querySelector('#chat-dialog').dataset.state === %s" %
            json.dumps(state))


async def sign_in_again(b, user=ALICE):
    """After a reload: the sign-in with the address kept, a line saying
    why, no password anywhere in the tab's storage; the contact types the
    password again."""
    await b.wait("[data-testid=resume-note]")
    h.check("Sign in again to get back to your chat" in
            await b.text("[data-testid=resume-note]"), "the resume line")
    h.check(await b.eval("document.querySelector('#jid').value") ==
            "%s@%s" % (user, h.DOMAIN), "the address is filled in")
    await focused(b, "password")
    stored = await b.eval("JSON.stringify(Object.assign({}, sessionStorage))")
    h.check(h.PASSWORD not in stored and "password" not in stored,
            "no password in sessionStorage: %r" % stored)
    await axe_clean(b, "sign in again after a reload")
    await b.fill("#password", h.PASSWORD)
    await b.click("#login-button")


async def no_page_errors(b):
    errors = await b.call("errors")
    h.check(not errors, "no uncaught errors in the page: %r" % errors)


# ---- the tech side -------------------------------------------------------------

def conference_invites(client):
    out = []
    for m in client.messages:
        x = m.xml.find("{%s}x" % NS_CONFERENCE)
        if x is not None:
            out.append((x.get("jid"), m["body"]))
    return out


async def tech_online(env):
    """The tech, Online to chatdesk: in the queue room, as a tech client
    sits (the component subscribes only to the techs it knew at start)."""
    tech = await env.client(TECH)
    # slixmpp's "message" event is for messages with a body only.
    tech.chatstates = []
    tech.add_event_handler("chatstate", tech.chatstates.append)
    await tech_joins(tech, "queue@" + h.COMPONENT)
    await tech_seen_online(env)
    return tech


async def tech_joins(tech, room):
    """Join room; returns once our self-presence (status 110) arrived."""
    p = tech.make_presence(pto="%s/%s" % (room, TECH))
    ET.SubElement(p.xml, "{%s}x" % NS_MUC)
    p.send()

    def joined():
        for pr in tech.presences:
            x = pr.xml.find("{%s}x" % NS_MUC_USER)
            if (pr["from"].bare == room and x is not None and
                    any(s.get("code") == "110"
                        for s in x.findall("{%s}status" % NS_MUC_USER))):
                return True
        return False
    await h.async_wait_until(joined, 10, "the tech in %s" % room)


async def command_nodes(client):
    items = await client["xep_0030"].get_items(
        jid=h.COMPONENT, node=h.NS_COMMANDS, timeout=10)
    return [node for _, node, _ in items["disco_items"]["items"]]


def room_messages(client, room):
    return [m for m in client.messages
            if m["from"].bare == room and m["type"] == "groupchat"]


def say(tech, room, body=None, state=None):
    m = tech.make_message(mto=room, mtype="groupchat", mbody=body)
    if state:
        ET.SubElement(m.xml, "{%s}%s" % (NS_CHATSTATES, state))
    m.send()


async def create_ticket(tech, summary, contact=ALICE):
    r = await tech.command("create-ticket", {
        "contact": "%s@%s" % (contact, h.DOMAIN), "summary": summary})
    h.check(r.fields.get("ticket"), "a ticket number: %r" % r.fields)
    return r.fields["ticket"]


async def push_chat(tech, ticket, b=None, timeout=15):
    """push-chat, retried while the component does not see the contact
    Online yet (presence travels asynchronously). With b, mouse activity
    keeps the portal Online meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        if b:
            await b.call("mouse")
        try:
            return await tech.command("push-chat", {"ticket": ticket})
        except h.IqError as e:
            if (e.iq["error"]["condition"] != "not-acceptable" or
                    time.monotonic() > deadline):
                raise
        await asyncio.sleep(0.3)


async def push_refused(tech, ticket, presence, timeout=15):
    """push-chat refused with not-acceptable naming presence (Away,
    Offline), retried until the component has seen that presence."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            await tech.command("push-chat", {"ticket": ticket})
            last = "(accepted)"
        except h.IqError as e:
            last = e.iq["error"]["text"] or ""
            if e.iq["error"]["condition"] == "not-acceptable" and \
                    presence in last:
                return last
        await asyncio.sleep(0.3)
    raise h.TestFailure("push-chat refused naming %s; last answer: %r" %
                        (presence, last))


# ---- tests --------------------------------------------------------------------

async def test_setup_directory(env):
    """Acme with contacts alice and bob, tech terry (chatdeskctl import)."""
    d = env.workdir
    files = {
        "companies.csv": "name\nAcme Corp\n",
        "contacts.csv": "jid,company,name,phone\n"
                        "alice@localhost,Acme Corp,%s,+1 555 0100\n"
                        "bob@localhost,Acme Corp,Bob Example,+1 555 0101\n"
                        % ALICE_NAME,
        "techs.csv": "jid,name,admin\nterry@localhost,%s,no\n" % TECH_NAME,
    }
    for name, text in files.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    for kind in ("companies", "contacts", "techs"):
        env.ctl("import", kind, os.path.join(d, kind + ".csv"))


async def test_portal_is_served(env):
    """Prosody serves the page and the library; the page loads cleanly."""
    b = await open_portal(env)
    h.check(await b.visible("#login-form"), "the login form is shown")
    h.check(await b.eval("typeof window.chatdeskPortal") == "object",
            "app.js ran (its modules and strophe.js loaded)")
    h.check(await b.eval("fetch('favicon.svg').then(r => r.ok)"),
            "the favicon is served")
    await axe_clean(b, "sign-in")
    await b.call("colorScheme", scheme="dark")
    bg = await b.eval("getComputedStyle(document.documentElement).backgroundColor")
    await axe_clean(b, "sign-in, dark")
    await shots(b, "01-login-dark")
    await b.call("colorScheme", scheme="light")
    h.check(bg != await b.eval("getComputedStyle(document.documentElement)"
                               ".backgroundColor"),
            "dark mode looks different: %s" % bg)
    await shots(b, "01-login")
    await no_page_errors(b)


async def test_login_errors_are_shown(env):
    b = await open_portal(env)
    await b.fill("#jid", "alice")
    await b.click("#login-button")
    await b.wait_text("[data-testid=login-error]", "full chat address")
    await b.fill("#jid", "alice@localhost")
    await b.fill("#password", "wrong")
    await b.click("#login-button")
    await b.wait_text("[data-testid=login-error]",
                      "Wrong address or password")
    await focused(b, "password")
    await axe_clean(b, "sign-in error")
    await b.shot("02-login-error")
    h.check(not await b.visible("#support-view"), "still on the login page")
    await no_page_errors(b)


async def test_presence_online_away_online(env):
    """Online after login, Away after away_after idle seconds, Online again
    on mouse activity: the component sees each (push-chat names it)."""
    tech = await env.client(TECH)
    ticket = await create_ticket(tech, "Monitor flickers")
    b = await open_portal(env, away_after=2)
    await login(b, ALICE)
    h.check(await b.text("[data-testid=presence]") == "Online",
            "the badge says Online")
    await b.wait_fn("document.body.dataset.presence === 'away'", 8000,
                    "the portal to go away after 2 s idle")
    h.check(await b.text("[data-testid=presence]") == "Away",
            "the badge says Away")
    await b.shot("03-away")
    text = await push_refused(tech, ticket, "Away")
    h.check(ALICE_NAME in text, "the refusal names the contact: %r" % text)
    await b.call("mouse")
    await b.wait_fn("document.body.dataset.presence === 'online'", 5000,
                    "Online again after mouse activity")
    # Online now: the push is accepted (closing the page then abandons it).
    reply = await push_chat(tech, ticket, b)
    h.check(reply.fields.get("room", "").startswith("chat-"),
            "push-chat accepted once Online: %r" % reply.fields)
    await b.wait(DIALOG)
    await no_page_errors(b)


async def test_offline_when_tab_closes(env):
    tech = await env.client(TECH)
    ticket = await create_ticket(tech, "Keyboard missing keys")
    b = await open_portal(env)
    await login(b, ALICE)
    await push_chat(tech, ticket, b)
    await b.call("close")
    await push_refused(tech, ticket, "Offline")


async def test_pre_ticket_chat(env):
    tech = await tech_online(env)
    b = await open_portal(env)
    await login(b, ALICE)
    await b.wait("[data-testid=chat-option]")
    await b.shot("04-contact-support")
    await b.click("#chat-open")
    await b.wait("[data-testid=start-form]")
    await b.click("#start-chat")  # empty: an inline error, no tooltip
    await b.wait_text("[data-testid=start-error]", "describe your problem")
    await focused(b, "description")
    await b.fill("#description", "Outlook keeps asking for my password")
    await b.shot("05-describe")
    await b.click("#start-chat")
    await b.wait(DIALOG)
    await focused(b, "chat-title", "message-input")
    await b.wait_fn("document.querySelector('#chat-dialog').dataset.state "
                    "=== 'waiting'", 10000, "the chat waiting")
    subject = await b.text("[data-testid=chat-subject]")
    h.check("Outlook keeps asking" in subject and "Ticket #" in subject,
            "the dialog shows the ticket and its summary: %r" % subject)
    chat = (await b.eval("window.chatdeskPortal.chats()"))[0]
    room = chat["room"]
    h.check(chat["nick"] == ALICE_NAME,
            "the room gave the contact her name as nick: %r" % chat)
    await b.shot("06-waiting")

    # The tech (Online) is invited, joins and answers.
    await h.async_wait_until(lambda: any(j == room for j, _ in
                                         conference_invites(tech)),
                             10, "the tech's invitation to %s" % room)
    body = [bd for j, bd in conference_invites(tech) if j == room][0]
    h.check(ALICE_NAME in body and "Outlook" in body,
            "the invitation names the contact and the problem: %r" % body)
    await tech_joins(tech, room)
    await b.wait_text("#chat-title", "Chat with %s" % TECH_NAME)
    say(tech, room, state="composing")
    await b.wait_text("[data-testid=typing]", "%s is typing" % TECH_NAME)
    await b.shot("07-tech-typing")
    say(tech, room, "Hi Alice, I am resetting your mailbox session now.",
        state="active")
    await b.wait_text("li[data-kind=theirs]", "resetting your mailbox")
    await b.wait("[data-testid=typing]", state="hidden")
    h.check(TECH_NAME in await b.text("li[data-kind=theirs] .nick"),
            "the tech's name on the message")
    h.check(re.search(r"\d\d:\d\d",
                      await b.text("li[data-kind=theirs] time")),
            "the message shows its time")

    # The contact types (composing reaches the tech) and sends.
    await b.call("type", sel="#message-input", value="Thanks, trying again")
    await h.async_wait_until(
        lambda: any(m.xml.find("{%s}composing" % NS_CHATSTATES) is not None
                    and m["from"].bare == room
                    and m["from"].resource == ALICE_NAME
                    for m in tech.chatstates),
        10, "the tech to see the contact composing")
    await b.call("press", sel="#message-input", key="Enter")
    await h.async_wait_until(
        lambda: any(m["body"] == "Thanks, trying again"
                    for m in room_messages(tech, room)),
        10, "the tech to get the contact's message")
    await b.wait_text("li[data-kind=mine]", "Thanks, trying again")
    await b.shot("08-conversation")

    # End chat is not offered while the chat is active and not idle; the
    # hint says when it would be.
    h.check(not await b.visible("[data-testid=end-chat]"),
            "no End chat while a technician is helping")
    err = await b.wait_text("[data-testid=chat-hint]",
                            "If nobody writes for 1 hour")
    await b.shot("09-end-explained")

    # The tech ends it: notice, voice revoked, Leave.
    await tech.command("end-session", {"session": chat["session"],
                                       "note": "Mailbox session reset."})
    # the newest line (earlier notices: the place in line, the taken one)
    await b.wait_text("li[data-kind=notice]:last-of-type", "ended the chat")
    # notices come from the room's occupant Helpdesk (SPEC §3): system
    # lines, never a person's message
    h.check(not await b.eval("document.querySelectorAll("
                             "'li[data-nick=Helpdesk]').length"),
            "no message shown as from a person named Helpdesk")
    await b.wait_fn("document.querySelector('#chat-dialog').dataset.state "
                    "=== 'ended'", 10000, "the chat ended (voice revoked)")
    await b.wait("[data-testid=leave]")
    await focused(b, "leave-chat")
    h.check(not await b.visible("#composer"), "no composer once ended")
    await axe_clean(b, "ended")
    await shots(b, "10-ended")
    # Leave offers the transcript first.
    await b.click("[data-testid=leave]")
    await b.wait("[data-testid=leave-confirm]")
    await focused(b, "leave-save")
    await b.shot("10b-leave-offers-transcript")
    await b.click("[data-testid=leave-save]")
    await b.wait(DIALOG, state="hidden")
    text = await b.eval("window.chatdeskPortal.lastTranscript")
    h.check("Thanks, trying again" in text and "resetting your mailbox" in
            text and "ended the chat" in text,
            "the saved transcript has the conversation: %r" % text)
    await b.wait("[data-testid=chat-option]")
    await focused(b, "chat-open")
    print("      end-chat explained: %r" % err)
    await no_page_errors(b)


async def test_callback_request(env):
    """Call me back appears only at answer_timeout; the phone comes from
    the directory; a bad phone gets a plain-words error."""
    tech = await tech_online(env)
    b = await open_portal(env)
    await login(b, ALICE)
    started = time.monotonic()
    chat = await start_chat(b, "VPN drops every hour")
    h.check(not await b.visible("[data-testid=callback-button]"),
            "no Call me back before answer_timeout")
    await b.wait_text("[data-testid=chat-hint]", "ask us to call you back")
    await b.wait("[data-testid=callback-button]",
                 timeout=(ANSWER_TIMEOUT + 3) * 1000)
    h.check(time.monotonic() - started >= ANSWER_TIMEOUT - 1,
            "Call me back appears at answer_timeout, not before")
    await b.click("[data-testid=callback-button]")
    await b.wait("[data-testid=callback-dialog]")
    await b.wait_fn("document.querySelector('#callback-phone').value === "
                    "'+1 555 0100'", 5000, "the phone from the directory")
    await b.fill("#callback-phone", "call me")
    await b.click("#callback-submit")
    await b.wait("[data-testid=callback-error]")
    bad = await b.text("[data-testid=callback-error]")
    h.check("for example" in bad and "Field" not in bad and "got" not in bad,
            "the bad phone is explained in plain words: %r" % bad)
    await axe_clean(b, "callback form")
    await b.shot("11-callback-bad-phone")
    await b.fill("#callback-phone", "+1 555 0100")
    await b.fill("#callback-note", "Any time after 2 pm")
    await b.click("#callback-submit")
    await b.wait("[data-testid=callback-dialog]", state="hidden")
    await b.wait_text("li[data-kind=notice]:last-of-type", "+1 555 0100")
    await b.wait_fn(state_is("callback"), 5000, "the chat in callback state")
    await b.shot("12-callback-requested")
    if "sessions" in await command_nodes(tech):
        rows = (await tech.command("sessions", {"view": "callbacks"})).items
        h.check(any(r.get("session") == chat["session"] and
                    r.get("phone") == "+1 555 0100" and
                    "2 pm" in r.get("note", "") for r in rows),
                "the tech's callbacks list has it: %r" % rows)
    await b.click("[data-testid=leave]")
    await b.click("[data-testid=leave-anyway]")
    await b.wait(DIALOG, state="hidden")
    print("      bad phone: %r" % bad)
    await no_page_errors(b)


async def test_waiting_then_allowed_then_taken(env):
    """Waiting: place in line and time waited, no End/Call back until
    answer_timeout; then they appear (and the hint switches). A tech
    joins: a line, one chime, unread count in the title while hidden."""
    tech = await tech_online(env)
    b = await open_portal(env)
    await login(b, ALICE)
    chat = await start_chat(b, "Teams has no sound")
    room = chat["room"]
    info = await b.text("[data-testid=wait-info]")
    h.check("number 1 in line" in info and "less than a minute" in info,
            "the place in line and the time waited: %r" % info)
    h.check(chat["position"] == 1, "start-chat gave position 1: %r" % chat)
    h.check(await b.text("[data-testid=chat-status]") ==
            "Waiting for a technician", "the status says waiting")
    for sel in ("[data-testid=end-chat]", "[data-testid=callback-button]"):
        h.check(not await b.visible(sel), "%s hidden while waiting" % sel)
    hint = await b.text("[data-testid=chat-hint]")
    h.check("within 6 seconds" in hint, "when the actions come: %r" % hint)
    await axe_clean(b, "waiting")
    await shots(b, "20-waiting")
    await b.wait("[data-testid=end-chat]", timeout=(ANSWER_TIMEOUT + 3) * 1000)
    await b.wait("[data-testid=callback-button]")
    await b.wait_text("[data-testid=chat-hint]", "Nobody has answered yet")
    await axe_clean(b, "waiting, actions allowed")
    await shots(b, "21-actions-allowed")

    await b.call("hidden", hidden=True)
    await h.async_wait_until(lambda: any(j == room for j, _ in
                                         conference_invites(tech)),
                             10, "the tech's invitation")
    await tech_joins(tech, room)
    await b.wait_text("#messages", "%s has joined and will help you" %
                      TECH_NAME)
    await b.wait_text("[data-testid=chat-status]", "Connected")
    say(tech, room, "Hello, checking your audio settings.")
    await b.wait_text("li[data-kind=theirs]", "audio settings")
    title = await b.eval("document.title")
    h.check(re.match(r"\((\d+)\) ", title) and
            int(re.match(r"\((\d+)\) ", title).group(1)) >= 2,
            "unread count in the title while hidden: %r" % title)
    h.check(await b.eval("window.chatdeskPortal.chimes") == 1,
            "one chime when the tech joined")
    await b.call("hidden", hidden=False)
    await b.wait_fn("!document.title.startsWith('(')", 3000,
                    "the count cleared when visible")
    joins = [t for t in await b.texts("#messages li .text")
             if "has joined and will help you" in t]
    h.check(len(joins) == 1, "the joining is said once: %r" % joins)
    h.check(not await b.visible("[data-testid=end-chat]"),
            "End chat hidden again while the tech helps")
    await axe_clean(b, "taken")
    await shots(b, "22-taken")
    await tech.command("end-session", {"session": chat["session"]})
    await b.wait_fn(state_is("ended"), 10000, "ended")
    await b.click("[data-testid=leave]")
    await b.click("[data-testid=leave-anyway]")
    await no_page_errors(b)


async def test_reload_resumes_waiting(env):
    """A reload while waiting: the chat comes back (same room, its
    history, "Reconnected") and is not abandoned."""
    tech = await tech_online(env)  # else nobody is Online: leave a message
    b = await open_portal(env)
    await login(b, ALICE)
    chat = await start_chat(b, "Scanner offline")
    await b.fill("#message-input", "Is anyone there?")
    await b.call("press", sel="#message-input", key="Enter")
    await b.wait_text("li[data-kind=mine]", "Is anyone there?")
    stored = await b.eval("JSON.stringify(Object.assign({}, sessionStorage))")
    h.check(chat["room"] in stored and h.PASSWORD not in stored,
            "the chat kept for a reload, the password not: %r" % stored)
    await b.call("reload")
    await sign_in_again(b)
    await b.wait_text("#messages", "Reconnected", timeout=15000)
    await b.wait_fn(state_is("waiting"), 10000, "waiting again")
    again = (await b.eval("window.chatdeskPortal.chats()"))[0]
    h.check(again["room"] == chat["room"], "the same chat: %r" % again)
    await b.wait_text("li[data-kind=mine]", "Is anyone there?")
    await axe_clean(b, "resumed")
    await shots(b, "23-reload-waiting")
    await asyncio.sleep(REJOIN_GRACE + 2)
    rows = (await tech.command("sessions", {"view": "waiting"})).items
    h.check(any(r.get("session") == chat["session"] for r in rows),
            "still waiting after the grace, not abandoned: %r" % rows)
    h.check(await b.attr(DIALOG, "data-state") == "waiting",
            "the portal still waiting")
    await tech.command("end-session", {"session": chat["session"]})
    await b.wait_fn(state_is("ended"), 10000, "ended")
    await b.click("[data-testid=leave]")
    await b.click("[data-testid=leave-anyway]")
    await no_page_errors(b)


async def test_reload_resumes_active(env):
    tech = await env.client(TECH)
    ticket = await create_ticket(tech, "Reload me")
    b = await open_portal(env)
    await login(b, ALICE)
    reply = await push_chat(tech, ticket, b)
    room = reply.fields["room"]
    await b.wait_fn("window.chatdeskPortal.chats().some(c => c.joined)",
                    10000, "joined")
    h.check(await b.text("[data-testid=chat-status]") ==
            "Waiting for a technician",
            "not Connected before the tech is in the room")
    await tech_joins(tech, room)
    await b.wait_text("[data-testid=chat-status]", "Connected")
    say(tech, room, "Before your reload")
    await b.wait_text("li[data-kind=theirs]", "Before your reload")
    await b.call("reload")
    await sign_in_again(b)
    await b.wait_text("#messages", "Reconnected", timeout=15000)
    await b.wait_fn(state_is("active"), 10000, "active again")
    await b.wait_text("li[data-kind=theirs]", "Before your reload")
    say(tech, room, "After your reload")
    await b.wait_text("#messages", "After your reload")
    await shots(b, "24-reload-active")
    await tech.command("end-session", {"session": reply.fields["session"]})
    await b.wait_fn(state_is("ended"), 10000, "ended")
    await b.click("[data-testid=leave]")
    await b.click("[data-testid=leave-anyway]")
    await no_page_errors(b)


async def test_push_chat_on_busy_ticket(env):
    """A second push-chat on a ticket with an open chat reuses it."""
    tech = await env.client(TECH)
    ticket = await create_ticket(tech, "Busy ticket")
    b = await open_portal(env)
    await login(b, ALICE)
    first = await push_chat(tech, ticket, b)
    await b.wait_fn("window.chatdeskPortal.chats().some(c => c.joined)",
                    10000, "joined")
    await tech_joins(tech, first.fields["room"])
    say(tech, first.fields["room"], "First message")
    await b.wait_text("li[data-kind=theirs]", "First message")
    second = await push_chat(tech, ticket, b)
    h.check(second.fields["room"] == first.fields["room"] and
            second.fields["session"] == first.fields["session"],
            "the open session is reused: %r vs %r" %
            (second.fields, first.fields))
    h.check(any("already has an open chat" in n[1] for n in second.notes),
            "the tech is told: %r" % second.notes)
    await asyncio.sleep(1)
    chats = await b.eval("window.chatdeskPortal.chats()")
    h.check(len(chats) == 1, "one chat in the portal: %r" % chats)
    await b.wait_text("li[data-kind=theirs]", "First message")
    await tech.command("end-session", {"session": first.fields["session"]})
    await b.wait_fn(state_is("ended"), 10000, "ended")
    await b.click("[data-testid=leave]")
    await b.click("[data-testid=leave-anyway]")
    await no_page_errors(b)


async def test_panel_minimise_and_close(env):
    tech = await env.client(TECH)
    ticket = await create_ticket(tech, "Panel")
    b = await open_portal(env)
    await login(b, ALICE)
    reply = await push_chat(tech, ticket, b)
    await b.wait(DIALOG)
    await b.click("[data-testid=minimise]")
    await b.wait("#message-input", state="hidden")
    await b.wait_text("#chat-open", "Open your chat")
    await b.click("[data-testid=minimise]")
    await b.wait("#message-input")
    await b.click("[data-testid=close]")
    await b.wait(DIALOG, state="hidden")
    await b.click("#chat-open")
    await b.wait(DIALOG)
    await tech.command("end-session", {"session": reply.fields["session"]})
    await b.wait_fn(state_is("ended"), 10000, "ended")
    await b.click("[data-testid=leave]")
    await b.click("[data-testid=leave-anyway]")
    await no_page_errors(b)


async def no_tech_online(env):
    """Wait until chatdesk no longer sees the tech Online (an earlier
    test's client is gone)."""
    rx = re.compile(r"%s@%s is now (\w+)" % (TECH, h.DOMAIN))

    def gone():
        seen = rx.findall(env.chatdesk.text())
        return not seen or seen[-1] != "Online"
    await h.async_wait_until(gone, 15, "the tech not Online for chatdesk")


async def tech_seen_online(env):
    """Wait until chatdesk sees the tech Online (start-chat's
    techs_online counts him; otherwise the portal offers a callback)."""
    rx = re.compile(r"%s@%s is now (\w+)" % (TECH, h.DOMAIN))

    def online():
        seen = rx.findall(env.chatdesk.text())
        return seen and seen[-1] == "Online"
    await h.async_wait_until(online, 15, "the tech Online for chatdesk")


async def test_leave_a_message(env):
    """Nobody Online: start-chat's techs_online is 0; the portal says so
    and opens the callback form at once, which the component accepts."""
    await no_tech_online(env)
    b = await open_portal(env)
    await login(b, ALICE)
    await b.click("#chat-open")
    await b.fill("#description", "Nobody home?")
    await b.click("#start-chat")
    await b.wait("[data-testid=callback-dialog]")
    await b.wait_text("#messages", "Nobody is available to chat right now")
    chat = (await b.eval("window.chatdeskPortal.chats()"))[0]
    h.check(chat["nobodyOnline"], "techs_online 0 seen: %r" % chat)
    await b.wait_fn("document.querySelector('#callback-phone').value === "
                    "'+1 555 0100'", 5000, "the phone from the directory")
    await focused(b, "callback-phone")
    h.check("Nobody is available right now" in
            await b.text("[data-testid=callback-intro]"),
            "the pop-up says why it opened")
    await axe_clean(b, "leave a message")
    await shots(b, "26-leave-a-message")
    await b.fill("#callback-note", "Mornings are best")
    await b.click("#callback-submit")
    await b.wait("[data-testid=callback-dialog]", state="hidden")
    await b.wait_fn(state_is("callback"), 5000, "the chat in callback state")
    await b.wait_text("li[data-kind=notice]:last-of-type", "+1 555 0100")
    # The phone is a tel: link, in the notice and in the confirmation.
    h.check(await b.attr("li[data-kind=notice]:last-of-type "
                         "a[data-testid=tel]", "href") == "tel:+15550100",
            "the notice's phone is a tel: link")
    h.check(await b.attr("#ended-text a[data-testid=tel]", "href") ==
            "tel:+15550100", "the confirmation's phone is a tel: link")
    await axe_clean(b, "callback requested")
    tech = await env.client(TECH)
    rows = (await tech.command("sessions", {"view": "callbacks"})).items
    h.check(any(r.get("session") == chat["session"] and
                r.get("phone") == "+1 555 0100" for r in rows),
            "the callback is recorded: %r" % rows)
    await b.click("[data-testid=leave]")
    await b.click("[data-testid=leave-anyway]")
    await tech.command("end-session", {"session": chat["session"]})
    await no_page_errors(b)


async def test_rating_after_chat(env):
    """An ended chat asks for a rating (1-5 stars, a comment): `rate`
    runs once, the contact is thanked, the ticket and history have it."""
    tech = await env.client(TECH)
    ticket = await create_ticket(tech, "Rate this chat")
    b = await open_portal(env)
    await login(b, ALICE)
    reply = await push_chat(tech, ticket, b)
    room, session = reply.fields["room"], reply.fields["session"]
    await b.wait_fn("window.chatdeskPortal.chats().some(c => c.joined)",
                    10000, "joined")
    await tech_joins(tech, room)
    say(tech, room, "Fixed, please try now.")
    await b.wait_text("li[data-kind=theirs]", "Fixed")
    h.check(not await b.visible("[data-testid=rating-form]"),
            "no rating while the chat goes on")
    await tech.command("end-session", {"session": session})
    await b.wait_fn(state_is("ended"), 10000, "ended")
    await b.wait("[data-testid=rating-form]")
    await focused(b, "leave-chat")
    await b.click("[data-testid=rating-submit]")  # no stars picked
    await b.wait_text("[data-testid=rating-error]", "choose from 1 to 5")
    await axe_clean(b, "rating")
    await b.click(".star:nth-child(4)")
    h.check(await b.eval("document.querySelectorAll('.star.on').length") == 4,
            "four stars lit")
    await b.fill("#rating-comment", "Quick and friendly")
    await shots(b, "25-rating")
    await b.click("[data-testid=rating-submit]")
    await b.wait_text("[data-testid=rating-thanks]", "Thank you")
    h.check(not await b.visible("[data-testid=rating-form]"),
            "asked once: the form is gone")
    await axe_clean(b, "rated")
    notes = cl.ticket_notes(env, ticket, "rating")
    h.check(len(notes) == 1 and "4/5" in notes[0][2] and
            "Quick and friendly" in notes[0][2],
            "a rating note on the ticket: %r" % notes)
    hist = await tech.command("history", {"contact": "%s@%s" %
                                          (ALICE, h.DOMAIN)})
    h.check(any(r.get("session") == session and r.get("rating") == "4"
                for r in hist.items), "history's rating: %r" % hist.items)
    await b.click("[data-testid=leave]")
    await b.click("[data-testid=leave-anyway]")
    await no_page_errors(b)


async def test_attach_a_file(env):
    """The attach button: the server's upload service (XEP-0363) gets the
    file; the room carries its URL as the body and a XEP-0066 link, which
    chatdesk keeps in the reflection; the image shows inline; the URL
    serves the bytes; the transcript on the ticket keeps the link."""
    tech = await env.client(TECH)
    ticket = await create_ticket(tech, "Error on screen")
    b = await open_portal(env)
    await login(b, ALICE)
    reply = await push_chat(tech, ticket, b)
    room, session = reply.fields["room"], reply.fields["session"]
    await b.wait_fn("window.chatdeskPortal.chats().some(c => c.joined)",
                    10000, "joined")
    await tech_joins(tech, room)
    await b.wait("[data-testid=attach]")
    service = await b.eval("window.chatdeskPortal.uploadService")
    h.check(service and service["jid"].startswith("upload."),
            "the upload service found by disco: %r" % service)
    await b.call("files", sel="#attach-input", file="error.png",
                 mimeType="image/png", base64=PNG)

    def oob_message():
        for m in room_messages(tech, room):
            x = m.xml.find("{%s}x" % NS_OOB)
            if x is not None and x.findtext("{%s}url" % NS_OOB):
                return m, x.findtext("{%s}url" % NS_OOB)
        return None
    await h.async_wait_until(oob_message, 15,
                             "the tech to get the file's link (OOB)")
    m, url = oob_message()
    h.check(m["body"] == url and url.endswith("/error.png"),
            "the body is the link: %r / %r" % (m["body"], url))
    h.check(urllib.request.urlopen(url, timeout=10).read() ==
            base64.b64decode(PNG), "GET returns the bytes")
    await b.wait("li[data-kind=mine] .shared img")
    await b.wait_fn("document.querySelector('li[data-kind=mine] .shared img')"
                    ".naturalWidth === 2", 10000, "the picture shown")
    h.check(not await b.visible("[data-testid=chat-error]"), "no error")
    await axe_clean(b, "a picture sent")
    await shots(b, "27-file-sent")
    await tech.command("end-session", {"session": session})
    await b.wait_fn(state_is("ended"), 10000, "ended")
    notes = cl.ticket_notes(env, ticket, "transcript")
    h.check(notes and url in notes[-1][2],
            "the transcript keeps the link: %r" % notes)
    await b.click("[data-testid=leave]")
    await b.click("[data-testid=leave-anyway]")
    await no_page_errors(b)


async def test_push_chat_opens_dialog(env):
    tech = await env.client(TECH)
    ticket = await create_ticket(tech, "New laptop setup")
    b = await open_portal(env)
    await login(b, ALICE)
    reply = await push_chat(tech, ticket, b)
    room = reply.fields["room"]
    await b.wait(DIALOG)
    await b.wait_fn("window.chatdeskPortal.chats().some(c => c.room === %s "
                    "&& c.joined)" % json.dumps(room), 10000,
                    "the portal to join %s by itself" % room)
    notes = await b.eval("window.__notifications")
    h.check(any("wants to chat" in n["body"] for n in notes),
            "a Web Notification was raised: %r" % notes)
    await tech_joins(tech, room)
    say(tech, room, "Hello Alice, your laptop is ready. When can you "
        "pick it up?")
    await b.wait_text("li[data-kind=theirs]", "laptop is ready")
    await b.wait_text("#chat-title", TECH_NAME)
    await b.shot("13-push-chat")
    await tech.command("end-session", {"session": reply.fields["session"]})
    await b.wait("[data-testid=leave]")
    # Rated already (here from another client of hers): the portal's try
    # is refused, and says so in her words.
    await b.wait("[data-testid=rating-form]")
    alice = await env.client(ALICE)
    await alice.command("rate", {"session": reply.fields["session"],
                                 "score": "5"})
    await b.click(".star:nth-child(2)")
    await b.click("[data-testid=rating-submit]")
    await b.wait_text("[data-testid=rating-thanks]", "rated this chat already")
    h.check(not await b.visible("[data-testid=rating-form]"),
            "no more asking after the refusal")
    await b.click("[data-testid=leave]")
    await b.click("[data-testid=leave-anyway]")
    await no_page_errors(b)


async def test_chat_hidden_when_not_permitted(env):
    """The admin turns chat off for bob (ad-hoc 'contact'); the portal
    does not offer him Chat, and says why."""
    admin = await env.client(ADMIN)
    await admin.command("contact", {"jid": "bob@localhost"},
                        {"company": "Acme Corp", "name": "Bob Example",
                         "phone": "+1 555 0101", "chat": "off"})
    b = await open_portal(env)
    await login(b, BOB)
    if await b.visible("[data-testid=chat-option]"):
        # The component lets start-chat show its form to anyone and refuses
        # on submit: the portal learns it then, hides Chat and says why.
        print("      (chat refused on submit, not before)")
        await b.click("#chat-open")
        await b.fill("#description", "Printer jam")
        await b.click("#start-chat")
        await b.wait("[data-testid=error]")
    await b.wait("[data-testid=chat-unavailable]")
    h.check(not await b.visible("[data-testid=chat-option]"),
            "no Chat option for bob")
    reason = await b.text("#chat-unavailable-text")
    h.check(len(reason) > 10, "the reason is shown: %r" % reason)
    await b.shot("14-chat-not-permitted")
    # Back on: the option comes back at the next login.
    env.ctl("set", "chat", "inherit", "--contact", "bob@localhost")
    b = await open_portal(env)
    await login(b, BOB)
    await b.wait("[data-testid=chat-option]")
    print("      reason shown: %r" % reason)
    await no_page_errors(b)


async def test_reconnects_after_server_restart(env):
    """The server restarts during a chat: the portal says it lost the
    connection, reconnects, is Online again for the component, rejoins
    the room without showing its history twice, and the chat goes on."""
    tech = await env.client(TECH)
    ticket = await create_ticket(tech, "After the restart")
    b = await open_portal(env)
    await login(b, ALICE)
    reply = await push_chat(tech, ticket, b)
    room = reply.fields["room"]
    joined = ("window.chatdeskPortal.chats().some(c => c.room === %s "
              "&& c.joined)" % json.dumps(room))
    await b.wait_fn(joined, 10000, "the portal in %s" % room)
    await tech_joins(tech, room)
    say(tech, room, "Before the restart")
    await b.wait_text("li[data-kind=theirs]", "Before the restart")

    await env.close_clients()
    env.server.stop()
    await b.wait("[data-testid=connection]", timeout=15000)
    h.check(await b.text("[data-testid=presence]") == "Offline",
            "the badge says Offline while reconnecting")
    await b.shot("15-reconnecting")
    env.server.start()
    env.chatdesk.wait_online(2, timeout=30)
    await b.wait("[data-testid=connection]", state="hidden", timeout=45000)
    await b.wait_fn("window.chatdeskPortal.connection === 'online'", 5000,
                    "the portal online again")
    await b.wait_fn(joined, 15000, "the portal back in %s" % room)

    tech = await env.client(TECH)
    await tech_joins(tech, room)
    say(tech, room, "After the restart")
    await b.wait_text("#messages", "After the restart")
    theirs = await b.texts("li[data-kind=theirs] .body")
    h.check(theirs == ["Before the restart", "After the restart"],
            "each message shown once after the rejoin: %r" % theirs)
    notes = await b.texts("li[data-kind=local] .text")
    h.check(not any("removed" in n or "no longer" in n for n in notes),
            "the rejoin went unnoticed by the contact: %r" % notes)
    h.check(await b.attr(DIALOG, "data-state") == "active",
            "the chat still active after the rejoin")
    await b.shot("16-after-reconnect")
    # And the component sees the contact Online again: a new push works.
    await push_chat(tech, await create_ticket(tech, "Second one"), b,
                    timeout=30)
    await no_page_errors(b)


TESTS = [test_setup_directory, test_portal_is_served,
         test_login_errors_are_shown, test_presence_online_away_online,
         test_offline_when_tab_closes, test_pre_ticket_chat,
         test_callback_request, test_push_chat_opens_dialog,
         test_chat_hidden_when_not_permitted,
         test_waiting_then_allowed_then_taken, test_reload_resumes_waiting,
         test_reload_resumes_active, test_push_chat_on_busy_ticket,
         test_rating_after_chat, test_leave_a_message, test_attach_a_file,
         test_panel_minimise_and_close,
         test_reconnects_after_server_restart]
# CHATDESK_BROWSER_ONLY=substring runs the matching tests (and the set-up).
ONLY = os.environ.get("CHATDESK_BROWSER_ONLY")
if ONLY:
    TESTS = [t for t in TESTS
             if t is test_setup_directory or ONLY in t.__name__]

h.main(TESTS, users=[ADMIN, TECH, ALICE, BOB],
       chatdesk_extra="\n[chat]\nanswer_timeout = %d\nrejoin_grace = %d\n" %
       (ANSWER_TIMEOUT, REJOIN_GRACE))
