"""Conversations live in the database: each step durable, sealed, gone at the end, timed out.

The process-level proof (`kill -9` mid-registration and mid-grievance) is in
`test_restarts.py`; these run the bot in-process on both databases.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from telegram import Update

from bot.persistence import expire_conversations
from bot.processor import PerChatUpdateProcessor
from handlers import membership
from handlers.grievances import writing
from sandbox import SandboxServer
from storage import conversations as store
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import upgrade
from storage.models import ConversationState, Member
from storage.registration import RegistrationDraft
from tests.support.bot import BotHarness, bot_on, sandbox_server
from tests.support.chat import register
from tests.support.clock import FakeClock
from tests.support.config import SECRET, bot_settings
from tests.support.databases import clean_database

NAME = "持久化测试员"
GRIEVANCE = "更衣室的锁坏了三周，没人来修。"


async def stored(runtime: Any) -> dict[str, store.ConversationRow | store.UserRow]:
    async with runtime.sessions() as session:
        return (await store.load_all(session, store.Sealer(SECRET))).rows


async def conversations_of(runtime: Any, user_id: int) -> dict[str, Any]:
    """The user's stored conversations, name → state (opened with the key, as the bot would)."""
    return {
        row.name: row.state
        for row in (await stored(runtime)).values()
        if isinstance(row, store.ConversationRow) and row.key[-1] == user_id
    }


async def drafts_of(runtime: Any, user_id: int) -> dict[str, Any]:
    for row in (await stored(runtime)).values():
        if isinstance(row, store.UserRow) and row.user_id == user_id:
            return row.data
    return {}


async def row_count(runtime: Any) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ConversationState)))


def database_bytes(url: str) -> bytes:
    """Everything SQLite holds on disk for this database, journal included."""
    path = Path(url.split(":///", 1)[1])
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


async def test_each_step_is_stored_sealed_and_deleted_at_the_end(
    bot: BotHarness, database_url: str
) -> None:
    user = await bot.driver.create_user("Durable", user_id=610000001)
    await user.send("/start")
    assert await conversations_of(bot.runtime, user.id) == {
        "registration": membership.CHOOSE_LANGUAGE
    }
    await user.press("简体中文")
    await user.send(NAME)
    # The update is finished only after the flush: the next one finds it in the database.
    assert await conversations_of(bot.runtime, user.id) == {"registration": membership.DEPARTMENT}
    draft = (await drafts_of(bot.runtime, user.id))[membership.DRAFT]
    assert isinstance(draft, RegistrationDraft)
    assert draft.name == NAME and draft.language == "zh_CN"

    async with bot.runtime.sessions() as session:
        rows = list(await session.scalars(select(ConversationState)))
    assert len(rows) == 2  # the conversation and the member's drafts
    for row in rows:
        assert NAME not in row.sealed and str(user.id) not in row.sealed + row.key
        assert row.expires_at.second == 0  # only the minute is readable
    if database_url.startswith("sqlite"):
        assert NAME.encode() not in database_bytes(database_url)

    await user.send("装配车间")
    await user.send("⏭ 跳过")
    await user.send("✅ 确认")
    assert NAME in (await user.last_bot_message()).text
    assert await row_count(bot.runtime) == 0


async def test_a_grievance_draft_is_sealed_and_ends_with_the_case(bot: BotHarness) -> None:
    member = await bot.driver.create_user("Mei", user_id=610000002)
    await register(bot, member, "韩梅梅", "装配车间")
    assert await row_count(bot.runtime) == 0
    await member.send("📝 提交诉求")
    await member.send("💰 工资")
    await member.send("🟢 普通")
    await member.send(GRIEVANCE)
    assert await conversations_of(bot.runtime, member.id) == {"grievance_submit": writing.ATTACH}
    assert (await drafts_of(bot.runtime, member.id))[writing.DRAFT].text == GRIEVANCE
    async with bot.runtime.sessions() as session:
        sealed = " ".join(await session.scalars(select(ConversationState.sealed)))
    assert GRIEVANCE not in sealed
    await member.send("📝 只发文字")
    await member.send("✅ 匿名发送")
    assert "G-" in (await member.last_bot_message()).text
    assert await row_count(bot.runtime) == 0


async def test_a_step_after_the_timeout_finds_the_conversation_over(bot: BotHarness) -> None:
    user = await bot.driver.create_user("Slow", user_id=610000003)
    await user.send("/start")
    await user.press("简体中文")
    bot.clock.advance(minutes=29)  # the timeout counts from the last step
    await user.send(NAME)
    assert "部门" in (await user.last_bot_message()).text
    bot.clock.advance(minutes=31)
    await user.send("装配车间")
    assert "发送 /start 即可注册" in (await user.last_bot_message()).text
    assert await row_count(bot.runtime) == 0
    assert not any(k.startswith("draft") for k in bot.application.user_data.get(user.id, {}))
    await user.send("/start")  # and a new registration starts cleanly
    assert "请选择语言" in (await user.last_bot_message()).text


async def test_abandoned_conversations_are_swept_with_their_drafts(bot: BotHarness) -> None:
    member = await bot.driver.create_user("Gone", user_id=610000004)
    await register(bot, member, "李四", "仓库")
    other = await bot.driver.create_user("Stays", user_id=610000005)
    await member.send("📝 提交诉求")
    await member.send("💰 工资")
    await member.send("🟢 普通")
    await member.send(GRIEVANCE)
    bot.clock.advance(minutes=20)
    await other.send("/start")
    bot.clock.advance(minutes=11)
    assert await expire_conversations(bot.application) == 1  # the grievance, not the newcomer
    assert await conversations_of(bot.runtime, member.id) == {}
    assert await drafts_of(bot.runtime, member.id) == {}
    assert writing.DRAFT not in bot.application.user_data.get(member.id, {})
    assert await conversations_of(bot.runtime, other.id) == {
        "registration": membership.CHOOSE_LANGUAGE
    }
    bot.clock.advance(minutes=20)
    assert await expire_conversations(bot.application) == 1
    assert await row_count(bot.runtime) == 0
    await member.send("📝 只发文字")  # the old step's button: no case comes of it
    assert "G-" not in (await member.last_bot_message()).text


async def test_a_draft_that_cannot_be_stored_is_logged_and_blocks_nothing(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    user = await bot.driver.create_user("Odd", user_id=610000008)
    other = await bot.driver.create_user("Fine", user_id=610000009)
    await user.send("/start")

    async def odd_draft(update: Update) -> None:
        # As a handler would: after the update's conversations were read (on PostgreSQL
        # from the database, which would drop a value set from outside an update).
        if update.effective_user is not None and update.effective_user.id == user.id:
            bot.application.user_data[user.id]["draft_odd"] = {"秘密集合"}  # a set: not JSON

    processor = bot.application.update_processor
    assert isinstance(processor, PerChatUpdateProcessor)
    processor.before_each.append(odd_draft)
    with caplog.at_level(logging.ERROR):
        await user.press("简体中文")
        await other.send("/start")
    errors = {r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR}
    assert errors == {
        "a conversation draft cannot be stored: a set cannot be kept between conversation "
        "steps: keep plain values (text, numbers, lists, dicts, tuples, dates) or a "
        "`core.drafts.draft` dataclass in user_data"
    }
    assert await conversations_of(bot.runtime, user.id) == {"registration": membership.NAME}
    assert await drafts_of(bot.runtime, user.id) == {}  # no stale draft left to restore
    assert await conversations_of(bot.runtime, other.id) == {
        "registration": membership.CHOOSE_LANGUAGE
    }
    processor.before_each.remove(odd_draft)
    bot.application.user_data[user.id].pop("draft_odd", None)
    await user.send(NAME)
    assert (await drafts_of(bot.runtime, user.id))[membership.DRAFT].name == NAME


async def test_cancel_deletes_the_rows(bot: BotHarness) -> None:
    member = await bot.driver.create_user("Quits", user_id=610000010)
    await register(bot, member, "王五", "食堂")
    await member.send("📝 提交诉求")
    await member.send("💰 工资")
    assert await row_count(bot.runtime) == 2
    await member.send("/cancel")
    assert await row_count(bot.runtime) == 0


# Restarts in-process: the same database, a new Application ------------------------------


def life(
    server: SandboxServer, database_url: str, clock: FakeClock
) -> AbstractAsyncContextManager[BotHarness]:
    """One run of the bot against an existing sandbox, as `union-bot run` would do it."""
    assert server.base_url is not None
    return bot_on(server, bot_settings(database_url, telegram_api_base_url=server.base_url), clock)


async def test_a_new_instance_continues_and_restored_conversations_still_time_out(
    database_url: str,
) -> None:
    await clean_database(database_url)
    clock = FakeClock()
    server = sandbox_server(clock)
    await server.start()
    try:
        async with life(server, database_url, clock) as first:
            user = await first.driver.create_user("Twice", user_id=610000006)
            late = await first.driver.create_user("Late", user_id=610000007)
            idle = await first.driver.create_user("Idle", user_id=610000011)
            await user.send("/start")
            await user.press("简体中文")
            await user.send(NAME)
            await late.send("/start")
            await late.press("English")
            await idle.send("/start")
        async with life(server, database_url, clock) as second:
            user = await second.driver.user(user.id)
            await user.send("装配车间")
            assert "生日" in (await user.last_bot_message()).text
            await user.send("⏭ 跳过")
            await user.send("✅ 确认")
            assert NAME in (await user.last_bot_message()).text
            async with second.runtime.sessions() as session:
                member = await session.scalar(select(Member).where(Member.telegram_id == user.id))
            assert member is not None and member.name == NAME
            assert member.language == "zh_CN"
            # Restored without PTB's timeout job, it still ends on the runtime's clock.
            clock.advance(minutes=31)
            late = await second.driver.user(late.id)
            await late.send("Late Comer")
            assert "Send /start to register" in (await late.last_bot_message()).text
            assert await conversations_of(second.runtime, idle.id) == {
                "registration": membership.CHOOSE_LANGUAGE
            }
        async with life(server, database_url, clock) as third:
            assert await row_count(third.runtime) == 0  # expired while no one was running
            idle = await third.driver.user(idle.id)
            await idle.press("简体中文")
            assert "您叫什么名字" not in (await idle.last_bot_message()).text
    finally:
        await server.stop()


async def test_rows_that_expired_while_no_one_ran_are_deleted_unopened(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """At start, expired rows go in one statement; only the others are opened and read."""
    await clean_database(database_url)
    clock = FakeClock()
    engine = make_engine(database_url)
    try:
        await upgrade(engine)
        async with transaction(make_session_factory(engine)) as session:
            await store.write(
                session,
                {  # neither opens (another key, a damaged dump); the first expired long ago
                    "expired": ("not sealed", clock.now - timedelta(hours=2)),
                    "live": ("not sealed", clock.now + timedelta(hours=2)),
                },
                [],
            )
    finally:
        await engine.dispose()
    server = sandbox_server(clock)
    await server.start()
    try:
        with caplog.at_level(logging.INFO, logger="bot.persistence"):
            async with life(server, database_url, clock) as bot:
                assert await row_count(bot.runtime) == 0
    finally:
        await server.stop()
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.persistence"]
    assert "dropped 1 conversation rows that do not open" in messages
    assert "conversations restored: 0 live, 2 ended or unreadable" in messages
