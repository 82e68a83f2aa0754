"""What members are told about a training: requests decided, seats freed, cancellation,
completion, announcements and session reminders (rating requests:
`notices.enrolment.ask_rating`).

Called by the handlers and by `jobs.reminders` alike. Each writes outbox rows
in the caller's transaction and returns how many are new; the caller wakes
delivery after commit. Keys name the course and the event, so a notice
written twice is enqueued once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from display import trainings as show
from notices.enrolment import enqueue, members_of, message, tell, translator_for
from storage import audiences, outbox, trainings
from storage.audiences import Audience
from storage.models import Member, SignupStatus, Training, TrainingEnrolment, TrainingSession
from storage.outbox import PRIORITY_BULK, PRIORITY_REMINDER
from storage.trainings import Decision, Marked


def reminder_group(training_id: int) -> str:
    """Every session reminder of the course still to go (cancelled together)."""
    return f"trnrem:{training_id}"


async def tell_promoted(
    session: AsyncSession,
    training: Training,
    promoted: Sequence[TrainingEnrolment],
    *,
    now: datetime,
) -> int:
    """Tell each member who moved from the waitlist to a place, once per ticket."""
    people = await members_of(session, [e.member_id for e in promoted])
    tickets = {e.member_id: e.ticket for e in promoted}
    return await tell(
        session,
        people,
        key=lambda m: f"trn:{training.id}:seat:{tickets[m.id]}",
        kind="training-seat",
        text=lambda t, m: show.promoted_notice(t, training),
        markup=lambda t: show.open_keyboard(t, training.id),
        now=now,
    )


async def tell_approved(
    session: AsyncSession, training: Training, decision: Decision, *, now: datetime
) -> int:
    """The request is approved: a place, or a place on the waitlist."""
    seated = decision.enrolment.status == SignupStatus.SEATED.value
    return await tell(
        session,
        [decision.member],
        key=lambda m: f"trn:{training.id}:decided:{decision.enrolment.id}",
        kind="training-decision",
        text=lambda t, m: show.approved_notice(t, training, seated, decision.position),
        markup=lambda t: show.open_keyboard(t, training.id),
        now=now,
    )


async def tell_rejected(
    session: AsyncSession, training: Training, decision: Decision, reason: str, *, now: datetime
) -> int:
    """The request is not approved, with the cadre's reason."""
    return await tell(
        session,
        [decision.member],
        key=lambda m: f"trn:{training.id}:decided:{decision.enrolment.id}",
        kind="training-decision",
        text=lambda t, m: show.rejected_notice(t, training, reason),
        now=now,
    )


async def tell_cancelled(
    session: AsyncSession, training: Training, people: Sequence[Member], *, now: datetime
) -> int:
    """A cancellation: no session reminder goes out any more, and everyone enrolled is told."""
    await outbox.cancel_group(session, reminder_group(training.id), now=now)
    return await tell(
        session,
        people,
        key=lambda m: f"trn:{training.id}:cancelled:{m.id}",
        kind="training-cancelled",
        text=lambda t, m: show.cancelled_notice(t, training),
        now=now,
    )


async def tell_completed(session: AsyncSession, marked: Marked, *, now: datetime) -> int:
    """The mark that completed the course: congratulations, with the hours it counts."""
    history = await trainings.history(session, marked.member.id)
    hours = next((h.hours for h in history if h.training.id == marked.training.id), 0.0)
    return await tell(
        session,
        [marked.member],
        key=lambda m: f"trn:{marked.training.id}:completed:{m.id}",
        kind="training-completed",
        text=lambda t, m: show.completed_notice(t, marked.training, hours),
        now=now,
    )


async def announce(
    session: AsyncSession, training: Training, *, zone: tzinfo, now: datetime
) -> int:
    """The new course to every member, a chunk of recipients at a time."""
    meetings = await trainings.sessions_of(session, training.id)
    group = f"trn:{training.id}:announce"
    created = 0
    async for chunk in audiences.recipients(session, Audience(everyone=True)):
        items = [
            message(
                r,
                f"{group}:{r.member_id}",
                "training-announce",
                show.announcement(translator_for(r), zone, training, meetings),
                markup=show.open_keyboard(translator_for(r), training.id),
                priority=PRIORITY_BULK,
                group_key=group,
            )
            for r in chunk
        ]
        created += await enqueue(session, items, now=now)
    return created


async def remind(
    session: AsyncSession,
    training: Training,
    meeting: TrainingSession,
    people: Sequence[Member],
    offset: int,
    *,
    zone: tzinfo,
    now: datetime,
) -> int:
    """The reminder ``offset`` minutes before one session, for its current time only."""
    items = [
        message(
            m,
            f"trs:{meeting.id}:rem:{offset}:v{meeting.schedule_version}:{m.id}",
            "training-reminder",
            show.reminder_notice(translator_for(m), zone, training, meeting, offset),
            markup=show.open_keyboard(translator_for(m), training.id),
            priority=PRIORITY_REMINDER,
            group_key=reminder_group(training.id),
        )
        for m in people
    ]
    return await enqueue(session, items, now=now)
