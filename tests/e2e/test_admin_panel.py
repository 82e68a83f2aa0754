"""The admin panel's typed inputs end to end: find a member, tag them, name departments and groups."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from storage.models import Department, InterestGroup, Member
from tests.support.bot import BotHarness
from tests.support.chat import register

ADMIN_ID = 900000001


async def tags_of(bot: BotHarness, telegram_id: int) -> list[str]:
    async with bot.runtime.sessions() as session:
        member = await session.scalar(
            select(Member)
            .where(Member.telegram_id == telegram_id)
            .options(selectinload(Member.tags))
        )
        assert member is not None
        return sorted(member.tag_names)


async def names(bot: BotHarness, model: type[Department] | type[InterestGroup]) -> list[str]:
    async with bot.runtime.sessions() as session:
        return sorted(await session.scalars(select(model.name)))


async def test_admin_finds_a_member_and_sets_their_tags(bot: BotHarness) -> None:
    member = await bot.driver.create_user("Tagged")
    await register(bot, member, "李小红", "质检科")
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/admin")
    await admin.press("🔎 查找会员")
    await admin.send("没有这个人")
    assert "没有匹配的会员" in (await admin.last_bot_message()).text
    # Digits int() refuses, and a number no BIGINT holds, are searched as names, not ids.
    for typed in ("2²", "9" * 30):
        await admin.send(typed)
        assert "没有匹配的会员" in (await admin.last_bot_message()).text
    await admin.send("  小红 ")
    found = await admin.last_bot_message()
    assert "与“小红”匹配的会员" in found.text
    await admin.press("李小红 · 质检科")
    await admin.press("🏷 标签")
    await admin.send("新 员工, 退休!")
    assert "标签只能包含文字、数字和短横线" in (await admin.last_bot_message()).text
    await admin.send("新 员工，Retiree")
    assert "标签已保存" in (await admin.bot_messages())[-2].text
    assert "标签：retiree、新-员工" in (await admin.last_bot_message()).text
    assert await tags_of(bot, member.id) == ["retiree", "新-员工"]
    await admin.press("🏷 标签")
    await admin.send("-")
    assert await tags_of(bot, member.id) == []


async def test_admin_searches_again_and_by_username(bot: BotHarness) -> None:
    first = await bot.driver.create_user("Hong", username="Red_Li")
    await register(bot, first, "李小红", "质检科")
    second = await bot.driver.create_user("Ming", username="ming_w")
    await register(bot, second, "王明", "装配车间")
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/admin")
    await admin.press("🔎 查找会员")
    await admin.send("小红")
    found = await admin.last_bot_message()
    assert "与“小红”匹配的会员" in found.text and "再次查找" in found.text
    # Another text is another search, without starting over.
    await admin.send("@red_")  # the beginning of the username, in any case
    found = await admin.last_bot_message()
    assert [b.text for row in found.buttons for b in row][:1] == ["李小红 · 质检科"]
    await admin.send("@MING_W")
    found = await admin.last_bot_message()
    assert "王明 · 装配车间" in {b.text for row in found.buttons for b in row}
    assert "李小红 · 质检科" not in {b.text for row in found.buttons for b in row}
    await admin.send("@nobody")
    assert "没有匹配的会员" in (await admin.last_bot_message()).text
    await admin.send("@ming_w")
    await admin.press("王明 · 装配车间")
    assert "@ming_w" in (await admin.last_bot_message()).text
    await admin.send("✖️ 取消")
    await admin.send("王明")  # the search has ended: this is no longer a query
    assert "与“王明”匹配的会员" not in (await admin.last_bot_message()).text


async def test_a_member_who_renames_their_username_is_found_by_the_new_one(
    bot: BotHarness,
) -> None:
    member = await bot.driver.create_user("Fang", username="old_fang")
    await register(bot, member, "方芳", "质检科")
    async with bot.runtime.sessions() as session:
        row = await session.scalar(select(Member).where(Member.telegram_id == member.id))
        assert row is not None and row.username == "old_fang"
    await bot.driver.rename_user(member.id, "new_fang")
    await member.send("/profile")
    async with bot.runtime.sessions() as session:
        row = await session.scalar(select(Member).where(Member.telegram_id == member.id))
        assert row is not None and row.username == "new_fang"


async def test_admin_names_departments_and_groups(bot: BotHarness) -> None:
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/admin")
    await admin.press("🏢 部门管理")
    await admin.press("➕ 添加")
    await admin.send("  质检   科 ")
    assert "已保存" in (await admin.bot_messages())[-2].text
    await admin.press("➕ 添加")
    await admin.send("质检 科")
    assert "已有同名的部门" in (await admin.last_bot_message()).text
    await admin.send("✖️ 取消")
    assert await names(bot, Department) == ["质检 科"]

    await admin.send("/admin")
    await admin.press("🏢 部门管理")
    await admin.press("质检 科")
    await admin.press("✏️ 重命名")
    await admin.send("品质部")
    assert await names(bot, Department) == ["品质部"]

    await admin.send("/admin")
    await admin.press("🎯 兴趣小组")
    await admin.press("➕ 添加")
    await admin.send("组" * 65)
    assert "太长" in (await admin.last_bot_message()).text
    await admin.send("篮球队")
    assert await names(bot, InterestGroup) == ["篮球队"]
