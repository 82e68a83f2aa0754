"""Poll jobs: closing-soon reminders, closing at the set time, and the results chart.

What they send is written by `notices.polls`; here is when, and the one upload.

`run(runtime, now, application)` does everything that is due at ``now``; the
JobQueue calls it every minute in production and tests call it after moving
the `FakeClock`. It is safe to run twice, or on two instances at once:

* a reminder is claimed by one conditional UPDATE (``reminded_at`` NULL → now),
  and each reminder message has the outbox key ``poll:<id>:remind:<keyed hash>``
  (sealed for an anonymous poll: the reminded are those who had not voted);
* a poll is closed by one conditional UPDATE (open → closed); only the
  transaction that made that change enqueues the results
  (``poll:<id>:result:<member>``), in the same transaction;
* the chart is claimed with a lease (``chart_claimed_at``): one instance
  renders it and uploads it once to the creator, then the audience receives it by
  Telegram's file id through the outbox (``poll:<id>:chart:<member>``). The
  outbox only sends files by id, never uploads, hence this one direct upload.
  If an instance dies mid-upload, another takes over after the lease.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.error import NetworkError, RetryAfter, TelegramError

from core.i18n import translator
from core.runtime import runtime_of
from display import polls as display
from display import rendering
from jobs.cadence import repeat
from jobs.delivery import wake_after_commit
from notices import polls as notices
from storage import polls
from storage.audiences import Recipient
from storage.db import transaction
from storage.poll_rules import results_shown

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.ext import Application

    from core.runtime import Runtime

log = logging.getLogger(__name__)

INTERVAL = 60.0  # seconds between runs in production
# The first run a minute after start: the database says what is due, so nothing is
# lost by waiting, and tests (which call `run` themselves) never meet a stray run.
FIRST_RUN = 60.0
# How long after closing (or extending) each run still looks for copies not yet redrawn.
CLOSED_COPIES_WINDOW = timedelta(hours=6)


@dataclass(frozen=True)
class PollJobReport:
    reminded: int = 0
    closed: int = 0
    charts: int = 0


def _wake(
    session: AsyncSession, application: Application[Any, Any, Any, Any, Any, Any] | None
) -> None:
    if application is not None:
        wake_after_commit(session, application)


async def publish_chart(
    runtime: Runtime,
    poll_id: int,
    *,
    now: datetime,
    bot: Bot,
    application: Application[Any, Any, Any, Any, Any, Any] | None = None,
) -> bool:
    """Render the chart of a closed poll, upload it once, and enqueue it for the audience.

    An anonymous poll with too few voters has no chart: its bars would be the votes.
    """
    settings = runtime.settings
    async with transaction(runtime.sessions) as session:
        try:
            view = await polls.get(session, poll_id)
        except polls.PollNotFound:
            return False
        tally = await polls.tally(session, view)
        creator = await polls.creator_recipient(session, view.poll)
        if not results_shown(view.poll.anonymous, tally.voters):
            await polls.chart_done(session, poll_id, None, now=now)
            return True
        audience: list[Recipient] = []
        if view.poll.share_results:
            audience = await polls.audience_members(session, view.poll)
    language = creator.language if creator is not None else settings.default_language
    t = translator(language)
    (png,) = await rendering.draw(display.chart(t, view, tally))
    # The creator gets the chart; if that fails for good (the creator left, or blocked
    # the bot), the cadre group does, so the voters can still receive it by file id.
    chats = [c for c in (creator.telegram_id if creator else None, settings.cadre_chat_id) if c]
    file_id: str | None = None
    for chat_id in chats:
        try:
            sent = await bot.send_photo(
                chat_id, png, caption=display.chart_caption(t, view), filename=f"poll-{poll_id}.png"
            )
        except (NetworkError, RetryAfter):
            # Leave the claim; the lease hands it to a later run. (A timeout may hide a
            # delivery: then the creator sees the chart twice, never zero times.)
            raise
        except TelegramError as error:
            log.warning(
                "poll %d chart not delivered (%s); trying the next chat", poll_id, error.message
            )
            continue
        file_id = sent.photo[-1].file_id if sent.photo else None
        break
    async with transaction(runtime.sessions) as session:
        await polls.chart_done(session, poll_id, file_id, now=now)
        if file_id is not None:
            await notices.share_chart(session, view, file_id, audience, creator=creator, now=now)
            _wake(session, application)
    return True


async def run(
    runtime: Runtime,
    now: datetime,
    application: Application[Any, Any, Any, Any, Any, Any] | None = None,
) -> PollJobReport:
    """Everything due at ``now``: reminders, closings, charts. Idempotent (see above)."""
    reminded = closed = published = 0
    async with transaction(runtime.sessions) as session:
        for poll_id in await polls.claim_reminders(session, now):
            reminded += await notices.remind(session, poll_id, now=now, runtime=runtime)
        _wake(session, application)
    async with transaction(runtime.sessions) as session:
        due = await polls.due_to_close(session, now)
    for poll_id in due:
        async with transaction(runtime.sessions) as session:
            view = await notices.close_and_notify(session, poll_id, now=now, runtime=runtime)
            if view is not None:
                closed += 1
                _wake(session, application)
    async with transaction(runtime.sessions) as session:
        # Copies that were in flight when the poll closed are edited once delivered.
        for poll_id in await polls.closed_with_late_copies(session, now, CLOSED_COPIES_WINDOW):
            await notices.close_copies(
                session, await polls.get(session, poll_id), now=now, runtime=runtime
            )
        # And copies in flight when it was extended, once delivered with the old time.
        for poll_id in await polls.extended_with_late_copies(session, now, CLOSED_COPIES_WINDOW):
            await notices.extension_copies(
                session, await polls.get(session, poll_id), now=now, runtime=runtime
            )
        _wake(session, application)
    if application is not None:
        async with transaction(runtime.sessions) as session:
            claimed = await polls.claim_charts(session, now)
        for poll_id in claimed:
            try:
                if await publish_chart(
                    runtime, poll_id, now=now, bot=application.bot, application=application
                ):
                    published += 1
            except (NetworkError, RetryAfter) as error:
                log.warning("poll %d chart upload failed (%s); retried later", poll_id, error)
    return PollJobReport(reminded, closed, published)


def after_commit(session: AsyncSession, callback: Any) -> None:
    """Run ``callback()`` once the session's transaction has committed (never on rollback)."""

    def fire(_session: object) -> None:
        callback()

    event.listen(session.sync_session, "after_commit", fire, once=True)


def run_soon(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Ask the JobQueue for a run right away (after an admin closed a poll by hand)."""
    if application.job_queue is not None:
        application.job_queue.run_once(tick, 0, name="polls-now")


async def tick(context: Any) -> None:
    """The JobQueue's callback."""
    runtime = runtime_of(context)
    await run(runtime, runtime.now(), context.application)


def schedule(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    repeat(application, tick, every=INTERVAL, first=FIRST_RUN, name="polls")
