"""Helpers for end-to-end activity and training tests: members, activities, the outbox."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from jobs import reminders
from jobs.delivery import delivery_of
from sandbox.driver import SandboxUser
from storage import activities, members
from storage.activities import Draft
from storage.audiences import Audience
from storage.db import transaction
from storage.models import Activity, Member, Outbox, OutboxStatus, Role
from tests.harness import BotHarness

_next_id = [810_000_001]


async def member(
    bot: BotHarness,
    name: str,
    *,
    department: str = "装配车间",
    language: str = "zh_CN",
    role: Role = Role.MEMBER,
) -> SandboxUser:
    """A registered member with an open private chat (as if they had sent /start)."""
    user_id = _next_id[0]
    _next_id[0] += 1
    code = "zh-hans" if language == "zh_CN" else "en"
    user = await bot.driver.create_user(name, user_id=user_id, language_code=code)
    bot.server.actions.open_private(bot.driver.bot_id, user_id)
    async with transaction(bot.runtime.sessions) as session:
        row = await members.register(
            session,
            telegram_id=user_id,
            name=name,
            department=department,
            birthday=None,
            language=language,
        )
        if role is not Role.MEMBER:
            await members.set_role(session, row.id, role)
    return user


async def member_id(bot: BotHarness, user: SandboxUser) -> int:
    async with bot.runtime.sessions() as session:
        found = await session.scalar(select(Member.id).where(Member.telegram_id == user.id))
        assert found is not None
        return int(found)


def draft(
    bot: BotHarness,
    title: str = "篮球友谊赛",
    *,
    capacity: int | None = 2,
    starts_in: timedelta = timedelta(days=2),
    audience: Audience | None = None,
    guests: bool = False,
) -> Draft:
    start = bot.clock.now + starts_in
    return Draft(
        title=title,
        description="三对三 <b>友谊</b> 赛",
        place="职工活动中心",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        signup_deadline=start - timedelta(hours=3),
        capacity=capacity,
        guests_allowed=guests,
        audience=audience or Audience(everyone=True),
    )


async def published(bot: BotHarness, value: Draft) -> Activity:
    async with transaction(bot.runtime.sessions) as session:
        activity = await activities.create(session, value, created_by=None, now=bot.clock.now)
        await activities.publish(session, activity.id, bot.clock.now)
    return activity


async def activity_row(bot: BotHarness, activity_id: int) -> Activity:
    async with bot.runtime.sessions() as session:
        return await activities.get(session, activity_id)


async def _outbox_busy(bot: BotHarness) -> bool:
    async with bot.runtime.sessions() as session:
        busy = await session.scalar(
            select(func.count()).where(
                Outbox.status.in_([OutboxStatus.CLAIMED.value, OutboxStatus.SENDING.value])
                | (
                    (Outbox.status == OutboxStatus.PENDING.value)
                    & (Outbox.not_before <= bot.clock.now)
                )
            )
        )
    return bool(busy)


async def delivered(bot: BotHarness, timeout: float = 15.0) -> None:  # noqa: ASYNC109
    """Wait until the delivery worker has sent everything due by the bot's clock."""
    worker = delivery_of(bot.application)
    if worker is not None:
        worker.wake()

    async def idle() -> bool:
        return not await _outbox_busy(bot)

    await bot.driver.wait_for(idle, timeout, what="the outbox to drain")
    await bot.driver.wait_idle()


async def run_jobs(bot: BotHarness) -> None:
    """What the JobQueue would do at the bot's current time, then its messages delivered."""
    await reminders.run_due(bot.runtime, bot.clock.now, target=bot.application)
    await delivered(bot)


async def texts(user: SandboxUser) -> list[str]:
    return [m.content for m in await user.bot_messages()]


async def sign_up(user: SandboxUser, activity_id: int) -> None:
    """Open the activity by its link and press its first button (sign up, or join the waitlist)."""
    await user.send(f"/start act_{activity_id}")
    card = await user.last_bot_message()
    await user.press(card.buttons[0][0].text)
