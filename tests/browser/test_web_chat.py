"""Every role in the browser: a newcomer registers, the admin promotes, the new cadre joins.

Each test drives the web chat as a person would (clicks and typing only) against
the real demo: sandbox, bot and example data in-process. What a step needs from
earlier steps is set up through the sandbox driver, so each test stands alone.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.demo import CADRE_GROUP_TITLE, DEMO_TOKEN, Demo
from bot.demo_data import ADMIN_ID, CADRE_CHAT_ID, CADRE_ID, NEWCOMER_ID, PEOPLE
from sandbox import SandboxDriver
from tests.browser.conftest import WAIT_MS, Screens
from tests.support.media import make_png
from tests.support.web import be_with_bot, inline_button, person, reply_button

pytestmark = pytest.mark.browser


async def say_start(page: Page) -> None:
    """/start: the 开始 button of a chat never used, else typed (the bot may have written first)."""
    start = page.get_by_test_id("start-button")
    if await start.is_visible():
        await start.click()
    else:
        await page.get_by_test_id("message-input").fill("/start")
        await page.get_by_test_id("send-button").click()


async def register_with_driver(driver: SandboxDriver) -> None:
    newcomer = await driver.user(NEWCOMER_ID)
    await newcomer.send("/start")
    await newcomer.press("简体中文")
    for text in ("林新", "装配车间", "⏭ 跳过", "✅ 确认"):
        await newcomer.send(text)


async def promote_with_driver(driver: SandboxDriver) -> None:
    admin = await driver.user(ADMIN_ID)
    await admin.send("/admin")
    for label in ("👥 会员", "林新 · 装配车间", "⭐ 设为干部"):
        await admin.press(label)


async def test_a_visitor_registers_in_the_page(page: Page, screens: Screens) -> None:
    await screens.shot("people")
    badge = person(page, NEWCOMER_ID).get_by_test_id("role-badge")
    await expect(badge).to_have_text("未注册")

    await be_with_bot(page, NEWCOMER_ID)
    start = page.get_by_test_id("start-button")
    await expect(start).to_have_text("开始")
    await screens.shot("visitor-before-start")
    await start.click()
    await inline_button(page, "简体中文").click()
    await reply_button(page, "林新").click()  # the Telegram name, offered as a button
    await reply_button(page, "装配车间").click()
    await reply_button(page, "⏭ 跳过").click()
    await expect(reply_button(page, "✅ 确认")).to_be_visible()
    await screens.shot("summary-to-confirm")
    await reply_button(page, "✅ 确认").click()

    # The main menu (it grows with every feature; these two are always there).
    await expect(reply_button(page, "👤 我的资料")).to_be_visible()
    await expect(reply_button(page, "❓ 帮助")).to_be_visible()
    await expect(page.get_by_test_id("message-text").last).to_contain_text("注册成功")
    await expect(badge).to_have_text("会员")
    await screens.shot("registered-main-menu")

    # The page chrome speaks English on request; the bot keeps the member's language.
    await page.get_by_test_id("lang-toggle").click()
    await expect(page.get_by_test_id("send-button")).to_have_text("Send")
    await expect(badge).to_have_text("member")
    await page.get_by_test_id("diagnostics").locator("summary").click()
    await expect(page.get_by_test_id("diag-call").first).to_be_visible()
    await expect(page.get_by_test_id("diag-429")).to_contain_text("0")
    await screens.shot("english-chrome-diagnostics")


async def test_b_admin_promotes_the_new_member(
    page: Page, screens: Screens, driver: SandboxDriver
) -> None:
    await register_with_driver(driver)
    badge = person(page, NEWCOMER_ID).get_by_test_id("role-badge")
    await expect(badge).to_have_text("会员")

    await be_with_bot(page, ADMIN_ID)
    await expect(person(page, ADMIN_ID).get_by_test_id("role-badge")).to_have_text("管理员")
    await say_start(page)  # seeded in the database, but never wrote to the bot
    await page.get_by_test_id("commands-button").click()  # the admin's own command list
    await expect(page.locator('[data-testid="command-item"][data-command="admin"]')).to_be_visible()
    await page.get_by_test_id("commands-button").click()
    await expect(page.get_by_test_id("command-menu")).to_be_hidden()
    await reply_button(page, "🛠 管理").click()
    await inline_button(page, "👥 会员").click()
    await inline_button(page, "林新 · 装配车间").click()
    await expect(inline_button(page, "⭐ 设为干部")).to_be_visible()
    await screens.shot("member-card")
    await inline_button(page, "⭐ 设为干部").click()

    await expect(page.get_by_test_id("message-text").last).to_contain_text("角色：干部")
    await expect(badge).to_have_text("干部")
    await screens.shot("promoted")


async def test_c_new_cadre_opens_the_invite_and_sees_the_cadre_group(
    page: Page, screens: Screens, driver: SandboxDriver
) -> None:
    await register_with_driver(driver)
    await promote_with_driver(driver)

    await be_with_bot(page, NEWCOMER_ID)
    await expect(person(page, NEWCOMER_ID).get_by_test_id("role-badge")).to_have_text("干部")
    invite = page.get_by_test_id("messages").locator('a[href^="https://t.me/+"]').last
    await expect(invite).to_be_visible()
    await screens.shot("invite-link")
    await invite.click()

    await expect(page.get_by_test_id("chat-title")).to_have_text(CADRE_GROUP_TITLE)
    group_row = page.get_by_test_id(f"chat-{CADRE_CHAT_ID}")
    await expect(group_row).to_contain_text(CADRE_GROUP_TITLE)
    await expect(page.get_by_test_id("service-message").last).to_contain_text("林新 加入了群组")

    # Say hello in the group, then answer that message as a reply.
    text_input = page.get_by_test_id("message-input")
    await text_input.fill("大家好，我是新来的干部")
    await text_input.press("Enter")
    hello = page.locator('[data-from="me"]').last
    await expect(hello.get_by_test_id("message-text")).to_contain_text("大家好")
    await hello.hover()
    await hello.get_by_test_id("reply-action").click()
    await expect(page.get_by_test_id("reply-bar")).to_contain_text("大家好")
    await text_input.fill("第一行")
    await text_input.press("Shift+Enter")  # a new line, not a send
    await text_input.press_sequentially("第二行")
    await expect(text_input).to_have_value("第一行\n第二行")
    await page.get_by_test_id("send-button").click()
    answer = page.locator('[data-from="me"]').last
    await expect(answer.get_by_test_id("message-quote")).to_contain_text("大家好")
    await expect(answer.get_by_test_id("message-text")).to_contain_text("第一行\n第二行")
    await expect(page.get_by_test_id("reply-bar")).to_be_hidden()
    await screens.shot("cadre-group")

    # Reloading keeps the person and the chat (they live in the URL).
    await page.reload()
    await page.wait_for_selector("body[data-ready=true]")
    await expect(page.get_by_test_id("chat-title")).to_have_text(CADRE_GROUP_TITLE)
    await expect(person(page, NEWCOMER_ID).get_by_test_id("role-badge")).to_have_text("干部")


async def test_files_go_out_from_the_attach_button(page: Page, screens: Screens) -> None:
    member = PEOPLE[2]  # 王小明, registered by the seed
    await be_with_bot(page, member.telegram_id)
    chooser = page.get_by_test_id("file-input")
    await chooser.set_input_files(
        files=[
            {
                "name": "班组合影.png",
                "mimeType": "image/png",
                "buffer": make_png(24, 16, (0x33, 0x90, 0xEC)),
            }
        ]
    )
    photo = page.locator('[data-from="me"]').get_by_test_id("message-photo").last
    await expect(photo).to_be_visible()
    assert await photo.evaluate("image => image.naturalWidth") == 24
    await page.get_by_test_id("message-input").fill("加班记录")  # becomes the caption
    await chooser.set_input_files(
        files=[{"name": "加班记录.csv", "mimeType": "text/csv", "buffer": "日期,小时\n".encode()}]
    )
    chip = page.locator('[data-from="me"]').get_by_test_id("file-chip").last
    await expect(chip).to_contain_text("加班记录.csv")
    await expect(chip).to_have_attribute("download", "加班记录.csv")
    sent = page.locator('[data-from="me"]').last.get_by_test_id("message-text")
    await expect(sent).to_contain_text("加班记录")
    await screens.shot("photo-and-document")


async def test_a_narrow_window_shows_the_list_then_the_chat(page: Page, screens: Screens) -> None:
    await page.set_viewport_size({"width": 390, "height": 780})
    await expect(page.get_by_test_id("people")).to_be_visible()
    await person(page, CADRE_ID).locator(".person-row").click()
    group_row = page.get_by_test_id(f"chat-{CADRE_CHAT_ID}")
    await expect(group_row).to_be_visible()  # the list stays: pick one of their chats
    await screens.shot("phone-people")
    await group_row.click()
    await expect(page.get_by_test_id("chat-title")).to_have_text(CADRE_GROUP_TITLE)
    await expect(page.get_by_test_id("people")).to_be_hidden()
    await screens.shot("phone-chat")
    await page.get_by_test_id("back-button").click()
    await expect(page.get_by_test_id("people")).to_be_visible()


async def test_what_the_bot_does_shows_live(page: Page, demo: Demo, screens: Screens) -> None:
    """Typing, safe formatting, edits, deletions and an alert, straight from the Bot API."""
    member = PEOPLE[2].telegram_id
    await be_with_bot(page, member)
    status = page.get_by_test_id("chat-status")
    # A chat action is not kept (as in Telegram): one sent while the page's live
    # stream is still (re)connecting is never shown, so wait for the stream first.
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    async with Bot(DEMO_TOKEN, base_url=f"{demo.url}bot{{token}}") as bot:
        await bot.send_chat_action(member, "typing")
        await expect(status).to_have_text("正在输入")

        sent = await bot.send_message(
            member,
            "<b>通知</b> &lt;i&gt;不是标签&lt;/i&gt; 详见 https://example.org/a?b=1",
            parse_mode="HTML",
        )
        bubble = page.get_by_test_id(f"message-{sent.message_id}")
        text = bubble.get_by_test_id("message-text")
        await expect(text.locator("b")).to_have_text("通知")
        await expect(text).to_contain_text("<i>不是标签</i>")
        assert await text.locator("i").count() == 0  # user-visible text never becomes markup
        await expect(text.locator("a")).to_have_attribute("href", "https://example.org/a?b=1")
        await expect(status).to_contain_text("机器人")  # the message ends the typing

        await bot.edit_message_text("改过的通知", chat_id=member, message_id=sent.message_id)
        await expect(text).to_contain_text("改过的通知")
        await expect(bubble.get_by_test_id("message-meta")).to_contain_text("已编辑")
        await bot.delete_message(member, sent.message_id)
        await expect(bubble).to_have_count(0)

        stale = InlineKeyboardMarkup([[InlineKeyboardButton("旧按钮", callback_data="zz:old")]])
        await bot.send_message(member, "一条旧消息", reply_markup=stale)
    await inline_button(page, "旧按钮").click()
    alert = page.get_by_test_id("alert")
    await expect(alert).to_contain_text("这个按钮已失效")
    await screens.shot("alert")
    await page.get_by_test_id("alert-ok").click()
    await expect(alert).to_be_hidden()


async def test_live_updates_by_long_polling_without_event_source(
    browser: Browser, demo: Demo
) -> None:
    """Where server-sent events are missing, the page follows the long poll instead."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        await context.add_init_script("delete window.EventSource")
        page = await context.new_page()
        page.set_default_timeout(WAIT_MS)
        await page.goto(demo.url)
        await page.wait_for_selector("body[data-ready=true]")
        member = PEOPLE[3].telegram_id
        await be_with_bot(page, member)
        await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
        async with Bot(DEMO_TOKEN, base_url=f"{demo.url}bot{{token}}") as bot:
            await bot.send_message(member, "长轮询也能收到")
        await expect(page.get_by_test_id("message-text").last).to_contain_text("长轮询也能收到")
    finally:
        await context.close()


async def test_error_toasts_speak_the_page_language(page: Page, driver: SandboxDriver) -> None:
    """The sandbox answers in English; the page says it in Chinese, or English when toggled."""
    member = PEOPLE[2]
    await be_with_bot(page, member.telegram_id)
    person_there = await driver.user(member.telegram_id)
    await person_there.block_bot()
    toast = page.get_by_test_id("toast")
    try:
        await page.get_by_test_id("message-input").fill("你好")
        await page.get_by_test_id("send-button").click()
        await expect(toast).to_have_text("发送失败：你已屏蔽机器人，请先解除屏蔽")
        await page.get_by_test_id("lang-toggle").click()
        await page.get_by_test_id("send-button").click()  # what was typed is still there
        await expect(toast).to_have_text("Not sent: You have blocked the bot; unblock it first")
    finally:
        await person_there.unblock_bot()
