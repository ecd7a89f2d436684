#!/usr/bin/env python3
"""make_corpus.py - write the seed corpus of fuzz_dispatch (tests/fuzz/corpus).

Each seed is a scenario: a list of (sender, stanza) records in the input format
of fuzz_dispatch.c: records separated by NUL, each one control byte and then
the XML of one stanza. The control byte:
  bits 0-2  sender: alice (contact, Acme), alice2 (another resource), carol
            (contact, Globex: no pre-ticket chat), bob (tech), dave (tech,
            admin flag), admin (config admin), eve (stranger), raw (keep from)
  bits 3-5  clock advance index: 0, 1, 30, 61, 601, 3601, 86400 s; 7 moves
            the store to its next state: writable -> every write and COMMIT
            fails -> PRAGMA query_only (BEGIN fails too) -> writable
  bit 6     modules_tick() after the stanza
  bit 7     modules_online() before it

The world every input starts from: company Acme (id 1, inherit) with
alice@localhost, company Globex (id 2, pre-ticket off) with carol@localhost,
techs bob@localhost and dave@localhost (admin), config admin admin@localhost,
ticket #1 "Printer on fire" of alice, clock at 2026-01-01T10:00:00Z (a
Thursday). Sessions are numbered from 1, so the first start-chat makes room
chat-1@helpdesk.localhost. sessionid='$' on a <command/> is replaced by the
last session id the component handed out.

Run it from anywhere: python3 tests/fuzz/make_corpus.py [OUTDIR]
It removes the seeds it wrote before (seed-*) and writes them again.
"""
import os
import sys

MAX_LEN = 12288  # fuzz_dispatch's -max_len (scripts/fuzz, tests/CMakeLists.txt)
SENDERS = {"alice": 0, "alice2": 1, "carol": 2, "bob": 3, "dave": 4,
           "admin": 5, "eve": 6, "raw": 7}
ADVANCE = {0: 0, 1: 1, 30: 2, 61: 3, 601: 4, 3601: 5, 86400: 6, "ro": 7}

D = "helpdesk.localhost"
ROOM = "chat-1@" + D
QUEUE = "queue@" + D
NS_CMD = "http://jabber.org/protocol/commands"
NS_MUC = "http://jabber.org/protocol/muc"


def rec(sender, xml, advance=0, tick=False, online=False):
    ctl = SENDERS[sender] | (ADVANCE[advance] << 3)
    if tick:
        ctl |= 0x40
    if online:
        ctl |= 0x80
    return (ctl, xml)


def field(var, *values, ftype=None):
    t = " type='%s'" % ftype if ftype else ""
    vals = "".join("<value>%s</value>" % v for v in values)
    return "<field var='%s'%s>%s</field>" % (var, t, vals)


def form(*fields, ftype="submit"):
    return "<x xmlns='jabber:x:data' type='%s'>%s</x>" % (ftype,
                                                          "".join(fields))


def cmd(node, payload="", action=None, sid=None, iqid="c1"):
    a = " action='%s'" % action if action else ""
    s = " sessionid='%s'" % sid if sid else ""
    return ("<iq type='set' id='%s' to='%s'><command xmlns='%s' node='%s'%s%s>"
            "%s</command></iq>" % (iqid, D, NS_CMD, node, a, s, payload))


def iq(kind, payload, to=D, iqid="q1"):
    return "<iq type='%s' id='%s' to='%s'>%s</iq>" % (kind, iqid, to, payload)


def join(room, nick, extra=""):
    return ("<presence to='%s/%s'><x xmlns='%s'>%s</x></presence>"
            % (room, nick, NS_MUC, extra))


def leave(room, nick):
    return "<presence to='%s/%s' type='unavailable'/>" % (room, nick)


def groupchat(room, body, mid="m1", extra=""):
    return ("<message to='%s' type='groupchat' id='%s'><body>%s</body>%s"
            "</message>" % (room, mid, body, extra))


def presence(show=None, ptype=None, to=D):
    t = " type='%s'" % ptype if ptype else ""
    s = "<show>%s</show>" % show if show else ""
    return "<presence to='%s'%s>%s</presence>" % (to, t, s)


START = cmd("start-chat", form(field("description", "My printer is on fire")))
ONLINE = presence()

SEEDS = {}

# ---- the component: disco, version, ping, unknown iqs ---------------------
SEEDS["disco-info"] = [
    rec("alice", iq("get", "<query xmlns='http://jabber.org/protocol/disco#info'/>")),
    rec("eve", iq("get", "<query xmlns='http://jabber.org/protocol/disco#items'/>")),
    rec("bob", iq("get", "<query xmlns='http://jabber.org/protocol/disco#items' "
                  "node='%s'/>" % NS_CMD)),
    rec("admin", iq("get", "<query xmlns='http://jabber.org/protocol/disco#items' "
                    "node='%s'/>" % NS_CMD)),
    rec("alice", iq("get", "<query xmlns='http://jabber.org/protocol/disco#info' "
                    "node='%s'/>" % NS_CMD)),
]
SEEDS["disco-rooms"] = [
    rec("bob", iq("get", "<query xmlns='http://jabber.org/protocol/disco#info'/>",
                  to=QUEUE)),
    rec("bob", iq("get", "<query xmlns='http://jabber.org/protocol/disco#items'/>",
                  to=QUEUE)),
    rec("bob", iq("get", "<query xmlns='http://jabber.org/protocol/disco#info' "
                  "node='x-roomuser-item'/>", to=QUEUE)),
    rec("eve", iq("get", "<query xmlns='http://jabber.org/protocol/disco#info'/>",
                  to="nope@" + D)),
    rec("alice", iq("get", "<query xmlns='http://jabber.org/protocol/disco#info'/>",
                    to=QUEUE + "/Bob")),
]
SEEDS["version"] = [
    rec("eve", iq("get", "<query xmlns='jabber:iq:version'/>")),
    rec("bob", iq("set", "<query xmlns='jabber:iq:version'/>")),
]
SEEDS["ping"] = [
    rec("alice", iq("get", "<ping xmlns='urn:xmpp:ping'/>")),
    rec("bob", iq("get", "<ping xmlns='urn:xmpp:ping'/>", to=QUEUE)),
    rec("bob", iq("get", "<ping xmlns='urn:xmpp:ping'/>", to=QUEUE + "/Bob")),
    rec("eve", iq("get", "<ping xmlns='urn:xmpp:ping'/>", to="nope@" + D)),
]
SEEDS["unknown-iq"] = [
    rec("alice", iq("get", "<vCard xmlns='vcard-temp'/>")),
    rec("alice", iq("set", "")),
    rec("raw", "<iq type='get' id='x'><query xmlns='jabber:iq:roster'/></iq>"),
    rec("raw", "<iq type='result' id='x' from='alice@localhost/portal'/>"),
    rec("raw", "<iq type='error' id='x' from='alice@localhost/portal'>"
        "<error type='cancel'><item-not-found "
        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"),
    rec("raw", "<message/>"),
    rec("raw", "<presence/>"),
    rec("raw", "<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>"),
]

# ---- presence to the component -------------------------------------------
SEEDS["presence-subscribe"] = [
    rec("alice", presence(ptype="subscribe"), online=True),
    rec("eve", presence(ptype="subscribe")),
    rec("bob", presence(ptype="subscribed")),
    rec("bob", presence(ptype="probe")),
    rec("eve", presence(ptype="probe")),
    rec("alice", presence(ptype="unsubscribe")),
    rec("raw", "<presence type='subscribe' from='Alice@LocalHost' to='%s'/>" % D),
]
SEEDS["presence-shows"] = [
    rec("bob", presence()),
    rec("bob", presence("away"), advance=30),
    rec("bob", presence("dnd")),
    rec("bob", presence("xa")),
    rec("bob", presence("chat")),
    rec("dave", presence("bogus")),
    rec("alice", presence()),
    rec("alice2", presence("away")),
    rec("alice", presence(ptype="unavailable")),
    rec("alice2", presence(ptype="error")),
    rec("raw", "<presence from='not a jid' to='%s'/>" % D),
]

# ---- ad-hoc: every node, execute then submit ---------------------------------
NODES = {
    "start-chat": ("alice", form(field("description", "Printer on fire"))),
    "push-chat": ("bob", form(field("ticket", "1"))),
    "end-session": ("bob", form(field("session", "1"), field("note", "done"))),
    "end-chat": ("alice", form(field("session", "chat-1@" + D))),
    "callback": ("alice", form(field("session", "1"), field("phone", "555 0100"),
                               field("note", "after 5pm"))),
    "settings": ("admin", form(field("chat", "1"), field("pre_ticket", "true"),
                               field("callback", "0"),
                               field("timezone", "Europe/Berlin"),
                               field("office_hours", "mon-fri 09:00-17:00; sat 10:00-12:00"),
                               field("holidays", "2026-12-25,2026-12-26"),
                               field("answer_timeout", "60"),
                               field("idle_timeout", "3600"))),
    "company": ("admin", form(field("company", "new"))),
    "contact": ("admin", form(field("jid", "zoe@localhost"))),
    "tech": ("admin", form(field("jid", "tina@localhost"), field("action", "create"))),
    "create-ticket": ("bob", form(field("contact", "alice@localhost"),
                                  field("summary", "VPN down"))),
    "tickets": ("dave", form(field("company", "Acme"), field("contact", ""),
                             field("status", "open"))),
    "sessions": ("bob", form(field("view", "waiting"))),
    "history": ("bob", form(field("company", "Acme"),
                            field("contact", "alice@localhost"),
                            field("text", "printer fire"),
                            field("since", "2025-12-01"),
                            field("until", "2026-01-01T23:00:00+01:00"),
                            field("page", "1"))),
    "view-session": ("dave", form(field("session", "chat-1@" + D))),
    "closing-note": ("bob", form(field("session", "1"), field("note", "Toner"))),
}
for node, (who, submit) in NODES.items():
    SEEDS["adhoc-%s" % node] = [
        rec(who, cmd(node)),
        rec(who, cmd(node, submit, sid="$", iqid="c2")),
    ]
    SEEDS["adhoc-%s-direct" % node] = [rec(who, cmd(node, submit))]
    SEEDS["adhoc-%s-others" % node] = [
        rec("eve", cmd(node)),
        rec("carol", cmd(node, submit)),
        rec("bob" if who != "bob" else "alice", cmd(node, submit)),
        rec(who, cmd(node)),
        rec(who, cmd(node, action="cancel", sid="$", iqid="c2")),
        rec(who, cmd(node, sid="$", action="prev", iqid="c3")),
    ]

# multi-step admin commands
SEEDS["adhoc-company-steps"] = [
    rec("admin", cmd("company")),
    rec("admin", cmd("company", form(field("company", "new")), sid="$", iqid="c2")),
    rec("admin", cmd("company", form(field("name", "Initech"), field("chat", "off"),
                                     field("pre_ticket", "on"),
                                     field("callback", "inherit")),
                     sid="$", action="complete", iqid="c3")),
    rec("admin", cmd("company")),
    rec("admin", cmd("company", form(field("company", "Acme")), sid="$", iqid="c4")),
    rec("admin", cmd("company", sid="$", action="prev", iqid="c5")),
    rec("admin", cmd("company", form(field("company", "Globex")), sid="$",
                     action="next", iqid="c6")),
    rec("admin", cmd("company", form(field("name", "Acme")), sid="$", iqid="c7")),
]
SEEDS["adhoc-contact-steps"] = [
    rec("admin", cmd("contact")),
    rec("admin", cmd("contact", form(field("jid", "Zoe@LocalHost")), sid="$",
                     iqid="c2")),
    rec("admin", cmd("contact", form(field("company", "Globex"), field("name", "Zoe"),
                                     field("phone", "+49 30 1234"),
                                     field("chat", "off")), sid="$", iqid="c3")),
    rec("admin", cmd("contact")),
    rec("admin", cmd("contact", form(field("jid", "bob@localhost")), sid="$", iqid="c4")),
    rec("admin", cmd("contact", form(field("jid", "alice@localhost")), sid="$",
                     iqid="c5")),
    rec("admin", cmd("contact", form(field("company", "Nope")), sid="$", iqid="c6")),
]
SEEDS["adhoc-tech-steps"] = [
    rec("dave", cmd("tech")),
    rec("dave", cmd("tech", form(field("jid", "tina@localhost"),
                                 field("action", "create")), sid="$", iqid="c2")),
    rec("dave", cmd("tech", form(field("name", "Tina"),
                                 field("admin", "true", ftype="boolean")),
                    sid="$", iqid="c3")),
    rec("admin", cmd("tech")),
    rec("admin", cmd("tech", form(field("jid", "bob@localhost"),
                                  field("action", "edit")), sid="$", iqid="c4")),
    rec("admin", cmd("tech", form(field("name", "Robert"), field("admin", "maybe")),
                     sid="$", iqid="c5")),
    rec("admin", cmd("tech")),
    rec("admin", cmd("tech", form(field("jid", "bob@localhost"),
                                  field("action", "remove")), sid="$", iqid="c6")),
    rec("bob", cmd("tickets")),
]
SEEDS["adhoc-settings-bad"] = [
    rec("admin", cmd("settings")),
    rec("admin", cmd("settings", form(field("timezone", "Mars/Olympus"),
                                      field("office_hours", "mnn-fri 09:00-17:00"),
                                      field("holidays", "2026-02-30"),
                                      field("answer_timeout", "-1"),
                                      field("idle_timeout", "99999999999")),
                     sid="$", iqid="c2")),
    rec("admin", cmd("settings", form(field("office_hours", "fri-mon 22:00-02:00,"
                                            "03:00-24:00; sun none")),
                     sid="$", iqid="c3")),
    rec("admin", cmd("settings", form(field("office_hours", "none"),
                                      field("chat", "off")), iqid="c4")),
    rec("alice", START, advance=1),
]
SEEDS["adhoc-framework"] = [
    rec("alice", cmd("nope")),
    rec("alice", "<iq type='set' id='c' to='%s'><command xmlns='%s'/></iq>" % (D, NS_CMD)),
    rec("alice", cmd("start-chat", action="dance")),
    rec("alice", cmd("start-chat", sid="no-such-session")),
    rec("alice", cmd("start-chat", sid="no-such-session", action="cancel")),
    rec("alice", cmd("start-chat", action="prev")),
    rec("alice", cmd("start-chat")),
    rec("alice2", cmd("start-chat", form(field("description", "x")), sid="$")),
    rec("alice", cmd("end-chat", form(field("session", "1")), sid="$")),
    rec("alice", cmd("start-chat", sid="$", action="complete"), advance=601,
        tick=True),
    rec("raw", "<iq type='set' id='c' to='%s'><command xmlns='%s' node='start-chat'/>"
        "</iq>" % (D, NS_CMD)),
] + [rec("bob", cmd("tickets", iqid="t%d" % i)) for i in range(17)]

# ---- the chat flow -----------------------------------------------------------
SEEDS["chat-waiting-taken"] = [
    rec("bob", ONLINE),
    rec("dave", presence("away")),
    rec("bob", join(QUEUE, "Bob")),
    rec("alice", ONLINE),
    rec("alice", START),
    rec("alice", join(ROOM, "Alice", "<history maxstanzas='20'/>")),
    rec("alice", groupchat(ROOM, "Hello?")),
    rec("bob", join(ROOM, "Bob"), advance=30),
    rec("dave", join(ROOM, "Dave")),
    rec("bob", groupchat(ROOM, "Hi Alice, looking at it")),
    rec("alice", "<message to='%s' type='groupchat'><composing "
        "xmlns='http://jabber.org/protocol/chatstates'/></message>" % ROOM),
    rec("alice", groupchat(ROOM, "Thanks", mid="m2",
                           extra="<stanza-id xmlns='urn:xmpp:sid:0' by='%s' id='fake'/>"
                           % ROOM)),
    rec("bob", cmd("end-session", form(field("session", "1"),
                                       field("note", "Replaced the toner")))),
    rec("alice", groupchat(ROOM, "one more thing", mid="m3")),
    rec("alice", leave(ROOM, "Alice")),
    rec("bob", leave(ROOM, "Bob")),
    rec("bob", leave(QUEUE, "Bob")),
]
SEEDS["chat-abandoned-callback"] = [
    rec("alice", ONLINE),
    rec("alice", START),
    rec("alice", join(ROOM, "Alice")),
    rec("alice", cmd("end-chat", form(field("session", "1")))),
    rec("alice", cmd("callback", form(field("session", "1"),
                                      field("phone", "+1 555 0100"))), advance=61),
    rec("alice", cmd("end-chat", form(field("session", "1")))),
    rec("bob", join(QUEUE, "Bob")),
    rec("bob", cmd("end-session", form(field("session", "1"), field("note", "called")))),
    rec("alice", leave(ROOM, "Alice")),
]
SEEDS["chat-contact-gone"] = [
    rec("alice", ONLINE),
    rec("alice", START),
    rec("alice", join(ROOM, "Alice")),
    rec("alice2", join(ROOM, "Phone")),
    rec("alice", presence(ptype="unavailable")),
    rec("alice2", leave(ROOM, "Alice")),
    rec("alice", leave(ROOM, "Alice")),
    rec("bob", join(ROOM, "Bob"), advance=3601),
    rec("bob", cmd("end-session", form(field("session", "chat-1"), field("note", "gone")))),
]
SEEDS["chat-push"] = [
    rec("bob", cmd("push-chat", form(field("ticket", "1")))),
    rec("alice", ONLINE),
    rec("bob", cmd("push-chat", form(field("ticket", "1")))),
    rec("alice", join(ROOM, "Alice")),
    rec("bob", join(ROOM, "Bob")),
    rec("bob", "<message to='%s'><x xmlns='http://jabber.org/protocol/muc#user'>"
        "<invite to='dave@localhost'><reason>help</reason></invite></x></message>"
        % ROOM),
    rec("alice", "<message to='%s'><x xmlns='http://jabber.org/protocol/muc#user'>"
        "<invite to='eve@evil.example'/></x></message>" % ROOM),
    rec("bob", groupchat(ROOM, "Pushed chat"), advance=3601),
    rec("alice", cmd("end-chat", form(field("session", "1"))), advance=3601),
    rec("bob", cmd("push-chat", form(field("ticket", "abc")))),
    rec("bob", cmd("push-chat", form(field("ticket", "99")))),
]
SEEDS["chat-globex"] = [
    rec("carol", ONLINE),
    rec("carol", START),
    rec("bob", cmd("create-ticket", form(field("contact", "carol@localhost"),
                                         field("summary", "Email")))),
    rec("bob", cmd("push-chat", form(field("ticket", "2")))),
    rec("carol", join("chat-1@" + D, "Carol")),
    rec("carol", cmd("callback", form(field("session", "1"), field("phone", "1"))),
        advance=86400),
]
SEEDS["muc-edge"] = [
    rec("alice", START),
    rec("alice", join(ROOM, "")),
    rec("alice", join(ROOM, "\u00a0\u2003")),
    rec("alice", join(ROOM, "x" * 80)),
    rec("alice", join(ROOM, "Alice", "<password>x</password><history since='2020-01-01T00:00:00Z' maxchars='10' seconds='5'/>")),
    rec("alice2", join(ROOM, "Other")),
    rec("alice", "<presence to='%s/NewNick'/>" % ROOM),
    rec("alice", "<presence to='%s/Alice'><show>away</show><status>brb</status></presence>" % ROOM),
    rec("eve", join(ROOM, "Eve")),
    rec("eve", groupchat(ROOM, "spam")),
    rec("alice", "<message to='%s/Bob' type='chat'><body>psst</body></message>" % ROOM),
    rec("alice", "<message to='%s/Bob' type='groupchat'><body>psst</body></message>" % ROOM),
    rec("alice", "<message to='%s' type='groupchat'><subject>new</subject></message>" % ROOM),
    rec("alice", "<message to='%s' type='error'><error type='cancel'><gone "
        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>" % ROOM),
    rec("alice2", "<presence to='%s/Alice' type='error'><error type='cancel'>"
        "<remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
        "</error></presence>" % ROOM),
    rec("bob", join("chat-999@" + D, "Bob")),
    rec("bob", join("Chat-1@" + D, "Bob")),
    rec("bob", join("queue@" + D, "Bob")),
    rec("alice", join("queue@" + D, "Alice")),
    rec("bob", "<presence to='%s/Bob'/>" % QUEUE),
    rec("bob", groupchat(QUEUE, "anyone?")),
    rec("raw", "<presence from='%s' to='%s/X'><x xmlns='%s'/></presence>" % (D, ROOM, NS_MUC)),
    rec("raw", "<message to='%s' type='groupchat'><body>no from</body></message>" % ROOM),
    rec("bob", "<iq type='get' id='sp' to='%s/Bob'><ping xmlns='urn:xmpp:ping'/></iq>" % QUEUE),
]
SEEDS["muc-ghost"] = [
    rec("bob", join(QUEUE, "Bob")),
    rec("dave", join(QUEUE, "Dave")),
    rec("raw", "<message from='bob@localhost/gajim' to='%s' type='error'>"
        "<error type='cancel'><recipient-unavailable "
        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>" % QUEUE),
    rec("alice", START),
    rec("dave", groupchat(QUEUE, "hi")),
    rec("dave", leave(QUEUE, "Dave"), tick=True),
]

SEEDS["tech-views"] = [
    rec("alice", START),
    rec("alice", join(ROOM, "Alice")),
    rec("alice", groupchat(ROOM, "printer is on fire")),
    rec("bob", cmd("sessions", form(field("view", "waiting")))),
    rec("bob", join(ROOM, "Bob"), advance=30),
    rec("bob", groupchat(ROOM, "replace the toner", mid="m2")),
    rec("bob", cmd("sessions", form(field("view", "mine")))),
    rec("bob", cmd("end-session", form(field("session", "1")))),
    rec("dave", cmd("closing-note", form(field("session", "1"), field("note", "x")))),
    rec("bob", cmd("closing-note", form(field("session", "1"),
                                        field("note", "Toner replaced")))),
    rec("bob", cmd("closing-note", form(field("session", "1"), field("note", "")))),
    rec("dave", cmd("view-session", form(field("session", "1")))),
    rec("bob", cmd("history", form(field("text", "toner")))),
    rec("bob", cmd("history", form(field("since", "2026-13-45")))),
    rec("bob", cmd("history", form(field("text", "\"unbalanced AND OR NEAR(")))),
    rec("bob", cmd("history", form(field("page", "0")))),
    rec("bob", cmd("history", form(field("page", "2")))),
    rec("bob", cmd("history")),
    rec("bob", cmd("history", form(), sid="$", action="next")),
    rec("bob", cmd("history", sid="$", action="prev")),
    rec("alice", cmd("sessions", form(field("view", "callbacks")))),
    rec("bob", cmd("sessions", form(field("view", "everything")))),
    rec("alice", START, advance=601),
    rec("alice", cmd("end-chat", form(field("session", "2"))), advance=61),
    rec("bob", cmd("sessions", form(field("view", "abandoned")))),
    rec("alice", cmd("callback", form(field("session", "2"), field("phone", "1"))), advance=61),
    rec("dave", cmd("sessions", form(field("view", "callbacks")))),
]

# the store refuses every write (advance="ro" toggles PRAGMA query_only)
SEEDS["store-read-only"] = [
    rec("bob", join(QUEUE, "Bob")),
    rec("alice", START),
    rec("alice", join(ROOM, "Alice")),
    rec("alice", groupchat(ROOM, "before"), advance="ro"),
    rec("alice", groupchat(ROOM, "during", mid="m2")),
    rec("bob", join(ROOM, "Bob")),
    rec("alice", START),
    rec("bob", cmd("end-session", form(field("session", "1")))),
    rec("bob", cmd("closing-note", form(field("session", "1"), field("note", "n")))),
    rec("alice", cmd("callback", form(field("session", "1"), field("phone", "555 0100")))),
    rec("admin", cmd("company", form(field("company", "new")))),
    rec("admin", cmd("company", form(field("name", "X")), sid="$")),
    rec("bob", cmd("create-ticket", form(field("contact", "alice@localhost"),
                                         field("summary", "s")))),
    rec("alice", leave(ROOM, "Alice")),
    rec("bob", groupchat(ROOM, "query-only", mid="m3"), advance="ro"),
    rec("bob", cmd("end-session", form(field("session", "1")))),
    rec("bob", groupchat(ROOM, "after", mid="m4"), advance="ro"),
    rec("bob", cmd("end-session", form(field("session", "1")))),
]

# fuzz_dispatch_fast, 2026-12-03: a groupchat message without an id is held
# in the group commit; the store starts refusing COMMITs; an error stanza
# from its sender flushes the batch, whose COMMIT fails, and the message is
# answered with an error (no id either). The target's own check took that
# for an error answering the error stanza (both without id); it now knows
# what the flush sends.
SEEDS["held-without-id"] = [
    rec("alice", START),
    rec("alice", join(ROOM, "Alice")),
    rec("alice", "<message to='%s' type='groupchat'><body>no id</body>"
                 "</message>" % ROOM),
    rec("alice", "<message to='%s' type='error'><error type='cancel'><gone "
                 "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
                 "</message>" % ROOM, advance="ro"),
]

# over the rate limit (fuzz_dispatch: burst 40, 1 a second)
SEEDS["ratelimit"] = [rec("alice", START), rec("alice", join(ROOM, "Alice"))] + [
    rec("alice", groupchat(ROOM, "m%d" % i, mid="r%d" % i)) for i in range(30)
] + [rec("alice", iq("get", "<ping xmlns='urn:xmpp:ping'/>", iqid="p%d" % i))
     for i in range(12)] + [
    rec("alice", leave(ROOM, "Alice")),
    rec("alice", presence(ptype="unavailable")),
    rec("raw", "<message from='alice@localhost/portal' to='%s' type='error'>"
        "<error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
        "</error></message>" % ROOM),
    rec("bob", join(ROOM, "Bob"), advance=601),
]

# ---- MAM (XEP-0313, urn:xmpp:mam:2) ------------------------------------------
MAM_FORM = form(field("FORM_TYPE", "urn:xmpp:mam:2", ftype="hidden"),
                field("start", "2025-12-31T00:00:00Z"),
                field("with", "alice@localhost"))
SEEDS["mam"] = [
    rec("alice", START),
    rec("alice", join(ROOM, "Alice")),
    rec("alice", groupchat(ROOM, "history please")),
    rec("alice", iq("set", "<query xmlns='urn:xmpp:mam:2' queryid='f27'/>", to=ROOM)),
    rec("bob", iq("set", "<query xmlns='urn:xmpp:mam:2' queryid='q'>%s"
                  "<set xmlns='http://jabber.org/protocol/rsm'><max>10</max>"
                  "<before/></set></query>" % MAM_FORM, to=ROOM)),
    rec("alice", iq("get", "<query xmlns='urn:xmpp:mam:2'/>", to=ROOM)),
    rec("alice", iq("get", "<metadata xmlns='urn:xmpp:mam:2'/>", to=ROOM)),
    rec("alice", iq("set", "<query xmlns='urn:xmpp:mam:2'/>")),
    rec("eve", iq("set", "<query xmlns='urn:xmpp:mam:2'/>", to=ROOM)),
]
RSM = "<set xmlns='http://jabber.org/protocol/rsm'>%s</set>"
SEEDS["mam-paging"] = [
    rec("alice", START),
    rec("alice", join(ROOM, "Alice")),
    rec("bob", join(ROOM, "Bob"), advance=1),
] + [rec("alice" if i % 2 else "bob", groupchat(ROOM, "message %d" % i,
                                                 mid="m%d" % i), advance=1)
     for i in range(6)] + [
    rec("bob", iq("set", "<query xmlns='urn:xmpp:mam:2' queryid='a'>%s</query>"
                  % (RSM % "<max>2</max>"), to=ROOM)),
    rec("bob", iq("set", "<query xmlns='urn:xmpp:mam:2' queryid='b'>%s</query>"
                  % (RSM % "<max>2</max><after>nope</after>"), to=ROOM)),
    rec("bob", iq("set", "<query xmlns='urn:xmpp:mam:2' queryid='c'>%s</query>"
                  % (RSM % "<max>2</max><before/>"), to=ROOM)),
    rec("bob", iq("set", "<query xmlns='urn:xmpp:mam:2' queryid='d'>%s</query>"
                  % (RSM % "<index>3</index><max>100000</max>"), to=ROOM)),
    rec("bob", iq("set", "<query xmlns='urn:xmpp:mam:2' queryid='e'>%s%s</query>"
                  % (form(field("FORM_TYPE", "urn:xmpp:mam:2", ftype="hidden"),
                          field("with", ROOM + "/Alice"),
                          field("end", "2026-01-01T10:00:03Z")),
                     RSM % "<max>-1</max>"), to=ROOM)),
    rec("bob", iq("set", "<query xmlns='urn:xmpp:mam:2'>%s<flip-page/></query>"
                  % form(field("FORM_TYPE", "urn:xmpp:mam:2", ftype="hidden"),
                         field("with", ROOM),
                         field("start", "yesterday"),
                         field("{urn:example}extra", "1")), to=ROOM)),
    rec("alice", iq("get", "<metadata xmlns='urn:xmpp:mam:2'/>", to=ROOM)),
    rec("alice", iq("get", "<metadata xmlns='urn:xmpp:mam:2'/>", to=QUEUE)),
    rec("bob", iq("set", "<query xmlns='urn:xmpp:mam:2'/>", to=ROOM + "/Alice")),
    rec("bob", iq("set", "<query xmlns='urn:xmpp:mam:2'/>", to="chat-2@" + D)),
    rec("carol", iq("set", "<query xmlns='urn:xmpp:mam:2'/>", to=ROOM)),
]

# ---- malformed and oversized -----------------------------------------------------
SEEDS["forms-malformed"] = [
    rec("alice", cmd("start-chat", "<x xmlns='jabber:x:data'/>")),
    rec("alice", cmd("start-chat", "<x xmlns='jabber:x:data' type='bogus'>"
                     "<field/></x>")),
    rec("alice", cmd("start-chat", form(field("description")))),
    rec("alice", cmd("start-chat", form(field("description", "   ")))),
    rec("alice", cmd("start-chat", form(field("description", "a", "b", "c"),
                                        field("description", "dup")))),
    rec("alice", cmd("start-chat", "<x xmlns='jabber:x:data' type='cancel'/>")),
    rec("alice", cmd("start-chat", form(field("description", "ok"),
                                        ftype="result"))),
    rec("bob", cmd("end-session", form(field("session", "chat-")))),
    rec("bob", cmd("end-session", form(field("session", "99999999999999999999")))),
    rec("bob", cmd("end-session", form(field("session", "-1")))),
    rec("bob", cmd("end-session", form(field("session", "1@x/y")))),
    rec("bob", cmd("tickets", "<x xmlns='jabber:x:data' type='submit'>"
                   "<reported><field var='a'/></reported><item><field var='a'>"
                   "<value>1</value></field></item></x>")),
    rec("admin", cmd("settings", form(field("chat", "perhaps", ftype="boolean"),
                                      field("office_hours", "mon " + "09:00-10:00," * 20)))),
    rec("alice", cmd("start-chat", form(field("description", "&lt;b&gt;&amp;&#0;")))),
    rec("alice", cmd("start-chat", form(field("description", "\u202e\U0001f525 caf\u00e9")))),
]
# oversized: each seed under fuzz_dispatch's -max_len (12288)
SEEDS["forms-oversized-values"] = [
    rec("alice", cmd("start-chat", form(field("description", "x" * 4097)))),
    rec("alice", START),
    rec("bob", cmd("end-session", form(field("session", "1"),
                                       field("note", "n" * 4097)))),
]
SEEDS["forms-oversized-value"] = [
    rec("bob", cmd("end-session", form(field("session", "1"),
                                       field("note", "n" * 8193)))),
]
SEEDS["forms-oversized-fields"] = [
    rec("alice", cmd("start-chat", "<x xmlns='jabber:x:data' type='submit'>" +
                     "".join("<field var='f%d'><value>v</value></field>" % i
                             for i in range(101)) + "</x>")),
    rec("alice", cmd("start-chat", form(field("description", *["v"] * 101)))),
]
SEEDS["forms-oversized-holidays"] = [
    rec("admin", cmd("settings")),
    rec("admin", cmd("settings", form(field("holidays", " ".join(
        "2026-%02d-%02d" % (m, d) for m in range(1, 13) for d in range(1, 29)))),
        sid="$", iqid="c2")),
]
SEEDS["xml-broken"] = [
    rec("alice", "<iq type='get' id='1' to='%s'><ping xmlns='urn:xmpp:ping'>" % D),
    rec("alice", "not xml at all"),
    rec("alice", "<iq type='get' id='1' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
        "<iq type='get' id='2'/>" % D),
    rec("alice", "<?xml version='1.0'?><message to='%s'><body>x</body></message>" % ROOM),
    rec("alice", "<message xmlns='jabber:component:accept' to='%s' type='groupchat'>"
        "<body>x</body></message>" % ROOM),
    rec("alice", "<iq type='get' id='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
        % ("i" * 3000, D)),
    rec("raw", "<iq type='get' id='1' from='%s/x' to='%s'><ping xmlns='urn:xmpp:ping'/>"
        "</iq>" % ("a" * 1100 + "@localhost", D)),
    rec("raw", "<presence from='@/' to='%s'/>" % D),
    rec("raw", "<presence from='alice@localhost/' to='%s/'/>" % ROOM),
    rec("raw", "<presence from='/res' to='/nick'><x xmlns='%s'/></presence>" % NS_MUC),
]
SEEDS["clock-timeouts"] = [
    rec("alice", START),
    rec("alice", join(ROOM, "Alice")),
    rec("bob", cmd("tickets")),
    rec("bob", ONLINE, advance=601, tick=True),
    rec("bob", cmd("tickets", form(), sid="$")),
    rec("bob", join(ROOM, "Bob")),
    rec("alice", cmd("end-chat", form(field("session", "1"))), advance=3601),
    rec("alice", ONLINE, advance=86400, online=True),
    rec("alice", join(ROOM, "Alice", "<history maxstanzas='1'/>")),
]


def encode(records):
    data = b"\0".join(bytes([ctl]) + xml.encode("utf-8") for ctl, xml in records)
    assert len(data) <= MAX_LEN, "a seed longer than -max_len"
    return data


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        if name.startswith("seed-"):
            os.remove(os.path.join(out, name))
    for name, records in sorted(SEEDS.items()):
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(encode(records))
    print("%d seeds in %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
