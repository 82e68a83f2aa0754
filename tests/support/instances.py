"""Two bot instances on one PostgreSQL and one sandbox, with a load balancer in between.

`two_instances()` builds two `Application`s exactly as `union-bot webhook`
does (settings, migrations, handlers, jobs, the chat locks) on one database.
Neither polls: the test's `Balancer` fetches the sandbox's updates (as
Telegram would push them to a load balancer) and hands each to the instance
its ``route`` names — alternately by default. The driver's actions wait until
whichever instance got the update has finished it, through both update
processors' listeners, never a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build_application
from bot.processor import PerChatUpdateProcessor
from core.runtime import Runtime, runtime_of
from core.settings import Settings
from sandbox import SandboxDriver, SandboxServer
from tests.support.bot import (
    BotHarness,
    UpdateTracker,
    sandbox_server,
    union_settings,
    union_stage,
)
from tests.support.clock import FakeClock
from tests.support.config import TOKEN
from tests.support.databases import clean_database
from tests.support.rules import RuleWatch

Route = Callable[[Update, int], int]  # (update, how many routed so far) → instance 0 or 1


def alternate(update: Update, count: int) -> int:
    return count % 2


@dataclass
class Instance:
    application: Application[Any, Any, Any, Any, Any, Any]
    processor: PerChatUpdateProcessor
    tracker: UpdateTracker
    handled: list[int] = field(default_factory=list)  # update ids, in the order they finished

    @property
    def runtime(self) -> Runtime:
        return runtime_of(self.application)


class Balancer:
    """Takes the sandbox's updates and hands each to one instance, as a load balancer would."""

    def __init__(self, instances: list[Instance]) -> None:
        self.instances = instances
        self.route: Route = alternate
        self.routed: dict[int, int] = {}  # update id → instance
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()
        for instance in instances:
            instance.processor.listeners.append(self._finished_on(instance))

    @staticmethod
    def _finished_on(instance: Instance) -> Callable[[object], None]:
        def finished(update: object) -> None:
            update_id = getattr(update, "update_id", None)
            if update_id is not None:
                instance.handled.append(update_id)

        return finished

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        fetcher = self.instances[0].application.bot
        offset = 0
        while True:
            updates = await fetcher.get_updates(
                offset=offset, timeout=5, allowed_updates=ALLOWED_UPDATES
            )
            for update in updates:
                offset = update.update_id + 1
                index = self.route(update, len(self.routed))
                self.routed[update.update_id] = index
                target = self.instances[index].application
                await target.update_queue.put(Update.de_json(update.to_dict(), target.bot))
            async with self._changed:
                self._changed.notify_all()

    async def wait(self, update_id: int, limit: float = 15.0) -> None:
        """Until the instance the update went to has finished it."""

        async def routed() -> int:
            async with self._changed:
                await self._changed.wait_for(lambda: update_id in self.routed)
            return self.routed[update_id]

        index = await asyncio.wait_for(routed(), limit)
        await self.instances[index].tracker.wait(update_id, limit)


@dataclass
class Pair:
    server: SandboxServer
    driver: SandboxDriver
    a: Instance
    b: Instance
    balancer: Balancer
    settings: Settings
    clock: FakeClock
    watch: RuleWatch

    @property
    def instances(self) -> list[Instance]:
        return [self.a, self.b]

    def harness(self, instance: Instance) -> BotHarness:
        """One instance seen as the single bot the shared helpers (`tests.support.chat`) drive."""
        return BotHarness(
            self.server,
            self.driver,
            instance.application,
            self.settings,
            self.clock,
            instance.tracker,
            self.watch,
        )

    def send_to(self, index: int) -> None:
        """Every update from now on to instance ``index`` (0: a, 1: b)."""
        self.balancer.route = lambda update, count: index


@asynccontextmanager
async def _instance(settings: Settings, clock: FakeClock) -> AsyncIterator[Instance]:
    processor = PerChatUpdateProcessor()
    tracker = UpdateTracker(processor)
    application = build_application(settings, clock=clock, processor=processor, rate_limiter=False)
    async with application:
        assert application.post_init is not None
        await application.post_init(application)
        await application.start()
        try:
            yield Instance(application, processor, tracker)
        finally:
            await application.stop()
            assert application.post_shutdown is not None
            await application.post_shutdown(application)


@asynccontextmanager
async def two_instances(database_url: str, **overrides: Any) -> AsyncIterator[Pair]:
    """Two instances on an emptied PostgreSQL database, one sandbox, the balancer between."""
    await clean_database(database_url)
    clock = FakeClock()
    server = sandbox_server(clock)
    base_url = await server.start()
    settings = union_settings(database_url, base_url, **overrides)
    balancer: Balancer | None = None

    async def settle(update_id: int) -> None:
        assert balancer is not None
        await balancer.wait(update_id)

    try:
        with RuleWatch() as watch:
            driver = SandboxDriver(server.base_url or base_url, TOKEN, settle=settle)
            async with driver, AsyncExitStack() as stack:
                await union_stage(driver, settings)
                a = await stack.enter_async_context(_instance(settings, clock))
                b = await stack.enter_async_context(_instance(settings, clock))
                balancer = Balancer([a, b])
                balancer.start()
                try:
                    yield Pair(server, driver, a, b, balancer, settings, clock, watch)
                finally:
                    await balancer.stop()
            watch.assert_kept()
    finally:
        await server.stop()
