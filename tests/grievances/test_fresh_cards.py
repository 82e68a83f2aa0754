"""Cards that stop being true are redrawn: no ⬆️ on an escalated card, no reply invitation once finished.

Every card of the case is checked, in the cadre group and upstairs, after the
delivery worker has sent everything (a card still in the outbox when the case
changes must not land stale either).
"""

from __future__ import annotations

from sandbox.driver_types import ChatMessage
from tests.support.bot import BotHarness
from tests.support.chat import buttons
from tests.support.config import CADRE_CHAT, ESCALATION_CHAT
from tests.support.grievances import World, submit, tick
from tests.support.outbox import delivered

ESCALATE = "⬆️ 上报"
INVITE = "回复本条消息即可答复会员"


async def _cards(bot: BotHarness, code: str) -> list[ChatMessage]:
    found = []
    for chat in (CADRE_CHAT, ESCALATION_CHAT):
        found += [
            m
            for m in await bot.driver.messages(chat)
            if m.text and code in m.text and "📝" in m.text
        ]
    assert found, f"no card of {code}"
    return found


async def test_an_escalated_card_has_no_escalate_button_anywhere(world: World) -> None:
    bot, member, cadre = world.bot, world.member, world.cadre
    case = await submit(bot, member)
    await cadre.press(ESCALATE, chat=CADRE_CHAT)
    await delivered(bot)
    cards = await _cards(bot, case.code)
    assert len(cards) == 2  # the group's and the one upstairs
    for card in cards:
        assert ESCALATE not in buttons(card), card.text
        assert "已上报" in card.text and INVITE in card.text  # still open: replies welcome


async def test_a_card_escalated_by_the_clock_loses_the_button(world: World) -> None:
    bot, member = world.bot, world.member
    case = await submit(bot, member)
    bot.clock.advance(hours=25)  # wages: 24 h to take
    assert (await tick(bot)).escalated == 1
    for card in await _cards(bot, case.code):
        assert ESCALATE not in buttons(card), card.text


async def test_a_resolved_card_no_longer_invites_a_reply(world: World) -> None:
    bot, member, cadre = world.bot, world.member, world.cadre
    case = await submit(bot, member)
    await cadre.press(ESCALATE, chat=CADRE_CHAT)
    await delivered(bot)
    await cadre.press("✋ 接手", chat=CADRE_CHAT)
    await cadre.press("✅ 办结", chat=CADRE_CHAT)
    await cadre.press("✅ 确认办结", chat=CADRE_CHAT)
    await delivered(bot)
    cards = await _cards(bot, case.code)
    assert len(cards) == 2
    for card in cards:
        print(card.text)
        assert INVITE not in card.text
        assert "此诉求已办结，不再接收回复" in card.text
        assert ESCALATE not in buttons(card)


async def test_a_card_closed_by_the_member_says_so(world: World) -> None:
    bot, member = world.bot, world.member
    case = await submit(bot, member)
    await member.send("📂 我的诉求")
    await member.press(f"{case.code} · 💰 工资 · 🔔 新诉求，待接手")
    await member.press("🔒 关闭诉求")
    await member.press("🔒 确认关闭")
    await delivered(bot)
    for card in await _cards(bot, case.code):
        assert INVITE not in card.text and "会员已关闭此诉求" in card.text
