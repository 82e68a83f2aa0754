"""Updates waiting for their chat take no place of the ones that may run (`bot.processor`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.processor import PerChatUpdateProcessor


def message(update_id: int, chat_id: int) -> Update:
    user = User(chat_id, "U", is_bot=False)
    chat = Chat(chat_id, Chat.PRIVATE)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    return Update(update_id, message=Message(update_id, when, chat, from_user=user, text="hi"))


async def test_a_member_s_queued_updates_do_not_hold_up_another_member() -> None:
    """Two places: the first member's first update runs (and waits), four more of theirs
    wait for their chat; the second member's update still runs, and in order after that
    the first member's all do."""
    processor = PerChatUpdateProcessor(max_concurrent_updates=2)
    release = asyncio.Event()
    done: list[str] = []

    async def first_member(index: int) -> None:
        if index == 0:
            await release.wait()
        done.append(f"a{index}")

    async def second_member() -> None:
        done.append("b")

    tasks = [
        asyncio.create_task(processor.process_update(message(i, 7), first_member(i)))
        for i in range(5)
    ]
    other = asyncio.create_task(processor.process_update(message(9, 8), second_member()))
    await asyncio.wait_for(other, 10)  # without the change: waits for a place for ever
    assert done == ["b"]
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert done == ["b", "a0", "a1", "a2", "a3", "a4"]


async def test_no_more_than_the_places_run_at_once() -> None:
    processor = PerChatUpdateProcessor(max_concurrent_updates=2)
    release = asyncio.Event()
    running = 0
    most = 0

    async def handler() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        running -= 1

    tasks = [
        asyncio.create_task(processor.process_update(message(i, 100 + i), handler()))
        for i in range(5)
    ]
    for _ in range(20):
        await asyncio.sleep(0)
    assert running == 2
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert most == 2
