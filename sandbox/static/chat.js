// The message pane: drawing the open chat's messages and keeping the newest in view.

import { cancelReply, startReply } from "./composer.js";
import { t } from "./i18n.js";
import { dayKey, dayLabel, el, renderMessage } from "./render.js";
import { $, isGroup, nameOf, state } from "./state.js";

let onButton = () => {};

/** Tell the pane what pressing an inline button does (the page's button logic). */
export function configureChat(handlers) {
  onButton = handlers.onButton;
}

function messageContext() {
  return {
    viewerId: state.personId,
    isGroup: isGroup(),
    nameOf,
    messageById: (id) => state.messages.get(id),
    onButton,
    onReply: startReply,
    onQuote: jumpTo,
    onMediaLoad: () => stickToBottom(true),
  };
}

function nearBottom() {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
}

/** Keep the newest message in view when the pane shrinks (a keyboard appears) or grows. */
export function followResizes() {
  const box = $("messages");
  let atBottom = true;
  box.addEventListener("scroll", () => {
    atBottom = nearBottom();
  });
  new ResizeObserver(() => {
    if (atBottom) box.scrollTop = box.scrollHeight;
  }).observe(box);
}

let pinnedToBottom = false;

function stickToBottom(onlyIfNear = false) {
  const box = $("messages");
  if (!onlyIfNear || nearBottom() || pinnedToBottom) box.scrollTop = box.scrollHeight;
}

/** Draw every message of the open chat; `scroll` jumps to the newest (a chat just opened). */
export function drawMessages(scroll = false) {
  const inner = $("messages-inner");
  const ctx = messageContext();
  const nodes = [];
  let lastDay = null;
  const ordered = [...state.messages.values()].filter((m) => !m.deleted).sort((a, b) => a.id - b.id);
  for (const message of ordered) {
    const day = dayKey(message.date);
    if (day !== lastDay) {
      nodes.push(el("div", { class: "day", text: dayLabel(message.date) }));
      lastDay = day;
    }
    nodes.push(renderMessage(message, ctx));
  }
  if (!ordered.length && !state.loading && state.personId) {
    nodes.push(el("div", { class: "empty-pane", text: isGroup() ? t("emptyGroup") : t("emptyPrivate") }));
  }
  if (!state.personId) nodes.push(el("div", { class: "empty-pane", text: t("noChat") }));
  inner.replaceChildren(...nodes);
  if (scroll) {
    // Photos still loading grow the pane for a moment; stay at the end meanwhile.
    pinnedToBottom = true;
    stickToBottom();
    setTimeout(() => {
      pinnedToBottom = false;
    }, 600);
  }
}

/** A new or edited message: replaced in place, appended, or (out of order) a redraw. */
export function upsertMessage(message) {
  const wasNear = nearBottom();
  const known = state.messages.has(message.id);
  state.messages.set(message.id, message);
  const node = document.getElementById(`m-${message.id}`);
  const newest = Math.max(...state.messages.keys()) === message.id;
  const inner = $("messages-inner");
  if (node && known) {
    node.replaceWith(renderMessage(message, messageContext()));
  } else if (newest && inner.querySelector(".msg-row, .service")) {
    const previous = [...state.messages.values()].filter((m) => m.id < message.id && !m.deleted).pop();
    if (!previous || dayKey(previous.date) !== dayKey(message.date)) {
      inner.append(el("div", { class: "day", text: dayLabel(message.date) }));
    }
    inner.append(renderMessage(message, messageContext()));
  } else {
    drawMessages();
  }
  if (wasNear || message.from.id === state.personId) stickToBottom();
}

export function removeMessage(messageId) {
  const message = state.messages.get(messageId);
  if (!message) return;
  message.deleted = true;
  document.getElementById(`m-${messageId}`)?.remove();
  if (state.replyTo === messageId) cancelReply();
}

function jumpTo(messageId) {
  const node = document.getElementById(`m-${messageId}`);
  if (!node) return;
  node.scrollIntoView({ behavior: "smooth", block: "center" });
  node.classList.remove("flash");
  void node.offsetWidth; // restart the highlight animation
  node.classList.add("flash");
}
