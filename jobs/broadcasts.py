"""Broadcast jobs: start scheduled broadcasts at their time, keep the admin's progress current.

Both are plain async functions of the runtime and the time, so tests call
them with a fake clock; in production PTB's JobQueue wakes them
(:func:`schedule`). The database decides what is due, so a job that runs
twice, late, or on two instances at once does the work once:

* :func:`start_due` starts a scheduled broadcast with one conditional UPDATE
  (`storage.broadcasts.claim_due`) and enqueues its messages in the same
  transaction, under keys the outbox refuses to repeat.
* :func:`refresh_progress` edits each running broadcast's ONE progress
  message at most every :data:`PROGRESS_INTERVAL` (a conditional UPDATE of
  ``progress_at`` shares that limit between instances) and, once nothing is
  left to send, records the report (`storage.broadcasts.finish_if_done`,
  true for exactly one caller) and enqueues it to the admin under the key
  ``broadcast:<id>:report`` (`notices.broadcasts` writes both messages).

Telegram is called only after the transaction committed, so a slow edit
never holds a database lock, and a failed edit changes nothing stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError

from core.i18n import translator
from core.runtime import runtime_of
from jobs.cadence import cadence
from jobs.delivery import wake_after_commit
from notices import broadcasts as notices
from storage import broadcasts
from storage.db import transaction

if TYPE_CHECKING:
    from telegram.ext import Application, CallbackContext

    from core.runtime import Runtime
    from storage.models import Broadcast

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = timedelta(seconds=3)
START_INTERVAL = timedelta(seconds=15)
Wake = Callable[[AsyncSession], None]


async def start_due(runtime: Runtime, now: datetime, *, wake: Wake | None = None) -> list[int]:
    """Start the scheduled broadcasts whose time has come; the ids this call started."""
    async with transaction(runtime.sessions) as session:
        started = await broadcasts.claim_due(session, now)
        if started and wake is not None:
            wake(session)
    if started:
        log.info("started %d scheduled broadcast(s)", len(started))
    return [b.id for b in started]


async def refresh_progress(
    runtime: Runtime, bot: Bot, now: datetime, *, wake: Wake | None = None
) -> None:
    """Bring every running broadcast's progress message up to date; report the finished."""
    async with runtime.sessions() as session:
        running = await broadcasts.unfinished(session)
    for broadcast_id in running:
        await refresh_one(runtime, bot, broadcast_id, now, wake=wake)


async def refresh_one(
    runtime: Runtime, bot: Bot, broadcast_id: int, now: datetime, *, wake: Wake | None = None
) -> None:
    rate = runtime.settings.delivery_pace
    async with transaction(runtime.sessions) as session:
        finished = await broadcasts.finish_if_done(session, broadcast_id, now=now, rate=rate)
        if finished is not None:
            await notices.enqueue_report(session, runtime, finished, now)
            if wake is not None:
                wake(session)
            await broadcasts.set_progress_message(
                session, broadcast_id, finished.progress_message_id, now=now
            )
        elif not await broadcasts.claim_progress_turn(
            session, broadcast_id, now=now, interval=PROGRESS_INTERVAL
        ):
            return
        broadcast = await broadcasts.get(session, broadcast_id)
        create = broadcast.progress_message_id is None and (
            await broadcasts.claim_progress_message(session, broadcast_id)
        )
        text, markup = await _status(session, runtime, broadcast, now)
        chat_id, message_id = broadcast.admin_chat_id, broadcast.progress_message_id
    if create:
        await _send_progress(runtime, bot, broadcast_id, chat_id, text, markup, now)
    elif message_id:
        await edit_progress(bot, chat_id, message_id, text, markup)


async def _send_progress(
    runtime: Runtime,
    bot: Bot,
    broadcast_id: int,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
    now: datetime,
) -> None:
    """A scheduled broadcast has started without a message to edit: send one and keep its id."""
    message_id: int | None = None
    try:
        message = await bot.send_message(chat_id, text, reply_markup=markup)
        message_id = message.message_id
    except TelegramError as error:
        # None lets the next run try again; the report still goes through the outbox.
        log.info("progress message not sent: %s", type(error).__name__)
    final: tuple[str, InlineKeyboardMarkup | None] | None = None
    async with transaction(runtime.sessions) as session:
        finished = await broadcasts.set_progress_message(session, broadcast_id, message_id, now=now)
        if finished and message_id is not None:
            # Another instance finished it while this message was on its way, and had
            # nothing to edit: the end is drawn here.
            broadcast = await broadcasts.get(session, broadcast_id)
            final = await _status(session, runtime, broadcast, now)
    if final is not None and message_id is not None:
        await edit_progress(bot, chat_id, message_id, *final)


async def _status(
    session: AsyncSession, runtime: Runtime, broadcast: Broadcast, now: datetime
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The progress message as it reads now, in the language of the admin who sent it."""
    language = await broadcasts.admin_language(
        session, broadcast, runtime.settings.default_language
    )
    return await notices.render_status(session, runtime, translator(language), broadcast, now)


async def edit_progress(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    try:
        await bot.edit_message_text(text, chat_id, message_id, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            log.info("progress message not edited: %s", error.message)
    except (Forbidden, TelegramError) as error:
        log.info("progress message not edited: %s", type(error).__name__)


# Wiring into PTB's JobQueue ------------------------------------------------------------


def _log_once(context: CallbackContext[Any, Any, Any, Any], job: str, error: Exception) -> None:
    """One line per job and error class until the job succeeds again: no flood every 3 s."""
    runtime = runtime_of(context)
    runtime.metrics.job_run_failed()  # caught here, so the job queue would count a success
    seen = runtime.logged_job_errors
    kind = f"{job}:{type(error).__name__}"
    if kind not in seen:
        seen.add(kind)
        # No traceback text: database errors quote their parameters (message text).
        log.error("%s job failed with %s (logged once; retrying)", job, type(error).__name__)


def _succeeded(context: CallbackContext[Any, Any, Any, Any], job: str) -> None:
    seen = runtime_of(context).logged_job_errors
    for kind in [k for k in seen if k.startswith(job + ":")]:
        seen.discard(kind)


async def _start_due_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    runtime = runtime_of(context)
    try:
        await start_due(runtime, runtime.now(), wake=lambda s: wake_after_commit(s, context))
    except Exception as error:
        _log_once(context, "broadcast start", error)
    else:
        _succeeded(context, "broadcast start")


async def _progress_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    runtime = runtime_of(context)
    try:
        await refresh_progress(
            runtime, context.bot, runtime.now(), wake=lambda s: wake_after_commit(s, context)
        )
    except Exception as error:
        _log_once(context, "broadcast progress", error)
    else:
        _succeeded(context, "broadcast progress")


def schedule(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Wake the two jobs regularly; they find their work in the database."""
    queue = application.job_queue
    if queue is None:
        raise RuntimeError("python-telegram-bot[job-queue] is required for broadcasts")
    every, first = cadence(application, START_INTERVAL, 1.0)
    queue.run_repeating(_start_due_job, interval=every, first=first, name="broadcasts: start due")
    queue.run_repeating(
        _progress_job,
        interval=PROGRESS_INTERVAL,
        first=PROGRESS_INTERVAL,
        name="broadcasts: progress",
    )
