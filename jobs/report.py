"""The monthly report to the cadre group: first working day of the month, from 09:00 local.

`run(runtime, now)` builds last month's report when it is due and enqueues its
summary under the unique outbox key ``report:<month>:text``; only the run whose
insert created that row goes on to upload the charts and the workbook (the
outbox sends files by id only, so these go straight to the Bot API, after the
commit). Run twice, or on two instances, the group gets it once. Nothing is sent
without a cadre group.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from telegram import InputFile
from telegram.error import TelegramError

from core.i18n import translator
from core.runtime import Runtime, runtime_of
from display import report as show
from jobs.delivery import wake_after_commit
from notices import report as notices
from storage import report
from storage.db import transaction

if TYPE_CHECKING:
    from telegram.ext import Application, CallbackContext

log = logging.getLogger(__name__)

JOB_NAME = "report"
INTERVAL = timedelta(minutes=10)
FIRST_RUN = timedelta(minutes=2)


async def run(
    runtime: Runtime,
    now: datetime,
    application: Application[Any, Any, Any, Any, Any, Any] | None = None,
) -> bool:
    """Post last month's report if due and not yet posted; True when this run posted it."""
    settings = runtime.settings
    chat_id = settings.cadre_chat_id
    period = report.scheduled_period(now, settings.tz)
    if chat_id is None or period is None or period.month is None:
        return False
    t = translator(settings.default_language)
    async with transaction(runtime.sessions) as session:
        built = await report.build(session, period, now=now, zone=settings.tz)
        won = await notices.post_summary(
            session, chat_id=chat_id, label=period.month, text=show.text(t, built), now=now
        )
        if won and application is not None:
            wake_after_commit(session, application)
    if not won:
        return False
    log.info("report %s posted to the cadre group", period.month)
    if application is not None:
        pictures = await asyncio.to_thread(show.pictures, t, built)
        book = await asyncio.to_thread(show.workbook, t, built)
        try:
            for picture in pictures:
                await application.bot.send_photo(
                    chat_id, InputFile(picture.png, filename=f"{picture.name}.png")
                )
            await application.bot.send_document(
                chat_id, InputFile(book, filename=show.file_name(built))
            )
        except TelegramError as error:  # the summary is in the outbox; the files are a bonus
            log.warning("report %s files not sent: %s", period.month, error)
    return True


async def _tick(context: CallbackContext[Any, Any, Any, Any]) -> None:
    runtime = runtime_of(context)
    await run(runtime, runtime.now(), context.application)


def schedule(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Have PTB's JobQueue look every few minutes whether the month's report is due."""
    job_queue = application.job_queue
    if job_queue is None:
        log.warning("no JobQueue: the monthly report will not be sent")
        return
    job_queue.run_repeating(_tick, interval=INTERVAL, first=FIRST_RUN, name=JOB_NAME)
