"""Greetings into the outbox: one row per member, written in the caller's transaction.

The job (`jobs.greetings`) decides when and walks the members in chunks; this
module turns a chunk into rows. Each row's key makes the greeting once per
member, occasion and year (`storage.greetings.greeting_key`), its group key
gathers the day's greetings so stragglers can be cancelled after the day, and
birthdays go before the holiday crowd. Greetings are at-most-once (the
outbox's default): a greeting twice is worse than one lost to a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from display.greeting_text import greeting_text
from storage import greetings, outbox
from storage.greetings import Occasion, Recipient
from storage.occasions import Occurrence

KIND = "greeting"


async def enqueue(
    session: AsyncSession,
    occasion: Occasion,
    occurrence: Occurrence,
    templates: dict[str, str],
    recipients: Sequence[Recipient],
    *,
    now: datetime,
) -> int:
    """Each recipient's greeting, in their language; returns how many rows were new."""
    priority = outbox.PRIORITY_REMINDER if occasion.is_birthday else outbox.PRIORITY_BULK
    items = [
        outbox.Outgoing(
            key=greetings.greeting_key(occasion.code, occurrence.year, who.member_id),
            kind=KIND,
            chat_id=who.chat_id,
            payload=outbox.payload(
                "sendMessage",
                text=greeting_text(occasion, templates, who.language, who.name, occurrence.day),
            ),
            member_id=who.member_id,
            group_key=greetings.day_group(occurrence.day),
            priority=priority,
        )
        for who in recipients
    ]
    return await outbox.enqueue_many(session, items, now=now)
