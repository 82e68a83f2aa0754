"""Telling a member their role changed: through the outbox, so a slow Telegram loses nothing.

An admin's press changes someone else's role; what that member is told is a
notice like any other (retried on 429 and 5xx, paced, recorded). The caller
commits the role first (a reply does), creates the cadre group's invite link if
there is one, then writes this row and wakes delivery after its commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import translator
from display.membership import role_notice
from storage import outbox
from storage.models import Member, Role
from storage.outbox import PRIORITY_NOTICE

KIND = "role-notice"


async def tell_role(
    session: AsyncSession, member: Member, after: Role, invite_link: str | None, now: datetime
) -> bool:
    """The member's new role (and the group link or the admin hint), in their language."""
    text = role_notice(translator(member.language), after, invite_link)
    return await outbox.enqueue(
        session,
        # One per change: two changes in the same instant would say the same anyway.
        key=f"role:{member.id}:{after.value}:{now.isoformat()}",
        kind=KIND,
        chat_id=member.telegram_id,
        member_id=member.id,
        payload=outbox.payload("sendMessage", text=text),
        now=now,
        priority=PRIORITY_NOTICE,
        at_most_once=False,  # a repeated "your role is now …" beats a lost one
    )
