// Building the page's pieces: avatars, times, previews and message bubbles.
// Text that people or bots wrote is only ever set as textContent; the one exception
// is a message's `html`/`caption_html`, which the sandbox renders from Telegram
// entities and escapes (sandbox/html_text.py: render_html).

import { lang, t } from "./i18n.js";

/** Create an element: props set attributes (class, text, on<event>, data-*), then children. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// Telegram's avatar gradients, picked by id as Telegram does.
const GRADIENTS = [
  ["#ff885e", "#ff516a"],
  ["#ffcd6a", "#ffa85c"],
  ["#82b1ff", "#665fff"],
  ["#a0de7e", "#54cb68"],
  ["#53edd6", "#28c9b7"],
  ["#72d5fd", "#2a9ef1"],
  ["#e0a2f3", "#d669ed"],
];
const NAME_COLORS = ["#e17076", "#eda86c", "#a695e7", "#7bc862", "#37a5a8", "#4c95d4", "#ce5fa6"];

function paletteIndex(id) {
  return Math.abs(Number(id) || 0) % 7;
}

function nameColor(id) {
  return NAME_COLORS[paletteIndex(id)];
}

function initials(name) {
  const words = String(name || "?")
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  const first = (word) => Array.from(word)[0] || "";
  if (words.length > 1) return (first(words[0]) + first(words[1])).toUpperCase();
  return first(words[0] || "?").toUpperCase();
}

export function avatar(id, name, size = "") {
  const [from, to] = GRADIENTS[paletteIndex(id)];
  return el(
    "div",
    {
      class: `avatar ${size}`.trim(),
      style: `background: linear-gradient(180deg, ${from}, ${to})`,
      "aria-hidden": "true",
    },
    initials(name),
  );
}

const pad = (n) => String(n).padStart(2, "0");

/** HH:MM in the viewer's own time zone. */
function hhmm(unixSeconds) {
  const date = new Date(unixSeconds * 1000);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function hhmmss(unixSeconds) {
  const date = new Date(unixSeconds * 1000);
  return `${hhmm(unixSeconds)}:${pad(date.getSeconds())}`;
}

export function dayKey(unixSeconds) {
  const date = new Date(unixSeconds * 1000);
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

export function dayLabel(unixSeconds) {
  const date = new Date(unixSeconds * 1000);
  const today = new Date();
  const yesterday = new Date(today.getTime() - 86400000);
  if (dayKey(unixSeconds) === dayKey(today.getTime() / 1000)) return t("today");
  if (dayKey(unixSeconds) === dayKey(yesterday.getTime() / 1000)) return t("yesterday");
  return date.toLocaleDateString(lang() === "en" ? "en-US" : "zh-CN", {
    year: "numeric",
    month: "long",
    day: "numeric",
  });
}

/** A chat list's time column: HH:MM today, a short date before. */
export function listTime(unixSeconds) {
  if (dayKey(unixSeconds) === dayKey(Date.now() / 1000)) return hhmm(unixSeconds);
  const date = new Date(unixSeconds * 1000);
  return `${date.getMonth() + 1}/${date.getDate()}`;
}

function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function duration(seconds) {
  const total = Math.max(0, Math.round(seconds || 0));
  return `${Math.floor(total / 60)}:${pad(total % 60)}`;
}

/** The grey line of a service message, in the page's language. */
function serviceText(message, nameOf) {
  const service = message.service || {};
  const actor = message.from ? message.from.name : "";
  if (service.new_chat_members) {
    return t("joined", service.new_chat_members.map(nameOf).join(lang() === "en" ? ", " : "、"));
  }
  if (service.left_chat_member) return t("left", nameOf(service.left_chat_member));
  if (service.pinned_message) return t("pinned", actor);
  if (service.group_chat_created) return t("created", actor);
  return service.text || t("service");
}

function mediaLabel(kind) {
  return t(kind === "photo" ? "photo" : kind === "voice" ? "voice" : "document");
}

/** One line about a message (a full message view), for quotes and the reply bar. */
export function snippet(message, nameOf) {
  if (message.service) return serviceText(message, nameOf);
  const text = message.text ?? message.caption;
  if (text) return text.replace(/\s+/g, " ");
  return message.media ? mediaLabel(message.media.kind) : "";
}

/** One line about a chat's last message (the `last` preview of /people). */
export function previewLine(last, viewerId, isGroup, nameOf) {
  if (!last) return "";
  if (last.service) return serviceText({ service: last.service, from: { name: last.from_name } }, nameOf);
  const body = last.text ? last.text.replace(/\s+/g, " ") : last.media ? mediaLabel(last.media) : "";
  if (last.from_id === viewerId) return `${t("you")}: ${body}`;
  if (isGroup && last.from_name) return `${last.from_name}: ${body}`;
  return body;
}

function mediaBlock(media, onLoad) {
  if (media.kind === "photo") {
    const image = el("img", {
      class: "photo",
      src: media.url,
      alt: t("photo"),
      width: media.width,
      height: media.height,
      "data-testid": "message-photo",
    });
    image.addEventListener("load", onLoad, { once: true });
    return el("a", { href: media.url, target: "_blank", rel: "noopener" }, image);
  }
  const voice = media.kind === "voice";
  const name = voice ? t("voice") : media.file_name || t("document");
  const detail = voice ? `${duration(media.duration)} · ${fileSize(media.size)}` : fileSize(media.size);
  return el(
    "a",
    {
      class: "file-chip",
      href: media.url,
      download: voice ? `voice-${media.file_unique_id}.ogg` : media.file_name || "file",
      "data-testid": voice ? "voice-chip" : "file-chip",
    },
    el("span", { class: "file-icon", "aria-hidden": "true" }, voice ? "🎤" : "📄"),
    el(
      "span",
      { class: "file-text" },
      el("div", { class: "file-name", text: name }),
      el("div", { class: "file-size", text: detail }),
    ),
  );
}

function quoteBlock(message, ctx) {
  const target = ctx.messageById(message.reply_to);
  let name = "";
  let text = t("deletedMessage");
  if (target) {
    name = target.from.id === ctx.viewerId ? t("you") : target.from.name;
    text = snippet(target, ctx.nameOf);
  }
  return el(
    "button",
    {
      type: "button",
      class: "quote",
      "data-testid": "message-quote",
      onclick: () => ctx.onQuote(message.reply_to),
    },
    el("span", { class: "quote-name", text: name }),
    el("span", { class: "quote-text", text }),
  );
}

function inlineKeyboard(message, ctx) {
  const keyboard = el("div", { class: "inline-kb", "data-testid": "inline-keyboard" });
  for (const row of message.buttons) {
    const line = el("div", { class: "inline-row" });
    for (const button of row) {
      const node = el("button", {
        type: "button",
        class: button.url ? "inline-button url" : "inline-button",
        "data-testid": "inline-button",
        title: button.url || button.text,
        text: button.text,
      });
      node.addEventListener("click", () => ctx.onButton(message, button, node));
      line.append(node);
    }
    keyboard.append(line);
  }
  return keyboard;
}

/**
 * A message as the viewer sees it. ctx: viewerId, isGroup, nameOf(id),
 * messageById(id), onButton(message, button, node), onReply(message),
 * onQuote(id), onMediaLoad().
 */
export function renderMessage(message, ctx) {
  if (message.service) {
    return el(
      "div",
      { class: "service", id: `m-${message.id}`, "data-testid": "service-message" },
      serviceText(message, ctx.nameOf),
    );
  }
  const own = message.from.id === ctx.viewerId;
  const row = el("div", {
    class: `msg-row ${own ? "own" : "other"}`,
    id: `m-${message.id}`,
    "data-testid": `message-${message.id}`,
    "data-message-id": message.id,
    "data-from": own ? "me" : message.from.is_bot ? "bot" : "other",
  });
  if (ctx.isGroup && !own) row.append(avatar(message.from.id, message.from.name, "tiny"));
  const column = el("div", { class: "msg-col" });
  const bubble = el("div", { class: "bubble" });
  if (ctx.isGroup && !own) {
    bubble.append(
      el("div", { class: "sender", style: `color: ${nameColor(message.from.id)}`, text: message.from.name }),
    );
  }
  if (message.reply_to) bubble.append(quoteBlock(message, ctx));
  if (message.media) {
    if (message.media.kind === "photo") bubble.classList.add("has-photo");
    bubble.append(mediaBlock(message.media, ctx.onMediaLoad));
  }
  const meta = el(
    "span",
    { class: "meta", "data-testid": "message-meta" },
    message.edited ? `${t("edited")} ` : "",
    el("time", { datetime: new Date(message.date * 1000).toISOString(), text: hhmm(message.date) }),
  );
  const html = message.media ? message.caption_html : message.html;
  const text = el("div", { class: "text", "data-testid": "message-text" });
  if (html) text.innerHTML = html; // sanitized by the sandbox, see the header of this file
  text.append(meta, el("div", { class: "meta-clear" }));
  bubble.append(text);
  column.append(bubble);
  if (message.buttons && message.buttons.length) column.append(inlineKeyboard(message, ctx));
  row.append(column);
  // Any message can be replied to, in private chats as in groups (as Telegram's clients do).
  row.append(
    el("button", {
      type: "button",
      class: "reply-action",
      "data-testid": "reply-action",
      title: t("reply"),
      "aria-label": t("reply"),
      text: "↩",
      onclick: () => ctx.onReply(message),
    }),
  );
  return row;
}
