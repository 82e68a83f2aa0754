"""kill -9 mid-delivery on PostgreSQL, restart, and check the sandbox's record.

The invariant: every pending message is delivered, none twice — except rows
that were in hand (``sending``) at the crash, which at-most-once rows may lose
(recorded ``failed``, never resent) and at-least-once rows may repeat.
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
from tests.conftest import clean_database
from tests.delivery.world import TOKEN, World, enqueue, settle, start_world, stop_world, text_item

SCRIPT = Path(__file__).with_name("worker_process.py")
BATCH = 20


async def _spawn(world: World, database_url: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        "--api-url",
        world.base_url,
        "--database-url",
        database_url,
        "--token",
        TOKEN,
        "--rate",
        "100",
        "--per-chat-interval",
        "0.1",
        "--batch",
        str(BATCH),
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


@pytest.mark.postgres
async def test_kill_9_mid_delivery_loses_and_doubles_only_what_was_in_flight(
    pg_database: str,
) -> None:
    await clean_database(pg_database)
    world, _server = await start_world(
        enforce=True, global_rate=300, per_chat_rate=10, per_chat_burst=3
    )
    engine = make_engine(pg_database)
    sessions = make_session_factory(engine)
    processes: list[asyncio.subprocess.Process] = []
    try:
        users = world.open_chats(100)
        # Four messages per member; every other member's are at-least-once.
        items = [
            text_item(f"m{m}:u{u}", u, at_most_once=(i % 2 == 0))
            for m in range(4)
            for i, u in enumerate(users)
        ]
        await enqueue(sessions, items)
        first = await _spawn(world, pg_database)
        processes.append(first)
        await world.driver.wait_for(
            lambda: sum(len(world.received(u)) for u in users) >= 120, timeout=20
        )
        first.kill()  # SIGKILL: no goodbye, rows stay `sending`
        await first.wait()
        async with sessions() as session:
            in_flight = set(
                await session.scalars(select(Outbox.key).where(Outbox.status == "sending"))
            )
        arrived_at_crash = sum(len(world.received(u)) for u in users)
        assert 0 < len(in_flight) <= BATCH
        assert arrived_at_crash < len(items)

        second = await _spawn(world, pg_database)
        processes.append(second)
        statuses = await settle(sessions, timeout=60)
        second.terminate()
        assert await second.wait() == 0  # a clean stop on SIGTERM
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await engine.dispose()
        await stop_world(world)

    arrived = world.deliveries(users)
    once_only = {item.key for item in items if item.at_most_once}
    for item in items:
        key, count, status = item.key, arrived[item.key], statuses[item.key]
        if key not in in_flight:
            assert (status, count) == ("sent", 1), key
        elif key in once_only:
            assert count <= 1, key  # at most once, even across the crash
            assert status == "sent" or (status == "failed" and count in (0, 1)), key
        else:
            assert status == "sent" and count in (1, 2), key  # at least once
    # Every at-most-once row in hand at the crash is settled as failed, never resent.
    dropped = {k for k, s in statuses.items() if s == "failed"}
    assert dropped == in_flight & once_only
    assert all(statuses[k] == "sent" for k in in_flight - once_only)


def test_interrupted_reason_is_stable() -> None:
    # Reports and the admin's delivery summary match on this text.
    assert outbox.INTERRUPTED_DROPPED == "interrupted: not resent (at-most-once)"
