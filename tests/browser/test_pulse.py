"""The satisfaction pulse in the browser: a member answers this month's question.

Drives the web chat as a person would, against the demo with its example data
(the pulse switched on and this month's question in every member's chat).
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Screens
from tests.support.web import exactly

pytestmark = pytest.mark.browser
WU = 700000010  # 吴芳, a registered member
QUESTION = "您对工会本月的工作满意吗？"


async def test_member_answers_the_pulse(page: Page, screens: Screens) -> None:
    await page.get_by_test_id(f"person-{WU}").locator(".person-row").click()
    # The question reaches the chat through the outbox shortly after the demo starts.
    question = (
        page.locator("[data-testid^='message-']")
        .filter(has=page.get_by_test_id("message-text").filter(has_text=QUESTION))
        .filter(has=page.get_by_test_id("inline-keyboard"))
        .last
    )
    await expect(question).to_be_visible(timeout=20_000)
    await expect(question).to_contain_text("您的回答是匿名的")
    await screens.shot("question")

    await question.get_by_test_id("inline-button").filter(has_text=exactly("4⭐")).click()
    last_text = page.get_by_test_id("message-text").last
    await expect(last_text).to_contain_text("您还想说几句吗")
    await expect(
        page.get_by_test_id("message-text").filter(
            has_text="谢谢！您给本月打了 ⭐⭐⭐⭐（满分 5 星）。"
        )
    ).to_be_visible()
    await screens.shot("stars")

    text_input = page.get_by_test_id("message-input")
    await text_input.fill("希望多组织一些技能培训。")
    await text_input.press("Enter")
    await expect(last_text).to_contain_text("感谢您的回答！这将帮助工会做得更好。")
    await screens.shot("thanks")
