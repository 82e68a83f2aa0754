"""What the driver hands back: groups, messages, buttons, presses, answers and calls.

Plain frozen values built from control-API JSON, so tests compare and print them
easily; none of them talks to the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple


class SandboxError(Exception):
    """The control API refused a request (bad input, unknown user or chat, ...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Group:
    """A group created through the driver; pass it as ``chat=`` to user actions."""

    id: int
    title: str
    username: str | None = None


ChatRef = Group | int | None


class Button(NamedTuple):
    """An inline button as (text, callback data or URL)."""

    text: str
    value: str


@dataclass(frozen=True)
class Media:
    """A file attached to a message; ``url`` downloads it from the sandbox."""

    kind: str
    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    size: int
    width: int | None
    height: int | None
    duration: int | None
    url: str


@dataclass(frozen=True)
class ChatMessage:
    """A message as the chat shows it now (edits applied)."""

    message_id: int
    chat_id: int
    from_id: int
    from_bot: bool
    sender_name: str
    date: int
    text: str | None
    html: str
    caption: str | None
    caption_html: str
    media: Media | None
    reply_to: int | None
    buttons: list[list[Button]]
    keyboard: list[list[dict[str, Any]]]
    edited: bool
    deleted: bool
    service: dict[str, Any] | None
    forwarded: bool
    raw: dict[str, Any]

    @classmethod
    def from_view(cls, view: dict[str, Any], base_url: str) -> ChatMessage:
        keyboard = view.get("buttons") or []
        buttons = [
            [Button(b["text"], b.get("callback_data") or b.get("url") or "") for b in row]
            for row in keyboard
        ]
        media = view.get("media")
        return cls(
            message_id=view["id"],
            chat_id=view["chat_id"],
            from_id=view["from"]["id"],
            from_bot=view["from"]["is_bot"],
            sender_name=view["from"]["name"],
            date=view["date"],
            text=view.get("text"),
            html=view.get("html") or "",
            caption=view.get("caption"),
            caption_html=view.get("caption_html") or "",
            media=Media(**{**media, "url": base_url + media["url"]}) if media else None,
            reply_to=view.get("reply_to"),
            buttons=buttons,
            keyboard=keyboard,
            edited=bool(view.get("edited")),
            deleted=bool(view.get("deleted")),
            service=view.get("service"),
            forwarded=view.get("forward_origin") is not None,
            raw=view,
        )

    @property
    def content(self) -> str:
        """The text, or the caption of a media message ("" if neither)."""
        return self.text if self.text is not None else self.caption or ""

    def button(self, text: str) -> Button | None:
        for row in self.buttons:
            for candidate in row:
                if candidate.text == text:
                    return candidate
        return None


@dataclass(frozen=True)
class SentMessage:
    """What a user action created: the message and the update the bot got for it."""

    message_id: int
    update_id: int | None
    chat_id: int
    message: ChatMessage


@dataclass(frozen=True)
class Press:
    """A button press: the callback query id and its update."""

    callback_query_id: str
    update_id: int | None
    chat_id: int
    message_id: int


@dataclass(frozen=True)
class CallbackAnswer:
    """A button press and what the bot answered (a toast, or an alert if ``show_alert``)."""

    query_id: str
    message_id: int
    data: str
    answered: bool
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(frozen=True)
class Call:
    """One Bot API call the bot made."""

    seq: int
    method: str
    params: dict[str, Any]
    status: int
    ok: bool
    description: str | None
    time: float
    fault: str | None = None  # the injected fault rule that disturbed it ("fail#3", "drop#4")
