"""Where the bot's counters are fed: updates by feature, and every scheduled job's runs.

The counters themselves live in `core.metrics` (the runtime's `Metrics`); this
module only wires them into PTB from the outside, so no handler and no job
carries a line of metrics code:

* updates — a `TypeHandler` in the first group marks the start, each feature's
  handler callbacks are wrapped (once, at build time) to note which feature took
  the update, and the update processor's listener counts it once it is saved;
  `bot.errors.on_error` marks it failed. The label is the feature's module name
  (``membership``, ``grievances.members``…), a fixed set from `FEATURES`.
* jobs — :class:`MeasuredJobQueue` times each run of each job by the job's name
  (names are fixed strings in `jobs/*.py`), a run failed if it raised or if the
  job marked it (`Metrics.job_run_failed`, for jobs that catch and log their own).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Coroutine
from types import ModuleType
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler, ConversationHandler, JobQueue, TypeHandler
from telegram.ext import Job as PTBJob

from core.metrics import Metrics, begin_job_run, end_job_run
from core.runtime import runtime_of

# Before every other group (the guards are -1, conversation expiry its own).
START_GROUP = -1000

Callback = Callable[[Any, Any], Coroutine[Any, Any, Any]]


def feature_name(feature: ModuleType) -> str:
    """``handlers.grievances.members`` → ``grievances.members``: the update's label."""
    name = feature.__name__
    return name.removeprefix("handlers.")


def _handlers_in(handler: BaseHandler[Any, Any, Any]) -> list[BaseHandler[Any, Any, Any]]:
    """The handler itself, or every handler a conversation holds (nested ones too)."""
    if not isinstance(handler, ConversationHandler):
        return [handler]
    inner: list[BaseHandler[Any, Any, Any]] = [*handler.entry_points, *handler.fallbacks]
    for state in handler.states.values():
        inner.extend(state)
    return [leaf for each in inner for leaf in _handlers_in(each)]


def _noted(callback: Callback, feature: str, metrics: Metrics) -> Callback:
    @functools.wraps(callback)
    async def noted(update: Any, context: Any) -> Any:
        metrics.handled_by(id(update), feature)
        return await callback(update, context)

    noted.__union_bot_feature__ = feature  # type: ignore[attr-defined]  # wrapped once only
    return noted


def note_features(
    application: Application[Any, Any, Any, Any, Any, Any],
    registrations: list[tuple[ModuleType, list[BaseHandler[Any, Any, Any]]]],
) -> None:
    """Wrap the callbacks each feature registered, so an update knows which feature took it."""
    metrics = runtime_of(application).metrics
    for feature, added in registrations:
        name = feature_name(feature)
        for handler in added:
            for leaf in _handlers_in(handler):
                if not hasattr(leaf.callback, "__union_bot_feature__"):
                    leaf.callback = _noted(leaf.callback, name, metrics)


def handlers_of(application: Application[Any, Any, Any, Any, Any, Any]) -> set[int]:
    """The ids of the handlers registered so far (to tell what a feature added)."""
    return {id(h) for group in application.handlers.values() for h in group}


def added_since(
    application: Application[Any, Any, Any, Any, Any, Any], before: set[int]
) -> list[BaseHandler[Any, Any, Any]]:
    return [h for group in application.handlers.values() for h in group if id(h) not in before]


def count_updates(application: Application[Any, Any, Any, Any, Any, Any], processor: Any) -> None:
    """Start each update's clock in the first group; stop it once the processor is done.

    The clock starts inside the chat's turn, so the time an update waits behind
    the same member's previous one is not counted as its own.
    """
    runtime = runtime_of(application)
    metrics = runtime.metrics

    async def started(update: object, context: Any) -> None:
        metrics.update_started(id(update))
        if isinstance(update, Update):
            message = update.message or update.edited_message
            sent = None if message is None else (message.edit_date or message.date)
            if sent is not None:
                metrics.update_age.observe(max(0.0, (runtime.now() - sent).total_seconds()))

    application.add_handler(TypeHandler(object, started), group=START_GROUP)
    processor.listeners.append(lambda update: metrics.update_finished(id(update)))


class MeasuredJobQueue(JobQueue[Any]):
    """PTB's JobQueue, counting each run of each job, its failures and its time."""

    __slots__ = ()

    @staticmethod
    async def job_callback(job_queue: JobQueue[Any], job: PTBJob[Any]) -> None:
        application = job_queue.application
        callback = job.callback
        if not hasattr(callback, "__union_bot_job__"):
            job.callback = _measured(callback, job.name or "job", runtime_of(application).metrics)
        await job.run(application)


def _measured(
    callback: Callable[[Any], Coroutine[Any, Any, Any]], name: str, metrics: Metrics
) -> Callable[[Any], Coroutine[Any, Any, Any]]:
    @functools.wraps(callback)
    async def measured(context: Any) -> Any:
        run, token = begin_job_run()
        began = time.perf_counter()
        try:
            return await callback(context)
        except Exception:
            run.failed = True
            raise  # to PTB, which hands it to the error handler as before
        finally:
            end_job_run(token)
            metrics.job_ran(name, time.perf_counter() - began, failed=run.failed)

    measured.__union_bot_job__ = name  # type: ignore[attr-defined]  # wrapped once only
    return measured
