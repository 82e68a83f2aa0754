"""A roster re-import for a large union: the preview and the apply, in seconds.

    .venv/bin/python benchmarks/roster.py
    .venv/bin/python benchmarks/roster.py --database postgres

Builds, with bulk inserts in a scratch database: 100,000 roster entries, of
which 30,000 joined (a member row each, with a tag, and the entry's link
sealed as `storage.roster.join` seals it). Then a re-import of all 100,000
rows in which every third person moved department and got another tag, so
about 10,000 joined members are updated: times `storage.roster.preview` (opens
the links of the changed entries) and `storage.roster.apply` with its commit,
one transaction. Target: each under 30 s.

Measured here (2 shared cores): SQLite preview 2.6 s, apply 7.7 s; PostgreSQL preview
2.6 s, apply 8.4 s (33,334 entries changed, 10,000 members updated, 70,000 new codes).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, date, datetime
from typing import Any

from scratch import bulk, scratch_database
from sqlalchemy import bindparam, func, insert, select

from storage import roster
from storage.crypto import Cipher
from storage.db import make_session_factory, transaction
from storage.models import Department, Member, MemberTag, RosterEntry
from storage.roster_rules import RosterRow

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
DAY = datetime(2026, 12, 2, tzinfo=UTC)
SECRET = "benchmark-secret-0123456789abcdef0123456789"
DEPARTMENTS = [f"车间{i}" for i in range(40)]


def _row(i: int, moved: bool) -> RosterRow:
    department = DEPARTMENTS[(i + (7 if moved else 0)) % len(DEPARTMENTS)]
    return RosterRow(
        f"E{i:06}", f"职工{i}", department, date(1980 + i % 30, 1 + i % 12, 1 + i % 28),
        ("调岗",) if moved else ("在职",),
    )  # fmt: skip


async def _seed(sessions: Any, entries: int, joined: int) -> None:
    async with transaction(sessions) as session:
        await bulk(
            session, insert(Department), [{"name": n, "created_at": DAY} for n in DEPARTMENTS]
        )
        places = {d.name: d.id for d in await session.scalars(select(Department))}
        rows = [_row(i, False) for i in range(entries)]
        await bulk(
            session,
            insert(RosterEntry),
            [
                {
                    "employee_no": r.employee_no, "name": r.name, "department": r.department,
                    "birthday": r.birthday, "tags": ",".join(r.tags), "created_at": DAY,
                    "updated_at": DAY,
                }
                for r in rows
            ],
        )  # fmt: skip
        await bulk(
            session,
            insert(Member),
            [
                {
                    "telegram_id": 900_000_000 + i, "name": r.name, "birthday": r.birthday,
                    "department_id": places[r.department], "language": "zh_CN",
                    "role": "member", "active": True, "created_at": DAY, "updated_at": DAY,
                }
                for i, r in enumerate(rows[:joined])
            ],
        )  # fmt: skip
        found = await session.execute(select(Member.telegram_id, Member.id))
        member_of = {telegram_id: member for telegram_id, member in found}
        await bulk(
            session,
            insert(MemberTag),
            [{"member_id": member_of[900_000_000 + i], "tag": "在职"} for i in range(joined)],
        )
        found = await session.execute(select(RosterEntry.employee_no, RosterEntry.id))
        entry_of = {number: entry for number, entry in found}
        cipher = Cipher(SECRET, roster.LINK_PURPOSE)
        links = []
        for i, r in enumerate(rows[:joined]):
            entry = entry_of[r.employee_no]
            links.append(
                {
                    "eid": entry,
                    "sealed": cipher.encrypt(str(member_of[900_000_000 + i]), str(entry)),
                }
            )
        table = RosterEntry.__table__
        by_id = table.update().where(table.c.id == bindparam("eid"))
        await bulk(session, by_id.values(link=bindparam("sealed")), links)


async def run(database: str, entries: int, joined: int) -> None:
    async with scratch_database(database, "bench_roster") as (engine, _url):
        sessions = make_session_factory(engine)
        began = time.perf_counter()
        await _seed(sessions, entries, joined)
        seeded = time.perf_counter() - began
        rows = [_row(i, i % 3 == 0) for i in range(entries)]
        began = time.perf_counter()
        async with sessions() as session:
            counted = await roster.preview(session, rows, secret=SECRET)
        previewed = time.perf_counter() - began
        began = time.perf_counter()
        async with transaction(sessions) as session:
            done = await roster.apply(
                session, rows, secret=SECRET, now=NOW, code_days=30, remove_absent=False
            )
        applied = time.perf_counter() - began
        async with sessions() as session:
            moved = await session.scalar(
                select(func.count()).select_from(MemberTag).where(MemberTag.tag == "调岗")
            )
        assert done.preview == counted and moved == counted.members_updated
        print(f"database         {database}")
        print(f"roster           {entries} entries, {joined} joined (seeded in {seeded:.0f} s)")
        print(
            f"re-import        {counted.updated} entries changed, "
            f"{counted.members_updated} joined members updated, {len(done.codes)} new codes"
        )
        print(f"preview          {previewed:.2f} s")
        print(f"apply + commit   {applied:.2f} s (one transaction)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--joined", type=int, default=30_000)
    args = parser.parse_args()
    asyncio.run(run(args.database, args.entries, args.joined))


if __name__ == "__main__":
    main()
