"""The outbox state machine, as a table and as the database actually applies it.

Properties: no move out of a final state; ``attempts`` never decreases; every
observed change is an edge of the table; and after any history, draining the
outbox leaves every row in exactly one final state. And what makes a crash
cost only what was in flight: a row is ``sending`` only if its start was
marked, a row never started is never counted as attempted nor settled as
"interrupted", and recovery hands it back to ``pending``.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import outbox
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Base, Outbox
from storage.outbox import FINAL, TRANSITIONS, Event, Status, next_status
from tests.support.clock import T0

EDGES = {(source, target) for sources, target in TRANSITIONS.values() for source in sources}


def test_the_table_has_no_way_out_of_a_final_state() -> None:
    for sources, _target in TRANSITIONS.values():
        assert not sources & FINAL
    assert {Status.SENT, Status.BLOCKED, Status.INVALID, Status.FAILED, Status.CANCELLED} == FINAL


def test_every_state_can_reach_a_final_state() -> None:
    reachable = set(FINAL)
    changed = True
    while changed:
        changed = False
        for source, target in EDGES:
            if target in reachable and source not in reachable:
                reachable.add(source)
                changed = True
    assert reachable == set(Status)


@given(st.lists(st.sampled_from(list(Event)), max_size=60))
def test_random_event_sequences_never_leave_a_final_state(events: list[Event]) -> None:
    status = Status.PENDING
    for happened in events:
        after = next_status(status, happened)
        if status in FINAL:
            assert after is None
        if after is not None:
            assert (status, after) in EDGES
            status = after


# Against the database ---------------------------------------------------------

Op = tuple[Any, ...]
OPS = st.one_of(
    st.tuples(st.just("enqueue"), st.integers(0, 12), st.sampled_from(["g1", "g2", None])),
    st.tuples(st.just("claim"), st.sampled_from(["a", "b"]), st.integers(1, 5)),
    st.tuples(st.just("start"), st.integers(0, 20), st.integers(1, 3)),
    st.tuples(
        st.just("outcome"),
        st.integers(0, 20),
        st.sampled_from(["sent", "blocked", "invalid", "retry", "failed", "release"]),
    ),
    st.tuples(st.sampled_from(["pause", "resume", "cancel"]), st.sampled_from(["g1", "g2"])),
    st.tuples(st.just("tick"), st.integers(1, 90)),
    st.tuples(st.just("recover")),
    st.tuples(st.just("renew"), st.sampled_from(["a", "b"])),
)
LEASE = timedelta(seconds=30)


Snapshot = dict[int, tuple[str, int, str | None]]


async def _snapshot(sessions: async_sessionmaker[AsyncSession]) -> Snapshot:
    async with sessions() as session:
        rows = await session.execute(
            select(Outbox.id, Outbox.status, Outbox.attempts, Outbox.last_error)
        )
        return {row.id: (row.status, row.attempts, row.last_error) for row in rows}


def _check(before: Snapshot, after: Snapshot, started: set[int], *, one_step: bool = True) -> None:
    assert set(before) <= set(after)  # rows are never lost
    for row_id, (was, attempts, _error) in before.items():
        now, now_attempts, _now_error = after[row_id]
        assert now_attempts >= attempts
        if Status(was) in FINAL:
            assert now == was
        elif now != was and one_step:
            assert (Status(was), Status(now)) in EDGES
        if was == Status.CLAIMED and one_step:
            assert now_attempts == attempts  # no request, no attempt
    for row_id, (now, attempts, error) in after.items():
        if row_id not in started:
            # Never started: never in flight, never counted, never "interrupted".
            assert now != Status.SENDING and attempts == 0, (row_id, now, attempts)
            assert error not in (outbox.INTERRUPTED_DROPPED, outbox.INTERRUPTED_RESENT)


async def _apply(
    sessions: async_sessionmaker[AsyncSession],
    op: Op,
    clock: list[Any],
    held: list[outbox.ClaimedMessage],
    started: set[int],
) -> None:
    now = clock[0]
    name = op[0]
    if name == "enqueue":
        item = outbox.Outgoing(
            key=f"k{op[1]}",
            kind="test",
            chat_id=100 + op[1],
            payload=outbox.payload("sendMessage", text="hi"),
            group_key=op[2],
            at_most_once=op[1] % 2 == 0,
        )
        async with transaction(sessions) as session:
            await outbox.enqueue_many(session, [item], now=now)
    elif name == "claim":
        held.extend(await outbox.claim(sessions, op[1], now, op[2]))
    elif name == "start" and held:
        chosen = [held[(op[1] + i) % len(held)] for i in range(op[2])]
        by_worker: dict[str, list[int]] = {}
        for message in chosen:
            by_worker.setdefault(message.claimed_by, []).append(message.id)
        async with transaction(sessions) as session:
            for worker, ids in by_worker.items():
                marked = await outbox.start(session, ids, worker, now=now)
                assert marked <= set(ids)
                started.update(marked)
    elif name == "outcome" and held:
        message = held.pop(op[1] % len(held))
        async with transaction(sessions) as session:
            await _record(session, message, op[2], now)
    elif name in ("pause", "resume", "cancel"):
        action = {
            "pause": outbox.pause_group,
            "resume": outbox.resume_group,
            "cancel": outbox.cancel_group,
        }[name]
        async with transaction(sessions) as session:
            await action(session, op[1], now=now)
    elif name == "tick":
        clock[0] = now + timedelta(seconds=op[1])
    elif name == "recover":
        async with transaction(sessions) as session:
            await outbox.recover_interrupted(session, now=now, lease=LEASE)
    elif name == "renew":
        async with transaction(sessions) as session:
            await outbox.renew_claims(session, op[1], now)


async def _record(
    session: AsyncSession, message: outbox.ClaimedMessage, kind: str, now: Any
) -> None:
    if kind == "sent":
        await outbox.record_sent(session, message, now=now, telegram_message_id=1)
    elif kind == "blocked":
        await outbox.record_blocked(session, message, now=now, error="Forbidden")
    elif kind == "invalid":
        await outbox.record_invalid(session, message, now=now, error="Bad Request")
    elif kind == "retry":
        await outbox.record_retry(
            session, message, now=now, backoff=timedelta(seconds=5), error="Bad Gateway"
        )
    elif kind == "failed":
        await outbox.record_failed(session, message, now=now, error="gave up")
    else:
        await outbox.release(session, [message])


async def _drain(
    sessions: async_sessionmaker[AsyncSession], clock: list[Any], started: set[int]
) -> None:
    """What the worker does eventually: resume, recover, and send everything."""
    clock[0] += timedelta(hours=1)
    async with transaction(sessions) as session:
        for group in ("g1", "g2"):
            await outbox.resume_group(session, group, now=clock[0])
        await outbox.recover_interrupted(session, now=clock[0], lease=LEASE)
    while claimed := await outbox.claim(sessions, "drain", clock[0], 50):
        async with transaction(sessions) as session:
            ids = {m.id for m in claimed}
            assert await outbox.start(session, ids, "drain", now=clock[0]) == ids
            started.update(ids)
            for message in claimed:
                await outbox.record_sent(session, message, now=clock[0], telegram_message_id=1)


async def _scenario(ops: list[Op]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(folder) / 'sm.sqlite3'}")
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            sessions = make_session_factory(engine)
            clock: list[Any] = [T0]
            held: list[outbox.ClaimedMessage] = []
            started: set[int] = set()
            before = await _snapshot(sessions)
            for op in ops:
                await _apply(sessions, op, clock, held, started)
                after = await _snapshot(sessions)
                _check(before, after, started)
                before = after
            await _drain(sessions, clock, started)
            final = await _snapshot(sessions)
            _check(before, final, started, one_step=False)
            assert all(Status(status) in FINAL for status, _, _ in final.values())
            async with sessions() as session:
                unfinished = await session.scalar(
                    select(Outbox.id).where(Outbox.finished_at.is_(None)).limit(1)
                )
            assert unfinished is None
        finally:
            await engine.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, min_size=1, max_size=30))
def test_any_history_respects_the_table_and_drains_to_final_states(ops: list[Op]) -> None:
    asyncio.run(_scenario(ops))
