"""Two instances on one PostgreSQL take updates: conversations continue, chats stay in order.

Two real `Application`s (as `union-bot webhook` builds them) share one
database and one sandbox; the test's balancer hands each update to the
instance it names (`tests.support.instances`). PostgreSQL only: SQLite is one
instance by construction.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from telegram import Update

from jobs import grievances as grievance_jobs
from storage.db import claim_run, make_engine, make_session_factory, transaction
from storage.models import Member
from tests.support.config import ESCALATION_CHAT
from tests.support.grievances import cases, submit
from tests.support.instances import Pair, two_instances
from tests.support.outbox import delivered, quick_delivery


async def _member(pair: Pair, telegram_id: int) -> Member | None:
    async with pair.a.runtime.sessions() as session:
        return await session.scalar(select(Member).where(Member.telegram_id == telegram_id))


async def test_a_conversation_begun_on_one_instance_finishes_on_the_other(
    pg_database: str,
) -> None:
    async with two_instances(pg_database) as pair:
        user = await pair.driver.create_user("Wang", user_id=620000001)
        steps = [
            (0, lambda: user.send("/start")),
            (1, lambda: user.press("简体中文")),
            (0, lambda: user.send("王跨机")),
            (1, lambda: user.send("装配车间")),
            (1, lambda: user.send("⏭ 跳过")),
            (0, lambda: user.send("✅ 确认")),
        ]
        for index, step in steps:
            pair.send_to(index)
            await step()
        member = await _member(pair, user.id)
        assert member is not None and member.name == "王跨机"
        # Each instance handled some of it: the conversation really moved between them.
        assert pair.a.handled and pair.b.handled
        # Done on both: a new /start on either is no registration in the middle.
        for index in (0, 1):
            pair.send_to(index)
            await user.send("/start")
            assert "姓名" not in (await user.last_bot_message()).text


async def test_one_chat_on_two_instances_at_once_is_handled_in_order(pg_database: str) -> None:
    async with two_instances(pg_database) as pair:
        user = await pair.driver.create_user("Li", user_id=620000002)
        pair.send_to(0)
        await user.send("/start")
        # The language press goes to a, which is held inside the chat's lock; the
        # name typed right after goes to b, which must wait for a, then continue.
        pair.balancer.route = lambda update, count: 0 if update.callback_query else 1
        a_inside = asyncio.Event()
        go_on = asyncio.Event()
        b_waits = asyncio.Event()

        async def hold(update: Update) -> None:
            if update.callback_query is not None:
                a_inside.set()
                await go_on.wait()

        pair.a.processor.before_each.append(hold)
        locks_b = pair.b.processor.chat_locks
        assert locks_b is not None
        locks_b.on_wait.append(b_waits.set)
        press = asyncio.create_task(user.press("简体中文"))
        await asyncio.wait_for(a_inside.wait(), 15)
        typed = asyncio.create_task(user.send("李有序"))
        await asyncio.wait_for(b_waits.wait(), 15)
        assert not typed.done()
        go_on.set()
        await asyncio.wait_for(asyncio.gather(press, typed), 30)
        handled_press = pair.a.handled[-1]
        handled_name = pair.b.handled[-1]
        assert handled_press < handled_name  # the press came first and was finished first
        # b continued the conversation a had moved on: the name was taken as the name.
        last = (await user.last_bot_message()).text
        assert "部门" in last or "车间" in last, last
        pair.send_to(1)
        await user.send("装配车间")
        await user.send("⏭ 跳过")
        pair.send_to(0)
        await user.send("✅ 确认")
        member = await _member(pair, user.id)
        assert member is not None and member.name == "李有序"


async def test_a_job_run_on_both_instances_at_once_sends_once(pg_database: str) -> None:
    async with two_instances(pg_database) as pair:
        bots = [pair.harness(pair.a), pair.harness(pair.b)]
        for bot in bots:
            await quick_delivery(bot)
        user = await pair.driver.create_user("Han", user_id=620000003)
        for index, step in enumerate(
            [
                lambda: user.send("/start"),
                lambda: user.press("简体中文"),
                lambda: user.send("韩两机"),
                lambda: user.send("装配车间"),
                lambda: user.send("⏭ 跳过"),
                lambda: user.send("✅ 确认"),
            ]
        ):
            pair.send_to(index % 2)
            await step()
        pair.balancer.route = lambda update, count: count % 2  # the case written across both
        case = await submit(bots[0], user)
        pair.clock.advance(hours=25)  # wages: 24 h to take
        await delivered(bots[0])
        upstairs_before = len(await pair.driver.messages(ESCALATION_CHAT))
        told_before = len(await user.bot_messages())
        now = pair.clock.now
        reports = await asyncio.gather(
            *(grievance_jobs.tick(b.runtime, now, b.application) for b in bots)
        )
        await delivered(bots[0])
        assert sum(report.escalated for report in reports) == 1
        upstairs = await pair.driver.messages(ESCALATION_CHAT)
        new = [m for m in upstairs[upstairs_before:] if m.text and case.code in m.text]
        assert len(new) == 1
        told = (await user.bot_messages())[told_before:]
        assert len(told) == 1 and "上级工会" in (told[0].text or "")
        assert (await cases(bots[1]))[0].escalation == "take"


async def test_a_claimed_run_is_refused_to_a_second_instance_until_commit(
    pg_database: str,
) -> None:
    engine = make_engine(pg_database)
    sessions = make_session_factory(engine)
    try:
        async with transaction(sessions) as first:
            assert await claim_run(first, "grievances:escalate_overdue")
            async with transaction(sessions) as second:
                assert not await claim_run(second, "grievances:escalate_overdue")
                assert await claim_run(second, "grievances:post_waiting")  # another job
        async with transaction(sessions) as later:
            assert await claim_run(later, "grievances:escalate_overdue")  # released by commit
    finally:
        await engine.dispose()
