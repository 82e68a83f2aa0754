"""Broadcast to N members through the real worker and the sandbox; print how it went.

    .venv/bin/python benchmarks/broadcast.py --rate 30 --members 10000
    .venv/bin/python benchmarks/broadcast.py --rate 30 --members 2000      # quicker
    .venv/bin/python benchmarks/broadcast.py --rate 1000 --members 10000   # paid broadcast
    .venv/bin/python benchmarks/broadcast.py --database postgres ...       # scratch database
    .venv/bin/python benchmarks/broadcast.py --database postgres --workers 2 --members 2000

The sandbox (in this process) enforces ``--rate`` messages/s overall and
Telegram's 1/s per chat; the worker (in a child process, like a bot instance)
is configured with the same rate. With ``--workers N`` (PostgreSQL) N worker
processes deliver the one broadcast and share that rate through the budget in
the database (`storage.budget`), as N instances would, with no split by hand;
the figures are for all of them together. Printed: enqueue time, achieved rate ÷ rate
(target ≥ 0.95), 429s the sandbox sent (target 0), duplicates and losses as the
members saw them (target 0), wall time, and the worker's memory: the tracemalloc peak of Python
allocations, the process's own peak resident memory (VmHWM; not ru_maxrss, which
Linux carries over from the parent that forked it), and its resident memory
sampled every second over the run (VmRSS; "flat" when the last quarter of the
run holds no more than the first quarter's peak plus 10%).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from jobs.delivery import DeliveryConfig, DeliveryWorker, pacer_for
from jobs.pacing import SharedPacer
from jobs.sender import BotSender
from sandbox import SandboxOptions, SandboxServer
from storage import outbox
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import upgrade
from storage.models import Member, Outbox, utcnow

TOKEN = "777000777:BENCH-broadcast-token-abcdefghijklm"
BOT_ID = 777000777
SECRET = "bench-secret-key-0123456789abcdef0123456789"
FIRST_USER = 500_000_001
GROUP = "broadcast:bench"
PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


# The worker, in a child process -------------------------------------------------------


class TimedSender:
    """Wraps the real sender to note when each accepted message went out."""

    def __init__(self, inner: BotSender) -> None:
        self.inner = inner
        self.first = 0.0
        self.last = 0.0
        self.count = 0

    async def start(self) -> None:
        await self.inner.start()

    async def send(self, method: str, params: dict[str, Any]) -> int | None:
        result = await self.inner.send(method, params)
        now = time.monotonic()
        if self.count == 0:
            self.first = now
        self.last = now
        self.count += 1
        return result

    async def close(self) -> None:
        await self.inner.close()


async def child(args: argparse.Namespace) -> None:
    if args.tracemalloc == "on":
        tracemalloc.start()
    engine = make_engine(args.database_url)
    config = DeliveryConfig(
        rate=args.rate, batch=args.batch, concurrency=args.concurrency, poll=0.5, lease=args.lease
    )
    sender = TimedSender(BotSender.for_api(TOKEN, args.api_url, config))
    sessions = make_session_factory(engine)
    pacer = pacer_for(sessions, config, SECRET)  # the shared budget on PostgreSQL
    worker = DeliveryWorker(
        sessions,
        sender,  # type: ignore[arg-type]
        config=config,
        cipher=outbox.outbox_cipher(SECRET),
        pacer=pacer,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await worker.start()
    print("ready", flush=True)
    await stop.wait()
    await worker.stop()
    await engine.dispose()
    peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc == "on" else 0
    report = {
        "sent": sender.count,
        "first": sender.first,
        "last": sender.last,
        "stats": dict(worker.stats),
        "start_commits": worker.start_commits,
        "budget_claims": pacer.claims if isinstance(pacer, SharedPacer) else 0,
        "tracemalloc_peak": peak,
        "vmhwm_mib": proc_status("self")["VmHWM"],
        "cpu_seconds": time.process_time(),
    }
    print(json.dumps(report), flush=True)


def combined(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """The workers' reports as one: sums, the first and last send of any, the largest peaks."""
    return {
        "sent": sum(r["sent"] for r in reports),
        "first": min(r["first"] for r in reports if r["sent"]),
        "last": max(r["last"] for r in reports if r["sent"]),
        "start_commits": sum(r["start_commits"] for r in reports),
        "budget_claims": sum(r["budget_claims"] for r in reports),
        "tracemalloc_peak": max(r["tracemalloc_peak"] for r in reports),
        "vmhwm_mib": max(r["vmhwm_mib"] for r in reports),
        "cpu_seconds": sum(r["cpu_seconds"] for r in reports),
    }


def proc_status(pid: int | str) -> dict[str, float]:
    """VmHWM (peak) and VmRSS (now) of a process, in MiB: its own, not its parent's."""
    found: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key = line.split(":", 1)[0]
            if key in ("VmHWM", "VmRSS"):
                found[key] = int(line.split()[1]) / 1024
    return found


async def sample_rss(pid: int, into: list[tuple[float, float]], every: float = 1.0) -> None:
    """(seconds, VmRSS MiB) of the worker every ``every`` seconds until cancelled."""
    began = time.monotonic()
    while True:
        try:
            into.append((time.monotonic() - began, proc_status(pid)["VmRSS"]))
        except (OSError, KeyError):
            return
        await asyncio.sleep(every)


def flatness(samples: list[tuple[float, float]]) -> str:
    """The RSS over the run in quarters, and whether it stayed flat (the last ≤ first + 10%)."""
    if len(samples) < 8:
        return f"{len(samples)} samples, too few to judge"
    quarter = len(samples) // 4
    peaks = [max(r for _, r in samples[i * quarter : (i + 1) * quarter]) for i in range(4)]
    flat = peaks[3] <= peaks[0] * 1.10
    shown = " / ".join(f"{p:.0f}" for p in peaks)
    return f"peaks by quarter {shown} MiB ({len(samples)} samples): {'flat' if flat else 'GROWING'}"


# The run, in this process ---------------------------------------------------------------


async def scratch_database(kind: str, folder: str) -> tuple[str, str | None]:
    """A fresh database URL, and the PostgreSQL database to drop afterwards."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}", None
    name = f"union_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", name


async def drop_database(name: str) -> None:
    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def prepare(database_url: str, members: int) -> float:
    """Migrate, register the members, enqueue the broadcast; return the enqueue time."""
    engine = make_engine(database_url)
    await upgrade(engine)
    sessions = make_session_factory(engine)
    now = utcnow()
    ids = range(FIRST_USER, FIRST_USER + members)
    async with transaction(sessions) as session:
        await session.execute(
            insert(Member),
            [
                {
                    "telegram_id": tid,
                    "name": f"M{tid}",
                    "language": "zh_CN",
                    "role": "member",
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for tid in ids
            ],
        )
    started = time.perf_counter()
    async with transaction(sessions) as session:
        rows = await session.execute(select(Member.id, Member.telegram_id))
        await outbox.enqueue_many(
            session,
            (
                outbox.Outgoing(
                    key=f"{GROUP}:member:{member_id}",
                    kind="broadcast",
                    chat_id=telegram_id,
                    member_id=member_id,
                    group_key=GROUP,
                    payload=outbox.payload(
                        "sendMessage", text=f"通知 {telegram_id}", parse_mode=None
                    ),
                )
                for member_id, telegram_id in rows
            ),
            now=now,
        )
    enqueue_seconds = time.perf_counter() - started
    await engine.dispose()
    return enqueue_seconds


async def watch(database_url: str, members: int, rate: float) -> None:
    """Print progress every few seconds until the broadcast is done."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        while True:
            async with sessions() as session:
                progress = await outbox.group_progress(session, GROUP, now=utcnow(), rate=rate)
            if progress.done:
                return
            eta = f"{progress.eta.total_seconds():.0f}s" if progress.eta else "?"
            print(
                f"  … sent {progress.count(outbox.Status.SENT):>6}/{members}"
                f"  rate {progress.rate or 0:7.1f}/s  eta {eta}",
                flush=True,
            )
            await asyncio.sleep(min(10.0, max(1.0, members / rate / 10)))
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace) -> None:
    server = SandboxServer(
        SandboxOptions(
            port=0,
            bots={TOKEN: "BenchBot"},
            enforce_limits=True,
            global_rate=args.rate,
            per_chat_rate=1.0,
            per_chat_burst=3,
        )
    )
    base_url = await server.start()
    for tid in range(FIRST_USER, FIRST_USER + args.members):
        server.actions.create_user(f"M{tid}", user_id=tid)
        server.actions.open_private(BOT_ID, tid)
    folder = tempfile.mkdtemp(prefix="union-bench-")
    database_url, pg_name = await scratch_database(args.database, folder)
    try:
        enqueue_seconds = await prepare(database_url, args.members)
        print(f"enqueued {args.members} rows in {enqueue_seconds:.2f}s ({args.database})")
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--child",
                "--api-url",
                base_url,
                "--database-url",
                database_url,
                "--rate",
                str(args.rate),
                "--batch",
                str(args.batch),
                "--concurrency",
                str(args.concurrency),
                "--tracemalloc",
                args.tracemalloc,
                stdout=asyncio.subprocess.PIPE,
            )
            for _ in range(args.workers)
        ]
        started = time.monotonic()
        for process in processes:
            assert process.stdout is not None
            assert (await process.stdout.readline()).strip() == b"ready"
        samples: list[tuple[float, float]] = []
        sampler = asyncio.ensure_future(sample_rss(processes[0].pid, samples))
        await watch(database_url, args.members, args.rate)
        wall = time.monotonic() - started
        sampler.cancel()
        reports = []
        for process in processes:
            assert process.stdout is not None
            process.send_signal(signal.SIGTERM)
            reports.append(json.loads((await process.stdout.readline()) or b"{}"))
            await process.wait()
        report = combined(reports)
        engine = make_engine(database_url)
        async with engine.connect() as conn:
            statuses = dict(
                (s, n)
                for s, n in await conn.execute(
                    select(Outbox.status, text("count(*)")).group_by(Outbox.status)
                )
            )
        await engine.dispose()
    finally:
        if pg_name:
            await drop_database(pg_name)
    seen = [
        sum(
            1
            for m in server.state.private[(BOT_ID, tid)].messages.values()
            if m.sender_id == BOT_ID
        )
        for tid in range(FIRST_USER, FIRST_USER + args.members)
    ]
    rate_limited = server.state.calls.rate_limited
    await server.stop()
    span = report["last"] - report["first"]
    achieved = (report["sent"] - 1) / span if span > 0 else 0.0
    print(f"members            {args.members}")
    print(
        f"limit / workers    {args.rate:g} msg/s shared by {args.workers} (batch {args.batch}, "
        f"{args.concurrency} in flight each)"
    )
    if args.workers > 1:
        print(f"sent by each       {' + '.join(str(r['sent']) for r in reports)}")
    print(f"achieved rate      {achieved:.1f} msg/s = {achieved / args.rate:.3f} of the limit")
    print(f"429s seen          {rate_limited}")
    print(f"duplicates         {sum(1 for n in seen if n > 1)}")
    print(f"losses             {sum(1 for n in seen if n == 0)}")
    print(f"rows               {statuses}")
    print(f"wall time          {wall:.1f}s (ideal {args.members / args.rate:.1f}s)")
    commits = report.get("start_commits", 0)
    per_commit = report["sent"] / commits if commits else 0.0
    print(f"start marks        {commits} commits ({per_commit:.1f} rows each)")
    claims = report.get("budget_claims", 0)
    if claims:
        print(f"budget claims      {claims} ({report['sent'] / claims:.1f} slots each)")
    if args.tracemalloc == "on":
        print(f"peak (tracemalloc) {report['tracemalloc_peak'] / 2**20:.1f} MiB")
    else:
        print("peak (tracemalloc) not traced at this rate (--tracemalloc on to force)")
    print(f"peak RSS (VmHWM)   {report['vmhwm_mib']:.1f} MiB (worker process, the largest)")
    print(f"RSS over the run   {flatness(samples)} (the first worker)")
    print(f"load average       {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")
    cpu_ms = report["cpu_seconds"] / max(1, report["sent"]) * 1000
    print(f"worker CPU         {report['cpu_seconds']:.1f}s ({cpu_ms:.2f} ms per message)")
    print(f"sandbox CPU        {time.process_time():.1f}s (this process, with setup and checks)")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rate", type=float, default=30.0, help="msg/s: sandbox limit and worker")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--workers", type=int, default=1, help="delivery processes sharing the budget (PostgreSQL)"
    )
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument(
        "--tracemalloc",
        choices=("auto", "on", "off"),
        default="auto",
        help="trace Python allocations in the worker (auto: only up to 200 msg/s, since "
        "tracing costs the worker about 40%% more CPU and would cap a faster run)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--lease", type=float, default=60.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workers > 1 and args.database != "postgres":
        parser.error("--workers above 1 shares the budget in PostgreSQL: add --database postgres")
    # Enough in hand and in flight for the rate: about 2 s of work, ~0.1 s of latency.
    args.batch = args.batch or max(50, min(5000, int(args.rate * 2)))
    args.concurrency = args.concurrency or max(16, min(64, int(args.rate / 15)))
    if args.tracemalloc == "auto":
        args.tracemalloc = "on" if args.rate <= 200 else "off"
    return args


if __name__ == "__main__":
    arguments = parse()
    asyncio.run(child(arguments) if arguments.child else run(arguments))
