"""Replies to members and deliveries keep Telegram's overall rate together.

Each message a reply posts books its slot in the budget the delivery worker
paces by (`jobs.pacing.ReplySlots`): in process on SQLite, in the database on
PostgreSQL. Before, replies went uncounted beside the worker, and a burst of
members during a broadcast went past the limit (Telegram answered 429 and
PTB's limiter held every reply for the whole ``retry_after``).
"""

from __future__ import annotations

import asyncio

from bot.request import CommitFirstRateLimiter
from storage import outbox
from storage.db import transaction
from tests.support.bot import BotHarness, fresh_bot
from tests.support.config import SECRET, TOKEN
from tests.support.delivery import text_item

BOT_ID = int(TOKEN.split(":")[0])
RATE = 20.0  # the bot's and the sandbox's, so the test is short


async def test_a_burst_of_members_during_a_broadcast_gets_no_429(database_url: str) -> None:
    async with fresh_bot(
        database_url,
        rate_limiter=True,
        telegram_rate=RATE,
        telegram_reply_reserve=4,
        delivery_poll_seconds=0.2,
    ) as bot:
        limiter = bot.application.bot.rate_limiter
        assert isinstance(limiter, CommitFirstRateLimiter) and limiter.replies is not None
        recipients = [800_000_000 + i for i in range(60)]
        for user_id in recipients:
            bot.server.actions.create_user(f"收件人{user_id % 100}", user_id=user_id)
            bot.server.actions.open_private(BOT_ID, user_id)
        members = [await bot.driver.create_user(f"会员{i}") for i in range(30)]
        await bot.driver.set_limits(True, global_rate=RATE, per_chat_burst=3)
        before = (await bot.driver.stats())["calls"]["rate_limited"]

        async with transaction(bot.runtime.sessions) as session:
            await outbox.enqueue_many(
                session,
                [text_item(f"通知{chat}", chat) for chat in recipients],
                now=bot.clock.now,
                cipher=outbox.outbox_cipher(SECRET),
            )
        delivery = bot.runtime.delivery
        assert delivery is not None
        delivery.wake()
        await _delivered(bot, recipients, at_least=8)  # the broadcast goes out at its 16/s
        await asyncio.gather(*(member.send("/start") for member in members))

        for member in members:
            assert await member.bot_messages(), "every member was answered"
        await _delivered(bot, recipients, at_least=len(recipients))
        limited = (await bot.driver.stats())["calls"]["rate_limited"] - before
        assert limited == 0
        exposed = bot.runtime.metrics.exposition().decode()
        booked = [line for line in exposed.splitlines() if 'outcome="booked"' in line]
        assert booked and float(booked[0].split()[-1]) >= len(members)
        assert 'outcome="unbooked"' not in exposed


async def _delivered(bot: BotHarness, chats: list[int], *, at_least: int) -> None:
    """Wait (30 s at most) until ``at_least`` of the chats have their message."""

    def arrived() -> int:
        state = bot.server.state.private
        return sum(
            1
            for chat in chats
            if (record := state.get((BOT_ID, chat))) is not None
            and any(m.sender_id == BOT_ID for m in record.messages.values())
        )

    async with asyncio.timeout(30):
        while arrived() < at_least:  # noqa: ASYNC110 - the sandbox has no event for it
            await asyncio.sleep(0.05)
