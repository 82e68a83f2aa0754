// What the page knows and shows, shared by its modules, and the small helpers around it.

export const $ = (id) => document.getElementById(id);

export const state = {
  bot: null,
  names: new Map(), // user id -> display name (people and bots)
  people: [],
  personId: null,
  chatId: null,
  lastChatOf: new Map(), // person id -> the chat they had open
  messages: new Map(),
  loadToken: 0,
  loading: false,
  buffered: [],
  keyboard: null,
  keyboardOpen: true,
  commands: [],
  replyTo: null,
  forcedReplyTo: null, // the force-reply prompt a reply was last opened for
  presses: new Map(), // callback query id -> the pressed button node
  earlyAnswers: new Map(), // answers that arrived before our press request returned
  typingUntil: 0,
  unread: new Map(), // "person:chat" -> count
};

export function person(id = state.personId) {
  return state.people.find((p) => p.id === id) || null;
}

export function currentChat() {
  const me = person();
  return me ? me.chats.find((c) => c.chat_id === state.chatId) || null : null;
}

export const isGroup = () => state.chatId !== null && state.chatId < 0;
export const nameOf = (id) => state.names.get(id) || String(id);
export const botId = () => state.bot.id;

export function unreadKey(personId, chatId) {
  return `${personId}:${chatId}`;
}

export function toast(text, ms = 2600) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    box.hidden = true;
  }, Math.max(ms, 40 * text.length));
}

export function alertBox(text) {
  $("alert-text").textContent = text;
  const dialog = $("alert");
  if (!dialog.open) dialog.showModal();
  $("alert-ok").focus();
}
