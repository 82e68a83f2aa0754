"""The seat services against a model, on SQLite and PostgreSQL: any sequence of sign-ups,
cancellations and capacity changes keeps the seats within capacity, the line in order, and
moves each member up at most once."""

from __future__ import annotations

from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import activities
from storage import enrolment_rules as rules
from storage.activities import Refused
from storage.db import transaction
from storage.models import Activity, ActivitySignup, SignupStatus
from tests.support.activities import draft, published
from tests.support.clock import T0
from tests.support.members import add_members, member_by_id

_FIRST_IDS = count(900_000_000, 100)
moves = st.lists(
    st.one_of(
        st.tuples(st.just("join"), st.integers(0, 7), st.integers(0, 1)),
        st.tuples(st.just("leave"), st.integers(0, 7), st.just(0)),
        st.tuples(st.just("capacity"), st.integers(1, 6), st.just(0)),
    ),
    max_size=25,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=moves, capacity=st.integers(1, 4))
async def test_any_sequence_keeps_the_rules(
    sessions: async_sessionmaker[AsyncSession], moves: list[tuple[str, int, int]], capacity: int
) -> None:
    people = await add_members(sessions, 8, first=next(_FIRST_IDS))
    activity = await published(sessions, draft(capacity=capacity, guests=True))
    promoted_once: set[int] = set()
    for kind, who, extra in moves:
        async with transaction(sessions) as session:
            try:
                if kind == "join":
                    placement = await activities.sign_up(
                        session,
                        activity.id,
                        await member_by_id(sessions, people[who]),
                        guests=extra,
                        now=T0,
                    )
                    moved = placement.promoted
                elif kind == "leave":
                    moved = await activities.cancel_signup(session, activity.id, people[who], T0)
                else:
                    moved = await activities.set_capacity(session, activity.id, who, T0)
            except Refused:
                moved = []
        for signup in moved:
            assert signup.ticket not in promoted_once  # a ticket moves up once
            promoted_once.add(signup.ticket)
        await _check(sessions, activity.id)


async def _check(sessions: async_sessionmaker[AsyncSession], activity_id: int) -> None:
    async with sessions() as session:
        row = await session.scalar(select(Activity).where(Activity.id == activity_id))
        rows = list(
            await session.scalars(
                select(ActivitySignup)
                .where(ActivitySignup.activity_id == activity_id)
                .order_by(ActivitySignup.ticket)
            )
        )
    assert row is not None
    seated = [r for r in rows if r.status == SignupStatus.SEATED.value]
    line = [r for r in rows if r.status == SignupStatus.WAITLISTED.value]
    taken = sum(r.seats for r in seated)
    assert row.seats_taken == taken
    assert row.capacity is None or taken <= row.capacity
    # Nobody in line could have been seated: the head does not fit.
    assert rules.promotions(row.capacity, taken, [(r.id, r.seats) for r in line]) == []
