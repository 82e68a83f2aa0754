"""A rush: N members press "sign up" for S seats at once; print how the taps went.

    .venv/bin/python benchmarks/rush.py                        # 240 taps, 50 seats, 0 and 150 ms
    .venv/bin/python benchmarks/rush.py --latency 0.5          # Telegram very slow
    .venv/bin/python benchmarks/rush.py --database sqlite
    .venv/bin/python benchmarks/rush.py --talk-in-transaction --no-lines  # the old way

The real bot runs against the sandbox (`tests.support.bot.running_bot`, default
settings: a pool of 10 + 10 connections) on a scratch SQLite file and a scratch
PostgreSQL database; the sandbox answers every Bot API request ``latency``
seconds late. Printed per database and latency: taps failed (answered "the
database is busy" or the like, or not at all; target 0), seated (target S),
waitlisted (target N − S), whether seats and waitlist follow tap order, and the
wall time from the first press to the last update handled.

``--talk-in-transaction`` switches off the commit before each Bot API request
(`bot.request`), which is how handlers behaved before: each tap then holds a
connection, and the sign-up's lock, while Telegram answers. ``--no-lines``
switches off the line sign-ups stand in (`bot.processor`), which is what keeps
the waitlist in tap order.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import upgrade
from tests.activities.rush import RushResult, rush
from tests.support.bot import running_bot

PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def scratch_database(kind: str, folder: str) -> tuple[str, str | None]:
    """A fresh, migrated database URL, and the PostgreSQL database to drop afterwards."""
    if kind == "sqlite":
        url, name = f"sqlite+aiosqlite:///{Path(folder) / 'rush.sqlite3'}", None
    else:
        name = f"union_rush_{os.getpid()}_{secrets.token_hex(3)}"
        admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
        url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    return url, name


async def drop_database(name: str) -> None:
    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def one(kind: str, members: int, seats: int, latency: float, lines: bool) -> RushResult:
    with tempfile.TemporaryDirectory() as folder:
        url, name = await scratch_database(kind, folder)
        try:
            async with running_bot(url) as bot:
                if not lines:
                    bot.application.update_processor.line_keys.clear()  # type: ignore[attr-defined]
                result = await rush(bot, members=members, seats=seats, latency=latency)
                bot.watch.breaks.clear()  # counted below, not a reason to stop the run
            return result
        finally:
            if name is not None:
                await drop_database(name)


async def main(args: argparse.Namespace) -> None:
    if args.talk_in_transaction:
        import bot.request

        async def keep_transaction_open() -> None:
            return None

        bot.request.commit_before_io = keep_transaction_open  # type: ignore[assignment]
    logging.basicConfig(level=logging.CRITICAL)  # the old way logs ~100 tracebacks per run
    print(f"{args.members} taps for {args.seats} seats, pool 10 + 10 connections")
    print(
        f"{'database':<10} {'latency':>8} {'failed':>7} {'seated':>7} {'waitlisted':>10} "
        f"{'tap order':>10} {'seconds':>8}"
    )
    for kind in args.database:
        for latency in args.latency:
            r = await one(kind, args.members, args.seats, latency, not args.no_lines)
            order = "yes" if r.in_tap_order and r.told_their_place else "no"
            print(
                f"{kind:<10} {latency * 1000:>6.0f}ms {r.failed:>7} {r.seated:>7} "
                f"{r.waitlisted:>10} {order:>10} {r.seconds:>8.1f}",
                flush=True,
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=240)
    parser.add_argument("--seats", type=int, default=50)
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.15])
    parser.add_argument(
        "--database", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument("--talk-in-transaction", action="store_true")
    parser.add_argument("--no-lines", action="store_true")
    asyncio.run(main(parser.parse_args()))
