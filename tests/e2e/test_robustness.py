"""Bad input gets a clear answer in the reader's language and changes nothing."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from storage.models import Member
from tests.support.bot import BotHarness, fresh_bot
from tests.support.chat import flat, registered
from tests.support.config import ADMIN_ID, CADRE_CHAT, TOKEN
from tests.support.media import PNG
from tests.support.members import member_row, register_member
from tests.support.processes import UNPARSEABLE, free_port


async def test_unknown_command_and_text(bot: BotHarness) -> None:
    user = await registered(bot)
    await user.send("/frobnicate")
    assert "没有这个命令" in (await user.last_bot_message()).text
    await user.send("随便说点什么")
    assert "没有看懂" in (await user.last_bot_message()).text
    assert "👤 我的资料" in flat(await user.reply_keyboard())


async def test_unregistered_user_is_pointed_to_start(bot: BotHarness) -> None:
    user = await bot.driver.create_user("Stranger", language_code="en")
    await user.send("hello")
    assert "/start" in (await user.last_bot_message()).text
    await user.send("/profile")
    assert "Please register first" in (await user.last_bot_message()).text


async def test_oversized_text_refused_in_every_state(bot: BotHarness) -> None:
    """Telegram's clients cannot send over 4096 characters, but another Bot API server
    could deliver it; the sandbox refuses it too, so the update is injected directly."""
    from telegram import Update

    user = await bot.driver.create_user("Long")
    await user.send("/start")
    await user.press("简体中文")
    chat = {"id": user.id, "type": "private", "first_name": "Long"}
    sender = {"id": user.id, "is_bot": False, "first_name": "Long"}
    update = Update.de_json(
        {
            "update_id": 10**9,
            "message": {
                "message_id": 10**6,
                "date": 1,
                "chat": chat,
                "from": sender,
                "text": "长" * 5000,
            },
        },
        bot.application.bot,
    )
    await bot.application.process_update(update)
    answer = await user.last_bot_message()
    assert "太长" in answer.text and "5000" in answer.text
    # Still in the name step: a normal answer continues the registration.
    await user.send("正常名字")
    assert "部门" in (await user.last_bot_message()).text


async def test_photo_where_text_expected_and_outside_conversations(bot: BotHarness) -> None:
    user = await bot.driver.create_user("Pic")
    await user.send("/start")
    await user.press("简体中文")
    await user.send_photo(PNG, caption="我")
    assert "请用文字回答" in (await user.last_bot_message()).text
    await user.send("图片先生")
    await user.send("装配车间")
    await user.send("⏭ 跳过")
    await user.send("✅ 确认")
    await user.send_document(b"%PDF-1.4 test", "a.pdf")
    assert "无法处理这类消息" in (await user.last_bot_message()).text


async def test_stale_and_forged_buttons(bot: BotHarness) -> None:
    user = await registered(bot)
    message = (await user.bot_messages())[-1]
    for data in ("nonsense", "amone:1:0", "pedit:../../etc", "lang:fr"):
        await user.press_data(message.message_id, data)
    answers = (await user.callback_answers())[-4:]
    assert [a.data for a in answers] == ["nonsense", "amone:1:0", "pedit:../../etc", "lang:fr"]
    assert all(a.show_alert for a in answers)
    assert "已失效" in answers[0].text and "只有工会管理员" in answers[1].text
    row = await member_row(bot, user.id)
    assert row is not None and row.language == "zh_CN" and row.role == "member"


async def test_private_commands_in_the_cadre_group(bot: BotHarness) -> None:
    cadre = await registered(bot, "李干事")
    await bot.driver.add_member(CADRE_CHAT, cadre)
    await cadre.send("/profile@UnionSandboxBot", chat=CADRE_CHAT)
    answer = await cadre.last_bot_message(chat=CADRE_CHAT)
    assert "私聊" in answer.text and "/profile" in answer.text
    await cadre.send("/help", chat=CADRE_CHAT)
    assert "干部在本群处理" in (await cadre.last_bot_message(chat=CADRE_CHAT)).text
    # Ordinary chatter in the cadre group gets no answer.
    before = len(await cadre.bot_messages(chat=CADRE_CHAT))
    await cadre.send("大家好", chat=CADRE_CHAT)
    assert len(await cadre.bot_messages(chat=CADRE_CHAT)) == before


async def test_foreign_group_gets_its_id_and_nothing_else(bot: BotHarness) -> None:
    user = await registered(bot)
    group = await bot.driver.create_group("随便一个群", members=[user])
    await user.send("/start", chat=group.id)
    answer = await user.last_bot_message(chat=group.id)
    assert str(group.id) in answer.text and "CADRE_CHAT_ID" in answer.text
    before = len(await user.bot_messages(chat=group.id))
    await user.send("hello", chat=group.id)
    assert len(await user.bot_messages(chat=group.id)) == before


async def test_blocking_the_bot_is_recorded_and_cleared_on_return(bot: BotHarness) -> None:
    user = await registered(bot)
    await user.block_bot()
    row = await member_row(bot, user.id)
    assert row is not None and row.blocked_at is not None
    await user.unblock_bot()
    await user.send("/profile")
    row = await member_row(bot, user.id)
    assert row is not None and row.blocked_at is None


async def test_role_change_for_a_member_who_blocked_the_bot(bot: BotHarness) -> None:
    user = await registered(bot, "屏蔽者")
    await user.block_bot(notify=False)
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/admin")
    await admin.press("👥 会员")
    await admin.press("屏蔽者 · 装配车间")
    await admin.press("⭐ 设为干部")
    card = await admin.last_bot_message()
    assert "角色：干部" in card.text  # the admin's action stands, the 403 is logged
    row = await member_row(bot, user.id)
    assert row is not None and row.role == "cadre"


async def test_database_hiccup_is_explained(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    from storage.db import make_engine, make_session_factory

    user = await registered(bot, "Hiccup")
    runtime = bot.runtime
    healthy = runtime.sessions
    dead = make_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    runtime.sessions = make_session_factory(dead)
    try:
        with caplog.at_level(logging.ERROR):
            await user.send("/profile")
    finally:
        runtime.sessions = healthy
        await dead.dispose()
    assert "数据库暂时繁忙" in (await user.last_bot_message()).text
    # The update's failure, once. (A job that ticked in that moment met the dead
    # database too and logs its own line, once: not this test's business.)
    failures = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR
        and r.name == "bot.errors"
        and not r.getMessage().startswith("non-update")
    ]
    assert len(failures) == 1 and "command=/profile" in failures[0], failures
    assert str(user.id) not in caplog.text and TOKEN not in caplog.text
    await user.send("/profile")
    assert "Hiccup" in (await user.last_bot_message()).text


async def test_commands_published_per_scope_and_language(bot: BotHarness) -> None:
    member = await registered(bot)
    assert ("profile", "我的资料") in await member.commands()
    assert "admin" not in {c for c, _ in await member.commands()}
    english = await bot.driver.create_user("Eng", language_code="en")
    await english.send("/help")
    assert ("help", "What I can do") in await english.commands()
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/start")
    await admin.press("简体中文")
    await admin.send("周主席")
    await admin.send("行政办公室")
    await admin.send("⏭ 跳过")
    await admin.send("✅ 确认")
    assert "admin" in {c for c, _ in await admin.commands()}
    assert "🛠 管理" in flat(await admin.reply_keyboard())
    cadre_commands = {c for c, _ in await member.commands(chat=CADRE_CHAT)}
    assert cadre_commands == {"help", "cancel", "cases", "case", "grievance_stats"}


async def test_members_listing_pages(bot: BotHarness) -> None:
    async with bot.runtime.sessions() as session, session.begin():
        for n in range(23):
            await register_member(session, 800000000 + n, f"会员{n:02d}", department="装配车间")
    admin = await bot.driver.user(ADMIN_ID)
    await admin.send("/admin")
    await admin.press("👥 会员")
    assert "第 1/3 页" in (await admin.last_bot_message()).text
    await admin.press("下一页 ›")
    await admin.press("下一页 ›")
    page = await admin.last_bot_message()
    assert "第 3/3 页" in page.text and len(page.buttons) == 3 + 2  # 3 members, nav, back
    async with bot.runtime.sessions() as session:
        assert len((await session.scalars(select(Member))).all()) == 23


async def test_telegram_429_is_honoured(sqlite_url: str) -> None:
    """With Telegram's limits enforced, replies that hit a 429 wait and still arrive
    (the per-chat pacing off, which would keep them from the 429: tests/test_chat_pacing.py)."""
    async with fresh_bot(sqlite_url, rate_limiter=True, reply_chat_burst=0) as bot:
        user = await registered(bot, "Rapid")
        await bot.driver.set_limits(True, per_chat_rate=1.0, per_chat_burst=1)
        for text in ("一", "二", "三"):
            await user.send(text)
        replies = [m.text for m in await user.bot_messages()][-3:]
        assert all("没有看懂" in text for text in replies)
        stats = await bot.driver.stats()
        assert stats["calls"]["rate_limited"] >= 1, stats


# ---------------------------------------------------------------- bad updates (issue 11)


def _bot_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if not r.name.startswith(("aiohttp", "sandbox"))]


async def test_unparseable_update_is_skipped_after_one_line_and_polling_goes_on(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    skipped = await bot.driver.inject_update(UNPARSEABLE)  # settles: the bot moved past it
    # In one getUpdates answer with a good update after it, the good one is handled.
    await bot.driver.inject_update(UNPARSEABLE, settle=False)
    user = await bot.driver.create_user("Newcomer", language_code="en")
    await user.send("/start")
    assert "Please choose your language" in (await user.last_bot_message()).text
    status = await bot.driver.update_status(skipped)
    assert status["done"], status
    lines = [r for r in _bot_lines(caplog) if "cannot parse" in r.getMessage()]
    assert len(lines) == 2 and all(r.levelno == logging.WARNING for r in lines), lines
    assert f"update {skipped}" in lines[0].getMessage()
    assert not [r for r in _bot_lines(caplog) if r.levelno >= logging.ERROR or r.exc_info]
    assert "777000777" not in caplog.text and "私密内容" not in caplog.text


async def test_webhook_skips_what_it_cannot_parse(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """`union-bot webhook`'s server: 200 and one line for anything unreadable, then on."""
    import json

    import aiohttp
    from aiohttp import web

    from bot.webhook import SECRET_HEADER, webhook_app

    caplog.set_level(logging.INFO)
    runner = web.AppRunner(webhook_app(bot.application, "hook", "hook-secret"))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/hook"
    user = await bot.driver.create_user("Hooked", language_code="en")
    await user.send("hello")  # by polling: a bot may only write to who wrote first
    sender = {"id": user.id, "is_bot": False, "first_name": "Hooked"}
    good = {
        "update_id": 10**8,
        "message": {
            "message_id": 10**6,
            "date": 1_800_000_000,
            "chat": {"id": user.id, "type": "private", "first_name": "Hooked"},
            "from": sender,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    secret = {SECRET_HEADER: "hook-secret"}
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(url, data=b"{}", headers={SECRET_HEADER: "wrong"}) as r:
                assert r.status == 403
            for body in (b"\xff not json", json.dumps({"update_id": 5, **UNPARSEABLE}).encode()):
                async with session.post(url, data=body, headers=secret) as r:
                    assert r.status == 200
            async with session.post(url, json=good, headers=secret) as r:
                assert r.status == 200
        await bot.tracker.wait(10**8)
    finally:
        await runner.cleanup()
    calls = [(c.method, c.ok, c.description) for c in await bot.driver.calls()][-4:]
    assert "Please choose your language" in (await user.last_bot_message()).text, calls
    lines = [r.getMessage() for r in _bot_lines(caplog) if r.name == "bot.updates"]
    assert lines == ["skipped update 5: message the library cannot parse (TypeError)"]
    assert not [r for r in _bot_lines(caplog) if r.levelno >= logging.ERROR or r.exc_info]
    assert "777000777" not in caplog.text and "私密内容" not in caplog.text


async def test_webhook_answers_only_once_the_update_is_handled(bot: BotHarness) -> None:
    """An instance killed with an update taken but not handled must not have answered 200.

    PTB's own server answers as soon as the update is queued: a `kill -9` then
    loses every queued update, as Telegram counts them delivered. Found by the
    chaos test (`tests/e2e/test_chaos.py`).
    """
    import asyncio
    import json

    import aiohttp
    from aiohttp import web
    from telegram import Update

    from bot.webhook import SECRET_HEADER, webhook_app

    runner = web.AppRunner(webhook_app(bot.application, "hook", "hook-secret"))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    user = await bot.driver.create_user("Held", language_code="en")
    await user.send("hello")  # by polling: a bot may only write to who wrote first
    inside, go_on = asyncio.Event(), asyncio.Event()

    async def hold(update: Update) -> None:
        if update.update_id == 10**8:
            inside.set()
            await go_on.wait()

    processor = bot.application.update_processor
    processor.before_each.append(hold)  # type: ignore[attr-defined]  # PerChatUpdateProcessor
    update = {
        "update_id": 10**8,
        "message": {
            "message_id": 10**6,
            "date": 1_800_000_000,
            "chat": {"id": user.id, "type": "private", "first_name": "Held"},
            "from": {"id": user.id, "is_bot": False, "first_name": "Held"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    before = len(await user.bot_messages())
    try:
        async with aiohttp.ClientSession() as session:
            post = asyncio.ensure_future(
                session.post(
                    f"http://127.0.0.1:{port}/hook",
                    data=json.dumps(update),
                    headers={SECRET_HEADER: "hook-secret"},
                )
            )
            await asyncio.wait_for(inside.wait(), 15)
            assert not post.done()  # taken, being handled: no answer yet
            go_on.set()
            async with await asyncio.wait_for(post, 15) as response:
                assert response.status == 200
            # The 200 came after the handler's reply: handled, not merely queued.
            assert len(await user.bot_messages()) > before
    finally:
        go_on.set()
        processor.before_each.remove(hold)  # type: ignore[attr-defined]
        await runner.cleanup()


async def test_failing_handler_logs_one_line_without_identities(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    user = await registered(bot, "失败者")
    await bot.driver.fail_next("sendMessage", status=400, description="Bad Request: boom")
    with caplog.at_level(logging.ERROR):
        await user.send("/profile 我的秘密")
    failures = [r for r in _bot_lines(caplog) if r.levelno >= logging.ERROR]
    assert len(failures) == 1 and failures[0].exc_info is None
    line = failures[0].getMessage()
    assert "message in private chat command=/profile" in line, line
    assert "handlers.profile" in line and line.endswith(": BadRequest"), line
    assert str(user.id) not in caplog.text and "我的秘密" not in caplog.text
    assert "失败者" not in caplog.text and "boom" not in caplog.text
    assert "没有保存" in (await user.last_bot_message()).text


def test_log_context_names_no_content() -> None:
    from telegram import Update

    from bot.errors import describe

    def message(text: str) -> Update:
        chat = {"id": 42, "type": "private", "first_name": "X"}
        payload = {"message_id": 1, "date": 1, "chat": chat, "text": text}
        return Update.de_json({"update_id": 7, "message": payload}, None)

    assert describe(message("/profile@UnionSandboxBot 秘密")).endswith("command=/profile")
    assert describe(message("/密码 123")).endswith("command=/?")
    assert "secret" not in describe(message("/secret-stuff"))
    assert describe(message("hello")) == "update 7 message in private chat"
