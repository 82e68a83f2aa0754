"""The greetings job: from the greeting hour on, put the day's greetings in the outbox.

PTB's JobQueue wakes :func:`send_due_greetings` every few minutes; the
database decides what is due, so the job is idempotent:

* From ``GREETING_HOUR`` (local time, ``TIMEZONE``) until midnight, every run
  enqueues each switched-on occasion of the day for every member of its
  audience who has no such greeting yet (:func:`enqueue_occurrence`).
  A bot that was down at that hour and starts later the same day still
  greets; a second run, a restart or a second instance finds nothing new,
  because the outbox key ``greeting:<occasion>:<year>:<member_id>`` is unique.
* Before the hour it only tidies: greetings of earlier days still unsent (the
  bot stopped mid-delivery, or delivery was slow) are cancelled, so a greeting
  is never sent late. Start-up does the same, over a longer stretch, before
  the delivery worker starts (:func:`expire_at_start`, called from
  `bot.app._on_start`).
* Members who blocked the bot (known from an earlier failed send) and
  inactive members are not enqueued; a member who comes back the same day is
  greeted on the next run. Each greeting is in the member's language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.runtime import Runtime, runtime_of
from display.greeting_text import in_force
from jobs.cadence import repeat
from jobs.delivery import wake_after_commit
from notices import greetings as notices
from storage import greetings
from storage.db import transaction
from storage.greetings import Occasion
from storage.occasions import Occurrence

if TYPE_CHECKING:
    from telegram.ext import Application, CallbackContext

log = logging.getLogger(__name__)

JOB_NAME = "greetings"
#: How often the job looks: a greeting goes out at most this long after the hour.
INTERVAL = timedelta(minutes=5)
#: The first look, a little after start-up so it does not crowd it.
FIRST_RUN = timedelta(minutes=1)
#: At start-up, how many past days are swept for unsent greetings.
STARTUP_EXPIRE_DAYS = 62


async def send_due_greetings(
    runtime: Runtime,
    now: datetime,
    *,
    on_commit: Callable[[AsyncSession], None] | None = None,
) -> int:
    """Enqueue what is due at ``now``; returns how many greetings were new.

    ``on_commit`` is called with each session that created rows (to wake the
    delivery worker once they are committed).
    """
    settings = runtime.settings
    local = now.astimezone(settings.tz)
    today = local.date()
    async with transaction(runtime.sessions) as session:
        expired = await greetings.expire_missed(session, today, now=now)
    if expired:
        log.info("greetings: %d unsent from earlier days cancelled", expired)
    if local.hour < settings.greeting_hour:
        return 0
    async with transaction(runtime.sessions) as session:
        due = await greetings.due_on(session, today)
    created = 0
    for occasion, occurrence in due:
        made = await enqueue_occurrence(
            runtime.sessions, occasion, occurrence, now=now, on_commit=on_commit
        )
        if made:
            log.info("greetings: %d enqueued for %s", made, occasion.code)
        created += made
    return created


async def enqueue_occurrence(
    sessions: async_sessionmaker[AsyncSession],
    occasion: Occasion,
    occurrence: Occurrence,
    *,
    now: datetime,
    on_commit: Callable[[AsyncSession], None] | None = None,
    chunk: int = greetings.CHUNK,
) -> int:
    """Put one greeting per member of the audience in the outbox; returns how many are new.

    Walks the members in id order, ``chunk`` per transaction, and asks the
    database only for members without this greeting yet, so the run every few
    minutes after the first costs one cheap query. Two instances doing this at
    once still create each row once: the outbox inserts a key only once.
    """
    async with transaction(sessions) as session:
        templates = in_force(occasion, await greetings.own_templates(session, occasion.code))
    created = 0
    after = 0
    while True:
        async with transaction(sessions) as session:
            recipients = await greetings.ungreeted(
                session, occasion, occurrence, after=after, limit=chunk
            )
            if not recipients:
                break
            made = await notices.enqueue(
                session, occasion, occurrence, templates, recipients, now=now
            )
            if made and on_commit is not None:
                on_commit(session)
            created += made
        after = recipients[-1].member_id
    return created


async def expire_at_start(runtime: Runtime) -> int:
    """Cancel unsent greetings of earlier days before the delivery worker can send them."""
    now = runtime.now()
    today = now.astimezone(runtime.settings.tz).date()
    async with transaction(runtime.sessions) as session:
        return await greetings.expire_missed(session, today, now=now, days=STARTUP_EXPIRE_DAYS)


async def _tick(context: CallbackContext[Any, Any, Any, Any]) -> None:
    runtime = runtime_of(context)

    def wake(session: AsyncSession) -> None:
        wake_after_commit(session, context)

    await send_due_greetings(runtime, runtime.now(), on_commit=wake)


def schedule(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Have PTB's JobQueue run the job every few minutes (errors reach the error handler)."""
    repeat(application, _tick, every=INTERVAL, first=FIRST_RUN, name=JOB_NAME)
