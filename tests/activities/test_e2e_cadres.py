"""Cadres and activities end to end: create, publish and announce, edit, check in, export, cancel."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from handlers.common import CANCEL_LABEL
from storage.models import Activity, Role
from tests.support.activities import activity_row, draft, published, sign_up
from tests.support.bot import BotHarness
from tests.support.chat import flat, zh
from tests.support.members import add_person
from tests.support.outbox import delivered


def _poster() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_a_cadre_creates_publishes_and_announces_an_activity(bot: BotHarness) -> None:
    cadre = await add_person(bot, "李干事", role=Role.CADRE)
    fan = await add_person(bot, "王小明")
    english = await add_person(bot, "Anna", language="en")

    await cadre.send("/new_activity")
    assert "活动名称" in (await cadre.last_bot_message()).text
    await cadre.send("/篮球")  # a command is not a title
    assert "不要输入命令" in (await cadre.last_bot_message()).text
    await cadre.send("冬季篮球友谊赛")
    await cadre.send("三对三\n自带球鞋")
    await cadre.send("不是图片")
    assert "请发送一张图片" in (await cadre.last_bot_message()).text
    await cadre.send_photo(_poster(), filename="poster.png")
    await cadre.send("职工活动中心 <篮球馆>")
    await cadre.send("2026-11-20 14:00")  # in the past (the clock says 2026-11-24)
    assert "已经过去" in (await cadre.last_bot_message()).text
    await cadre.send("改天吧")  # no time at all
    assert "没能看懂这个时间" in (await cadre.last_bot_message()).text
    await cadre.send("12月5日 14:00")
    await cadre.send("13:00")  # before the start
    assert "晚于开始" in (await cadre.last_bot_message()).text
    await cadre.send("16:30")
    await cadre.send("⏱ 开始前均可报名")
    await cadre.send("零")
    assert "整数" in (await cadre.last_bot_message()).text
    await cadre.send("20")
    await cadre.send("👥 可以，允许带一位")
    picker = await cadre.last_bot_message()
    assert "面向哪些会员" in picker.text
    assert picker.button("✅ 👥 全体会员") is not None  # everyone, until changed
    # The guest choices are gone while the audience is picked: Cancel alone is left.
    assert flat(await cadre.reply_keyboard()) == {zh(CANCEL_LABEL)}
    await cadre.press("下一步 ›")
    summary = await cadre.last_bot_message()
    assert "请核对活动信息" in summary.text and "冬季篮球友谊赛" in summary.text
    assert "2026-12-05（周六）14:00–16:30" in summary.text
    assert "&lt;篮球馆&gt;" in summary.html  # the place is escaped, not markup
    await cadre.send("📣 发布并通知")

    # The announcement to everyone (the cadre too) may already be there: find the panel.
    panel = next(m for m in reversed(await cadre.bot_messages()) if m.text and "已发布" in m.text)
    assert "start=act_" in panel.text
    async with bot.runtime.sessions() as session:
        row = await session.scalar(select(Activity))
    assert row is not None
    assert (row.capacity, row.guests_allowed, row.status) == (20, True, "published")
    assert row.starts_at.isoformat() == "2026-12-05T06:00:00+00:00"  # 14:00 Shanghai, in UTC

    await delivered(bot)
    news = await fan.last_bot_message()
    assert news.media is not None and news.media.kind == "photo"  # the poster, with the text
    assert "新活动" in news.caption and "冬季篮球友谊赛" in news.caption
    assert "New activity" in (await english.last_bot_message()).content
    await fan.press("查看 ›")
    await fan.press("✅ 带亲友报名")
    assert (await activity_row(bot, row.id)).seats_taken == 2


async def test_moving_the_time_tells_participants_and_cancelling_tells_everyone(
    bot: BotHarness,
) -> None:
    cadre = await add_person(bot, "李干事", role=Role.CADRE)
    seated, waiting = await add_person(bot, "王小明"), await add_person(bot, "李雷")
    activity = await published(bot, draft(bot, capacity=1))
    for person in (seated, waiting):
        await sign_up(person, activity.id)

    await cadre.send("/activities")
    await cadre.press("⚙️ 活动管理")
    await cadre.press(
        next(
            b.text for r in (await cadre.last_bot_message()).buttons for b in r if "篮球" in b.text
        )
    )
    await cadre.press("✏️ 时间")
    await cadre.send("2026-12-01 19:00")
    await cadre.send("21:00")
    await cadre.send("2026-12-01 12:00")
    assert "正在通知 2 名会员" in str([m.text for m in await cadre.bot_messages()])
    await delivered(bot)
    moved = await waiting.last_bot_message()
    assert "时间有变动" in moved.text and "2026-12-01（周二）19:00–21:00" in moved.text
    assert (await activity_row(bot, activity.id)).schedule_version == 2

    await cadre.press("🚫 取消活动")
    assert "2 名会员" in (await cadre.last_bot_message()).text
    await cadre.press("确定取消")
    await delivered(bot)
    for person in (seated, waiting):
        assert "已取消" in (await person.last_bot_message()).text
    await seated.press("查看 ›")  # the button on the earlier notice now shows the cancelled card
    cards = [m for m in await seated.bot_messages() if "该活动已取消" in (m.text or "")]
    assert cards and not cards[0].buttons[0][0].text.startswith("✅")
    assert (await activity_row(bot, activity.id)).status == "cancelled"


async def test_roster_check_in_and_exports(bot: BotHarness) -> None:
    cadre = await add_person(bot, "李干事", role=Role.CADRE)
    people = [
        await add_person(bot, n, department=d)
        for n, d in (("王小明", "装配车间"), ("=HACK()", "质检科"), ("赵敏", "质检科"))
    ]
    activity = await published(bot, draft(bot, capacity=2))
    for person in people:
        await sign_up(person, activity.id)

    await cadre.send(f"/start act_{activity.id}")
    await cadre.press("⚙️ 管理")
    await cadre.press("👥 名单与签到")
    roster = await cadre.last_bot_message()
    assert "已报名：2 人（已签到 0 人）。候补：1 人" in roster.text
    await cadre.press("⬜ 王小明")
    assert "✅ 王小明" in str((await cadre.last_bot_message()).buttons)

    await cadre.press("« 返回")
    await cadre.press("📄 CSV")
    assert "upload_document" in await cadre.chat_actions()  # "sending a file…" while it is built
    document = await cadre.last_bot_message()
    assert document.media is not None and document.media.file_name.endswith(".csv")
    rows = list(
        csv.reader(io.StringIO((await bot.driver.download(document.media.url)).decode("utf-8-sig")))
    )
    assert rows[0][:4] == ["姓名", "部门", "报名时间", "状态"]
    assert [r[0] for r in rows[1:]] == ["王小明", "'=HACK()", "赵敏"]
    assert rows[1][6] == "是" and rows[3][3] == "候补" and rows[3][4] == "1"
    assert rows[1][2] == "2026-11-24 10:00"  # 02:00 UTC shown in Shanghai time

    await cadre.press("📊 XLSX")
    document = await cadre.last_bot_message()
    assert document.media is not None and document.media.file_name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(await bot.driver.download(document.media.url)))
    sheet = book.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "姓名" and values[1][:2] == ["王小明", "装配车间"]
    assert values[1][6] == "是" and values[2][6] == "否" and values[3][3] == "候补"


async def test_raising_the_capacity_seats_the_waitlist_and_tells_them(bot: BotHarness) -> None:
    cadre = await add_person(bot, "李干事", role=Role.CADRE)
    seated, waiting = await add_person(bot, "王小明"), await add_person(bot, "李雷")
    activity = await published(bot, draft(bot, capacity=1))
    await sign_up(seated, activity.id)
    await sign_up(waiting, activity.id)
    await cadre.send(f"/start act_{activity.id}")
    await cadre.press("⚙️ 管理")
    await cadre.press("✏️ 名额")
    await cadre.send("0")
    await cadre.send("2")
    assert any("1 名会员已从候补递补" in (m.text or "") for m in await cadre.bot_messages())
    await delivered(bot)
    assert "空出一个席位" in (await waiting.last_bot_message()).text
    assert (await activity_row(bot, activity.id)).seats_taken == 2
    await cadre.press("✏️ 名额")
    await cadre.send("1")  # below the seats already taken
    assert "已有 2 个席位被占用" in (await cadre.last_bot_message()).text
    await cadre.send("/cancel")
    assert (await activity_row(bot, activity.id)).capacity == 2
