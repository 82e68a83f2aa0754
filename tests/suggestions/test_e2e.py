"""Suggestions end to end: a member writes, cadres answer in their group, the member is told."""

from __future__ import annotations

from sqlalchemy import select

from storage import members
from storage.db import transaction
from storage.models import Role, Suggestion
from tests.harness import CADRE_CHAT, BotHarness
from tests.polls.helpers import member, wait_message, zh


async def test_suggestion_round_trip(bot: BotHarness) -> None:
    wang = await member(bot, "王小明")
    cadre = await member(bot, "李干事", "行政办公室")
    async with transaction(bot.runtime.sessions) as session:
        row = await members.get_member(session, cadre.id)
        assert row is not None
        await members.set_role(session, row.id, Role.CADRE)
    await bot.driver.add_member(CADRE_CHAT, cadre)

    await wang.send("💡 意见建议")
    home = await wang.last_bot_message()
    assert "署上您的姓名" in home.text and "📝 提交诉求" in home.text
    await wang.press("✍️ 提建议")
    await wang.send("/start")  # a command is not a suggestion; the step waits for text
    await wang.send("建议食堂晚餐延长到19:30，方便倒班的同事。\n周末也请开放。")
    confirm = await wang.last_bot_message()
    assert "把这条建议发给工会干部吗" in confirm.text and "周末也请开放" in confirm.text
    await wang.send("📨 发送")
    async with bot.runtime.sessions() as session:
        stored = await session.scalar(select(Suggestion))
    assert stored is not None and stored.status == "new"
    code = f"S-{stored.id}"
    assert code in (await wang.last_bot_message()).text

    card = await wait_message(bot, cadre, "💡", chat=CADRE_CHAT)
    assert code in card.text and "王小明（装配车间）" not in card.text
    assert "王小明 (装配车间)" in card.text and "周末也请开放" in card.text

    await cadre.press("🤔 研究中", chat=CADRE_CHAT)
    notice = await wait_message(bot, wang, "🤔")
    assert code in notice.text
    card = await wait_message(bot, cadre, "💡", chat=CADRE_CHAT)
    assert card.button("• 🤔 研究中") is not None

    await cadre.press(zh("💬 Reply"), chat=CADRE_CHAT)
    prompt = await wait_message(bot, cadre, "李干事", chat=CADRE_CHAT)
    assert code in prompt.text
    await cadre.send("感谢建议！下周我们和食堂商量具体安排。", chat=CADRE_CHAT)
    answer = await wait_message(bot, wang, "💬")
    assert f"工会回复了您的建议 {code}" in answer.text and "和食堂商量" in answer.text
    assert "李干事" not in answer.text  # replies come from the union

    await cadre.press("👍 采纳", chat=CADRE_CHAT)
    await wait_message(bot, wang, "👍 好消息")
    await cadre.press("• 👍 采纳", chat=CADRE_CHAT)  # again: nothing new to tell
    assert "已经是这个状态" in (await cadre.callback_answers())[-1].text

    await wang.send("💡 意见建议")
    await wang.press("📋 我的建议")
    mine = await wang.last_bot_message()
    assert code in mine.text and "👍 已采纳" in mine.text
    # A member forging a cadre button changes nothing.
    await wang.press_data(mine.message_id, f"sgst:{stored.id}:declined")
    assert "只有工会干部" in (await wang.callback_answers())[-1].text
    async with bot.runtime.sessions() as session:
        again = await session.get(Suggestion, stored.id)
    assert again is not None and again.status == "adopted"
    notices = [m for m in await wang.bot_messages() if m.content.startswith("👍 好消息")]
    assert len(notices) == 1


async def test_cancel_while_writing_saves_nothing(bot: BotHarness) -> None:
    wang = await member(bot, "王小明")
    await wang.send("💡 意见建议")
    await wang.press("✍️ 提建议")
    await wang.send("✖️ 取消")
    assert "没有任何更改" in (await wang.last_bot_message()).text
    async with bot.runtime.sessions() as session:
        assert await session.scalar(select(Suggestion)) is None
