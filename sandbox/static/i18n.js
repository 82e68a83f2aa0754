// The page's own words, in Chinese (the union's language, the default) and English.
// Only the chrome is translated here: what the bot says comes from the bot, in the
// language each person chose with /language.

const STRINGS = {
  zh: {
    brand: "沙盒聊天",
    brandSub: "不需要 Telegram，也能试试每个角色",
    pickPerson: "选择一个身份，再选一个聊天",
    diagnostics: "🔧 沙盒看到了什么",
    hidePolls: "隐藏 getUpdates 长轮询",
    start: "开始",
    menu: "菜单",
    attach: "附件",
    keyboard: "键盘",
    send: "发送",
    ok: "好的",
    placeholder: "输入消息…",
    bot: "机器人",
    members: (n) => `${n} 位成员`,
    typing: "正在输入",
    you: "你",
    viewingAs: (name) => `当前身份：${name}`,
    noChat: "在左侧选择一个人和一个聊天",
    emptyPrivate: "还没有消息。点下面的“开始”和机器人聊天。",
    emptyGroup: "还没有消息",
    edited: "已编辑",
    reply: "回复",
    replyTo: (name) => `回复 ${name}`,
    deletedMessage: "已删除的消息",
    photo: "🖼 图片",
    document: "📄 文件",
    voice: "🎤 语音消息",
    service: "系统消息",
    today: "今天",
    yesterday: "昨天",
    roles: { visitor: "未注册", member: "会员", cadre: "干部", admin: "管理员" },
    joined: (names) => `${names} 加入了群组`,
    left: (name) => `${name} 离开了群组`,
    pinned: (name) => `${name} 置顶了一条消息`,
    created: (name) => `${name} 创建了群组`,
    joinedToast: (title) => `已加入 ${title}`,
    alreadyMember: (title) => `你已经在 ${title} 里了`,
    inviteFailed: (why) => `无法加入：${why}`,
    sendFailed: (why) => `发送失败：${why}`,
    unsupportedButton: "沙盒不支持这种按钮",
    forceReply: (name) => `${name} 请你回复`,
    calls: "调用",
    rateLimited: "429 次数",
    faults: "注入故障",
    limiter: "限流",
    on: "开",
    off: "关",
    inFlight: "进行中",
    noCalls: "还没有调用",
    busiest: "最满的桶",
    live: "实时连接",
    reconnecting: "正在重连…",
    botUsername: (u) => `@${u}`,
    fileTooBig: "文件太大（上限 50 MB）",
    errors: {
      network: "连不上沙盒，请检查它是否还在运行，然后重试",
      inviteInvalid: "邀请链接无效或已被撤销",
      inviteExpired: "邀请链接已过期，请向管理员要一个新的",
      inviteFull: "邀请链接的使用人数已满，请向管理员要一个新的",
      banned: "你已被移出这个群，不能通过链接加入",
      blocked: "你已屏蔽机器人，请先解除屏蔽",
      notMember: "你不在这个聊天里",
      ownChat: "只能在自己的私聊里操作",
      empty: "消息是空的",
      tooLong: "消息太长了，请缩短后再发",
      captionTooLong: "图片说明太长了，请缩短后再发",
      notModified: "内容没有变化",
      ownMessages: "只能修改或删除自己的消息",
      pressGone: "这条消息或按钮已经不存在了",
      fileMissing: "请选择一个文件",
      notFound: "找不到这个人或聊天，请刷新页面",
      other: (status) => `操作没有成功（${status}），请重试`,
    },
  },
  en: {
    brand: "Sandbox chat",
    brandSub: "Try every role without Telegram",
    pickPerson: "Pick a person, then one of their chats",
    diagnostics: "🔧 What the sandbox saw",
    hidePolls: "Hide getUpdates long polls",
    start: "START",
    menu: "Menu",
    attach: "Attach",
    keyboard: "Keyboard",
    send: "Send",
    ok: "OK",
    placeholder: "Write a message…",
    bot: "bot",
    members: (n) => `${n} member${n === 1 ? "" : "s"}`,
    typing: "typing",
    you: "You",
    viewingAs: (name) => `You are: ${name}`,
    noChat: "Pick a person and a chat on the left",
    emptyPrivate: "No messages yet. Press START below to talk to the bot.",
    emptyGroup: "No messages yet",
    edited: "edited",
    reply: "Reply",
    replyTo: (name) => `Reply to ${name}`,
    deletedMessage: "Deleted message",
    photo: "🖼 Photo",
    document: "📄 File",
    voice: "🎤 Voice message",
    service: "Service message",
    today: "Today",
    yesterday: "Yesterday",
    roles: { visitor: "visitor", member: "member", cadre: "cadre", admin: "admin" },
    joined: (names) => `${names} joined the group`,
    left: (name) => `${name} left the group`,
    pinned: (name) => `${name} pinned a message`,
    created: (name) => `${name} created the group`,
    joinedToast: (title) => `Joined ${title}`,
    alreadyMember: (title) => `You are already in ${title}`,
    inviteFailed: (why) => `Could not join: ${why}`,
    sendFailed: (why) => `Not sent: ${why}`,
    unsupportedButton: "The sandbox does not support this kind of button",
    forceReply: (name) => `${name} asks you to reply`,
    calls: "calls",
    rateLimited: "429s",
    faults: "faults",
    limiter: "limits",
    on: "on",
    off: "off",
    inFlight: "in flight",
    noCalls: "No calls yet",
    busiest: "fullest buckets",
    live: "live",
    reconnecting: "reconnecting…",
    botUsername: (u) => `@${u}`,
    fileTooBig: "The file is too big (50 MB at most)",
    errors: {
      network: "Cannot reach the sandbox; check that it is still running, then try again",
      inviteInvalid: "The invite link is invalid or was revoked",
      inviteExpired: "The invite link has expired; ask an admin for a new one",
      inviteFull: "The invite link has been used up; ask an admin for a new one",
      banned: "You were removed from this group and cannot join by link",
      blocked: "You have blocked the bot; unblock it first",
      notMember: "You are not in this chat",
      ownChat: "You can only do that in your own private chat",
      empty: "The message is empty",
      tooLong: "The message is too long; please shorten it",
      captionTooLong: "The caption is too long; please shorten it",
      notModified: "Nothing changed",
      ownMessages: "You can only edit or delete your own messages",
      pressGone: "That message or button no longer exists",
      fileMissing: "Please choose a file",
      notFound: "That person or chat was not found; please reload the page",
      other: (status) => `That did not work (${status}); please try again`,
    },
  },
};

let current = localStorage.getItem("sandbox-lang") === "en" ? "en" : "zh";

export function lang() {
  return current;
}

export function setLang(value) {
  current = value === "en" ? "en" : "zh";
  localStorage.setItem("sandbox-lang", current);
  document.documentElement.lang = current === "en" ? "en" : "zh-CN";
}

/** A string of the page in the current language; functions take their arguments. */
export function t(key, ...args) {
  const value = STRINGS[current][key] ?? STRINGS.zh[key] ?? key;
  return typeof value === "function" ? value(...args) : value;
}

// The sandbox's control API answers in English (its messages are for developers and
// tests); the page says them in its own language. Unknown ones get a general sentence,
// and the original goes to the console.
const ERRORS = [
  [/INVITE_HASH_EXPIRED/, "inviteExpired"],
  [/INVITE_HASH_INVALID/, "inviteInvalid"],
  [/USERS_TOO_MUCH/, "inviteFull"],
  [/USER_BANNED_IN_CHANNEL/, "banned"],
  [/blocked the bot/, "blocked"],
  [/is not a member of chat|is not in chat/, "notMember"],
  [/only act in their own private chat/, "ownChat"],
  [/caption is too long/, "captionTooLong"],
  [/message is too long/, "tooLong"],
  [/text is empty|text is required/, "empty"],
  [/not modified/, "notModified"],
  [/their own messages/, "ownMessages"],
  [/message .*not found|callback query not found|inline buttons/, "pressGone"],
  [/file is required/, "fileMissing"],
  [/^(user|group|bot) .*not found|chat not found/, "notFound"],
];

/** An error from the sandbox (or the network) in the page's language. */
export function errorText(error) {
  const errors = STRINGS[current].errors;
  const status = error && typeof error.status === "number" ? error.status : null;
  const message = String((error && error.message) || "");
  if (status === 0) return errors.network;
  for (const [pattern, key] of ERRORS) {
    if (pattern.test(message)) return errors[key];
  }
  console.warn("sandbox error", status, message);
  return errors.other(status ?? "—");
}

/** Fill every element marked data-i18n (text) or data-i18n-title (tooltip). */
export function translatePage(root = document) {
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("[data-i18n-title]")) {
    element.title = t(element.dataset.i18nTitle);
    element.setAttribute("aria-label", element.title);
  }
  document.title = current === "en" ? "Union Bot · sandbox chat" : "工会助手 · 沙盒聊天";
}
