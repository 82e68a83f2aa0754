"""The monthly report to the cadre group: on China's first working day from 09:00, once,
summary then charts then workbook, all through the outbox (retried, never lost)."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from jobs import report as report_jobs
from jobs.delivery import stop_delivery
from storage.db import make_engine, make_session_factory
from storage.report import first_working_day, scheduled_period
from tests.support.bot import BotHarness
from tests.support.chat import registered_cadre
from tests.support.clock import shanghai
from tests.support.dumps import steal
from tests.support.outbox import delivered, outbox_rows, quick_delivery
from tests.support.report import Case, add_cases, outbox_files, scheduled_report

SHANGHAI = ZoneInfo("Asia/Shanghai")
KEYS = [
    "report:2026-10:chart:categories",
    "report:2026-10:chart:satisfaction",
    "report:2026-10:text",
    "report:2026-10:xlsx",
]


@pytest.mark.parametrize(
    ("year", "month", "first"),
    [
        (2026, 12, date(2026, 12, 1)),  # a plain Tuesday
        (2026, 11, date(2026, 11, 2)),  # the 1st a Sunday: Monday
        (2026, 10, date(2026, 10, 8)),  # 国庆节 1–7 October: Thursday the 8th
        (2025, 10, date(2025, 10, 9)),  # 国庆节 and 中秋节 together, 1–8 October
        (2025, 5, date(2025, 5, 6)),  # 劳动节 1–5 May
        (2025, 2, date(2025, 2, 5)),  # 春节 until 4 February
        (2026, 1, date(2026, 1, 4)),  # 元旦 1–3 January, then Sunday the 4th is worked (调休)
    ],
)
def test_the_first_working_day_follows_chinas_calendar(year: int, month: int, first: date) -> None:
    assert first_working_day(year, month) == first


@given(st.integers(2000, 2100), st.integers(1, 12))
def test_the_first_working_day_is_no_holiday_and_none_before_it_is_worked(
    year: int, month: int
) -> None:
    calendar = holidays.country_holidays("CN", years=year)
    day = first_working_day(year, month)
    assert day.month == month and day not in calendar
    assert day.weekday() < 5 or day in calendar.weekend_workdays
    earlier = [date(year, month, 1) + timedelta(days=n) for n in range(day.day - 1)]
    assert all(
        d in calendar or (d.weekday() >= 5 and d not in calendar.weekend_workdays) for d in earlier
    )


def test_octobers_report_waits_for_the_end_of_the_national_day_week() -> None:
    for day in range(1, 8):
        assert scheduled_period(shanghai(2026, 10, day, 10), SHANGHAI) is None
    assert scheduled_period(shanghai(2026, 10, 8, 8, 59), SHANGHAI) is None
    period = scheduled_period(shanghai(2026, 10, 8, 9), SHANGHAI)
    assert period is not None and period.month == "2026-09"
    # An adjusted working Sunday is the day: 2026-01-04, for December.
    period = scheduled_period(shanghai(2026, 1, 4, 9, 30), SHANGHAI)
    assert period is not None and period.month == "2025-12"


async def _seed(bot: BotHarness) -> None:
    await registered_cadre(bot)
    await add_cases(
        bot, [Case("wages", "resolved", shanghai(2026, 10, 6), 2, 20) for _ in range(6)]
    )


async def _arrived_once_in_order(bot: BotHarness) -> None:
    """Summary, two charts, the workbook: each once, in that order, and no bytes left."""
    parts = await scheduled_report(bot)
    assert [kind for kind, _ in parts] == ["text", "photo", "photo", "document"]
    summary = parts[0][1].text or ""
    assert "工会报告：2026-10" in summary and "本期新增诉求：6" in summary
    document = parts[-1][1].media
    assert document is not None and document.file_name == "union-report-2026-10.xlsx"
    book = load_workbook(io.BytesIO(await bot.driver.download(document.url)))
    assert book.sheetnames == ["参与", "诉求", "满意度", "投票", "服务手册"]
    opened = [row for row in book["诉求"].iter_rows(values_only=True) if row[0] == "本期新增诉求"]
    assert [row[1] for row in opened] == [6]
    for _, message in parts[1:3]:
        assert message.media is not None and message.media.size > 1000
        png = await bot.driver.download(message.media.url)
        assert png.startswith(b"\x89PNG")
    rows = [r for r in await outbox_rows(bot) if r.kind == "report"]
    assert [r.key for r in rows] == KEYS
    assert {r.status for r in rows} == {"sent"}
    assert await outbox_files(bot) == []


async def test_the_report_reaches_the_cadre_group_once(bot: BotHarness) -> None:
    await _seed(bot)
    # 2026-11-01 is a Sunday: not then, and not on Monday before nine.
    bot.clock.now = shanghai(2026, 11, 1, 10)
    assert not await report_jobs.run(bot.runtime, bot.clock.now, bot.application)
    bot.clock.now = shanghai(2026, 11, 2, 8, 55)
    assert not await report_jobs.run(bot.runtime, bot.clock.now, bot.application)
    bot.clock.now = shanghai(2026, 11, 2, 9, 5)
    # Two instances at once, then a third run: one of them enqueues it.
    won = await asyncio.gather(
        report_jobs.run(bot.runtime, bot.clock.now, bot.application),
        report_jobs.run(bot.runtime, bot.clock.now, bot.application),
    )
    assert sorted(won) == [False, True]
    assert not await report_jobs.run(bot.runtime, bot.clock.now, bot.application)
    bot.clock.now = shanghai(2026, 11, 2, 15)
    assert not await report_jobs.run(bot.runtime, bot.clock.now, bot.application)
    await delivered(bot)
    await _arrived_once_in_order(bot)


async def test_two_instances_finding_it_due_draw_it_once(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the run holds an advisory lock from the check to the enqueue: the
    instance that finds it held leaves the report, instead of drawing it for nothing."""
    if bot.runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one instance")
    await _seed(bot)
    drawn: list[object] = []
    real = report_jobs.show.files

    async def counted(t: Any, built: Any) -> Any:
        drawn.append(built)
        return await real(t, built)

    monkeypatch.setattr(report_jobs.show, "files", counted)
    other = dataclasses.replace(bot.runtime, engine=make_engine(bot.settings.database_url))
    other.sessions = make_session_factory(other.engine)
    bot.clock.now = shanghai(2026, 11, 2, 9, 5)
    try:
        won = await asyncio.gather(
            report_jobs.run(bot.runtime, bot.clock.now, bot.application),
            report_jobs.run(other, bot.clock.now, None),
        )
    finally:
        await other.engine.dispose()
    assert sorted(won) == [False, True] and len(drawn) == 1
    await delivered(bot)
    await _arrived_once_in_order(bot)


@pytest.mark.parametrize("status", [429, 502])
async def test_a_refused_upload_is_retried_and_arrives_once(bot: BotHarness, status: int) -> None:
    await _seed(bot)
    await quick_delivery(bot)
    retry_after = 1 if status == 429 else None
    await bot.driver.fail_next("sendPhoto", status=status, retry_after=retry_after)
    await bot.driver.fail_next("sendDocument", status=status, retry_after=retry_after)
    bot.clock.now = shanghai(2026, 11, 2, 9, 5)
    assert await report_jobs.run(bot.runtime, bot.clock.now, bot.application)
    await delivered(bot)
    # The first photo was refused: nothing of the report overtook it.
    assert [kind for kind, _ in await scheduled_report(bot)] == ["text"]
    for _ in range(4):  # each refusal costs one wait; the rows are due again later
        bot.clock.now += timedelta(minutes=5)
        await delivered(bot)
    await _arrived_once_in_order(bot)
    rows = {r.key: r for r in await outbox_rows(bot)}
    assert rows["report:2026-10:chart:categories"].attempts == 2
    assert rows["report:2026-10:xlsx"].attempts == 2


async def test_killed_after_the_commit_the_worker_sends_everything(
    bot: BotHarness, tmp_path: Path
) -> None:
    await _seed(bot)
    await stop_delivery(bot.application)  # the instance dies right after the commit
    bot.clock.now = shanghai(2026, 11, 2, 9, 5)
    assert await report_jobs.run(bot.runtime, bot.clock.now, None)
    assert await scheduled_report(bot) == []
    assert {r.status for r in await outbox_rows(bot) if r.kind == "report"} == {"pending"}
    files = {f.name: bytes(f.content) for f in await outbox_files(bot)}
    assert sorted(files) == ["categories.png", "satisfaction.png", "union-report-2026-10.xlsx"]
    await quick_delivery(bot)  # a fresh instance
    await delivered(bot)
    await _arrived_once_in_order(bot)
    # Stolen now, the database holds none of the files it sent.
    blob, tables = await steal(bot, tmp_path)
    assert tables["outbox_files"] == []
    for content in files.values():
        sample = content[len(content) // 2 : len(content) // 2 + 64]
        assert sample not in blob and sample.hex() not in blob.decode("latin-1")
