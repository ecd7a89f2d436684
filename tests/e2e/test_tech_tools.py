# databases: sqlite, postgresql
# pg-servers: prosody, ejabberd
"""The tech tools of SPEC §4 through a real server, chatdesk and slixmpp.

Before chatdesk starts, the directory is imported with chatdeskctl and 130
past sessions (plus one with a 25-message archive) are written straight
into chatdesk's database (sqlite3, or one psql on PostgreSQL: e2e-pg), as
a bulk load. Then, with real
clients: the four `sessions` views and their columns (a waiting session
from start-chat, the active one a tech joined, the seeded abandoned and
callback ones); `history` with every filter (company, contact, text,
since, until), its errors and its multi-step paging; `view-session` with
the transcript; closer-only `closing-note`; XEP-0313 paging of a room's
archive from slixmpp's xep_0313 plugin (forwards, the last page with an
empty <before/>, backwards, filters, the form, the metadata, access); and
the abandoned-session follow-up: a contact abandons, a tech finds it in
`abandoned`, pushes a chat to the contact once Online, closes the abandoned
session with end-session and a note, and only that tech may edit the note.
Prints one line per test and "N passed, M failed" last; exits non-zero on
any failure.
"""

import asyncio
import contextlib
import datetime
import io
import os
import re

from slixmpp.exceptions import IqError
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from e2e import chatlib as cl
from e2e import harness as h

NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_FORWARD = "urn:xmpp:forward:0"
NS_DELAY = "urn:xmpp:delay"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
COLUMNS = ["session", "room", "ticket", "company", "contact", "state",
           "created", "phone", "note"]
HISTORY_COLUMNS = COLUMNS + ["transfers", "rating"]  # SPEC §9

COMPANIES = "name,chat,pre_ticket,callback\nAcme,,,\nGlobex,,,\n"
CONTACTS = ("jid,company,name,phone,chat\n"
            "alice@localhost,Acme,Alice,+1 555 0100,\n"
            "bob@localhost,Acme,Bob,+1 555 0101,\n"
            "carl@localhost,Globex,Carl,+1 555 0102,\n")
TECHS = ("jid,name,admin\ntom@localhost,Tom,no\ntina@localhost,Tina,no\n"
         "sam@localhost,Sam,no\n")
USERS = ["alice", "bob", "carl", "tom", "tina", "eve"]

SEED_BASE = 1740787200  # 2025-03-01T00:00:00Z
SEED_COUNT = 130        # one an hour from SEED_BASE
SEED_CONTACTS = ["alice", "bob", "carl"]
SEED_ABANDONED = (11, 12)
SEED_CALLBACK = (21, 22)
SEED_KERBEROS = 42
ARCHIVE_AT = SEED_BASE + 200 * 3600  # 2025-03-09T08:00:00Z, m1..m25
                                     # ten seconds apart
seeded = {}                          # name -> session id


def jid(user):
    return "%s@%s" % (user, h.DOMAIN)


def room_of(session):
    return "chat-%s@%s" % (session, h.COMPONENT)


# ---- seeding the database before chatdesk starts ----------------------------

def write_directory(env):
    for kind, text in (("companies", COMPANIES), ("contacts", CONTACTS),
                       ("techs", TECHS)):
        path = os.path.join(env.workdir, "%s.csv" % kind)
        with open(path, "w") as f:
            f.write(text)
        env.ctl("import", kind, path)


def seed_session(out, ids, i, user, created, state, lines):
    """One past session of user with its ticket and messages (lines of
    (author, body), author a user name) as statements appended to out;
    its ticket and session take the next id of ids (explicit: the same on
    both stores); returns the session id."""
    company_id, contact_id = ids["contact"][user]
    ids["next"] += 1
    sid = ticket = ids["next"]
    out.append(("INSERT INTO tickets (id, company_id, contact_id, summary, "
                "created) VALUES (?, ?, ?, ?, ?)",
                (ticket, company_id, contact_id, "Seeded issue %d" % i,
                 created)))
    answered = state in ("ended", "closed")
    callback = state == "callback"
    out.append((
        "INSERT INTO sessions (id, ticket_id, company_id, contact_jid, state, "
        "description, created, answered_at, answered_by, ended_at, "
        "closer_jid, last_activity, callback_phone, callback_note, "
        "closing_note, closing_note_by, closing_note_at) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (sid, ticket, company_id, jid(user), state, "Seeded issue %d" % i,
         created, created + 30 if answered else None,
         jid("sam") if answered else None, created + 600,
         jid("sam") if answered else None, created,
         "+44 20 7946 %04d" % i if callback else None,
         "mornings please" if callback else None,
         "Seeded note %d" % i if state == "closed" else None,
         jid("sam") if state == "closed" else None,
         created + 700 if state == "closed" else None)))
    member = ("INSERT INTO session_members (session_id, jid, kind, nick, "
              "joined_at) VALUES (?, ?, ?, ?, ?)")
    out.append((member, (sid, jid(user), "contact", user.capitalize(),
                         created)))
    if answered:
        out.append((member, (sid, jid("sam"), "tech", "Sam", created)))
    for k, (author, text) in enumerate(lines):
        out.append((
            "INSERT INTO messages (stanza_id, session_id, from_jid, nick, "
            "body, created, kind) VALUES (?, ?, ?, ?, ?, ?, 'chat')",
            ("%08x%08x" % (sid, k), sid, jid(author), author.capitalize(),
             text, created + 10 * k)))
    return sid


def seed(env):
    """Directory through chatdeskctl, sessions written straight into the
    store in one transaction (on sqlite not indexed for search yet: a text
    search indexes pending messages first, history_index_pending())."""
    write_directory(env)
    ids = {"next": 0, "contact": {}}
    for user in SEED_CONTACTS:
        ids["contact"][user] = cl.db_rows(
            env, "SELECT company_id, id FROM contacts WHERE jid = ?",
            (jid(user),))[0]
    out = []
    for i in range(SEED_COUNT):
        user = SEED_CONTACTS[i % 3]
        state = ("abandoned" if i in SEED_ABANDONED else
                 "callback" if i in SEED_CALLBACK else
                 "closed" if i % 10 == 9 else "ended")
        words = "the kerberos ticket expired" if i == SEED_KERBEROS else \
            "my printer needs toner" if i % 5 == 0 else "screen is dark"
        lines = [(user, "Hello, %s" % words)]
        if state in ("ended", "closed"):
            lines.append(("sam", "Let me look at issue %d" % i))
        seeded[i] = seed_session(out, ids, i, user, SEED_BASE + i * 3600,
                                 state, lines)
    seeded["archive"] = seed_session(
        out, ids, 999, "alice", ARCHIVE_AT, "ended",
        [("alice" if k % 2 else "sam", "m%d" % k) for k in range(1, 26)])
    if env.chatdesk.db_url:  # explicit ids: move the identity sequences on
        out += [("SELECT setval(pg_get_serial_sequence('%s', 'id'), ?)" % t,
                 (ids["next"],)) for t in ("tickets", "sessions")]
    cl.db_script(env, out)


# ---- clients -------------------------------------------------------------------

async def wait_log(env, pattern, since):
    rx = re.compile(pattern)
    await h.async_wait_until(lambda: rx.search(env.chatdesk.text()[since:]),
                             10, "chatdesk log /%s/" % pattern)


async def login(env, user):
    """A client whose presence chatdesk has seen (Online); keeps every
    message stanza in c.all."""
    mark = len(env.chatdesk.text())
    c = h.Client(user)
    for p in ("xep_0059", "xep_0297", "xep_0313"):
        c.register_plugin(p)
    c.all = []
    c.register_handler(Callback("all messages", MatchXPath(
        "{jabber:client}message"), c.all.append))
    await c.start(env.server.c2s_port)
    env.clients.append(c)
    await wait_log(env, r"%s is now Online\b" % re.escape(jid(user)), mark)
    return c


async def wait_message(client, pred, start, what):
    found = []

    def look():
        found.extend(m for m in client.all[start:] if pred(m))
        return bool(found)
    await h.async_wait_until(look, 10, "%s for %s" % (what, client.boundjid))
    return found[0]


async def join(client, room, nick):
    with contextlib.redirect_stdout(io.StringIO()):  # slixmpp prints delays
        await client["xep_0045"].join_muc_wait(room, nick, timeout=10)


async def say(client, room, text, readers):
    """Send a groupchat message and wait until every reader got it."""
    starts = [len(r.all) for r in readers]
    client.send_message(mto=room, mbody=text, mtype="groupchat")
    for r, start in zip(readers, starts):
        await wait_message(r, lambda m: m["type"] == "groupchat" and
                           m["body"] == text, start, "'%s'" % text)


async def error_of(awaitable):
    try:
        await awaitable
    except IqError as e:
        return e.iq["error"]["condition"], e.iq["error"]["text"] or ""
    raise h.TestFailure("expected an error, got a result")


def state_of(env, session):
    return cl.session_state(env, session)


async def wait_state(env, session, state):
    await h.async_wait_until(lambda: state_of(env, session) == state, 10,
                             "session %s %s" % (session, state))


def reported(reply):
    table = reply.cmd.find("{%s}x/{%s}reported" % (h.NS_DATA, h.NS_DATA))
    h.check(table is not None, "a <reported/> in the result")
    return [f.get("var") for f in table.findall("{%s}field" % h.NS_DATA)]


def ids(reply):
    return [int(r["session"]) for r in reply.items]


def notes(reply):
    return " ".join(text for _, text in reply.notes)


# ---- sessions -------------------------------------------------------------------

shared = {}  # what a test leaves for the next ones


async def test_sessions_views(env):
    alice = await login(env, "alice")
    tom = await login(env, "tom")
    start = await alice.command("start-chat", {"description": "Paper jam"})
    session = start.fields["session"]
    shared["jam"] = session
    waiting = await tom.command("sessions", {"view": "waiting"})
    h.check(waiting.status == "completed" and waiting.form_type == "result",
            "sessions completes with a result")
    h.check(reported(waiting) == COLUMNS, "columns: %r" % reported(waiting))
    rows = [r for r in waiting.items if r["session"] == session]
    h.check(len(rows) == 1, "the new session is waiting: %r" % waiting.items)
    row = rows[0]
    h.check(row["room"] == room_of(session) and row["company"] == "Acme" and
            row["contact"] == jid("alice") and row["state"] == "waiting" and
            row["ticket"] == start.fields["ticket"] and
            ISO_UTC.match(row["created"]), "the waiting row: %r" % row)

    abandoned = await tom.command("sessions", {"view": "abandoned"})
    h.check(ids(abandoned) == [seeded[i] for i in SEED_ABANDONED],
            "the seeded abandoned sessions, oldest first: %r" %
            abandoned.items)
    callbacks = await tom.command("sessions", {"view": "callbacks"})
    h.check(ids(callbacks) == [seeded[i] for i in SEED_CALLBACK],
            "the seeded callbacks: %r" % callbacks.items)
    h.check(callbacks.items[0]["phone"] == "+44 20 7946 0021" and
            callbacks.items[0]["note"] == "mornings please" and
            callbacks.items[0]["created"] == "2025-03-01T21:00:00Z",
            "callback phone, note and time: %r" % callbacks.items[0])

    empty = await tom.command("sessions", {})  # view defaults to mine
    h.check(empty.items == [] and "No session" in notes(empty),
            "nothing is Tom's yet: %r" % empty.items)
    await join(alice, room_of(session), "Alice")
    await join(tom, room_of(session), "Tom")
    await wait_state(env, session, "active")
    await say(alice, room_of(session), "The printer ate my report", [tom])
    await say(tom, room_of(session), "Open tray 2, pull gently", [alice])
    mine = await tom.command("sessions", {"view": "mine"})
    h.check(ids(mine)[:1] == [int(session)] and
            mine.items[0]["state"] == "active", "mine: %r" % mine.items)
    h.check(reported(mine) == COLUMNS, "the same columns for mine")
    cond, _ = await error_of(alice.command("sessions", {"view": "mine"}))
    h.check(cond == "forbidden", "a contact may not list sessions: %s" % cond)


# ---- history ---------------------------------------------------------------------

SEEDED_WINDOW = {"since": "2025-03-01", "until": "2025-03-31"}


async def test_history_filters(env):
    tom = await login(env, "tom")

    async def history(fields):
        r = await tom.command("history", fields)
        h.check(r.status == "completed", "one page completes: %s" % fields)
        h.check(reported(r) == HISTORY_COLUMNS, "history columns")
        return ids(r)

    got = await history({"company": "Globex", **SEEDED_WINDOW})
    want = [seeded[i] for i in reversed(range(SEED_COUNT)) if i % 3 == 2]
    h.check(got == want, "company Globex = carl's, newest first: %r" % got)
    got = await history({"contact": jid("bob"), "text": "toner",
                         "until": "2025-03-31"})
    want = [seeded[i] for i in reversed(range(SEED_COUNT))
            if i % 3 == 1 and i % 5 == 0]
    h.check(got == want, "contact bob + text toner: %r" % got)
    got = await history({"text": "KERBEROS ticket"})
    h.check(got == [seeded[SEED_KERBEROS]], "text kerberos: %r" % got)
    got = await history({"text": "kerb*"})
    h.check(got == [seeded[SEED_KERBEROS]], "text prefix kerb*: %r" % got)
    got = await history({"text": "kerberos look"})  # in two messages
    h.check(got == [seeded[SEED_KERBEROS]], "words across messages: %r" % got)
    got = await history({"since": "2025-03-02T00:00:00Z",
                         "until": "2025-03-02"})
    want = [seeded[i] for i in reversed(range(24, 48))]
    h.check(got == want, "one day by since/until: %r" % got)
    got = await history({"since": "2025-03-09T08:00:00+00:00",
                         "until": "2025-03-09T08:00:00Z"})
    h.check(got == [seeded["archive"]], "ISO times, inclusive: %r" % got)
    r = await tom.command("history", {"text": "nothing-like-this"})
    h.check(r.items == [] and "No past session" in notes(r),
            "no match: %r" % r.notes)
    for fields, text in (({"since": "March"}, r"Field 'since'"),
                         ({"until": "2025-02-30"}, r"Field 'until'"),
                         ({"company": "Initech"}, r"Field 'company'"),
                         ({"contact": "eve@localhost"}, r"Field 'contact'"),
                         ({"text": "?!"}, r"Field 'text'"),
                         ({"since": "2025-04-01", "until": "2025-03-01"},
                          r"Field 'until' is before")):
        await h.expect_error(tom.command("history", fields), "bad-request",
                             text)


async def step(client, node, sessionid, action):
    """One more request of a running command, with action (and no form)."""
    iq = client.make_iq_set(ito=h.COMPONENT)
    cmd = h.ET.Element("{%s}command" % h.NS_COMMANDS, node=node,
                       action=action, sessionid=sessionid)
    iq.append(cmd)
    return h.CommandReply(await iq.send(timeout=15))


def actions(reply):
    a = reply.cmd.find("{%s}actions" % h.NS_COMMANDS)
    order = ["prev", "next", "complete"]
    got = [] if a is None else [c.tag.split("}")[1] for c in a]
    return sorted(got, key=order.index)


async def test_history_paging(env):
    tom = await login(env, "tom")
    everything = [seeded[i] for i in reversed(range(SEED_COUNT))]
    everything.insert(0, seeded["archive"])  # 131 sessions in the window
    first = await tom.command("history")
    h.check(first.status == "executing" and "page" in first.fields,
            "the filter form, with a page field: %r" % first.fields)
    p1 = await tom.command("history", SEEDED_WINDOW)
    h.check(p1.status == "executing" and p1.form_type == "result" and
            ids(p1) == everything[:50], "page 1: 50 newest")
    h.check(actions(p1) == ["next", "complete"] and
            "Page 1 (sessions 1-50)" in notes(p1),
            "page 1 offers next: %r %r" % (actions(p1), p1.notes))
    p2 = await step(tom, "history", p1.sessionid, "next")
    h.check(ids(p2) == everything[50:100] and
            actions(p2) == ["prev", "next", "complete"], "page 2")
    p3 = await step(tom, "history", p1.sessionid, "execute")  # = next
    h.check(ids(p3) == everything[100:] and
            actions(p3) == ["prev", "complete"] and
            "last page" in notes(p3), "page 3, the last: %r" % p3.notes)
    back = await step(tom, "history", p1.sessionid, "prev")
    h.check(ids(back) == everything[50:100], "prev goes back to page 2")
    done = await step(tom, "history", p1.sessionid, "complete")
    h.check(done.status == "completed" and ids(done) == everything[50:100],
            "complete ends on the page shown")
    direct = await tom.command("history", dict(SEEDED_WINDOW, page="3"))
    h.check(ids(direct) == everything[100:], "the page field jumps to 3")


async def test_view_session_and_closing_note(env):
    tom = await login(env, "tom")
    tina = await login(env, "tina")
    session = shared["jam"]
    r = await tom.command("end-session", {"session": session,
                                          "note": "Cleared the jam"})
    h.check(r.status == "completed", "end-session completed")
    await wait_state(env, session, "ended")
    view = await tina.command("view-session", {"session": room_of(session)})
    f = view.fields
    h.check(view.status == "completed" and f["session"] == session and
            f["room"] == room_of(session) and f["state"] == "ended" and
            f["company"] == "Acme" and f["contact"] == jid("alice") and
            f["closer"] == jid("tom") and f["answered_by"] == jid("tom") and
            f["closing_note"] == "Cleared the jam" and
            f["description"] == "Paper jam", "details: %r" % f)
    transcript = f["transcript"]
    transcript = transcript if isinstance(transcript, list) else [transcript]
    h.check(any(l.endswith("Alice: The printer ate my report")
                for l in transcript) and
            any(l.endswith("Tom: Open tray 2, pull gently")
                for l in transcript) and
            any("Tom ended the chat" in l for l in transcript),
            "the transcript, one line a value: %r" % transcript)
    await h.expect_error(tina.command("closing-note", {
        "session": session, "note": "Tina was here"}), "forbidden",
        r"Only tom@localhost")
    r = await tom.command("closing-note", {"session": session,
                                           "note": ["Cleared the jam.",
                                                    "Advised tray 2."]})
    h.check(r.status == "completed" and "saved" in notes(r),
            "the closer edits the note: %r" % r.notes)
    view = await tom.command("view-session", {"session": session})
    h.check(view.fields["closing_note"] == ["Cleared the jam.",
                                            "Advised tray 2."],
            "the edited note: %r" % view.fields["closing_note"])
    await h.expect_error(tom.command("view-session", {"session": "99999"}),
                         "item-not-found")


# ---- MAM ---------------------------------------------------------------------------

async def mam(client, room, rsm=None, **filters):
    """(bodies, fin element, result messages) of one MAM query."""
    with contextlib.redirect_stdout(io.StringIO()):
        iq = await client["xep_0313"].retrieve(jid=room, rsm=rsm, timeout=15,
                                               **filters)
    results = iq["mam"]["results"]
    bodies = []
    for m in results:
        inner = m.xml.find("{%s}result/{%s}forwarded/{jabber:client}message"
                           % (NS_MAM, NS_FORWARD))
        bodies.append(inner.findtext("{jabber:client}body"))
    return bodies, iq.xml.find("{%s}fin" % NS_MAM), results


async def mam_before(client, room, before, max_=10):
    """(bodies, fin) of a raw query for the page before an id ("" for the
    last page: an empty <before/>, which the plugin's retrieve() cannot
    send)."""
    iq = client.make_iq_set(ito=room)
    query = h.ET.SubElement(iq.xml, "{%s}query" % NS_MAM, queryid="raw")
    rset = h.ET.SubElement(query, "{%s}set" % NS_RSM)
    h.ET.SubElement(rset, "{%s}max" % NS_RSM).text = str(max_)
    h.ET.SubElement(rset, "{%s}before" % NS_RSM).text = before or None
    start = len(client.all)
    res = await iq.send(timeout=15)  # results arrive before the iq result
    path = "{%s}result/{%s}forwarded/{jabber:client}message/" \
        "{jabber:client}body" % (NS_MAM, NS_FORWARD)
    bodies = [m.xml.findtext(path) for m in client.all[start:]
              if m.xml.find("{%s}result[@queryid='raw']" % NS_MAM)
              is not None]
    return bodies, res.xml.find("{%s}fin" % NS_MAM)


def rsm(fin, name):
    return fin.findtext("{%s}set/{%s}%s" % (NS_RSM, NS_RSM, name))


async def test_mam_paging(env):
    tom = await login(env, "tom")
    alice = await login(env, "alice")
    room = room_of(seeded["archive"])
    info = await tom["xep_0030"].get_info(jid=room, timeout=10)
    h.check(NS_MAM in info["disco_info"]["features"],
            "the room advertises %s" % NS_MAM)
    every = ["m%d" % k for k in range(1, 26)]

    bodies, fin, results = await mam(tom, room, {"max": 10})
    h.check(bodies == every[:10] and fin.get("complete") != "true" and
            rsm(fin, "count") == "25", "page 1: %r %s" % (bodies, fin))
    first = results[0].xml.find("{%s}result" % NS_MAM)
    inner = first.find("{%s}forwarded/{jabber:client}message" % NS_FORWARD)
    h.check(inner.get("type") == "groupchat" and
            inner.get("from") == room + "/Alice" and
            first.find("{%s}forwarded/{%s}delay" % (NS_FORWARD, NS_DELAY))
            .get("stamp") == "2025-03-09T08:00:00Z" and
            first.get("id") == rsm(fin, "first"),
            "a forwarded groupchat message from room/nick with its time: %s"
            % h.ET.tostring(first))
    bodies, fin, _ = await mam(tom, room, {"max": 10,
                                           "after": rsm(fin, "last")})
    h.check(bodies == every[10:20], "page 2: %r" % bodies)
    bodies, fin, _ = await mam(tom, room, {"max": 10,
                                           "after": rsm(fin, "last")})
    h.check(bodies == every[20:] and fin.get("complete") == "true",
            "page 3 is complete: %r" % bodies)

    walked = []
    with contextlib.redirect_stdout(io.StringIO()):
        async for page in tom["xep_0313"].retrieve(
                jid=room, iterator=True, rsm={"max": 7}):
            walked.append(len(page["mam"]["results"]))
    h.check(walked == [7, 7, 7, 4], "slixmpp's RSM iterator walks the "
            "archive in pages of 7 and stops: %r" % walked)

    bodies, fin = await mam_before(alice, room, "")
    h.check(bodies == every[15:] and fin.get("complete") != "true" and
            rsm(fin, "count") == "25",
            "the last page (<before/>) for the room's contact: %r" % bodies)
    bodies, fin = await mam_before(alice, room, rsm(fin, "first"))
    h.check(bodies == every[5:15], "backwards: %r" % bodies)
    bodies, fin = await mam_before(alice, room, rsm(fin, "first"))
    h.check(bodies == every[:5] and fin.get("complete") == "true",
            "back at the start, complete: %r" % bodies)

    bodies, _, _ = await mam(alice, room, with_jid=jid("alice"))
    h.check(bodies == ["m%d" % k for k in range(1, 26, 2)],
            "with alice: %r" % bodies)
    utc = datetime.timezone.utc
    bodies, _, _ = await mam(
        tom, room, start=datetime.datetime(2025, 3, 9, 8, 2, tzinfo=utc),
        end=datetime.datetime(2025, 3, 9, 8, 3, tzinfo=utc))
    h.check(bodies == ["m%d" % k for k in range(13, 20)],
            "start/end: %r" % bodies)

    live = room_of(shared["jam"])
    bodies, fin, _ = await mam(tom, live)
    h.check("The printer ate my report" in bodies and
            "Open tray 2, pull gently" in bodies and
            fin.get("complete") == "true", "a live room's archive: %r" %
            bodies)

    form = await tom["xep_0313"].get_fields(jid=room, timeout=10)
    h.check({"with", "start", "end"} <= set(form.get_fields()),
            "the query form: %r" % list(form.get_fields()))
    meta = await tom["xep_0313"].get_archive_metadata(jid=room, timeout=10)
    el = meta.xml.find("{%s}metadata" % NS_MAM)
    starts = [c for c in el if c.tag.endswith("start")]
    h.check(starts and starts[0].get("timestamp") == "2025-03-09T08:00:00Z",
            "metadata start: %s" % [(c.tag, c.attrib) for c in el])

    carl = await login(env, "carl")
    cond, text = await error_of(mam(carl, room))
    h.check(cond == "forbidden" and text, "another contact: %s" % cond)
    cond, _ = await error_of(mam(tom, room, {"after": "nope"}))
    h.check(cond == "item-not-found", "an unknown id: %s" % cond)


# ---- the abandoned follow-up ---------------------------------------------------------

async def test_abandoned_follow_up(env):
    tina = await login(env, "tina")
    tom = await login(env, "tom")
    bob = await login(env, "bob")
    start = await bob.command("start-chat", {"description": "VPN is down"})
    session, ticket = start.fields["session"], start.fields["ticket"]
    mark = len(env.chatdesk.text())
    env.clients.remove(bob)
    await asyncio.wait([bob.disconnect()], timeout=5)
    await wait_log(env, r"%s is now Offline" % re.escape(jid("bob")), mark)
    await wait_state(env, session, "abandoned")
    abandoned = await tina.command("sessions", {"view": "abandoned"})
    rows = [r for r in abandoned.items if r["session"] == session]
    h.check(rows and rows[0]["ticket"] == ticket and
            rows[0]["contact"] == jid("bob"),
            "Tina finds it under abandoned: %r" % abandoned.items)

    bob = await login(env, "bob")
    mark_bob = len(bob.all)
    pushed = await tina.command("push-chat", {"ticket": ticket})
    push_room = pushed.fields["room"]
    await wait_message(bob, lambda m: m.xml.find(
        "{jabber:x:conference}x") is not None, mark_bob, "the invitation")
    h.check(state_of(env, pushed.fields["session"]) == "active",
            "the pushed chat is active")
    await join(bob, push_room, "Bob")
    await join(tina, push_room, "Tina")
    await say(tina, push_room, "Is the VPN back?", [bob])

    closed = await tina.command("end-session", {
        "session": session, "note": "Followed up by a pushed chat"})
    h.check(closed.status == "completed" and "closed" in notes(closed),
            "end-session closes the abandoned session: %r" % closed.notes)
    await wait_state(env, session, "closed")
    again = await tina.command("sessions", {"view": "abandoned"})
    h.check(session not in [r["session"] for r in again.items],
            "no longer abandoned")
    await h.expect_error(tom.command("closing-note", {
        "session": session, "note": "Tom's version"}), "forbidden",
        r"tina@localhost")
    r = await tina.command("closing-note", {
        "session": session, "note": "Pushed a chat; VPN fixed"})
    h.check(r.status == "completed", "the closer edits it")
    yesterday = datetime.datetime.now(datetime.timezone.utc) - \
        datetime.timedelta(days=1)
    hist = await tom.command("history", {
        "contact": jid("bob"), "since": yesterday.strftime("%Y-%m-%d")})
    rows = [x for x in hist.items if x["session"] == session]
    h.check(rows and rows[0]["state"] == "closed" and
            rows[0]["note"] == "Pushed a chat; VPN fixed",
            "history shows it closed with the note: %r" % hist.items)
    mine = await tina.command("sessions", {})
    h.check(int(pushed.fields["session"]) in ids(mine),
            "the pushed chat is in Tina's list: %r" % mine.items)


async def start_with_seed(env):
    seed(env)
    env.chatdesk.start()
    h.check(env.chatdesk.proc.poll() is None, "chatdesk running")


if __name__ == "__main__":
    h.main([start_with_seed, test_sessions_views, test_history_filters,
            test_history_paging, test_view_session_and_closing_note,
            test_mam_paging, test_abandoned_follow_up],
           users=USERS, start_chatdesk=False)
