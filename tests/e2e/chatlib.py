"""Shared helpers for the chat-session end-to-end tests (SPEC §2, §3).

The directory is written with chatdeskctl before chatdesk starts, so that
chatdesk subscribes to every tech and contact when it connects; clients
then log in, approve the subscription (slixmpp's default) and chatdesk
learns their presence, which the tests wait for in chatdesk's debug log
("<jid> is now Online") instead of sleeping.

    env = h.Env(USERS, chatlib.CHAT_EXTRA, start_chatdesk=False)
    chatlib.main(setup, tests, users, ...)   # setup writes the directory
"""

import asyncio
import contextlib
import datetime
import io
import os
import re
import sqlite3
import urllib.request

from slixmpp.exceptions import IqError, PresenceError
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from e2e import harness as h

NS_CONFERENCE = "jabber:x:conference"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_SID = "urn:xmpp:sid:0"
NS_DELAY = "urn:xmpp:delay"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"

NOTICE_NICK = "Helpdesk"  # every room's own occupant (SPEC §3)
ANSWER_TIMEOUT = 2
IDLE_TIMEOUT = 3
PRESENCE_GRACE = 5  # CHAT_PRESENCE_GRACE_MS in component/chat/presence.h
CHAT_EXTRA = "[chat]\nanswer_timeout = %d\nidle_timeout = %d\n" % (
    ANSWER_TIMEOUT, IDLE_TIMEOUT)

COMPANIES = """name,chat,pre_ticket,callback
Acme,inherit,inherit,inherit
Globex,inherit,off,inherit
Initech,inherit,inherit,off
"""
CONTACTS = """jid,company,name,phone,chat
alice@localhost,Acme,Alice Liddell,+1 555 0100,
bob@localhost,Acme,Bob Builder,+1 555 0101,
carl@localhost,Globex,Carl Globex,+1 555 0102,
dave@localhost,Acme,Dave Nochat,+1 555 0103,off
ivan@localhost,Initech,Ivan Initech,+1 555 0104,
"""
TECHS = """jid,name,admin
tom@localhost,Tom Tech,no
tina@localhost,Tina Tech,no
amy@localhost,Amy Away,no
ben@localhost,Ben Busy,no
"""
CONTACT_USERS = ["alice", "bob", "carl", "dave", "ivan"]
TECH_USERS = ["tom", "tina", "amy", "ben"]
USERS = CONTACT_USERS + TECH_USERS + ["eve"]  # eve: a stranger


def jid(user):
    return "%s@%s" % (user, h.DOMAIN)


def write_directory(env, companies=None, contacts=None, techs=None):
    """Import companies, contacts and techs (CSV texts; the sample
    directory above by default) through chatdeskctl."""
    for kind, text in (("companies", companies or COMPANIES),
                       ("contacts", contacts or CONTACTS),
                       ("techs", techs or TECHS)):
        path = os.path.join(env.workdir, "%s.csv" % kind)
        with open(path, "w") as f:
            f.write(text)
        env.ctl("import", kind, path)


def write_acme_directory(env, users):
    """One company, Acme, with users as its contacts ("User N" from uN) and
    tom as the one tech: for tests that need many rooms."""
    write_directory(
        env, companies="name,chat,pre_ticket,callback\n"
                       "Acme,inherit,inherit,inherit\n",
        contacts="jid,company,name,phone,chat\n" + "".join(
            "%s@localhost,Acme,User %s,,\n" % (u, u[1:]) for u in users),
        techs="jid,name,admin\ntom@localhost,Tom Tech,no\n")


# ---- chatdesk's log -------------------------------------------------------

def log_mark(env):
    """The current length of chatdesk's log (a start for wait_log)."""
    return len(env.chatdesk.text())


async def wait_log(env, pattern, since=0, timeout=10):
    """Wait until chatdesk's log after offset since matches pattern."""
    rx = re.compile(pattern)
    await h.async_wait_until(lambda: rx.search(env.chatdesk.text()[since:]),
                             timeout, "chatdesk log /%s/" % pattern)


async def wait_presence(env, user, name, since=0, timeout=10):
    """Wait until chatdesk logged that user is now name (Online, ...)."""
    await wait_log(env, r"%s is now %s\b" % (re.escape(jid(user)), name),
                   since, timeout)


async def login(env, user, show=None, resource="test", known=None,
                presence=True, authorize=True):
    """A client for user; waits until chatdesk sees the presence it sends
    (Online/Away/Busy from show) unless known is False. authorize=False:
    the client refuses presence subscriptions (chatdesk's too)."""
    mark = log_mark(env)
    c = h.Client(user, resource=resource)
    if not authorize:
        c.auto_authorize = False
    # slixmpp's "message" event needs a <body/> and its "presence" event
    # skips MUC occupants: keep every stanza ourselves.
    c.messages, c.presences = [], []
    c.register_handler(Callback("all messages", MatchXPath(
        "{jabber:client}message"), c.messages.append))
    c.register_handler(Callback("all presence", MatchXPath(
        "{jabber:client}presence"), c.presences.append))
    await c.start(env.server.c2s_port, presence=presence, show=show)
    env.clients.append(c)
    if presence and known is not False:
        want = {None: "Online", "away": "Away", "xa": "Away",
                "dnd": "Busy" if user in TECH_USERS else "Away"}[show]
        await wait_presence(env, user, want, mark)
    return c


# ---- waiting for stanzas --------------------------------------------------

class Mark:
    """Remembers where a client's message and presence lists stood."""

    def __init__(self, client):
        self.client = client
        self.m = len(client.messages)
        self.p = len(client.presences)

    def messages(self):
        return self.client.messages[self.m:]

    def presences(self):
        return self.client.presences[self.p:]


async def _wait_first(client, items, start, pred, timeout, what):
    """The first of items()[start:] (what the client received so far) for
    which pred is true, waiting up to timeout seconds."""
    found = []

    def look():
        for x in items()[start:]:
            if pred(x):
                found.append(x)
                return True
        return False
    await h.async_wait_until(look, timeout, "%s for %s" % (what,
                                                           client.boundjid))
    return found[0]


async def wait_message(client, pred, since=None, timeout=5, what="message"):
    """The first message after mark since (a Mark, or the start) for which
    pred(msg) is true."""
    return await _wait_first(client, lambda: client.messages,
                             since.m if since else 0,
                             pred, timeout, what)


async def no_message(client, pred, since=None, wait=0.5, what="message"):
    """Check that no message matching pred arrives within wait seconds."""
    start = since.m if since else 0
    await asyncio.sleep(wait)
    bad = [m for m in client.messages[start:] if pred(m)]
    h.check(not bad, "no %s for %s, got %s" % (what, client.boundjid,
                                               [str(m) for m in bad]))


async def wait_presence_stanza(client, pred, since=None, timeout=5,
                               what="presence"):
    return await _wait_first(client, lambda: client.presences,
                             since.p if since else 0, pred, timeout, what)


def invitation(msg):
    """The XEP-0249 <x/> of a message, or None."""
    return msg.xml.find("{%s}x" % NS_CONFERENCE)


def is_invite_to(room):
    def pred(m):
        x = invitation(m)
        return x is not None and x.get("jid") == room
    return pred


def mediated_invite(msg):
    """The XEP-0045 <invite/> of a message, or None."""
    return msg.xml.find("{%s}x/{%s}invite" % (NS_MUC_USER, NS_MUC_USER))


def body(msg):
    return msg["body"] or ""


def stanza_id(msg, by):
    for el in msg.xml.findall("{%s}stanza-id" % NS_SID):
        if el.get("by") == by:
            return el.get("id")
    return None


def delay_stamp(msg):
    el = msg.xml.find("{%s}delay" % NS_DELAY)
    return el.get("stamp") if el is not None else None


def groupchat_from(room, nick=None, text=None):
    """A groupchat message in room (from nick; None: a system notice, from
    the room's own occupant NOTICE_NICK) whose body contains text."""
    def pred(m):
        if m["type"] != "groupchat" or m["from"].bare != room:
            return False
        if m["from"].resource != (NOTICE_NICK if nick is None else nick):
            return False
        return text is None or text in body(m)
    return pred


def error_message(room, condition):
    def pred(m):
        return (m["type"] == "error" and m["from"].bare == room and
                m["error"]["condition"] == condition)
    return pred


def muc_items(pres):
    """(role, affiliation, jid) of a MUC presence, and its status codes."""
    item = pres.xml.find("{%s}x/{%s}item" % (NS_MUC_USER, NS_MUC_USER))
    codes = [int(s.get("code")) for s in pres.xml.findall(
        "{%s}x/{%s}status" % (NS_MUC_USER, NS_MUC_USER))]
    if item is None:
        return None, None, None, codes
    return item.get("role"), item.get("affiliation"), item.get("jid"), codes


# ---- rooms ----------------------------------------------------------------

async def join(client, room, nick, timeout=10):
    """Join room; returns (self presence, subject message, occupant
    presences, history messages)."""
    # slixmpp 1.8.3 prints the <delay/> of every history message
    with contextlib.redirect_stdout(io.StringIO()):
        return await client["xep_0045"].join_muc_wait(room, nick,
                                                      timeout=timeout)


async def join_error(client, room, nick, timeout=10):
    """Join room expecting an error; returns the error condition and
    text."""
    try:
        await client["xep_0045"].join_muc_wait(room, nick, timeout=timeout)
    except PresenceError as e:
        return e.presence["error"]["condition"], e.presence["error"]["text"]
    raise h.TestFailure("joining %s as %s should have failed" %
                        (room, client.boundjid))


def leave(client, room, nick):
    client["xep_0045"].leave_muc(room, nick)


def say(client, room, text, mid=None):
    msg = client.make_message(mto=room, mbody=text, mtype="groupchat")
    if mid:
        msg["id"] = mid
    msg.send()
    return msg["id"]


def send_state(client, room, state):
    msg = client.make_message(mto=room, mtype="groupchat")
    ET.SubElement(msg.xml, "{%s}%s" % (NS_CHATSTATES, state))
    msg.send()


# ---- commands -------------------------------------------------------------

async def start_chat(client, description):
    r = await client.command("start-chat", {"description": description})
    h.check(r.status == "completed" and r.form_type == "result",
            "start-chat completes with a result form")
    return r.fields


async def error_of(awaitable):
    """(condition, text) of an iq that must fail."""
    try:
        await awaitable
    except IqError as e:
        return e.iq["error"]["condition"], e.iq["error"]["text"] or ""
    raise h.TestFailure("expected an error, got a result")


# ---- the database ---------------------------------------------------------

def _pg_literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, (int, float)):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def _pg_value(v):
    return int(v) if v is not None and re.fullmatch(r"-?\d+", v) else v


def db_rows(env, sql, args=()):
    """Rows of a read-only query with ? parameters, on either store."""
    if env.chatdesk.db_url:
        parts = sql.split("?")
        text = parts[0] + "".join(_pg_literal(a) + p
                                  for a, p in zip(args, parts[1:]))
        return [tuple(_pg_value(v) for v in row)
                for row in env.pg.psql(env.chatdesk.db_url, text)]
    con = sqlite3.connect("file:%s?mode=ro" % env.chatdesk.db, uri=True,
                          timeout=5)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def db_write(env, sql, args=()):
    """Run one statement with ? parameters that changes the store, as an
    operator or a PSA would by hand, on either store."""
    if env.chatdesk.db_url:
        parts = sql.split("?")
        text = parts[0] + "".join(_pg_literal(a) + p
                                  for a, p in zip(args, parts[1:]))
        env.pg.psql(env.chatdesk.db_url, text)
        return
    con = sqlite3.connect(env.chatdesk.db, timeout=10)
    try:
        with con:
            con.execute(sql, args)
    finally:
        con.close()


def db_script(env, statements):
    """Run (sql, args) statements with ? parameters in one transaction on
    either store (a bulk load: one psql on PostgreSQL)."""
    if env.chatdesk.db_url:
        text = []
        for sql, args in statements:
            parts = sql.split("?")
            text.append(parts[0] + "".join(_pg_literal(a) + p
                                           for a, p in zip(args, parts[1:])))
        env.pg.psql(env.chatdesk.db_url, ";\n".join(text) + ";")
        return
    con = sqlite3.connect(env.chatdesk.db, timeout=10)
    try:
        with con:
            for sql, args in statements:
                con.execute(sql, args)
    finally:
        con.close()


def session_state(env, session):
    rows = db_rows(env, "SELECT state FROM sessions WHERE id = ?",
                   (int(session),))
    return rows[0][0] if rows else None


async def wait_state(env, session, state, timeout=5):
    await h.async_wait_until(lambda: session_state(env, session) == state,
                             timeout, "session %s %s (is %s)" %
                             (session, state, session_state(env, session)))


def ticket_notes(env, ticket, kind=None):
    sql = "SELECT kind, author, text FROM ticket_notes WHERE ticket_id = ?"
    args = [int(ticket)]
    if kind:
        sql += " AND kind = ?"
        args.append(kind)
    return db_rows(env, sql + " ORDER BY id", args)


# ---- office hours ---------------------------------------------------------

def close_office(env, how="holiday"):
    """Make now outside office hours: today a holiday, or no hours."""
    if how == "holiday":
        today = datetime.datetime.utcnow().strftime("%Y-%m-%d")
        env.ctl("set", "holidays", today)
    else:
        env.ctl("set", "office-hours", "none")


def open_office(env):
    env.ctl("unset", "holidays")
    env.ctl("unset", "office-hours")


# ---- running ----------------------------------------------------------------

def main(setup, tests, users=USERS, extra=CHAT_EXTRA, server_kw=None):
    """h.main with chatdesk started by the first test, setup(env), after
    the directory is written."""
    async def start_with_directory(env):
        write_directory(env)
        if setup:
            setup(env)
        env.chatdesk.start()
        h.check(env.chatdesk.proc.poll() is None, "chatdesk running")
    h.main([start_with_directory] + list(tests), users=users,
           chatdesk_extra=extra, start_chatdesk=False, server_kw=server_kw)


METRIC_SAMPLE = re.compile(r"^([a-z_]+(?:\{[^}]*\})?) (\S+)$", re.M)


def scrape_metrics(port):
    """chatdesk's /metrics on 127.0.0.1:port ([metrics] listen) as a dict
    of sample name (with its labels) -> value."""
    url = "http://127.0.0.1:%d/metrics" % port
    with urllib.request.urlopen(url, timeout=10) as r:
        h.check(r.status == 200, "/metrics answers 200")
        h.check(r.headers["Content-Type"].startswith("text/plain"),
                "Prometheus text: %s" % r.headers["Content-Type"])
        text = r.read().decode()
    return {k: float(v) for k, v in METRIC_SAMPLE.findall(text)}
