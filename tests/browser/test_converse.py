# servers: prosody
"""The tech side with the real Converse.js (npm converse.js 14, in
tests/browser/node_modules) in headless Chromium, against a real Prosody
and chatdesk (SPEC §8: the test of a tech feature is an unmodified client).

A tiny local HTTP server serves tests/browser/converse/index.html and
Converse's dist/; the page connects to the test Prosody's WebSocket as the
tech. Converse cannot approve chatdesk's subscription request (a bare
domain JID), so the tech auto-joins the queue room, as the README tells
techs to (a bookmark with auto-join; here the auto_join_rooms setting).
The contact is a slixmpp client. Screenshots go to the artifacts dir
(driver.py).
"""

import functools
import http.server
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from e2e import chatlib as cl  # noqa: E402
from e2e import harness as h  # noqa: E402
from driver import HERE, browser  # noqa: E402

CONVERSE = os.path.join(HERE, "node_modules", "converse.js", "dist")
TECH, TECH_NAME, ALICE = "carol", "Carol Tech", "alice"
QUEUE = "queue@" + h.COMPONENT


class StaticServer:
    """tests/browser/ over HTTP on a free loopback port (a thread); stop()
    for Env.shutdown()."""

    def __init__(self):
        handler = functools.partial(_QuietHandler, directory=HERE)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


async def converse(env):
    """The browser on the Converse page, logged in as the tech."""
    if getattr(env, "static", None) is None:
        env.static = StaticServer()
        env.extra.append(env.static)
    b = await browser(env, needs=(CONVERSE,))
    ws = "ws://127.0.0.1:%d/xmpp-websocket" % env.server.http_port
    await b.call("open", url="http://127.0.0.1:%d/converse/index.html?%s" % (
        env.static.port, "&".join("%s=%s" % kv for kv in (
            ("jid", "%s@%s" % (TECH, h.DOMAIN)), ("password", h.PASSWORD),
            ("ws", ws), ("queue", QUEUE)))), ready="attached")
    return b


async def test_setup_directory(env):
    d = env.workdir
    files = {
        "companies.csv": "name\nAcme Corp\n",
        "contacts.csv": "jid,company,name,phone\n"
                        "alice@localhost,Acme Corp,Alice Example,+1 555\n",
        "techs.csv": "jid,name,admin\ncarol@localhost,%s,no\n" % TECH_NAME,
    }
    for name, text in files.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    for kind in ("companies", "contacts", "techs"):
        env.ctl("import", kind, os.path.join(d, kind + ".csv"))


def room_box(room):
    return 'converse-muc[jid="%s"]' % room


async def command_ui(b, node):
    """Open Converse's ad-hoc command UI (the settings cog, Commands tab),
    list the component's commands and open node's form."""
    if not await b.visible("converse-adhoc-commands"):
        await b.click(".show-client-info")
        await b.click("#commands-tab")
    if not await b.visible('a[data-command-node="%s"]' % node):
        await b.fill("converse-adhoc-commands input[name=jid]", h.COMPONENT)
        await b.click("converse-adhoc-commands input[type=submit]")
    await b.click('a[data-command-node="%s"]' % node)
    await b.wait("converse-adhoc-commands form.converse-form "
                 "input[data-action=complete]")


async def test_tech_takes_answers_and_ends_in_converse(env):
    """Converse.js as the tech: the invitation to a waiting chat joins
    the room (auto_join_on_invite), the contact's message shows, the
    answer reaches the contact; sessions and end-session run from
    Converse's Commands tab; the end notice from Helpdesk shows in the
    room."""
    mark = cl.log_mark(env)
    b = await converse(env)
    await cl.wait_presence(env, TECH, "Online", mark, timeout=30)
    await b.shot("converse-01-in-the-queue")

    # the contact as the portal is: directed presence to the component
    # (chatdesk asks for the presence of the people it knew at start only)
    mark = cl.log_mark(env)
    alice = await cl.login(env, ALICE, known=False)
    alice.send_presence(pto=h.COMPONENT)
    await cl.wait_presence(env, ALICE, "Online", mark)
    chat = await alice.command("start-chat", {"description": "Printer on fire"})
    room, session = chat.fields["room"], chat.fields["session"]
    await cl.join(alice, room, "alice")
    cl.say(alice, room, "It smokes a little")
    box = room_box(room)
    await b.wait_text(box + " converse-message-history", "It smokes a little",
                      timeout=20000)
    await cl.wait_state(env, session, "active", timeout=10)
    await b.shot("converse-02-joined-on-invitation")
    shown = await b.text(box + " converse-message-history")
    h.check("no longer an owner" not in shown,
            "the owner list names Helpdesk as its presence does: %r" % shown)

    mark_a = cl.Mark(alice)
    await b.fill(box + " textarea.chat-textarea", "Unplug it, please")
    await b.call("press", sel=box + " textarea.chat-textarea", key="Enter")
    await cl.wait_message(alice, cl.groupchat_from(
        room, TECH_NAME, "Unplug it, please"), mark_a, timeout=10,
        what="the tech's answer")

    await command_ui(b, "sessions")
    await b.click("converse-adhoc-commands input[data-action=complete]")
    # Converse 14 draws no table for a completed result (it keeps only the
    # fields of the first stage); it shows the <note/>, where chatdesk
    # writes the rows as text (SPEC §8)
    await b.wait_text("converse-adhoc-commands",
                      "Session: %s; Room: %s" % (session, room))
    await b.shot("converse-03-sessions")

    await command_ui(b, "end-session")
    await b.fill("converse-adhoc-commands input[name=session]", session)
    await b.click("converse-adhoc-commands input[data-action=complete]")
    await cl.wait_state(env, session, "ended", timeout=10)
    await b.call("press", sel="body", key="Escape")
    await b.wait("converse-adhoc-commands", state="hidden")
    await b.wait_text(box + " converse-message-history",
                      "%s ended the chat." % TECH_NAME)
    shown = await b.text(box)
    h.check("no longer a moderator" not in shown and
            "no longer moderators" not in shown,
            "the member lists leave the roles alone: %r" % shown)
    await b.shot("converse-04-ended")


if __name__ == "__main__":
    h.main([test_setup_directory,
            test_tech_takes_answers_and_ends_in_converse],
           users=[TECH, ALICE])
