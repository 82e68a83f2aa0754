"""How long confirming a broadcast takes: resolve the audience and enqueue one row per member.

    .venv/bin/python benchmarks/broadcast_enqueue.py --members 10000
    .venv/bin/python benchmarks/broadcast_enqueue.py --members 100000 --database postgres

This is the work done inside the admin's "Send now" (or the start job of a
scheduled broadcast), in one transaction: `storage.broadcasts.create`, with
the audience "everyone" and, separately, three departments plus a tag (a
UNION of selections). Printed: seconds per run and rows per second. Sending
is measured by `benchmarks/broadcast.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete, insert, select, text

from storage import broadcasts
from storage.audiences import DEPARTMENT, Audience
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import upgrade
from storage.models import Department, Member, MemberTag, Outbox, utcnow

PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
DEPARTMENTS = 10


async def scratch(kind: str, folder: str) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}", None
    name = f"union_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", name


async def drop(name: str) -> None:
    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def run(url: str, count: int) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
        sessions = make_session_factory(engine)
        now = utcnow()
        async with transaction(sessions) as session:
            departments = [Department(name=f"D{i}") for i in range(DEPARTMENTS)]
            session.add_all(departments)
            await session.flush()
            ids = [d.id for d in departments]
            for start in range(0, count, 5000):
                await session.execute(
                    insert(Member),
                    [
                        {
                            "telegram_id": 10**9 + n,
                            "name": f"M{n}",
                            "department_id": ids[n % DEPARTMENTS],
                            "language": "zh_CN",
                            "role": "member",
                            "active": True,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for n in range(start, min(count, start + 5000))
                    ],
                )
            members = list(await session.scalars(select(Member.id).where(Member.id % 7 == 0)))
            await session.execute(
                insert(MemberTag), [{"member_id": m, "tag": "new-hire"} for m in members]
            )
        audiences = {
            "everyone": Audience(everyone=True),
            "3 departments + a tag": Audience(
                items={DEPARTMENT.key: set(ids[:3])}, tags={"new-hire"}
            ),
        }
        print(f"{count} members on {engine.dialect.name}")
        for label, audience in audiences.items():
            async with transaction(sessions) as session:
                await session.execute(delete(Outbox))
            began = time.perf_counter()
            async with transaction(sessions) as session:
                created = await broadcasts.create(
                    session,
                    content=broadcasts.Content("通知"),
                    audience=audience,
                    admin_chat_id=1,
                    now=now,
                )
            took = time.perf_counter() - began
            print(
                f"  {label:>22}: {created.recipients:>7} rows in {took:6.2f} s "
                f"({created.recipients / took:,.0f} rows/s)"
            )
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url, pg_name = await scratch(args.database, folder)
        try:
            await run(url, args.members)
        finally:
            if pg_name:
                await drop(pg_name)


if __name__ == "__main__":
    asyncio.run(main())
