"""Helpers for grievance tests: a quick delivery worker, waiting for the outbox, people."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from pypdf import PdfWriter
from sqlalchemy import select

from jobs import grievances as jobs
from jobs.delivery import (
    BotSender,
    DeliveryConfig,
    DeliveryWorker,
    delivery_of,
    stop_delivery,
)
from sandbox.driver import SandboxUser
from storage import outbox
from storage.db import transaction
from storage.models import Grievance, Member, Outbox, Role
from tests.e2e.test_membership import register
from tests.harness import CADRE_CHAT, SECRET, BotHarness

# The real pacing (1 s per private chat, 20 a minute per group) would make every
# test wait for the wall clock; these tests are about what is sent, not how fast.
QUICK = DeliveryConfig(rate=500, per_chat_interval=0.0, group_per_minute=100000, poll=0.1)


async def quick_delivery(bot: BotHarness) -> None:
    await stop_delivery(bot.application)
    settings = bot.settings
    worker = DeliveryWorker(
        bot.runtime.sessions,
        BotSender.for_settings(settings, QUICK),
        config=QUICK,
        cipher=outbox.outbox_cipher(SECRET),
        clock=bot.clock,
    )
    await worker.start()
    bot.runtime.delivery = worker


async def delivered(bot: BotHarness, timeout: float = 15.0) -> None:  # noqa: ASYNC109
    """Wait until the outbox has nothing pending or being sent (nothing due later counts)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    worker = delivery_of(bot.application)
    while True:
        async with bot.runtime.sessions() as session:
            busy = await session.scalar(
                select(Outbox.id)
                .where(
                    Outbox.status.in_(["pending", "claimed", "sending"]),
                    Outbox.not_before <= bot.clock.now,
                )
                .limit(1)
            )
        if busy is None and (worker is None or worker.in_hand == 0):
            return
        if loop.time() > deadline:
            raise TimeoutError("the outbox did not drain")
        if worker is not None:
            worker.wake()
        await asyncio.sleep(0.02)


async def tick(bot: BotHarness) -> jobs.TickReport:
    """Run the grievance job now, as the JobQueue would, then wait for what it sent."""
    await delivered(bot)
    report = await jobs.tick(bot.runtime, bot.clock.now, bot.application)
    await delivered(bot)
    return report


@dataclass
class World:
    bot: BotHarness
    member: SandboxUser
    cadre: SandboxUser


async def make_cadre(
    bot: BotHarness, name: str = "李干事", chat: int = CADRE_CHAT, username: str = "li_cadre"
) -> SandboxUser:
    cadre = await bot.driver.create_user("Li", username=username)
    await register(bot, cadre, name, "工会办公室")
    async with transaction(bot.runtime.sessions) as session:
        row = await session.scalar(select(Member).where(Member.telegram_id == cadre.id))
        assert row is not None
        row.role = Role.CADRE.value
    await bot.driver.add_member(chat, cadre)
    return cadre


@pytest.fixture
async def world(bot: BotHarness) -> AsyncIterator[World]:
    await quick_delivery(bot)
    member = await bot.driver.create_user("Mei", last_name="Han", username="hanmeimei")
    await register(bot, member, "韩梅梅", "装配车间")
    cadre = await make_cadre(bot)
    yield World(bot, member, cadre)


async def cases(bot: BotHarness) -> list[Grievance]:
    async with bot.runtime.sessions() as session:
        return list(await session.scalars(select(Grievance).order_by(Grievance.id)))


async def submit(
    bot: BotHarness,
    user: SandboxUser,
    text: str = "车间空调坏了一个月，温度超过三十五度。",
    *,
    category: str = "💰 工资",
    urgency: str | None = "🟢 普通",
    files: list[tuple[str, bytes, str]] | None = None,
) -> Grievance:
    await user.send("📝 提交诉求")
    await user.send(category)
    if urgency is not None:
        await user.send(urgency)
    await user.send(text)
    for kind, data, name in files or []:
        if kind == "photo":
            await user.send_photo(data, caption=name)
        elif kind == "voice":
            await user.send_voice(data)
        else:
            await user.send_document(data, name)
    await user.send("✅ 添加完毕")
    await user.send("✅ 匿名发送")
    await delivered(bot)
    return (await cases(bot))[-1]


def real_pdf(author: str, title: str = "加班记录") -> bytes:
    """A one-page PDF whose document information names its author, as office programs
    leave it."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": author, "/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def flat(message: Any) -> list[str]:
    return [b.text for row in message.buttons for b in row]
