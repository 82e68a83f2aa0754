"""`union-bot run` and `union-bot webhook` as real processes against the sandbox.

This is the "done when" of the walking skeleton: any Bot API-compatible server
at TELEGRAM_API_BASE_URL, a member registers, and is still known after a restart.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from sandbox import SandboxDriver, SandboxOptions, SandboxServer, SandboxUser
from tests.harness import SECRET, TOKEN

ROOT = Path(__file__).resolve().parents[2]
# Fields missing: no library can make a message of it. The id and text must not be logged.
UNPARSEABLE = {"message": {"text": "私密内容", "from": {"id": 777000777}}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def bot_process(
    command: str, env: dict[str, str]
) -> AsyncIterator[asyncio.subprocess.Process]:
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


async def _migrated(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: inspect(sync).has_table("outbox"))


async def test_run_registers_and_remembers_across_restart(tmp_path: Path) -> None:
    server = SandboxServer(SandboxOptions(port=0, bots={TOKEN: "UnionSandboxBot"}))
    base = await server.start()
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": base,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
    }
    try:
        async with SandboxDriver(base, TOKEN, auto_settle=False) as driver:
            user = await driver.create_user("Process", user_id=600000001)
            async with bot_process("run", env):
                await wait_started(driver)
                await driver.inject_update(UNPARSEABLE, settle=False)
                await register_in_process(user)
                assert "欢迎加入工会" in (await user.last_bot_message()).text
            async with bot_process("run", env):
                await answered(user, user.send("/start"))
                assert "欢迎回来，进程测试" in (await user.last_bot_message()).text
    finally:
        await server.stop()


async def test_webhook_mode(tmp_path: Path) -> None:
    server = SandboxServer(SandboxOptions(port=0, bots={TOKEN: "UnionSandboxBot"}))
    base = await server.start()
    port = free_port()
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": base,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        "WEBHOOK_URL": f"http://127.0.0.1:{port}",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "WEBHOOK_SECRET_TOKEN": "s3cret-token",
    }
    try:
        async with (
            SandboxDriver(base, TOKEN, auto_settle=False) as driver,
            bot_process("webhook", env),
        ):
            calls = await driver.wait_for(
                lambda: driver.calls(method="setWebhook"), timeout=30, what="setWebhook"
            )
            assert calls[-1].params["url"] == f"http://127.0.0.1:{port}/telegram"
            assert calls[-1].params["secret_token"] == "s3cret-token"
            user = await driver.create_user("Hook", language_code="en")
            # An update the library cannot parse is answered 200 and skipped: the
            # sandbox, like Telegram, would otherwise retry it before all later ones.
            await driver.inject_update(UNPARSEABLE, settle=False)
            await answered(user, user.send("/start"))
            assert "Please choose your language" in (await user.last_bot_message()).text
    finally:
        await server.stop()


async def test_worker_delivers_without_taking_updates(tmp_path: Path) -> None:
    """`union-bot worker`: a second instance that sends the outbox but never polls."""
    from storage import outbox
    from storage.db import make_engine, make_session_factory, transaction
    from storage.models import utcnow

    server = SandboxServer(SandboxOptions(port=0, bots={TOKEN: "UnionSandboxBot"}))
    base = await server.start()
    database = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": base,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database,
        "DELIVERY_POLL_SECONDS": "0.2",
    }
    engine = make_engine(database)
    try:
        async with SandboxDriver(base, TOKEN, auto_settle=False) as driver:
            user = await driver.create_user("Reader", user_id=600000002)
            await user.send("hello")  # opens the private chat; no instance consumes it
            async with bot_process("worker", env):
                # A worker offers no commands (it has no features): wait for its migrations.
                await driver.wait_for(lambda: _migrated(engine), timeout=30, what="migrations")
                async with transaction(make_session_factory(engine)) as session:
                    await outbox.enqueue(
                        session,
                        key="test:worker:1",
                        kind="test",
                        chat_id=user.id,
                        payload=outbox.payload("sendMessage", text="来自第二个实例"),
                        now=utcnow(),
                    )

                async def delivered() -> bool:
                    return any(m.text == "来自第二个实例" for m in await user.bot_messages())

                await driver.wait_for(delivered, timeout=20, what="the outbox message")
            assert not await driver.calls(method="getUpdates")
    finally:
        await engine.dispose()
        await server.stop()
