"""Suggestions end to end: a member writes, cadres answer in their group, the member is told."""

from __future__ import annotations

import re

from sqlalchemy import select

from sandbox.driver import SandboxUser
from storage.models import Suggestion, SuggestionReply
from tests.support.bot import BotHarness
from tests.support.chat import registered, registered_cadre, wait_message, zh
from tests.support.config import CADRE_CHAT


async def test_suggestion_round_trip(bot: BotHarness) -> None:
    wang = await registered(bot, "王小明")
    cadre = await _cadre(bot, "李干事")

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
    assert code in card.text
    assert "王小明（装配车间）" in card.text and "周末也请开放" in card.text

    await cadre.press("🤔 研究中", chat=CADRE_CHAT)
    notice = await wait_message(bot, wang, "🤔")
    assert code in notice.text
    card = await wait_message(bot, cadre, "💡", chat=CADRE_CHAT)
    assert card.button("• 🤔 研究中") is not None

    await cadre.press(zh("💬 Reply"), chat=CADRE_CHAT)
    prompt = await wait_message(bot, cadre, f"💡 {code}", chat=CADRE_CHAT)
    assert "李干事" in prompt.text
    # The prompt is for the cadre who pressed: it mentions them, and ForceReply is selective.
    assert any(e.get("user", {}).get("id") == cadre.id for e in prompt.raw["entities"])
    forced = await cadre.keyboard_state(CADRE_CHAT)
    assert forced is not None and forced["message_id"] == prompt.message_id
    # As in Telegram's clients, what the cadre types next answers the prompt.
    sent = await cadre.send("感谢建议！下周我们和食堂商量具体安排。", chat=CADRE_CHAT)
    assert sent.message.reply_to == prompt.message_id
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
    wang = await registered(bot, "王小明")
    await wang.send("💡 意见建议")
    await wang.press("✍️ 提建议")
    await wang.send("✖️ 取消")
    assert "没有任何更改" in (await wang.last_bot_message()).text
    async with bot.runtime.sessions() as session:
        assert await session.scalar(select(Suggestion)) is None


async def _cadre(bot: BotHarness, name: str) -> SandboxUser:
    return await registered_cadre(bot, name, "行政办公室", first_name=name, username=None)


async def test_a_reply_to_the_card_reaches_the_author(bot: BotHarness) -> None:
    """Replying to the card, as on grievance cards, answers the member; chatter does not."""
    wang = await registered(bot, "王小明")
    li = await _cadre(bot, "李干事")
    zhao = await _cadre(bot, "赵干事")
    outsider = await registered(bot, "钱师傅")
    await bot.driver.add_member(CADRE_CHAT, outsider)
    await wang.send("💡 意见建议")
    await wang.press("✍️ 提建议")
    # A case code quoted in a suggestion does not turn a reply into a grievance answer.
    await wang.send("希望像 G-7K3Q 那样，车间也装上饮水机。")
    await wang.send("📨 发送")
    card = await wait_message(bot, li, "💡", chat=CADRE_CHAT)
    found = re.search(r"S-\d+", card.text)
    assert found is not None
    code = found.group(0)

    # Pressing 💬 reply prompts 李干事 alone; 赵干事 keeps an ordinary input field.
    await li.press(zh("💬 Reply"), chat=CADRE_CHAT)
    prompt = await wait_message(bot, li, f"💡 {code}", chat=CADRE_CHAT)
    assert (await li.keyboard_state(CADRE_CHAT) or {}).get("message_id") == prompt.message_id
    assert await zhao.keyboard_state(CADRE_CHAT) is None
    chatter = await zhao.send("我下午去食堂看看。", chat=CADRE_CHAT)
    assert chatter.message.reply_to is None

    await zhao.send("好的，我们会考虑在车间装饮水机。", chat=CADRE_CHAT, reply_to=card.message_id)
    answer = await wait_message(bot, wang, "💬")
    assert code in answer.text and "装饮水机" in answer.text and "赵干事" not in answer.text
    assert f"对 {code} 的回复正在发给会员" in (await zhao.last_bot_message(CADRE_CHAT)).text
    refreshed = next(
        m for m in await bot.driver.messages(CADRE_CHAT) if m.message_id == card.message_id
    )
    assert refreshed.text != card.text  # the card counts the reply

    # Someone in the group who is not a cadre is told so; nothing reaches the member.
    before = len(await wang.bot_messages())
    await outsider.send("我也想说两句", chat=CADRE_CHAT, reply_to=card.message_id)
    assert "只有工会干部" in (await outsider.last_bot_message(CADRE_CHAT)).text
    # The prompt, answered later, still reaches the member.
    await li.send("已列入下月工会例会议题。", chat=CADRE_CHAT)
    later = await wait_message(bot, wang, "💬", count=2)
    assert "例会" in later.text
    card_now = next(
        m for m in await bot.driver.messages(CADRE_CHAT) if m.message_id == card.message_id
    )
    assert "已回复：2 次" in card_now.text  # the prompt's answer refreshed its card too
    assert len(await wang.bot_messages()) == before + 1
    async with bot.runtime.sessions() as session:
        replies = list(await session.scalars(select(SuggestionReply.text)))
    assert sorted(replies) == sorted(
        ["好的，我们会考虑在车间装饮水机。", "已列入下月工会例会议题。"]
    )
