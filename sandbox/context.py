"""What a Bot API method implementation gets to work with, and the checks they share.

Every method receives one :class:`ApiContext` (the calling bot, its parameters,
the world and the server's services). The helpers below hold the rules several
methods share: which chats a bot may see or write to, how text and captions are
parsed and trimmed, how a reply target is resolved.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sandbox import schema
from sandbox.actions import Actions
from sandbox.entities import Entity, clean_entities, detect_entities, sort_entities, trim
from sandbox.errors import bad_request, forbidden
from sandbox.html_text import HtmlParseError, parse_html
from sandbox.limits import RateLimiter
from sandbox.params import Params
from sandbox.state import BotAccount, ChatRecord, MessageRecord, World

# A link that mentions a user by id (Telegram turns it into a ``text_mention``).
_USER_LINK = re.compile(r"tg://user\?id=(\d{1,19})", re.IGNORECASE)

# Entities inside which Telegram does not look for URLs, mentions or commands.
_OPAQUE = frozenset({"code", "pre", "text_link", "text_mention", "custom_emoji"})


class WebhookControl(Protocol):
    """The server part that delivers updates to webhooks."""

    def webhook_changed(self, bot: BotAccount) -> None:
        """Start, restart or stop delivery after the bot's webhook setting changed."""


UrlFetcher = Callable[[str], Awaitable[tuple[bytes, str | None, str | None]]]


@dataclass
class ApiContext:
    """One Bot API request in progress."""

    world: World
    actions: Actions
    limiter: RateLimiter
    webhooks: WebhookControl
    fetch_url: UrlFetcher
    bot: BotAccount
    params: Params
    method: str

    # ------------------------------------------------------------------ chats

    def _chat_id(self, name: str) -> int:
        raw = self.params.chat_id(name)
        if isinstance(raw, int):
            return raw
        group = self.world.group_by_username(raw)
        if group is None:
            raise bad_request("chat not found")
        return group.id

    def _check_group_access(self, chat: ChatRecord) -> None:
        member = chat.member(self.bot.id)
        if member is not None and member.status == "kicked":
            raise forbidden("bot was kicked from the supergroup chat")
        if member is None or not member.active:
            raise forbidden("bot is not a member of the supergroup chat")

    def chat(self, name: str = "chat_id") -> ChatRecord:
        """A chat the bot can look at (getChat, getChatMember, edits, ...)."""
        chat_id = self._chat_id(name)
        chat = self.world.chat(self.bot.id, chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if not chat.is_private:
            self._check_group_access(chat)
        return chat

    def target_chat(self, name: str = "chat_id") -> ChatRecord:
        """A chat the bot may post to, with Telegram's 403s for the ones it may not."""
        chat_id = self._chat_id(name)
        chat = self.world.chat(self.bot.id, chat_id)
        if chat_id > 0:
            person = self.world.users.get(chat_id)
            if chat is None:
                if person is not None and person.is_bot:
                    raise forbidden("bot can't send messages to bots")
                if person is not None:
                    raise forbidden("bot can't initiate conversation with a user")
                raise bad_request("chat not found")
            if chat.blocked:
                raise forbidden("bot was blocked by the user")
            return chat
        if chat is None:
            raise bad_request("chat not found")
        self._check_group_access(chat)
        return chat

    def require_group(self, chat: ChatRecord) -> None:
        if chat.is_private:
            raise bad_request("method is available for supergroup and channel chats only")

    def require_right(self, chat: ChatRecord, right: str, detail: str) -> None:
        """The bot must hold an administrator right in the group."""
        member = chat.member(self.bot.id)
        if member is None or not member.can(right):
            raise bad_request(detail)

    # ------------------------------------------------------------------ text

    def formatted(
        self,
        text_field: str,
        entities_field: str,
        *,
        limit: int,
        too_long: str,
        empty: str | None,
    ) -> tuple[str, list[Entity]]:
        """Parse a text or caption with its parse_mode/entities, as Telegram does.

        Explicit entities win over ``parse_mode``; detected URLs, mentions, hashtags
        and commands are added where no formatting covers them; surrounding
        whitespace is trimmed; then emptiness and length are checked.
        """
        text = self.params.get_str(text_field) or ""
        explicit = self.params.get_json(entities_field)
        parse_mode = (self.params.get_str("parse_mode") or "").strip().lower()
        if explicit is not None:
            if not isinstance(explicit, list):
                raise bad_request(f"can't parse {entities_field} JSON object")
            entities = clean_entities(text, explicit)
        elif parse_mode == "html":
            try:
                text, entities = parse_html(text)
            except HtmlParseError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        elif parse_mode in ("markdown", "markdownv2"):
            raise bad_request("can't parse entities: the sandbox implements parse_mode HTML only")
        elif parse_mode:
            raise bad_request("unsupported parse_mode")
        else:
            entities = []
        entities = self._user_mentions(_with_detected(text, entities))
        text, entities = trim(text, entities)
        if empty is not None and not text:
            raise bad_request(empty)
        if len(text) > limit:
            raise bad_request(too_long)
        return text, entities

    def _user_mentions(self, entities: list[Entity]) -> list[Entity]:
        """Links to ``tg://user?id=`` become text mentions carrying the User, as Telegram does.

        A link to someone unknown stays a link; a ``text_mention`` passed in
        ``entities`` gets the full User of the id it names, or is dropped.
        """
        result: list[Entity] = []
        for entity in entities:
            user_id: int | None = None
            if entity["type"] == "text_link":
                match = _USER_LINK.fullmatch(str(entity.get("url", "")).strip())
                user_id = int(match.group(1)) if match else None
            elif entity["type"] == "text_mention":
                raw = entity.get("user")
                user_id = raw.get("id") if isinstance(raw, dict) else None
                if not isinstance(user_id, int):
                    continue
            person = self.world.users.get(user_id) if user_id is not None else None
            if person is None:
                if entity["type"] != "text_mention":
                    result.append(entity)
                continue
            mention = {k: v for k, v in entity.items() if k != "url"}
            result.append({**mention, "type": "text_mention", "user": schema.user(person)})
        return result

    # ------------------------------------------------------------------ replies

    def reply_target(self, chat: ChatRecord) -> int | None:
        """The message being replied to (reply_parameters or the old reply_to_message_id)."""
        parameters = self.params.get_json("reply_parameters")
        if parameters is not None:
            if not isinstance(parameters, dict):
                raise bad_request("can't parse reply_parameters JSON object")
            message_id = parameters.get("message_id")
            allow = bool(parameters.get("allow_sending_without_reply", False))
            other = parameters.get("chat_id")
            if other is not None and other != chat.id:
                raise bad_request("replies to messages in other chats are not supported")
        else:
            message_id = self.params.get_int("reply_to_message_id")
            allow = self.params.get_bool("allow_sending_without_reply")
        if message_id is None:
            return None
        if not isinstance(message_id, int) or chat.live_message(message_id) is None:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return message_id

    def own_message(self, chat: ChatRecord, missing: str) -> MessageRecord:
        """A message of this bot in ``chat`` named by ``message_id``, for editing."""
        if self.params.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        message_id = self.params.get_int("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        record = chat.live_message(message_id)
        if record is None:
            raise bad_request(missing)
        if record.sender_id != self.bot.id or record.service is not None:
            raise bad_request("message can't be edited")
        return record


def _with_detected(text: str, entities: list[Entity]) -> list[Entity]:
    """Add auto-detected entities that do not overlap formatting Telegram treats as opaque."""
    result = list(entities)
    for found in detect_entities(text):
        start, end = found["offset"], found["offset"] + found["length"]
        clash = any(
            e["offset"] < end and start < e["offset"] + e["length"]
            for e in entities
            if e["type"] in _OPAQUE or e["type"] == found["type"]
        )
        if not clash:
            result.append(found)
    return sort_entities(result)


Handler = Callable[[ApiContext], Awaitable[Any]]
