"""Natural times end to end: typed where a time is asked, proposed, confirmed or re-entered.

The clock is the tests' (Tuesday 2026-11-24 10:00 in Shanghai), on both databases.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Activity, Role
from tests.support.bot import BotHarness
from tests.support.chat import registered_admin
from tests.support.members import add_person
from tests.support.polls import latest_poll


async def test_an_activity_from_natural_times_with_confirm_and_re_enter(bot: BotHarness) -> None:
    cadre = await add_person(bot, "李干事", role=Role.CADRE)
    await cadre.send("/new_activity")
    await cadre.send("冬季篮球友谊赛")
    await cadre.send("⏭ 跳过")
    await cadre.send("⏭ 跳过")
    await cadre.send("职工活动中心")
    prompt = await cadre.last_bot_message()
    assert "明天早上8点" in prompt.text  # the prompt gives a natural example

    await cadre.send("下周五 19:00")  # Tuesday 24th: next week's Friday is 4 December
    proposal = await cadre.last_bot_message()
    assert "您是指 2026年12月4日（周五）19:00 吗？" in proposal.text
    await cadre.press("✏️ 重新输入")
    assert "请重新输入时间" in (await cadre.last_bot_message()).text
    await cadre.press_data(proposal.message_id, proposal.keyboard[0][0]["callback_data"])
    assert "已失效" in (await cadre.callback_answers())[-1].text  # the answered proposal

    await cadre.send("12月5日下午")  # no hour: the afternoon's default, said so
    proposal = await cadre.last_bot_message()
    assert "2026年12月5日（周六）14:00" in proposal.text and "14:00" in proposal.text
    assert "暂按 14:00 计" in proposal.text
    await cadre.press("✅ 确认")
    await cadre.send("傍晚六点")  # counted from the start: the same day
    assert "2026年12月5日（周六）18:00" in (await cadre.last_bot_message()).text
    await cadre.press("✅ 确认")
    await cadre.send("今天早上8点")  # a deadline already passed
    assert "已经过去" in (await cadre.last_bot_message()).text
    await cadre.send("12月4日 18:00")  # the strict form still needs no confirmation
    await cadre.send("20")
    await cadre.send("🚶 不能带亲友")
    await cadre.press("下一步 ›")
    summary = await cadre.last_bot_message()
    assert "2026-12-05（周六）14:00–18:00" in summary.text
    await cadre.send("📝 存为草稿")
    async with bot.runtime.sessions() as session:
        row = await session.scalar(select(Activity))
    assert row is not None
    assert row.starts_at.isoformat() == "2026-12-05T06:00:00+00:00"
    assert row.ends_at.isoformat() == "2026-12-05T10:00:00+00:00"
    assert row.signup_deadline is not None
    assert row.signup_deadline.isoformat() == "2026-12-04T10:00:00+00:00"


async def test_a_poll_closing_time_in_words(bot: BotHarness) -> None:
    chair = await registered_admin(bot)
    await chair.send("/newpoll")
    await chair.send("年会节目选哪个？")
    await chair.send("合唱\n小品")
    await chair.send("✅ 完成")
    await chair.press("✏️ 输入时间")
    assert "明天早上8点" in (await chair.last_bot_message()).text
    await chair.send("随便哪天")
    assert "没能看懂这个时间" in (await chair.last_bot_message()).text
    await chair.send("周末")
    assert "不止一个时间" in (await chair.last_bot_message()).text
    await chair.send("明天早上8点")
    assert "您是指 2026年11月25日（周三）08:00 吗？" in (await chair.last_bot_message()).text
    await chair.press("✏️ 重新输入")
    await chair.send("12月30日下午两点")
    first = await chair.last_bot_message()
    await chair.send("下周一上午9点半")  # typing again replaces the proposal
    second = await chair.last_bot_message()
    assert "2026年11月30日（周一）09:30" in second.text
    await chair.press_data(first.message_id, first.keyboard[0][0]["callback_data"])
    assert "已失效" in (await chair.callback_answers())[-1].text
    await chair.press_data(second.message_id, "tmok:123")  # forged: nothing happens
    assert "已失效" in (await chair.callback_answers())[-1].text
    await chair.press("✅ 确认")
    card = await chair.last_bot_message()
    assert "2026-11-30 09:30" in card.text
    await chair.press("👁 预览")
    await chair.press("✅ 发布")
    view = await latest_poll(bot)
    assert view.poll.closes_at is not None
    assert view.poll.closes_at.isoformat() == "2026-11-30T01:30:00+00:00"
