"""Shared fixtures: databases (SQLite and PostgreSQL) and the bot-against-sandbox harness."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Base

# Hypothesis' per-example deadline and "too slow" checks measure the machine, not the
# code: on a busy 2-core machine they fail tests that are right. Time is never a verdict.
settings.register_profile("union", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("union")

PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


async def _pg_reachable() -> bool:
    engine = make_engine(PG_ADMIN_URL)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
        return True
    except Exception:  # any failure means there is no usable server here
        return False
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of this run's own on the machine's PostgreSQL, dropped afterwards."""
    if not asyncio.run(_pg_reachable()):
        pytest.skip(f"no PostgreSQL answers at {PG_ADMIN_URL}")
    name = f"union_test_{os.getpid()}_{secrets.token_hex(3)}"

    async def admin(sql: str) -> None:
        engine = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(sql))
        finally:
            await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_migrated: set[str] = set()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'union.sqlite3'}"
    return request.getfixturevalue("pg_database")


@pytest.fixture
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'union.sqlite3'}"


async def clean_database(url: str) -> None:
    """Migrate once per database, then empty every table so no test sees another's rows."""
    engine = make_engine(url)
    try:
        if url not in _migrated:
            await upgrade(engine)
            _migrated.add(url)
        if url.startswith("postgresql"):
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            async with engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await clean_database(database_url)
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def bot(database_url: str) -> AsyncIterator[Any]:
    """The bot running against the sandbox on a clean database (SQLite and PostgreSQL)."""
    from tests.harness import running_bot

    await clean_database(database_url)
    async with running_bot(database_url) as harness:
        yield harness
