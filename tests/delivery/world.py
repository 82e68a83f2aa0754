"""A sandbox world for delivery tests: members with open chats, outbox rows, and what arrived."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.delivery import DeliveryConfig, DeliveryWorker
from jobs.sender import BotSender
from sandbox import SandboxDriver, SandboxOptions, SandboxServer
from storage import outbox
from storage.db import transaction
from storage.models import Member, Outbox, utcnow
from tests.delivery.conftest import SECRET

TOKEN = "555000111:DELIVERY-test-token-abcdefghijklmnop"
BOT_ID = 555000111
FIRST_USER = 700_000_001


@dataclass
class World:
    server: SandboxServer
    driver: SandboxDriver
    base_url: str

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


async def start_world(**limits: float | int | bool) -> tuple[World, SandboxServer]:
    options = SandboxOptions(port=0, bots={TOKEN: "DeliveryBot"})
    server = SandboxServer(options)
    base_url = await server.start()
    driver = SandboxDriver(base_url, TOKEN, auto_settle=False)
    await driver.__aenter__()
    if limits:
        await driver.set_limits(**limits)  # type: ignore[arg-type]
    return World(server, driver, base_url), server


async def stop_world(world: World) -> None:
    await world.driver.close()
    await world.server.stop()


async def add_members(sessions: async_sessionmaker[AsyncSession], ids: list[int]) -> dict[int, int]:
    """Member rows for the chats; returns telegram id → member id."""
    now = utcnow()
    async with transaction(sessions) as session:
        await session.execute(
            insert(Member),
            [
                {
                    "telegram_id": tid,
                    "name": f"M{tid}",
                    "language": "zh_CN",
                    "role": "member",
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for tid in ids
            ],
        )
        rows = await session.execute(
            select(Member.telegram_id, Member.id).where(Member.telegram_id.in_(ids))
        )
        return {tid: mid for tid, mid in rows}


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
    return outbox.Outgoing(**values)  # type: ignore[arg-type]


async def enqueue(sessions: async_sessionmaker[AsyncSession], items: list[outbox.Outgoing]) -> None:
    async with transaction(sessions) as session:
        await outbox.enqueue_many(session, items, now=utcnow(), cipher=outbox.outbox_cipher(SECRET))


def make_worker(
    world: World, sessions: async_sessionmaker[AsyncSession], **config: float | int
) -> DeliveryWorker:
    settings = DeliveryConfig(**config)  # type: ignore[arg-type]
    return DeliveryWorker(
        sessions,
        BotSender.for_api(TOKEN, world.base_url, settings),
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
