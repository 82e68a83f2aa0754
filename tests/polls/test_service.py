"""The poll services on SQLite and PostgreSQL: counting, refusals, anonymity, closing once."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Sequence
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.runtime import Runtime
from jobs import polls as poll_jobs
from storage import outbox, polls
from storage.audiences import Audience
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Member, Outbox, Poll, PollBallot, Role
from storage.poll_rules import VoteRefused
from storage.polls import PollDraft, PollKeys, PollView
from tests.support.clock import T0
from tests.support.members import add_member_rows
from tests.support.polls import KEYS


async def make_poll(
    sessions: async_sessionmaker[AsyncSession],
    options: Sequence[str] = ("甲", "乙", "丙", "丁"),
    *,
    creator: Member | None = None,
    publish: bool = False,
    **settings: object,
) -> PollView:
    draft = PollDraft(question="测试问题", options=tuple(options), **settings)  # type: ignore[arg-type]
    async with transaction(sessions) as session:
        view = await polls.create(
            session, draft, creator_id=creator.id if creator else None, now=T0
        )
        if publish:
            await polls.publish(
                session,
                view,
                now=T0,
                message_for=lambda language: outbox.payload("sendMessage", text="poll"),
            )
    return view


async def vote(
    sessions: async_sessionmaker[AsyncSession],
    view: PollView,
    member: Member,
    position: int,
    *,
    at: timedelta = timedelta(0),
) -> int:
    async with transaction(sessions) as session:
        outcome = await polls.vote(session, view.id, member, position, now=T0 + at, keys=KEYS)
    return outcome.after


async def tally(sessions: async_sessionmaker[AsyncSession], view: PollView) -> polls.Tally:
    async with sessions() as session:
        return await polls.tally(session, view)


async def test_burst_of_1000_members_each_counted_once(engine: AsyncEngine) -> None:
    """1,000 members vote within the same second, 200 of them double-tapping: every vote
    lands once. The taps run concurrently, each in its own transaction, as updates do.

    1,200 transactions share 20 connections: on a busy machine the last wait longer
    than the production pool timeout, which is about speed, not counting. This test
    waits for a connection as long as it takes."""
    patient = make_engine(str(engine.url.render_as_string(hide_password=False)), pool_timeout=600)
    sessions = make_session_factory(patient)
    try:
        await _burst(sessions)
    finally:
        await patient.dispose()


async def _burst(sessions: async_sessionmaker[AsyncSession]) -> None:
    people = await add_member_rows(sessions, departments=["装配车间"] * 1000)
    view = await make_poll(sessions)
    taps = [vote(sessions, view, m, i % 4) for i, m in enumerate(people)]
    taps += [vote(sessions, view, m, i % 4) for i, m in enumerate(people[:200])]
    started = time.perf_counter()
    await asyncio.gather(*taps)
    elapsed = time.perf_counter() - started
    result = await tally(sessions, view)
    assert result.voters == 1000 and result.counts == (250, 250, 250, 250)
    async with sessions() as session:
        ballots = await session.scalar(
            select(func.count()).select_from(PollBallot).where(PollBallot.poll_id == view.id)
        )
    assert ballots == 1000
    print(f"1,200 taps by 1,000 members recorded in {elapsed:.2f}s")


async def test_changes_and_withdrawals_follow_the_rules(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    (wang, li) = await add_member_rows(sessions, departments=["装配车间", "质检科"])
    single = await make_poll(sessions)
    assert await vote(sessions, single, wang, 0) == 0b1
    assert await vote(sessions, single, wang, 2) == 0b100
    assert await vote(sessions, single, wang, 2) == 0b100  # a double tap keeps the choice
    multiple = await make_poll(sessions, multiple=True, max_choices=2)
    assert await vote(sessions, multiple, li, 0) == 0b1
    assert await vote(sessions, multiple, li, 3) == 0b1001
    with pytest.raises(VoteRefused) as refused:
        await vote(sessions, multiple, li, 1)
    assert refused.value.code == "too_many"
    assert await vote(sessions, multiple, li, 0) == 0b1000
    assert await vote(sessions, multiple, li, 3) == 0  # withdrawn
    assert (await tally(sessions, multiple)).voters == 0
    assert (await tally(sessions, single)).counts == (0, 0, 1, 0)


async def test_refusals(sessions: async_sessionmaker[AsyncSession]) -> None:
    (wang, zhang) = await add_member_rows(sessions, departments=["装配车间", "质检科"])
    async with sessions() as session:
        quality = zhang.department_id
    view = await make_poll(
        sessions,
        audience=Audience(items={"dept": frozenset({quality})}),
        closes_at=T0 + timedelta(hours=1),
    )
    cases = [
        (wang, 0, timedelta(0), "not_in_audience"),
        (zhang, 4, timedelta(0), "no_such_option"),
        (zhang, -1, timedelta(0), "no_such_option"),
        (zhang, 0, timedelta(hours=1), "closed"),  # due, though the job has not run yet
    ]
    for person, position, at, code in cases:
        with pytest.raises(VoteRefused) as refused:
            await vote(sessions, view, person, position, at=at)
        assert refused.value.code == code
    async with transaction(sessions) as session:
        assert await polls.close(session, view.id, now=T0) is not None
    with pytest.raises(VoteRefused) as refused:
        await vote(sessions, view, zhang, 0)
    assert refused.value.code == "closed"
    async with transaction(sessions) as session:
        with pytest.raises(VoteRefused) as refused:
            await polls.vote(session, 10_000, zhang, 0, now=T0, keys=KEYS)
    assert refused.value.code == "gone"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PollBallot)) == 0


async def test_anonymous_ballots_hold_no_link_to_the_member(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    (wang,) = await add_member_rows(sessions, departments=["装配车间"])
    anonymous = await make_poll(sessions)
    named = await make_poll(sessions, anonymous=False)
    await vote(sessions, anonymous, wang, 1)
    await vote(sessions, named, wang, 1)
    async with sessions() as session:
        rows = {
            b.poll_id: b for b in await session.scalars(select(PollBallot).order_by(PollBallot.id))
        }
    secret_ballot, open_ballot = rows[anonymous.id], rows[named.id]
    assert secret_ballot.member_id is None and open_ballot.member_id == wang.id
    # What a leaked dump shows: a hash nobody can recompute without the key, and a
    # sealed department.
    assert len(secret_ballot.voter_key) == 64
    unkeyed = hashlib.sha256(f"{anonymous.id}:{wang.id}".encode()).hexdigest()
    assert secret_ballot.voter_key != unkeyed
    assert secret_ballot.department_sealed is not None
    assert secret_ballot.department_sealed.startswith("v1.")
    assert KEYS.open_department(anonymous.id, secret_ballot.department_sealed) == (
        wang.department_id
    )
    # The keyed hash depends on the secret: another key cannot recompute it.
    other = PollKeys.from_secret("another-secret-key-0123456789abcdef0123")
    assert secret_ballot.voter_key == KEYS.voter_key(anonymous.id, wang.id)
    assert secret_ballot.voter_key != other.voter_key(anonymous.id, wang.id)
    assert other.open_department(anonymous.id, secret_ballot.department_sealed) is None
    async with sessions() as session:
        view = await polls.get(session, anonymous.id)
        with pytest.raises(PermissionError):
            await polls.named_votes(session, view)
        (vote_row,) = await polls.named_votes(session, await polls.get(session, named.id))
    assert vote_row.name == wang.name and vote_row.positions == (1,)


async def test_breakdown_never_shows_a_count_under_five(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    people = await add_member_rows(
        sessions, departments=["装配车间"] * 12 + ["质检科"] * 3 + ["职工食堂"] * 2
    )
    view = await make_poll(sessions, ("甲", "乙"))
    choices = [0] * 7 + [1] * 5 + [0, 0, 1] + [1, 1]
    for person, choice in zip(people, choices, strict=True):
        await vote(sessions, view, person, choice)
    async with sessions() as session:
        rows = await polls.department_breakdown(session, view, KEYS, no_department="未填部门")
    assert rows.departments == ("未填部门", "职工食堂", "质检科", "装配车间")  # by pinyin
    by_name = dict(zip(rows.departments, rows.table.cells, strict=True))
    assert by_name["装配车间"] == (7, 5) and rows.voters(3) == 12
    assert all(v is None for v in by_name["质检科"] + by_name["职工食堂"] + by_name["未填部门"])
    smaller = await make_poll(sessions)
    for person in people[:9]:
        await vote(sessions, smaller, person, 2)
    async with sessions() as session:
        rows = await polls.department_breakdown(session, smaller, KEYS, no_department="未填部门")
    # 9 votes for one option, all from 装配车间: shown, it would say no one else chose it.
    assert all(v is None for row in rows.table.cells for v in row)


async def test_closing_job_sends_results_once_across_concurrent_runs(
    sessions: async_sessionmaker[AsyncSession], runtime: Runtime
) -> None:
    creator, *others = await add_member_rows(
        sessions, departments=["行政办公室", "装配车间", "质检科", "职工食堂"]
    )
    view = await make_poll(
        sessions,
        creator=creator,
        publish=True,
        closes_at=T0 + timedelta(days=2),
        remind=True,
    )
    await vote(sessions, view, others[0], 0)
    await vote(sessions, view, others[1], 1)
    reminder_time = T0 + timedelta(days=1, minutes=1)
    first = await asyncio.gather(*(poll_jobs.run(runtime, reminder_time) for _ in range(4)))
    assert sum(r.reminded for r in first) == 2  # the creator and others[2]
    closing_time = T0 + timedelta(days=2)
    second = await asyncio.gather(*(poll_jobs.run(runtime, closing_time) for _ in range(4)))
    assert sum(r.closed for r in second) == 1
    await poll_jobs.run(runtime, closing_time + timedelta(hours=1))
    async with sessions() as session:
        keys = sorted(await session.scalars(select(Outbox.key).where(Outbox.key.like("poll:%"))))
        closed = await session.get(Poll, view.id)
    reminded = [k for k in keys if ":remind:" in k]
    results = [k for k in keys if ":result:" in k]
    # The reminded are the non-voters: keyed hashes, never member ids.
    assert sorted(reminded) == sorted(
        KEYS.reminder_key(view.id, m.id) for m in (creator, others[2])
    )
    async with sessions() as session:
        rows = list(await session.scalars(select(Outbox).where(Outbox.key.in_(reminded))))
    assert rows and all(r.member_id is None and r.sensitive for r in rows)
    # Never sent here (no worker runs): the close cancelled them, and a final sensitive
    # row keeps no chat at all (before, a pseudonym below any Telegram id).
    assert all(r.status == "cancelled" and r.chat_id == outbox.SCRUBBED_CHAT for r in rows)
    # Results go to everyone asked, so who got one says nothing of who voted.
    assert sorted(int(k.rsplit(":", 1)[1]) for k in results) == sorted(
        [creator.id, *(o.id for o in others)]
    )
    assert closed is not None and closed.status == "closed" and closed.closed_at == closing_time


async def test_extend_delete_and_settings(sessions: async_sessionmaker[AsyncSession]) -> None:
    (cadre,) = await add_member_rows(sessions, departments=["行政办公室"])
    view = await make_poll(
        sessions, creator=cadre, publish=True, closes_at=T0 + timedelta(days=1), remind=True
    )
    async with transaction(sessions) as session:
        extended = await polls.extend(session, view.id, timedelta(days=3), now=T0)
    assert extended.poll.closes_at == T0 + timedelta(days=4)
    assert extended.poll.remind_at == T0 + timedelta(days=3)
    async with transaction(sessions) as session:
        assert not await polls.may_create(session, Role.CADRE)
        await polls.set_cadres_may_create(session, True)
    async with transaction(sessions) as session:
        assert await polls.may_create(session, Role.CADRE)
        assert await polls.may_create(session, Role.ADMIN)
        assert not await polls.may_create(session, Role.MEMBER)
        assert polls.may_manage(extended.poll, Role.CADRE, cadre.id)
        assert not polls.may_manage(extended.poll, Role.CADRE, cadre.id + 1)
        await polls.remove(session, view.id, now=T0)
    async with sessions() as session:
        statuses = set(
            await session.scalars(
                select(Outbox.status).where(Outbox.group_key == f"poll:{view.id}")
            )
        )
        assert statuses == {"cancelled"}
        assert await session.get(Poll, view.id) is None


async def test_member_list_follows_the_audience(sessions: async_sessionmaker[AsyncSession]) -> None:
    (wang, zhang) = await add_member_rows(sessions, departments=["装配车间", "质检科"])
    everyone = await make_poll(sessions, ["是", "否"])
    only_quality = await make_poll(
        sessions, ["是", "否"], audience=Audience(items={"dept": frozenset({zhang.department_id})})
    )
    await vote(sessions, everyone, wang, 0)
    async with sessions() as session:
        seen = await polls.for_member(session, wang, Role.MEMBER, now=T0, keys=KEYS)
        assert [(s.id, s.voted) for s in seen] == [(everyone.id, True)]
        seen = await polls.for_member(session, zhang, Role.MEMBER, now=T0, keys=KEYS)
        assert {s.id for s in seen} == {everyone.id, only_quality.id}
        seen = await polls.for_member(session, wang, Role.ADMIN, now=T0, keys=KEYS)
        assert all(s.manageable for s in seen) and len(seen) == 2


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    sequence=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3)), max_size=25),
    multiple=st.booleans(),
    limit=st.integers(1, 4),
)
async def test_stored_totals_equal_each_member_s_final_choice(
    sessions: async_sessionmaker[AsyncSession],
    sequence: list[tuple[int, int]],
    multiple: bool,
    limit: int,
) -> None:
    """Any sequence of votes and changes, through the real service and database: the
    totals the database sums are exactly each member's final choice."""
    async with sessions() as session:
        people = list(
            await session.scalars(
                select(Member).where(Member.telegram_id >= 500_000).order_by(Member.telegram_id)
            )
        )
    if not people:
        people = await add_member_rows(
            sessions, departments=["装配车间", "质检科"] * 2 + ["职工食堂"], first=500_000
        )
    view = await make_poll(sessions, multiple=multiple, max_choices=limit)
    model: dict[int, set[int]] = {i: set() for i in range(len(people))}
    for index, position in sequence:
        choices = model[index]
        try:
            await vote(sessions, view, people[index], position)
        except VoteRefused as refused:
            assert refused.code == "too_many" and len(choices) >= view.poll.max_choices
            continue
        if not multiple:
            model[index] = {position}
        else:
            choices ^= {position}
    result = await tally(sessions, view)
    assert result.voters == sum(1 for c in model.values() if c)
    assert list(result.counts) == [sum(p in c for c in model.values()) for p in range(4)]
    async with sessions() as session:
        for index, person in enumerate(people):
            mask = await polls.current_choice(session, view.id, person.id, KEYS)
            assert {p for p in range(4) if mask >> p & 1} == model[index]


async def test_a_copy_in_flight_at_the_close_is_edited_once_it_lands(
    sessions: async_sessionmaker[AsyncSession], runtime: Runtime
) -> None:
    creator, member = await add_member_rows(sessions, departments=["行政办公室", "装配车间"])
    view = await make_poll(
        sessions, creator=creator, publish=True, closes_at=T0 + timedelta(days=2)
    )
    key = polls.message_key(view.id, member.id)
    async with transaction(sessions) as session:  # being sent when the poll closes
        row = await session.scalar(select(Outbox).where(Outbox.key == key))
        assert row is not None
        row.status = "sending"
    closing_time = T0 + timedelta(days=2)
    assert (await poll_jobs.run(runtime, closing_time)).closed == 1

    async def edits() -> list[Outbox]:
        async with sessions() as session:
            return list(await session.scalars(select(Outbox).where(Outbox.kind == "poll-closed")))

    assert await edits() == []  # nothing had landed; the creator's copy was cancelled
    async with sessions() as session:  # still in flight: looked at again
        assert await polls.closed_with_late_copies(session, closing_time, timedelta(hours=6))
    async with transaction(sessions) as session:  # it lands after the close
        row = await session.scalar(select(Outbox).where(Outbox.key == key))
        assert row is not None
        row.status, row.telegram_message_id = "sent", 77
        row.finished_at = closing_time + timedelta(minutes=1)
    for minutes in (2, 3):
        await poll_jobs.run(runtime, closing_time + timedelta(minutes=minutes))
    (edit,) = await edits()
    assert edit.key == f"poll:{view.id}:closed:{member.id}:77"
    assert edit.payload is not None and edit.payload["method"] == "editMessageText"
    params = edit.payload["params"]
    assert params["message_id"] == 77
    labels = [b["callback_data"] for row in params["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == [f"pres:{view.id}"]  # results only, no vote button
    # Six hours on, a closed poll is not looked at again.
    async with sessions() as session:
        later = closing_time + timedelta(hours=7)
        assert await polls.closed_with_late_copies(session, later, timedelta(hours=6)) == []
