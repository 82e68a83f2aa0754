"""The monthly satisfaction pulse: asks every member once a month.

`run(runtime, now)` asks when it is due: the pulse is on, it is a weekday
between `Settings.pulse_hour` and `storage.pulse.LATEST_HOUR` in the union's
zone, and this month has no `PulseMonth` row yet. The row is inserted with ON
CONFLICT DO NOTHING and only the transaction that inserted it enqueues the
questions (each under a unique outbox key per member and month), so a run
twice, or on two instances, asks each member once. A month that starts on a
weekend is asked on its first weekday; a pulse switched on mid-month asks at
the next decent hour.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.runtime import Runtime, runtime_of
from jobs.cadence import repeat
from jobs.delivery import wake_after_commit
from notices import pulse as notices
from storage import pulse
from storage.db import transaction

if TYPE_CHECKING:
    from telegram.ext import Application, CallbackContext

log = logging.getLogger(__name__)

JOB_NAME = "pulse"
INTERVAL = timedelta(minutes=5)
FIRST_RUN = timedelta(minutes=1)


async def run(
    runtime: Runtime,
    now: datetime,
    application: Application[Any, Any, Any, Any, Any, Any] | None = None,
) -> int:
    """Ask this month's question if it is due; how many members were asked (0: nothing)."""
    settings = runtime.settings
    if not pulse.due(now, settings.tz, settings.pulse_hour):
        return 0
    async with transaction(runtime.sessions) as session:
        if not await pulse.enabled(session):
            return 0
        month = await pulse.open_month(session, now, settings.tz)
        if month is None:
            return 0
        asked = await notices.ask_everyone(session, month, now=now, secret=settings.secret_key)
        if application is not None:
            wake_after_commit(session, application)
    log.info("pulse month %s: %d members asked", month.month, asked)
    return asked


async def _tick(context: CallbackContext[Any, Any, Any, Any]) -> None:
    runtime = runtime_of(context)
    await run(runtime, runtime.now(), context.application)


def schedule(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Have PTB's JobQueue run the job every few minutes (errors reach the error handler)."""
    repeat(application, _tick, every=INTERVAL, first=FIRST_RUN, name=JOB_NAME)
