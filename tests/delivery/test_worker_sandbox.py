"""The delivery worker end to end: real HTTP to the sandbox, real database, real limits.

The sandbox's limits are Telegram's scaled ten times (300/s overall, 10/s per
chat) and the worker's pacing with them (250/s, 0.1 s per chat), so the same
arithmetic runs in a tenth of the time; `benchmarks/broadcast.py` runs the
unscaled limits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import BadRequest

from jobs.delivery import DeliveryConfig, DeliveryWorker
from jobs.sender import BotSender
from storage import members, outbox
from storage.db import transaction
from storage.models import Member, Outbox
from tests.support.delivery import (
    DELIVERY_TOKEN,
    SCALED_LIMITS,
    DeliverySandbox,
    enqueue,
    make_worker,
    settle,
    text_item,
)
from tests.support.members import add_members

SCALED_PACING: dict[str, Any] = {
    "rate": 250,
    "per_chat_interval": 0.1,
    "group_per_minute": 200,
    "backoff_base": 0.05,
    "poll": 0.2,
}


@pytest.fixture
async def sandbox() -> AsyncIterator[DeliverySandbox]:
    created = await DeliverySandbox.start(**SCALED_LIMITS)
    try:
        yield created
    finally:
        await created.stop()


async def test_300_messages_to_100_members_arrive_once_without_a_429(
    sandbox: DeliverySandbox, sessions: async_sessionmaker[AsyncSession]
) -> None:
    users = sandbox.open_chats(100)
    ids = dict(zip(users, await add_members(sessions, telegram_ids=users), strict=True))
    # Three broadcasts, each to everyone: the natural order of a busy day.
    await enqueue(sessions, [text_item(f"b{b}:u{u}", u, ids[u]) for b in range(3) for u in users])
    worker = make_worker(sandbox, sessions, **SCALED_PACING)
    await worker.start()
    try:
        statuses = await settle(sessions, worker=worker)
    finally:
        await worker.stop()
    assert set(statuses.values()) == {"sent"} and len(statuses) == 300
    for user in users:
        assert sandbox.received(user) == [f"b0:u{user}", f"b1:u{user}", f"b2:u{user}"]
    assert await sandbox.rate_limited() == 0


async def test_injected_429s_5xx_and_slow_answers_lose_and_double_nothing(
    sandbox: DeliverySandbox, sessions: async_sessionmaker[AsyncSession]
) -> None:
    users = sandbox.open_chats(40)
    ids = dict(zip(users, await add_members(sessions, telegram_ids=users), strict=True))
    await enqueue(sessions, [text_item(f"m{m}:u{u}", u, ids[u]) for m in range(3) for u in users])
    await sandbox.driver.fail_next("sendMessage", status=429, count=3, retry_after=1)
    await sandbox.driver.fail_next("sendMessage", status=502, count=6)
    await sandbox.driver.fail_next("sendMessage", status=500, count=6)
    await sandbox.driver.delay("sendMessage", seconds=0.3, count=10, phase="after")
    await sandbox.driver.delay("sendMessage", seconds=0.3, count=10, phase="before")
    worker = make_worker(sandbox, sessions, **SCALED_PACING, request_timeout=5.0)
    await worker.start()
    try:
        statuses = await settle(sessions, worker=worker)
    finally:
        await worker.stop()
    assert set(statuses.values()) == {"sent"}
    arrived = sandbox.deliveries(users)
    assert set(arrived) == set(statuses) and set(arrived.values()) == {1}
    assert worker.stats["retry"] == 15
    async with sessions() as session:
        retried = await session.scalar(
            select(Outbox.attempts).where(Outbox.attempts > 1).order_by(Outbox.id).limit(1)
        )
    assert retried is not None


async def test_timeouts_follow_the_row_s_delivery_promise(
    sandbox: DeliverySandbox, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A timeout may hide a delivery: at-most-once rows give up, at-least-once rows resend."""
    (user,) = sandbox.open_chats(1)
    worker = make_worker(sandbox, sessions, **SCALED_PACING, request_timeout=0.3)
    await worker.start()
    cases = [
        ("once-late-answer", True, "after"),  # delivered, answer lost: failed, seen once
        ("once-never-done", True, "before"),  # never processed: failed, not seen
        ("least-never-done", False, "before"),  # resent: seen once
        ("least-late-answer", False, "after"),  # resent: seen twice (the price of no loss)
    ]
    try:
        for key, at_most_once, phase in cases:
            await sandbox.driver.delay("sendMessage", seconds=1.0, count=1, phase=phase)
            await enqueue(sessions, [text_item(key, user, at_most_once=at_most_once)])
            worker.wake()
            await settle(sessions, worker=worker)
    finally:
        await worker.stop()
    async with sessions() as session:
        rows = {r.key: r for r in await session.scalars(select(Outbox))}
    arrived = sandbox.deliveries([user])
    assert rows["once-late-answer"].status == "failed"
    assert "not resent (at-most-once)" in (rows["once-late-answer"].last_error or "")
    assert arrived["once-late-answer"] == 1
    assert rows["once-never-done"].status == "failed" and arrived["once-never-done"] == 0
    assert rows["least-never-done"].status == "sent" and arrived["least-never-done"] == 1
    assert rows["least-late-answer"].status == "sent" and arrived["least-late-answer"] == 2


async def test_a_member_who_blocked_the_bot_is_marked_and_skipped(
    sandbox: DeliverySandbox, sessions: async_sessionmaker[AsyncSession]
) -> None:
    reachable, blocker = sandbox.open_chats(2)
    sandbox.server.actions.set_blocked(None, blocker, True, notify=False)
    (stranger,) = sandbox.open_chats(1, first=800_000_001, started=False)  # never wrote to us
    people = [reachable, blocker, stranger]
    ids = dict(zip(people, await add_members(sessions, telegram_ids=people), strict=True))
    await enqueue(
        sessions,
        [
            text_item("a1", reachable, ids[reachable]),
            text_item("b1", blocker, ids[blocker]),
            text_item("b2", blocker, ids[blocker]),
            text_item("s1", stranger, ids[stranger]),
            text_item("x1", 123_456_789),  # nobody: chat not found
        ],
    )
    worker = make_worker(sandbox, sessions, **SCALED_PACING)
    await worker.start()
    try:
        statuses = await settle(sessions, worker=worker)
        assert statuses == {
            "a1": "sent",
            "b1": "blocked",
            "b2": "blocked",
            "s1": "blocked",
            "x1": "invalid",
        }
        calls = await sandbox.driver.calls("sendMessage")
        assert sum(1 for c in calls if str(c.params["chat_id"]) == str(blocker)) == 1
        async with sessions() as session:
            marked = await members.get_member(session, blocker)
            assert marked is not None and marked.blocked_at is not None
            b2 = await session.scalar(select(Outbox).where(Outbox.key == "b2"))
            assert b2 is not None and b2.attempts == 0
            assert b2.last_error == "member has blocked the bot"
        # Later rows are skipped without a request while the member stays blocked…
        await enqueue(sessions, [text_item("b3", blocker, ids[blocker])])
        worker.wake()
        assert (await settle(sessions, worker=worker))["b3"] == "blocked"
        # …until they write again (bot.scope clears blocked_at) and get messages again.
        sandbox.server.actions.set_blocked(None, blocker, False, notify=False)
        async with transaction(sessions) as session:
            member = await members.get_member(session, blocker)
            assert member is not None
            await members.mark_reachable(session, member)
        await enqueue(sessions, [text_item("b4", blocker, ids[blocker])])
        worker.wake()
        assert (await settle(sessions, worker=worker))["b4"] == "sent"
    finally:
        await worker.stop()
    assert sandbox.received(blocker) == ["b4"]
    assert sandbox.received(reachable) == ["a1"]


async def test_sensitive_rows_markup_and_html_go_through_and_leave_nothing_readable(
    sandbox: DeliverySandbox, sessions: async_sessionmaker[AsyncSession]
) -> None:
    (user,) = sandbox.open_chats(1)
    markup = {"inline_keyboard": [[{"text": "评价 Rate", "callback_data": "rate:1"}]]}
    await enqueue(
        sessions,
        [
            outbox.Outgoing(
                key="grievance:7:reply:1",
                kind="grievance_reply",
                chat_id=user,
                payload=outbox.payload(
                    "sendMessage", text="<b>工会</b> answered: your wages", reply_markup=markup
                ),
                sensitive=True,
                at_most_once=False,
                priority=outbox.PRIORITY_NOTICE,
            )
        ],
    )
    worker = make_worker(sandbox, sessions, **SCALED_PACING)
    await worker.start()
    try:
        assert await settle(sessions, worker=worker) == {"grievance:7:reply:1": "sent"}
    finally:
        await worker.stop()
    (message,) = await sandbox.driver.messages(user)
    assert message.text == "工会 answered: your wages"  # HTML parse mode by default
    assert message.button("评价 Rate") is not None
    async with sessions() as session:
        row = await session.scalar(select(Outbox))
    assert row is not None and row.payload is None and row.telegram_message_id is not None


async def test_notices_overtake_a_running_broadcast(
    sandbox: DeliverySandbox, sessions: async_sessionmaker[AsyncSession]
) -> None:
    users = sandbox.open_chats(80)
    await enqueue(sessions, [text_item(f"bulk:{u}", u) for u in users])
    worker = make_worker(sandbox, sessions, **{**SCALED_PACING, "rate": 50, "batch": 10})
    await worker.start()
    try:
        await sandbox.driver.wait_for(
            lambda: sum(len(sandbox.received(u)) for u in users) >= 10, timeout=5
        )
        notice = text_item("notice", users[0], priority=outbox.PRIORITY_NOTICE)
        await enqueue(sessions, [notice])
        worker.wake()
        await settle(sessions, worker=worker)
    finally:
        await worker.stop()
    order = [c.params["text"] for c in await sandbox.driver.calls("sendMessage")]
    assert len(order) == 81
    # At most what the worker already had in hand (one batch) went before it.
    assert order.index("notice") <= 10 + 10 + 2


async def test_a_clean_stop_releases_what_was_never_tried(
    sandbox: DeliverySandbox, sessions: async_sessionmaker[AsyncSession]
) -> None:
    users = sandbox.open_chats(30)
    await enqueue(sessions, [text_item(f"k{u}", u) for u in users])
    slow = {**SCALED_PACING, "rate": 20, "batch": 30}
    first = make_worker(sandbox, sessions, **slow)
    await first.start()
    await sandbox.driver.wait_for(
        lambda: sum(len(sandbox.received(u)) for u in users) >= 5, timeout=5
    )
    await first.stop()
    async with sessions() as session:
        after_stop = dict(
            (k, s) for k, s in await session.execute(select(Outbox.key, Outbox.status))
        )
    assert "sending" not in after_stop.values() and "failed" not in after_stop.values()
    assert "pending" in after_stop.values()
    second = make_worker(sandbox, sessions, **SCALED_PACING)
    await second.start()
    try:
        statuses = await settle(sessions, worker=second)
    finally:
        await second.stop()
    assert set(statuses.values()) == {"sent"}
    assert set(sandbox.deliveries(users).values()) == {1}
    async with sessions() as session:
        assert await session.scalar(select(Member.id).limit(1)) is None  # no member rows here


async def test_the_worker_transport_also_uploads_files(sandbox: DeliverySandbox) -> None:
    """Outbox payloads send files by id, but the aiohttp transport handles uploads too."""
    (user,) = sandbox.open_chats(1)
    sender = BotSender.for_api(DELIVERY_TOKEN, sandbox.base_url, DeliveryConfig())
    await sender.start()
    try:
        sent = await sender.bot.send_document(
            user, document=b"name,dept\n", filename="roster.csv", caption="名单"
        )
    finally:
        await sender.close()
    (message,) = await sandbox.driver.messages(user)
    assert message.message_id == sent.message_id and message.caption == "名单"
    assert message.media is not None and message.media.file_name == "roster.csv"


class WatchingSender:
    """The real sender, asking the database (another connection) about each row as it leaves."""

    def __init__(self, inner: BotSender, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.inner = inner
        self.sessions = sessions
        self.status_at_request: dict[str, str | None] = {}
        self.claimed_meanwhile = 0

    async def start(self) -> None:
        await self.inner.start()

    async def send(self, method: str, params: dict[str, Any]) -> int | None:
        async with self.sessions() as session:
            key = str(params["text"])
            self.status_at_request[key] = await session.scalar(
                select(Outbox.status).where(Outbox.key == key)
            )
            claimed = await session.scalar(
                select(func.count()).where(Outbox.status == outbox.Status.CLAIMED.value)
            )
            self.claimed_meanwhile = max(self.claimed_meanwhile, int(claimed or 0))
        return await self.inner.send(method, params)

    async def close(self) -> None:
        await self.inner.close()


async def test_a_request_leaves_only_once_its_row_is_marked_sending(
    sandbox: DeliverySandbox, sessions: async_sessionmaker[AsyncSession]
) -> None:
    users = sandbox.open_chats(40)
    await enqueue(sessions, [text_item(f"k{n}:{u}", u) for n in range(2) for u in users])
    config = DeliveryConfig(**{**SCALED_PACING, "batch": 30, "concurrency": 4})
    sender = WatchingSender(BotSender.for_api(DELIVERY_TOKEN, sandbox.base_url, config), sessions)
    worker = DeliveryWorker(sessions, sender, config=config)
    await worker.start()
    try:
        statuses = await settle(sessions, worker=worker)
    finally:
        await worker.stop()
    assert set(statuses.values()) == {"sent"}
    # Committed before the request: a crash at any moment finds it `sending`, never
    # `claimed`, so recovery never resends a row whose request may have gone out.
    assert set(sender.status_at_request.values()) == {"sending"}
    assert len(sender.status_at_request) == 80
    # Meanwhile most of the batch waited as `claimed`: not in flight, safe to resend.
    assert sender.claimed_meanwhile > config.concurrency
    # How many marks share a commit depends on how fast this machine is: a figure
    # benchmarks/broadcast.py prints ("start marks … rows each"), not a test's business.


async def test_an_edit_already_done_or_of_a_gone_message_counts_as_done(
    sandbox: DeliverySandbox,
) -> None:
    """Telegram's "message is not modified" and "message to edit not found" end an edit."""
    (user,) = sandbox.open_chats(1)
    sender = BotSender.for_api(DELIVERY_TOKEN, sandbox.base_url, DeliveryConfig())
    await sender.start()
    try:
        sent = await sender.bot.send_message(user, "投票已截止")
        same = {"chat_id": user, "message_id": sent.message_id, "text": "投票已截止"}
        assert await sender.send("editMessageText", same) == sent.message_id  # not modified
        markup = {"inline_keyboard": [[{"text": "📊 结果", "callback_data": "pres:1"}]]}
        changed = {**same, "reply_markup": markup}
        assert await sender.send("editMessageText", changed) == sent.message_id
        only_markup = {"chat_id": user, "message_id": sent.message_id, "reply_markup": markup}
        assert await sender.send("editMessageReplyMarkup", only_markup) == sent.message_id
        gone = {"chat_id": user, "message_id": sent.message_id + 50, "text": "x"}
        assert await sender.send("editMessageText", gone) == sent.message_id + 50  # not found
        with pytest.raises(BadRequest, match="empty"):  # any other refusal stays one
            await sender.send("editMessageText", {**same, "text": ""})
    finally:
        await sender.close()
    (message,) = await sandbox.driver.messages(user)
    assert message.text == "投票已截止" and [b.text for b in message.buttons[0]] == ["📊 结果"]
