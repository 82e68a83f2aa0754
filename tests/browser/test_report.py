"""The report in the browser: 周主席 sends /report and sees last month's numbers and charts.

Against the demo with its example data (last month's finished cases and ratings).
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Screens

pytestmark = pytest.mark.browser
ZHOU = 700000001  # 周主席, the demo's admin


async def test_admin_opens_the_report_and_sees_the_charts(page: Page, screens: Screens) -> None:
    await page.get_by_test_id(f"person-{ZHOU}").locator(".person-row").click()
    start = page.get_by_test_id("start-button")
    text_input = page.get_by_test_id("message-input")
    await expect(start.or_(text_input).filter(visible=True)).to_be_visible()
    if await start.is_visible():
        await start.click()
    await text_input.fill("/report")
    await text_input.press("Enter")

    summary = page.get_by_test_id("message-text").filter(has_text="工会报告")
    await expect(summary.last).to_contain_text("本期新增诉求：29")
    await expect(summary.last).to_contain_text("诉求处理满意度")
    photos = page.locator('[data-from="bot"]').get_by_test_id("message-photo")
    await expect(photos).to_have_count(2)
    for index in range(2):
        await expect(photos.nth(index)).to_be_visible()
        assert await photos.nth(index).evaluate("image => image.naturalWidth") >= 800
    chip = page.locator('[data-from="bot"]').get_by_test_id("file-chip").last
    await expect(chip).to_contain_text("union-report-")
    await summary.last.scroll_into_view_if_needed()
    await screens.shot("summary")
    await chip.scroll_into_view_if_needed()
    await screens.shot("charts")
