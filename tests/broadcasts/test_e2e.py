"""Broadcasts end to end: an admin composes, targets, previews and sends; members receive.

A real bot against the sandbox over HTTP, with the real delivery worker; the
broadcast jobs are called with the fake clock rather than waited for.
"""

from __future__ import annotations

from datetime import UTC, datetime

from jobs import broadcasts as jobs
from jobs.delivery import start_delivery, stop_delivery
from storage.models import Role
from tests.support.bot import BotHarness
from tests.support.broadcasts import (
    broadcast_outbox,
    broadcast_rows,
    statuses,
    wait_final,
    wake,
)
from tests.support.chat import buttons, last_with, received, wait_received, wait_text
from tests.support.config import ADMIN_ID
from tests.support.media import make_png
from tests.support.members import Person, add_member, add_people

ANNOUNCEMENT = "周五下午3点在<职工食堂>召开职工大会 & 选举，请准时参加。"


async def progress(bot: BotHarness) -> None:
    """What the JobQueue does every few seconds, a few seconds later on the fake clock."""
    bot.clock.advance(seconds=5)
    await jobs.refresh_progress(bot.runtime, bot.application.bot, bot.clock(), wake=wake(bot))


async def test_compose_target_preview_send_and_report(bot: BotHarness) -> None:
    people = await add_people(
        bot,
        [
            Person("王小明", "装配车间", groups=("篮球队",)),
            Person("李雷", "质检科"),
            Person("张丽", "质检科", tags=("新员工",)),
            Person("赵敏", "仓储物流部", tags=("新员工",)),
            Person("陈静", "质检科"),  # blocks the bot without the bot noticing
            Person("刘强", "质检科"),  # blocks the bot, and the bot is told
            Person("孙涛", "仓储物流部"),  # in no chosen audience
        ],
    )
    await people["陈静"].block_bot(notify=False)
    await people["刘强"].block_bot(notify=True)
    admin = await bot.driver.user(ADMIN_ID)

    await admin.send("/broadcast")
    await last_with(admin, "请发送通知内容")
    await admin.send(ANNOUNCEMENT)
    await admin.press("⏭ 跳过")
    picker = await last_with(admin, "发给哪些会员")
    assert "接收人数：0" in picker.text
    await admin.press("🏢 质检科")
    await admin.press("🎯 篮球队")
    await admin.press("🏷 新员工")
    picker = await last_with(admin, "发给哪些会员")
    # 质检科 4 + 篮球队 1 + 新员工 2, of whom 张丽 is counted once: 6.
    assert "接收人数：6" in picker.text
    assert "✅ 🏢 质检科" in {b.text for row in picker.buttons for b in row}

    await admin.press("预览 ›")
    preview = await last_with(admin, ANNOUNCEMENT, exact=True)
    control = await last_with(admin, "👆 预览")
    assert "接收人数：6" in control.text and "其中 1 人已屏蔽" in control.text
    assert await broadcast_rows(bot) == [] and await broadcast_outbox(bot) == []

    await admin.press("✅ 立即发送")
    await last_with(admin, "正在发送给 6 名会员")
    (broadcast,) = await broadcast_rows(bot)
    assert broadcast.recipients == 6 and broadcast.progress_message_id is not None
    rows = await broadcast_outbox(bot, f"broadcast:{broadcast.id}")
    assert len(rows) == 6 and len({r.key for r in rows}) == 6

    reachable = [people[n] for n in ("王小明", "李雷", "张丽", "赵敏")]
    await wait_received(bot, reachable)
    for user in reachable:
        (message,) = await received(user)
        assert message.text == ANNOUNCEMENT and message.html == preview.html
    for name in ("陈静", "刘强", "孙涛"):
        assert await received(people[name]) == []
    assert await wait_final(bot, f"broadcast:{broadcast.id}") == ["blocked"] * 2 + ["sent"] * 4

    await progress(bot)
    report = await wait_text(bot, admin, "已发送完毕")
    assert "送达：4" in report.text and "已屏蔽机器人：2" in report.text
    assert "发送失败：0" in report.text
    status = next(
        m for m in await admin.bot_messages() if m.message_id == broadcast.progress_message_id
    )
    assert "✅ 已完成" in status.text and "已发送：4" in status.text and not status.buttons
    (broadcast,) = await broadcast_rows(bot)
    assert (broadcast.status, broadcast.sent, broadcast.blocked, broadcast.failed) == (
        "done",
        4,
        2,
        0,
    )
    # The job runs again (or on a second instance): no second report.
    await progress(bot)
    reports = [m for m in await admin.bot_messages() if "发送报告" in m.text]
    assert len(reports) == 1


async def test_pause_then_resume(bot: BotHarness) -> None:
    people = await add_people(
        bot, [Person(f"Worker {i}", "Assembly", language="en") for i in range(3)]
    )
    await add_people(bot, [Person("Admin", "Office", language="en")])  # not the admin's chat
    admin = await bot.driver.user(ADMIN_ID)
    await stop_delivery(bot.application)  # hold the messages so the pause has something to hold

    await admin.send("/admin")
    await admin.press("📢 发通知")
    await admin.send("Shift change on Monday.")
    await admin.press("⏭ 跳过")
    await admin.press("🏢 Assembly")
    await admin.press("预览 ›")
    await admin.press("✅ 立即发送")
    (broadcast,) = await broadcast_rows(bot)
    group = f"broadcast:{broadcast.id}"
    assert await statuses(bot, group) == ["pending"] * 3

    await admin.press("⏸ 暂停")
    assert "已暂停" in (await admin.callback_answers())[-1].text
    status = await wait_text(bot, admin, "📢 通知 #")
    assert "⏸ 已暂停" in status.text and status.button("▶️ 继续") is not None
    assert await statuses(bot, group) == ["paused"] * 3

    await start_delivery(bot.application)
    await bot.driver.wait_idle(quiet=0.5)
    assert [await received(u) for u in people.values()] == [[], [], []]

    await admin.press("▶️ 继续")
    await wait_received(bot, list(people.values()))
    assert await wait_final(bot, group) == ["sent"] * 3
    await progress(bot)
    report = await wait_text(bot, admin, "已发送完毕")
    assert "送达：3" in report.text


async def test_stop_sends_nothing_more_and_reports(bot: BotHarness) -> None:
    people = await add_people(bot, [Person(f"工人{i}", "维修班") for i in range(3)])
    admin = await bot.driver.user(ADMIN_ID)
    await stop_delivery(bot.application)
    await admin.send("/broadcast")
    await admin.send("明天停电检修。")
    await admin.press("⏭ 跳过")
    await admin.press("👥 全体会员")
    await admin.press("预览 ›")
    await admin.press("✅ 立即发送")

    await admin.press("✖️ 停止")
    await admin.press("确定停止发送")
    assert "已停止" in (await admin.callback_answers())[-1].text
    status = await wait_text(bot, admin, "📢 通知 #")
    assert "✖️ 已取消" in status.text and not status.buttons
    (broadcast,) = await broadcast_rows(bot)
    assert await statuses(bot, f"broadcast:{broadcast.id}") == ["cancelled"] * 3

    await start_delivery(bot.application)
    report = await wait_text(bot, admin, "已停止发送")
    assert "未发送（已取消）：3" in report.text and "送达：0" in report.text
    assert [await received(u) for u in people.values()] == [[], [], []]
    # A stale Pause press on the finished broadcast changes nothing.
    await admin.press_data(status.message_id, f"bcpau:{broadcast.id}")
    assert "状态刚刚有了变化" in (await admin.callback_answers())[-1].text
    assert (await broadcast_rows(bot))[0].status == "cancelled"


async def test_scheduled_broadcast_goes_out_at_its_time_once(bot: BotHarness) -> None:
    early = await add_people(bot, [Person("早到", "装配车间")])
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/broadcast")
    await admin.send("明早九点开安全例会。")
    await admin.press("⏭ 跳过")
    await admin.press("🏢 装配车间")
    await admin.press("预览 ›")
    await admin.press("🕒 定时发送")
    # The fake clock says 2026-11-24 10:00 in Shanghai.
    await admin.send("明天")  # a day without an hour: asked for the hour
    await last_with(admin, "请把钟点也写上")
    await admin.send("下个月")
    await last_with(admin, "没能看懂这个时间")
    await admin.send("明早9点")  # in words: proposed
    await last_with(admin, "您是指 2026年11月25日（周三）09:00 吗？")
    await admin.press("✏️ 重新输入")
    await admin.send("2026-11-24 09:00")
    await last_with(admin, "这个时间已经过去了")
    await admin.send("明早9点")
    await admin.press("✅ 确认")  # as if 2026-11-25 09:00 was typed
    await last_with(admin, "将于 2026-11-25 09:00 发送")
    status = await last_with(admin, "定于 2026-11-25 09:00 发送")
    (broadcast,) = await broadcast_rows(bot)
    assert broadcast.status == "scheduled" and await broadcast_outbox(bot) == []

    # Recipients are counted at the time: someone who joins meanwhile is included.
    late = await add_people(bot, [Person("后到", "装配车间")])
    bot.clock.now = datetime(2026, 11, 25, 0, 59, tzinfo=UTC)
    assert await jobs.start_due(bot.runtime, bot.clock(), wake=wake(bot)) == []
    bot.clock.now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    await jobs.start_due(bot.runtime, bot.clock(), wake=wake(bot))
    assert await jobs.start_due(bot.runtime, bot.clock(), wake=wake(bot)) == []
    recipients = [early["早到"], late["后到"]]
    await wait_received(bot, recipients)
    assert await wait_final(bot, f"broadcast:{broadcast.id}") == ["sent", "sent"]
    await progress(bot)
    await wait_text(bot, admin, "已发送完毕")
    # The status message sent at scheduling is the one that was kept up to date.
    edited = next(m for m in await admin.bot_messages() if m.message_id == status.message_id)
    assert "✅ 已完成" in edited.text and "已发送：2" in edited.text
    for user in recipients:
        assert [m.text for m in await received(user)] == ["明早九点开安全例会。"]


async def test_cancel_a_scheduled_broadcast_from_the_list(bot: BotHarness) -> None:
    people = await add_people(bot, [Person("会员甲", "装配车间")])
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/broadcast")
    await admin.send("下周体检。")
    await admin.press("⏭ 跳过")
    await admin.press("👥 全体会员")
    await admin.press("预览 ›")
    await admin.press("🕒 定时发送")
    await admin.send("2026年11月30日 8点")
    await admin.send("/broadcasts")
    listing = await last_with(admin, "通知公告（共 1 条）")
    assert "定时待发" in listing.text and "下周体检" in listing.text
    (broadcast,) = await broadcast_rows(bot)
    await admin.press(f"#{broadcast.id} · 下周体检。")
    await admin.press("✖️ 取消发送")
    await admin.press("确定取消")
    view = await last_with(admin, f"📢 通知 #{broadcast.id}")
    assert "✖️ 已取消" in view.text and view.button("« 通知列表") is not None
    bot.clock.now = datetime(2026, 12, 1, tzinfo=UTC)
    assert await jobs.start_due(bot.runtime, bot.clock(), wake=wake(bot)) == []
    assert await broadcast_outbox(bot) == []
    assert await received(people["会员甲"]) == []


async def test_photo_broadcast_reaches_members_as_a_photo(bot: BotHarness) -> None:
    people = await add_people(bot, [Person("摄影爱好者", "质检科", groups=("摄影协会",))])
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/broadcast")
    sent = await admin.send_photo(make_png(64, 48), caption="摄影展作品征集开始啦")
    await admin.press("⏭ 跳过")
    await admin.press("🎯 摄影协会")
    await admin.press("预览 ›")
    preview = await last_with(admin, "摄影展作品征集开始啦", exact=True)
    assert preview.media is not None and preview.media.kind == "photo"
    await admin.press("✅ 立即发送")
    await wait_received(bot, [people["摄影爱好者"]])
    (photo,) = await received(people["摄影爱好者"])
    assert photo.caption == "摄影展作品征集开始啦" and photo.media is not None
    assert photo.media.file_unique_id == sent.message.media.file_unique_id  # type: ignore[union-attr]


async def test_formatted_text_is_checked_before_anything_is_sent(bot: BotHarness) -> None:
    people = await add_people(bot, [Person("会员乙", "装配车间")])
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/broadcast")
    await admin.send("<b>重要通知：明天放假")
    await admin.press("⏭ 跳过")
    await admin.press("👥 全体会员")
    await admin.press("预览 ›")
    await admin.press("🔤 按格式（HTML）发送")
    refusal = await last_with(admin, "格式有误")
    assert "标签 <b> 开始后没有结束" in refusal.text
    assert await broadcast_rows(bot) == []

    await admin.send("/broadcast")
    await admin.send("<b>重要通知</b>：明天放假 &amp; 调休")
    await admin.press("⏭ 跳过")
    await admin.press("👥 全体会员")
    await admin.press("预览 ›")
    await admin.press("🔤 按格式（HTML）发送")
    preview = await last_with(admin, "重要通知：明天放假 & 调休", exact=True)
    assert "<b>重要通知</b>" in preview.html
    assert "文字：按格式（HTML）" in (await last_with(admin, "👆 预览")).text
    await admin.press("✅ 立即发送")
    await wait_received(bot, [people["会员乙"]])
    (message,) = await received(people["会员乙"])
    assert message.html == preview.html


async def test_members_cannot_broadcast_and_forged_buttons_do_nothing(bot: BotHarness) -> None:
    people = await add_people(bot, [Person("好奇", "装配车间")])
    member = people["好奇"]
    await member.send("/broadcast")
    assert "只有工会管理员" in (await member.last_bot_message()).text
    await member.send("/broadcasts")
    assert "只有工会管理员" in (await member.last_bot_message()).text

    admin = await bot.driver.user(ADMIN_ID)
    await stop_delivery(bot.application)
    await admin.send("/broadcast")
    await admin.send("仅限管理员操作的测试")
    await admin.press("⏭ 跳过")
    await admin.press("👥 全体会员")
    await admin.press("预览 ›")
    control = await last_with(admin, "👆 预览")
    # The admin's draft button forged by a member: they have no draft, so it is stale.
    nonce = control.buttons[0][0].value.split(":")[1]
    await member.press_data((await member.last_bot_message()).message_id, f"bcsend:{nonce}")
    assert "按钮已失效" in (await member.callback_answers())[-1].text
    assert await broadcast_rows(bot) == []
    await admin.press("✅ 立即发送")
    (broadcast,) = await broadcast_rows(bot)
    await member.press_data((await member.last_bot_message()).message_id, f"bcpau:{broadcast.id}")
    assert "只有工会管理员" in (await member.callback_answers())[-1].text
    assert await statuses(bot, f"broadcast:{broadcast.id}") == ["pending"]
    # An old draft's button after the draft was sent is refused too.
    await admin.press_data(control.message_id, f"bcsend:{nonce}")
    assert "已失效" in (await admin.callback_answers())[-1].text
    assert len(await broadcast_rows(bot)) == 1


async def test_cancel_mid_compose_saves_nothing(bot: BotHarness) -> None:
    await add_people(bot, [Person("会员丙", "装配车间")])
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/broadcast")
    await admin.send("草稿内容")
    await admin.send("/cancel")
    await last_with(admin, "已取消")
    await admin.send("/broadcast")
    await admin.send("另一份草稿")
    await admin.press("✖️ 取消")
    await last_with(admin, "已取消，没有发送任何内容")
    assert await broadcast_rows(bot) == [] and await broadcast_outbox(bot) == []


async def test_a_photo_broadcast_is_listed_by_its_caption_or_as_a_photo(bot: BotHarness) -> None:
    people = await add_people(bot, [Person("摄影爱好者", "质检科", groups=("摄影协会",))])
    admin = await bot.driver.user(ADMIN_ID)
    for caption in ("摄影展作品征集开始啦", None):
        await admin.send("/broadcast")
        await admin.send_photo(make_png(64, 48), caption=caption)
        await admin.press("⏭ 跳过")  # no English version
        await admin.press("🎯 摄影协会")
        await admin.press("预览 ›")
        await admin.press("✅ 立即发送")
        await wait_received(bot, [people["摄影爱好者"]], count=1 if caption else 2)
    await admin.send("/broadcasts")
    listing = await last_with(admin, "通知公告（共 2 条）")
    print(listing.text, buttons(listing), sep="\n")
    assert "（无文字）" not in listing.text and "（无文字）" not in " ".join(buttons(listing))
    assert "摄影展作品征集开始啦" in listing.text and "📷 图片" in listing.text
    assert any(label.endswith("· 📷 图片") for label in buttons(listing))
    assert any(label.endswith("· 摄影展作品征集开始啦") for label in buttons(listing))


async def test_bilingual_broadcast_each_member_gets_their_version(bot: BotHarness) -> None:
    """With an English version, members who chose English get it; without one, the Chinese."""
    people = await add_people(
        bot,
        [
            Person("王小明", "装配车间"),
            Person("Mary", "Canteen", language="en"),
            Person("John", "Canteen", language="en"),
        ],
    )
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/broadcast")
    await admin.send("周五下午3点召开职工大会。")
    offer = await last_with(admin, "要添加英文版吗？")
    assert offer.button("➕ 英文版") is not None and offer.button("⏭ 跳过") is not None
    await admin.press("➕ 英文版")
    await last_with(admin, "请发送英文内容")
    await admin.send("The union assembly is on Friday at 3 pm.")
    await admin.press("👥 全体会员")
    await admin.press("预览 ›")
    # Both versions, each under the label of who receives it, then the controls.
    found = await admin.bot_messages()
    labels = [i for i, m in enumerate(found) if m.text in ("中文会员将收到：", "英文会员将收到：")]
    assert [found[i].text for i in labels] == ["中文会员将收到：", "英文会员将收到："]
    assert found[labels[0] + 1].text == "周五下午3点召开职工大会。"
    assert found[labels[1] + 1].text == "The union assembly is on Friday at 3 pm."
    control = await last_with(admin, "👆 预览")
    assert "每位会员只收到上面两个版本中的一个" in control.text and "接收人数：3" in control.text

    await admin.press("✅ 立即发送")
    (broadcast,) = await broadcast_rows(bot)
    assert broadcast.text == "周五下午3点召开职工大会。"
    assert broadcast.text_en == "The union assembly is on Friday at 3 pm."
    rows = await broadcast_outbox(bot, f"broadcast:{broadcast.id}")
    by_chat = {r.chat_id: r.payload["params"]["text"] for r in rows if r.payload}
    assert by_chat == {
        people["王小明"].id: "周五下午3点召开职工大会。",
        people["Mary"].id: "The union assembly is on Friday at 3 pm.",
        people["John"].id: "The union assembly is on Friday at 3 pm.",
    }
    await wait_received(bot, list(people.values()))
    assert [m.text for m in await received(people["王小明"])] == ["周五下午3点召开职工大会。"]
    assert [m.text for m in await received(people["Mary"])] == [
        "The union assembly is on Friday at 3 pm."
    ]

    # Without an English version, the members who chose English get the Chinese text.
    await admin.send("/broadcast")
    await admin.send("下周一停电检修。")
    await admin.press("⏭ 跳过")
    await admin.press("👥 全体会员")
    await admin.press("预览 ›")
    control = await last_with(admin, "👆 预览")
    assert "没有英文版：所有会员（包括选择英文的会员）都收到这段内容。" in control.text
    await admin.press("✅ 立即发送")
    second = (await broadcast_rows(bot))[-1]
    assert second.text_en is None
    await wait_final(bot, f"broadcast:{second.id}")
    for user in people.values():
        assert (await received(user))[-1].text == "下周一停电检修。"

    # The list names each broadcast by its Chinese text; the detail says it has both.
    await admin.send("/broadcasts")
    listing = await last_with(admin, "通知公告（共 2 条）")
    assert "周五下午3点召开职工大会。" in listing.text and "assembly" not in listing.text
    press = await admin.press(f"#{broadcast.id} · 周五下午3点召开职工大会。")
    [detail] = [m for m in await admin.bot_messages() if m.message_id == press.message_id]
    assert f"📢 通知 #{broadcast.id}" in detail.text
    assert "🔤 附英文版，发给选择英文的会员" in detail.text


async def test_an_english_caption_goes_with_the_same_photo(bot: BotHarness) -> None:
    people = await add_people(
        bot, [Person("摄影爱好者", "质检科"), Person("Ann", "Lab", language="en")]
    )
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/broadcast")
    await admin.send_photo(make_png(64, 48), caption="摄影展作品征集开始啦")
    await last_with(admin, "要添加英文说明文字吗？")
    await admin.press("➕ 英文版")
    await last_with(admin, "请以文字消息发送英文说明文字")
    await admin.send_photo(make_png(32, 32), caption="a second photo")
    await last_with(admin, "请以文字消息发送英文版")
    await admin.send("x" * 1025)  # a caption's limit, not a message's
    await last_with(admin, "最多 1024 个字符，附带图片或文件时最多 1024 个")
    await admin.send("The photo contest is open!")
    await admin.press("👥 全体会员")
    await admin.press("预览 ›")
    english = await last_with(admin, "The photo contest is open!", exact=True)
    assert english.media is not None and english.media.kind == "photo"
    await admin.press("✅ 立即发送")
    await wait_received(bot, list(people.values()))
    (photo,) = await received(people["Ann"])
    assert photo.caption == "The photo contest is open!" and photo.media is not None
    (chinese,) = await received(people["摄影爱好者"])
    assert chinese.caption == "摄影展作品征集开始啦"
    assert chinese.media is not None and chinese.media.file_unique_id == photo.media.file_unique_id


async def test_an_english_speaking_admin_reads_the_bilingual_screens_in_english(
    bot: BotHarness,
) -> None:
    await add_member(bot, ADMIN_ID, "Chair Zhou", language="en", role=Role.ADMIN)
    people = await add_people(bot, [Person("王小明", "装配车间")])
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/broadcast")
    await admin.send("安全演练上午10点。")
    offer = await last_with(admin, "Add an English version?")
    assert "Members who chose English receive it instead" in offer.text
    await admin.press("➕ English version")
    await last_with(admin, "Send the English text.")
    await admin.send("<b>Safety drill at 10 am.")
    await admin.press("👥 Everyone")
    await admin.press("Preview ›")
    assert await last_with(admin, "Chinese-speaking members receive:", exact=True)
    assert await last_with(admin, "English-speaking members receive:", exact=True)
    control = await last_with(admin, "👆 Preview")
    assert "Each member receives one of the two versions above" in control.text
    # The Chinese text is fine as formatting; the English one is not: both stay plain.
    await admin.press("🔤 Read as formatted (HTML)")
    refusal = await last_with(admin, "The English version is not valid formatting")
    assert "Near: <b>Safety dr" in refusal.text
    for message in await admin.bot_messages():  # the admin's screens, for a person to read
        print(message.text, [[b.text for b in row] for row in message.buttons])
    await admin.press("✅ Send now")
    await wait_received(bot, [people["王小明"]])
    assert [m.text for m in await received(people["王小明"])] == ["安全演练上午10点。"]


async def test_the_english_version_is_added_replaced_and_removed_from_the_preview(
    bot: BotHarness,
) -> None:
    """An admin who skipped the English step adds it from the preview, replaces it, removes
    it and adds it again, each time back at the preview; stale and forged presses refused."""
    people = await add_people(
        bot, [Person("王小明", "装配车间"), Person("Mary", "Canteen", language="en")]
    )
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/broadcast")
    await admin.send("周五下午3点召开职工大会。")
    await admin.press("⏭ 跳过")
    await admin.press("👥 全体会员")
    await admin.press("预览 ›")
    control = await last_with(admin, "👆 预览")
    assert "没有英文版" in control.text
    assert "➕ 添加英文版" in buttons(control) and "🗑 删除英文版" not in buttons(control)
    nonce = control.buttons[0][0].value.split(":")[1]

    # Asked for the English text, the admin goes back: nothing changed.
    await admin.press("➕ 添加英文版")
    prompt = await last_with(admin, "请发送英文内容")
    assert buttons(prompt) == ["« 返回预览"]
    await admin.press("« 返回预览")
    control = await last_with(admin, "👆 预览")
    assert "没有英文版" in control.text and "➕ 添加英文版" in buttons(control)

    await admin.press("➕ 添加英文版")
    await admin.send("The assembly is on Friday.")
    control = await last_with(admin, "👆 预览")
    assert "每位会员只收到上面两个版本中的一个" in control.text
    assert {"✏️ 更换英文版", "🗑 删除英文版"} <= set(buttons(control))
    assert "➕ 添加英文版" not in buttons(control)
    assert await last_with(admin, "The assembly is on Friday.", exact=True)

    await admin.press("✏️ 更换英文版")
    await last_with(admin, "请发送英文内容")
    await admin.send_photo(make_png(32, 32))  # not a text: refused, still asked
    await last_with(admin, "请以文字消息发送英文版")
    await admin.send("The union assembly is on Friday at 3 pm.")
    control = await last_with(admin, "👆 预览")
    labels = [m.text for m in await admin.bot_messages() if m.message_id > prompt.message_id]
    assert labels.count("英文会员将收到：") == 2  # once per preview with both versions
    assert await last_with(admin, "The union assembly is on Friday at 3 pm.", exact=True)

    await admin.press("🗑 删除英文版")
    removed = await last_with(admin, "👆 预览")
    assert "没有英文版：所有会员（包括选择英文的会员）都收到这段内容。" in removed.text
    # The older preview's "remove" again: there is nothing to remove, it says so.
    await admin.press_data(control.message_id, f"bcendr:{nonce}")
    assert "按钮已失效" in (await admin.callback_answers())[-1].text
    # The same button forged by a member, who has no draft at all.
    member = people["王小明"]
    await member.send("/start")
    await member.press_data((await member.last_bot_message()).message_id, f"bcened:{nonce}")
    assert "按钮已失效" in (await member.callback_answers())[-1].text

    await admin.press("➕ 添加英文版")
    await admin.send("The union assembly is on Friday at 3 pm.")
    await last_with(admin, "每位会员只收到上面两个版本中的一个")
    await admin.press("✅ 立即发送")
    (broadcast,) = await broadcast_rows(bot)
    assert broadcast.text_en == "The union assembly is on Friday at 3 pm."
    await wait_received(bot, list(people.values()))
    assert [m.text for m in await received(people["Mary"])] == [
        "The union assembly is on Friday at 3 pm."
    ]
    assert (await received(people["王小明"]))[-1].text == "周五下午3点召开职工大会。"
    # After it was sent, the draft's buttons are stale.
    await admin.press_data(removed.message_id, f"bcened:{nonce}")
    assert "已失效" in (await admin.callback_answers())[-1].text


async def test_an_english_speaking_admin_adds_the_english_version_from_the_preview(
    bot: BotHarness,
) -> None:
    await add_member(bot, ADMIN_ID, "Chair Zhou", language="en", role=Role.ADMIN)
    await add_people(bot, [Person("王小明", "装配车间")])
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/broadcast")
    await admin.send("安全演练上午10点。")
    await admin.press("⏭ Skip")
    await admin.press("👥 Everyone")
    await admin.press("Preview ›")
    control = await last_with(admin, "👆 Preview")
    assert "➕ Add an English version" in buttons(control)
    await admin.press("➕ Add an English version")
    prompt = await last_with(admin, "Send the English text.")
    assert buttons(prompt) == ["« Back to the preview"]
    await admin.send("Safety drill at 10 am.")
    control = await last_with(admin, "👆 Preview")
    assert "Each member receives one of the two versions above" in control.text
    assert {"✏️ Replace the English version", "🗑 Remove the English version"} <= set(
        buttons(control)
    )
    await admin.press("🗑 Remove the English version")
    control = await last_with(admin, "👆 Preview")
    assert "No English version" in control.text
