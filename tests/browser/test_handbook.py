"""The handbook in the browser: a member opens 📖 职工服务手册, reads an entry, searches.

Drives the web chat as a person would, against the demo with its example data
(the default handbook, and 职工疗休养 the demo union added).
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Screens
from tests.support.web import exactly

pytestmark = pytest.mark.browser
CHEN = 700000006  # 陈静, a registered member


async def test_member_browses_and_searches_the_handbook(page: Page, screens: Screens) -> None:
    await page.get_by_test_id(f"person-{CHEN}").locator(".person-row").click()
    start = page.get_by_test_id("start-button")
    text_input = page.get_by_test_id("message-input")
    await expect(start.or_(text_input).filter(visible=True)).to_be_visible()
    if await start.is_visible():
        await start.click()
    await text_input.fill("/handbook")
    await text_input.press("Enter")

    last_text = page.get_by_test_id("message-text").last
    await expect(last_text).to_contain_text("请选择主题")
    buttons = page.get_by_test_id("inline-button")
    await screens.shot("contents")

    await buttons.filter(has_text=exactly("📂 困难职工帮扶")).last.click()
    await expect(last_text).to_contain_text("困难职工帮扶")
    await buttons.filter(has_text=exactly("📄 如何申请困难职工帮扶")).last.click()
    await expect(last_text).to_contain_text("15 个工作日内答复")
    await screens.shot("entry")

    await buttons.filter(has_text=exactly("🔍 搜索")).last.click()
    await expect(last_text).to_contain_text("请输入几个关键词")
    await text_input.fill("薪水")
    await text_input.press("Enter")
    await expect(last_text).to_contain_text("手册中关于“薪水”的内容")
    await expect(buttons.filter(has_text=exactly("📄 工资被拖欠怎么办")).last).to_be_visible()
    await screens.shot("search")

    await text_input.fill("我的工资被拖欠了怎么办")
    await text_input.press("Enter")
    await expect(last_text).to_contain_text("职工服务手册里这些内容也许有帮助")
    await screens.shot("free-text")
