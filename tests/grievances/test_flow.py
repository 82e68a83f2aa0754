"""Grievances end to end: a member and cadres through the sandbox, on both databases."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import GrievanceAudit
from tests.support.chat import buttons
from tests.support.config import CADRE_CHAT
from tests.support.grievances import World, cases, submit
from tests.support.media import PNG, real_pdf
from tests.support.outbox import delivered

OGG = b"OggS" + b"\x00" * 60


async def test_submit_with_attachments_take_and_two_way_thread(world: World) -> None:
    bot, member, cadre = world.bot, world.member, world.cadre
    case = await submit(
        bot,
        member,
        files=[("photo", PNG, "现场照片"), ("document", real_pdf("韩梅梅"), "韩梅梅-温度记录.pdf")],
    )
    # The member got the copy the cadres get: neutral name, no author inside.
    copy = next(m for m in await member.bot_messages() if m.media and m.media.kind == "document")
    assert copy.media is not None and copy.media.file_name == "附件-2.pdf"
    assert "附件-2.pdf" in (copy.caption or "") and "隐藏信息已去除" in (copy.caption or "")
    receipt = await member.last_bot_message()
    assert case.code in receipt.text and "匿名" in receipt.text
    group = await bot.driver.messages(CADRE_CHAT)
    card = next(m for m in group if m.text and case.code in m.text and "✋ 接手" in buttons(m))
    assert "车间空调坏了" in card.text and "💰 工资" in card.text
    assert card.raw.get("protected") is True
    files = [m for m in group if m.media is not None]
    assert [m.media.kind for m in files] == ["photo", "document"]
    document = files[1].media
    assert document is not None and document.file_name == "附件-2.pdf"
    assert b"\xe9\x9f\xa9" not in await bot.driver.download(document.url)  # 韩, in any form
    assert all(case.code in (m.caption or "") and not m.forwarded for m in files)

    await cadre.press("✋ 接手", chat=CADRE_CHAT)
    await delivered(bot)
    assert "干部接手" in (await member.last_bot_message()).text
    card = next(m for m in await bot.driver.messages(CADRE_CHAT) if m.message_id == card.message_id)
    assert "李干事" in card.text and "✋ 接手" not in buttons(card)

    await cadre.send("我们明天上午去车间查看。", chat=CADRE_CHAT, reply_to=card.message_id)
    await delivered(bot)
    answer = await member.last_bot_message()
    assert "工会" in answer.text and "明天上午" in answer.text and "李干事" not in answer.text

    await member.send("谢谢，请尽快。", reply_to=answer.message_id)
    await delivered(bot)
    relayed = (await bot.driver.messages(CADRE_CHAT))[-1]
    assert "请尽快" in relayed.text and case.code in relayed.text
    assert relayed.reply_to == card.message_id

    async with bot.runtime.sessions() as session:
        actions = list(await session.scalars(select(GrievanceAudit.action)))
    assert actions == ["took", "replied"]
    assert (await cases(bot))[0].status == "answered"


async def _card(bot, code: str, chat: int = CADRE_CHAT):  # type: ignore[no-untyped-def]
    found = [
        m for m in await bot.driver.messages(chat) if m.text and code in m.text and "📝" in m.text
    ]
    assert found, f"no card of {code} in {chat}"
    return found[0]


async def test_member_edits_are_relayed_as_edits(world: World) -> None:
    bot, member = world.bot, world.member
    await member.send("📝 提交诉求")
    await member.send("💰 工资")
    await member.send("🟢 普通")
    original = await member.send("加班费没有按时发放。")
    await member.send("📝 只发文字")
    await member.send("✅ 匿名发送")
    await delivered(bot)
    case = (await cases(bot))[0]
    await member.edit(original.message_id, "十月的加班费没有按时发放。")
    card = await _card(bot, case.code)
    assert "十月的加班费" in card.text and card.edited

    await member.send("📂 我的诉求")
    await member.press(f"{case.code} · 💰 工资 · 🔔 新诉求，待接手")
    await member.press("➕ 补充内容")
    extra = await member.send("共少发了三天。")
    await member.send("✅ 完成")
    await delivered(bot)
    relayed = (await bot.driver.messages(CADRE_CHAT))[-1]
    assert "三天" in relayed.text
    await member.edit(extra.message_id, "共少发了四天。")
    relayed = next(
        m for m in await bot.driver.messages(CADRE_CHAT) if m.message_id == relayed.message_id
    )
    assert "四天" in relayed.text and "会员已修改" in relayed.text


async def test_sla_escalation_on_the_clock_happens_once(world: World) -> None:
    from tests.support.config import ESCALATION_CHAT
    from tests.support.grievances import tick

    bot, member = world.bot, world.member
    case = await submit(bot, member)
    assert (await tick(bot)).escalated == 0
    bot.clock.advance(hours=25)  # wages: 24 h to take
    report = await tick(bot)
    assert report.escalated == 1
    upstairs = await _card(bot, case.code, ESCALATION_CHAT)
    assert "未按时接手" in upstairs.text
    cards = [m for m in await bot.driver.messages(CADRE_CHAT) if m.text and "📝" in m.text]
    assert len(cards) == 2 and all("未按时接手" in m.text for m in cards)  # re-posted, redrawn
    assert "上级工会" in (await member.last_bot_message()).text
    before = len(await bot.driver.messages(ESCALATION_CHAT))
    assert (await tick(bot)).escalated == 0
    assert len(await bot.driver.messages(ESCALATION_CHAT)) == before
    row = (await cases(bot))[0]
    assert row.take_breached_at is not None and row.escalation == "take"


async def test_resolve_rate_and_comment(world: World) -> None:
    bot, member, cadre = world.bot, world.member, world.cadre
    case = await submit(bot, member)
    await cadre.press("✋ 接手", chat=CADRE_CHAT)
    await cadre.press("✅ 办结", chat=CADRE_CHAT)
    await cadre.press("✅ 确认办结", chat=CADRE_CHAT)
    await delivered(bot)
    notice = await member.last_bot_message()
    assert "办结" in notice.text and "4⭐" in buttons(notice)
    await member.press("4⭐")
    await member.send("处理得很及时。")
    await delivered(bot)
    row = (await cases(bot))[0]
    assert (row.status, row.rating) == ("resolved", 4)
    assert row.rating_comment is not None and "及时" not in row.rating_comment  # sealed
    group = await bot.driver.messages(CADRE_CHAT)
    assert any(m.text and "处理得很及时" in m.text for m in group)
    card = await _card(bot, case.code)
    assert "4/5" in card.text and buttons(card) == ["🔇 禁言"]
    await member.press_data(notice.message_id, f"gvrate:{row.id}:1")
    assert "已经评价" in (await member.callback_answers())[-1].text
    assert (await cases(bot))[0].rating == 4


async def test_mute_stops_new_cases_without_unmasking(world: World) -> None:
    bot, member, cadre = world.bot, world.member, world.cadre
    case = await submit(bot, member)
    await cadre.press("🔇 禁言", chat=CADRE_CHAT)
    await cadre.press("🔇 7 天", chat=CADRE_CHAT)
    card = await _card(bot, case.code)
    assert "禁言至" in card.text and "韩梅梅" not in card.text
    await member.send("📝 提交诉求")
    assert "不能提交新诉求" in (await member.last_bot_message()).text
    assert len(await cases(bot)) == 1
    bot.clock.advance(days=8)
    await member.send("📝 提交诉求")
    assert "哪方面" in (await member.last_bot_message()).text


async def test_member_closes_and_cadre_buttons_then_refused(world: World) -> None:
    bot, member, cadre = world.bot, world.member, world.cadre
    case = await submit(bot, member)
    await member.send("📂 我的诉求")
    await member.press(f"{case.code} · 💰 工资 · 🔔 新诉求，待接手")
    await member.press("🔒 关闭诉求")
    await member.press("🔒 确认关闭")
    await delivered(bot)
    assert "5⭐" in buttons(await member.last_bot_message())
    group = await bot.driver.messages(CADRE_CHAT)
    assert any(m.text and "会员已关闭" in m.text for m in group)
    card = await _card(bot, case.code)
    assert buttons(card) == ["🔇 禁言"]
    await cadre.press_data(card.message_id, f"gvtake:{case.id}", chat=CADRE_CHAT)
    assert "已结案" in (await cadre.callback_answers())[-1].text
    row = (await cases(bot))[0]
    assert row.status == "closed" and row.taken_at is None


async def test_signed_case_shows_the_name_only_after_the_choice(world: World) -> None:
    bot, member = world.bot, world.member
    case = await submit(bot, member)
    assert "韩梅梅" not in (await _card(bot, case.code)).text
    await member.send("📂 我的诉求")
    await member.press(f"{case.code} · 💰 工资 · 🔔 新诉求，待接手")
    await member.press("✍️ 署上我的姓名")
    assert "韩梅梅" in (await member.last_bot_message()).text
    await member.press("✍️ 确认署名")
    await delivered(bot)
    assert "韩梅梅" in (await _card(bot, case.code)).text
    row = (await cases(bot))[0]
    assert row.signature is not None and "韩梅梅" not in row.signature
