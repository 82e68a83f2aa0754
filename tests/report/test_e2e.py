"""/report through the sandbox on seeded data: the numbers are the data's, small slices hidden."""

from __future__ import annotations

import io
import statistics
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import update

from storage.db import transaction
from storage.models import Member, PulseMonth, Role
from tests.support.bot import BotHarness
from tests.support.chat import registered, registered_cadre
from tests.support.clock import shanghai
from tests.support.config import CADRE_CHAT
from tests.support.members import add_members, set_role
from tests.support.pulse import seed_answers
from tests.support.report import (
    Case,
    add_activity_with_signups,
    add_cases,
    add_poll,
    add_searches,
    add_training_with_ratings,
)


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[-(-9 * len(ordered) // 10) - 1]


async def _seed(bot: BotHarness) -> dict[str, float]:
    november = shanghai(2026, 11, 3, 9)
    # Resolved (or closed) later than first answered: the report's resolve time is the former.
    cases = [
        Case(
            "wages",
            "resolved",
            november + timedelta(days=n),
            n + 1,
            10 * (n + 1),
            4 + n % 2,
            finish_hours=12 * (n + 1) + 5,
        )
        for n in range(6)
    ]
    cases += [
        Case("wages", "closed", november + timedelta(days=n), 2, 30, finish_hours=48)
        for n in range(5)
    ]
    cases += [Case("wages", "new", november, take_breached=True)]  # a single one: hidden
    cases += [Case("workload", "taken", november, 3) for _ in range(2)]
    cases += [Case("wages", "resolved", shanghai(2026, 10, 5), 1, 5) for _ in range(3)]
    await add_cases(bot, cases)
    people = await add_members(bot.runtime.sessions, 10)
    await add_activity_with_signups(bot, shanghai(2026, 11, 20, 14), people, 7, stars=4)
    november_stars = [5, 4, 4, 5, 3, 4]
    await add_training_with_ratings(bot, shanghai(2026, 11, 12, 14), people[:8], november_stars)
    await add_training_with_ratings(bot, shanghai(2026, 10, 15, 14), people[:3], [1, 1, 1])
    # Pulse: November's five answers have a mean (4.0).
    async with transaction(bot.runtime.sessions) as session:
        pulse_month = PulseMonth(
            month="2026-11",
            sent_at=shanghai(2026, 11, 2, 10),
            closes_at=shanghai(2026, 12, 1),
            recipients=10,
        )
        session.add(pulse_month)
    await seed_answers(bot, pulse_month.id, [5, 4, 4, 3, 4], first=people[0])
    # Polls: November's two count, 9 ballots of 12 recipients; October's does not.
    await add_poll(bot, shanghai(2026, 11, 5, 9), 8, 6)
    await add_poll(bot, shanghai(2026, 11, 25, 9), 4, 3)
    await add_poll(bot, shanghai(2026, 10, 5, 9), 10, 10)
    # Handbook: November's searches count; October's and December's do not.
    await add_searches(bot, date(2026, 11, 1), 40, 30, {"年假": 7, "加班费怎么算": 2})
    await add_searches(bot, date(2026, 10, 1), 9, 1, {"年假": 8})
    await add_searches(bot, date(2026, 12, 1), 5, 0, {"婚假": 5})
    async with transaction(bot.runtime.sessions) as session:
        await session.execute(update(Member).values(created_at=shanghai(2026, 11, 10)))
    november_cases = cases[:14]
    take = [c.take_hours for c in november_cases if c.take_hours]
    resolve = [c.finish_hours for c in november_cases if c.finish_hours]
    return {
        "take_median": statistics.median(take),
        "take_p90": _p90(take),
        "resolve_median": statistics.median(resolve),
        "resolve_p90": _p90(resolve),
        "training_mean": round(statistics.mean(november_stars), 2),
    }


def _rows(sheet: object) -> dict[str, list[object]]:
    found = {}
    for row in sheet.iter_rows(values_only=True):  # type: ignore[attr-defined]
        values = list(row)
        while values and values[-1] is None:
            values.pop()
        if values:
            found[str(values[0])] = values[1:]
    return found


async def test_a_report_on_seeded_data(bot: BotHarness) -> None:
    bot.clock.now = shanghai(2026, 12, 2, 10)
    admin = await registered(bot, "管理员", "工会办公室")
    await set_role(bot, admin, Role.ADMIN)
    cadre = await registered_cadre(bot)
    member = await registered(bot, "王小明", "装配车间")
    expected = await _seed(bot)

    # Members are refused; in the cadre group, the report is for the private chat.
    await member.send("/report")
    assert "只有工会干部" in (await member.last_bot_message()).text
    await cadre.send("/report", chat=CADRE_CHAT)
    assert "私聊" in (await cadre.last_bot_message(CADRE_CHAT)).text

    await cadre.send("/report 2026-13")
    assert "2026-11" in (await cadre.last_bot_message()).text  # the example of a good one

    await cadre.send("/report")  # last month by default
    sent = await cadre.bot_messages()
    summary = next(m for m in sent if "工会报告：2026-11" in (m.text or ""))
    text = summary.text or ""
    assert "会员：13（新增 13）" in text  # ten seeded and the three who registered
    assert "活跃会员：10" in text
    assert "活动报名：10，签到：7（70%）" in text
    assert "本期新增诉求：14" in text
    assert f"中位数 {expected['take_median']:g} 小时" in text
    assert f"解决用时：中位数 {expected['resolve_median']:g} 小时" in text
    assert f"{expected['resolve_p90']:g} 小时" in text
    assert "接手超时 1 件" in text
    assert "4.50" in text  # the six ratings
    assert "年假：7" in text and "加班费怎么算" not in text  # searched twice: not shown
    assert "婚假" not in text  # December's
    assert "发起投票：2，投票：12 人中 9 人（75%）" in text
    assert "搜索：40，有结果：30（75%）" in text
    assert "无结果的搜索：10" in text
    assert "按整月" not in text  # a whole month: nothing to explain
    # Enrolled in November: the eight of November's course (October's three before it).
    assert "培训报名：8，培训学时：12" in text  # six attended two hours
    # Satisfaction: November's six training ratings have a mean; October's three do not.
    assert "月度满意度调查：最近 4.00 ⭐（2026-11）" in text
    assert "诉求评分：最近 4.50 ⭐（2026-11）" in text
    assert "活动评分：最近 4.00 ⭐（2026-11）" in text
    assert f"培训评分：最近 {expected['training_mean']:.2f} ⭐（2026-11）" in text
    # The one new wages case is a slice of one: nowhere to be seen; workload's two neither.
    wages = next(line for line in text.splitlines() if "工资" in line)
    assert "1" not in wages.split("（", 1)[1]
    workload = next(line for line in text.splitlines() if "工作量" in line)
    assert "2" not in workload.split("（", 1)[1]
    photos = [m for m in sent if m.media is not None and m.media.kind == "photo"]
    assert len(photos) == 2
    document = sent[-1]
    assert document.media is not None and document.media.file_name == "union-report-2026-11.xlsx"
    book = load_workbook(io.BytesIO(await bot.driver.download(document.media.url)))
    assert book.sheetnames == ["参与", "诉求", "满意度", "投票", "服务手册"]
    participation = _rows(book["参与"])
    assert participation["会员"] == [13]
    assert participation["活跃会员"] == [10]
    assert participation["签到率"] == [0.7]
    grievances = _rows(book["诉求"])
    assert grievances["本期新增诉求"] == [14]
    assert grievances["受理用时中位数（小时）"] == [expected["take_median"]]
    assert grievances["解决用时中位数（小时）"] == [expected["resolve_median"]]
    assert grievances["解决用时第 90 百分位（小时）"] == [expected["resolve_p90"]]
    assert 1 not in grievances["💰 工资"][1:] and 2 not in grievances["⏱ 工作量"][1:]
    assert grievances["💰 工资"][0] == 12 and grievances["⏱ 工作量"][0] == 2
    assert _rows(book["投票"]) == {
        "指标": ["数值"],
        "发起的投票": [2],
        "收到投票的人数": [12],
        "投票数": [9],
        "投票率": [0.75],
    }
    assert _rows(book["服务手册"]) == {
        "指标": ["数值"],
        "统计月份": ["2026-11"],
        "搜索": [40],
        "有结果": [30],
        "有结果占比": [0.75],
        "无结果": [10],
        "无结果的搜索": ["次数"],
        "年假": [7],
    }
    satisfaction = _rows(book["满意度"])
    assert satisfaction["月份"] == ["月度满意度调查", "诉求评分", "活动评分", "培训评分"]
    assert satisfaction["2026-11"] == [4, 4.5, 4, expected["training_mean"]]
    assert satisfaction["2026-10"][3] == "—"  # three ratings: no mean

    # A range of whole months adds them up: 年假 searched 7 + 8 times.
    await cadre.send("/report 2026-10-01 2026-11-30")
    text = next(
        m.text for m in reversed(await cadre.bot_messages()) if "工会报告" in (m.text or "")
    )
    assert "搜索：49，有结果：31（63%）" in text and "年假：15" in text
    assert "按整月统计" not in text
    # Not whole months: only the whole ones inside count, and the report says so.
    await cadre.send("/report 2026-10-15 2026-11-30")
    text = next(
        m.text for m in reversed(await cadre.bot_messages()) if "工会报告" in (m.text or "")
    )
    assert "按整月统计：以下为 2026-11 的数字" in text and "搜索：40，" in text
    await cadre.send("/report 2026-11-02 2026-11-30")
    text = next(
        m.text for m in reversed(await cadre.bot_messages()) if "工会报告" in (m.text or "")
    )
    assert "本期不含完整的月份" in text and "搜索：" not in text and "年假" not in text

    # ‹ goes to October: three cases there, too few for a median.
    await cadre.press("‹ 2026-10")
    october = next(
        m for m in reversed(await cadre.bot_messages()) if "工会报告：2026-10" in (m.text or "")
    )
    assert "本期新增诉求：3" in (october.text or "")
