"""Our own send pacing for the delivery worker, under Telegram's flood limits.

Telegram allows about 30 messages per second overall, one per second to one
private chat, and 20 per minute to one group, and answers 429 with
``retry_after`` when a bot goes faster. :class:`Pacer` keeps the worker inside
all three with room to spare:

* overall: at most ``rate`` sends in any one-second window (default 25, so the
  bot's interactive replies — which go through PTB's own path — still fit
  under 30), and evenly spaced (one every ``1/rate`` s) rather than in bursts,
  so latency jitter on the way to Telegram cannot bunch them up;
* a private chat (positive id): at least ``per_chat_interval`` (1 s) between sends;
* a group (negative id): at most ``group_per_minute`` in any 60-second window;
* after a 429, :meth:`Pacer.pause` stops every send of this worker until the
  ``retry_after`` has passed.

Why not PTB's ``AIORateLimiter``: it does not limit private chats at all, and
on a 429 it blocks every request of the bot — interactive replies included —
and retries inside the request, hiding the outcome from the outbox. See
`jobs.delivery` for the measurement.

Slots are *reserved*: :meth:`Pacer.acquire` books the earliest slot that keeps
every limit, then sleeps until it, so concurrent senders never race for the
same slot. A sender whose chat is busy waits for the chat first
(:meth:`Pacer.wait_chat`) without holding an overall slot, so one chatty
recipient does not slow everyone else.

Time is injected (``clock`` in seconds, ``sleep``), so tests run on a fake
clock and never sleep for real.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_PRUNE_EVERY = 4096


class Pacer:
    """Reserves send slots that respect the overall, per-chat and per-group limits."""

    def __init__(
        self,
        *,
        rate: float = 25.0,
        per_chat_interval: float = 1.0,
        group_per_minute: int = 20,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or per_chat_interval < 0 or group_per_minute <= 0:
            raise ValueError("rates must be positive")
        self.rate = float(rate)
        self.per_chat_interval = float(per_chat_interval)
        self.group_per_minute = int(group_per_minute)
        self._clock = clock
        self._sleep = sleep
        self._spacing = 1.0 / self.rate
        self._window_size = max(1, int(self.rate))
        self._recent: deque[float] = deque(maxlen=self._window_size)
        self._next = float("-inf")
        self._paused_until = float("-inf")
        self._chat_last: dict[int, float] = {}
        self._stream_next: dict[str, float] = {}
        self._group_recent: dict[int, deque[float]] = {}
        self._since_prune = 0

    # -------------------------------------------------------------- inspection

    @property
    def paused_until(self) -> float:
        """Clock time before which nothing is sent (in the past when not paused)."""
        return self._paused_until

    def chat_ready_at(self, chat_id: int) -> float:
        """The earliest clock time the chat's own limit allows another send."""
        if chat_id < 0:
            recent = self._group_recent.get(chat_id)
            if recent is None or len(recent) < self.group_per_minute:
                return float("-inf")
            return recent[0] + 60.0
        last = self._chat_last.get(chat_id)
        return float("-inf") if last is None else last + self.per_chat_interval

    def _overall_ready_at(self) -> float:
        ready = max(self._next, self._paused_until)
        if len(self._recent) >= self._window_size:
            ready = max(ready, self._recent[0] + 1.0)
        return ready

    # -------------------------------------------------------------- control

    def pause(self, seconds: float) -> None:
        """Hold every send for ``seconds`` from now (a 429's ``retry_after``)."""
        until = self._clock() + max(0.0, seconds)
        if until > self._paused_until:
            self._paused_until = until

    async def space(self, stream: str, interval: float) -> None:
        """Reserve the next slot of ``stream`` (``interval`` s after the last one), sleep until it.

        On top of the other limits: e.g. the demo's broadcast pace.
        """
        now = self._clock()
        slot = max(now, self._stream_next.get(stream, float("-inf")))
        self._stream_next[stream] = slot + interval
        if slot > now:
            await self._sleep(slot - now)

    async def wait_chat(self, chat_id: int) -> None:
        """Sleep until the chat's own limit allows a send, reserving nothing."""
        while True:
            wait = self.chat_ready_at(chat_id) - self._clock()
            if wait <= 0:
                return
            await self._sleep(wait)

    async def acquire(self, chat_id: int) -> float:
        """Reserve the earliest slot that keeps every limit, sleep until it, return it."""
        while True:
            await self.wait_chat(chat_id)
            # No await between the chat check and the booking: no one can slip in.
            now = self._clock()
            slot = max(now, self._overall_ready_at())
            self._reserve(slot, chat_id)
            if slot > now:
                await self._sleep(slot - now)
            if self._paused_until > self._clock():
                continue  # a 429 arrived while we waited: the slot is void
            return slot

    def _reserve(self, slot: float, chat_id: int) -> None:
        self._recent.append(slot)
        self._next = slot + self._spacing
        if chat_id < 0:
            recent = self._group_recent.get(chat_id)
            if recent is None:
                recent = self._group_recent[chat_id] = deque(maxlen=self.group_per_minute)
            recent.append(slot)
        else:
            self._chat_last[chat_id] = slot
        self._since_prune += 1
        if self._since_prune >= _PRUNE_EVERY:
            self._prune(slot)

    def _prune(self, now: float) -> None:
        """Forget chats whose limits no longer constrain anything (bounded memory)."""
        self._since_prune = 0
        horizon = now - self.per_chat_interval
        self._chat_last = {c: t for c, t in self._chat_last.items() if t > horizon}
        minute = now - 60.0
        self._group_recent = {c: r for c, r in self._group_recent.items() if r[-1] > minute}
