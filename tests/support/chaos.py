"""Real `union-bot webhook` processes for the chaos test: started, killed, restarted, logged.

Unlike `tests.support.processes.bot_process` (one process for one block),
an instance here outlives single steps: it is killed with SIGKILL and started
again on the same port, and its output is read all along (a chatty log never
fills the pipe and stalls it). Also PostgreSQL's side of the faults:
terminating every backend of the test's database but the caller's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from functools import partial

from sqlalchemy import text

from sandbox import SandboxDriver, SandboxUser
from storage.db import make_engine
from tests.support.config import ADMIN_ID, CADRE_CHAT
from tests.support.metrics import wait_serving
from tests.support.processes import ROOT, bot_env, free_port

SECRET_TOKEN = "chaos-webhook-secret"


class Instance:
    """One `union-bot webhook` on a port of its own; ``log`` holds every life's output."""

    def __init__(self, name: str, base_url: str, database_url: str) -> None:
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


async def answered(user: SandboxUser, action: Callable[[], Awaitable[object]]) -> None:
    """Do something and wait for the bot's next message to that member."""
    before = len(await user.bot_messages())
    await action()

    async def more() -> bool:
        return len(await user.bot_messages()) > before

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
