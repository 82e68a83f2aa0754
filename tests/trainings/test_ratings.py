"""Training ratings: asked once after a session, of those who attended; stars, a comment, the panel."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.i18n import translator
from display import callbacks as cb
from display import offering
from display import trainings as show
from jobs import reminders
from storage import trainings
from storage.db import transaction
from storage.models import Outbox, ReminderMark, Role, Training, TrainingRating, TrainingSession
from storage.ratings import RatingSummary
from tests.support.activities import run_jobs
from tests.support.bot import BotHarness
from tests.support.clock import shanghai
from tests.support.config import make_runtime
from tests.support.members import add_members, add_person, member_id
from tests.support.outbox import delivered
from tests.support.trainings import course, enrol, mark_present, published_course

ASK = "请打 1 到 5 星"


async def _asked(user: object) -> int:
    messages = await user.bot_messages()  # type: ignore[attr-defined]
    return sum(ASK in (m.text or "") for m in messages)


async def _ratings(bot: BotHarness) -> list[tuple[int, int, str]]:
    async with bot.runtime.sessions() as session:
        rows = await session.execute(
            select(TrainingRating.member_id, TrainingRating.stars, TrainingRating.comment).order_by(
                TrainingRating.member_id
            )
        )
        return [(int(m), int(s), str(c)) for m, s, c in rows]


async def test_attendees_are_asked_once_rate_comment_and_forget(bot: BotHarness) -> None:
    now = bot.clock.now
    cadre = await add_person(bot, "李干事", role=Role.CADRE)
    came, absent, other = [await add_person(bot, n) for n in ("王小明", "李雷", "赵敏")]
    ids = [await member_id(bot, u) for u in (came, absent, other)]
    training, meetings = await published_course(bot, course(now + timedelta(days=2)), now=now)
    await enrol(bot, training.id, ids, now)
    await mark_present(bot, meetings[0].id, [ids[0], ids[2]], meetings[0].starts_at)

    # A session ends: those marked present are asked, once however often the job runs.
    bot.clock.now = meetings[0].ends_at + timedelta(minutes=5)
    await run_jobs(bot)
    await run_jobs(bot)
    ask = await came.last_bot_message()
    assert ASK in ask.text and training.title in ask.text
    assert [await _asked(u) for u in (came, absent, other)] == [1, 0, 1]
    # The next session does not ask again: one request per course.
    await mark_present(bot, meetings[1].id, [ids[0]], meetings[1].starts_at)
    bot.clock.now = meetings[1].ends_at + timedelta(minutes=5)
    await run_jobs(bot)
    assert [await _asked(u) for u in (came, absent, other)] == [1, 0, 1]

    await came.press("4⭐")
    assert "您打了 ⭐⭐⭐⭐" in (await came.bot_messages())[-2].text
    await came.send("讲得很实用")
    assert "感谢您的反馈" in (await came.last_bot_message()).text
    await other.press("⭐⭐")
    await other.send("⏭ 跳过")
    assert await _ratings(bot) == [(ids[0], 4, "讲得很实用"), (ids[2], 2, "")]

    # Rating again changes the stars (as for activities); the comment stays unless replaced.
    await came.press_data(ask.message_id, f"trr:{training.id}:5")
    await came.send("⏭ 跳过")
    assert await _ratings(bot) == [(ids[0], 5, "讲得很实用"), (ids[2], 2, "")]

    # Forged or stale stars: a clear answer, nothing stored.
    last = (await absent.bot_messages())[-1].message_id
    for data, answer in (
        (f"trr:{training.id}:3", "只有参加过本培训课程的会员才能评分"),
        (f"trr:{training.id + 999}:3", "该培训不存在或已删除"),
        (f"trr:{training.id}:9", "请选择 1 到 5 星"),
    ):
        await absent.press_data(last, data)
        assert answer in ((await absent.callback_answers())[-1].text or "")
    assert len(await _ratings(bot)) == 2

    # The cadre's panel: two ratings, too few for an average; the comment shows.
    await cadre.send(f"/start trn_{training.id}")
    await cadre.press("⚙️ 管理")
    panel = (await cadre.last_bot_message()).text
    assert "已有 2 人评价（满 5 人后显示平均分）" in panel and "💬 讲得很实用" in panel
    assert "★" not in panel

    # A cancelled course: its old stars buttons say so.
    async with transaction(bot.runtime.sessions) as session:
        await trainings.cancel(session, training.id, bot.clock.now)
    await other.press_data(ask.message_id, f"trr:{training.id}:4")
    assert "该培训已取消" in ((await other.callback_answers())[-1].text or "")

    # /forget takes the member's training ratings with them.
    await came.send("/forget")
    await came.press("是的，删除我的数据")
    assert await _ratings(bot) == [(ids[2], 2, "")]
    await delivered(bot)


async def test_the_panel_shows_the_average_from_five_ratings(bot: BotHarness) -> None:
    now = bot.clock.now
    cadre = await add_person(bot, "李干事", role=Role.CADRE)
    ids = await add_members(bot.runtime.sessions, 5)
    training, meetings = await published_course(
        bot, course(now + timedelta(days=1), sessions=1), now=now
    )
    await enrol(bot, training.id, ids, now)
    await mark_present(bot, meetings[0].id, ids, meetings[0].starts_at)
    after = meetings[0].ends_at + timedelta(hours=1)
    async with transaction(bot.runtime.sessions) as session:
        for stars, who in zip((5, 4, 4, 3), ids[:4], strict=True):
            await trainings.rate(session, training.id, who, stars, after)
    await cadre.send(f"/start trn_{training.id}")
    await cadre.press("⚙️ 管理")
    assert "已有 4 人评价" in (await cadre.last_bot_message()).text  # four: no average yet
    async with transaction(bot.runtime.sessions) as session:
        await trainings.rate(session, training.id, ids[4], 5, after)  # 21 stars of 5 ratings
    await cadre.send(f"/start trn_{training.id}")
    await cadre.press("⚙️ 管理")
    assert "评分：4.2 ★（5 人评价）" in (await cadre.last_bot_message()).text


async def test_requests_wait_for_a_decent_hour_and_go_once_across_instances(
    engine: AsyncEngine, database_url: str
) -> None:
    first, second = make_runtime(engine), make_runtime(engine)
    ids = await add_members(first.sessions, 6)
    evening = shanghai(2026, 11, 26, 19)  # 19:00 to 22:00
    created = evening - timedelta(days=2)
    training, meetings = await published_course(
        first.sessions, course(evening, sessions=1), now=created
    )
    await enrol(first.sessions, training.id, ids, created)
    await mark_present(first.sessions, meetings[0].id, ids[:4], evening)

    night = meetings[0].ends_at + timedelta(minutes=5)  # 22:05
    assert (await reminders.run_due(first, night))["rating_requests"] == 0
    morning = shanghai(2026, 11, 27, 8)
    done = await asyncio.gather(
        reminders.run_due(first, morning), reminders.run_due(second, morning)
    )
    again = await reminders.run_due(first, morning + timedelta(minutes=1))
    assert sum(d["rating_requests"] for d in done) == 4 and again["rating_requests"] == 0
    async with first.sessions() as session:
        rows = list(await session.scalars(select(Outbox).where(Outbox.kind == "training-rating")))
        marks = await session.scalar(
            select(func.count()).select_from(ReminderMark).where(ReminderMark.kind == "trate")
        )
    assert sorted(int(r.member_id or 0) for r in rows) == sorted(ids[:4]) and marks == 4
    # Too late: three days after the end nothing is asked any more.
    await mark_present(first.sessions, meetings[0].id, [ids[4]], morning)
    late = meetings[0].ends_at + reminders.RATING_WINDOW + timedelta(hours=12)
    assert (await reminders.run_due(first, late))["rating_requests"] == 0


def test_the_stars_message_and_the_panel_in_both_languages() -> None:
    """Printed for a look (pytest -s); the checks are what must hold in either language."""
    zone = ZoneInfo("Asia/Shanghai")
    start = shanghai(2026, 11, 26, 9)
    training = Training(
        id=7,
        title="叉车安全操作培训",
        description="持证上岗前的必修课",
        status="published",
        signup_deadline=start - timedelta(days=1),
        capacity=20,
        seats_taken=6,
        needs_approval=False,
        required_sessions=None,
    )
    meetings = [
        TrainingSession(
            id=1, starts_at=start, ends_at=start + timedelta(hours=3), place="二号培训室"
        )
    ]
    for language, few, many in (
        ("zh_CN", "已有 3 人评价（满 5 人后显示平均分）", "评分：4.5 ★（6 人评价）"),
        ("en", "Ratings: 3 so far (the average shows from 5 on)", "Rating: 4.5 ★ from 6"),
    ):
        t = translator(language)
        ask = offering.rating_request(t, training.title)
        stars = [b.text for b in offering.stars_keyboard(cb.TRN_RATE, 7).inline_keyboard[0]]
        panels = [
            show.manage_text(
                t,
                zone,
                training,
                meetings,
                pending=0,
                waiting=0,
                ratings=summary,
                link="https://t.me/union_bot?start=trn_7",
            )
            for summary in (
                RatingSummary(3, 4.0, ["讲得很实用"]),
                RatingSummary(6, 4.5, ["讲得很实用", "希望多一些实操"]),
            )
        ]
        print(f"--- {language}\n{ask}\n{stars}\n{panels[0]}\n\n{panels[1]}\n")
        assert "叉车安全操作培训" in ask and stars == ["⭐", "⭐⭐", "3⭐", "4⭐", "5⭐"]
        assert few in panels[0] and "4.0" not in panels[0] and "💬 讲得很实用" in panels[0]
        assert many in panels[1]
