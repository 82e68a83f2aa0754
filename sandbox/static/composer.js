// The composer: the input, the reply bar, reply keyboards, the command menu and files.

import { post, request } from "./api.js";
import { errorText, t } from "./i18n.js";
import { el, snippet } from "./render.js";
import { $, botId, currentChat, isGroup, nameOf, state, toast } from "./state.js";

const MAX_UPLOAD = 50 * 1024 * 1024;
const PHOTO_TYPES = new Set(["image/jpeg", "image/png", "image/webp"]);
const VOICE_TYPES = new Set(["audio/ogg", "audio/mpeg", "audio/mp4", "audio/x-m4a"]);

// ------------------------------------------------------------------ replying (any chat)

export function startReply(message) {
  state.replyTo = message.id;
  drawComposer();
  $("message-input").focus();
}

export function cancelReply() {
  state.replyTo = null;
  drawComposer();
}

// ------------------------------------------------------------------ drawing

/**
 * A new reply keyboard opens; the same one keeps whether the person folded it away.
 * A force-reply request opens a reply to the bot's prompt, as Telegram's clients do
 * (once per prompt: a person who cancels the reply bar may write without it).
 */
export function setKeyboard(keyboard) {
  const before = state.keyboard;
  state.keyboard = keyboard;
  if (!keyboard) return;
  if (keyboard.kind === "force_reply" && state.forcedReplyTo !== keyboard.message_id) {
    state.forcedReplyTo = keyboard.message_id;
    state.replyTo = keyboard.message_id;
  }
  if (!before || before.message_id !== keyboard.message_id || before.collapsed !== keyboard.collapsed) {
    state.keyboardOpen = !keyboard.collapsed;
  }
}

function drawReplyKeyboard(keyboard, shown) {
  const panel = $("reply-keyboard");
  const inner = $("reply-keyboard-inner");
  panel.hidden = !shown;
  if (!shown) {
    inner.replaceChildren();
    return;
  }
  panel.classList.toggle("compact", Boolean(keyboard.resize_keyboard));
  inner.replaceChildren(
    ...keyboard.rows.map((row) =>
      el(
        "div",
        { class: "reply-row" },
        row.map((label) =>
          el("button", {
            type: "button",
            class: "reply-button",
            "data-testid": "reply-button",
            text: label,
            onclick: () => sendText(label),
          }),
        ),
      ),
    ),
  );
}

export function drawComposer() {
  const chat = currentChat();
  const active = Boolean(chat) && !state.loading;
  const fresh = active && !isGroup() && state.messages.size === 0; // Telegram's START
  $("composer").hidden = !chat;
  $("start-button").hidden = !fresh;
  $("input-row").hidden = fresh;
  $("commands-button").hidden = !state.commands.length;
  const keyboard = state.keyboard;
  $("message-input").placeholder = keyboard?.input_field_placeholder || t("placeholder");
  autoGrow();

  const hint = $("force-reply-hint");
  hint.hidden = !(keyboard && keyboard.kind === "force_reply");
  if (!hint.hidden) hint.textContent = t("forceReply", state.bot.name);

  const replied = state.replyTo ? state.messages.get(state.replyTo) : null;
  $("reply-bar").hidden = !replied;
  if (replied) {
    const name = replied.from.id === state.personId ? t("you") : replied.from.name;
    $("reply-bar-name").textContent = t("replyTo", name);
    $("reply-bar-text").textContent = snippet(replied, nameOf);
  }

  const hasKeyboard = Boolean(keyboard && keyboard.kind === "keyboard" && !fresh);
  const toggle = $("keyboard-toggle");
  toggle.hidden = !hasKeyboard;
  toggle.classList.toggle("active", hasKeyboard && state.keyboardOpen);
  drawReplyKeyboard(keyboard, hasKeyboard && state.keyboardOpen);
}

export function autoGrow() {
  const input = $("message-input");
  input.style.height = "";
  if (!input.offsetParent) return; // hidden: measuring now would give 0
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}

// ------------------------------------------------------------------ sending

/** Send text as the current person (replying if a reply is set); true if it went out. */
async function sendText(text) {
  const content = text.trim();
  if (!content || !state.personId) return false;
  const body = { user_id: state.personId, text: content, bot_id: botId() };
  if (state.replyTo) body.reply_to_message_id = state.replyTo;
  try {
    await post(`/chats/${state.chatId}/messages`, body);
    if (state.replyTo) cancelReply();
    return true;
  } catch (error) {
    toast(t("sendFailed", errorText(error)));
    return false;
  }
}

async function submitInput(event) {
  event?.preventDefault();
  const input = $("message-input");
  const text = input.value;
  if (!text.trim()) return;
  input.value = "";
  autoGrow();
  closeCommandMenu();
  if (!(await sendText(text))) input.value = text; // nothing typed is lost
}

async function sendFile(file) {
  if (file.size > MAX_UPLOAD) {
    toast(t("fileTooBig"));
    return;
  }
  const kind = PHOTO_TYPES.has(file.type) ? "photo" : VOICE_TYPES.has(file.type) ? "voice" : "document";
  const form = new FormData();
  form.set("user_id", String(state.personId));
  form.set("bot_id", String(botId()));
  form.set("kind", kind);
  form.set("file", file, file.name);
  const caption = $("message-input").value.trim(); // what was typed goes along as the caption
  if (caption) form.set("caption", caption);
  if (state.replyTo) form.set("reply_to_message_id", String(state.replyTo));
  try {
    await request("POST", `/chats/${state.chatId}/files`, { form });
    $("message-input").value = "";
    autoGrow();
    if (state.replyTo) cancelReply();
  } catch (error) {
    toast(t("sendFailed", errorText(error)));
  }
}

// ------------------------------------------------------------------ command menu

function openCommandMenu(filter = "") {
  const menu = $("command-menu");
  const wanted = filter.replace(/^\//, "").toLowerCase();
  const matching = state.commands.filter((c) => c.command.startsWith(wanted));
  if (!matching.length) {
    closeCommandMenu();
    return;
  }
  menu.replaceChildren(
    ...matching.map((c) =>
      el(
        "button",
        {
          type: "button",
          class: "command-item",
          role: "option",
          "data-testid": "command-item",
          "data-command": c.command,
          onclick: () => {
            closeCommandMenu();
            $("message-input").value = "";
            sendText(`/${c.command}`);
          },
        },
        el("span", { class: "command-name", text: `/${c.command}` }),
        el("span", { class: "command-desc", text: c.description }),
      ),
    ),
  );
  menu.hidden = false;
}

export function closeCommandMenu() {
  $("command-menu").hidden = true;
}

// ------------------------------------------------------------------ wiring

/** Wire the composer's controls (once, at start). */
export function wireComposer() {
  $("input-row").addEventListener("submit", submitInput);
  const input = $("message-input");
  input.addEventListener("keydown", (event) => {
    // Enter sends and Shift+Enter is a new line; an Enter that ends an IME composition
    // (typing Chinese) only picks the characters.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      submitInput(event);
    } else if (event.key === "Escape") {
      closeCommandMenu();
      if (state.replyTo) cancelReply();
    }
  });
  input.addEventListener("input", () => {
    autoGrow();
    const value = input.value;
    if (/^\/[a-z0-9_]*$/i.test(value) && state.commands.length) openCommandMenu(value);
    else closeCommandMenu();
  });
  $("start-button").addEventListener("click", () => sendText("/start"));
  $("attach-button").addEventListener("click", () => $("file-input").click());
  $("file-input").addEventListener("change", (event) => {
    const [file] = event.target.files;
    event.target.value = "";
    if (file) sendFile(file);
  });
  $("commands-button").addEventListener("click", (event) => {
    event.stopPropagation();
    if ($("command-menu").hidden) openCommandMenu();
    else closeCommandMenu();
  });
  document.addEventListener("click", (event) => {
    if (!$("command-menu").contains(event.target)) closeCommandMenu();
  });
  $("keyboard-toggle").addEventListener("click", () => {
    state.keyboardOpen = !state.keyboardOpen;
    drawComposer();
  });
  $("reply-cancel").addEventListener("click", cancelReply);
}
