// The left column: the people one can be and, under the chosen one, their chats.

import { t } from "./i18n.js";
import { avatar, el, listTime, previewLine } from "./render.js";

/** The role badge for a person's `info` (from the server's user_info hook), or null. */
export function roleBadge(info) {
  if (!info || !info.role) return null;
  const label = t("roles")[info.role] || info.role_label || info.role;
  return el("span", {
    class: "badge",
    "data-role": info.role,
    "data-testid": "role-badge",
    title: info.role_label || label,
    text: label,
  });
}

function unreadBadge(count, testid) {
  return count > 0 ? el("span", { class: "unread", "data-testid": testid, text: String(count) }) : null;
}

function chatRow(person, chat, view) {
  const isGroup = chat.chat_id < 0;
  const selected = view.personId === person.id && view.chatId === chat.chat_id;
  const last = chat.last;
  const title = chat.title || "";
  return el(
    "li",
    {},
    el(
      "button",
      {
        type: "button",
        class: `row-button chat-row${selected ? " selected" : ""}`,
        "data-testid": `chat-${chat.chat_id}`,
        "data-chat-id": chat.chat_id,
        "aria-current": selected ? "true" : null,
        onclick: () => view.onChat(person.id, chat.chat_id),
      },
      avatar(chat.chat_id, title, "small"),
      el(
        "div",
        { class: "row-main" },
        el(
          "div",
          { class: "row-top" },
          el("span", { class: "row-title", text: isGroup ? title : `${title} · ${t("bot")}` }),
          last ? el("span", { class: "row-time", text: listTime(last.date) }) : null,
        ),
        el(
          "div",
          { class: "row-bottom" },
          el("span", {
            class: "row-sub",
            text: previewLine(last, person.id, isGroup, view.nameOf) || (isGroup ? "" : t("botUsername", chat.username)),
          }),
          unreadBadge(view.unread(person.id, chat.chat_id), "chat-unread"),
        ),
      ),
    ),
  );
}

function personRow(person, view) {
  const selected = view.personId === person.id;
  const info = person.info || {};
  const subtitle = [person.username ? `@${person.username}` : "", info.department || ""]
    .filter(Boolean)
    .join(" · ");
  const item = el("li", {
    class: `person${selected ? " selected" : ""}`,
    "data-testid": `person-${person.id}`,
    "data-person-id": person.id,
    "data-role": info.role || "",
  });
  item.append(
    el(
      "button",
      {
        type: "button",
        class: "row-button person-row",
        "aria-expanded": selected ? "true" : "false",
        onclick: () => view.onPerson(person.id),
      },
      avatar(person.id, person.name),
      el(
        "div",
        { class: "row-main" },
        el(
          "div",
          { class: "row-top" },
          el("span", { class: "row-title", "data-testid": "person-name", text: person.name }),
          roleBadge(info),
        ),
        el(
          "div",
          { class: "row-bottom" },
          el("span", { class: "row-sub", text: subtitle }),
          selected ? null : unreadBadge(view.unreadOf(person), "person-unread"),
        ),
      ),
    ),
  );
  if (selected) {
    item.append(el("ul", { class: "chats", "data-testid": "chats" }, person.chats.map((c) => chatRow(person, c, view))));
  }
  return item;
}

/**
 * Redraw the people list. view: people, personId, chatId, nameOf(id), unread(pid, cid),
 * unreadOf(person), onPerson(pid), onChat(pid, cid). Keyboard focus survives.
 */
export function renderPeople(container, view) {
  const focused = document.activeElement;
  const focusKey =
    focused && container.contains(focused)
      ? focused.dataset.testid || focused.closest("[data-testid]")?.dataset.testid
      : null;
  container.replaceChildren(...view.people.map((person) => personRow(person, view)));
  if (focusKey) {
    const again = container.querySelector(`[data-testid="${CSS.escape(focusKey)}"]`);
    const target = again?.matches("button") ? again : again?.querySelector("button");
    target?.focus({ preventScroll: true });
  }
}
