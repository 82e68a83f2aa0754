"""The two databases every storage test runs on: a SQLite file and a PostgreSQL database of its own."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Base

PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)

_migrated: set[str] = set()


def sqlite_url(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'union.sqlite3'}"


async def pg_reachable() -> bool:
    engine = make_engine(PG_ADMIN_URL)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
        return True
    except Exception:  # any failure means there is no usable server here
        return False
    finally:
        await engine.dispose()


async def _admin(sql: str) -> None:
    engine = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def create_pg_database() -> str:
    """A database of this run's own on the machine's PostgreSQL; its URL."""
    name = f"union_test_{os.getpid()}_{secrets.token_hex(3)}"
    await _admin(f'CREATE DATABASE "{name}"')
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


async def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
