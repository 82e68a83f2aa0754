"""Admins edit the handbook from the chat: add with a preview, edit, move, delete.

Members and cadres read only: they see no editing buttons, and a forged one changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.models import HandbookEntry, HandbookTopic
from tests.support.bot import BotHarness
from tests.support.chat import buttons, registered, registered_admin
from tests.support.handbook import entry_buttons, entry_id, open_handbook, search
from tests.support.media import make_png


async def test_admin_adds_edits_moves_and_deletes_an_entry(bot: BotHarness) -> None:
    admin = await registered_admin(bot)
    await open_handbook(admin)
    await admin.press("📂 联系方式")
    topic = await admin.last_bot_message()
    assert {"➕ 条目", "➕ 主题", "✏️ 重命名", "↕️ 移动", "🗑 删除"} <= set(buttons(topic))

    await admin.press("➕ 条目")
    assert "请发送中文标题" in (await admin.last_bot_message()).text
    await admin.send("x" * 65)  # too long: said, asked again
    assert "太长" in (await admin.last_bot_message()).text
    await admin.send("食堂开放时间")
    assert "请发送中文正文" in (await admin.last_bot_message()).text
    await admin.send("早餐 6:30–8:30，午餐 11:00–13:00。<b>夜班</b>有加餐 & 热汤。")
    await admin.send("Canteen opening hours")
    await admin.send("Breakfast 6:30–8:30, lunch 11:00–13:00.")
    assert "附在条目中" in (await admin.last_bot_message()).text
    await admin.send_photo(make_png(40, 30))
    messages = await admin.bot_messages()
    previews = [m.content for m in messages if m.content.startswith("预览")]
    assert "预览（中文）" in previews[-2] and "食堂开放时间" in previews[-2]
    assert "<b>夜班</b>有加餐 & 热汤" in previews[-2]  # what was typed, escaped, not markup
    assert "预览（English）" in previews[-1] and "Canteen opening hours" in previews[-1]
    assert messages[-2].media is not None and messages[-2].media.kind == "photo"
    assert "保存到手册吗" in messages[-1].text
    async with bot.runtime.sessions() as session:
        assert (
            await session.scalar(
                select(HandbookEntry).where(HandbookEntry.title_zh == "食堂开放时间")
            )
            is None
        )
    await admin.send("✅ 保存")
    assert "已保存" in (await admin.bot_messages())[-2].text
    assert "食堂开放时间" in entry_buttons(await admin.last_bot_message())

    # Members find it at once, with its photo.
    wang = await registered(bot, "王小明")
    assert entry_buttons(await search(wang, "食堂"))[0] == "食堂开放时间"
    await wang.press("📄 食堂开放时间")
    assert (await wang.last_bot_message()).media is not None
    assert "✏️ 编辑" not in buttons((await wang.bot_messages())[-2])

    # Edit: ⏭ keeps a text, a new one replaces it; 🗑 drops the photo.
    await admin.press("📄 食堂开放时间")
    await admin.press("✏️ 编辑")
    assert "现在是：食堂开放时间" in (await admin.last_bot_message()).text
    await admin.send("⏭ 跳过")
    await admin.send("⏭ 跳过")
    await admin.send("Canteen hours")
    await admin.send("⏭ 跳过")
    await admin.send("🗑 不要附件")
    await admin.send("✅ 保存")
    async with bot.runtime.sessions() as session:
        entry = await session.scalar(
            select(HandbookEntry).where(HandbookEntry.title_zh == "食堂开放时间")
        )
    assert entry is not None and entry.title_en == "Canteen hours" and entry.file_id is None
    assert "夜班" in entry.body_zh

    # Move to 常见问题, then delete.
    await admin.press("📄 食堂开放时间")
    await admin.press("↕️ 移动")
    assert "移到哪里" in (await admin.last_bot_message()).text
    await admin.press("📂 常见问题")
    assert "食堂开放时间" in entry_buttons(await admin.last_bot_message())
    await admin.press("📄 食堂开放时间")
    await admin.press("🗑 删除")
    assert "无法恢复" in (await admin.last_bot_message()).text
    await admin.press("🗑 确认删除")
    assert "食堂开放时间" not in entry_buttons(await admin.last_bot_message())
    assert entry_buttons(await search(wang, "食堂")) == []


async def test_admin_adds_moves_and_deletes_a_topic(bot: BotHarness) -> None:
    admin = await registered_admin(bot)
    await open_handbook(admin)
    await admin.press("➕ 主题")
    await admin.send("职工书屋")
    await admin.send("Workers' library")
    assert "预览（中文）" in (await admin.bot_messages())[-3].text
    await admin.send("✅ 保存")
    contents = await admin.last_bot_message()
    assert "📂 职工书屋" in buttons(contents)
    await admin.press("📂 职工书屋")
    await admin.press("↕️ 移动")
    await admin.press("📂 会员权益")
    async with bot.runtime.sessions() as session:
        library = await session.scalar(
            select(HandbookTopic).where(HandbookTopic.title_zh == "职工书屋")
        )
        rights = await session.scalar(
            select(HandbookTopic).where(HandbookTopic.title_zh == "会员权益")
        )
    assert library is not None and rights is not None and library.parent_id == rights.id

    # 会员权益 cannot go inside 职工书屋, which is inside it.
    moved = await admin.last_bot_message()
    await admin.press_data(moved.message_id, f"hbmtt:{rights.id}:{library.id}")
    assert "不能移到它自己" in (await admin.callback_answers())[-1].text
    # A topic with entries is not deleted.
    await admin.press_data(moved.message_id, f"hbdty:{rights.id}")
    assert "请先移走或删除" in (await admin.callback_answers())[-1].text
    await admin.press_data(moved.message_id, f"hbdty:{library.id}")
    async with bot.runtime.sessions() as session:
        assert await session.get(HandbookTopic, library.id) is None
        assert await session.get(HandbookTopic, rights.id) is not None


async def test_members_cannot_edit_and_cancel_saves_nothing(bot: BotHarness) -> None:
    wang = await registered(bot, "王小明")
    contents = await open_handbook(wang)
    assert not {"➕ 主题", "➕ 条目"} & set(buttons(contents))
    target = await entry_id(bot, "会费怎么缴纳")
    await wang.press_data(contents.message_id, f"hbdey:{target}")
    await wang.press_data(contents.message_id, f"hbee:{target}")
    async with bot.runtime.sessions() as session:
        assert await session.get(HandbookEntry, target) is not None

    admin = await registered_admin(bot)
    await open_handbook(admin)
    await admin.press("📂 入会与会费")
    await admin.press("➕ 条目")
    await admin.send("草稿标题")
    await admin.send("✖️ 取消")
    async with bot.runtime.sessions() as session:
        assert (
            await session.scalar(select(HandbookEntry).where(HandbookEntry.title_zh == "草稿标题"))
            is None
        )


async def test_an_entry_carries_a_document_that_members_get(bot: BotHarness) -> None:
    admin = await registered_admin(bot)
    await open_handbook(admin)
    await admin.press("📂 常见问题")
    await admin.press("➕ 条目")
    await admin.send("入会申请表")
    await admin.send("填好后交到工会办公室。")
    await admin.send("Membership form")
    await admin.send("Hand it in at the union office.")
    await admin.send_document(b"%PDF-1.4\n%form\n", "membership-form.pdf")
    messages = await admin.bot_messages()
    assert messages[-2].media is not None and messages[-2].media.kind == "document"
    await admin.send("✅ 保存")
    async with bot.runtime.sessions() as session:
        entry = await session.scalar(
            select(HandbookEntry).where(HandbookEntry.title_zh == "入会申请表")
        )
    assert entry is not None and entry.file_kind == "document" and entry.file_id

    wang = await registered(bot, "王小明")
    await search(wang, "申请表")
    await wang.press("📄 入会申请表")
    sent = await wang.bot_messages()
    document = next(m.media for m in reversed(sent) if m.media is not None)
    assert document.kind == "document" and document.file_name == "membership-form.pdf"
