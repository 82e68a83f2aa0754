"""Commit, then talk to Telegram: the rule, kept by the bot's request object.

A handler runs in one unit of work (`handlers.scope`, `storage.db.unit_of_work`),
and handlers reply, answer and edit in the middle of it. If the transaction
stayed open while Telegram answered (150 ms is ordinary, seconds are not rare),
every update in flight would hold a pooled connection — and a row lock, for
the sign-up that took one — for the whole round trip: a rush of 240 taps then
exhausts a pool of 20 and members get "the database is busy".

So the last step before any Bot API request leaves the process commits what
the handler did so far and returns the connection to the pool
(:func:`storage.db.commit_before_io`). It holds by construction: no handler
needs to remember it. The next statement of the handler simply begins a new,
short transaction. The consequence handlers must respect: work committed
before a reply stays committed if the handler fails afterwards.

The rate limiter commits too, before it may wait for a free slot. It also
paces each private chat (:class:`ChatPacer`), which PTB's limiter does not:
Telegram takes a short burst into one chat, then about one message a second,
and answers 429 past that — and PTB's limiter then holds *every* chat's
replies for the whole ``retry_after``. So one member tapping quickly would
stall everyone; paced, only their own replies wait. Each message a reply
posts also takes its slot of the whole bot's rate from the budget the
delivery workers book in (`jobs.pacing.ReplySlots`: in process on SQLite, in
the database on PostgreSQL), so replies and broadcasts, of every instance,
stay under ``TELEGRAM_RATE`` together; and each message or edit in a chat
takes its place in that chat's limit there, so a cadre group's 20 a minute
and a member's one a second hold across instances, deliveries counted. And the
request checks the rule it keeps: a request made while the task still holds a
connection (a job that calls the bot inside its own ``transaction(...)``) is
logged as an error by :func:`report_if_holding`; the e2e tests fail on that line.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import httpx
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter
from telegram.request import BaseRequest, RequestData

from jobs.outcomes import retry_after_seconds
from jobs.pacing import ReplySlots
from jobs.transport import AiohttpRequest
from storage.db import commit_before_io

if TYPE_CHECKING:
    from telegram._utils.types import JSONDict, ODVInput


class CommitFirstRequest(AiohttpRequest):
    """The bot's request object: commits the handler's transaction before sending.

    Over aiohttp (`jobs.transport`), as the delivery worker's, not PTB's httpx:
    httpx cost about 1 ms of CPU a request, a third of what a reply to `/help`
    costs the bot in all (`benchmarks/updates.py`).

    ``on_rate_limited`` is told of each answer 429 (`bot.app` counts them for
    /metrics): PTB's rate limiter retries those inside the request, so nothing
    above it would see them.
    """

    __slots__ = ("on_rate_limited",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_rate_limited: Callable[[], None] | None = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        await commit_before_io()  # the base reports a request made while still holding
        status, body = await super().do_request(
            url,
            method,
            request_data=request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if status == 429 and self.on_rate_limited is not None:
            self.on_rate_limited()
        return status, body


def reply_limits(telegram_rate: float) -> tuple[int, float]:
    """PTB's overall limiter for replies: (a bucket of, seconds to refill it).

    Telegram's overall limit (``TELEGRAM_RATE``, about 30 a second) with a little
    room: a sixtieth slower (29.5 at 30) and a bucket a sixth smaller than
    Telegram's (25 at 30). Requests bunched on their way (the limiter lets them go
    evenly, the network need not deliver them so) then still fit.
    """
    burst = max(1, round(telegram_rate * 5 / 6))
    return burst, burst / (telegram_rate * 59 / 60)


def paced_in_chat(endpoint: str) -> bool:
    """Whether a Bot API method posts or edits a message (what a chat's limit counts)."""
    name = endpoint.lower()
    if name == "sendchataction":
        return False
    return name.startswith(("send", "edit")) or name in ("copymessage", "forwardmessage")


def counted_overall(endpoint: str) -> int:
    """How many messages of the bot's overall rate a Bot API method posts (edits: none)."""
    name = endpoint.lower()
    if name == "sendchataction" or not (
        name.startswith("send") or name in ("copymessage", "forwardmessage")
    ):
        return 0
    return 1


def messages_posted(endpoint: str, data: dict[str, Any]) -> int:
    """A media group posts one message per item."""
    media = data.get("media")
    if endpoint.lower() == "sendmediagroup" and isinstance(media, list):
        return max(1, len(media))
    return counted_overall(endpoint)


Call = Callable[..., Coroutine[Any, Any, "bool | JSONDict | list[JSONDict]"]]


class ChatPacer:
    """A burst of ``burst`` messages per private chat, then one every ``interval`` seconds.

    The generic cell rate algorithm: each chat keeps one number, the time its
    next message would be on schedule, and a message is let through as soon as
    that is at most ``burst - 1`` intervals ahead. The schedule is booked
    before waiting (no ``await`` in between), so concurrent replies to one chat
    queue in order instead of racing. Time is injected for the tests.

    A booked message may still wait behind the whole bot's limit (PTB's
    limiter, after this one) and leave seconds later; :meth:`sent`, called as
    it leaves, moves the schedule on from there. Booked alone, three replies
    queued behind a burst of other chats' left together with the next ones,
    booked when they were already due, and Telegram answered 429 (the
    benchmark's burst, `benchmarks/updates.py`).
    """

    def __init__(
        self,
        *,
        burst: int = 3,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if burst < 1 or interval <= 0:
            raise ValueError("burst and interval must be positive")
        self._slack = (burst - 1) * interval
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._due: dict[int, float] = {}

    def book(self, chat_id: int) -> float:
        """Books the chat's next message; returns the seconds to wait before sending it."""
        now = self._clock()
        if len(self._due) > 4096:  # forget chats that are back to a full burst
            self._due = {chat: due for chat, due in self._due.items() if due > now}
        due = max(self._due.get(chat_id, now), now)
        wait = max(0.0, due - now - self._slack)
        self._due[chat_id] = due + self._interval
        return wait

    async def acquire(self, chat_id: int) -> None:
        wait = self.book(chat_id)
        if wait > 0:
            await self._sleep(wait)

    def sent(self, chat_id: int) -> None:
        """The chat's message leaves now: the next one is on schedule an interval later at
        the earliest, however early this one was booked."""
        now = self._clock()
        self._due[chat_id] = max(self._due.get(chat_id, now), now + self._interval)


class CommitFirstRateLimiter(AIORateLimiter):
    """PTB's rate limiter, committing first (waiting for a free slot holds no connection),
    a little under Telegram's overall limit, and pacing each private chat when
    ``chat_burst`` is set."""

    def __init__(self, *, telegram_rate: float = 30.0, chat_burst: int = 0, **kwargs: Any) -> None:
        burst, period = reply_limits(telegram_rate)
        super().__init__(overall_max_rate=burst, overall_time_period=period, **kwargs)
        # A tenth slower than Telegram's one a second: the slot is booked before the
        # request leaves, and jitter on the way must not bunch two messages at its end.
        self.chats = ChatPacer(burst=chat_burst, interval=1.1) if chat_burst > 0 else None
        # The bot's shared budget, set once the delivery pacer exists (`bot.app`);
        # until then (and in tests without it) PTB's overall limit alone.
        self.replies: ReplySlots | None = None

    async def process_request(
        self,
        callback: Call,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        await commit_before_io()
        call = callback
        chat_id = data.get("chat_id")
        if (
            self.chats is not None
            and isinstance(chat_id, int)
            and chat_id > 0
            and paced_in_chat(endpoint)
        ):
            await self.chats.acquire(chat_id)
            call = _leaving(call, self.chats, chat_id)
        if self.replies is not None:
            messages = messages_posted(endpoint, data)
            chat = self._chat_counted(chat_id, endpoint)
            if messages or chat is not None:
                call = _booked(call, self.replies, messages, chat)
        return await super().process_request(call, args, kwargs, endpoint, data, rate_limit_args)

    def _chat_counted(self, chat_id: object, endpoint: str) -> int | None:
        """The chat whose limit in the bot's budget the request counts toward: a group's
        always (its 20 a minute are every instance's, deliveries included), a private
        chat's when this instance paces private chats at all."""
        if not isinstance(chat_id, int) or not paced_in_chat(endpoint):
            return None
        if chat_id < 0 or self.chats is not None:
            return chat_id
        return None


def _leaving(call: Call, chats: ChatPacer, chat_id: int) -> Call:
    async def leaving(*args: Any, **kwargs: Any) -> bool | JSONDict | list[JSONDict]:
        chats.sent(chat_id)  # past the overall limits: the message leaves now
        return await call(*args, **kwargs)

    return leaving


def _booked(call: Call, replies: ReplySlots, messages: int, chat_id: int | None) -> Call:
    """Past PTB's own limits (this instance's), the slots in the bot's budget, then out."""

    async def booked(*args: Any, **kwargs: Any) -> bool | JSONDict | list[JSONDict]:
        await replies.take(messages, chat_id)
        try:
            return await call(*args, **kwargs)
        except RetryAfter as error:  # PTB retries it; every sender of the bot waits too
            replies.pause(retry_after_seconds(error))
            raise

    return booked


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verified TLS context for the process: building one reads the CA bundle (75 ms
    here), and each request object (the bot's, getUpdates') would otherwise build its own."""
    return httpx.create_ssl_context()


def bot_request() -> CommitFirstRequest:
    """The request object for the bot's API calls, sized and timed as PTB's builder would
    (256 connections; 5 s to connect and to read, 1 s to wait for a free connection)."""
    return CommitFirstRequest(
        connections=256, read_timeout=5.0, connect_timeout=5.0, pool_timeout=1.0, ssl=tls_context()
    )
