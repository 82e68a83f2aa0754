"""The monthly report to the cadre group: first working day of the month, from 09:00 local.

`run(runtime, now)` builds last month's report when it is due, draws its charts
and workbook (in a child process, before any transaction), then enqueues the summary,
every chart and the workbook in one transaction under unique outbox keys
(`notices.report`). The delivery worker sends them, uploads included, and
retries them like any row: run twice, on two instances, or killed after the
commit, the group gets each part once. Two instances finding it due at once do
not both draw it: the run holds an advisory lock (`storage.db.claim_long_run`)
from the check to the enqueue, and the other instance leaves it. Nothing is sent without a cadre group.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.i18n import translator
from core.runtime import Runtime, runtime_of
from display import report as show
from jobs.cadence import repeat
from jobs.delivery import wake_after_commit
from notices import report as notices
from storage import report
from storage.db import claim_long_run, transaction

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
    """Enqueue last month's report if due and not yet enqueued; True when this run did."""
    settings = runtime.settings
    chat_id = settings.cadre_chat_id
    period = report.scheduled_period(now, settings.tz)
    if chat_id is None or period is None or period.month is None:
        return False
    label = period.month
    # Two instances finding it due at once: one builds and draws, the other goes on.
    async with claim_long_run(runtime.engine, f"report:{label}") as ours:
        if not ours:
            return False
        return await _build_and_post(runtime, now, application, period, label, chat_id)


async def _build_and_post(
    runtime: Runtime,
    now: datetime,
    application: Application[Any, Any, Any, Any, Any, Any] | None,
    period: report.Period,
    label: str,
    chat_id: int,
) -> bool:
    settings = runtime.settings
    t = translator(settings.default_language)
    async with transaction(runtime.sessions) as session:
        if await notices.posted(session, label):
            return False  # the usual case on the day: nothing to build
        built = await report.build(session, period, now=now, zone=settings.tz)
    # Slow (matplotlib, openpyxl): in a child process, and outside any transaction.
    drawn = await show.files(t, built)
    async with transaction(runtime.sessions) as session:
        won = await notices.post(
            session,
            chat_id=chat_id,
            label=label,
            text=show.text(t, built),
            pictures=drawn.pictures,
            workbook=drawn.workbook,
            workbook_name=show.file_name(built),
            now=now,
        )
        if won and application is not None:
            wake_after_commit(session, application)
    if won:
        log.info("report %s enqueued for the cadre group", label)
    return won


async def _tick(context: CallbackContext[Any, Any, Any, Any]) -> None:
    runtime = runtime_of(context)
    await run(runtime, runtime.now(), context.application)


def schedule(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Have PTB's JobQueue look every few minutes whether the month's report is due."""
    repeat(application, _tick, every=INTERVAL, first=FIRST_RUN, name=JOB_NAME)
