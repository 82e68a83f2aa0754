"""kill -9 mid-delivery on SQLite and PostgreSQL, restart, and check the sandbox's record.

The invariant: a crash costs only the requests that were really in flight.
Rows the worker had claimed but not started go back to ``pending`` and arrive
once; only rows whose request had started (marked ``sending``, at most
``concurrency`` of them without an answer) may be uncertain: at-most-once rows
may be lost (recorded ``failed``, never resent), at-least-once rows may repeat.
With the API answering slowly, many requests are in flight at the kill and the
sandbox drops them (the client is gone), which is the case that loses most.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from storage import outbox
from storage.db import make_engine, make_session_factory
from storage.models import Outbox
from tests.support.databases import clean_database
from tests.support.delivery import DELIVERY_TOKEN, DeliverySandbox, enqueue, settle, text_item

SCRIPT = Path(__file__).with_name("worker_process.py")
BATCH = 50  # DELIVERY_BATCH's default: a claim holds far more rows than are in flight
CONCURRENCY = 4


async def _spawn(sandbox: DeliverySandbox, database_url: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        "--api-url",
        sandbox.base_url,
        "--database-url",
        database_url,
        "--token",
        DELIVERY_TOKEN,
        "--rate",
        "40",
        "--per-chat-interval",
        "0.1",
        "--batch",
        str(BATCH),
        "--concurrency",
        str(CONCURRENCY),
        "--lease",
        "1",
        "--poll",
        "0.2",
        stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    assert line.strip() == b"ready", line
    return process


@pytest.mark.parametrize("latency", [0.0, 0.2], ids=["fast-api", "api-200ms"])
async def test_kill_9_mid_delivery_loses_and_doubles_only_what_was_in_flight(
    database_url: str, latency: float
) -> None:
    await clean_database(database_url)
    sandbox = await DeliverySandbox.start(
        enforce=True, global_rate=300, per_chat_rate=10, per_chat_burst=3
    )
    if latency:
        await sandbox.driver.delay(seconds=latency, count=None)  # every call, before processing
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    processes: list[asyncio.subprocess.Process] = []
    try:
        users = sandbox.open_chats(60)
        # Three messages per member; every other member's are at-least-once.
        items = [
            text_item(f"m{m}:u{u}", u, at_most_once=(i % 2 == 0))
            for m in range(3)
            for i, u in enumerate(users)
        ]
        await enqueue(sessions, items)
        first = await _spawn(sandbox, database_url)
        processes.append(first)
        await sandbox.driver.wait_for(
            lambda: sum(len(sandbox.received(u)) for u in users) >= 40, timeout=30
        )
        first.kill()  # SIGKILL: no goodbye, rows stay claimed or sending
        await first.wait()
        async with sessions() as session:
            at_kill = dict(
                (key, status)
                for key, status in await session.execute(select(Outbox.key, Outbox.status))
            )
        arrived_at_kill = sandbox.deliveries(users)
        started = {k for k, s in at_kill.items() if s == "sending"}
        claimed = {k for k, s in at_kill.items() if s == "claimed"}
        # Started and not answered: the requests in flight at the kill.
        in_flight = {k for k in started if arrived_at_kill[k] == 0}
        assert len(in_flight) <= CONCURRENCY
        assert claimed, "the kill should find rows claimed but not started"
        assert sum(arrived_at_kill.values()) < len(items)

        second = await _spawn(sandbox, database_url)
        processes.append(second)
        statuses = await settle(sessions, timeout=90)
        second.terminate()
        assert await second.wait() == 0  # a clean stop on SIGTERM
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await engine.dispose()
        await sandbox.stop()

    arrived = sandbox.deliveries(users)
    once_only = {item.key for item in items if item.at_most_once}
    lost = {item.key for item in items if arrived[item.key] == 0}
    doubled = {key for key in once_only if arrived[key] > 1}
    print(
        f"\nkill -9 ({latency * 1000:.0f} ms API latency): claimed {len(claimed)}, "
        f"started {len(started)}, in flight {len(in_flight)}, "
        f"lost {len(lost)}, doubled {len(doubled)}"
    )
    assert lost <= in_flight  # so len(lost) ≤ requests in flight ≤ concurrency
    assert not doubled
    for item in items:
        key, count, status = item.key, arrived[item.key], statuses[item.key]
        if key not in started:
            assert (status, count) == ("sent", 1), key  # claimed or pending: as if no crash
        elif key in once_only:
            assert count <= 1, key  # at most once, even across the crash
            assert status == "failed", key  # settled, never resent
        else:
            assert status == "sent" and count in (1, 2), key  # at least once
    async with sessions() as session:
        reasons = dict(
            (key, error)
            for key, error in await session.execute(
                select(Outbox.key, Outbox.last_error).where(Outbox.key.in_(claimed))
            )
        )
    # A claimed row went back to waiting: no trace of the crash on it.
    assert outbox.INTERRUPTED_DROPPED not in reasons.values()


def test_interrupted_reason_is_stable() -> None:
    # Reports and the admin's delivery summary match on this text.
    assert outbox.INTERRUPTED_DROPPED == "interrupted: not resent (at-most-once)"
