"""The routes the web chat adds: people with their chats and info, invite lookup, calls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import aiohttp
import pytest
import telegram
from sandbox_samples import BOT_ID, BOT_USERNAME, TOKEN

from sandbox import SandboxDriver, SandboxOptions, SandboxServer
from sandbox.driver import SandboxError


async def roles(user_id: int) -> dict[str, Any]:
    """A user_info hook like the demo's, with every way a hook can misbehave."""
    if user_id == 3:
        raise RuntimeError("database is down")
    if user_id == 4:
        await asyncio.sleep(60)
    if user_id == 5:
        return "not a dict"  # type: ignore[return-value]
    return {"role": "cadre" if user_id == 1 else "member", "since": date(2024, 5, 1)}


@pytest.fixture
async def hooked() -> AsyncIterator[tuple[SandboxServer, SandboxDriver]]:
    server = SandboxServer(
        SandboxOptions(bots={TOKEN: BOT_USERNAME}, bot_names={TOKEN: "工会助手"}, user_info=roles)
    )
    await server.start()
    assert server.base_url is not None
    try:
        async with SandboxDriver(server.base_url, TOKEN, auto_settle=False) as driver:
            yield server, driver
    finally:
        await server.stop()


async def test_people_lists_chats_and_info(
    hooked: tuple[SandboxServer, SandboxDriver], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, driver = hooked
    monkeypatch.setattr("sandbox.people.INFO_TIMEOUT", 0.2)
    cadre = await driver.create_user("Cadre", user_id=1, username="cadre")
    member = await driver.create_user("会员", user_id=2)
    for broken in (3, 4, 5):
        await driver.create_user(f"Broken {broken}", user_id=broken)
    group = await driver.create_group("干部群", [cadre])
    await member.send("你好")

    people = await driver.request("GET", "/people")
    assert [p["id"] for p in people] == [1, 2, 3, 4, 5]  # creation order, no bots
    first = people[0]
    assert first["info"] == {"role": "cadre", "since": "2024-05-01"}
    private, in_group = first["chats"]
    assert private == {
        "chat_id": 1,
        "type": "private",
        "title": "工会助手",  # the display name, not the username
        "username": BOT_USERNAME,
        "bot_id": BOT_ID,
        "status": "member",
        "started": False,
        "blocked": False,
        "last": None,
    }
    assert in_group["chat_id"] == group.id and in_group["title"] == "干部群"
    assert in_group["member_count"] == 2  # the cadre and the bot
    assert in_group["last"]["service"]["new_chat_members"] == [BOT_ID]

    second = people[1]
    assert [c["type"] for c in second["chats"]] == ["private"]
    last = second["chats"][0]["last"]
    assert second["chats"][0]["started"] is True
    assert (last["text"], last["from_id"], last["from_name"]) == ("你好", 2, "会员")

    # A hook that fails, hangs or answers nonsense costs that person their info only.
    assert [(p["info"], p.get("info_error")) for p in people[2:]] == [
        ({}, "RuntimeError"),
        ({}, "timed out"),
        ({}, "not an object"),
    ]
    assert server.state.users[BOT_ID].first_name == "工会助手"


async def test_people_without_a_hook(driver: SandboxDriver) -> None:
    await driver.create_user("Alice")
    (alice,) = await driver.request("GET", "/people")
    assert alice["info"] == {} and "info_error" not in alice


async def test_invite_lookup(driver: SandboxDriver, bot: telegram.Bot) -> None:
    alice = await driver.create_user("Alice")
    group = await driver.create_group("Cadres", [])
    link = (await bot.create_chat_invite_link(group.id, member_limit=1)).invite_link
    found = await driver.request("GET", "/invite", params={"link": link})
    assert found["chat_id"] == group.id and found["title"] == "Cadres" and found["usable"]
    await alice.join(link)
    used = await driver.request("GET", "/invite", params={"link": link})
    assert used["full"] and not used["usable"]
    with pytest.raises(SandboxError) as caught:
        await driver.request("GET", "/invite", params={"link": "https://t.me/+nope"})
    assert caught.value.status == 404


async def test_commands_before_the_first_message(driver: SandboxDriver, bot: telegram.Bot) -> None:
    """A newcomer's command menu shows before they ever wrote (Telegram shows /start)."""
    alice = await driver.create_user("Alice", language_code="en")
    await bot.set_my_commands(
        [telegram.BotCommand("start", "Start")], scope=telegram.BotCommandScopeAllPrivateChats()
    )
    assert await alice.commands() == [("start", "Start")]


async def test_newest_calls_without_polls(driver: SandboxDriver, bot: telegram.Bot) -> None:
    alice = await driver.create_user("Alice")
    await alice.send("/start")
    for number in range(5):
        await bot.send_message(alice.id, f"m{number}")
        await bot.get_updates(timeout=0)
    page = await driver.request(
        "GET", "/calls", params={"newest": "true", "limit": 3, "exclude": "getUpdates"}
    )
    calls = page["calls"]
    assert [c["method"] for c in calls] == ["sendMessage"] * 3
    assert [c["params"]["text"] for c in calls] == ["m2", "m3", "m4"]
    oldest = await driver.request("GET", "/calls", params={"limit": 3})
    assert [c["method"] for c in oldest["calls"]] == ["getMe", "sendMessage", "getUpdates"]


async def test_stream_after_a_restart_starts_from_now(base_url: str, bot: telegram.Bot) -> None:
    """A page that followed an earlier server (higher event numbers) still gets news."""
    async with SandboxDriver(base_url, TOKEN, auto_settle=False) as driver:
        alice = await driver.create_user("Alice")
        await alice.send("/start")
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{base_url}/sandbox/api/stream",
            params={"types": "message"},
            headers={"Last-Event-ID": str(10**9)},
        ) as response,
    ):
        await bot.send_message(alice.id, "still here")
        async with asyncio.timeout(10):
            async for raw in response.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("data: "):
                    assert json.loads(line[len("data: ") :])["message"]["text"] == "still here"
                    break
