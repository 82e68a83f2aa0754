"""SQLite connections go back to the pool rolled back only when a transaction is open.

`storage.sqlite_driver`: SQLAlchemy's rollback on return was one more hop to
aiosqlite's thread for every unit of work, a commit's included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from storage import sqlite_driver
from storage.db import SQLITE_CACHE_KIB, make_engine, make_session_factory, transaction

pytestmark = pytest.mark.skipif(
    sqlite_driver.dbapi() is None, reason="SQLAlchemy before 2.1 keeps its own aiosqlite adapter"
)


async def test_a_committed_unit_costs_no_rollback_and_an_open_one_is_rolled_back(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'reset.sqlite3'}", pool_size=1)
    rollbacks = 0
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            rollback = driver.rollback

            async def counted() -> None:
                nonlocal rollbacks
                rollbacks += 1
                await rollback()

            driver.rollback = counted

        sessions = make_session_factory(engine)
        async with transaction(sessions) as session:
            await session.execute(text("INSERT INTO t VALUES (1)"))
        async with transaction(sessions) as session:
            await session.execute(text("SELECT x FROM t"))
        assert rollbacks == 0  # committed, then given back: nothing to roll back

        # A write SQLAlchemy knows nothing of, left open on the pooled connection.
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            await conn.run_sync(lambda _: raw.cursor().execute("INSERT INTO t VALUES (2)"))
            assert raw.driver_connection.in_transaction
        assert rollbacks == 1
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert not raw.driver_connection.in_transaction
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_every_connection_keeps_a_small_page_cache(tmp_path: Path) -> None:
    """The bot's memory: SQLite's 2 MiB default a connection, times the pool, was 40 MiB."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'cache.sqlite3'}")
    try:
        async with engine.connect() as one, engine.connect() as two:
            for conn in (one, two):
                cache = (await conn.exec_driver_sql("PRAGMA cache_size")).scalar_one()
                assert cache == -SQLITE_CACHE_KIB
    finally:
        await engine.dispose()
