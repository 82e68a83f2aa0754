"""Grievances in the browser: a member sends one anonymously, a cadre takes and answers it.

Clicks and typing only, against the demo (its seeder sets up the categories);
the sandbox driver is used only to read which message is the card.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from bot.demo import CADRE_GROUP_TITLE
from bot.demo_data import CADRE_CHAT_ID, CADRE_ID, PEOPLE
from sandbox import SandboxDriver
from tests.browser.conftest import Screens
from tests.support.web import be, inline_button, reply_button, say

pytestmark = pytest.mark.browser
SLOW = 20_000  # the card comes through the outbox, paced as for Telegram


async def test_member_sends_a_grievance_and_a_cadre_answers_it(
    page: Page, screens: Screens, driver: SandboxDriver
) -> None:
    member = PEOPLE[2]  # 王小明
    await be(page, member.telegram_id)
    await expect(page.get_by_test_id("chat-title")).to_have_text("工会助手")
    start = page.get_by_test_id("start-button")
    if await start.is_visible():
        await start.click()
    else:
        await say(page, "/start")
    await reply_button(page, "📝 提交诉求").click()
    await reply_button(page, "⏱ 工作量").click()
    await reply_button(page, "🟢 普通").click()
    await say(page, "二号线连续两周每天加班三小时，人手不够。")
    await expect(page.get_by_test_id("message-text").last).to_contain_text("隐藏信息")
    await screens.shot("metadata-warning")
    await reply_button(page, "📝 只发文字").click()
    await reply_button(page, "✅ 匿名发送").click()
    receipt = page.get_by_test_id("message-text").last
    await expect(receipt).to_contain_text("已匿名发送")
    code = re.search(r"G-[2-9A-Z]{4,}", await receipt.inner_text())
    assert code is not None
    await screens.shot("receipt")

    await be(page, CADRE_ID)
    await page.get_by_test_id(f"chat-{CADRE_CHAT_ID}").click()
    await expect(page.get_by_test_id("chat-title")).to_have_text(CADRE_GROUP_TITLE)
    card_text = page.get_by_test_id("message-text").filter(has_text=code.group(0)).first
    await expect(card_text).to_be_visible(timeout=SLOW)
    await expect(card_text).not_to_contain_text("王小明")
    await inline_button(page, "✋ 接手").click()
    await expect(card_text).to_contain_text("李干事")
    card = next(
        m
        for m in await driver.messages(CADRE_CHAT_ID)
        if m.text and code.group(0) in m.text and "📝" in m.text
    )
    bubble = page.get_by_test_id(f"message-{card.message_id}")
    await bubble.get_by_test_id("reply-action").click()
    await say(page, "已联系车间主任，本周内调配两名人手。")
    await expect(page.get_by_test_id("message-text").last).to_contain_text("已以“工会”名义转交")
    await screens.shot("cadre-answers")

    await be(page, member.telegram_id)
    answer = page.get_by_test_id("message-text").filter(has_text="本周内调配两名人手").last
    await expect(answer).to_be_visible(timeout=SLOW)
    await expect(answer).to_contain_text("工会对您的诉求")
    await expect(answer).not_to_contain_text("李干事")
    await reply_button(page, "📂 我的诉求").click()
    await expect(inline_button(page, f"{code.group(0)} · ⏱ 工作量 · 💬 已答复")).to_be_visible()
    await screens.shot("member-gets-the-answer")
