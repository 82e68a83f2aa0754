"""Shared fixtures: databases (SQLite and PostgreSQL), sessions and a runtime on them, the bot.

The helpers behind them, and every other shared helper, are in `tests.support`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import make_engine, make_session_factory
from tests.support.databases import (
    PG_ADMIN_URL,
    clean_database,
    create_pg_database,
    drop_pg_database,
    pg_reachable,
)
from tests.support.databases import sqlite_url as sqlite_url_in

if TYPE_CHECKING:
    from core.runtime import Runtime
    from tests.support.bot import BotHarness

# Hypothesis' per-example deadline and "too slow" checks measure the machine, not the
# code: on a busy 2-core machine they fail tests that are right. Time is never a verdict.
settings.register_profile("union", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("union")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of this run's own on the machine's PostgreSQL, dropped afterwards."""
    if not asyncio.run(pg_reachable()):
        pytest.skip(f"no PostgreSQL answers at {PG_ADMIN_URL}")
    url = asyncio.run(create_pg_database())
    try:
        yield url
    finally:
        asyncio.run(drop_pg_database(url))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return sqlite_url_in(tmp_path_factory.mktemp("db"))
    url: str = request.getfixturevalue("pg_database")
    return url


@pytest.fixture
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sqlite_url_in(tmp_path_factory.mktemp("db"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await clean_database(database_url)
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on a clean, migrated database (SQLite and PostgreSQL, via `engine`)."""
    return make_session_factory(engine)


@pytest.fixture
def runtime(engine: AsyncEngine) -> Runtime:
    """What jobs and services get from a running bot, on `engine` and a fake clock at T0."""
    from tests.support.config import make_runtime

    return make_runtime(engine)


@pytest.fixture
async def bot(database_url: str) -> AsyncIterator[BotHarness]:
    """The bot running against the sandbox on a clean database (SQLite and PostgreSQL)."""
    from tests.support.bot import fresh_bot  # imported only when a test runs the bot

    async with fresh_bot(database_url) as harness:
        yield harness
