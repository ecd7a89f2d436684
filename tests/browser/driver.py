"""The browser side of the browser tests: browser.mjs (headless Chromium
through playwright-core, tests/browser/browser.mjs) as a child process that
takes one JSON request a line, and the conveniences the test files use.

Screenshots, the page's console and the driver's log go to
CHATDESK_BROWSER_ARTIFACTS (default BUILD_DIR/browser-artifacts/SERVER/,
SERVER-pg/ for a run on PostgreSQL, which may run beside the other).
"""

import asyncio
import json
import os
import shutil
import subprocess
import threading

from e2e import harness as h

HERE = os.path.dirname(os.path.abspath(__file__))
ARTIFACTS = os.environ.get("CHATDESK_BROWSER_ARTIFACTS",
                           os.path.join(h.BUILD_DIR, "browser-artifacts",
                                        h.SERVER + ("-pg" if h.DB ==
                                                    "postgresql" else "")))
NODE = os.environ.get("CHATDESK_NODE", "node")


class BrowserError(h.TestFailure):
    pass


class Browser:
    """browser.mjs as a child process; call(op, **args) is one request.
    needs: more node_modules folders the page loads (checked first)."""

    def __init__(self, loop, needs=()):
        h.check(shutil.which(NODE), "node on PATH (CHATDESK_NODE=%s): "
                "scripts/test installs it" % NODE)
        h.check(os.access(os.environ.get("CHATDESK_BROWSER",
                                         "/usr/bin/chromium"), os.X_OK),
                "chromium installed (scripts/test installs it)")
        for d in (os.path.join(HERE, "node_modules", "playwright-core"),) + \
                tuple(needs):
            h.check(os.path.isdir(d), "%s installed: run `npm ci` in %s "
                    "(scripts/test does)" % (os.path.basename(d),
                                            os.path.dirname(os.path.dirname(d))))
        os.makedirs(ARTIFACTS, exist_ok=True)
        env = dict(os.environ, CHATDESK_BROWSER_ARTIFACTS=ARTIFACTS)
        env.setdefault("CHATDESK_BROWSER", "/usr/bin/chromium")
        self.loop = loop
        self.stderr = open(os.path.join(ARTIFACTS, "browser-driver.log"), "ab")
        self.proc = subprocess.Popen(
            [NODE, os.path.join(HERE, "browser.mjs")], cwd=HERE, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
            start_new_session=True)
        self.next_id = 0
        self.waiting = {}
        self.ready = loop.create_future()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            self.loop.call_soon_threadsafe(self._deliver, msg)
        self.loop.call_soon_threadsafe(self._deliver, None)

    def _deliver(self, msg):
        if msg is None:  # the driver exited
            for fut in list(self.waiting.values()) + [self.ready]:
                if not fut.done():
                    fut.set_exception(BrowserError(
                        "the browser driver exited (see %s/browser-driver.log)"
                        % ARTIFACTS))
            self.waiting.clear()
            return
        if msg.get("id") == 0 and not self.ready.done():
            self.ready.set_result(True)
            return
        fut = self.waiting.pop(msg.get("id"), None)
        if fut and not fut.done():
            if msg.get("ok"):
                fut.set_result(msg.get("value"))
            else:
                fut.set_exception(BrowserError(msg.get("error")))

    async def start(self):
        await asyncio.wait_for(self.ready, 60)

    async def call(self, op, timeout=30, **args):
        self.next_id += 1
        rid = self.next_id
        fut = self.loop.create_future()
        self.waiting[rid] = fut
        self.proc.stdin.write((json.dumps(dict(args, id=rid, op=op)) +
                               "\n").encode())
        self.proc.stdin.flush()
        return await asyncio.wait_for(fut, timeout)

    # conveniences (page "main" unless page= is given)
    async def click(self, sel, **kw):
        return await self.call("click", sel=sel, **kw)

    async def fill(self, sel, value, **kw):
        return await self.call("fill", sel=sel, value=value, **kw)

    async def visible(self, sel, **kw):
        return await self.call("visible", sel=sel, **kw)

    async def text(self, sel, **kw):
        return (await self.call("text", sel=sel, **kw)) or ""

    async def texts(self, sel, **kw):
        return await self.call("texts", sel=sel, **kw)

    async def wait(self, sel, state="visible", timeout=10000, **kw):
        try:
            return await self.call("wait", sel=sel, state=state,
                                   timeout=timeout, **kw)
        except BrowserError as e:
            await self.shot("failed-wait")
            raise BrowserError("%s not %s: %s" % (sel, state, e)) from None

    async def wait_text(self, sel, text, timeout=10000, **kw):
        try:
            return await self.call("waitText", sel=sel, text=text,
                                   timeout=timeout, **kw)
        except BrowserError:
            got = await self.call("text", sel=sel, **kw) \
                if await self.call("visible", sel=sel, **kw) else "(hidden)"
            await self.shot("failed-wait")
            raise BrowserError("%s never showed %r; it shows %r" %
                               (sel, text, got)) from None

    async def wait_fn(self, expr, timeout=10000, what=None, **kw):
        try:
            return await self.call("waitFn", expr=expr, timeout=timeout, **kw)
        except BrowserError:
            await self.shot("failed-wait")
            raise BrowserError("timed out waiting for %s" %
                               (what or expr)) from None

    async def attr(self, sel, name, **kw):
        return await self.call("attr", sel=sel, attr=name, **kw)

    async def eval(self, expr, **kw):
        return await self.call("eval", expr=expr, **kw)

    async def shot(self, name, **kw):
        return await self.call("screenshot", file=name + ".png", **kw)

    def stop(self):
        """Ask the driver to quit (it closes Chromium); kill it by PID if
        it does not. Called by Env.shutdown()."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b'{"id": -1, "op": "quit"}\n')
                self.proc.stdin.flush()
                self.proc.stdin.close()
            except (BrokenPipeError, ValueError):
                pass
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                h.stop_pid(self.proc)
        self.stderr.close()


async def browser(env, needs=()):
    """The one browser of this test file (started on first use)."""
    if getattr(env, "browser", None) is None:
        b = Browser(asyncio.get_event_loop(), needs)
        env.extra.append(b)
        env.browser = b
        await b.start()
    return env.browser
