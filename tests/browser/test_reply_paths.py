"""Every reply path in the web chat, as a cadre and a member use Telegram's clients.

💬 Reply opens a reply to the bot's prompt for the cadre who pressed (and only
them); a member replies to the union's answer in the private chat, or just
writes and is offered to add it to the case; a cadre replies to a suggestion
card. The driver only sets the stage (the member's grievance) and reads ids.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from bot.demo_data import ADMIN_ID, CADRE_CHAT_ID, CADRE_ID, PEOPLE
from sandbox import SandboxDriver
from tests.browser.conftest import Screens
from tests.support.web import be, inline_button, say

pytestmark = pytest.mark.browser
SLOW = 20_000  # cards and answers come through the outbox, paced as for Telegram
MEMBER = PEOPLE[2]  # 王小明


async def open_chat(page: Page, person: int, chat: int) -> None:
    await be(page, person)
    await page.get_by_test_id(f"chat-{chat}").click()
    await expect(page.get_by_test_id("messages")).to_have_attribute("data-state", "ready")


async def submitted_case(driver: SandboxDriver) -> str:
    """王小明 sends a grievance through his client (the driver); its code."""
    member = await driver.user(MEMBER.telegram_id)
    for step in ("📝 提交诉求", "⏱ 工作量", "🟢 普通", "夜班没有热饭，食堂九点就关了。"):
        await member.send(step)
    await member.send("📝 只发文字")
    await member.send("✅ 匿名发送")
    found = re.search(r"G-[2-9A-Z]{4,}", (await member.last_bot_message()).text)
    assert found is not None
    return found.group(0)


async def test_prompt_reply_private_reply_and_offer_all_arrive(
    page: Page, screens: Screens, driver: SandboxDriver
) -> None:
    code = await submitted_case(driver)

    # The cadre presses 💬 答复: the reply to the prompt opens by itself, for them only.
    await open_chat(page, CADRE_ID, CADRE_CHAT_ID)
    card = page.get_by_test_id("message-text").filter(has_text=code).first
    await expect(card).to_be_visible(timeout=SLOW)
    await inline_button(page, "💬 答复").click()
    prompt = page.get_by_test_id("message-text").filter(has_text="请以回复本条消息").last
    await expect(prompt).to_contain_text(code)
    await expect(prompt).to_contain_text("李干事")
    await expect(page.get_by_test_id("reply-bar")).to_be_visible()
    await expect(page.get_by_test_id("reply-bar")).to_contain_text("请以回复本条消息")
    await expect(page.locator("#force-reply-hint")).to_be_visible()
    await screens.shot("cadre-prompt-opens-the-reply")

    # The other cadre in the group is not asked anything.
    await open_chat(page, ADMIN_ID, CADRE_CHAT_ID)
    await expect(
        page.get_by_test_id("message-text").filter(has_text="请以回复本条消息")
    ).to_have_count(1)
    await expect(page.get_by_test_id("reply-bar")).to_be_hidden()
    await expect(page.locator("#force-reply-hint")).to_be_hidden()
    await screens.shot("other-cadre-unprompted")

    await open_chat(page, CADRE_ID, CADRE_CHAT_ID)
    await expect(page.get_by_test_id("reply-bar")).to_be_visible()
    await say(page, "已和食堂商量，夜班十点前供应热饭。")
    await expect(page.get_by_test_id("message-text").last).to_contain_text("已以“工会”名义转交")
    own = page.locator('[data-from="me"]').last
    await expect(own.get_by_test_id("message-quote")).to_contain_text("请以回复本条消息")
    await screens.shot("cadre-answer-passed-on")

    # The member gets it, and replies to it in the private chat with ↩.
    await open_chat(page, MEMBER.telegram_id, MEMBER.telegram_id)
    answer = page.get_by_test_id("message-text").filter(has_text="夜班十点前供应热饭").last
    await expect(answer).to_be_visible(timeout=SLOW)
    await expect(answer).not_to_contain_text("李干事")
    messages = await driver.messages(MEMBER.telegram_id)
    answer_id = next(m.message_id for m in messages if m.text and "十点前供应热饭" in m.text)
    bubble = page.get_by_test_id(f"message-{answer_id}")
    await bubble.hover()
    await bubble.get_by_test_id("reply-action").click()
    await expect(page.get_by_test_id("reply-bar")).to_contain_text("夜班十点前供应热饭")
    await screens.shot("member-replies-in-private")
    await say(page, "太好了，谢谢！")
    await expect(page.get_by_test_id("message-text").last).to_contain_text(
        f"已转交工会，编号 {code}"
    )

    # Plain text (no reply) is offered to the case that was just answered.
    await say(page, "周末夜班也需要。")
    offer = page.get_by_test_id("message-text").last
    await expect(offer).to_contain_text(f"要把这条消息补充到您的诉求 {code} 吗")
    await screens.shot("member-offered-to-add")
    await inline_button(page, f"✉️ 是的，补充到 {code}").click()
    await expect(offer).to_contain_text(f"已转交工会，编号 {code}")
    await screens.shot("member-addition-passed-on")

    # Both reached the cadre group under the case code, as copies without a name.
    await open_chat(page, CADRE_ID, CADRE_CHAT_ID)
    for text in ("太好了，谢谢", "周末夜班也需要"):
        relayed = page.get_by_test_id("message-text").filter(has_text=text).last
        await expect(relayed).to_be_visible(timeout=SLOW)
        await expect(relayed).to_contain_text(code)
        await expect(relayed).not_to_contain_text("王小明")
    await screens.shot("cadre-group-gets-both")


async def test_a_reply_to_a_suggestion_card_reaches_its_author(
    page: Page, screens: Screens, driver: SandboxDriver
) -> None:
    author = next(p for p in PEOPLE if p.telegram_id == 700000006)  # 陈静, the demo's suggestion
    await open_chat(page, CADRE_ID, CADRE_CHAT_ID)
    card_text = page.get_by_test_id("message-text").filter(has_text="加装雨棚").first
    await expect(card_text).to_be_visible(timeout=SLOW)
    card = next(
        m
        for m in await driver.messages(CADRE_CHAT_ID)
        if m.text and "加装雨棚" in m.text and m.text.startswith("💡")
    )
    bubble = page.get_by_test_id(f"message-{card.message_id}")
    await bubble.hover()
    await bubble.get_by_test_id("reply-action").click()
    await say(page, "雨棚已列入下月的维修计划。")
    await expect(page.get_by_test_id("message-text").last).to_contain_text("正在发给会员")
    await screens.shot("cadre-replies-to-the-card")

    await open_chat(page, author.telegram_id, author.telegram_id)
    notice = page.get_by_test_id("message-text").filter(has_text="下月的维修计划").last
    await expect(notice).to_be_visible(timeout=SLOW)
    await expect(notice).to_contain_text("工会回复了您的建议")
    await expect(notice).not_to_contain_text("李干事")
    await screens.shot("author-gets-the-reply")


async def test_an_answer_sent_without_the_reply_is_caught_and_passed_on(
    page: Page, screens: Screens, driver: SandboxDriver
) -> None:
    code = await submitted_case(driver)
    await open_chat(page, CADRE_ID, CADRE_CHAT_ID)
    card = page.get_by_test_id("message-text").filter(has_text=code).first
    await expect(card).to_be_visible(timeout=SLOW)
    await inline_button(page, "💬 答复").click()
    await expect(page.get_by_test_id("reply-bar")).to_be_visible()
    await page.get_by_test_id("reply-cancel").click()  # the cadre closes the reply bar
    await expect(page.get_by_test_id("reply-bar")).to_be_hidden()
    await say(page, "本周五前给夜班加一台微波炉。")
    nudge = page.get_by_test_id("message-text").last
    await expect(nudge).to_contain_text(f"没有转交给 {code} 的提交人")
    await screens.shot("cadre-told-it-went-nowhere")
    await inline_button(page, f"✉️ 转交给 {code}").click()
    await expect(page.get_by_test_id("message-text").last).to_contain_text("已以“工会”名义转交")
    await screens.shot("cadre-passes-it-on")

    await open_chat(page, MEMBER.telegram_id, MEMBER.telegram_id)
    answer = page.get_by_test_id("message-text").filter(has_text="加一台微波炉").last
    await expect(answer).to_be_visible(timeout=SLOW)
    await expect(answer).to_contain_text(code)
    await expect(answer).not_to_contain_text("李干事")
