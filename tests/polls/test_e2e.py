"""Polls end to end: a real bot against the sandbox, driven like admins and members."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from display import callbacks as cb
from jobs import polls as poll_jobs
from storage.models import Poll, Role
from tests.support.bot import BotHarness
from tests.support.chat import (
    buttons,
    newest,
    registered,
    registered_admin,
    wait_message,
    zh,
)
from tests.support.members import set_role
from tests.support.polls import create_poll, latest_poll, tally


async def test_create_publish_vote_and_change(bot: BotHarness) -> None:
    chair = await registered_admin(bot)
    wang = await registered(bot, "王小明")
    li = await registered(bot, "李雷", "质检科")
    await create_poll(chair, "食堂午餐最想增加什么？", ["川菜", "粤菜", "面食"])
    published = await chair.bot_messages()
    assert any("正在发送给 3 名会员" in (m.text or "") for m in published)
    message = await wait_message(bot, wang, "🗳")
    assert "食堂午餐最想增加什么？" in message.text and "单选" in message.text
    assert [row[0].text for row in message.buttons] == ["川菜", "粤菜", "面食"]
    await wang.press("川菜")
    edited = await wang.last_bot_message()
    assert "✅ 您的选择：川菜" in edited.text
    assert edited.buttons[0][0].text == "✅ 川菜"
    await wang.press("粤菜")
    edited = await wang.last_bot_message()
    assert "✅ 您的选择：粤菜" in edited.text and edited.buttons[0][0].text == "川菜"
    await wait_message(bot, li, "🗳")
    await li.press("粤菜")
    view = await latest_poll(bot)
    result = await tally(bot, view)
    assert result.counts == (0, 2, 0) and result.voters == 2


async def test_multiple_choice_with_a_maximum(bot: BotHarness) -> None:
    chair = await registered_admin(bot)
    wang = await registered(bot, "王小明")
    await create_poll(
        chair, "本季度想参加哪些活动？", ["羽毛球", "读书会", "摄影", "徒步"], ["🔘 单选"]
    )
    message = await wait_message(bot, wang, "🗳")
    assert "最多可选 2 项" in message.text
    await wang.press("羽毛球")
    await wang.press("摄影")
    assert "✅ 您的选择：羽毛球、摄影" in (await wang.last_bot_message()).text
    await wang.press("徒步")  # a third choice is refused and changes nothing
    answer = (await wang.callback_answers())[-1]
    assert answer.show_alert and "最多只能选 2 项" in answer.text
    await wang.press("✅ 羽毛球")  # tapping a chosen option removes it
    await wang.press("徒步")
    text = (await wang.last_bot_message()).text
    assert "✅ 您的选择：摄影、徒步" in text
    result = await tally(bot, await latest_poll(bot))
    assert result.counts == (0, 0, 1, 1) and result.voters == 1


async def test_refusals_change_nothing(bot: BotHarness) -> None:
    chair = await registered_admin(bot)
    wang = await registered(bot, "王小明", "装配车间")
    zhang = await registered(bot, "张丽", "质检科")
    # Only 质检科 may vote.
    await chair.send("/newpoll")
    await chair.send("质检科周末加班安排是否合理？")
    await chair.send("合理\n不合理")
    await chair.send("✅ 完成")
    await chair.press("👥 投票对象…")
    await chair.press("✅ 👥 全体会员")
    await chair.press("🏢 质检科")
    await chair.press("« 返回设置")
    await chair.press("👁 预览")
    await chair.press("✅ 发布")
    view = await latest_poll(bot)
    assert view.poll.recipients == 1
    message = await wait_message(bot, zhang, "🗳")
    # A forged option on a real message.
    await zhang.press_data(message.message_id, f"pv:{view.id}:7")
    assert "没有这个选项" in (await zhang.callback_answers())[-1].text
    # A member outside the audience presses a forged button on one of their own messages.
    own = (await wang.bot_messages())[-1]
    await wang.press_data(own.message_id, f"pv:{view.id}:0")
    assert "不面向您" in (await wang.callback_answers())[-1].text
    assert (await tally(bot, view)).voters == 0
    # A plain member cannot create a poll or manage this one.
    await wang.send("/newpoll")
    assert "只有工会管理员可以发起投票" in (await wang.last_bot_message()).text
    await wang.press_data(own.message_id, f"pdelx:{view.id}")
    assert "只有工会管理员" in (await wang.callback_answers())[-1].text
    # Closed by the admin: a vote afterwards is refused, and the message shows it closed.
    await chair.press("🔒 立即结束")
    await chair.press(zh("Yes"))
    await zhang.press("合理")
    assert "投票已截止" in (await zhang.callback_answers())[-1].text
    closed = await zhang.last_bot_message()
    assert "已于" in closed.text and closed.buttons[0][0].text == "📊 结果"
    assert (await tally(bot, view)).voters == 0


async def test_closing_job_reminds_closes_and_sends_results_and_chart_once(
    bot: BotHarness,
) -> None:
    chair = await registered_admin(bot)
    wang = await registered(bot, "王小明")
    li = await registered(bot, "李雷", "质检科")
    others = [await registered(bot, name) for name in ("赵强", "钱芳", "孙丽")]
    # Defaults: anonymous, closes in 3 days, reminder on, results to the whole audience.
    await create_poll(chair, "是否赞成调整夏季作息时间？", ["赞成", "反对", "无所谓"])
    await wait_message(bot, wang, "🗳")
    await wang.press("赞成")
    await wait_message(bot, li, "🗳")
    for person, choice in zip(others, ("赞成", "反对", "无所谓"), strict=True):
        await wait_message(bot, person, "🗳")
        await person.press(choice)
    view = await latest_poll(bot)
    assert view.poll.closes_at is not None and view.poll.remind_at is not None
    assert view.poll.closes_at - view.poll.remind_at == timedelta(hours=24)

    bot.clock.advance(days=1)
    assert (await poll_jobs.run(bot.runtime, bot.clock.now, bot.application)).reminded == 0
    bot.clock.advance(days=1, minutes=1)
    first, second = await asyncio.gather(
        poll_jobs.run(bot.runtime, bot.clock.now, bot.application),
        poll_jobs.run(bot.runtime, bot.clock.now, bot.application),
    )
    assert first.reminded + second.reminded == 2  # 李雷 and the admin; 王小明 has voted
    reminder = await wait_message(bot, li, "⏰ 提醒")
    assert "还没有投票" in reminder.text
    await wait_message(bot, chair, "⏰ 提醒")
    assert not [m for m in await wang.bot_messages() if m.content.startswith("⏰")]
    await li.press("反对")  # straight from the reminder
    assert "✅ 您的选择：反对" in (await li.last_bot_message()).text

    bot.clock.advance(days=1)
    runs = await asyncio.gather(
        *(poll_jobs.run(bot.runtime, bot.clock.now, bot.application) for _ in range(3))
    )
    assert sum(r.closed for r in runs) == 1 and sum(r.charts for r in runs) == 1
    for person in (wang, li, chair):
        results = await wait_message(bot, person, "🔒 投票已结束")
        assert "最终结果" in results.text
        assert "▓▓▓▓░░░░░░ 2 票（40%）" in results.text
        assert "6 人中有 5 人投票（83%）" in results.text
        await wait_message(bot, person, "📊", media=True)
    chart = await wait_message(bot, wang, "📊", media=True)
    assert chart.media is not None and chart.media.kind == "photo"
    png = await bot.driver.download(chart.media.url)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        image.verify()
    # Nothing more on later runs: each person got one result and one chart.
    await poll_jobs.run(bot.runtime, bot.clock.now, bot.application)
    await bot.driver.wait_idle()
    for person in (wang, li, chair):
        contents = [m.content for m in await person.bot_messages()]
        assert sum(c.startswith("🔒 投票已结束") for c in contents) == 1
        assert sum(c.startswith("📊") and "夏季作息" in c for c in contents) == 1

    # The copies lost their vote buttons; a press that was on its way is refused.
    # (Edits to one chat go a second apart: the last may still be on its way.)
    async def closed_everywhere() -> bool:
        copies = [m for m in await li.bot_messages() if "🗳" in m.content]
        return all(buttons(m) in ([], ["📊 结果"]) for m in copies)

    await bot.driver.wait_for(closed_everywhere, timeout=30, what="every copy shown closed")
    await li.press_data(reminder.message_id, cb.POLL_VOTE.pack(view.id, 0))
    assert "投票已截止" in (await li.callback_answers())[-1].text
    assert (await tally(bot, view)).counts == (2, 2, 1)


async def test_an_anonymous_poll_with_too_few_voters_shows_no_counts(bot: BotHarness) -> None:
    """Counts of 1 or 2 voters would be their votes: "1 of 1 voted", then the one vote."""
    chair = await registered_admin(bot)
    wang = await registered(bot, "王小明")
    await chair.send("/newpoll")
    await chair.send("是否需要增加班车？")
    await chair.send("需要\n不需要")
    await chair.send("✅ 完成")
    await chair.press("👁 预览")
    warning = await chair.last_bot_message()
    assert "不足 5 人" in warning.text and "可能始终不会显示结果" in warning.text
    await chair.press("✅ 发布")
    await wait_message(bot, wang, "🗳")
    await wang.press("需要")
    await chair.send("/polls")
    await chair.press("⚙️")
    await chair.press("🔒 立即结束")
    await chair.press(zh("Yes"))
    for person in (wang, chair):
        results = await wait_message(bot, person, "🔒 投票已结束")
        assert "至少 5 人投票后才显示票数" in results.text and " 票（" not in results.text
    runs = await poll_jobs.run(bot.runtime, bot.clock.now, bot.application)
    await bot.driver.wait_idle()
    assert runs.charts <= 1
    for person in (wang, chair):
        assert not [m for m in await person.bot_messages() if m.media is not None]
    poll_message = await wait_message(bot, wang, "🗳")
    view = await latest_poll(bot)
    await wang.press_data(poll_message.message_id, f"pres:{view.id}")
    answer = await wait_message(bot, wang, "📊")
    assert "至少 5 人投票后才显示票数" in answer.text


async def test_named_poll_exports_who_voted_what(bot: BotHarness) -> None:
    chair = await registered_admin(bot)
    wang = await registered(bot, "王小明")
    zhang = await registered(bot, "张丽", "质检科")
    await create_poll(chair, "年度体检机构选哪家？", ["市一院", "中心医院"], ["🙈 匿名"])
    for person, choice in ((wang, "市一院"), (zhang, "中心医院")):
        message = await wait_message(bot, person, "🗳")
        assert "实名投票" in message.text
        await person.press(choice)
    await chair.press("📥 导出 XLSX")
    document = await newest(chair, document=True)
    assert document.media is not None and document.media.file_name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(await bot.driver.download(document.media.url)))
    assert book.sheetnames == ["汇总", "按部门", "投票明细"]
    rows = sorted(tuple(r[:4]) for r in book["投票明细"].iter_rows(min_row=2, values_only=True))
    assert rows == [("张丽", "质检科", None, "✓"), ("王小明", "装配车间", "✓", None)]
    totals = {r[0]: r[1] for r in book["汇总"].iter_rows(values_only=True) if r and r[0]}
    assert totals["市一院"] == 1 and totals["中心医院"] == 1 and totals["投票人数"] == 2


async def test_anonymous_poll_exports_totals_only(bot: BotHarness) -> None:
    chair = await registered_admin(bot)
    wang = await registered(bot, "王小明")
    await create_poll(chair, "是否需要开设职工子女暑托班？", ["需要", "不需要"])
    await wait_message(bot, wang, "🗳")
    await wang.press("需要")
    await chair.press("📥 导出 XLSX")
    document = await newest(chair, document=True)
    assert "匿名投票" in document.content
    assert document.media is not None
    book = load_workbook(io.BytesIO(await bot.driver.download(document.media.url)))
    assert book.sheetnames == ["汇总", "按部门"]
    cells = {str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row}
    assert "王小明" not in cells
    # While the poll is open there are no departments at all (votes still change).
    by_department = [row for row in book["按部门"].iter_rows(values_only=True) if any(row)]
    assert by_department == [("投票截止后才按部门显示结果。",)]


async def test_list_settings_for_cadres_extend_and_delete(bot: BotHarness) -> None:
    chair = await registered_admin(bot)
    cadre = await registered(bot, "李干事", "行政办公室")
    wang = await registered(bot, "王小明")
    await set_role(bot, cadre, Role.CADRE)
    # Cadres may not create polls until an admin allows it in the admin panel.
    await cadre.send("/polls")
    assert "➕ 发起投票" not in buttons(await newest(cadre, "🗳"))
    await chair.send("/admin")
    await chair.press("🗳 投票")
    await chair.press("❌ 干部不能发起投票（点击允许）")
    assert "干部也可以发起投票" in (await newest(chair, "🗳 投票设置")).text
    await cadre.send("🗳 投票")
    await cadre.press("➕ 发起投票")
    await cadre.send("工会活动室开放时间延长到晚上九点，大家是否赞成？")
    await cadre.send("赞成")
    await cadre.send("反对")
    await cadre.send("✅ 完成")
    await cadre.press("⏰ 3 天后截止")  # 3 days → 1 week
    assert "⏰ 1 周后截止" in buttons(await newest(cadre, "新投票"))
    await cadre.press("👁 预览")
    await cadre.press("✅ 发布")
    view = await latest_poll(bot)
    assert view.poll.closes_at == bot.clock.now + timedelta(days=7)

    # The member sees it in /polls, opens it, votes; results stay hidden until closing.
    await wait_message(bot, wang, "🗳")
    await wang.send("/polls")
    listing = await wang.last_bot_message()
    assert "工会活动室" in listing.text and "未投票" in listing.text
    await wang.press("🗳 " + view.poll.question[:58])
    await wang.press("赞成")
    await wang.send("🗳 投票")
    assert "✅ 已投票" in (await wang.last_bot_message()).text
    await wang.press_data((await wang.last_bot_message()).message_id, f"pres:{view.id}")
    assert "截止后才公布结果" in (await wang.callback_answers())[-1].text

    # The cadre who created it manages it: extend, breakdown, delete.
    await cadre.send("/polls")
    await cadre.press("⚙️")
    await cadre.press("⏰ +1 天")
    assert view.poll.closes_at is not None
    assert (await latest_poll(bot)).poll.closes_at == view.poll.closes_at + timedelta(days=1)
    await cadre.press("🏢 分部门")
    # While votes come in, two looks would differ by exactly the votes in between.
    assert "投票截止后才按部门显示" in (await cadre.callback_answers())[-1].text
    await cadre.press(zh("🗑 Delete"))
    await cadre.press(zh("Yes"))
    assert any("已删除" in m.content for m in await cadre.bot_messages())
    await wang.press("✅ 赞成")
    assert "已不存在" in (await wang.callback_answers())[-1].text


async def test_cancelled_draft_buttons_are_stale(bot: BotHarness) -> None:
    chair = await registered_admin(bot)
    await chair.send("/newpoll")
    await chair.send("问题")
    await chair.send("是\n否")
    await chair.send("✅ 完成")
    await chair.send("/cancel")
    assert any("没有任何更改" in m.content for m in await chair.bot_messages())
    await chair.press("👁 预览")
    assert "草稿已失效" in (await chair.callback_answers())[-1].text
    async with bot.runtime.sessions() as session:
        assert await session.scalar(select(Poll)) is None
