"""Seats in the database: sign-ups stand in line by ticket, seats go to the head of the line.

Shared by activities and trainings (a :class:`Book` says which tables). The
guarantee that capacity is never exceeded, even when hundreds of members press
"sign up" at the same moment, comes from the database, not from a Python lock:

* Every change to who holds a seat begins with :func:`lock`, one UPDATE of the
  parent row (the activity or training). On PostgreSQL that row lock makes
  concurrent changes to the same parent wait for each other until commit (and
  READ COMMITTED lets each statement after it see what the previous one
  committed). On SQLite the UPDATE is the transaction's first write, which
  takes the database's single write lock — SQLite starts a transaction only
  at its first write, so no stale read snapshot comes before it.
* Under the lock the seated seats are counted again from the sign-ups
  themselves (so a member deleted by /forget frees their seat), the pure rules
  of `storage.enrolment_rules` decide, and ``seats_taken`` is rewritten.
  A CHECK constraint (``seats_taken <= capacity``) is the last word.
* The lock that admits a sign-up also hands it a ticket (``tickets + 1``):
  tickets are the order in which sign-ups got the lock, so the waitlist is
  the waitlisted rows by ticket and nobody can overtake anybody.
* A unique index on (parent, member) turns a double tap into "already signed up".
* Tickets follow the order the taps arrived, not only the order the lock was
  granted: the bot lets sign-ups to one parent reach this lock one after the
  other in arrival order (`bot.processor` lines, released by
  `storage.db.ticket_taken` once the lock is held).

Callers own the transaction (`storage.db.transaction`); nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import enrolment_rules as rules
from storage.db import ticket_taken
from storage.models import Activity, ActivitySignup, SignupStatus, Training, TrainingEnrolment

Parent = Activity | Training
Signup = ActivitySignup | TrainingEnrolment


@dataclass(frozen=True)
class Book:
    """Which parent table and which sign-up table (and the column joining them)."""

    parent: type[Activity] | type[Training]
    signup: type[ActivitySignup] | type[TrainingEnrolment]
    parent_key: str  # the sign-up's column naming its parent

    def of(self, parent_id: int) -> Any:
        return getattr(self.signup, self.parent_key) == parent_id


ACTIVITIES = Book(Activity, ActivitySignup, "activity_id")
TRAININGS = Book(Training, TrainingEnrolment, "training_id")


@dataclass(frozen=True)
class Locked:
    """The parent row as read under its lock."""

    id: int
    status: str
    capacity: int | None
    tickets: int  # after this lock: the new sign-up's ticket when one was taken


async def lock(
    session: AsyncSession,
    book: Book,
    parent_id: int,
    *,
    take_ticket: bool = False,
    where: Sequence[Any] = (),
) -> Locked | None:
    """Lock the parent row (see the module docstring); None when it is missing or ``where`` fails."""
    parent = book.parent
    statement = (
        update(parent)
        .where(parent.id == parent_id, *where)
        .values(tickets=parent.tickets + (1 if take_ticket else 0))
        .returning(parent.id, parent.status, parent.capacity, parent.tickets)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(statement)).one_or_none()
    if take_ticket:
        ticket_taken()  # the next sign-up in line may go ahead (`bot.processor`)
    if row is None:
        return None
    return Locked(int(row.id), str(row.status), row.capacity, int(row.tickets))


async def seated_seats(session: AsyncSession, book: Book, parent_id: int) -> int:
    """Seats held by seated sign-ups, counted from the rows themselves."""
    total = await session.scalar(
        select(func.coalesce(func.sum(book.signup.seats), 0)).where(
            book.of(parent_id), book.signup.status == SignupStatus.SEATED.value
        )
    )
    return int(total or 0)


async def find(session: AsyncSession, book: Book, parent_id: int, member_id: int) -> Signup | None:
    return await session.scalar(
        select(book.signup)
        .where(book.of(parent_id), book.signup.member_id == member_id)
        .execution_options(populate_existing=True)
    )


async def join(
    session: AsyncSession,
    book: Book,
    locked: Locked,
    member_id: int,
    *,
    seats: int,
    now: datetime,
    status: SignupStatus = SignupStatus.WAITLISTED,
) -> Signup:
    """Put a new sign-up at the end of the line with the ticket ``locked`` took.

    It enters as waitlisted (or pending approval); :func:`promote` seats it
    when it is at the head of the line and fits.
    """
    signup = book.signup(
        member_id=member_id,
        status=status.value,
        seats=seats,
        ticket=locked.tickets,
        created_at=now,
    )
    setattr(signup, book.parent_key, locked.id)
    session.add(signup)
    await session.flush()
    return signup


async def promote(session: AsyncSession, book: Book, locked: Locked, now: datetime) -> list[Signup]:
    """Seat the head of the waitlist while it fits; rewrite ``seats_taken``. Returns who moved."""
    taken = await seated_seats(session, book, locked.id)
    free = rules.seats_left(locked.capacity, taken)
    promoted: list[Signup] = []
    if free is None or free > 0:
        query = (
            select(book.signup)
            .where(book.of(locked.id), book.signup.status == SignupStatus.WAITLISTED.value)
            .order_by(book.signup.ticket)
            .execution_options(populate_existing=True)
        )
        if free is not None:
            query = query.limit(free)  # each needs at least one seat
        # One of the book's sign-up tables; the check tells mypy which rows these are.
        queue = [
            row
            for row in await session.scalars(query)
            if isinstance(row, ActivitySignup | TrainingEnrolment)
        ]
        chosen = set(rules.promotions(locked.capacity, taken, [(s.id, s.seats) for s in queue]))
        for signup in queue:
            if signup.id in chosen:
                signup.status = SignupStatus.SEATED.value
                signup.seated_at = now
                taken += signup.seats
                promoted.append(signup)
        await session.flush()
    await session.execute(
        update(book.parent)
        .where(book.parent.id == locked.id)
        .values(seats_taken=taken)
        .execution_options(synchronize_session=False)
    )
    return promoted


async def leave(
    session: AsyncSession, book: Book, locked: Locked, signup: Signup, now: datetime
) -> list[Signup]:
    """Remove a sign-up; a seat it held goes to the head of the waitlist."""
    await session.delete(signup)
    await session.flush()
    return await promote(session, book, locked, now)


async def position(session: AsyncSession, book: Book, signup: Signup) -> int | None:
    """1-based place on the waitlist, or None when the sign-up is not waitlisted."""
    if signup.status != SignupStatus.WAITLISTED.value:
        return None
    ahead = await session.scalar(
        select(func.count()).where(
            book.of(getattr(signup, book.parent_key)),
            book.signup.status == SignupStatus.WAITLISTED.value,
            book.signup.ticket < signup.ticket,
        )
    )
    return int(ahead or 0) + 1


async def waitlist_positions(session: AsyncSession, book: Book, parent_id: int) -> dict[int, int]:
    """Sign-up id → waitlist position, for rosters."""
    ids = await session.scalars(
        select(book.signup.id)
        .where(book.of(parent_id), book.signup.status == SignupStatus.WAITLISTED.value)
        .order_by(book.signup.ticket)
    )
    return {signup_id: index for index, signup_id in enumerate(ids, start=1)}
