"""Broadcasts in the browser: the admin writes an announcement for the basketball team,
previews it, sends it, watches its progress turn into a report, and a player reads it.

Drives the web chat as a person would, against the demo with its example data.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect

from bot.demo_data import ADMIN_ID
from tests.browser.conftest import Screens
from tests.support.web import exactly, start_chat

pytestmark = pytest.mark.browser
WANG = 700000003  # 王小明, in 篮球队
ZHANG = 700000004  # 张丽, not in 篮球队
TEXT = "篮球队周六上午9点友谊赛，请8点半到球场集合。"
ENGLISH = "Basketball team: friendly match on Saturday at 9 am, please be at the court by 8:30."


def message(page: Page, text: str) -> Locator:
    """The newest message containing ``text`` (other features may write meanwhile)."""
    return (
        page.locator("[data-testid^='message-']")
        .filter(has=page.get_by_test_id("message-text").filter(has_text=text))
        .last
    )


async def test_admin_broadcasts_to_an_interest_group(page: Page, screens: Screens) -> None:
    text_input = await start_chat(page, ADMIN_ID)
    await text_input.fill("/admin")
    await text_input.press("Enter")
    await page.get_by_test_id("inline-button").filter(has_text=exactly("📢 发通知")).last.click()
    await expect(message(page, "请发送通知内容")).to_be_visible()
    await text_input.fill(TEXT)
    await text_input.press("Enter")
    offer = message(page, "要添加英文版吗？")
    await offer.get_by_test_id("inline-button").filter(has_text=exactly("➕ 英文版")).click()
    await expect(message(page, "请发送英文内容")).to_be_visible()
    await text_input.fill(ENGLISH)
    await text_input.press("Enter")

    picker = message(page, "发给哪些会员")
    await picker.get_by_test_id("inline-button").filter(has_text=exactly("🎯 篮球队")).click()
    await expect(picker).to_contain_text("接收人数：2")  # 王小明 and 刘强
    await expect(
        picker.get_by_test_id("inline-button").filter(has_text=exactly("✅ 🎯 篮球队"))
    ).to_be_visible()
    await screens.shot("audience")

    await picker.get_by_test_id("inline-button").filter(has_text=exactly("预览 ›")).click()
    control = message(page, "会员收到的内容与上面完全一致")
    await expect(control).to_contain_text("发送对象：兴趣小组：篮球队")
    await expect(control).to_contain_text("每位会员只收到上面两个版本中的一个")
    await expect(message(page, "中文会员将收到：")).to_be_visible()
    await expect(message(page, "英文会员将收到：")).to_be_visible()
    await expect(message(page, TEXT)).to_be_visible()
    await expect(message(page, ENGLISH)).to_be_visible()
    await screens.shot("preview")

    await control.get_by_test_id("inline-button").filter(has_text=exactly("✅ 立即发送")).click()
    await expect(message(page, "正在发送给 2 名会员")).to_be_visible()
    # The progress message is edited by the job every few seconds, then the report arrives.
    progress = message(page, "📢 通知 #3 —")
    await expect(progress).to_contain_text("✅ 已完成", timeout=20_000)
    await expect(progress).to_contain_text("已发送：2")
    report = message(page, "已发送完毕")
    await expect(report).to_contain_text("送达：2", timeout=20_000)
    await report.scroll_into_view_if_needed()
    await screens.shot("report")

    await start_chat(page, WANG)
    await expect(message(page, TEXT)).to_be_visible()
    await screens.shot("member")
    await start_chat(page, ZHANG)
    await expect(page.get_by_test_id("message-text").filter(has_text=TEXT)).to_have_count(0)


async def test_the_demo_paces_a_broadcast_so_its_progress_can_be_paused(
    page: Page, screens: Screens
) -> None:
    """To everyone (12 members, a second apart in the demo): Pause, then Resume, then done."""
    text_input = await start_chat(page, ADMIN_ID)
    await text_input.fill("/admin")
    await text_input.press("Enter")
    await page.get_by_test_id("inline-button").filter(has_text=exactly("📢 发通知")).last.click()
    await expect(message(page, "请发送通知内容")).to_be_visible()
    await text_input.fill("全体会员：本周五下午厂区停电检修。")
    await text_input.press("Enter")
    offer = message(page, "要添加英文版吗？")
    await offer.get_by_test_id("inline-button").filter(has_text=exactly("⏭ 跳过")).click()
    picker = message(page, "发给哪些会员")
    await picker.get_by_test_id("inline-button").filter(has_text=exactly("👥 全体会员")).click()
    await expect(picker).to_contain_text("接收人数：12")
    await picker.get_by_test_id("inline-button").filter(has_text=exactly("预览 ›")).click()
    control = message(page, "会员收到的内容与上面完全一致")
    await control.get_by_test_id("inline-button").filter(has_text=exactly("✅ 立即发送")).click()
    progress = message(page, "📤 发送中")
    pause = progress.get_by_test_id("inline-button").filter(has_text=exactly("⏸ 暂停"))
    await expect(pause).to_be_visible(timeout=10_000)
    await screens.shot("progress-while-sending")
    await pause.click()
    resume = page.get_by_test_id("inline-button").filter(has_text=exactly("▶️ 继续"))
    await expect(resume.last).to_be_visible()
    await screens.shot("paused")
    await resume.last.click()
    report = message(page, "已发送完毕")
    await expect(report).to_be_visible(timeout=40_000)
