"""Activity and training messages: reminders, rating requests, and the notices handlers send.

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
* Outbox keys (`act:<id>:rem:<offset>:v<version>:<member>`) make the enqueue
  itself idempotent as well, and the ``group_key`` per activity and schedule
  version lets a cancellation or a move cancel reminders not yet delivered.

Notices that handlers send (a freed seat, a moved time, a cancellation, an
announcement) are built here too, so handlers and the job word them alike.
Each is written in the recipient's own language.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup

from core.i18n import Translator, translator
from display import activities as show
from display import trainings as show_training
from jobs.delivery import wake_after_commit
from storage import activities, audiences, outbox, seating
from storage import enrolment_rules as rules
from storage.db import insert_for, transaction
from storage.models import (
    Activity,
    ActivitySignup,
    Member,
    OfferingStatus,
    ReminderMark,
    SignupStatus,
    Training,
    TrainingEnrolment,
    TrainingSession,
    UTCDateTime,
)
from storage.outbox import PRIORITY_BULK, PRIORITY_NOTICE, PRIORITY_REMINDER, Outgoing

if TYPE_CHECKING:
    from core.runtime import Runtime

log = logging.getLogger(__name__)

INTERVAL = 60.0  # seconds between runs in production
FIRST_RUN = 15.0
KIND_ACTIVITY = "act"
KIND_SESSION = "trs"
KIND_RATING = "rate"
RATING_WINDOW = timedelta(days=3)  # ended activities older than this are not asked about
Target = Any  # an Application or a CallbackContext: whatever wakes the delivery worker
# Notices that change what a member should do (a seat is theirs now, an enrolment
# was decided): sent again after a crash rather than lost; a duplicate is harmless.
AT_LEAST_ONCE = frozenset({"activity-seat", "training-seat", "training-decision"})


def message(
    member: Member | audiences.Recipient,
    key: str,
    kind: str,
    text: str,
    *,
    markup: InlineKeyboardMarkup | None = None,
    priority: int = PRIORITY_NOTICE,
    group_key: str | None = None,
    photo: str | None = None,
) -> Outgoing:
    """One message to one member, as an outbox row (photo: a Telegram file id)."""
    params: dict[str, Any] = {}
    if markup is not None:
        params["reply_markup"] = markup.to_dict()
    if photo is not None:
        body = outbox.payload("sendPhoto", photo=photo, caption=text, **params)
    else:
        body = outbox.payload("sendMessage", text=text, **params)
    member_id = member.member_id if isinstance(member, audiences.Recipient) else member.id
    return Outgoing(
        key=key,
        kind=kind,
        chat_id=member.telegram_id,
        member_id=member_id,
        payload=body,
        priority=priority,
        group_key=group_key,
        at_most_once=kind not in AT_LEAST_ONCE,
    )


async def send(
    session: AsyncSession, items: Iterable[Outgoing], *, now: datetime, target: Target | None
) -> int:
    """Enqueue in the caller's transaction; wake the worker once it commits."""
    created = await outbox.enqueue_many(session, items, now=now)
    if created and target is not None:
        wake_after_commit(session, target)
    return created


def reminder_group(activity: Activity) -> str:
    return f"actrem:{activity.id}:v{activity.schedule_version}"


def translator_for(member: Member | audiences.Recipient) -> Translator:
    return translator(member.language)


async def members_of(session: AsyncSession, ids: Sequence[int]) -> list[Member]:
    if not ids:
        return []
    return list(await session.scalars(select(Member).where(Member.id.in_(list(ids)))))


# Notices for handlers ---------------------------------------------------------------------


async def tell_promoted(
    session: AsyncSession,
    activity: Activity,
    promoted: Sequence[ActivitySignup],
    *,
    zone: tzinfo,
    now: datetime,
    target: Target | None,
) -> int:
    """Tell each member who moved from the waitlist to a seat, at once and once per ticket."""
    people = {m.id: m for m in await members_of(session, [s.member_id for s in promoted])}
    items = [
        message(
            people[s.member_id],
            f"act:{activity.id}:seat:{s.ticket}",
            "activity-seat",
            show.promoted_notice(translator_for(people[s.member_id]), zone, activity),
            markup=show.open_keyboard(translator_for(people[s.member_id]), activity.id),
        )
        for s in promoted
        if s.member_id in people
    ]
    return await send(session, items, now=now, target=target)


async def tell_moved(
    session: AsyncSession,
    activity: Activity,
    old_version: int,
    *,
    zone: tzinfo,
    now: datetime,
    target: Target | None,
) -> int:
    """A new time: drop reminders planned for the old one, tell everyone signed up."""
    await outbox.cancel_group(session, f"actrem:{activity.id}:v{old_version}", now=now)
    people = await activities.participants(session, activity.id, waitlisted=True)
    items = [
        message(
            m,
            f"act:{activity.id}:moved:v{activity.schedule_version}:{m.id}",
            "activity-moved",
            show.moved_notice(translator_for(m), zone, activity),
            markup=show.open_keyboard(translator_for(m), activity.id),
        )
        for m in people
    ]
    return await send(session, items, now=now, target=target)


async def tell_cancelled(
    session: AsyncSession,
    activity: Activity,
    people: Sequence[Member],
    *,
    zone: tzinfo,
    now: datetime,
    target: Target | None,
) -> int:
    """A cancellation: nothing planned goes out any more, and everyone signed up is told."""
    await outbox.cancel_group(session, reminder_group(activity), now=now)
    items = [
        message(
            m,
            f"act:{activity.id}:cancelled:{m.id}",
            "activity-cancelled",
            show.cancelled_notice(translator_for(m), zone, activity),
        )
        for m in people
    ]
    return await send(session, items, now=now, target=target)


async def announce(
    session: AsyncSession, activity: Activity, *, zone: tzinfo, now: datetime, target: Target | None
) -> int:
    """The new activity to its whole audience, as one batch."""
    created = 0
    group = f"act:{activity.id}:announce"
    async for chunk in audiences.recipients(session, activities.audience_of(activity)):
        items = []
        for r in chunk:
            t = translator_for(r)
            photo = activity.photo_file_id
            text = (
                show.announcement_caption(t, zone, activity)
                if photo
                else show.announcement(t, zone, activity)
            )
            items.append(
                message(
                    r,
                    f"{group}:{r.member_id}",
                    "activity-announce",
                    text,
                    markup=show.open_keyboard(t, activity.id),
                    priority=PRIORITY_BULK,
                    group_key=group,
                    photo=photo,
                )
            )
        created += await send(session, items, now=now, target=target)
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
            items = [
                message(
                    m,
                    f"act:{activity.id}:rem:{offset}:v{activity.schedule_version}:{m.id}",
                    "activity-reminder",
                    show.reminder_notice(translator_for(m), zone, activity, offset),
                    markup=show.open_keyboard(translator_for(m), activity.id),
                    priority=PRIORITY_REMINDER,
                    group_key=reminder_group(activity),
                )
                for m in await members_of(session, ids)
            ]
            sent += await send(session, items, now=now, target=target)
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
            items = [
                message(
                    m,
                    f"trs:{meeting.id}:rem:{offset}:v{meeting.schedule_version}:{m.id}",
                    "training-reminder",
                    show_training.reminder_notice(
                        translator_for(m), zone, training, meeting, offset
                    ),
                    markup=show_training.open_keyboard(translator_for(m), training.id),
                    priority=PRIORITY_REMINDER,
                    group_key=f"trnrem:{training.id}",
                )
                for m in await members_of(session, ids)
            ]
            sent += await send(session, items, now=now, target=target)
    return sent


async def _rating_requests(runtime: Runtime, now: datetime, target: Target | None) -> int:
    async with transaction(runtime.sessions) as session:
        ended = list(
            await session.scalars(
                select(Activity.id).where(
                    Activity.status == OfferingStatus.PUBLISHED.value,
                    Activity.ends_at <= now,
                    Activity.ends_at > now - RATING_WINDOW,
                )
            )
        )
    sent = 0
    for activity_id in ended:
        async with transaction(runtime.sessions) as session:
            activity = await activities.get(session, activity_id)
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
            ids = await _mark(session, KIND_RATING, activity_id, 0, 0, now, who)
            items = [
                message(
                    m,
                    f"act:{activity_id}:rate:{m.id}",
                    "activity-rating",
                    show.rating_request(translator_for(m), activity),
                    markup=show.rating_keyboard(activity_id),
                    priority=PRIORITY_BULK,
                )
                for m in await members_of(session, ids)
            ]
            sent += await send(session, items, now=now, target=target)
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
                await tell_promoted(
                    session, activity, promoted, zone=runtime.settings.tz, now=now, target=target
                )
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
    if application.job_queue is None:
        log.warning("no JobQueue: activity reminders are not scheduled")
        return
    application.job_queue.run_repeating(
        scheduled, interval=INTERVAL, first=FIRST_RUN, name="activity-reminders"
    )


async def tell(
    session: AsyncSession,
    people: Sequence[Member],
    *,
    key: Callable[[Member], str],
    kind: str,
    text: Callable[[Translator, Member], str],
    markup: Callable[[Translator], InlineKeyboardMarkup | None] | None = None,
    now: datetime,
    target: Target | None,
    priority: int = PRIORITY_NOTICE,
) -> int:
    """One notice per member, each in their language (trainings' approvals, seats, completion)."""
    items = []
    for person in people:
        t = translator_for(person)
        items.append(
            message(
                person,
                key(person),
                kind,
                text(t, person),
                markup=markup(t) if markup is not None else None,
                priority=priority,
            )
        )
    return await send(session, items, now=now, target=target)
