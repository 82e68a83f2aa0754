"""`storage.sqlite_driver`: one trip to aiosqlite's thread per statement, same answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_driver
from storage.db import make_engine, make_session_factory, transaction

pytestmark = pytest.mark.skipif(
    sqlite_driver.dbapi() is None, reason="SQLAlchemy before 2.1 keeps its own aiosqlite adapter"
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'trips.sqlite3'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []
    real = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(getattr(fn, "__name__", repr(fn)))
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return made


async def test_a_statement_is_one_trip_and_answers_as_before(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("SELECT 1"))  # the connection's first statement
        trips.clear()
        inserted = await conn.execute(text("INSERT INTO t (x) VALUES ('a')"))
        assert inserted.lastrowid == 1 and inserted.rowcount == 1
        assert len(trips) == 1
        many = await conn.execute(text("INSERT INTO t (x) VALUES (:x)"), [{"x": "b"}, {"x": "c"}])
        assert many.rowcount == 2
        returned = await conn.execute(
            text("UPDATE t SET x = x || '!' WHERE x IN ('a', 'b') RETURNING id, x")
        )
        assert sorted(returned.all()) == [(1, "a!"), (2, "b!")]
        changed = await conn.execute(text("UPDATE t SET x = 'z' WHERE x = 'nothing'"))
        assert changed.rowcount == 0
        rows = await conn.execute(text("SELECT id, x FROM t ORDER BY id"))
        assert rows.keys() == ["id", "x"]
        assert rows.all() == [(1, "a!"), (2, "b!"), (3, "c")]
        assert len(trips) == 5  # one each, where the adapter SQLAlchemy ships makes four
        assert set(trips) == {"_run"}


async def test_errors_are_sqlalchemy_s_and_the_transaction_rolls_back(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (x) VALUES ('a')"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (x) VALUES ('b')"))
            await conn.execute(text("INSERT INTO t (x) VALUES ('a')"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT x FROM t"))).scalars().all() == ["a"]


async def test_a_unit_of_work_that_only_reads_makes_no_trip_to_commit(
    engine: AsyncEngine, trips: list[str]
) -> None:
    sessions = make_session_factory(engine)
    async with transaction(sessions) as session:
        await session.execute(text("SELECT 1"))  # the pooled connection's first statement
    trips.clear()
    async with transaction(sessions) as session:
        await session.execute(text("SELECT count(*) FROM t"))
    assert trips == ["_run"]  # no commit, no rollback when given back
    async with transaction(sessions) as session:
        await session.execute(text("INSERT INTO t (x) VALUES ('a')"))
    assert trips == ["_run", "_run", "commit"]


async def test_logs_that_name_where_an_error_happened_skip_the_driver(
    engine: AsyncEngine,
) -> None:
    from bot.errors import where
    from core.frames import our_frames

    with pytest.raises(OperationalError) as raised:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT * FROM no_such_table"))
    assert "sqlite_driver" not in where(raised.value)
    # The delivery worker's log names the same places (`DeliveryWorker._log_once`).
    assert not any("sqlite_driver" in frame for frame in our_frames(raised.value))
