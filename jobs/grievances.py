"""Scheduled grievance work: deadlines (SLA), waiting cards, failed posts, link retention.

Each function takes the runtime and ``now`` (tests pass the FakeClock's time)
and is idempotent: the database decides what is due, conditional changes and
unique outbox keys make a second run — on a restart or another instance — do
nothing more. The steps that decide from plain reads (failed and waiting
posts, overdue cases) also claim their run (`storage.db.claim_run`), so two
instances running them at the same moment cannot both act on one read. PTB's JobQueue only wakes :func:`tick` (see `schedule`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram.ext import Application, ContextTypes

from core.runtime import Runtime, runtime_of
from jobs.delivery import wake_after_commit
from notices import grievances as relay
from storage import grievance_rules as rules
from storage import grievances as service
from storage.db import claim_run, transaction, unit_of_work
from storage.models import GrievanceStatus as Status

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=15)
MAX_CARD_ATTEMPTS = 5


@dataclass
class TickReport:
    """What one run did; the ids are cases whose cards need their status line redrawn."""

    synced: int = 0
    failed: int = 0
    reposted: int = 0
    posted: int = 0
    escalated: int = 0
    forgotten: int = 0
    refresh: set[int] = field(default_factory=set)


async def sync_posts(
    runtime: Runtime, now: datetime, application: Application | None = None
) -> tuple[int, int]:
    """Learn where queued posts landed; tell admins (and once, the member) about failures."""
    async with transaction(runtime.sessions) as session:
        if not await claim_run(session, "grievances:sync_posts"):
            return 0, 0  # another instance is on it
        posts = await service.queued_posts(session)
        failed = await service.sync_posts(session, posts)
        for post in failed:
            case = await service.get_case(session, post.grievance_id)
            if case is None or post.role != "card":
                continue
            await relay.alert_post_failed(session, runtime, case, post.chat_id, now)
            await relay.notify_member(session, runtime, case, "waiting", now)
        if failed and application is not None:
            wake_after_commit(session, application)
    return len(posts), len(failed)


async def retry_failed(
    runtime: Runtime,
    now: datetime,
    application: Application | None = None,
    *,
    chat_id: int | None = None,
    force: bool = False,
) -> int:
    """Post again the cards that failed (e.g. the bot was out of the group), with their thread."""
    reposted = 0
    async with transaction(runtime.sessions) as session:
        if not await claim_run(session, "grievances:retry_failed"):
            return 0  # another instance is on it
        for post in await service.failed_posts(session, chat_id):
            if not force and post.created_at > now - RETRY_AFTER:
                continue
            post.state = "retried"
            if post.role != "card":
                continue
            case = await service.get_case(session, post.grievance_id)
            if case is None:
                continue
            attempts = sum(
                1
                for p in await service.posts_of(session, case.id, role="card")
                if p.chat_id == post.chat_id
            )
            if attempts >= MAX_CARD_ATTEMPTS and not force:
                continue
            await relay.post_case(session, runtime, case, post.chat_id, now)
            reposted += 1
        if reposted and application is not None:
            wake_after_commit(session, application)
    return reposted


async def post_waiting(
    runtime: Runtime, now: datetime, application: Application | None = None
) -> int:
    """Cards for cases that came while no group was configured, once one is."""
    posted = 0
    alerted = False
    async with transaction(runtime.sessions) as session:
        if not await claim_run(session, "grievances:post_waiting"):
            return 0  # another instance is on it
        for case in await service.unposted_cases(session):
            chat = relay.route_chat(runtime, case.category)
            if chat is None:
                # The alert is once a day whichever case names it: asked once a run, not
                # once a case (200 look-ups of the admins a minute, 1.5 s at 100,000 members).
                if not alerted:
                    await relay.alert_no_group(session, runtime, case, now)
                    alerted = True
                continue
            case.route_chat_id = chat
            await relay.post_case(session, runtime, case, chat, now)
            posted += 1
        if posted and application is not None:
            wake_after_commit(session, application)
    return posted


async def escalate_overdue(
    runtime: Runtime, now: datetime, application: Application | None = None
) -> list[int]:
    """Cases past a deadline: re-posted, escalated upstairs, the member told. Once each."""
    changed: list[int] = []
    async with transaction(runtime.sessions) as session:
        if not await claim_run(session, "grievances:escalate_overdue"):
            return []  # another instance is on it
        for case in await service.overdue_cases(session, now):
            missed = rules.overdue(
                status=Status(case.status),
                now=now,
                take_due=case.take_due_at,
                answer_due=case.answer_due_at,
                answered=case.answered_at is not None,
                take_breached=rules.breached(case.take_breached_at, case.take_due_at),
                answer_breached=case.answer_breached_at is not None,
            )
            if not missed:
                continue
            for why in missed:
                service.escalate(case, why, now)
                await service.record(session, case, "sla", now, detail=why.value)
            await relay.escalated_overdue(session, runtime, case, missed, now)
            changed.append(case.id)
            log.info("grievance %s escalated: %s", case.code, ",".join(m.value for m in missed))
        if changed and application is not None:
            wake_after_commit(session, application)
    return changed


async def forget_expired_links(runtime: Runtime, now: datetime) -> int:
    """Retention: destroy the author link of cases finished long enough ago."""
    async with transaction(runtime.sessions) as session:
        count = await service.destroy_expired_links(
            session, now, runtime.settings.grievance_link_retention_days
        )
    if count:
        log.info("destroyed the author link of %d finished grievances", count)
    return count


async def refresh_groups(runtime: Runtime) -> None:
    """Groups categories route to are union groups for the guards (commands, replies)."""
    async with runtime.sessions() as session:
        runtime.routed_groups = frozenset(await service.routed_chats(session))


async def tick(
    runtime: Runtime, now: datetime, application: Application | None = None
) -> TickReport:
    """One run of everything above, then redraw the cards whose status changed."""
    report = TickReport()
    report.synced, report.failed = await sync_posts(runtime, now, application)
    report.reposted = await retry_failed(runtime, now, application)
    report.posted = await post_waiting(runtime, now, application)
    escalated = await escalate_overdue(runtime, now, application)
    report.escalated = len(escalated)
    report.refresh.update(escalated)
    report.forgotten = await forget_expired_links(runtime, now)
    if application is not None:
        await refresh_groups(runtime)
        await redraw(runtime, now, application, report.refresh)
    return report


async def redraw(
    runtime: Runtime, now: datetime, application: Application, case_ids: set[int]
) -> None:
    for case_id in sorted(case_ids):
        # A unit of work, not a transaction: it commits before each card is edited.
        async with unit_of_work(runtime.sessions) as session:
            case = await service.get_case(session, case_id)
            if case is not None:
                await relay.refresh_cards(application.bot, session, runtime, case, now)


async def _run(context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = runtime_of(context)
    try:
        await tick(runtime, runtime.now(), context.application)
    except Exception as error:  # a bad minute must not stop the next one
        runtime.metrics.job_run_failed()
        log.error("grievance check failed with %s", type(error).__name__)


async def _load_groups(context: ContextTypes.DEFAULT_TYPE) -> None:
    await refresh_groups(runtime_of(context))


def schedule(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Wake :func:`tick` every GRIEVANCE_CHECK_SECONDS; load the routed groups at start."""
    queue = application.job_queue
    if queue is None:
        log.warning("no JobQueue: grievance deadlines are not checked")
        return
    every = runtime_of(application).settings.grievance_check_seconds
    queue.run_once(_load_groups, when=0.1, name="grievance-groups")
    queue.run_repeating(_run, interval=every, first=every, name="grievance-check")
