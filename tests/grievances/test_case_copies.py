"""A card re-posted with /case is kept and redrawn like the card itself: taken, escalated,
resolved, reopened, it never keeps a button or a status that stopped being true."""

from __future__ import annotations

from sqlalchemy import select

from display import callbacks as cb
from display.grievances import LINE
from sandbox.driver_types import ChatMessage
from storage import privacy
from storage.db import transaction
from storage.models import GrievancePost
from tests.support.bot import BotHarness
from tests.support.chat import buttons, zh
from tests.support.config import CADRE_CHAT, SECRET
from tests.support.grievances import World, submit
from tests.support.outbox import delivered

TAKE = "✋ 接手"
ESCALATE = "⬆️ 上报"
INVITE = "回复本条消息即可答复会员"
ANSWER = "已转交财务核实，下周答复。"


async def _message(bot: BotHarness, chat: int, message_id: int) -> ChatMessage:
    (found,) = [m for m in await bot.driver.messages(chat) if m.message_id == message_id]
    return found


async def _copy(world: World, code: str, chat: int | None = CADRE_CHAT) -> ChatMessage:
    """/case <code> in ``chat`` (None: the cadre's own chat): the bot's answer to it."""
    asked = await world.cadre.send(f"/case {code}", chat=chat)
    await world.bot.driver.wait_idle()
    answers = [
        m
        for m in await world.bot.driver.messages(chat or world.cadre.id)
        if m.from_bot and m.message_id > asked.message_id
    ]
    assert len(answers) == 1 and code in (answers[0].text or "")
    return answers[0]


def _status(message: ChatMessage) -> str:
    assert message.text is not None
    (line,) = [line for line in message.text.splitlines() if line.startswith("状态：")]
    return line


async def test_a_case_copy_follows_every_change_of_the_case(world: World) -> None:
    bot, member, cadre = world.bot, world.member, world.cadre
    case = await submit(bot, member)
    (card,) = [m for m in await bot.driver.messages(CADRE_CHAT) if m.text and case.code in m.text]
    copy = await _copy(world, case.code)
    assert TAKE in buttons(copy) and INVITE in (copy.text or "")
    private = await _copy(world, case.code, chat=None)  # in the cadre's own chat
    assert buttons(private) == []
    async with bot.runtime.sessions() as session:
        kept = list(
            await session.scalars(select(GrievancePost).where(GrievancePost.role == "copy"))
        )
    assert sorted((p.chat_id, p.telegram_message_id) for p in kept) == sorted(
        [(CADRE_CHAT, copy.message_id), (cadre.id, private.message_id)]
    )

    # Taken on the card: the copy says so and offers ✋ no more.
    await cadre.press_data(card.message_id, cb.GRIEVANCE_TAKE.pack(case.id), chat=CADRE_CHAT)
    await delivered(bot)
    copy = await _message(bot, CADRE_CHAT, copy.message_id)
    print(copy.text, buttons(copy), sep="\n")
    assert TAKE not in buttons(copy) and ESCALATE in buttons(copy)
    assert _status(copy) == _status(await _message(bot, CADRE_CHAT, card.message_id))
    assert "已受理" in _status(copy) or zh("👤 Taken by a cadre") in _status(copy)

    # Answered under the card: the copy shows the new status and the answer in its thread.
    await cadre.send(ANSWER, chat=CADRE_CHAT, reply_to=card.message_id)
    await delivered(bot)
    copy = await _message(bot, CADRE_CHAT, copy.message_id)
    assert zh("💬 Answered") in _status(copy)
    assert (copy.text or "").count(LINE) == 3 and ANSWER in (copy.text or "")

    # Escalated from the copy itself: it stays a copy; the card loses ⬆️ too.
    await cadre.press_data(copy.message_id, cb.GRIEVANCE_ESCALATE.pack(case.id), chat=CADRE_CHAT)
    await delivered(bot)
    copy = await _message(bot, CADRE_CHAT, copy.message_id)
    assert ESCALATE not in buttons(copy) and ANSWER in (copy.text or "")  # still the copy
    assert ESCALATE not in buttons(await _message(bot, CADRE_CHAT, card.message_id))

    # Resolved: no buttons to act, no invitation to reply, in the group and in private.
    await cadre.press_data(card.message_id, cb.GRIEVANCE_RESOLVE.pack(case.id), chat=CADRE_CHAT)
    await cadre.press_data(
        card.message_id, cb.GRIEVANCE_RESOLVE_CONFIRM.pack(case.id), chat=CADRE_CHAT
    )
    await delivered(bot)
    copy = await _message(bot, CADRE_CHAT, copy.message_id)
    private = await _message(bot, cadre.id, private.message_id)
    for shown in (copy, private):
        print(shown.text, buttons(shown), sep="\n")
        assert INVITE not in (shown.text or "")
        assert "此诉求已办结，不再接收回复" in (shown.text or "")
        assert zh("✅ Resolved") in _status(shown)
    assert not {TAKE, ESCALATE, "✅ 办结"} & set(buttons(copy))
    assert buttons(private) == []

    # Reopened by the member: waiting to be taken again, on the copy as on the card.
    bot.clock.advance(days=2)
    await member.send("📂 我的诉求")
    await member.press(f"{case.code} · 💰 工资 · ✅ 已办结")
    await member.press("🔄 重新打开诉求")
    await member.send("空调还是没修好。")
    await delivered(bot)
    copy = await _message(bot, CADRE_CHAT, copy.message_id)
    private = await _message(bot, cadre.id, private.message_id)
    assert TAKE in buttons(copy) and INVITE in (copy.text or "")
    assert zh("🔔 New, waiting to be taken") in _status(copy)
    assert zh("🔔 New, waiting to be taken") in _status(private) and buttons(private) == []

    # The cadre leaves (/forget): their own copy is no longer kept; the group's is.
    async with transaction(bot.runtime.sessions) as session:
        assert await privacy.forget_member(session, cadre.id, SECRET, bot.clock.now) is not None
    async with bot.runtime.sessions() as session:
        chats = list(
            await session.scalars(select(GrievancePost.chat_id).where(GrievancePost.role == "copy"))
        )
    assert chats == [CADRE_CHAT]
