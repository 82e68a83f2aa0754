"""Time the tests control: the bot's clock (`FakeClock`) and the worker's sleeps (`VirtualTime`)."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

# The tests' "now" (10:00 in Shanghai): every fake clock starts here.
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """The time the bot believes it is; tests move it instead of sleeping."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        """Unix seconds, as the sandbox wants its clock."""
        return self.now.timestamp()

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def shanghai(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment in the union's time zone (the default, Asia/Shanghai), as UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(
        UTC
    )


class VirtualTime:
    """A clock and a ``sleep`` that jump straight to the next sleeper's wake-up time.

    `run` drives coroutines that only wait on this ``sleep``: when every one of
    them is asleep, time jumps to the earliest wake-up. Sleeps are therefore
    exact, which lets tests check limits on the very instants sends happen.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._seq), future))
        await future

    async def _settle(self) -> None:
        for _ in range(8):
            await asyncio.sleep(0)

    async def run(self, *coroutines: Coroutine[Any, Any, Any]) -> list[Any]:
        tasks = [asyncio.ensure_future(c) for c in coroutines]
        while True:
            await self._settle()
            if all(t.done() for t in tasks):
                break
            if not self._sleepers:
                raise RuntimeError("tasks are blocked on something other than virtual sleep")
            wake, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, wake)
            future.set_result(None)
        return [t.result() for t in tasks]
