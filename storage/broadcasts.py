"""Broadcasts: an announcement, its audience, and its delivery as one outbox batch.

Functions take a session and return plain data; they know nothing of
Telegram. Callers own the transaction (`storage.db.transaction`).

How one broadcast travels:

* :func:`create` stores it. Sent now, it is expanded at once, in the same
  transaction: one outbox row per recipient (key ``broadcast:<id>:<member>``,
  group ``broadcast:<id>``), so the broadcast exists exactly when its messages
  do. Scheduled, it waits as ``scheduled`` and :func:`claim_due` expands it at
  its time; the claim is a conditional UPDATE, so two instances or a re-run
  expand it once, and the outbox keys would refuse a second copy anyway.
* :func:`pause`, :func:`resume` and :func:`cancel` move the batch with the
  outbox's group functions and record the admin's intent in ``status``.
* :func:`finish_if_done` notices when no row is left to send and copies the
  report counts into the broadcast with ``finished_at`` in one conditional
  UPDATE: exactly one caller ever sees it finish, and that caller reports.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audiences, outbox
from storage.audiences import Audience, AudienceSources
from storage.db import rows_changed
from storage.members import NotFound, Page
from storage.models import Broadcast, BroadcastStatus, Member
from storage.outbox import GroupProgress, Outgoing, Status

KIND = "broadcast"
REPORT_KIND = "broadcast_report"


class StateError(ValueError):
    """The broadcast is not in a state that allows this (``status`` says where it is)."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def group_key(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}"


def message_key(broadcast_id: int, member_id: int) -> str:
    return f"broadcast:{broadcast_id}:{member_id}"


def report_key(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}:report"


#: The language whose members get ``text_en`` when a broadcast has one.
ENGLISH = "en"


@dataclass(frozen=True)
class Content:
    """What members receive: HTML text, and optionally a photo or document by file_id.

    ``text`` is the Chinese version every member gets unless ``text_en`` is
    set and the member chose English (:meth:`for_language`); the photo or
    document is the same for both.
    """

    text: str
    formatted: bool = False
    media_kind: str | None = None
    media_file_id: str | None = None
    text_en: str | None = None

    @classmethod
    def of(cls, broadcast: Broadcast) -> Content:
        return cls(
            broadcast.text,
            broadcast.formatted,
            broadcast.media_kind,
            broadcast.media_file_id,
            broadcast.text_en,
        )

    @property
    def bilingual(self) -> bool:
        return self.text_en is not None

    def for_language(self, language: str) -> Content:
        """The one version a member of ``language`` receives (Chinese without an English one)."""
        text = self.text_en if language == ENGLISH and self.text_en is not None else self.text
        return replace(self, text=text, text_en=None)


def message_payload(content: Content) -> dict[str, Any]:
    """The Bot API call a recipient gets (the preview uses the same parameters).

    For one version: pass ``content.for_language(...)``; ``text_en`` is not read here.
    """
    if content.media_kind == "photo":
        extra = {"caption": content.text} if content.text else {}
        return outbox.payload("sendPhoto", photo=content.media_file_id, **extra)
    if content.media_kind == "document":
        extra = {"caption": content.text} if content.text else {}
        return outbox.payload("sendDocument", document=content.media_file_id, **extra)
    return outbox.payload("sendMessage", text=content.text)


# Creating and expanding --------------------------------------------------------


async def create(
    session: AsyncSession,
    *,
    content: Content,
    audience: Audience,
    admin_chat_id: int,
    now: datetime,
    scheduled_for: datetime | None = None,
    sources: AudienceSources = audiences.SOURCES,
) -> Broadcast:
    """Store a broadcast; unless scheduled, enqueue its messages in this transaction."""
    broadcast = Broadcast(
        text=content.text,
        text_en=content.text_en,
        formatted=content.formatted,
        media_kind=content.media_kind,
        media_file_id=content.media_file_id,
        audience=audience.to_json(),
        status=BroadcastStatus.SCHEDULED.value,
        admin_chat_id=admin_chat_id,
        scheduled_for=scheduled_for,
        created_at=now,
        recipients=0,
        sent=0,
        blocked=0,
        failed=0,
        cancelled=0,
    )
    session.add(broadcast)
    await session.flush()
    if scheduled_for is None:
        broadcast.status = BroadcastStatus.SENDING.value
        broadcast.started_at = now
        await expand(session, broadcast, now=now, sources=sources)
    return broadcast


async def expand(
    session: AsyncSession,
    broadcast: Broadcast,
    *,
    now: datetime,
    sources: AudienceSources = audiences.SOURCES,
) -> int:
    """Enqueue one message per member of the audience; returns how many members that is.

    Rows go in through `outbox.enqueue_many` page by page, so 100,000
    recipients never sit in memory at once; keys make a repeat a no-op. Each
    row carries its member's version: the two payloads are built once, and
    the language comes with the recipient from the same query.
    """
    content = Content.of(broadcast)
    chinese = message_payload(content.for_language(""))
    english = message_payload(content.for_language(ENGLISH)) if content.bilingual else chinese
    audience = Audience.from_json(broadcast.audience)
    total = 0
    async for page in audiences.recipients(session, audience, sources):
        total += len(page)
        await outbox.enqueue_many(
            session,
            (
                Outgoing(
                    key=message_key(broadcast.id, r.member_id),
                    kind=KIND,
                    chat_id=r.telegram_id,
                    payload=english if r.language == ENGLISH else chinese,
                    member_id=r.member_id,
                    group_key=group_key(broadcast.id),
                )
                for r in page
            ),
            now=now,
        )
    broadcast.recipients = total
    return total


async def claim_due(
    session: AsyncSession, now: datetime, *, sources: AudienceSources = audiences.SOURCES
) -> list[Broadcast]:
    """Start every scheduled broadcast whose time has come; return those this call started.

    The status change is one UPDATE … WHERE status = 'scheduled', so of two
    instances (or a job that runs twice) only one starts each broadcast.
    """
    started = list(
        await session.scalars(
            update(Broadcast)
            .where(
                Broadcast.status == BroadcastStatus.SCHEDULED.value,
                Broadcast.scheduled_for <= now,
            )
            .values(status=BroadcastStatus.SENDING.value, started_at=now)
            .returning(Broadcast.id)
            .execution_options(synchronize_session=False)
        )
    )
    found: list[Broadcast] = []
    for broadcast_id in sorted(started):
        broadcast = await _load(session, broadcast_id)
        await expand(session, broadcast, now=now, sources=sources)
        found.append(broadcast)
    return found


# The admin's controls ------------------------------------------------------------


async def _load(session: AsyncSession, broadcast_id: int) -> Broadcast:
    broadcast = await session.get(Broadcast, broadcast_id, populate_existing=True)
    if broadcast is None:
        raise NotFound(f"broadcast {broadcast_id}")
    return broadcast


async def get(session: AsyncSession, broadcast_id: int) -> Broadcast:
    return await _load(session, broadcast_id)


def _require(broadcast: Broadcast, *allowed: BroadcastStatus) -> None:
    if broadcast.finished_at is not None or broadcast.status not in {s.value for s in allowed}:
        raise StateError(broadcast.status if broadcast.finished_at is None else "finished")


async def pause(session: AsyncSession, broadcast_id: int, *, now: datetime) -> Broadcast:
    """Hold what has not gone out yet; messages being sent this instant still finish."""
    broadcast = await _load(session, broadcast_id)
    _require(broadcast, BroadcastStatus.SENDING)
    await outbox.pause_group(session, group_key(broadcast_id), now=now)
    broadcast.status = BroadcastStatus.PAUSED.value
    return broadcast


async def resume(session: AsyncSession, broadcast_id: int, *, now: datetime) -> Broadcast:
    broadcast = await _load(session, broadcast_id)
    _require(broadcast, BroadcastStatus.PAUSED)
    await outbox.resume_group(session, group_key(broadcast_id), now=now)
    broadcast.status = BroadcastStatus.SENDING.value
    return broadcast


async def cancel(session: AsyncSession, broadcast_id: int, *, now: datetime) -> Broadcast:
    """Stop it: a scheduled one never starts; a running one sends nothing more."""
    broadcast = await _load(session, broadcast_id)
    _require(broadcast, BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING, BroadcastStatus.PAUSED)
    if broadcast.status == BroadcastStatus.SCHEDULED.value:
        broadcast.finished_at = now
    else:
        await outbox.cancel_group(session, group_key(broadcast_id), now=now)
    broadcast.status = BroadcastStatus.CANCELLED.value
    return broadcast


# Progress and the report ---------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """The numbers the admin sees, live while sending and frozen in the report."""

    recipients: int
    sent: int
    blocked: int
    failed: int
    cancelled: int
    remaining: int
    eta: timedelta | None


def _from_progress(broadcast: Broadcast, progress: GroupProgress) -> Tally:
    return Tally(
        recipients=broadcast.recipients,
        sent=progress.count(Status.SENT),
        blocked=progress.count(Status.BLOCKED),
        failed=progress.count(Status.FAILED) + progress.count(Status.INVALID),
        cancelled=progress.count(Status.CANCELLED),
        remaining=progress.remaining,
        eta=progress.eta,
    )


async def tally(
    session: AsyncSession, broadcast: Broadcast, *, now: datetime, rate: float | None = None
) -> Tally:
    """Frozen counts for a finished broadcast, live ones from the outbox otherwise."""
    if broadcast.finished_at is not None or broadcast.started_at is None:
        return Tally(
            broadcast.recipients,
            broadcast.sent,
            broadcast.blocked,
            broadcast.failed,
            broadcast.cancelled,
            0,
            None,
        )
    progress = await outbox.group_progress(session, group_key(broadcast.id), now=now, rate=rate)
    return _from_progress(broadcast, progress)


async def finish_if_done(
    session: AsyncSession, broadcast_id: int, *, now: datetime, rate: float | None = None
) -> Broadcast | None:
    """Record the report if no message is left to send; the broadcast if *this* call did.

    Paused messages are not finished: a paused broadcast waits for its admin.
    """
    broadcast = await _load(session, broadcast_id)
    if broadcast.finished_at is not None or broadcast.started_at is None:
        return None
    progress = await outbox.group_progress(session, group_key(broadcast_id), now=now, rate=rate)
    if progress.remaining:
        return None
    counts = _from_progress(broadcast, progress)
    final = (
        BroadcastStatus.CANCELLED
        if broadcast.status == BroadcastStatus.CANCELLED.value
        else BroadcastStatus.DONE
    )
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.finished_at.is_(None))
        .values(
            status=final.value,
            finished_at=now,
            sent=counts.sent,
            blocked=counts.blocked,
            failed=counts.failed,
            cancelled=counts.cancelled,
        )
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        return None
    return await _load(session, broadcast_id)


async def unfinished(session: AsyncSession) -> list[int]:
    """Broadcasts whose messages are enqueued and not all final yet (the progress job's list)."""
    return list(
        await session.scalars(
            select(Broadcast.id)
            .where(
                Broadcast.status != BroadcastStatus.SCHEDULED.value,
                Broadcast.finished_at.is_(None),
            )
            .order_by(Broadcast.id)
        )
    )


async def claim_progress_turn(
    session: AsyncSession, broadcast_id: int, *, now: datetime, interval: timedelta
) -> bool:
    """Whether this caller may edit the progress message now (at most once per ``interval``).

    A conditional UPDATE, so several instances share one rate limit.
    """
    result = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            or_(Broadcast.progress_at.is_(None), Broadcast.progress_at <= now - interval),
        )
        .values(progress_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) == 1


async def claim_progress_message(session: AsyncSession, broadcast_id: int) -> bool:
    """Whether this caller should send the progress message (none exists yet).

    0 marks "being sent" so a second instance does not send another one.
    """
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.progress_message_id.is_(None))
        .values(progress_message_id=0)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) == 1


async def set_progress_message(
    session: AsyncSession, broadcast_id: int, message_id: int | None, *, now: datetime
) -> bool:
    """Record the ONE progress message the job edits; True if the broadcast had finished.

    A small broadcast can be done before its progress message is even out (the reply
    waits its turn in the admin's chat): the job then had nothing to edit, so the
    caller draws the final state. One UPDATE: it waits for a finishing transaction's
    row lock, so either the job sees this message or this sees the finish.
    """
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .values(progress_message_id=message_id, progress_at=now)
        .returning(Broadcast.finished_at)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one() is not None


async def admin_language(session: AsyncSession, broadcast: Broadcast, default: str) -> str:
    """The language of the admin who sent it (an admin from settings may not be registered)."""
    language = await session.scalar(
        select(Member.language).where(Member.telegram_id == broadcast.admin_chat_id)
    )
    return language or default


async def list_page(session: AsyncSession, page: int, per_page: int = 8) -> Page[Broadcast]:
    """Newest first: scheduled ones appear at the top of the list when just created."""
    total = await session.scalar(select(func.count(Broadcast.id))) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 0), pages - 1)
    rows = await session.scalars(
        select(Broadcast).order_by(Broadcast.id.desc()).offset(page * per_page).limit(per_page)
    )
    return Page(list(rows), total, page, per_page)
