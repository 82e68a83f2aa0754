"""Commit, then talk to Telegram: the request commits the handler's work; the rule is checked.

Real pieces throughout: the sandbox answers the Bot API over HTTP, the bot sends
through `bot.request.bot_request()`, and the database is SQLite or PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, CallbackQuery, Update, User

from bot.errors import PARTLY_SAVED, message_for
from bot.processor import PerChatUpdateProcessor
from bot.request import bot_request
from handlers.scope import mark_partly_saved
from sandbox import SandboxDriver, SandboxOptions, SandboxServer
from storage.db import (
    commit_before_io,
    connections_held_here,
    transaction,
    unit_of_work,
)
from storage.models import Member
from tests.support.members import new_member

TOKEN = "555000111:TEST-commit-first-token-abcdefghijk"
USER = 700000001


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    server = SandboxServer(SandboxOptions(port=0, bots={TOKEN: "CommitFirstBot"}))
    base = await server.start()
    try:
        async with SandboxDriver(base, TOKEN, auto_settle=False) as driver:
            await driver.create_user("Member", user_id=USER)
            server.actions.open_private(driver.bot_id, USER)
            ptb = Bot(TOKEN, base_url=f"{base}/bot", request=bot_request())
            async with ptb:
                yield ptb
    finally:
        await server.stop()


async def members(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    async with sessions() as session:
        return list(await session.scalars(select(Member.telegram_id).order_by(Member.id)))


def holding(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "storage.db"]


async def test_a_reply_commits_the_work_before_it_and_holds_no_connection(
    bot: Bot, sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    async with unit_of_work(sessions) as session:
        session.add(new_member(1, language="en"))
        await session.flush()
        assert connections_held_here() == 1
        await bot.send_message(USER, "saved")
        assert connections_held_here() == 0
        assert await members(sessions) == [1]  # committed, seen from another session
        session.add(new_member(2, language="en"))
    assert await members(sessions) == [1, 2]
    assert holding(caplog) == []


async def test_a_failure_after_a_reply_rolls_back_only_what_came_after(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    with pytest.raises(RuntimeError):
        async with unit_of_work(sessions) as session:
            session.add(new_member(1, language="en"))
            await bot.send_message(USER, "saved")
            session.add(new_member(2, language="en"))
            await session.flush()
            raise RuntimeError("a later step failed")
    assert await members(sessions) == [1]


async def test_talking_inside_a_plain_transaction_is_reported(
    bot: Bot, sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="storage.db")
    async with transaction(sessions) as session:
        await session.execute(text("select 1"))
        await bot.send_message(USER, "while holding")
    assert holding(caplog) == [
        "Bot API request sendMessage made while this task holds 1 database connection(s)"
    ]
    assert TOKEN not in caplog.text


async def test_a_task_started_by_a_handler_does_not_commit_for_it(
    bot: Bot, sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    async with unit_of_work(sessions) as session:
        session.add(new_member(1, language="en"))
        await session.flush()
        await asyncio.create_task(bot.send_message(USER, "from another task"))
        assert session.in_transaction()  # still the handler's to commit
        assert await members(sessions) == []
    assert await members(sessions) == [1]
    assert holding(caplog) == []


def test_the_error_message_does_not_claim_nothing_was_saved_after_a_commit() -> None:
    from sqlalchemy.exc import OperationalError

    error = OperationalError("update", {}, Exception("locked"))
    assert "nothing was saved" in message_for(error)
    mark_partly_saved(error)
    assert message_for(error) == PARTLY_SAVED


# Lines: first transactions in arrival order ------------------------------------------------


def press(update_id: int, user_id: int) -> Update:
    user = User(user_id, "U", is_bot=False)
    query = CallbackQuery(str(update_id), user, chat_instance="c", data="acs:1:0")
    return Update(update_id, callback_query=query)


async def entering_order(sessions: async_sessionmaker[AsyncSession], *, line: bool) -> list[int]:
    """Ten presses; later ones reach the database sooner unless they stand in line."""
    processor = PerChatUpdateProcessor()
    if line:
        processor.line_keys.append(lambda u: "activity 1" if u.callback_query else None)
    entered: list[int] = []
    inside = 0

    async def handler(index: int) -> None:
        nonlocal inside
        for _ in range(10 - index):  # the first press has the most work before its lock
            await asyncio.sleep(0)
        async with unit_of_work(sessions) as session:
            inside += 1
            assert not line or inside == 1  # one first transaction at a time
            entered.append(index)
            await session.execute(text("select 1"))
            inside -= 1
            await commit_before_io()  # the reply: the next in line may go
            for _ in range(3):
                await asyncio.sleep(0)

    tasks = [
        asyncio.create_task(processor.process_update(press(100 + i, 500 + i), handler(i)))
        for i in range(10)
    ]
    await asyncio.gather(*tasks)
    return entered


async def test_presses_in_one_line_open_their_first_transaction_in_arrival_order(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await entering_order(sessions, line=True) == list(range(10))
    # Without the line the quickest press gets in first: the test can tell.
    assert await entering_order(sessions, line=False) != list(range(10))


async def test_a_press_that_never_opens_a_transaction_does_not_block_the_line() -> None:
    processor = PerChatUpdateProcessor()
    processor.line_keys.append(lambda u: "activity 1")
    done: list[int] = []

    async def nothing(index: int) -> None:
        done.append(index)

    await asyncio.wait_for(
        asyncio.gather(
            *(processor.process_update(press(i, 500 + i), nothing(i)) for i in range(3))
        ),
        10,
    )
    assert done == [0, 1, 2]
    assert processor._lines == {}


# The same rule read from the source ---------------------------------------------------------

# Receivers of Bot API coroutines (Bot, Message, CallbackQuery, Chat, User, File methods).
_API_CLASSES = ("Bot", "Message", "CallbackQuery", "Chat", "User", "File")
_HELPERS = {"answer", "reply", "show_panel", "show_working"}  # handlers' reply helpers
_OPENERS = {"transaction", "sessions", "_sessions", "begin", "connect"}


def _api_names() -> set[str]:
    import inspect

    import telegram

    names: set[str] = set()
    for cls_name in _API_CLASSES:
        cls = getattr(telegram, cls_name)
        names |= {
            n
            for n in dir(cls)
            if not n.startswith("_") and inspect.iscoroutinefunction(getattr(cls, n, None))
        }
    return names - {"initialize", "shutdown"}


def bot_calls_inside_transactions(source: str, api: set[str]) -> list[int]:
    """Lines that await a Bot API call (or hand the bot to a helper) inside a session block.

    A block is ``async with transaction(...)`` / ``sessions()`` / ``begin()`` /
    ``connect()``: a plain transaction or connection, which nothing commits
    early. (Handlers' units of work, which do commit early, are not blocks.)
    """
    import ast

    def opens(item: ast.withitem) -> bool:
        call = item.context_expr
        if not isinstance(call, ast.Call):
            return False
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name in _OPENERS

    def talks(call: ast.Call) -> bool:
        func = call.func
        if call.args and isinstance(call.args[0], ast.Name) and call.args[0].id == "session":
            return False  # a storage service (members.get_member(session, …)), not the API
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if (isinstance(func, ast.Attribute) and name in api) or name in _HELPERS:
            return True
        values = [*call.args, *(k.value for k in call.keywords)]
        return any(
            (isinstance(v, ast.Attribute) and v.attr == "bot")
            or (isinstance(v, ast.Name) and v.id == "bot")
            for v in values
        )

    lines: list[int] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.AsyncWith) and any(opens(i) for i in node.items):
            for inner in ast.walk(node):
                awaited = inner.value if isinstance(inner, ast.Await) else None
                if isinstance(awaited, ast.Call) and talks(awaited):
                    lines.append(inner.lineno)
    return lines


def test_no_job_or_handler_talks_to_telegram_inside_a_transaction_block() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    api = _api_names()
    sample = (
        "async def redraw(runtime, application):\n"
        "    async with transaction(runtime.sessions) as session:\n"
        "        case = await service.get_case(session, 1)\n"
        "        await relay.refresh_cards(application.bot, session, runtime, case)\n"
        "        await application.bot.send_message(1, 'x')\n"
        "    await application.bot.send_message(1, 'after: fine')\n"
    )
    assert bot_calls_inside_transactions(sample, api) == [4, 5]  # the check can fail
    found = [
        f"{path.relative_to(root)}:{line}"
        for folder in ("bot", "handlers", "jobs", "notices")
        for path in sorted((root / folder).rglob("*.py"))
        if "sandbox" not in path.parts
        for line in bot_calls_inside_transactions(path.read_text(encoding="utf-8"), api)
    ]
    assert found == []
