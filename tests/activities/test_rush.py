"""A rush when Telegram is slow: 240 taps for 50 seats, every Bot API answer 150 ms late.

Before handlers committed ahead of talking to Telegram, each tap held a pooled
connection (and the sign-up's row lock) for its replies' round trips: about
100 of 240 taps were answered "the database is busy". Now none fail, capacity
holds and the waitlist is in the order the taps arrived, on both databases.
"""

from __future__ import annotations

from tests.activities.rush import rush
from tests.support.bot import BotHarness


async def test_240_taps_for_50_seats_while_telegram_answers_late(bot: BotHarness) -> None:
    result = await rush(bot, members=240, seats=50, latency=0.15)
    assert (result.failed, result.seated, result.waitlisted) == (0, 50, 190)
    assert result.in_tap_order
    assert result.told_their_place
    # The `bot` fixture's RuleWatch also fails this test if any request was made
    # while a handler held a database connection.
