"""Polls in the browser: a member finds the seeded poll in their chat, votes, and sees it.

Drives the web chat as a person would, against the demo with its example data
(an open multiple-choice poll about the canteen, results shown while open).
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from bot.demo_data import ADMIN_ID
from tests.browser.conftest import Screens
from tests.support.web import exactly, start_chat

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


async def test_admin_closes_the_poll_and_every_card_of_it_says_so(
    page: Page, screens: Screens
) -> None:
    """Two manage cards of the same poll; closing from the newer one redraws the older one
    too (through the outbox): neither keeps ⏰ or 🔒 立即结束 for a closed poll."""
    text_input = await start_chat(page, ADMIN_ID)
    cards = page.locator("[data-testid^='message-']").filter(
        has=page.get_by_test_id("inline-button").filter(has_text=exactly("📥 导出 XLSX"))
    )
    for opened in (1, 2):
        await text_input.fill("/polls")
        await text_input.press("Enter")
        listing = (
            page.locator("[data-testid^='message-']")
            .filter(has=page.get_by_test_id("message-text").filter(has_text="🗳 投票"))
            .filter(has=page.get_by_test_id("inline-button").filter(has_text=exactly("⚙️")))
            .last
        )
        await listing.get_by_test_id("inline-button").filter(has_text=exactly("⚙️")).click()
        await expect(cards).to_have_count(opened)
    older, newer = cards.first, cards.last
    for card in (older, newer):
        await expect(card).to_contain_text(QUESTION)
        await expect(card).to_contain_text("⏰")
        await expect(
            card.get_by_test_id("inline-button").filter(has_text=exactly("🔒 立即结束"))
        ).to_be_visible()
    await screens.shot("two-cards")

    await newer.get_by_test_id("inline-button").filter(has_text=exactly("🔒 立即结束")).click()
    confirm = (
        page.locator("[data-testid^='message-']")
        .filter(has=page.get_by_test_id("message-text").filter(has_text="现在结束"))
        .last
    )
    await confirm.get_by_test_id("inline-button").filter(has_text=exactly("是")).click()
    await expect(cards).to_have_count(2)
    for card in (cards.first, cards.last):
        await expect(card).to_contain_text("🔒 已于")
        await expect(card).not_to_contain_text("发送提醒")  # a reminder that will never go
        await expect(card.get_by_test_id("inline-button").filter(has_text="⏰")).to_have_count(0)
        await expect(
            card.get_by_test_id("inline-button").filter(has_text=exactly("🔒 立即结束"))
        ).to_have_count(0)
    await cards.first.scroll_into_view_if_needed()  # the older card, redrawn by the outbox
    await screens.shot("closed-cards")
