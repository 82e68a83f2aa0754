"""Broadcast services on SQLite and PostgreSQL: one row per recipient, once; controls; the report."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import broadcasts, outbox
from storage.audiences import DEPARTMENT, Audience
from storage.broadcasts import Content, StateError
from storage.db import transaction
from storage.models import Broadcast, Department, Member, Outbox
from tests.support.clock import T0
from tests.support.members import add_members

ADMIN_CHAT = 900000001
HELLO = Content("大家好")


async def rows(sessions: async_sessionmaker[AsyncSession], broadcast_id: int) -> list[Outbox]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Outbox)
                .where(Outbox.group_key == broadcasts.group_key(broadcast_id))
                .order_by(Outbox.id)
            )
        )


async def finish_all(
    sessions: async_sessionmaker[AsyncSession], now: datetime, outcome: str = "sent"
) -> None:
    """What the delivery worker would do: claim every due row and record an outcome."""
    while claimed := await outbox.claim(sessions, "test-worker", now, 500):
        async with transaction(sessions) as session:
            await outbox.start(session, [m.id for m in claimed], "test-worker", now=now)
            for message in claimed:
                if outcome == "sent":
                    await outbox.record_sent(session, message, now=now, telegram_message_id=1)
                else:
                    await outbox.record_blocked(session, message, now=now, error="Forbidden")


async def test_ten_thousand_recipients_get_one_row_each(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = await add_members(sessions, 10_000)
    async with transaction(sessions) as session:
        broadcast = await broadcasts.create(
            session,
            content=HELLO,
            audience=Audience(everyone=True),
            admin_chat_id=ADMIN_CHAT,
            now=T0,
        )
    found = await rows(sessions, broadcast.id)
    assert broadcast.recipients == 10_000 and broadcast.status == "sending"
    assert [r.member_id for r in found] == ids
    assert {r.key for r in found} == {f"broadcast:{broadcast.id}:{i}" for i in ids}
    assert {(r.kind, r.status, r.at_most_once) for r in found} == {("broadcast", "pending", True)}
    assert found[0].payload == {"method": "sendMessage", "params": {"text": "大家好"}}
    # Expanding again (a retried job) adds nothing.
    async with transaction(sessions) as session:
        again = await broadcasts.get(session, broadcast.id)
        assert await broadcasts.expand(session, again, now=T0) == 10_000
    assert len(await rows(sessions, broadcast.id)) == 10_000


async def test_scheduled_broadcast_starts_once_even_when_two_instances_race(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_members(sessions, departments=["装配车间"] * 30)
    async with transaction(sessions) as session:
        department = await session.scalar(select(Department.id))
        broadcast = await broadcasts.create(
            session,
            content=Content("<b>通知</b>", formatted=True, media_kind="photo", media_file_id="F1"),
            audience=Audience(items={DEPARTMENT.key: {department}}),
            admin_chat_id=ADMIN_CHAT,
            now=T0,
            scheduled_for=T0 + timedelta(hours=1),
        )
    assert await rows(sessions, broadcast.id) == []

    async def instance(now: datetime) -> list[int]:
        async with transaction(sessions) as session:
            return [b.id for b in await broadcasts.claim_due(session, now)]

    assert await instance(T0 + timedelta(minutes=59)) == []
    due = T0 + timedelta(hours=1)
    results = await asyncio.gather(instance(due), instance(due), instance(due))
    assert sorted(i for started in results for i in started) == [broadcast.id]
    found = await rows(sessions, broadcast.id)
    assert len(found) == 30
    assert found[0].payload == {
        "method": "sendPhoto",
        "params": {"photo": "F1", "caption": "<b>通知</b>"},
    }
    async with sessions() as session:
        started = await broadcasts.get(session, broadcast.id)
    assert (started.status, started.recipients, started.started_at) == ("sending", 30, due)


async def test_controls_follow_the_states(sessions: async_sessionmaker[AsyncSession]) -> None:
    await add_members(sessions, 5)
    async with transaction(sessions) as session:
        later = await broadcasts.create(
            session,
            content=HELLO,
            audience=Audience(everyone=True),
            admin_chat_id=ADMIN_CHAT,
            now=T0,
            scheduled_for=T0 + timedelta(days=1),
        )
        now = await broadcasts.create(
            session, content=HELLO, audience=Audience(everyone=True), admin_chat_id=1, now=T0
        )
    group = broadcasts.group_key(now.id)
    async with transaction(sessions) as session:
        with pytest.raises(StateError):
            await broadcasts.pause(session, later.id, now=T0)  # not sending yet
        with pytest.raises(StateError):
            await broadcasts.resume(session, now.id, now=T0)  # not paused
        await broadcasts.pause(session, now.id, now=T0)
    async with sessions() as session:
        assert {r.status for r in await rows(sessions, now.id)} == {"paused"}
        paused = await outbox.group_progress(session, group, now=T0)
    assert paused.remaining == 5 and paused.eta is None
    async with transaction(sessions) as session:
        # Paused is not finished: nothing to report yet.
        assert await broadcasts.finish_if_done(session, now.id, now=T0) is None
        await broadcasts.resume(session, now.id, now=T0)
        await broadcasts.cancel(session, later.id, now=T0)
    async with transaction(sessions) as session:
        cancelled = await broadcasts.get(session, later.id)
        assert (cancelled.status, cancelled.finished_at) == ("cancelled", T0)
        with pytest.raises(StateError) as caught:
            await broadcasts.cancel(session, later.id, now=T0)
        assert caught.value.status == "finished"
    # The cancelled schedule never starts.
    async with transaction(sessions) as session:
        assert await broadcasts.claim_due(session, T0 + timedelta(days=2)) == []


async def test_the_report_is_recorded_exactly_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_members(sessions, 6)
    async with transaction(sessions) as session:
        broadcast = await broadcasts.create(
            session, content=HELLO, audience=Audience(everyone=True), admin_chat_id=1, now=T0
        )
    # Two members' messages go, then the admin stops the rest.
    claimed = await outbox.claim(sessions, "w", T0, 2)
    async with transaction(sessions) as session:
        await outbox.start(session, [m.id for m in claimed], "w", now=T0)
        await outbox.record_sent(session, claimed[0], now=T0, telegram_message_id=1)
        await outbox.record_blocked(session, claimed[1], now=T0, error="Forbidden")
        await broadcasts.cancel(session, broadcast.id, now=T0)

    async def instance() -> Broadcast | None:
        async with transaction(sessions) as session:
            return await broadcasts.finish_if_done(session, broadcast.id, now=T0)

    results = [r for r in await asyncio.gather(instance(), instance(), instance()) if r]
    async with sessions() as session:
        final = await broadcasts.get(session, broadcast.id)
    assert len(results) <= 1 and final.finished_at == T0
    assert (final.status, final.sent, final.blocked, final.failed, final.cancelled) == (
        "cancelled",
        1,
        1,
        0,
        4,
    )
    tally = await _tally(sessions, final)
    assert (tally.recipients, tally.sent, tally.remaining) == (6, 1, 0)


async def test_finished_when_the_last_row_is_final(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_members(sessions, 4)
    async with transaction(sessions) as session:
        broadcast = await broadcasts.create(
            session, content=HELLO, audience=Audience(everyone=True), admin_chat_id=1, now=T0
        )
    async with transaction(sessions) as session:
        assert await broadcasts.finish_if_done(session, broadcast.id, now=T0) is None
    live = await _tally(sessions, broadcast, rate=2.0)
    assert (live.remaining, live.eta) == (4, timedelta(seconds=2))
    await finish_all(sessions, T0)
    async with transaction(sessions) as session:
        done = await broadcasts.finish_if_done(session, broadcast.id, now=T0 + timedelta(seconds=9))
        assert done is not None and (done.status, done.sent) == ("done", 4)
        assert await broadcasts.finish_if_done(session, broadcast.id, now=T0) is None
        assert await broadcasts.unfinished(session) == []


async def test_an_empty_audience_finishes_at_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(sessions) as session:
        broadcast = await broadcasts.create(
            session, content=HELLO, audience=Audience(tags={"nobody"}), admin_chat_id=1, now=T0
        )
        assert broadcast.recipients == 0
        done = await broadcasts.finish_if_done(session, broadcast.id, now=T0)
    assert done is not None and done.status == "done"


async def test_progress_edits_are_rate_limited_across_instances(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(sessions) as session:
        broadcast = await broadcasts.create(
            session, content=HELLO, audience=Audience(tags={"x"}), admin_chat_id=1, now=T0
        )
    interval = timedelta(seconds=3)

    async def turn(at: datetime) -> bool:
        async with transaction(sessions) as session:
            return await broadcasts.claim_progress_turn(
                session, broadcast.id, now=at, interval=interval
            )

    assert await asyncio.gather(turn(T0), turn(T0)) in ([True, False], [False, True])
    assert await turn(T0 + timedelta(seconds=2)) is False
    assert await turn(T0 + timedelta(seconds=3)) is True
    async with transaction(sessions) as session:
        assert await broadcasts.claim_progress_message(session, broadcast.id) is True
        assert await broadcasts.claim_progress_message(session, broadcast.id) is False


async def test_list_is_newest_first_and_paged(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessions) as session:
        for n in range(11):
            await broadcasts.create(
                session,
                content=Content(f"#{n}"),
                audience=Audience(tags={"x"}),
                admin_chat_id=1,
                now=T0,
            )
    async with sessions() as session:
        first = await broadcasts.list_page(session, 0)
        last = await broadcasts.list_page(session, 99)
    assert [b.text for b in first.items] == [f"#{n}" for n in range(10, 2, -1)]
    assert (last.page, [b.text for b in last.items]) == (1, ["#2", "#1", "#0"])


async def _tally(
    sessions: async_sessionmaker[AsyncSession], broadcast: Broadcast, rate: float | None = None
) -> broadcasts.Tally:
    async with sessions() as session:
        fresh = await broadcasts.get(session, broadcast.id)
        return await broadcasts.tally(session, fresh, now=T0, rate=rate)


def test_keys_and_statuses_fit_the_outbox() -> None:
    assert broadcasts.message_key(12, 34) == "broadcast:12:34"
    assert broadcasts.report_key(12) != broadcasts.message_key(12, 0)
    assert broadcasts.group_key(12) == "broadcast:12"


async def test_a_scheduled_bilingual_broadcast_gives_each_row_its_members_version(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    ids = await add_members(sessions, 2_000)
    english = set(ids[::3])
    async with transaction(sessions) as session:
        await session.execute(update(Member).where(Member.id.in_(english)).values(language="en"))
        broadcast = await broadcasts.create(
            session,
            content=Content("<b>通知</b>", True, "photo", "F1", text_en="<b>Notice</b>"),
            audience=Audience(everyone=True),
            admin_chat_id=ADMIN_CHAT,
            now=T0,
            scheduled_for=T0 + timedelta(hours=1),
        )
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with transaction(sessions) as session:
            (started,) = await broadcasts.claim_due(session, T0 + timedelta(hours=1))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert started.id == broadcast.id and started.recipients == 2_000
    # Pages of members and batches of rows: no query per member.
    assert len(statements) < 60
    captions = {
        r.member_id: r.payload["params"]["caption"]
        for r in await rows(sessions, started.id)
        if r.payload
    }
    assert len(captions) == 2_000
    assert {m for m, c in captions.items() if c == "<b>Notice</b>"} == english
    assert {c for m, c in captions.items() if m not in english} == {"<b>通知</b>"}
