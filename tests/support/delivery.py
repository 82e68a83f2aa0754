"""The delivery worker on its own: a sandbox no bot polls, outbox rows, and what arrived."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.delivery import DeliveryConfig, DeliveryWorker
from jobs.sender import BotSender
from sandbox import SandboxDriver, SandboxOptions, SandboxServer
from storage import outbox
from storage.db import transaction
from storage.models import Outbox, utcnow
from tests.support.config import SECRET

DELIVERY_TOKEN = "555000111:DELIVERY-test-token-abcdefghijklmnop"
BOT_ID = 555000111
FIRST_USER = 700_000_001


# Telegram's limits scaled ten times, for the sandbox a test's worker sends into.
SCALED_LIMITS: dict[str, Any] = {
    "enforce": True,
    "global_rate": 300,
    "per_chat_rate": 10,
    "per_chat_burst": 3,
    "group_per_minute": 200,
}


def assert_chat_limits(
    sends: list[tuple[float, int]],
    *,
    per_chat: float,
    per_group: int,
    window: float = 60.0,
    eps: float = 1e-9,
) -> None:
    """Each private chat's sends ``per_chat`` apart; no group ``window`` holds more than
    ``per_group``. ``sends`` are (time, chat) pairs; groups have negative ids."""
    by_chat: dict[int, list[float]] = defaultdict(list)
    for t, chat in sends:
        by_chat[chat].append(t)
    for chat, chat_times in by_chat.items():
        chat_times.sort()
        if chat > 0:
            for a, b in pairwise(chat_times):
                assert b - a >= per_chat - eps, (chat, a, b)
        else:
            for i in range(len(chat_times) - per_group):
                assert chat_times[i + per_group] - chat_times[i] >= window - eps, chat


@dataclass
class DeliverySandbox:
    """The Telegram the worker sends into: users and their chats, no bot taking updates."""

    server: SandboxServer
    driver: SandboxDriver
    base_url: str

    @classmethod
    async def start(cls, **limits: float | int | bool) -> DeliverySandbox:
        """On a free port; ``limits`` are the sandbox's rate limits (`SandboxDriver.set_limits`)."""
        server = SandboxServer(SandboxOptions(port=0, bots={DELIVERY_TOKEN: "DeliveryBot"}))
        base_url = await server.start()
        driver = SandboxDriver(base_url, DELIVERY_TOKEN, auto_settle=False)
        await driver.__aenter__()
        if limits:
            await driver.set_limits(**limits)  # type: ignore[arg-type]  # checked by the server
        return cls(server, driver, base_url)

    async def stop(self) -> None:
        await self.driver.close()
        await self.server.stop()

    def open_chats(self, count: int, first: int = FIRST_USER, *, started: bool = True) -> list[int]:
        """Users created in-process; ``started`` ones have a chat with the bot (may be written to)."""
        ids = list(range(first, first + count))
        for user_id in ids:
            self.server.actions.create_user(f"User {user_id}", user_id=user_id)
            if started:
                self.server.actions.open_private(BOT_ID, user_id)
        return ids

    def received(self, chat_id: int) -> list[str]:
        """Texts (or captions) the bot delivered into a private chat, in order."""
        chat = self.server.state.private.get((BOT_ID, chat_id))
        if chat is None:
            return []
        return [
            m.text if m.text is not None else m.caption or ""
            for m in chat.messages.values()
            if m.sender_id == BOT_ID and not m.deleted
        ]

    def deliveries(self, chat_ids: Iterable[int]) -> Counter[str]:
        """How many times each text arrived, across the chats."""
        return Counter(text for chat in chat_ids for text in self.received(chat))

    async def rate_limited(self) -> int:
        return int((await self.driver.stats())["calls"]["rate_limited"])


def text_item(
    key: str, chat_id: int, member_id: int | None = None, **extra: object
) -> outbox.Outgoing:
    """A message whose text is its key, so arrivals can be matched to rows."""
    values: dict[str, object] = {
        "key": key,
        "kind": "test",
        "chat_id": chat_id,
        "member_id": member_id,
        "payload": outbox.payload("sendMessage", text=key, parse_mode=None),
        "group_key": "test",
    }
    values.update(extra)
    return outbox.Outgoing(**values)  # type: ignore[arg-type]  # extra: the test's own fields


async def enqueue(sessions: async_sessionmaker[AsyncSession], items: list[outbox.Outgoing]) -> None:
    async with transaction(sessions) as session:
        await outbox.enqueue_many(session, items, now=utcnow(), cipher=outbox.outbox_cipher(SECRET))


def make_worker(
    sandbox: DeliverySandbox, sessions: async_sessionmaker[AsyncSession], **config: float | int
) -> DeliveryWorker:
    settings = DeliveryConfig(**config)  # type: ignore[arg-type]  # the test's own pacing
    return DeliveryWorker(
        sessions,
        BotSender.for_api(DELIVERY_TOKEN, sandbox.base_url, settings),
        config=settings,
        cipher=outbox.outbox_cipher(SECRET),
    )


async def settle(
    sessions: async_sessionmaker[AsyncSession],
    timeout: float = 30.0,  # noqa: ASYNC109 - a deadline for the whole outbox
    worker: DeliveryWorker | None = None,
) -> dict[str, str]:
    """Wait until no row is pending or being sent; return key → status."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with sessions() as session:
            rows = dict(
                (key, status)
                for key, status in await session.execute(select(Outbox.key, Outbox.status))
            )
        busy = [k for k, s in rows.items() if s in ("pending", "claimed", "sending")]
        if not busy and (worker is None or worker.in_hand == 0):
            return rows
        if loop.time() > deadline:
            raise TimeoutError(f"{len(busy)} rows still pending/sending after {timeout}s")
        await asyncio.sleep(0.05)
