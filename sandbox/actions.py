"""Changes to the world and their consequences: messages, updates and events.

Whoever causes a change (a user through the control API, a bot through the Bot
API, a test in-process), the same function applies it here, so the rules hold
everywhere: which bots get an update (privacy mode, ``allowed_updates``, bots
never see bots), which service messages appear, which events the web chat sees.
User-facing problems raise :class:`ControlError`; Bot API methods validate their
own input before calling in.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from sandbox import schema, views
from sandbox.entities import Entity, detect_entities, utf16_slice
from sandbox.errors import ControlError
from sandbox.keyboards import (
    MAX_CALLBACK_DATA_BYTES,
    after_user_message,
    apply_reply_markup,
    keyboard_json,
)
from sandbox.state import (
    DEFAULT_ADMIN_RIGHTS,
    BotAccount,
    CallbackRecord,
    ChatRecord,
    FileRecord,
    InviteLink,
    MemberRecord,
    MessageRecord,
    UserRecord,
    World,
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "left", "kicked"})


class Actions:
    """Every state change that has consequences, applied to one :class:`World`."""

    def __init__(self, world: World) -> None:
        self.world = world

    # ================================================================== lookups

    def user(self, user_id: int) -> UserRecord:
        person = self.world.users.get(user_id)
        if person is None:
            raise ControlError(404, f"user {user_id} not found")
        return person

    def bot(self, bot_id: int | None) -> BotAccount:
        wanted = self.world.default_bot_id if bot_id is None else bot_id
        bot = self.world.bots.get(wanted)
        if bot is None:
            raise ControlError(404, f"bot {bot_id} not found")
        return bot

    def group(self, chat_id: int) -> ChatRecord:
        group = self.world.groups.get(chat_id)
        if group is None:
            raise ControlError(404, f"group {chat_id} not found")
        return group

    def existing_chat(self, bot_id: int | None, chat_id: int) -> ChatRecord:
        """A group, or the private chat of a user with a bot (which must have been started)."""
        if chat_id < 0:
            return self.group(chat_id)
        bot = self.bot(bot_id)
        chat = self.world.private.get((bot.id, chat_id))
        if chat is None:
            raise ControlError(404, f"user {chat_id} has no chat with bot {bot.id} yet")
        return chat

    def message(self, chat: ChatRecord, message_id: int) -> MessageRecord:
        record = chat.live_message(message_id)
        if record is None:
            raise ControlError(404, f"message {message_id} not found in chat {chat.id}")
        return record

    # ================================================================== people and groups

    def create_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        user_id: int | None = None,
    ) -> UserRecord:
        """Create a person; ids count up from 100000001 unless one is given."""
        if not first_name or not first_name.strip():
            raise ControlError(400, "first_name must not be empty")
        if user_id is None:
            user_id = self.world.new_user_id()
        elif user_id <= 0:
            raise ControlError(400, "user ids are positive")
        elif user_id in self.world.users:
            raise ControlError(409, f"user {user_id} already exists")
        if username:
            username = username.lstrip("@")
            if self.world.user_by_username(username) is not None:
                raise ControlError(409, f"username @{username} is taken")
        record = UserRecord(
            user_id, first_name.strip(), last_name or None, username or None, language_code
        )
        self.world.users[user_id] = record
        self.world.events.emit("member", None, user=views.person(record), change="created")
        return record

    def rename_user(self, user_id: int, username: str | None) -> UserRecord:
        """The person sets, changes or removes their @username, as Telegram's settings allow."""
        record = self.user(user_id)
        username = (username or "").lstrip("@") or None
        if username is not None:
            taken = self.world.user_by_username(username)
            if taken is not None and taken.id != user_id:
                raise ControlError(409, f"username @{username} is taken")
        record.username = username
        self.world.events.emit("member", None, user=views.person(record), change="renamed")
        return record

    def create_group(
        self,
        title: str,
        *,
        chat_id: int | None = None,
        username: str | None = None,
        members: list[int] | None = None,
        admins: list[int] | None = None,
        creator: int | None = None,
        bot_ids: list[int] | None = None,
        bot_status: str = "administrator",
    ) -> ChatRecord:
        """Create a supergroup; its bots join (each told via my_chat_member) as ``bot_status``."""
        if not title or not title.strip():
            raise ControlError(400, "title must not be empty")
        if chat_id is None:
            chat_id = self.world.new_group_id()
        elif chat_id >= 0:
            raise ControlError(400, "group ids are negative, like -1001234567890")
        elif chat_id in self.world.groups:
            raise ControlError(409, f"chat {chat_id} already exists")
        if username and self.world.group_by_username(username) is not None:
            raise ControlError(409, f"username @{username} is taken")
        if bot_status not in ("administrator", "member"):
            raise ControlError(400, "bot_status is administrator or member")
        people = list(dict.fromkeys([*(members or []), *(admins or [])]))
        if creator is not None and creator not in people:
            people.insert(0, creator)
        for uid in people:
            if self.user(uid).is_bot:
                raise ControlError(400, "add bots with bot_ids, not as members")
        chat = ChatRecord(id=chat_id, type="supergroup", title=title.strip(), username=username)
        self.world.groups[chat_id] = chat
        for uid in people:
            status = "member"
            if uid == creator:
                status = "creator"
            elif uid in (admins or []):
                status = "administrator"
            chat.members[uid] = _new_member(uid, status)
        self.world.events.emit(
            "member", chat_id, change="group_created", chat=views.chat(self.world, chat)
        )
        actor = creator if creator is not None else (people[0] if people else None)
        for bot_id in self.world.bots if bot_ids is None else bot_ids:
            self.add_member(chat, self.bot(bot_id).id, status=bot_status, actor_id=actor)
        return chat

    def open_private(self, bot_id: int, user_id: int) -> ChatRecord:
        """The private chat of a user with a bot, created when the user first writes."""
        key = (bot_id, user_id)
        chat = self.world.private.get(key)
        if chat is None:
            chat = ChatRecord(id=user_id, type="private", bot_id=bot_id)
            self.world.private[key] = chat
        return chat

    def add_member(
        self,
        chat: ChatRecord,
        user_id: int,
        *,
        status: str = "member",
        actor_id: int | None = None,
        rights: dict[str, bool] | None = None,
        invite_link: InviteLink | None = None,
    ) -> MemberRecord:
        """Put a user or bot into a group (lifting a ban, as an admin adding them does)."""
        if chat.is_private:
            raise ControlError(400, "private chats have no members to add")
        if status not in ("member", "administrator", "creator"):
            raise ControlError(400, "status is member, administrator or creator")
        self.user(user_id)
        current = chat.member(user_id)
        if current is not None and current.active:
            raise ControlError(409, f"user {user_id} is already in chat {chat.id}")
        record = _new_member(user_id, status, rights)
        self.change_member(chat, record, actor_id=actor_id, invite_link=invite_link)
        return record

    def set_status(
        self,
        chat: ChatRecord,
        user_id: int,
        status: str,
        *,
        actor_id: int | None = None,
        rights: dict[str, bool] | None = None,
        until_date: int = 0,
    ) -> MemberRecord:
        """Promote, demote, remove or ban a group member."""
        if status not in MEMBER_STATUSES:
            raise ControlError(400, f"status must be one of {sorted(MEMBER_STATUSES)}")
        if chat.is_private:
            raise ControlError(400, "member status can't be changed in private chats")
        self.user(user_id)
        record = _new_member(user_id, status, rights)
        record.until_date = until_date
        self.change_member(chat, record, actor_id=actor_id)
        return record

    def remove_member(
        self, chat: ChatRecord, user_id: int, *, actor_id: int | None = None, ban: bool = False
    ) -> MemberRecord:
        """Take a user out of a group: they leave, or are removed (and banned if ``ban``)."""
        current = chat.member(user_id)
        if not ban and (current is None or not current.active):
            raise ControlError(409, f"user {user_id} is not in chat {chat.id}")
        return self.set_status(chat, user_id, "kicked" if ban else "left", actor_id=actor_id)

    def join_by_link(self, user_id: int, link: str) -> ChatRecord:
        """A user opens an invite link and joins the group."""
        self.user(user_id)
        invite = self.world.invite_links.get(link.strip())
        if invite is None or invite.is_revoked:
            raise ControlError(404, "invite link is invalid or revoked (INVITE_HASH_INVALID)")
        if invite.expire_date is not None and invite.expire_date <= self.world.now():
            raise ControlError(410, "invite link has expired (INVITE_HASH_EXPIRED)")
        if invite.member_limit is not None and invite.joined >= invite.member_limit:
            raise ControlError(409, "invite link member limit reached (USERS_TOO_MUCH)")
        chat = self.group(invite.chat_id)
        current = chat.member(user_id)
        if current is not None and current.status == "kicked":
            raise ControlError(403, "user is banned in this chat (USER_BANNED_IN_CHANNEL)")
        if current is not None and current.active:
            raise ControlError(409, f"user {user_id} is already in chat {chat.id}")
        invite.joined += 1
        self.change_member(
            chat, _new_member(user_id, "member"), actor_id=user_id, invite_link=invite
        )
        return chat

    def change_member(
        self,
        chat: ChatRecord,
        new: MemberRecord,
        *,
        actor_id: int | None = None,
        invite_link: InviteLink | None = None,
    ) -> None:
        """Apply a membership change and everything Telegram does about it.

        * my_chat_member to a bot whose own status changed;
        * chat_member to administrator bots that subscribed to it;
        * a new_chat_members / left_chat_member service message when someone
          arrives or goes.
        """
        world = self.world
        person = world.users[new.user_id]
        old = copy.deepcopy(chat.member(new.user_id))
        was_active = old is not None and old.active
        actor = world.users[actor_id] if actor_id is not None else person
        chat.members[new.user_id] = new
        world.events.emit(
            "member",
            chat.id,
            user_id=new.user_id,
            old_status=old.status if old else "left",
            new_status=new.status,
            actor_id=actor.id,
        )
        if person.is_bot and person.id in world.bots:
            bot = world.bots[person.id]
            if bot.accepts("my_chat_member"):
                payload = schema.chat_member_updated(world, chat, actor, person, old, new)
                bot.updates.push("my_chat_member", payload)
        for bot in world.bots.values():
            member = chat.member(bot.id)
            if bot.id == person.id or member is None or not member.is_admin:
                continue
            if bot.accepts("chat_member"):
                payload = schema.chat_member_updated(
                    world, chat, actor, person, old, new, invite_link
                )
                bot.updates.push("chat_member", payload)
        if new.active and not was_active:
            self._service_message(chat, actor.id, {"new_chat_members": [person.id]})
        elif was_active and not new.active:
            self._service_message(chat, actor.id, {"left_chat_member": person.id})

    def _service_message(
        self, chat: ChatRecord, sender_id: int, service: dict[str, Any]
    ) -> MessageRecord:
        record = MessageRecord(
            message_id=chat.new_message_id(),
            chat_id=chat.id,
            sender_id=sender_id,
            date=self.world.now(),
            service=service,
        )
        chat.messages[record.message_id] = record
        self._emit_message(chat, record)
        self.deliver(chat, "message", record)
        return record

    # ================================================================== what users do

    def user_chat(self, bot_id: int | None, chat_id: int, user_id: int) -> ChatRecord:
        """The chat a user acts in: a group they belong to, or their chat with a bot."""
        if self.user(user_id).is_bot:
            raise ControlError(400, "bots act through the Bot API, not the control API")
        if chat_id < 0:
            chat = self.group(chat_id)
            if not chat.is_active_member(user_id):
                raise ControlError(403, f"user {user_id} is not a member of chat {chat_id}")
            return chat
        if chat_id != user_id:
            raise ControlError(403, "a user can only act in their own private chat")
        bot = self.bot(bot_id)
        chat = self.open_private(bot.id, user_id)
        if chat.blocked:
            raise ControlError(409, "the user has blocked the bot; unblock it first")
        return chat

    def send_message(
        self,
        chat: ChatRecord,
        user_id: int,
        *,
        text: str | None = None,
        entities: list[Entity] | None = None,
        file: FileRecord | None = None,
        caption: str | None = None,
        reply_to: int | None = None,
    ) -> tuple[MessageRecord, dict[int, int]]:
        """A user posts text or a file; returns the message and {bot_id: update_id}."""
        if file is None:
            if text is None or not text.strip():
                raise ControlError(400, "message text is empty")
            if len(text) > MAX_TEXT:
                raise ControlError(400, "message is too long")
        elif caption is not None and len(caption) > MAX_CAPTION:
            raise ControlError(400, "message caption is too long")
        if reply_to is not None:
            self.message(chat, reply_to)
        record = MessageRecord(
            message_id=chat.new_message_id(),
            chat_id=chat.id,
            sender_id=user_id,
            date=self.world.now(),
            reply_to=reply_to,
        )
        if file is None:
            record.text = text
            record.entities = entities if entities is not None else detect_entities(text or "")
        else:
            record.file_id = file.file_id
            if caption:
                record.caption = caption
                record.caption_entities = detect_entities(caption)
        chat.messages[record.message_id] = record
        self._emit_message(chat, record)
        if after_user_message(chat, user_id):
            self._emit_keyboard(chat, user_id)
        return record, self.deliver(chat, "message", record)

    def edit_message(
        self, chat: ChatRecord, user_id: int, message_id: int, text: str
    ) -> tuple[MessageRecord, dict[int, int]]:
        """A user edits the text (or caption) of their own message."""
        record = self.message(chat, message_id)
        if record.sender_id != user_id:
            raise ControlError(403, "users can only edit their own messages")
        if record.service is not None:
            raise ControlError(400, "service messages can't be edited")
        if not text.strip():
            raise ControlError(400, "message text is empty")
        if record.file_id is None:
            if text == record.text:
                raise ControlError(409, "message is not modified")
            record.text = text
            record.entities = detect_entities(text)
        else:
            if text == record.caption:
                raise ControlError(409, "message is not modified")
            record.caption = text
            record.caption_entities = detect_entities(text)
        record.edit_date = self.world.now()
        self.world.events.emit(
            "edit", chat.id, bot_id=chat.bot_id, message=views.message(self.world, chat, record)
        )
        return record, self.deliver(chat, "edited_message", record)

    def delete_message(self, chat: ChatRecord, user_id: int, message_id: int) -> None:
        """A user deletes their own message (bots get no update for that, as in Telegram)."""
        record = self.message(chat, message_id)
        if record.sender_id != user_id:
            raise ControlError(403, "users can only delete their own messages here")
        self.mark_deleted(chat, record)

    def press_button(
        self, chat: ChatRecord, user_id: int, message_id: int, data: str, *, unchecked: bool = False
    ) -> CallbackRecord:
        """A user presses an inline button; ``data`` need not match a real button (forgery).

        ``unchecked`` lets through data no button can carry (empty, over 64 bytes), as a
        modified client or another Bot API server might deliver it.
        """
        record = self.message(chat, message_id)
        sender = self.world.users[record.sender_id]
        if not sender.is_bot or sender.id not in self.world.bots:
            raise ControlError(400, "only messages sent by a bot have inline buttons")
        bot = self.world.bots[sender.id]
        if not unchecked and (not data or len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES):
            raise ControlError(400, "callback_data must be 1-64 bytes, as on real buttons")
        query = CallbackRecord(
            id=str(secrets.randbits(63)),
            bot_id=bot.id,
            user_id=user_id,
            chat_id=chat.id,
            message_id=message_id,
            data=data,
            created=self.world.clock(),
        )
        self.world.callbacks[query.id] = query
        visible = chat.is_private or chat.is_active_member(bot.id)
        if visible and bot.accepts("callback_query"):
            payload = schema.callback_query(self.world, chat, query)
            query.update_id = bot.updates.push("callback_query", payload)
        self.world.events.emit(
            "callback",
            chat.id,
            bot_id=bot.id,
            query_id=query.id,
            user_id=user_id,
            message_id=message_id,
            data=data,
        )
        return query

    def set_blocked(
        self, bot_id: int | None, user_id: int, blocked: bool, *, notify: bool = True
    ) -> tuple[ChatRecord, int | None]:
        """A user blocks or unblocks a bot; the bot learns of it via my_chat_member.

        ``notify=False`` blocks silently, to model a user the bot has not heard about
        yet (the bot only finds out from the 403 on its next message).
        """
        bot = self.bot(bot_id)
        person = self.user(user_id)
        chat = self.open_private(bot.id, user_id)
        if chat.blocked == blocked:
            done = "already" if blocked else "not"
            raise ControlError(409, f"user {user_id} has {done} blocked the bot")
        chat.blocked = blocked
        update_id = None
        if notify and bot.accepts("my_chat_member"):
            member = MemberRecord(bot.id, "member")
            kicked = MemberRecord(bot.id, "kicked")
            old, new = (member, kicked) if blocked else (kicked, member)
            payload = schema.chat_member_updated(self.world, chat, person, bot.user, old, new)
            update_id = bot.updates.push("my_chat_member", payload)
        self.world.events.emit(
            "member",
            chat.id,
            bot_id=bot.id,
            user_id=user_id,
            old_status="member" if blocked else "kicked",
            new_status="kicked" if blocked else "member",
            change="blocked" if blocked else "unblocked",
        )
        return chat, update_id

    # ================================================================== what bots do

    def post(self, bot: BotAccount, chat: ChatRecord, record: MessageRecord) -> MessageRecord:
        """Store a message a bot sent (already validated) and tell the watchers."""
        record.message_id = chat.new_message_id()
        record.chat_id = chat.id
        record.sender_id = bot.id
        record.date = self.world.now()
        chat.messages[record.message_id] = record
        self._emit_message(chat, record)
        return record

    def set_reply_markup(
        self, chat: ChatRecord, markup: dict[str, Any], message_id: int, reply_to: int | None
    ) -> None:
        """Apply a reply keyboard / removal / force-reply a bot sent with a message."""
        replied = chat.messages.get(reply_to) if reply_to is not None else None
        record = chat.messages.get(message_id)
        targets = apply_reply_markup(
            chat,
            markup,
            message_id,
            replied.sender_id if replied else None,
            self.mentioned(record) if record is not None else set(),
        )
        for target in targets:
            self._emit_keyboard(chat, target)

    def mentioned(self, record: MessageRecord) -> set[int]:
        """Users a message mentions: by @username or by a text mention (``tg://user?id=``)."""
        text = record.text if record.text is not None else record.caption or ""
        entities = record.entities if record.text is not None else record.caption_entities
        found: set[int] = set()
        for entity in entities or []:
            if entity["type"] == "text_mention" and isinstance(entity.get("user"), dict):
                found.add(int(entity["user"]["id"]))
            elif entity["type"] == "mention":
                covered = utf16_slice(text, entity["offset"], entity["offset"] + entity["length"])
                person = self.world.user_by_username(covered)
                if person is not None:
                    found.add(person.id)
        return found

    def mark_edited(self, chat: ChatRecord, record: MessageRecord) -> None:
        record.edit_date = self.world.now()
        self.world.events.emit(
            "edit", chat.id, bot_id=chat.bot_id, message=views.message(self.world, chat, record)
        )

    def mark_deleted(self, chat: ChatRecord, record: MessageRecord) -> None:
        record.deleted = True
        if record.message_id in chat.pinned:
            chat.pinned.remove(record.message_id)
        self.world.events.emit("delete", chat.id, bot_id=chat.bot_id, message_id=record.message_id)

    def pin(self, bot: BotAccount, chat: ChatRecord, record: MessageRecord) -> None:
        if record.message_id in chat.pinned:
            chat.pinned.remove(record.message_id)
        chat.pinned.append(record.message_id)
        self.world.events.emit(
            "pin", chat.id, bot_id=chat.bot_id, message_id=record.message_id, pinned=True
        )
        service = MessageRecord(
            0, chat.id, bot.id, 0, service={"pinned_message": record.message_id}
        )
        self.post(bot, chat, service)

    def unpin(self, chat: ChatRecord, message_id: int) -> None:
        chat.pinned.remove(message_id)
        self.world.events.emit(
            "pin", chat.id, bot_id=chat.bot_id, message_id=message_id, pinned=False
        )

    # ================================================================== delivery

    def deliver(self, chat: ChatRecord, kind: str, record: MessageRecord) -> dict[int, int]:
        """Queue a message / edited_message update for every bot that may see it."""
        sender = self.world.users[record.sender_id]
        if sender.is_bot:
            return {}  # bots never see messages from bots
        delivered: dict[int, int] = {}
        for bot in self.world.bots_in(chat):
            if not bot.accepts(kind) or not self._sees(bot, chat, record):
                continue
            payload = schema.message(self.world, chat, record)
            delivered[bot.id] = bot.updates.push(kind, payload)
        return delivered

    def _sees(self, bot: BotAccount, chat: ChatRecord, record: MessageRecord) -> bool:
        """Privacy mode: in groups a non-admin bot sees only what concerns it."""
        if chat.is_private or record.service is not None:
            return True
        member = chat.member(bot.id)
        if member is not None and member.is_admin:
            return True
        if record.reply_to is not None:
            replied = chat.messages.get(record.reply_to)
            if replied is not None and replied.sender_id == bot.id:
                return True
        text = record.text if record.text is not None else record.caption or ""
        entities = record.entities if record.text is not None else record.caption_entities
        username = (bot.user.username or "").lower()
        for entity in entities:
            covered = utf16_slice(text, entity["offset"], entity["offset"] + entity["length"])
            if entity["type"] == "bot_command" and entity["offset"] == 0:
                _, _, target = covered.partition("@")
                if not target or target.lower() == username:
                    return True
            if entity["type"] == "mention" and covered[1:].lower() == username:
                return True
        return False

    def _emit_message(self, chat: ChatRecord, record: MessageRecord) -> None:
        self.world.events.emit(
            "message", chat.id, bot_id=chat.bot_id, message=views.message(self.world, chat, record)
        )

    def _emit_keyboard(self, chat: ChatRecord, user_id: int | None) -> None:
        state = chat.keyboards.get(user_id)
        self.world.events.emit(
            "keyboard",
            chat.id,
            bot_id=chat.bot_id,
            user_id=user_id,
            keyboard=keyboard_json(state if state and state.kind != "removed" else None),
        )


def _new_member(user_id: int, status: str, rights: dict[str, bool] | None = None) -> MemberRecord:
    record = MemberRecord(user_id, status)
    if status == "administrator":
        record.rights = {**DEFAULT_ADMIN_RIGHTS, **(rights or {})}
    return record
