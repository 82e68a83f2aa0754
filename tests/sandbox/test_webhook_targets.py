"""The sandbox as a load balancer: one webhook's updates spread over several URLs.

Telegram knows one webhook URL; several bot instances sit behind a balancer.
`PUT /webhook/targets` makes the sandbox that balancer: in turn or drawn with a
seed, a retry to the next URL, several updates in flight but never two of one chat.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import telegram
from aiohttp import web

from sandbox import SandboxDriver
from sandbox.driver import SandboxError


@dataclass
class Instance:
    """One webhook endpoint recording what it got; ``hold`` keeps answers back until set."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    secrets: set[str | None] = field(default_factory=set)
    hold: asyncio.Event | None = None
    inside: int = 0
    most_inside: int = 0


@pytest.fixture
async def pool() -> AsyncIterator[list[Instance]]:
    instances = [Instance(), Instance()]
    runners: list[web.AppRunner] = []
    for instance in instances:

        async def hook(request: web.Request, me: Instance = instance) -> web.Response:
            update = json.loads(await request.read())
            me.secrets.add(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
            me.inside += 1
            me.most_inside = max(me.most_inside, me.inside)
            try:
                if me.hold is not None:
                    await me.hold.wait()
            finally:
                me.inside -= 1
            me.received.append(update)
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post("/hook", hook)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        instance.url = f"http://{host}:{port}/hook"
        runners.append(runner)
    try:
        yield instances
    finally:
        for runner in runners:
            await runner.cleanup()


def _texts(instance: Instance) -> list[str]:
    return [u["message"]["text"] for u in instance.received]


async def test_alternate_sends_in_turn_with_the_webhooks_secret(
    bot: telegram.Bot, driver: SandboxDriver, pool: list[Instance]
) -> None:
    a, b = pool
    await bot.set_webhook("http://127.0.0.1:9/ignored", secret_token="tok-1")
    targets = await driver.balance_webhook([a.url, b.url])
    assert targets["policy"] == "alternate" and targets["concurrency"] == 1
    alice = await driver.create_user("Alice")
    for i in range(4):
        await alice.send(f"m{i}")
    await driver.wait_for(lambda: len(a.received) + len(b.received) == 4, timeout=10)
    assert _texts(a) == ["m0", "m2"] and _texts(b) == ["m1", "m3"]
    assert a.secrets == b.secrets == {"tok-1"}
    seen = await driver.webhook_targets()
    assert seen is not None and seen["delivered"] == {a.url: 2, b.url: 2}
    # An instance restarting sets its webhook again: the balancer goes on, new secret and all.
    await bot.set_webhook("http://127.0.0.1:9/also-ignored", secret_token="tok-2")
    await alice.send("m4")
    await driver.wait_for(lambda: len(a.received) == 3, timeout=10)
    assert _texts(a)[-1] == "m4" and "tok-2" in a.secrets
    # Back to the URL setWebhook named (nothing listens there).
    await driver.unbalance_webhook()
    assert await driver.webhook_targets() is None


async def test_a_retry_goes_to_the_next_instance(
    bot: telegram.Bot, driver: SandboxDriver, pool: list[Instance]
) -> None:
    a, _ = pool
    await bot.set_webhook("http://127.0.0.1:9/ignored")
    dead = "http://127.0.0.1:9/hook"  # a stopped instance: connection refused
    await driver.balance_webhook([dead, a.url])
    alice = await driver.create_user("Alice")
    for i in range(3):
        await alice.send(f"m{i}")
    await driver.wait_for(lambda: len(a.received) == 3, timeout=10)
    assert _texts(a) == ["m0", "m1", "m2"]  # none lost, still in order
    seen = await driver.webhook_targets()
    assert seen is not None and seen["delivered"] == {a.url: 3}
    assert seen["attempts"][dead] >= 1
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Connection refused"


async def test_random_is_the_same_for_the_same_seed(
    bot: telegram.Bot, driver: SandboxDriver, pool: list[Instance]
) -> None:
    a, b = pool
    await bot.set_webhook("http://127.0.0.1:9/ignored")
    alice = await driver.create_user("Alice")
    runs = []
    for _ in range(2):
        a.received.clear()
        b.received.clear()
        await driver.balance_webhook([a.url, b.url], policy="random", seed=7)
        for i in range(8):
            await alice.send(f"m{i}")
        await driver.wait_for(lambda: len(a.received) + len(b.received) == 8, timeout=10)
        runs.append((_texts(a), _texts(b)))
    assert runs[0] == runs[1]
    assert runs[0][0] and runs[0][1]  # both instances got some


async def test_concurrent_overlaps_chats_but_never_one_chat(
    bot: telegram.Bot, driver: SandboxDriver, pool: list[Instance]
) -> None:
    a, b = pool
    a.hold = b.hold = asyncio.Event()
    await bot.set_webhook("http://127.0.0.1:9/ignored")
    await driver.balance_webhook([a.url, b.url], concurrency=4)
    alice = await driver.create_user("Alice")
    bob = await driver.create_user("Bob")
    for i in range(2):
        await alice.send(f"alice{i}")
        await bob.send(f"bob{i}")
    # Alice's first and Bob's first are held inside, one on each instance; their
    # second updates wait for them, though two more slots are free.
    await driver.wait_for(lambda: a.inside + b.inside == 2, timeout=10)
    assert (a.inside, b.inside) == (1, 1)
    a.hold.set()
    await driver.wait_for(lambda: len(a.received) + len(b.received) == 4, timeout=10)
    assert max(a.most_inside, b.most_inside) == 1
    for name in ("alice", "bob"):
        assert _order(a, b, name)


def _order(a: Instance, b: Instance, name: str) -> bool:
    """One member's updates were handled in the order sent, whichever instance took them."""
    ids = sorted(
        (u["update_id"], u["message"]["text"])
        for u in a.received + b.received
        if u["message"]["text"].startswith(name)
    )
    return [text for _, text in ids] == [f"{name}0", f"{name}1"]


async def test_targets_refused_when_malformed(driver: SandboxDriver) -> None:
    bodies: list[dict[str, Any]] = [
        {"urls": []},
        {"urls": ["ftp://x"]},
        {"urls": ["http://x"], "policy": "sticky"},
        {"urls": ["http://x"], "concurrency": 0},
        {"urls": "http://x"},
    ]
    for body in bodies:
        with pytest.raises(SandboxError):
            await driver.request("PUT", "/webhook/targets", json=body)
