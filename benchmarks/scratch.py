"""A scratch database for one benchmark run: migrated at the start, gone at the end.

SQLite: a fresh file in a temporary folder. PostgreSQL: a database of the run's
own on the test server (`TEST_POSTGRES_URL`, as the tests use), dropped after,
so a benchmark never touches data anyone keeps.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_engine
from storage.migrate import upgrade

PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
CHUNK = 5000


async def admin(sql: str) -> None:
    """One statement on the server's maintenance connection (CREATE/DROP DATABASE)."""
    engine = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@asynccontextmanager
async def scratch_database(database: str, prefix: str) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """An engine on a migrated scratch database ("sqlite" or "postgres"), and its URL."""
    scratch = None
    if database == "postgres":
        scratch = f"{prefix}_{secrets.token_hex(3)}"
        await admin(f'CREATE DATABASE "{scratch}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + scratch
    else:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    engine = make_engine(url)
    try:
        await upgrade(engine)
        yield engine, url
    finally:
        await engine.dispose()
        if scratch is not None:
            await admin(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


async def bulk(session: Any, statement: Any, rows: list[dict[str, Any]]) -> None:
    """``statement`` executed over ``rows`` in chunks the drivers take in one go."""
    for start in range(0, len(rows), CHUNK):
        await session.execute(statement, rows[start : start + CHUNK])
