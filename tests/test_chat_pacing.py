"""Replies to one private chat are paced as Telegram allows, so a quick member stalls no one.

PTB's limiter paces only the whole bot and groups; past Telegram's per-chat
limit it gets a 429 and then holds every chat's replies. `bot.request.ChatPacer`
books each private chat's messages (a burst, then one a second) before they leave.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.request import (
    ChatPacer,
    CommitFirstRateLimiter,
    counted_overall,
    messages_posted,
    paced_in_chat,
)
from tests.support.bot import fresh_bot
from tests.support.chat import registered


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_burst_goes_at_once_and_the_rest_one_a_second() -> None:
    clock = FakeTime()
    pacer = ChatPacer(burst=3, interval=1.0, clock=clock, sleep=clock.sleep)
    assert [pacer.book(7) for _ in range(6)] == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]
    assert pacer.book(8) == 0.0  # another chat is not held up by the first
    clock.now += 10  # quiet for a while: a full burst again
    assert [pacer.book(7) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacer.book(7) == 1.0


@given(st.lists(st.floats(min_value=0, max_value=5), min_size=1, max_size=40))
def test_no_window_ever_holds_more_than_the_burst_plus_the_rate(gaps: list[float]) -> None:
    """Whatever the arrival times, the sent times keep Telegram's bucket: in any span of
    t seconds at most burst + t messages (what the sandbox enforces)."""
    clock = FakeTime()
    pacer = ChatPacer(burst=3, interval=1.0, clock=clock, sleep=clock.sleep)
    sent: list[float] = []
    for gap in gaps:
        clock.now += gap
        sent.append(clock.now + pacer.book(1))
    sent.sort()
    for i, start in enumerate(sent):
        for j in range(i, len(sent)):
            span = sent[j] - start
            assert j - i + 1 <= 3 + span + 1e-9


@given(
    st.lists(
        st.tuples(st.floats(min_value=0, max_value=3), st.floats(min_value=0, max_value=3)),
        min_size=1,
        max_size=40,
    )
)
@example([(0.0, 3.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)])  # held up, then three at once
def test_a_reply_held_up_after_booking_still_keeps_the_bucket(
    steps: list[tuple[float, float]],
) -> None:
    """One chat's replies one after the other (its updates are), each booked, then held
    up behind the whole bot's limit for a while before it leaves (`sent`): the times
    they leave keep Telegram's bucket, however long each was held up."""
    clock = FakeTime()
    pacer = ChatPacer(burst=3, interval=1.0, clock=clock, sleep=clock.sleep)
    left: list[float] = []
    for gap, held in steps:
        clock.now += gap
        clock.now += pacer.book(1)
        clock.now += held
        pacer.sent(1)
        left.append(clock.now)
    for i, start in enumerate(left):
        for j in range(i, len(left)):
            assert j - i + 1 <= 3 + (left[j] - start) + 1e-9


def test_only_messages_count() -> None:
    assert paced_in_chat("sendMessage") and paced_in_chat("editMessageText")
    assert paced_in_chat("sendPhoto") and paced_in_chat("copyMessage")
    assert not paced_in_chat("sendChatAction") and not paced_in_chat("answerCallbackQuery")
    assert not paced_in_chat("getUpdates")


def test_only_new_messages_take_a_slot_of_the_bot_s_rate() -> None:
    """Telegram's overall limit counts messages posted, not edits or button answers; a
    media group posts one message per item."""
    assert [counted_overall(m) for m in ("sendMessage", "sendDocument", "copyMessage")] == [1] * 3
    for method in ("editMessageText", "answerCallbackQuery", "sendChatAction", "getUpdates"):
        assert counted_overall(method) == 0, method
    assert messages_posted("sendMediaGroup", {"media": [{}, {}, {}]}) == 3
    assert messages_posted("sendMessage", {"text": "x"}) == 1


@pytest.mark.parametrize("burst", [0, 3])
async def test_a_member_typing_fast_gets_every_reply_without_a_429(
    sqlite_url: str, burst: int
) -> None:
    """Telegram's limits enforced (a burst of 3, then a steady rate): with the pacing on,
    six messages at once get six replies and Telegram never says 429; off, it does.
    With the pacing on, five a second on both sides instead of Telegram's one, so the
    test waits less; off, Telegram's one a second, so even a slow machine is too quick."""
    async with fresh_bot(sqlite_url, rate_limiter=True, reply_chat_burst=burst) as bot:
        limiter = bot.application.bot.rate_limiter
        assert isinstance(limiter, CommitFirstRateLimiter)
        assert (limiter.chats is not None) == bool(burst)
        if burst:
            limiter.chats = ChatPacer(burst=burst, interval=0.2)
        user = await registered(bot, "Rapid")
        await bot.driver.set_limits(True, per_chat_rate=5.0 if burst else 1.0, per_chat_burst=3)
        before = (await bot.driver.stats())["calls"]["rate_limited"]
        await asyncio.gather(*(user.send(text) for text in ("一", "二", "三", "四", "五", "六")))
        replies = [m.text for m in await user.bot_messages()][-6:]
        assert all("没有看懂" in text for text in replies), replies
        limited = (await bot.driver.stats())["calls"]["rate_limited"] - before
        assert (limited == 0) if burst else (limited >= 1)
