"""Our own send pacing for the delivery worker, under Telegram's flood limits.

Telegram allows about 30 messages per second overall, one per second to one
private chat, and 20 per minute to one group, and answers 429 with
``retry_after`` when a bot goes faster. :class:`Pacer` keeps the worker inside
all three with room to spare:

* overall: at most ``rate`` sends in any one-second window (``TELEGRAM_RATE``
  less ``TELEGRAM_REPLY_RESERVE``, 30 − 5 = 25 by default), and evenly spaced
  (one every ``1/rate`` s) rather than in bursts, so latency jitter on the way
  to Telegram cannot bunch them up;
* the whole bot: the replies to members (PTB's path, `bot.request`) take their
  slots of ``total_rate`` (``TELEGRAM_RATE``) from the same pacer
  (:meth:`Pacer.replies`), so replies and deliveries together keep it; a
  delivery is booked at most ``lookahead`` seconds ahead, so a reply never
  waits behind more of a broadcast than that;
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

One :class:`Pacer` paces one process: enough on SQLite, which has one
instance. On PostgreSQL, where any number of instances deliver, the worker uses
:class:`SharedPacer`: the same interface over one budget in the database
(`storage.budget`), with a local :class:`Pacer` in front for what is this
instance's own (its optional cap ``DELIVERY_RATE``, a 429's pause, what it
knows of each chat).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from core.metrics import Metrics
from storage.budget import (
    Grant,
    ReplyAsk,
    SendBudget,
    chat_burst_slack,
    group_ready,
    reply_schedule,
)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_PRUNE_EVERY = 4096
_SKEW_WARNING = 0.5  # seconds between this clock and the database's worth a warning

log = logging.getLogger(__name__)


class SendPacer(Protocol):
    """What the delivery worker asks of a pacer: in process (`Pacer`) or shared (`SharedPacer`)."""

    @property
    def paused_until(self) -> float: ...

    def pause(self, seconds: float) -> None: ...

    async def space(self, stream: str, interval: float) -> None: ...

    async def wait_chat(self, chat_id: int) -> None: ...

    async def acquire(self, chat_id: int) -> float: ...

    async def close(self) -> None: ...

    def replies(self, metrics: Metrics | None = None) -> ReplySlots:
        """The slots replies to members take from the same budget as the deliveries
        (counted in ``metrics``, booked or not)."""
        ...


class ReplySlots(Protocol):
    """What a reply to a member asks before it leaves: its slots of the bot's overall rate
    and its place in the chat's limit, which the deliveries to that chat count too."""

    async def take(self, count: int = 1, chat_id: int | None = None) -> None:
        """Wait for ``count`` messages' slots (a media group is several messages, an edit
        none) and, with ``chat_id``, for room in that chat's own limit."""
        ...

    def pause(self, seconds: float) -> None:
        """Telegram answered a reply 429: hold every send, replies and deliveries."""
        ...

    async def close(self) -> None: ...


class Pacer:
    """Reserves send slots that respect the overall, per-chat and per-group limits."""

    def __init__(
        self,
        *,
        rate: float = 25.0,
        per_chat_interval: float = 1.0,
        group_per_minute: int = 20,
        group_window: float = 60.0,
        total_rate: float | None = None,
        lookahead: float | None = None,
        reply_chat_burst: int = 3,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or per_chat_interval < 0 or group_per_minute <= 0:
            raise ValueError("rates must be positive")
        if total_rate is not None and total_rate < rate:
            raise ValueError("the total rate is at least the deliveries' rate")
        self.rate = float(rate)
        # The whole bot's rate, replies to members included (`replies`); deliveries keep
        # ``rate`` of it and book at most ``lookahead`` s ahead, so a reply waits no longer.
        self.total_rate = float(total_rate if total_rate is not None else rate)
        self._total_spacing = 1.0 / self.total_rate
        self._total_next = float("-inf")
        self._lookahead = lookahead
        self.per_chat_interval = float(per_chat_interval)
        self.group_per_minute = int(group_per_minute)
        self.group_window = float(group_window)  # 60 s; tests scale it down
        self._reply_slack = chat_burst_slack(reply_chat_burst, self.per_chat_interval)
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
        self._held: dict[int, float] = {}
        self._since_prune = 0

    # -------------------------------------------------------------- inspection

    @property
    def paused_until(self) -> float:
        """Clock time before which nothing is sent (in the past when not paused)."""
        return self._paused_until

    def chat_ready_at(self, chat_id: int, slack: float = 0.0) -> float:
        """The earliest clock time the chat's own limit allows another send; a private
        chat's schedule may be ``slack`` seconds ahead (a reply's short burst)."""
        held = self._held.get(chat_id)
        if held is not None and held > self._clock():
            return held
        if chat_id < 0:
            recent = self._group_recent.get(chat_id)
            if recent is None:
                return float("-inf")
            return group_ready(recent, self.group_per_minute, self.group_window)
        last = self._chat_last.get(chat_id)
        return float("-inf") if last is None else last + self.per_chat_interval - slack

    def _overall_ready_at(self) -> float:
        ready = max(self._next, self._paused_until, self._total_next)
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

    async def wait_chat(self, chat_id: int, slack: float = 0.0) -> None:
        """Sleep until the chat's own limit allows a send, reserving nothing."""
        while True:
            wait = self.chat_ready_at(chat_id, slack) - self._clock()
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
            if self._lookahead is not None and slot - now > self._lookahead:
                await self._sleep(slot - now - self._lookahead)  # leave the room to replies
                continue
            self._reserve(slot, chat_id)
            if slot > now:
                await self._sleep(slot - now)
            if self._paused_until > self._clock():
                continue  # a 429 arrived while we waited: the slot is void
            return slot

    async def take_reply(self, count: int = 1, chat_id: int | None = None) -> float:
        """Book ``count`` overall slots for a reply and, with ``chat_id``, its send in the
        chat's limit (a private chat's short burst is the replies'); sleep until the
        first slot, return it."""
        while True:
            if chat_id is not None:
                await self.wait_chat(chat_id, self._reply_slack)
            now = self._clock()
            start = max(now, self._paused_until)
            slots = [start]
            if count > 0:
                slots, self._total_next = reply_schedule(
                    self._total_next, start, count, self._total_spacing
                )
            if chat_id is not None:
                self._record_reply(chat_id, slots)
            slot = slots[0]
            if slot > now:
                await self._sleep(slot - now)
            if self._paused_until > self._clock():
                # Booked again after the pause; the void booking stays counted in the
                # chat's limit: a later send there waits longer, never one too many.
                continue
            return slot

    def _record_reply(self, chat_id: int, slots: list[float]) -> None:
        if chat_id < 0:
            for slot in slots:
                self._record_chat(slot, chat_id)
        else:
            # The chat's schedule moves on an interval per reply: its next delivery
            # waits until the burst the replies took has refilled.
            last = self._chat_last.get(chat_id)
            due = slots[-1] if last is None else max(last + self.per_chat_interval, slots[-1])
            self._chat_last[chat_id] = due
        self._counted(slots[-1])  # every member answered is remembered: forget them too

    def replies(self, metrics: Metrics | None = None) -> ReplySlots:
        return LocalReplies(self, metrics)

    async def close(self) -> None:
        """Nothing to let go: the in-process pacer holds no task or connection."""

    def hold_chat(self, chat_id: int, until: float) -> None:
        """Someone else (another instance) has the chat until ``until``: wait for it too."""
        self._held[chat_id] = max(until, self._held.get(chat_id, float("-inf")))

    def record(self, slot: float, chat_id: int) -> None:
        """Count a send booked elsewhere (the shared budget) toward the chat's own limit."""
        self._record_chat(slot, chat_id)
        self._counted(slot)

    def _reserve(self, slot: float, chat_id: int) -> None:
        self._recent.append(slot)
        self._next = slot + self._spacing
        self._total_next = slot + self._total_spacing
        self._record_chat(slot, chat_id)
        self._counted(slot)

    def _counted(self, now: float) -> None:
        """One more send remembered: every so many, forget what no longer constrains."""
        self._since_prune += 1
        if self._since_prune >= _PRUNE_EVERY:
            self._prune(now)

    def _record_chat(self, slot: float, chat_id: int) -> None:
        if chat_id < 0:
            recent = self._group_recent.get(chat_id)
            if recent is None:
                recent = self._group_recent[chat_id] = deque(maxlen=self.group_per_minute)
            recent.append(slot)
        else:
            self._chat_last[chat_id] = slot

    def _prune(self, now: float) -> None:
        """Forget chats whose limits no longer constrain anything (bounded memory)."""
        self._since_prune = 0
        horizon = now - self.per_chat_interval
        self._chat_last = {c: t for c, t in self._chat_last.items() if t > horizon}
        minute = now - self.group_window
        self._group_recent = {c: r for c, r in self._group_recent.items() if r[-1] > minute}
        self._held = {c: t for c, t in self._held.items() if t > now}


class LocalReplies:
    """Replies' slots in this process's pacer (SQLite: one instance, deliveries alongside)."""

    def __init__(self, pacer: Pacer, metrics: Metrics | None = None) -> None:
        self._pacer = pacer
        self._metrics = metrics

    async def take(self, count: int = 1, chat_id: int | None = None) -> None:
        await self._pacer.take_reply(count, chat_id)
        if self._metrics is not None and count > 0:
            self._metrics.reply_slot(booked=True, count=count)

    def pause(self, seconds: float) -> None:
        self._pacer.pause(seconds)

    async def close(self) -> None:
        """Nothing to let go."""


class SharedPacer:
    """Paces this instance's sends inside the bot's one budget in the database (`storage.budget`).

    Used by the delivery worker on PostgreSQL, where any number of instances
    deliver: every send takes a slot from :class:`storage.budget.SendBudget`, so
    all of them together keep the overall rate and each chat's limit. In front of
    it a local :class:`Pacer` keeps what is this instance's own: the optional
    per-instance cap (``instance_rate``, ``DELIVERY_RATE``), a 429's pause, the
    demo's broadcast spacing, and what it knows of each chat, so a sender whose
    chat is busy waits without holding a connection slot.

    Round trips: concurrent senders ask together. The first one to ask starts a
    claim that waits for company (or until ``max_batch`` ask), then books them
    all in one transaction. The wait is ``gather`` seconds, or half the time
    until the last slot this instance already holds when that is longer (up to
    ``max_gather``): while earlier slots are still ahead, asking later costs no
    send its place, and one claim books several slots instead of one each.

    Failing safe: while the database does not answer, nobody gets a slot and
    nothing is sent; claims are retried after ``backoff`` seconds, doubling to
    ``backoff_max``. Slots are never booked in the past, so what waited goes
    out at the normal pace afterwards, never in a burst.

    ``clock`` is Unix seconds (``time.time``): slots are compared across
    processes and machines, so the instances' clocks must agree (NTP).
    """

    def __init__(
        self,
        budget: SendBudget,
        *,
        instance_rate: float | None = None,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        gather: float = 0.005,
        max_gather: float = 0.25,
        max_batch: int = 64,
        backoff: float = 0.5,
        backoff_max: float = 8.0,
    ) -> None:
        limits = budget.limits
        self.budget = budget
        self._capped = instance_rate is not None
        self._local = Pacer(
            rate=instance_rate if instance_rate is not None else limits.deliveries_rate,
            per_chat_interval=limits.per_chat_interval,
            group_per_minute=limits.group_per_minute,
            group_window=limits.group_window,
            clock=clock,
            sleep=sleep,
        )
        self._clock = clock
        self._sleep = sleep
        self._gather = gather
        self._max_gather = max_gather
        self._booked_until = float("-inf")  # the latest slot this instance holds
        self._max_batch = max_batch
        self._backoff = backoff
        self._backoff_max = backoff_max
        self._asking: list[tuple[int, asyncio.Future[Grant]]] = []
        self._claimer: asyncio.Task[None] | None = None
        self._pauses: set[asyncio.Task[None]] = set()
        self._failing = False
        self._warned_skew = False
        self.claims = 0  # transactions that booked slots (printed by benchmarks/broadcast.py)

    @property
    def paused_until(self) -> float:
        return self._local.paused_until

    def pause(self, seconds: float) -> None:
        """Hold this instance now, and every instance from its next claim (Telegram's 429)."""
        self._local.pause(seconds)
        task = asyncio.get_running_loop().create_task(self._share_pause(self.paused_until))
        self._pauses.add(task)
        task.add_done_callback(self._pauses.discard)

    async def _share_pause(self, until: float) -> None:
        try:
            await self.budget.pause(until)
        except Exception as error:  # the local pause holds; the others learn from their own 429
            log.warning("shared budget: the pause was not written (%s)", type(error).__name__)

    async def space(self, stream: str, interval: float) -> None:
        await self._local.space(stream, interval)

    async def wait_chat(self, chat_id: int) -> None:
        await self._local.wait_chat(chat_id)

    async def acquire(self, chat_id: int) -> float:
        """Book a slot in the shared budget that keeps every limit, sleep until it, return it."""
        while True:
            if self._capped:
                await self._local.acquire(chat_id)  # this instance's own cap first
            else:
                await self._local.wait_chat(chat_id)
                await self._wait_pause()
            grant = await self._claim(chat_id)
            if grant.slot is None:
                self._local.hold_chat(chat_id, grant.not_before)  # another instance has it
                await self._local.wait_chat(chat_id)
                continue
            self._local.record(grant.slot, chat_id)
            wait = grant.slot - self._clock()
            if wait > 0:
                await self._sleep(wait)
            if self._local.paused_until > self._clock():
                continue  # a 429 arrived while we waited: the slot is void
            return grant.slot

    async def _wait_pause(self) -> None:
        while (wait := self._local.paused_until - self._clock()) > 0:
            await self._sleep(wait)

    async def _claim(self, chat_id: int) -> Grant:
        future: asyncio.Future[Grant] = asyncio.get_running_loop().create_future()
        self._asking.append((chat_id, future))
        if self._claimer is None or self._claimer.done():
            self._claimer = asyncio.get_running_loop().create_task(self._claim_all())
        return await future

    async def _claim_all(self) -> None:
        """Book slots for everyone asking, a batch per transaction, until no one asks."""
        backoff = self._backoff
        while self._asking:
            if len(self._asking) < self._max_batch:
                ahead = (self._booked_until - self._clock()) / 2
                await self._sleep(min(self._max_gather, max(self._gather, ahead)))
            batch = [(c, f) for c, f in self._asking[: self._max_batch] if not f.done()]
            del self._asking[: self._max_batch]
            if not batch:
                continue
            try:
                grants = await self.budget.claim([c for c, _ in batch], self._clock())
            except Exception as error:  # no slot without the database: send nothing, retry
                if not self._failing:
                    self._failing = True
                    log.error(
                        "shared budget: claiming send slots failed with %s; "
                        "nothing is sent until it answers (retrying)",
                        type(error).__name__,
                    )
                self._asking[:0] = batch
                await self._sleep(backoff)
                backoff = min(self._backoff_max, backoff * 2)
                continue
            if self._failing:
                self._failing = False
                log.warning("shared budget: claiming send slots works again")
            if abs(self.budget.skew) > _SKEW_WARNING and not self._warned_skew:
                self._warned_skew = True
                log.warning(
                    "shared budget: this machine's clock is %.1f s off the database's; "
                    "instances whose clocks disagree send closer together than the limit",
                    -self.budget.skew,
                )
            backoff = self._backoff
            self.claims += 1
            for (_chat, future), grant in zip(batch, grants, strict=True):
                if grant.slot is not None:
                    self._booked_until = max(self._booked_until, grant.slot)
                if not future.done():
                    future.set_result(grant)  # a sender cancelled meanwhile leaves a slot unused

    def replies(self, metrics: Metrics | None = None) -> ReplySlots:
        return SharedReplies(
            self.budget, pause=self.pause, clock=self._clock, sleep=self._sleep, metrics=metrics
        )

    async def close(self) -> None:
        """Stop claiming (the worker is stopping) and let the last pause be written."""
        await _stop_claiming(self._claimer, self._asking)
        if self._pauses:
            await asyncio.gather(*self._pauses, return_exceptions=True)


class SharedReplies:
    """Replies' slots in the bot's one budget in the database (`SendBudget.claim_replies`).

    Replies that leave together are booked together: the first to ask starts a
    claim at once, and whoever asks while it is in flight goes in the next one,
    so a burst of members costs a transaction per round trip, not per reply.
    A reply is never held for the database: if the claim fails, it leaves
    unbooked (under this instance's own limit, PTB's, after it) and the failure
    is logged once until claims work again (a claim taking over ``timeout``
    seconds counts as failed) — a member waiting matters more than
    a retried 429. ``pause`` is the delivery pacer's: a 429 to a reply holds
    this instance's deliveries and, through the budget, every instance's.
    """

    def __init__(
        self,
        budget: SendBudget,
        *,
        pause: Callable[[float], None],
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        timeout: float = 2.0,
        metrics: Metrics | None = None,
    ) -> None:
        self._budget = budget
        self._pause = pause
        self._timeout = timeout
        self._metrics = metrics
        self._clock = clock
        self._sleep = sleep
        self._asking: list[tuple[ReplyAsk, asyncio.Future[Grant | None]]] = []
        self._claimer: asyncio.Task[None] | None = None
        self._failing = False
        self.claims = 0  # transactions that booked reply slots

    async def take(self, count: int = 1, chat_id: int | None = None) -> None:
        ask = ReplyAsk(max(0, count), chat_id)
        while True:
            grant = await self._ask(ask)
            if grant is None or grant.slot is not None:
                break
            # The chat has no room (another instance's sends count): ask again then.
            if (wait := grant.not_before - self._clock()) > 0:
                await self._sleep(wait)
        if self._metrics is not None and count > 0:
            self._metrics.reply_slot(booked=grant is not None, count=count)
        slot = None if grant is None else grant.slot
        if slot is not None and (wait := slot - self._clock()) > 0:
            await self._sleep(wait)

    async def _ask(self, ask: ReplyAsk) -> Grant | None:
        future: asyncio.Future[Grant | None] = asyncio.get_running_loop().create_future()
        self._asking.append((ask, future))
        if self._claimer is None or self._claimer.done():
            self._claimer = asyncio.get_running_loop().create_task(self._claim_all())
        return await future

    def pause(self, seconds: float) -> None:
        self._pause(seconds)

    async def _claim_all(self) -> None:
        while self._asking:
            batch, self._asking = self._asking, []
            try:
                async with asyncio.timeout(self._timeout):
                    grants = await self._budget.claim_replies(
                        [ask for ask, _ in batch], self._clock()
                    )
            except Exception as error:  # never hold a member's reply for the budget
                if not self._failing:
                    self._failing = True
                    log.error(
                        "shared budget: booking replies failed with %s; "
                        "replies leave unbooked until it answers",
                        type(error).__name__,
                    )
                for _ask, future in batch:
                    if not future.done():
                        future.set_result(None)
                continue
            if self._failing:
                self._failing = False
                log.warning("shared budget: booking replies works again")
            self.claims += 1
            for (_ask, future), grant in zip(batch, grants, strict=True):
                if not future.done():
                    future.set_result(grant)

    async def close(self) -> None:
        await _stop_claiming(self._claimer, self._asking)


async def _stop_claiming(
    claimer: asyncio.Task[None] | None, asking: list[tuple[Any, asyncio.Future[Any]]]
) -> None:
    """Cancel the claim in flight and let down whoever still waits for one."""
    if claimer is not None and not claimer.done():
        claimer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await claimer
    for _number, future in asking:
        future.cancel()
    asking.clear()
