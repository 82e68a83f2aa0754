"""The pacer keeps Telegram's limits in every window, on a fake clock."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.pacing import Pacer
from storage.budget import REPLY_BURST
from tests.support.clock import VirtualTime
from tests.support.delivery import assert_chat_limits


def assert_within_limits(
    sends: list[tuple[float, int]], rate: int, per_chat: float = 1.0, per_group: int = 20
) -> None:
    """No 1 s window holds more than ``rate`` sends; chats and groups keep their own limits."""
    times = sorted(t for t, _ in sends)
    for i in range(len(times) - rate):
        # rate+1 consecutive sends inside (t-1, t] would be one too many.
        assert times[i + rate] - times[i] >= 1.0 - 1e-9, (i, times[i], times[i + rate])
    assert_chat_limits(sends, per_chat=per_chat, per_group=per_group)


async def test_thousand_sequential_sends_never_exceed_any_rate() -> None:
    vt = VirtualTime()
    pacer = Pacer(rate=25, clock=vt.clock, sleep=vt.sleep)
    rng = random.Random(7)
    chats = [*range(1, 301), -1001, -1002, -1003]
    sends: list[tuple[float, int]] = []

    async def run() -> None:
        for _ in range(1000):
            chat = rng.choice(chats)
            await pacer.acquire(chat)
            sends.append((vt.now, chat))

    await vt.run(run())
    assert_within_limits(sends, rate=25)


async def test_concurrent_senders_share_the_limits_without_wasting_slots() -> None:
    vt = VirtualTime()
    pacer = Pacer(rate=25, clock=vt.clock, sleep=vt.sleep)
    start = vt.now
    sends: list[tuple[float, int]] = []

    async def sender(chat: int, count: int) -> None:
        for _ in range(count):
            await pacer.acquire(chat)
            sends.append((vt.now, chat))

    # 1000 distinct chats once each, plus one chatty chat that gets 20 messages.
    await vt.run(*(sender(chat, 1) for chat in range(1, 1001)), sender(5000, 20))
    assert_within_limits(sends, rate=25)
    others = [t for t, chat in sends if chat != 5000]
    # The chatty recipient (1/s) does not hold everyone else back: 1000 sends at 25/s.
    assert max(others) - start <= 1000 / 25 + 1.0
    assert len(sends) == 1020


async def test_steady_rate_is_reached() -> None:
    vt = VirtualTime()
    pacer = Pacer(rate=30, clock=vt.clock, sleep=vt.sleep)
    start = vt.now

    async def sender(first: int) -> None:
        for i in range(100):
            await pacer.acquire(first + i)

    await vt.run(*(sender(k * 1000) for k in range(10)))
    elapsed = vt.now - start
    assert 999 / 30 - 0.01 <= elapsed <= 1000 / 30 + 0.01


async def test_a_pause_holds_every_send_until_it_ends() -> None:
    vt = VirtualTime()
    pacer = Pacer(rate=25, clock=vt.clock, sleep=vt.sleep)
    sends: list[float] = []

    async def sender(first: int) -> None:
        for i in range(50):
            await pacer.acquire(first + i)
            sends.append(vt.now)
            if first == 0 and i == 10:
                pacer.pause(7)
                paused_at.append(vt.now)

    paused_at: list[float] = []
    await vt.run(sender(0), sender(10_000), sender(20_000))
    (t0,) = paused_at
    assert not [t for t in sends if t0 < t < t0 + 7]
    assert pacer.paused_until == t0 + 7
    assert len(sends) == 150


async def test_group_chats_get_twenty_per_minute() -> None:
    vt = VirtualTime()
    pacer = Pacer(rate=25, clock=vt.clock, sleep=vt.sleep)
    start = vt.now
    sends: list[tuple[float, int]] = []

    async def run() -> None:
        for _ in range(45):
            await pacer.acquire(-100)
            sends.append((vt.now, -100))

    await vt.run(run())
    assert_within_limits(sends, rate=25)
    assert 120.0 <= vt.now - start < 121.0  # 20 now, 20 a minute later, 5 at two minutes


async def test_memory_stays_bounded_with_many_chats() -> None:
    vt = VirtualTime()
    pacer = Pacer(rate=1000, clock=vt.clock, sleep=vt.sleep)

    async def run() -> None:
        for chat in range(1, 20_001):
            await pacer.acquire(chat)

    await vt.run(run())
    assert len(pacer._chat_last) <= 5000


async def test_replies_to_many_members_are_forgotten_too() -> None:
    """Each member answered is remembered for their chat's limit, a second or so, and a
    group a minute: 200 s of replies at 100/s leave a bounded memory."""
    vt = VirtualTime()
    pacer = Pacer(rate=20, total_rate=100, clock=vt.clock, sleep=vt.sleep)
    replies = pacer.replies()

    async def run() -> None:
        for chat in range(1, 20_001):
            await replies.take(1, chat)
            await replies.take(0, -chat)  # an edit in a group

    await vt.run(run())
    assert len(pacer._chat_last) <= 5000 and len(pacer._group_recent) <= 10_000


@settings(max_examples=60, deadline=None)
@given(
    rate=st.integers(min_value=1, max_value=40),
    chats=st.lists(st.sampled_from([1, 2, 3, 4, 5, -1, -2]), min_size=1, max_size=120),
    senders=st.integers(min_value=1, max_value=6),
)
async def test_any_mix_of_chats_and_senders_keeps_the_limits(
    rate: int, chats: list[int], senders: int
) -> None:
    vt = VirtualTime()
    pacer = Pacer(rate=rate, clock=vt.clock, sleep=vt.sleep)
    sends: list[tuple[float, int]] = []

    async def sender(mine: list[int]) -> None:
        for chat in mine:
            await pacer.acquire(chat)
            sends.append((vt.now, chat))

    await vt.run(*(sender(chats[k::senders]) for k in range(senders)))
    assert len(sends) == len(chats)
    assert_within_limits(sends, rate=rate)


async def test_a_paced_stream_keeps_its_interval_and_others_keep_their_pace() -> None:
    """The demo's broadcast pace: its sends 1 s apart, concurrent senders or not."""
    vt = VirtualTime()
    pacer = Pacer(rate=25, clock=vt.clock, sleep=vt.sleep)
    paced: list[float] = []
    other: list[float] = []

    async def broadcast(chat: int) -> None:
        await pacer.space("broadcast", 1.0)
        await pacer.acquire(chat)
        paced.append(vt.now)

    async def notices() -> None:
        for i in range(20):
            await pacer.acquire(50_000 + i)
            other.append(vt.now)

    start = vt.now
    await vt.run(*(broadcast(1000 + n) for n in range(12)), notices())
    paced.sort()
    assert len(paced) == 12
    assert all(b - a >= 1.0 - 1e-9 for a, b in pairwise(paced))
    assert paced[-1] - paced[0] < 12
    assert max(other) - start < 1.0  # 20 sends at 25/s are not held up by the paced stream


def assert_bucket(times: list[float], rate: float, burst: float = REPLY_BURST) -> None:
    """Sends kept to ``rate``, with the replies' short burst: in any span of t seconds,
    at most rate·t + rate·burst + 1 (what Telegram's bucket takes)."""
    for i, start in enumerate(times):
        for j in range(i + 1, len(times)):
            assert j - i <= rate * (times[j] - start) + rate * burst + 1 + 1e-6, (i, j)


async def test_a_reply_goes_at_once_beside_another_and_the_rate_still_holds() -> None:
    """Two members answered in the same instant both leave at once (the burst); a
    stream of replies still settles at the bot's rate."""
    vt = VirtualTime()
    pacer = Pacer(rate=20, total_rate=30, clock=vt.clock, sleep=vt.sleep)
    replies = pacer.replies()
    left: list[float] = []

    async def reply() -> None:
        await replies.take()
        left.append(vt.now)

    await vt.run(reply(), reply())
    assert left == [1000.0, 1000.0]
    await vt.run(*(reply() for _ in range(300)))
    assert_bucket(sorted(left), rate=30)
    assert left[-1] - 1000.0 == pytest.approx(301 / 30 - REPLY_BURST, abs=1e-6)


async def test_replies_share_the_bot_s_rate_and_wait_no_longer_than_the_lookahead() -> None:
    """A broadcast's 16 senders at the deliveries' 20/s, and replies to members now and
    then: together never faster than the bot's 30/s, deliveries within their 20/s, and
    a reply waits behind at most the lookahead's deliveries (and the replies before it)."""
    vt = VirtualTime()
    pacer = Pacer(rate=20, total_rate=30, lookahead=0.25, clock=vt.clock, sleep=vt.sleep)
    replies = pacer.replies()
    rng = random.Random(30)
    deliveries: list[float] = []
    answered: list[tuple[float, float]] = []  # (asked, left)

    async def sender(first: int) -> None:
        for chat in range(first, first + 25):
            await pacer.acquire(chat)
            deliveries.append(vt.now)

    async def member() -> None:
        for _ in range(40):
            await vt.sleep(rng.choice((0.0, 0.05, 0.3, 0.7)))
            asked = vt.now
            await replies.take()
            answered.append((asked, vt.now))

    await vt.run(*(sender(k * 1000) for k in range(16)), member())
    assert_bucket(sorted([*deliveries, *(left for _, left in answered)]), rate=30)
    for a, b in pairwise(sorted(deliveries)):
        assert b - a >= 1 / 20 - 1e-9
    assert len(deliveries) == 400 and len(answered) == 40
    assert max(left - asked for asked, left in answered) <= 0.25 + 2 / 30 + 1e-9


async def test_a_pause_holds_replies_too() -> None:
    vt = VirtualTime()
    pacer = Pacer(rate=20, total_rate=30, clock=vt.clock, sleep=vt.sleep)
    start = vt.now
    pacer.replies().pause(2.0)  # Telegram answered a reply 429

    async def reply() -> float:
        await pacer.replies().take()
        return vt.now

    async def delivery() -> float:
        await pacer.acquire(5)
        return vt.now

    assert min(await vt.run(reply(), delivery())) >= start + 2.0


def assert_chat_bucket(times: list[float], *, burst: int, interval: float) -> None:
    """A private chat's sends as Telegram's bucket takes them: ``burst`` at once, then
    one an ``interval`` (the virtual-clock form: no send more than the burst ahead)."""
    due = float("-inf")
    for moment in sorted(times):
        due = max(due, moment)
        assert due - moment <= (burst - 1) * interval + 1e-9, (moment, due)
        due += interval


def assert_group_window(times: list[float], *, per_window: int, window: float) -> None:
    """No ``window`` seconds hold more than ``per_window`` of a group's sends."""
    ordered = sorted(times)
    for first, last in zip(ordered, ordered[per_window:], strict=False):
        assert last - first >= window - 1e-9, (first, last)


async def test_replies_in_a_group_and_its_deliveries_share_its_limit() -> None:
    """A cadre group hears new cases (deliveries) and answers to its cadres (replies and
    edits) at once: all of them together keep the group's limit, and none is dropped."""
    vt = VirtualTime()
    pacer = Pacer(
        rate=20, total_rate=30, group_per_minute=5, group_window=6.0, clock=vt.clock, sleep=vt.sleep
    )
    replies = pacer.replies()
    group = -1001
    sent: list[float] = []

    async def deliver() -> None:
        await pacer.acquire(group)
        sent.append(vt.now)

    async def reply(messages: int) -> None:
        await replies.take(messages, group)
        sent.append(vt.now)

    await vt.run(*(deliver() for _ in range(6)), *(reply(1) for _ in range(6)), reply(0))
    assert len(sent) == 13
    assert_group_window(sent, per_window=5, window=6.0)
    assert max(sent) - min(sent) >= 12.0  # the 13th waited two windows


async def test_replies_to_a_member_take_the_chat_s_burst_and_deliveries_wait_for_it() -> None:
    """A member tapping quickly while notices are queued for them: the replies take the
    chat's short burst, deliveries go one a second, and Telegram's bucket is never over."""
    vt = VirtualTime()
    pacer = Pacer(rate=20, total_rate=30, reply_chat_burst=3, clock=vt.clock, sleep=vt.sleep)
    replies = pacer.replies()
    member = 42
    replied: list[float] = []
    delivered: list[float] = []

    async def reply() -> None:
        await replies.take(1, member)
        replied.append(vt.now)

    async def deliver() -> None:
        await pacer.acquire(member)
        delivered.append(vt.now)

    await vt.run(reply(), reply(), reply())
    assert replied == [1000.0, 1000.0, 1000.0]  # the burst is the replies'
    await vt.run(deliver(), reply(), deliver(), reply())
    assert len(replied) == 5 and len(delivered) == 2
    assert min(delivered) >= 1003.0 - 1e-9  # after the burst has refilled
    assert_chat_bucket([*replied, *delivered], burst=3, interval=1.0)
