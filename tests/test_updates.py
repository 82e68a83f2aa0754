"""A getUpdates answer with unreadable updates still parses, and every id is kept."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Bot, Update

from bot.updates import Once, parsed_updates

BOT = Bot("123:abcdefghijklmnopqrstuvwxyz")

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
KIND = st.sampled_from(["message", "edited_message", "callback_query", "channel_post", "x"])


@st.composite
def raw_update(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)  # not even an object with an id
    fields = draw(st.dictionaries(KIND, JSON, max_size=2))
    return {"update_id": draw(st.integers(1, 10**9)), **fields}


@given(st.lists(raw_update(), max_size=6))
def test_anything_becomes_a_list_the_library_parses(result: list[Any]) -> None:
    kept = parsed_updates(result, BOT)
    assert all(isinstance(u, Update) and u.get_bot() is BOT for u in kept)
    ids = [
        u["update_id"] for u in result if isinstance(u, dict) and type(u.get("update_id")) is int
    ]
    assert [u.update_id for u in kept] == ids


def test_one_line_per_bad_update_and_no_content(caplog: pytest.LogCaptureFixture) -> None:
    bad = {"update_id": 12, "message": {"text": "秘密", "from": {"id": 4242424242}}}
    good = {
        "update_id": 13,
        "message": {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}},
    }
    once = Once()
    with caplog.at_level(logging.INFO):
        for _ in range(3):  # the same answer again, as after a restart
            skipped, kept = parsed_updates([bad, good], BOT, once)
            assert (skipped.update_id, skipped.message) == (12, None)
            assert kept == Update.de_json(good, BOT)
        assert parsed_updates([["no", "id"]], BOT, once) == []
    assert [r.getMessage() for r in caplog.records] == [
        "skipped update 12: message the library cannot parse (TypeError)",
        "skipped an update without an id: not an object (list)",
    ]
    assert "4242424242" not in caplog.text and "秘密" not in caplog.text


async def test_the_backlog_waits_for_room_and_a_finished_update_makes_it() -> None:
    import asyncio

    from bot.updates import Backlog

    backlog = Backlog(limit=3)
    await asyncio.wait_for(backlog.room(), 1)  # empty: room at once
    backlog.taken(3)
    waiting = asyncio.create_task(backlog.room())
    await asyncio.sleep(0)
    assert not waiting.done()
    backlog.finished()
    await asyncio.wait_for(waiting, 1)
    backlog.finished()
    backlog.finished()
    backlog.finished()  # one more than taken (a webhook's update): never below 0
    assert (backlog.in_hand, backlog.most) == (0, 3)


async def test_polling_fetches_more_only_while_the_bot_has_room(sqlite_url: str) -> None:
    """A rush larger than the bound: the bot never holds more than the bound plus one
    getUpdates answer (100), and every update is still answered, in each chat's order."""
    import asyncio

    from bot.updates import Backlog
    from tests.support.bot import running_bot

    backlog = Backlog(limit=5)
    async with running_bot(sqlite_url, backlog=backlog) as bot:
        users = [await bot.driver.create_user(f"U{i}") for i in range(30)]
        await asyncio.gather(*(user.send(f"/help {n}") for n in range(10) for user in users))

        async def all_answered() -> bool:
            counts = [len(await user.bot_messages()) for user in users]
            return all(count >= 10 for count in counts)

        await bot.driver.wait_for(all_answered, timeout=120, what="300 answers")
        assert 5 <= backlog.most <= 5 - 1 + 100, backlog.most
        assert backlog.in_hand == 0
