"""kill -9 the delivery worker mid-broadcast, restart it, and print what the members saw.

    .venv/bin/python benchmarks/crash.py                          # SQLite and PostgreSQL, 0 and 200 ms
    .venv/bin/python benchmarks/crash.py --database sqlite --latency 0.2
    .venv/bin/python benchmarks/crash.py --members 300 --kill-after 100

A broadcast to ``--members`` members (at-most-once rows, as broadcasts are) is
sent by the real worker in a child process (`benchmarks/broadcast.py --child`,
the production defaults: 25 msg/s, batch 50, 16 in flight), against the
sandbox in this process enforcing Telegram's limits and, with ``--latency``,
answering every call that much later (the request is dropped if the client
dies meanwhile, as a real server would). Once ``--kill-after`` members have
their message, the child gets SIGKILL; a second child then recovers the
outbox (lease 2 s) and finishes. Printed per run, from the database at the
kill: rows ``claimed`` (held, no request made) and ``started`` (``sending``),
of which ``in flight`` had not arrived yet; then, once all is settled, the
members who never got the message (``lost``, target ≤ in flight) and those
who got it twice (``doubled``, target 0). "ok" when lost ≤ in flight ≤
``--concurrency`` and nothing doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from sandbox import SandboxOptions, SandboxServer
from storage.db import make_engine
from storage.models import Outbox

sys.path.insert(0, str(Path(__file__).parent))
from broadcast import (  # the sibling script (also when run from elsewhere)
    BOT_ID,
    FIRST_USER,
    TOKEN,
    drop_database,
    prepare,
    scratch_database,
)

BROADCAST = Path(__file__).with_name("broadcast.py")
LEASE = 2.0


@dataclass
class Figures:
    database: str
    latency: float
    claimed: int
    started: int
    in_flight: int
    lost: int
    doubled: int
    recovered_seconds: float


def received(server: SandboxServer, members: int) -> Counter[int]:
    """How many messages each member has from the bot."""
    counts: Counter[int] = Counter()
    for tid in range(FIRST_USER, FIRST_USER + members):
        chat = server.state.private.get((BOT_ID, tid))
        if chat is not None:
            counts[tid] = sum(1 for m in chat.messages.values() if m.sender_id == BOT_ID)
    return counts


async def spawn(
    args: argparse.Namespace, api_url: str, database_url: str
) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(BROADCAST),
        "--child",
        "--api-url",
        api_url,
        "--database-url",
        database_url,
        "--rate",
        str(args.rate),
        "--batch",
        str(args.batch),
        "--concurrency",
        str(args.concurrency),
        "--tracemalloc",
        "off",
        "--lease",
        str(LEASE),
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    if line.strip() != b"ready":
        raise RuntimeError(f"the worker did not start: {line!r}")
    return process


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.005)


async def one_run(args: argparse.Namespace, database: str, latency: float) -> Figures:
    server = SandboxServer(
        SandboxOptions(
            port=0,
            bots={TOKEN: "BenchBot"},
            enforce_limits=True,
            global_rate=max(30.0, args.rate),
            per_chat_rate=1.0,
            per_chat_burst=3,
        )
    )
    api_url = await server.start()
    for tid in range(FIRST_USER, FIRST_USER + args.members):
        server.actions.create_user(f"M{tid}", user_id=tid)
        server.actions.open_private(BOT_ID, tid)
    if latency:
        server.faults.delay(seconds=latency, count=None)  # every call, before it is processed
    folder = tempfile.mkdtemp(prefix="union-crash-")
    database_url, pg_name = await scratch_database(database, folder)
    engine = make_engine(database_url)
    try:
        await prepare(database_url, args.members)
        first = await spawn(args, api_url, database_url)
        await until(
            lambda: sum(received(server, args.members).values()) >= args.kill_after,
            120,
            "deliveries before the kill",
        )
        first.send_signal(signal.SIGKILL)
        await first.wait()
        async with engine.connect() as conn:
            rows = (await conn.execute(select(Outbox.chat_id, Outbox.status))).all()
        at_kill = received(server, args.members)
        claimed = sum(1 for _chat, status in rows if status == "claimed")
        started = [chat for chat, status in rows if status == "sending"]
        in_flight = sum(1 for chat in started if at_kill[chat] == 0)
        killed_at = time.monotonic()
        second = await spawn(args, api_url, database_url)
        async with engine.connect() as conn:

            async def busy() -> int:
                return len(
                    (
                        await conn.execute(
                            select(Outbox.id).where(
                                Outbox.status.in_(["pending", "claimed", "sending"])
                            )
                        )
                    ).all()
                )

            while await busy():
                await asyncio.sleep(0.2)
                await conn.rollback()  # a fresh snapshot each time
        recovered = time.monotonic() - killed_at
        second.send_signal(signal.SIGTERM)
        assert second.stdout is not None
        await second.stdout.read()
        await second.wait()
    finally:
        await engine.dispose()
        if pg_name:
            await drop_database(pg_name)
    final = received(server, args.members)
    await server.stop()
    members = range(FIRST_USER, FIRST_USER + args.members)
    return Figures(
        database=database,
        latency=latency,
        claimed=claimed,
        started=len(started),
        in_flight=in_flight,
        lost=sum(1 for tid in members if final[tid] == 0),
        doubled=sum(1 for tid in members if final[tid] > 1),
        recovered_seconds=recovered,
    )


async def run(args: argparse.Namespace) -> None:
    databases = [args.database] if args.database else ["sqlite", "postgres"]
    latencies = [args.latency] if args.latency is not None else [0.0, 0.2]
    print(
        f"broadcast to {args.members} members, kill -9 after {args.kill_after} arrived; "
        f"worker: {args.rate:g} msg/s, batch {args.batch}, {args.concurrency} in flight"
    )
    print("database  latency  claimed  started  in flight  lost  doubled  settled after")
    for database in databases:
        for latency in latencies:
            f = await one_run(args, database, latency)
            held = f.lost <= f.in_flight <= args.concurrency and f.doubled == 0
            verdict = "ok" if held else "FAIL (lost > in flight or in flight > concurrency)"
            print(
                f"{f.database:<9} {f.latency * 1000:>4.0f} ms  {f.claimed:>7}  {f.started:>7}  "
                f"{f.in_flight:>9}  {f.lost:>4}  {f.doubled:>7}  {f.recovered_seconds:>9.1f} s"
                f"  {verdict}",
                flush=True,
            )


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default=None)
    parser.add_argument("--latency", type=float, default=None, help="seconds per API answer")
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--kill-after", type=int, default=100, help="deliveries before the kill")
    parser.add_argument(
        "--rate", type=float, default=25.0, help="msg/s: TELEGRAM_RATE less the reply reserve"
    )
    parser.add_argument("--batch", type=int, default=50, help="DELIVERY_BATCH")
    parser.add_argument("--concurrency", type=int, default=16, help="DELIVERY_CONCURRENCY")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(run(parse()))
