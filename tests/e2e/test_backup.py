# servers: prosody
# databases: sqlite, postgresql
"""chatdeskctl backup FILE while chatdesk runs (docs/operations.md): the
copy is a consistent database holding the chat just stored, and the
running chatdesk goes on storing messages afterwards. On PostgreSQL
(e2e-pg) backup refuses, exit 1, pointing to pg_dump and writing no
file, and chatdesk goes on storing messages."""

import os
import sqlite3

from e2e import harness as h
from e2e import chatlib as cl


async def test_backup_refused_on_postgresql(env):
    alice = await cl.login(env, "alice")
    f = await cl.start_chat(alice, "Back me up")
    room = f.get("room")
    await cl.join(alice, room, "alice")
    copy = os.path.join(env.workdir, "backup.db")
    r = env.ctl("backup", copy, check_rc=False)
    h.check(r.returncode == 1 and "pg_dump" in r.stderr and
            "PostgreSQL" in r.stderr,
            "backup on PostgreSQL fails with exit 1 naming pg_dump: %d %r" %
            (r.returncode, r.stderr))
    h.check(not os.path.exists(copy) and not os.path.exists(copy + ".tmp"),
            "no file written")
    mark = cl.Mark(alice)
    cl.say(alice, room, "still stored", mid="p1")
    await cl.wait_message(alice, lambda m: m["id"] == "p1" and
                          cl.stanza_id(m, room), mark,
                          what="message p1 stored")
    rows = cl.db_rows(env, "SELECT count(*) FROM messages WHERE body = ?",
                      ("still stored",))
    h.check(rows == [(1,)], "stored after the refusal: %r" % rows)
    h.check(env.chatdesk.proc.poll() is None, "chatdesk still running")


async def test_backup_while_running(env):
    alice = await cl.login(env, "alice")
    f = await cl.start_chat(alice, "Back me up")
    room = f.get("room")
    await cl.join(alice, room, "alice")
    for mid in ("b1", "b2"):
        mark = cl.Mark(alice)
        cl.say(alice, room, "backup %s" % mid, mid=mid)
        await cl.wait_message(alice, lambda m: m["id"] == mid and
                              cl.stanza_id(m, room), mark,
                              what="message %s stored" % mid)
        if mid == "b1":
            copy = os.path.join(env.workdir, "backup.db")
            env.ctl("backup", copy)
    h.check(not os.path.exists(copy + ".tmp"), "no temporary file left")
    db = sqlite3.connect(copy)
    try:
        h.check(db.execute("PRAGMA integrity_check").fetchone()[0] == "ok",
                "the copy passes integrity_check")
        bodies = [r[0] for r in db.execute("SELECT body FROM messages")]
    finally:
        db.close()
    h.check("backup b1" in bodies and "backup b2" not in bodies,
            "the copy holds what was stored before it: %r" % bodies)
    h.check(env.chatdesk.proc.poll() is None, "chatdesk still running")
    r = env.ctl("backup", "/nonexistent-dir/x.db", check_rc=False)
    h.check(r.returncode == 1 and "/nonexistent-dir/x.db" in r.stderr,
            "an unwritable target fails with exit 1 naming it: %r" % r.stderr)


cl.main(None, [test_backup_refused_on_postgresql if h.DB == "postgresql"
              else test_backup_while_running])
