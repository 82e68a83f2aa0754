"""What activities and trainings do alike with their offering and its sign-ups.

An activity and a training are both an *offering* (a parent row with a status,
a deadline and seats) with a line of sign-ups (`storage.seating`). Reading one,
paging a list, publishing and cancelling it once, taking the ticket for a new
sign-up and giving a place up follow the same rules for both; they live here
so that a fix to one cannot miss the other. A :class:`seating.Book` says which
tables; the feature modules keep what differs (guests and audiences for
activities, approval and sessions for trainings).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import enrolment_rules as rules
from storage import seating
from storage.db import rows_changed
from storage.enrolment_rules import Refusal
from storage.members import NotFound, Page
from storage.models import Member, OfferingStatus, SignupStatus

T = TypeVar("T")


class Refused(Exception):
    """A sign-up, cancellation, check-in or rating that cannot happen; ``reason`` says why."""

    def __init__(self, reason: Refusal | str) -> None:
        super().__init__(str(reason))
        self.reason = str(reason)


class Incomplete(ValueError):
    """A draft lacks an answer this step needs (a restart lost it): the editor starts over."""


def page_of(items: list[T], page: int, per_page: int) -> Page[T]:
    """One page of an already filtered list; an out-of-range page shows the nearest one."""
    pages = max(1, -(-len(items) // per_page))
    page = min(max(page, 0), pages - 1)
    return Page(items[page * per_page : (page + 1) * per_page], len(items), page, per_page)


async def get(session: AsyncSession, book: seating.Book, parent_id: int, noun: str) -> Any:
    """The offering as the database has it now (never a stale copy from this session).

    Seat changes are written with UPDATEs that bypass the identity map, so a
    cached copy could show old seats; ``noun`` names it in the NotFound.
    """
    parent = book.parent
    found = await session.scalar(
        select(parent).where(parent.id == parent_id).execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound(f"{noun} {parent_id}")
    return found


async def publish(session: AsyncSession, book: seating.Book, parent_id: int, now: datetime) -> bool:
    """Draft → published, once: True only for the call that published it."""
    parent = book.parent
    result = await session.execute(
        update(parent)
        .where(parent.id == parent_id, parent.status == OfferingStatus.DRAFT.value)
        .values(status=OfferingStatus.PUBLISHED.value, published_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(rows_changed(result))


async def mark_cancelled(
    session: AsyncSession, book: seating.Book, parent_id: int, now: datetime
) -> bool:
    """Any status → cancelled, once: True only for the call that cancelled it (so one notice)."""
    parent = book.parent
    result = await session.execute(
        update(parent)
        .where(parent.id == parent_id, parent.status != OfferingStatus.CANCELLED.value)
        .values(status=OfferingStatus.CANCELLED.value, cancelled_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(rows_changed(result))


async def members_where(
    session: AsyncSession,
    book: seating.Book,
    parent_id: int,
    *conditions: Any,
    by_name: bool = False,
) -> list[Member]:
    """Members whose sign-up to the offering meets ``conditions``, in line order (by
    ticket), or with ``by_name`` in pinyin order (for a list a cadre looks names up in)."""
    signup = book.signup
    order = (Member.sort_key, Member.id) if by_name else (signup.ticket,)
    rows = await session.scalars(
        select(Member)
        .join(signup, signup.member_id == Member.id)
        .where(book.of(parent_id), *conditions)
        .order_by(*order)
    )
    return list(rows)


async def count_with_status(
    session: AsyncSession, book: seating.Book, parent_id: int, status: SignupStatus
) -> int:
    """How many sign-ups to the offering have ``status`` (the waitlist, the requests)."""
    return int(
        await session.scalar(
            select(func.count()).where(book.of(parent_id), book.signup.status == status.value)
        )
        or 0
    )


async def standing(
    session: AsyncSession, book: seating.Book, parent_id: int, member_id: int
) -> tuple[Any, int | None]:
    """The member's sign-up and, when waitlisted, their position."""
    signup = await seating.find(session, book, parent_id, member_id)
    if signup is None:
        return None, None
    return signup, await seating.position(session, book, signup)


async def lock_for_signup(
    session: AsyncSession, book: seating.Book, parent_id: int, noun: str, now: datetime
) -> seating.Locked:
    """Lock the offering and take a ticket, only while it is published and open for sign-up.

    The first look before the lock may be stale: when the offering was
    cancelled or closed in between, the refusal is worked out again from what
    the database says now.
    """
    parent = book.parent
    locked = await seating.lock(
        session,
        book,
        parent_id,
        take_ticket=True,
        where=(
            parent.status == OfferingStatus.PUBLISHED.value,
            parent.signup_deadline > now,
        ),
    )
    if locked is None:
        # Cancelled or closed between the first look and the lock.
        found = await get(session, book, parent_id, noun)
        raise Refused(
            rules.signup_refusal(found.status, found.signup_deadline, now) or Refusal.NOT_FOUND
        )
    return locked


async def give_up(
    session: AsyncSession,
    book: seating.Book,
    parent_id: int,
    member_id: int,
    now: datetime,
    *,
    absent: Sequence[SignupStatus] = (),
) -> list[seating.Signup]:
    """Remove the member's sign-up under the lock; a seat it held goes to the waitlist's head.

    A sign-up whose status is in ``absent`` counts as none ("not_signed_up").
    Once the offering is no longer published nobody moves up: the row just goes.
    """
    locked = await seating.lock(session, book, parent_id)
    signup = await seating.find(session, book, parent_id, member_id)
    if locked is None or signup is None or signup.status in {s.value for s in absent}:
        raise Refused("not_signed_up")
    if locked.status != OfferingStatus.PUBLISHED.value:
        await session.delete(signup)
        await session.flush()
        return []
    return await seating.leave(session, book, locked, signup, now)
