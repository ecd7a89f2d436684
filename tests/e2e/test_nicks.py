"""Display names that cannot be nicks as they are (SPEC §3).

A contact whose directory name carries bidi overrides, isolates, marks and
odd white space (zed), and a tech whose name has nothing showable (tara):
their joins are answered through the real server (which refuses an
occupant JID whose resource fails resourceprep), with a clean nick, they
can talk, and the notices and the queue room show the cleaned names.
Prints one line per test and "N passed, M failed" last.
"""
# databases: sqlite, postgresql

import os

from e2e import harness as h
from e2e import chatlib as cl

RLO, LRI, PDI, RLM, ZWSP = "\u202e", "\u2066", "\u2069", "\u200f", "\u200b"
ZED_NAME = "%sZed%s %sEvil\u00a0\u00a0 %sTwin%s" % (RLO, PDI, RLM, LRI, ZWSP)
ZED_NICK = "Zed Evil Twin"
TARA_NAME = "%s%s\u3000" % (RLO, ZWSP)
USERS = cl.USERS + ["zed", "tara"]
QUEUE = "queue@%s" % h.COMPONENT


def add_people(env):
    for kind, text in (
            ("contacts", "jid,company,name,phone,chat\n"
                         "zed@localhost,Acme,%s,+1 555 0199,\n" % ZED_NAME),
            ("techs", "jid,name,admin\ntara@localhost,%s,no\n" % TARA_NAME)):
        path = os.path.join(env.workdir, "more-%s.csv" % kind)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        env.ctl("import", kind, path)


def clean(text):
    for c in (RLO, LRI, PDI, RLM, ZWSP):
        h.check(c not in text, "no U+%04X in %r" % (ord(c), text))


async def test_bidi_name_joins_and_talks(env):
    zed = await cl.login(env, "zed")
    tara = await cl.login(env, "tara")
    pres, _, _, _ = await cl.join(tara, QUEUE, "tara")
    h.check(pres["from"].resource == "tara",
            "a name with nothing showable falls back to the local part: %r"
            % pres["from"].resource)
    mq = cl.Mark(tara)
    f = await cl.start_chat(zed, "My name is hostile")
    pres, _, _, _ = await cl.join(zed, f["room"], "zed")
    h.check(pres["from"].resource == ZED_NICK,
            "zed's join is answered with a clean nick: %r" %
            pres["from"].resource)
    line = await cl.wait_message(tara, lambda m: "Zed" in cl.body(m) and
                                 m["from"].bare == QUEUE, mq)
    clean(cl.body(line))
    h.check(ZED_NICK in cl.body(line), "the queue names zed cleanly: %r" %
            cl.body(line))
    tom = await cl.login(env, "tom")
    _, _, occupants, _ = await cl.join(tom, f["room"], "tom")
    nicks = [p["from"].resource for p in occupants]
    h.check(ZED_NICK in nicks, "tom sees zed as %r: %r" % (ZED_NICK, nicks))
    mt = cl.Mark(tom)
    cl.say(zed, f["room"], "can you hear me", mid="z1")
    got = await cl.wait_message(tom, lambda m: m["id"] == "z1", mt)
    h.check(got["from"].resource == ZED_NICK, "from zed's nick")
    await cl.wait_message(zed, lambda m: m["id"] == "z1" and
                          m["type"] == "groupchat", None)
    rows = cl.db_rows(env, "SELECT body FROM messages WHERE session_id = ?"
                      " AND from_jid IS NULL", (int(f["session"]),))
    for (body,) in rows:
        clean(body)


if __name__ == "__main__":
    cl.main(add_people, [test_bidi_name_joins_and_talks], users=USERS)
