"""A real bot `Application` against the real sandbox over HTTP, driven like a user.

`running_bot()` starts the sandbox on a free port, builds the bot exactly as
`union-bot run` does (settings, migrations, handlers, commands) and polls it.
Each user action waits until the bot has finished that update — through the
update processor's listener, not a sleep.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build_application
from bot.processor import PerChatUpdateProcessor
from core.runtime import Runtime, runtime_of
from core.settings import Settings, load_settings
from sandbox import SandboxDriver, SandboxOptions, SandboxServer

TOKEN = "987654321:TEST-union-bot-token-abcdefghijklmnop"
SECRET = "test-secret-key-0123456789abcdef0123456789"
ADMIN_ID = 900000001
CADRE_CHAT = -1001000000001
ESCALATION_CHAT = -1001000000002


@dataclass
class FakeClock:
    """The time the bot believes it is; tests move it instead of sleeping."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 24, 2, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        """Unix seconds, as the sandbox wants its clock."""
        return self.now.timestamp()

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class UpdateTracker:
    """Knows which updates the bot has finished, so a test can wait for exactly that."""

    def __init__(self, processor: PerChatUpdateProcessor) -> None:
        self._done: set[int] = set()
        self._changed = asyncio.Condition()
        processor.listeners.append(self._finished)

    def _finished(self, update: object) -> None:
        update_id = getattr(update, "update_id", None)
        if update_id is None:
            return
        self._done.add(update_id)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait(self, update_id: int, limit: float = 15.0) -> None:
        async def done() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: update_id in self._done)

        try:
            await asyncio.wait_for(done(), limit)
        except TimeoutError:
            raise TimeoutError(f"the bot did not finish update {update_id} in {limit}s") from None


class RuleWatch(logging.Handler):
    """Collects the "Bot API request made while holding a connection" errors (storage.db.report_if_holding).

    Every bot in the e2e tests runs under one: a test that makes the bot (a
    handler or a job) talk to Telegram inside a transaction fails, whatever it
    asserts itself.
    """

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.breaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.breaks.append(record.getMessage())

    def __enter__(self) -> RuleWatch:
        logging.getLogger("storage.db").addHandler(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        logging.getLogger("storage.db").removeHandler(self)

    def assert_kept(self) -> None:
        assert not self.breaks, "commit, then talk to Telegram (ARCHITECTURE.md): " + "; ".join(
            sorted(set(self.breaks))
        )


@dataclass
class BotHarness:
    server: SandboxServer
    driver: SandboxDriver
    application: Application
    settings: Settings
    clock: FakeClock
    tracker: UpdateTracker
    watch: RuleWatch

    @property
    def runtime(self) -> Runtime:
        return runtime_of(self.application)


@asynccontextmanager
async def running_bot(
    database_url: str, *, rate_limiter: bool = False, **overrides: Any
) -> AsyncIterator[BotHarness]:
    clock = FakeClock()
    # One notion of time for both sides: the sandbox dates messages and checks invite
    # expiry by the bot's fake clock, so no test depends on the machine's date.
    server = SandboxServer(
        SandboxOptions(port=0, bots={TOKEN: "UnionSandboxBot"}, clock=clock.timestamp)
    )
    base_url = await server.start()
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "telegram_api_base_url": base_url,
        "database_url": database_url,
        "secret_key": SECRET,
        "admin_ids": frozenset({ADMIN_ID}),
        "cadre_chat_id": CADRE_CHAT,
        "escalation_chat_id": ESCALATION_CHAT,
    }
    values.update(overrides)
    settings = load_settings(**values)
    processor = PerChatUpdateProcessor()
    tracker = UpdateTracker(processor)
    application = build_application(
        settings, clock=clock, processor=processor, rate_limiter=rate_limiter
    )
    driver = SandboxDriver(base_url, TOKEN, settle=tracker.wait)
    try:
        with RuleWatch() as watch:
            async with driver:
                await driver.create_user("Admin", user_id=ADMIN_ID, username="union_admin")
                if settings.cadre_chat_id is not None:
                    await driver.create_group(
                        "工会干部群", chat_id=settings.cadre_chat_id, members=[]
                    )
                if settings.escalation_chat_id is not None:
                    await driver.create_group(
                        "上级工会", chat_id=settings.escalation_chat_id, members=[]
                    )
                async with application:
                    assert application.post_init is not None
                    await application.post_init(application)
                    await application.start()
                    assert application.updater is not None
                    await application.updater.start_polling(
                        poll_interval=0, timeout=5, allowed_updates=ALLOWED_UPDATES
                    )
                    try:
                        yield BotHarness(
                            server, driver, application, settings, clock, tracker, watch
                        )
                    finally:
                        await application.updater.stop()
                        await application.stop()
                        assert application.post_shutdown is not None
                        await application.post_shutdown(application)
            watch.assert_kept()
    finally:
        await server.stop()
