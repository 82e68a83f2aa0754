"""A database as a thief takes it: the SQLite file with its WAL, or a ``pg_dump``.

For the dump-attack tests (grievances, pulse): the raw bytes to search for words
and every table's rows to search for identities and times, without the key.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.bot import BotHarness

Tables = dict[str, list[dict[str, Any]]]


def when(value: Any) -> datetime | None:
    """A column value as a UTC time, if it is one (SQLite keeps text, PostgreSQL times)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in " T":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def sqlite_tables(path: Path) -> Tables:
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        names = [
            r[0] for r in connection.execute("select name from sqlite_master where type='table'")
        ]
        return {n: [dict(r) for r in connection.execute(f'select * from "{n}"')] for n in names}
    finally:
        connection.close()


def steal_sqlite(source: Path, into: Path) -> tuple[bytes, Tables]:
    """A copy as a thief takes it while the bot runs: the file and its write-ahead log."""
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", into / f"stolen.sqlite3{suffix}")
    blob = b"".join(p.read_bytes() for p in into.iterdir() if p.name.startswith("stolen"))
    return blob, sqlite_tables(into / "stolen.sqlite3")


async def pg_dump(url: str) -> str:
    database = url.rsplit("/", 1)[1]
    address, port = url.split("@", 1)[1].split("/", 1)[0].split(":")
    dump = await asyncio.create_subprocess_exec(
        "pg_dump", "--data-only", "-h", address, "-p", port, "-U", "postgres", database,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )  # fmt: skip
    out, _ = await dump.communicate()
    assert dump.returncode == 0, "pg_dump failed"
    return out.decode()


async def pg_tables(bot: BotHarness) -> Tables:
    """The restored dump's rows (the same rows the dump holds, read back by SQL)."""
    from sqlalchemy import text

    from storage.models import Base

    found: Tables = {}
    async with bot.runtime.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = await connection.execute(text(f'select * from "{table.name}"'))
            found[table.name] = [dict(r._mapping) for r in rows]
    return found


def times(row: dict[str, Any]) -> list[datetime]:
    """Every time in a row (dates without a time are no instants, so not counted)."""
    return [t for t in (when(v) for v in row.values()) if t is not None]


async def steal(bot: BotHarness, into: Path) -> tuple[bytes, Tables]:
    """The running bot's database, stolen: its bytes and its rows."""
    url = bot.settings.database_url
    if url.startswith("sqlite"):
        return steal_sqlite(Path(url.split(":///", 1)[1]), into)
    dump = await pg_dump(url)
    return dump.encode(), await pg_tables(bot)
