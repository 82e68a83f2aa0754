"""The two databases every storage test runs on: a SQLite file and a PostgreSQL database of its own."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Base

PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)

_migrated: set[str] = set()
_template: Path | None = None
# Every sequence of the schema back to 1, as TRUNCATE ... RESTART IDENTITY would.
_RESTART_SEQUENCES = text(
    "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'S' AND n.nspname = current_schema()"
)


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


async def _migrated_sqlite_file() -> Path:
    """A SQLite file migrated once per test process, which new test databases copy."""
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="union-test-template-"))
        atexit.register(shutil.rmtree, folder, True)
        engine = make_engine(sqlite_url(folder))
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()  # the last connection folds the WAL into the file
        _template = folder / "union.sqlite3"
    return _template


def _copied(template: Path, path: Path) -> bool:
    """The template copied to ``path`` if there is no database there yet."""
    if path.exists():
        return False
    shutil.copyfile(template, path)
    return True


async def clean_database(url: str) -> None:
    """Migrate once per database, then empty every table so no test sees another's rows.

    Fast, because the suite does it before almost every test: a new SQLite file is
    a copy of one migrated once (21 migrations take 0.3 s), and PostgreSQL's tables,
    a few rows each, are emptied by DELETE in one transaction (TRUNCATE of sixty
    tables takes 0.6-0.9 s here, DELETE 0.07 s), their sequences restarted.
    """
    path = Path(url.split(":///", 1)[1]) if url.startswith("sqlite") else None
    if path is not None and url not in _migrated and _copied(await _migrated_sqlite_file(), path):
        _migrated.add(url)
        return
    engine = make_engine(url)
    try:
        if url not in _migrated:
            await upgrade(engine)
            _migrated.add(url)
        if url.startswith("postgresql"):
            async with engine.begin() as conn:
                for table in reversed(Base.metadata.sorted_tables):
                    await conn.execute(table.delete())
                await conn.execute(_RESTART_SEQUENCES)
    finally:
        await engine.dispose()
