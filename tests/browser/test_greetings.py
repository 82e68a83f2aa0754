"""Greetings in the browser: the admin opens 🎉 Greetings, fixes a text, previews it.

Drives the web chat as a person would, against the demo with its example data
(the union's own birthday text and founding day come from the demo seeder).
"""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect

from bot.demo_data import ADMIN_ID
from tests.browser.conftest import Screens
from tests.support.web import inline_button, start_chat

pytestmark = pytest.mark.browser


async def test_admin_edits_and_previews_the_birthday_greeting(page: Page, screens: Screens) -> None:
    text_input = await start_chat(page, ADMIN_ID)
    await text_input.fill("/admin")
    await text_input.press("Enter")

    def inline(label: str) -> Locator:
        return inline_button(page, label)

    await inline("🎉 节日问候").click()
    last_text = page.get_by_test_id("message-text").last
    await expect(last_text).to_contain_text("问候在当天 09:00（北京时间）起发出")
    await expect(
        page.get_by_test_id("inline-button").filter(has_text="工会成立纪念日")
    ).to_be_visible()
    await screens.shot("greetings-home")

    await inline("生日 · 每天").click()
    await expect(last_text).to_contain_text("生日蛋糕券")  # the demo union's own text
    await expect(last_text).to_contain_text("问候语（简体中文，自定义）")
    await screens.shot("birthday-card")

    await inline("✏️ 简体中文").click()
    await text_input.fill("{姓名}，生日快乐！")
    await text_input.press("Enter")
    await expect(last_text).to_contain_text("{姓名} 不是可用的占位符，未作保存")
    await text_input.fill("🎂 {name}，祝您生日快乐！工会的蛋糕券请到工会办公室领取。")
    await text_input.press("Enter")
    await expect(last_text).to_contain_text("祝您生日快乐")
    await screens.shot("saved")

    await inline("👁 预览").click()
    preview = page.get_by_test_id("message-text").filter(has_text="周主席，祝您生日快乐")
    await expect(preview).to_be_visible()
    await expect(
        page.get_by_test_id("message-text").filter(has_text="Happy birthday, 周主席!")
    ).to_be_visible()
    await preview.scroll_into_view_if_needed()
    await screens.shot("preview")
