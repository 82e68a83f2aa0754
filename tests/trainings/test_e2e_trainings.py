"""A training end to end: created with two sessions, approval, waitlist, attendance, completion."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from storage.models import Role, Training, TrainingSession
from tests.support.activities import run_jobs
from tests.support.bot import BotHarness
from tests.support.members import add_person
from tests.support.outbox import delivered


async def _open(user: object, training_id: int) -> None:
    await user.send(f"/start trn_{training_id}")  # type: ignore[attr-defined]


async def test_training_with_approval_waitlist_attendance_and_completion(bot: BotHarness) -> None:
    cadre = await add_person(bot, "李干事", role=Role.CADRE)
    first, refused, third = [await add_person(bot, n) for n in ("王小明", "李雷", "赵敏")]

    await cadre.send("/new_training")
    await cadre.send("叉车安全操作培训")
    await cadre.send("⏭ 跳过")
    await cadre.send("2026-12-01 09:00")
    await cadre.send("12:00")
    await cadre.send("二号培训室")
    await cadre.send("➕ 再加一次课")
    await cadre.send("下周三上午9点")  # in words (the clock says Tuesday 2026-11-24)
    assert "2026年12月2日（周三）09:00" in (await cadre.last_bot_message()).text
    await cadre.press("✅ 确认")
    await cadre.send("11:30")
    await cadre.send("https://meeting.example.org/forklift")
    await cadre.send("✅ 就这些")
    await cadre.send("⏱ 开始前均可报名")
    await cadre.send("1")
    await cadre.send("🛂 需要，由干部审核")
    await cadre.send("全部课次")
    summary = await cadre.last_bot_message()
    assert "请核对培训信息" in summary.text and "二号培训室" in summary.text
    assert "共 2 次课，出席 2 次即可结业" in summary.text
    await cadre.send("✅ 直接发布（不通知）")
    async with bot.runtime.sessions() as session:
        training = await session.scalar(select(Training))
        meetings = list(
            await session.scalars(select(TrainingSession).order_by(TrainingSession.starts_at))
        )
    assert training is not None and training.needs_approval and training.capacity == 1
    assert [m.online_link for m in meetings] == [None, "https://meeting.example.org/forklift"]

    for person in (first, refused, third):
        await _open(person, training.id)
        await person.press("📝 申请报名")
    assert "等待工会干部审核" in (await first.last_bot_message()).text

    await cadre.send(f"/start trn_{training.id}")
    await cadre.press("⚙️ 管理")
    await cadre.press("🛂 待审核（3）")
    await cadre.press("✅ 王小明")
    await cadre.press("❌ 不通过")  # the first of the remaining: 李雷
    await cadre.send("本期仅限仓储物流部")
    await cadre.press("✅ 赵敏")
    await delivered(bot)
    assert "已通过，您已获得名额" in (await first.last_bot_message()).text
    assert "本期仅限仓储物流部" in (await refused.last_bot_message()).text
    assert "候补第 1 位" in (await third.last_bot_message()).text

    # The first withdraws: the waitlist moves up and is told.
    await _open(first, training.id)
    await first.press("❌ 退出报名")
    await delivered(bot)
    assert "您已成功报名" in (await third.last_bot_message()).text

    # A session reminder the day before.
    bot.clock.now = meetings[0].starts_at - timedelta(hours=23)
    await run_jobs(bot)
    assert "课程将于 24 小时后开始" in (await third.last_bot_message()).text

    # Attendance at both sessions completes the course.
    await cadre.send(f"/start trn_{training.id}")
    await cadre.press("⚙️ 管理")
    await cadre.press("🗓 考勤")
    await cadre.press(
        next(
            b.text
            for r in (await cadre.last_bot_message()).buttons
            for b in r
            if b.text.startswith("1.")
        )
    )
    await cadre.press("⬜ 赵敏")
    await cadre.press("« 课次")
    await cadre.press(
        next(
            b.text
            for r in (await cadre.last_bot_message()).buttons
            for b in r
            if b.text.startswith("2.")
        )
    )
    await cadre.press("⬜ 赵敏")
    await delivered(bot)
    assert (
        "恭喜" in (await third.last_bot_message()).text
        and "5.5" in (await third.last_bot_message()).text
    )

    await third.send("/my_trainings")
    history = await third.last_bot_message()
    assert "培训学时：5.5 小时" in history.text and "已结业" in history.text
    await refused.send("/my_trainings")
    assert "本期仅限仓储物流部" in (await refused.last_bot_message()).text

    await cadre.send(f"/start trn_{training.id}")
    await cadre.press("⚙️ 管理")
    await cadre.press("📊 XLSX")
    document = await cadre.last_bot_message()
    assert document.media is not None
    book = load_workbook(io.BytesIO(await bot.driver.download(document.media.url)))
    enrolment, completion = book.worksheets
    rows = [[c.value for c in r] for r in enrolment.iter_rows()]
    assert [r[0] for r in rows[1:]] == ["李雷", "赵敏"]  # the one who withdrew is gone
    assert rows[1][3] == "未通过" and rows[1][5] == "本期仅限仓储物流部"
    done = [[c.value for c in r] for r in completion.iter_rows()]
    assert done[1] == ["赵敏", "装配车间", 2, 2, 5.5, "是"]
