"""Activity and training reminders and rating requests: the scheduled job.

:func:`run_due` is the scheduled job (PTB's JobQueue wakes it every minute,
tests call it with their clock). The database decides what is due, so the job
may run late, twice, or on two instances at once and still send each reminder
once:

* For a due reminder (`storage.enrolment_rules.due_offset`) the job locks the
  activity (or course) row, so a cancellation or a time change either comes
  before it (then nothing is planned for the old time) or after it (then it
  cancels what was planned), and inserts one :class:`ReminderMark` per member
  with ON CONFLICT DO NOTHING … RETURNING. Only the rows it inserted get a
  message, in the same transaction; another instance inserting the same marks
  waits for the first to commit and then inserts nothing.
* Rating requests follow the same marks: after an activity ended, and after
  a training session ended (once per course, to those marked present), from
  08:00 to 21:00 local (`storage.enrolment_rules.rating_hour`).
* Outbox keys (`act:<id>:rem:<offset>:v<version>:<member>`) make the enqueue
  itself idempotent as well, and the ``group_key`` per activity and schedule
  version lets a cancellation or a move cancel reminders not yet delivered.

The messages themselves are `notices.activities` and `notices.trainings`,
which the handlers use too, so a job and a handler word them alike; this
module decides only what is due and wakes delivery once it is committed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from display import callbacks as cb
from jobs.cadence import repeat
from jobs.delivery import wake_after_commit
from notices import activities as activity_notices
from notices import enrolment as enrolment_notices
from notices import trainings as training_notices
from notices.enrolment import members_of
from storage import activities, seating, trainings
from storage import enrolment_rules as rules
from storage.db import insert_for, transaction
from storage.models import (
    Activity,
    ActivitySignup,
    OfferingStatus,
    ReminderMark,
    SignupStatus,
    Training,
    TrainingEnrolment,
    TrainingSession,
    UTCDateTime,
)

if TYPE_CHECKING:
    from core.runtime import Runtime

log = logging.getLogger(__name__)

INTERVAL = 60.0  # seconds between runs in production
FIRST_RUN = 15.0
KIND_ACTIVITY = "act"
KIND_SESSION = "trs"
KIND_RATING = "rate"
KIND_TRAINING_RATING = "trate"
RATING_WINDOW = timedelta(days=3)  # what ended longer ago than this is not asked about
Target = Any  # an Application or a CallbackContext: whatever wakes the delivery worker


def _woken(session: AsyncSession, target: Target | None, created: int) -> int:
    """Wake the delivery worker once ``session`` commits, when notices were written."""
    if created and target is not None:
        wake_after_commit(session, target)
    return created


# The job ---------------------------------------------------------------------------------------


async def _mark(
    session: AsyncSession,
    kind: str,
    target_id: int,
    offset: int,
    version: int,
    now: datetime,
    member_ids: Any,
) -> list[int]:
    """Insert the marks not yet there; return the members whose mark this call inserted."""
    insert = insert_for(session)
    source = member_ids.with_only_columns(
        literal(kind),
        literal(target_id),
        member_ids.selected_columns[0],
        literal(offset),
        literal(version),
        literal(now, UTCDateTime()),
    )
    statement = (
        insert(ReminderMark)
        .from_select(
            ["kind", "target_id", "member_id", "offset_minutes", "version", "created_at"], source
        )
        .on_conflict_do_nothing()
        .returning(ReminderMark.member_id)
    )
    return list(await session.scalars(statement))


async def _activity_reminders(
    runtime: Runtime, now: datetime, offsets: Sequence[int], target: Target | None
) -> int:
    zone = runtime.settings.tz
    horizon = now + timedelta(minutes=max(offsets))
    async with transaction(runtime.sessions) as session:
        due = list(
            await session.execute(
                select(Activity.id, Activity.starts_at).where(
                    Activity.status == OfferingStatus.PUBLISHED.value,
                    Activity.starts_at > now,
                    Activity.starts_at <= horizon,
                )
            )
        )
    sent = 0
    for activity_id, starts_at in due:
        offset = rules.due_offset(starts_at, offsets, now)
        if offset is None:
            continue
        async with transaction(runtime.sessions) as session:
            locked = await seating.lock(
                session,
                seating.ACTIVITIES,
                activity_id,
                where=(Activity.status == OfferingStatus.PUBLISHED.value,),
            )
            if locked is None:
                continue
            activity = await activities.get(session, activity_id)
            offset = rules.due_offset(activity.starts_at, offsets, now)
            if offset is None:
                continue
            ids = await _mark(
                session,
                KIND_ACTIVITY,
                activity.id,
                offset,
                activity.schedule_version,
                now,
                select(ActivitySignup.member_id).where(
                    ActivitySignup.activity_id == activity.id,
                    ActivitySignup.status == SignupStatus.SEATED.value,
                    ActivitySignup.seated_at < rules.reminder_cutoff(activity.starts_at, offset),
                ),
            )
            told = await activity_notices.remind(
                session,
                activity,
                await members_of(session, ids),
                offset,
                zone=zone,
                now=now,
            )
            sent += _woken(session, target, told)
    return sent


async def _session_reminders(
    runtime: Runtime, now: datetime, offsets: Sequence[int], target: Target | None
) -> int:
    zone = runtime.settings.tz
    horizon = now + timedelta(minutes=max(offsets))
    async with transaction(runtime.sessions) as session:
        due = list(
            await session.execute(
                select(TrainingSession.id, TrainingSession.training_id, TrainingSession.starts_at)
                .join(Training, Training.id == TrainingSession.training_id)
                .where(
                    Training.status == OfferingStatus.PUBLISHED.value,
                    TrainingSession.starts_at > now,
                    TrainingSession.starts_at <= horizon,
                )
            )
        )
    sent = 0
    for session_id, training_id, starts_at in due:
        offset = rules.due_offset(starts_at, offsets, now)
        if offset is None:
            continue
        async with transaction(runtime.sessions) as session:
            locked = await seating.lock(
                session,
                seating.TRAININGS,
                training_id,
                where=(Training.status == OfferingStatus.PUBLISHED.value,),
            )
            meeting = await session.get(TrainingSession, session_id, populate_existing=True)
            if locked is None or meeting is None:
                continue
            offset = rules.due_offset(meeting.starts_at, offsets, now)
            if offset is None:
                continue
            training = await session.get(Training, training_id)
            assert training is not None
            ids = await _mark(
                session,
                KIND_SESSION,
                meeting.id,
                offset,
                meeting.schedule_version,
                now,
                select(TrainingEnrolment.member_id).where(
                    TrainingEnrolment.training_id == training_id,
                    TrainingEnrolment.status == SignupStatus.SEATED.value,
                    TrainingEnrolment.seated_at < rules.reminder_cutoff(meeting.starts_at, offset),
                ),
            )
            told = await training_notices.remind(
                session,
                training,
                meeting,
                await members_of(session, ids),
                offset,
                zone=zone,
                now=now,
            )
            sent += _woken(session, target, told)
    return sent


@dataclass(frozen=True)
class _Ratings:
    """Who is asked to rate what: activities and trainings go through the same steps.

    ``ended`` selects (item, target, title) rows: the item ended lately (an
    activity, a training session), the target is what is rated and marked (the
    activity, the course), so a course is asked about once whatever its sessions.
    ``prefix`` starts the outbox keys, ``notice`` is the outbox kind.
    """

    mark: str
    prefix: str
    notice: str
    stars: cb.CallbackAction[Any]
    ended: Callable[[datetime], Select[int, int, str]]
    who: Callable[[AsyncSession, int], Awaitable[Select[int]]]


def _ended_activities(now: datetime) -> Select[int, int, str]:
    return select(Activity.id, Activity.id, Activity.title).where(
        Activity.status == OfferingStatus.PUBLISHED.value,
        Activity.ends_at <= now,
        Activity.ends_at > now - RATING_WINDOW,
    )


async def _activity_raters(session: AsyncSession, activity_id: int) -> Select[int]:
    seated = (
        ActivitySignup.activity_id == activity_id,
        ActivitySignup.status == SignupStatus.SEATED.value,
    )
    # When check-in was used, only those who came are asked.
    someone_came = await session.scalar(
        select(exists().where(*seated, ActivitySignup.checked_in_at.is_not(None)))
    )
    who = select(ActivitySignup.member_id).where(*seated)
    if someone_came:
        who = who.where(ActivitySignup.checked_in_at.is_not(None))
    return who


def _ended_sessions(now: datetime) -> Select[int, int, str]:
    return (
        select(TrainingSession.id, TrainingSession.training_id, Training.title)
        .join(Training, Training.id == TrainingSession.training_id)
        .where(
            Training.status == OfferingStatus.PUBLISHED.value,
            TrainingSession.ends_at <= now,
            TrainingSession.ends_at > now - RATING_WINDOW,
        )
    )


async def _session_raters(session: AsyncSession, session_id: int) -> Select[int]:
    return trainings.attendees(session_id)  # only those marked present


RATINGS = (
    _Ratings(
        KIND_RATING, "act", "activity-rating", cb.ACT_RATE, _ended_activities, _activity_raters
    ),
    _Ratings(
        KIND_TRAINING_RATING,
        "trn",
        "training-rating",
        cb.TRN_RATE,
        _ended_sessions,
        _session_raters,
    ),
)


async def _rating_requests(runtime: Runtime, now: datetime, target: Target | None) -> int:
    """Ask who took part, once, from a decent hour: the database's marks say who was asked."""
    if not rules.rating_hour(now, runtime.settings.tz):
        return 0  # what ended at night is asked in the morning (within RATING_WINDOW)
    sent = 0
    for ratings in RATINGS:
        async with transaction(runtime.sessions) as session:
            ended = list(await session.execute(ratings.ended(now)))
        for item_id, target_id, title in ended:
            async with transaction(runtime.sessions) as session:
                who = await ratings.who(session, item_id)
                ids = await _mark(session, ratings.mark, target_id, 0, 0, now, who)
                told = await enrolment_notices.ask_rating(
                    session,
                    await members_of(session, ids),
                    key=f"{ratings.prefix}:{target_id}:rate",
                    kind=ratings.notice,
                    title=title,
                    stars=ratings.stars,
                    parent_id=target_id,
                    now=now,
                )
                sent += _woken(session, target, told)
    return sent


async def _reconcile(runtime: Runtime, now: datetime, target: Target | None) -> int:
    """Seats freed behind the services' back (a member used /forget) go to the waitlist."""
    async with transaction(runtime.sessions) as session:
        stale = await activities.out_of_step(session, now)
    moved = 0
    for activity_id in stale:
        async with transaction(runtime.sessions) as session:
            promoted = await activities.reconcile(session, activity_id, now)
            if promoted:
                activity = await activities.get(session, activity_id)
                told = await activity_notices.tell_promoted(
                    session, activity, promoted, zone=runtime.settings.tz, now=now
                )
                _woken(session, target, told)
            moved += len(promoted)
    return moved


async def run_due(runtime: Runtime, now: datetime, *, target: Target | None = None) -> Counter[str]:
    """Everything due at ``now``: reminders, rating requests, seats freed by /forget."""
    offsets = runtime.settings.reminder_offsets
    done: Counter[str] = Counter()
    done["activity_reminders"] = await _activity_reminders(runtime, now, offsets, target)
    done["session_reminders"] = await _session_reminders(runtime, now, offsets, target)
    done["rating_requests"] = await _rating_requests(runtime, now, target)
    done["promotions"] = await _reconcile(runtime, now, target)
    if any(done.values()):
        log.info("activity jobs: %s", dict(+done))
    return done


async def scheduled(context: Any) -> None:
    """The JobQueue callback: one run at the runtime's notion of now."""
    from core.runtime import runtime_of

    runtime = runtime_of(context)
    await run_due(runtime, runtime.now(), target=context.application)


def schedule(application: Any) -> None:
    """Wake :func:`run_due` every minute (the database says what is due)."""
    repeat(application, scheduled, every=INTERVAL, first=FIRST_RUN, name="activity-reminders")
