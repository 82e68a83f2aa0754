"""A pulse month through the sandbox on the fake clock: switch, ask once, answer once, close."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, update

from jobs import pulse as pulse_jobs
from storage.db import transaction
from storage.models import Member, Outbox
from tests.support.bot import BotHarness
from tests.support.chat import registered_admin
from tests.support.clock import shanghai
from tests.support.config import make_runtime
from tests.support.media import PNG
from tests.support.members import add_members, add_person
from tests.support.outbox import outbox_rows
from tests.support.pulse import KEYS, QUESTION, answers, months, run_pulse, switch_on


async def _questions(user: object) -> list[object]:
    return [m for m in await user.bot_messages() if QUESTION in (m.text or "")]  # type: ignore[attr-defined]


async def test_a_pulse_month(bot: BotHarness) -> None:
    admin = await registered_admin(bot)
    people = [await add_person(bot, name) for name in ("王小明", "李雷", "韩梅梅", "张伟")]
    english = await add_person(bot, "Tom", language="en")
    blocked = await add_person(bot, "赵六")
    async with transaction(bot.runtime.sessions) as session:
        await session.execute(
            update(Member).where(Member.telegram_id == blocked.id).values(blocked_at=bot.clock.now)
        )

    # Only an admin, in the private chat, opens it: from /pulse or the admin panel.
    await people[0].send("/pulse")
    assert "只有工会管理员" in (await people[0].last_bot_message()).text
    await admin.send("/admin")
    await admin.press("📈 满意度")
    assert "满意度调查已关闭" in (await admin.last_bot_message()).text
    await admin.send("/pulse")
    assert "满意度调查已关闭" in (await admin.last_bot_message()).text
    await admin.press("▶️ 开启满意度调查")
    panel = await admin.last_bot_message()
    assert "满意度调查已开启" in panel.text and "10:00" in panel.text
    assert "尚未发送过满意度调查" in panel.text

    # Not before ten, not at the weekend; then once, however often the job runs.
    bot.clock.now = shanghai(2026, 12, 1, 9, 55)
    assert await run_pulse(bot) == 0
    bot.clock.now = shanghai(2026, 12, 1, 10, 5)
    assert await run_pulse(bot) == 6  # the admin, four, Tom; not the blocked member
    assert await run_pulse(bot) == 0
    for user in [admin, *people]:
        assert len(await _questions(user)) == 1
    assert await _questions(blocked) == []
    tom = (await english.bot_messages())[-1]
    assert "Are you satisfied with the union's work this month?" in (tom.text or "")
    # The question rows name nobody: a pseudonym for the chat, no member id, a hashed key.
    rows = [r for r in await outbox_rows(bot) if r.kind == "pulse-question"]
    assert len(rows) == 6 and all(
        r.member_id is None and r.chat_id <= 0 and r.sensitive for r in rows
    )
    assert not any(str(p.id) in r.key for r in rows for p in people)
    late = await add_person(bot, "新来的")  # registered after the question went out

    # Stars, then a comment; a second answer is refused; the stars are range-checked.
    first = people[0]
    question = (await _questions(first))[0]
    await first.press("4⭐")
    assert "您给本月打了 ⭐⭐⭐⭐" in (await first.bot_messages())[-2].text
    assert "您还想说几句吗" in (await first.last_bot_message()).text
    await first.send_photo(PNG)  # not text: asked again, nothing lost
    assert "请用文字回答" in (await first.last_bot_message()).text
    await first.send("食堂的饭菜可以再改进。" * 60)  # too long
    assert "太长" in (await first.last_bot_message()).text
    await first.send("食堂的饭菜可以再改进。")
    assert "感谢您的回答" in (await first.last_bot_message()).text
    month = (await months(bot))[0]
    await first.press_data(question.message_id, f"plst:{month.id}:5")
    assert "您本月已经回答过了" in ((await first.callback_answers())[-1].text or "")
    await first.press_data(question.message_id, f"plst:{month.id}:6", unchecked=True)
    assert "已失效" in ((await first.callback_answers())[-1].text or "")
    await first.press_data(question.message_id, "plst:99999:3")
    assert "已失效" in ((await first.callback_answers())[-1].text or "")
    # Forged onto another of the bot's messages, the stars change nothing there.
    other = (await first.bot_messages())[-1]
    await first.press_data(other.message_id, f"plst:{month.id}:2")
    assert (await first.bot_messages())[-1].text == other.text

    await people[1].press("⭐⭐")
    await people[1].send("⏭ 跳过")
    assert "感谢您的回答" in (await people[1].last_bot_message()).text
    await english.press("5⭐")
    assert "You rated this month ⭐⭐⭐⭐⭐" in (await english.bot_messages())[-2].text
    await english.send("⏭ Skip")

    stored = await answers(bot)
    assert sorted(a.stars for a in stored) == [2, 4, 5]
    commented = [KEYS.open_comment(month.id, a.comment_sealed) for a in stored]
    assert "食堂的饭菜可以再改进。" in commented
    assert all(a.answered_on == bot.clock.now.date() for a in stored)

    # While the month is under way, the count only.
    await admin.send("/pulse")
    assert "2026-12：目前 3 份回答（本月结束后显示结果）" in (await admin.last_bot_message()).text

    # The month closes with the calendar: a late press is told so.
    bot.clock.now = shanghai(2027, 1, 1, 0, 1)
    await people[2].press("3⭐")
    assert "本月的满意度调查已经结束" in ((await people[2].callback_answers())[-1].text or "")
    assert len(await answers(bot)) == 3
    await admin.send("/pulse")  # over, but three answers are too few to show
    assert "2026-12：3 份回答（不足 5 份，不显示）" in (await admin.last_bot_message()).text
    # January's question goes out on its first day at ten, to the late member too.
    bot.clock.now = shanghai(2027, 1, 1, 10, 0)
    assert await run_pulse(bot) == 7
    assert len(await _questions(late)) == 1 and len(await _questions(people[2])) == 2


async def test_the_pulse_waits_for_a_weekday_and_asks_once_on_two_instances(
    bot: BotHarness,
) -> None:
    ids = await add_members(bot.runtime.sessions, 40)
    await switch_on(bot)
    # 2027-05-01 is a Saturday: nothing until Monday the 3rd.
    saturday = shanghai(2027, 5, 1, 10, 30)
    assert await pulse_jobs.run(bot.runtime, saturday) == 0
    assert await pulse_jobs.run(bot.runtime, shanghai(2027, 5, 2, 11)) == 0
    monday = shanghai(2027, 5, 3, 10, 1)
    first, second = make_runtime(bot.runtime.engine), make_runtime(bot.runtime.engine)
    counts = await asyncio.gather(
        pulse_jobs.run(first, monday), pulse_jobs.run(second, monday), pulse_jobs.run(first, monday)
    )
    assert sorted(counts) == [0, 0, len(ids)]
    assert await pulse_jobs.run(first, shanghai(2027, 5, 20, 10)) == 0
    async with bot.runtime.sessions() as session:
        sent = await session.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.kind == "pulse-question")
        )
    assert sent == len(ids)
    # Switched off: June is not asked.
    await switch_on(bot, False)
    assert await pulse_jobs.run(first, shanghai(2027, 6, 1, 10)) == 0
