"""`kill -9` of a real `union-bot run` mid-registration and mid-grievance; both finish after it.

Issue 11 part 4: a member halfway through a conversation used to get "send
/start" after a restart, their answers gone. Both databases.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from handlers import membership
from handlers.grievances import writing
from sandbox import SandboxDriver
from storage import conversations as store
from storage.db import make_engine, make_session_factory
from storage.models import ConversationState, Grievance
from tests.support.bot import sandbox_server
from tests.support.config import CADRE_CHAT, SECRET, TOKEN
from tests.support.databases import clean_database
from tests.support.processes import (
    answered,
    bot_env,
    bot_process,
    register_in_process,
    wait_started,
)

GRIEVANCE = "夜班没有热水，已经两周了。"


async def _states(sessions: Any) -> dict[int, tuple[str, Any]]:
    async with sessions() as session:
        rows = (await store.load_all(session, store.Sealer(SECRET))).rows.values()
    return {
        int(row.key[-1]): (row.name, row.state)
        for row in rows
        if isinstance(row, store.ConversationRow)
    }


async def _publishes(driver: SandboxDriver, before: int) -> bool:
    return len(await driver.calls(method="setMyCommands")) > before


async def test_kill_9_mid_registration_and_mid_grievance_then_both_finish(
    database_url: str,
) -> None:
    await clean_database(database_url)
    server = sandbox_server()
    base = await server.start()
    env = bot_env(base, database_url, CADRE_CHAT_ID=str(CADRE_CHAT), DELIVERY_POLL_SECONDS="0.2")
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        async with SandboxDriver(base, TOKEN, auto_settle=False) as driver:
            await driver.create_group("工会干部群", chat_id=CADRE_CHAT, members=[])
            member = await driver.create_user("Mei", user_id=620000001)
            newcomer = await driver.create_user("New", user_id=620000002)
            async with bot_process("run", env) as first:
                await wait_started(driver)
                await register_in_process(member)
                for text in ("📝 提交诉求", "💰 工资", "🟢 普通", GRIEVANCE):
                    await answered(member, member.send(text))
                await answered(newcomer, newcomer.send("/start"))
                await answered(newcomer, newcomer.press("简体中文"))
                await answered(newcomer, newcomer.send("半路注册"))
                expected = {
                    member.id: ("grievance_submit", writing.ATTACH),
                    newcomer.id: ("registration", membership.DEPARTMENT),
                }

                async def durable() -> bool:
                    return await _states(sessions) == expected

                # The bot answers first, then flushes: wait for the flush, then crash.
                await driver.wait_for(durable, timeout=20, what="the steps in the database")
                first.kill()
                await first.wait()

            started = len(await driver.calls(method="setMyCommands"))
            async with bot_process("run", env):
                await driver.wait_for(
                    lambda: _publishes(driver, started), timeout=60, what="the restart"
                )
                await answered(newcomer, newcomer.send("装配车间"))
                assert "生日" in (await newcomer.last_bot_message()).text
                await answered(newcomer, newcomer.send("⏭ 跳过"))
                assert "半路注册" in (await newcomer.last_bot_message()).text
                await answered(newcomer, newcomer.send("✅ 确认"))
                assert "欢迎加入工会" in (await newcomer.last_bot_message()).text

                await answered(member, member.send("📝 只发文字"))
                assert GRIEVANCE in (await member.last_bot_message()).text
                await answered(member, member.send("✅ 匿名发送"))
                receipt = (await member.last_bot_message()).text
                assert "G-" in receipt

                async def carded() -> bool:
                    group = await driver.messages(CADRE_CHAT)
                    return any(m.text and GRIEVANCE in m.text for m in group)

                await driver.wait_for(carded, timeout=20, what="the case card")
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Grievance)) == 1
            assert await session.scalar(select(func.count()).select_from(ConversationState)) == 0
    finally:
        await engine.dispose()
        await server.stop()
