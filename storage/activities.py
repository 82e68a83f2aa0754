"""Activity services: create, publish, browse, sign up, waitlist, check-in, ratings.

Plain functions over an `AsyncSession`; they know nothing of Telegram. Seats
and the waitlist go through `storage.seating` (the database's locks decide,
see there), the rules through `storage.enrolment_rules`. Who may see and join
an activity is its audience (`storage.audiences`); this module registers
"participants of activity X" as an audience source so broadcasts and polls
can target them.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import dates, drafts
from core.i18n import N_
from storage import audiences, offerings, ratings, seating
from storage import enrolment_rules as rules
from storage.audiences import Audience, AudienceSource
from storage.enrolment_rules import Refusal
from storage.members import NotFound, Page
from storage.models import (
    Activity,
    ActivityRating,
    ActivitySignup,
    Department,
    Member,
    OfferingStatus,
    SignupStatus,
    utcnow,
)
from storage.offerings import Incomplete, Refused

BOOK = seating.ACTIVITIES
PER_PAGE = 6
LISTED_AT_MOST = 300  # upcoming activities considered for one member's list
RECENT = timedelta(days=60)  # how long ended activities stay in the cadres' list


@dataclass
class Draft:
    """A whole activity as :func:`create` takes it (the editor builds one from its answers)."""

    title: str = ""
    description: str = ""
    photo_file_id: str | None = None
    place: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    signup_deadline: datetime | None = None
    capacity: int | None = None
    guests_allowed: bool = False
    audience: Audience = field(default_factory=lambda: Audience(everyone=True))


class EditField(enum.StrEnum):
    """What one ✏️ button of the cadre panel changes; the value travels in the button."""

    TITLE = "title"
    DESCRIPTION = "desc"
    PHOTO = "photo"
    PLACE = "place"
    TIME = "time"
    CAPACITY = "cap"
    GUESTS = "guests"
    AUDIENCE = "aud"


# The plain details an edit writes straight into their column: nothing else moves.
DETAIL_COLUMNS: dict[EditField, str] = {
    EditField.TITLE: "title",
    EditField.DESCRIPTION: "description",
    EditField.PHOTO: "photo_file_id",
    EditField.PLACE: "place",
    EditField.GUESTS: "guests_allowed",
    EditField.AUDIENCE: "audience",
}


@drafts.draft("activity")
@dataclass
class ActivityDraft:
    """A cadre's answers so far, kept between the editor's steps (`core.drafts`).

    Creating, every answer is asked in turn; editing (``activity`` set) only the
    one ``edited`` names. The setters apply the schedule rules and raise
    `ScheduleRefused` rather than keep a time that cannot hold, so the editor
    asks and words, and never decides. Field names are those of :class:`Draft`
    (and of the columns); the audience is kept as its JSON, the form it is
    stored in.
    """

    activity: int | None = None
    edited: EditField | None = None
    title: str = ""
    description: str = ""
    photo_file_id: str | None = None
    place: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    signup_deadline: datetime | None = None
    capacity: int | None = None
    guests_allowed: bool = False
    audience: dict[str, Any] = field(default_factory=lambda: Audience(everyone=True).to_json())
    tags: list[str] = field(default_factory=list)  # the picker's tag buttons, by index

    def __post_init__(self) -> None:
        if self.edited is not None:
            self.edited = EditField(self.edited)  # the store gives back its plain value

    @property
    def editing(self) -> bool:
        return self.activity is not None

    def set_start(self, start: datetime, now: datetime) -> None:
        rules.require(rules.check_start(start, now))
        self.starts_at = start

    def set_end(self, end: datetime) -> None:
        if self.starts_at is None:
            raise Incomplete("start")
        rules.require(rules.check_end(self.starts_at, end))
        self.ends_at = end

    def set_deadline(self, deadline: datetime, now: datetime) -> None:
        """The last of the three times: the whole schedule must hold together."""
        if self.starts_at is None or self.ends_at is None:
            raise Incomplete("start")
        rules.require(rules.check_schedule(self.starts_at, self.ends_at, deadline, now))
        self.signup_deadline = deadline

    def value(self) -> Draft:
        """The activity these answers describe; Incomplete when one is missing."""
        if not self.title or self.starts_at is None or self.ends_at is None:
            raise Incomplete("title")
        if self.signup_deadline is None:
            raise Incomplete("deadline")
        return Draft(
            title=self.title,
            description=self.description,
            photo_file_id=self.photo_file_id,
            place=self.place,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            signup_deadline=self.signup_deadline,
            capacity=self.capacity,
            guests_allowed=self.guests_allowed,
            audience=Audience.from_json(self.audience),
        )


@dataclass(frozen=True)
class Placement:
    """Where a member stands after signing up."""

    signup: ActivitySignup
    position: int | None  # on the waitlist, 1-based
    already: bool  # they had signed up before
    promoted: list[ActivitySignup]  # others seated by the same change (rare)

    @property
    def seated(self) -> bool:
        return self.signup.status == SignupStatus.SEATED.value


@dataclass(frozen=True)
class RosterLine:
    signup_id: int
    member_id: int
    name: str
    department: str
    signed_up_at: datetime
    status: str
    position: int | None
    guests: int
    checked_in_at: datetime | None


def _activity_signups(rows: list[seating.Signup]) -> list[ActivitySignup]:
    return [row for row in rows if isinstance(row, ActivitySignup)]


def new_checkin_code() -> str:
    return f"{secrets.randbelow(10_000):04d}"


# Reading -------------------------------------------------------------------------


async def get(session: AsyncSession, activity_id: int) -> Activity:
    """The activity as the database has it now (never a stale copy from this session)."""
    activity: Activity = await offerings.get(session, BOOK, activity_id, "activity")
    return activity


def audience_of(activity: Activity) -> Audience:
    return Audience.from_json(activity.audience)


async def includes(session: AsyncSession, audience: Audience, member_id: int) -> bool:
    """Whether the member is in the audience (one query; everyone is a shortcut)."""
    if audience.everyone:
        return True
    query = audiences.member_ids_query(audience)
    if query is None:
        return False
    return bool(await session.scalar(select(exists(query.where(Member.id == member_id)))))


async def may_see(session: AsyncSession, activity: Activity, member: Member, cadre: bool) -> bool:
    """Cadres see every activity; members only published ones their audience includes."""
    if cadre:
        return True
    if activity.status == OfferingStatus.DRAFT.value:
        return False
    return await includes(session, audience_of(activity), member.id)


async def upcoming_for(
    session: AsyncSession, member: Member, now: datetime, page: int, per_page: int = PER_PAGE
) -> Page[Activity]:
    """Published activities not yet over whose audience includes the member, soonest first.

    The audience decides who sees what, so every candidate is looked at; only
    its id and audience are read for that, and whole rows for the page shown.
    A union with hundreds of upcoming activities otherwise loaded them all
    (`benchmarks/scale.py`: the list took 6× the main menu's time).
    """
    candidates = await session.execute(
        select(Activity.id, Activity.audience)
        .where(Activity.status == OfferingStatus.PUBLISHED.value, Activity.ends_at > now)
        .order_by(Activity.starts_at, Activity.id)
        .limit(LISTED_AT_MOST)
    )
    visible: list[int] = []
    verdicts: dict[str, bool] = {}
    for activity_id, stored in candidates:
        audience = Audience.from_json(stored)
        key = repr(audience.to_json())
        if key not in verdicts:
            verdicts[key] = await includes(session, audience, member.id)
        if verdicts[key]:
            visible.append(activity_id)
    shown = offerings.page_of(visible, page, per_page)
    rows = {
        a.id: a for a in await session.scalars(select(Activity).where(Activity.id.in_(shown.items)))
    }
    return Page([rows[i] for i in shown.items if i in rows], shown.total, shown.page, per_page)


async def for_cadres(
    session: AsyncSession, now: datetime, page: int, per_page: int = PER_PAGE
) -> Page[Activity]:
    """Drafts, upcoming and recently ended activities (cancelled ones too), soonest first."""
    found = list(
        await session.scalars(
            select(Activity)
            .where(Activity.ends_at > now - RECENT)
            .order_by(Activity.starts_at.desc(), Activity.id.desc())
            .limit(LISTED_AT_MOST)
        )
    )
    return offerings.page_of(found, page, per_page)


async def signup_of(
    session: AsyncSession, activity_id: int, member_id: int
) -> tuple[ActivitySignup | None, int | None]:
    """The member's sign-up and, when waitlisted, their position."""
    return await offerings.standing(session, BOOK, activity_id, member_id)


async def waiting(session: AsyncSession, activity_id: int) -> int:
    return await offerings.count_with_status(session, BOOK, activity_id, SignupStatus.WAITLISTED)


# Cadres: create, edit, publish, cancel -------------------------------------------------


async def create(
    session: AsyncSession, draft: Draft, *, created_by: int | None, now: datetime
) -> Activity:
    """A new activity, a draft only cadres see. Raises Incomplete or ScheduleRefused."""
    if not draft.title or not (draft.starts_at and draft.ends_at and draft.signup_deadline):
        raise Incomplete("title")
    rules.require(rules.check_schedule(draft.starts_at, draft.ends_at, draft.signup_deadline, now))
    activity = Activity(
        title=draft.title,
        description=draft.description,
        photo_file_id=draft.photo_file_id,
        place=draft.place,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        signup_deadline=draft.signup_deadline,
        capacity=draft.capacity,
        seats_taken=0,
        tickets=0,
        guests_allowed=draft.guests_allowed,
        audience=draft.audience.to_json(),
        status=OfferingStatus.DRAFT.value,
        checkin_code=new_checkin_code(),
        schedule_version=1,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(activity)
    await session.flush()
    return activity


async def publish(session: AsyncSession, activity_id: int, now: datetime) -> bool:
    """Draft → published, once: True only for the call that published it."""
    return await offerings.publish(session, BOOK, activity_id, now)


async def update_details(
    session: AsyncSession, activity_id: int, now: datetime, **values: Any
) -> Activity:
    """Title, description, photo, place, guests or audience: nothing that moves seats."""
    allowed = {"title", "description", "photo_file_id", "place", "guests_allowed", "audience"}
    if not set(values) <= allowed:
        raise ValueError(f"not a detail: {set(values) - allowed}")
    if "audience" in values and isinstance(values["audience"], Audience):
        values["audience"] = values["audience"].to_json()
    activity = await get(session, activity_id)
    for name, value in values.items():
        setattr(activity, name, value)
    activity.updated_at = now
    await session.flush()
    return activity


@dataclass(frozen=True)
class Rescheduled:
    activity: Activity
    moved: bool  # the start or end changed: reminders are planned anew
    old_version: int


async def reschedule(
    session: AsyncSession,
    activity_id: int,
    *,
    starts_at: datetime,
    ends_at: datetime,
    signup_deadline: datetime,
    now: datetime,
) -> Rescheduled:
    """New times; a changed start or end bumps ``schedule_version`` (reminders re-planned).

    Raises Refused (cancelled) or ScheduleRefused.
    """
    activity = await get(session, activity_id)
    if activity.status == OfferingStatus.CANCELLED.value:
        raise Refused(Refusal.CANCELLED)
    rules.require(rules.check_schedule(starts_at, ends_at, signup_deadline, now))
    old = activity.schedule_version
    moved = (activity.starts_at, activity.ends_at) != (starts_at, ends_at)
    activity.starts_at, activity.ends_at = starts_at, ends_at
    activity.signup_deadline = signup_deadline
    if moved:
        activity.schedule_version = old + 1
    activity.updated_at = now
    await session.flush()
    return Rescheduled(activity, moved, old)


async def set_capacity(
    session: AsyncSession, activity_id: int, capacity: int | None, now: datetime
) -> list[ActivitySignup]:
    """Change the seats (None: unlimited); a raise seats the waitlist's head. Returns who moved.

    Refused ("below_taken") when fewer seats than are already taken.
    """
    locked = await seating.lock(session, BOOK, activity_id)
    if locked is None:
        raise NotFound(f"activity {activity_id}")
    taken = await seating.seated_seats(session, BOOK, activity_id)
    if capacity is not None and capacity < taken:
        raise Refused("below_taken")
    await session.execute(
        update(Activity)
        .where(Activity.id == activity_id)
        .values(capacity=capacity, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if locked.status != OfferingStatus.PUBLISHED.value:
        return []
    changed = seating.Locked(locked.id, locked.status, capacity, locked.tickets)
    return _activity_signups(await seating.promote(session, BOOK, changed, now))


async def start_edit(session: AsyncSession, activity_id: int, edited: str) -> ActivityDraft:
    """The draft for changing one field; Refused when there is no such field or it cannot change.

    A cancelled activity keeps its details; NotFound when it is gone.
    """
    try:
        what = EditField(edited)
    except ValueError:
        raise Refused("no_such_field") from None
    activity = await get(session, activity_id)
    if activity.status == OfferingStatus.CANCELLED.value:
        raise Refused(Refusal.CANCELLED)
    return ActivityDraft(activity=activity.id, edited=what, audience=dict(activity.audience))


@dataclass(frozen=True)
class Edited:
    """An edit saved, and what it changed for others."""

    activity: Activity
    moved_from: int | None  # the schedule version before a new time: reminders planned anew
    promoted: list[ActivitySignup]  # seated from the waitlist by more seats


async def apply_edit(session: AsyncSession, draft: ActivityDraft, now: datetime) -> Edited:
    """Save the one field ``draft`` edits.

    Raises ScheduleRefused (the new times), Refused (cancelled meanwhile, or
    "below_taken": fewer seats than are taken) or Incomplete.
    """
    if draft.activity is None or draft.edited is None:
        raise Incomplete("edit")
    if draft.edited is EditField.TIME:
        if draft.starts_at is None or draft.ends_at is None or draft.signup_deadline is None:
            raise Incomplete("time")
        changed = await reschedule(
            session,
            draft.activity,
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
            signup_deadline=draft.signup_deadline,
            now=now,
        )
        return Edited(changed.activity, changed.old_version if changed.moved else None, [])
    if draft.edited is EditField.CAPACITY:
        promoted = await set_capacity(session, draft.activity, draft.capacity, now)
        return Edited(await get(session, draft.activity), None, promoted)
    column = DETAIL_COLUMNS[draft.edited]
    activity = await update_details(
        session, draft.activity, now, **{column: getattr(draft, column)}
    )
    return Edited(activity, None, [])


async def cancel(session: AsyncSession, activity_id: int, now: datetime) -> list[Member]:
    """Cancel it; returns the members to tell (seated and waitlisted). Once only."""
    if not await offerings.mark_cancelled(session, BOOK, activity_id, now):
        return []
    return await participants(session, activity_id, waitlisted=True)


async def participants(
    session: AsyncSession, activity_id: int, *, waitlisted: bool = False
) -> list[Member]:
    """Seated members (and, if asked, the waitlisted), by ticket."""
    statuses = [SignupStatus.SEATED.value]
    if waitlisted:
        statuses.append(SignupStatus.WAITLISTED.value)
    return await offerings.members_where(
        session, BOOK, activity_id, ActivitySignup.status.in_(statuses)
    )


# Members: sign up and cancel ------------------------------------------------------------


async def sign_up(
    session: AsyncSession, activity_id: int, member: Member, *, guests: int, now: datetime
) -> Placement:
    """Take a seat, or a place on the waitlist when full. Raises Refused."""
    try:
        activity = await get(session, activity_id)
    except NotFound:
        raise Refused(Refusal.NOT_FOUND) from None
    refusal = rules.signup_refusal(
        activity.status,
        activity.signup_deadline,
        now,
        guests=guests,
        guests_allowed=activity.guests_allowed,
    )
    if refusal is not None:
        raise Refused(refusal)
    if not await includes(session, audience_of(activity), member.id):
        raise Refused(Refusal.NOT_FOR_YOU)
    existing, position = await signup_of(session, activity_id, member.id)
    if existing is not None:
        return Placement(existing, position, already=True, promoted=[])
    locked = await offerings.lock_for_signup(session, BOOK, activity_id, "activity", now)
    # A double tap that lost the race: the first tap's row is committed by now.
    existing, position = await signup_of(session, activity_id, member.id)
    if existing is not None:
        return Placement(existing, position, already=True, promoted=[])
    signup = await seating.join(session, BOOK, locked, member.id, seats=1 + guests, now=now)
    promoted = await seating.promote(session, BOOK, locked, now)
    assert isinstance(signup, ActivitySignup)
    others = [s for s in _activity_signups(promoted) if s.id != signup.id]
    return Placement(
        signup, await seating.position(session, BOOK, signup), already=False, promoted=others
    )


async def cancel_signup(
    session: AsyncSession, activity_id: int, member_id: int, now: datetime
) -> list[ActivitySignup]:
    """Give up a seat or a waitlist place; returns who moved up into freed seats."""
    try:
        activity = await get(session, activity_id)
    except NotFound:
        raise Refused(Refusal.NOT_FOUND) from None
    if activity.status == OfferingStatus.PUBLISHED.value and now >= activity.starts_at:
        raise Refused(Refusal.STARTED)
    return _activity_signups(await offerings.give_up(session, BOOK, activity_id, member_id, now))


async def reconcile(session: AsyncSession, activity_id: int, now: datetime) -> list[ActivitySignup]:
    """Recount under the lock and seat whoever fits (after /forget freed seats behind our back)."""
    locked = await seating.lock(session, BOOK, activity_id)
    if locked is None or locked.status != OfferingStatus.PUBLISHED.value:
        return []
    return _activity_signups(await seating.promote(session, BOOK, locked, now))


async def out_of_step(session: AsyncSession, now: datetime) -> list[int]:
    """Upcoming activities whose seat count no longer matches the sign-ups (members forgot)."""
    seated = (
        select(func.coalesce(func.sum(ActivitySignup.seats), 0))
        .where(
            ActivitySignup.activity_id == Activity.id,
            ActivitySignup.status == SignupStatus.SEATED.value,
        )
        .scalar_subquery()
    )
    rows = await session.scalars(
        select(Activity.id).where(
            Activity.status == OfferingStatus.PUBLISHED.value,
            Activity.starts_at > now,
            Activity.seats_taken != seated,
        )
    )
    return list(rows)


# Check-in -------------------------------------------------------------------------------


async def roster(session: AsyncSession, activity_id: int) -> list[RosterLine]:
    """Everyone signed up: seated first, then the waitlist, each in ticket order."""
    positions = await seating.waitlist_positions(session, BOOK, activity_id)
    rows = await session.execute(
        select(ActivitySignup, Member.name, Department.name)
        .join(Member, Member.id == ActivitySignup.member_id)
        .outerjoin(Department, Department.id == Member.department_id)
        .where(
            ActivitySignup.activity_id == activity_id,
            ActivitySignup.status.in_([SignupStatus.SEATED.value, SignupStatus.WAITLISTED.value]),
        )
        .order_by(
            (ActivitySignup.status == SignupStatus.WAITLISTED.value).asc(), ActivitySignup.ticket
        )
    )
    return [
        RosterLine(
            signup_id=signup.id,
            member_id=signup.member_id,
            name=name,
            department=department or "",
            signed_up_at=signup.created_at,
            status=signup.status,
            position=positions.get(signup.id),
            guests=signup.seats - 1,
            checked_in_at=signup.checked_in_at,
        )
        for signup, name, department in rows
    ]


async def toggle_attendance(
    session: AsyncSession, activity_id: int, signup_id: int, now: datetime
) -> ActivitySignup:
    """A cadre marks a seated member present, or takes the mark back."""
    signup = await session.scalar(
        select(ActivitySignup)
        .where(ActivitySignup.id == signup_id, ActivitySignup.activity_id == activity_id)
        .execution_options(populate_existing=True)
    )
    if signup is None or signup.status != SignupStatus.SEATED.value:
        raise Refused("not_seated")
    signup.checked_in_at = None if signup.checked_in_at else now
    await session.flush()
    return signup


async def check_in_with_code(
    session: AsyncSession, activity_id: int, member_id: int, code: str, now: datetime
) -> ActivitySignup:
    """A seated member checks in with the code shown at the venue. Raises Refused.

    Reasons: not_seated, not_open, attempts (too many wrong codes), wrong_code.
    """
    activity = await get(session, activity_id)
    signup = await seating.find(session, BOOK, activity_id, member_id)
    if signup is None or signup.status != SignupStatus.SEATED.value:
        raise Refused("not_seated")
    assert isinstance(signup, ActivitySignup)
    if signup.checked_in_at is not None:
        return signup
    if activity.status != OfferingStatus.PUBLISHED.value or not rules.checkin_open(
        activity.starts_at, activity.ends_at, now
    ):
        raise Refused("not_open")
    if signup.checkin_attempts >= rules.CHECKIN_ATTEMPTS:
        raise Refused("attempts")
    if code.strip() != activity.checkin_code:
        signup.checkin_attempts += 1
        await session.flush()
        raise Refused("wrong_code")
    signup.checked_in_at = now
    await session.flush()
    return signup


# Ratings ----------------------------------------------------------------------------------


async def rate(
    session: AsyncSession, activity_id: int, member_id: int, stars: int, now: datetime
) -> ActivityRating:
    """Rate (or re-rate) an ended activity one took part in. Raises Refused."""
    ratings.check_stars(stars)
    activity = await get(session, activity_id)
    signup = await seating.find(session, BOOK, activity_id, member_id)
    if signup is None or signup.status != SignupStatus.SEATED.value:
        raise Refused("not_seated")
    if now < activity.ends_at or activity.status != OfferingStatus.PUBLISHED.value:
        raise Refused("not_over")
    rating = await ratings.give(session, ActivityRating, activity_id, member_id, stars, now)
    assert isinstance(rating, ActivityRating)
    return rating


# "Participants of activity X" as an audience source -------------------------------------


def _participant_ids(ids: Any) -> Any:
    return select(ActivitySignup.member_id).where(
        ActivitySignup.activity_id.in_(list(ids)),
        ActivitySignup.status == SignupStatus.SEATED.value,
    )


async def _participant_choices(session: AsyncSession, zone: tzinfo) -> list[tuple[int, str]]:
    """Published activities of the last 60 days and to come, newest first.

    Named by title and local day: an activity at 06:30 in Shanghai is on the
    day it happens there, not on the UTC day before.
    """
    since = utcnow() - RECENT
    rows = await session.execute(
        select(Activity.id, Activity.title, Activity.starts_at)
        .where(Activity.status == OfferingStatus.PUBLISHED.value, Activity.ends_at > since)
        .order_by(Activity.starts_at.desc())
        .limit(40)
    )
    # " · " and not brackets: the label is data, shown on Chinese and English screens alike.
    return [(int(i), f"{title} · {dates.month_day(start, zone)}") for i, title, start in rows]


PARTICIPANTS = audiences.register_source(
    AudienceSource(
        "act",
        N_("Activity participants"),
        _participant_ids,
        _participant_choices,
        order=30,
        icon="🎉",
    )
)
