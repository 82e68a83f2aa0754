"""The driver's user actions, checked against what a bot receives over the Bot API."""

from __future__ import annotations

import pytest
import telegram
from sandbox_samples import BOT_ID, TOKEN, make_ogg
from telegram.constants import ChatMemberStatus

from sandbox import SandboxDriver
from sandbox.driver import SandboxError
from tests.support.media import make_png


async def test_send_reply_and_edit(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await driver.create_user("Alice", "Wang", username="alice", language_code="en")
    assert alice.id == 100000001 and alice.language_code == "en"
    first = await alice.send("/start")
    answer = await bot.send_message(alice.id, "Your name?")
    reply = await alice.send("Alice Wang", reply_to=answer.message_id)
    assert reply.message.reply_to == answer.message_id
    edit = await alice.edit(reply.message_id, "Alice W.")
    assert edit.message.edited and edit.message.text == "Alice W."

    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first.update_id, reply.update_id, edit.update_id]
    start = updates[0].message
    assert start is not None and start.text == "/start"
    assert start.from_user is not None and start.from_user.last_name == "Wang"
    replied = updates[1].message
    assert replied is not None and replied.reply_to_message is not None
    assert replied.reply_to_message.message_id == answer.message_id
    edited = updates[2].edited_message
    assert edited is not None and edited.text == "Alice W." and edited.edit_date is not None

    with pytest.raises(SandboxError, match="not modified"):
        await alice.edit(reply.message_id, "Alice W.")
    with pytest.raises(SandboxError, match="own messages"):
        await alice.edit(answer.message_id, "hijack")
    await alice.delete(reply.message_id)
    assert reply.message_id not in [m.message_id for m in await alice.messages()]
    everything = await driver.messages(alice.id)
    assert [m.deleted for m in everything] == [False, False, True]


async def test_user_files_reach_the_bot(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await driver.create_user("Alice")
    png = make_png(12, 10)
    photo = await alice.send_photo(png, caption="broken machine #safety")
    doc = await alice.send_document(b"a,b\n1,2\n", "roster.csv", caption="list")
    voice = await alice.send_voice(make_ogg(4.0))
    updates = await bot.get_updates()
    by_id = {u.update_id: u.message for u in updates}

    photo_msg = by_id[photo.update_id]
    assert photo_msg is not None and photo_msg.caption == "broken machine #safety"
    assert photo_msg.caption_entities[0].type == "hashtag"
    size = photo_msg.photo[-1]
    assert (size.width, size.height) == (12, 10)
    downloaded = await (await bot.get_file(size.file_id)).download_as_bytearray()
    assert bytes(downloaded) == png

    doc_msg = by_id[doc.update_id]
    assert doc_msg is not None and doc_msg.document is not None
    assert doc_msg.document.file_name == "roster.csv"
    assert doc_msg.document.mime_type == "text/csv"

    voice_msg = by_id[voice.update_id]
    assert voice_msg is not None and voice_msg.voice is not None
    assert voice.message.media is not None and voice.message.media.duration == 4

    # The bot can send a user's file on by file_id.
    again = await bot.send_photo(alice.id, size.file_id)
    assert again.photo[-1].file_unique_id == size.file_unique_id
    assert await driver.download(photo.message.media.url) == png  # type: ignore[union-attr]

    with pytest.raises(SandboxError, match="IMAGE_PROCESS_FAILED"):
        await alice.send_photo(b"not a picture")


async def test_press_block_unblock(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await driver.create_user("Alice")
    await alice.send("/start")
    markup = telegram.InlineKeyboardMarkup(
        [[telegram.InlineKeyboardButton("Sign up", callback_data="act:7:join")]]
    )
    sent = await bot.send_message(alice.id, "Football on Friday", reply_markup=markup)
    press = await alice.press("Sign up")
    assert press.message_id == sent.message_id
    forged = await alice.press_data(sent.message_id, "act:8:join")
    updates = await bot.get_updates()
    queries = [u.callback_query for u in updates if u.callback_query]
    assert [q.data for q in queries] == ["act:7:join", "act:8:join"]
    assert queries[1].id == forged.callback_query_id
    assert await alice.callback_answers() == []  # not answered yet
    await bot.answer_callback_query(queries[0].id, "Signed up")
    assert [a.text for a in await alice.callback_answers()] == ["Signed up"]

    await bot.get_updates(offset=updates[-1].update_id + 1)
    await alice.block_bot()
    await alice.unblock_bot()
    changes = [u.my_chat_member for u in await bot.get_updates()]
    assert [c.new_chat_member.status for c in changes if c] == [
        ChatMemberStatus.BANNED,
        ChatMemberStatus.MEMBER,
    ]
    assert changes[0] is not None and changes[0].new_chat_member.user.id == BOT_ID
    with pytest.raises(SandboxError, match="has not blocked the bot"):
        await alice.unblock_bot()
    with pytest.raises(SandboxError, match="1-64 bytes"):
        await alice.press_data(sent.message_id, "x" * 65)


async def test_group_conversation(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await driver.create_user("Alice")
    bob = await driver.create_user("Bob")
    cadres = await driver.create_group("Cadres", [alice], chat_id=-1001234567890)
    assert cadres.id == -1001234567890
    case = await bot.send_message(
        cadres.id,
        "Case G-7K3Q",
        reply_markup=telegram.InlineKeyboardMarkup(
            [[telegram.InlineKeyboardButton("Take", callback_data="case:take")]]
        ),
    )
    await alice.press("Take", chat=cadres)
    await alice.send("on it", chat=cadres, reply_to=case.message_id)
    with pytest.raises(SandboxError, match="not a member"):
        await bob.send("let me in", chat=cadres)

    link = await bot.create_chat_invite_link(cadres.id)
    joined = await bob.join(link.invite_link)
    assert joined == cadres
    await bob.send("hi all", chat=cadres)
    await bob.leave(cadres)

    updates = await bot.get_updates()
    messages = [u.message for u in updates if u.message]
    assert [m.text for m in messages if m.text] == ["on it", "hi all"]
    assert messages[-1].chat.type == "supergroup"
    joins = [m for m in messages if m.new_chat_members]
    assert [u.id for m in joins for u in m.new_chat_members] == [BOT_ID, bob.id]
    assert [m.left_chat_member.id for m in messages if m.left_chat_member] == [bob.id]
    query = next(u.callback_query for u in updates if u.callback_query)
    assert isinstance(query.message, telegram.Message)
    assert query.message.chat.id == cadres.id

    view = await driver.chat(cadres.id)
    assert {m["id"]: m["status"] for m in view["members"]} == {
        alice.id: "member",
        BOT_ID: "administrator",
        bob.id: "left",
    }
    state = await driver.state()
    alice_state = next(u for u in state["users"] if u["id"] == alice.id)
    assert {c["chat_id"] for c in alice_state["chats"]} == {cadres.id}


async def test_settling_without_a_bot_times_out_clearly(base_url: str) -> None:
    async with SandboxDriver(base_url, TOKEN, settle_timeout=0.3) as driver:
        alice = await driver.create_user("Alice")
        with pytest.raises(TimeoutError, match="acknowledge update"):
            await alice.send("anyone there?")


async def test_wait_for_reports_what_it_waited_for(driver: SandboxDriver) -> None:
    async def never() -> bool:
        return False

    with pytest.raises(TimeoutError, match="the impossible"):
        await driver.wait_for(never, timeout=0.2, what="the impossible")
    assert await driver.wait_for(lambda: "ready", timeout=0.2) == "ready"
