"""The satisfaction pulse in tests: switch it, run its job, read its rows."""

from __future__ import annotations

from sqlalchemy import select

from jobs import pulse as pulse_jobs
from storage import pulse
from storage.db import transaction
from storage.models import PulseAnswer, PulseMonth
from tests.support.bot import BotHarness
from tests.support.config import SECRET
from tests.support.members import Source, sessions_of
from tests.support.outbox import delivered

QUESTION = "您对工会本月的工作满意吗？"
KEYS = pulse.PulseKeys.from_secret(SECRET)


async def switch_on(source: Source, on: bool = True) -> None:
    async with transaction(sessions_of(source)) as session:
        await pulse.set_enabled(session, on)


async def run_pulse(bot: BotHarness) -> int:
    """What the JobQueue would do at the bot's current time, then its messages delivered."""
    asked = await pulse_jobs.run(bot.runtime, bot.clock.now, bot.application)
    await delivered(bot)
    return asked


async def months(source: Source) -> list[PulseMonth]:
    async with sessions_of(source)() as session:
        return list(await session.scalars(select(PulseMonth).order_by(PulseMonth.month)))


async def answers(source: Source) -> list[PulseAnswer]:
    async with sessions_of(source)() as session:
        return list(await session.scalars(select(PulseAnswer).order_by(PulseAnswer.id)))


async def seed_answers(source: Source, month_id: int, stars: list[int], *, first: int = 1) -> None:
    """Answers by members ``first``, ``first + 1``… straight through the service."""
    month = next(m for m in await months(source) if m.id == month_id)
    async with transaction(sessions_of(source)) as session:
        for offset, given in enumerate(stars):
            await pulse.answer(
                session, month_id, first + offset, given, now=month.sent_at, keys=KEYS
            )
