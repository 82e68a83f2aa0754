"""The control API routes the web chat relies on: state, events, stream, status, errors."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import telegram
from sandbox_samples import TOKEN
from yarl import URL

from sandbox import SandboxDriver, SandboxOptions, SandboxServer, serve
from sandbox.driver import SandboxError


async def test_state_and_reset(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await driver.create_user("Alice", username="alice")
    await driver.create_group("Cadres", [alice])
    await alice.send("/start")
    await bot.send_message(alice.id, "hi")
    state = await driver.state()
    assert [b["username"] for b in state["bots"]] == ["UnionSandboxBot"]
    assert [u["username"] for u in state["users"]] == ["alice"]
    assert {c["type"] for c in state["chats"]} == {"supergroup", "private"}
    assert state["last_seq"] > 0

    await driver.reset()
    state = await driver.state()
    assert state["users"] == [] and state["chats"] == []
    assert await driver.calls() == []
    assert (await bot.get_me()).username == "UnionSandboxBot"
    bob = await driver.create_user("Bob")
    assert bob.id == 100000001  # ids start over with the world


async def test_event_long_poll(driver: SandboxDriver, bot: telegram.Bot) -> None:
    alice = await driver.create_user("Alice")
    await alice.send("/start")
    after = (await driver.request("GET", "/events", params={"after": 2**62}))["last_seq"]
    waiting = asyncio.create_task(
        driver.events(after, wait=10, types=("message", "action", "keyboard"))
    )
    await asyncio.sleep(0)
    await bot.send_chat_action(alice.id, "typing")
    events = await asyncio.wait_for(waiting, 10)
    assert [e["type"] for e in events] == ["action"]
    assert events[0]["chat_id"] == alice.id and events[0]["action"] == "typing"

    await bot.send_message(
        alice.id, "menu", reply_markup=telegram.ReplyKeyboardMarkup([["A", "B"]])
    )
    events = await driver.events(events[-1]["seq"], types=("message", "keyboard"))
    assert [e["type"] for e in events] == ["message", "keyboard"]
    assert events[0]["message"]["html"] == "menu"
    assert events[1]["keyboard"]["rows"] == [["A", "B"]]
    calls = await driver.events(0, types=("call",))
    assert {e["method"] for e in calls} >= {"sendChatAction", "sendMessage"}


async def test_server_sent_events(base_url: str, driver: SandboxDriver, bot: telegram.Bot) -> None:
    alice = await driver.create_user("Alice")
    await alice.send("/start")
    received: list[dict[str, Any]] = []
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base_url}/sandbox/api/stream", params={"types": "message"}) as response,
    ):
        assert response.headers["Content-Type"].startswith("text/event-stream")
        await bot.send_message(alice.id, "<b>news</b>", parse_mode="HTML")
        async with asyncio.timeout(10):
            event_type = ""
            async for raw in response.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event_type = line[len("event: ") :]
                elif line.startswith("data: "):
                    assert event_type == "message"
                    received.append(json.loads(line[len("data: ") :]))
                    if len(received) == 2:
                        break
    assert [e["message"]["text"] for e in received] == ["/start", "news"]
    assert received[1]["message"]["html"] == "<b>news</b>"


async def test_update_status_waits(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await driver.create_user("Alice")
    sent = await alice.send("hello")
    assert sent.update_id is not None
    status = await driver.update_status(sent.update_id)
    assert not status["fetched"] and not status["done"]
    waiting = asyncio.create_task(
        driver.request(
            "GET",
            f"/updates/{sent.update_id}",
            params={"wait": "done", "timeout": 10},
            wait=10,
        )
    )
    updates = await bot.get_updates()
    await bot.get_updates(offset=updates[-1].update_id + 1)
    done = await asyncio.wait_for(waiting, 10)
    assert done["fetched"] and done["acknowledged"] and done["done"]


async def test_raw_updates_and_unchecked_presses(base_url: str, driver: SandboxDriver) -> None:
    """What no real chat produces reaches the bot as given: raw updates, empty button data."""
    bot = telegram.Bot(TOKEN, base_url=f"{base_url}/bot")
    alice = await driver.create_user("Alice")
    await alice.send("/start")
    async with bot:
        sent = await bot.send_message(
            alice.id,
            "menu",
            reply_markup=telegram.InlineKeyboardMarkup(
                [[telegram.InlineKeyboardButton("A", callback_data="a")]]
            ),
        )
    raw = {"message": {"text": "no chat, no id"}}
    update_id = await driver.inject_update(raw, settle=False)
    await alice.press_data(sent.message_id, "", unchecked=True)
    assert (await driver.update_status(update_id))["type"] == "message"
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}/bot{TOKEN}/getUpdates", json={"offset": update_id}) as answer,
    ):
        updates = (await answer.json())["result"]
    assert updates[0] == {"update_id": update_id, **raw}  # exactly as given
    assert updates[1]["callback_query"]["data"] == ""
    with pytest.raises(SandboxError, match="without update_id"):
        await driver.inject_update({"update_id": 1, "message": {}}, settle=False)
    with pytest.raises(SandboxError, match="1-64 bytes"):
        await alice.press_data(sent.message_id, "")


async def test_errors_are_json(driver: SandboxDriver) -> None:
    with pytest.raises(SandboxError) as caught:
        await driver.user(424242)
    assert caught.value.status == 404 and "not found" in caught.value.message
    with pytest.raises(SandboxError, match="first_name"):
        await driver.create_user("  ")
    with pytest.raises(SandboxError, match="unknown limit setting"):
        await driver.request("PUT", "/limits", json={"speed": 3})
    with pytest.raises(SandboxError, match="kind is fail, delay or drop"):
        await driver.set_faults({"kind": "explode"})
    await driver.create_user("Alice", username="alice")
    with pytest.raises(SandboxError, match="taken"):
        await driver.create_user("Other", username="alice")
    with pytest.raises(SandboxError, match="negative"):
        await driver.create_group("Bad", chat_id=5)


async def test_fault_rules_crud(driver: SandboxDriver) -> None:
    rules = await driver.set_faults(
        {"kind": "fail", "method": "sendMessage", "status": 502, "count": None},
        {"kind": "delay", "seconds": 0.1},
    )
    assert [r["kind"] for r in rules] == ["fail", "delay"]
    assert rules[0]["remaining"] is None
    await driver.request("DELETE", f"/faults/{rules[0]['id']}")
    assert [r["kind"] for r in await driver.faults()] == ["delay"]
    await driver.clear_faults()
    assert await driver.faults() == []
    limits = await driver.set_limits(True, group_per_minute=10)
    assert limits["enforce"] and limits["group_per_minute"] == 10
    assert (await driver.limits())["group_per_minute"] == 10


async def test_static_page_served_when_present(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>chat</h1>", encoding="utf-8")
    (tmp_path / "app.js").write_text("console.log(1)", encoding="utf-8")
    options = SandboxOptions(bots={TOKEN: "UnionSandboxBot"}, static_dir=tmp_path)
    async with SandboxServer(options) as server, aiohttp.ClientSession() as session:
        async with session.get(f"{server.base_url}/") as response:
            assert response.status == 200 and await response.text() == "<h1>chat</h1>"
        async with session.get(f"{server.base_url}/static/app.js") as response:
            assert response.status == 200
        escape = URL(f"{server.base_url}/static/..%2F..%2F..%2Fetc%2Fpasswd", encoded=True)
        async with session.get(escape) as response:
            assert response.status == 404
    missing = SandboxOptions(bots={TOKEN: "UnionSandboxBot"}, static_dir=tmp_path / "none")
    async with (
        SandboxServer(missing) as server,
        aiohttp.ClientSession() as session,
        session.get(f"{server.base_url}/") as response,
    ):
        assert response.status == 404


async def test_serve_runs_until_cancelled() -> None:
    started: list[SandboxServer] = []
    ready = asyncio.Event()

    def on_started(server: SandboxServer) -> None:
        started.append(server)
        ready.set()

    task = asyncio.create_task(serve(SandboxOptions(), on_started))
    await asyncio.wait_for(ready.wait(), 10)
    async with SandboxDriver(started[0].base_url or "") as driver:
        assert (await driver.state())["bots"][0]["id"] == 123456
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert started[0].state.closed


def test_bad_tokens_are_refused() -> None:
    with pytest.raises(ValueError, match="not of the form"):
        SandboxServer(SandboxOptions(bots={"no-colon": "x"}))
