"""What flushing conversations after every update costs: update times with and without it.

    .venv/bin/python benchmarks/conversations.py                       # SQLite, 40 members
    .venv/bin/python benchmarks/conversations.py --database postgres   # scratch database
    .venv/bin/python benchmarks/conversations.py --members 200

The bot runs in this process against the sandbox. Each member registers (six
updates, each a conversation step that is written to the database) and then
opens ❓ Help three times (plain updates: no conversation, nothing written).
Members run at once; each waits for the bot before the next step. Printed, per
mode: the median and 95th percentile of the time the bot spent on one update
(handling plus, when on, the flush), for steps and plain updates apart.

"flush off" is PTB's own behaviour (write every 60 s): what restarts used to
lose. The difference between the two rows is what durability costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.app import ALLOWED_UPDATES, build_application
from bot.processor import PerChatUpdateProcessor
from core.settings import load_settings
from sandbox import SandboxDriver, SandboxOptions, SandboxServer
from storage.db import make_engine

TOKEN = "777000779:BENCH-conversations-token-abcdefghij"
SECRET = "bench-secret-key-0123456789abcdef0123456789"
FIRST_USER = 650_000_001
PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
# Each member names their own department: two registrations creating the same new
# department at once race on its unique name (a separate bug), which is not measured here.
STEPS = [("send", "/start"), ("press", "简体中文"), ("send", "会员"), ("send", "车间{n}")]
STEPS += [("send", "⏭ 跳过"), ("send", "✅ 确认")]
PLAIN = [("send", "❓ 帮助")] * 3


class TimedProcessor(PerChatUpdateProcessor):
    """The bot's own processor, noting how long each update took and when it was done."""

    def __init__(self) -> None:
        super().__init__()
        self.took: dict[int, float] = {}
        self._done: dict[int, asyncio.Event] = {}

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        began = time.perf_counter()
        try:
            await super().do_process_update(update, coroutine)
        finally:
            update_id = getattr(update, "update_id", None)
            if update_id is not None:
                self.took[update_id] = time.perf_counter() - began
                self._event(update_id).set()

    def _event(self, update_id: int) -> asyncio.Event:
        return self._done.setdefault(update_id, asyncio.Event())

    async def wait(self, update_id: int) -> None:
        await asyncio.wait_for(self._event(update_id).wait(), 60)


async def _admin(sql: str) -> None:
    engine = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def one_mode(url: str, members: int, flush: bool) -> tuple[list[float], list[float]]:
    server = SandboxServer(SandboxOptions(port=0, bots={TOKEN: "UnionBenchBot"}))
    base = await server.start()
    settings = load_settings(
        telegram_bot_token=TOKEN, telegram_api_base_url=base, database_url=url, secret_key=SECRET
    )
    processor = TimedProcessor()
    application = build_application(settings, processor=processor, rate_limiter=False)
    if not flush:
        processor.after_each.clear()
    steps: list[float] = []
    plain: list[float] = []
    try:
        async with SandboxDriver(base, TOKEN, settle=processor.wait) as driver, application:
            assert application.post_init is not None and application.post_shutdown is not None
            await application.post_init(application)
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(
                poll_interval=0, timeout=5, allowed_updates=ALLOWED_UPDATES
            )

            async def walk(n: int) -> None:
                user = await driver.create_user(f"Bench{n}", user_id=FIRST_USER + n)
                for kind, (action, arg) in [("step", s) for s in STEPS] + [
                    ("plain", p) for p in PLAIN
                ]:
                    sent = await getattr(user, action)(arg.format(n=n))
                    took = processor.took[sent.update_id]
                    (steps if kind == "step" else plain).append(took)

            try:
                await asyncio.gather(*(walk(n) for n in range(members)))
            finally:
                await application.updater.stop()
                await application.stop()
                await application.post_shutdown(application)
    finally:
        await server.stop()
    return steps, plain


def _ms(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:6.1f}"


async def run(members: int, database: str) -> None:
    print(f"database {database}, {members} members at once")
    print(f"{'mode':<12}{'step p50':>10}{'step p95':>10}{'plain p50':>11}{'plain p95':>11}  (ms)")
    for flush in (True, False):
        scratch = None
        if database == "postgres":
            scratch = f"bench_conversations_{secrets.token_hex(3)}"
            await _admin(f'CREATE DATABASE "{scratch}"')
            url = PG_ADMIN.rsplit("/", 1)[0] + "/" + scratch
        else:
            url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
        try:
            steps, plain = await one_mode(url, members, flush)
        finally:
            if scratch is not None:
                await _admin(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        label = "flush on" if flush else "flush off"
        print(
            f"{label:<12}{_ms(steps, 0.5):>10}{_ms(steps, 0.95):>10}"
            f"{_ms(plain, 0.5):>11}{_ms(plain, 0.95):>11}"
            f"   mean step {statistics.fmean(steps) * 1000:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    asyncio.run(run(args.members, args.database))


if __name__ == "__main__":
    main()
