"""/forget in one place: everything that names a member goes, in one transaction.

Deleting the member row takes their profile, tags and groups with it (the
foreign keys cascade). What it does not reach is here: the sealed links from
their grievances and from their roster entry (which the key could otherwise
still open), the outbox rows that carry their Telegram id, and the messages
kept in their chat to be redrawn (a poll's manage cards, a /case copy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage import grievances, members, outbox, polls, roster


@dataclass(frozen=True)
class Forgotten:
    cases_unlinked: int
    messages_dropped: int


async def forget_member(
    session: AsyncSession, telegram_id: int, secret_key: str, now: datetime
) -> Forgotten | None:
    """Delete everything that names the member; None when there is no such member."""
    member = await members.get_member(session, telegram_id)
    if member is None:
        return None
    sealer = grievances.sealer_for(secret_key)
    unlinked = await grievances.forget_author(session, sealer, member.id, now)
    pseudonym = outbox.outbox_cipher(secret_key).pseudonym(telegram_id)
    dropped = await outbox.forget_recipient(
        session, telegram_id, member.id, now=now, pseudonym=pseudonym
    )
    await roster.forget_member(session, secret_key, member.id)
    await polls.forget_cards_in(session, telegram_id)
    await grievances.forget_copies_in(session, telegram_id)
    await members.forget(session, telegram_id)
    return Forgotten(unlinked, dropped)
