"""The monthly pulse question, written to the outbox for every member.

Called by `jobs.pulse` in the transaction that opened the month (see
`storage.pulse`), so the questions go out once. Each row is sealed and named by
a pseudonym (`storage.outbox.OutboxCipher`) with a keyed-hash key: the outbox
says neither who was asked nor, once answered, who answered. The rows are bulk
priority, paced by the delivery worker, so a large union is asked over minutes,
not in one burst.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import translator
from display import pulse as display
from storage import outbox, pulse
from storage.models import PulseMonth
from storage.pulse import PulseKeys

KIND = "pulse-question"
PAGE = 5000


async def ask_everyone(
    session: AsyncSession, month: PulseMonth, *, now: datetime, secret: str
) -> int:
    """Enqueue the month's question to each member who can receive it; how many rows."""
    keys = PulseKeys.from_secret(secret)
    cipher = outbox.outbox_cipher(secret)
    payloads: dict[str, dict[str, Any]] = {}
    created, after = 0, 0
    while recipients := await pulse.recipients(session, after=after, limit=PAGE):
        items = []
        for target in recipients:
            if target.language not in payloads:
                t = translator(target.language)
                payloads[target.language] = outbox.payload(
                    "sendMessage",
                    text=display.question(t),
                    reply_markup=display.question_keyboard(month.id).to_dict(),
                )
            items.append(
                outbox.Outgoing(
                    key=keys.question_key(month.id, target.member_id),
                    kind=KIND,
                    chat_id=target.telegram_id,
                    group_key=f"pulse:{month.id}",
                    payload=payloads[target.language],
                    priority=outbox.PRIORITY_BULK,
                    sensitive=True,
                )
            )
        created += await outbox.enqueue_many(session, items, now=now, cipher=cipher)
        after = recipients[-1].member_id
    month.recipients = created
    await session.flush()
    return created
