"""Reminders, check-in and ratings on a controlled clock; reminders once across runs and instances."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.runtime import Runtime
from jobs import reminders
from notices import activities as activity_notices
from storage import activities, members
from storage.db import transaction
from storage.models import ActivityRating, Outbox, ReminderMark
from tests.support.activities import draft, published, run_jobs, sign_up
from tests.support.bot import BotHarness
from tests.support.clock import T0
from tests.support.config import make_runtime
from tests.support.members import add_members, add_person, member_by_id
from tests.support.outbox import delivered


async def test_reminders_check_in_and_rating_on_the_clock(bot: BotHarness) -> None:
    activity = await published(bot, draft(bot, capacity=1))
    seated, waiting = await add_person(bot, "王小明"), await add_person(bot, "李雷")
    await sign_up(seated, activity.id)
    await sign_up(waiting, activity.id)
    start = activity.starts_at

    bot.clock.now = start - timedelta(hours=24, minutes=-1)
    await run_jobs(bot)
    await run_jobs(bot)  # a second run (or a restart) sends nothing again
    reminder = await seated.last_bot_message()
    assert "提醒" in reminder.text and "24 小时后" in reminder.text
    assert not any("提醒" in (m.text or "") for m in await waiting.bot_messages())

    bot.clock.now = start - timedelta(minutes=50)
    await run_jobs(bot)
    texts = [m.text or "" for m in await seated.bot_messages()]
    assert sum("提醒" in t for t in texts) == 2 and "1 小时后" in texts[-1]

    # Check-in with the code shown at the venue, from 30 minutes before the start.
    bot.clock.now = start - timedelta(minutes=10)
    await seated.press("查看 ›")
    await seated.press("📍 签到")
    await seated.send("0000" if activity.checkin_code != "0000" else "1111")
    assert "签到码不对" in (await seated.last_bot_message()).text
    await seated.send(activity.checkin_code)
    assert "签到成功" in (await seated.last_bot_message()).text

    bot.clock.now = activity.ends_at + timedelta(minutes=5)
    await run_jobs(bot)
    await run_jobs(bot)
    ask = await seated.last_bot_message()
    assert "请打 1 到 5 星" in ask.text
    assert sum("请打 1 到 5 星" in (m.text or "") for m in await seated.bot_messages()) == 1
    await seated.press("4⭐")
    await seated.send("组织得很好，下次还来")
    assert "感谢您的反馈" in (await seated.last_bot_message()).text
    async with bot.runtime.sessions() as session:
        rating = await session.scalar(select(ActivityRating))
    assert rating is not None and (rating.stars, rating.comment) == (4, "组织得很好，下次还来")
    # The waitlisted member never had a seat: no rating request, and a forged press is refused.
    await waiting.press_data((await waiting.last_bot_message()).message_id, f"acr:{activity.id}:1")
    assert "只有已获得席位" in ((await waiting.callback_answers())[-1].text or "")
    await delivered(bot)


async def _count(runtime: Runtime, *where: object) -> int:
    async with runtime.sessions() as session:
        return int(
            await session.scalar(select(func.count()).select_from(Outbox).where(*where)) or 0
        )


async def test_each_reminder_once_across_instances_restarts_and_moves(
    engine: AsyncEngine, database_url: str
) -> None:
    first, second = make_runtime(engine), make_runtime(engine)
    sessions = first.sessions
    ids = await add_members(sessions, 30)
    activity = await published(sessions, draft(capacity=20))
    for member_id in ids:
        person = await member_by_id(sessions, member_id)
        async with transaction(sessions) as session:
            await activities.sign_up(session, activity.id, person, guests=0, now=T0)

    due = activity.starts_at - timedelta(hours=23)
    # Two instances wake at the same moment, then one of them restarts and runs again.
    await asyncio.gather(reminders.run_due(first, due), reminders.run_due(second, due))
    await reminders.run_due(first, due + timedelta(minutes=1))
    assert await _count(first, Outbox.kind == "activity-reminder") == 20  # seated only
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ReminderMark)) == 20

    # A new time: the plan starts over for the new schedule, and participants are told.
    async with transaction(sessions) as session:
        moved = await activities.reschedule(
            session,
            activity.id,
            starts_at=activity.starts_at + timedelta(days=3),
            ends_at=activity.ends_at + timedelta(days=3),
            signup_deadline=activity.signup_deadline,
            now=due,
        )
        await activity_notices.tell_moved(
            session, moved.activity, moved.old_version, zone=first.settings.tz, now=due
        )
    await reminders.run_due(first, due + timedelta(hours=2))
    assert await _count(first, Outbox.kind == "activity-reminder") == 20  # nothing new is due yet
    assert await _count(first, Outbox.kind == "activity-moved") == 30
    new_due = moved.activity.starts_at - timedelta(hours=23)
    await asyncio.gather(reminders.run_due(first, new_due), reminders.run_due(second, new_due))
    assert await _count(first, Outbox.kind == "activity-reminder") == 40

    # Cancelled: nothing more, even when the 1 h reminder would be due.
    async with transaction(sessions) as session:
        people = await activities.cancel(session, activity.id, new_due)
        await activity_notices.tell_cancelled(
            session, moved.activity, people, zone=first.settings.tz, now=new_due
        )
    await reminders.run_due(first, moved.activity.starts_at - timedelta(minutes=30))
    assert await _count(first, Outbox.kind == "activity-reminder") == 40
    assert await _count(first, Outbox.kind == "activity-cancelled") == 30


async def test_a_seat_freed_by_forget_goes_to_the_waitlist_on_the_next_run(
    engine: AsyncEngine, database_url: str
) -> None:
    runtime = make_runtime(engine)
    sessions = runtime.sessions
    leaving, waiting = await add_members(sessions, 2)
    activity = await published(sessions, draft(capacity=1))
    for member_id in (leaving, waiting):
        person = await member_by_id(sessions, member_id)
        async with transaction(sessions) as session:
            await activities.sign_up(session, activity.id, person, guests=0, now=T0)
    async with transaction(sessions) as session:
        gone = await member_by_id(sessions, leaving)
        await members.forget(session, gone.telegram_id)  # the row goes, by cascade
    done = await reminders.run_due(runtime, T0 + timedelta(minutes=1))
    again = await reminders.run_due(runtime, T0 + timedelta(minutes=2))
    assert (done["promotions"], again["promotions"]) == (1, 0)
    assert await _count(runtime, Outbox.kind == "activity-seat") == 1
    async with sessions() as session:
        row = await activities.get(session, activity.id)
        signup, _ = await activities.signup_of(session, activity.id, waiting)
    assert row.seats_taken == 1 and signup is not None and signup.status == "seated"
