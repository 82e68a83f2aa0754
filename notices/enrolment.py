"""One message to one member, in their language, as an outbox row.

What the notices of activities and trainings (`notices.activities`,
`notices.trainings`) share. Rows are written in the caller's transaction and
nothing is sent from here: the caller wakes the delivery worker once that
transaction commits (`jobs.delivery.wake_after_commit`), because a notice
written by a handler must not leave before the change it tells of is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup

from core.i18n import Translator, translator
from display import offering
from display.callbacks import CallbackAction
from storage import audiences, outbox
from storage.models import Member
from storage.outbox import PRIORITY_BULK, PRIORITY_NOTICE, Outgoing

# Notices that change what a member should do (a seat is theirs now, an enrolment
# was decided): sent again after a crash rather than lost; a duplicate is harmless.
AT_LEAST_ONCE = frozenset({"activity-seat", "training-seat", "training-decision"})

Person = Member | audiences.Recipient


def message(
    member: Person,
    key: str,
    kind: str,
    text: str,
    *,
    markup: InlineKeyboardMarkup | None = None,
    priority: int = PRIORITY_NOTICE,
    group_key: str | None = None,
    photo: str | None = None,
) -> Outgoing:
    """One message to one member, as an outbox row (photo: a Telegram file id)."""
    params: dict[str, Any] = {}
    if markup is not None:
        params["reply_markup"] = markup.to_dict()
    if photo is not None:
        body = outbox.payload("sendPhoto", photo=photo, caption=text, **params)
    else:
        body = outbox.payload("sendMessage", text=text, **params)
    member_id = member.member_id if isinstance(member, audiences.Recipient) else member.id
    return Outgoing(
        key=key,
        kind=kind,
        chat_id=member.telegram_id,
        member_id=member_id,
        payload=body,
        priority=priority,
        group_key=group_key,
        at_most_once=kind not in AT_LEAST_ONCE,
    )


def translator_for(member: Person) -> Translator:
    return translator(member.language)


async def members_of(session: AsyncSession, ids: Sequence[int]) -> list[Member]:
    if not ids:
        return []
    return list(await session.scalars(select(Member).where(Member.id.in_(list(ids)))))


async def enqueue(session: AsyncSession, items: Iterable[Outgoing], *, now: datetime) -> int:
    """Write the rows in the caller's transaction; how many are new (keys make it idempotent)."""
    return await outbox.enqueue_many(session, items, now=now)


async def ask_rating(
    session: AsyncSession,
    people: Sequence[Member],
    *,
    key: str,
    kind: str,
    title: str,
    stars: CallbackAction[Any],
    parent_id: int,
    now: datetime,
) -> int:
    """After the end: how was it? One request per member and ``key`` (stars as buttons)."""
    return await tell(
        session,
        people,
        key=lambda m: f"{key}:{m.id}",
        kind=kind,
        text=lambda t, m: offering.rating_request(t, title),
        markup=lambda t: offering.stars_keyboard(stars, parent_id),
        now=now,
        priority=PRIORITY_BULK,
    )


async def tell(
    session: AsyncSession,
    people: Sequence[Member],
    *,
    key: Callable[[Member], str],
    kind: str,
    text: Callable[[Translator, Member], str],
    markup: Callable[[Translator], InlineKeyboardMarkup | None] | None = None,
    now: datetime,
    priority: int = PRIORITY_NOTICE,
) -> int:
    """One notice per member, each in their own language."""
    items = []
    for person in people:
        t = translator_for(person)
        items.append(
            message(
                person,
                key(person),
                kind,
                text(t, person),
                markup=markup(t) if markup is not None else None,
                priority=priority,
            )
        )
    return await enqueue(session, items, now=now)
