"""Waiting for the outbox: what the bot wrote for later is sent before a test looks at chats."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from jobs.delivery import BotSender, DeliveryConfig, DeliveryWorker, delivery_of, stop_delivery
from storage import outbox
from storage.models import Outbox, OutboxStatus
from tests.support.bot import BotHarness
from tests.support.config import SECRET
from tests.support.members import Source, sessions_of

# The real pacing (1 s per private chat, 20 a minute per group) would make every
# test wait for the wall clock; tests about what is sent, not how fast, use this.
QUICK = DeliveryConfig(rate=500, per_chat_interval=0.0, group_per_minute=100000, poll=0.1)


async def quick_delivery(bot: BotHarness) -> None:
    """Replace the bot's delivery worker by one without the real pacing."""
    await stop_delivery(bot.application)
    worker = DeliveryWorker(
        bot.runtime.sessions,
        BotSender.for_settings(bot.settings, QUICK),
        config=QUICK,
        cipher=outbox.outbox_cipher(SECRET),
        clock=bot.clock,
    )
    await worker.start()
    bot.runtime.delivery = worker


async def _outbox_busy(bot: BotHarness) -> bool:
    """A row is being sent, or waits although it is due by the bot's clock."""
    async with bot.runtime.sessions() as session:
        busy = await session.scalar(
            select(Outbox.id)
            .where(
                Outbox.status.in_([OutboxStatus.CLAIMED.value, OutboxStatus.SENDING.value])
                | (
                    (Outbox.status == OutboxStatus.PENDING.value)
                    & (Outbox.not_before <= bot.clock.now)
                )
            )
            .limit(1)
        )
    return busy is not None


async def delivered(bot: BotHarness, timeout: float = 15.0) -> None:  # noqa: ASYNC109
    """Wait until the delivery worker has sent everything due by the bot's clock.

    Rows due later (by the fake clock) do not count. The worker is woken on every
    look, as its own poll may be long; then the bot must fall quiet, so no request
    of it is still on the way when the test reads the chats.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    worker = delivery_of(bot.application)
    while True:
        if worker is not None:
            worker.wake()
        if not await _outbox_busy(bot) and (worker is None or worker.in_hand == 0):
            break
        if loop.time() > deadline:
            raise TimeoutError(f"the outbox did not drain in {timeout}s")
        await asyncio.sleep(0.02)
    await bot.driver.wait_idle()


async def outbox_rows(source: Source) -> list[Outbox]:
    """Every row of the outbox, by key (the order a test can write down)."""
    async with sessions_of(source)() as session:
        return list(await session.scalars(select(Outbox).order_by(Outbox.key)))
