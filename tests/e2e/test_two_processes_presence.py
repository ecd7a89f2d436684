# servers: ejabberd
"""Two chatdesk processes on one domain and one PostgreSQL database share
tech presence, and a room's state changed by one reaches the occupants of
a room the other serves (SPEC §11, issue 21).

ejabberd has two route slots (component_number 2); both chatdesks run with
`connections = auto` on one PostgreSQL database, one slot each. With
helpdesk.localhost the component's own JID hashes to slot 0 and the queue
room to slot 1, so the queue room is served by the process that does not
get commands and subscription presence (checked below from the logs).

- ben refuses chatdesk's presence subscription and sits in the queue room:
  only the queue room's process sees him. Two contacts start chats (the
  command goes to the other process): ben is invited to both rooms, once
  each, including the one the queue room's process does not serve.
- tina does the same while both chats wait: invited once to each.
- ben takes the chat of a room served by the process that does not get
  commands: the contact waiting in the other room (served by the other
  process) is told its new place in line; ben ends the chat with end-session (handled by the other process):
  the contact, still in the room, loses voice (a presence with role
  visitor) and sees the notice.
- The queue room's process is killed: ben, seen only there, goes Offline
  in the survivor's view as soon as its cluster sees the dead process's
  lease gone (within 5 s; it took ~30 s when the shared presence had a
  heartbeat of its own).
"""

import asyncio
import re
import signal
import time

from e2e import harness as h
from e2e import chatlib as cl
from e2e import clusterlib as cx

CONTACTS = ["u1", "u2"]
TECHS = ["ben", "tina"]
SLOTS = 2
QUEUE = "queue@%s" % h.COMPONENT

EXTRA = cl.CHAT_EXTRA.replace("answer_timeout = 2", "answer_timeout = 600") + (
    "\n[component]\nconnections = auto\nconnections_max = %d\n" % SLOTS)


async def _wait_log(cd, pattern, what, timeout=10):
    rx = re.compile(pattern)
    await h.async_wait_until(lambda: rx.search(cd.text()), timeout,
                             "%s: %s" % (cd.dir, what))


async def test_start_two_processes(env):
    env.pg = h.Postgres(env.workdir)
    env.pg.start()
    env.extra.insert(0, env.pg)
    env.a = h.Chatdesk(env.workdir, env.server, name="a", extra=EXTRA,
                       db_url=env.pg.url)
    env.b = h.Chatdesk(env.workdir, env.server, name="b", extra=EXTRA,
                       db_url=env.pg.url)
    env.chatdesk = env.a  # env.ctl uses its database
    cl.write_directory(
        env, companies="name,chat,pre_ticket,callback\n"
                       "Acme,inherit,inherit,inherit\n",
        contacts="jid,company,name,phone,chat\n" + "".join(
            "%s@localhost,Acme,User %s,,\n" % (u, u[1:]) for u in CONTACTS),
        techs="jid,name,admin\nben@localhost,Ben Tech,no\n"
              "tina@localhost,Tina Tech,no\n")
    env.a.start(wait_online=False)
    env.b.start(wait_online=False)
    env.extra.insert(0, env.b)  # stopped before the database
    for cd in (env.a, env.b):
        cd.wait_online(1)
    for cd in (env.a, env.b):
        await _wait_log(cd, r"every probe came back: \d+ to this process "
                            r"\(1 connection\), \d+ to others",
                        "half the probes its own, half the other's", 20)
    env.dom = env.a if cx.served_by(env.a, h.COMPONENT) else env.b
    env.other = env.b if env.dom is env.a else env.a
    h.check(cx.served_by(env.dom, h.COMPONENT) and
            not cx.served_by(env.other, h.COMPONENT),
            "one process gets the stanzas to the component's JID")
    env.chatdesk = env.dom


def _invites(client, room):
    return [m for m in client.messages if cl.is_invite_to(room)(m)]


async def _sit_in_queue(env, user):
    c = await cl.login(env, user, authorize=False, known=False)
    await asyncio.sleep(0.3)
    await cl.join(c, QUEUE, user)
    jid = re.escape(cl.jid(user))
    await _wait_log(env.other, r"%s is now Online\b(?! \()" % jid,
                    "%s Online in the queue room" % user)
    await _wait_log(env.dom, r"%s is now Online \(seen by another process\)"
                    % jid, "%s Online, shared through the database" % user)
    return c


async def _invited_once(client, rooms, who):
    for room in rooms:
        await h.async_wait_until(lambda room=room: _invites(client, room), 10,
                                 "%s invited to %s" % (who, room))
    await asyncio.sleep(2)  # a second invitation would come by now
    for room in rooms:
        n = len(_invites(client, room))
        h.check(n == 1, "%s invited to %s once, got %d" % (who, room, n))


async def test_shared_presence_and_relayed_room_state(env):
    # one test: the harness closes the clients after each
    await _tech_in_queue_of_other_process_is_invited(env)
    await _tech_online_later_is_invited_once(env)
    await _end_session_elsewhere_takes_the_contact_voice(env)
    await _rows_of_a_dead_process_leave_with_its_lease(env)


async def _tech_in_queue_of_other_process_is_invited(env):
    env.ben = await _sit_in_queue(env, "ben")
    h.check(cx.served_by(env.other, QUEUE) and not cx.served_by(env.dom, QUEUE),
            "the queue room is served by the process without the "
            "component's JID")
    env.chats = []
    for i, u in enumerate(CONTACTS, 1):
        c = await cl.login(env, u)
        f = await cl.start_chat(c, "Problem %d" % i)
        await cl.join(c, f["room"], u)
        env.chats.append((c, f))
    rooms = [f["room"] for _, f in env.chats]
    h.check(any(cx.served_by(env.dom, r) for r in rooms) and
            any(cx.served_by(env.other, r) for r in rooms),
            "the rooms are served by both processes: %r" % rooms)
    await _invited_once(env.ben, rooms, "ben")


async def _tech_online_later_is_invited_once(env):
    rooms = [f["room"] for _, f in env.chats]
    tina = await _sit_in_queue(env, "tina")
    await _invited_once(tina, rooms, "tina")


async def _end_session_elsewhere_takes_the_contact_voice(env):
    c, f = next((c, f) for c, f in env.chats
                if cx.served_by(env.other, f["room"]))
    room = f["room"]
    # the other chat waits in a room the other process serves: its contact
    # is told the new place in line when ben takes this one
    wc, wf = next((c2, f2) for c2, f2 in env.chats if f2 is not f)
    h.check(cx.served_by(env.dom, wf["room"]), "the waiting chat's room is "
            "served by the process holding the component's JID")
    wm = cl.Mark(wc)
    await cl.join(env.ben, room, "ben")
    await cl.wait_state(env, f["session"], "active", timeout=10)
    await cl.wait_message(wc, lambda m: m["from"].bare == wf["room"] and
                          cl.body(m) == "You are number 1 in line.", wm,
                          what="the waiting contact's new place in line")
    m = cl.Mark(c)
    r = await env.ben.command("end-session", {"session": f["session"]})
    h.check(r.status == "completed", "end-session completes")
    await cl.wait_state(env, f["session"], "ended", timeout=10)
    await cl.wait_presence_stanza(
        c, lambda p: p["from"].bare == room and
        cl.muc_items(p)[0] == "visitor" and 110 in cl.muc_items(p)[3], m,
        what="the contact's own presence with role visitor")
    await cl.wait_message(c, lambda m: m["from"].bare == room and
                          m["type"] == "groupchat" and
                          "ended" in cl.body(m).lower(), m,
                          what="the notice that the chat ended")
    mark = cl.Mark(c)
    cl.say(c, room, "still here?")
    await cl.wait_message(c, cl.error_message(room, "forbidden"), mark,
                          what="a visitor may not speak")


async def _rows_of_a_dead_process_leave_with_its_lease(env):
    """The queue room's process dies: the techs only it saw leave the
    other's view as soon as the other's cluster sees the dead lease (its
    backend gone from pg_stat_activity, looked at every 0.5 s), not after
    a timeout of the shared presence's own."""
    t0 = time.monotonic()
    h.stop_pid(env.other.proc, signal.SIGKILL)
    env.other.proc = None
    rx = re.compile(r"%s is now Offline \(seen by another process\)" %
                    re.escape(cl.jid("ben")))
    await h.async_wait_until(lambda: rx.search(env.dom.text()), 60,
                             "ben Offline once the dead process's lease "
                             "was seen gone")
    took = time.monotonic() - t0
    print("      ben Offline in the survivor's view %.1f s after kill -9"
          % took)
    h.check(took <= 5, "the dead process's presence leaves with its lease "
            "(within 5 s of the kill), took %.1f s" % took)

if __name__ == "__main__":
    h.main([test_start_two_processes,
            test_shared_presence_and_relayed_room_state],
           users=CONTACTS + TECHS, start_chatdesk=False,
           server_kw={"component_number": SLOTS})
