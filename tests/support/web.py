"""The web chat as the browser tests drive it: people on the left, a chat, buttons, typing."""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

BOT_TITLE = "工会助手"  # the demo bot's name, the title of every chat with it


def exactly(text: str) -> re.Pattern[str]:
    """Matches a label as a whole, not a longer label containing it."""
    return re.compile(f"^{re.escape(text)}$")


def person(page: Page, telegram_id: int) -> Locator:
    return page.get_by_test_id(f"person-{telegram_id}")


def reply_button(page: Page, label: str) -> Locator:
    return page.get_by_test_id("reply-button").filter(has_text=exactly(label))


def inline_button(page: Page, label: str) -> Locator:
    """The newest inline button with that label."""
    return page.get_by_test_id("inline-button").filter(has_text=exactly(label)).last


async def be(page: Page, telegram_id: int) -> None:
    """Pick a person on the left; the chat they had open last opens (a group, maybe)."""
    await person(page, telegram_id).locator(".person-row").click()
    await expect(page.get_by_test_id("messages")).to_have_attribute("data-state", "ready")


async def be_with_bot(page: Page, telegram_id: int) -> None:
    """Pick a person on the left, and check that their chat with the bot is what opens."""
    await person(page, telegram_id).locator(".person-row").click()
    await expect(page.get_by_test_id("chat-title")).to_have_text(BOT_TITLE)
    await expect(page.get_by_test_id("messages")).to_have_attribute("data-state", "ready")


async def start_chat(page: Page, telegram_id: int) -> Locator:
    """Open a person's chat with the bot, pressing Start if it is new; the message box.

    A fresh chat offers only "start"; one the bot already wrote to has the composer.
    """
    await person(page, telegram_id).locator(".person-row").click()
    await expect(page.get_by_test_id("chat-title")).to_have_text(BOT_TITLE)
    start = page.get_by_test_id("start-button")
    text_input = page.get_by_test_id("message-input")
    await expect(start.or_(text_input).filter(visible=True)).to_be_visible()
    if await start.is_visible():
        await start.click()
    return text_input


async def say(page: Page, text: str) -> None:
    await page.get_by_test_id("message-input").fill(text)
    await page.get_by_test_id("send-button").click()
