"""Builds the `Application`: settings, storage, handlers, error handler, start-up work.

`FEATURES` is the one place handler priority is decided: each feature module
exposes `register(application)` and they are called in this order.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable, Coroutine
from datetime import datetime
from types import ModuleType
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, BaseHandler, Defaults
from telegram.warnings import PTBUserWarning

from bot.errors import on_error
from bot.health import HealthServer
from bot.metrics import MeasuredJobQueue, added_since, count_updates, handlers_of, note_features
from bot.persistence import DatabasePersistence
from bot.processor import PerChatUpdateProcessor
from bot.request import CommitFirstRateLimiter, bot_request
from bot.updates import Backlog, UpdatesBot, UpdatesRequest
from core.runtime import RUNTIME_KEY, Runtime, runtime_of
from core.settings import Settings
from handlers import (
    activities,
    admin,
    broadcasts,
    fallback,
    greetings,
    groups,
    guards,
    handbook,
    membership,
    polls,
    profile,
    pulse,
    report,
    roster,
    suggestions,
    trainings,
)
from handlers.commands import publish_commands
from handlers.grievances import members as grievance_members
from handlers.grievances import union as grievance_union
from jobs import broadcasts as broadcast_jobs
from jobs import greetings as greeting_jobs
from jobs import grievances as grievance_jobs
from jobs import polls as poll_jobs
from jobs import pulse as pulse_jobs
from jobs import reminders as reminder_jobs
from jobs import report as report_jobs
from jobs.delivery import reply_slots, start_delivery, stop_delivery
from jobs.greetings import expire_at_start
from storage import handbook as handbook_service
from storage.chat_locks import ChatLocks
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import upgrade
from storage.models import utcnow

log = logging.getLogger(__name__)

# Order matters within handler group 0: features first, `fallback` last so it
# only answers what no feature took. `guards` runs in group -1 (before all) and
# registers last because it reads the features' command list.
FEATURES: tuple[ModuleType, ...] = (
    membership,
    profile,
    admin,
    roster,
    greetings,
    broadcasts,
    grievance_members,
    grievance_union,
    polls,
    suggestions,
    activities,
    trainings,
    groups,
    pulse,
    handbook,
    report,
    fallback,
    guards,
)

# Scheduled work, each module with `schedule(application)`, started here and not by
# the features: `union-bot worker` runs these (and the delivery worker) without
# building a single handler.
JOBS: tuple[ModuleType, ...] = (
    greeting_jobs,
    broadcast_jobs,
    grievance_jobs,
    poll_jobs,
    reminder_jobs,
    pulse_jobs,
    report_jobs,
)

ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
]


def build_application(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    processor: PerChatUpdateProcessor | None = None,
    rate_limiter: bool = True,
    takes_updates: bool = True,
    backlog: Backlog | None = None,
) -> Application:
    """The bot as `union-bot run` and `webhook` run it; `takes_updates=False` for `worker`.

    A worker handles no conversations, so its persistence stays inert (it
    neither loads nor writes conversation state).
    """
    # Conversations start from buttons on purpose and track per user, not per message.
    warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
    persistence = DatabasePersistence(enabled=takes_updates)
    request = bot_request()
    processor = processor or PerChatUpdateProcessor()
    limiter = (
        CommitFirstRateLimiter(
            max_retries=2,
            telegram_rate=settings.telegram_rate,
            chat_burst=settings.reply_chat_burst,
        )
        if rate_limiter
        else None
    )
    bot = UpdatesBot(
        settings.telegram_bot_token,
        base_url=settings.api_url,
        base_file_url=settings.file_url,
        request=request,  # commits before each request leaves (bot.request)
        # Polling fetches more only while the bot has room (bot.updates.Backlog).
        get_updates_request=UpdatesRequest(),
        backlog=backlog,
        defaults=Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz),
        rate_limiter=limiter,
    )
    processor.listeners.append(bot.backlog.finished)
    application: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(processor)
        .post_init(_on_start)
        .post_shutdown(_on_stop)
        .persistence(persistence)
        .job_queue(MeasuredJobQueue())  # counts each job's runs for /metrics (bot.metrics)
        .build()
    )
    engine = engine_for(settings)
    application.bot_data[RUNTIME_KEY] = Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        clock=clock,
        takes_updates=takes_updates,
    )
    runtime = runtime_of(application)
    request.on_rate_limited = lambda: runtime.metrics.rate_limit("replies")
    if takes_updates:
        registered: list[tuple[ModuleType, list[BaseHandler[Any, Any, Any]]]] = []
        for feature in FEATURES:
            before = handlers_of(application)
            feature.register(application)
            registered.append((feature, added_since(application, before)))
        note_features(application, registered)
        if isinstance(application.update_processor, PerChatUpdateProcessor):
            application.update_processor.line_keys.extend(runtime.lines)
            count_updates(application, application.update_processor)
            # Several instances on one PostgreSQL: a chat's updates one at a time across them.
            application.update_processor.chat_locks = ChatLocks.for_engine(
                engine, settings.secret_key, lock_timeout=settings.database_lock_timeout
            )
    for job in JOBS:
        job.schedule(application)
    persistence.attach(application)
    application.add_error_handler(on_error)
    return application


def engine_for(settings: Settings) -> AsyncEngine:
    """The database engine with the pool and timeouts the settings ask for."""
    return make_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        lock_timeout=settings.database_lock_timeout,
    )


async def _on_start(application: Application) -> None:
    runtime = runtime_of(application)
    await upgrade(runtime.engine)
    await _default_handbook(runtime)
    if runtime.takes_updates:  # the first search would otherwise wait for the dictionary
        _in_background(_warm_up_later(), "loading the dictionary")
    me = application.bot
    log.info("started as @%s", me.username)
    if runtime.takes_updates:  # a worker has no features, so no commands to offer
        await publish_commands(application)
    # After the migrations: the worker's first act is to recover the outbox.
    # Yesterday's unsent greetings are cancelled before the worker could send them late.
    await expire_at_start(runtime)
    await start_delivery(application)
    limiter = application.bot.rate_limiter
    if isinstance(limiter, CommitFirstRateLimiter):  # replies share the deliveries' budget
        limiter.replies = reply_slots(application)
    settings = runtime.settings
    if settings.metrics_port is not None:
        server = HealthServer(application)
        await server.start(settings.metrics_listen, settings.metrics_port)
        runtime.health_server = server


# Start-up work nobody waits for; kept referenced until done (the loop holds tasks weakly).
_BACKGROUND: set[asyncio.Task[None]] = set()


def _in_background(work: Coroutine[Any, Any, None], what: str) -> None:
    """Run ``work`` without holding up the first update (the dictionary takes about a
    second, from `WARM_UP_AFTER`; a search that comes sooner loads it, nothing else waits)."""

    def done(task: asyncio.Task[None]) -> None:
        _BACKGROUND.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("failed %s", what, exc_info=task.exception())

    task = asyncio.ensure_future(work)
    _BACKGROUND.add(task)
    task.add_done_callback(done)


# Seconds after start-up the handbook's dictionary starts loading. Its thread holds the
# interpreter most of a second: begun at once, it made the first answer (the updates
# waiting at a restart) 0.25 s later at 100,000 members. A search before then loads
# it itself (`storage.segmenter.loaded`), as one always could.
WARM_UP_AFTER = 5.0


async def _warm_up_later() -> None:
    await asyncio.sleep(WARM_UP_AFTER)
    await asyncio.to_thread(handbook_service.warm_up)


async def _default_handbook(runtime: Runtime) -> None:
    """A new union starts with the default handbook; a concurrent instance may have won."""
    try:
        async with transaction(runtime.sessions) as session:
            if await handbook_service.ensure_default(session):
                log.info("wrote the default handbook")
    except IntegrityError:
        log.info("the default handbook was written by another instance")


async def _on_stop(application: Application) -> None:
    runtime = runtime_of(application)
    # A bot stopped within a second of starting: its dictionary thread finishes on its
    # own (the loop's executor waits for it); the task is not left pending.
    for task in list(_BACKGROUND):
        task.cancel()
    await asyncio.gather(*_BACKGROUND, return_exceptions=True)
    if runtime.health_server is not None:
        await runtime.health_server.stop()
        runtime.health_server = None
    limiter = application.bot.rate_limiter
    if isinstance(limiter, CommitFirstRateLimiter) and limiter.replies is not None:
        await limiter.replies.close()
        limiter.replies = None
    # Before the engine goes: the worker records what it still has in hand.
    await stop_delivery(application)
    await runtime_of(application).engine.dispose()
