"""A Python client of the control API so tests read like a conversation.

::

    async with SandboxDriver(base_url, token) as sb:
        alice = await sb.create_user("Alice", username="alice", language_code="en")
        await alice.send("/start")
        assert "Welcome" in (await alice.last_bot_message()).text
        await alice.press("Confirm")

Users act as Telegram's clients let them: while a ``ForceReply`` from the bot is
pending for a user (a selective one only for those it targets), their next
message replies to the prompt unless ``reply_to`` says otherwise
(``reply_to=None``: the user closed the reply bar).

Every user action that produces an update waits until the bot has dealt with it
before returning ("settling"), so tests need no sleeps. Pass ``settle`` (an async
callable taking the update id) to decide what "dealt with" means, for example
waiting until an in-process application has finished its handler. Without it
the driver waits until the bot has acknowledged the update and then made no Bot
API call for ``quiet`` seconds (0.3 by default). That is a heuristic: a handler
that computes silently for longer than ``quiet`` before replying can outrun it,
which is what the ``settle`` hook is for. ``auto_settle=False`` turns waiting
off, for tests that fetch updates themselves.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Self

import aiohttp

from sandbox.driver_types import (
    Button,
    Call,
    CallbackAnswer,
    ChatMessage,
    ChatRef,
    Group,
    Media,
    Press,
    SandboxError,
    SentMessage,
)
from sandbox.server import DEFAULT_TOKEN

Settle = Callable[[int], Awaitable[None]]
API = "/sandbox/api"
FOLLOW_FORCE_REPLY: Any = object()  # send's default: reply to a pending force-reply prompt
__all__ = [
    "Button",
    "Call",
    "CallbackAnswer",
    "ChatMessage",
    "Group",
    "Media",
    "Press",
    "SandboxDriver",
    "SandboxError",
    "SandboxUser",
    "SentMessage",
]


class SandboxDriver:
    """Async client of one sandbox server's control API, acting for one bot's users."""

    def __init__(
        self,
        base_url: str,
        token: str = DEFAULT_TOKEN,
        settle: Settle | None = None,
        *,
        auto_settle: bool = True,
        settle_timeout: float = 10.0,
        quiet: float = 0.3,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self._settle = settle
        self.auto_settle = auto_settle
        self.settle_timeout = settle_timeout
        self.quiet = quiet
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ================================================================== plumbing

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        data: aiohttp.FormData | None = None,
        wait: float = 0.0,
    ) -> Any:
        """Call a control route; ``wait`` is how long the server may hold the request."""
        if self._session is None:
            raise RuntimeError("use 'async with SandboxDriver(...)' before making requests")
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        timeout = aiohttp.ClientTimeout(total=wait + 30.0)
        async with self._session.request(
            method, self.base_url + API + path, json=json, params=query, data=data, timeout=timeout
        ) as response:
            body = await response.json(content_type=None)
            if response.status >= 400:
                reason = (body or {}).get("error", response.reason)
                raise SandboxError(response.status, str(reason))
            return body

    async def download(self, url: str) -> bytes:
        """Fetch a media URL of a message."""
        if self._session is None:
            raise RuntimeError("driver is closed")
        async with self._session.get(url) as response:
            response.raise_for_status()
            return await response.read()

    async def _after_update(self, update_id: int | None) -> None:
        if update_id is None:
            return
        if self._settle is not None:
            await self._settle(update_id)
        elif self.auto_settle:
            await self.settle(update_id)

    async def _after_updates(self, result: dict[str, Any], *, setup: bool) -> None:
        """Settle the last update a change produced.

        Setup changes (groups, members) settle only while the bot is listening, so a
        world can be built before the bot starts.
        """
        produced = result.get("update_ids") or []
        if produced and (result.get("listening") or not setup):
            await self._after_update(max(produced))

    async def settle(self, update_id: int) -> None:
        """Wait until the bot acknowledged ``update_id`` and then stayed quiet."""
        timeout = self.settle_timeout
        status = await self.request(
            "GET",
            f"/updates/{update_id}",
            params={"bot_id": self.bot_id, "wait": "done", "timeout": timeout},
            wait=timeout,
        )
        if not status["done"]:
            raise TimeoutError(
                f"waited {timeout}s for the bot to acknowledge update {update_id} "
                f"(fetched: {status['fetched']}); is the bot polling or its webhook answering?"
            )
        await self.wait_idle(what=f"after update {update_id}")

    async def wait_idle(self, quiet: float | None = None, *, what: str = "") -> None:
        """Wait until the bot made no Bot API call (getUpdates aside) for ``quiet`` seconds."""
        quiet = self.quiet if quiet is None else quiet
        timeout = self.settle_timeout
        result = await self.request(
            "GET",
            "/idle",
            params={"bot_id": self.bot_id, "quiet": quiet, "timeout": timeout},
            wait=timeout,
        )
        if not result["idle"]:
            raise TimeoutError(
                f"waited {timeout}s for the bot to be quiet for {quiet}s {what}".rstrip()
                + "; it kept calling the Bot API"
            )

    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the condition, not for one call
        *,
        what: str | None = None,
    ) -> Any:
        """Re-check ``predicate`` (sync or async) whenever something happens; return its value.

        Waits on the event stream between checks, so there are no fixed sleeps; a
        condition on something outside the sandbox is re-checked at least every second.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        after = (await self.request("GET", "/events", params={"after": 2**62}))["last_seq"]
        while True:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                described = what or getattr(predicate, "__name__", repr(predicate))
                raise TimeoutError(f"{described} did not become true within {timeout}s")
            step = min(remaining, 1.0)
            found = await self.request(
                "GET",
                "/events",
                params={"after": after, "timeout": step, "limit": 1},
                wait=step,
            )
            after = found["events"][-1]["seq"] if found["events"] else after

    # ================================================================== world

    async def state(self) -> dict[str, Any]:
        return dict(await self.request("GET", "/state"))

    async def reset(self) -> None:
        await self.request("POST", "/reset")

    async def create_user(
        self,
        first_name: str,
        last_name: str | None = None,
        *,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        user_id: int | None = None,
    ) -> SandboxUser:
        body = {
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
            "id": user_id,
        }
        created = await self.request("POST", "/users", json=body)
        return SandboxUser(self, created)

    async def rename_user(self, user_id: int, username: str | None) -> SandboxUser:
        """The person changes (or, with None, removes) their @username."""
        body = {"username": username}
        return SandboxUser(self, await self.request("PATCH", f"/users/{user_id}", json=body))

    async def user(self, user_id: int) -> SandboxUser:
        """A handle for an existing user."""
        return SandboxUser(self, await self.request("GET", f"/users/{user_id}"))

    async def create_group(
        self,
        title: str,
        members: Sequence[SandboxUser | int] = (),
        *,
        admins: Sequence[SandboxUser | int] = (),
        creator: SandboxUser | int | None = None,
        chat_id: int | None = None,
        username: str | None = None,
        bot_status: str = "administrator",
    ) -> Group:
        """A supergroup with the bot in it (as administrator unless told otherwise)."""
        body = {
            "title": title,
            "id": chat_id,
            "username": username,
            "members": [_uid(m) for m in members],
            "admins": [_uid(a) for a in admins],
            "creator": _uid(creator) if creator is not None else None,
            "bot_ids": [self.bot_id],
            "bot_status": bot_status,
            "bot_id": self.bot_id,
        }
        created = await self.request("POST", "/groups", json=body)
        await self._after_updates(created, setup=True)
        return Group(created["id"], created["title"], created.get("username"))

    async def add_member(
        self, group: Group | int, user: SandboxUser | int, status: str = "member"
    ) -> None:
        body = {"user_id": _uid(user), "status": status, "bot_id": self.bot_id}
        result = await self.request("POST", f"/chats/{_gid(group)}/members", json=body)
        await self._after_updates(result, setup=True)

    async def set_member_status(
        self, group: Group | int, user: SandboxUser | int, status: str
    ) -> None:
        body = {"status": status, "bot_id": self.bot_id}
        result = await self.request(
            "PATCH", f"/chats/{_gid(group)}/members/{_uid(user)}", json=body
        )
        await self._after_updates(result, setup=True)

    async def remove_member(
        self, group: Group | int, user: SandboxUser | int, *, ban: bool = False
    ) -> None:
        result = await self.request(
            "DELETE",
            f"/chats/{_gid(group)}/members/{_uid(user)}",
            params={"ban": ban, "bot_id": self.bot_id},
        )
        await self._after_updates(result, setup=True)

    async def chat(self, chat_id: int) -> dict[str, Any]:
        return dict(await self.request("GET", f"/chats/{chat_id}", params={"bot_id": self.bot_id}))

    async def messages(self, chat_id: int) -> list[ChatMessage]:
        """Every message of a chat in order, deleted ones included (flagged)."""
        views = await self.request(
            "GET", f"/chats/{chat_id}/messages", params={"bot_id": self.bot_id}
        )
        return [ChatMessage.from_view(v, self.base_url) for v in views]

    # ================================================================== diagnostics

    async def calls(
        self, method: str | None = None, *, after: int = 0, limit: int = 10000
    ) -> list[Call]:
        """Bot API calls the bot made, oldest first."""
        found = await self.request(
            "GET",
            "/calls",
            params={"method": method, "after": after, "limit": limit, "bot_id": self.bot_id},
        )
        return [
            Call(
                c["seq"],
                c["method"],
                c["params"],
                c["status"],
                c["ok"],
                c["description"],
                c["time"],
                c.get("fault"),
            )
            for c in found["calls"]
        ]

    async def stats(self) -> dict[str, Any]:
        return dict(await self.request("GET", "/stats"))

    async def inject_update(self, fields: dict[str, Any], *, settle: bool = True) -> int:
        """Queue a raw update (anything, even what no library can parse); return its id."""
        result = await self.request(
            "POST", "/updates", json={"update": fields, "bot_id": self.bot_id}
        )
        if settle:
            await self._after_update(result["update_id"])
        return int(result["update_id"])

    async def update_status(self, update_id: int) -> dict[str, Any]:
        return dict(
            await self.request("GET", f"/updates/{update_id}", params={"bot_id": self.bot_id})
        )

    async def commands(self) -> list[dict[str, Any]]:
        """Every command list the bot stored, per scope and language."""
        return list(await self.request("GET", "/commands", params={"bot_id": self.bot_id}))

    async def events(
        self, after: int = 0, *, wait: float = 0.0, types: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Events after ``after``; waits up to ``wait`` seconds for the first one."""
        found = await self.request(
            "GET",
            "/events",
            params={"after": after, "timeout": wait, "types": ",".join(types) or None},
            wait=wait,
        )
        return list(found["events"])

    async def limits(self) -> dict[str, Any]:
        return dict(await self.request("GET", "/limits"))

    async def set_limits(
        self,
        enforce: bool | None = None,
        *,
        global_rate: float | None = None,
        per_chat_rate: float | None = None,
        per_chat_burst: int | None = None,
        group_per_minute: int | None = None,
    ) -> dict[str, Any]:
        changes = {
            "enforce": enforce,
            "global_rate": global_rate,
            "per_chat_rate": per_chat_rate,
            "per_chat_burst": per_chat_burst,
            "group_per_minute": group_per_minute,
        }
        body = {k: v for k, v in changes.items() if v is not None}
        return dict(await self.request("PUT", "/limits", json=body))

    async def fail_next(
        self,
        method: str | None = None,
        status: int = 500,
        count: int | None = 1,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        rate: float = 1.0,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """Make the next ``count`` calls of ``method`` (any but getUpdates if None) fail.

        ``rate`` below 1: only that share of the matching calls, drawn from ``seed``.
        """
        rule = {
            "kind": "fail",
            "method": method,
            "status": status,
            "count": count,
            "retry_after": retry_after,
            "description": description,
            "rate": rate,
            "seed": seed,
        }
        return dict(await self.request("POST", "/faults", json=rule))

    async def delay(
        self,
        method: str | None = None,
        seconds: float = 1.0,
        count: int | None = 1,
        *,
        phase: str = "before",
        rate: float = 1.0,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """Answer the next ``count`` calls late (``phase="after"``: done, but answered late)."""
        rule = {
            "kind": "delay",
            "method": method,
            "seconds": seconds,
            "count": count,
            "phase": phase,
            "rate": rate,
            "seed": seed,
        }
        return dict(await self.request("POST", "/faults", json=rule))

    async def drop(
        self,
        method: str | None = None,
        count: int | None = 1,
        *,
        phase: str = "before",
        rate: float = 1.0,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """Hang up on the next ``count`` calls (``phase="after"``: done, the answer lost)."""
        rule = {
            "kind": "drop",
            "method": method,
            "count": count,
            "phase": phase,
            "rate": rate,
            "seed": seed,
        }
        return dict(await self.request("POST", "/faults", json=rule))

    async def set_faults(self, *rules: dict[str, Any]) -> list[dict[str, Any]]:
        """Replace all fault rules (each a /faults POST body)."""
        await self.clear_faults()
        return [dict(await self.request("POST", "/faults", json=rule)) for rule in rules]

    async def faults(self) -> list[dict[str, Any]]:
        return list(await self.request("GET", "/faults"))

    async def clear_faults(self) -> None:
        await self.request("DELETE", "/faults")

    async def balance_webhook(
        self,
        urls: list[str],
        *,
        policy: str = "alternate",
        seed: int | None = None,
        concurrency: int = 1,
    ) -> dict[str, Any]:
        """Deliver the webhook's updates to several instances, as a load balancer would.

        ``policy`` "alternate" (in turn) or "random" (drawn from ``seed``), each
        attempt to the next; ``concurrency`` updates at once, never two of one chat.
        """
        body = {"urls": urls, "policy": policy, "seed": seed, "concurrency": concurrency}
        return dict(await self.request("PUT", "/webhook/targets", json=body))

    async def webhook_targets(self) -> dict[str, Any] | None:
        """The pool set by `balance_webhook` with attempts and deliveries per URL, or None."""
        found = await self.request("GET", "/webhook/targets")
        return dict(found) if found is not None else None

    async def unbalance_webhook(self) -> None:
        await self.request("DELETE", "/webhook/targets")


class SandboxUser:
    """A person in the sandbox; every method acts as them."""

    def __init__(self, driver: SandboxDriver, data: dict[str, Any]) -> None:
        self.driver = driver
        self.id: int = data["id"]
        self.first_name: str = data["first_name"]
        self.last_name: str | None = data.get("last_name")
        self.username: str | None = data.get("username")
        self.language_code: str | None = data.get("language_code")

    def __repr__(self) -> str:
        return f"SandboxUser(id={self.id}, first_name={self.first_name!r})"

    def _chat_id(self, chat: ChatRef) -> int:
        if chat is None:
            return self.id
        return chat.id if isinstance(chat, Group) else chat

    async def _sent(self, result: dict[str, Any]) -> SentMessage:
        message = ChatMessage.from_view(result["message"], self.driver.base_url)
        await self.driver._after_update(result["update_id"])
        return SentMessage(message.message_id, result["update_id"], message.chat_id, message)

    # ------------------------------------------------------------------ writing

    async def _reply_target(self, chat: ChatRef, reply_to: int | object | None) -> int | None:
        """The message a send replies to: the one given, else a pending force-reply prompt.

        Telegram's clients open a reply to the bot's prompt when a ``ForceReply``
        reaches this user (``selective`` ones only the users they target), so a
        plain send does the same; ``reply_to=None`` sends without a reply.
        """
        if reply_to is not FOLLOW_FORCE_REPLY:
            return reply_to if isinstance(reply_to, int) else None
        state = await self.keyboard_state(chat)
        if state is not None and state["kind"] == "force_reply":
            return int(state["message_id"])
        return None

    async def send(
        self, text: str, chat: ChatRef = None, *, reply_to: int | object | None = FOLLOW_FORCE_REPLY
    ) -> SentMessage:
        """Send text (``chat=None``: the private chat with the bot), as a client would."""
        body = {
            "user_id": self.id,
            "text": text,
            "reply_to_message_id": await self._reply_target(chat, reply_to),
            "bot_id": self.driver.bot_id,
        }
        result = await self.driver.request(
            "POST", f"/chats/{self._chat_id(chat)}/messages", json=body
        )
        return await self._sent(result)

    async def _send_file(
        self,
        kind: str,
        data: bytes,
        filename: str,
        chat: ChatRef,
        caption: str | None,
        reply_to: int | object | None,
        content_type: str | None = None,
        duration: int | None = None,
    ) -> SentMessage:
        reply_to = await self._reply_target(chat, reply_to)
        form = aiohttp.FormData()
        form.add_field("user_id", str(self.id))
        form.add_field("bot_id", str(self.driver.bot_id))
        form.add_field("kind", kind)
        if caption is not None:
            form.add_field("caption", caption)
        if reply_to is not None:
            form.add_field("reply_to_message_id", str(reply_to))
        if duration is not None:
            form.add_field("duration", str(duration))
        form.add_field(
            "file",
            data,
            filename=filename,
            content_type=content_type or "application/octet-stream",
        )
        result = await self.driver.request("POST", f"/chats/{self._chat_id(chat)}/files", data=form)
        return await self._sent(result)

    async def send_photo(
        self,
        data: bytes,
        caption: str | None = None,
        chat: ChatRef = None,
        *,
        filename: str = "photo.jpg",
        reply_to: int | object | None = FOLLOW_FORCE_REPLY,
    ) -> SentMessage:
        return await self._send_file("photo", data, filename, chat, caption, reply_to)

    async def send_document(
        self,
        data: bytes,
        filename: str,
        caption: str | None = None,
        chat: ChatRef = None,
        *,
        mime_type: str | None = None,
        reply_to: int | object | None = FOLLOW_FORCE_REPLY,
    ) -> SentMessage:
        return await self._send_file(
            "document", data, filename, chat, caption, reply_to, content_type=mime_type
        )

    async def send_voice(
        self,
        data: bytes,
        caption: str | None = None,
        chat: ChatRef = None,
        *,
        duration: int | None = None,
        reply_to: int | object | None = FOLLOW_FORCE_REPLY,
    ) -> SentMessage:
        return await self._send_file(
            "voice", data, "voice.ogg", chat, caption, reply_to, duration=duration
        )

    async def edit(self, message_id: int, text: str, chat: ChatRef = None) -> SentMessage:
        """Edit the text (or caption) of one of this user's messages."""
        body = {"user_id": self.id, "text": text, "bot_id": self.driver.bot_id}
        result = await self.driver.request(
            "PATCH", f"/chats/{self._chat_id(chat)}/messages/{message_id}", json=body
        )
        return await self._sent(result)

    async def delete(self, message_id: int, chat: ChatRef = None) -> None:
        await self.driver.request(
            "DELETE",
            f"/chats/{self._chat_id(chat)}/messages/{message_id}",
            params={"user_id": self.id, "bot_id": self.driver.bot_id},
        )

    # ------------------------------------------------------------------ buttons

    async def press(self, button_text: str, chat: ChatRef = None) -> Press:
        """Press the inline button with this text on the newest bot message that has one."""
        seen: list[str] = []
        for message in reversed(await self.bot_messages(chat)):
            button = message.button(button_text)
            if button is not None:
                raw = next(b for row in message.keyboard for b in row if b["text"] == button_text)
                if "callback_data" not in raw:
                    raise ValueError(f"button {button_text!r} opens {button.value!r}; not a press")
                return await self.press_data(message.message_id, raw["callback_data"], chat)
            seen.extend(b.text for row in message.buttons for b in row)
        raise LookupError(f"no bot message has a button {button_text!r}; buttons seen: {seen}")

    async def press_data(
        self, message_id: int, data: str, chat: ChatRef = None, *, unchecked: bool = False
    ) -> Press:
        """Press a button with any callback data, real or forged, on a bot message.

        ``unchecked``: even data no button can carry (empty, over 64 bytes).
        """
        chat_id = self._chat_id(chat)
        body = {
            "user_id": self.id,
            "callback_data": data,
            "bot_id": self.driver.bot_id,
            "unchecked": unchecked,
        }
        result = await self.driver.request(
            "POST", f"/chats/{chat_id}/messages/{message_id}/press", json=body
        )
        await self.driver._after_update(result["update_id"])
        return Press(result["callback_query_id"], result["update_id"], chat_id, message_id)

    async def callback_answers(self) -> list[CallbackAnswer]:
        """The bot's answers to this user's presses, oldest first (unanswered ones left out)."""
        presses = await self.driver.request(
            "GET", f"/users/{self.id}/callbacks", params={"bot_id": self.driver.bot_id}
        )
        return [
            CallbackAnswer(
                p["id"], p["message_id"], p["data"], True, p["text"], p["show_alert"], p["url"]
            )
            for p in presses
            if p["answered"]
        ]

    # ------------------------------------------------------------------ reading

    async def messages(self, chat: ChatRef = None) -> list[ChatMessage]:
        """Messages of the chat as the user sees them now (deleted ones gone)."""
        found = await self.driver.messages(self._chat_id(chat))
        return [m for m in found if not m.deleted]

    async def bot_messages(self, chat: ChatRef = None) -> list[ChatMessage]:
        """The bot's messages with content (service messages such as pins left out)."""
        return [
            m
            for m in await self.messages(chat)
            if m.from_id == self.driver.bot_id and m.service is None
        ]

    async def last_bot_message(self, chat: ChatRef = None) -> ChatMessage:
        found = await self.bot_messages(chat)
        if not found:
            raise LookupError(f"the bot has sent no message in chat {self._chat_id(chat)}")
        return found[-1]

    async def keyboard_state(self, chat: ChatRef = None) -> dict[str, Any] | None:
        """The full reply keyboard / force-reply state, or None."""
        result = await self.driver.request(
            "GET",
            f"/chats/{self._chat_id(chat)}/keyboard",
            params={"user_id": self.id, "bot_id": self.driver.bot_id},
        )
        state = result["keyboard"]
        return dict(state) if state is not None else None

    async def reply_keyboard(self, chat: ChatRef = None) -> list[list[str]] | None:
        """Button texts of the reply keyboard this user has (None: no keyboard)."""
        state = await self.keyboard_state(chat)
        if state is None or state["kind"] != "keyboard":
            return None
        return [list(row) for row in state["rows"]]

    async def chat_actions(self, chat: ChatRef = None) -> list[str]:
        """Chat actions (e.g. "typing") the bot sent here in the last five seconds."""
        found = await self.driver.request(
            "GET",
            f"/chats/{self._chat_id(chat)}/actions",
            params={"bot_id": self.driver.bot_id},
        )
        return [a["action"] for a in found]

    async def commands(self, chat: ChatRef = None) -> list[tuple[str, str]]:
        """The command menu this user sees in the chat: (command, description) pairs."""
        result = await self.driver.request(
            "GET",
            f"/chats/{self._chat_id(chat)}/commands",
            params={"user_id": self.id, "bot_id": self.driver.bot_id},
        )
        return [(c["command"], c["description"]) for c in result["commands"]]

    # ------------------------------------------------------------------ membership

    async def block_bot(self, *, notify: bool = True) -> None:
        result = await self.driver.request(
            "POST",
            f"/users/{self.id}/block",
            json={"bot_id": self.driver.bot_id, "notify": notify},
        )
        await self.driver._after_update(result["update_id"])

    async def unblock_bot(self) -> None:
        result = await self.driver.request(
            "POST", f"/users/{self.id}/unblock", json={"bot_id": self.driver.bot_id}
        )
        await self.driver._after_update(result["update_id"])

    async def join(self, invite_link: str) -> Group:
        """Join a group by an invite link the bot created."""
        body = {"user_id": self.id, "invite_link": invite_link, "bot_id": self.driver.bot_id}
        result = await self.driver.request("POST", "/join", json=body)
        await self.driver._after_updates(result, setup=False)
        chat = result["chat"]
        return Group(chat["id"], chat["title"], chat.get("username"))

    async def leave(self, group: Group | int) -> None:
        """Leave a group."""
        result = await self.driver.request(
            "DELETE",
            f"/chats/{_gid(group)}/members/{self.id}",
            params={"actor_id": self.id, "bot_id": self.driver.bot_id},
        )
        await self.driver._after_updates(result, setup=False)


def _uid(user: SandboxUser | int) -> int:
    return user.id if isinstance(user, SandboxUser) else user


def _gid(group: Group | int) -> int:
    return group.id if isinstance(group, Group) else group


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
