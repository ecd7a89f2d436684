// app.js - the chatdesk client portal: log in, Contact Support, chat dialog.
//
// Configuration (URL query parameters, all optional; see docs/portal.md):
//   away_after  seconds without mouse/keyboard activity before the portal
//               reports itself away (default 300, the SPEC's 5 minutes)
//   ws          the XMPP WebSocket URL (default: ws[s]://<this host>/xmpp-websocket)
//   component   the helpdesk component's JID (default: helpdesk.<your domain>)
//   jid         prefills the address field

import {
  Client, NS, XmppError, child, children, errorOf, bare, resourceOf, localOf, domainOf,
} from "./xmpp.js";

const params = new URLSearchParams(location.search);

function positiveNumber(value, fallback) {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

const config = {
  awayAfter: positiveNumber(params.get("away_after") ?? document.documentElement.dataset.awayAfter, 300),
  ws: params.get("ws") || `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/xmpp-websocket`,
  component: params.get("component") || "",
};

const PAUSED_AFTER = 5000; // ms of no typing before we say "paused"
const $ = (id) => document.getElementById(id);

const ui = {
  loginView: $("login-view"), loginForm: $("login-form"), jid: $("jid"), password: $("password"),
  loginButton: $("login-button"), loginError: $("login-error"),
  me: $("me"), meName: $("me-name"), presence: $("presence-badge"), logout: $("logout"),
  connection: $("connection-banner"), error: $("error-banner"), errorText: $("error-text"),
  errorClose: $("error-close"),
  supportView: $("support-view"), chatOption: $("chat-option"), chatOpen: $("chat-open"),
  chatChecking: $("chat-checking"), chatUnavailable: $("chat-unavailable"),
  chatUnavailableText: $("chat-unavailable-text"),
  startForm: $("start-form"), description: $("description"), startButton: $("start-chat"),
  startCancel: $("start-cancel"),
  dialog: $("chat-dialog"), chatTabs: $("chat-tabs"), chatTitle: $("chat-title"),
  chatSubject: $("chat-subject"), chatStatus: $("chat-status"), log: $("messages"),
  typing: $("typing"), chatError: $("chat-error"), callbackOpen: $("callback-open"),
  endChat: $("end-chat"), composer: $("composer"), input: $("message-input"), send: $("send"),
  endedBar: $("ended-bar"), endedText: $("ended-text"), leave: $("leave-chat"),
  callbackDialog: $("callback-dialog"), callbackForm: $("callback-form"),
  callbackPhone: $("callback-phone"), callbackNote: $("callback-note"),
  callbackError: $("callback-error"), callbackSubmit: $("callback-submit"),
  callbackCancel: $("callback-cancel"),
};

let client = null;
let nodes = new Set(); // the ad-hoc commands the component offers us
let chatRefusal = ""; // why start-chat was refused this login, if it was
const chats = new Map(); // room JID -> Chat
let current = null; // the Chat shown in the dialog
let presence = "online"; // what we last told the server: online | away
let lastActivity = Date.now();

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

// ---- small UI helpers ------------------------------------------------------

function show(el, visible) {
  el.hidden = !visible;
}

function showError(text) {
  ui.errorText.textContent = text;
  show(ui.error, true);
}

function clearError() {
  show(ui.error, false);
  ui.errorText.textContent = "";
}

/** A text with http(s) links made clickable, as DOM nodes (never HTML). */
function linkified(text) {
  const frag = document.createDocumentFragment();
  const re = /\bhttps?:\/\/[^\s<>"']+/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    frag.append(text.slice(last, m.index));
    const a = document.createElement("a");
    a.href = m[0];
    a.textContent = m[0];
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    frag.append(a);
    last = m.index + m[0].length;
  }
  frag.append(text.slice(last));
  return frag;
}

function timeElement(date) {
  const t = document.createElement("time");
  t.dateTime = date.toISOString();
  t.textContent = timeFormat.format(date);
  t.title = dateTimeFormat.format(date);
  return t;
}

// ---- chats -------------------------------------------------------------------

const LIVE = new Set(["joining", "waiting", "active"]);
// Every room's own occupant: its messages are the room's notices, shown as
// system lines; it is not a person in the chat (SPEC §3). Nobody else may
// take this nick.
const NOTICE_NICK = "Helpdesk";

class Chat {
  constructor({ room, session, ticket, subject, origin }) {
    this.room = room;
    this.session = session || (room.match(/^chat-([^@]+)@/) || [])[1] || "";
    this.ticket = ticket || "";
    this.subject = subject || "";
    this.origin = origin; // "start" (we asked) or "invite" (a tech pushed it)
    this.nick = "";
    this.state = "joining"; // joining waiting active ended callback failed
    this.joined = false;
    this.occupants = new Map(); // nick -> {role, affiliation, jid}
    this.typing = new Set(); // nicks composing
    this.seen = new Set(); // stanza-ids (and history keys) already shown
    this.pending = new Map(); // our message id -> body, until reflected
    this.retriedNick = false;
    this.noCallback = false; // callback refused as disabled
    this.list = document.createElement("ol");
    this.list.className = "messages";
    this.error = "";
  }

  get techs() {
    return [...this.occupants.entries()]
      .filter(([, o]) => o.role === "moderator" || o.affiliation === "owner" || o.affiliation === "admin")
      .map(([nick]) => nick);
  }

  get occupantJid() {
    return `${this.room}/${this.nick}`;
  }

  add(kind, { nick = "", body, date = new Date(), delayed = false } = {}) {
    const li = document.createElement("li");
    li.className = `msg ${kind}`;
    li.dataset.testid = "message";
    li.dataset.kind = kind;
    if (delayed) li.classList.add("history");
    if (kind === "notice" || kind === "local") {
      const span = document.createElement("span");
      span.className = "text";
      span.append(linkified(body));
      li.append(span, " ", timeElement(date));
    } else {
      li.dataset.nick = nick;
      const meta = document.createElement("div");
      meta.className = "meta";
      const who = document.createElement("span");
      who.className = "nick";
      who.textContent = kind === "mine" ? "You" : nick;
      meta.append(who, " ", timeElement(date));
      const text = document.createElement("div");
      text.className = "body";
      text.append(linkified(body));
      li.append(meta, text);
    }
    this.list.append(li);
    if (this === current) this.list.lastElementChild.scrollIntoView({ block: "end" });
  }
}

function liveChat() {
  return [...chats.values()].find((c) => LIVE.has(c.state)) || null;
}

function occupantJids() {
  return [...chats.values()].filter((c) => c.joined).map((c) => c.occupantJid);
}

async function openChat(info) {
  let chat = chats.get(info.room);
  if (!chat) {
    chat = new Chat(info);
    chats.set(info.room, chat);
  } else {
    if (info.session) chat.session = info.session;
    if (info.ticket) chat.ticket = info.ticket;
  }
  setCurrent(chat);
  chat.nick = chat.nick || (await client.reservedNick(chat.room)) || localOf(client.jid) || "contact";
  client.joinRoom(chat.room, chat.nick, presence === "away" ? "away" : "");
  render();
  return chat;
}

function setCurrent(chat) {
  current = chat;
  if (chat) {
    ui.log.replaceChildren(chat.list);
    show(ui.dialog, true);
    requestAnimationFrame(() => chat.list.lastElementChild?.scrollIntoView({ block: "end" }));
  } else {
    ui.log.replaceChildren();
    show(ui.dialog, false);
  }
  render();
}

function setChatState(chat, state) {
  if (chat.state === state) return;
  chat.state = state;
  if (!LIVE.has(state)) chat.typing.clear();
  render();
}

function chatError(chat, text) {
  chat.error = text;
  render();
}

/** Draw the dialog for the current chat. */
function render() {
  renderTabs();
  const c = current;
  if (!c) return;
  ui.dialog.dataset.state = c.state;
  ui.dialog.dataset.room = c.room;
  ui.dialog.dataset.session = c.session;
  const techs = c.techs;
  let title;
  let status;
  switch (c.state) {
    case "joining": title = "Connecting to your chat…"; status = "Joining"; break;
    case "waiting": title = "Waiting for a technician…"; status = "Waiting"; break;
    case "active": title = techs.length ? `Chat with ${techs.join(", ")}` : "Chat with support"; status = "Connected"; break;
    case "callback": title = "Call back requested"; status = "Call back"; break;
    case "failed": title = "Chat unavailable"; status = "Error"; break;
    default: title = "Chat ended"; status = "Ended";
  }
  ui.chatTitle.textContent = title;
  ui.chatStatus.textContent = status;
  ui.chatStatus.dataset.state = c.state;
  const ticket = c.ticket ? `Ticket #${c.ticket}` : c.session ? `Session ${c.session}` : "";
  ui.chatSubject.textContent = [ticket, c.subject].filter(Boolean).join(" · ");

  const typers = [...c.typing];
  show(ui.typing, typers.length > 0);
  ui.typing.textContent = typers.length === 1 ? `${typers[0]} is typing…`
    : typers.length > 1 ? `${typers.join(", ")} are typing…` : "";

  show(ui.chatError, Boolean(c.error));
  ui.chatError.textContent = c.error;

  const live = c.state === "waiting" || c.state === "active";
  show(ui.endChat, live && nodes.has("end-chat"));
  show(ui.callbackOpen, c.state === "waiting" && nodes.has("callback") && !c.noCallback);
  show(ui.composer, live || c.state === "joining");
  ui.input.disabled = ui.send.disabled = !live;
  const over = !live && c.state !== "joining";
  show(ui.endedBar, over);
  ui.endedText.textContent = c.state === "callback"
    ? "A technician will call you back. You can leave this chat now."
    : c.state === "failed" ? "This chat could not be opened." : "This chat has ended.";
  updateChatOption();
}

function renderTabs() {
  const open = [...chats.values()];
  show(ui.chatTabs, open.length > 1);
  ui.chatTabs.replaceChildren(...open.map((c) => {
    const b = document.createElement("button");
    b.type = "button";
    b.role = "tab";
    b.className = "tab";
    b.textContent = c.ticket ? `#${c.ticket}` : c.session ? `Chat ${c.session}` : c.room;
    b.setAttribute("aria-selected", String(c === current));
    b.addEventListener("click", () => setCurrent(c));
    return b;
  }));
}

// ---- the Contact Support page --------------------------------------------------

/** Chat is offered when the component lists start-chat for us and a
 *  dry run of it is not refused (forbidden: chat or pre-ticket chat off). */
async function refreshChatOption() {
  show(ui.chatChecking, true);
  show(ui.chatOption, false);
  show(ui.chatUnavailable, false);
  let reason = "";
  try {
    nodes = new Set(await client.commandNodes());
    if (!nodes.has("start-chat")) {
      reason = "Chat is not available for your account. Please contact support by phone or e-mail.";
    } else {
      const probe = chatRefusal ? { allowed: false, reason: chatRefusal }
        : await client.probeCommand("start-chat");
      if (!probe.allowed) reason = probe.reason;
    }
  } catch (e) {
    reason = e.message;
  }
  show(ui.chatChecking, false);
  ui.chatUnavailableText.textContent = reason;
  show(ui.chatUnavailable, Boolean(reason));
  show(ui.chatOption, !reason);
  if (reason) show(ui.startForm, false);
  render();
  updateChatOption();
}

function updateChatOption() {
  const live = liveChat();
  ui.chatOpen.textContent = live ? "Open your chat" : "Chat with us";
}

async function startChat(event) {
  event.preventDefault();
  clearError();
  const description = ui.description.value.trim();
  if (!description) {
    showError("Please describe your problem in a few words.");
    ui.description.focus();
    return;
  }
  ui.startButton.disabled = true;
  ui.startButton.textContent = "Starting…";
  try {
    const reply = await client.command("start-chat", { description });
    const room = reply.fields.room;
    if (!room) throw new XmppError("bad-request", "The helpdesk did not say which chat room to join.");
    show(ui.startForm, false);
    ui.description.value = "";
    const chat = await openChat({ room, session: reply.fields.session, ticket: reply.fields.ticket, subject: description, origin: "start" });
    chat.add("local", {
      body: `Your request${chat.ticket ? ` (ticket #${chat.ticket})` : ""} was sent. A technician will join you shortly.`,
    });
    ui.input.focus();
  } catch (e) {
    showError(e.message);
    if (e instanceof XmppError && (e.condition === "forbidden" || e.condition === "not-authorized")) {
      chatRefusal = e.message; // chat or pre-ticket chat is off for us
      await refreshChatOption();
    }
  } finally {
    ui.startButton.disabled = false;
    ui.startButton.textContent = "Start a New Chat";
  }
}

// ---- stanzas in --------------------------------------------------------------

function onInvite(room, reason) {
  room = bare(room);
  if (!room || domainOf(room) !== client.component) return; // helpdesk rooms only
  const known = chats.get(room);
  if (known && (known.joined || LIVE.has(known.state))) return;
  openChat({ room, origin: "invite" }).then((chat) => {
    chat.add("local", { body: reason ? `A technician started a chat with you: ${reason}` : "A technician started a chat with you." });
  });
  notify("Chat request from support", reason || "A technician wants to chat with you.", room);
}

function notify(title, body, tag) {
  document.title = `(1) ${baseTitle}`;
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const n = new Notification(title, { body, tag });
    n.onclick = () => { window.focus(); n.close(); };
  } catch (_) { /* some browsers only allow notifications from a service worker */ }
}

function onMessage(st) {
  const from = st.getAttribute("from") || "";
  const type = st.getAttribute("type") || "normal";
  const conference = child(st, "x", NS.CONFERENCE);
  const mucUser = child(st, "x", NS.MUC_USER);
  const invite = child(mucUser, "invite");
  if (type !== "error" && type !== "groupchat" && (conference || invite)) {
    // A delayed invitation was stored while we were offline: the push-chat
    // it offered needed us Online, so it is stale (docs/portal.md).
    if (child(st, "delay", NS.DELAY)) return;
    const reason = conference?.getAttribute("reason") || child(invite, "reason")?.textContent || "";
    onInvite(conference ? conference.getAttribute("jid") : from, reason.trim());
    return;
  }
  const chat = chats.get(bare(from));
  if (!chat) {
    if (type === "error") showError(errorOf(st).message);
    return;
  }
  if (type === "error") {
    const id = st.getAttribute("id");
    const body = chat.pending.get(id);
    chat.pending.delete(id);
    const e = errorOf(st);
    chatError(chat, body ? `Your message “${body}” was not sent: ${e.message}` : e.message);
    return;
  }
  if (type !== "groupchat") return;
  const nick = resourceOf(from);
  const subject = child(st, "subject");
  if (subject && !child(st, "body")) {
    chat.subject = subject.textContent.trim() || chat.subject;
    render();
    return;
  }
  const bodyEl = child(st, "body");
  const chatState = [...st.children].find((c) => c.namespaceURI === NS.CHATSTATES)?.localName;
  if (nick && nick !== chat.nick && chatState) {
    if (chatState === "composing") chat.typing.add(nick);
    else chat.typing.delete(nick);
  }
  if (!bodyEl) { render(); return; }
  const body = bodyEl.textContent;
  const delay = child(st, "delay", NS.DELAY);
  const date = delay ? new Date(delay.getAttribute("stamp")) : new Date();
  const sid = children(st, "stanza-id", NS.SID).find((s) => bare(s.getAttribute("by")) === chat.room);
  const key = sid ? `sid:${sid.getAttribute("id")}` : delay ? `h:${delay.getAttribute("stamp")}|${nick}|${body}` : null;
  if (key && chat.seen.has(key)) return;
  if (key) chat.seen.add(key);
  chat.typing.delete(nick);
  if (!nick || nick === NOTICE_NICK) {
    chat.add("notice", { body, date, delayed: Boolean(delay) });
  } else if (nick === chat.nick) {
    chat.pending.delete(st.getAttribute("id"));
    chat.add("mine", { nick, body, date, delayed: Boolean(delay) });
  } else {
    chat.add("theirs", { nick, body, date, delayed: Boolean(delay) });
    if (document.hidden) notify(`Message from ${nick}`, body, chat.room);
  }
  render();
}

function onPresence(st) {
  const from = st.getAttribute("from") || "";
  const chat = chats.get(bare(from));
  if (!chat) return;
  const nick = resourceOf(from);
  const type = st.getAttribute("type") || "";
  const x = child(st, "x", NS.MUC_USER);
  const item = child(x, "item");
  const codes = children(x, "status").map((s) => s.getAttribute("code"));
  const self = codes.includes("110") || (nick && nick === chat.nick);
  if (nick === NOTICE_NICK && !self) return; // the room itself, not a tech

  if (type === "error") {
    const e = errorOf(st);
    if (e.condition === "conflict" && !chat.retriedNick && !chat.joined) {
      chat.retriedNick = true;
      chat.nick = `${chat.nick} (${localOf(client.jid)})`;
      client.joinRoom(chat.room, chat.nick, presence === "away" ? "away" : "");
      return;
    }
    chatError(chat, e.message);
    if (!chat.joined) setChatState(chat, "failed");
    return;
  }
  if (type === "unavailable") {
    if (self) {
      chat.joined = false;
      if (codes.includes("333") && LIVE.has(chat.state)) {
        // Removed for a technical reason (e.g. the room lost track of us):
        // come back in.
        setTimeout(() => client.joinRoom(chat.room, chat.nick, presence === "away" ? "away" : ""), 500);
        return;
      }
      if (LIVE.has(chat.state)) {
        const why = codes.includes("307") ? "You were removed from this chat."
          : child(x, "destroy") ? "This chat was closed." : "You are no longer in this chat.";
        chat.add("local", { body: why });
        setChatState(chat, "ended");
      }
    } else {
      chat.occupants.delete(nick);
      chat.typing.delete(nick);
      render();
    }
    return;
  }
  const role = item?.getAttribute("role") || "participant";
  const occupant = { role, affiliation: item?.getAttribute("affiliation") || "none", jid: item?.getAttribute("jid") || "" };
  if (self) {
    if (nick) chat.nick = nick; // the room may have given us another nick (status 210)
    chat.joined = true;
    chat.error = "";
    if (role === "visitor" || role === "none") {
      // Voice revoked: the chat was ended (SPEC §3).
      if (chat.state !== "callback") setChatState(chat, "ended");
    } else if (chat.state === "joining") {
      // A pushed chat is active from the start (SPEC §3); one we asked
      // for waits until a tech joins.
      setChatState(chat, chat.techs.length || chat.origin === "invite" ? "active" : "waiting");
    }
  } else {
    const wasTech = chat.techs.includes(nick);
    chat.occupants.set(nick, occupant);
    const isTech = chat.techs.includes(nick);
    if (isTech && !wasTech && chat.joined && chat.state === "waiting") setChatState(chat, "active");
  }
  render();
}

// ---- chat dialog actions -------------------------------------------------------------

let composing = false;
let pausedTimer = null;

function sendChatState(state) {
  if (current && current.joined && LIVE.has(current.state)) client.sendGroupchat(current.room, "", state);
}

function onInput() {
  clearTimeout(pausedTimer);
  if (!ui.input.value) {
    if (composing) { composing = false; sendChatState("active"); }
    return;
  }
  if (!composing) { composing = true; sendChatState("composing"); }
  pausedTimer = setTimeout(() => { composing = false; sendChatState("paused"); }, PAUSED_AFTER);
}

function sendMessage(event) {
  event.preventDefault();
  const chat = current;
  const body = ui.input.value.trim();
  if (!chat || !body) return;
  if (!chat.joined) {
    chatError(chat, "Not connected to the chat yet; please wait a moment.");
    return;
  }
  chat.error = "";
  clearTimeout(pausedTimer);
  composing = false;
  const id = client.sendGroupchat(chat.room, body, "active");
  chat.pending.set(id, body);
  ui.input.value = "";
  render();
}

async function endChat() {
  const chat = current;
  if (!chat) return;
  chat.error = "";
  ui.endChat.disabled = true;
  try {
    await client.command("end-chat", { session: chat.session });
    setChatState(chat, "ended");
  } catch (e) {
    chatError(chat, e.message);
  } finally {
    ui.endChat.disabled = false;
  }
}

function leaveChat() {
  const chat = current;
  if (!chat) return;
  if (chat.joined) client.leaveRoom(chat.room, chat.nick);
  chats.delete(chat.room);
  setCurrent([...chats.values()][0] || null);
  document.title = baseTitle;
  refreshChatOption();
}

function openCallback() {
  ui.callbackError.textContent = "";
  show(ui.callbackError, false);
  ui.callbackDialog.showModal();
  ui.callbackPhone.focus();
}

async function submitCallback(event) {
  event.preventDefault();
  const chat = current;
  if (!chat) return;
  const phone = ui.callbackPhone.value.trim();
  const note = ui.callbackNote.value.trim();
  if (!phone) {
    ui.callbackError.textContent = "Please enter the phone number we should call.";
    show(ui.callbackError, true);
    return;
  }
  ui.callbackSubmit.disabled = true;
  try {
    const fields = { session: chat.session, phone };
    if (note) fields.note = note;
    await client.command("callback", fields);
    ui.callbackDialog.close();
    ui.callbackForm.reset();
    setChatState(chat, "callback");
  } catch (e) {
    if (e instanceof XmppError && e.condition === "forbidden") {
      // Callbacks are off for this company: no point offering them again.
      chat.noCallback = true;
      ui.callbackDialog.close();
      chatError(chat, e.message);
      return;
    }
    ui.callbackError.textContent = e.message;
    show(ui.callbackError, true);
  } finally {
    ui.callbackSubmit.disabled = false;
  }
}

// ---- presence: Online on activity, Away when idle -----------------------------------

function setPresence(p) {
  presence = p;
  document.body.dataset.presence = p;
  renderBadge();
  if (client) client.sendPresence(p === "away" ? "away" : "", occupantJids());
}

/** The badge: what the helpdesk sees of us (Offline while reconnecting). */
function renderBadge() {
  const connected = client && client.state === "online";
  const shown = connected ? presence : "offline";
  ui.presence.dataset.presence = shown;
  ui.presence.textContent = shown === "away" ? "Away" : shown === "online" ? "Online" : "Offline";
}

function onActivity() {
  lastActivity = Date.now();
  if (presence === "away" && client && client.state === "online") setPresence("online");
}

function checkIdle() {
  if (presence === "online" && client && client.state === "online" &&
      Date.now() - lastActivity >= config.awayAfter * 1000) {
    setPresence("away");
  }
}

for (const ev of ["mousemove", "mousedown", "keydown", "wheel", "touchstart"]) {
  window.addEventListener(ev, onActivity, { passive: true, capture: true });
}
setInterval(checkIdle, 1000);

// ---- connection ------------------------------------------------------------------

const baseTitle = document.title;

function onStatus({ detail }) {
  const { state, delay } = detail;
  document.body.dataset.connection = state;
  renderBadge();
  ui.chatOpen.disabled = ui.startButton.disabled = state !== "online";
  if (state === "reconnecting") {
    ui.connection.textContent = `Connection lost. Reconnecting${delay ? ` in ${Math.round(delay / 1000)} s` : ""}…`;
    show(ui.connection, true);
  } else if (state === "online") {
    show(ui.connection, false);
  }
}

function onReconnected() {
  // A new stream is in no room: rejoin them (history comes again; what we
  // have shown already is recognised by its stanza-id and skipped).
  for (const chat of chats.values()) chat.joined = false;
  lastActivity = Date.now();
  setPresence(presence);
  for (const chat of chats.values()) {
    if (chat.state === "failed") continue;
    client.joinRoom(chat.room, chat.nick, presence === "away" ? "away" : "");
  }
  refreshChatOption();
}

async function login(event) {
  event.preventDefault();
  ui.loginError.textContent = "";
  const jid = ui.jid.value.trim();
  const password = ui.password.value;
  if (!/^[^@/\s]+@[^@/\s]+$/.test(jid)) {
    ui.loginError.textContent = "Enter your full chat address, like name@example.com.";
    return;
  }
  if ("Notification" in window && Notification.permission === "default") {
    Notification.requestPermission().catch(() => {});
  }
  ui.loginButton.disabled = true;
  ui.loginButton.textContent = "Signing in…";
  client = new Client(config.ws, config.component || `helpdesk.${domainOf(jid)}`);
  client.addEventListener("status", onStatus);
  client.addEventListener("reconnected", onReconnected);
  client.addEventListener("message", (e) => onMessage(e.detail.stanza));
  client.addEventListener("presence", (e) => onPresence(e.detail.stanza));
  try {
    await client.login(jid, password);
  } catch (e) {
    ui.loginError.textContent = e.message;
    client = null;
    return;
  } finally {
    ui.loginButton.disabled = false;
    ui.loginButton.textContent = "Sign in";
  }
  ui.password.value = "";
  chatRefusal = "";
  ui.meName.textContent = bare(client.jid);
  show(ui.me, true);
  show(ui.loginView, false);
  show(ui.supportView, true);
  lastActivity = Date.now();
  setPresence("online");
  await refreshChatOption();
}

function logout() {
  if (client) client.logout();
  client = null;
  chats.clear();
  setCurrent(null);
  show(ui.me, false);
  show(ui.supportView, false);
  show(ui.startForm, false);
  show(ui.loginView, true);
  clearError();
  document.body.dataset.connection = "offline";
}

// ---- wiring ----------------------------------------------------------------------

ui.jid.value = params.get("jid") || "";
ui.loginForm.addEventListener("submit", login);
ui.logout.addEventListener("click", logout);
ui.errorClose.addEventListener("click", clearError);
ui.chatOpen.addEventListener("click", () => {
  const live = liveChat();
  if (live) { setCurrent(live); ui.input.focus(); return; }
  show(ui.startForm, true);
  ui.description.focus();
});
ui.startCancel.addEventListener("click", () => show(ui.startForm, false));
ui.startForm.addEventListener("submit", startChat);
ui.composer.addEventListener("submit", sendMessage);
ui.input.addEventListener("input", onInput);
ui.input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); ui.composer.requestSubmit(); }
});
ui.endChat.addEventListener("click", endChat);
ui.leave.addEventListener("click", leaveChat);
ui.callbackOpen.addEventListener("click", openCallback);
ui.callbackCancel.addEventListener("click", () => ui.callbackDialog.close());
ui.callbackForm.addEventListener("submit", submitCallback);
document.addEventListener("visibilitychange", () => { if (!document.hidden) document.title = baseTitle; });
// Closing the tab closes the stream: the server tells the component we are
// offline (directed presence) and our subscribers (broadcast presence).
window.addEventListener("pagehide", () => { if (client) client.logout(); });

// For tests and debugging: a read-only view of the portal's state.
window.chatdeskPortal = {
  config,
  get presence() { return presence; },
  get connection() { return client ? client.state : "offline"; },
  get jid() { return client ? client.jid : ""; },
  get commands() { return [...nodes]; },
  chats() {
    return [...chats.values()].map((c) => ({
      room: c.room, session: c.session, ticket: c.ticket, state: c.state, nick: c.nick,
      joined: c.joined, techs: c.techs, subject: c.subject,
    }));
  },
};
document.body.dataset.ready = "true";
