"""Broadcasts for tests: their outbox rows, and waiting until every row has an outcome."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.delivery import wake_after_commit
from storage import broadcasts
from storage.models import Broadcast, Outbox
from tests.support.bot import BotHarness


async def broadcast_outbox(bot: BotHarness, group: str | None = None) -> list[Outbox]:
    """The broadcasts' rows (other features have rows of their own in the outbox)."""
    async with bot.runtime.sessions() as session:
        query = (
            select(Outbox)
            .where(Outbox.kind.in_([broadcasts.KIND, broadcasts.REPORT_KIND]))
            .order_by(Outbox.id)
        )
        if group is not None:
            query = query.where(Outbox.group_key == group)
        return list(await session.scalars(query))


async def broadcast_rows(bot: BotHarness) -> list[Broadcast]:
    async with bot.runtime.sessions() as session:
        return list(await session.scalars(select(Broadcast).order_by(Broadcast.id)))


def wake(bot: BotHarness) -> Callable[[AsyncSession], None]:
    """What the services take to wake the delivery worker once their transaction commits."""
    return lambda session: wake_after_commit(session, bot.application)


async def statuses(bot: BotHarness, group: str) -> list[str]:
    return sorted(row.status for row in await broadcast_outbox(bot, group))


async def wait_final(bot: BotHarness, group: str) -> list[str]:
    """Until the worker has recorded an outcome for every row of the broadcast."""

    async def final() -> list[str] | None:
        found = await statuses(bot, group)
        return found if found and not {"pending", "claimed", "sending"} & set(found) else None

    result: list[str] = await bot.driver.wait_for(final, timeout=10, what=f"{group} is final")
    return result
