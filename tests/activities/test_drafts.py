"""The editors' drafts: typed between steps, and the services decide what holds.

A draft's setters refuse a schedule that cannot hold with a typed
`ScheduleRefused`, the services refuse the same when handed a whole draft,
and the drafts come back from the conversation store as the same classes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import activities, trainings
from storage import conversations as store
from storage.activities import ActivityDraft, EditField
from storage.db import transaction
from storage.enrolment_rules import ScheduleProblem, ScheduleRefused
from storage.models import Role
from storage.offerings import Incomplete, Refused
from storage.profile_rules import InvalidInput
from storage.trainings import TrainingDraft
from tests.e2e.test_conversations import drafts_of
from tests.support.activities import draft, published
from tests.support.bot import BotHarness
from tests.support.clock import T0
from tests.support.members import add_members
from tests.support.members import add_person as sandbox_member
from tests.support.members import member_by_id as member

LATER = T0 + timedelta(days=2)


def refused(call: object) -> ScheduleProblem:
    assert callable(call)
    with pytest.raises(ScheduleRefused) as error:
        call()
    return error.value.problem


def test_the_activity_draft_refuses_each_time_that_cannot_hold() -> None:
    value = ActivityDraft()
    assert refused(lambda: value.set_start(T0, T0)) is ScheduleProblem.START_PAST
    with pytest.raises(Incomplete):
        value.set_end(LATER)
    value.set_start(LATER, T0)
    assert refused(lambda: value.set_end(LATER)) is ScheduleProblem.END_BEFORE_START
    value.set_end(LATER + timedelta(hours=2))
    late = LATER + timedelta(hours=1)
    assert refused(lambda: value.set_deadline(late, T0)) is ScheduleProblem.DEADLINE_AFTER_START
    assert refused(lambda: value.set_deadline(T0, T0)) is ScheduleProblem.DEADLINE_PAST
    with pytest.raises(Incomplete):
        value.value()  # no title yet
    value.title = "读书会"
    value.set_deadline(LATER, T0)
    assert value.value().signup_deadline == LATER


def test_the_training_draft_collects_sessions_and_refuses_what_cannot_hold() -> None:
    value = TrainingDraft(title="叉车培训")
    with pytest.raises(Incomplete):
        value.add_session("二号培训室")  # no times asked yet
    value.set_session_start(LATER, T0)
    assert refused(lambda: value.set_session_end(LATER)) is ScheduleProblem.END_BEFORE_START
    value.set_session_end(LATER + timedelta(hours=3))
    assert value.add_session("https://meeting.example.org/a") == 1
    value.set_session_start(LATER + timedelta(days=1), T0)
    value.set_session_end(LATER + timedelta(days=1, hours=2))
    assert value.add_session("二号培训室") == 2
    assert [(s.place, s.online_link) for s in value.sessions] == [
        ("", "https://meeting.example.org/a"),
        ("二号培训室", None),
    ]
    after = LATER + timedelta(hours=1)
    assert refused(lambda: value.set_deadline(after, T0)) is ScheduleProblem.DEADLINE_AFTER_START
    assert refused(lambda: value.set_deadline(T0, T0)) is ScheduleProblem.DEADLINE_PAST
    value.set_deadline(LATER, T0)
    with pytest.raises(InvalidInput):
        value.set_required(3)
    value.set_required(2)  # all of them
    assert value.required_sessions is None
    value.set_required(1)
    assert value.required_sessions == 1


def test_drafts_come_back_from_the_store_as_the_same_classes() -> None:
    activity = ActivityDraft(activity=7, edited=EditField.TIME, title="读书会", tags=["夜班"])
    activity.set_start(LATER, T0)
    course = TrainingDraft(title="叉车培训")
    course.set_session_start(LATER, T0)
    course.set_session_end(LATER + timedelta(hours=3))
    course.add_session("二号培训室")
    back = store.loads(store.dumps({"draft_activity": activity, "draft_training": course}))
    assert back == {"draft_activity": activity, "draft_training": course}
    assert back["draft_activity"].edited is EditField.TIME
    assert back["draft_training"].sessions[0].starts_at == LATER


async def test_the_services_refuse_what_the_editor_must_not_save(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(sessions) as session:
        with pytest.raises(ScheduleRefused) as error:
            await activities.create(session, draft(starts_in=timedelta(0)), created_by=None, now=T0)
        assert error.value.problem is ScheduleProblem.START_PAST
        late = TrainingDraft(title="叉车培训")
        late.set_session_start(LATER, T0)
        late.set_session_end(LATER + timedelta(hours=3))
        late.add_session("二号培训室")
        late.signup_deadline = LATER  # by the first session: fine when it is set…
        with pytest.raises(ScheduleRefused) as error:  # …but it passed before saving
            await trainings.create(session, late, created_by=None, now=LATER)
        assert error.value.problem is ScheduleProblem.DEADLINE_PAST
        with pytest.raises(Incomplete):
            await trainings.create(session, TrainingDraft(title="空"), created_by=None, now=T0)

    activity = await published(sessions, draft(capacity=2))
    for member_id in await add_members(sessions, 2):
        person = await member(sessions, member_id)
        async with transaction(sessions) as session:
            await activities.sign_up(session, activity.id, person, guests=0, now=T0)
    async with transaction(sessions) as session:
        with pytest.raises(Refused) as no_field:
            await activities.start_edit(session, activity.id, "colour")
        assert no_field.value.reason == "no_such_field"
        fewer = await activities.start_edit(session, activity.id, "cap")
        fewer.capacity = 1
        with pytest.raises(Refused) as below:
            await activities.apply_edit(session, fewer, T0)
        assert below.value.reason == "below_taken"
        await activities.cancel(session, activity.id, T0)
        with pytest.raises(Refused) as cancelled:
            await activities.start_edit(session, activity.id, "title")
        assert cancelled.value.reason == "cancelled"


async def test_the_editor_keeps_a_typed_draft_between_steps(bot: BotHarness) -> None:
    cadre = await sandbox_member(bot, "李干事", role=Role.CADRE)
    await cadre.send("/new_activity")
    for text in ("读书分享会", "⏭ 跳过", "⏭ 跳过", "图书室", "12月5日 14:00"):
        await cadre.send(text)
    kept = (await drafts_of(bot.runtime, cadre.id))["draft_activity"]  # read back from its row
    assert isinstance(kept, ActivityDraft)
    assert (kept.title, kept.place) == ("读书分享会", "图书室")
    assert kept.starts_at == datetime(2026, 12, 5, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
    await cadre.send("16:00")
    await cadre.send("⏱ 开始前均可报名")
    kept = (await drafts_of(bot.runtime, cadre.id))["draft_activity"]
    assert kept.signup_deadline == kept.starts_at
