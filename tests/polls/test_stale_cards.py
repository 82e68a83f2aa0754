"""Managers' cards and members' copies stay true when a poll is extended or closed.

Every manage card (the one after publishing, one opened from /polls, in either
language) is redrawn through the outbox; an extension rewrites what is still
waiting to be sent and edits what was delivered; a stale press on ⏰ or 🔒 of a
closed poll changes nothing and says so in the presser's language.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from display import callbacks as cb
from display.polls import local_time
from jobs import polls as poll_jobs
from jobs.delivery import stop_delivery
from sandbox.driver import SandboxUser
from sandbox.driver_types import ChatMessage
from storage import privacy
from storage.db import transaction
from storage.models import Outbox, PollCard, Role
from tests.support.bot import BotHarness
from tests.support.chat import buttons, registered, registered_admin, wait_message, zh
from tests.support.config import SECRET
from tests.support.members import add_person
from tests.support.outbox import delivered, quick_delivery
from tests.support.polls import create_poll, latest_poll

QUESTION = "是否赞成调整夏季作息时间？"
OPTIONS = ["赞成", "反对"]
CLOSE_NOW = ("🔒 立即结束", "🔒 Close now")
VOTE = cb.POLL_VOTE.pack(1, 0).split(":")[0] + ":"
EXPORT = cb.POLL_EXPORT.pack(1).split(":")[0] + ":"
EXTEND = cb.POLL_EXTEND.pack(1, 24).split(":")[0] + ":"
CLOSE = cb.POLL_CLOSE.pack(1).split(":")[0] + ":"


def _data(message: ChatMessage, prefix: str) -> str:
    """The callback data of the message's first button whose data starts so."""
    for row in message.keyboard:
        for button in row:
            if button.get("callback_data", "").startswith(prefix):
                return str(button["callback_data"])
    raise LookupError(prefix)


async def _cards(user: SandboxUser) -> list[ChatMessage]:
    """The user's manage cards (they show the ⚙️ card's export button)."""
    return [
        m
        for m in await user.bot_messages()
        if any(b.get("callback_data", "").startswith(EXPORT) for row in m.keyboard for b in row)
    ]


async def _copies(user: SandboxUser) -> list[ChatMessage]:
    """The poll messages with vote buttons (as published, reminded)."""
    return [
        m
        for m in await user.bot_messages()
        if any(b.get("callback_data", "").startswith(VOTE) for row in m.keyboard for b in row)
    ]


async def _open_card(user: SandboxUser) -> ChatMessage:
    """/polls → ⚙️: the list turns into a manage card."""
    await user.send("/polls")
    await user.press("⚙️")
    return (await _cards(user))[-1]


async def test_an_extension_reaches_every_card_and_copy_even_those_still_waiting(
    bot: BotHarness,
) -> None:
    chair = await registered_admin(bot)
    anna = await add_person(bot, "Anna", department="质检科", language="en", role=Role.ADMIN)
    wang = await registered(bot, "王小明")
    bob = await add_person(bot, "Bob", department="质检科", language="en")
    await create_poll(chair, QUESTION, OPTIONS)
    (published_card,) = await _cards(chair)  # the card after publishing
    for person in (wang, bob, anna):
        await wait_message(bot, person, "🗳")
    await wang.press("赞成")
    second_card = await _open_card(chair)
    anna_card = await _open_card(anna)
    assert "Open until" in anna_card.text and "🔒 Close now" in buttons(anna_card)
    before = await latest_poll(bot)
    assert before.poll.closes_at is not None
    old = local_time(before.poll.closes_at, bot.settings.tz)

    # The reminders are due and written, but not sent yet when the chair extends.
    await stop_delivery(bot.application)
    bot.clock.advance(days=2, minutes=1)
    assert (await poll_jobs.run(bot.runtime, bot.clock.now, bot.application)).reminded == 3
    await chair.press_data(published_card.message_id, cb.POLL_EXTEND.pack(before.id, 24))
    assert (await chair.callback_answers())[-1].text.startswith("现在开放至")
    await quick_delivery(bot)
    await delivered(bot)

    after = await latest_poll(bot)
    assert after.poll.closes_at == before.poll.closes_at + timedelta(days=1)
    assert after.poll.extended_at == bot.clock.now
    new = local_time(after.poll.closes_at, bot.settings.tz)
    # Every manager's card, in its reader's language, shows the new time.
    for person, card, line in (
        (chair, published_card, f"⏰ 截止时间：{new}。"),
        (chair, second_card, f"⏰ 截止时间：{new}。"),
        (anna, anna_card, f"⏰ Open until {new}."),
    ):
        (shown,) = [m for m in await _cards(person) if m.message_id == card.message_id]
        print(shown.text)
        assert line in shown.text and old not in shown.text
        assert any(label in buttons(shown) for label in CLOSE_NOW)
    # Every member's copy too, each with their own choice.
    (wang_copy,) = await _copies(wang)
    assert f"⏰ 截止时间：{new}。" in wang_copy.text and "✅ 您的选择：赞成" in wang_copy.text
    assert "✅ 赞成" in buttons(wang_copy)
    for person in (bob, anna, chair):
        copies = await _copies(person)
        assert len(copies) == 2  # as published, and the reminder
        for copy in copies:
            print(f"[{person.first_name}]", copy.text, sep="\n")
            assert new in copy.text and old not in copy.text
    # The reminders were rewritten before they were sent, not sent and then edited.
    (reminder,) = [m for m in await _copies(bob) if m.text and m.text.startswith("⏰ Reminder")]
    assert not reminder.edited and f"closes on {new}" in reminder.text
    async with bot.runtime.sessions() as session:
        edits = list(await session.scalars(select(Outbox).where(Outbox.kind == "poll-extended")))
    # The delivered published copies of wang, bob, anna and the chair: the reminders
    # needed no edit. Anonymous poll: each edit carries a choice, so sealed, unnamed.
    assert len(edits) == 4 and all(row.sensitive and row.member_id is None for row in edits)

    # Closed by the job at the new time: every card loses ⏰ and 🔒.
    bot.clock.advance(days=2)
    assert (await poll_jobs.run(bot.runtime, bot.clock.now, bot.application)).closed == 1
    await delivered(bot)
    for person in (chair, anna):
        for card in await _cards(person):
            print(card.text, buttons(card))
            assert not any(label.startswith("⏰") for label in buttons(card))
            assert not any(label in buttons(card) for label in CLOSE_NOW)
            assert "🔒 已于" in card.text or "🔒 Closed on" in card.text


async def test_closing_by_hand_redraws_the_other_cards_and_stale_presses_change_nothing(
    bot: BotHarness,
) -> None:
    chair = await registered_admin(bot)
    anna = await add_person(bot, "Anna", department="质检科", language="en", role=Role.ADMIN)
    await create_poll(chair, QUESTION, OPTIONS)
    (published_card,) = await _cards(chair)
    anna_card = await _open_card(anna)
    view = await latest_poll(bot)
    extend = _data(anna_card, EXTEND)
    close = _data(anna_card, CLOSE)

    # The chair closes from a card opened from the list; the card after publishing and
    # Anna's are redrawn through the outbox.
    await _open_card(chair)
    await chair.press("🔒 立即结束")
    await chair.press(zh("Yes"))
    await delivered(bot)
    for person, card in ((chair, published_card), (anna, anna_card)):
        (shown,) = [m for m in await _cards(person) if m.message_id == card.message_id]
        print(shown.text, buttons(shown))
        assert not any(label.startswith("⏰") or label in CLOSE_NOW for label in buttons(shown))
        assert "将于" not in shown.text and "Reminder due" not in shown.text  # never sent now
    assert "🔒 Closed on" in (await _cards(anna))[-1].text
    async with bot.runtime.sessions() as session:
        cards = list(await session.scalars(select(Outbox).where(Outbox.kind == "poll-card")))
        assert len(cards) == 2 and {row.status for row in cards} == {"sent"}
        assert len(list(await session.scalars(select(PollCard)))) == 3

    # An old button (kept by a client, or forged): nothing changes, each in their language.
    closed = await latest_poll(bot)
    await anna.press_data(anna_card.message_id, extend)
    assert (await anna.callback_answers())[-1].text == (
        "This poll has already closed; nothing was changed."
    )
    await anna.press_data(anna_card.message_id, close)
    assert (await anna.callback_answers())[-1].text == (
        "This poll has already closed; nothing was changed."
    )
    await chair.press_data(published_card.message_id, cb.POLL_EXTEND.pack(view.id, 72))
    assert (await chair.callback_answers())[-1].text == "这个投票已经结束，未做任何更改。"
    await chair.press_data(published_card.message_id, cb.POLL_CLOSE_CONFIRM.pack(view.id))
    assert (await chair.callback_answers())[-1].text == "这个投票已经结束，未做任何更改。"
    again = await latest_poll(bot)
    assert (again.poll.closes_at, again.poll.closed_at, again.poll.extended_at) == (
        closed.poll.closes_at,
        closed.poll.closed_at,
        None,
    )
    async with bot.runtime.sessions() as session:
        results = list(await session.scalars(select(Outbox).where(Outbox.kind == "poll-result")))
    assert len(results) == 2  # the results went out once (the chair's and Anna's)

    # Anna leaves (/forget): no card is kept in her chat any more.
    async with transaction(bot.runtime.sessions) as session:
        assert await privacy.forget_member(session, anna.id, SECRET, bot.clock.now) is not None
    async with bot.runtime.sessions() as session:
        chats = set(await session.scalars(select(PollCard.chat_id)))
    assert chats == {chair.id}


async def test_a_card_turned_back_into_the_list_is_left_alone(bot: BotHarness) -> None:
    chair = await registered_admin(bot)
    await create_poll(chair, QUESTION, OPTIONS)
    card = await _open_card(chair)
    await chair.press_data(card.message_id, cb.POLL_LIST.pack())
    (published_card,) = await _cards(chair)
    await chair.press("🔒 立即结束")
    await chair.press(zh("Yes"))
    await delivered(bot)
    (listing,) = [m for m in await chair.bot_messages() if m.message_id == card.message_id]
    assert listing.text is not None and listing.text.startswith("🗳 投票")
    assert published_card.message_id != card.message_id


async def test_a_vote_after_an_extension_is_not_undone_by_its_edit(bot: BotHarness) -> None:
    """The extension's edit of a member's copy is drawn with their choice then; a vote
    before it is sent redraws the copies itself and cancels it, so it never lands after."""
    chair = await registered_admin(bot)
    bob = await add_person(bot, "Bob", department="质检科", language="en")
    await create_poll(chair, QUESTION, OPTIONS)
    (card,) = await _cards(chair)
    await wait_message(bot, bob, "🗳")
    (copy,) = await _copies(bob)
    view = await latest_poll(bot)
    await stop_delivery(bot.application)
    await chair.press_data(card.message_id, cb.POLL_EXTEND.pack(view.id, 168))
    await bob.press_data(copy.message_id, cb.POLL_VOTE.pack(view.id, 1))  # 反对
    await quick_delivery(bot)
    await delivered(bot)
    new = local_time((await latest_poll(bot)).poll.closes_at or bot.clock.now, bot.settings.tz)
    (shown,) = await _copies(bob)
    print(shown.text)
    assert f"Open until {new}" in shown.text and "✅ Your choice: 反对" in shown.text
    async with bot.runtime.sessions() as session:
        edits = list(await session.scalars(select(Outbox).where(Outbox.kind == "poll-extended")))
    assert sorted(row.status for row in edits) == ["cancelled", "sent"]  # Bob's; the chair's
