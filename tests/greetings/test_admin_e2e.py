"""Greetings through the sandbox: an admin edits, previews and switches off; members receive."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from display import callbacks as cb
from jobs.delivery import wake_after_commit
from jobs.greetings import send_due_greetings
from sandbox.driver import SandboxUser
from sandbox.driver_types import ChatMessage, Press
from storage.models import GreetingOccasion, GreetingTemplate, Member, Outbox
from tests.support.bot import BotHarness
from tests.support.chat import register
from tests.support.clock import shanghai
from tests.support.config import ADMIN_ID
from tests.support.members import Person, add_people


async def rows(bot: BotHarness, model: type) -> list:
    async with bot.runtime.sessions() as session:
        return list(await session.scalars(select(model)))


async def run_job(bot: BotHarness) -> int:
    """The scheduled job, run now on the bot's clock, waking its delivery worker."""
    return await send_due_greetings(
        bot.runtime,
        bot.clock.now,
        on_commit=lambda session: wake_after_commit(session, bot.application),
    )


async def shown(user: SandboxUser, fragment: str) -> ChatMessage:
    """The newest bot message containing ``fragment``.

    Other features post to the admin on their own (through the outbox, at any
    moment), so "the last message" is not a reliable way to find an answer.
    """
    found = await user.bot_messages()
    for message in reversed(found):
        if fragment in (message.text or ""):
            return message
    raise AssertionError(f"no bot message with {fragment!r}; last: {[m.text for m in found[-4:]]}")


async def pressed_message(user: SandboxUser, press: Press) -> ChatMessage:
    """The message whose button was pressed, as it reads now (panels edit in place)."""
    [message] = [m for m in await user.bot_messages() if m.message_id == press.message_id]
    return message


async def open_greetings(bot: BotHarness) -> SandboxUser:
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/admin")
    await admin.press("🎉 节日问候")
    return admin


async def test_admin_edits_previews_and_switches_off_spring_festival(bot: BotHarness) -> None:
    admin = await open_greetings(bot)
    home = await shown(admin, "问候在当天 09:00（北京时间）起发出")
    # The clock says 2026-11-24: the next Spring Festival is 2027-02-06.
    assert home.button("春节 · 02-06") is not None and home.button("生日 · 每天") is not None

    card = await pressed_message(admin, await admin.press("春节 · 02-06"))
    assert "下次是 2027-02-06 周六" in card.text and "状态：✅ 已开启" in card.text
    assert "问候语（简体中文，默认）" in card.text and "🧧 {name}，新春快乐" in card.text

    await admin.press("✏️ 简体中文")
    await shown(admin, "请发送 春节 的新问候语（简体中文）")
    await admin.send("{name}，{姓名}新年好！")
    refusal = await shown(admin, "{姓名} 不是可用的占位符，未作保存")
    assert "{holiday}" in refusal.text
    await admin.send("{name:>20}新年好！")
    await shown(admin, "不支持格式设置")
    assert await rows(bot, GreetingTemplate) == []

    await admin.send("<b>{name}</b>，{year}年春节快乐！")
    await shown(admin, "已保存。")
    card = await shown(admin, "问候语（简体中文，自定义）")
    assert "<b>{name}</b>，{year}年春节快乐！" in card.text  # shown as typed, not as markup
    [template] = await rows(bot, GreetingTemplate)
    assert (template.occasion, template.language) == ("spring_festival", "zh_CN")

    await admin.press("👁 预览")
    intro = await shown(admin, "春节问候预览")
    assert "名为 王小明 的会员在 2027-02-06 将收到以下内容" in intro.text
    assert "每位会员只收到一个版本，即其所选语言的版本" in intro.text
    assert "先是中文" not in intro.text
    after = [m for m in await admin.bot_messages() if m.message_id > intro.message_id]
    texts = [m.text for m in after]
    # Each version under the label of who receives it; the admin's tags stay text.
    assert "中文会员将收到：\n<b>王小明</b>，2027年春节快乐！" in texts
    chinese = next(m for m in after if (m.text or "").endswith("<b>王小明</b>，2027年春节快乐！"))
    assert "&lt;b&gt;" in chinese.html
    assert any(
        (t or "").startswith("英文会员将收到：\n🧧 王小明, happy Spring Festival!") for t in texts
    )
    assert any("状态：✅ 已开启" in (t or "") for t in texts)  # the card again, below

    card = await pressed_message(admin, await admin.press("⏸ 关闭"))
    assert "状态：⏸ 已关闭" in card.text and card.button("▶️ 开启") is not None
    [occasion] = await rows(bot, GreetingOccasion)
    assert (occasion.code, occasion.enabled) == ("spring_festival", False)

    # Switched off: on the day, members get nothing.
    member = await bot.driver.create_user("Ming")
    await register(bot, member, "王小明")
    bot.clock.now = shanghai(2027, 2, 6, 9, 30)
    assert await run_job(bot) == 0

    # Back to the default text; switched on again from the list's switch.
    await admin.press("↩️ 恢复默认问候语")
    assert await rows(bot, GreetingTemplate) == []
    home = await pressed_message(admin, await admin.press("« 节日问候"))
    await admin.press_data(home.message_id, cb.GREET_TOGGLE.pack("spring_festival", 0))
    [occasion] = await rows(bot, GreetingOccasion)
    assert occasion.enabled
    assert await run_job(bot) == 1


async def test_audience_by_tag(bot: BotHarness) -> None:
    admin = await open_greetings(bot)
    card = await pressed_message(admin, await admin.press("重阳节 · 10-08"))  # Double Ninth 2027
    assert "对象：带有标签 退休职工 的会员（目前 0 人）" in card.text
    await admin.press("🎯 发送对象")
    await shown(admin, "重阳节的问候发给谁？目前：带有标签 退休职工 的会员")
    assert ["👥 全体会员"] in (await admin.reply_keyboard() or [])
    await admin.send("退休 职工!")
    await shown(admin, "标签只能包含")
    await admin.send("👥 全体会员")
    card = await shown(admin, "对象：全体会员（目前 0 人）")
    assert "重阳节" in card.text
    [occasion] = await rows(bot, GreetingOccasion)
    assert (occasion.code, occasion.audience_tag) == ("double_ninth", None)


async def test_custom_date_next_30_days_and_delete(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    member = await bot.driver.create_user("Li")
    await register(bot, member, "李雷")
    admin = await open_greetings(bot)
    await admin.press("➕ 添加纪念日")
    await admin.send("/cancel")
    await shown(admin, "已取消")
    assert await rows(bot, GreetingOccasion) == []

    await admin.press("➕ 添加纪念日")
    await admin.send("工会成立纪念日")
    await shown(admin, "工会成立纪念日是每年的哪一天")
    await admin.send("明天")
    await shown(admin, "无法识别这个日期")
    await admin.send("2月30日")
    await shown(admin, "这个日期不存在")
    await admin.send("12月1日")
    card = await shown(admin, "每年 12-01；下次是 2026-12-01 周二")
    assert "对象：全体会员（目前 1 人）" in card.text
    [occasion] = await rows(bot, GreetingOccasion)
    assert (occasion.name, occasion.month, occasion.day) == ("工会成立纪念日", 12, 1)

    await admin.press("« 节日问候")
    upcoming = await pressed_message(admin, await admin.press("🗓 未来 30 天"))
    assert "2026-12-01 周二 · 工会成立纪念日：1 人" in upcoming.text

    # The same name twice is refused.
    await admin.press("« 节日问候")
    await admin.press("➕ 添加纪念日")
    await admin.send("工会成立纪念日")
    await shown(admin, "已有同名的纪念日")
    await admin.send("✖️ 取消")

    await admin.press("工会成立纪念日 · 12-01")
    pressed = await admin.press("🗑 删除这个纪念日")
    confirm = await pressed_message(admin, pressed)
    assert "确定删除纪念日 工会成立纪念日 吗" in confirm.text
    await admin.press("是的，删除")
    assert await rows(bot, GreetingOccasion) == []
    home = await pressed_message(admin, pressed)
    assert "问候在当天" in home.text and home.button("工会成立纪念日 · 12-01") is None
    # A button on the deleted date is stale now: the press says so (an alert)
    # and the message shows the list, without a second answer Telegram would refuse.
    caplog.clear()
    await admin.press_data(card.message_id, cb.GREET_EDIT.pack(occasion.code, "zh_CN"))
    assert "已不存在" in ((await admin.callback_answers())[-1].text or "")
    [stale] = [m for m in await admin.bot_messages() if m.message_id == card.message_id]
    assert "问候在当天" in stale.text and stale.button("工会成立纪念日 · 12-01") is None
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert await rows(bot, GreetingOccasion) == []


async def test_members_cannot_manage_greetings(bot: BotHarness) -> None:
    member = await bot.driver.create_user("Curious")
    await register(bot, member, "好奇")
    await member.send("/greetings")
    message = await shown(member, "只有工会管理员")
    await member.press_data(message.message_id, cb.GREET_TOGGLE.pack("spring_festival", 0))
    await member.press_data(message.message_id, cb.GREET_EDIT.pack("spring_festival", "zh_CN"))
    answers = (await member.callback_answers())[-2:]
    assert [a.data.split(":")[0] for a in answers] == ["grt", "gre"]
    assert all(a.show_alert and "只有工会管理员" in (a.text or "") for a in answers)
    await member.send("{name} 我来改问候语")
    assert await rows(bot, GreetingOccasion) == [] and await rows(bot, GreetingTemplate) == []


async def test_birthday_greetings_arrive_once_in_each_language(bot: BotHarness) -> None:
    """Today (2026-11-24 on the bot's clock) is their birthday; one of them blocked the bot."""
    ming = await bot.driver.create_user("Ming")
    await ming.send("/start")
    await ming.press("简体中文")
    await ming.send("王小明")
    await ming.send("装配车间")
    await ming.send("1990-11-24")
    await ming.send("✅ 确认")
    mary = await bot.driver.create_user("Mary", language_code="en")
    await mary.send("/start")
    await mary.press("English")
    await mary.send("Mary")
    await mary.send("Canteen")
    await mary.send("1991-11-24")
    await mary.send("✅ Confirm")
    gone = await bot.driver.create_user("Gone")
    await register(bot, gone, "走了")
    async with bot.runtime.sessions() as session:
        member = await session.scalar(select(Member).where(Member.telegram_id == gone.id))
        assert member is not None
        member.birthday = date(1980, 11, 24)
        # What the delivery engine records when Telegram answers 403 for this chat.
        member.blocked_at = bot.clock.now - timedelta(days=3)
        await session.commit()
    await gone.block_bot(notify=False)

    assert await run_job(bot) == 2

    async def recorded_sent() -> bool:
        found = [r for r in await rows(bot, Outbox) if r.kind == "greeting"]
        return len(found) == 2 and {r.status for r in found} == {"sent"}

    await bot.driver.wait_for(recorded_sent, what="both birthday greetings sent")
    assert await run_job(bot) == 0
    bot.clock.advance(hours=10)  # 20:00 the same evening: still nothing new
    assert await run_job(bot) == 0
    greetings_sent = [r for r in await rows(bot, Outbox) if r.kind == "greeting"]
    assert len(greetings_sent) == 2
    assert (await shown(ming, "生日快乐")).text.startswith("🎂 王小明，生日快乐")
    assert (await shown(mary, "Happy birthday")).text.startswith("🎂 Happy birthday, Mary!")
    assert not [m for m in await gone.bot_messages() if "生日快乐" in (m.text or "")]


async def test_the_scheduled_job_greets_on_the_bots_clock(bot: BotHarness) -> None:
    """What production runs: PTB's JobQueue job, every few minutes, on the runtime's clock."""
    assert bot.application.job_queue is not None
    [job] = bot.application.job_queue.get_jobs_by_name("greetings")
    assert job.job.trigger.interval == timedelta(minutes=5)
    member = await bot.driver.create_user("Li")
    await register(bot, member, "李雷")
    bot.clock.now = shanghai(2027, 2, 6, 8, 55)  # Spring Festival, before the hour
    await job.run(bot.application)
    assert [r for r in await rows(bot, Outbox) if r.kind == "greeting"] == []
    bot.clock.now = shanghai(2027, 2, 6, 9, 0)
    await job.run(bot.application)
    await job.run(bot.application)

    async def greeted() -> bool:
        return any("新春快乐" in (m.text or "") for m in await member.bot_messages())

    await bot.driver.wait_for(greeted, what="the Spring Festival greeting delivered")
    assert len([r for r in await rows(bot, Outbox) if r.kind == "greeting"]) == 1


async def test_winter_solstice_and_little_new_year_are_off_until_switched_on(
    bot: BotHarness,
) -> None:
    """Off by default; once switched on, greeted on the day in each member's language, once."""
    people = await add_people(
        bot, [Person("王小明", "装配车间"), Person("Mary", "Canteen", language="en")]
    )
    admin = await open_greetings(bot)
    home = await shown(admin, "问候在当天 09:00（北京时间）起发出")
    assert (
        home.button("冬至 · 12-22") is not None
        and home.button("小年（北方，腊月廿三） · 01-30") is not None
    )
    solstice_row = next(row for row in home.buttons if row[0].text == "冬至 · 12-22")
    assert solstice_row[1].text == "⏸ 已关"
    assert await rows(bot, GreetingOccasion) == []

    # Off: on their days nothing goes out, however often the job runs.
    for moment in (shanghai(2026, 12, 22, 9, 0), shanghai(2027, 1, 30, 9, 0)):
        bot.clock.now = moment
        assert await run_job(bot) == 0
    assert [r for r in await rows(bot, Outbox) if r.kind == "greeting"] == []

    bot.clock.now = shanghai(2026, 12, 1, 10, 0)
    card = await pressed_message(admin, await admin.press("冬至 · 12-22"))
    assert "状态：⏸ 已关闭" in card.text and "下次是 2026-12-22" in card.text
    card = await pressed_message(admin, await admin.press("▶️ 开启"))
    assert "状态：✅ 已开启" in card.text
    await admin.press("👁 预览")
    intro = await shown(admin, "冬至问候预览")
    assert "每位会员只收到一个版本" in intro.text
    after = [m.text or "" for m in await admin.bot_messages() if m.message_id > intro.message_id]
    assert any(t.startswith("中文会员将收到：\n❄️ ") and "冬至到了！" in t for t in after)
    assert any(t.startswith("英文会员将收到：\n❄️ ") and "Winter Solstice" in t for t in after)
    home = await pressed_message(admin, await admin.press("« 节日问候"))
    await admin.press_data(home.message_id, cb.GREET_TOGGLE.pack("xiaonian", 0))

    # 冬至 (a solar term): 22 December 2026; the day before, nothing.
    bot.clock.now = shanghai(2026, 12, 21, 9, 0)
    assert await run_job(bot) == 0
    bot.clock.now = shanghai(2026, 12, 22, 9, 0)
    assert await run_job(bot) == 2
    bot.clock.advance(minutes=5)
    assert await run_job(bot) == 0
    # 小年 (northern, lunar 12/23): 30 January 2027.
    bot.clock.now = shanghai(2027, 1, 29, 9, 0)
    assert await run_job(bot) == 0
    bot.clock.now = shanghai(2027, 1, 30, 9, 0)
    assert await run_job(bot) == 2
    bot.clock.advance(minutes=5)
    assert await run_job(bot) == 0

    sent = sorted(r.key.rsplit(":", 1)[0] for r in await rows(bot, Outbox) if r.kind == "greeting")
    assert sent == ["greeting:winter_solstice:2026"] * 2 + ["greeting:xiaonian:2026"] * 2

    async def delivered() -> bool:
        found = [r for r in await rows(bot, Outbox) if r.kind == "greeting"]
        return {r.status for r in found} == {"sent"}

    await bot.driver.wait_for(delivered, what="the four greetings sent")
    ming = [m.text or "" for m in await people["王小明"].bot_messages()]
    mary = [m.text or "" for m in await people["Mary"].bot_messages()]
    assert [t for t in ming if "冬至" in t or "小年" in t] == [
        "❄️ 王小明，冬至到了！今天黑夜最长，从此白天一天天变长。吃一碗热腾腾的饺子或汤圆，"
        "注意防寒保暖。工会祝您和家人身体健康！",
        "🧹 王小明，小年快乐！再过一周就是春节了。工会祝您家中窗明几净、温暖祥和，"
        "与家人欢欢喜喜过大年！",
    ]
    found = [t for t in mary if "Solstice" in t or "Little New Year" in t]
    assert len(found) == 2
    assert found[0].startswith("❄️ Mary, the Winter Solstice is here")
    assert found[1].startswith("🧹 Mary, happy Little New Year!")


async def test_little_new_year_north_and_south_each_for_its_own_members(bot: BotHarness) -> None:
    """A union with sites in both: the northern 小年 (腊月廿三) for members tagged 北方,
    the southern (廿四) for 南方; each member greeted once, on their own day, as 小年."""
    people = await add_people(
        bot,
        [
            Person("王小明", "装配车间", tags=("北方",)),
            Person("陈阿妹", "仓储物流部", tags=("南方",)),
        ],
    )
    admin = await open_greetings(bot)
    bot.clock.now = shanghai(2027, 1, 2, 10, 0)
    card = await pressed_message(admin, await admin.press("小年（南方，腊月廿四） · 01-31"))
    assert "下次是 2027-01-31" in card.text and "状态：⏸ 已关闭" in card.text
    assert "北方的小年是腊月廿三，南方是腊月廿四" in card.text
    await admin.press("▶️ 开启")
    await admin.press("🎯 发送对象")
    await admin.send("南方")
    card = await shown(admin, "对象：带有标签 南方 的会员（目前 1 人）")
    await admin.send("/greetings")
    await shown(admin, "问候在当天 09:00（北京时间）起发出")
    card = await pressed_message(admin, await admin.press("小年（北方，腊月廿三） · 01-30"))
    assert "北方的小年是腊月廿三" in card.text
    await admin.press("▶️ 开启")
    await admin.press("🎯 发送对象")
    await admin.send("北方")
    await shown(admin, "已保存")

    bot.clock.now = shanghai(2027, 1, 30, 9, 0)
    assert await run_job(bot) == 1
    bot.clock.now = shanghai(2027, 1, 31, 9, 0)
    assert await run_job(bot) == 1
    bot.clock.advance(minutes=5)
    assert await run_job(bot) == 0
    sent = sorted(r.key for r in await rows(bot, Outbox) if r.kind == "greeting")
    assert [key.rsplit(":", 1)[0] for key in sent] == [
        "greeting:xiaonian:2026",
        "greeting:xiaonian_south:2026",
    ]

    async def delivered() -> bool:
        found = [r for r in await rows(bot, Outbox) if r.kind == "greeting"]
        return {r.status for r in found} == {"sent"}

    await bot.driver.wait_for(delivered, what="the two greetings sent")
    for name in ("王小明", "陈阿妹"):
        greeted = [
            m.text or "" for m in await people[name].bot_messages() if "小年" in (m.text or "")
        ]
        assert greeted == [
            f"🧹 {name}，小年快乐！再过一周就是春节了。工会祝您家中窗明几净、温暖祥和，"
            "与家人欢欢喜喜过大年！"
        ]
