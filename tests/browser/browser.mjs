// browser.mjs - headless Chromium for the portal scenarios, driven over
// stdin/stdout by tests/browser/test_portal.py.
//
// Protocol: one JSON object a line in each direction. A request is
// {"id": N, "op": "...", ...args}; the answer is {"id": N, "ok": true,
// "value": ...} or {"id": N, "ok": false, "error": "..."}. Logs go to
// stderr, never to stdout.
//
// Chromium is Debian's (/usr/bin/chromium, or CHATDESK_BROWSER), launched by
// playwright-core with a fresh --user-data-dir that is removed at exit.
// Every page records the Web Notifications it raises in
// window.__notifications, and its console and uncaught errors go to
// ARTIFACTS/console.log; uncaught errors are also reported by the op
// "errors".

import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";

const AXE = fs.readFileSync(new URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");
const executablePath = process.env.CHATDESK_BROWSER || "/usr/bin/chromium";
const artifacts = process.env.CHATDESK_BROWSER_ARTIFACTS || path.resolve("build/browser-artifacts");
const DEFAULT_TIMEOUT = 10000;

fs.mkdirSync(artifacts, { recursive: true });
const consoleLog = fs.createWriteStream(path.join(artifacts, "console.log"), { flags: "a" });
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "chatdesk-chromium-"));

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
  ],
  viewport: { width: 1280, height: 800 },
  timezoneId: "UTC",
  locale: "en-GB",
});
context.setDefaultTimeout(DEFAULT_TIMEOUT);

// Record every Notification the page raises (title, body).
await context.addInitScript(() => {
  const Real = window.Notification;
  window.__notifications = [];
  if (!Real) return;
  class Recorded extends Real {
    constructor(title, options) {
      window.__notifications.push({ title, body: (options && options.body) || "" });
      super(title, options);
    }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...a) => Real.requestPermission(...a);
  window.Notification = Recorded;
});

const pages = new Map(); // name -> page
const pageErrors = [];
for (const p of context.pages()) await p.close();

function log(line) {
  consoleLog.write(`${new Date().toISOString()} ${line}\n`);
}

function page(name = "main") {
  const p = pages.get(name);
  if (!p) throw new Error(`no page named ${name}`);
  return p;
}

const ops = {
  // ready: "visible" (the portal) or "attached" (a page whose body has no
  // box of its own, like Converse's fullscreen view).
  async open({ page: name = "main", url, ready = "visible" }) {
    let p = pages.get(name);
    if (!p) {
      p = await context.newPage();
      pages.set(name, p);
      p.on("console", (m) => log(`[${name}] console.${m.type()}: ${m.text()}`));
      p.on("pageerror", (e) => {
        log(`[${name}] pageerror: ${e.stack || e}`);
        pageErrors.push(`${name}: ${e.message}`);
      });
    }
    await p.goto(url);
    await p.waitForSelector("body[data-ready=true]", { state: ready });
    return p.url();
  },
  async close({ page: name = "main", unload = true }) {
    const p = page(name);
    pages.delete(name);
    await p.close({ runBeforeUnload: unload });
    return true;
  },
  async grant({ permissions, origin }) {
    await context.grantPermissions(permissions, { origin });
    return true;
  },
  async click({ page: name, sel }) {
    await page(name).click(sel);
    return true;
  },
  // A file input gets one file: name, MIME type, contents in base64.
  async files({ page: name, sel, file, mimeType, base64 }) {
    await page(name).setInputFiles(sel, { name: file, mimeType, buffer: Buffer.from(base64, "base64") });
    return true;
  },
  async fill({ page: name, sel, value }) {
    await page(name).fill(sel, value);
    return true;
  },
  async type({ page: name, sel, value, delay = 20 }) {
    await page(name).locator(sel).pressSequentially(value, { delay });
    return true;
  },
  async press({ page: name, sel, key }) {
    await page(name).press(sel, key);
    return true;
  },
  async mouse({ page: name }) {
    const p = page(name);
    await p.mouse.move(200 + Math.random() * 300, 200 + Math.random() * 200, { steps: 3 });
    return true;
  },
  async wait({ page: name, sel, state = "visible", timeout = DEFAULT_TIMEOUT }) {
    await page(name).waitForSelector(sel, { state, timeout });
    return true;
  },
  async waitText({ page: name, sel, text, timeout = DEFAULT_TIMEOUT }) {
    // Waits until the (visible) element's text contains text.
    await page(name).waitForFunction(([s, t]) => {
      const el = document.querySelector(s);
      return el && !el.closest("[hidden]") && el.textContent.includes(t);
    }, [sel, text], { timeout });
    return page(name).textContent(sel);
  },
  async waitFn({ page: name, expr, timeout = DEFAULT_TIMEOUT }) {
    await page(name).waitForFunction(expr, null, { timeout });
    return page(name).evaluate(expr);
  },
  async text({ page: name, sel }) {
    return page(name).textContent(sel);
  },
  async texts({ page: name, sel }) {
    return page(name).locator(sel).allTextContents();
  },
  async visible({ page: name, sel }) {
    return page(name).isVisible(sel);
  },
  async attr({ page: name, sel, attr }) {
    return page(name).getAttribute(sel, attr);
  },
  async eval({ page: name, expr }) {
    return page(name).evaluate(expr);
  },
  async screenshot({ page: name, file }) {
    const out = path.join(artifacts, file);
    await page(name).screenshot({ path: out });
    return out;
  },
  async reload({ page: name }) {
    const p = page(name);
    await p.reload();
    await p.waitForSelector("body[data-ready=true]");
    return true;
  },
  async viewport({ page: name, width, height }) {
    await page(name).setViewportSize({ width, height });
    return true;
  },
  async colorScheme({ page: name, scheme }) {
    await page(name).emulateMedia({ colorScheme: scheme });
    return true;
  },
  async hidden({ page: name, hidden }) {
    // Pretend the tab is hidden (or visible again) and tell the page.
    await page(name).evaluate((h) => {
      Object.defineProperty(document, "hidden", { configurable: true, get: () => h });
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (h ? "hidden" : "visible") });
      document.dispatchEvent(new Event("visibilitychange"));
    }, hidden);
    return true;
  },
  async focused({ page: name }) {
    return page(name).evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      return { id: el.id, tag: el.tagName.toLowerCase(), disabled: Boolean(el.disabled),
               visible: Boolean(el.offsetParent || el.getClientRects().length) };
    });
  },
  async axe({ page: name }) {
    // axe-core on the page as it is: the serious and critical violations.
    const p = page(name);
    if (!(await p.evaluate(() => Boolean(window.axe)))) await p.addScriptTag({ content: AXE });
    return p.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ["violations"] });
      return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + ": " + (n.failureSummary || "")) }));
    });
  },
  async errors() {
    return pageErrors.splice(0);
  },
  async quit() {
    return true;
  },
};

async function shutdown(code) {
  try {
    await context.close();
  } catch (_) { /* already gone */ }
  fs.rmSync(userDataDir, { recursive: true, force: true });
  consoleLog.end();
  process.exit(code);
}

process.on("SIGTERM", () => shutdown(143));
process.on("SIGINT", () => shutdown(130));

const rl = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
rl.on("line", (line) => {
  // One request at a time, in order.
  queue = queue.then(async () => {
    let req;
    try {
      req = JSON.parse(line);
    } catch (e) {
      process.stdout.write(JSON.stringify({ id: null, ok: false, error: `bad request: ${e.message}` }) + "\n");
      return;
    }
    const fn = ops[req.op];
    let reply;
    try {
      if (!fn) throw new Error(`unknown op ${req.op}`);
      reply = { id: req.id, ok: true, value: (await fn(req)) ?? null };
    } catch (e) {
      reply = { id: req.id, ok: false, error: String(e && e.message ? e.message : e) };
    }
    process.stdout.write(JSON.stringify(reply) + "\n");
    if (req.op === "quit") await shutdown(0);
  });
});
rl.on("close", () => { queue.then(() => shutdown(0)); });
process.stdout.write(JSON.stringify({ id: 0, ok: true, value: "ready" }) + "\n");
