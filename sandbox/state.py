"""The in-memory world: bots, users, chats, members, messages, files and update queues.

Everything here is plain data plus lookups; the rules for changing it live in
:mod:`sandbox.actions` (what people do) and the ``api_*`` modules (what bots
do). Private chats are kept per (bot, user) pair because each bot has its own
conversation with a user even though Telegram gives that chat the user's id;
groups are shared by every bot in them.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.calllog import CallLog
from sandbox.entities import Entity
from sandbox.events import EventLog
from sandbox.notify import Notifier

ALL_UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
# What a bot receives when it never said otherwise (or sent an empty list).
DEFAULT_UPDATE_TYPES = frozenset(ALL_UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
ACTIVE_STATUSES = frozenset({"creator", "administrator", "member"})
ADMIN_STATUSES = frozenset({"creator", "administrator"})
FIRST_USER_ID = 100000001
FIRST_GROUP_ID = -1001000000001
ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_manage_topics",
)
# Rights a freshly promoted administrator gets unless told otherwise.
DEFAULT_ADMIN_RIGHTS = {
    right: right not in {"can_promote_members", "can_manage_topics"} for right in ADMIN_RIGHTS
}


@dataclass
class UserRecord:
    """A Telegram account: a person or a bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh-hans"
    is_bot: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass
class FileRecord:
    """An uploaded file; ``kind`` is photo, document or voice."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class MessageRecord:
    """A message as it is now (edits applied); deleted ones stay, flagged, for the log."""

    message_id: int
    chat_id: int
    sender_id: int
    date: int
    text: str | None = None
    entities: list[Entity] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[Entity] = field(default_factory=list)
    file_id: str | None = None
    reply_to: int | None = None
    inline_keyboard: list[list[dict[str, Any]]] | None = None
    edit_date: int | None = None
    deleted: bool = False
    service: dict[str, Any] | None = None
    forward_origin: dict[str, Any] | None = None
    protect_content: bool = False
    link_preview_options: dict[str, Any] | None = None


@dataclass
class MemberRecord:
    """A user's standing in a group."""

    user_id: int
    status: str
    until_date: int = 0
    rights: dict[str, bool] = field(default_factory=dict)
    custom_title: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_admin(self) -> bool:
        return self.status in ADMIN_STATUSES

    def can(self, right: str) -> bool:
        """Whether this member holds an administrator right (owners hold all)."""
        return self.status == "creator" or (
            self.status == "administrator" and self.rights.get(right, False)
        )


@dataclass
class KeyboardState:
    """The reply keyboard (or force-reply request) a user currently has in a chat."""

    kind: str  # "keyboard" or "force_reply"
    markup: dict[str, Any]
    message_id: int
    collapsed: bool = False


@dataclass
class ChatAction:
    """A chat action ("typing", ...) a bot sent; Telegram shows it for 5 seconds."""

    action: str
    bot_id: int
    time: float


@dataclass
class InviteLink:
    """An invite link a bot created for a group."""

    link: str
    chat_id: int
    creator_id: int
    created: int
    name: str | None = None
    expire_date: int | None = None
    member_limit: int | None = None
    creates_join_request: bool = False
    is_revoked: bool = False
    joined: int = 0


@dataclass
class ChatRecord:
    """A private chat (one bot and one user) or a supergroup."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    bot_id: int | None = None
    members: dict[int, MemberRecord] = field(default_factory=dict)
    messages: dict[int, MessageRecord] = field(default_factory=dict)
    next_message_id: int = 1
    pinned: list[int] = field(default_factory=list)
    keyboards: dict[int | None, KeyboardState] = field(default_factory=dict)
    actions: deque[ChatAction] = field(default_factory=lambda: deque(maxlen=50))
    blocked: bool = False
    invite_links: dict[str, InviteLink] = field(default_factory=dict)
    chat_instance: str = field(default_factory=lambda: str(secrets.randbits(63)))

    @property
    def is_private(self) -> bool:
        return self.type == "private"

    def new_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def member(self, user_id: int) -> MemberRecord | None:
        return self.members.get(user_id)

    def is_active_member(self, user_id: int) -> bool:
        member = self.members.get(user_id)
        return member is not None and member.active

    def live_message(self, message_id: int) -> MessageRecord | None:
        """The message if it exists and was not deleted."""
        message = self.messages.get(message_id)
        return None if message is None or message.deleted else message


@dataclass
class CallbackRecord:
    """A button press and, once the bot answers, its answer."""

    id: str
    bot_id: int
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float
    update_id: int | None = None
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    answered_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "bot_id": self.bot_id,
            "user_id": self.user_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "data": self.data,
            "update_id": self.update_id,
            "answered": self.answered,
            "text": self.text,
            "show_alert": self.show_alert,
            "url": self.url,
            "created": self.created,
            "answered_at": self.answered_at,
        }


@dataclass
class WebhookConfig:
    """A bot's webhook and the delivery health Telegram reports in getWebhookInfo."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class UpdateStatus:
    """Where one update is on its way to the bot."""

    update_id: int
    type: str
    created: float
    fetched: bool = False
    acknowledged: bool = False
    dropped: bool = False

    @property
    def done(self) -> bool:
        """The bot will never be offered this update again."""
        return self.acknowledged or self.dropped

    def to_json(self) -> dict[str, Any]:
        return {
            "update_id": self.update_id,
            "type": self.type,
            "created": self.created,
            "fetched": self.fetched,
            "acknowledged": self.acknowledged,
            "dropped": self.dropped,
            "done": self.done,
        }


class UpdateQueue:
    """A bot's pending updates, with strictly rising ids and per-update status."""

    def __init__(self, first_id: int = 1, history: int = 100000) -> None:
        self._next_id = first_id
        self.pending: list[dict[str, Any]] = []
        self.statuses: OrderedDict[int, UpdateStatus] = OrderedDict()
        self._history = history
        self.changed = Notifier()

    @property
    def next_id(self) -> int:
        """The id the next update will get (ids below it were all assigned already)."""
        return self._next_id

    def push(self, kind: str, payload: dict[str, Any]) -> int:
        """Queue an update of type ``kind`` and return its id."""
        update_id = self._next_id
        self._next_id += 1
        self.pending.append({"update_id": update_id, kind: payload})
        self.statuses[update_id] = UpdateStatus(update_id, kind, time.time())
        while len(self.statuses) > self._history:
            self.statuses.popitem(last=False)
        self.changed.notify()
        return update_id

    def push_raw(self, fields: dict[str, Any]) -> int:
        """Queue an update exactly as given (its id added): tests hand the bot updates
        no real chat produces, such as a channel post or one a library cannot parse."""
        update_id = self._next_id
        self._next_id += 1
        self.pending.append({"update_id": update_id, **fields})
        kind = next((k for k in fields if k != "update_id"), "raw")
        self.statuses[update_id] = UpdateStatus(update_id, kind, time.time())
        while len(self.statuses) > self._history:
            self.statuses.popitem(last=False)
        self.changed.notify()
        return update_id

    def acknowledge_before(self, offset: int) -> None:
        """Confirm every update with an id below ``offset`` (getUpdates offset)."""
        kept = []
        for update in self.pending:
            if update["update_id"] < offset:
                self._mark(update["update_id"], acknowledged=True)
            else:
                kept.append(update)
        if len(kept) != len(self.pending):
            self.pending = kept
            self.changed.notify()

    def acknowledge(self, update_id: int) -> None:
        """Confirm one update (a webhook delivery that got a 2xx answer)."""
        self.pending = [u for u in self.pending if u["update_id"] != update_id]
        self._mark(update_id, acknowledged=True)
        self.changed.notify()

    def keep_last(self, count: int) -> None:
        """Forget all but the newest ``count`` updates (negative getUpdates offset)."""
        dropped = self.pending[: max(0, len(self.pending) - count)]
        for update in dropped:
            self._mark(update["update_id"], dropped=True)
        self.pending = self.pending[len(dropped) :]
        if dropped:
            self.changed.notify()

    def continue_from(self, next_id: int) -> None:
        """Hand out ids from ``next_id`` on (never lower): a reloaded world keeps counting."""
        self._next_id = max(self._next_id, next_id)

    def drop_all(self) -> int:
        """Forget every pending update (drop_pending_updates); return how many."""
        count = len(self.pending)
        self.keep_last(0)
        return count

    def mark_fetched(self, updates: list[dict[str, Any]]) -> None:
        for update in updates:
            self._mark(update["update_id"], fetched=True)
        if updates:
            self.changed.notify()

    def _mark(self, update_id: int, **flags: bool) -> None:
        status = self.statuses.get(update_id)
        if status is not None:
            for name, value in flags.items():
                setattr(status, name, value)

    def reset(self) -> None:
        """Empty the queue; ids keep rising so a running bot's offset stays valid."""
        self.drop_all()
        self.statuses.clear()


@dataclass
class PollSlot:
    """The one getUpdates request a bot may have open; a newer one terminates it.

    Waiting happens on the bot's ``updates.changed`` notifier, which is also poked
    when the slot is terminated or the server stops.
    """

    terminated: bool = False


@dataclass
class BotAccount:
    """A bot configured in the sandbox, with its update queue and settings."""

    token: str
    user: UserRecord
    updates: UpdateQueue = field(default_factory=UpdateQueue)
    allowed_updates: list[str] | None = None
    webhook: WebhookConfig | None = None
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    poller: PollSlot | None = None

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def listening(self) -> bool:
        """Whether the bot is taking updates right now (a poll open or a webhook set)."""
        return self.poller is not None or self.webhook is not None

    def accepts(self, kind: str) -> bool:
        """Whether this bot subscribed to updates of type ``kind``."""
        if not self.allowed_updates:
            return kind in DEFAULT_UPDATE_TYPES
        return kind in self.allowed_updates


def unique_id_for(data: bytes) -> str:
    """file_unique_id: stable for the same content, like Telegram's."""
    digest = hashlib.sha256(data).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def new_file_id() -> str:
    """A long random file_id; Telegram's are opaque and about this long."""
    return "BQACAgIAAxk" + secrets.token_urlsafe(48)


class World:
    """All sandbox state. One per server; safe to read and change from the server's loop."""

    def __init__(
        self,
        bots: Mapping[str, str],
        clock: Callable[[], float] = time.time,
        names: Mapping[str, str] | None = None,
    ) -> None:
        """``bots`` maps tokens to usernames; ``names`` optionally gives a bot a display name."""
        self.clock = clock
        self.bots: dict[int, BotAccount] = {}
        self.tokens: dict[str, int] = {}
        self.users: dict[int, UserRecord] = {}
        for token, username in bots.items():
            bot_id = int(token.split(":", 1)[0])
            first_name = (names or {}).get(token) or username
            user = UserRecord(
                bot_id, first_name, username=username, language_code=None, is_bot=True
            )
            self.bots[bot_id] = BotAccount(token=token, user=user)
            self.tokens[token] = bot_id
            self.users[bot_id] = user
        self.groups: dict[int, ChatRecord] = {}
        self.private: dict[tuple[int, int], ChatRecord] = {}
        self.files: dict[str, FileRecord] = {}
        self.file_paths: dict[str, FileRecord] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.invite_links: dict[str, InviteLink] = {}
        self.events = EventLog()
        self.calls = CallLog()
        self.closed = False
        self._file_counter = 0

    # ------------------------------------------------------------------ time and ids

    def now(self) -> int:
        """Current Unix time in whole seconds, as Telegram dates are."""
        return int(self.clock())

    def new_user_id(self) -> int:
        candidate = FIRST_USER_ID
        while candidate in self.users:
            candidate += 1
        return candidate

    def new_group_id(self) -> int:
        candidate = FIRST_GROUP_ID
        while candidate in self.groups:
            candidate -= 1
        return candidate

    def next_file_number(self) -> int:
        self._file_counter += 1
        return self._file_counter

    @property
    def file_counter(self) -> int:
        """How many files were stored so far (their paths are numbered by it)."""
        return self._file_counter

    def continue_file_numbers(self, count: int) -> None:
        """Number new files after ``count``, so a reloaded world never reuses a file path."""
        self._file_counter = max(self._file_counter, count)

    # ------------------------------------------------------------------ lookups

    @property
    def default_bot_id(self) -> int:
        """The first configured bot, used when a control request names none."""
        return next(iter(self.bots))

    def bot_for_token(self, token: str) -> BotAccount | None:
        bot_id = self.tokens.get(token)
        return None if bot_id is None else self.bots[bot_id]

    def chat(self, bot_id: int, chat_id: int) -> ChatRecord | None:
        """The chat ``chat_id`` as seen by bot ``bot_id`` (private chats are per bot)."""
        if chat_id > 0:
            return self.private.get((bot_id, chat_id))
        return self.groups.get(chat_id)

    def group_by_username(self, username: str) -> ChatRecord | None:
        wanted = username.lstrip("@").lower()
        for group in self.groups.values():
            if group.username and group.username.lower() == wanted:
                return group
        return None

    def user_by_username(self, username: str) -> UserRecord | None:
        wanted = username.lstrip("@").lower()
        for user in self.users.values():
            if user.username and user.username.lower() == wanted:
                return user
        return None

    def chats_of_user(self, user_id: int) -> list[ChatRecord]:
        """Chats the user can see: private chats with bots and groups they are active in."""
        found = [chat for (_, uid), chat in self.private.items() if uid == user_id]
        found.extend(g for g in self.groups.values() if g.is_active_member(user_id))
        return found

    def bots_in(self, chat: ChatRecord) -> list[BotAccount]:
        """Bots that can currently see the chat."""
        if chat.is_private:
            return [self.bots[chat.bot_id]] if chat.bot_id in self.bots else []
        return [bot for bot in self.bots.values() if chat.is_active_member(bot.id)]

    # ------------------------------------------------------------------ files

    def add_file(self, record: FileRecord) -> FileRecord:
        self.files[record.file_id] = record
        self.file_paths[record.file_path] = record
        return record

    # ------------------------------------------------------------------ lifecycle

    def reset(self) -> None:
        """Forget everything except the bots (identity, commands, webhook) themselves."""
        for bot_id in list(self.users):
            if bot_id not in self.bots:
                del self.users[bot_id]
        self.groups.clear()
        self.private.clear()
        self.files.clear()
        self.file_paths.clear()
        self.callbacks.clear()
        self.invite_links.clear()
        for bot in self.bots.values():
            bot.updates.reset()
        self.calls.clear()
        self.events.clear()

    def close(self) -> None:
        """Wake every long poll and waiter: the server is going away."""
        self.closed = True
        for bot in self.bots.values():
            bot.updates.changed.notify()
        self.events.close()
        self.calls.close()
