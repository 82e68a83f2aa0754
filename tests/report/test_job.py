"""The monthly report to the cadre group: on the first working day from 09:00, once."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from jobs import report as report_jobs
from storage.report import first_working_day
from tests.support.bot import BotHarness
from tests.support.chat import registered_cadre
from tests.support.clock import shanghai
from tests.support.config import CADRE_CHAT
from tests.support.outbox import delivered, outbox_rows
from tests.support.report import Case, add_cases


@given(st.integers(2000, 2100), st.integers(1, 12))
def test_the_first_working_day_is_the_first_weekday(year: int, month: int) -> None:
    day = first_working_day(year, month)
    assert day.weekday() < 5 and day.month == month
    assert all(
        (date(year, month, 1) + timedelta(days=n)).weekday() >= 5 for n in range(day.day - 1)
    )


async def test_the_report_reaches_the_cadre_group_once(bot: BotHarness) -> None:
    cadre = await registered_cadre(bot)
    await add_cases(
        bot, [Case("wages", "resolved", shanghai(2026, 10, 6), 2, 20) for _ in range(6)]
    )
    # 2026-11-01 is a Sunday: not then, and not on Monday before nine.
    bot.clock.now = shanghai(2026, 11, 1, 10)
    assert not await report_jobs.run(bot.runtime, bot.clock.now, bot.application)
    bot.clock.now = shanghai(2026, 11, 2, 8, 55)
    assert not await report_jobs.run(bot.runtime, bot.clock.now, bot.application)
    bot.clock.now = shanghai(2026, 11, 2, 9, 5)
    assert await report_jobs.run(bot.runtime, bot.clock.now, bot.application)
    assert not await report_jobs.run(bot.runtime, bot.clock.now, bot.application)  # twice: once
    bot.clock.now = shanghai(2026, 11, 2, 15)
    assert not await report_jobs.run(bot.runtime, bot.clock.now, bot.application)
    await delivered(bot)
    rows = [r for r in await outbox_rows(bot) if r.kind == "report"]
    assert [r.key for r in rows] == ["report:2026-10:text"]
    group = await bot.driver.messages(CADRE_CHAT)
    summaries = [m for m in group if "工会报告：2026-10" in (m.text or "")]
    assert len(summaries) == 1 and "本期新增诉求：6" in (summaries[0].text or "")
    assert len([m for m in group if m.media is not None and m.media.kind == "photo"]) == 2
    assert [m.media.file_name for m in group if m.media and m.media.kind == "document"] == [
        "union-report-2026-10.xlsx"
    ]
    assert cadre is not None
