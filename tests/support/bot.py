"""A real bot `Application` against the real sandbox over HTTP, driven like a user.

`running_bot()` starts the sandbox on a free port, builds the bot exactly as
`union-bot run` does (settings, migrations, handlers, commands) and polls it.
Each user action waits until the bot has finished that update — through the
update processor's listener, not a sleep. `bot_on()` is one life of the bot
against a sandbox that outlives it, for restarts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build_application
from bot.processor import PerChatUpdateProcessor
from bot.updates import Backlog
from core.runtime import Runtime, runtime_of
from core.settings import Settings
from sandbox import SandboxDriver, SandboxOptions, SandboxServer
from tests.support.clock import FakeClock
from tests.support.config import ADMIN_ID, CADRE_CHAT, ESCALATION_CHAT, TOKEN, bot_settings
from tests.support.databases import clean_database
from tests.support.rules import RuleWatch

# What the driver does once it is open and before the bot polls: the people and chats
# a test expects to find.
Stage = Callable[[SandboxDriver, Settings], Awaitable[None]]


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


def sandbox_server(clock: FakeClock | None = None) -> SandboxServer:
    """The sandbox for the tests' bot, on a free port.

    Given the bot's fake clock, the sandbox dates messages and checks invite
    expiry by it too, so no test depends on the machine's date.
    """
    return SandboxServer(
        SandboxOptions(
            port=0,
            bots={TOKEN: "UnionSandboxBot"},
            clock=clock.timestamp if clock is not None else time.time,
        )
    )


async def union_stage(driver: SandboxDriver, settings: Settings) -> None:
    """The admin and the union's groups, as a real deployment has them before the bot starts."""
    await driver.create_user("Admin", user_id=ADMIN_ID, username="union_admin")
    if settings.cadre_chat_id is not None:
        await driver.create_group("工会干部群", chat_id=settings.cadre_chat_id, members=[])
    if settings.escalation_chat_id is not None:
        await driver.create_group("上级工会", chat_id=settings.escalation_chat_id, members=[])


@asynccontextmanager
async def bot_on(
    server: SandboxServer,
    settings: Settings,
    clock: FakeClock,
    *,
    rate_limiter: bool = False,
    stage: Stage | None = None,
    backlog: Backlog | None = None,
) -> AsyncIterator[BotHarness]:
    """One life of the bot, polling a sandbox that is already running; fails on a broken rule."""
    assert server.base_url is not None, "start the sandbox first"
    processor = PerChatUpdateProcessor()
    tracker = UpdateTracker(processor)
    application = build_application(
        settings, clock=clock, processor=processor, rate_limiter=rate_limiter, backlog=backlog
    )
    driver = SandboxDriver(server.base_url, TOKEN, settle=tracker.wait)
    with RuleWatch() as watch:
        async with driver:
            if stage is not None:
                await stage(driver, settings)
            async with application:
                assert application.post_init is not None
                await application.post_init(application)
                await application.start()
                assert application.updater is not None
                await application.updater.start_polling(
                    poll_interval=0, timeout=5, allowed_updates=ALLOWED_UPDATES
                )
                try:
                    yield BotHarness(server, driver, application, settings, clock, tracker, watch)
                finally:
                    await application.updater.stop()
                    await application.stop()
                    assert application.post_shutdown is not None
                    await application.post_shutdown(application)
        watch.assert_kept()


def union_settings(database_url: str, base_url: str, **overrides: Any) -> Settings:
    """The bot's settings on a sandbox at ``base_url``: an admin, the cadre and escalation groups."""
    values: dict[str, Any] = {
        "telegram_api_base_url": base_url,
        "admin_ids": frozenset({ADMIN_ID}),
        "cadre_chat_id": CADRE_CHAT,
        "escalation_chat_id": ESCALATION_CHAT,
    }
    values.update(overrides)
    return bot_settings(database_url, **values)


@asynccontextmanager
async def running_bot(
    database_url: str,
    *,
    rate_limiter: bool = False,
    backlog: Backlog | None = None,
    **overrides: Any,
) -> AsyncIterator[BotHarness]:
    """A sandbox of its own and the bot on it, with an admin and the cadre and escalation groups."""
    clock = FakeClock()
    server = sandbox_server(clock)
    base_url = await server.start()
    try:
        settings = union_settings(database_url, base_url, **overrides)
        async with bot_on(
            server, settings, clock, rate_limiter=rate_limiter, stage=union_stage, backlog=backlog
        ) as harness:
            yield harness
    finally:
        await server.stop()


@asynccontextmanager
async def fresh_bot(database_url: str, **overrides: Any) -> AsyncIterator[BotHarness]:
    """`running_bot` on an emptied database: what the `bot` fixture gives, with other settings."""
    await clean_database(database_url)
    async with running_bot(database_url, **overrides) as harness:
        yield harness
