"""A member's later say over a case, end to end through the sandbox on both databases:
editing the text at the summary, reopening a resolved case (from 📂 My cases and after
a low rating, within the window and not too often), and opening their own attachments.
"""

from __future__ import annotations

from sqlalchemy import select

from storage import grievance_rules as rules
from storage.models import Grievance, GrievanceAudit
from tests.support.bot import fresh_bot
from tests.support.chat import buttons, flat, register, registered
from tests.support.config import ADMIN_ID, CADRE_CHAT
from tests.support.grievances import World, cases, make_world, submit, tick
from tests.support.media import PNG, real_pdf
from tests.support.outbox import delivered

OGG = b"OggS" + b"\x00" * 60
RESOLVED = "💰 工资 · ✅ 已办结"


async def _card(world: World, code: str, *, newest: bool = True):  # type: ignore[no-untyped-def]
    found = [
        m
        for m in await world.bot.driver.messages(CADRE_CHAT)
        if m.text and code in m.text and "📝" in m.text
    ]
    assert found, f"no card of {code}"
    return found[-1] if newest else found[0]


async def _resolve(world: World, case: Grievance, *, take: bool = True) -> None:
    card = await _card(world, case.code)
    if take:
        await world.cadre.press_data(card.message_id, f"gvtake:{case.id}", chat=CADRE_CHAT)
    await world.cadre.press_data(card.message_id, f"gvres:{case.id}", chat=CADRE_CHAT)
    await world.cadre.press_data(card.message_id, f"gvresy:{case.id}", chat=CADRE_CHAT)
    await delivered(world.bot)


async def _case(world: World, case_id: int) -> Grievance:
    return next(c for c in await cases(world.bot) if c.id == case_id)


async def _audit(world: World, case_id: int) -> list[tuple[str, int | None, str | None]]:
    async with world.bot.runtime.sessions() as session:
        rows = await session.scalars(
            select(GrievanceAudit)
            .where(GrievanceAudit.grievance_id == case_id)
            .order_by(GrievanceAudit.id)
        )
        return [(r.action, r.actor_telegram_id, r.detail) for r in rows]


# Edit before sending -----------------------------------------------------------------


async def test_edit_the_text_at_the_summary_then_send(world: World) -> None:
    bot, member = world.bot, world.member
    await member.send("📝 提交诉求")
    await member.send("💰 工资")
    await member.send("🟢 普通")
    await member.send("加班费少发了。")
    await member.send_photo(PNG, caption="工资条")
    await member.send("✅ 添加完毕")
    summary = await member.last_bot_message()
    assert "加班费少发了" in summary.text and "✏️ 修改内容" in summary.text
    assert {"✅ 匿名发送", "✏️ 修改内容", "✖️ 取消"} <= flat(await member.reply_keyboard())
    # A word no button offers is answered; nothing is sent.
    await member.send("好的")
    assert "✏️ 修改内容" in (await member.last_bot_message()).text
    await member.send("✏️ 修改内容")
    prompt = await member.last_bot_message()
    assert "加班费少发了" in prompt.text and "附件保持不变" in prompt.text
    await member.send("十一月的加班费少发了三天。")
    summary = await member.last_bot_message()
    assert "十一月的加班费少发了三天" in summary.text and "附件：1" in summary.text
    # Editing again, then sending: the case holds the last text and the photo.
    await member.send("✏️ 修改内容")
    await member.send("十一月的加班费少发了四天。")
    await member.send("✅ 匿名发送")
    await delivered(bot)
    (case,) = await cases(bot)
    card = await _card(world, case.code)
    assert "少发了四天" in card.text and "三天" not in card.text and "📎" in card.text
    group = await bot.driver.messages(CADRE_CHAT)
    assert [m.media.kind for m in group if m.media is not None] == ["photo"]
    assert case.code in (await member.last_bot_message()).text  # the receipt


async def test_edit_is_in_english_too_and_cancel_keeps_nothing(world: World) -> None:
    bot, member = world.bot, world.member
    await member.send("🌐 语言")
    await member.press("English")
    await member.send("📝 Submit a grievance")
    await member.send("💰 Wages")
    await member.send("🟢 Normal")
    await member.send("Overtime pay is missing.")
    await member.send("📝 Send text only")
    await member.send("✏️ Edit the text")
    assert "Overtime pay is missing." in (await member.last_bot_message()).text
    await member.send("✖️ Cancel")
    await delivered(bot)
    assert await cases(bot) == []


# Reopen -------------------------------------------------------------------------------


async def test_reopen_from_my_cases_goes_back_to_the_cadres(world: World) -> None:
    bot, member = world.bot, world.member
    case = await submit(bot, member)
    await _resolve(world, case)
    bot.clock.advance(days=3)
    await member.send("📂 我的诉求")
    await member.press(f"{case.code} · {RESOLVED}")
    await member.press("🔄 重新打开诉求")
    assert "⏭ 跳过" in (await member.last_bot_message()).text
    await member.send("空调还是没修好，温度依旧很高。")
    await delivered(bot)
    reopened = await member.last_bot_message()
    assert "已重新打开" in reopened.text and case.code in reopened.text
    row = await _case(world, case.id)
    assert row.status == "new" and row.finished_at is None
    take_due, _ = rules.deadlines(bot.clock.now, 24, 72, rules.Urgency.NORMAL)
    assert row.take_due_at == take_due  # a fresh deadline from the reopening
    # The cadres see it again: a new card, waiting to be taken, the reason on top, no name.
    card = await _card(world, case.code)
    assert "会员重新打开了这件诉求（第 1 次，最多 2 次）" in card.text
    assert "空调还是没修好" in card.text and "✋ 接手" in buttons(card)
    assert "韩梅梅" not in card.text and "hanmeimei" not in card.text
    first = await _card(world, case.code, newest=False)
    assert "✋ 接手" in buttons(first)  # the old card redrawn, not stale
    audit = await _audit(world, case.id)
    assert audit[-1] == ("reopened", None, "1/2")  # no actor: the audit names nobody
    admin = await bot.driver.user(ADMIN_ID)
    await register(bot, admin, "周主席", "工会办公室")
    await admin.send(f"/grievance_audit {case.code}")
    log = await admin.last_bot_message()
    assert "会员重新打开了诉求" in log.text and "韩梅梅" not in log.text
    # A second round: taken, resolved, and the member is told again, with stars.
    await _resolve(world, case)
    notice = await member.last_bot_message()
    assert "办结" in notice.text and "1⭐" in buttons(notice)
    assert (await _case(world, case.id)).status == "resolved"


async def test_low_rating_offers_reopen_a_good_one_does_not(world: World) -> None:
    bot, member = world.bot, world.member
    good = await submit(bot, member, "食堂排队太久。")
    await _resolve(world, good)
    await member.press("5⭐")
    thanks = next(m for m in reversed(await member.bot_messages()) if "5/5" in (m.text or ""))
    assert buttons(thanks) == []
    await member.send("⏭ 跳过")
    bad = await submit(bot, member, "更衣室的锁坏了。")
    await _resolve(world, bad)
    await member.press("1⭐")
    thanks = next(m for m in reversed(await member.bot_messages()) if "1/5" in (m.text or ""))
    assert buttons(thanks) == ["🔄 重新打开诉求"] and "重新打开" in thanks.text
    await member.press("🔄 重新打开诉求")
    await member.send("⏭ 跳过")
    await delivered(bot)
    row = await _case(world, bad.id)
    assert (row.status, row.rating, row.rated_at) == ("new", None, None)
    card = await _card(world, bad.code)
    assert "重新打开" in card.text and "原因" not in card.text
    assert [a for a, _, _ in await _audit(world, bad.id)][-2:] == ["rated", "reopened"]


async def test_reopen_is_refused_after_the_window_and_past_the_limit(world: World) -> None:
    bot, member = world.bot, world.member
    late = await submit(bot, member, "宿舍热水器坏了。")
    await _resolve(world, late)
    bot.clock.advance(days=rules.REOPEN_DAYS, minutes=1)
    await member.send("📂 我的诉求")
    await member.press(f"{late.code} · {RESOLVED}")
    view = await member.last_bot_message()
    assert "🔄 重新打开诉求" not in buttons(view)
    await member.press_data(view.message_id, f"gvreop:{late.id}")
    assert "超过 14 天" in (await member.callback_answers())[-1].text
    assert (await _case(world, late.id)).status == "resolved"

    # Twice, then no more.
    case = await submit(bot, member, "车间照明不足。")
    for _ in range(rules.REOPEN_LIMIT):
        await _resolve(world, case)
        await member.send("📂 我的诉求")
        await member.press(f"{case.code} · {RESOLVED}")
        await member.press("🔄 重新打开诉求")
        await member.send("⏭ 跳过")
        await delivered(bot)
        assert (await _case(world, case.id)).status == "new"
    await _resolve(world, case)
    await member.send("📂 我的诉求")
    await member.press(f"{case.code} · {RESOLVED}")
    view = await member.last_bot_message()
    assert "🔄 重新打开诉求" not in buttons(view)
    await member.press_data(view.message_id, f"gvreop:{case.id}")
    assert "已经重新打开过 2 次" in (await member.callback_answers())[-1].text
    assert (await _case(world, case.id)).status == "resolved"


async def test_a_short_link_retention_shortens_the_window(database_url: str) -> None:
    """GRIEVANCE_LINK_RETENTION_DAYS=7: reopening ends a day before the link goes."""
    async with fresh_bot(database_url, grievance_link_retention_days=7) as bot:
        world = await make_world(bot)
        case = await submit(bot, world.member)
        await _resolve(world, case)
        bot.clock.advance(days=5, hours=23)
        await world.member.send("📂 我的诉求")
        await world.member.press(f"{case.code} · {RESOLVED}")
        assert "🔄 重新打开诉求" in buttons(await world.member.last_bot_message())
        bot.clock.advance(hours=1)
        await world.member.send("📂 我的诉求")
        await world.member.press(f"{case.code} · {RESOLVED}")
        view = await world.member.last_bot_message()
        assert "🔄 重新打开诉求" not in buttons(view)
        await world.member.press_data(view.message_id, f"gvreop:{case.id}")
        assert "超过 6 天" in (await world.member.callback_answers())[-1].text


async def test_reopen_of_someone_elses_case_or_an_open_one_is_refused(world: World) -> None:
    bot, member = world.bot, world.member
    case = await submit(bot, member)
    other = await registered(bot, "李雷", "质检科")
    await other.send("📂 我的诉求")
    message = await other.last_bot_message()
    await other.press_data(message.message_id, f"gvreop:{case.id}")
    assert "这不是您提交的诉求" in (await other.callback_answers())[-1].text
    await member.send("📂 我的诉求")
    view = await member.last_bot_message()
    await member.press_data(view.message_id, f"gvreop:{case.id}")
    assert "只有工会已办结" in (await member.callback_answers())[-1].text
    assert (await _case(world, case.id)).status == "new"


async def test_a_reopened_case_has_a_fresh_take_deadline_that_escalates(world: World) -> None:
    bot, member = world.bot, world.member
    case = await submit(bot, member)
    bot.clock.advance(hours=25)  # wages: 24 h to take; missed once
    assert (await tick(bot)).escalated == 1
    await _resolve(world, case)
    await member.send("📂 我的诉求")
    await member.press(f"{case.code} · {RESOLVED}")
    await member.press("🔄 重新打开诉求")
    await member.send("⏭ 跳过")
    await delivered(bot)
    assert (await tick(bot)).escalated == 0
    bot.clock.advance(hours=23)
    assert (await tick(bot)).escalated == 0
    bot.clock.advance(hours=2)
    assert (await tick(bot)).escalated == 1  # the new deadline re-armed the check
    assert (await tick(bot)).escalated == 0  # once
    # The link lives on: an open case is not subject to retention.
    bot.clock.advance(days=200)
    await tick(bot)
    assert (await _case(world, case.id)).link is not None


# A member's own attachments --------------------------------------------------------


async def test_the_author_opens_their_attachments_others_cannot(world: World) -> None:
    bot, member = world.bot, world.member
    case = await submit(
        bot,
        member,
        files=[
            ("photo", PNG, "现场照片"),
            ("document", real_pdf("韩梅梅"), "韩梅梅-温度记录.pdf"),
            ("voice", OGG, ""),
        ],
    )
    await member.send("📂 我的诉求")
    await member.press(f"{case.code} · 💰 工资 · 🔔 新诉求，待接手")
    await member.press("📎 我的附件（3）")
    panel = await member.last_bot_message()
    assert "1. 📷 照片 · 现场照片" in panel.text and "2. 📄" in panel.text and "3. 🎙" in panel.text
    assert buttons(panel)[:3] == ["1", "2", "3"]
    await member.press("2")
    sent = await member.last_bot_message()
    assert sent.media is not None and sent.media.kind == "document"
    assert sent.media.file_name == "附件-2.pdf"  # the cleaned copy the cadres got
    assert b"\xe9\x9f\xa9" not in await bot.driver.download(sent.media.url)
    assert case.code in (sent.caption or "")
    panel_id = panel.message_id
    await member.press_data(panel_id, f"gvfile:{case.id}:2")
    photo = await member.last_bot_message()
    assert photo.media is not None and photo.media.kind == "photo"
    await member.press_data(panel_id, f"gvfile:{case.id}:4")
    voice = await member.last_bot_message()
    assert voice.media is not None and voice.media.kind == "voice"
    # A press naming the case's text, or a number it does not have: refused.
    before = len(await member.bot_messages())
    await member.press_data(panel_id, f"gvfile:{case.id}:1")
    assert "附件中没有" in (await member.callback_answers())[-1].text
    await member.press_data(panel_id, f"gvfile:{case.id}:99")
    assert "附件中没有" in (await member.callback_answers())[-1].text
    assert len(await member.bot_messages()) == before
    # Another member forging the button gets nothing.
    other = await registered(bot, "李雷", "质检科")
    await other.send("📂 我的诉求")
    mine = await other.last_bot_message()
    count = len(await other.bot_messages())
    await other.press_data(mine.message_id, f"gvfile:{case.id}:3")
    await other.press_data(mine.message_id, f"gvfls:{case.id}")
    answers = await other.callback_answers()
    assert [a.text for a in answers[-2:]] == ["这不是您提交的诉求。"] * 2
    assert len(await other.bot_messages()) == count


async def test_a_case_without_files_has_no_attachments_button(world: World) -> None:
    bot, member = world.bot, world.member
    case = await submit(bot, member)
    await member.send("📂 我的诉求")
    await member.press(f"{case.code} · 💰 工资 · 🔔 新诉求，待接手")
    assert not any("📎" in b for b in buttons(await member.last_bot_message()))
