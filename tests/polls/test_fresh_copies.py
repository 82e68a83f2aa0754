"""Every copy of a poll stays true: after a vote (the published one and the reminder) and
after closing (every delivered copy loses its vote buttons, through the outbox, once)."""

from __future__ import annotations

from sqlalchemy import select

from display import callbacks as cb
from jobs import polls as poll_jobs
from sandbox.driver import SandboxUser
from sandbox.driver_types import ChatMessage
from storage.models import Outbox, PollCopy
from tests.support.bot import BotHarness
from tests.support.chat import buttons, registered, registered_admin, wait_message
from tests.support.members import add_person
from tests.support.outbox import delivered
from tests.support.polls import create_poll

VOTE = cb.POLL_VOTE.pack(1, 0).split(":")[0] + ":"
QUESTION = "是否赞成调整夏季作息时间？"
OPTIONS = ["赞成", "反对", "无所谓"]


async def _copies(user: SandboxUser) -> list[ChatMessage]:
    """The poll messages with vote buttons (as published and the reminders).

    Not the results notice, the creator's preview or the creator's manage card.
    """
    return [
        m
        for m in await user.bot_messages()
        if not m.deleted
        and any(b.get("callback_data", "").startswith(VOTE) for row in m.keyboard for b in row)
    ]


async def _remind(bot: BotHarness) -> None:
    bot.clock.advance(days=2, minutes=1)  # closes in 3 days, reminded a day before
    assert (await poll_jobs.run(bot.runtime, bot.clock.now, bot.application)).reminded >= 1
    await delivered(bot)


async def test_a_vote_shows_on_every_copy_the_member_has(bot: BotHarness) -> None:
    chair = await registered_admin(bot)
    li = await registered(bot, "李雷", "质检科")
    await create_poll(chair, QUESTION, OPTIONS)
    first = await wait_message(bot, li, "🗳")
    await _remind(bot)
    reminder = await wait_message(bot, li, "⏰ 提醒")
    await li.send("/polls")
    await li.press(f"🗳 {QUESTION}")  # a third copy, shown again from the list
    opened = (await _copies(li))[-1]
    assert len(await _copies(li)) == 3
    await li.press_data(reminder.message_id, reminder.keyboard[1][0]["callback_data"])  # 反对
    copies = await _copies(li)
    for copy in copies:
        print(copy.text)
        assert "✅ 您的选择：反对" in copy.text and "您还没有投票" not in copy.text
        assert "✅ 反对" in buttons(copy)
    # A change on the older copy reaches the reminder too.
    await li.press_data(first.message_id, first.keyboard[0][0]["callback_data"])
    by_id = {m.message_id: m for m in await _copies(li)}
    for message_id in (first.message_id, reminder.message_id, opened.message_id):
        assert "✅ 您的选择：赞成" in by_id[message_id].text
    # The opened copy is kept by a keyed hash only: no chat, no member, no time.
    async with bot.runtime.sessions() as session:
        (kept,) = list(await session.scalars(select(PollCopy)))
    assert kept.message_id == opened.message_id and str(li.id) not in kept.holder


async def test_closing_edits_every_delivered_copy_once(bot: BotHarness) -> None:
    chair = await registered_admin(bot)
    wang = await registered(bot, "王小明")
    li = await registered(bot, "李雷", "质检科")
    anna = await add_person(bot, "Anna", department="质检科", language="en")
    await create_poll(chair, QUESTION, OPTIONS)
    for person in (wang, li, anna):
        await wait_message(bot, person, "🗳")
    await wang.press("赞成")
    # Anna's first copy is gone before the close (deleted through the Bot API): its edit
    # hears "message to edit not found", which counts as done.
    gone = (await _copies(anna))[0]
    await bot.application.bot.delete_message(anna.id, gone.message_id)
    await _remind(bot)  # 李雷, Anna and the chair get a reminder: two copies each
    await li.send("/polls")
    await li.press(f"🗳 {QUESTION}")  # and 李雷 opens it once more
    everyone = (wang, li, chair, anna)
    before = {person.id: {m.message_id for m in await _copies(person)} for person in everyone}
    assert [len(before[p.id]) for p in everyone] == [1, 3, 2, 1]
    bot.clock.advance(days=1)
    assert (await poll_jobs.run(bot.runtime, bot.clock.now, bot.application)).closed == 1
    await delivered(bot)
    for person in everyone:
        assert await _copies(person) == []  # no vote button anywhere
        copies = [m for m in await person.bot_messages() if m.message_id in before[person.id]]
        for copy in copies:
            print(f"[{person.first_name}]", copy.text, buttons(copy), sep="\n")
            assert buttons(copy) in (["📊 结果"], ["📊 Results"]), copy.text  # no vote left
            assert "投票已截止，不再接受投票" in copy.text or "no longer taken" in copy.text
            assert "您还没有投票" not in copy.text
    async with bot.runtime.sessions() as session:
        rows = list(await session.scalars(select(Outbox).where(Outbox.kind == "poll-closed")))
    # 王小明's poll; the others' poll and reminder; 李雷's opened copy
    assert len(rows) == 1 + 2 + 2 + 2 + 1
    assert {row.status for row in rows} == {"sent"}  # the deleted one counts as done
    sealed = [row for row in rows if row.sensitive]
    assert len(sealed) == 4 and all(row.member_id is None for row in sealed)  # reminders, opened
    # Later runs (the job rechecks closed polls for a while) add nothing.
    bot.clock.advance(minutes=5)
    await poll_jobs.run(bot.runtime, bot.clock.now, bot.application)
    async with bot.runtime.sessions() as session:
        again = list(await session.scalars(select(Outbox).where(Outbox.kind == "poll-closed")))
    assert len(again) == len(rows)
