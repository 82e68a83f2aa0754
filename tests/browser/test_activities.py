"""Activities in the browser: a member opens 🎉 Activities, signs up, and the seats go down.

Drives the web chat as a person would, against the demo with its example data
(the basketball match seeded with 2 of 10 seats taken).
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Screens
from tests.support.web import exactly

pytestmark = pytest.mark.browser
CHEN = 700000006  # 陈静, a registered member not yet signed up for anything


async def test_member_signs_up_for_a_seeded_activity(page: Page, screens: Screens) -> None:
    await page.get_by_test_id(f"person-{CHEN}").locator(".person-row").click()
    start = page.get_by_test_id("start-button")
    text_input = page.get_by_test_id("message-input")
    await expect(start.or_(text_input).filter(visible=True)).to_be_visible()
    if await start.is_visible():
        await start.click()
    await text_input.fill("/activities")
    await text_input.press("Enter")

    last_text = page.get_by_test_id("message-text").last
    await expect(last_text).to_contain_text("近期活动")
    basketball = page.get_by_test_id("inline-button").filter(has_text="冬季职工篮球友谊赛").last
    await expect(basketball).to_contain_text("剩 8 席")
    await screens.shot("list")

    await basketball.click()
    await expect(last_text).to_contain_text("剩余席位：8 / 10")
    await screens.shot("card")

    await page.get_by_test_id("inline-button").filter(has_text=exactly("✅ 报名")).last.click()
    await expect(last_text).to_contain_text("您已获得席位")
    await expect(last_text).to_contain_text("剩余席位：7 / 10")
    await expect(
        page.get_by_test_id("inline-button").filter(has_text=exactly("❌ 取消报名"))
    ).to_be_visible()
    await screens.shot("signed-up")
