"""Admins choose an entry's related entries ("see also") from a paged list of toggles.

The choice is kept in the draft until ✅ Save; members then see the new buttons
under the entry. Forged and stale buttons get a clear answer and change nothing.
"""

from __future__ import annotations

from sqlalchemy import select

from sandbox.driver import ChatMessage, SandboxUser
from storage import handbook
from storage.db import transaction
from storage.models import HandbookLink
from tests.support.bot import BotHarness
from tests.support.chat import buttons, registered, registered_admin
from tests.support.handbook import entry_buttons, entry_id, open_handbook

RELATED = "🔗 相关条目"


async def _links(bot: BotHarness, entry: int) -> list[int]:
    async with bot.runtime.sessions() as session:
        return sorted(
            await session.scalars(
                select(HandbookLink.related_id).where(HandbookLink.entry_id == entry)
            )
        )


async def _open_entry(user: SandboxUser, topic: str, entry: str) -> ChatMessage:
    await open_handbook(user)
    await user.press(f"📂 {topic}")
    await user.press(f"📄 {entry}")
    return await user.last_bot_message()


def _toggles(panel: ChatMessage) -> dict[str, bool]:
    """The list's entries: title → chosen."""
    return {
        label[2:]: label.startswith("✅")
        for label in buttons(panel)
        if label.startswith(("✅ ", "⬜ "))
    }


async def test_admin_chooses_related_entries_and_members_see_them(bot: BotHarness) -> None:
    admin = await registered_admin(bot)
    wages = await entry_id(bot, "工资被拖欠怎么办")
    aid = await entry_id(bot, "劳动争议法律援助")
    assert await _links(bot, wages) == [aid]  # the default handbook's link

    entry = await _open_entry(admin, "法律援助", "工资被拖欠怎么办")
    assert RELATED in buttons(entry)
    await admin.press(RELATED)
    sent = await admin.bot_messages()
    assert "请选择显示在“工资被拖欠怎么办”下方的相关条目" in sent[-2].text
    panel = sent[-1]
    assert "已选：劳动争议法律援助" in panel.text and "第 1 页，共 2 页" in panel.text
    page_one = _toggles(panel)
    assert len(page_one) == 8 and "工资被拖欠怎么办" not in page_one  # never itself
    assert page_one["劳动争议法律援助"] is True
    assert "🧹 全部清除" in buttons(panel) and "›" in buttons(panel) and "‹" not in buttons(panel)

    # Take the default link out, add one from page 1 and one from page 2.
    await admin.press("✅ 劳动争议法律援助")
    first = next(title for title, chosen in page_one.items() if not chosen)
    await admin.press(f"⬜ {first}")
    await admin.press("›")
    panel = await admin.last_bot_message()
    assert "第 2 页，共 2 页" in panel.text and "‹" in buttons(panel)
    page_two = _toggles(panel)
    async with bot.runtime.sessions() as session:
        total = len(await handbook.every_entry(session))
    assert len(page_one) + len(page_two) == total - 1 and not set(page_two) & set(page_one)
    second = next(iter(page_two))
    await admin.press(f"⬜ {second}")
    panel = await admin.last_bot_message()
    assert _toggles(panel)[second] is True and f"已选：{first}、{second}" in panel.text
    assert await _links(bot, wages) == [aid]  # nothing saved before ✅ Save

    await admin.send("随便说点什么")  # not ✅ Save: asked again
    assert "然后点按 ✅ 保存" in (await admin.last_bot_message()).text
    await admin.send("✅ 保存")
    sent = await admin.bot_messages()
    assert "已保存：2 个相关条目" in sent[-2].text
    assert set(entry_buttons(sent[-1])) == {first, second}  # the entry, shown again
    chosen = sorted([await entry_id(bot, first), await entry_id(bot, second)])
    assert await _links(bot, wages) == chosen

    # A member reads the new "see also" buttons, and they open the entries.
    wang = await registered(bot, "王小明")
    member_view = await _open_entry(wang, "法律援助", "工资被拖欠怎么办")
    assert "相关条目：" in member_view.text
    assert set(entry_buttons(member_view)) == {first, second}
    assert RELATED not in buttons(member_view)
    await wang.press(f"📄 {second}")
    assert second in (await wang.last_bot_message()).text
    # A member's press of the admin's button changes nothing.
    await wang.press_data(member_view.message_id, f"hbr:{wages}")
    await wang.press_data(member_view.message_id, f"hbrc:{wages}")
    assert await _links(bot, wages) == chosen

    # 🧹 None, then ✅ Save: no related entries, no "see also" for members.
    await _open_entry(admin, "法律援助", "工资被拖欠怎么办")
    await admin.press(RELATED)
    await admin.press("🧹 全部清除")
    panel = await admin.last_bot_message()
    assert "尚未选择" in panel.text and not any(_toggles(panel).values())
    await admin.send("✅ 保存")
    assert "已保存：没有相关条目" in (await admin.bot_messages())[-2].text
    assert await _links(bot, wages) == []
    member_view = await _open_entry(wang, "法律援助", "工资被拖欠怎么办")
    assert entry_buttons(member_view) == [] and "相关条目：" not in member_view.text


async def test_forged_and_stale_buttons_get_a_clear_answer(bot: BotHarness) -> None:
    admin = await registered_admin(bot)
    wages = await entry_id(bot, "工资被拖欠怎么办")
    aid = await entry_id(bot, "劳动争议法律援助")
    dues = await entry_id(bot, "会费怎么缴纳")
    await _open_entry(admin, "法律援助", "工资被拖欠怎么办")
    await admin.press(RELATED)
    panel = await admin.last_bot_message()

    async def pressed(data: str, *, unchecked: bool = False) -> str:
        await admin.press_data(panel.message_id, data, unchecked=unchecked)
        return (await admin.callback_answers())[-1].text or ""

    assert "不能关联它自己" in await pressed(f"hbrx:{wages}:{wages}:0")
    assert "已经没有这个条目" in await pressed(f"hbrx:{wages}:99999:0")
    assert "按钮已失效" in await pressed(f"hbrx:{wages}:99999999999:0", unchecked=True)
    assert "按钮已失效" in await pressed(f"hbrp:{wages}:-99999999999", unchecked=True)
    assert "列表已关闭" in await pressed(f"hbrx:{dues}:{aid}:0")  # another entry's list
    await pressed(f"hbrp:{wages}:9999")  # past the last page: the last one shown
    assert "第 2 页，共 2 页" in (await admin.last_bot_message()).text

    # At most 8: the ninth is refused.
    others = [await entry_id(bot, title) for title in ("如何加入工会", "会费怎么缴纳")]
    async with bot.runtime.sessions() as session:
        every = [e.id for e in await handbook.every_entry(session) if e.id not in (wages, aid)]
    for other in every[:7]:
        await pressed(f"hbrx:{wages}:{other}:0")
    assert "最多关联 8 个" in await pressed(f"hbrx:{wages}:{every[7]}:0")

    # Chosen, then deleted by someone else before ✅ Save: left out, and said so.
    async with transaction(bot.runtime.sessions) as session:
        await handbook.delete_entry(session, every[0])
    await admin.send("✅ 保存")
    saved = (await admin.bot_messages())[-2].text
    assert "已保存：7 个相关条目" in saved and "有 1 个您选择的条目已被删除" in saved
    assert await _links(bot, wages) == sorted([aid, *every[1:7]])
    # The list is closed now: its buttons say so.
    assert "列表已关闭" in await pressed(f"hbrx:{wages}:{others[0]}:0")
    assert "列表已关闭" in await pressed(f"hbrc:{wages}")
    assert await _links(bot, wages) == sorted([aid, *every[1:7]])


async def test_deleting_an_entry_takes_it_out_of_every_list(bot: BotHarness) -> None:
    admin = await registered_admin(bot)
    aid = await entry_id(bot, "劳动争议法律援助")
    async with bot.runtime.sessions() as session:
        pointing = list(
            await session.scalars(
                select(HandbookLink.entry_id).where(HandbookLink.related_id == aid)
            )
        )
    assert pointing  # the default handbook links to it
    await _open_entry(admin, "法律援助", "劳动争议法律援助")
    await admin.press("🗑 删除")
    await admin.press("🗑 确认删除")
    async with bot.runtime.sessions() as session:
        assert (
            await session.scalar(
                select(HandbookLink).where(
                    (HandbookLink.related_id == aid) | (HandbookLink.entry_id == aid)
                )
            )
            is None
        )
    wang = await registered(bot, "王小明")
    entry = await _open_entry(wang, "法律援助", "工资被拖欠怎么办")
    assert "劳动争议法律援助" not in entry_buttons(entry)


async def test_the_list_in_english(bot: BotHarness) -> None:
    admin = await registered_admin(bot)
    await admin.send("/language")
    await admin.press("English")
    await admin.send("/handbook")
    await admin.press("📂 Legal aid")
    await admin.press("📄 What to do when wages are not paid")
    await admin.press("🔗 Related entries")
    sent = await admin.bot_messages()
    assert "Choose the entries shown under “What to do when wages are not paid”" in sent[-2].text
    assert "Chosen: Legal aid in labour disputes" in sent[-1].text
    assert "Page 1 of 2" in sent[-1].text and "🧹 None" in buttons(sent[-1])
    await admin.send("✅ Save")
    assert "✅ Saved: 1 related entry." in (await admin.bot_messages())[-2].text
