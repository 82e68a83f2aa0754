"""The admin's member list and search in pinyin order at 100,000 members: per page, in ms.

    .venv/bin/python benchmarks/member_order.py
    .venv/bin/python benchmarks/member_order.py --database postgres

Bulk-inserts 100,000 members with varied Chinese names (the key comes from the
model's default, as for any bulk INSERT) in a scratch database, then times
`storage.members.list_members` on the first, a middle and the last page, and
`search_members` for a fragment that matches about a tenth of them; then the
migration's backfill (`0019_small15`), by migrating down one step and up again.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, datetime

from scratch import bulk, scratch_database
from sqlalchemy import insert

from storage import members
from storage.db import make_session_factory, transaction
from storage.migrate import downgrade, upgrade
from storage.models import Member

DAY = datetime(2026, 12, 2, tzinfo=UTC)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


async def _timed(label: str, runs: int, action: object) -> None:
    started = time.perf_counter()
    for _ in range(runs):
        await action()  # type: ignore[operator]  # an async callable, for a benchmark
    print(f"{label}: {(time.perf_counter() - started) / runs * 1000:.1f} ms")


async def run(database: str, count: int) -> None:
    rng = random.Random(15)
    async with scratch_database(database, "bench_order") as (engine, _url):
        sessions = make_session_factory(engine)
        started = time.perf_counter()
        async with transaction(sessions) as session:
            rows = [
                {
                    "telegram_id": 10_000_000 + i,
                    "name": _name(rng),
                    "language": "zh_CN",
                    "role": "member",
                    "active": True,
                    "created_at": DAY,
                    "updated_at": DAY,
                }
                for i in range(count)
            ]
            await bulk(session, insert(Member), rows)
        print(f"{database}: {count:,} members inserted in {time.perf_counter() - started:.1f} s")
        async with sessions() as session:
            pages = (await members.list_members(session, 0)).pages
            for label, page in (("first", 0), ("middle", pages // 2), ("last", pages - 1)):
                await _timed(
                    f"list_members, {label} page of {pages:,}",
                    20,
                    lambda page=page: members.list_members(session, page),
                )
            await _timed(
                "search_members('伟'), first 10 in pinyin order",
                20,
                lambda: members.search_members(session, "伟"),
            )
        await downgrade(engine, "0018_bilingual")
        started = time.perf_counter()
        await upgrade(engine)
        print(f"migration 0019 backfill: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args()
    asyncio.run(run(args.database, args.members))
