"""Daily limit set by admins, /cases and /case, the audit log, statistics, retention."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from jobs import grievances as jobs
from notices.grievances import sealer
from storage import grievances as service
from storage.db import transaction
from storage.grievance_rules import Urgency
from storage.models import Role
from tests.support.chat import register
from tests.support.config import ADMIN_ID, CADRE_CHAT, make_runtime
from tests.support.grievances import World, cases, submit, tick
from tests.support.members import new_member
from tests.support.outbox import outbox_rows


async def test_daily_limit_set_by_an_admin(world: World) -> None:
    bot, member = world.bot, world.member
    admin = await bot.driver.user(ADMIN_ID)
    await register(bot, admin, "周主席", "工会办公室")
    await admin.send("/grievance_settings")
    await admin.press("🔢 每日限额")
    await admin.send("很多")
    assert "1 到 50" in (await admin.last_bot_message()).text
    await admin.send("1")
    assert "每天可提交新诉求：1 件" in (await admin.last_bot_message()).text
    await submit(bot, member)
    await member.send("📝 提交诉求")
    assert "上限" in (await member.last_bot_message()).text
    bot.clock.advance(days=1)
    await member.send("📝 提交诉求")
    assert "哪方面" in (await member.last_bot_message()).text


async def test_cases_case_and_audit(world: World) -> None:
    bot, member, cadre = world.bot, world.member, world.cadre
    first = await submit(bot, member)
    second = await submit(bot, member, "安全帽不够。", category="⛑ 安全", urgency=None)
    await cadre.send("/cases", chat=CADRE_CHAT)
    listing = await cadre.last_bot_message(chat=CADRE_CHAT)
    assert listing.text.index(first.code) < listing.text.index(second.code)
    await cadre.send(f"/case {second.code.lower()}", chat=CADRE_CHAT)
    shown = await cadre.last_bot_message(chat=CADRE_CHAT)
    assert "安全帽" in shown.text and "🔴 紧急" in shown.text
    await cadre.press("✋ 接手", chat=CADRE_CHAT)
    admin = await bot.driver.user(ADMIN_ID)
    await register(bot, admin, "周主席", "工会办公室")
    await admin.send("/grievance_audit")
    log = await admin.last_bot_message()
    assert "李干事" in log.text and second.code in log.text and "韩梅梅" not in log.text
    await member.send("/cases")
    assert "只有工会干部" in (await member.last_bot_message()).text


async def test_stats_hide_small_department_slices_and_retention_destroys_links(
    world: World,
) -> None:
    bot = world.bot
    keys = sealer(bot.runtime)
    now = bot.clock.now
    async with transaction(bot.runtime.sessions) as session:
        categories = await service.list_categories(session)
        big = new_member(1, name="甲")
        session.add(big)
        await session.flush()
        await session.refresh(big, ["department"])
        for index in range(7):
            case = await service.create_case(
                session, keys, member=big, category=categories[index % 2],
                urgency=Urgency.NORMAL, text=f"问题{index}", text_ref=None, attachments=[],
                route_chat_id=None, now=now,
            )  # fmt: skip
            if index < 2:
                service.finish(case, service.Status.RESOLVED, now)
                service.rate(keys, case, 5 - index, now)
        # A month later: department tables cover finished months only.
        later = now + timedelta(days=31)
        stats = await service.stats(
            session, keys, bot.settings.tz, now=later, no_department="无部门"
        )
        during = await service.stats(
            session, keys, bot.settings.tz, now=now, no_department="无部门"
        )
    assert stats.total == 7 and stats.satisfaction == 4.5
    assert during.by_department == []  # the month under way is never split by department
    (month,) = stats.by_department
    assert "无部门" in month.departments
    shown = [n for row in month.table.cells for n in row if n is not None]
    assert all(n >= 5 for n in shown)  # 4 and 3 in the two categories: hidden
    bot.clock.advance(days=91)
    report = await tick(bot)
    assert report.forgotten == 2
    rows = await cases(bot)
    assert sum(1 for c in rows if c.link is None) == 2
    async with bot.runtime.sessions() as session:
        assert len(await service.cases_of(session, keys, big.id)) == 5


async def test_cases_waiting_for_a_group_alert_the_admins_once_a_day(engine: AsyncEngine) -> None:
    runtime = make_runtime(engine, cadre_chat_id=None, escalation_chat_id=None)
    keys = sealer(runtime)
    now = runtime.now()
    async with transaction(runtime.sessions) as session:
        session.add(new_member(ADMIN_ID, name="管理员", role=Role.ADMIN))
        author = new_member(1, name="甲")
        session.add(author)
        await session.flush()
        await session.refresh(author, ["department"])
        (category, *_) = await service.list_categories(session)
        codes = []
        for n in range(3):
            case = await service.create_case(
                session, keys, member=author, category=category,
                urgency=Urgency.NORMAL, text=f"问题{n}", text_ref=None, attachments=[],
                route_chat_id=None, now=now,
            )  # fmt: skip
            codes.append(case.code)
    assert await jobs.post_waiting(runtime, now) == 0
    assert await jobs.post_waiting(runtime, now + timedelta(minutes=1)) == 0
    alerts = [r for r in await outbox_rows(runtime.sessions) if r.key.startswith("ga:nogroup:")]
    assert [r.chat_id for r in alerts] == [ADMIN_ID]  # one, for the day, naming the first case
    assert alerts[0].payload is not None and codes[0] in alerts[0].payload["params"]["text"]
    assert await jobs.post_waiting(runtime, now + timedelta(days=1)) == 0
    alerts = [r for r in await outbox_rows(runtime.sessions) if r.key.startswith("ga:nogroup:")]
    assert len(alerts) == 2  # and one the next day while they still wait
