"""The delivery worker: sends what the outbox holds, at Telegram's pace, and records the answer.

One :class:`DeliveryWorker` runs per bot instance (started in `bot.app._on_start`).
It claims due rows (`storage.outbox.claim`), sends each through
`jobs.pacing.Pacer`, and records Telegram's answer in the row:

* accepted → ``sent`` (with Telegram's message id);
* 403 Forbidden (blocked, deactivated, kicked) → ``blocked``, and the member
  whose chat it is gets ``blocked_at`` (`storage.members.mark_blocked`). Later
  rows to that chat are recorded ``blocked`` without a request until the
  member writes to the bot again (`handlers.scope` clears ``blocked_at``);
* 400 Bad Request (chat not found, bad markup…) and payloads that cannot be
  opened → ``invalid``: resending cannot help;
* 429 → back to ``pending`` with ``not_before = now + retry_after``, and this
  worker's pacer pauses for that long;
* network errors, timeouts and 5xx → retried with exponential backoff, then
  ``failed`` with the reason once ``DELIVERY_MAX_ATTEMPTS`` is reached.

Which bot sends: a separate ``telegram.Bot`` of our own, without PTB's
``AIORateLimiter``, with its own connection pool (`jobs.transport`, aiohttp).
Measured with `benchmarks/limiter_choice.py` against the sandbox at Telegram's
limits — 60 members × 5 messages each, back to back, while a member taps once
a second and is answered through the Application's bot::

    sender                                   time   429s   worst reply
    Application bot + AIORateLimiter        16.9 s   177     0.17 s
    our pacer + own bot                     12.0 s     0     0.01 s
    … with one injected 429 (retry 5 s):
    Application bot + AIORateLimiter        17.0 s   171     0.15 s
    our pacer + own bot                     17.0 s     0     0.01 s

PTB's limiter paces 30/s overall and 20/min per group but nothing per private
chat, so the back-to-back messages drew 177 answers 429 for 300 messages, which
it retried inside the request (the outbox would never see them), slowly; and
its sends queue in the same limiter as the members' replies. Its global hold
on a 429 is released by the next request that completes, so in this run the
injected 429 did not stall replies — but nor did it stop the broadcast.
Ours: no 429 at all, replies untouched, and after the injected 429 the worker
alone paused for the ``retry_after``.

Crash safety and "at most once": a claimed row is ``claimed`` (held, no
request) until it has its pacer slot and connection slot; then it is marked
``sending`` and that mark is committed *before* its request is made
(:meth:`DeliveryWorker._start`). The marks of everyone waiting, and the
outcomes waiting to be recorded, go in one transaction of the worker's one
writer; a mark waits up to ``start_delay`` (20 ms) for company unless a
quarter of the connection slots already wait, so at 1000 msg/s one commit
marks about 20 requests rather than one (``benchmarks/broadcast.py`` prints
the count). It stays ``sending`` until its outcome is recorded.

After a crash (``kill -9``), :func:`storage.outbox.recover_interrupted`
settles rows whose lease ran out: ``claimed`` ones go back to ``pending`` —
no request was made, so they are sent later as if nothing happened. Of the
``sending`` ones, ``at_most_once`` rows (broadcasts, greetings — the default)
become ``failed`` ("interrupted: not resent"); the others (relayed grievance
answers, ``at_most_once=False``) go back to ``pending``. So the only rows a
crash makes uncertain are requests really started: at most
``DELIVERY_CONCURRENCY`` in flight, which at-most-once rows may lose and
at-least-once rows may repeat, plus rows already answered whose outcome
waited for the next write (those arrived: recorded ``failed``, or sent again
if at-least-once). The lease is renewed while the worker lives, so a slow but
healthy instance never has its rows taken over; a row whose lease was taken
over meanwhile fails its start mark and is not sent. Rows claimed but not yet
tried at a clean shutdown are released to ``pending``. Measured with
`benchmarks/crash.py` (300 members, defaults, ``kill -9`` after 100, restart)::

    database   API latency   claimed   started   in flight   lost   doubled
    SQLite        0 ms          24         2          1         1        0
    SQLite      200 ms          20         6          5         5        0
    PostgreSQL    0 ms          25         1          0         0        0
    PostgreSQL  200 ms          22         6          4         4        0

when, with every claimed row ``sending`` from its claim, 30–38 were lost.

Timeouts are ambiguous: the request may have reached Telegram. Errors that
prove it did not (connect errors and connect/pool timeouts, or an error answer
from the server such as a 5xx) are always retried. When it may have
(read timeout, connection dropped mid-answer), an at-most-once row becomes
``failed`` ("may have been delivered, not resent") and an at-least-once row
is retried, accepting a possible duplicate rather than a loss.

Several instances share one PostgreSQL safely (claims skip each other's locked
rows) and one sending budget: on PostgreSQL the pacer is
`jobs.pacing.SharedPacer`, which books every send's slot in the database
(`storage.budget`), so all instances together keep ``TELEGRAM_RATE`` less
``TELEGRAM_REPLY_RESERVE`` and each chat's limit, with no split by hand, and
with every instance's replies to members (booked there too, `reply_slots`)
``TELEGRAM_RATE``;
``DELIVERY_RATE`` only caps one instance if set. Sends are paced by the chat
they really go to (a sealed row's real chat, not its pseudonym, which is
negative and was paced as a group). A chat's messages go out in claim order; a
row that is retried may be overtaken by a later one to the same chat, unless both
belong to one batch (``group_key``): the ones behind it that this worker holds
are released to wait as long as it does, so a report's files stay behind its
summary (`_hold_behind`).

The worker never crashes the bot: failures of the database or of the loop
are logged once per kind (row ids and error classes only — never a member id,
chat id or message text) and retried after a pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.error import RetryAfter, TelegramError

from core.frames import our_frames
from core.metrics import Metrics
from core.runtime import runtime_of
from jobs.config import DeliveryConfig
from jobs.outcomes import Kind, Outcome, classify
from jobs.pacing import Pacer, ReplySlots, SendPacer, SharedPacer
from jobs.sender import BotSender, Sender
from storage import outbox
from storage.budget import BudgetLimits, SendBudget
from storage.crypto import Cipher
from storage.db import checkpoint, transaction
from storage.models import utcnow
from storage.outbox import ClaimedMessage, PayloadError

if TYPE_CHECKING:
    from telegram.ext import Application, CallbackContext


# BotSender and Sender live in jobs.sender, DeliveryConfig in jobs.config; they are re-exported for the features
# that build a worker of their own in tests.
__all__ = [
    "BotSender",
    "DeliveryConfig",
    "DeliveryWorker",
    "Sender",
    "delivery_of",
    "pacer_for",
    "reply_slots",
    "start_delivery",
    "stop_delivery",
    "wake_after_commit",
]

log = logging.getLogger(__name__)

_RETRY_PAUSE = 2.0  # seconds before the loop tries again after a database error
# Recorded on rows skipped without a request, because their chat already refused the bot.
_SKIPPED_MEMBER = "member has blocked the bot"
_SKIPPED_GROUP = "the group refused the bot"


# The worker ------------------------------------------------------------------------


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class _Chat:
    """The rows in hand for one chat, sent one after another by one task."""

    queue: deque[ClaimedMessage] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None
    in_request: ClaimedMessage | None = None


class DeliveryWorker:
    """Claims, paces, sends and records; see the module docstring for the rules."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sender: Sender,
        *,
        config: DeliveryConfig | None = None,
        cipher: Cipher | None = None,
        clock: Callable[[], datetime] = utcnow,
        pacer: SendPacer | None = None,
        worker_id: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config or DeliveryConfig()
        # Outcomes and 429s for /metrics (`core.metrics`); None in tests that build their own.
        self._metrics = metrics
        self.worker_id = worker_id or new_worker_id()
        self.stats: Counter[str] = Counter()
        # Transactions that marked rows `sending` (see _start): rows per commit is
        # what keeps the mark cheap at high rates (printed by benchmarks/broadcast.py).
        self.start_commits = 0
        self._sessions = sessions
        self._sender = sender
        self._cipher = cipher
        self._now = clock
        self._kind_interval = dict(self.config.kind_interval)
        self._pacer: SendPacer = pacer or local_pacer(self.config)
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self._chats: dict[int, _Chat] = {}
        self._in_hand = 0
        self._results: list[tuple[ClaimedMessage, Outcome]] = []
        self._changed = asyncio.Event()
        self._starts: dict[int, asyncio.Future[bool]] = {}
        self._writer_wake = asyncio.Event()  # a mark or an outcome to write
        self._results_since = 0.0  # when the oldest unwritten outcome came in
        # A quarter of the connection slots waiting for their marks: write them now.
        self._starts_enough = max(1, self.config.concurrency // 4)
        self._starts_full = asyncio.Event()
        self._writer_gone = False
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._logged: set[str] = set()

    # ------------------------------------------------------------------ life cycle

    @property
    def pacer(self) -> SendPacer:
        """The worker's pacer: replies to members book their slots in it too (`reply_slots`)."""
        return self._pacer

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not self._stopping

    @property
    def alive(self) -> bool:
        """Running, and none of its loops has ended (what `/healthz` asks)."""
        return self.running and not any(task.done() for task in self._tasks)

    async def start(self) -> None:
        """Recover interrupted rows, then run the loop in the background."""
        if self._tasks:
            raise RuntimeError("the delivery worker is already running")
        await self._sender.start()
        await self._recover()
        self._tasks = [
            asyncio.create_task(self._main(), name="delivery-claim"),
            asyncio.create_task(self._writer(), name="delivery-write"),
            asyncio.create_task(self._maintenance(), name="delivery-lease"),
        ]

    def wake(self) -> None:
        """Look for due rows now (call after a transaction that enqueued has committed)."""
        self._changed.set()

    async def stop(self) -> None:
        """Finish requests in flight, release what was never tried, record everything."""
        if not self._tasks or self._stopping:
            return
        self._stopping = True
        self._changed.set()
        main, writer, maintenance = self._tasks
        maintenance.cancel()
        await asyncio.gather(main, maintenance, return_exceptions=True)
        runners = [c.task for c in self._chats.values() if c.task is not None]
        for chat in list(self._chats.values()):
            if chat.in_request is None and chat.task is not None:
                chat.task.cancel()  # waiting for a slot: nothing was sent
        if runners:
            _done, late = await asyncio.wait(runners, timeout=self.config.request_timeout + 1)
            for task in late:
                task.cancel()  # its row stays `sending`; recovery settles it
            await asyncio.gather(*runners, return_exceptions=True)
        self._writer_wake.set()
        await asyncio.gather(writer, return_exceptions=True)
        await self._pacer.close()
        await self._sender.close()
        log.info("delivery worker stopped: %s", dict(self.stats) or "nothing sent")

    # ------------------------------------------------------------------ claiming

    async def _main(self) -> None:
        while not self._stopping:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the bot must outlive a database outage
                self._log_once("loop", "claiming due rows", None, error)
                await self._wait_changed(_RETRY_PAUSE)

    async def _step(self) -> None:
        self._changed.clear()
        half = max(1, self.config.batch // 2)
        if self._in_hand > self.config.batch - half:
            await self._wait_changed(self.config.poll)  # enough in hand: wait for room
            return
        room = self.config.batch - self._in_hand
        claimed = await outbox.claim(self._sessions, self.worker_id, self._now(), room)
        for message in claimed:
            self._dispatch(message)
        if claimed and len(claimed) == room:
            await self._wait_changed(self.config.poll)
            return
        await self._wait_changed(await self._until_due())

    async def _until_due(self) -> float:
        async with self._sessions() as session:
            due = await outbox.next_due(session)
        if due is None:
            return self.config.poll
        wait = (due - self._now()).total_seconds()
        return min(self.config.poll, max(0.05, wait))

    async def _wait_changed(self, timeout: float) -> None:  # noqa: ASYNC109 - a deadline
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    # ------------------------------------------------------------------ sending

    def _dispatch(self, message: ClaimedMessage) -> None:
        self._in_hand += 1
        if message.member_blocked:
            self._finish(message, Outcome(Kind.BLOCKED, _SKIPPED_MEMBER, attempted=False))
            return
        to = self._chat_of(message)
        chat = self._chats.get(to)
        if chat is None:
            chat = self._chats[to] = _Chat()
            chat.task = asyncio.create_task(self._run_chat(to, chat))
        chat.queue.append(message)

    def _chat_of(self, message: ClaimedMessage) -> int:
        """The chat a row really goes to: rows of one chat are sent in order by one task.

        A sealed row names its chat by a pseudonym, one per row; queued by that,
        a member's rows (a vote's redraw of a poll copy, then the close's edit of
        it) raced each other for the chat's pace and the older edit could land last.
        """
        if not message.sensitive:
            return message.chat_id
        try:
            _, params = message.open(self._cipher)
        except PayloadError:
            return message.chat_id  # _deliver says why it cannot be sent
        return _paced_chat(params, message.chat_id)

    async def _run_chat(self, chat_id: int, chat: _Chat) -> None:
        """Send this chat's rows in order; one task per chat keeps its 1/s limit cheap."""
        blocked = False
        try:
            while chat.queue and not self._stopping:
                message = chat.queue[0]
                if blocked:
                    reason = _SKIPPED_MEMBER if chat_id > 0 else _SKIPPED_GROUP
                    outcome = Outcome(Kind.BLOCKED, reason, attempted=False)
                else:
                    outcome = await self._deliver(chat, message)
                chat.queue.popleft()
                blocked = blocked or outcome.kind is Kind.BLOCKED
                self._finish(message, outcome)
                if outcome.kind is Kind.RETRY and message.group_key is not None:
                    self._hold_behind(chat, message, outcome.backoff)
        finally:
            if chat.in_request is not None:
                # Cancelled mid-request: we cannot know if it went out. Leave the row
                # `sending`; recovery applies the at-most-once rule to it.
                chat.queue.remove(chat.in_request)
                self._settled(1)
            for message in chat.queue:
                self._finish(message, Outcome(Kind.RELEASE, attempted=False))
            chat.queue.clear()
            if self._chats.get(chat_id) is chat:
                del self._chats[chat_id]

    def _hold_behind(self, chat: _Chat, retried: ClaimedMessage, backoff: timedelta) -> None:
        """Rows of the retried row's batch to the same chat wait behind it, unsent.

        They go back to ``pending`` due no earlier than it (same backoff, later
        id), so the claim order gives them out after it again: a report's charts
        never overtake its summary.
        """
        behind = [m for m in chat.queue if m.group_key == retried.group_key]
        for message in behind:
            chat.queue.remove(message)
            self._finish(message, Outcome(Kind.RELEASE, attempted=False, backoff=backoff))

    async def _deliver(self, chat: _Chat, message: ClaimedMessage) -> Outcome:
        try:
            method, params = message.open(self._cipher)
        except PayloadError as error:
            return Outcome(Kind.INVALID, str(error), attempted=False)
        if message.uploads:
            try:
                params = await self._attach(message, params)
            except PayloadError as error:
                return Outcome(Kind.INVALID, str(error), attempted=False)
            except Exception as error:  # the database is away: try the row again later
                self._log_once("upload", "reading an upload", message.id, error)
                return Outcome(Kind.RELEASE, attempted=False)
        interval = self._kind_interval.get(message.kind, 0.0)
        if interval > 0:
            await self._pacer.space(message.kind, interval)
        to = _paced_chat(params, message.chat_id)
        await self._pacer.wait_chat(to)  # without holding a connection slot
        async with self._slots:
            await self._pacer.acquire(to)
            if self._stopping or not await self._start(message):
                # No request made: the row is free to wait again (if still ours).
                return Outcome(Kind.RELEASE, attempted=False)
            # Set until the answer is in: if we are cancelled meanwhile, the row
            # must stay `sending` (see _run_chat), since it may have gone out.
            chat.in_request = message
            try:
                message_id = await self._sender.send(method, params)
            except Exception as error:
                chat.in_request = None
                outcome = classify(error, message, self.config)
                if self._metrics is not None and isinstance(error, RetryAfter):
                    self._metrics.rate_limit("delivery")
                if outcome.pause:
                    self._pacer.pause(outcome.pause)
                if not isinstance(error, TelegramError | PayloadError):
                    self._log_once(f"send:{type(error).__name__}", "sending row", message.id, error)
                return outcome
            chat.in_request = None
        return Outcome(Kind.SENT, message_id=message_id)

    async def _attach(self, message: ClaimedMessage, params: dict[str, Any]) -> dict[str, Any]:
        """The row's file read in, in a session closed before the request (no request holds one)."""
        async with self._sessions() as session:
            return await outbox.attach_upload(session, message.key, params)

    # ------------------------------------------------------------------ start marks

    async def _start(self, message: ClaimedMessage) -> bool:
        """Have the row marked ``sending`` (committed) before its request; False: do not send.

        The mark is written by :meth:`_writer`, together with every other mark
        asked for meanwhile (and the outcomes waiting to be recorded), so a
        request waits one short transaction at most, and at high rates one
        commit marks a whole window of requests.
        """
        if self._writer_gone:
            return False
        future = asyncio.get_running_loop().create_future()
        self._starts[message.id] = future
        self._writer_wake.set()
        if len(self._starts) >= self._starts_enough:
            self._starts_full.set()
        return await future

    def _finish(self, message: ClaimedMessage, outcome: Outcome) -> None:
        self.stats[outcome.kind.value] += 1
        if self._metrics is not None:
            self._metrics.delivered(outcome.kind.value)
        if not self._results:
            self._results_since = time.monotonic()
            self._writer_wake.set()  # to time the wait for company
        self._results.append((message, outcome))
        if len(self._results) >= self.config.batch // 2:
            self._writer_wake.set()

    def _settled(self, count: int) -> None:
        self._in_hand -= count
        if self._in_hand <= self.config.batch // 2:
            self._changed.set()

    @property
    def in_hand(self) -> int:
        """Rows this worker has claimed and not yet recorded."""
        return self._in_hand

    # ------------------------------------------------------------------ writing

    async def _writer(self) -> None:
        """Write start marks at once and outcomes in batches, in one transaction when both wait.

        One writer, not one per purpose: SQLite has a single writer anyway, and
        two tasks of ours would only make each other wait in its busy handler.
        Start marks are urgent (a request waits for its mark) but wait
        ``start_delay`` for company unless a quarter of the connection slots
        already wait; outcomes are not urgent: they go with the next marks, or
        once half a batch waits or the oldest has waited ``record_delay``.
        """
        try:
            while True:
                if self._stopping and not self._chats and not self._results and not self._starts:
                    return
                due_in = self._results_due_in()
                if not self._starts and (due_in is None or due_in > 0):
                    self._writer_wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._writer_wake.wait(), due_in)
                    continue
                if self._starts and len(self._starts) < self._starts_enough:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._starts_full.wait(), self.config.start_delay)
                self._starts_full.clear()
                # A runner cancelled while it waited (a stop) no longer wants its mark.
                starts = {i: f for i, f in self._starts.items() if not f.done()}
                self._starts = {}
                # Outcomes ride along with marks: the transaction is paid for anyway.
                batch, self._results = self._results, []
                try:
                    marked = await self._write(starts, batch)
                except Exception as error:
                    self._log_once("record", "recording outcomes", None, error)
                    # Unsure whether the marks were committed: send nothing (the
                    # rows are released, which either state allows).
                    self._answer(starts, set())
                    if self._stopping:
                        return  # rows stay in hand; recovery settles them
                    self._results = batch + self._results  # keep them and try again
                    await asyncio.sleep(_RETRY_PAUSE)
                    continue
                self._answer(starts, marked)
                if batch:
                    self._settled(len(batch))
        finally:
            self._writer_gone = True
            self._answer(self._starts, set())

    def _results_due_in(self) -> float | None:
        """Seconds until the outcomes in hand should be written (None: there are none)."""
        if not self._results:
            return None
        if self._stopping or len(self._results) >= self.config.batch // 2:
            return 0.0
        return max(0.0, self._results_since + self.config.record_delay - time.monotonic())

    @staticmethod
    def _answer(starts: dict[int, asyncio.Future[bool]], marked: set[int]) -> None:
        for row_id, future in starts.items():
            if not future.done():
                future.set_result(row_id in marked)

    async def _write(
        self, starts: dict[int, asyncio.Future[bool]], batch: list[tuple[ClaimedMessage, Outcome]]
    ) -> set[int]:
        results = [
            outbox.Result(
                message,
                _EVENTS[outcome.kind],
                error=outcome.error,
                telegram_message_id=outcome.message_id,
                backoff=outcome.backoff,
                attempted=outcome.attempted,
            )
            for message, outcome in batch
        ]
        marked: set[int] = set()
        now = self._now()
        async with transaction(self._sessions) as session:
            if starts:
                marked = await outbox.start(session, starts, self.worker_id, now=now)
            if results:
                await outbox.record_results(session, results, now=now)
        if starts:
            self.start_commits += 1
        if any(message.uploads and _final(outcome) for message, outcome in batch):
            await self._empty_log()
        return marked

    async def _empty_log(self) -> None:
        """SQLite: the uploads just deleted must not linger in the write-ahead log.

        ``secure_delete`` overwrites them in the database file; their page images
        in ``-wal`` go with a checkpoint (rare: a report's files, once a month).
        """
        engine = self._sessions.kw.get("bind")
        if isinstance(engine, AsyncEngine) and not await checkpoint(engine):
            log.info("delivery worker: the write-ahead log was busy; emptied at a later checkpoint")

    # ------------------------------------------------------------------ leases

    async def _maintenance(self) -> None:
        """Renew our lease often; take over rows of dead instances now and then."""
        renew_every = self.config.lease / 3
        last_recover = time.monotonic()
        while True:
            await asyncio.sleep(renew_every)
            try:
                async with transaction(self._sessions) as session:
                    await outbox.renew_claims(session, self.worker_id, self._now())
                if time.monotonic() - last_recover >= self.config.lease:
                    last_recover = time.monotonic()
                    if await self._recover():
                        self._changed.set()
            except Exception as error:
                self._log_once("lease", "renewing the lease", None, error)

    async def _recover(self) -> int:
        try:
            async with transaction(self._sessions) as session:
                found = await outbox.recover_interrupted(
                    session, now=self._now(), lease=timedelta(seconds=self.config.lease)
                )
        except Exception as error:
            self._log_once("recover", "recovering interrupted rows", None, error)
            return 0
        if found.dropped or found.resent or found.released:
            log.warning(
                "recovered rows interrupted by a crash: %d never started, to be sent; "
                "of those started, %d not resent (at-most-once), %d resent",
                found.released,
                found.dropped,
                found.resent,
            )
        return found.dropped + found.resent + found.released

    def _log_once(self, kind: str, doing: str, row_id: int | None, error: BaseException) -> None:
        """Log a failure once per kind, with where it happened but no data.

        No traceback text: database errors quote their SQL parameters and other
        exceptions may quote the payload, which would put chat ids and message
        text in the log.
        """
        if kind in self._logged:
            return
        self._logged.add(kind)
        where = (our_frames(error) or ["outside the project's code"])[-1]
        row = f" row {row_id}" if row_id is not None else ""
        log.error(
            "delivery worker: %s%s failed with %s at %s (logged once; retrying)",
            doing,
            row,
            type(error).__name__,
            where,
        )


def _paced_chat(params: dict[str, Any], row_chat: int) -> int:
    """The chat a request really goes to: a sealed row names its chat by a pseudonym."""
    to = params.get("chat_id", row_chat)
    return to if isinstance(to, int) else row_chat


def pacer_for(
    sessions: async_sessionmaker[AsyncSession], config: DeliveryConfig, secret: str
) -> SendPacer:
    """The shared budget on PostgreSQL (any number of instances), the in-process pacer on SQLite."""
    engine = sessions.kw.get("bind")
    limits = BudgetLimits(
        rate=config.total_rate or config.rate,
        delivery_rate=config.rate,
        lookahead=config.lookahead,
        per_chat_interval=config.per_chat_interval,
        group_per_minute=config.group_per_minute,
        group_window=config.group_window,
        reply_chat_burst=config.reply_chat_burst,
    )
    if isinstance(engine, AsyncEngine) and engine.dialect.name == "postgresql":
        return SharedPacer(SendBudget(engine, secret, limits), instance_rate=config.instance_rate)
    return local_pacer(config)


def local_pacer(config: DeliveryConfig) -> Pacer:
    """This process's own pacer (SQLite: one instance), at the budget or the instance's cap."""
    return Pacer(
        rate=config.local_rate,
        total_rate=max(config.total_rate or config.rate, config.local_rate),
        lookahead=config.lookahead,
        per_chat_interval=config.per_chat_interval,
        group_per_minute=config.group_per_minute,
        group_window=config.group_window,
        reply_chat_burst=config.reply_chat_burst,
    )


def _final(outcome: Outcome) -> bool:
    return outbox.TRANSITIONS[_EVENTS[outcome.kind]][1] in outbox.FINAL


_EVENTS = {
    Kind.SENT: outbox.Event.SENT,
    Kind.BLOCKED: outbox.Event.BLOCKED,
    Kind.INVALID: outbox.Event.INVALID,
    Kind.RETRY: outbox.Event.RETRY,
    Kind.FAILED: outbox.Event.FAIL,
    Kind.RELEASE: outbox.Event.RELEASE,
}


# Wiring into the Application ---------------------------------------------------------


def delivery_of(
    target: Application[Any, Any, Any, Any, Any, Any] | CallbackContext[Any, Any, Any, Any],
) -> DeliveryWorker | None:
    worker = runtime_of(target).delivery
    return worker if isinstance(worker, DeliveryWorker) else None


def wake_after_commit(
    session: AsyncSession,
    target: Application[Any, Any, Any, Any, Any, Any] | CallbackContext[Any, Any, Any, Any],
) -> None:
    """Call after enqueueing: the worker looks for the new rows once they are committed."""
    worker = delivery_of(target)
    if worker is not None:
        outbox.on_commit(session, worker.wake)


async def start_delivery(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Build and start this instance's worker from the runtime's settings (if enabled)."""
    runtime = runtime_of(application)
    settings = runtime.settings
    if not settings.delivery_enabled:
        return
    config = DeliveryConfig.from_settings(settings)
    worker = DeliveryWorker(
        runtime.sessions,
        BotSender.for_settings(settings, config),
        config=config,
        cipher=outbox.outbox_cipher(settings.secret_key),
        clock=runtime.clock,
        pacer=pacer_for(runtime.sessions, config, settings.secret_key),
        metrics=runtime.metrics,
    )
    await worker.start()
    runtime.delivery = worker


def reply_slots(application: Application[Any, Any, Any, Any, Any, Any]) -> ReplySlots:
    """Where this instance's replies to members book their slots: the worker's pacer, so
    replies and deliveries share one rate (with no worker here, a pacer of their own on
    SQLite, the database's budget on PostgreSQL, which other instances' workers book in)."""
    worker = delivery_of(application)
    runtime = runtime_of(application)
    if isinstance(worker, DeliveryWorker):
        return worker.pacer.replies(runtime.metrics)
    config = DeliveryConfig.from_settings(runtime.settings)
    pacer = pacer_for(runtime.sessions, config, runtime.settings.secret_key)
    return pacer.replies(runtime.metrics)


async def stop_delivery(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    worker = delivery_of(application)
    if worker is not None:
        await worker.stop()
        runtime_of(application).delivery = None
