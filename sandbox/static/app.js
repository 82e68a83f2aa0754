// The sandbox web chat: be any person of the sandbox world, in any of their chats.
// This module picks people and chats, follows the event stream and wires the page;
// the message pane is chat.js, the input and keyboards composer.js, the drawing
// render.js and sidebar.js. Everything shown comes from the control API, and every
// change arrives as an event (server-sent events, long polling as a fallback).

import { ApiError, follow, get, post } from "./api.js";
import { configureChat, drawMessages, followResizes, removeMessage, upsertMessage } from "./chat.js";
import { autoGrow, closeCommandMenu, drawComposer, setKeyboard, wireComposer } from "./composer.js";
import { setupDiagnostics } from "./diagnostics.js";
import { errorText, lang, setLang, t, translatePage } from "./i18n.js";
import { avatar } from "./render.js";
import { renderPeople, roleBadge } from "./sidebar.js";
import {
  $,
  alertBox,
  botId,
  currentChat,
  isGroup,
  nameOf,
  person,
  state,
  toast,
  unreadKey,
} from "./state.js";

const TYPING_MS = 5000;
const INVITE = /^https?:\/\/(?:t|telegram)\.me\/(?:\+|joinchat\/)/i;

let follower = null;
let diagnostics = null;

const narrow = () => window.matchMedia("(max-width: 760px)").matches;

// ------------------------------------------------------------------ URL hash

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const personId = Number(params.get("person"));
  const chatId = Number(params.get("chat"));
  return { personId: personId || null, chatId: chatId || null };
}

function writeHash() {
  const hash = state.personId ? `#person=${state.personId}&chat=${state.chatId}` : "";
  if (location.hash !== hash) history.replaceState(null, "", hash || location.pathname);
}

// ------------------------------------------------------------------ people

async function loadPeople() {
  const people = await get("/people", { bot_id: botId() });
  state.people = people;
  for (const p of people) state.names.set(p.id, p.name);
  if (state.personId && !person()) {
    state.personId = null;
    state.chatId = null;
  }
  if (state.personId && !currentChat()) openChat(state.personId, state.personId, { show: false });
  drawSidebar();
  drawHeader();
}

let peopleTimer = null;
let peopleAgain = false;

/** Reload people soon, once the bot has gone quiet (its database changes are committed). */
function refreshPeopleSoon() {
  if (peopleTimer) {
    peopleAgain = true;
    return;
  }
  peopleTimer = setTimeout(async () => {
    try {
      await get("/idle", { bot_id: botId(), quiet: 0.25, timeout: 3 });
    } catch {
      // not idle in time: refresh anyway, later events refresh again
    }
    try {
      await loadPeople();
    } catch {
      // the stream's resync catches up
    }
    peopleTimer = null;
    if (peopleAgain) {
      peopleAgain = false;
      refreshPeopleSoon();
    }
  }, 300);
}

function unreadOf(p) {
  return p.chats.reduce((sum, c) => sum + (state.unread.get(unreadKey(p.id, c.chat_id)) || 0), 0);
}

function drawSidebar() {
  renderPeople($("people"), {
    people: state.people,
    personId: state.personId,
    chatId: state.chatId,
    unread: (pid, cid) => state.unread.get(unreadKey(pid, cid)) || 0,
    unreadOf,
    nameOf,
    onPerson: selectPerson,
    onChat: openChat,
  });
}

function revealChats() {
  $("people").querySelector(".person.selected")?.scrollIntoView({ block: "nearest" });
}

function selectPerson(personId) {
  const who = person(personId);
  if (!who) return;
  const remembered = state.lastChatOf.get(personId);
  const chatId = who.chats.some((c) => c.chat_id === remembered) ? remembered : personId;
  // On a phone-sized window the list stays, showing this person's chats to pick from.
  openChat(personId, chatId, { show: !narrow() });
  revealChats();
}

// ------------------------------------------------------------------ opening a chat

function openChat(personId, chatId, { show = true } = {}) {
  const changed = personId !== state.personId || chatId !== state.chatId;
  state.personId = personId;
  state.chatId = chatId;
  state.lastChatOf.set(personId, chatId);
  state.unread.delete(unreadKey(personId, chatId));
  if (show) $("app").dataset.view = "chat";
  writeHash();
  drawSidebar();
  if (changed) {
    state.replyTo = null;
    state.forcedReplyTo = null;
    state.typingUntil = 0;
    closeCommandMenu();
    $("message-input").value = "";
    autoGrow();
    loadChat();
  }
  drawHeader();
}

/** Load the open chat: messages, the person's keyboard and command list. */
async function loadChat() {
  const token = ++state.loadToken;
  const { personId, chatId } = state;
  state.loading = true;
  $("messages").dataset.state = "loading";
  state.buffered = [];
  state.messages = new Map();
  state.keyboard = null;
  state.commands = [];
  drawMessages();
  drawComposer();
  if (!personId) {
    state.loading = false;
    $("messages").dataset.state = "ready";
    return;
  }
  const query = { bot_id: botId(), user_id: personId };
  try {
    const [messages, keyboard, commands] = await Promise.all([
      get(`/chats/${chatId}/messages`, { bot_id: botId(), include_deleted: false }),
      get(`/chats/${chatId}/keyboard`, query),
      get(`/chats/${chatId}/commands`, query).catch(() => ({ commands: [] })),
    ]);
    if (token !== state.loadToken) return;
    for (const message of messages) state.messages.set(message.id, message);
    setKeyboard(keyboard.keyboard);
    state.commands = commands.commands;
  } catch (error) {
    if (token !== state.loadToken) return;
    toast(errorText(error));
  }
  state.loading = false;
  // Events that arrived while loading may be newer than what the load returned.
  for (const event of state.buffered.splice(0)) applyChatEvent(event);
  drawComposer(); // first: the keyboard takes its height before scrolling to the end
  drawMessages(true);
  $("messages").dataset.state = "ready";
}

async function reloadKeyboard() {
  const token = state.loadToken;
  try {
    const answer = await get(`/chats/${state.chatId}/keyboard`, { user_id: state.personId, bot_id: botId() });
    if (token !== state.loadToken) return;
    setKeyboard(answer.keyboard);
    drawComposer();
  } catch {
    // the next event or a resync tries again
  }
}

async function reloadCommands() {
  const token = state.loadToken;
  try {
    const answer = await get(`/chats/${state.chatId}/commands`, { user_id: state.personId, bot_id: botId() });
    if (token !== state.loadToken) return;
    state.commands = answer.commands;
    drawComposer();
  } catch {
    // keep the old list
  }
}

// ------------------------------------------------------------------ header

function drawHeader() {
  const chat = currentChat();
  const me = person();
  const title = $("chat-title");
  const status = $("chat-status");
  if (!chat || !me) {
    title.textContent = "";
    status.textContent = "";
    $("chat-avatar").replaceChildren();
    $("viewer").replaceChildren();
    return;
  }
  title.textContent = chat.title || "";
  $("chat-avatar").replaceChildren(avatar(chat.chat_id, chat.title, "small"));
  const typing = Date.now() < state.typingUntil;
  status.classList.toggle("typing", typing);
  if (typing) status.textContent = t("typing");
  else if (isGroup()) status.textContent = t("members", chat.member_count || 0);
  else status.textContent = `${t("bot")} · @${chat.username}`;
  $("viewer").replaceChildren(t("viewingAs", me.name), " ", roleBadge(me.info) || "");
}

function showTyping() {
  state.typingUntil = Date.now() + TYPING_MS;
  drawHeader();
  clearTimeout(showTyping.timer);
  showTyping.timer = setTimeout(drawHeader, TYPING_MS + 50);
}

// ------------------------------------------------------------------ buttons and invite links

async function pressButton(message, button, node) {
  if (button.callback_data !== undefined) {
    node.classList.add("busy");
    setTimeout(() => node.classList.remove("busy"), 8000);
    try {
      const press = await post(`/chats/${state.chatId}/messages/${message.id}/press`, {
        user_id: state.personId,
        callback_data: button.callback_data,
        bot_id: botId(),
      });
      const early = state.earlyAnswers.get(press.callback_query_id);
      state.earlyAnswers.delete(press.callback_query_id);
      state.presses.set(press.callback_query_id, node);
      if (early) showAnswer(early); // the bot was quicker than our own request
    } catch (error) {
      node.classList.remove("busy");
      toast(errorText(error));
    }
  } else if (button.url) {
    openLink(button.url);
  } else {
    toast(t("unsupportedButton"));
  }
}

/** The bot's answer to a button this page pressed: a toast, or an alert when asked. */
function showAnswer(event) {
  const node = state.presses.get(event.query_id);
  state.presses.delete(event.query_id);
  node?.classList.remove("busy");
  if (event.text) {
    if (event.show_alert) alertBox(event.text);
    else toast(event.text);
  }
  if (event.url) openLink(event.url);
}

function openLink(url) {
  if (INVITE.test(url)) joinByInvite(url);
  else window.open(url, "_blank", "noopener");
}

/**
 * The invite link itself, "https://t.me/+HASH", from a link as detected in text.
 * Telegram's URL detection runs on through CJK punctuation ("…/+AbC（链接…"), so a
 * detected URL may carry text after the hash; the hash alphabet is [A-Za-z0-9_-].
 */
function inviteLink(href) {
  const match = href.match(/^https?:\/\/(?:t|telegram)\.me\/(?:\+|joinchat\/)([A-Za-z0-9_-]+)/i);
  return match ? `https://t.me/+${match[1]}` : href;
}

/** Join the group behind an invite link as the current person, then open it. */
async function joinByInvite(href) {
  const personId = state.personId;
  const link = inviteLink(href);
  try {
    const joined = await post("/join", { user_id: personId, invite_link: link, bot_id: botId() });
    toast(t("joinedToast", joined.chat.title));
    await loadPeople();
    openChat(personId, joined.chat.id);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 409) {
      toast(t("inviteFailed", errorText(error)));
      return;
    }
    // Already in the group (or the link is used up): open the group if they are in it.
    try {
      const invite = await get("/invite", { link });
      await loadPeople();
      const me = person(personId);
      if (me && me.chats.some((c) => c.chat_id === invite.chat_id)) {
        toast(t("alreadyMember", invite.title));
        openChat(personId, invite.chat_id);
        return;
      }
    } catch {
      // fall through to the original message
    }
    toast(t("inviteFailed", errorText(error)));
  }
}

// ------------------------------------------------------------------ events

function belongsHere(event) {
  if (!state.personId || event.chat_id !== state.chatId) return false;
  return state.chatId < 0 || event.bot_id === undefined || event.bot_id === null || event.bot_id === botId();
}

function applyChatEvent(event) {
  if (event.type === "message" || event.type === "edit") upsertMessage(event.message);
  else if (event.type === "delete") removeMessage(event.message_id);
}

/** A message anywhere: the chat lists' last line, and unread counts for everyone else. */
function notePreview(message) {
  const last = {
    id: message.id,
    date: message.date,
    from_id: message.from.id,
    from_name: message.from.name,
    text: message.text ?? message.caption,
    media: message.media ? message.media.kind : null,
    service: message.service,
  };
  for (const p of state.people) {
    for (const chat of p.chats) {
      const match =
        message.chat_id < 0 ? chat.chat_id === message.chat_id : p.id === message.chat_id && chat.type === "private";
      if (!match) continue;
      if (!chat.last || chat.last.id <= message.id) chat.last = last;
      const open = p.id === state.personId && chat.chat_id === state.chatId;
      if (!open && !message.service && message.from.id !== p.id) {
        const key = unreadKey(p.id, chat.chat_id);
        state.unread.set(key, (state.unread.get(key) || 0) + 1);
      }
    }
  }
}

function keepEarlyAnswer(event) {
  state.earlyAnswers.set(event.query_id, event);
  if (state.earlyAnswers.size > 20) state.earlyAnswers.delete(state.earlyAnswers.keys().next().value);
}

function onEvent(event) {
  const here = belongsHere(event);
  switch (event.type) {
    case "message":
      notePreview(event.message);
      drawSidebar();
      if (here && event.message.from.is_bot) state.typingUntil = 0; // Telegram ends it too
      if (here) drawHeader();
      // A bot message may follow a role change (promotion, registration): badges.
      if (event.message.from.is_bot || event.message.service) refreshPeopleSoon();
      break;
    case "edit":
    case "delete":
      break;
    case "action":
      if (here) showTyping();
      return;
    case "callback_answer":
      if (state.presses.has(event.query_id)) showAnswer(event);
      else if (event.user_id === state.personId) keepEarlyAnswer(event);
      return;
    case "keyboard":
      if (here) reloadKeyboard();
      return;
    case "member":
      refreshPeopleSoon();
      return;
    case "commands":
      refreshPeopleSoon();
      if (state.personId) reloadCommands();
      return;
    case "call":
      diagnostics.onCall(event);
      return;
    case "reset":
      state.unread.clear();
      loadPeople().then(loadChat);
      return;
    default:
      return;
  }
  if (!here) return;
  if (state.loading) state.buffered.push(event);
  else {
    applyChatEvent(event);
    drawComposer();
  }
}

async function onStatus(status) {
  const dot = $("connection");
  if (status === "live" || status === "reconnecting") {
    dot.dataset.state = status;
    dot.title = t(status);
  }
  if (status === "resync") {
    try {
      const world = await get("/state");
      if (world.last_seq < follower.last()) follower.rebase(world.last_seq);
      await loadPeople();
      await loadChat();
    } catch {
      // still down: the stream keeps trying
    }
  }
}

// ------------------------------------------------------------------ wiring

function drawStatic() {
  translatePage();
  $("lang-toggle").textContent = lang() === "en" ? "中文" : "EN";
  $("lang-toggle").title = lang() === "en" ? "切换到中文" : "Switch the page to English";
  const dot = $("connection");
  dot.title = t(dot.dataset.state === "live" ? "live" : "reconnecting");
}

function openFromHash() {
  const wanted = readHash();
  const who = wanted.personId ? person(wanted.personId) : null;
  if (!who) return false;
  const chatId = who.chats.some((c) => c.chat_id === wanted.chatId) ? wanted.chatId : who.id;
  openChat(who.id, chatId, { show: !narrow() || Boolean(wanted.chatId) });
  revealChats();
  return true;
}

function wire() {
  wireComposer();
  configureChat({ onButton: pressButton });
  followResizes();
  $("lang-toggle").addEventListener("click", () => {
    setLang(lang() === "en" ? "zh" : "en");
    drawStatic();
    drawSidebar();
    drawHeader();
    drawMessages();
    drawComposer();
    diagnostics.redraw();
  });
  $("back-button").addEventListener("click", () => {
    $("app").dataset.view = "list";
  });
  $("alert-ok").addEventListener("click", () => $("alert").close());
  $("messages").addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (link && INVITE.test(link.getAttribute("href"))) {
      event.preventDefault(); // an invite joins here, as the current person
      joinByInvite(link.getAttribute("href"));
      return;
    }
    event.target.closest(".tg-spoiler")?.classList.toggle("shown");
  });
  window.addEventListener("hashchange", openFromHash);
}

async function boot() {
  setLang(lang());
  drawStatic();
  diagnostics = setupDiagnostics();
  wire();
  const world = await get("/state");
  state.bot = world.bots.find((b) => b.id === world.default_bot_id) || world.bots[0];
  for (const b of world.bots) state.names.set(b.id, b.name);
  await loadPeople();
  if (!openFromHash()) {
    $("app").dataset.view = "list";
    drawMessages();
    drawComposer();
    drawHeader();
  }
  follower = follow(world.last_seq, onEvent, onStatus);
  document.body.dataset.ready = "true";
}

boot().catch((error) => {
  document.body.dataset.ready = "error";
  toast(errorText(error), 10000);
});
