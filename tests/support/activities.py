"""Activities for tests: a draft, published straight through the service, and a member's sign-up."""

from __future__ import annotations

from datetime import datetime, timedelta

from jobs import reminders
from sandbox.driver import SandboxUser
from storage import activities
from storage.activities import Draft
from storage.audiences import Audience
from storage.db import transaction
from storage.models import Activity
from tests.support.bot import BotHarness
from tests.support.clock import T0
from tests.support.members import Source, sessions_of
from tests.support.outbox import delivered


def _now(source: Source | datetime) -> datetime:
    """The bot's clock when there is a bot, else the tests' T0."""
    if isinstance(source, datetime):
        return source
    return source.clock.now if isinstance(source, BotHarness) else T0


def draft(
    at: BotHarness | datetime = T0,
    title: str = "篮球友谊赛",
    *,
    capacity: int | None = 2,
    starts_in: timedelta = timedelta(days=2),
    audience: Audience | None = None,
    guests: bool = False,
) -> Draft:
    """An activity starting ``starts_in`` after ``at`` (the bot's clock, for a bot)."""
    start = _now(at) + starts_in
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


async def published(source: Source, value: Draft) -> Activity:
    """Created and published now (the bot's clock, or T0)."""
    now = _now(source)
    async with transaction(sessions_of(source)) as session:
        activity = await activities.create(session, value, created_by=None, now=now)
        await activities.publish(session, activity.id, now)
    return activity


async def activity_row(source: Source, activity_id: int) -> Activity:
    async with sessions_of(source)() as session:
        return await activities.get(session, activity_id)


async def sign_up(user: SandboxUser, activity_id: int) -> None:
    """Open the activity by its link and press its first button (sign up, or join the waitlist)."""
    await user.send(f"/start act_{activity_id}")
    card = await user.last_bot_message()
    await user.press(card.buttons[0][0].text)


async def run_jobs(bot: BotHarness) -> None:
    """What the JobQueue would do at the bot's current time, then its messages delivered."""
    await reminders.run_due(bot.runtime, bot.clock.now, target=bot.application)
    await delivered(bot)
