"""Member additions to a case are limited per hour, with a clear answer past the limit.

The bot here allows 3 additions an hour (GRIEVANCE_ADDITIONS_PER_HOUR, 20 by
default), so the test stays short; the rule itself is tested in test_rules.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.bot import fresh_bot
from tests.support.config import CADRE_CHAT
from tests.support.grievances import World, submit
from tests.support.outbox import delivered

LIMIT = 3


@pytest.fixture
async def bot(database_url: str) -> AsyncIterator[Any]:
    async with fresh_bot(database_url, grievance_additions_per_hour=LIMIT) as harness:
        yield harness


async def _relayed(world: World, text: str) -> bool:
    return any(text in (m.text or "") for m in await world.bot.driver.messages(CADRE_CHAT))


async def test_additions_past_the_hourly_limit_are_refused_clearly(world: World) -> None:
    bot, member, cadre = world.bot, world.member, world.cadre
    case = await submit(bot, member)
    await cadre.press("💬 答复", chat=CADRE_CHAT)
    await cadre.send("请问是哪台空调？", chat=CADRE_CHAT)
    await delivered(bot)
    answer = await member.last_bot_message()
    bot.clock.advance(minutes=1)

    for n in range(1, LIMIT + 1):
        await member.send(f"补充第{n}条", reply_to=answer.message_id)
        bot.clock.advance(minutes=1)
    await delivered(bot)
    assert all([await _relayed(world, f"补充第{n}条") for n in range(1, LIMIT + 1)])

    # Now 10:04 local time; the first addition was at 10:01, so the next is allowed at 11:01.
    await member.send("补充第4条", reply_to=answer.message_id)
    refusal = await member.last_bot_message()
    assert case.code in refusal.text and f"{LIMIT} 条" in refusal.text
    assert "11:01" in refusal.text and "没有转交" in refusal.text
    # The offer path is limited the same way.
    await member.send("补充第5条")
    await member.press(f"✉️ 是的，补充到 {case.code}")
    assert "没有转交" in (await member.last_bot_message()).text
    await delivered(bot)
    assert not await _relayed(world, "补充第4条") and not await _relayed(world, "补充第5条")

    bot.clock.advance(hours=1)
    await member.send("补充第6条", reply_to=answer.message_id)
    await delivered(bot)
    assert await _relayed(world, "补充第6条")
