"""The greetings job: from the greeting hour on, put the day's greetings in the outbox.

PTB's JobQueue wakes :func:`send_due_greetings` every few minutes; the
database decides what is due, so the job is idempotent:

* From ``GREETING_HOUR`` (local time, ``TIMEZONE``) until midnight, every run
  enqueues each switched-on occasion of the day for every member of its
  audience who has no such greeting yet (`storage.greetings.enqueue_occurrence`).
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

from sqlalchemy.ext.asyncio import AsyncSession

from core.runtime import Runtime, runtime_of
from jobs.delivery import wake_after_commit
from storage import greetings
from storage.db import transaction

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
        made = await greetings.enqueue_occurrence(
            runtime.sessions, occasion, occurrence, now=now, on_commit=on_commit
        )
        if made:
            log.info("greetings: %d enqueued for %s", made, occasion.code)
        created += made
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
    job_queue = application.job_queue
    if job_queue is None:
        log.warning(
            "no JobQueue: greetings will not be sent (install python-telegram-bot[job-queue])"
        )
        return
    job_queue.run_repeating(_tick, interval=INTERVAL, first=FIRST_RUN, name=JOB_NAME)
