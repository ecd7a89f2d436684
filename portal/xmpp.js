// xmpp.js - the portal's XMPP layer on top of strophe.js.
//
// One Client owns the WebSocket connection (RFC 7395) and everything the
// UI needs from XMPP: log in, reconnect with back-off when the socket
// drops, run XEP-0050 ad-hoc commands, join and talk in XEP-0045 rooms,
// send presence. The UI listens to its events (it is an EventTarget) and
// never touches strophe.js itself.
//
// Events (CustomEvent, data in .detail):
//   status      {state: "connecting"|"online"|"reconnecting"|"offline", delay}
//   message     {stanza}          every <message/> (the UI routes it)
//   presence    {stanza}          every <presence/> not handled here
//   reconnected {}                after a dropped stream came back

import { Strophe, $iq, $msg, $pres } from "./node_modules/strophe.js/dist/strophe.esm.js";

export const NS = {
  COMMANDS: "http://jabber.org/protocol/commands",
  DATA: "jabber:x:data",
  STANZAS: "urn:ietf:params:xml:ns:xmpp-stanzas",
  DISCO_INFO: "http://jabber.org/protocol/disco#info",
  DISCO_ITEMS: "http://jabber.org/protocol/disco#items",
  MUC: "http://jabber.org/protocol/muc",
  MUC_USER: "http://jabber.org/protocol/muc#user",
  CONFERENCE: "jabber:x:conference",
  CHATSTATES: "http://jabber.org/protocol/chatstates",
  DELAY: "urn:xmpp:delay",
  SID: "urn:xmpp:sid:0",
  PING: "urn:xmpp:ping",
  UPLOAD: "urn:xmpp:http:upload:0",
  OOB: "jabber:x:oob",
};

const UNREACHABLE = "We cannot reach the chat service right now. " +
  "Please check your internet connection and try again in a minute.";
const PORTAL_FORM = "urn:chatdesk:portal";
const RECONNECT_DELAYS = [1000, 2000, 4000, 8000, 15000, 30000];
const IQ_TIMEOUT = 20000;

/** An XMPP error: condition (e.g. "forbidden"), type and the <text/>. */
export class XmppError extends Error {
  constructor(condition, text, type) {
    super(text || describeCondition(condition));
    this.condition = condition;
    this.text = text || "";
    this.type = type || "";
  }
}

const CONDITION_TEXT = {
  "bad-request": "The request was not accepted.",
  "forbidden": "You are not allowed to do that.",
  "not-allowed": "That is not allowed right now.",
  "not-authorized": "Your account is not set up for the helpdesk.",
  "not-acceptable": "The request was not acceptable.",
  "item-not-found": "That no longer exists.",
  "registration-required": "You are not a member of this chat.",
  "service-unavailable": "The helpdesk service is not available.",
  "remote-server-not-found": "The helpdesk service cannot be reached.",
  "internal-server-error": "The helpdesk had an internal error; try again.",
  "conflict": "That name is already in use.",
  "timeout": "The helpdesk did not answer in time.",
};

/** A sentence for an error condition that came without a <text/>. */
export function describeCondition(condition) {
  if (CONDITION_TEXT[condition]) return CONDITION_TEXT[condition];
  console.warn("chatdesk: error condition without a text:", condition);
  return "The helpdesk could not do that. Please try again in a moment.";
}

/** The first child element of el named name (in namespace ns, if given). */
export function child(el, name, ns) {
  if (!el) return null;
  for (const c of el.children) {
    if (c.localName === name && (!ns || c.namespaceURI === ns)) return c;
  }
  return null;
}

/** Every child element of el named name (in namespace ns, if given). */
export function children(el, name, ns) {
  return el ? [...el.children].filter((c) => c.localName === name && (!ns || c.namespaceURI === ns)) : [];
}

/** The XmppError an error stanza carries (iq, message or presence). */
export function errorOf(stanza) {
  const err = child(stanza, "error");
  if (!err) return new XmppError("undefined-condition", "", "");
  let condition = "undefined-condition";
  let text = "";
  for (const c of err.children) {
    if (c.namespaceURI !== NS.STANZAS) continue;
    if (c.localName === "text") text = c.textContent.trim();
    else condition = c.localName;
  }
  return new XmppError(condition, text, err.getAttribute("type"));
}

/** XEP-0004: the fields of a form element as {var: value or [values]}. */
export function formFields(x) {
  const out = {};
  for (const f of children(x, "field", NS.DATA)) {
    const values = children(f, "value", NS.DATA).map((v) => v.textContent);
    out[f.getAttribute("var")] = values.length === 1 ? values[0] : values;
  }
  return out;
}

export const bare = (jid) => Strophe.getBareJidFromJid(jid || "") || "";
export const resourceOf = (jid) => Strophe.getResourceFromJid(jid || "") || "";
export const localOf = (jid) => Strophe.getNodeFromJid(jid || "") || "";
export const domainOf = (jid) => Strophe.getDomainFromJid(jid || "") || "";

export class Client extends EventTarget {
  /**
   * @param {string} service WebSocket URL, e.g. ws://host/xmpp-websocket
   * @param {string} component the helpdesk component's JID
   */
  constructor(service, component) {
    super();
    this.service = service;
    this.component = component;
    this.conn = null;
    this.jid = "";
    this.password = "";
    this.wanted = false; // the user wants to be connected
    this.attempt = 0;
    this.timer = null;
    this.state = "offline";
    this.upload = undefined; // the upload service, once looked up
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setState(state, extra = {}) {
    this.state = state;
    this.emit("status", { state, ...extra });
  }

  /** Log in; resolves once the stream is ready, rejects with an Error
   *  whose message a person can read. */
  login(jid, password) {
    this.jid = jid;
    this.password = password;
    this.wanted = true;
    this.attempt = 0;
    return this.open(false);
  }

  /** One connection attempt. reconnect: this replaces a dropped stream. */
  open(reconnect) {
    clearTimeout(this.timer);
    this.timer = null;
    const conn = new Strophe.Connection(this.service);
    this.conn = conn;
    this.addHandlers(conn);
    this.setState(reconnect ? "reconnecting" : "connecting");
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve();
      };
      conn.connect(this.jid, this.password, (status, condition) => {
        if (conn !== this.conn) return; // a stale connection
        const S = Strophe.Status;
        if (status === S.CONNECTED) {
          this.jid = conn.jid;
          this.attempt = 0;
          this.setState("online");
          finish();
          if (reconnect) this.emit("reconnected");
        } else if (status === S.AUTHFAIL) {
          this.wanted = false;
          finish(new Error("Wrong address or password."));
          this.setState("offline");
        } else if (status === S.CONNFAIL || status === S.ERROR) {
          console.warn("chatdesk: cannot reach", this.service, condition || "");
          finish(new Error(UNREACHABLE));
        } else if (status === S.DISCONNECTED) {
          if (!settled) {
            console.warn("chatdesk: disconnected before the sign-in finished:", this.service);
            finish(new Error(UNREACHABLE));
          }
          this.dropped(reconnect);
        }
      });
    });
  }

  /** The stream is gone: reconnect unless the user logged out. A failed
   *  first login does not retry (the user sees the error and can retry). */
  dropped(wasReconnect) {
    if (!this.wanted) {
      this.setState("offline");
      return;
    }
    if (this.state === "connecting" && !wasReconnect) {
      this.wanted = false;
      this.setState("offline");
      return;
    }
    const delay = RECONNECT_DELAYS[Math.min(this.attempt, RECONNECT_DELAYS.length - 1)];
    this.attempt += 1;
    this.setState("reconnecting", { delay });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.open(true).catch(() => { /* dropped() schedules the next try */ });
    }, delay);
  }

  /** Close the stream on purpose (log out, tab closed). */
  logout() {
    this.wanted = false;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.conn) {
      try {
        this.conn.send($pres({ type: "unavailable" }));
        this.conn.flush();
        this.conn.disconnect("logout");
      } catch (_) { /* already gone */ }
    }
    this.setState("offline");
  }

  addHandlers(conn) {
    conn.addHandler((st) => { this.emit("message", { stanza: st }); return true; }, null, "message");
    conn.addHandler((st) => { this.onPresence(st); return true; }, null, "presence");
    conn.addHandler((st) => { this.onIq(st); return true; }, null, "iq", ["get", "set"]);
  }

  onPresence(st) {
    const from = st.getAttribute("from") || "";
    // The component asks every contact for a subscription (SPEC §2):
    // approve it, and only it.
    if (st.getAttribute("type") === "subscribe") {
      if (bare(from) === this.component) {
        this.send($pres({ to: this.component, type: "subscribed" }));
      }
      return;
    }
    this.emit("presence", { stanza: st });
  }

  /** Requests to the portal itself: ping and disco#info answered, the
   *  rest refused, so every iq gets an answer. */
  onIq(st) {
    const id = st.getAttribute("id");
    const from = st.getAttribute("from");
    const payload = st.children[0];
    if (payload && payload.namespaceURI === NS.PING) {
      this.send($iq({ type: "result", id, to: from }));
      return;
    }
    if (payload && payload.namespaceURI === NS.DISCO_INFO && st.getAttribute("type") === "get") {
      const reply = $iq({ type: "result", id, to: from })
        .c("query", { xmlns: NS.DISCO_INFO })
        .c("identity", { category: "client", type: "web", name: "chatdesk portal" }).up();
      for (const v of [NS.DISCO_INFO, NS.CHATSTATES, NS.CONFERENCE, NS.MUC, NS.PING]) {
        reply.c("feature", { var: v }).up();
      }
      this.send(reply);
      return;
    }
    this.send($iq({ type: "error", id, to: from })
      .c("error", { type: "cancel" })
      .c("service-unavailable", { xmlns: NS.STANZAS }));
  }

  send(stanza) {
    if (this.conn && this.state === "online") this.conn.send(stanza);
  }

  /** Send an iq; resolves with the result stanza, rejects with XmppError. */
  iq(stanza, timeout = IQ_TIMEOUT) {
    return new Promise((resolve, reject) => {
      if (!this.conn || this.state !== "online") {
        reject(new XmppError("remote-server-not-found", "The connection was lost; we are reconnecting. Please try again in a moment.", "wait"));
        return;
      }
      this.conn.sendIQ(stanza, resolve, (st) => {
        reject(st ? errorOf(st) : new XmppError("timeout", "", "wait"));
      }, timeout);
    });
  }

  /** The ad-hoc command nodes the component offers this user. */
  async commandNodes() {
    const res = await this.iq($iq({ type: "get", to: this.component })
      .c("query", { xmlns: NS.DISCO_ITEMS, node: NS.COMMANDS }));
    const q = child(res, "query", NS.DISCO_ITEMS);
    return children(q, "item").map((i) => i.getAttribute("node"));
  }

  /** One <command/> request. Returns {status, sessionid, fields, notes, form}. */
  async commandStep(node, { action = "execute", sessionid = null, fields = null } = {}) {
    const attrs = { xmlns: NS.COMMANDS, node, action };
    if (sessionid) attrs.sessionid = sessionid;
    const iq = $iq({ type: "set", to: this.component }).c("command", attrs);
    if (fields) {
      iq.c("x", { xmlns: NS.DATA, type: "submit" });
      for (const [name, value] of Object.entries(fields)) {
        iq.c("field", { var: name }).c("value").t(String(value)).up().up();
      }
      iq.up();
    }
    const res = await this.iq(iq);
    const cmd = child(res, "command", NS.COMMANDS);
    const x = child(cmd, "x", NS.DATA);
    return {
      status: cmd ? cmd.getAttribute("status") : "completed",
      sessionid: cmd ? cmd.getAttribute("sessionid") : null,
      fields: x ? formFields(x) : {},
      notes: children(cmd, "note").map((n) => ({ type: n.getAttribute("type") || "info", text: n.textContent })),
      form: x,
    };
  }

  /** Run a command to completion with these field values: they go with
   *  the first execute (chatdesk's one-form commands act on it at once),
   *  and again to each form the component still shows (at most three
   *  screens). An error reply rejects with its XmppError. */
  async command(node, fields) {
    let reply = await this.commandStep(node, { fields });
    for (let i = 0; reply.status === "executing" && i < 3; i++) {
      reply = await this.commandStep(node, { sessionid: reply.sessionid, fields });
    }
    if (reply.status === "executing") {
      await this.commandStep(node, { action: "cancel", sessionid: reply.sessionid }).catch(() => {});
      console.warn(`chatdesk: the '${node}' command asked for more than the portal fills in`);
      throw new XmppError("bad-request", "The helpdesk asked for something this page cannot fill in. Please try again later.", "modify");
    }
    const error = reply.notes.find((n) => n.type === "error");
    if (error) throw new XmppError("bad-request", error.text, "modify");
    return reply;
  }

  /** May this user run node? Executes it without values: a refusal
   *  (forbidden, not-authorized, item-not-found) means no and carries
   *  the reason; a form means yes and is cancelled at once. */
  async probeCommand(node) {
    try {
      const reply = await this.commandStep(node);
      if (reply.status === "executing" && reply.sessionid) {
        await this.commandStep(node, { action: "cancel", sessionid: reply.sessionid }).catch(() => {});
      }
      return { allowed: true, reason: "" };
    } catch (e) {
      if (e instanceof XmppError && ["forbidden", "not-authorized", "item-not-found", "service-unavailable"].includes(e.condition)) {
        return { allowed: false, reason: e.message };
      }
      return { allowed: true, reason: "" }; // e.g. bad-request: a value is missing
    }
  }

  /** The component's urn:chatdesk:portal form (XEP-0128 in disco#info):
   *  {answerTimeout, idleTimeout, awayAfter, officeOpen}, or null. */
  async portalInfo() {
    try {
      const res = await this.iq($iq({ type: "get", to: this.component })
        .c("query", { xmlns: NS.DISCO_INFO }), 8000);
      const q = child(res, "query", NS.DISCO_INFO);
      const x = children(q, "x", NS.DATA).find((f) => formFields(f).FORM_TYPE === PORTAL_FORM);
      if (!x) return null;
      const f = formFields(x);
      const num = (v) => (Number.isFinite(Number(v)) && v !== "" ? Number(v) : null);
      return {
        answerTimeout: num(f.answer_timeout), idleTimeout: num(f.idle_timeout),
        awayAfter: num(f.away_after), officeOpen: f.office_hours_open !== "0" && f.office_hours_open !== "false",
      };
    } catch (e) {
      console.warn("chatdesk: no portal info from the component:", e.message);
      return null;
    }
  }

  /** The default values of node's form (executed without values, then
   *  cancelled); {} when it is refused. */
  async commandDefaults(node) {
    try {
      const reply = await this.commandStep(node);
      if (reply.status === "executing" && reply.sessionid) {
        await this.commandStep(node, { action: "cancel", sessionid: reply.sessionid }).catch(() => {});
      }
      return reply.fields;
    } catch (_) {
      return {};
    }
  }

  /** The server's XEP-0363 upload service: {jid, maxSize (bytes, 0 =
   *  unknown)}, or null. disco#items of the server, then disco#info of
   *  each item for the feature; remembered for the stream. */
  async uploadService() {
    if (this.upload !== undefined) return this.upload;
    let found = null;
    try {
      const res = await this.iq($iq({ type: "get", to: domainOf(this.jid) })
        .c("query", { xmlns: NS.DISCO_ITEMS }), 8000);
      for (const item of children(child(res, "query", NS.DISCO_ITEMS), "item")) {
        const jid = item.getAttribute("jid");
        const info = await this.iq($iq({ type: "get", to: jid }).c("query", { xmlns: NS.DISCO_INFO }), 8000)
          .catch(() => null);
        const q = child(info, "query", NS.DISCO_INFO);
        if (!children(q, "feature").some((f) => f.getAttribute("var") === NS.UPLOAD)) continue;
        const x = children(q, "x", NS.DATA).find((f) => formFields(f).FORM_TYPE === NS.UPLOAD);
        found = { jid, maxSize: Number(x ? formFields(x)["max-file-size"] : 0) || 0 };
        break;
      }
    } catch (e) {
      console.warn("chatdesk: no upload service:", e.message);
    }
    this.upload = found;
    return found;
  }

  /** A XEP-0363 slot for file: {put, get, headers}. Rejects with XmppError. */
  async uploadSlot(service, file) {
    const res = await this.iq($iq({ type: "get", to: service }).c("request", {
      xmlns: NS.UPLOAD, filename: file.name, size: String(file.size),
      "content-type": file.type || "application/octet-stream",
    }));
    const slot = child(res, "slot", NS.UPLOAD);
    const put = child(slot, "put", NS.UPLOAD);
    const get = child(slot, "get", NS.UPLOAD);
    if (!put || !get) throw new XmppError("bad-request", "", "modify");
    const headers = {};
    for (const h of children(put, "header", NS.UPLOAD)) {
      // XEP-0363 allows these three only.
      const name = h.getAttribute("name") || "";
      if (/^(authorization|cookie|expires)$/i.test(name)) headers[name] = h.textContent;
    }
    return { put: put.getAttribute("url"), get: get.getAttribute("url"), headers };
  }

  /** XEP-0045 reserved nickname in room, or "" when it has none. */
  async reservedNick(room) {
    try {
      const res = await this.iq($iq({ type: "get", to: room })
        .c("query", { xmlns: NS.DISCO_INFO, node: "x-roomuser-item" }), 8000);
      const q = child(res, "query", NS.DISCO_INFO);
      const id = children(q, "identity").find((i) => i.getAttribute("name"));
      return id ? id.getAttribute("name") : "";
    } catch (_) {
      return "";
    }
  }

  /** Join room as nick (history: maxstanzas, or all when null). */
  joinRoom(room, nick, show, maxstanzas = null) {
    const p = $pres({ to: `${room}/${nick}` }).c("x", { xmlns: NS.MUC });
    if (maxstanzas !== null) p.c("history", { maxstanzas: String(maxstanzas) }).up();
    p.up();
    if (show) p.c("show").t(show).up();
    this.send(p);
  }

  leaveRoom(room, nick) {
    this.send($pres({ to: `${room}/${nick}`, type: "unavailable" }));
  }

  /** Available presence (show: "" or "away") to everyone who should see
   *  it: subscribers (broadcast), the component (directed, so the server
   *  tells it when the stream closes) and each room occupant JID given. */
  sendPresence(show, occupantJids = []) {
    const make = (to) => {
      const p = to ? $pres({ to }) : $pres();
      if (show) p.c("show").t(show).up();
      return p;
    };
    this.send(make(null));
    this.send(make(this.component));
    for (const to of occupantJids) this.send(make(to));
  }

  /** A groupchat message with an optional body, a chat state and a
   *  XEP-0066 link (oob: the URL of a shared file, also the body). */
  sendGroupchat(room, body, chatState, oob = "") {
    const id = `m${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const m = $msg({ to: room, type: "groupchat", id });
    if (body) m.c("body").t(body).up();
    if (chatState) m.c(chatState, { xmlns: NS.CHATSTATES }).up();
    if (oob) m.c("x", { xmlns: NS.OOB }).c("url").t(oob).up().up();
    this.send(m);
    return id;
  }
}
