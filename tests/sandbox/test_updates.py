"""getUpdates (offsets, long polling, conflicts) and webhook delivery."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import telegram
from aiohttp import web
from sandbox_samples import BOT_ID, TOKEN, fails, make_bot
from telegram.error import Conflict

from sandbox import SandboxDriver, SandboxOptions, SandboxServer


async def test_offsets_and_rising_ids(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await driver.create_user("Alice")
    for text in ("one", "two", "three"):
        await alice.send(text)
    updates = await bot.get_updates()
    ids = [u.update_id for u in updates]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert [u.message.text for u in updates if u.message] == ["one", "two", "three"]

    # Without an offset nothing is confirmed: the same updates come again.
    assert [u.update_id for u in await bot.get_updates()] == ids
    # An offset confirms everything before it.
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates()] == ids[1:]
    status = await driver.update_status(ids[0])
    assert status["fetched"] and status["acknowledged"]
    assert not (await driver.update_status(ids[2]))["acknowledged"]

    limited = await bot.get_updates(limit=1)
    assert [u.update_id for u in limited] == [ids[1]]

    await alice.send("four")
    # A negative offset keeps only the newest updates and forgets the rest.
    last = await bot.get_updates(offset=-1)
    assert [u.message.text for u in last if u.message] == ["four"]
    assert (await driver.update_status(ids[2]))["dropped"]

    confirmed = await bot.get_updates(offset=last[-1].update_id + 1)
    assert confirmed == ()
    await alice.send("five")
    newer = await bot.get_updates()
    assert newer[0].update_id > last[-1].update_id


async def poll_open(server: SandboxServer) -> None:
    """Wait until the bot's getUpdates request has reached the server."""
    async with asyncio.timeout(10):
        while server.state.bots[BOT_ID].poller is None:  # noqa: ASYNC110 - no event for it
            await asyncio.sleep(0.005)


async def test_long_poll_wakes_on_new_update(
    bot: telegram.Bot, server: SandboxServer, driver: SandboxDriver
) -> None:
    alice = await driver.create_user("Alice")
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await poll_open(server)
    await alice.send("wake up")
    updates = await asyncio.wait_for(poll, 10)
    assert [u.message.text for u in updates if u.message] == ["wake up"]


async def test_long_poll_returns_when_server_stops() -> None:
    sandbox = SandboxServer(SandboxOptions(bots={TOKEN: "UnionSandboxBot"}))
    base = await sandbox.start()
    ptb = make_bot(base)
    await ptb.initialize()
    poll = asyncio.create_task(ptb.get_updates(timeout=30))
    await poll_open(sandbox)
    await sandbox.stop()
    assert await asyncio.wait_for(poll, 10) == ()
    await ptb.shutdown()


async def test_second_poll_terminates_the_first(
    bot: telegram.Bot, server: SandboxServer, driver: SandboxDriver
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await poll_open(server)
    async with make_bot(server.base_url or "") as other:
        second = asyncio.create_task(other.get_updates(timeout=30))
        with fails(Conflict, "terminated by other getUpdates request"):
            await asyncio.wait_for(first, 10)
        alice = await driver.create_user("Alice")
        await alice.send("for the survivor")
        updates = await asyncio.wait_for(second, 10)
        assert [u.message.text for u in updates if u.message] == ["for the survivor"]


async def test_get_updates_refused_while_webhook_set(bot: telegram.Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook")
    with fails(Conflict, "can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_allowed_updates_filter(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await driver.create_user("Alice")
    bob = await driver.create_user("Bob")
    group = await driver.create_group("G", members=[alice])
    setup = await bot.get_updates(allowed_updates=["chat_member"])
    await bot.get_updates(offset=setup[-1].update_id + 1)  # confirm the bot's own join
    await alice.send("ignored")
    await driver.add_member(group, bob)
    updates = await bot.get_updates()
    assert [u.chat_member is not None for u in updates] == [True]
    change = updates[0].chat_member
    assert change is not None
    assert change.new_chat_member.user.id == bob.id
    assert change.new_chat_member.status == "member"

    # An empty list restores the default, which leaves chat_member out.
    await bot.get_updates(allowed_updates=[], offset=updates[-1].update_id + 1)
    await driver.remove_member(group, bob)
    left = await bot.get_updates()
    gone = [u.message.left_chat_member for u in left if u.message and u.message.left_chat_member]
    assert [user.id for user in gone] == [bob.id]
    assert all(u.chat_member is None for u in left)


@dataclass
class Receiver:
    """A tiny webhook endpoint that records what it receives."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[str | None] = field(default_factory=list)
    fail_first: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver(url="")

    async def hook(request: web.Request) -> web.Response:
        if state.fail_first > 0:
            state.fail_first -= 1
            return web.Response(status=500)
        state.received.append(json.loads(await request.read()))
        state.headers.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        state.arrived.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.url = f"http://{host}:{port}/hook"
    try:
        yield state
    finally:
        await runner.cleanup()


async def test_webhook_delivery_in_order_with_secret(
    bot: telegram.Bot, driver: SandboxDriver, receiver: Receiver
) -> None:
    alice = await driver.create_user("Alice")
    await alice.send("before the hook")
    assert await bot.set_webhook(receiver.url, secret_token="tok-123", drop_pending_updates=True)
    receiver.fail_first = 2  # the first attempts fail, delivery retries with backoff
    sent = [await alice.send(f"m{i}") for i in range(3)]
    await driver.wait_for(lambda: len(receiver.received) == 3, timeout=10, what="3 deliveries")
    texts = [u["message"]["text"] for u in receiver.received]
    assert texts == ["m0", "m1", "m2"]
    assert [u["update_id"] for u in receiver.received] == [s.update_id for s in sent]
    assert set(receiver.headers) == {"tok-123"}
    for update in receiver.received:
        telegram.Update.de_json(update, bot)  # PTB parses what the webhook received
    statuses = [await driver.update_status(s.update_id or 0) for s in sent]
    assert all(s["acknowledged"] for s in statuses)
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 0
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    await bot.delete_webhook()
