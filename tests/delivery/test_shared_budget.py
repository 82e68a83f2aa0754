"""One sending budget for the whole bot, in PostgreSQL, whatever the number of delivery workers.

Limits are checked on the slots the budget handed out — the instants every send
was booked for, computed in the database — not on wall-clock measurements, so a
busy machine cannot make a test pass or fail. The sandbox still enforces its
(scaled) limits and counts its 429s, and says what arrived.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.request import ChatPacer, CommitFirstRateLimiter
from core.metrics import Metrics
from core.settings import SettingsError, load_settings
from jobs.delivery import DeliveryConfig, DeliveryWorker, pacer_for
from jobs.pacing import Pacer, ReplySlots, SendPacer, SharedPacer, SharedReplies
from jobs.sender import BotSender
from sandbox import SandboxDriver
from storage import outbox
from storage.budget import DELIVERIES, GLOBAL, BudgetLimits, Grant, ReplyAsk, SendBudget
from storage.db import make_engine, make_session_factory
from storage.models import Outbox, SendBudgetRow
from tests.delivery.test_pacing import assert_bucket, assert_chat_bucket, assert_group_window
from tests.support.config import SECRET
from tests.support.databases import clean_database
from tests.support.delivery import (
    BOT_ID,
    DELIVERY_TOKEN,
    SCALED_LIMITS,
    DeliverySandbox,
    assert_chat_limits,
    enqueue,
    settle,
    text_item,
)
from tests.support.members import add_members

GROUP = -1001234567890

# A budget for the two workers together well above what one alone would need.
RATE = 120.0
PACING: dict[str, Any] = {
    "rate": RATE,
    "per_chat_interval": 0.1,
    "group_per_minute": 10,
    "group_window": 1.0,
    "batch": 20,
    "backoff_base": 0.05,
    "poll": 0.2,
}
EPS = 1e-6


# ------------------------------------------------------------------------- helpers


def assert_within(
    sends: list[tuple[float, int]],
    *,
    rate: float,
    per_chat: float,
    per_group: int,
    window: float,
) -> None:
    """Booked slots: overall ``1/rate`` apart, a private chat ``per_chat`` apart, a group's windows."""
    times = sorted(t for t, _ in sends)
    for a, b in pairwise(times):
        assert b - a >= 1.0 / rate - EPS, (a, b)
    assert_chat_limits(sends, per_chat=per_chat, per_group=per_group, window=window, eps=EPS)


@pytest.fixture
async def pg_url(pg_database: str) -> str:
    await clean_database(pg_database)
    return pg_database


@pytest.fixture
async def two_engines(pg_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two engines on one database: what two instances (two processes) would hold."""
    a, b = make_engine(pg_url), make_engine(pg_url)
    try:
        yield a, b
    finally:
        await a.dispose()
        await b.dispose()


LIMITS = BudgetLimits(rate=RATE, per_chat_interval=0.1, group_per_minute=10, group_window=1.0)


def budgets(engines: tuple[AsyncEngine, AsyncEngine]) -> list[SendBudget]:
    return [SendBudget(e, SECRET, LIMITS) for e in engines]


@dataclass
class Recording:
    """The production pacer, noting each slot it handed the worker (the worker ignores them)."""

    pacer: SendPacer
    slots: list[tuple[float, int]] = field(default_factory=list)

    @property
    def paused_until(self) -> float:
        return self.pacer.paused_until

    def pause(self, seconds: float) -> None:
        self.pacer.pause(seconds)

    async def space(self, stream: str, interval: float) -> None:
        await self.pacer.space(stream, interval)

    async def wait_chat(self, chat_id: int) -> None:
        await self.pacer.wait_chat(chat_id)

    async def acquire(self, chat_id: int) -> float:
        slot = await self.pacer.acquire(chat_id)
        self.slots.append((slot, chat_id))
        return slot

    async def close(self) -> None:
        await self.pacer.close()

    def replies(self, metrics: Metrics | None = None) -> ReplySlots:
        return self.pacer.replies(metrics)


# ------------------------------------------------------------------------- the budget


async def test_two_instances_claiming_at_once_share_one_schedule(
    two_engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """Concurrent batches from two engines: no slot shared, every limit kept, busy chats told when."""
    rng = random.Random(16)
    chats = [*range(1, 41), GROUP, GROUP - 1]
    first, second = budgets(two_engines)
    now = 1_000_000.0
    granted: list[tuple[float, int]] = []
    busy: list[float] = []

    async def claimer(budget: SendBudget, rounds: int) -> None:
        for _ in range(rounds):
            batch = [rng.choice(chats) for _ in range(6)]
            for chat, grant in zip(batch, await budget.claim(batch, now), strict=True):
                if grant.slot is None:
                    busy.append(grant.not_before)
                else:
                    granted.append((grant.slot, chat))

    await asyncio.gather(*(claimer(b, 10) for b in (first, second, first, second)))
    assert len(granted) + len(busy) == 4 * 10 * 6
    assert_within(granted, rate=RATE, per_chat=0.1, per_group=10, window=1.0)
    # Back to back from `now`: no hole in the overall schedule, none in the past.
    slots = sorted(t for t, _ in granted)
    assert slots[0] == pytest.approx(now)
    assert slots[-1] == pytest.approx(now + (len(slots) - 1) / RATE)
    assert busy and min(busy) > now
    assert await first.next_slot() == pytest.approx(now + len(slots) / RATE)


SPLIT = BudgetLimits(
    rate=30.0,
    delivery_rate=20.0,
    lookahead=0.5,
    per_chat_interval=0.1,
    group_per_minute=10,
    group_window=1.0,
)


async def test_replies_and_deliveries_of_two_instances_share_the_rate(
    two_engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """Deliveries and replies booked by two instances at random moments: the bot's slots
    within 30/s (the replies' short burst aside), the deliveries' 1/20 s apart, none
    booked past the lookahead; a
    reply waits behind no more than the lookahead's deliveries and the replies before it."""
    rng = random.Random(22)
    budgets = [SendBudget(e, SECRET, SPLIT) for e in two_engines]
    now = 1_000_000.0
    deliveries: list[float] = []
    replies: list[float] = []
    for _ in range(150):
        budget = rng.choice(budgets)
        now += rng.choice((0.0, 0.01, 0.05, 0.2))
        if rng.random() < 0.6:
            batch = rng.sample(range(1, 2000), rng.randint(1, 12))
            for grant in await budget.claim(batch, now):
                if grant.slot is None:
                    assert grant.not_before > now  # asked again later, never lost
                else:
                    assert now - EPS <= grant.slot <= now + SPLIT.lookahead + EPS
                    deliveries.append(grant.slot)
        else:
            count = rng.randint(1, 4)
            grants = await budget.claim_replies([ReplyAsk(1)] * count, now)
            slots = [grant.slot for grant in grants if grant.slot is not None]
            latest = max(replies, default=float("-inf"))
            assert len(slots) == count and slots[0] >= now - EPS
            assert slots[0] <= max(now + SPLIT.lookahead, latest) + 1 / 30 + EPS
            replies.extend(slots)
    assert len(deliveries) > 100 and len(replies) > 50
    assert_bucket(sorted([*deliveries, *replies]), rate=30)
    for a, b in pairwise(sorted(deliveries)):
        assert b - a >= 1 / 20 - EPS


async def test_replies_asking_together_are_booked_together(pg_url: str) -> None:
    """A burst of 50 members' replies: a few transactions, 50 slots one after the other."""
    engine = make_engine(pg_url)
    try:
        budget = SendBudget(engine, SECRET, SPLIT)
        slots = SharedReplies(budget, pause=lambda _seconds: None, sleep=_no_sleep)
        started = time.time()
        await asyncio.gather(*(slots.take() for _ in range(50)))
        assert slots.claims <= 5
        booked = await budget.next_slot()
        assert booked is not None and booked >= started + 50 / 30 - 0.01
        await slots.close()
    finally:
        await engine.dispose()


async def _no_sleep(_seconds: float) -> None:
    """The slots' times are what is checked; nobody needs to wait for them here."""


async def test_a_reply_is_never_held_for_an_unreachable_budget(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The database away: replies leave unbooked, and the log says so once."""
    engine = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        metrics = Metrics()
        budget = SendBudget(engine, SECRET, SPLIT)
        slots = SharedReplies(budget, pause=lambda _seconds: None, metrics=metrics)
        with caplog.at_level(logging.ERROR, logger="jobs.pacing"):
            for _ in range(3):
                await asyncio.wait_for(slots.take(), 10)
        failures = [r for r in caplog.records if "booking replies failed" in r.getMessage()]
        assert len(failures) == 1 and slots.claims == 0
        assert b'union_bot_reply_slots_total{outcome="unbooked"} 3.0' in metrics.exposition()
        await slots.close()
    finally:
        await engine.dispose()


async def test_a_pause_holds_every_instance_and_chat_rows_name_no_chat(
    two_engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    first, second = budgets(two_engines)
    now = 2_000_000.0
    await first.claim([11, GROUP], now)
    async with make_session_factory(two_engines[0])() as session:
        keys = set(await session.scalars(select(SendBudgetRow.key)))
    assert keys == {GLOBAL, DELIVERIES, first.key(11), first.key(GROUP)}
    assert not keys & {11, GROUP}
    await first.pause(now + 5)  # a 429 seen by the first instance
    (grant,) = await second.claim([12], now + 1)
    assert grant.slot == pytest.approx(now + 5)
    # Past the (scaled) group window the chat rows constrain nothing and are gone.
    await second.claim([13], now + 120)
    async with make_session_factory(two_engines[1])() as session:
        keys = set(await session.scalars(select(SendBudgetRow.key)))
    assert keys == {GLOBAL, DELIVERIES, first.key(13)}


class Refusals(SendBudget):
    """The real budget, telling the test when the database has refused it twice."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.refused = 0
        self.twice = asyncio.Event()

    async def claim(self, chats: Sequence[int], now: float) -> list[Grant]:
        try:
            return await super().claim(chats, now)
        except Exception:
            self.refused += 1
            if self.refused >= 2:
                self.twice.set()
            raise


async def test_while_the_database_is_away_nothing_is_sent_and_afterwards_no_burst(
    pg_url: str,
) -> None:
    """Claims fail (the table locked away): senders wait; then they go at the pace, from then."""
    engine = make_engine(pg_url, lock_timeout=0.1)
    blocker = make_engine(pg_url)
    try:
        budget = Refusals(engine, SECRET, LIMITS)
        pacer = SharedPacer(budget, backoff=0.02, backoff_max=0.05)
        async with blocker.connect() as conn:
            transaction = await conn.begin()
            await conn.execute(text("LOCK TABLE send_budget IN ACCESS EXCLUSIVE MODE"))
            senders = [asyncio.create_task(pacer.acquire(chat)) for chat in range(1, 21)]
            await asyncio.wait_for(budget.twice.wait(), 30)
            assert not any(task.done() for task in senders)
            await transaction.rollback()
        reopened = time.time()  # the pacer's clock
        slots = sorted(await asyncio.gather(*senders))
        await pacer.close()
    finally:
        await engine.dispose()
        await blocker.dispose()
    # Booked from when the budget answered: a claim waiting for the lock (0.1 s at most)
    # when it was let go may have read the clock just before.
    assert slots[0] >= reopened - 0.2
    for a, b in pairwise(slots):
        assert b - a == pytest.approx(1.0 / RATE, abs=EPS)


class Jumps:
    """A clock that only moves when someone sleeps on it, at once: database waits take no time."""

    def __init__(self, start: float = 3_000_000.0) -> None:
        self.now = start

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


async def test_a_429_on_one_instance_pauses_the_other(
    two_engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    first, second = budgets(two_engines)
    time_ = Jumps()
    a = SharedPacer(first, clock=time_.clock, sleep=time_.sleep)
    b = SharedPacer(second, clock=time_.clock, sleep=time_.sleep)
    start = time_.now
    a.pause(5.0)  # Telegram's retry_after, seen by a
    await a.close()  # the pause is written
    assert await b.acquire(42) >= start + 5.0
    await b.close()


async def test_delivery_rate_caps_one_instance_below_the_shared_budget(
    two_engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    (budget, _) = budgets(two_engines)
    time_ = Jumps()
    pacer = SharedPacer(budget, instance_rate=10, clock=time_.clock, sleep=time_.sleep)
    slots = [await pacer.acquire(chat) for chat in range(1, 21)]
    await pacer.close()
    for a, b in pairwise(slots):
        assert b - a == pytest.approx(0.1, abs=EPS)  # 10/s, though the budget allows 120/s


async def test_a_clock_far_off_the_database_s_is_reported_once(
    two_engines: tuple[AsyncEngine, AsyncEngine], caplog: pytest.LogCaptureFixture
) -> None:
    (budget, _) = budgets(two_engines)
    time_ = Jumps()  # 1970: decades off the database's clock
    pacer = SharedPacer(budget, clock=time_.clock, sleep=time_.sleep)
    with caplog.at_level(logging.WARNING, logger="jobs.pacing"):
        for chat in (1, 2, 3):
            await pacer.acquire(chat)
    await pacer.close()
    warned = [r for r in caplog.records if "clock" in r.getMessage()]
    assert len(warned) == 1


# ------------------------------------------------------------------------- two workers


@pytest.fixture
async def sandbox() -> AsyncIterator[DeliverySandbox]:
    created = await DeliverySandbox.start(**SCALED_LIMITS)
    try:
        yield created
    finally:
        await created.stop()


def shared_worker(
    sandbox: DeliverySandbox, engine: AsyncEngine, config: DeliveryConfig
) -> tuple[DeliveryWorker, Recording]:
    sessions = make_session_factory(engine)
    pacer = Recording(pacer_for(sessions, config, SECRET))
    assert isinstance(pacer.pacer, SharedPacer)
    worker = DeliveryWorker(
        sessions,
        BotSender.for_api(DELIVERY_TOKEN, sandbox.base_url, config),
        config=config,
        cipher=outbox.outbox_cipher(SECRET),
        pacer=pacer,
    )
    return worker, pacer


async def group_sends(driver: SandboxDriver) -> int:
    calls = await driver.calls(method="sendMessage", limit=1000)
    return sum(1 for c in calls if int(c.params.get("chat_id", 0)) == GROUP and c.ok)


async def test_two_workers_deliver_a_broadcast_within_one_budget_once_each(
    sandbox: DeliverySandbox, two_engines: tuple[AsyncEngine, AsyncEngine]
) -> None:
    users = sandbox.open_chats(60)
    sandbox.server.actions.create_group("Cadres", chat_id=GROUP, bot_ids=[BOT_ID])
    sessions = make_session_factory(two_engines[0])
    ids = dict(zip(users, await add_members(sessions, telegram_ids=users), strict=True))
    items = [text_item(f"b{b}:u{u}", u, ids[u]) for b in range(4) for u in users]
    items += [text_item(f"g{n}", GROUP) for n in range(25)]
    await enqueue(sessions, items)
    config = DeliveryConfig(**PACING)
    workers = [shared_worker(sandbox, engine, config) for engine in two_engines]
    for worker, _ in workers:
        await worker.start()
    try:
        statuses = await settle(sessions, timeout=60)
    finally:
        for worker, _ in workers:
            await worker.stop()
    assert set(statuses.values()) == {"sent"} and len(statuses) == len(items)
    arrived = sandbox.deliveries(users)
    assert set(arrived.values()) == {1} and len(arrived) == 4 * len(users)
    for user in users:  # a chat's messages in order, whichever worker sent them
        assert sandbox.received(user) == [f"b{b}:u{user}" for b in range(4)]
    assert await group_sends(sandbox.driver) == 25
    slots = [s for _, pacer in workers for s in pacer.slots]
    assert len(slots) == len(items)
    assert_within(slots, rate=RATE, per_chat=0.1, per_group=10, window=1.0)
    sent_by = [worker.stats["sent"] for worker, _ in workers]
    assert all(sent_by) and sum(sent_by) == len(items)  # both took part
    assert await sandbox.rate_limited() == 0
    async with sessions() as session:
        assert not await session.scalar(
            select(Outbox.id).where(Outbox.attempts > 1).limit(1)
        )  # nothing retried, so nothing could double


# ------------------------------------------------------------------------- SQLite, settings


async def test_sqlite_keeps_the_in_process_pacer(sqlite_url: str) -> None:
    await clean_database(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        sessions = make_session_factory(engine)
        pacer = pacer_for(sessions, DeliveryConfig(rate=25, instance_rate=10), SECRET)
        assert isinstance(pacer, Pacer) and pacer.rate == 10
        pacer = pacer_for(sessions, DeliveryConfig(rate=25), SECRET)
        assert isinstance(pacer, Pacer) and pacer.rate == 25
        async with sessions() as session:
            assert await session.scalar(select(SendBudgetRow.key).limit(1)) is None
    finally:
        await engine.dispose()


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "DELIVERY_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env
    yield


BASE = {"telegram_bot_token": "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345", "secret_key": "k" * 40}


@pytest.mark.usefixtures("no_env")
def test_settings_share_telegram_s_rate_less_the_reply_reserve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings(**BASE)
    assert (settings.telegram_rate, settings.telegram_reply_reserve) == (30, 5)
    assert settings.delivery_rate is None
    assert settings.delivery_budget == settings.delivery_pace == 25
    config = DeliveryConfig.from_settings(settings)
    assert (config.rate, config.instance_rate, config.local_rate) == (25, None, 25)
    monkeypatch.setenv("DELIVERY_RATE", "")
    assert load_settings(**BASE).delivery_rate is None
    monkeypatch.setenv("DELIVERY_RATE", "12")
    capped = load_settings(**BASE)
    assert capped.delivery_pace == 12 and capped.delivery_budget == 25
    monkeypatch.setenv("TELEGRAM_RATE", "1000")  # paid broadcasts
    monkeypatch.setenv("TELEGRAM_REPLY_RESERVE", "0")
    assert load_settings(**BASE).delivery_budget == 1000


@pytest.mark.usefixtures("no_env")
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_RATE", "0"),
        ("TELEGRAM_RATE", "1001"),
        ("TELEGRAM_RATE", "fast"),
        ("TELEGRAM_REPLY_RESERVE", "-1"),
        ("TELEGRAM_REPLY_RESERVE", "30"),  # nothing left to deliver
        ("DELIVERY_RATE", "0"),
        ("DELIVERY_RATE", "1001"),
    ],
)
def test_bad_rates_are_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        load_settings(**BASE)
    assert str(refused.value).startswith(f"{name} is malformed: expected")
    assert "\n" not in str(refused.value)


class SteppedTime:
    """A clock whose ``sleep`` jumps ahead at once: requests here are made one at a time."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


CHAT_LIMITS = BudgetLimits(
    rate=30.0, per_chat_interval=1.0, group_per_minute=5, group_window=6.0, reply_chat_burst=3
)


async def test_two_instances_replies_and_deliveries_keep_each_chat_s_limit(
    two_engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """The cadre group hears both instances' replies and edits and the deliveries to it;
    a member is answered by whichever instance takes their update. Each chat's limit
    holds over all of them together: what one instance's own limiter cannot see."""
    time_ = SteppedTime()
    budgets = [SendBudget(engine, SECRET, CHAT_LIMITS) for engine in two_engines]
    limiters = []
    for budget in budgets:
        limiter = CommitFirstRateLimiter(telegram_rate=30.0, chat_burst=3)
        limiter.chats = ChatPacer(burst=3, interval=1.1, clock=time_.clock, sleep=time_.sleep)
        limiter.replies = SharedReplies(
            budget, pause=lambda _seconds: None, clock=time_.clock, sleep=time_.sleep
        )
        limiters.append(limiter)
    sent: dict[int, list[float]] = {GROUP: [], 42: []}

    async def request(limiter: CommitFirstRateLimiter, endpoint: str, chat: int) -> None:
        async def call() -> bool:
            sent[chat].append(time_.now)
            return True

        await limiter.process_request(call, (), {}, endpoint, {"chat_id": chat}, None)

    async def deliver(budget: SendBudget, chat: int) -> None:
        while (grant := (await budget.claim([chat], time_.now))[0]).slot is None:
            time_.now = max(time_.now, grant.not_before)
        time_.now = max(time_.now, grant.slot)
        sent[chat].append(time_.now)

    try:
        for turn in range(6):
            first, second = limiters[turn % 2], limiters[(turn + 1) % 2]
            await request(first, "sendMessage", GROUP)
            await request(second, "editMessageText", GROUP)
            await deliver(budgets[turn % 2], GROUP)
            await request(first, "sendMessage", 42)
            await request(second, "sendMessage", 42)
            await deliver(budgets[(turn + 1) % 2], 42)
    finally:
        for limiter in limiters:
            assert limiter.replies is not None
            await limiter.replies.close()
    assert len(sent[GROUP]) == 18 and len(sent[42]) == 18
    assert_group_window(sent[GROUP], per_window=5, window=6.0)
    assert_chat_bucket(sent[42], burst=3, interval=1.0)
