"""The pulse's rules: month arithmetic, when it is due, results through disclosure control."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from notices import pulse as pulse_notices
from storage import privacy, pulse
from storage.db import make_session_factory, transaction
from storage.models import ActivityRating, Member, Outbox, TrainingRating
from storage.pulse import PulseRefused, Refusal
from tests.support.activities import draft, published
from tests.support.clock import shanghai
from tests.support.config import SECRET
from tests.support.members import add_members
from tests.support.pulse import KEYS, seed_answers
from tests.support.trainings import course, published_course

ZONE = ZoneInfo("Asia/Shanghai")
LABELS = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(2000, 2100), st.integers(1, 12))


@given(LABELS)
def test_months_follow_each_other(label: str) -> None:
    assert pulse.previous_month(pulse.next_month(label)) == label
    start, end = pulse.month_start(label, ZONE), pulse.month_start(pulse.next_month(label), ZONE)
    assert pulse.month_label(start, ZONE) == label
    assert pulse.month_label(end - timedelta(seconds=1), ZONE) == label
    assert 28 <= (end - start).days <= 31


@given(st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)))
def test_due_only_on_weekdays_at_a_decent_hour(moment: datetime) -> None:
    local = moment.astimezone(ZONE)
    expected = local.weekday() < 5 and 10 <= local.hour < pulse.LATEST_HOUR
    assert pulse.due(moment, ZONE, 10) is expected


async def test_under_five_answers_nothing_but_the_count(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    await add_members(sessions, 12)
    now = shanghai(2026, 12, 1, 10)
    async with transaction(sessions) as session:
        month = await pulse.open_month(session, now, ZONE)
        assert month is not None
        assert await pulse.open_month(session, now + timedelta(days=3), ZONE) is None
    await seed_answers(sessions, month.id, [5, 4, 4, 1])
    after = month.closes_at
    async with sessions() as session:
        (result,) = await pulse.monthly(session, 6, now=after)
    assert (result.count, result.mean, result.distribution) == (4, None, None)
    await seed_answers(sessions, month.id, [3], first=5)
    async with sessions() as session:
        (result,) = await pulse.monthly(session, 6, now=after)
        (running,) = await pulse.monthly(session, 6, now=now)
    assert result.month == "2026-12" and result.count == 5 and result.mean == 3.4
    assert result.distribution == (1, 0, 1, 2, 1)
    # While the month is under way, the count only: two looks would tell one answer.
    assert (running.count, running.mean, running.distribution) == (5, None, None)
    assert not running.closed
    # Once per member and month; comments once, after the stars, within the month.
    async with transaction(sessions) as session:
        with pytest.raises(PulseRefused) as refused:
            await pulse.answer(session, month.id, 1, 2, now=now, keys=KEYS)
        assert refused.value.reason is Refusal.ANSWERED
        with pytest.raises(PulseRefused) as refused:
            await pulse.comment(session, month.id, 9, "没打星就评论", now=now, keys=KEYS)
        assert refused.value.reason is Refusal.NO_ANSWER
        await pulse.comment(session, month.id, 1, "  很好 ", now=now, keys=KEYS)
        with pytest.raises(PulseRefused):
            await pulse.comment(session, month.id, 1, "再说一次", now=now, keys=KEYS)
        with pytest.raises(PulseRefused) as refused:
            await pulse.answer(session, month.id, 9, 4, now=month.closes_at, keys=KEYS)
        assert refused.value.reason is Refusal.CLOSED
    async with sessions() as session:
        assert await pulse.comments(session, "2026-12", KEYS, now=now) == []
        assert await pulse.comments(session, "2026-12", KEYS, now=month.closes_at) == ["很好"]


async def test_one_satisfaction_series(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    ids = await add_members(sessions, 8)
    now = shanghai(2026, 12, 10, 10)
    async with transaction(sessions) as session:
        month = await pulse.open_month(session, now, ZONE)
    assert month is not None
    await seed_answers(sessions, month.id, [5, 5, 4, 4, 2, 3], first=ids[0])
    activity = await published(sessions, draft())
    async with transaction(sessions) as session:
        for i, member_id in enumerate(ids[:5]):
            session.add(
                ActivityRating(
                    activity_id=activity.id,
                    member_id=member_id,
                    stars=4 + i % 2,
                    created_at=shanghai(2026, 11, 20 + i, 20),
                )
            )
    training, _ = await published_course(
        sessions, course(shanghai(2026, 10, 5)), now=shanghai(2026, 10, 1)
    )
    async with transaction(sessions) as session:
        for i, member_id in enumerate(ids[:7]):
            session.add(
                TrainingRating(
                    training_id=training.id,
                    member_id=member_id,
                    stars=3 + i % 3,
                    created_at=shanghai(
                        2026, 10 if i < 2 else 11, 20, 20
                    ),  # two in Oct., five in Nov.
                )
            )
    async with sessions() as session:
        series = await pulse.satisfaction_series(session, 3, now=now, zone=ZONE)
        later = await pulse.satisfaction_series(session, 3, now=month.closes_at, zone=ZONE)
    assert set(series) == {"pulse", "grievances", "activities", "trainings"}
    assert [p.month for p in series["pulse"]] == ["2026-10", "2026-11", "2026-12"]
    assert series["pulse"][-1].count == 6 and series["pulse"][-1].mean is None  # under way
    assert later["pulse"][-2].count == 6 and later["pulse"][-2].mean == 3.83
    assert series["activities"][1].count == 5 and series["activities"][1].mean == 4.4
    assert series["activities"][2].count == 0 and series["activities"][2].mean is None
    assert all(p.count == 0 and p.mean is None for p in series["grievances"])
    # Trainings: two ratings are counted without a mean; five (5+3+4+5+3) have one.
    assert [(p.count, p.mean) for p in series["trainings"]] == [(2, None), (5, 4.0), (0, None)]
    # A report on November ends its trend there, even when asked for in December;
    # ratings given after it (December's pulse answers) are left out.
    async with sessions() as session:
        november = await pulse.satisfaction_series(
            session, 3, now=now, zone=ZONE, until=shanghai(2026, 11, 30, 23)
        )
    assert [p.month for p in november["pulse"]] == ["2026-09", "2026-10", "2026-11"]
    assert all(p.count == 0 for p in november["pulse"])
    assert [(p.count, p.mean) for p in november["trainings"]] == [(0, None), (2, None), (5, 4.0)]
    assert november["activities"][-1].count == 5


async def test_forget_cancels_the_sealed_question_still_to_be_sent(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    ids = await add_members(sessions, 3)
    now = shanghai(2026, 12, 1, 10)
    async with transaction(sessions) as session:
        month = await pulse.open_month(session, now, ZONE)
        assert month is not None
        assert await pulse_notices.ask_everyone(session, month, now=now, secret=SECRET) == 3
    async with sessions() as session:
        gone = await session.get(Member, ids[1])
        assert gone is not None
        telegram_id = gone.telegram_id
    async with transaction(sessions) as session:
        assert await privacy.forget_member(session, telegram_id, SECRET, now) is not None
    keys = {KEYS.question_key(month.id, i): i for i in ids}
    async with sessions() as session:
        rows = {r.key: r for r in await session.scalars(select(Outbox))}
    assert rows.keys() == keys.keys()
    statuses = {keys[k]: (r.status, r.chat_id < 0) for k, r in rows.items()}
    assert statuses[ids[0]] == ("pending", True) and statuses[ids[2]] == ("pending", True)
    assert statuses[ids[1]][0] == "cancelled"
    assert rows[KEYS.question_key(month.id, ids[1])].payload is None
