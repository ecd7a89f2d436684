"""No stanza chatdesk sends is larger than [limits] max_stanza_bytes
(docs/security.md): a long transcript does not cost chatdesk its stream.

alice writes nine messages of 60,000 bytes each (each under the 64 KiB body
limit); tom runs view-session on her session. The answer is under the
limit, shows the beginning of the transcript with a note pointing to the
room's archive (MAM), and afterwards chatdesk is still connected: it
answers a ping, a late joiner gets the newest messages as history (at
most max_stanza_bytes of it: four of the nine) after a line pointing to the
archive, and a new chat starts. Prints one line per test and "N passed, M failed" last.
"""
# databases: sqlite, postgresql

import asyncio

from slixmpp.xmlstream import tostring

from e2e import harness as h
from e2e import chatlib as cl

BIG = 60000
MAX = 262144  # the default [limits] max_stanza_bytes


async def test_long_transcript_is_paged(env):
    alice = await cl.login(env, "alice")
    tom = await cl.login(env, "tom")
    f = await cl.start_chat(alice, "A long story")
    await cl.join(alice, f["room"], "alice")
    await cl.join(tom, f["room"], "tom")
    mt = cl.Mark(tom)
    for i in range(9):
        cl.say(alice, f["room"], ("%d" % i) * BIG, mid="big%d" % i)
    await cl.wait_message(tom, lambda m: m["id"] == "big8", mt, timeout=30)
    r = await tom.command("view-session", {"session": f["session"]})
    size = len(tostring(r.iq.xml).encode())
    print("      view-session answer: %d bytes, notes %r" %
          (size, [n[1][:60] for n in r.notes]))
    h.check(r.status == "completed", "view-session completes")
    h.check(size < MAX, "the answer is under the limit: %d" % size)
    lines = r.fields.get("transcript") or []
    lines = [lines] if isinstance(lines, str) else lines
    h.check(any(("0" * 100) in v for v in lines),
            "the transcript's beginning is shown")
    h.check(not any(("8" * 100) in v for v in lines),
            "not all of it")
    h.check([n for n in r.notes if n[0] == "warn" and "MAM" in n[1] and
             f["room"] in n[1]], "a note says where all of it is: %r" %
            r.notes)
    # chatdesk is still connected and answers
    ping = tom.make_iq_get(ito=h.COMPONENT)
    ping.xml.append(ping.xml.makeelement("{urn:xmpp:ping}ping", {}))
    res = await ping.send(timeout=10)
    h.check(res["type"] == "result", "chatdesk still answers")
    tina = await cl.login(env, "tina")
    _, _, _, history = await cl.join(tina, f["room"], "tina")
    big = [cl.body(m)[0] for m in history if len(cl.body(m)) == BIG]
    h.check(big == ["5", "6", "7", "8"],
            "a late joiner gets the newest messages that fit: %r" % big)
    h.check([m for m in history if "archive (MAM)" in cl.body(m)],
            "after a line pointing to the archive")
    bob = await cl.login(env, "bob")
    fb = await cl.start_chat(bob, "After the long story")
    h.check(fb["room"], "a new chat starts")
    await asyncio.sleep(0)
    h.check(env.chatdesk.proc.poll() is None, "chatdesk running")
    h.check("refused to send" not in env.chatdesk.text(),
            "nothing needed the last-line guard")


if __name__ == "__main__":
    cl.main(None, [test_long_transcript_is_paged])
