"""Forged and stale buttons, strangers, and a cadre group that is missing or lost."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import GrievanceAudit, GrievancePost
from tests.support.bot import fresh_bot
from tests.support.chat import register, registered_cadre
from tests.support.config import ADMIN_ID, CADRE_CHAT
from tests.support.grievances import World, cases, submit, tick
from tests.support.outbox import delivered, quick_delivery


async def _audit_count(world: World) -> int:
    async with world.bot.runtime.sessions() as session:
        return len(list(await session.scalars(select(GrievanceAudit.id))))


async def test_member_pressing_a_cadre_button_changes_nothing(world: World) -> None:
    bot, member = world.bot, world.member
    case = await submit(bot, member)
    receipt = await member.last_bot_message()
    for data in (f"gvtake:{case.id}", f"gvresy:{case.id}", f"gvmute:{case.id}:30"):
        await member.press_data(receipt.message_id, data)
        assert "只有工会干部" in (await member.callback_answers())[-1].text
    row = (await cases(bot))[0]
    assert (row.status, row.muted_until, row.finished_at) == ("new", None, None)
    assert await _audit_count(world) == 0


async def test_cadre_in_a_foreign_group_is_refused(world: World) -> None:
    bot, member, cadre = world.bot, world.member, world.cadre
    case = await submit(bot, member)
    other = await bot.driver.create_group("别的群", members=[cadre])
    await cadre.send("/help", chat=other)
    stranger_message = await cadre.last_bot_message(chat=other)
    await cadre.press_data(stranger_message.message_id, f"gvtake:{case.id}", chat=other)
    assert "干部群" in (await cadre.callback_answers())[-1].text
    assert (await cases(bot))[0].status == "new"
    # A member who is not a cadre, inside the real cadre group, is refused too.
    intruder = await bot.driver.create_user("Intruder")
    await register(bot, intruder, "路人甲")
    await bot.driver.add_member(CADRE_CHAT, intruder)
    card = next(m for m in await bot.driver.messages(CADRE_CHAT) if m.text and case.code in m.text)
    await intruder.press_data(card.message_id, f"gvresy:{case.id}", chat=CADRE_CHAT)
    assert "只有工会干部" in (await intruder.callback_answers())[-1].text
    await intruder.send("我来回答", chat=CADRE_CHAT, reply_to=card.message_id)
    await delivered(bot)
    assert "只有工会干部" in (await intruder.last_bot_message(chat=CADRE_CHAT)).text
    assert (await cases(bot))[0].status == "new" and await _audit_count(world) == 0


async def test_stale_buttons_of_a_resolved_case(world: World) -> None:
    bot, member, cadre = world.bot, world.member, world.cadre
    case = await submit(bot, member)
    card = next(m for m in await bot.driver.messages(CADRE_CHAT) if m.text and case.code in m.text)
    await cadre.press("✅ 办结", chat=CADRE_CHAT)
    await cadre.press("✅ 确认办结", chat=CADRE_CHAT)
    audit = await _audit_count(world)
    for data in (f"gvtake:{case.id}", f"gvresy:{case.id}", f"gvesc:{case.id}", "gvtake:99999"):
        await cadre.press_data(card.message_id, data, chat=CADRE_CHAT)
        answer = (await cadre.callback_answers())[-1].text or ""
        assert "已结案" in answer or "已失效" in answer
    await cadre.send("补一句", chat=CADRE_CHAT, reply_to=card.message_id)
    assert "已结案" in (await cadre.last_bot_message(chat=CADRE_CHAT)).text
    row = (await cases(bot))[0]
    assert (row.status, row.escalated_at) == ("resolved", None)
    assert await _audit_count(world) == audit
    # The member's own buttons for a case that is not theirs are refused as well.
    other = await bot.driver.create_user("Other")
    await register(bot, other, "别人")
    await other.send("📂 我的诉求")
    page = await other.last_bot_message()
    await other.press_data(page.message_id, f"gvclsy:{case.id}")
    assert "不是您提交的" in (await other.callback_answers())[-1].text


async def test_no_cadre_group_the_member_is_served_and_admins_told(database_url: str) -> None:
    async with fresh_bot(database_url, cadre_chat_id=None) as bot:
        await quick_delivery(bot)
        admin = await bot.driver.user(ADMIN_ID)
        await register(bot, admin, "周主席", "工会办公室")
        member = await bot.driver.create_user("Mei")
        await register(bot, member, "韩梅梅")
        case = await submit(bot, member)
        assert case.code in (await member.last_bot_message()).text
        alert = await admin.last_bot_message()
        assert case.code in alert.text and "CADRE_CHAT_ID" in alert.text
        async with bot.runtime.sessions() as session:
            assert list(await session.scalars(select(GrievancePost.id))) == []
        assert (await cases(bot))[0].status == "new"


async def test_bot_removed_from_the_group_case_waits_then_is_posted(world: World) -> None:
    bot, member = world.bot, world.member
    admin = await bot.driver.user(ADMIN_ID)
    await register(bot, admin, "周主席", "工会办公室")
    await bot.driver.remove_member(CADRE_CHAT, bot.driver.bot_id)
    await delivered(bot)
    assert "移出" in (await admin.last_bot_message()).text
    case = await submit(bot, member)
    assert case.code in (await member.last_bot_message()).text
    await tick(bot)
    assert case.code in (await admin.last_bot_message()).text
    assert "暂时无法接收" in (await member.last_bot_message()).text
    await bot.driver.add_member(CADRE_CHAT, bot.driver.bot_id, status="administrator")
    await delivered(bot)
    await bot.driver.wait_for(
        lambda: _has_card(bot, case.code), timeout=10, what="the card posted again"
    )


async def _has_card(bot, code: str) -> bool:  # type: ignore[no-untyped-def]
    await delivered(bot)
    return any(m.text and code in m.text for m in await bot.driver.messages(CADRE_CHAT))


async def test_routed_category_goes_to_its_own_group(world: World) -> None:
    bot, member = world.bot, world.member
    canteen = await bot.driver.create_group("食堂工作组")
    cook = await registered_cadre(bot, "王干事", chat=canteen.id, username="wang_cadre")
    admin = await bot.driver.user(ADMIN_ID)
    await register(bot, admin, "周主席", "工会办公室")
    await admin.send("/grievance_settings")
    await admin.press("🍚 食堂")
    await admin.press("👥 群组")
    await admin.send("-5")
    assert "不在该群" in (await admin.last_bot_message()).text
    await admin.send(str(canteen.id))
    case = await submit(bot, member, "饭菜里有异物。", category="🍚 食堂")
    card = next(m for m in await bot.driver.messages(canteen.id) if m.text and case.code in m.text)
    assert not any(m.text and case.code in m.text for m in await bot.driver.messages(CADRE_CHAT))
    await cook.send("已经联系食堂负责人。", chat=canteen, reply_to=card.message_id)
    await delivered(bot)
    assert "食堂负责人" in (await member.last_bot_message()).text
