"""Every reply path of a case arrives, or says why not: as a cadre and a member use their clients.

The sandbox driver acts as Telegram's clients do: a ForceReply makes the next
message a reply to the prompt (selective ones only for the users they target),
and any message can be replied to, in private chats as in groups.
"""

from __future__ import annotations

from sqlalchemy import select

from sandbox.driver import ChatMessage
from storage.models import Grievance, GrievanceMessage
from tests.support.bot import BotHarness
from tests.support.chat import buttons, register, registered_cadre
from tests.support.config import CADRE_CHAT
from tests.support.grievances import World, submit
from tests.support.media import PNG
from tests.support.outbox import delivered

REPLY = "💬 答复"


async def _group_texts(bot: BotHarness) -> list[str]:
    return [m.text or m.caption or "" for m in await bot.driver.messages(CADRE_CHAT)]


async def _member_messages(bot: BotHarness) -> list[str]:
    async with bot.runtime.sessions() as session:
        rows = await session.scalars(select(GrievanceMessage.author).order_by(GrievanceMessage.id))
        return list(rows)


async def _answered(world: World) -> tuple[ChatMessage, str]:
    """A case the cadre answered through 💬 Reply; the member's answer notice and the code."""
    bot, member, cadre = world.bot, world.member, world.cadre
    case = await submit(bot, member)
    await cadre.press(REPLY, chat=CADRE_CHAT)
    await cadre.send("我们明天去车间查看空调。", chat=CADRE_CHAT)
    await delivered(bot)
    answer = await member.last_bot_message()
    assert "明天去车间" in answer.text
    return answer, case.code


async def test_the_reply_prompt_is_the_pressers_and_its_answer_reaches_the_member(
    world: World,
) -> None:
    bot, member, li = world.bot, world.member, world.cadre
    zhao = await registered_cadre(bot, "赵干事", username="zhao_cadre")
    case = await submit(bot, member)

    await li.press(REPLY, chat=CADRE_CHAT)
    prompt = await li.last_bot_message(CADRE_CHAT)
    assert case.code in prompt.text and "李干事" in prompt.text
    mention = next(e for e in prompt.raw["entities"] if e["type"] == "text_mention")
    assert mention["user"]["id"] == li.id
    # Only the cadre who pressed is asked to reply; the other cadre's field stays free.
    forced = await li.keyboard_state(CADRE_CHAT)
    assert forced is not None and forced["kind"] == "force_reply"
    assert forced["message_id"] == prompt.message_id
    assert await zhao.keyboard_state(CADRE_CHAT) is None

    chatter = await zhao.send("我今天下午在车间。", chat=CADRE_CHAT)
    assert chatter.message.reply_to is None
    sent = await li.send("我们明天上午去车间查看空调。", chat=CADRE_CHAT)
    assert sent.message.reply_to == prompt.message_id  # the client answered the prompt
    await delivered(bot)

    answer = await member.last_bot_message()
    assert case.code in answer.text and "明天上午" in answer.text
    assert "李干事" not in answer.text and "下午在车间" not in answer.text
    confirmation = await li.last_bot_message(CADRE_CHAT)
    assert case.code in confirmation.text and "转交" in confirmation.text
    assert await _member_messages(bot) == ["member", "union"]


async def test_the_member_replies_to_the_answer_in_the_private_chat(world: World) -> None:
    bot, member = world.bot, world.member
    answer, code = await _answered(world)
    assert "回复本条消息" in answer.text
    await member.send("好的，谢谢！", reply_to=answer.message_id)
    await delivered(bot)
    assert f"已转交工会，编号 {code}" in (await member.last_bot_message()).text
    relayed = (await bot.driver.messages(CADRE_CHAT))[-1]
    assert code in relayed.text and "好的，谢谢" in relayed.text
    assert relayed.forwarded is False and "韩梅梅" not in relayed.text


async def test_plain_text_after_an_answer_is_offered_to_the_case(world: World) -> None:
    bot, member = world.bot, world.member
    _, code = await _answered(world)
    bot.clock.advance(minutes=5)

    typed = await member.send("空调下午又停了。")
    offer = await member.last_bot_message()
    assert code in offer.text and offer.reply_to == typed.message_id
    assert buttons(offer) == [f"✉️ 是的，补充到 {code}", "不用了"]
    assert "空调下午又停了" not in "".join(await _group_texts(bot))  # nothing sent yet

    await member.press(f"✉️ 是的，补充到 {code}")
    await delivered(bot)
    edited = next(m for m in await member.bot_messages() if m.message_id == offer.message_id)
    assert f"已转交工会，编号 {code}" in edited.text and buttons(edited) == []
    relayed = (await bot.driver.messages(CADRE_CHAT))[-1]
    assert code in relayed.text and "空调下午又停了" in relayed.text
    assert relayed.forwarded is False and "韩梅梅" not in relayed.text
    # Pressing again (a stale copy of the button) does not add it twice.
    await member.press_data(offer.message_id, f"gvoffr:{(await _case_id(bot, code))}")
    assert "此前已完成" in (await member.callback_answers())[-1].text
    assert (await _member_messages(bot)).count("member") == 2

    # Declining leaves the text where it is.
    await member.send("算了，没事。")
    await member.press("不用了")
    declined = await member.last_bot_message()
    assert "没有补充" in declined.text
    assert "算了" not in "".join(await _group_texts(bot))

    # Long after the answer, plain text is not guessed to belong to the case.
    bot.clock.advance(hours=80)
    await member.send("你好")
    assert "没有看懂" in (await member.last_bot_message()).text


async def test_an_offer_adds_only_the_pressers_own_case(world: World) -> None:
    bot = world.bot
    _, code = await _answered(world)
    other = await bot.driver.create_user("Lei", username="lilei")
    await register(bot, other, "李雷", "装配车间")
    await other.send("随便说点什么")
    assert "没有看懂" in (await other.last_bot_message()).text  # no case: no offer
    message = await other.last_bot_message()
    case_id = await _case_id(bot, code)
    await other.press_data(message.message_id, f"gvoffr:{case_id}")
    assert "这不是您提交的诉求" in (await other.callback_answers())[-1].text
    assert (await _member_messages(bot)).count("member") == 1


async def _case_id(bot: BotHarness, code: str) -> int:
    async with bot.runtime.sessions() as session:
        found = await session.scalar(select(Grievance.id).where(Grievance.code == code))
    assert found is not None
    return int(found)


async def test_an_answer_written_without_replying_is_caught_once(world: World) -> None:
    """The cadre closed the reply bar: the bot says it went nowhere and offers to pass it on."""
    bot, member, li = world.bot, world.member, world.cadre
    zhao = await registered_cadre(bot, "赵干事", username="zhao_cadre")
    case = await submit(bot, member)
    await zhao.send("大家好。", chat=CADRE_CHAT)  # no prompt pending: nothing said
    assert "大家好" in (await bot.driver.messages(CADRE_CHAT))[-1].text

    await li.press(REPLY, chat=CADRE_CHAT)
    await zhao.send("我来看看。", chat=CADRE_CHAT)  # another cadre's chatter is left alone
    assert "我来看看" in (await bot.driver.messages(CADRE_CHAT))[-1].text
    plain = await li.send("下周一会派人去车间。", chat=CADRE_CHAT, reply_to=None)
    nudge = await li.last_bot_message(CADRE_CHAT)
    assert nudge.reply_to == plain.message_id
    assert case.code in nudge.text and "没有转交" in nudge.text
    assert buttons(nudge) == [f"✉️ 转交给 {case.code}", "不用，不是给会员的"]
    assert await _member_messages(bot) == ["member"]

    await zhao.press(f"✉️ 转交给 {case.code}", chat=CADRE_CHAT)
    assert "只有写这条消息的干部本人" in (await zhao.callback_answers())[-1].text
    await li.press(f"✉️ 转交给 {case.code}", chat=CADRE_CHAT)
    await delivered(bot)
    answer = await member.last_bot_message()
    assert (
        case.code in answer.text and "下周一会派人" in answer.text and "李干事" not in answer.text
    )
    assert await _member_messages(bot) == ["member", "union"]
    # A stale copy of the button passes nothing twice.
    await li.press_data(nudge.message_id, f"gvpass:{case.id}", chat=CADRE_CHAT)
    assert "已经转交过了" in (await li.last_bot_message(CADRE_CHAT)).text
    assert await _member_messages(bot) == ["member", "union"]

    # Only once per prompt: later chatter is the group's own.
    await li.send("好的。", chat=CADRE_CHAT, reply_to=None)
    assert "好的" in (await bot.driver.messages(CADRE_CHAT))[-1].text
    # Declining leaves it in the group.
    await li.press(REPLY, chat=CADRE_CHAT)
    await li.send("这条是内部备注。", chat=CADRE_CHAT, reply_to=None)
    await li.press("不用，不是给会员的", chat=CADRE_CHAT)
    assert "只留在群里" in (await li.last_bot_message(CADRE_CHAT)).text
    assert await _member_messages(bot) == ["member", "union"]


async def test_a_photo_after_an_answer_is_offered_too(world: World) -> None:
    bot, member = world.bot, world.member
    _, code = await _answered(world)
    bot.clock.advance(minutes=5)
    photo = await member.send_photo(PNG, caption="温度计读数")
    offer = await member.last_bot_message()
    assert code in offer.text and offer.reply_to == photo.message_id
    await member.press(f"✉️ 是的，补充到 {code}")
    await delivered(bot)
    relayed = [m for m in await bot.driver.messages(CADRE_CHAT) if m.media is not None][-1]
    assert relayed.media.kind == "photo" and code in (relayed.caption or "")
    assert "温度计读数" in (relayed.caption or "") and relayed.forwarded is False
