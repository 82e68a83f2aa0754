"""A real PTB ``Application`` polling the sandbox, driven like a user.

This proves the pieces fit: bot_command entities that CommandHandler accepts (with
and without ``@BotUsername``), callback queries CallbackQueryHandler routes, and
messages PTB can reply to.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from sandbox_samples import BOT_ID, TOKEN
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from sandbox import SandboxDriver

MENU = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Confirm", callback_data="confirm"),
            InlineKeyboardButton("Docs", url="https://example.org"),
        ]
    ]
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    name = update.effective_user.first_name if update.effective_user else "?"
    await update.effective_message.reply_html(
        f"Welcome, <b>{name}</b>! args={context.args}", reply_markup=MENU
    )


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Confirmed!")
    await query.edit_message_text(f"Confirmed by {query.from_user.first_name}")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_message.reply_text(update.effective_message.text.upper())


async def forged(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Not allowed", show_alert=True)


@pytest.fixture
async def application(base_url: str) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{base_url}/bot{{token}}")
        .base_file_url(f"{base_url}/file/bot{{token}}")
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(confirm, pattern="^confirm$"))
    app.add_handler(CallbackQueryHandler(forged))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=5)
    await app.start()
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


@pytest.fixture
async def sb(base_url: str, application: Application) -> AsyncIterator[SandboxDriver]:  # type: ignore[type-arg]
    async with SandboxDriver(base_url, TOKEN) as driver:
        yield driver


async def test_start_command_and_button(sb: SandboxDriver) -> None:
    alice = await sb.create_user("Alice", username="alice", language_code="en")
    await alice.send("/start")
    reply = await alice.last_bot_message()
    assert reply.text == "Welcome, Alice! args=[]"
    assert reply.html == "Welcome, <b>Alice</b>! args=[]"
    assert reply.buttons == [[("Confirm", "confirm"), ("Docs", "https://example.org")]]

    await alice.send("/start@UnionSandboxBot deep")
    assert (await alice.last_bot_message()).text == "Welcome, Alice! args=['deep']"

    # A command for another bot is not for us: CommandHandler ignores it, echo skips commands.
    before = len(await alice.bot_messages())
    await alice.send("/start@SomeOtherBot")
    assert len(await alice.bot_messages()) == before

    press = await alice.press("Confirm")
    assert press.update_id is not None
    answers = await alice.callback_answers()
    assert [(a.text, a.show_alert) for a in answers] == [("Confirmed!", False)]
    edited = await alice.bot_messages()
    assert edited[-1].text == "Confirmed by Alice" and edited[-1].edited
    assert edited[-1].buttons == []

    with pytest.raises(ValueError, match="not a press"):
        await alice.press("Docs")
    with pytest.raises(LookupError, match="Nope"):
        await alice.press("Nope")


async def test_text_and_forged_press(sb: SandboxDriver) -> None:
    bob = await sb.create_user("Bob")
    sent = await bob.send("hello 工会")
    assert sent.update_id is not None
    assert (await bob.last_bot_message()).text == "HELLO 工会"
    status = await sb.update_status(sent.update_id)
    assert status["acknowledged"]

    await bob.send("/start")
    message_id = (await bob.last_bot_message()).message_id
    await bob.press_data(message_id, "admin:delete-everything")
    answers = await bob.callback_answers()
    assert answers[-1].text == "Not allowed" and answers[-1].show_alert

    calls = await sb.calls()
    methods = {c.method for c in calls}
    assert {"getMe", "getUpdates", "sendMessage", "answerCallbackQuery"} <= methods
    assert "forwardMessage" not in methods


async def test_group_command_in_privacy_mode(base_url: str, sb: SandboxDriver) -> None:
    alice = await sb.create_user("Alice")
    cadres = await sb.create_group("Cadres", members=[alice], bot_status="member")
    await alice.send("just chatting", chat=cadres)  # a non-admin bot does not see this
    await alice.send("/start@UnionSandboxBot", chat=cadres)
    messages = await alice.bot_messages(chat=cadres)
    assert [m.text for m in messages] == ["Welcome, Alice! args=[]"]


async def test_custom_settle_hook(base_url: str, application: Application) -> None:  # type: ignore[type-arg]
    settled: list[int] = []
    done = asyncio.Event()

    async def settle(update_id: int) -> None:
        settled.append(update_id)
        done.set()

    async with SandboxDriver(base_url, TOKEN, settle=settle) as driver:
        carol = await driver.create_user("Carol")
        sent = await carol.send("ping")
        assert settled == [sent.update_id]
        await driver.wait_for(carol.bot_messages, what="the echo")
        assert (await carol.last_bot_message()).text == "PING"
        assert driver.bot_id == BOT_ID


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_application_in_webhook_mode(base_url: str) -> None:
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{base_url}/bot{{token}}")
        .base_file_url(f"{base_url}/file/bot{{token}}")
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    await app.initialize()
    assert app.updater is not None
    port = free_port()
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="hook",
        webhook_url=f"http://127.0.0.1:{port}/hook",
        secret_token="webhook-secret",
    )
    await app.start()
    try:
        async with SandboxDriver(base_url, TOKEN) as driver:
            alice = await driver.create_user("Alice")
            sent = await alice.send("/start")
            assert (await alice.last_bot_message()).text == "Welcome, Alice! args=[]"
            assert sent.update_id is not None
            assert (await driver.update_status(sent.update_id))["acknowledged"]
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
