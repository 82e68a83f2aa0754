"""`union-bot` as a real process against the sandbox: started, talked to, stopped, its log read."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path

from sandbox import SandboxDriver, SandboxUser
from tests.support.config import SECRET, TOKEN

ROOT = Path(__file__).resolve().parents[2]
# Fields missing: no library can make a message of it. The id and text must not be logged.
UNPARSEABLE = {"message": {"text": "私密内容", "from": {"id": 777000777}}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(base_url: str, database_url: str, **more: str) -> dict[str, str]:
    """The environment `union-bot` reads its settings from: the tests' token and key, and ``more``."""
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": base_url,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        **more,
    }


@asynccontextmanager
async def bot_process(
    command: str, env: dict[str, str]
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`union-bot <command>` until the block ends; its log must show no secret and no error."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        command,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()
        output = (await process.stdout.read()).decode() if process.stdout else ""
        assert TOKEN not in output, "the token leaked into the log"
        assert "Traceback" not in output, output
        assert "CRITICAL" not in output and "ERROR" not in output, output
        assert "777000777" not in output and "私密内容" not in output, output
        assert output.count("the library cannot parse") <= 1, output


async def answered(user: SandboxUser, action: Awaitable[object]) -> None:
    """Do something and wait for the bot's next message: no in-process hook to wait on here."""
    before = len(await user.bot_messages())
    await action

    async def more() -> bool:
        return len(await user.bot_messages()) > before

    await user.driver.wait_for(more, timeout=20, what="the bot's answer")


async def register_in_process(user: SandboxUser) -> None:
    await answered(user, user.send("/start"))
    await answered(user, user.press("简体中文"))
    for text in ("进程测试", "装配车间", "⏭ 跳过", "✅ 确认"):
        await answered(user, user.send(text))


async def wait_started(driver: SandboxDriver) -> None:
    """The bot publishes its commands as the last step of start-up."""
    await driver.wait_for(lambda: _has_commands(driver), timeout=30)


async def _has_commands(driver: SandboxDriver) -> bool:
    return bool(await driver.commands())
