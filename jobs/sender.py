"""How the worker talks to Telegram: one request per outbox row, through a bot of its own.

`BotSender` wraps a `telegram.Bot` that has no rate limiter (the worker paces
itself, `jobs.pacing`) and its own aiohttp connection pool (`jobs.transport`),
so broadcasts never queue behind — or in front of — members' replies.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from telegram import Bot, InputFile
from telegram.error import BadRequest, TelegramError

from jobs.transport import AiohttpRequest
from storage.outbox import PayloadError, Upload

if TYPE_CHECKING:
    from core.settings import Settings
    from jobs.config import DeliveryConfig

log = logging.getLogger(__name__)


class Sender(Protocol):
    """Sends one Bot API request; returns Telegram's message id. Raises telegram errors."""

    async def start(self) -> None: ...

    async def send(self, method: str, params: dict[str, Any]) -> int | None: ...

    async def close(self) -> None: ...


_TEXT_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "editMessageText"})
_EDIT_METHODS = frozenset({"editMessageText", "editMessageReplyMarkup"})
# What Telegram answers an edit that is already done (the message reads so) or can
# no longer be done (the member deleted the message): either way nothing is left to do.
_EDIT_DONE = ("message is not modified", "message to edit not found")


def edit_done(error: BadRequest) -> bool:
    """Whether an edit's refusal means the edit needs no retry: it is a success."""
    text = error.message.lower()
    return any(phrase in text for phrase in _EDIT_DONE)


class BotSender:
    """Sends through a `telegram.Bot` of the worker's own (see the module docstring)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    @classmethod
    def for_api(cls, token: str, api_base_url: str, config: DeliveryConfig) -> BotSender:
        """A bot for ``api_base_url`` (e.g. https://api.telegram.org) with its own pool."""
        request = AiohttpRequest(
            connections=config.concurrency,
            read_timeout=config.request_timeout,
            connect_timeout=min(5.0, config.request_timeout),
            pool_timeout=config.request_timeout,
        )
        base = api_base_url.rstrip("/")
        bot = Bot(
            token,
            base_url=f"{base}/bot{{token}}",
            base_file_url=f"{base}/file/bot{{token}}",
            request=request,
            get_updates_request=AiohttpRequest(connections=1),
        )
        return cls(bot)

    @classmethod
    def for_settings(cls, settings: Settings, config: DeliveryConfig) -> BotSender:
        return cls.for_api(settings.telegram_bot_token, settings.telegram_api_base_url, config)

    async def start(self) -> None:
        try:
            await self.bot.initialize()
        except TelegramError as error:  # sending works without getMe; rows will say why not
            log.warning("delivery bot could not introduce itself: %s", type(error).__name__)

    async def send(self, method: str, params: dict[str, Any]) -> int | None:
        # A file the outbox kept (`storage.outbox.Upload`) goes as a multipart upload.
        rest: dict[str, Any] = {
            name: InputFile(value.content, filename=value.name)
            if isinstance(value, Upload)
            else value
            for name, value in params.items()
        }
        chat_id = rest.pop("chat_id")
        if method in _TEXT_METHODS:
            # Same default as the Application's Defaults; an explicit None means plain text.
            rest.setdefault("parse_mode", "HTML")
        if method == "sendMessage":
            sent: Any = await self.bot.send_message(chat_id, rest.pop("text"), api_kwargs=rest)
        elif method == "sendPhoto":
            sent = await self.bot.send_photo(chat_id, rest.pop("photo"), api_kwargs=rest)
        elif method == "sendDocument":
            sent = await self.bot.send_document(chat_id, rest.pop("document"), api_kwargs=rest)
        elif method in _EDIT_METHODS:
            return await self._edit(method, chat_id, rest)
        elif method == "copyMessage":
            sent = await self.bot.copy_message(
                chat_id, rest.pop("from_chat_id"), rest.pop("message_id"), api_kwargs=rest
            )
        else:
            raise PayloadError(f"unsupported method {method!r}")
        return getattr(sent, "message_id", None)

    async def _edit(self, method: str, chat_id: Any, rest: dict[str, Any]) -> int | None:
        message_id = rest.pop("message_id")
        try:
            if method == "editMessageText":
                await self.bot.edit_message_text(
                    rest.pop("text"), chat_id=chat_id, message_id=message_id, api_kwargs=rest
                )
            else:
                await self.bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=message_id, api_kwargs=rest
                )
        except BadRequest as error:
            if not edit_done(error):
                raise
        return int(message_id)

    async def close(self) -> None:
        await self.bot.shutdown()
