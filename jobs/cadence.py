"""How often the scheduled jobs look for work: one place that puts them on PTB's JobQueue.

Each job keeps its own production cadence (greetings every five minutes, the
report every ten, ...): the database says what is due, so looking more often
only costs queries. ``JOBS_CHECK_SECONDS`` replaces every cadence and first
look at once, for a demo or a test that wants a greeting, a reminder or a
report to come due within seconds of real processes starting, without
patching any module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core.runtime import runtime_of

if TYPE_CHECKING:
    from telegram.ext import Application

log = logging.getLogger(__name__)

Seconds = float | timedelta


def _seconds(value: Seconds) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def cadence(
    application: Application[Any, Any, Any, Any, Any, Any], every: Seconds, first: Seconds
) -> tuple[float, float]:
    """(interval, first run) in seconds: the job's own, or JOBS_CHECK_SECONDS for both."""
    override = runtime_of(application).settings.jobs_check_seconds
    if override is not None:
        return override, override
    return _seconds(every), _seconds(first)


def repeat(
    application: Application[Any, Any, Any, Any, Any, Any],
    callback: Callable[[Any], Coroutine[Any, Any, object]],
    *,
    every: Seconds,
    first: Seconds,
    name: str,
) -> bool:
    """Run ``callback`` repeatedly; False (and a warning) when PTB has no JobQueue."""
    queue = application.job_queue
    if queue is None:
        log.warning("no JobQueue: %s will not run (install python-telegram-bot[job-queue])", name)
        return False
    interval, start = cadence(application, every, first)
    queue.run_repeating(callback, interval=interval, first=start, name=name)
    return True
