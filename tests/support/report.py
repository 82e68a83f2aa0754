"""The monthly report in tests: cases, sign-ups and ratings written straight to the database."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select

from sandbox.driver_types import ChatMessage
from storage import grievances
from storage.db import transaction
from storage.models import (
    Activity,
    ActivityRating,
    ActivitySignup,
    Grievance,
    HandbookMonthMiss,
    HandbookSearchMonth,
    OutboxFile,
    Poll,
    PollBallot,
    Training,
    TrainingAttendance,
    TrainingEnrolment,
    TrainingRating,
    TrainingSession,
)
from tests.support.bot import BotHarness
from tests.support.config import CADRE_CHAT
from tests.support.members import Source, sessions_of


@dataclass(frozen=True)
class Case:
    """A case of ``slug``'s category opened at ``at``; taken and answered after so many hours."""

    slug: str
    status: str
    at: datetime
    take_hours: float | None = None
    answer_hours: float | None = None
    rating: int | None = None
    take_breached: bool = False
    finish_hours: float | None = None  # resolved or closed so many hours after opening


async def add_cases(source: Source, cases: Sequence[Case]) -> None:
    async with transaction(sessions_of(source)) as session:
        listed = await grievances.list_categories(session, active_only=False)
        ids = {category.slug: category.id for category in listed}
        rows = []
        for case in cases:
            taken = case.at + timedelta(hours=case.take_hours) if case.take_hours else None
            answered = case.at + timedelta(hours=case.answer_hours) if case.answer_hours else None
            rows.append(
                {
                    "code": secrets.token_hex(5).upper(),
                    "category_id": ids[case.slug],
                    "urgency": "normal",
                    "status": case.status,
                    "created_at": case.at,
                    "take_due_at": case.at + timedelta(hours=24),
                    "answer_due_at": case.at + timedelta(hours=72),
                    "taken_at": taken,
                    "answered_at": answered,
                    "finished_at": case.at + timedelta(hours=case.finish_hours)
                    if case.finish_hours
                    else None,
                    "take_breached_at": case.at + timedelta(hours=24)
                    if case.take_breached
                    else None,
                    "rating": case.rating,
                    "rated_at": answered if case.rating else None,
                }
            )
        await session.execute(insert(Grievance), rows)


async def add_activity_with_signups(
    source: Source, starts: datetime, member_ids: Sequence[int], checked_in: int, stars: int = 0
) -> int:
    """An activity held at ``starts``, every member seated, the first ``checked_in`` came."""
    async with transaction(sessions_of(source)) as session:
        activity = Activity(
            title="报告测试活动",
            place="工会活动室",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            signup_deadline=starts - timedelta(days=1),
            audience={},
            status="published",
            checkin_code="123456",
            seats_taken=len(member_ids),
            tickets=len(member_ids),
        )
        session.add(activity)
        await session.flush()
        await session.execute(
            insert(ActivitySignup),
            [
                {
                    "activity_id": activity.id,
                    "member_id": mid,
                    "status": "seated",
                    "seats": 1,
                    "ticket": n + 1,
                    "created_at": starts - timedelta(days=3),
                    "checked_in_at": starts if n < checked_in else None,
                }
                for n, mid in enumerate(member_ids)
            ],
        )
        if stars:
            await session.execute(
                insert(ActivityRating),
                [
                    {
                        "activity_id": activity.id,
                        "member_id": mid,
                        "stars": stars,
                        "created_at": starts + timedelta(hours=3),
                    }
                    for mid in member_ids[:checked_in]
                ],
            )
        return activity.id


async def add_poll(source: Source, at: datetime, recipients: int, ballots: int) -> None:
    """An anonymous poll created at ``at`` for so many recipients, with so many ballots
    and one withdrawn vote (choices 0), which is no ballot."""
    async with transaction(sessions_of(source)) as session:
        poll = Poll(question="报告测试投票", audience={}, recipients=recipients, created_at=at)
        session.add(poll)
        await session.flush()
        await session.execute(
            insert(PollBallot),
            [
                {"poll_id": poll.id, "voter_key": secrets.token_hex(16), "choices": 1 if n else 0}
                for n in range(ballots + 1)
            ],
        )


async def add_training_with_ratings(
    source: Source, starts: datetime, member_ids: Sequence[int], stars: Sequence[int]
) -> int:
    """A one-session course held at ``starts`` (2 h), every member enrolled (seated) then;
    the first ``len(stars)`` attended and rated it an hour after the end, with those stars."""
    async with transaction(sessions_of(source)) as session:
        training = Training(
            title="报告测试培训",
            signup_deadline=starts - timedelta(days=1),
            status="published",
            seats_taken=len(member_ids),
            tickets=len(member_ids),
            created_at=starts - timedelta(days=5),
            updated_at=starts - timedelta(days=5),
        )
        session.add(training)
        await session.flush()
        meeting = TrainingSession(
            training_id=training.id, starts_at=starts, ends_at=starts + timedelta(hours=2)
        )
        session.add(meeting)
        await session.flush()
        await session.execute(
            insert(TrainingEnrolment),
            [
                {
                    "training_id": training.id,
                    "member_id": mid,
                    "status": "seated",
                    "seats": 1,
                    "ticket": n + 1,
                    "created_at": starts - timedelta(days=3),
                    "seated_at": starts - timedelta(days=3),
                }
                for n, mid in enumerate(member_ids)
            ],
        )
        came = member_ids[: len(stars)]
        if came:
            await session.execute(
                insert(TrainingAttendance),
                [{"session_id": meeting.id, "member_id": mid, "marked_at": starts} for mid in came],
            )
            await session.execute(
                insert(TrainingRating),
                [
                    {
                        "training_id": training.id,
                        "member_id": mid,
                        "stars": given,
                        "comment": "",
                        "created_at": starts + timedelta(hours=3),
                    }
                    for mid, given in zip(came, stars, strict=True)
                ],
            )
        return training.id


async def add_searches(
    source: Source, month: date, searches: int, found: int, misses: dict[str, int]
) -> None:
    """Handbook searches counted in ``month`` (its first day): the misses add up to the rest."""
    assert sum(misses.values()) <= searches - found
    async with transaction(sessions_of(source)) as session:
        session.add(HandbookSearchMonth(month=month, searches=searches, found=found))
        if misses:
            await session.execute(
                insert(HandbookMonthMiss),
                [{"month": month, "query": q, "count": n} for q, n in misses.items()],
            )


async def scheduled_report(bot: BotHarness) -> list[tuple[str, ChatMessage]]:
    """What the monthly report put in the cadre group, in order: ("text" | "photo" |
    "document", message); the group's other messages are left out."""
    found: list[tuple[str, ChatMessage]] = []
    for message in await bot.driver.messages(CADRE_CHAT):
        if not message.from_bot or message.deleted:
            continue
        if message.media is not None and message.media.kind in ("photo", "document"):
            found.append((message.media.kind, message))
        elif message.text and "工会报告：" in message.text:
            found.append(("text", message))
    return found


async def outbox_files(source: Source) -> list[OutboxFile]:
    """The files the outbox still keeps for rows not yet final."""
    async with sessions_of(source)() as session:
        return list(await session.scalars(select(OutboxFile)))
