"""Grievances for tests: the `World` of a member and a cadre, a case submitted through the chat."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from jobs import grievances as jobs
from sandbox.driver import SandboxUser
from storage.models import Grievance
from tests.support.bot import BotHarness
from tests.support.chat import registered, registered_cadre
from tests.support.outbox import delivered, quick_delivery


@dataclass
class World:
    """A bot with quick delivery, a registered member (韩梅梅) and a cadre (李干事) in the group."""

    bot: BotHarness
    member: SandboxUser
    cadre: SandboxUser


async def make_world(bot: BotHarness) -> World:
    await quick_delivery(bot)
    member = await registered(
        bot, "韩梅梅", "装配车间", first_name="Mei", last_name="Han", username="hanmeimei"
    )
    return World(bot, member, await registered_cadre(bot))


async def cases(bot: BotHarness) -> list[Grievance]:
    async with bot.runtime.sessions() as session:
        return list(await session.scalars(select(Grievance).order_by(Grievance.id)))


async def submit(
    bot: BotHarness,
    user: SandboxUser,
    text: str = "车间空调坏了一个月，温度超过三十五度。",
    *,
    category: str = "💰 工资",
    urgency: str | None = "🟢 普通",
    files: list[tuple[str, bytes, str]] | None = None,
) -> Grievance:
    """Through the chat, anonymously; the case once what it sent is delivered."""
    await user.send("📝 提交诉求")
    await user.send(category)
    if urgency is not None:
        await user.send(urgency)
    await user.send(text)
    for kind, data, name in files or []:
        if kind == "photo":
            await user.send_photo(data, caption=name)
        elif kind == "voice":
            await user.send_voice(data)
        else:
            await user.send_document(data, name)
    await user.send("✅ 添加完毕")
    await user.send("✅ 匿名发送")
    await delivered(bot)
    return (await cases(bot))[-1]


async def tick(bot: BotHarness) -> jobs.TickReport:
    """Run the grievance job now, as the JobQueue would, then wait for what it sent."""
    await delivered(bot)
    report = await jobs.tick(bot.runtime, bot.clock.now, bot.application)
    await delivered(bot)
    return report
