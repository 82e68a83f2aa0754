"""`union-bot run` and `union-bot webhook` as real processes against the sandbox.

This is the "done when" of the walking skeleton: any Bot API-compatible server
at TELEGRAM_API_BASE_URL, a member registers, and is still known after a restart.
"""

from __future__ import annotations

from pathlib import Path

from sandbox import SandboxDriver
from tests.support.bot import sandbox_server
from tests.support.config import TOKEN
from tests.support.processes import (
    UNPARSEABLE,
    answered,
    bot_env,
    bot_process,
    free_port,
    register_in_process,
    wait_started,
)


async def test_run_registers_and_remembers_across_restart(tmp_path: Path) -> None:
    server = sandbox_server()
    base = await server.start()
    env = bot_env(base, f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
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
    server = sandbox_server()
    base = await server.start()
    port = free_port()
    env = bot_env(
        base,
        f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        WEBHOOK_URL=f"http://127.0.0.1:{port}",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        WEBHOOK_SECRET_TOKEN="s3cret-token",
    )
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
    from storage.migrate import upgrade
    from storage.models import utcnow

    server = sandbox_server()
    base = await server.start()
    database = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    env = bot_env(base, database, DELIVERY_POLL_SECONDS="0.2")
    engine = make_engine(database)
    try:
        async with SandboxDriver(base, TOKEN, auto_settle=False) as driver:
            user = await driver.create_user("Reader", user_id=600000002)
            await user.send("hello")  # opens the private chat; no instance consumes it
            # A worker registers no feature, so it publishes no commands to wait for:
            # the schema is made here, and the row waits in the outbox until it runs.
            await upgrade(engine)
            async with bot_process("worker", env):
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
            assert not await driver.commands()  # the instance taking updates offers them
    finally:
        await engine.dispose()
        await server.stop()
