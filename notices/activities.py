"""What members are told about an activity: seats freed, times moved, cancellations,
announcements and reminders (rating requests: `notices.enrolment.ask_rating`).

Called by the handlers (a cadre's change, a member leaving) and by
`jobs.reminders` (what is due) alike, so both word a notice the same way.
Each writes outbox rows in the caller's transaction and returns how many are
new; the caller wakes delivery after commit. Keys name the activity and the
event, so a notice written twice is enqueued once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from display import activities as show
from notices.enrolment import enqueue, members_of, message, translator_for
from storage import activities, audiences, outbox
from storage.models import Activity, ActivitySignup, Member
from storage.outbox import PRIORITY_BULK, PRIORITY_REMINDER


def reminder_group(activity: Activity) -> str:
    """The reminders planned for the activity's current times (cancelled together)."""
    return f"actrem:{activity.id}:v{activity.schedule_version}"


async def tell_promoted(
    session: AsyncSession,
    activity: Activity,
    promoted: Sequence[ActivitySignup],
    *,
    zone: tzinfo,
    now: datetime,
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
    return await enqueue(session, items, now=now)


async def tell_moved(
    session: AsyncSession, activity: Activity, old_version: int, *, zone: tzinfo, now: datetime
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
    return await enqueue(session, items, now=now)


async def tell_cancelled(
    session: AsyncSession,
    activity: Activity,
    people: Sequence[Member],
    *,
    zone: tzinfo,
    now: datetime,
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
    return await enqueue(session, items, now=now)


async def announce(
    session: AsyncSession, activity: Activity, *, zone: tzinfo, now: datetime
) -> int:
    """The new activity to its whole audience, a chunk of recipients at a time."""
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
        created += await enqueue(session, items, now=now)
    return created


async def remind(
    session: AsyncSession,
    activity: Activity,
    people: Sequence[Member],
    offset: int,
    *,
    zone: tzinfo,
    now: datetime,
) -> int:
    """The reminder ``offset`` minutes before the start, for the current times only."""
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
        for m in people
    ]
    return await enqueue(session, items, now=now)
