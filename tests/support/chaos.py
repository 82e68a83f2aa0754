"""Real `union-bot webhook` processes for the chaos test: started, killed, restarted, logged.

Unlike `tests.support.processes.bot_process` (one process for one block),
an instance here outlives single steps: it is killed with SIGKILL and started
again on the same port, and its output is read all along (a chatty log never
fills the pipe and stalls it). Its clock is the real one moved by a constant
offset (:class:`BotClock`, libfaketime), so that scheduled work comes due in
the run whatever day it is. Also PostgreSQL's side of the faults: terminating
every backend of the test's database but the caller's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from sandbox import SandboxDriver, SandboxUser
from storage.db import make_engine
from storage.report import REPORT_HOUR, first_working_day
from tests.support.config import ADMIN_ID, CADRE_CHAT
from tests.support.metrics import wait_serving
from tests.support.processes import ROOT, bot_env, free_port

SECRET_TOKEN = "chaos-webhook-secret"
LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class BotClock:
    """The instances' clock: the real one, moved back to a month's first working day at 09:00.

    Then the monthly report is due as the instances start, and the day's greetings
    (from GREETING_HOUR, 9) too, on any day the test runs. The offset is constant,
    so the clock runs at its real pace, both instances (and a restarted one) agree,
    and the delivery leases and the shared budget see one time. libfaketime moves
    the wall clock only (``FAKETIME_DONT_FAKE_MONOTONIC``: asyncio's timers stay
    true) and does not reach PostgreSQL, whose clock is the real one: the offset is
    taken against it, so it holds under `make test-dates`, where this process's own
    clock is moved too.
    """

    real_shift: int  # seconds from the real clock (PostgreSQL's) to the bot's
    shift: timedelta  # from this process's clock to the bot's

    def now(self) -> datetime:
        """The instances' now, for what the test writes as if an admin or the bot did."""
        return datetime.now(UTC) + self.shift

    def env(self) -> dict[str, str]:
        return {
            "LD_PRELOAD": str(LIBFAKETIME),
            "FAKETIME": f"{self.real_shift:+d}",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        }


async def report_day_clock(database_url: str, *, after: timedelta) -> BotClock:
    """The latest first working day whose REPORT_HOUR plus ``after`` has passed, as the bot's now."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            real = await conn.scalar(text("SELECT clock_timestamp()"))
            mine = datetime.now(UTC)
    finally:
        await engine.dispose()
    assert isinstance(real, datetime)
    local = real.astimezone(ZONE)
    year, month = local.year, local.month
    while True:
        day = first_working_day(year, month)
        target = datetime.combine(day, time(REPORT_HOUR), ZONE) + after
        if target <= real:
            break
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    real_shift = round((target - real).total_seconds())
    return BotClock(real_shift, real + timedelta(seconds=real_shift) - mine)


class Instance:
    """One `union-bot webhook` on a port of its own; ``log`` holds every life's output.

    Every job looks for due work each second (JOBS_CHECK_SECONDS), on ``clock``.
    """

    def __init__(self, name: str, base_url: str, database_url: str, clock: BotClock) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/telegram"
        self.env = bot_env(
            base_url,
            database_url,
            WEBHOOK_URL=f"http://127.0.0.1:{self.port}",
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(self.port),
            WEBHOOK_SECRET_TOKEN=SECRET_TOKEN,
            ADMIN_IDS=str(ADMIN_ID),
            CADRE_CHAT_ID=str(CADRE_CHAT),
            DELIVERY_POLL_SECONDS="0.2",
            DELIVERY_LEASE_SECONDS="3",
            DELIVERY_TIMEOUT_SECONDS="5",
            JOBS_CHECK_SECONDS="1",
            **clock.env(),
        )
        self.log = ""
        self.lives = 0
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self, driver: SandboxDriver) -> None:
        """Start a life and wait until it answers /healthz with 200."""
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "webhook",
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self.lives += 1
        self._reader = asyncio.create_task(self._read(self._process))
        await wait_serving(driver, self.port)

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            self.log += line.decode(errors="replace")

    async def kill(self) -> None:
        """SIGKILL: no goodbye; its connections, locks and claims are left as they were."""
        assert self._process is not None
        self._process.kill()
        await self._finish()

    async def stop(self) -> None:
        if self._process is None or self._process.returncode is not None:
            return
        self._process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(self._process.wait(), 20)
        except TimeoutError:
            self._process.kill()
        await self._finish()

    async def _finish(self) -> None:
        assert self._process is not None
        await self._process.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 10)
        self._process = None


async def terminate_backends(database_url: str) -> int:
    """`pg_terminate_backend` on every connection to the database but this one; how many."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            killed = await conn.scalar(
                text(
                    "SELECT count(*) FROM ("
                    " SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t"
                )
            )
    finally:
        await engine.dispose()
    return int(killed or 0)


async def answered(
    user: SandboxUser, action: Callable[[], Awaitable[object]], chat: int | None = None
) -> None:
    """Do something and wait for the bot's next message in the chat (the private one)."""
    before = len(await user.bot_messages(chat))
    await action()

    async def more() -> bool:
        return len(await user.bot_messages(chat)) > before

    await user.driver.wait_for(more, timeout=30, what=f"the bot's answer to {user.id}")


async def register(user: SandboxUser, name: str) -> None:
    """Registration through the chat, each step answered before the next."""
    await answered(user, partial(user.send, "/start"))
    await answered(user, partial(user.press, "简体中文"))
    for typed in (name, "装配车间", "⏭ 跳过", "✅ 确认"):
        await answered(user, partial(user.send, typed))


async def submit_grievance(user: SandboxUser, story: str) -> None:
    """An anonymous grievance through the chat, up to its receipt."""
    for typed in ("📝 提交诉求", "💰 工资", "🟢 普通", story, "📝 只发文字", "✅ 匿名发送"):
        await answered(user, partial(user.send, typed))
