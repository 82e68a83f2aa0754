"""The scheduled report's message to the cadre group, claimed once per month in the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox


def key_of(label: str) -> str:
    return f"report:{label}:text"


async def post_summary(
    session: AsyncSession, *, chat_id: int, label: str, text: str, now: datetime
) -> bool:
    """Enqueue the summary under the month's unique key; True only for the one that did.

    The caller that got True, and only it, uploads the charts and the workbook.
    """
    return await outbox.enqueue(
        session,
        key=key_of(label),
        kind="report",
        chat_id=chat_id,
        payload=outbox.payload("sendMessage", text=text),
        now=now,
        priority=outbox.PRIORITY_NOTICE,
    )
