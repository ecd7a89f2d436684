"""The store on either engine (SPEC §11): the same chat through Prosody,
chatdesk and slixmpp on sqlite (e2e.test_store_engines) and on PostgreSQL
(e2e-pg.test_store_engines: CHATDESK_DB=postgresql, a throw-away
PostgreSQL 15). A chat whose messages are stored and reflected, the
room's archive, `history` finding the session by a word of it (sqlite
FTS5 / PostgreSQL tsvector, diacritics folded), `close-ticket` with a
note, `chatdeskctl` on the same store, and a restart that keeps
everything; `chatdeskctl backup` (sqlite) or its pointer to pg_dump; a
second chatdesk on the same store is refused.
"""
# servers: prosody
# databases: sqlite, postgresql

import os
import subprocess

from e2e import chatlib as cl
from e2e import harness as h


async def chat(env, alice, tom, description, lines):
    """A chat from start-chat to end-session; alice says each line and tom
    sees it. Returns (session, ticket, room)."""
    s = await cl.start_chat(alice, description)
    room = s["room"]
    await cl.join(alice, room, "alice")
    await cl.join(tom, room, "tom")
    await cl.wait_state(env, s["session"], "active")
    for line in lines:
        mt = cl.Mark(tom)
        cl.say(alice, room, line)
        await cl.wait_message(
            tom, lambda m, line=line: m["type"] == "groupchat" and
            cl.body(m) == line, mt, what="alice's line %r" % line)
    r = await tom.command("end-session", {"session": s["session"]})
    h.check(r.status == "completed", "end-session completed")
    await cl.wait_state(env, s["session"], "ended")
    return s["session"], s["ticket"], room


def history_sessions(reply):
    return [i["session"] for i in reply.items]


async def test_chat_search_close(env):
    alice = await cl.login(env, "alice")
    tom = await cl.login(env, "tom")
    sid, ticket, _ = await chat(env, alice, tom, "Printer on fire",
                                ["The café printer smokes",
                                 "It says PC LOAD LETTER"])
    other, _, _ = await chat(env, alice, tom, "Mail", ["Mail bounces"])
    rows = cl.db_rows(env, "SELECT body FROM messages WHERE session_id = ? "
                           "AND kind = 'chat' ORDER BY id", (int(sid),))
    h.check([r[0] for r in rows] == ["The café printer smokes",
                                     "It says PC LOAD LETTER"],
            "the chat's messages are stored in order: %r" % rows)

    for text, want in (("cafe", [sid]), ("LOAD letter", [sid]),
                       ("print*", [sid]), ("bounces", [other]),
                       ("smokes bounces", [])):
        r = await tom.command("history", {"text": text})
        got = history_sessions(r) if r.items else []
        h.check(got == want, "history %r: %r, want %r" % (text, got, want))

    r = await tom.command("close-ticket", {"ticket": ticket,
                                           "note": "Replaced the fuser"})
    h.check(r.status == "completed", "close-ticket completes")
    v = await tom.command("view-ticket", {"ticket": ticket})
    h.check(v.fields["status"] == "closed" and
            v.fields["note-2"] == "Replaced the fuser",
            "closed with its note: %r" % v.fields)
    r = env.ctl("ticket", "show", ticket)
    h.check("status: closed" in r.stdout and "PC LOAD LETTER" in r.stdout,
            "chatdeskctl reads the same store: %r" % r.stdout)
    env.session, env.ticket = sid, ticket


async def test_restart_keeps_everything(env):
    rc = env.chatdesk.stop()
    h.check(rc == 0, "chatdesk stops cleanly (%d)" % rc)
    env.chatdesk.start()
    tom = await cl.login(env, "tom")
    r = await tom.command("history", {"text": "smokes"})
    h.check(history_sessions(r) == [env.session],
            "found after the restart: %r" % r.items)
    v = await tom.command("view-ticket", {"ticket": env.ticket})
    h.check(v.fields["status"] == "closed", "still closed: %r" % v.fields)


async def test_connection_lost(env):
    """PostgreSQL: chatdesk's connection cut by the server (as in a
    restart); the next command and the next chat message work on a new
    one."""
    if not env.chatdesk.db_url:
        return
    alice = await cl.login(env, "alice")
    tom = await cl.login(env, "tom")
    s = await cl.start_chat(alice, "Scanner offline")
    room = s["room"]
    await cl.join(alice, room, "alice")
    await cl.join(tom, room, "tom")
    await cl.wait_state(env, s["session"], "active")
    cut = env.pg.psql(env.chatdesk.db_url,
                      "SELECT count(pg_terminate_backend(pid)) FROM "
                      "pg_stat_activity WHERE datname = 'chatdesk' AND "
                      "pid <> pg_backend_pid() AND "
                      "backend_type = 'client backend'")
    h.check(int(cut[0][0]) >= 1, "chatdesk's connection cut: %r" % cut)
    r = await tom.command("history", {"text": "smokes"})
    h.check(history_sessions(r) == [env.session],
            "a read after the cut: %r" % r.items)
    mt = cl.Mark(tom)
    cl.say(alice, room, "Still offline", mid="after-cut")
    await cl.wait_message(tom, lambda m: m["id"] == "after-cut", mt,
                          what="the message after the cut")
    rows = cl.db_rows(env, "SELECT count(*) FROM messages WHERE body = ?",
                      ("Still offline",))
    h.check(rows[0][0] == 1, "stored once: %r" % rows)
    r = await tom.command("end-session", {"session": s["session"]})
    h.check(r.status == "completed", "end-session after the cut")


async def test_backup(env):
    """sqlite: chatdeskctl backup copies the file; PostgreSQL: it refuses
    and names pg_dump."""
    dest = env.workdir + "/backup.db"
    r = env.ctl("backup", dest, check_rc=False)
    if env.chatdesk.db_url:
        h.check(r.returncode != 0 and "pg_dump" in r.stderr,
                "backup on PostgreSQL points to pg_dump: %r" % r.stderr)
    else:
        h.check(r.returncode == 0 and os.path.getsize(dest) > 0,
                "backup of the sqlite file: %r" % r.stderr)


async def test_second_instance_refused(env):
    r = subprocess.run([h.CHATDESK_BIN, "-c", env.chatdesk.config],
                       capture_output=True, text=True, timeout=30)
    h.check(r.returncode == 1 and
            ("another chatdesk" in r.stderr), "refused: %d %r" %
            (r.returncode, r.stderr[-500:]))


if __name__ == "__main__":
    cl.main(None, [test_chat_search_close, test_restart_keeps_everything,
                   test_connection_lost, test_backup,
                   test_second_instance_refused])
