"""Flood limits and injected faults, as PTB experiences them."""

from __future__ import annotations

import pytest
import telegram
from sandbox_samples import fails
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from sandbox import SandboxDriver, SandboxServer
from sandbox.limits import LimitSettings, RateLimiter

# PTB itself reads RetryAfter.retry_after while raising and warns about its future type.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


async def test_burst_to_one_chat_gets_429(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await driver.create_user("Alice")
    await alice.send("/start")
    await driver.set_limits(True, per_chat_rate=1.0, per_chat_burst=1)
    await bot.send_message(alice.id, "first")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(alice.id, "second, too soon")
    assert "Retry in 1 seconds" in str(caught.value)
    stats = await driver.stats()
    assert stats["calls"]["rate_limited"] == 1
    assert stats["calls"]["by_status"]["429"] == 1
    buckets = stats["limiter"]["buckets"]
    assert any(b["chat_id"] == alice.id and b["fill"] > 0 for b in buckets)
    refused = await driver.calls("sendMessage")
    assert [c.status for c in refused] == [200, 429]
    assert refused[1].description == "Too Many Requests: retry after 1"
    # Only the first message exists.
    assert [m.text for m in await alice.bot_messages()] == ["first"]


async def test_default_burst_allows_a_few(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await driver.create_user("Alice")
    await alice.send("/start")
    await driver.set_limits(True)
    for text in ("reply", "menu", "hint"):
        await bot.send_message(alice.id, text)
    with pytest.raises(RetryAfter):
        await bot.send_message(alice.id, "one too many")
    await driver.set_limits(False)
    await bot.send_message(alice.id, "limits off")


def test_buckets_model_overall_chat_and_group_limits() -> None:
    now = [0.0]
    limiter = RateLimiter(
        LimitSettings(enforce=True, global_rate=2, per_chat_burst=5, group_per_minute=3),
        clock=lambda: now[0],
    )
    limiter.check(1, 10)
    limiter.check(1, 11)
    with pytest.raises(Exception, match="retry after 1"):
        limiter.check(1, 12)  # over 2 messages/s overall
    now[0] = 1.0
    for _ in range(2):
        limiter.check(1, -100)
    now[0] = 2.0
    limiter.check(1, -100)
    with pytest.raises(Exception, match="retry after 20") as caught:
        limiter.check(1, -100)  # 3 per minute in a group: next slot in 20 s
    assert caught.value.retry_after == 20  # type: ignore[attr-defined]
    now[0] = 30.0
    limiter.check(1, -100)
    limiter.check(2, -100)  # another bot has its own buckets


async def test_injected_faults_reach_ptb_as_its_errors(
    bot: telegram.Bot, driver: SandboxDriver
) -> None:
    alice = await driver.create_user("Alice")
    await alice.send("/start")

    await driver.fail_next("sendMessage", status=500)
    with pytest.raises(NetworkError):
        await bot.send_message(alice.id, "boom")
    await driver.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError):
        await bot.send_message(alice.id, "bad gateway")
    await driver.fail_next(None, status=403, description="Forbidden: bot was blocked by the user")
    with fails(Forbidden, "bot was blocked by the user"):
        await bot.send_message(alice.id, "blocked")
    await driver.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter):
        await bot.send_message(alice.id, "slow down")
    await driver.fail_next("sendMessage", status=400, count=2)
    for _ in range(2):
        with pytest.raises(BadRequest):
            await bot.send_message(alice.id, "bad")
    assert (await bot.send_message(alice.id, "fine again")).text == "fine again"
    assert await driver.faults() == []
    assert [m.text for m in await alice.bot_messages()] == ["fine again"]

    calls = await driver.calls("sendMessage")
    assert [c.status for c in calls] == [500, 502, 403, 429, 400, 400, 200]
    assert (await driver.stats())["calls"]["faults_injected"] == 6


async def test_slow_answers_time_out(
    base_url: str, server: SandboxServer, driver: SandboxDriver
) -> None:
    alice = await driver.create_user("Alice")
    await alice.send("/start")
    quick = telegram.Bot(
        "123456:TEST-token-abcdefghijklmnopqrstuvwxyz",
        base_url=f"{base_url}/bot{{token}}",
        request=HTTPXRequest(read_timeout=0.2),
    )
    async with quick:
        await driver.delay("sendMessage", seconds=0.6, phase="after")
        with pytest.raises(TimedOut):
            await quick.send_message(alice.id, "did it arrive?")
        # Answered late but processed: the message exists (the classic double-send trap).
        await driver.wait_for(alice.bot_messages, what="the late message")
        assert [m.text for m in await alice.bot_messages()] == ["did it arrive?"]

        await driver.delay("sendMessage", seconds=0.6, phase="before")
        with pytest.raises(TimedOut):
            await quick.send_message(alice.id, "lost")

        async def recorded() -> bool:
            return len(await driver.calls("sendMessage")) == 2

        await driver.wait_for(recorded, what="the abandoned call in the log")
    assert [m.text for m in await alice.bot_messages()] == ["did it arrive?"]
    assert (await driver.calls("sendMessage"))[-1].status == 499


async def test_dropped_connections_look_like_a_network_failure(
    bot: telegram.Bot, driver: SandboxDriver
) -> None:
    alice = await driver.create_user("Alice")
    await alice.send("/start")
    await driver.drop("sendMessage", phase="before")
    with pytest.raises(NetworkError):
        await bot.send_message(alice.id, "never sent")
    await driver.drop("sendMessage", phase="after")
    with pytest.raises(NetworkError):
        await bot.send_message(alice.id, "sent, answer lost")
    assert [m.text for m in await alice.bot_messages()] == ["sent, answer lost"]
    calls = await driver.calls("sendMessage")
    assert [(c.status, c.fault) for c in calls] == [(499, "drop#1"), (499, "drop#2")]
    assert await driver.faults() == []


async def test_a_rate_disturbs_that_share_of_calls_and_the_same_ones_each_run(
    bot: telegram.Bot, driver: SandboxDriver
) -> None:
    alice = await driver.create_user("Alice")
    await alice.send("/start")

    async def failures() -> list[int]:
        failed: list[int] = []
        for n in range(200):
            try:
                await bot.send_chat_action(alice.id, "typing")
            except NetworkError:
                failed.append(n)
        return failed

    await driver.fail_next("sendChatAction", status=502, count=None, rate=0.2, seed=7)
    first = await failures()
    await driver.set_faults(
        {
            "kind": "fail",
            "method": "sendChatAction",
            "status": 502,
            "count": None,
            "rate": 0.2,
            "seed": 7,
        }
    )
    assert await failures() == first
    assert 20 <= len(first) <= 60  # about a fifth of 200
    with pytest.raises(Exception, match="rate must be"):
        await driver.fail_next("sendChatAction", rate=1.5)


async def test_silent_block_gives_403(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await driver.create_user("Alice")
    await alice.send("/start")
    await bot.get_updates()
    await alice.block_bot(notify=False)
    with fails(Forbidden, "bot was blocked by the user"):
        await bot.send_message(alice.id, "news")
    assert await bot.get_updates() != ()  # only the earlier /start; no my_chat_member
    assert all(u.my_chat_member is None for u in await bot.get_updates())
