"""The state file: a sandbox stopped and started again keeps its whole world."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import telegram
from sandbox_samples import BOT_ID, BOT_USERNAME, TOKEN, make_bot

from sandbox import SandboxDriver, SandboxOptions, SandboxServer
from sandbox.persist import StateFileError, files_dir, load, save
from sandbox.state import World
from tests.support.media import make_png


def options(state_file: Path, **extra: Any) -> SandboxOptions:
    return SandboxOptions(bots={TOKEN: BOT_USERNAME}, state_file=state_file, **extra)


def _temporary_files(folder: Path) -> list[Path]:
    return list(folder.glob(".*.tmp"))


async def build_world(server: SandboxServer) -> dict[str, object]:
    """Users, a group, messages with keyboards, an edit, a deletion, a file, an invite link."""
    assert server.base_url is not None
    async with SandboxDriver(server.base_url, TOKEN, auto_settle=False) as driver:
        alice = await driver.create_user("Alice", "Liddell", username="alice", language_code="en")
        bob = await driver.create_user("鲍勃", username="bob")
        group = await driver.create_group("干部群", [alice], creator=bob)
        await alice.send("/start")
        photo = await alice.send_photo(make_png(20, 10), caption="看这里")
        async with make_bot(server.base_url) as bot:
            menu = telegram.ReplyKeyboardMarkup([["👤 我的资料", "❓ 帮助"]], resize_keyboard=True)
            await bot.send_message(alice.id, "<b>菜单</b>", parse_mode="HTML", reply_markup=menu)
            buttons = telegram.InlineKeyboardMarkup(
                [[telegram.InlineKeyboardButton("确认", callback_data="ok:1")]]
            )
            card = await bot.send_message(alice.id, "待确认", reply_markup=buttons)
            await bot.edit_message_text("已确认", alice.id, card.message_id)
            gone = await bot.send_message(group.id, "撤回的消息")
            await bot.delete_message(group.id, gone.message_id)
            await bot.pin_chat_message(group.id, (await bot.send_message(group.id, "置顶")).id)
            link = await bot.create_chat_invite_link(group.id, member_limit=1)
            await bot.set_my_commands([telegram.BotCommand("start", "开始")])
        return {
            "alice": alice.id,
            "bob": bob.id,
            "group": group.id,
            "photo": photo.message.media.file_id if photo.message.media else None,
            "card": card.message_id,
            "link": link.invite_link,
        }


async def test_save_then_load_keeps_the_world(tmp_path: Path) -> None:
    state_file = tmp_path / "sandbox.json"
    first = SandboxServer(options(state_file))
    await first.start()
    made = await build_world(first)
    before = await _snapshot(first)
    next_update = first.state.bots[BOT_ID].updates.next_id
    last_seq = first.state.events.last_seq
    await first.stop()
    assert _saved_names(state_file) == ["Alice", "鲍勃"]
    assert not _temporary_files(tmp_path)

    second = SandboxServer(options(state_file))
    await second.start()
    try:
        assert await _snapshot(second) == before
        world = second.state
        assert world.bots[BOT_ID].updates.next_id == next_update  # offsets stay valid
        assert world.events.last_seq >= last_seq  # page followers keep their place
        assert world.bots[BOT_ID].commands[("default", "")][0]["command"] == "start"
        assert world.invite_links[str(made["link"])].chat_id == made["group"]
        group = world.groups[int(str(made["group"]))]
        assert group.pinned and group.messages[group.pinned[0]].text == "置顶"
        assert any(m.deleted for m in group.messages.values())
        card = world.private[(BOT_ID, int(str(made["alice"])))].messages[int(str(made["card"]))]
        assert card.text == "已确认" and card.edit_date is not None
        assert card.inline_keyboard is None  # the edit took the buttons away

        assert second.base_url is not None
        async with SandboxDriver(second.base_url, TOKEN, auto_settle=False) as driver:
            alice = await driver.user(int(str(made["alice"])))
            assert await alice.reply_keyboard() == [["👤 我的资料", "❓ 帮助"]]
            photo = next(m for m in await alice.messages() if m.media)
            assert photo.media is not None
            assert await driver.download(photo.media.url) == make_png(20, 10)
            # The link still works once, and new ids continue after the old ones.
            await alice.leave(int(str(made["group"])))
            await alice.join(str(made["link"]))
            carol = await driver.create_user("Carol")
            assert carol.id not in (made["alice"], made["bob"])
    finally:
        await second.stop()


async def _snapshot(server: SandboxServer) -> dict[str, object]:
    """What the control API shows of the world, minus what may differ after a reload."""
    assert server.base_url is not None
    async with SandboxDriver(server.base_url, TOKEN, auto_settle=False) as driver:
        state = await driver.state()
        chats = {}
        for chat in state["chats"]:
            views = await driver.request(
                "GET", f"/chats/{chat['id']}/messages", params={"bot_id": BOT_ID}
            )
            chats[chat["id"]] = views
        return {"users": state["users"], "chats": state["chats"], "messages": chats}


def _saved_names(state_file: Path) -> list[str]:
    if not state_file.exists():
        return []
    data = json.loads(state_file.read_text(encoding="utf-8"))
    return [u["first_name"] for u in data["users"] if not u["is_bot"]]


async def test_saves_when_changed_and_in_the_background(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    server = SandboxServer(options(state_file, save_interval=0.05))
    await server.start()
    try:
        assert server.keeper is not None
        assert not await server.keeper.save_if_changed()  # nothing happened yet
        server.actions.create_user("Dora", user_id=555)
        assert await server.keeper.save_if_changed()
        assert _saved_names(state_file) == ["Dora"]
        assert not await server.keeper.save_if_changed()  # saved already

        server.actions.create_user("Eve", user_id=556)
        for _ in range(200):  # the background saver writes it within an interval or two
            if "Eve" in _saved_names(state_file):
                break
            await asyncio.sleep(0.02)
        assert _saved_names(state_file) == ["Dora", "Eve"]
    finally:
        await server.stop()


def test_file_contents_are_kept_once_and_dropped_when_gone(tmp_path: Path) -> None:
    from sandbox.files import store_file

    world = World({TOKEN: BOT_USERNAME})
    png = make_png(4, 4)
    first = store_file(world, "photo", png)
    store_file(world, "photo", png)  # same content: one blob
    state_file = tmp_path / "w.json"
    save(world, state_file)
    blobs = list(files_dir(state_file).iterdir())
    assert [b.name for b in blobs] == [first.file_unique_id]

    world.reset()
    save(world, state_file)
    assert list(files_dir(state_file).iterdir()) == []


def test_a_broken_state_file_changes_nothing_and_is_set_aside(tmp_path: Path) -> None:
    state_file = tmp_path / "broken.json"
    state_file.write_text('{"format": 1, "users": [{"id": "x"}]}', encoding="utf-8")
    world = World({TOKEN: BOT_USERNAME})
    with pytest.raises(StateFileError):
        load(world, state_file)
    assert list(world.users) == [BOT_ID]

    state_file.write_text("not json", encoding="utf-8")
    server = SandboxServer(options(state_file))
    assert server.keeper is not None
    assert server.keeper.load() is False
    assert not state_file.exists()
    assert len(list(tmp_path.glob("broken.json.broken-*"))) == 1


def test_no_file_means_a_fresh_world(tmp_path: Path) -> None:
    world = World({TOKEN: BOT_USERNAME})
    assert load(world, tmp_path / "missing.json") is False
    assert list(world.users) == [BOT_ID]


async def test_a_bot_no_longer_configured_stays_as_an_account(tmp_path: Path) -> None:
    state_file = tmp_path / "s.json"
    first = SandboxServer(options(state_file))
    await first.start()
    made = await build_world(first)
    await first.stop()

    other = "42:OTHER-bot-token"
    second = SandboxServer(SandboxOptions(bots={other: "OtherBot"}, state_file=state_file))
    await second.start()
    try:
        world = second.state
        assert world.users[BOT_ID].is_bot and BOT_ID not in world.bots
        assert not world.private  # the old bot's private chats went with it
        group = world.groups[int(str(made["group"]))]
        assert second.base_url is not None
        async with SandboxDriver(second.base_url, other, auto_settle=False) as driver:
            messages = await driver.messages(group.id)
            assert any(m.text == "置顶" for m in messages)
    finally:
        await second.stop()
