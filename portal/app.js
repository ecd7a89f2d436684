// app.js - the chatdesk client portal: log in, Contact Support, chat dialog.
//
// Configuration (URL query parameters, all optional; see docs/portal.md):
//   away_after  seconds without mouse/keyboard activity before the portal
//               reports itself away (default: the component's away_after,
//               else 300, the SPEC's 5 minutes)
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
  awayFromUrl: params.has("away_after"),
  awayAfter: positiveNumber(params.get("away_after") ?? document.documentElement.dataset.awayAfter, 300),
  ws: params.get("ws") || `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/xmpp-websocket`,
  component: params.get("component") || "",
};

const PAUSED_AFTER = 5000; // ms of no typing before we say "paused"
const HELPDESK = "Helpdesk"; // the occupant that posts the room's notices (SPEC §3)
const RESUME_KEY = "chatdesk.resume"; // sessionStorage: the open chats of this tab

// What the component tells portals (disco#info, urn:chatdesk:portal).
const server = { known: false, answerTimeout: 60, idleTimeout: 3600, officeOpen: true };
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
  callbackCancel: $("callback-cancel"), callbackIntro: $("callback-intro"),
  brandName: $("brand-name"), brandLogo: $("brand-logo"), startError: $("start-error"),
  waitInfo: $("wait-info"), hint: $("chat-hint"), minimise: $("chat-minimise"), close: $("chat-close"),
  saveTranscript: $("save-transcript"), leaveConfirm: $("leave-confirm"), leaveSave: $("leave-save"),
  leaveAnyway: $("leave-anyway"), supportTitle: $("support-title"), resumeNote: $("resume-note"),
  ratingForm: $("rating-form"), ratingComment: $("rating-comment"), ratingError: $("rating-error"),
  ratingSubmit: $("rating-submit"), ratingThanks: $("rating-thanks"),
  attach: $("attach"), attachInput: $("attach-input"),
};

let client = null;
let nodes = new Set(); // the ad-hoc commands the component offers us
let chatRefusal = ""; // why start-chat was refused this login, if it was
const chats = new Map(); // room JID -> Chat
let current = null; // the Chat shown in the dialog
let presence = "online"; // what we last told the server: online | away
let lastActivity = Date.now();
let panelClosed = false; // the contact closed the chat panel (the chat goes on)
let unread = 0; // messages that arrived while the tab was hidden
let audio = null; // AudioContext for the chime, made on a click
let lastTranscript = "";
let uploadService = null; // {jid, maxSize} of the server's upload service (files)
let uploading = false; // a file is on its way
let pendingResume = null; // {jid, chats} kept across a reload, until the contact signs in again

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

const IMAGE_URL = /\.(png|jpe?g|gif|webp)$/i;

/** A shared file (XEP-0066 link, or a body that is only an uploaded
 *  image's URL, as history brings it back): an image shown inline, in a
 *  link to the file; other files are a link already (the body). */
function sharedFile(oob, body, who) {
  const url = oob || (/^https?:\/\/\S+$/.test(body.trim()) ? body.trim() : "");
  let path = "";
  try { path = new URL(url).pathname; } catch (_) { return null; }
  if (!/^https?:$/.test(new URL(url).protocol) || !IMAGE_URL.test(path)) return null;
  const a = document.createElement("a");
  a.href = url;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  a.className = "shared";
  const img = document.createElement("img");
  img.src = url;
  img.loading = "lazy";
  img.alt = `Picture from ${who}: ${decodeURIComponent(path.split("/").pop())}`;
  a.append(img);
  return a;
}

// A phone number in the component's callback notice ("… asked to be
// called back on +1 555 0100. Note: …"): the number after "back on".
const CALLBACK_PHONE = /(?<=\bcalled back on )\+?\d[\d ()-]{1,30}\d/g;

/** A tel: link for phone (digits and a leading +). */
function telLink(phone) {
  const a = document.createElement("a");
  a.href = `tel:${phone.replace(/[^\d+]/g, "")}`;
  a.textContent = phone;
  a.dataset.testid = "tel";
  return a;
}

/** A text with http(s) links made clickable, as DOM nodes (never HTML);
 *  phones: the callback notice's phone number becomes a tel: link. */
function linkified(text, phones = false) {
  const frag = document.createDocumentFragment();
  const re = phones ? new RegExp(`\\bhttps?:\\/\\/[^\\s<>"']+|${CALLBACK_PHONE.source}`, "g")
    : /\bhttps?:\/\/[^\s<>"']+/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    frag.append(text.slice(last, m.index));
    if (!/^https?:/.test(m[0])) {
      frag.append(telLink(m[0]));
      last = m.index + m[0].length;
      continue;
    }
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

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** A time already spent, for a contact: "less than a minute", "3 minutes". */
function spentText(secs) {
  if (secs < 60) return "less than a minute";
  if (secs < 7200) return plural(Math.floor(secs / 60), "minute");
  return plural(Math.floor(secs / 3600), "hour");
}

/** A limit, for a contact: "30 seconds", "1 minute", "1 hour". */
function limitText(secs) {
  if (secs < 60) return plural(secs, "second");
  if (secs >= 3600 && secs % 3600 === 0) return plural(secs / 3600, "hour");
  return plural(Math.round(secs / 60), "minute");
}

/** One short tone when a technician joins (WebAudio; silent if blocked). */
function chime() {
  chimes += 1;
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    audio = audio || new Ctx();
    const t = audio.currentTime;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.setValueAtTime(880, t);
    osc.frequency.setValueAtTime(1320, t + 0.12);
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.15, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.4);
    osc.connect(gain).connect(audio.destination);
    osc.start(t);
    osc.stop(t + 0.45);
  } catch (e) {
    console.warn("chatdesk: no chime:", e.message);
  }
}
let chimes = 0;

/** Count a message in the tab title while the tab is hidden. */
function countUnread() {
  if (!document.hidden) return;
  unread += 1;
  document.title = `(${unread}) ${baseTitle}`;
}

// ---- chats -------------------------------------------------------------------

const LIVE = new Set(["joining", "waiting", "active"]);

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
    this.callbackPhone = ""; // the number we asked to be called on
    this.startedAt = Date.now(); // when the contact asked (or was invited)
    this.lastMessageAt = 0; // the last chat message (not notices), ms
    this.position = 0; // place in the queue while waiting (0 = unknown)
    this.nobodyOnline = false; // start-chat said techs_online = 0 (leave a message)
    this.lastState = ""; // the state saved for a reload
    this.resumed = false; // rejoined after a reload of the page
    this.allowed = false; // ending (waiting: and callback) allowed now
    this.saved = false; // the transcript was saved
    this.rating = ""; // "" (not asked), "sent", or "closed" (no more asking)
    this.ratingNote = ""; // the thanks or the refusal shown once it is over
    this.ratingError = ""; // a refusal to fix (e.g. no stars picked)
    this.announced = new Set(); // techs whose joining we showed
    this.list = document.createElement("ol");
    this.list.className = "messages";
    this.error = "";
  }

  get techs() {
    return [...this.occupants.entries()]
      .filter(([nick, o]) => nick !== HELPDESK &&
              (o.role === "moderator" || o.affiliation === "owner" || o.affiliation === "admin"))
      .map(([nick]) => nick);
  }

  get occupantJid() {
    return `${this.room}/${this.nick}`;
  }

  add(kind, { nick = "", body, date = new Date(), delayed = false, oob = "" } = {}) {
    const li = document.createElement("li");
    li.className = `msg ${kind}`;
    li.dataset.testid = "message";
    li.dataset.kind = kind;
    if (delayed) li.classList.add("history");
    if (kind === "notice" || kind === "local") {
      const span = document.createElement("span");
      span.className = "text";
      span.append(linkified(body, kind === "notice"));
      li.append(span, " ", timeElement(date));
      li.dataset.text = body;
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
      const shared = sharedFile(oob, body, kind === "mine" ? "You" : nick);
      if (shared) li.append(shared);
      li.dataset.text = body;
      if (date.getTime() > this.lastMessageAt) this.lastMessageAt = date.getTime();
    }
    li.dataset.time = date.toISOString();
    li.dataset.who = kind === "mine" ? "You" : kind === "theirs" ? nick : "";
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
  if (info.position) chat.position = Number(info.position) || 0;
  if (info.startedAt) chat.startedAt = info.startedAt;
  if (info.lastState) chat.lastState = info.lastState;
  if (info.nobodyOnline) chat.nobodyOnline = true;
  if (info.resumed) chat.resumed = true;
  panelClosed = false;
  setCurrent(chat);
  chat.nick = chat.nick || (await client.reservedNick(chat.room)) || localOf(client.jid) || "contact";
  client.joinRoom(chat.room, chat.nick, presence === "away" ? "away" : "");
  render();
  saveResume();
  return chat;
}

function setCurrent(chat) {
  current = chat;
  if (chat) {
    ui.log.replaceChildren(chat.list);
    show(ui.dialog, !panelClosed);
    requestAnimationFrame(() => chat.list.lastElementChild?.scrollIntoView({ block: "end" }));
  } else {
    ui.log.replaceChildren();
    show(ui.dialog, false);
  }
  render();
}

function setChatState(chat, state) {
  if (chat.state === state) return;
  const wasLive = LIVE.has(chat.state);
  chat.state = state;
  if (LIVE.has(state)) chat.lastState = state;
  if (!LIVE.has(state)) chat.typing.clear();
  render();
  saveResume();
  if (wasLive && state === "ended" && chat === current) resetRatingForm();
  if (wasLive && !LIVE.has(state) && chat === current && !panelClosed) {
    // The end: focus what the contact can do now.
    requestAnimationFrame(() => ui.leave.focus());
  }
}

function chatError(chat, text) {
  chat.error = text;
  render();
}

/** May the contact end the chat (and, waiting, ask for a callback) now?
 *  {allowed, at (ms, when it becomes allowed), known}. The rules are the
 *  component's (SPEC §3) with the timeouts it publishes; without them the
 *  portal offers both and shows the refusal if there is one. */
function rulesNow(c) {
  if (!server.known) return { allowed: true, at: 0, known: false };
  if (!server.officeOpen) return { allowed: true, at: 0, known: true };
  const now = Date.now();
  if (c.state === "waiting") {
    const at = c.startedAt + server.answerTimeout * 1000;
    return { allowed: now >= at, at, known: true };
  }
  if (c.state === "active") {
    const at = (c.lastMessageAt || c.startedAt) + server.idleTimeout * 1000;
    return { allowed: now >= at, at, known: true };
  }
  return { allowed: false, at: 0, known: true };
}

/** The parts of the dialog that change with the clock: time waited, the
 *  actions allowed now and what to expect. */
function renderTimers() {
  const c = current;
  if (!c) return;
  const rules = rulesNow(c);
  if (rules.allowed && !c.allowed && c.error && rules.known) c.error = ""; // an old refusal
  c.allowed = rules.allowed;
  const callbackOffered = nodes.has("callback") && !c.noCallback;
  const waiting = c.state === "waiting";
  // Nobody was Online when the chat started: a callback at once (SPEC §9).
  const leaveMessage = waiting && c.nobodyOnline && callbackOffered && !rules.allowed;
  show(ui.endChat, LIVE.has(c.state) && c.state !== "joining" && nodes.has("end-chat") && rules.allowed);
  show(ui.callbackOpen, waiting && callbackOffered && (rules.allowed || leaveMessage));
  ui.endChat.textContent = waiting ? "Cancel my request" : "End chat";
  if (waiting) {
    const waited = Math.max(0, Math.floor((Date.now() - c.startedAt) / 1000));
    const place = c.position ? `You are number ${c.position} in line. ` : "";
    ui.waitInfo.textContent = `${place}You have waited ${spentText(waited)}.`;
  }
  show(ui.waitInfo, waiting);
  let hint = "";
  const also = callbackOffered ? "ask us to call you back or cancel your request" : "cancel your request";
  if (leaveMessage) {
    hint = "Nobody is available right now. Leave your number and a technician will call you back, or keep waiting here.";
  } else if (waiting && !rules.allowed) {
    hint = `A technician will be with you soon. If nobody answers within ${limitText(server.answerTimeout)}, you can ${also}.`;
  } else if (waiting) {
    hint = `Nobody has answered yet. You can keep waiting, or ${also}.`;
  } else if (c.state === "active" && !rules.allowed) {
    hint = `Your technician will end the chat when your problem is solved. If nobody writes for ${limitText(server.idleTimeout)}, you can end it yourself.`;
  }
  ui.hint.textContent = hint;
  show(ui.hint, Boolean(hint) && (rules.known || waiting));
  show(ui.chatError, Boolean(c.error));
  ui.chatError.textContent = c.error;
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
    case "joining": title = "Connecting to your chat…"; status = "Connecting"; break;
    case "waiting": title = "Your chat request"; status = "Waiting for a technician"; break;
    case "active":
      title = techs.length ? `Chat with ${techs.join(", ")}` : "Chat with support";
      status = techs.length ? "Connected" : "Waiting for a technician";
      break;
    case "callback": title = "Call back requested"; status = "Call back"; break;
    case "failed": title = "Chat unavailable"; status = "Error"; break;
    default: title = "Chat ended"; status = "Ended";
  }
  ui.chatTitle.textContent = title;
  ui.chatStatus.textContent = status;
  ui.chatStatus.dataset.state = c.state === "active" && !techs.length ? "waiting" : c.state;
  const ticket = c.ticket ? `Ticket #${c.ticket}` : c.session ? `Chat ${c.session}` : "";
  ui.chatSubject.textContent = [ticket, c.subject].filter(Boolean).join(" · ");

  const typers = [...c.typing];
  show(ui.typing, typers.length > 0);
  ui.typing.textContent = typers.length === 1 ? `${typers[0]} is typing…`
    : typers.length > 1 ? `${typers.join(", ")} are typing…` : "";

  const live = c.state === "waiting" || c.state === "active";
  renderTimers();
  show(ui.composer, live || c.state === "joining");
  ui.input.disabled = ui.send.disabled = !live;
  show(ui.attach, Boolean(uploadService));
  ui.attach.disabled = !live || uploading;
  const over = !live && c.state !== "joining";
  show(ui.endedBar, over && ui.leaveConfirm.hidden);
  if (!over) show(ui.leaveConfirm, false);
  renderRating(c);
  if (c.state === "callback" && c.callbackPhone) {
    ui.endedText.replaceChildren("A technician will call you back on ", telLink(c.callbackPhone),
                                 ". You can leave this chat now.");
  } else {
    ui.endedText.textContent = c.state === "callback"
      ? "A technician will call you back. You can leave this chat now."
      : c.state === "failed" ? "This chat could not be opened. Please try again later." : "This chat has ended.";
  }
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
  const open = live && !panelClosed && !ui.dialog.classList.contains("minimised");
  ui.chatOpen.textContent = !live ? "Chat with us" : open ? "Go to your chat" : "Open your chat";
}

async function startChat(event) {
  event.preventDefault();
  clearError();
  const description = ui.description.value.trim();
  ui.startError.textContent = "";
  ui.description.removeAttribute("aria-invalid");
  if (!description) {
    ui.startError.textContent = "Please describe your problem in a few words.";
    ui.description.setAttribute("aria-invalid", "true");
    ui.description.focus();
    return;
  }
  ui.startButton.disabled = true;
  ui.startButton.textContent = "Starting…";
  try {
    const reply = await client.command("start-chat", { description });
    const room = reply.fields.room;
    if (!room) {
      console.warn("chatdesk: start-chat result without a room", reply.fields);
      throw new XmppError("bad-request", "Your chat could not be opened. Please try again in a moment.");
    }
    show(ui.startForm, false);
    ui.description.value = "";
    const nobodyOnline = reply.fields.techs_online === "0";
    const chat = await openChat({ room, session: reply.fields.session, ticket: reply.fields.ticket,
                                  subject: description, origin: "start", position: reply.fields.position,
                                  nobodyOnline });
    const ticket = chat.ticket ? ` (ticket #${chat.ticket})` : "";
    if (nobodyOnline) {
      // Leave a message: say so and offer the callback form at once.
      chat.add("local", {
        body: `Nobody is available to chat right now. Your request${ticket} is saved: leave your number and a technician will call you back, or keep waiting here.`,
      });
      if (nodes.has("callback")) { openCallback(); return; } // its own focus
    } else {
      chat.add("local", { body: `Your request${ticket} was sent. A technician will join you shortly.` });
    }
    ui.chatTitle.focus(); // the field is enabled only once the room answers
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
  countUnread();
  notify("Chat request from support", reason || "A technician wants to chat with you.", room);
}

function notify(title, body, tag) {
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
  const oob = child(child(st, "x", NS.OOB), "url")?.textContent.trim() || "";
  const delay = child(st, "delay", NS.DELAY);
  const date = delay ? new Date(delay.getAttribute("stamp")) : new Date();
  const sid = children(st, "stanza-id", NS.SID).find((s) => bare(s.getAttribute("by")) === chat.room);
  const key = sid ? `sid:${sid.getAttribute("id")}` : delay ? `h:${delay.getAttribute("stamp")}|${nick}|${body}` : null;
  if (key && chat.seen.has(key)) return;
  if (key) chat.seen.add(key);
  chat.typing.delete(nick);
  if (!nick || nick === HELPDESK) {
    // The room's notices come from its Helpdesk occupant (older servers:
    // from the bare room JID).
    const place = body.match(/\bnumber (\d+) in line\b/i);
    if (place) chat.position = Number(place[1]);
    const joined = body.match(/^(.+) has joined and will help you/);
    if (joined && chat.announced.has(joined[1]) && !delay) { render(); return; } // shown already
    chat.add("notice", { body, date, delayed: Boolean(delay) });
    if (!delay) countUnread();
  } else if (nick === chat.nick) {
    chat.pending.delete(st.getAttribute("id"));
    chat.add("mine", { nick, body, date, delayed: Boolean(delay), oob });
  } else {
    chat.add("theirs", { nick, body, date, delayed: Boolean(delay), oob });
    if (!delay) countUnread();
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
  if (nick === HELPDESK && !self) return; // the room itself, not a tech

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
        if (codes.includes("332")) console.warn("chatdesk: the helpdesk is restarting", chat.room);
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
      // for waits until a tech joins; a resumed one is as it was.
      const active = chat.techs.length || chat.origin === "invite" || chat.lastState === "active";
      setChatState(chat, active ? "active" : "waiting");
      if (chat.resumed) {
        chat.resumed = false;
        chat.add("local", { body: "Reconnected. You are back in your chat." });
      }
    }
  } else {
    const wasTech = chat.techs.includes(nick);
    chat.occupants.set(nick, occupant);
    const isTech = chat.techs.includes(nick);
    if (isTech && !wasTech && chat.joined && LIVE.has(chat.state)) techJoined(chat, nick);
  }
  render();
}

/** A technician came into a chat we are in: say so, chime once. */
function techJoined(chat, nick) {
  if (chat.state === "waiting") setChatState(chat, "active");
  if (chat.announced.has(nick)) return;
  chat.announced.add(nick);
  chat.add("local", { body: `${nick} has joined and will help you.` });
  countUnread();
  chime();
  if (document.hidden) notify("A technician joined your chat", `${nick} has joined and will help you.`, chat.room);
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

// ---- files (SPEC §9: XEP-0363 upload, the link through the room, XEP-0066) ----

async function findUploadService() {
  uploadService = client ? await client.uploadService() : null;
  render();
}

const sizeText = (bytes) => bytes >= 1048576 ? `${Math.round(bytes / 1048576)} MB` : `${Math.ceil(bytes / 1024)} KB`;

/** Upload the file picked and send its link into the current chat. */
async function sendFile() {
  const chat = current;
  const file = ui.attachInput.files[0];
  ui.attachInput.value = "";
  if (!chat || !file || !uploadService || !chat.joined) return;
  if (uploadService.maxSize && file.size > uploadService.maxSize) {
    chatError(chat, `“${file.name}” is too large to send here (at most ${sizeText(uploadService.maxSize)}).`);
    return;
  }
  uploading = true;
  chat.error = "";
  chat.add("local", { body: `Sending “${file.name}”…` });
  render();
  try {
    const slot = await client.uploadSlot(uploadService.jid, file);
    const res = await fetch(slot.put, {
      method: "PUT", body: file,
      headers: { ...slot.headers, "Content-Type": file.type || "application/octet-stream" },
    });
    if (!res.ok) throw new Error(`PUT ${res.status}`);
    const id = client.sendGroupchat(chat.room, slot.get, "active", slot.get);
    chat.pending.set(id, file.name);
  } catch (e) {
    console.warn("chatdesk: upload failed:", e.message || e);
    const refused = e instanceof XmppError && e.text ? ` ${e.text}` : "";
    chatError(chat, `“${file.name}” could not be sent.${refused} Please try again, or describe it in words.`);
  } finally {
    uploading = false;
    render();
  }
}

function sendMessage(event) {
  event.preventDefault();
  const chat = current;
  const body = ui.input.value.trim();
  if (!chat || !body) return;
  if (!chat.joined) {
    chatError(chat, "Still connecting to your chat. Please wait a moment and send again.");
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

/** The conversation as plain text, oldest first. */
function transcriptOf(chat) {
  const head = [`${baseTitle}: ${chat.ticket ? `ticket #${chat.ticket}` : `chat ${chat.session}`}`];
  if (chat.subject) head.push(chat.subject);
  const lines = [...chat.list.children].map((li) => {
    const when = dateTimeFormat.format(new Date(li.dataset.time));
    return li.dataset.who ? `[${when}] ${li.dataset.who}: ${li.dataset.text}` : `[${when}] * ${li.dataset.text}`;
  });
  return `${head.join("\n")}\n\n${lines.join("\n")}\n`;
}

/** Offer the transcript as a text file download. */
function saveTranscript(chat) {
  const text = transcriptOf(chat);
  lastTranscript = text;
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  a.download = `chat-${chat.ticket ? `ticket-${chat.ticket}` : chat.session}.txt`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 30000);
  chat.saved = true;
}

// ---- rating at the end of a chat (SPEC §9: `rate`, once) -------------------------

/** Ask for a rating: a chat a technician took part in that has ended,
 *  when the component offers `rate`. */
function rateable(c) {
  return c.state === "ended" && c.lastState === "active" && nodes.has("rate");
}

function renderRating(c) {
  show(ui.ratingForm, rateable(c) && !c.rating);
  ui.ratingError.textContent = c.ratingError;
  show(ui.ratingError, Boolean(c.ratingError));
  ui.ratingThanks.textContent = c.ratingNote;
  show(ui.ratingThanks, Boolean(c.ratingNote) && c.state === "ended");
}

function renderStars() {
  const picked = Number(ui.ratingForm.querySelector("input[name=score]:checked")?.value || 0);
  for (const label of ui.ratingForm.querySelectorAll(".star")) {
    label.classList.toggle("on", Number(label.querySelector("input").value) <= picked);
  }
}

/** A refusal of `rate`, for the contact: [text, whether to stop asking]. */
function ratingRefusal(e) {
  const text = e.text || "";
  if (/rated already/i.test(text)) return ["You have rated this chat already. Thank you!", true];
  if (e.condition === "not-allowed") return ["This chat can no longer be rated. Thank you all the same.", true];
  if (/too long/i.test(text)) return ["Your comment is too long. Please shorten it and send again.", false];
  if (e.condition === "forbidden" || e.condition === "item-not-found") {
    return ["This chat cannot be rated from your account.", true];
  }
  return [e.message, false];
}

async function submitRating(event) {
  event.preventDefault();
  const chat = current;
  if (!chat || chat.rating) return;
  const picked = ui.ratingForm.querySelector("input[name=score]:checked");
  if (!picked) {
    chat.ratingError = "Please choose from 1 to 5 stars (5 is the best).";
    render();
    ui.ratingForm.querySelector("input[name=score]").focus();
    return;
  }
  ui.ratingSubmit.disabled = true;
  try {
    const fields = { session: chat.session, score: picked.value };
    const comment = ui.ratingComment.value.trim();
    if (comment) fields.comment = comment;
    await client.command("rate", fields);
    chat.rating = "sent";
    chat.ratingError = "";
    chat.ratingNote = "Thank you for your rating!";
  } catch (e) {
    const [text, stop] = ratingRefusal(e);
    console.warn("chatdesk: rate refused:", e.condition, e.text);
    if (stop) { chat.rating = "closed"; chat.ratingNote = text; chat.ratingError = ""; } else chat.ratingError = text;
  } finally {
    ui.ratingSubmit.disabled = false;
  }
  if (chat.rating) resetRatingForm();
  render();
  (chat.rating ? ui.ratingThanks : ui.ratingComment).focus();
}

function resetRatingForm() {
  ui.ratingForm.reset();
  renderStars();
}

/** "Leave": a conversation not saved yet is offered as a download first. */
function askLeave() {
  const chat = current;
  if (!chat) return;
  if (chat.saved) { leaveChat(); return; }
  show(ui.endedBar, false);
  show(ui.leaveConfirm, true);
  ui.leaveSave.focus();
}

function leaveChat() {
  const chat = current;
  if (!chat) return;
  if (chat.joined) client.leaveRoom(chat.room, chat.nick);
  chats.delete(chat.room);
  show(ui.leaveConfirm, false);
  setCurrent([...chats.values()][0] || null);
  unread = 0;
  document.title = baseTitle;
  saveResume();
  refreshChatOption().then(() => {
    if (current) ui.chatTitle.focus();
    else if (!ui.chatOpen.closest("[hidden]")) ui.chatOpen.focus();
    else ui.supportTitle.focus();
  });
}

async function openCallback() {
  ui.callbackIntro.textContent = current && LIVE.has(current.state) && current.nobodyOnline
    ? "Nobody is available right now. Leave your number and a technician will call you back as soon as one is free."
    : "Leave your number and a technician will call you back.";
  ui.callbackError.textContent = "";
  show(ui.callbackError, false);
  ui.callbackDialog.showModal();
  ui.callbackPhone.focus();
  if (!ui.callbackPhone.value && client) {
    // The phone in the contact's directory entry, as the form's default.
    const defaults = await client.commandDefaults("callback");
    if (typeof defaults.phone === "string" && !ui.callbackPhone.value) {
      ui.callbackPhone.value = defaults.phone;
      ui.callbackPhone.select();
    }
  }
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
    ui.callbackPhone.focus();
    return;
  }
  ui.callbackSubmit.disabled = true;
  try {
    const fields = { session: chat.session, phone };
    if (note) fields.note = note;
    await client.command("callback", fields);
    chat.callbackPhone = phone;
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
    ui.callbackPhone.focus();
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

let baseTitle = document.title;

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
  loadServerInfo();
  findUploadService();
}

/** The component's timing rules and away_after (disco#info). */
async function loadServerInfo() {
  if (!client) return;
  const info = await client.portalInfo();
  if (!info) { server.known = false; render(); return; }
  server.known = info.answerTimeout !== null && info.idleTimeout !== null;
  if (info.answerTimeout !== null) server.answerTimeout = info.answerTimeout;
  if (info.idleTimeout !== null) server.idleTimeout = info.idleTimeout;
  server.officeOpen = info.officeOpen;
  if (info.awayAfter && !config.awayFromUrl) config.awayAfter = info.awayAfter;
  render();
}

// ---- a reload keeps the chat (sessionStorage, this tab only) ---------------------

/** Remember the live chats of this tab and the address, so that a reload
 *  can bring them back once the contact signs in again. Never the
 *  password. Nothing is kept once no chat is open. Before sign-in (a
 *  reload waiting for the password) what was kept stays. */
function saveResume() {
  try {
    if (!client) return;
    const keep = [...chats.values()].filter((c) => LIVE.has(c.state));
    if (!client.wanted || !keep.length) { sessionStorage.removeItem(RESUME_KEY); return; }
    sessionStorage.setItem(RESUME_KEY, JSON.stringify({
      jid: bare(client.jid),
      chats: keep.map((c) => ({ room: c.room, session: c.session, ticket: c.ticket, subject: c.subject,
                                origin: c.origin, startedAt: c.startedAt, position: c.position,
                                nobodyOnline: c.nobodyOnline,
                                lastState: c.lastState || c.state })),
    }));
  } catch (e) {
    console.warn("chatdesk: cannot remember the chat for a reload:", e.message);
  }
}

function savedResume() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(RESUME_KEY) || "null");
    if ("password" in (saved || {})) { // from an older portal: drop the password
      delete saved.password;
      sessionStorage.setItem(RESUME_KEY, JSON.stringify(saved));
    }
    return saved && saved.jid && Array.isArray(saved.chats) && saved.chats.length ? saved : null;
  } catch (_) {
    return null;
  }
}

async function login(event) {
  event.preventDefault();
  ui.loginError.textContent = "";
  const jid = ui.jid.value.trim();
  const password = ui.password.value;
  if (!/^[^@/\s]+@[^@/\s]+$/.test(jid)) {
    ui.loginError.textContent = "Enter your full chat address, like name@example.com.";
    ui.jid.focus();
    return;
  }
  if ("Notification" in window && Notification.permission === "default") {
    Notification.requestPermission().catch(() => {});
  }
  try { // made on this click, so the browser lets it play later
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !audio) audio = new Ctx();
  } catch (_) { /* no sound then */ }
  // After a reload: the chats this tab had open, if it is the same address.
  const resume = pendingResume && bare(pendingResume.jid).toLowerCase() === jid.toLowerCase()
    ? pendingResume.chats : [];
  await signIn(jid, password, resume);
}

/** Sign in; then reopen the chats given (a reload). */
async function signIn(jid, password, resume) {
  ui.loginButton.disabled = true;
  ui.loginButton.textContent = "Signing in…";
  client = new Client(config.ws, config.component || `helpdesk.${domainOf(jid)}`);
  client.addEventListener("status", onStatus);
  client.addEventListener("reconnected", onReconnected);
  client.addEventListener("message", (e) => onMessage(e.detail.stanza));
  client.addEventListener("presence", (e) => onPresence(e.detail.stanza));
  let failed = null;
  try {
    await client.login(jid, password);
  } catch (e) {
    failed = e;
  }
  ui.loginButton.disabled = false;
  ui.loginButton.textContent = "Sign in";
  if (failed) {
    ui.loginError.textContent = failed.message;
    client = null; // what a reload kept stays for the next try
    ui.password.focus(); // enabled again now
    return;
  }
  ui.password.value = "";
  pendingResume = null;
  show(ui.resumeNote, false);
  chatRefusal = "";
  ui.meName.textContent = bare(client.jid);
  show(ui.me, true);
  show(ui.loginView, false);
  show(ui.supportView, true);
  lastActivity = Date.now();
  setPresence("online");
  await loadServerInfo();
  findUploadService();
  for (const c of resume) {
    openChat({ ...c, resumed: true }).catch((e) => console.warn("chatdesk: cannot rejoin", c.room, e));
  }
  await refreshChatOption();
  (resume.length ? ui.chatTitle : ui.supportTitle).focus();
}

function logout() {
  sessionStorage.removeItem(RESUME_KEY);
  uploadService = null;
  pendingResume = null;
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

/** brand.json next to the page: name, logo and colours (docs/portal.md). */
async function applyBrand() {
  try {
    const res = await fetch("brand.json", { cache: "no-cache" });
    if (!res.ok) return;
    const brand = await res.json();
    if (brand.name) {
      ui.brandName.textContent = brand.name;
      baseTitle = brand.name;
      document.title = brand.name;
    }
    if (brand.logo) {
      const img = document.createElement("img");
      img.src = brand.logo;
      img.alt = "";
      ui.brandLogo.replaceChildren(img);
    }
    const vars = { brand: "--brand", brandHover: "--brand-hover", brandInk: "--brand-ink", brandSoft: "--brand-soft" };
    for (const [key, value] of Object.entries(brand.colors || {})) {
      if (vars[key] && typeof value === "string") document.documentElement.style.setProperty(vars[key], value);
    }
  } catch (e) {
    console.warn("chatdesk: brand.json not applied:", e.message);
  }
}
ui.loginForm.addEventListener("submit", login);
ui.logout.addEventListener("click", logout);
ui.errorClose.addEventListener("click", clearError);
ui.chatOpen.addEventListener("click", () => {
  const live = liveChat();
  if (live) {
    panelClosed = false;
    setMinimised(false);
    setCurrent(live);
    (ui.input.disabled ? ui.chatTitle : ui.input).focus();
    return;
  }
  show(ui.startForm, true);
  ui.startError.textContent = "";
  ui.description.focus();
});
ui.startCancel.addEventListener("click", () => { show(ui.startForm, false); ui.chatOpen.focus(); });

function setMinimised(on) {
  ui.dialog.classList.toggle("minimised", on);
  ui.minimise.setAttribute("aria-expanded", String(!on));
  ui.minimise.textContent = on ? "▢" : "–";
  ui.minimise.setAttribute("aria-label", on ? "Show the chat" : "Minimise the chat");
  updateChatOption();
}
ui.minimise.addEventListener("click", () => setMinimised(!ui.dialog.classList.contains("minimised")));
ui.close.addEventListener("click", () => {
  panelClosed = true;
  show(ui.dialog, false);
  updateChatOption();
  if (!ui.chatOpen.closest("[hidden]")) ui.chatOpen.focus(); else ui.supportTitle.focus();
});
ui.saveTranscript.addEventListener("click", () => current && saveTranscript(current));
ui.leaveSave.addEventListener("click", () => { if (current) saveTranscript(current); leaveChat(); });
ui.leaveAnyway.addEventListener("click", leaveChat);
setInterval(() => { if (current && LIVE.has(current.state)) renderTimers(); }, 1000);
ui.startForm.addEventListener("submit", startChat);
ui.composer.addEventListener("submit", sendMessage);
ui.input.addEventListener("input", onInput);
ui.input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); ui.composer.requestSubmit(); }
});
ui.endChat.addEventListener("click", endChat);
ui.leave.addEventListener("click", askLeave);
ui.callbackOpen.addEventListener("click", openCallback);
ui.callbackCancel.addEventListener("click", () => ui.callbackDialog.close());
ui.callbackDialog.addEventListener("close", () => {
  // Opened by the portal itself (leave a message), the pop-up has no
  // button to give the focus back to: keep it in the chat.
  const el = document.activeElement;
  if (current && (!el || el === document.body || !el.offsetParent)) {
    (ui.callbackOpen.hidden ? ui.chatTitle : ui.callbackOpen).focus();
  }
});
ui.callbackForm.addEventListener("submit", submitCallback);
ui.ratingForm.addEventListener("submit", submitRating);
ui.attach.addEventListener("click", () => ui.attachInput.click());
ui.attachInput.addEventListener("change", sendFile);
ui.ratingForm.addEventListener("change", () => {
  renderStars();
  if (current && current.ratingError) { current.ratingError = ""; render(); }
});
document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  unread = 0;
  document.title = baseTitle;
});
// Closing the tab closes the stream: the server tells the component we are
// offline (directed presence) and our subscribers (broadcast presence).
// A reload keeps the chat: saveResume() remembered it, and the component
// gives a waiting chat [chat] rejoin_grace seconds to come back.
window.addEventListener("pagehide", () => { saveResume(); if (client) client.logout(); });

// For tests and debugging: a read-only view of the portal's state.
window.chatdeskPortal = {
  config,
  get presence() { return presence; },
  get connection() { return client ? client.state : "offline"; },
  get jid() { return client ? client.jid : ""; },
  get commands() { return [...nodes]; },
  get server() { return { ...server }; },
  get chimes() { return chimes; },
  get unread() { return unread; },
  get lastTranscript() { return lastTranscript; },
  get uploadService() { return uploadService ? { ...uploadService } : null; },
  chats() {
    return [...chats.values()].map((c) => ({
      room: c.room, session: c.session, ticket: c.ticket, state: c.state, nick: c.nick,
      joined: c.joined, techs: c.techs, subject: c.subject, position: c.position, allowed: c.allowed,
      rating: c.rating, nobodyOnline: c.nobodyOnline,
    }));
  },
};

// A reload during a chat: the address and the open chats are kept (not
// the password); the contact signs in again and the chats come back.
pendingResume = savedResume();
if (pendingResume) {
  ui.jid.value = pendingResume.jid;
  show(ui.resumeNote, true);
}
applyBrand().finally(() => {
  if (pendingResume) ui.password.focus();
  document.body.dataset.ready = "true";
});
