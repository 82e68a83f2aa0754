"""Seats on both databases: capacity holds under concurrency, the line keeps its order."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import activities, audiences
from storage.activities import Refused
from storage.audiences import Audience
from storage.db import transaction
from storage.models import Activity, ActivitySignup, SignupStatus
from tests.support.activities import draft, published
from tests.support.clock import T0
from tests.support.members import add_members, member_by_id


async def signups(
    sessions: async_sessionmaker[AsyncSession], activity_id: int
) -> list[ActivitySignup]:
    async with sessions() as session:
        rows = await session.scalars(
            select(ActivitySignup)
            .where(ActivitySignup.activity_id == activity_id)
            .order_by(ActivitySignup.ticket)
        )
        return list(rows)


async def seats_taken(sessions: async_sessionmaker[AsyncSession], activity_id: int) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(select(Activity.seats_taken).where(Activity.id == activity_id))
            or 0
        )


async def sign_up(
    sessions: async_sessionmaker[AsyncSession], activity_id: int, member_id: int, guests: int = 0
) -> activities.Placement:
    person = await member_by_id(sessions, member_id)
    async with transaction(sessions) as session:
        return await activities.sign_up(session, activity_id, person, guests=guests, now=T0)


async def test_200_members_press_sign_up_at_once_for_50_seats(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = await add_members(sessions, 200)
    activity = await published(sessions, draft(capacity=50))
    people = {i: await member_by_id(sessions, i) for i in ids}
    start = asyncio.Event()

    async def press(member_id: int) -> activities.Placement:
        await start.wait()
        async with transaction(sessions) as session:  # a session of its own, like a handler
            return await activities.sign_up(
                session, activity.id, people[member_id], guests=0, now=T0
            )

    tasks = [asyncio.create_task(press(i)) for i in ids]
    start.set()
    results = await asyncio.gather(*tasks)

    rows = await signups(sessions, activity.id)
    seated = [r for r in rows if r.status == SignupStatus.SEATED.value]
    waiting = [r for r in rows if r.status == SignupStatus.WAITLISTED.value]
    assert (len(seated), len(waiting)) == (50, 150)
    assert await seats_taken(sessions, activity.id) == 50
    # Tickets are the order the lock admitted them: the first 50 sat down, and
    # each waitlisted member was told the position their ticket gives them.
    assert sorted(r.ticket for r in rows) == list(range(1, 201))
    assert max(r.ticket for r in seated) < min(r.ticket for r in waiting)
    told = {p.signup.member_id: p.position for p in results}
    assert [told[r.member_id] for r in waiting] == list(range(1, 151))
    assert all(told[r.member_id] is None for r in seated)


async def test_a_freed_seat_goes_to_the_first_in_line_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    a, b, c, d = await add_members(sessions, 4)
    activity = await published(sessions, draft(capacity=2))
    for person in (a, b, c, d):
        await sign_up(sessions, activity.id, person)
    async with transaction(sessions) as session:
        promoted = await activities.cancel_signup(session, activity.id, a, T0)
    assert [p.member_id for p in promoted] == [c]
    async with transaction(sessions) as session:
        # Cancelling a waitlist place frees no seat: nobody moves.
        assert await activities.cancel_signup(session, activity.id, d, T0) == []
    rows = await signups(sessions, activity.id)
    assert [(r.member_id, r.status) for r in rows] == [(b, "seated"), (c, "seated")]
    assert await seats_taken(sessions, activity.id) == 2


async def test_raising_the_capacity_seats_the_waitlist_in_order(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = await add_members(sessions, 6)
    activity = await published(sessions, draft(capacity=2))
    for person in ids:
        await sign_up(sessions, activity.id, person)
    async with transaction(sessions) as session:
        promoted = await activities.set_capacity(session, activity.id, 4, T0)
    assert [p.member_id for p in promoted] == ids[2:4]
    async with transaction(sessions) as session:
        with pytest.raises(Refused) as refused:
            await activities.set_capacity(session, activity.id, 3, T0)
    assert refused.value.reason == "below_taken"
    async with transaction(sessions) as session:
        promoted = await activities.set_capacity(session, activity.id, None, T0)
    assert [p.member_id for p in promoted] == ids[4:]
    assert await seats_taken(sessions, activity.id) == 6


async def test_a_guest_takes_a_seat_and_nobody_overtakes_the_head_of_the_line(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    a, b, c, _d = await add_members(sessions, 4)
    activity = await published(sessions, draft(capacity=3, guests=True))
    assert (await sign_up(sessions, activity.id, a, guests=1)).seated
    placed_b = await sign_up(sessions, activity.id, b, guests=1)
    assert not placed_b.seated and placed_b.position == 1  # needs 2, only 1 free
    placed_c = await sign_up(sessions, activity.id, c)
    assert not placed_c.seated and placed_c.position == 2  # one seat free, but b is first
    async with transaction(sessions) as session:
        promoted = await activities.cancel_signup(session, activity.id, a, T0)
    assert [p.member_id for p in promoted] == [b, c]
    assert await seats_taken(sessions, activity.id) == 3


async def test_refusals_change_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    a, b = await add_members(sessions, 2)
    activity = await published(sessions, draft(capacity=5))
    person = await member_by_id(sessions, a)
    async with transaction(sessions) as session:
        with pytest.raises(Refused) as late:
            await activities.sign_up(
                session, activity.id, person, guests=0, now=activity.signup_deadline
            )
        with pytest.raises(Refused) as guests:
            await activities.sign_up(session, activity.id, person, guests=1, now=T0)
    assert (late.value.reason, guests.value.reason) == ("deadline", "no_guests")
    async with transaction(sessions) as session:
        await activities.cancel(session, activity.id, T0)
    async with transaction(sessions) as session:
        with pytest.raises(Refused) as cancelled:
            await activities.sign_up(
                session, activity.id, await member_by_id(sessions, b), guests=0, now=T0
            )
    assert cancelled.value.reason == "cancelled"
    assert await signups(sessions, activity.id) == []
    async with sessions() as session:
        tickets = await session.scalar(select(Activity.tickets).where(Activity.id == activity.id))
    assert tickets == 0


async def test_a_double_tap_is_one_sign_up(sessions: async_sessionmaker[AsyncSession]) -> None:
    (a,) = await add_members(sessions, 1)
    activity = await published(sessions, draft(capacity=5))
    first, second = await asyncio.gather(
        sign_up(sessions, activity.id, a), sign_up(sessions, activity.id, a)
    )
    assert sorted([first.already, second.already]) == [False, True]
    assert len(await signups(sessions, activity.id)) == 1
    assert await seats_taken(sessions, activity.id) == 1


async def test_participants_of_an_activity_are_an_audience_for_broadcasts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    a, b, _never_signed_up = await add_members(sessions, 3)
    activity = await published(sessions, draft(capacity=1, starts_in=timedelta(days=3)))
    for person in (a, b):
        await sign_up(sessions, activity.id, person)
    audience = Audience(items={"act": frozenset({activity.id})})
    async with sessions() as session:
        assert await audiences.member_ids(session, audience) == {a}  # seated only, not the waitlist
        names = await audiences.describe(session, audience, UTC)
    assert names.sources == [("Activity participants", ["篮球友谊赛 · 11-27"])]
