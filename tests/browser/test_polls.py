"""Polls in the browser: a member finds the seeded poll in their chat, votes, and sees it.

Drives the web chat as a person would, against the demo with its example data
(an open multiple-choice poll about the canteen, results shown while open).
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Screens
from tests.support.web import exactly

pytestmark = pytest.mark.browser
WANG = 700000003  # 王小明, a registered member
QUESTION = "职工食堂午餐最希望增加哪类菜品"


async def test_member_votes_in_the_seeded_poll(page: Page, screens: Screens) -> None:
    await page.get_by_test_id(f"person-{WANG}").locator(".person-row").click()
    # The poll reaches the chat through the outbox shortly after the demo starts.
    poll = (
        page.locator("[data-testid^='message-']")
        .filter(has=page.get_by_test_id("message-text").filter(has_text=QUESTION))
        .filter(has=page.get_by_test_id("inline-keyboard"))
        .last
    )
    await expect(poll).to_be_visible(timeout=20_000)
    await expect(poll).to_contain_text("最多可选 2 项")
    await expect(poll).to_contain_text("您还没有投票")
    await screens.shot("poll")

    await poll.get_by_test_id("inline-button").filter(has_text=exactly("川湘菜")).click()
    await expect(poll).to_contain_text("✅ 您的选择：川湘菜")
    await expect(
        poll.get_by_test_id("inline-button").filter(has_text=exactly("✅ 川湘菜"))
    ).to_be_visible()
    await (
        poll.get_by_test_id("inline-button")
        .filter(has_text=exactly("面食（拉面、刀削面）"))
        .click()
    )
    await expect(poll).to_contain_text("✅ 您的选择：川湘菜、面食（拉面、刀削面）")
    # Results are shown while the poll is open: five had voted, now six, three of them
    # (half) for each of the two choices.
    await expect(poll).to_contain_text("3 票（50%）")
    await screens.shot("voted")
