"""Outbox services on SQLite and PostgreSQL: idempotent enqueue, claim, outcomes, batches."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import members, outbox
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import upgrade
from storage.models import Outbox, utc_day
from tests.support.clock import T0
from tests.support.config import SECRET
from tests.support.members import new_member

MSG = outbox.payload("sendMessage", text="hello")


def item(n: int, **overrides: object) -> outbox.Outgoing:
    values: dict[str, object] = {
        "key": f"test:{n}",
        "kind": "test",
        "chat_id": 1000 + n,
        "payload": MSG,
    }
    values.update(overrides)
    return outbox.Outgoing(**values)  # type: ignore[arg-type]


async def add(sessions: async_sessionmaker[AsyncSession], *items: outbox.Outgoing) -> int:
    async with transaction(sessions) as session:
        return await outbox.enqueue_many(
            session, items, now=T0, cipher=outbox.outbox_cipher(SECRET)
        )


async def row(sessions: async_sessionmaker[AsyncSession], key: str) -> Outbox:
    async with sessions() as session:
        found = await session.scalar(select(Outbox).where(Outbox.key == key))
        assert found is not None
        return found


async def test_enqueue_is_idempotent_on_key(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessions) as session:
        first = await outbox.enqueue(
            session, key="broadcast:1:member:1", kind="broadcast", chat_id=5, payload=MSG, now=T0
        )
        again = await outbox.enqueue(
            session, key="broadcast:1:member:1", kind="broadcast", chat_id=5, payload=MSG, now=T0
        )
    assert (first, again) == (True, False)
    assert await add(sessions, item(1), item(1), item(2)) == 2
    assert await add(sessions, item(1), item(2), item(3)) == 1
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Outbox)) == 4


async def test_bulk_enqueue_of_ten_thousand(sessions: async_sessionmaker[AsyncSession]) -> None:
    rows = (item(n, group_key="broadcast:9") for n in range(10_000))
    assert await add(sessions, *rows) == 10_000
    assert await add(sessions, *(item(n) for n in range(9_990, 10_010))) == 10
    async with sessions() as session:
        progress = await outbox.group_progress(session, "broadcast:9", now=T0, rate=25)
    assert progress.count(outbox.Status.PENDING) == 10_000
    assert progress.eta == timedelta(seconds=400)


async def test_claim_takes_due_rows_most_urgent_first(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add(
        sessions,
        item(1, priority=outbox.PRIORITY_BULK),
        item(2, priority=outbox.PRIORITY_NOTICE),
        item(3, not_before=T0 + timedelta(minutes=5)),
        item(4, priority=outbox.PRIORITY_BULK),
    )
    claimed = await outbox.claim(sessions, "w1", T0, 10)
    assert [m.key for m in claimed] == ["test:2", "test:1", "test:4"]
    assert all(m.claimed_by == "w1" and m.attempts == 0 for m in claimed)
    assert await outbox.claim(sessions, "w2", T0, 10) == []
    async with sessions() as session:
        assert await outbox.next_due(session) == T0 + timedelta(minutes=5)
    later = await outbox.claim(sessions, "w2", T0 + timedelta(minutes=5), 10)
    assert [m.key for m in later] == ["test:3"]


async def test_outcomes_are_recorded_once_by_the_claim_holder(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add(sessions, *(item(n) for n in range(5)))
    m0, m1, m2, m3, m4 = await outbox.claim(sessions, "w1", T0, 10)
    t1 = T0 + timedelta(seconds=3)
    async with transaction(sessions) as session:
        # No request was started for a merely claimed row: it cannot have been sent.
        assert not await outbox.record_sent(session, m0, now=t1, telegram_message_id=76)
        # Only the holder marks its rows as started.
        assert await outbox.start(session, [m0.id, m2.id], "w2", now=t1) == set()
        started = {m0.id, m2.id, m3.id}
        assert await outbox.start(session, started, "w1", now=t1) == started
        assert await outbox.start(session, started, "w1", now=t1) == set()  # once
        assert await outbox.record_sent(session, m0, now=t1, telegram_message_id=77)
        assert not await outbox.record_sent(session, m0, now=t1, telegram_message_id=78)
        assert await outbox.record_invalid(session, m1, now=t1, error="Bad Request: chat not found")
        assert await outbox.record_retry(
            session, m2, now=t1, backoff=timedelta(seconds=30), error="Bad Gateway"
        )
        assert await outbox.record_failed(session, m3, now=t1, error="gave up")
    sent = await row(sessions, "test:0")
    assert (sent.status, sent.telegram_message_id, sent.sent_at, sent.attempts) == (
        "sent",
        77,
        t1,
        1,
    )
    invalid = await row(sessions, "test:1")
    assert (invalid.status, invalid.last_error) == ("invalid", "Bad Request: chat not found")
    retried = await row(sessions, "test:2")
    assert (retried.status, retried.not_before, retried.attempts) == (
        "pending",
        t1 + timedelta(seconds=30),
        1,
    )
    assert (await row(sessions, "test:3")).status == "failed"
    # Another worker cannot record the outcome of a row it does not hold.
    stolen = outbox.ClaimedMessage(**{**m4.__dict__, "claimed_by": "w2"})
    async with transaction(sessions) as session:
        assert not await outbox.record_sent(session, stolen, now=t1, telegram_message_id=1)
        assert await outbox.release(session, [m4]) == 1
    released = await row(sessions, "test:4")
    assert (released.status, released.attempts) == ("pending", 0)


async def test_blocked_member_is_marked_and_later_rows_are_flagged(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(sessions) as session:
        member = new_member(4242, name="Li")
        session.add(member)
        await session.flush()
        member_id = member.id
    await add(sessions, item(1, chat_id=4242, member_id=member_id))
    (first,) = await outbox.claim(sessions, "w1", T0, 10)
    assert not first.member_blocked
    async with transaction(sessions) as session:
        await outbox.start(session, [first.id], "w1", now=T0)
        await outbox.record_blocked(
            session, first, now=T0, error="Forbidden: bot was blocked by the user"
        )
    async with sessions() as session:
        blocked = await members.get_member(session, 4242)
        assert blocked is not None and blocked.blocked_at == utc_day(T0)  # the day only
    await add(sessions, item(2, chat_id=4242, member_id=member_id), item(3, chat_id=-100))
    flagged = {m.key: m.member_blocked for m in await outbox.claim(sessions, "w1", T0, 10)}
    assert flagged == {"test:2": True, "test:3": False}
    # /forget deletes the member; the outbox keeps its rows, unlinked.
    async with transaction(sessions) as session:
        await members.forget(session, 4242)
    assert (await row(sessions, "test:1")).member_id is None


async def test_sensitive_payload_is_sealed_bound_and_erased(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    reply = outbox.payload("sendMessage", text="the cadre's answer about your wages")
    await add(sessions, item(1, payload=reply, sensitive=True), item(2, payload=reply))
    async with engine.connect() as conn:
        raw = (await conn.execute(text("SELECT payload FROM outbox WHERE key = 'test:1'"))).one()
    assert "wages" not in str(raw[0])
    claimed = {m.key: m for m in await outbox.claim(sessions, "w1", T0, 10)}
    cipher = outbox.outbox_cipher(SECRET)
    method, params = claimed["test:1"].open(cipher)
    assert method == "sendMessage"
    assert params == {"chat_id": 1001, "text": "the cadre's answer about your wages"}
    with pytest.raises(outbox.PayloadError):
        claimed["test:1"].open(outbox.outbox_cipher("x" * 40))
    # A sealed payload copied into another row (another chat) does not open there.
    moved = outbox.ClaimedMessage(**{**claimed["test:1"].__dict__, "chat_id": 666})
    with pytest.raises(outbox.PayloadError):
        moved.open(cipher)
    async with transaction(sessions) as session:
        await outbox.start(session, [m.id for m in claimed.values()], "w1", now=T0)
        for message in claimed.values():
            await outbox.record_sent(session, message, now=T0, telegram_message_id=1)
    sealed, plain = await row(sessions, "test:1"), await row(sessions, "test:2")
    assert sealed.payload is None
    # Nor does it say whom it went to: no lining up of notice times with case events.
    assert (sealed.chat_id, sealed.member_id) == (outbox.SCRUBBED_CHAT, None)
    assert (plain.payload, plain.chat_id) == (reply, 1002)


async def test_sensitive_rows_need_the_cipher_and_payloads_their_shape(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(sessions) as session:
        with pytest.raises(outbox.PayloadError):
            await outbox.enqueue_many(session, [item(1, sensitive=True)], now=T0)
        with pytest.raises(outbox.PayloadError):
            await outbox.enqueue_many(session, [item(2, payload={"text": "hi"})], now=T0)


def test_payloads_are_validated() -> None:
    with pytest.raises(outbox.PayloadError):
        outbox.payload("deleteMessage", message_id=1)
    with pytest.raises(outbox.PayloadError):
        outbox.payload("sendMessage", chat_id=1, text="x")
    with pytest.raises(outbox.PayloadError):
        outbox.payload("sendMessage", text=object())
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    assert outbox.payload("sendPhoto", photo="FILEID", caption="c", reply_markup=markup) == {
        "method": "sendPhoto",
        "params": {"photo": "FILEID", "caption": "c", "reply_markup": markup},
    }


async def test_pause_resume_cancel_and_progress(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add(sessions, *(item(n, group_key="broadcast:1") for n in range(10)), item(99))
    first = await outbox.claim(sessions, "w1", T0, 3)
    t1 = T0 + timedelta(seconds=10)
    async with transaction(sessions) as session:
        await outbox.start(session, [m.id for m in first], "w1", now=t1)
        for message in first[:2]:
            await outbox.record_sent(session, message, now=t1, telegram_message_id=1)
        assert await outbox.pause_group(session, "broadcast:1", now=t1) == 7
    assert await outbox.claim(sessions, "w1", t1, 0) == []
    # Nothing of the paused batch is claimed; the unrelated row still is.
    assert [m.key for m in await outbox.claim(sessions, "w1", t1, 10)] == ["test:99"]
    async with sessions() as session:
        paused = await outbox.group_progress(session, "broadcast:1", now=t1)
    assert paused.counts == {"sent": 2, "sending": 1, "paused": 7}
    assert paused.eta is None and not paused.done and paused.remaining == 8
    async with transaction(sessions) as session:
        assert await outbox.resume_group(session, "broadcast:1", now=t1) == 7
    t2 = t1 + timedelta(seconds=2)
    more = await outbox.claim(sessions, "w1", t2, 4)
    async with transaction(sessions) as session:
        await outbox.start(session, [m.id for m in more], "w1", now=t2)
        for message in more:
            await outbox.record_sent(session, message, now=t2, telegram_message_id=1)
        progress = await outbox.group_progress(session, "broadcast:1", now=t2, rate=25)
        assert progress.counts == {"sent": 6, "sending": 1, "pending": 3}
        # 6 finished between t1 and t2: measured at 6 / 2 s = 3/s; 4 left → about 1.3 s.
        assert progress.rate == pytest.approx(3.0)
        assert progress.eta == timedelta(seconds=4 / 3)
        assert await outbox.cancel_group(session, "broadcast:1", now=t2) == 3
        done = await outbox.group_progress(session, "broadcast:1", now=t2)
    assert done.counts == {"sent": 6, "sending": 1, "cancelled": 3}
    # The one still being sent finishes normally.
    async with transaction(sessions) as session:
        assert await outbox.record_sent(session, first[2], now=t2, telegram_message_id=1)
        final = await outbox.group_progress(session, "broadcast:1", now=t2)
    assert final.done and final.total == 10
    assert (await row(sessions, "test:99")).status == "claimed"


async def test_recover_interrupted_respects_the_lease_and_at_most_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # The dead worker had started requests for 1 and 2; 4 and 5 it only claimed.
    await add(sessions, item(1), item(2, at_most_once=False), item(4), item(5, at_most_once=False))
    claimed = await outbox.claim(sessions, "dead", T0, 4)
    assert [m.key for m in claimed] == ["test:1", "test:2", "test:4", "test:5"]
    async with transaction(sessions) as session:
        await outbox.start(session, [claimed[0].id, claimed[1].id], "dead", now=T0)
    await add(sessions, item(3))
    lease = timedelta(seconds=60)
    async with transaction(sessions) as session:
        early = await outbox.recover_interrupted(
            session, now=T0 + timedelta(seconds=30), lease=lease
        )
        assert early == outbox.Recovered()
        # A live worker renews its lease, on claimed rows too; the dead one does not.
        (alive,) = await outbox.claim(sessions, "alive", T0, 5)
        assert await outbox.renew_claims(session, "alive", T0 + timedelta(seconds=50)) == 1
        later = await outbox.recover_interrupted(
            session, now=T0 + timedelta(seconds=61), lease=lease
        )
    assert (later.dropped, later.resent, later.released) == (1, 1, 2)
    assert sorted(later.keys) == ["test:1", "test:2"]  # only the started ones are uncertain
    dropped, resent, kept = [await row(sessions, f"test:{n}") for n in (1, 2, 3)]
    assert (dropped.status, dropped.last_error, dropped.attempts) == (
        "failed",
        outbox.INTERRUPTED_DROPPED,
        1,
    )
    assert (resent.status, resent.attempts) == ("pending", 1)
    assert kept.status == "claimed" and alive.key == "test:3"
    # Never started: back to pending as they were, no attempt counted, no error.
    for key in ("test:4", "test:5"):
        unstarted = await row(sessions, key)
        assert (unstarted.status, unstarted.attempts, unstarted.last_error) == ("pending", 0, None)


async def _claim_all(
    sessions: async_sessionmaker[AsyncSession], worker: str, got: list[int]
) -> None:
    while True:
        batch = await outbox.claim(sessions, worker, T0, 7)
        if not batch:
            return
        got.extend(m.id for m in batch)
        await asyncio.sleep(0)


async def test_parallel_claims_never_share_a_row(database_url: str, engine: AsyncEngine) -> None:
    """Four instances (own engines, own connections) drain 1500 rows concurrently."""
    await add(make_session_factory(engine), *(item(n) for n in range(1500)))
    engines = [make_engine(database_url) for _ in range(4)]
    try:
        results: list[list[int]] = [[] for _ in engines]
        await asyncio.gather(
            *(
                _claim_all(make_session_factory(e), f"w{i}", results[i])
                for i, e in enumerate(engines)
            )
        )
    finally:
        for e in engines:
            await e.dispose()
    every = [i for got in results for i in got]
    assert len(every) == 1500 == len(set(every))
    assert sum(1 for got in results if got) >= 2  # the claims really interleaved


async def test_what_a_start_and_each_lease_ask_of_rows_in_hand_reads_no_sent_row(
    sqlite_url: str,
) -> None:
    """Recovery (at every start), lease renewal and the depth gauge use the partial index.

    SQLite takes a partial index only for a query carrying the index's own WHERE
    term; a bound `status IN (?, ?)` is not it, and each of these then read the
    whole outbox: every sent row of a year of broadcasts, at each start.
    """
    engine = make_engine(sqlite_url)
    try:
        await upgrade(engine)
        sessions = make_session_factory(engine)
        await add(sessions, *(item(n, at_most_once=n % 2 == 0) for n in range(6)))
        claimed = await outbox.claim(sessions, "dead", T0, 4)
        async with transaction(sessions) as session:
            await outbox.start(session, [claimed[0].id, claimed[1].id], "dead", now=T0)
        plans: list[str] = []

        @event.listens_for(engine.sync_engine, "after_cursor_execute")
        def explain(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
            if not statement.startswith("EXPLAIN"):
                found = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
                plans.extend(f"{statement.split()[0]}: {row[-1]}" for row in found)

        async with transaction(sessions) as session:
            recovered = await outbox.recover_interrupted(
                session, now=T0 + timedelta(minutes=5), lease=timedelta(seconds=60)
            )
            await outbox.renew_claims(session, "alive", T0)
            depth = await outbox.depth(session)
        event.remove(engine.sync_engine, "after_cursor_execute", explain)
    finally:
        await engine.dispose()
    assert (recovered.dropped, recovered.resent, recovered.released) == (1, 1, 2)
    assert depth[outbox.Status.PENDING] == 5  # one dropped (at-most-once, started)
    touching = [p for p in plans if "outbox" in p]
    assert len(touching) >= 6  # the select, three moves, the renewal and the gauge
    assert [p for p in touching if p.endswith("SCAN outbox")] == []
