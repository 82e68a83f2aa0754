"""What a broadcast tells its admin: the one progress message, and the report at the end.

Shared by the handlers (the message is first sent when the admin confirms,
and redrawn by Pause / Resume / Stop) and `jobs.broadcasts` (which keeps it
current while the messages go out and reports once nothing is left). The
report goes through the outbox in the caller's transaction, under the key
``broadcast:<id>:report``, so it is durable and sent once however many
instances notice the end. The progress message is edited in place by its
callers, after their transaction: the database holds the truth, and the
next edit redraws it.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup

from core.i18n import Translator, translator
from core.runtime import Runtime
from display import broadcasts as display
from storage import audiences, broadcasts, outbox
from storage.audiences import Audience
from storage.models import Broadcast


async def describe_audience(
    session: AsyncSession, t: Translator, broadcast: Broadcast, zone: tzinfo
) -> str:
    described = await audiences.describe(session, Audience.from_json(broadcast.audience), zone)
    return display.describe_audience(t, described)


async def render_status(
    session: AsyncSession,
    runtime: Runtime,
    t: Translator,
    broadcast: Broadcast,
    now: datetime,
    *,
    back_page: int | None = None,
    confirm_stop: bool = False,
    excerpt: bool = False,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The progress message (or the /broadcasts detail view) as it reads now."""
    tally = await broadcasts.tally(session, broadcast, now=now, rate=runtime.settings.delivery_rate)
    text = display.status_text(
        t,
        broadcast,
        tally,
        await describe_audience(session, t, broadcast, runtime.settings.tz),
        runtime.settings.tz,
        excerpt=excerpt,
    )
    markup = display.status_keyboard(t, broadcast, back_page=back_page, confirm_stop=confirm_stop)
    return text, markup


async def enqueue_report(
    session: AsyncSession, runtime: Runtime, broadcast: Broadcast, now: datetime
) -> None:
    """The report goes to the admin through the outbox: durable, and once by its key."""
    language = await broadcasts.admin_language(
        session, broadcast, runtime.settings.default_language
    )
    t = translator(language)
    text = display.report_text(
        t,
        broadcast,
        await describe_audience(session, t, broadcast, runtime.settings.tz),
        runtime.settings.tz,
    )
    await outbox.enqueue(
        session,
        key=broadcasts.report_key(broadcast.id),
        kind=broadcasts.REPORT_KIND,
        chat_id=broadcast.admin_chat_id,
        payload=outbox.payload("sendMessage", text=text),
        now=now,
        priority=outbox.PRIORITY_NOTICE,
    )
