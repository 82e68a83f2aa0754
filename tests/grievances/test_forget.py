"""/forget as an attacker with the key would check it: nothing still leads to the member."""

from __future__ import annotations

from sqlalchemy import or_, select

from notices.grievances import sealer
from storage import grievances as service
from storage import outbox
from storage.db import transaction
from storage.models import Member, Outbox
from tests.support.config import CADRE_CHAT
from tests.support.grievances import World, cases, submit
from tests.support.outbox import delivered


async def test_forget_unlinks_cases_and_clears_every_outbox_row(world: World) -> None:
    bot, member, cadre = world.bot, world.member, world.cadre
    case = await submit(bot, member)
    card = next(m for m in await bot.driver.messages(CADRE_CHAT) if m.text and case.code in m.text)
    await cadre.press_data(card.message_id, f"gvtake:{case.id}", chat=CADRE_CHAT)
    await delivered(bot)
    async with transaction(bot.runtime.sessions) as session:
        row = await session.scalar(select(Member).where(Member.telegram_id == member.id))
        assert row is not None
        member_id = row.id
        # Something still queued for them (a broadcast, say) when they leave.
        await outbox.enqueue(
            session,
            key="test:queued",
            kind="broadcast",
            chat_id=member.id,
            member_id=member_id,
            payload=outbox.payload("sendMessage", text="通知"),
            not_before=bot.clock.now.replace(year=bot.clock.now.year + 1),
            now=bot.clock.now,
        )
        assert await service.cases_of(session, sealer(bot.runtime), member_id)

    await member.send("/forget")
    await member.press("是的，删除我的数据")

    async with bot.runtime.sessions() as session:
        # Even with the key, the case no longer opens to them.
        assert await service.cases_of(session, sealer(bot.runtime), member_id) == []
        rows = list(
            await session.scalars(
                select(Outbox).where(
                    or_(Outbox.chat_id == member.id, Outbox.member_id == member_id)
                )
            )
        )
        queued = await session.scalar(select(Outbox).where(Outbox.key == "test:queued"))
    assert rows == []
    assert queued is not None and queued.status == "cancelled" and queued.payload is None
    (kept,) = await cases(bot)
    assert kept.link is None and kept.link_destroyed_at is not None
    assert kept.code == case.code  # the case itself stays for the statistics
